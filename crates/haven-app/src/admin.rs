//! Administration: users and their roles, agencies, and the security policy (which roles need a second
//! factor). Only the system administrator's roles permit these.

use haven_domain::account::{check_password, valid_username};
use haven_domain::profile::AgencyDef;
use haven_domain::{roles, Action, Role};
use haven_store::accounts::{self as store, NewUser, User};
use haven_store::directory;
use haven_store::role_requests::{self, RoleRequest};
use serde::Deserialize;

use crate::{App, Caller, Error, Fields, Outcome, Result};

/// Agency kinds offered when creating an agency (translation keys `kind.<code>`); the profile may hold others.
pub const AGENCY_KINDS: &[&str] = &[
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

#[derive(Clone, Debug, Deserialize)]
pub struct NewUserForm {
    pub username: String,
    pub display_name: String,
    pub agency_id: String,
    pub password: String,
    #[serde(default)]
    pub roles: Vec<Role>,
}

/// Create a user.
pub async fn create_user(app: &App, caller: &Caller, form: &NewUserForm) -> Result<Outcome<String>> {
    caller.require(Action::ManageUsers)?;
    let mut f = Fields::default();
    let username = form.username.trim().to_lowercase();
    if !valid_username(&username) {
        f.add("username", "error.username");
    } else if app.store.user_by_name(&username).await?.is_some() {
        f.add("username", "error.username_taken");
    }
    let display = form.display_name.trim();
    if display.is_empty() || display.chars().count() > 200 {
        f.add("display_name", "error.required");
    }
    if app.store.agency(&form.agency_id).await?.is_none() {
        f.add("agency_id", "error.choice");
    }
    if let Err(e) = roles::check_roles(&form.roles) {
        f.add("roles", e.key());
    }
    if let Err(e) = check_password(&username, &form.password) {
        f.add("password", e.key());
    }
    if f.has_errors() {
        return Ok(Err(f.errors));
    }
    let hash = store::hash_password(form.password.clone()).await?;
    let mut cmd = app.store.command(&caller.actor()).await?;
    // Roles that read identities wait for a second person; the account starts with the others.
    let now: Vec<Role> = form.roles.iter().copied().filter(|r| !r.reads_identity()).collect();
    let new = NewUser {
        username: &username,
        display_name: display,
        agency_id: &form.agency_id,
        roles: &now,
        password_hash: &hash,
    };
    match store::create_user(&mut cmd, &new).await {
        Ok(id) => {
            if roles::needs_approval(&now, &form.roles) {
                role_requests::request(&mut cmd, &id, &form.roles).await?;
            }
            cmd.commit().await?;
            Ok(Ok(id))
        }
        // Created meanwhile by another administrator.
        Err(e) if haven_store::is_unique_violation(&e) => Ok(Fields::one("username", "error.username_taken")),
        Err(e) => Err(e.into()),
    }
}

/// A user, for an administrator.
pub async fn user(app: &App, caller: &Caller, id: &str) -> Result<User> {
    caller.require(Action::ManageUsers)?;
    app.store.user(id).await?.ok_or(Error::NotFound)
}

/// What a change of roles did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RolesChange {
    Applied,
    /// It gives a role that reads identities: it waits for another administrator or a head of the agency.
    Pending,
}

/// Set a user's roles. An administrator never changes their own (nor locks everyone out by it); roles that
/// cannot go together are refused; a change that gives a role reading identities becomes a request.
pub async fn set_roles(app: &App, caller: &Caller, id: &str, roles: &[Role]) -> Result<Outcome<RolesChange>> {
    let u = user(app, caller, id).await?;
    if u.id == caller.user.id {
        return Ok(Fields::one("roles", "error.own_roles"));
    }
    if let Err(e) = roles::check_roles(roles) {
        return Ok(Fields::one("roles", e.key()));
    }
    let mut cmd = app.store.command(&caller.actor()).await?;
    let change = if roles::needs_approval(&u.roles, roles) {
        role_requests::request(&mut cmd, &u.id, roles).await?;
        RolesChange::Pending
    } else {
        role_requests::supersede(&mut cmd, &u.id).await?;
        store::set_roles(&mut cmd, &u.id, roles).await?;
        RolesChange::Applied
    };
    cmd.commit().await?;
    Ok(Ok(change))
}

/// Whether the caller may answer a role request: another administrator, or a head of the account's agency;
/// never the one who asked, nor the account itself.
pub fn may_answer(caller: &Caller, r: &RoleRequest) -> bool {
    caller.user.id != r.requested_by
        && caller.user.id != r.user_id
        && (caller.can(Action::ManageUsers) || (caller.can(Action::SuperviseAgency) && caller.agency.id == r.agency_id))
}

/// The role requests waiting for the caller's answer, oldest first.
pub async fn role_requests_for(app: &App, caller: &Caller) -> Result<Vec<RoleRequest>> {
    let agency = if caller.can(Action::ManageUsers) {
        None
    } else if caller.can(Action::SuperviseAgency) {
        Some(caller.agency.id.as_str())
    } else {
        return Err(Error::Forbidden);
    };
    let all = app.store.pending_role_requests(agency, 200).await?;
    Ok(all.into_iter().filter(|r| may_answer(caller, r)).collect())
}

