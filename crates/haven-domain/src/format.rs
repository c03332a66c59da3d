//! How dates and numbers are written for people: dd/mm/yyyy everywhere; numbers with the Vietnamese
//! separators ('.' for thousands, ',' for decimals) or the English ones.

use time::Date;

use crate::time::{local, Millis};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    Vi,
    En,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Vi => "vi",
            Lang::En => "en",
        }
    }
    pub fn from_code(code: &str) -> Option<Lang> {
        match code {
            "vi" => Some(Lang::Vi),
            "en" => Some(Lang::En),
            _ => None,
        }
    }
}

pub fn date(d: Date) -> String {
    format!("{:02}/{:02}/{:04}", d.day(), u8::from(d.month()), d.year())
}

/// dd/mm/yyyy HH:MM in Viet Nam time.
pub fn date_time(at: Millis) -> String {
    match local(at) {
        Some(t) => format!("{} {:02}:{:02}", date(t.date()), t.hour(), t.minute()),
        None => String::from("?"),
    }
}

/// An integer with thousands separators: 1.234.567 in Vietnamese, 1,234,567 in English.
pub fn integer(n: i64, lang: Lang) -> String {
    let sep = match lang {
        Lang::Vi => '.',
        Lang::En => ',',
    };
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(sep);
        }
        out.push(c);
    }
    out
}

/// A share kept in tenths of a percent (per mille), written as people of the language write it: "92,5%" in
/// Vietnamese, "92.5%" in English, "90%" when there is no tenth. Every page, printed report and workbook
/// writes shares through this, so one figure reads the same everywhere.
pub fn per_mille(value: u64, lang: Lang) -> String {
    let (whole, tenth) = (value / 10, value % 10);
    let sep = if lang == Lang::Vi { ',' } else { '.' };
    if tenth == 0 {
        format!("{whole}%")
    } else {
        format!("{whole}{sep}{tenth}%")
    }
}

/// Parse dd/mm/yyyy (also d/m/yyyy and yyyy-mm-dd as browsers send from date inputs).
pub fn parse_date(s: &str) -> Option<Date> {
    let s = s.trim();
    let (d, m, y) = if let Some((y, rest)) = s.split_once('-') {
        let (m, d) = rest.split_once('-')?;
        (d, m, y)
    } else {
        let mut it = s.split('/');
        let (d, m, y) = (it.next()?, it.next()?, it.next()?);
        if it.next().is_some() {
            return None;
        }
        (d, m, y)
    };
    if y.len() != 4 {
        return None;
    }
    let month = time::Month::try_from(m.parse::<u8>().ok()?).ok()?;
    Date::from_calendar_date(y.parse().ok()?, month, d.parse().ok()?).ok()
}

/// The first year Haven records events in (a report received, a victim received, a consent given, a support
/// given): the province's offices and their records begin with the state in 1945, so an earlier day is a
/// typing error (01/01/0000 once made a report overdue by two thousand years).
pub const FIRST_EVENT_YEAR: i32 = 1945;

/// A day something happened, as typed: a date from [`FIRST_EVENT_YEAR`] to `today`; otherwise the
/// translation key of what is wrong.
pub fn event_day(s: &str, today: Date) -> Result<Date, &'static str> {
    match parse_date(s) {
        None => Err("error.date"),
        Some(d) if d.year() < FIRST_EVENT_YEAR => Err("error.date_too_early"),
        Some(d) if d > today => Err("error.date_in_future"),
        Some(d) => Ok(d),
    }
}

