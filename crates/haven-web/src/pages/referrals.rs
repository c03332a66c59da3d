//! The referrals page, the agency's coordination inbox: handovers of victim cases proposed to it (accept,
//! decline) and the referrals it received and sent (accept, decline, complete). The use cases are
//! `haven_app::referrals` and `haven_app::victims::handover`; the referral lines are `views::referrals`.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use haven_app::referrals as app;
use haven_app::victims::handover;
use haven_domain::victims::referral::Answer;
use serde::Deserialize;

use crate::ctx::{self as guards, Can, CsrfForm, Viewer};
use crate::error::AppResult;
use crate::page::{render, Ctx};
use crate::views::referrals::{lines, ReferralLine};
use crate::views::table::{send, Cell, Download, Table};
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/referrals", get(list))
        .route("/referrals/download", post(download))
        .route("/referrals/{id}/accept", post(accept))
        .route("/referrals/{id}/decline", post(decline))
        .route("/referrals/{id}/complete", post(complete))
        .route("/transfers/{id}/accept", post(accept_handover))
        .route("/transfers/{id}/decline", post(decline_handover))
        .route("/transfers/{id}/withdraw", post(withdraw_handover))
}

/// A handover proposed to the viewer's agency, as the inbox lists it.
pub struct HandoverLine {
    pub id: String,
    pub case_code: String,
    pub from: String,
    pub on: String,
    pub reason: String,
    /// Resting on a legal basis rather than the person's consent.
    pub without_consent: bool,
}

async fn handover_lines(state: &AppState, viewer: &Viewer, c: &Ctx) -> AppResult<Vec<HandoverLine>> {
    let agencies = state.store.agencies().await?;
    let mut out = Vec::new();
    for h in handover::incoming(state, viewer, 200).await? {
        let from = agencies
            .iter()
            .find(|a| a.id == h.from_agency_id)
            .map(|a| c.agency_label(&a.name_vi, &a.name_en).to_owned())
            .unwrap_or_default();
        out.push(HandoverLine {
            reason: handover::reason(state, viewer, &h).await?.unwrap_or_default(),
            on: haven_domain::time::local_date(h.proposed_at).map(haven_domain::format::date).unwrap_or_default(),
            without_consent: h.legal_basis.is_some(),
            id: h.id,
            case_code: h.case_code,
            from,
        });
    }
    Ok(out)
}

#[derive(Template)]
#[template(path = "referrals.html")]
struct ListPage {
    c: Ctx,
    handovers: Vec<HandoverLine>,
    incoming: Vec<ReferralLine>,
    outgoing: Vec<ReferralLine>,
    can_answer: bool,
    /// An answer refused: why, on which control, and what was typed there.
    refused: Option<Refused>,
    dl_incoming: Download,
    dl_outgoing: Download,
}

/// Why an answer was refused (a translation key), the id of the control it concerns (the reason's field, or
/// the button when there is nothing to type), and what was typed, to show again.
struct Refused {
    key: &'static str,
    field: String,
    typed: String,
}

impl ListPage {
    /// The message for the control with this id, if the refusal concerns it.
    fn error_for(&self, field: &str) -> Option<&'static str> {
        self.refused.as_ref().filter(|r| r.field == field).map(|r| r.key)
    }
    /// What was typed into the control with this id before the refusal.
    fn typed(&self, field: &str) -> &str {
        self.refused.as_ref().filter(|r| r.field == field).map_or("", |r| r.typed.as_str())
    }
}

