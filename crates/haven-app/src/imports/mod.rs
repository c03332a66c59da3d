//! Importing a register from a spreadsheet, shared by the import pages and `haven import`: the fields each
//! register takes, the column mapping, checking every row with the same rules as a single entry (every error
//! reported at once, in the user's language), and the commit: all rows or none (staged in short transactions,
//! published in one), progress reported as it goes, and the same file never imported twice for the same
//! register.

use std::collections::HashMap;

use haven_domain::person::{BirthDate, IdentityInput};
use haven_domain::registers::sheet::{self, Encoding, Sheet, SheetError};
use haven_linkage::normalise::{fold, place_name};
use haven_store::imports::{self, Upload};
use haven_store::staging;

use crate::registers::absentees::{self as reg, own_commune, AbsenteeForm, NOT_OWN_COMMUNE};
use crate::registers::PersonFields;
use crate::{access, App, Caller, Error, Result};

/// What an import fills.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A commune's absentee list (the target is the default commune, or empty when a column gives it).
    Absentees,
    /// The people of a handover batch (the target is the batch).
    Returnees,
}

impl Kind {
    pub fn code(self) -> &'static str {
        match self {
            Kind::Absentees => "absentees",
            Kind::Returnees => "returnees",
        }
    }

    pub fn from_code(code: &str) -> Option<Kind> {
        match code {
            "absentees" => Some(Kind::Absentees),
            "returnees" => Some(Kind::Returnees),
            _ => None,
        }
    }

    /// The fields a row may give, in the order the mapping form lists them.
    pub fn fields(self) -> &'static [&'static str] {
        match self {
            Kind::Absentees => &[
                "full_name",
                "other_names",
                "birth_date",
                "sex",
                "id_number",
                "passport",
                "phone",
                "address",
                "commune_code",
                "absent_since",
                "destination",
                "contact",
                "reported_by",
                "household",
                "note",
            ],
            Kind::Returnees => &[
                "full_name",
                "other_names",
                "birth_date",
                "sex",
                "id_number",
                "passport",
                "phone",
                "address",
                "commune_code",
                "nationality",
            ],
        }
    }
}

/// Which column holds each field: `field=column;...` as stored.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Mapping(pub Vec<(String, usize)>);

impl Mapping {
    pub fn parse(s: &str) -> Mapping {
        Mapping(
            s.split(';')
                .filter_map(|p| {
                    let (f, c) = p.split_once('=')?;
                    Some((f.to_owned(), c.parse().ok()?))
                })
                .collect(),
        )
    }

    pub fn encode(&self) -> String {
        self.0.iter().map(|(f, c)| format!("{f}={c}")).collect::<Vec<_>>().join(";")
    }

    pub fn column(&self, field: &str) -> Option<usize> {
        self.0.iter().find(|(f, _)| f == field).map(|(_, c)| *c)
    }

    fn value<'a>(&self, field: &str, row: &'a [String]) -> &'a str {
        self.column(field).and_then(|c| row.get(c)).map(String::as_str).unwrap_or("")
    }

    /// Keep only known fields and columns that exist; one column per field.
    pub fn for_sheet(self, kind: Kind, columns: usize) -> Mapping {
        Mapping(self.0.into_iter().filter(|(f, c)| kind.fields().contains(&f.as_str()) && *c < columns).collect())
    }
}

/// The mapping for a file: the one chosen for it, the agency's for this template, or a guess from the headers.
pub async fn mapping_for(
    app: &App,
    agency_id: &str,
    kind: Kind,
    sheet: &Sheet,
    chosen: Option<&str>,
) -> Result<Mapping> {
    let width = sheet.headers.len();
    if let Some(m) = chosen {
        return Ok(Mapping::parse(m).for_sheet(kind, width));
    }
    let signature = haven_domain::registers::sheet::signature(&sheet.headers);
    if let Some(m) = app.store.import_template(agency_id, kind.code(), &signature).await? {
        return Ok(Mapping::parse(&m).for_sheet(kind, width));
    }
    let guessed = haven_domain::registers::sheet::guess_mapping(&sheet.headers, kind.fields());
    Ok(Mapping(guessed.into_iter().filter_map(|(f, c)| Some((f, c?))).collect()))
}

