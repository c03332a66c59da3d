//! The plan and what it counts: plans with objectives, activities and indicators, values entered by hand per
//! period, prevention activities with their reach, and training courses for officials. The catalogue of
//! computed indicators is `haven_domain::plan::Measure`; [`Store::figure`] is its one implementation in SQL,
//! used by the plan dashboard, the periodic reports and the API alike, so a number never differs between them.

mod figures;
mod prevention;
mod training;

pub use figures::*;
pub use prevention::*;
pub use training::*;

use haven_domain::plan::{Measure, ReportPeriod};
use haven_domain::time::Millis;
use serde::Serialize;
use time::Date;

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
}
