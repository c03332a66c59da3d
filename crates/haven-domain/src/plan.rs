//! The plan and its indicators: reporting periods (month, quarter, six months, year), the one catalogue of
//! indicators computed from the records (each with its unit and written definition, used alike by the plan
//! dashboard, the reports and the API), indicators entered by hand, the traffic light of an indicator against
//! its target, and the rules for prevention activities and training courses. Pure rules: no I/O.

use time::{Date, Month};

use crate::reports::indicators::{IndicatorId, Period};

/// How often an indicator is reported, and the periods of a periodic report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Frequency {
    Month,
    Quarter,
    Half,
    Year,
}

impl Frequency {
    pub const ALL: [Frequency; 4] = [Frequency::Month, Frequency::Quarter, Frequency::Half, Frequency::Year];

    pub fn code(self) -> &'static str {
        match self {
            Frequency::Month => "month",
            Frequency::Quarter => "quarter",
            Frequency::Half => "half",
            Frequency::Year => "year",
        }
    }

    pub fn from_code(code: &str) -> Option<Frequency> {
        Frequency::ALL.into_iter().find(|f| f.code() == code)
    }

    /// Periods of this length in a year.
    pub fn per_year(self) -> u8 {
        match self {
            Frequency::Month => 12,
            Frequency::Quarter => 4,
            Frequency::Half => 2,
            Frequency::Year => 1,
        }
    }

    fn months(self) -> u8 {
        12 / self.per_year()
    }
}

/// One reporting period: the `index`-th month, quarter or half of a year (from 1), or the year.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ReportPeriod {
    pub year: i32,
    pub frequency: Frequency,
    pub index: u8,
}

impl ReportPeriod {
    pub fn new(year: i32, frequency: Frequency, index: u8) -> Option<ReportPeriod> {
        ((1..=frequency.per_year()).contains(&index) && (2000..=2100).contains(&year)).then_some(ReportPeriod {
            year,
            frequency,
            index,
        })
    }

    pub fn year(year: i32) -> Option<ReportPeriod> {
        ReportPeriod::new(year, Frequency::Year, 1)
    }

    /// Every period of a frequency in a year, in order.
    pub fn all_in(year: i32, frequency: Frequency) -> Vec<ReportPeriod> {
        (1..=frequency.per_year()).filter_map(|i| ReportPeriod::new(year, frequency, i)).collect()
    }

    /// The period of a frequency that contains a day.
    pub fn containing(day: Date, frequency: Frequency) -> ReportPeriod {
        let month0 = u8::from(day.month()) - 1;
        ReportPeriod { year: day.year(), frequency, index: month0 / frequency.months() + 1 }
    }

    /// The first and last day.
    pub fn range(self) -> Period {
        let first_month = (self.index - 1) * self.frequency.months() + 1;
        let last_month = first_month + self.frequency.months() - 1;
        let month = |m: u8| Month::try_from(m).expect("months 1 to 12");
        let from = Date::from_calendar_date(self.year, month(first_month), 1).expect("a first of the month");
        let last = month(last_month);
        let to = Date::from_calendar_date(self.year, last, last.length(self.year)).expect("a last of the month");
        Period { from, to }
    }

    /// A stable code: `2024`, `2024-H1`, `2024-Q2`, `2024-M03`.
    pub fn code(self) -> String {
        match self.frequency {
            Frequency::Year => self.year.to_string(),
            Frequency::Half => format!("{}-H{}", self.year, self.index),
            Frequency::Quarter => format!("{}-Q{}", self.year, self.index),
            Frequency::Month => format!("{}-M{:02}", self.year, self.index),
        }
    }

    pub fn parse(code: &str) -> Option<ReportPeriod> {
        let (year, rest) = match code.split_once('-') {
            None => return ReportPeriod::year(code.parse().ok()?),
            Some(parts) => parts,
        };
        let year: i32 = year.parse().ok()?;
        let (frequency, index) = match rest.split_at_checked(1)? {
            ("H", i) => (Frequency::Half, i),
            ("Q", i) => (Frequency::Quarter, i),
            ("M", i) => (Frequency::Month, i),
            _ => return None,
        };
        ReportPeriod::new(year, frequency, index.parse().ok()?)
    }

    /// Whether the whole of `other` lies in this period.
    pub fn covers(self, other: ReportPeriod) -> bool {
        let (a, b) = (self.range(), other.range());
        a.from <= b.from && b.to <= a.to
    }

