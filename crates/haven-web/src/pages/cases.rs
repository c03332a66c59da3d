//! Criminal cases: opened from a report settled by a decision to initiate, followed through investigation,
//! prosecution and trial, with a timeline from the first report to the judgment; and the plan's indicator
//! dashboard, which reads reports and cases together.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use haven_domain::cases::Stage;
use haven_domain::format::{parse_date, Lang};
use haven_domain::reports::indicators::{self, IndicatorId, Period};
use haven_store::cases::{self, CaseRow, NewCase, KIND};
use serde::Deserialize;
use time::{Date, Month};

use crate::ctx::{self as guards, Can, CsrfForm, Viewer};
use crate::error::{AppError, AppResult};
use crate::page::{ok, render, Ctx, FormState};
use crate::pages::reports::today;
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/reports/{id}/open-case", post(open_case))
        .route("/cases", get(list))
        .route("/cases/{id}", get(show))
        .route("/cases/{id}/stage", post(stage))
        .route("/indicators", get(dashboard))
}

fn display(d: &str) -> String {
    parse_date(d).map(haven_domain::format::date).unwrap_or_default()
}

#[derive(Deserialize)]
struct OpenCaseForm {
    case_number: String,
}

async fn open_case(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::EditRecords>,
    Path(report_id): Path<String>,
    CsrfForm(form, _): CsrfForm<OpenCaseForm>,
) -> AppResult<Response> {
    let r = state.store.report(&report_id).await?.ok_or(AppError::NotFound)?;
    if r.owner_agency_id != viewer.agency.id {
        return Err(AppError::Forbidden);
    }
    if let Some(existing) = state.store.case_of_report(&report_id).await? {
        return Ok(Redirect::to(&format!("/cases/{existing}")).into_response());
    }
    let (Some("initiate"), Some(decided), Some(offence)) =
        (r.decision_kind.as_deref(), r.decision_on.as_deref().and_then(parse_date), r.offence_code.as_deref())
    else {
        return Err(AppError::BadRequest("report not settled by a decision to initiate".into()));
    };
    let number = form.case_number.trim();
    if number.is_empty() || number.chars().count() > 100 {
        return Ok(Redirect::to(&format!("/reports/{report_id}?done=case_number_missing#open-case")).into_response());
    }
    let mut cmd = state.store.command(&viewer.actor()).await?;
    let ids = [report_id.clone()];
    let id = cases::open(
        &mut cmd,
        &viewer.agency.id,
        &NewCase { case_number: number, offence_code: offence, opened_on: decided, report_ids: &ids },
    )
    .await?;
    cmd.commit().await?;
    Ok(Redirect::to(&format!("/cases/{id}?done=case_opened")).into_response())
}

pub struct CaseLine {
    pub c: CaseRow,
    pub opened: String,
    pub stage: String,
}

fn case_line(c: CaseRow) -> CaseLine {
    let stage = c.stages.last().map(|(s, _)| s.clone()).unwrap_or_else(|| "opened".into());
    CaseLine { opened: display(&c.opened_on), stage, c }
}

#[derive(Template)]
#[template(path = "cases.html")]
struct ListPage {
    c: Ctx,
    lines: Vec<CaseLine>,
}

async fn list(State(state): State<AppState>, Can(viewer, ..): Can<guards::ViewRecords>, c: Ctx) -> AppResult<Response> {
    let lines = state.store.cases_of_agency(&viewer.agency.id, 200).await?.into_iter().map(case_line).collect();
    Ok(ok(&ListPage { c, lines }))
}

/// One step of the chain from the first report to the judgment.
pub struct Step {
    pub on: String,
    pub sort: String,
    pub key: String,
    pub detail: String,
}

#[derive(Template)]
#[template(path = "case.html")]
struct CasePage {
    c: Ctx,
    f: FormState,
    l: CaseLine,
    offence: String,
    timeline: Vec<Step>,
    can_edit: bool,
    stages: Vec<&'static str>,
}

