//! Victim protection cases, their steps, supports and the person's consents. The rules (status path,
//! identification, entitlement, consent) are `haven_domain::victims`; this module stores what they allowed.
//! Identity stays on the person record: a victim case holds the person's id and its own pseudonymous code.

use haven_domain::person::{case_code, BirthDate};
use haven_domain::time::Millis;
use haven_domain::victims::consent::Consent;
use haven_domain::victims::support::Given;
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
         previous_case_id, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, 'signs', $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15)",
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

/// Record an identification proposal the domain accepted; it awaits an agency head's approval.
pub async fn propose_identification(
    cmd: &mut Command,
    keys: &Keyring,
    id: &str,
    p: &Identification,
) -> anyhow::Result<()> {
    sqlx::query(
        "UPDATE victim_cases SET proposed_outcome = $1, proposed_on = $2, proposed_by = $3, legal_basis = $4, \
         evidence = $5, certificate_number = $6, reasons = $7, updated_at = $8 WHERE id = $9",
    )
    .bind(p.outcome.code())
    .bind(day(p.decided_on))
    .bind(&cmd.actor.user_id)
    .bind(p.legal_basis.trim())
    .bind(p.evidence.join(" "))
    .bind(p.certificate_number.trim())
    .bind(Some(p.reasons.trim()).filter(|r| !r.is_empty()).map(|r| keys.seal(TABLE, "reasons", id, r)))
    .bind(cmd.at)
    .bind(id)
    .execute(&mut *cmd.tx)
    .await?;
    cmd.audit(Entry::new("victim.propose_identification", KIND, id).fields(&[
        "outcome",
        "decided_on",
        "legal_basis",
        "evidence",
        "certificate_number",
        "reasons",
    ]))
    .await
}

/// Approve the pending proposal: the case takes its outcome.
pub async fn approve_identification(cmd: &mut Command, id: &str) -> anyhow::Result<()> {
    sqlx::query(
        "UPDATE victim_cases SET status = proposed_outcome, approved_by = $1, approved_at = $2, \
         identified_on = CASE WHEN proposed_outcome = 'identified' THEN proposed_on ELSE NULL END, updated_at = $2 \
         WHERE id = $3 AND proposed_outcome IS NOT NULL AND approved_by IS NULL",
    )
    .bind(&cmd.actor.user_id)
    .bind(cmd.at)
    .bind(id)
    .execute(&mut *cmd.tx)
    .await?;
    cmd.audit(Entry::new("victim.approve_identification", KIND, id).fields(&["status", "approved_by"])).await
}

pub struct NewSupport<'a> {
    pub regime: &'a str,
    pub given: Given,
    pub provider_agency_id: &'a str,
    pub acknowledged: bool,
    pub note: Option<&'a str>,
}

pub async fn give_support(cmd: &mut Command, keys: &Keyring, case_id: &str, s: &NewSupport<'_>) -> anyhow::Result<()> {
    let id = new_id();
    sqlx::query(
        "INSERT INTO supports (id, case_id, regime, given_on, provider_agency_id, quantity, amount_vnd, acknowledged, \
         note, recorded_by, recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(&id)
    .bind(case_id)
    .bind(s.regime)
    .bind(day(s.given.on))
    .bind(s.provider_agency_id)
    .bind(s.given.quantity as i64)
    .bind(s.given.amount_vnd as i64)
    .bind(i64::from(s.acknowledged))
    .bind(s.note.filter(|n| !n.is_empty()).map(|n| keys.seal("supports", "note", &id, n)))
    .bind(&cmd.actor.user_id)
    .bind(cmd.at)
    .execute(&mut *cmd.tx)
    .await?;
    cmd.audit(Entry::new("victim.support", KIND, case_id).fields(&[
        "regime",
        "given_on",
        "provider",
        "quantity",
        "amount_vnd",
        "acknowledged",
    ]))
    .await
}

pub struct NewConsentRow<'a> {
    pub person_id: &'a str,
    pub purpose: &'a str,
    pub target: &'a str,
    pub given_by: &'a str,
    pub representative: Option<&'a str>,
    pub given_on: Date,
    pub expires_on: Option<Date>,
}

