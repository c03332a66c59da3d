//! Person records: the agency's list, look-up by ID number, phone, passport or code, a new record, its
//! identity opened for a stated purpose (audited), corrections, relatives, merging, and breaking the glass on
//! another agency's record. The use cases are `haven_app::persons`.

use super::Params;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use haven_app::persons as app;
use haven_store::persons::PersonRow;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{answer, created, instant, invalid, ok, page, Api, Body, Cursor};
use crate::ctx::{self as guards};
use crate::error::AppResult;
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(look_up))
        .routes(routes!(get, correct))
        .routes(routes!(identity))
        .routes(routes!(relative))
        .routes(routes!(merge))
        .routes(routes!(break_glass))
}

/// A person record as it may be shown to anyone who may see it: the pseudonymous code, never the identity.
#[derive(Serialize, ToSchema)]
pub struct PersonOut {
    pub id: String,
    /// `HS-...`, the code lists and other agencies know the person by.
    pub case_code: String,
    pub owner_agency_id: String,
    pub commune_code: Option<String>,
    pub created_at: String,
    /// The record this one was merged into; it stays as the trail.
    pub merged_into: Option<String>,
}

impl From<PersonRow> for PersonOut {
    fn from(p: PersonRow) -> Self {
        PersonOut {
            id: p.id,
            case_code: p.case_code,
            owner_agency_id: p.owner_agency_id,
            commune_code: p.commune_code,
            created_at: instant(p.created_at),
            merged_into: p.merged_into,
        }
    }
}

page!(PersonPage, PersonOut);

/// The records of the caller's agency, newest first.
#[utoipa::path(get, path = "/persons", tag = "persons", params(Cursor), responses((status = 200, body = PersonPage)))]
async fn list(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::ViewRecords>,
    Params(q): Params<Cursor>,
) -> AppResult<Response> {
    let page = state.store.persons_of_agency(&v.agency.id, q.after(), q.limit()).await?;
    Ok(ok(PersonPage { items: page.items.into_iter().map(PersonOut::from).collect(), next: page.next }))
}

/// A new person, as the form takes it.
#[derive(Deserialize, ToSchema)]
pub struct PersonIn {
    /// Family, middle and given names, in that order.
    pub full_name: String,
    /// dd/mm/yyyy, yyyy-mm-dd, or a year alone.
    #[serde(default)]
    pub birth_date: String,
    /// `f`, `m`, `x` (other) or empty.
    #[serde(default)]
    pub sex: String,
    /// Citizen ID (12 digits) or old ID card (9 digits).
    #[serde(default)]
    pub id_number: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub address: String,
    /// A commune's code (`GET /units`).
    #[serde(default)]
    pub commune_code: String,
    /// One per line or separated by semicolons.
    #[serde(default)]
    pub other_names: String,
    #[serde(default)]
    pub ethnicity: String,
    /// ISO 3166-1 alpha-2.
    #[serde(default)]
    pub nationality: String,
    #[serde(default)]
    pub passport: String,
    #[serde(default)]
    pub language: String,
    #[serde(default)]
    pub interpreter: bool,
}

impl PersonIn {
    fn input(self) -> haven_domain::person::IdentityInput {
        haven_domain::person::IdentityInput {
            full_name: self.full_name,
            birth_date: self.birth_date,
            sex: self.sex,
            id_number: self.id_number,
            phone: self.phone,
            address: self.address,
            commune_code: self.commune_code,
            other_names: self.other_names,
            ethnicity: self.ethnicity,
            nationality: self.nationality,
            passport: self.passport,
            language: self.language,
            interpreter: if self.interpreter { "1".into() } else { String::new() },
        }
    }
}

/// Record a person for the caller's agency; the identity is sealed and never comes back here.
#[utoipa::path(post, path = "/persons", tag = "persons", request_body = PersonIn, responses((status = 201, body = PersonOut)))]
async fn create(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::CreateRecords>,
    Body(p): Body<PersonIn>,
) -> AppResult<Response> {
    match app::create(&state, &v, p.input()).await? {
        Ok(id) => Ok(created(PersonOut::from(app::get(&state, &id).await?))),
        Err(errors) => Ok(invalid(&state, &v, &errors)),
    }
}

