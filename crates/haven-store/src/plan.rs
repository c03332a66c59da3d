//! The plan and what it counts: plans with objectives, activities and indicators, values entered by hand per
//! period, prevention activities with their reach, and training courses for officials. The catalogue of
//! computed indicators is `haven_domain::plan::Measure`; [`Store::figure`] is its one implementation in SQL,
//! used by the plan dashboard, the periodic reports and the API alike, so a number never differs between them.

use haven_domain::plan::{Figure, Measure, ReportPeriod};
use haven_domain::reports::indicators::{IndicatorId, Period};
use haven_domain::time::{Millis, VN_OFFSET};
use serde::Serialize;
use time::Date;

use crate::cases::Scope;
use crate::crypto::Keyring;
use crate::db::RowExt;
use crate::reports::day;
use crate::{new_id, Command, Entry, Store};

pub const PLAN: &str = "plan";
pub const INDICATOR: &str = "plan_indicator";
pub const PREVENTION: &str = "prevention_activity";
pub const TRAINING: &str = "training";

#[derive(Clone, Debug, Serialize)]
pub struct PlanRow {
    pub id: String,
    pub owner_agency_id: String,
    pub name: String,
    pub year: i32,
    pub copied_from: Option<String>,
    pub created_at: Millis,
}

#[derive(Clone, Debug, Serialize)]
pub struct ObjectiveRow {
    pub id: String,
    pub position: i64,
    pub title: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct ActivityRow {
    pub id: String,
    pub objective_id: Option<String>,
    pub title: String,
    pub responsible_agency_id: String,
    pub due_on: Option<String>,
    pub done_on: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct IndicatorRow {
    pub id: String,
    pub plan_id: String,
    pub objective_id: Option<String>,
    pub name: String,
    /// The catalogue code of a computed indicator; `None` for one entered by hand.
    pub measure: Option<String>,
    pub unit: String,
    /// The written definition of an indicator entered by hand.
    pub definition: Option<String>,
    /// In the unit (per mille for a share).
    pub target: Option<i64>,
    pub frequency: String,
    pub responsible_agency_id: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct EntryRow {
    pub period: String,
    pub value: i64,
    pub note: Option<String>,
    pub entered_by: String,
    pub entered_at: Millis,
}

pub async fn create_plan(cmd: &mut Command, agency_id: &str, name: &str, year: i32) -> anyhow::Result<String> {
    let id = new_id();
    sqlx::query(
        "INSERT INTO plans (id, owner_agency_id, name, year, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&id)
    .bind(agency_id)
    .bind(name)
    .bind(i64::from(year))
    .bind(&cmd.actor.user_id)
    .bind(cmd.at)
    .execute(&mut *cmd.tx)
    .await?;
    cmd.audit(Entry::new("plan.create", PLAN, &id).fields(&["name", "year"])).await?;
    Ok(id)
}

async fn next_position(cmd: &mut Command, table: &str, plan_id: &str) -> anyhow::Result<i64> {
    let n: i64 = sqlx::query_scalar(&format!(
        "SELECT CAST(COALESCE(MAX(position), 0) AS BIGINT) FROM {table} WHERE plan_id = $1"
    ))
    .bind(plan_id)
    .fetch_one(&mut *cmd.tx)
    .await?;
    Ok(n + 1)
}

pub async fn add_objective(cmd: &mut Command, plan_id: &str, title: &str) -> anyhow::Result<String> {
    let id = new_id();
    let position = next_position(cmd, "plan_objectives", plan_id).await?;
    sqlx::query("INSERT INTO plan_objectives (id, plan_id, position, title) VALUES ($1, $2, $3, $4)")
        .bind(&id)
        .bind(plan_id)
        .bind(position)
        .bind(title)
        .execute(&mut *cmd.tx)
        .await?;
    cmd.audit(Entry::new("plan.add_objective", PLAN, plan_id).fields(&["title"])).await?;
    Ok(id)
}

pub struct NewActivity<'a> {
    pub plan_id: &'a str,
    pub objective_id: Option<&'a str>,
    pub title: &'a str,
    pub responsible_agency_id: &'a str,
    pub due_on: Option<Date>,
}

pub async fn add_activity(cmd: &mut Command, a: &NewActivity<'_>) -> anyhow::Result<String> {
    let id = new_id();
    let position = next_position(cmd, "plan_activities", a.plan_id).await?;
    sqlx::query(
        "INSERT INTO plan_activities (id, plan_id, objective_id, position, title, responsible_agency_id, due_on) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&id)
    .bind(a.plan_id)
    .bind(a.objective_id)
    .bind(position)
    .bind(a.title)
    .bind(a.responsible_agency_id)
    .bind(a.due_on.map(day))
    .execute(&mut *cmd.tx)
    .await?;
    cmd.audit(Entry::new("plan.add_activity", PLAN, a.plan_id).fields(&["title", "responsible", "due_on"])).await?;
    Ok(id)
}

/// Mark an activity done on a day; `false` when it was already marked.
pub async fn activity_done(cmd: &mut Command, plan_id: &str, activity_id: &str, on: Date) -> anyhow::Result<bool> {
    let n = sqlx::query("UPDATE plan_activities SET done_on = $1 WHERE id = $2 AND plan_id = $3 AND done_on IS NULL")
        .bind(day(on))
        .bind(activity_id)
        .bind(plan_id)
        .execute(&mut *cmd.tx)
        .await?
        .rows_affected();
    if n == 1 {
        cmd.audit(Entry::new("plan.activity_done", PLAN, plan_id).fields(&["activity", "done_on"])).await?;
    }
    Ok(n == 1)
}

pub struct NewIndicator<'a> {
    pub plan_id: &'a str,
    pub objective_id: Option<&'a str>,
    pub name: &'a str,
    pub measure: Option<Measure>,
    pub unit: haven_domain::plan::Unit,
    pub definition: Option<&'a str>,
    pub target: Option<u64>,
    pub frequency: haven_domain::plan::Frequency,
    pub responsible_agency_id: &'a str,
}

pub async fn add_indicator(cmd: &mut Command, i: &NewIndicator<'_>) -> anyhow::Result<String> {
    let id = new_id();
    let position = next_position(cmd, "plan_indicators", i.plan_id).await?;
    sqlx::query(
        "INSERT INTO plan_indicators (id, plan_id, objective_id, position, name, measure, unit, definition, target, \
         frequency, responsible_agency_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(&id)
    .bind(i.plan_id)
    .bind(i.objective_id)
    .bind(position)
    .bind(i.name)
    .bind(i.measure.map(Measure::code))
    .bind(i.unit.code())
    .bind(i.definition)
    .bind(i.target.map(|t| t as i64))
    .bind(i.frequency.code())
    .bind(i.responsible_agency_id)
    .execute(&mut *cmd.tx)
    .await?;
    cmd.audit(Entry::new("plan.add_indicator", PLAN, i.plan_id).fields(&["name", "measure", "target"])).await?;
    Ok(id)
}

/// Record (or correct) the value of an indicator entered by hand for a period. Returns whether an earlier
/// value was corrected; who entered it and when are kept on the row, and the audit log keeps every change.
pub async fn record_entry(
    cmd: &mut Command,
    indicator_id: &str,
    period: ReportPeriod,
    value: u64,
    note: Option<&str>,
) -> anyhow::Result<bool> {
    let code = period.code();
    let existing: Option<String> =
        sqlx::query_scalar("SELECT id FROM indicator_entries WHERE indicator_id = $1 AND period = $2")
            .bind(indicator_id)
            .bind(&code)
            .fetch_optional(&mut *cmd.tx)
            .await?;
    if let Some(id) = &existing {
        sqlx::query(
            "UPDATE indicator_entries SET value = $1, note = $2, entered_by = $3, entered_at = $4 WHERE id = $5",
        )
        .bind(value as i64)
        .bind(note)
        .bind(&cmd.actor.user_id)
        .bind(cmd.at)
        .bind(id)
        .execute(&mut *cmd.tx)
        .await?;
    } else {
        sqlx::query(
            "INSERT INTO indicator_entries (id, indicator_id, period, value, note, entered_by, entered_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(new_id())
        .bind(indicator_id)
        .bind(&code)
        .bind(value as i64)
        .bind(note)
        .bind(&cmd.actor.user_id)
        .bind(cmd.at)
        .execute(&mut *cmd.tx)
        .await?;
    }
    let action = if existing.is_some() { "plan.entry_corrected" } else { "plan.entry" };
    cmd.audit(Entry::new(action, INDICATOR, indicator_id).purpose(&code).fields(&["value", "note"])).await?;
    Ok(existing.is_some())
}

/// Copy a plan to another year: its objectives, activities (not done, without due dates, which belong to the
/// old year) and indicators with their targets; no values. Returns the new plan's id.
pub async fn copy_plan(cmd: &mut Command, plan_id: &str, name: &str, year: i32) -> anyhow::Result<String> {
    let (owner,): (String,) =
        sqlx::query_as("SELECT owner_agency_id FROM plans WHERE id = $1").bind(plan_id).fetch_one(&mut *cmd.tx).await?;
    let id = new_id();
    sqlx::query(
        "INSERT INTO plans (id, owner_agency_id, name, year, copied_from, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&id)
    .bind(&owner)
    .bind(name)
    .bind(i64::from(year))
    .bind(plan_id)
    .bind(&cmd.actor.user_id)
    .bind(cmd.at)
    .execute(&mut *cmd.tx)
    .await?;
    let objectives: Vec<(String, i64, String)> =
        sqlx::query_as("SELECT id, position, title FROM plan_objectives WHERE plan_id = $1 ORDER BY position")
            .bind(plan_id)
            .fetch_all(&mut *cmd.tx)
            .await?;
    let mut renamed = std::collections::HashMap::new();
    for (old, position, title) in objectives {
        let new = new_id();
        sqlx::query("INSERT INTO plan_objectives (id, plan_id, position, title) VALUES ($1, $2, $3, $4)")
            .bind(&new)
            .bind(&id)
            .bind(position)
            .bind(title)
            .execute(&mut *cmd.tx)
            .await?;
        renamed.insert(old, new);
    }
    let activities: Vec<(Option<String>, i64, String, String)> = sqlx::query_as(
        "SELECT objective_id, position, title, responsible_agency_id FROM plan_activities WHERE plan_id = $1 \
         ORDER BY position",
    )
    .bind(plan_id)
    .fetch_all(&mut *cmd.tx)
    .await?;
    for (objective, position, title, responsible) in activities {
        sqlx::query(
            "INSERT INTO plan_activities (id, plan_id, objective_id, position, title, responsible_agency_id) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(new_id())
        .bind(&id)
        .bind(objective.and_then(|o| renamed.get(&o).cloned()))
        .bind(position)
        .bind(title)
        .bind(responsible)
        .execute(&mut *cmd.tx)
        .await?;
    }
    for i in indicators_in(&mut cmd.tx, plan_id).await? {
        sqlx::query(
            "INSERT INTO plan_indicators (id, plan_id, objective_id, position, name, measure, unit, definition, \
             target, frequency, responsible_agency_id) \
             SELECT $1, $2, $3, position, name, measure, unit, definition, target, frequency, responsible_agency_id \
             FROM plan_indicators WHERE id = $4",
        )
        .bind(new_id())
        .bind(&id)
        .bind(i.objective_id.and_then(|o| renamed.get(&o).cloned()))
        .bind(&i.id)
        .execute(&mut *cmd.tx)
        .await?;
    }
    cmd.audit(Entry::new("plan.copy", PLAN, &id).fields(&["copied_from", "name", "year"])).await?;
    Ok(id)
}

const INDICATOR_COLS: &str = "id, plan_id, objective_id, name, measure, unit, definition, target, frequency, \
                              responsible_agency_id";

fn indicator_row(r: sqlx::any::AnyRow) -> anyhow::Result<IndicatorRow> {
    Ok(IndicatorRow {
        id: r.try_get(0)?,
        plan_id: r.try_get(1)?,
        objective_id: r.try_get(2)?,
        name: r.try_get(3)?,
        measure: r.try_get(4)?,
        unit: r.try_get(5)?,
        definition: r.try_get(6)?,
        target: r.try_get(7)?,
        frequency: r.try_get(8)?,
        responsible_agency_id: r.try_get(9)?,
    })
}

async fn indicators_in(tx: &mut crate::db::Tx, plan_id: &str) -> anyhow::Result<Vec<IndicatorRow>> {
    let rows =
        sqlx::query(&format!("SELECT {INDICATOR_COLS} FROM plan_indicators WHERE plan_id = $1 ORDER BY position"))
            .bind(plan_id)
            .fetch_all(&mut **tx)
            .await?;
    rows.into_iter().map(indicator_row).collect()
}

/// A prevention activity as entered.
pub struct NewPrevention<'a> {
    pub title: &'a str,
    pub held_on: Date,
    pub commune_code: Option<&'a str>,
    pub organiser: &'a str,
    pub channel: &'a str,
    pub reach: &'a haven_domain::plan::Reach,
    pub materials: u64,
}

pub async fn add_prevention(cmd: &mut Command, agency_id: &str, p: &NewPrevention<'_>) -> anyhow::Result<String> {
    let id = new_id();
    sqlx::query(
        "INSERT INTO prevention_activities (id, owner_agency_id, title, held_on, commune_code, organiser, channel, \
         women, men, materials, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(&id)
    .bind(agency_id)
    .bind(p.title)
    .bind(day(p.held_on))
    .bind(p.commune_code)
    .bind(p.organiser)
    .bind(p.channel)
    .bind(p.reach.women as i64)
    .bind(p.reach.men as i64)
    .bind(p.materials as i64)
    .bind(&cmd.actor.user_id)
    .bind(cmd.at)
    .execute(&mut *cmd.tx)
    .await?;
    for (group, n) in &p.reach.groups {
        sqlx::query("INSERT INTO prevention_reach (activity_id, target_group, participants) VALUES ($1, $2, $3)")
            .bind(&id)
            .bind(group)
            .bind(*n as i64)
            .execute(&mut *cmd.tx)
            .await?;
    }
    cmd.audit(Entry::new("prevention.create", PREVENTION, &id).fields(&["title", "held_on", "reach"])).await?;
    Ok(id)
}

#[derive(Clone, Debug, Serialize)]
pub struct PreventionRow {
    pub id: String,
    pub owner_agency_id: String,
    pub title: String,
    pub held_on: String,
    pub commune_code: Option<String>,
    pub organiser: String,
    pub channel: String,
    pub women: i64,
    pub men: i64,
    pub materials: i64,
    /// Participants by target group.
    pub groups: Vec<(String, i64)>,
}

/// A training course as entered.
pub struct NewTraining<'a> {
    pub title: &'a str,
    pub topic: &'a str,
    pub starts_on: Date,
    pub ends_on: Date,
    pub trainers: &'a str,
}

pub async fn add_training(cmd: &mut Command, agency_id: &str, t: &NewTraining<'_>) -> anyhow::Result<String> {
    let id = new_id();
    sqlx::query(
        "INSERT INTO trainings (id, owner_agency_id, title, topic, starts_on, ends_on, trainers, created_by, \
         created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&id)
    .bind(agency_id)
    .bind(t.title)
    .bind(t.topic)
    .bind(day(t.starts_on))
    .bind(day(t.ends_on))
    .bind(t.trainers)
    .bind(&cmd.actor.user_id)
    .bind(cmd.at)
    .execute(&mut *cmd.tx)
    .await?;
    cmd.audit(Entry::new("training.create", TRAINING, &id).fields(&["title", "topic", "days", "trainers"])).await?;
    Ok(id)
}

/// Who took part: a user account, or a name (sealed) with an agency.
pub enum Participant<'a> {
    User { user_id: &'a str, agency_id: &'a str },
    Named { full_name: &'a str, agency_id: &'a str },
}

/// Add a participant; `false` when that user is already on the course.
pub async fn add_participant(
    cmd: &mut Command,
    keys: &Keyring,
    training_id: &str,
    p: &Participant<'_>,
    certificate: Option<&str>,
) -> anyhow::Result<bool> {
    let id = new_id();
    let (user, name, agency) = match p {
        Participant::User { user_id, agency_id } => {
            let on: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM training_participants WHERE training_id = $1 AND user_id = $2",
            )
            .bind(training_id)
            .bind(*user_id)
            .fetch_one(&mut *cmd.tx)
            .await?;
            if on > 0 {
                return Ok(false);
            }
            (Some(*user_id), None, *agency_id)
        }
        Participant::Named { full_name, agency_id } => {
            (None, Some(keys.seal("training_participants", "full_name", &id, full_name)), *agency_id)
        }
    };
    sqlx::query(
        "INSERT INTO training_participants (id, training_id, user_id, full_name, agency_id, certificate, created_by, \
         created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&id)
    .bind(training_id)
    .bind(user)
    .bind(name)
    .bind(agency)
    .bind(certificate)
    .bind(&cmd.actor.user_id)
    .bind(cmd.at)
    .execute(&mut *cmd.tx)
    .await?;
    cmd.audit(Entry::new("training.add_participant", TRAINING, training_id).fields(&["participant", "certificate"]))
        .await?;
    Ok(true)
}

#[derive(Clone, Debug, Serialize)]
pub struct TrainingRow {
    pub id: String,
    pub owner_agency_id: String,
    pub title: String,
    pub topic: String,
    pub starts_on: String,
    pub ends_on: String,
    pub trainers: String,
    pub participants: i64,
}

/// A participant, opened for the course's agency: the user's display name, or the sealed name.
#[derive(Clone, Debug, Serialize)]
pub struct ParticipantRow {
    pub id: String,
    pub name: String,
    pub user_id: Option<String>,
    pub agency_id: String,
    pub certificate: Option<String>,
}

/// The first and last instant (UTC milliseconds) of a period's local days.
fn instants(period: Period) -> (Millis, Millis) {
    let start = |d: Date| d.midnight().assume_offset(VN_OFFSET).unix_timestamp() * 1000;
    let next = period.to.next_day().map_or(i64::MAX, start);
    (start(period.from), next - 1)
}

/// A scope's conditions on a table, naming the columns that hold the agency and the commune.
fn scope_sql(scope: Scope<'_>, agency: &str, commune: &str) -> String {
    let mut out = String::new();
    if scope.agency_id.is_some() {
        out.push_str(&format!(" AND {agency} = :agency"));
    }
    if scope.commune_code.is_some() {
        out.push_str(&format!(" AND {commune} = :commune"));
    }
    out
}

/// A value bound to a named parameter.
#[derive(Clone, Debug)]
enum Val {
    Text(String),
    Int(i64),
}

/// Number the named parameters of a statement (`:from`, `:agency`, ...) as `$1, $2, ...` in order of
/// appearance, with the values to bind in that order: each statement names only what it uses. Names not in
/// `values` are left as written.
fn numbered(sql: &str, values: &[(&str, Val)]) -> (String, Vec<Val>) {
    let mut out = String::with_capacity(sql.len());
    let mut binds = Vec::new();
    let mut rest = sql;
    while let Some(at) = rest.find(':') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let len = after.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(after.len());
        match values.iter().find(|(name, _)| *name == &after[..len]) {
            Some((_, v)) if len > 0 => {
                binds.push(v.clone());
                out.push_str(&format!("${}", binds.len()));
            }
            _ => out.push_str(&rest[at..at + 1 + len]),
        }
        rest = &after[len..];
    }
    out.push_str(rest);
    (out, binds)
}

impl Store {
    pub async fn plans(&self) -> anyhow::Result<Vec<PlanRow>> {
        let rows: Vec<(String, String, String, i64, Option<String>, i64)> = sqlx::query_as(
            "SELECT id, owner_agency_id, name, year, copied_from, created_at FROM plans ORDER BY year DESC, id DESC",
        )
        .fetch_all(self.db.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, owner_agency_id, name, year, copied_from, created_at)| PlanRow {
                id,
                owner_agency_id,
                name,
                year: year as i32,
                copied_from,
                created_at,
            })
            .collect())
    }

    pub async fn plan(&self, id: &str) -> anyhow::Result<Option<PlanRow>> {
        Ok(self.plans().await?.into_iter().find(|p| p.id == id))
    }

    pub async fn objectives(&self, plan_id: &str) -> anyhow::Result<Vec<ObjectiveRow>> {
        let rows: Vec<(String, i64, String)> =
            sqlx::query_as("SELECT id, position, title FROM plan_objectives WHERE plan_id = $1 ORDER BY position")
                .bind(plan_id)
                .fetch_all(self.db.pool())
                .await?;
        Ok(rows.into_iter().map(|(id, position, title)| ObjectiveRow { id, position, title }).collect())
    }

    pub async fn plan_activities(&self, plan_id: &str) -> anyhow::Result<Vec<ActivityRow>> {
        type Row = (String, Option<String>, String, String, Option<String>, Option<String>);
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT id, objective_id, title, responsible_agency_id, due_on, done_on FROM plan_activities \
             WHERE plan_id = $1 ORDER BY position",
        )
        .bind(plan_id)
        .fetch_all(self.db.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, objective_id, title, responsible_agency_id, due_on, done_on)| ActivityRow {
                id,
                objective_id,
                title,
                responsible_agency_id,
                due_on,
                done_on,
            })
            .collect())
    }