pub async fn record_consent(cmd: &mut Command, keys: &Keyring, c: &NewConsentRow<'_>) -> anyhow::Result<String> {
    let id = new_id();
    sqlx::query(
        "INSERT INTO consents (id, person_id, purpose, target, given_by, representative, given_on, expires_on, \
         recorded_by, recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&id)
    .bind(c.person_id)
    .bind(c.purpose)
    .bind(c.target)
    .bind(c.given_by)
    .bind(c.representative.filter(|r| !r.is_empty()).map(|r| keys.seal("consents", "representative", &id, r)))
    .bind(day(c.given_on))
    .bind(c.expires_on.map(day))
    .bind(&cmd.actor.user_id)
    .bind(cmd.at)
    .execute(&mut *cmd.tx)
    .await?;
    cmd.audit(Entry::new("consent.record", crate::persons::KIND, c.person_id).fields(&[
        "purpose",
        "target",
        "given_by",
        "given_on",
        "expires_on",
    ]))
    .await?;
    Ok(id)
}

/// Withdraw a consent from `on`; false when there is no such consent in force for the person.
pub async fn withdraw_consent(cmd: &mut Command, person_id: &str, consent_id: &str, on: Date) -> anyhow::Result<bool> {
    let n = sqlx::query(
        "UPDATE consents SET withdrawn_on = $1, withdrawn_by = $2 WHERE id = $3 AND person_id = $4 AND withdrawn_on IS NULL",
    )
    .bind(day(on))
    .bind(&cmd.actor.user_id)
    .bind(consent_id)
    .bind(person_id)
    .execute(&mut *cmd.tx)
    .await?
    .rows_affected();
    if n == 0 {
        return Ok(false);
    }
    cmd.audit(Entry::new("consent.withdraw", crate::persons::KIND, person_id).fields(&["consent", "withdrawn_on"]))
        .await?;
    // The withdrawal takes effect at once on every grant that relied on it.
    crate::access::revoke_grants_of_consent(cmd, consent_id).await?;
    Ok(true)
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

/// A trafficking event as listed (its description stays sealed).
#[derive(Clone, Debug, Serialize)]
pub struct EventRow {
    pub kind: String,
    pub country: String,
    pub place: Option<String>,
    pub on: Option<String>,
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
}

const LINE_COLS: &str =
    "id, person_id, case_code, status, child, received_on, verification_due, verified_on, next_visit_on";

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
    })
}

const COLS: &str =
    "id, owner_agency_id, person_id, case_code, status, child, vietnamese, in_vietnam, accompanying_child, \
     reception_kind, received_on, commune_code, verification_due, verified_on, proposed_outcome, proposed_on, \
     proposed_by, legal_basis, evidence, certificate_number, approved_by, identified_on, closed_on, created_at, \
     exploitation, control, recruitment, relationship, destination_country, next_visit_on, closed_reason, previous_case_id";

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
}

#[derive(Clone, Debug, Serialize)]
pub struct SupportRow {
    pub regime: String,
    pub given_on: String,
    pub provider_agency_id: String,
    pub quantity: i64,
    pub amount_vnd: i64,
    pub acknowledged: bool,
}

impl SupportRow {
    pub fn given(&self) -> Option<Given> {
        Some(Given {
            on: parse_day(&self.given_on)?,
            quantity: self.quantity.max(0) as u64,
            amount_vnd: self.amount_vnd.max(0) as u64,
        })
    }
}

/// id, purpose, target, given by, given on, expires on, withdrawn on.
type ConsentTuple = (String, String, String, String, String, Option<String>, Option<String>);

#[derive(Clone, Debug, Serialize)]
pub struct ConsentRow {
    pub id: String,
    pub purpose: String,
    pub target: String,
    pub given_by: String,
    pub given_on: String,
    pub expires_on: Option<String>,
    pub withdrawn_on: Option<String>,
}

