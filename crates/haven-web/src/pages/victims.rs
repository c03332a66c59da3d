//! Victim protection cases: reception, verification with the police within three days, the steps between
//! agencies, identification proposed by an officer and approved by an agency head, the supports the person is
//! entitled to and what was given, and the person's consents. The rules are `haven_domain::victims`.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use haven_domain::access::AccessDecision;
use haven_domain::format::{parse_date, Lang};
use haven_domain::victims::consent::{self, NewConsent};
use haven_domain::victims::support::{self, CaseDates, Given, Limit, Situation};
use haven_domain::victims::{self as rules, htcds, Identification, Parts, Status, EVIDENCE, RECEPTION_KINDS};
use haven_domain::Role;
use haven_store::victims::{self, NewConsentRow, NewStep, NewSupport, NewVictimCase, VictimCase, VictimLine, KIND};
use serde::Deserialize;
use time::Date;

use crate::ctx::{self as guards, Can, CsrfForm, Viewer};
use crate::error::{AppError, AppResult};
use crate::page::{display, display_opt, ok, render, Ctx, FormState};
use crate::pages::referrals::{self, ReferralLine};
use crate::pages::reports::{today, visible_person, FieldErrors};
use crate::pages::sharing::{self, Sharing};
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/victims", get(list).post(create))
        .route("/victims/new", get(new_form))
        .route("/victims/{id}", get(show))
        .route("/victims/{id}/steps", post(step))
        .route("/victims/{id}/identification", post(propose))
        .route("/victims/{id}/approve", post(approve))
        .route("/victims/{id}/supports", post(give))
        .route("/victims/{id}/consents", post(consent))
        .route("/victims/{id}/consents/{consent}/withdraw", post(withdraw))
        .route("/victims/{id}/referrals", post(refer))
        .route("/victims/{id}/context", post(context))
        .route("/victims/{id}/measures", post(measure))
        .route("/victims/{id}/goals", post(goal))
        .route("/victims/{id}/goals/{goal}", post(goal_status))
        .route("/victims/{id}/visits/schedule", post(schedule))
        .route("/victims/{id}/visits", post(visit))
        .route("/victims/{id}/close", post(close))
        .route("/victims/{id}/reopen", post(reopen))
        .route("/victims/{id}/events", post(event))
        .route("/victims/{id}/grants", post(grant))
        .route("/victims/{id}/grants/{grant}/revoke", post(revoke))
}

/// Destination countries offered on the forms (ISO 3166-1 alpha-2), the common ones first.
pub const COUNTRIES: &[&str] =
    &["KH", "CN", "LA", "MM", "TH", "MY", "KR", "JP", "TW", "SG", "AE", "SA", "RU", "DE", "GB", "US"];

/// Steps recorded after reception (reception itself opens the case).
const STEP_KINDS: &[&str] = &["verification", "identification_interview", "rescue", "handover", "protection", "other"];

/// How verification stands: done, due (days left) or overdue.
fn verification(verified_on: &Option<String>, verification_due: &str, today: Date) -> (&'static str, i64) {
    if verified_on.is_some() {
        return ("verified", 0);
    }
    let due = parse_date(verification_due).unwrap_or(today);
    let left = (due - today).whole_days();
    if left < 0 {
        ("overdue", -left)
    } else {
        ("due", left)
    }
}

pub struct Line {
    pub v: VictimLine,
    pub received: String,
    pub due: String,
    pub verification: &'static str,
    pub next_visit: String,
    pub visit_late: bool,
}

fn line(v: VictimLine, today: Date) -> Line {
    let (verification, _) = verification(&v.verified_on, &v.verification_due, today);
    let next = v.next_visit_on.as_deref().and_then(parse_date);
    Line {
        received: display(&v.received_on),
        due: display(&v.verification_due),
        verification,
        next_visit: next.map(haven_domain::format::date).unwrap_or_default(),
        visit_late: next.is_some_and(|d| d < today),
        v,
    }
}

#[derive(Template)]
#[template(path = "victims.html")]
struct ListPage {
    c: Ctx,
    awaiting: Vec<Line>,
    visits: Vec<Line>,
    lines: Vec<Line>,
    can_create: bool,
}

/// "Due this week": follow-up visits due within this many days (overdue ones included).
pub const VISITS_DUE_DAYS: i64 = 7;

async fn list(State(state): State<AppState>, Can(viewer, ..): Can<guards::ViewRecords>, c: Ctx) -> AppResult<Response> {
    let t = today(&state);
    let awaiting = state
        .store
        .victims_awaiting_verification(&viewer.agency.id, 200)
        .await?
        .into_iter()
        .map(|v| line(v, t))
        .collect();
    let lines =
        state.store.victim_cases_of_agency(&viewer.agency.id, 200).await?.into_iter().map(|v| line(v, t)).collect();
    let until = t + time::Duration::days(VISITS_DUE_DAYS);
    let visits = state.store.visits_due(&viewer.agency.id, until, 200).await?.into_iter().map(|v| line(v, t)).collect();
    Ok(ok(&ListPage { c, awaiting, visits, lines, can_create: viewer.can(haven_domain::Action::CreateRecords) }))
}

#[derive(Template)]
#[template(path = "victim_new.html")]
struct NewPage {
    c: Ctx,
    f: FormState,
    kinds: &'static [&'static str],
    communes: Vec<(String, String)>,
    today: String,
}

async fn new_page(state: &AppState, c: Ctx, f: FormState, status: StatusCode) -> AppResult<Response> {
    let communes = state.store.communes(&state.config.province).await?;
    let today = haven_domain::format::date(today(state));
    Ok(render(status, &NewPage { c, f, kinds: RECEPTION_KINDS, communes, today }))
}

async fn new_form(State(state): State<AppState>, Can(..): Can<guards::CreateRecords>, c: Ctx) -> AppResult<Response> {
    new_page(&state, c, FormState::default(), StatusCode::OK).await
}

#[derive(Deserialize)]
pub struct NewVictimForm {
    pub person_code: String,
    pub reception_kind: String,
    pub received_on: String,
    #[serde(default)]
    pub commune_code: String,
    /// Checkboxes: present when ticked.
    #[serde(default)]
    pub vietnamese: Option<String>,
    #[serde(default)]
    pub in_vietnam: Option<String>,
    #[serde(default)]
    pub accompanying_child: Option<String>,
    #[serde(default)]
    pub officer: String,
    #[serde(default)]
    pub note: String,
}

/// Open a victim case for a person the viewer may see; the child flag comes from the person's birth date.
pub async fn create_case(
    state: &AppState,
    viewer: &Viewer,
    form: &NewVictimForm,
) -> AppResult<Result<String, FieldErrors>> {
    let mut f = FormState::default();
    let person = visible_person(state, viewer, &form.person_code).await?;
    if person.is_none() {
        f.add("person_code", "error.person_not_found");
    }
    if !RECEPTION_KINDS.contains(&form.reception_kind.as_str()) {
        f.add("reception_kind", "error.choice");
    }
    let today = today(state);
    let received = parse_date(&form.received_on);
    match received {
        None => f.add("received_on", "error.date"),
        Some(d) if d > today => f.add("received_on", "error.date_in_future"),
        Some(_) => {}
    }
    let commune = Some(form.commune_code.trim()).filter(|c| !c.is_empty());
    if let Some(code) = commune {
        if !state.store.unit_exists(code).await? {
            f.add("commune_code", "error.choice");
        }
    }
    let (Some(person), Some(received), false) = (person, received, f.has_errors()) else {
        return Ok(Err(f.errors));
    };
    let officer =
        if form.officer.trim().is_empty() { viewer.user.display_name.clone() } else { form.officer.trim().to_owned() };
    let mut cmd = state.store.command(&viewer.actor()).await?;
    let child = victims::birth_date_for_rules(&mut cmd, &state.store.keys, &person.id)
        .await?
        .is_some_and(|b| rules::is_child(b, received));
    let new = NewVictimCase {
        person_id: &person.id,
        reception_kind: &form.reception_kind,
        received_on: received,
        commune_code: commune,
        vietnamese: form.vietnamese.is_some(),
        in_vietnam: form.in_vietnam.is_some(),
        accompanying_child: form.accompanying_child.is_some(),
        officer: &officer,
        note: Some(form.note.trim()),
        previous_case_id: None,
    };
    let id = victims::create(&mut cmd, &state.store.keys, &viewer.agency.id, &new, child).await?;
    // Known victims are matched against returnees and absentees like any register entry.
    haven_store::matches::index_and_propose(&mut cmd, &state.store.keys, &person.id).await?;
    cmd.commit().await?;
    Ok(Ok(id))
}