    pub async fn plan_indicators(&self, plan_id: &str) -> anyhow::Result<Vec<IndicatorRow>> {
        let rows =
            sqlx::query(&format!("SELECT {INDICATOR_COLS} FROM plan_indicators WHERE plan_id = $1 ORDER BY position"))
                .bind(plan_id)
                .fetch_all(self.db.pool())
                .await?;
        rows.into_iter().map(indicator_row).collect()
    }

    pub async fn plan_indicator(&self, id: &str) -> anyhow::Result<Option<IndicatorRow>> {
        let r = sqlx::query(&format!("SELECT {INDICATOR_COLS} FROM plan_indicators WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.db.pool())
            .await?;
        r.map(indicator_row).transpose()
    }

    /// The values entered by hand for an indicator, by period code.
    pub async fn entries(&self, indicator_id: &str) -> anyhow::Result<Vec<EntryRow>> {
        let rows: Vec<(String, i64, Option<String>, String, i64)> = sqlx::query_as(
            "SELECT period, value, note, entered_by, entered_at FROM indicator_entries WHERE indicator_id = $1 \
             ORDER BY period",
        )
        .bind(indicator_id)
        .fetch_all(self.db.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(period, value, note, entered_by, entered_at)| EntryRow {
                period,
                value,
                note,
                entered_by,
                entered_at,
            })
            .collect())
    }

    /// A computed indicator's figure for a period and scope: the catalogue's one implementation.
    pub async fn figure(&self, measure: Measure, period: Period, scope: Scope<'_>) -> anyhow::Result<Figure> {
        if let Measure::LawEnforcement(id) = measure {
            let counts = self.indicator_counts(period, scope).await?;
            let at = IndicatorId::ALL.iter().position(|i| *i == id).unwrap_or(0);
            let (n, d) = counts[at];
            return Ok(Figure::Share { numerator: n.max(0) as u64, denominator: d.max(0) as u64 });
        }
        let days = "BETWEEN :from AND :to";
        let sql = match measure {
            Measure::LawEnforcement(_) => unreachable!("answered above"),
            Measure::VictimsReceived => format!(
                "SELECT COUNT(*) FROM victim_cases v WHERE v.received_on {days}{}",
                scope_sql(scope, "v.owner_agency_id", "v.commune_code")
            ),
            Measure::VictimsVerified => format!(
                "SELECT COUNT(*) FROM victim_cases v WHERE v.verified_on {days}{}",
                scope_sql(scope, "v.owner_agency_id", "v.commune_code")
            ),
            Measure::VictimsIdentified => format!(
                "SELECT COUNT(*) FROM victim_cases v WHERE v.identified_on {days} AND v.status = 'identified'{}",
                scope_sql(scope, "v.owner_agency_id", "v.commune_code")
            ),
            Measure::VictimsSupported => format!(
                "SELECT COUNT(DISTINCT s.case_id) FROM supports s JOIN victim_cases v ON v.id = s.case_id \
                 WHERE s.given_on {days}{}",
                scope_sql(scope, "s.provider_agency_id", "v.commune_code")
            ),
            Measure::VictimsReintegrated => format!(
                "SELECT COUNT(*) FROM victim_cases v WHERE v.closed_on {days} AND v.closed_reason = 'reintegrated'{}",
                scope_sql(scope, "v.owner_agency_id", "v.commune_code")
            ),
            Measure::ReturneesScreened => format!(
                "SELECT COUNT(*) FROM returnees r JOIN persons p ON p.id = r.person_id \
                 WHERE r.screened_at BETWEEN :from_ms AND :to_ms{}",
                scope_sql(scope, "r.owner_agency_id", "p.commune_code")
            ),
            Measure::AbsenteesReviewed => format!(
                "SELECT COUNT(DISTINCT r.absentee_id) FROM absentee_reviews r JOIN absentees a ON a.id = r.absentee_id \
                 WHERE r.outcome_on {days}{}",
                scope_sql(scope, "a.owner_agency_id", "a.commune_code")
            ),
            Measure::CampaignReach => format!(
                "SELECT CAST(COALESCE(SUM(a.women + a.men), 0) AS BIGINT) FROM prevention_activities a \
                 WHERE a.held_on {days}{}",
                scope_sql(scope, "a.owner_agency_id", "a.commune_code")
            ),
            Measure::CampaignActivities => format!(
                "SELECT COUNT(*) FROM prevention_activities a WHERE a.held_on {days}{}",
                scope_sql(scope, "a.owner_agency_id", "a.commune_code")
            ),
            // The officials of an agency (or of the agencies of a commune) trained.
            Measure::OfficialsTrained => format!(
                "SELECT COUNT(*) FROM training_participants tp JOIN trainings t ON t.id = tp.training_id \
                 JOIN agencies g ON g.id = tp.agency_id WHERE t.ends_on {days}{}",
                scope_sql(scope, "tp.agency_id", "g.unit_code")
            ),
        };
        let (from_ms, to_ms) = instants(period);
        let (sql, binds) = numbered(
            &sql,
            &[
                ("from", Val::Text(day(period.from))),
                ("to", Val::Text(day(period.to))),
                ("from_ms", Val::Int(from_ms)),
                ("to_ms", Val::Int(to_ms)),
                ("agency", Val::Text(scope.agency_id.unwrap_or_default().to_owned())),
                ("commune", Val::Text(scope.commune_code.unwrap_or_default().to_owned())),
            ],
        );
        let mut q = sqlx::query_scalar::<_, i64>(&sql);
        for v in binds {
            q = match v {
                Val::Text(t) => q.bind(t),
                Val::Int(i) => q.bind(i),
            };
        }
        let n = q.fetch_one(self.db.pool()).await?;
        Ok(Figure::Total(n.max(0) as u64))
    }

    /// The breakdowns of the victim cases received in a period, optionally of one agency. Sex and birth date
    /// are sealed on the person record: they are opened here in memory, one case at a time, and only the
    /// counts leave this function.
    pub async fn victim_breakdowns(&self, period: Period, agency_id: Option<&str>) -> anyhow::Result<VictimBreakdowns> {
        type Row = (String, String, Option<String>, Option<String>, String, String, Vec<u8>, Option<Vec<u8>>);
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT COALESCE(v.commune_code, ''), v.owner_agency_id, v.destination_country, v.exploitation, \
             v.received_on, p.id, p.sex, p.birth_date FROM victim_cases v JOIN persons p ON p.id = v.person_id \
             WHERE v.received_on BETWEEN $1 AND $2 AND ($3 = '' OR v.owner_agency_id = $3)",
        )
        .bind(day(period.from))
        .bind(day(period.to))
        .bind(agency_id.unwrap_or(""))
        .fetch_all(self.db.pool())
        .await?;
        let mut maps: [std::collections::HashMap<String, u64>; 6] = Default::default();
        for (commune, agency, country, exploitation, received, person, sex, birth) in &rows {
            let [by_commune, by_agency, by_country, by_exploitation, by_sex, by_age] = &mut maps;
            *by_commune.entry(commune.clone()).or_default() += 1;
            *by_agency.entry(agency.clone()).or_default() += 1;
            *by_country.entry(country.clone().unwrap_or_default()).or_default() += 1;
            let forms: Vec<&str> = exploitation.as_deref().unwrap_or_default().split_whitespace().collect();
            if forms.is_empty() {
                *by_exploitation.entry(String::new()).or_default() += 1;
            }
            for f in forms {
                *by_exploitation.entry(f.to_owned()).or_default() += 1;
            }
            let sex = self.keys.open("persons", "sex", person, sex)?;
            *by_sex.entry(sex).or_default() += 1;
            let birth = self.keys.open_opt("persons", "birth_date", person, birth.as_deref())?;
            let on = crate::reports::parse_day(received).unwrap_or(period.to);
            let band = age_band(birth.as_deref().and_then(haven_domain::person::BirthDate::parse), on);
            *by_age.entry(band.to_owned()).or_default() += 1;
        }
        let [by_commune, by_agency, by_country, by_exploitation, by_sex, by_age] = maps;
        let mut by_age = sorted(by_age);
        by_age.sort_by_key(|(band, _)| AGE_BANDS.iter().position(|b| b == band));
        Ok(VictimBreakdowns {
            total: rows.len() as u64,
            by_commune: sorted(by_commune),
            by_agency: sorted(by_agency),
            by_country: sorted(by_country),
            by_exploitation: sorted(by_exploitation),
            by_sex: sorted(by_sex),
            by_age,
        })
    }

