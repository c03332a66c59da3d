//! The people registers' pages: long-term absentees per commune with review rounds and their counts, handover
//! batches of citizens returned by foreign countries, and the screening interview whose questions come from the
//! profile. Every new entry is matched at once against the other registers and known victims; its page shows
//! the candidates with their explanations.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use haven_domain::format::{date as show_date, parse_date, Lang};
use haven_domain::person::{BirthDate, IdentityInput};
use haven_domain::registers::absentees::{self, Outcome, RoundInput};
use haven_domain::registers::screening::{self, BatchInput, Classification};
use haven_domain::time::local_date;
use haven_store::registers::{
    self, AbsenteeDetails, AbsenteeRow, BatchRow, NewAbsentee, NewBatch, NewReview, ReturneeRow, ReviewRow, RoundRow,
    Screening,
};
use haven_store::victims::{self as victim_store, NewVictimCase};
use haven_store::{matches, persons, Command};
use serde::Deserialize;

use crate::ctx::{self as guards, Can, CsrfForm, Viewer};
use crate::error::{AppError, AppResult};
use crate::page::{ok, render, Ctx, FormState};
use crate::pages::matches::{candidate_lines, CandidateLine};
use crate::pages::persons::PURPOSES;
use crate::pages::reports::{today, FieldErrors};
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/absentees", get(absentee_list).post(absentee_create))
        .route("/absentees/new", get(absentee_new))
        .route("/absentees/rounds", get(rounds).post(round_create))
        .route("/absentees/{id}", get(absentee_show))
        .route("/absentees/{id}/details", post(absentee_details))
        .route("/absentees/{id}/review", post(absentee_review))
        .route("/handovers", get(batch_list).post(batch_create))
        .route("/handovers/{id}", get(batch_show))
        .route("/handovers/{id}/people", post(returnee_create))
        .route("/returnees/{id}", get(returnee_show).post(returnee_screen))
        .route("/returnees/{id}/screening", post(returnee_screening_open))
}

/// The person fields a register entry takes, as a form or the API sends them.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct PersonFields {
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
    #[serde(default)]
    pub nationality: String,
}

impl PersonFields {
    pub fn input(&self) -> IdentityInput {
        IdentityInput {
            full_name: self.full_name.clone(),
            birth_date: self.birth_date.clone(),
            sex: self.sex.clone(),
            id_number: self.id_number.clone(),
            phone: self.phone.clone(),
            address: self.address.clone(),
            commune_code: self.commune_code.clone(),
            other_names: self.other_names.clone(),
            nationality: if self.nationality.trim().is_empty() { "VN".into() } else { self.nationality.clone() },
            passport: self.passport.clone(),
            ..IdentityInput::default()
        }
    }
}

/// Validate a register entry's person: field errors, or the identity ready to seal.
async fn validate_person(
    state: &AppState,
    p: &PersonFields,
) -> AppResult<Result<haven_domain::person::Identity, FieldErrors>> {
    let year = local_date(state.store.now()).map(|d| d.year()).unwrap_or(2100);
    match p.input().validate(year) {
        Ok(mut identity) => {
            if let Some(code) = &identity.commune_code {
                if !state.store.unit_exists(code).await? {
                    return Ok(Err(vec![("commune_code".into(), "error.choice".into())]));
                }
            }
            identity.commune_code = identity.commune_code.filter(|c| !c.is_empty());
            Ok(Ok(identity))
        }
        Err(errs) => Ok(Err(errs.into_iter().map(|e| (e.field.to_owned(), e.key.to_owned())).collect())),
    }
}

pub(crate) fn opt(s: &str) -> Option<&str> {
    Some(s.trim()).filter(|s| !s.is_empty())
}

// ---------------------------------------------------------------------------------------------------------
// Absentees

/// A new absentee entry.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct AbsenteeForm {
    #[serde(flatten)]
    pub person: PersonFields,
    #[serde(default)]
    pub absent_since: String,
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

/// Longest free text a register field takes.
pub(crate) const MAX_TEXT: usize = 2000;

/// Check an absentee entry beyond the person: the commune (required: the register is per commune), when the
/// person went away, and the lengths of the free texts.
pub fn check_absentee(form: &AbsenteeForm, today: time::Date) -> Result<Option<BirthDate>, FieldErrors> {
    let mut errors: FieldErrors = Vec::new();
    if form.person.commune_code.trim().is_empty() {
        errors.push(("commune_code".into(), "error.required".into()));
    }
    let since = absentees::parse_absent_since(&form.absent_since, today).map_err(|(f, k)| vec![(f.into(), k.into())]);
    let since = match since {
        Ok(s) => s,
        Err(mut e) => {
            errors.append(&mut e);
            None
        }
    };
    for (field, v) in [
        ("destination", &form.destination),
        ("contact", &form.contact),
        ("reported_by", &form.reported_by),
        ("household", &form.household),
        ("note", &form.note),
    ] {
        if v.chars().count() > MAX_TEXT {
            errors.push((field.into(), "error.too_long".into()));
        }
    }
    if errors.is_empty() {
        Ok(since)
    } else {
        Err(errors)
    }
}