async fn create(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::CreateRecords>,
    c: Ctx,
    CsrfForm(form, pairs): CsrfForm<NewVictimForm>,
) -> AppResult<Response> {
    match create_case(&state, &viewer, &form).await? {
        Ok(id) => Ok(Redirect::to(&format!("/victims/{id}?done=victim_received")).into_response()),
        Err(errors) => {
            let mut f = FormState::from_pairs(&pairs);
            f.errors = errors;
            new_page(&state, c, f, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

/// The case, if the viewer may see it.
async fn load(state: &AppState, viewer: &Viewer, id: &str) -> AppResult<VictimCase> {
    let v = state.store.victim_case(id).await?.ok_or(AppError::NotFound)?;
    if !crate::pages::record_access(state, viewer, KIND, id, &v.owner_agency_id, &[]).await?.allowed() {
        return Err(AppError::Forbidden);
    }
    Ok(v)
}

/// The parts of a case the viewer sees: all of it for the owner, an agency it was shared with on consent or a
/// break-the-glass window; only what a referral's kind names for an agency that accepted a referral.
pub async fn case_parts(state: &AppState, viewer: &Viewer, v: &VictimCase) -> AppResult<Parts> {
    let decision = crate::pages::record_access(state, viewer, KIND, &v.id, &v.owner_agency_id, &[]).await?;
    Ok(match decision {
        AccessDecision::Granted { scope, .. } => Parts::from_scope(scope.as_deref()),
        AccessDecision::Denied => Parts::from_scope(Some("")),
        _ => Parts::ALL,
    })
}

/// Blank the fields of parts the viewer does not see, so neither a page nor the API can show them.
pub fn redact(v: &mut VictimCase, parts: Parts) {
    if !parts.identification {
        v.proposed_outcome = None;
        v.proposed_on = None;
        v.proposed_by = None;
        v.legal_basis = None;
        v.evidence = None;
        v.certificate_number = None;
        v.approved_by = None;
    }
    if !parts.context {
        v.exploitation = None;
        v.control = None;
        v.recruitment = None;
        v.relationship = None;
        v.destination_country = None;
    }
    if !parts.reintegration {
        v.next_visit_on = None;
    }
}

/// The case, if the viewer's agency owns it and the viewer may change records.
async fn load_for_edit(state: &AppState, viewer: &Viewer, id: &str) -> AppResult<VictimCase> {
    let v = state.store.victim_case(id).await?.ok_or(AppError::NotFound)?;
    if v.owner_agency_id != viewer.agency.id {
        return Err(AppError::Forbidden);
    }
    Ok(v)
}

fn situation(v: &VictimCase) -> Situation {
    Situation {
        status: v.status(),
        vietnamese: v.vietnamese,
        in_vietnam: v.in_vietnam,
        accompanying_child: v.accompanying_child,
    }
}

pub struct StepLine {
    pub kind: String,
    pub on: String,
    pub place: String,
    pub agency: String,
    pub officer: String,
}

/// A regime the person is entitled to, and how it stands.
pub struct Entitlement {
    pub code: String,
    pub name: String,
    /// `not_given`, `given`, `days_left`, `due_by`, `overdue`.
    pub standing: &'static str,
    pub detail: String,
}

pub struct SupportLine {
    pub regime: String,
    pub on: String,
    pub provider: String,
    pub quantity: i64,
    pub amount: String,
    pub acknowledged: bool,
}

pub struct ConsentLine {
    pub id: String,
    pub purpose: String,
    pub target: String,
    pub given_by: String,
    pub given_on: String,
    pub expires_on: String,
    pub withdrawn_on: String,
    pub in_force: bool,
}

#[derive(Template)]
#[template(path = "victim.html")]
struct CasePage {
    c: Ctx,
    f: FormState,
    v: VictimCase,
    /// The parts of the case this viewer sees (all but for an agency reading it on a referral).
    parts: Parts,
    person_code: String,
    person_open: bool,
    received: String,
    commune: String,
    due: String,
    verification: &'static str,
    days: i64,
    steps: Vec<StepLine>,
    entitlements: Vec<Entitlement>,
    supports: Vec<SupportLine>,
    consents: Vec<ConsentLine>,
    can_edit: bool,
    can_approve: bool,
    proposed_on: String,
    step_kinds: &'static [&'static str],
    evidence: &'static [&'static str],
    agencies: Vec<(String, String)>,
    agency_kinds: Vec<String>,
    consent_purposes: &'static [&'static str],
    communes: Vec<(String, String)>,
    share: Option<Sharing>,
    referrals: Vec<ReferralLine>,
    /// (code, name) of each referral kind.
    referral_kinds: Vec<(String, String)>,
    /// International cooperation requests of the viewer's agency about the case.
    cooperation: Vec<crate::pages::cooperation::Line>,
    can_override: bool,
    /// HTCDS code lists: (field, codes), and the codes recorded for each.
    exploitation: Vec<(String, bool)>,
    control: Vec<(String, bool)>,
    recruitment: Vec<(String, bool)>,
    relationships: Vec<String>,
    event_kinds: Vec<String>,
    countries: &'static [&'static str],
    events: Vec<haven_store::victims::EventRow>,
    measures: Vec<MeasureLine>,
    goals: Vec<haven_store::victims::GoalRow>,
    visits: Vec<VisitLine>,
    measure_kinds: &'static [&'static str],
    protected: &'static [&'static str],
    goal_areas: &'static [&'static str],
    risks: &'static [&'static str],
    close_reasons: &'static [&'static str],
    reception_kinds: &'static [&'static str],
    previous_code: String,
    closed_on: String,
}

pub struct MeasureLine {
    pub kind: String,
    pub for_whom: String,
    pub starts: String,
    pub ends: String,
    pub agency: String,
}

pub struct VisitLine {
    pub due: String,
    pub visited: String,
    pub risk: String,
    pub officer: String,
    pub late: bool,
}

