//! The import pages: upload a spreadsheet, see it read (encoding, headers, the first rows), map its columns to
//! the register's fields (remembered per template), check every row with a downloadable error report, then
//! commit all rows or none while a progress bar follows the work.

use askama::Template;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use haven_domain::registers::sheet::{self, Encoding, Sheet};
use haven_store::imports::{self, NewUpload, Upload};
use serde::Deserialize;

use crate::ctx::{self as guards, Can, CsrfForm, CsrfUpload, Viewer};
use crate::error::{AppError, AppResult};
use crate::imports::{check_rows, commit, error_report, mapping_for, Committed, Communes, Kind, Mapping, RowError};
use crate::page::{ok, render, Ctx, FormState};
use crate::pages::reports::today;
use crate::AppState;

/// Largest spreadsheet accepted.
pub const MAX_FILE_BYTES: usize = 20 * 1024 * 1024;
/// Rows shown in the preview, and errors listed on the page (the report has them all).
const PREVIEW_ROWS: usize = 5;
const ERRORS_SHOWN: usize = 100;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/imports", get(upload_form).post(upload).layer(DefaultBodyLimit::max(MAX_FILE_BYTES + 64 * 1024)))
        .route("/imports/{id}", get(preview))
        .route("/imports/{id}/check", post(check))
        .route("/imports/{id}/report", post(report))
        .route("/imports/{id}/commit", post(start_commit))
        .route("/imports/{id}/progress", get(progress_page))
        .route("/imports/{id}/status", get(status))
}

/// An import running in this process.
#[derive(Clone, Debug, Default)]
pub struct Progress {
    pub done: usize,
    pub total: usize,
    /// Set when it ended: rows written, or the key of what stopped it.
    pub ended: Option<Result<usize, String>>,
}

#[derive(Deserialize, Default)]
struct UploadQuery {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    batch: String,
}

#[derive(Template)]
#[template(path = "import_upload.html")]
struct UploadPage {
    c: Ctx,
    f: FormState,
    kind: &'static str,
    batch: String,
    communes: Vec<(String, String)>,
    encodings: Vec<&'static str>,
    previous: Option<String>,
}

async fn upload_page(
    state: &AppState,
    c: Ctx,
    kind: Kind,
    batch: String,
    f: FormState,
    previous: Option<String>,
    status: StatusCode,
) -> AppResult<Response> {
    let page = UploadPage {
        c,
        f,
        kind: kind.code(),
        batch,
        communes: state.store.communes(&state.config.province).await?,
        encodings: Encoding::ALL.iter().map(|e| e.code()).collect(),
        previous,
    };
    Ok(render(status, &page))
}

async fn upload_form(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::CreateRecords>,
    c: Ctx,
    Query(q): Query<UploadQuery>,
) -> AppResult<Response> {
    let kind = Kind::from_code(&q.kind).unwrap_or(Kind::Absentees);
    if kind == Kind::Returnees {
        own_batch(&state, &viewer, &q.batch).await?;
    }
    upload_page(&state, c, kind, q.batch, FormState::default(), None, StatusCode::OK).await
}

/// The batch, when it is the viewer's agency's.
async fn own_batch(state: &AppState, viewer: &Viewer, id: &str) -> AppResult<()> {
    let b = state.store.batch(id).await?.ok_or(AppError::NotFound)?;
    if b.owner_agency_id != viewer.agency.id {
        return Err(AppError::Forbidden);
    }
    Ok(())
}

/// Read a sheet in the encoding chosen ("" or "auto": detected).
fn read_sheet(bytes: &[u8], encoding: &str) -> Result<Sheet, sheet::SheetError> {
    sheet::read(bytes, Encoding::from_code(encoding))
}

fn sheet_error(f: &mut FormState, e: &sheet::SheetError) {
    f.add("file", e.key());
    if let Some(place) = e.place() {
        f.values.push(("place".into(), place.to_owned()));
    }
}

