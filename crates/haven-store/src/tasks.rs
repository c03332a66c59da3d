//! Work queues: how many items wait in each of an agency's (or a user's) queues, and the oldest of them.
//!
//! Every count is bounded: it reads at most [`CAP`] rows in the order of an index, so the home page costs a
//! few index look-ups whatever the number of records ("99+" is as useful to a person as 70,000). The
//! queues are the store's side of the task list in `haven-app`; what they mean for whom is said there.

use haven_domain::time::{local_date, Millis};
use sqlx::any::AnyArguments;
use sqlx::query::QueryAs;
use sqlx::Any;
use time::Date;

use crate::reports::{day, parse_day};
use crate::Store;

/// The most rows a queue reads. A count at the cap means "at least CAP".
pub const CAP: i64 = 100;

/// One queue of work, with what it needs to select its rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Queue<'a> {
    /// Undecided reports of the agency whose last day has passed.
    ReportsOverdue { today: Date },
    /// Undecided reports of the agency whose last day falls from today to `until`.
    ReportsDue { today: Date, until: Date },
    /// Undecided, running reports assigned to the user whose last day is at latest `until` (overdue included).
    ReportsAssigned { user_id: &'a str, until: Date },
    /// The agency's reports waiting for the procuracy's answer on an extension.
    ReportsAwaitingProcuracy,
    /// Reports notified to this procuracy whose extension request waits for its answer.
    ReportsToAnswer,
    /// Open victim cases still to be verified with the police, due before today.
    VerificationOverdue { today: Date },
    /// Open victim cases still to be verified with the police, due today or later.
    VerificationDue { today: Date },
    /// Identification decisions proposed and waiting for a head.
    IdentificationDecisions,
    /// Victim case handovers proposed to the agency and not yet answered.
    HandoversIncoming,
    /// Referrals sent to the agency and not yet accepted or declined.
    ReferralsIncoming,
    /// Referrals the agency accepted and has not completed.
    ReferralsInProgress,
    /// Returned citizens recorded by the agency and not yet screened.
    ReturneesToScreen,
    /// The agency's absentees not yet reviewed in a review round running on `today`.
    AbsenteesToReview { today: Date },
    /// Follow-up visits of the agency's open cases due by `until` (overdue included).
    VisitsDue { until: Date },
    /// International cooperation requests without an answer.
    CooperationAwaiting,
    /// Candidate pairs with a record of the agency that nobody has confirmed yet.
    MatchesToReview,
    /// Candidate pairs the other agency has confirmed as one person, waiting for this agency's word.
    MatchesToConfirm,
    /// Break-the-glass accesses to the agency's records not yet reviewed by its head.
    BreakGlassToReview,
    /// Break-the-glass accesses anywhere in the province opened before `before` and still not reviewed (the
    /// auditor's queue; the agency is not used).
    BreakGlassUnreviewed { before: Millis },
    /// Role requests the user may answer: their agency's accounts' (a head), or every agency's
    /// (`province`, an administrator); never one they asked for or one for their own account.
    RoleRequests { user_id: &'a str, province: bool },
}

/// How much waits in a queue, and the day of its oldest item (its due day, or the day it arrived).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    pub count: i64,
    pub oldest: Option<Date>,
}

/// The kind of a queue's day column: a calendar day stored as text, or an instant.
enum Key {
    Day,
    Instant,
}

/// A value bound to a queue's statement.
enum Arg {
    Text(String),
    Int(i64),
}

impl Arg {
    fn bind<'q, O>(&'q self, q: QueryAs<'q, Any, O, AnyArguments<'q>>) -> QueryAs<'q, Any, O, AnyArguments<'q>> {
        match self {
            Arg::Text(s) => q.bind(s.as_str()),
            Arg::Int(n) => q.bind(*n),
        }
    }
}

