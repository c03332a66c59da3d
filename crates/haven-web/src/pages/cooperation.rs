//! International cooperation: an agency's requests to and from foreign authorities and overseas missions,
//! with the ones awaiting an answer first and the overdue ones marked; a request links to the person, victim
//! case or criminal case it is about (only records the viewer may open), and records the answer when it
//! comes. Rules in `haven_domain::cooperation`, storage in `haven_store::cooperation`.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use haven_domain::cooperation::{self as rules, Input, Status};
use haven_domain::format::parse_date;
use haven_store::cooperation::{self as store, NewRequest, RequestRow, RequestText};
use serde::Deserialize;

use crate::ctx::{self as guards, Can, CsrfForm, Viewer};
use crate::error::{AppError, AppResult};
use crate::page::{display, render, Ctx, FormState};
use crate::pages::registers::{opt, MAX_TEXT};
use crate::pages::reports::{today, visible_person, FieldErrors};
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/cooperation", get(list).post(create))
        .route("/cooperation/{id}", get(show))
        .route("/cooperation/{id}/answer", post(answer))
        .route("/cooperation/{id}/withdraw", post(withdraw))
}

/// A request as a line of a list.
pub struct Line {
    pub r: RequestRow,
    pub status: &'static str,
    pub sent: String,
    pub due: String,
}

pub fn line(r: RequestRow, today: time::Date) -> Line {
    let status = r.status(today).code();
    let (sent, due) = (display(&r.sent_on), display(&r.due_on));
    Line { r, status, sent, due }
}