impl ConsentRow {
    pub fn consent(&self) -> Option<Consent> {
        Some(Consent {
            purpose: self.purpose.clone(),
            target: self.target.clone(),
            given_on: parse_day(&self.given_on)?,
            expires_on: self.expires_on.as_deref().and_then(parse_day),
            withdrawn_on: self.withdrawn_on.as_deref().and_then(parse_day),
        })
    }
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
        let rows: Vec<(String, String, Option<String>, Option<String>)> = sqlx::query_as(
            "SELECT kind, country, place, on_date FROM trafficking_events WHERE case_id = $1 ORDER BY on_date, recorded_at",
        )
        .bind(case_id)
        .fetch_all(self.db.pool())
        .await?;
        Ok(rows.into_iter().map(|(kind, country, place, on)| EventRow { kind, country, place, on }).collect())
    }

    pub async fn victim_steps(&self, case_id: &str) -> anyhow::Result<Vec<StepRow>> {
        let rows: Vec<(String, String, Option<String>, String, String)> = sqlx::query_as(
            "SELECT kind, on_date, commune_code, agency_id, officer FROM victim_steps WHERE case_id = $1 ORDER BY on_date, recorded_at",
        )
        .bind(case_id)
        .fetch_all(self.db.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(kind, on, commune_code, agency_id, officer)| StepRow { kind, on, commune_code, agency_id, officer })
            .collect())
    }

    pub async fn supports(&self, case_id: &str) -> anyhow::Result<Vec<SupportRow>> {
        let rows: Vec<(String, String, String, i64, i64, i64)> = sqlx::query_as(
            "SELECT regime, given_on, provider_agency_id, quantity, amount_vnd, acknowledged FROM supports WHERE case_id = $1 \
             ORDER BY given_on, recorded_at",
        )
        .bind(case_id)
        .fetch_all(self.db.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(regime, given_on, provider_agency_id, quantity, amount_vnd, ack)| SupportRow {
                regime,
                given_on,
                provider_agency_id,
                quantity,
                amount_vnd,
                acknowledged: ack != 0,
            })
            .collect())
    }

    /// Every consent of a person, in force or not, oldest first: the history.
    pub async fn consents(&self, person_id: &str) -> anyhow::Result<Vec<ConsentRow>> {
        let rows: Vec<ConsentTuple> = sqlx::query_as(
            "SELECT id, purpose, target, given_by, given_on, expires_on, withdrawn_on FROM consents WHERE person_id = $1 \
             ORDER BY given_on, recorded_at",
        )
        .bind(person_id)
        .fetch_all(self.db.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, purpose, target, given_by, given_on, expires_on, withdrawn_on)| ConsentRow {
                id,
                purpose,
                target,
                given_by,
                given_on,
                expires_on,
                withdrawn_on,
            })
            .collect())
    }
}

/// A referral about to be sent, after the consent check.
pub struct NewReferral<'a> {
    pub case_id: &'a str,
    pub kind: &'a str,
    pub from_agency_id: &'a str,
    pub to_agency_id: &'a str,
    pub purpose: &'a str,
    pub due_on: Date,
    pub consent_id: Option<&'a str>,
    pub legal_basis: Option<&'a str>,
}

pub async fn send_referral(cmd: &mut Command, keys: &Keyring, r: &NewReferral<'_>) -> anyhow::Result<String> {
    let id = new_id();
    sqlx::query(
        "INSERT INTO referrals (id, case_id, kind, from_agency_id, to_agency_id, purpose, due_on, status, consent_id, \
         legal_basis, sent_by, sent_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 'sent', $8, $9, $10, $11)",
    )
    .bind(&id)
    .bind(r.case_id)
    .bind(r.kind)
    .bind(r.from_agency_id)
    .bind(r.to_agency_id)
    .bind(Some(r.purpose.trim()).filter(|p| !p.is_empty()).map(|p| keys.seal("referrals", "purpose", &id, p)))
    .bind(day(r.due_on))
    .bind(r.consent_id)
    .bind(r.legal_basis)
    .bind(&cmd.actor.user_id)
    .bind(cmd.at)
    .execute(&mut *cmd.tx)
    .await?;
    let action = if r.legal_basis.is_some() { "referral.send_override_consent" } else { "referral.send" };
    cmd.audit(Entry::new(action, KIND, r.case_id).fields(&["kind", "to_agency", "due_on", "purpose", "consent"]))
        .await?;
    Ok(id)
}

