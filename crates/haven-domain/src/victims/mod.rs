//! Victim protection: a case's status path and identification, the verification clock, the support regimes
//! a person is entitled to (rules from the profile), and consent per purpose.

pub mod consent;
pub mod handover;
pub mod htcds;
pub mod referral;
pub mod support;

use serde::{Deserialize, Serialize};
use time::{Date, Duration};

/// Where a victim case stands (Law 53/2024, the path from signs to identification).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// A person showing signs of having been trafficked.
    Signs,
    /// Being identified as a victim.
    BeingIdentified,
    Identified,
    NotVictim,
}

impl Status {
    pub const ALL: [Status; 4] = [Status::Signs, Status::BeingIdentified, Status::Identified, Status::NotVictim];

    pub fn code(self) -> &'static str {
        match self {
            Status::Signs => "signs",
            Status::BeingIdentified => "being_identified",
            Status::Identified => "identified",
            Status::NotVictim => "not_victim",
        }
    }

    pub fn from_code(code: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.code() == code)
    }
}

/// How the person came to the agency that received them.
pub const RECEPTION_KINDS: &[&str] = &["commune", "border", "overseas_mission", "shelter", "police"];

/// Evidence an identification may rest on (Law 53/2024 and its guidance).
pub const EVIDENCE: &[&str] = &[
    "procedural_body",
    "rescuer",
    "overseas_mission",
    "foreign_authority",
    "own_statement",
    "relatives",
    "offender_statement",
    "other_victims",
    "witnesses",
    "rescued_with_victims",
];

/// Protection measures (Law 53/2024): for the victim, the person being identified, accompanying children,
/// relatives and people who help.
pub const MEASURES: &[&str] = &["confidentiality", "guarding", "temporary_shelter", "relocation", "closed_trial"];
pub const PROTECTED: &[&str] = &["victim", "child", "relative", "helper"];
/// The areas of a reintegration plan.
pub const GOAL_AREAS: &[&str] = &["housing", "schooling", "work", "health", "family"];
/// The risk seen at a follow-up visit.
pub const RISKS: &[&str] = &["low", "medium", "high"];
/// Why a case is closed.
pub const CLOSE_REASONS: &[&str] =
    &["reintegrated", "moved_away", "declined_support", "transferred", "deceased", "not_victim"];
/// The parts of a victim case a scoped grant can open (a referral opens only what its kind needs). The
/// summary (code, status, reception, verification clock) is always shown to anyone who may see the case;
/// `person` opens the person record behind it.
pub const CASE_PARTS: &[&str] = &[
    "steps",
    "identification",
    "support",
    "context",
    "protection",
    "reintegration",
    "consents",
    "referrals",
    "person",
];

/// Which parts of a victim case a viewer sees.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Parts {
    pub steps: bool,
    pub identification: bool,
    pub support: bool,
    pub context: bool,
    pub protection: bool,
    pub reintegration: bool,
    pub consents: bool,
    pub referrals: bool,
    pub person: bool,
}

impl Parts {
    pub const ALL: Parts = Parts {
        steps: true,
        identification: true,
        support: true,
        context: true,
        protection: true,
        reintegration: true,
        consents: true,
        referrals: true,
        person: true,
    };

    /// The parts a grant's scope opens: `None` is the whole case; unknown codes open nothing.
    pub fn from_scope(scope: Option<&str>) -> Parts {
        let Some(scope) = scope else { return Parts::ALL };
        let has = |code: &str| scope.split_whitespace().any(|c| c == code);
        Parts {
            steps: has("steps"),
            identification: has("identification"),
            support: has("support"),
            context: has("context"),
            protection: has("protection"),
            reintegration: has("reintegration"),
            consents: has("consents"),
            referrals: has("referrals"),
            person: has("person"),
        }
    }

    pub fn is_all(self) -> bool {
        self == Parts::ALL
    }
}

/// At most this many visits are planned at once.
pub const MAX_VISITS: u32 = 24;

