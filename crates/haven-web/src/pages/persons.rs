//! Person records: the first record kind behind need-to-know access. Lists and pages show the pseudonymous
//! case code; the identity opens only for a role that may see it, with a stated purpose, and the view is
//! audited. Other agencies reach a record through a grant or, in an emergency, by breaking the glass.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use haven_domain::access::{self, AccessDecision};
use haven_domain::cases::PersonRole;
use haven_domain::person::{normalise_phone, BirthDate, IdNumber, IdentityInput};
use haven_domain::time::{local_date, MINUTE};
use haven_store::access::NewBreakGlass;
use haven_store::persons::{self, OpenedIdentity, PersonRow, KIND};
use serde::Deserialize;

use crate::ctx::{self as guards, Can, CsrfForm, Viewer};
use crate::error::{AppError, AppResult};
use crate::page::{ok, render, Ctx, FormState};
use crate::pages::sharing::{self, Sharing};
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/persons", get(list).post(create))
        .route("/persons/search", post(search))
        .route("/persons/new", get(new_form))
        .route("/persons/{id}", get(show))
        .route("/persons/{id}/reveal", post(reveal))
        .route("/persons/{id}/grants", post(grant))
        .route("/persons/{id}/grants/{grant}/revoke", post(revoke))
        .route("/persons/{id}/break-glass", get(break_glass_form).post(break_glass))
}

/// Purposes a viewer can give for opening an identity (translation keys `purpose.<code>`).
pub const PURPOSES: &[&str] = &["case_work", "verification", "support", "referral", "legal_proceedings"];

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
        let accessible = decide(state, viewer, &p).await?.allowed();
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

async fn decide(state: &AppState, viewer: &Viewer, p: &PersonRow) -> AppResult<AccessDecision> {
    Ok(crate::pages::record_access(state, viewer, KIND, &p.id, &p.owner_agency_id, &[]).await?)
}

#[derive(Template)]
#[template(path = "persons.html")]
struct ListPage {
    c: Ctx,
    view: String,
    q: String,
    lines: Vec<Line>,
    next: Option<String>,
    can_create: bool,
    searched: bool,
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
    Ok(ok(&ListPage { c, view, q: String::new(), lines, next, can_create, searched: false }))
}

#[derive(Deserialize)]
struct SearchForm {
    q: String,
}

/// Exact look-up by ID number, phone or case code. A POST, so the number never sits in a URL, history or a
/// proxy's log; each look-up is audited with the kind of value searched (never the value itself).
async fn search(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::ViewRecords>,
    c: Ctx,
    CsrfForm(form, _): CsrfForm<SearchForm>,
) -> AppResult<Response> {
    let query = form.q.trim().to_owned();
    let (kind, rows) = if let Some(id) = IdNumber::parse(&query) {
        ("id_number", state.store.find_persons_by_id_number(id.as_str()).await?)
    } else if let Some(phone) = normalise_phone(&query).filter(|_| !query.contains('-')) {
        ("phone", state.store.find_persons_by_phone(&phone).await?)
    } else {
        ("case_code", state.store.find_persons_by_case_code(&query).await?)
    };
    let mut cmd = state.store.command(&viewer.actor()).await?;
    cmd.audit(haven_store::Entry::new("person.search", KIND, "").fields(&[kind])).await?;
    cmd.commit().await?;
    let lines = lines(&state, &viewer, rows).await?;
    let can_create = viewer.can(haven_domain::Action::CreateRecords);
    Ok(ok(&ListPage { c, view: String::new(), q: query, lines, next: None, can_create, searched: true }))
}

#[derive(Template)]
#[template(path = "person_new.html")]
struct NewPage {
    c: Ctx,
    f: FormState,
    communes: Vec<(String, String)>,
}

#[derive(Deserialize)]
struct NewQuery {
    /// Name the new person on a record once created: `report:<id>` or `case:<id>`.
    link: Option<String>,
    role: Option<String>,
}

