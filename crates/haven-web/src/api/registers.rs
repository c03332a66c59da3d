//! The people registers: each commune's absentees with review rounds, and handover batches of citizens
//! returned by foreign countries with the screening interview. Every new entry is matched at once; its
//! candidate pairs come back with it. The use cases are `haven_app::registers`.

use super::Params;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use haven_app::registers::{absentees, handovers, PersonFields};
use haven_store::registers::{AbsenteeRow, BatchRow, ReturneeRow, ReviewRow, RoundRow};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::matches::PairOut;
use super::{answer, instant, ok, page, Api, Body, Cursor};
use crate::ctx::{self as guards, Viewer};
use crate::error::{AppError, AppResult};
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_absentees, create_absentee))
        .routes(routes!(absentee))
        .routes(routes!(absentee_details))
        .routes(routes!(review))
        .routes(routes!(rounds, create_round))
        .routes(routes!(batches, create_batch))
        .routes(routes!(batch))
        .routes(routes!(add_returnee))
        .routes(routes!(returnee))
        .routes(routes!(screen))
        .routes(routes!(screening_notes))
}

#[derive(Serialize, ToSchema)]
pub struct AbsenteeOut {
    pub id: String,
    pub case_code: String,
    pub owner_agency_id: String,
    pub person_id: String,
    pub commune_code: String,
    /// yyyy-mm-dd, or a year alone.
    pub absent_since: Option<String>,
    /// The outcome of the latest round that reviewed the entry, and its day.
    pub last_outcome: Option<String>,
    pub last_outcome_on: Option<String>,
    pub created_at: String,
}

impl From<AbsenteeRow> for AbsenteeOut {
    fn from(a: AbsenteeRow) -> Self {
        AbsenteeOut {
            id: a.id,
            case_code: a.case_code,
            owner_agency_id: a.owner_agency_id,
            person_id: a.person_id,
            commune_code: a.commune_code,
            absent_since: a.absent_since,
            last_outcome: a.last_outcome,
            last_outcome_on: a.last_outcome_on,
            created_at: instant(a.created_at),
        }
    }
}

page!(AbsenteePage, AbsenteeOut);

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AbsenteeQuery {
    /// One commune's code.
    #[serde(default)]
    pub commune: String,
    pub after: Option<String>,
    #[param(value_type = Option<i64>, minimum = 1, maximum = 500)]
    pub limit: Option<super::Limit>,
}

/// The caller's agency's absentees, optionally of one commune.
#[utoipa::path(get, path = "/absentees", tag = "registers", params(AbsenteeQuery), responses((status = 200, body = AbsenteePage)))]
async fn list_absentees(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::ViewRecords>,
    Params(q): Params<AbsenteeQuery>,
) -> AppResult<Response> {
    let cursor = Cursor { after: q.after, limit: q.limit };
    let commune = Some(q.commune.trim()).filter(|c| !c.is_empty());
    let (rows, next) = absentees::list(&state, &v, commune, cursor.after(), cursor.limit()).await?;
    Ok(ok(AbsenteePage { items: rows.into_iter().map(AbsenteeOut::from).collect(), next }))
}

/// The person fields a register entry takes.
#[derive(Deserialize, ToSchema)]
pub struct PersonFieldsIn {
    pub full_name: String,
    #[serde(default)]
    pub other_names: String,
    #[serde(default)]
    pub birth_date: String,
    #[serde(default)]
    pub sex: String,
    #[serde(default)]
    pub id_number: String,
    #[serde(default)]
    pub passport: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub commune_code: String,
    /// ISO 3166-1 alpha-2; VN when omitted.
    #[serde(default)]
    pub nationality: String,
}

impl From<PersonFieldsIn> for PersonFields {
    fn from(p: PersonFieldsIn) -> Self {
        PersonFields {
            full_name: p.full_name,
            other_names: p.other_names,
            birth_date: p.birth_date,
            sex: p.sex,
            id_number: p.id_number,
            passport: p.passport,
            phone: p.phone,
            address: p.address,
            commune_code: p.commune_code,
            nationality: p.nationality,
        }
    }
}

