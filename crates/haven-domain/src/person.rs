//! The identity of a person and its rules: validation, normalisation for blind indexes, and the pseudonymous
//! case code that everyone not entitled to the identity sees instead of a name.

use serde::{Deserialize, Serialize};
use time::Date;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Sex {
    Female,
    Male,
    Unknown,
}

impl Sex {
    pub fn code(self) -> &'static str {
        match self {
            Sex::Female => "f",
            Sex::Male => "m",
            Sex::Unknown => "u",
        }
    }
    pub fn from_code(s: &str) -> Option<Sex> {
        match s {
            "f" => Some(Sex::Female),
            "m" => Some(Sex::Male),
            "u" | "" => Some(Sex::Unknown),
            _ => None,
        }
    }
}

/// A birth date known in full, by month and year, or only by year (common on paper records and in the lists
/// families and foreign authorities give).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BirthDate {
    Full(Date),
    /// A year and a month (1-12).
    Month(i32, u8),
    Year(i32),
}

impl BirthDate {
    pub fn year(self) -> i32 {
        match self {
            BirthDate::Full(d) => d.year(),
            BirthDate::Month(y, _) | BirthDate::Year(y) => y,
        }
    }
    /// The (year, month) the date falls in, when the month is known.
    pub fn month(self) -> Option<(i32, u8)> {
        match self {
            BirthDate::Full(d) => Some((d.year(), u8::from(d.month()))),
            BirthDate::Month(y, m) => Some((y, m)),
            BirthDate::Year(_) => None,
        }
    }
    /// Whether the date can only lie after `today`: a whole day after it, or a month or year that begins later.
    pub fn after(self, today: Date) -> bool {
        match self {
            BirthDate::Full(d) => d > today,
            BirthDate::Month(y, m) => (y, m) > (today.year(), u8::from(today.month())),
            BirthDate::Year(y) => y > today.year(),
        }
    }
    /// Whether `on` certainly comes before this date: before its day, month or year.
    pub fn later_than(self, on: Date) -> bool {
        match self {
            BirthDate::Full(d) => on < d,
            BirthDate::Month(y, m) => (on.year(), u8::from(on.month())) < (y, m),
            BirthDate::Year(y) => on.year() < y,
        }
    }
    /// Stored form: yyyy-mm-dd, yyyy-mm or yyyy.
    pub fn encode(self) -> String {
        match self {
            BirthDate::Full(d) => format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day()),
            BirthDate::Month(y, m) => format!("{y:04}-{m:02}"),
            BirthDate::Year(y) => format!("{y:04}"),
        }
    }
    pub fn display(self) -> String {
        match self {
            BirthDate::Full(d) => crate::format::date(d),
            BirthDate::Month(y, m) => format!("{m:02}/{y:04}"),
            BirthDate::Year(y) => y.to_string(),
        }
    }
    /// Parse what a person types: dd/mm/yyyy, yyyy-mm-dd, a month and year (mm/yyyy, m/yyyy, yyyy-mm) or a
    /// bare year.
    pub fn parse(s: &str) -> Option<BirthDate> {
        let s = s.trim();
        let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
        if s.len() == 4 && digits(s) {
            return s.parse().ok().map(BirthDate::Year);
        }
        let month_year = match (s.split_once('/'), s.split_once('-')) {
            (Some((m, y)), None) if m.len() <= 2 && y.len() == 4 => Some((m, y)),
            (None, Some((y, m))) if m.len() <= 2 && y.len() == 4 => Some((m, y)),
            _ => None,
        };
        if let Some((m, y)) = month_year.filter(|(m, y)| digits(m) && digits(y)) {
            let (month, year): (u8, i32) = (m.parse().ok()?, y.parse().ok()?);
            return (1..=12).contains(&month).then_some(BirthDate::Month(year, month));
        }
        crate::format::parse_date(s).map(BirthDate::Full)
    }
}