async fn new_form(
    State(state): State<AppState>,
    Can(..): Can<guards::CreateRecords>,
    c: Ctx,
    Query(q): Query<NewQuery>,
) -> AppResult<Response> {
    let communes = state.store.communes(&state.config.province).await?;
    let mut f = FormState::default();
    if let (Some(link), Some(role)) = (q.link, q.role) {
        f.values.push(("link".into(), link));
        f.values.push(("link_role".into(), role));
    }
    Ok(ok(&NewPage { c, f, communes }))
}

/// A new person as a form or the API sends it.
#[derive(Deserialize)]
pub struct NewPerson {
    pub full_name: String,
    #[serde(default)]
    pub birth_date: String,
    #[serde(default)]
    pub sex: String,
    #[serde(default)]
    pub id_number: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub commune_code: String,
    /// Pages only: the report or case (`report:<id>`, `case:<id>`) to name the new person on, and the role.
    #[serde(default)]
    pub link: String,
    #[serde(default)]
    pub link_role: String,
}

impl NewPerson {
    pub fn input(self) -> IdentityInput {
        IdentityInput {
            full_name: self.full_name,
            birth_date: self.birth_date,
            sex: self.sex,
            id_number: self.id_number,
            phone: self.phone,
            address: self.address,
            commune_code: self.commune_code,
        }
    }
}

/// Validate and create a person for the viewer's agency; field errors come back as (field, key) pairs.
pub async fn create_person(
    state: &AppState,
    viewer: &Viewer,
    input: IdentityInput,
) -> AppResult<Result<String, Vec<(String, String)>>> {
    create_and_link(state, viewer, input, None).await
}

/// Create a person and, in the same transaction, name them on a report or case: both or neither.
async fn create_and_link(
    state: &AppState,
    viewer: &Viewer,
    input: IdentityInput,
    link: Option<&(LinkTarget, PersonRole)>,
) -> AppResult<Result<String, Vec<(String, String)>>> {
    let year = local_date(state.store.now()).map(|d| d.year()).unwrap_or(2100);
    let mut identity = match input.validate(year) {
        Ok(i) => i,
        Err(errs) => return Ok(Err(errs.into_iter().map(|e| (e.field.to_owned(), e.key.to_owned())).collect())),
    };
    if let Some(code) = &identity.commune_code {
        if !state.store.unit_exists(code).await? {
            return Ok(Err(vec![("commune_code".into(), "error.choice".into())]));
        }
    }
    identity.commune_code = identity.commune_code.filter(|c| !c.is_empty());
    let mut cmd = state.store.command(&viewer.actor()).await?;
    let id = persons::create(&mut cmd, &state.store.keys, &viewer.agency.id, &identity).await?;
    match link {
        Some((LinkTarget::Report(r), role)) => {
            haven_store::reports::add_person(&mut cmd, r, &id, *role).await?;
        }
        Some((LinkTarget::Case(k), role)) => {
            haven_store::cases::add_person(&mut cmd, k, &id, *role).await?;
        }
        None => {}
    }
    cmd.commit().await?;
    Ok(Ok(id))
}

async fn create(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::CreateRecords>,
    c: Ctx,
    CsrfForm(form, pairs): CsrfForm<NewPerson>,
) -> AppResult<Response> {
    let link = link_target(&state, &viewer, &form.link, &form.link_role).await?;
    if link.is_none() && !form.link.is_empty() {
        // Asked to name the person on a record this user may not change: refuse rather than ignore it.
        return Err(AppError::Forbidden);
    }
    match create_and_link(&state, &viewer, form.input(), link.as_ref()).await? {
        Ok(id) => Ok(Redirect::to(&match &link {
            Some((LinkTarget::Report(r), _)) => format!("/reports/{r}?done=person_linked#persons"),
            Some((LinkTarget::Case(k), _)) => format!("/cases/{k}?done=person_linked#persons"),
            None => format!("/persons/{id}?done=person_created"),
        })
        .into_response()),
        Err(errors) => {
            let mut f = FormState::from_pairs(&pairs);
            f.errors = errors;
            let communes = state.store.communes(&state.config.province).await?;
            Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &NewPage { c, f, communes }))
        }
    }
}

