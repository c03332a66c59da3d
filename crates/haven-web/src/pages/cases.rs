//! Criminal cases: opened from a report settled by a decision to initiate, followed through investigation,
//! prosecution and trial, with a timeline from the first report to the judgment; and the plan's indicator
//! dashboard, which reads reports and cases together.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use haven_domain::cases::{Custody, Holder, PersonRole, Stage};
use haven_domain::format::{parse_date, Lang};
use haven_domain::reports::indicators::{self, IndicatorId, Period};
use haven_store::cases::{self, CasePerson, CaseRow, IndicatorRecord, Judgment, NewCase, Scope, StageDetail, KIND};
use haven_store::reports::ReportRow;
use serde::Deserialize;
use time::{Date, Month};

use crate::ctx::{self as guards, Can, CsrfForm, Viewer};
use crate::error::{AppError, AppResult};
use crate::page::{display, display_opt, ok, render, Ctx, FormState};
use crate::pages::persons::PURPOSES;
use crate::pages::reports::{agencies_of_kind, agency_name, today, FieldErrors, PersonLinkForm};
use crate::pages::sharing::{self, Sharing};
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/reports/{id}/open-case", post(open_case))
        .route("/cases", get(list))
        .route("/cases/{id}", get(show))
        .route("/cases/{id}/stage", post(stage))
        .route("/cases/{id}/persons", post(add_person))
        .route("/cases/{id}/persons/{person}/custody", post(custody))
        .route("/cases/{id}/judgment", post(judgment))
        .route("/cases/{id}/grants", post(grant))
        .route("/cases/{id}/grants/{grant}/revoke", post(revoke))
        .route("/indicators", get(dashboard))
        .route("/indicators/{code}", get(drill_down))
}

#[derive(Deserialize)]
pub struct OpenCaseForm {
    pub case_number: String,
}

/// Open the criminal case a report's decision to initiate started. Returns the case (an existing one if the
/// report already led to a case).
pub async fn open_case_from(
    state: &AppState,
    viewer: &Viewer,
    r: &ReportRow,
    form: &OpenCaseForm,
) -> AppResult<Result<String, FieldErrors>> {
    if let Some(existing) = state.store.case_of_report(&r.id).await? {
        return Ok(Ok(existing));
    }
    let (Some("initiate"), Some(decided), Some(offence)) =
        (r.decision_kind.as_deref(), r.decision_on.as_deref().and_then(parse_date), r.offence_code.as_deref())
    else {
        return Ok(Err(vec![("case_number".into(), "error.case_needs_initiation".into())]));
    };
    let number = form.case_number.trim();
    if number.is_empty() || number.chars().count() > 100 {
        return Ok(Err(vec![("case_number".into(), "error.case_number".into())]));
    }
    let mut cmd = state.store.command(&viewer.actor()).await?;
    let ids = [r.id.clone()];
    let new = NewCase { case_number: number, offence_code: offence, opened_on: decided, report_ids: &ids };
    match cases::open(&mut cmd, &viewer.agency.id, &new).await? {
        Ok(id) => {
            cmd.commit().await?;
            Ok(Ok(id))
        }
        // Opened meanwhile by a second submission: that case, and nothing written.
        Err(existing) => Ok(Ok(existing)),
    }
}

async fn open_case(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::EditRecords>,
    Path(report_id): Path<String>,
    CsrfForm(form, _): CsrfForm<OpenCaseForm>,
) -> AppResult<Response> {
    let r = crate::pages::reports::owned_report(&state, &viewer, &report_id).await?;
    match open_case_from(&state, &viewer, &r, &form).await? {
        Ok(id) => Ok(Redirect::to(&format!("/cases/{id}?done=case_opened")).into_response()),
        Err(_) => Ok(Redirect::to(&format!("/reports/{report_id}?done=case_number_missing#open-case")).into_response()),
    }
}

pub struct CaseLine {
    pub c: CaseRow,
    pub opened: String,
    pub stage: String,
}

fn case_line(c: CaseRow) -> CaseLine {
    let stage = c.stages.last().map(|(s, _)| s.clone()).unwrap_or_else(|| "opened".into());
    CaseLine { opened: display(&c.opened_on), stage, c }
}

#[derive(Template)]
#[template(path = "cases.html")]
struct ListPage {
    c: Ctx,
    lines: Vec<CaseLine>,
    /// Cases whose file was sent to the viewer's agency (a procuracy or a court).
    sent: Vec<CaseLine>,
}

