//! Referrals between agencies about a victim case: sent with a purpose and a due date after the consent check,
//! then accepted (the receiver may read the case until it is completed or falls due), declined with a reason,
//! or completed. The kinds and who may receive them come from the profile (`referral-kinds.txt`).

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use haven_domain::format::{parse_date, Lang};
use haven_domain::victims::referral::{self, Answer, Status};
use haven_store::victims::{self, NewReferral, ReferralRow, VictimCase};
use serde::Deserialize;

use crate::ctx::{self as guards, Can, CsrfForm, Viewer};
use crate::error::{AppError, AppResult};
use crate::page::{render, Ctx};
use crate::pages::reports::{today, FieldErrors};
use crate::pages::sharing::{consent_or_basis, Disclosure};
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/referrals", get(list))
        .route("/referrals/{id}/accept", post(accept))
        .route("/referrals/{id}/decline", post(decline))
        .route("/referrals/{id}/complete", post(complete))
}

/// A referral as the pages list it.
pub struct ReferralLine {
    pub r: ReferralRow,
    pub kind: String,
    pub from: String,
    pub to: String,
    pub due: String,
    /// Open and past its due day.
    pub late: bool,
}

pub async fn lines(state: &AppState, c: &Ctx, rows: Vec<ReferralRow>) -> AppResult<Vec<ReferralLine>> {
    let agencies = state.store.agencies().await?;
    let name = |id: &str| {
        agencies
            .iter()
            .find(|a| a.id == id)
            .map(|a| c.agency_label(&a.name_vi, &a.name_en).to_owned())
            .unwrap_or_default()
    };
    let t = today(state);
    Ok(rows
        .into_iter()
        .map(|r| {
            let kind = state
                .profile
                .referrals
                .kind(&r.kind)
                .map(|k| if c.lang == Lang::En { k.name_en.clone() } else { k.name_vi.clone() })
                .unwrap_or_else(|| r.kind.clone());
            let due_day = parse_date(&r.due_on);
            let late = matches!(r.status.as_str(), "sent" | "accepted") && due_day.is_some_and(|d| d < t);
            ReferralLine {
                kind,
                from: name(&r.from_agency_id),
                to: name(&r.to_agency_id),
                due: due_day.map(haven_domain::format::date).unwrap_or_default(),
                late,
                r,
            }
        })
        .collect())
}

#[derive(Deserialize)]
pub struct ReferralForm {
    pub kind: String,
    pub to_agency: String,
    /// dd/mm/yyyy; blank: the kind's usual number of days from today.
    #[serde(default)]
    pub due_on: String,
    #[serde(default)]
    pub purpose: String,
    /// Without the person's consent, for a user with the override right.
    #[serde(default)]
    pub legal_basis: String,
}

