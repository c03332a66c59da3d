//! Victim case pages: the work lists, reception, the case page ([`case`]) and its forms. The use cases are
//! `haven_app::victims`.

mod case;
mod list;
mod parts;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use haven_app::referrals::ReferralForm;
use haven_app::sharing::GrantForm;
use haven_app::victims::consent::ConsentForm;
use haven_app::victims::context::{ContextForm, EventForm};
use haven_app::victims::handover::HandoverForm;
use haven_app::victims::identification::{IdentificationForm, ReturnForm};
use haven_app::victims::reintegration::{self, GoalForm, GoalStatusForm, MeasureForm, ScheduleForm, VisitForm};
use haven_app::victims::support::SupportForm;
use haven_app::victims::{self as app, CloseForm, NewVictimForm, ReopenForm, StepForm};
use haven_app::Outcome;
use haven_domain::format::parse_date;
use haven_domain::victims::RECEPTION_KINDS;
use haven_store::victims::KIND;
use serde::Deserialize;

use crate::ctx::{self as guards, Can, CsrfForm, Viewer};
use crate::error::AppResult;
use crate::page::{render, Ctx, FormState};
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/victims", get(list::list).post(create))
        .route("/victims/new", get(new_form))
        .route("/victims/download", post(list::download))
        .route("/victims/{id}", get(show))
        .route("/victims/{id}/steps", post(step))
        .route("/victims/{id}/identification", post(propose))
        .route("/victims/{id}/approve", post(approve))
        .route("/victims/{id}/return", post(send_back))
        .route("/victims/{id}/certificate", get(certificate))
        .route("/victims/{id}/handover", post(hand_over))
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
    let today = haven_domain::format::date(state.today());
    Ok(render(status, &NewPage { c, f, kinds: RECEPTION_KINDS, communes, today }))
}

async fn new_form(State(state): State<AppState>, Can(..): Can<guards::CreateRecords>, c: Ctx) -> AppResult<Response> {
    new_page(&state, c, FormState::default(), StatusCode::OK).await
}

