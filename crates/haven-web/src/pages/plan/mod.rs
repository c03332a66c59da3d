//! The plan's pages: the plans, a plan with its indicators against their targets for a chosen period with
//! their traffic lights and the victims' breakdowns, the forms of its owner and of the responsible agencies,
//! and one indicator's trend ([`indicator`]). The use cases are `haven_app::plan`.

mod indicator;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use haven_app::plan::{
    self as app, chosen_period, source, ActivityForm, CopyForm, EntryForm, IndicatorForm, IndicatorValue,
    ObjectiveForm, PlanForm,
};
use haven_app::FieldErrors;
use haven_domain::plan::{self as rules, Frequency, Measure, ReportPeriod, Source, Unit};
use haven_domain::reports::indicators::Period;
use haven_domain::Action;
use haven_store::plan::{self as store, PlanRow};
use serde::Deserialize;

use crate::ctx::{Can, CsrfForm, Viewer};
use crate::error::{AppError, AppResult};
use crate::page::{render, Ctx, FormState};
use crate::views::plan::{label, measure_key, victim_charts, Chart};
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/plans", get(list).post(create))
        .route("/plans/{id}", get(show))
        .route("/plans/{id}/objectives", post(objective_create))
        .route("/plans/{id}/activities", post(activity_create))
        .route("/plans/{id}/activities/{activity}/done", post(activity_done))
        .route("/plans/{id}/indicators", post(indicator_create))
        .route("/plans/{id}/indicators/{indicator}", get(indicator::show))
        .route("/plans/{id}/indicators/{indicator}/entries", post(entry_create))
        .route("/plans/{id}/copy", post(copy))
}

async fn agency_names(state: &AppState, c: &Ctx) -> AppResult<Vec<(String, String)>> {
    Ok(state
        .store
        .agencies()
        .await?
        .iter()
        .filter(|a| a.active)
        .map(|a| (a.id.clone(), c.agency_label(&a.name_vi, &a.name_en).to_owned()))
        .collect())
}

// ---------------------------------------------------------------------------------------------------------
// The list of plans

#[derive(Template)]
#[template(path = "plans.html")]
struct PlansPage {
    c: Ctx,
    f: FormState,
    plans: Vec<(PlanRow, String)>,
    can_create: bool,
    this_year: i32,
}

async fn plans_page(state: &AppState, v: &Viewer, c: Ctx, f: FormState, status: StatusCode) -> AppResult<Response> {
    let names = agency_names(state, &c).await?;
    let plans = app::list(state, v)
        .await?
        .into_iter()
        .map(|p| {
            let owner = names.iter().find(|(id, _)| *id == p.owner_agency_id).map(|(_, n)| n.clone());
            (p, owner.unwrap_or_default())
        })
        .collect();
    let page = PlansPage { c, f, plans, can_create: v.can(Action::SuperviseAgency), this_year: state.today().year() };
    Ok(render(status, &page))
}

async fn list(State(state): State<AppState>, v: Viewer, c: Ctx) -> AppResult<Response> {
    app::require_view(&v)?;
    plans_page(&state, &v, c, FormState::default(), StatusCode::OK).await
}