async fn list(State(state): State<AppState>, Can(viewer, ..): Can<guards::ViewRecords>, c: Ctx) -> AppResult<Response> {
    let lines = state.store.cases_of_agency(&viewer.agency.id, 200).await?.into_iter().map(case_line).collect();
    let sent = state.store.cases_sent_to(&viewer.agency.id, 200).await?.into_iter().map(case_line).collect();
    Ok(ok(&ListPage { c, lines, sent }))
}

/// One step of the chain from the first report to the judgment.
pub struct Step {
    pub on: String,
    pub sort: String,
    pub key: String,
    pub detail: String,
}

/// A victim or suspect of the case, in pseudonymous form.
pub struct PersonLine {
    pub p: CasePerson,
    pub open: bool,
    /// A victim's protection cases the viewer may open (by ownership or grant): (id, code).
    pub victim_cases: Vec<(String, String)>,
    pub arrested: String,
    pub detained: String,
    pub released: String,
}

#[derive(Template)]
#[template(path = "case.html")]
struct CasePage {
    c: Ctx,
    f: FormState,
    l: CaseLine,
    offence: String,
    commune: String,
    procuracy: String,
    court: String,
    timeline: Vec<Step>,
    persons: Vec<PersonLine>,
    roles: Vec<&'static str>,
    /// The viewer's agency owns the case and the viewer may change it.
    can_edit: bool,
    /// The stages the viewer may record.
    stages: Vec<&'static str>,
    /// Where the file may be sent: procuracies and courts, (id, name).
    receivers: Vec<(String, String)>,
    can_reveal: bool,
    purposes: &'static [&'static str],
    judgment: Option<Judgment>,
    share: Option<Sharing>,
}

/// The case, if the viewer may see it, with how they came to.
async fn load(state: &AppState, viewer: &Viewer, id: &str) -> AppResult<CaseRow> {
    let c = state.store.case(id).await?.ok_or(AppError::NotFound)?;
    if !crate::pages::record_access(state, viewer, KIND, id, &c.owner_agency_id, &c.sent_to()).await?.allowed() {
        return Err(AppError::Forbidden);
    }
    Ok(c)
}

/// The stages the viewer may record on this case: the owning investigating body any (it transcribes the
/// documents it receives); the procuracy and the court their own steps once the file reached them.
fn stages_for(viewer: &Viewer, case: &CaseRow) -> Vec<Stage> {
    if !viewer.can(haven_domain::Action::EditRecords) {
        return Vec::new();
    }
    let me = Some(viewer.agency.id.as_str());
    Stage::ALL
        .into_iter()
        .filter(|s| {
            case.owner_agency_id == viewer.agency.id
                || match s.taken_by() {
                    Holder::Investigator => false,
                    Holder::Procuracy => case.procuracy_agency_id.as_deref() == me,
                    Holder::Court => case.court_agency_id.as_deref() == me,
                }
        })
        .collect()
}

async fn timeline(state: &AppState, case: &CaseRow) -> AppResult<Vec<Step>> {
    let mut timeline = Vec::new();
    for report_id in state.store.reports_of_case(&case.id).await? {
        let Some(r) = state.store.report(&report_id).await? else { continue };
        timeline.push(Step {
            sort: r.received_on.clone(),
            on: display(&r.received_on),
            key: format!("report_kind.{}", r.kind),
            detail: r.case_code.clone(),
        });
        if let Some(on) = &r.sent_to_procuracy_on {
            timeline.push(Step {
                on: display(on),
                sort: on.clone(),
                key: "timeline.procuracy_notified".into(),
                detail: r.case_code.clone(),
            });
        }
        for e in state.store.report_events(&report_id).await? {
            let iso = haven_store::reports::day(e.event.date());
            timeline.push(Step {
                on: display(&iso),
                sort: iso,
                key: format!("clock_event.{}", e.event.code()),
                detail: r.case_code.clone(),
            });
        }
        if let (Some(k), Some(on)) = (&r.decision_kind, &r.decision_on) {
            timeline.push(Step {
                on: display(on),
                sort: on.clone(),
                key: format!("decision.{k}"),
                detail: r.decision_number.clone().unwrap_or_default(),
            });
        }
    }
    timeline.push(Step {
        on: display(&case.opened_on),
        sort: case.opened_on.clone(),
        key: "stage.opened".into(),
        detail: case.case_number.clone(),
    });
    for p in state.store.case_persons(&case.id).await? {
        for (d, key) in [
            (&p.arrested_on, "custody.arrested"),
            (&p.detained_on, "custody.detained"),
            (&p.released_on, "custody.released"),
        ] {
            if let Some(d) = d {
                timeline.push(Step { on: display(d), sort: d.clone(), key: key.into(), detail: p.person_code.clone() });
            }
        }
    }
    for (s, d) in &case.stages {
        timeline.push(Step { on: display(d), sort: d.clone(), key: format!("stage.{s}"), detail: String::new() });
    }
    // A stable sort keeps same-day steps in the order of the procedure.
    timeline.sort_by(|a, b| a.sort.cmp(&b.sort));
    Ok(timeline)
}

