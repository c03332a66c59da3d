//! Identification as the law has it: verification with the police first (or the recorded reason why it could
//! not be done); then an officer proposes the outcome (identified as a victim, or not) with the legal basis,
//! the evidence and the reasons; an agency head of the owning agency, not the proposer, approves it or
//! returns it with a comment. Heads see the decisions waiting for them ([`pending`]); an approved
//! identification prints as a certificate ([`certificate`]).

use haven_domain::format::parse_date;
use haven_domain::victims::{self as rules, Identification, Status};
use haven_domain::{Action, Role};
use haven_store::victims as store;
use serde::Deserialize;

use super::owned_in;
use crate::{App, Caller, Error, Outcome, Result};

#[derive(Deserialize)]
pub struct IdentificationForm {
    pub outcome: String,
    pub decided_on: String,
    #[serde(default)]
    pub legal_basis: String,
    /// Evidence codes from `haven_domain::store::EVIDENCE`.
    #[serde(default)]
    pub evidence: Vec<String>,
    #[serde(default)]
    pub certificate_number: String,
    #[serde(default)]
    pub reasons: String,
}

/// An officer proposes the outcome of identification with its grounds; an agency head approves it.
pub async fn propose(app: &App, caller: &Caller, id: &str, form: &IdentificationForm) -> Result<Outcome<()>> {
    caller.require(Action::EditRecords)?;
    let Some(decided_on) = parse_date(&form.decided_on) else {
        return Ok(Err(vec![("decided_on".into(), "error.date".into())]));
    };
    let proposal = Identification {
        outcome: Status::from_code(&form.outcome).unwrap_or(Status::Signs),
        decided_on,
        legal_basis: form.legal_basis.clone(),
        evidence: form.evidence.clone(),
        certificate_number: form.certificate_number.clone(),
        reasons: form.reasons.clone(),
    };
    let mut cmd = app.store.command(&caller.actor()).await?;
    let v = owned_in(&mut cmd, caller, id).await?;
    let standing = rules::Standing {
        current: v.status(),
        pending: v.pending(),
        closed: v.closed_on.is_some(),
        verified: v.verified_on.is_some() || v.verification_waived_on.is_some(),
        received: v.received().unwrap_or(decided_on),
    };
    if let Err(e) = rules::check_identification(standing, app.today(), &proposal) {
        let field = match e {
            rules::VictimError::InFuture | rules::VictimError::BeforeReception => "decided_on",
            rules::VictimError::EvidenceMissing => "evidence",
            rules::VictimError::BasisMissing => "legal_basis",
            rules::VictimError::CertificateMissing => "certificate_number",
            rules::VictimError::ReasonsMissing => "reasons",
            _ => "outcome",
        };
        return Ok(Err(vec![(field.into(), e.key().into())]));
    }
    store::propose_identification(&mut cmd, &app.store.keys, &v.id, &proposal).await?;
    cmd.commit().await?;
    Ok(Ok(()))
}

/// Approve the pending identification: an agency head of the owning agency, not the proposer.
pub async fn approve(app: &App, caller: &Caller, id: &str) -> Result<Outcome<()>> {
    caller.require(Action::EditRecords)?;
    let mut cmd = app.store.command(&caller.actor()).await?;
    let v = owned_in(&mut cmd, caller, id).await?;
    let proposer = v.proposed_by.as_deref().unwrap_or_default();
    if let Err(e) = rules::check_approval(v.pending(), caller.has_role(Role::AgencyHead), &caller.user.id, proposer) {
        return Ok(Err(vec![("approve".to_owned(), e.key().to_owned())]));
    }
    store::approve_identification(&mut cmd, &v.id).await?;
    cmd.commit().await?;
    Ok(Ok(()))
}

#[derive(Deserialize)]
pub struct ReturnForm {
    /// What the officer is to amend.
    #[serde(default)]
    pub comment: String,
}

