//! The people registers: long-term absentees per commune with review rounds and outcomes, and handover batches
//! of citizens returned by foreign countries with their screening. The rules (outcomes, classification,
//! dates) are `haven_domain::registers`; this module stores what they allowed. Identity stays on the person
//! record; the details a register adds that could identify someone (destination, contacts, household, notes,
//! interview answers, reasons) are sealed per field like the rest.

use haven_domain::person::case_code;
use haven_domain::time::Millis;
use serde::Serialize;
use time::Date;

use crate::crypto::Keyring;
use crate::db::RowExt;
use crate::reports::{day, parse_day};
use crate::{new_id, Command, Entry, Store};

pub const ABSENTEE: &str = "absentee";
pub const ROUND: &str = "review_round";
pub const BATCH: &str = "handover_batch";
pub const RETURNEE: &str = "returnee";

mod handovers;
pub use handovers::*;

/// An absentee entry as entered; `absent_since` is the stored form of a date or a year.
pub struct NewAbsentee<'a> {
    pub commune_code: &'a str,
    pub absent_since: Option<String>,
    pub destination: Option<&'a str>,
    pub contact: Option<&'a str>,
    pub reported_by: Option<&'a str>,
    pub household: Option<&'a str>,
    pub note: Option<&'a str>,
}

impl NewAbsentee<'_> {
    /// The sealed columns' values, in [`ABSENTEE_SEALED`] order, sealed for the entry `id`.
    pub(crate) fn sealed(&self, keys: &Keyring, id: &str) -> [Option<Vec<u8>>; 5] {
        let values = [self.destination, self.contact, self.reported_by, self.household, self.note];
        std::array::from_fn(|i| {
            values[i].filter(|v| !v.is_empty()).map(|v| keys.seal("absentees", ABSENTEE_SEALED[i], id, v))
        })
    }
}

/// The audit entry of a new absentee entry.
pub(crate) fn absentee_created(id: &str) -> Entry {
    Entry::new("absentee.create", ABSENTEE, id).fields(&["person_id", "commune", "absent_since"])
}

/// The sealed columns of an absentee entry, in [`NewAbsentee`] order.
const ABSENTEE_SEALED: [&str; 5] = ["destination", "contact", "reported_by", "household", "note"];

pub async fn add_absentee(
    cmd: &mut Command,
    keys: &Keyring,
    owner_agency_id: &str,
    person_id: &str,
    a: &NewAbsentee<'_>,
    import_id: Option<&str>,
) -> anyhow::Result<String> {
    let id = new_id();
    let [destination, contact, reported_by, household, note] = a.sealed(keys, &id);
    sqlx::query(
        "INSERT INTO absentees (id, owner_agency_id, person_id, case_code, commune_code, absent_since, destination, \
         contact, reported_by, household, note, import_id, created_by, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14)",
    )
    .bind(&id)
    .bind(owner_agency_id)
    .bind(person_id)
    .bind(case_code("VM", &id))
    .bind(a.commune_code)
    .bind(&a.absent_since)
    .bind(destination)
    .bind(contact)
    .bind(reported_by)
    .bind(household)
    .bind(note)
    .bind(import_id)
    .bind(&cmd.actor.user_id)
    .bind(cmd.at)
    .execute(&mut *cmd.tx)
    .await?;
    cmd.audit(absentee_created(&id)).await?;
    Ok(id)
}

pub async fn create_round(
    cmd: &mut Command,
    owner_agency_id: &str,
    name: &str,
    starts_on: Date,
    ends_on: Date,
) -> anyhow::Result<String> {
    let id = new_id();
    sqlx::query(
        "INSERT INTO review_rounds (id, owner_agency_id, name, starts_on, ends_on, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&id)
    .bind(owner_agency_id)
    .bind(name.trim())
    .bind(day(starts_on))
    .bind(day(ends_on))
    .bind(&cmd.actor.user_id)
    .bind(cmd.at)
    .execute(&mut *cmd.tx)
    .await?;
    cmd.audit(Entry::new("review_round.create", ROUND, &id).fields(&["name", "period"])).await?;
    Ok(id)
}

pub struct NewReview<'a> {
    pub absentee_id: &'a str,
    pub round_id: &'a str,
    pub outcome: &'a str,
    pub on: Date,
    pub note: Option<&'a str>,
    pub victim_case_id: Option<&'a str>,
}