/// One row's problem: the spreadsheet row (as numbered in the file, the header being row 1), the field and the
/// translation key of the message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowError {
    pub row: usize,
    pub field: String,
    pub key: String,
}

/// A row ready to write.
pub enum Checked {
    Absentee(Box<(AbsenteeForm, haven_domain::person::Identity, Option<BirthDate>)>),
    Returnee(Box<haven_domain::person::Identity>),
}

/// The province's communes by code and by folded name (without "xã", "phường"), for lists that write either.
/// `None`: an old name that communes of several districts bore, which needs its district.
pub struct Communes(HashMap<String, Option<String>>);

impl Communes {
    pub async fn load(app: &App) -> Result<Communes> {
        let current = app.store.communes(&app.province).await?;
        Ok(Communes::build(&current, &RENAMES))
    }

    fn build(current: &[(String, String)], renames: &[(String, String, String)]) -> Communes {
        let mut map: HashMap<String, Option<String>> = HashMap::new();
        // Old names first, so a current name that an old commune also bore means the current unit.
        for (old, district, code) in renames.iter().filter(|(_, _, code)| current.iter().any(|(c, _)| c == code)) {
            let name = place_name(old).0;
            map.insert(format!("{name}|{}", place_name(district).0), Some(code.clone()));
            let bare = map.entry(name).or_insert_with(|| Some(code.clone()));
            if bare.as_deref() != Some(code.as_str()) {
                *bare = None;
            }
        }
        for (code, name) in current {
            map.insert(place_name(name).0, Some(code.clone()));
            map.insert(code.clone(), Some(code.clone()));
        }
        Communes(map)
    }

    /// A commune as written: its code, its current name, or an old name ("Xã Trà Sơn, huyện Bắc Trà My");
    /// otherwise the key of the reason it is not known.
    pub fn resolve(&self, written: &str) -> std::result::Result<&str, &'static str> {
        let w = written.trim();
        let (name, district) = place_name(w);
        let by_district = district.and_then(|d| self.0.get(&format!("{name}|{d}")));
        match self.0.get(w).or(by_district).or_else(|| self.0.get(&name)) {
            Some(Some(code)) => Ok(code),
            Some(None) => Err("error.import_commune_ambiguous"),
            None => Err("error.import_commune"),
        }
    }
}

/// Old commune names and the 2025 unit that carries them (`profiles/vn/commune-renames.csv`): (old name, old
/// district, new code).
static RENAMES: std::sync::LazyLock<Vec<(String, String, String)>> = std::sync::LazyLock::new(|| {
    let mut reader = csv::Reader::from_reader(include_str!("../../../../profiles/vn/commune-renames.csv").as_bytes());
    reader
        .records()
        .filter_map(std::result::Result::ok)
        .filter_map(|r| Some((r.get(0)?.to_owned(), r.get(1)?.to_owned(), r.get(3)?.to_owned())))
        .collect()
});

/// Sex as lists write it: Nam / Nữ, M / F, male / female; empty is unknown.
fn sex_code(written: &str) -> Option<&'static str> {
    match fold(written).as_str() {
        "" => Some("u"),
        "nam" | "m" | "male" | "1" => Some("m"),
        "nu" | "f" | "female" | "2" => Some("f"),
        "u" | "khong ro" | "unknown" => Some("u"),
        _ => None,
    }
}

/// Check every row of a sheet; every error at once, or the rows ready to write. `default_commune`: the commune
/// of an absentee list without a commune column.
/// Where the rows of an absentee list belong: the communes a column may name, the commune of rows that name
/// none, and the only commune allowed (a commune's own list).
#[derive(Clone, Copy)]
pub struct Place<'a> {
    pub communes: &'a Communes,
    pub default_commune: Option<&'a str>,
    pub only: Option<&'a str>,
}

