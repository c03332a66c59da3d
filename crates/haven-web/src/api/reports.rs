//! Reports: the work lists, intake, the sealed details opened for a purpose, classification, the settlement
//! clock, the decision, the persons named, notice to a procuracy, the same-event link and the criminal case a
//! decision to initiate opens. The use cases are `haven_app::reports`.

use super::Params;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use haven_app::reports::{self as app, List};
use haven_domain::reports::clock::ClockEvent;
use haven_store::reports::ReportRow;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{answer, created, instant, invalid, ok, page, tick, Api, Body, Cursor};
use crate::ctx::{self as guards};
use crate::error::{AppError, AppResult};
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get))
        .routes(routes!(details))
        .routes(routes!(classify))
        .routes(routes!(clock))
        .routes(routes!(decide))
        .routes(routes!(add_person))
        .routes(routes!(procuracy))
        .routes(routes!(same_event))
        .routes(routes!(open_case))
}

/// A report without its sealed fields (the reporter and the summary open with `POST /reports/{id}/details`).
#[derive(Serialize, ToSchema)]
pub struct ReportOut {
    pub id: String,
    pub case_code: String,
    pub owner_agency_id: String,
    /// `denunciation`, `crime_report` or `recommendation`.
    pub kind: String,
    /// `in_person`, `hotline`, `letter`, `online`, `media` or `transfer`.
    pub channel: String,
    pub received_at: String,
    pub received_on: String,
    /// The user who recorded it.
    pub received_by: String,
    /// The officer it is assigned to (a user id).
    pub assigned_to: Option<String>,
    pub anonymous: bool,
    pub commune_code: Option<String>,
    /// `offence` or `not_related`, once classified.
    pub classification: Option<String>,
    pub offence_code: Option<String>,
    pub forwarded_to: Option<String>,
    /// The day it was classified, as the officer gave it.
    pub classified_on: Option<String>,
    /// The last day to settle it, by the clock as it stands.
    pub last_day: Option<String>,
    pub suspended_since: Option<String>,
    pub complex: bool,
    pub procuracy_asked: bool,
    pub procuracy_pending: bool,
    /// `initiate`, `not_initiate` or `transfer`, once settled.
    pub decision_kind: Option<String>,
    pub decision_number: Option<String>,
    pub decision_on: Option<String>,
    pub transfer_to: Option<String>,
    pub reporter_notified_on: Option<String>,
    pub decision_on_time: Option<bool>,
    pub procuracy_agency_id: Option<String>,
    pub sent_to_procuracy_on: Option<String>,
    /// Where it stands today: `running`, `due_soon`, `overdue`, `suspended` or `settled`.
    pub standing: String,
}

impl ReportOut {
    pub fn of(r: ReportRow, today: time::Date) -> ReportOut {
        let standing = app::standing(&r, today).to_owned();
        ReportOut {
            id: r.id,
            case_code: r.case_code,
            owner_agency_id: r.owner_agency_id,
            kind: r.kind,
            channel: r.channel,
            received_at: instant(r.received_at),
            received_on: r.received_on,
            received_by: r.received_by,
            assigned_to: r.assigned_to,
            anonymous: r.anonymous,
            commune_code: r.commune_code,
            classification: r.classification,
            offence_code: r.offence_code,
            forwarded_to: r.forwarded_to,
            classified_on: r.classified_on,
            last_day: r.last_day,
            suspended_since: r.suspended_since,
            complex: r.complex,
            procuracy_asked: r.procuracy_asked,
            procuracy_pending: r.procuracy_pending,
            decision_kind: r.decision_kind,
            decision_number: r.decision_number,
            decision_on: r.decision_on,
            transfer_to: r.transfer_to,
            reporter_notified_on: r.reporter_notified_on,
            decision_on_time: r.decision_on_time,
            procuracy_agency_id: r.procuracy_agency_id,
            sent_to_procuracy_on: r.sent_to_procuracy_on,
            standing,
        }
    }
}

