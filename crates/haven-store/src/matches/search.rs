//! Finding a person by name. Every person is stored under blind keys of their name (in any order, without
//! diacritics, regional surname variants as one), with the birth year, and of each other name they are known
//! by ([`haven_linkage::probe::search_keys`]); each key row carries the agency that holds the record. A
//! search looks up the keys of what was typed among the records of the searcher's agency and those it reaches
//! otherwise, opens at most [`POOL`] of them in memory and ranks them with the linkage comparison. Nothing of a
//! name is stored in plaintext, and a search never touches another agency's keys.

use haven_linkage::compare::Kind;
use haven_linkage::link::{Field, Table};
use haven_linkage::probe::{self, NameQuery};

use super::{blind, open_people, open_sharing, stored_keys, write_keys, Opened, KEYS_VERSION};
use crate::crypto::Keyring;
use crate::persons::{PersonRow, KIND};
use crate::{Actor, Command, Entry, Store};

/// Most records a search opens: those sharing the most keys with what was typed.
pub const POOL: usize = 40;

/// A person a search found, best first.
#[derive(Clone, Debug, PartialEq)]
pub struct Found {
    /// The record (never one merged away).
    pub row: PersonRow,
    /// The comparison's weight of evidence (higher is closer).
    pub weight: f64,
    /// How the name agreed (the comparison's level, 0-4) and the birth date (`None` when either is unknown).
    pub name_level: u8,
    pub birth_level: Option<u8>,
}

fn search_fields() -> Vec<Field> {
    vec![Field { label: "name".into(), kind: Kind::Name }, Field { label: "dob".into(), kind: Kind::Date }]
}

/// Rank the opened people against a query: each by the closest of their names; those whose every name
/// differs are dropped.
fn rank(q: &NameQuery, people: &[Opened]) -> Vec<Found> {
    let f = search_fields();
    let probe_t = Table::prepare(&f, vec![String::new()], &[vec![q.name.clone()], vec![q.birth_text()]]);
    // One row per name a person is known by.
    let mut owners = Vec::new();
    let (mut names, mut births) = (Vec::new(), Vec::new());
    for (i, p) in people.iter().enumerate() {
        for name in std::iter::once(p.values[0].as_str()).chain(p.others.lines()) {
            owners.push(i);
            names.push(name.to_owned());
            births.push(p.values[1].clone());
        }
    }
    let pool_t = Table::prepare(&f, owners.iter().map(|i| people[*i].id.clone()).collect(), &[names, births]);
    let model = probe::starting_model(&f, people.len().max(2));
    let mut best: Vec<Option<Found>> = vec![None; people.len()];
    for s in probe::score(&f, &model, &probe_t, &pool_t, 0.0) {
        let name_level = s.evidence[0].level.unwrap_or(0);
        if name_level == 0 {
            continue;
        }
        let slot = &mut best[owners[s.row]];
        if slot.as_ref().is_none_or(|b| b.weight < s.weight) {
            let p = &people[owners[s.row]];
            *slot = Some(Found {
                row: PersonRow {
                    id: p.id.clone(),
                    owner_agency_id: p.agency.clone(),
                    case_code: p.case_code.clone(),
                    commune_code: Some(p.values[4].clone()).filter(|c| !c.is_empty()),
                    created_at: p.created_at,
                    merged_into: None,
                },
                weight: s.weight,
                name_level,
                birth_level: s.evidence[1].level,
            });
        }
    }
    let mut found: Vec<Found> = best.into_iter().flatten().collect();
    found.sort_by(|a, b| b.weight.total_cmp(&a.weight).then_with(|| b.row.id.cmp(&a.row.id)));
    found
}

