//! Report pages: the lists of what falls due, intake, the report page with its classification, clock,
//! decision, persons, procuracy notice and sharing. The use cases are `haven_app::reports`.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use haven_app::persons::PURPOSES;
use haven_app::reports::{
    self as app, ClassifyForm, ClockForm, DecideForm, List, NewReportForm, PersonLinkForm, ProcuracyForm, CHANNELS,
    CLOCK_EVENTS, DECISIONS, KINDS, SUSPENSION_GROUNDS,
};
use haven_app::sharing::GrantForm;
use haven_domain::cases::PersonRole;
use haven_domain::format::{parse_date, Lang};
use haven_domain::reports::clock::{ClockEvent, Standing};
use haven_domain::reports::intake;
use haven_domain::time::local;
use haven_store::reports::{ReportDetails, ReportRow, KIND};
use serde::Deserialize;
use time::Date;

use crate::ctx::{self as guards, Can, CsrfForm, Viewer};
use crate::error::AppResult;
use crate::page::{ok, render, Ctx, FormState};
use crate::views::pager::{find_typed, Typed};
use crate::views::sharing::{self, Sharing};
use crate::views::table::{send, Cell, Download, Table};
use crate::views::{agencies_of_kind, agency_name, person_links, PersonLink};
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/reports", get(list).post(create))
        .route("/reports/new", get(new_form))
        .route("/reports/download", post(download))
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
    let standing = app::standing(&r, today);
    Line { received: haven_domain::format::date_time(r.received_at), last_day: display_day(&r.last_day), standing, r }
}

#[derive(Template)]
#[template(path = "reports.html")]
struct ListPage {
    c: Ctx,
    list: String,
    mine: bool,
    lines: Vec<Line>,
    /// The address of the next page (the list continues after its last line), when there is one.
    next: Option<String>,
    /// Whether this is a later page (a link back to the first is offered).
    later: bool,
    /// The code looked for, when nothing the viewer may open carries it.
    not_found: Option<String>,
    can_create: bool,
    /// The viewer's agency is a procuracy: it has the lists of what was notified to it.
    supervises: bool,
    dl: Download,
}

#[derive(Deserialize)]
struct ListQuery {
    list: Option<String>,
    mine: Option<String>,
    /// The last report of the page before (keyset paging).
    #[serde(default)]
    after: Option<String>,
    /// A case code to go to.
    #[serde(default)]
    code: Option<String>,
}

/// Lines on a page of a list.
const PAGE: i64 = 100;

/// The lines of a list as its page shows them: which list, whether only the viewer's, and the lines.
async fn lines_of(state: &AppState, viewer: &Viewer, q: &ListQuery) -> AppResult<(List, bool, Vec<Line>)> {
    let t = state.today();
    let list = match q.list.as_deref() {
        None => List::All,
        Some(code) => List::from_code(code).unwrap_or(List::All),
    };
    let mine =
        q.mine.as_deref().is_some_and(|m| !m.is_empty()) && !matches!(list, List::All | List::Sent | List::ToAnswer);
    // One more than a page: whether a next page exists.
    let after = q.after.as_deref().filter(|a| !a.is_empty());
    let rows = app::list(state, viewer, list, mine, after, PAGE + 1).await?;
    Ok((list, mine, rows.into_iter().map(|r| line(r, t)).collect()))
}

async fn list(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::ViewRecords>,
    c: Ctx,
    Query(q): Query<ListQuery>,
) -> AppResult<Response> {
    // A case code typed in the search box opens that report when the viewer may see it.
    let find = async |code: &str| app::find_by_code(&state, &viewer, code).await;
    let not_found = match find_typed(q.code.as_deref(), "/reports", find).await? {
        Typed::Open(page) => return Ok(page),
        Typed::NotFound(typed) => typed,
    };
    let (list, mine, mut lines) = lines_of(&state, &viewer, &q).await?;
    let more = lines.len() as i64 > PAGE;
    lines.truncate(PAGE as usize);
    let list = list.code().to_owned();
    let next = lines.last().filter(|_| more).map(|l| {
        let query = [("list", list.as_str()), ("mine", if mine { "1" } else { "" }), ("after", l.r.id.as_str())];
        format!("/reports?{}", serde_urlencoded::to_string(query).unwrap_or_default())
    });
    let later = q.after.as_deref().is_some_and(|a| !a.is_empty());
    let supervises = viewer.agency.kind == "procuracy";
    let dl = Download::new("/reports/download", &[("list", &list), ("mine", if mine { "1" } else { "" })]);
    let can_create = viewer.can(haven_domain::Action::CreateRecords);
    Ok(ok(&ListPage { c, list, mine, lines, next, later, not_found, can_create, supervises, dl }))
}

#[derive(Deserialize)]
struct DownloadForm {
    #[serde(default)]
    list: Option<String>,
    #[serde(default)]
    mine: Option<String>,
    format: String,
}

