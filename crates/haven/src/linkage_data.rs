//! Data sets for the linkage benchmarks (`haven bench linkage-data`), deterministic for a seed:
//!
//! - `synthetic`: N people and N records of the same people with typos (an edit in a name, a digit in a date
//!   or postcode, a day and month swapped, a missing value), in the shape of the usual English-language test
//!   sets, for scaling against Splink.
//! - `vietnamese`: a commune register of long-term absentees and a foreign authority's list of returnees, some
//!   of whom are absentees written the way such lists write them: given name first, middle name dropped, no
//!   diacritics or decomposed Unicode, the other tone placement, Huỳnh for Hoàng and Võ for Vũ, only a birth
//!   year, day and month swapped or a year off by one, an old 9-digit ID card against the 12-digit citizen ID,
//!   and the commune under its name before the 2025 merger, with its district.
//!
//! A record's id carries the truth for scoring: a right-hand id is the left-hand id of the same person followed
//! by `~r`; a person only on the right has an id of their own.

use std::io::Write;
use std::path::Path;

use unicode_normalization::UnicodeNormalization;

use crate::demo::{Names, Rng};

fn typo(rng: &mut Rng, s: &str) -> String {
    let mut chars: Vec<char> = s.chars().collect();
    if chars.len() < 2 {
        return s.to_owned();
    }
    let i = rng.below(chars.len() as u64) as usize;
    match rng.below(4) {
        0 => {
            chars.remove(i);
        }
        1 => chars.insert(i, char::from(b'a' + rng.below(26) as u8)),
        2 => chars[i] = char::from(b'a' + rng.below(26) as u8),
        _ => {
            let j = if i + 1 < chars.len() { i + 1 } else { i - 1 };
            chars.swap(i, j);
        }
    }
    chars.into_iter().collect()
}

/// Words from syllables, with a skewed frequency: a few very common, a long tail of rare ones.
struct Vocabulary(Vec<String>);

impl Vocabulary {
    fn new(rng: &mut Rng, size: usize, syllables: (u64, u64)) -> Vocabulary {
        const ONSETS: &[&str] = &[
            "b", "c", "d", "f", "g", "h", "j", "k", "l", "m", "n", "p", "r", "s", "t", "v", "w", "br", "ch", "st",
            "th", "tr",
        ];
        const VOWELS: &[&str] = &["a", "e", "i", "o", "u", "ai", "ea", "ee", "oo", "ou", "y"];
        const CODAS: &[&str] = &["", "", "n", "r", "s", "l", "m", "t", "ck", "nd", "rt"];
        let mut words = std::collections::BTreeSet::new();
        while words.len() < size {
            let n = syllables.0 + rng.below(syllables.1 - syllables.0 + 1);
            let w: String =
                (0..n).map(|_| format!("{}{}{}", rng.pick(ONSETS), rng.pick(VOWELS), rng.pick(CODAS))).collect();
            words.insert(w);
        }
        let mut v: Vec<String> = words.into_iter().collect();
        // Shuffle so frequency does not follow the alphabet.
        for i in (1..v.len()).rev() {
            let j = rng.below(i as u64 + 1) as usize;
            v.swap(i, j);
        }
        Vocabulary(v)
    }

    fn pick(&self, rng: &mut Rng) -> &str {
        // u^3 puts most picks on the first words of the list.
        let u = (rng.below(1_000_000) as f64 / 1_000_000.0).powi(3);
        &self.0[(u * self.0.len() as f64) as usize]
    }
}

fn writer(path: &Path) -> anyhow::Result<csv::Writer<std::fs::File>> {
    Ok(csv::Writer::from_path(path)?)
}

