//! International cooperation requests: stored as `haven_domain::cooperation` allowed them. What a request
//! asks and what came back may name people, so both are sealed per field and opened only with an audited
//! view; the rest (kind, country, counterpart, dates, links) is plain so that lists and overdue counts need
//! no key.

use haven_domain::cooperation::Status;
use haven_domain::person::case_code;
use haven_domain::time::Millis;
use serde::Serialize;
use time::Date;

use crate::crypto::Keyring;
use crate::db::RowExt;
use crate::reports::{day, parse_day};
use crate::{new_id, Command, Entry, Store};

pub const KIND: &str = "cooperation_request";

/// A request as checked.
pub struct NewRequest<'a> {
    pub direction: &'a str,
    pub kind: &'a str,
    pub counterpart_kind: &'a str,
    pub country: &'a str,
    pub counterpart: &'a str,
    pub reference: Option<&'a str>,
    pub sent_on: Date,
    pub due_on: Date,
    pub person_id: Option<&'a str>,
    pub victim_case_id: Option<&'a str>,
    pub criminal_case_id: Option<&'a str>,
    pub summary: Option<&'a str>,
}

pub async fn create(
    cmd: &mut Command,
    keys: &Keyring,
    owner_agency_id: &str,
    r: &NewRequest<'_>,
) -> anyhow::Result<String> {
    let id = new_id();
    sqlx::query(
        "INSERT INTO cooperation_requests (id, owner_agency_id, case_code, direction, kind, counterpart_kind, \
         country, counterpart, reference, sent_on, due_on, person_id, victim_case_id, criminal_case_id, summary, \
         created_by, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $17)",
    )
    .bind(&id)
    .bind(owner_agency_id)
    .bind(case_code("QT", &id))
    .bind(r.direction)
    .bind(r.kind)
    .bind(r.counterpart_kind)
    .bind(r.country)
    .bind(r.counterpart.trim())
    .bind(r.reference.map(str::trim).filter(|s| !s.is_empty()))
    .bind(day(r.sent_on))
    .bind(day(r.due_on))
    .bind(r.person_id)
    .bind(r.victim_case_id)
    .bind(r.criminal_case_id)
    .bind(r.summary.filter(|s| !s.trim().is_empty()).map(|s| keys.seal("cooperation_requests", "summary", &id, s)))
    .bind(&cmd.actor.user_id)
    .bind(cmd.at)
    .execute(&mut *cmd.tx)
    .await?;
    cmd.audit(Entry::new("cooperation.create", KIND, &id).fields(&[
        "direction",
        "kind",
        "country",
        "counterpart",
        "sent_on",
        "due_on",
        "person_id",
        "victim_case_id",
        "criminal_case_id",
        "summary",
    ]))
    .await?;
    Ok(id)
}

/// Record the answer to a request still awaiting one. Returns false when it was not awaiting one (answered
/// or withdrawn meanwhile), leaving it as it was.
pub async fn answer(
    cmd: &mut Command,
    keys: &Keyring,
    id: &str,
    answered_on: Date,
    outcome: &str,
    text: Option<&str>,
) -> anyhow::Result<bool> {
    let sealed = text.filter(|s| !s.trim().is_empty()).map(|s| keys.seal("cooperation_requests", "answer", id, s));
    let done = sqlx::query(
        "UPDATE cooperation_requests SET answered_on = $2, outcome = $3, answer = $4, updated_at = $5 \
         WHERE id = $1 AND answered_on IS NULL AND withdrawn_on IS NULL",
    )
    .bind(id)
    .bind(day(answered_on))
    .bind(outcome)
    .bind(sealed)
    .bind(cmd.at)
    .execute(&mut *cmd.tx)
    .await?
    .rows_affected();
    if done == 1 {
        cmd.audit(Entry::new("cooperation.answer", KIND, id).fields(&["answered_on", "outcome", "answer"])).await?;
    }
    Ok(done == 1)
}

