//! The JSON API under `/api/v1`, for scripts and integrations. It accepts API tokens only (never the session
//! cookie, so a page cannot be tricked into calling it), answers errors as JSON in the caller's language,
//! and is described by the OpenAPI document at `/api/v1/openapi.json`.

use std::marker::PhantomData;

use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use crate::ctx::{self as guards, Can, Permission, Viewer};
use crate::error::{AppError, AppResult};
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/openapi.json", get(openapi))
        .route("/me", get(me))
        .route("/persons", get(list_persons).post(create))
        .route("/persons/{id}", get(person))
        .route("/reports", get(list_reports).post(create_report))
        .route("/reports/{id}", get(report))
        .route("/reports/{id}/classification", axum::routing::post(classify_report))
        .route("/reports/{id}/clock", axum::routing::post(clock_report))
        .route("/reports/{id}/decision", axum::routing::post(decide_report))
        .route("/reports/{id}/persons", axum::routing::post(report_person))
        .route("/reports/{id}/procuracy", axum::routing::post(report_procuracy))
        .route("/reports/{id}/case", axum::routing::post(open_case))
        .route("/cases", get(list_cases))
        .route("/cases/{id}", get(case))
        .route("/cases/{id}/stage", axum::routing::post(case_stage))
        .route("/cases/{id}/persons", axum::routing::post(case_person))
        .route("/cases/{id}/persons/{person}/custody", axum::routing::post(case_custody))
        .route("/indicators", get(indicators))
        .route("/victims", get(list_victims).post(create_victim))
        .route("/victims/{id}", get(victim))
        .route("/victims/{id}/steps", axum::routing::post(victim_step))
        .route("/victims/{id}/identification", axum::routing::post(victim_identification))
        .route("/victims/{id}/approval", axum::routing::post(victim_approve))
        .route("/victims/{id}/supports", axum::routing::post(victim_support))
        .route("/victims/{id}/consents", axum::routing::post(victim_consent))
        .route("/victims/{id}/referrals", axum::routing::post(victim_referral))
        .route("/victims/{id}/context", axum::routing::post(victim_context))
        .route("/absentees", get(list_absentees).post(create_absentee))
        .route("/absentees/{id}", get(absentee))
        .route("/absentees/{id}/reviews", axum::routing::post(absentee_review))
        .route("/review-rounds", get(list_rounds).post(create_round))
        .route("/handovers", get(list_batches).post(create_batch))
        .route("/handovers/{id}", get(batch))
        .route("/handovers/{id}/people", axum::routing::post(add_returnee))
        .route("/returnees/{id}/screening", axum::routing::post(screen_returnee))
        .route("/matches", get(list_matches))
        .route("/matches/{id}", axum::routing::post(decide_match))
        .route("/plans", get(list_plans))
        .route("/plans/{id}", get(plan))
        .route("/plans/{id}/indicators/{indicator}/entries", axum::routing::post(plan_entry))
        .route("/prevention", axum::routing::post(create_prevention))
        .route("/cooperation", get(list_cooperation).post(create_cooperation))
}

/// A token-authenticated caller whose roles permit `P`.
pub struct Api<P: Permission>(pub Viewer, pub PhantomData<P>);

impl<P: Permission> FromRequestParts<AppState> for Api<P> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let Can(v, _) = Can::<P>::from_request_parts(parts, state).await?;
        if v.session.is_some() {
            return Err(AppError::Unauthenticated);
        }
        Ok(Api(v, PhantomData))
    }
}

/// Any caller with a live token: what the token stands for.
async fn me(v: Viewer) -> AppResult<Json<serde_json::Value>> {
    if v.session.is_some() {
        return Err(AppError::Unauthenticated);
    }
    Ok(Json(json!({
        "id": v.user.id,
        "username": v.user.username,
        "display_name": v.user.display_name,
        "roles": v.user.roles,
        "language": v.user.lang,
        "agency": {
            "id": v.agency.id,
            "code": v.agency.code,
            "name_vi": v.agency.name_vi,
            "name_en": v.agency.name_en,
            "kind": v.agency.kind,
            "level": v.agency.level,
        },
    })))
}

#[derive(Deserialize)]
struct ListQuery {
    after: Option<String>,
    limit: Option<i64>,
}

