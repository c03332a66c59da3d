//! A plan's periodic report, as the report page builds it (`views::plan_report`): the same sections in the
//! caller's language as JSON, or the same workbook the page downloads (audited like the page's download).

use super::Params;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{invalid, ok, Token};
use crate::error::{AppError, AppResult};
use crate::page::Ctx;
use crate::views::plan_report::{build, selection, workbook, Report, ReportQuery};
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(report)).routes(routes!(report_workbook))
}

/// Which report: the period, the agency (or the province) and the issuing office's number.
#[derive(serde::Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportParams {
    /// A begun period of the plan's year: `2026`, `2026-H1`, `2026-Q3`, `2026-M07` (required).
    #[serde(default)]
    pub period: String,
    /// An agency's code (`GET /agencies`) for that agency's report; the province's when omitted.
    #[serde(default)]
    pub agency: String,
    /// The report's number as the issuing office numbers it (e.g. `15/BC-BCĐ`).
    #[serde(default)]
    pub number: String,
}

impl From<ReportParams> for ReportQuery {
    fn from(p: ReportParams) -> Self {
        ReportQuery { period: p.period, agency: p.agency, number: p.number }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ReportIndicatorOut {
    pub name: String,
    pub definition: String,
    /// As shown, with its unit; empty without a target.
    pub target: String,
    /// As shown, with numerator and denominator for a share.
    pub result: String,
    /// The standing against the target, in words.
    pub status: String,
}

/// A breakdown: its title and (label, count) rows.
#[derive(Serialize, ToSchema)]
pub struct BreakdownOut {
    pub title: String,
    pub rows: Vec<CountOut>,
}

#[derive(Serialize, ToSchema)]
pub struct CountOut {
    pub label: String,
    pub count: u64,
}

#[derive(Serialize, ToSchema)]
pub struct ReportCourseOut {
    pub course: String,
    pub topic: String,
    pub days: String,
    pub participants: i64,
}

#[derive(Serialize, ToSchema)]
pub struct ReportActivityOut {
    pub activity: String,
    pub responsible: String,
    /// dd/mm/yyyy as printed, or empty.
    pub due: String,
    pub done: String,
}

/// The report's sections, as printed.
#[derive(Serialize, ToSchema)]
pub struct PlanReportOut {
    pub issuer: String,
    pub number: String,
    pub place_date: String,
    pub title: String,
    pub period: String,
    pub period_label: String,
    pub indicators: Vec<ReportIndicatorOut>,
    /// Victims received in the period, and their breakdowns.
    pub victims: u64,
    pub victim_breakdowns: Vec<BreakdownOut>,
    pub activities_held: u64,
    pub reached: u64,
    /// Reach by target group, commune and channel.
    pub reach: Vec<BreakdownOut>,
    pub courses: Vec<ReportCourseOut>,
    pub trained: i64,
    pub plan_activities: Vec<ReportActivityOut>,
    /// Nothing was recorded in the period: every figure is zero or without data.
    pub empty: bool,
}

fn out(period: String, r: Report) -> PlanReportOut {
    let counted = |rows: Vec<(String, u64)>| rows.into_iter().map(|(label, count)| CountOut { label, count }).collect();
    PlanReportOut {
        issuer: r.issuer,
        number: r.number,
        place_date: r.place_date,
        title: r.title,
        period,
        period_label: r.period_label,
        indicators: r
            .indicators
            .into_iter()
            .map(|i| ReportIndicatorOut {
                name: i.name,
                definition: i.definition,
                target: i.target,
                result: i.result,
                status: i.status,
            })
            .collect(),
        victims: r.victims,
        victim_breakdowns: r
            .victim_charts
            .into_iter()
            .map(|c| BreakdownOut {
                title: c.title,
                rows: c
                    .rows
                    .into_iter()
                    .map(|(label, shown)| CountOut { label, count: shown.parse().unwrap_or(0) })
                    .collect(),
            })
            .collect(),
        activities_held: r.activities_held,
        reached: r.reached,
        reach: r.reach.into_iter().map(|(title, rows)| BreakdownOut { title, rows: counted(rows) }).collect(),
        courses: r
            .trainings
            .into_iter()
            .map(|(course, topic, days, participants)| ReportCourseOut { course, topic, days, participants })
            .collect(),
        trained: r.trained,
        plan_activities: r
            .plan_activities
            .into_iter()
            .map(|(activity, responsible, due, done)| ReportActivityOut { activity, responsible, due, done })
            .collect(),
        empty: r.empty,
    }
}

/// The periodic report of a plan the caller may read, for a period and the province or one agency.
#[utoipa::path(get, path = "/plans/{id}/report", tag = "plan", params(("id" = String, Path), ReportParams), responses((status = 200, body = PlanReportOut)))]
async fn report(
    State(state): State<AppState>,
    Token(v): Token,
    c: Ctx,
    Path(id): Path<String>,
    Params(p): Params<ReportParams>,
) -> AppResult<Response> {
    let plan = haven_app::plan::get(&state, &v, &id).await?;
    let q = ReportQuery::from(p);
    let (period, agency) = match selection(&state, &plan, &q).await? {
        Ok(s) => s,
        Err((field, key)) => return Ok(invalid(&state, &v, &[(field.to_owned(), key.to_owned())])),
    };
    let r = build(&state, &c, &plan, period, agency.as_ref(), &q.number).await?;
    Ok(ok(out(period.code(), r)))
}

/// The same report as the page's XLSX workbook, one sheet per section; the download is audited.
#[utoipa::path(
    get, path = "/plans/{id}/report/workbook", tag = "plan", params(("id" = String, Path), ReportParams),
    responses((status = 200, description = "The workbook", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = super::FileBytes))
)]
async fn report_workbook(
    State(state): State<AppState>,
    Token(v): Token,
    c: Ctx,
    Path(id): Path<String>,
    Params(p): Params<ReportParams>,
) -> AppResult<Response> {
    let plan = haven_app::plan::get(&state, &v, &id).await?;
    let q = ReportQuery::from(p);
    let (period, agency) = match selection(&state, &plan, &q).await? {
        Ok(s) => s,
        Err((field, key)) => return Ok(invalid(&state, &v, &[(field.to_owned(), key.to_owned())])),
    };
    let r = build(&state, &c, &plan, period, agency.as_ref(), &q.number).await?;
    let bytes = workbook(&c, &r).map_err(|e| AppError::Internal(anyhow::anyhow!("workbook: {e}")))?;
    haven_app::plan::record_report_export(&state, &v, &plan, period, agency.as_ref()).await?;
    let file = format!("bao-cao-{}-{}.xlsx", plan.year, period.code());
    Ok((
        [
            (header::CONTENT_TYPE, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{file}\"")),
        ],
        bytes,
    )
        .into_response())
}
