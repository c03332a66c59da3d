//! Victim protection cases: the work lists, reception, the case as the caller's access opens it, steps,
//! identification and its approval, the victim-centred context and trafficking events, closing and reopening.
//! Support, consent and reintegration are in `care`, referrals in `referrals`. The use cases are
//! `haven_app::victims`.

use super::Params;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use haven_app::victims as app;
use haven_store::victims::{VictimCase, VictimLine};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::care::{ConsentOut, EntitlementOut, GoalOut, MeasureOut, SupportOut, VisitOut};
use super::referrals::ReferralOut;
use super::{answer, created, instant, invalid, ok, page, tick, Api, Body, Cursor};
use crate::ctx::{self as guards, Viewer};
use crate::error::{AppError, AppResult};
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get))
        .routes(routes!(step))
        .routes(routes!(context))
        .routes(routes!(event))
        .routes(routes!(close))
        .routes(routes!(reopen))
}

/// A victim case as the caller may see it; parts a referral does not open are absent.
#[derive(Serialize, ToSchema)]
pub struct VictimOut {
    pub id: String,
    pub case_code: String,
    pub owner_agency_id: String,
    /// The person record (`GET /persons/{id}`, when the caller may open it).
    pub person_id: String,
    /// `signs`, `being_identified`, `identified`, `not_identified`, ...
    pub status: String,
    pub child: bool,
    pub vietnamese: bool,
    pub in_vietnam: bool,
    pub accompanying_child: bool,
    pub reception_kind: String,
    pub received_on: String,
    pub commune_code: Option<String>,
    /// Verification with the police is due by this day.
    pub verification_due: String,
    pub verified_on: Option<String>,
    /// An identification waiting for an agency head's approval.
    pub proposed_outcome: Option<String>,
    pub proposed_on: Option<String>,
    pub proposed_by: Option<String>,
    pub legal_basis: Option<String>,
    pub evidence: Option<Vec<String>>,
    pub certificate_number: Option<String>,
    pub approved_by: Option<String>,
    pub identified_on: Option<String>,
    pub exploitation: Option<Vec<String>>,
    pub control: Option<Vec<String>>,
    pub recruitment: Option<Vec<String>>,
    pub relationship: Option<String>,
    pub destination_country: Option<String>,
    pub next_visit_on: Option<String>,
    pub closed_on: Option<String>,
    pub closed_reason: Option<String>,
    pub previous_case_id: Option<String>,
    pub created_at: String,
    /// The agency that received the victim (the case may have been handed over since: `owner_agency_id`).
    pub received_by_agency_id: String,
    /// The day it was recorded that verification with the police could not be done.
    pub verification_waived_on: Option<String>,
    /// When a head last returned a proposal (the comment is on the case page of the holder).
    pub returned_at: Option<String>,
}

impl From<VictimCase> for VictimOut {
    fn from(v: VictimCase) -> Self {
        VictimOut {
            evidence: v.evidence.as_ref().map(|_| VictimCase::codes(&v.evidence)),
            exploitation: v.exploitation.as_ref().map(|_| VictimCase::codes(&v.exploitation)),
            control: v.control.as_ref().map(|_| VictimCase::codes(&v.control)),
            recruitment: v.recruitment.as_ref().map(|_| VictimCase::codes(&v.recruitment)),
            id: v.id,
            case_code: v.case_code,
            owner_agency_id: v.owner_agency_id,
            person_id: v.person_id,
            status: v.status,
            child: v.child,
            vietnamese: v.vietnamese,
            in_vietnam: v.in_vietnam,
            accompanying_child: v.accompanying_child,
            reception_kind: v.reception_kind,
            received_on: v.received_on,
            commune_code: v.commune_code,
            verification_due: v.verification_due,
            verified_on: v.verified_on,
            proposed_outcome: v.proposed_outcome,
            proposed_on: v.proposed_on,
            proposed_by: v.proposed_by,
            legal_basis: v.legal_basis,
            certificate_number: v.certificate_number,
            approved_by: v.approved_by,
            identified_on: v.identified_on,
            relationship: v.relationship,
            destination_country: v.destination_country,
            next_visit_on: v.next_visit_on,
            closed_on: v.closed_on,
            closed_reason: v.closed_reason,
            previous_case_id: v.previous_case_id,
            created_at: instant(v.created_at),
            received_by_agency_id: v.received_by_agency_id,
            verification_waived_on: v.verification_waived_on,
            returned_at: v.returned_at.map(instant),
        }
    }
}