enum LinkTarget {
    Report(String),
    Case(String),
}

/// The record a new person is to be named on, if it exists and the viewer's agency owns it (only the owner
/// changes a report or a case).
async fn link_target(
    state: &AppState,
    viewer: &Viewer,
    link: &str,
    role: &str,
) -> AppResult<Option<(LinkTarget, PersonRole)>> {
    let Some(role) = PersonRole::from_code(role) else { return Ok(None) };
    let target = match link.split_once(':') {
        Some(("report", id)) => state
            .store
            .report(id)
            .await?
            .filter(|r| r.owner_agency_id == viewer.agency.id)
            .map(|r| LinkTarget::Report(r.id)),
        Some(("case", id)) => state
            .store
            .case(id)
            .await?
            .filter(|c| c.owner_agency_id == viewer.agency.id)
            .map(|c| LinkTarget::Case(c.id)),
        _ => None,
    };
    Ok(target.filter(|_| viewer.can(haven_domain::Action::EditRecords)).map(|t| (t, role)))
}

#[derive(Template)]
#[template(path = "person.html")]
struct PersonPage {
    c: Ctx,
    f: FormState,
    p: Line,
    decision: &'static str,
    identity: Option<OpenedIdentity>,
    can_reveal: bool,
    purposes: &'static [&'static str],
    share: Option<Sharing>,
}

#[derive(Template)]
#[template(path = "person_denied.html")]
struct DeniedPage {
    c: Ctx,
    p: Line,
    can_break_glass: bool,
}

async fn load(state: &AppState, id: &str) -> AppResult<PersonRow> {
    state.store.person(id).await?.ok_or(AppError::NotFound)
}

async fn person_page(
    state: &AppState,
    viewer: &Viewer,
    c: Ctx,
    p: PersonRow,
    identity: Option<OpenedIdentity>,
    f: FormState,
    status: StatusCode,
) -> AppResult<Response> {
    let decision = decide(state, viewer, &p).await?;
    let line = lines(state, viewer, vec![p.clone()]).await?.remove(0);
    if !decision.allowed() {
        let page = DeniedPage { c, p: line, can_break_glass: viewer.can(haven_domain::Action::BreakGlass) };
        return Ok(render(StatusCode::FORBIDDEN, &page));
    }
    let share =
        sharing::section(state, viewer, &c, KIND, &p.id, &p.owner_agency_id, format!("/persons/{}", p.id)).await?;
    let page = PersonPage {
        decision: match decision {
            AccessDecision::Owner => "owner",
            AccessDecision::SentTo => "sent_to",
            AccessDecision::Granted { .. } => "granted",
            AccessDecision::BrokenGlass { .. } => "break_glass",
            AccessDecision::Denied => "denied",
        },
        c,
        f,
        p: line,
        identity,
        can_reveal: viewer.can(haven_domain::Action::ViewIdentity),
        purposes: PURPOSES,
        share,
    };
    Ok(render(status, &page))
}

async fn show(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::ViewRecords>,
    c: Ctx,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let p = load(&state, &id).await?;
    person_page(&state, &viewer, c, p, None, FormState::default(), StatusCode::OK).await
}

#[derive(Deserialize)]
struct RevealForm {
    purpose: String,
}

