//! Victim protection cases, their steps, supports and the person's consents. The rules (status path,
//! identification, entitlement, consent) are `haven_domain::victims`; this module stores what they allowed.
//! Identity stays on the person record: a victim case holds the person's id and its own pseudonymous code.

mod consent;
mod handovers;
mod identification;
mod referrals;
mod reintegration;

pub use consent::*;
pub use handovers::*;
pub use identification::*;
pub use referrals::*;
pub use reintegration::*;

use haven_domain::person::{case_code, BirthDate};
use haven_domain::time::Millis;
use haven_domain::victims::{verification_due, Identification, Status};
use serde::Serialize;
use time::Date;

use crate::crypto::Keyring;
use crate::db::RowExt;
use crate::reports::{day, parse_day};
use crate::{new_id, Command, Entry, Store};

pub const KIND: &str = "victim_case";
const TABLE: &str = "victim_cases";

pub struct NewVictimCase<'a> {
    pub person_id: &'a str,
    pub reception_kind: &'a str,
    pub received_on: Date,
    pub commune_code: Option<&'a str>,
    pub vietnamese: bool,
    pub in_vietnam: bool,
    pub accompanying_child: bool,
    /// The officer who received the person (a name as written on the reception record).
    pub officer: &'a str,
    pub note: Option<&'a str>,
    /// The person's earlier case, when they were trafficked again.
    pub previous_case_id: Option<&'a str>,
}

/// The person's birth date, opened inside the server only to decide whether they are a child; never shown.
/// The use is recorded in the audit log.
pub async fn birth_date_for_rules(
    cmd: &mut Command,
    keys: &Keyring,
    person_id: &str,
) -> anyhow::Result<Option<BirthDate>> {
    let sealed: Option<Option<Vec<u8>>> = sqlx::query_scalar("SELECT birth_date FROM persons WHERE id = $1")
        .bind(person_id)
        .fetch_optional(&mut *cmd.tx)
        .await?;
    let Some(Some(sealed)) = sealed else { return Ok(None) };
    let plain = keys.open("persons", "birth_date", person_id, &sealed)?;
    cmd.audit(
        Entry::new("person.age_check", crate::persons::KIND, person_id)
            .purpose("child_protection")
            .fields(&["birth_date"]),
    )
    .await?;
    Ok(BirthDate::parse(&plain))
}

/// Open a victim case at reception, with its reception step. The case starts with "showing signs".
pub async fn create(
    cmd: &mut Command,
    keys: &Keyring,
    owner_agency_id: &str,
    v: &NewVictimCase<'_>,
    child: bool,
) -> anyhow::Result<String> {
    let id = new_id();
    sqlx::query(
        "INSERT INTO victim_cases (id, owner_agency_id, person_id, case_code, status, child, vietnamese, in_vietnam, \
         accompanying_child, reception_kind, received_on, commune_code, received_by, verification_due, \
         previous_case_id, created_at, updated_at, received_by_agency_id) \
         VALUES ($1, $2, $3, $4, 'signs', $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15, $2)",
    )
    .bind(&id)
    .bind(owner_agency_id)
    .bind(v.person_id)
    .bind(case_code("NN", &id))
    .bind(i64::from(child))
    .bind(i64::from(v.vietnamese))
    .bind(i64::from(v.in_vietnam))
    .bind(i64::from(v.accompanying_child))
    .bind(v.reception_kind)
    .bind(day(v.received_on))
    .bind(v.commune_code)
    .bind(&cmd.actor.user_id)
    .bind(day(verification_due(v.received_on)))
    .bind(v.previous_case_id)
    .bind(cmd.at)
    .execute(&mut *cmd.tx)
    .await?;
    cmd.audit(Entry::new("victim.create", KIND, &id).fields(&["person_id", "reception", "child", "situation"])).await?;
    let agency = owner_agency_id.to_owned();
    record_step(
        cmd,
        keys,
        &id,
        &NewStep {
            kind: "reception",
            on: v.received_on,
            commune_code: v.commune_code,
            agency_id: &agency,
            officer: v.officer,
            note: v.note,
        },
    )
    .await?;
    Ok(id)
}

pub struct NewStep<'a> {
    pub kind: &'a str,
    pub on: Date,
    pub commune_code: Option<&'a str>,
    pub agency_id: &'a str,
    pub officer: &'a str,
    pub note: Option<&'a str>,
}

