//! The handover pages: the batches an agency received, a batch with its people, a returnee with the
//! screening interview, its candidate matches and its sealed notes. The use cases are
//! `haven_app::registers::handovers`.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use haven_app::persons::PURPOSES;
use haven_app::registers::handovers::{self as app, BatchForm, ScreeningForm, ScreeningRecord};
use haven_app::registers::PersonFields;
use haven_domain::format::{date as show_date, parse_date, Lang};
use haven_domain::registers::screening::{self, Classification};
use haven_store::registers::{BatchRow, ReturneeRow};
use serde::Deserialize;

use crate::ctx::{self as guards, Can, CsrfForm, Viewer};
use crate::error::AppResult;
use crate::page::{render, Ctx, FormState};
use crate::views::matches::{candidate_lines, CandidateLine};
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/handovers", get(batch_list).post(batch_create))
        .route("/handovers/{id}", get(batch_show))
        .route("/handovers/{id}/people", post(returnee_create))
        .route("/returnees/{id}", get(returnee_show).post(returnee_screen))
        .route("/returnees/{id}/screening", post(returnee_screening_open))
}

pub struct BatchLine {
    pub b: BatchRow,
    pub on: String,
    pub gate: String,
}

fn batch_line(state: &AppState, lang: Lang, b: BatchRow) -> BatchLine {
    let gate = state
        .profile
        .gates
        .iter()
        .find(|g| g.code == b.gate)
        .map(|g| if lang == Lang::En { g.name_en.clone() } else { g.name_vi.clone() })
        .unwrap_or_else(|| b.gate.clone());
    BatchLine { on: parse_date(&b.handed_on).map(show_date).unwrap_or_default(), gate, b }
}

#[derive(Template)]
#[template(path = "handovers.html")]
struct BatchesPage {
    c: Ctx,
    f: FormState,
    lines: Vec<BatchLine>,
    gates: Vec<(String, String)>,
    countries: Vec<&'static str>,
    can_create: bool,
}

/// Countries that hand citizens back most often, offered first on the form.
const HANDING_COUNTRIES: &[&str] = &["KH", "CN", "LA", "MM", "TH", "MY", "KR", "JP", "TW"];

async fn batches_page(
    state: &AppState,
    viewer: &Viewer,
    c: Ctx,
    f: FormState,
    status: StatusCode,
) -> AppResult<Response> {
    let lines = app::batches(state, viewer, 200).await?.into_iter().map(|b| batch_line(state, c.lang, b)).collect();
    let gates = state
        .profile
        .gates
        .iter()
        .map(|g| (g.code.clone(), if c.lang == Lang::En { g.name_en.clone() } else { g.name_vi.clone() }))
        .collect();
    Ok(render(
        status,
        &BatchesPage {
            c,
            f,
            lines,
            gates,
            countries: HANDING_COUNTRIES.to_vec(),
            can_create: viewer.can(haven_domain::Action::CreateRecords),
        },
    ))
}

async fn batch_list(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::ViewRecords>,
    c: Ctx,
) -> AppResult<Response> {
    batches_page(&state, &viewer, c, FormState::default(), StatusCode::OK).await
}