pub fn check_rows(
    kind: Kind,
    sheet: &Sheet,
    mapping: &Mapping,
    place: &Place,
    today: time::Date,
) -> std::result::Result<Vec<Checked>, Vec<RowError>> {
    let Place { communes, default_commune, only } = *place;
    let mut errors = Vec::new();
    let mut out = Vec::with_capacity(sheet.rows.len());
    for (row, &line) in sheet.rows.iter().zip(&sheet.lines) {
        let mut err =
            |field: &str, key: &str| errors.push(RowError { row: line, field: field.into(), key: key.into() });
        let v = |f: &str| mapping.value(f, row).to_owned();
        let commune_written = v("commune_code");
        let commune = if commune_written.is_empty() {
            default_commune.map(str::to_owned)
        } else {
            match communes.resolve(&commune_written) {
                Ok(c) if only.is_some_and(|own| own != c) => {
                    err("commune_code", NOT_OWN_COMMUNE);
                    None
                }
                Ok(c) => Some(c.to_owned()),
                Err(key) => {
                    err("commune_code", key);
                    None
                }
            }
        };
        let sex = match sex_code(&v("sex")) {
            Some(s) => s,
            None => {
                err("sex", "error.choice");
                "u"
            }
        };
        let person = PersonFields {
            full_name: v("full_name"),
            other_names: v("other_names"),
            birth_date: v("birth_date"),
            sex: sex.into(),
            id_number: sheet::id_number_cell(&v("id_number")),
            passport: v("passport"),
            phone: sheet::phone_cell(&v("phone")),
            address: v("address"),
            commune_code: commune.clone().unwrap_or_default(),
            nationality: v("nationality"),
        };
        let input: IdentityInput = person.input();
        let identity = match input.validate(today) {
            Ok(i) => Some(i),
            Err(e) => {
                for fe in e {
                    err(fe.field, fe.key);
                }
                None
            }
        };
        match kind {
            Kind::Absentees => {
                let form = AbsenteeForm {
                    person,
                    absent_since: v("absent_since"),
                    destination: v("destination"),
                    contact: v("contact"),
                    reported_by: v("reported_by"),
                    household: v("household"),
                    note: v("note"),
                };
                let since = match reg::check_absentee(&form, today) {
                    Ok(s) => s,
                    Err(e) => {
                        for (f, k) in e {
                            // A missing commune was already reported when the column named an unknown one.
                            if f != "commune_code" || commune_written.is_empty() {
                                err(&f, &k);
                            }
                        }
                        None
                    }
                };
                if let Some(identity) = identity {
                    out.push(Checked::Absentee(Box::new((form, identity, since))));
                }
            }
            Kind::Returnees => {
                if let Some(identity) = identity {
                    out.push(Checked::Returnee(Box::new(identity)));
                }
            }
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// How a commit ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Committed {
    /// Rows written.
    Done(usize),
    /// The same file was imported for the same register meanwhile: nothing written.
    AlreadyImported,
}

/// Rows staged per short transaction.
const STAGE_CHUNK: usize = 250;

/// Write the rows, all or none, reporting progress as (rows written, rows in all). The rows are staged in
/// short transactions of [`STAGE_CHUNK`] (other writers take their turns between them), then published
/// together in one transaction that copies them into the register, records the import under the upload's
/// id and remembers the mapping for the template; they are queued there to be compared with the province's
/// records afterwards (call [`haven_store::Store::drain_match_queue`]). Nothing is visible before the
/// publish commits, and a failed import leaves nothing but a stage that is dropped or swept.
pub async fn commit(
    app: &App,
    caller: &Caller,
    upload: &Upload,
    sheet: &Sheet,
    mapping: &Mapping,
    rows: Vec<Checked>,
    progress: &(dyn Fn(usize, usize) + Send + Sync),
) -> Result<Committed> {
    caller.require(haven_domain::Action::CreateRecords)?;
    let kind = Kind::from_code(&upload.kind).ok_or_else(|| Error::BadRequest("kind".into()))?;
    access::require_owner(caller, &upload.owner_agency_id)?;
    let batch = match kind {
        Kind::Returnees => {
            let b = app.store.batch(&upload.target).await?.ok_or(Error::NotFound)?;
            access::require_owner(caller, &b.owner_agency_id)?;
            Some(b)
        }
        Kind::Absentees => None,
    };
    let batch_id = batch.as_ref().map(|b| b.id.as_str()).unwrap_or_default();
    let mut stage = app.store.begin_stage(&caller.actor(), &upload.id).await?;
    let published =
        stage_and_publish(app, caller, upload, (sheet, mapping), &rows, batch_id, &mut stage, progress).await;
    if !matches!(published, Ok(Committed::Done(_))) {
        // Whatever the error, the stage goes; if this fails too, the sweep takes it later.
        if let Err(e) = app.store.discard_stage(&stage.id).await {
            tracing::warn!(error = %e, "an import's stage was left for the sweep");
        }
    }
    published
}

#[allow(clippy::too_many_arguments)]
async fn stage_and_publish(
    app: &App,
    caller: &Caller,
    upload: &Upload,
    (sheet, mapping): (&Sheet, &Mapping),
    rows: &[Checked],
    batch_id: &str,
    stage: &mut haven_store::staging::Stage,
    progress: &(dyn Fn(usize, usize) + Send + Sync),
) -> Result<Committed> {
    let total = rows.len();
    let began = std::time::Instant::now();
    for chunk in rows.chunks(STAGE_CHUNK) {
        let staged: Vec<staging::Row> = chunk
            .iter()
            .map(|row| match row {
                Checked::Absentee(b) => {
                    let (form, identity, since) = b.as_ref();
                    staging::Row::Absentee { identity, entry: reg::entry(form, *since) }
                }
                Checked::Returnee(identity) => staging::Row::Returnee { identity, batch_id },
            })
            .collect();
        app.store.stage(stage, &staged).await?;
        progress(stage.len(), total);
    }
    let staged = began.elapsed();
    let mut cmd = app.store.command(&caller.actor()).await?;
    let publishing = std::time::Instant::now();
    if !imports::record_import(&mut cmd, &app.store.keys, upload, total as i64).await? {
        return Ok(Committed::AlreadyImported);
    }
    staging::publish(&mut cmd, stage, &upload.id).await?;
    haven_store::matches::queue_import(&mut cmd, &upload.id).await?;
    let signature = haven_domain::registers::sheet::signature(&sheet.headers);
    imports::save_template(&mut cmd, &app.store.keys, &caller.agency.id, &upload.kind, &signature, &mapping.encode())
        .await?;
    cmd.commit().await?;
    tracing::info!(
        rows = total,
        staged_ms = staged.as_millis() as u64,
        published_ms = publishing.elapsed().as_millis() as u64,
        "import published"
    );
    Ok(Committed::Done(total))
}

/// A row-error report as CSV, in the user's language: row, column (the file's own header), message. Values
/// are not repeated (they may identify someone); cells that a spreadsheet would run as formulas are
/// neutralised.
pub fn error_report(errors: &[RowError], sheet: &Sheet, mapping: &Mapping, label: impl Fn(&str) -> String) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(b"\xef\xbb\xbf".to_vec());
    let _ = w.write_record([label("imports.row"), label("imports.column"), label("imports.message")]);
    for e in errors {
        let column = mapping
            .column(&e.field)
            .and_then(|c| sheet.headers.get(c).cloned())
            .unwrap_or_else(|| label(&format!("imports.field.{}", e.field)));
        let _ = w.write_record([e.row.to_string(), neutralise(&column), neutralise(&label(&e.key))]);
    }
    w.into_inner().unwrap_or_default()
}

/// A cell a spreadsheet would read as a formula, made plain text.
pub fn neutralise(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_owned()
    }
}

