//! The task list: what waits for the caller, gathered from every area of work their agency takes part in
//! and their roles allow, with how many, since when or due when, and whether any of it is late. The home page
//! shows it; notifications will be drawn from the same list.
//!
//! Each task is one bounded queue of the store ([`haven_store::tasks`]): at most [`CAP`] rows read along an
//! index, so a list costs the same with ten records or ten million.

use haven_domain::work::{areas, has_function, Area};
use haven_domain::{Action, Role};
use haven_store::tasks::{Queue, Tally};
use time::{Date, Duration};

use crate::{App, Caller, Result};

pub use haven_store::tasks::CAP;

/// Follow-up visits are listed this many days ahead.
const VISITS_AHEAD_DAYS: i64 = 7;
/// A break-the-glass access its agency's head has not reviewed in this many days is the auditor's business.
const BREAK_GLASS_REVIEW_DAYS: i64 = 7;

/// A kind of task. Its code names it in translations ("task.<code>") and in the page's ids.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    ReportsMine,
    ReportsOverdue,
    ReportsDue,
    ReportsProcuracy,
    ReportsToAnswer,
    VerificationOverdue,
    VerificationDue,
    Decisions,
    HandoversIncoming,
    ReferralsIncoming,
    ReferralsInProgress,
    ReturneesToScreen,
    AbsenteesToReview,
    VisitsDue,
    CooperationAwaiting,
    MatchesToConfirm,
    MatchesToReview,
    BreakGlassToReview,
    BreakGlassUnreviewed,
    RoleRequests,
}

/// What the day of a task's oldest item is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dated {
    /// The day it is due: late once it has passed.
    Due,
    /// The day it arrived.
    Since,
}

impl Kind {
    pub const ALL: [Kind; 20] = [
        Kind::ReportsMine,
        Kind::ReportsOverdue,
        Kind::ReportsDue,
        Kind::ReportsProcuracy,
        Kind::ReportsToAnswer,
        Kind::VerificationOverdue,
        Kind::VerificationDue,
        Kind::Decisions,
        Kind::HandoversIncoming,
        Kind::ReferralsIncoming,
        Kind::ReferralsInProgress,
        Kind::ReturneesToScreen,
        Kind::AbsenteesToReview,
        Kind::VisitsDue,
        Kind::CooperationAwaiting,
        Kind::MatchesToConfirm,
        Kind::MatchesToReview,
        Kind::BreakGlassToReview,
        Kind::BreakGlassUnreviewed,
        Kind::RoleRequests,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Kind::ReportsMine => "reports_mine",
            Kind::ReportsOverdue => "reports_overdue",
            Kind::ReportsDue => "reports_due",
            Kind::ReportsProcuracy => "reports_procuracy",
            Kind::ReportsToAnswer => "reports_to_answer",
            Kind::VerificationOverdue => "verification_overdue",
            Kind::VerificationDue => "verification_due",
            Kind::Decisions => "decisions",
            Kind::HandoversIncoming => "handovers_incoming",
            Kind::ReferralsIncoming => "referrals_incoming",
            Kind::ReferralsInProgress => "referrals_in_progress",
            Kind::ReturneesToScreen => "returnees_to_screen",
            Kind::AbsenteesToReview => "absentees_to_review",
            Kind::VisitsDue => "visits_due",
            Kind::CooperationAwaiting => "cooperation_awaiting",
            Kind::MatchesToConfirm => "matches_to_confirm",
            Kind::MatchesToReview => "matches_to_review",
            Kind::BreakGlassToReview => "break_glass_to_review",
            Kind::BreakGlassUnreviewed => "break_glass_unreviewed",
            Kind::RoleRequests => "role_requests",
        }
    }

    /// The page where the work is done.
    pub fn href(self) -> &'static str {
        match self {
            Kind::ReportsMine => "/reports?list=due&mine=1",
            Kind::ReportsOverdue => "/reports?list=overdue",
            Kind::ReportsDue => "/reports?list=due",
            Kind::ReportsProcuracy => "/reports?list=procuracy",
            Kind::ReportsToAnswer => "/reports?list=to_answer",
            Kind::VerificationOverdue | Kind::VerificationDue => "/victims#awaiting-verification",
            // The home page lists each decision with its case.
            Kind::Decisions => "/#decisions",
            Kind::HandoversIncoming => "/referrals#handovers",
            Kind::ReferralsIncoming | Kind::ReferralsInProgress => "/referrals",
            Kind::ReturneesToScreen => "/handovers",
            Kind::AbsenteesToReview => "/absentees",
            Kind::VisitsDue => "/victims#visits-due",
            Kind::CooperationAwaiting => "/cooperation",
            Kind::MatchesToConfirm | Kind::MatchesToReview => "/matches",
            Kind::BreakGlassToReview => "/supervision",
            Kind::BreakGlassUnreviewed => "/audit?action=break_glass.open",
            Kind::RoleRequests => "/roles/requests",
        }
    }

    pub fn dated(self) -> Dated {
        match self {
            Kind::ReportsMine
            | Kind::ReportsOverdue
            | Kind::ReportsDue
            | Kind::ReportsProcuracy
            | Kind::ReportsToAnswer
            | Kind::VerificationOverdue
            | Kind::VerificationDue
            | Kind::ReferralsIncoming
            | Kind::ReferralsInProgress
            | Kind::AbsenteesToReview
            | Kind::VisitsDue
            | Kind::CooperationAwaiting => Dated::Due,
            Kind::Decisions
            | Kind::HandoversIncoming
            | Kind::ReturneesToScreen
            | Kind::MatchesToConfirm
            | Kind::MatchesToReview
            | Kind::BreakGlassToReview
            | Kind::BreakGlassUnreviewed
            | Kind::RoleRequests => Dated::Since,
        }
    }
}

