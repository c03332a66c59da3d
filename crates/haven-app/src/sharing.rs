//! Sharing a record of one's own agency with another agency or with one user, for a purpose from the list and
//! for a limited time: the grant that [`crate::access::record_access`] reads. Persons, reports, cases and
//! victim cases are shared this way. A victim's record (a victim case, or the person record of someone with
//! one) is shared only with the person's consent for that agency or its kind; without it, only a user with
//! the override right may share, recording the legal basis, and the agency head sees it on the supervision
//! page.

use haven_domain::access::{self as rules, Grantee};
use haven_domain::time::{Millis, DAY};
use haven_domain::victims::consent;
use haven_domain::Action;
use haven_store::access::NewGrant;
use serde::Deserialize;

use crate::persons::PURPOSES;
use crate::{access, App, Caller, Error, Fields, Outcome, Result};

/// The person whose consent sharing this record needs: the subject of a victim case, or a person who is one.
pub async fn consent_subject(app: &App, kind: &str, id: &str) -> Result<Option<String>> {
    Ok(match kind {
        haven_store::victims::KIND => app.store.victim_case(id).await?.map(|v| v.person_id),
        haven_store::persons::KIND => (!app.store.victim_cases_of_person(id).await?.is_empty()).then(|| id.to_owned()),
        _ => None,
    })
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
    /// The person's consent in force for that agency or its kind: its id, and when it stops being in force
    /// (if it has an expiry). Access resting on it cannot outlast it.
    Consent { id: String, ends_at: Option<Millis> },
    /// No consent: a legal basis recorded by a user with the override right.
    LegalBasis(String),
}

/// Check a disclosure of a person's information to an agency: the consent it rests on, or the legal basis the
/// viewer gives when they may override; otherwise the (field, translation key) of what is missing.
pub async fn consent_or_basis(
    app: &App,
    caller: &Caller,
    person_id: &str,
    agency_id: &str,
    legal_basis: &str,
) -> Result<std::result::Result<Disclosure, (&'static str, &'static str)>> {
    let agency_kind = app.store.agency(agency_id).await?.map(|a| a.kind).unwrap_or_default();
    let today = app.today();
    let found = app.store.consents(person_id).await?.into_iter().find(|r| {
        r.consent().is_some_and(|c| consent::allows_sharing(std::slice::from_ref(&c), agency_id, &agency_kind, today))
    });
    let basis = legal_basis.trim();
    Ok(match found {
        Some(r) => {
            let ends_at = r.consent().and_then(|c| c.ends_at());
            Ok(Disclosure::Consent { id: r.id, ends_at })
        }
        None if !caller.can(Action::OverrideConsent) => Err(("agency", "error.consent_missing")),
        None if basis.chars().count() < consent::MIN_LEGAL_BASIS_CHARS => Err(("legal_basis", "error.legal_basis")),
        None => Ok(Disclosure::LegalBasis(basis.to_owned())),
    })
}

/// Inside the command that relies on it: whether the consent found before it began (if any) is still not
/// withdrawn. When it is not, the caller drops the command and nothing is written.
pub async fn consent_still_stands(cmd: &mut haven_store::Command, consent_id: Option<&str>) -> Result<bool> {
    Ok(match consent_id {
        Some(c) => haven_store::victims::consent_not_withdrawn(cmd, c).await?,
        None => true,
    })
}

/// Share a record the caller's agency owns with another agency or one user, for a purpose and a number of
/// days.
pub async fn share(app: &App, caller: &Caller, kind: &str, id: &str, form: &GrantForm) -> Result<Outcome<()>> {
    caller.require(Action::GrantAccess)?;
    access::require_owner(caller, &owner_of(app, kind, id).await?)?;
    let mut f = Fields::default();
    let grantee = if !form.username.trim().is_empty() {
        match app.store.user_by_name(form.username.trim()).await? {
            Some(u) if !u.disabled => Some(Grantee::User(u.id)),
            _ => {
                f.add("username", "error.unknown_user");
                None
            }
        }
    } else {
        match app.store.agency_by_code(form.agency.trim()).await? {
            Some(a) if a.id != caller.agency.id => Some(Grantee::Agency(a.id)),
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
    let days = form.days.trim().parse::<i64>().ok().filter(|d| (1..=rules::GRANT_MAX_DAYS).contains(d));
    if days.is_none() {
        f.add("days", "error.grant_days");
    }
    let (Some(grantee), Some(days), false) = (grantee, days, f.has_errors()) else {
        return Ok(Err(f.errors));
    };
    // A victim's record: the person's consent for that agency, or a legal basis from a user who may override.
    let (mut consent_id, mut legal_basis, mut consent_ends) = (None, None, None);
    if let Some(person) = consent_subject(app, kind, id).await? {
        let agency_id = match &grantee {
            Grantee::Agency(a) => a.clone(),
            Grantee::User(u) => app.store.user(u).await?.map(|u| u.agency_id).unwrap_or_default(),
        };
        match consent_or_basis(app, caller, &person, &agency_id, &form.legal_basis).await? {
            Ok(Disclosure::Consent { id, ends_at }) => (consent_id, consent_ends) = (Some(id), ends_at),
            Ok(Disclosure::LegalBasis(b)) => legal_basis = Some(b),
            Err((field, key)) => return Ok(Err(vec![(field.into(), key.into())])),
        }
    }
    let mut cmd = app.store.command(&caller.actor()).await?;
    // The consent was found before the command; a withdrawal may have landed since.
    if !consent_still_stands(&mut cmd, consent_id.as_deref()).await? {
        return Ok(Fields::one("agency", "error.consent_missing"));
    }
    let expires_at = cmd.at + days * DAY;
    // A grant cannot be made to last longer than the consent it rests on.
    if consent_ends.is_some_and(|end| expires_at > end) {
        return Ok(Fields::one("days", "error.grant_beyond_consent"));
    }
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

/// Revoke a grant on a record the caller's agency owns.
pub async fn revoke(app: &App, caller: &Caller, kind: &str, id: &str, grant_id: &str) -> Result<()> {
    caller.require(Action::GrantAccess)?;
    access::require_owner(caller, &owner_of(app, kind, id).await?)?;
    let mut cmd = app.store.command(&caller.actor()).await?;
    if !haven_store::access::revoke_grant(&mut cmd, kind, id, grant_id).await? {
        return Err(Error::NotFound);
    }
    cmd.commit().await?;
    Ok(())
}

/// The agency that owns a record of a kind that can be shared.
pub async fn owner_of(app: &App, kind: &str, id: &str) -> Result<String> {
    let s = &app.store;
    let owner = match kind {
        haven_store::persons::KIND => s.person(id).await?.map(|p| p.owner_agency_id),
        haven_store::reports::KIND => s.report(id).await?.map(|r| r.owner_agency_id),
        haven_store::cases::KIND => s.case(id).await?.map(|c| c.owner_agency_id),
        haven_store::victims::KIND => s.victim_case(id).await?.map(|v| v.owner_agency_id),
        _ => return Err(Error::BadRequest("record kind".into())),
    };
    owner.ok_or(Error::NotFound)
}

/// The grants on a record, live or not, newest first: for its owner.
pub async fn grants(app: &App, caller: &Caller, kind: &str, id: &str) -> Result<Vec<haven_store::access::GrantRow>> {
    access::require_owner(caller, &owner_of(app, kind, id).await?)?;
    Ok(app.store.grants_on(kind, id).await?)
}
