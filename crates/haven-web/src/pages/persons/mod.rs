//! Person pages: the list and look-up, a new person, the person page (identity opened with a purpose,
//! corrections, relatives, files, merging, sharing) and break-the-glass. The use cases are
//! `haven_app::persons`.

use askama::Template;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use haven_app::persons::{
    self as app, BreakGlassForm, MergeForm, NewFile, NewPerson, Opened, RelativeForm, NATIONALITIES, PURPOSES,
};
use haven_app::sharing::GrantForm;
use haven_domain::access::{self, AccessDecision};
use haven_domain::person as rules;
use haven_domain::Role;
use haven_store::persons::{AttachmentRow, MergeRow, PersonRow, KIND};
use serde::Deserialize;

use crate::ctx::{self as guards, Can, CsrfForm, CsrfUpload, Viewer};
use crate::error::AppResult;
use crate::page::{ok, render, Ctx, FormState};
use crate::views::sharing::{self, Sharing};
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/persons", get(list).post(create))
        .route("/persons/search", post(search))
        .route("/persons/new", get(new_form))
        .route("/persons/{id}", get(show))
        .route("/persons/{id}/reveal", post(reveal))
        .route("/persons/{id}/correct", post(edit_form))
        .route("/persons/{id}/edit", post(edit))
        .route("/persons/{id}/relatives", post(add_relative))
        .route(
            "/persons/{id}/attachments",
            // A photo or a scan, and the form around it.
            post(attach).layer(DefaultBodyLimit::max(rules::MAX_ATTACHMENT_BYTES + 64 * 1024)),
        )
        .route("/persons/{id}/attachments/{attachment}", post(download))
        .route("/persons/{id}/merge", post(merge))
        .route("/persons/{id}/grants", post(grant))
        .route("/persons/{id}/grants/{grant}/revoke", post(revoke))
        .route("/persons/{id}/break-glass", get(break_glass_form).post(break_glass))
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
    let rows = app::look_up(&state, &viewer, &query).await?;
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
    /// Nationalities offered, with a stored one outside the usual list.
    countries: Vec<String>,
    /// Where the form posts: a new record, or the correction of one.
    action: String,
    editing: bool,
}

impl NewPage {
    fn new(c: Ctx, f: FormState, communes: Vec<(String, String)>) -> NewPage {
        let mut countries: Vec<String> = NATIONALITIES.iter().map(|c| (*c).to_owned()).collect();
        let stored = f.value("nationality").to_owned();
        if !stored.is_empty() && !countries.contains(&stored) {
            countries.push(stored);
        }
        NewPage { c, f, communes, countries, action: "/persons".into(), editing: false }
    }
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
    f.values.push(("nationality".into(), "VN".into()));
    if let (Some(link), Some(role)) = (q.link, q.role) {
        f.values.push(("link".into(), link));
        f.values.push(("link_role".into(), role));
    }
    Ok(ok(&NewPage::new(c, f, communes)))
}

async fn create(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::CreateRecords>,
    c: Ctx,
    CsrfForm(form, pairs): CsrfForm<NewPerson>,
) -> AppResult<Response> {
    let link = app::link_target(&state, &viewer, &form.link, &form.link_role).await?;
    if link.is_none() && !form.link.is_empty() {
        // Asked to name the person on a record this user may not change: refuse rather than ignore it.
        return Err(crate::error::AppError::Forbidden);
    }
    match app::create_and_link(&state, &viewer, form.input(), link.as_ref()).await? {
        Ok(id) => Ok(Redirect::to(&match &link {
            Some((app::LinkTarget::Report(r), _)) => format!("/reports/{r}?done=person_linked#persons"),
            Some((app::LinkTarget::Case(k), _)) => format!("/cases/{k}?done=person_linked#persons"),
            None => format!("/persons/{id}?done=person_created"),
        })
        .into_response()),
        Err(errors) => {
            let f = FormState::with_errors(&pairs, errors);
            let communes = state.store.communes(&state.config.province).await?;
            Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &NewPage::new(c, f, communes)))
        }
    }
}