/// A time of day as people write it: "9:30", "09:30", "9h30", "9h", "9g30", "9 giờ 30", "9 giờ 30 phút", "9.30",
/// or an hour alone ("9"). `None` for anything else, an hour past 23 or a minute past 59.
pub fn parse_time_of_day(s: &str) -> Option<time::Time> {
    fn digits(s: &str) -> (&str, &str) {
        let end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
        (&s[..end], &s[end..])
    }
    let lower = s.trim().to_lowercase();
    let (hour, rest) = digits(&lower);
    if hour.is_empty() || hour.len() > 2 {
        return None;
    }
    let rest = rest.trim_start();
    let rest = ["giờ", "gio", "h", "g", ":", "."].iter().find_map(|sep| rest.strip_prefix(sep)).unwrap_or(rest);
    let (minute, rest) = digits(rest.trim_start());
    let rest = rest.trim();
    let rest = ["phút", "phut", "p", "'"].iter().find_map(|unit| rest.strip_suffix(unit)).unwrap_or(rest);
    if !rest.trim().is_empty() || minute.len() > 2 || (minute.is_empty() && lower.ends_with([':', '.'])) {
        return None;
    }
    let minute = if minute.is_empty() { 0 } else { minute.parse().ok()? };
    time::Time::from_hms(hour.parse().ok()?, minute, 0).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn an_event_happened_between_1945_and_today() {
        let today = date!(2026 - 03 - 10);
        assert_eq!(event_day("01/01/0000", today), Err("error.date_too_early"));
        assert_eq!(event_day("31/12/1944", today), Err("error.date_too_early"));
        assert_eq!(event_day("01/01/1945", today), Ok(date!(1945 - 01 - 01)));
        assert_eq!(event_day("10/03/2026", today), Ok(today));
        assert_eq!(event_day("11/03/2026", today), Err("error.date_in_future"));
        assert_eq!(event_day("30/02/2026", today), Err("error.date"));
        assert_eq!(event_day("", today), Err("error.date"));
    }

    #[test]
    fn vietnamese_numbers() {
        assert_eq!(integer(0, Lang::Vi), "0");
        assert_eq!(integer(999, Lang::Vi), "999");
        assert_eq!(integer(1000, Lang::Vi), "1.000");
        assert_eq!(integer(1_234_567, Lang::Vi), "1.234.567");
        assert_eq!(integer(-1_234_567, Lang::En), "-1,234,567");
    }

    #[test]
    fn dates_day_first() {
        assert_eq!(super::date(date!(2025 - 07 - 01)), "01/07/2025");
        assert_eq!(parse_date("1/7/2025"), Some(date!(2025 - 07 - 01)));
        assert_eq!(parse_date("2024-02-29"), Some(date!(2024 - 02 - 29)));
        assert_eq!(parse_date("29/02/2025"), None, "not a leap year");
        assert_eq!(parse_date("01/07/25"), None);
        assert_eq!(parse_date("1/2/3/2025"), None);
    }

    #[test]
    fn times_as_people_write_them() {
        use time::macros::time;
        for typed in ["9:30", "09:30", "9h30", "9H30", "9g30", "9 giờ 30", "9 giờ 30 phút", "9h30p", "9.30", " 9 h 30 "]
        {
            assert_eq!(parse_time_of_day(typed), Some(time!(9:30)), "{typed}");
        }
        assert_eq!(parse_time_of_day("9h"), Some(time!(9:00)));
        assert_eq!(parse_time_of_day("9 giờ"), Some(time!(9:00)));
        assert_eq!(parse_time_of_day("9"), Some(time!(9:00)));
        assert_eq!(parse_time_of_day("21:05"), Some(time!(21:05)));
        assert_eq!(parse_time_of_day("0h"), Some(time!(0:00)));
        for bad in ["", "24:00", "9:60", "9:", "9h30x", "nine", "930", "9:3:0", "-1:00", "9 30 45", "123:00"] {
            assert_eq!(parse_time_of_day(bad), None, "{bad}");
        }
    }

    #[test]
    fn date_time_in_vietnam() {
        // 2025-01-01T00:00Z is 07:00 in Viet Nam.
        assert_eq!(date_time(1_735_689_600_000), "01/01/2025 07:00");
    }
}
