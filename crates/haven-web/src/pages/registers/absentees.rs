//! The absentee pages: a commune's register with counts per commune, a new entry, an entry with its reviews,
//! sealed details and candidate matches, and the review rounds with their counts. The use cases are
//! `haven_app::registers::absentees`.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use haven_app::input::opt;
use haven_app::persons::PURPOSES;
use haven_app::registers::absentees::{self as app, commune_name, AbsenteeForm, ReviewForm, RoundForm, RoundTable};
use haven_domain::format::{date as show_date, parse_date};
use haven_domain::person::BirthDate;
use haven_domain::registers::absentees::Outcome;
use haven_store::registers::{AbsenteeDetails, AbsenteeRow, ReviewRow, RoundRow};
use serde::Deserialize;

use crate::ctx::{self as guards, Can, CsrfForm, Viewer};
use crate::error::AppResult;
use crate::page::{ok, render, Ctx, FormState};
use crate::views::matches::{candidate_lines, CandidateLine};
use crate::views::table::{send, Cell, Download, Table};
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/absentees", get(absentee_list).post(absentee_create))
        .route("/absentees/new", get(absentee_new))
        .route("/absentees/download", post(absentee_download))
        .route("/absentees/names", post(absentee_names))
        .route("/absentees/rounds", get(rounds).post(round_create))
        .route("/absentees/{id}", get(absentee_show))
        .route("/absentees/{id}/details", post(absentee_details))
        .route("/absentees/{id}/review", post(absentee_review))
}

/// The communes of the province, (code, name).
async fn commune_names(state: &AppState) -> AppResult<Vec<(String, String)>> {
    Ok(state.store.communes(&state.config.province).await?)
}

/// An absentee entry as the pages list it.
pub struct AbsenteeLine {
    pub a: AbsenteeRow,
    pub commune: String,
    pub since: String,
    pub outcome: String,
    /// Full name and birth date, once opened for a purpose (empty otherwise).
    pub name: String,
    pub born: String,
}

fn since_label(s: &Option<String>) -> String {
    s.as_deref().and_then(BirthDate::parse).map(|b| b.display()).unwrap_or_default()
}

fn absentee_lines(rows: Vec<AbsenteeRow>, communes: &[(String, String)]) -> Vec<AbsenteeLine> {
    rows.into_iter()
        .map(|a| AbsenteeLine {
            commune: commune_name(communes, &a.commune_code),
            since: since_label(&a.absent_since),
            outcome: a.last_outcome.clone().unwrap_or_default(),
            name: String::new(),
            born: String::new(),
            a,
        })
        .collect()
}

#[derive(Template)]
#[template(path = "absentees.html")]
struct AbsenteesPage {
    c: Ctx,
    f: FormState,
    lines: Vec<AbsenteeLine>,
    /// Whether the lines carry the names of the people listed (opened for a purpose).
    named: bool,
    /// Whether the viewer may open the names (reads identities).
    can_name: bool,
    purposes: &'static [&'static str],
    after: String,
    counts: Vec<(String, String, i64)>,
    communes: Vec<(String, String)>,
    commune: String,
    next: Option<String>,
    can_create: bool,
    dl: Download,
}

#[derive(Deserialize)]
struct ListQuery {
    #[serde(default)]
    commune: String,
    #[serde(default)]
    after: String,
}

const PAGE: i64 = 50;

async fn absentee_list(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::ViewRecords>,
    c: Ctx,
    Query(q): Query<ListQuery>,
) -> AppResult<Response> {
    list_view(&state, &viewer, c, q, None).await
}

#[derive(Deserialize)]
struct NamesForm {
    #[serde(default)]
    commune: String,
    #[serde(default)]
    after: String,
    #[serde(default)]
    names_purpose: String,
}

/// The same page of the list with the names of the people on it, opened for a purpose (audited per person).
async fn absentee_names(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::ViewIdentity>,
    c: Ctx,
    CsrfForm(form, pairs): CsrfForm<NamesForm>,
) -> AppResult<Response> {
    let q = ListQuery { commune: form.commune, after: form.after };
    list_view(&state, &viewer, c, q, Some((form.names_purpose, pairs))).await
}