/// One task: how many items wait (at most [`CAP`]; `capped` when there may be more), the day of the oldest,
/// and whether any is late.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Task {
    pub kind: Kind,
    pub count: i64,
    pub capped: bool,
    pub oldest: Option<Date>,
    pub late: bool,
}

impl Task {
    /// The page where the work is done; the user's own reports open on the overdue ones when some are late.
    pub fn href(&self) -> &'static str {
        match self.kind {
            Kind::ReportsMine if self.late => "/reports?list=overdue&mine=1",
            k => k.href(),
        }
    }

    fn new(kind: Kind, tally: Tally, today: Date) -> Task {
        let late = match kind {
            // Everything in these queues is past its day by definition.
            Kind::ReportsOverdue | Kind::VerificationOverdue | Kind::BreakGlassUnreviewed => true,
            _ => kind.dated() == Dated::Due && tally.oldest.is_some_and(|d| d < today),
        };
        Task { kind, count: tally.count, capped: tally.count >= CAP, oldest: tally.oldest, late }
    }
}

/// The queues that concern the caller, by their roles and their agency's areas of work.
fn queues<'a>(caller: &'a Caller, today: Date) -> Vec<(Kind, Queue<'a>)> {
    let areas = areas(&caller.agency.functions);
    let works_in = |a: Area| areas.contains(&a);
    let has_function = |f: &str| has_function(&caller.agency.functions, f);
    let mut out = Vec::new();
    // Those who act on records: officers and heads. Clerks type in what arrives and have no queue of decisions.
    if caller.can(Action::EditRecords) {
        if works_in(Area::Reports) && (has_function("intake") || has_function("investigate")) {
            let until = today + Duration::days(crate::reports::DUE_SOON_DAYS);
            out.push((Kind::ReportsMine, Queue::ReportsAssigned { user_id: &caller.user.id, until }));
            out.push((Kind::ReportsOverdue, Queue::ReportsOverdue { today }));
            out.push((Kind::ReportsDue, Queue::ReportsDue { today, until }));
            out.push((Kind::ReportsProcuracy, Queue::ReportsAwaitingProcuracy));
        }
        if has_function("supervise_intake") {
            out.push((Kind::ReportsToAnswer, Queue::ReportsToAnswer));
        }
        if works_in(Area::Victims) {
            out.push((Kind::VerificationOverdue, Queue::VerificationOverdue { today }));
            out.push((Kind::VerificationDue, Queue::VerificationDue { today }));
            out.push((Kind::VisitsDue, Queue::VisitsDue { until: today + Duration::days(VISITS_AHEAD_DAYS) }));
        }
        // Any agency may be sent a referral or a handover, or be asked to confirm a person.
        out.push((Kind::HandoversIncoming, Queue::HandoversIncoming));
        out.push((Kind::ReferralsIncoming, Queue::ReferralsIncoming));
        out.push((Kind::ReferralsInProgress, Queue::ReferralsInProgress));
        out.push((Kind::MatchesToConfirm, Queue::MatchesToConfirm));
        if works_in(Area::Matches) {
            out.push((Kind::MatchesToReview, Queue::MatchesToReview));
        }
        if works_in(Area::Returnees) {
            out.push((Kind::ReturneesToScreen, Queue::ReturneesToScreen));
        }
        if works_in(Area::Absentees) {
            out.push((Kind::AbsenteesToReview, Queue::AbsenteesToReview { today }));
        }
        if works_in(Area::Cooperation) {
            out.push((Kind::CooperationAwaiting, Queue::CooperationAwaiting));
        }
    }
    if caller.has_role(Role::AgencyHead) && caller.can(Action::ViewRecords) {
        out.push((Kind::Decisions, Queue::IdentificationDecisions));
    }
    if caller.can(Action::SuperviseAgency) {
        out.push((Kind::BreakGlassToReview, Queue::BreakGlassToReview));
    }
    // A second person approves every role that reads identities: another administrator or the agency's head.
    let province = caller.can(Action::ManageUsers);
    if province || caller.can(Action::SuperviseAgency) {
        out.push((Kind::RoleRequests, Queue::RoleRequests { user_id: &caller.user.id, province }));
    }
    out
}

