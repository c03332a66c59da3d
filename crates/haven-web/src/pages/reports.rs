//! Reports: intake by a clerk, classification, the settlement clock (extensions, the procuracy's extension,
//! suspension, resumption) and the settling decision, with work lists of what falls due. Every rule comes from
//! `haven_domain::reports`; this module reads forms, asks the domain and hands its answer to the store.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use haven_domain::cases::PersonRole;
use haven_domain::format::{parse_date, Lang};
use haven_domain::reports::clock::{Clock, ClockEvent, Standing};
use haven_domain::reports::intake::{self, Channel, Classification, Decision, DecisionKind, Kind};
use haven_domain::time::{local, local_date, to_millis, VN_OFFSET};
use haven_store::persons::PersonRow;
use haven_store::reports::{self, NewReport, ReportDetails, ReportRow, WorkList, KIND};
use serde::Deserialize;
use time::{Date, Duration};

use crate::ctx::{self as guards, Can, CsrfForm, Viewer};
use crate::error::{AppError, AppResult};
use crate::page::{ok, render, Ctx, FormState};
use crate::pages::persons::PURPOSES;
use crate::pages::sharing::{self, Sharing};
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/reports", get(list).post(create))
        .route("/reports/new", get(new_form))
        .route("/reports/{id}", get(show))
        .route("/reports/{id}/reveal", post(reveal))
        .route("/reports/{id}/classify", post(classify))
        .route("/reports/{id}/clock", post(clock_event))
        .route("/reports/{id}/decide", post(decide))
        .route("/reports/{id}/same-event", post(same_event))
        .route("/reports/{id}/persons", post(add_person))
        .route("/reports/{id}/procuracy", post(send_to_procuracy))
        .route("/reports/{id}/grants", post(grant))
        .route("/reports/{id}/grants/{grant}/revoke", post(revoke))
}

const KINDS: &[&str] = &["denunciation", "crime_report", "recommendation"];
const CHANNELS: &[&str] = &["in_person", "hotline", "letter", "online", "media", "transfer"];
const CLOCK_EVENTS: &[&str] =
    &["complex_extension", "procuracy_requested", "procuracy_granted", "procuracy_refused", "suspended", "resumed"];
const SUSPENSION_GROUNDS: &[&str] = &["expert_examination", "foreign_assistance", "documents_pending", "force_majeure"];
const DECISIONS: &[&str] = &["initiate", "not_initiate", "transfer"];
/// "Due soon" means the last day is within this many days.
pub const DUE_SOON_DAYS: i64 = 5;

fn from_code<T: serde::de::DeserializeOwned>(code: &str) -> Option<T> {
    serde_json::from_value(serde_json::Value::String(code.to_owned())).ok()
}

/// Today in Viet Nam, by the server's clock.
pub fn today(state: &AppState) -> Date {
    local_date(state.store.now()).unwrap_or(Date::MIN)
}

/// Counts for the home page: due within five days, overdue, awaiting the procuracy's answer.
pub async fn work_counts(state: &AppState, agency_id: &str) -> anyhow::Result<(usize, usize, usize)> {
    let t = today(state);
    let due = state
        .store
        .report_work_list(agency_id, WorkList::DueBy { today: t, until: t + Duration::days(DUE_SOON_DAYS) }, None, 1000)
        .await?;
    let overdue = state.store.report_work_list(agency_id, WorkList::Overdue { today: t }, None, 1000).await?;
    let waiting = state.store.report_work_list(agency_id, WorkList::AwaitingProcuracy, None, 1000).await?;
    Ok((due.len(), overdue.len(), waiting.len()))
}

pub struct Line {
    pub r: ReportRow,
    pub received: String,
    pub last_day: String,
    pub standing: &'static str,
}

fn display_day(d: &Option<String>) -> String {
    d.as_deref().and_then(parse_date).map(haven_domain::format::date).unwrap_or_default()
}

fn line(r: ReportRow, today: Date) -> Line {
    let last = r.last_day.as_deref().and_then(parse_date);
    let standing = if r.decision_kind.is_some() {
        "settled"
    } else if r.suspended_since.is_some() {
        "suspended"
    } else if last.is_some_and(|l| l < today) {
        "overdue"
    } else if last.is_some_and(|l| l <= today + Duration::days(DUE_SOON_DAYS)) {
        "due_soon"
    } else {
        "running"
    };
    Line { received: haven_domain::format::date_time(r.received_at), last_day: display_day(&r.last_day), standing, r }
}

#[derive(Template)]
#[template(path = "reports.html")]
struct ListPage {
    c: Ctx,
    list: String,
    mine: bool,
    lines: Vec<Line>,
    can_create: bool,
    /// The viewer's agency is a procuracy: it has the lists of what was notified to it.
    supervises: bool,
}

#[derive(Deserialize)]
struct ListQuery {
    list: Option<String>,
    mine: Option<String>,
}

