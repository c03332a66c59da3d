//! Reading the spreadsheets offices keep their lists in: XLSX, and CSV in UTF-8, UTF-16, Windows-1258 or the
//! legacy VNI encoding (detected, or chosen by the user), into a header row and rows of text. Bad files are
//! refused with a reason a person can act on: not a spreadsheet, password-protected, too large once unpacked
//! (a zip bomb), formulas, merged cells, too many rows. Bytes in, rows out: no I/O here.

mod text;
mod xlsx;

pub use text::*;
use xlsx::*;

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
/// Longest line of a CSV file, in bytes: a row of the widest sheet of long cells fits; a file of one endless
/// line (20 MB of commas) is refused before it is split into millions of cells.
pub const MAX_LINE_BYTES: usize = 256 * 1024;
/// Most cells a CSV row may have, counting empty ones a spreadsheet leaves after the data; the header's width
/// is checked against [`MAX_COLUMNS`] after.
const MAX_ROW_CELLS: usize = 4 * MAX_COLUMNS;

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
    /// Text saved as UTF-8 with invalid bytes (the line of the first).
    BrokenUtf8(usize),
    /// A CSV line longer than [`MAX_LINE_BYTES`] (its number): refused before it is split into cells.
    LineTooLong(usize),
    /// A cell longer than [`MAX_CELL`] characters (its address, as A1).
    CellTooLong(String),
    /// A cell holding a spreadsheet's error value (`#REF!`, `#N/A`, ...), its address: the value was lost
    /// when the sheet was made, and reading it as empty would drop it silently.
    ErrorCell(String),
    /// Neither UTF-8 nor recognisably one of the legacy Vietnamese encodings: the user must choose.
    EncodingUnsure,
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
            SheetError::BrokenUtf8(_) => "error.import_broken_utf8",
            SheetError::LineTooLong(_) => "error.import_line_long",
            SheetError::CellTooLong(_) => "error.import_cell_long",
            SheetError::ErrorCell(_) => "error.import_error_cell",
            SheetError::EncodingUnsure => "error.import_encoding_unsure",
        }
    }

    /// The cell, range or line the message names, if any.
    pub fn place(&self) -> Option<String> {
        match self {
            SheetError::Formula(p)
            | SheetError::MergedCells(p)
            | SheetError::CellTooLong(p)
            | SheetError::ErrorCell(p) => Some(p.clone()),
            SheetError::BrokenUtf8(line) | SheetError::LineTooLong(line) => Some(line.to_string()),
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

/// Whether a cell holds one of the error values spreadsheets write in place of a value they lost.
pub fn is_error_literal(cell: &str) -> bool {
    matches!(
        cell.trim(),
        "#REF!"
            | "#N/A"
            | "#VALUE!"
            | "#DIV/0!"
            | "#NAME?"
            | "#NUM!"
            | "#NULL!"
            | "#SPILL!"
            | "#CALC!"
            | "#GETTING_DATA"
    )
}

/// How many of the first rows are searched for the header row.
const TITLE_ROWS: usize = 10;

/// The header is the first row with two filled cells or more (lists often carry a title, a date or the
/// commune's name above it, each in one cell), or the first row when none has; every row is cut or padded
/// to the header's width.
fn finish(mut numbered: Vec<(usize, Vec<String>)>, encoding: Option<Encoding>) -> Result<Sheet, SheetError> {
    let filled = |row: &[String]| row.iter().filter(|c| !c.is_empty()).count();
    let header = numbered.iter().take(TITLE_ROWS).position(|(_, row)| filled(row) >= 2).unwrap_or(0);
    numbered.drain(..header);
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
    for (row, line) in rows.iter_mut().zip(&lines) {
        row.resize(headers.len(), String::new());
        if let Some(c) = row.iter().position(|cell| cell.chars().count() > MAX_CELL) {
            return Err(SheetError::CellTooLong(cell_name(*line as u32 - 1, c as u32)));
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
mod tests;

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
