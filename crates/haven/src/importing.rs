//! `haven import`: a spreadsheet into a register from the command line, with the pages' rules. The file is
//! read (XLSX, or CSV in a detected or chosen encoding), its columns mapped (given with `--map`, remembered for
//! the template, or guessed from the headers), every row checked (every error printed, nothing saved), then all
//! rows written in one transaction while a progress line counts them. The same file twice creates nothing.
//! Names and other values are never printed.

use std::io::Write;
use std::path::Path;

use anyhow::{bail, Context};
use haven_app::imports::{check_rows, commit, mapping_for, Committed, Communes, Kind, Mapping};
use haven_app::App;
use haven_app::Caller;
use haven_domain::registers::sheet::{self, Encoding};
use haven_domain::Action;
use haven_store::imports::{self, Upload};

pub struct Job<'a> {
    pub kind: &'a str,
    pub file: &'a Path,
    pub user: &'a str,
    pub commune: Option<&'a str>,
    pub batch: Option<&'a str>,
    pub encoding: Option<&'a str>,
    /// FIELD=COLUMN, the column by its header or its number from 1.
    pub map: &'a [String],
    /// Check only.
    pub check_only: bool,
}

/// What happened, for the exit code.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    Imported(usize),
    AlreadyImported,
    Checked(usize),
    RowErrors(usize),
}

/// A column's letter as spreadsheets name it (A, B, ..., AA).
fn column_letter(col: usize) -> String {
    sheet::cell_name(0, col as u32).trim_end_matches('1').to_owned()
}

/// Read `--map` arguments against the file's headers.
fn parse_map(kind: Kind, headers: &[String], args: &[String]) -> anyhow::Result<Mapping> {
    let mut out = Vec::new();
    for a in args {
        let (field, col) = a.split_once('=').context("--map takes FIELD=COLUMN")?;
        if !kind.fields().contains(&field.trim()) {
            bail!("unknown field {field:?}; this register takes: {}", kind.fields().join(", "));
        }
        let col = col.trim();
        let index = match col.parse::<usize>() {
            Ok(n) if (1..=headers.len()).contains(&n) => n - 1,
            _ => headers
                .iter()
                .position(|h| h.trim() == col)
                .with_context(|| format!("no column {col:?} in the file"))?,
        };
        out.push((field.trim().to_owned(), index));
    }
    Ok(Mapping(out))
}