/// Which requests a list holds: `overdue`, `all`, or (anything else) those awaiting an answer. Returns the
/// list's name and whether a request of that status is on it. The pages and the API share it.
pub fn listed(list: Option<&str>, status: Status) -> (&'static str, bool) {
    match list {
        Some("overdue") => ("overdue", status == Status::Overdue),
        Some("all") => ("all", true),
        _ => ("awaiting", status.awaiting()),
    }
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
    let today = today(state);
    let requests = state.store.cooperation_of_agency(&viewer.agency.id, 500).await?;
    let lines = requests.into_iter().filter(|r| listed(list, r.status(today)).1).map(|r| line(r, today)).collect();
    let list = listed(list, Status::Open).0;
    let (awaiting, overdue) = state.store.cooperation_counts(&viewer.agency.id, today).await?;
    let can_create = viewer.can(haven_domain::Action::CreateRecords);
    let countries = crate::pages::victims::COUNTRIES;
    let page = ListPage { c, f, list, lines, awaiting, overdue, can_create, countries };
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

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct RequestForm {
    pub direction: String,
    pub kind: String,
    pub counterpart_kind: String,
    pub country: String,
    pub counterpart: String,
    pub reference: String,
    pub sent_on: String,
    pub due_on: String,
    pub person_code: String,
    pub victim_code: String,
    pub case_number: String,
    pub summary: String,
}

/// The records a request links to, found by their codes among those the viewer may open (a code alone
/// never reveals whether a record exists).
struct Links {
    person_id: Option<String>,
    victim_case_id: Option<String>,
    criminal_case_id: Option<String>,
}

async fn links(state: &AppState, viewer: &Viewer, form: &RequestForm, f: &mut FormState) -> AppResult<Links> {
    let mut out = Links { person_id: None, victim_case_id: None, criminal_case_id: None };
    let code = form.person_code.trim();
    if !code.is_empty() {
        match visible_person(state, viewer, code).await? {
            Some(p) => out.person_id = Some(p.id),
            None => f.add("person_code", "error.person_not_found"),
        }
    }
    let code = form.victim_code.trim();
    if !code.is_empty() {
        let mut found = None;
        for (id, owner) in state.store.victim_cases_by_code(code).await? {
            let kind = haven_store::victims::KIND;
            // The viewer's own record first.
            if crate::pages::record_access(state, viewer, kind, &id, &owner, &[]).await?.opens_whole_record()
                && (found.is_none() || owner == viewer.agency.id)
            {
                found = Some(id);
            }
        }
        match found {
            Some(id) => out.victim_case_id = Some(id),
            None => f.add("victim_code", "error.victim_case_not_found"),
        }
    }
    let number = form.case_number.trim();
    if !number.is_empty() {
        let mut found = None;
        for c in state.store.criminal_cases_by_number(number).await? {
            let sent: Vec<&str> =
                [c.procuracy_agency_id.as_deref(), c.court_agency_id.as_deref()].into_iter().flatten().collect();
            let kind = haven_store::cases::KIND;
            // Numbers are per agency: the viewer's own case first, then any other it may open.
            if crate::pages::record_access(state, viewer, kind, &c.id, &c.owner_agency_id, &sent)
                .await?
                .opens_whole_record()
                && (found.is_none() || c.owner_agency_id == viewer.agency.id)
            {
                found = Some(c.id);
            }
        }
        match found {
            Some(id) => out.criminal_case_id = Some(id),
            None => f.add("case_number", "error.criminal_case_not_found"),
        }
    }
    Ok(out)
}

/// Check and store a request of the viewer's agency. Returns its id, or the errors with nothing saved.
pub async fn create_request(
    state: &AppState,
    viewer: &Viewer,
    form: &RequestForm,
) -> AppResult<Result<String, FieldErrors>> {
    let due = form.due_on.trim();
    let input = Input {
        direction: form.direction.trim(),
        kind: form.kind.trim(),
        counterpart_kind: form.counterpart_kind.trim(),
        country: form.country.trim(),
        counterpart: &form.counterpart,
        reference: &form.reference,
        sent_on: parse_date(&form.sent_on),
        due_on: (!due.is_empty()).then(|| parse_date(due)),
    };
    let checked = rules::check(&input, today(state));
    let mut f = FormState::default();
    if let Err(errors) = &checked {
        errors.iter().for_each(|(field, key)| f.add(field, key));
    }
    if form.summary.chars().count() > MAX_TEXT {
        f.add("summary", "error.too_long");
    }
    let links = links(state, viewer, form, &mut f).await?;
    let dates = match checked {
        Ok(d) if !f.has_errors() => d,
        _ => return Ok(Err(f.errors)),
    };
    let mut cmd = state.store.command(&viewer.actor()).await?;
    let id = store::create(
        &mut cmd,
        &state.store.keys,
        &viewer.agency.id,
        &NewRequest {
            direction: input.direction,
            kind: input.kind,
            counterpart_kind: input.counterpart_kind,
            country: input.country,
            counterpart: &form.counterpart,
            reference: opt(&form.reference),
            sent_on: dates.sent_on,
            due_on: dates.due_on,
            person_id: links.person_id.as_deref(),
            victim_case_id: links.victim_case_id.as_deref(),
            criminal_case_id: links.criminal_case_id.as_deref(),
            summary: opt(&form.summary),
        },
    )
    .await?;
    cmd.commit().await?;
    Ok(Ok(id))
}

async fn create(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::CreateRecords>,
    c: Ctx,
    CsrfForm(form, pairs): CsrfForm<RequestForm>,
) -> AppResult<Response> {
    match create_request(&state, &viewer, &form).await? {
        Ok(id) => Ok(Redirect::to(&format!("/cooperation/{id}?done=cooperation_recorded")).into_response()),
        Err(errors) => {
            let mut f = FormState::from_pairs(&pairs);
            f.errors = errors;
            list_page(&state, &viewer, c, None, f, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

/// The request, if the viewer may see it: its agency, or a grant.
async fn load(state: &AppState, viewer: &Viewer, id: &str) -> AppResult<RequestRow> {
    let r = state.store.cooperation_request(id).await?.ok_or(AppError::NotFound)?;
    if !crate::pages::record_access(state, viewer, store::KIND, id, &r.owner_agency_id, &[]).await?.allowed() {
        return Err(AppError::Forbidden);
    }
    Ok(r)
}

/// A linked record: its code and where to open it.
pub struct Linked {
    pub label: &'static str,
    pub code: String,
    pub href: String,
}

/// `shown`, if the viewer may open the whole record it stands for.
async fn if_open(
    state: &AppState,
    viewer: &Viewer,
    kind: &str,
    id: &str,
    owner: &str,
    sent_to: &[&str],
    shown: Linked,
) -> AppResult<Option<Linked>> {
    let decision = crate::pages::record_access(state, viewer, kind, id, owner, sent_to).await?;
    Ok(decision.opens_whole_record().then_some(shown))
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
    let r = load(state, viewer, id).await?;
    let owner = r.owner_agency_id == viewer.agency.id;
    // Only the agency that made the request, and only those of it who may read identities, read what it asks
    // and what came back; a grant shows the rest. The view is audited.
    let text =
        if crate::pages::may_unseal(viewer, &r.owner_agency_id, &[]) && state.store.cooperation_has_text(id).await? {
            let mut cmd = state.store.command(&viewer.actor()).await?;
            let text = store::open_text(&mut cmd, &state.store.keys, id).await?;
            cmd.commit().await?;
            text
        } else {
            RequestText::default()
        };
    // Each linked record shows only to those who may open it (a grant that let it be linked may have ended).
    let mut linked = Vec::new();
    if let Some(p) = match r.person_id.as_deref() {
        Some(id) => state.store.person(id).await?,
        None => None,
    } {
        let shown = Linked { label: "cooperation.person", code: p.case_code, href: format!("/persons/{}", p.id) };
        let kind = haven_store::persons::KIND;
        linked.extend(if_open(state, viewer, kind, &p.id, &p.owner_agency_id, &[], shown).await?);
    }
    if let Some(v) = match r.victim_case_id.as_deref() {
        Some(id) => state.store.victim_case(id).await?,
        None => None,
    } {
        let shown = Linked { label: "cooperation.victim", code: v.case_code, href: format!("/victims/{}", v.id) };
        let kind = haven_store::victims::KIND;
        linked.extend(if_open(state, viewer, kind, &v.id, &v.owner_agency_id, &[], shown).await?);
    }
    if let Some(k) = match r.criminal_case_id.as_deref() {
        Some(id) => state.store.case(id).await?,
        None => None,
    } {
        let sent: Vec<&str> =
            [&k.procuracy_agency_id, &k.court_agency_id].into_iter().flatten().map(String::as_str).collect();
        let shown = Linked { label: "cooperation.case", code: k.case_number.clone(), href: format!("/cases/{}", k.id) };
        let kind = haven_store::cases::KIND;
        linked.extend(if_open(state, viewer, kind, &k.id, &k.owner_agency_id, &sent, shown).await?);
    }
    let today = today(state);
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

/// The request, if the viewer's agency owns it (only it records answers and withdraws).
async fn load_own(state: &AppState, viewer: &Viewer, id: &str) -> AppResult<RequestRow> {
    let r = load(state, viewer, id).await?;
    if r.owner_agency_id != viewer.agency.id {
        return Err(AppError::Forbidden);
    }
    Ok(r)
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct AnswerForm {
    answered_on: String,
    outcome: String,
    answer: String,
}

async fn answer(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::CreateRecords>,
    c: Ctx,
    Path(id): Path<String>,
    CsrfForm(form, pairs): CsrfForm<AnswerForm>,
) -> AppResult<Response> {
    let r = load_own(&state, &viewer, &id).await?;
    let sent = haven_store::reports::parse_day(&r.sent_on).ok_or(AppError::NotFound)?;
    let mut f = FormState::from_pairs(&pairs);
    let checked = rules::check_answer(sent, parse_date(&form.answered_on), form.outcome.trim(), today(&state));
    if let Err(errors) = &checked {
        errors.iter().for_each(|(field, key)| f.add(field, key));
    }
    if form.answer.chars().count() > MAX_TEXT {
        f.add("answer", "error.too_long");
    }
    if !r.status(today(&state)).awaiting() {
        f.add("outcome", "error.cooperation_not_awaiting");
    }
    match checked {
        Ok(on) if !f.has_errors() => {
            let mut cmd = state.store.command(&viewer.actor()).await?;
            let done =
                store::answer(&mut cmd, &state.store.keys, &id, on, form.outcome.trim(), opt(&form.answer)).await?;
            if done {
                cmd.commit().await?;
            } else {
                f.add("outcome", "error.cooperation_not_awaiting");
                drop(cmd);
                return request_page(&state, &viewer, c, &id, f, StatusCode::CONFLICT).await;
            }
            Ok(Redirect::to(&format!("/cooperation/{id}?done=cooperation_answered")).into_response())
        }
        _ => request_page(&state, &viewer, c, &id, f, StatusCode::UNPROCESSABLE_ENTITY).await,
    }
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
    load_own(&state, &viewer, &id).await?;
    let mut cmd = state.store.command(&viewer.actor()).await?;
    if store::withdraw(&mut cmd, &id, today(&state)).await? {
        cmd.commit().await?;
    } else {
        drop(cmd);
        let mut f = FormState::default();
        f.add("outcome", "error.cooperation_not_awaiting");
        return request_page(&state, &viewer, c, &id, f, StatusCode::CONFLICT).await;
    }
    Ok(Redirect::to(&format!("/cooperation/{id}?done=cooperation_withdrawn")).into_response())
}

impl Line {
    pub fn overdue(&self) -> bool {
        self.status == Status::Overdue.code()
    }
}