/// A person record the caller may see.
#[utoipa::path(get, path = "/persons/{id}", tag = "persons", params(("id" = String, Path)), responses((status = 200, body = PersonOut)))]
async fn get(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::ViewRecords>,
    Path(id): Path<String>,
) -> AppResult<Response> {
    Ok(ok(PersonOut::from(app::visible(&state, &v, &id).await?)))
}

#[derive(Serialize, ToSchema)]
pub struct Corrected {
    /// The fields that changed (empty: nothing was written).
    pub changed: Vec<String>,
}

/// Correct the identity of a record of the caller's agency; the audit entry names the fields, never values.
#[utoipa::path(put, path = "/persons/{id}", tag = "persons", params(("id" = String, Path)), request_body = PersonIn, responses((status = 200, body = Corrected)))]
async fn correct(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::EditRecords>,
    Path(id): Path<String>,
    Body(p): Body<PersonIn>,
) -> AppResult<Response> {
    let outcome = app::update(&state, &v, &id, p.input()).await?;
    answer(&state, &v, outcome, StatusCode::OK, |changed| async move {
        Ok(Corrected { changed: changed.into_iter().map(str::to_owned).collect() })
    })
    .await
}

#[derive(Deserialize, ToSchema)]
pub struct LookUpIn {
    /// An ID number, phone, passport number or case code (found exactly), or a name of at least two parts
    /// with a birth year or date where known ("Ho Thi Mai 1998", "MAI HO THI"); the kind is read from its
    /// shape.
    pub query: String,
    /// Why: `case_work`, `verification`, `support`, `referral` or `legal_proceedings`. Required for a name.
    #[serde(default)]
    pub purpose: String,
}

#[derive(Serialize, ToSchema)]
pub struct LookUpOut {
    /// How the query was read: `case_code`, `id_number`, `phone`, `passport` or `name`.
    pub kind: String,
    /// The records the caller may open, best first (at most 20); nothing of any other record.
    pub items: Vec<PersonOut>,
}

/// Find a person by ID number, phone, passport, case code or name (a POST, so what was typed stays out of
/// URLs and logs). Answers only records the caller may open; audited with the purpose and a keyed hash of
/// what was looked for, never the value.
#[utoipa::path(post, path = "/persons/search", tag = "persons", request_body = LookUpIn, responses((status = 200, body = LookUpOut)))]
async fn look_up(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::ViewRecords>,
    Body(q): Body<LookUpIn>,
) -> AppResult<Response> {
    let outcome = app::search(&state, &v, &q.query, &q.purpose).await?;
    answer(&state, &v, outcome, StatusCode::OK, |found| async move {
        Ok(LookUpOut { kind: found.kind.to_owned(), items: found.rows.into_iter().map(PersonOut::from).collect() })
    })
    .await
}

#[derive(Deserialize, ToSchema)]
pub struct PurposeIn {
    /// Why: `case_work`, `verification`, `support`, `referral` or `legal_proceedings`.
    pub purpose: String,
}

