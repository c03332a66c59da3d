//! Public statistics: the page and CSV anyone may read without an account, and the analysts' button that
//! publishes them. Only what was published is read here (`public_releases`), never the records: the release
//! rules (small counts and their complements suppressed, see `haven_domain::stats`) ran when it was
//! published, and each publication is audited.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use haven_app::imports::neutralise;
use haven_app::statistics as app;
use haven_domain::roles::Action;
use haven_domain::stats::{Cell, Release};
use haven_store::exports::PublishedRelease;
use serde::Deserialize;

use crate::ctx::{self as guards, Can, CsrfForm, Viewer};
use crate::error::{AppError, AppResult};
use crate::page::{render, Ctx};
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/statistics", get(page))
        .route("/statistics/publish", post(publish))
        .route("/statistics/{file}", get(download))
}

/// One published table as shown: labels translated, each value a count or suppressed (`None`).
pub struct TableView {
    pub code: &'static str,
    pub title: String,
    pub row_head: String,
    pub cols: Vec<String>,
    /// (label, cells, row total)
    pub rows: Vec<(String, Vec<Option<u64>>, Option<u64>)>,
    pub col_totals: Vec<Option<u64>>,
    pub total: Option<u64>,
    pub published: String,
}

/// The translation keys of a public table: its title, the head of its rows, and the code lists of its rows
/// and columns.
fn keys(code: &str) -> (&'static str, &'static str, &'static str, &'static str) {
    match code {
        "victims_age_sex" => ("stats.victims_age_sex", "stats.age", "age_band", "sex"),
        "victims_country_exploitation" => ("stats.victims_country_exploitation", "stats.country", "country", "htcds"),
        _ => ("stats.reach_group_channel", "stats.group", "target_group", "channel"),
    }
}

/// A code's label in a code list; the empty code is a value nobody recorded.
fn label(c: &Ctx, list: &str, code: &str) -> String {
    if code.is_empty() {
        c.t("plan.not_recorded").to_owned()
    } else {
        c.tk(list, code)
    }
}

fn view(c: &Ctx, p: &PublishedRelease) -> TableView {
    let code = haven_store::exports::PUBLIC_TABLES.iter().copied().find(|t| *t == p.table_code).unwrap_or("");
    let (title, row_head, row_list, col_list) = keys(code);
    let r: &Release = &p.release;
    TableView {
        code,
        title: c.t(title).to_owned(),
        row_head: c.t(row_head).to_owned(),
        cols: r.cols.iter().map(|k| label(c, col_list, k)).collect(),
        rows: r
            .rows
            .iter()
            .zip(&r.cells)
            .zip(&r.row_totals)
            .map(|((k, cells), total)| {
                (label(c, row_list, k), cells.iter().map(|x| x.shown()).collect(), total.shown())
            })
            .collect(),
        col_totals: r.col_totals.iter().map(|x| x.shown()).collect(),
        total: r.total.shown(),
        published: c.date_time(&p.published_at),
    }
}

#[derive(Deserialize)]
struct YearQuery {
    year: Option<String>,
}

#[derive(Template)]
#[template(path = "statistics.html")]
struct StatisticsPage {
    c: Ctx,
    /// The published years, newest first.
    years: Vec<String>,
    year: Option<String>,
    tables: Vec<TableView>,
    /// The years an analyst may publish (this one and the last: an older year is settled), when the viewer is one.
    publishable: Vec<i32>,
    error: Option<&'static str>,
}

async fn page(
    State(state): State<AppState>,
    viewer: Option<Viewer>,
    c: Ctx,
    Query(q): Query<YearQuery>,
) -> AppResult<Response> {
    statistics_page(&state, viewer.as_ref(), c, q.year, None, StatusCode::OK).await
}

async fn statistics_page(
    state: &AppState,
    viewer: Option<&Viewer>,
    c: Ctx,
    year: Option<String>,
    error: Option<&'static str>,
    status: StatusCode,
) -> AppResult<Response> {
    let years = app::years(state).await?;
    let year = year.filter(|y| years.contains(y)).or_else(|| years.first().cloned());
    let tables = match &year {
        Some(y) => app::published(state, y).await?.iter().map(|p| view(&c, p)).collect(),
        None => Vec::new(),
    };
    let publishable = if viewer.is_some_and(|v| v.can(Action::PublishStatistics)) {
        app::publishable_years(state).to_vec()
    } else {
        Vec::new()
    };
    Ok(render(status, &StatisticsPage { c, years, year, tables, publishable, error }))
}