/// Largest spreadsheet accepted.
pub const MAX_FILE_BYTES: usize = 20 * 1024 * 1024;

/// What an upload became: a new pending upload to preview, or a file imported before for the same register
/// (nothing new is created; when it came in).
pub enum Uploaded {
    New(String),
    Earlier(haven_domain::time::Millis),
}

/// A spreadsheet as it was sent.
pub struct NewFile<'a> {
    pub file_name: &'a str,
    pub bytes: &'a [u8],
    /// An encoding code, or empty to detect it.
    pub encoding: &'a str,
}

/// The target of an import, checked: a batch of the caller's agency, or an existing commune.
async fn check_target(app: &App, caller: &Caller, kind: Kind, target: &str) -> Result<crate::Outcome<()>> {
    match kind {
        Kind::Returnees => {
            let b = app.store.batch(target).await?.ok_or(Error::NotFound)?;
            access::require_owner(caller, &b.owner_agency_id)?;
        }
        Kind::Absentees if !target.is_empty() && !app.store.unit_exists(target).await? => {
            return Ok(crate::Fields::one("commune_code", "error.choice"));
        }
        Kind::Absentees if own_commune(caller).is_some_and(|own| !target.is_empty() && target != own) => {
            return Ok(crate::Fields::one("commune_code", NOT_OWN_COMMUNE));
        }
        Kind::Absentees => {}
    }
    Ok(Ok(()))
}