/// Accept a referral: the receiving agency may read the parts of the case in `scope` (and, when
/// `person_id` is given, the person record behind it) until the end of the due day, on the consent or legal
/// basis the referral rests on. False if it was answered meanwhile.
pub async fn accept_referral(
    cmd: &mut Command,
    r: &ReferralRow,
    until: Millis,
    scope: &str,
    person_id: Option<&str>,
) -> anyhow::Result<bool> {
    let grantee = haven_domain::access::Grantee::Agency(r.to_agency_id.clone());
    let grant = crate::access::NewGrant {
        record_kind: KIND,
        record_id: &r.case_id,
        grantee: &grantee,
        purpose: "referral",
        expires_at: until,
        consent_id: r.consent_id.as_deref(),
        legal_basis: r.legal_basis.as_deref(),
        scope: Some(scope),
    };
    let n = sqlx::query(
        "UPDATE referrals SET status = 'accepted', answered_by = $1, answered_at = $2 WHERE id = $3 AND status = 'sent'",
    )
    .bind(&cmd.actor.user_id)
    .bind(cmd.at)
    .bind(&r.id)
    .execute(&mut *cmd.tx)
    .await?
    .rows_affected();
    if n == 0 {
        return Ok(false);
    }
    let grant_id = crate::access::create_grant(cmd, &grant).await?;
    let person_grant_id = match person_id {
        Some(p) => Some(
            crate::access::create_grant(
                cmd,
                // Read only: the receiver sees the person, but cannot name them on records of its own.
                &crate::access::NewGrant {
                    record_kind: crate::persons::KIND,
                    record_id: p,
                    scope: Some(crate::persons::READ_ONLY),
                    ..grant
                },
            )
            .await?,
        ),
        None => None,
    };
    sqlx::query("UPDATE referrals SET grant_id = $1, person_grant_id = $2 WHERE id = $3")
        .bind(&grant_id)
        .bind(&person_grant_id)
        .bind(&r.id)
        .execute(&mut *cmd.tx)
        .await?;
    cmd.audit(Entry::new("referral.accept", KIND, &r.case_id).fields(&["referral", "grant"])).await?;
    Ok(true)
}

pub async fn decline_referral(cmd: &mut Command, r: &ReferralRow, reason: &str) -> anyhow::Result<bool> {
    let n = sqlx::query(
        "UPDATE referrals SET status = 'declined', answered_by = $1, answered_at = $2, decline_reason = $3 \
         WHERE id = $4 AND status = 'sent'",
    )
    .bind(&cmd.actor.user_id)
    .bind(cmd.at)
    .bind(reason.trim())
    .bind(&r.id)
    .execute(&mut *cmd.tx)
    .await?
    .rows_affected();
    if n == 0 {
        return Ok(false);
    }
    cmd.audit(Entry::new("referral.decline", KIND, &r.case_id).fields(&["referral", "reason"])).await?;
    Ok(true)
}

/// Complete an accepted referral; the receiver's access ends with it.
pub async fn complete_referral(cmd: &mut Command, r: &ReferralRow) -> anyhow::Result<bool> {
    let n = sqlx::query(
        "UPDATE referrals SET status = 'completed', completed_at = $1 WHERE id = $2 AND status = 'accepted'",
    )
    .bind(cmd.at)
    .bind(&r.id)
    .execute(&mut *cmd.tx)
    .await?
    .rows_affected();
    if n == 0 {
        return Ok(false);
    }
    if let Some(g) = &r.grant_id {
        crate::access::revoke_grant(cmd, KIND, &r.case_id, g).await?;
    }
    if let Some(g) = &r.person_grant_id {
        crate::access::revoke_grant_by_id(cmd, g).await?;
    }
    cmd.audit(Entry::new("referral.complete", KIND, &r.case_id).fields(&["referral"])).await?;
    Ok(true)
}

#[derive(Clone, Debug, Serialize)]
pub struct ReferralRow {
    pub id: String,
    pub case_id: String,
    pub case_code: String,
    pub kind: String,
    pub from_agency_id: String,
    pub to_agency_id: String,
    pub due_on: String,
    pub status: String,
    pub consent_id: Option<String>,
    pub legal_basis: Option<String>,
    pub sent_at: Millis,
    pub decline_reason: Option<String>,
    pub grant_id: Option<String>,
    pub person_grant_id: Option<String>,
    pub person_id: String,
}