#[derive(Deserialize)]
struct PublishForm {
    #[serde(default)]
    year: String,
}

async fn publish(
    State(state): State<AppState>,
    Can(v, ..): Can<guards::PublishStatistics>,
    c: Ctx,
    CsrfForm(form, _): CsrfForm<PublishForm>,
) -> AppResult<Response> {
    let year = match app::publish(&state, &v, &form.year).await? {
        Ok(year) => year,
        Err(_) => {
            let error = Some("stats.error_year");
            return statistics_page(&state, Some(&v), c, None, error, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
    };
    Ok(Redirect::to(&format!("/statistics?year={year}&done=stats_published")).into_response())
}

/// `/statistics/2026.csv` or `/statistics/2026.json`: every published value of a year; in CSV one per line,
/// a suppressed one empty; in JSON each table as released, a suppressed value `null`.
async fn download(State(state): State<AppState>, c: Ctx, Path(file): Path<String>) -> AppResult<Response> {
    let (year, form) = file.rsplit_once('.').ok_or(AppError::NotFound)?;
    if year.len() != 4 || !year.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AppError::NotFound);
    }
    let published = app::published(&state, year).await?;
    if published.is_empty() {
        return Err(AppError::NotFound);
    }
    let (content_type, body) = match form {
        "csv" => ("text/csv; charset=utf-8", csv_bytes(&c, &published)?),
        "json" => {
            let tables: Vec<_> = published
                .iter()
                .map(|p| {
                    serde_json::json!({
                        "table": p.table_code,
                        "published_at": haven_domain::format::date_time(p.published_at),
                        "rows": p.release.rows,
                        "columns": p.release.cols,
                        "cells": p.release.cells,
                        "row_totals": p.release.row_totals,
                        "column_totals": p.release.col_totals,
                        "total": p.release.total,
                    })
                })
                .collect();
            let doc = serde_json::json!({ "year": year, "min_count": haven_domain::stats::MIN_PUBLIC_COUNT, "tables": tables });
            ("application/json", serde_json::to_vec_pretty(&doc).map_err(|e| AppError::Internal(e.into()))?)
        }
        _ => return Err(AppError::NotFound),
    };
    Ok((
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"haven-statistics-{year}.{form}\"")),
        ],
        body,
    )
        .into_response())
}

/// The CSV of published tables: `table, row_code, row, column_code, column, count`, the totals under the
/// code `total`, a suppressed count empty. UTF-8 with a byte-order mark, every cell neutralised.
fn csv_bytes(c: &Ctx, published: &[PublishedRelease]) -> AppResult<Vec<u8>> {
    let mut w = csv::Writer::from_writer(b"\xef\xbb\xbf".to_vec());
    let mut lines: Vec<[String; 6]> = Vec::new();
    let total = ("total", c.t("stats.total"));
    for p in published {
        let (_, _, rows, cols) = keys(&p.table_code);
        let r = &p.release;
        let mut line = |(rk, rl): (&str, &str), (ck, cl): (&str, &str), x: Cell| {
            let count = x.shown().map(|n| n.to_string()).unwrap_or_default();
            lines.push([p.table_code.clone(), rk.into(), rl.into(), ck.into(), cl.into(), count]);
        };
        let col_labels: Vec<String> = r.cols.iter().map(|k| label(c, cols, k)).collect();
        for ((rk, cells), row_total) in r.rows.iter().zip(&r.cells).zip(&r.row_totals) {
            let rl = label(c, rows, rk);
            for ((ck, cl), x) in r.cols.iter().zip(&col_labels).zip(cells) {
                line((rk, &rl), (ck, cl), *x);
            }
            line((rk, &rl), total, *row_total);
        }
        for ((ck, cl), x) in r.cols.iter().zip(&col_labels).zip(&r.col_totals) {
            line(total, (ck, cl), *x);
        }
        line(total, total, r.total);
    }
    let header = ["table", "row_code", "row", "column_code", "column", "count"].map(String::from);
    for cells in std::iter::once(header).chain(lines) {
        w.write_record(cells.iter().map(|v| neutralise(v))).map_err(|e| AppError::Internal(e.into()))?;
    }
    w.into_inner().map_err(|e| AppError::Internal(anyhow::anyhow!("csv: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_cover_every_public_table() {
        let titles: Vec<_> = haven_store::exports::PUBLIC_TABLES.iter().map(|t| keys(t).0).collect();
        assert_eq!(
            titles,
            ["stats.victims_age_sex", "stats.victims_country_exploitation", "stats.reach_group_channel"]
        );
    }
}
