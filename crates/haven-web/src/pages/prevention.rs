//! The prevention page: communication activities of the year with their reach summed by group, commune,
//! channel and sex, and the form to record one. The use case is `haven_app::prevention`.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use haven_app::plan::require_view;
use haven_app::prevention::{self as app, PreventionForm};
use haven_domain::format::{date as show_date, parse_date};
use haven_domain::plan::{self as rules, ReportPeriod, CHANNELS, TARGET_GROUPS};
use haven_domain::Action;
use haven_store::plan::{PreventionRow, ReachBy};
use serde::Deserialize;

use crate::ctx::{Can, CsrfForm, Viewer};
use crate::error::AppResult;
use crate::page::{render, Ctx, FormState};
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/prevention", get(list).post(create))
}

#[derive(Deserialize, Default)]
pub struct YearQuery {
    pub year: Option<i32>,
}

fn year_of(state: &AppState, q: &YearQuery) -> ReportPeriod {
    let this_year = state.today().year();
    let year = q.year.filter(|y| (2000..=this_year).contains(y)).unwrap_or(this_year);
    ReportPeriod::year(year).unwrap_or(ReportPeriod { year: this_year, frequency: rules::Frequency::Year, index: 1 })
}

async fn commune_names(state: &AppState) -> AppResult<Vec<(String, String)>> {
    Ok(state.store.communes(&state.config.province).await?)
}

pub struct ActivityLine {
    pub a: PreventionRow,
    pub held_on: String,
    pub commune: String,
    pub total: i64,
}

#[derive(Template)]
#[template(path = "prevention.html")]
struct PreventionPage {
    c: Ctx,
    f: FormState,
    year: i32,
    years: Vec<i32>,
    activities: Vec<ActivityLine>,
    /// Reach by target group, commune, channel and sex: (key as shown, participants).
    by_group: Vec<(String, i64)>,
    by_commune: Vec<(String, i64)>,
    by_channel: Vec<(String, i64)>,
    by_sex: Vec<(String, i64)>,
    total: i64,
    can_create: bool,
    communes: Vec<(String, String)>,
    channels: &'static [&'static str],
    groups: &'static [&'static str],
}

async fn prevention_page(
    state: &AppState,
    v: &Viewer,
    c: Ctx,
    q: &YearQuery,
    f: FormState,
    status: StatusCode,
) -> AppResult<Response> {
    let period = year_of(state, q);
    let range = period.range();
    let communes = commune_names(state).await?;
    let commune_name = |code: &str| {
        communes.iter().find(|(c, _)| c == code).map(|(_, n)| n.clone()).unwrap_or_else(|| code.to_owned())
    };
    let activities = state
        .store
        .prevention_activities(range, None, 200)
        .await?
        .into_iter()
        .map(|a| ActivityLine {
            held_on: parse_date(&a.held_on).map(show_date).unwrap_or_default(),
            commune: a.commune_code.as_deref().map(&commune_name).unwrap_or_default(),
            total: a.women + a.men,
            a,
        })
        .collect();
    let by_group = state
        .store
        .reach_by(range, ReachBy::TargetGroup, None)
        .await?
        .into_iter()
        .map(|(g, n)| (c.tk("target_group", &g), n))
        .collect();
    let by_commune = state
        .store
        .reach_by(range, ReachBy::Commune, None)
        .await?
        .into_iter()
        .map(|(code, n)| {
            (if code.is_empty() { c.t("prevention.no_commune").to_owned() } else { commune_name(&code) }, n)
        })
        .collect();
    let by_channel = state
        .store
        .reach_by(range, ReachBy::Channel, None)
        .await?
        .into_iter()
        .map(|(k, n)| (c.tk("channel", &k), n))
        .collect();
    let by_sex: Vec<(String, i64)> =
        state.store.reach_by(range, ReachBy::Sex, None).await?.into_iter().map(|(k, n)| (c.tk("sex", &k), n)).collect();
    let total = by_sex.iter().map(|(_, n)| n).sum();
    let this_year = state.today().year();
    let page = PreventionPage {
        year: period.year,
        years: (this_year - 4..=this_year).rev().collect(),
        activities,
        by_group,
        by_commune,
        by_channel,
        by_sex,
        total,
        can_create: v.can(Action::CreateRecords),
        communes,
        channels: CHANNELS,
        groups: TARGET_GROUPS,
        c,
        f,
    };
    Ok(render(status, &page))
}

async fn list(State(state): State<AppState>, v: Viewer, c: Ctx, Query(q): Query<YearQuery>) -> AppResult<Response> {
    require_view(&v)?;
    prevention_page(&state, &v, c, &q, FormState::default(), StatusCode::OK).await
}

/// The form's `group.<code>` fields as (group, participants).
fn groups_of(pairs: &[(String, String)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .filter_map(|(k, v)| k.strip_prefix("group.").map(|g| (g.to_owned(), v.clone())))
        .filter(|(_, v)| !v.trim().is_empty())
        .collect()
}

async fn create(
    State(state): State<AppState>,
    Can(v, ..): Can<crate::ctx::CreateRecords>,
    c: Ctx,
    CsrfForm(_, pairs): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let value = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap_or_default();
    let form = PreventionForm {
        title: value("title"),
        held_on: value("held_on"),
        commune_code: value("commune_code"),
        organiser: value("organiser"),
        channel: value("channel"),
        women: value("women"),
        men: value("men"),
        materials: value("materials"),
        groups: groups_of(&pairs),
    };
    match app::create(&state, &v, &form).await? {
        Ok(_) => Ok(Redirect::to("/prevention?done=prevention_recorded").into_response()),
        Err(errors) => {
            let f = FormState::with_errors(&pairs, errors);
            prevention_page(&state, &v, c, &YearQuery::default(), f, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}
