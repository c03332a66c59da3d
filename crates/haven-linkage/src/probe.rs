//! One new record against the records a store already holds, as the server matches at every register entry.
//! The store indexes each record under its [`index_keys`] (blind-indexed there, so no key can be read on
//! disk), looks up the records sharing a key with the new one, opens only those in memory and scores them with
//! [`score`], under the model the last run over the whole registers trained by EM, or [`starting_model`]
//! before there is one.

use crate::compare::Kind;
use crate::link::{explain, levels_of, Evidence, Field, Model, Table};
use crate::normalise::{document_number, name_tokens, parse_date, LooseDate};

/// Most name parts used for keys: names longer than this are rare and their first parts carry them.
const MAX_TOKENS: usize = 6;

/// The keys a person is indexed under: the whole name in any order; every two name parts with the birth year
/// (a dropped middle name or a misspelt part leaves a key standing); the birth date, also with day and month
/// swapped; and the ID number. Without a birth year, pairs of name parts are too common to be keys.
pub fn index_keys(name: &str, birth: Option<&str>, id_number: Option<&str>) -> Vec<String> {
    let mut keys = Vec::new();
    let mut tokens = name_tokens(name);
    tokens.truncate(MAX_TOKENS);
    tokens.sort();
    tokens.dedup();
    if !tokens.is_empty() {
        keys.push(format!("n|{}", tokens.join(" ")));
    }
    let date = birth.and_then(parse_date);
    if let Some(d) = date {
        for i in 0..tokens.len() {
            for j in i + 1..tokens.len() {
                keys.push(format!("p|{} {}|{}", tokens[i], tokens[j], d.year));
            }
        }
        if let (Some(m), Some(day)) = (d.month, d.day) {
            keys.push(format!("d|{:04}-{m:02}-{day:02}", d.year));
            if m != day && day <= 12 {
                keys.push(format!("d|{:04}-{day:02}-{m:02}", d.year));
            }
        }
    }
    if let Some(n) = id_number.map(document_number).filter(|n| n.len() >= 6) {
        keys.push(format!("i|{n}"));
    }
    keys
}

/// The keys a name search finds a person under, beside [`index_keys`] (whose whole-name key and pairs of parts
/// with the birth year it also reads): the surname with the given name (the first and last parts, kept in any
/// order) so that a dropped or misspelt middle name leaves a key standing without a year. Each of the person's
/// other names gives its whole-name key, its pairs with the year and this key. Without a second part a name is
/// too common to be a key.
pub fn search_keys(names: &[&str], birth: Option<&str>) -> Vec<String> {
    let year = birth.and_then(parse_date).map(|d| d.year);
    let mut keys = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let mut tokens = name_tokens(name);
        tokens.truncate(MAX_TOKENS);
        if tokens.len() < 2 {
            continue;
        }
        let (first, last) = (tokens[0].clone(), tokens[tokens.len() - 1].clone());
        tokens.sort();
        tokens.dedup();
        if i > 0 {
            // The primary name's are among [`index_keys`].
            keys.push(format!("n|{}", tokens.join(" ")));
            if let Some(y) = year {
                for a in 0..tokens.len() {
                    for b in a + 1..tokens.len() {
                        keys.push(format!("p|{} {}|{y}", tokens[a], tokens[b]));
                    }
                }
            }
        }
        let mut pair = [first, last];
        pair.sort();
        keys.push(format!("g|{} {}", pair[0], pair[1]));
    }
    keys.sort();
    keys.dedup();
    keys
}

/// A name search as typed: the name's parts and, when one is given, a birth year or a birth date ("Ho Thi Mai
/// 1998", "MAI HO THI 12/03/1998"). `None` when fewer than two name parts remain: one part alone finds too
/// many people to be a search.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NameQuery {
    /// The name as typed, without the date.
    pub name: String,
    pub birth: Option<LooseDate>,
}

impl NameQuery {
    pub fn parse(typed: &str) -> Option<NameQuery> {
        let mut name = Vec::new();
        let mut birth = None;
        for word in typed.split_whitespace() {
            match parse_date(word) {
                Some(d) if word.chars().all(|c| c.is_ascii_digit() || "/-.".contains(c)) && birth.is_none() => {
                    birth = Some(d);
                }
                _ => name.push(word),
            }
        }
        let name = name.join(" ");
        (name_tokens(&name).len() >= 2).then_some(NameQuery { name, birth })
    }

    /// The birth as the comparison reads it (`yyyy`, or `yyyy-mm-dd`).
    pub fn birth_text(&self) -> String {
        match self.birth {
            Some(LooseDate { year, month: Some(m), day: Some(d) }) => format!("{year:04}-{m:02}-{d:02}"),
            Some(d) => format!("{:04}", d.year),
            None => String::new(),
        }
    }