/// Add an absentee to the viewer's agency's register: the person, the entry and the match keys in one
/// transaction, then candidate matches proposed at once. Returns the entry's id.
pub async fn add_absentee(
    state: &AppState,
    viewer: &Viewer,
    form: &AbsenteeForm,
    import_id: Option<&str>,
    cmd: Option<&mut Command>,
) -> AppResult<Result<String, FieldErrors>> {
    let mut errors = Vec::new();
    let identity = match validate_person(state, &form.person).await? {
        Ok(i) => Some(i),
        Err(mut e) => {
            errors.append(&mut e);
            None
        }
    };
    let since = match check_absentee(form, today(state)) {
        Ok(s) => s,
        Err(mut e) => {
            errors.append(&mut e);
            None
        }
    };
    let Some(identity) = identity.filter(|_| errors.is_empty()) else {
        errors.dedup();
        return Ok(Err(errors));
    };
    let w = AbsenteeWrite { identity: &identity, form, since, import_id };
    let id = match cmd {
        Some(cmd) => write_absentee(cmd, state, &viewer.agency.id, &w).await?,
        None => {
            let mut cmd = state.store.command(&viewer.actor()).await?;
            let id = write_absentee(&mut cmd, state, &viewer.agency.id, &w).await?;
            cmd.commit().await?;
            id
        }
    };
    Ok(Ok(id))
}

pub(crate) struct AbsenteeWrite<'a> {
    pub identity: &'a haven_domain::person::Identity,
    pub form: &'a AbsenteeForm,
    pub since: Option<BirthDate>,
    pub import_id: Option<&'a str>,
}

pub(crate) async fn write_absentee(
    cmd: &mut Command,
    state: &AppState,
    agency: &str,
    w: &AbsenteeWrite<'_>,
) -> anyhow::Result<String> {
    let keys = &state.store.keys;
    let person_id = persons::create(cmd, keys, agency, w.identity).await?;
    let form = w.form;
    let id = registers::add_absentee(
        cmd,
        keys,
        agency,
        &NewAbsentee {
            person_id: &person_id,
            commune_code: form.person.commune_code.trim(),
            absent_since: w.since.map(|s| s.encode()),
            destination: opt(&form.destination),
            contact: opt(&form.contact),
            reported_by: opt(&form.reported_by),
            household: opt(&form.household),
            note: opt(&form.note),
            import_id: w.import_id,
        },
    )
    .await?;
    matches::index_and_propose(cmd, keys, &person_id).await?;
    Ok(id)
}

/// A commune's label in the viewer's language list (the name from the directory, or the code).
async fn commune_names(state: &AppState) -> AppResult<Vec<(String, String)>> {
    Ok(state.store.communes(&state.config.province).await?)
}

fn commune_name(communes: &[(String, String)], code: &str) -> String {
    communes.iter().find(|(c, _)| c == code).map(|(_, n)| n.clone()).unwrap_or_else(|| code.to_owned())
}

/// An absentee entry as the pages list it.
pub struct AbsenteeLine {
    pub a: AbsenteeRow,
    pub commune: String,
    pub since: String,
    pub outcome: String,
}

fn since_label(s: &Option<String>) -> String {
    s.as_deref().and_then(BirthDate::parse).map(|b| b.display()).unwrap_or_default()
}

fn absentee_lines(rows: Vec<AbsenteeRow>, communes: &[(String, String)]) -> Vec<AbsenteeLine> {
    rows.into_iter()
        .map(|a| AbsenteeLine {
            commune: commune_name(communes, &a.commune_code),
            since: since_label(&a.absent_since),
            outcome: a.last_outcome.clone().unwrap_or_default(),
            a,
        })
        .collect()
}

#[derive(Template)]
#[template(path = "absentees.html")]
struct AbsenteesPage {
    c: Ctx,
    lines: Vec<AbsenteeLine>,
    counts: Vec<(String, String, i64)>,
    communes: Vec<(String, String)>,
    commune: String,
    next: Option<String>,
    can_create: bool,
}

#[derive(Deserialize)]
struct ListQuery {
    #[serde(default)]
    commune: String,
    #[serde(default)]
    after: String,
}

const PAGE: i64 = 50;

async fn absentee_list(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::ViewRecords>,
    c: Ctx,
    Query(q): Query<ListQuery>,
) -> AppResult<Response> {
    let communes = commune_names(&state).await?;
    let rows = state.store.absentees_of_agency(&viewer.agency.id, opt(&q.commune), opt(&q.after), PAGE + 1).await?;
    let next = (rows.len() as i64 > PAGE).then(|| rows[PAGE as usize - 1].id.clone());
    let rows = rows.into_iter().take(PAGE as usize).collect();
    let counts = state
        .store
        .absentee_counts(&viewer.agency.id)
        .await?
        .into_iter()
        .map(|(code, n)| (commune_name(&communes, &code), code, n))
        .collect();
    Ok(ok(&AbsenteesPage {
        c,
        lines: absentee_lines(rows, &communes),
        counts,
        communes,
        commune: q.commune,
        next,
        can_create: viewer.can(haven_domain::Action::CreateRecords),
    }))
}