    /// A computed indicator month by month through a year, up to `today`: `None` for months not begun. A
    /// share per month is its own month's share (per mille).
    pub async fn monthly(&self, measure: Measure, year: i32, today: Date) -> anyhow::Result<Vec<Option<u64>>> {
        let mut out = Vec::with_capacity(12);
        for month in ReportPeriod::all_in(year, haven_domain::plan::Frequency::Month) {
            let r = month.range();
            if r.from > today {
                out.push(None);
                continue;
            }
            let f = self.figure(measure, Period { from: r.from, to: r.to.min(today) }, Scope::default()).await?;
            out.push(f.value());
        }
        Ok(out)
    }

    /// Prevention activities held in a period (newest first), optionally of one agency, at most `limit`.
    pub async fn prevention_activities(
        &self,
        period: Period,
        agency_id: Option<&str>,
        limit: i64,
    ) -> anyhow::Result<Vec<PreventionRow>> {
        type Row = (String, String, String, String, Option<String>, String, String, i64, i64, i64);
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT id, owner_agency_id, title, held_on, commune_code, organiser, channel, women, men, materials \
             FROM prevention_activities WHERE held_on BETWEEN $1 AND $2 AND ($3 = '' OR owner_agency_id = $3) \
             ORDER BY held_on DESC, id DESC LIMIT $4",
        )
        .bind(day(period.from))
        .bind(day(period.to))
        .bind(agency_id.unwrap_or(""))
        .bind(limit)
        .fetch_all(self.db.pool())
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for (id, owner_agency_id, title, held_on, commune_code, organiser, channel, women, men, materials) in rows {
            let groups: Vec<(String, i64)> = sqlx::query_as(
                "SELECT target_group, participants FROM prevention_reach WHERE activity_id = $1 ORDER BY target_group",
            )
            .bind(&id)
            .fetch_all(self.db.pool())
            .await?;
            out.push(PreventionRow {
                id,
                owner_agency_id,
                title,
                held_on,
                commune_code,
                organiser,
                channel,
                women,
                men,
                materials,
                groups,
            });
        }
        Ok(out)
    }

    /// Reach of the prevention activities of a period, summed by one of: `target_group`, `commune`,
    /// `channel`, `sex`. Rows of (key, participants), largest first.
    pub async fn reach_by(
        &self,
        period: Period,
        by: ReachBy,
        agency_id: Option<&str>,
    ) -> anyhow::Result<Vec<(String, i64)>> {
        let only = if agency_id.is_some() { " AND a.owner_agency_id = $3" } else { "" };
        let sql = match by {
            ReachBy::TargetGroup => format!(
                "SELECT r.target_group, CAST(SUM(r.participants) AS BIGINT) FROM prevention_reach r \
                 JOIN prevention_activities a ON a.id = r.activity_id WHERE a.held_on BETWEEN $1 AND $2{only} \
                 GROUP BY r.target_group"
            ),
            ReachBy::Commune => format!(
                "SELECT COALESCE(a.commune_code, ''), CAST(SUM(a.women + a.men) AS BIGINT) FROM prevention_activities a \
                 WHERE a.held_on BETWEEN $1 AND $2{only} GROUP BY COALESCE(a.commune_code, '')"
            ),
            ReachBy::Channel => format!(
                "SELECT a.channel, CAST(SUM(a.women + a.men) AS BIGINT) FROM prevention_activities a \
                 WHERE a.held_on BETWEEN $1 AND $2{only} GROUP BY a.channel"
            ),
            ReachBy::Sex => format!(
                "SELECT 'f', CAST(COALESCE(SUM(a.women), 0) AS BIGINT) FROM prevention_activities a \
                 WHERE a.held_on BETWEEN $1 AND $2{only} UNION ALL \
                 SELECT 'm', CAST(COALESCE(SUM(a.men), 0) AS BIGINT) FROM prevention_activities a \
                 WHERE a.held_on BETWEEN $1 AND $2{only}"
            ),
        };
        let mut query = sqlx::query_as(&sql).bind(day(period.from)).bind(day(period.to));
        if let Some(agency) = agency_id {
            query = query.bind(agency);
        }
        let mut rows: Vec<(String, i64)> = query.fetch_all(self.db.pool()).await?;
        rows.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        Ok(rows)
    }

    /// Training courses that ended in a period (newest first), with their number of participants; for an
    /// agency, the courses it organised or sent officials to, with its own participants only.
    pub async fn trainings(
        &self,
        period: Period,
        agency_id: Option<&str>,
        limit: i64,
    ) -> anyhow::Result<Vec<TrainingRow>> {
        type Row = (String, String, String, String, String, String, String, i64);
        let (counted, kept) = match agency_id {
            Some(_) => (
                " AND p.agency_id = $4",
                " AND (t.owner_agency_id = $4 OR EXISTS (SELECT 1 FROM training_participants q \
                 WHERE q.training_id = t.id AND q.agency_id = $4))",
            ),
            None => ("", ""),
        };
        let sql = format!(
            "SELECT t.id, t.owner_agency_id, t.title, t.topic, t.starts_on, t.ends_on, t.trainers, \
             (SELECT COUNT(*) FROM training_participants p WHERE p.training_id = t.id{counted}) \
             FROM trainings t WHERE t.ends_on BETWEEN $1 AND $2{kept} ORDER BY t.ends_on DESC, t.id DESC LIMIT $3"
        );
        let mut query = sqlx::query_as(&sql).bind(day(period.from)).bind(day(period.to)).bind(limit);
        if let Some(agency) = agency_id {
            query = query.bind(agency);
        }
        let rows: Vec<Row> = query.fetch_all(self.db.pool()).await?;
        Ok(rows
            .into_iter()
            .map(|(id, owner_agency_id, title, topic, starts_on, ends_on, trainers, participants)| TrainingRow {
                id,
                owner_agency_id,
                title,
                topic,
                starts_on,
                ends_on,
                trainers,
                participants,
            })
            .collect())
    }

    pub async fn training(&self, id: &str) -> anyhow::Result<Option<TrainingRow>> {
        type Row = (String, String, String, String, String, String, String, i64);
        let r: Option<Row> = sqlx::query_as(
            "SELECT t.id, t.owner_agency_id, t.title, t.topic, t.starts_on, t.ends_on, t.trainers, \
             (SELECT COUNT(*) FROM training_participants p WHERE p.training_id = t.id) FROM trainings t WHERE t.id = $1",
        )
        .bind(id)
        .fetch_optional(self.db.pool())
        .await?;
        Ok(r.map(|(id, owner_agency_id, title, topic, starts_on, ends_on, trainers, participants)| TrainingRow {
            id,
            owner_agency_id,
            title,
            topic,
            starts_on,
            ends_on,
            trainers,
            participants,
        }))
    }

    /// A course's participants, names opened for the course's agency (the caller checks it may see them).
    pub async fn participants(&self, training_id: &str) -> anyhow::Result<Vec<ParticipantRow>> {
        type Row = (String, Option<String>, Option<Vec<u8>>, String, Option<String>, Option<String>);
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT p.id, p.user_id, p.full_name, p.agency_id, p.certificate, u.display_name \
             FROM training_participants p LEFT JOIN users u ON u.id = p.user_id WHERE p.training_id = $1 \
             ORDER BY p.id",
        )
        .bind(training_id)
        .fetch_all(self.db.pool())
        .await?;
        rows.into_iter()
            .map(|(id, user_id, sealed, agency_id, certificate, display)| {
                let name = match sealed {
                    Some(s) => self.keys.open("training_participants", "full_name", &id, &s)?,
                    None => display.unwrap_or_default(),
                };
                Ok(ParticipantRow { id, name, user_id, agency_id, certificate })
            })
            .collect()
    }
}

