//! The indicator dashboard of the plan's five law-enforcement shares for any period, agency and commune, and
//! the records behind each. The counting is `haven_app::indicators`.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use haven_app::indicators::{self as app, IndicatorQuery, Selection};
use haven_domain::format::Lang;
use haven_domain::reports::indicators::IndicatorId;
use haven_store::cases::IndicatorRecord;

use crate::ctx::{self as guards, Can};
use crate::error::{AppError, AppResult};
use crate::page::{display, ok, render, Ctx, FormState};
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/indicators", get(dashboard)).route("/indicators/{code}", get(drill_down))
}

/// The selection as a query string, for links that keep it.
fn query_string(sel: &Selection) -> String {
    serde_urlencoded::to_string(sel.query_pairs()).unwrap_or_default()
}

pub struct IndicatorLine {
    pub code: &'static str,
    pub numerator: u64,
    pub denominator: u64,
    pub percent: String,
    pub target: String,
    pub status: &'static str,
}

#[derive(Template)]
#[template(path = "indicators.html")]
struct Dashboard {
    c: Ctx,
    f: FormState,
    year: i32,
    years: Vec<i32>,
    from: String,
    to: String,
    agency: String,
    commune: String,
    query: String,
    agencies: Vec<(String, String)>,
    communes: Vec<(String, String)>,
    lines: Vec<IndicatorLine>,
}

async fn dashboard(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::ViewAggregates>,
    c: Ctx,
    Query(q): Query<IndicatorQuery>,
) -> AppResult<Response> {
    let this_year = state.today().year();
    let agencies = counted_agencies(&state, &c).await?;
    let communes = state.store.communes(&state.config.province).await?;
    let (sel, f, status) = match app::select(&state, &q).await? {
        Ok(sel) => (sel, FormState::default(), StatusCode::OK),
        Err(key) => {
            let mut f = FormState {
                values: vec![("from".into(), q.from.clone()), ("to".into(), q.to.clone())],
                errors: vec![],
            };
            f.add("period", key);
            (
                app::select(&state, &IndicatorQuery::default()).await?.map_err(|e| anyhow::anyhow!(e))?,
                f,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
        }
    };
    let lang = c.lang;
    let lines = app::values(&state, &viewer, &sel)
        .await?
        .into_iter()
        .map(|v| IndicatorLine {
            code: v.code,
            numerator: v.numerator,
            denominator: v.denominator,
            percent: v.per_mille.map(|p| percent(p, lang)).unwrap_or_else(|| "—".into()),
            target: format!("{}{}", if v.target_strictly_above { "> " } else { "" }, percent(v.target_per_mille, lang)),
            status: match v.met {
                Some(true) => "met",
                Some(false) => "missed",
                None => "no_data",
            },
        })
        .collect();
    let page = Dashboard {
        f,
        year: sel.year,
        years: (this_year - 4..=this_year).rev().collect(),
        from: sel.from.clone(),
        to: sel.to.clone(),
        agency: sel.agency.as_ref().map(|a| a.code.clone()).unwrap_or_default(),
        commune: sel.commune.as_ref().map(|(code, _)| code.clone()).unwrap_or_default(),
        query: query_string(&sel),
        agencies,
        communes,
        lines,
        c,
    };
    Ok(render(status, &page))
}

/// Agencies whose records the indicators count (those that receive reports or investigate): (code, name).
async fn counted_agencies(state: &AppState, c: &Ctx) -> AppResult<Vec<(String, String)>> {
    Ok(state
        .store
        .agencies()
        .await?
        .iter()
        .filter(|a| a.functions.split(';').any(|f| f == "intake" || f == "investigate"))
        .map(|a| (a.code.clone(), c.agency_label(&a.name_vi, &a.name_en).to_owned()))
        .collect())
}

/// A record behind an indicator, and whether the viewer may open it.
pub struct RecordLine {
    pub r: IndicatorRecord,
    pub on: String,
    pub agency: String,
    pub href: Option<String>,
}

#[derive(Template)]
#[template(path = "indicator.html")]
struct DrillDown {
    c: Ctx,
    code: &'static str,
    from: String,
    to: String,
    scope: String,
    query: String,
    lines: Vec<RecordLine>,
    numerator: i64,
    denominator: i64,
}

/// The records behind an indicator, in pseudonymous form (codes, agencies and dates: no identity), each
/// linked only when the viewer may open it.
async fn drill_down(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::ViewAggregates>,
    c: Ctx,
    Path(code): Path<String>,
    Query(q): Query<IndicatorQuery>,
) -> AppResult<Response> {
    let id = IndicatorId::from_code(&code).ok_or(AppError::NotFound)?;
    let sel = app::select(&state, &q).await?.map_err(|e| AppError::BadRequest(e.into()))?;
    let (records, (numerator, denominator)) = app::records(&state, &viewer, id, &sel).await?;
    let agencies = state.store.agencies().await?;
    let lines = records
        .into_iter()
        .map(|rec| {
            let agency = agencies
                .iter()
                .find(|a| a.id == rec.r.owner_agency_id)
                .map(|a| c.agency_label(&a.name_vi, &a.name_en).to_owned())
                .unwrap_or_default();
            let href = rec.may_open.then(|| record_href(&rec.r));
            RecordLine { on: display(&rec.r.on), agency, href, r: rec.r }
        })
        .collect();
    let scope = [
        sel.agency.as_ref().map(|a| c.agency_label(&a.name_vi, &a.name_en).to_owned()),
        sel.commune.as_ref().map(|(_, n)| n.clone()),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" · ");
    Ok(ok(&DrillDown {
        code: id.code(),
        from: sel.from.clone(),
        to: sel.to.clone(),
        scope,
        query: query_string(&sel),
        lines,
        numerator,
        denominator,
        c,
    }))
}

fn record_href(r: &IndicatorRecord) -> String {
    if r.kind == haven_store::cases::KIND {
        format!("/cases/{}", r.id)
    } else {
        format!("/reports/{}", r.id)
    }
}

/// A per-mille share written as a percentage, in the page's language.
fn percent(per_mille: u32, lang: Lang) -> String {
    haven_domain::format::per_mille(u64::from(per_mille), lang)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::I18n;

    #[test]
    fn indicators_and_statuses_are_translated() {
        let i = I18n::embedded();
        let mut keys: Vec<String> = Vec::new();
        for id in IndicatorId::ALL {
            keys.push(format!("indicator.{}.name", id.code()));
            keys.push(format!("indicator.{}.definition", id.code()));
        }
        keys.extend(["met", "missed", "no_data"].map(|s| format!("indicator_status.{s}")));
        for lang in [Lang::Vi, Lang::En] {
            for k in &keys {
                assert_ne!(i.get(lang, k), k.as_str(), "{k} in {lang:?}");
            }
        }
    }

    #[test]
    fn percentages_in_each_language() {
        assert_eq!(percent(905, Lang::Vi), "90,5%");
        assert_eq!(percent(905, Lang::En), "90.5%");
        assert_eq!(percent(1000, Lang::Vi), "100%");
    }
}
