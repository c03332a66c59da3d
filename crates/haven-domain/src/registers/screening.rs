//! Screening of citizens handed back by foreign countries: an interview whose questions and trafficking
//! indicators come from the profile (`screening.txt`), then a classification with a reason. The indicators
//! suggest a classification; the officer decides and writes why. Where the gates and the handing countries come
//! from is the profile too (`border-gates.txt`).

use time::Date;

use super::FieldError;

/// How much an indicator says on its own: one strong indicator, or two of the others, make a person a
/// suspected victim until shown otherwise (the operational-indicator approach).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strength {
    Strong,
    Medium,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Indicator {
    /// The group the question belongs to: recruitment, deception, debt, ...
    pub group: String,
    pub code: String,
    pub question_vi: String,
    pub question_en: String,
    pub strength: Strength,
}

/// The interview form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Form {
    pub indicators: Vec<Indicator>,
}

impl Form {
    /// `group | code | question_vi | question_en | strong|medium`, `#` comments.
    pub fn parse(text: &str) -> Result<Form, String> {
        let mut indicators: Vec<Indicator> = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let f: Vec<&str> = line.split('|').map(str::trim).collect();
            let [group, code, vi, en, strength] = f[..] else {
                return Err(format!("line {}: expected 5 fields separated by |", n + 1));
            };
            let strength = match strength {
                "strong" => Strength::Strong,
                "medium" => Strength::Medium,
                other => return Err(format!("line {}: strength {other:?} is not strong or medium", n + 1)),
            };
            let valid_code = !code.is_empty() && code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
            if !valid_code || indicators.iter().any(|i| i.code == code) || vi.is_empty() || en.is_empty() {
                return Err(format!("line {}: a code of a-z and _, unique, and both questions", n + 1));
            }
            indicators.push(Indicator {
                group: group.into(),
                code: code.into(),
                question_vi: vi.into(),
                question_en: en.into(),
                strength,
            });
        }
        if indicators.is_empty() {
            return Err("the screening form has no questions".into());
        }
        Ok(Form { indicators })
    }

    pub fn indicator(&self, code: &str) -> Option<&Indicator> {
        self.indicators.iter().find(|i| i.code == code)
    }

    /// The groups in the order the form first names them.
    pub fn groups(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for i in &self.indicators {
            if !out.contains(&i.group.as_str()) {
                out.push(&i.group);
            }
        }
        out
    }

    /// Weigh the indicators answered "yes". Unknown codes are an error: a form posted against an older
    /// profile must not be half-read.
    pub fn assess<'a>(&self, yes: impl IntoIterator<Item = &'a str>) -> Result<Assessment, FieldError> {
        let mut a = Assessment::default();
        let mut seen: Vec<&str> = Vec::new();
        for code in yes {
            let Some(i) = self.indicator(code) else { return Err(("answers", "error.choice")) };
            if seen.contains(&code) {
                continue;
            }
            seen.push(code);
            match i.strength {
                Strength::Strong => a.strong += 1,
                Strength::Medium => a.medium += 1,
            }
        }
        Ok(a)
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Assessment {
    pub strong: u32,
    pub medium: u32,
}

impl Assessment {
    pub fn count(self) -> u32 {
        self.strong + self.medium
    }

    /// What the answers point to.
    pub fn suggests(self) -> Classification {
        if self.strong >= 1 || self.medium >= 2 {
            Classification::SuspectedVictim
        } else if self.medium == 1 {
            Classification::Other
        } else {
            Classification::IrregularMigrant
        }
    }
}

/// The outcome of a screening.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Classification {
    /// Opens a victim case.
    SuspectedVictim,
    IrregularMigrant,
    Other,
}

impl Classification {
    pub const ALL: [Classification; 3] =
        [Classification::SuspectedVictim, Classification::IrregularMigrant, Classification::Other];

