//! Prevention activities with their reach by sex and target group, and the reach summed by group, commune,
//! channel or sex.

use haven_domain::reports::indicators::Period;
use serde::Serialize;
use time::Date;

use crate::reports::day;
use crate::{new_id, Command, Entry, Store};

use super::*;

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

/// How to break down the reach of prevention activities.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReachBy {
    TargetGroup,
    Commune,
    Channel,
    Sex,
}

impl Store {
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
}
