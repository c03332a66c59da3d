//! Linking two lists of people: blocking on several keys, Fellegi-Sunter scoring with m estimated by EM
//! (no labels needed) and u from random pairs, term-frequency adjustment of exact agreements, one-to-one
//! assignment, and an explanation for every pair.
//!
//! The cost grows linearly with the number of records: each record is compared only with the records that
//! share one of its blocking keys, and a key shared by too many records (a very common name in one year) is
//! skipped, the other keys still finding its matches.

use std::collections::HashMap;

use crate::compare::{compare, prepare, Kind, Prepared};

/// A field to compare: a label for explanations and the kind that decides how.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field {
    pub label: String,
    pub kind: Kind,
}

/// One list of records, prepared: `values[field][row]`.
pub struct Table {
    pub ids: Vec<String>,
    pub values: Vec<Vec<Option<Prepared>>>,
}

impl Table {
    /// Prepare raw values, given per field (`raw[field][row]`).
    pub fn prepare(fields: &[Field], ids: Vec<String>, raw: &[Vec<String>]) -> Table {
        let values = fields.iter().zip(raw).map(|(f, col)| col.iter().map(|v| prepare(f.kind, v)).collect()).collect();
        Table { ids, values }
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

/// Tuning of a run; the defaults suit lists of people.
#[derive(Clone, Debug)]
pub struct Options {
    /// Pairs at or above this probability are links.
    pub threshold: f64,
    /// A blocking key shared by more right-hand records than this is not used.
    pub max_block: usize,
    /// Random pairs drawn to estimate u.
    pub u_samples: usize,
    pub em_iterations: usize,
    /// Threads to compare on.
    pub threads: usize,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            threshold: 0.5,
            max_block: 400,
            u_samples: 100_000,
            em_iterations: 40,
            threads: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).min(8),
        }
    }
}

/// The estimated Fellegi-Sunter model.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Model {
    /// The chance that two records taken at random are a match (over all pairs, as u is).
    pub lambda: f64,
    /// m[field][level]: P(level | match).
    pub m: Vec<Vec<f64>>,
    /// u[field][level]: P(level | non-match).
    pub u: Vec<Vec<f64>>,
    /// For fields weighed by term frequency: the share of records holding each value. Never stored: its keys
    /// are the values themselves (names), so a saved model carries m, u and the prior only.
    #[serde(skip)]
    pub tf: Vec<Option<HashMap<String, f64>>>,
}

/// A scored pair of records (indexes into the two tables).
#[derive(Clone, Debug)]
pub struct Pair {
    pub left: usize,
    pub right: usize,
    pub weight: f64,
    pub probability: f64,
}

/// The outcome of a run.
pub struct Linkage {
    pub model: Model,
    /// Pairs compared after blocking.
    pub candidates: usize,
    /// One-to-one links at or above the threshold, most probable first.
    pub links: Vec<Pair>,
}

/// No level: the comparison gave no evidence.
const MISSING: u8 = u8::MAX;

pub(crate) fn levels_of(fields: &[Field], left: &Table, l: usize, right: &Table, r: usize, out: &mut Vec<u8>) {
    for (f, field) in fields.iter().enumerate() {
        let level = match (&left.values[f][l], &right.values[f][r]) {
            (Some(a), Some(b)) => compare(field.kind, a, b).unwrap_or(MISSING),
            _ => MISSING,
        };
        out.push(level);
    }
}

/// Blocking keys are kept as 64-bit hashes of their text: the index holds no strings, and two keys that happen
/// to share a hash only add a pair to compare.
fn key_hash(text: &[u8]) -> u64 {
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
struct Keys<'a> {
    out: &'a mut Vec<u64>,
    buf: &'a mut String,
}

