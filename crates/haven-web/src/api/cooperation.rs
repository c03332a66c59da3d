//! International cooperation: an agency's requests to and from foreign authorities and overseas missions,
//! the counts awaiting an answer and overdue, a request with its linked records and its sealed text opened by
//! the agency that made it, the answer and the withdrawal. The use cases are `haven_app::cooperation`.

use super::Params;
use axum::extract::{Path, State};
use axum::response::Response;
use haven_app::cooperation::{self as app, NOT_AWAITING};
use haven_store::cooperation::RequestRow;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{conflict, instant, invalid, ok, Api, Body, Cursor};
use crate::ctx::{self as guards, Viewer};
use crate::error::AppResult;
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get))
        .routes(routes!(answer))
        .routes(routes!(withdraw))
}

#[derive(Serialize, ToSchema)]
pub struct RequestOut {
    pub id: String,
    pub case_code: String,
    pub owner_agency_id: String,
    /// `outgoing` or `incoming`.
    pub direction: String,
    /// `verification`, `repatriation`, `legal_assistance` or `information`.
    pub kind: String,
    /// `foreign_authority`, `overseas_mission` or `international_organisation`.
    pub counterpart_kind: String,
    pub country: String,
    pub counterpart: String,
    pub reference: Option<String>,
    pub sent_on: String,
    pub due_on: String,
    /// Today: `open`, `overdue`, `answered` or `withdrawn`.
    pub status: String,
    pub person_id: Option<String>,
    pub victim_case_id: Option<String>,
    pub criminal_case_id: Option<String>,
    pub answered_on: Option<String>,
    pub outcome: Option<String>,
    pub withdrawn_on: Option<String>,
    pub created_at: String,
}

