//! Field comparisons. Each kind of field turns a pair of values into an agreement level: 0 is disagreement,
//! higher levels agree more closely, and `None` means no evidence either way (a value is missing, or the two
//! values cannot be compared, like an old 9-digit ID card against a 12-digit citizen ID). Values are prepared
//! once per record ([`prepare`]) so a comparison does no parsing or allocation in the common case.

use crate::normalise::{canonical, document_number, fold, name_tokens, parse_date, place_name, LooseDate};

/// What a field holds, which decides how it is prepared and compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A person's name: Vietnamese-aware (tone placement, diacritics, đ, order, regional surname variants).
    Name,
    /// A date of birth: full, or only a year.
    Date,
    /// Sex: f or m.
    Sex,
    /// A place: commune, village, town; compared folded.
    Place,
    /// An identity number: citizen ID, ID card or passport.
    IdNumber,
    /// Any other text (an address line), compared folded with a fuzzy level.
    Text,
    /// A code compared exactly (a postcode).
    Exact,
}

impl Kind {
    pub fn parse(s: &str) -> Option<Kind> {
        Some(match s {
            "name" => Kind::Name,
            "dob" | "date" => Kind::Date,
            "sex" => Kind::Sex,
            "place" => Kind::Place,
            "idnum" | "id" => Kind::IdNumber,
            "text" => Kind::Text,
            "exact" => Kind::Exact,
            _ => return None,
        })
    }

    /// How many agreement levels the kind has (0 to this minus one).
    pub fn levels(self) -> usize {
        match self {
            Kind::Name | Kind::Date => 5,
            Kind::IdNumber | Kind::Place | Kind::Text => 3,
            Kind::Sex | Kind::Exact => 2,
        }
    }

    /// What each level means, for explanations.
    pub fn level_label(self, level: u8) -> &'static str {
        match (self, level) {
            (_, 0) => "differs",
            (Kind::Name, 4) => "same name",
            (Kind::Name, 3) => "same name without diacritics or in another order",
            (Kind::Name, 2) => "one name contains the other, or near spellings of every part",
            (Kind::Name, 1) => "similar spelling",
            (Kind::Date, 4) => "same date",
            (Kind::Date, 3) => "day and month swapped",
            (Kind::Date, 2) => "one part differs (a typo or a year off by one)",
            (Kind::Date, 1) => "same year",
            (Kind::IdNumber, 2) => "same number",
            (Kind::IdNumber, 1) => "one digit differs or two are swapped",
            (Kind::Place | Kind::Text, 2) => "same",
            (Kind::Place | Kind::Text, 1) => "similar spelling",
            (Kind::Sex | Kind::Exact, 1) => "same",
            _ => "agrees",
        }
    }

    /// Whether an exact agreement is weighed by how common the value is (a match on "Nguyễn Thị Lan" says far
    /// less than a match on a rare name).
    pub fn term_frequency(self) -> bool {
        matches!(self, Kind::Name | Kind::Place | Kind::Text)
    }
}

/// A name ready for comparison.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PreparedName {
    /// Canonical tokens with diacritics, sorted: equal for the same name in any order and tone placement.
    pub exact: String,
    /// Folded tokens (variants mapped), sorted and joined: equal without diacritics.
    pub folded: String,
    /// The folded tokens, sorted.
    pub tokens: Vec<String>,
}

/// A value ready for comparison.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Prepared {
    Name(PreparedName),
    Date(LooseDate),
    Sex(u8),
    /// Place, text, exact code or document number, normalised.
    Str(String),
}

impl Prepared {
    /// The value's key for term frequencies: what two records share when they agree exactly.
    pub fn tf_key(&self) -> Option<&str> {
        match self {
            Prepared::Name(n) => Some(&n.folded),
            Prepared::Str(s) => Some(s),
            _ => None,
        }
    }
}