/// The family of a blocking key, kept in the top three bits of its hash. The model is trained the way Splink
/// trains it: in one session per family, on the pairs that family's keys found, leaving out the fields those
/// keys agree on by construction (pairs found by name all agree on the name, so they cannot say how often
/// matches agree on it). Other keys only find candidates.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Family {
    Other = 0,
    /// The whole name, in any order.
    Name = 1,
    /// The full date of birth.
    Date = 2,
    /// The identity number.
    Id = 3,
}

const FAMILY_SHIFT: u32 = 61;
const FAMILY_MASK: u64 = 0b111 << FAMILY_SHIFT;

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
fn family_bit(key: u64) -> u8 {
    1 << ((key & FAMILY_MASK) >> FAMILY_SHIFT)
}

/// A hasher for keys that are already hashes.
#[derive(Default)]
struct PassThrough(u64);

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

type Index = HashMap<u64, Vec<u32>, std::hash::BuildHasherDefault<PassThrough>>;

/// Blocking keys of one record: several, so that one bad field does not hide a match.
fn block_keys(fields: &[Field], t: &Table, row: usize, out: &mut Vec<u64>, buf: &mut String) {
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

/// A small deterministic generator for sampling (xorshift64*): runs are repeatable.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as usize % n.max(1)
    }
}

/// Level counts over `n` random pairs drawn with `seed`.
fn count_random_levels(fields: &[Field], left: &Table, right: &Table, n: usize, seed: u64) -> Vec<Vec<f64>> {
    let mut counts: Vec<Vec<f64>> = fields.iter().map(|f| vec![0.0; f.kind.levels()]).collect();
    let mut rng = Rng(seed);
    let mut levels = Vec::with_capacity(fields.len());
    for _ in 0..n {
        levels.clear();
        levels_of(fields, left, rng.below(left.len()), right, rng.below(right.len()), &mut levels);
        for (f, l) in levels.iter().enumerate() {
            if *l != MISSING {
                counts[f][*l as usize] += 1.0;
            }
        }
    }
    counts
}

/// u from random pairs (almost all random pairs are non-matches), drawn on several threads.
fn estimate_u(fields: &[Field], left: &Table, right: &Table, samples: usize, threads: usize) -> Vec<Vec<f64>> {
    let n = samples.min(left.len().saturating_mul(right.len()));
    let threads = threads.max(1);
    let parts: Vec<Vec<Vec<f64>>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let share = n / threads + usize::from(t < n % threads);
                let seed = 0x9e37_79b9_7f4a_7c15 ^ (t as u64 + 1).wrapping_mul(0xbf58_476d_1ce4_e5b9);
                s.spawn(move || count_random_levels(fields, left, right, share, seed))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or_default()).collect()
    });
    let mut counts: Vec<Vec<f64>> = fields.iter().map(|f| vec![0.0; f.kind.levels()]).collect();
    for part in parts {
        for (f, levels) in part.iter().enumerate() {
            for (l, c) in levels.iter().enumerate() {
                counts[f][l] += c;
            }
        }
    }
    counts
        .into_iter()
        .map(|c| {
            let total: f64 = c.iter().sum();
            // Half a count of smoothing: a level never seen among random pairs is rare, not impossible.
            c.iter().map(|x| (x + 0.5) / (total + 0.5 * c.len() as f64)).collect()
        })
        .collect()
}

