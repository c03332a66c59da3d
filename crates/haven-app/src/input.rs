//! Reading what people type, shared by every capability: codes, whole numbers, optional dates and times, and
//! the short code lists forms offer.

use haven_domain::format::parse_date;
use time::Date;

/// A code of a serde-named enumeration (`"crime_report"` for `Kind::CrimeReport`).
pub fn from_code<T: serde::de::DeserializeOwned>(code: &str) -> Option<T> {
    serde_json::from_value(serde_json::Value::String(code.to_owned())).ok()
}

/// A whole number as people write it: digits with dots, commas or spaces between thousands; empty is 0.
pub fn whole(s: &str) -> Option<u64> {
    let digits: String = s.chars().filter(|c| !matches!(c, '.' | ',' | ' ')).collect();
    if digits.is_empty() {
        return Some(0);
    }
    digits.parse().ok()
}

/// A date that may be left empty: `Ok(None)` when empty, `Err(())` when written but not a date.
#[allow(clippy::result_unit_err)]
pub fn optional_date(s: &str) -> Result<Option<Date>, ()> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    parse_date(s).map(Some).ok_or(())
}

/// Text that may be left empty.
pub fn opt(s: &str) -> Option<&str> {
    Some(s.trim()).filter(|s| !s.is_empty())
}

/// The longest free text accepted in a field (notes, summaries, answers).
pub const MAX_TEXT: usize = 2000;
