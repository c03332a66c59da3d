//! What a report is and the rules for recording it: its kind and channel, its classification (a suspected
//! offence from the profile, or "not trafficking-related" with where it was forwarded), and the settling
//! decision with the checks that refuse impossible ones.

use serde::{Deserialize, Serialize};
use time::Date;

use super::clock::Clock;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Tố giác: from an individual.
    Denunciation,
    /// Tin báo: from an agency, organisation, person or the media.
    CrimeReport,
    /// Kiến nghị khởi tố: a state body's written request, with evidence.
    Recommendation,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    InPerson,
    Hotline,
    Letter,
    Online,
    Media,
    Transfer,
}

/// One offence the profile allows as a classification.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Offence {
    pub code: String,
    pub name_vi: String,
    pub name_en: String,
}

/// Parse the profile's `offences.txt` (`code | Vietnamese | English`).
pub fn parse_offences(text: &str) -> Result<Vec<Offence>, String> {
    text.lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'))
        .map(|(n, l)| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            match cells.as_slice() {
                [code, vi, en] if !code.is_empty() && !vi.is_empty() && !en.is_empty() => {
                    Ok(Offence { code: (*code).into(), name_vi: (*vi).into(), name_en: (*en).into() })
                }
                _ => Err(format!("line {n}: expected code | Vietnamese | English")),
            }
        })
        .collect()
}

/// The outcome of classification.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Classification {
    /// A suspected offence from the profile's list.
    Offence { code: String },
    /// Not trafficking-related, forwarded to the body named.
    NotRelated { forwarded_to: String },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IntakeError {
    UnknownOffence,
    ForwardedToMissing,
    ReasonMissing,
    NotClassified,
    InFuture,
    BeforeReceipt,
    NotifiedBeforeDecision,
    NumberMissing,
    AlreadySettled,
    ClockSuspended,
}

impl IntakeError {
    pub fn key(self) -> &'static str {
        match self {
            IntakeError::UnknownOffence => "error.intake_offence",
            IntakeError::ForwardedToMissing => "error.intake_forwarded_to",
            IntakeError::ReasonMissing => "error.intake_reason",
            IntakeError::NotClassified => "error.intake_not_classified",
            IntakeError::InFuture => "error.date_in_future",
            IntakeError::BeforeReceipt => "error.date_before_receipt",
            IntakeError::NotifiedBeforeDecision => "error.intake_notified_before",
            IntakeError::NumberMissing => "error.intake_number",
            IntakeError::AlreadySettled => "error.intake_settled",
            IntakeError::ClockSuspended => "error.intake_suspended",
        }
    }
}

/// Validate a classification: a known offence, or a forwarding body; always with a reason.
/// The day a report was classified, as the officer enters it: not before it was received, not in the
/// future. Indicator 1 counts a classification by this day, not by when it was typed in.
pub fn check_classified_on(received: Date, on: Date, today: Date) -> Result<(), IntakeError> {
    if on > today {
        return Err(IntakeError::InFuture);
    }
    if on < received {
        return Err(IntakeError::BeforeReceipt);
    }
    Ok(())
}

pub fn classify(offences: &[Offence], c: &Classification, reason: &str) -> Result<(), IntakeError> {
    if reason.trim().chars().count() < 5 {
        return Err(IntakeError::ReasonMissing);
    }
    match c {
        Classification::Offence { code } if offences.iter().any(|o| &o.code == code) => Ok(()),
        Classification::Offence { .. } => Err(IntakeError::UnknownOffence),
        Classification::NotRelated { forwarded_to } if forwarded_to.trim().is_empty() => {
            Err(IntakeError::ForwardedToMissing)
        }
        Classification::NotRelated { .. } => Ok(()),
    }
}

/// The settling decisions of Art. 147(1), and transfer to the competent body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DecisionKind {
    Initiate,
    NotInitiate { reason: String },
    Transfer { to: String },
}

/// A settling decision as entered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    pub kind: DecisionKind,
    pub number: String,
    pub decided_on: Date,
    pub reporter_notified_on: Option<Date>,
}

