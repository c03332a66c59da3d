//! The support regimes of Law 53/2024 Art. 37 and who may receive which, read from the profile
//! (`profiles/vn/support-regimes.txt`), so a decree that changes them changes a data file, not the code.

use time::Date;

use super::Status;
use crate::reports::clock::add_months;

/// The person's situation, which decides the regimes they are entitled to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Situation {
    pub status: Status,
    pub vietnamese: bool,
    pub in_vietnam: bool,
    /// A child under 18 accompanying a victim or a person being identified.
    pub accompanying_child: bool,
}

impl Situation {
    /// The eligibility groups this situation falls in (the profile's "who" words).
    fn groups(self) -> Vec<&'static str> {
        let mut g = Vec::new();
        match self.status {
            Status::Identified if self.vietnamese => g.push("identified_vn"),
            Status::Identified => g.push("identified_foreign"),
            Status::Signs | Status::BeingIdentified if self.in_vietnam => g.push("identifying_vn"),
            Status::Signs | Status::BeingIdentified => g.push("identifying_abroad"),
            Status::NotVictim => {}
        }
        if self.accompanying_child {
            g.push("child");
        }
        g
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Limit {
    None,
    /// At most this many days in all.
    Days(u32),
    /// Within this many months of the identification certificate.
    WithinMonths(u32),
    /// At most this many dong in all.
    Vnd(u64),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Regime {
    pub code: String,
    pub name_vi: String,
    pub name_en: String,
    pub who: Vec<String>,
    pub limit: Limit,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SupportRules {
    pub regimes: Vec<Regime>,
}

const GROUPS: &[&str] = &["identified_vn", "identified_foreign", "identifying_vn", "identifying_abroad", "child"];

impl SupportRules {
    /// Parse the profile file; the error names the line.
    pub fn parse(text: &str) -> Result<SupportRules, String> {
        let mut regimes: Vec<Regime> = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let f: Vec<&str> = line.split('|').map(str::trim).collect();
            let [code, vi, en, who, limit] = f[..] else {
                return Err(format!("line {}: expected 5 fields separated by |", n + 1));
            };
            let who: Vec<String> = who.split_whitespace().map(str::to_owned).collect();
            if let Some(w) = who.iter().find(|w| !GROUPS.contains(&w.as_str())) {
                return Err(format!("line {}: unknown group {w}", n + 1));
            }
            let limit = match limit.split_once(' ') {
                None if limit == "-" => Limit::None,
                Some(("days", v)) => Limit::Days(v.parse().map_err(|_| format!("line {}: days", n + 1))?),
                Some(("months", v)) => Limit::WithinMonths(v.parse().map_err(|_| format!("line {}: months", n + 1))?),
                Some(("vnd", v)) => Limit::Vnd(v.parse().map_err(|_| format!("line {}: vnd", n + 1))?),
                _ => return Err(format!("line {}: unknown limit {limit}", n + 1)),
            };
            if code.is_empty() || regimes.iter().any(|r| r.code == code) {
                return Err(format!("line {}: missing or repeated code", n + 1));
            }
            regimes.push(Regime { code: code.into(), name_vi: vi.into(), name_en: en.into(), who, limit });
        }
        Ok(SupportRules { regimes })
    }

    pub fn regime(&self, code: &str) -> Option<&Regime> {
        self.regimes.iter().find(|r| r.code == code)
    }

    /// The regimes the situation entitles the person to, in the law's order.
    pub fn eligible(&self, s: Situation) -> Vec<&Regime> {
        let groups = s.groups();
        self.regimes.iter().filter(|r| r.who.iter().any(|w| groups.contains(&w.as_str()))).collect()
    }
}

/// One support already given under a regime.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Given {
    pub on: Date,
    pub quantity: u64,
    pub amount_vnd: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SupportError {
    UnknownRegime,
    NotEntitled,
    InFuture,
    BeforeReception,
    /// More days than the regime allows in all.
    OverDays {
        left: u64,
    },
    OverAmount {
        left: u64,
    },
    /// Outside the window after the identification certificate (or before there is one).
    OutsideWindow,
    QuantityMissing,
}

impl SupportError {
    pub fn key(self) -> &'static str {
        match self {
            SupportError::UnknownRegime => "error.choice",
            SupportError::NotEntitled => "error.support_not_entitled",
            SupportError::InFuture => "error.date_in_future",
            SupportError::BeforeReception => "error.victim_before_reception",
            SupportError::OverDays { .. } => "error.support_over_days",
            SupportError::OverAmount { .. } => "error.support_over_amount",
            SupportError::OutsideWindow => "error.support_window",
            SupportError::QuantityMissing => "error.support_quantity",
        }
    }
}

/// The case a support is given in: the person's situation and its dates.
#[derive(Clone, Copy, Debug)]
pub struct CaseDates {
    pub situation: Situation,
    pub received: Date,
    /// The identification certificate's date, once identified.
    pub identified_on: Option<Date>,
    pub today: Date,
}

/// Whether a support may be recorded: the person is entitled to the regime now, the date is possible, and the
/// regime's limit still has room given what was already given under it.
pub fn check_support(
    rules: &SupportRules,
    code: &str,
    case: CaseDates,
    already: &[Given],
    new: Given,
) -> Result<(), SupportError> {
    let CaseDates { situation: s, received, identified_on, today } = case;
    let regime = rules.regime(code).ok_or(SupportError::UnknownRegime)?;
    if !rules.eligible(s).iter().any(|r| r.code == code) {
        return Err(SupportError::NotEntitled);
    }
    if new.on > today {
        return Err(SupportError::InFuture);
    }
    if new.on < received {
        return Err(SupportError::BeforeReception);
    }
    match regime.limit {
        Limit::None => {}
        Limit::Days(max) => {
            if new.quantity == 0 {
                return Err(SupportError::QuantityMissing);
            }
            let used: u64 = already.iter().map(|g| g.quantity).sum();
            let left = u64::from(max).saturating_sub(used);
            if new.quantity > left {
                return Err(SupportError::OverDays { left });
            }
        }
        Limit::Vnd(max) => {
            let used: u64 = already.iter().map(|g| g.amount_vnd).sum();
            let left = max.saturating_sub(used);
            if new.amount_vnd > left {
                return Err(SupportError::OverAmount { left });
            }
        }
        Limit::WithinMonths(m) => {
            let Some(certified) = identified_on else { return Err(SupportError::OutsideWindow) };
            if new.on < certified || new.on > add_months(certified, m) {
                return Err(SupportError::OutsideWindow);
            }
        }
    }
    Ok(())
}

/// How a regime stands for the person: given (and how much is left), open, or past its window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Standing {
    NotGiven,
    Given,
    /// Days left under a capped regime.
    DaysLeft(u64),
    /// The last day to give it.
    DueBy(Date),
    Overdue,
}