async fn upload(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::CreateRecords>,
    c: Ctx,
    form: CsrfUpload,
) -> AppResult<Response> {
    let kind = Kind::from_code(form.field("kind")).ok_or_else(|| AppError::BadRequest("kind".into()))?;
    let target = match kind {
        Kind::Returnees => {
            let batch = form.field("batch").to_owned();
            own_batch(&state, &viewer, &batch).await?;
            batch
        }
        Kind::Absentees => form.field("commune_code").trim().to_owned(),
    };
    let mut f = FormState::from_pairs(&form.fields);
    if kind == Kind::Absentees && !target.is_empty() && !state.store.unit_exists(&target).await? {
        f.add("commune_code", "error.choice");
    }
    let Some(file) = form.file.as_ref() else {
        f.add("file", "error.file_missing");
        return upload_page(&state, c, kind, batch_of(kind, &target), f, None, StatusCode::UNPROCESSABLE_ENTITY).await;
    };
    if let Err(e) = read_sheet(&file.bytes, form.field("encoding")) {
        sheet_error(&mut f, &e);
    }
    if f.has_errors() {
        return upload_page(&state, c, kind, batch_of(kind, &target), f, None, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let hash = imports::file_hash(&state.store.keys, &file.bytes);
    if let Some(earlier) = state.store.import_of_file(&viewer.agency.id, kind.code(), &target, &hash).await? {
        // The same file again: nothing new is created, and the page says when it came in.
        let when = c.date_time(&earlier.created_at);
        return upload_page(&state, c, kind, batch_of(kind, &target), f, Some(when), StatusCode::OK).await;
    }
    let mut cmd = state.store.command(&viewer.actor()).await?;
    let id = imports::save_upload(
        &mut cmd,
        &state.store.keys,
        &viewer.agency.id,
        &NewUpload {
            kind: kind.code(),
            target: &target,
            file_name: &file.file_name,
            bytes: &file.bytes,
            file_hash: &hash,
        },
    )
    .await?;
    if let Some(enc) = Encoding::from_code(form.field("encoding")) {
        imports::set_mapping(&mut cmd, &id, Some(enc.code()), "").await?;
    }
    cmd.commit().await?;
    Ok(Redirect::to(&format!("/imports/{id}")).into_response())
}

fn batch_of(kind: Kind, target: &str) -> String {
    if kind == Kind::Returnees {
        target.to_owned()
    } else {
        String::new()
    }
}

/// Open the viewer's own pending upload (audited with the step's purpose).
async fn open_own(state: &AppState, viewer: &Viewer, id: &str, purpose: &str) -> AppResult<Upload> {
    let (agency, user) = state.store.upload_owner(id).await?.ok_or(AppError::NotFound)?;
    if agency != viewer.agency.id || user != viewer.user.id {
        return Err(AppError::Forbidden);
    }
    let mut cmd = state.store.command(&viewer.actor()).await?;
    let u = imports::open_upload(&mut cmd, &state.store.keys, id, purpose).await?.ok_or(AppError::NotFound)?;
    cmd.commit().await?;
    Ok(u)
}

/// One field of the mapping form: the field, its label key and the column chosen.
pub struct MapLine {
    pub field: &'static str,
    pub column: Option<usize>,
}

impl MapLine {
    /// Whether the field is mapped to this column (templates pass the loop index by value or by reference).
    pub fn is(&self, col: impl std::borrow::Borrow<usize>) -> bool {
        self.column == Some(*col.borrow())
    }
}

#[derive(Template)]
#[template(path = "import_preview.html")]
struct PreviewPage {
    c: Ctx,
    id: String,
    file_name: String,
    kind: &'static str,
    encoding: String,
    encodings: Vec<&'static str>,
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
    total: usize,
    map: Vec<MapLine>,
    /// After a check: the errors shown (first ones) and their number; or the rows ready.
    errors: Vec<(usize, String, String)>,
    error_count: usize,
    ready: Option<usize>,
}

struct Checked {
    sheet: Sheet,
    mapping: Mapping,
    result: Option<Result<usize, Vec<RowError>>>,
}

fn preview_page(c: Ctx, u: &Upload, kind: Kind, chk: &Checked) -> PreviewPage {
    let errors: Vec<RowError> = match &chk.result {
        Some(Err(e)) => e.clone(),
        _ => Vec::new(),
    };
    let label = |e: &RowError| {
        chk.mapping
            .column(&e.field)
            .and_then(|col| chk.sheet.headers.get(col).cloned())
            .unwrap_or_else(|| c.t(&format!("imports.field.{}", e.field)).to_owned())
    };
    let shown = errors.iter().take(ERRORS_SHOWN).map(|e| (e.row, label(e), c.t(&e.key).to_owned())).collect();
    PreviewPage {
        id: u.id.clone(),
        file_name: u.file_name.clone(),
        kind: kind.code(),
        encoding: chk.sheet.encoding.map(|e| e.code().to_owned()).unwrap_or_default(),
        encodings: Encoding::ALL.iter().map(|e| e.code()).collect(),
        headers: chk.sheet.headers.clone(),
        rows: chk.sheet.rows.iter().take(PREVIEW_ROWS).cloned().collect(),
        total: chk.sheet.rows.len(),
        map: kind.fields().iter().map(|field| MapLine { field, column: chk.mapping.column(field) }).collect(),
        errors: shown,
        error_count: errors.len(),
        ready: match &chk.result {
            Some(Ok(n)) => Some(*n),
            _ => None,
        },
        c,
    }
}

/// Read an upload and map it: the encoding and mapping given, else those saved with the upload, else the
/// template's or a guess.
async fn read_upload(
    state: &AppState,
    viewer: &Viewer,
    u: &Upload,
    encoding: Option<&str>,
    mapping: Option<&str>,
) -> AppResult<Result<(Sheet, Mapping), sheet::SheetError>> {
    let kind = Kind::from_code(&u.kind).ok_or_else(|| AppError::BadRequest("kind".into()))?;
    let enc = encoding.or(u.encoding.as_deref()).unwrap_or("");
    let sheet = match read_sheet(&u.content, enc) {
        Ok(s) => s,
        Err(e) => return Ok(Err(e)),
    };
    let saved = u.mapping.as_deref().filter(|m| !m.is_empty());
    let mapping = mapping_for(state, &viewer.agency.id, kind, &sheet, mapping.or(saved)).await?;
    Ok(Ok((sheet, mapping)))
}

async fn preview(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::CreateRecords>,
    c: Ctx,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let u = open_own(&state, &viewer, &id, "import_preview").await?;
    let kind = Kind::from_code(&u.kind).ok_or_else(|| AppError::BadRequest("kind".into()))?;
    match read_upload(&state, &viewer, &u, None, None).await? {
        Ok((sheet, mapping)) => Ok(ok(&preview_page(c, &u, kind, &Checked { sheet, mapping, result: None }))),
        Err(e) => {
            let mut f = FormState::default();
            sheet_error(&mut f, &e);
            upload_page(&state, c, kind, batch_of(kind, &u.target), f, None, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

/// The mapping as the form posts it: `map.<field>` = column number, or empty for none.
fn posted_mapping(kind: Kind, pairs: &[(String, String)]) -> Mapping {
    Mapping(
        kind.fields()
            .iter()
            .filter_map(|f| {
                let key = format!("map.{f}");
                let col = pairs.iter().find(|(k, _)| *k == key)?.1.parse().ok()?;
                Some(((*f).to_owned(), col))
            })
            .collect(),
    )
}

fn value<'a>(pairs: &'a [(String, String)], key: &str) -> &'a str {
    pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str()).unwrap_or("")
}

/// Read, map and check every row of an upload with the posted encoding and mapping, remembering both.
async fn check_upload(
    state: &AppState,
    viewer: &Viewer,
    u: &Upload,
    pairs: &[(String, String)],
) -> AppResult<Result<(Checked, Option<Vec<crate::imports::Checked>>), sheet::SheetError>> {
    let kind = Kind::from_code(&u.kind).ok_or_else(|| AppError::BadRequest("kind".into()))?;
    let enc = value(pairs, "encoding");
    let posted = posted_mapping(kind, pairs);
    let (sheet, mapping) = match read_upload(state, viewer, u, Some(enc), Some(&posted.encode())).await? {
        Ok(x) => x,
        Err(e) => return Ok(Err(e)),
    };
    let mut cmd = state.store.command(&viewer.actor()).await?;
    imports::set_mapping(&mut cmd, &u.id, Encoding::from_code(enc).map(|e| e.code()), &mapping.encode()).await?;
    cmd.commit().await?;
    let communes = Communes::load(state).await?;
    let default_commune = Some(u.target.as_str()).filter(|t| kind == Kind::Absentees && !t.is_empty());
    let mut missing = Vec::new();
    if mapping.column("full_name").is_none() {
        missing.push(RowError { row: 1, field: "full_name".into(), key: "error.import_unmapped".into() });
    }
    if kind == Kind::Absentees && mapping.column("commune_code").is_none() && default_commune.is_none() {
        missing.push(RowError { row: 1, field: "commune_code".into(), key: "error.import_unmapped".into() });
    }
    let result = if missing.is_empty() {
        check_rows(kind, &sheet, &mapping, &communes, default_commune, today(state))
    } else {
        Err(missing)
    };
    Ok(Ok(match result {
        Ok(rows) => (Checked { sheet, mapping, result: Some(Ok(rows.len())) }, Some(rows)),
        Err(e) => (Checked { sheet, mapping, result: Some(Err(e)) }, None),
    }))
}

#[derive(Deserialize)]
struct AnyForm {}

async fn check(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::CreateRecords>,
    c: Ctx,
    Path(id): Path<String>,
    CsrfForm(_, pairs): CsrfForm<AnyForm>,
) -> AppResult<Response> {
    let u = open_own(&state, &viewer, &id, "import_check").await?;
    let kind = Kind::from_code(&u.kind).ok_or_else(|| AppError::BadRequest("kind".into()))?;
    match check_upload(&state, &viewer, &u, &pairs).await? {
        Ok((chk, _)) => {
            let status =
                if matches!(chk.result, Some(Err(_))) { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
            Ok(render(status, &preview_page(c, &u, kind, &chk)))
        }
        Err(e) => {
            let mut f = FormState::default();
            sheet_error(&mut f, &e);
            upload_page(&state, c, kind, batch_of(kind, &u.target), f, None, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

/// The row-error report as a CSV file in the user's language.
async fn report(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::CreateRecords>,
    c: Ctx,
    Path(id): Path<String>,
    CsrfForm(_, pairs): CsrfForm<AnyForm>,
) -> AppResult<Response> {
    let u = open_own(&state, &viewer, &id, "import_report").await?;
    let Ok((chk, _)) = check_upload(&state, &viewer, &u, &pairs).await? else {
        return Err(AppError::BadRequest("file".into()));
    };
    let errors = match chk.result {
        Some(Err(e)) => e,
        _ => Vec::new(),
    };
    let body = error_report(&errors, &chk.sheet, &chk.mapping, |k| c.t(k).to_owned());
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"loi-nhap-lieu.csv\"".to_owned()),
        ],
        body,
    )
        .into_response())
}

/// Start the commit in the background (one transaction) and show its progress.
async fn start_commit(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::CreateRecords>,
    c: Ctx,
    Path(id): Path<String>,
    CsrfForm(_, pairs): CsrfForm<AnyForm>,
) -> AppResult<Response> {
    let u = open_own(&state, &viewer, &id, "import_commit").await?;
    let kind = Kind::from_code(&u.kind).ok_or_else(|| AppError::BadRequest("kind".into()))?;
    let (chk, rows) = match check_upload(&state, &viewer, &u, &pairs).await? {
        Ok(x) => x,
        Err(e) => {
            let mut f = FormState::default();
            sheet_error(&mut f, &e);
            return upload_page(&state, c, kind, batch_of(kind, &u.target), f, None, StatusCode::UNPROCESSABLE_ENTITY)
                .await;
        }
    };
    let Some(rows) = rows else {
        return Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &preview_page(c, &u, kind, &chk)));
    };
    {
        let mut running = state.imports.lock().map_err(|_| AppError::Internal(anyhow::anyhow!("import lock")))?;
        if running.get(&id).is_some_and(|p| p.ended.is_none()) {
            return Ok(Redirect::to(&format!("/imports/{id}/progress")).into_response());
        }
        running.insert(id.clone(), Progress { done: 0, total: rows.len(), ended: None });
    }
    let task_state = state.clone();
    tokio::spawn(async move {
        let progress_state = task_state.clone();
        let key = u.id.clone();
        let report = move |done: usize, total: usize| {
            if let Ok(mut m) = progress_state.imports.lock() {
                m.insert(key.clone(), Progress { done, total, ended: None });
            }
        };
        let result = commit(&task_state, &viewer, &u, &chk.sheet, &chk.mapping, rows, &report).await;
        let ended = match result {
            Ok(Committed::Done(n)) => Ok(n),
            Ok(Committed::AlreadyImported) => Err("error.import_again".to_owned()),
            Err(e) => {
                tracing::error!(error = ?e, "import failed");
                Err("error.import_failed".to_owned())
            }
        };
        if let Ok(mut m) = task_state.imports.lock() {
            let entry = m.entry(u.id.clone()).or_default();
            entry.ended = Some(ended);
        }
    });
    Ok(Redirect::to(&format!("/imports/{id}/progress")).into_response())
}

/// Where an import stands: running here, ended (the `imports` row, or the error this process kept), or not
/// started.
async fn standing(state: &AppState, id: &str) -> AppResult<(String, Progress)> {
    let mem = state.imports.lock().ok().and_then(|m| m.get(id).cloned());
    if let Some(p) = &mem {
        match &p.ended {
            None => return Ok(("running".into(), p.clone())),
            Some(Err(_)) => return Ok(("failed".into(), p.clone())),
            Some(Ok(_)) => {}
        }
    }
    if let Some(done) = state.store.import(id).await? {
        let n = done.rows_created as usize;
        return Ok(("done".into(), Progress { done: n, total: n, ended: Some(Ok(n)) }));
    }
    Ok(("waiting".into(), mem.unwrap_or_default()))
}

/// The viewer may follow an import of their own agency: a pending upload of theirs, or a finished import.
async fn may_follow(state: &AppState, viewer: &Viewer, id: &str) -> AppResult<()> {
    if let Some((agency, user)) = state.store.upload_owner(id).await? {
        if agency == viewer.agency.id && user == viewer.user.id {
            return Ok(());
        }
        return Err(AppError::Forbidden);
    }
    match state.store.import(id).await? {
        Some(_) if state.store.import_owner(id).await?.as_deref() == Some(viewer.agency.id.as_str()) => Ok(()),
        Some(_) => Err(AppError::Forbidden),
        None => Err(AppError::NotFound),
    }
}

#[derive(Template)]
#[template(path = "import_progress.html")]
struct ProgressPage {
    c: Ctx,
    id: String,
    state: String,
    done: usize,
    total: usize,
    error: Option<String>,
}

async fn progress_page(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::CreateRecords>,
    c: Ctx,
    Path(id): Path<String>,
) -> AppResult<Response> {
    may_follow(&state, &viewer, &id).await?;
    let (st, p) = standing(&state, &id).await?;
    let error = match &p.ended {
        Some(Err(key)) => Some(c.t(key).to_owned()),
        _ => None,
    };
    Ok(ok(&ProgressPage { c, id, state: st, done: p.done, total: p.total, error }))
}

async fn status(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::CreateRecords>,
    Path(id): Path<String>,
) -> AppResult<Response> {
    may_follow(&state, &viewer, &id).await?;
    let (st, p) = standing(&state, &id).await?;
    Ok(Json(serde_json::json!({ "state": st, "done": p.done, "total": p.total })).into_response())
}