async fn list(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::ViewRecords>,
    c: Ctx,
    Query(q): Query<ListQuery>,
) -> AppResult<Response> {
    let t = today(&state);
    let list = q.list.unwrap_or_else(|| "all".into());
    let mine = q.mine.is_some();
    let who = mine.then_some(viewer.user.id.as_str());
    let rows = match list.as_str() {
        "due" => {
            state
                .store
                .report_work_list(
                    &viewer.agency.id,
                    WorkList::DueBy { today: t, until: t + Duration::days(DUE_SOON_DAYS) },
                    who,
                    200,
                )
                .await?
        }
        "overdue" => state.store.report_work_list(&viewer.agency.id, WorkList::Overdue { today: t }, who, 200).await?,
        "procuracy" => state.store.report_work_list(&viewer.agency.id, WorkList::AwaitingProcuracy, who, 200).await?,
        // What investigating bodies notified to this agency (a procuracy), and what awaits its answer.
        "sent" => state.store.reports_sent_to(&viewer.agency.id, false, 200).await?,
        "to_answer" => state.store.reports_sent_to(&viewer.agency.id, true, 200).await?,
        _ => state.store.reports_of_agency(&viewer.agency.id, 100).await?,
    };
    let lines = rows.into_iter().map(|r| line(r, t)).collect();
    let supervises = viewer.agency.kind == "procuracy";
    Ok(ok(&ListPage { c, list, mine, lines, can_create: viewer.can(haven_domain::Action::CreateRecords), supervises }))
}

#[derive(Template)]
#[template(path = "report_new.html")]
struct NewPage {
    c: Ctx,
    f: FormState,
    kinds: &'static [&'static str],
    channels: &'static [&'static str],
    officers: Vec<(String, String)>,
    communes: Vec<(String, String)>,
    now_date: String,
    now_time: String,
}

async fn new_page(state: &AppState, viewer: &Viewer, c: Ctx, f: FormState, status: StatusCode) -> AppResult<Response> {
    let now = local(state.store.now());
    let officers = state
        .store
        .users(Some(&viewer.agency.id))
        .await?
        .into_iter()
        .filter(|u| {
            !u.disabled
                && u.roles.iter().any(|r| matches!(r, haven_domain::Role::CaseOfficer | haven_domain::Role::AgencyHead))
        })
        .map(|u| (u.id, u.display_name))
        .collect();
    let page = NewPage {
        c,
        f,
        kinds: KINDS,
        channels: CHANNELS,
        officers,
        communes: state.store.communes(&state.config.province).await?,
        now_date: now.map(|t| haven_domain::format::date(t.date())).unwrap_or_default(),
        now_time: now.map(|t| format!("{:02}:{:02}", t.hour(), t.minute())).unwrap_or_default(),
    };
    Ok(render(status, &page))
}

async fn new_form(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::CreateRecords>,
    c: Ctx,
) -> AppResult<Response> {
    new_page(&state, &viewer, c, FormState::default(), StatusCode::OK).await
}

#[derive(Deserialize)]
pub struct NewReportForm {
    pub kind: String,
    pub channel: String,
    pub received_date: String,
    #[serde(default)]
    pub received_time: String,
    #[serde(default)]
    pub anonymous: Option<String>,
    #[serde(default)]
    pub reporter_name: String,
    #[serde(default)]
    pub reporter_contact: String,
    pub summary: String,
    #[serde(default)]
    pub commune_code: String,
    #[serde(default)]
    pub assigned_to: String,
}

/// Parse "HH:MM" (empty means the start of the day).
fn parse_time(s: &str) -> Option<time::Time> {
    let s = s.trim();
    if s.is_empty() {
        return Some(time::Time::MIDNIGHT);
    }
    let (h, m) = s.split_once(':')?;
    time::Time::from_hms(h.parse().ok()?, m.parse().ok()?, 0).ok()
}

/// Field errors: (field, translation key).
pub type FieldErrors = Vec<(String, String)>;

fn errors_of(f: FormState) -> FieldErrors {
    f.errors
}

