//! Linking two lists of people: blocking on several keys, Fellegi-Sunter scoring with m estimated by EM
//! (no labels needed) and u from random pairs, term-frequency adjustment of exact agreements, one-to-one
//! assignment, and an explanation for every pair.
//!
//! The cost grows linearly with the number of records: each record is compared only with the records that
//! share one of its blocking keys, and a key shared by too many records (a very common name in one year) is
//! skipped, the other keys still finding its matches.

mod blocking;
mod train;

use blocking::*;
use train::*;

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
mod tests;
