//! The user's own account: profile, password change, second factor enrolment with recovery codes.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use base64::Engine;
use haven_app::accounts::{self as app, new_totp_secret};
use serde::Deserialize;

use crate::ctx::{set_cookie, CsrfForm, Viewer, SESSION_COOKIE};
use crate::error::AppResult;
use crate::page::{ok, render, Ctx, FormState};
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
    match app::change_password(&state, &viewer, form.current, &form.new_password, &form.confirm).await? {
        // Every session ended with the old password, this one too: log in again with the new one.
        Ok(()) => Ok(Redirect::to("/login?done=password_changed").into_response()),
        Err(errors) => {
            let f = FormState::with_errors(&pairs, errors);
            account_page(&state, &viewer, c, f, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
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
    let session = viewer.session.as_ref().map(|(token, s)| (token.as_str(), s.stage.as_str()));
    match app::enrol_totp(&state, &viewer, &form.secret, &form.code, session).await? {
        Ok(enrolled) => {
            let mut resp = ok(&CodesPage { c, codes: enrolled.recovery_codes });
            if let Some(t) = enrolled.new_token {
                if let Ok(v) = set_cookie(SESSION_COOKIE, &t, state.config.tls, None).parse() {
                    resp.headers_mut().append(axum::http::header::SET_COOKIE, v);
                }
            }
            Ok(resp)
        }
        Err(errors) => {
            let secret = base64::engine::general_purpose::STANDARD.decode(&form.secret).unwrap_or_default();
            let f = FormState::with_errors(&pairs, errors);
            Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &enrol_page(&viewer, c, f, &secret)))
        }
    }
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
    match app::disable_totp(&state, &viewer, form.current).await? {
        Ok(()) => Ok(Redirect::to("/account?done=totp_disabled").into_response()),
        Err(errors) => {
            let f = FormState::with_errors(&pairs, errors);
            account_page(&state, &viewer, c, f, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}
