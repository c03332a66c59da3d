//! Work lists a user can take away: the rows a list page shows, as a CSV or XLSX file with the page's own
//! columns and labels, each download audited like a view. The pages offer it with `list_download.html`.

use axum::response::Response;
use haven_domain::format::parse_date;
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
use time::Date;

use crate::ctx::Viewer;
use crate::error::{AppError, AppResult};
use crate::AppState;

/// At most this many rows in a download of a whole list (a page shows fewer; the file takes the list away).
pub const DOWNLOAD_LIMIT: i64 = 10_000;

/// What a list page shows: its column heads and rows.
pub struct Table {
    /// The file's name without extension, and the sheet's.
    pub name: String,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

/// One value of a row, kept as what it is so a spreadsheet can sort and sum it: a day is a date cell shown
/// `dd/mm/yyyy`, a count a number; the CSV writes each as people write it.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Text(String),
    Count(i64),
    Day(Date),
}

impl Cell {
    pub fn text(s: impl Into<String>) -> Cell {
        Cell::Text(s.into())
    }

    /// A stored day (`yyyy-mm-dd`); anything else (blank, a partial date) as the text it is.
    pub fn day(stored: &str) -> Cell {
        Cell::day_or(stored, stored)
    }

    /// A stored day, or `shown` (how the page writes a partial date such as a month and year) when it is not
    /// a whole day.
    pub fn day_or(stored: &str, shown: &str) -> Cell {
        match parse_date(stored) {
            Some(d) => Cell::Day(d),
            None => Cell::Text(shown.to_owned()),
        }
    }

    fn written(&self) -> String {
        match self {
            Cell::Text(s) => s.clone(),
            Cell::Count(n) => n.to_string(),
            Cell::Day(d) => haven_domain::format::date(*d),
        }
    }
}

impl From<String> for Cell {
    fn from(s: String) -> Cell {
        Cell::Text(s)
    }
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
        w.write_record(r.iter().map(|v| haven_app::imports::neutralise(&v.written()))).map_err(fail)?;
    }
    w.into_inner().map_err(|e| AppError::Internal(anyhow::anyhow!("csv: {e}")))
}

/// One sheet, the heads in bold; text written as text (never a formula), days as dates, counts as numbers.
fn xlsx(t: &Table) -> AppResult<Vec<u8>> {
    let fail = |e: rust_xlsxwriter::XlsxError| AppError::Internal(anyhow::anyhow!("xlsx: {e}"));
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    let name: String = t.name.chars().filter(|c| !"[]:*?/\\".contains(*c)).take(31).collect();
    sheet.set_name(&name).map_err(fail)?;
    let bold = Format::new().set_bold();
    let day = Format::new().set_num_format("dd/mm/yyyy");
    for (col, h) in t.headers.iter().enumerate() {
        sheet.write_string_with_format(0, col as u16, h, &bold).map_err(fail)?;
        sheet.set_column_width(col as u16, 18).map_err(fail)?;
    }
    for (i, r) in t.rows.iter().enumerate() {
        for (col, v) in r.iter().enumerate() {
            let (row, col) = (i as u32 + 1, col as u16);
            match v {
                Cell::Text(s) => sheet.write_string(row, col, s).map(|_| ()),
                Cell::Count(n) => sheet.write_number(row, col, *n as f64).map(|_| ()),
                Cell::Day(d) => ExcelDateTime::from_ymd(d.year() as u16, d.month() as u8, d.day())
                    .and_then(|x| sheet.write_datetime_with_format(row, col, &x, &day).map(|_| ())),
            }
            .map_err(fail)?;
        }
    }
    book.save_to_buffer().map_err(fail)
}

#[cfg(test)]
mod tests {
    use super::*;
    use calamine::{Data, Reader, Xlsx};

    fn table() -> Table {
        Table {
            name: "Cases".into(),
            headers: vec!["Code".into(), "Received".into(), "People".into()],
            rows: vec![vec![Cell::text("=HYPERLINK(1)"), Cell::day("2026-03-05"), Cell::Count(1234)]],
        }
    }

    #[test]
    fn the_workbook_keeps_days_as_dates_and_counts_as_numbers() {
        let bytes = xlsx(&table()).expect("xlsx");
        let mut book = Xlsx::new(std::io::Cursor::new(bytes)).expect("open");
        let range = book.worksheet_range("Cases").expect("sheet");
        assert_eq!(range.get((1, 0)), Some(&Data::String("=HYPERLINK(1)".into())));
        match range.get((1, 1)) {
            Some(Data::DateTime(d)) => assert_eq!(d.as_f64(), 46086.0, "5 March 2026 as Excel's day number"),
            other => panic!("a date cell, got {other:?}"),
        }
        assert_eq!(range.get((1, 2)), Some(&Data::Float(1234.0)));
    }

    #[test]
    fn the_csv_writes_values_as_people_write_them() {
        let text = String::from_utf8(csv(&table()).expect("csv")).expect("utf-8");
        assert!(text.lines().any(|l| l == "'=HYPERLINK(1),05/03/2026,1234"), "{text}");
    }
}