async fn list_page(state: &AppState, viewer: &Viewer, c: Ctx, refused: Option<Refused>) -> AppResult<Response> {
    let handovers = handover_lines(state, viewer, &c).await?;
    let incoming = lines(state, &c, &viewer.agency.id, app::list(state, viewer, true, 200).await?).await?;
    let outgoing = lines(state, &c, &viewer.agency.id, app::list(state, viewer, false, 200).await?).await?;
    let can_answer = viewer.can(haven_domain::Action::EditRecords);
    let status = if refused.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    let dl_incoming = Download::new("/referrals/download", &[("list", "incoming")]);
    let dl_outgoing = Download::new("/referrals/download", &[("list", "outgoing")]);
    let page = ListPage { c, handovers, incoming, outgoing, can_answer, refused, dl_incoming, dl_outgoing };
    Ok(render(status, &page))
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
    let lines = lines(&state, &c, &viewer.agency.id, app::list(&state, &viewer, incoming, 200).await?).await?;
    let (title, other) =
        if incoming { ("referrals.incoming", "referrals.from") } else { ("referrals.outgoing", "referrals.to") };
    let heads = ["reports.code", "referrals.kind", other, "referrals.due", "reports.status"];
    let rows = lines
        .into_iter()
        .map(|l| {
            let mut status = c.tk("referral_status", &l.r.status);
            if l.late {
                status = format!("{status} ({})", c.t("referrals.late"));
            }
            vec![
                Cell::text(l.r.case_code.clone()),
                Cell::text(l.kind.clone()),
                Cell::text(if incoming { l.from.clone() } else { l.to.clone() }),
                Cell::day(&l.r.due_on),
                Cell::text(status),
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
    /// What came of the work, on completion.
    #[serde(default)]
    outcome: String,
}

/// Give an answer to a referral sent to the viewer's agency; a refused one shows the list with the reason.
async fn give(state: &AppState, viewer: &Viewer, c: Ctx, id: &str, a: Answer, reason: &str) -> AppResult<Response> {
    let r = match app::answer(state, viewer, id, a, reason).await? {
        Ok(r) => r,
        Err(key) => {
            let field = match a {
                Answer::Accept => format!("accept-{id}"),
                Answer::Decline => format!("reason-{id}"),
                Answer::Complete => format!("outcome-{id}"),
            };
            let refused = Refused { key, field, typed: reason.to_owned() };
            return list_page(state, viewer, c, Some(refused)).await;
        }
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
    CsrfForm(form, _): CsrfForm<AnswerForm>,
) -> AppResult<Response> {
    give(&state, &viewer, c, &id, Answer::Complete, &form.outcome).await
}

/// Answer a handover: accepting leads to the case the agency now holds; a refusal shows the inbox with why.
async fn answer_handover(
    state: &AppState,
    viewer: &Viewer,
    c: Ctx,
    id: &str,
    a: handover::Answer,
    reason: &str,
) -> AppResult<Response> {
    let h = match handover::answer(state, viewer, id, a, reason).await? {
        Ok(h) => h,
        Err(key) => {
            let field = match a {
                handover::Answer::Decline => format!("handover-reason-{id}"),
                _ => format!("accept-handover-{id}"),
            };
            let refused = Refused { key, field, typed: reason.to_owned() };
            return list_page(state, viewer, c, Some(refused)).await;
        }
    };
    let next = match a {
        handover::Answer::Accept => format!("/victims/{}?done=handover_accepted", h.case_id),
        handover::Answer::Decline => "/referrals?done=handover_declined".to_owned(),
        handover::Answer::Withdraw => format!("/victims/{}?done=handover_withdrawn", h.case_id),
    };
    Ok(Redirect::to(&next).into_response())
}

async fn accept_handover(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::EditRecords>,
    c: Ctx,
    Path(id): Path<String>,
    CsrfForm(_, _): CsrfForm<AnswerForm>,
) -> AppResult<Response> {
    answer_handover(&state, &viewer, c, &id, handover::Answer::Accept, "").await
}

async fn decline_handover(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::EditRecords>,
    c: Ctx,
    Path(id): Path<String>,
    CsrfForm(form, _): CsrfForm<AnswerForm>,
) -> AppResult<Response> {
    answer_handover(&state, &viewer, c, &id, handover::Answer::Decline, &form.reason).await
}

async fn withdraw_handover(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::EditRecords>,
    c: Ctx,
    Path(id): Path<String>,
    CsrfForm(_, _): CsrfForm<AnswerForm>,
) -> AppResult<Response> {
    answer_handover(&state, &viewer, c, &id, handover::Answer::Withdraw, "").await
}
