//! Criminal cases: the agency's cases and those whose file reached it, a case with its persons and reports,
//! its stages, persons named, custody and sentences, the sealed judgment opened for a purpose, and the plan's
//! five law-enforcement indicators. The use cases are `haven_app::cases` and `haven_app::indicators`.

use super::Params;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use haven_app::cases as app;
use haven_store::cases::{CasePerson, CaseRow};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::reports::{PersonLinkIn, PurposeIn};
use super::{answer, instant, invalid, ok, page, Api, Body, Cursor};
use crate::ctx::{self as guards, Viewer};
use crate::error::AppResult;
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(get))
        .routes(routes!(stage))
        .routes(routes!(add_person))
        .routes(routes!(custody))
        .routes(routes!(judgment))
        .routes(routes!(indicators))
}

#[derive(Serialize, ToSchema)]
pub struct StageOut {
    /// `offenders_identified`, `to_procuracy`, `indicted`, `to_court`, `tried`, `appealed`,
    /// `investigation_suspended`, `closed`.
    pub stage: String,
    pub on: String,
}

#[derive(Serialize, ToSchema)]
pub struct CaseOut {
    pub id: String,
    pub case_number: String,
    pub owner_agency_id: String,
    pub offence_code: String,
    pub opened_on: String,
    /// Each stage reached, in the order of the procedure.
    pub stages: Vec<StageOut>,
    pub closed_reason: Option<String>,
    pub commune_code: Option<String>,
    /// The procuracy and the court the file was sent to.
    pub procuracy_agency_id: Option<String>,
    pub court_agency_id: Option<String>,
    /// A verdict is recorded (it opens with `POST /cases/{id}/judgment`).
    pub has_verdict: bool,
    pub created_at: String,
}

impl From<CaseRow> for CaseOut {
    fn from(c: CaseRow) -> Self {
        CaseOut {
            id: c.id,
            case_number: c.case_number,
            owner_agency_id: c.owner_agency_id,
            offence_code: c.offence_code,
            opened_on: c.opened_on,
            stages: c.stages.into_iter().map(|(stage, on)| StageOut { stage, on }).collect(),
            closed_reason: c.closed_reason,
            commune_code: c.commune_code,
            procuracy_agency_id: c.procuracy_agency_id,
            court_agency_id: c.court_agency_id,
            has_verdict: c.has_verdict,
            created_at: instant(c.created_at),
        }
    }
}

page!(CasePage, CaseOut);

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CaseQuery {
    /// `own` (the agency's cases; the default) or `sent` (cases whose file reached the agency).
    pub list: Option<String>,
    pub after: Option<String>,
    #[param(value_type = Option<i64>, minimum = 1, maximum = 500)]
    pub limit: Option<super::Limit>,
}

/// The caller's agency's criminal cases, or those whose file was sent to it (a procuracy or a court).
#[utoipa::path(get, path = "/cases", tag = "cases", params(CaseQuery), responses((status = 200, body = CasePage)))]
async fn list(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::ViewRecords>,
    Params(q): Params<CaseQuery>,
) -> AppResult<Response> {
    let (own, sent) = app::list(&state, &v, 5000).await?;
    let rows = match q.list.as_deref() {
        None | Some("own") => own,
        Some("sent") => sent,
        Some(_) => return Err(crate::error::AppError::BadRequest("list".into())),
    };
    let (items, next) = Cursor { after: q.after, limit: q.limit }.page(rows, |c| &c.id);
    Ok(ok(CasePage { items: items.into_iter().map(CaseOut::from).collect(), next }))
}

#[derive(Serialize, ToSchema)]
pub struct CasePersonOut {
    /// The person's place on the case (custody is recorded against it).
    pub id: String,
    pub person_id: String,
    pub case_code: String,
    pub role: String,
    pub arrested_on: Option<String>,
    pub detained_on: Option<String>,
    pub released_on: Option<String>,
    pub has_sentence: bool,
}