/// m for every field, from one EM session per key family (Splink's way): each session learns the fields its
/// keys do not agree on by construction; a field's m is the average over the sessions that learned it,
/// weighed by the matches each found. A field no session could learn keeps the default.
fn train(
    fields: &[Field],
    pairs: &[(u32, u32, u8)],
    levels: &[u8],
    u: &[Vec<f64>],
    expected_matches: f64,
    iterations: usize,
) -> (Vec<Vec<f64>>, f64) {
    let n = fields.len().max(1);
    let mut found_matches: f64 = 0.0;
    let mut sum: Vec<Vec<f64>> = fields.iter().map(|f| vec![0.0; f.kind.levels()]).collect();
    let mut weight = vec![0.0; fields.len()];
    for (family, kind) in [(Family::Name, Kind::Name), (Family::Date, Kind::Date), (Family::Id, Kind::IdNumber)] {
        let bit = 1u8 << family as u8;
        let mut patterns: HashMap<Vec<u8>, f64> = HashMap::new();
        let mut count = 0usize;
        for (chunk, (_, _, families)) in levels.chunks(n).zip(pairs) {
            if families & bit != 0 {
                let p: Vec<u8> =
                    chunk.iter().zip(fields).map(|(l, f)| if f.kind == kind { MISSING } else { *l }).collect();
                *patterns.entry(p).or_default() += 1.0;
                count += 1;
            }
        }
        // Too few pairs say nothing.
        if count < 20 {
            continue;
        }
        // A list of n people holds at most n matches: the match class cannot grow past that share of the
        // session's pairs (without the bound, EM can settle on "same sex" as the match class when most pairs
        // share a common name).
        let bound = expected_matches / count as f64;
        let (lambda, m) = estimate_m(fields, &patterns, u, bound, bound, iterations);
        let matches = lambda * count as f64;
        found_matches = found_matches.max(matches);
        for (f, field) in fields.iter().enumerate() {
            if field.kind != kind {
                for (l, v) in m[f].iter().enumerate() {
                    sum[f][l] += v * matches;
                }
                weight[f] += matches;
            }
        }
    }
    let defaults = default_m(fields);
    let m = sum
        .into_iter()
        .zip(weight)
        .zip(defaults)
        .map(|((s, w), d)| if w > 0.0 { s.iter().map(|x| x / w).collect() } else { d })
        .collect();
    (m, found_matches)
}

/// m before any training: agreement likelier the closer it is.
fn default_m(fields: &[Field]) -> Vec<Vec<f64>> {
    fields
        .iter()
        .map(|f| {
            let n = f.kind.levels();
            let raw: Vec<f64> = (0..n).map(|l| ((l + 1) * (l + 1)) as f64).collect();
            let total: f64 = raw.iter().sum();
            raw.iter().map(|x| x / total).collect()
        })
        .collect()
}

/// The share of matches among the candidates, by EM with m and u fixed.
fn estimate_lambda(
    patterns: &HashMap<Vec<u8>, f64>,
    m: &[Vec<f64>],
    u: &[Vec<f64>],
    lambda0: f64,
    iterations: usize,
) -> f64 {
    let total: f64 = patterns.values().sum();
    let mut lambda = lambda0.clamp(1e-9, 0.5);
    for _ in 0..iterations.max(1) {
        let mut matched = 0.0;
        for (pattern, count) in patterns {
            let (mut pm, mut pu) = (lambda, 1.0 - lambda);
            for (f, l) in pattern.iter().enumerate() {
                if *l != MISSING {
                    pm *= m[f][*l as usize];
                    pu *= u[f][*l as usize];
                }
            }
            matched += pm / (pm + pu) * count;
        }
        let next = (matched / total.max(1.0)).clamp(1e-9, 1.0 - 1e-9);
        let done = (next - lambda).abs() < 1e-7;
        lambda = next;
        if done {
            break;
        }
    }
    lambda
}

