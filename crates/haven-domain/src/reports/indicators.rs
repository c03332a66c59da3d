//! The plan's five law-enforcement indicators (and, beside its settlement rate, the share settled on time),
//! computed from facts about reports and cases. Each indicator
//! carries its written definition (the same words the dashboard shows, from `docs/indicators.md`), its
//! target, and the ids of the records in its numerator and denominator for the drill-down.

use time::Date;

/// A closed range of calendar days.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Period {
    pub from: Date,
    pub to: Date,
}

impl Period {
    pub fn contains(&self, d: Date) -> bool {
        self.from <= d && d <= self.to
    }
}

/// What the indicators need to know about one report, as of the end of the period.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportFacts {
    pub id: String,
    pub received: Date,
    pub classified: Option<Date>,
    /// The settling decision's date and whether it was within the limit.
    pub settled: Option<(Date, bool)>,
    /// The last day of the legal limit, `None` while suspended.
    pub last_day: Option<Date>,
}

/// What the indicators need to know about one criminal case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaseFacts {
    pub id: String,
    pub opened: Date,
    pub offenders_identified: Option<Date>,
    /// Sent to the procuracy with a recommendation to prosecute.
    pub to_procuracy: Option<Date>,
    pub indicted: Option<Date>,
    /// Indictment received by the court.
    pub to_court: Option<Date>,
    /// First-instance judgment.
    pub tried: Option<Date>,
    /// Closed without indictment or trial (suspended investigation counts while it lasts).
    pub closed: Option<Date>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IndicatorId {
    ReceivedAndClassified,
    /// The plan's indicator 2, as the national programme counts it: settled over to be settled.
    SettlementRate,
    /// Not a plan indicator: the share of settlements made within the legal limit, shown beside the rate.
    SettledOnTime,
    OffendersDiscovered,
    Prosecuted,
    Tried,
}

impl IndicatorId {
    pub const ALL: [IndicatorId; 6] = [
        IndicatorId::ReceivedAndClassified,
        IndicatorId::SettlementRate,
        IndicatorId::SettledOnTime,
        IndicatorId::OffendersDiscovered,
        IndicatorId::Prosecuted,
        IndicatorId::Tried,
    ];

    /// Stable code; translation keys `indicator.<code>.name` and `indicator.<code>.definition`.
    pub fn code(self) -> &'static str {
        match self {
            IndicatorId::ReceivedAndClassified => "received_classified",
            IndicatorId::SettlementRate => "settlement_rate",
            IndicatorId::SettledOnTime => "settled_on_time",
            IndicatorId::OffendersDiscovered => "offenders_discovered",
            IndicatorId::Prosecuted => "prosecuted",
            IndicatorId::Tried => "tried",
        }
    }

    pub fn from_code(code: &str) -> Option<IndicatorId> {
        IndicatorId::ALL.into_iter().find(|i| i.code() == code)
    }

    /// The plan's target, in per mille, and whether it must be exceeded (">") or reached.
    pub fn target(self) -> (u32, bool) {
        match self {
            IndicatorId::ReceivedAndClassified => (1000, false),
            IndicatorId::SettlementRate => (900, true),
            // The law gives every report its limit: all of them are to be settled within it.
            IndicatorId::SettledOnTime => (1000, false),
            IndicatorId::OffendersDiscovered => (900, true),
            IndicatorId::Prosecuted => (950, false),
            IndicatorId::Tried => (900, false),
        }
    }
}

/// One indicator's value with the records behind it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Value {
    pub id: IndicatorId,
    pub numerator: Vec<String>,
    pub denominator: Vec<String>,
}

/// An indicator as counts only (what the dashboard needs at scale).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Count {
    pub id: IndicatorId,
    pub numerator: u64,
    pub denominator: u64,
}

impl Count {
    /// The share in per mille, or `None` when nothing was due (no denominator).
    pub fn per_mille(&self) -> Option<u32> {
        (self.denominator > 0).then(|| (self.numerator * 1000 / self.denominator) as u32)
    }

    /// Whether the target is met; `None` when there is nothing to measure.
    pub fn meets_target(&self) -> Option<bool> {
        let (target, strictly) = self.id.target();
        let (n, d) = (self.numerator * 1000, self.denominator);
        if d == 0 {
            return None;
        }
        Some(if strictly { n > u64::from(target) * d } else { n >= u64::from(target) * d })
    }
}

