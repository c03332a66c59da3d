//! Exports for analysis outside Haven: victim cases in the shape of IOM's HTCDS v2 (CSV or JSON), only with
//! the person's consent for statistics, pseudonymised (`haven_store::exports`). For analysts; every download is
//! audited, and every CSV cell is neutralised against formula injection.

use askama::Template;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use haven_store::exports::{HtcdsRecord, CSV_COLUMNS};
use serde::Deserialize;

use crate::ctx::{self as guards, Can, CsrfForm};
use crate::error::{AppError, AppResult};
use crate::page::{ok, Ctx};
use crate::AppState;
use haven_app::imports::neutralise;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/exports", get(page))
        .route("/exports/htcds.csv", post(htcds_csv))
        .route("/exports/htcds.json", post(htcds_json))
}

#[derive(Template)]
#[template(path = "exports.html")]
struct ExportsPage {
    c: Ctx,
    cases: usize,
}

async fn page(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::ViewAggregates>,
    c: Ctx,
) -> AppResult<Response> {
    let cases = haven_app::exports::htcds_count(&state, &viewer).await?;
    Ok(ok(&ExportsPage { c, cases }))
}

#[derive(Deserialize)]
struct Empty {}

/// The records as CSV (UTF-8 with a byte-order mark, so spreadsheets read the Vietnamese right).
pub fn csv_bytes(records: &[HtcdsRecord]) -> AppResult<Vec<u8>> {
    let mut w = csv::Writer::from_writer(b"\xef\xbb\xbf".to_vec());
    w.write_record(CSV_COLUMNS).map_err(|e| AppError::Internal(e.into()))?;
    for r in records {
        w.write_record(r.csv_row().iter().map(|v| neutralise(v))).map_err(|e| AppError::Internal(e.into()))?;
    }
    w.into_inner().map_err(|e| AppError::Internal(anyhow::anyhow!("csv: {e}")))
}

fn attachment(content_type: &str, file: &str, bytes: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{file}\"")),
        ],
        bytes,
    )
        .into_response()
}

async fn htcds_csv(
    State(state): State<AppState>,
    Can(v, ..): Can<guards::ViewAggregates>,
    CsrfForm(_, _): CsrfForm<Empty>,
) -> AppResult<Response> {
    let records = haven_app::exports::htcds(&state, &v, "csv").await?;
    Ok(attachment("text/csv; charset=utf-8", "htcds-v2.csv", csv_bytes(&records)?))
}

async fn htcds_json(
    State(state): State<AppState>,
    Can(v, ..): Can<guards::ViewAggregates>,
    CsrfForm(_, _): CsrfForm<Empty>,
) -> AppResult<Response> {
    let records = haven_app::exports::htcds(&state, &v, "json").await?;
    let body = serde_json::to_vec_pretty(&serde_json::json!({ "standard": "HTCDS 2.0", "cases": records }))
        .map_err(|e| AppError::Internal(e.into()))?;
    Ok(attachment("application/json", "htcds-v2.json", body))
}
