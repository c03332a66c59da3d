//! The user's own account: profile, password change, second factor enrolment with recovery codes.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use base64::Engine;
use haven_domain::account::check_password;
use haven_store::accounts;
use serde::Deserialize;

use crate::ctx::{set_cookie, CsrfForm, Viewer, SESSION_COOKIE};
use crate::error::AppResult;
use crate::page::{ok, render, Ctx, FormState};
use crate::pages::auth::{new_totp_secret, totp_step_matching};
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/account", get(account))
        .route("/account/password", post(change_password))
        .route("/account/totp", get(totp_start).post(totp_confirm))
        .route("/account/totp/disable", post(totp_disable))
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    c: Ctx,
    f: FormState,
    username: String,
    roles: Vec<&'static str>,
    totp_enabled: bool,
    recovery_left: i64,
}

async fn account_page(state: &AppState, v: &Viewer, c: Ctx, f: FormState, status: StatusCode) -> AppResult<Response> {
    let page = AccountPage {
        c,
        f,
        username: v.user.username.clone(),
        roles: v.user.roles.iter().map(|r| r.code()).collect(),
        totp_enabled: v.user.totp_enabled,
        recovery_left: state.store.unused_recovery_codes(&v.user.id).await?,
    };
    Ok(render(status, &page))
}

async fn account(State(state): State<AppState>, viewer: Viewer, c: Ctx) -> AppResult<Response> {
    account_page(&state, &viewer, c, FormState::default(), StatusCode::OK).await
}

#[derive(Deserialize)]
struct PasswordForm {
    current: String,
    new_password: String,
    confirm: String,
}

async fn change_password(
    State(state): State<AppState>,
    viewer: Viewer,
    c: Ctx,
    CsrfForm(form, pairs): CsrfForm<PasswordForm>,
) -> AppResult<Response> {
    let mut f = FormState::from_pairs(&pairs);
    if !accounts::verify_password(viewer.user.password_hash.clone(), form.current).await {
        // A wrong current password counts like a failed log-in, so a borrowed session cannot guess it.
        let mut cmd = state.store.command(&viewer.actor()).await?;
        accounts::login_failed(&mut cmd, &viewer.user.id).await?;
        cmd.commit().await?;
        f.add("current", "error.password_current");
    }
    if let Err(e) = check_password(&viewer.user.username, &form.new_password) {
        f.add("new_password", e.key());
    } else if form.new_password != form.confirm {
        f.add("confirm", "error.password_confirm");
    }
    if f.has_errors() {
        return account_page(&state, &viewer, c, f, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let hash = accounts::hash_password(form.new_password).await?;
    let mut cmd = state.store.command(&viewer.actor()).await?;
    accounts::set_password(&mut cmd, &viewer.user.id, &hash).await?;
    cmd.commit().await?;
    // Every session ended with the old password, this one too: log in again with the new one.
    Ok(Redirect::to("/login?done=password_changed").into_response())
}

#[derive(Template)]
#[template(path = "totp_enrol.html")]
struct EnrolPage {
    c: Ctx,
    f: FormState,
    secret_b64: String,
    secret_b32: String,
    otpauth: String,
    required: bool,
}

#[derive(Template)]
#[template(path = "totp_codes.html")]
struct CodesPage {
    c: Ctx,
    codes: Vec<String>,
}

fn enrol_page(v: &Viewer, c: Ctx, f: FormState, secret: &[u8]) -> EnrolPage {
    let b32 = totp_rs::Secret::Raw(secret.to_vec()).to_encoded().to_string();
    EnrolPage {
        otpauth: format!(
            "otpauth://totp/Haven:{}?secret={}&issuer=Haven&digits=6&period=30",
            crate::urlencode(&v.user.username),
            b32
        ),
        secret_b32: b32,
        secret_b64: base64::engine::general_purpose::STANDARD.encode(secret),
        c,
        f,
        required: v.must_enrol,
    }
}

async fn totp_start(viewer: Viewer, c: Ctx) -> AppResult<Response> {
    if viewer.user.totp_enabled {
        return Ok(Redirect::to("/account").into_response());
    }
    Ok(ok(&enrol_page(&viewer, c, FormState::default(), &new_totp_secret())))
}

#[derive(Deserialize)]
struct ConfirmForm {
    secret: String,
    code: String,
}

async fn totp_confirm(
    State(state): State<AppState>,
    viewer: Viewer,
    c: Ctx,
    CsrfForm(form, pairs): CsrfForm<ConfirmForm>,
) -> AppResult<Response> {
    if viewer.user.totp_enabled {
        // Replacing a working second factor goes through turning it off, which asks for the password.
        return Ok(Redirect::to("/account").into_response());
    }
    let secret = crate::pages::auth::base64_decode(&form.secret).unwrap_or_default();
    if secret.len() != 20 {
        return Err(crate::error::AppError::BadRequest("secret".into()));
    }
    let Some(step) = totp_step_matching(&secret, &form.code, state.store.now()) else {
        let mut f = FormState::from_pairs(&pairs);
        f.add("code", "error.totp_wrong");
        return Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &enrol_page(&viewer, c, f, &secret)));
    };
    let codes = accounts::new_recovery_codes();
    let hashes: Vec<String> = codes.iter().map(|c| accounts::recovery_code_hash(&state.store.keys, c)).collect();
    let sealed = state.store.keys.seal("users", "totp_secret", &viewer.user.id, &form.secret);
    let mut cmd = state.store.command(&viewer.actor()).await?;
    accounts::set_totp(&mut cmd, &viewer.user.id, Some(sealed), true, &hashes).await?;
    accounts::use_totp_step(&mut cmd, &viewer.user.id, step).await?;
    // A session that was limited to enrolment becomes a full one, under a new token.
    let new_token = match &viewer.session {
        Some((token, s)) if s.stage == "enrol" => {
            Some(accounts::complete_second_factor(&mut cmd, token, &viewer.user.id).await?)
        }
        _ => None,
    };
    cmd.commit().await?;
    let mut resp = ok(&CodesPage { c, codes });
    if let Some(t) = new_token {
        if let Ok(v) = set_cookie(SESSION_COOKIE, &t, state.config.tls, None).parse() {
            resp.headers_mut().append(axum::http::header::SET_COOKIE, v);
        }
    }
    Ok(resp)
}

#[derive(Deserialize)]
struct DisableForm {
    current: String,
}

async fn totp_disable(
    State(state): State<AppState>,
    viewer: Viewer,
    c: Ctx,
    CsrfForm(form, pairs): CsrfForm<DisableForm>,
) -> AppResult<Response> {
    let mut f = FormState::from_pairs(&pairs);
    let required = state.store.roles_requiring_totp().await?.iter().any(|r| viewer.user.roles.contains(r));
    if required {
        f.add("totp", "error.totp_required");
    } else if !accounts::verify_password(viewer.user.password_hash.clone(), form.current).await {
        f.add("current", "error.password_current");
    }
    if f.has_errors() {
        return account_page(&state, &viewer, c, f, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let mut cmd = state.store.command(&viewer.actor()).await?;
    accounts::set_totp(&mut cmd, &viewer.user.id, None, false, &[]).await?;
    cmd.commit().await?;
    Ok(Redirect::to("/account?done=totp_disabled").into_response())
}