async fn load(state: &AppState, viewer: &Viewer, id: &str) -> AppResult<CaseRow> {
    let c = state.store.case(id).await?.ok_or(AppError::NotFound)?;
    if !crate::pages::record_access(state, viewer, KIND, id, &c.owner_agency_id).await?.allowed() {
        return Err(AppError::Forbidden);
    }
    Ok(c)
}

async fn page(
    state: &AppState,
    viewer: &Viewer,
    c: Ctx,
    case: CaseRow,
    f: FormState,
    status: StatusCode,
) -> AppResult<Response> {
    let mut timeline = Vec::new();
    for report_id in state.store.reports_of_case(&case.id).await? {
        let Some(r) = state.store.report(&report_id).await? else { continue };
        timeline.push(Step {
            sort: r.received_on.clone(),
            on: display(&r.received_on),
            key: format!("report_kind.{}", r.kind),
            detail: r.case_code.clone(),
        });
        for e in state.store.report_events(&report_id).await? {
            let code = e.event.code();
            let d = e.event.date();
            let iso = format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day());
            timeline.push(Step {
                on: display(&iso),
                sort: iso,
                key: format!("clock_event.{code}"),
                detail: r.case_code.clone(),
            });
        }
        if let (Some(k), Some(on)) = (&r.decision_kind, &r.decision_on) {
            timeline.push(Step {
                on: display(on),
                sort: on.clone(),
                key: format!("decision.{k}"),
                detail: r.decision_number.clone().unwrap_or_default(),
            });
        }
    }
    timeline.push(Step {
        on: display(&case.opened_on),
        sort: case.opened_on.clone(),
        key: "stage.opened".into(),
        detail: case.case_number.clone(),
    });
    for (s, d) in &case.stages {
        timeline.push(Step { on: display(d), sort: d.clone(), key: format!("stage.{s}"), detail: String::new() });
    }
    // A stable sort keeps same-day steps in the order of the procedure.
    timeline.sort_by(|a, b| a.sort.cmp(&b.sort));
    let offence = state
        .profile
        .offences
        .iter()
        .find(|o| o.code == case.offence_code)
        .map(|o| if c.lang == Lang::En { o.name_en.clone() } else { o.name_vi.clone() })
        .unwrap_or_else(|| case.offence_code.clone());
    let can_edit = case.owner_agency_id == viewer.agency.id && viewer.can(haven_domain::Action::EditRecords);
    let page = CasePage {
        c,
        f,
        l: case_line(case),
        offence,
        timeline,
        can_edit,
        stages: Stage::ALL.iter().map(|s| s.code()).collect(),
    };
    Ok(render(status, &page))
}

async fn show(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::ViewRecords>,
    c: Ctx,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let case = load(&state, &viewer, &id).await?;
    page(&state, &viewer, c, case, FormState::default(), StatusCode::OK).await
}

#[derive(Deserialize)]
struct StageForm {
    stage: String,
    on: String,
    #[serde(default)]
    reason: String,
}

async fn stage(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::EditRecords>,
    c: Ctx,
    Path(id): Path<String>,
    CsrfForm(form, pairs): CsrfForm<StageForm>,
) -> AppResult<Response> {
    let case = state.store.case(&id).await?.ok_or(AppError::NotFound)?;
    if case.owner_agency_id != viewer.agency.id {
        return Err(AppError::Forbidden);
    }
    let mut f = FormState::from_pairs(&pairs);
    let stage = Stage::from_code(&form.stage);
    let on = parse_date(&form.on);
    let reason = form.reason.trim();
    match (stage, on) {
        (None, _) => f.add("stage", "error.choice"),
        (_, None) => f.add("stage_on", "error.date"),
        (Some(Stage::Closed), _) if reason.chars().count() < 5 => f.add("stage_reason", "error.intake_reason"),
        (Some(s), Some(d)) => {
            if let Err(e) = case.progress().check(s, d, today(&state)) {
                f.add("stage", e.key());
            }
        }
    }
    let (Some(stage), Some(on), false) = (stage, on, f.has_errors()) else {
        return page(&state, &viewer, c, case, f, StatusCode::UNPROCESSABLE_ENTITY).await;
    };
    let mut cmd = state.store.command(&viewer.actor()).await?;
    cases::record_stage(&mut cmd, &id, stage, on, (stage == Stage::Closed).then_some(reason)).await?;
    cmd.commit().await?;
    Ok(Redirect::to(&format!("/cases/{id}?done=stage_recorded")).into_response())
}