/// Validate and record a new report for the viewer's agency; the pages and the API share it.
pub async fn create_report(
    state: &AppState,
    viewer: &Viewer,
    form: NewReportForm,
) -> AppResult<Result<String, FieldErrors>> {
    let mut f = FormState::default();
    let kind: Option<Kind> = from_code(&form.kind);
    if kind.is_none() {
        f.add("kind", "error.choice");
    }
    let channel: Option<Channel> = from_code(&form.channel);
    if channel.is_none() {
        f.add("channel", "error.choice");
    }
    let received = parse_date(&form.received_date)
        .zip(parse_time(&form.received_time))
        .map(|(d, t)| d.with_time(t).assume_offset(VN_OFFSET));
    match received.map(to_millis) {
        None => f.add("received_date", "error.date"),
        Some(at) if at > state.store.now() => f.add("received_date", "error.date_in_future"),
        _ => {}
    }
    let anonymous = form.anonymous.as_deref().is_some_and(|a| !a.is_empty() && a != "0" && a != "false");
    if !anonymous && form.reporter_name.trim().is_empty() {
        f.add("reporter_name", "error.reporter_or_anonymous");
    }
    let summary = form.summary.trim();
    if summary.chars().count() < 10 {
        f.add("summary", "error.summary");
    }
    let commune = Some(form.commune_code.trim()).filter(|c| !c.is_empty());
    if let Some(code) = commune {
        if !state.store.unit_exists(code).await? {
            f.add("commune_code", "error.choice");
        }
    }
    let assigned = Some(form.assigned_to.trim()).filter(|a| !a.is_empty());
    if let Some(a) = assigned {
        if !state.store.user(a).await?.is_some_and(|u| u.agency_id == viewer.agency.id && !u.disabled) {
            f.add("assigned_to", "error.choice");
        }
    }
    let (Some(kind), Some(channel), Some(received), false) = (kind, channel, received, f.has_errors()) else {
        return Ok(Err(errors_of(f)));
    };
    let received_on = received.date();
    let clock = Clock::new(&state.profile.clock, received_on);
    let reporter = (!anonymous).then_some((form.reporter_name.trim(), form.reporter_contact.trim()));
    let new = NewReport {
        kind,
        channel,
        received_at: to_millis(received),
        received_on,
        assigned_to: assigned,
        reporter,
        summary,
        commune_code: commune,
    };
    let mut cmd = state.store.command(&viewer.actor()).await?;
    let id = reports::create(&mut cmd, &state.store.keys, &viewer.agency.id, &new, &clock).await?;
    cmd.commit().await?;
    Ok(Ok(id))
}

async fn create(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::CreateRecords>,
    c: Ctx,
    CsrfForm(form, pairs): CsrfForm<NewReportForm>,
) -> AppResult<Response> {
    match create_report(&state, &viewer, form).await? {
        Ok(id) => Ok(Redirect::to(&format!("/reports/{id}?done=report_created")).into_response()),
        Err(errors) => {
            let mut f = FormState::from_pairs(&pairs);
            f.errors = errors;
            new_page(&state, &viewer, c, f, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

pub struct EventLine {
    pub kind: &'static str,
    pub on: String,
    pub months: Option<u32>,
    pub ground: Option<String>,
}

#[derive(Template)]
#[template(path = "report.html")]
struct ReportPage {
    c: Ctx,
    f: FormState,
    l: Line,
    events: Vec<EventLine>,
    details: Option<ReportDetails>,
    days_left: Option<i64>,
    offence_name: String,
    can_edit: bool,
    can_reveal: bool,
    purposes: &'static [&'static str],
    offences: Vec<(String, String)>,
    clock_events: &'static [&'static str],
    grounds: &'static [&'static str],
    decisions: &'static [&'static str],
    /// The criminal case the report led to, once opened.
    case_id: Option<String>,
    /// Reports linked as the same event: (id, code).
    same_event: Vec<(String, String)>,
    /// Reports from the same commune within a week, or naming the same person, offered for linking.
    duplicates: Vec<Line>,
    /// The persons the report names.
    persons: Vec<PersonLink>,
    roles: Vec<&'static str>,
    /// The procuracy the report was notified to, and when.
    procuracy: Option<(String, String)>,
    /// Procuracies it may be notified to: (id, name).
    procuracies: Vec<(String, String)>,
    /// The viewer is the procuracy and may answer the extension request.
    can_answer: bool,
    share: Option<Sharing>,
}

/// A person named by a report or a case, in pseudonymous form; `open` when the viewer may open the record.
pub struct PersonLink {
    pub person_id: String,
    pub code: String,
    pub role: String,
    pub open: bool,
}

/// Persons in pseudonymous form, each marked with whether the viewer may open its record.
pub async fn person_links(
    state: &AppState,
    viewer: &Viewer,
    rows: Vec<(String, String, String)>,
) -> AppResult<Vec<PersonLink>> {
    let mut links = Vec::with_capacity(rows.len());
    for (person_id, code, role) in rows {
        let open = match state.store.person(&person_id).await? {
            Some(p) => {
                crate::pages::record_access(state, viewer, haven_store::persons::KIND, &p.id, &p.owner_agency_id, &[])
                    .await?
                    .allowed()
            }
            None => false,
        };
        links.push(PersonLink { person_id, code, role, open });
    }
    Ok(links)
}

/// Active agencies of a kind (e.g. every procuracy), as (id, name in the page's language).
pub async fn agencies_of_kind(state: &AppState, c: &Ctx, kind: &str) -> AppResult<Vec<(String, String)>> {
    Ok(state
        .store
        .agencies()
        .await?
        .iter()
        .filter(|a| a.active && a.kind == kind)
        .map(|a| (a.id.clone(), c.agency_label(&a.name_vi, &a.name_en).to_owned()))
        .collect())
}