async fn page(
    state: &AppState,
    viewer: &Viewer,
    c: Ctx,
    case: CaseRow,
    f: FormState,
    judgment: Option<Judgment>,
    status: StatusCode,
) -> AppResult<Response> {
    let timeline = timeline(state, &case).await?;
    let offence = state
        .profile
        .offences
        .iter()
        .find(|o| o.code == case.offence_code)
        .map(|o| if c.lang == Lang::En { o.name_en.clone() } else { o.name_vi.clone() })
        .unwrap_or_else(|| case.offence_code.clone());
    let commune = match &case.commune_code {
        Some(code) => state.store.unit_name(code).await?.unwrap_or_default(),
        None => String::new(),
    };
    let name_of = |id: &Option<String>| {
        let id = id.clone();
        let c = &c;
        async move {
            match id {
                Some(id) => agency_name(state, c, &id).await,
                None => Ok(String::new()),
            }
        }
    };
    let procuracy = name_of(&case.procuracy_agency_id).await?;
    let court = name_of(&case.court_agency_id).await?;
    let mut persons = Vec::new();
    for p in state.store.case_persons(&case.id).await? {
        let open = match state.store.person(&p.person_id).await? {
            Some(row) => crate::pages::record_access(
                state,
                viewer,
                haven_store::persons::KIND,
                &row.id,
                &row.owner_agency_id,
                &[],
            )
            .await?
            .allowed(),
            None => false,
        };
        let mut victim_cases = Vec::new();
        if p.role == "victim" {
            for v in state.store.victim_cases_of_person(&p.person_id).await? {
                let kind = haven_store::victims::KIND;
                if crate::pages::record_access(state, viewer, kind, &v.id, &v.owner_agency_id, &[]).await?.allowed() {
                    victim_cases.push((v.id, v.case_code));
                }
            }
        }
        persons.push(PersonLine {
            victim_cases,
            arrested: display_opt(&p.arrested_on),
            detained: display_opt(&p.detained_on),
            released: display_opt(&p.released_on),
            open,
            p,
        });
    }
    let can_edit = case.owner_agency_id == viewer.agency.id && viewer.can(haven_domain::Action::EditRecords);
    let share =
        sharing::section(state, viewer, &c, KIND, &case.id, &case.owner_agency_id, format!("/cases/{}", case.id))
            .await?;
    let stages: Vec<&'static str> = stages_for(viewer, &case).into_iter().map(|s| s.code()).collect();
    let mut receivers = Vec::new();
    if !stages.is_empty() {
        receivers.extend(agencies_of_kind(state, &c, "procuracy").await?);
        receivers.extend(agencies_of_kind(state, &c, "court").await?);
    }
    let can_reveal = crate::pages::may_unseal(viewer, &case.owner_agency_id, &case.sent_to());
    let page = CasePage {
        c,
        f,
        l: case_line(case),
        offence,
        commune,
        procuracy,
        court,
        timeline,
        persons,
        roles: PersonRole::ALL.iter().map(|r| r.code()).collect(),
        can_edit,
        stages,
        receivers,
        can_reveal,
        purposes: PURPOSES,
        judgment,
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
    let case = load(&state, &viewer, &id).await?;
    page(&state, &viewer, c, case, FormState::default(), None, StatusCode::OK).await
}

#[derive(Deserialize)]
pub struct StageForm {
    pub stage: String,
    pub on: String,
    /// The procuracy or court the file goes to (agency id), for the stages that send it.
    #[serde(default)]
    pub sent_to: String,
    /// The reason for closing, the verdict, or what was appealed and by whom.
    #[serde(default)]
    pub detail: String,
}

/// Record a stage of the case, if the viewer's agency takes it and the procedure allows it now.
pub async fn record_case_stage(
    state: &AppState,
    viewer: &Viewer,
    case: &CaseRow,
    form: &StageForm,
) -> AppResult<Result<(), FieldErrors>> {
    let mut f = FormState::default();
    let stage = Stage::from_code(form.stage.trim());
    let on = parse_date(&form.on);
    let detail = form.detail.trim();
    let mut receiver = None;
    match stage {
        None => f.add("stage", "error.choice"),
        Some(s) if !stages_for(viewer, case).contains(&s) => return Err(AppError::Forbidden),
        Some(s) => {
            match on {
                None => f.add("stage_on", "error.date"),
                Some(d) => {
                    if let Err(e) = case.progress().check(s, d, today(state)) {
                        f.add("stage", e.key());
                    }
                }
            }
            if let Some(kind) = s.sends_to() {
                receiver = state.store.agency(form.sent_to.trim()).await?.filter(|a| a.active && a.kind == kind);
                if receiver.is_none() {
                    f.add("sent_to", "error.choice");
                }
            }
            if s.needs_detail() && detail.chars().count() < 5 {
                f.add("stage_detail", "error.stage_detail");
            }
        }
    }
    let (Some(stage), Some(on), false) = (stage, on, f.has_errors()) else {
        return Ok(Err(errors_of(f)));
    };
    let mut cmd = state.store.command(&viewer.actor()).await?;
    let detail =
        StageDetail { sent_to: receiver.as_ref().map(|a| a.id.as_str()), text: stage.needs_detail().then_some(detail) };
    if !cases::record_stage(&mut cmd, &state.store.keys, &case.id, stage, on, detail).await? {
        return Ok(Err(vec![("stage".into(), "error.stage_reached".into())]));
    }
    cmd.commit().await?;
    Ok(Ok(()))
}

fn errors_of(f: FormState) -> FieldErrors {
    f.errors
}

async fn stage(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::EditRecords>,
    c: Ctx,
    Path(id): Path<String>,
    CsrfForm(form, pairs): CsrfForm<StageForm>,
) -> AppResult<Response> {
    let case = load(&state, &viewer, &id).await?;
    match record_case_stage(&state, &viewer, &case, &form).await? {
        Ok(()) => Ok(Redirect::to(&format!("/cases/{id}?done=stage_recorded")).into_response()),
        Err(errors) => {
            let mut f = FormState::from_pairs(&pairs);
            f.errors = errors;
            page(&state, &viewer, c, case, f, None, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

/// The case, if the viewer's agency owns it (only the owner names persons and records custody).
pub async fn owned_case(state: &AppState, viewer: &Viewer, id: &str) -> AppResult<CaseRow> {
    let c = state.store.case(id).await?.ok_or(AppError::NotFound)?;
    if c.owner_agency_id != viewer.agency.id {
        return Err(AppError::Forbidden);
    }
    Ok(c)
}

pub async fn add_case_person(
    state: &AppState,
    viewer: &Viewer,
    case: &CaseRow,
    form: &PersonLinkForm,
) -> AppResult<Result<(), FieldErrors>> {
    let (p, role) = match crate::pages::reports::person_link(state, viewer, form).await? {
        Ok(found) => found,
        Err(errors) => return Ok(Err(errors)),
    };
    let mut cmd = state.store.command(&viewer.actor()).await?;
    if cases::add_person(&mut cmd, &case.id, &p.id, role).await? {
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
    let case = owned_case(&state, &viewer, &id).await?;
    match add_case_person(&state, &viewer, &case, &form).await? {
        Ok(()) => Ok(Redirect::to(&format!("/cases/{id}?done=person_linked#persons")).into_response()),
        Err(errors) => {
            let mut f = FormState::from_pairs(&pairs);
            f.errors = errors;
            page(&state, &viewer, c, case, f, None, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

#[derive(Deserialize)]
pub struct CustodyForm {
    #[serde(default)]
    pub arrested_on: String,
    #[serde(default)]
    pub detained_on: String,
    #[serde(default)]
    pub released_on: String,
    /// The sentence given at trial; blank leaves it as it was.
    #[serde(default)]
    pub sentence: String,
}

/// Record a suspect's arrest, detention and release dates and, after the trial, the sentence.
pub async fn set_case_custody(
    state: &AppState,
    viewer: &Viewer,
    case: &CaseRow,
    case_person_id: &str,
    form: &CustodyForm,
) -> AppResult<Result<(), FieldErrors>> {
    let person = state
        .store
        .case_persons(&case.id)
        .await?
        .into_iter()
        .find(|p| p.id == case_person_id)
        .ok_or(AppError::NotFound)?;
    let mut f = FormState::default();
    let mut date = |field: &str, v: &str| {
        if v.trim().is_empty() {
            return None;
        }
        let d = parse_date(v);
        if d.is_none() {
            f.add(field, "error.date");
        }
        d
    };
    let custody = Custody {
        arrested: date("arrested_on", &form.arrested_on),
        detained: date("detained_on", &form.detained_on),
        released: date("released_on", &form.released_on),
    };
    let sentence = Some(form.sentence.trim()).filter(|s| !s.is_empty());
    let role = PersonRole::from_code(&person.role).unwrap_or(PersonRole::Victim);
    if !f.has_errors() {
        if let Err(e) = custody.check(role, sentence.is_some(), &case.progress(), today(state)) {
            f.add("custody", e.key());
        }
    }
    if f.has_errors() {
        return Ok(Err(errors_of(f)));
    }
    let mut cmd = state.store.command(&viewer.actor()).await?;
    cases::set_custody(&mut cmd, &state.store.keys, &person.id, &case.id, &custody, sentence).await?;
    cmd.commit().await?;
    Ok(Ok(()))
}

async fn custody(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::EditRecords>,
    c: Ctx,
    Path((id, person)): Path<(String, String)>,
    CsrfForm(form, pairs): CsrfForm<CustodyForm>,
) -> AppResult<Response> {
    let case = owned_case(&state, &viewer, &id).await?;
    match set_case_custody(&state, &viewer, &case, &person, &form).await? {
        Ok(()) => Ok(Redirect::to(&format!("/cases/{id}?done=custody_recorded#persons")).into_response()),
        Err(errors) => {
            let mut f = FormState::from_pairs(&pairs);
            f.errors = errors;
            page(&state, &viewer, c, case, f, None, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

#[derive(Deserialize)]
struct JudgmentForm {
    purpose: String,
}

/// Open the verdict, the appeal and the sentences: they name people, so the view is recorded with its purpose.
async fn judgment(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::ViewIdentity>,
    c: Ctx,
    Path(id): Path<String>,
    CsrfForm(form, pairs): CsrfForm<JudgmentForm>,
) -> AppResult<Response> {
    let case = load(&state, &viewer, &id).await?;
    if !crate::pages::may_unseal(&viewer, &case.owner_agency_id, &case.sent_to()) {
        return Err(AppError::Forbidden);
    }
    if !PURPOSES.contains(&form.purpose.as_str()) {
        let mut f = FormState::from_pairs(&pairs);
        f.add("purpose", "error.choice");
        return page(&state, &viewer, c, case, f, None, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let mut cmd = state.store.command(&viewer.actor()).await?;
    let j = cases::view_judgment(&mut cmd, &state.store.keys, &id, &form.purpose).await?;
    cmd.commit().await?;
    page(&state, &viewer, c, case, FormState::default(), Some(j), StatusCode::OK).await
}

async fn grant(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::GrantAccess>,
    c: Ctx,
    Path(id): Path<String>,
    CsrfForm(form, pairs): CsrfForm<sharing::GrantForm>,
) -> AppResult<Response> {
    let case = owned_case(&state, &viewer, &id).await?;
    match sharing::create(&state, &viewer, KIND, &id, &form).await? {
        Ok(()) => Ok(Redirect::to(&format!("/cases/{id}?done=grant_created#share")).into_response()),
        Err(errors) => {
            let mut f = FormState::from_pairs(&pairs);
            f.errors = errors;
            page(&state, &viewer, c, case, f, None, StatusCode::UNPROCESSABLE_ENTITY).await
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
    owned_case(&state, &viewer, &id).await?;
    if !sharing::revoke(&state, &viewer, KIND, &id, &grant_id).await? {
        return Err(AppError::NotFound);
    }
    Ok(Redirect::to(&format!("/cases/{id}?done=grant_revoked#share")).into_response())
}

pub struct IndicatorLine {
    pub code: &'static str,
    pub numerator: u64,
    pub denominator: u64,
    pub percent: String,
    pub target: String,
    pub status: &'static str,
}

/// The period and scope of the indicators, as the dashboard's query string gives them.
#[derive(Deserialize, Default)]
pub struct IndicatorQuery {
    year: Option<i32>,
    /// A period other than a calendar year: first and last day, dd/mm/yyyy.
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    /// Agency code.
    #[serde(default)]
    agency: String,
    /// Commune code.
    #[serde(default)]
    commune: String,
}

/// The resolved period and scope, with what the page needs to show them.
struct Selection {
    year: i32,
    period: Period,
    from: String,
    to: String,
    agency: Option<haven_store::directory::Agency>,
    commune: Option<(String, String)>,
    /// The same selection as a query string, for links.
    query: String,
}

async fn select(state: &AppState, q: &IndicatorQuery) -> AppResult<Result<Selection, &'static str>> {
    let today = today(state);
    let this_year = today.year();
    let year = match q.year {
        Some(y) if !(2000..=this_year).contains(&y) => return Ok(Err("error.period")),
        Some(y) => y,
        None => this_year,
    };
    let (Ok(jan), Ok(dec)) =
        (Date::from_calendar_date(year, Month::January, 1), Date::from_calendar_date(year, Month::December, 31))
    else {
        return Ok(Err("error.date"));
    };
    let (mut from, mut to) = (jan, dec.min(today));
    if !q.from.trim().is_empty() || !q.to.trim().is_empty() {
        match (parse_date(&q.from), parse_date(&q.to)) {
            (Some(f), Some(t)) if f <= t => (from, to) = (f, t.min(today)),
            _ => return Ok(Err("error.period")),
        }
        if from > today {
            return Ok(Err("error.date_in_future"));
        }
    }
    let agency = match q.agency.trim() {
        "" => None,
        code => Some(state.store.agency_by_code(code).await?.ok_or("error.choice")),
    };
    let agency = match agency.transpose() {
        Ok(a) => a,
        Err(e) => return Ok(Err(e)),
    };
    let commune = match q.commune.trim() {
        "" => None,
        code => match state.store.unit_name(code).await? {
            Some(name) => Some((code.to_owned(), name)),
            None => return Ok(Err("error.choice")),
        },
    };
    let mut pairs: Vec<(&str, String)> = vec![("year", year.to_string())];
    if !q.from.trim().is_empty() {
        pairs.push(("from", q.from.trim().to_owned()));
        pairs.push(("to", q.to.trim().to_owned()));
    }
    if let Some(a) = &agency {
        pairs.push(("agency", a.code.clone()));
    }
    if let Some((code, _)) = &commune {
        pairs.push(("commune", code.clone()));
    }
    let query = serde_urlencoded::to_string(&pairs).unwrap_or_default();
    Ok(Ok(Selection {
        year,
        period: Period { from, to },
        from: haven_domain::format::date(from),
        to: haven_domain::format::date(to),
        agency,
        commune,
        query,
    }))
}

impl Selection {
    fn scope(&self) -> Scope<'_> {
        Scope {
            agency_id: self.agency.as_ref().map(|a| a.id.as_str()),
            commune_code: self.commune.as_ref().map(|(c, _)| c.as_str()),
        }
    }
}

#[derive(Template)]
#[template(path = "indicators.html")]
struct Dashboard {
    c: Ctx,
    f: FormState,
    year: i32,
    years: Vec<i32>,
    from: String,
    to: String,
    agency: String,
    commune: String,
    query: String,
    agencies: Vec<(String, String)>,
    communes: Vec<(String, String)>,
    lines: Vec<IndicatorLine>,
}

/// Agencies whose records the indicators count (those that receive reports or investigate): (code, name).
async fn counted_agencies(state: &AppState, c: &Ctx) -> AppResult<Vec<(String, String)>> {
    Ok(state
        .store
        .agencies()
        .await?
        .iter()
        .filter(|a| a.functions.split(';').any(|f| f == "intake" || f == "investigate"))
        .map(|a| (a.code.clone(), c.agency_label(&a.name_vi, &a.name_en).to_owned()))
        .collect())
}

async fn dashboard(
    State(state): State<AppState>,
    Can(..): Can<guards::ViewAggregates>,
    c: Ctx,
    Query(q): Query<IndicatorQuery>,
) -> AppResult<Response> {
    let this_year = today(&state).year();
    let agencies = counted_agencies(&state, &c).await?;
    let communes = state.store.communes(&state.config.province).await?;
    let (sel, f, status) = match select(&state, &q).await? {
        Ok(sel) => (sel, FormState::default(), StatusCode::OK),
        Err(key) => {
            let mut f = FormState {
                values: vec![("from".into(), q.from.clone()), ("to".into(), q.to.clone())],
                errors: vec![],
            };
            f.add("period", key);
            (
                select(&state, &IndicatorQuery::default()).await?.map_err(|e| anyhow::anyhow!(e))?,
                f,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
        }
    };
    let counts = state.store.indicator_counts(sel.period, sel.scope()).await?;
    let lang = c.lang;
    let lines = IndicatorId::ALL
        .into_iter()
        .zip(counts)
        .map(|(id, (n, d))| indicators::Count { id, numerator: n.max(0) as u64, denominator: d.max(0) as u64 })
        .map(|v| {
            let (target, strictly) = v.id.target();
            IndicatorLine {
                code: v.id.code(),
                numerator: v.numerator,
                denominator: v.denominator,
                percent: v.per_mille().map(|p| percent(p, lang)).unwrap_or_else(|| "—".into()),
                target: format!("{}{}", if strictly { "> " } else { "" }, percent(target, lang)),
                status: match v.meets_target() {
                    Some(true) => "met",
                    Some(false) => "missed",
                    None => "no_data",
                },
            }
        })
        .collect();
    let page = Dashboard {
        f,
        year: sel.year,
        years: (this_year - 4..=this_year).rev().collect(),
        from: sel.from.clone(),
        to: sel.to.clone(),
        agency: sel.agency.as_ref().map(|a| a.code.clone()).unwrap_or_default(),
        commune: sel.commune.as_ref().map(|(code, _)| code.clone()).unwrap_or_default(),
        query: sel.query.clone(),
        agencies,
        communes,
        lines,
        c,
    };
    Ok(render(status, &page))
}

/// The five indicators for the query's period and scope, as the API gives them: each with its numerator,
/// denominator, share in per mille, target and whether it is met; or the translation key of what is wrong
/// with the query.
pub async fn indicator_values(
    state: &AppState,
    q: &IndicatorQuery,
) -> AppResult<Result<serde_json::Value, &'static str>> {
    let sel = match select(state, q).await? {
        Ok(sel) => sel,
        Err(key) => return Ok(Err(key)),
    };
    let counts = state.store.indicator_counts(sel.period, sel.scope()).await?;
    let values: Vec<_> = IndicatorId::ALL
        .into_iter()
        .zip(counts)
        .map(|(id, (n, d))| {
            let v = indicators::Count { id, numerator: n.max(0) as u64, denominator: d.max(0) as u64 };
            let (target, strictly) = id.target();
            serde_json::json!({
                "code": id.code(),
                "numerator": v.numerator,
                "denominator": v.denominator,
                "per_mille": v.per_mille(),
                "target_per_mille": target,
                "target_strictly_above": strictly,
                "met": v.meets_target(),
            })
        })
        .collect();
    Ok(Ok(serde_json::json!({
        "from": haven_store::reports::day(sel.period.from),
        "to": haven_store::reports::day(sel.period.to),
        "agency": sel.agency.as_ref().map(|a| a.code.clone()),
        "commune": sel.commune.as_ref().map(|(c, _)| c.clone()),
        "indicators": values,
    })))
}

/// A record behind an indicator, and whether the viewer may open it.
pub struct RecordLine {
    pub r: IndicatorRecord,
    pub on: String,
    pub agency: String,
    pub href: Option<String>,
}

#[derive(Template)]
#[template(path = "indicator.html")]
struct DrillDown {
    c: Ctx,
    code: &'static str,
    from: String,
    to: String,
    scope: String,
    query: String,
    lines: Vec<RecordLine>,
    numerator: i64,
    denominator: i64,
}

/// At most this many records are listed under an indicator.
const DRILL_DOWN_LIMIT: i64 = 500;

/// The records behind an indicator, in pseudonymous form (codes, agencies and dates: no identity), each
/// linked only when the viewer may open it.
async fn drill_down(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::ViewAggregates>,
    c: Ctx,
    Path(code): Path<String>,
    Query(q): Query<IndicatorQuery>,
) -> AppResult<Response> {
    let id = IndicatorId::from_code(&code).ok_or(AppError::NotFound)?;
    let sel = select(&state, &q).await?.map_err(|e| AppError::BadRequest(e.into()))?;
    let (records, (numerator, denominator)) =
        state.store.indicator_records(id, sel.period, sel.scope(), DRILL_DOWN_LIMIT).await?;
    let agencies = state.store.agencies().await?;
    let may_open = viewer.can(haven_domain::Action::ViewRecords);
    let mut lines = Vec::with_capacity(records.len());
    for r in records {
        let agency = agencies
            .iter()
            .find(|a| a.id == r.owner_agency_id)
            .map(|a| c.agency_label(&a.name_vi, &a.name_en).to_owned())
            .unwrap_or_default();
        // Opening needs the right to see records and, for another agency's, the procedure or a grant; the
        // check that costs a query runs only for other agencies' records.
        let href = if may_open && r.owner_agency_id == viewer.agency.id {
            Some(record_href(&r))
        } else if may_open {
            let sent: Vec<String> = if r.kind == KIND {
                state
                    .store
                    .case(&r.id)
                    .await?
                    .map(|k| k.sent_to().iter().map(|s| s.to_string()).collect())
                    .unwrap_or_default()
            } else {
                state
                    .store
                    .report(&r.id)
                    .await?
                    .map(|k| k.sent_to().iter().map(|s| s.to_string()).collect())
                    .unwrap_or_default()
            };
            let sent: Vec<&str> = sent.iter().map(String::as_str).collect();
            crate::pages::record_access(&state, &viewer, r.kind, &r.id, &r.owner_agency_id, &sent)
                .await?
                .allowed()
                .then(|| record_href(&r))
        } else {
            None
        };
        lines.push(RecordLine { on: display(&r.on), agency, href, r });
    }
    let scope = [
        sel.agency.as_ref().map(|a| c.agency_label(&a.name_vi, &a.name_en).to_owned()),
        sel.commune.as_ref().map(|(_, n)| n.clone()),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" · ");
    Ok(ok(&DrillDown {
        code: id.code(),
        from: sel.from.clone(),
        to: sel.to.clone(),
        scope,
        query: sel.query.clone(),
        lines,
        numerator,
        denominator,
        c,
    }))
}

fn record_href(r: &IndicatorRecord) -> String {
    if r.kind == KIND {
        format!("/cases/{}", r.id)
    } else {
        format!("/reports/{}", r.id)
    }
}

/// A per-mille share written as a percentage with one decimal, in the page's language.
fn percent(per_mille: u32, lang: Lang) -> String {
    let (whole, tenth) = (per_mille / 10, per_mille % 10);
    let sep = if lang == Lang::Vi { ',' } else { '.' };
    if tenth == 0 {
        format!("{whole}%")
    } else {
        format!("{whole}{sep}{tenth}%")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::I18n;
    use haven_domain::reports::indicators::IndicatorId;

    #[test]
    fn stages_indicators_and_statuses_are_translated() {
        let i = I18n::embedded();
        let mut keys: Vec<String> = Stage::ALL.iter().map(|s| format!("stage.{}", s.code())).collect();
        keys.push("stage.opened".into());
        for id in IndicatorId::ALL {
            keys.push(format!("indicator.{}.name", id.code()));
            keys.push(format!("indicator.{}.definition", id.code()));
        }
        keys.extend(["met", "missed", "no_data"].map(|s| format!("indicator_status.{s}")));
        use haven_domain::cases::CustodyError;
        let custody =
            [CustodyError::NotSuspect, CustodyError::InFuture, CustodyError::OutOfOrder, CustodyError::NotTried];
        keys.extend(custody.map(|e| e.key().to_owned()));
        for lang in [Lang::Vi, Lang::En] {
            for k in &keys {
                assert_ne!(i.get(lang, k), k.as_str(), "{k} in {lang:?}");
            }
        }
    }

    #[test]
    fn percentages_in_each_language() {
        assert_eq!(percent(905, Lang::Vi), "90,5%");
        assert_eq!(percent(905, Lang::En), "90.5%");
        assert_eq!(percent(1000, Lang::Vi), "100%");
    }
}