async fn page(
    state: &AppState,
    viewer: &Viewer,
    c: Ctx,
    mut v: VictimCase,
    f: FormState,
    status: StatusCode,
) -> AppResult<Response> {
    let t = today(state);
    let parts = case_parts(state, viewer, &v).await?;
    redact(&mut v, parts);
    let all_agencies = state.store.agencies().await?;
    let agency_label = |id: &str| {
        all_agencies
            .iter()
            .find(|a| a.id == id)
            .map(|a| c.agency_label(&a.name_vi, &a.name_en).to_owned())
            .unwrap_or_default()
    };
    // The case's parts are independent reads: fetch them side by side.
    let st = &state.store;
    let (
        person,
        mut step_rows,
        mut given,
        mut consent_rows,
        mut referral_rows,
        mut events,
        mut measure_rows,
        mut goals,
        mut visit_rows,
        communes,
    ) = tokio::try_join!(
        st.person(&v.person_id),
        st.victim_steps(&v.id),
        st.supports(&v.id),
        st.consents(&v.person_id),
        st.referrals_of_case(&v.id),
        st.trafficking_events(&v.id),
        st.protection_measures(&v.id),
        st.reintegration_goals(&v.id),
        st.followups(&v.id),
        st.communes(&state.config.province),
    )?;
    if !parts.is_all() {
        // Read side by side for the common case; what a referral does not open is dropped before rendering.
        // A receiver sees the referrals made to its own agency even without the referrals part.
        if !parts.steps {
            step_rows.clear();
        }
        if !parts.support {
            given.clear();
        }
        if !parts.consents {
            consent_rows.clear();
        }
        if !parts.referrals {
            referral_rows.retain(|r| r.to_agency_id == viewer.agency.id);
        }
        if !parts.context {
            events.clear();
        }
        if !parts.protection {
            measure_rows.clear();
        }
        if !parts.reintegration {
            goals.clear();
            visit_rows.clear();
        }
    }
    let person_code = person.as_ref().map(|p| p.case_code.clone()).unwrap_or_default();
    let person_open = match &person {
        Some(_) if !parts.person => false,
        Some(p) => {
            crate::pages::record_access(state, viewer, haven_store::persons::KIND, &p.id, &p.owner_agency_id, &[])
                .await?
                .allowed()
        }
        None => false,
    };
    let mut steps = Vec::new();
    for s in step_rows {
        let place = match &s.commune_code {
            Some(code) => state.store.unit_name(code).await?.unwrap_or_default(),
            None => String::new(),
        };
        steps.push(StepLine {
            kind: s.kind,
            on: display(&s.on),
            place,
            agency: agency_label(&s.agency_id),
            officer: s.officer,
        });
    }
    let name_of = |code: &str| {
        state
            .profile
            .support
            .regime(code)
            .map(|r| if c.lang == Lang::En { r.name_en.clone() } else { r.name_vi.clone() })
            .unwrap_or_else(|| code.to_owned())
    };
    let entitlements = state
        .profile
        .support
        .eligible(situation(&v))
        .into_iter()
        .map(|r| {
            let mine: Vec<Given> = given.iter().filter(|g| g.regime == r.code).filter_map(|g| g.given()).collect();
            let (standing, detail) = match support::standing(r, v.identified(), t, &mine) {
                support::Standing::NotGiven => ("not_given", String::new()),
                support::Standing::Given => ("given", String::new()),
                support::Standing::DaysLeft(n) => ("days_left", n.to_string()),
                support::Standing::DueBy(d) => ("due_by", haven_domain::format::date(d)),
                support::Standing::Overdue => ("overdue", String::new()),
            };
            let detail = match (r.limit, standing) {
                (Limit::Days(max), "not_given") => max.to_string(),
                _ => detail,
            };
            Entitlement { code: r.code.clone(), name: name_of(&r.code), standing, detail }
        })
        .collect();
    let supports = given
        .iter()
        .map(|g| SupportLine {
            regime: name_of(&g.regime),
            on: display(&g.given_on),
            provider: agency_label(&g.provider_agency_id),
            quantity: g.quantity,
            amount: haven_domain::format::integer(g.amount_vnd, c.lang),
            acknowledged: g.acknowledged,
        })
        .collect();
    let mut consents = Vec::new();
    for row in consent_rows {
        let in_force = row.consent().is_some_and(|k| k.in_force(t));
        let target = match row.purpose.as_str() {
            "share_agency" => agency_label(&row.target),
            "share_agency_kind" => c.tk("kind", &row.target),
            _ => String::new(),
        };
        consents.push(ConsentLine {
            id: row.id,
            purpose: row.purpose,
            target,
            given_by: row.given_by,
            given_on: display(&row.given_on),
            expires_on: display_opt(&row.expires_on),
            withdrawn_on: display_opt(&row.withdrawn_on),
            in_force,
        });
    }
    let commune = match &v.commune_code {
        Some(code) => state.store.unit_name(code).await?.unwrap_or_default(),
        None => String::new(),
    };
    let owner = v.owner_agency_id == viewer.agency.id;
    let can_edit = owner && viewer.can(haven_domain::Action::EditRecords);
    let can_approve = owner
        && v.pending()
        && viewer.has_role(Role::AgencyHead)
        && v.proposed_by.as_deref() != Some(viewer.user.id.as_str());
    let (verification, days) = verification(&v.verified_on, &v.verification_due, t);
    let mut agency_kinds: Vec<String> = all_agencies.iter().map(|a| a.kind.clone()).collect();
    agency_kinds.sort();
    agency_kinds.dedup();
    let agencies = all_agencies
        .iter()
        .filter(|a| a.active)
        .map(|a| (a.id.clone(), c.agency_label(&a.name_vi, &a.name_en).to_owned()))
        .collect();
    let share =
        sharing::section(state, viewer, &c, KIND, &v.id, &v.owner_agency_id, format!("/victims/{}", v.id)).await?;
    let case_referrals = referrals::lines(state, &c, referral_rows).await?;
    let referral_kinds = state
        .profile
        .referrals
        .kinds
        .iter()
        .map(|k| (k.code.clone(), if c.lang == Lang::En { k.name_en.clone() } else { k.name_vi.clone() }))
        .collect();
    let ticked = |field: &str, recorded: &Option<String>| -> Vec<(String, bool)> {
        let have = VictimCase::codes(recorded);
        state.profile.htcds.codes(field).into_iter().map(|c| (c.to_owned(), have.iter().any(|h| h == c))).collect()
    };
    let exploitation = ticked(htcds::EXPLOITATION, &v.exploitation);
    let control = ticked(htcds::CONTROL, &v.control);
    let recruitment = ticked(htcds::RECRUITMENT, &v.recruitment);
    let relationships = state.profile.htcds.codes(htcds::RELATIONSHIP).into_iter().map(str::to_owned).collect();
    let event_kinds = state.profile.htcds.codes(htcds::EVENT_TYPE).into_iter().map(str::to_owned).collect();
    let measures = measure_rows
        .into_iter()
        .map(|m| MeasureLine {
            starts: display(&m.starts_on),
            ends: display_opt(&m.ends_on),
            agency: agency_label(&m.agency_id),
            kind: m.kind,
            for_whom: m.for_whom,
        })
        .collect();
    let visits = visit_rows
        .into_iter()
        .map(|f| VisitLine {
            late: f.visited_on.is_none() && parse_date(&f.due_on).is_some_and(|d| d < t),
            due: display(&f.due_on),
            visited: display_opt(&f.visited_on),
            risk: f.risk.unwrap_or_default(),
            officer: f.officer.unwrap_or_default(),
        })
        .collect();
    let previous_code = match &v.previous_case_id {
        Some(p) => state.store.victim_case(p).await?.map(|p| p.case_code).unwrap_or_default(),
        None => String::new(),
    };
    // The viewer's agency's requests abroad about this case (another agency's are its own business).
    let cooperation = state
        .store
        .cooperation_of_victim_case(&v.id, &viewer.agency.id)
        .await?
        .into_iter()
        .map(|r| crate::pages::cooperation::line(r, t))
        .collect();
    let page = CasePage {
        parts,
        cooperation,
        measures,
        goals,
        visits,
        measure_kinds: rules::MEASURES,
        protected: rules::PROTECTED,
        goal_areas: rules::GOAL_AREAS,
        risks: rules::RISKS,
        close_reasons: rules::CLOSE_REASONS,
        reception_kinds: RECEPTION_KINDS,
        previous_code,
        closed_on: display_opt(&v.closed_on),
        exploitation,
        control,
        recruitment,
        relationships,
        event_kinds,
        countries: COUNTRIES,
        events,
        person_code,
        person_open,
        received: display(&v.received_on),
        commune,
        due: display(&v.verification_due),
        verification,
        days,
        steps,
        entitlements,
        supports,
        consents,
        can_edit,
        can_approve,
        proposed_on: display_opt(&v.proposed_on),
        step_kinds: STEP_KINDS,
        evidence: EVIDENCE,
        agencies,
        agency_kinds,
        consent_purposes: consent::PURPOSES,
        communes,
        share,
        referrals: case_referrals,
        referral_kinds,
        can_override: viewer.can(haven_domain::Action::OverrideConsent),
        v,
        f,
        c,
    };
    Ok(render(status, &page))
}

