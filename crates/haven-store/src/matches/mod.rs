//! Candidate matches between the people in the registers (absentees, returnees, victims), found by
//! `haven-linkage` inside the server. Each register person is indexed under blind match keys (keyed hashes of
//! name parts with a birth year, of a birth date, of an ID number), so the keys on disk say nothing; a new entry
//! looks up the people sharing a key, opens only those in memory and scores them. A run over the whole
//! registers ([`sweep`]) trains the model by EM and finds what entry-time matching missed. Every pair is kept
//! with its decision: a rejected pair is never proposed again, a confirmed one links or merges the records.

use std::collections::{HashMap, HashSet};

use haven_linkage::compare::Kind;
use haven_linkage::link::{link, Evidence, Field, Model, Options, Table};
use haven_linkage::probe;
use serde::Serialize;

use crate::crypto::{BlindKind, Keyring};
use crate::{new_id, Command, Entry};

mod links;
mod pairs;
mod queue;
pub mod search;

pub(crate) use pairs::move_pairs;
use pairs::ordered;
pub use pairs::{decide, CandidateRow, Decision};

pub(crate) use links::rejoin;
pub use links::{confirm, Confirmed};
pub use queue::queue_import;

pub const CANDIDATE: &str = "match_candidate";
/// Probability from which a pair found at entry is proposed for review: lower than the one-to-one linking
/// threshold, because a person decides each pair and a missed returnee costs more than a rejected pair.
pub const THRESHOLD: f64 = 0.2;
/// Most records opened and scored for one new entry: the ones sharing the most keys.
const MAX_POOL: usize = 200;
/// Most pairs one entry proposes with the records of one agency: its likeliest. Without a bound, a list of
/// near-identical names pairs every row with every earlier one (quadratic in pairs, audit entries and review
/// work: 3,000 rows once wrote 583,529 pairs); with it, an import's pairs grow with its rows. A reviewer who
/// confirms one of a group of duplicates reaches the others through the person they are linked to.
pub const PER_ENTRY: usize = 5;
const MODEL: &str = "registers";

/// The fields compared, in the order explanations list them.
pub const FIELDS: [(&str, Kind); 5] = [
    ("name", Kind::Name),
    ("dob", Kind::Date),
    ("sex", Kind::Sex),
    ("idnum", Kind::IdNumber),
    ("commune", Kind::Exact),
];

pub fn fields() -> Vec<Field> {
    FIELDS.iter().map(|(l, k)| Field { label: (*l).into(), kind: *k }).collect()
}

/// What matching reads of a person, opened in memory only.
struct Opened {
    id: String,
    /// The agency that holds the record.
    agency: String,
    values: [String; 5],
    /// Other names the person is known by, one per line: found by a name search, not compared.
    others: String,
    case_code: String,
    created_at: i64,
}

/// Id, agency, sealed name, birth date, sex, ID number and other names, the plain commune code, case code
/// and creation instant.
type SealedPerson =
    (String, String, Vec<u8>, Option<Vec<u8>>, Vec<u8>, Option<Vec<u8>>, Option<Vec<u8>>, Option<String>, String, i64);

/// The columns of [`SealedPerson`], of `persons p`.
const SEALED_COLS: &str = "p.id, p.owner_agency_id, p.full_name, p.birth_date, p.sex, p.id_number, p.other_names, \
                           p.commune_code, p.case_code, p.created_at";

fn opened(keys: &Keyring, row: SealedPerson) -> anyhow::Result<Opened> {
    let (id, agency, name, birth, sex, idn, others, commune, case_code, created_at) = row;
    Ok(Opened {
        agency,
        values: [
            keys.open("persons", "full_name", &id, &name)?,
            keys.open_opt("persons", "birth_date", &id, birth.as_deref())?.unwrap_or_default(),
            keys.open("persons", "sex", &id, &sex)?,
            keys.open_opt("persons", "id_number", &id, idn.as_deref())?.unwrap_or_default(),
            commune.unwrap_or_default(),
        ],
        others: keys.open_opt("persons", "other_names", &id, others.as_deref())?.unwrap_or_default(),
        case_code,
        created_at,
        id,
    })
}

