//! Person pages: the list and look-up, a new person, the person page (identity opened with a purpose,
//! corrections, relatives, files, merging, sharing) and break-the-glass. The use cases are
//! `haven_app::persons`. This module holds the routes, the list and the look-up; `form.rs` the identity
//! form (new and corrected), `page.rs` the person page, `actions.rs` what is done from it.

use askama::Template;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use haven_app::persons as app;
use haven_domain::person as rules;
use haven_store::persons::PersonRow;
use serde::Deserialize;

use crate::ctx::{self as guards, Can, CsrfForm, Viewer};
use crate::error::AppResult;
use crate::page::{ok, render, Ctx, FormState};
use crate::AppState;

mod actions;
mod form;
mod page;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/persons", get(list).post(form::create))
        .route("/persons/search", post(search))
        .route("/persons/new", get(form::new_form))
        .route("/persons/{id}", get(page::show))
        .route("/persons/{id}/reveal", post(page::reveal))
        .route("/persons/{id}/correct", post(form::edit_form))
        .route("/persons/{id}/edit", post(form::edit))
        .route("/persons/{id}/relatives", post(actions::add_relative))
        .route(
            "/persons/{id}/attachments",
            // A photo or a scan, and the form around it.
            post(actions::attach).layer(DefaultBodyLimit::max(rules::MAX_ATTACHMENT_BYTES + 64 * 1024)),
        )
        .route("/persons/{id}/attachments/{attachment}", post(actions::download))
        .route("/persons/{id}/merge", post(actions::merge))
        .route("/persons/{id}/grants", post(actions::grant))
        .route("/persons/{id}/grants/{grant}/revoke", post(actions::revoke))
        .route("/persons/{id}/break-glass", get(actions::break_glass_form).post(actions::break_glass))
}

pub struct Line {
    pub id: String,
    pub case_code: String,
    pub commune: String,
    pub owner: String,
    pub created_at: i64,
    pub accessible: bool,
}

async fn lines(state: &AppState, viewer: &Viewer, rows: Vec<PersonRow>) -> AppResult<Vec<Line>> {
    let agencies = state.store.agencies().await?;
    let codes: Vec<&str> = rows.iter().filter_map(|p| p.commune_code.as_deref()).collect();
    let communes = state.store.unit_names(&codes).await?;
    let mut out = Vec::with_capacity(rows.len());
    for p in rows {
        let accessible = app::decision(state, viewer, &p).await?.allowed();
        let owner = agencies
            .iter()
            .find(|a| a.id == p.owner_agency_id)
            .map(
                |a| if viewer.lang() == haven_domain::format::Lang::En { a.name_en.clone() } else { a.name_vi.clone() },
            )
            .unwrap_or_default();
        let commune = p.commune_code.as_ref().and_then(|c| communes.get(c)).cloned().unwrap_or_default();
        out.push(Line { id: p.id, case_code: p.case_code, commune, owner, created_at: p.created_at, accessible });
    }
    Ok(out)
}

#[derive(Template)]
#[template(path = "persons.html")]
struct ListPage {
    c: Ctx,
    f: FormState,
    view: String,
    q: String,
    /// How the search read what was typed (`name`, `id_number`, ...), once searched.
    searched: Option<&'static str>,
    lines: Vec<Line>,
    next: Option<String>,
    can_create: bool,
    purposes: &'static [&'static str],
}

#[derive(Deserialize, Default)]
struct ListQuery {
    view: Option<String>,
    after: Option<String>,
}

async fn list(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::ViewRecords>,
    c: Ctx,
    Query(q): Query<ListQuery>,
) -> AppResult<Response> {
    let view = q.view.unwrap_or_else(|| "own".into());
    let (rows, next) = if view == "shared" {
        (state.store.persons_shared_with(&viewer.agency.id, &viewer.user.id, state.store.now()).await?, None)
    } else {
        let page = state.store.persons_of_agency(&viewer.agency.id, q.after.as_deref(), 50).await?;
        (page.items, page.next)
    };
    let lines = lines(&state, &viewer, rows).await?;
    let can_create = viewer.can(haven_domain::Action::CreateRecords);
    let f = FormState::default();
    Ok(ok(&ListPage { c, f, view, q: String::new(), searched: None, lines, next, can_create, purposes: app::PURPOSES }))
}

#[derive(Deserialize)]
struct SearchForm {
    q: String,
    #[serde(default)]
    purpose: String,
}

/// Find a person by ID number, phone, passport, case code or name. A POST, so what was typed never sits in a
/// URL, history or a proxy's log; only records the user may open are listed, and each search is audited with
/// its purpose and a keyed hash of what was looked for.
async fn search(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::ViewRecords>,
    c: Ctx,
    CsrfForm(form, pairs): CsrfForm<SearchForm>,
) -> AppResult<Response> {
    let query = form.q.trim().to_owned();
    let can_create = viewer.can(haven_domain::Action::CreateRecords);
    let purposes = app::PURPOSES;
    match app::search(&state, &viewer, &query, &form.purpose).await? {
        Ok(found) => {
            let lines = lines(&state, &viewer, found.rows).await?;
            let f = FormState::with_errors(&pairs, Vec::new());
            let page = ListPage {
                c,
                f,
                view: String::new(),
                q: query,
                searched: Some(found.kind),
                lines,
                next: None,
                can_create,
                purposes,
            };
            Ok(ok(&page))
        }
        Err(errors) => {
            let f = FormState::with_errors(&pairs, errors);
            let page = ListPage {
                c,
                f,
                view: String::new(),
                q: query,
                searched: None,
                lines: Vec::new(),
                next: None,
                can_create,
                purposes,
            };
            Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page))
        }
    }
}
