//! Candidate matches: pairs of register people (returnees, absentees, victims) that may be one person, each
//! with its probability and the explanation field by field. A reviewer confirms (the records are linked, or
//! merged when both belong to the agency) or rejects (never proposed again); every decision is audited. A
//! provincial head may run matching over the whole registers, which also retrains the model.

use haven_domain::Action;
use haven_store::matches::{self, CandidateRow, Decision};
use haven_store::persons::{self, Merge};
use serde::{Deserialize, Serialize};

use crate::{App, Caller, Error, Result};

/// One side of a pair as the caller may know it. A record of the caller's agency shows its register, code
/// and a link; a record of another agency shows only which agency holds it: its register and code would
/// tell, for one, that the person is a known victim.
#[derive(Clone, Debug, Serialize)]
pub struct SideView {
    /// returnee, absentee, victim, person, or `other` for another agency's record.
    pub register: &'static str,
    pub code: Option<String>,
    pub agency_id: String,
    pub link: Option<String>,
}

/// A pair as the caller may know it, for the pages and the API. The explanation (which fields agreed, and
/// how strongly) speaks of identity fields: it is given only to those who may see identities.
#[derive(Clone, Debug, Serialize)]
pub struct PairView {
    pub id: String,
    pub probability: f64,
    pub status: String,
    pub source: String,
    pub this: SideView,
    pub other: SideView,
    pub explanation: Vec<matches::Part>,
    pub can_decide: bool,
    pub can_merge: bool,
}

/// Where a person stands in the registers: the first register entry found, for a pair's side.
pub async fn side_view(app: &App, caller: &Caller, person_id: &str) -> Result<SideView> {
    let p = app.store.person(person_id).await?.ok_or(Error::NotFound)?;
    if p.owner_agency_id != caller.agency.id {
        return Ok(SideView { register: "other", code: None, agency_id: p.owner_agency_id, link: None });
    }
    let mine = |owner: &str| owner == caller.agency.id;
    let view = |register, code, owner: String, link: String| SideView {
        register,
        code: Some(code),
        link: mine(&owner).then_some(link),
        agency_id: owner,
    };
    if let Some(r) = app.store.returnees_of_person(person_id).await?.into_iter().next() {
        return Ok(view("returnee", r.case_code, r.owner_agency_id, format!("/returnees/{}", r.id)));
    }
    if let Some(a) = app.store.absentees_of_person(person_id).await?.into_iter().next() {
        return Ok(view("absentee", a.case_code, a.owner_agency_id, format!("/absentees/{}", a.id)));
    }
    if let Some(v) = app.store.victim_cases_of_person(person_id).await?.into_iter().next() {
        return Ok(view("victim", v.case_code, v.owner_agency_id, format!("/victims/{}", v.id)));
    }
    Ok(view("person", p.case_code, p.owner_agency_id, format!("/persons/{}", p.id)))
}

/// A pair seen from `from`'s side.
pub async fn pair_view(app: &App, caller: &Caller, m: CandidateRow, from: &str) -> Result<PairView> {
    let this = side_view(app, caller, from).await?;
    let other = side_view(app, caller, m.other(from)).await?;
    let (mine_a, mine_b) = if m.person_a == from {
        (this.register != "other", other.register != "other")
    } else {
        (other.register != "other", this.register != "other")
    };
    let open = m.status == "open";
    let edit = caller.can(Action::EditRecords);
    let explanation = if caller.can(Action::ViewIdentity) { matches::decode_evidence(&m.evidence) } else { Vec::new() };
    Ok(PairView {
        probability: m.probability,
        can_decide: open && (mine_a || mine_b) && edit,
        can_merge: open && mine_a && mine_b && edit,
        id: m.id,
        status: m.status,
        source: m.source,
        this,
        other,
        explanation,
    })
}

