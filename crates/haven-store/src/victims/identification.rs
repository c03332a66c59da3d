//! Identification of a victim case: the officer's proposal, the head's approval or return with a comment,
//! and the reads a head judges on (the sealed reasons and comment, the decisions waiting).

use super::*;

/// Record an identification proposal the domain accepted; it awaits an agency head's approval.
pub async fn propose_identification(
    cmd: &mut Command,
    keys: &Keyring,
    id: &str,
    p: &Identification,
) -> anyhow::Result<()> {
    sqlx::query(
        "UPDATE victim_cases SET proposed_outcome = $1, proposed_on = $2, proposed_by = $3, legal_basis = $4, \
         evidence = $5, certificate_number = $6, reasons = $7, updated_at = $8, returned_comment = NULL, \
         returned_by = NULL, returned_at = NULL WHERE id = $9",
    )
    .bind(p.outcome.code())
    .bind(day(p.decided_on))
    .bind(&cmd.actor.user_id)
    .bind(p.legal_basis.trim())
    .bind(p.evidence.join(" "))
    .bind(p.certificate_number.trim())
    .bind(Some(p.reasons.trim()).filter(|r| !r.is_empty()).map(|r| keys.seal(TABLE, "reasons", id, r)))
    .bind(cmd.at)
    .bind(id)
    .execute(&mut *cmd.tx)
    .await?;
    cmd.audit(Entry::new("victim.propose_identification", KIND, id).fields(&[
        "outcome",
        "decided_on",
        "legal_basis",
        "evidence",
        "certificate_number",
        "reasons",
    ]))
    .await
}

/// Approve the pending proposal: the case takes its outcome.
pub async fn approve_identification(cmd: &mut Command, id: &str) -> anyhow::Result<()> {
    sqlx::query(
        "UPDATE victim_cases SET status = proposed_outcome, approved_by = $1, approved_at = $2, \
         identified_on = CASE WHEN proposed_outcome = 'identified' THEN proposed_on ELSE NULL END, updated_at = $2 \
         WHERE id = $3 AND proposed_outcome IS NOT NULL AND approved_by IS NULL",
    )
    .bind(&cmd.actor.user_id)
    .bind(cmd.at)
    .bind(id)
    .execute(&mut *cmd.tx)
    .await?;
    cmd.audit(Entry::new("victim.approve_identification", KIND, id).fields(&["status", "approved_by"])).await
}

/// Return the pending proposal to the officer with the head's comment: the case is no longer pending, and
/// the grounds stay on it for the officer to amend. False if nothing was pending any more.
pub async fn return_identification(cmd: &mut Command, keys: &Keyring, id: &str, comment: &str) -> anyhow::Result<bool> {
    let n = sqlx::query(
        "UPDATE victim_cases SET proposed_outcome = NULL, returned_comment = $1, returned_by = $2, returned_at = $3, \
         updated_at = $3 WHERE id = $4 AND proposed_outcome IS NOT NULL AND approved_by IS NULL",
    )
    .bind(keys.seal(TABLE, "returned_comment", id, comment.trim()))
    .bind(&cmd.actor.user_id)
    .bind(cmd.at)
    .bind(id)
    .execute(&mut *cmd.tx)
    .await?
    .rows_affected();
    if n == 0 {
        return Ok(false);
    }
    cmd.audit(Entry::new("victim.return_identification", KIND, id).fields(&["comment"])).await?;
    Ok(true)
}

impl Store {
    /// The head's comment on the last proposal returned, opened for the case's holder.
    pub async fn returned_comment(&self, id: &str) -> anyhow::Result<Option<String>> {
        self.open_sealed(TABLE, "returned_comment", id).await
    }
    /// Why a proposal says "not a victim", opened for the case's holder.
    pub async fn identification_reasons(&self, id: &str) -> anyhow::Result<Option<String>> {
        self.open_sealed(TABLE, "reasons", id).await
    }
    /// An agency's identification decisions waiting for a head, oldest proposal first.
    pub async fn identifications_pending(&self, agency_id: &str, limit: i64) -> anyhow::Result<Vec<VictimLine>> {
        let rows = sqlx::query(&format!(
            "SELECT {LINE_COLS} FROM victim_cases WHERE owner_agency_id = $1 AND approved_by IS NULL \
             AND proposed_outcome IS NOT NULL ORDER BY proposed_on, id LIMIT $2"
        ))
        .bind(agency_id)
        .bind(limit)
        .fetch_all(self.db.pool())
        .await?;
        rows.into_iter().map(line_row).collect()
    }
}
