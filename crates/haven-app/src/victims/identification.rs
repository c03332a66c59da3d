//! Identification: an officer proposes the outcome (identified as a victim, or not) with the legal basis,
//! the evidence and the reasons; an agency head of the owning agency, not the proposer, approves it.

use haven_domain::format::parse_date;
use haven_domain::victims::{self as rules, Identification, Status};
use haven_domain::{Action, Role};
use haven_store::victims as store;
use serde::Deserialize;

use super::owned_in;
use crate::{App, Caller, Outcome, Result};

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
    let received = v.received().unwrap_or(decided_on);
    if let Err(e) =
        rules::check_identification(v.status(), v.pending(), v.closed_on.is_some(), received, app.today(), &proposal)
    {
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
