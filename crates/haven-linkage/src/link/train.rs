//! Training the model without labels: u from random pairs, m and the share of matches by EM over the
//! candidate pairs, and term frequencies for exact agreements on common values.

use std::collections::HashMap;

use super::*;

/// A small deterministic generator for sampling (xorshift64*): runs are repeatable.
pub(super) struct Rng(pub(super) u64);

impl Rng {
    pub(super) fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as usize % n.max(1)
    }
}

/// Level counts over `n` random pairs drawn with `seed`.
pub(super) fn count_random_levels(fields: &[Field], left: &Table, right: &Table, n: usize, seed: u64) -> Vec<Vec<f64>> {
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
pub(super) fn estimate_u(
    fields: &[Field],
    left: &Table,
    right: &Table,
    samples: usize,
    threads: usize,
) -> Vec<Vec<f64>> {
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
pub(super) fn train(
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
pub(super) fn default_m(fields: &[Field]) -> Vec<Vec<f64>> {
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
pub(super) fn estimate_lambda(
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
pub(super) fn estimate_m(
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
pub(super) fn term_frequencies(fields: &[Field], left: &Table, right: &Table) -> Vec<Option<HashMap<String, f64>>> {
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
