//! Referrals between agencies about a victim case: sent after the consent check, then accepted (the receiver
//! may read the parts of the case its kind opens until the due day ends), declined with a reason, or
//! completed. The use cases are `haven_app::referrals`.

use super::Params;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use haven_app::referrals as app;
use haven_domain::victims::referral::Answer;
use haven_store::victims::ReferralRow;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{answer, conflict, instant, invalid, ok, page, Api, Body, Cursor, CONFLICT};
use crate::ctx::{self as guards, Viewer};
use crate::error::{AppError, AppResult};
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(send))
        .routes(routes!(accept))
        .routes(routes!(decline))
        .routes(routes!(complete))
}

#[derive(Serialize, ToSchema)]
pub struct ReferralOut {
    pub id: String,
    pub case_id: String,
    pub case_code: String,
    /// A kind of the profile (`referral-kinds.txt`): `support`, `verification`, `reintegration`, `interview`, ...
    pub kind: String,
    pub from_agency_id: String,
    pub to_agency_id: String,
    pub due_on: String,
    /// `sent`, `accepted`, `declined` or `completed`.
    pub status: String,
    /// Sent without the person's consent, on this legal basis.
    pub legal_basis: Option<String>,
    pub sent_at: String,
    pub decline_reason: Option<String>,
    /// What the receiver reported on completing it; given to the two agencies it concerns.
    pub outcome: Option<String>,
}

/// A referral as the caller may read it: the completion outcome opens to the sending and receiving agencies.
pub async fn out_for(state: &AppState, v: &Viewer, r: ReferralRow) -> AppResult<ReferralOut> {
    let concerned = r.from_agency_id == v.agency.id || r.to_agency_id == v.agency.id;
    let outcome = if concerned && r.status == "completed" { state.store.referral_outcome(&r.id).await? } else { None };
    Ok(ReferralOut { outcome, ..ReferralOut::from(r) })
}

impl From<ReferralRow> for ReferralOut {
    fn from(r: ReferralRow) -> Self {
        ReferralOut {
            id: r.id,
            case_id: r.case_id,
            case_code: r.case_code,
            kind: r.kind,
            from_agency_id: r.from_agency_id,
            to_agency_id: r.to_agency_id,
            due_on: r.due_on,
            status: r.status,
            legal_basis: r.legal_basis,
            sent_at: instant(r.sent_at),
            decline_reason: r.decline_reason,
            outcome: None,
        }
    }
}

page!(ReferralPage, ReferralOut);

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// `incoming` (sent to the caller's agency; the default) or `outgoing`.
    pub list: Option<String>,
    pub after: Option<String>,
    #[param(value_type = Option<i64>, minimum = 1, maximum = 500)]
    pub limit: Option<super::Limit>,
}

/// The referrals the caller's agency received, or sent.
#[utoipa::path(get, path = "/referrals", tag = "referrals", params(ListQuery), responses((status = 200, body = ReferralPage)))]
async fn list(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::ViewRecords>,
    Params(q): Params<ListQuery>,
) -> AppResult<Response> {
    let incoming = match q.list.as_deref() {
        None | Some("incoming") => true,
        Some("outgoing") => false,
        Some(_) => return Err(AppError::BadRequest("list".into())),
    };
    let rows = app::list(&state, &v, incoming, 5000).await?;
    let (rows, next) = Cursor { after: q.after, limit: q.limit }.page(rows, |r| &r.id);
    let mut items = Vec::with_capacity(rows.len());
    for r in rows {
        items.push(out_for(&state, &v, r).await?);
    }
    Ok(ok(ReferralPage { items, next }))
}

#[derive(Deserialize, ToSchema)]
pub struct ReferralIn {
    pub kind: String,
    /// The receiving agency's id.
    pub to_agency: String,
    /// The kind's usual number of days from today when omitted.
    #[serde(default)]
    pub due_on: String,
    #[serde(default)]
    pub purpose: String,
    /// Only without the person's consent, and only for a user with the override right.
    #[serde(default)]
    pub legal_basis: String,
}

#[derive(Serialize, ToSchema)]
pub struct ReferralList {
    pub items: Vec<ReferralOut>,
}

/// Refer a case of the caller's agency to another agency, on the person's consent (or a legal basis).
#[utoipa::path(post, path = "/victims/{id}/referrals", tag = "referrals", params(("id" = String, Path)), request_body = ReferralIn, responses((status = 200, body = ReferralList)))]
async fn send(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::EditRecords>,
    Path(id): Path<String>,
    Body(r): Body<ReferralIn>,
) -> AppResult<Response> {
    let form = app::ReferralForm {
        kind: r.kind,
        to_agency: r.to_agency,
        due_on: r.due_on,
        purpose: r.purpose,
        legal_basis: r.legal_basis,
    };
    let outcome = app::send(&state, &v, &id, &form).await?;
    let st = &state;
    answer(&state, &v, outcome, StatusCode::OK, |_| async move {
        Ok(ReferralList { items: st.store.referrals_of_case(&id).await?.into_iter().map(ReferralOut::from).collect() })
    })
    .await
}

#[derive(Deserialize, ToSchema)]
pub struct DeclineIn {
    pub reason: String,
}

async fn give(state: &AppState, v: &Viewer, id: &str, a: Answer, reason: &str) -> AppResult<Response> {
    match app::answer(state, v, id, a, reason).await? {
        Ok(r) => Ok(ok(out_for(state, v, r).await?)),
        Err(key) => {
            let field = match key {
                "error.referral_reason" => "reason",
                "error.referral_outcome" => "outcome",
                "error.referral_status" => return Ok(conflict(state, v, "status", key)),
                _ => "status",
            };
            Ok(invalid(state, v, &[(field.to_owned(), key.to_owned())]))
        }
    }
}

/// Accept a referral made to the caller's agency: it may then work on the parts of the case its kind opens.
#[utoipa::path(post, path = "/referrals/{id}/accept", tag = "referrals", params(("id" = String, Path)), responses((status = 200, body = ReferralOut), (status = 409, description = CONFLICT, body = super::Invalid)))]
async fn accept(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::EditRecords>,
    Path(id): Path<String>,
) -> AppResult<Response> {
    give(&state, &v, &id, Answer::Accept, "").await
}

/// Decline a referral made to the caller's agency, with a reason.
#[utoipa::path(post, path = "/referrals/{id}/decline", tag = "referrals", params(("id" = String, Path)), request_body = DeclineIn, responses((status = 200, body = ReferralOut), (status = 409, description = CONFLICT, body = super::Invalid)))]
async fn decline(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::EditRecords>,
    Path(id): Path<String>,
    Body(d): Body<DeclineIn>,
) -> AppResult<Response> {
    give(&state, &v, &id, Answer::Decline, &d.reason).await
}

/// What came of an accepted referral's work.
#[derive(Deserialize, ToSchema)]
pub struct CompleteIn {
    /// What was done and what came of it, for the referring agency to read (at least 5 characters).
    pub outcome: String,
}

/// Complete an accepted referral with what came of it: the referring agency reads the outcome, and the
/// receiver's access ends.
#[utoipa::path(post, path = "/referrals/{id}/complete", tag = "referrals", params(("id" = String, Path)), request_body = CompleteIn, responses((status = 200, body = ReferralOut), (status = 409, description = CONFLICT, body = super::Invalid)))]
async fn complete(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::EditRecords>,
    Path(id): Path<String>,
    Body(d): Body<CompleteIn>,
) -> AppResult<Response> {
    give(&state, &v, &id, Answer::Complete, &d.outcome).await
}
