//! Vietnamese name normalisation. The same name reaches Haven in many byte forms: composed or decomposed
//! Unicode, the tone mark on either vowel of "oa", "oe", "uy" (Hoà / Hòa, Thuý / Thúy), any case and spacing.
//! [`canonical`] gives one form for exact comparison and blind indexes, keeping diacritics; [`fold`] drops
//! every diacritic (and đ -> d) for loose comparison. Display always uses what the person wrote.
//!
//! Tone placement is hand-written: Unicode normalisation does not move tone marks between letters, and no
//! maintained crate implements the Vietnamese placement rules.

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// The five tone marks as combining characters.
const TONES: [char; 5] = ['\u{0300}', '\u{0301}', '\u{0303}', '\u{0309}', '\u{0323}'];

fn is_vowel(c: char) -> bool {
    matches!(c, 'a' | 'ă' | 'â' | 'e' | 'ê' | 'i' | 'o' | 'ô' | 'ơ' | 'u' | 'ư' | 'y')
}

fn has_shape_mark(c: char) -> bool {
    matches!(c, 'ă' | 'â' | 'ê' | 'ô' | 'ơ' | 'ư')
}

/// Put the tone of one lowercase syllable on the vowel the modern rules choose.
fn place_tone(syllable: &str) -> String {
    // Split off the tone: decompose, drop tone marks, recompose the shape marks (ă, ê, ơ, ...).
    let mut tone = None;
    let bare: String = syllable
        .nfd()
        .filter(|c| {
            if TONES.contains(c) {
                tone = Some(*c);
                false
            } else {
                true
            }
        })
        .nfc()
        .collect();
    let Some(tone) = tone else { return bare };
    let chars: Vec<char> = bare.chars().collect();
    // "qu" and "gi" before another vowel: the u / i belong to the consonant.
    let mut start = chars.iter().position(|c| is_vowel(*c)).unwrap_or(chars.len());
    if start > 0 && start + 1 < chars.len() && is_vowel(chars[start + 1]) {
        let prev = chars[start - 1];
        if (prev == 'q' && chars[start] == 'u') || (prev == 'g' && chars[start] == 'i') {
            start += 1;
        }
    }
    let end = (start..chars.len()).find(|i| !is_vowel(chars[*i])).unwrap_or(chars.len());
    if start >= end {
        // No vowel (an abbreviation, a stray mark): keep the tone on the last letter.
        return format!("{bare}{tone}").nfc().collect();
    }
    let cluster = &chars[start..end];
    let closed = end < chars.len();
    let offset = if cluster.len() == 1 {
        0
    } else if let Some(i) = cluster.iter().rposition(|c| has_shape_mark(*c)) {
        i
    } else if closed {
        cluster.len() - 1
    } else if cluster.len() == 3
        || (cluster.len() == 2 && matches!((cluster[0], cluster[1]), ('o', 'a') | ('o', 'e') | ('u', 'y')))
    {
        // Open "oa", "oe", "uy" take the tone on the second vowel (modern style); three vowels on the middle.
        1
    } else {
        0
    };
    let at = start + offset;
    let mut out = String::with_capacity(bare.len() + 2);
    for (i, c) in chars.iter().enumerate() {
        out.push(*c);
        if i == at {
            out.push(tone);
        }
    }
    out.nfc().collect()
}

/// One canonical form of a name: composed Unicode, lower case, single spaces, tone marks placed by the
/// modern rules. Diacritics are kept, so different names stay different.
pub fn canonical(name: &str) -> String {
    name.nfc().collect::<String>().to_lowercase().split_whitespace().map(place_tone).collect::<Vec<_>>().join(" ")
}

