//! Who may see what: a record belongs to an agency, and others see it only through what the procedure sent
//! them, a live grant or an open break-the-glass window. The rule itself is `haven_domain::access::decide`;
//! this module gathers its inputs from the store.

use haven_domain::AccessDecision;

use crate::{App, Caller, Error, Result};

/// Whether the caller may see a record of `kind` owned by `owner_agency_id`: the owner, an agency the
/// procedure sent it to (`sent_to`), a live grant, or an open break-the-glass window
/// (`haven_domain::access::decide`).
pub async fn record_access(
    app: &App,
    caller: &Caller,
    kind: &str,
    id: &str,
    owner_agency_id: &str,
    sent_to: &[&str],
) -> anyhow::Result<AccessDecision> {
    if owner_agency_id == caller.agency.id {
        return Ok(AccessDecision::Owner);
    }
    if sent_to.contains(&caller.agency.id.as_str()) {
        return Ok(AccessDecision::SentTo);
    }
    let (grants, bg) = app.store.access_inputs(kind, id).await?;
    Ok(haven_domain::access::decide(&haven_domain::AccessRequest {
        user_id: &caller.user.id,
        agency_id: &caller.agency.id,
        owner_agency_id,
        sent_to,
        grants: &grants,
        break_glass: &bg,
        now: app.store.now(),
    }))
}

/// Whether the caller's agency may open a record's sealed fields (a reporter's identity, a judgment): the
/// owner and the agencies the procedure sent it to. A grant lets an agency read the record, not unseal it.
pub fn may_unseal(caller: &Caller, owner_agency_id: &str, sent_to: &[&str]) -> bool {
    caller.can(haven_domain::Action::ViewIdentity)
        && (owner_agency_id == caller.agency.id || sent_to.contains(&caller.agency.id.as_str()))
}

/// Refuse unless the caller may see the record.
pub async fn require(
    app: &App,
    caller: &Caller,
    kind: &str,
    id: &str,
    owner_agency_id: &str,
    sent_to: &[&str],
) -> Result<AccessDecision> {
    let decision = record_access(app, caller, kind, id, owner_agency_id, sent_to).await?;
    if decision.allowed() {
        Ok(decision)
    } else {
        Err(Error::Forbidden)
    }
}

/// Refuse unless the record belongs to the caller's agency (changes are made by the owner).
pub fn require_owner(caller: &Caller, owner_agency_id: &str) -> Result<()> {
    if owner_agency_id == caller.agency.id {
        Ok(())
    } else {
        Err(Error::Forbidden)
    }
}