/// N people on each side, every one on both, with typos on the right.
pub fn synthetic(n: usize, dir: &Path, seed: u64) -> anyhow::Result<()> {
    let mut rng = Rng::new(seed);
    let given = Vocabulary::new(&mut rng, 3000, (1, 3));
    let surnames = Vocabulary::new(&mut rng, 20_000, (2, 3));
    let cities = Vocabulary::new(&mut rng, 2000, (2, 3));
    let mut left = writer(&dir.join("synthetic_left.csv"))?;
    let mut right = writer(&dir.join("synthetic_right.csv"))?;
    let header = ["id", "given_name", "surname", "dob", "city", "postcode"];
    left.write_record(header)?;
    right.write_record(header)?;
    for k in 0..n {
        let id = format!("S{k:07}");
        let g = given.pick(&mut rng).to_owned();
        let s = surnames.pick(&mut rng).to_owned();
        let (y, m, d) = (1930 + rng.below(80), 1 + rng.below(12), 1 + rng.below(28));
        let city_index = rng.below(cities.0.len() as u64) as usize;
        let city = cities.0[city_index].clone();
        let postcode = format!("{:04}", 1000 + city_index * 4 + rng.below(4) as usize);
        left.write_record([&id, &g, &s, &format!("{y}-{m:02}-{d:02}"), &city, &postcode])?;
        let field = |rng: &mut Rng, v: &str, typo_per_mille: u64| -> String {
            if rng.chance(30) {
                String::new()
            } else if rng.chance(typo_per_mille) {
                typo(rng, v)
            } else {
                v.to_owned()
            }
        };
        let g2 = field(&mut rng, &g, 200);
        let s2 = field(&mut rng, &s, 200);
        let dob2 = if rng.chance(30) {
            String::new()
        } else if rng.chance(50) {
            format!("{y}-{d:02}-{m:02}")
        } else if rng.chance(80) {
            format!("{}-{m:02}-{d:02}", y + 1)
        } else {
            format!("{y}-{m:02}-{d:02}")
        };
        let city2 = field(&mut rng, &city, 100);
        let post2 = if rng.chance(50) { format!("{:04}", 1000 + rng.below(9000)) } else { postcode.clone() };
        right.write_record([&format!("{id}~r"), &g2, &s2, &dob2, &city2, &post2])?;
    }
    left.flush()?;
    right.flush()?;
    Ok(())
}

/// Communes of a province before and after the 2025 merger: (old name, its district, the new commune).
fn communes(rng: &mut Rng, n: usize) -> Vec<(String, String, String)> {
    const PARTS: &[&str] = &[
        "Hòa", "Điện", "Duy", "Thăng", "Quế", "Tam", "Bình", "Đại", "Tiên", "Trà", "Phước", "Sơn", "Hiệp", "Thạnh",
        "Xuân", "Phú", "An", "Lộc", "Ninh", "Hưng", "Thuận", "Tân", "Quang", "Mỹ", "Long", "Khương", "Nghĩa",
    ];
    let districts =
        ["Điện Bàn", "Duy Xuyên", "Thăng Bình", "Quế Sơn", "Đại Lộc", "Tiên Phước", "Nam Giang", "Phú Ninh"];
    (0..n)
        .map(|i| {
            let old = format!("{} {}", rng.pick(PARTS), rng.pick(PARTS));
            // Three old communes became one new one.
            let new = format!("{} {}", PARTS[(i / 3) % PARTS.len()], PARTS[(i / 3 / PARTS.len() + 7) % PARTS.len()]);
            (old, rng.pick(&districts).to_string(), new)
        })
        .collect()
}

/// The other placement of a tone mark on "oa", "oe", "uy" (Hoà / Hòa), as old keyboards typed it.
fn old_tone_placement(s: &str) -> String {
    let pairs = [
        ("oà", "òa"),
        ("oá", "óa"),
        ("oả", "ỏa"),
        ("oã", "õa"),
        ("oạ", "ọa"),
        ("uý", "úy"),
        ("uỳ", "ùy"),
        ("uỷ", "ủy"),
        ("oè", "òe"),
    ];
    let mut out = s.to_owned();
    for (new, old) in pairs {
        out = out.replace(new, old);
    }
    out
}

