//! The review queue of candidate matches: pairs of register people (returnees, absentees, victims) that may be
//! one person, each with its probability and the explanation field by field. A reviewer confirms (the records
//! are linked, or merged when both belong to the agency) or rejects (never proposed again); every decision is
//! audited. A head may run matching over the whole registers, which also retrains the model.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use haven_store::matches::{self, CandidateRow, Decision};
use haven_store::persons::{self, Merge};
use serde::{Deserialize, Serialize};

use crate::ctx::{self as guards, Can, CsrfForm, Viewer};
use crate::error::{AppError, AppResult};
use crate::page::{render, Ctx, FormState};
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/matches", get(queue))
        .route("/matches/sweep", post(sweep))
        .route("/matches/{id}", post(decide))
}

/// One field's part in an explanation, in words.
pub struct PartLine {
    pub field: String,
    pub level: String,
    pub weight: String,
    pub agrees: bool,
}

/// One side of a pair as the viewer may know it. A record of the viewer's agency shows its register, code
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

/// A pair as the viewer may know it, for the pages and the API. The explanation (which fields agreed, and
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
pub async fn side_view(state: &AppState, viewer: &Viewer, person_id: &str) -> AppResult<SideView> {
    let p = state.store.person(person_id).await?.ok_or(AppError::NotFound)?;
    if p.owner_agency_id != viewer.agency.id {
        return Ok(SideView { register: "other", code: None, agency_id: p.owner_agency_id, link: None });
    }
    let mine = |owner: &str| owner == viewer.agency.id;
    let view = |register, code, owner: String, link: String| SideView {
        register,
        code: Some(code),
        link: mine(&owner).then_some(link),
        agency_id: owner,
    };
    if let Some(r) = state.store.returnees_of_person(person_id).await?.into_iter().next() {
        return Ok(view("returnee", r.case_code, r.owner_agency_id, format!("/returnees/{}", r.id)));
    }
    if let Some(a) = state.store.absentees_of_person(person_id).await?.into_iter().next() {
        return Ok(view("absentee", a.case_code, a.owner_agency_id, format!("/absentees/{}", a.id)));
    }
    if let Some(v) = state.store.victim_cases_of_person(person_id).await?.into_iter().next() {
        return Ok(view("victim", v.case_code, v.owner_agency_id, format!("/victims/{}", v.id)));
    }
    Ok(view("person", p.case_code, p.owner_agency_id, format!("/persons/{}", p.id)))
}

