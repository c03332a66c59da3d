//! Periodic reports of a plan (month, quarter, six months, year), for one agency or the province: a printable
//! page in the layout of a Vietnamese administrative report (issuing body and number, the national motto,
//! place and date, title, numbered sections, recipients and signature), and the same report as an XLSX
//! workbook with one sheet per section, both built by `views::plan_report` (which the API shares). Every
//! download is audited.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use haven_domain::plan::{Frequency, ReportPeriod};
use haven_store::plan::PlanRow;
use serde::Deserialize;

use crate::ctx::{CsrfForm, Viewer};
use crate::error::{AppError, AppResult};
use crate::page::{render, Ctx, FormState};
use crate::views::plan::label;
use crate::views::plan_report::{build, selection, workbook, Report, ReportQuery};
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/plans/{id}/report", get(show)).route("/plans/{id}/report.xlsx", post(download))
}

#[derive(Template)]
#[template(path = "plan_report.html")]
struct ReportPage {
    c: Ctx,
    f: FormState,
    plan: PlanRow,
    q: ReportQuery,
    periods: Vec<(String, String)>,
    agencies: Vec<(String, String)>,
    report: Option<Report>,
}

async fn show(
    State(state): State<AppState>,
    v: Viewer,
    c: Ctx,
    Path(id): Path<String>,
    Query(q): Query<ReportQuery>,
) -> AppResult<Response> {
    let plan = haven_app::plan::get(&state, &v, &id).await?;
    let today = state.today();
    let mut periods = Vec::new();
    for freq in [Frequency::Year, Frequency::Half, Frequency::Quarter, Frequency::Month] {
        for p in ReportPeriod::all_in(plan.year, freq).into_iter().filter(|p| p.range().from <= today) {
            periods.push((p.code(), label(&c, p)));
        }
    }
    let agencies = state
        .store
        .agencies()
        .await?
        .iter()
        .filter(|a| a.active)
        .map(|a| (a.code.clone(), c.agency_label(&a.name_vi, &a.name_en).to_owned()))
        .collect();
    let mut f = FormState::default();
    let mut status = StatusCode::OK;
    let report = if q.period.trim().is_empty() {
        None
    } else {
        match selection(&state, &plan, &q).await? {
            Ok((period, agency)) => Some(build(&state, &c, &plan, period, agency.as_ref(), &q.number).await?),
            Err((field, key)) => {
                f.add(field, key);
                status = StatusCode::UNPROCESSABLE_ENTITY;
                None
            }
        }
    };
    Ok(render(status, &ReportPage { c, f, plan, q, periods, agencies, report }))
}

#[derive(Deserialize)]
struct DownloadForm {
    #[serde(default)]
    period: String,
    #[serde(default)]
    agency: String,
    #[serde(default)]
    number: String,
}

async fn download(
    State(state): State<AppState>,
    v: Viewer,
    c: Ctx,
    Path(id): Path<String>,
    CsrfForm(form, _): CsrfForm<DownloadForm>,
) -> AppResult<Response> {
    let plan = haven_app::plan::get(&state, &v, &id).await?;
    let q = ReportQuery { period: form.period, agency: form.agency, number: form.number };
    let (period, agency) = match selection(&state, &plan, &q).await? {
        Ok(s) => s,
        Err(_) => return Err(AppError::BadRequest("period".into())),
    };
    let report = build(&state, &c, &plan, period, agency.as_ref(), &q.number).await?;
    let bytes = workbook(&c, &report).map_err(|e| AppError::Internal(anyhow::anyhow!("workbook: {e}")))?;
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
