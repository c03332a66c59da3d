//! Administration: users and their roles, agencies, and the security policy (which roles need a second
//! factor). Only the system administrator's role permits these.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use haven_domain::account::{check_password, valid_username};
use haven_domain::profile::AgencyDef;
use haven_domain::Role;
use haven_store::accounts::{self, NewUser, User};
use haven_store::directory::{self, Agency};
use serde::Deserialize;

use crate::ctx::{self as guards, Can, CsrfForm};
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
    let mut f = FormState::from_pairs(&pairs);
    let username = form.username.trim().to_lowercase();
    if !valid_username(&username) {
        f.add("username", "error.username");
    } else if state.store.user_by_name(&username).await?.is_some() {
        f.add("username", "error.username_taken");
    }
    let display = form.display_name.trim();
    if display.is_empty() || display.chars().count() > 200 {
        f.add("display_name", "error.required");
    }
    if state.store.agency(&form.agency_id).await?.is_none() {
        f.add("agency_id", "error.choice");
    }
    let roles = roles_from(&pairs);
    if roles.is_empty() {
        f.add("roles", "error.roles");
    }
    if let Err(e) = check_password(&username, &form.password) {
        f.add("password", e.key());
    }
    if f.has_errors() {
        return users_page(&state, c, f, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let hash = accounts::hash_password(form.password).await?;
    let mut cmd = state.store.command(&viewer.actor()).await?;
    let id = accounts::create_user(
        &mut cmd,
        &NewUser {
            username: &username,
            display_name: display,
            agency_id: &form.agency_id,
            roles: &roles,
            password_hash: &hash,
        },
    )
    .await?;
    cmd.commit().await?;
    Ok(Redirect::to(&format!("/admin/users/{id}?done=user_created")).into_response())
}

#[derive(Template)]
#[template(path = "admin_user.html")]
struct UserPage {
    c: Ctx,
    f: FormState,
    u: User,
    agency: String,
    all_roles: Vec<&'static str>,
}

impl UserPage {
    fn has(&self, role: &&str) -> bool {
        self.u.roles.iter().any(|r| r.code() == *role)
    }
}

async fn user_view(state: &AppState, c: Ctx, id: &str, f: FormState, status: StatusCode) -> AppResult<Response> {
    let u = state.store.user(id).await?.ok_or(AppError::NotFound)?;
    let agency = state
        .store
        .agency(&u.agency_id)
        .await?
        .map(|a| c.agency_label(&a.name_vi, &a.name_en).to_owned())
        .unwrap_or_default();
    Ok(render(status, &UserPage { c, f, u, agency, all_roles: Role::ALL.iter().map(|r| r.code()).collect() }))
}

async fn user_page(
    State(state): State<AppState>,
    Can(..): Can<guards::ManageUsers>,
    c: Ctx,
    Path(id): Path<String>,
) -> AppResult<Response> {
    user_view(&state, c, &id, FormState::default(), StatusCode::OK).await
}

#[derive(Deserialize)]
struct Empty {}

async fn set_roles(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::ManageUsers>,
    c: Ctx,
    Path(id): Path<String>,
    CsrfForm(_, pairs): CsrfForm<Empty>,
) -> AppResult<Response> {
    let u = state.store.user(&id).await?.ok_or(AppError::NotFound)?;
    let roles = roles_from(&pairs);
    let mut f = FormState::from_pairs(&pairs);
    if roles.is_empty() {
        f.add("roles", "error.roles");
    } else if u.id == viewer.user.id && !roles.contains(&Role::SystemAdmin) {
        // An administrator cannot lock everyone out by removing their own role.
        f.add("roles", "error.own_admin_role");
    }
    if f.has_errors() {
        return user_view(&state, c, &id, f, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let mut cmd = state.store.command(&viewer.actor()).await?;
    accounts::set_roles(&mut cmd, &u.id, &roles).await?;
    cmd.commit().await?;
    Ok(Redirect::to(&format!("/admin/users/{id}?done=saved")).into_response())
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
    let u = state.store.user(&id).await?.ok_or(AppError::NotFound)?;
    let disabled = form.disabled == "1";
    if disabled && u.id == viewer.user.id {
        let mut f = FormState::from_pairs(&pairs);
        f.add("status", "error.disable_self");
        return user_view(&state, c, &id, f, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let mut cmd = state.store.command(&viewer.actor()).await?;
    accounts::set_disabled(&mut cmd, &u.id, disabled).await?;
    cmd.commit().await?;
    Ok(Redirect::to(&format!("/admin/users/{id}?done=saved")).into_response())
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
    let u = state.store.user(&id).await?.ok_or(AppError::NotFound)?;
    if let Err(e) = check_password(&u.username, &form.password) {
        let mut f = FormState::from_pairs(&pairs);
        f.add("password", e.key());
        return user_view(&state, c, &id, f, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let hash = accounts::hash_password(form.password).await?;
    let mut cmd = state.store.command(&viewer.actor()).await?;
    accounts::set_password(&mut cmd, &u.id, &hash).await?;
    cmd.commit().await?;
    Ok(Redirect::to(&format!("/admin/users/{id}?done=password_reset")).into_response())
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

/// Agency kinds offered in the form (translation keys `kind.<code>`); the profile may hold others.
const KINDS: &[&str] = &[
    "police",
    "border_guard",
    "social_support",
    "foreign_affairs",
    "procuracy",
    "court",
    "commune_committee",
    "womens_union",
    "shelter",
    "steering_committee",
    "other",
];

async fn agencies_page(state: &AppState, c: Ctx, f: FormState, status: StatusCode) -> AppResult<Response> {
    let mut units =
        vec![(state.config.province.clone(), state.store.unit_name(&state.config.province).await?.unwrap_or_default())];
    units.extend(state.store.communes(&state.config.province).await?);
    let page = AgenciesPage { c, f, agencies: state.store.agencies().await?.to_vec(), units, kinds: KINDS };
    Ok(render(status, &page))
}

async fn agencies(State(state): State<AppState>, Can(..): Can<guards::ManageAgencies>, c: Ctx) -> AppResult<Response> {
    agencies_page(&state, c, FormState::default(), StatusCode::OK).await
}

#[derive(Deserialize)]
struct AgencyForm {
    code: String,
    name_vi: String,
    name_en: String,
    kind: String,
    unit_code: String,
    #[serde(default)]
    functions: String,
}

async fn create_agency(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::ManageAgencies>,
    c: Ctx,
    CsrfForm(form, pairs): CsrfForm<AgencyForm>,
) -> AppResult<Response> {
    let mut f = FormState::from_pairs(&pairs);
    let code = form.code.trim().to_lowercase();
    if code.len() < 2 || code.len() > 40 || !code.bytes().all(|b| b.is_ascii_lowercase() || b == b'-') {
        f.add("code", "error.agency_code");
    } else if state.store.agency_by_code(&code).await?.is_some() {
        f.add("code", "error.agency_code_taken");
    }
    for (field, v) in [("name_vi", &form.name_vi), ("name_en", &form.name_en)] {
        if v.trim().is_empty() || v.chars().count() > 300 {
            f.add(field, "error.required");
        }
    }
    if !KINDS.contains(&form.kind.as_str()) {
        f.add("kind", "error.choice");
    }
    if !state.store.unit_exists(&form.unit_code).await? {
        f.add("unit_code", "error.choice");
    }
    if f.has_errors() {
        return agencies_page(&state, c, f, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let level = if form.unit_code.len() == 2 { "province" } else { "commune" };
    let def = AgencyDef {
        code,
        kind: form.kind,
        level: level.into(),
        unit_code: form.unit_code,
        name_vi: form.name_vi.trim().into(),
        name_en: form.name_en.trim().into(),
        functions: form.functions.split([';', ',']).map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect(),
    };
    let mut cmd = state.store.command(&viewer.actor()).await?;
    match directory::create_agency(&mut cmd, &def).await {
        Ok(_) => {
            cmd.commit().await?;
            Ok(Redirect::to("/admin/agencies?done=agency_created").into_response())
        }
        Err(e) if haven_store::is_unique_violation(&e) => {
            f.add("code", "error.agency_code_taken");
            agencies_page(&state, c, f, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "admin_security.html")]
struct SecurityPage {
    c: Ctx,
    roles: Vec<(&'static str, bool)>,
}

async fn security(State(state): State<AppState>, Can(..): Can<guards::ManageSecurity>, c: Ctx) -> AppResult<Response> {
    let required = state.store.roles_requiring_totp().await?;
    let roles = Role::ALL.iter().map(|r| (r.code(), required.contains(r))).collect();
    Ok(ok(&SecurityPage { c, roles }))
}

async fn set_security(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::ManageSecurity>,
    CsrfForm(_, pairs): CsrfForm<Empty>,
) -> AppResult<Response> {
    let chosen = roles_from(&pairs);
    let current = state.store.roles_requiring_totp().await?;
    let mut cmd = state.store.command(&viewer.actor()).await?;
    let mut changed = false;
    for r in Role::ALL {
        let want = chosen.contains(&r);
        if want != current.contains(&r) {
            accounts::set_role_policy(&mut cmd, r, want).await?;
            changed = true;
        }
    }
    if changed {
        cmd.commit().await?;
    }
    Ok(Redirect::to("/admin/security?done=saved").into_response())
}
