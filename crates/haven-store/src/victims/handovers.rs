//! Handovers of responsibility for a victim case: proposed by the holder, accepted (the case changes owner in
//! the same transaction), declined or withdrawn. The rules are `haven_domain::victims::handover`.

use haven_domain::time::Millis;
use serde::Serialize;
use time::Date;

use crate::crypto::Keyring;
use crate::db::RowExt;
use crate::reports::day;
use crate::{new_id, Command, Entry, Store};

use super::*;

const TABLE: &str = "victim_handovers";

/// A handover about to be proposed, after the consent check.
pub struct NewHandover<'a> {
    pub case_id: &'a str,
    pub from_agency_id: &'a str,
    pub to_agency_id: &'a str,
    pub reason: &'a str,
    pub consent_id: Option<&'a str>,
    pub legal_basis: Option<&'a str>,
}

pub async fn propose_handover(cmd: &mut Command, keys: &Keyring, h: &NewHandover<'_>) -> anyhow::Result<String> {
    let id = new_id();
    sqlx::query(
        "INSERT INTO victim_handovers (id, case_id, from_agency_id, to_agency_id, reason, consent_id, legal_basis, \
         status, proposed_by, proposed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 'proposed', $8, $9)",
    )
    .bind(&id)
    .bind(h.case_id)
    .bind(h.from_agency_id)
    .bind(h.to_agency_id)
    .bind(keys.seal(TABLE, "reason", &id, h.reason.trim()))
    .bind(h.consent_id)
    .bind(h.legal_basis)
    .bind(&cmd.actor.user_id)
    .bind(cmd.at)
    .execute(&mut *cmd.tx)
    .await?;
    let action = if h.legal_basis.is_some() { "handover.propose_override_consent" } else { "handover.propose" };
    cmd.audit(Entry::new(action, KIND, h.case_id).fields(&["to_agency", "reason", "consent"])).await?;
    Ok(id)
}

/// Whether a handover of the case awaits an answer, as the running command sees it.
pub async fn handover_pending(cmd: &mut Command, case_id: &str) -> anyhow::Result<bool> {
    let n: i64 = sqlx::query_scalar(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM victim_handovers WHERE case_id = $1 AND status = 'proposed'",
    )
    .bind(case_id)
    .fetch_one(&mut *cmd.tx)
    .await?;
    Ok(n > 0)
}

/// A handover as the running command sees it.
pub async fn current_handover(cmd: &mut Command, id: &str) -> anyhow::Result<Option<HandoverRow>> {
    let r = sqlx::query(&format!("SELECT {HANDOVER_COLS} FROM {FROM} WHERE h.id = $1"))
        .bind(id)
        .fetch_optional(&mut *cmd.tx)
        .await?;
    r.map(handover_row).transpose()
}

/// Accept a proposed handover: the receiver owns the case from now on (and reads the person record behind it,
/// see [`Store::handover_holders`]). False if it was answered meanwhile, or the case changed hands or was
/// closed: the caller then drops the command and nothing is written.
pub async fn accept_handover(cmd: &mut Command, h: &HandoverRow, on: Date) -> anyhow::Result<bool> {
    let n = sqlx::query(
        "UPDATE victim_handovers SET status = 'accepted', answered_by = $1, answered_at = $2, answered_on = $3 \
         WHERE id = $4 AND status = 'proposed'",
    )
    .bind(&cmd.actor.user_id)
    .bind(cmd.at)
    .bind(day(on))
    .bind(&h.id)
    .execute(&mut *cmd.tx)
    .await?
    .rows_affected();
    if n == 0 {
        return Ok(false);
    }
    let moved = sqlx::query(
        "UPDATE victim_cases SET owner_agency_id = $1, updated_at = $2 WHERE id = $3 AND owner_agency_id = $4 \
         AND closed_on IS NULL",
    )
    .bind(&h.to_agency_id)
    .bind(cmd.at)
    .bind(&h.case_id)
    .bind(&h.from_agency_id)
    .execute(&mut *cmd.tx)
    .await?
    .rows_affected();
    if moved == 0 {
        return Ok(false);
    }
    // The person's consents held by the agency that handed the case over go with it: from now on the person
    // gives or withdraws them through the receiver.
    sqlx::query(
        "UPDATE consents SET agency_id = $1 WHERE agency_id = $2 \
         AND person_id = (SELECT person_id FROM victim_cases WHERE id = $3)",
    )
    .bind(&h.to_agency_id)
    .bind(&h.from_agency_id)
    .bind(&h.case_id)
    .execute(&mut *cmd.tx)
    .await?;
    cmd.audit(Entry::new("handover.accept", KIND, &h.case_id).fields(&["handover", "owner_agency"])).await?;
    Ok(true)
}

