//! Sharing a record of one's own agency with another agency or with one user, for a purpose from the list and
//! for a limited time: the grant that `record_access` reads. Persons, reports and cases share these forms
//! (`templates/share.html`).

use haven_domain::access::{self, Grantee};
use haven_domain::time::DAY;
use haven_store::access::NewGrant;
use serde::Deserialize;

use crate::ctx::Viewer;
use crate::error::AppResult;
use crate::page::{Ctx, FormState};
use crate::pages::persons::PURPOSES;
use crate::pages::reports::FieldErrors;
use crate::AppState;

pub struct GrantLine {
    pub id: String,
    pub grantee: String,
    pub purpose: String,
    pub expires_at: i64,
    pub live: bool,
}

/// What the share section of a record's page shows to its owner.
pub struct Sharing {
    /// The record's page, which the forms post under (`/reports/<id>`).
    pub base: String,
    pub grants: Vec<GrantLine>,
    /// Agencies it may be shared with: (code, name).
    pub agencies: Vec<(String, String)>,
    pub purposes: &'static [&'static str],
}

/// The share section for a record of `owner_agency_id`, if the viewer's agency owns it and they may share.
pub async fn section(
    state: &AppState,
    viewer: &Viewer,
    c: &Ctx,
    kind: &str,
    id: &str,
    owner_agency_id: &str,
    base: String,
) -> AppResult<Option<Sharing>> {
    if owner_agency_id != viewer.agency.id || !viewer.can(haven_domain::Action::GrantAccess) {
        return Ok(None);
    }
    let now = state.store.now();
    let agencies = state.store.agencies().await?;
    let name =
        |id: &str| agencies.iter().find(|a| a.id == id).map(|a| c.agency_label(&a.name_vi, &a.name_en).to_owned());
    let mut grants = Vec::new();
    for g in state.store.grants_on(kind, id).await? {
        let grantee = match (&g.grantee_agency_id, &g.grantee_user_id) {
            (Some(a), _) => name(a).unwrap_or_default(),
            (None, Some(u)) => state.store.user(u).await?.map(|u| u.username).unwrap_or_default(),
            _ => String::new(),
        };
        grants.push(GrantLine {
            live: g.revoked_at.is_none() && g.expires_at > now,
            id: g.id,
            grantee,
            purpose: g.purpose,
            expires_at: g.expires_at,
        });
    }
    let agencies = agencies
        .iter()
        .filter(|a| a.id != viewer.agency.id && a.active)
        .map(|a| (a.code.clone(), c.agency_label(&a.name_vi, &a.name_en).to_owned()))
        .collect();
    Ok(Some(Sharing { base, grants, agencies, purposes: PURPOSES }))
}

#[derive(Deserialize)]
pub struct GrantForm {
    /// An agency code, or
    #[serde(default)]
    pub agency: String,
    /// one user's name.
    #[serde(default)]
    pub username: String,
    pub purpose: String,
    pub days: String,
}

/// Share a record the viewer's agency owns (the caller checks ownership).
pub async fn create(
    state: &AppState,
    viewer: &Viewer,
    kind: &str,
    id: &str,
    form: &GrantForm,
) -> AppResult<Result<(), FieldErrors>> {
    let mut f = FormState::default();
    let grantee = if !form.username.trim().is_empty() {
        match state.store.user_by_name(form.username.trim()).await? {
            Some(u) if !u.disabled => Some(Grantee::User(u.id)),
            _ => {
                f.add("username", "error.unknown_user");
                None
            }
        }
    } else {
        match state.store.agency_by_code(form.agency.trim()).await? {
            Some(a) if a.id != viewer.agency.id => Some(Grantee::Agency(a.id)),
            _ => {
                f.add("agency", "error.choice");
                None
            }
        }
    };
    // A purpose from the list, never free text: it is kept in the clear in the grant and the audit log.
    let purpose = form.purpose.trim();
    if !PURPOSES.contains(&purpose) {
        f.add("grant_purpose", "error.choice");
    }
    let days = form.days.trim().parse::<i64>().ok().filter(|d| (1..=access::GRANT_MAX_DAYS).contains(d));
    if days.is_none() {
        f.add("days", "error.grant_days");
    }
    let (Some(grantee), Some(days), false) = (grantee, days, f.has_errors()) else {
        return Ok(Err(f.errors));
    };
    let mut cmd = state.store.command(&viewer.actor()).await?;
    let expires_at = cmd.at + days * DAY;
    haven_store::access::create_grant(
        &mut cmd,
        &NewGrant { record_kind: kind, record_id: id, grantee: &grantee, purpose, expires_at },
    )
    .await?;
    cmd.commit().await?;
    Ok(Ok(()))
}

/// Revoke a grant on a record the viewer's agency owns (the caller checks ownership); false if no such grant.
pub async fn revoke(state: &AppState, viewer: &Viewer, kind: &str, id: &str, grant_id: &str) -> AppResult<bool> {
    let mut cmd = state.store.command(&viewer.actor()).await?;
    if !haven_store::access::revoke_grant(&mut cmd, kind, id, grant_id).await? {
        return Ok(false);
    }
    cmd.commit().await?;
    Ok(true)
}
