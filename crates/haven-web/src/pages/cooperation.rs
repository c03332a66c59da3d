//! The cooperation pages: the lists (awaiting an answer, overdue, all), a new request, a request with its
//! linked records, its sealed text, the answer and the withdrawal. The use cases are
//! `haven_app::cooperation`.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use haven_app::cooperation::{self as app, AnswerForm, Linked, RequestForm, NOT_AWAITING};
use haven_domain::cooperation::{self as rules, Status};
use haven_store::cooperation::RequestText;
use serde::Deserialize;

use crate::ctx::{self as guards, Can, CsrfForm, Viewer};
use crate::error::AppResult;
use crate::page::{render, Ctx, FormState};
use crate::views::cooperation::{line, Line};
use crate::views::table::{send, Cell, Download, Table};
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/cooperation", get(list).post(create))
        .route("/cooperation/download", post(download))
        .route("/cooperation/{id}", get(show))
        .route("/cooperation/{id}/answer", post(answer))
        .route("/cooperation/{id}/withdraw", post(withdraw))
}

#[derive(Deserialize)]
struct ListQuery {
    list: Option<String>,
}

#[derive(Template)]
#[template(path = "cooperation.html")]
struct ListPage {
    c: Ctx,
    f: FormState,
    list: &'static str,
    lines: Vec<Line>,
    awaiting: i64,
    overdue: i64,
    can_create: bool,
    countries: &'static [&'static str],
    dl: Download,
}

impl ListPage {
    fn kinds(&self) -> &'static [&'static str] {
        &rules::KINDS
    }
    fn directions(&self) -> &'static [&'static str] {
        &rules::DIRECTIONS
    }
    fn counterparts(&self) -> &'static [&'static str] {
        &rules::COUNTERPARTS
    }
}

async fn list_page(
    state: &AppState,
    viewer: &Viewer,
    c: Ctx,
    list: Option<&str>,
    f: FormState,
    status: StatusCode,
) -> AppResult<Response> {
    let today = state.today();
    let (rows, awaiting, overdue) = app::list(state, viewer, list, 500).await?;
    let lines = rows.into_iter().map(|r| line(r, today)).collect();
    let list = app::listed(list, Status::Open).0;
    let dl = Download::new("/cooperation/download", &[("list", list)]);
    let can_create = viewer.can(haven_domain::Action::CreateRecords);
    let countries = haven_app::victims::COUNTRIES;
    let page = ListPage { c, f, list, lines, awaiting, overdue, can_create, countries, dl };
    Ok(render(status, &page))
}

async fn list(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::ViewRecords>,
    c: Ctx,
    Query(q): Query<ListQuery>,
) -> AppResult<Response> {
    list_page(&state, &viewer, c, q.list.as_deref(), FormState::default(), StatusCode::OK).await
}

#[derive(Deserialize)]
struct DownloadForm {
    #[serde(default)]
    list: String,
    format: String,
}

/// The list as the page shows it, as a file.
async fn download(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::ViewRecords>,
    c: Ctx,
    CsrfForm(form, _): CsrfForm<DownloadForm>,
) -> AppResult<Response> {
    let today = state.today();
    let (rows, _, _) = app::list(&state, &viewer, Some(form.list.as_str()), 500).await?;
    let list = app::listed(Some(form.list.as_str()), Status::Open).0;
    let heads = [
        "cooperation.code",
        "cooperation.direction",
        "cooperation.kind",
        "cooperation.country",
        "cooperation.counterpart",
        "cooperation.sent_on",
        "cooperation.due_on",
        "cooperation.status",
    ];
    let rows = rows
        .into_iter()
        .map(|r| line(r, today))
        .map(|l| {
            vec![
                Cell::text(l.r.case_code.clone()),
                Cell::text(c.tk("cooperation.direction", &l.r.direction)),
                Cell::text(c.tk("cooperation.kind", &l.r.kind)),
                Cell::text(c.tk("country", &l.r.country)),
                Cell::text(l.r.counterpart.clone()),
                Cell::day(&l.r.sent_on),
                Cell::day(&l.r.due_on),
                Cell::text(c.tk("cooperation.status", l.status)),
            ]
        })
        .collect();
    let name = format!("{} - {}", c.t("nav.cooperation"), c.t(&format!("cooperation.list_{list}")));
    let table = Table { name, headers: heads.iter().map(|k| c.t(k).to_owned()).collect(), rows };
    send(&state, &viewer, &format!("cooperation.{list}"), &form.format, table).await
}

