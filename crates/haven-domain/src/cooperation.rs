//! International cooperation: requests an agency sends to foreign authorities or overseas missions (to verify
//! someone's identity or nationality, to repatriate them, for mutual legal assistance, to exchange
//! information), and requests it receives from them. Each has a date it went out or came in and a date an
//! answer is due; an open request past that date is overdue.
//!
//! No law fixes how long a foreign authority takes to answer, so the due date is the agency's own follow-up
//! date: entered with the request, or [`default_days`] after it by kind.

use time::{Date, Duration};

use crate::FieldError;

/// Which way a request goes.
pub const DIRECTIONS: [&str; 2] = ["outgoing", "incoming"];

/// What a request asks for.
pub const KINDS: [&str; 5] =
    ["identity_verification", "nationality_verification", "repatriation", "legal_assistance", "information_exchange"];

/// Who is on the other side: a foreign authority, Viet Nam's mission in that country, or an international
/// organisation working there.
pub const COUNTERPARTS: [&str; 3] = ["foreign_authority", "overseas_mission", "international_organisation"];

/// How an answered request came out.
pub const OUTCOMES: [&str; 4] = ["confirmed", "not_confirmed", "partly", "refused"];

/// The longest text kept in a short field (the counterpart's name, a reference number).
pub const MAX_SHORT: usize = 200;

/// Days given for an answer when the request names no due date: verifications and information within a
/// month, repatriation within two, legal assistance (which goes through central authorities) within three.
pub fn default_days(kind: &str) -> i64 {
    match kind {
        "repatriation" => 60,
        "legal_assistance" => 90,
        _ => 30,
    }
}

/// A request as entered.
pub struct Input<'a> {
    pub direction: &'a str,
    pub kind: &'a str,
    pub counterpart_kind: &'a str,
    pub country: &'a str,
    pub counterpart: &'a str,
    pub reference: &'a str,
    pub sent_on: Option<Date>,
    /// `None` when left empty (the default applies); `Some(None)` when entered but not a date.
    pub due_on: Option<Option<Date>>,
}

/// The dates of a request that passed its checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dates {
    pub sent_on: Date,
    pub due_on: Date,
}

/// Check a request: known direction, kind and counterpart, a foreign country (ISO 3166 alpha-2, not
/// Viet Nam), the counterpart named, a date not ahead of today, and a due date not before it.
pub fn check(i: &Input<'_>, today: Date) -> Result<Dates, Vec<FieldError>> {
    let mut errors = Vec::new();
    if !DIRECTIONS.contains(&i.direction) {
        errors.push(("direction", "error.choice"));
    }
    if !KINDS.contains(&i.kind) {
        errors.push(("kind", "error.choice"));
    }
    if !COUNTERPARTS.contains(&i.counterpart_kind) {
        errors.push(("counterpart_kind", "error.choice"));
    }
    let country = i.country.trim();
    if !crate::victims::htcds::is_country(country) || country == "VN" {
        errors.push(("country", "error.choice"));
    }
    match i.counterpart.trim().chars().count() {
        0 => errors.push(("counterpart", "error.required")),
        n if n > MAX_SHORT => errors.push(("counterpart", "error.too_long")),
        _ => {}
    }
    if i.reference.trim().chars().count() > MAX_SHORT {
        errors.push(("reference", "error.too_long"));
    }
    match i.sent_on {
        None => errors.push(("sent_on", "error.date")),
        Some(d) if d > today => errors.push(("sent_on", "error.date_in_future")),
        Some(d) if d.year() < 1990 => errors.push(("sent_on", "error.date")),
        Some(_) => {}
    }
    let due_on = match (i.due_on, i.sent_on) {
        (Some(None), _) => {
            errors.push(("due_on", "error.date"));
            None
        }
        (Some(Some(due)), Some(sent)) if due < sent => {
            errors.push(("due_on", "error.cooperation_due_before_sent"));
            None
        }
        (Some(Some(due)), _) => Some(due),
        (None, sent) => sent.map(|s| s + Duration::days(default_days(i.kind))),
    };
    match (i.sent_on, due_on) {
        (Some(sent_on), Some(due_on)) if errors.is_empty() => Ok(Dates { sent_on, due_on }),
        _ => Err(errors),
    }
}

/// Check an answer: a known outcome, on a date between the request's and today.
pub fn check_answer(
    sent_on: Date,
    answered_on: Option<Date>,
    outcome: &str,
    today: Date,
) -> Result<Date, Vec<FieldError>> {
    let mut errors = Vec::new();
    if !OUTCOMES.contains(&outcome) {
        errors.push(("outcome", "error.choice"));
    }
    match answered_on {
        None => errors.push(("answered_on", "error.date")),
        Some(d) if d > today => errors.push(("answered_on", "error.date_in_future")),
        Some(d) if d < sent_on => errors.push(("answered_on", "error.cooperation_answer_before_sent")),
        Some(_) => {}
    }
    match answered_on {
        Some(d) if errors.is_empty() => Ok(d),
        _ => Err(errors),
    }
}