page!(ReportPage, ReportOut);

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// `all` (newest first; the default), `due` (last day within five days), `overdue`, `procuracy` (awaiting
    /// the procuracy's answer), and for a procuracy `sent` and `to_answer`.
    pub list: Option<String>,
    /// Only the reports assigned to the caller (work lists).
    #[serde(default)]
    pub mine: bool,
    pub after: Option<String>,
    /// 1 to 500; 50 when omitted.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 500)]
    pub limit: Option<super::Limit>,
}

/// A list of the caller's agency's reports, one page at a time.
#[utoipa::path(get, path = "/reports", tag = "reports", params(ListQuery), responses((status = 200, body = ReportPage)))]
async fn list(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::ViewRecords>,
    Params(q): Params<ListQuery>,
) -> AppResult<Response> {
    let list = match q.list.as_deref().map(str::trim).filter(|l| !l.is_empty()) {
        None => List::All,
        Some(code) => List::from_code(code).ok_or_else(|| AppError::BadRequest("list".into()))?,
    };
    let cursor = Cursor { after: q.after, limit: q.limit };
    let limit = cursor.limit();
    let mut rows = app::list(&state, &v, list, q.mine, cursor.after(), limit + 1).await?;
    let next = (rows.len() as i64 > limit).then(|| rows[limit as usize - 1].id.clone());
    rows.truncate(limit as usize);
    let today = state.today();
    Ok(ok(ReportPage { items: rows.into_iter().map(|r| ReportOut::of(r, today)).collect(), next }))
}

#[derive(Deserialize, ToSchema)]
pub struct ReportIn {
    /// `denunciation`, `crime_report` or `recommendation`.
    pub kind: String,
    /// `in_person`, `hotline`, `letter`, `online`, `media` or `transfer`.
    pub channel: String,
    /// dd/mm/yyyy or yyyy-mm-dd, a day in Viet Nam.
    pub received_date: String,
    /// Hours and minutes as people write them (14:30, 9h30, 9 giờ 30); the start of the day when omitted.
    #[serde(default)]
    pub received_time: String,
    #[serde(default)]
    pub anonymous: bool,
    /// Required unless anonymous; sealed.
    #[serde(default)]
    pub reporter_name: String,
    #[serde(default)]
    pub reporter_contact: String,
    /// What was reported (at least 10 characters); sealed.
    pub summary: String,
    #[serde(default)]
    pub commune_code: String,
    /// An officer of the caller's agency (a user id).
    #[serde(default)]
    pub assigned_to: String,
}

/// Receive a report for the caller's agency; its clock starts on the day received.
#[utoipa::path(post, path = "/reports", tag = "reports", request_body = ReportIn, responses((status = 201, body = ReportOut)))]
async fn create(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::CreateRecords>,
    Body(j): Body<ReportIn>,
) -> AppResult<Response> {
    let form = app::NewReportForm {
        kind: j.kind,
        channel: j.channel,
        received_date: j.received_date,
        received_time: j.received_time,
        anonymous: tick(j.anonymous),
        reporter_name: j.reporter_name,
        reporter_contact: j.reporter_contact,
        summary: j.summary,
        commune_code: j.commune_code,
        assigned_to: j.assigned_to,
    };
    match app::create(&state, &v, form).await? {
        Ok(id) => Ok(created(ReportOut::of(app::visible(&state, &v, &id).await?, state.today()))),
        Err(errors) => Ok(invalid(&state, &v, &errors)),
    }
}

/// A clock event of a report.
#[derive(Serialize, ToSchema)]
pub struct ClockEventOut {
    /// `complex_extension`, `procuracy_requested`, `procuracy_granted`, `procuracy_refused`, `suspended`,
    /// `resumed`.
    pub event: String,
    pub on: String,
    /// The months the procuracy granted.
    pub months: Option<u32>,
    /// Why it was suspended.
    pub ground: Option<String>,
    pub recorded_at: String,
}

