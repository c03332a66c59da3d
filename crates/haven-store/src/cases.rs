//! Criminal cases: opened from reports settled by a decision to initiate, and their stages. The stage rules
//! are `haven_domain::cases`; this module stores each stage's date in its own column, so the indicators can
//! count them with plain SQL.

use haven_domain::cases::{Progress, Stage};
use haven_domain::reports::indicators::{CaseFacts, Period, ReportFacts};
use haven_domain::time::Millis;
use serde::Serialize;
use time::Date;

use crate::db::RowExt;
use crate::reports::{day, parse_day};
use crate::{new_id, Command, Entry, Store};

pub const KIND: &str = "criminal_case";

/// id, received on, classified at, decided on, decided on time, last day.
type ReportFactRow = (String, String, Option<i64>, Option<String>, Option<i64>, Option<String>);

fn column(stage: Stage) -> &'static str {
    match stage {
        Stage::OffendersIdentified => "offenders_identified_on",
        Stage::ToProcuracy => "to_procuracy_on",
        Stage::Indicted => "indicted_on",
        Stage::ToCourt => "to_court_on",
        Stage::Tried => "tried_on",
        Stage::Appealed => "appealed_on",
        Stage::InvestigationSuspended => "investigation_suspended_on",
        Stage::Closed => "closed_on",
    }
}

pub struct NewCase<'a> {
    pub case_number: &'a str,
    pub offence_code: &'a str,
    pub opened_on: Date,
    pub report_ids: &'a [String],
}

pub async fn open(cmd: &mut Command, owner_agency_id: &str, c: &NewCase<'_>) -> anyhow::Result<String> {
    let id = new_id();
    sqlx::query(
        "INSERT INTO criminal_cases (id, owner_agency_id, case_number, offence_code, opened_on, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $6)",
    )
    .bind(&id)
    .bind(owner_agency_id)
    .bind(c.case_number)
    .bind(c.offence_code)
    .bind(day(c.opened_on))
    .bind(cmd.at)
    .execute(&mut *cmd.tx)
    .await?;
    for r in c.report_ids {
        sqlx::query("INSERT INTO case_reports (case_id, report_id) VALUES ($1, $2)")
            .bind(&id)
            .bind(r)
            .execute(&mut *cmd.tx)
            .await?;
    }
    cmd.audit(Entry::new("case.open", KIND, &id).fields(&["case_number", "offence_code", "opened_on", "reports"]))
        .await?;
    Ok(id)
}

pub async fn record_stage(
    cmd: &mut Command,
    id: &str,
    stage: Stage,
    on: Date,
    closed_reason: Option<&str>,
) -> anyhow::Result<()> {
    sqlx::query(&format!("UPDATE criminal_cases SET {} = $1, updated_at = $2 WHERE id = $3", column(stage)))
        .bind(day(on))
        .bind(cmd.at)
        .bind(id)
        .execute(&mut *cmd.tx)
        .await?;
    if let Some(reason) = closed_reason {
        sqlx::query("UPDATE criminal_cases SET closed_reason = $1 WHERE id = $2")
            .bind(reason)
            .bind(id)
            .execute(&mut *cmd.tx)
            .await?;
    }
    cmd.audit(Entry::new(&format!("case.{}", stage.code()), KIND, id).fields(&[column(stage)])).await
}

#[derive(Clone, Debug, Serialize)]
pub struct CaseRow {
    pub id: String,
    pub owner_agency_id: String,
    pub case_number: String,
    pub offence_code: String,
    pub opened_on: String,
    /// Each stage reached, in the order of `Stage::ALL`.
    pub stages: Vec<(String, String)>,
    pub closed_reason: Option<String>,
    pub created_at: Millis,
}

impl CaseRow {
    pub fn progress(&self) -> Progress {
        Progress {
            opened: parse_day(&self.opened_on),
            reached: self.stages.iter().filter_map(|(s, d)| Some((Stage::from_code(s)?, parse_day(d)?))).collect(),
        }
    }
}