/// A Vietnamese identity number: the 12-digit citizen ID (CCCD) or the older 9-digit ID card (CMND).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdNumber(String);

impl IdNumber {
    /// Accepts digits with spaces, dots or dashes in between, as people write them.
    pub fn parse(s: &str) -> Option<IdNumber> {
        let digits: String = s.chars().filter(|c| !matches!(c, ' ' | '.' | '-')).collect();
        if (digits.len() == 12 || digits.len() == 9) && digits.bytes().all(|b| b.is_ascii_digit()) {
            Some(IdNumber(digits))
        } else {
            None
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The normalised form of a phone number used for exact look-up: digits only, +84 folded to a leading 0.
pub fn normalise_phone(s: &str) -> Option<String> {
    let mut digits: String = s.chars().filter(char::is_ascii_digit).collect();
    if s.trim_start().starts_with('+') && digits.starts_with("84") {
        digits = format!("0{}", &digits[2..]);
    }
    (9..=11).contains(&digits.len()).then_some(digits)
}

/// A passport number as printed: letters and digits, 6 to 12 of them (Vietnamese passports are one letter and
/// seven digits; foreign ones vary). Spaces and dashes are dropped and letters upper-cased.
pub fn normalise_passport(s: &str) -> Option<String> {
    let p: String = s.chars().filter(|c| !matches!(c, ' ' | '-')).flat_map(char::to_uppercase).collect();
    ((6..=12).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric())).then_some(p)
}

/// Other names a person is known by (an alias, a name on a foreign document, a maiden name), one per line or
/// separated by semicolons; empty ones and repeats are dropped.
pub fn parse_other_names(s: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for n in s.split(['\n', ';']).map(tidy_name).filter(|n| !n.is_empty()) {
        if !out.contains(&n) {
            out.push(n);
        }
    }
    out
}

/// The most other names a record holds.
pub const MAX_OTHER_NAMES: usize = 10;

/// How a relative is related to the person.
pub const RELATIONS: &[&str] = &["parent", "spouse", "child", "sibling", "guardian", "other"];

/// What an attachment to a person record is.
pub const ATTACHMENT_KINDS: &[&str] = &["photo", "id_document", "document"];

/// The largest attachment accepted: a phone photo or a scanned document.
pub const MAX_ATTACHMENT_BYTES: usize = 8 * 1024 * 1024;

/// The type of an uploaded file, from its first bytes (never from the name or what the browser claims):
/// JPEG, PNG or PDF, the formats an office scans and photographs to. Anything else is refused.
pub fn sniff_attachment(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(b"%PDF-") {
        Some("application/pdf")
    } else {
        None
    }
}

/// Invisible formatting characters (bidirectional overrides, zero-width characters) that can make
/// "photo\u{202e}gnp.exe" read as "photoexe.png".
fn is_format_char(c: char) -> bool {
    matches!(c, '\u{00ad}' | '\u{061c}' | '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2069}' | '\u{feff}')
}

/// A file name safe to offer back in a download: the last path part, without control, formatting or quoting
/// characters, at most 100 characters, ending in the extension of the type read from the file's bytes (a PDF
/// named "scan.html" is saved as "scan.pdf"); an empty result becomes `fallback`.
pub fn safe_file_name(name: &str, content_type: &str, fallback: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or("");
    let clean: String = last
        .chars()
        .filter(|c| {
            !c.is_control() && !is_format_char(*c) && !matches!(c, '"' | '\\' | ';' | '<' | '>' | '|' | ':' | '*' | '?')
        })
        .take(100)
        .collect();
    let clean = clean.trim().trim_start_matches('.');
    let stem = clean.rsplit_once('.').map(|(s, _)| s).unwrap_or(clean).trim();
    let stem = if stem.is_empty() { fallback } else { stem };
    let ext = match content_type {
        "image/jpeg" => "jpg",
        "image/png" => "png",
        "application/pdf" => "pdf",
        _ => "bin",
    };
    format!("{stem}.{ext}")
}

/// Collapse runs of whitespace and trim; names keep their diacritics and their order.
pub fn tidy_name(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Characters a name never holds and a reader never sees: control characters, zero-width characters, and
/// the marks that reverse or isolate the direction of text (a name "written backwards" on screen). A name
/// carrying one is refused, not cleaned: what was typed or imported is garbled and a person should look.
fn hidden(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{2069}' | '\u{061C}' | '\u{FEFF}' | '\u{00AD}')
}

/// A name as it may be stored: tidied, with at least one letter and no hidden character ([`hidden`]).
/// `Err` is the message's key.
pub fn check_name(typed: &str) -> Result<String, &'static str> {
    // Tabs and line breaks are spacing; other control characters are not.
    if typed.chars().any(|c| hidden(c) && !c.is_whitespace()) {
        return Err("error.name_hidden_characters");
    }
    let name = tidy_name(typed);
    if !name.is_empty() && !name.chars().any(char::is_alphabetic) {
        return Err("error.name_no_letter");
    }
    Ok(name)
}

/// A person's identity as entered, before encryption.
#[derive(Clone, Debug, Default)]
pub struct IdentityInput {
    pub full_name: String,
    pub birth_date: String,
    pub sex: String,
    pub id_number: String,
    pub phone: String,
    pub address: String,
    pub commune_code: String,
    /// One per line or separated by semicolons.
    pub other_names: String,
    pub ethnicity: String,
    /// ISO 3166-1 alpha-2; empty is unknown.
    pub nationality: String,
    pub passport: String,
    /// The language the person speaks best.
    pub language: String,
    /// "1", "true" or "on" when an interpreter is needed.
    pub interpreter: String,
}

/// A validated identity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    pub full_name: String,
    pub birth_date: Option<BirthDate>,
    pub sex: Sex,
    pub id_number: Option<IdNumber>,
    pub phone: Option<String>,
    pub address: String,
    pub commune_code: Option<String>,
    pub other_names: Vec<String>,
    pub ethnicity: Option<String>,
    pub nationality: Option<String>,
    pub passport: Option<String>,
    pub language: Option<String>,
    pub interpreter: bool,
}

/// A field-level validation failure: the form field and the translation key of its message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    pub field: &'static str,
    pub key: &'static str,
}

