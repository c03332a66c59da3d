//! XLSX workbooks: the first sheet's cells, streamed, after refusing what cannot be trusted (a zip bomb, a
//! password, formulas, merged cells, a cell far beyond the data).

use std::io::{Cursor, Read};

use calamine::{Data, Reader, Xlsx};

use super::*;

pub(super) fn read_xlsx(bytes: &[u8]) -> Result<Sheet, SheetError> {
    read_xlsx_within(bytes, MAX_UNPACKED)
}

pub(super) fn read_xlsx_within(bytes: &[u8], max_unpacked: u64) -> Result<Sheet, SheetError> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|_| SheetError::Unreadable)?;
    check_unpacked_size(&mut archive, max_unpacked)?;
    let path = first_sheet_path(&mut archive)?;
    if let Some(cell) = first_formula(&mut archive, &path)? {
        return Err(SheetError::Formula(cell));
    }
    // The cells are read with calamine, which indexes its tables with what the file says: a damaged
    // workbook (a shared-string number past the end of the table, a row number that overflows) makes it
    // panic. Such a file is unreadable, not a reason to take down the request or the import.
    quietly(|| read_cells(bytes)).unwrap_or(Err(SheetError::Unreadable))
}

thread_local! {
    /// Set while this thread runs code whose panic is caught and answered (see [`quietly`]).
    static QUIET: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Run `f`, catching a panic without the panic hook printing it: the process's hook would write the
/// library's message and location to the terminal of a person importing a file, ahead of the proper
/// refusal. Panics anywhere else are reported as before (the hook installed here defers to the previous one).
fn quietly<T>(f: impl FnOnce() -> T + std::panic::UnwindSafe) -> std::thread::Result<T> {
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !QUIET.with(std::cell::Cell::get) {
                previous(info);
            }
        }));
    });
    QUIET.with(|q| q.set(true));
    let result = std::panic::catch_unwind(f);
    QUIET.with(|q| q.set(false));
    result
}

/// Look at the archive's directory before unpacking anything (sizes as declared), then unpack with a cap
/// and count, since a declared size can lie: a zip bomb is refused before it costs memory.
pub(super) fn check_unpacked_size(
    archive: &mut zip::ZipArchive<Cursor<&[u8]>>,
    max_unpacked: u64,
) -> Result<(), SheetError> {
    let mut declared: u64 = 0;
    for i in 0..archive.len() {
        let f = archive.by_index_raw(i).map_err(|_| SheetError::Unreadable)?;
        declared = declared.saturating_add(f.size());
    }
    if declared > max_unpacked {
        return Err(SheetError::TooLarge);
    }
    let mut total: u64 = 0;
    for i in 0..archive.len() {
        let f = archive.by_index(i).map_err(|_| SheetError::Unreadable)?;
        let mut sink = std::io::sink();
        let read = std::io::copy(&mut f.take(max_unpacked + 1 - total.min(max_unpacked)), &mut sink)
            .map_err(|_| SheetError::Unreadable)?;
        total = total.saturating_add(read);
        if total > max_unpacked {
            return Err(SheetError::TooLarge);
        }
    }
    Ok(())
}

/// The path in the archive of the workbook's first sheet: the first `<sheet>` of `xl/workbook.xml`, through
/// its relationship in `xl/_rels/workbook.xml.rels` (the order calamine lists sheets in).
pub(super) fn first_sheet_path(archive: &mut zip::ZipArchive<Cursor<&[u8]>>) -> Result<String, SheetError> {
    let mut rel_id = None;
    scan_xml(archive, "xl/workbook.xml", |name, attrs| {
        if name == b"sheet" {
            rel_id = attr(attrs, b"id");
            return rel_id.is_some();
        }
        false
    })?;
    let rel_id = rel_id.ok_or(SheetError::Empty)?;
    let mut target = None;
    scan_xml(archive, "xl/_rels/workbook.xml.rels", |name, attrs| {
        if name == b"Relationship" && attr(attrs, b"Id").as_deref() == Some(rel_id.as_str()) {
            target = attr(attrs, b"Target");
            return true;
        }
        false
    })?;
    let target = target.ok_or(SheetError::Unreadable)?;
    Ok(match target.strip_prefix('/') {
        Some(absolute) => absolute.to_owned(),
        None => format!("xl/{target}"),
    })
}

/// The address of the first cell of the sheet at `path` that holds a formula, if any. Read here rather than
/// with calamine's formula reader, which expands every shared formula's range and sizes a table by the
/// formula's index as the file states them: a few bytes could ask it for gigabytes.
pub(super) fn first_formula(
    archive: &mut zip::ZipArchive<Cursor<&[u8]>>,
    path: &str,
) -> Result<Option<String>, SheetError> {
    let (mut row, mut col) = (0u32, 0u32);
    let mut cell = String::new();
    let mut found = None;
    scan_xml(archive, path, |name, attrs| {
        match name {
            b"row" => {
                row = attr(attrs, b"r").and_then(|r| r.parse::<u32>().ok()).map_or(row + 1, |r| r.max(1));
                col = 0;
            }
            b"c" => {
                col += 1;
                cell = attr(attrs, b"r")
                    .filter(|r| r.len() <= 10 && r.bytes().all(|b| b.is_ascii_alphanumeric()))
                    .unwrap_or_else(|| cell_name(row.saturating_sub(1), col - 1));
            }
            b"f" => {
                found = Some(cell.clone());
                return true;
            }
            _ => {}
        }
        false
    })?;
    Ok(found)
}