/// Most rows read of one key. A key shared by more records than this (a common surname and middle name with
/// a birth year, a common whole name, among a million) tells little about who was meant, and reading all of
/// it would cost what the rest of a search costs many times over; its newest rows still count, after every
/// rarer key. A search or a recognition reads at most this many rows of each of its keys (about five).
const KEY_ROWS: usize = 100;

/// Open the records sharing the most of `keys` (blinded), at most `pool` of them, best first: first by how
/// many keys held by at most [`KEY_ROWS`] records they share, then by how many common keys, newest first
/// among equals. Only `agency`'s records when one is given; never `except`, nor records merged away. Each key
/// is read up to [`KEY_ROWS`] plus one rows, so the work is bounded however common a name is; counting and
/// ranking happen in the database, which answers the chosen records only, in one statement.
async fn open_sharing(
    conn: &mut sqlx::AnyConnection,
    keyring: &Keyring,
    keys: &[String],
    agency: Option<&str>,
    except: Option<&str>,
    pool: usize,
) -> anyhow::Result<Vec<Opened>> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let mut n = 0;
    let mut mark = || {
        n += 1;
        format!("${n}")
    };
    let agency_mark = agency.map(|_| mark());
    let filter = agency_mark.map(|m| format!(" AND agency_id = {m}")).unwrap_or_default();
    // Each key's records (newest first) with how many it holds, counted up to one past the cap: a window
    // function would count the same, at twice the cost in SQLite.
    let hits = (0..keys.len())
        .map(|i| {
            let key = mark();
            let cap = KEY_ROWS + 1;
            format!(
                "SELECT person_id, (SELECT COUNT(*) FROM (SELECT 1 AS one FROM match_keys WHERE key = {key}{filter} \
                 LIMIT {cap}) c{i}) AS n FROM (SELECT person_id FROM match_keys WHERE key = {key}{filter} \
                 ORDER BY key DESC, agency_id DESC, person_id DESC LIMIT {cap}) k{i}"
            )
        })
        .collect::<Vec<_>>()
        .join(" UNION ALL ");
    let except_clause = except.map(|_| format!(" WHERE person_id <> {}", mark())).unwrap_or_default();
    let sql = format!(
        "WITH hits AS ({hits}), \
         best AS (SELECT person_id, SUM(CASE WHEN n <= {KEY_ROWS} THEN 1 ELSE 0 END) AS rare, COUNT(*) AS shared \
                  FROM hits{except_clause} GROUP BY person_id ORDER BY rare DESC, shared DESC, person_id DESC \
                  LIMIT {pool}) \
         SELECT {SEALED_COLS} FROM best JOIN persons p ON p.id = best.person_id WHERE p.merged_into IS NULL \
         ORDER BY best.rare DESC, best.shared DESC, p.id DESC"
    );
    let mut q = sqlx::query_as::<_, SealedPerson>(&sql);
    if let Some(a) = agency {
        q = q.bind(a);
    }
    for k in keys {
        q = q.bind(k);
    }
    if let Some(e) = except {
        q = q.bind(e);
    }
    q.fetch_all(&mut *conn).await?.into_iter().map(|r| opened(keyring, r)).collect()
}

/// Open what matching compares, for the given people (merged-away records are skipped), in the order given.
async fn open_people(conn: &mut sqlx::AnyConnection, keys: &Keyring, ids: &[String]) -> anyhow::Result<Vec<Opened>> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(400) {
        let marks = (1..=chunk.len()).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ");
        let sql = format!("SELECT {SEALED_COLS} FROM persons p WHERE p.id IN ({marks}) AND p.merged_into IS NULL");
        let mut q = sqlx::query_as::<_, SealedPerson>(&sql);
        for id in chunk {
            q = q.bind(id);
        }
        let mut rows = q.fetch_all(&mut *conn).await?;
        rows.sort_by_key(|r| chunk.iter().position(|id| *id == r.0));
        for row in rows {
            out.push(opened(keys, row)?);
        }
    }
    Ok(out)
}