/// Approve or decline a pending role request.
pub async fn answer_role_request(app: &App, caller: &Caller, id: &str, approve: bool) -> Result<Outcome<()>> {
    let r = app.store.role_request(id).await?.ok_or(Error::NotFound)?;
    if !may_answer(caller, &r) {
        return Err(Error::Forbidden);
    }
    if r.status != "pending" {
        return Ok(Fields::one("roles", "error.role_request_answered"));
    }
    let mut cmd = app.store.command(&caller.actor()).await?;
    if !role_requests::answer(&mut cmd, &r, approve).await? {
        return Ok(Fields::one("roles", "error.role_request_answered"));
    }
    cmd.commit().await?;
    Ok(Ok(()))
}

/// Disable a user (their sessions end and their tokens are revoked) or enable them again; never oneself.
pub async fn set_disabled(app: &App, caller: &Caller, id: &str, disabled: bool) -> Result<Outcome<()>> {
    let u = user(app, caller, id).await?;
    if disabled && u.id == caller.user.id {
        return Ok(Fields::one("status", "error.disable_self"));
    }
    let mut cmd = app.store.command(&caller.actor()).await?;
    store::set_disabled(&mut cmd, &u.id, disabled).await?;
    cmd.commit().await?;
    Ok(Ok(()))
}

/// Give a user a new password (their sessions end).
pub async fn reset_password(app: &App, caller: &Caller, id: &str, password: &str) -> Result<Outcome<()>> {
    let u = user(app, caller, id).await?;
    if let Err(e) = check_password(&u.username, password) {
        return Ok(Fields::one("password", e.key()));
    }
    let hash = store::hash_password(password.to_owned()).await?;
    let mut cmd = app.store.command(&caller.actor()).await?;
    store::set_password(&mut cmd, &u.id, &hash).await?;
    cmd.commit().await?;
    Ok(Ok(()))
}

#[derive(Clone, Debug, Deserialize)]
pub struct AgencyForm {
    pub code: String,
    pub name_vi: String,
    pub name_en: String,
    pub kind: String,
    /// The province's or a commune's code.
    pub unit_code: String,
    /// What the agency does, separated by semicolons (`intake;investigate`).
    #[serde(default)]
    pub functions: String,
}

/// Add an agency to the directory.
pub async fn create_agency(app: &App, caller: &Caller, form: &AgencyForm) -> Result<Outcome<String>> {
    caller.require(Action::ManageAgencies)?;
    let mut f = Fields::default();
    let code = form.code.trim().to_lowercase();
    if code.len() < 2 || code.len() > 40 || !code.bytes().all(|b| b.is_ascii_lowercase() || b == b'-') {
        f.add("code", "error.agency_code");
    } else if app.store.agency_by_code(&code).await?.is_some() {
        f.add("code", "error.agency_code_taken");
    }
    for (field, v) in [("name_vi", &form.name_vi), ("name_en", &form.name_en)] {
        if v.trim().is_empty() || v.chars().count() > 300 {
            f.add(field, "error.required");
        }
    }
    if !AGENCY_KINDS.contains(&form.kind.as_str()) {
        f.add("kind", "error.choice");
    }
    if !app.store.unit_exists(&form.unit_code).await? {
        f.add("unit_code", "error.choice");
    }
    if f.has_errors() {
        return Ok(Err(f.errors));
    }
    let level = if form.unit_code.len() == 2 { "province" } else { "commune" };
    let def = AgencyDef {
        code,
        kind: form.kind.clone(),
        level: level.into(),
        unit_code: form.unit_code.clone(),
        name_vi: form.name_vi.trim().into(),
        name_en: form.name_en.trim().into(),
        functions: form.functions.split([';', ',']).map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect(),
    };
    let mut cmd = app.store.command(&caller.actor()).await?;
    match directory::create_agency(&mut cmd, &def).await {
        Ok(id) => {
            cmd.commit().await?;
            Ok(Ok(id))
        }
        Err(e) if haven_store::is_unique_violation(&e) => Ok(Fields::one("code", "error.agency_code_taken")),
        Err(e) => Err(e.into()),
    }
}

/// The roles that must use a second factor.
pub async fn roles_requiring_totp(app: &App, caller: &Caller) -> Result<Vec<Role>> {
    caller.require(Action::ManageSecurity)?;
    Ok(app.store.roles_requiring_totp().await?)
}

/// Choose the roles that must use a second factor; only what changed is written (and audited).
pub async fn set_totp_policy(app: &App, caller: &Caller, chosen: &[Role]) -> Result<()> {
    let current = roles_requiring_totp(app, caller).await?;
    let mut cmd = app.store.command(&caller.actor()).await?;
    let mut changed = false;
    for r in Role::ALL {
        let want = chosen.contains(&r);
        if want != current.contains(&r) {
            store::set_role_policy(&mut cmd, r, want).await?;
            changed = true;
        }
    }
    if changed {
        cmd.commit().await?;
    }
    Ok(())
}