/// A victim case as a work list shows it.
#[derive(Serialize, ToSchema)]
pub struct VictimLineOut {
    pub id: String,
    pub case_code: String,
    pub person_id: String,
    pub status: String,
    pub child: bool,
    pub received_on: String,
    pub verification_due: String,
    pub verified_on: Option<String>,
    pub next_visit_on: Option<String>,
}

impl From<VictimLine> for VictimLineOut {
    fn from(v: VictimLine) -> Self {
        VictimLineOut {
            id: v.id,
            case_code: v.case_code,
            person_id: v.person_id,
            status: v.status,
            child: v.child,
            received_on: v.received_on,
            verification_due: v.verification_due,
            verified_on: v.verified_on,
            next_visit_on: v.next_visit_on,
        }
    }
}

page!(VictimPage, VictimLineOut);

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VictimListQuery {
    /// `all` (newest reception first; the default), `awaiting_verification`, or `visits_due` (follow-up
    /// visits due within a week, late ones included).
    pub list: Option<String>,
    pub after: Option<String>,
    #[param(value_type = Option<i64>, minimum = 1, maximum = 500)]
    pub limit: Option<super::Limit>,
}

/// A work list of the caller's agency's victim cases.
#[utoipa::path(get, path = "/victims", tag = "victims", params(VictimListQuery), responses((status = 200, body = VictimPage)))]
async fn list(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::ViewRecords>,
    Params(q): Params<VictimListQuery>,
) -> AppResult<Response> {
    let lists = app::lists(&state, &v, 5000).await?;
    let rows = match q.list.as_deref() {
        None | Some("all") => lists.all,
        Some("awaiting_verification") => lists.awaiting,
        Some("visits_due") => lists.visits,
        Some(_) => return Err(AppError::BadRequest("list".into())),
    };
    let (items, next) = Cursor { after: q.after, limit: q.limit }.page(rows, |l| &l.id);
    Ok(ok(VictimPage { items: items.into_iter().map(VictimLineOut::from).collect(), next }))
}

#[derive(Deserialize, ToSchema)]
pub struct VictimIn {
    /// The person's case code (`HS-...`), of a record the caller's agency may open whole; or omit it and give
    /// `full_name` (and what else is known) to record the person with the case in one step.
    #[serde(default)]
    pub person_code: String,
    /// A person not yet in Haven: recorded with the case, both or neither.
    #[serde(default)]
    pub full_name: String,
    /// `dd/mm/yyyy` or a year.
    #[serde(default)]
    pub birth_date: String,
    /// `f`, `m` or `u`.
    #[serde(default)]
    pub sex: String,
    #[serde(default)]
    pub id_number: String,
    /// `rescued`, `self_reported`, `handed_over`, `border`, `commune`, ...
    pub reception_kind: String,
    pub received_on: String,
    #[serde(default)]
    pub commune_code: String,
    #[serde(default = "yes")]
    pub vietnamese: bool,
    #[serde(default = "yes")]
    pub in_vietnam: bool,
    #[serde(default)]
    pub accompanying_child: bool,
    /// Who received the person; the caller when omitted.
    #[serde(default)]
    pub officer: String,
    #[serde(default)]
    pub note: String,
}

fn yes() -> bool {
    true
}

