//! Haven's time base: instants are UTC milliseconds (how the store keeps them); legal days are calendar days
//! in Asia/Ho_Chi_Minh, which has been UTC+7 without daylight saving since 1975, so a fixed offset is exact.

use time::{Date, OffsetDateTime, UtcOffset};

/// An instant as UTC milliseconds since the Unix epoch.
pub type Millis = i64;

pub const MINUTE: Millis = 60_000;
pub const HOUR: Millis = 60 * MINUTE;
pub const DAY: Millis = 24 * HOUR;

/// Asia/Ho_Chi_Minh.
pub const VN_OFFSET: UtcOffset = match UtcOffset::from_hms(7, 0, 0) {
    Ok(o) => o,
    Err(_) => panic!("UTC+7 is a valid offset"),
};

/// The local date-time in Viet Nam of an instant; `None` only for instants far outside any real use.
pub fn local(at: Millis) -> Option<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(at) * 1_000_000).ok().map(|t| t.to_offset(VN_OFFSET))
}

/// The legal calendar day of an instant.
pub fn local_date(at: Millis) -> Option<Date> {
    local(at).map(|t| t.date())
}

pub fn to_millis(t: OffsetDateTime) -> Millis {
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

/// The instant a legal calendar day begins (midnight in Viet Nam).
pub fn day_start(d: Date) -> Millis {
    to_millis(d.midnight().assume_offset(VN_OFFSET))
}

/// Where "now" comes from. The server holds one; tests give it a clock they can move.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> Millis;
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Millis {
        to_millis(OffsetDateTime::now_utc())
    }
}

/// A clock that stands still until moved.
pub struct ManualClock(std::sync::atomic::AtomicI64);

impl ManualClock {
    pub fn new(at: Millis) -> Self {
        Self(std::sync::atomic::AtomicI64::new(at))
    }
    pub fn advance(&self, by: Millis) {
        self.0.fetch_add(by, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Millis {
        self.0.load(std::sync::atomic::Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn late_evening_utc_is_next_day_in_vietnam() {
        let at = to_millis(datetime!(2025-06-30 17:30 UTC));
        assert_eq!(local_date(at).map(|d| d.to_string()), Some("2025-07-01".into()));
        let at = to_millis(datetime!(2025-06-30 16:59 UTC));
        assert_eq!(local_date(at).map(|d| d.to_string()), Some("2025-06-30".into()));
    }
}