/// An agency's name in the page's language.
pub async fn agency_name(state: &AppState, c: &Ctx, id: &str) -> AppResult<String> {
    Ok(state.store.agency(id).await?.map(|a| c.agency_label(&a.name_vi, &a.name_en).to_owned()).unwrap_or_default())
}

/// Reports received this close together in the same commune are offered as possibly the same event.
const DUPLICATE_WINDOW_DAYS: i64 = 7;

async fn load(state: &AppState, viewer: &Viewer, id: &str) -> AppResult<ReportRow> {
    let r = state.store.report(id).await?.ok_or(AppError::NotFound)?;
    if !crate::pages::record_access(state, viewer, KIND, id, &r.owner_agency_id, &r.sent_to()).await?.allowed() {
        return Err(AppError::Forbidden);
    }
    Ok(r)
}

/// The report's clock, replayed from its events.
async fn clock_of(state: &AppState, r: &ReportRow) -> AppResult<Clock> {
    let received = parse_date(&r.received_on).ok_or_else(|| anyhow::anyhow!("report with a bad receipt date"))?;
    let events: Vec<ClockEvent> = state.store.report_events(&r.id).await?.into_iter().map(|e| e.event).collect();
    Clock::replay(&state.profile.clock, received, &events)
        .map_err(|(i, e)| AppError::Internal(anyhow::anyhow!("stored clock event {i} is invalid: {e:?}")))
}

