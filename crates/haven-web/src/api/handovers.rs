//! Handovers of victim cases between agencies: adapters over `haven_app::victims::handover`. The paths say
//! `transfers`, because `/handovers` are the batches of citizens a foreign authority hands back at the border
//! (the registers).

use super::Params;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use haven_app::victims::handover::{self as app, Answer};
use haven_store::victims::HandoverRow;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{answer, conflict, instant, invalid, ok, page, Api, Body, Cursor, CONFLICT};
use crate::ctx::{self as guards, Viewer};
use crate::error::{AppError, AppResult};
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(propose, of_case))
        .routes(routes!(incoming))
        .routes(routes!(get))
        .routes(routes!(accept))
        .routes(routes!(decline))
        .routes(routes!(withdraw))
}

/// A handover of a victim case from one agency to another.
#[derive(Serialize, ToSchema)]
pub struct HandoverOut {
    pub id: String,
    pub case_id: String,
    pub case_code: String,
    pub from_agency_id: String,
    pub to_agency_id: String,
    /// `proposed`, `accepted`, `declined` or `withdrawn`.
    pub status: String,
    /// Proposed without the person's consent, on this legal basis.
    pub legal_basis: Option<String>,
    pub proposed_at: String,
    pub answered_at: Option<String>,
    /// The day custody passed, for an accepted handover.
    pub accepted_on: Option<String>,
    pub decline_reason: Option<String>,
    /// Why the case goes to the receiver; given to the two agencies it concerns.
    pub reason: Option<String>,
}

async fn out(state: &AppState, v: &Viewer, h: HandoverRow) -> AppResult<HandoverOut> {
    let reason = match app::reason(state, v, &h).await {
        Ok(r) => r,
        Err(haven_app::Error::Forbidden) => None,
        Err(e) => return Err(e.into()),
    };
    Ok(HandoverOut {
        id: h.id,
        case_id: h.case_id,
        case_code: h.case_code,
        from_agency_id: h.from_agency_id,
        to_agency_id: h.to_agency_id,
        status: h.status,
        legal_basis: h.legal_basis,
        proposed_at: instant(h.proposed_at),
        answered_at: h.answered_at.map(instant),
        accepted_on: h.answered_on,
        decline_reason: h.decline_reason,
        reason,
    })
}

#[derive(Deserialize, ToSchema)]
pub struct HandoverIn {
    /// The receiving agency's id: of a kind that may take cases over from the caller's (`handover-routes.txt`).
    pub to_agency: String,
    /// What the receiver is to do (at least 5 characters).
    pub reason: String,
    /// Only without the person's consent for the receiver, and only for a user with the override right.
    #[serde(default)]
    pub legal_basis: String,
}

/// Propose handing a case of the caller's agency over to another agency, on the person's consent (or a legal
/// basis). The receiver owns the case once it accepts.
#[utoipa::path(post, path = "/victims/{id}/transfers", tag = "handovers", params(("id" = String, Path)), request_body = HandoverIn, responses((status = 201, body = HandoverOut)))]
async fn propose(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::EditRecords>,
    Path(id): Path<String>,
    Body(h): Body<HandoverIn>,
) -> AppResult<Response> {
    let form = app::HandoverForm { to_agency: h.to_agency, reason: h.reason, legal_basis: h.legal_basis };
    let outcome = app::propose(&state, &v, &id, &form).await?;
    let (st, v) = (&state, &v);
    answer(st, v, outcome, StatusCode::CREATED, |hid| async move {
        out(st, v, st.store.handover(&hid).await?.ok_or(AppError::NotFound)?).await
    })
    .await
}

#[derive(Serialize, ToSchema)]
pub struct HandoverList {
    pub items: Vec<HandoverOut>,
}

