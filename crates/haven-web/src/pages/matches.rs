//! The review queue of candidate matches, and the run over the whole registers. The use cases are
//! `haven_app::matches`.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use haven_app::matches::{self as app, Decided, DecisionForm};
use haven_store::matches;
use serde::Deserialize;

use crate::ctx::{self as guards, Can, CsrfForm, Viewer};
use crate::error::AppResult;
use crate::page::{render, Ctx, FormState};
use crate::views::matches::{line, CandidateLine};
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/matches", get(queue))
        .route("/matches/sweep", post(sweep))
        .route("/matches/{id}", post(decide))
}

#[derive(Template)]
#[template(path = "matches.html")]
struct QueuePage {
    c: Ctx,
    f: FormState,
    lines: Vec<CandidateLine>,
    can_sweep: bool,
    swept: Option<matches::SweepReport>,
}

async fn queue_page(
    state: &AppState,
    viewer: &Viewer,
    c: Ctx,
    f: FormState,
    swept: Option<matches::SweepReport>,
    status: StatusCode,
) -> AppResult<Response> {
    let mut lines = Vec::new();
    for v in app::open_pairs(state, viewer, 200).await? {
        lines.push(line(state, &c, v).await?);
    }
    let can_sweep = app::may_sweep(viewer);
    Ok(render(status, &QueuePage { c, f, lines, can_sweep, swept }))
}

async fn queue(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::ViewRecords>,
    c: Ctx,
) -> AppResult<Response> {
    queue_page(&state, &viewer, c, FormState::default(), None, StatusCode::OK).await
}

#[derive(Deserialize)]
struct Empty {}

async fn sweep(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::SuperviseAgency>,
    c: Ctx,
    CsrfForm(_, _): CsrfForm<Empty>,
) -> AppResult<Response> {
    let report = app::sweep(&state, &viewer).await?;
    queue_page(&state, &viewer, c, FormState::default(), Some(report), StatusCode::OK).await
}

async fn decide(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::EditRecords>,
    c: Ctx,
    Path(id): Path<String>,
    CsrfForm(form, _): CsrfForm<DecisionForm>,
) -> AppResult<Response> {
    match app::decide(&state, &viewer, &id, form.decision.trim()).await? {
        Decided::Done(d) => Ok(Redirect::to(&format!("/matches?done=match_{}", d.code())).into_response()),
        Decided::Asked => Ok(Redirect::to("/matches?done=match_asked").into_response()),
        Decided::Stale => Ok(Redirect::to("/matches?done=match_stale").into_response()),
        Decided::Refused(key) => {
            let mut f = FormState::default();
            f.add(&format!("match-{id}"), key);
            queue_page(&state, &viewer, c, f, None, StatusCode::CONFLICT).await
        }
    }
}