/// Where a request stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Waiting for an answer, not yet due.
    Open,
    /// Waiting for an answer past its due date.
    Overdue,
    Answered,
    /// Withdrawn by the agency (no longer needed).
    Withdrawn,
}

impl Status {
    pub fn of(due_on: Date, answered: bool, withdrawn: bool, today: Date) -> Status {
        match (answered, withdrawn) {
            (true, _) => Status::Answered,
            (false, true) => Status::Withdrawn,
            (false, false) if today > due_on => Status::Overdue,
            _ => Status::Open,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::Overdue => "overdue",
            Status::Answered => "answered",
            Status::Withdrawn => "withdrawn",
        }
    }

    /// Whether an answer is still awaited.
    pub fn awaiting(self) -> bool {
        matches!(self, Status::Open | Status::Overdue)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn input<'a>(sent_on: Option<Date>, due_on: Option<Option<Date>>) -> Input<'a> {
        Input {
            direction: "outgoing",
            kind: "nationality_verification",
            counterpart_kind: "foreign_authority",
            country: "KH",
            counterpart: "Immigration department",
            reference: "123/CV-BĐBP",
            sent_on,
            due_on,
        }
    }

    const TODAY: Date = date!(2026 - 03 - 01);

    #[test]
    fn the_due_date_defaults_by_kind() {
        let sent = date!(2026 - 01 - 10);
        assert_eq!(check(&input(Some(sent), None), TODAY), Ok(Dates { sent_on: sent, due_on: date!(2026 - 02 - 09) }));
        let mut mla = input(Some(sent), None);
        mla.kind = "legal_assistance";
        assert_eq!(check(&mla, TODAY).map(|d| d.due_on), Ok(date!(2026 - 04 - 10)));
        let given = check(&input(Some(sent), Some(Some(date!(2026 - 01 - 20)))), TODAY);
        assert_eq!(given.map(|d| d.due_on), Ok(date!(2026 - 01 - 20)));
        assert_eq!(check(&input(Some(sent), Some(Some(sent))), TODAY).map(|d| d.due_on), Ok(sent), "the same day");
    }

    #[test]
    fn bad_requests_name_every_field() {
        let sent = date!(2026 - 01 - 10);
        assert_eq!(
            check(&input(Some(sent), Some(Some(date!(2026 - 01 - 09)))), TODAY),
            Err(vec![("due_on", "error.cooperation_due_before_sent")])
        );
        assert_eq!(check(&input(None, None), TODAY), Err(vec![("sent_on", "error.date")]));
        assert_eq!(check(&input(Some(sent), Some(None)), TODAY), Err(vec![("due_on", "error.date")]));
        assert_eq!(
            check(&input(Some(date!(2026 - 03 - 02)), None), TODAY),
            Err(vec![("sent_on", "error.date_in_future")])
        );
        let mut bad = input(Some(sent), None);
        (bad.direction, bad.kind, bad.counterpart_kind, bad.country, bad.counterpart) =
            ("sideways", "gossip", "friend", "VN", " ");
        let long = "x".repeat(MAX_SHORT + 1);
        bad.reference = &long;
        let fields: Vec<&str> = check(&bad, TODAY).expect_err("refused").into_iter().map(|e| e.0).collect();
        assert_eq!(fields, ["direction", "kind", "counterpart_kind", "country", "counterpart", "reference"]);
        let mut lower = input(Some(sent), None);
        lower.country = "kh";
        assert!(check(&lower, TODAY).is_err(), "ISO codes are capitals");
    }

    #[test]
    fn answers_fall_between_the_request_and_today() {
        let sent = date!(2026 - 01 - 10);
        assert_eq!(check_answer(sent, Some(date!(2026 - 02 - 01)), "confirmed", TODAY), Ok(date!(2026 - 02 - 01)));
        assert_eq!(
            check_answer(sent, Some(date!(2026 - 01 - 09)), "confirmed", TODAY),
            Err(vec![("answered_on", "error.cooperation_answer_before_sent")])
        );
        assert_eq!(
            check_answer(sent, Some(date!(2026 - 03 - 02)), "maybe", TODAY),
            Err(vec![("outcome", "error.choice"), ("answered_on", "error.date_in_future")])
        );
        assert_eq!(check_answer(sent, None, "refused", TODAY), Err(vec![("answered_on", "error.date")]));
    }

    #[test]
    fn a_request_is_overdue_the_day_after_it_is_due() {
        let due = date!(2026 - 02 - 09);
        assert_eq!(Status::of(due, false, false, due), Status::Open);
        assert_eq!(Status::of(due, false, false, date!(2026 - 02 - 10)), Status::Overdue);
        assert_eq!(Status::of(due, true, false, date!(2026 - 03 - 10)), Status::Answered);
        assert_eq!(Status::of(due, false, true, date!(2026 - 03 - 10)), Status::Withdrawn);
        assert!(Status::Overdue.awaiting() && !Status::Answered.awaiting());
    }
}