/// The handovers of a case, oldest first: the accepted ones are its chain of custody.
#[utoipa::path(get, path = "/victims/{id}/transfers", tag = "handovers", params(("id" = String, Path)), responses((status = 200, body = HandoverList)))]
async fn of_case(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::ViewRecords>,
    Path(id): Path<String>,
) -> AppResult<Response> {
    // As the case file cuts them: an agency that handed the case over does not follow where it went next;
    // an agency reading the case on a referral or a grant sees only the handovers it was party to.
    let file = haven_app::victims::file::read(&state, &v, &id).await?;
    let holder = file.case.owner_agency_id == v.agency.id && file.until.is_none();
    let mut items = Vec::new();
    for h in file.handovers {
        if !holder && h.from_agency_id != v.agency.id && h.to_agency_id != v.agency.id {
            continue;
        }
        items.push(out(&state, &v, h).await?);
    }
    Ok(ok(HandoverList { items }))
}

page!(HandoverPage, HandoverOut);

/// Handovers proposed to the caller's agency and not yet answered, oldest first.
#[utoipa::path(get, path = "/transfers", tag = "handovers", params(Cursor), responses((status = 200, body = HandoverPage)))]
async fn incoming(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::ViewRecords>,
    Params(q): Params<Cursor>,
) -> AppResult<Response> {
    let rows = app::incoming(&state, &v, 5000).await?;
    let (rows, next) = q.page(rows, |h| &h.id);
    let mut items = Vec::with_capacity(rows.len());
    for h in rows {
        items.push(out(&state, &v, h).await?);
    }
    Ok(ok(HandoverPage { items, next }))
}

/// A handover, for the two agencies it concerns.
#[utoipa::path(get, path = "/transfers/{id}", tag = "handovers", params(("id" = String, Path)), responses((status = 200, body = HandoverOut)))]
async fn get(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::ViewRecords>,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let h = state.store.handover(&id).await?.ok_or(AppError::NotFound)?;
    if h.from_agency_id != v.agency.id && h.to_agency_id != v.agency.id {
        return Err(AppError::Forbidden);
    }
    Ok(ok(out(&state, &v, h).await?))
}

async fn give(state: &AppState, v: &Viewer, id: &str, a: Answer, reason: &str) -> AppResult<Response> {
    match app::answer(state, v, id, a, reason).await? {
        Ok(h) => Ok(ok(out(state, v, h).await?)),
        Err(key) => {
            if key == "error.handover_status" {
                return Ok(conflict(state, v, "status", key));
            }
            let field = if key == "error.handover_reason" { "reason" } else { "status" };
            Ok(invalid(state, v, &[(field.to_owned(), key.to_owned())]))
        }
    }
}

/// Accept a handover proposed to the caller's agency: it owns and works the case from now on.
#[utoipa::path(post, path = "/transfers/{id}/accept", tag = "handovers", params(("id" = String, Path)), responses((status = 200, body = HandoverOut), (status = 409, description = CONFLICT, body = super::Invalid)))]
async fn accept(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::EditRecords>,
    Path(id): Path<String>,
) -> AppResult<Response> {
    give(&state, &v, &id, Answer::Accept, "").await
}

#[derive(Deserialize, ToSchema)]
pub struct HandoverDeclineIn {
    /// Why the caller's agency does not take the case (at least 5 characters).
    pub reason: String,
}

/// Decline a handover proposed to the caller's agency, with a reason; the sender keeps the case.
#[utoipa::path(post, path = "/transfers/{id}/decline", tag = "handovers", params(("id" = String, Path)), request_body = HandoverDeclineIn, responses((status = 200, body = HandoverOut), (status = 409, description = CONFLICT, body = super::Invalid)))]
async fn decline(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::EditRecords>,
    Path(id): Path<String>,
    Body(d): Body<HandoverDeclineIn>,
) -> AppResult<Response> {
    give(&state, &v, &id, Answer::Decline, &d.reason).await
}

/// Withdraw a handover the caller's agency proposed, before it is answered.
#[utoipa::path(post, path = "/transfers/{id}/withdraw", tag = "handovers", params(("id" = String, Path)), responses((status = 200, body = HandoverOut), (status = 409, description = CONFLICT, body = super::Invalid)))]
async fn withdraw(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::EditRecords>,
    Path(id): Path<String>,
) -> AppResult<Response> {
    give(&state, &v, &id, Answer::Withdraw, "").await
}
