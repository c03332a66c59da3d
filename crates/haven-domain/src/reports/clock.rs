//! The criminal-procedure clock for settling a report (Criminal Procedure Code 2015, Arts. 147-149). The
//! numbers come from the profile ([`ClockRules`]); the arithmetic is here. A report is received on a day; it
//! must be settled by the end of its *last day*. Complex matters extend the limit to a number of months from
//! receipt; the procuracy may extend once more, on a request made some days before expiry; a suspension stops
//! the clock, and a resumption starts a fresh, short limit.
//!
//! Days are calendar days in Viet Nam. Counting follows Art. 134: a limit in days does not count the first
//! day and ends at midnight of the last; a limit in months ends on the same day of the month (or the last
//! day of a shorter month).

use time::{Date, Month};

/// The profile's time limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClockRules {
    pub initial_days: i64,
    pub complex_months: u32,
    pub procuracy_months: u32,
    pub procuracy_request_lead_days: i64,
    pub resume_months: u32,
}

impl ClockRules {
    /// Parse the profile's `criminal-procedure.txt` (`key = value` lines, `#` comments); every key is required.
    pub fn parse(text: &str) -> Result<ClockRules, String> {
        let get = |key: &str| -> Result<i64, String> {
            text.lines()
                .map(str::trim)
                .filter(|l| !l.starts_with('#'))
                .filter_map(|l| l.split_once('='))
                .find(|(k, _)| k.trim() == key)
                .ok_or_else(|| format!("{key} is missing"))?
                .1
                .trim()
                .parse::<i64>()
                .ok()
                .filter(|v| (0..=366).contains(v))
                .ok_or_else(|| format!("{key} is not a number of days or months"))
        };
        Ok(ClockRules {
            initial_days: get("initial_days")?,
            complex_months: get("complex_months")? as u32,
            procuracy_months: get("procuracy_months")? as u32,
            procuracy_request_lead_days: get("procuracy_request_lead_days")?,
            resume_months: get("resume_months")? as u32,
        })
    }
}

/// `date` plus `months`, on the same day of the month or the last day of a shorter month (Art. 134).
pub fn add_months(date: Date, months: u32) -> Date {
    let total = date.year() * 12 + (u8::from(date.month()) as i32 - 1) + months as i32;
    let (year, month0) = (total.div_euclid(12), total.rem_euclid(12));
    let month = Month::try_from(month0 as u8 + 1).unwrap_or(Month::January);
    let last = month.length(year);
    Date::from_calendar_date(year, month, date.day().min(last)).unwrap_or(date)
}

fn add_days(date: Date, days: i64) -> Date {
    date.checked_add(time::Duration::days(days)).unwrap_or(Date::MAX)
}

/// Something that happened to a report's clock, with its date.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClockEvent {
    /// The investigating body extended the limit because the matter is complex.
    ComplexExtension { on: Date },
    /// The investigating body asked the procuracy for the one further extension.
    ProcuracyRequested { on: Date },
    /// The procuracy granted it, for this many months (at most the profile's limit).
    ProcuracyGranted { on: Date, months: u32 },
    /// The procuracy refused it.
    ProcuracyRefused { on: Date },
    /// Settlement suspended on one of the legal grounds: the clock stops.
    Suspended { on: Date },
    /// Settlement resumed: a fresh, short limit starts.
    Resumed { on: Date },
}

impl ClockEvent {
    /// Stable code, stored and used in translation keys (`clock_event.<code>`).
    pub fn code(self) -> &'static str {
        match self {
            ClockEvent::ComplexExtension { .. } => "complex_extension",
            ClockEvent::ProcuracyRequested { .. } => "procuracy_requested",
            ClockEvent::ProcuracyGranted { .. } => "procuracy_granted",
            ClockEvent::ProcuracyRefused { .. } => "procuracy_refused",
            ClockEvent::Suspended { .. } => "suspended",
            ClockEvent::Resumed { .. } => "resumed",
        }
    }

    pub fn date(self) -> Date {
        match self {
            ClockEvent::ComplexExtension { on }
            | ClockEvent::ProcuracyRequested { on }
            | ClockEvent::ProcuracyGranted { on, .. }
            | ClockEvent::ProcuracyRefused { on }
            | ClockEvent::Suspended { on }
            | ClockEvent::Resumed { on } => on,
        }
    }
}

