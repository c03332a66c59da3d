//! Sharing a record of one's own agency with another agency or with one user, for a purpose from the list and
//! for a limited time: the grant that `record_access` reads. Persons, reports and cases share these forms
//! (`templates/share.html`). A victim's record (a victim case, or the person record of someone with one) is
//! shared only with the person's consent for that agency or its kind; without it, only a user with the
//! override right may share, recording the legal basis, and the agency head sees it on the supervision page.

use haven_domain::access::{self, Grantee};
use haven_domain::time::DAY;
use haven_domain::victims::consent;
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
    /// Sharing this record needs the person's consent.
    pub needs_consent: bool,
    /// The viewer may share it without consent on a legal basis.
    pub can_override: bool,
}

/// The person whose consent sharing this record needs: the subject of a victim case, or a person who is one.
pub async fn consent_subject(state: &AppState, kind: &str, id: &str) -> AppResult<Option<String>> {
    Ok(match kind {
        haven_store::victims::KIND => state.store.victim_case(id).await?.map(|v| v.person_id),
        haven_store::persons::KIND => {
            (!state.store.victim_cases_of_person(id).await?.is_empty()).then(|| id.to_owned())
        }
        _ => None,
    })
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
    // Every victim case has its person: no need to read the case again to know.
    let needs_consent = kind == haven_store::victims::KIND || consent_subject(state, kind, id).await?.is_some();
    let can_override = viewer.can(haven_domain::Action::OverrideConsent);
    Ok(Some(Sharing { base, grants, agencies, purposes: PURPOSES, needs_consent, can_override }))
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
    /// Only without the person's consent, and only for a user with the override right.
    #[serde(default)]
    pub legal_basis: String,
}

/// What a disclosure of a victim's information to an agency rests on.
pub enum Disclosure {
    /// The person's consent in force for that agency or its kind (its id).
    Consent(String),
    /// No consent: a legal basis recorded by a user with the override right.
    LegalBasis(String),
}

/// Check a disclosure of a person's information to an agency: the consent it rests on, or the legal basis the
/// viewer gives when they may override; otherwise the (field, translation key) of what is missing.
pub async fn consent_or_basis(
    state: &AppState,
    viewer: &Viewer,
    person_id: &str,
    agency_id: &str,
    legal_basis: &str,
) -> AppResult<Result<Disclosure, (&'static str, &'static str)>> {
    let agency_kind = state.store.agency(agency_id).await?.map(|a| a.kind).unwrap_or_default();
    let today = crate::pages::reports::today(state);
    let found = state.store.consents(person_id).await?.into_iter().find(|r| {
        r.consent().is_some_and(|c| consent::allows_sharing(std::slice::from_ref(&c), agency_id, &agency_kind, today))
    });
    let basis = legal_basis.trim();
    Ok(match found {
        Some(r) => Ok(Disclosure::Consent(r.id)),
        None if !viewer.can(haven_domain::Action::OverrideConsent) => Err(("agency", "error.consent_missing")),
        None if basis.chars().count() < consent::MIN_LEGAL_BASIS_CHARS => Err(("legal_basis", "error.legal_basis")),
        None => Ok(Disclosure::LegalBasis(basis.to_owned())),
    })
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
    // A victim's record: the person's consent for that agency, or a legal basis from a user who may override.
    let (mut consent_id, mut legal_basis) = (None, None);
    if let Some(person) = consent_subject(state, kind, id).await? {
        let agency_id = match &grantee {
            Grantee::Agency(a) => a.clone(),
            Grantee::User(u) => state.store.user(u).await?.map(|u| u.agency_id).unwrap_or_default(),
        };
        match consent_or_basis(state, viewer, &person, &agency_id, &form.legal_basis).await? {
            Ok(Disclosure::Consent(c)) => consent_id = Some(c),
            Ok(Disclosure::LegalBasis(b)) => legal_basis = Some(b),
            Err((field, key)) => return Ok(Err(vec![(field.into(), key.into())])),
        }
    }
    let mut cmd = state.store.command(&viewer.actor()).await?;
    let expires_at = cmd.at + days * DAY;
    let grant = NewGrant {
        record_kind: kind,
        record_id: id,
        grantee: &grantee,
        purpose,
        expires_at,
        consent_id: consent_id.as_deref(),
        legal_basis: legal_basis.as_deref(),
        scope: None,
    };
    haven_store::access::create_grant(&mut cmd, &grant).await?;
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
