//! Grants and break-the-glass: the data behind need-to-know record access. The decision itself is
//! `haven_domain::access::decide`; this module stores grants and windows and hands them to it.

use haven_domain::access::{BreakGlass, Grant, Grantee};
use haven_domain::time::Millis;
use serde::Serialize;

use crate::crypto::Keyring;
use crate::db::RowExt;
use crate::{new_id, Command, Entry, Store};

#[derive(Clone, Debug, Serialize)]
pub struct GrantRow {
    pub id: String,
    pub grantee_agency_id: Option<String>,
    pub grantee_user_id: Option<String>,
    pub purpose: String,
    pub granted_by: String,
    pub granted_at: Millis,
    pub expires_at: Millis,
    pub revoked_at: Option<Millis>,
    /// The parts of the record the grant opens; `None` is the whole record.
    pub scope: Option<String>,
    /// When the consent the grant rests on stops being in force (expiry or withdrawal), if it does.
    pub consent_ends_at: Option<Millis>,
}

impl GrantRow {
    /// When the grant stops opening the record: its own expiry, or the end of its consent if that comes first.
    pub fn ends_at(&self) -> Millis {
        self.consent_ends_at.map_or(self.expires_at, |c| c.min(self.expires_at))
    }

    /// Whether it opens the record at `now`.
    pub fn live(&self, now: Millis) -> bool {
        self.revoked_at.is_none() && self.ends_at() > now
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct BreakGlassRow {
    pub id: String,
    pub user_id: String,
    pub agency_id: String,
    pub record_kind: String,
    pub record_id: String,
    pub reason: String,
    pub opened_at: Millis,
    pub expires_at: Millis,
    pub reviewed_by: Option<String>,
}

pub struct NewGrant<'a> {
    pub record_kind: &'a str,
    pub record_id: &'a str,
    pub grantee: &'a Grantee,
    pub purpose: &'a str,
    pub expires_at: Millis,
    /// The person's consent the grant rests on: withdrawing it revokes the grant.
    pub consent_id: Option<&'a str>,
    /// Without consent: the legal basis recorded by a user with the override right.
    pub legal_basis: Option<&'a str>,
    /// The parts of the record it opens; `None` is the whole record.
    pub scope: Option<&'a str>,
}

pub async fn create_grant(cmd: &mut Command, g: &NewGrant<'_>) -> anyhow::Result<String> {
    let id = new_id();
    let (agency, user) = match g.grantee {
        Grantee::Agency(a) => (Some(a.as_str()), None),
        Grantee::User(u) => (None, Some(u.as_str())),
    };
    sqlx::query(
        "INSERT INTO grants (id, record_kind, record_id, grantee_agency_id, grantee_user_id, purpose, granted_by, \
         granted_at, expires_at, consent_id, legal_basis, scope) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(&id)
    .bind(g.record_kind)
    .bind(g.record_id)
    .bind(agency)
    .bind(user)
    .bind(g.purpose)
    .bind(&cmd.actor.user_id)
    .bind(cmd.at)
    .bind(g.expires_at)
    .bind(g.consent_id)
    .bind(g.legal_basis)
    .bind(g.scope)
    .execute(&mut *cmd.tx)
    .await?;
    let (action, fields): (&str, &[&str]) = match (g.consent_id, g.legal_basis) {
        (_, Some(_)) => ("grant.override_consent", &["grantee", "expires_at", "legal_basis"]),
        (Some(_), None) => ("grant.create", &["grantee", "expires_at", "consent"]),
        (None, None) => ("grant.create", &["grantee", "expires_at"]),
    };
    cmd.audit(Entry::new(action, g.record_kind, g.record_id).purpose(g.purpose).fields(fields)).await?;
    Ok(id)
}

/// Revoke a grant on a record; false when there is no live grant with that id on that record.
pub async fn revoke_grant(
    cmd: &mut Command,
    record_kind: &str,
    record_id: &str,
    grant_id: &str,
) -> anyhow::Result<bool> {
    let n = sqlx::query(
        "UPDATE grants SET revoked_at = $1, revoked_by = $2 WHERE id = $3 AND record_kind = $4 AND record_id = $5 \
         AND revoked_at IS NULL",
    )
    .bind(cmd.at)
    .bind(&cmd.actor.user_id)
    .bind(grant_id)
    .bind(record_kind)
    .bind(record_id)
    .execute(&mut *cmd.tx)
    .await?
    .rows_affected();
    if n == 1 {
        cmd.audit(Entry::new("grant.revoke", record_kind, record_id).fields(&["revoked_at"])).await?;
    }
    Ok(n == 1)
}

/// Revoke a grant by its id, on whatever record it now names (a person record may have been merged since it
/// was made); false when it is not live.
pub async fn revoke_grant_by_id(cmd: &mut Command, grant_id: &str) -> anyhow::Result<bool> {
    let record: Option<(String, String)> =
        sqlx::query_as("SELECT record_kind, record_id FROM grants WHERE id = $1 AND revoked_at IS NULL")
            .bind(grant_id)
            .fetch_optional(&mut *cmd.tx)
            .await?;
    match record {
        Some((kind, id)) => revoke_grant(cmd, &kind, &id, grant_id).await,
        None => Ok(false),
    }
}

/// Revoke every live grant resting on a consent (when it is withdrawn); returns how many.
pub async fn revoke_grants_of_consent(cmd: &mut Command, consent_id: &str) -> anyhow::Result<usize> {
    let live: Vec<(String, String)> = sqlx::query_as(
        "SELECT record_kind, record_id FROM grants WHERE consent_id = $1 AND revoked_at IS NULL ORDER BY granted_at",
    )
    .bind(consent_id)
    .fetch_all(&mut *cmd.tx)
    .await?;
    sqlx::query("UPDATE grants SET revoked_at = $1, revoked_by = $2 WHERE consent_id = $3 AND revoked_at IS NULL")
        .bind(cmd.at)
        .bind(&cmd.actor.user_id)
        .bind(consent_id)
        .execute(&mut *cmd.tx)
        .await?;
    for (kind, id) in &live {
        cmd.audit(Entry::new("grant.revoke", kind, id).purpose("consent_withdrawn").fields(&["revoked_at"])).await?;
    }
    Ok(live.len())
}

/// record kind, record id, grantee agency, grantee user, legal basis, granted by, granted at.
type OverrideTuple = (String, String, Option<String>, Option<String>, String, String, i64);

/// A grant made without consent, on a legal basis, as the agency head reviews it.
#[derive(Clone, Debug, Serialize)]
pub struct OverrideRow {
    pub record_kind: String,
    pub record_id: String,
    pub grantee_agency_id: Option<String>,
    pub grantee_user_id: Option<String>,
    pub legal_basis: String,
    pub granted_by: String,
    pub granted_at: Millis,
}

pub struct NewBreakGlass<'a> {
    pub owner_agency_id: &'a str,
    pub record_kind: &'a str,
    pub record_id: &'a str,
    pub reason: &'a str,
    pub expires_at: Millis,
}

pub async fn open_break_glass(cmd: &mut Command, keys: &Keyring, b: &NewBreakGlass<'_>) -> anyhow::Result<String> {
    let id = new_id();
    sqlx::query(
        "INSERT INTO break_glass (id, user_id, agency_id, owner_agency_id, record_kind, record_id, reason, opened_at, \
         expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&id)
    .bind(&cmd.actor.user_id)
    .bind(&cmd.actor.agency_id)
    .bind(b.owner_agency_id)
    .bind(b.record_kind)
    .bind(b.record_id)
    .bind(keys.seal("break_glass", "reason", &id, b.reason))
    .bind(cmd.at)
    .bind(b.expires_at)
    .execute(&mut *cmd.tx)
    .await?;
    cmd.audit(
        Entry::new("break_glass.open", b.record_kind, b.record_id)
            .purpose("break_glass")
            .fields(&["reason", "expires_at"]),
    )
    .await?;
    Ok(id)
}

pub async fn review_break_glass(cmd: &mut Command, id: &str, owner_agency_id: &str) -> anyhow::Result<bool> {
    let n = sqlx::query("UPDATE break_glass SET reviewed_by = $1, reviewed_at = $2 WHERE id = $3 AND owner_agency_id = $4 AND reviewed_at IS NULL")
        .bind(&cmd.actor.user_id)
        .bind(cmd.at)
        .bind(id)
        .bind(owner_agency_id)
        .execute(&mut *cmd.tx)
        .await?
        .rows_affected();
    if n == 1 {
        cmd.audit(Entry::new("break_glass.review", "break_glass", id)).await?;
    }
    Ok(n == 1)
}

fn grant_row(r: crate::db::Row) -> anyhow::Result<GrantRow> {
    let consent_day = |i: usize| -> anyhow::Result<Option<time::Date>> {
        Ok(r.try_get::<Option<String>, _>(i)?.as_deref().and_then(crate::reports::parse_day))
    };
    let consent_ends_at = haven_domain::victims::consent::ends_at(consent_day(9)?, consent_day(10)?);
    Ok(GrantRow {
        consent_ends_at,
        id: r.try_get(0)?,
        grantee_agency_id: r.try_get(1)?,
        grantee_user_id: r.try_get(2)?,
        purpose: r.try_get(3)?,
        granted_by: r.try_get(4)?,
        granted_at: r.try_get(5)?,
        expires_at: r.try_get(6)?,
        revoked_at: r.try_get(7)?,
        scope: r.try_get(8)?,
    })
}

impl Store {
    pub async fn grants_on(&self, record_kind: &str, record_id: &str) -> anyhow::Result<Vec<GrantRow>> {
        let rows = sqlx::query(
            "SELECT g.id, g.grantee_agency_id, g.grantee_user_id, g.purpose, g.granted_by, g.granted_at, g.expires_at, \
             g.revoked_at, g.scope, c.expires_on, c.withdrawn_on FROM grants g LEFT JOIN consents c ON c.id = g.consent_id \
             WHERE g.record_kind = $1 AND g.record_id = $2 ORDER BY g.granted_at DESC",
        )
        .bind(record_kind)
        .bind(record_id)
        .fetch_all(self.db.pool())
        .await?;
        rows.into_iter().map(grant_row).collect()
    }

    /// Grants and break-the-glass windows on a record, in the shape the access decision takes. A grant that
    /// rests on a consent ends when the consent does, whatever expiry it was given: checked here, on every
    /// access, and not only when the grant was made.
    pub async fn access_inputs(
        &self,
        record_kind: &str,
        record_id: &str,
    ) -> anyhow::Result<(Vec<Grant>, Vec<BreakGlass>)> {
        let grants = self
            .grants_on(record_kind, record_id)
            .await?
            .into_iter()
            .filter_map(|g| {
                let expires_at = g.ends_at();
                let grantee = match (g.grantee_agency_id, g.grantee_user_id) {
                    (Some(a), _) => Grantee::Agency(a),
                    (None, Some(u)) => Grantee::User(u),
                    (None, None) => return None,
                };
                Some(Grant { expires_at, id: g.id, grantee, revoked: g.revoked_at.is_some(), scope: g.scope })
            })
            .collect();
        let rows: Vec<(String, String, i64)> =
            sqlx::query_as("SELECT id, user_id, expires_at FROM break_glass WHERE record_kind = $1 AND record_id = $2")
                .bind(record_kind)
                .bind(record_id)
                .fetch_all(self.db.pool())
                .await?;
        let bg = rows.into_iter().map(|(id, user_id, expires_at)| BreakGlass { id, user_id, expires_at }).collect();
        Ok((grants, bg))
    }

    /// Grants made by users of an agency without consent, on a legal basis, newest first.
    pub async fn consent_overrides_of_agency(&self, agency_id: &str, limit: i64) -> anyhow::Result<Vec<OverrideRow>> {
        let rows: Vec<OverrideTuple> = sqlx::query_as(
            "SELECT g.record_kind, g.record_id, g.grantee_agency_id, g.grantee_user_id, g.legal_basis, g.granted_by, \
             g.granted_at FROM grants g JOIN users u ON u.id = g.granted_by WHERE u.agency_id = $1 \
             AND g.legal_basis IS NOT NULL ORDER BY g.granted_at DESC LIMIT $2",
        )
        .bind(agency_id)
        .bind(limit)
        .fetch_all(self.db.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(record_kind, record_id, grantee_agency_id, grantee_user_id, legal_basis, granted_by, granted_at)| {
                OverrideRow {
                    record_kind,
                    record_id,
                    grantee_agency_id,
                    grantee_user_id,
                    legal_basis,
                    granted_by,
                    granted_at,
                }
            })
            .collect())
    }

    pub async fn break_glass_on_agency(&self, owner_agency_id: &str, limit: i64) -> anyhow::Result<Vec<BreakGlassRow>> {
        let rows = sqlx::query(
            "SELECT id, user_id, agency_id, record_kind, record_id, reason, opened_at, expires_at, reviewed_by \
             FROM break_glass WHERE owner_agency_id = $1 ORDER BY opened_at DESC LIMIT $2",
        )
        .bind(owner_agency_id)
        .bind(limit)
        .fetch_all(self.db.pool())
        .await?;
        rows.into_iter()
            .map(|r| {
                let id: String = r.try_get(0)?;
                let sealed: Vec<u8> = r.try_get(5)?;
                Ok(BreakGlassRow {
                    reason: self.keys.open("break_glass", "reason", &id, &sealed)?,
                    id,
                    user_id: r.try_get(1)?,
                    agency_id: r.try_get(2)?,
                    record_kind: r.try_get(3)?,
                    record_id: r.try_get(4)?,
                    opened_at: r.try_get(6)?,
                    expires_at: r.try_get(7)?,
                    reviewed_by: r.try_get(8)?,
                })
            })
            .collect()
    }
}
