//! Identification of a victim case: the officer's proposal, a head's approval or return with a comment, and
//! the decisions waiting for a head. Adapters over `haven_app::victims::identification`.

use axum::extract::{Path, State};
use axum::response::Response;
use haven_app::victims::identification;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::victims::{changed, VictimLineOut, VictimOut};
use super::{ok, Api, Body};
use crate::ctx as guards;
use crate::error::AppResult;
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(propose))
        .routes(routes!(approve))
        .routes(routes!(send_back))
        .routes(routes!(pending))
}

#[derive(Deserialize, ToSchema)]
pub struct IdentificationIn {
    /// `identified` or `not_identified`.
    pub outcome: String,
    pub decided_on: String,
    #[serde(default)]
    pub legal_basis: String,
    /// Evidence codes (`testimony`, `documents`, `verification`, ...).
    #[serde(default)]
    pub evidence: Vec<String>,
    #[serde(default)]
    pub certificate_number: String,
    /// The officer's grounds (sealed).
    #[serde(default)]
    pub reasons: String,
}

/// Propose the outcome of identification; an agency head of the owning agency, not the proposer, approves it.
#[utoipa::path(post, path = "/victims/{id}/identification", tag = "victims", params(("id" = String, Path)), request_body = IdentificationIn, responses((status = 200, body = VictimOut)))]
async fn propose(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::EditRecords>,
    Path(id): Path<String>,
    Body(i): Body<IdentificationIn>,
) -> AppResult<Response> {
    let form = identification::IdentificationForm {
        outcome: i.outcome,
        decided_on: i.decided_on,
        legal_basis: i.legal_basis,
        evidence: i.evidence,
        certificate_number: i.certificate_number,
        reasons: i.reasons,
    };
    let outcome = identification::propose(&state, &v, &id, &form).await?;
    changed(&state, &v, &id, outcome).await
}

/// Approve the pending identification (an agency head of the owning agency, not the proposer).
#[utoipa::path(post, path = "/victims/{id}/approval", tag = "victims", params(("id" = String, Path)), responses((status = 200, body = VictimOut)))]
async fn approve(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::EditRecords>,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let outcome = identification::approve(&state, &v, &id).await?;
    changed(&state, &v, &id, outcome).await
}

#[derive(Deserialize, ToSchema)]
pub struct ReturnIn {
    /// What the officer is to amend (at least 5 characters).
    pub comment: String,
}

/// Return the pending identification to the officer with a comment (an agency head of the owning agency,
/// not the proposer); the officer amends it and proposes again.
#[utoipa::path(post, path = "/victims/{id}/approval/return", tag = "victims", params(("id" = String, Path)), request_body = ReturnIn, responses((status = 200, body = VictimOut)))]
async fn send_back(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::EditRecords>,
    Path(id): Path<String>,
    Body(r): Body<ReturnIn>,
) -> AppResult<Response> {
    let outcome =
        identification::send_back(&state, &v, &id, &identification::ReturnForm { comment: r.comment }).await?;
    changed(&state, &v, &id, outcome).await
}

#[derive(Serialize, ToSchema)]
pub struct PendingList {
    pub items: Vec<VictimLineOut>,
}

/// The identification decisions of the caller's agency waiting for a head (empty for anyone not a head).
#[utoipa::path(get, path = "/identifications/pending", tag = "victims", responses((status = 200, body = PendingList)))]
async fn pending(State(state): State<AppState>, Api(v, ..): Api<guards::ViewRecords>) -> AppResult<Response> {
    let items = identification::pending(&state, &v, 500).await?.into_iter().map(VictimLineOut::from).collect();
    Ok(ok(PendingList { items }))
}