/// Withdraw a request still awaiting an answer. Returns false when it was not awaiting one.
pub async fn withdraw(cmd: &mut Command, id: &str, on: Date) -> anyhow::Result<bool> {
    let done = sqlx::query(
        "UPDATE cooperation_requests SET withdrawn_on = $2, updated_at = $3 \
         WHERE id = $1 AND answered_on IS NULL AND withdrawn_on IS NULL",
    )
    .bind(id)
    .bind(day(on))
    .bind(cmd.at)
    .execute(&mut *cmd.tx)
    .await?
    .rows_affected();
    if done == 1 {
        cmd.audit(Entry::new("cooperation.withdraw", KIND, id).fields(&["withdrawn_on"])).await?;
    }
    Ok(done == 1)
}

/// A request without its sealed text.
#[derive(Clone, Debug, Serialize)]
pub struct RequestRow {
    pub id: String,
    pub owner_agency_id: String,
    pub case_code: String,
    pub direction: String,
    pub kind: String,
    pub counterpart_kind: String,
    pub country: String,
    pub counterpart: String,
    pub reference: Option<String>,
    pub sent_on: String,
    pub due_on: String,
    pub person_id: Option<String>,
    pub victim_case_id: Option<String>,
    pub criminal_case_id: Option<String>,
    pub answered_on: Option<String>,
    pub outcome: Option<String>,
    pub withdrawn_on: Option<String>,
    pub created_at: Millis,
}

impl RequestRow {
    pub fn status(&self, today: Date) -> Status {
        let due = parse_day(&self.due_on).unwrap_or(today);
        Status::of(due, self.answered_on.is_some(), self.withdrawn_on.is_some(), today)
    }
}

const COLS: &str = "id, owner_agency_id, case_code, direction, kind, counterpart_kind, country, counterpart, \
     reference, sent_on, due_on, person_id, victim_case_id, criminal_case_id, answered_on, outcome, withdrawn_on, \
     created_at";

fn row(r: sqlx::any::AnyRow) -> anyhow::Result<RequestRow> {
    Ok(RequestRow {
        id: r.try_get(0)?,
        owner_agency_id: r.try_get(1)?,
        case_code: r.try_get(2)?,
        direction: r.try_get(3)?,
        kind: r.try_get(4)?,
        counterpart_kind: r.try_get(5)?,
        country: r.try_get(6)?,
        counterpart: r.try_get(7)?,
        reference: r.try_get(8)?,
        sent_on: r.try_get(9)?,
        due_on: r.try_get(10)?,
        person_id: r.try_get(11)?,
        victim_case_id: r.try_get(12)?,
        criminal_case_id: r.try_get(13)?,
        answered_on: r.try_get(14)?,
        outcome: r.try_get(15)?,
        withdrawn_on: r.try_get(16)?,
        created_at: r.try_get(17)?,
    })
}

/// What a request asks and what came back, opened.
#[derive(Clone, Debug, Default, Serialize)]
pub struct RequestText {
    pub summary: Option<String>,
    pub answer: Option<String>,
}

