//! Referrals between agencies about a victim case: sent with a purpose and a due date after the consent check,
//! then accepted (the receiver may read the case until it is completed or falls due), declined with a reason,
//! or completed. The kinds and who may receive them come from the profile (`referral-kinds.txt`).

use haven_domain::format::parse_date;
pub use haven_domain::victims::referral::Answer;
use haven_domain::victims::referral::{self, Status};
use haven_domain::Action;
use haven_store::victims::{self as store, NewReferral, ReferralRow};
use serde::Deserialize;

use crate::sharing::{consent_or_basis, Disclosure};
use crate::{App, Caller, Error, Fields, Outcome, Result};

#[derive(Deserialize)]
pub struct ReferralForm {
    pub kind: String,
    pub to_agency: String,
    /// dd/mm/yyyy; blank: the kind's usual number of days from today.
    #[serde(default)]
    pub due_on: String,
    #[serde(default)]
    pub purpose: String,
    /// Without the person's consent, for a user with the override right.
    #[serde(default)]
    pub legal_basis: String,
}

/// Send a referral about a case the caller's agency owns, after checking the person's consent. Answers the
/// referral's id.
pub async fn send(app: &App, caller: &Caller, case_id: &str, form: &ReferralForm) -> Result<Outcome<String>> {
    caller.require(Action::EditRecords)?;
    let v = crate::victims::owned(app, caller, case_id).await?;
    let t = app.today();
    let kind = app.profile.referrals.kind(form.kind.trim());
    let due = match (form.due_on.trim(), kind) {
        ("", Some(k)) => Some(t + time::Duration::days(i64::from(k.days))),
        (s, _) => parse_date(s),
    };
    let Some(due) = due else { return Ok(Fields::one("referral_due", "error.date")) };
    let to = app.store.agency(form.to_agency.trim()).await?.filter(|a| a.active);
    let to_kind = to.as_ref().map(|a| a.kind.as_str()).unwrap_or_default();
    let to_is_sender = to.as_ref().is_some_and(|a| a.id == caller.agency.id);
    if let Err(e) = referral::check_send(&app.profile.referrals, form.kind.trim(), to_kind, to_is_sender, due, t) {
        let field = match e {
            referral::ReferralError::UnknownKind => "referral_kind",
            referral::ReferralError::DueInPast => "referral_due",
            _ => "to_agency",
        };
        return Ok(Fields::one(field, e.key()));
    }
    let Some(to) = to else { return Ok(Fields::one("to_agency", "error.choice")) };
    let (consent_id, legal_basis) = match consent_or_basis(app, caller, &v.person_id, &to.id, &form.legal_basis).await?
    {
        Ok(Disclosure::Consent { id: c, .. }) => (Some(c), None),
        Ok(Disclosure::LegalBasis(b)) => (None, Some(b)),
        Err((field, key)) => {
            let field = if field == "agency" { "to_agency" } else { "referral_legal_basis" };
            return Ok(Fields::one(field, key));
        }
    };
    let mut cmd = app.store.command(&caller.actor()).await?;
    // The case may have been handed over since it was read: only its holder refers it.
    let v = crate::victims::owned_in(&mut cmd, caller, &v.id).await?;
    if !crate::sharing::consent_still_stands(&mut cmd, consent_id.as_deref()).await? {
        return Ok(Fields::one("to_agency", "error.consent_missing"));
    }
    let new = NewReferral {
        case_id: &v.id,
        kind: form.kind.trim(),
        from_agency_id: &caller.agency.id,
        to_agency_id: &to.id,
        purpose: &form.purpose,
        due_on: due,
        consent_id: consent_id.as_deref(),
        legal_basis: legal_basis.as_deref(),
    };
    let id = store::send_referral(&mut cmd, &app.store.keys, &new).await?;
    cmd.commit().await?;
    Ok(Ok(id))
}

/// What an answer to a referral did: the referral as it now stands, or why it was refused (a translation
/// key).
pub type Answered = std::result::Result<ReferralRow, &'static str>;

/// Answer a referral sent to the caller's agency: accept (the receiver may then work on the parts of the
/// case its kind opens, until the due day ends), decline with a reason, or complete.
pub async fn answer(app: &App, caller: &Caller, id: &str, a: Answer, reason: &str) -> Result<Answered> {
    caller.require(Action::EditRecords)?;
    let r = app.store.referral(id).await?.ok_or(Error::NotFound)?;
    if r.to_agency_id != caller.agency.id {
        return Err(Error::Forbidden);
    }
    let status = Status::from_code(&r.status).ok_or_else(|| anyhow::anyhow!("stored referral status {}", r.status))?;
    let due = parse_date(&r.due_on).ok_or_else(|| anyhow::anyhow!("stored referral due date"))?;
    if let Err(e) = referral::answer(status, a, reason, due, app.today()) {
        return Ok(Err(e.key()));
    }
    // Access lasts to the end of the due day in Viet Nam, or until the consent it rests on ends if sooner.
    let mut until = haven_domain::time::day_start(due + time::Duration::days(1));
    if a == Answer::Accept && r.legal_basis.is_none() {
        // The consent the referral rests on must still be in force: a withdrawal before acceptance ends it.
        let case = app.store.victim_case(&r.case_id).await?.ok_or(Error::NotFound)?;
        let t = app.today();
        let consent = app
            .store
            .consents(&case.person_id)
            .await?
            .iter()
            .filter(|k| Some(&k.id) == r.consent_id.as_ref())
            .find_map(|k| k.consent().filter(|k| k.in_force(t)));
        let Some(consent) = consent else {
            return Ok(Err(referral::ReferralError::NoConsent.key()));
        };
        until = consent.ends_at().map_or(until, |end| end.min(until));
    }
    let mut cmd = app.store.command(&caller.actor()).await?;
    let done = match a {
        Answer::Accept => {
            // The receiver reads only the parts of the case its kind of referral needs.
            let scope = app.profile.referrals.scope(&r.kind);
            // The person record opens with the case only when the referring agency owns it: an agency reading a
            // record on a grant does not pass it on.
            let owner = app.store.person(&r.person_id).await?.map(|p| p.owner_agency_id);
            let person = (haven_domain::victims::Parts::from_scope(Some(&scope)).person
                && owner.as_deref() == Some(r.from_agency_id.as_str()))
            .then_some(r.person_id.as_str());
            store::accept_referral(&mut cmd, &r, until, &scope, person).await?
        }
        Answer::Decline => store::decline_referral(&mut cmd, &r, reason).await?,
        Answer::Complete => store::complete_referral(&mut cmd, &app.store.keys, &r, reason).await?,
    };
    if !done {
        // Answered meanwhile by a colleague.
        return Ok(Err(referral::ReferralError::WrongStatus.key()));
    }
    cmd.commit().await?;
    Ok(Ok(app.store.referral(id).await?.ok_or(Error::NotFound)?))
}

/// The referrals the caller's agency received, or sent.
pub async fn list(app: &App, caller: &Caller, incoming: bool, limit: i64) -> Result<Vec<ReferralRow>> {
    caller.require(Action::ViewRecords)?;
    Ok(app.store.referrals_of_agency(&caller.agency.id, incoming, limit).await?)
}
