//! The audit log for auditors: entries filtered by user, action, record and days, paged backwards from the
//! newest, and the verification of the whole chain.

use haven_domain::format::parse_date;
use haven_domain::time::DAY;
use haven_domain::Action;
use haven_store::audit::{self, Filter, Stored, VerifyReport};
use serde::Deserialize;

use crate::{App, Caller, Fields, Outcome, Result};

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
    parse_date(s).map(haven_domain::time::day_start)
}

/// A page of entries, newest first, and the cursor of the next (older) page.
pub async fn browse(
    app: &App,
    caller: &Caller,
    q: &AuditQuery,
    limit: i64,
) -> Result<Outcome<(Vec<Stored>, Option<i64>)>> {
    caller.require(Action::ViewAudit)?;
    let mut errors = Fields::default();
    let user = q.user.trim();
    let actor_user_id = if user.is_empty() {
        None
    } else {
        match app.store.user_by_name(user).await? {
            Some(u) => Some(u.id),
            None => {
                errors.add("user", "error.audit_unknown_user");
                None
            }
        }
    };
    // A record is named by the case code users see, or by its id.
    let record = q.record.trim();
    let (record_kind, record_id) = if record.is_empty() {
        (None, None)
    } else {
        match app.store.records_with_code(record).await?.into_iter().next() {
            Some((kind, id)) => (Some(kind), Some(id)),
            None => (None, Some(record.to_owned())),
        }
    };
    let mut day = |field: &str, written: &str| -> Option<i64> {
        let written = written.trim();
        if written.is_empty() {
            return None;
        }
        let start = day_start(written);
        if start.is_none() {
            errors.add(field, "error.date");
        }
        start
    };
    let from = day("from", &q.from);
    let to = day("to", &q.to).map(|t| t + DAY);
    if from.zip(to).is_some_and(|(f, t)| f >= t) {
        errors.add("to", "error.audit_range");
    }
    if errors.has_errors() {
        return Ok(Err(errors.errors));
    }
    let filter = Filter {
        actor_user_id,
        action: Some(q.action.trim().to_owned()),
        record_id,
        record_kind,
        from,
        to,
        before_seq: q.before,
    };
    let entries = audit::browse(&app.store.db, &filter, limit).await?;
    let next = (entries.len() as i64 == limit).then(|| entries.last().map(|e| e.seq)).flatten();
    Ok(Ok((entries, next)))
}

/// Recompute the hash chain and check its signatures.
pub async fn verify(app: &App, caller: &Caller) -> Result<VerifyReport> {
    caller.require(Action::ViewAudit)?;
    Ok(app.store.verify_audit().await?)
}
