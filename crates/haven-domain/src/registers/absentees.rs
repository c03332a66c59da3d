//! Long-term absentees: a commune's residents absent for a long time without clear reason. Each entry is
//! reviewed once per review round ("2024 review, second quarter") and gets an outcome with its date.

use time::Date;

use super::FieldError;
use crate::person::BirthDate;

/// What a review round found about an absentee.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Outcome {
    AtHome,
    WorkingElsewhere,
    WorkingAbroad,
    Returned,
    /// Opens a victim case, linked to the entry.
    SuspectedTrafficked,
    Missing,
    Deceased,
    Unknown,
}

impl Outcome {
    pub const ALL: [Outcome; 8] = [
        Outcome::AtHome,
        Outcome::WorkingElsewhere,
        Outcome::WorkingAbroad,
        Outcome::Returned,
        Outcome::SuspectedTrafficked,
        Outcome::Missing,
        Outcome::Deceased,
        Outcome::Unknown,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Outcome::AtHome => "at_home",
            Outcome::WorkingElsewhere => "working_elsewhere",
            Outcome::WorkingAbroad => "working_abroad",
            Outcome::Returned => "returned",
            Outcome::SuspectedTrafficked => "suspected_trafficked",
            Outcome::Missing => "missing",
            Outcome::Deceased => "deceased",
            Outcome::Unknown => "unknown",
        }
    }

    pub fn from_code(code: &str) -> Option<Outcome> {
        Outcome::ALL.into_iter().find(|o| o.code() == code)
    }

    /// The person is accounted for: found, working lawfully, back, or dead. The others stay of concern and are
    /// matched against returnees and victims.
    pub fn settled(self) -> bool {
        matches!(self, Outcome::AtHome | Outcome::WorkingElsewhere | Outcome::WorkingAbroad | Outcome::Returned)
            || self == Outcome::Deceased
    }
}

/// Earliest year an absence or a round may be dated: older paper records are not plausible.
const FIRST_YEAR: i32 = 1975;

/// When a person has been absent since: a full date, or only a year as families often remember it.
pub fn parse_absent_since(s: &str, today: Date) -> Result<Option<BirthDate>, FieldError> {
    if s.trim().is_empty() {
        return Ok(None);
    }
    match BirthDate::parse(s) {
        Some(d) if d.year() < FIRST_YEAR => Err(("absent_since", "error.date")),
        Some(d) if d.after(today) => Err(("absent_since", "error.date_in_future")),
        Some(d) => Ok(Some(d)),
        None => Err(("absent_since", "error.date")),
    }
}

/// A review round as entered.
pub struct RoundInput<'a> {
    pub name: &'a str,
    pub starts_on: Option<Date>,
    pub ends_on: Option<Date>,
}

/// Check a new review round: a name, and a period that does not end before it starts.
pub fn check_round(r: &RoundInput<'_>) -> Result<(Date, Date), Vec<FieldError>> {
    let mut errors = Vec::new();
    let name = r.name.trim();
    if name.is_empty() {
        errors.push(("round_name", "error.required"));
    } else if name.chars().count() > 120 {
        errors.push(("round_name", "error.too_long"));
    }
    match (r.starts_on, r.ends_on) {
        (Some(s), Some(e)) if e < s => errors.push(("ends_on", "error.date_order")),
        (Some(s), Some(_)) if s.year() < FIRST_YEAR => errors.push(("starts_on", "error.date")),
        (Some(_), Some(_)) => {}
        (s, e) => {
            if s.is_none() {
                errors.push(("starts_on", "error.date"));
            }
            if e.is_none() {
                errors.push(("ends_on", "error.date"));
            }
        }
    }
    match (errors.is_empty(), r.starts_on, r.ends_on) {
        (true, Some(s), Some(e)) => Ok((s, e)),
        _ => Err(errors),
    }
}

