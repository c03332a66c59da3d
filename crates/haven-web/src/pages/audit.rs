//! The audit browser for auditors: filter by user, action, record and dates, page backwards from the newest,
//! and see whether the chain verifies.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use haven_app::audit::{self as app, AuditQuery};
use haven_store::audit::{self, Stored};
use serde::Deserialize;

use crate::ctx::{self as guards, Can};
use crate::error::AppResult;
use crate::page::{render, Ctx, FormState};
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
    /// The fields touched, separated so that the cell wraps.
    pub fields: String,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    c: Ctx,
    /// The filter's errors (an unknown user, a date that is not one), shown against their fields.
    f: FormState,
    /// The actions offered in the filter, by their names.
    actions: &'static [&'static str],
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
    let (found, f, status) = match app::browse(&state, &viewer, &q, PAGE).await? {
        Ok(found) => (found, FormState::default(), StatusCode::OK),
        Err(errors) => {
            let pairs: Vec<(String, String)> =
                [("user", &q.user), ("action", &q.action), ("record", &q.record), ("from", &q.from), ("to", &q.to)]
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).clone()))
                    .collect();
            ((Vec::new(), None), FormState::with_errors(&pairs, errors), StatusCode::UNPROCESSABLE_ENTITY)
        }
    };
    let (entries, next_before) = found;
    let mut lines = Vec::with_capacity(entries.len());
    for e in entries {
        let user = match state.store.user(&e.actor_user_id).await? {
            Some(u) => u.username,
            None => e.actor_user_id.clone(),
        };
        let fields = e.fields.split(',').collect::<Vec<_>>().join(", ");
        lines.push(AuditLine { e, user, fields });
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
    let page =
        AuditPage { c, f, actions: ACTIONS, user, action, record, from, to, lines, next_before, query_base, verified };
    Ok(render(status, &page))
}

/// The actions an auditor most often asks about, offered by name in the filter (any action code may still be
/// given in the address). Each has a name in `audit_action.<code>`.
const ACTIONS: &[&str] = &[
    "person.view_identity",
    "person.view_name",
    "person.search",
    "person.create",
    "person.update",
    "person.merge",
    "person.view_attachment",
    "victim.create",
    "victim.propose_identification",
    "victim.approve_identification",
    "report.create",
    "report.view_details",
    "absentee.view_details",
    "returnee.view_screening",
    "cooperation.view",
    "consent.record",
    "consent.withdraw",
    "grant.revoke",
    "handover.create",
    "handover.accept",
    "referral.accept",
    "break_glass.open",
    "break_glass.review",
    "list.download",
    "export.htcds",
    "import.commit",
    "auth.login_failed",
    "auth.login_locked",
    "auth.login_unknown",
    "user.create",
    "user.roles",
    "user.roles_request",
    "user.roles_approve",
    "user.roles_decline",
    "keys.rotate",
];