/// Receive a victim: a case for a person the caller's agency may open, or for a person recorded in the same
/// step; its verification clock starts.
#[utoipa::path(post, path = "/victims", tag = "victims", request_body = VictimIn, responses((status = 201, body = VictimOut)))]
async fn create(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::CreateRecords>,
    Body(j): Body<VictimIn>,
) -> AppResult<Response> {
    let form = app::NewVictimForm {
        person_code: j.person_code,
        full_name: j.full_name,
        birth_date: j.birth_date,
        sex: j.sex,
        id_number: j.id_number,
        reception_kind: j.reception_kind,
        received_on: j.received_on,
        commune_code: j.commune_code,
        vietnamese: tick(j.vietnamese),
        in_vietnam: tick(j.in_vietnam),
        accompanying_child: tick(j.accompanying_child),
        officer: j.officer,
        note: j.note,
    };
    match app::create(&state, &v, &form).await? {
        Ok(id) => Ok(created(VictimOut::from(app::view(&state, &v, &id).await?.0))),
        Err(errors) => Ok(invalid(&state, &v, &errors)),
    }
}

#[derive(Serialize, ToSchema)]
pub struct StepOut {
    pub kind: String,
    pub on: String,
    pub commune_code: Option<String>,
    pub agency_id: String,
    pub officer: String,
}

#[derive(Serialize, ToSchema)]
pub struct TraffickingEventOut {
    /// An HTCDS event type.
    pub kind: String,
    pub country: String,
    pub place: Option<String>,
    pub on: Option<String>,
}

/// One agency's time holding a case.
#[derive(Serialize, ToSchema)]
pub struct CustodyOut {
    pub agency_id: String,
    pub from: String,
    /// Absent while it holds the case.
    pub until: Option<String>,
    /// The handover it received the case by (`GET /transfers/{id}`); absent for the agency that received the victim.
    pub handover_id: Option<String>,
}

/// The border screening a case was opened from.
#[derive(Serialize, ToSchema)]
pub struct ScreeningOut {
    /// The returnee record (`GET /returnees/{id}`, for its agency).
    pub returnee_id: String,
    pub screened_at: Option<String>,
    /// `suspected_victim`, ...
    pub classification: Option<String>,
    /// The codes of the indicators ticked (the profile's screening form).
    pub indicators: Vec<String>,
}

/// Which parts of the case the caller's access opens.
#[derive(Serialize, ToSchema)]
pub struct PartsOut {
    pub person: bool,
    pub steps: bool,
    pub identification: bool,
    pub support: bool,
    pub consents: bool,
    pub referrals: bool,
    pub context: bool,
    pub protection: bool,
    pub reintegration: bool,
}

/// A victim case with the parts the caller may see; a part not opened is absent.
#[derive(Serialize, ToSchema)]
pub struct VictimDetail {
    pub case: VictimOut,
    pub parts: PartsOut,
    /// Who held the case, from when to when: the agency that received the victim, then each accepted handover.
    pub custody: Vec<CustodyOut>,
    /// The border screening that opened the case, with the context part.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub screening: Option<ScreeningOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub steps: Option<Vec<StepOut>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub supports: Option<Vec<SupportOut>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entitlements: Option<Vec<EntitlementOut>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consents: Option<Vec<ConsentOut>>,
    /// All of them for the owner; the ones made to the caller's agency for a receiver.
    pub referrals: Vec<ReferralOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trafficking_events: Option<Vec<TraffickingEventOut>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protection_measures: Option<Vec<MeasureOut>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub goals: Option<Vec<GoalOut>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub visits: Option<Vec<VisitOut>>,
}

