//! The audit log for auditors: entries filtered by user, action, record and days, paged backwards from the
//! newest, and the verification of the whole chain.

use haven_domain::format::parse_date;
use haven_domain::time::{to_millis, DAY, VN_OFFSET};
use haven_domain::Action;
use haven_store::audit::{self, Filter, Stored, VerifyReport};
use serde::Deserialize;

use crate::{App, Caller, Result};

/// What an auditor filters on; every part may be left empty.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct AuditQuery {
    /// A user name.
    pub user: String,
    pub action: String,
    /// A record id.
    pub record: String,
    /// First and last day, dd/mm/yyyy.
    pub from: String,
    pub to: String,
    /// Entries before this sequence number (the cursor to page backwards).
    pub before: Option<i64>,
}

/// The start of a day in Viet Nam, as people write it.
fn day_start(s: &str) -> Option<i64> {
    parse_date(s).map(|d| to_millis(d.midnight().assume_offset(VN_OFFSET)))
}

/// A page of entries, newest first, and the cursor of the next (older) page.
pub async fn browse(app: &App, caller: &Caller, q: &AuditQuery, limit: i64) -> Result<(Vec<Stored>, Option<i64>)> {
    caller.require(Action::ViewAudit)?;
    let user = q.user.trim();
    let actor_user_id = if user.is_empty() {
        None
    } else {
        // Unknown user names match nothing rather than everything.
        Some(app.store.user_by_name(user).await?.map(|u| u.id).unwrap_or_else(|| user.to_owned()))
    };
    let filter = Filter {
        actor_user_id,
        action: Some(q.action.trim().to_owned()),
        record_id: Some(q.record.trim().to_owned()),
        record_kind: None,
        from: day_start(q.from.trim()),
        to: day_start(q.to.trim()).map(|t| t + DAY),
        before_seq: q.before,
    };
    let entries = audit::browse(&app.store.db, &filter, limit).await?;
    let next = (entries.len() as i64 == limit).then(|| entries.last().map(|e| e.seq)).flatten();
    Ok((entries, next))
}

/// Recompute the hash chain and check its signatures.
pub async fn verify(app: &App, caller: &Caller) -> Result<VerifyReport> {
    caller.require(Action::ViewAudit)?;
    Ok(app.store.verify_audit().await?)
}