const CASE_COLS: &str =
    "id, owner_agency_id, case_number, offence_code, opened_on, offenders_identified_on, to_procuracy_on, \
     indicted_on, to_court_on, tried_on, appealed_on, investigation_suspended_on, closed_on, closed_reason, created_at";

fn case_row(r: crate::db::Row) -> anyhow::Result<CaseRow> {
    let mut stages = Vec::new();
    for (i, stage) in Stage::ALL.iter().enumerate() {
        if let Some(d) = r.try_get::<Option<String>, _>(5 + i)? {
            stages.push((stage.code().to_owned(), d));
        }
    }
    Ok(CaseRow {
        id: r.try_get(0)?,
        owner_agency_id: r.try_get(1)?,
        case_number: r.try_get(2)?,
        offence_code: r.try_get(3)?,
        opened_on: r.try_get(4)?,
        stages,
        closed_reason: r.try_get(13)?,
        created_at: r.try_get(14)?,
    })
}

impl Store {
    pub async fn case(&self, id: &str) -> anyhow::Result<Option<CaseRow>> {
        let row = sqlx::query(&format!("SELECT {CASE_COLS} FROM criminal_cases WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.db.pool())
            .await?;
        row.map(case_row).transpose()
    }

    pub async fn cases_of_agency(&self, agency_id: &str, limit: i64) -> anyhow::Result<Vec<CaseRow>> {
        let rows = sqlx::query(&format!("SELECT {CASE_COLS} FROM criminal_cases WHERE owner_agency_id = $1 ORDER BY opened_on DESC, id DESC LIMIT $2"))
            .bind(agency_id)
            .bind(limit)
            .fetch_all(self.db.pool())
            .await?;
        rows.into_iter().map(case_row).collect()
    }

    /// The case a report led to, if any.
    pub async fn case_of_report(&self, report_id: &str) -> anyhow::Result<Option<String>> {
        Ok(sqlx::query_scalar("SELECT case_id FROM case_reports WHERE report_id = $1")
            .bind(report_id)
            .fetch_optional(self.db.pool())
            .await?)
    }

    /// The reports a case was opened from.
    pub async fn reports_of_case(&self, case_id: &str) -> anyhow::Result<Vec<String>> {
        Ok(sqlx::query_scalar("SELECT report_id FROM case_reports WHERE case_id = $1 ORDER BY report_id")
            .bind(case_id)
            .fetch_all(self.db.pool())
            .await?)
    }

    /// The five indicators' (numerator, denominator) counted in SQL, in the order of `IndicatorId::ALL`. The
    /// conditions mirror `haven_domain::reports::indicators::compute`, the reference that defines them; a
    /// test checks both agree on the same data.
    pub async fn indicator_counts(&self, period: Period, agency_id: Option<&str>) -> anyhow::Result<[(i64, i64); 5]> {
        let (from, to) = (day(period.from), day(period.to));
        // The end of the period's last day in Viet Nam, for instants.
        let end_ms = haven_domain::time::to_millis(
            (period.to + time::Duration::days(1)).midnight().assume_offset(haven_domain::time::VN_OFFSET),
        );
        // (numerator, denominator, table); `$1` and `$2` are the period's first and last day, `$3` (only in the
        // first) the end of the last day as an instant. Indicator 2's denominator ("settled in the period, or
        // fell due in it and not settled before") is counted as two disjoint ranges that each follow an index:
        // settled in the period (a decision never precedes receipt), plus fell due in it and not settled by its
        // end; only the first part can be in the numerator.
        let queries: [(&str, &str, &str); 6] = [
            ("classified_at IS NOT NULL AND classified_at < $3", "received_on >= $1 AND received_on <= $2", "reports"),
            ("decision_on_time = 1", "decision_on >= $1 AND decision_on <= $2", "reports"),
            (
                "1 = 0",
                "last_day >= $1 AND last_day <= $2 AND (decision_on IS NULL OR decision_on > $2) AND received_on <= $2",
                "reports",
            ),
            ("offenders_identified_on <= $2", "opened_on >= $1 AND opened_on <= $2", "criminal_cases"),
            (
                "indicted_on >= $1 AND indicted_on <= $2",
                "to_procuracy_on <= $2 AND (indicted_on IS NULL OR indicted_on >= $1)",
                "criminal_cases",
            ),
            (
                "tried_on >= $1 AND tried_on <= $2",
                "to_court_on <= $2 AND (tried_on IS NULL OR tried_on >= $1)",
                "criminal_cases",
            ),
        ];
        let run = |i: usize| {
            let (num, den, table) = queries[i];
            let uses_end = num.contains("$3");
            let owner = match (agency_id, uses_end) {
                (None, _) => String::new(),
                (Some(_), true) => " AND owner_agency_id = $4".into(),
                (Some(_), false) => " AND owner_agency_id = $3".into(),
            };
            let sql = format!(
                "SELECT CAST(COALESCE(SUM(CASE WHEN {num} THEN 1 ELSE 0 END), 0) AS BIGINT), CAST(COUNT(*) AS BIGINT) \
                 FROM {table} WHERE ({den}){owner}"
            );
            let (from, to) = (from.clone(), to.clone());
            async move {
                let mut q = sqlx::query_as::<_, (i64, i64)>(&sql).bind(from).bind(to);
                if uses_end {
                    q = q.bind(end_ms);
                }
                if let Some(a) = agency_id {
                    q = q.bind(a);
                }
                q.fetch_one(self.db.pool()).await
            }
        };
        // Each count scans its own index; running them side by side uses every core.
        let (a, b, c, d, e, f) = tokio::try_join!(run(0), run(1), run(2), run(3), run(4), run(5))?;
        let counts = [a, b, c, d, e, f];
        let settled = (counts[1].0 + counts[2].0, counts[1].1 + counts[2].1);
        Ok([counts[0], settled, counts[3], counts[4], counts[5]])
    }

    /// Facts about every report and case that can bear on a period's indicators (received or opened before its
    /// end), optionally for one agency: the input of `haven_domain::reports::indicators::compute`.
    pub async fn indicator_facts(
        &self,
        period: Period,
        agency_id: Option<&str>,
    ) -> anyhow::Result<(Vec<ReportFacts>, Vec<CaseFacts>)> {
        let end = day(period.to);
        let filter = if agency_id.is_some() { " AND owner_agency_id = $2" } else { "" };
        let sql = format!(
            "SELECT id, received_on, classified_at, decision_on, decision_on_time, last_day FROM reports WHERE received_on <= $1{filter}"
        );
        let mut q = sqlx::query_as::<_, ReportFactRow>(&sql).bind(&end);
        if let Some(a) = agency_id {
            q = q.bind(a);
        }
        let rows = q.fetch_all(self.db.pool()).await?;
        let reports = rows
            .into_iter()
            .filter_map(|(id, received, classified_at, decision_on, on_time, last_day)| {
                Some(ReportFacts {
                    id,
                    received: parse_day(&received)?,
                    classified: classified_at.and_then(haven_domain::time::local_date),
                    settled: decision_on.as_deref().and_then(parse_day).map(|d| (d, on_time == Some(1))),
                    last_day: last_day.as_deref().and_then(parse_day),
                })
            })
            .collect();
        let sql = format!("SELECT {CASE_COLS} FROM criminal_cases WHERE opened_on <= $1{filter}");
        let mut q = sqlx::query(&sql).bind(&end);
        if let Some(a) = agency_id {
            q = q.bind(a);
        }
        let rows = q.fetch_all(self.db.pool()).await?;
        let mut cases = Vec::with_capacity(rows.len());
        for r in rows {
            let c = case_row(r)?;
            let p = c.progress();
            cases.push(CaseFacts {
                id: c.id.clone(),
                opened: p.opened.unwrap_or(period.from),
                offenders_identified: p.date_of(Stage::OffendersIdentified),
                to_procuracy: p.date_of(Stage::ToProcuracy),
                indicted: p.date_of(Stage::Indicted),
                to_court: p.date_of(Stage::ToCourt),
                tried: p.date_of(Stage::Tried),
                closed: p.date_of(Stage::Closed),
            });
        }
        Ok((reports, cases))
    }
}
