//! The province's plan: plans with objectives, activities and indicators for a period (the same figures as
//! the plan page and the periodic reports), the owner's edits, values entered by hand, and a plan copied to
//! the next year; prevention activities and training courses. The use cases are `haven_app::plan`,
//! `haven_app::prevention` and `haven_app::training`.

use super::Params;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use haven_app::plan as app;
use haven_domain::plan::{Frequency, ReportPeriod};
use haven_store::plan::{ActivityRow, ObjectiveRow, PlanRow};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{answer, instant, invalid, ok, Api, Body, Token};
use crate::ctx::{self as guards};
use crate::error::AppResult;
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get))
        .routes(routes!(objective))
        .routes(routes!(activity))
        .routes(routes!(activity_done))
        .routes(routes!(indicator))
        .routes(routes!(trend))
        .routes(routes!(entry))
        .routes(routes!(copy))
}

#[derive(Serialize, ToSchema)]
pub struct PlanOut {
    pub id: String,
    pub owner_agency_id: String,
    pub name: String,
    pub year: i32,
    pub copied_from: Option<String>,
    pub created_at: String,
}

impl From<PlanRow> for PlanOut {
    fn from(p: PlanRow) -> Self {
        PlanOut {
            id: p.id,
            owner_agency_id: p.owner_agency_id,
            name: p.name,
            year: p.year,
            copied_from: p.copied_from,
            created_at: instant(p.created_at),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct PlanList {
    pub items: Vec<PlanOut>,
}

/// Every plan, newest year first (for analysts and the agencies' staff who report into them).
#[utoipa::path(get, path = "/plans", tag = "plan", responses((status = 200, body = PlanList)))]
async fn list(State(state): State<AppState>, Token(v): Token) -> AppResult<Response> {
    Ok(ok(PlanList { items: app::list(&state, &v).await?.into_iter().map(PlanOut::from).collect() }))
}

#[derive(Deserialize, ToSchema)]
pub struct PlanIn {
    pub name: String,
    pub year: i32,
}

/// Create a plan for the caller's agency (its head).
#[utoipa::path(post, path = "/plans", tag = "plan", request_body = PlanIn, responses((status = 201, body = PlanOut)))]
async fn create(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::SuperviseAgency>,
    Body(p): Body<PlanIn>,
) -> AppResult<Response> {
    let outcome = app::create_plan(&state, &v, &app::PlanForm { name: p.name, year: p.year.to_string() }).await?;
    let (st, viewer) = (&state, &v);
    answer(
        &state,
        &v,
        outcome,
        StatusCode::CREATED,
        |id| async move { Ok(PlanOut::from(app::get(st, viewer, &id).await?)) },
    )
    .await
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PeriodQuery {
    /// A period of the plan's year: `2026`, `2026-H1`, `2026-Q3`, `2026-M07`; the year when omitted.
    #[serde(default)]
    pub period: String,
}

/// An indicator for a period.
#[derive(Serialize, ToSchema)]
pub struct PlanIndicatorOut {
    pub id: String,
    pub name: String,
    /// The catalogue code, or `manual` for one entered by hand.
    pub measure: String,
    /// `count`, `percent` (in per mille) or `people`.
    pub unit: String,
    pub value: Option<u64>,
    pub numerator: Option<u64>,
    pub denominator: Option<u64>,
    pub target: Option<u64>,
    /// `met`, `on_track`, `behind`, `missed` or `unknown`.
    pub status: String,
    pub responsible_agency_id: String,
    /// `year`, `half`, `quarter` or `month`.
    pub frequency: String,
}

impl From<app::IndicatorValue> for PlanIndicatorOut {
    fn from(i: app::IndicatorValue) -> Self {
        PlanIndicatorOut {
            id: i.id,
            name: i.name,
            measure: i.measure,
            unit: i.unit.to_owned(),
            value: i.value,
            numerator: i.numerator,
            denominator: i.denominator,
            target: i.target,
            status: i.status.to_owned(),
            responsible_agency_id: i.responsible_agency_id,
            frequency: i.frequency,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ObjectiveOut {
    pub id: String,
    pub position: i64,
    pub title: String,
}

impl From<ObjectiveRow> for ObjectiveOut {
    fn from(o: ObjectiveRow) -> Self {
        ObjectiveOut { id: o.id, position: o.position, title: o.title }
    }
}

#[derive(Serialize, ToSchema)]
pub struct PlanActivityOut {
    pub id: String,
    pub objective_id: Option<String>,
    pub title: String,
    pub responsible_agency_id: String,
    pub due_on: Option<String>,
    pub done_on: Option<String>,
}

impl From<ActivityRow> for PlanActivityOut {
    fn from(a: ActivityRow) -> Self {
        PlanActivityOut {
            id: a.id,
            objective_id: a.objective_id,
            title: a.title,
            responsible_agency_id: a.responsible_agency_id,
            due_on: a.due_on,
            done_on: a.done_on,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct PlanDetail {
    pub plan: PlanOut,
    pub period: String,
    pub objectives: Vec<ObjectiveOut>,
    pub activities: Vec<PlanActivityOut>,
    pub indicators: Vec<PlanIndicatorOut>,
}

/// A plan with its objectives, activities and each indicator's figure for a period against its target.
#[utoipa::path(get, path = "/plans/{id}", tag = "plan", params(("id" = String, Path), PeriodQuery), responses((status = 200, body = PlanDetail)))]
async fn get(
    State(state): State<AppState>,
    Token(v): Token,
    Path(id): Path<String>,
    Params(q): Params<PeriodQuery>,
) -> AppResult<Response> {
    let p = app::get(&state, &v, &id).await?;
    let period = match app::chosen_period(&p, &q.period) {
        Ok(period) => period,
        Err(key) => return Ok(invalid(&state, &v, &[("period".to_owned(), key.to_owned())])),
    };
    let mut indicators = Vec::new();
    for i in state.store.plan_indicators(&p.id).await? {
        indicators.push(PlanIndicatorOut::from(app::indicator_value(&state, &i, period, None).await?));
    }
    let objectives = state.store.objectives(&p.id).await?.into_iter().map(ObjectiveOut::from).collect();
    let activities = state.store.plan_activities(&p.id).await?.into_iter().map(PlanActivityOut::from).collect();
    Ok(ok(PlanDetail { plan: p.into(), period: period.code(), objectives, activities, indicators }))
}

#[derive(Serialize, ToSchema)]
pub struct PlanPartCreated {
    pub id: String,
}

#[derive(Deserialize, ToSchema)]
pub struct ObjectiveIn {
    pub title: String,
}

/// Add an objective to a plan of the caller's agency (its head).
#[utoipa::path(post, path = "/plans/{id}/objectives", tag = "plan", params(("id" = String, Path)), request_body = ObjectiveIn, responses((status = 201, body = PlanPartCreated)))]
async fn objective(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::SuperviseAgency>,
    Path(id): Path<String>,
    Body(o): Body<ObjectiveIn>,
) -> AppResult<Response> {
    let outcome = app::add_objective(&state, &v, &id, &app::ObjectiveForm { title: o.title }).await?;
    answer(&state, &v, outcome, StatusCode::CREATED, |id| async move { Ok(PlanPartCreated { id }) }).await
}

#[derive(Deserialize, ToSchema)]
pub struct ActivityIn {
    pub title: String,
    #[serde(default)]
    pub objective_id: String,
    /// The responsible agency's id.
    pub responsible: String,
    /// A day of the plan's year.
    #[serde(default)]
    pub due_on: String,
}

/// Add an activity to a plan of the caller's agency (its head).
#[utoipa::path(post, path = "/plans/{id}/activities", tag = "plan", params(("id" = String, Path)), request_body = ActivityIn, responses((status = 201, body = PlanPartCreated)))]
async fn activity(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::SuperviseAgency>,
    Path(id): Path<String>,
    Body(a): Body<ActivityIn>,
) -> AppResult<Response> {
    let form = app::ActivityForm {
        title: a.title,
        objective_id: a.objective_id,
        responsible: a.responsible,
        due_on: a.due_on,
    };
    let outcome = app::add_activity(&state, &v, &id, &form).await?;
    answer(&state, &v, outcome, StatusCode::CREATED, |id| async move { Ok(PlanPartCreated { id }) }).await
}

#[derive(Serialize, ToSchema)]
pub struct PlanActivityList {
    pub items: Vec<PlanActivityOut>,
}

/// The responsible agency marks an activity done, today.
#[utoipa::path(post, path = "/plans/{id}/activities/{activity}/done", tag = "plan", params(("id" = String, Path), ("activity" = String, Path)), responses((status = 200, body = PlanActivityList)))]
async fn activity_done(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::EditRecords>,
    Path((id, activity)): Path<(String, String)>,
) -> AppResult<Response> {
    app::mark_activity_done(&state, &v, &id, &activity).await?;
    Ok(ok(PlanActivityList {
        items: state.store.plan_activities(&id).await?.into_iter().map(PlanActivityOut::from).collect(),
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct IndicatorIn {
    pub name: String,
    #[serde(default)]
    pub objective_id: String,
    /// A catalogue code, or `manual`.
    pub measure: String,
    /// For `manual`: `count`, `percent` or `people`.
    #[serde(default)]
    pub unit: String,
    /// For `manual`: what is counted.
    #[serde(default)]
    pub definition: String,
    /// As people write it (`90%`, `700`); the catalogue's default when omitted.
    #[serde(default)]
    pub target: String,
    /// `year`, `half`, `quarter` or `month`.
    pub frequency: String,
    /// The responsible agency's id.
    pub responsible: String,
}

/// Add an indicator to a plan of the caller's agency (its head).
#[utoipa::path(post, path = "/plans/{id}/indicators", tag = "plan", params(("id" = String, Path)), request_body = IndicatorIn, responses((status = 201, body = PlanPartCreated)))]
async fn indicator(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::SuperviseAgency>,
    Path(id): Path<String>,
    Body(i): Body<IndicatorIn>,
) -> AppResult<Response> {
    let form = app::IndicatorForm {
        name: i.name,
        objective_id: i.objective_id,
        measure: i.measure,
        unit: i.unit,
        definition: i.definition,
        target: i.target,
        frequency: i.frequency,
        responsible: i.responsible,
    };
    let outcome = app::add_indicator(&state, &v, &id, &form).await?;
    answer(&state, &v, outcome, StatusCode::CREATED, |id| async move { Ok(PlanPartCreated { id }) }).await
}

#[derive(Serialize, ToSchema)]
pub struct MonthOut {
    /// `2026-M03`.
    pub period: String,
    pub value: Option<u64>,
}

#[derive(Serialize, ToSchema)]
pub struct TrendOut {
    pub indicator: PlanIndicatorOut,
    /// The figure month by month over the plan's year.
    pub months: Vec<MonthOut>,
}

/// An indicator's figure for the year and month by month.
#[utoipa::path(get, path = "/plans/{id}/indicators/{indicator}", tag = "plan", params(("id" = String, Path), ("indicator" = String, Path)), responses((status = 200, body = TrendOut)))]
async fn trend(
    State(state): State<AppState>,
    Token(v): Token,
    Path((id, indicator)): Path<(String, String)>,
) -> AppResult<Response> {
    let (plan, i) = app::indicator(&state, &v, &id, &indicator).await?;
    let year = ReportPeriod::year(plan.year).ok_or(crate::error::AppError::NotFound)?;
    let values = app::monthly(&state, &plan, &i).await?;
    let months = ReportPeriod::all_in(plan.year, Frequency::Month)
        .into_iter()
        .zip(values)
        .map(|(m, value)| MonthOut { period: m.code(), value })
        .collect();
    let indicator = PlanIndicatorOut::from(app::indicator_value(&state, &i, year, None).await?);
    Ok(ok(TrendOut { indicator, months }))
}

#[derive(Deserialize, ToSchema)]
pub struct EntryIn {
    /// A period of the indicator's frequency in the plan's year, begun: `2026-Q2`.
    pub entry_period: String,
    /// As people write it (`85%`, `12`).
    pub value: String,
    #[serde(default)]
    pub note: String,
}

#[derive(Serialize, ToSchema)]
pub struct EntryRecorded {
    /// An earlier value for the period was corrected.
    pub corrected: bool,
}

/// Record the value of an indicator entered by hand (the responsible agency).
#[utoipa::path(post, path = "/plans/{id}/indicators/{indicator}/entries", tag = "plan", params(("id" = String, Path), ("indicator" = String, Path)), request_body = EntryIn, responses((status = 200, body = EntryRecorded)))]
async fn entry(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::CreateRecords>,
    Path((id, indicator)): Path<(String, String)>,
    Body(e): Body<EntryIn>,
) -> AppResult<Response> {
    let form = app::EntryForm { entry_period: e.entry_period, value: e.value, note: e.note };
    let outcome = app::record_entry(&state, &v, &id, &indicator, &form).await?;
    answer(&state, &v, outcome, StatusCode::OK, |corrected| async move { Ok(EntryRecorded { corrected }) }).await
}

#[derive(Deserialize, ToSchema)]
pub struct CopyIn {
    pub name: String,
    pub year: i32,
}

/// Copy a plan of the caller's agency to another year: objectives, open activities and indicators.
#[utoipa::path(post, path = "/plans/{id}/copy", tag = "plan", params(("id" = String, Path)), request_body = CopyIn, responses((status = 201, body = PlanOut)))]
async fn copy(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::SuperviseAgency>,
    Path(id): Path<String>,
    Body(c): Body<CopyIn>,
) -> AppResult<Response> {
    let outcome = app::copy_plan(&state, &v, &id, &app::CopyForm { name: c.name, year: c.year.to_string() }).await?;
    let (st, viewer) = (&state, &v);
    answer(&state, &v, outcome, StatusCode::CREATED, |new| async move {
        Ok(PlanOut::from(app::get(st, viewer, &new).await?))
    })
    .await
}