async fn detail(state: &AppState, v: &Viewer, id: &str) -> AppResult<VictimDetail> {
    let file = app::file::read(state, v, id).await?;
    let custody = file
        .custody()
        .into_iter()
        .map(|h| CustodyOut {
            agency_id: h.agency_id,
            from: haven_store::reports::day(h.from),
            until: h.until.map(haven_store::reports::day),
            handover_id: h.handover_id,
        })
        .collect();
    let parts = file.parts;
    let screening = file.screening.map(|r| ScreeningOut {
        indicators: r.indicators.as_deref().unwrap_or_default().split_whitespace().map(str::to_owned).collect(),
        returnee_id: r.id,
        screened_at: r.screened_at.map(instant),
        classification: r.classification,
    });
    let when = |open: bool| open.then_some(());
    let steps = when(parts.steps).map(|()| {
        file.steps
            .into_iter()
            .map(|s| StepOut {
                kind: s.kind,
                on: s.on,
                commune_code: s.commune_code,
                agency_id: s.agency_id,
                officer: s.officer,
            })
            .collect()
    });
    let (supports, entitlements) = if parts.support {
        let rights = app::support::entitlements(state, &file.case, &file.supports)
            .into_iter()
            .map(|(regime, standing, detail)| EntitlementOut { regime, standing: standing.to_owned(), detail })
            .collect();
        let given = file.supports.into_iter().map(SupportOut::from).collect();
        (Some(given), Some(rights))
    } else {
        (None, None)
    };
    let consents = when(parts.consents).map(|()| file.consents.into_iter().map(ConsentOut::from).collect());
    let trafficking_events = when(parts.context).map(|()| {
        file.events
            .into_iter()
            .map(|e| TraffickingEventOut { kind: e.kind, country: e.country, place: e.place, on: e.on })
            .collect()
    });
    let protection_measures =
        when(parts.protection).map(|()| file.measures.into_iter().map(MeasureOut::from).collect());
    let (goals, visits) = if parts.reintegration {
        (
            Some(file.goals.into_iter().map(GoalOut::from).collect()),
            Some(file.visits.into_iter().map(VisitOut::from).collect()),
        )
    } else {
        (None, None)
    };
    let mut referrals = Vec::with_capacity(file.referrals.len());
    for r in file.referrals {
        referrals.push(crate::api::referrals::out_for(state, v, r).await?);
    }
    Ok(VictimDetail {
        case: file.case.into(),
        parts: PartsOut {
            person: parts.person,
            steps: parts.steps,
            identification: parts.identification,
            support: parts.support,
            consents: parts.consents,
            referrals: parts.referrals,
            context: parts.context,
            protection: parts.protection,
            reintegration: parts.reintegration,
        },
        custody,
        screening,
        steps,
        supports,
        entitlements,
        consents,
        referrals,
        trafficking_events,
        protection_measures,
        goals,
        visits,
    })
}

/// A victim case as the caller's access opens it: the owner, a grant on consent, or the parts a referral's
/// kind opens to its receiver.
#[utoipa::path(get, path = "/victims/{id}", tag = "victims", params(("id" = String, Path)), responses((status = 200, body = VictimDetail)))]
async fn get(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::ViewRecords>,
    Path(id): Path<String>,
) -> AppResult<Response> {
    Ok(ok(detail(&state, &v, &id).await?))
}

/// Answer a change to a case with the case as it now stands, or 422.
pub async fn changed(state: &AppState, v: &Viewer, id: &str, outcome: haven_app::Outcome<()>) -> AppResult<Response> {
    answer(state, v, outcome, StatusCode::OK, |()| async { Ok(VictimOut::from(app::view(state, v, id).await?.0)) })
        .await
}

#[derive(Deserialize, ToSchema)]
pub struct StepIn {
    /// `verification`, `verification_impossible` (the note says why), `identification_interview`, `rescue`,
    /// `handover`, `protection`, `other`.
    pub kind: String,
    pub on: String,
    #[serde(default)]
    pub commune_code: String,
    /// The agency that took the step (an id); the caller's when omitted.
    #[serde(default)]
    pub agency: String,
    pub officer: String,
    #[serde(default)]
    pub note: String,
}

/// Record a step of a case of the caller's agency (verification with the police moves it on).
#[utoipa::path(post, path = "/victims/{id}/steps", tag = "victims", params(("id" = String, Path)), request_body = StepIn, responses((status = 200, body = VictimOut)))]
async fn step(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::EditRecords>,
    Path(id): Path<String>,
    Body(s): Body<StepIn>,
) -> AppResult<Response> {
    let form = app::StepForm {
        kind: s.kind,
        on: s.on,
        commune_code: s.commune_code,
        agency: s.agency,
        officer: s.officer,
        note: s.note,
    };
    let outcome = app::record_step(&state, &v, &id, &form).await?;
    changed(&state, &v, &id, outcome).await
}