async fn show(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::ViewRecords>,
    c: Ctx,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let v = load(&state, &viewer, &id).await?;
    page(&state, &viewer, c, v, FormState::default(), StatusCode::OK).await
}

/// Answer a form on the case page: back to the page with a confirmation, or the page again with the errors.
async fn answer(
    state: &AppState,
    viewer: &Viewer,
    c: Ctx,
    v: VictimCase,
    pairs: &[(String, String)],
    outcome: Result<(), FieldErrors>,
    done: &str,
) -> AppResult<Response> {
    match outcome {
        Ok(()) => Ok(Redirect::to(&format!("/victims/{}?done={done}", v.id)).into_response()),
        Err(errors) => {
            let mut f = FormState::from_pairs(pairs);
            f.errors = errors;
            page(state, viewer, c, v, f, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

#[derive(Deserialize)]
pub struct StepForm {
    pub kind: String,
    pub on: String,
    #[serde(default)]
    pub commune_code: String,
    #[serde(default)]
    pub agency: String,
    #[serde(default)]
    pub officer: String,
    #[serde(default)]
    pub note: String,
}

pub async fn record_step(
    state: &AppState,
    viewer: &Viewer,
    v: &VictimCase,
    form: &StepForm,
) -> AppResult<Result<(), FieldErrors>> {
    let mut f = FormState::default();
    if !STEP_KINDS.contains(&form.kind.as_str()) {
        f.add("step_kind", "error.choice");
    }
    if v.closed_on.is_some() {
        f.add("step_kind", "error.victim_closed");
    }
    let on = parse_date(&form.on);
    match on {
        None => f.add("step_on", "error.date"),
        Some(d) if d > today(state) => f.add("step_on", "error.date_in_future"),
        Some(d) if v.received().is_some_and(|r| d < r) => f.add("step_on", "error.victim_before_reception"),
        Some(_) => {}
    }
    let agency_id =
        if form.agency.trim().is_empty() { viewer.agency.id.clone() } else { form.agency.trim().to_owned() };
    if state.store.agency(&agency_id).await?.filter(|a| a.active).is_none() {
        f.add("step_agency", "error.choice");
    }
    let commune = Some(form.commune_code.trim()).filter(|c| !c.is_empty());
    if let Some(code) = commune {
        if !state.store.unit_exists(code).await? {
            f.add("step_commune", "error.choice");
        }
    }
    let officer = form.officer.trim();
    if officer.chars().count() < 2 {
        f.add("step_officer", "error.victim_officer");
    }
    let (Some(on), false) = (on, f.has_errors()) else { return Ok(Err(f.errors)) };
    let mut cmd = state.store.command(&viewer.actor()).await?;
    let step = NewStep {
        kind: &form.kind,
        on,
        commune_code: commune,
        agency_id: &agency_id,
        officer,
        note: Some(form.note.trim()),
    };
    victims::record_step(&mut cmd, &state.store.keys, &v.id, &step).await?;
    cmd.commit().await?;
    Ok(Ok(()))
}

async fn step(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::EditRecords>,
    c: Ctx,
    Path(id): Path<String>,
    CsrfForm(form, pairs): CsrfForm<StepForm>,
) -> AppResult<Response> {
    let v = load_for_edit(&state, &viewer, &id).await?;
    let outcome = record_step(&state, &viewer, &v, &form).await?;
    answer(&state, &viewer, c, v, &pairs, outcome, "step_recorded").await
}

#[derive(Deserialize)]
pub struct IdentificationForm {
    pub outcome: String,
    pub decided_on: String,
    #[serde(default)]
    pub legal_basis: String,
    /// Evidence codes from `haven_domain::victims::EVIDENCE`.
    #[serde(default)]
    pub evidence: Vec<String>,
    #[serde(default)]
    pub certificate_number: String,
    #[serde(default)]
    pub reasons: String,
}

pub async fn propose_identification(
    state: &AppState,
    viewer: &Viewer,
    v: &VictimCase,
    form: &IdentificationForm,
) -> AppResult<Result<(), FieldErrors>> {
    let Some(decided_on) = parse_date(&form.decided_on) else {
        return Ok(Err(vec![("decided_on".into(), "error.date".into())]));
    };
    let proposal = Identification {
        outcome: Status::from_code(&form.outcome).unwrap_or(Status::Signs),
        decided_on,
        legal_basis: form.legal_basis.clone(),
        evidence: form.evidence.clone(),
        certificate_number: form.certificate_number.clone(),
        reasons: form.reasons.clone(),
    };
    let received = v.received().unwrap_or(decided_on);
    if let Err(e) =
        rules::check_identification(v.status(), v.pending(), v.closed_on.is_some(), received, today(state), &proposal)
    {
        let field = match e {
            rules::VictimError::InFuture | rules::VictimError::BeforeReception => "decided_on",
            rules::VictimError::EvidenceMissing => "evidence",
            rules::VictimError::BasisMissing => "legal_basis",
            rules::VictimError::CertificateMissing => "certificate_number",
            rules::VictimError::ReasonsMissing => "reasons",
            _ => "outcome",
        };
        return Ok(Err(vec![(field.into(), e.key().into())]));
    }
    let mut cmd = state.store.command(&viewer.actor()).await?;
    victims::propose_identification(&mut cmd, &state.store.keys, &v.id, &proposal).await?;
    cmd.commit().await?;
    Ok(Ok(()))
}

/// The identification form as the page sends it: the ticked evidence boxes come as repeated `evidence` fields,
/// which a form struct cannot hold, so they are read from the pairs.
#[derive(Deserialize)]
struct IdentificationPageForm {
    outcome: String,
    decided_on: String,
    #[serde(default)]
    legal_basis: String,
    #[serde(default)]
    certificate_number: String,
    #[serde(default)]
    reasons: String,
}

async fn propose(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::EditRecords>,
    c: Ctx,
    Path(id): Path<String>,
    CsrfForm(form, pairs): CsrfForm<IdentificationPageForm>,
) -> AppResult<Response> {
    let v = load_for_edit(&state, &viewer, &id).await?;
    let form = IdentificationForm {
        outcome: form.outcome,
        decided_on: form.decided_on,
        legal_basis: form.legal_basis,
        evidence: pairs.iter().filter(|(k, _)| k == "evidence").map(|(_, v)| v.clone()).collect(),
        certificate_number: form.certificate_number,
        reasons: form.reasons,
    };
    let outcome = propose_identification(&state, &viewer, &v, &form).await?;
    answer(&state, &viewer, c, v, &pairs, outcome, "identification_proposed").await
}

async fn approve(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::EditRecords>,
    c: Ctx,
    Path(id): Path<String>,
    CsrfForm(_, pairs): CsrfForm<Empty>,
) -> AppResult<Response> {
    let v = load_for_edit(&state, &viewer, &id).await?;
    let outcome = approve_identification(&state, &viewer, &v).await?;
    answer(&state, &viewer, c, v, &pairs, outcome, "identification_approved").await
}

/// Approve the pending identification: an agency head of the owning agency, not the proposer.
pub async fn approve_identification(
    state: &AppState,
    viewer: &Viewer,
    v: &VictimCase,
) -> AppResult<Result<(), FieldErrors>> {
    let proposer = v.proposed_by.as_deref().unwrap_or_default();
    if let Err(e) = rules::check_approval(v.pending(), viewer.has_role(Role::AgencyHead), &viewer.user.id, proposer) {
        return Ok(Err(vec![("approve".to_owned(), e.key().to_owned())]));
    }
    let mut cmd = state.store.command(&viewer.actor()).await?;
    victims::approve_identification(&mut cmd, &v.id).await?;
    cmd.commit().await?;
    Ok(Ok(()))
}

/// The case, if the viewer's agency owns it (for the API).
pub async fn owned_case(state: &AppState, viewer: &Viewer, id: &str) -> AppResult<VictimCase> {
    load_for_edit(state, viewer, id).await
}

/// The case, if the viewer may see it (for the API).
pub async fn visible_case(state: &AppState, viewer: &Viewer, id: &str) -> AppResult<(VictimCase, Parts)> {
    let mut v = load(state, viewer, id).await?;
    let parts = case_parts(state, viewer, &v).await?;
    redact(&mut v, parts);
    Ok((v, parts))
}

/// What the person is entitled to now, and how each regime stands: (code, standing, detail).
pub async fn entitlements(state: &AppState, v: &VictimCase) -> AppResult<Vec<(String, &'static str, String)>> {
    let given = state.store.supports(&v.id).await?;
    let t = today(state);
    Ok(state
        .profile
        .support
        .eligible(situation(v))
        .into_iter()
        .map(|r| {
            let mine: Vec<Given> = given.iter().filter(|g| g.regime == r.code).filter_map(|g| g.given()).collect();
            let (standing, detail) = match support::standing(r, v.identified(), t, &mine) {
                support::Standing::NotGiven => ("not_given", String::new()),
                support::Standing::Given => ("given", String::new()),
                support::Standing::DaysLeft(n) => ("days_left", n.to_string()),
                support::Standing::DueBy(d) => ("due_by", haven_store::reports::day(d)),
                support::Standing::Overdue => ("overdue", String::new()),
            };
            (r.code.clone(), standing, detail)
        })
        .collect())
}

#[derive(Deserialize)]
struct Empty {}

#[derive(Deserialize)]
pub struct SupportForm {
    pub regime: String,
    pub given_on: String,
    #[serde(default)]
    pub quantity: String,
    #[serde(default)]
    pub amount_vnd: String,
    #[serde(default)]
    pub provider: String,
    #[serde(default)]
    pub acknowledged: Option<String>,
    #[serde(default)]
    pub note: String,
}

/// A whole number as people write it: digits with dots, commas or spaces between thousands.
fn whole(s: &str) -> Option<u64> {
    let digits: String = s.chars().filter(|c| !matches!(c, '.' | ',' | ' ')).collect();
    if digits.is_empty() {
        return Some(0);
    }
    digits.parse().ok()
}

pub async fn give_support(
    state: &AppState,
    viewer: &Viewer,
    v: &VictimCase,
    form: &SupportForm,
) -> AppResult<Result<(), FieldErrors>> {
    let mut f = FormState::default();
    let on = parse_date(&form.given_on);
    let quantity = whole(&form.quantity);
    let amount = whole(&form.amount_vnd);
    if on.is_none() {
        f.add("given_on", "error.date");
    }
    if quantity.is_none() {
        f.add("quantity", "error.number");
    }
    if amount.is_none() {
        f.add("amount_vnd", "error.number");
    }
    let provider =
        if form.provider.trim().is_empty() { viewer.agency.id.clone() } else { form.provider.trim().to_owned() };
    if state.store.agency(&provider).await?.filter(|a| a.active).is_none() {
        f.add("provider", "error.choice");
    }
    let (Some(on), Some(quantity), Some(amount), false) = (on, quantity, amount, f.has_errors()) else {
        return Ok(Err(f.errors));
    };
    let new = Given { on, quantity, amount_vnd: amount };
    let already: Vec<Given> = state
        .store
        .supports(&v.id)
        .await?
        .iter()
        .filter(|g| g.regime == form.regime)
        .filter_map(|g| g.given())
        .collect();
    let dates = CaseDates {
        situation: situation(v),
        received: v.received().unwrap_or(on),
        identified_on: v.identified(),
        today: today(state),
    };
    if let Err(e) = support::check_support(&state.profile.support, &form.regime, dates, &already, new) {
        let field = match e {
            support::SupportError::InFuture
            | support::SupportError::BeforeReception
            | support::SupportError::OutsideWindow => "given_on",
            support::SupportError::OverDays { .. } | support::SupportError::QuantityMissing => "quantity",
            support::SupportError::OverAmount { .. } => "amount_vnd",
            _ => "regime",
        };
        return Ok(Err(vec![(field.into(), e.key().into())]));
    }
    let mut cmd = state.store.command(&viewer.actor()).await?;
    let s = NewSupport {
        regime: &form.regime,
        given: new,
        provider_agency_id: &provider,
        acknowledged: form.acknowledged.is_some(),
        note: Some(form.note.trim()),
    };
    victims::give_support(&mut cmd, &state.store.keys, &v.id, &s).await?;
    cmd.commit().await?;
    Ok(Ok(()))
}

async fn give(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::EditRecords>,
    c: Ctx,
    Path(id): Path<String>,
    CsrfForm(form, pairs): CsrfForm<SupportForm>,
) -> AppResult<Response> {
    let v = load_for_edit(&state, &viewer, &id).await?;
    let outcome = give_support(&state, &viewer, &v, &form).await?;
    answer(&state, &viewer, c, v, &pairs, outcome, "support_recorded").await
}

#[derive(Deserialize)]
pub struct ConsentForm {
    pub purpose: String,
    #[serde(default)]
    pub target_agency: String,
    #[serde(default)]
    pub target_kind: String,
    pub given_by: String,
    #[serde(default)]
    pub representative: String,
    pub given_on: String,
    #[serde(default)]
    pub expires_on: String,
}

pub async fn record_consent(
    state: &AppState,
    viewer: &Viewer,
    v: &VictimCase,
    form: &ConsentForm,
) -> AppResult<Result<(), FieldErrors>> {
    let given_on = parse_date(&form.given_on);
    let expires =
        if form.expires_on.trim().is_empty() { Ok(None) } else { parse_date(&form.expires_on).map(Some).ok_or(()) };
    let (Some(given_on), Ok(expires_on)) = (given_on, expires) else {
        let field = if given_on.is_none() { "consent_given_on" } else { "consent_expires_on" };
        return Ok(Err(vec![(field.into(), "error.date".into())]));
    };
    let target = match form.purpose.as_str() {
        "share_agency" => state.store.agency(form.target_agency.trim()).await?.map(|a| a.id).unwrap_or_default(),
        "share_agency_kind" => {
            let kind = form.target_kind.trim();
            let known = state.store.agencies().await?.iter().any(|a| a.kind == kind);
            if known {
                kind.to_owned()
            } else {
                String::new()
            }
        }
        _ => String::new(),
    };
    let new = NewConsent {
        purpose: &form.purpose,
        target: &target,
        given_by: &form.given_by,
        representative: &form.representative,
        given_on,
        expires_on,
    };
    if let Err(e) = consent::check(&new, v.child, today(state)) {
        let field = match e {
            consent::ConsentError::TargetMissing => "consent_target",
            consent::ConsentError::RepresentativeRequired | consent::ConsentError::RepresentativeName => {
                "representative"
            }
            consent::ConsentError::InFuture => "consent_given_on",
            consent::ConsentError::ExpiryBeforeGiven => "consent_expires_on",
            consent::ConsentError::UnknownPurpose => "consent_purpose",
        };
        return Ok(Err(vec![(field.into(), e.key().into())]));
    }
    let mut cmd = state.store.command(&viewer.actor()).await?;
    let row = NewConsentRow {
        person_id: &v.person_id,
        purpose: &form.purpose,
        target: &target,
        given_by: &form.given_by,
        representative: Some(form.representative.trim()),
        given_on,
        expires_on,
    };
    victims::record_consent(&mut cmd, &state.store.keys, &row).await?;
    cmd.commit().await?;
    Ok(Ok(()))
}

async fn consent(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::EditRecords>,
    c: Ctx,
    Path(id): Path<String>,
    CsrfForm(form, pairs): CsrfForm<ConsentForm>,
) -> AppResult<Response> {
    let v = load_for_edit(&state, &viewer, &id).await?;
    let outcome = record_consent(&state, &viewer, &v, &form).await?;
    answer(&state, &viewer, c, v, &pairs, outcome, "consent_recorded").await
}

async fn withdraw(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::EditRecords>,
    Path((id, consent_id)): Path<(String, String)>,
    CsrfForm(_, _): CsrfForm<Empty>,
) -> AppResult<Response> {
    let v = load_for_edit(&state, &viewer, &id).await?;
    let mut cmd = state.store.command(&viewer.actor()).await?;
    if !victims::withdraw_consent(&mut cmd, &v.person_id, &consent_id, today(&state)).await? {
        return Err(AppError::NotFound);
    }
    cmd.commit().await?;
    Ok(Redirect::to(&format!("/victims/{id}?done=consent_withdrawn#consents")).into_response())
}

/// The context form as the page sends it: the ticked codes come as repeated fields, read from the pairs.
#[derive(Deserialize)]
struct ContextPageForm {
    #[serde(default)]
    relationship: String,
    #[serde(default)]
    destination_country: String,
    #[serde(default)]
    wishes: String,
}

#[derive(Deserialize)]
pub struct ContextForm {
    #[serde(default)]
    pub exploitation: Vec<String>,
    #[serde(default)]
    pub control: Vec<String>,
    #[serde(default)]
    pub recruitment: Vec<String>,
    #[serde(default)]
    pub relationship: String,
    #[serde(default)]
    pub destination_country: String,
    #[serde(default)]
    pub wishes: String,
}

/// Record the victim-centred context: every code must come from the standard's list.
pub async fn set_context(
    state: &AppState,
    viewer: &Viewer,
    v: &VictimCase,
    form: &ContextForm,
) -> AppResult<Result<(), FieldErrors>> {
    let lists = &state.profile.htcds;
    let mut f = FormState::default();
    for (field, codes, name) in [
        (htcds::EXPLOITATION, &form.exploitation, "exploitation"),
        (htcds::CONTROL, &form.control, "control"),
        (htcds::RECRUITMENT, &form.recruitment, "recruitment"),
    ] {
        if codes.iter().any(|c| !lists.contains(field, c)) {
            f.add(name, "error.choice");
        }
    }
    let relationship = Some(form.relationship.trim()).filter(|r| !r.is_empty());
    if relationship.is_some_and(|r| !lists.contains(htcds::RELATIONSHIP, r)) {
        f.add("relationship", "error.choice");
    }
    let country = Some(form.destination_country.trim()).filter(|c| !c.is_empty());
    if country.is_some_and(|c| !htcds::is_country(c)) {
        f.add("destination_country", "error.choice");
    }
    if f.has_errors() {
        return Ok(Err(f.errors));
    }
    let mut cmd = state.store.command(&viewer.actor()).await?;
    let c = victims::Context {
        exploitation: &form.exploitation,
        control: &form.control,
        recruitment: &form.recruitment,
        relationship,
        destination_country: country,
        wishes: Some(form.wishes.trim()),
    };
    victims::set_context(&mut cmd, &state.store.keys, &v.id, &c).await?;
    cmd.commit().await?;
    Ok(Ok(()))
}

async fn context(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::EditRecords>,
    c: Ctx,
    Path(id): Path<String>,
    CsrfForm(form, pairs): CsrfForm<ContextPageForm>,
) -> AppResult<Response> {
    let v = load_for_edit(&state, &viewer, &id).await?;
    let all = |name: &str| pairs.iter().filter(|(k, _)| k == name).map(|(_, v)| v.clone()).collect::<Vec<_>>();
    let form = ContextForm {
        exploitation: all("exploitation"),
        control: all("control"),
        recruitment: all("recruitment"),
        relationship: form.relationship,
        destination_country: form.destination_country,
        wishes: form.wishes,
    };
    let outcome = set_context(&state, &viewer, &v, &form).await?;
    answer(&state, &viewer, c, v, &pairs, outcome, "context_recorded").await
}

#[derive(Deserialize)]
pub struct EventForm {
    pub kind: String,
    pub country: String,
    #[serde(default)]
    pub place: String,
    #[serde(default)]
    pub on: String,
    #[serde(default)]
    pub description: String,
}

pub async fn add_event(
    state: &AppState,
    viewer: &Viewer,
    v: &VictimCase,
    form: &EventForm,
) -> AppResult<Result<(), FieldErrors>> {
    let mut f = FormState::default();
    if !state.profile.htcds.contains(htcds::EVENT_TYPE, form.kind.trim()) {
        f.add("event_kind", "error.choice");
    }
    if !htcds::is_country(form.country.trim()) {
        f.add("event_country", "error.choice");
    }
    let on = if form.on.trim().is_empty() { Ok(None) } else { parse_date(&form.on).map(Some).ok_or(()) };
    match on {
        Err(()) => f.add("event_on", "error.date"),
        Ok(Some(d)) if d > today(state) => f.add("event_on", "error.date_in_future"),
        Ok(_) => {}
    }
    let (Ok(on), false) = (on, f.has_errors()) else { return Ok(Err(f.errors)) };
    let mut cmd = state.store.command(&viewer.actor()).await?;
    let e = victims::NewEvent {
        kind: form.kind.trim(),
        country: form.country.trim(),
        place: Some(form.place.trim()),
        on,
        description: Some(form.description.trim()),
    };
    victims::add_event(&mut cmd, &state.store.keys, &v.id, &e).await?;
    cmd.commit().await?;
    Ok(Ok(()))
}

async fn event(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::EditRecords>,
    c: Ctx,
    Path(id): Path<String>,
    CsrfForm(form, pairs): CsrfForm<EventForm>,
) -> AppResult<Response> {
    let v = load_for_edit(&state, &viewer, &id).await?;
    let outcome = add_event(&state, &viewer, &v, &form).await?;
    answer(&state, &viewer, c, v, &pairs, outcome, "event_recorded").await
}

/// A date field: `None` when blank, `Err` when not a date.
fn optional_date(s: &str) -> Result<Option<Date>, ()> {
    if s.trim().is_empty() {
        Ok(None)
    } else {
        parse_date(s).map(Some).ok_or(())
    }
}

#[derive(Deserialize)]
pub struct MeasureForm {
    pub kind: String,
    pub for_whom: String,
    #[serde(default)]
    pub relative: String,
    pub starts_on: String,
    #[serde(default)]
    pub ends_on: String,
    #[serde(default)]
    pub agency: String,
}

pub async fn add_measure(
    state: &AppState,
    viewer: &Viewer,
    v: &VictimCase,
    form: &MeasureForm,
) -> AppResult<Result<(), FieldErrors>> {
    let mut f = FormState::default();
    if !rules::MEASURES.contains(&form.kind.as_str()) {
        f.add("measure_kind", "error.choice");
    }
    if !rules::PROTECTED.contains(&form.for_whom.as_str()) {
        f.add("for_whom", "error.choice");
    }
    let relative = form.relative.trim();
    if matches!(form.for_whom.as_str(), "relative" | "helper") && relative.chars().count() < 2 {
        f.add("relative", "error.measure_relative");
    }
    let starts = parse_date(&form.starts_on);
    let ends = optional_date(&form.ends_on);
    match (starts, ends) {
        (None, _) => f.add("measure_starts", "error.date"),
        (_, Err(())) => f.add("measure_ends", "error.date"),
        (Some(s), _) if s > today(state) => f.add("measure_starts", "error.date_in_future"),
        (Some(s), Ok(Some(e))) if e < s => f.add("measure_ends", "error.measure_order"),
        _ => {}
    }
    let agency = if form.agency.trim().is_empty() { viewer.agency.id.clone() } else { form.agency.trim().to_owned() };
    if state.store.agency(&agency).await?.filter(|a| a.active).is_none() {
        f.add("measure_agency", "error.choice");
    }
    let (Some(starts), Ok(ends), false) = (starts, ends, f.has_errors()) else { return Ok(Err(f.errors)) };
    let mut cmd = state.store.command(&viewer.actor()).await?;
    let m = victims::NewMeasure {
        kind: &form.kind,
        for_whom: &form.for_whom,
        relative: Some(relative),
        starts_on: starts,
        ends_on: ends,
        agency_id: &agency,
    };
    victims::add_measure(&mut cmd, &state.store.keys, &v.id, &m).await?;
    cmd.commit().await?;
    Ok(Ok(()))
}

async fn measure(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::EditRecords>,
    c: Ctx,
    Path(id): Path<String>,
    CsrfForm(form, pairs): CsrfForm<MeasureForm>,
) -> AppResult<Response> {
    let v = load_for_edit(&state, &viewer, &id).await?;
    let outcome = add_measure(&state, &viewer, &v, &form).await?;
    answer(&state, &viewer, c, v, &pairs, outcome, "measure_recorded").await
}

#[derive(Deserialize)]
pub struct GoalForm {
    pub area: String,
    pub goal: String,
}

async fn goal(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::EditRecords>,
    c: Ctx,
    Path(id): Path<String>,
    CsrfForm(form, pairs): CsrfForm<GoalForm>,
) -> AppResult<Response> {
    let v = load_for_edit(&state, &viewer, &id).await?;
    let outcome = if !rules::GOAL_AREAS.contains(&form.area.as_str()) {
        Err(vec![("goal_area".to_owned(), "error.choice".to_owned())])
    } else if form.goal.trim().chars().count() < 5 {
        Err(vec![("goal".to_owned(), "error.goal".to_owned())])
    } else {
        let mut cmd = state.store.command(&viewer.actor()).await?;
        victims::add_goal(&mut cmd, &state.store.keys, &v.id, &form.area, form.goal.trim()).await?;
        cmd.commit().await?;
        Ok(())
    };
    answer(&state, &viewer, c, v, &pairs, outcome, "goal_recorded").await
}

#[derive(Deserialize)]
struct GoalStatusForm {
    status: String,
}

/// A goal of the plan is met or dropped.
async fn goal_status(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::EditRecords>,
    c: Ctx,
    Path((id, goal)): Path<(String, String)>,
    CsrfForm(form, pairs): CsrfForm<GoalStatusForm>,
) -> AppResult<Response> {
    let v = load_for_edit(&state, &viewer, &id).await?;
    if !matches!(form.status.as_str(), "met" | "dropped") {
        return answer(&state, &viewer, c, v, &pairs, Err(vec![("goal".into(), "error.choice".into())]), "").await;
    }
    let mut cmd = state.store.command(&viewer.actor()).await?;
    if !victims::set_goal_status(&mut cmd, &v.id, &goal, &form.status).await? {
        return Err(AppError::NotFound);
    }
    cmd.commit().await?;
    Ok(Redirect::to(&format!("/victims/{id}?done=goal_recorded#reintegration")).into_response())
}

#[derive(Deserialize)]
pub struct ScheduleForm {
    pub first: String,
    pub count: String,
    pub months: String,
}

async fn schedule(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::EditRecords>,
    c: Ctx,
    Path(id): Path<String>,
    CsrfForm(form, pairs): CsrfForm<ScheduleForm>,
) -> AppResult<Response> {
    let v = load_for_edit(&state, &viewer, &id).await?;
    let first = parse_date(&form.first);
    let count = form.count.trim().parse::<u32>().ok().filter(|n| (1..=rules::MAX_VISITS).contains(n));
    let months = form.months.trim().parse::<u32>().ok().filter(|n| (1..=12).contains(n));
    let outcome = match (first, count, months) {
        _ if v.closed_on.is_some() => Err(vec![("visit_first".to_owned(), "error.victim_closed".to_owned())]),
        (None, _, _) => Err(vec![("visit_first".to_owned(), "error.date".to_owned())]),
        (Some(d), _, _) if v.received().is_some_and(|r| d < r) => {
            Err(vec![("visit_first".to_owned(), "error.victim_before_reception".to_owned())])
        }
        (_, None, _) => Err(vec![("visit_count".to_owned(), "error.visit_count".to_owned())]),
        (_, _, None) => Err(vec![("visit_months".to_owned(), "error.visit_months".to_owned())]),
        (Some(first), Some(count), Some(months)) => {
            let mut cmd = state.store.command(&viewer.actor()).await?;
            victims::schedule_visits(&mut cmd, &v.id, &rules::visit_schedule(first, count, months)).await?;
            cmd.commit().await?;
            Ok(())
        }
    };
    answer(&state, &viewer, c, v, &pairs, outcome, "visits_scheduled").await
}

#[derive(Deserialize)]
pub struct VisitForm {
    pub on: String,
    pub risk: String,
    #[serde(default)]
    pub note: String,
    #[serde(default)]
    pub officer: String,
}

pub async fn record_visit(
    state: &AppState,
    viewer: &Viewer,
    v: &VictimCase,
    form: &VisitForm,
) -> AppResult<Result<(), FieldErrors>> {
    let mut f = FormState::default();
    let on = parse_date(&form.on);
    match on {
        None => f.add("visit_on", "error.date"),
        Some(d) if d > today(state) => f.add("visit_on", "error.date_in_future"),
        Some(d) if v.received().is_some_and(|r| d < r) => f.add("visit_on", "error.victim_before_reception"),
        Some(_) => {}
    }
    if !rules::RISKS.contains(&form.risk.as_str()) {
        f.add("risk", "error.choice");
    }
    if v.closed_on.is_some() {
        f.add("visit_on", "error.victim_closed");
    }
    let (Some(on), false) = (on, f.has_errors()) else { return Ok(Err(f.errors)) };
    let officer =
        if form.officer.trim().is_empty() { viewer.user.display_name.clone() } else { form.officer.trim().to_owned() };
    let mut cmd = state.store.command(&viewer.actor()).await?;
    victims::record_visit(&mut cmd, &state.store.keys, &v.id, on, &form.risk, &form.note, &officer).await?;
    cmd.commit().await?;
    Ok(Ok(()))
}

async fn visit(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::EditRecords>,
    c: Ctx,
    Path(id): Path<String>,
    CsrfForm(form, pairs): CsrfForm<VisitForm>,
) -> AppResult<Response> {
    let v = load_for_edit(&state, &viewer, &id).await?;
    let outcome = record_visit(&state, &viewer, &v, &form).await?;
    answer(&state, &viewer, c, v, &pairs, outcome, "visit_recorded").await
}

#[derive(Deserialize)]
pub struct CloseForm {
    pub on: String,
    pub reason: String,
}

async fn close(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::EditRecords>,
    c: Ctx,
    Path(id): Path<String>,
    CsrfForm(form, pairs): CsrfForm<CloseForm>,
) -> AppResult<Response> {
    let v = load_for_edit(&state, &viewer, &id).await?;
    let on = parse_date(&form.on);
    let outcome = match on {
        _ if v.closed_on.is_some() => Err(vec![("close_on".to_owned(), "error.victim_closed".to_owned())]),
        _ if !rules::CLOSE_REASONS.contains(&form.reason.as_str()) => {
            Err(vec![("close_reason".to_owned(), "error.choice".to_owned())])
        }
        None => Err(vec![("close_on".to_owned(), "error.date".to_owned())]),
        Some(d) if d > today(&state) => Err(vec![("close_on".to_owned(), "error.date_in_future".to_owned())]),
        Some(d) if v.received().is_some_and(|r| d < r) => {
            Err(vec![("close_on".to_owned(), "error.victim_before_reception".to_owned())])
        }
        Some(d) => {
            let mut cmd = state.store.command(&viewer.actor()).await?;
            if victims::close_case(&mut cmd, &v.id, d, &form.reason).await? {
                cmd.commit().await?;
                Ok(())
            } else {
                Err(vec![("close_on".to_owned(), "error.victim_closed".to_owned())])
            }
        }
    };
    answer(&state, &viewer, c, v, &pairs, outcome, "case_closed").await
}

#[derive(Deserialize)]
pub struct ReopenForm {
    pub received_on: String,
    pub reception_kind: String,
}

/// The person was trafficked again: a new case for the same person, linked to this one.
async fn reopen(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::CreateRecords>,
    c: Ctx,
    Path(id): Path<String>,
    CsrfForm(form, pairs): CsrfForm<ReopenForm>,
) -> AppResult<Response> {
    let v = load_for_edit(&state, &viewer, &id).await?;
    let received = parse_date(&form.received_on);
    let error = match received {
        _ if v.closed_on.is_none() => Some(("reopen_on", "error.victim_open")),
        _ if !RECEPTION_KINDS.contains(&form.reception_kind.as_str()) => Some(("reopen_kind", "error.choice")),
        None => Some(("reopen_on", "error.date")),
        Some(d) if d > today(&state) => Some(("reopen_on", "error.date_in_future")),
        Some(d) if v.closed_on.as_deref().and_then(parse_date).is_some_and(|closed| d < closed) => {
            Some(("reopen_on", "error.reopen_before_close"))
        }
        Some(_) => None,
    };
    let (Some(received), None) = (received, error) else {
        let (field, key) = error.unwrap_or(("reopen_on", "error.date"));
        return answer(&state, &viewer, c, v, &pairs, Err(vec![(field.into(), key.into())]), "").await;
    };
    let officer = viewer.user.display_name.clone();
    let mut cmd = state.store.command(&viewer.actor()).await?;
    let child = victims::birth_date_for_rules(&mut cmd, &state.store.keys, &v.person_id)
        .await?
        .is_some_and(|b| rules::is_child(b, received));
    let new = NewVictimCase {
        person_id: &v.person_id,
        reception_kind: &form.reception_kind,
        received_on: received,
        commune_code: v.commune_code.as_deref(),
        vietnamese: v.vietnamese,
        in_vietnam: v.in_vietnam,
        accompanying_child: false,
        officer: &officer,
        note: None,
        previous_case_id: Some(&v.id),
    };
    let new_id = victims::create(&mut cmd, &state.store.keys, &viewer.agency.id, &new, child).await?;
    cmd.commit().await?;
    Ok(Redirect::to(&format!("/victims/{new_id}?done=victim_reopened")).into_response())
}

async fn refer(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::EditRecords>,
    c: Ctx,
    Path(id): Path<String>,
    CsrfForm(form, pairs): CsrfForm<referrals::ReferralForm>,
) -> AppResult<Response> {
    let v = load_for_edit(&state, &viewer, &id).await?;
    let outcome = referrals::send(&state, &viewer, &v, &form).await?;
    answer(&state, &viewer, c, v, &pairs, outcome, "referral_sent").await
}

async fn grant(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::GrantAccess>,
    c: Ctx,
    Path(id): Path<String>,
    CsrfForm(form, pairs): CsrfForm<sharing::GrantForm>,
) -> AppResult<Response> {
    let v = load_for_edit(&state, &viewer, &id).await?;
    let outcome = sharing::create(&state, &viewer, KIND, &id, &form).await?;
    answer(&state, &viewer, c, v, &pairs, outcome, "grant_created").await
}

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
    Ok(Redirect::to(&format!("/victims/{id}?done=grant_revoked#share")).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::I18n;

    #[test]
    fn every_code_and_error_is_translated() {
        let i = I18n::embedded();
        let statuses: Vec<&str> = Status::ALL.iter().map(|s| s.code()).collect();
        let lists: [(&str, &[&str]); 15] = [
            ("measure", rules::MEASURES),
            ("protected", rules::PROTECTED),
            ("goal_area", rules::GOAL_AREAS),
            ("goal_status", &["open", "met", "dropped"]),
            ("risk", rules::RISKS),
            ("close_reason", rules::CLOSE_REASONS),
            ("victim_status", &statuses),
            ("reception", RECEPTION_KINDS),
            ("victim_step", STEP_KINDS),
            ("victim_step", &["reception"]),
            ("evidence", EVIDENCE),
            ("consent_purpose", consent::PURPOSES),
            ("given_by", consent::GIVERS),
            ("entitlement", &["not_given", "given", "days_left", "due_by", "overdue"]),
            ("verification", &["verified", "due", "overdue"]),
        ];
        let mut keys: Vec<String> =
            lists.iter().flat_map(|(l, codes)| codes.iter().map(move |c| format!("{l}.{c}"))).collect();
        let profile = crate::Profile::embedded();
        for field in [htcds::EXPLOITATION, htcds::CONTROL, htcds::RECRUITMENT, htcds::RELATIONSHIP, htcds::EVENT_TYPE] {
            keys.extend(profile.htcds.codes(field).iter().map(|c| format!("htcds.{c}")));
        }
        keys.extend(COUNTRIES.iter().chain(&["VN"]).map(|c| format!("country.{c}")));
        use rules::VictimError as V;
        use support::SupportError as S;
        keys.extend(
            [V::AlreadyDecided, V::Pending, V::NothingPending, V::NotApprover, V::BeforeReception, V::EvidenceMissing]
                .iter()
                .chain(&[V::BasisMissing, V::CertificateMissing, V::ReasonsMissing, V::Closed])
                .map(|e| e.key().to_owned()),
        );
        keys.extend(
            [S::NotEntitled, S::OverDays { left: 0 }, S::OverAmount { left: 0 }, S::OutsideWindow, S::QuantityMissing]
                .map(|e| e.key().to_owned()),
        );
        keys.extend(haven_domain::victims::referral::Status::ALL.map(|s| format!("referral_status.{}", s.code())));
        use haven_domain::victims::referral::ReferralError as R;
        keys.extend(
            [R::WrongReceiver, R::DueInPast, R::NoConsent, R::WrongStatus, R::ReasonMissing, R::PastDue]
                .map(|e| e.key().to_owned()),
        );
        use consent::ConsentError as C;
        keys.extend(
            [C::TargetMissing, C::RepresentativeRequired, C::RepresentativeName, C::ExpiryBeforeGiven]
                .map(|e| e.key().to_owned()),
        );
        for lang in [Lang::Vi, Lang::En] {
            for k in &keys {
                assert_ne!(i.get(lang, k), k.as_str(), "{k} in {lang:?}");
            }
        }
    }
}