/// Record a step. Verification with the police also moves a case showing signs to "being identified".
pub async fn record_step(cmd: &mut Command, keys: &Keyring, case_id: &str, s: &NewStep<'_>) -> anyhow::Result<()> {
    let id = new_id();
    sqlx::query(
        "INSERT INTO victim_steps (id, case_id, kind, on_date, commune_code, agency_id, officer, note, recorded_by, \
         recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&id)
    .bind(case_id)
    .bind(s.kind)
    .bind(day(s.on))
    .bind(s.commune_code)
    .bind(s.agency_id)
    .bind(s.officer)
    .bind(s.note.filter(|n| !n.is_empty()).map(|n| keys.seal("victim_steps", "note", &id, n)))
    .bind(&cmd.actor.user_id)
    .bind(cmd.at)
    .execute(&mut *cmd.tx)
    .await?;
    if s.kind == "verification_impossible" {
        sqlx::query(
            "UPDATE victim_cases SET verification_waived_on = COALESCE(verification_waived_on, $1), updated_at = $2 \
             WHERE id = $3",
        )
        .bind(day(s.on))
        .bind(cmd.at)
        .bind(case_id)
        .execute(&mut *cmd.tx)
        .await?;
    }
    if s.kind == "verification" {
        sqlx::query(
            "UPDATE victim_cases SET verified_on = COALESCE(verified_on, $1), \
             status = CASE WHEN status = 'signs' THEN 'being_identified' ELSE status END, updated_at = $2 WHERE id = $3",
        )
        .bind(day(s.on))
        .bind(cmd.at)
        .bind(case_id)
        .execute(&mut *cmd.tx)
        .await?;
    }
    cmd.audit(
        Entry::new(&format!("victim.step.{}", s.kind), KIND, case_id)
            .fields(&["on", "place", "agency", "officer", "note"]),
    )
    .await
}

/// The victim-centred context of a case, in HTCDS codes.
pub struct Context<'a> {
    pub exploitation: &'a [String],
    pub control: &'a [String],
    pub recruitment: &'a [String],
    pub relationship: Option<&'a str>,
    pub destination_country: Option<&'a str>,
    /// The person's own wishes, in their words (sealed).
    pub wishes: Option<&'a str>,
}

pub async fn set_context(cmd: &mut Command, keys: &Keyring, id: &str, c: &Context<'_>) -> anyhow::Result<()> {
    let join = |v: &[String]| Some(v.join(" ")).filter(|s| !s.is_empty());
    sqlx::query(
        "UPDATE victim_cases SET exploitation = $1, control = $2, recruitment = $3, relationship = $4, \
         destination_country = $5, wishes = $6, updated_at = $7 WHERE id = $8",
    )
    .bind(join(c.exploitation))
    .bind(join(c.control))
    .bind(join(c.recruitment))
    .bind(c.relationship)
    .bind(c.destination_country)
    .bind(c.wishes.filter(|w| !w.is_empty()).map(|w| keys.seal(TABLE, "wishes", id, w)))
    .bind(cmd.at)
    .bind(id)
    .execute(&mut *cmd.tx)
    .await?;
    cmd.audit(Entry::new("victim.context", KIND, id).fields(&[
        "exploitation",
        "control",
        "recruitment",
        "relationship",
        "destination_country",
        "wishes",
    ]))
    .await
}

pub struct NewEvent<'a> {
    pub kind: &'a str,
    pub country: &'a str,
    pub place: Option<&'a str>,
    pub on: Option<Date>,
    pub description: Option<&'a str>,
}