fn table(people: &[Opened]) -> Table {
    let raw: Vec<Vec<String>> =
        (0..FIELDS.len()).map(|f| people.iter().map(|p| p.values[f].clone()).collect()).collect();
    Table::prepare(&fields(), people.iter().map(|p| p.id.clone()).collect(), &raw)
}

/// The keys a new entry looks for the same person under (name parts with a birth year, the birth date, the
/// ID number), blind.
fn blind_keys(keys: &Keyring, p: &Opened) -> Vec<String> {
    let [name, birth, _, idn, _] = &p.values;
    let birth = Some(birth.as_str()).filter(|b| !b.is_empty());
    blind(keys, probe::index_keys(name, birth, Some(idn)))
}

/// Every key a person is stored under: [`blind_keys`] and the keys a name search finds them by (with their
/// other names).
fn stored_keys(keys: &Keyring, p: &Opened) -> Vec<String> {
    let [name, birth, _, idn, _] = &p.values;
    let others: Vec<&str> = p.others.lines().collect();
    person_keys(keys, name, &others, Some(birth.as_str()), Some(idn.as_str()))
}

/// The keys of a person's name, other names, birth date (`yyyy-mm-dd` or `yyyy`) and ID number, as stored,
/// blind: one function for a record opened from the table and an identity about to be written, so both give
/// the same keys.
pub(crate) fn person_keys(
    keys: &Keyring,
    name: &str,
    others: &[&str],
    birth: Option<&str>,
    idn: Option<&str>,
) -> Vec<String> {
    let birth = birth.filter(|b| !b.is_empty());
    let names: Vec<&str> = std::iter::once(name).chain(others.iter().copied()).collect();
    let mut all = probe::index_keys(name, birth, idn);
    all.extend(probe::search_keys(&names, birth));
    blind(keys, all)
}

fn blind(keys: &Keyring, plain: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = plain.iter().map(|k| keys.blind(BlindKind::MatchKey, k)).collect();
    out.sort();
    out.dedup();
    out
}

/// An explanation as stored: `label=level:weight` per field, `label=-` without evidence. It names levels,
/// never values.
pub fn encode_evidence(evidence: &[Evidence]) -> String {
    evidence
        .iter()
        .map(|e| match e.level {
            Some(l) => format!("{}={l}:{:.1}", e.label, e.weight),
            None => format!("{}=-", e.label),
        })
        .collect::<Vec<_>>()
        .join(";")
}

/// One field's part in a stored explanation.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Part {
    pub label: String,
    pub level: Option<u8>,
    pub weight: f64,
}

pub fn decode_evidence(s: &str) -> Vec<Part> {
    s.split(';')
        .filter_map(|p| {
            let (label, rest) = p.split_once('=')?;
            let (level, weight) = match rest.split_once(':') {
                Some((l, w)) => (l.parse().ok(), w.parse().unwrap_or(0.0)),
                None => (None, 0.0),
            };
            Some(Part { label: label.to_owned(), level, weight })
        })
        .collect()
}

async fn saved_model(tx: &mut crate::db::Tx) -> anyhow::Result<Option<Model>> {
    let text: Option<String> = sqlx::query_scalar("SELECT model FROM linkage_models WHERE name = $1")
        .bind(MODEL)
        .fetch_optional(&mut **tx)
        .await?;
    Ok(text.and_then(|t| serde_json::from_str::<Model>(&t).ok()).filter(|m| m.m.len() == FIELDS.len()))
}

/// The model matching at entry uses, with the prior for the number of people indexed.
pub(crate) struct Loaded {
    model: Model,
    records: usize,
}