#[derive(Template)]
#[template(path = "person.html")]
struct PersonPage {
    /// Register entries of the person: (register, code, link for the owning agency).
    registers: Vec<(&'static str, String, Option<String>)>,
    /// Records confirmed as the same person.
    same_as: Vec<crate::views::matches::Side>,
    candidates: Vec<crate::views::matches::CandidateLine>,
    c: Ctx,
    f: FormState,
    p: Line,
    decision: &'static str,
    identity: Option<Opened>,
    can_reveal: bool,
    /// The owner agency's officer who may correct the identity, add relatives and files, and merge records.
    can_edit: bool,
    purposes: &'static [&'static str],
    share: Option<Sharing>,
    attachments: Vec<AttachmentLine>,
    relative_count: i64,
    relations: &'static [&'static str],
    attachment_kinds: &'static [&'static str],
    max_attachment_mib: usize,
    merges: Vec<MergeLine>,
    /// (id, case code) of the record this one was merged into.
    merged_into: Option<(String, String)>,
    /// Who opened or changed the identity: for the owner agency's head only.
    views: Option<Vec<ViewLine>>,
}

pub struct AttachmentLine {
    pub row: AttachmentRow,
    pub size: String,
}

pub struct MergeLine {
    pub row: MergeRow,
    pub by: String,
}

pub struct ViewLine {
    pub at: i64,
    pub who: String,
    pub action: String,
    pub purpose: String,
}

#[derive(Template)]
#[template(path = "person_denied.html")]
struct DeniedPage {
    c: Ctx,
    p: Line,
    can_break_glass: bool,
}

/// "1.2 MB", "340 KB": sizes as people read them.
fn human_size(bytes: i64) -> String {
    if bytes >= 1024 * 1024 {
        format!("{:.1} MB", bytes as f64 / (1024.0 * 1024.0))
    } else {
        format!("{} KB", (bytes + 1023) / 1024)
    }
}