/// Why an upload was refused: field errors, or a sheet that cannot be read (with the place in the file).
pub enum Refused {
    Fields(crate::FieldErrors),
    Sheet(SheetError),
}

/// Take a spreadsheet for a register of the caller's agency: the absentees (`target` is a commune, or empty
/// when a column gives it) or the people of a batch (`target` is the batch). The file is read once to refuse
/// what cannot be read; it is kept sealed until it is committed or dropped.
pub async fn upload(
    app: &App,
    caller: &Caller,
    file: Option<NewFile<'_>>,
    kind: Kind,
    target: &str,
) -> Result<std::result::Result<Uploaded, Refused>> {
    caller.require(haven_domain::Action::CreateRecords)?;
    let mut errors = match check_target(app, caller, kind, target).await? {
        Ok(()) => Vec::new(),
        Err(e) => e,
    };
    let Some(file) = file else {
        errors.push(("file".into(), "error.file_missing".into()));
        return Ok(Err(Refused::Fields(errors)));
    };
    if let Err(e) = sheet::read(file.bytes, Encoding::from_code(file.encoding)) {
        if errors.is_empty() {
            return Ok(Err(Refused::Sheet(e)));
        }
        errors.push(("file".into(), e.key().into()));
    }
    if !errors.is_empty() {
        return Ok(Err(Refused::Fields(errors)));
    }
    let hash = imports::file_hash(&app.store.keys, file.bytes);
    if let Some(earlier) = app.store.import_of_file(&caller.agency.id, kind.code(), target, &hash).await? {
        return Ok(Ok(Uploaded::Earlier(earlier.created_at)));
    }
    let mut cmd = app.store.command(&caller.actor()).await?;
    let new = imports::NewUpload {
        kind: kind.code(),
        target,
        file_name: file.file_name,
        bytes: file.bytes,
        file_hash: &hash,
    };
    let id = imports::save_upload(&mut cmd, &app.store.keys, &caller.agency.id, &new).await?;
    if let Some(enc) = Encoding::from_code(file.encoding) {
        imports::set_mapping(&mut cmd, &id, Some(enc.code()), "").await?;
    }
    cmd.commit().await?;
    Ok(Ok(Uploaded::New(id)))
}

