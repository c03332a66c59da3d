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

#[cfg(test)]
mod tests {
    use super::*;

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