/// What waits for the caller, late first, then by the day of the oldest item; empty queues are left out.
pub async fn for_caller(app: &App, caller: &Caller) -> Result<Vec<Task>> {
    let today = app.today();
    let mut tasks = Vec::new();
    for (kind, queue) in queues(caller, today) {
        let tally = app.store.tally(&caller.agency.id, queue).await?;
        if tally.count > 0 {
            tasks.push(Task::new(kind, tally, today));
        }
    }
    if caller.can(Action::ViewAudit) {
        let before = app.store.now() - BREAK_GLASS_REVIEW_DAYS * 24 * 3_600_000;
        let tally = app.store.tally(&caller.agency.id, Queue::BreakGlassUnreviewed { before }).await?;
        if tally.count > 0 {
            tasks.push(Task::new(Kind::BreakGlassUnreviewed, tally, today));
        }
    }
    order(&mut tasks);
    Ok(tasks)
}

/// Late tasks first, then by the day of the oldest item (undated last).
fn order(tasks: &mut [Task]) {
    tasks.sort_by_key(|t| (!t.late, t.oldest.is_none(), t.oldest));
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn a_task_is_late_when_its_oldest_due_day_has_passed() {
        let today = date!(2026 - 03 - 10);
        let tally = |d| Tally { count: 3, oldest: Some(d) };
        assert!(Task::new(Kind::ReferralsIncoming, tally(date!(2026 - 03 - 09)), today).late);
        assert!(!Task::new(Kind::ReferralsIncoming, tally(today), today).late);
        // A day of arrival is never "late" by itself.
        assert!(!Task::new(Kind::HandoversIncoming, tally(date!(2026 - 01 - 01)), today).late);
        assert!(Task::new(Kind::ReportsOverdue, Tally { count: 1, oldest: None }, today).late);
        assert!(Task::new(Kind::ReportsDue, Tally { count: CAP, oldest: None }, today).capped);
        assert!(!Task::new(Kind::ReportsDue, Tally { count: CAP - 1, oldest: None }, today).capped);
    }

    #[test]
    fn late_tasks_come_first_then_the_oldest() {
        let today = date!(2026 - 03 - 10);
        let t = |kind, d| Task::new(kind, Tally { count: 1, oldest: d }, today);
        let mut tasks = vec![
            t(Kind::HandoversIncoming, None),
            t(Kind::ReturneesToScreen, Some(date!(2026 - 03 - 01))),
            t(Kind::ReferralsIncoming, Some(date!(2026 - 03 - 12))),
            t(Kind::CooperationAwaiting, Some(date!(2026 - 03 - 05))),
        ];
        order(&mut tasks);
        let kinds: Vec<Kind> = tasks.iter().map(|t| t.kind).collect();
        assert_eq!(
            kinds,
            [Kind::CooperationAwaiting, Kind::ReturneesToScreen, Kind::ReferralsIncoming, Kind::HandoversIncoming]
        );
    }

    #[test]
    fn every_kind_has_a_distinct_code_and_a_page() {
        let all = Kind::ALL;
        let codes: std::collections::HashSet<_> = all.iter().map(|k| k.code()).collect();
        assert_eq!(codes.len(), all.len());
        assert!(all.iter().all(|k| k.href().starts_with('/')));
    }
}