impl Store {
    /// How much waits in `queue` for the agency (or the user the queue names).
    pub async fn tally(&self, agency_id: &str, queue: Queue<'_>) -> anyhow::Result<Tally> {
        use Queue::*;
        let mut args = vec![Arg::Text(agency_id.to_owned())];
        let mut bind = |v: Arg| {
            args.push(v);
            format!("${}", args.len())
        };
        let date = |d: Date| Arg::Text(day(d));
        // Each arm selects its day column as `d`, filtered and ordered along an index; at most CAP rows are read.
        let (key, inner) = match queue {
            ReportsOverdue { today } => (
                Key::Day,
                format!(
                    "SELECT last_day AS d FROM reports WHERE owner_agency_id = $1 AND decision_kind IS NULL \
                     AND last_day < {} ORDER BY last_day",
                    bind(date(today))
                ),
            ),
            ReportsDue { today, until } => (
                Key::Day,
                format!(
                    "SELECT last_day AS d FROM reports WHERE owner_agency_id = $1 AND decision_kind IS NULL \
                     AND last_day >= {} AND last_day <= {} ORDER BY last_day",
                    bind(date(today)),
                    bind(date(until))
                ),
            ),
            ReportsAssigned { user_id, until } => (
                Key::Day,
                format!(
                    "SELECT last_day AS d FROM reports WHERE assigned_to = {} AND decision_kind IS NULL \
                     AND last_day <= {} AND owner_agency_id = $1 AND suspended_since IS NULL ORDER BY last_day",
                    bind(Arg::Text(user_id.to_owned())),
                    bind(date(until))
                ),
            ),
            ReportsAwaitingProcuracy => (
                Key::Day,
                "SELECT last_day AS d FROM reports WHERE owner_agency_id = $1 AND decision_kind IS NULL \
                 AND procuracy_pending = 1 ORDER BY last_day"
                    .to_owned(),
            ),
            ReportsToAnswer => (
                Key::Day,
                "SELECT last_day AS d FROM reports WHERE procuracy_agency_id = $1 AND procuracy_pending = 1 \
                 AND decision_kind IS NULL ORDER BY last_day"
                    .to_owned(),
            ),
            VerificationOverdue { today } => (
                Key::Day,
                format!(
                    "SELECT verification_due AS d FROM victim_cases WHERE owner_agency_id = $1 \
                     AND verified_on IS NULL AND verification_due < {} AND closed_on IS NULL \
                     ORDER BY verification_due",
                    bind(date(today))
                ),
            ),
            VerificationDue { today } => (
                Key::Day,
                format!(
                    "SELECT verification_due AS d FROM victim_cases WHERE owner_agency_id = $1 \
                     AND verified_on IS NULL AND verification_due >= {} AND closed_on IS NULL \
                     ORDER BY verification_due",
                    bind(date(today))
                ),
            ),
            IdentificationDecisions => (
                Key::Day,
                "SELECT proposed_on AS d FROM victim_cases WHERE owner_agency_id = $1 AND approved_by IS NULL \
                 AND proposed_outcome IS NOT NULL ORDER BY proposed_on"
                    .to_owned(),
            ),
            HandoversIncoming => (
                Key::Instant,
                "SELECT proposed_at AS d FROM victim_handovers WHERE to_agency_id = $1 AND status = 'proposed' \
                 ORDER BY proposed_at"
                    .to_owned(),
            ),
            ReferralsIncoming => (
                Key::Day,
                "SELECT due_on AS d FROM referrals WHERE to_agency_id = $1 AND status = 'sent' ORDER BY due_on"
                    .to_owned(),
            ),
            ReferralsInProgress => (
                Key::Day,
                "SELECT due_on AS d FROM referrals WHERE to_agency_id = $1 AND status = 'accepted' ORDER BY due_on"
                    .to_owned(),
            ),
            ReturneesToScreen => (
                Key::Instant,
                "SELECT created_at AS d FROM returnees WHERE owner_agency_id = $1 AND classification IS NULL \
                 ORDER BY created_at"
                    .to_owned(),
            ),
            AbsenteesToReview { today } => {
                let t = bind(date(today));
                (
                    Key::Day,
                    format!(
                        "SELECT r.ends_on AS d FROM review_rounds r \
                         JOIN absentees a ON a.owner_agency_id = r.owner_agency_id \
                         WHERE r.owner_agency_id = $1 AND r.starts_on <= {t} AND r.ends_on >= {t} \
                         AND NOT EXISTS (SELECT 1 FROM absentee_reviews v WHERE v.absentee_id = a.id \
                         AND v.round_id = r.id) ORDER BY r.ends_on"
                    ),
                )
            }
            VisitsDue { until } => (
                Key::Day,
                format!(
                    "SELECT next_visit_on AS d FROM victim_cases WHERE owner_agency_id = $1 AND next_visit_on <= {} \
                     ORDER BY next_visit_on",
                    bind(date(until))
                ),
            ),
            CooperationAwaiting => (
                Key::Day,
                "SELECT due_on AS d FROM cooperation_requests WHERE owner_agency_id = $1 AND answered_on IS NULL \
                 AND withdrawn_on IS NULL ORDER BY due_on"
                    .to_owned(),
            ),
            MatchesToReview | MatchesToConfirm => {
                // The agency's side is unconfirmed; the other side has confirmed (to confirm) or not (to review).
                // A pair inside one agency is decided by that agency alone and is always "to review".
                let other = if queue == MatchesToConfirm { "IS NOT NULL" } else { "IS NULL" };
                (
                    Key::Instant,
                    format!(
                        "SELECT c.created_at AS d FROM match_candidates c JOIN persons a ON a.id = c.person_a \
                         JOIN persons b ON b.id = c.person_b WHERE c.status = 'open' \
                         AND a.merged_into IS NULL AND b.merged_into IS NULL AND ( \
                         (a.owner_agency_id = $1 AND b.owner_agency_id = $1 AND {inside}) \
                         OR (a.owner_agency_id = $1 AND b.owner_agency_id <> $1 AND c.confirmed_a_by IS NULL \
                         AND c.confirmed_b_by {other}) \
                         OR (b.owner_agency_id = $1 AND a.owner_agency_id <> $1 AND c.confirmed_b_by IS NULL \
                         AND c.confirmed_a_by {other})) ORDER BY c.created_at",
                        inside = if queue == MatchesToReview { "1 = 1" } else { "1 = 0" },
                    ),
                )
            }
            BreakGlassToReview => (
                Key::Instant,
                "SELECT opened_at AS d FROM break_glass WHERE owner_agency_id = $1 AND reviewed_by IS NULL \
                 ORDER BY opened_at"
                    .to_owned(),
            ),
            RoleRequests { user_id, province } => (
                Key::Instant,
                format!(
                    "SELECT q.requested_at AS d FROM role_requests q JOIN users u ON u.id = q.user_id \
                     WHERE q.status = 'pending' AND q.requested_by <> {me} AND q.user_id <> {me} \
                     AND (u.agency_id = $1 OR {province}) ORDER BY q.requested_at",
                    me = bind(Arg::Text(user_id.to_owned())),
                    province = if province { "1 = 1" } else { "1 = 0" },
                ),
            ),
            BreakGlassUnreviewed { before } => (
                Key::Instant,
                format!(
                    "SELECT opened_at AS d FROM break_glass WHERE reviewed_by IS NULL AND opened_at < {} \
                     AND $1 = $1 ORDER BY opened_at",
                    bind(Arg::Int(before))
                ),
            ),
        };
        let sql = format!("SELECT CAST(COUNT(*) AS BIGINT), MIN(d) FROM ({inner} LIMIT {CAP}) t");
        match key {
            Key::Day => {
                let mut q = sqlx::query_as::<_, (i64, Option<String>)>(&sql);
                for a in &args {
                    q = a.bind(q);
                }
                let (count, oldest) = q.fetch_one(self.db.pool()).await?;
                Ok(Tally { count, oldest: oldest.as_deref().and_then(parse_day) })
            }
            Key::Instant => {
                let mut q = sqlx::query_as::<_, (i64, Option<i64>)>(&sql);
                for a in &args {
                    q = a.bind(q);
                }
                let (count, oldest) = q.fetch_one(self.db.pool()).await?;
                Ok(Tally { count, oldest: oldest.and_then(local_date) })
            }
        }
    }
}
