//! Reading the spreadsheets offices keep their lists in: XLSX, and CSV in UTF-8, UTF-16, Windows-1258 or the
//! legacy VNI encoding (detected, or chosen by the user), into a header row and rows of text. Bad files are
//! refused with a reason a person can act on: not a spreadsheet, password-protected, too large once unpacked
//! (a zip bomb), formulas, merged cells, too many rows. Bytes in, rows out: no I/O here.

use std::io::{Cursor, Read};

use calamine::{Data, Reader, Xlsx};
use unicode_normalization::UnicodeNormalization;

/// Most data rows a file may hold: a province's registers are thousands; a million-row file is a mistake or
/// an attack and is refused before it is read row by row.
pub const MAX_ROWS: usize = 100_000;
/// Most columns read.
pub const MAX_COLUMNS: usize = 60;
/// Most bytes an XLSX file may unpack to, in all (a zip bomb unpacks to gigabytes).
pub const MAX_UNPACKED: u64 = 200 * 1024 * 1024;
/// Most characters in one cell.
pub const MAX_CELL: usize = 4_000;

/// A text encoding of a CSV file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    Utf16Le,
    Utf16Be,
    Windows1258,
    /// VNI Windows: Vietnamese letters written as a base letter followed by a mark byte, read through the
    /// VNI fonts. Still found in lists typed in the 2000s.
    Vni,
}

impl Encoding {
    pub const ALL: [Encoding; 5] =
        [Encoding::Utf8, Encoding::Utf16Le, Encoding::Utf16Be, Encoding::Windows1258, Encoding::Vni];

    pub fn code(self) -> &'static str {
        match self {
            Encoding::Utf8 => "utf-8",
            Encoding::Utf16Le => "utf-16le",
            Encoding::Utf16Be => "utf-16be",
            Encoding::Windows1258 => "windows-1258",
            Encoding::Vni => "vni",
        }
    }

    pub fn from_code(code: &str) -> Option<Encoding> {
        Encoding::ALL.into_iter().find(|e| e.code() == code)
    }
}

/// Why a file cannot be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SheetError {
    /// Not XLSX or CSV (a PDF, a picture, an old .xls, ...).
    WrongType,
    /// A password-protected workbook.
    Encrypted,
    /// Unpacks to more than [`MAX_UNPACKED`].
    TooLarge,
    /// A cell holds a formula (its address, as A1).
    Formula(String),
    /// Merged cells (the first range, as A1:B2).
    MergedCells(String),
    TooManyRows,
    TooManyColumns,
    /// No header row, or no rows under it.
    Empty,
    /// The bytes are not text in the chosen encoding, or the workbook is damaged.
    Unreadable,
}

impl SheetError {
    /// The translation key of the message.
    pub fn key(&self) -> &'static str {
        match self {
            SheetError::WrongType => "error.import_type",
            SheetError::Encrypted => "error.import_encrypted",
            SheetError::TooLarge => "error.import_too_large",
            SheetError::Formula(_) => "error.import_formula",
            SheetError::MergedCells(_) => "error.import_merged",
            SheetError::TooManyRows => "error.import_rows",
            SheetError::TooManyColumns => "error.import_columns",
            SheetError::Empty => "error.import_empty",
            SheetError::Unreadable => "error.import_unreadable",
        }
    }

    /// The cell or range the message names, if any.
    pub fn place(&self) -> Option<&str> {
        match self {
            SheetError::Formula(p) | SheetError::MergedCells(p) => Some(p),
            _ => None,
        }
    }
}

/// A file read: its header row and its data rows (each as long as the header).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sheet {
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
    /// The number of each data row in the file, as the spreadsheet numbers it (or the CSV line): empty rows
    /// are dropped, and an error names the row a person sees.
    pub lines: Vec<usize>,
    /// For CSV: the encoding it was read in.
    pub encoding: Option<Encoding>,
}

/// Read a spreadsheet; `encoding` forces the text encoding of a CSV file (otherwise detected).
pub fn read(bytes: &[u8], encoding: Option<Encoding>) -> Result<Sheet, SheetError> {
    match bytes {
        [0x50, 0x4b, 0x03, 0x04, ..] => read_xlsx(bytes),
        // OLE compound file: an encrypted OOXML workbook, or an old .xls.
        [0xd0, 0xcf, 0x11, 0xe0, ..] => {
            if contains(bytes, &utf16le("EncryptedPackage")) {
                Err(SheetError::Encrypted)
            } else {
                Err(SheetError::WrongType)
            }
        }
        [] => Err(SheetError::Empty),
        _ => read_csv(bytes, encoding),
    }
}