/// Return the pending proposal to the officer with a comment: an agency head of the owning agency, not the
/// proposer. The grounds stay on the case for the officer to amend and propose again.
pub async fn send_back(app: &App, caller: &Caller, id: &str, form: &ReturnForm) -> Result<Outcome<()>> {
    caller.require(Action::EditRecords)?;
    let mut cmd = app.store.command(&caller.actor()).await?;
    let v = owned_in(&mut cmd, caller, id).await?;
    let proposer = v.proposed_by.as_deref().unwrap_or_default();
    let is_head = caller.has_role(Role::AgencyHead);
    if let Err(e) = rules::check_return(v.pending(), is_head, &caller.user.id, proposer, &form.comment) {
        let field = if e == rules::VictimError::CommentMissing { "return_comment" } else { "approve" };
        return Ok(Err(vec![(field.to_owned(), e.key().to_owned())]));
    }
    if !store::return_identification(&mut cmd, &app.store.keys, &v.id, &form.comment).await? {
        return Ok(Err(vec![("approve".to_owned(), rules::VictimError::NothingPending.key().to_owned())]));
    }
    cmd.commit().await?;
    Ok(Ok(()))
}

/// The identification decisions of the caller's agency waiting for a head, oldest first.
pub async fn pending(app: &App, caller: &Caller, limit: i64) -> Result<Vec<store::VictimLine>> {
    caller.require(Action::ViewRecords)?;
    if !caller.has_role(Role::AgencyHead) {
        return Ok(Vec::new());
    }
    Ok(app.store.identifications_pending(&caller.agency.id, limit).await?)
}

/// What a head judges a proposal on, and what the officer reads when it comes back: the grounds (the
/// reasons opened for the holder), who proposed, and the head's comment on the last return.
pub struct Grounds {
    pub proposer: Option<String>,
    pub reasons: Option<String>,
    pub returned_comment: Option<String>,
    pub returned_by: Option<String>,
}

/// The grounds of the case's identification, for the agency that holds it.
pub async fn grounds(app: &App, caller: &Caller, v: &store::VictimCase) -> Result<Grounds> {
    if v.owner_agency_id != caller.agency.id {
        return Err(Error::Forbidden);
    }
    let name = |id: Option<String>| async move {
        match id {
            Some(id) => app.store.user(&id).await.map(|u| u.map(|u| u.display_name)),
            None => Ok(None),
        }
    };
    // Each sealed part is read only when the case holds one: most case pages have neither.
    let reasons = if v.proposed_outcome.is_some() { app.store.identification_reasons(&v.id).await? } else { None };
    let returned_comment = if v.returned_by.is_some() { app.store.returned_comment(&v.id).await? } else { None };
    Ok(Grounds {
        proposer: name(v.proposed_by.clone()).await?,
        reasons,
        returned_comment,
        returned_by: name(v.returned_by.clone()).await?,
    })
}

/// The identification certificate of an identified victim: the approved decision and the person it names.
pub struct Certificate {
    pub case: store::VictimCase,
    pub person: crate::persons::Opened,
    pub approver: Option<String>,
}

/// The certificate of an approved identification, for the agency that holds the case: opening the person's
/// identity to print it is audited with the purpose "support" (the certificate is what the victim shows to
/// receive support).
pub async fn certificate(app: &App, caller: &Caller, id: &str) -> Result<Certificate> {
    caller.require(Action::ViewIdentity)?;
    let v = super::owned(app, caller, id).await?;
    if v.status() != Status::Identified || v.approved_by.is_none() {
        return Err(Error::NotFound);
    }
    let person = match crate::persons::open(app, caller, &v.person_id, "support").await? {
        Ok(p) => p,
        Err(_) => return Err(Error::Forbidden),
    };
    let approver = match &v.approved_by {
        Some(u) => app.store.user(u).await?.map(|u| u.display_name),
        None => None,
    };
    Ok(Certificate { case: v, person, approver })
}