/// Follow-up visits: `count` of them, the first on `first`, then every `months` months (a visit due on the 31st
/// falls on the last day of a shorter month).
pub fn visit_schedule(first: Date, count: u32, months: u32) -> Vec<Date> {
    (0..count.min(MAX_VISITS)).map(|i| crate::reports::clock::add_months(first, i * months)).collect()
}

/// The support authority verifies with the police within this many days of reception.
pub const VERIFICATION_DAYS: i64 = 3;

/// The last day for verification with the police.
pub fn verification_due(received: Date) -> Date {
    received + Duration::days(VERIFICATION_DAYS)
}

/// An identification proposed by an officer; it takes effect only when an agency head approves it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identification {
    pub outcome: Status,
    pub decided_on: Date,
    pub legal_basis: String,
    pub evidence: Vec<String>,
    pub certificate_number: String,
    pub reasons: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VictimError {
    /// Only "identified" or "not a victim" may be decided.
    NotAnOutcome,
    /// The case already has a decided outcome.
    AlreadyDecided,
    /// A proposal already awaits approval.
    Pending,
    /// Nothing awaits approval.
    NothingPending,
    /// Approval is for an agency head other than the proposer.
    NotApprover,
    InFuture,
    BeforeReception,
    EvidenceMissing,
    BasisMissing,
    CertificateMissing,
    ReasonsMissing,
    Closed,
    /// Neither verification with the police nor a written reason why it could not be done is recorded.
    NotVerified,
    /// A returned proposal needs the head's comment.
    CommentMissing,
}

impl VictimError {
    pub fn key(self) -> &'static str {
        match self {
            VictimError::NotAnOutcome => "error.choice",
            VictimError::AlreadyDecided => "error.victim_decided",
            VictimError::Pending => "error.victim_pending",
            VictimError::NothingPending => "error.victim_nothing_pending",
            VictimError::NotApprover => "error.victim_not_approver",
            VictimError::InFuture => "error.date_in_future",
            VictimError::BeforeReception => "error.victim_before_reception",
            VictimError::EvidenceMissing => "error.victim_evidence",
            VictimError::BasisMissing => "error.victim_basis",
            VictimError::CertificateMissing => "error.victim_certificate",
            VictimError::ReasonsMissing => "error.victim_reasons",
            VictimError::Closed => "error.victim_closed",
            VictimError::NotVerified => "error.victim_not_verified",
            VictimError::CommentMissing => "error.victim_return_comment",
        }
    }
}

/// Where a case stands when an identification is proposed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Standing {
    pub current: Status,
    pub pending: bool,
    pub closed: bool,
    /// Verification with the police is recorded, or why it could not be done.
    pub verified: bool,
    pub received: Date,
}

/// What an identification proposal must hold, given where the case stands and today. Verification with the
/// police comes first (or the recorded reason why it could not be done). An identified victim needs a legal
/// basis, at least one ground of evidence from the list and the certificate number; "not a victim" needs its
/// reasons.
pub fn check_identification(case: Standing, today: Date, id: &Identification) -> Result<(), VictimError> {
    let Standing { current, pending, closed, verified, received } = case;
    if closed {
        return Err(VictimError::Closed);
    }
    if matches!(current, Status::Identified | Status::NotVictim) {
        return Err(VictimError::AlreadyDecided);
    }
    if pending {
        return Err(VictimError::Pending);
    }
    if !verified {
        return Err(VictimError::NotVerified);
    }
    if id.decided_on > today {
        return Err(VictimError::InFuture);
    }
    if id.decided_on < received {
        return Err(VictimError::BeforeReception);
    }
    match id.outcome {
        Status::Identified => {
            if id.legal_basis.trim().chars().count() < 3 {
                return Err(VictimError::BasisMissing);
            }
            if id.evidence.is_empty() || id.evidence.iter().any(|e| !EVIDENCE.contains(&e.as_str())) {
                return Err(VictimError::EvidenceMissing);
            }
            if id.certificate_number.trim().is_empty() {
                return Err(VictimError::CertificateMissing);
            }
        }
        Status::NotVictim => {
            if id.reasons.trim().chars().count() < 5 {
                return Err(VictimError::ReasonsMissing);
            }
        }
        _ => return Err(VictimError::NotAnOutcome),
    }
    Ok(())
}