/// Open a request's sealed text, recording the view.
pub async fn open_text(cmd: &mut Command, keys: &Keyring, id: &str) -> anyhow::Result<RequestText> {
    type Sealed = Option<Vec<u8>>;
    let found: Option<(Sealed, Sealed)> =
        sqlx::query_as("SELECT summary, answer FROM cooperation_requests WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *cmd.tx)
            .await?;
    let Some((summary, answer)) = found else { return Ok(RequestText::default()) };
    if summary.is_none() && answer.is_none() {
        return Ok(RequestText::default());
    }
    let text = RequestText {
        summary: keys.open_opt("cooperation_requests", "summary", id, summary.as_deref())?,
        answer: keys.open_opt("cooperation_requests", "answer", id, answer.as_deref())?,
    };
    cmd.audit(Entry::new("cooperation.view", KIND, id).purpose("case_work").fields(&["summary", "answer"])).await?;
    Ok(text)
}

impl Store {
    pub async fn cooperation_request(&self, id: &str) -> anyhow::Result<Option<RequestRow>> {
        sqlx::query(&format!("SELECT {COLS} FROM cooperation_requests WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.db.pool())
            .await?
            .map(row)
            .transpose()
    }

    /// An agency's requests: those awaiting an answer first, by due date, then the rest, newest first.
    pub async fn cooperation_of_agency(&self, agency_id: &str, limit: i64) -> anyhow::Result<Vec<RequestRow>> {
        sqlx::query(&format!(
            "SELECT {COLS} FROM cooperation_requests WHERE owner_agency_id = $1 ORDER BY \
             CASE WHEN answered_on IS NULL AND withdrawn_on IS NULL THEN 0 ELSE 1 END, \
             CASE WHEN answered_on IS NULL AND withdrawn_on IS NULL THEN due_on ELSE '' END, \
             sent_on DESC, id LIMIT $2"
        ))
        .bind(agency_id)
        .bind(limit)
        .fetch_all(self.db.pool())
        .await?
        .into_iter()
        .map(row)
        .collect()
    }

    /// An agency's requests about a victim case, newest first.
    pub async fn cooperation_of_victim_case(&self, case_id: &str, agency_id: &str) -> anyhow::Result<Vec<RequestRow>> {
        sqlx::query(&format!(
            "SELECT {COLS} FROM cooperation_requests WHERE victim_case_id = $1 AND owner_agency_id = $2 \
             ORDER BY sent_on DESC, id"
        ))
        .bind(case_id)
        .bind(agency_id)
        .fetch_all(self.db.pool())
        .await?
        .into_iter()
        .map(row)
        .collect()
    }

    /// How many of an agency's requests await an answer, and how many of those are past due on `today`.
    pub async fn cooperation_counts(&self, agency_id: &str, today: Date) -> anyhow::Result<(i64, i64)> {
        let (awaiting, overdue): (i64, i64) = sqlx::query_as(
            "SELECT COUNT(*), CAST(COALESCE(SUM(CASE WHEN due_on < $2 THEN 1 ELSE 0 END), 0) AS BIGINT) \
             FROM cooperation_requests WHERE owner_agency_id = $1 AND answered_on IS NULL AND withdrawn_on IS NULL",
        )
        .bind(agency_id)
        .bind(day(today))
        .fetch_one(self.db.pool())
        .await?;
        Ok((awaiting, overdue))
    }

    /// Whether a request holds sealed text (what it asks, or the answer), read without opening it.
    pub async fn cooperation_has_text(&self, id: &str) -> anyhow::Result<bool> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM cooperation_requests WHERE id = $1 AND (summary IS NOT NULL OR answer IS NOT NULL)",
        )
        .bind(id)
        .fetch_one(self.db.pool())
        .await?;
        Ok(n > 0)
    }

    /// The victim cases with a case code (as written, in any case), as (id, owning agency), for checking
    /// access before linking one.
    pub async fn victim_cases_by_code(&self, code: &str) -> anyhow::Result<Vec<(String, String)>> {
        Ok(sqlx::query_as("SELECT id, owner_agency_id FROM victim_cases WHERE case_code = $1")
            .bind(code.trim().to_uppercase())
            .fetch_all(self.db.pool())
            .await?)
    }

    /// The criminal cases with a case number (numbers are per agency, so several may match).
    pub async fn criminal_cases_by_number(&self, number: &str) -> anyhow::Result<Vec<CaseRef>> {
        let rows: Vec<(String, String, Option<String>, Option<String>)> = sqlx::query_as(
            "SELECT id, owner_agency_id, procuracy_agency_id, court_agency_id FROM criminal_cases WHERE case_number = $1",
        )
        .bind(number)
        .fetch_all(self.db.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, owner_agency_id, procuracy_agency_id, court_agency_id)| CaseRef {
                id,
                owner_agency_id,
                procuracy_agency_id,
                court_agency_id,
            })
            .collect())
    }
}

/// A criminal case and the agencies it was sent to, for checking access.
pub struct CaseRef {
    pub id: String,
    pub owner_agency_id: String,
    pub procuracy_agency_id: Option<String>,
    pub court_agency_id: Option<String>,
}