/// A name with every diacritic removed, đ folded to d, lower case, single spaces: for loose comparison.
pub fn fold(name: &str) -> String {
    name.nfd()
        .filter(|c| !is_combining_mark(*c))
        .map(|c| match c {
            'đ' | 'Đ' => 'd',
            c => c,
        })
        .collect::<String>()
        .to_lowercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Regional spellings of one surname (a naming taboo in the South turned Hoàng into Huỳnh and Vũ into Võ):
/// each folded variant and the form it compares as.
const SURNAME_VARIANTS: &[(&str, &str)] = &[("huynh", "hoang"), ("vo", "vu")];

/// The folded tokens of a name, with regional surname variants brought to one form. Order is kept; callers
/// that ignore order sort them.
pub fn name_tokens(name: &str) -> Vec<String> {
    fold(name)
        .split(' ')
        .filter(|t| !t.is_empty())
        .map(|t| {
            let t = t.trim_matches(|c: char| !c.is_alphanumeric());
            SURNAME_VARIANTS
                .iter()
                .find(|(v, _)| *v == t)
                .map(|(_, to)| (*to).to_owned())
                .unwrap_or_else(|| t.to_owned())
        })
        .filter(|t| !t.is_empty())
        .collect()
}

/// A date as records give it: sometimes only the year.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LooseDate {
    pub year: i32,
    pub month: Option<u8>,
    pub day: Option<u8>,
}

impl LooseDate {
    pub fn full(&self) -> bool {
        self.month.is_some() && self.day.is_some()
    }
}

/// Read a date written as dd/mm/yyyy (also with - or .), yyyy-mm-dd, yyyymmdd or a bare year. A day and month
/// that cannot be a date in that order (13/25/1990) are taken the other way round, as lists from abroad write
/// them; days and months are checked for range, not against the calendar (records carry 30/02 typos too).
pub fn parse_date(s: &str) -> Option<LooseDate> {
    let s = s.trim();
    let nums: Vec<&str> = s.split(['/', '-', '.', ' ']).filter(|p| !p.is_empty()).collect();
    let num = |p: &str| p.parse::<i32>().ok();
    let ok_year = |y: i32| (1800..=2200).contains(&y);
    let (year, month, day) = match nums.as_slice() {
        [one] if one.len() == 4 => (num(one)?, None, None),
        [one] if one.len() == 8 && one.bytes().all(|b| b.is_ascii_digit()) => {
            (num(&one[..4])?, Some(num(&one[4..6])?), Some(num(&one[6..])?))
        }
        [y, m, d] if y.len() == 4 => (num(y)?, Some(num(m)?), Some(num(d)?)),
        [d, m, y] if y.len() == 4 => (num(y)?, Some(num(m)?), Some(num(d)?)),
        [m, y] if y.len() == 4 => (num(y)?, Some(num(m)?), None),
        // As Haven stores a month and year: yyyy-mm.
        [y, m] if y.len() == 4 && m.len() <= 2 => (num(y)?, Some(num(m)?), None),
        _ => return None,
    };
    if !ok_year(year) {
        return None;
    }
    let (mut month, mut day) = (month, day);
    if let (Some(m), Some(d)) = (month, day) {
        if m > 12 && d <= 12 {
            (month, day) = (Some(d), Some(m));
        }
    }
    let month = match month {
        Some(m) if (1..=12).contains(&m) => Some(m as u8),
        Some(_) => return None,
        None => None,
    };
    let day = match day {
        Some(d) if (1..=31).contains(&d) => Some(d as u8),
        Some(_) => return None,
        None => None,
    };
    Some(LooseDate { year, month, day })
}

/// Words that say what kind of unit a place is, dropped before comparing ("Xã Tà Lu" and "Tà Lu" are one
/// commune), folded.
const UNIT_WORDS: &[&str] =
    &["xa", "phuong", "thi tran", "thon", "ban", "to", "huyen", "quan", "thi xa", "tinh", "thanh pho", "tp"];

