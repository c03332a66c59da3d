//! The home page: what needs the user's attention, by what their roles allow.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use haven_domain::Action;

use crate::ctx::Viewer;
use crate::error::AppResult;
use crate::page::{ok, Ctx};
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/", get(home))
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    c: Ctx,
    own_persons: Option<i64>,
    shared_persons: Option<i64>,
    break_glass_open: Option<i64>,
    /// Reports due within five days, overdue, awaiting the procuracy.
    reports: Option<(usize, usize, usize)>,
    roles: Vec<&'static str>,
    /// Victim cases awaiting verification with the police: due, overdue.
    victims: Option<(i64, i64)>,
    /// International cooperation requests awaiting an answer, and overdue; shown when there are some.
    cooperation: Option<(i64, i64)>,
    /// Identification decisions waiting for this head: (case id, case code, proposed on).
    decisions: Vec<(String, String, String)>,
    /// Handovers of victim cases proposed to the agency and not yet answered.
    handovers: usize,
}

async fn home(State(state): State<AppState>, viewer: Viewer, c: Ctx) -> AppResult<Response> {
    let now = state.store.now();
    let (own, shared) = if viewer.can(Action::ViewRecords) {
        (
            Some(state.store.count_persons(&viewer.agency.id).await?),
            Some(state.store.persons_shared_with(&viewer.agency.id, &viewer.user.id, now).await?.len() as i64),
        )
    } else {
        (None, None)
    };
    let bg = if viewer.can(Action::SuperviseAgency) {
        Some(
            state
                .store
                .break_glass_on_agency(&viewer.agency.id, 500)
                .await?
                .iter()
                .filter(|b| b.reviewed_by.is_none())
                .count() as i64,
        )
    } else {
        None
    };
    let reports = if viewer.can(Action::ViewRecords) {
        Some(haven_app::reports::work_counts(&state, &viewer.agency.id).await?)
    } else {
        None
    };
    let victims = if viewer.can(Action::ViewRecords) {
        let (due, overdue) = state.store.verification_counts(&viewer.agency.id, state.today()).await?;
        Some((due, overdue))
    } else {
        None
    };
    let cooperation = if viewer.can(Action::ViewRecords) {
        let counts = state.store.cooperation_counts(&viewer.agency.id, state.today()).await?;
        Some(counts).filter(|(awaiting, _)| *awaiting > 0)
    } else {
        None
    };
    let decisions = haven_app::victims::identification::pending(&state, &viewer, 20)
        .await?
        .into_iter()
        .map(|l| {
            let on = l.received_on.clone();
            (l.id, l.case_code, crate::page::display(&on))
        })
        .collect();
    let handovers = if viewer.can(Action::EditRecords) {
        haven_app::victims::handover::incoming(&state, &viewer, 100).await?.len()
    } else {
        0
    };
    let roles = viewer.user.roles.iter().map(|r| r.code()).collect();
    let page = HomePage {
        c,
        own_persons: own,
        shared_persons: shared,
        break_glass_open: bg,
        reports,
        roles,
        victims,
        cooperation,
        decisions,
        handovers,
    };
    Ok(ok(&page))
}
