//! The person's consents, per purpose, with who gave them, when, until when, and their withdrawal.

use haven_domain::victims::consent::{self as rules, NewConsent};
use haven_domain::Action;
use haven_store::victims::{self as store, NewConsentRow};
use serde::Deserialize;

use super::owned;
use crate::input::optional_date;
use crate::{App, Caller, Error, Fields, Outcome, Result};

#[derive(Deserialize)]
pub struct ConsentForm {
    pub purpose: String,
    #[serde(default)]
    pub target_agency: String,
    #[serde(default)]
    pub target_kind: String,
    pub given_by: String,
    #[serde(default)]
    pub representative: String,
    pub given_on: String,
    #[serde(default)]
    pub expires_on: String,
}

/// Record the person's consent for a purpose (sharing with an agency or a kind of agency, statistics,
/// contacting the family, ...), given by the person or, for a child, a representative.
pub async fn record(app: &App, caller: &Caller, id: &str, form: &ConsentForm) -> Result<Outcome<()>> {
    caller.require(Action::EditRecords)?;
    let v = owned(app, caller, id).await?;
    let given_on = haven_domain::format::event_day(&form.given_on, app.today());
    let expires = optional_date(&form.expires_on);
    let (given_on, expires_on) = match (given_on, expires) {
        (Ok(g), Ok(e)) => (g, e),
        (Err(key), _) => return Ok(Fields::one("consent_given_on", key)),
        (Ok(_), Err(_)) => return Ok(Fields::one("consent_expires_on", "error.date")),
    };
    let target = match form.purpose.as_str() {
        "share_agency" => app.store.agency(form.target_agency.trim()).await?.map(|a| a.id).unwrap_or_default(),
        "share_agency_kind" => {
            let kind = form.target_kind.trim();
            let known = app.store.agencies().await?.iter().any(|a| a.kind == kind);
            if known {
                kind.to_owned()
            } else {
                String::new()
            }
        }
        _ => String::new(),
    };
    let new = NewConsent {
        purpose: &form.purpose,
        target: &target,
        given_by: &form.given_by,
        representative: &form.representative,
        given_on,
        expires_on,
    };
    if let Err(e) = rules::check(&new, v.child, app.today()) {
        let field = match e {
            rules::ConsentError::TargetMissing => "consent_target",
            rules::ConsentError::RepresentativeRequired | rules::ConsentError::RepresentativeName => "representative",
            rules::ConsentError::InFuture => "consent_given_on",
            rules::ConsentError::ExpiryBeforeGiven => "consent_expires_on",
            rules::ConsentError::UnknownPurpose => "consent_purpose",
        };
        return Ok(Fields::one(field, e.key()));
    }
    let mut cmd = app.store.command(&caller.actor()).await?;
    // The case may have been handed over since it was read: only its holder records consents on it.
    super::owned_in(&mut cmd, caller, &v.id).await?;
    let row = NewConsentRow {
        person_id: &v.person_id,
        purpose: &form.purpose,
        target: &target,
        given_by: &form.given_by,
        representative: Some(form.representative.trim()),
        given_on,
        expires_on,
    };
    store::record_consent(&mut cmd, &app.store.keys, &row).await?;
    cmd.commit().await?;
    Ok(Ok(()))
}

/// Withdraw a consent: the access it gave ends at once (grants resting on it stop opening the record).
pub async fn withdraw(app: &App, caller: &Caller, id: &str, consent_id: &str) -> Result<()> {
    caller.require(Action::EditRecords)?;
    let v = owned(app, caller, id).await?;
    let mut cmd = app.store.command(&caller.actor()).await?;
    if !store::withdraw_consent(&mut cmd, &v.person_id, consent_id, app.today()).await? {
        return Err(Error::NotFound);
    }
    cmd.commit().await?;
    Ok(())
}
