//! Handover batches of citizens returned by foreign countries, the people in each and their screening.

use super::*;

pub struct NewBatch<'a> {
    pub handed_on: Date,
    pub gate: &'a str,
    pub country: &'a str,
    pub authority: &'a str,
    pub note: Option<&'a str>,
}

pub async fn create_batch(
    cmd: &mut Command,
    keys: &Keyring,
    owner_agency_id: &str,
    b: &NewBatch<'_>,
) -> anyhow::Result<String> {
    let id = new_id();
    sqlx::query(
        "INSERT INTO handover_batches (id, owner_agency_id, handed_on, gate, country, authority, note, created_by, \
         created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&id)
    .bind(owner_agency_id)
    .bind(day(b.handed_on))
    .bind(b.gate)
    .bind(b.country)
    .bind(b.authority.trim())
    .bind(b.note.filter(|n| !n.is_empty()).map(|n| keys.seal("handover_batches", "note", &id, n)))
    .bind(&cmd.actor.user_id)
    .bind(cmd.at)
    .execute(&mut *cmd.tx)
    .await?;
    cmd.audit(Entry::new("handover.create", BATCH, &id).fields(&["date", "gate", "country", "authority"])).await?;
    Ok(id)
}

pub async fn add_returnee(
    cmd: &mut Command,
    batch_id: &str,
    owner_agency_id: &str,
    person_id: &str,
    import_id: Option<&str>,
) -> anyhow::Result<String> {
    let id = new_id();
    sqlx::query(
        "INSERT INTO returnees (id, batch_id, owner_agency_id, person_id, case_code, import_id, created_by, \
         created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&id)
    .bind(batch_id)
    .bind(owner_agency_id)
    .bind(person_id)
    .bind(case_code("HH", &id))
    .bind(import_id)
    .bind(&cmd.actor.user_id)
    .bind(cmd.at)
    .execute(&mut *cmd.tx)
    .await?;
    cmd.audit(returnee_created(&id)).await?;
    Ok(id)
}

/// The audit entry of a new returnee.
pub(crate) fn returnee_created(id: &str) -> Entry {
    Entry::new("returnee.create", RETURNEE, id).fields(&["batch", "person_id"])
}

pub struct Screening<'a> {
    pub classification: &'a str,
    /// Codes of the indicators answered "yes", space-separated.
    pub indicators: &'a str,
    /// Every answer as the interview gave it (JSON: code to "yes"/"no"/"unknown" and the officer's notes).
    pub answers: &'a str,
    pub reason: &'a str,
    pub victim_case_id: Option<&'a str>,
}

/// Record a returnee's screening. A returnee is screened once; `false` when already screened.
pub async fn record_screening(
    cmd: &mut Command,
    keys: &Keyring,
    returnee_id: &str,
    s: &Screening<'_>,
) -> anyhow::Result<bool> {
    let n = sqlx::query(
        "UPDATE returnees SET classification = $1, indicators = $2, answers = $3, reason = $4, victim_case_id = $5, \
         screened_by = $6, screened_at = $7 WHERE id = $8 AND classification IS NULL",
    )
    .bind(s.classification)
    .bind(s.indicators)
    .bind(keys.seal("returnees", "answers", returnee_id, s.answers))
    .bind(keys.seal("returnees", "reason", returnee_id, s.reason))
    .bind(s.victim_case_id)
    .bind(&cmd.actor.user_id)
    .bind(cmd.at)
    .bind(returnee_id)
    .execute(&mut *cmd.tx)
    .await?
    .rows_affected();
    if n == 1 {
        cmd.audit(Entry::new("returnee.screen", RETURNEE, returnee_id).fields(&[
            "classification",
            "answers",
            "reason",
        ]))
        .await?;
    }
    Ok(n == 1)
}

/// A returnee's screening, opened: the answers (JSON) and the reason.
pub async fn open_screening(
    cmd: &mut Command,
    keys: &Keyring,
    returnee_id: &str,
    purpose: &str,
) -> anyhow::Result<Option<(String, String)>> {
    type Sealed = (Option<Vec<u8>>, Option<Vec<u8>>);
    let row: Option<Sealed> = sqlx::query_as("SELECT answers, reason FROM returnees WHERE id = $1")
        .bind(returnee_id)
        .fetch_optional(&mut *cmd.tx)
        .await?;
    let Some((Some(answers), Some(reason))) = row else { return Ok(None) };
    let answers = keys.open("returnees", "answers", returnee_id, &answers)?;
    let reason = keys.open("returnees", "reason", returnee_id, &reason)?;
    cmd.audit(
        Entry::new("returnee.view_screening", RETURNEE, returnee_id).purpose(purpose).fields(&["answers", "reason"]),
    )
    .await?;
    Ok(Some((answers, reason)))
}

#[derive(Clone, Debug, Serialize)]
pub struct BatchRow {
    pub id: String,
    pub owner_agency_id: String,
    pub handed_on: String,
    pub gate: String,
    pub country: String,
    pub authority: String,
    pub people: i64,
    pub screened: i64,
}

#[derive(Clone, Debug, Serialize)]
pub struct ReturneeRow {
    pub id: String,
    pub batch_id: String,
    pub owner_agency_id: String,
    pub person_id: String,
    pub case_code: String,
    pub classification: Option<String>,
    pub indicators: Option<String>,
    pub victim_case_id: Option<String>,
    pub screened_at: Option<Millis>,
}

const BATCH_COLS: &str = "b.id, b.owner_agency_id, b.handed_on, b.gate, b.country, b.authority, \
     CAST((SELECT COUNT(*) FROM returnees r WHERE r.batch_id = b.id) AS BIGINT), \
     CAST((SELECT COUNT(*) FROM returnees r WHERE r.batch_id = b.id AND r.classification IS NOT NULL) AS BIGINT)";

fn batch_row(r: sqlx::any::AnyRow) -> anyhow::Result<BatchRow> {
    Ok(BatchRow {
        id: r.try_get(0)?,
        owner_agency_id: r.try_get(1)?,
        handed_on: r.try_get(2)?,
        gate: r.try_get(3)?,
        country: r.try_get(4)?,
        authority: r.try_get(5)?,
        people: r.try_get(6)?,
        screened: r.try_get(7)?,
    })
}

const RETURNEE_COLS: &str =
    "id, batch_id, owner_agency_id, person_id, case_code, classification, indicators, victim_case_id, screened_at";

fn returnee_row(r: sqlx::any::AnyRow) -> anyhow::Result<ReturneeRow> {
    Ok(ReturneeRow {
        id: r.try_get(0)?,
        batch_id: r.try_get(1)?,
        owner_agency_id: r.try_get(2)?,
        person_id: r.try_get(3)?,
        case_code: r.try_get(4)?,
        classification: r.try_get(5)?,
        indicators: r.try_get(6)?,
        victim_case_id: r.try_get(7)?,
        screened_at: r.try_get(8)?,
    })
}

impl Store {
    pub async fn batch(&self, id: &str) -> anyhow::Result<Option<BatchRow>> {
        let r = sqlx::query(&format!("SELECT {BATCH_COLS} FROM handover_batches b WHERE b.id = $1"))
            .bind(id)
            .fetch_optional(self.db.pool())
            .await?;
        r.map(batch_row).transpose()
    }

    pub async fn batches_of_agency(&self, agency_id: &str, limit: i64) -> anyhow::Result<Vec<BatchRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {BATCH_COLS} FROM handover_batches b WHERE b.owner_agency_id = $1 \
             ORDER BY b.handed_on DESC, b.id DESC LIMIT $2"
        ))
        .bind(agency_id)
        .bind(limit)
        .fetch_all(self.db.pool())
        .await?;
        rows.into_iter().map(batch_row).collect()
    }

    pub async fn returnees_of_batch(&self, batch_id: &str) -> anyhow::Result<Vec<ReturneeRow>> {
        let rows = sqlx::query(&format!("SELECT {RETURNEE_COLS} FROM returnees WHERE batch_id = $1 ORDER BY id"))
            .bind(batch_id)
            .fetch_all(self.db.pool())
            .await?;
        rows.into_iter().map(returnee_row).collect()
    }

    /// The screening that opened a victim case, if a returnee's screening did: what the case carries over
    /// from the border (the classification, the indicators ticked, when).
    pub async fn screening_of_victim_case(&self, case_id: &str) -> anyhow::Result<Option<ReturneeRow>> {
        let r = sqlx::query(&format!("SELECT {RETURNEE_COLS} FROM returnees WHERE victim_case_id = $1"))
            .bind(case_id)
            .fetch_optional(self.db.pool())
            .await?;
        r.map(returnee_row).transpose()
    }

    pub async fn returnee(&self, id: &str) -> anyhow::Result<Option<ReturneeRow>> {
        let r = sqlx::query(&format!("SELECT {RETURNEE_COLS} FROM returnees WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.db.pool())
            .await?;
        r.map(returnee_row).transpose()
    }

    pub async fn returnees_of_person(&self, person_id: &str) -> anyhow::Result<Vec<ReturneeRow>> {
        let rows = sqlx::query(&format!("SELECT {RETURNEE_COLS} FROM returnees WHERE person_id = $1 ORDER BY id"))
            .bind(person_id)
            .fetch_all(self.db.pool())
            .await?;
        rows.into_iter().map(returnee_row).collect()
    }
}