/// Open the caller's own pending upload (audited with the step's purpose: preview, check, report, commit).
pub async fn open_own(app: &App, caller: &Caller, id: &str, purpose: &str) -> Result<Upload> {
    let (agency, user) = app.store.upload_owner(id).await?.ok_or(Error::NotFound)?;
    if agency != caller.agency.id || user != caller.user.id {
        return Err(Error::Forbidden);
    }
    let mut cmd = app.store.command(&caller.actor()).await?;
    let u = imports::open_upload(&mut cmd, &app.store.keys, id, purpose).await?.ok_or(Error::NotFound)?;
    cmd.commit().await?;
    Ok(u)
}

/// Read an upload and map it: the encoding and mapping given, else those saved with the upload, else the
/// template's or a guess.
pub async fn read(
    app: &App,
    caller: &Caller,
    u: &Upload,
    encoding: Option<&str>,
    mapping: Option<&str>,
) -> Result<std::result::Result<(Sheet, Mapping), SheetError>> {
    let kind = Kind::from_code(&u.kind).ok_or_else(|| Error::BadRequest("kind".into()))?;
    let enc = encoding.or(u.encoding.as_deref()).unwrap_or("");
    let sheet = match sheet::read(&u.content, Encoding::from_code(enc)) {
        Ok(s) => s,
        Err(e) => return Ok(Err(e)),
    };
    let saved = u.mapping.as_deref().filter(|m| !m.is_empty());
    let mapping = mapping_for(app, &caller.agency.id, kind, &sheet, mapping.or(saved)).await?;
    Ok(Ok((sheet, mapping)))
}

/// An upload read, mapped and checked row by row.
pub struct Checking {
    pub sheet: Sheet,
    pub mapping: Mapping,
    /// The rows ready to write, or every row error.
    pub rows: std::result::Result<Vec<Checked>, Vec<RowError>>,
}

/// Read, map and check every row of an upload with the encoding and mapping given, remembering both.
pub async fn check(
    app: &App,
    caller: &Caller,
    u: &Upload,
    encoding: &str,
    posted: &Mapping,
) -> Result<std::result::Result<Checking, SheetError>> {
    let kind = Kind::from_code(&u.kind).ok_or_else(|| Error::BadRequest("kind".into()))?;
    let (sheet, mapping) = match read(app, caller, u, Some(encoding), Some(&posted.encode())).await? {
        Ok(x) => x,
        Err(e) => return Ok(Err(e)),
    };
    let mut cmd = app.store.command(&caller.actor()).await?;
    imports::set_mapping(&mut cmd, &u.id, Encoding::from_code(encoding).map(|e| e.code()), &mapping.encode()).await?;
    cmd.commit().await?;
    let communes = Communes::load(app).await?;
    let own = own_commune(caller);
    let default_commune = Some(u.target.as_str()).filter(|t| kind == Kind::Absentees && !t.is_empty()).or(own);
    let mut missing = Vec::new();
    if mapping.column("full_name").is_none() {
        missing.push(RowError { row: 1, field: "full_name".into(), key: "error.import_unmapped".into() });
    }
    if kind == Kind::Absentees && mapping.column("commune_code").is_none() && default_commune.is_none() {
        missing.push(RowError { row: 1, field: "commune_code".into(), key: "error.import_unmapped".into() });
    }
    let rows = if missing.is_empty() {
        check_rows(kind, &sheet, &mapping, &Place { communes: &communes, default_commune, only: own }, app.today())
    } else {
        Err(missing)
    };
    Ok(Ok(Checking { sheet, mapping, rows }))
}

/// Whether the caller may follow an import: a pending upload of their own, or a finished import of their
/// agency.
pub async fn may_follow(app: &App, caller: &Caller, id: &str) -> Result<()> {
    if let Some((agency, user)) = app.store.upload_owner(id).await? {
        if agency == caller.agency.id && user == caller.user.id {
            return Ok(());
        }
        return Err(Error::Forbidden);
    }
    match app.store.import(id).await? {
        Some(_) if app.store.import_owner(id).await?.as_deref() == Some(caller.agency.id.as_str()) => Ok(()),
        Some(_) => Err(Error::Forbidden),
        None => Err(Error::NotFound),
    }
}

#[cfg(test)]
mod tests;