/// Decline (with a reason) or withdraw a proposed handover. False if it was answered meanwhile.
pub async fn close_handover(cmd: &mut Command, h: &HandoverRow, status: &str, reason: &str) -> anyhow::Result<bool> {
    let n = sqlx::query(
        "UPDATE victim_handovers SET status = $1, answered_by = $2, answered_at = $3, decline_reason = $4 \
         WHERE id = $5 AND status = 'proposed'",
    )
    .bind(status)
    .bind(&cmd.actor.user_id)
    .bind(cmd.at)
    .bind(Some(reason.trim()).filter(|r| !r.is_empty()))
    .bind(&h.id)
    .execute(&mut *cmd.tx)
    .await?
    .rows_affected();
    if n == 0 {
        return Ok(false);
    }
    let action = if status == "declined" { "handover.decline" } else { "handover.withdraw" };
    cmd.audit(Entry::new(action, KIND, &h.case_id).fields(&["handover", "reason"])).await?;
    Ok(true)
}

#[derive(Clone, Debug, Serialize)]
pub struct HandoverRow {
    pub id: String,
    pub case_id: String,
    pub case_code: String,
    pub from_agency_id: String,
    pub to_agency_id: String,
    pub status: String,
    pub consent_id: Option<String>,
    pub legal_basis: Option<String>,
    pub proposed_at: Millis,
    pub answered_at: Option<Millis>,
    /// The local day it was accepted: the day custody passed.
    pub answered_on: Option<String>,
    pub decline_reason: Option<String>,
    pub person_id: String,
}

const FROM: &str = "victim_handovers h JOIN victim_cases v ON v.id = h.case_id";
const HANDOVER_COLS: &str = "h.id, h.case_id, v.case_code, h.from_agency_id, h.to_agency_id, h.status, h.consent_id, \
     h.legal_basis, h.proposed_at, h.answered_at, h.answered_on, h.decline_reason, v.person_id";

fn handover_row(r: crate::db::Row) -> anyhow::Result<HandoverRow> {
    Ok(HandoverRow {
        id: r.try_get(0)?,
        case_id: r.try_get(1)?,
        case_code: r.try_get(2)?,
        from_agency_id: r.try_get(3)?,
        to_agency_id: r.try_get(4)?,
        status: r.try_get(5)?,
        consent_id: r.try_get(6)?,
        legal_basis: r.try_get(7)?,
        proposed_at: r.try_get(8)?,
        answered_at: r.try_get(9)?,
        answered_on: r.try_get(10)?,
        decline_reason: r.try_get(11)?,
        person_id: r.try_get(12)?,
    })
}

impl Store {
    pub async fn handover(&self, id: &str) -> anyhow::Result<Option<HandoverRow>> {
        let r = sqlx::query(&format!("SELECT {HANDOVER_COLS} FROM {FROM} WHERE h.id = $1"))
            .bind(id)
            .fetch_optional(self.db.pool())
            .await?;
        r.map(handover_row).transpose()
    }