const REFERRAL_COLS: &str =
    "r.id, r.case_id, v.case_code, r.kind, r.from_agency_id, r.to_agency_id, r.due_on, r.status, \
     r.consent_id, r.legal_basis, r.sent_at, r.decline_reason, r.grant_id, r.person_grant_id, v.person_id";

fn referral_row(r: crate::db::Row) -> anyhow::Result<ReferralRow> {
    Ok(ReferralRow {
        id: r.try_get(0)?,
        case_id: r.try_get(1)?,
        case_code: r.try_get(2)?,
        kind: r.try_get(3)?,
        from_agency_id: r.try_get(4)?,
        to_agency_id: r.try_get(5)?,
        due_on: r.try_get(6)?,
        status: r.try_get(7)?,
        consent_id: r.try_get(8)?,
        legal_basis: r.try_get(9)?,
        sent_at: r.try_get(10)?,
        decline_reason: r.try_get(11)?,
        grant_id: r.try_get(12)?,
        person_grant_id: r.try_get(13)?,
        person_id: r.try_get(14)?,
    })
}

impl Store {
    pub async fn referral(&self, id: &str) -> anyhow::Result<Option<ReferralRow>> {
        let r = sqlx::query(&format!(
            "SELECT {REFERRAL_COLS} FROM referrals r JOIN victim_cases v ON v.id = r.case_id WHERE r.id = $1"
        ))
        .bind(id)
        .fetch_optional(self.db.pool())
        .await?;
        r.map(referral_row).transpose()
    }

    /// Referrals an agency received (`incoming`) or sent, open ones first by due day.
    pub async fn referrals_of_agency(
        &self,
        agency_id: &str,
        incoming: bool,
        limit: i64,
    ) -> anyhow::Result<Vec<ReferralRow>> {
        let col = if incoming { "to_agency_id" } else { "from_agency_id" };
        let rows = sqlx::query(&format!(
            "SELECT {REFERRAL_COLS} FROM referrals r JOIN victim_cases v ON v.id = r.case_id WHERE r.{col} = $1 \
             ORDER BY CASE WHEN r.status IN ('sent', 'accepted') THEN 0 ELSE 1 END, r.due_on, r.id LIMIT $2"
        ))
        .bind(agency_id)
        .bind(limit)
        .fetch_all(self.db.pool())
        .await?;
        rows.into_iter().map(referral_row).collect()
    }

    pub async fn referrals_of_case(&self, case_id: &str) -> anyhow::Result<Vec<ReferralRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {REFERRAL_COLS} FROM referrals r JOIN victim_cases v ON v.id = r.case_id WHERE r.case_id = $1 \
             ORDER BY r.sent_at"
        ))
        .bind(case_id)
        .fetch_all(self.db.pool())
        .await?;
        rows.into_iter().map(referral_row).collect()
    }
}

pub struct NewMeasure<'a> {
    pub kind: &'a str,
    /// `victim`, `relative`, `child` (accompanying) or `helper`.
    pub for_whom: &'a str,
    /// The relative's name and relationship (sealed), for measures protecting a relative.
    pub relative: Option<&'a str>,
    pub starts_on: Date,
    pub ends_on: Option<Date>,
    pub agency_id: &'a str,
}