    /// The share of the period elapsed by `today` (0 before it starts, 1 once it has ended), for comparing a
    /// count so far with a target for the whole period.
    pub fn elapsed(self, today: Date) -> f64 {
        let r = self.range();
        if today < r.from {
            return 0.0;
        }
        if today >= r.to {
            return 1.0;
        }
        let days = (r.to - r.from).whole_days() + 1;
        ((today - r.from).whole_days() + 1) as f64 / days as f64
    }
}

/// What an indicator's number is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// A share, kept in per mille; targets are per mille too.
    Percent,
    /// People.
    People,
    /// Records, events or activities.
    Count,
}

impl Unit {
    pub const ALL: [Unit; 3] = [Unit::Percent, Unit::People, Unit::Count];

    pub fn code(self) -> &'static str {
        match self {
            Unit::Percent => "percent",
            Unit::People => "people",
            Unit::Count => "count",
        }
    }

    pub fn from_code(code: &str) -> Option<Unit> {
        Unit::ALL.into_iter().find(|u| u.code() == code)
    }
}

/// The indicators Haven computes from its records: the one catalogue behind the dashboard, the periodic
/// reports and the API. Each has a written definition (translation key `measure.<code>.definition`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Measure {
    /// One of the plan's five law-enforcement indicators (or the share settled on time beside the settlement
    /// rate), a share of reports or cases.
    LawEnforcement(IndicatorId),
    /// Victim cases received (reception date in the period).
    VictimsReceived,
    /// Victim cases whose verification ended in the period.
    VictimsVerified,
    /// People identified as victims in the period.
    VictimsIdentified,
    /// Victim cases given at least one support regime in the period.
    VictimsSupported,
    /// Victim cases closed in the period because the person is reintegrated.
    VictimsReintegrated,
    /// Citizens handed back by foreign countries who were screened in the period.
    ReturneesScreened,
    /// Long-term absentees given an outcome in the period.
    AbsenteesReviewed,
    /// Participants in prevention activities held in the period.
    CampaignReach,
    /// Prevention activities held in the period.
    CampaignActivities,
    /// Participants in training courses that ended in the period.
    OfficialsTrained,
}

impl Measure {
    pub const ALL: [Measure; 16] = [
        Measure::LawEnforcement(IndicatorId::ReceivedAndClassified),
        Measure::LawEnforcement(IndicatorId::SettlementRate),
        Measure::LawEnforcement(IndicatorId::SettledOnTime),
        Measure::LawEnforcement(IndicatorId::OffendersDiscovered),
        Measure::LawEnforcement(IndicatorId::Prosecuted),
        Measure::LawEnforcement(IndicatorId::Tried),
        Measure::VictimsReceived,
        Measure::VictimsVerified,
        Measure::VictimsIdentified,
        Measure::VictimsSupported,
        Measure::VictimsReintegrated,
        Measure::ReturneesScreened,
        Measure::AbsenteesReviewed,
        Measure::CampaignReach,
        Measure::CampaignActivities,
        Measure::OfficialsTrained,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Measure::LawEnforcement(i) => i.code(),
            Measure::VictimsReceived => "victims_received",
            Measure::VictimsVerified => "victims_verified",
            Measure::VictimsIdentified => "victims_identified",
            Measure::VictimsSupported => "victims_supported",
            Measure::VictimsReintegrated => "victims_reintegrated",
            Measure::ReturneesScreened => "returnees_screened",
            Measure::AbsenteesReviewed => "absentees_reviewed",
            Measure::CampaignReach => "campaign_reach",
            Measure::CampaignActivities => "campaign_activities",
            Measure::OfficialsTrained => "officials_trained",
        }
    }

    pub fn from_code(code: &str) -> Option<Measure> {
        Measure::ALL.into_iter().find(|m| m.code() == code)
    }

    pub fn unit(self) -> Unit {
        match self {
            Measure::LawEnforcement(_) => Unit::Percent,
            Measure::CampaignActivities => Unit::Count,
            _ => Unit::People,
        }
    }

    /// The target the plan names by default (per mille for shares), if any.
    pub fn default_target(self) -> Option<u64> {
        match self {
            Measure::LawEnforcement(i) => Some(u64::from(i.target().0)),
            _ => None,
        }
    }
}

/// An indicator's value for a period: a share (numerator over denominator) or a sum.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Figure {
    Share { numerator: u64, denominator: u64 },
    Total(u64),
}