impl IdentityInput {
    /// Validate everything and report every bad field at once; `today` bounds the birth date.
    pub fn validate(&self, today: Date) -> Result<Identity, Vec<FieldError>> {
        let mut errors = Vec::new();
        let full_name = check_name(&self.full_name).unwrap_or_else(|key| {
            errors.push(FieldError { field: "full_name", key });
            String::new()
        });
        if full_name.is_empty() && !errors.iter().any(|e| e.field == "full_name") {
            errors.push(FieldError { field: "full_name", key: "error.required" });
        } else if full_name.chars().count() > 200 {
            errors.push(FieldError { field: "full_name", key: "error.too_long" });
        }
        let birth_date = if self.birth_date.trim().is_empty() {
            None
        } else {
            match BirthDate::parse(&self.birth_date) {
                Some(b) if b.after(today) => {
                    errors.push(FieldError { field: "birth_date", key: "error.birth_in_future" });
                    None
                }
                Some(b) if b.year() >= 1900 => Some(b),
                _ => {
                    errors.push(FieldError { field: "birth_date", key: "error.birth_date" });
                    None
                }
            }
        };
        let sex = Sex::from_code(self.sex.trim()).unwrap_or_else(|| {
            errors.push(FieldError { field: "sex", key: "error.choice" });
            Sex::Unknown
        });
        let id_number = if self.id_number.trim().is_empty() {
            None
        } else {
            let parsed = IdNumber::parse(&self.id_number);
            if parsed.is_none() {
                errors.push(FieldError { field: "id_number", key: "error.id_number" });
            }
            parsed
        };
        let phone = if self.phone.trim().is_empty() {
            None
        } else {
            let parsed = normalise_phone(&self.phone);
            if parsed.is_none() {
                errors.push(FieldError { field: "phone", key: "error.phone" });
            }
            parsed
        };
        let address = tidy_name(&self.address);
        if address.chars().count() > 500 {
            errors.push(FieldError { field: "address", key: "error.too_long" });
        }
        let commune_code = Some(self.commune_code.trim().to_owned()).filter(|c| !c.is_empty());
        let other_names = parse_other_names(&self.other_names);
        if other_names.len() > MAX_OTHER_NAMES || other_names.iter().any(|n| n.chars().count() > 200) {
            errors.push(FieldError { field: "other_names", key: "error.too_long" });
        } else if let Some(key) = other_names.iter().find_map(|n| check_name(n).err()) {
            errors.push(FieldError { field: "other_names", key });
        }
        let short = |v: &str, field: &'static str, errors: &mut Vec<FieldError>| {
            let v = tidy_name(v);
            if v.chars().count() > 60 {
                errors.push(FieldError { field, key: "error.too_long" });
            }
            Some(v).filter(|v| !v.is_empty())
        };
        let ethnicity = short(&self.ethnicity, "ethnicity", &mut errors);
        let language = short(&self.language, "language", &mut errors);
        let nationality = Some(self.nationality.trim().to_uppercase()).filter(|n| !n.is_empty());
        if nationality.as_deref().is_some_and(|n| !crate::victims::htcds::is_country(n)) {
            errors.push(FieldError { field: "nationality", key: "error.choice" });
        }
        let passport = if self.passport.trim().is_empty() {
            None
        } else {
            let parsed = normalise_passport(&self.passport);
            if parsed.is_none() {
                errors.push(FieldError { field: "passport", key: "error.passport" });
            }
            parsed
        };
        let interpreter = matches!(self.interpreter.trim(), "1" | "true" | "on");
        if errors.is_empty() {
            Ok(Identity {
                full_name,
                birth_date,
                sex,
                id_number,
                phone,
                address,
                commune_code,
                other_names,
                ethnicity,
                nationality,
                passport,
                language,
                interpreter,
            })
        } else {
            Err(errors)
        }
    }
}