/// A pair seen from `from`'s side.
pub async fn pair_view(state: &AppState, viewer: &Viewer, m: CandidateRow, from: &str) -> AppResult<PairView> {
    let this = side_view(state, viewer, from).await?;
    let other = side_view(state, viewer, m.other(from)).await?;
    let (mine_a, mine_b) = if m.person_a == from {
        (this.register != "other", other.register != "other")
    } else {
        (other.register != "other", this.register != "other")
    };
    let open = m.status == "open";
    let edit = viewer.can(haven_domain::Action::EditRecords);
    let explanation =
        if viewer.can(haven_domain::Action::ViewIdentity) { matches::decode_evidence(&m.evidence) } else { Vec::new() };
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

/// The other side of a pair, in words.
pub struct Side {
    pub register: &'static str,
    pub code: String,
    pub agency: String,
    pub link: Option<String>,
}

pub struct CandidateLine {
    pub id: String,
    pub percent: String,
    pub status: String,
    pub source: String,
    pub this: Side,
    pub other: Side,
    pub parts: Vec<PartLine>,
    pub can_decide: bool,
    pub can_merge: bool,
}

/// A side in words: the agency by name in the viewer's language.
pub async fn side(state: &AppState, viewer: &Viewer, c: &Ctx, person_id: &str) -> AppResult<Side> {
    let view = side_view(state, viewer, person_id).await?;
    words(state, c, view).await
}

async fn words(state: &AppState, c: &Ctx, view: SideView) -> AppResult<Side> {
    let agency = state
        .store
        .agencies()
        .await?
        .iter()
        .find(|a| a.id == view.agency_id)
        .map(|a| c.agency_label(&a.name_vi, &a.name_en).to_owned())
        .unwrap_or_default();
    Ok(Side { register: view.register, code: view.code.unwrap_or_default(), agency, link: view.link })
}

async fn line(state: &AppState, viewer: &Viewer, c: &Ctx, m: CandidateRow, from: &str) -> AppResult<CandidateLine> {
    let v = pair_view(state, viewer, m, from).await?;
    let parts = v
        .explanation
        .iter()
        .map(|p| {
            // The fields are fixed ([`matches::FIELDS`]): each label names its levels' translations.
            PartLine {
                field: c.t(&format!("match.field.{}", p.label)).to_owned(),
                level: match p.level {
                    Some(l) => c.t(&format!("match.level.{}.{l}", p.label)).to_owned(),
                    None => c.t("match.level.none").to_owned(),
                },
                weight: if p.level.is_some() { format!("{:+.1}", p.weight) } else { String::new() },
                agrees: p.level.is_some_and(|l| l > 0),
            }
        })
        .collect();
    Ok(CandidateLine {
        percent: format!("{:.1}", v.probability * 100.0),
        this: words(state, c, v.this).await?,
        other: words(state, c, v.other).await?,
        id: v.id,
        status: v.status,
        source: v.source,
        parts,
        can_decide: v.can_decide,
        can_merge: v.can_merge,
    })
}

/// Which side of a pair the viewer's agency sees it from: its own record when it has one on the pair.
pub async fn viewer_side(state: &AppState, viewer: &Viewer, m: &CandidateRow) -> AppResult<String> {
    let a_mine = state.store.person(&m.person_a).await?.is_some_and(|p| p.owner_agency_id == viewer.agency.id);
    Ok(if a_mine { m.person_a.clone() } else { m.person_b.clone() })
}

/// The pairs a person is in, for the register pages, seen from that person's side.
pub async fn candidate_lines(
    state: &AppState,
    viewer: &Viewer,
    c: &Ctx,
    person_id: &str,
) -> AppResult<Vec<CandidateLine>> {
    let mut out = Vec::new();
    for m in state.store.candidates_of_person(person_id).await? {
        out.push(line(state, viewer, c, m, person_id).await?);
    }
    Ok(out)
}

#[derive(Template)]
#[template(path = "matches.html")]
struct QueuePage {
    c: Ctx,
    f: FormState,
    lines: Vec<CandidateLine>,
    can_sweep: bool,
    swept: Option<matches::SweepReport>,
}

async fn queue_page(
    state: &AppState,
    viewer: &Viewer,
    c: Ctx,
    f: FormState,
    swept: Option<matches::SweepReport>,
    status: StatusCode,
) -> AppResult<Response> {
    let mut lines = Vec::new();
    for m in state.store.open_candidates_of_agency(&viewer.agency.id, 200).await? {
        let from = viewer_side(state, viewer, &m).await?;
        lines.push(line(state, viewer, &c, m, &from).await?);
    }
    let can_sweep = may_sweep(viewer);
    Ok(render(status, &QueuePage { c, f, lines, can_sweep, swept }))
}

async fn queue(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::ViewRecords>,
    c: Ctx,
) -> AppResult<Response> {
    queue_page(&state, &viewer, c, FormState::default(), None, StatusCode::OK).await
}

#[derive(Deserialize)]
struct Empty {}

async fn sweep(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::SuperviseAgency>,
    c: Ctx,
    CsrfForm(_, _): CsrfForm<Empty>,
) -> AppResult<Response> {
    let report = run_sweep(&state, &viewer).await?;
    queue_page(&state, &viewer, c, FormState::default(), Some(report), StatusCode::OK).await
}

/// A run over the whole registers opens every agency's register people in memory: it is for the head of a
/// provincial agency, not of a commune (whose own entries are matched as they are written).
pub fn may_sweep(viewer: &Viewer) -> bool {
    viewer.can(haven_domain::Action::SuperviseAgency) && viewer.agency.level == "province"
}

pub async fn run_sweep(state: &AppState, viewer: &Viewer) -> AppResult<matches::SweepReport> {
    if !may_sweep(viewer) {
        return Err(AppError::Forbidden);
    }
    let mut cmd = state.store.command(&viewer.actor()).await?;
    let report = matches::sweep(&mut cmd, &state.store.keys).await?;
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

/// Decide a pair with a record of the viewer's agency on at least one side; a merge needs both sides.
pub async fn decide_pair(state: &AppState, viewer: &Viewer, m: &CandidateRow, decision: &str) -> AppResult<Decided> {
    let a = state.store.person(&m.person_a).await?.ok_or(AppError::NotFound)?;
    let b = state.store.person(&m.person_b).await?.ok_or(AppError::NotFound)?;
    let (mine_a, mine_b) = (a.owner_agency_id == viewer.agency.id, b.owner_agency_id == viewer.agency.id);
    if !(mine_a || mine_b) {
        return Err(AppError::Forbidden);
    }
    let d = match decision {
        "same" => Decision::Same,
        "different" => Decision::Different,
        "merge" if mine_a && mine_b => Decision::Merged,
        "merge" => return Err(AppError::Forbidden),
        _ => return Err(AppError::BadRequest("decision".into())),
    };
    let mut cmd = state.store.command(&viewer.actor()).await?;
    if d == Decision::Merged {
        // The older record survives: ids are time-ordered.
        let (survivor, merged) = if a.id <= b.id { (&a.id, &b.id) } else { (&b.id, &a.id) };
        match persons::merge(&mut cmd, &state.store.keys, &viewer.agency.id, survivor, merged, "match_review").await? {
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

async fn decide(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::EditRecords>,
    c: Ctx,
    Path(id): Path<String>,
    CsrfForm(form, _): CsrfForm<DecisionForm>,
) -> AppResult<Response> {
    let m = state.store.candidate(&id).await?.ok_or(AppError::NotFound)?;
    match decide_pair(&state, &viewer, &m, form.decision.trim()).await? {
        Decided::Done(d) => Ok(Redirect::to(&format!("/matches?done=match_{}", d.code())).into_response()),
        Decided::Stale => Ok(Redirect::to("/matches?done=match_stale").into_response()),
        Decided::Refused(key) => {
            let mut f = FormState::default();
            f.add(&format!("match-{id}"), key);
            queue_page(&state, &viewer, c, f, None, StatusCode::CONFLICT).await
        }
    }
}
