//! Administration: users and their roles, agencies, and the security policy (which roles need a second
//! factor). Only the system administrator's role permits these.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use haven_app::admin::{self as app, AgencyForm, AGENCY_KINDS};
use haven_domain::Role;
use haven_store::accounts::User;
use haven_store::directory::Agency;
use haven_store::role_requests::RoleRequest;
use serde::Deserialize;

use crate::ctx::{self as guards, Can, CsrfForm, Viewer};
use crate::error::{AppError, AppResult};
use crate::page::{ok, render, Ctx, FormState};
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/users", get(users).post(create_user))
        .route("/admin/users/{id}", get(user_page))
        .route("/admin/users/{id}/roles", post(set_roles))
        .route("/admin/users/{id}/status", post(set_status))
        .route("/admin/users/{id}/password", post(reset_password))
        .route("/admin/agencies", get(agencies).post(create_agency))
        .route("/admin/security", get(security).post(set_security))
        .route("/roles/requests", get(role_requests))
        .route("/roles/requests/{id}/{answer}", post(answer_role_request))
}

fn roles_from(pairs: &[(String, String)]) -> Vec<Role> {
    pairs.iter().filter(|(k, _)| k == "role").filter_map(|(_, v)| Role::from_code(v)).collect()
}

pub struct UserLine {
    pub u: User,
    pub agency: String,
    pub roles: Vec<&'static str>,
}

#[derive(Template)]
#[template(path = "admin_users.html")]
struct UsersPage {
    c: Ctx,
    f: FormState,
    users: Vec<UserLine>,
    agencies: Vec<(String, String)>,
    all_roles: Vec<&'static str>,
}

async fn users_page(state: &AppState, c: Ctx, f: FormState, status: StatusCode) -> AppResult<Response> {
    let agencies = state.store.agencies().await?;
    let name = |id: &str| {
        agencies
            .iter()
            .find(|a| a.id == id)
            .map(|a| c.agency_label(&a.name_vi, &a.name_en).to_owned())
            .unwrap_or_default()
    };
    let users = state
        .store
        .users(None)
        .await?
        .into_iter()
        .map(|u| UserLine { agency: name(&u.agency_id), roles: u.roles.iter().map(|r| r.code()).collect(), u })
        .collect();
    let agency_choices =
        agencies.iter().map(|a| (a.id.clone(), c.agency_label(&a.name_vi, &a.name_en).to_owned())).collect();
    let page =
        UsersPage { c, f, users, agencies: agency_choices, all_roles: Role::ALL.iter().map(|r| r.code()).collect() };
    Ok(render(status, &page))
}

async fn users(State(state): State<AppState>, Can(..): Can<guards::ManageUsers>, c: Ctx) -> AppResult<Response> {
    users_page(&state, c, FormState::default(), StatusCode::OK).await
}

#[derive(Deserialize)]
struct NewUserForm {
    username: String,
    display_name: String,
    agency_id: String,
    password: String,
}

