//! Administration (the system administrator's roles): users, their roles, status and passwords; agencies;
//! and which roles must use a second factor. The use cases are `haven_app::admin`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use haven_app::admin as app;
use haven_domain::Role;
use haven_store::accounts::User;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::directory::AgencyOut;
use super::{answer, ok, Api, Body};
use crate::ctx::{self as guards};
use crate::error::{AppError, AppResult};
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(users, create_user))
        .routes(routes!(user))
        .routes(routes!(roles))
        .routes(routes!(status))
        .routes(routes!(password))
        .routes(routes!(create_agency))
        .routes(routes!(policy, set_policy))
}

#[derive(Serialize, ToSchema)]
pub struct UserOut {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub agency_id: String,
    pub roles: Vec<String>,
    pub language: String,
    pub disabled: bool,
    pub totp_enabled: bool,
    /// Roles asked for and waiting for a second person's approval (the whole set the account would hold).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub pending_roles: Vec<String>,
}

impl From<User> for UserOut {
    fn from(u: User) -> Self {
        UserOut {
            roles: u.roles.iter().map(super::role_code).collect(),
            id: u.id,
            username: u.username,
            display_name: u.display_name,
            agency_id: u.agency_id,
            language: u.lang,
            disabled: u.disabled,
            totp_enabled: u.totp_enabled,
            pending_roles: Vec::new(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct UserList {
    pub items: Vec<UserOut>,
}

/// Every user.
#[utoipa::path(get, path = "/admin/users", tag = "admin", responses((status = 200, body = UserList)))]
async fn users(State(state): State<AppState>, Api(..): Api<guards::ManageUsers>) -> AppResult<Response> {
    Ok(ok(UserList { items: state.store.users(None).await?.into_iter().map(UserOut::from).collect() }))
}

fn roles_of(codes: &[String]) -> Result<Vec<Role>, AppError> {
    codes
        .iter()
        .map(|c| {
            serde_json::from_value(serde_json::Value::String(c.clone()))
                .map_err(|_| AppError::BadRequest("role".into()))
        })
        .collect()
}

#[derive(Deserialize, ToSchema)]
pub struct UserIn {
    pub username: String,
    pub display_name: String,
    pub agency_id: String,
    pub password: String,
    /// `system_admin`, `agency_head`, `case_officer`, `data_entry`, `analyst`, `auditor`.
    pub roles: Vec<String>,
}

/// Create a user.
#[utoipa::path(post, path = "/admin/users", tag = "admin", request_body = UserIn, responses((status = 201, body = UserOut)))]
async fn create_user(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::ManageUsers>,
    Body(u): Body<UserIn>,
) -> AppResult<Response> {
    let form = app::NewUserForm {
        roles: roles_of(&u.roles)?,
        username: u.username,
        display_name: u.display_name,
        agency_id: u.agency_id,
        password: u.password,
    };
    let outcome = app::create_user(&state, &v, &form).await?;
    let (st, viewer) = (&state, &v);
    answer(&state, &v, outcome, StatusCode::CREATED, |id| async move { user_out(st, viewer, &id).await }).await
}

/// A user.
#[utoipa::path(get, path = "/admin/users/{id}", tag = "admin", params(("id" = String, Path)), responses((status = 200, body = UserOut)))]
async fn user(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::ManageUsers>,
    Path(id): Path<String>,
) -> AppResult<Response> {
    Ok(ok(user_out(&state, &v, &id).await?))
}

async fn changed(
    state: &AppState,
    v: &crate::ctx::Viewer,
    id: &str,
    outcome: haven_app::Outcome<()>,
) -> AppResult<Response> {
    answer(state, v, outcome, StatusCode::OK, |()| async { user_out(state, v, id).await }).await
}

/// A user with the roles waiting for approval, if any.
async fn user_out(state: &AppState, v: &crate::ctx::Viewer, id: &str) -> AppResult<UserOut> {
    let mut out = UserOut::from(app::user(state, v, id).await?);
    if let Some(p) = state.store.pending_role_request_of(id).await? {
        out.pending_roles = p.roles.iter().map(super::role_code).collect();
    }
    Ok(out)
}

#[derive(Deserialize, ToSchema)]
pub struct RolesIn {
    pub roles: Vec<String>,
}

/// Set a user's roles (never one's own). A role that reads identities is asked for, not given: the answer is
/// 202 with `pending_roles` until another administrator or a head of the user's agency approves it.
#[utoipa::path(put, path = "/admin/users/{id}/roles", tag = "admin", params(("id" = String, Path)), request_body = RolesIn, responses((status = 200, body = UserOut), (status = 202, body = UserOut)))]
async fn roles(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::ManageUsers>,
    Path(id): Path<String>,
    Body(r): Body<RolesIn>,
) -> AppResult<Response> {
    let outcome = app::set_roles(&state, &v, &id, &roles_of(&r.roles)?).await?;
    // A role that reads identities waits for a second person: 202, with the roles asked for.
    let status = match outcome {
        Ok(app::RolesChange::Pending) => StatusCode::ACCEPTED,
        _ => StatusCode::OK,
    };
    let (st, viewer) = (&state, &v);
    answer(&state, &v, outcome, status, |_| async move { user_out(st, viewer, &id).await }).await
}

#[derive(Deserialize, ToSchema)]
pub struct StatusIn {
    /// Disabling ends the user's sessions and revokes their tokens.
    pub disabled: bool,
}

/// Disable a user, or enable them again (never oneself).
#[utoipa::path(put, path = "/admin/users/{id}/status", tag = "admin", params(("id" = String, Path)), request_body = StatusIn, responses((status = 200, body = UserOut)))]
async fn status(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::ManageUsers>,
    Path(id): Path<String>,
    Body(s): Body<StatusIn>,
) -> AppResult<Response> {
    let outcome = app::set_disabled(&state, &v, &id, s.disabled).await?;
    changed(&state, &v, &id, outcome).await
}

#[derive(Deserialize, ToSchema)]
pub struct PasswordIn {
    pub password: String,
}

/// Give a user a new password (their sessions end).
#[utoipa::path(put, path = "/admin/users/{id}/password", tag = "admin", params(("id" = String, Path)), request_body = PasswordIn, responses((status = 200, body = UserOut)))]
async fn password(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::ManageUsers>,
    Path(id): Path<String>,
    Body(p): Body<PasswordIn>,
) -> AppResult<Response> {
    let outcome = app::reset_password(&state, &v, &id, &p.password).await?;
    changed(&state, &v, &id, outcome).await
}

#[derive(Deserialize, ToSchema)]
pub struct AgencyIn {
    /// Lowercase letters and dashes.
    pub code: String,
    pub name_vi: String,
    pub name_en: String,
    pub kind: String,
    /// The province's or a commune's code.
    pub unit_code: String,
    /// `intake;investigate`, ...
    #[serde(default)]
    pub functions: String,
}

/// Add an agency to the directory.
#[utoipa::path(post, path = "/admin/agencies", tag = "admin", request_body = AgencyIn, responses((status = 201, body = AgencyOut)))]
async fn create_agency(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::ManageAgencies>,
    Body(a): Body<AgencyIn>,
) -> AppResult<Response> {
    let form = app::AgencyForm {
        code: a.code,
        name_vi: a.name_vi,
        name_en: a.name_en,
        kind: a.kind,
        unit_code: a.unit_code,
        functions: a.functions,
    };
    let outcome = app::create_agency(&state, &v, &form).await?;
    let st = &state;
    answer(&state, &v, outcome, StatusCode::CREATED, |id| async move {
        let agency = st.store.agency(&id).await?.ok_or(AppError::NotFound)?;
        Ok(AgencyOut::from(&agency))
    })
    .await
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct PolicyIo {
    /// The roles that must use a second factor.
    pub roles_requiring_totp: Vec<String>,
}

/// Which roles must use a second factor.
#[utoipa::path(get, path = "/admin/security", tag = "admin", responses((status = 200, body = PolicyIo)))]
async fn policy(State(state): State<AppState>, Api(v, ..): Api<guards::ManageSecurity>) -> AppResult<Response> {
    let roles = app::roles_requiring_totp(&state, &v).await?;
    Ok(ok(PolicyIo { roles_requiring_totp: roles.iter().map(super::role_code).collect() }))
}

/// Choose the roles that must use a second factor.
#[utoipa::path(put, path = "/admin/security", tag = "admin", request_body = PolicyIo, responses((status = 200, body = PolicyIo)))]
async fn set_policy(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::ManageSecurity>,
    Body(p): Body<PolicyIo>,
) -> AppResult<Response> {
    app::set_totp_policy(&state, &v, &roles_of(&p.roles_requiring_totp)?).await?;
    let roles = app::roles_requiring_totp(&state, &v).await?;
    Ok(ok(PolicyIo { roles_requiring_totp: roles.iter().map(super::role_code).collect() }))
}