/// Send a referral about a case the viewer's agency owns, after checking the person's consent.
pub async fn send(
    state: &AppState,
    viewer: &Viewer,
    v: &VictimCase,
    form: &ReferralForm,
) -> AppResult<Result<(), FieldErrors>> {
    let t = today(state);
    let kind = state.profile.referrals.kind(form.kind.trim());
    let due = match (form.due_on.trim(), kind) {
        ("", Some(k)) => Some(t + time::Duration::days(i64::from(k.days))),
        (s, _) => parse_date(s),
    };
    let Some(due) = due else { return Ok(Err(vec![("referral_due".into(), "error.date".into())])) };
    let to = state.store.agency(form.to_agency.trim()).await?.filter(|a| a.active);
    let to_kind = to.as_ref().map(|a| a.kind.as_str()).unwrap_or_default();
    let to_is_sender = to.as_ref().is_some_and(|a| a.id == viewer.agency.id);
    if let Err(e) = referral::check_send(&state.profile.referrals, form.kind.trim(), to_kind, to_is_sender, due, t) {
        let field = match e {
            referral::ReferralError::UnknownKind => "referral_kind",
            referral::ReferralError::DueInPast => "referral_due",
            _ => "to_agency",
        };
        return Ok(Err(vec![(field.into(), e.key().into())]));
    }
    let Some(to) = to else { return Ok(Err(vec![("to_agency".into(), "error.choice".into())])) };
    let (consent_id, legal_basis) =
        match consent_or_basis(state, viewer, &v.person_id, &to.id, &form.legal_basis).await? {
            Ok(Disclosure::Consent(c)) => (Some(c), None),
            Ok(Disclosure::LegalBasis(b)) => (None, Some(b)),
            Err((field, key)) => {
                let field = if field == "agency" { "to_agency" } else { "referral_legal_basis" };
                return Ok(Err(vec![(field.into(), key.into())]));
            }
        };
    let mut cmd = state.store.command(&viewer.actor()).await?;
    let new = NewReferral {
        case_id: &v.id,
        kind: form.kind.trim(),
        from_agency_id: &viewer.agency.id,
        to_agency_id: &to.id,
        purpose: &form.purpose,
        due_on: due,
        consent_id: consent_id.as_deref(),
        legal_basis: legal_basis.as_deref(),
    };
    victims::send_referral(&mut cmd, &state.store.keys, &new).await?;
    cmd.commit().await?;
    Ok(Ok(()))
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
    let incoming = lines(state, &c, state.store.referrals_of_agency(&viewer.agency.id, true, 200).await?).await?;
    let outgoing = lines(state, &c, state.store.referrals_of_agency(&viewer.agency.id, false, 200).await?).await?;
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
    let r = state.store.referral(id).await?.ok_or(AppError::NotFound)?;
    if r.to_agency_id != viewer.agency.id {
        return Err(AppError::Forbidden);
    }
    let status = Status::from_code(&r.status).ok_or_else(|| anyhow::anyhow!("stored referral status {}", r.status))?;
    let due = parse_date(&r.due_on).ok_or_else(|| anyhow::anyhow!("stored referral due date"))?;
    if let Err(e) = referral::answer(status, a, reason, due, today(state)) {
        return list_page(state, viewer, c, Some(e.key())).await;
    }
    if a == Answer::Accept && r.legal_basis.is_none() {
        // The consent the referral rests on must still be in force: a withdrawal before acceptance ends it.
        let case = state.store.victim_case(&r.case_id).await?.ok_or(AppError::NotFound)?;
        let t = today(state);
        let in_force = state
            .store
            .consents(&case.person_id)
            .await?
            .iter()
            .any(|k| Some(&k.id) == r.consent_id.as_ref() && k.consent().is_some_and(|k| k.in_force(t)));
        if !in_force {
            return list_page(state, viewer, c, Some(referral::ReferralError::NoConsent.key())).await;
        }
    }
    let mut cmd = state.store.command(&viewer.actor()).await?;
    let done = match a {
        Answer::Accept => {
            // Access lasts to the end of the due day in Viet Nam.
            let until = (due + time::Duration::days(1)).midnight().assume_offset(haven_domain::time::VN_OFFSET);
            // The receiver reads only the parts of the case its kind of referral needs.
            let scope = state.profile.referrals.scope(&r.kind);
            // The person record opens with the case only when the referring agency owns it: an agency reading a
            // record on a grant does not pass it on.
            let owner = state.store.person(&r.person_id).await?.map(|p| p.owner_agency_id);
            let person = (haven_domain::victims::Parts::from_scope(Some(&scope)).person
                && owner.as_deref() == Some(r.from_agency_id.as_str()))
            .then_some(r.person_id.as_str());
            victims::accept_referral(&mut cmd, &r, haven_domain::time::to_millis(until), &scope, person).await?
        }
        Answer::Decline => victims::decline_referral(&mut cmd, &r, reason).await?,
        Answer::Complete => victims::complete_referral(&mut cmd, &r).await?,
    };
    if !done {
        // Answered meanwhile by a colleague.
        return list_page(state, viewer, c, Some(referral::ReferralError::WrongStatus.key())).await;
    }
    cmd.commit().await?;
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