    pub fn code(self) -> &'static str {
        match self {
            Classification::SuspectedVictim => "suspected_victim",
            Classification::IrregularMigrant => "irregular_migrant",
            Classification::Other => "other",
        }
    }

    pub fn from_code(code: &str) -> Option<Classification> {
        Classification::ALL.into_iter().find(|c| c.code() == code)
    }
}

/// Check a classification: a reason always, and a longer one when the officer sets the indicators aside (a
/// person with signs of trafficking classified as a migrant must not be a one-word decision).
pub fn check_classification(code: &str, reason: &str, a: Assessment) -> Result<Classification, Vec<FieldError>> {
    let mut errors = Vec::new();
    let c = Classification::from_code(code.trim());
    if c.is_none() {
        errors.push(("classification", "error.choice"));
    }
    let reason = reason.trim();
    if reason.is_empty() {
        errors.push(("reason", "error.required"));
    } else if reason.chars().count() > 4000 {
        errors.push(("reason", "error.too_long"));
    } else if c.is_some_and(|c| c != Classification::SuspectedVictim)
        && a.suggests() == Classification::SuspectedVictim
        && reason.chars().count() < MIN_REASON_AGAINST_INDICATORS
    {
        errors.push(("reason", "error.reason_against_indicators"));
    }
    match c {
        Some(c) if errors.is_empty() => Ok(c),
        _ => Err(errors),
    }
}

/// Characters a reason needs when the classification goes against the indicators.
pub const MIN_REASON_AGAINST_INDICATORS: usize = 30;

/// A border gate or airport where people are handed back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Gate {
    pub code: String,
    pub name_vi: String,
    pub name_en: String,
    /// The neighbouring country across the gate; empty for an airport.
    pub country: String,
}

/// `code | name_vi | name_en | country or -`.
pub fn parse_gates(text: &str) -> Result<Vec<Gate>, String> {
    let mut gates: Vec<Gate> = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let f: Vec<&str> = line.split('|').map(str::trim).collect();
        let [code, vi, en, country] = f[..] else {
            return Err(format!("line {}: expected 4 fields separated by |", n + 1));
        };
        let country = if country == "-" { "" } else { country };
        if code.is_empty() || gates.iter().any(|g| g.code == code) {
            return Err(format!("line {}: missing or repeated code", n + 1));
        }
        if !country.is_empty() && !crate::victims::htcds::is_country(country) {
            return Err(format!("line {}: country {country:?} is not an ISO 3166 code", n + 1));
        }
        gates.push(Gate { code: code.into(), name_vi: vi.into(), name_en: en.into(), country: country.into() });
    }
    Ok(gates)
}

/// A handover batch as entered.
pub struct BatchInput<'a> {
    pub handed_on: Option<Date>,
    pub gate: &'a str,
    pub country: &'a str,
    pub authority: &'a str,
}