/// m and lambda by expectation-maximisation over the candidate pairs' agreement patterns, u held fixed.
fn estimate_m(
    fields: &[Field],
    patterns: &HashMap<Vec<u8>, f64>,
    u: &[Vec<f64>],
    lambda0: f64,
    max_lambda: f64,
    iterations: usize,
) -> (f64, Vec<Vec<f64>>) {
    let mut m = default_m(fields);
    let mut lambda = lambda0.clamp(1e-6, 0.5);
    let total: f64 = patterns.values().sum();
    for _ in 0..iterations {
        let mut m_num: Vec<Vec<f64>> = fields.iter().map(|f| vec![0.0; f.kind.levels()]).collect();
        let mut m_den = vec![0.0; fields.len()];
        let mut matched = 0.0;
        for (pattern, count) in patterns {
            let (mut pm, mut pu) = (lambda, 1.0 - lambda);
            for (f, l) in pattern.iter().enumerate() {
                if *l != MISSING {
                    pm *= m[f][*l as usize];
                    pu *= u[f][*l as usize];
                }
            }
            let p = pm / (pm + pu);
            matched += p * count;
            for (f, l) in pattern.iter().enumerate() {
                if *l != MISSING {
                    m_num[f][*l as usize] += p * count;
                    m_den[f] += p * count;
                }
            }
        }
        let next_lambda = (matched / total).clamp(1e-9, max_lambda.clamp(1e-9, 1.0 - 1e-9));
        let mut change = (next_lambda - lambda).abs();
        for f in 0..fields.len() {
            let n = m_num[f].len() as f64;
            for l in 0..m_num[f].len() {
                let next = (m_num[f][l] + 0.01) / (m_den[f] + 0.01 * n);
                change = change.max((next - m[f][l]).abs());
                m[f][l] = next;
            }
        }
        lambda = next_lambda;
        if change < 1e-6 {
            break;
        }
    }
    (lambda, m)
}

/// The share of records holding each value, over both lists, for fields weighed by term frequency.
fn term_frequencies(fields: &[Field], left: &Table, right: &Table) -> Vec<Option<HashMap<String, f64>>> {
    fields
        .iter()
        .enumerate()
        .map(|(f, field)| {
            if !field.kind.term_frequency() {
                return None;
            }
            let mut counts: HashMap<String, f64> = HashMap::new();
            let mut total: f64 = 0.0;
            for v in left.values[f].iter().chain(&right.values[f]).flatten() {
                if let Some(k) = v.tf_key() {
                    *counts.entry(k.to_owned()).or_default() += 1.0;
                    total += 1.0;
                }
            }
            counts.values_mut().for_each(|c| *c /= total.max(1.0));
            Some(counts)
        })
        .collect()
}

impl Model {
    /// The weight (log2 of the Bayes factor) a field adds at a level; exact agreements on a value are weighed
    /// by how common the value is.
    pub fn field_weight(&self, fields: &[Field], f: usize, level: u8, value: Option<&Prepared>) -> f64 {
        if level == MISSING {
            return 0.0;
        }
        let (m, u) = (self.m[f][level as usize], self.u[f][level as usize]);
        let top = fields[f].kind.levels() as u8 - 1;
        let exact = level == top || (fields[f].kind == Kind::Name && level == top - 1);
        if exact {
            if let (Some(Some(tf)), Some(key)) = (self.tf.get(f), value.and_then(Prepared::tf_key)) {
                if let Some(share) = tf.get(key) {
                    // Never let a rare value outweigh what the level itself can say by more than a factor of
                    // 100, nor a common one fall below the level's own u.
                    let adjusted = share.clamp(u / 100.0, 1.0).max(1e-9);
                    return (m / adjusted).log2();
                }
            }
        }
        (m / u).log2()
    }

    fn prior(&self) -> f64 {
        (self.lambda / (1.0 - self.lambda)).log2()
    }

    /// Weight and probability of a pair from its levels.
    pub fn score(&self, fields: &[Field], levels: &[u8], left: &Table, l: usize) -> (f64, f64) {
        let mut w = self.prior();
        for (f, level) in levels.iter().enumerate() {
            w += self.field_weight(fields, f, *level, left.values[f][l].as_ref());
        }
        (w, probability(w))
    }
}

fn probability(weight: f64) -> f64 {
    let odds = weight.exp2();
    if odds.is_infinite() {
        1.0
    } else {
        odds / (1.0 + odds)
    }
}

/// Candidate pairs (left row, right row, the families of the keys that found it) and their levels, flattened
/// with `fields.len()` per pair.
type Candidates = (Vec<(u32, u32, u8)>, Vec<u8>);

