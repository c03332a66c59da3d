//! Referrals between agencies about a victim case: sent, accepted (the receiver reads the parts its kind
//! opens, until the due day ends), declined or completed.

use haven_domain::time::Millis;
use serde::Serialize;
use time::Date;

use crate::crypto::Keyring;
use crate::db::RowExt;
use crate::reports::day;
use crate::{new_id, Command, Entry, Store};

use super::*;

/// A referral about to be sent, after the consent check.
pub struct NewReferral<'a> {
    pub case_id: &'a str,
    pub kind: &'a str,
    pub from_agency_id: &'a str,
    pub to_agency_id: &'a str,
    pub purpose: &'a str,
    pub due_on: Date,
    pub consent_id: Option<&'a str>,
    pub legal_basis: Option<&'a str>,
}

pub async fn send_referral(cmd: &mut Command, keys: &Keyring, r: &NewReferral<'_>) -> anyhow::Result<String> {
    let id = new_id();
    sqlx::query(
        "INSERT INTO referrals (id, case_id, kind, from_agency_id, to_agency_id, purpose, due_on, status, consent_id, \
         legal_basis, sent_by, sent_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 'sent', $8, $9, $10, $11)",
    )
    .bind(&id)
    .bind(r.case_id)
    .bind(r.kind)
    .bind(r.from_agency_id)
    .bind(r.to_agency_id)
    .bind(Some(r.purpose.trim()).filter(|p| !p.is_empty()).map(|p| keys.seal("referrals", "purpose", &id, p)))
    .bind(day(r.due_on))
    .bind(r.consent_id)
    .bind(r.legal_basis)
    .bind(&cmd.actor.user_id)
    .bind(cmd.at)
    .execute(&mut *cmd.tx)
    .await?;
    let action = if r.legal_basis.is_some() { "referral.send_override_consent" } else { "referral.send" };
    cmd.audit(Entry::new(action, KIND, r.case_id).fields(&["kind", "to_agency", "due_on", "purpose", "consent"]))
        .await?;
    Ok(id)
}

/// Accept a referral: the receiving agency may read the parts of the case in `scope` (and, when
/// `person_id` is given, the person record behind it) until the end of the due day, on the consent or legal
/// basis the referral rests on. False if it was answered meanwhile.
pub async fn accept_referral(
    cmd: &mut Command,
    r: &ReferralRow,
    until: Millis,
    scope: &str,
    person_id: Option<&str>,
) -> anyhow::Result<bool> {
    let grantee = haven_domain::access::Grantee::Agency(r.to_agency_id.clone());
    let grant = crate::access::NewGrant {
        record_kind: KIND,
        record_id: &r.case_id,
        grantee: &grantee,
        purpose: "referral",
        expires_at: until,
        consent_id: r.consent_id.as_deref(),
        legal_basis: r.legal_basis.as_deref(),
        scope: Some(scope),
    };
    let n = sqlx::query(
        "UPDATE referrals SET status = 'accepted', answered_by = $1, answered_at = $2 WHERE id = $3 AND status = 'sent'",
    )
    .bind(&cmd.actor.user_id)
    .bind(cmd.at)
    .bind(&r.id)
    .execute(&mut *cmd.tx)
    .await?
    .rows_affected();
    if n == 0 {
        return Ok(false);
    }
    let grant_id = crate::access::create_grant(cmd, &grant).await?;
    let person_grant_id = match person_id {
        Some(p) => Some(
            crate::access::create_grant(
                cmd,
                // Read only: the receiver sees the person, but cannot name them on records of its own.
                &crate::access::NewGrant {
                    record_kind: crate::persons::KIND,
                    record_id: p,
                    scope: Some(crate::persons::READ_ONLY),
                    ..grant
                },
            )
            .await?,
        ),
        None => None,
    };
    sqlx::query("UPDATE referrals SET grant_id = $1, person_grant_id = $2 WHERE id = $3")
        .bind(&grant_id)
        .bind(&person_grant_id)
        .bind(&r.id)
        .execute(&mut *cmd.tx)
        .await?;
    cmd.audit(Entry::new("referral.accept", KIND, &r.case_id).fields(&["referral", "grant"])).await?;
    Ok(true)
}

pub async fn decline_referral(cmd: &mut Command, r: &ReferralRow, reason: &str) -> anyhow::Result<bool> {
    let n = sqlx::query(
        "UPDATE referrals SET status = 'declined', answered_by = $1, answered_at = $2, decline_reason = $3 \
         WHERE id = $4 AND status = 'sent'",
    )
    .bind(&cmd.actor.user_id)
    .bind(cmd.at)
    .bind(reason.trim())
    .bind(&r.id)
    .execute(&mut *cmd.tx)
    .await?
    .rows_affected();
    if n == 0 {
        return Ok(false);
    }
    cmd.audit(Entry::new("referral.decline", KIND, &r.case_id).fields(&["referral", "reason"])).await?;
    Ok(true)
}

