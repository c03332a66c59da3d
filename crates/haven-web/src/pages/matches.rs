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
use serde::Deserialize;

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

/// The other side of a pair, as the viewer may see it: its register, code and agency; a link only when the
/// viewer's agency owns it.
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

/// Where a person stands in the registers: the first register entry found, for a pair's side.
pub async fn side(state: &AppState, viewer: &Viewer, c: &Ctx, person_id: &str) -> AppResult<Side> {
    let agencies = state.store.agencies().await?;
    let agency_name = |id: &str| {
        agencies
            .iter()
            .find(|a| a.id == id)
            .map(|a| c.agency_label(&a.name_vi, &a.name_en).to_owned())
            .unwrap_or_default()
    };
    let mine = |owner: &str| owner == viewer.agency.id;
    if let Some(r) = state.store.returnees_of_person(person_id).await?.into_iter().next() {
        let link = mine(&r.owner_agency_id).then(|| format!("/returnees/{}", r.id));
        return Ok(Side { register: "returnee", code: r.case_code, agency: agency_name(&r.owner_agency_id), link });
    }
    if let Some(a) = state.store.absentees_of_person(person_id).await?.into_iter().next() {
        let link = mine(&a.owner_agency_id).then(|| format!("/absentees/{}", a.id));
        return Ok(Side { register: "absentee", code: a.case_code, agency: agency_name(&a.owner_agency_id), link });
    }
    if let Some(v) = state.store.victim_cases_of_person(person_id).await?.into_iter().next() {
        let link = mine(&v.owner_agency_id).then(|| format!("/victims/{}", v.id));
        return Ok(Side { register: "victim", code: v.case_code, agency: agency_name(&v.owner_agency_id), link });
    }
    let p = state.store.person(person_id).await?.ok_or(AppError::NotFound)?;
    let link = mine(&p.owner_agency_id).then(|| format!("/persons/{}", p.id));
    Ok(Side { register: "person", code: p.case_code, agency: agency_name(&p.owner_agency_id), link })
}

async fn line(state: &AppState, viewer: &Viewer, c: &Ctx, m: CandidateRow, from: &str) -> AppResult<CandidateLine> {
    let this = side(state, viewer, c, from).await?;
    let other = side(state, viewer, c, m.other(from)).await?;
    let parts = matches::decode_evidence(&m.evidence)
        .into_iter()
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
    let owners = (
        state.store.person(&m.person_a).await?.map(|p| p.owner_agency_id),
        state.store.person(&m.person_b).await?.map(|p| p.owner_agency_id),
    );
    let mine_a = owners.0.as_deref() == Some(viewer.agency.id.as_str());
    let mine_b = owners.1.as_deref() == Some(viewer.agency.id.as_str());
    let open = m.status == "open";
    Ok(CandidateLine {
        id: m.id.clone(),
        percent: format!("{:.1}", m.probability * 100.0),
        status: m.status.clone(),
        source: m.source.clone(),
        this,
        other,
        parts,
        can_decide: open && (mine_a || mine_b) && viewer.can(haven_domain::Action::EditRecords),
        can_merge: open && mine_a && mine_b && viewer.can(haven_domain::Action::EditRecords),
    })
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
        // Seen from the agency's own record when it has one on the pair.
        let a_mine = state.store.person(&m.person_a).await?.is_some_and(|p| p.owner_agency_id == viewer.agency.id);
        let from = if a_mine { m.person_a.clone() } else { m.person_b.clone() };
        lines.push(line(state, viewer, &c, m, &from).await?);
    }
    let can_sweep = viewer.can(haven_domain::Action::SuperviseAgency);
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

pub async fn run_sweep(state: &AppState, viewer: &Viewer) -> AppResult<matches::SweepReport> {
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