impl From<CasePerson> for CasePersonOut {
    fn from(p: CasePerson) -> Self {
        CasePersonOut {
            id: p.id,
            person_id: p.person_id,
            case_code: p.person_code,
            role: p.role,
            arrested_on: p.arrested_on,
            detained_on: p.detained_on,
            released_on: p.released_on,
            has_sentence: p.has_sentence,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct CaseDetail {
    pub case: CaseOut,
    pub persons: Vec<CasePersonOut>,
    /// The reports it was opened from.
    pub report_ids: Vec<String>,
}

async fn detail(state: &AppState, v: &Viewer, id: &str) -> AppResult<CaseDetail> {
    let c = app::visible(state, v, id).await?;
    let persons = state.store.case_persons(id).await?.into_iter().map(CasePersonOut::from).collect();
    let report_ids = state.store.reports_of_case(id).await?;
    Ok(CaseDetail { case: c.into(), persons, report_ids })
}

/// A case the caller may see, with its persons and reports.
#[utoipa::path(get, path = "/cases/{id}", tag = "cases", params(("id" = String, Path)), responses((status = 200, body = CaseDetail)))]
async fn get(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::ViewRecords>,
    Path(id): Path<String>,
) -> AppResult<Response> {
    Ok(ok(detail(&state, &v, &id).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct StageIn {
    pub stage: String,
    pub on: String,
    /// For the stages that send the file: the procuracy's or the court's agency id.
    #[serde(default)]
    pub sent_to: String,
    /// The reason for closing, the verdict, or what was appealed and by whom.
    #[serde(default)]
    pub detail: String,
}

/// Record a stage the caller's agency takes (the owner any; the procuracy and the court their own once the
/// file reached them).
#[utoipa::path(post, path = "/cases/{id}/stage", tag = "cases", params(("id" = String, Path)), request_body = StageIn, responses((status = 200, body = CaseOut)))]
async fn stage(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::EditRecords>,
    Path(id): Path<String>,
    Body(s): Body<StageIn>,
) -> AppResult<Response> {
    let form = app::StageForm { stage: s.stage, on: s.on, sent_to: s.sent_to, detail: s.detail };
    let outcome = app::record_stage(&state, &v, &id, &form).await?;
    let (st, viewer) = (&state, &v);
    answer(
        &state,
        &v,
        outcome,
        StatusCode::OK,
        |()| async move { Ok(CaseOut::from(app::visible(st, viewer, &id).await?)) },
    )
    .await
}

#[derive(Serialize, ToSchema)]
pub struct CasePersons {
    pub items: Vec<CasePersonOut>,
}

async fn persons(state: &AppState, id: &str) -> AppResult<CasePersons> {
    Ok(CasePersons { items: state.store.case_persons(id).await?.into_iter().map(CasePersonOut::from).collect() })
}

/// Name a person on a case of the caller's agency.
#[utoipa::path(post, path = "/cases/{id}/persons", tag = "cases", params(("id" = String, Path)), request_body = PersonLinkIn, responses((status = 200, body = CasePersons)))]
async fn add_person(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::EditRecords>,
    Path(id): Path<String>,
    Body(p): Body<PersonLinkIn>,
) -> AppResult<Response> {
    let form = haven_app::reports::PersonLinkForm { person_code: p.person_code, role: p.role };
    let outcome = app::add_person(&state, &v, &id, &form).await?;
    let st = &state;
    answer(&state, &v, outcome, StatusCode::OK, |()| async move { persons(st, &id).await }).await
}

#[derive(Deserialize, ToSchema)]
pub struct CustodyIn {
    #[serde(default)]
    pub arrested_on: String,
    #[serde(default)]
    pub detained_on: String,
    #[serde(default)]
    pub released_on: String,
    /// The sentence given at trial (sealed); blank leaves it as it was.
    #[serde(default)]
    pub sentence: String,
}

/// Record a suspect's arrest, detention and release and, after the trial, the sentence.
#[utoipa::path(post, path = "/cases/{id}/persons/{person}/custody", tag = "cases", params(("id" = String, Path), ("person" = String, Path, description = "The person's place on the case (`id` of `CasePersonOut`)")), request_body = CustodyIn, responses((status = 200, body = CasePersons)))]
async fn custody(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::EditRecords>,
    Path((id, person)): Path<(String, String)>,
    Body(c): Body<CustodyIn>,
) -> AppResult<Response> {
    let form = app::CustodyForm {
        arrested_on: c.arrested_on,
        detained_on: c.detained_on,
        released_on: c.released_on,
        sentence: c.sentence,
    };
    let outcome = app::set_custody(&state, &v, &id, &person, &form).await?;
    let st = &state;
    answer(&state, &v, outcome, StatusCode::OK, |()| async move { persons(st, &id).await }).await
}

#[derive(Serialize, ToSchema)]
pub struct SentenceOut {
    pub case_code: String,
    pub sentence: String,
}

#[derive(Serialize, ToSchema)]
pub struct JudgmentOut {
    pub verdict: Option<String>,
    pub appeal_note: Option<String>,
    pub sentences: Vec<SentenceOut>,
}

/// Open the verdict, the appeal and the sentences for a purpose (the owner and the agencies the file reached);
/// audited.
#[utoipa::path(post, path = "/cases/{id}/judgment", tag = "cases", params(("id" = String, Path)), request_body = PurposeIn, responses((status = 200, body = JudgmentOut)))]
async fn judgment(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::ViewIdentity>,
    Path(id): Path<String>,
    Body(p): Body<PurposeIn>,
) -> AppResult<Response> {
    let outcome = app::view_judgment(&state, &v, &id, &p.purpose).await?;
    answer(&state, &v, outcome, StatusCode::OK, |j| async move {
        Ok(JudgmentOut {
            verdict: j.verdict,
            appeal_note: j.appeal_note,
            sentences: j
                .sentences
                .into_iter()
                .map(|(case_code, sentence)| SentenceOut { case_code, sentence })
                .collect(),
        })
    })
    .await
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IndicatorQuery {
    /// A calendar year (the current one when omitted).
    pub year: Option<i32>,
    /// Another period: first and last day, dd/mm/yyyy.
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    /// An agency's code.
    #[serde(default)]
    pub agency: String,
    /// A commune's code.
    #[serde(default)]
    pub commune: String,
}

#[derive(Serialize, ToSchema)]
pub struct IndicatorOut {
    /// `classified`, `settled`, `prosecuted`, ... (`docs/indicators.md`).
    pub code: String,
    pub numerator: u64,
    pub denominator: u64,
    /// The share in per mille; absent when nothing was counted.
    pub per_mille: Option<u32>,
    pub target_per_mille: u32,
    pub target_strictly_above: bool,
    pub met: Option<bool>,
}

#[derive(Serialize, ToSchema)]
pub struct IndicatorsOut {
    pub from: String,
    pub to: String,
    pub agency: Option<String>,
    pub commune: Option<String>,
    pub indicators: Vec<IndicatorOut>,
}

/// The plan's five law-enforcement indicators for a period and scope.
#[utoipa::path(get, path = "/indicators", tag = "indicators", params(IndicatorQuery), responses((status = 200, body = IndicatorsOut)))]
async fn indicators(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::ViewAggregates>,
    Params(q): Params<IndicatorQuery>,
) -> AppResult<Response> {
    let q = haven_app::indicators::IndicatorQuery {
        year: q.year,
        from: q.from,
        to: q.to,
        agency: q.agency,
        commune: q.commune,
    };
    let sel = match haven_app::indicators::select(&state, &q).await? {
        Ok(sel) => sel,
        Err(key) => return Ok(invalid(&state, &v, &[("period".to_owned(), key.to_owned())])),
    };
    let values = haven_app::indicators::values(&state, &v, &sel).await?;
    Ok(ok(IndicatorsOut {
        from: haven_store::reports::day(sel.period.from),
        to: haven_store::reports::day(sel.period.to),
        agency: sel.agency.as_ref().map(|a| a.code.clone()),
        commune: sel.commune.as_ref().map(|(c, _)| c.clone()),
        indicators: values
            .into_iter()
            .map(|i| IndicatorOut {
                code: i.code.to_owned(),
                numerator: i.numerator,
                denominator: i.denominator,
                per_mille: i.per_mille,
                target_per_mille: i.target_per_mille,
                target_strictly_above: i.target_strictly_above,
                met: i.met,
            })
            .collect(),
    }))
}
