//! Prevention activities and training courses, which feed the plan's reach and training indicators. The use
//! cases are `haven_app::prevention` and `haven_app::training`.

use super::Params;
use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use haven_domain::plan::ReportPeriod;
use haven_domain::reports::indicators::Period;
use haven_store::plan::{PreventionRow, TrainingRow};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{answer, ok, Api, Body, Token};
use crate::ctx::{self as guards};
use crate::error::{AppError, AppResult};
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(activities, create_activity))
        .routes(routes!(trainings, create_training))
        .routes(routes!(training))
        .routes(routes!(participant))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct YearQuery {
    /// The year (the current one when omitted).
    pub year: Option<i32>,
}

fn year_of(state: &AppState, q: &YearQuery) -> AppResult<Period> {
    let this_year = state.today().year();
    let year = q.year.unwrap_or(this_year);
    if !(2000..=this_year).contains(&year) {
        return Err(AppError::BadRequest("year".into()));
    }
    let r = ReportPeriod::year(year).ok_or(AppError::BadRequest("year".into()))?.range();
    Ok(Period { from: r.from, to: r.to })
}

#[derive(Serialize, ToSchema)]
pub struct PreventionOut {
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
    pub groups: BTreeMap<String, i64>,
}

impl From<PreventionRow> for PreventionOut {
    fn from(p: PreventionRow) -> Self {
        PreventionOut {
            id: p.id,
            owner_agency_id: p.owner_agency_id,
            title: p.title,
            held_on: p.held_on,
            commune_code: p.commune_code,
            organiser: p.organiser,
            channel: p.channel,
            women: p.women,
            men: p.men,
            materials: p.materials,
            groups: p.groups.into_iter().collect(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct PreventionList {
    pub items: Vec<PreventionOut>,
}

/// Prevention activities held in a year, newest first (at most 1,000).
#[utoipa::path(get, path = "/prevention", tag = "prevention", params(YearQuery), responses((status = 200, body = PreventionList)))]
async fn activities(
    State(state): State<AppState>,
    Token(v): Token,
    Params(q): Params<YearQuery>,
) -> AppResult<Response> {
    haven_app::plan::require_view(&v)?;
    let rows = state.store.prevention_activities(year_of(&state, &q)?, None, 1000).await?;
    Ok(ok(PreventionList { items: rows.into_iter().map(PreventionOut::from).collect() }))
}

/// A prevention activity: numbers as numbers, participants by group as an object of counts.
#[derive(Deserialize, ToSchema)]
pub struct PreventionIn {
    pub title: String,
    pub held_on: String,
    #[serde(default)]
    pub commune_code: String,
    pub organiser: String,
    /// `meeting`, `loudspeaker`, `leaflet`, `social_media`, ...
    pub channel: String,
    #[serde(default)]
    pub women: i64,
    #[serde(default)]
    pub men: i64,
    #[serde(default)]
    pub materials: i64,
    #[serde(default)]
    pub groups: BTreeMap<String, i64>,
}

#[derive(Serialize, ToSchema)]
pub struct RecordCreated {
    pub id: String,
}

/// Record a prevention activity of the caller's agency.
#[utoipa::path(post, path = "/prevention", tag = "prevention", request_body = PreventionIn, responses((status = 201, body = RecordCreated)))]
async fn create_activity(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::CreateRecords>,
    Body(a): Body<PreventionIn>,
) -> AppResult<Response> {
    // The same checks as the page's form: numbers go through as typed, so a negative one is refused alike.
    let form = haven_app::prevention::PreventionForm {
        title: a.title,
        held_on: a.held_on,
        commune_code: a.commune_code,
        organiser: a.organiser,
        channel: a.channel,
        women: a.women.to_string(),
        men: a.men.to_string(),
        materials: a.materials.to_string(),
        groups: a.groups.into_iter().map(|(g, n)| (g, n.to_string())).collect(),
    };
    let outcome = haven_app::prevention::create(&state, &v, &form).await?;
    answer(&state, &v, outcome, StatusCode::CREATED, |id| async move { Ok(RecordCreated { id }) }).await
}

#[derive(Serialize, ToSchema)]
pub struct TrainingOut {
    pub id: String,
    pub owner_agency_id: String,
    pub title: String,
    pub topic: String,
    pub starts_on: String,
    pub ends_on: String,
    pub trainers: String,
    pub participants: i64,
}

impl From<TrainingRow> for TrainingOut {
    fn from(t: TrainingRow) -> Self {
        TrainingOut {
            id: t.id,
            owner_agency_id: t.owner_agency_id,
            title: t.title,
            topic: t.topic,
            starts_on: t.starts_on,
            ends_on: t.ends_on,
            trainers: t.trainers,
            participants: t.participants,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct TrainingList {
    pub items: Vec<TrainingOut>,
}

/// Training courses that ended in a year, newest first (at most 1,000).
#[utoipa::path(get, path = "/training", tag = "training", params(YearQuery), responses((status = 200, body = TrainingList)))]
async fn trainings(
    State(state): State<AppState>,
    Token(v): Token,
    Params(q): Params<YearQuery>,
) -> AppResult<Response> {
    haven_app::plan::require_view(&v)?;
    let rows = state.store.trainings(year_of(&state, &q)?, None, 1000).await?;
    Ok(ok(TrainingList { items: rows.into_iter().map(TrainingOut::from).collect() }))
}

#[derive(Deserialize, ToSchema)]
pub struct TrainingIn {
    pub title: String,
    pub topic: String,
    pub starts_on: String,
    pub ends_on: String,
    pub trainers: String,
}

/// Record a training course of the caller's agency.
#[utoipa::path(post, path = "/training", tag = "training", request_body = TrainingIn, responses((status = 201, body = RecordCreated)))]
async fn create_training(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::CreateRecords>,
    Body(t): Body<TrainingIn>,
) -> AppResult<Response> {
    let form = haven_app::training::TrainingForm {
        title: t.title,
        topic: t.topic,
        starts_on: t.starts_on,
        ends_on: t.ends_on,
        trainers: t.trainers,
    };
    let outcome = haven_app::training::create(&state, &v, &form).await?;
    answer(&state, &v, outcome, StatusCode::CREATED, |id| async move { Ok(RecordCreated { id }) }).await
}

#[derive(Serialize, ToSchema)]
pub struct ParticipantOut {
    pub name: String,
    pub user_id: Option<String>,
    pub agency_id: String,
    pub certificate: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct TrainingDetail {
    pub training: TrainingOut,
    /// Only for the course's own agency: who took part is personal data of the officials.
    pub participants: Option<Vec<ParticipantOut>>,
}

/// A course, with its participants for the course's own agency.
#[utoipa::path(get, path = "/training/{id}", tag = "training", params(("id" = String, Path)), responses((status = 200, body = TrainingDetail)))]
async fn training(State(state): State<AppState>, Token(v): Token, Path(id): Path<String>) -> AppResult<Response> {
    let (t, participants) = haven_app::training::get(&state, &v, &id).await?;
    let participants = participants.map(|ps| {
        ps.into_iter()
            .map(|p| ParticipantOut {
                name: p.name,
                user_id: p.user_id,
                agency_id: p.agency_id,
                certificate: p.certificate,
            })
            .collect()
    });
    Ok(ok(TrainingDetail { training: t.into(), participants }))
}

#[derive(Deserialize, ToSchema)]
pub struct ParticipantIn {
    /// A user of the course's agency, or empty to give a name and an agency.
    #[serde(default)]
    pub user_id: String,
    #[serde(default)]
    pub full_name: String,
    #[serde(default)]
    pub agency: String,
    #[serde(default)]
    pub certificate: String,
}

#[derive(Serialize, ToSchema)]
pub struct Added {
    pub added: bool,
}

/// Add a participant to a course of the caller's agency.
#[utoipa::path(post, path = "/training/{id}/participants", tag = "training", params(("id" = String, Path)), request_body = ParticipantIn, responses((status = 200, body = Added)))]
async fn participant(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::CreateRecords>,
    Path(id): Path<String>,
    Body(p): Body<ParticipantIn>,
) -> AppResult<Response> {
    let form = haven_app::training::ParticipantForm {
        user_id: p.user_id,
        full_name: p.full_name,
        agency: p.agency,
        certificate: p.certificate,
    };
    let outcome = haven_app::training::add_participant(&state, &v, &id, &form).await?;
    answer(&state, &v, outcome, StatusCode::OK, |added| async move { Ok(Added { added }) }).await
}
