//! Jaro-Winkler similarity for the comparison loop. Linking calls it millions of times on short folded
//! (ASCII) strings; `strsim` allocates two flag vectors per call and walks UTF-8 from the start for every
//! character, which made it most of a run's time. This version works on bytes with flags on the stack and
//! first checks a cheap upper bound, so pairs that cannot reach the threshold are never compared in full.
//! It returns exactly what `strsim::jaro_winkler` returns (a test checks it); other input goes to `strsim`.

/// Longest string handled on the stack.
const MAX: usize = 64;

/// Jaro-Winkler similarity, as `strsim::jaro_winkler` computes it.
pub fn jaro_winkler(a: &str, b: &str) -> f64 {
    let (x, y) = (a.as_bytes(), b.as_bytes());
    if !a.is_ascii() || !b.is_ascii() || x.len() > MAX || y.len() > MAX {
        return strsim::jaro_winkler(a, b);
    }
    let sim = jaro(x, y);
    if sim > 0.7 {
        let prefix = x.iter().zip(y).take(4).take_while(|(p, q)| p == q).count();
        sim + 0.1 * prefix as f64 * (1.0 - sim)
    } else {
        sim
    }
}

fn jaro(a: &[u8], b: &[u8]) -> f64 {
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let range = (a.len().max(b.len()) / 2).saturating_sub(1);
    let mut a_flags = [false; MAX];
    let mut b_flags = [false; MAX];
    let mut matches = 0usize;
    for (i, x) in a.iter().enumerate() {
        let lo = i.saturating_sub(range);
        let hi = (i + range + 1).min(b.len());
        for j in lo..hi {
            if !b_flags[j] && b[j] == *x {
                a_flags[i] = true;
                b_flags[j] = true;
                matches += 1;
                break;
            }
        }
    }
    if matches == 0 {
        return 0.0;
    }
    let mut transpositions = 0usize;
    let mut j = 0;
    for (i, x) in a.iter().enumerate() {
        if a_flags[i] {
            while !b_flags[j] {
                j += 1;
            }
            if b[j] != *x {
                transpositions += 1;
            }
            j += 1;
        }
    }
    let m = matches as f64;
    (m / a.len() as f64 + m / b.len() as f64 + (m - (transpositions / 2) as f64) / m) / 3.0
}

/// Whether the similarity of `a` and `b` reaches `threshold`. Bounds the Jaro score by the characters the two
/// strings could have in common (a histogram) before computing it.
pub fn at_least(a: &str, b: &str, threshold: f64) -> bool {
    let (x, y) = (a.as_bytes(), b.as_bytes());
    if x.is_empty() || y.is_empty() || !a.is_ascii() || !b.is_ascii() {
        return jaro_winkler(a, b) >= threshold;
    }
    if x.len() > MAX || y.len() > MAX {
        return jaro_winkler(a, b) >= threshold;
    }
    let mut counts = [0u8; 128];
    for c in x {
        counts[*c as usize] += 1;
    }
    let mut common = 0usize;
    for c in y {
        let slot = &mut counts[*c as usize];
        if *slot > 0 {
            *slot -= 1;
            common += 1;
        }
    }
    let m = common as f64;
    let jaro_bound = if common == 0 { 0.0 } else { (m / x.len() as f64 + m / y.len() as f64 + 1.0) / 3.0 };
    // At most four prefix characters, each adding a tenth of what is left.
    let bound = if jaro_bound > 0.7 { jaro_bound + 0.4 * (1.0 - jaro_bound) } else { jaro_bound };
    bound >= threshold && jaro_winkler(a, b) >= threshold
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agrees_with_strsim() {
        let words = [
            "",
            "a",
            "nguyen",
            "nguyne",
            "ngyuen",
            "thi",
            "lan",
            "hoa",
            "hoaa",
            "martha",
            "marhta",
            "dixon",
            "dicksonx",
            "jellyfish",
            "smellyfish",
            "capurso",
            "harrison",
            "von hoist",
            "von host",
            "partridge street",
            "partridgqe street",
            "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrst",
            "nguyễn",
            "hoà",
        ];
        for a in words {
            for b in words {
                let (ours, theirs) = (jaro_winkler(a, b), strsim::jaro_winkler(a, b));
                assert!((ours - theirs).abs() < 1e-12, "{a:?} {b:?}: {ours} against {theirs}");
                for t in [0.5, 0.7, 0.88, 0.9, 0.92, 1.0] {
                    assert_eq!(at_least(a, b, t), theirs >= t, "{a:?} {b:?} at {t}");
                }
            }
        }
    }
}
