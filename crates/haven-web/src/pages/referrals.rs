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
use crate::views::table::{send, Download, Table};
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/referrals", get(list))
        .route("/referrals/download", post(download))
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
    dl_incoming: Download,
    dl_outgoing: Download,
}

async fn list_page(state: &AppState, viewer: &Viewer, c: Ctx, error: Option<&'static str>) -> AppResult<Response> {
    let incoming = lines(state, &c, app::list(state, viewer, true, 200).await?).await?;
    let outgoing = lines(state, &c, app::list(state, viewer, false, 200).await?).await?;
    let can_answer = viewer.can(haven_domain::Action::EditRecords);
    let status = if error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    let dl_incoming = Download::new("/referrals/download", &[("list", "incoming")]);
    let dl_outgoing = Download::new("/referrals/download", &[("list", "outgoing")]);
    Ok(render(status, &ListPage { c, incoming, outgoing, can_answer, error, dl_incoming, dl_outgoing }))
}

#[derive(Deserialize)]
struct DownloadForm {
    list: String,
    format: String,
}

/// The referrals received, or sent, as the page shows them, as a file.
async fn download(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::ViewRecords>,
    c: Ctx,
    CsrfForm(form, _): CsrfForm<DownloadForm>,
) -> AppResult<Response> {
    let incoming = match form.list.as_str() {
        "incoming" => true,
        "outgoing" => false,
        _ => return Err(crate::error::AppError::BadRequest("list".into())),
    };
    let lines = lines(&state, &c, app::list(&state, &viewer, incoming, 200).await?).await?;
    let (title, other) =
        if incoming { ("referrals.incoming", "referrals.from") } else { ("referrals.outgoing", "referrals.to") };
    let heads = ["reports.code", "referrals.kind", other, "referrals.due", "reports.status"];
    let rows = lines
        .into_iter()
        .map(|l| {
            let due = if l.late { format!("{} ({})", l.due, c.t("referrals.late")) } else { l.due.clone() };
            let status = c.tk("referral_status", &l.r.status);
            vec![
                l.r.case_code.clone(),
                l.kind.clone(),
                if incoming { l.from.clone() } else { l.to.clone() },
                due,
                status,
            ]
        })
        .collect();
    let table = Table {
        name: format!("{} - {}", c.t("nav.referrals"), c.t(title)),
        headers: heads.iter().map(|k| c.t(k).to_owned()).collect(),
        rows,
    };
    send(&state, &viewer, &format!("referrals.{}", form.list), &form.format, table).await
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