#[derive(Deserialize, ToSchema)]
pub struct AbsenteeIn {
    #[serde(flatten)]
    pub person: PersonFieldsIn,
    /// When the person went away: dd/mm/yyyy, mm/yyyy or a year.
    #[serde(default)]
    pub absent_since: String,
    /// The rest are sealed.
    #[serde(default)]
    pub destination: String,
    #[serde(default)]
    pub contact: String,
    #[serde(default)]
    pub reported_by: String,
    #[serde(default)]
    pub household: String,
    #[serde(default)]
    pub note: String,
}

#[derive(Serialize, ToSchema)]
pub struct ReviewOut {
    pub id: String,
    pub round_id: String,
    pub round_name: String,
    pub outcome: String,
    pub outcome_on: String,
    /// The victim case a "suspected trafficked" outcome opened.
    pub victim_case_id: Option<String>,
    pub has_note: bool,
}

impl From<ReviewRow> for ReviewOut {
    fn from(r: ReviewRow) -> Self {
        ReviewOut {
            id: r.id,
            round_id: r.round_id,
            round_name: r.round_name,
            outcome: r.outcome,
            outcome_on: r.outcome_on,
            victim_case_id: r.victim_case_id,
            has_note: r.has_note,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct AbsenteeDetail {
    pub absentee: AbsenteeOut,
    pub reviews: Vec<ReviewOut>,
    /// The pairs matching proposed, seen from this entry.
    pub candidates: Vec<PairOut>,
    /// The victim case a review just opened.
    pub victim_case_id: Option<String>,
}

async fn absentee_detail(state: &AppState, v: &Viewer, id: &str, victim: Option<String>) -> AppResult<AbsenteeDetail> {
    let a = absentees::visible(state, v, id).await?;
    let reviews = state.store.reviews_of_absentee(id).await?.into_iter().map(ReviewOut::from).collect();
    let candidates =
        haven_app::matches::pairs_of_person(state, v, &a.person_id).await?.into_iter().map(PairOut::from).collect();
    Ok(AbsenteeDetail { absentee: a.into(), reviews, candidates, victim_case_id: victim })
}

/// Add an absentee to the caller's agency's register; matched at once against the other registers.
#[utoipa::path(post, path = "/absentees", tag = "registers", request_body = AbsenteeIn, responses((status = 201, body = AbsenteeDetail)))]
async fn create_absentee(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::CreateRecords>,
    Body(a): Body<AbsenteeIn>,
) -> AppResult<Response> {
    let form = absentees::AbsenteeForm {
        person: a.person.into(),
        absent_since: a.absent_since,
        destination: a.destination,
        contact: a.contact,
        reported_by: a.reported_by,
        household: a.household,
        note: a.note,
    };
    let outcome = absentees::add(&state, &v, &form, None, None).await?;
    let (st, viewer) = (&state, &v);
    answer(&state, &v, outcome, StatusCode::CREATED, |id| async move { absentee_detail(st, viewer, &id, None).await })
        .await
}

/// An absentee entry with its reviews and candidate matches.
#[utoipa::path(get, path = "/absentees/{id}", tag = "registers", params(("id" = String, Path)), responses((status = 200, body = AbsenteeDetail)))]
async fn absentee(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::ViewRecords>,
    Path(id): Path<String>,
) -> AppResult<Response> {
    Ok(ok(absentee_detail(&state, &v, &id, None).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct PurposeIn {
    /// `case_work`, `verification`, `support`, `referral` or `legal_proceedings`.
    pub purpose: String,
}

#[derive(Serialize, ToSchema)]
pub struct AbsenteeDetailsOut {
    pub destination: Option<String>,
    pub contact: Option<String>,
    pub reported_by: Option<String>,
    pub household: Option<String>,
    pub note: Option<String>,
}

/// Open an entry's sealed details for a purpose; audited.
#[utoipa::path(post, path = "/absentees/{id}/details", tag = "registers", params(("id" = String, Path)), request_body = PurposeIn, responses((status = 200, body = AbsenteeDetailsOut)))]
async fn absentee_details(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::ViewIdentity>,
    Path(id): Path<String>,
    Body(p): Body<PurposeIn>,
) -> AppResult<Response> {
    let outcome = absentees::open_details(&state, &v, &id, &p.purpose).await?;
    answer(&state, &v, outcome, StatusCode::OK, |d| async move {
        let d = d.ok_or(AppError::NotFound)?;
        Ok(AbsenteeDetailsOut {
            destination: d.destination,
            contact: d.contact,
            reported_by: d.reported_by,
            household: d.household,
            note: d.note,
        })
    })
    .await
}

#[derive(Deserialize, ToSchema)]
pub struct ReviewIn {
    /// A round of the caller's agency.
    pub round_id: String,
    /// `at_home`, `working_elsewhere`, `abroad`, `missing`, `suspected_trafficked`, ...
    pub outcome: String,
    pub outcome_on: String,
    #[serde(default)]
    pub note: String,
}

/// Record an entry's outcome in a round; "suspected trafficked" opens a victim case in the same transaction.
#[utoipa::path(post, path = "/absentees/{id}/reviews", tag = "registers", params(("id" = String, Path)), request_body = ReviewIn, responses((status = 200, body = AbsenteeDetail)))]
async fn review(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::EditRecords>,
    Path(id): Path<String>,
    Body(r): Body<ReviewIn>,
) -> AppResult<Response> {
    let form =
        absentees::ReviewForm { round_id: r.round_id, outcome: r.outcome, outcome_on: r.outcome_on, note: r.note };
    let outcome = absentees::record_review(&state, &v, &id, &form).await?;
    let (st, viewer) = (&state, &v);
    answer(&state, &v, outcome, StatusCode::OK, |victim| async move { absentee_detail(st, viewer, &id, victim).await })
        .await
}

#[derive(Serialize, ToSchema)]
pub struct RoundOut {
    pub id: String,
    pub name: String,
    pub starts_on: String,
    pub ends_on: String,
}

impl From<RoundRow> for RoundOut {
    fn from(r: RoundRow) -> Self {
        RoundOut { id: r.id, name: r.name, starts_on: r.starts_on, ends_on: r.ends_on }
    }
}

#[derive(Serialize, ToSchema)]
pub struct RoundCountOut {
    pub commune_code: String,
    /// Absent: entries not yet reviewed in the round.
    pub outcome: Option<String>,
    pub count: i64,
}

#[derive(Serialize, ToSchema)]
pub struct RoundWithCounts {
    pub round: RoundOut,
    pub counts: Vec<RoundCountOut>,
}

#[derive(Serialize, ToSchema)]
pub struct RoundList {
    pub items: Vec<RoundWithCounts>,
}

/// The caller's agency's review rounds, each with its counts by commune and outcome.
#[utoipa::path(get, path = "/review-rounds", tag = "registers", responses((status = 200, body = RoundList)))]
async fn rounds(State(state): State<AppState>, Api(v, ..): Api<guards::ViewRecords>) -> AppResult<Response> {
    let mut items = Vec::new();
    for r in state.store.rounds_of_agency(&v.agency.id).await? {
        let counts = state.store.round_counts(&v.agency.id, &r.id).await?;
        let counts = counts
            .into_iter()
            .map(|c| RoundCountOut { commune_code: c.commune_code, outcome: c.outcome, count: c.count })
            .collect();
        items.push(RoundWithCounts { round: r.into(), counts });
    }
    Ok(ok(RoundList { items }))
}

#[derive(Deserialize, ToSchema)]
pub struct RoundIn {
    pub name: String,
    pub starts_on: String,
    pub ends_on: String,
}

/// Start a review round of the caller's agency.
#[utoipa::path(post, path = "/review-rounds", tag = "registers", request_body = RoundIn, responses((status = 201, body = RoundOut)))]
async fn create_round(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::EditRecords>,
    Body(r): Body<RoundIn>,
) -> AppResult<Response> {
    let outcome = absentees::create_round(
        &state,
        &v,
        &absentees::RoundForm { name: r.name, starts_on: r.starts_on, ends_on: r.ends_on },
    )
    .await?;
    let st = &state;
    answer(&state, &v, outcome, StatusCode::CREATED, |id| async move {
        Ok(RoundOut::from(st.store.round(&id).await?.ok_or(AppError::NotFound)?))
    })
    .await
}

#[derive(Serialize, ToSchema)]
pub struct BatchOut {
    pub id: String,
    pub owner_agency_id: String,
    pub handed_on: String,
    /// A border gate or airport of the profile (`border-gates.txt`).
    pub gate: String,
    pub country: String,
    pub authority: String,
    pub people: i64,
    pub screened: i64,
}

impl From<BatchRow> for BatchOut {
    fn from(b: BatchRow) -> Self {
        BatchOut {
            id: b.id,
            owner_agency_id: b.owner_agency_id,
            handed_on: b.handed_on,
            gate: b.gate,
            country: b.country,
            authority: b.authority,
            people: b.people,
            screened: b.screened,
        }
    }
}

page!(BatchPage, BatchOut);

/// The handover batches the caller's agency received, newest first.
#[utoipa::path(get, path = "/handovers", tag = "registers", params(Cursor), responses((status = 200, body = BatchPage)))]
async fn batches(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::ViewRecords>,
    Params(q): Params<Cursor>,
) -> AppResult<Response> {
    let rows = handovers::batches(&state, &v, 5000).await?;
    let (items, next) = q.page(rows, |b| &b.id);
    Ok(ok(BatchPage { items: items.into_iter().map(BatchOut::from).collect(), next }))
}

#[derive(Deserialize, ToSchema)]
pub struct BatchIn {
    pub handed_on: String,
    pub gate: String,
    pub country: String,
    pub authority: String,
    #[serde(default)]
    pub note: String,
}

#[derive(Serialize, ToSchema)]
pub struct ReturneeOut {
    pub id: String,
    pub batch_id: String,
    pub owner_agency_id: String,
    pub person_id: String,
    pub case_code: String,
    /// `suspected_victim`, `at_risk`, `other`, once screened.
    pub classification: Option<String>,
    /// The screening questions answered "yes".
    pub indicators: Vec<String>,
    pub victim_case_id: Option<String>,
    pub screened_at: Option<String>,
}

impl From<ReturneeRow> for ReturneeOut {
    fn from(r: ReturneeRow) -> Self {
        ReturneeOut {
            id: r.id,
            batch_id: r.batch_id,
            owner_agency_id: r.owner_agency_id,
            person_id: r.person_id,
            case_code: r.case_code,
            classification: r.classification,
            indicators: r.indicators.unwrap_or_default().split_whitespace().map(str::to_owned).collect(),
            victim_case_id: r.victim_case_id,
            screened_at: r.screened_at.map(instant),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct BatchDetail {
    pub batch: BatchOut,
    pub people: Vec<ReturneeOut>,
}

async fn batch_detail(state: &AppState, v: &Viewer, id: &str) -> AppResult<BatchDetail> {
    let b = handovers::visible_batch(state, v, id).await?;
    let people = state.store.returnees_of_batch(id).await?.into_iter().map(ReturneeOut::from).collect();
    Ok(BatchDetail { batch: b.into(), people })
}

/// Record a batch of citizens handed back at a gate.
#[utoipa::path(post, path = "/handovers", tag = "registers", request_body = BatchIn, responses((status = 201, body = BatchDetail)))]
async fn create_batch(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::CreateRecords>,
    Body(b): Body<BatchIn>,
) -> AppResult<Response> {
    let form = handovers::BatchForm {
        handed_on: b.handed_on,
        gate: b.gate,
        country: b.country,
        authority: b.authority,
        note: b.note,
    };
    let outcome = handovers::create_batch(&state, &v, &form).await?;
    let (st, viewer) = (&state, &v);
    answer(&state, &v, outcome, StatusCode::CREATED, |id| async move { batch_detail(st, viewer, &id).await }).await
}

/// A batch with its people.
#[utoipa::path(get, path = "/handovers/{id}", tag = "registers", params(("id" = String, Path)), responses((status = 200, body = BatchDetail)))]
async fn batch(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::ViewRecords>,
    Path(id): Path<String>,
) -> AppResult<Response> {
    Ok(ok(batch_detail(&state, &v, &id).await?))
}

#[derive(Serialize, ToSchema)]
pub struct ReturneeDetail {
    pub returnee: ReturneeOut,
    pub candidates: Vec<PairOut>,
}

async fn returnee_detail(state: &AppState, v: &Viewer, id: &str) -> AppResult<ReturneeDetail> {
    let (r, _) = handovers::visible_returnee(state, v, id).await?;
    let candidates =
        haven_app::matches::pairs_of_person(state, v, &r.person_id).await?.into_iter().map(PairOut::from).collect();
    Ok(ReturneeDetail { returnee: r.into(), candidates })
}

/// Add a person to a batch of the caller's agency; matched at once.
#[utoipa::path(post, path = "/handovers/{id}/people", tag = "registers", params(("id" = String, Path)), request_body = PersonFieldsIn, responses((status = 201, body = ReturneeDetail)))]
async fn add_returnee(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::CreateRecords>,
    Path(id): Path<String>,
    Body(p): Body<PersonFieldsIn>,
) -> AppResult<Response> {
    let b = handovers::visible_batch(&state, &v, &id).await?;
    let outcome = handovers::add_returnee(&state, &v, &b, &p.into(), None, None).await?;
    let (st, viewer) = (&state, &v);
    answer(&state, &v, outcome, StatusCode::CREATED, |rid| async move { returnee_detail(st, viewer, &rid).await }).await
}

/// A returned citizen with their screening and candidate matches.
#[utoipa::path(get, path = "/returnees/{id}", tag = "registers", params(("id" = String, Path)), responses((status = 200, body = ReturneeDetail)))]
async fn returnee(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::ViewRecords>,
    Path(id): Path<String>,
) -> AppResult<Response> {
    Ok(ok(returnee_detail(&state, &v, &id).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct ScreeningIn {
    /// The codes of the questions answered "yes" (`screening.txt`).
    #[serde(default)]
    pub yes: Vec<String>,
    /// `suspected_victim`, `at_risk` or `other`.
    pub classification: String,
    pub reason: String,
    /// The officer's notes (sealed).
    #[serde(default)]
    pub notes: String,
}

#[derive(Serialize, ToSchema)]
pub struct ScreenedOut {
    pub returnee: ReturneeOut,
    /// The victim case opened for a suspected victim.
    pub victim_case_id: Option<String>,
}

/// Screen a returned citizen; a suspected victim gets a victim case in the same transaction.
#[utoipa::path(post, path = "/returnees/{id}/screening", tag = "registers", params(("id" = String, Path)), request_body = ScreeningIn, responses((status = 200, body = ScreenedOut)))]
async fn screen(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::EditRecords>,
    Path(id): Path<String>,
    Body(s): Body<ScreeningIn>,
) -> AppResult<Response> {
    let form =
        handovers::ScreeningForm { yes: s.yes, classification: s.classification, reason: s.reason, notes: s.notes };
    let outcome = handovers::screen(&state, &v, &id, &form).await?;
    let (st, viewer) = (&state, &v);
    answer(&state, &v, outcome, StatusCode::OK, |victim| async move {
        let (r, _) = handovers::visible_returnee(st, viewer, &id).await?;
        Ok(ScreenedOut { returnee: r.into(), victim_case_id: victim })
    })
    .await
}

#[derive(Serialize, ToSchema)]
pub struct ScreeningNotesOut {
    pub notes: String,
    pub reason: String,
}

/// Open a screened returnee's interview notes and the reason for the classification, for a purpose; audited.
#[utoipa::path(post, path = "/returnees/{id}/screening/notes", tag = "registers", params(("id" = String, Path)), request_body = PurposeIn, responses((status = 200, body = ScreeningNotesOut)))]
async fn screening_notes(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::ViewIdentity>,
    Path(id): Path<String>,
    Body(p): Body<PurposeIn>,
) -> AppResult<Response> {
    let outcome = handovers::open_screening(&state, &v, &id, &p.purpose).await?;
    answer(&state, &v, outcome, StatusCode::OK, |r| async move {
        let r = r.ok_or(AppError::NotFound)?;
        Ok(ScreeningNotesOut { notes: r.notes, reason: r.reason })
    })
    .await
}