/// Why an event cannot happen; each has a translation key for the person who tried.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClockError {
    BeforeReceipt,
    OutOfOrder,
    Suspended,
    NotSuspended,
    Expired,
    AlreadyComplex,
    NotComplex,
    ProcuracyAlreadyAsked,
    RequestTooLate,
    NoPendingRequest,
    MonthsOutOfRange,
}

impl ClockError {
    pub fn key(self) -> &'static str {
        match self {
            ClockError::BeforeReceipt => "error.clock_before_receipt",
            ClockError::OutOfOrder => "error.clock_out_of_order",
            ClockError::Suspended => "error.clock_suspended",
            ClockError::NotSuspended => "error.clock_not_suspended",
            ClockError::Expired => "error.clock_expired",
            ClockError::AlreadyComplex => "error.clock_already_complex",
            ClockError::NotComplex => "error.clock_not_complex",
            ClockError::ProcuracyAlreadyAsked => "error.clock_procuracy_once",
            ClockError::RequestTooLate => "error.clock_request_late",
            ClockError::NoPendingRequest => "error.clock_no_request",
            ClockError::MonthsOutOfRange => "error.clock_months",
        }
    }
}

/// Whether the clock runs towards a last day or stands still.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Running: settling is on time until the end of `last_day`.
    Running {
        last_day: Date,
    },
    Suspended {
        since: Date,
    },
}

/// The clock of one report after its events.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Clock {
    pub received: Date,
    pub phase: Phase,
    pub complex: bool,
    /// The one procuracy extension has been asked for (granted, refused or pending).
    pub procuracy_asked: bool,
    pub procuracy_pending: bool,
    last_event: Date,
}

/// Where a report stands on a given day.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Standing {
    /// Running, with this many days left including today (0 means today is the last day).
    Running {
        last_day: Date,
        days_left: i64,
    },
    Overdue {
        last_day: Date,
        days_over: i64,
    },
    Suspended {
        since: Date,
    },
}

impl Clock {
    pub fn new(rules: &ClockRules, received: Date) -> Clock {
        Clock {
            received,
            phase: Phase::Running { last_day: add_days(received, rules.initial_days) },
            complex: false,
            procuracy_asked: false,
            procuracy_pending: false,
            last_event: received,
        }
    }

    /// The last day on which settling is on time; `None` while suspended.
    pub fn last_day(&self) -> Option<Date> {
        match self.phase {
            Phase::Running { last_day } => Some(last_day),
            Phase::Suspended { .. } => None,
        }
    }

    /// Replay a report's events from receipt.
    pub fn replay(rules: &ClockRules, received: Date, events: &[ClockEvent]) -> Result<Clock, (usize, ClockError)> {
        let mut c = Clock::new(rules, received);
        for (i, e) in events.iter().enumerate() {
            c = c.apply(rules, *e).map_err(|err| (i, err))?;
        }
        Ok(c)
    }