impl RequestOut {
    fn of(r: RequestRow, today: time::Date) -> RequestOut {
        let status = r.status(today).code().to_owned();
        RequestOut {
            id: r.id,
            case_code: r.case_code,
            owner_agency_id: r.owner_agency_id,
            direction: r.direction,
            kind: r.kind,
            counterpart_kind: r.counterpart_kind,
            country: r.country,
            counterpart: r.counterpart,
            reference: r.reference,
            sent_on: r.sent_on,
            due_on: r.due_on,
            status,
            person_id: r.person_id,
            victim_case_id: r.victim_case_id,
            criminal_case_id: r.criminal_case_id,
            answered_on: r.answered_on,
            outcome: r.outcome,
            withdrawn_on: r.withdrawn_on,
            created_at: instant(r.created_at),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct RequestPage {
    /// Requests of the agency awaiting an answer, and overdue, whatever the list.
    pub awaiting: i64,
    pub overdue: i64,
    pub items: Vec<RequestOut>,
    pub next: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// `awaiting` (the default), `overdue` or `all`.
    pub list: Option<String>,
    pub after: Option<String>,
    #[param(value_type = Option<i64>, minimum = 1, maximum = 500)]
    pub limit: Option<super::Limit>,
}

/// The caller's agency's requests on a list, and its counts.
#[utoipa::path(get, path = "/cooperation", tag = "cooperation", params(ListQuery), responses((status = 200, body = RequestPage)))]
async fn list(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::ViewRecords>,
    Params(q): Params<ListQuery>,
) -> AppResult<Response> {
    let (rows, awaiting, overdue) = app::list(&state, &v, q.list.as_deref(), 5000).await?;
    let (items, next) = Cursor { after: q.after, limit: q.limit }.page(rows, |r| &r.id);
    let today = state.today();
    Ok(ok(RequestPage {
        awaiting,
        overdue,
        items: items.into_iter().map(|r| RequestOut::of(r, today)).collect(),
        next,
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct RequestIn {
    pub direction: String,
    pub kind: String,
    pub counterpart_kind: String,
    /// ISO 3166-1 alpha-2, not VN.
    pub country: String,
    pub counterpart: String,
    #[serde(default)]
    pub reference: String,
    pub sent_on: String,
    /// The kind's usual delay when omitted.
    #[serde(default)]
    pub due_on: String,
    /// Codes of records the caller may open: a person (`HS-...`), a victim case, a criminal case's number.
    #[serde(default)]
    pub person_code: String,
    #[serde(default)]
    pub victim_code: String,
    #[serde(default)]
    pub case_number: String,
    /// What is asked (sealed).
    #[serde(default)]
    pub summary: String,
}

/// Record a request of the caller's agency.
#[utoipa::path(post, path = "/cooperation", tag = "cooperation", request_body = RequestIn, responses((status = 201, body = RequestOut)))]
async fn create(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::CreateRecords>,
    Body(r): Body<RequestIn>,
) -> AppResult<Response> {
    let form = app::RequestForm {
        direction: r.direction,
        kind: r.kind,
        counterpart_kind: r.counterpart_kind,
        country: r.country,
        counterpart: r.counterpart,
        reference: r.reference,
        sent_on: r.sent_on,
        due_on: r.due_on,
        person_code: r.person_code,
        victim_code: r.victim_code,
        case_number: r.case_number,
        summary: r.summary,
    };
    match app::create(&state, &v, &form).await? {
        Ok(id) => Ok(super::created(RequestOut::of(app::visible(&state, &v, &id).await?, state.today()))),
        Err(errors) => Ok(invalid(&state, &v, &errors)),
    }
}

#[derive(Serialize, ToSchema)]
pub struct LinkedOut {
    /// `cooperation.person`, `cooperation.victim` or `cooperation.case`.
    pub kind: String,
    pub code: String,
    /// The record's page.
    pub href: String,
}

#[derive(Serialize, ToSchema)]
pub struct RequestDetail {
    pub request: RequestOut,
    /// The linked records the caller may open.
    pub linked: Vec<LinkedOut>,
    /// What was asked and what came back: for the agency that made it and those of it who may read
    /// identities (the view is audited); absent for others.
    pub summary: Option<String>,
    pub answer: Option<String>,
}

async fn detail(state: &AppState, v: &Viewer, id: &str) -> AppResult<RequestDetail> {
    let r = app::visible(state, v, id).await?;
    let text = app::open_text(state, v, &r).await?;
    let linked = app::linked(state, v, &r)
        .await?
        .into_iter()
        .map(|l| LinkedOut { kind: l.label.to_owned(), code: l.code, href: l.href })
        .collect();
    Ok(RequestDetail { request: RequestOut::of(r, state.today()), linked, summary: text.summary, answer: text.answer })
}

/// A request the caller may see.
#[utoipa::path(get, path = "/cooperation/{id}", tag = "cooperation", params(("id" = String, Path)), responses((status = 200, body = RequestDetail)))]
async fn get(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::ViewRecords>,
    Path(id): Path<String>,
) -> AppResult<Response> {
    Ok(ok(detail(&state, &v, &id).await?))
}

/// A change refused because the request no longer awaits an answer is a conflict (409); others are 422.
fn refused(state: &AppState, v: &Viewer, errors: &[(String, String)]) -> Response {
    match errors.iter().find(|(_, k)| k == NOT_AWAITING) {
        Some((field, key)) => conflict(state, v, field, key),
        None => invalid(state, v, errors),
    }
}

#[derive(Deserialize, ToSchema)]
pub struct AnswerIn {
    pub answered_on: String,
    /// `granted`, `partly`, `refused` or `no_answer`.
    pub outcome: String,
    /// What came back (sealed).
    #[serde(default)]
    pub answer: String,
}

/// Record the answer to a request of the caller's agency.
#[utoipa::path(post, path = "/cooperation/{id}/answer", tag = "cooperation", params(("id" = String, Path)), request_body = AnswerIn, responses((status = 200, body = RequestDetail), (status = 409, description = "The request no longer awaits an answer", body = super::Invalid)))]
async fn answer(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::CreateRecords>,
    Path(id): Path<String>,
    Body(a): Body<AnswerIn>,
) -> AppResult<Response> {
    let form = app::AnswerForm { answered_on: a.answered_on, outcome: a.outcome, answer: a.answer };
    match app::answer(&state, &v, &id, &form).await? {
        Ok(()) => Ok(ok(detail(&state, &v, &id).await?)),
        Err(errors) => Ok(refused(&state, &v, &errors)),
    }
}

/// Withdraw a request of the caller's agency that awaits an answer.
#[utoipa::path(post, path = "/cooperation/{id}/withdrawal", tag = "cooperation", params(("id" = String, Path)), responses((status = 200, body = RequestDetail), (status = 409, description = "The request no longer awaits an answer", body = super::Invalid)))]
async fn withdraw(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::CreateRecords>,
    Path(id): Path<String>,
) -> AppResult<Response> {
    match app::withdraw(&state, &v, &id).await? {
        Ok(()) => Ok(ok(detail(&state, &v, &id).await?)),
        Err(errors) => Ok(refused(&state, &v, &errors)),
    }
}