async fn list_persons(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::ViewRecords>,
    axum::extract::Query(q): axum::extract::Query<ListQuery>,
) -> AppResult<Json<serde_json::Value>> {
    let limit = q.limit.unwrap_or(50).clamp(1, 500);
    let page = state.store.persons_of_agency(&v.agency.id, q.after.as_deref(), limit).await?;
    Ok(Json(json!({ "items": page.items, "next": page.next })))
}

async fn person(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::ViewRecords>,
    Path(id): Path<String>,
) -> AppResult<Json<serde_json::Value>> {
    let p = state.store.person(&id).await?.ok_or(AppError::NotFound)?;
    if !haven_app::access::record_access(&state, &v, haven_store::persons::KIND, &id, &p.owner_agency_id, &[])
        .await?
        .allowed()
    {
        return Err(AppError::Forbidden);
    }
    Ok(Json(json!(p)))
}

async fn create(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::CreateRecords>,
    body: axum::body::Bytes,
) -> AppResult<Response> {
    let input = parse_json::<haven_app::persons::NewPerson>(&body)?.input();
    match haven_app::persons::create(&state, &v, input).await? {
        Ok(id) => {
            let row = state.store.person(&id).await?.ok_or(AppError::NotFound)?;
            Ok((StatusCode::CREATED, Json(json!(row))).into_response())
        }
        Err(errors) => Ok(field_errors(&state, &v, &errors)),
    }
}

async fn openapi() -> Response {
    ([(axum::http::header::CONTENT_TYPE, "application/json")], include_str!("../openapi.json")).into_response()
}