/// The list as the page shows it, as a file.
async fn download(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::ViewRecords>,
    c: Ctx,
    CsrfForm(form, _): CsrfForm<DownloadForm>,
) -> AppResult<Response> {
    let q = ListQuery { list: form.list, mine: form.mine, after: None, code: None };
    let (list, _, mut lines) = lines_of(&state, &viewer, &q).await?;
    lines.truncate(PAGE as usize);
    let heads = ["reports.code", "reports.kind", "reports.received", "reports.last_day", "reports.status"];
    let table = Table {
        name: format!("{}-{}", c.t("reports.title"), c.t(&format!("reports.list_{}", list.code()))),
        headers: heads.iter().map(|k| c.t(k).to_owned()).collect(),
        rows: lines
            .into_iter()
            .map(|l| {
                vec![
                    Cell::text(l.r.case_code.clone()),
                    Cell::text(c.tk("report_kind", &l.r.kind)),
                    Cell::text(l.received),
                    Cell::day(l.r.last_day.as_deref().unwrap_or("")),
                    Cell::text(c.tk("standing", l.standing)),
                ]
            })
            .collect(),
    };
    send(&state, &viewer, &format!("reports.{}", list.code()), &form.format, table).await
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

async fn create(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::CreateRecords>,
    c: Ctx,
    CsrfForm(form, pairs): CsrfForm<NewReportForm>,
) -> AppResult<Response> {
    match app::create(&state, &viewer, form).await? {
        Ok(id) => Ok(Redirect::to(&format!("/reports/{id}?done=report_created")).into_response()),
        Err(errors) => {
            let f = FormState::with_errors(&pairs, errors);
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
    /// Today as people write it: the classification form's default day.
    today: String,
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
    let t = state.today();
    let clock = app::clock_of(state, &r).await?;
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
        app::possible_duplicates(state, &r).await?.into_iter().map(|d| line(d, t)).collect()
    } else {
        Vec::new()
    };
    let can_reveal = haven_app::access::may_unseal(viewer, &r.owner_agency_id, &r.sent_to());
    let today = haven_domain::format::date(state.today());
    let page = ReportPage {
        today,
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
    let r = app::visible(&state, &viewer, &id).await?;
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
    let outcome = app::reveal(&state, &viewer, &id, &form.purpose).await?;
    let r = app::visible(&state, &viewer, &id).await?;
    match outcome {
        Ok(details) => page(&state, &viewer, c, r, details, FormState::default(), StatusCode::OK).await,
        Err(errors) => {
            page(&state, &viewer, c, r, None, FormState::with_errors(&pairs, errors), StatusCode::UNPROCESSABLE_ENTITY)
                .await
        }
    }
}

/// After a change: back to the report with a confirmation, or the report again with what to correct.
async fn answer(
    state: &AppState,
    viewer: &Viewer,
    c: Ctx,
    id: &str,
    pairs: &[(String, String)],
    outcome: haven_app::Outcome<()>,
    done: &str,
) -> AppResult<Response> {
    match outcome {
        Ok(()) => Ok(Redirect::to(&format!("/reports/{id}?done={done}")).into_response()),
        Err(errors) => {
            let r = app::visible(state, viewer, id).await?;
            let f = FormState::with_errors(pairs, errors);
            page(state, viewer, c, r, None, f, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

async fn classify(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::EditRecords>,
    c: Ctx,
    Path(id): Path<String>,
    CsrfForm(form, pairs): CsrfForm<ClassifyForm>,
) -> AppResult<Response> {
    let outcome = app::classify(&state, &viewer, &id, &form).await?;
    answer(&state, &viewer, c, &id, &pairs, outcome, "report_classified").await
}

async fn clock_event(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::EditRecords>,
    c: Ctx,
    Path(id): Path<String>,
    CsrfForm(form, pairs): CsrfForm<ClockForm>,
) -> AppResult<Response> {
    let outcome = app::record_clock_event(&state, &viewer, &id, &form).await?;
    answer(&state, &viewer, c, &id, &pairs, outcome, "clock_recorded").await
}

async fn decide(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::EditRecords>,
    c: Ctx,
    Path(id): Path<String>,
    CsrfForm(form, pairs): CsrfForm<DecideForm>,
) -> AppResult<Response> {
    let outcome = app::decide(&state, &viewer, &id, &form).await?;
    answer(&state, &viewer, c, &id, &pairs, outcome, "report_decided").await
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
    app::link_same_event(&state, &viewer, &id, &form.other).await?;
    Ok(Redirect::to(&format!("/reports/{id}?done=same_event_linked")).into_response())
}

async fn add_person(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::EditRecords>,
    c: Ctx,
    Path(id): Path<String>,
    CsrfForm(form, pairs): CsrfForm<PersonLinkForm>,
) -> AppResult<Response> {
    let outcome = app::add_person(&state, &viewer, &id, &form).await?;
    answer(&state, &viewer, c, &id, &pairs, outcome, "person_linked#persons").await
}

async fn send_to_procuracy(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::EditRecords>,
    c: Ctx,
    Path(id): Path<String>,
    CsrfForm(form, pairs): CsrfForm<ProcuracyForm>,
) -> AppResult<Response> {
    let outcome = app::notify_procuracy(&state, &viewer, &id, &form).await?;
    answer(&state, &viewer, c, &id, &pairs, outcome, "procuracy_notified").await
}

async fn grant(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::GrantAccess>,
    c: Ctx,
    Path(id): Path<String>,
    CsrfForm(form, pairs): CsrfForm<GrantForm>,
) -> AppResult<Response> {
    let outcome = haven_app::sharing::share(&state, &viewer, KIND, &id, &form).await?;
    answer(&state, &viewer, c, &id, &pairs, outcome, "grant_created#share").await
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
    Ok(Redirect::to(&format!("/reports/{id}?done=grant_revoked#share")).into_response())
}
