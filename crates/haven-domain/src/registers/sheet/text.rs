//! CSV files and the encodings Vietnamese offices save them in: UTF-8, UTF-16, Windows-1258 and the legacy
//! VNI, detected from the bytes or chosen by the user.

use unicode_normalization::UnicodeNormalization;

use super::*;

/// Decode a CSV file's bytes to text.
pub fn decode(bytes: &[u8], encoding: Option<Encoding>) -> Result<(String, Encoding), SheetError> {
    let enc = match encoding {
        Some(e) => e,
        None => detect(bytes)?,
    };
    let text = match enc {
        Encoding::Utf8 => {
            let b = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
            match std::str::from_utf8(b) {
                Ok(t) => t.to_owned(),
                Err(e) => return Err(SheetError::BrokenUtf8(line_of_byte(b, e.valid_up_to()))),
            }
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

/// The 1-based line holding byte `offset`.
fn line_of_byte(bytes: &[u8], offset: usize) -> usize {
    bytes[..offset.min(bytes.len())].iter().filter(|b| **b == b'\n').count() + 1
}

/// Where text saved as UTF-8 was damaged: the line of the first invalid byte, when the rest reads as UTF-8
/// (its Vietnamese letters decode as UTF-8 at least twice as often as a byte fails). A legacy file's bytes
/// almost never form a valid UTF-8 letter, so a file that does is UTF-8 with stray bytes, and reading it
/// as VNI or Windows-1258 would garble every name ("Nguyá»…n").
fn damaged_utf8(bytes: &[u8]) -> Option<usize> {
    let (mut letters, mut broken, mut first) = (0usize, 0usize, None);
    let mut at = 0;
    while at < bytes.len() {
        match std::str::from_utf8(&bytes[at..]) {
            Ok(rest) => {
                letters += rest.chars().filter(|c| !c.is_ascii()).count();
                break;
            }
            Err(e) => {
                let valid = std::str::from_utf8(&bytes[at..at + e.valid_up_to()]).unwrap_or_default();
                letters += valid.chars().filter(|c| !c.is_ascii()).count();
                first.get_or_insert(at + e.valid_up_to());
                broken += 1;
                at += e.valid_up_to() + e.error_len().unwrap_or(bytes.len() - at - e.valid_up_to());
            }
        }
    }
    let first = first?;
    (letters > 0 && letters >= broken * 2).then(|| line_of_byte(bytes, first))
}

/// Guess a CSV file's encoding: a byte-order mark, valid UTF-8, UTF-16 without a mark (every other byte
/// zero), or between the two legacy Vietnamese encodings by what follows the vowels. Refuses to guess
/// rather than garble: UTF-8 with stray bytes is an error naming the line, and bytes that match neither
/// legacy encoding's way of writing Vietnamese ask the user to choose.
pub fn detect(bytes: &[u8]) -> Result<Encoding, SheetError> {
    if bytes.starts_with(b"\xef\xbb\xbf") {
        // The mark says UTF-8: any invalid byte is damage.
        return match std::str::from_utf8(&bytes[3..]) {
            Ok(_) => Ok(Encoding::Utf8),
            Err(e) => Err(SheetError::BrokenUtf8(line_of_byte(&bytes[3..], e.valid_up_to()))),
        };
    }
    if bytes.starts_with(b"\xff\xfe") {
        return Ok(Encoding::Utf16Le);
    }
    if bytes.starts_with(b"\xfe\xff") {
        return Ok(Encoding::Utf16Be);
    }
    let sample = &bytes[..bytes.len().min(64 * 1024)];
    if sample.len() >= 4 {
        let odd_zero = sample.iter().skip(1).step_by(2).filter(|b| **b == 0).count();
        let even_zero = sample.iter().step_by(2).filter(|b| **b == 0).count();
        let half = sample.len() / 2;
        if odd_zero * 10 > half * 4 && even_zero * 10 < half {
            return Ok(Encoding::Utf16Le);
        }
        if even_zero * 10 > half * 4 && odd_zero * 10 < half {
            return Ok(Encoding::Utf16Be);
        }
    }
    if std::str::from_utf8(bytes).is_ok() {
        return Ok(Encoding::Utf8);
    }
    if let Some(line) = damaged_utf8(bytes) {
        return Err(SheetError::BrokenUtf8(line));
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
        Ok(Encoding::Vni)
    } else if cp1258 > vni {
        Ok(Encoding::Windows1258)
    } else {
        // No sign of either (or as many of both): a guess would garble the names.
        Err(SheetError::EncodingUnsure)
    }
}

/// Bytes VNI uses as marks after a vowel (as Windows-1252 reads them).
pub(super) const VNI_MARKS: &[u8] = &[
    0xf9, 0xf8, 0xfb, 0xf5, 0xef, 0xe2, 0xe1, 0xe0, 0xe5, 0xe3, 0xe4, 0xea, 0xe9, 0xe8, 0xfa, 0xfc, 0xeb, 0xd9, 0xd8,
    0xdb, 0xd5, 0xcf, 0xc2, 0xc1, 0xc0, 0xc5, 0xc3, 0xc4, 0xca, 0xc9, 0xc8, 0xda, 0xdc, 0xcb,
];
/// Windows-1258's one-byte letters â ê ô ơ ư ă đ and their capitals.
pub(super) const CP1258_LETTERS: &[u8] =
    &[0xe2, 0xea, 0xf4, 0xf5, 0xfd, 0xe3, 0xf0, 0xc2, 0xca, 0xd4, 0xd5, 0xdd, 0xc3, 0xd0];
/// Windows-1258's combining tone marks (grave, hook, tilde, acute, dot below).
pub(super) const CP1258_TONES: &[u8] = &[0xcc, 0xd2, 0xde, 0xec, 0xf2];

/// VNI sequences (as Windows-1252 reads the bytes) and the letters they write, longest first where one
/// starts another. The table is written out because no maintained crate decodes VNI; it covers every
/// Vietnamese letter in both cases.
pub(super) const VNI: &[(&str, &str)] = &[
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

/// The 1-based line of the record the csv reader places at `offset`, counting "\r\n", "\n" and a lone
/// "\r" as one line break each. The reader's offset is where the previous record ended: the rest of its line
/// break and any blank lines come before the record itself.
fn line_at(text: &str, offset: usize) -> usize {
    let bytes = text.as_bytes();
    let mut start = offset.min(bytes.len());
    while matches!(bytes.get(start), Some(b'\r' | b'\n')) {
        start += 1;
    }
    let before = &bytes[..start];
    let breaks = before
        .iter()
        .enumerate()
        .filter(|&(i, &b)| b == b'\n' || (b == b'\r' && before.get(i + 1) != Some(&b'\n')))
        .count();
    breaks + 1
}

pub(super) fn read_csv(bytes: &[u8], encoding: Option<Encoding>) -> Result<Sheet, SheetError> {
    // A binary file (a picture, a PDF) is not a list, whatever it is called.
    let sniff = &bytes[..bytes.len().min(8)];
    if sniff.starts_with(b"%PDF") || sniff.starts_with(b"\x89PNG") || sniff.starts_with(b"\xff\xd8\xff") {
        return Err(SheetError::WrongType);
    }
    let (text, enc) = decode(bytes, encoding)?;
    if let Some(n) = text.split('\n').position(|line| line.len() > MAX_LINE_BYTES) {
        return Err(SheetError::LineTooLong(n + 1));
    }
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
        if record.len() > MAX_ROW_CELLS {
            return Err(SheetError::TooManyColumns);
        }
        // The csv reader's own line count skips blank lines; the number a person sees in an editor is
        // counted from the record's byte offset instead.
        let line = record.position().map_or(rows.len() + 1, |p| line_at(&text, p.byte() as usize));
        let row: Vec<String> = record.iter().map(|c| c.trim().to_owned()).collect();
        if let Some(c) = row.iter().position(|c| c.starts_with('=')) {
            return Err(SheetError::Formula(cell_name(line as u32 - 1, c as u32)));
        }
        if let Some(c) = row.iter().position(|c| is_error_literal(c)) {
            return Err(SheetError::ErrorCell(cell_name(line as u32 - 1, c as u32)));
        }
        if row.iter().any(|c| !c.is_empty()) {
            rows.push((line, row));
        }
    }
    finish(rows, Some(enc))
}