/// Field errors as the API answers them: 422 with each field, its error code and message.
fn field_errors(state: &AppState, v: &Viewer, errors: &[(String, String)]) -> Response {
    let lang = v.lang();
    let fields: Vec<_> = errors
        .iter()
        .map(
            |(f, k)| json!({ "field": f, "error": k.trim_start_matches("error."), "message": state.i18n.get(lang, k) }),
        )
        .collect();
    let body = json!({ "error": "validation", "message": state.i18n.get(lang, "form.error_summary"), "fields": fields, "request_id": v.request_id });
    (StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response()
}

fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> AppResult<T> {
    serde_json::from_slice(body).map_err(|_| AppError::BadRequest("json".into()))
}

#[derive(Deserialize)]
struct ReportListQuery {
    list: Option<String>,
}

async fn list_reports(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::ViewRecords>,
    axum::extract::Query(q): axum::extract::Query<ReportListQuery>,
) -> AppResult<Json<serde_json::Value>> {
    use haven_store::reports::WorkList;
    let today = haven_domain::time::local_date(state.store.now()).unwrap_or(time::Date::MIN);
    let soon = today + time::Duration::days(5);
    let items = match q.list.as_deref() {
        Some("due") => {
            state.store.report_work_list(&v.agency.id, WorkList::DueBy { today, until: soon }, None, 500).await?
        }
        Some("overdue") => state.store.report_work_list(&v.agency.id, WorkList::Overdue { today }, None, 500).await?,
        Some("procuracy") => state.store.report_work_list(&v.agency.id, WorkList::AwaitingProcuracy, None, 500).await?,
        Some("sent") => state.store.reports_sent_to(&v.agency.id, false, 500).await?,
        Some("to_answer") => state.store.reports_sent_to(&v.agency.id, true, 500).await?,
        None | Some("all") => state.store.reports_of_agency(&v.agency.id, 500).await?,
        Some(_) => return Err(AppError::BadRequest("list".into())),
    };
    Ok(Json(json!({ "items": items })))
}

#[derive(Deserialize)]
struct NewReportJson {
    kind: String,
    channel: String,
    /// dd/mm/yyyy (or yyyy-mm-dd), Viet Nam date.
    received_date: String,
    #[serde(default)]
    received_time: String,
    #[serde(default)]
    anonymous: bool,
    #[serde(default)]
    reporter_name: String,
    #[serde(default)]
    reporter_contact: String,
    summary: String,
    #[serde(default)]
    commune_code: String,
    #[serde(default)]
    assigned_to: String,
}

async fn create_report(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::CreateRecords>,
    body: axum::body::Bytes,
) -> AppResult<Response> {
    let j: NewReportJson = parse_json(&body)?;
    let form = haven_app::reports::NewReportForm {
        kind: j.kind,
        channel: j.channel,
        received_date: j.received_date,
        received_time: j.received_time,
        anonymous: j.anonymous.then(|| "1".to_owned()),
        reporter_name: j.reporter_name,
        reporter_contact: j.reporter_contact,
        summary: j.summary,
        commune_code: j.commune_code,
        assigned_to: j.assigned_to,
    };
    match haven_app::reports::create(&state, &v, form).await? {
        Ok(id) => {
            let row = state.store.report(&id).await?.ok_or(AppError::NotFound)?;
            Ok((StatusCode::CREATED, Json(json!(row))).into_response())
        }
        Err(errors) => Ok(field_errors(&state, &v, &errors)),
    }
}

async fn report(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::ViewRecords>,
    Path(id): Path<String>,
) -> AppResult<Json<serde_json::Value>> {
    let r = state.store.report(&id).await?.ok_or(AppError::NotFound)?;
    if !haven_app::access::record_access(&state, &v, haven_store::reports::KIND, &id, &r.owner_agency_id, &r.sent_to())
        .await?
        .allowed()
    {
        return Err(AppError::Forbidden);
    }
    let events: Vec<_> = state
        .store
        .report_events(&id)
        .await?
        .into_iter()
        .map(|e| json!({ "event": format!("{:?}", e.event), "on": e.event.date().to_string(), "ground": e.ground }))
        .collect();
    Ok(Json(json!({ "report": r, "events": events })))
}

async fn classify_report(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::EditRecords>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> AppResult<Response> {
    let form: haven_app::reports::ClassifyForm = parse_json(&body)?;
    match haven_app::reports::classify(&state, &v, &id, &form).await? {
        Ok(()) => Ok(Json(json!(state.store.report(&id).await?)).into_response()),
        Err(errors) => Ok(field_errors(&state, &v, &errors)),
    }
}

async fn clock_report(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::EditRecords>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> AppResult<Response> {
    let form: haven_app::reports::ClockForm = parse_json(&body)?;
    match haven_app::reports::record_clock_event(&state, &v, &id, &form).await? {
        Ok(()) => Ok(Json(json!(state.store.report(&id).await?)).into_response()),
        Err(errors) => Ok(field_errors(&state, &v, &errors)),
    }
}

async fn decide_report(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::EditRecords>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> AppResult<Response> {
    let form: haven_app::reports::DecideForm = parse_json(&body)?;
    match haven_app::reports::decide(&state, &v, &id, &form).await? {
        Ok(()) => Ok(Json(json!(state.store.report(&id).await?)).into_response()),
        Err(errors) => Ok(field_errors(&state, &v, &errors)),
    }
}

/// Answer a page-shared action that returns field errors: the record as JSON, or 422.
async fn respond<T: serde::Serialize>(
    state: &AppState,
    v: &Viewer,
    outcome: haven_app::Outcome<()>,
    status: StatusCode,
    then: impl std::future::Future<Output = AppResult<T>>,
) -> AppResult<Response> {
    match outcome {
        Ok(()) => Ok((status, Json(json!(then.await?))).into_response()),
        Err(errors) => Ok(field_errors(state, v, &errors)),
    }
}

async fn report_person(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::EditRecords>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> AppResult<Response> {
    let form: haven_app::reports::PersonLinkForm = parse_json(&body)?;
    let outcome = haven_app::reports::add_person(&state, &v, &id, &form).await?;
    respond(&state, &v, outcome, StatusCode::OK, async { Ok(state.store.report_persons(&id).await?) }).await
}

async fn report_procuracy(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::EditRecords>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> AppResult<Response> {
    let form: haven_app::reports::ProcuracyForm = parse_json(&body)?;
    let outcome = haven_app::reports::notify_procuracy(&state, &v, &id, &form).await?;
    respond(&state, &v, outcome, StatusCode::OK, async { Ok(state.store.report(&id).await?) }).await
}

async fn open_case(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::EditRecords>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> AppResult<Response> {
    let form: haven_app::cases::OpenCaseForm = parse_json(&body)?;
    match haven_app::cases::open(&state, &v, &id, &form).await? {
        Ok(case_id) => Ok((StatusCode::CREATED, Json(json!(state.store.case(&case_id).await?))).into_response()),
        Err(errors) => Ok(field_errors(&state, &v, &errors)),
    }
}

async fn list_cases(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::ViewRecords>,
) -> AppResult<Json<serde_json::Value>> {
    let own = state.store.cases_of_agency(&v.agency.id, 500).await?;
    let sent = state.store.cases_sent_to(&v.agency.id, 500).await?;
    Ok(Json(json!({ "items": own, "sent_to_us": sent })))
}

/// The case, if the caller may see it.
async fn visible_case(state: &AppState, v: &Viewer, id: &str) -> AppResult<haven_store::cases::CaseRow> {
    let c = state.store.case(id).await?.ok_or(AppError::NotFound)?;
    if !haven_app::access::record_access(state, v, haven_store::cases::KIND, id, &c.owner_agency_id, &c.sent_to())
        .await?
        .allowed()
    {
        return Err(AppError::Forbidden);
    }
    Ok(c)
}

async fn case(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::ViewRecords>,
    Path(id): Path<String>,
) -> AppResult<Json<serde_json::Value>> {
    let c = visible_case(&state, &v, &id).await?;
    let persons = state.store.case_persons(&id).await?;
    let reports = state.store.reports_of_case(&id).await?;
    Ok(Json(json!({ "case": c, "persons": persons, "reports": reports })))
}

async fn case_stage(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::EditRecords>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> AppResult<Response> {
    let form: haven_app::cases::StageForm = parse_json(&body)?;
    let outcome = haven_app::cases::record_stage(&state, &v, &id, &form).await?;
    respond(&state, &v, outcome, StatusCode::OK, async { Ok(state.store.case(&id).await?) }).await
}

async fn case_person(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::EditRecords>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> AppResult<Response> {
    let form: haven_app::reports::PersonLinkForm = parse_json(&body)?;
    let outcome = haven_app::cases::add_person(&state, &v, &id, &form).await?;
    respond(&state, &v, outcome, StatusCode::OK, async { Ok(state.store.case_persons(&id).await?) }).await
}

async fn case_custody(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::EditRecords>,
    Path((id, person)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> AppResult<Response> {
    let form: haven_app::cases::CustodyForm = parse_json(&body)?;
    let outcome = haven_app::cases::set_custody(&state, &v, &id, &person, &form).await?;
    respond(&state, &v, outcome, StatusCode::OK, async { Ok(state.store.case_persons(&id).await?) }).await
}

async fn indicators(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::ViewAggregates>,
    axum::extract::Query(q): axum::extract::Query<haven_app::indicators::IndicatorQuery>,
) -> AppResult<Response> {
    let sel = match haven_app::indicators::select(&state, &q).await? {
        Ok(sel) => sel,
        Err(key) => return Ok(field_errors(&state, &v, &[("period".to_owned(), key.to_owned())])),
    };
    let values = haven_app::indicators::values(&state, &v, &sel).await?;
    Ok(Json(json!({
        "from": haven_store::reports::day(sel.period.from),
        "to": haven_store::reports::day(sel.period.to),
        "agency": sel.agency.as_ref().map(|a| a.code.clone()),
        "commune": sel.commune.as_ref().map(|(c, _)| c.clone()),
        "indicators": values,
    }))
    .into_response())
}

/// A new victim case as the API sends it.
#[derive(Deserialize)]
struct NewVictimJson {
    person_code: String,
    reception_kind: String,
    /// dd/mm/yyyy (or yyyy-mm-dd).
    received_on: String,
    #[serde(default)]
    commune_code: String,
    #[serde(default = "yes")]
    vietnamese: bool,
    #[serde(default = "yes")]
    in_vietnam: bool,
    #[serde(default)]
    accompanying_child: bool,
    #[serde(default)]
    officer: String,
    #[serde(default)]
    note: String,
}

fn yes() -> bool {
    true
}

async fn list_victims(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::ViewRecords>,
) -> AppResult<Json<serde_json::Value>> {
    let lists = haven_app::victims::lists(&state, &v, 500).await?;
    Ok(Json(json!({
        "awaiting_verification": lists.awaiting,
        "visits_due": lists.visits,
        "items": lists.all,
    })))
}

async fn create_victim(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::CreateRecords>,
    body: axum::body::Bytes,
) -> AppResult<Response> {
    let j: NewVictimJson = parse_json(&body)?;
    let flag = |b: bool| b.then(|| "1".to_owned());
    let form = haven_app::victims::NewVictimForm {
        person_code: j.person_code,
        reception_kind: j.reception_kind,
        received_on: j.received_on,
        commune_code: j.commune_code,
        vietnamese: flag(j.vietnamese),
        in_vietnam: flag(j.in_vietnam),
        accompanying_child: flag(j.accompanying_child),
        officer: j.officer,
        note: j.note,
    };
    match haven_app::victims::create(&state, &v, &form).await? {
        Ok(id) => Ok((StatusCode::CREATED, Json(json!(state.store.victim_case(&id).await?))).into_response()),
        Err(errors) => Ok(field_errors(&state, &v, &errors)),
    }
}

async fn victim(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::ViewRecords>,
    Path(id): Path<String>,
) -> AppResult<Json<serde_json::Value>> {
    let (case, parts) = haven_app::victims::view(&state, &v, &id).await?;
    // An agency reading the case on a referral gets only the parts the referral opens; the rest is absent.
    let st = &state.store;
    let mut out = serde_json::Map::new();
    if parts.steps {
        out.insert("steps".into(), json!(st.victim_steps(&id).await?));
    }
    if parts.support {
        let entitlements: Vec<_> = haven_app::victims::support::entitlements(&state, &case)
            .await?
            .into_iter()
            .map(|(code, standing, detail)| json!({ "regime": code, "standing": standing, "detail": detail }))
            .collect();
        out.insert("supports".into(), json!(st.supports(&id).await?));
        out.insert("entitlements".into(), json!(entitlements));
    }
    if parts.consents {
        out.insert("consents".into(), json!(st.consents(&case.person_id).await?));
    }
    let mut referrals = st.referrals_of_case(&id).await?;
    if !parts.referrals {
        referrals.retain(|r| r.to_agency_id == v.agency.id);
    }
    out.insert("referrals".into(), json!(referrals));
    if parts.context {
        out.insert("trafficking_events".into(), json!(st.trafficking_events(&id).await?));
    }
    if parts.protection {
        out.insert("protection_measures".into(), json!(st.protection_measures(&id).await?));
    }
    if parts.reintegration {
        out.insert("visits".into(), json!(st.followups(&id).await?));
        out.insert("goals".into(), json!(st.reintegration_goals(&id).await?));
    }
    out.insert("parts".into(), json!(parts));
    out.insert("case".into(), json!(case));
    Ok(Json(serde_json::Value::Object(out)))
}

/// Answer a change to a victim case: the case as it now stands, or 422 with the fields.
async fn victim_changed(
    state: &AppState,
    v: &Viewer,
    id: &str,
    outcome: haven_app::Outcome<()>,
) -> AppResult<Response> {
    respond(state, v, outcome, StatusCode::OK, async { Ok(state.store.victim_case(id).await?) }).await
}

async fn victim_step(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::EditRecords>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> AppResult<Response> {
    let form: haven_app::victims::StepForm = parse_json(&body)?;
    let outcome = haven_app::victims::record_step(&state, &v, &id, &form).await?;
    victim_changed(&state, &v, &id, outcome).await
}

async fn victim_identification(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::EditRecords>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> AppResult<Response> {
    let form: haven_app::victims::identification::IdentificationForm = parse_json(&body)?;
    let outcome = haven_app::victims::identification::propose(&state, &v, &id, &form).await?;
    victim_changed(&state, &v, &id, outcome).await
}

async fn victim_approve(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::EditRecords>,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let outcome = haven_app::victims::identification::approve(&state, &v, &id).await?;
    victim_changed(&state, &v, &id, outcome).await
}

/// A support as the API sends it.
#[derive(Deserialize)]
struct SupportJson {
    regime: String,
    given_on: String,
    #[serde(default)]
    quantity: u64,
    #[serde(default)]
    amount_vnd: u64,
    #[serde(default)]
    provider: String,
    #[serde(default)]
    acknowledged: bool,
    #[serde(default)]
    note: String,
}

async fn victim_support(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::EditRecords>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> AppResult<Response> {
    let j: SupportJson = parse_json(&body)?;
    let form = haven_app::victims::support::SupportForm {
        regime: j.regime,
        given_on: j.given_on,
        quantity: j.quantity.to_string(),
        amount_vnd: j.amount_vnd.to_string(),
        provider: j.provider,
        acknowledged: j.acknowledged.then(|| "1".to_owned()),
        note: j.note,
    };
    let outcome = haven_app::victims::support::give(&state, &v, &id, &form).await?;
    victim_changed(&state, &v, &id, outcome).await
}

async fn victim_consent(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::EditRecords>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> AppResult<Response> {
    let form: haven_app::victims::consent::ConsentForm = parse_json(&body)?;
    let case = haven_app::victims::owned(&state, &v, &id).await?;
    let outcome = haven_app::victims::consent::record(&state, &v, &id, &form).await?;
    let person = case.person_id.clone();
    respond(&state, &v, outcome, StatusCode::OK, async { Ok(state.store.consents(&person).await?) }).await
}

async fn victim_referral(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::EditRecords>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> AppResult<Response> {
    let form: haven_app::referrals::ReferralForm = parse_json(&body)?;
    let outcome = haven_app::referrals::send(&state, &v, &id, &form).await?;
    respond(&state, &v, outcome, StatusCode::OK, async { Ok(state.store.referrals_of_case(&id).await?) }).await
}

async fn victim_context(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::EditRecords>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> AppResult<Response> {
    let form: haven_app::victims::context::ContextForm = parse_json(&body)?;
    let outcome = haven_app::victims::context::set(&state, &v, &id, &form).await?;
    victim_changed(&state, &v, &id, outcome).await
}

// ---------------------------------------------------------------------------------------------------------
// People registers: absentees, review rounds, handover batches, screening and the review queue of matches.

/// The pairs a person is in, seen from their side, as the viewer may know them.
async fn pair_views(state: &AppState, v: &Viewer, person_id: &str) -> AppResult<Vec<haven_app::matches::PairView>> {
    Ok(haven_app::matches::pairs_of_person(state, v, person_id).await?)
}

/// An absentee entry with its reviews and candidate matches, for the owning agency (or a grant).
async fn absentee_json(state: &AppState, v: &Viewer, id: &str) -> AppResult<serde_json::Value> {
    let a = state.store.absentee(id).await?.ok_or(AppError::NotFound)?;
    if !haven_app::access::record_access(state, v, haven_store::registers::ABSENTEE, id, &a.owner_agency_id, &[])
        .await?
        .allowed()
    {
        return Err(AppError::Forbidden);
    }
    let reviews = state.store.reviews_of_absentee(id).await?;
    let candidates = pair_views(state, v, &a.person_id).await?;
    Ok(json!({ "absentee": a, "reviews": reviews, "candidates": candidates }))
}

#[derive(serde::Deserialize)]
struct AbsenteeQuery {
    #[serde(default)]
    commune: String,
    #[serde(default)]
    after: String,
}

async fn list_absentees(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::ViewRecords>,
    Query(q): Query<AbsenteeQuery>,
) -> AppResult<Response> {
    let opt = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
    let (commune, after) = (opt(&q.commune), opt(&q.after));
    let rows = state.store.absentees_of_agency(&v.agency.id, commune.as_deref(), after.as_deref(), 100).await?;
    Ok(Json(json!({ "absentees": rows })).into_response())
}

async fn create_absentee(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::CreateRecords>,
    body: axum::body::Bytes,
) -> AppResult<Response> {
    let form: haven_app::registers::absentees::AbsenteeForm = parse_json(&body)?;
    match haven_app::registers::absentees::add(&state, &v, &form, None, None).await? {
        Ok(id) => Ok((StatusCode::CREATED, Json(absentee_json(&state, &v, &id).await?)).into_response()),
        Err(errors) => Ok(field_errors(&state, &v, &errors)),
    }
}

async fn absentee(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::ViewRecords>,
    Path(id): Path<String>,
) -> AppResult<Response> {
    Ok(Json(absentee_json(&state, &v, &id).await?).into_response())
}

async fn absentee_review(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::EditRecords>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> AppResult<Response> {
    let form: haven_app::registers::absentees::ReviewForm = parse_json(&body)?;
    match haven_app::registers::absentees::record_review(&state, &v, &id, &form).await? {
        Ok(victim) => {
            let mut out = absentee_json(&state, &v, &id).await?;
            out["victim_case_id"] = json!(victim);
            Ok(Json(out).into_response())
        }
        Err(errors) => Ok(field_errors(&state, &v, &errors)),
    }
}

async fn list_rounds(State(state): State<AppState>, Api(v, ..): Api<guards::ViewRecords>) -> AppResult<Response> {
    let mut out = Vec::new();
    for r in state.store.rounds_of_agency(&v.agency.id).await? {
        let counts = state.store.round_counts(&v.agency.id, &r.id).await?;
        out.push(json!({ "round": r, "counts": counts }));
    }
    Ok(Json(json!({ "rounds": out })).into_response())
}

async fn create_round(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::EditRecords>,
    body: axum::body::Bytes,
) -> AppResult<Response> {
    let form: haven_app::registers::absentees::RoundForm = parse_json(&body)?;
    match haven_app::registers::absentees::create_round(&state, &v, &form).await? {
        Ok(id) => Ok((StatusCode::CREATED, Json(json!(state.store.round(&id).await?))).into_response()),
        Err(errors) => Ok(field_errors(&state, &v, &errors)),
    }
}

async fn batch_json(state: &AppState, v: &Viewer, id: &str) -> AppResult<serde_json::Value> {
    let b = state.store.batch(id).await?.ok_or(AppError::NotFound)?;
    if !haven_app::access::record_access(state, v, haven_store::registers::BATCH, id, &b.owner_agency_id, &[])
        .await?
        .allowed()
    {
        return Err(AppError::Forbidden);
    }
    let people = state.store.returnees_of_batch(id).await?;
    Ok(json!({ "batch": b, "people": people }))
}

async fn list_batches(State(state): State<AppState>, Api(v, ..): Api<guards::ViewRecords>) -> AppResult<Response> {
    Ok(Json(json!({ "handovers": state.store.batches_of_agency(&v.agency.id, 200).await? })).into_response())
}

async fn create_batch(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::CreateRecords>,
    body: axum::body::Bytes,
) -> AppResult<Response> {
    let form: haven_app::registers::handovers::BatchForm = parse_json(&body)?;
    match haven_app::registers::handovers::create_batch(&state, &v, &form).await? {
        Ok(id) => Ok((StatusCode::CREATED, Json(batch_json(&state, &v, &id).await?)).into_response()),
        Err(errors) => Ok(field_errors(&state, &v, &errors)),
    }
}

async fn batch(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::ViewRecords>,
    Path(id): Path<String>,
) -> AppResult<Response> {
    Ok(Json(batch_json(&state, &v, &id).await?).into_response())
}

async fn add_returnee(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::CreateRecords>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> AppResult<Response> {
    let form: haven_app::registers::PersonFields = parse_json(&body)?;
    let b = state.store.batch(&id).await?.ok_or(AppError::NotFound)?;
    match haven_app::registers::handovers::add_returnee(&state, &v, &b, &form, None, None).await? {
        Ok(rid) => {
            let r = state.store.returnee(&rid).await?.ok_or(AppError::NotFound)?;
            let candidates = pair_views(&state, &v, &r.person_id).await?;
            Ok((StatusCode::CREATED, Json(json!({ "returnee": r, "candidates": candidates }))).into_response())
        }
        Err(errors) => Ok(field_errors(&state, &v, &errors)),
    }
}

async fn screen_returnee(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::EditRecords>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> AppResult<Response> {
    let form: haven_app::registers::handovers::ScreeningForm = parse_json(&body)?;
    match haven_app::registers::handovers::screen(&state, &v, &id, &form).await? {
        Ok(victim) => {
            Ok(Json(json!({ "returnee": state.store.returnee(&id).await?, "victim_case_id": victim })).into_response())
        }
        Err(errors) => Ok(field_errors(&state, &v, &errors)),
    }
}

async fn list_matches(State(state): State<AppState>, Api(v, ..): Api<guards::ViewRecords>) -> AppResult<Response> {
    let out = haven_app::matches::open_pairs(&state, &v, 200).await?;
    Ok(Json(json!({ "matches": out })).into_response())
}

async fn decide_match(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::EditRecords>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> AppResult<Response> {
    let form: haven_app::matches::DecisionForm = parse_json(&body)?;
    use haven_app::matches::Decided;
    match haven_app::matches::decide(&state, &v, &id, form.decision.trim()).await? {
        Decided::Done(_) => {
            let m = state.store.candidate(&id).await?.ok_or(AppError::NotFound)?;
            let from = haven_app::matches::viewer_side(&state, &v, &m).await?;
            Ok(Json(haven_app::matches::pair_view(&state, &v, m, &from).await?).into_response())
        }
        Decided::Stale => Ok(field_errors(&state, &v, &[("decision".into(), "error.match_decided".into())])),
        Decided::Refused(key) => Ok(field_errors(&state, &v, &[("decision".into(), key.into())])),
    }
}

// ---------------------------------------------------------------------------------------------------------
// The plan: its indicators for a period (the same figures as the plan page and the reports), values entered
// by hand, and prevention activities.

async fn list_plans(State(state): State<AppState>, Api(..): Api<guards::ViewAggregates>) -> AppResult<Response> {
    Ok(Json(json!({ "plans": state.store.plans().await? })).into_response())
}

async fn plan(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::ViewAggregates>,
    Path(id): Path<String>,
    axum::extract::Query(q): axum::extract::Query<PeriodQuery>,
) -> AppResult<Response> {
    let p = state.store.plan(&id).await?.ok_or(AppError::NotFound)?;
    let period = match haven_app::plan::chosen_period(&p, &q.period) {
        Ok(period) => period,
        Err(key) => return Ok(field_errors(&state, &v, &[("period".to_owned(), key.to_owned())])),
    };
    let mut indicators = Vec::new();
    for i in state.store.plan_indicators(&p.id).await? {
        indicators.push(haven_app::plan::indicator_value(&state, &i, period, None).await?);
    }
    Ok(Json(json!({ "plan": p, "period": period.code(), "indicators": indicators })).into_response())
}

async fn plan_entry(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::CreateRecords>,
    Path((id, indicator)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> AppResult<Response> {
    let form: haven_app::plan::EntryForm = parse_json(&body)?;
    match haven_app::plan::record_entry(&state, &v, &id, &indicator, &form).await? {
        Ok(corrected) => Ok(Json(json!({ "corrected": corrected })).into_response()),
        Err(errors) => Ok(field_errors(&state, &v, &errors)),
    }
}

async fn create_prevention(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::CreateRecords>,
    body: axum::body::Bytes,
) -> AppResult<Response> {
    let b: PreventionJson = parse_json(&body)?;
    match haven_app::prevention::create(&state, &v, &b.into_form()).await? {
        Ok(id) => Ok((StatusCode::CREATED, Json(json!({ "id": id }))).into_response()),
        Err(errors) => Ok(field_errors(&state, &v, &errors)),
    }
}

// ---------------------------------------------------------------------------------------------------------
// International cooperation: the agency's requests to and from foreign authorities, and new ones.

#[derive(Deserialize)]
struct CooperationQuery {
    #[serde(default)]
    list: String,
}

async fn list_cooperation(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::ViewRecords>,
    axum::extract::Query(q): axum::extract::Query<CooperationQuery>,
) -> AppResult<Response> {
    let today = state.today();
    let (awaiting, overdue) = state.store.cooperation_counts(&v.agency.id, today).await?;
    let mut requests = Vec::new();
    for r in state.store.cooperation_of_agency(&v.agency.id, 500).await? {
        let status = r.status(today);
        if haven_app::cooperation::listed(Some(q.list.as_str()), status).1 {
            let mut line = serde_json::to_value(&r).map_err(|e| AppError::Internal(e.into()))?;
            line["status"] = json!(status.code());
            requests.push(line);
        }
    }
    Ok(Json(json!({ "awaiting": awaiting, "overdue": overdue, "requests": requests })).into_response())
}

async fn create_cooperation(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::CreateRecords>,
    body: axum::body::Bytes,
) -> AppResult<Response> {
    let form: haven_app::cooperation::RequestForm = parse_json(&body)?;
    match haven_app::cooperation::create(&state, &v, &form).await? {
        Ok(id) => {
            let r = state.store.cooperation_request(&id).await?.ok_or(AppError::NotFound)?;
            Ok((StatusCode::CREATED, Json(json!({ "id": id, "case_code": r.case_code, "due_on": r.due_on })))
                .into_response())
        }
        Err(errors) => Ok(field_errors(&state, &v, &errors)),
    }
}

#[derive(Deserialize, Default)]
struct PeriodQuery {
    #[serde(default)]
    period: String,
}

/// A prevention activity as the API sends it: numbers as numbers, groups as an object of counts.
#[derive(Clone, Debug, Deserialize)]
struct PreventionJson {
    title: String,
    held_on: String,
    #[serde(default)]
    commune_code: String,
    organiser: String,
    channel: String,
    #[serde(default)]
    women: i64,
    #[serde(default)]
    men: i64,
    #[serde(default)]
    materials: i64,
    #[serde(default)]
    groups: std::collections::BTreeMap<String, i64>,
}

impl PreventionJson {
    /// The same checks as the page's form: numbers go through as typed, so a negative one is refused alike.
    fn into_form(self) -> haven_app::prevention::PreventionForm {
        haven_app::prevention::PreventionForm {
            title: self.title,
            held_on: self.held_on,
            commune_code: self.commune_code,
            organiser: self.organiser,
            channel: self.channel,
            women: self.women.to_string(),
            men: self.men.to_string(),
            materials: self.materials.to_string(),
            groups: self.groups.into_iter().map(|(g, n)| (g, n.to_string())).collect(),
        }
    }
}