fn utf16le(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

/// The A1 name of a cell.
pub fn cell_name(row: u32, col: u32) -> String {
    let mut name = String::new();
    let mut c = col + 1;
    while c > 0 {
        let rem = (c - 1) % 26;
        name.insert(0, char::from(b'A' + rem as u8));
        c = (c - 1) / 26;
    }
    format!("{name}{}", row + 1)
}

fn read_xlsx(bytes: &[u8]) -> Result<Sheet, SheetError> {
    read_xlsx_within(bytes, MAX_UNPACKED)
}

fn read_xlsx_within(bytes: &[u8], max_unpacked: u64) -> Result<Sheet, SheetError> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|_| SheetError::Unreadable)?;
    check_unpacked_size(&mut archive, max_unpacked)?;
    let path = first_sheet_path(&mut archive)?;
    if let Some(cell) = first_formula(&mut archive, &path)? {
        return Err(SheetError::Formula(cell));
    }
    // The cells are read with calamine, which indexes its tables with what the file says: a damaged
    // workbook (a shared-string number past the end of the table, a row number that overflows) makes it
    // panic. Such a file is unreadable, not a reason to take down the request or the import.
    std::panic::catch_unwind(|| read_cells(bytes)).unwrap_or(Err(SheetError::Unreadable))
}

