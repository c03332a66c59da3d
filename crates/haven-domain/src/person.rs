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

/// A birth date known in full or only by year (common on paper records).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BirthDate {
    Full(Date),
    Year(i32),
}

impl BirthDate {
    pub fn year(self) -> i32 {
        match self {
            BirthDate::Full(d) => d.year(),
            BirthDate::Year(y) => y,
        }
    }
    /// Stored form: yyyy-mm-dd or yyyy.
    pub fn encode(self) -> String {
        match self {
            BirthDate::Full(d) => format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day()),
            BirthDate::Year(y) => format!("{y:04}"),
        }
    }
    pub fn display(self) -> String {
        match self {
            BirthDate::Full(d) => crate::format::date(d),
            BirthDate::Year(y) => y.to_string(),
        }
    }
    /// Parse what a person types: dd/mm/yyyy, yyyy-mm-dd or a bare year.
    pub fn parse(s: &str) -> Option<BirthDate> {
        let s = s.trim();
        if s.len() == 4 && s.bytes().all(|b| b.is_ascii_digit()) {
            return s.parse().ok().map(BirthDate::Year);
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

/// Collapse runs of whitespace and trim; names keep their diacritics and their order.
pub fn tidy_name(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
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
}

/// A field-level validation failure: the form field and the translation key of its message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    pub field: &'static str,
    pub key: &'static str,
}

impl IdentityInput {
    /// Validate everything and report every bad field at once.
    pub fn validate(&self, this_year: i32) -> Result<Identity, Vec<FieldError>> {
        let mut errors = Vec::new();
        let full_name = tidy_name(&self.full_name);
        if full_name.is_empty() {
            errors.push(FieldError { field: "full_name", key: "error.required" });
        } else if full_name.chars().count() > 200 {
            errors.push(FieldError { field: "full_name", key: "error.too_long" });
        }
        let birth_date = if self.birth_date.trim().is_empty() {
            None
        } else {
            match BirthDate::parse(&self.birth_date) {
                Some(b) if (1900..=this_year).contains(&b.year()) => Some(b),
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
        if errors.is_empty() {
            Ok(Identity { full_name, birth_date, sex, id_number, phone, address, commune_code })
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
        let errs = input.validate(2026).err().unwrap_or_default();
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
        assert_eq!(input.validate(2026).err().map(|e| e[0].field), Some("birth_date"));
        let ok = IdentityInput { birth_date: "2001".into(), ..input }.validate(2026);
        assert_eq!(ok.map(|i| i.full_name), Ok("Nguyễn Thị Hoà".into()));
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