/// The command's model: read (and the indexed people counted) on first use, then kept for the command, its
/// prior following the people the command indexes.
async fn loaded_model(cmd: &mut Command) -> anyhow::Result<&Model> {
    if cmd.matching.is_none() {
        let records: i64 = sqlx::query_scalar("SELECT CAST(COUNT(DISTINCT person_id) AS BIGINT) FROM match_keys")
            .fetch_one(&mut *cmd.tx)
            .await?;
        let records = records as usize;
        let model = saved_model(&mut cmd.tx).await?.unwrap_or_else(|| probe::starting_model(&fields(), records));
        cmd.matching = Some(Loaded { model, records });
    }
    let loaded = cmd.matching.as_mut().expect("loaded above");
    loaded.model.lambda = probe::prior(loaded.records);
    Ok(&loaded.model)
}

/// Index a person under their keys, replacing older keys (after a correction).
pub async fn index_person(cmd: &mut Command, keys: &Keyring, person_id: &str) -> anyhow::Result<()> {
    let people = open_people(&mut cmd.tx, keys, &[person_id.to_owned()]).await?;
    let Some(p) = people.first() else { return Ok(()) };
    write_keys(cmd, &p.id, &stored_keys(keys, p)).await?;
    cmd.audit(Entry::new("person.match_index", crate::persons::KIND, person_id).purpose("matching").fields(&[
        "full_name",
        "birth_date",
        "id_number",
    ]))
    .await
}

/// The version of the keys every person is stored under; a person with an older one is indexed again when
/// the store opens ([`search::index_pending`]).
pub(crate) const KEYS_VERSION: i64 = 1;

/// Replace a person's keys, each written with the agency that holds the record (a name search reads its own
/// agency's keys only), in one statement.
async fn write_keys(cmd: &mut Command, person_id: &str, blind: &[String]) -> anyhow::Result<()> {
    sqlx::query("DELETE FROM match_keys WHERE person_id = $1").bind(person_id).execute(&mut *cmd.tx).await?;
    let agency: Option<String> = sqlx::query_scalar("SELECT owner_agency_id FROM persons WHERE id = $1")
        .bind(person_id)
        .fetch_optional(&mut *cmd.tx)
        .await?;
    if let Some(agency) = agency {
        insert_keys(cmd, person_id, &agency, blind).await?;
    }
    sqlx::query("UPDATE persons SET keys_version = $1 WHERE id = $2")
        .bind(KEYS_VERSION)
        .bind(person_id)
        .execute(&mut *cmd.tx)
        .await?;
    Ok(())
}

/// Insert a person's keys (none yet stored) in one statement.
pub(crate) async fn insert_keys(
    cmd: &mut Command,
    person_id: &str,
    agency: &str,
    blind: &[String],
) -> anyhow::Result<()> {
    if blind.is_empty() {
        return Ok(());
    }
    let rows = (0..blind.len()).map(|i| format!("(${}, $1, $2)", i + 3)).collect::<Vec<_>>().join(", ");
    let sql = format!("INSERT INTO match_keys (key, person_id, agency_id) VALUES {rows} ON CONFLICT DO NOTHING");
    let mut q = sqlx::query(&sql).bind(person_id).bind(agency);
    for k in blind {
        q = q.bind(k);
    }
    q.execute(&mut *cmd.tx).await?;
    Ok(())
}