/// An absentee register of `n_left` people and a returnee list of `n_right`, of whom `share` per mille are
/// absentees.
pub fn vietnamese(n_left: usize, n_right: usize, share: u64, dir: &Path, seed: u64) -> anyhow::Result<()> {
    let mut rng = Rng::new(seed);
    let names = Names::load();
    let places = communes(&mut rng, 300);
    let mut left = writer(&dir.join("vietnamese_left.csv"))?;
    let mut right = writer(&dir.join("vietnamese_right.csv"))?;
    left.write_record(["id", "full_name", "birth_date", "sex", "commune", "id_number"])?;
    right.write_record(["id", "full_name", "birth_date", "sex", "commune", "id_number"])?;
    struct Person {
        name: String,
        y: u64,
        m: u64,
        d: u64,
        sex: &'static str,
        place: usize,
        cccd: String,
        cmnd: String,
    }
    let person = |rng: &mut Rng| {
        let female = rng.chance(600);
        let sex = if female { haven_domain::person::Sex::Female } else { haven_domain::person::Sex::Male };
        let ethnic = rng.chance(80);
        Person {
            name: names.full_name(rng, sex, ethnic),
            y: 1975 + rng.below(35),
            m: 1 + rng.below(12),
            d: 1 + rng.below(28),
            sex: if female { "Nữ" } else { "Nam" },
            place: rng.below(places.len() as u64) as usize,
            cccd: format!("049{}{:08}", rng.below(4), rng.below(100_000_000)),
            cmnd: format!("20{:07}", rng.below(10_000_000)),
        }
    };
    let mut people = Vec::with_capacity(n_left);
    for k in 0..n_left {
        let p = person(&mut rng);
        // The register: full name with diacritics, full date (a tenth only the year), the new commune.
        let dob = if rng.chance(100) { p.y.to_string() } else { format!("{:02}/{:02}/{}", p.d, p.m, p.y) };
        let id = if rng.chance(700) { p.cccd.clone() } else { String::new() };
        left.write_record([&format!("A{k:07}"), &p.name, &dob, p.sex, &places[p.place].2, &id])?;
        people.push(p);
    }
    let matched = (n_right as u64 * share / 1000) as usize;
    for j in 0..n_right {
        let (id, p) = if j < matched && j < people.len() {
            // Spread the matches over the register.
            let k = (j * 7919) % people.len();
            (format!("A{k:07}~r"), &people[k])
        } else {
            let p = person(&mut rng);
            people.push(p);
            (format!("R{j:07}~r"), people.last().unwrap_or_else(|| unreachable!()))
        };
        let mut name = p.name.clone();
        if rng.chance(300) {
            // Given name first, middle name dropped.
            let parts: Vec<&str> = name.split(' ').collect();
            if parts.len() >= 3 {
                name = format!("{} {}", parts[parts.len() - 1], parts[0]);
            }
        }
        if rng.chance(300) {
            name = name.replace("Hoàng", "Huỳnh").replace("Vũ", "Võ");
        }
        name = match rng.below(10) {
            0..=3 => haven_linkage::normalise::fold(&name).to_uppercase(),
            4 | 5 => name.nfd().collect(),
            6 => old_tone_placement(&name),
            _ => name,
        };
        if rng.chance(100) {
            name = typo(&mut rng, &name);
        }
        let (mut y, mut m, mut d) = (p.y, p.m, p.d);
        if rng.chance(80) {
            y += 1;
        }
        if rng.chance(80) && d <= 12 {
            std::mem::swap(&mut m, &mut d);
        }
        let dob = match rng.below(10) {
            0 | 1 => y.to_string(),
            2 => String::new(),
            _ => format!("{y}-{m:02}-{d:02}"),
        };
        let (old, district, new) = &places[p.place];
        let commune = match rng.below(10) {
            0..=2 => format!("Xã {old}, huyện {district}"),
            3 => String::new(),
            _ => new.clone(),
        };
        let id_number = match rng.below(10) {
            0..=3 => p.cccd.clone(),
            4 | 5 => p.cmnd.clone(),
            _ => String::new(),
        };
        let sex = if rng.chance(50) {
            ""
        } else if p.sex == "Nữ" {
            "F"
        } else {
            "M"
        };
        right.write_record([&id, &name, &dob, sex, &commune, &id_number])?;
    }
    left.flush()?;
    right.flush()?;
    let mut aliases = writer(&dir.join("vietnamese_place_aliases.csv"))?;
    aliases.write_record(["old", "district", "new"])?;
    for (old, district, new) in &places {
        aliases.write_record([old, district, new])?;
    }
    aliases.flush()?;
    let mut readme = std::fs::File::create(dir.join("vietnamese_README.txt"))?;
    writeln!(readme, "{n_left} absentees, {n_right} returnees of whom {matched} are absentees (seed {seed}).")?;
    Ok(())
}
