//! One indicator of a plan: its trend by month against the target, its definition, and the values entered
//! by hand with who entered them and when.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use haven_app::plan::{self as app, source};
use haven_domain::plan::{self as rules, Frequency, ReportPeriod, Source, Unit};
use haven_store::plan::{IndicatorRow, PlanRow};

use crate::ctx::Viewer;
use crate::error::AppResult;
use crate::page::{render, Ctx};
use crate::views::plan::{label, measure_key, Chart};
use crate::AppState;

#[derive(Template)]
#[template(path = "plan_indicator.html")]
struct IndicatorPage {
    c: Ctx,
    plan: PlanRow,
    i: IndicatorRow,
    definition: String,
    unit: &'static str,
    trend: Chart,
    /// (period, value as shown, who entered it, when) for an indicator entered by hand.
    entries: Vec<(String, String, String, String)>,
    target: String,
}

pub(super) async fn show(
    State(state): State<AppState>,
    v: Viewer,
    c: Ctx,
    Path((id, indicator)): Path<(String, String)>,
) -> AppResult<Response> {
    let (plan, i) = app::indicator(&state, &v, &id, &indicator).await?;
    let (unit, definition) = match source(&i) {
        Source::Computed(m) => (m.unit(), c.t(&measure_key(m, "definition")).to_owned()),
        Source::Manual(u) => (u, i.definition.clone().unwrap_or_default()),
    };
    let months = ReportPeriod::all_in(plan.year, Frequency::Month);
    let values = app::monthly(&state, &plan, &i).await?;
    // Shares are drawn in whole percent; a count's yearly target is spread over the months, as the line
    // each month should reach.
    let drawn = |v: u64| if unit == Unit::Percent { v / 10 } else { v };
    let cols: Vec<(String, Option<u64>)> =
        months.iter().zip(&values).map(|(m, v)| (m.index.to_string(), v.map(drawn))).collect();
    let due = match (unit, i.target) {
        (Unit::Percent, Some(t)) => Some(t as f64 / 10.0),
        (_, Some(t)) => Some(t as f64 / 12.0),
        _ => None,
    };
    let title = format!("{} · {} {}", i.name, c.t("plan.by_month"), plan.year);
    let trend = Chart {
        id: "trend",
        svg: crate::charts::columns(&title, &cols, due),
        rows: months
            .iter()
            .zip(&values)
            .filter_map(|(m, v)| v.map(|v| (label(&c, *m), rules::show(unit, v, c.lang))))
            .collect(),
        title,
    };
    let users = state.store.users(None).await?;
    let entries = state
        .store
        .entries(&i.id)
        .await?
        .into_iter()
        .map(|e| {
            let who = users.iter().find(|u| u.id == e.entered_by).map(|u| u.display_name.clone()).unwrap_or_default();
            let when = haven_domain::format::date_time(e.entered_at);
            (e.period, rules::show(unit, e.value.max(0) as u64, c.lang), who, when)
        })
        .collect();
    let page = IndicatorPage {
        target: i.target.map(|t| rules::show(unit, t.max(0) as u64, c.lang)).unwrap_or_default(),
        unit: unit.code(),
        c,
        plan,
        i,
        definition,
        trend,
        entries,
    };
    Ok(render(StatusCode::OK, &page))
}