/// Candidate pairs of one slice of the left list, with their levels.
fn candidates(
    fields: &[Field],
    left: &Table,
    right: &Table,
    index: &Index,
    rows: std::ops::Range<usize>,
) -> Candidates {
    let mut pairs = Vec::new();
    let mut levels = Vec::new();
    let mut keys = Vec::new();
    let mut buf = String::new();
    let mut found: Vec<(u32, u8)> = Vec::new();
    for l in rows {
        block_keys(fields, left, l, &mut keys, &mut buf);
        found.clear();
        for k in &keys {
            if let Some(rs) = index.get(k) {
                let bit = family_bit(*k);
                found.extend(rs.iter().map(|r| (*r, bit)));
            }
        }
        found.sort_unstable_by_key(|f| f.0);
        let mut i = 0;
        while i < found.len() {
            let r = found[i].0;
            let mut families = 0u8;
            while i < found.len() && found[i].0 == r {
                families |= found[i].1;
                i += 1;
            }
            pairs.push((l as u32, r, families));
            levels_of(fields, left, l, right, r as usize, &mut levels);
        }
    }
    (pairs, levels)
}

/// Link two lists one-to-one.
pub fn link(fields: &[Field], left: &Table, right: &Table, opts: &Options) -> Linkage {
    // Index the right list by every blocking key, dropping keys too common to be useful.
    let mut index = Index::default();
    let mut keys = Vec::new();
    let mut buf = String::new();
    for r in 0..right.len() {
        block_keys(fields, right, r, &mut keys, &mut buf);
        for k in keys.drain(..) {
            index.entry(k).or_default().push(r as u32);
        }
    }
    index.retain(|_, rs| rs.len() <= opts.max_block);

    // Compare the candidates on several threads, each taking a slice of the left list.
    let threads = opts.threads.max(1).min(left.len().max(1));
    let chunk = left.len().div_ceil(threads).max(1);
    let parts: Vec<Candidates> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let index = &index;
                let rows = (t * chunk).min(left.len())..((t + 1) * chunk).min(left.len());
                s.spawn(move || candidates(fields, left, right, index, rows))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or_default()).collect()
    });
    drop(index);
    let n = fields.len();
    let mut pairs = Vec::new();
    let mut levels = Vec::new();
    for (p, l) in parts {
        pairs.extend(p);
        levels.extend(l);
    }

    let u = estimate_u(fields, left, right, opts.u_samples, threads);
    let expected_matches = left.len().min(right.len()) as f64;
    let (m, found) = train(fields, &pairs, &levels, &u, expected_matches, opts.em_iterations);
    // The prior: the chance that two records taken at random are the same person, over all pairs, not only the
    // candidates. u comes from random pairs, so a pair's weights already count the agreement blocking looked
    // for; a prior among candidates would count it twice, and a common name with the same birth year would
    // pass for a match. The number of matches is the most a training session found (each sees the matches its
    // keys reach); without any session, EM over the candidates with m and u fixed.
    let all_pairs = (left.len() as f64 * right.len() as f64).max(1.0);
    let matches = if found > 0.0 {
        found.min(expected_matches)
    } else {
        let mut all: HashMap<Vec<u8>, f64> = HashMap::new();
        for chunk in levels.chunks(n.max(1)) {
            *all.entry(chunk.to_vec()).or_default() += 1.0;
        }
        let share = estimate_lambda(&all, &m, &u, expected_matches / pairs.len().max(1) as f64, opts.em_iterations);
        (share * pairs.len() as f64).min(expected_matches)
    };
    let lambda = (matches / all_pairs).clamp(1e-12, 0.5);
    let model = Model { lambda, m, u, tf: term_frequencies(fields, left, right) };

    let mut scored: Vec<Pair> = pairs
        .iter()
        .enumerate()
        .filter_map(|(i, (l, r, _))| {
            let (weight, probability) = model.score(fields, &levels[i * n..(i + 1) * n], left, *l as usize);
            (probability >= opts.threshold).then_some(Pair {
                left: *l as usize,
                right: *r as usize,
                weight,
                probability,
            })
        })
        .collect();
    // One-to-one: the strongest pairs first; a record already linked takes no other.
    scored.sort_by(|a, b| b.weight.total_cmp(&a.weight).then(a.left.cmp(&b.left)).then(a.right.cmp(&b.right)));
    let mut left_used = vec![false; left.len()];
    let mut right_used = vec![false; right.len()];
    let links = scored
        .into_iter()
        .filter(|p| {
            let free = !left_used[p.left] && !right_used[p.right];
            if free {
                left_used[p.left] = true;
                right_used[p.right] = true;
            }
            free
        })
        .collect();
    Linkage { model, candidates: pairs.len(), links }
}