/// A person named by a report or a case.
#[derive(Serialize, ToSchema)]
pub struct NamedPerson {
    pub person_id: String,
    pub case_code: String,
    /// `victim`, `suspect`, `witness`, `reporter`, ...
    pub role: String,
}

#[derive(Serialize, ToSchema)]
pub struct ReportDetail {
    pub report: ReportOut,
    pub events: Vec<ClockEventOut>,
    pub persons: Vec<NamedPerson>,
    /// The criminal case the report led to.
    pub case_id: Option<String>,
    /// Reports linked to it as the same event.
    pub same_event: Vec<String>,
}

/// A report the caller may see, with its clock events, the persons it names and what it is linked to.
#[utoipa::path(get, path = "/reports/{id}", tag = "reports", params(("id" = String, Path)), responses((status = 200, body = ReportDetail)))]
async fn get(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::ViewRecords>,
    Path(id): Path<String>,
) -> AppResult<Response> {
    Ok(ok(detail(&state, &v, &id).await?))
}

async fn detail(state: &AppState, v: &crate::ctx::Viewer, id: &str) -> AppResult<ReportDetail> {
    let r = app::visible(state, v, id).await?;
    let events = state
        .store
        .report_events(id)
        .await?
        .into_iter()
        .map(|e| ClockEventOut {
            event: e.event.code().to_owned(),
            on: haven_store::reports::day(e.event.date()),
            months: match e.event {
                ClockEvent::ProcuracyGranted { months, .. } => Some(months),
                _ => None,
            },
            ground: e.ground,
            recorded_at: instant(e.recorded_at),
        })
        .collect();
    let persons = state
        .store
        .report_persons(id)
        .await?
        .into_iter()
        .map(|(person_id, case_code, role)| NamedPerson { person_id, case_code, role })
        .collect();
    let case_id = state.store.case_of_report(id).await?;
    let same_event = state.store.same_event_reports(id).await?.into_iter().map(|(id, _)| id).collect();
    Ok(ReportDetail { report: ReportOut::of(r, state.today()), events, persons, case_id, same_event })
}

#[derive(Deserialize, ToSchema)]
pub struct PurposeIn {
    /// `case_work`, `verification`, `support`, `referral` or `legal_proceedings`.
    pub purpose: String,
}

#[derive(Serialize, ToSchema)]
pub struct DetailsOut {
    pub reporter_name: Option<String>,
    pub reporter_contact: Option<String>,
    pub summary: String,
    pub classification_reason: Option<String>,
    pub decision_reason: Option<String>,
}

/// Open the sealed reporter and summary for a purpose (the owner and the procuracy it was sent to); audited.
#[utoipa::path(post, path = "/reports/{id}/details", tag = "reports", params(("id" = String, Path)), request_body = PurposeIn, responses((status = 200, body = DetailsOut)))]
async fn details(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::ViewIdentity>,
    Path(id): Path<String>,
    Body(p): Body<PurposeIn>,
) -> AppResult<Response> {
    let outcome = app::reveal(&state, &v, &id, &p.purpose).await?;
    answer(&state, &v, outcome, StatusCode::OK, |d| async move {
        let d = d.ok_or(AppError::NotFound)?;
        Ok(DetailsOut {
            reporter_name: d.reporter_name,
            reporter_contact: d.reporter_contact,
            summary: d.summary,
            classification_reason: d.classification_reason,
            decision_reason: d.decision_reason,
        })
    })
    .await
}

/// Answer a change with the report as it now stands.
async fn changed(
    state: &AppState,
    v: &crate::ctx::Viewer,
    id: &str,
    outcome: haven_app::Outcome<()>,
) -> AppResult<Response> {
    answer(state, v, outcome, StatusCode::OK, |()| async {
        Ok(ReportOut::of(app::visible(state, v, id).await?, state.today()))
    })
    .await
}

