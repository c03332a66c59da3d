//! Care of a victim: supports given under the regimes of the profile, the person's consents and their
//! withdrawal, protection measures, the reintegration plan's goals and the follow-up visits. The use cases
//! are `haven_app::victims::{support, consent, reintegration}`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use haven_app::victims::{self as app, reintegration};
use haven_store::victims::{ConsentRow, GoalRow, MeasureRow, SupportRow, VisitRow};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::victims::{changed, VictimOut};
use super::{answer, tick, Api, Body};
use crate::ctx::{self as guards};
use crate::error::AppResult;
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(give))
        .routes(routes!(consent))
        .routes(routes!(withdraw))
        .routes(routes!(measure))
        .routes(routes!(goal))
        .routes(routes!(goal_status))
        .routes(routes!(schedule))
        .routes(routes!(visit))
}

#[derive(Serialize, ToSchema)]
pub struct SupportOut {
    /// A regime of the profile (`support-regimes.txt`).
    pub regime: String,
    pub given_on: String,
    pub provider_agency_id: String,
    pub quantity: i64,
    pub amount_vnd: i64,
    /// The person signed for it.
    pub acknowledged: bool,
}

impl From<SupportRow> for SupportOut {
    fn from(s: SupportRow) -> Self {
        SupportOut {
            regime: s.regime,
            given_on: s.given_on,
            provider_agency_id: s.provider_agency_id,
            quantity: s.quantity,
            amount_vnd: s.amount_vnd,
            acknowledged: s.acknowledged,
        }
    }
}

/// A regime the person is entitled to, and how it stands today.
#[derive(Serialize, ToSchema)]
pub struct EntitlementOut {
    pub regime: String,
    /// `not_given`, `given`, `days_left`, `due_by` or `overdue`.
    pub standing: String,
    /// Days left, or the day it is due by.
    pub detail: String,
}

#[derive(Serialize, ToSchema)]
pub struct ConsentOut {
    pub id: String,
    /// `share_agency`, `share_agency_kind`, `statistics`, `contact_family`, ...
    pub purpose: String,
    /// The agency id or kind a sharing consent names.
    pub target: String,
    /// `self` or `representative`.
    pub given_by: String,
    pub given_on: String,
    pub expires_on: Option<String>,
    pub withdrawn_on: Option<String>,
    /// The agency that holds the consent: only it may withdraw it.
    pub agency_id: Option<String>,
}

