//! Lists as `haven match` reads them: a CSV file's id column and the columns each compared field needs. What
//! would link the wrong records, or cost memory out of proportion to the list, is refused with the list's
//! name and the line, never a value: ragged rows, quotes left open, empty or repeated ids, text that is not
//! UTF-8, lines over [`MAX_LINE`] bytes (refused before the CSV reader holds them) and values over
//! [`MAX_VALUE`] characters.

use std::collections::HashMap;
use std::io::Read;

/// Longest line read, in bytes: a list's line is a few hundred; a longer one is refused before it is held in
/// memory (a file of one endless line would otherwise be read whole).
pub const MAX_LINE: usize = 64 * 1024;
/// Longest value compared, in characters: names, dates and places are short, and comparing a value costs in
/// proportion to its length squared (one name of 1.4 million characters once took 6 GB).
pub const MAX_VALUE: usize = 1_000;

/// A list read: its ids, and `columns[field][row]` (a field's columns joined with a space).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct List {
    pub ids: Vec<String>,
    pub columns: Vec<Vec<String>>,
}

/// Why a list was refused, naming the list and the line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refused(pub String);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Refused {}

/// A reader that fails on a line longer than [`MAX_LINE`], before the CSV reader buffers it.
struct LineCap<R> {
    inner: R,
    /// Bytes since the last line break.
    run: usize,
    /// The 1-based line being read.
    line: usize,
}

impl<R: Read> Read for LineCap<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        for b in &buf[..n] {
            if *b == b'\n' {
                self.run = 0;
                self.line += 1;
            } else {
                self.run += 1;
                if self.run > MAX_LINE {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        format!("line {} is longer than {MAX_LINE} bytes", self.line),
                    ));
                }
            }
        }
        Ok(n)
    }
}

/// Read the list `name` (a file's path, for messages) from `source`: the column headed `id` and, per field,
/// the columns headed by its names.
pub fn read(source: impl Read, name: &str, id: &str, fields: &[Vec<String>]) -> Result<List, Refused> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(LineCap { inner: source, run: 0, line: 1 });
    let at = |line: u64| format!("{name} line {line}");
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| refusal(&e, name))?
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').trim().to_owned())
        .collect();
    let col = |wanted: &str| {
        headers
            .iter()
            .position(|h| h == wanted)
            .ok_or_else(|| Refused(format!("{name} has no column {wanted:?} (it has: {})", headers.join(", "))))
    };
    let id_col = col(id)?;
    let field_cols: Vec<Vec<usize>> =
        fields.iter().map(|cols| cols.iter().map(|c| col(c)).collect()).collect::<Result<_, _>>()?;
    let mut list = List { ids: Vec::new(), columns: vec![Vec::new(); fields.len()] };
    let mut seen: HashMap<String, u64> = HashMap::new();
    let mut record = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => return Err(refusal(&e, name)),
        }
        let line = record.position().map_or(0, |p| p.line());
        // A quote left open swallows the lines after it into one value; no value of a list spans lines.
        if let Some(c) = record.iter().position(|v| v.contains(['\n', '\r'])) {
            let column = headers.get(c).map_or_else(|| format!("{}", c + 1), |h| format!("{h:?}"));
            return Err(Refused(format!(
                "{}: the value in column {column} runs over several lines (a quote not closed?)",
                at(line)
            )));
        }
        if record.len() != headers.len() {
            return Err(Refused(format!(
                "{}: {} columns where the header has {}",
                at(line),
                record.len(),
                headers.len()
            )));
        }
        if let Some(c) = record.iter().position(|v| v.chars().count() > MAX_VALUE) {
            return Err(Refused(format!(
                "{}: the value in column {:?} is longer than {MAX_VALUE} characters",
                at(line),
                headers[c]
            )));
        }
        let id = record.get(id_col).unwrap_or("").trim().to_owned();
        if id.is_empty() {
            return Err(Refused(format!("{}: the id (column {:?}) is empty", at(line), headers[id_col])));
        }
        if let Some(first) = seen.insert(id.clone(), line) {
            return Err(Refused(format!("{}: the same id as line {first}; each record needs its own", at(line))));
        }
        list.ids.push(id);
        for (f, cols) in field_cols.iter().enumerate() {
            let value = cols.iter().filter_map(|c| record.get(*c)).map(str::trim).filter(|v| !v.is_empty());
            list.columns[f].push(value.collect::<Vec<_>>().join(" "));
        }
    }
    Ok(list)
}

/// A CSV reader's error as a refusal naming the list and the line.
fn refusal(e: &csv::Error, name: &str) -> Refused {
    Refused(match e.kind() {
        csv::ErrorKind::Utf8 { pos, .. } => {
            format!("{name} line {}: not UTF-8 text (save the file as CSV UTF-8)", pos.as_ref().map_or(0, |p| p.line()))
        }
        csv::ErrorKind::Io(io) => format!("{name}: {io}"),
        _ => format!("{name}: not a readable CSV file"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields() -> Vec<Vec<String>> {
        vec![vec!["name".into()], vec!["dob".into()]]
    }

    #[test]
    fn a_list_reads_its_ids_and_fields() {
        let text = "\u{feff}id,name,dob\nl1, Nguyễn Thị Hoa ,12/03/1995\nl2,Lê Văn Đức,\n";
        let list = read(text.as_bytes(), "left.csv", "id", &fields()).expect("read");
        assert_eq!(list.ids, ["l1", "l2"]);
        assert_eq!(list.columns, [vec!["Nguyễn Thị Hoa", "Lê Văn Đức"], vec!["12/03/1995", ""]]);
        let e = read(text.as_bytes(), "left.csv", "code", &fields()).expect_err("no such column");
        assert_eq!(e.0, "left.csv has no column \"code\" (it has: id, name, dob)");
    }

    #[test]
    fn an_endless_line_is_refused_before_it_is_read_whole() {
        let mut text = b"id,name,dob\nl1,".to_vec();
        text.extend(std::iter::repeat_n(b'a', 10 * MAX_LINE));
        let e = read(text.as_slice(), "left.csv", "id", &fields()).expect_err("refused");
        assert_eq!(e.0, "left.csv: line 2 is longer than 65536 bytes");
    }
}
