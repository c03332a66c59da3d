//! Pairs once proposed: the decisions on them (the same person, merged, or not the same), the rows as read,
//! and how a merge moves them to the surviving record.

use serde::Serialize;

use super::CANDIDATE;
use crate::db::RowExt;
use crate::{Command, Entry, Store};

/// A pair as a merge moves it: id, the two people, status, who decided and when.
type PairState = (String, String, String, String, Option<String>, Option<i64>);

/// After a merge, the merged record's pairs and "same person" links become the survivor's. A pair the
/// survivor already has with the same person stays with the merged record as history, except that a
/// decision on it ("different") settles the survivor's pair if that is still open: the person was judged
/// not to be that other person under either record. Returns (pairs moved, links moved).
pub(crate) async fn move_pairs(cmd: &mut Command, survivor: &str, merged: &str) -> anyhow::Result<(usize, usize)> {
    let mut moved = (0, 0);
    let pairs: Vec<PairState> = sqlx::query_as(
        "SELECT id, person_a, person_b, status, decided_by, decided_at FROM match_candidates \
         WHERE person_a = $1 OR person_b = $1",
    )
    .bind(merged)
    .fetch_all(&mut *cmd.tx)
    .await?;
    for (id, a, b, status, decided_by, decided_at) in pairs {
        let other = if a == merged { b } else { a };
        if other == survivor {
            continue;
        }
        let (na, nb) = ordered(survivor, &other);
        let existing: Option<(String, String)> =
            sqlx::query_as("SELECT id, status FROM match_candidates WHERE person_a = $1 AND person_b = $2")
                .bind(na)
                .bind(nb)
                .fetch_optional(&mut *cmd.tx)
                .await?;
        match existing {
            None => {
                sqlx::query("UPDATE match_candidates SET person_a = $1, person_b = $2 WHERE id = $3")
                    .bind(na)
                    .bind(nb)
                    .bind(&id)
                    .execute(&mut *cmd.tx)
                    .await?;
                moved.0 += 1;
            }
            Some((kept, kept_status)) if kept_status == "open" && status == "different" => {
                sqlx::query("UPDATE match_candidates SET status = $1, decided_by = $2, decided_at = $3 WHERE id = $4")
                    .bind(&status)
                    .bind(decided_by)
                    .bind(decided_at)
                    .bind(&kept)
                    .execute(&mut *cmd.tx)
                    .await?;
            }
            Some(_) => {}
        }
    }
    let links: Vec<(String, String, String)> =
        sqlx::query_as("SELECT id, person_a, person_b FROM person_links WHERE person_a = $1 OR person_b = $1")
            .bind(merged)
            .fetch_all(&mut *cmd.tx)
            .await?;
    for (id, a, b) in links {
        let other = if a == merged { b } else { a };
        if other == survivor {
            continue;
        }
        let (na, nb) = ordered(survivor, &other);
        let n = sqlx::query(
            "UPDATE person_links SET person_a = $1, person_b = $2 WHERE id = $3 AND NOT EXISTS \
             (SELECT 1 FROM person_links l WHERE l.person_a = $1 AND l.person_b = $2)",
        )
        .bind(na)
        .bind(nb)
        .bind(&id)
        .execute(&mut *cmd.tx)
        .await?
        .rows_affected();
        moved.1 += n as usize;
    }
    Ok(moved)
}

/// The two people of a pair in the order the table keeps them.
pub(super) fn ordered<'a>(a: &'a str, b: &'a str) -> (&'a str, &'a str) {
    if a <= b {
        (a, b)
    } else {
        (b, a)
    }
}

/// A reviewer's decision on a pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// The same person: the records stay apart (they may belong to different agencies) and are linked.
    Same,
    /// The same person, and the one record was merged into the other (done by the caller in the command).
    Merged,
    /// Different people: never proposed again.
    Different,
}

impl Decision {
    pub fn code(self) -> &'static str {
        match self {
            Decision::Same => "same",
            Decision::Merged => "merged",
            Decision::Different => "different",
        }
    }
}

