//! Haven's web layer: server-rendered pages (askama) and the JSON API under `/api/v1`. Requests are
//! authenticated and authorised here ([`ctx`]), rules come from `haven-domain`, and every write goes through a
//! `haven-store` command. This crate writes no SQL.

pub mod api;
pub mod charts;
pub mod ctx;
pub mod error;
pub mod jobs;
pub mod metrics;
pub mod page;
pub mod pages;
pub mod views;

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use haven_store::Store;
use tracing::Instrument;

use crate::error::ErrorMarker;
pub use haven_app::{i18n, Profile};
use haven_domain::format::Lang;

/// Settings of a running server.
#[derive(Clone, Debug, Default)]
pub struct Config {
    /// Served behind TLS: cookies get `Secure` and responses carry HSTS.
    pub tls: bool,
    /// The province whose communes forms offer (statistics-office code).
    pub province: String,
    /// Reverse proxies whose X-Forwarded-For is believed: see [`ctx::ClientAddr`].
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// The bearer token that opens `/metrics` to a scraper elsewhere; without one only a loopback client
    /// may scrape (see [`metrics`]).
    pub metrics_token: Option<String>,
}

/// What every handler works with: the application (store, profile, translations) and the server's own
/// settings and in-process caches.
#[derive(Clone)]
pub struct AppState {
    pub app: haven_app::App,
    pub config: Arc<Config>,
    /// When this process last noted activity on each session, so that a burst of requests on one session
    /// writes its last-seen time once, not once per request racing for the write lock.
    pub touched: Arc<std::sync::Mutex<std::collections::HashMap<String, i64>>>,
    /// Request latencies and the figures `/metrics` reports.
    pub metrics: Arc<metrics::Metrics>,
}

impl AppState {
    pub fn new(store: Store, config: Config) -> AppState {
        AppState {
            app: haven_app::App::new(store, &config.province),
            config: Arc::new(config),
            touched: Arc::default(),
            metrics: Arc::default(),
        }
    }
}

/// Handlers reach the store, the profile and the translations through the application, and pass `&state`
/// where a use case takes `&App`.
impl std::ops::Deref for AppState {
    type Target = haven_app::App;
    fn deref(&self) -> &haven_app::App {
        &self.app
    }
}

/// The request id, attached to logs, error pages and the `x-request-id` header.
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

/// Largest request body accepted; larger ones get 413.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

pub fn router(state: AppState) -> Router {
    let (api, _) = api::router();
    Router::new()
        .merge(pages::routes())
        .nest("/api/v1", api)
        .route("/health", get(health))
        .route("/metrics", get(metrics::scrape))
        .route("/static/haven.css", get(stylesheet))
        .route("/static/import.js", get(import_script))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn_with_state(state.clone(), render_errors))
        .layer(middleware::from_fn_with_state(state.clone(), frame))
        .with_state(state)
}

async fn health(State(state): State<AppState>) -> Response {
    if state.store.db.ping().await {
        (StatusCode::OK, "ok").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database unreachable").into_response()
    }
}

async fn stylesheet() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=3600")],
        include_str!("../static/haven.css"),
    )
        .into_response()
}

/// Updates an import's progress bar without reloading (the page refreshes itself without scripts).
async fn import_script() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=3600")],
        include_str!("../static/import.js"),
    )
        .into_response()
}

async fn not_found() -> error::AppError {
    error::AppError::NotFound
}

fn new_request_id() -> String {
    uuid::Uuid::now_v7().simple().to_string()[16..].to_owned()
}