    /// The keys to look the query up under: the whole name in any order, and every two parts: with the year when
    /// one is given, else as surname and given name.
    pub fn keys(&self) -> Vec<String> {
        let mut tokens = name_tokens(&self.name);
        tokens.truncate(MAX_TOKENS);
        tokens.sort();
        tokens.dedup();
        let whole = tokens.join(" ");
        let mut keys = vec![format!("n|{whole}")];
        let year = self.birth.map(|d| d.year);
        for i in 0..tokens.len() {
            for j in i + 1..tokens.len() {
                // With a year, its pairs stand for a dropped or misspelt part, far more selectively than a
                // surname and given name alone.
                match year {
                    Some(y) => keys.push(format!("p|{} {}|{y}", tokens[i], tokens[j])),
                    None => keys.push(format!("g|{} {}", tokens[i], tokens[j])),
                }
            }
        }
        keys
    }
}

/// Starting values of m and u for each kind of field, used before EM has had a register to learn from. u is
/// what two people taken at random from a province's registers share (a tenth of a percent of pairs share a
/// full name, about one in sixty a birth year); m what records of one person share after the usual errors.
fn starting_levels(kind: Kind) -> (Vec<f64>, Vec<f64>) {
    let (m, u): (&[f64], &[f64]) = match kind {
        Kind::Name => (&[0.02, 0.05, 0.13, 0.30, 0.50], &[0.975, 0.023, 0.0012, 0.0005, 0.0003]),
        Kind::Date => (&[0.02, 0.08, 0.10, 0.05, 0.75], &[0.955, 0.0334, 0.0115, 0.00005, 0.0001]),
        Kind::Sex => (&[0.03, 0.97], &[0.5, 0.5]),
        Kind::IdNumber => (&[0.05, 0.10, 0.85], &[0.99998, 0.00001, 0.00001]),
        Kind::Place => (&[0.20, 0.10, 0.70], &[0.95, 0.02, 0.03]),
        Kind::Text => (&[0.30, 0.20, 0.50], &[0.90, 0.05, 0.05]),
        Kind::Exact => (&[0.10, 0.90], &[0.90, 0.10]),
    };
    (m.to_vec(), u.to_vec())
}

/// A model with the starting m and u of each field and a prior for one new record against `records` held.
pub fn starting_model(fields: &[Field], records: usize) -> Model {
    let (m, u) = fields.iter().map(|f| starting_levels(f.kind)).unzip();
    Model { lambda: prior(records), m, u, tf: Vec::new() }
}

/// The prior for one new record against `records` held: at most one of them is the same person.
pub fn prior(records: usize) -> f64 {
    (1.0 / records.max(2) as f64).clamp(1e-9, 0.5)
}

/// A record of the pool scored against the probe.
#[derive(Clone, Debug)]
pub struct Scored {
    /// Row in the pool.
    pub row: usize,
    pub weight: f64,
    pub probability: f64,
    pub evidence: Vec<Evidence>,
}