/// Whether `head` may return a pending proposal made by `proposer` to the officer: an agency head, not the
/// proposer, with a comment saying what to amend.
pub fn check_return(
    pending: bool,
    is_head: bool,
    head: &str,
    proposer: &str,
    comment: &str,
) -> Result<(), VictimError> {
    check_approval(pending, is_head, head, proposer)?;
    if comment.trim().chars().count() < 5 {
        return Err(VictimError::CommentMissing);
    }
    Ok(())
}

/// Whether `approver` may approve a pending proposal made by `proposer`: an agency head, not the proposer.
pub fn check_approval(pending: bool, is_head: bool, approver: &str, proposer: &str) -> Result<(), VictimError> {
    if !pending {
        return Err(VictimError::NothingPending);
    }
    if !is_head || approver == proposer {
        return Err(VictimError::NotApprover);
    }
    Ok(())
}

/// Whether a person born on `birth` (or in that year, when only the year is known) is a child on `on`. With
/// only a year, the person counts as a child until the end of the year they turn 18: protection errs on the
/// side of the child.
pub fn is_child(birth: crate::person::BirthDate, on: Date) -> bool {
    match birth {
        crate::person::BirthDate::Full(d) => {
            let year = d.year() + 18;
            let day = d.day().min(d.month().length(year));
            Date::from_calendar_date(year, d.month(), day).is_ok_and(|eighteenth| on < eighteenth)
        }
        // Born some day of that month: a child until the month they turn 18 has ended.
        crate::person::BirthDate::Month(y, m) => (on.year(), u8::from(on.month())) <= (y + 18, m),
        crate::person::BirthDate::Year(y) => on.year() <= y + 18,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scope_opens_only_its_parts() {
        assert!(Parts::from_scope(None).is_all());
        assert!(Parts::from_scope(Some(&CASE_PARTS.join(" "))).is_all());
        let p = Parts::from_scope(Some("support person bogus"));
        assert!(p.support && p.person);
        assert!(!p.steps && !p.context && !p.identification && !p.protection && !p.consents);
        assert_eq!(Parts::from_scope(Some("")), Parts::from_scope(Some("unknown")));
    }
    use crate::person::BirthDate;
    use time::macros::date;

    fn proposal(outcome: Status) -> Identification {
        Identification {
            outcome,
            decided_on: date!(2026 - 03 - 05),
            legal_basis: "Điều 23 Luật 53/2024/QH15".into(),
            evidence: vec!["rescuer".into(), "own_statement".into()],
            certificate_number: "12/GXN".into(),
            reasons: String::new(),
        }
    }

    fn standing(current: Status) -> Standing {
        Standing { current, pending: false, closed: false, verified: true, received: date!(2026 - 03 - 01) }
    }

    #[test]
    fn identification_needs_its_grounds() {
        let today = date!(2026 - 03 - 10);
        let at = standing(Status::Signs);
        let ok = proposal(Status::Identified);
        assert_eq!(check_identification(standing(Status::BeingIdentified), today, &ok), Ok(()));
        assert_eq!(check_identification(standing(Status::Identified), today, &ok), Err(VictimError::AlreadyDecided));
        assert_eq!(check_identification(Standing { pending: true, ..at }, today, &ok), Err(VictimError::Pending));
        assert_eq!(check_identification(Standing { closed: true, ..at }, today, &ok), Err(VictimError::Closed));
        assert_eq!(
            check_identification(Standing { verified: false, ..at }, today, &ok),
            Err(VictimError::NotVerified),
            "verification with the police, or why it could not be done, comes first"
        );
        let mut bad = ok.clone();
        bad.evidence = vec![];
        assert_eq!(check_identification(at, today, &bad), Err(VictimError::EvidenceMissing));
        bad.evidence = vec!["rumour".into()];
        assert_eq!(check_identification(at, today, &bad), Err(VictimError::EvidenceMissing));
        let mut bad = ok.clone();
        bad.certificate_number = " ".into();
        assert_eq!(check_identification(at, today, &bad), Err(VictimError::CertificateMissing));
        let mut bad = ok.clone();
        bad.decided_on = date!(2026 - 02 - 28);
        assert_eq!(check_identification(at, today, &bad), Err(VictimError::BeforeReception));
        bad.decided_on = date!(2026 - 03 - 11);
        assert_eq!(check_identification(at, today, &bad), Err(VictimError::InFuture));
        let mut not = proposal(Status::NotVictim);
        assert_eq!(check_identification(at, today, &not), Err(VictimError::ReasonsMissing));
        not.reasons = "Tự nguyện đi làm, không bị lừa hay cưỡng ép".into();
        assert_eq!(check_identification(at, today, &not), Ok(()));
        assert_eq!(check_identification(at, today, &proposal(Status::BeingIdentified)), Err(VictimError::NotAnOutcome));
    }

    #[test]
    fn a_head_returns_a_proposal_with_a_comment() {
        assert_eq!(check_return(true, true, "u2", "u1", "Thiếu biên bản xác minh"), Ok(()));
        assert_eq!(check_return(true, true, "u2", "u1", " ok "), Err(VictimError::CommentMissing));
        assert_eq!(check_return(true, true, "u1", "u1", "Thiếu biên bản"), Err(VictimError::NotApprover));
        assert_eq!(check_return(false, true, "u2", "u1", "Thiếu biên bản"), Err(VictimError::NothingPending));
    }

    #[test]
    fn only_another_head_approves() {
        assert_eq!(check_approval(true, true, "u2", "u1"), Ok(()));
        assert_eq!(check_approval(true, true, "u1", "u1"), Err(VictimError::NotApprover));
        assert_eq!(check_approval(true, false, "u2", "u1"), Err(VictimError::NotApprover));
        assert_eq!(check_approval(false, true, "u2", "u1"), Err(VictimError::NothingPending));
    }

    #[test]
    fn children_are_under_eighteen() {
        let born = BirthDate::Full(date!(2008 - 03 - 05));
        assert!(is_child(born, date!(2026 - 03 - 04)));
        assert!(!is_child(born, date!(2026 - 03 - 05)), "adult on the eighteenth birthday");
        let leap = BirthDate::Full(date!(2008 - 02 - 29));
        assert!(is_child(leap, date!(2026 - 02 - 27)));
        assert!(!is_child(leap, date!(2026 - 02 - 28)), "born on 29 February: adult on 28 February of a common year");
        assert!(is_child(BirthDate::Year(2008), date!(2026 - 12 - 31)), "year only: a child to the end of the year");
        assert!(!is_child(BirthDate::Year(2008), date!(2027 - 01 - 01)));
        assert!(is_child(BirthDate::Month(2008, 3), date!(2026 - 03 - 31)), "month only: a child to the month's end");
        assert!(!is_child(BirthDate::Month(2008, 3), date!(2026 - 04 - 01)));
    }

    #[test]
    fn visits_follow_the_schedule_to_month_ends() {
        assert_eq!(
            visit_schedule(date!(2026 - 01 - 31), 3, 1),
            [date!(2026 - 01 - 31), date!(2026 - 02 - 28), date!(2026 - 03 - 31)]
        );
        assert_eq!(visit_schedule(date!(2026 - 01 - 10), 2, 3), [date!(2026 - 01 - 10), date!(2026 - 04 - 10)]);
        assert_eq!(visit_schedule(date!(2026 - 01 - 10), 100, 1).len(), MAX_VISITS as usize, "capped");
    }

    #[test]
    fn verification_is_due_three_days_after_reception() {
        assert_eq!(verification_due(date!(2026 - 02 - 27)), date!(2026 - 03 - 02));
        assert_eq!(verification_due(date!(2024 - 02 - 27)), date!(2024 - 03 - 01), "leap year");
    }

    #[test]
    fn codes_round_trip() {
        for s in Status::ALL {
            assert_eq!(Status::from_code(s.code()), Some(s));
        }
    }
}
