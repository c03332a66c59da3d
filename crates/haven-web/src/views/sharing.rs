//! The share section of a record's page (`templates/share.html`): the grants on the record and the form that
//! shares it, shown to the owning agency's users who may share. Persons, reports, cases and victim cases show
//! it; the use cases are `haven_app::sharing`.

use crate::ctx::Viewer;
use crate::error::AppResult;
use crate::page::Ctx;
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
    /// Sharing this record needs the person's consent.
    pub needs_consent: bool,
    /// The viewer may share it without consent on a legal basis.
    pub can_override: bool,
    /// The section sits in a part of the page whose heading names it already.
    pub in_part: bool,
}

impl Sharing {
    /// How many shares are in force.
    pub fn live(&self) -> usize {
        self.grants.iter().filter(|g| g.live).count()
    }
}

/// The fields of the share form: a page opens the part holding it when one of them has an error.
pub const FIELDS: [&str; 5] = ["agency", "username", "grant_purpose", "days", "legal_basis"];

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
        grants.push(GrantLine { live: g.live(now), expires_at: g.ends_at(), id: g.id, grantee, purpose: g.purpose });
    }
    let agencies = agencies
        .iter()
        .filter(|a| a.id != viewer.agency.id && a.active)
        .map(|a| (a.code.clone(), c.agency_label(&a.name_vi, &a.name_en).to_owned()))
        .collect();
    // Every victim case has its person: no need to read the case again to know.
    let needs_consent =
        kind == haven_store::victims::KIND || haven_app::sharing::consent_subject(state, kind, id).await?.is_some();
    let can_override = viewer.can(haven_domain::Action::OverrideConsent);
    let purposes = haven_app::persons::PURPOSES;
    Ok(Some(Sharing { base, grants, agencies, purposes, needs_consent, can_override, in_part: false }))
}