/// Complete an accepted referral with what came of it (for the sender to read); the receiver's access ends
/// with it.
pub async fn complete_referral(
    cmd: &mut Command,
    keys: &Keyring,
    r: &ReferralRow,
    outcome: &str,
) -> anyhow::Result<bool> {
    let n = sqlx::query(
        "UPDATE referrals SET status = 'completed', completed_at = $1, outcome = $2 WHERE id = $3 AND status = 'accepted'",
    )
    .bind(cmd.at)
    .bind(Some(outcome.trim()).filter(|o| !o.is_empty()).map(|o| keys.seal("referrals", "outcome", &r.id, o)))
    .bind(&r.id)
    .execute(&mut *cmd.tx)
    .await?
    .rows_affected();
    if n == 0 {
        return Ok(false);
    }
    if let Some(g) = &r.grant_id {
        crate::access::revoke_grant(cmd, KIND, &r.case_id, g).await?;
    }
    if let Some(g) = &r.person_grant_id {
        crate::access::revoke_grant_by_id(cmd, g).await?;
    }
    cmd.audit(Entry::new("referral.complete", KIND, &r.case_id).fields(&["referral", "outcome"])).await?;
    Ok(true)
}

#[derive(Clone, Debug, Serialize)]
pub struct ReferralRow {
    pub id: String,
    pub case_id: String,
    pub case_code: String,
    pub kind: String,
    pub from_agency_id: String,
    pub to_agency_id: String,
    pub due_on: String,
    pub status: String,
    pub consent_id: Option<String>,
    pub legal_basis: Option<String>,
    pub sent_at: Millis,
    pub decline_reason: Option<String>,
    pub grant_id: Option<String>,
    pub person_grant_id: Option<String>,
    pub person_id: String,
}

const REFERRAL_COLS: &str =
    "r.id, r.case_id, v.case_code, r.kind, r.from_agency_id, r.to_agency_id, r.due_on, r.status, \
     r.consent_id, r.legal_basis, r.sent_at, r.decline_reason, r.grant_id, r.person_grant_id, v.person_id";

fn referral_row(r: crate::db::Row) -> anyhow::Result<ReferralRow> {
    Ok(ReferralRow {
        id: r.try_get(0)?,
        case_id: r.try_get(1)?,
        case_code: r.try_get(2)?,
        kind: r.try_get(3)?,
        from_agency_id: r.try_get(4)?,
        to_agency_id: r.try_get(5)?,
        due_on: r.try_get(6)?,
        status: r.try_get(7)?,
        consent_id: r.try_get(8)?,
        legal_basis: r.try_get(9)?,
        sent_at: r.try_get(10)?,
        decline_reason: r.try_get(11)?,
        grant_id: r.try_get(12)?,
        person_grant_id: r.try_get(13)?,
        person_id: r.try_get(14)?,
    })
}

impl Store {
    pub async fn referral(&self, id: &str) -> anyhow::Result<Option<ReferralRow>> {
        let r = sqlx::query(&format!(
            "SELECT {REFERRAL_COLS} FROM referrals r JOIN victim_cases v ON v.id = r.case_id WHERE r.id = $1"
        ))
        .bind(id)
        .fetch_optional(self.db.pool())
        .await?;
        r.map(referral_row).transpose()
    }

    /// Referrals an agency received (`incoming`) or sent, open ones first by due day.
    pub async fn referrals_of_agency(
        &self,
        agency_id: &str,
        incoming: bool,
        limit: i64,
    ) -> anyhow::Result<Vec<ReferralRow>> {
        let col = if incoming { "to_agency_id" } else { "from_agency_id" };
        let rows = sqlx::query(&format!(
            "SELECT {REFERRAL_COLS} FROM referrals r JOIN victim_cases v ON v.id = r.case_id WHERE r.{col} = $1 \
             ORDER BY CASE WHEN r.status IN ('sent', 'accepted') THEN 0 ELSE 1 END, r.due_on, r.id LIMIT $2"
        ))
        .bind(agency_id)
        .bind(limit)
        .fetch_all(self.db.pool())
        .await?;
        rows.into_iter().map(referral_row).collect()
    }

    /// What a referral asks (its purpose, as the sender wrote it), opened for the two agencies it concerns: the
    /// receiver reads it before it accepts.
    pub async fn referral_purpose(&self, id: &str) -> anyhow::Result<Option<String>> {
        self.open_sealed("referrals", "purpose", id).await
    }

    /// What the receiver reported on completing a referral, opened for the two agencies it concerns.
    pub async fn referral_outcome(&self, id: &str) -> anyhow::Result<Option<String>> {
        self.open_sealed("referrals", "outcome", id).await
    }

    pub async fn referrals_of_case(&self, case_id: &str) -> anyhow::Result<Vec<ReferralRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {REFERRAL_COLS} FROM referrals r JOIN victim_cases v ON v.id = r.case_id WHERE r.case_id = $1 \
             ORDER BY r.sent_at"
        ))
        .bind(case_id)
        .fetch_all(self.db.pool())
        .await?;
        rows.into_iter().map(referral_row).collect()
    }
}