async fn create(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::CreateRecords>,
    c: Ctx,
    CsrfForm(form, pairs): CsrfForm<RequestForm>,
) -> AppResult<Response> {
    match app::create(&state, &viewer, &form).await? {
        Ok(id) => Ok(Redirect::to(&format!("/cooperation/{id}?done=cooperation_recorded")).into_response()),
        Err(errors) => {
            let f = FormState::with_errors(&pairs, errors);
            list_page(&state, &viewer, c, None, f, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

#[derive(Template)]
#[template(path = "cooperation_request.html")]
struct RequestPage {
    c: Ctx,
    f: FormState,
    l: Line,
    linked: Vec<Linked>,
    text: RequestText,
    answered: String,
    /// The viewer's agency owns it and may record: the answer and withdraw forms show while it awaits one.
    can_act: bool,
    awaiting: bool,
}

impl RequestPage {
    fn outcomes(&self) -> &'static [&'static str] {
        &rules::OUTCOMES
    }
}

async fn request_page(
    state: &AppState,
    viewer: &Viewer,
    c: Ctx,
    id: &str,
    f: FormState,
    status: StatusCode,
) -> AppResult<Response> {
    let r = app::visible(state, viewer, id).await?;
    let owner = r.owner_agency_id == viewer.agency.id;
    let text = app::open_text(state, viewer, &r).await?;
    let linked = app::linked(state, viewer, &r).await?;
    let today = state.today();
    let awaiting = r.status(today).awaiting();
    let answered = crate::page::display_opt(&r.answered_on);
    let can_act = owner && viewer.can(haven_domain::Action::CreateRecords);
    let page = RequestPage { c, f, l: line(r, today), linked, text, answered, can_act, awaiting };
    Ok(render(status, &page))
}

async fn show(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::ViewRecords>,
    c: Ctx,
    Path(id): Path<String>,
) -> AppResult<Response> {
    request_page(&state, &viewer, c, &id, FormState::default(), StatusCode::OK).await
}

/// After an answer or a withdrawal: the request with a confirmation, or again with what went wrong; a
/// request that no longer awaits an answer is a conflict with its state (409).
async fn after(
    state: &AppState,
    viewer: &Viewer,
    c: Ctx,
    id: &str,
    pairs: &[(String, String)],
    outcome: haven_app::Outcome<()>,
    done: &str,
) -> AppResult<Response> {
    match outcome {
        Ok(()) => Ok(Redirect::to(&format!("/cooperation/{id}?done={done}")).into_response()),
        Err(errors) => {
            let conflict = errors.iter().any(|(_, key)| key == NOT_AWAITING);
            let status = if conflict { StatusCode::CONFLICT } else { StatusCode::UNPROCESSABLE_ENTITY };
            request_page(state, viewer, c, id, FormState::with_errors(pairs, errors), status).await
        }
    }
}

async fn answer(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::CreateRecords>,
    c: Ctx,
    Path(id): Path<String>,
    CsrfForm(form, pairs): CsrfForm<AnswerForm>,
) -> AppResult<Response> {
    let outcome = app::answer(&state, &viewer, &id, &form).await?;
    after(&state, &viewer, c, &id, &pairs, outcome, "cooperation_answered").await
}

#[derive(Deserialize)]
struct Empty {}

async fn withdraw(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::CreateRecords>,
    c: Ctx,
    Path(id): Path<String>,
    CsrfForm(_, _): CsrfForm<Empty>,
) -> AppResult<Response> {
    let outcome = app::withdraw(&state, &viewer, &id).await?;
    after(&state, &viewer, c, &id, &[], outcome, "cooperation_withdrawn").await
}
