//! Referrals between agencies: one agency asks another for a support, a verification, a repatriation, ...
//! about a victim case, with a purpose and a due date, after checking the person's consent. The receiver
//! accepts (and may then read the case until the referral is completed or falls due), declines with a reason,
//! or completes it. The kinds, and which agencies may receive each, are profile data.

use time::Date;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReferralKind {
    pub code: String,
    pub name_vi: String,
    pub name_en: String,
    /// Agency kinds that may receive it.
    pub to: Vec<String>,
    pub days: u32,
    /// The parts of the case an accepted referral opens to the receiver (codes of [`super::CASE_PARTS`]).
    pub parts: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReferralKinds {
    pub kinds: Vec<ReferralKind>,
}

impl ReferralKinds {
    pub fn parse(text: &str) -> Result<ReferralKinds, String> {
        let mut kinds: Vec<ReferralKind> = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let f: Vec<&str> = line.split('|').map(str::trim).collect();
            let [code, vi, en, to, days, parts] = f[..] else {
                return Err(format!("line {}: expected 6 fields separated by |", n + 1));
            };
            let parts: Vec<String> = parts.split_whitespace().map(str::to_owned).collect();
            if let Some(bad) = parts.iter().find(|p| !super::CASE_PARTS.contains(&p.as_str())) {
                return Err(format!("line {}: unknown case part {bad}", n + 1));
            }
            let days = days.parse().map_err(|_| format!("line {}: days", n + 1))?;
            let to: Vec<String> = to.split_whitespace().map(str::to_owned).collect();
            if code.is_empty() || to.is_empty() || kinds.iter().any(|k| k.code == code) {
                return Err(format!("line {}: missing or repeated code, or no receiving agency kind", n + 1));
            }
            kinds.push(ReferralKind { code: code.into(), name_vi: vi.into(), name_en: en.into(), to, days, parts });
        }
        Ok(ReferralKinds { kinds })
    }

    pub fn kind(&self, code: &str) -> Option<&ReferralKind> {
        self.kinds.iter().find(|k| k.code == code)
    }

    /// The grant scope an accepted referral of this kind gives: its parts, space-separated. An unknown kind
    /// (dropped from the profile since it was sent) opens nothing beyond the case summary.
    pub fn scope(&self, code: &str) -> String {
        self.kind(code).map(|k| k.parts.join(" ")).unwrap_or_default()
    }
}

/// Where a referral stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Sent,
    Accepted,
    Declined,
    Completed,
}

impl Status {
    pub const ALL: [Status; 4] = [Status::Sent, Status::Accepted, Status::Declined, Status::Completed];

    pub fn code(self) -> &'static str {
        match self {
            Status::Sent => "sent",
            Status::Accepted => "accepted",
            Status::Declined => "declined",
            Status::Completed => "completed",
        }
    }

    pub fn from_code(code: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.code() == code)
    }
}

/// What the receiver does with a referral (a decline gives its reason, a completion what came of it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    Accept,
    Decline,
    Complete,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReferralError {
    UnknownKind,
    /// The receiving agency is not of a kind that takes this referral, or is the sender.
    WrongReceiver,
    DueInPast,
    /// Neither consent for the receiver nor a legal basis from a user who may override.
    NoConsent,
    /// The answer does not follow from the referral's status (e.g. completing one not accepted).
    WrongStatus,
    ReasonMissing,
    /// Accepting after the due date.
    PastDue,
    /// Completing without saying what came of it.
    OutcomeMissing,
}

impl ReferralError {
    pub fn key(self) -> &'static str {
        match self {
            ReferralError::UnknownKind => "error.choice",
            ReferralError::WrongReceiver => "error.referral_receiver",
            ReferralError::DueInPast => "error.referral_due",
            ReferralError::NoConsent => "error.consent_missing",
            ReferralError::WrongStatus => "error.referral_status",
            ReferralError::ReasonMissing => "error.referral_reason",
            ReferralError::PastDue => "error.referral_past_due",
            ReferralError::OutcomeMissing => "error.referral_outcome",
        }
    }
}

/// Whether a referral of `kind` may go to an agency of `to_kind` (not the sender), due on `due`.
pub fn check_send(
    kinds: &ReferralKinds,
    kind: &str,
    to_kind: &str,
    to_is_sender: bool,
    due: Date,
    today: Date,
) -> Result<(), ReferralError> {
    let k = kinds.kind(kind).ok_or(ReferralError::UnknownKind)?;
    if to_is_sender || !k.to.iter().any(|t| t == to_kind) {
        return Err(ReferralError::WrongReceiver);
    }
    if due < today {
        return Err(ReferralError::DueInPast);
    }
    Ok(())
}

