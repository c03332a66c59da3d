//! Blocking: the keys under which two records are compared at all (names folded in several ways, birth
//! years, ID numbers, places), kept as 64-bit hashes.

use std::collections::HashMap;

use super::*;

/// Blocking keys are kept as 64-bit hashes of their text: the index holds no strings, and two keys that happen
/// to share a hash only add a pair to compare.
pub(super) fn key_hash(text: &[u8]) -> u64 {
    // FNV-1a, then the splitmix64 finaliser so every bit depends on every byte (the table uses the low bits).
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h ^= h >> 30;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^= h >> 27;
    h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

/// Writes keys into a reused buffer and keeps their hashes.
pub(super) struct Keys<'a> {
    out: &'a mut Vec<u64>,
    buf: &'a mut String,
}

/// The family of a blocking key, kept in the top three bits of its hash. The model is trained the way Splink
/// trains it: in one session per family, on the pairs that family's keys found, leaving out the fields those
/// keys agree on by construction (pairs found by name all agree on the name, so they cannot say how often
/// matches agree on it). Other keys only find candidates.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Family {
    Other = 0,
    /// The whole name, in any order.
    Name = 1,
    /// The full date of birth.
    Date = 2,
    /// The identity number.
    Id = 3,
}

pub(super) const FAMILY_SHIFT: u32 = 61;
pub(super) const FAMILY_MASK: u64 = 0b111 << FAMILY_SHIFT;

impl Keys<'_> {
    fn push_in(&mut self, family: Family, args: std::fmt::Arguments<'_>) {
        use std::fmt::Write;
        self.buf.clear();
        let _ = self.buf.write_fmt(args);
        let h = key_hash(self.buf.as_bytes()) & !FAMILY_MASK;
        self.out.push(h | ((family as u64) << FAMILY_SHIFT));
    }
    fn push(&mut self, args: std::fmt::Arguments<'_>) {
        self.push_in(Family::Other, args);
    }
}

/// The families of a key, as a bit set over [`Family`].
pub(super) fn family_bit(key: u64) -> u8 {
    1 << ((key & FAMILY_MASK) >> FAMILY_SHIFT)
}

/// A hasher for keys that are already hashes.
#[derive(Default)]
pub(super) struct PassThrough(u64);

impl std::hash::Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        self.0 = key_hash(bytes);
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

pub(super) type Index = HashMap<u64, Vec<u32>, std::hash::BuildHasherDefault<PassThrough>>;

/// Blocking keys of one record: several, so that one bad field does not hide a match.
pub(super) fn block_keys(fields: &[Field], t: &Table, row: usize, out: &mut Vec<u64>, buf: &mut String) {
    out.clear();
    let mut k = Keys { out, buf };
    let mut tokens: Vec<&str> = Vec::new();
    let mut year = None;
    let mut day_months: Vec<(usize, u8, u8)> = Vec::new();
    for (f, field) in fields.iter().enumerate() {
        match (&t.values[f][row], field.kind) {
            (Some(Prepared::Name(n)), _) => tokens.extend(n.tokens.iter().map(String::as_str)),
            (Some(Prepared::Date(d)), _) => {
                year = year.or(Some(d.year));
                if let (Some(m), Some(day)) = (d.month, d.day) {
                    k.push_in(Family::Date, format_args!("d{f}|{}-{m}-{day}", d.year));
                    // Day and month swapped, or the year mistyped: the other two parts still agree.
                    k.push(format_args!("s{f}|{}-{}-{}", d.year, m.min(day), m.max(day)));
                    day_months.push((f, m, day));
                }
            }
            (Some(Prepared::Str(s)), Kind::IdNumber) if s.len() >= 6 => {
                k.push_in(Family::Id, format_args!("i{f}|{s}"));
            }
            _ => {}
        }
    }
    tokens.sort_unstable();
    if tokens.is_empty() {
        return;
    }
    let year = year.unwrap_or(0);
    let name = tokens.join(" ");
    // The whole name in any order.
    k.push_in(Family::Name, format_args!("n|{name}"));
    // Every two parts of the name with the year: a dropped middle name or a reordered name still meets.
    for i in 0..tokens.len() {
        for j in i + 1..tokens.len() {
            k.push(format_args!("p|{} {}|{year}", tokens[i], tokens[j]));
        }
    }
    // The first letters of every part with the year: a typo late in a part still meets.
    let prefixes: Vec<&str> = tokens.iter().map(|t| t.get(..2).unwrap_or(t)).collect();
    k.push(format_args!("x|{}|{year}", prefixes.join(" ")));
    // Each part of the name, and each address line, with each place or code (a commune, a postcode): the date
    // may be wrong, or the name parts in the wrong fields.
    let texts: Vec<&str> = fields
        .iter()
        .enumerate()
        .filter_map(|(f, field)| match (&t.values[f][row], field.kind) {
            (Some(Prepared::Str(s)), Kind::Text) => Some(s.as_str()),
            _ => None,
        })
        .collect();
    for (f, field) in fields.iter().enumerate() {
        if let (Some(Prepared::Str(s)), Kind::Place | Kind::Exact) = (&t.values[f][row], field.kind) {
            for token in tokens.iter().chain(&texts) {
                k.push(format_args!("o{f}|{token}|{s}"));
            }
        }
    }
    // The name with the day and month of birth: the year may be off.
    for (f, m, day) in day_months {
        k.push(format_args!("m{f}|{m}-{day}|{name}"));
    }
}
