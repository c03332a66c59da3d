//! Log-in (password, then the second factor when enrolled), log-out and the language switch.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use haven_app::accounts::{self as app, LogIn, SecondFactor, Stage};
use haven_domain::format::Lang;
use haven_store::accounts::new_secret;
use serde::Deserialize;

use crate::ctx::{cookie, set_cookie, CsrfForm, Viewer, LANG_COOKIE, PRE_COOKIE, SESSION_COOKIE};
use crate::error::{AppError, AppResult};
use crate::page::{render, safe_back, Ctx, FormState};
use crate::{AppState, RequestId};

pub fn routes() -> axum::Router<AppState> {
    Router::new()
        .route("/login", get(login_page).post(login))
        .route("/login/totp", get(totp_page).post(totp))
        .route("/logout", post(logout))
        .route("/language", post(language))
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    c: Ctx,
    f: FormState,
    next: String,
}

#[derive(Template)]
#[template(path = "login_totp.html")]
struct TotpPage {
    c: Ctx,
    f: FormState,
    next: String,
}

#[derive(Deserialize)]
struct NextQuery {
    next: Option<String>,
}

/// The token for the log-in forms' CSRF check: the page's own (the session's, or the pre-session cookie's),
/// or a new pre-session token when the browser has neither.
fn pre_token(c: &Ctx) -> (String, Option<String>) {
    if !c.csrf.is_empty() {
        return (c.csrf.clone(), None);
    }
    let t = new_secret("");
    (t.clone(), Some(t))
}

fn with_pre_cookie(state: &AppState, mut resp: Response, new: Option<String>) -> Response {
    if let Some(t) = new {
        if let Ok(v) = set_cookie(PRE_COOKIE, &t, state.config.tls, None).parse() {
            resp.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    resp
}

async fn login_page(State(state): State<AppState>, mut c: Ctx, Query(q): Query<NextQuery>) -> Response {
    let (token, new) = pre_token(&c);
    c.csrf = token;
    let page = LoginPage { c, f: FormState::default(), next: q.next.unwrap_or_default() };
    with_pre_cookie(&state, render(StatusCode::OK, &page), new)
}

#[derive(Deserialize)]
struct LoginForm {
    username: String,
    password: String,
    #[serde(default)]
    next: String,
}

async fn login(
    State(state): State<AppState>,
    axum::Extension(rid): axum::Extension<RequestId>,
    client: crate::ctx::ClientAddr,
    c: Ctx,
    CsrfForm(form, pairs): CsrfForm<LoginForm>,
) -> AppResult<Response> {
    let mut f = FormState::from_pairs(&pairs);
    let next = form.next.clone();
    let (token, stage, lang) =
        match app::log_in(&state, &form.username, form.password, &client.source(), &rid.0).await? {
            LogIn::Opened { token, stage, lang } => (token, stage, lang),
            LogIn::Failed => {
                f.add("username", "error.login_failed");
                return Ok(render(StatusCode::UNAUTHORIZED, &LoginPage { c, f, next }));
            }
        };
    let back = safe_back(&next);
    let to = if stage == Stage::SecondFactor {
        format!("/login/totp?next={}", crate::urlencode(back))
    } else {
        back.to_owned()
    };
    Ok(with_session(&state, Redirect::to(&to).into_response(), &token, &lang))
}

/// A response that sets the session cookie and the language cookie.
fn with_session(state: &AppState, mut resp: Response, token: &str, lang: &str) -> Response {
    for c in [
        set_cookie(SESSION_COOKIE, token, state.config.tls, None),
        set_cookie(LANG_COOKIE, lang, state.config.tls, Some(31_536_000)),
    ] {
        if let Ok(v) = c.parse() {
            resp.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    resp
}

async fn totp_page(State(state): State<AppState>, mut c: Ctx, Query(q): Query<NextQuery>) -> Response {
    let (token, new) = pre_token(&c);
    c.csrf = token;
    let page = TotpPage { c, f: FormState::default(), next: q.next.unwrap_or_default() };
    with_pre_cookie(&state, render(StatusCode::OK, &page), new)
}

#[derive(Deserialize)]
struct TotpForm {
    code: String,
    #[serde(default)]
    next: String,
}

async fn totp(
    State(state): State<AppState>,
    headers: HeaderMap,
    axum::Extension(rid): axum::Extension<RequestId>,
    c: Ctx,
    CsrfForm(form, pairs): CsrfForm<TotpForm>,
) -> AppResult<Response> {
    let Some(token) = cookie(&headers, SESSION_COOKIE) else { return Err(AppError::Unauthenticated) };
    let mut f = FormState::from_pairs(&pairs);
    match app::second_factor(&state, token, &form.code, &rid.0).await? {
        SecondFactor::Done { token, lang } => {
            Ok(with_session(&state, Redirect::to(safe_back(&form.next)).into_response(), &token, &lang))
        }
        SecondFactor::NoSession => Err(AppError::Unauthenticated),
        SecondFactor::Locked => {
            f.add("code", "error.locked");
            Ok(render(StatusCode::TOO_MANY_REQUESTS, &TotpPage { c, f, next: form.next }))
        }
        SecondFactor::Wrong => {
            f.add("code", "error.totp_wrong");
            Ok(render(StatusCode::UNAUTHORIZED, &TotpPage { c, f, next: form.next }))
        }
    }
}

#[derive(Deserialize)]
struct Empty {}

async fn logout(State(state): State<AppState>, viewer: Viewer, CsrfForm(_, _): CsrfForm<Empty>) -> AppResult<Response> {
    if let Some((token, _)) = &viewer.session {
        app::log_out(&state, &viewer, token).await?;
    }
    let mut resp = Redirect::to("/login?done=logged_out").into_response();
    if let Ok(v) = set_cookie(SESSION_COOKIE, "", state.config.tls, Some(0)).parse() {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(resp)
}

#[derive(Deserialize)]
struct LanguageForm {
    lang: String,
    #[serde(default)]
    back: String,
}

async fn language(
    State(state): State<AppState>,
    viewer: Option<Viewer>,
    CsrfForm(form, _): CsrfForm<LanguageForm>,
) -> AppResult<Response> {
    let lang = Lang::from_code(&form.lang).ok_or_else(|| AppError::BadRequest("lang".into()))?;
    if let Some(v) = viewer {
        app::set_language(&state, &v, lang).await?;
    }
    let mut resp = Redirect::to(safe_back(&form.back)).into_response();
    if let Ok(v) = set_cookie(LANG_COOKIE, lang.code(), state.config.tls, Some(31_536_000)).parse() {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(resp)
}