/// What a report was classified as.
#[derive(Clone, Copy, Debug, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClassifyOutcome {
    /// A suspected offence (give its code).
    Offence,
    /// Not related to trafficking (say where it was forwarded).
    NotRelated,
}

#[derive(Deserialize, ToSchema)]
pub struct ClassifyIn {
    pub outcome: ClassifyOutcome,
    /// For an offence: its code in the profile.
    #[serde(default)]
    pub offence_code: String,
    /// Not related: where it was forwarded.
    #[serde(default)]
    pub forwarded_to: String,
    pub reason: String,
    /// The day it was classified (`YYYY-MM-DD`), not before it was received, not after today; today when
    /// omitted.
    #[serde(default)]
    pub classified_on: String,
}

/// Classify an open report of the caller's agency.
#[utoipa::path(post, path = "/reports/{id}/classification", tag = "reports", params(("id" = String, Path)), request_body = ClassifyIn, responses((status = 200, body = ReportOut)))]
async fn classify(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::EditRecords>,
    Path(id): Path<String>,
    Body(c): Body<ClassifyIn>,
) -> AppResult<Response> {
    let form = app::ClassifyForm {
        outcome: match c.outcome {
            ClassifyOutcome::Offence => "offence",
            ClassifyOutcome::NotRelated => "not_related",
        }
        .to_owned(),
        offence_code: c.offence_code,
        forwarded_to: c.forwarded_to,
        reason: c.reason,
        classified_on: c.classified_on,
    };
    let outcome = app::classify(&state, &v, &id, &form).await?;
    changed(&state, &v, &id, outcome).await
}

#[derive(Deserialize, ToSchema)]
pub struct ClockIn {
    /// `complex_extension`, `procuracy_requested`, `procuracy_granted`, `procuracy_refused`, `suspended`,
    /// `resumed`. Once notified, only the procuracy records its own answer.
    pub event: String,
    pub on: String,
    /// For `procuracy_granted`: 1 or 2.
    #[serde(default)]
    pub months: Option<u32>,
    /// For `suspended`: `expert_examination`, `foreign_assistance`, `documents_pending`, `force_majeure`.
    #[serde(default)]
    pub ground: String,
    #[serde(default)]
    pub reason: String,
}

/// Record an event of the settlement clock.
#[utoipa::path(post, path = "/reports/{id}/clock", tag = "reports", params(("id" = String, Path)), request_body = ClockIn, responses((status = 200, body = ReportOut)))]
async fn clock(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::EditRecords>,
    Path(id): Path<String>,
    Body(c): Body<ClockIn>,
) -> AppResult<Response> {
    let form = app::ClockForm {
        event: c.event,
        on: c.on,
        months: c.months.map(|m| m.to_string()).unwrap_or_default(),
        ground: c.ground,
        reason: c.reason,
    };
    let outcome = app::record_clock_event(&state, &v, &id, &form).await?;
    changed(&state, &v, &id, outcome).await
}

#[derive(Deserialize, ToSchema)]
pub struct DecideIn {
    /// `initiate`, `not_initiate` or `transfer`.
    pub decision: String,
    pub number: String,
    pub decided_on: String,
    #[serde(default)]
    pub notified_on: String,
    /// Not to initiate: why.
    #[serde(default)]
    pub reason: String,
    /// Transfer: to whom.
    #[serde(default)]
    pub transfer_to: String,
}

/// Settle a classified report with a decision.
#[utoipa::path(post, path = "/reports/{id}/decision", tag = "reports", params(("id" = String, Path)), request_body = DecideIn, responses((status = 200, body = ReportOut)))]
async fn decide(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::EditRecords>,
    Path(id): Path<String>,
    Body(d): Body<DecideIn>,
) -> AppResult<Response> {
    let form = app::DecideForm {
        decision: d.decision,
        number: d.number,
        decided_on: d.decided_on,
        notified_on: d.notified_on,
        reason: d.reason,
        transfer_to: d.transfer_to,
    };
    let outcome = app::decide(&state, &v, &id, &form).await?;
    changed(&state, &v, &id, outcome).await
}