pub async fn add_measure(cmd: &mut Command, keys: &Keyring, case_id: &str, m: &NewMeasure<'_>) -> anyhow::Result<()> {
    let id = new_id();
    sqlx::query(
        "INSERT INTO protection_measures (id, case_id, kind, for_whom, relative, starts_on, ends_on, agency_id, \
         recorded_by, recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&id)
    .bind(case_id)
    .bind(m.kind)
    .bind(m.for_whom)
    .bind(m.relative.filter(|r| !r.is_empty()).map(|r| keys.seal("protection_measures", "relative", &id, r)))
    .bind(day(m.starts_on))
    .bind(m.ends_on.map(day))
    .bind(m.agency_id)
    .bind(&cmd.actor.user_id)
    .bind(cmd.at)
    .execute(&mut *cmd.tx)
    .await?;
    cmd.audit(Entry::new("victim.protection", KIND, case_id).fields(&[
        "kind",
        "for_whom",
        "relative",
        "starts_on",
        "ends_on",
        "agency",
    ]))
    .await
}

pub async fn add_goal(cmd: &mut Command, keys: &Keyring, case_id: &str, area: &str, goal: &str) -> anyhow::Result<()> {
    let id = new_id();
    sqlx::query(
        "INSERT INTO reintegration_goals (id, case_id, area, goal, status, recorded_by, recorded_at) \
         VALUES ($1, $2, $3, $4, 'open', $5, $6)",
    )
    .bind(&id)
    .bind(case_id)
    .bind(area)
    .bind(keys.seal("reintegration_goals", "goal", &id, goal))
    .bind(&cmd.actor.user_id)
    .bind(cmd.at)
    .execute(&mut *cmd.tx)
    .await?;
    cmd.audit(Entry::new("victim.goal", KIND, case_id).fields(&["area", "goal"])).await
}

/// Keep the case's next visit (the earliest not yet made) in step with its follow-ups.
async fn refresh_next_visit(cmd: &mut Command, case_id: &str) -> anyhow::Result<()> {
    sqlx::query(
        "UPDATE victim_cases SET next_visit_on = (SELECT MIN(due_on) FROM followups WHERE case_id = $1 AND visited_on IS NULL) \
         WHERE id = $1",
    )
    .bind(case_id)
    .execute(&mut *cmd.tx)
    .await?;
    Ok(())
}

/// Plan follow-up visits on these days.
pub async fn schedule_visits(cmd: &mut Command, case_id: &str, days: &[Date]) -> anyhow::Result<()> {
    for d in days {
        sqlx::query(
            "INSERT INTO followups (id, case_id, due_on, recorded_by, recorded_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(new_id())
        .bind(case_id)
        .bind(day(*d))
        .bind(&cmd.actor.user_id)
        .bind(cmd.at)
        .execute(&mut *cmd.tx)
        .await?;
    }
    refresh_next_visit(cmd, case_id).await?;
    cmd.audit(Entry::new("victim.schedule_visits", KIND, case_id).fields(&["due_on"])).await
}

/// Record a visit: the earliest planned one not yet made, or a visit outside the plan.
pub async fn record_visit(
    cmd: &mut Command,
    keys: &Keyring,
    case_id: &str,
    on: Date,
    risk: &str,
    note: &str,
    officer: &str,
) -> anyhow::Result<()> {
    let planned: Option<String> = sqlx::query_scalar(
        "SELECT id FROM followups WHERE case_id = $1 AND visited_on IS NULL ORDER BY due_on, id LIMIT 1",
    )
    .bind(case_id)
    .fetch_optional(&mut *cmd.tx)
    .await?;
    let id = match planned {
        Some(id) => id,
        None => {
            let id = new_id();
            sqlx::query(
                "INSERT INTO followups (id, case_id, due_on, recorded_by, recorded_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(&id)
            .bind(case_id)
            .bind(day(on))
            .bind(&cmd.actor.user_id)
            .bind(cmd.at)
            .execute(&mut *cmd.tx)
            .await?;
            id
        }
    };
    sqlx::query("UPDATE followups SET visited_on = $1, risk = $2, note = $3, officer = $4 WHERE id = $5")
        .bind(day(on))
        .bind(risk)
        .bind(Some(note.trim()).filter(|n| !n.is_empty()).map(|n| keys.seal("followups", "note", &id, n)))
        .bind(officer)
        .bind(&id)
        .execute(&mut *cmd.tx)
        .await?;
    refresh_next_visit(cmd, case_id).await?;
    cmd.audit(Entry::new("victim.visit", KIND, case_id).fields(&["visited_on", "risk", "note", "officer"])).await
}

/// Close a case with its reason; planned visits are no longer due.
pub async fn close_case(cmd: &mut Command, case_id: &str, on: Date, reason: &str) -> anyhow::Result<bool> {
    let n = sqlx::query(
        "UPDATE victim_cases SET closed_on = $1, closed_reason = $2, next_visit_on = NULL, updated_at = $3 \
         WHERE id = $4 AND closed_on IS NULL",
    )
    .bind(day(on))
    .bind(reason)
    .bind(cmd.at)
    .bind(case_id)
    .execute(&mut *cmd.tx)
    .await?
    .rows_affected();
    if n == 0 {
        return Ok(false);
    }
    cmd.audit(Entry::new("victim.close", KIND, case_id).fields(&["closed_on", "closed_reason"])).await?;
    Ok(true)
}

#[derive(Clone, Debug, Serialize)]
pub struct MeasureRow {
    pub kind: String,
    pub for_whom: String,
    pub starts_on: String,
    pub ends_on: Option<String>,
    pub agency_id: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct GoalRow {
    pub id: String,
    pub area: String,
    pub status: String,
}

/// Mark a goal of the case met or dropped; false if there is no such open goal.
pub async fn set_goal_status(cmd: &mut Command, case_id: &str, goal_id: &str, status: &str) -> anyhow::Result<bool> {
    let n =
        sqlx::query("UPDATE reintegration_goals SET status = $1 WHERE id = $2 AND case_id = $3 AND status = 'open'")
            .bind(status)
            .bind(goal_id)
            .bind(case_id)
            .execute(&mut *cmd.tx)
            .await?
            .rows_affected();
    if n == 0 {
        return Ok(false);
    }
    cmd.audit(Entry::new("victim.goal_status", KIND, case_id).fields(&["goal", "status"])).await?;
    Ok(true)
}

/// due on, visited on, risk, officer.
type VisitTuple = (String, Option<String>, Option<String>, Option<String>);

#[derive(Clone, Debug, Serialize)]
pub struct VisitRow {
    pub due_on: String,
    pub visited_on: Option<String>,
    pub risk: Option<String>,
    pub officer: Option<String>,
}

impl Store {
    pub async fn protection_measures(&self, case_id: &str) -> anyhow::Result<Vec<MeasureRow>> {
        let rows: Vec<(String, String, String, Option<String>, String)> = sqlx::query_as(
            "SELECT kind, for_whom, starts_on, ends_on, agency_id FROM protection_measures WHERE case_id = $1 ORDER BY starts_on, recorded_at",
        )
        .bind(case_id)
        .fetch_all(self.db.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(kind, for_whom, starts_on, ends_on, agency_id)| MeasureRow {
                kind,
                for_whom,
                starts_on,
                ends_on,
                agency_id,
            })
            .collect())
    }

    /// The plan's goals by area and status; the goal text stays sealed.
    pub async fn reintegration_goals(&self, case_id: &str) -> anyhow::Result<Vec<GoalRow>> {
        let rows: Vec<(String, String, String)> =
            sqlx::query_as("SELECT id, area, status FROM reintegration_goals WHERE case_id = $1 ORDER BY recorded_at")
                .bind(case_id)
                .fetch_all(self.db.pool())
                .await?;
        Ok(rows.into_iter().map(|(id, area, status)| GoalRow { id, area, status }).collect())
    }

    pub async fn followups(&self, case_id: &str) -> anyhow::Result<Vec<VisitRow>> {
        let rows: Vec<VisitTuple> = sqlx::query_as(
            "SELECT due_on, visited_on, risk, officer FROM followups WHERE case_id = $1 ORDER BY due_on, recorded_at",
        )
        .bind(case_id)
        .fetch_all(self.db.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(due_on, visited_on, risk, officer)| VisitRow { due_on, visited_on, risk, officer })
            .collect())
    }

    /// An agency's open cases with a visit due by `until` (overdue ones included), soonest first.
    pub async fn visits_due(&self, agency_id: &str, until: Date, limit: i64) -> anyhow::Result<Vec<VictimLine>> {
        let rows = sqlx::query(&format!(
            "SELECT {LINE_COLS} FROM victim_cases WHERE owner_agency_id = $1 AND next_visit_on <= $2 ORDER BY next_visit_on, id LIMIT $3"
        ))
        .bind(agency_id)
        .bind(day(until))
        .bind(limit)
        .fetch_all(self.db.pool())
        .await?;
        rows.into_iter().map(line_row).collect()
    }
}