/// Check an outcome recorded in a round: dated inside the round (a review may be written up a few weeks after
/// the round closes, never before it opens), not in the future, and not before the person went away.
pub fn check_outcome(
    on: Option<Date>,
    round: (Date, Date),
    absent_since: Option<BirthDate>,
    today: Date,
) -> Result<Date, FieldError> {
    let Some(on) = on else { return Err(("outcome_on", "error.date")) };
    if on > today {
        return Err(("outcome_on", "error.date_in_future"));
    }
    if on < round.0 || on > round.1 + time::Duration::days(LATE_WRITE_UP_DAYS) {
        return Err(("outcome_on", "error.outside_round"));
    }
    let before_absence = absent_since.is_some_and(|since| since.later_than(on));
    if before_absence {
        return Err(("outcome_on", "error.date_order"));
    }
    Ok(on)
}

/// How long after a round closes its outcomes may still be dated.
pub const LATE_WRITE_UP_DAYS: i64 = 60;

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn every_outcome_code_reads_back() {
        for o in Outcome::ALL {
            assert_eq!(Outcome::from_code(o.code()), Some(o));
        }
        assert_eq!(Outcome::from_code("found"), None);
        assert!(!Outcome::SuspectedTrafficked.settled());
        assert!(!Outcome::Missing.settled());
        assert!(Outcome::AtHome.settled());
    }

    #[test]
    fn absence_is_a_date_or_a_year_and_never_ahead() {
        let today = date!(2024 - 06 - 01);
        assert_eq!(parse_absent_since("", today), Ok(None));
        assert_eq!(parse_absent_since("2021", today), Ok(Some(BirthDate::Year(2021))));
        assert_eq!(
            parse_absent_since("03/2022", today),
            Ok(Some(BirthDate::Month(2022, 3))),
            "a month, as families say it"
        );
        assert_eq!(parse_absent_since("03/02/2022", today), Ok(Some(BirthDate::Full(date!(2022 - 02 - 03)))));
        assert_eq!(parse_absent_since("2025", today), Err(("absent_since", "error.date_in_future")));
        assert_eq!(parse_absent_since("02/06/2024", today), Err(("absent_since", "error.date_in_future")));
        assert_eq!(parse_absent_since("1900", today), Err(("absent_since", "error.date")));
        assert_eq!(parse_absent_since("soon", today), Err(("absent_since", "error.date")));
    }

    #[test]
    fn a_round_needs_a_name_and_an_ordered_period() {
        let ok = RoundInput {
            name: "Rà soát quý II/2024",
            starts_on: Some(date!(2024 - 04 - 01)),
            ends_on: Some(date!(2024 - 06 - 30)),
        };
        assert_eq!(check_round(&ok), Ok((date!(2024 - 04 - 01), date!(2024 - 06 - 30))));
        let bad =
            RoundInput { name: " ", starts_on: Some(date!(2024 - 06 - 30)), ends_on: Some(date!(2024 - 04 - 01)) };
        assert_eq!(check_round(&bad), Err(vec![("round_name", "error.required"), ("ends_on", "error.date_order")]));
        let missing = RoundInput { name: "x", starts_on: None, ends_on: None };
        assert_eq!(check_round(&missing), Err(vec![("starts_on", "error.date"), ("ends_on", "error.date")]));
    }

    #[test]
    fn an_outcome_is_dated_in_its_round_after_the_absence() {
        let round = (date!(2024 - 04 - 01), date!(2024 - 06 - 30));
        let today = date!(2024 - 09 - 01);
        assert_eq!(check_outcome(Some(date!(2024 - 05 - 10)), round, None, today), Ok(date!(2024 - 05 - 10)));
        // Written up late, within the grace period.
        assert!(check_outcome(Some(date!(2024 - 08 - 15)), round, None, today).is_ok());
        assert_eq!(
            check_outcome(Some(date!(2024 - 03 - 31)), round, None, today),
            Err(("outcome_on", "error.outside_round"))
        );
        assert_eq!(
            check_outcome(Some(date!(2024 - 09 - 02)), round, None, today),
            Err(("outcome_on", "error.date_in_future"))
        );
        assert_eq!(
            check_outcome(Some(date!(2024 - 05 - 10)), round, Some(BirthDate::Full(date!(2024 - 05 - 11))), today),
            Err(("outcome_on", "error.date_order"))
        );
        assert_eq!(
            check_outcome(Some(date!(2024 - 05 - 10)), round, Some(BirthDate::Year(2025)), today),
            Err(("outcome_on", "error.date_order"))
        );
        assert_eq!(check_outcome(None, round, None, today), Err(("outcome_on", "error.date")));
    }
}