/// The status an answer leads to, if it may be given now.
pub fn answer(status: Status, a: Answer, reason: &str, due: Date, today: Date) -> Result<Status, ReferralError> {
    match (status, a) {
        (Status::Sent, Answer::Accept) if today > due => Err(ReferralError::PastDue),
        (Status::Sent, Answer::Accept) => Ok(Status::Accepted),
        (Status::Sent, Answer::Decline) if reason.trim().chars().count() < 5 => Err(ReferralError::ReasonMissing),
        (Status::Sent, Answer::Decline) => Ok(Status::Declined),
        (Status::Accepted, Answer::Complete) if reason.trim().chars().count() < 5 => Err(ReferralError::OutcomeMissing),
        (Status::Accepted, Answer::Complete) => Ok(Status::Completed),
        _ => Err(ReferralError::WrongStatus),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn kinds() -> ReferralKinds {
        ReferralKinds::parse(include_str!("../../../../profiles/vn/referral-kinds.txt")).expect("profile")
    }

    #[test]
    fn a_referral_goes_to_an_agency_of_a_kind_that_takes_it() {
        let k = kinds();
        let today = date!(2026 - 03 - 01);
        assert_eq!(check_send(&k, "support", "social_support", false, today, today), Ok(()));
        assert_eq!(check_send(&k, "support", "procuracy", false, today, today), Err(ReferralError::WrongReceiver));
        assert_eq!(check_send(&k, "support", "social_support", true, today, today), Err(ReferralError::WrongReceiver));
        assert_eq!(check_send(&k, "gossip", "social_support", false, today, today), Err(ReferralError::UnknownKind));
        assert_eq!(
            check_send(&k, "support", "social_support", false, date!(2026 - 02 - 28), today),
            Err(ReferralError::DueInPast)
        );
        assert_eq!(k.kind("verification").map(|v| v.days), Some(3), "verification within three days");
    }

    #[test]
    fn answers_follow_the_status() {
        let (due, today) = (date!(2026 - 03 - 10), date!(2026 - 03 - 05));
        assert_eq!(answer(Status::Sent, Answer::Accept, "", due, today), Ok(Status::Accepted));
        assert_eq!(answer(Status::Sent, Answer::Accept, "", due, date!(2026 - 03 - 11)), Err(ReferralError::PastDue));
        assert_eq!(answer(Status::Sent, Answer::Decline, "x", due, today), Err(ReferralError::ReasonMissing));
        assert_eq!(answer(Status::Sent, Answer::Decline, "Không đủ chỗ ở", due, today), Ok(Status::Declined));
        assert_eq!(answer(Status::Sent, Answer::Complete, "", due, today), Err(ReferralError::WrongStatus));
        assert_eq!(answer(Status::Accepted, Answer::Complete, "", due, today), Err(ReferralError::OutcomeMissing));
        let done = "Đã thăm gia đình, em đã đi học lại";
        assert_eq!(answer(Status::Accepted, Answer::Complete, done, due, today), Ok(Status::Completed));
        assert_eq!(answer(Status::Declined, Answer::Accept, "", due, today), Err(ReferralError::WrongStatus));
        assert_eq!(answer(Status::Completed, Answer::Complete, "", due, today), Err(ReferralError::WrongStatus));
        for s in Status::ALL {
            assert_eq!(Status::from_code(s.code()), Some(s));
        }
    }

    #[test]
    fn malformed_kinds_are_refused() {
        assert!(ReferralKinds::parse("a | b | c | police | soon | steps").is_err());
        assert!(ReferralKinds::parse("a | b | c |  | 3 | steps").is_err());
        assert!(ReferralKinds::parse("a | b | c | police | 3").is_err(), "parts missing");
        assert!(ReferralKinds::parse("a | b | c | police | 3 | steps gossip").is_err(), "unknown part");
        assert!(ReferralKinds::parse("a | b | c | police | 3 | steps person").is_ok());
    }

    #[test]
    fn each_kind_opens_what_it_needs() {
        let k = kinds();
        let support = super::super::Parts::from_scope(Some(&k.scope("support")));
        assert!(support.support && !support.context && !support.identification, "{support:?}");
        let verification = super::super::Parts::from_scope(Some(&k.scope("verification")));
        assert!(verification.person && verification.context && !verification.support);
        let reintegration = super::super::Parts::from_scope(Some(&k.scope("reintegration")));
        assert!(reintegration.reintegration && !reintegration.identification && !reintegration.consents);
        assert_eq!(k.scope("gone"), "", "a kind no longer in the profile opens nothing");
    }
}
