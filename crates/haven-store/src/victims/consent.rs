//! Supports given under the regimes of the profile, and the person's consents per purpose with their
//! withdrawal.

use haven_domain::victims::consent::Consent;
use haven_domain::victims::support::Given;
use serde::Serialize;
use time::Date;

use crate::crypto::Keyring;
use crate::reports::{day, parse_day};
use crate::{new_id, Command, Entry, Store};

use super::*;

pub struct NewSupport<'a> {
    pub regime: &'a str,
    pub given: Given,
    pub provider_agency_id: &'a str,
    pub acknowledged: bool,
    pub note: Option<&'a str>,
}

pub async fn give_support(cmd: &mut Command, keys: &Keyring, case_id: &str, s: &NewSupport<'_>) -> anyhow::Result<()> {
    let id = new_id();
    sqlx::query(
        "INSERT INTO supports (id, case_id, regime, given_on, provider_agency_id, quantity, amount_vnd, acknowledged, \
         note, recorded_by, recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(&id)
    .bind(case_id)
    .bind(s.regime)
    .bind(day(s.given.on))
    .bind(s.provider_agency_id)
    .bind(s.given.quantity as i64)
    .bind(s.given.amount_vnd as i64)
    .bind(i64::from(s.acknowledged))
    .bind(s.note.filter(|n| !n.is_empty()).map(|n| keys.seal("supports", "note", &id, n)))
    .bind(&cmd.actor.user_id)
    .bind(cmd.at)
    .execute(&mut *cmd.tx)
    .await?;
    cmd.audit(Entry::new("victim.support", KIND, case_id).fields(&[
        "regime",
        "given_on",
        "provider",
        "quantity",
        "amount_vnd",
        "acknowledged",
    ]))
    .await
}

pub struct NewConsentRow<'a> {
    pub person_id: &'a str,
    pub purpose: &'a str,
    pub target: &'a str,
    pub given_by: &'a str,
    pub representative: Option<&'a str>,
    pub given_on: Date,
    pub expires_on: Option<Date>,
}