#[derive(Template)]
#[template(path = "absentee_new.html")]
struct AbsenteeNewPage {
    c: Ctx,
    f: FormState,
    communes: Vec<(String, String)>,
}

async fn absentee_new(
    State(state): State<AppState>,
    Can(..): Can<guards::CreateRecords>,
    c: Ctx,
) -> AppResult<Response> {
    Ok(ok(&AbsenteeNewPage { c, f: FormState::default(), communes: commune_names(&state).await? }))
}

async fn absentee_create(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::CreateRecords>,
    c: Ctx,
    CsrfForm(form, pairs): CsrfForm<AbsenteeForm>,
) -> AppResult<Response> {
    match add_absentee(&state, &viewer, &form, None, None).await? {
        Ok(id) => Ok(Redirect::to(&format!("/absentees/{id}?done=absentee_created")).into_response()),
        Err(errors) => {
            let mut f = FormState::from_pairs(&pairs);
            f.errors = errors;
            let communes = commune_names(&state).await?;
            Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &AbsenteeNewPage { c, f, communes }))
        }
    }
}

/// The entry, if the viewer may see it: the owning agency, or one holding a grant on it.
async fn load_absentee(state: &AppState, viewer: &Viewer, id: &str) -> AppResult<AbsenteeRow> {
    let a = state.store.absentee(id).await?.ok_or(AppError::NotFound)?;
    if !crate::pages::record_access(state, viewer, registers::ABSENTEE, id, &a.owner_agency_id, &[]).await?.allowed() {
        return Err(AppError::Forbidden);
    }
    Ok(a)
}

pub struct ReviewLine {
    pub r: ReviewRow,
    pub on: String,
}

#[derive(Template)]
#[template(path = "absentee.html")]
struct AbsenteePage {
    c: Ctx,
    f: FormState,
    a: AbsenteeLine,
    reviews: Vec<ReviewLine>,
    rounds: Vec<RoundRow>,
    candidates: Vec<CandidateLine>,
    details: Option<AbsenteeDetails>,
    can_edit: bool,
    can_open: bool,
    purposes: &'static [&'static str],
    outcomes: Vec<&'static str>,
}

async fn absentee_page(
    state: &AppState,
    viewer: &Viewer,
    c: Ctx,
    id: &str,
    f: FormState,
    details: Option<AbsenteeDetails>,
    status: StatusCode,
) -> AppResult<Response> {
    let a = load_absentee(state, viewer, id).await?;
    let communes = commune_names(state).await?;
    let reviews = state
        .store
        .reviews_of_absentee(&a.id)
        .await?
        .into_iter()
        .map(|r| ReviewLine { on: parse_date(&r.outcome_on).map(show_date).unwrap_or_default(), r })
        .collect();
    let owner = a.owner_agency_id == viewer.agency.id;
    let rounds = if owner { state.store.rounds_of_agency(&viewer.agency.id).await? } else { Vec::new() };
    let candidates = candidate_lines(state, viewer, &c, &a.person_id).await?;
    let page = AbsenteePage {
        can_edit: owner && viewer.can(haven_domain::Action::EditRecords),
        can_open: viewer.can(haven_domain::Action::ViewIdentity),
        a: absentee_lines(vec![a], &communes).remove(0),
        c,
        f,
        reviews,
        rounds,
        candidates,
        details,
        purposes: PURPOSES,
        outcomes: Outcome::ALL.iter().map(|o| o.code()).collect(),
    };
    Ok(render(status, &page))
}

async fn absentee_show(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::ViewRecords>,
    c: Ctx,
    Path(id): Path<String>,
) -> AppResult<Response> {
    absentee_page(&state, &viewer, c, &id, FormState::default(), None, StatusCode::OK).await
}

#[derive(Deserialize)]
struct PurposeForm {
    #[serde(default)]
    purpose: String,
}