impl Figure {
    /// The value in the indicator's unit: per mille for a share, `None` for a share with nothing to measure.
    pub fn value(self) -> Option<u64> {
        match self {
            Figure::Share { numerator, denominator } => (denominator > 0).then(|| numerator * 1000 / denominator),
            Figure::Total(n) => Some(n),
        }
    }
}

/// An indicator against its target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Target met (or on course to be met by the period's end).
    OnTrack,
    /// Close: a share within 5 points of its target, a count at 80% or more of what is due by now.
    AtRisk,
    Behind,
    /// No target, or nothing to measure yet.
    Unknown,
}

impl Status {
    pub fn code(self) -> &'static str {
        match self {
            Status::OnTrack => "on_track",
            Status::AtRisk => "at_risk",
            Status::Behind => "behind",
            Status::Unknown => "unknown",
        }
    }
}

/// The traffic light of a figure against a target for the whole period. A share is compared as it stands; a
/// count is compared with the part of its target due by now (`elapsed`, from 0 to 1), so a campaign that has
/// reached half its people by midyear is on track.
pub fn status(unit: Unit, figure: Figure, target: Option<u64>, elapsed: f64) -> Status {
    let (Some(target), Some(value)) = (target, figure.value()) else { return Status::Unknown };
    match unit {
        Unit::Percent => {
            if value >= target {
                Status::OnTrack
            } else if value + 50 >= target {
                Status::AtRisk
            } else {
                Status::Behind
            }
        }
        Unit::People | Unit::Count => {
            let due = target as f64 * elapsed.clamp(0.0, 1.0);
            if value as f64 >= due {
                Status::OnTrack
            } else if value as f64 >= 0.8 * due {
                Status::AtRisk
            } else {
                Status::Behind
            }
        }
    }
}

/// How an indicator of a plan gets its number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    Computed(Measure),
    /// Entered by hand per period by the responsible agency.
    Manual(Unit),
}

pub use crate::FieldError;

/// Longest name of a plan, objective, activity or indicator.
pub const MAX_NAME: usize = 300;

/// Check a name a person typed: trimmed, not empty, not too long.
pub fn check_name(field: &'static str, name: &str) -> Result<String, FieldError> {
    let name = name.trim();
    if name.is_empty() {
        return Err((field, "error.required"));
    }
    if name.chars().count() > MAX_NAME {
        return Err((field, "error.too_long"));
    }
    Ok(name.to_owned())
}

/// Read a target as typed: a whole number of people or records, or a percentage with up to one decimal
/// (stored per mille). Empty means no target.
pub fn parse_target(unit: Unit, typed: &str) -> Result<Option<u64>, &'static str> {
    let t = typed.trim().trim_end_matches('%').trim().replace(',', ".");
    if t.is_empty() {
        return Ok(None);
    }
    match unit {
        Unit::Percent => {
            let v: f64 = t.parse().map_err(|_| "error.number")?;
            if !(0.0..=100.0).contains(&v) || (v * 10.0).fract().abs() > 1e-9 {
                return Err("error.percent");
            }
            Ok(Some((v * 10.0).round() as u64))
        }
        Unit::People | Unit::Count => {
            let v: u64 = t.parse().map_err(|_| "error.number")?;
            Ok(Some(v))
        }
    }
}

/// A value entered by hand for a period: a whole number not below zero (a share per mille, typed in %).
pub fn parse_entry(unit: Unit, typed: &str) -> Result<u64, &'static str> {
    match parse_target(unit, typed)? {
        Some(v) => Ok(v),
        None => Err("error.required"),
    }
}

/// Show a value in its unit: a share as a percentage in the language's way ([`crate::format::per_mille`]), a
/// number of people or things as its digits.
pub fn show(unit: Unit, value: u64, lang: crate::format::Lang) -> String {
    match unit {
        Unit::Percent => crate::format::per_mille(value, lang),
        Unit::People | Unit::Count => value.to_string(),
    }
}

/// Communication channels of prevention activities.
pub const CHANNELS: &[&str] =
    &["meeting", "school_session", "loudspeaker", "radio", "television", "social_media", "leaflets", "family_visits"];

/// Target groups of prevention activities.
pub const TARGET_GROUPS: &[&str] = &[
    "women",
    "students",
    "ethnic_minorities",
    "going_abroad",
    "youth",
    "returnees_families",
    "officials",
    "general_public",
];

/// Topics of training courses for officials.
pub const TRAINING_TOPICS: &[&str] =
    &["law_policy", "victim_identification", "interviewing", "support_regimes", "investigation", "data_protection"];