    /// The clock after one more event, or why the event cannot happen now.
    pub fn apply(&self, rules: &ClockRules, event: ClockEvent) -> Result<Clock, ClockError> {
        let on = event.date();
        if on < self.received {
            return Err(ClockError::BeforeReceipt);
        }
        if on < self.last_event {
            return Err(ClockError::OutOfOrder);
        }
        let mut next = *self;
        next.last_event = on;
        // Apart from resuming, nothing happens to a suspended clock; and a limit cannot be extended, nor
        // settlement suspended, once it has run out.
        match (event, self.last_day()) {
            (ClockEvent::Resumed { .. }, _) => {}
            (_, None) => return Err(ClockError::Suspended),
            (ClockEvent::ProcuracyGranted { .. } | ClockEvent::ProcuracyRefused { .. }, _) => {}
            (_, Some(last)) if on > last => return Err(ClockError::Expired),
            _ => {}
        }
        match event {
            ClockEvent::ComplexExtension { .. } => {
                if self.complex {
                    return Err(ClockError::AlreadyComplex);
                }
                next.complex = true;
                let extended = add_months(self.received, rules.complex_months);
                if let Phase::Running { last_day } = self.phase {
                    next.phase = Phase::Running { last_day: last_day.max(extended) };
                }
            }
            ClockEvent::ProcuracyRequested { .. } => {
                if !self.complex {
                    return Err(ClockError::NotComplex);
                }
                if self.procuracy_asked {
                    return Err(ClockError::ProcuracyAlreadyAsked);
                }
                let last = self.last_day().unwrap_or(on);
                if (last - on).whole_days() < rules.procuracy_request_lead_days {
                    return Err(ClockError::RequestTooLate);
                }
                next.procuracy_asked = true;
                next.procuracy_pending = true;
            }
            ClockEvent::ProcuracyGranted { months, .. } => {
                if !self.procuracy_pending {
                    return Err(ClockError::NoPendingRequest);
                }
                if months == 0 || months > rules.procuracy_months {
                    return Err(ClockError::MonthsOutOfRange);
                }
                next.procuracy_pending = false;
                if let Phase::Running { last_day } = self.phase {
                    next.phase = Phase::Running { last_day: add_months(last_day, months) };
                }
            }
            ClockEvent::ProcuracyRefused { .. } => {
                if !self.procuracy_pending {
                    return Err(ClockError::NoPendingRequest);
                }
                next.procuracy_pending = false;
            }
            ClockEvent::Suspended { .. } => next.phase = Phase::Suspended { since: on },
            ClockEvent::Resumed { .. } => {
                if matches!(self.phase, Phase::Running { .. }) {
                    return Err(ClockError::NotSuspended);
                }
                next.phase = Phase::Running { last_day: add_months(on, rules.resume_months) };
            }
        }
        Ok(next)
    }

    pub fn standing(&self, today: Date) -> Standing {
        match self.phase {
            Phase::Suspended { since } => Standing::Suspended { since },
            Phase::Running { last_day } if today > last_day => {
                Standing::Overdue { last_day, days_over: (today - last_day).whole_days() }
            }
            Phase::Running { last_day } => Standing::Running { last_day, days_left: (last_day - today).whole_days() },
        }
    }