#[derive(Deserialize, ToSchema)]
pub struct ContextIn {
    /// HTCDS codes.
    #[serde(default)]
    pub exploitation: Vec<String>,
    #[serde(default)]
    pub control: Vec<String>,
    #[serde(default)]
    pub recruitment: Vec<String>,
    #[serde(default)]
    pub relationship: String,
    /// ISO 3166-1 alpha-2.
    #[serde(default)]
    pub destination_country: String,
    /// The person's own wishes (sealed).
    #[serde(default)]
    pub wishes: String,
}

/// Record the victim-centred context in the HTCDS code lists.
#[utoipa::path(post, path = "/victims/{id}/context", tag = "victims", params(("id" = String, Path)), request_body = ContextIn, responses((status = 200, body = VictimOut)))]
async fn context(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::EditRecords>,
    Path(id): Path<String>,
    Body(c): Body<ContextIn>,
) -> AppResult<Response> {
    let form = app::context::ContextForm {
        exploitation: c.exploitation,
        control: c.control,
        recruitment: c.recruitment,
        relationship: c.relationship,
        destination_country: c.destination_country,
        wishes: c.wishes,
    };
    let outcome = app::context::set(&state, &v, &id, &form).await?;
    changed(&state, &v, &id, outcome).await
}

#[derive(Deserialize, ToSchema)]
pub struct TraffickingEventIn {
    /// An HTCDS event type.
    pub kind: String,
    pub country: String,
    #[serde(default)]
    pub place: String,
    #[serde(default)]
    pub on: String,
    /// Sealed.
    #[serde(default)]
    pub description: String,
}

/// Record a trafficking event (recruitment, transit, exploitation, ...).
#[utoipa::path(post, path = "/victims/{id}/events", tag = "victims", params(("id" = String, Path)), request_body = TraffickingEventIn, responses((status = 200, body = VictimOut)))]
async fn event(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::EditRecords>,
    Path(id): Path<String>,
    Body(e): Body<TraffickingEventIn>,
) -> AppResult<Response> {
    let form = app::context::EventForm {
        kind: e.kind,
        country: e.country,
        place: e.place,
        on: e.on,
        description: e.description,
    };
    let outcome = app::context::add_event(&state, &v, &id, &form).await?;
    changed(&state, &v, &id, outcome).await
}

#[derive(Deserialize, ToSchema)]
pub struct CloseIn {
    pub on: String,
    /// `reintegrated`, `moved_away`, `died`, `declined_support`, ...
    pub reason: String,
}

/// Close a case of the caller's agency; planned visits are no longer due.
#[utoipa::path(post, path = "/victims/{id}/close", tag = "victims", params(("id" = String, Path)), request_body = CloseIn, responses((status = 200, body = VictimOut)))]
async fn close(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::EditRecords>,
    Path(id): Path<String>,
    Body(c): Body<CloseIn>,
) -> AppResult<Response> {
    let outcome = app::close(&state, &v, &id, &app::CloseForm { on: c.on, reason: c.reason }).await?;
    changed(&state, &v, &id, outcome).await
}

#[derive(Deserialize, ToSchema)]
pub struct ReopenIn {
    pub received_on: String,
    pub reception_kind: String,
}

/// The person was trafficked again: a new case for the same person, linked to this closed one.
#[utoipa::path(post, path = "/victims/{id}/reopen", tag = "victims", params(("id" = String, Path)), request_body = ReopenIn, responses((status = 201, body = VictimOut)))]
async fn reopen(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::CreateRecords>,
    Path(id): Path<String>,
    Body(r): Body<ReopenIn>,
) -> AppResult<Response> {
    let outcome =
        app::reopen(&state, &v, &id, &app::ReopenForm { received_on: r.received_on, reception_kind: r.reception_kind })
            .await?;
    let (st, viewer) = (&state, &v);
    answer(&state, &v, outcome, StatusCode::CREATED, |new_id| async move {
        Ok(VictimOut::from(app::view(st, viewer, &new_id).await?.0))
    })
    .await
}