/// Which side of a pair the caller's agency sees it from: its own record when it has one on the pair.
pub async fn viewer_side(app: &App, caller: &Caller, m: &CandidateRow) -> Result<String> {
    let a_mine = app.store.person(&m.person_a).await?.is_some_and(|p| p.owner_agency_id == caller.agency.id);
    Ok(if a_mine { m.person_a.clone() } else { m.person_b.clone() })
}

/// A run over the whole registers opens every agency's register people in memory: it is for the head of a
/// provincial agency, not of a commune (whose own entries are matched as they are written).
pub fn may_sweep(caller: &Caller) -> bool {
    caller.can(Action::SuperviseAgency) && caller.agency.level == "province"
}

/// Match every register person against every other and retrain the model by EM.
pub async fn sweep(app: &App, caller: &Caller) -> Result<matches::SweepReport> {
    if !may_sweep(caller) {
        return Err(Error::Forbidden);
    }
    let mut cmd = app.store.command(&caller.actor()).await?;
    let report = matches::sweep(&mut cmd, &app.store.keys).await?;
    cmd.commit().await?;
    Ok(report)
}

#[derive(Clone, Debug, Deserialize)]
pub struct DecisionForm {
    /// same, merge or different.
    pub decision: String,
}

/// What a decision did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decided {
    Done(Decision),
    /// Decided meanwhile by someone else.
    Stale,
    /// A merge was refused; the key of the reason.
    Refused(&'static str),
}

/// Decide a pair with a record of the caller's agency on at least one side; a merge needs both sides.
pub async fn decide(app: &App, caller: &Caller, id: &str, decision: &str) -> Result<Decided> {
    caller.require(Action::EditRecords)?;
    let m = &app.store.candidate(id).await?.ok_or(Error::NotFound)?;
    let a = app.store.person(&m.person_a).await?.ok_or(Error::NotFound)?;
    let b = app.store.person(&m.person_b).await?.ok_or(Error::NotFound)?;
    let (mine_a, mine_b) = (a.owner_agency_id == caller.agency.id, b.owner_agency_id == caller.agency.id);
    if !(mine_a || mine_b) {
        return Err(Error::Forbidden);
    }
    let d = match decision {
        "same" => Decision::Same,
        "different" => Decision::Different,
        "merge" if mine_a && mine_b => Decision::Merged,
        "merge" => return Err(Error::Forbidden),
        _ => return Err(Error::BadRequest("decision".into())),
    };
    let mut cmd = app.store.command(&caller.actor()).await?;
    if d == Decision::Merged {
        // The older record survives: ids are time-ordered.
        let (survivor, merged) = if a.id <= b.id { (&a.id, &b.id) } else { (&b.id, &a.id) };
        match persons::merge(&mut cmd, &app.store.keys, &caller.agency.id, survivor, merged, "match_review").await? {
            Merge::Done => {}
            Merge::Gone => return Ok(Decided::Stale),
            Merge::CustodyOnBoth => return Ok(Decided::Refused("error.merge_custody")),
            Merge::OtherAgencies => return Ok(Decided::Refused("error.merge_other_agencies")),
        }
    }
    if !matches::decide(&mut cmd, m, d).await? {
        return Ok(Decided::Stale);
    }
    cmd.commit().await?;
    Ok(Decided::Done(d))
}

/// The open pairs with a record of the caller's agency, each seen from the agency's side.
pub async fn open_pairs(app: &App, caller: &Caller, limit: i64) -> Result<Vec<PairView>> {
    caller.require(Action::ViewRecords)?;
    let mut out = Vec::new();
    for m in app.store.open_candidates_of_agency(&caller.agency.id, limit).await? {
        let from = viewer_side(app, caller, &m).await?;
        out.push(pair_view(app, caller, m, &from).await?);
    }
    Ok(out)
}

/// The pairs a person is in, seen from that person's side.
pub async fn pairs_of_person(app: &App, caller: &Caller, person_id: &str) -> Result<Vec<PairView>> {
    let mut out = Vec::new();
    for m in app.store.candidates_of_person(person_id).await? {
        out.push(pair_view(app, caller, m, person_id).await?);
    }
    Ok(out)
}
