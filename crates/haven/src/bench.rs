//! `haven bench`: the figures in docs/benchmarks.md, each against its peer in the same run.
//! - `write`: a typical command (seal identity fields, blind indexes, insert, audit entry, commit) against a
//!   raw insert-and-commit of a row of similar size, on one SQLite file with the same durability settings.
//! - `audit`: append entries, then time `audit verify` over all of them.

use std::sync::Arc;
use std::time::Instant;

use haven_domain::time::SystemClock;
use haven_store::{bench, persons, Actor, Entry, KeyFile, Store};

use crate::demo::{Names, Rng};

async fn scratch_store(dir: &std::path::Path) -> anyhow::Result<Store> {
    std::fs::create_dir_all(dir)?;
    Store::open(&haven_store::sqlite_url(dir), &KeyFile::generate(), Arc::new(SystemClock)).await
}

fn scratch_dir(tag: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("haven-bench-{tag}-{}", std::process::id()))
}

/// Returns the per-round (command ops/s, raw ops/s) pairs.
pub async fn write(n: u64) -> anyhow::Result<Vec<(f64, f64)>> {
    let dir = scratch_dir("write");
    let store = scratch_store(&dir).await?;
    crate::demo::load(&store, "bench password 1", 0).await?;
    let owner = store.agency_by_code("police").await?.map(|a| a.id).unwrap_or_default();
    let names = Names::load();
    let (communes, mountain) = crate::demo::communes(&store).await?;
    let mut rng = Rng::new(42);
    let people: Vec<_> = (0..n).map(|_| crate::demo::person(&mut rng, &names, &communes, &mountain)).collect();
    // Alternate short rounds so that neither side benefits from a warmer file, cache or disk.
    const ROUNDS: usize = 6;
    let mut rounds = Vec::with_capacity(ROUNDS);
    for chunk in people.chunks(people.len().div_ceil(ROUNDS).max(1)) {
        let started = Instant::now();
        for who in chunk {
            let mut cmd = store.command(&Actor::system("bench")).await?;
            persons::create(&mut cmd, &store.keys, &owner, who).await?;
            cmd.commit().await?;
        }
        let cmd_rate = chunk.len() as f64 / started.elapsed().as_secs_f64();
        rounds.push((cmd_rate, bench::raw_insert_commit(&store.db, chunk.len() as u64).await?));
    }
    store.db.close().await;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(rounds)
}

/// Returns (entries, seconds to verify).
pub async fn audit(entries: u64) -> anyhow::Result<(i64, f64)> {
    let dir = scratch_dir("audit");
    let store = scratch_store(&dir).await?;
    let mut left = entries;
    while left > 0 {
        let n = left.min(20_000);
        let mut cmd = store.command(&Actor::system("bench")).await?;
        for i in 0..n {
            cmd.audit(
                Entry::new("person.view_identity", "person", &format!("{i:016}"))
                    .purpose("case_work")
                    .fields(persons::IDENTITY_FIELDS),
            )
            .await?;
        }
        cmd.commit().await?;
        left -= n;
    }
    let started = Instant::now();
    let report = store.verify_audit().await?;
    let secs = started.elapsed().as_secs_f64();
    anyhow::ensure!(report.ok(), "the benchmark's own chain does not verify: {:?}", report.broken);
    store.db.close().await;
    let _ = std::fs::remove_dir_all(&dir);
    Ok((report.entries, secs))
}