pub async fn record_consent(cmd: &mut Command, keys: &Keyring, c: &NewConsentRow<'_>) -> anyhow::Result<String> {
    let id = new_id();
    sqlx::query(
        "INSERT INTO consents (id, person_id, purpose, target, given_by, representative, given_on, expires_on, \
         recorded_by, recorded_at, agency_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(&id)
    .bind(c.person_id)
    .bind(c.purpose)
    .bind(c.target)
    .bind(c.given_by)
    .bind(c.representative.filter(|r| !r.is_empty()).map(|r| keys.seal("consents", "representative", &id, r)))
    .bind(day(c.given_on))
    .bind(c.expires_on.map(day))
    .bind(&cmd.actor.user_id)
    .bind(cmd.at)
    .bind(&cmd.actor.agency_id)
    .execute(&mut *cmd.tx)
    .await?;
    cmd.audit(Entry::new("consent.record", crate::persons::KIND, c.person_id).fields(&[
        "purpose",
        "target",
        "given_by",
        "given_on",
        "expires_on",
    ]))
    .await?;
    Ok(id)
}

/// Whether a consent is still not withdrawn, read inside a command: every command holds the audit head's
/// lock, so no withdrawal can commit between this read and the command's own commit.
pub async fn consent_not_withdrawn(cmd: &mut Command, consent_id: &str) -> anyhow::Result<bool> {
    let found: Option<i64> = sqlx::query_scalar("SELECT 1 FROM consents WHERE id = $1 AND withdrawn_on IS NULL")
        .bind(consent_id)
        .fetch_optional(&mut *cmd.tx)
        .await?;
    Ok(found.is_some())
}

/// Withdraw a consent from `on`; false when there is no such consent in force for the person, or when it was
/// recorded by another agency than the actor's: a consent is withdrawn through the agency that holds it.
pub async fn withdraw_consent(cmd: &mut Command, person_id: &str, consent_id: &str, on: Date) -> anyhow::Result<bool> {
    let n = sqlx::query(
        "UPDATE consents SET withdrawn_on = $1, withdrawn_by = $2 WHERE id = $3 AND person_id = $4 \
         AND agency_id = $5 AND withdrawn_on IS NULL",
    )
    .bind(day(on))
    .bind(&cmd.actor.user_id)
    .bind(consent_id)
    .bind(person_id)
    .bind(&cmd.actor.agency_id)
    .execute(&mut *cmd.tx)
    .await?
    .rows_affected();
    if n == 0 {
        return Ok(false);
    }
    cmd.audit(Entry::new("consent.withdraw", crate::persons::KIND, person_id).fields(&["consent", "withdrawn_on"]))
        .await?;
    // The withdrawal takes effect at once on every grant that relied on it.
    crate::access::revoke_grants_of_consent(cmd, consent_id).await?;
    Ok(true)
}

#[derive(Clone, Debug, Serialize)]
pub struct SupportRow {
    pub regime: String,
    pub given_on: String,
    pub provider_agency_id: String,
    pub quantity: i64,
    pub amount_vnd: i64,
    pub acknowledged: bool,
    pub recorded_at: Millis,
}

impl SupportRow {
    pub fn given(&self) -> Option<Given> {
        Some(Given {
            on: parse_day(&self.given_on)?,
            quantity: self.quantity.max(0) as u64,
            amount_vnd: self.amount_vnd.max(0) as u64,
        })
    }
}

/// id, purpose, target, given by, given on, expires on, withdrawn on, recorded at.
type ConsentTuple = (String, String, String, String, String, Option<String>, Option<String>, Millis, Option<String>);

#[derive(Clone, Debug, Serialize)]
pub struct ConsentRow {
    pub id: String,
    pub purpose: String,
    pub target: String,
    pub given_by: String,
    pub given_on: String,
    pub expires_on: Option<String>,
    pub withdrawn_on: Option<String>,
    pub recorded_at: Millis,
    /// The agency that holds it: only it may withdraw it.
    pub agency_id: Option<String>,
}

impl ConsentRow {
    pub fn consent(&self) -> Option<Consent> {
        Some(Consent {
            purpose: self.purpose.clone(),
            target: self.target.clone(),
            given_on: parse_day(&self.given_on)?,
            expires_on: self.expires_on.as_deref().and_then(parse_day),
            withdrawn_on: self.withdrawn_on.as_deref().and_then(parse_day),
        })
    }
}

impl Store {
    pub async fn supports(&self, case_id: &str) -> anyhow::Result<Vec<SupportRow>> {
        let rows: Vec<(String, String, String, i64, i64, i64, Millis)> = sqlx::query_as(
            "SELECT regime, given_on, provider_agency_id, quantity, amount_vnd, acknowledged, recorded_at FROM supports \
             WHERE case_id = $1 ORDER BY given_on, recorded_at",
        )
        .bind(case_id)
        .fetch_all(self.db.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(regime, given_on, provider_agency_id, quantity, amount_vnd, ack, recorded_at)| SupportRow {
                regime,
                given_on,
                provider_agency_id,
                quantity,
                amount_vnd,
                acknowledged: ack != 0,
                recorded_at,
            })
            .collect())
    }

    /// Every consent of a person, in force or not, oldest first: the history.
    pub async fn consents(&self, person_id: &str) -> anyhow::Result<Vec<ConsentRow>> {
        let rows: Vec<ConsentTuple> = sqlx::query_as(
            "SELECT id, purpose, target, given_by, given_on, expires_on, withdrawn_on, recorded_at, agency_id FROM consents \
             WHERE person_id = $1 ORDER BY given_on, recorded_at",
        )
        .bind(person_id)
        .fetch_all(self.db.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, purpose, target, given_by, given_on, expires_on, withdrawn_on, recorded_at, agency_id)| {
                ConsentRow { id, purpose, target, given_by, given_on, expires_on, withdrawn_on, recorded_at, agency_id }
            })
            .collect())
    }
}