/// A page of the list; with `names`, (purpose, the form sent), the names of its people opened for it.
async fn list_view(
    state: &AppState,
    viewer: &Viewer,
    c: Ctx,
    q: ListQuery,
    names: Option<(String, Vec<(String, String)>)>,
) -> AppResult<Response> {
    let communes = commune_names(state).await?;
    let (rows, next) = app::list(state, viewer, opt(&q.commune), opt(&q.after), PAGE).await?;
    let (mut f, mut status, mut opened) = (FormState::default(), StatusCode::OK, None);
    if let Some((purpose, pairs)) = names {
        match app::names_of(state, viewer, &rows, &purpose).await? {
            Ok(n) => opened = Some(n),
            Err(errors) => {
                f = FormState::with_errors(&pairs, errors);
                status = StatusCode::UNPROCESSABLE_ENTITY;
            }
        }
    }
    let counts = state
        .store
        .absentee_counts(&viewer.agency.id)
        .await?
        .into_iter()
        .map(|(code, n)| (commune_name(&communes, &code), code, n))
        .collect();
    let dl = Download::new("/absentees/download", &[("commune", &q.commune), ("after", &q.after)]);
    let mut lines = absentee_lines(rows, &communes);
    if let Some(names) = opened.as_ref() {
        for (l, n) in lines.iter_mut().zip(names) {
            (l.name, l.born) = (n.full_name.clone(), n.born.clone());
        }
    }
    Ok(render(
        status,
        &AbsenteesPage {
            c,
            f,
            named: opened.is_some(),
            can_name: viewer.can(haven_domain::Action::ViewIdentity),
            purposes: PURPOSES,
            after: q.after,
            lines,
            counts,
            communes,
            commune: q.commune,
            next,
            can_create: viewer.can(haven_domain::Action::CreateRecords),
            dl,
        },
    ))
}

#[derive(Deserialize)]
struct DownloadForm {
    #[serde(default)]
    commune: String,
    #[serde(default)]
    after: String,
    format: String,
}

/// The page of entries the list shows, as a file.
async fn absentee_download(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::ViewRecords>,
    c: Ctx,
    CsrfForm(form, _): CsrfForm<DownloadForm>,
) -> AppResult<Response> {
    let communes = commune_names(&state).await?;
    let (rows, _) = app::list(&state, &viewer, opt(&form.commune), opt(&form.after), PAGE).await?;
    let rows = absentee_lines(rows, &communes)
        .into_iter()
        .map(|l| {
            let outcome = if l.outcome.is_empty() { String::new() } else { c.tk("outcome", &l.outcome) };
            vec![
                Cell::text(l.a.case_code.clone()),
                Cell::text(l.commune.clone()),
                Cell::day_or(l.a.absent_since.as_deref().unwrap_or(""), &l.since),
                Cell::text(outcome),
            ]
        })
        .collect();
    let heads = ["reports.code", "person.commune", "absentees.since", "absentees.last_outcome"];
    let table = Table {
        name: c.t("absentees.entries").to_owned(),
        headers: heads.iter().map(|k| c.t(k).to_owned()).collect(),
        rows,
    };
    send(&state, &viewer, "absentees", &form.format, table).await
}

#[derive(Template)]
#[template(path = "absentee_new.html")]
struct AbsenteeNewPage {
    c: Ctx,
    f: FormState,
    communes: Vec<(String, String)>,
}

async fn absentee_new(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::CreateRecords>,
    c: Ctx,
) -> AppResult<Response> {
    Ok(ok(&AbsenteeNewPage { c, f: FormState::default(), communes: app::communes_for(&state, &viewer).await? }))
}

async fn absentee_create(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::CreateRecords>,
    c: Ctx,
    CsrfForm(form, pairs): CsrfForm<AbsenteeForm>,
) -> AppResult<Response> {
    match app::add(&state, &viewer, &form, None, None).await? {
        Ok(id) => Ok(Redirect::to(&format!("/absentees/{id}?done=absentee_created")).into_response()),
        Err(errors) => {
            let f = FormState::with_errors(&pairs, errors);
            let communes = app::communes_for(&state, &viewer).await?;
            Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &AbsenteeNewPage { c, f, communes }))
        }
    }
}

pub struct ReviewLine {
    pub r: ReviewRow,
    pub on: String,
}

#[derive(Template)]
#[template(path = "absentee.html")]
struct AbsenteePage {
    c: Ctx,
    f: FormState,
    a: AbsenteeLine,
    reviews: Vec<ReviewLine>,
    rounds: Vec<RoundRow>,
    candidates: Vec<CandidateLine>,
    details: Option<AbsenteeDetails>,
    can_edit: bool,
    can_open: bool,
    purposes: &'static [&'static str],
    outcomes: Vec<&'static str>,
}