impl Value {
    pub fn count(&self) -> Count {
        Count { id: self.id, numerator: self.numerator.len() as u64, denominator: self.denominator.len() as u64 }
    }

    pub fn per_mille(&self) -> Option<u32> {
        self.count().per_mille()
    }

    pub fn meets_target(&self) -> Option<bool> {
        self.count().meets_target()
    }
}

fn within(d: Option<Date>, end: Date) -> Option<Date> {
    d.filter(|d| *d <= end)
}

/// Compute the indicators, in the order of [`IndicatorId::ALL`], for a period from the facts known at its end.
pub fn compute(period: Period, reports: &[ReportFacts], cases: &[CaseFacts]) -> Vec<Value> {
    let end = period.to;
    let mut out = Vec::with_capacity(IndicatorId::ALL.len());

    // 1. Reports received in the period / those of them classified by its end.
    let received: Vec<&ReportFacts> = reports.iter().filter(|r| period.contains(r.received)).collect();
    out.push(Value {
        id: IndicatorId::ReceivedAndClassified,
        denominator: received.iter().map(|r| r.id.clone()).collect(),
        numerator: received.iter().filter(|r| within(r.classified, end).is_some()).map(|r| r.id.clone()).collect(),
    });

    // 2. The settlement rate (national programme): reports to be settled in the period (received by its end
    //    and not settled before it began: carried over, or new) / those settled in it.
    let to_settle: Vec<&ReportFacts> = reports
        .iter()
        .filter(|r| r.received <= end)
        .filter(|r| r.settled.is_none_or(|(d, _)| d >= period.from))
        .collect();
    out.push(Value {
        id: IndicatorId::SettlementRate,
        denominator: to_settle.iter().map(|r| r.id.clone()).collect(),
        numerator: to_settle
            .iter()
            .filter(|r| r.settled.is_some_and(|(d, _)| period.contains(d)))
            .map(|r| r.id.clone())
            .collect(),
    });

    // Settled on time (beside the rate): reports whose limit fell due in the period, or that were settled in
    // it / those settled on time.
    let due: Vec<&ReportFacts> = reports
        .iter()
        .filter(|r| r.received <= end)
        .filter(|r| {
            let settled_in = r.settled.is_some_and(|(d, _)| period.contains(d));
            let falls_due =
                r.last_day.is_some_and(|l| period.contains(l)) && r.settled.is_none_or(|(d, _)| d >= period.from);
            settled_in || falls_due
        })
        .collect();
    out.push(Value {
        id: IndicatorId::SettledOnTime,
        denominator: due.iter().map(|r| r.id.clone()).collect(),
        numerator: due
            .iter()
            .filter(|r| r.settled.is_some_and(|(d, on_time)| on_time && d <= end))
            .map(|r| r.id.clone())
            .collect(),
    });

    // 3. Cases initiated in the period / those whose offenders were identified by its end.
    let opened: Vec<&CaseFacts> = cases.iter().filter(|c| period.contains(c.opened)).collect();
    out.push(Value {
        id: IndicatorId::OffendersDiscovered,
        denominator: opened.iter().map(|c| c.id.clone()).collect(),
        numerator: opened
            .iter()
            .filter(|c| within(c.offenders_identified, end).is_some())
            .map(|c| c.id.clone())
            .collect(),
    });

    // 4. Cases before the procuracy in the period (received in it, or carried over not yet indicted) /
    //    those indicted in the period.
    let before_procuracy: Vec<&CaseFacts> = cases
        .iter()
        .filter(|c| within(c.to_procuracy, end).is_some())
        .filter(|c| c.indicted.is_none_or(|d| d >= period.from))
        .collect();
    out.push(Value {
        id: IndicatorId::Prosecuted,
        denominator: before_procuracy.iter().map(|c| c.id.clone()).collect(),
        numerator: before_procuracy
            .iter()
            .filter(|c| c.indicted.is_some_and(|d| period.contains(d)))
            .map(|c| c.id.clone())
            .collect(),
    });

    // 5. Cases before the court in the period (received in it, or carried over untried) / those tried in it.
    let before_court: Vec<&CaseFacts> = cases
        .iter()
        .filter(|c| within(c.to_court, end).is_some())
        .filter(|c| c.tried.is_none_or(|d| d >= period.from))
        .collect();
    out.push(Value {
        id: IndicatorId::Tried,
        denominator: before_court.iter().map(|c| c.id.clone()).collect(),
        numerator: before_court
            .iter()
            .filter(|c| c.tried.is_some_and(|d| period.contains(d)))
            .map(|c| c.id.clone())
            .collect(),
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    const YEAR: Period = Period { from: date!(2025 - 01 - 01), to: date!(2025 - 12 - 31) };

    fn report(
        id: &str,
        received: Date,
        classified: Option<Date>,
        settled: Option<(Date, bool)>,
        last_day: Option<Date>,
    ) -> ReportFacts {
        ReportFacts { id: id.into(), received, classified, settled, last_day }
    }

    fn case(id: &str, opened: Date) -> CaseFacts {
        CaseFacts {
            id: id.into(),
            opened,
            offenders_identified: None,
            to_procuracy: None,
            indicted: None,
            to_court: None,
            tried: None,
            closed: None,
        }
    }

    fn get(values: &[Value], id: IndicatorId) -> &Value {
        values.iter().find(|v| v.id == id).expect("indicator")
    }

    #[test]
    fn received_and_classified_counts_the_period_s_reports() {
        let reports = [
            report("a", date!(2025 - 02 - 01), Some(date!(2025 - 02 - 02)), None, Some(date!(2025 - 02 - 21))),
            report("b", date!(2025 - 12 - 30), None, None, Some(date!(2026 - 01 - 19))),
            report("old", date!(2024 - 12 - 30), Some(date!(2025 - 01 - 02)), None, Some(date!(2025 - 01 - 19))),
            report("late", date!(2025 - 12 - 20), Some(date!(2026 - 01 - 03)), None, None),
        ];
        let v = compute(YEAR, &reports, &[]);
        let i = get(&v, IndicatorId::ReceivedAndClassified);
        assert_eq!(i.denominator, ["a", "b", "late"]);
        assert_eq!(i.numerator, ["a"], "classified after the period does not count in it");
        assert_eq!(i.per_mille(), Some(333));
        assert_eq!(i.meets_target(), Some(false));
    }

    #[test]
    fn settlement_counts_what_fell_due_or_was_settled_including_carried_over() {
        let reports = [
            // Due and settled on time in the year.
            report(
                "on_time",
                date!(2025 - 03 - 01),
                Some(date!(2025 - 03 - 02)),
                Some((date!(2025 - 03 - 15), true)),
                Some(date!(2025 - 03 - 21)),
            ),
            // Received last year, falls due this year, settled late.
            report(
                "carried_late",
                date!(2024 - 12 - 25),
                Some(date!(2024 - 12 - 26)),
                Some((date!(2025 - 01 - 20), false)),
                Some(date!(2025 - 01 - 14)),
            ),
            // Due this year, still not settled: overdue, counts against.
            report("overdue", date!(2025 - 11 - 01), Some(date!(2025 - 11 - 02)), None, Some(date!(2025 - 11 - 21))),
            // Suspended at the end of the year: not due.
            report("suspended", date!(2025 - 06 - 01), Some(date!(2025 - 06 - 02)), None, None),
            // Falls due next year: not yet due.
            report("next_year", date!(2025 - 12 - 28), Some(date!(2025 - 12 - 29)), None, Some(date!(2026 - 01 - 17))),
            // Settled last year: belongs to last year.
            report(
                "done_before",
                date!(2024 - 11 - 01),
                Some(date!(2024 - 11 - 02)),
                Some((date!(2024 - 11 - 10), true)),
                Some(date!(2024 - 11 - 21)),
            ),
        ];
        let v = compute(YEAR, &reports, &[]);
        let i = get(&v, IndicatorId::SettledOnTime);
        assert_eq!(i.denominator, ["on_time", "carried_late", "overdue"]);
        assert_eq!(i.numerator, ["on_time"]);
        assert_eq!(i.meets_target(), Some(false));
        // The settlement rate is another number: everything to be settled in the year (carried over or new,
        // suspended or not yet due included) against what was settled in it, on time or late.
        let rate = get(&v, IndicatorId::SettlementRate);
        assert_eq!(rate.denominator, ["on_time", "carried_late", "overdue", "suspended", "next_year"]);
        assert_eq!(rate.numerator, ["on_time", "carried_late"]);
        assert_eq!(rate.per_mille(), Some(400));
    }

    #[test]
    fn the_settlement_rate_counts_what_was_left_to_settle_at_each_period() {
        let q1 = Period { from: date!(2025 - 01 - 01), to: date!(2025 - 03 - 31) };
        let q2 = Period { from: date!(2025 - 04 - 01), to: date!(2025 - 06 - 30) };
        let reports = [
            report("early", date!(2025 - 01 - 10), None, Some((date!(2025 - 02 - 01), true)), None),
            report("straddles", date!(2025 - 03 - 20), None, Some((date!(2025 - 04 - 05), true)), None),
            report("later", date!(2025 - 05 - 01), None, None, None),
        ];
        let rate = |p| get(&compute(p, &reports, &[]), IndicatorId::SettlementRate).clone();
        let (a, b) = (rate(q1), rate(q2));
        assert_eq!(
            (a.numerator, a.denominator),
            (vec!["early".to_owned()], vec!["early".to_owned(), "straddles".to_owned()])
        );
        assert_eq!(
            (b.numerator, b.denominator),
            (vec!["straddles".to_owned()], vec!["straddles".to_owned(), "later".to_owned()]),
            "carried over from the quarter before, settled in this one"
        );
    }

    #[test]
    fn case_indicators_follow_cases_through_procuracy_and_court() {
        let mut a = case("a", date!(2025 - 02 - 01));
        a.offenders_identified = Some(date!(2025 - 03 - 01));
        a.to_procuracy = Some(date!(2025 - 05 - 01));
        a.indicted = Some(date!(2025 - 06 - 01));
        a.to_court = Some(date!(2025 - 06 - 05));
        a.tried = Some(date!(2025 - 09 - 01));
        let mut b = case("b", date!(2025 - 10 - 01));
        b.offenders_identified = Some(date!(2026 - 01 - 10));
        let mut carried = case("carried", date!(2024 - 06 - 01));
        carried.offenders_identified = Some(date!(2024 - 07 - 01));
        carried.to_procuracy = Some(date!(2024 - 11 - 01));
        carried.indicted = Some(date!(2025 - 01 - 15));
        carried.to_court = Some(date!(2025 - 01 - 20));
        let mut done = case("done", date!(2023 - 06 - 01));
        done.to_procuracy = Some(date!(2023 - 09 - 01));
        done.indicted = Some(date!(2023 - 10 - 01));
        let v = compute(YEAR, &[], &[a, b, carried, done]);
        let found = get(&v, IndicatorId::OffendersDiscovered);
        assert_eq!(
            (found.numerator.clone(), found.denominator.clone()),
            (vec!["a".to_owned()], vec!["a".to_owned(), "b".to_owned()])
        );
        let pros = get(&v, IndicatorId::Prosecuted);
        assert_eq!(pros.denominator, ["a", "carried"], "carried over from last year counts; indicted before does not");
        assert_eq!(pros.numerator, ["a", "carried"]);
        assert_eq!(pros.meets_target(), Some(true));
        let tried = get(&v, IndicatorId::Tried);
        assert_eq!(tried.denominator, ["a", "carried"]);
        assert_eq!(tried.numerator, ["a"]);
        assert_eq!(tried.per_mille(), Some(500));
    }

    #[test]
    fn targets_are_reached_or_exceeded_as_the_plan_says() {
        let v = |n: usize, d: usize, id| Value {
            id,
            numerator: vec![String::new(); n],
            denominator: vec![String::new(); d],
        };
        assert_eq!(v(9, 10, IndicatorId::SettlementRate).meets_target(), Some(false), "over 90% means more than 90%");
        assert_eq!(v(91, 100, IndicatorId::SettlementRate).meets_target(), Some(true));
        assert_eq!(v(99, 100, IndicatorId::SettledOnTime).meets_target(), Some(false), "the law sets every limit");
        assert_eq!(v(19, 20, IndicatorId::Prosecuted).meets_target(), Some(true), "95% reached");
        assert_eq!(v(0, 0, IndicatorId::Tried).meets_target(), None, "nothing to measure");
        assert_eq!(v(10, 10, IndicatorId::ReceivedAndClassified).meets_target(), Some(true));
    }
}