/// Whether a decision can be recorded now; returns whether it is within the legal limit.
pub fn check_decision(
    clock: &Clock,
    classified: bool,
    already_settled: bool,
    d: &Decision,
    today: Date,
) -> Result<bool, IntakeError> {
    if already_settled {
        return Err(IntakeError::AlreadySettled);
    }
    if !classified {
        return Err(IntakeError::NotClassified);
    }
    if d.number.trim().is_empty() {
        return Err(IntakeError::NumberMissing);
    }
    if d.decided_on > today || d.reporter_notified_on.is_some_and(|n| n > today) {
        return Err(IntakeError::InFuture);
    }
    if d.decided_on < clock.received {
        return Err(IntakeError::BeforeReceipt);
    }
    if d.reporter_notified_on.is_some_and(|n| n < d.decided_on) {
        return Err(IntakeError::NotifiedBeforeDecision);
    }
    match &d.kind {
        DecisionKind::NotInitiate { reason } if reason.trim().chars().count() < 5 => {
            return Err(IntakeError::ReasonMissing)
        }
        DecisionKind::Transfer { to } if to.trim().is_empty() => return Err(IntakeError::ForwardedToMissing),
        _ => {}
    }
    if clock.last_day().is_none() {
        return Err(IntakeError::ClockSuspended);
    }
    Ok(clock.on_time(d.decided_on))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reports::clock::{ClockEvent, ClockRules};
    use time::macros::date;

    fn offences() -> Vec<Offence> {
        parse_offences(include_str!("../../../../profiles/vn/offences.txt")).expect("profile offences")
    }

    fn rules() -> ClockRules {
        ClockRules {
            initial_days: 20,
            complex_months: 2,
            procuracy_months: 2,
            procuracy_request_lead_days: 5,
            resume_months: 1,
        }
    }

    fn decision(on: Date) -> Decision {
        Decision {
            kind: DecisionKind::Initiate,
            number: "12/QĐ-CSHS".into(),
            decided_on: on,
            reporter_notified_on: Some(on),
        }
    }

    #[test]
    fn the_profile_lists_the_trafficking_offences() {
        let codes: Vec<String> = offences().into_iter().map(|o| o.code).collect();
        for c in ["150", "151", "348", "349"] {
            assert!(codes.contains(&c.to_owned()), "{c}");
        }
        assert!(parse_offences("150 | only two").is_err());
    }

    #[test]
    fn a_classification_day_lies_between_receipt_and_today() {
        let (received, today) = (date!(2026 - 03 - 02), date!(2026 - 03 - 10));
        assert_eq!(check_classified_on(received, received, today), Ok(()));
        assert_eq!(check_classified_on(received, today, today), Ok(()));
        assert_eq!(check_classified_on(received, date!(2026 - 03 - 01), today), Err(IntakeError::BeforeReceipt));
        assert_eq!(check_classified_on(received, date!(2026 - 03 - 11), today), Err(IntakeError::InFuture));
    }

    #[test]
    fn classification_needs_a_known_offence_or_a_forwarding_body_and_a_reason() {
        let o = offences();
        let art150 = Classification::Offence { code: "150".into() };
        assert_eq!(classify(&o, &art150, "Có dấu hiệu lừa bán sang Campuchia"), Ok(()));
        assert_eq!(classify(&o, &art150, ""), Err(IntakeError::ReasonMissing));
        assert_eq!(
            classify(&o, &Classification::Offence { code: "999".into() }, "lý do đủ dài"),
            Err(IntakeError::UnknownOffence)
        );
        let fwd = Classification::NotRelated { forwarded_to: " ".into() };
        assert_eq!(classify(&o, &fwd, "Tranh chấp dân sự"), Err(IntakeError::ForwardedToMissing));
        let fwd = Classification::NotRelated { forwarded_to: "Công an xã Trà My".into() };
        assert_eq!(classify(&o, &fwd, "Tranh chấp dân sự"), Ok(()));
    }

    #[test]
    fn decisions_need_classification_and_possible_dates() {
        let clock = Clock::new(&rules(), date!(2025 - 03 - 01));
        let today = date!(2025 - 03 - 30);
        assert_eq!(
            check_decision(&clock, false, false, &decision(date!(2025 - 03 - 10)), today),
            Err(IntakeError::NotClassified)
        );
        assert_eq!(
            check_decision(&clock, true, false, &decision(date!(2025 - 04 - 01)), today),
            Err(IntakeError::InFuture)
        );
        assert_eq!(
            check_decision(&clock, true, false, &decision(date!(2025 - 02 - 28)), today),
            Err(IntakeError::BeforeReceipt)
        );
        let mut d = decision(date!(2025 - 03 - 10));
        d.reporter_notified_on = Some(date!(2025 - 03 - 09));
        assert_eq!(check_decision(&clock, true, false, &d, today), Err(IntakeError::NotifiedBeforeDecision));
        d.reporter_notified_on = None;
        d.number = " ".into();
        assert_eq!(check_decision(&clock, true, false, &d, today), Err(IntakeError::NumberMissing));
        assert_eq!(
            check_decision(&clock, true, true, &decision(date!(2025 - 03 - 10)), today),
            Err(IntakeError::AlreadySettled)
        );
        let no = Decision { kind: DecisionKind::NotInitiate { reason: "".into() }, ..decision(date!(2025 - 03 - 10)) };
        assert_eq!(check_decision(&clock, true, false, &no, today), Err(IntakeError::ReasonMissing));
    }

    #[test]
    fn a_decision_says_whether_it_was_on_time() {
        let clock = Clock::new(&rules(), date!(2025 - 03 - 01));
        let today = date!(2025 - 04 - 30);
        assert_eq!(
            check_decision(&clock, true, false, &decision(date!(2025 - 03 - 21)), today),
            Ok(true),
            "the last day"
        );
        assert_eq!(
            check_decision(&clock, true, false, &decision(date!(2025 - 03 - 22)), today),
            Ok(false),
            "a day late"
        );
        let suspended = clock.apply(&rules(), ClockEvent::Suspended { on: date!(2025 - 03 - 05) }).expect("suspend");
        assert_eq!(
            check_decision(&suspended, true, false, &decision(date!(2025 - 03 - 10)), today),
            Err(IntakeError::ClockSuspended)
        );
    }
}