    /// Whether a settling decision made on `on` is within the limit (it must also not precede receipt).
    pub fn on_time(&self, on: Date) -> bool {
        on >= self.received && self.last_day().is_some_and(|last| on <= last)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn rules() -> ClockRules {
        ClockRules::parse(include_str!("../../../../profiles/vn/criminal-procedure.txt")).expect("profile rules")
    }

    #[test]
    fn the_profile_holds_the_code_s_numbers() {
        assert_eq!(
            rules(),
            ClockRules {
                initial_days: 20,
                complex_months: 2,
                procuracy_months: 2,
                procuracy_request_lead_days: 5,
                resume_months: 1
            }
        );
        assert!(ClockRules::parse("initial_days = 20").is_err());
        assert!(ClockRules::parse(
            "initial_days = x\ncomplex_months=2\nprocuracy_months=2\nprocuracy_request_lead_days=5\nresume_months=1"
        )
        .is_err());
    }

    #[test]
    fn months_end_on_the_same_day_or_the_month_s_last() {
        assert_eq!(add_months(date!(2025 - 01 - 15), 2), date!(2025 - 03 - 15));
        assert_eq!(add_months(date!(2025 - 12 - 31), 2), date!(2026 - 02 - 28));
        assert_eq!(add_months(date!(2023 - 12 - 31), 2), date!(2024 - 02 - 29), "leap year");
        assert_eq!(add_months(date!(2025 - 03 - 31), 1), date!(2025 - 04 - 30));
        assert_eq!(add_months(date!(2025 - 11 - 30), 2), date!(2026 - 01 - 30));
    }

    #[test]
    fn twenty_days_not_counting_the_day_of_receipt() {
        let c = Clock::new(&rules(), date!(2025 - 02 - 10));
        assert_eq!(c.last_day(), Some(date!(2025 - 03 - 02)));
        let c = Clock::new(&rules(), date!(2024 - 02 - 10));
        assert_eq!(c.last_day(), Some(date!(2024 - 03 - 01)), "29 February counts in a leap year");
        assert!(c.on_time(date!(2024 - 03 - 01)));
        assert!(!c.on_time(date!(2024 - 03 - 02)));
        assert!(!c.on_time(date!(2024 - 02 - 09)), "a decision cannot precede receipt");
    }

    #[test]
    fn standing_counts_days_left_and_over() {
        let c = Clock::new(&rules(), date!(2025 - 06 - 01));
        assert_eq!(
            c.standing(date!(2025 - 06 - 16)),
            Standing::Running { last_day: date!(2025 - 06 - 21), days_left: 5 }
        );
        assert_eq!(
            c.standing(date!(2025 - 06 - 21)),
            Standing::Running { last_day: date!(2025 - 06 - 21), days_left: 0 }
        );
        assert_eq!(
            c.standing(date!(2025 - 06 - 24)),
            Standing::Overdue { last_day: date!(2025 - 06 - 21), days_over: 3 }
        );
    }

    #[test]
    fn complex_extension_runs_two_months_from_receipt_once() {
        let r = rules();
        let c = Clock::new(&r, date!(2025 - 12 - 31));
        let c = c.apply(&r, ClockEvent::ComplexExtension { on: date!(2026 - 01 - 10) }).expect("extend");
        assert_eq!(c.last_day(), Some(date!(2026 - 02 - 28)));
        assert_eq!(
            c.apply(&r, ClockEvent::ComplexExtension { on: date!(2026 - 01 - 11) }),
            Err(ClockError::AlreadyComplex)
        );
        // Not after the limit has run out.
        let late = Clock::new(&r, date!(2025 - 01 - 01));
        assert_eq!(
            late.apply(&r, ClockEvent::ComplexExtension { on: date!(2025 - 01 - 22) }),
            Err(ClockError::Expired)
        );
        assert!(
            late.apply(&r, ClockEvent::ComplexExtension { on: date!(2025 - 01 - 21) }).is_ok(),
            "the last day itself"
        );
    }

    #[test]
    fn procuracy_extends_once_on_a_timely_request() {
        let r = rules();
        let received = date!(2025 - 03 - 01);
        let c = Clock::new(&r, received);
        assert_eq!(
            c.apply(&r, ClockEvent::ProcuracyRequested { on: date!(2025 - 03 - 05) }),
            Err(ClockError::NotComplex)
        );
        let c = c.apply(&r, ClockEvent::ComplexExtension { on: date!(2025 - 03 - 15) }).expect("complex");
        assert_eq!(c.last_day(), Some(date!(2025 - 05 - 01)));
        // Due at least five days before expiry: 26 April is the last day to ask.
        assert_eq!(
            c.apply(&r, ClockEvent::ProcuracyRequested { on: date!(2025 - 04 - 27) }),
            Err(ClockError::RequestTooLate)
        );
        let c = c.apply(&r, ClockEvent::ProcuracyRequested { on: date!(2025 - 04 - 26) }).expect("request");
        assert!(c.procuracy_pending);
        assert_eq!(
            c.apply(&r, ClockEvent::ProcuracyGranted { on: date!(2025 - 04 - 28), months: 3 }),
            Err(ClockError::MonthsOutOfRange)
        );
        let c = c.apply(&r, ClockEvent::ProcuracyGranted { on: date!(2025 - 04 - 28), months: 2 }).expect("grant");
        assert_eq!(c.last_day(), Some(date!(2025 - 07 - 01)));
        assert_eq!(
            c.apply(&r, ClockEvent::ProcuracyRequested { on: date!(2025 - 05 - 10) }),
            Err(ClockError::ProcuracyAlreadyAsked)
        );
        assert_eq!(
            c.apply(&r, ClockEvent::ProcuracyGranted { on: date!(2025 - 05 - 10), months: 1 }),
            Err(ClockError::NoPendingRequest)
        );
    }

    #[test]
    fn a_refusal_leaves_the_limit_and_uses_up_the_request() {
        let r = rules();
        let c = Clock::replay(
            &r,
            date!(2025 - 03 - 01),
            &[
                ClockEvent::ComplexExtension { on: date!(2025 - 03 - 10) },
                ClockEvent::ProcuracyRequested { on: date!(2025 - 04 - 01) },
                ClockEvent::ProcuracyRefused { on: date!(2025 - 04 - 03) },
            ],
        )
        .expect("replay");
        assert_eq!(c.last_day(), Some(date!(2025 - 05 - 01)));
        assert!(!c.procuracy_pending && c.procuracy_asked);
    }

    #[test]
    fn suspension_stops_the_clock_and_resumption_gives_one_month() {
        let r = rules();
        let c = Clock::replay(&r, date!(2024 - 01 - 05), &[ClockEvent::Suspended { on: date!(2024 - 01 - 20) }])
            .expect("suspend");
        assert_eq!(c.last_day(), None);
        assert_eq!(
            c.standing(date!(2025 - 06 - 01)),
            Standing::Suspended { since: date!(2024 - 01 - 20) },
            "never overdue while suspended"
        );
        assert_eq!(c.apply(&r, ClockEvent::ComplexExtension { on: date!(2024 - 02 - 01) }), Err(ClockError::Suspended));
        assert_eq!(c.apply(&r, ClockEvent::Suspended { on: date!(2024 - 02 - 01) }), Err(ClockError::Suspended));
        // Resumed after a long suspension, on 31 January of a leap year: one month ends on 29 February.
        let c = c.apply(&r, ClockEvent::Resumed { on: date!(2025 - 01 - 31) }).expect("resume");
        assert_eq!(c.last_day(), Some(date!(2025 - 02 - 28)));
        let c2 = Clock::replay(
            &r,
            date!(2023 - 12 - 01),
            &[ClockEvent::Suspended { on: date!(2023 - 12 - 02) }, ClockEvent::Resumed { on: date!(2024 - 01 - 31) }],
        )
        .expect("replay");
        assert_eq!(c2.last_day(), Some(date!(2024 - 02 - 29)));
        assert_eq!(c.apply(&r, ClockEvent::Resumed { on: date!(2025 - 02 - 01) }), Err(ClockError::NotSuspended));
    }

    #[test]
    fn impossible_dates_are_refused() {
        let r = rules();
        let c = Clock::new(&r, date!(2025 - 05 - 10));
        assert_eq!(c.apply(&r, ClockEvent::Suspended { on: date!(2025 - 05 - 09) }), Err(ClockError::BeforeReceipt));
        let c = c.apply(&r, ClockEvent::ComplexExtension { on: date!(2025 - 05 - 20) }).expect("extend");
        assert_eq!(c.apply(&r, ClockEvent::Suspended { on: date!(2025 - 05 - 19) }), Err(ClockError::OutOfOrder));
        assert_eq!(
            Clock::replay(&r, date!(2025 - 05 - 10), &[ClockEvent::Resumed { on: date!(2025 - 05 - 11) }]),
            Err((0, ClockError::NotSuspended))
        );
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        fn any_date() -> impl Strategy<Value = Date> {
            (2000i32..2040, 1u8..=12, 1u8..=31).prop_map(|(y, m, d)| {
                let month = Month::try_from(m).unwrap_or(Month::January);
                Date::from_calendar_date(y, month, d.min(month.length(y))).unwrap_or(Date::MIN)
            })
        }

        fn any_event(base: Date) -> impl Strategy<Value = ClockEvent> {
            (0u8..6, 0i64..200, 0u32..4).prop_map(move |(kind, offset, months)| {
                let on = base + time::Duration::days(offset);
                match kind {
                    0 => ClockEvent::ComplexExtension { on },
                    1 => ClockEvent::ProcuracyRequested { on },
                    2 => ClockEvent::ProcuracyGranted { on, months },
                    3 => ClockEvent::ProcuracyRefused { on },
                    4 => ClockEvent::Suspended { on },
                    _ => ClockEvent::Resumed { on },
                }
            })
        }

        proptest! {
            #[test]
            fn months_never_overshoot(d in any_date(), n in 0u32..40) {
                let later = add_months(d, n);
                prop_assert!(later >= d);
                prop_assert!(later.day() <= d.day());
                let months = (later.year() - d.year()) * 12 + u8::from(later.month()) as i32 - u8::from(d.month()) as i32;
                prop_assert_eq!(months, n as i32);
            }

            #[test]
            fn extensions_never_move_the_deadline_earlier(
                received in any_date(),
                raw in proptest::collection::vec(any_event(time::macros::date!(2000 - 01 - 01)), 0..12),
            ) {
                let r = ClockRules { initial_days: 20, complex_months: 2, procuracy_months: 2, procuracy_request_lead_days: 5, resume_months: 1 };
                // Re-base the generated events on the receipt day, in date order, as a report's history would be.
                let shift = received - time::macros::date!(2000 - 01 - 01);
                let mut evs: Vec<ClockEvent> = raw.into_iter().map(|e| match e {
                    ClockEvent::ComplexExtension { on } => ClockEvent::ComplexExtension { on: on + shift },
                    ClockEvent::ProcuracyRequested { on } => ClockEvent::ProcuracyRequested { on: on + shift },
                    ClockEvent::ProcuracyGranted { on, months } => ClockEvent::ProcuracyGranted { on: on + shift, months },
                    ClockEvent::ProcuracyRefused { on } => ClockEvent::ProcuracyRefused { on: on + shift },
                    ClockEvent::Suspended { on } => ClockEvent::Suspended { on: on + shift },
                    ClockEvent::Resumed { on } => ClockEvent::Resumed { on: on + shift },
                }).collect();
                evs.sort_by_key(|e| e.date());
                let mut c = Clock::new(&r, received);
                prop_assert_eq!(c.last_day(), Some(received + time::Duration::days(20)));
                let ceiling = add_months(add_months(received, 2), 2);
                let mut resumed = false;
                for e in evs {
                    let Ok(next) = c.apply(&r, e) else { continue };
                    match e {
                        ClockEvent::ComplexExtension { .. } | ClockEvent::ProcuracyGranted { .. } => {
                            prop_assert!(next.last_day() >= c.last_day(), "an extension moved the deadline earlier");
                        }
                        ClockEvent::ProcuracyRequested { .. } | ClockEvent::ProcuracyRefused { .. } => {
                            prop_assert_eq!(next.last_day(), c.last_day());
                        }
                        ClockEvent::Suspended { .. } => prop_assert_eq!(next.last_day(), None),
                        ClockEvent::Resumed { on } => {
                            resumed = true;
                            prop_assert_eq!(next.last_day(), Some(add_months(on, 1)));
                        }
                    }
                    // Without a resumption the limit never passes receipt + 2 months + 2 months.
                    if let (false, Some(last)) = (resumed, next.last_day()) {
                        prop_assert!(last <= ceiling, "{} beyond the legal ceiling {}", last, ceiling);
                    }
                    c = next;
                }
            }
        }
    }
}