async fn absentee_page(
    state: &AppState,
    viewer: &Viewer,
    c: Ctx,
    id: &str,
    f: FormState,
    details: Option<AbsenteeDetails>,
    status: StatusCode,
) -> AppResult<Response> {
    let a = app::visible(state, viewer, id).await?;
    let communes = commune_names(state).await?;
    let reviews = state
        .store
        .reviews_of_absentee(&a.id)
        .await?
        .into_iter()
        .map(|r| ReviewLine { on: parse_date(&r.outcome_on).map(show_date).unwrap_or_default(), r })
        .collect();
    let owner = a.owner_agency_id == viewer.agency.id;
    let rounds = if owner { state.store.rounds_of_agency(&viewer.agency.id).await? } else { Vec::new() };
    let candidates = candidate_lines(state, viewer, &c, &a.person_id).await?;
    let page = AbsenteePage {
        can_edit: owner && viewer.can(haven_domain::Action::EditRecords),
        can_open: viewer.can(haven_domain::Action::ViewIdentity),
        a: absentee_lines(vec![a], &communes).remove(0),
        c,
        f,
        reviews,
        rounds,
        candidates,
        details,
        purposes: PURPOSES,
        outcomes: Outcome::ALL.iter().map(|o| o.code()).collect(),
    };
    Ok(render(status, &page))
}

async fn absentee_show(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::ViewRecords>,
    c: Ctx,
    Path(id): Path<String>,
) -> AppResult<Response> {
    absentee_page(&state, &viewer, c, &id, FormState::default(), None, StatusCode::OK).await
}

#[derive(Deserialize)]
struct PurposeForm {
    #[serde(default)]
    purpose: String,
}

async fn absentee_details(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::ViewIdentity>,
    c: Ctx,
    Path(id): Path<String>,
    CsrfForm(form, _): CsrfForm<PurposeForm>,
) -> AppResult<Response> {
    match app::open_details(&state, &viewer, &id, &form.purpose).await? {
        Ok(details) => absentee_page(&state, &viewer, c, &id, FormState::default(), details, StatusCode::OK).await,
        Err(errors) => {
            let f = FormState { errors, ..FormState::default() };
            absentee_page(&state, &viewer, c, &id, f, None, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

async fn absentee_review(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::EditRecords>,
    c: Ctx,
    Path(id): Path<String>,
    CsrfForm(form, pairs): CsrfForm<ReviewForm>,
) -> AppResult<Response> {
    match app::record_review(&state, &viewer, &id, &form).await? {
        Ok(Some(victim)) => Ok(Redirect::to(&format!("/victims/{victim}?done=victim_from_register")).into_response()),
        Ok(None) => Ok(Redirect::to(&format!("/absentees/{id}?done=review_recorded")).into_response()),
        Err(errors) => {
            let f = FormState::with_errors(&pairs, errors);
            absentee_page(&state, &viewer, c, &id, f, None, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

#[derive(Template)]
#[template(path = "rounds.html")]
struct RoundsPage {
    c: Ctx,
    f: FormState,
    tables: Vec<RoundTable>,
    outcomes: Vec<&'static str>,
    can_create: bool,
}

async fn rounds_page(
    state: &AppState,
    viewer: &Viewer,
    c: Ctx,
    f: FormState,
    status: StatusCode,
) -> AppResult<Response> {
    let communes = commune_names(state).await?;
    let mut tables = Vec::new();
    for r in state.store.rounds_of_agency(&viewer.agency.id).await? {
        tables.push(app::round_table(state, &viewer.agency.id, r, &communes).await?);
    }
    Ok(render(
        status,
        &RoundsPage {
            c,
            f,
            tables,
            outcomes: Outcome::ALL.iter().map(|o| o.code()).collect(),
            can_create: viewer.can(haven_domain::Action::EditRecords),
        },
    ))
}

async fn rounds(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::ViewRecords>,
    c: Ctx,
) -> AppResult<Response> {
    rounds_page(&state, &viewer, c, FormState::default(), StatusCode::OK).await
}

async fn round_create(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::EditRecords>,
    c: Ctx,
    CsrfForm(form, pairs): CsrfForm<RoundForm>,
) -> AppResult<Response> {
    match app::create_round(&state, &viewer, &form).await? {
        Ok(_) => Ok(Redirect::to("/absentees/rounds?done=round_created").into_response()),
        Err(errors) => {
            let f = FormState::with_errors(&pairs, errors);
            rounds_page(&state, &viewer, c, f, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}