async fn create(
    State(state): State<AppState>,
    Can(v, ..): Can<crate::ctx::SuperviseAgency>,
    c: Ctx,
    CsrfForm(form, pairs): CsrfForm<PlanForm>,
) -> AppResult<Response> {
    match app::create_plan(&state, &v, &form).await? {
        Ok(id) => Ok(Redirect::to(&format!("/plans/{id}?done=plan_created")).into_response()),
        Err(errors) => {
            let f = FormState::with_errors(&pairs, errors);
            plans_page(&state, &v, c, f, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

/// An indicator line on the plan page.
pub struct IndicatorLine {
    pub v: IndicatorValue,
    pub shown: String,
    pub target: String,
    pub definition: String,
    pub responsible: String,
    /// Whether the viewer's agency enters its values, and the periods it may enter.
    pub entry_periods: Vec<String>,
}

pub struct ActivityLine {
    pub a: store::ActivityRow,
    pub responsible: String,
    pub can_mark: bool,
}

pub struct ObjectiveBlock {
    pub o: Option<store::ObjectiveRow>,
    pub indicators: Vec<IndicatorLine>,
    pub activities: Vec<ActivityLine>,
}

#[derive(Template)]
#[template(path = "plan.html")]
struct PlanPage {
    c: Ctx,
    f: FormState,
    plan: PlanRow,
    period: String,
    /// (code, label) of the periods of the plan's year begun so far.
    periods: Vec<(String, String)>,
    blocks: Vec<ObjectiveBlock>,
    can_edit: bool,
    agencies: Vec<(String, String)>,
    objectives: Vec<store::ObjectiveRow>,
    /// (catalogue code, name) of the computed indicators.
    measures: Vec<(&'static str, String)>,
    units: Vec<&'static str>,
    frequencies: Vec<&'static str>,
    /// Victims received in the period, and their breakdowns.
    victims: u64,
    charts: Vec<Chart>,
}

#[derive(Deserialize, Default)]
pub struct PeriodQuery {
    #[serde(default)]
    pub period: String,
}

async fn plan_page(
    state: &AppState,
    v: &Viewer,
    c: Ctx,
    id: &str,
    typed_period: &str,
    mut f: FormState,
    status: StatusCode,
) -> AppResult<Response> {
    let plan = app::get(state, v, id).await?;
    let (period, status) = match chosen_period(&plan, typed_period) {
        Ok(p) => (p, status),
        Err(key) => {
            f.add("period", key);
            (ReportPeriod::year(plan.year).ok_or(AppError::NotFound)?, StatusCode::UNPROCESSABLE_ENTITY)
        }
    };
    let names = agency_names(state, &c).await?;
    let name_of = |id: &str| names.iter().find(|(a, _)| a == id).map(|(_, n)| n.clone()).unwrap_or_default();
    let today = state.today();
    let objectives = state.store.objectives(&plan.id).await?;
    let mut blocks: Vec<ObjectiveBlock> = std::iter::once(None)
        .chain(objectives.iter().cloned().map(Some))
        .map(|o| ObjectiveBlock { o, indicators: Vec::new(), activities: Vec::new() })
        .collect();
    let block_of = |objective: Option<&str>| {
        objective.and_then(|o| objectives.iter().position(|x| x.id == o)).map_or(0, |i| i + 1)
    };
    for i in state.store.plan_indicators(&plan.id).await? {
        let value = app::indicator_value(state, &i, period, None).await?;
        let unit = Unit::from_code(value.unit).unwrap_or(Unit::Count);
        let definition = match source(&i) {
            Source::Computed(m) => c.t(&measure_key(m, "definition")).to_owned(),
            Source::Manual(_) => i.definition.clone().unwrap_or_default(),
        };
        let entry_periods = match (source(&i), Frequency::from_code(&i.frequency)) {
            (Source::Manual(_), Some(freq))
                if i.responsible_agency_id == v.agency.id && v.can(Action::CreateRecords) =>
            {
                ReportPeriod::all_in(plan.year, freq)
                    .into_iter()
                    .filter(|p| p.range().from <= today)
                    .map(|p| p.code())
                    .collect()
            }
            _ => Vec::new(),
        };
        let line = IndicatorLine {
            shown: value.value.map(|x| rules::show(unit, x, c.lang)).unwrap_or_else(|| c.t("plan.no_data").to_owned()),
            target: value.target.map(|t| rules::show(unit, t, c.lang)).unwrap_or_default(),
            responsible: name_of(&i.responsible_agency_id),
            definition,
            entry_periods,
            v: value,
        };
        blocks[block_of(i.objective_id.as_deref())].indicators.push(line);
    }
    for a in state.store.plan_activities(&plan.id).await? {
        let line = ActivityLine {
            responsible: name_of(&a.responsible_agency_id),
            can_mark: a.done_on.is_none() && a.responsible_agency_id == v.agency.id && v.can(Action::EditRecords),
            a,
        };
        blocks[block_of(line.a.objective_id.as_deref())].activities.push(line);
    }
    blocks.retain(|b| b.o.is_some() || !b.indicators.is_empty() || !b.activities.is_empty());
    let mut periods = vec![ReportPeriod::year(plan.year)];
    for freq in [Frequency::Half, Frequency::Quarter, Frequency::Month] {
        periods.extend(ReportPeriod::all_in(plan.year, freq).into_iter().map(Some));
    }
    let periods =
        periods.into_iter().flatten().filter(|p| p.range().from <= today).map(|p| (p.code(), label(&c, p))).collect();
    let range = period.range();
    let (victims, charts) =
        victim_charts(state, &c, Period { from: range.from, to: range.to.min(today) }, None).await?;
    let page = PlanPage {
        victims,
        charts,
        can_edit: app::may_edit(v, &plan),
        period: period.code(),
        periods,
        blocks,
        agencies: names,
        objectives,
        measures: Measure::ALL.iter().map(|m| (m.code(), c.t(&measure_key(*m, "name")).to_owned())).collect(),
        units: Unit::ALL.iter().map(|u| u.code()).collect(),
        frequencies: Frequency::ALL.iter().map(|f| f.code()).collect(),
        c,
        f,
        plan,
    };
    Ok(render(status, &page))
}

async fn show(
    State(state): State<AppState>,
    v: Viewer,
    c: Ctx,
    Path(id): Path<String>,
    Query(q): Query<PeriodQuery>,
) -> AppResult<Response> {
    plan_page(&state, &v, c, &id, &q.period, FormState::default(), StatusCode::OK).await
}

/// After a form on the plan page: back to it, or the page again with the errors.
async fn answer(
    state: &AppState,
    v: &Viewer,
    c: Ctx,
    id: &str,
    result: Result<&'static str, FieldErrors>,
    pairs: &[(String, String)],
) -> AppResult<Response> {
    match result {
        Ok(done) => Ok(Redirect::to(&format!("/plans/{id}?done={done}")).into_response()),
        Err(errors) => {
            let f = FormState::with_errors(pairs, errors);
            let period = f.value("period").to_owned();
            plan_page(state, v, c, id, &period, f, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

/// A form of the plan page: its use case, then [`answer`] with the confirmation it gives.
macro_rules! plan_form {
    ($name:ident, $form:ty, $use_case:path, $done:literal) => {
        async fn $name(
            State(state): State<AppState>,
            v: Viewer,
            c: Ctx,
            Path(id): Path<String>,
            CsrfForm(form, pairs): CsrfForm<$form>,
        ) -> AppResult<Response> {
            let result = $use_case(&state, &v, &id, &form).await?.map(|_| $done);
            answer(&state, &v, c, &id, result, &pairs).await
        }
    };
}

plan_form!(objective_create, ObjectiveForm, app::add_objective, "objective_added");
plan_form!(activity_create, ActivityForm, app::add_activity, "activity_added");
plan_form!(indicator_create, IndicatorForm, app::add_indicator, "indicator_added");

#[derive(Deserialize)]
struct Empty {}

async fn activity_done(
    State(state): State<AppState>,
    Can(v, ..): Can<crate::ctx::EditRecords>,
    Path((id, activity)): Path<(String, String)>,
    CsrfForm(_, _): CsrfForm<Empty>,
) -> AppResult<Response> {
    app::mark_activity_done(&state, &v, &id, &activity).await?;
    Ok(Redirect::to(&format!("/plans/{id}?done=activity_done")).into_response())
}

async fn entry_create(
    State(state): State<AppState>,
    v: Viewer,
    c: Ctx,
    Path((id, indicator)): Path<(String, String)>,
    CsrfForm(form, pairs): CsrfForm<EntryForm>,
) -> AppResult<Response> {
    let result = app::record_entry(&state, &v, &id, &indicator, &form).await?.map(|corrected| {
        if corrected {
            "entry_corrected"
        } else {
            "entry_recorded"
        }
    });
    answer(&state, &v, c, &id, result, &pairs).await
}

async fn copy(
    State(state): State<AppState>,
    v: Viewer,
    c: Ctx,
    Path(id): Path<String>,
    CsrfForm(form, pairs): CsrfForm<CopyForm>,
) -> AppResult<Response> {
    match app::copy_plan(&state, &v, &id, &form).await? {
        Ok(new) => Ok(Redirect::to(&format!("/plans/{new}?done=plan_copied")).into_response()),
        Err(errors) => answer(&state, &v, c, &id, Err(errors), &pairs).await,
    }
}
