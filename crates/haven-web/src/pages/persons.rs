//! Person records: the first record kind behind need-to-know access. Lists and pages show the pseudonymous
//! case code; the identity opens only for a role that may see it, with a stated purpose, and the view is
//! audited. Other agencies reach a record through a grant or, in an emergency, by breaking the glass.

use askama::Template;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use haven_domain::access::{self, AccessDecision};
use haven_domain::cases::PersonRole;
use haven_domain::person::{self as rules, normalise_passport, normalise_phone, BirthDate, IdNumber, IdentityInput};
use haven_domain::time::{local_date, MINUTE};
use haven_domain::Role;
use haven_store::access::NewBreakGlass;
use haven_store::persons::{self, AttachmentRow, MergeRow, OpenedIdentity, OpenedRelative, PersonRow, KIND};
use serde::Deserialize;

use crate::ctx::{self as guards, Can, CsrfForm, CsrfUpload, Viewer};
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
    let is_code = query.to_uppercase().starts_with("HS-");
    let (kind, rows) = if is_code {
        ("case_code", state.store.find_persons_by_case_code(&query).await?)
    } else if let Some(id) = IdNumber::parse(&query) {
        // Some passports are all digits: look there too.
        let mut rows = state.store.find_persons_by_id_number(id.as_str()).await?;
        with_passport(&state, &query, &mut rows).await?;
        ("id_number", rows)
    } else if let Some(phone) = normalise_phone(&query).filter(|_| !query.contains('-')) {
        let mut rows = state.store.find_persons_by_phone(&phone).await?;
        with_passport(&state, &query, &mut rows).await?;
        ("phone", rows)
    } else if let Some(passport) = normalise_passport(&query) {
        ("passport", state.store.find_persons_by_passport(&passport).await?)
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

/// Add the records whose passport number is `query` (when it can be one) to a look-up's results.
async fn with_passport(state: &AppState, query: &str, rows: &mut Vec<PersonRow>) -> AppResult<()> {
    if let Some(passport) = normalise_passport(query) {
        for p in state.store.find_persons_by_passport(&passport).await? {
            if !rows.iter().any(|r| r.id == p.id) {
                rows.push(p);
            }
        }
    }
    Ok(())
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

/// Nationalities offered on the forms (ISO 3166-1 alpha-2): Viet Nam, then the neighbours and the countries
/// victims are most often taken to.
pub const NATIONALITIES: &[&str] =
    &["VN", "KH", "CN", "LA", "MM", "TH", "MY", "KR", "JP", "TW", "SG", "AE", "SA", "RU", "DE", "GB", "US"];

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
    /// One per line or separated by semicolons.
    #[serde(default)]
    pub other_names: String,
    #[serde(default)]
    pub ethnicity: String,
    #[serde(default)]
    pub nationality: String,
    #[serde(default)]
    pub passport: String,
    #[serde(default)]
    pub language: String,
    /// "1" when an interpreter is needed.
    #[serde(default, deserialize_with = "flag")]
    pub interpreter: String,
    /// Pages only: the report or case (`report:<id>`, `case:<id>`) to name the new person on, and the role.
    #[serde(default)]
    pub link: String,
    #[serde(default)]
    pub link_role: String,
}

/// A yes/no field as a form sends it ("1", "on") or as JSON does (`true`), kept as the form's string.
fn flag<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Flag {
        Bool(bool),
        Text(String),
    }
    Ok(match Flag::deserialize(d)? {
        Flag::Bool(b) => if b { "1" } else { "" }.to_owned(),
        Flag::Text(t) => t,
    })
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
            other_names: self.other_names,
            ethnicity: self.ethnicity,
            nationality: self.nationality,
            passport: self.passport,
            language: self.language,
            interpreter: self.interpreter,
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
            Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &NewPage::new(c, f, communes)))
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
    /// Register entries of the person: (register, code, link for the owning agency).
    registers: Vec<(&'static str, String, Option<String>)>,
    /// Records confirmed as the same person.
    same_as: Vec<crate::pages::matches::Side>,
    candidates: Vec<crate::pages::matches::CandidateLine>,
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

/// An identity opened for the page, with what opens with it.
pub struct Opened {
    pub identity: OpenedIdentity,
    pub commune: String,
    pub relatives: Vec<OpenedRelative>,
    /// (attachment id, file name).
    pub file_names: Vec<(String, String)>,
}

impl Opened {
    pub fn file_name(&self, id: &str) -> &str {
        self.file_names.iter().find(|(a, _)| a == id).map(|(_, n)| n.as_str()).unwrap_or("")
    }
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

async fn load(state: &AppState, id: &str) -> AppResult<PersonRow> {
    state.store.person(id).await?.ok_or(AppError::NotFound)
}

/// "1.2 MB", "340 KB": sizes as people read them.
fn human_size(bytes: i64) -> String {
    if bytes >= 1024 * 1024 {
        format!("{:.1} MB", bytes as f64 / (1024.0 * 1024.0))
    } else {
        format!("{} KB", (bytes + 1023) / 1024)
    }
}

/// Whether the viewer may change this person record: an officer of the owning agency who may see identity.
fn may_edit(viewer: &Viewer, p: &PersonRow) -> bool {
    p.owner_agency_id == viewer.agency.id
        && p.merged_into.is_none()
        && viewer.can(haven_domain::Action::EditRecords)
        && viewer.can(haven_domain::Action::ViewIdentity)
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
    let decision = decide(state, viewer, &p).await?;
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
        same_as.push(crate::pages::matches::side(state, viewer, &c, &other).await?);
    }
    let candidates = crate::pages::matches::candidate_lines(state, viewer, &c, &p.id).await?;
    let page = PersonPage {
        registers,
        same_as,
        candidates,
        can_edit: may_edit(viewer, &p),
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
    let opened = open_for_page(&state, &viewer, &id, &form.purpose).await?;
    person_page(&state, &viewer, c, p, opened, FormState::default(), StatusCode::OK).await
}

/// Open the identity, the relatives and the file names in one audited command.
async fn open_for_page(state: &AppState, viewer: &Viewer, id: &str, purpose: &str) -> AppResult<Option<Opened>> {
    let keys = &state.store.keys;
    let mut cmd = state.store.command(&viewer.actor()).await?;
    let Some(mut identity) = persons::view_identity(&mut cmd, keys, id, purpose, true).await? else {
        return Ok(None);
    };
    let relatives = persons::open_relatives(&mut cmd, keys, id).await?;
    let file_names = persons::open_attachment_names(&mut cmd, keys, id).await?;
    cmd.commit().await?;
    identity.birth_date = identity.birth_date.as_deref().and_then(BirthDate::parse).map(BirthDate::display);
    let commune = match &identity.commune_code {
        Some(code) => state.store.unit_name(code).await?.unwrap_or_default(),
        None => String::new(),
    };
    Ok(Some(Opened { identity, commune, relatives, file_names }))
}

/// The record, if the viewer may change it; otherwise 403 (a record merged away is changed through the one it
/// was merged into).
async fn load_for_edit(state: &AppState, viewer: &Viewer, id: &str) -> AppResult<PersonRow> {
    let p = load(state, id).await?;
    if !may_edit(viewer, &p) {
        return Err(AppError::Forbidden);
    }
    Ok(p)
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
    let p = load_for_edit(&state, &viewer, &id).await?;
    if !PURPOSES.contains(&form.purpose.as_str()) {
        let mut f = FormState::from_pairs(&pairs);
        f.add("purpose", "error.choice");
        return person_page(&state, &viewer, c, p, None, f, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let mut cmd = state.store.command(&viewer.actor()).await?;
    let Some(i) = persons::view_identity(&mut cmd, &state.store.keys, &p.id, &form.purpose, false).await? else {
        return Err(AppError::NotFound);
    };
    cmd.commit().await?;
    let birth = i.birth_date.as_deref().and_then(BirthDate::parse).map(BirthDate::display).unwrap_or_default();
    let mut f = FormState::default();
    for (k, v) in [
        ("full_name", i.full_name),
        ("birth_date", birth),
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

/// Validate a correction and write what changed; the audit entry names the fields, never their values.
pub async fn update_person(
    state: &AppState,
    viewer: &Viewer,
    id: &str,
    input: IdentityInput,
) -> AppResult<Result<Vec<&'static str>, Vec<(String, String)>>> {
    let year = local_date(state.store.now()).map(|d| d.year()).unwrap_or(2100);
    let identity = match input.validate(year) {
        Ok(i) => i,
        Err(errs) => return Ok(Err(errs.into_iter().map(|e| (e.field.to_owned(), e.key.to_owned())).collect())),
    };
    if let Some(code) = &identity.commune_code {
        if !state.store.unit_exists(code).await? {
            return Ok(Err(vec![("commune_code".into(), "error.choice".into())]));
        }
    }
    let mut cmd = state.store.command(&viewer.actor()).await?;
    let changed = persons::update(&mut cmd, &state.store.keys, id, &identity).await?;
    if !changed.is_empty() {
        cmd.commit().await?;
    }
    Ok(Ok(changed))
}

async fn edit(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::EditRecords>,
    c: Ctx,
    Path(id): Path<String>,
    CsrfForm(form, pairs): CsrfForm<NewPerson>,
) -> AppResult<Response> {
    load_for_edit(&state, &viewer, &id).await?;
    match update_person(&state, &viewer, &id, form.input()).await? {
        Ok(changed) if changed.is_empty() => Ok(Redirect::to(&format!("/persons/{id}?done=no_change")).into_response()),
        Ok(_) => Ok(Redirect::to(&format!("/persons/{id}?done=person_updated")).into_response()),
        Err(errors) => {
            let mut f = FormState::from_pairs(&pairs);
            f.errors = errors;
            let communes = state.store.communes(&state.config.province).await?;
            let page = NewPage { action: format!("/persons/{id}/edit"), editing: true, ..NewPage::new(c, f, communes) };
            Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page))
        }
    }
}

#[derive(Deserialize)]
struct RelativeForm {
    relation: String,
    relative_name: String,
    #[serde(default)]
    relative_phone: String,
    #[serde(default)]
    relative_address: String,
}

async fn add_relative(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::EditRecords>,
    c: Ctx,
    Path(id): Path<String>,
    CsrfForm(form, pairs): CsrfForm<RelativeForm>,
) -> AppResult<Response> {
    let p = load_for_edit(&state, &viewer, &id).await?;
    let mut f = FormState::from_pairs(&pairs);
    if !rules::RELATIONS.contains(&form.relation.as_str()) {
        f.add("relation", "error.choice");
    }
    let name = rules::tidy_name(&form.relative_name);
    if name.is_empty() {
        f.add("relative_name", "error.required");
    } else if name.chars().count() > 200 {
        f.add("relative_name", "error.too_long");
    }
    let phone = if form.relative_phone.trim().is_empty() {
        None
    } else {
        let n = normalise_phone(&form.relative_phone);
        if n.is_none() {
            f.add("relative_phone", "error.phone");
        }
        n
    };
    let address = rules::tidy_name(&form.relative_address);
    if address.chars().count() > 500 {
        f.add("relative_address", "error.too_long");
    }
    if !f.errors.is_empty() {
        return person_page(&state, &viewer, c, p, None, f, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let mut cmd = state.store.command(&viewer.actor()).await?;
    let relative = persons::NewRelative {
        relation: &form.relation,
        full_name: &name,
        phone: phone.as_deref(),
        address: Some(address.as_str()).filter(|a| !a.is_empty()),
    };
    persons::add_relative(&mut cmd, &state.store.keys, &id, &relative).await?;
    cmd.commit().await?;
    Ok(Redirect::to(&format!("/persons/{id}?done=relative_added#relatives")).into_response())
}

/// Attach a photo or a document. Its type is read from its bytes; anything but JPEG, PNG or PDF is refused,
/// and it is sealed before it reaches the database.
async fn attach(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::EditRecords>,
    c: Ctx,
    Path(id): Path<String>,
    upload: CsrfUpload,
) -> AppResult<Response> {
    let p = load_for_edit(&state, &viewer, &id).await?;
    let mut f = FormState::default();
    let kind = upload.field("kind").to_owned();
    if !rules::ATTACHMENT_KINDS.contains(&kind.as_str()) {
        f.add("attachment_kind", "error.choice");
    }
    let checked = match &upload.file {
        None => {
            f.add("file", "error.file_missing");
            None
        }
        Some(file) if file.bytes.len() > rules::MAX_ATTACHMENT_BYTES => {
            f.add("file", "error.file_too_large");
            None
        }
        Some(file) => match rules::sniff_attachment(&file.bytes) {
            Some(content_type) => Some((file, content_type)),
            None => {
                f.add("file", "error.file_type");
                None
            }
        },
    };
    let Some((file, content_type)) = checked.filter(|_| f.errors.is_empty()) else {
        return person_page(&state, &viewer, c, p, None, f, StatusCode::UNPROCESSABLE_ENTITY).await;
    };
    let name = rules::safe_file_name(&file.file_name, content_type, &kind);
    let mut cmd = state.store.command(&viewer.actor()).await?;
    let attachment = persons::NewAttachment { kind: &kind, file_name: &name, content_type, bytes: &file.bytes };
    persons::add_attachment(&mut cmd, &state.store.keys, &id, &attachment).await?;
    cmd.commit().await?;
    Ok(Redirect::to(&format!("/persons/{id}?done=file_attached#files")).into_response())
}

/// Download an attachment: a POST with a purpose, so every opening is audited like an identity view.
async fn download(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::ViewIdentity>,
    c: Ctx,
    Path((id, attachment)): Path<(String, String)>,
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
    let Some(file) = persons::open_attachment(&mut cmd, &state.store.keys, &id, &attachment, &form.purpose).await?
    else {
        return Err(AppError::NotFound);
    };
    cmd.commit().await?;
    // RFC 6266 with RFC 5987 encoding: names keep their diacritics; the plain form is an ASCII fallback.
    let ascii: String =
        file.file_name.chars().map(|ch| if ch.is_ascii_graphic() || ch == ' ' { ch } else { '_' }).collect();
    let encoded: String = file
        .file_name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b".-_".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    let disposition = format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}");
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, file.content_type),
            (axum::http::header::CONTENT_DISPOSITION, disposition),
            (axum::http::header::CACHE_CONTROL, "no-store".to_owned()),
            (axum::http::header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
        ],
        file.bytes,
    )
        .into_response())
}

#[derive(Deserialize)]
struct MergeForm {
    other: String,
    reason: String,
}

/// The shortest reason accepted for merging two records.
const MERGE_MIN_REASON_CHARS: usize = 10;

/// Fold another record of the same person (named by its case code) into this one. Both belong to the viewer's
/// agency; a record shared from elsewhere is linked by its owner, not merged away from it.
async fn merge(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::EditRecords>,
    c: Ctx,
    Path(id): Path<String>,
    CsrfForm(form, pairs): CsrfForm<MergeForm>,
) -> AppResult<Response> {
    let p = load_for_edit(&state, &viewer, &id).await?;
    let mut f = FormState::from_pairs(&pairs);
    let other = state
        .store
        .find_persons_by_case_code(&form.other)
        .await?
        .into_iter()
        .find(|o| o.owner_agency_id == viewer.agency.id && o.id != p.id && o.merged_into.is_none());
    if other.is_none() {
        f.add("other", "error.merge_other");
    }
    let reason = form.reason.trim();
    if reason.chars().count() < MERGE_MIN_REASON_CHARS {
        f.add("merge_reason", "error.merge_reason");
    }
    let Some(other) = other.filter(|_| f.errors.is_empty()) else {
        return person_page(&state, &viewer, c, p, None, f, StatusCode::UNPROCESSABLE_ENTITY).await;
    };
    let mut cmd = state.store.command(&viewer.actor()).await?;
    let refused = match persons::merge(&mut cmd, &state.store.keys, &viewer.agency.id, &id, &other.id, reason).await? {
        persons::Merge::Done => None,
        // Merged meanwhile by a colleague.
        persons::Merge::Gone => Some("error.merge_other"),
        persons::Merge::CustodyOnBoth => Some("error.merge_custody"),
        persons::Merge::OtherAgencies => Some("error.merge_other_agencies"),
    };
    if let Some(key) = refused {
        drop(cmd);
        f.add("other", key);
        return person_page(&state, &viewer, c, p, None, f, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    cmd.commit().await?;
    Ok(Redirect::to(&format!("/persons/{id}?done=persons_merged#merges")).into_response())
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::I18n;
    use haven_domain::format::Lang;

    #[test]
    fn every_code_on_the_person_page_is_translated() {
        let i = I18n::embedded();
        let mut keys: Vec<String> = Vec::new();
        keys.extend(rules::RELATIONS.iter().map(|r| format!("relation.{r}")));
        keys.extend(rules::ATTACHMENT_KINDS.iter().map(|k| format!("attachment.{k}")));
        keys.extend(NATIONALITIES.iter().map(|k| format!("country.{k}")));
        keys.extend(PURPOSES.iter().map(|p| format!("purpose.{p}")));
        keys.extend(
            ["person.view_identity", "person.view_attachment", "person.update", "person.merge"]
                .map(|a| format!("person_action.{a}")),
        );
        for lang in [Lang::Vi, Lang::En] {
            for k in &keys {
                assert_ne!(i.get(lang, k), k.as_str(), "{k} in {lang:?}");
            }
        }
    }

    #[test]
    fn sizes_read_as_people_read_them() {
        assert_eq!(human_size(1), "1 KB");
        assert_eq!(human_size(340 * 1024), "340 KB");
        assert_eq!(human_size(3 * 1024 * 1024 / 2), "1.5 MB");
    }
}