#[derive(Deserialize, ToSchema)]
pub struct PersonLinkIn {
    /// The person's case code (`HS-...`), of a record the caller may open.
    pub person_code: String,
    /// `victim`, `suspect`, `witness`, `reporter`, ...
    pub role: String,
}

#[derive(Serialize, ToSchema)]
pub struct NamedPersons {
    pub items: Vec<NamedPerson>,
}

/// Name a person on a report of the caller's agency.
#[utoipa::path(post, path = "/reports/{id}/persons", tag = "reports", params(("id" = String, Path)), request_body = PersonLinkIn, responses((status = 200, body = NamedPersons)))]
async fn add_person(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::EditRecords>,
    Path(id): Path<String>,
    Body(p): Body<PersonLinkIn>,
) -> AppResult<Response> {
    let outcome =
        app::add_person(&state, &v, &id, &app::PersonLinkForm { person_code: p.person_code, role: p.role }).await?;
    let st = &state;
    answer(&state, &v, outcome, StatusCode::OK, |()| async move {
        let rows = st.store.report_persons(&id).await?;
        Ok(NamedPersons {
            items: rows
                .into_iter()
                .map(|(person_id, case_code, role)| NamedPerson { person_id, case_code, role })
                .collect(),
        })
    })
    .await
}

#[derive(Deserialize, ToSchema)]
pub struct ProcuracyIn {
    /// The procuracy's agency id (`GET /agencies`, kind `procuracy`).
    pub procuracy: String,
    pub on: String,
}

/// Notify a report to a procuracy, which then supervises its settlement.
#[utoipa::path(post, path = "/reports/{id}/procuracy", tag = "reports", params(("id" = String, Path)), request_body = ProcuracyIn, responses((status = 200, body = ReportOut)))]
async fn procuracy(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::EditRecords>,
    Path(id): Path<String>,
    Body(p): Body<ProcuracyIn>,
) -> AppResult<Response> {
    let outcome =
        app::notify_procuracy(&state, &v, &id, &app::ProcuracyForm { procuracy: p.procuracy, on: p.on }).await?;
    changed(&state, &v, &id, outcome).await
}

#[derive(Deserialize, ToSchema)]
pub struct SameEventIn {
    /// The id of an earlier report of the caller's agency that the report's page offers as the same event.
    pub other: String,
}

/// Link the report to an earlier one as the same event; both records stay.
#[utoipa::path(post, path = "/reports/{id}/same-event", tag = "reports", params(("id" = String, Path)), request_body = SameEventIn, responses((status = 200, body = ReportDetail)))]
async fn same_event(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::EditRecords>,
    Path(id): Path<String>,
    Body(s): Body<SameEventIn>,
) -> AppResult<Response> {
    app::link_same_event(&state, &v, &id, &s.other).await?;
    Ok(ok(detail(&state, &v, &id).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct OpenCaseIn {
    /// The criminal case's number, as the investigating body numbers it.
    pub case_number: String,
}

/// Open the criminal case a decision to initiate started (the existing one if it was opened already).
#[utoipa::path(post, path = "/reports/{id}/case", tag = "reports", params(("id" = String, Path)), request_body = OpenCaseIn, responses((status = 201, body = super::cases::CaseOut)))]
async fn open_case(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::EditRecords>,
    Path(id): Path<String>,
    Body(c): Body<OpenCaseIn>,
) -> AppResult<Response> {
    let outcome =
        haven_app::cases::open(&state, &v, &id, &haven_app::cases::OpenCaseForm { case_number: c.case_number }).await?;
    let st = &state;
    let viewer = &v;
    answer(&state, &v, outcome, StatusCode::CREATED, |case_id| async move {
        Ok(super::cases::CaseOut::from(haven_app::cases::visible(st, viewer, &case_id).await?))
    })
    .await
}
