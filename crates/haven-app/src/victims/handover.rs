//! Handing a victim case over to another agency (the rules are `haven_domain::victims::handover`): the holder
//! proposes, on the person's consent for the receiver or a legal basis recorded by a user with the override
//! right; the receiver accepts (and owns the case from then on) or declines with a reason; the sender may
//! withdraw a proposal not yet answered. The sender keeps reading what it recorded while it held the case
//! ([`super::sight`]).

pub use haven_domain::victims::handover::Answer;
use haven_domain::victims::handover::{self as rules, HandoverError, Status};
use haven_domain::Action;
use haven_store::victims::{self as store, HandoverRow, NewHandover, NewStep};
use serde::Deserialize;

use crate::sharing::{consent_or_basis, consent_still_stands, Disclosure};
use crate::{App, Caller, Error, Fields, Outcome, Result};

#[derive(Deserialize)]
pub struct HandoverForm {
    /// The receiving agency's id.
    pub to_agency: String,
    /// Why the case goes there (what the receiver is to do).
    #[serde(default)]
    pub reason: String,
    /// Only without the person's consent, and only for a user with the override right.
    #[serde(default)]
    pub legal_basis: String,
}

/// Propose handing the case over. Answers the handover's id.
pub async fn propose(app: &App, caller: &Caller, case_id: &str, form: &HandoverForm) -> Result<Outcome<String>> {
    caller.require(Action::EditRecords)?;
    let v = super::owned(app, caller, case_id).await?;
    let to = app.store.agency(form.to_agency.trim()).await?.filter(|a| a.active);
    let to_kind = to.as_ref().map(|a| a.kind.clone()).unwrap_or_default();
    let to_is_sender = to.as_ref().is_some_and(|a| a.id == caller.agency.id);
    let pending = app.store.handovers_of_case(&v.id).await?.iter().any(|h| h.status == Status::Proposed.code());
    if let Err(e) = rules::check_propose(
        &app.profile.handovers,
        &caller.agency.kind,
        &to_kind,
        to_is_sender,
        pending,
        v.closed_on.is_some(),
        &form.reason,
    ) {
        let field = match e {
            HandoverError::ReasonMissing => "handover_reason",
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
            let field = if field == "agency" { "to_agency" } else { "handover_legal_basis" };
            return Ok(Fields::one(field, key));
        }
    };
    let mut cmd = app.store.command(&caller.actor()).await?;
    // What was checked before the consent look-up still holds only if nothing changed meanwhile.
    let v = super::owned_in(&mut cmd, caller, &v.id).await?;
    if v.closed_on.is_some() || store::handover_pending(&mut cmd, &v.id).await? {
        return Ok(Fields::one("to_agency", HandoverError::Pending.key()));
    }
    if !consent_still_stands(&mut cmd, consent_id.as_deref()).await? {
        return Ok(Fields::one("to_agency", "error.consent_missing"));
    }
    let new = NewHandover {
        case_id: &v.id,
        from_agency_id: &caller.agency.id,
        to_agency_id: &to.id,
        reason: &form.reason,
        consent_id: consent_id.as_deref(),
        legal_basis: legal_basis.as_deref(),
    };
    let id = store::propose_handover(&mut cmd, &app.store.keys, &new).await?;
    cmd.commit().await?;
    Ok(Ok(id))
}

/// What an answer did: the handover as it now stands, or why it was refused (a translation key).
pub type Answered = std::result::Result<HandoverRow, &'static str>;

/// Accept or decline a handover proposed to the caller's agency, or withdraw one it proposed.
pub async fn answer(app: &App, caller: &Caller, id: &str, a: Answer, reason: &str) -> Result<Answered> {
    caller.require(Action::EditRecords)?;
    let h = app.store.handover(id).await?.ok_or(Error::NotFound)?;
    let mine = match a {
        Answer::Accept | Answer::Decline => h.to_agency_id == caller.agency.id,
        Answer::Withdraw => h.from_agency_id == caller.agency.id,
    };
    if !mine {
        return Err(Error::Forbidden);
    }
    if a == Answer::Accept && h.legal_basis.is_none() && h.status == Status::Proposed.code() {
        // The consent the handover rests on must still be in force: expired or withdrawn, it ends it.
        let t = app.today();
        let in_force = app
            .store
            .consents(&h.person_id)
            .await?
            .iter()
            .any(|k| Some(&k.id) == h.consent_id.as_ref() && k.consent().is_some_and(|k| k.in_force(t)));
        if !in_force {
            return Ok(Err("error.consent_missing"));
        }
    }
    let mut cmd = app.store.command(&caller.actor()).await?;
    let h = store::current_handover(&mut cmd, id).await?.ok_or(Error::NotFound)?;
    let status = Status::from_code(&h.status).ok_or_else(|| anyhow::anyhow!("stored handover status {}", h.status))?;
    let next = match rules::check_answer(status, a, reason) {
        Ok(next) => next,
        Err(e) => return Ok(Err(e.key())),
    };
    let done = match next {
        Status::Accepted => {
            if !consent_still_stands(&mut cmd, h.consent_id.as_deref()).await? {
                return Ok(Err("error.consent_missing"));
            }
            let case = store::current(&mut cmd, &h.case_id).await?.ok_or(Error::NotFound)?;
            if case.closed_on.is_some() {
                return Ok(Err(HandoverError::Closed.key()));
            }
            let today = app.today();
            let accepted = store::accept_handover(&mut cmd, &h, today).await?;
            if accepted {
                // The receiver's first step on the case: it took it over, today.
                let step = NewStep {
                    kind: "handover",
                    on: today,
                    commune_code: None,
                    agency_id: &caller.agency.id,
                    officer: &caller.user.display_name,
                    note: None,
                };
                store::record_step(&mut cmd, &app.store.keys, &h.case_id, &step).await?;
            }
            accepted
        }
        Status::Declined | Status::Withdrawn => store::close_handover(&mut cmd, &h, next.code(), reason).await?,
        Status::Proposed => false,
    };
    if !done {
        return Ok(Err(HandoverError::WrongStatus.key()));
    }
    cmd.commit().await?;
    Ok(Ok(app.store.handover(id).await?.ok_or(Error::NotFound)?))
}

/// Handovers proposed to the caller's agency and not yet answered.
pub async fn incoming(app: &App, caller: &Caller, limit: i64) -> Result<Vec<HandoverRow>> {
    caller.require(Action::ViewRecords)?;
    Ok(app.store.handovers_to(&caller.agency.id, limit).await?)
}

/// A handover's reason, for the two agencies it concerns.
pub async fn reason(app: &App, caller: &Caller, h: &HandoverRow) -> Result<Option<String>> {
    if h.from_agency_id != caller.agency.id && h.to_agency_id != caller.agency.id {
        return Err(Error::Forbidden);
    }
    Ok(app.store.handover_reason(h).await?)
}
