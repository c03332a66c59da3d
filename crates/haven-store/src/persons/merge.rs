//! Merging two records of one person in an agency: everything the merged record carries moves to the
//! survivor, which keeps the trail.

use haven_domain::time::Millis;
use serde::Serialize;

use crate::crypto::Keyring;
use crate::{new_id, Command, Entry, Store};

use super::*;

/// What came of a merge.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Merge {
    Done,
    /// One of the records was merged away meanwhile, or they are the same record.
    Gone,
    /// Both records are on one case in one role and the one to merge away carries custody dates or a
    /// sentence: settle that on the case first, so nothing is lost.
    CustodyOnBoth,
    /// Records of another agency (a victim case, a report, a case) name the record to merge away: that agency
    /// decides about its own records.
    OtherAgencies,
}

/// Fold `merged` into `survivor`, two records of one person in `agency_id`: every report, case, victim case,
/// consent, relative and attachment of the merged record moves to the survivor, the merged record's names join
/// the survivor's other names, and the merged record stays, marked, as the trail.
pub async fn merge(
    cmd: &mut Command,
    keys: &Keyring,
    agency_id: &str,
    survivor: &str,
    merged: &str,
    reason: &str,
) -> anyhow::Result<Merge> {
    if survivor == merged {
        return Ok(Merge::Gone);
    }
    // Take both rows first: two merges crossing each other (A into B, B into A) cannot both pass.
    let locked = sqlx::query("UPDATE persons SET updated_at = $1 WHERE id IN ($2, $3) AND merged_into IS NULL")
        .bind(cmd.at)
        .bind(survivor)
        .bind(merged)
        .execute(&mut *cmd.tx)
        .await?
        .rows_affected();
    if locked != 2 {
        return Ok(Merge::Gone);
    }
    let custody: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM case_persons m WHERE m.person_id = $1 AND (m.arrested_on IS NOT NULL \
         OR m.detained_on IS NOT NULL OR m.released_on IS NOT NULL OR m.sentence IS NOT NULL) AND EXISTS \
         (SELECT 1 FROM case_persons s WHERE s.person_id = $2 AND s.case_id = m.case_id AND s.role = m.role)",
    )
    .bind(merged)
    .bind(survivor)
    .fetch_one(&mut *cmd.tx)
    .await?;
    if custody > 0 {
        return Ok(Merge::CustodyOnBoth);
    }
    let foreign: i64 = sqlx::query_scalar(
        "SELECT (SELECT COUNT(*) FROM victim_cases WHERE person_id = $1 AND owner_agency_id <> $2) \
         + (SELECT COUNT(*) FROM report_persons rp JOIN reports r ON r.id = rp.report_id \
            WHERE rp.person_id = $1 AND r.owner_agency_id <> $2) \
         + (SELECT COUNT(*) FROM case_persons cp JOIN criminal_cases c ON c.id = cp.case_id \
            WHERE cp.person_id = $1 AND c.owner_agency_id <> $2) \
         + (SELECT COUNT(*) FROM absentees WHERE person_id = $1 AND owner_agency_id <> $2) \
         + (SELECT COUNT(*) FROM returnees WHERE person_id = $1 AND owner_agency_id <> $2)",
    )
    .bind(merged)
    .bind(agency_id)
    .fetch_one(&mut *cmd.tx)
    .await?;
    if foreign > 0 {
        return Ok(Merge::OtherAgencies);
    }
    sqlx::query("UPDATE persons SET merged_into = $1 WHERE id = $2")
        .bind(survivor)
        .bind(merged)
        .execute(&mut *cmd.tx)
        .await?;
    let mut moved = Vec::new();
    // A link the survivor already has (same report or case, same role) is not doubled: the merged record's
    // copy is dropped and the survivor's kept.
    sqlx::query(
        "DELETE FROM report_persons WHERE person_id = $1 AND EXISTS (SELECT 1 FROM report_persons s \
         WHERE s.person_id = $2 AND s.report_id = report_persons.report_id AND s.role = report_persons.role)",
    )
    .bind(merged)
    .bind(survivor)
    .execute(&mut *cmd.tx)
    .await?;
    sqlx::query(
        "DELETE FROM case_persons WHERE person_id = $1 AND EXISTS (SELECT 1 FROM case_persons s \
         WHERE s.person_id = $2 AND s.case_id = case_persons.case_id AND s.role = case_persons.role)",
    )
    .bind(merged)
    .bind(survivor)
    .execute(&mut *cmd.tx)
    .await?;
    for (table, label) in [
        ("report_persons", "reports"),
        ("case_persons", "cases"),
        ("victim_cases", "victim_cases"),
        ("consents", "consents"),
        ("person_relatives", "relatives"),
        ("person_attachments", "attachments"),
        ("absentees", "absentees"),
        ("returnees", "returnees"),
        ("cooperation_requests", "cooperation"),
    ] {
        let n = sqlx::query(&format!("UPDATE {table} SET person_id = $1 WHERE person_id = $2"))
            .bind(survivor)
            .bind(merged)
            .execute(&mut *cmd.tx)
            .await?
            .rows_affected();
        moved.push(format!("{label}={n}"));
    }
    // The merged record is no longer found or matched on its own: the survivor is, with its pairs and links.
    sqlx::query("DELETE FROM match_keys WHERE person_id = $1").bind(merged).execute(&mut *cmd.tx).await?;
    let (pairs, links) = crate::matches::move_pairs(cmd, survivor, merged).await?;
    moved.push(format!("match_pairs={pairs}"));
    moved.push(format!("same_person_links={links}"));
    sqlx::query("UPDATE persons SET one_person_id = NULL WHERE id = $1").bind(merged).execute(&mut *cmd.tx).await?;
    crate::matches::rejoin(cmd, survivor).await?;
    // The names the merged record was known by become other names of the survivor.
    let (Some(keep), Some(gone)) = (open_identity(cmd, keys, survivor).await?, open_identity(cmd, keys, merged).await?)
    else {
        anyhow::bail!("merging records that vanished");
    };
    let mut names = keep.other_names.clone();
    for n in std::iter::once(&gone.full_name).chain(gone.other_names.iter()) {
        // As many as a correction accepts, so the record stays correctable.
        if *n != keep.full_name && !names.contains(n) && names.len() < haven_domain::person::MAX_OTHER_NAMES {
            names.push(n.clone());
        }
    }
    if names != keep.other_names {
        sqlx::query("UPDATE persons SET other_names = $1, updated_at = $2 WHERE id = $3")
            .bind(join_names(&names).map(|n| keys.seal(TABLE, "other_names", survivor, &n)))
            .bind(cmd.at)
            .bind(survivor)
            .execute(&mut *cmd.tx)
            .await?;
    }
    crate::matches::search::index_new(cmd, keys, survivor).await?;
    let id = new_id();
    sqlx::query(
        "INSERT INTO person_merges (id, survivor_id, merged_id, reason, moved, merged_by, merged_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&id)
    .bind(survivor)
    .bind(merged)
    .bind(keys.seal("person_merges", "reason", &id, reason))
    .bind(moved.join(" "))
    .bind(&cmd.actor.user_id)
    .bind(cmd.at)
    .execute(&mut *cmd.tx)
    .await?;
    cmd.persons_changed = true;
    cmd.audit(Entry::new("person.merge", KIND, survivor).fields(&["merged", "reason", "other_names"])).await?;
    cmd.audit(Entry::new("person.merged_into", KIND, merged).fields(&["survivor"])).await?;
    Ok(Merge::Done)
}

/// A merge as the survivor's page lists it.
#[derive(Clone, Debug, Serialize)]
pub struct MergeRow {
    pub merged_id: String,
    pub merged_code: String,
    pub moved: String,
    pub merged_by: String,
    pub merged_at: Millis,
}

impl Store {
    /// Records merged into this one, newest first.
    pub async fn merges_into(&self, survivor: &str) -> anyhow::Result<Vec<MergeRow>> {
        let rows: Vec<(String, String, String, String, i64)> = sqlx::query_as(
            "SELECT m.merged_id, p.case_code, m.moved, m.merged_by, m.merged_at FROM person_merges m \
             JOIN persons p ON p.id = m.merged_id WHERE m.survivor_id = $1 ORDER BY m.merged_at DESC",
        )
        .bind(survivor)
        .fetch_all(self.db.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(merged_id, merged_code, moved, merged_by, merged_at)| MergeRow {
                merged_id,
                merged_code,
                moved,
                merged_by,
                merged_at,
            })
            .collect())
    }
}