/// Look at the archive's directory before unpacking anything (sizes as declared), then unpack with a cap
/// and count, since a declared size can lie: a zip bomb is refused before it costs memory.
fn check_unpacked_size(archive: &mut zip::ZipArchive<Cursor<&[u8]>>, max_unpacked: u64) -> Result<(), SheetError> {
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
fn first_sheet_path(archive: &mut zip::ZipArchive<Cursor<&[u8]>>) -> Result<String, SheetError> {
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
fn first_formula(archive: &mut zip::ZipArchive<Cursor<&[u8]>>, path: &str) -> Result<Option<String>, SheetError> {
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
fn scan_xml(
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
fn attr(tag: &quick_xml::events::BytesStart, name: &[u8]) -> Option<String> {
    tag.attributes()
        .flatten()
        .find(|a| a.key.local_name().as_ref() == name)
        .and_then(|a| String::from_utf8(a.value.into_owned()).ok())
}

/// The cells of the first sheet, streamed: only cells with text are kept, and the rows and columns they
/// span are bounded as they come, so a file that names a far cell (XFD1048576) is refused rather than
/// laid out as a grid of seventeen billion cells.
fn read_cells(bytes: &[u8]) -> Result<Sheet, SheetError> {
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
        let text = cell_text(&Data::from(cell.get_value().clone()));
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
fn cell_text(d: &Data) -> String {
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

/// Decode a CSV file's bytes to text.
pub fn decode(bytes: &[u8], encoding: Option<Encoding>) -> Result<(String, Encoding), SheetError> {
    let enc = match encoding {
        Some(e) => e,
        None => detect(bytes),
    };
    let text = match enc {
        Encoding::Utf8 => {
            let b = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
            std::str::from_utf8(b).map_err(|_| SheetError::Unreadable)?.to_owned()
        }
        Encoding::Utf16Le | Encoding::Utf16Be => {
            let e = if enc == Encoding::Utf16Le { encoding_rs::UTF_16LE } else { encoding_rs::UTF_16BE };
            let (text, had_errors) = e.decode_with_bom_removal(bytes);
            if had_errors {
                return Err(SheetError::Unreadable);
            }
            text.into_owned()
        }
        Encoding::Windows1258 => {
            let (text, _, had_errors) = encoding_rs::WINDOWS_1258.decode(bytes);
            if had_errors {
                return Err(SheetError::Unreadable);
            }
            text.into_owned()
        }
        Encoding::Vni => {
            let (text, _, _) = encoding_rs::WINDOWS_1252.decode(bytes);
            vni_to_unicode(&text)
        }
    };
    if text.contains('\0') {
        return Err(SheetError::WrongType);
    }
    Ok((text.nfc().collect(), enc))
}

/// Guess a CSV file's encoding: a byte-order mark, valid UTF-8, UTF-16 without a mark (every other byte
/// zero), or between the two legacy Vietnamese encodings by what follows the vowels.
pub fn detect(bytes: &[u8]) -> Encoding {
    if bytes.starts_with(b"\xef\xbb\xbf") {
        return Encoding::Utf8;
    }
    if bytes.starts_with(b"\xff\xfe") {
        return Encoding::Utf16Le;
    }
    if bytes.starts_with(b"\xfe\xff") {
        return Encoding::Utf16Be;
    }
    let sample = &bytes[..bytes.len().min(64 * 1024)];
    if sample.len() >= 4 {
        let odd_zero = sample.iter().skip(1).step_by(2).filter(|b| **b == 0).count();
        let even_zero = sample.iter().step_by(2).filter(|b| **b == 0).count();
        let half = sample.len() / 2;
        if odd_zero * 10 > half * 4 && even_zero * 10 < half {
            return Encoding::Utf16Le;
        }
        if even_zero * 10 > half * 4 && odd_zero * 10 < half {
            return Encoding::Utf16Be;
        }
    }
    if std::str::from_utf8(bytes).is_ok() {
        return Encoding::Utf8;
    }
    // VNI puts a mark byte right after the vowel it belongs to ("Vieät"); Windows-1258 writes â, ê, ô, ơ, ư, ă
    // as one byte after a consonant and tone marks as combining bytes.
    let vowel = |b: u8| b"aeiouyAEIOUY".contains(&b);
    let (mut vni, mut cp1258) = (0usize, 0usize);
    for w in sample.windows(2) {
        let (a, b) = (w[0], w[1]);
        if b >= 0x80 && vowel(a) && VNI_MARKS.contains(&b) {
            vni += 1;
        }
        if b >= 0x80 && a.is_ascii_alphabetic() && !vowel(a) && CP1258_LETTERS.contains(&b) {
            cp1258 += 1;
        }
        if b >= 0x80 && a >= 0x80 && CP1258_TONES.contains(&b) {
            cp1258 += 1;
        }
    }
    if vni > cp1258 {
        Encoding::Vni
    } else {
        Encoding::Windows1258
    }
}

/// Bytes VNI uses as marks after a vowel (as Windows-1252 reads them).
const VNI_MARKS: &[u8] = &[
    0xf9, 0xf8, 0xfb, 0xf5, 0xef, 0xe2, 0xe1, 0xe0, 0xe5, 0xe3, 0xe4, 0xea, 0xe9, 0xe8, 0xfa, 0xfc, 0xeb, 0xd9, 0xd8,
    0xdb, 0xd5, 0xcf, 0xc2, 0xc1, 0xc0, 0xc5, 0xc3, 0xc4, 0xca, 0xc9, 0xc8, 0xda, 0xdc, 0xcb,
];
/// Windows-1258's one-byte letters â ê ô ơ ư ă đ and their capitals.
const CP1258_LETTERS: &[u8] = &[0xe2, 0xea, 0xf4, 0xf5, 0xfd, 0xe3, 0xf0, 0xc2, 0xca, 0xd4, 0xd5, 0xdd, 0xc3, 0xd0];
/// Windows-1258's combining tone marks (grave, hook, tilde, acute, dot below).
const CP1258_TONES: &[u8] = &[0xcc, 0xd2, 0xde, 0xec, 0xf2];

/// VNI sequences (as Windows-1252 reads the bytes) and the letters they write, longest first where one
/// starts another. The table is written out because no maintained crate decodes VNI; it covers every
/// Vietnamese letter in both cases.
const VNI: &[(&str, &str)] = &[
    ("aù", "á"),
    ("aø", "à"),
    ("aû", "ả"),
    ("aõ", "ã"),
    ("aï", "ạ"),
    ("aê", "ă"),
    ("aé", "ắ"),
    ("aè", "ằ"),
    ("aú", "ẳ"),
    ("aü", "ẵ"),
    ("aë", "ặ"),
    ("aâ", "â"),
    ("aá", "ấ"),
    ("aà", "ầ"),
    ("aå", "ẩ"),
    ("aã", "ẫ"),
    ("aä", "ậ"),
    ("eù", "é"),
    ("eø", "è"),
    ("eû", "ẻ"),
    ("eõ", "ẽ"),
    ("eï", "ẹ"),
    ("eâ", "ê"),
    ("eá", "ế"),
    ("eà", "ề"),
    ("eå", "ể"),
    ("eã", "ễ"),
    ("eä", "ệ"),
    ("où", "ó"),
    ("oø", "ò"),
    ("oû", "ỏ"),
    ("oõ", "õ"),
    ("oï", "ọ"),
    ("oâ", "ô"),
    ("oá", "ố"),
    ("oà", "ồ"),
    ("oå", "ổ"),
    ("oã", "ỗ"),
    ("oä", "ộ"),
    ("ôù", "ớ"),
    ("ôø", "ờ"),
    ("ôû", "ở"),
    ("ôõ", "ỡ"),
    ("ôï", "ợ"),
    ("uù", "ú"),
    ("uø", "ù"),
    ("uû", "ủ"),
    ("uõ", "ũ"),
    ("uï", "ụ"),
    ("öù", "ứ"),
    ("öø", "ừ"),
    ("öû", "ử"),
    ("öõ", "ữ"),
    ("öï", "ự"),
    ("yù", "ý"),
    ("yø", "ỳ"),
    ("yû", "ỷ"),
    ("yõ", "ỹ"),
    ("AÙ", "Á"),
    ("AØ", "À"),
    ("AÛ", "Ả"),
    ("AÕ", "Ã"),
    ("AÏ", "Ạ"),
    ("AÊ", "Ă"),
    ("AÉ", "Ắ"),
    ("AÈ", "Ằ"),
    ("AÚ", "Ẳ"),
    ("AÜ", "Ẵ"),
    ("AË", "Ặ"),
    ("AÂ", "Â"),
    ("AÁ", "Ấ"),
    ("AÀ", "Ầ"),
    ("AÅ", "Ẩ"),
    ("AÃ", "Ẫ"),
    ("AÄ", "Ậ"),
    ("EÙ", "É"),
    ("EØ", "È"),
    ("EÛ", "Ẻ"),
    ("EÕ", "Ẽ"),
    ("EÏ", "Ẹ"),
    ("EÂ", "Ê"),
    ("EÁ", "Ế"),
    ("EÀ", "Ề"),
    ("EÅ", "Ể"),
    ("EÃ", "Ễ"),
    ("EÄ", "Ệ"),
    ("OÙ", "Ó"),
    ("OØ", "Ò"),
    ("OÛ", "Ỏ"),
    ("OÕ", "Õ"),
    ("OÏ", "Ọ"),
    ("OÂ", "Ô"),
    ("OÁ", "Ố"),
    ("OÀ", "Ồ"),
    ("OÅ", "Ổ"),
    ("OÃ", "Ỗ"),
    ("OÄ", "Ộ"),
    ("ÔÙ", "Ớ"),
    ("ÔØ", "Ờ"),
    ("ÔÛ", "Ở"),
    ("ÔÕ", "Ỡ"),
    ("ÔÏ", "Ợ"),
    ("UÙ", "Ú"),
    ("UØ", "Ù"),
    ("UÛ", "Ủ"),
    ("UÕ", "Ũ"),
    ("UÏ", "Ụ"),
    ("ÖÙ", "Ứ"),
    ("ÖØ", "Ừ"),
    ("ÖÛ", "Ử"),
    ("ÖÕ", "Ữ"),
    ("ÖÏ", "Ự"),
    ("YÙ", "Ý"),
    ("YØ", "Ỳ"),
    ("YÛ", "Ỷ"),
    ("YÕ", "Ỹ"),
    // One byte on its own.
    ("í", "í"),
    ("ì", "ì"),
    ("æ", "ỉ"),
    ("ó", "ĩ"),
    ("ò", "ị"),
    ("ô", "ơ"),
    ("ö", "ư"),
    ("î", "ỵ"),
    ("ñ", "đ"),
    ("Í", "Í"),
    ("Ì", "Ì"),
    ("Æ", "Ỉ"),
    ("Ó", "Ĩ"),
    ("Ò", "Ị"),
    ("Ô", "Ơ"),
    ("Ö", "Ư"),
    ("Î", "Ỵ"),
    ("Ñ", "Đ"),
];

/// Convert text typed in VNI (read as Windows-1252) to Unicode.
pub fn vni_to_unicode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    'outer: while let Some(c) = rest.chars().next() {
        if c.is_ascii() && !b"aeouyAEOUY".contains(&(c as u8)) {
            out.push(c);
            rest = &rest[1..];
            continue;
        }
        for (vni, uni) in VNI {
            if rest.starts_with(vni) {
                out.push_str(uni);
                rest = &rest[vni.len()..];
                continue 'outer;
            }
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// Unicode to VNI (as Windows-1252 characters): for tests and fuzzing, so the decoder is checked both ways.
pub fn unicode_to_vni(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    for c in text.nfc() {
        let mut buf = [0u8; 4];
        let s = c.encode_utf8(&mut buf);
        match VNI.iter().find(|(_, uni)| *uni == s) {
            Some((vni, _)) => out.push_str(vni),
            None => out.push(c),
        }
    }
    out
}

fn read_csv(bytes: &[u8], encoding: Option<Encoding>) -> Result<Sheet, SheetError> {
    // A binary file (a picture, a PDF) is not a list, whatever it is called.
    let sniff = &bytes[..bytes.len().min(8)];
    if sniff.starts_with(b"%PDF") || sniff.starts_with(b"\x89PNG") || sniff.starts_with(b"\xff\xd8\xff") {
        return Err(SheetError::WrongType);
    }
    let (text, enc) = decode(bytes, encoding)?;
    let first = text.lines().next().unwrap_or_default();
    let delimiter =
        [b',', b';', b'\t'].into_iter().max_by_key(|d| first.bytes().filter(|b| b == d).count()).unwrap_or(b',');
    let mut reader =
        csv::ReaderBuilder::new().has_headers(false).flexible(true).delimiter(delimiter).from_reader(text.as_bytes());
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|_| SheetError::Unreadable)?;
        if rows.len() > MAX_ROWS + 1 {
            return Err(SheetError::TooManyRows);
        }
        let line = record.position().map_or(rows.len() + 1, |p| p.line() as usize);
        let row: Vec<String> = record.iter().map(|c| c.trim().to_owned()).collect();
        if let Some(c) = row.iter().position(|c| c.starts_with('=')) {
            return Err(SheetError::Formula(cell_name(line as u32 - 1, c as u32)));
        }
        if row.iter().any(|c| !c.is_empty()) {
            rows.push((line, row));
        }
    }
    finish(rows, Some(enc))
}

/// The first row is the header; every row is cut or padded to its width.
fn finish(mut numbered: Vec<(usize, Vec<String>)>, encoding: Option<Encoding>) -> Result<Sheet, SheetError> {
    if numbered.len() > MAX_ROWS + 1 {
        return Err(SheetError::TooManyRows);
    }
    if numbered.len() < 2 {
        return Err(SheetError::Empty);
    }
    let (_, mut headers) = numbered.remove(0);
    let (lines, mut rows): (Vec<usize>, Vec<Vec<String>>) = numbered.into_iter().unzip();
    while headers.last().is_some_and(String::is_empty) {
        headers.pop();
    }
    if headers.is_empty() {
        return Err(SheetError::Empty);
    }
    if headers.len() > MAX_COLUMNS {
        return Err(SheetError::TooManyColumns);
    }
    for (i, h) in headers.iter_mut().enumerate() {
        if h.is_empty() {
            *h = cell_name(0, i as u32).trim_end_matches('1').to_owned();
        }
    }
    for row in &mut rows {
        row.resize(headers.len(), String::new());
        for cell in row.iter_mut() {
            if cell.chars().count() > MAX_CELL {
                *cell = cell.chars().take(MAX_CELL).collect();
            }
        }
    }
    Ok(Sheet { headers, rows, lines, encoding })
}

/// An ID number as a spreadsheet kept it. A number typed into a cell formatted as a number loses its leading
/// zero: every 12-digit citizen ID starts with one (the province code 001-096), as do the old 9-digit IDs of
/// some provinces, so 11 and 8 digits are read as 12 and 9 with the zero put back.
pub fn id_number_cell(cell: &str) -> String {
    let digits = !cell.is_empty() && cell.bytes().all(|b| b.is_ascii_digit());
    match cell.len() {
        11 | 8 if digits => format!("0{cell}"),
        _ => cell.to_owned(),
    }
}

/// A phone number as a spreadsheet kept it: Vietnamese numbers start with 0 (10 digits for a mobile, 11 for a
/// landline with its area code), so 9 or 10 digits without it are read with the zero put back.
pub fn phone_cell(cell: &str) -> String {
    let digits = cell.bytes().all(|b| b.is_ascii_digit());
    if matches!(cell.len(), 9 | 10) && digits && !cell.starts_with('0') {
        format!("0{cell}")
    } else {
        cell.to_owned()
    }
}

/// A fingerprint of a header row, to remember the mapping of files of one template: the headers folded
/// (no case, diacritics or extra spaces), in order.
pub fn signature(headers: &[String]) -> String {
    headers.iter().map(|h| fold(h)).collect::<Vec<_>>().join("|")
}

fn fold(s: &str) -> String {
    s.nfd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
        .map(|c| if c == 'đ' || c == 'Đ' { 'd' } else { c })
        .collect::<String>()
        .to_lowercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Header words that name each field a register takes, folded, in Vietnamese and English.
const HEADER_WORDS: &[(&str, &[&str])] = &[
    ("full_name", &["ho va ten", "ho ten", "ho ten day du", "full name", "name", "ten"]),
    ("other_names", &["ten goi khac", "ten khac", "other names", "alias"]),
    ("birth_date", &["ngay sinh", "ngay thang nam sinh", "nam sinh", "date of birth", "dob", "birth date"]),
    ("sex", &["gioi tinh", "gioi", "sex", "gender"]),
    ("id_number", &["so cccd", "cccd", "cmnd", "so cmnd", "so dinh danh", "so dinh danh ca nhan", "id number", "id"]),
    ("passport", &["ho chieu", "so ho chieu", "passport"]),
    ("phone", &["so dien thoai", "dien thoai", "sdt", "phone"]),
    ("address", &["dia chi", "noi thuong tru", "que quan", "address", "hometown"]),
    ("commune_code", &["xa", "phuong", "xa phuong", "xa, phuong", "commune", "ward"]),
    ("absent_since", &["vang tu", "vang mat tu", "thoi gian di", "di tu", "absent since"]),
    ("destination", &["noi den", "di dau", "destination"]),
    ("contact", &["lien lac", "lien lac cuoi", "contact"]),
    ("reported_by", &["nguoi bao tin", "nguoi cung cap", "reported by"]),
    ("household", &["ho gia dinh", "chu ho", "household"]),
    ("note", &["ghi chu", "note", "notes"]),
];

/// Guess which column holds each field from the header words; `None` where nothing fits.
pub fn guess_mapping(headers: &[String], fields: &[&str]) -> Vec<(String, Option<usize>)> {
    let folded: Vec<String> =
        headers.iter().map(|h| fold(h).trim_matches(|c: char| !c.is_alphanumeric()).to_owned()).collect();
    fields
        .iter()
        .map(|f| {
            let words = HEADER_WORDS.iter().find(|(name, _)| name == f).map(|(_, w)| *w).unwrap_or(&[]);
            let col = folded.iter().position(|h| words.contains(&h.as_str()));
            ((*f).to_owned(), col)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn csv_sheet(text: &[u8]) -> Sheet {
        read(text, None).expect("read")
    }

    #[test]
    fn utf8_and_utf16_with_or_without_marks() {
        let text = "Họ và tên,Ngày sinh\nNguyễn Thị Hoà,05/03/1998\n";
        let s = csv_sheet(text.as_bytes());
        assert_eq!(s.headers, vec!["Họ và tên", "Ngày sinh"]);
        assert_eq!(s.rows, vec![vec!["Nguyễn Thị Hoà".to_owned(), "05/03/1998".to_owned()]]);
        let mut bom = b"\xef\xbb\xbf".to_vec();
        bom.extend(text.as_bytes());
        assert_eq!(csv_sheet(&bom).headers[0], "Họ và tên");
        let mut le = vec![0xff, 0xfe];
        le.extend(utf16le(text));
        let s = csv_sheet(&le);
        assert_eq!((s.rows[0][0].as_str(), s.encoding), ("Nguyễn Thị Hoà", Some(Encoding::Utf16Le)));
        let be: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
        assert_eq!(csv_sheet(&be).encoding, Some(Encoding::Utf16Be));
    }

    #[test]
    fn windows_1258_and_vni_are_told_apart_and_read() {
        let text = "Họ tên;Quê quán\nNguyễn Thị Hoà;Tiếng Việt ở Trà My\nLê Văn Đức;Đà Nẵng\n";
        // Windows-1258 has â ê ô ơ ư ă đ as letters and the five tones as combining marks: decompose, then put
        // the letter-making marks (circumflex, breve, horn) back on their letters.
        let mut cp1258_text = String::new();
        let mut chars = text.nfd().peekable();
        while let Some(c) = chars.next() {
            let mut marks = Vec::new();
            while let Some(m) = chars.next_if(|m| unicode_normalization::char::is_combining_mark(*m)) {
                marks.push(m);
            }
            let letter = marks.iter().position(|m| matches!(m, '\u{302}' | '\u{306}' | '\u{31b}'));
            match letter {
                Some(i) => {
                    let m = marks.remove(i);
                    cp1258_text.extend([c, m].iter().collect::<String>().nfc());
                }
                None => cp1258_text.push(c),
            }
            cp1258_text.extend(marks);
        }
        let (cp, _, bad) = encoding_rs::WINDOWS_1258.encode(&cp1258_text);
        assert!(!bad);
        let s = csv_sheet(&cp);
        assert_eq!(s.encoding, Some(Encoding::Windows1258));
        assert_eq!(s.rows[0][0], "Nguyễn Thị Hoà");
        assert_eq!(s.rows[1][1], "Đà Nẵng");
        let vni = unicode_to_vni(text);
        let (bytes, _, bad) = encoding_rs::WINDOWS_1252.encode(&vni);
        assert!(!bad);
        let s = csv_sheet(&bytes);
        assert_eq!(s.encoding, Some(Encoding::Vni));
        assert_eq!(s.rows[0], vec!["Nguyễn Thị Hoà".to_owned(), "Tiếng Việt ở Trà My".to_owned()]);
        assert_eq!(s.rows[1][0], "Lê Văn Đức");
    }

    #[test]
    fn vni_reads_as_the_old_fonts_showed_it() {
        // How "Tiếng Việt" looks when a VNI file is opened without its font.
        assert_eq!(vni_to_unicode("Tieáng Vieät"), "Tiếng Việt");
        assert_eq!(vni_to_unicode("Nguyeãn Thò Hoaø"), "Nguyễn Thị Hoà");
        assert_eq!(vni_to_unicode("Tröông Vaên Ñöùc"), "Trương Văn Đức");
        assert_eq!(vni_to_unicode("ÑAØ NAÜNG"), "ĐÀ NẴNG");
    }

    #[test]
    fn every_vietnamese_letter_survives_vni_both_ways() {
        let letters = "aáàảãạăắằẳẵặâấầẩẫậeéèẻẽẹêếềểễệiíìỉĩịoóòỏõọôốồổỗộơớờởỡợuúùủũụưứừửữựyýỳỷỹỵđ";
        let all: String = letters.chars().chain(letters.to_uppercase().chars()).collect();
        assert_eq!(vni_to_unicode(&unicode_to_vni(&all)), all);
    }

    #[test]
    fn bad_files_are_refused_with_a_reason() {
        assert_eq!(read(b"%PDF-1.7 ...", None), Err(SheetError::WrongType));
        assert_eq!(read(b"\x89PNG\r\n\x1a\n", None), Err(SheetError::WrongType));
        let mut ole = vec![0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1];
        ole.extend(utf16le("EncryptedPackage"));
        assert_eq!(read(&ole, None), Err(SheetError::Encrypted));
        assert_eq!(read(&[0xd0, 0xcf, 0x11, 0xe0, 0, 0], None), Err(SheetError::WrongType));
        assert_eq!(read(b"", None), Err(SheetError::Empty));
        assert_eq!(read(b"Ho ten\n", None), Err(SheetError::Empty));
        assert_eq!(read(b"Ho ten,Tuoi\nA,=1+2\n", None), Err(SheetError::Formula("B2".into())));
        assert_eq!(read(b"PK\x03\x04broken", None), Err(SheetError::Unreadable));
        assert_eq!(read(b"\xff\xfe\x00\xd8", Some(Encoding::Utf16Le)), Err(SheetError::Unreadable));
        let many = format!("Ho ten\n{}", "A\n".repeat(MAX_ROWS + 1));
        assert_eq!(read(many.as_bytes(), None), Err(SheetError::TooManyRows));
        // A phone number's "+" is not a formula.
        assert_eq!(csv_sheet(b"Ho ten,SDT\nA,+84912345678\n").rows[0][1], "+84912345678");
    }

    fn workbook(build: impl FnOnce(&mut rust_xlsxwriter::Worksheet)) -> Vec<u8> {
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        build(sheet);
        book.save_to_buffer().expect("xlsx")
    }

    #[test]
    fn xlsx_reads_text_numbers_and_dates() {
        let bytes = workbook(|s| {
            s.write_string(0, 0, "Họ và tên").expect("cell");
            s.write_string(0, 1, "Ngày sinh").expect("cell");
            s.write_string(0, 2, "Số CCCD").expect("cell");
            s.write_string(1, 0, "Nguyễn Thị Hoà").expect("cell");
            let date = rust_xlsxwriter::ExcelDateTime::from_ymd(1998, 3, 5).expect("date");
            let format = rust_xlsxwriter::Format::new().set_num_format("dd/mm/yyyy");
            s.write_datetime_with_format(1, 1, &date, &format).expect("cell");
            s.write_number(1, 2, 48_198_000_123.0).expect("cell");
        });
        let s = read(&bytes, None).expect("read");
        assert_eq!(s.headers, vec!["Họ và tên", "Ngày sinh", "Số CCCD"]);
        assert_eq!(s.rows, vec![vec!["Nguyễn Thị Hoà".to_owned(), "05/03/1998".to_owned(), "48198000123".to_owned()]]);
        assert_eq!(s.encoding, None);
    }

    #[test]
    fn xlsx_with_formulas_or_merged_cells_is_refused_where_it_is() {
        let formula = workbook(|s| {
            s.write_string(0, 0, "Ho ten").expect("cell");
            s.write_string(1, 0, "A").expect("cell");
            s.write_formula(2, 1, "=1+2").expect("cell");
        });
        assert_eq!(read(&formula, None), Err(SheetError::Formula("B3".into())));
        let merged = workbook(|s| {
            s.write_string(0, 0, "Ho ten").expect("cell");
            s.merge_range(1, 0, 2, 1, "Hộ gia đình", &rust_xlsxwriter::Format::new()).expect("merge");
        });
        assert_eq!(read(&merged, None), Err(SheetError::MergedCells("A2:B3".into())));
    }

    #[test]
    fn a_zip_bomb_is_refused_before_it_is_unpacked() {
        let bytes = workbook(|s| {
            s.write_string(0, 0, "Ho ten").expect("cell");
            for r in 1..2_000 {
                s.write_string(r, 0, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa").expect("cell");
            }
        });
        assert!(read_xlsx_within(&bytes, 1_000_000).is_ok());
        assert_eq!(read_xlsx_within(&bytes, 20_000), Err(SheetError::TooLarge));
    }

    #[test]
    fn a_far_cell_is_refused_without_laying_out_the_grid() {
        // Three cells, the last at the sheet's far corner: read as a grid, this is 17 billion cells.
        let far = workbook(|s| {
            s.write_string(0, 0, "Ho ten").expect("cell");
            s.write_string(1, 0, "A").expect("cell");
            s.write_string(1_048_575, 16_383, "x").expect("cell");
        });
        assert_eq!(read(&far, None), Err(SheetError::TooManyColumns));
        // Far down the same column, the row is read and keeps the number the spreadsheet shows.
        let low = workbook(|s| {
            s.write_string(0, 0, "Ho ten").expect("cell");
            s.write_string(1, 0, "A").expect("cell");
            s.write_string(1_048_575, 0, "B").expect("cell");
        });
        let sheet = read(&low, None).expect("read");
        assert_eq!(sheet.rows, vec![vec!["A".to_owned()], vec!["B".to_owned()]]);
        assert_eq!(sheet.lines, vec![2, 1_048_576]);
    }

    /// A workbook written part by part, to say what no spreadsheet program would write.
    fn raw_workbook(cells: &str) -> Vec<u8> {
        use std::io::Write;
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let stored = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
        let parts = [
            (
                "[Content_Types].xml",
                r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/data.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#.to_owned(),
            ),
            (
                "_rels/.rels",
                r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#.to_owned(),
            ),
            (
                "xl/workbook.xml",
                r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="DS" sheetId="1" r:id="rId7"/></sheets></workbook>"#.to_owned(),
            ),
            (
                "xl/_rels/workbook.xml.rels",
                r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId7" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/data.xml"/></Relationships>"#.to_owned(),
            ),
            (
                "xl/worksheets/data.xml",
                format!(
                    r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>Ho ten</t></is></c></row>{cells}</sheetData></worksheet>"#
                ),
            ),
        ];
        for (name, text) in parts {
            zip.start_file(name, stored).expect("part");
            zip.write_all(text.as_bytes()).expect("write");
        }
        zip.finish().expect("zip").into_inner()
    }

    #[test]
    fn hostile_workbooks_are_refused_not_obeyed() {
        let plain = raw_workbook(r#"<row r="2"><c r="A2" t="inlineStr"><is><t>Lò Thị Mai</t></is></c></row>"#);
        assert_eq!(read(&plain, None).expect("read").rows, vec![vec!["Lò Thị Mai".to_owned()]]);
        // A shared formula whose index asks for four billion slots, and whose range spans a whole column.
        let shared =
            raw_workbook(r#"<row r="2"><c r="B2"><f t="shared" si="4000000000" ref="B2:B1048576"/><v>1</v></c></row>"#);
        assert_eq!(read(&shared, None), Err(SheetError::Formula("B2".into())));
        // A shared-string number past the end of a table that is not there.
        let dangling = raw_workbook(r#"<row r="2"><c r="A2" t="s"><v>99</v></c></row>"#);
        assert_eq!(read(&dangling, None), Err(SheetError::Unreadable));
        // A cell address whose row number overflows.
        let overflow = raw_workbook(r#"<row r="2"><c r="A99999999999" t="inlineStr"><is><t>x</t></is></c></row>"#);
        assert!(read(&overflow, None).is_err());
    }

    #[test]
    fn numbers_typed_as_numbers_get_their_leading_zero_back() {
        assert_eq!(id_number_cell("48195012345"), "048195012345");
        assert_eq!(id_number_cell("12345678"), "012345678");
        assert_eq!(id_number_cell("048195012345"), "048195012345");
        assert_eq!(id_number_cell("201234567"), "201234567");
        assert_eq!(id_number_cell("B1234567"), "B1234567", "a passport stays as written");
        assert_eq!(phone_cell("905123456"), "0905123456");
        assert_eq!(phone_cell("0905123456"), "0905123456");
        assert_eq!(phone_cell("2363822123"), "02363822123");
        assert_eq!(phone_cell("+84905123456"), "+84905123456");
        // As calamine reads a number cell: the whole number without ".0".
        let bytes = workbook(|s| {
            s.write_string(0, 0, "CCCD").expect("cell");
            s.write_number(1, 0, 48_195_012_345.0).expect("cell");
        });
        assert_eq!(id_number_cell(&read(&bytes, None).expect("read").rows[0][0]), "048195012345");
    }

    #[test]
    fn cells_are_named_as_spreadsheets_name_them() {
        assert_eq!(cell_name(0, 0), "A1");
        assert_eq!(cell_name(9, 25), "Z10");
        assert_eq!(cell_name(0, 26), "AA1");
        assert_eq!(cell_name(1, 702), "AAA2");
    }

    #[test]
    fn headers_find_their_fields_in_either_language() {
        let headers: Vec<String> =
            ["STT", "Họ và tên", "Ngày sinh", "Giới tính", "Số CCCD", "Xã, phường", "Vắng từ", "Ghi chú"]
                .iter()
                .map(|s| (*s).to_owned())
                .collect();
        let m = guess_mapping(
            &headers,
            &["full_name", "birth_date", "sex", "id_number", "commune_code", "absent_since", "note", "passport"],
        );
        let cols: Vec<Option<usize>> = m.iter().map(|(_, c)| *c).collect();
        assert_eq!(cols, vec![Some(1), Some(2), Some(3), Some(4), Some(5), Some(6), Some(7), None]);
        assert_eq!(signature(&headers), signature(&headers.iter().map(|h| h.to_uppercase()).collect::<Vec<_>>()));
    }
}

/// Properties of the readers over any input.
#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn vni_round_trips_any_vietnamese_text(s in "[a-zA-Z0-9 ,.àáảãạăắằẳẵặâấầẩẫậèéẻẽẹêếềểễệìíỉĩịòóỏõọôốồổỗộơớờởỡợùúủũụưứừửữựỳýỷỹỵđĐÀÁẢÃẠĂẮẰẲẴẶÂẤẦẨẪẬÈÉẺẼẸÊẾỀỂỄỆÌÍỈĨỊÒÓỎÕỌÔỐỒỔỖỘƠỚỜỞỠỢÙÚỦŨỤƯỨỪỬỮỰỲÝỶỸỴ]{0,40}") {
            prop_assert_eq!(vni_to_unicode(&unicode_to_vni(&s)), s);
        }

        #[test]
        fn any_bytes_are_read_or_refused_never_a_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
            if let Ok(sheet) = read(&bytes, None) {
                prop_assert!(sheet.rows.iter().all(|r| r.len() == sheet.headers.len()));
            }
        }
    }
}