/// Victim cases received in a period, counted by commune, receiving agency, destination country, form of
/// exploitation (a case may have several), sex and age band at reception. Keys are codes (`""` when not
/// recorded); each list is largest first.
#[derive(Clone, Debug, Default, Serialize)]
pub struct VictimBreakdowns {
    pub total: u64,
    pub by_commune: Vec<(String, u64)>,
    pub by_agency: Vec<(String, u64)>,
    pub by_country: Vec<(String, u64)>,
    pub by_exploitation: Vec<(String, u64)>,
    pub by_sex: Vec<(String, u64)>,
    pub by_age: Vec<(String, u64)>,
}

/// Age bands at reception: children (under 16), adolescents (16-17), then adults.
pub const AGE_BANDS: [&str; 6] = ["0_15", "16_17", "18_29", "30_44", "45_plus", "unknown"];

/// The age in whole years on `on` of a person born on `birth` (a date, or only a year: then the difference of
/// years, the birthday assumed passed); `None` when not known or born after `on`.
pub fn age_years(birth: Option<haven_domain::person::BirthDate>, on: Date) -> Option<i32> {
    use haven_domain::person::BirthDate;
    let age = match birth? {
        BirthDate::Full(b) => {
            let mut a = on.year() - b.year();
            if (on.month(), on.day()) < (b.month(), b.day()) {
                a -= 1;
            }
            a
        }
        BirthDate::Year(y) => on.year() - y,
    };
    (age >= 0).then_some(age)
}