/// A place as written, split into its name and the district after it ("Xã Lộc Tân, huyện Điện Bàn" is
/// ("loc tan", Some("dien ban"))), folded and without unit words.
pub fn place_name(raw: &str) -> (String, Option<String>) {
    let strip = |part: &str| {
        let mut p = fold(part);
        for w in UNIT_WORDS {
            if let Some(rest) = p.strip_prefix(&format!("{w} ")) {
                p = rest.to_owned();
                break;
            }
        }
        p.trim().to_owned()
    };
    let mut parts = raw.split(',').map(str::trim).filter(|p| !p.is_empty());
    let name = parts.next().map(strip).unwrap_or_default();
    let district = parts.next().map(strip).filter(|d| !d.is_empty());
    (name, district)
}

/// An identity document number for comparison: letters and digits only, upper case.
pub fn document_number(s: &str) -> String {
    s.chars().filter(char::is_ascii_alphanumeric).map(|c| c.to_ascii_uppercase()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn surname_variants_and_order() {
        assert_eq!(name_tokens("Huỳnh Thị Hoà"), ["hoang", "thi", "hoa"]);
        assert_eq!(name_tokens("VÕ văn  Nam"), ["vu", "van", "nam"]);
        assert_eq!(name_tokens("Nguyễn-Thị, Lan"), ["nguyen-thi", "lan"]);
    }

    #[test]
    fn places_without_unit_words() {
        assert_eq!(place_name("Xã Lộc Tân, huyện Điện Bàn"), ("loc tan".into(), Some("dien ban".into())));
        assert_eq!(place_name("Phường Hội An"), ("hoi an".into(), None));
        assert_eq!(place_name("Tà Lu"), ("ta lu".into(), None));
    }

    #[test]
    fn dates_in_every_shape() {
        let full = Some(LooseDate { year: 1990, month: Some(3), day: Some(5) });
        for s in ["05/03/1990", "5-3-1990", "1990-03-05", "19900305", "05.03.1990"] {
            assert_eq!(parse_date(s), full, "{s}");
        }
        assert_eq!(parse_date("1990"), Some(LooseDate { year: 1990, month: None, day: None }));
        assert_eq!(parse_date("03/25/1990"), Some(LooseDate { year: 1990, month: Some(3), day: Some(25) }));
        assert_eq!(parse_date("40/40/1990"), None);
        assert_eq!(parse_date("tháng 3"), None);
        assert_eq!(parse_date("0190"), None);
    }

    #[test]
    fn both_tone_placements_are_one_name() {
        assert_eq!(canonical("Hòa"), canonical("Hoà"));
        assert_eq!(canonical("Hoà"), "hoà");
        assert_eq!(canonical("Thúy"), canonical("Thuý"));
        assert_eq!(canonical("khỏe"), "khoẻ");
    }

    #[test]
    fn composed_and_decomposed_input_agree() {
        let nfd: String = "Nguyễn Thị Hoà".nfd().collect();
        assert_ne!(nfd, "Nguyễn Thị Hoà");
        assert_eq!(canonical(&nfd), canonical("Nguyễn Thị Hoà"));
        assert_eq!(canonical("  NGUYỄN   thị hoà "), "nguyễn thị hoà");
    }

    #[test]
    fn shape_marks_and_closed_syllables_take_the_tone() {
        // ươ puts the tone on ơ; a closed syllable on its last vowel; qu/gi are consonants.
        assert_eq!(canonical("Trương"), "trương");
        assert_eq!(canonical("Nguyễn"), "nguyễn");
        assert_eq!(canonical("Quỳnh"), "quỳnh");
        assert_eq!(canonical("Giàu"), "giàu");
        assert_eq!(canonical("Hoàng"), "hoàng");
        assert_eq!(canonical("Toàn"), "toàn");
        assert_eq!(canonical("Mái"), "mái");
        assert_eq!(canonical("Hoài"), "hoài");
        assert_eq!(canonical("Thuỷ"), canonical("Thủy"));
    }

    #[test]
    fn names_that_differ_stay_different() {
        assert_ne!(canonical("Hoà"), canonical("Hoa"));
        assert_ne!(canonical("Vũ"), canonical("Võ"));
    }

    #[test]
    fn folding_drops_every_diacritic() {
        assert_eq!(fold("Đặng Thị Hoà"), "dang thi hoa");
        assert_eq!(fold("ĐINH  Văn   Ưng"), "dinh van ung");
        assert_eq!(fold("Bh'riu"), "bh'riu");
    }
}

/// Properties that hold for any input, not only the examples above.
#[cfg(test)]
mod properties {
    use proptest::prelude::*;
    use unicode_normalization::UnicodeNormalization;

    use super::*;
    use crate::compare::{compare, prepare, Kind};

    /// Syllables of Vietnamese names, with their diacritics, in both tone placements where they differ.
    const SYLLABLES: &[&str] = &[
        "Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Thị",
        "Văn", "Hữu", "Đức", "Thanh", "Hoà", "Hòa", "Thuý", "Thúy", "Khoẻ", "Khỏe", "Quyên", "Ánh", "Hương", "Tuấn",
        "Uyên", "Bríu", "Zơ", "Râm", "Pơ", "Loong",
    ];

    fn name() -> impl Strategy<Value = Vec<&'static str>> {
        proptest::collection::vec(proptest::sample::select(SYLLABLES), 2..5)
    }

    /// Any text, with Vietnamese letters, combining marks and odd spacing among the rest.
    fn text() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop_oneof![
                proptest::sample::select(SYLLABLES).prop_map(str::to_owned),
                "[ \\t]{0,3}".prop_map(|s: String| s),
                any::<char>().prop_map(|c| c.to_string()),
                Just("\u{300}".to_owned()),
                Just("\u{323}".to_owned()),
            ],
            0..12,
        )
        .prop_map(|parts| parts.concat())
    }

    proptest! {
        #[test]
        fn folding_is_idempotent(s in text()) {
            let once = fold(&s);
            prop_assert_eq!(fold(&once), once);
        }

        #[test]
        fn canonical_form_is_idempotent_and_ignores_unicode_form(s in text()) {
            let c = canonical(&s);
            prop_assert_eq!(canonical(&c), c.clone());
            let nfd: String = s.nfd().collect();
            prop_assert_eq!(canonical(&nfd), c);
        }

        #[test]
        fn name_order_does_not_matter(parts in name(), rotate in 0usize..4, upper in any::<bool>()) {
            let written = parts.join(" ");
            let mut shuffled = parts.clone();
            let k = rotate % shuffled.len();
            shuffled.rotate_left(k);
            let mut other = shuffled.join(" ");
            if upper {
                other = fold(&other).to_uppercase();
            }
            let (a, b) = (prepare(Kind::Name, &written), prepare(Kind::Name, &other));
            let level = compare(Kind::Name, a.as_ref().expect("a name"), b.as_ref().expect("a name"));
            // Same name without diacritics or in another order, or the same name outright.
            prop_assert!(level >= Some(3), "{written} / {other}: {level:?}");
        }

        #[test]
        fn written_dates_read_back(y in 1900i32..2100, m in 1u8..=12, d in 1u8..=28) {
            for written in [format!("{d:02}/{m:02}/{y}"), format!("{y}-{m:02}-{d:02}"), format!("{y}{m:02}{d:02}"), format!("{d}.{m}.{y}")] {
                prop_assert_eq!(parse_date(&written), Some(LooseDate { year: y, month: Some(m), day: Some(d) }), "{}", written);
            }
        }

        #[test]
        fn nothing_panics_on_any_input(s in any::<String>()) {
            let _ = canonical(&s);
            let _ = name_tokens(&s);
            let _ = parse_date(&s);
            let _ = place_name(&s);
            let _ = document_number(&s);
        }
    }
}
