//! Candidate matches: pairs of person records that may be one person, each with its probability and the
//! explanation field by field. Within one agency a reviewer confirms (the records are linked, or merged) or
//! rejects (never proposed again). A pair of two agencies' records is linked only when someone of each agency
//! has said it is the same person, or a provincial head has; until then neither side learns which agency
//! holds the other record, nor its code. Every decision is audited. A provincial head may run matching over
//! the whole registers, which also retrains the model.

use haven_domain::Action;
use haven_store::matches::{self, CandidateRow, Confirmed, Decision};
use haven_store::persons::{self, Merge};
use serde::{Deserialize, Serialize};

use crate::persons::PURPOSES;
use crate::{App, Caller, Error, Fields, Outcome, Result};

/// One side of a pair as the caller may know it. A record of the caller's agency shows its register, code
/// and a link; a record of another agency shows nothing until the pair is linked (its register and code
/// would tell, for one, that the person is a known victim), and then only which agency holds it.
#[derive(Clone, Debug, Serialize)]
pub struct SideView {
    /// returnee, absentee, victim, person, or `other` for another agency's record.
    pub register: &'static str,
    pub code: Option<String>,
    /// The holding agency: the caller's own, or another once the records are linked.
    pub agency_id: Option<String>,
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
    /// For an open pair of two agencies' records: `ours` when the caller's agency has said it is the same
    /// person and waits for the other, `theirs` when the other agency has and waits for the caller's.
    pub asked: Option<&'static str>,
}

