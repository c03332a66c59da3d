//! The audit browser for auditors: filter by user, action, record and dates, page backwards from the newest,
//! and see whether the chain verifies.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use haven_domain::format::parse_date;
use haven_domain::time::{to_millis, DAY, VN_OFFSET};
use haven_store::audit::{self, Filter, Stored};
use serde::Deserialize;

use crate::ctx::{self as guards, Can};
use crate::error::AppResult;
use crate::page::{ok, Ctx};
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/audit", get(browse))
}

#[derive(Deserialize, Default)]
struct AuditQuery {
    user: Option<String>,
    action: Option<String>,
    record: Option<String>,
    from: Option<String>,
    to: Option<String>,
    before: Option<i64>,
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

fn day_start(s: &str) -> Option<i64> {
    parse_date(s).map(|d| to_millis(d.midnight().assume_offset(VN_OFFSET)))
}

async fn browse(
    State(state): State<AppState>,
    Can(..): Can<guards::ViewAudit>,
    c: Ctx,
    Query(q): Query<AuditQuery>,
) -> AppResult<Response> {
    let s = |o: &Option<String>| o.as_deref().unwrap_or("").trim().to_owned();
    let (user, action, record, from, to) = (s(&q.user), s(&q.action), s(&q.record), s(&q.from), s(&q.to));
    let actor_user_id = if user.is_empty() {
        None
    } else {
        // Unknown user names match nothing rather than everything.
        Some(state.store.user_by_name(&user).await?.map(|u| u.id).unwrap_or_else(|| user.clone()))
    };
    let filter = Filter {
        actor_user_id,
        action: Some(action.clone()),
        record_id: Some(record.clone()),
        record_kind: None,
        from: day_start(&from),
        to: day_start(&to).map(|t| t + DAY),
        before_seq: q.before,
    };
    const PAGE: i64 = 100;
    let entries = audit::browse(&state.store.db, &filter, PAGE).await?;
    let next_before = (entries.len() as i64 == PAGE).then(|| entries.last().map(|e| e.seq)).flatten();
    let mut lines = Vec::with_capacity(entries.len());
    for e in entries {
        let user = match state.store.user(&e.actor_user_id).await? {
            Some(u) => u.username,
            None => e.actor_user_id.clone(),
        };
        lines.push(AuditLine { e, user });
    }
    let verified = if q.verify.is_some() { Some(state.store.verify_audit().await?) } else { None };
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