/// Record an absentee's outcome in a round; a second outcome in the same round corrects the first (the audit
/// log keeps both).
/// The victim case opened from an entry's outcome in a round, if any (read inside the command). A corrected
/// outcome keeps the link: the case opened stays, and is closed on its own page if it was a mistake.
pub async fn victim_case_of_review(
    cmd: &mut Command,
    absentee_id: &str,
    round_id: &str,
) -> anyhow::Result<Option<String>> {
    let link: Option<Option<String>> =
        sqlx::query_scalar("SELECT victim_case_id FROM absentee_reviews WHERE absentee_id = $1 AND round_id = $2")
            .bind(absentee_id)
            .bind(round_id)
            .fetch_optional(&mut *cmd.tx)
            .await?;
    Ok(link.flatten())
}

pub async fn record_review(cmd: &mut Command, keys: &Keyring, r: &NewReview<'_>) -> anyhow::Result<String> {
    let existing: Option<String> =
        sqlx::query_scalar("SELECT id FROM absentee_reviews WHERE absentee_id = $1 AND round_id = $2")
            .bind(r.absentee_id)
            .bind(r.round_id)
            .fetch_optional(&mut *cmd.tx)
            .await?;
    let id = existing.clone().unwrap_or_else(new_id);
    let note = r.note.filter(|n| !n.is_empty()).map(|n| keys.seal("absentee_reviews", "note", &id, n));
    if existing.is_some() {
        sqlx::query(
            "UPDATE absentee_reviews SET outcome = $1, outcome_on = $2, note = $3, \
             victim_case_id = COALESCE($4, victim_case_id), recorded_by = $5, recorded_at = $6 WHERE id = $7",
        )
        .bind(r.outcome)
        .bind(day(r.on))
        .bind(note)
        .bind(r.victim_case_id)
        .bind(&cmd.actor.user_id)
        .bind(cmd.at)
        .bind(&id)
        .execute(&mut *cmd.tx)
        .await?;
    } else {
        sqlx::query(
            "INSERT INTO absentee_reviews (id, absentee_id, round_id, outcome, outcome_on, note, victim_case_id, \
             recorded_by, recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&id)
        .bind(r.absentee_id)
        .bind(r.round_id)
        .bind(r.outcome)
        .bind(day(r.on))
        .bind(note)
        .bind(r.victim_case_id)
        .bind(&cmd.actor.user_id)
        .bind(cmd.at)
        .execute(&mut *cmd.tx)
        .await?;
    }
    let action = if existing.is_some() { "absentee.review_corrected" } else { "absentee.review" };
    cmd.audit(Entry::new(action, ABSENTEE, r.absentee_id).fields(&["round", "outcome", "note"])).await?;
    Ok(id)
}

/// An absentee entry without its sealed details.
#[derive(Clone, Debug, Serialize)]
pub struct AbsenteeRow {
    pub id: String,
    pub owner_agency_id: String,
    pub person_id: String,
    pub case_code: String,
    pub commune_code: String,
    /// yyyy-mm-dd or yyyy.
    pub absent_since: Option<String>,
    pub created_at: Millis,
    /// The outcome of the latest round that reviewed the entry, and its date.
    pub last_outcome: Option<String>,
    pub last_outcome_on: Option<String>,
}

/// An absentee's sealed details, opened.
#[derive(Clone, Debug, Default, Serialize)]
pub struct AbsenteeDetails {
    pub destination: Option<String>,
    pub contact: Option<String>,
    pub reported_by: Option<String>,
    pub household: Option<String>,
    pub note: Option<String>,
}

const ABSENTEE_COLS: &str = "a.id, a.owner_agency_id, a.person_id, a.case_code, a.commune_code, a.absent_since, \
     a.created_at, (SELECT r.outcome FROM absentee_reviews r JOIN review_rounds o ON o.id = r.round_id \
     WHERE r.absentee_id = a.id ORDER BY o.starts_on DESC, r.outcome_on DESC LIMIT 1), \
     (SELECT r.outcome_on FROM absentee_reviews r JOIN review_rounds o ON o.id = r.round_id \
     WHERE r.absentee_id = a.id ORDER BY o.starts_on DESC, r.outcome_on DESC LIMIT 1)";

fn absentee_row(r: sqlx::any::AnyRow) -> anyhow::Result<AbsenteeRow> {
    Ok(AbsenteeRow {
        id: r.try_get(0)?,
        owner_agency_id: r.try_get(1)?,
        person_id: r.try_get(2)?,
        case_code: r.try_get(3)?,
        commune_code: r.try_get(4)?,
        absent_since: r.try_get(5)?,
        created_at: r.try_get(6)?,
        last_outcome: r.try_get(7)?,
        last_outcome_on: r.try_get(8)?,
    })
}

/// Open an absentee's sealed details and record the view with its purpose.
pub async fn open_absentee(
    cmd: &mut Command,
    keys: &Keyring,
    id: &str,
    purpose: &str,
) -> anyhow::Result<Option<AbsenteeDetails>> {
    let row = sqlx::query(&format!("SELECT {} FROM absentees WHERE id = $1", ABSENTEE_SEALED.join(", ")))
        .bind(id)
        .fetch_optional(&mut *cmd.tx)
        .await?;
    let Some(r) = row else { return Ok(None) };
    let mut v = Vec::new();
    for (i, col) in ABSENTEE_SEALED.iter().enumerate() {
        v.push(keys.open_opt("absentees", col, id, r.try_get::<Option<Vec<u8>>, _>(i)?.as_deref())?);
    }
    cmd.audit(Entry::new("absentee.view_details", ABSENTEE, id).purpose(purpose).fields(&ABSENTEE_SEALED)).await?;
    let mut v = v.into_iter();
    let mut next = || v.next().flatten();
    Ok(Some(AbsenteeDetails {
        destination: next(),
        contact: next(),
        reported_by: next(),
        household: next(),
        note: next(),
    }))
}

#[derive(Clone, Debug, Serialize)]
pub struct RoundRow {
    pub id: String,
    pub owner_agency_id: String,
    pub name: String,
    pub starts_on: String,
    pub ends_on: String,
}

impl RoundRow {
    pub fn period(&self) -> Option<(Date, Date)> {
        Some((parse_day(&self.starts_on)?, parse_day(&self.ends_on)?))
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct ReviewRow {
    pub id: String,
    pub round_id: String,
    pub round_name: String,
    pub outcome: String,
    pub outcome_on: String,
    pub victim_case_id: Option<String>,
    pub has_note: bool,
}

/// Entries of a commune and round by outcome: what the register pages count.
#[derive(Clone, Debug, Serialize)]
pub struct Count {
    pub commune_code: String,
    /// `None`: entries not yet reviewed in the round.
    pub outcome: Option<String>,
    pub count: i64,
}

impl Store {
    pub async fn absentee(&self, id: &str) -> anyhow::Result<Option<AbsenteeRow>> {
        let r = sqlx::query(&format!("SELECT {ABSENTEE_COLS} FROM absentees a WHERE a.id = $1"))
            .bind(id)
            .fetch_optional(self.db.pool())
            .await?;
        r.map(absentee_row).transpose()
    }

    /// An agency's absentees, in one commune or all, newest first; `after` pages on by id.
    pub async fn absentees_of_agency(
        &self,
        agency_id: &str,
        commune: Option<&str>,
        after: Option<&str>,
        limit: i64,
    ) -> anyhow::Result<Vec<AbsenteeRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {ABSENTEE_COLS} FROM absentees a WHERE a.owner_agency_id = $1 \
             AND ($2 = '' OR a.commune_code = $2) AND ($3 = '' OR a.id < $3) ORDER BY a.id DESC LIMIT $4"
        ))
        .bind(agency_id)
        .bind(commune.unwrap_or(""))
        .bind(after.unwrap_or(""))
        .bind(limit)
        .fetch_all(self.db.pool())
        .await?;
        rows.into_iter().map(absentee_row).collect()
    }

    pub async fn absentees_of_person(&self, person_id: &str) -> anyhow::Result<Vec<AbsenteeRow>> {
        let rows = sqlx::query(&format!("SELECT {ABSENTEE_COLS} FROM absentees a WHERE a.person_id = $1"))
            .bind(person_id)
            .fetch_all(self.db.pool())
            .await?;
        rows.into_iter().map(absentee_row).collect()
    }

    pub async fn reviews_of_absentee(&self, absentee_id: &str) -> anyhow::Result<Vec<ReviewRow>> {
        let rows = sqlx::query(
            "SELECT r.id, r.round_id, o.name, r.outcome, r.outcome_on, r.victim_case_id, \
             CAST(CASE WHEN r.note IS NULL THEN 0 ELSE 1 END AS BIGINT) FROM absentee_reviews r \
             JOIN review_rounds o ON o.id = r.round_id WHERE r.absentee_id = $1 ORDER BY o.starts_on DESC",
        )
        .bind(absentee_id)
        .fetch_all(self.db.pool())
        .await?;
        rows.into_iter()
            .map(|r| {
                Ok(ReviewRow {
                    id: r.try_get(0)?,
                    round_id: r.try_get(1)?,
                    round_name: r.try_get(2)?,
                    outcome: r.try_get(3)?,
                    outcome_on: r.try_get(4)?,
                    victim_case_id: r.try_get(5)?,
                    has_note: r.try_get::<i64, _>(6)? != 0,
                })
            })
            .collect()
    }

    pub async fn round(&self, id: &str) -> anyhow::Result<Option<RoundRow>> {
        let r: Option<(String, String, String, String, String)> =
            sqlx::query_as("SELECT id, owner_agency_id, name, starts_on, ends_on FROM review_rounds WHERE id = $1")
                .bind(id)
                .fetch_optional(self.db.pool())
                .await?;
        Ok(r.map(|(id, owner_agency_id, name, starts_on, ends_on)| RoundRow {
            id,
            owner_agency_id,
            name,
            starts_on,
            ends_on,
        }))
    }

    /// An agency's review rounds, latest first.
    pub async fn rounds_of_agency(&self, agency_id: &str) -> anyhow::Result<Vec<RoundRow>> {
        let rows: Vec<(String, String, String, String, String)> = sqlx::query_as(
            "SELECT id, owner_agency_id, name, starts_on, ends_on FROM review_rounds WHERE owner_agency_id = $1 \
             ORDER BY starts_on DESC, id DESC",
        )
        .bind(agency_id)
        .fetch_all(self.db.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, owner_agency_id, name, starts_on, ends_on)| RoundRow {
                id,
                owner_agency_id,
                name,
                starts_on,
                ends_on,
            })
            .collect())
    }

    /// Counts of an agency's entries per commune and outcome in a round; entries not reviewed in the round
    /// count under no outcome.
    pub async fn round_counts(&self, agency_id: &str, round_id: &str) -> anyhow::Result<Vec<Count>> {
        let rows: Vec<(String, Option<String>, i64)> = sqlx::query_as(
            "SELECT a.commune_code, r.outcome, CAST(COUNT(*) AS BIGINT) FROM absentees a \
             LEFT JOIN absentee_reviews r ON r.absentee_id = a.id AND r.round_id = $2 \
             WHERE a.owner_agency_id = $1 GROUP BY a.commune_code, r.outcome ORDER BY a.commune_code, r.outcome",
        )
        .bind(agency_id)
        .bind(round_id)
        .fetch_all(self.db.pool())
        .await?;
        Ok(rows.into_iter().map(|(commune_code, outcome, count)| Count { commune_code, outcome, count }).collect())
    }

    /// Entries per commune of an agency.
    pub async fn absentee_counts(&self, agency_id: &str) -> anyhow::Result<Vec<(String, i64)>> {
        Ok(sqlx::query_as(
            "SELECT commune_code, CAST(COUNT(*) AS BIGINT) FROM absentees WHERE owner_agency_id = $1 \
             GROUP BY commune_code ORDER BY commune_code",
        )
        .bind(agency_id)
        .fetch_all(self.db.pool())
        .await?)
    }
}