/// The pseudonymous case code shown instead of a name: a prefix and ten characters derived from the record
/// id, from an alphabet without look-alikes (no 0/O, 1/I/L) so it can be read over the phone. Ten characters
/// (31^10 codes) keep the chance of two equal codes among a million records near one in two thousand.
pub fn case_code(prefix: &str, record_id: &str) -> String {
    const ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
    // FNV-1a: a stable spread of the id; secrecy is not needed because the id itself is not secret.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in record_id.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    let mut code = String::with_capacity(prefix.len() + 12);
    code.push_str(prefix);
    code.push('-');
    for i in 0..10 {
        if i == 5 {
            code.push('-');
        }
        code.push(char::from(ALPHABET[(h % ALPHABET.len() as u64) as usize]));
        h /= ALPHABET.len() as u64;
    }
    code
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn id_numbers_old_and_new() {
        assert_eq!(IdNumber::parse("079 203 001 234").map(|i| i.0), Some("079203001234".into()));
        assert_eq!(IdNumber::parse("201.234.567").map(|i| i.0), Some("201234567".into()));
        assert_eq!(IdNumber::parse("12345"), None);
        assert_eq!(IdNumber::parse("07920300123A"), None);
    }

    #[test]
    fn phones_fold_country_code() {
        assert_eq!(normalise_phone("+84 905 123 456"), Some("0905123456".into()));
        assert_eq!(normalise_phone("0905.123.456"), Some("0905123456".into()));
        assert_eq!(normalise_phone("12"), None);
    }

    #[test]
    fn birth_dates_full_or_year() {
        assert_eq!(BirthDate::parse("1998"), Some(BirthDate::Year(1998)));
        assert_eq!(BirthDate::parse("05/03/1998"), Some(BirthDate::Full(date!(1998 - 03 - 05))));
        assert_eq!(BirthDate::Full(date!(1998 - 03 - 05)).encode(), "1998-03-05");
        assert_eq!(BirthDate::Year(1998).display(), "1998");
        for typed in ["03/1998", "3/1998", "1998-03", " 03/1998 "] {
            assert_eq!(BirthDate::parse(typed), Some(BirthDate::Month(1998, 3)), "{typed}");
        }
        assert_eq!(BirthDate::Month(1998, 3).encode(), "1998-03");
        assert_eq!(BirthDate::Month(1998, 3).display(), "03/1998");
        assert_eq!(BirthDate::parse(&BirthDate::Month(1998, 3).encode()), Some(BirthDate::Month(1998, 3)));
        for bad in ["13/1998", "0/1998", "03/98", "1998-3-", "a3/1998", "03/19x8"] {
            assert_eq!(BirthDate::parse(bad), None, "{bad}");
        }
        let today = date!(2026 - 03 - 15);
        assert!(!BirthDate::Month(2026, 3).after(today) && BirthDate::Month(2026, 4).after(today));
        assert!(BirthDate::Month(2026, 3).later_than(date!(2026 - 02 - 28)));
        assert!(!BirthDate::Month(2026, 3).later_than(date!(2026 - 03 - 01)));
    }

    #[test]
    fn validation_reports_every_bad_field() {
        let input = IdentityInput {
            full_name: "  ".into(),
            birth_date: "31/02/2000".into(),
            sex: "x".into(),
            id_number: "123".into(),
            phone: "abc".into(),
            ..Default::default()
        };
        let errs = input.validate(time::macros::date!(2026 - 06 - 01)).err().unwrap_or_default();
        let fields: Vec<_> = errs.iter().map(|e| e.field).collect();
        assert_eq!(fields, ["full_name", "birth_date", "sex", "id_number", "phone"]);
    }

    #[test]
    fn validation_keeps_diacritics_and_order() {
        let input = IdentityInput {
            full_name: " Nguyễn   Thị  Hoà ".into(),
            birth_date: "2030".into(),
            sex: "f".into(),
            ..Default::default()
        };
        assert_eq!(input.validate(time::macros::date!(2026 - 06 - 01)).err().map(|e| e[0].field), Some("birth_date"));
        let ok = IdentityInput { birth_date: "2001".into(), ..input }.validate(time::macros::date!(2026 - 06 - 01));
        assert_eq!(ok.map(|i| i.full_name), Ok("Nguyễn Thị Hoà".into()));
    }

    #[test]
    fn a_name_needs_a_letter_and_no_hidden_character() {
        assert_eq!(check_name("  Hồ   Thị Mai "), Ok("Hồ Thị Mai".into()));
        assert_eq!(check_name("Ka\tSiu\nH'Mai"), Ok("Ka Siu H'Mai".into()), "spacing is spacing");
        for garbled in ["\u{200B}\u{200B}", "Mai\u{202E}ih", "Hoa\u{0007}", "\u{FEFF}Lan", "Lan\u{2066}"] {
            assert_eq!(check_name(garbled), Err("error.name_hidden_characters"), "{garbled:?}");
        }
        for no_letter in ["123", "--- ...", "😀"] {
            assert_eq!(check_name(no_letter), Err("error.name_no_letter"), "{no_letter}");
        }
        let today = date!(2026 - 06 - 01);
        let input = |name: &str, birth: &str| IdentityInput {
            full_name: name.into(),
            birth_date: birth.into(),
            other_names: "Mai\u{200D}".into(),
            ..Default::default()
        };
        let fields = |i: IdentityInput| i.validate(today).err().unwrap_or_default();
        let e = fields(input("\u{200B}", "12/2026"));
        assert_eq!(
            e.iter().map(|e| (e.field, e.key)).collect::<Vec<_>>(),
            [
                ("full_name", "error.name_hidden_characters"),
                ("birth_date", "error.birth_in_future"),
                ("other_names", "error.name_hidden_characters")
            ]
        );
        assert_eq!(fields(input("Lò Thị Mai", "02/06/2026"))[0].key, "error.birth_in_future", "later this year");
        let ok = IdentityInput { other_names: String::new(), ..input("Lò Thị Mai", "06/2026") }.validate(today);
        assert!(ok.is_ok(), "born this month: not in the future");
    }

    #[test]
    fn passports_other_names_and_nationality() {
        assert_eq!(normalise_passport("c 1234567"), Some("C1234567".into()));
        assert_eq!(normalise_passport("E-12 34"), None, "too short");
        assert_eq!(normalise_passport("C123456#"), None);
        assert_eq!(parse_other_names("Mai; Nguyễn  Mai\n\nMai"), ["Mai", "Nguyễn Mai"]);
        let input = IdentityInput {
            full_name: "Lò Thị Mai".into(),
            nationality: "vn".into(),
            passport: "c1234567".into(),
            interpreter: "on".into(),
            ethnicity: " Thái ".into(),
            ..Default::default()
        };
        let ok = input.clone().validate(time::macros::date!(2026 - 06 - 01)).expect("valid");
        assert_eq!(ok.nationality.as_deref(), Some("VN"));
        assert_eq!(ok.passport.as_deref(), Some("C1234567"));
        assert_eq!(ok.ethnicity.as_deref(), Some("Thái"));
        assert!(ok.interpreter);
        let bad = IdentityInput { nationality: "Viet Nam".into(), passport: "12".into(), ..input };
        let fields: Vec<_> = bad
            .validate(time::macros::date!(2026 - 06 - 01))
            .err()
            .unwrap_or_default()
            .iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["nationality", "passport"]);
    }

    #[test]
    fn uploads_are_typed_by_their_bytes_and_names_made_safe() {
        assert_eq!(sniff_attachment(b"%PDF-1.7 ..."), Some("application/pdf"));
        assert_eq!(sniff_attachment(&[0xFF, 0xD8, 0xFF, 0xE0]), Some("image/jpeg"));
        assert_eq!(sniff_attachment(b"\x89PNG\r\n\x1a\n...."), Some("image/png"));
        assert_eq!(sniff_attachment(b"<html><script>"), None);
        assert_eq!(sniff_attachment(b"MZ\x90\x00"), None, "an executable named photo.jpg");
        assert_eq!(safe_file_name("C:\\fakepath\\giấy tờ.pdf", "application/pdf", "x"), "giấy tờ.pdf");
        assert_eq!(safe_file_name("../../etc/passwd", "image/png", "x"), "passwd.png");
        assert_eq!(safe_file_name("a\"; b.pdf\r\n", "application/pdf", "x"), "a b.pdf");
        assert_eq!(safe_file_name("...", "image/jpeg", "tep"), "tep.jpg");
        assert_eq!(safe_file_name("scan.html", "application/pdf", "x"), "scan.pdf", "the type decides the extension");
        assert_eq!(safe_file_name("photo\u{202e}gnp.exe", "image/png", "x"), "photognp.png");
    }

    #[test]
    fn case_codes_are_stable_and_readable() {
        let a = case_code("NV", "0192a7c0-0000-7000-8000-000000000001");
        assert_eq!(a, case_code("NV", "0192a7c0-0000-7000-8000-000000000001"));
        assert_ne!(a, case_code("NV", "0192a7c0-0000-7000-8000-000000000002"));
        assert_eq!(a.len(), "NV-XXXXX-XXXXX".len());
        assert!(!a[3..].contains(['0', 'O', '1', 'I', 'L']));
    }
}
