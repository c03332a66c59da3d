//! Work lists a user can take away: the rows a list page shows, as a CSV or XLSX file with the page's own
//! columns and labels, each download audited like a view. The pages offer it with `list_download.html`.

use axum::response::Response;
use rust_xlsxwriter::{Format, Workbook};

use crate::ctx::Viewer;
use crate::error::{AppError, AppResult};
use crate::AppState;

/// What a list page shows: its column heads and rows, as text.
pub struct Table {
    /// The file's name without extension, and the sheet's.
    pub name: String,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// The download form of a list page: where it posts, and the fields that say which list.
pub struct Download {
    pub action: String,
    pub fields: Vec<(String, String)>,
    /// Tells the page's download buttons apart (`download-awaiting-csv`).
    pub key: String,
}

impl Download {
    pub fn new(action: &str, fields: &[(&str, &str)]) -> Download {
        let key = fields.first().map(|(_, v)| *v).filter(|v| !v.is_empty()).unwrap_or("list").to_owned();
        Download {
            action: action.to_owned(),
            fields: fields.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
            key,
        }
    }
}

/// Send the table as `format` (`csv` or `xlsx`), recording the download under `list`.
pub async fn send(state: &AppState, viewer: &Viewer, list: &str, format: &str, t: Table) -> AppResult<Response> {
    let (content_type, ext, bytes) = match format {
        "csv" => ("text/csv; charset=utf-8", "csv", csv(&t)?),
        "xlsx" => ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx", xlsx(&t)?),
        _ => return Err(AppError::BadRequest("format".into())),
    };
    haven_app::exports::record_list_download(state, viewer, list, ext, t.rows.len()).await?;
    Ok(crate::page::download(&format!("{}.{ext}", t.name), content_type, bytes))
}

/// UTF-8 with a byte-order mark (spreadsheets then read Vietnamese right), every cell neutralised against
/// formula injection.
fn csv(t: &Table) -> AppResult<Vec<u8>> {
    let mut w = csv::Writer::from_writer(b"\xef\xbb\xbf".to_vec());
    let fail = |e: csv::Error| AppError::Internal(e.into());
    w.write_record(t.headers.iter().map(|h| haven_app::imports::neutralise(h))).map_err(fail)?;
    for r in &t.rows {
        w.write_record(r.iter().map(|v| haven_app::imports::neutralise(v))).map_err(fail)?;
    }
    w.into_inner().map_err(|e| AppError::Internal(anyhow::anyhow!("csv: {e}")))
}

/// One sheet, the heads in bold; every cell written as text, so nothing in it runs as a formula.
fn xlsx(t: &Table) -> AppResult<Vec<u8>> {
    let fail = |e: rust_xlsxwriter::XlsxError| AppError::Internal(anyhow::anyhow!("xlsx: {e}"));
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    let name: String = t.name.chars().filter(|c| !"[]:*?/\\".contains(*c)).take(31).collect();
    sheet.set_name(&name).map_err(fail)?;
    let bold = Format::new().set_bold();
    for (col, h) in t.headers.iter().enumerate() {
        sheet.write_string_with_format(0, col as u16, h, &bold).map_err(fail)?;
        sheet.set_column_width(col as u16, 18).map_err(fail)?;
    }
    for (i, r) in t.rows.iter().enumerate() {
        for (col, v) in r.iter().enumerate() {
            sheet.write_string(i as u32 + 1, col as u16, v).map_err(fail)?;
        }
    }
    book.save_to_buffer().map_err(fail)
}