async fn reveal(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::ViewIdentity>,
    c: Ctx,
    Path(id): Path<String>,
    CsrfForm(form, pairs): CsrfForm<RevealForm>,
) -> AppResult<Response> {
    let p = load(&state, &id).await?;
    if !decide(&state, &viewer, &p).await?.allowed() {
        return person_page(&state, &viewer, c, p, None, FormState::default(), StatusCode::FORBIDDEN).await;
    }
    if !PURPOSES.contains(&form.purpose.as_str()) {
        let mut f = FormState::from_pairs(&pairs);
        f.add("purpose", "error.choice");
        return person_page(&state, &viewer, c, p, None, f, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let mut cmd = state.store.command(&viewer.actor()).await?;
    let mut identity = persons::view_identity(&mut cmd, &state.store.keys, &id, &form.purpose).await?;
    cmd.commit().await?;
    if let Some(i) = identity.as_mut() {
        i.birth_date = i.birth_date.as_deref().and_then(BirthDate::parse).map(BirthDate::display);
    }
    person_page(&state, &viewer, c, p, identity, FormState::default(), StatusCode::OK).await
}

async fn grant(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::GrantAccess>,
    c: Ctx,
    Path(id): Path<String>,
    CsrfForm(form, pairs): CsrfForm<sharing::GrantForm>,
) -> AppResult<Response> {
    let p = load(&state, &id).await?;
    if p.owner_agency_id != viewer.agency.id {
        return Err(AppError::Forbidden);
    }
    match sharing::create(&state, &viewer, KIND, &id, &form).await? {
        Ok(()) => Ok(Redirect::to(&format!("/persons/{id}?done=grant_created")).into_response()),
        Err(errors) => {
            let mut f = FormState::from_pairs(&pairs);
            f.errors = errors;
            person_page(&state, &viewer, c, p, None, f, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

#[derive(Deserialize)]
struct Empty {}

async fn revoke(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::GrantAccess>,
    Path((id, grant_id)): Path<(String, String)>,
    CsrfForm(_, _): CsrfForm<Empty>,
) -> AppResult<Response> {
    let p = load(&state, &id).await?;
    if p.owner_agency_id != viewer.agency.id {
        return Err(AppError::Forbidden);
    }
    if !sharing::revoke(&state, &viewer, KIND, &id, &grant_id).await? {
        return Err(AppError::NotFound);
    }
    Ok(Redirect::to(&format!("/persons/{id}?done=grant_revoked")).into_response())
}

#[derive(Template)]
#[template(path = "break_glass.html")]
struct BreakGlassPage {
    c: Ctx,
    f: FormState,
    p: Line,
    max_minutes: i64,
}

async fn break_glass_form(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::BreakGlass>,
    c: Ctx,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let p = load(&state, &id).await?;
    let line = lines(&state, &viewer, vec![p]).await?.remove(0);
    Ok(ok(&BreakGlassPage { c, f: FormState::default(), p: line, max_minutes: access::BREAK_GLASS_MAX_MINUTES }))
}

#[derive(Deserialize)]
struct BreakGlassForm {
    reason: String,
    minutes: String,
}

async fn break_glass(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::BreakGlass>,
    c: Ctx,
    Path(id): Path<String>,
    CsrfForm(form, pairs): CsrfForm<BreakGlassForm>,
) -> AppResult<Response> {
    let p = load(&state, &id).await?;
    if p.owner_agency_id == viewer.agency.id {
        return Ok(Redirect::to(&format!("/persons/{id}")).into_response());
    }
    let minutes = form.minutes.trim().parse::<i64>().unwrap_or(0);
    let reason = match access::validate_break_glass(&form.reason, minutes) {
        Ok(r) => r,
        Err(e) => {
            let mut f = FormState::from_pairs(&pairs);
            let field = if e == access::BreakGlassError::ReasonTooShort { "reason" } else { "minutes" };
            f.add(field, e.key());
            let line = lines(&state, &viewer, vec![p]).await?.remove(0);
            return Ok(render(
                StatusCode::UNPROCESSABLE_ENTITY,
                &BreakGlassPage { c, f, p: line, max_minutes: access::BREAK_GLASS_MAX_MINUTES },
            ));
        }
    };
    let mut cmd = state.store.command(&viewer.actor()).await?;
    let expires_at = cmd.at + minutes * MINUTE;
    haven_store::access::open_break_glass(
        &mut cmd,
        &state.store.keys,
        &NewBreakGlass {
            owner_agency_id: &p.owner_agency_id,
            record_kind: KIND,
            record_id: &id,
            reason: &reason,
            expires_at,
        },
    )
    .await?;
    cmd.commit().await?;
    Ok(Redirect::to(&format!("/persons/{id}?done=break_glass_opened")).into_response())
}