/// Store a proposed pair unless the pair is known (proposed, decided, or the same record); its id when new.
async fn propose(
    cmd: &mut Command,
    a: &str,
    b: &str,
    probability: f64,
    evidence: &str,
    source: &str,
) -> anyhow::Result<Option<String>> {
    if a == b {
        return Ok(None);
    }
    let (a, b) = ordered(a, b);
    let id = new_id();
    let n = sqlx::query(
        "INSERT INTO match_candidates (id, person_a, person_b, probability_bp, evidence, source, status, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, 'open', $7) ON CONFLICT DO NOTHING",
    )
    .bind(&id)
    .bind(a)
    .bind(b)
    .bind((probability * 10_000.0).round() as i64)
    .bind(evidence)
    .bind(source)
    .bind(cmd.at)
    .execute(&mut *cmd.tx)
    .await?
    .rows_affected();
    if n != 1 {
        return Ok(None);
    }
    cmd.audit(Entry::new("match.propose", CANDIDATE, &id).fields(&["pair", "probability", "evidence"])).await?;
    Ok(Some(id))
}

/// How many records of other agencies a new entry may be told of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signals {
    /// Up to [`SIGNALS_PER_DAY`] for the acting user: the entries of a user.
    PerUser,
    /// The demo loader, which writes a province's history at once.
    Unlimited,
}

/// Most "this person may already be known to another agency" signals one user is given in a day: more than a
/// busy border post enters, too few to test a list of names against the province.
pub const SIGNALS_PER_DAY: i64 = 30;

/// What looking for a new entry across the province found.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Recognised {
    /// Pairs with records of the entry's own agency, offered for linking at once.
    pub mine: usize,
    /// Pairs with records of other agencies: the entry's agency is told only that such a record exists.
    pub elsewhere: usize,
    /// Pairs with other agencies' records not proposed because the user's signals for the day are spent (a
    /// provincial run over the registers finds them later).
    pub withheld: usize,
}

/// Propose at once the people a new or corrected entry may be: those sharing a match key, opened in memory
/// and scored. A pair with another agency's record is a signal to the entry's user, counted against the
/// day's [`SIGNALS_PER_DAY`] and audited.
pub async fn propose_for(
    cmd: &mut Command,
    keys: &Keyring,
    person_id: &str,
    signals: Signals,
) -> anyhow::Result<Recognised> {
    let me = open_people(&mut cmd.tx, keys, &[person_id.to_owned()]).await?;
    let Some(p) = me.first() else { return Ok(Recognised::default()) };
    let blind = blind_keys(keys, p);
    let mut found = Recognised::default();
    let mut opened = 1;
    if !blind.is_empty() {
        let pool = open_sharing(&mut cmd.tx, keys, &blind, None, Some(person_id), MAX_POOL).await?;
        opened += pool.len();
        if !pool.is_empty() {
            let f = fields();
            let model = loaded_model(cmd).await?.clone();
            let (probe_t, pool_t) = (table(&me), table(&pool));
            let mut left = match signals {
                Signals::PerUser => {
                    SIGNALS_PER_DAY - links::signals_since(cmd, cmd.at - haven_domain::time::DAY).await?
                }
                Signals::Unlimited => i64::MAX,
            };
            let mut scored = probe::score(&f, &model, &probe_t, &pool_t, THRESHOLD);
            scored.sort_by(|a, b| b.probability.total_cmp(&a.probability).then_with(|| a.row.cmp(&b.row)));
            // The likeliest few of each agency: duplicates in the entry's own register never crowd out the
            // one record another agency holds.
            let mut per_agency: HashMap<&str, usize> = HashMap::new();
            scored.retain(|s| {
                let n = per_agency.entry(pool[s.row].agency.as_str()).or_default();
                *n += 1;
                *n <= PER_ENTRY
            });
            for s in scored {
                let other = &pool[s.row];
                let evidence = encode_evidence(&s.evidence);
                if other.agency == p.agency {
                    if propose(cmd, person_id, &other.id, s.probability, &evidence, "entry").await?.is_some() {
                        found.mine += 1;
                    }
                } else if left <= 0 {
                    found.withheld += 1;
                } else if let Some(id) = propose(cmd, person_id, &other.id, s.probability, &evidence, "entry").await? {
                    links::signal(cmd, &id).await?;
                    found.elsewhere += 1;
                    left -= 1;
                }
            }
        }
    }
    if found.withheld > 0 {
        cmd.audit(
            Entry::new("match.withheld", crate::persons::KIND, person_id)
                .purpose(&format!("signals:{}", found.withheld)),
        )
        .await?;
    }
    cmd.audit(
        Entry::new("person.match", crate::persons::KIND, person_id).purpose(&format!("matching:{opened}")).fields(&[
            "full_name",
            "birth_date",
            "sex",
            "id_number",
        ]),
    )
    .await?;
    Ok(found)
}