pub struct IndicatorLine {
    pub code: &'static str,
    pub numerator: u64,
    pub denominator: u64,
    pub percent: String,
    pub target: String,
    pub status: &'static str,
}

#[derive(Template)]
#[template(path = "indicators.html")]
struct Dashboard {
    c: Ctx,
    year: i32,
    years: Vec<i32>,
    lines: Vec<IndicatorLine>,
}

#[derive(Deserialize)]
struct DashboardQuery {
    year: Option<i32>,
}

async fn dashboard(
    State(state): State<AppState>,
    Can(..): Can<guards::ViewAggregates>,
    c: Ctx,
    Query(q): Query<DashboardQuery>,
) -> AppResult<Response> {
    let this_year = today(&state).year();
    let year = q.year.filter(|y| (2000..=this_year).contains(y)).unwrap_or(this_year);
    let (from, to) =
        (Date::from_calendar_date(year, Month::January, 1), Date::from_calendar_date(year, Month::December, 31));
    let (Ok(from), Ok(to)) = (from, to) else { return Err(AppError::BadRequest("year".into())) };
    let period = Period { from, to: to.min(today(&state)) };
    let counts = state.store.indicator_counts(period, None).await?;
    let lang = c.lang;
    let lines = IndicatorId::ALL
        .into_iter()
        .zip(counts)
        .map(|(id, (n, d))| indicators::Count { id, numerator: n.max(0) as u64, denominator: d.max(0) as u64 })
        .map(|v| {
            let (target, strictly) = v.id.target();
            IndicatorLine {
                code: v.id.code(),
                numerator: v.numerator,
                denominator: v.denominator,
                percent: v.per_mille().map(|p| percent(p, lang)).unwrap_or_else(|| "—".into()),
                target: format!("{}{}", if strictly { "> " } else { "" }, percent(target, lang)),
                status: match v.meets_target() {
                    Some(true) => "met",
                    Some(false) => "missed",
                    None => "no_data",
                },
            }
        })
        .collect();
    Ok(ok(&Dashboard { c, year, years: (this_year - 4..=this_year).rev().collect(), lines }))
}

/// A per-mille share written as a percentage with one decimal, in the page's language.
fn percent(per_mille: u32, lang: Lang) -> String {
    let (whole, tenth) = (per_mille / 10, per_mille % 10);
    let sep = if lang == Lang::Vi { ',' } else { '.' };
    if tenth == 0 {
        format!("{whole}%")
    } else {
        format!("{whole}{sep}{tenth}%")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::I18n;
    use haven_domain::reports::indicators::IndicatorId;

    #[test]
    fn stages_indicators_and_statuses_are_translated() {
        let i = I18n::embedded();
        let mut keys: Vec<String> = Stage::ALL.iter().map(|s| format!("stage.{}", s.code())).collect();
        keys.push("stage.opened".into());
        for id in IndicatorId::ALL {
            keys.push(format!("indicator.{}.name", id.code()));
            keys.push(format!("indicator.{}.definition", id.code()));
        }
        keys.extend(["met", "missed", "no_data"].map(|s| format!("indicator_status.{s}")));
        for lang in [Lang::Vi, Lang::En] {
            for k in &keys {
                assert_ne!(i.get(lang, k), k.as_str(), "{k} in {lang:?}");
            }
        }
    }

    #[test]
    fn percentages_in_each_language() {
        assert_eq!(percent(905, Lang::Vi), "90,5%");
        assert_eq!(percent(905, Lang::En), "90.5%");
        assert_eq!(percent(1000, Lang::Vi), "100%");
    }
}