async fn batch_create(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::CreateRecords>,
    c: Ctx,
    CsrfForm(form, pairs): CsrfForm<BatchForm>,
) -> AppResult<Response> {
    match app::create_batch(&state, &viewer, &form).await? {
        Ok(id) => Ok(Redirect::to(&format!("/handovers/{id}?done=batch_created")).into_response()),
        Err(errors) => {
            let f = FormState::with_errors(&pairs, errors);
            batches_page(&state, &viewer, c, f, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

pub struct ReturneeLine {
    pub r: ReturneeRow,
    /// Open candidate matches of the person.
    pub matches: usize,
}

#[derive(Template)]
#[template(path = "handover.html")]
struct BatchPage {
    c: Ctx,
    f: FormState,
    b: BatchLine,
    people: Vec<ReturneeLine>,
    communes: Vec<(String, String)>,
    can_add: bool,
}

async fn batch_page(
    state: &AppState,
    viewer: &Viewer,
    c: Ctx,
    id: &str,
    f: FormState,
    status: StatusCode,
) -> AppResult<Response> {
    let b = app::visible_batch(state, viewer, id).await?;
    let mut people = Vec::new();
    for r in state.store.returnees_of_batch(&b.id).await? {
        let matches =
            state.store.candidates_of_person(&r.person_id).await?.iter().filter(|m| m.status == "open").count();
        people.push(ReturneeLine { r, matches });
    }
    let can_add = b.owner_agency_id == viewer.agency.id && viewer.can(haven_domain::Action::CreateRecords);
    let communes = state.store.communes(&state.config.province).await?;
    let page = BatchPage { b: batch_line(state, c.lang, b), c, f, people, communes, can_add };
    Ok(render(status, &page))
}

async fn batch_show(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::ViewRecords>,
    c: Ctx,
    Path(id): Path<String>,
) -> AppResult<Response> {
    batch_page(&state, &viewer, c, &id, FormState::default(), StatusCode::OK).await
}

async fn returnee_create(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::CreateRecords>,
    c: Ctx,
    Path(id): Path<String>,
    CsrfForm(form, pairs): CsrfForm<PersonFields>,
) -> AppResult<Response> {
    let b = app::visible_batch(&state, &viewer, &id).await?;
    match app::add_returnee(&state, &viewer, &b, &form, None, None).await? {
        Ok(r) => Ok(Redirect::to(&format!("/returnees/{r}?done=returnee_added")).into_response()),
        Err(errors) => {
            let f = FormState::with_errors(&pairs, errors);
            batch_page(&state, &viewer, c, &id, f, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

/// One question of the interview form, in the viewer's language.
pub struct Question {
    pub group: String,
    pub code: String,
    pub text: String,
    pub strong: bool,
}

#[derive(Template)]
#[template(path = "returnee.html")]
struct ReturneePage {
    c: Ctx,
    f: FormState,
    r: ReturneeRow,
    b: BatchLine,
    questions: Vec<Question>,
    classifications: Vec<&'static str>,
    candidates: Vec<CandidateLine>,
    indicators: Vec<String>,
    can_screen: bool,
    /// The interview's notes and the reason for the classification, opened with a purpose.
    record: Option<ScreeningRecord>,
    can_open: bool,
    purposes: &'static [&'static str],
    /// Pairs still waiting for a decision.
    to_review: usize,
    /// The part shown open: the one asked for, or the one whose form has an error or was just opened.
    open: Option<&'static str>,
}

/// The parts of a returnee's page, closed until asked for: the possible matches, and the screening.
const RETURNEE_PARTS: [&str; 2] = ["matches", "screening"];

#[allow(clippy::too_many_arguments)]
async fn returnee_page(
    state: &AppState,
    viewer: &Viewer,
    c: Ctx,
    id: &str,
    f: FormState,
    record: Option<ScreeningRecord>,
    open: Option<&'static str>,
    status: StatusCode,
) -> AppResult<Response> {
    let (r, b) = app::visible_returnee(state, viewer, id).await?;
    let open = if f.has_errors() || record.is_some() { Some("screening") } else { open };
    let questions = state
        .profile
        .screening
        .indicators
        .iter()
        .map(|i| Question {
            group: i.group.clone(),
            code: i.code.clone(),
            text: if c.lang == Lang::En { i.question_en.clone() } else { i.question_vi.clone() },
            strong: i.strength == screening::Strength::Strong,
        })
        .collect::<Vec<_>>();
    let indicators = r
        .indicators
        .as_deref()
        .unwrap_or_default()
        .split_whitespace()
        .map(|code| {
            questions.iter().find(|q| q.code == code).map(|q| q.text.clone()).unwrap_or_else(|| code.to_owned())
        })
        .collect();
    let candidates = candidate_lines(state, viewer, &c, &r.person_id).await?;
    let to_review = candidates.iter().filter(|m| m.status == "open").count();
    // A pair waiting for a decision is the first thing to see: recognition at entry must not hide.
    let open = open.or((to_review > 0).then_some("matches"));
    let can_screen = r.owner_agency_id == viewer.agency.id
        && r.classification.is_none()
        && viewer.can(haven_domain::Action::EditRecords);
    let can_open = record.is_none()
        && r.classification.is_some()
        && haven_app::access::may_unseal(viewer, &r.owner_agency_id, &[]);
    let page = ReturneePage {
        b: batch_line(state, c.lang, b),
        c,
        f,
        r,
        questions,
        classifications: Classification::ALL.iter().map(|k| k.code()).collect(),
        candidates,
        indicators,
        can_screen,
        can_open,
        record,
        purposes: PURPOSES,
        to_review,
        open,
    };
    Ok(render(status, &page))
}

#[derive(Deserialize)]
struct ShowQuery {
    /// The part to show open (`?open=screening`); unknown names open none.
    open: Option<String>,
}

async fn returnee_show(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::ViewRecords>,
    c: Ctx,
    Path(id): Path<String>,
    Query(q): Query<ShowQuery>,
) -> AppResult<Response> {
    let open = q.open.as_deref().and_then(|o| RETURNEE_PARTS.into_iter().find(|p| *p == o));
    returnee_page(&state, &viewer, c, &id, FormState::default(), None, open, StatusCode::OK).await
}

#[derive(Deserialize)]
struct PurposeForm {
    #[serde(default)]
    purpose: String,
}

/// Open a screened returnee's interview notes and reason, with a purpose.
async fn returnee_screening_open(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::ViewIdentity>,
    c: Ctx,
    Path(id): Path<String>,
    CsrfForm(form, _): CsrfForm<PurposeForm>,
) -> AppResult<Response> {
    match app::open_screening(&state, &viewer, &id, &form.purpose).await? {
        Ok(record) => returnee_page(&state, &viewer, c, &id, FormState::default(), record, None, StatusCode::OK).await,
        Err(errors) => {
            let f = FormState { errors, ..FormState::default() };
            returnee_page(&state, &viewer, c, &id, f, None, None, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

async fn returnee_screen(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::EditRecords>,
    c: Ctx,
    Path(id): Path<String>,
    CsrfForm(_, pairs): CsrfForm<ScreeningPairs>,
) -> AppResult<Response> {
    let form = ScreeningForm {
        yes: pairs.iter().filter(|(k, _)| k == "yes").map(|(_, v)| v.clone()).collect(),
        classification: value(&pairs, "classification"),
        reason: value(&pairs, "reason"),
        notes: value(&pairs, "notes"),
    };
    match app::screen(&state, &viewer, &id, &form).await? {
        Ok(Some(victim)) => Ok(Redirect::to(&format!("/victims/{victim}?done=victim_from_register")).into_response()),
        Ok(None) => Ok(Redirect::to(&format!("/returnees/{id}?done=screened")).into_response()),
        Err(errors) => {
            let f = FormState::with_errors(&pairs, errors);
            returnee_page(&state, &viewer, c, &id, f, None, None, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

/// The screening form read from its raw pairs (its "yes" boxes repeat).
#[derive(Deserialize)]
struct ScreeningPairs {}

fn value(pairs: &[(String, String)], key: &str) -> String {
    pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone()).unwrap_or_default()
}