async fn person_page(
    state: &AppState,
    viewer: &Viewer,
    c: Ctx,
    p: PersonRow,
    identity: Option<Opened>,
    f: FormState,
    status: StatusCode,
) -> AppResult<Response> {
    let decision = app::decision(state, viewer, &p).await?;
    let line = lines(state, viewer, vec![p.clone()]).await?.remove(0);
    if !decision.allowed() {
        let page = DeniedPage { c, p: line, can_break_glass: viewer.can(haven_domain::Action::BreakGlass) };
        return Ok(render(StatusCode::FORBIDDEN, &page));
    }
    let share =
        sharing::section(state, viewer, &c, KIND, &p.id, &p.owner_agency_id, format!("/persons/{}", p.id)).await?;
    // Users named on the page (who merged, who viewed), each looked up once; they may be of any agency.
    let mut users: std::collections::HashMap<String, String> = std::collections::HashMap::new();
    let merge_rows = state.store.merges_into(&p.id).await?;
    let is_head = p.owner_agency_id == viewer.agency.id && viewer.has_role(Role::AgencyHead);
    let view_rows = if is_head { state.store.identity_views_of_person(&p.id, 100).await? } else { Vec::new() };
    for id in merge_rows.iter().map(|m| &m.merged_by).chain(view_rows.iter().map(|v| &v.1)) {
        if !users.contains_key(id) {
            let name = state.store.user(id).await?.map(|u| format!("{} ({})", u.display_name, u.username));
            users.insert(id.clone(), name.unwrap_or_default());
        }
    }
    let name_of = |id: &str| users.get(id).cloned().unwrap_or_default();
    let attachments = state
        .store
        .attachments(&p.id)
        .await?
        .into_iter()
        .map(|row| AttachmentLine { size: human_size(row.size), row })
        .collect();
    let merges = merge_rows.into_iter().map(|row| MergeLine { by: name_of(&row.merged_by), row }).collect();
    let merged_into = match &p.merged_into {
        Some(id) => state.store.person(id).await?.map(|s| (s.id, s.case_code)),
        None => None,
    };
    let views = is_head.then(|| {
        view_rows
            .into_iter()
            .map(|(at, who, action, purpose)| ViewLine { at, who: name_of(&who), action, purpose })
            .collect()
    });
    // Where the person stands in the registers, the records confirmed as the same person, and the pairs
    // matching proposed.
    let mut registers = Vec::new();
    for a in state.store.absentees_of_person(&p.id).await? {
        let link = (a.owner_agency_id == viewer.agency.id).then(|| format!("/absentees/{}", a.id));
        registers.push(("absentee", a.case_code, link));
    }
    for r in state.store.returnees_of_person(&p.id).await? {
        let link = (r.owner_agency_id == viewer.agency.id).then(|| format!("/returnees/{}", r.id));
        registers.push(("returnee", r.case_code, link));
    }
    let mut same_as = Vec::new();
    for other in state.store.linked_people(&p.id).await? {
        same_as.push(crate::views::matches::side(state, viewer, &c, &other).await?);
    }
    let candidates = crate::views::matches::candidate_lines(state, viewer, &c, &p.id).await?;
    let page = PersonPage {
        registers,
        same_as,
        candidates,
        can_edit: app::may_edit(viewer, &p),
        attachments,
        relative_count: state.store.count_relatives(&p.id).await?,
        relations: rules::RELATIONS,
        attachment_kinds: rules::ATTACHMENT_KINDS,
        max_attachment_mib: rules::MAX_ATTACHMENT_BYTES / (1024 * 1024),
        merges,
        merged_into,
        views,
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
    let p = app::get(&state, &id).await?;
    person_page(&state, &viewer, c, p, None, FormState::default(), StatusCode::OK).await
}

#[derive(Deserialize)]
struct RevealForm {
    purpose: String,
}

/// The person page again after a form, with what to correct (or the refusal, for one who may not see it).
async fn again(
    state: &AppState,
    viewer: &Viewer,
    c: Ctx,
    id: &str,
    pairs: &[(String, String)],
    errors: haven_app::FieldErrors,
) -> AppResult<Response> {
    let p = app::get(state, id).await?;
    let f = FormState::with_errors(pairs, errors);
    person_page(state, viewer, c, p, None, f, StatusCode::UNPROCESSABLE_ENTITY).await
}

/// A person page for one who may not open the record answers 403 with the way to break the glass, for any of
/// the forms that open identity data.
async fn refused_or(state: &AppState, viewer: &Viewer, c: Ctx, id: &str) -> AppResult<Result<Ctx, Response>> {
    let p = app::get(state, id).await?;
    if app::decision(state, viewer, &p).await?.allowed() {
        return Ok(Ok(c));
    }
    Ok(Err(person_page(state, viewer, c, p, None, FormState::default(), StatusCode::FORBIDDEN).await?))
}

async fn reveal(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::ViewIdentity>,
    c: Ctx,
    Path(id): Path<String>,
    CsrfForm(form, pairs): CsrfForm<RevealForm>,
) -> AppResult<Response> {
    let c = match refused_or(&state, &viewer, c, &id).await? {
        Ok(c) => c,
        Err(refused) => return Ok(refused),
    };
    match app::open(&state, &viewer, &id, &form.purpose).await? {
        Ok(opened) => {
            let p = app::get(&state, &id).await?;
            person_page(&state, &viewer, c, p, Some(opened), FormState::default(), StatusCode::OK).await
        }
        Err(errors) => again(&state, &viewer, c, &id, &pairs, errors).await,
    }
}

/// The correction form, filled with the identity as it stands. Opening it is an audited view with the purpose
/// the officer chose, so it is a POST: a link followed or prefetched never writes a view in anyone's name.
async fn edit_form(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::EditRecords>,
    c: Ctx,
    Path(id): Path<String>,
    CsrfForm(form, pairs): CsrfForm<RevealForm>,
) -> AppResult<Response> {
    let i = match app::open_for_correction(&state, &viewer, &id, &form.purpose).await? {
        Ok(i) => i,
        Err(errors) => return again(&state, &viewer, c, &id, &pairs, errors).await,
    };
    let mut f = FormState::default();
    for (k, v) in [
        ("full_name", i.full_name),
        ("birth_date", i.birth_date.unwrap_or_default()),
        ("sex", i.sex),
        ("id_number", i.id_number.unwrap_or_default()),
        ("phone", i.phone.unwrap_or_default()),
        ("address", i.address.unwrap_or_default()),
        ("commune_code", i.commune_code.unwrap_or_default()),
        ("other_names", i.other_names.join("\n")),
        ("ethnicity", i.ethnicity.unwrap_or_default()),
        ("nationality", i.nationality.unwrap_or_default()),
        ("passport", i.passport.unwrap_or_default()),
        ("language", i.language.unwrap_or_default()),
        ("interpreter", if i.interpreter { "1".into() } else { String::new() }),
    ] {
        f.values.push((k.into(), v));
    }
    let communes = state.store.communes(&state.config.province).await?;
    Ok(ok(&NewPage { action: format!("/persons/{id}/edit"), editing: true, ..NewPage::new(c, f, communes) }))
}

async fn edit(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::EditRecords>,
    c: Ctx,
    Path(id): Path<String>,
    CsrfForm(form, pairs): CsrfForm<NewPerson>,
) -> AppResult<Response> {
    match app::update(&state, &viewer, &id, form.input()).await? {
        Ok(changed) if changed.is_empty() => Ok(Redirect::to(&format!("/persons/{id}?done=no_change")).into_response()),
        Ok(_) => Ok(Redirect::to(&format!("/persons/{id}?done=person_updated")).into_response()),
        Err(errors) => {
            let f = FormState::with_errors(&pairs, errors);
            let communes = state.store.communes(&state.config.province).await?;
            let page = NewPage { action: format!("/persons/{id}/edit"), editing: true, ..NewPage::new(c, f, communes) };
            Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page))
        }
    }
}