impl From<ConsentRow> for ConsentOut {
    fn from(c: ConsentRow) -> Self {
        ConsentOut {
            id: c.id,
            purpose: c.purpose,
            target: c.target,
            given_by: c.given_by,
            given_on: c.given_on,
            expires_on: c.expires_on,
            withdrawn_on: c.withdrawn_on,
            agency_id: c.agency_id,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct MeasureOut {
    pub kind: String,
    /// `victim`, `relative`, `child` or `helper`.
    pub for_whom: String,
    pub starts_on: String,
    pub ends_on: Option<String>,
    pub agency_id: String,
}

impl From<MeasureRow> for MeasureOut {
    fn from(m: MeasureRow) -> Self {
        MeasureOut {
            kind: m.kind,
            for_whom: m.for_whom,
            starts_on: m.starts_on,
            ends_on: m.ends_on,
            agency_id: m.agency_id,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct GoalOut {
    pub id: String,
    pub area: String,
    /// `open`, `met` or `dropped`.
    pub status: String,
}

impl From<GoalRow> for GoalOut {
    fn from(g: GoalRow) -> Self {
        GoalOut { id: g.id, area: g.area, status: g.status }
    }
}

#[derive(Serialize, ToSchema)]
pub struct VisitOut {
    pub due_on: String,
    pub visited_on: Option<String>,
    /// `low`, `medium` or `high`, once visited.
    pub risk: Option<String>,
    pub officer: Option<String>,
}

impl From<VisitRow> for VisitOut {
    fn from(v: VisitRow) -> Self {
        VisitOut { due_on: v.due_on, visited_on: v.visited_on, risk: v.risk, officer: v.officer }
    }
}

#[derive(Deserialize, ToSchema)]
pub struct SupportIn {
    pub regime: String,
    pub given_on: String,
    /// Days, meals, ... as the regime counts.
    #[serde(default)]
    pub quantity: u64,
    #[serde(default)]
    pub amount_vnd: u64,
    /// The providing agency (an id); the caller's when omitted.
    #[serde(default)]
    pub provider: String,
    #[serde(default)]
    pub acknowledged: bool,
    #[serde(default)]
    pub note: String,
}

/// Record a support given, within the regime's limits.
#[utoipa::path(post, path = "/victims/{id}/supports", tag = "victims", params(("id" = String, Path)), request_body = SupportIn, responses((status = 200, body = VictimOut)))]
async fn give(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::EditRecords>,
    Path(id): Path<String>,
    Body(s): Body<SupportIn>,
) -> AppResult<Response> {
    let form = app::support::SupportForm {
        regime: s.regime,
        given_on: s.given_on,
        quantity: s.quantity.to_string(),
        amount_vnd: s.amount_vnd.to_string(),
        provider: s.provider,
        acknowledged: tick(s.acknowledged),
        note: s.note,
    };
    let outcome = app::support::give(&state, &v, &id, &form).await?;
    changed(&state, &v, &id, outcome).await
}

#[derive(Deserialize, ToSchema)]
pub struct ConsentIn {
    pub purpose: String,
    /// For `share_agency`: the agency id.
    #[serde(default)]
    pub target_agency: String,
    /// For `share_agency_kind`: the kind.
    #[serde(default)]
    pub target_kind: String,
    /// `self` or `representative` (a child's consent is given by a representative).
    pub given_by: String,
    #[serde(default)]
    pub representative: String,
    pub given_on: String,
    #[serde(default)]
    pub expires_on: String,
}

#[derive(Serialize, ToSchema)]
pub struct ConsentList {
    pub items: Vec<ConsentOut>,
}

async fn consents_of(state: &AppState, v: &crate::ctx::Viewer, id: &str) -> AppResult<ConsentList> {
    let case = app::owned(state, v, id).await?;
    Ok(ConsentList { items: state.store.consents(&case.person_id).await?.into_iter().map(ConsentOut::from).collect() })
}

/// Record the person's consent for a purpose; the answer is the person's consents, in force or not.
#[utoipa::path(post, path = "/victims/{id}/consents", tag = "victims", params(("id" = String, Path)), request_body = ConsentIn, responses((status = 200, body = ConsentList)))]
async fn consent(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::EditRecords>,
    Path(id): Path<String>,
    Body(c): Body<ConsentIn>,
) -> AppResult<Response> {
    let form = app::consent::ConsentForm {
        purpose: c.purpose,
        target_agency: c.target_agency,
        target_kind: c.target_kind,
        given_by: c.given_by,
        representative: c.representative,
        given_on: c.given_on,
        expires_on: c.expires_on,
    };
    let outcome = app::consent::record(&state, &v, &id, &form).await?;
    let (st, viewer) = (&state, &v);
    answer(&state, &v, outcome, StatusCode::OK, |()| async move { consents_of(st, viewer, &id).await }).await
}

/// Withdraw a consent: the access it gave ends at once.
#[utoipa::path(post, path = "/victims/{id}/consents/{consent}/withdrawal", tag = "victims", params(("id" = String, Path), ("consent" = String, Path)), responses((status = 200, body = ConsentList)))]
async fn withdraw(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::EditRecords>,
    Path((id, consent)): Path<(String, String)>,
) -> AppResult<Response> {
    app::consent::withdraw(&state, &v, &id, &consent).await?;
    Ok(super::ok(consents_of(&state, &v, &id).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct MeasureIn {
    pub kind: String,
    /// `victim`, `relative`, `child` or `helper`.
    pub for_whom: String,
    /// Who, for a relative or a helper (sealed).
    #[serde(default)]
    pub relative: String,
    pub starts_on: String,
    #[serde(default)]
    pub ends_on: String,
    /// The protecting agency (an id); the caller's when omitted.
    #[serde(default)]
    pub agency: String,
}

/// Record a protection measure.
#[utoipa::path(post, path = "/victims/{id}/measures", tag = "victims", params(("id" = String, Path)), request_body = MeasureIn, responses((status = 200, body = VictimOut)))]
async fn measure(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::EditRecords>,
    Path(id): Path<String>,
    Body(m): Body<MeasureIn>,
) -> AppResult<Response> {
    let form = reintegration::MeasureForm {
        kind: m.kind,
        for_whom: m.for_whom,
        relative: m.relative,
        starts_on: m.starts_on,
        ends_on: m.ends_on,
        agency: m.agency,
    };
    let outcome = reintegration::add_measure(&state, &v, &id, &form).await?;
    changed(&state, &v, &id, outcome).await
}

#[derive(Deserialize, ToSchema)]
pub struct GoalIn {
    /// `housing`, `health`, `education`, `work`, `family`, `legal`, ...
    pub area: String,
    /// The goal (sealed).
    pub goal: String,
}

/// Add a goal to the reintegration plan.
#[utoipa::path(post, path = "/victims/{id}/goals", tag = "victims", params(("id" = String, Path)), request_body = GoalIn, responses((status = 200, body = VictimOut)))]
async fn goal(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::EditRecords>,
    Path(id): Path<String>,
    Body(g): Body<GoalIn>,
) -> AppResult<Response> {
    let outcome =
        reintegration::add_goal(&state, &v, &id, &reintegration::GoalForm { area: g.area, goal: g.goal }).await?;
    changed(&state, &v, &id, outcome).await
}

#[derive(Deserialize, ToSchema)]
pub struct GoalStatusIn {
    /// `met` or `dropped`.
    pub status: String,
}

/// A goal of the plan is met or dropped.
#[utoipa::path(post, path = "/victims/{id}/goals/{goal}/status", tag = "victims", params(("id" = String, Path), ("goal" = String, Path)), request_body = GoalStatusIn, responses((status = 200, body = VictimOut)))]
async fn goal_status(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::EditRecords>,
    Path((id, goal)): Path<(String, String)>,
    Body(g): Body<GoalStatusIn>,
) -> AppResult<Response> {
    let outcome =
        reintegration::set_goal_status(&state, &v, &id, &goal, &reintegration::GoalStatusForm { status: g.status })
            .await?;
    changed(&state, &v, &id, outcome).await
}

#[derive(Deserialize, ToSchema)]
pub struct ScheduleIn {
    pub first: String,
    pub count: u32,
    /// Months between visits (1 to 12).
    pub months: u32,
}

/// Plan follow-up visits: the first day, how many, and how many months apart.
#[utoipa::path(post, path = "/victims/{id}/visits/schedule", tag = "victims", params(("id" = String, Path)), request_body = ScheduleIn, responses((status = 200, body = VictimOut)))]
async fn schedule(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::EditRecords>,
    Path(id): Path<String>,
    Body(s): Body<ScheduleIn>,
) -> AppResult<Response> {
    let form = reintegration::ScheduleForm { first: s.first, count: s.count.to_string(), months: s.months.to_string() };
    let outcome = reintegration::schedule_visits(&state, &v, &id, &form).await?;
    changed(&state, &v, &id, outcome).await
}

#[derive(Deserialize, ToSchema)]
pub struct VisitIn {
    pub on: String,
    /// `low`, `medium` or `high`.
    pub risk: String,
    /// Sealed.
    #[serde(default)]
    pub note: String,
    #[serde(default)]
    pub officer: String,
}

/// Record a follow-up visit: the earliest planned one not yet made, or one outside the plan.
#[utoipa::path(post, path = "/victims/{id}/visits", tag = "victims", params(("id" = String, Path)), request_body = VisitIn, responses((status = 200, body = VictimOut)))]
async fn visit(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::EditRecords>,
    Path(id): Path<String>,
    Body(x): Body<VisitIn>,
) -> AppResult<Response> {
    let form = reintegration::VisitForm { on: x.on, risk: x.risk, note: x.note, officer: x.officer };
    let outcome = reintegration::record_visit(&state, &v, &id, &form).await?;
    changed(&state, &v, &id, outcome).await
}