/// The age band of a person born on `birth` (a date, or only a year) on `on`.
pub fn age_band(birth: Option<haven_domain::person::BirthDate>, on: Date) -> &'static str {
    let Some(age) = age_years(birth, on) else { return "unknown" };
    match age {
        0..=15 => "0_15",
        16..=17 => "16_17",
        18..=29 => "18_29",
        30..=44 => "30_44",
        _ => "45_plus",
    }
}

fn sorted(counts: std::collections::HashMap<String, u64>) -> Vec<(String, u64)> {
    let mut v: Vec<(String, u64)> = counts.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    v
}

/// How to break down the reach of prevention activities.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReachBy {
    TargetGroup,
    Commune,
    Channel,
    Sex,
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn named_parameters_are_numbered_in_order() {
        let (sql, binds) = numbered(
            "SELECT 1 WHERE a BETWEEN :from AND :to AND b = :agency AND c = :from AND d = ':x'",
            &[("from", Val::Int(1)), ("to", Val::Int(2)), ("agency", Val::Text("p".into()))],
        );
        assert_eq!(sql, "SELECT 1 WHERE a BETWEEN $1 AND $2 AND b = $3 AND c = $4 AND d = ':x'");
        let ints: Vec<String> = binds.iter().map(|v| format!("{v:?}")).collect();
        assert_eq!(ints, ["Int(1)", "Int(2)", "Text(\"p\")", "Int(1)"]);
    }

    #[test]
    fn age_bands_at_reception() {
        use haven_domain::person::BirthDate;
        let on = date!(2026 - 03 - 01);
        assert_eq!(age_band(Some(BirthDate::Full(date!(2010 - 03 - 02))), on), "0_15", "15 until the day after");
        assert_eq!(age_band(Some(BirthDate::Full(date!(2010 - 03 - 01))), on), "16_17");
        assert_eq!(age_band(Some(BirthDate::Full(date!(2008 - 01 - 01))), on), "18_29");
        assert_eq!(age_band(Some(BirthDate::Year(1990)), on), "30_44");
        assert_eq!(age_band(Some(BirthDate::Year(1970)), on), "45_plus");
        assert_eq!(age_band(None, on), "unknown");
        assert_eq!(age_band(Some(BirthDate::Year(2030)), on), "unknown", "born after reception");
    }

    #[test]
    fn a_period_spans_its_local_days() {
        let (from, to) = instants(Period { from: date!(2026 - 01 - 01), to: date!(2026 - 01 - 01) });
        // Midnight in Viet Nam is 17:00 UTC the day before.
        assert_eq!(haven_domain::time::local_date(from), Some(date!(2026 - 01 - 01)));
        assert_eq!(haven_domain::time::local_date(from - 1), Some(date!(2025 - 12 - 31)));
        assert_eq!(haven_domain::time::local_date(to), Some(date!(2026 - 01 - 01)));
        assert_eq!(haven_domain::time::local_date(to + 1), Some(date!(2026 - 01 - 02)));
    }
}
