use std::io::Cursor;

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

#[test]
fn rows_are_numbered_as_the_file_shows_them_whatever_its_line_endings() {
    for text in [
        "Họ và tên,Xã\nA,Trà My\n\nB,Trà My\n",
        "Họ và tên,Xã\r\nA,Trà My\r\n\r\nB,Trà My\r\n",
        "Họ và tên,Xã\rA,Trà My\r\rB,Trà My\r",
    ] {
        let s = csv_sheet(text.as_bytes());
        assert_eq!(s.lines, vec![2, 4], "{text:?}");
    }
    // A quoted cell over two lines: the next row is numbered after it.
    let s = csv_sheet("Họ và tên,Ghi chú\r\nA,\"dòng 1\r\ndòng 2\"\r\nB,x\r\n".as_bytes());
    assert_eq!(s.lines, vec![2, 4]);
}

#[test]
fn a_title_above_the_headers_is_skipped() {
    let text = "DANH SÁCH NGƯỜI VẮNG MẶT DÀI NGÀY,,,\n,,,\nSTT,Họ và tên,Ngày sinh,Xã\n1,Nguyễn Văn A,1990,Trà My\n";
    let s = csv_sheet(text.as_bytes());
    assert_eq!(s.headers, vec!["STT", "Họ và tên", "Ngày sinh", "Xã"]);
    assert_eq!(s.lines, vec![4]);
    assert_eq!(s.rows[0][1], "Nguyễn Văn A");
    // A sheet whose first row is its header is read as before, even with one filled cell in a data row.
    let s = csv_sheet("Họ và tên\nA\nB\n".as_bytes());
    assert_eq!((s.headers.len(), s.rows.len()), (1, 2));
}

#[test]
fn utf8_with_a_stray_byte_is_refused_with_its_line_not_read_as_a_legacy_encoding() {
    let mut bytes = "Họ và tên,Ngày sinh\nNguyễn Thị Hoà,05/03/1998\nLê Văn Đức,1990\n".as_bytes().to_vec();
    // One byte lost from "Đ" on the third line (a file cut and pasted between programs).
    let d = bytes.windows(2).position(|w| w == "Đ".as_bytes()).expect("Đ");
    bytes.remove(d);
    assert_eq!(read(&bytes, None), Err(SheetError::BrokenUtf8(3)));
    // The same when the user says UTF-8, and when the file starts with the UTF-8 mark.
    assert_eq!(read(&bytes, Some(Encoding::Utf8)), Err(SheetError::BrokenUtf8(3)));
    let mut marked = b"\xef\xbb\xbf".to_vec();
    marked.extend(&bytes);
    assert_eq!(read(&marked, None), Err(SheetError::BrokenUtf8(3)));
    assert_eq!(SheetError::BrokenUtf8(3).place().as_deref(), Some("3"));
    // A legacy file is still read as one: its bytes do not form UTF-8 letters.
    let vni = encoding_rs::WINDOWS_1252.encode(&unicode_to_vni("Họ tên\nNguyễn Thị Hoà\n")).0.into_owned();
    assert_eq!(read(&vni, None).expect("vni").rows[0][0], "Nguyễn Thị Hoà");
}

#[test]
fn bytes_that_look_like_no_vietnamese_encoding_ask_the_user_to_choose() {
    // High bytes after nothing a Vietnamese word would put them after: neither VNI nor Windows-1258 fits.
    let bytes = b"Ho ten,Ghi chu\nMai,\xa7\xb6 \xa9\n".to_vec();
    assert_eq!(read(&bytes, None), Err(SheetError::EncodingUnsure));
    // Chosen by the user, the same bytes are read in that encoding.
    assert!(read(&bytes, Some(Encoding::Windows1258)).is_ok());
}

#[test]
fn endless_lines_wide_rows_and_long_cells_are_refused_by_name_before_they_cost_memory() {
    // 20 MB of commas: one line, refused before it is split into twenty million cells.
    let mut commas = b"Ho ten,Ngay sinh\n".to_vec();
    commas.extend(std::iter::repeat_n(b',', 20 * 1024 * 1024));
    assert_eq!(read(&commas, None), Err(SheetError::LineTooLong(2)));
    // A row of a thousand cells (within the line length) is not a list's row.
    let wide = format!("Ho ten,Ngay sinh\nMai{}\n", ",x".repeat(1_000));
    assert_eq!(read(wide.as_bytes(), None), Err(SheetError::TooManyColumns));
    // A cell over the limit is named, not cut short silently.
    let long = format!("Ho ten,Ghi chu\nMai,ok\nLan,{}\n", "a".repeat(MAX_CELL + 1));
    assert_eq!(read(long.as_bytes(), None), Err(SheetError::CellTooLong("B3".into())));
    assert_eq!(SheetError::CellTooLong("B3".into()).place().as_deref(), Some("B3"));
    // Trailing empty cells a spreadsheet leaves are fine.
    let trailing = "Ho ten,Ngay sinh,,,,\nMai,1990,,,,,,,,,\n";
    assert_eq!(read(trailing.as_bytes(), None).expect("read").rows, vec![vec!["Mai".to_owned(), "1990".to_owned()]]);
}

#[test]
fn a_lost_value_is_refused_by_its_cell_not_read_as_empty() {
    let csv = "Ho ten,Ngay sinh\nMai,1990\nLan,#REF!\n";
    assert_eq!(read(csv.as_bytes(), None), Err(SheetError::ErrorCell("B3".into())));
    let error_cell = raw_workbook(r#"<row r="2"><c r="A2" t="e"><v>#N/A</v></c></row>"#);
    assert_eq!(read(&error_cell, None), Err(SheetError::ErrorCell("A2".into())));
    assert!(!is_error_literal("#1 Nguyễn Huệ") && is_error_literal(" #DIV/0! "));
}