pub fn standing(regime: &Regime, identified_on: Option<Date>, today: Date, given: &[Given]) -> Standing {
    match regime.limit {
        Limit::Days(max) => {
            let used: u64 = given.iter().map(|g| g.quantity).sum();
            if used == 0 {
                Standing::NotGiven
            } else {
                Standing::DaysLeft(u64::from(max).saturating_sub(used))
            }
        }
        Limit::WithinMonths(m) if given.is_empty() => match identified_on.map(|d| add_months(d, m)) {
            Some(last) if last < today => Standing::Overdue,
            Some(last) => Standing::DueBy(last),
            None => Standing::NotGiven,
        },
        _ if given.is_empty() => Standing::NotGiven,
        _ => Standing::Given,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn rules() -> SupportRules {
        SupportRules::parse(include_str!("../../../../profiles/vn/support-regimes.txt")).expect("profile")
    }

    fn sit(status: Status, vietnamese: bool, in_vietnam: bool) -> Situation {
        Situation { status, vietnamese, in_vietnam, accompanying_child: false }
    }

    fn cd(situation: Situation, received: Date, identified_on: Option<Date>, today: Date) -> CaseDates {
        CaseDates { situation, received, identified_on, today }
    }

    fn codes(r: &SupportRules, s: Situation) -> Vec<String> {
        r.eligible(s).iter().map(|r| r.code.clone()).collect()
    }

    #[test]
    fn entitlement_follows_status_place_and_nationality() {
        let r = rules();
        assert_eq!(codes(&r, sit(Status::Identified, true, true)), ["a", "b", "c", "d", "dd", "e", "g", "h", "i", "k"]);
        assert_eq!(codes(&r, sit(Status::BeingIdentified, true, true)), ["a", "b", "c", "d", "dd", "e", "g"]);
        assert_eq!(codes(&r, sit(Status::Signs, true, false)), ["a", "b", "c", "d"], "abroad: (a) to (d)");
        assert!(codes(&r, sit(Status::NotVictim, true, true)).is_empty());
        let foreign = codes(&r, sit(Status::Identified, false, true));
        assert!(
            !foreign.contains(&"k".to_owned()) && foreign.contains(&"e".to_owned()),
            "a subset for foreign victims"
        );
        let child = Situation { accompanying_child: true, ..sit(Status::NotVictim, true, true) };
        assert_eq!(codes(&r, child), ["a", "b", "c", "d", "dd", "e", "g", "h"], "accompanying children: (a) to (h)");
    }

    #[test]
    fn limits_are_enforced() {
        let r = rules();
        let s = sit(Status::Identified, true, true);
        let (rec, today) = (date!(2026 - 01 - 10), date!(2026 - 06 - 01));
        let g = |on, q| Given { on, quantity: q, amount_vnd: 0 };
        let meals = [g(date!(2026 - 01 - 10), 40)];
        assert_eq!(check_support(&r, "a", cd(s, rec, None, today), &meals, g(date!(2026 - 03 - 01), 20)), Ok(()));
        assert_eq!(
            check_support(&r, "a", cd(s, rec, None, today), &meals, g(date!(2026 - 03 - 01), 21)),
            Err(SupportError::OverDays { left: 20 })
        );
        assert_eq!(
            check_support(&r, "a", cd(s, rec, None, today), &[], g(date!(2026 - 03 - 01), 0)),
            Err(SupportError::QuantityMissing)
        );
        // The allowance: within 12 months of the certificate, and not before there is one.
        let cert = Some(date!(2025 - 02 - 28));
        assert_eq!(
            check_support(&r, "k", cd(s, rec, None, today), &[], g(date!(2026 - 02 - 01), 1)),
            Err(SupportError::OutsideWindow)
        );
        assert_eq!(check_support(&r, "k", cd(s, rec, cert, today), &[], g(date!(2026 - 02 - 28), 1)), Ok(()));
        assert_eq!(
            check_support(&r, "k", cd(s, rec, cert, today), &[], g(date!(2026 - 03 - 01), 1)),
            Err(SupportError::OutsideWindow)
        );
        assert_eq!(
            check_support(
                &r,
                "k",
                cd(sit(Status::BeingIdentified, true, true), rec, cert, today),
                &[],
                g(date!(2026 - 02 - 01), 1)
            ),
            Err(SupportError::NotEntitled)
        );
        assert_eq!(
            check_support(&r, "z", cd(s, rec, cert, today), &[], g(date!(2026 - 02 - 01), 1)),
            Err(SupportError::UnknownRegime)
        );
        assert_eq!(
            check_support(&r, "b", cd(s, rec, cert, today), &[], g(date!(2026 - 06 - 02), 1)),
            Err(SupportError::InFuture)
        );
        assert_eq!(
            check_support(&r, "b", cd(s, rec, cert, today), &[], g(date!(2026 - 01 - 09), 1)),
            Err(SupportError::BeforeReception)
        );
    }

    #[test]
    fn standing_shows_what_is_left_and_what_is_late() {
        let r = rules();
        let a = r.regime("a").expect("a");
        let k = r.regime("k").expect("k");
        let today = date!(2026 - 06 - 01);
        assert_eq!(standing(a, None, today, &[]), Standing::NotGiven);
        assert_eq!(
            standing(a, None, today, &[Given { on: today, quantity: 45, amount_vnd: 0 }]),
            Standing::DaysLeft(15)
        );
        assert_eq!(standing(k, Some(date!(2025 - 05 - 31)), today, &[]), Standing::Overdue);
        assert_eq!(standing(k, Some(date!(2025 - 06 - 01)), today, &[]), Standing::DueBy(date!(2026 - 06 - 01)));
    }

    #[test]
    fn malformed_profiles_are_refused_with_the_line() {
        assert!(SupportRules::parse("a | x | y | nobody | -").expect_err("refused").contains("line 1"));
        assert!(SupportRules::parse("a | x | y | child | weeks 2").expect_err("refused").contains("unknown limit"));
        assert!(SupportRules::parse("a | x | y | child | -\na | x | y | child | -")
            .expect_err("refused")
            .contains("line 2"));
    }
}