impl Store {
    /// The people an agency's user reaches without holding their records: by a live grant (to the agency or
    /// the user), a case handed over to the agency, or the user's live break-the-glass. A superset: access is
    /// decided again for what is shown.
    pub async fn persons_reachable(&self, agency_id: &str, user_id: &str, now: i64) -> anyhow::Result<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT g.record_id FROM grants g WHERE g.record_kind = $1 AND g.revoked_at IS NULL AND g.expires_at > $2 \
             AND (g.grantee_agency_id = $3 OR g.grantee_user_id = $4) \
             UNION SELECT v.person_id FROM victim_cases v JOIN persons p ON p.id = v.person_id \
             WHERE v.owner_agency_id = $3 AND p.owner_agency_id <> $3 \
             UNION SELECT b.record_id FROM break_glass b WHERE b.record_kind = $1 AND b.user_id = $4 AND b.expires_at > $2",
        )
        .bind(KIND)
        .bind(now)
        .bind(agency_id)
        .bind(user_id)
        .fetch_all(self.db.pool())
        .await?)
    }

    /// The people a typed name (and birth year or date) may be, among the records `agency_id` holds and the
    /// records in `also` (those its user reaches by a grant, a handover or break-the-glass), best first. The
    /// caller checks access again on what it shows.
    pub async fn find_by_name(&self, q: &NameQuery, agency_id: &str, also: &[String]) -> anyhow::Result<Vec<Found>> {
        let keys = blind(&self.keys, q.keys());
        if also.is_empty() {
            // One statement: no snapshot needed.
            let mut conn = self.db.pool().acquire().await?;
            let people = open_sharing(&mut conn, &self.keys, &keys, Some(agency_id), None, POOL).await?;
            return Ok(rank(q, &people));
        }
        let marks = |from: usize| (0..keys.len()).map(|i| format!("${}", i + from)).collect::<Vec<_>>().join(", ");
        let mut tx = self.db.begin_snapshot().await?;
        let mut people = open_sharing(&mut tx, &self.keys, &keys, Some(agency_id), None, POOL).await?;
        let mut ids = Vec::new();
        for chunk in also.chunks(200) {
            let sql = format!(
                "SELECT DISTINCT person_id FROM match_keys WHERE key IN ({}) AND person_id IN ({})",
                marks(1),
                (0..chunk.len()).map(|i| format!("${}", i + 1 + keys.len())).collect::<Vec<_>>().join(", ")
            );
            let mut query = sqlx::query_scalar::<_, String>(&sql);
            for k in keys.iter().chain(chunk) {
                query = query.bind(k);
            }
            for id in query.fetch_all(&mut *tx).await? {
                if !ids.contains(&id) && !people.iter().any(|p| p.id == id) {
                    ids.push(id);
                }
            }
        }
        people.extend(open_people(&mut tx, &self.keys, &ids).await?);
        tx.commit().await?;
        Ok(rank(q, &people))
    }
}

/// Index the people stored under an older version of the keys (or none: records from before name search),
/// in batches, and give linked records their group's id. Runs when the store opens; a no-op once done.
pub async fn index_pending(store: &Store) -> anyhow::Result<usize> {
    let mut done = 0;
    loop {
        // In no order: any 500 of them, found through the index on keys_version (ordered by id, a
        // database planning for any version would walk every person to find there are none left).
        let ids: Vec<String> = sqlx::query_scalar("SELECT id FROM persons WHERE keys_version < $1 LIMIT 500")
            .bind(KEYS_VERSION)
            .fetch_all(store.db.pool())
            .await?;
        if ids.is_empty() {
            return Ok(done);
        }
        let mut cmd = store.command(&Actor::system("index")).await?;
        let people = open_people(&mut cmd.tx, &store.keys, &ids).await?;
        for p in &people {
            write_keys(&mut cmd, &p.id, &stored_keys(&store.keys, p)).await?;
            super::links::rejoin(&mut cmd, &p.id).await?;
        }
        // Merged-away records are not opened: they are not searched, and need no keys.
        for id in ids.iter().filter(|id| !people.iter().any(|p| &p.id == *id)) {
            sqlx::query("DELETE FROM match_keys WHERE person_id = $1").bind(id).execute(&mut *cmd.tx).await?;
            sqlx::query("UPDATE persons SET keys_version = $1 WHERE id = $2")
                .bind(KEYS_VERSION)
                .bind(id)
                .execute(&mut *cmd.tx)
                .await?;
        }
        done += ids.len();
        cmd.audit(
            Entry::new("persons.match_index", KIND, "").purpose(&format!("matching:{}", people.len())).fields(&[
                "full_name",
                "birth_date",
                "id_number",
                "other_names",
            ]),
        )
        .await?;
        cmd.commit().await?;
    }
}

/// Store a new or corrected person under their keys (the command's entry for the person covers it).
pub async fn index_new(cmd: &mut Command, keys: &Keyring, person_id: &str) -> anyhow::Result<()> {
    let people = open_people(&mut cmd.tx, keys, &[person_id.to_owned()]).await?;
    if let Some(p) = people.first() {
        write_keys(cmd, &p.id, &stored_keys(keys, p)).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(id: &str, name: &str, birth: &str, others: &str) -> Opened {
        Opened {
            id: id.into(),
            agency: "a".into(),
            values: [name.into(), birth.into(), "f".into(), String::new(), String::new()],
            others: others.into(),
            case_code: format!("HS-{id}"),
            created_at: 0,
        }
    }

    #[test]
    fn the_closest_name_and_birth_rank_first_and_unrelated_names_drop_out() {
        let people = [
            person("1", "Hồ Thị Mai", "1975", ""),
            person("2", "Hồ Thị Mai", "1998-03-12", ""),
            person("3", "Nguyễn Văn Nam", "1998", ""),
            person("4", "Lò Thị Xuân", "1998-03-12", "Hồ Thị Mai"),
        ];
        let q = NameQuery::parse("MAI HO THI 1998").expect("a name");
        let found = rank(&q, &people);
        let order: Vec<&str> = found.iter().map(|f| f.row.id.as_str()).collect();
        // The same name with the year first (by the record's own name or another name), then the namesake.
        assert_eq!(order.len(), 3, "{order:?}");
        assert!(order[..2].contains(&"2") && order[..2].contains(&"4"), "{order:?}");
        assert_eq!(order[2], "1");
        assert!(found.iter().all(|f| f.name_level >= 3));
    }
}