    /// Every handover of a case, oldest first: the accepted ones are its chain of custody.
    pub async fn handovers_of_case(&self, case_id: &str) -> anyhow::Result<Vec<HandoverRow>> {
        let rows =
            sqlx::query(&format!("SELECT {HANDOVER_COLS} FROM {FROM} WHERE h.case_id = $1 ORDER BY h.proposed_at"))
                .bind(case_id)
                .fetch_all(self.db.pool())
                .await?;
        rows.into_iter().map(handover_row).collect()
    }

    /// Handovers proposed to an agency and not yet answered, oldest first: its work list.
    pub async fn handovers_to(&self, agency_id: &str, limit: i64) -> anyhow::Result<Vec<HandoverRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {HANDOVER_COLS} FROM {FROM} WHERE h.to_agency_id = $1 AND h.status = 'proposed' \
             ORDER BY h.proposed_at LIMIT $2"
        ))
        .bind(agency_id)
        .bind(limit)
        .fetch_all(self.db.pool())
        .await?;
        rows.into_iter().map(handover_row).collect()
    }

    /// When an agency handed the case over (the instant its custody ended): None if it never held it and
    /// handed it on. The latest such instant when it held the case more than once.
    pub async fn handed_over_at(&self, case_id: &str, agency_id: &str) -> anyhow::Result<Option<Millis>> {
        Ok(sqlx::query_scalar(
            "SELECT MAX(answered_at) FROM victim_handovers WHERE case_id = $1 AND from_agency_id = $2 \
             AND status = 'accepted'",
        )
        .bind(case_id)
        .bind(agency_id)
        .fetch_one(self.db.pool())
        .await?)
    }

    /// The agencies that took over a victim case of the person by handover and hold it now, when the agency
    /// that received her owns the person record: the record opens to them as if it had been sent to them. A
    /// record of a third agency, which the receiving agency read on a grant, is not passed on.
    pub async fn handover_holders(&self, person_id: &str) -> anyhow::Result<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT DISTINCT v.owner_agency_id FROM victim_cases v JOIN persons p ON p.id = v.person_id \
             WHERE v.person_id = $1 AND v.owner_agency_id <> COALESCE(v.received_by_agency_id, v.owner_agency_id) \
             AND p.owner_agency_id = COALESCE(v.received_by_agency_id, v.owner_agency_id)",
        )
        .bind(person_id)
        .fetch_all(self.db.pool())
        .await?)
    }

    /// The handover's reason, opened for the two agencies it concerns.
    pub async fn handover_reason(&self, h: &HandoverRow) -> anyhow::Result<Option<String>> {
        self.open_sealed(TABLE, "reason", &h.id).await
    }
}

/// The kinds of the referrals an agency has accepted on a case and may still work on: accepted, and the grant
/// acceptance gave still live (not revoked, as a withdrawn consent revokes it; not expired, as it does when
/// the due day ends).
async fn live_kinds<'e, E: sqlx::Executor<'e, Database = sqlx::Any>>(
    e: E,
    case_id: &str,
    agency_id: &str,
    now: Millis,
) -> anyhow::Result<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT r.kind FROM referrals r JOIN grants g ON g.id = r.grant_id WHERE r.case_id = $1 \
         AND r.to_agency_id = $2 AND r.status = 'accepted' AND g.revoked_at IS NULL AND g.expires_at > $3",
    )
    .bind(case_id)
    .bind(agency_id)
    .bind(now)
    .fetch_all(e)
    .await?)
}

/// [`Store::live_referral_kinds`] as the running command sees them: a check made on them holds until it commits.
pub async fn live_referral_kinds(cmd: &mut Command, case_id: &str, agency_id: &str) -> anyhow::Result<Vec<String>> {
    let now = cmd.at;
    live_kinds(&mut *cmd.tx, case_id, agency_id, now).await
}

impl Store {
    /// The kinds of the referrals an agency has accepted on a case and may still work on.
    pub async fn live_referral_kinds(&self, case_id: &str, agency_id: &str) -> anyhow::Result<Vec<String>> {
        live_kinds(self.db.pool(), case_id, agency_id, self.now()).await
    }
}