/// Request id, tracing span and security headers around every request.
async fn frame(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let id = new_request_id();
    req.extensions_mut().insert(RequestId(id.clone()));
    let span = tracing::info_span!("request", id = %id, method = %req.method(), path = %req.uri().path());
    let (method, route, began) = (req.method().clone(), metrics::route_of(&req), std::time::Instant::now());
    let mut resp = next.run(req).instrument(span).await;
    state.metrics.observe(method.as_str(), route.as_deref(), resp.status(), began.elapsed());
    let h = resp.headers_mut();
    let set = |h: &mut axum::http::HeaderMap, k: &'static str, v: &'static str| {
        h.insert(k, HeaderValue::from_static(v));
    };
    set(
        h,
        "content-security-policy",
        "default-src 'none'; style-src 'self'; img-src 'self' data:; script-src 'self'; connect-src 'self'; \
         form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    );
    set(h, "x-content-type-options", "nosniff");
    set(h, "x-frame-options", "DENY");
    set(h, "referrer-policy", "no-referrer");
    if !h.contains_key(header::CACHE_CONTROL) {
        set(h, "cache-control", "no-store");
    }
    if state.config.tls {
        set(h, "strict-transport-security", "max-age=31536000; includeSubDomains");
    }
    if let Ok(v) = HeaderValue::from_str(&id) {
        h.insert("x-request-id", v);
    }
    resp
}

/// Turn error responses into a page in the user's language, or JSON under `/api/`.
async fn render_errors(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let api = req.uri().path().starts_with("/api/");
    let path_and_query = req.uri().path_and_query().map(|p| p.as_str().to_owned()).unwrap_or_default();
    let lang = ctx::request_lang(None, req.headers());
    let request_id = req.extensions().get::<RequestId>().map(|r| r.0.clone()).unwrap_or_default();
    // No text Haven keeps may hold a NUL (PostgreSQL refuses it), so a path or query naming one is refused here.
    let resp = if ctx::target_holds_nul(&path_and_query) {
        error::AppError::BadRequest("a NUL character".into()).into_response()
    } else {
        next.run(req).await
    };
    let status = resp.status();
    if status.as_u16() < 400 {
        return resp;
    }
    let marker = resp.extensions().get::<ErrorMarker>().cloned();
    let typed = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html") || v.starts_with("application/json"));
    if marker.is_none() && typed {
        return resp;
    }
    let key = marker.as_ref().map(|m| m.key).unwrap_or(match status {
        StatusCode::NOT_FOUND => "error.not_found",
        StatusCode::PAYLOAD_TOO_LARGE => "error.too_large",
        StatusCode::METHOD_NOT_ALLOWED => "error.method",
        StatusCode::UNAUTHORIZED => "error.unauthenticated",
        StatusCode::FORBIDDEN => "error.forbidden",
        s if s.is_server_error() => "error.internal",
        _ => "error.bad_request",
    });
    let retry_after = resp.headers().get(header::RETRY_AFTER).cloned();
    let asked = Asked { api, lang, path_and_query: &path_and_query, request_id: &request_id };
    let mut out = render_error(&state, &asked, status, key, marker.as_ref());
    if let Some(v) = retry_after {
        out.headers_mut().insert(header::RETRY_AFTER, v);
    }
    out
}

/// What an error answers: whether the API or a page asked, in which language, for what, under which id.
struct Asked<'a> {
    api: bool,
    lang: Lang,
    path_and_query: &'a str,
    request_id: &'a str,
}

fn render_error(
    state: &AppState,
    asked: &Asked<'_>,
    status: StatusCode,
    key: &'static str,
    marker: Option<&ErrorMarker>,
) -> Response {
    let Asked { api, lang, path_and_query, request_id } = *asked;
    if api && marker.is_some_and(|m| !m.fields.is_empty()) {
        let fields: Vec<serde_json::Value> = marker
            .map(|m| m.fields.as_slice())
            .unwrap_or_default()
            .iter()
            .map(|(field, k)| {
                serde_json::json!({
                    "field": field,
                    "error": k.trim_start_matches("error."),
                    "message": state.i18n.get(lang, k),
                })
            })
            .collect();
        let body = serde_json::json!({
            "error": "validation",
            "message": state.i18n.get(lang, key),
            "fields": fields,
            "request_id": request_id,
        });
        return (status, axum::Json(body)).into_response();
    }
    if api {
        let body = serde_json::json!({
            "error": key.trim_start_matches("error."),
            "message": state.i18n.get(lang, key),
            "request_id": request_id,
        });
        return (status, axum::Json(body)).into_response();
    }
    if marker.is_some_and(|m| m.key == "error.enrol_first") {
        return axum::response::Redirect::to("/account/totp").into_response();
    }
    if status == StatusCode::UNAUTHORIZED {
        let next = urlencode(path_and_query);
        return axum::response::Redirect::to(&format!("/login?next={next}")).into_response();
    }
    page::error_page(state, lang, status, key, request_id)
}

pub fn urlencode(s: &str) -> String {
    serde_urlencoded::to_string([("", s)]).map(|e| e[1..].to_owned()).unwrap_or_default()
}