async fn create(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::CreateRecords>,
    c: Ctx,
    CsrfForm(form, pairs): CsrfForm<NewVictimForm>,
) -> AppResult<Response> {
    match app::create(&state, &viewer, &form).await? {
        Ok(id) => Ok(Redirect::to(&format!("/victims/{id}?done=victim_received")).into_response()),
        Err(errors) => {
            let f = FormState::with_errors(&pairs, errors);
            new_page(&state, c, f, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

#[derive(Deserialize)]
struct ShowQuery {
    /// The part of the case to show open (`?open=support`); unknown names open none.
    open: Option<String>,
}

async fn show(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::ViewRecords>,
    c: Ctx,
    Path(id): Path<String>,
    Query(q): Query<ShowQuery>,
) -> AppResult<Response> {
    let v = app::visible(&state, &viewer, &id).await?;
    let open = q.open.as_deref().and_then(parts::part_named);
    case::page(&state, &viewer, c, v, FormState::default(), open, StatusCode::OK).await
}

/// Answer a form on the case page: back to the page with a confirmation and the form's part open, or the
/// page again with the errors, the part open on them.
#[allow(clippy::too_many_arguments)]
async fn answer<T>(
    state: &AppState,
    viewer: &Viewer,
    c: Ctx,
    id: &str,
    pairs: &[(String, String)],
    outcome: Outcome<T>,
    done: &str,
    part: &'static str,
) -> AppResult<Response> {
    match outcome {
        Ok(_) => Ok(Redirect::to(&format!("/victims/{id}?done={done}&open={part}")).into_response()),
        Err(errors) => {
            let v = app::visible(state, viewer, id).await?;
            let f = FormState::with_errors(pairs, errors);
            case::page(state, viewer, c, v, f, Some(part), StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

/// A form on the case page: its use case, then [`answer`].
macro_rules! case_form {
    ($name:ident, $guard:ty, $form:ty, $use_case:path, $done:literal, $part:literal) => {
        async fn $name(
            State(state): State<AppState>,
            Can(viewer, ..): Can<$guard>,
            c: Ctx,
            Path(id): Path<String>,
            CsrfForm(form, pairs): CsrfForm<$form>,
        ) -> AppResult<Response> {
            let outcome = $use_case(&state, &viewer, &id, &form).await?;
            answer(&state, &viewer, c, &id, &pairs, outcome, $done, $part).await
        }
    };
}

case_form!(step, guards::EditRecords, StepForm, app::record_step, "step_recorded", "steps");
case_form!(give, guards::EditRecords, SupportForm, app::support::give, "support_recorded", "support");
case_form!(consent, guards::EditRecords, ConsentForm, app::consent::record, "consent_recorded", "consents");
case_form!(event, guards::EditRecords, EventForm, app::context::add_event, "event_recorded", "context");
case_form!(measure, guards::EditRecords, MeasureForm, reintegration::add_measure, "measure_recorded", "protection");
case_form!(goal, guards::EditRecords, GoalForm, reintegration::add_goal, "goal_recorded", "reintegration");
case_form!(
    schedule,
    guards::EditRecords,
    ScheduleForm,
    reintegration::schedule_visits,
    "visits_scheduled",
    "reintegration"
);
case_form!(visit, guards::EditRecords, VisitForm, reintegration::record_visit, "visit_recorded", "reintegration");
case_form!(close, guards::EditRecords, CloseForm, app::close, "case_closed", "reintegration");
case_form!(refer, guards::EditRecords, ReferralForm, haven_app::referrals::send, "referral_sent", "referrals");
case_form!(
    send_back,
    guards::EditRecords,
    ReturnForm,
    app::identification::send_back,
    "identification_returned",
    "identification"
);

/// Propose handing the case over (its use case answers the handover's id, which the page does not need).
async fn propose_handover(
    state: &AppState,
    caller: &Viewer,
    id: &str,
    form: &HandoverForm,
) -> haven_app::Result<Outcome<()>> {
    // The case page also holds the referral form, whose agency field has the same name: on the page the
    // handover's is `handover_to_agency`, so that each error lands on its own form.
    Ok(app::handover::propose(state, caller, id, form).await?.map(|_| ()).map_err(|errors| {
        errors
            .into_iter()
            .map(
                |(field, key)| if field == "to_agency" { ("handover_to_agency".to_owned(), key) } else { (field, key) },
            )
            .collect()
    }))
}
case_form!(hand_over, guards::EditRecords, HandoverForm, propose_handover, "handover_proposed", "custody");

/// The identification certificate, printable on one A4 page.
#[derive(Template)]
#[template(path = "victim_certificate.html")]
struct CertificatePage {
    c: Ctx,
    cert: app::identification::Certificate,
    agency: String,
    decided_on: String,
    birth: String,
    sex: String,
}

async fn certificate(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::ViewIdentity>,
    c: Ctx,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let cert = app::identification::certificate(&state, &viewer, &id).await?;
    let agency = c.agency_label(&viewer.agency.name_vi, &viewer.agency.name_en).to_owned();
    let place = crate::views::plan_report::place(&state).await?;
    let decided_on = cert
        .case
        .identified_on
        .as_deref()
        .and_then(parse_date)
        .map(|d| crate::views::plan_report::place_date(c.lang, &place, d))
        .unwrap_or_default();
    let birth = cert.person.identity.birth_date.clone().unwrap_or_default();
    let sex = c.tk("sex", &cert.person.identity.sex).to_owned();
    Ok(render(StatusCode::OK, &CertificatePage { c, cert, agency, decided_on, birth, sex }))
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
    let form = IdentificationForm {
        outcome: form.outcome,
        decided_on: form.decided_on,
        legal_basis: form.legal_basis,
        evidence: pairs.iter().filter(|(k, _)| k == "evidence").map(|(_, v)| v.clone()).collect(),
        certificate_number: form.certificate_number,
        reasons: form.reasons,
    };
    let outcome = app::identification::propose(&state, &viewer, &id, &form).await?;
    answer(&state, &viewer, c, &id, &pairs, outcome, "identification_proposed", "identification").await
}

#[derive(Deserialize)]
struct Empty {}

async fn approve(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::EditRecords>,
    c: Ctx,
    Path(id): Path<String>,
    CsrfForm(_, pairs): CsrfForm<Empty>,
) -> AppResult<Response> {
    let outcome = app::identification::approve(&state, &viewer, &id).await?;
    answer(&state, &viewer, c, &id, &pairs, outcome, "identification_approved", "identification").await
}

async fn withdraw(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::EditRecords>,
    Path((id, consent_id)): Path<(String, String)>,
    CsrfForm(_, _): CsrfForm<Empty>,
) -> AppResult<Response> {
    app::consent::withdraw(&state, &viewer, &id, &consent_id).await?;
    Ok(Redirect::to(&format!("/victims/{id}?done=consent_withdrawn&open=consents")).into_response())
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

async fn context(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::EditRecords>,
    c: Ctx,
    Path(id): Path<String>,
    CsrfForm(form, pairs): CsrfForm<ContextPageForm>,
) -> AppResult<Response> {
    let all = |name: &str| pairs.iter().filter(|(k, _)| k == name).map(|(_, v)| v.clone()).collect::<Vec<_>>();
    let form = ContextForm {
        exploitation: all("exploitation"),
        control: all("control"),
        recruitment: all("recruitment"),
        relationship: form.relationship,
        destination_country: form.destination_country,
        wishes: form.wishes,
    };
    let outcome = app::context::set(&state, &viewer, &id, &form).await?;
    answer(&state, &viewer, c, &id, &pairs, outcome, "context_recorded", "context").await
}

/// A goal of the plan is met or dropped.
async fn goal_status(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::EditRecords>,
    c: Ctx,
    Path((id, goal)): Path<(String, String)>,
    CsrfForm(form, pairs): CsrfForm<GoalStatusForm>,
) -> AppResult<Response> {
    let outcome = reintegration::set_goal_status(&state, &viewer, &id, &goal, &form).await?;
    answer(&state, &viewer, c, &id, &pairs, outcome, "goal_recorded", "reintegration").await
}

/// The person was trafficked again: a new case for the same person, linked to this one.
async fn reopen(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::CreateRecords>,
    c: Ctx,
    Path(id): Path<String>,
    CsrfForm(form, pairs): CsrfForm<ReopenForm>,
) -> AppResult<Response> {
    match app::reopen(&state, &viewer, &id, &form).await? {
        Ok(new_id) => Ok(Redirect::to(&format!("/victims/{new_id}?done=victim_reopened")).into_response()),
        Err(errors) => answer::<()>(&state, &viewer, c, &id, &pairs, Err(errors), "", "reintegration").await,
    }
}

async fn grant(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::GrantAccess>,
    c: Ctx,
    Path(id): Path<String>,
    CsrfForm(form, pairs): CsrfForm<GrantForm>,
) -> AppResult<Response> {
    let outcome = haven_app::sharing::share(&state, &viewer, KIND, &id, &form).await?;
    answer(&state, &viewer, c, &id, &pairs, outcome, "grant_created", "consents").await
}

async fn revoke(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::GrantAccess>,
    Path((id, grant_id)): Path<(String, String)>,
    CsrfForm(_, _): CsrfForm<Empty>,
) -> AppResult<Response> {
    haven_app::sharing::revoke(&state, &viewer, KIND, &id, &grant_id).await?;
    Ok(Redirect::to(&format!("/victims/{id}?done=grant_revoked&open=consents")).into_response())
}

#[cfg(test)]
mod tests {
    use crate::i18n::I18n;
    use haven_app::victims::{COUNTRIES, STEP_KINDS};
    use haven_domain::format::Lang;
    use haven_domain::victims::consent;
    use haven_domain::victims::support;
    use haven_domain::victims::{self as rules, htcds, Status, EVIDENCE, RECEPTION_KINDS};

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
        let profile = haven_app::Profile::embedded();
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
