//! `haven match`: link two CSV files one-to-one with the linkage engine, without a database. For benchmarks
//! and for offices that receive lists (a foreign authority's list of returnees against a commune's absentees).
//! Nothing is written but the output file; values are never printed.

use std::path::Path;

use std::collections::HashMap;

use anyhow::{bail, Context};
use haven_app::imports::neutralise;
use haven_linkage::compare::Kind;
use haven_linkage::link::{explain, explain_line, link, Field, Options, Table};
use haven_linkage::lists::{self, List};
use haven_linkage::normalise::place_name;

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

/// A list file read into the columns the fields need ([`haven_linkage::lists::read`] says what it refuses).
fn read_csv(path: &Path, id: &str, fields: &[Vec<String>]) -> anyhow::Result<List> {
    let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    Ok(lists::read(std::io::BufReader::new(file), &path.display().to_string(), id, fields)?)
}

/// Whether two paths name the same file (the second may not exist yet).
fn same_file(a: &Path, b: &Path) -> bool {
    let resolve = |p: &Path| {
        p.canonicalize().ok().or_else(|| {
            let parent = p.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
            Some(parent.canonicalize().ok()?.join(p.file_name()?))
        })
    };
    matches!((resolve(a), resolve(b)), (Some(x), Some(y)) if x == y)
}

/// Places renamed or merged (the 2025 merger of communes): old name, its district (may be empty), new name.
/// A place written under its old name, with or without the district, compares as the new one.
pub struct PlaceAliases(HashMap<String, String>);

impl PlaceAliases {
    pub fn read(path: &Path) -> anyhow::Result<PlaceAliases> {
        let mut reader = csv::Reader::from_path(path).with_context(|| format!("opening {}", path.display()))?;
        let mut map = HashMap::new();
        let mut ambiguous = std::collections::HashSet::new();
        for (n, record) in reader.records().enumerate() {
            let record = record.with_context(|| format!("{} line {}", path.display(), n + 2))?;
            let (old, district, new) =
                (record.get(0).unwrap_or(""), record.get(1).unwrap_or(""), record.get(2).unwrap_or(""));
            let (old, _) = place_name(old);
            let (district, _) = place_name(district);
            if old.is_empty() || new.trim().is_empty() {
                continue;
            }
            map.insert(format!("{old}|{district}"), new.trim().to_owned());
            // The old name alone, when no other district has a commune of that name.
            match map.get(&old) {
                Some(existing) if existing != new.trim() => {
                    ambiguous.insert(old.clone());
                }
                _ => {
                    map.insert(old.clone(), new.trim().to_owned());
                }
            }
        }
        for a in ambiguous {
            map.remove(&a);
        }
        Ok(PlaceAliases(map))
    }

    /// The current name of a place as written, or the place as it was.
    pub fn apply(&self, raw: &str) -> String {
        let (name, district) = place_name(raw);
        let by_district = district.and_then(|d| self.0.get(&format!("{name}|{d}")));
        by_district.or_else(|| self.0.get(&name)).cloned().unwrap_or_else(|| raw.to_owned())
    }
}

/// What a run did, for the summary line.
pub struct Summary {
    pub left: usize,
    pub right: usize,
    pub candidates: usize,
    pub links: usize,
}

/// One run of `haven match`.
pub struct Job<'a> {
    pub left: &'a Path,
    pub right: &'a Path,
    pub left_id: &'a str,
    pub right_id: &'a str,
    pub fields: &'a [FieldArg],
    pub out: &'a Path,
    /// Pairs at or above this probability are linked.
    pub threshold: f64,
    pub aliases: Option<&'a PlaceAliases>,
}