/// Check a handover batch: a date not ahead of today, a known gate, the handing country and its authority.
pub fn check_batch(b: &BatchInput<'_>, gates: &[Gate], today: Date) -> Result<Date, Vec<FieldError>> {
    let mut errors = Vec::new();
    match b.handed_on {
        None => errors.push(("handed_on", "error.date")),
        Some(d) if d > today => errors.push(("handed_on", "error.date_in_future")),
        Some(d) if d.year() < 1990 => errors.push(("handed_on", "error.date")),
        Some(_) => {}
    }
    if !gates.iter().any(|g| g.code == b.gate.trim()) {
        errors.push(("gate", "error.choice"));
    }
    let country = b.country.trim();
    if !crate::victims::htcds::is_country(country) || country == "VN" {
        errors.push(("country", "error.choice"));
    }
    let authority = b.authority.trim();
    if authority.is_empty() {
        errors.push(("authority", "error.required"));
    } else if authority.chars().count() > 200 {
        errors.push(("authority", "error.too_long"));
    }
    match b.handed_on {
        Some(d) if errors.is_empty() => Ok(d),
        _ => Err(errors),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn form() -> Form {
        Form::parse(include_str!("../../../../profiles/vn/screening.txt")).expect("the profile's form")
    }

    #[test]
    fn the_profile_form_covers_the_groups_the_plan_names() {
        let f = form();
        for g in ["recruitment", "deception", "debt", "confinement", "documents", "violence", "work"] {
            assert!(f.groups().contains(&g), "no question in group {g}");
        }
        assert!(f.indicators.iter().any(|i| i.strength == Strength::Strong));
    }

    #[test]
    fn malformed_forms_are_refused_with_the_line() {
        assert!(Form::parse("").is_err());
        assert!(Form::parse("a | b | c | d").expect_err("refused").contains("line 1"));
        assert!(Form::parse("a | x | q | q | weak").expect_err("refused").contains("strength"));
        assert!(Form::parse("a | x | q | q | strong\na | x | q | q | strong").expect_err("refused").contains("line 2"));
        assert!(Form::parse("a | Bad Code | q | q | strong").is_err());
    }

    #[test]
    fn indicators_suggest_a_classification() {
        let f = Form::parse("g | s | q | q | strong\ng | ma | q | q | medium\ng | mb | q | q | medium").expect("form");
        assert_eq!(f.assess([]).map(Assessment::suggests), Ok(Classification::IrregularMigrant));
        assert_eq!(f.assess(["ma"]).map(Assessment::suggests), Ok(Classification::Other));
        assert_eq!(f.assess(["ma", "ma"]).map(Assessment::suggests), Ok(Classification::Other));
        assert_eq!(f.assess(["ma", "mb"]).map(Assessment::suggests), Ok(Classification::SuspectedVictim));
        assert_eq!(f.assess(["s"]).map(Assessment::suggests), Ok(Classification::SuspectedVictim));
        assert_eq!(f.assess(["nope"]), Err(("answers", "error.choice")));
    }

    #[test]
    fn a_classification_needs_a_reason_and_a_fuller_one_against_the_indicators() {
        let strong = Assessment { strong: 1, medium: 0 };
        let none = Assessment::default();
        assert_eq!(
            check_classification("suspected_victim", "Bị giữ hộ chiếu", strong),
            Ok(Classification::SuspectedVictim)
        );
        assert_eq!(check_classification("irregular_migrant", "Tự đi", none), Ok(Classification::IrregularMigrant));
        assert_eq!(
            check_classification("irregular_migrant", "Tự đi", strong),
            Err(vec![("reason", "error.reason_against_indicators")])
        );
        let long = "Người này tự liên hệ môi giới, giữ hộ chiếu của mình và đi lại tự do.";
        assert_eq!(check_classification("irregular_migrant", long, strong), Ok(Classification::IrregularMigrant));
        assert_eq!(
            check_classification("maybe", " ", none),
            Err(vec![("classification", "error.choice"), ("reason", "error.required")])
        );
    }

    #[test]
    fn a_batch_needs_a_past_date_a_known_gate_and_a_foreign_country() {
        let gates = parse_gates(include_str!("../../../../profiles/vn/border-gates.txt")).expect("gates");
        let gate = gates.iter().find(|g| g.country == "KH").expect("a gate on the Cambodian border");
        let today = date!(2024 - 06 - 01);
        let ok = BatchInput {
            handed_on: Some(date!(2024 - 05 - 20)),
            gate: &gate.code,
            country: "KH",
            authority: "Cảnh sát tỉnh Svay Rieng",
        };
        assert_eq!(check_batch(&ok, &gates, today), Ok(date!(2024 - 05 - 20)));
        let bad = BatchInput { handed_on: Some(date!(2024 - 06 - 02)), gate: "nowhere", country: "VN", authority: "" };
        assert_eq!(
            check_batch(&bad, &gates, today),
            Err(vec![
                ("handed_on", "error.date_in_future"),
                ("gate", "error.choice"),
                ("country", "error.choice"),
                ("authority", "error.required")
            ])
        );
        assert!(parse_gates("x | a | b | Cambodia").is_err());
    }
}