/// One field's part in a pair's score.
#[derive(Clone, Debug, PartialEq)]
pub struct Evidence {
    pub label: String,
    /// `None`: no evidence (missing or not comparable).
    pub level: Option<u8>,
    pub meaning: &'static str,
    pub weight: f64,
}

/// Why a pair scored as it did: each field's level, what it means and the weight it added.
pub fn explain(fields: &[Field], model: &Model, left: &Table, l: usize, right: &Table, r: usize) -> Vec<Evidence> {
    let mut levels = Vec::with_capacity(fields.len());
    levels_of(fields, left, l, right, r, &mut levels);
    fields
        .iter()
        .enumerate()
        .map(|(f, field)| {
            let level = levels[f];
            Evidence {
                label: field.label.clone(),
                level: (level != MISSING).then_some(level),
                meaning: if level == MISSING { "not known on both" } else { field.kind.level_label(level) },
                weight: model.field_weight(fields, f, level, left.values[f][l].as_ref()),
            }
        })
        .collect()
}

/// An explanation on one line: "name: same name (+11.2); dob: day and month swapped (+6.0); ...".
pub fn explain_line(evidence: &[Evidence]) -> String {
    evidence
        .iter()
        .map(|e| {
            if e.level.is_none() {
                format!("{}: {}", e.label, e.meaning)
            } else {
                format!("{}: {} ({:+.1})", e.label, e.meaning, e.weight)
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields() -> Vec<Field> {
        [("name", Kind::Name), ("dob", Kind::Date), ("sex", Kind::Sex), ("place", Kind::Place)]
            .into_iter()
            .map(|(l, k)| Field { label: l.into(), kind: k })
            .collect()
    }

    fn table(rows: &[[&str; 4]]) -> Table {
        let ids = (0..rows.len()).map(|i| i.to_string()).collect();
        let raw: Vec<Vec<String>> = (0..4).map(|f| rows.iter().map(|r| r[f].to_owned()).collect()).collect();
        Table::prepare(&fields(), ids, &raw)
    }

    /// A small population: common and rare names, two people sharing a common name and birth year.
    fn lists() -> (Table, Table) {
        let surnames = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Hồ"];
        let middles = ["Thị", "Văn", "Đức", "Ngọc", "Minh"];
        let givens = ["Lan", "Hoà", "Nam", "Tuấn", "Hương", "Mai", "Hùng", "Thuý", "Phúc", "Yến", "Quỳnh", "Dũng"];
        let communes = ["Tà Lu", "A Tiêng", "Sông Kôn", "Hội An", "Điện Bàn", "Duy Xuyên"];
        let mut left = Vec::new();
        let mut right = Vec::new();
        let mut rng = Rng(42);
        for i in 0..600 {
            let name = format!("{} {} {}", surnames[rng.below(10)], middles[rng.below(5)], givens[rng.below(12)]);
            let dob = format!("{:02}/{:02}/{}", 1 + rng.below(28), 1 + rng.below(12), 1970 + rng.below(35));
            let sex = if rng.below(2) == 0 { "f" } else { "m" };
            let place = communes[rng.below(6)];
            left.push([name.clone(), dob.clone(), sex.to_owned(), place.to_owned()]);
            if i % 3 == 0 {
                // The same person on a foreign list: given name first, no diacritics, Huỳnh for Hoàng, day
                // and month swapped on some.
                let parts: Vec<&str> = name.split(' ').collect();
                let foreign = crate::normalise::fold(&format!("{} {}", parts[2], parts[0])).replace("hoang", "huynh");
                let d = crate::normalise::parse_date(&dob).expect("date");
                let dob2 = if i % 2 == 0 {
                    format!("{}-{:02}-{:02}", d.year, d.month.unwrap_or(1), d.day.unwrap_or(1))
                } else {
                    format!("{:02}/{:02}/{}", d.month.unwrap_or(1), d.day.unwrap_or(1), d.year)
                };
                right.push([foreign, dob2, sex.to_owned(), crate::normalise::fold(place)]);
            }
        }
        let to = |rows: &[[String; 4]]| {
            let refs: Vec<[&str; 4]> = rows.iter().map(|r| [&r[0][..], &r[1][..], &r[2][..], &r[3][..]]).collect();
            table(&refs)
        };
        (to(&left), to(&right))
    }

    #[test]
    fn finds_the_same_people_across_spellings_one_to_one() {
        let (left, right) = lists();
        let out = link(&fields(), &left, &right, &Options { threads: 2, ..Options::default() });
        let truth = |p: &Pair| p.left == p.right.to_string().parse::<usize>().unwrap_or(usize::MAX) * 3;
        let correct = out.links.iter().filter(|p| truth(p)).count();
        let precision = correct as f64 / out.links.len().max(1) as f64;
        let recall = correct as f64 / right.len() as f64;
        assert!(precision > 0.95 && recall > 0.9, "precision {precision}, recall {recall}");
        let mut seen = std::collections::HashSet::new();
        assert!(out.links.iter().all(|p| seen.insert(p.left)), "one-to-one");
        assert!(out.candidates < left.len() * right.len() / 4, "blocking compares a fraction of all pairs");
    }

    #[test]
    fn rare_names_weigh_more_than_common_ones() {
        let (left, right) = lists();
        let out = link(&fields(), &left, &right, &Options { threads: 1, ..Options::default() });
        let f = fields();
        let common = prepare(Kind::Name, "Nguyễn Thị Lan");
        let rare = prepare(Kind::Name, "Hồ Ngọc Yến");
        let top = Kind::Name.levels() as u8 - 1;
        let w_common = out.model.field_weight(&f, 0, top, common.as_ref());
        let w_unknown = out.model.field_weight(&f, 0, top, rare.as_ref());
        assert!(w_common.is_finite() && w_unknown.is_finite());
        let mut tf = out.model.tf[0].clone().expect("names have term frequencies");
        tf.insert("lan nguyen thi".into(), 0.2);
        tf.insert("ho ngoc yen".into(), 0.0001);
        let model = Model { tf: vec![Some(tf), None, None, None], ..out.model };
        assert!(model.field_weight(&f, 0, top, rare.as_ref()) > model.field_weight(&f, 0, top, common.as_ref()) + 5.0);
    }

    #[test]
    fn every_link_explains_itself() {
        let (left, right) = lists();
        let out = link(&fields(), &left, &right, &Options::default());
        let p = &out.links[0];
        let ev = explain(&fields(), &out.model, &left, p.left, &right, p.right);
        assert_eq!(ev.len(), 4);
        let line = explain_line(&ev);
        assert!(line.starts_with("name: ") && line.contains("dob: ") && line.contains('+'), "{line}");
        let total: f64 = ev.iter().map(|e| e.weight).sum::<f64>() + out.model.prior();
        assert!((total - p.weight).abs() < 1e-9, "the explanation adds up to the score");
    }

    #[test]
    fn empty_lists_link_nothing() {
        let (left, _) = lists();
        let empty = table(&[]);
        assert!(link(&fields(), &left, &empty, &Options::default()).links.is_empty());
        assert!(link(&fields(), &empty, &left, &Options::default()).links.is_empty());
    }
}