/// Decide an open pair; `false` when it was decided meanwhile.
pub async fn decide(cmd: &mut Command, c: &CandidateRow, d: Decision) -> anyhow::Result<bool> {
    let n = sqlx::query(
        "UPDATE match_candidates SET status = $1, decided_by = $2, decided_at = $3 WHERE id = $4 AND status = 'open'",
    )
    .bind(d.code())
    .bind(&cmd.actor.user_id)
    .bind(cmd.at)
    .bind(&c.id)
    .execute(&mut *cmd.tx)
    .await?
    .rows_affected();
    if n != 1 {
        return Ok(false);
    }
    if d != Decision::Different {
        super::links::link(cmd, c).await?;
    }
    cmd.audit(Entry::new(&format!("match.{}", d.code()), CANDIDATE, &c.id).fields(&["decision"])).await?;
    Ok(true)
}

#[derive(Clone, Debug, Serialize)]
pub struct CandidateRow {
    pub id: String,
    pub person_a: String,
    pub person_b: String,
    pub probability: f64,
    pub evidence: String,
    pub source: String,
    pub status: String,
    pub created_at: i64,
    /// For a pair of two agencies' records: who of each side's agency said it is the same person. The pair is
    /// linked when both have.
    pub confirmed_a_by: Option<String>,
    pub confirmed_b_by: Option<String>,
}

impl CandidateRow {
    pub fn other(&self, person_id: &str) -> &str {
        if self.person_a == person_id {
            &self.person_b
        } else {
            &self.person_a
        }
    }
}

const CANDIDATE_COLS: &str = "c.id, c.person_a, c.person_b, c.probability_bp, c.evidence, c.source, c.status, \
                              c.created_at, c.confirmed_a_by, c.confirmed_b_by";

fn candidate_row(r: sqlx::any::AnyRow) -> anyhow::Result<CandidateRow> {
    Ok(CandidateRow {
        id: r.try_get(0)?,
        person_a: r.try_get(1)?,
        person_b: r.try_get(2)?,
        probability: r.try_get::<i64, _>(3)? as f64 / 10_000.0,
        evidence: r.try_get(4)?,
        source: r.try_get(5)?,
        status: r.try_get(6)?,
        created_at: r.try_get(7)?,
        confirmed_a_by: r.try_get(8)?,
        confirmed_b_by: r.try_get(9)?,
    })
}

impl Store {
    pub async fn candidate(&self, id: &str) -> anyhow::Result<Option<CandidateRow>> {
        let r = sqlx::query(&format!("SELECT {CANDIDATE_COLS} FROM match_candidates c WHERE c.id = $1"))
            .bind(id)
            .fetch_optional(self.db.pool())
            .await?;
        r.map(candidate_row).transpose()
    }

    /// Open pairs with a record of the agency on either side, most probable first.
    pub async fn open_candidates_of_agency(&self, agency_id: &str, limit: i64) -> anyhow::Result<Vec<CandidateRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {CANDIDATE_COLS} FROM match_candidates c JOIN persons a ON a.id = c.person_a \
             JOIN persons b ON b.id = c.person_b WHERE c.status = 'open' \
             AND (a.owner_agency_id = $1 OR b.owner_agency_id = $1) \
             AND a.merged_into IS NULL AND b.merged_into IS NULL \
             ORDER BY c.probability_bp DESC, c.id LIMIT $2"
        ))
        .bind(agency_id)
        .bind(limit)
        .fetch_all(self.db.pool())
        .await?;
        rows.into_iter().map(candidate_row).collect()
    }

    /// Every pair a person is in, open or decided.
    pub async fn candidates_of_person(&self, person_id: &str) -> anyhow::Result<Vec<CandidateRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {CANDIDATE_COLS} FROM match_candidates c WHERE c.person_a = $1 OR c.person_b = $1 \
             ORDER BY c.probability_bp DESC, c.id"
        ))
        .bind(person_id)
        .fetch_all(self.db.pool())
        .await?;
        rows.into_iter().map(candidate_row).collect()
    }

    /// The records linked to a person as the same person.
    pub async fn linked_people(&self, person_id: &str) -> anyhow::Result<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT CASE WHEN person_a = $1 THEN person_b ELSE person_a END FROM person_links \
             WHERE person_a = $1 OR person_b = $1 ORDER BY created_at",
        )
        .bind(person_id)
        .fetch_all(self.db.pool())
        .await?)
    }
}