/// Stream the start tags of an XML part of the archive to `visit` (local name, tag) until it returns true.
pub(super) fn scan_xml(
    archive: &mut zip::ZipArchive<Cursor<&[u8]>>,
    path: &str,
    mut visit: impl FnMut(&[u8], &quick_xml::events::BytesStart) -> bool,
) -> Result<(), SheetError> {
    use quick_xml::events::Event;
    let part = archive.by_name(path).map_err(|_| SheetError::Unreadable)?;
    let mut xml = quick_xml::Reader::from_reader(std::io::BufReader::new(part));
    let mut buf = Vec::new();
    loop {
        match xml.read_event_into(&mut buf) {
            Ok(Event::Start(e) | Event::Empty(e)) => {
                if visit(e.local_name().as_ref(), &e) {
                    return Ok(());
                }
            }
            Ok(Event::Eof) => return Ok(()),
            Err(_) => return Err(SheetError::Unreadable),
            Ok(_) => {}
        }
        buf.clear();
    }
}

/// An attribute's value by its local name (`r:id` is `id`).
pub(super) fn attr(tag: &quick_xml::events::BytesStart, name: &[u8]) -> Option<String> {
    tag.attributes()
        .flatten()
        .find(|a| a.key.local_name().as_ref() == name)
        .and_then(|a| String::from_utf8(a.value.into_owned()).ok())
}

/// The cells of the first sheet, streamed: only cells with text are kept, and the rows and columns they
/// span are bounded as they come, so a file that names a far cell (XFD1048576) is refused rather than
/// laid out as a grid of seventeen billion cells.
pub(super) fn read_cells(bytes: &[u8]) -> Result<Sheet, SheetError> {
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).map_err(|_| SheetError::Unreadable)?;
    let name = book.sheet_names().first().cloned().ok_or(SheetError::Empty)?;
    if let Some(Ok(merged)) = book.worksheet_merge_cells(&name) {
        if let Some(d) = merged.first() {
            return Err(SheetError::MergedCells(format!(
                "{}:{}",
                cell_name(d.start.0, d.start.1),
                cell_name(d.end.0, d.end.1)
            )));
        }
    }
    let mut reader = book.worksheet_cells_reader(&name).map_err(|_| SheetError::Unreadable)?;
    let mut cells: std::collections::BTreeMap<u32, Vec<(u32, String)>> = std::collections::BTreeMap::new();
    let (mut first_col, mut last_col) = (u32::MAX, 0u32);
    while let Some(cell) = reader.next_cell().map_err(|_| SheetError::Unreadable)? {
        let value = Data::from(cell.get_value().clone());
        if matches!(value, Data::Error(_)) {
            // `#REF!`, `#N/A`: a value the spreadsheet lost, not an empty cell.
            let (r, c) = cell.get_position();
            return Err(SheetError::ErrorCell(cell_name(r, c)));
        }
        let text = cell_text(&value);
        if is_error_literal(&text) {
            let (r, c) = cell.get_position();
            return Err(SheetError::ErrorCell(cell_name(r, c)));
        }
        if text.is_empty() {
            continue;
        }
        let (r, c) = cell.get_position();
        first_col = first_col.min(c);
        last_col = last_col.max(c);
        if last_col - first_col >= MAX_COLUMNS as u32 {
            return Err(SheetError::TooManyColumns);
        }
        cells.entry(r).or_default().push((c, text));
        if cells.len() > MAX_ROWS + 1 {
            return Err(SheetError::TooManyRows);
        }
    }
    // Rows above the header and columns left of the data are not part of the list.
    let width = last_col.saturating_sub(first_col) as usize + 1;
    let rows = cells
        .into_iter()
        .map(|(r, row)| {
            let mut out = vec![String::new(); width];
            for (c, text) in row {
                out[(c - first_col) as usize] = text;
            }
            (r as usize + 1, out)
        })
        .collect();
    finish(rows, None)
}

/// A cell as text: dates as dd/mm/yyyy, whole numbers without ".0" (ID numbers typed as numbers).
pub(super) fn cell_text(d: &Data) -> String {
    match d {
        Data::Empty | Data::Error(_) => String::new(),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.trim().to_owned(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(dt) => {
            let (y, m, d, ..) = dt.to_ymd_hms_milli();
            format!("{d:02}/{m:02}/{y:04}")
        }
    }
}
