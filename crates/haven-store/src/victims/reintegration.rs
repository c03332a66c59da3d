//! Protection and reintegration: measures for the victim and those close to them, the reintegration plan's
//! goals, follow-up visits, and closing a case.

use serde::Serialize;
use time::Date;

use crate::crypto::Keyring;
use crate::reports::day;
use crate::{new_id, Command, Entry, Store};

use super::*;

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
    pub recorded_at: Millis,
}

#[derive(Clone, Debug, Serialize)]
pub struct GoalRow {
    pub id: String,
    pub area: String,
    pub status: String,
    pub recorded_at: Millis,
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

/// due on, visited on, risk, officer, recorded at.
type VisitTuple = (String, Option<String>, Option<String>, Option<String>, Millis);

#[derive(Clone, Debug, Serialize)]
pub struct VisitRow {
    pub due_on: String,
    pub visited_on: Option<String>,
    pub risk: Option<String>,
    pub officer: Option<String>,
    pub recorded_at: Millis,
}

impl Store {
    pub async fn protection_measures(&self, case_id: &str) -> anyhow::Result<Vec<MeasureRow>> {
        let rows: Vec<(String, String, String, Option<String>, String, Millis)> = sqlx::query_as(
            "SELECT kind, for_whom, starts_on, ends_on, agency_id, recorded_at FROM protection_measures \
             WHERE case_id = $1 ORDER BY starts_on, recorded_at",
        )
        .bind(case_id)
        .fetch_all(self.db.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(kind, for_whom, starts_on, ends_on, agency_id, recorded_at)| MeasureRow {
                kind,
                for_whom,
                starts_on,
                ends_on,
                agency_id,
                recorded_at,
            })
            .collect())
    }

    /// The plan's goals by area and status; the goal text stays sealed.
    pub async fn reintegration_goals(&self, case_id: &str) -> anyhow::Result<Vec<GoalRow>> {
        let rows: Vec<(String, String, String, Millis)> = sqlx::query_as(
            "SELECT id, area, status, recorded_at FROM reintegration_goals WHERE case_id = $1 ORDER BY recorded_at",
        )
        .bind(case_id)
        .fetch_all(self.db.pool())
        .await?;
        Ok(rows.into_iter().map(|(id, area, status, recorded_at)| GoalRow { id, area, status, recorded_at }).collect())
    }

    pub async fn followups(&self, case_id: &str) -> anyhow::Result<Vec<VisitRow>> {
        let rows: Vec<VisitTuple> = sqlx::query_as(
            "SELECT due_on, visited_on, risk, officer, recorded_at FROM followups WHERE case_id = $1 \
             ORDER BY due_on, recorded_at",
        )
        .bind(case_id)
        .fetch_all(self.db.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(due_on, visited_on, risk, officer, recorded_at)| VisitRow {
                due_on,
                visited_on,
                risk,
                officer,
                recorded_at,
            })
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
