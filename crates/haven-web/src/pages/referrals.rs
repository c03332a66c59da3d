//! The referrals page: what the agency received and sent, and the answers (accept, decline, complete). The
//! use cases are `haven_app::referrals`; the lines are `views::referrals`.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use haven_app::referrals as app;
use haven_domain::victims::referral::Answer;
use serde::Deserialize;

use crate::ctx::{self as guards, Can, CsrfForm, Viewer};
use crate::error::AppResult;
use crate::page::{render, Ctx};
use crate::views::referrals::{lines, ReferralLine};
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/referrals", get(list))
        .route("/referrals/{id}/accept", post(accept))
        .route("/referrals/{id}/decline", post(decline))
        .route("/referrals/{id}/complete", post(complete))
}

#[derive(Template)]
#[template(path = "referrals.html")]
struct ListPage {
    c: Ctx,
    incoming: Vec<ReferralLine>,
    outgoing: Vec<ReferralLine>,
    can_answer: bool,
    /// Why an answer was refused (translation key).
    error: Option<&'static str>,
}

async fn list_page(state: &AppState, viewer: &Viewer, c: Ctx, error: Option<&'static str>) -> AppResult<Response> {
    let incoming = lines(state, &c, app::list(state, viewer, true, 200).await?).await?;
    let outgoing = lines(state, &c, app::list(state, viewer, false, 200).await?).await?;
    let can_answer = viewer.can(haven_domain::Action::EditRecords);
    let status = if error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    Ok(render(status, &ListPage { c, incoming, outgoing, can_answer, error }))
}

async fn list(State(state): State<AppState>, Can(viewer, ..): Can<guards::ViewRecords>, c: Ctx) -> AppResult<Response> {
    list_page(&state, &viewer, c, None).await
}

#[derive(Deserialize)]
struct AnswerForm {
    #[serde(default)]
    reason: String,
}

/// Give an answer to a referral sent to the viewer's agency; a refused one shows the list with the reason.
async fn give(state: &AppState, viewer: &Viewer, c: Ctx, id: &str, a: Answer, reason: &str) -> AppResult<Response> {
    let r = match app::answer(state, viewer, id, a, reason).await? {
        Ok(r) => r,
        Err(key) => return list_page(state, viewer, c, Some(key)).await,
    };
    let next = match a {
        Answer::Accept => format!("/victims/{}?done=referral_accepted", r.case_id),
        Answer::Decline => "/referrals?done=referral_declined".to_owned(),
        Answer::Complete => "/referrals?done=referral_completed".to_owned(),
    };
    Ok(Redirect::to(&next).into_response())
}

async fn accept(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::EditRecords>,
    c: Ctx,
    Path(id): Path<String>,
    CsrfForm(_, _): CsrfForm<AnswerForm>,
) -> AppResult<Response> {
    give(&state, &viewer, c, &id, Answer::Accept, "").await
}

async fn decline(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::EditRecords>,
    c: Ctx,
    Path(id): Path<String>,
    CsrfForm(form, _): CsrfForm<AnswerForm>,
) -> AppResult<Response> {
    give(&state, &viewer, c, &id, Answer::Decline, &form.reason).await
}

async fn complete(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::EditRecords>,
    c: Ctx,
    Path(id): Path<String>,
    CsrfForm(_, _): CsrfForm<AnswerForm>,
) -> AppResult<Response> {
    give(&state, &viewer, c, &id, Answer::Complete, "").await
}
