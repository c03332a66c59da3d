//! The training pages: the courses of the year, a course with its participants (names for the course's own
//! agency only), and the forms to record them. The use cases are `haven_app::training`.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use haven_app::plan::require_view;
use haven_app::training::{self as app, ParticipantForm, TrainingForm};
use haven_domain::format::{date as show_date, parse_date};
use haven_domain::plan::{self as rules, ReportPeriod, TRAINING_TOPICS};
use haven_domain::Action;
use haven_store::plan::TrainingRow;
use serde::Deserialize;

use crate::ctx::{Can, CsrfForm, Viewer};
use crate::error::AppResult;
use crate::page::{render, Ctx, FormState};
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/training", get(trainings).post(training_create))
        .route("/training/{id}", get(training_show))
        .route("/training/{id}/participants", post(participant_create))
}

#[derive(Deserialize, Default)]
pub struct YearQuery {
    pub year: Option<i32>,
}

fn year_of(state: &AppState, q: &YearQuery) -> ReportPeriod {
    let this_year = state.today().year();
    let year = q.year.filter(|y| (2000..=this_year).contains(y)).unwrap_or(this_year);
    ReportPeriod::year(year).unwrap_or(ReportPeriod { year: this_year, frequency: rules::Frequency::Year, index: 1 })
}

pub struct TrainingLine {
    pub t: TrainingRow,
    pub days: String,
}

fn training_line(t: TrainingRow) -> TrainingLine {
    let show = |d: &str| parse_date(d).map(show_date).unwrap_or_default();
    TrainingLine { days: format!("{} – {}", show(&t.starts_on), show(&t.ends_on)), t }
}

#[derive(Template)]
#[template(path = "trainings.html")]
struct TrainingsPage {
    c: Ctx,
    f: FormState,
    year: i32,
    years: Vec<i32>,
    trainings: Vec<TrainingLine>,
    trained: i64,
    can_create: bool,
    topics: &'static [&'static str],
}

async fn trainings_page(
    state: &AppState,
    v: &Viewer,
    c: Ctx,
    q: &YearQuery,
    f: FormState,
    status: StatusCode,
) -> AppResult<Response> {
    let period = year_of(state, q);
    let trainings: Vec<TrainingLine> =
        state.store.trainings(period.range(), None, 200).await?.into_iter().map(training_line).collect();
    let trained = trainings.iter().map(|t| t.t.participants).sum();
    let this_year = state.today().year();
    let page = TrainingsPage {
        year: period.year,
        years: (this_year - 4..=this_year).rev().collect(),
        trainings,
        trained,
        can_create: v.can(Action::CreateRecords),
        topics: TRAINING_TOPICS,
        c,
        f,
    };
    Ok(render(status, &page))
}

async fn trainings(
    State(state): State<AppState>,
    v: Viewer,
    c: Ctx,
    Query(q): Query<YearQuery>,
) -> AppResult<Response> {
    require_view(&v)?;
    trainings_page(&state, &v, c, &q, FormState::default(), StatusCode::OK).await
}

async fn training_create(
    State(state): State<AppState>,
    Can(v, ..): Can<crate::ctx::CreateRecords>,
    c: Ctx,
    CsrfForm(form, pairs): CsrfForm<TrainingForm>,
) -> AppResult<Response> {
    match app::create(&state, &v, &form).await? {
        Ok(id) => Ok(Redirect::to(&format!("/training/{id}?done=training_recorded")).into_response()),
        Err(errors) => {
            let f = FormState::with_errors(&pairs, errors);
            trainings_page(&state, &v, c, &YearQuery::default(), f, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

#[derive(Template)]
#[template(path = "training.html")]
struct TrainingPage {
    c: Ctx,
    f: FormState,
    t: TrainingLine,
    /// (name, agency, certificate); names only for the course's agency.
    participants: Vec<(String, String, String)>,
    can_add: bool,
    agencies: Vec<(String, String)>,
    users: Vec<(String, String)>,
}

async fn training_page(
    state: &AppState,
    v: &Viewer,
    c: Ctx,
    id: &str,
    f: FormState,
    status: StatusCode,
) -> AppResult<Response> {
    let (t, participants) = app::get(state, v, id).await?;
    let own = t.owner_agency_id == v.agency.id;
    let agencies: Vec<(String, String)> = state
        .store
        .agencies()
        .await?
        .iter()
        .filter(|a| a.active)
        .map(|a| (a.id.clone(), c.agency_label(&a.name_vi, &a.name_en).to_owned()))
        .collect();
    let agency_name = |id: &str| agencies.iter().find(|(a, _)| a == id).map(|(_, n)| n.clone()).unwrap_or_default();
    let participants = participants
        .unwrap_or_default()
        .into_iter()
        .map(|p| (p.name, agency_name(&p.agency_id), p.certificate.unwrap_or_default()))
        .collect();
    let users = if own {
        state.store.users(Some(&v.agency.id)).await?.into_iter().map(|u| (u.id, u.display_name)).collect()
    } else {
        Vec::new()
    };
    let page = TrainingPage {
        t: training_line(t),
        participants,
        can_add: own && v.can(Action::CreateRecords),
        agencies,
        users,
        c,
        f,
    };
    Ok(render(status, &page))
}

async fn training_show(
    State(state): State<AppState>,
    v: Viewer,
    c: Ctx,
    Path(id): Path<String>,
) -> AppResult<Response> {
    require_view(&v)?;
    training_page(&state, &v, c, &id, FormState::default(), StatusCode::OK).await
}

async fn participant_create(
    State(state): State<AppState>,
    Can(v, ..): Can<crate::ctx::CreateRecords>,
    c: Ctx,
    Path(id): Path<String>,
    CsrfForm(form, pairs): CsrfForm<ParticipantForm>,
) -> AppResult<Response> {
    match app::add_participant(&state, &v, &id, &form).await? {
        Ok(_) => Ok(Redirect::to(&format!("/training/{id}?done=participant_added")).into_response()),
        Err(errors) => {
            let f = FormState::with_errors(&pairs, errors);
            training_page(&state, &v, c, &id, f, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}
