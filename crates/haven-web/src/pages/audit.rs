//! The audit browser for auditors: filter by user, action, record and dates, page backwards from the newest,
//! and see whether the chain verifies.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use haven_app::audit::{self as app, AuditQuery};
use haven_store::audit::{self, Stored};
use serde::Deserialize;

use crate::ctx::{self as guards, Can};
use crate::error::AppResult;
use crate::page::{ok, Ctx};
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/audit", get(browse))
}

#[derive(Deserialize, Default)]
struct PageQuery {
    #[serde(flatten)]
    q: AuditQuery,
    verify: Option<String>,
}

pub struct AuditLine {
    pub e: Stored,
    pub user: String,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    c: Ctx,
    user: String,
    action: String,
    record: String,
    from: String,
    to: String,
    lines: Vec<AuditLine>,
    next_before: Option<i64>,
    query_base: String,
    verified: Option<audit::VerifyReport>,
}

async fn browse(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::ViewAudit>,
    c: Ctx,
    Query(PageQuery { q, verify }): Query<PageQuery>,
) -> AppResult<Response> {
    const PAGE: i64 = 100;
    let (entries, next_before) = app::browse(&state, &viewer, &q, PAGE).await?;
    let mut lines = Vec::with_capacity(entries.len());
    for e in entries {
        let user = match state.store.user(&e.actor_user_id).await? {
            Some(u) => u.username,
            None => e.actor_user_id.clone(),
        };
        lines.push(AuditLine { e, user });
    }
    let verified = if verify.is_some() { Some(app::verify(&state, &viewer).await?) } else { None };
    let t = |s: &str| s.trim().to_owned();
    let (user, action, record, from, to) = (t(&q.user), t(&q.action), t(&q.record), t(&q.from), t(&q.to));
    let query_base = serde_urlencoded::to_string([
        ("user", &user),
        ("action", &action),
        ("record", &record),
        ("from", &from),
        ("to", &to),
    ])
    .unwrap_or_default();
    Ok(ok(&AuditPage { c, user, action, record, from, to, lines, next_before, query_base, verified }))
}