pub async fn run(state: &App, job: &Job<'_>) -> anyhow::Result<Outcome> {
    let kind = Kind::from_code(job.kind).context("--kind is absentees or returnees")?;
    let viewer = Caller::by_user_name(state, job.user, "cli-import")
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .with_context(|| format!("no active user {}", job.user))?;
    let lang = viewer.lang();
    if !viewer.can(Action::CreateRecords) {
        bail!("user {} may not create records", job.user);
    }
    let target = match kind {
        Kind::Returnees => {
            let id = job.batch.context("--batch is needed for returnees")?;
            let b = state.store.batch(id).await?.context("no such handover batch")?;
            if b.owner_agency_id != viewer.agency.id {
                bail!("the batch belongs to another agency");
            }
            b.id
        }
        Kind::Absentees => match job.commune {
            Some(c) if !state.store.unit_exists(c).await? => bail!("no commune with code {c}"),
            Some(c) if haven_app::registers::absentees::own_commune(&viewer).is_some_and(|own| own != c) => {
                bail!("{}", state.i18n.get(lang, haven_app::registers::absentees::NOT_OWN_COMMUNE))
            }
            Some(c) => c.to_owned(),
            None => String::new(),
        },
    };
    let encoding =
        match job.encoding {
            None => None,
            Some(e) => Some(Encoding::from_code(e).with_context(|| {
                format!("unknown encoding {e}; one of {}", Encoding::ALL.map(|e| e.code()).join(", "))
            })?),
        };
    let bytes = std::fs::read(job.file).with_context(|| format!("reading {}", job.file.display()))?;
    let say = |key: &str| state.i18n.get(lang, key).to_owned();
    let sheet = match sheet::read(&bytes, encoding) {
        Ok(s) => s,
        Err(e) => bail!("{}{}", say(e.key()), e.place().map(|p| format!(" ({p})")).unwrap_or_default()),
    };
    eprintln!(
        "{}: {} rows, {} columns{}",
        job.file.display(),
        sheet.rows.len(),
        sheet.headers.len(),
        sheet.encoding.map(|e| format!(", {}", e.code())).unwrap_or_default()
    );
    let hash = imports::file_hash(&state.store.keys, &bytes);
    if let Some(earlier) = state.store.import_of_file(&viewer.agency.id, kind.code(), &target, &hash).await? {
        let when = haven_domain::format::date_time(earlier.created_at);
        eprintln!("{} {when} (import {}). {}", say("imports.already"), earlier.id, say("imports.nothing_new"));
        return Ok(Outcome::AlreadyImported);
    }
    let mapping = if job.map.is_empty() {
        mapping_for(state, &viewer.agency.id, kind, &sheet, None).await.map_err(|e| anyhow::anyhow!("{e:?}"))?
    } else {
        parse_map(kind, &sheet.headers, job.map)?
    };
    // Columns are named by letter, never by their header: in a file without a header row, the first row is a
    // person's details, and what the terminal shows may end up in a log.
    for (field, col) in &mapping.0 {
        eprintln!("  {field:<14} <- {}", column_letter(*col));
    }
    if mapping.column("full_name").is_none() {
        bail!("no column holds the full name: give --map full_name=COLUMN");
    }
    let communes = Communes::load(state).await.map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let today = haven_domain::time::local_date(state.store.now()).context("clock out of range")?;
    let own = haven_app::registers::absentees::own_commune(&viewer);
    let default_commune = Some(target.as_str()).filter(|t| kind == Kind::Absentees && !t.is_empty()).or(own);
    let place = haven_app::imports::Place { communes: &communes, default_commune, only: own };
    let rows = match check_rows(kind, &sheet, &mapping, &place, today) {
        Ok(rows) => rows,
        Err(errors) => {
            for e in &errors {
                let column = mapping.column(&e.field).map(column_letter).unwrap_or_default();
                eprintln!("row {}, {column} ({}): {}", e.row, e.field, say(&e.key));
            }
            eprintln!("{} rows to correct; nothing was saved.", errors.len());
            return Ok(Outcome::RowErrors(errors.len()));
        }
    };
    if job.check_only {
        eprintln!("{}: {} rows.", say("imports.ready"), rows.len());
        return Ok(Outcome::Checked(rows.len()));
    }
    let upload = Upload {
        id: haven_store::new_id(),
        owner_agency_id: viewer.agency.id.clone(),
        user_id: viewer.user.id.clone(),
        kind: kind.code().into(),
        target,
        file_name: job.file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
        content: Vec::new(),
        file_hash: hash,
        encoding: sheet.encoding.map(|e| e.code().to_owned()),
        mapping: Some(mapping.encode()),
        created_at: state.store.now(),
    };
    let progress = |done: usize, total: usize| {
        eprint!("\rImporting: {done} / {total} rows");
        let _ = std::io::stderr().flush();
    };
    let outcome = commit(state, &viewer, &upload, &sheet, &mapping, rows, &progress).await.map_err(|e| match e {
        // Another writer (a second import, the server's busiest minute) kept the database past the bounded
        // wait: nothing was written, and saying so in the user's words is the whole message.
        haven_app::Error::Internal(e) if haven_store::db::is_busy(&e) => anyhow::anyhow!(say("error.busy")),
        haven_app::Error::Internal(e) => e,
        other => anyhow::anyhow!("{other}"),
    })?;
    eprintln!();
    Ok(match outcome {
        Committed::Done(n) => {
            eprintln!("Imported {n} rows (import {}).", upload.id);
            // The rows are compared with the province's records now, in short transactions; a run cut short
            // here is finished by the server (or the next import) from the queue.
            let compared = |done: usize| {
                eprint!("\rComparing with the province's records: {done} / {n}");
                let _ = std::io::stderr().flush();
            };
            state.store.drain_match_queue(&compared).await?;
            eprintln!();
            Outcome::Imported(n)
        }
        Committed::AlreadyImported => {
            eprintln!("{}", say("error.import_again"));
            Outcome::AlreadyImported
        }
    })
}