async fn absentee_details(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::ViewIdentity>,
    c: Ctx,
    Path(id): Path<String>,
    CsrfForm(form, _): CsrfForm<PurposeForm>,
) -> AppResult<Response> {
    load_absentee(&state, &viewer, &id).await?;
    let purpose = form.purpose.trim();
    if !PURPOSES.contains(&purpose) {
        let mut f = FormState::default();
        f.add("purpose", "error.choice");
        return absentee_page(&state, &viewer, c, &id, f, None, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let mut cmd = state.store.command(&viewer.actor()).await?;
    let details = registers::open_absentee(&mut cmd, &state.store.keys, &id, purpose).await?;
    cmd.commit().await?;
    absentee_page(&state, &viewer, c, &id, FormState::default(), details, StatusCode::OK).await
}

#[derive(Clone, Debug, Deserialize)]
pub struct ReviewForm {
    pub round_id: String,
    pub outcome: String,
    pub outcome_on: String,
    #[serde(default)]
    pub note: String,
}

/// Record an absentee's outcome in a round of the owning agency. "Suspected trafficked" opens a victim case
/// for the person in the same transaction and links it to the outcome. Returns the victim case opened, if any.
pub async fn record_review(
    state: &AppState,
    viewer: &Viewer,
    a: &AbsenteeRow,
    form: &ReviewForm,
) -> AppResult<Result<Option<String>, FieldErrors>> {
    if a.owner_agency_id != viewer.agency.id {
        return Err(AppError::Forbidden);
    }
    let mut errors: FieldErrors = Vec::new();
    let round = state.store.round(form.round_id.trim()).await?.filter(|r| r.owner_agency_id == viewer.agency.id);
    let outcome = Outcome::from_code(form.outcome.trim());
    if outcome.is_none() {
        errors.push(("outcome".into(), "error.choice".into()));
    }
    if form.note.chars().count() > MAX_TEXT {
        errors.push(("note".into(), "error.too_long".into()));
    }
    let on = match round.as_ref().and_then(RoundRow::period) {
        None => {
            errors.push(("round_id".into(), "error.choice".into()));
            None
        }
        Some(period) => {
            let since = a.absent_since.as_deref().and_then(BirthDate::parse);
            match absentees::check_outcome(parse_date(&form.outcome_on), period, since, today(state)) {
                Ok(d) => Some(d),
                Err((f, k)) => {
                    errors.push((f.into(), k.into()));
                    None
                }
            }
        }
    };
    let (Some(round), Some(outcome), Some(on), true) = (round, outcome, on, errors.is_empty()) else {
        return Ok(Err(errors));
    };
    let mut cmd = state.store.command(&viewer.actor()).await?;
    // Read in the command, which holds the write lock: two officers recording the same entry at once
    // open one victim case, not two.
    let already = registers::victim_case_of_review(&mut cmd, &a.id, &round.id).await?;
    let victim = if outcome == Outcome::SuspectedTrafficked && already.is_none() {
        Some(open_victim_case(&mut cmd, state, viewer, &a.person_id, "commune", on, Some(&a.commune_code)).await?)
    } else {
        None
    };
    registers::record_review(
        &mut cmd,
        &state.store.keys,
        &NewReview {
            absentee_id: &a.id,
            round_id: &round.id,
            outcome: outcome.code(),
            on,
            note: opt(&form.note),
            victim_case_id: victim.as_deref(),
        },
    )
    .await?;
    cmd.commit().await?;
    Ok(Ok(victim))
}

/// Open a victim case for a register person inside the caller's command (the child flag from the sealed birth
/// date, as reception does).
async fn open_victim_case(
    cmd: &mut Command,
    state: &AppState,
    viewer: &Viewer,
    person_id: &str,
    reception_kind: &str,
    on: time::Date,
    commune: Option<&str>,
) -> anyhow::Result<String> {
    let child = victim_store::birth_date_for_rules(cmd, &state.store.keys, person_id)
        .await?
        .is_some_and(|b| haven_domain::victims::is_child(b, on));
    let new = NewVictimCase {
        person_id,
        reception_kind,
        received_on: on,
        commune_code: commune,
        vietnamese: true,
        in_vietnam: true,
        accompanying_child: false,
        officer: &viewer.user.display_name,
        note: None,
        previous_case_id: None,
    };
    victim_store::create(cmd, &state.store.keys, &viewer.agency.id, &new, child).await
}

async fn absentee_review(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::EditRecords>,
    c: Ctx,
    Path(id): Path<String>,
    CsrfForm(form, pairs): CsrfForm<ReviewForm>,
) -> AppResult<Response> {
    let a = load_absentee(&state, &viewer, &id).await?;
    match record_review(&state, &viewer, &a, &form).await? {
        Ok(Some(victim)) => Ok(Redirect::to(&format!("/victims/{victim}?done=victim_from_register")).into_response()),
        Ok(None) => Ok(Redirect::to(&format!("/absentees/{id}?done=review_recorded")).into_response()),
        Err(errors) => {
            let mut f = FormState::from_pairs(&pairs);
            f.errors = errors;
            absentee_page(&state, &viewer, c, &id, f, None, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

// ---------------------------------------------------------------------------------------------------------
// Review rounds

/// A round's counts: one row per commune, one column per outcome and one for entries not yet reviewed.
pub struct RoundTable {
    pub round: RoundRow,
    pub period: String,
    /// (commune, counts in [`Outcome::ALL`] order then not reviewed, total)
    pub rows: Vec<(String, Vec<i64>, i64)>,
    pub totals: Vec<i64>,
    pub total: i64,
}

pub async fn round_table(state: &AppState, agency_id: &str, round: RoundRow) -> AppResult<RoundTable> {
    let communes = commune_names(state).await?;
    let counts = state.store.round_counts(agency_id, &round.id).await?;
    let width = Outcome::ALL.len() + 1;
    let mut rows: Vec<(String, Vec<i64>, i64)> = Vec::new();
    let mut totals = vec![0; width];
    for k in counts {
        let name = commune_name(&communes, &k.commune_code);
        if rows.last().is_none_or(|r| r.0 != name) {
            rows.push((name, vec![0; width], 0));
        }
        let col = k
            .outcome
            .as_deref()
            .and_then(Outcome::from_code)
            .and_then(|o| Outcome::ALL.iter().position(|x| *x == o))
            .unwrap_or(width - 1);
        if let Some(row) = rows.last_mut() {
            row.1[col] += k.count;
            row.2 += k.count;
        }
        totals[col] += k.count;
    }
    let total = totals.iter().sum();
    let period = round.period().map(|(s, e)| format!("{} – {}", show_date(s), show_date(e))).unwrap_or_default();
    Ok(RoundTable { round, period, rows, totals, total })
}

#[derive(Template)]
#[template(path = "rounds.html")]
struct RoundsPage {
    c: Ctx,
    f: FormState,
    tables: Vec<RoundTable>,
    outcomes: Vec<&'static str>,
    can_create: bool,
}

async fn rounds_page(
    state: &AppState,
    viewer: &Viewer,
    c: Ctx,
    f: FormState,
    status: StatusCode,
) -> AppResult<Response> {
    let mut tables = Vec::new();
    for r in state.store.rounds_of_agency(&viewer.agency.id).await? {
        tables.push(round_table(state, &viewer.agency.id, r).await?);
    }
    Ok(render(
        status,
        &RoundsPage {
            c,
            f,
            tables,
            outcomes: Outcome::ALL.iter().map(|o| o.code()).collect(),
            can_create: viewer.can(haven_domain::Action::EditRecords),
        },
    ))
}

async fn rounds(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::ViewRecords>,
    c: Ctx,
) -> AppResult<Response> {
    rounds_page(&state, &viewer, c, FormState::default(), StatusCode::OK).await
}

#[derive(Clone, Debug, Deserialize)]
pub struct RoundForm {
    pub name: String,
    pub starts_on: String,
    pub ends_on: String,
}

pub async fn create_round(
    state: &AppState,
    viewer: &Viewer,
    form: &RoundForm,
) -> AppResult<Result<String, FieldErrors>> {
    let input =
        RoundInput { name: &form.name, starts_on: parse_date(&form.starts_on), ends_on: parse_date(&form.ends_on) };
    match absentees::check_round(&input) {
        Ok((s, e)) => {
            let mut cmd = state.store.command(&viewer.actor()).await?;
            let id = registers::create_round(&mut cmd, &viewer.agency.id, &form.name, s, e).await?;
            cmd.commit().await?;
            Ok(Ok(id))
        }
        Err(errors) => Ok(Err(errors.into_iter().map(|(f, k)| (f.into(), k.into())).collect())),
    }
}

async fn round_create(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::EditRecords>,
    c: Ctx,
    CsrfForm(form, pairs): CsrfForm<RoundForm>,
) -> AppResult<Response> {
    match create_round(&state, &viewer, &form).await? {
        Ok(_) => Ok(Redirect::to("/absentees/rounds?done=round_created").into_response()),
        Err(errors) => {
            let mut f = FormState::from_pairs(&pairs);
            f.errors = errors;
            rounds_page(&state, &viewer, c, f, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

// ---------------------------------------------------------------------------------------------------------
// Handover batches and screening

pub struct BatchLine {
    pub b: BatchRow,
    pub on: String,
    pub gate: String,
}

fn batch_line(state: &AppState, lang: Lang, b: BatchRow) -> BatchLine {
    let gate = state
        .profile
        .gates
        .iter()
        .find(|g| g.code == b.gate)
        .map(|g| if lang == Lang::En { g.name_en.clone() } else { g.name_vi.clone() })
        .unwrap_or_else(|| b.gate.clone());
    BatchLine { on: parse_date(&b.handed_on).map(show_date).unwrap_or_default(), gate, b }
}

#[derive(Template)]
#[template(path = "handovers.html")]
struct BatchesPage {
    c: Ctx,
    f: FormState,
    lines: Vec<BatchLine>,
    gates: Vec<(String, String)>,
    countries: Vec<&'static str>,
    can_create: bool,
}

/// Countries that hand citizens back most often, offered first on the form.
const HANDING_COUNTRIES: &[&str] = &["KH", "CN", "LA", "MM", "TH", "MY", "KR", "JP", "TW"];

async fn batches_page(
    state: &AppState,
    viewer: &Viewer,
    c: Ctx,
    f: FormState,
    status: StatusCode,
) -> AppResult<Response> {
    let lines = state
        .store
        .batches_of_agency(&viewer.agency.id, 200)
        .await?
        .into_iter()
        .map(|b| batch_line(state, c.lang, b))
        .collect();
    let gates = state
        .profile
        .gates
        .iter()
        .map(|g| (g.code.clone(), if c.lang == Lang::En { g.name_en.clone() } else { g.name_vi.clone() }))
        .collect();
    Ok(render(
        status,
        &BatchesPage {
            c,
            f,
            lines,
            gates,
            countries: HANDING_COUNTRIES.to_vec(),
            can_create: viewer.can(haven_domain::Action::CreateRecords),
        },
    ))
}

async fn batch_list(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::ViewRecords>,
    c: Ctx,
) -> AppResult<Response> {
    batches_page(&state, &viewer, c, FormState::default(), StatusCode::OK).await
}

#[derive(Clone, Debug, Deserialize)]
pub struct BatchForm {
    pub handed_on: String,
    pub gate: String,
    pub country: String,
    pub authority: String,
    #[serde(default)]
    pub note: String,
}

pub async fn create_batch(
    state: &AppState,
    viewer: &Viewer,
    form: &BatchForm,
) -> AppResult<Result<String, FieldErrors>> {
    let input = BatchInput {
        handed_on: parse_date(&form.handed_on),
        gate: &form.gate,
        country: &form.country,
        authority: &form.authority,
    };
    let mut checked = screening::check_batch(&input, &state.profile.gates, today(state))
        .map_err(|e| e.into_iter().map(|(f, k)| (f.to_owned(), k.to_owned())).collect::<FieldErrors>());
    if form.note.chars().count() > MAX_TEXT {
        let mut e = checked.err().unwrap_or_default();
        e.push(("note".into(), "error.too_long".into()));
        checked = Err(e);
    }
    match checked {
        Ok(on) => {
            let mut cmd = state.store.command(&viewer.actor()).await?;
            let id = registers::create_batch(
                &mut cmd,
                &state.store.keys,
                &viewer.agency.id,
                &NewBatch {
                    handed_on: on,
                    gate: form.gate.trim(),
                    country: form.country.trim(),
                    authority: &form.authority,
                    note: opt(&form.note),
                },
            )
            .await?;
            cmd.commit().await?;
            Ok(Ok(id))
        }
        Err(errors) => Ok(Err(errors)),
    }
}

async fn batch_create(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::CreateRecords>,
    c: Ctx,
    CsrfForm(form, pairs): CsrfForm<BatchForm>,
) -> AppResult<Response> {
    match create_batch(&state, &viewer, &form).await? {
        Ok(id) => Ok(Redirect::to(&format!("/handovers/{id}?done=batch_created")).into_response()),
        Err(errors) => {
            let mut f = FormState::from_pairs(&pairs);
            f.errors = errors;
            batches_page(&state, &viewer, c, f, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

/// The batch, if the viewer may see it (the receiving agency, or a grant).
async fn load_batch(state: &AppState, viewer: &Viewer, id: &str) -> AppResult<BatchRow> {
    let b = state.store.batch(id).await?.ok_or(AppError::NotFound)?;
    if !crate::pages::record_access(state, viewer, registers::BATCH, id, &b.owner_agency_id, &[]).await?.allowed() {
        return Err(AppError::Forbidden);
    }
    Ok(b)
}

pub struct ReturneeLine {
    pub r: ReturneeRow,
    /// Open candidate matches of the person.
    pub matches: usize,
}

#[derive(Template)]
#[template(path = "handover.html")]
struct BatchPage {
    c: Ctx,
    f: FormState,
    b: BatchLine,
    people: Vec<ReturneeLine>,
    communes: Vec<(String, String)>,
    can_add: bool,
}

async fn batch_page(
    state: &AppState,
    viewer: &Viewer,
    c: Ctx,
    id: &str,
    f: FormState,
    status: StatusCode,
) -> AppResult<Response> {
    let b = load_batch(state, viewer, id).await?;
    let mut people = Vec::new();
    for r in state.store.returnees_of_batch(&b.id).await? {
        let matches =
            state.store.candidates_of_person(&r.person_id).await?.iter().filter(|m| m.status == "open").count();
        people.push(ReturneeLine { r, matches });
    }
    let can_add = b.owner_agency_id == viewer.agency.id && viewer.can(haven_domain::Action::CreateRecords);
    let page =
        BatchPage { b: batch_line(state, c.lang, b), c, f, people, communes: commune_names(state).await?, can_add };
    Ok(render(status, &page))
}

async fn batch_show(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::ViewRecords>,
    c: Ctx,
    Path(id): Path<String>,
) -> AppResult<Response> {
    batch_page(&state, &viewer, c, &id, FormState::default(), StatusCode::OK).await
}

/// Add a person to a batch of the viewer's agency: the person, the returnee and the match keys in one
/// transaction, with candidate matches proposed at once.
pub async fn add_returnee(
    state: &AppState,
    viewer: &Viewer,
    batch: &BatchRow,
    p: &PersonFields,
    import_id: Option<&str>,
    cmd: Option<&mut Command>,
) -> AppResult<Result<String, FieldErrors>> {
    if batch.owner_agency_id != viewer.agency.id {
        return Err(AppError::Forbidden);
    }
    let identity = match validate_person(state, p).await? {
        Ok(i) => i,
        Err(e) => return Ok(Err(e)),
    };
    let id = match cmd {
        Some(cmd) => write_returnee(cmd, state, &viewer.agency.id, &batch.id, &identity, import_id).await?,
        None => {
            let mut cmd = state.store.command(&viewer.actor()).await?;
            let id = write_returnee(&mut cmd, state, &viewer.agency.id, &batch.id, &identity, import_id).await?;
            cmd.commit().await?;
            id
        }
    };
    Ok(Ok(id))
}

pub(crate) async fn write_returnee(
    cmd: &mut Command,
    state: &AppState,
    agency: &str,
    batch_id: &str,
    identity: &haven_domain::person::Identity,
    import_id: Option<&str>,
) -> anyhow::Result<String> {
    let keys = &state.store.keys;
    let person_id = persons::create(cmd, keys, agency, identity).await?;
    let id = registers::add_returnee(cmd, batch_id, agency, &person_id, import_id).await?;
    matches::index_and_propose(cmd, keys, &person_id).await?;
    Ok(id)
}

async fn returnee_create(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::CreateRecords>,
    c: Ctx,
    Path(id): Path<String>,
    CsrfForm(form, pairs): CsrfForm<PersonFields>,
) -> AppResult<Response> {
    let b = load_batch(&state, &viewer, &id).await?;
    match add_returnee(&state, &viewer, &b, &form, None, None).await? {
        Ok(r) => Ok(Redirect::to(&format!("/returnees/{r}?done=returnee_added")).into_response()),
        Err(errors) => {
            let mut f = FormState::from_pairs(&pairs);
            f.errors = errors;
            batch_page(&state, &viewer, c, &id, f, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

async fn load_returnee(state: &AppState, viewer: &Viewer, id: &str) -> AppResult<(ReturneeRow, BatchRow)> {
    let r = state.store.returnee(id).await?.ok_or(AppError::NotFound)?;
    let b = load_batch(state, viewer, &r.batch_id).await?;
    Ok((r, b))
}

/// One question of the interview form, in the viewer's language.
pub struct Question {
    pub group: String,
    pub code: String,
    pub text: String,
    pub strong: bool,
}

#[derive(Template)]
#[template(path = "returnee.html")]
struct ReturneePage {
    c: Ctx,
    f: FormState,
    r: ReturneeRow,
    b: BatchLine,
    questions: Vec<Question>,
    classifications: Vec<&'static str>,
    candidates: Vec<CandidateLine>,
    indicators: Vec<String>,
    can_screen: bool,
    /// The interview's notes and the reason for the classification, opened with a purpose.
    record: Option<ScreeningRecord>,
    can_open: bool,
    purposes: &'static [&'static str],
}

pub struct ScreeningRecord {
    pub notes: String,
    pub reason: String,
}

async fn returnee_page(
    state: &AppState,
    viewer: &Viewer,
    c: Ctx,
    id: &str,
    f: FormState,
    record: Option<ScreeningRecord>,
    status: StatusCode,
) -> AppResult<Response> {
    let (r, b) = load_returnee(state, viewer, id).await?;
    let questions = state
        .profile
        .screening
        .indicators
        .iter()
        .map(|i| Question {
            group: i.group.clone(),
            code: i.code.clone(),
            text: if c.lang == Lang::En { i.question_en.clone() } else { i.question_vi.clone() },
            strong: i.strength == screening::Strength::Strong,
        })
        .collect::<Vec<_>>();
    let indicators = r
        .indicators
        .as_deref()
        .unwrap_or_default()
        .split_whitespace()
        .map(|code| {
            questions.iter().find(|q| q.code == code).map(|q| q.text.clone()).unwrap_or_else(|| code.to_owned())
        })
        .collect();
    let candidates = candidate_lines(state, viewer, &c, &r.person_id).await?;
    let can_screen = r.owner_agency_id == viewer.agency.id
        && r.classification.is_none()
        && viewer.can(haven_domain::Action::EditRecords);
    let can_open =
        record.is_none() && r.classification.is_some() && crate::pages::may_unseal(viewer, &r.owner_agency_id, &[]);
    let page = ReturneePage {
        b: batch_line(state, c.lang, b),
        c,
        f,
        r,
        questions,
        classifications: Classification::ALL.iter().map(|k| k.code()).collect(),
        candidates,
        indicators,
        can_screen,
        can_open,
        record,
        purposes: PURPOSES,
    };
    Ok(render(status, &page))
}

async fn returnee_show(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::ViewRecords>,
    c: Ctx,
    Path(id): Path<String>,
) -> AppResult<Response> {
    returnee_page(&state, &viewer, c, &id, FormState::default(), None, StatusCode::OK).await
}

/// A screening as the form posts it: `yes` repeated per indicator answered "yes" (the raw pairs carry them),
/// the classification and the reason, and the officer's notes.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct ScreeningForm {
    #[serde(default)]
    pub yes: Vec<String>,
    #[serde(default)]
    pub classification: String,
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub notes: String,
}

/// Screen a returnee of the viewer's agency. A suspected victim gets a victim case opened in the same
/// transaction (received at the border on the batch's date). Returns the victim case, if any.
pub async fn screen(
    state: &AppState,
    viewer: &Viewer,
    r: &ReturneeRow,
    b: &BatchRow,
    form: &ScreeningForm,
) -> AppResult<Result<Option<String>, FieldErrors>> {
    if r.owner_agency_id != viewer.agency.id {
        return Err(AppError::Forbidden);
    }
    if r.classification.is_some() {
        return Ok(Err(vec![("classification".into(), "error.already_screened".into())]));
    }
    let form_rules = &state.profile.screening;
    let assessment = match form_rules.assess(form.yes.iter().map(String::as_str)) {
        Ok(a) => a,
        Err((f, k)) => return Ok(Err(vec![(f.into(), k.into())])),
    };
    let mut errors: FieldErrors = Vec::new();
    if form.notes.chars().count() > MAX_TEXT {
        errors.push(("notes".into(), "error.too_long".into()));
    }
    let classification = match screening::check_classification(&form.classification, &form.reason, assessment) {
        Ok(c) => Some(c),
        Err(e) => {
            errors.extend(e.into_iter().map(|(f, k)| (f.to_owned(), k.to_owned())));
            None
        }
    };
    let (Some(classification), true) = (classification, errors.is_empty()) else { return Ok(Err(errors)) };
    let mut yes: Vec<&str> = form.yes.iter().map(String::as_str).collect();
    yes.sort_unstable();
    yes.dedup();
    let answers = serde_json::json!({
        "yes": yes,
        "asked": form_rules.indicators.iter().map(|i| i.code.as_str()).collect::<Vec<_>>(),
        "notes": form.notes.trim(),
        "suggested": assessment.suggests().code(),
    })
    .to_string();
    let mut cmd = state.store.command(&viewer.actor()).await?;
    let victim = if classification == Classification::SuspectedVictim {
        let on = parse_date(&b.handed_on).unwrap_or_else(|| today(state));
        Some(open_victim_case(&mut cmd, state, viewer, &r.person_id, "border", on, None).await?)
    } else {
        None
    };
    let done = registers::record_screening(
        &mut cmd,
        &state.store.keys,
        &r.id,
        &Screening {
            classification: classification.code(),
            indicators: &yes.join(" "),
            answers: &answers,
            reason: form.reason.trim(),
            victim_case_id: victim.as_deref(),
        },
    )
    .await?;
    if !done {
        // Screened by someone else meanwhile: nothing of this one is kept.
        return Ok(Err(vec![("classification".into(), "error.already_screened".into())]));
    }
    cmd.commit().await?;
    Ok(Ok(victim))
}

/// Open a screened returnee's interview notes and reason, with a purpose: the owning agency's officers who
/// may see identities; audited.
async fn returnee_screening_open(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::ViewIdentity>,
    c: Ctx,
    Path(id): Path<String>,
    CsrfForm(form, _): CsrfForm<PurposeForm>,
) -> AppResult<Response> {
    let (r, _) = load_returnee(&state, &viewer, &id).await?;
    if !crate::pages::may_unseal(&viewer, &r.owner_agency_id, &[]) {
        return Err(AppError::Forbidden);
    }
    let purpose = form.purpose.trim();
    if !PURPOSES.contains(&purpose) {
        let mut f = FormState::default();
        f.add("purpose", "error.choice");
        return returnee_page(&state, &viewer, c, &id, f, None, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let mut cmd = state.store.command(&viewer.actor()).await?;
    let opened = registers::open_screening(&mut cmd, &state.store.keys, &id, purpose).await?;
    cmd.commit().await?;
    let record = opened.map(|(answers, reason)| {
        let notes = serde_json::from_str::<serde_json::Value>(&answers)
            .ok()
            .and_then(|v| v["notes"].as_str().map(str::to_owned))
            .unwrap_or_default();
        ScreeningRecord { notes, reason }
    });
    returnee_page(&state, &viewer, c, &id, FormState::default(), record, StatusCode::OK).await
}

async fn returnee_screen(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::EditRecords>,
    c: Ctx,
    Path(id): Path<String>,
    CsrfForm(_, pairs): CsrfForm<ScreeningPairs>,
) -> AppResult<Response> {
    let (r, b) = load_returnee(&state, &viewer, &id).await?;
    let form = ScreeningForm {
        yes: pairs.iter().filter(|(k, _)| k == "yes").map(|(_, v)| v.clone()).collect(),
        classification: value(&pairs, "classification"),
        reason: value(&pairs, "reason"),
        notes: value(&pairs, "notes"),
    };
    match screen(&state, &viewer, &r, &b, &form).await? {
        Ok(Some(victim)) => Ok(Redirect::to(&format!("/victims/{victim}?done=victim_from_register")).into_response()),
        Ok(None) => Ok(Redirect::to(&format!("/returnees/{id}?done=screened")).into_response()),
        Err(errors) => {
            let mut f = FormState::from_pairs(&pairs);
            f.errors = errors;
            returnee_page(&state, &viewer, c, &id, f, None, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

/// The screening form read from its raw pairs (its "yes" boxes repeat).
#[derive(Deserialize)]
struct ScreeningPairs {}

fn value(pairs: &[(String, String)], key: &str) -> String {
    pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone()).unwrap_or_default()
}
