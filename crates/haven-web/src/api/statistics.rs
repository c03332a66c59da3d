//! What analysts take away: public statistics (the years published, a year's tables with small counts and
//! their complements withheld, and publishing a year) and the pseudonymised HTCDS export of victim cases.
//! The use cases are `haven_app::statistics` and `haven_app::exports`.

use axum::extract::{Path, State};
use axum::response::Response;
use haven_domain::stats::Cell;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{instant, invalid, ok, Api, Token};
use crate::ctx::{self as guards};
use crate::error::{AppError, AppResult};
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(years)).routes(routes!(year)).routes(routes!(publish)).routes(routes!(htcds))
}

#[derive(Serialize, ToSchema)]
pub struct YearList {
    /// Years with published tables, newest first.
    pub items: Vec<String>,
}

/// The years with published statistics (what anyone reads at `/statistics`).
#[utoipa::path(get, path = "/statistics", tag = "statistics", responses((status = 200, body = YearList)))]
async fn years(State(state): State<AppState>, Token(_): Token) -> AppResult<Response> {
    Ok(ok(YearList { items: haven_app::statistics::years(&state).await? }))
}

#[derive(Serialize, ToSchema)]
pub struct TableOut {
    /// `victims_age_sex`, `victims_country_exploitation` or `reach_group_channel`.
    pub table: String,
    pub published_at: String,
    /// Row and column codes.
    pub rows: Vec<String>,
    pub columns: Vec<String>,
    /// A count, or absent where it is withheld.
    pub cells: Vec<Vec<Option<u64>>>,
    pub row_totals: Vec<Option<u64>>,
    pub column_totals: Vec<Option<u64>>,
    pub total: Option<u64>,
}

#[derive(Serialize, ToSchema)]
pub struct PublishedOut {
    pub year: String,
    /// Counts below this are withheld, with enough others that none can be worked out.
    pub min_count: u64,
    pub tables: Vec<TableOut>,
}

fn shown(c: &Cell) -> Option<u64> {
    match c {
        Cell::Shown(n) => Some(*n),
        Cell::Suppressed => None,
    }
}

async fn published(state: &AppState, year: &str) -> AppResult<PublishedOut> {
    let tables = haven_app::statistics::published(state, year).await?;
    if tables.is_empty() {
        return Err(AppError::NotFound);
    }
    Ok(PublishedOut {
        year: year.to_owned(),
        min_count: haven_domain::stats::MIN_PUBLIC_COUNT,
        tables: tables
            .into_iter()
            .map(|p| TableOut {
                table: p.table_code,
                published_at: instant(p.published_at),
                cells: p.release.cells.iter().map(|r| r.iter().map(shown).collect()).collect(),
                row_totals: p.release.row_totals.iter().map(shown).collect(),
                column_totals: p.release.col_totals.iter().map(shown).collect(),
                total: shown(&p.release.total),
                rows: p.release.rows,
                columns: p.release.cols,
            })
            .collect(),
    })
}

/// A year's published tables.
#[utoipa::path(get, path = "/statistics/{year}", tag = "statistics", params(("year" = String, Path)), responses((status = 200, body = PublishedOut)))]
async fn year(State(state): State<AppState>, Token(_): Token, Path(year): Path<String>) -> AppResult<Response> {
    Ok(ok(published(&state, &year).await?))
}

/// Publish a year's tables (this year or the last; analysts); each release is checked before it is stored.
#[utoipa::path(post, path = "/statistics/{year}/publication", tag = "statistics", params(("year" = String, Path)), responses((status = 200, body = PublishedOut)))]
async fn publish(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::PublishStatistics>,
    Path(year): Path<String>,
) -> AppResult<Response> {
    match haven_app::statistics::publish(&state, &v, &year).await? {
        Ok(y) => Ok(ok(published(&state, &y.to_string()).await?)),
        Err(errors) => Ok(invalid(&state, &v, &errors)),
    }
}

#[derive(Serialize, ToSchema)]
pub struct HtcdsOut {
    /// `HTCDS 2.0`.
    pub standard: String,
    /// The cases in the standard's field names and codes (`docs/htcds.md`).
    #[schema(value_type = Vec<Object>)]
    pub cases: Vec<haven_store::exports::HtcdsRecord>,
}

/// Victim cases with consent for statistics, pseudonymised in the HTCDS v2 shape (analysts); audited.
#[utoipa::path(get, path = "/exports/htcds", tag = "statistics", responses((status = 200, body = HtcdsOut)))]
async fn htcds(State(state): State<AppState>, Api(v, ..): Api<guards::ViewAggregates>) -> AppResult<Response> {
    let cases = haven_app::exports::htcds(&state, &v, "json").await?;
    Ok(ok(HtcdsOut { standard: "HTCDS 2.0".into(), cases }))
}