/// Link the job's two files and write `left_id,right_id,probability,explanation` per linked pair.
pub fn run(job: &Job<'_>) -> anyhow::Result<Summary> {
    let Job { left, right, left_id, right_id, fields: field_args, out, threshold, aliases } = *job;
    if field_args.is_empty() {
        bail!("give at least one --field");
    }
    if !(0.0..=1.0).contains(&threshold) {
        bail!("the threshold is a probability between 0 and 1");
    }
    for (input, name) in [(left, "--left"), (right, "--right")] {
        if same_file(out, input) {
            bail!("--out names the same file as {name}: it would be overwritten; choose another output file");
        }
    }
    // A field one file lacks is not compared.
    let used: Vec<&FieldArg> = field_args.iter().filter(|f| !f.left.is_empty() && !f.right.is_empty()).collect();
    if used.is_empty() {
        bail!("no field is present in both files");
    }
    let fields: Vec<Field> = used.iter().map(|f| Field { label: f.label.clone(), kind: f.kind }).collect();
    let mut l = read_csv(left, left_id, &used.iter().map(|f| f.left.clone()).collect::<Vec<_>>())?;
    let mut r = read_csv(right, right_id, &used.iter().map(|f| f.right.clone()).collect::<Vec<_>>())?;
    if let Some(aliases) = aliases {
        for (f, field) in fields.iter().enumerate() {
            if field.kind == Kind::Place {
                for v in l.columns[f].iter_mut().chain(r.columns[f].iter_mut()) {
                    *v = aliases.apply(v);
                }
            }
        }
    }
    let lt = Table::prepare(&fields, l.ids, &l.columns);
    let rt = Table::prepare(&fields, r.ids, &r.columns);
    let opts = Options { threshold, ..Options::default() };
    let linkage = link(&fields, &lt, &rt, &opts);
    // The links name records of both lists: the owner's to read alone.
    let file = haven_store::files::create_private(out, true).with_context(|| format!("writing {}", out.display()))?;
    let mut w = csv::Writer::from_writer(file);
    w.write_record(["left_id", "right_id", "probability", "explanation"])?;
    for p in &linkage.links {
        let why = explain_line(&explain(&fields, &linkage.model, &lt, p.left, &rt, p.right));
        // An id a spreadsheet would run as a formula (`=HYPERLINK(...)`) is written as text.
        let (left_id, right_id) = (neutralise(&lt.ids[p.left]), neutralise(&rt.ids[p.right]));
        w.write_record([&left_id, &right_id, &format!("{:.6}", p.probability), &neutralise(&why)])?;
    }
    w.flush()?;
    Ok(Summary { left: lt.len(), right: rt.len(), candidates: linkage.candidates, links: linkage.links.len() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_commune_names_become_new_ones() {
        let dir = std::env::temp_dir().join(format!("haven-aliases-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("aliases.csv");
        std::fs::write(
            &path,
            "old,district,new\nLộc Tân,Điện Bàn,Điện Lộc\nHòa Phước,Hòa Vang,Hòa Tiến\nHòa Phước,Duy Xuyên,Duy Phước\n",
        )
        .expect("write");
        let a = PlaceAliases::read(&path).expect("read");
        assert_eq!(a.apply("Xã Lộc Tân, huyện Điện Bàn"), "Điện Lộc");
        assert_eq!(a.apply("Loc Tan"), "Điện Lộc", "a unique old name alone");
        assert_eq!(a.apply("Hòa Phước"), "Hòa Phước", "two districts had a Hòa Phước: left as written");
        assert_eq!(a.apply("Xã Hòa Phước, huyện Duy Xuyên"), "Duy Phước");
        std::fs::remove_dir_all(&dir).ok();
    }

    /// Run a name-and-birth match of two files written from text; the error's message when refused.
    fn run_on(left: &[u8], right: &[u8], out_is_left: bool) -> Result<String, String> {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("haven-match-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let (l, r, out) = (dir.join("left.csv"), dir.join("right.csv"), dir.join("out.csv"));
        std::fs::write(&l, left).expect("write");
        std::fs::write(&r, right).expect("write");
        let fields = [FieldArg::parse("name=name:name").expect("f"), FieldArg::parse("dob=dob:dob").expect("f")];
        let out = if out_is_left { dir.join(".").join("left.csv") } else { out };
        let job = Job {
            left: &l,
            right: &r,
            left_id: "id",
            right_id: "id",
            fields: &fields,
            out: &out,
            // Every pair compared is written: these lists are too small to train a model on.
            threshold: 0.0,
            aliases: None,
        };
        let result = run(&job).map(|_| std::fs::read_to_string(&out).expect("out")).map_err(|e| format!("{e:#}"));
        std::fs::remove_dir_all(&dir).ok();
        result
    }

    const RIGHT: &[u8] = "id,name,dob\nr1,HOA NGUYEN THI,12/03/1995\n".as_bytes();

    #[test]
    fn bad_lists_are_refused_with_their_line_and_no_value() {
        let refused = |left: &str| run_on(left.as_bytes(), RIGHT, false).expect_err("refused");
        let e = refused("id,name,dob\nl1,Nguyễn Thị Hoa,12/03/1995\nl2,Lê Văn Đức\n");
        assert!(e.ends_with("left.csv line 3: 2 columns where the header has 3"), "{e}");
        let e = refused("id,name,dob\n,Nguyễn Thị Hoa,12/03/1995\n");
        assert!(e.ends_with("line 2: the id (column \"id\") is empty"), "{e}");
        let e = refused("id,name,dob\nl1,Nguyễn Thị Hoa,1995\nl2,Lê Văn Đức,1990\nl1,Trần Thị Mai,1991\n");
        assert!(e.ends_with("line 4: the same id as line 2; each record needs its own"), "{e}");
        assert!(!e.contains("l1"), "ids are not printed: {e}");
        let e = refused("id,name,dob\nl1,\"Nguyễn Thị Hoa,1995\nl2,Lê Văn Đức,1990\n");
        assert!(e.contains("line 2: the value in column \"name\" runs over several lines"), "{e}");
        let long = format!("id,name,dob\nl1,{},1995\n", "a".repeat(lists::MAX_VALUE + 1));
        let e = refused(&long);
        assert!(e.ends_with("line 2: the value in column \"name\" is longer than 1000 characters"), "{e}");
        let endless = format!("id,name,dob\nl1,{}", "a ".repeat(lists::MAX_LINE));
        let e = refused(&endless);
        assert!(e.contains("line 2 is longer than 65536 bytes"), "{e}");
        let e = run_on(b"id,name,dob\nl1,Nguy\xe1n,1995\n", RIGHT, false).expect_err("refused");
        assert!(e.ends_with("line 2: not UTF-8 text (save the file as CSV UTF-8)"), "{e}");
        let e = run_on(b"id,name,dob\nl1,Hoa,1995\n", RIGHT, true).expect_err("refused");
        assert!(e.contains("--out names the same file as --left"), "{e}");
    }

    #[test]
    fn ids_that_a_spreadsheet_would_run_are_written_as_text() {
        let left = "id,name,dob\n=HYPERLINK(\"http://x\"),Nguyễn Thị Hoa,12/03/1995\n";
        let out = run_on(left.as_bytes(), RIGHT, false).expect("linked");
        let row = out.lines().nth(1).expect("one link");
        assert!(row.starts_with("\"'=HYPERLINK(\"\"http://x\"\")\",r1,"), "{row}");
    }

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