async fn add_relative(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::EditRecords>,
    c: Ctx,
    Path(id): Path<String>,
    CsrfForm(form, pairs): CsrfForm<RelativeForm>,
) -> AppResult<Response> {
    match app::add_relative(&state, &viewer, &id, &form).await? {
        Ok(()) => Ok(Redirect::to(&format!("/persons/{id}?done=relative_added#relatives")).into_response()),
        Err(errors) => again(&state, &viewer, c, &id, &pairs, errors).await,
    }
}

/// Attach a photo or a document (checked and sealed by the use case).
async fn attach(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::EditRecords>,
    c: Ctx,
    Path(id): Path<String>,
    upload: CsrfUpload,
) -> AppResult<Response> {
    let file = upload.file.as_ref().map(|f| NewFile { file_name: &f.file_name, bytes: &f.bytes });
    match app::attach(&state, &viewer, &id, upload.field("kind"), file).await? {
        Ok(()) => Ok(Redirect::to(&format!("/persons/{id}?done=file_attached#files")).into_response()),
        Err(errors) => {
            let p = app::get(&state, &id).await?;
            let f = FormState { errors, ..FormState::default() };
            person_page(&state, &viewer, c, p, None, f, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

/// Download an attachment: a POST with a purpose, so every opening is audited like an identity view.
async fn download(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::ViewIdentity>,
    c: Ctx,
    Path((id, attachment)): Path<(String, String)>,
    CsrfForm(form, pairs): CsrfForm<RevealForm>,
) -> AppResult<Response> {
    let c = match refused_or(&state, &viewer, c, &id).await? {
        Ok(c) => c,
        Err(refused) => return Ok(refused),
    };
    let file = match app::open_attachment(&state, &viewer, &id, &attachment, &form.purpose).await? {
        Ok(file) => file,
        Err(errors) => return again(&state, &viewer, c, &id, &pairs, errors).await,
    };
    Ok(crate::page::download(&file.file_name, &file.content_type, file.bytes))
}

/// Fold another record of the same person (named by its case code) into this one.
async fn merge(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::EditRecords>,
    c: Ctx,
    Path(id): Path<String>,
    CsrfForm(form, pairs): CsrfForm<MergeForm>,
) -> AppResult<Response> {
    match app::merge(&state, &viewer, &id, &form).await? {
        Ok(()) => Ok(Redirect::to(&format!("/persons/{id}?done=persons_merged#merges")).into_response()),
        Err(errors) => again(&state, &viewer, c, &id, &pairs, errors).await,
    }
}

async fn grant(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::GrantAccess>,
    c: Ctx,
    Path(id): Path<String>,
    CsrfForm(form, pairs): CsrfForm<GrantForm>,
) -> AppResult<Response> {
    match haven_app::sharing::share(&state, &viewer, KIND, &id, &form).await? {
        Ok(()) => Ok(Redirect::to(&format!("/persons/{id}?done=grant_created")).into_response()),
        Err(errors) => again(&state, &viewer, c, &id, &pairs, errors).await,
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
    haven_app::sharing::revoke(&state, &viewer, KIND, &id, &grant_id).await?;
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
    let p = app::get(&state, &id).await?;
    let line = lines(&state, &viewer, vec![p]).await?.remove(0);
    Ok(ok(&BreakGlassPage { c, f: FormState::default(), p: line, max_minutes: access::BREAK_GLASS_MAX_MINUTES }))
}

async fn break_glass(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::BreakGlass>,
    c: Ctx,
    Path(id): Path<String>,
    CsrfForm(form, pairs): CsrfForm<BreakGlassForm>,
) -> AppResult<Response> {
    match app::break_glass(&state, &viewer, &id, &form).await? {
        Ok(true) => Ok(Redirect::to(&format!("/persons/{id}?done=break_glass_opened")).into_response()),
        Ok(false) => Ok(Redirect::to(&format!("/persons/{id}")).into_response()),
        Err(errors) => {
            let p = app::get(&state, &id).await?;
            let line = lines(&state, &viewer, vec![p]).await?.remove(0);
            let f = FormState::with_errors(&pairs, errors);
            let page = BreakGlassPage { c, f, p: line, max_minutes: access::BREAK_GLASS_MAX_MINUTES };
            Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page))
        }
    }
}

#[cfg(test)]
mod tests;