pub async fn add_event(cmd: &mut Command, keys: &Keyring, case_id: &str, e: &NewEvent<'_>) -> anyhow::Result<()> {
    let id = new_id();
    sqlx::query(
        "INSERT INTO trafficking_events (id, case_id, kind, country, place, on_date, description, recorded_by, \
         recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&id)
    .bind(case_id)
    .bind(e.kind)
    .bind(e.country)
    .bind(e.place.filter(|p| !p.is_empty()))
    .bind(e.on.map(day))
    .bind(e.description.filter(|d| !d.is_empty()).map(|d| keys.seal("trafficking_events", "description", &id, d)))
    .bind(&cmd.actor.user_id)
    .bind(cmd.at)
    .execute(&mut *cmd.tx)
    .await?;
    cmd.audit(Entry::new("victim.trafficking_event", KIND, case_id).fields(&[
        "kind",
        "country",
        "place",
        "on",
        "description",
    ]))
    .await
}

/// kind, country, place, on, recorded at.
type EventTuple = (String, String, Option<String>, Option<String>, Millis);

/// A trafficking event as listed (its description stays sealed).
#[derive(Clone, Debug, Serialize)]
pub struct EventRow {
    pub kind: String,
    pub country: String,
    pub place: Option<String>,
    pub on: Option<String>,
    pub recorded_at: Millis,
}

/// A victim case without its sealed fields.
#[derive(Clone, Debug, Serialize)]
pub struct VictimCase {
    pub id: String,
    pub owner_agency_id: String,
    pub person_id: String,
    pub case_code: String,
    pub status: String,
    pub child: bool,
    pub vietnamese: bool,
    pub in_vietnam: bool,
    pub accompanying_child: bool,
    pub reception_kind: String,
    pub received_on: String,
    pub commune_code: Option<String>,
    pub verification_due: String,
    pub verified_on: Option<String>,
    pub proposed_outcome: Option<String>,
    pub proposed_on: Option<String>,
    pub proposed_by: Option<String>,
    pub legal_basis: Option<String>,
    pub evidence: Option<String>,
    pub certificate_number: Option<String>,
    pub approved_by: Option<String>,
    pub identified_on: Option<String>,
    pub closed_on: Option<String>,
    pub created_at: Millis,
    /// HTCDS codes, space-separated.
    pub exploitation: Option<String>,
    pub control: Option<String>,
    pub recruitment: Option<String>,
    pub relationship: Option<String>,
    pub destination_country: Option<String>,
    pub next_visit_on: Option<String>,
    pub closed_reason: Option<String>,
    /// The person's earlier case, when they were trafficked again.
    pub previous_case_id: Option<String>,
    /// The agency that received the victim (the chain of custody starts there).
    pub received_by_agency_id: String,
    /// The day it was recorded that verification with the police could not be done.
    pub verification_waived_on: Option<String>,
    /// The head who last returned a proposal, and when.
    pub returned_by: Option<String>,
    pub returned_at: Option<Millis>,
    pub approved_at: Option<Millis>,
}

impl VictimCase {
    /// The codes recorded for one of the context fields.
    pub fn codes(field: &Option<String>) -> Vec<String> {
        field.as_deref().unwrap_or_default().split_whitespace().map(str::to_owned).collect()
    }
    pub fn status(&self) -> Status {
        Status::from_code(&self.status).unwrap_or(Status::Signs)
    }
    /// A proposal awaits approval.
    pub fn pending(&self) -> bool {
        self.proposed_outcome.is_some() && self.approved_by.is_none()
    }
    pub fn received(&self) -> Option<Date> {
        parse_day(&self.received_on)
    }
    pub fn identified(&self) -> Option<Date> {
        self.identified_on.as_deref().and_then(parse_day)
    }
}

/// A victim case as lists show it: the few columns a work list needs, so a list of hundreds stays cheap.
#[derive(Clone, Debug, Serialize)]
pub struct VictimLine {
    pub id: String,
    pub person_id: String,
    pub case_code: String,
    pub status: String,
    pub child: bool,
    pub received_on: String,
    pub verification_due: String,
    pub verified_on: Option<String>,
    pub next_visit_on: Option<String>,
    pub closed_on: Option<String>,
}

/// Which of an agency's victim cases a list shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CaseFilter<'a> {
    All,
    Open,
    Closed,
    /// Cases at this status (`signs`, `identified`, ...), open or closed.
    Status(&'a str),
}

const LINE_COLS: &str =
    "id, person_id, case_code, status, child, received_on, verification_due, verified_on, next_visit_on, closed_on";

fn line_row(r: crate::db::Row) -> anyhow::Result<VictimLine> {
    Ok(VictimLine {
        id: r.try_get(0)?,
        person_id: r.try_get(1)?,
        case_code: r.try_get(2)?,
        status: r.try_get(3)?,
        child: r.try_get::<i64, _>(4)? != 0,
        received_on: r.try_get(5)?,
        verification_due: r.try_get(6)?,
        verified_on: r.try_get(7)?,
        next_visit_on: r.try_get(8)?,
        closed_on: r.try_get(9)?,
    })
}

const COLS: &str =
    "id, owner_agency_id, person_id, case_code, status, child, vietnamese, in_vietnam, accompanying_child, \
     reception_kind, received_on, commune_code, verification_due, verified_on, proposed_outcome, proposed_on, \
     proposed_by, legal_basis, evidence, certificate_number, approved_by, identified_on, closed_on, created_at, \
     exploitation, control, recruitment, relationship, destination_country, next_visit_on, closed_reason, previous_case_id, \
     COALESCE(received_by_agency_id, owner_agency_id), verification_waived_on, returned_by, returned_at, approved_at";

fn row(r: crate::db::Row) -> anyhow::Result<VictimCase> {
    let flag = |i: usize| -> anyhow::Result<bool> { Ok(r.try_get::<i64, _>(i)? != 0) };
    Ok(VictimCase {
        id: r.try_get(0)?,
        owner_agency_id: r.try_get(1)?,
        person_id: r.try_get(2)?,
        case_code: r.try_get(3)?,
        status: r.try_get(4)?,
        child: flag(5)?,
        vietnamese: flag(6)?,
        in_vietnam: flag(7)?,
        accompanying_child: flag(8)?,
        reception_kind: r.try_get(9)?,
        received_on: r.try_get(10)?,
        commune_code: r.try_get(11)?,
        verification_due: r.try_get(12)?,
        verified_on: r.try_get(13)?,
        proposed_outcome: r.try_get(14)?,
        proposed_on: r.try_get(15)?,
        proposed_by: r.try_get(16)?,
        legal_basis: r.try_get(17)?,
        evidence: r.try_get(18)?,
        certificate_number: r.try_get(19)?,
        approved_by: r.try_get(20)?,
        identified_on: r.try_get(21)?,
        closed_on: r.try_get(22)?,
        created_at: r.try_get(23)?,
        exploitation: r.try_get(24)?,
        control: r.try_get(25)?,
        recruitment: r.try_get(26)?,
        relationship: r.try_get(27)?,
        destination_country: r.try_get(28)?,
        next_visit_on: r.try_get(29)?,
        closed_reason: r.try_get(30)?,
        previous_case_id: r.try_get(31)?,
        received_by_agency_id: r.try_get(32)?,
        verification_waived_on: r.try_get(33)?,
        returned_by: r.try_get(34)?,
        returned_at: r.try_get(35)?,
        approved_at: r.try_get(36)?,
    })
}

/// A step as listed on the case page (the note stays sealed).
#[derive(Clone, Debug, Serialize)]
pub struct StepRow {
    pub kind: String,
    pub on: String,
    pub commune_code: Option<String>,
    pub agency_id: String,
    pub officer: String,
    pub recorded_at: Millis,
}

async fn fetch_case<'e, E: sqlx::Executor<'e, Database = sqlx::Any>>(
    e: E,
    id: &str,
) -> anyhow::Result<Option<VictimCase>> {
    let r = sqlx::query(&format!("SELECT {COLS} FROM victim_cases WHERE id = $1")).bind(id).fetch_optional(e).await?;
    r.map(row).transpose()
}

/// A victim case as the running command sees it. Commands are serialised (each locks the audit head), so a
/// check made on this row (closed, identification pending) holds until the command commits.
pub async fn current(cmd: &mut Command, id: &str) -> anyhow::Result<Option<VictimCase>> {
    fetch_case(&mut *cmd.tx, id).await
}

impl Store {
    pub async fn victim_case(&self, id: &str) -> anyhow::Result<Option<VictimCase>> {
        fetch_case(self.db.pool(), id).await
    }

    /// An agency's victim cases, newest reception first.
    pub async fn victim_cases_of_agency(&self, agency_id: &str, limit: i64) -> anyhow::Result<Vec<VictimLine>> {
        let rows = sqlx::query(&format!(
            "SELECT {LINE_COLS} FROM victim_cases WHERE owner_agency_id = $1 ORDER BY received_on DESC, id DESC LIMIT $2"
        ))
        .bind(agency_id)
        .bind(limit)
        .fetch_all(self.db.pool())
        .await?;
        rows.into_iter().map(line_row).collect()
    }

    /// A page of an agency's victim cases that pass `filter`, newest reception first, after the case
    /// `after` names (its reception day and id: keyset paging, so a page costs the same wherever it falls).
    pub async fn victim_case_page(
        &self,
        agency_id: &str,
        filter: CaseFilter<'_>,
        after: Option<(&str, &str)>,
        limit: i64,
    ) -> anyhow::Result<Vec<VictimLine>> {
        let mut sql = format!("SELECT {LINE_COLS} FROM victim_cases WHERE owner_agency_id = $1");
        let mut n = 1;
        match filter {
            CaseFilter::All => {}
            CaseFilter::Open => sql.push_str(" AND closed_on IS NULL"),
            CaseFilter::Closed => sql.push_str(" AND closed_on IS NOT NULL"),
            CaseFilter::Status(_) => {
                n += 1;
                sql.push_str(&format!(" AND status = ${n}"));
            }
        }
        if after.is_some() {
            sql.push_str(&format!(" AND (received_on < ${} OR (received_on = ${} AND id < ${}))", n + 1, n + 1, n + 2));
            n += 2;
        }
        sql.push_str(&format!(" ORDER BY received_on DESC, id DESC LIMIT ${}", n + 1));
        let mut q = sqlx::query(&sql).bind(agency_id);
        if let CaseFilter::Status(s) = filter {
            q = q.bind(s);
        }
        if let Some((day, id)) = after {
            q = q.bind(day).bind(id);
        }
        let rows = q.bind(limit).fetch_all(self.db.pool()).await?;
        rows.into_iter().map(line_row).collect()
    }

    /// How many of an agency's victim cases stand at each status, open and closed: `(status, closed, count)`.
    pub async fn victim_case_counts(&self, agency_id: &str) -> anyhow::Result<Vec<(String, bool, i64)>> {
        let rows: Vec<(String, i64, i64)> = sqlx::query_as(
            "SELECT status, CASE WHEN closed_on IS NULL THEN 0 ELSE 1 END, CAST(COUNT(*) AS BIGINT) FROM victim_cases \
             WHERE owner_agency_id = $1 GROUP BY 1, 2",
        )
        .bind(agency_id)
        .fetch_all(self.db.pool())
        .await?;
        Ok(rows.into_iter().map(|(s, closed, n)| (s, closed != 0, n)).collect())
    }

    /// An agency's open cases awaiting verification with the police: (due from today on, overdue).
    pub async fn verification_counts(&self, agency_id: &str, today: Date) -> anyhow::Result<(i64, i64)> {
        Ok(sqlx::query_as(
            "SELECT CAST(COALESCE(SUM(CASE WHEN verification_due >= $2 THEN 1 ELSE 0 END), 0) AS BIGINT), \
             CAST(COALESCE(SUM(CASE WHEN verification_due < $2 THEN 1 ELSE 0 END), 0) AS BIGINT) FROM victim_cases \
             WHERE owner_agency_id = $1 AND verified_on IS NULL AND closed_on IS NULL",
        )
        .bind(agency_id)
        .bind(day(today))
        .fetch_one(self.db.pool())
        .await?)
    }

    /// An agency's cases still awaiting verification with the police, soonest due first.
    pub async fn victims_awaiting_verification(&self, agency_id: &str, limit: i64) -> anyhow::Result<Vec<VictimLine>> {
        let rows = sqlx::query(&format!(
            "SELECT {LINE_COLS} FROM victim_cases WHERE owner_agency_id = $1 AND verified_on IS NULL AND closed_on IS NULL \
             ORDER BY verification_due, id LIMIT $2"
        ))
        .bind(agency_id)
        .bind(limit)
        .fetch_all(self.db.pool())
        .await?;
        rows.into_iter().map(line_row).collect()
    }

    /// The victim cases of a person, newest first.
    pub async fn victim_cases_of_person(&self, person_id: &str) -> anyhow::Result<Vec<VictimCase>> {
        let rows =
            sqlx::query(&format!("SELECT {COLS} FROM victim_cases WHERE person_id = $1 ORDER BY received_on DESC"))
                .bind(person_id)
                .fetch_all(self.db.pool())
                .await?;
        rows.into_iter().map(row).collect()
    }

    pub async fn trafficking_events(&self, case_id: &str) -> anyhow::Result<Vec<EventRow>> {
        let rows: Vec<EventTuple> = sqlx::query_as(
            "SELECT kind, country, place, on_date, recorded_at FROM trafficking_events WHERE case_id = $1 \
             ORDER BY on_date, recorded_at",
        )
        .bind(case_id)
        .fetch_all(self.db.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(kind, country, place, on, recorded_at)| EventRow { kind, country, place, on, recorded_at })
            .collect())
    }

    pub async fn victim_steps(&self, case_id: &str) -> anyhow::Result<Vec<StepRow>> {
        let rows: Vec<(String, String, Option<String>, String, String, Millis)> = sqlx::query_as(
            "SELECT kind, on_date, commune_code, agency_id, officer, recorded_at FROM victim_steps WHERE case_id = $1 \
             ORDER BY on_date, recorded_at",
        )
        .bind(case_id)
        .fetch_all(self.db.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(kind, on, commune_code, agency_id, officer, recorded_at)| StepRow {
                kind,
                on,
                commune_code,
                agency_id,
                officer,
                recorded_at,
            })
            .collect())
    }
}