async fn create_user(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::ManageUsers>,
    c: Ctx,
    CsrfForm(form, pairs): CsrfForm<NewUserForm>,
) -> AppResult<Response> {
    let form = app::NewUserForm {
        username: form.username,
        display_name: form.display_name,
        agency_id: form.agency_id,
        password: form.password,
        roles: roles_from(&pairs),
    };
    match app::create_user(&state, &viewer, &form).await? {
        Ok(id) => Ok(Redirect::to(&format!("/admin/users/{id}?done=user_created")).into_response()),
        Err(errors) => {
            users_page(&state, c, FormState::with_errors(&pairs, errors), StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

#[derive(Template)]
#[template(path = "admin_user.html")]
struct UserPage {
    c: Ctx,
    f: FormState,
    u: User,
    agency: String,
    all_roles: Vec<&'static str>,
    /// A change of roles waiting for a second person, and whether the viewer may answer it.
    pending: Option<RoleRequest>,
    can_answer: bool,
}

impl UserPage {
    fn has(&self, role: &&str) -> bool {
        self.u.roles.iter().any(|r| r.code() == *role)
    }
}

async fn user_view(
    state: &AppState,
    viewer: &Viewer,
    c: Ctx,
    id: &str,
    f: FormState,
    status: StatusCode,
) -> AppResult<Response> {
    let u = state.store.user(id).await?.ok_or(AppError::NotFound)?;
    let pending = state.store.pending_role_request_of(&u.id).await?;
    let can_answer = pending.as_ref().is_some_and(|r| app::may_answer(viewer, r));
    let agency = state
        .store
        .agency(&u.agency_id)
        .await?
        .map(|a| c.agency_label(&a.name_vi, &a.name_en).to_owned())
        .unwrap_or_default();
    let all_roles = Role::ALL.iter().map(|r| r.code()).collect();
    Ok(render(status, &UserPage { c, f, u, agency, all_roles, pending, can_answer }))
}

async fn user_page(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::ManageUsers>,
    c: Ctx,
    Path(id): Path<String>,
) -> AppResult<Response> {
    user_view(&state, &viewer, c, &id, FormState::default(), StatusCode::OK).await
}

#[derive(Deserialize)]
struct Empty {}

/// After a change to a user: their page with a confirmation, or again with what to correct.
async fn user_answer(
    state: &AppState,
    viewer: &Viewer,
    c: Ctx,
    id: &str,
    pairs: &[(String, String)],
    outcome: haven_app::Outcome<()>,
    done: &str,
) -> AppResult<Response> {
    match outcome {
        Ok(()) => Ok(Redirect::to(&format!("/admin/users/{id}?done={done}")).into_response()),
        Err(errors) => {
            let f = FormState::with_errors(pairs, errors);
            user_view(state, viewer, c, id, f, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

async fn set_roles(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::ManageUsers>,
    c: Ctx,
    Path(id): Path<String>,
    CsrfForm(_, pairs): CsrfForm<Empty>,
) -> AppResult<Response> {
    let outcome = app::set_roles(&state, &viewer, &id, &roles_from(&pairs)).await?;
    let done = match outcome {
        Ok(app::RolesChange::Pending) => "roles_pending",
        _ => "saved",
    };
    user_answer(&state, &viewer, c, &id, &pairs, outcome.map(|_| ()), done).await
}

#[derive(Deserialize)]
struct StatusForm {
    disabled: String,
}

async fn set_status(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::ManageUsers>,
    c: Ctx,
    Path(id): Path<String>,
    CsrfForm(form, pairs): CsrfForm<StatusForm>,
) -> AppResult<Response> {
    let outcome = app::set_disabled(&state, &viewer, &id, form.disabled == "1").await?;
    user_answer(&state, &viewer, c, &id, &pairs, outcome, "saved").await
}

#[derive(Deserialize)]
struct ResetForm {
    password: String,
}

async fn reset_password(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::ManageUsers>,
    c: Ctx,
    Path(id): Path<String>,
    CsrfForm(form, pairs): CsrfForm<ResetForm>,
) -> AppResult<Response> {
    let outcome = app::reset_password(&state, &viewer, &id, &form.password).await?;
    user_answer(&state, &viewer, c, &id, &pairs, outcome, "password_reset").await
}

#[derive(Template)]
#[template(path = "admin_agencies.html")]
struct AgenciesPage {
    c: Ctx,
    f: FormState,
    agencies: Vec<Agency>,
    units: Vec<(String, String)>,
    kinds: &'static [&'static str],
}

async fn agencies_page(state: &AppState, c: Ctx, f: FormState, status: StatusCode) -> AppResult<Response> {
    let mut units =
        vec![(state.config.province.clone(), state.store.unit_name(&state.config.province).await?.unwrap_or_default())];
    units.extend(state.store.communes(&state.config.province).await?);
    let page = AgenciesPage { c, f, agencies: state.store.agencies().await?.to_vec(), units, kinds: AGENCY_KINDS };
    Ok(render(status, &page))
}

async fn agencies(State(state): State<AppState>, Can(..): Can<guards::ManageAgencies>, c: Ctx) -> AppResult<Response> {
    agencies_page(&state, c, FormState::default(), StatusCode::OK).await
}

async fn create_agency(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::ManageAgencies>,
    c: Ctx,
    CsrfForm(form, pairs): CsrfForm<AgencyForm>,
) -> AppResult<Response> {
    match app::create_agency(&state, &viewer, &form).await? {
        Ok(_) => Ok(Redirect::to("/admin/agencies?done=agency_created").into_response()),
        Err(errors) => {
            agencies_page(&state, c, FormState::with_errors(&pairs, errors), StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

#[derive(Template)]
#[template(path = "admin_security.html")]
struct SecurityPage {
    c: Ctx,
    roles: Vec<(&'static str, bool)>,
}

async fn security(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::ManageSecurity>,
    c: Ctx,
) -> AppResult<Response> {
    let required = app::roles_requiring_totp(&state, &viewer).await?;
    let roles = Role::ALL.iter().map(|r| (r.code(), required.contains(r))).collect();
    Ok(ok(&SecurityPage { c, roles }))
}

async fn set_security(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::ManageSecurity>,
    CsrfForm(_, pairs): CsrfForm<Empty>,
) -> AppResult<Response> {
    app::set_totp_policy(&state, &viewer, &roles_from(&pairs)).await?;
    Ok(Redirect::to("/admin/security?done=saved").into_response())
}

/// A role request as the approver reads it.
pub struct RequestLine {
    pub r: RoleRequest,
    pub agency: String,
    pub roles: Vec<&'static str>,
    /// What the account holds now.
    pub current: Vec<&'static str>,
}

#[derive(Template)]
#[template(path = "role_requests.html")]
struct RoleRequestsPage {
    c: Ctx,
    f: FormState,
    requests: Vec<RequestLine>,
}

async fn role_requests_page(
    state: &AppState,
    viewer: &Viewer,
    c: Ctx,
    f: FormState,
    status: StatusCode,
) -> AppResult<Response> {
    let agencies = state.store.agencies().await?;
    let mut requests = Vec::new();
    for r in app::role_requests_for(state, viewer).await? {
        let agency = agencies
            .iter()
            .find(|a| a.id == r.agency_id)
            .map(|a| c.agency_label(&a.name_vi, &a.name_en).to_owned())
            .unwrap_or_default();
        let current = state.store.user(&r.user_id).await?.map(|u| u.roles).unwrap_or_default();
        requests.push(RequestLine {
            roles: r.roles.iter().map(|x| x.code()).collect(),
            current: current.iter().map(|x| x.code()).collect(),
            agency,
            r,
        });
    }
    Ok(render(status, &RoleRequestsPage { c, f, requests }))
}

/// Role changes waiting for the viewer's approval: another administrator's requests, or (for a head) those
/// for the accounts of their agency.
async fn role_requests(State(state): State<AppState>, viewer: Viewer, c: Ctx) -> AppResult<Response> {
    role_requests_page(&state, &viewer, c, FormState::default(), StatusCode::OK).await
}

async fn answer_role_request(
    State(state): State<AppState>,
    viewer: Viewer,
    c: Ctx,
    Path((id, answer)): Path<(String, String)>,
    CsrfForm(_, pairs): CsrfForm<Empty>,
) -> AppResult<Response> {
    let approve = match answer.as_str() {
        "approve" => true,
        "decline" => false,
        _ => return Err(AppError::NotFound),
    };
    match app::answer_role_request(&state, &viewer, &id, approve).await? {
        Ok(()) => {
            let done = if approve { "roles_approved" } else { "roles_declined" };
            Ok(Redirect::to(&format!("/roles/requests?done={done}")).into_response())
        }
        Err(errors) => {
            // The request answered is no longer listed: the message points at the list as a whole.
            let errors = errors.into_iter().map(|(_, key)| ("role-requests-title".to_owned(), key)).collect();
            let f = FormState::with_errors(&pairs, errors);
            role_requests_page(&state, &viewer, c, f, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}