/// Prepare a raw value for comparison; `None` for an empty or unreadable value.
pub fn prepare(kind: Kind, raw: &str) -> Option<Prepared> {
    let raw = raw.trim();
    if raw.is_empty() {
        return None;
    }
    match kind {
        Kind::Name => {
            let mut tokens = name_tokens(raw);
            if tokens.is_empty() {
                return None;
            }
            tokens.sort_unstable();
            let mut exact: Vec<String> = canonical(raw).split(' ').map(str::to_owned).collect();
            exact.sort_unstable();
            Some(Prepared::Name(PreparedName { exact: exact.join(" "), folded: tokens.join(" "), tokens }))
        }
        Kind::Date => parse_date(raw).map(Prepared::Date),
        Kind::Sex => match fold(raw).as_str() {
            "f" | "female" | "nu" | "w" | "2" => Some(Prepared::Sex(b'f')),
            "m" | "male" | "nam" | "1" => Some(Prepared::Sex(b'm')),
            _ => None,
        },
        Kind::IdNumber => Some(document_number(raw)).filter(|d| !d.is_empty()).map(Prepared::Str),
        Kind::Place => Some(place_name(raw).0).filter(|s| !s.is_empty()).map(Prepared::Str),
        Kind::Text => Some(fold(raw)).filter(|s| !s.is_empty()).map(Prepared::Str),
        Kind::Exact => Some(Prepared::Str(raw.to_owned())),
    }
}

use crate::similarity::at_least;

/// Compare two prepared values of one kind.
pub fn compare(kind: Kind, a: &Prepared, b: &Prepared) -> Option<u8> {
    match (kind, a, b) {
        (Kind::Name, Prepared::Name(a), Prepared::Name(b)) => Some(compare_names(a, b)),
        (Kind::Date, Prepared::Date(a), Prepared::Date(b)) => Some(compare_dates(a, b)),
        (Kind::Sex, Prepared::Sex(a), Prepared::Sex(b)) => Some(u8::from(a == b)),
        (Kind::IdNumber, Prepared::Str(a), Prepared::Str(b)) => compare_ids(a, b),
        (Kind::Place | Kind::Text, Prepared::Str(a), Prepared::Str(b)) => {
            Some(if a == b { 2 } else { u8::from(at_least(a, b, 0.9)) })
        }
        (Kind::Exact, Prepared::Str(a), Prepared::Str(b)) => Some(u8::from(a == b)),
        _ => None,
    }
}

fn compare_names(a: &PreparedName, b: &PreparedName) -> u8 {
    if a.exact == b.exact {
        return 4;
    }
    if a.folded == b.folded {
        return 3;
    }
    // Every part of the shorter name is in the longer one: a dropped middle name, or a given name written
    // first. Single names allow a close spelling; in longer names only one part may be spelled differently,
    // and then only as "similar" (Vietnamese syllables are short: Hương and Phương are near in spelling and
    // different names).
    let (short, long) = if a.tokens.len() <= b.tokens.len() { (a, b) } else { (b, a) };
    if short.tokens.len() == 1 && long.tokens.len() == 1 {
        return if at_least(&short.tokens[0], &long.tokens[0], 0.92) {
            2
        } else {
            u8::from(at_least(&a.folded, &b.folded, 0.88))
        };
    }
    let exact = short.tokens.iter().filter(|t| long.tokens.contains(t)).count();
    if exact == short.tokens.len() && short.tokens.len() >= 2 {
        return 2;
    }
    let near = |t: &String| t.len() >= 4 && long.tokens.iter().any(|u| at_least(t, u, 0.92));
    if exact + 1 == short.tokens.len()
        && short.tokens.len() >= 2
        && short.tokens.iter().any(|t| !long.tokens.contains(t) && near(t))
    {
        return 1;
    }
    if short.tokens.len() == long.tokens.len() && at_least(&a.folded, &b.folded, 0.94) {
        return 1;
    }
    0
}

fn compare_dates(a: &LooseDate, b: &LooseDate) -> u8 {
    if a.full() && b.full() {
        if a == b {
            return 4;
        }
        if a.year == b.year && a.month == b.day && a.day == b.month {
            return 3;
        }
        let same = [a.year == b.year, a.month == b.month, a.day == b.day];
        let differing = same.iter().filter(|s| !**s).count();
        if differing == 1 && (a.year - b.year).abs() <= 1 {
            return 2;
        }
    }
    if a.year == b.year {
        return 1;
    }
    0
}