/// Score the first record of `probe` against every record of `pool`; those at or above `threshold`, most
/// probable first.
pub fn score(fields: &[Field], model: &Model, probe: &Table, pool: &Table, threshold: f64) -> Vec<Scored> {
    let mut out = Vec::new();
    if probe.is_empty() {
        return out;
    }
    let mut levels = Vec::with_capacity(fields.len());
    for r in 0..pool.len() {
        levels.clear();
        levels_of(fields, probe, 0, pool, r, &mut levels);
        let (weight, probability) = model.score(fields, &levels, probe, 0);
        if probability >= threshold {
            out.push(Scored { row: r, weight, probability, evidence: explain(fields, model, probe, 0, pool, r) });
        }
    }
    out.sort_by(|a, b| b.weight.total_cmp(&a.weight).then(a.row.cmp(&b.row)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields() -> Vec<Field> {
        [("name", Kind::Name), ("dob", Kind::Date), ("sex", Kind::Sex), ("idnum", Kind::IdNumber)]
            .into_iter()
            .map(|(l, k)| Field { label: l.into(), kind: k })
            .collect()
    }

    fn table(rows: &[[&str; 4]]) -> Table {
        let raw: Vec<Vec<String>> = (0..4).map(|f| rows.iter().map(|r| r[f].to_owned()).collect()).collect();
        Table::prepare(&fields(), (0..rows.len()).map(|i| i.to_string()).collect(), &raw)
    }

    #[test]
    fn keys_survive_order_diacritics_and_a_dropped_middle_name() {
        let a = index_keys("Nguyễn Thị Hoà", Some("05/03/1998"), None);
        let b = index_keys("HOA NGUYEN", Some("1998-03-05"), None);
        assert!(a.iter().any(|k| b.contains(k)), "{a:?} / {b:?}");
        // Day and month swapped by a list from abroad.
        let c = index_keys("Trần Văn Nam", Some("03/05/1998"), None);
        let d = index_keys("Trần Văn Nam", Some("05/03/1998"), None);
        assert!(c.contains(&"d|1998-05-03".to_owned()) && d.contains(&"d|1998-05-03".to_owned()));
        // Regional variants of one surname.
        assert_eq!(index_keys("Huỳnh Văn Bé", None, None), index_keys("Hoàng Văn Bé", None, None));
        assert!(index_keys("Lê Văn Tám", None, Some("049 098 001 234")).contains(&"i|049098001234".to_owned()));
        // No year: no pairs of parts (too common to be keys).
        assert_eq!(index_keys("Lê Văn Tám", None, None), vec!["n|le tam van".to_owned()]);
    }

    #[test]
    fn a_name_search_finds_the_keys_a_person_is_stored_under() {
        let stored: Vec<String> = index_keys("Hồ Thị Mai", Some("1998-03-12"), None)
            .into_iter()
            .chain(search_keys(&["Hồ Thị Mai"], Some("1998-03-12")))
            .collect();
        let shares = |typed: &str| {
            let q = NameQuery::parse(typed).expect("a name");
            q.keys().iter().any(|k| stored.contains(k))
        };
        // Any order, with or without diacritics, in capitals, with the year or the date.
        for typed in ["Ho Thi Mai 1998", "MAI HO THI", "hồ thị mai", "Mai Ho", "HO MAI 12/03/1998", "Hồ Thi Mây 1998"]
        {
            assert!(shares(typed), "{typed}");
        }
        // The year found only with two parts that agree: another family's Mai is not found by "Thi Mai".
        assert!(!shares("Lê Thị Lan 1998"));
        // One part alone is no search; a date alone neither.
        assert_eq!(NameQuery::parse("Mai"), None);
        assert_eq!(NameQuery::parse("Mai 1998"), None);
        let q = NameQuery::parse("MAI HO THI 12/03/1998").expect("a name");
        assert_eq!((q.name.as_str(), q.birth_text().as_str()), ("MAI HO THI", "1998-03-12"));
        // Other names are found too.
        let alias = search_keys(&["Hồ Thị Mai", "Ly Mai"], None);
        assert!(NameQuery::parse("Ly Mai").expect("a name").keys().iter().any(|k| alias.contains(k)));
        // Regional variants of a surname are one key.
        assert_eq!(search_keys(&["Huỳnh Văn Bé"], None), search_keys(&["Hoàng Văn Bé"], None));
    }

    #[test]
    fn the_same_person_spelt_otherwise_scores_high_and_a_namesake_low() {
        let f = fields();
        let probe = table(&[["Hoa Thi Nguyen", "5/3/1998", "female", ""]]);
        let pool = table(&[
            ["Nguyễn Thị Hoà", "05/03/1998", "female", ""],
            ["Nguyễn Thị Hoà", "1987", "female", ""],
            ["Trần Văn Nam", "05/03/1998", "male", ""],
        ]);
        let model = starting_model(&f, 10_000);
        let found = score(&f, &model, &probe, &pool, 0.5);
        assert_eq!(found.iter().map(|s| s.row).collect::<Vec<_>>(), vec![0], "{found:?}");
        assert!(found[0].probability > 0.99);
        assert_eq!(found[0].evidence.len(), 4);
        assert_eq!(found[0].evidence[3].level, None);
        let all = score(&f, &model, &probe, &pool, 0.0);
        assert_eq!(all.len(), 3);
        assert!(all[1].probability < 0.5 && all[2].probability < 0.01, "{all:?}");
    }

    #[test]
    fn a_saved_model_reads_back_without_its_term_frequencies() {
        let mut model = starting_model(&fields(), 100);
        model.tf = vec![Some([("nguyen".to_owned(), 0.3)].into_iter().collect()), None, None, None];
        let text = serde_json::to_string(&model).expect("saved");
        assert!(!text.contains("nguyen"), "a saved model must not hold names");
        let back: Model = serde_json::from_str(&text).expect("read back");
        assert_eq!(back.m, model.m);
        assert!(back.tf.is_empty());
        // Scoring without term frequencies still works.
        let f = fields();
        let t = table(&[["Nguyễn Văn A", "1990", "male", ""]]);
        assert_eq!(score(&f, &back, &t, &t, 0.5).len(), 1);
    }
}