#[derive(Serialize, ToSchema)]
pub struct RelativeOut {
    pub relation: String,
    pub full_name: String,
    pub phone: Option<String>,
    pub address: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct IdentityOut {
    pub full_name: String,
    /// As people write it: dd/mm/yyyy, or a year.
    pub birth_date: Option<String>,
    pub sex: String,
    pub id_number: Option<String>,
    pub phone: Option<String>,
    pub address: Option<String>,
    pub commune_code: Option<String>,
    pub commune: String,
    pub other_names: Vec<String>,
    pub ethnicity: Option<String>,
    pub nationality: Option<String>,
    pub passport: Option<String>,
    pub language: Option<String>,
    pub interpreter: bool,
    pub relatives: Vec<RelativeOut>,
    /// (attachment id, file name) of the sealed files.
    pub files: Vec<(String, String)>,
}

/// Open the identity, the relatives and the file names for a purpose; the view is audited.
#[utoipa::path(post, path = "/persons/{id}/identity", tag = "persons", params(("id" = String, Path)), request_body = PurposeIn, responses((status = 200, body = IdentityOut)))]
async fn identity(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::ViewIdentity>,
    Path(id): Path<String>,
    Body(p): Body<PurposeIn>,
) -> AppResult<Response> {
    let outcome = app::open(&state, &v, &id, &p.purpose).await?;
    answer(&state, &v, outcome, StatusCode::OK, |o| async move {
        let i = o.identity;
        Ok(IdentityOut {
            full_name: i.full_name,
            birth_date: i.birth_date,
            sex: i.sex,
            id_number: i.id_number,
            phone: i.phone,
            address: i.address,
            commune_code: i.commune_code,
            commune: o.commune,
            other_names: i.other_names,
            ethnicity: i.ethnicity,
            nationality: i.nationality,
            passport: i.passport,
            language: i.language,
            interpreter: i.interpreter,
            relatives: o
                .relatives
                .into_iter()
                .map(|r| RelativeOut {
                    relation: r.relation,
                    full_name: r.full_name,
                    phone: r.phone,
                    address: r.address,
                })
                .collect(),
            files: o.file_names,
        })
    })
    .await
}

#[derive(Deserialize, ToSchema)]
pub struct RelativeIn {
    /// `mother`, `father`, `spouse`, `child`, `sibling`, `guardian`, `other`, ...
    pub relation: String,
    pub full_name: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub address: String,
}

#[derive(Serialize, ToSchema)]
pub struct Done {
    pub done: bool,
}

/// Add a relative or other contact to a record of the caller's agency (sealed like the identity).
#[utoipa::path(post, path = "/persons/{id}/relatives", tag = "persons", params(("id" = String, Path)), request_body = RelativeIn, responses((status = 200, body = Done)))]
async fn relative(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::EditRecords>,
    Path(id): Path<String>,
    Body(r): Body<RelativeIn>,
) -> AppResult<Response> {
    let form = app::RelativeForm {
        relation: r.relation,
        relative_name: r.full_name,
        relative_phone: r.phone,
        relative_address: r.address,
    };
    let outcome = app::add_relative(&state, &v, &id, &form).await?;
    answer(&state, &v, outcome, StatusCode::OK, |()| async { Ok(Done { done: true }) }).await
}

#[derive(Deserialize, ToSchema)]
pub struct MergeIn {
    /// The case code of the other record of the same person, to fold into this one.
    pub other: String,
    /// Why they are the same person (at least 10 characters).
    pub reason: String,
}

/// Fold another record of the caller's agency into this one; the merged record stays as the trail.
#[utoipa::path(post, path = "/persons/{id}/merge", tag = "persons", params(("id" = String, Path)), request_body = MergeIn, responses((status = 200, body = PersonOut)))]
async fn merge(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::EditRecords>,
    Path(id): Path<String>,
    Body(m): Body<MergeIn>,
) -> AppResult<Response> {
    let outcome = app::merge(&state, &v, &id, &app::MergeForm { other: m.other, reason: m.reason }).await?;
    let st = &state;
    answer(&state, &v, outcome, StatusCode::OK, |()| async move { Ok(PersonOut::from(app::get(st, &id).await?)) }).await
}

#[derive(Deserialize, ToSchema)]
pub struct BreakGlassIn {
    /// What the emergency is (written, reported to the owner's supervisors).
    pub reason: String,
    /// How long the record stays open, in minutes.
    pub minutes: i64,
}

#[derive(Serialize, ToSchema)]
pub struct BreakGlassOut {
    /// False when the record is the caller's agency's own: there was no glass to break.
    pub opened: bool,
}

/// Open another agency's record in an emergency, for a limited time, with a written reason; audited and
/// reported to the owning agency's head.
#[utoipa::path(post, path = "/persons/{id}/break-glass", tag = "persons", params(("id" = String, Path)), request_body = BreakGlassIn, responses((status = 200, body = BreakGlassOut)))]
async fn break_glass(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::BreakGlass>,
    Path(id): Path<String>,
    Body(b): Body<BreakGlassIn>,
) -> AppResult<Response> {
    let form = app::BreakGlassForm { reason: b.reason, minutes: b.minutes.to_string() };
    let outcome = app::break_glass(&state, &v, &id, &form).await?;
    answer(&state, &v, outcome, StatusCode::OK, |opened| async move { Ok(BreakGlassOut { opened }) }).await
}