/// Most participants one activity may report (a province's population is a few million; a typo with extra
/// zeros is caught).
pub const MAX_PARTICIPANTS: u64 = 1_000_000;

/// Participants as typed: empty is 0; otherwise a whole number from 0.
pub fn parse_count(field: &'static str, typed: &str) -> Result<u64, FieldError> {
    let t = typed.trim().replace(['.', ' '], "");
    if t.is_empty() {
        return Ok(0);
    }
    if t.starts_with('-') {
        return Err((field, "error.negative"));
    }
    match t.parse::<u64>() {
        Ok(n) if n <= MAX_PARTICIPANTS => Ok(n),
        Ok(_) => Err((field, "error.count_too_large")),
        Err(_) => Err((field, "error.number")),
    }
}

/// The people a prevention activity reached, by sex and by target group.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Reach {
    pub women: u64,
    pub men: u64,
    /// Participants counted in each target group (a person may be in several groups, e.g. a woman student).
    pub groups: Vec<(String, u64)>,
}

impl Reach {
    pub fn total(&self) -> u64 {
        self.women + self.men
    }
}

/// Check a prevention activity's reach: someone took part, each group's count is within the total, and the
/// groups are from the list.
pub fn check_reach(r: &Reach) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if r.total() == 0 {
        errors.push(("women", "error.no_participants"));
    }
    for (group, n) in &r.groups {
        if !TARGET_GROUPS.contains(&group.as_str()) {
            errors.push(("groups", "error.choice"));
        } else if *n > r.total() {
            errors.push(("groups", "error.group_above_total"));
        }
    }
    errors
}