async fn page(
    state: &AppState,
    viewer: &Viewer,
    c: Ctx,
    r: ReportRow,
    details: Option<ReportDetails>,
    f: FormState,
    status: StatusCode,
) -> AppResult<Response> {
    let t = today(state);
    let clock = clock_of(state, &r).await?;
    let days_left = match clock.standing(t) {
        Standing::Running { days_left, .. } => Some(days_left),
        Standing::Overdue { days_over, .. } => Some(-days_over),
        Standing::Suspended { .. } => None,
    };
    let events = state
        .store
        .report_events(&r.id)
        .await?
        .into_iter()
        .map(|e| EventLine {
            kind: e.event.code(),
            on: haven_domain::format::date(e.event.date()),
            months: match e.event {
                ClockEvent::ProcuracyGranted { months, .. } => Some(months),
                _ => None,
            },
            ground: e.ground,
        })
        .collect();
    let name = |o: &intake::Offence| if c.lang == Lang::En { o.name_en.clone() } else { o.name_vi.clone() };
    let offences: Vec<(String, String)> = state.profile.offences.iter().map(|o| (o.code.clone(), name(o))).collect();
    let offence_name = r
        .offence_code
        .as_ref()
        .and_then(|code| offences.iter().find(|(c, _)| c == code))
        .map(|(_, n)| n.clone())
        .unwrap_or_default();
    let owner = r.owner_agency_id == viewer.agency.id;
    let persons = person_links(state, viewer, state.store.report_persons(&r.id).await?).await?;
    let procuracy = match (&r.procuracy_agency_id, &r.sent_to_procuracy_on) {
        (Some(a), on) => Some((agency_name(state, &c, a).await?, display_day(on))),
        _ => None,
    };
    let procuracies = if owner && r.procuracy_agency_id.is_none() {
        agencies_of_kind(state, &c, "procuracy").await?
    } else {
        Vec::new()
    };
    let can_answer = r.procuracy_agency_id.as_deref() == Some(viewer.agency.id.as_str())
        && r.procuracy_pending
        && r.decision_kind.is_none()
        && viewer.can(haven_domain::Action::EditRecords);
    let share =
        sharing::section(state, viewer, &c, KIND, &r.id, &r.owner_agency_id, format!("/reports/{}", r.id)).await?;
    let case_id = state.store.case_of_report(&r.id).await?;
    let same_event = state.store.same_event_reports(&r.id).await?;
    let duplicates = if owner {
        state.store.possible_duplicates(&r, DUPLICATE_WINDOW_DAYS).await?.into_iter().map(|d| line(d, t)).collect()
    } else {
        Vec::new()
    };
    let can_reveal = crate::pages::may_unseal(viewer, &r.owner_agency_id, &r.sent_to());
    let page = ReportPage {
        case_id,
        same_event,
        duplicates,
        c,
        f,
        l: line(r, t),
        events,
        details,
        days_left,
        offence_name,
        can_edit: owner && viewer.can(haven_domain::Action::EditRecords),
        can_reveal,
        purposes: PURPOSES,
        offences,
        clock_events: CLOCK_EVENTS,
        grounds: SUSPENSION_GROUNDS,
        decisions: DECISIONS,
        persons,
        roles: PersonRole::ALL.iter().map(|r| r.code()).collect(),
        procuracy,
        procuracies,
        can_answer,
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
    let r = load(&state, &viewer, &id).await?;
    page(&state, &viewer, c, r, None, FormState::default(), StatusCode::OK).await
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
    let r = load(&state, &viewer, &id).await?;
    if !crate::pages::may_unseal(&viewer, &r.owner_agency_id, &r.sent_to()) {
        return Err(AppError::Forbidden);
    }
    if !PURPOSES.contains(&form.purpose.as_str()) {
        let mut f = FormState::from_pairs(&pairs);
        f.add("purpose", "error.choice");
        return page(&state, &viewer, c, r, None, f, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let mut cmd = state.store.command(&viewer.actor()).await?;
    let details = reports::view_details(&mut cmd, &state.store.keys, &id, &form.purpose).await?;
    cmd.commit().await?;
    page(&state, &viewer, c, r, details, FormState::default(), StatusCode::OK).await
}

/// The report, if the viewer's agency owns it (only the owner changes a report).
async fn load_for_edit(state: &AppState, viewer: &Viewer, id: &str) -> AppResult<ReportRow> {
    let r = state.store.report(id).await?.ok_or(AppError::NotFound)?;
    if r.owner_agency_id != viewer.agency.id {
        return Err(AppError::Forbidden);
    }
    Ok(r)
}

#[derive(Deserialize)]
pub struct ClassifyForm {
    pub outcome: String,
    #[serde(default)]
    pub offence_code: String,
    #[serde(default)]
    pub forwarded_to: String,
    pub reason: String,
}

/// The report, if the viewer may record this clock event on it: the owner any event except, once the report
/// was notified to a procuracy, the answer to the extension request, which only that procuracy records.
pub async fn report_for_clock(state: &AppState, viewer: &Viewer, id: &str, event: &str) -> AppResult<ReportRow> {
    let r = state.store.report(id).await?.ok_or(AppError::NotFound)?;
    let answer = matches!(event, "procuracy_granted" | "procuracy_refused");
    let allowed = match (answer, r.procuracy_agency_id.as_deref()) {
        // Once notified, the procuracy answers its own extension requests; the body under supervision does not.
        (true, Some(procuracy)) => procuracy == viewer.agency.id,
        // Not notified: the owner transcribes the answer it received on paper.
        _ => r.owner_agency_id == viewer.agency.id,
    };
    if !allowed {
        return Err(AppError::Forbidden);
    }
    Ok(r)
}

/// The report, if the viewer's agency owns it (only the owner changes a report).
pub async fn owned_report(state: &AppState, viewer: &Viewer, id: &str) -> AppResult<ReportRow> {
    load_for_edit(state, viewer, id).await
}

pub async fn classify_report(
    state: &AppState,
    viewer: &Viewer,
    r: &ReportRow,
    form: &ClassifyForm,
) -> AppResult<Result<(), FieldErrors>> {
    let classification = match form.outcome.as_str() {
        "offence" => Classification::Offence { code: form.offence_code.trim().to_owned() },
        _ => Classification::NotRelated { forwarded_to: form.forwarded_to.trim().to_owned() },
    };
    let mut f = FormState::default();
    if r.decision_kind.is_some() {
        f.add("classify", "error.intake_settled");
    } else if let Err(e) = intake::classify(&state.profile.offences, &classification, &form.reason) {
        let field = match e {
            intake::IntakeError::UnknownOffence => "offence_code",
            intake::IntakeError::ForwardedToMissing => "forwarded_to",
            _ => "classify_reason",
        };
        f.add(field, e.key());
    }
    if f.has_errors() {
        return Ok(Err(errors_of(f)));
    }
    let mut cmd = state.store.command(&viewer.actor()).await?;
    reports::classify(&mut cmd, &state.store.keys, &r.id, &classification, form.reason.trim()).await?;
    cmd.commit().await?;
    Ok(Ok(()))
}

async fn classify(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::EditRecords>,
    c: Ctx,
    Path(id): Path<String>,
    CsrfForm(form, pairs): CsrfForm<ClassifyForm>,
) -> AppResult<Response> {
    let r = load_for_edit(&state, &viewer, &id).await?;
    match classify_report(&state, &viewer, &r, &form).await? {
        Ok(()) => Ok(Redirect::to(&format!("/reports/{id}?done=report_classified")).into_response()),
        Err(errors) => {
            let mut f = FormState::from_pairs(&pairs);
            f.errors = errors;
            page(&state, &viewer, c, r, None, f, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

#[derive(Deserialize)]
pub struct ClockForm {
    pub event: String,
    pub on: String,
    #[serde(default)]
    pub months: String,
    #[serde(default)]
    pub ground: String,
    #[serde(default)]
    pub reason: String,
}

pub async fn record_clock_event(
    state: &AppState,
    viewer: &Viewer,
    r: &ReportRow,
    form: &ClockForm,
) -> AppResult<Result<(), FieldErrors>> {
    let mut f = FormState::default();
    let on = parse_date(&form.on);
    let months = form.months.trim().parse::<u32>().unwrap_or(0);
    let event = on.and_then(|on| match form.event.as_str() {
        "complex_extension" => Some(ClockEvent::ComplexExtension { on }),
        "procuracy_requested" => Some(ClockEvent::ProcuracyRequested { on }),
        "procuracy_granted" => Some(ClockEvent::ProcuracyGranted { on, months }),
        "procuracy_refused" => Some(ClockEvent::ProcuracyRefused { on }),
        "suspended" => Some(ClockEvent::Suspended { on }),
        "resumed" => Some(ClockEvent::Resumed { on }),
        _ => None,
    });
    let ground = Some(form.ground.trim()).filter(|g| SUSPENSION_GROUNDS.contains(g));
    let mut after = None;
    match (on, event) {
        (None, _) => f.add("event_on", "error.date"),
        (Some(on), _) if on > today(state) => f.add("event_on", "error.date_in_future"),
        (_, None) => f.add("event", "error.choice"),
        (_, Some(ClockEvent::Suspended { .. })) if ground.is_none() => f.add("ground", "error.choice"),
        (_, Some(ClockEvent::ComplexExtension { .. })) if form.reason.trim().chars().count() < 5 => {
            f.add("event_reason", "error.intake_reason")
        }
        _ if r.decision_kind.is_some() => f.add("event", "error.intake_settled"),
        (_, Some(event)) => match clock_of(state, r).await?.apply(&state.profile.clock, event) {
            Ok(next) => after = Some((event, next)),
            Err(e) => f.add("event", e.key()),
        },
    }
    let Some((event, next)) = after.filter(|_| !f.has_errors()) else {
        return Ok(Err(errors_of(f)));
    };
    let mut cmd = state.store.command(&viewer.actor()).await?;
    reports::record_event(&mut cmd, &state.store.keys, &r.id, &event, ground, Some(form.reason.trim()), &next).await?;
    cmd.commit().await?;
    Ok(Ok(()))
}

async fn clock_event(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::EditRecords>,
    c: Ctx,
    Path(id): Path<String>,
    CsrfForm(form, pairs): CsrfForm<ClockForm>,
) -> AppResult<Response> {
    let r = report_for_clock(&state, &viewer, &id, &form.event).await?;
    match record_clock_event(&state, &viewer, &r, &form).await? {
        Ok(()) => Ok(Redirect::to(&format!("/reports/{id}?done=clock_recorded")).into_response()),
        Err(errors) => {
            let mut f = FormState::from_pairs(&pairs);
            f.errors = errors;
            page(&state, &viewer, c, r, None, f, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

#[derive(Deserialize)]
pub struct DecideForm {
    pub decision: String,
    pub number: String,
    pub decided_on: String,
    #[serde(default)]
    pub notified_on: String,
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub transfer_to: String,
}

pub async fn decide_report(
    state: &AppState,
    viewer: &Viewer,
    r: &ReportRow,
    form: &DecideForm,
) -> AppResult<Result<(), FieldErrors>> {
    let mut f = FormState::default();
    let decided_on = parse_date(&form.decided_on);
    let notified =
        if form.notified_on.trim().is_empty() { Ok(None) } else { parse_date(&form.notified_on).map(Some).ok_or(()) };
    if decided_on.is_none() {
        f.add("decided_on", "error.date");
    }
    if notified.is_err() {
        f.add("notified_on", "error.date");
    }
    let kind = match form.decision.as_str() {
        "initiate" => Some(DecisionKind::Initiate),
        "not_initiate" => Some(DecisionKind::NotInitiate { reason: form.reason.trim().to_owned() }),
        "transfer" => Some(DecisionKind::Transfer { to: form.transfer_to.trim().to_owned() }),
        _ => {
            f.add("decision", "error.choice");
            None
        }
    };
    let mut accepted = None;
    if let (Some(kind), Some(decided_on), Ok(notified), false) = (kind, decided_on, notified, f.has_errors()) {
        let d = Decision { kind, number: form.number.clone(), decided_on, reporter_notified_on: notified };
        let clock = clock_of(state, r).await?;
        match intake::check_decision(&clock, r.classification.is_some(), r.decision_kind.is_some(), &d, today(state)) {
            Ok(on_time) => accepted = Some((d, on_time)),
            Err(e) => {
                let field = match e {
                    intake::IntakeError::NumberMissing => "number",
                    intake::IntakeError::NotifiedBeforeDecision => "notified_on",
                    intake::IntakeError::ReasonMissing => "decision_reason",
                    intake::IntakeError::ForwardedToMissing => "transfer_to",
                    intake::IntakeError::InFuture | intake::IntakeError::BeforeReceipt => "decided_on",
                    _ => "decision",
                };
                f.add(field, e.key());
            }
        }
    }
    let Some((d, on_time)) = accepted else {
        return Ok(Err(errors_of(f)));
    };
    let mut cmd = state.store.command(&viewer.actor()).await?;
    reports::decide(&mut cmd, &state.store.keys, &r.id, &d, on_time).await?;
    cmd.commit().await?;
    Ok(Ok(()))
}

async fn decide(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::EditRecords>,
    c: Ctx,
    Path(id): Path<String>,
    CsrfForm(form, pairs): CsrfForm<DecideForm>,
) -> AppResult<Response> {
    let r = load_for_edit(&state, &viewer, &id).await?;
    match decide_report(&state, &viewer, &r, &form).await? {
        Ok(()) => Ok(Redirect::to(&format!("/reports/{id}?done=report_decided")).into_response()),
        Err(errors) => {
            let mut f = FormState::from_pairs(&pairs);
            f.errors = errors;
            page(&state, &viewer, c, r, None, f, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

#[derive(Deserialize)]
struct SameEventForm {
    other: String,
}

/// Link this report to an earlier one as the same event; both records stay.
async fn same_event(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::EditRecords>,
    Path(id): Path<String>,
    CsrfForm(form, _): CsrfForm<SameEventForm>,
) -> AppResult<Response> {
    let r = load_for_edit(&state, &viewer, &id).await?;
    let other = load_for_edit(&state, &viewer, &form.other).await?;
    if !state.store.possible_duplicates(&r, DUPLICATE_WINDOW_DAYS).await?.iter().any(|d| d.id == other.id) {
        return Err(AppError::BadRequest("not a candidate".into()));
    }
    let mut cmd = state.store.command(&viewer.actor()).await?;
    reports::link_same_event(&mut cmd, &r.id, &other.id).await?;
    cmd.commit().await?;
    Ok(Redirect::to(&format!("/reports/{id}?done=same_event_linked")).into_response())
}

#[derive(Deserialize)]
pub struct PersonLinkForm {
    /// The person's pseudonymous case code (HS-...).
    pub person_code: String,
    pub role: String,
}

/// A person record the viewer's agency owns or holds a whole grant on, found by its case code (a merged
/// record's code leads to the record it was merged into): what may be named on a report or case or opened as a
/// victim case. Break-the-glass opens a record for an emergency, and a referral's read-only grant serves the
/// referral, not this.
pub async fn visible_person(state: &AppState, viewer: &Viewer, code: &str) -> AppResult<Option<PersonRow>> {
    for p in state.store.find_persons_by_case_code(code).await? {
        let kind = haven_store::persons::KIND;
        let decision = crate::pages::record_access(state, viewer, kind, &p.id, &p.owner_agency_id, &[]).await?;
        if decision.opens_whole_record() {
            return Ok(Some(p));
        }
    }
    Ok(None)
}

/// Read a person link form: the person (only one the viewer may open: a code alone never reveals whether
/// a record exists) and the role.
pub async fn person_link(
    state: &AppState,
    viewer: &Viewer,
    form: &PersonLinkForm,
) -> AppResult<Result<(PersonRow, PersonRole), FieldErrors>> {
    let mut f = FormState::default();
    let role = PersonRole::from_code(form.role.trim());
    if role.is_none() {
        f.add("role", "error.choice");
    }
    let person = visible_person(state, viewer, &form.person_code).await?;
    if person.is_none() {
        f.add("person_code", "error.person_not_found");
    }
    match (person, role) {
        (Some(p), Some(role)) => Ok(Ok((p, role))),
        _ => Ok(Err(errors_of(f))),
    }
}

pub async fn add_report_person(
    state: &AppState,
    viewer: &Viewer,
    r: &ReportRow,
    form: &PersonLinkForm,
) -> AppResult<Result<(), FieldErrors>> {
    let (p, role) = match person_link(state, viewer, form).await? {
        Ok(found) => found,
        Err(errors) => return Ok(Err(errors)),
    };
    let mut cmd = state.store.command(&viewer.actor()).await?;
    if reports::add_person(&mut cmd, &r.id, &p.id, role).await? {
        cmd.commit().await?;
    }
    Ok(Ok(()))
}

async fn add_person(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::EditRecords>,
    c: Ctx,
    Path(id): Path<String>,
    CsrfForm(form, pairs): CsrfForm<PersonLinkForm>,
) -> AppResult<Response> {
    let r = load_for_edit(&state, &viewer, &id).await?;
    match add_report_person(&state, &viewer, &r, &form).await? {
        Ok(()) => Ok(Redirect::to(&format!("/reports/{id}?done=person_linked#persons")).into_response()),
        Err(errors) => {
            let mut f = FormState::from_pairs(&pairs);
            f.errors = errors;
            page(&state, &viewer, c, r, None, f, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

#[derive(Deserialize)]
pub struct ProcuracyForm {
    pub procuracy: String,
    pub on: String,
}

/// Notify a report to a procuracy, which then supervises its settlement.
pub async fn notify_procuracy(
    state: &AppState,
    viewer: &Viewer,
    r: &ReportRow,
    form: &ProcuracyForm,
) -> AppResult<Result<(), FieldErrors>> {
    let mut f = FormState::default();
    let agency = state.store.agency(form.procuracy.trim()).await?.filter(|a| a.active && a.kind == "procuracy");
    if r.procuracy_agency_id.is_some() {
        f.add("procuracy", "error.already_sent");
    } else if agency.is_none() {
        f.add("procuracy", "error.choice");
    }
    let received = parse_date(&r.received_on);
    let on = parse_date(&form.on);
    match on {
        None => f.add("procuracy_on", "error.date"),
        Some(d) if d > today(state) => f.add("procuracy_on", "error.date_in_future"),
        Some(d) if received.is_some_and(|rec| d < rec) => f.add("procuracy_on", "error.date_before_receipt"),
        Some(_) => {}
    }
    let (Some(agency), Some(on), false) = (agency, on, f.has_errors()) else {
        return Ok(Err(errors_of(f)));
    };
    let mut cmd = state.store.command(&viewer.actor()).await?;
    if !reports::send_to_procuracy(&mut cmd, &r.id, &agency.id, on).await? {
        return Ok(Err(vec![("procuracy".into(), "error.already_sent".into())]));
    }
    cmd.commit().await?;
    Ok(Ok(()))
}

async fn send_to_procuracy(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::EditRecords>,
    c: Ctx,
    Path(id): Path<String>,
    CsrfForm(form, pairs): CsrfForm<ProcuracyForm>,
) -> AppResult<Response> {
    let r = load_for_edit(&state, &viewer, &id).await?;
    match notify_procuracy(&state, &viewer, &r, &form).await? {
        Ok(()) => Ok(Redirect::to(&format!("/reports/{id}?done=procuracy_notified")).into_response()),
        Err(errors) => {
            let mut f = FormState::from_pairs(&pairs);
            f.errors = errors;
            page(&state, &viewer, c, r, None, f, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

async fn grant(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::GrantAccess>,
    c: Ctx,
    Path(id): Path<String>,
    CsrfForm(form, pairs): CsrfForm<sharing::GrantForm>,
) -> AppResult<Response> {
    let r = load_for_edit(&state, &viewer, &id).await?;
    match sharing::create(&state, &viewer, KIND, &id, &form).await? {
        Ok(()) => Ok(Redirect::to(&format!("/reports/{id}?done=grant_created#share")).into_response()),
        Err(errors) => {
            let mut f = FormState::from_pairs(&pairs);
            f.errors = errors;
            page(&state, &viewer, c, r, None, f, StatusCode::UNPROCESSABLE_ENTITY).await
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
    load_for_edit(&state, &viewer, &id).await?;
    if !sharing::revoke(&state, &viewer, KIND, &id, &grant_id).await? {
        return Err(AppError::NotFound);
    }
    Ok(Redirect::to(&format!("/reports/{id}?done=grant_revoked#share")).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::I18n;

    #[test]
    fn every_code_list_entry_is_translated() {
        let i = I18n::embedded();
        let roles: Vec<&str> = PersonRole::ALL.iter().map(|r| r.code()).collect();
        let lists: [(&str, &[&str]); 9] = [
            ("person_role", &roles),
            ("custody", &["arrested", "detained", "released"]),
            ("report_kind", KINDS),
            ("channel", CHANNELS),
            ("clock_event", CLOCK_EVENTS),
            ("ground", SUSPENSION_GROUNDS),
            ("decision", DECISIONS),
            ("standing", &["running", "due_soon", "overdue", "suspended", "settled"]),
            ("purpose", PURPOSES),
        ];
        for lang in [Lang::Vi, Lang::En] {
            for (list, codes) in lists {
                for code in codes {
                    let key = format!("{list}.{code}");
                    assert_ne!(i.get(lang, &key), key, "{key} in {lang:?}");
                }
            }
        }
        // The domain's own error keys too.
        for e in [
            intake::IntakeError::UnknownOffence,
            intake::IntakeError::ForwardedToMissing,
            intake::IntakeError::ReasonMissing,
            intake::IntakeError::NotClassified,
            intake::IntakeError::InFuture,
            intake::IntakeError::BeforeReceipt,
            intake::IntakeError::NotifiedBeforeDecision,
            intake::IntakeError::NumberMissing,
            intake::IntakeError::AlreadySettled,
            intake::IntakeError::ClockSuspended,
        ] {
            assert_ne!(i.get(Lang::En, e.key()), e.key());
        }
        use haven_domain::reports::clock::ClockError as C;
        for e in [
            C::BeforeReceipt,
            C::OutOfOrder,
            C::Suspended,
            C::NotSuspended,
            C::Expired,
            C::AlreadyComplex,
            C::NotComplex,
            C::ProcuracyAlreadyAsked,
            C::RequestTooLate,
            C::NoPendingRequest,
            C::MonthsOutOfRange,
        ] {
            assert_ne!(i.get(Lang::Vi, e.key()), e.key());
        }
    }
}
