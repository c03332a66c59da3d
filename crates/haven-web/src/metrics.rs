//! Prometheus metrics at `/metrics`: request latency by route (the route's template, never a path with ids
//! in it), the database pool, the background work waiting (people queued for matching, imports staged or
//! running) and the age of the newest audit entry. Nothing in them names a person.
//!
//! Who may scrape: a request with `Authorization: Bearer` the token the server was given
//! (`HAVEN_METRICS_TOKEN`), or without a token configured, a scraper on the same host (a loopback client,
//! directly or through a trusted proxy). Anyone else gets 404, as if there were nothing here.

use std::sync::atomic::AtomicU64;
use std::time::Duration;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

use crate::ctx::ClientAddr;
use crate::AppState;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    /// The route's template (`/persons/{id}`), or `unmatched`.
    route: String,
    /// `2xx`, `3xx`, `4xx` or `5xx`.
    status: String,
}

/// Request latency from 1 ms to about 16 s, doubling.
fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

type Requests = Family<RouteLabels, Histogram, fn() -> Histogram>;

/// The server's metrics: the request histogram kept as requests end, the gauges read at each scrape.
pub struct Metrics {
    registry: Registry,
    requests: Requests,
    pool_connections: Gauge,
    pool_idle: Gauge,
    match_queue: Gauge,
    import_stages: Gauge,
    imports_running: Gauge,
    audit_head_age: Gauge<f64, AtomicU64>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("haven");
        let requests: Requests = Family::new_with_constructor(latency_histogram as fn() -> Histogram);
        registry.register(
            "http_request_duration_seconds",
            "Time to answer a request, by method, route and status class",
            requests.clone(),
        );
        let gauge = |registry: &mut Registry, name: &str, help: &str| {
            let g = Gauge::default();
            registry.register(name, help, g.clone());
            g
        };
        let pool_connections = gauge(&mut registry, "db_pool_connections", "Database connections open");
        let pool_idle = gauge(&mut registry, "db_pool_idle_connections", "Database connections idle");
        let match_queue = gauge(
            &mut registry,
            "match_queue_persons",
            "People waiting to be compared with the province's records (counted up to 100,000)",
        );
        let import_stages =
            gauge(&mut registry, "import_stages", "Imports whose rows are staged and not yet published");
        let imports_running = gauge(&mut registry, "imports_running", "Imports running on a live server");
        let audit_head_age = Gauge::<f64, AtomicU64>::default();
        registry.register(
            "audit_head_age_seconds",
            "Seconds since the newest audit entry was written",
            audit_head_age.clone(),
        );
        Metrics {
            registry,
            requests,
            pool_connections,
            pool_idle,
            match_queue,
            import_stages,
            imports_running,
            audit_head_age,
        }
    }
}

impl Metrics {
    /// Note a request answered: its method, route template and status class, and how long it took.
    pub fn observe(&self, method: &str, route: Option<&str>, status: StatusCode, took: Duration) {
        // Only the methods Haven serves become labels: a client inventing methods must not grow the metrics.
        let method = match method {
            "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE" | "OPTIONS" => method,
            _ => "other",
        };
        let labels = RouteLabels {
            method: method.to_owned(),
            route: route.unwrap_or("unmatched").to_owned(),
            status: format!("{}xx", status.as_u16() / 100),
        };
        self.requests.get_or_create(&labels).observe(took.as_secs_f64());
    }
}

/// The route template of a request, for [`Metrics::observe`].
pub fn route_of(req: &Request) -> Option<String> {
    req.extensions().get::<MatchedPath>().map(|p| p.as_str().to_owned())
}

/// Whether this caller may read the metrics: see the module's comment.
fn may_scrape(state: &AppState, headers: &axum::http::HeaderMap, client: ClientAddr) -> bool {
    match &state.config.metrics_token {
        Some(token) => headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|given| {
                // Compared in constant time: the token guards the endpoint.
                use subtle::ConstantTimeEq;
                given.as_bytes().ct_eq(token.as_bytes()).into()
            }),
        None => client.0.is_some_and(|a| a.is_loopback()),
    }
}

/// `GET /metrics` in Prometheus's text format.
pub async fn scrape(State(state): State<AppState>, client: ClientAddr, req: Request) -> Response {
    if !may_scrape(&state, req.headers(), client) {
        return StatusCode::NOT_FOUND.into_response();
    }
    let m = &state.metrics;
    let pool = state.store.db.pool();
    m.pool_connections.set(i64::from(pool.size()));
    m.pool_idle.set(pool.num_idle() as i64);
    match state.store.operations().await {
        Ok(ops) => {
            m.imports_running.set(ops.imports_running);
            m.match_queue.set(ops.match_queue);
            m.import_stages.set(ops.import_stages);
            let age = ops.audit_head_at.map_or(0.0, |at| (state.store.now() - at).max(0) as f64 / 1000.0);
            m.audit_head_age.set(age);
        }
        Err(e) => {
            tracing::warn!(error = %e, "reading the store's figures for /metrics failed");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    }
    let mut body = String::new();
    if prometheus_client::encoding::text::encode(&mut body, &m.registry).is_err() {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], body).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invented_methods_and_unknown_paths_share_one_label_each() {
        let m = Metrics::default();
        for method in ["BREW", "PROPFIND", "X-ANYTHING"] {
            m.observe(method, None, StatusCode::METHOD_NOT_ALLOWED, Duration::from_millis(3));
        }
        m.observe("GET", Some("/persons/{id}"), StatusCode::OK, Duration::from_millis(20));
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &m.registry).expect("encode");
        let count = |labels: &str| {
            text.lines()
                .find(|l| l.starts_with(&format!("haven_http_request_duration_seconds_count{{{labels}}}")))
                .map(|l| l.rsplit(' ').next().unwrap_or_default().to_owned())
        };
        assert_eq!(count("method=\"other\",route=\"unmatched\",status=\"4xx\"").as_deref(), Some("3"));
        assert_eq!(count("method=\"GET\",route=\"/persons/{id}\",status=\"2xx\"").as_deref(), Some("1"));
        assert!(!text.contains("BREW"));
    }
}