/// Check the days of a training course or activity: the end not before the start, neither in the future.
pub fn check_days(from: Option<Date>, to: Option<Date>, today: Date) -> Vec<FieldError> {
    let mut errors = Vec::new();
    match from {
        None => errors.push(("starts_on", "error.date")),
        Some(f) if f > today => errors.push(("starts_on", "error.date_in_future")),
        Some(_) => {}
    }
    match (from, to) {
        (_, None) => errors.push(("ends_on", "error.date")),
        (Some(f), Some(t)) if t < f => errors.push(("ends_on", "error.end_before_start")),
        (_, Some(t)) if t > today => errors.push(("ends_on", "error.date_in_future")),
        _ => {}
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn periods_have_their_days_and_codes() {
        let q2 = ReportPeriod::new(2024, Frequency::Quarter, 2).expect("q2");
        assert_eq!(q2.range(), Period { from: date!(2024 - 04 - 01), to: date!(2024 - 06 - 30) });
        assert_eq!(q2.code(), "2024-Q2");
        let feb = ReportPeriod::new(2024, Frequency::Month, 2).expect("feb");
        assert_eq!(feb.range().to, date!(2024 - 02 - 29), "a leap year");
        assert_eq!(ReportPeriod::new(2024, Frequency::Half, 2).expect("h2").range().from, date!(2024 - 07 - 01));
        assert_eq!(ReportPeriod::year(2024).expect("y").range().to, date!(2024 - 12 - 31));
        for f in Frequency::ALL {
            let all = ReportPeriod::all_in(2025, f);
            assert_eq!(all.len(), usize::from(f.per_year()));
            assert_eq!(all[0].range().from, date!(2025 - 01 - 01));
            assert_eq!(all.last().expect("last").range().to, date!(2025 - 12 - 31));
            for (a, b) in all.iter().zip(all.iter().skip(1)) {
                assert_eq!(a.range().to.next_day(), Some(b.range().from), "periods follow each other");
            }
            for p in all {
                assert_eq!(ReportPeriod::parse(&p.code()), Some(p));
            }
        }
        for bad in ["2024-Q5", "2024-M13", "2024-M00", "2024-X1", "24", "", "2024-", "2024-H"] {
            assert_eq!(ReportPeriod::parse(bad), None, "{bad}");
        }
        assert_eq!(ReportPeriod::containing(date!(2024 - 08 - 15), Frequency::Quarter).code(), "2024-Q3");
        assert!(ReportPeriod::year(2024).expect("y").covers(q2));
        assert!(!q2.covers(ReportPeriod::year(2024).expect("y")));
    }

    #[test]
    fn elapsed_share_of_a_period() {
        let y = ReportPeriod::year(2024).expect("y");
        assert_eq!(y.elapsed(date!(2023 - 12 - 31)), 0.0);
        assert_eq!(y.elapsed(date!(2025 - 01 - 01)), 1.0);
        assert!((y.elapsed(date!(2024 - 07 - 01)) - 183.0 / 366.0).abs() < 1e-9);
    }

    #[test]
    fn the_catalogue_has_one_code_per_measure() {
        for m in Measure::ALL {
            assert_eq!(Measure::from_code(m.code()), Some(m));
        }
        let mut codes: Vec<_> = Measure::ALL.iter().map(|m| m.code()).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), Measure::ALL.len());
        assert_eq!(Measure::LawEnforcement(IndicatorId::SettlementRate).default_target(), Some(900));
        assert_eq!(Measure::LawEnforcement(IndicatorId::SettledOnTime).default_target(), Some(1000));
        assert_eq!(Measure::CampaignReach.unit(), Unit::People);
    }

    #[test]
    fn traffic_lights() {
        let share = |n, d| Figure::Share { numerator: n, denominator: d };
        assert_eq!(status(Unit::Percent, share(95, 100), Some(900), 0.5), Status::OnTrack);
        assert_eq!(status(Unit::Percent, share(87, 100), Some(900), 1.0), Status::AtRisk);
        assert_eq!(status(Unit::Percent, share(80, 100), Some(900), 1.0), Status::Behind);
        assert_eq!(status(Unit::Percent, share(0, 0), Some(900), 1.0), Status::Unknown, "nothing to measure");
        // 700 people in the year: 300 by midyear is behind what is due (350) but close; 360 is on track.
        assert_eq!(status(Unit::People, Figure::Total(300), Some(700), 0.5), Status::AtRisk);
        assert_eq!(status(Unit::People, Figure::Total(360), Some(700), 0.5), Status::OnTrack);
        assert_eq!(status(Unit::People, Figure::Total(200), Some(700), 0.5), Status::Behind);
        assert_eq!(status(Unit::People, Figure::Total(200), None, 0.5), Status::Unknown);
        assert_eq!(status(Unit::People, Figure::Total(0), Some(700), 0.0), Status::OnTrack, "not started");
    }

    #[test]
    fn targets_and_entries_as_typed() {
        assert_eq!(parse_target(Unit::Percent, "90"), Ok(Some(900)));
        assert_eq!(parse_target(Unit::Percent, "92,5 %"), Ok(Some(925)));
        assert_eq!(parse_target(Unit::Percent, "120"), Err("error.percent"));
        assert_eq!(parse_target(Unit::Percent, "90.25"), Err("error.percent"));
        assert_eq!(parse_target(Unit::People, "700"), Ok(Some(700)));
        assert_eq!(parse_target(Unit::People, "-3"), Err("error.number"));
        assert_eq!(parse_target(Unit::People, ""), Ok(None));
        assert_eq!(parse_entry(Unit::Count, ""), Err("error.required"));
        assert_eq!(show(Unit::Percent, 925, crate::format::Lang::En), "92.5%");
        assert_eq!(show(Unit::Percent, 925, crate::format::Lang::Vi), "92,5%");
        assert_eq!(show(Unit::Percent, 900, crate::format::Lang::Vi), "90%");
        assert_eq!(show(Unit::People, 1234, crate::format::Lang::Vi), "1234");
        assert_eq!(show(Unit::People, 700, crate::format::Lang::Vi), "700");
    }

    #[test]
    fn reach_and_days_are_checked() {
        assert_eq!(parse_count("women", "-5"), Err(("women", "error.negative")));
        assert_eq!(parse_count("women", "1.200"), Ok(1200));
        assert_eq!(parse_count("women", ""), Ok(0));
        assert_eq!(parse_count("women", "abc"), Err(("women", "error.number")));
        let reach = Reach { women: 30, men: 10, groups: vec![("students".into(), 25), ("women".into(), 30)] };
        assert!(check_reach(&reach).is_empty());
        let over = Reach { women: 3, men: 0, groups: vec![("students".into(), 5)] };
        assert_eq!(check_reach(&over), vec![("groups", "error.group_above_total")]);
        assert_eq!(check_reach(&Reach::default()), vec![("women", "error.no_participants")]);
        let today = date!(2026 - 03 - 01);
        assert!(check_days(Some(date!(2026 - 02 - 01)), Some(date!(2026 - 02 - 03)), today).is_empty());
        assert_eq!(
            check_days(Some(date!(2026 - 02 - 03)), Some(date!(2026 - 02 - 01)), today),
            vec![("ends_on", "error.end_before_start")]
        );
        assert_eq!(check_days(None, None, today).len(), 2);
    }
}
