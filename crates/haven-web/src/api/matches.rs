//! Candidate matches: pairs of register people that may be one person, each seen from the caller's agency's
//! side, with the explanation field by field for those who may see identities; the decision (the same
//! person, merged, or not the same) and the run over the whole registers. The use cases are
//! `haven_app::matches`.

use super::Params;
use axum::extract::{Path, State};
use axum::response::Response;
use haven_app::matches::{self as app, Decided, PairView, SideView};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{conflict, invalid, ok, page, Api, Body, Cursor, CONFLICT};
use crate::ctx::{self as guards};
use crate::error::{AppError, AppResult};
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list)).routes(routes!(decide)).routes(routes!(sweep))
}

/// One side of a pair as the caller may know it: another agency's record shows nothing until the records are
/// linked, and then only which agency holds it.
#[derive(Serialize, ToSchema)]
pub struct SideOut {
    /// `returnee`, `absentee`, `victim`, `person`, or `other` for another agency's record.
    pub register: String,
    /// The record's code, for the caller's own records only.
    pub code: Option<String>,
    /// The holding agency (`GET /agencies`): the caller's own, or another's once the records are linked.
    pub agency_id: Option<String>,
}

impl From<SideView> for SideOut {
    fn from(s: SideView) -> Self {
        SideOut { register: s.register.to_owned(), code: s.code, agency_id: s.agency_id }
    }
}

/// One field's part in a pair's score.
#[derive(Serialize, ToSchema)]
pub struct PartOut {
    /// `name`, `dob`, `sex`, `place`, `idnum`, ...
    pub label: String,
    /// The agreement level (0 disagrees; absent when a side lacks the field).
    pub level: Option<u8>,
    /// Its weight in the score (log2 of the Bayes factor).
    pub weight: f64,
}

#[derive(Serialize, ToSchema)]
pub struct PairOut {
    pub id: String,
    pub probability: f64,
    /// `open`, `same`, `merged` or `different`.
    pub status: String,
    /// What proposed it: `entry` or `sweep`.
    pub source: String,
    /// The caller's agency's side.
    pub this: SideOut,
    pub other: SideOut,
    /// Field by field; only for those who may see identities.
    pub explanation: Vec<PartOut>,
    pub can_decide: bool,
    pub can_merge: bool,
    /// For an open pair of two agencies' records: `ours` when the caller's agency has said it is the same
    /// person and waits for the other agency, `theirs` when the other agency has and waits for the caller's.
    pub asked: Option<String>,
}

impl From<PairView> for PairOut {
    fn from(p: PairView) -> Self {
        PairOut {
            id: p.id,
            probability: p.probability,
            status: p.status,
            source: p.source,
            this: p.this.into(),
            other: p.other.into(),
            explanation: p
                .explanation
                .into_iter()
                .map(|e| PartOut { label: e.label, level: e.level, weight: e.weight })
                .collect(),
            can_decide: p.can_decide,
            can_merge: p.can_merge,
            asked: p.asked.map(str::to_owned),
        }
    }
}

page!(PairPage, PairOut);

/// The open pairs with a record of the caller's agency, likeliest first.
#[utoipa::path(get, path = "/matches", tag = "matches", params(Cursor), responses((status = 200, body = PairPage)))]
async fn list(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::ViewRecords>,
    Params(q): Params<Cursor>,
) -> AppResult<Response> {
    let pairs = app::open_pairs(&state, &v, 2000).await?;
    let (items, next) = q.page(pairs, |p| &p.id);
    Ok(ok(PairPage { items: items.into_iter().map(PairOut::from).collect(), next }))
}

#[derive(Deserialize, ToSchema)]
pub struct DecisionIn {
    /// `same` (link the records: for two agencies' records, once each agency has said so), `merge` (both the
    /// caller's: fold into the older) or `different`.
    pub decision: String,
}

/// Decide a pair with a record of the caller's agency on at least one side.
#[utoipa::path(post, path = "/matches/{id}", tag = "matches", params(("id" = String, Path)), request_body = DecisionIn, responses((status = 200, body = PairOut), (status = 409, description = CONFLICT, body = super::Invalid)))]
async fn decide(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::EditRecords>,
    Path(id): Path<String>,
    Body(d): Body<DecisionIn>,
) -> AppResult<Response> {
    match app::decide(&state, &v, &id, d.decision.trim()).await? {
        Decided::Done(_) | Decided::Asked => {
            let m = state.store.candidate(&id).await?.ok_or(AppError::NotFound)?;
            let from = app::viewer_side(&state, &v, &m).await?;
            Ok(ok(PairOut::from(app::pair_view(&state, &v, m, &from).await?)))
        }
        Decided::Stale => Ok(conflict(&state, &v, "decision", "error.match_decided")),
        Decided::Refused(key) => Ok(invalid(&state, &v, &[("decision".into(), key.into())])),
    }
}

#[derive(Serialize, ToSchema)]
pub struct SweepOut {
    pub returnees: usize,
    pub others: usize,
    pub compared: usize,
    pub proposed: usize,
    /// Register people without match keys, indexed now.
    pub indexed: usize,
}

/// Match every register person against the others and retrain the model (a provincial agency's head).
#[utoipa::path(post, path = "/matches/sweep", tag = "matches", responses((status = 200, body = SweepOut)))]
async fn sweep(State(state): State<AppState>, Api(v, ..): Api<guards::SuperviseAgency>) -> AppResult<Response> {
    let r = app::sweep(&state, &v).await?;
    Ok(ok(SweepOut {
        returnees: r.returnees,
        others: r.others,
        compared: r.compared,
        proposed: r.proposed,
        indexed: r.indexed,
    }))
}