/// Time the five indicators for a year over `n` reports, and the overdue list of one agency.
/// Returns (indicator timings in ms, overdue-list timings in ms).
pub async fn indicators(url: Option<&str>, n: u64) -> anyhow::Result<(Vec<f64>, Vec<f64>)> {
    use haven_domain::reports::indicators::Period;
    let dir = scratch_dir("indicators");
    std::fs::create_dir_all(&dir)?;
    let url = url.map(str::to_owned).unwrap_or_else(|| haven_store::sqlite_url(&dir));
    let store = Store::open(&url, &KeyFile::generate(), Arc::new(SystemClock)).await?;
    crate::demo::load_with(&store, "bench password 1", 0, 0).await?;
    let agencies = store.agencies().await?;
    let owners: Vec<String> =
        agencies.iter().filter(|a| a.code == "police" || a.code == "border").map(|a| a.id.clone()).collect();
    let user = store.user_by_name("police.officer").await?.ok_or_else(|| anyhow::anyhow!("no demo officer"))?;
    let today = haven_domain::time::local_date(store.now()).ok_or_else(|| anyhow::anyhow!("clock"))?;
    haven_store::bench::fill_reports(&store.db, &owners, &user.id, today, n).await?;
    // Measured in the steady state a live database is kept in, not straight after the bulk load.
    store.db.analyze().await?;
    // The year that holds every generated report: the 365 days up to today.
    let year = Period { from: today - time::Duration::days(364), to: today };
    let mut ind = Vec::new();
    for _ in 0..7 {
        let t = Instant::now();
        store.indicator_counts(year, Default::default()).await?;
        ind.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let mut lists = Vec::new();
    for _ in 0..200 {
        let t = Instant::now();
        store.report_work_list(&owners[0], haven_store::reports::WorkList::Overdue { today }, None, None, 50).await?;
        lists.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    store.db.close().await;
    let _ = std::fs::remove_dir_all(&dir);
    Ok((ind, lists))
}

/// Fill an empty database for the victim benchmarks: the demo agencies and accounts, `cases` victim cases written
/// directly, and one case built through the ordinary commands with 50 steps, 30 supports and 20 visits. Returns
/// the big case's page path and the timings (ms) of the health department's "due this week" list.
pub async fn victims(store: &Store, cases: u64) -> anyhow::Result<(String, Vec<f64>)> {
    use haven_domain::victims::support::Given;
    use haven_store::victims::{self as v, NewStep, NewSupport, NewVictimCase};
    anyhow::ensure!(
        crate::demo::load_with(store, "bench password 1", 0, 0).await?,
        "the database is not empty: give an empty data folder"
    );
    let agencies = store.agencies().await?;
    let id_of = |code: &str| agencies.iter().find(|a| a.code == code).map(|a| a.id.clone()).unwrap_or_default();
    let owners = [id_of("health"), id_of("border")];
    let officer = store.user_by_name("health.officer").await?.ok_or_else(|| anyhow::anyhow!("no demo officer"))?;
    let today = haven_domain::time::local_date(store.now()).ok_or_else(|| anyhow::anyhow!("clock"))?;
    haven_store::bench::fill_victims(&store.db, &owners, &officer.id, today, cases).await?;
    store.db.analyze().await?;
    // The big case, through the commands a case officer's pages use.
    let actor = Actor { user_id: officer.id.clone(), agency_id: owners[0].clone(), request_id: "bench".into() };
    let names = Names::load();
    let (communes, mountain) = crate::demo::communes(store).await?;
    let mut rng = Rng::new(7);
    let received = today - time::Duration::days(200);
    let mut cmd = store.command(&actor).await?;
    let person = persons::create(
        &mut cmd,
        &store.keys,
        &owners[0],
        &crate::demo::person(&mut rng, &names, &communes, &mountain),
    )
    .await?;
    let new = NewVictimCase {
        person_id: &person,
        reception_kind: "border",
        received_on: received,
        commune_code: communes.first().map(String::as_str),
        vietnamese: true,
        in_vietnam: true,
        accompanying_child: false,
        officer: "Cán bộ tiếp nhận",
        note: Some("Trở về từ Campuchia"),
        previous_case_id: None,
    };
    let case = v::create(&mut cmd, &store.keys, &owners[0], &new, false).await?;
    for i in 0..49 {
        let kind = ["verification", "identification_interview", "handover", "protection", "other"][i % 5];
        let step = NewStep {
            kind,
            on: received + time::Duration::days(i as i64),
            commune_code: None,
            agency_id: &owners[i % 2],
            officer: "Cán bộ phụ trách",
            note: Some("Ghi chú công tác"),
        };
        v::record_step(&mut cmd, &store.keys, &case, &step).await?;
    }
    for i in 0..30 {
        let regime = ["a", "b", "c", "d", "g"][i % 5];
        let given = Given { on: received + time::Duration::days(i as i64), quantity: 1, amount_vnd: 200_000 };
        let s = NewSupport { regime, given, provider_agency_id: &owners[0], acknowledged: true, note: None };
        v::give_support(&mut cmd, &store.keys, &case, &s).await?;
    }
    let visits: Vec<time::Date> = (0..20).map(|i| received + time::Duration::days(10 * i)).collect();
    v::schedule_visits(&mut cmd, &case, &visits).await?;
    for i in 0..15 {
        v::record_visit(
            &mut cmd,
            &store.keys,
            &case,
            received + time::Duration::days(10 * i),
            "low",
            "Ổn định",
            "Cán bộ xã",
        )
        .await?;
    }
    cmd.commit().await?;
    let until = today + time::Duration::days(7);
    let mut lists = Vec::with_capacity(200);
    for _ in 0..200 {
        let t = Instant::now();
        store.visits_due(&owners[0], until, 200).await?;
        lists.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    Ok((format!("/victims/{case}"), lists))
}