fn compare_ids(a: &str, b: &str) -> Option<u8> {
    if a == b {
        return Some(2);
    }
    // An old 9-digit ID card and a 12-digit citizen ID are different documents: no evidence either way.
    if a.len() != b.len() {
        return None;
    }
    let diff: Vec<usize> = a.bytes().zip(b.bytes()).enumerate().filter(|(_, (x, y))| x != y).map(|(i, _)| i).collect();
    let swapped = diff.len() == 2
        && diff[1] == diff[0] + 1
        && a.as_bytes()[diff[0]] == b.as_bytes()[diff[1]]
        && a.as_bytes()[diff[1]] == b.as_bytes()[diff[0]];
    Some(u8::from(diff.len() == 1 || swapped))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmp(kind: Kind, a: &str, b: &str) -> Option<u8> {
        compare(kind, &prepare(kind, a)?, &prepare(kind, b)?)
    }

    #[test]
    fn names_compare_across_spellings_and_order() {
        assert_eq!(cmp(Kind::Name, "Nguyễn Thị Hoà", "NGUYỄN THỊ HÒA"), Some(4), "tone placement and case");
        assert_eq!(cmp(Kind::Name, "Nguyễn Thị Hoà", "Hoà Nguyễn Thị"), Some(4), "order");
        assert_eq!(cmp(Kind::Name, "Nguyễn Thị Hoà", "Nguyen Thi Hoa"), Some(3), "diacritics dropped");
        assert_eq!(cmp(Kind::Name, "Huỳnh Văn Nam", "Hoàng Văn Nam"), Some(3), "regional surname variant");
        assert_eq!(cmp(Kind::Name, "Nguyễn Thị Hoà", "Hoa Nguyen"), Some(2), "given name first, middle dropped");
        assert_eq!(cmp(Kind::Name, "Nguyễn Thị Hoà", "Nguyen Thi Hoaa"), Some(1), "a typo");
        assert_eq!(cmp(Kind::Name, "Nguyễn Phương My", "Nguyễn Mỹ Hương"), Some(1), "near syllables: only similar");
        assert_eq!(cmp(Kind::Name, "Jonathan", "Jonathon"), Some(2), "a single name with a typo");
        assert_eq!(cmp(Kind::Name, "Nguyễn Thị Hoà", "Trần Văn Bình"), Some(0));
        assert_eq!(cmp(Kind::Name, "", "Trần Văn Bình"), None, "missing is no evidence");
    }

    #[test]
    fn dates_compare_with_their_usual_errors() {
        assert_eq!(cmp(Kind::Date, "05/03/1990", "1990-03-05"), Some(4));
        assert_eq!(cmp(Kind::Date, "05/03/1990", "03/05/1990"), Some(3), "day and month swapped");
        assert_eq!(cmp(Kind::Date, "05/03/1990", "05/03/1991"), Some(2), "a year off by one");
        assert_eq!(cmp(Kind::Date, "05/03/1990", "15/03/1990"), Some(2), "a typo in the day");
        assert_eq!(cmp(Kind::Date, "05/03/1990", "1990"), Some(1), "only the year known");
        assert_eq!(cmp(Kind::Date, "05/03/1990", "05/03/1995"), Some(0));
    }

    #[test]
    fn id_numbers_of_different_documents_are_not_evidence() {
        assert_eq!(cmp(Kind::IdNumber, "079 203 001 234", "079203001234"), Some(2));
        assert_eq!(cmp(Kind::IdNumber, "079203001234", "079203001243"), Some(1), "two digits swapped");
        assert_eq!(cmp(Kind::IdNumber, "079203001234", "079203001235"), Some(1), "one digit");
        assert_eq!(cmp(Kind::IdNumber, "079203001234", "201234567"), None, "old card against citizen ID");
        assert_eq!(cmp(Kind::IdNumber, "079203001234", "048203991111"), Some(0));
    }

    #[test]
    fn other_kinds() {
        assert_eq!(cmp(Kind::Sex, "Nữ", "f"), Some(1));
        assert_eq!(cmp(Kind::Sex, "Nam", "f"), Some(0));
        assert_eq!(cmp(Kind::Sex, "?", "f"), None);
        assert_eq!(cmp(Kind::Place, "Xã Tà Lu", "xa ta lu"), Some(2));
        assert_eq!(cmp(Kind::Place, "Tà Lu", "Ta Luu"), Some(1));
        assert_eq!(cmp(Kind::Exact, "2600", "2601"), Some(0));
    }

    #[test]
    fn every_level_has_a_label() {
        for kind in [Kind::Name, Kind::Date, Kind::Sex, Kind::Place, Kind::IdNumber, Kind::Text, Kind::Exact] {
            for l in 0..kind.levels() as u8 {
                assert_ne!(kind.level_label(l), "agrees", "{kind:?} {l}");
            }
        }
    }
}