/// What a run over the registers did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct SweepReport {
    pub returnees: usize,
    pub others: usize,
    pub compared: usize,
    pub proposed: usize,
    /// Register people found without match keys (entered before matching existed) and indexed now.
    pub indexed: usize,
}

/// Link every returnee against every absentee and victim one-to-one, train the model by EM on the way (it is
/// then used for matching at entry), and propose the pairs not yet known. Register people entered before
/// matching existed are indexed on the way. Opens the registers in memory
/// only; the audit entry says how many records were opened.
pub async fn sweep(cmd: &mut Command, keys: &Keyring) -> anyhow::Result<SweepReport> {
    let left_ids: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT r.person_id FROM returnees r JOIN persons p ON p.id = r.person_id \
         WHERE p.merged_into IS NULL ORDER BY r.person_id",
    )
    .fetch_all(&mut *cmd.tx)
    .await?;
    let left_set: HashSet<&String> = left_ids.iter().collect();
    let right_ids: Vec<String> = sqlx::query_scalar::<_, String>(
        "SELECT person_id FROM absentees UNION SELECT person_id FROM victim_cases ORDER BY 1",
    )
    .fetch_all(&mut *cmd.tx)
    .await?
    .into_iter()
    .filter(|id| !left_set.contains(id))
    .collect();
    let left = open_people(&mut cmd.tx, keys, &left_ids).await?;
    let right = open_people(&mut cmd.tx, keys, &right_ids).await?;
    let mut report = SweepReport { returnees: left.len(), others: right.len(), ..SweepReport::default() };
    let indexed: HashSet<String> = sqlx::query_scalar("SELECT DISTINCT person_id FROM match_keys")
        .fetch_all(&mut *cmd.tx)
        .await?
        .into_iter()
        .collect();
    for p in left.iter().chain(&right).filter(|p| !indexed.contains(&p.id)) {
        write_keys(cmd, &p.id, &blind_keys(keys, p)).await?;
        report.indexed += 1;
    }
    if !left.is_empty() && !right.is_empty() {
        let f = fields();
        let (lt, rt) = (table(&left), table(&right));
        let linkage = link(&f, &lt, &rt, &Options::default());
        report.compared = linkage.candidates;
        for pair in &linkage.links {
            let evidence = haven_linkage::link::explain(&f, &linkage.model, &lt, pair.left, &rt, pair.right);
            if propose(
                cmd,
                &left[pair.left].id,
                &right[pair.right].id,
                pair.probability,
                &encode_evidence(&evidence),
                "sweep",
            )
            .await?
            .is_some()
            {
                report.proposed += 1;
            }
        }
        let saved = serde_json::to_string(&linkage.model)?;
        sqlx::query("DELETE FROM linkage_models WHERE name = $1").bind(MODEL).execute(&mut *cmd.tx).await?;
        sqlx::query("INSERT INTO linkage_models (name, model, records, trained_at) VALUES ($1, $2, $3, $4)")
            .bind(MODEL)
            .bind(saved)
            .bind((left.len() + right.len()) as i64)
            .bind(cmd.at)
            .execute(&mut *cmd.tx)
            .await?;
    }
    cmd.audit(
        Entry::new("match.sweep", CANDIDATE, MODEL)
            .purpose(&format!("matching:{}", report.returnees + report.others))
            .fields(&["full_name", "birth_date", "sex", "id_number"]),
    )
    .await?;
    Ok(report)
}

#[cfg(test)]
mod tests;
