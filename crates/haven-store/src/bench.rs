//! Measurements behind `haven bench`: the raw insert-and-commit peer for the write benchmark. It runs
//! through the same seam, driver and durability settings as Haven's commands, so the ratio between the two
//! is the cost of encryption, blind indexes and the audit chain.

use crate::db::Db;

/// Insert `n` rows of about the size of a person record, one transaction each; returns rows per second.
pub async fn raw_insert_commit(db: &Db, n: u64) -> anyhow::Result<f64> {
    sqlx::raw_sql("CREATE TABLE IF NOT EXISTS bench_raw (id TEXT PRIMARY KEY, owner TEXT NOT NULL, payload BLOB NOT NULL, at BIGINT NOT NULL)")
        .execute(db.pool())
        .await?;
    let payload = vec![7u8; 400];
    let started = std::time::Instant::now();
    for i in 0..n {
        let mut tx = db.begin_write().await?;
        sqlx::query("INSERT INTO bench_raw (id, owner, payload, at) VALUES ($1, $2, $3, $4)")
            .bind(crate::new_id())
            .bind("bench")
            .bind(payload.clone())
            .bind(i as i64)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
    }
    Ok(n as f64 / started.elapsed().as_secs_f64())
}

/// Fill a scratch database with `n` reports (and a case for every fortieth) spread over the year before
/// `today`, written straight into the tables in large transactions: the indicator benchmark measures reading,
/// and a million commands would only measure the disk. Sealed columns hold random bytes of realistic size.
pub async fn fill_reports(db: &Db, owners: &[String], user_id: &str, today: time::Date, n: u64) -> anyhow::Result<()> {
    let day = |d: time::Date| format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day());
    let mut seed = 0x9E37_79B9_7F4A_7C15_u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let sealed = vec![0xA5u8; 180];
    let mut done = 0;
    while done < n {
        let batch = 5_000.min(n - done);
        let mut tx = db.begin_write().await?;
        for i in 0..batch {
            let id = crate::new_id();
            let received = today - time::Duration::days((next() % 365) as i64);
            let last = received + time::Duration::days(20 + if next() % 5 == 0 { 40 } else { 0 });
            let decided = (next() % 10 < 8)
                .then(|| received + time::Duration::days((next() % 30) as i64))
                .filter(|d| *d <= today);
            let owner = &owners[(next() % owners.len() as u64) as usize];
            sqlx::query(
                "INSERT INTO reports (id, owner_agency_id, case_code, kind, channel, received_at, received_on, received_by, \
                 reporter_anonymous, summary, commune_code, classification, offence_code, classified_at, last_day, \
                 decision_kind, decision_number, decision_on, decision_on_time, created_at, updated_at, classified_on) \
                 VALUES ($1, $2, $3, 'denunciation', 'hotline', $4, $5, $6, 1, $7, NULL, 'offence', '150', $4, $8, $9, $10, $11, $12, $4, $4, $5)",
            )
            .bind(&id)
            .bind(owner)
            .bind(format!("TG-{:010}", done + i))
            .bind(haven_domain::time::day_start(received))
            .bind(day(received))
            .bind(user_id)
            .bind(sealed.clone())
            .bind(day(last))
            .bind(decided.map(|_| "initiate"))
            .bind(decided.map(|_| "1/QĐ"))
            .bind(decided.map(day))
            .bind(decided.map(|d| i64::from(d <= last)))
            .execute(&mut *tx)
            .await?;
            if (done + i) % 40 == 0 {
                if let Some(opened) = decided {
                    let mut stage = |k: i64| {
                        (next() % 10 < 8).then(|| opened + time::Duration::days(k)).filter(|d| *d <= today).map(day)
                    };
                    sqlx::query(
                        "INSERT INTO criminal_cases (id, owner_agency_id, case_number, offence_code, opened_on, offenders_identified_on, \
                         to_procuracy_on, indicted_on, to_court_on, tried_on, created_at, updated_at) \
                         VALUES ($1, $2, $3, '150', $4, $5, $6, $7, $8, $9, 0, 0)",
                    )
                    .bind(crate::new_id())
                    .bind(owner)
                    .bind(format!("{}/HS", done + i))
                    .bind(day(opened))
                    .bind(stage(20))
                    .bind(stage(90))
                    .bind(stage(120))
                    .bind(stage(125))
                    .bind(stage(200))
                    .execute(&mut *tx)
                    .await?;
                }
            }
        }
        tx.commit().await?;
        done += batch;
    }
    Ok(())
}

/// Fill a database with `n` victim cases of the given agencies (each with its person record), received over the
/// year before `today`, a third with a follow-up visit planned within the next year; written straight into the
/// tables like `fill_reports`. The victim benchmark measures reading.
pub async fn fill_victims(db: &Db, owners: &[String], user_id: &str, today: time::Date, n: u64) -> anyhow::Result<()> {
    let day = |d: time::Date| format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day());
    let mut seed = 0x2545_F491_4F6C_DD1D_u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let sealed = vec![0x5Au8; 120];
    let mut done = 0;
    while done < n {
        let batch = 5_000.min(n - done);
        let mut tx = db.begin_write().await?;
        for i in 0..batch {
            let (person, case) = (crate::new_id(), crate::new_id());
            let owner = &owners[(next() % owners.len() as u64) as usize];
            sqlx::query(
                "INSERT INTO persons (id, owner_agency_id, case_code, full_name, sex, name_bidx, created_by, created_at, \
                 updated_at, keys_version) VALUES ($1, $2, $3, $4, $4, $5, $6, 0, 0, $7)",
            )
            .bind(&person)
            .bind(owner)
            .bind(format!("HS-B{:09}", done + i))
            .bind(sealed.clone())
            .bind(format!("bench{}", done + i))
            .bind(user_id)
            // Sealed filler, not a name: nothing to find it by.
            .bind(crate::matches::KEYS_VERSION)
            .execute(&mut *tx)
            .await?;
            let received = today - time::Duration::days((next() % 365) as i64);
            let visit = (next() % 3 == 0).then(|| today + time::Duration::days((next() % 365) as i64 - 30));
            sqlx::query(
                "INSERT INTO victim_cases (id, owner_agency_id, person_id, case_code, status, child, vietnamese, \
                 in_vietnam, accompanying_child, reception_kind, received_on, received_by, verification_due, verified_on, \
                 next_visit_on, created_at, updated_at) VALUES ($1, $2, $3, $4, 'identified', 0, 1, 1, 0, 'border', $5, \
                 $6, $7, $7, $8, 0, 0)",
            )
            .bind(&case)
            .bind(owner)
            .bind(&person)
            .bind(format!("NN-B{:09}", done + i))
            .bind(day(received))
            .bind(user_id)
            .bind(day(received + time::Duration::days(3)))
            .bind(visit.map(day))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        done += batch;
    }
    Ok(())
}
