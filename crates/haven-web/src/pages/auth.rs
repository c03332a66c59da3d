//! Log-in (password, then the second factor when enrolled), log-out and the language switch.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use haven_domain::account::SECOND_FACTOR_WINDOW;
use haven_domain::format::Lang;
use haven_store::accounts::{self, new_secret};
use haven_store::crypto::random_bytes;
use haven_store::Actor;
use serde::Deserialize;

use crate::ctx::{cookie, set_cookie, CsrfForm, Viewer, LANG_COOKIE, PRE_COOKIE, SESSION_COOKIE};
use crate::error::{AppError, AppResult};
use crate::page::{render, Ctx, FormState};
use crate::pages::safe_back;
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

/// A hash to verify against when the user does not exist, so the answer takes as long as for a real user.
async fn dummy_hash() -> String {
    static HASH: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    HASH.get_or_init(|| async { accounts::hash_password(new_secret("")).await.unwrap_or_default() }).await.clone()
}

fn actor_for(user_id: &str, agency_id: &str, request_id: &RequestId) -> Actor {
    Actor { user_id: user_id.into(), agency_id: agency_id.into(), request_id: request_id.0.clone() }
}

async fn login(
    State(state): State<AppState>,
    axum::Extension(rid): axum::Extension<RequestId>,
    c: Ctx,
    CsrfForm(form, pairs): CsrfForm<LoginForm>,
) -> AppResult<Response> {
    let mut f = FormState::from_pairs(&pairs);
    let username = form.username.trim().to_lowercase();
    let user = state.store.user_by_name(&username).await?;
    let fail = |f: FormState, key: &str, c: Ctx| {
        let mut f = f;
        f.add("username", key);
        Ok(render(StatusCode::UNAUTHORIZED, &LoginPage { c, f, next: form.next.clone() }))
    };
    let Some(user) = user.filter(|u| !u.disabled) else {
        accounts::verify_password(dummy_hash().await, form.password).await;
        return fail(f, "error.login_failed", c);
    };
    let actor = actor_for(&user.id, &user.agency_id, &rid);
    let mut cmd = state.store.command(&actor).await?;
    let allowed = accounts::reserve_login_attempt(&mut cmd, &user.id).await?;
    cmd.commit().await?;
    if !allowed {
        f.add("username", "error.locked");
        return Ok(render(StatusCode::TOO_MANY_REQUESTS, &LoginPage { c, f, next: form.next.clone() }));
    }
    if !accounts::verify_password(user.password_hash.clone(), form.password).await {
        let mut cmd = state.store.command(&actor).await?;
        accounts::attempt_failed(&mut cmd, &user.id).await?;
        cmd.commit().await?;
        return fail(f, "error.login_failed", c);
    }
    let stage = if user.totp_enabled {
        "totp"
    } else if state.store.roles_requiring_totp().await?.iter().any(|r| user.roles.contains(r)) {
        "enrol"
    } else {
        "full"
    };
    let mut cmd = state.store.command(&actor).await?;
    let token = accounts::open_session(&mut cmd, &user.id, stage).await?;
    cmd.commit().await?;
    let next = safe_back(&form.next);
    let to = if stage == "totp" { format!("/login/totp?next={}", crate::urlencode(next)) } else { next.to_owned() };
    let mut resp = Redirect::to(&to).into_response();
    let h = resp.headers_mut();
    for c in [
        set_cookie(SESSION_COOKIE, &token, state.config.tls, None),
        set_cookie(LANG_COOKIE, &user.lang, state.config.tls, Some(31_536_000)),
    ] {
        if let Ok(v) = c.parse() {
            h.append(header::SET_COOKIE, v);
        }
    }
    Ok(resp)
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

/// Check a six-digit code against the secret for the step before, at and after now; returns the step used.
pub fn totp_step_matching(secret: &[u8], code: &str, now_ms: i64) -> Option<i64> {
    let code = code.trim().replace(' ', "");
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let totp = totp_rs::TOTP::new(totp_rs::Algorithm::SHA1, 6, 1, 30, secret.to_vec()).ok()?;
    let now = u64::try_from(now_ms / 1000).ok()?;
    [now.saturating_sub(30), now, now + 30]
        .into_iter()
        .find(|t| totp.generate(*t) == code)
        .and_then(|t| i64::try_from(t / 30).ok())
}

async fn totp(
    State(state): State<AppState>,
    headers: HeaderMap,
    axum::Extension(rid): axum::Extension<RequestId>,
    c: Ctx,
    CsrfForm(form, pairs): CsrfForm<TotpForm>,
) -> AppResult<Response> {
    let Some(token) = cookie(&headers, SESSION_COOKIE) else { return Err(AppError::Unauthenticated) };
    let now = state.store.now();
    let session = state
        .store
        .session(token)
        .await?
        .filter(|s| s.stage == "totp" && now - s.created_at < SECOND_FACTOR_WINDOW)
        .ok_or(AppError::Unauthenticated)?;
    let user = state.store.user(&session.user_id).await?.filter(|u| !u.disabled).ok_or(AppError::Unauthenticated)?;
    let mut f = FormState::from_pairs(&pairs);
    if user.locked_until > now {
        f.add("code", "error.locked");
        return Ok(render(StatusCode::TOO_MANY_REQUESTS, &TotpPage { c, f, next: form.next }));
    }
    let actor = actor_for(&user.id, &user.agency_id, &rid);
    let sealed = state.store.totp_secret_sealed(&user.id).await?.ok_or(AppError::Unauthenticated)?;
    let secret = state.store.keys.open("users", "totp_secret", &user.id, &sealed)?;
    let secret = base64_decode(&secret)?;
    let mut cmd = state.store.command(&actor).await?;
    let accepted = match totp_step_matching(&secret, &form.code, now) {
        Some(step) => accounts::use_totp_step(&mut cmd, &user.id, step).await?,
        None if form.code.contains('-') => {
            accounts::use_recovery_code(&mut cmd, &state.store.keys, &user.id, &form.code).await?
        }
        None => false,
    };
    if !accepted {
        accounts::login_failed(&mut cmd, &user.id).await?;
        cmd.commit().await?;
        f.add("code", "error.totp_wrong");
        return Ok(render(StatusCode::UNAUTHORIZED, &TotpPage { c, f, next: form.next }));
    }
    let new_token = accounts::complete_second_factor(&mut cmd, token, &user.id).await?;
    cmd.commit().await?;
    let mut resp = Redirect::to(safe_back(&form.next)).into_response();
    for c in [
        set_cookie(SESSION_COOKIE, &new_token, state.config.tls, None),
        set_cookie(LANG_COOKIE, &user.lang, state.config.tls, Some(31_536_000)),
    ] {
        if let Ok(v) = c.parse() {
            resp.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    Ok(resp)
}

pub fn base64_decode(s: &str) -> anyhow::Result<Vec<u8>> {
    use base64::Engine;
    Ok(base64::engine::general_purpose::STANDARD.decode(s)?)
}

pub fn new_totp_secret() -> Vec<u8> {
    random_bytes::<20>().to_vec()
}

#[derive(Deserialize)]
struct Empty {}

async fn logout(State(state): State<AppState>, viewer: Viewer, CsrfForm(_, _): CsrfForm<Empty>) -> AppResult<Response> {
    if let Some((token, _)) = &viewer.session {
        let mut cmd = state.store.command(&viewer.actor()).await?;
        accounts::close_session(&mut cmd, token, &viewer.user.id).await?;
        cmd.commit().await?;
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
        let mut cmd = state.store.command(&v.actor()).await?;
        accounts::set_language(&mut cmd, &v.user.id, lang.code()).await?;
        cmd.commit().await?;
    }
    let mut resp = Redirect::to(safe_back(&form.back)).into_response();
    if let Ok(v) = set_cookie(LANG_COOKIE, lang.code(), state.config.tls, Some(31_536_000)).parse() {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totp_accepts_adjacent_steps_only() {
        let secret = b"12345678901234567890".to_vec();
        let totp = totp_rs::TOTP::new(totp_rs::Algorithm::SHA1, 6, 1, 30, secret.clone()).expect("totp");
        // RFC 6238 test vector: T = 59 s gives 287082 for SHA-1 with 8 digits; with 6 digits, 287082.
        assert_eq!(totp.generate(59), "287082");
        assert_eq!(totp_step_matching(&secret, "287082", 59_000), Some(1));
        assert_eq!(totp_step_matching(&secret, "287 082", 75_000), Some(1), "next step still accepts the last code");
        assert_eq!(totp_step_matching(&secret, "287082", 200_000), None);
        assert_eq!(totp_step_matching(&secret, "28708", 59_000), None);
    }
}
