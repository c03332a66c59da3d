//! `haven match`: link two CSV files one-to-one with the linkage engine, without a database. For benchmarks
//! and for offices that receive lists (a foreign authority's list of returnees against a commune's absentees).
//! Nothing is written but the output file; values are never printed.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use haven_linkage::compare::Kind;
use haven_linkage::link::{explain, explain_line, link, Field, Options, Table};

/// One `--field` argument: `KIND[/LABEL]=LEFTCOL[+COL...]:RIGHTCOL[+COL...]`. Columns joined with `+` are
/// read as one value (given name + surname). A side may be left empty when its file lacks the field
/// (`dob=birth_date:`), and the field is then not compared.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldArg {
    pub label: String,
    pub kind: Kind,
    pub left: Vec<String>,
    pub right: Vec<String>,
}

impl FieldArg {
    pub fn parse(s: &str) -> anyhow::Result<FieldArg> {
        let (head, cols) = s.split_once('=').context("a field is KIND=LEFTCOL:RIGHTCOL")?;
        let (kind, label) = match head.split_once('/') {
            Some((k, l)) => (k, l),
            None => (head, head),
        };
        let kind = Kind::parse(kind.trim())
            .with_context(|| format!("unknown field kind {kind:?}: name, dob, sex, place, idnum, text or exact"))?;
        let (left, right) = cols.split_once(':').context("a field is KIND=LEFTCOL:RIGHTCOL")?;
        let split = |c: &str| c.split('+').map(str::trim).filter(|c| !c.is_empty()).map(str::to_owned).collect();
        Ok(FieldArg { label: label.trim().to_owned(), kind, left: split(left), right: split(right) })
    }
}

/// A CSV file read into the columns the fields need.
struct Csv {
    ids: Vec<String>,
    /// columns[field][row]
    columns: Vec<Vec<String>>,
}

fn read_csv(path: &Path, id: &str, fields: &[Vec<String>]) -> anyhow::Result<Csv> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(path)
        .with_context(|| format!("opening {}", path.display()))?;
    let headers: Vec<String> = reader
        .headers()
        .with_context(|| format!("reading the header of {}", path.display()))?
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').trim().to_owned())
        .collect();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .with_context(|| format!("{} has no column {name:?} (it has: {})", path.display(), headers.join(", ")))
    };
    let id_col = col(id)?;
    let field_cols: Vec<Vec<usize>> =
        fields.iter().map(|cols| cols.iter().map(|c| col(c)).collect()).collect::<anyhow::Result<_>>()?;
    let mut ids = Vec::new();
    let mut columns: Vec<Vec<String>> = vec![Vec::new(); fields.len()];
    for (n, record) in reader.records().enumerate() {
        let record = record.with_context(|| format!("{} line {}", path.display(), n + 2))?;
        ids.push(record.get(id_col).unwrap_or("").trim().to_owned());
        for (f, cols) in field_cols.iter().enumerate() {
            let value = cols.iter().filter_map(|c| record.get(*c)).map(str::trim).filter(|v| !v.is_empty());
            columns[f].push(value.collect::<Vec<_>>().join(" "));
        }
    }
    Ok(Csv { ids, columns })
}

/// What a run did, for the summary line.
pub struct Summary {
    pub left: usize,
    pub right: usize,
    pub candidates: usize,
    pub links: usize,
}

/// Link `left` and `right` and write `left_id,right_id,probability,explanation` per linked pair to `out`.
pub fn run(
    left: &Path,
    right: &Path,
    left_id: &str,
    right_id: &str,
    field_args: &[FieldArg],
    out: &PathBuf,
    threshold: f64,
) -> anyhow::Result<Summary> {
    if field_args.is_empty() {
        bail!("give at least one --field");
    }
    if !(0.0..=1.0).contains(&threshold) {
        bail!("the threshold is a probability between 0 and 1");
    }
    // A field one file lacks is not compared.
    let used: Vec<&FieldArg> = field_args.iter().filter(|f| !f.left.is_empty() && !f.right.is_empty()).collect();
    if used.is_empty() {
        bail!("no field is present in both files");
    }
    let fields: Vec<Field> = used.iter().map(|f| Field { label: f.label.clone(), kind: f.kind }).collect();
    let l = read_csv(left, left_id, &used.iter().map(|f| f.left.clone()).collect::<Vec<_>>())?;
    let r = read_csv(right, right_id, &used.iter().map(|f| f.right.clone()).collect::<Vec<_>>())?;
    let lt = Table::prepare(&fields, l.ids, &l.columns);
    let rt = Table::prepare(&fields, r.ids, &r.columns);
    let opts = Options { threshold, ..Options::default() };
    let linkage = link(&fields, &lt, &rt, &opts);
    let mut w = csv::Writer::from_path(out).with_context(|| format!("writing {}", out.display()))?;
    w.write_record(["left_id", "right_id", "probability", "explanation"])?;
    for p in &linkage.links {
        let why = explain_line(&explain(&fields, &linkage.model, &lt, p.left, &rt, p.right));
        w.write_record([&lt.ids[p.left], &rt.ids[p.right], &format!("{:.6}", p.probability), &why])?;
    }
    w.flush()?;
    Ok(Summary { left: lt.len(), right: rt.len(), candidates: linkage.candidates, links: linkage.links.len() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_arguments() {
        let f = FieldArg::parse("name=given_name+surname:given_name+surname").expect("parse");
        assert_eq!((f.kind, f.label.as_str()), (Kind::Name, "name"));
        assert_eq!(f.left, ["given_name", "surname"]);
        let f = FieldArg::parse("text/address=address_1:addr").expect("parse");
        assert_eq!((f.kind, f.label.as_str(), f.right.as_slice()), (Kind::Text, "address", &["addr".to_owned()][..]));
        let f = FieldArg::parse("dob=birth_date:").expect("a side may lack the field");
        assert!(f.right.is_empty());
        assert!(FieldArg::parse("colour=a:b").is_err());
        assert!(FieldArg::parse("name").is_err());
    }
}