/// Where a person stands in the registers: the first register entry found, for a pair's side. Another
/// agency's record is shown by its agency only when `linked`.
pub async fn side_view(app: &App, caller: &Caller, person_id: &str, linked: bool) -> Result<SideView> {
    let p = app.store.person(person_id).await?.ok_or(Error::NotFound)?;
    if p.owner_agency_id != caller.agency.id {
        let agency_id = linked.then_some(p.owner_agency_id);
        return Ok(SideView { register: "other", code: None, agency_id, link: None });
    }
    let mine = |owner: &str| owner == caller.agency.id;
    let view = |register, code, owner: String, link: String| SideView {
        register,
        code: Some(code),
        link: mine(&owner).then_some(link),
        agency_id: Some(owner),
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
    let linked = matches!(m.status.as_str(), "same" | "merged");
    let this = side_view(app, caller, from, linked).await?;
    let other = side_view(app, caller, m.other(from), linked).await?;
    let (mine_a, mine_b) = if m.person_a == from {
        (this.register != "other", other.register != "other")
    } else {
        (other.register != "other", this.register != "other")
    };
    let open = m.status == "open";
    let edit = caller.can(Action::EditRecords);
    let explanation = if caller.can(Action::ViewIdentity) { matches::decode_evidence(&m.evidence) } else { Vec::new() };
    let ours = if mine_a { m.confirmed_a_by.is_some() } else { m.confirmed_b_by.is_some() };
    let theirs = if mine_a { m.confirmed_b_by.is_some() } else { m.confirmed_a_by.is_some() };
    let asked = match (open && mine_a != mine_b, ours, theirs) {
        (true, true, _) => Some("ours"),
        (true, false, true) => Some("theirs"),
        _ => None,
    };
    Ok(PairView {
        probability: m.probability,
        asked,
        can_decide: open && (mine_a || mine_b || may_sweep(caller)) && edit && !(mine_a != mine_b && ours),
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

/// A pair, if the caller's agency holds one of its records or the caller reviews the whole province; any other
/// pair is refused alike, whether it exists or not.
pub async fn visible_pair(app: &App, caller: &Caller, id: &str) -> Result<CandidateRow> {
    let m = app.store.candidate(id).await?.ok_or(Error::Forbidden)?;
    let mine = |p: Option<haven_store::persons::PersonRow>| p.is_some_and(|p| p.owner_agency_id == caller.agency.id);
    if mine(app.store.person(&m.person_a).await?) || mine(app.store.person(&m.person_b).await?) || may_sweep(caller) {
        Ok(m)
    } else {
        Err(Error::Forbidden)
    }
}

/// One side of a pair opened for comparison: what a reviewer judges a match by. `None` where the record is
/// not one the caller may open whole (another agency's: only that agency may judge it).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Compared {
    pub full_name: String,
    /// As stored (`yyyy-mm-dd`, `yyyy-mm` or `yyyy`).
    pub birth_date: Option<String>,
    pub sex: String,
    pub id_number: Option<String>,
    pub commune_code: Option<String>,
    pub other_names: Vec<String>,
    pub ethnicity: Option<String>,
}

/// Open both records of a pair side by side, for a purpose, as the reviewer judges it: each side the caller
/// may open whole, audited person by person like any view of an identity; the other agency's side stays
/// sealed. Returns (the caller's side, the other side), as seen from the caller's agency.
pub async fn compare(
    app: &App,
    caller: &Caller,
    id: &str,
    purpose: &str,
) -> Result<Outcome<(CandidateRow, Option<Compared>, Option<Compared>)>> {
    caller.require(Action::ViewIdentity)?;
    let m = app.store.candidate(id).await?.ok_or(Error::NotFound)?;
    let a = app.store.person(&m.person_a).await?.ok_or(Error::NotFound)?;
    let b = app.store.person(&m.person_b).await?.ok_or(Error::NotFound)?;
    let (mine_a, mine_b) = (a.owner_agency_id == caller.agency.id, b.owner_agency_id == caller.agency.id);
    if !(mine_a || mine_b || may_sweep(caller)) {
        return Err(Error::Forbidden);
    }
    let purpose = purpose.trim();
    if !PURPOSES.contains(&purpose) {
        return Ok(Fields::one("compare_purpose", "error.choice"));
    }
    // The caller's side first, as [`viewer_side`] chooses it.
    let (this, other) = if mine_a { (a, b) } else { (b, a) };
    let mut opened = [None, None];
    let mut cmd = app.store.command(&caller.actor()).await?;
    for (slot, p) in opened.iter_mut().zip([&this, &other]) {
        if !crate::persons::decision(app, caller, p).await?.opens_whole_record() {
            continue;
        }
        *slot = persons::view_identity(&mut cmd, &app.store.keys, &p.id, purpose, false).await?.map(|o| Compared {
            full_name: o.full_name,
            birth_date: o.birth_date,
            sex: o.sex,
            id_number: o.id_number,
            commune_code: o.commune_code,
            other_names: o.other_names,
            ethnicity: o.ethnicity,
        });
    }
    if opened.iter().any(Option::is_some) {
        cmd.commit().await?;
    }
    let [this, other] = opened;
    Ok(Ok((m, this, other)))
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
    /// The caller's agency said it is the same person; the other agency has yet to.
    Asked,
    /// Decided meanwhile by someone else.
    Stale,
    /// A merge was refused; the key of the reason.
    Refused(&'static str),
}

/// Decide a pair with a record of the caller's agency on at least one side (a provincial head: any pair); a
/// merge needs both sides. "The same person" on a pair of two agencies' records is one side's word until the
/// other agency's (or a provincial head's) joins it.
pub async fn decide(app: &App, caller: &Caller, id: &str, decision: &str) -> Result<Decided> {
    caller.require(Action::EditRecords)?;
    let m = &app.store.candidate(id).await?.ok_or(Error::NotFound)?;
    let a = app.store.person(&m.person_a).await?.ok_or(Error::NotFound)?;
    let b = app.store.person(&m.person_b).await?.ok_or(Error::NotFound)?;
    let (mine_a, mine_b) = (a.owner_agency_id == caller.agency.id, b.owner_agency_id == caller.agency.id);
    let provincial = may_sweep(caller);
    if !(mine_a || mine_b || provincial) {
        return Err(Error::Forbidden);
    }
    if decision == "same" && mine_a != mine_b && !provincial {
        let mut cmd = app.store.command(&caller.actor()).await?;
        let done = matches::confirm(&mut cmd, m, mine_a).await?;
        if done == Confirmed::Stale {
            return Ok(Decided::Stale);
        }
        cmd.commit().await?;
        return Ok(if done == Confirmed::Linked { Decided::Done(Decision::Same) } else { Decided::Asked });
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
