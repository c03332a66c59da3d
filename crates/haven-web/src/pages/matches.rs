//! The review queue of candidate matches, and the run over the whole registers. The use cases are
//! `haven_app::matches`.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use haven_app::matches::{self as app, Decided, DecisionForm};
use haven_domain::person::BirthDate;
use haven_store::matches;
use serde::Deserialize;

use crate::ctx::{self as guards, Can, CsrfForm, Viewer};
use crate::error::AppResult;
use crate::page::{render, Ctx, FormState};
use crate::views::matches::{line, CandidateLine};
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/matches", get(queue))
        .route("/matches/sweep", post(sweep))
        .route("/matches/{id}", post(decide))
        .route("/matches/{id}/compare", get(compare_ask).post(compare))
}

/// One row of a comparison: a field, and how each record gives it (`None`: the record stays sealed).
pub struct CompareRow {
    pub field: &'static str,
    pub this: Option<String>,
    pub other: Option<String>,
    /// Both records give it and it reads the same once written alike.
    pub same: bool,
}

#[derive(Template)]
#[template(path = "compare.html")]
struct ComparePage {
    c: Ctx,
    f: FormState,
    m: CandidateLine,
    /// The comparison, once opened with a purpose.
    rows: Vec<CompareRow>,
    opened: bool,
    /// Whether the other record stayed sealed (another agency's).
    other_sealed: bool,
    purposes: &'static [&'static str],
}

/// The page of a pair (one the caller may see): the chance, the explanation, and the purpose to give or the
/// records opened.
async fn compare_page(
    state: &AppState,
    viewer: &Viewer,
    c: Ctx,
    m: matches::CandidateRow,
    f: FormState,
    opened: Option<(Option<app::Compared>, Option<app::Compared>)>,
) -> AppResult<Response> {
    let from = app::viewer_side(state, viewer, &m).await?;
    let m = line(state, &c, app::pair_view(state, viewer, m, &from).await?).await?;
    let status = if f.has_errors() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    let (rows, other_sealed) = match &opened {
        Some((this, other)) => (compare_rows(state, &c, this.as_ref(), other.as_ref()).await?, other.is_none()),
        None => (Vec::new(), false),
    };
    let opened = opened.is_some();
    let purposes = haven_app::persons::PURPOSES;
    Ok(render(status, &ComparePage { c, f, m, rows, opened, other_sealed, purposes }))
}

/// The fields a reviewer judges a pair by, side by side, written as the person page writes them.
async fn compare_rows(
    state: &AppState,
    c: &Ctx,
    this: Option<&app::Compared>,
    other: Option<&app::Compared>,
) -> AppResult<Vec<CompareRow>> {
    let born = |s: &Option<String>| {
        s.as_deref().and_then(BirthDate::parse).map(BirthDate::display).unwrap_or_else(|| s.clone().unwrap_or_default())
    };
    let mut communes = Vec::new();
    for side in [this, other] {
        communes.push(match side.and_then(|s| s.commune_code.as_deref()) {
            Some(code) => state.store.unit_name(code).await?.unwrap_or_default(),
            None => String::new(),
        });
    }
    type Field = fn(&app::Compared) -> Option<String>;
    let fields: [(&'static str, Field); 5] = [
        ("person.full_name", |s| Some(s.full_name.clone())),
        ("person.other_names", |s| Some(s.other_names.join("; "))),
        ("person.sex", |s| Some(s.sex.clone())),
        ("person.id_number", |s| s.id_number.clone()),
        ("person.ethnicity", |s| s.ethnicity.clone()),
    ];
    let mut rows = Vec::new();
    let mut push = |field: &'static str, a: Option<String>, b: Option<String>| {
        let same = matches!((&a, &b), (Some(x), Some(y)) if !x.is_empty()
            && haven_linkage::normalise::fold(x) == haven_linkage::normalise::fold(y));
        rows.push(CompareRow { field, this: a, other: b, same });
    };
    for (i, (field, get)) in fields.into_iter().enumerate() {
        let value = |s: Option<&app::Compared>| {
            s.map(|s| {
                let v = get(s).unwrap_or_default();
                if field == "person.sex" {
                    c.t(&format!("sex.{v}")).to_owned()
                } else {
                    v
                }
            })
        };
        push(field, value(this), value(other));
        if i == 0 {
            push("person.birth_date", this.map(|s| born(&s.birth_date)), other.map(|s| born(&s.birth_date)));
        }
    }
    push("person.commune", this.map(|_| communes[0].clone()), other.map(|_| communes[1].clone()));
    Ok(rows)
}

async fn compare_ask(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::ViewIdentity>,
    c: Ctx,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let m = app::visible_pair(&state, &viewer, &id).await?;
    compare_page(&state, &viewer, c, m, FormState::default(), None).await
}

#[derive(Deserialize)]
struct CompareForm {
    #[serde(default)]
    purpose: String,
}

/// Open both records side by side for a purpose; each opened record is audited as a view of its identity.
async fn compare(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::ViewIdentity>,
    c: Ctx,
    Path(id): Path<String>,
    CsrfForm(form, pairs): CsrfForm<CompareForm>,
) -> AppResult<Response> {
    match app::compare(&state, &viewer, &id, &form.purpose).await? {
        Ok((m, this, other)) => compare_page(&state, &viewer, c, m, FormState::default(), Some((this, other))).await,
        Err(errors) => {
            let m = app::visible_pair(&state, &viewer, &id).await?;
            compare_page(&state, &viewer, c, m, FormState::with_errors(&pairs, errors), None).await
        }
    }
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
    for v in app::open_pairs(state, viewer, 200).await? {
        lines.push(line(state, &c, v).await?);
    }
    let can_sweep = app::may_sweep(viewer);
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
    let report = app::sweep(&state, &viewer).await?;
    queue_page(&state, &viewer, c, FormState::default(), Some(report), StatusCode::OK).await
}

async fn decide(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::EditRecords>,
    c: Ctx,
    Path(id): Path<String>,
    CsrfForm(form, _): CsrfForm<DecisionForm>,
) -> AppResult<Response> {
    match app::decide(&state, &viewer, &id, form.decision.trim()).await? {
        Decided::Done(d) => Ok(Redirect::to(&format!("/matches?done=match_{}", d.code())).into_response()),
        Decided::Asked => Ok(Redirect::to("/matches?done=match_asked").into_response()),
        Decided::Stale => Ok(Redirect::to("/matches?done=match_stale").into_response()),
        Decided::Refused(key) => {
            let mut f = FormState::default();
            f.add(&format!("match-{id}"), key);
            queue_page(&state, &viewer, c, f, None, StatusCode::CONFLICT).await
        }
    }
}
