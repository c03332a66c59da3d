//! Spreadsheet imports into the people registers, as the import pages do them: send the file, read how it was
//! understood (encoding, headers, the first rows, the column of each field), check every row with the mapping
//! chosen, then commit all rows or none and follow the work. The use cases are `haven_app::imports`; the
//! commit runs in the background (`crate::jobs`).

use axum::extract::{DefaultBodyLimit, Path, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use haven_app::imports::{self as app, Kind, Mapping, NewFile, Refused, RowError, Uploaded, MAX_FILE_BYTES};
use haven_domain::registers::sheet::{Encoding, Sheet, SheetError};
use haven_store::imports::Upload;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{instant, ok, Api, Body, FieldError, Invalid};
use crate::ctx::{self as guards, read_multipart, Viewer};
use crate::error::{AppError, AppResult};
use crate::jobs::{self, Standing};
use crate::AppState;

/// Rows the preview gives, and row errors a check lists (the count is always whole).
const PREVIEW_ROWS: usize = 5;
const ERRORS_LISTED: usize = 1000;

pub fn routes() -> OpenApiRouter<AppState> {
    let upload = OpenApiRouter::new().routes(routes!(upload)).layer(DefaultBodyLimit::max(MAX_FILE_BYTES + 64 * 1024));
    OpenApiRouter::new()
        .merge(upload)
        .routes(routes!(preview))
        .routes(routes!(check))
        .routes(routes!(commit))
        .routes(routes!(status))
}

/// A spreadsheet for a register of the caller's agency, as `multipart/form-data`.
#[derive(ToSchema)]
#[allow(dead_code)] // Describes the multipart form; the handler reads the parts themselves.
pub struct UploadIn {
    /// `absentees` or `returnees`.
    kind: String,
    /// For `returnees`, the handover batch's id; for `absentees`, a commune's code (`GET /units`), or empty
    /// when a column of the file gives each row's commune.
    target: Option<String>,
    /// A CSV file's text encoding (`utf-8`, `utf-16le`, `utf-16be`, `windows-1258`, `vni`); detected when omitted.
    encoding: Option<String>,
    /// The file: XLSX or CSV, at most 20 MiB.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

/// What an upload became: a new upload to check (`id`), or nothing new because the same file was imported for
/// the same register before (`imported_before`, when).
#[derive(Serialize, ToSchema)]
pub struct UploadOut {
    pub id: Option<String>,
    pub imported_before: Option<String>,
}

/// A field of the register and the column of the file it is read from (`null`: not read).
#[derive(Serialize, Deserialize, ToSchema)]
pub struct ColumnOf {
    /// e.g. `full_name`, `birth_date`, `commune_code` (`fields` of the preview lists them).
    pub field: String,
    /// The column's index, from 0.
    pub column: Option<usize>,
}

/// An upload as it was read and mapped.
#[derive(Serialize, ToSchema)]
pub struct ImportPreview {
    pub id: String,
    pub kind: String,
    pub target: String,
    pub file_name: String,
    /// The text encoding a CSV file was read in.
    pub encoding: Option<String>,
    pub headers: Vec<String>,
    /// The first data rows, as read.
    pub rows: Vec<Vec<String>>,
    pub total_rows: usize,
    /// Every field of the register, with the column chosen: the one saved with the upload, else the one this
    /// agency used for files with the same headers, else a guess from the headers.
    pub mapping: Vec<ColumnOf>,
    pub created_at: String,
}

/// How to read an upload. Omitted parts keep what was chosen last (or detected, or guessed).
#[derive(Deserialize, ToSchema, Default)]
pub struct ReadIn {
    #[serde(default)]
    pub encoding: Option<String>,
    /// The columns of the fields to read; a field left out is not read.
    #[serde(default)]
    pub mapping: Option<Vec<ColumnOf>>,
}

/// One row's problem.
#[derive(Serialize, ToSchema)]
pub struct RowErrorOut {
    /// The row as the spreadsheet numbers it (the header is row 1).
    pub row: usize,
    pub field: String,
    /// The file's own header of the column, when the field is read from one.
    pub column: Option<String>,
    /// A stable code (`date`, `import_commune`, ...).
    pub error: String,
    pub message: String,
}

/// Every row checked: ready to commit (`ready`, the rows to write), or not (`error_count` and the first
/// errors).
#[derive(Serialize, ToSchema)]
pub struct CheckOut {
    pub ready: Option<usize>,
    pub error_count: usize,
    pub errors: Vec<RowErrorOut>,
    pub mapping: Vec<ColumnOf>,
}

/// Where an import stands: `waiting` (not committed), `running`, `done` or `failed` (with why).
#[derive(Serialize, ToSchema)]
pub struct ImportStatus {
    pub state: String,
    pub done: usize,
    pub total: usize,
    pub error: Option<String>,
}

/// 422 for a file that cannot be read, saying where in the file when it can.
fn unreadable(state: &AppState, v: &Viewer, e: &SheetError) -> Response {
    let lang = v.lang();
    let mut message = state.i18n.get(lang, e.key()).to_owned();
    if let Some(place) = e.place() {
        message = format!("{message} ({place})");
    }
    let fields = vec![FieldError { field: "file".into(), error: e.key().trim_start_matches("error.").into(), message }];
    invalid_fields(state, v, fields)
}

fn invalid_fields(state: &AppState, v: &Viewer, fields: Vec<FieldError>) -> Response {
    let body = Invalid {
        error: "validation".into(),
        message: state.i18n.get(v.lang(), "form.error_summary").to_owned(),
        fields,
        request_id: v.request_id.clone(),
    };
    (StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response()
}

/// Send a spreadsheet for the caller's agency's absentees or the people of one of its handover batches. It
/// is kept sealed, unread by anyone else, until it is committed.
#[utoipa::path(
    post, path = "/imports", tag = "registers",
    request_body(content = UploadIn, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "A new upload to check", body = UploadOut),
        (status = 200, description = "The same file was imported for this register before: nothing new", body = UploadOut),
    )
)]
async fn upload(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::CreateRecords>,
    req: Request,
) -> AppResult<Response> {
    let (fields, file) = read_multipart(req, &state).await?;
    let field = |name: &str| fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim()).unwrap_or("");
    let Some(kind) = Kind::from_code(field("kind")) else {
        return Ok(super::invalid(&state, &v, &[("kind".into(), "error.choice".into())]));
    };
    let encoding = field("encoding");
    if !encoding.is_empty() && Encoding::from_code(encoding).is_none() {
        return Ok(super::invalid(&state, &v, &[("encoding".into(), "error.choice".into())]));
    }
    let file = file.as_ref().map(|f| NewFile { file_name: &f.file_name, bytes: &f.bytes, encoding });
    match app::upload(&state, &v, file, kind, field("target")).await? {
        Ok(Uploaded::New(id)) => {
            Ok((StatusCode::CREATED, Json(UploadOut { id: Some(id), imported_before: None })).into_response())
        }
        Ok(Uploaded::Earlier(at)) => Ok(ok(UploadOut { id: None, imported_before: Some(instant(at)) })),
        Err(Refused::Fields(errors)) => Ok(super::invalid(&state, &v, &errors)),
        Err(Refused::Sheet(e)) => Ok(unreadable(&state, &v, &e)),
    }
}

fn kind_of(u: &Upload) -> AppResult<Kind> {
    Kind::from_code(&u.kind).ok_or_else(|| AppError::Internal(anyhow::anyhow!("upload of unknown kind")))
}

fn columns(kind: Kind, mapping: &Mapping) -> Vec<ColumnOf> {
    kind.fields().iter().map(|f| ColumnOf { field: (*f).to_owned(), column: mapping.column(f) }).collect()
}

/// An upload of the caller's, read as chosen so far.
#[utoipa::path(get, path = "/imports/{id}", tag = "registers", params(("id" = String, Path)), responses((status = 200, body = ImportPreview)))]
async fn preview(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::CreateRecords>,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let u = app::open_own(&state, &v, &id, "import_preview").await?;
    let kind = kind_of(&u)?;
    let (sheet, mapping) = match app::read(&state, &v, &u, None, None).await? {
        Ok(x) => x,
        Err(e) => return Ok(unreadable(&state, &v, &e)),
    };
    Ok(ok(ImportPreview {
        kind: kind.code().to_owned(),
        target: u.target.clone(),
        file_name: u.file_name.clone(),
        encoding: sheet.encoding.map(|e| e.code().to_owned()),
        rows: sheet.rows.iter().take(PREVIEW_ROWS).cloned().collect(),
        total_rows: sheet.rows.len(),
        mapping: columns(kind, &mapping),
        headers: sheet.headers,
        created_at: instant(u.created_at),
        id: u.id,
    }))
}

/// An upload read and checked with the encoding and mapping asked for (both remembered), or the reason why not.
struct Checking {
    sheet: Sheet,
    mapping: Mapping,
    rows: Result<Vec<app::Checked>, Vec<RowError>>,
}

async fn check_upload(
    state: &AppState,
    v: &Viewer,
    u: &Upload,
    asked: ReadIn,
) -> AppResult<Result<Checking, Response>> {
    let kind = kind_of(u)?;
    let encoding = match asked.encoding.as_deref().map(str::trim) {
        None => u.encoding.clone().unwrap_or_default(),
        Some("") => String::new(),
        Some(code) => match Encoding::from_code(code) {
            Some(e) => e.code().to_owned(),
            None => return Ok(Err(super::invalid(state, v, &[("encoding".into(), "error.choice".into())]))),
        },
    };
    // Each field chosen, with its place in the request to name it in an error.
    let mut chosen: Vec<(usize, String, usize)> = Vec::new();
    let posted = match asked.mapping {
        Some(columns) => {
            let mut seen = Vec::new();
            for (i, c) in columns.into_iter().enumerate() {
                if !kind.fields().contains(&c.field.as_str()) || seen.contains(&c.field) {
                    let field = format!("mapping.{i}.field");
                    return Ok(Err(super::invalid(state, v, &[(field, "error.choice".into())])));
                }
                seen.push(c.field.clone());
                if let Some(col) = c.column {
                    chosen.push((i, c.field, col));
                }
            }
            Mapping(chosen.iter().map(|(_, f, col)| (f.clone(), *col)).collect())
        }
        None => match app::read(state, v, u, Some(encoding.as_str()), None).await? {
            Ok((_, mapping)) => mapping,
            Err(e) => return Ok(Err(unreadable(state, v, &e))),
        },
    };
    let checking = match app::check(state, v, u, &encoding, &posted).await? {
        Ok(c) => c,
        Err(e) => return Ok(Err(unreadable(state, v, &e))),
    };
    // A column the file does not have is dropped by the reader; the API says so instead.
    if let Some((i, ..)) = chosen.iter().find(|(_, f, _)| checking.mapping.column(f).is_none()) {
        let field = format!("mapping.{i}.column");
        return Ok(Err(super::invalid(state, v, &[(field, "error.choice".into())])));
    }
    Ok(Ok(Checking { sheet: checking.sheet, mapping: checking.mapping, rows: checking.rows }))
}

fn row_errors(state: &AppState, v: &Viewer, sheet: &Sheet, mapping: &Mapping, errors: &[RowError]) -> Vec<RowErrorOut> {
    errors
        .iter()
        .take(ERRORS_LISTED)
        .map(|e| RowErrorOut {
            row: e.row,
            field: e.field.clone(),
            column: mapping.column(&e.field).and_then(|c| sheet.headers.get(c).cloned()),
            error: e.key.trim_start_matches("error.").to_owned(),
            message: state.i18n.get(v.lang(), &e.key).to_owned(),
        })
        .collect()
}

/// Check every row with the encoding and mapping given (remembered for the next step). Row errors are the
/// answer, not a failure: nothing is written either way.
#[utoipa::path(
    post, path = "/imports/{id}/check", tag = "registers", params(("id" = String, Path)),
    request_body = ReadIn, responses((status = 200, body = CheckOut))
)]
async fn check(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::CreateRecords>,
    Path(id): Path<String>,
    Body(asked): Body<ReadIn>,
) -> AppResult<Response> {
    let u = app::open_own(&state, &v, &id, "import_check").await?;
    let kind = kind_of(&u)?;
    let c = match check_upload(&state, &v, &u, asked).await? {
        Ok(c) => c,
        Err(refused) => return Ok(refused),
    };
    let mapping = columns(kind, &c.mapping);
    Ok(ok(match &c.rows {
        Ok(rows) => CheckOut { ready: Some(rows.len()), error_count: 0, errors: Vec::new(), mapping },
        Err(errors) => CheckOut {
            ready: None,
            error_count: errors.len(),
            errors: row_errors(&state, &v, &c.sheet, &c.mapping, errors),
            mapping,
        },
    }))
}

/// Write every row in one transaction, in the background: all or none. Refused (422, each row's errors as
/// `rows.ROW.FIELD`) while any row has an error. Follow it with `GET /imports/{id}/status`.
#[utoipa::path(
    post, path = "/imports/{id}/commit", tag = "registers", params(("id" = String, Path)),
    request_body = ReadIn, responses((status = 202, body = ImportStatus))
)]
async fn commit(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::CreateRecords>,
    Path(id): Path<String>,
    Body(asked): Body<ReadIn>,
) -> AppResult<Response> {
    let u = app::open_own(&state, &v, &id, "import_commit").await?;
    let c = match check_upload(&state, &v, &u, asked).await? {
        Ok(c) => c,
        Err(refused) => return Ok(refused),
    };
    let rows = match c.rows {
        Ok(rows) => rows,
        Err(errors) => {
            let fields = row_errors(&state, &v, &c.sheet, &c.mapping, &errors)
                .into_iter()
                .map(|e| FieldError {
                    field: format!("rows.{}.{}", e.row, e.field),
                    error: e.error,
                    message: e.message,
                })
                .collect();
            return Ok(invalid_fields(&state, &v, fields));
        }
    };
    jobs::start(&state, &v, u, c.sheet, c.mapping, rows).await?;
    let (st, p) = jobs::standing(&state, &id).await?;
    Ok((StatusCode::ACCEPTED, Json(status_out(&state, &v, st, &p))).into_response())
}

fn status_out(state: &AppState, v: &Viewer, st: Standing, p: &jobs::Progress) -> ImportStatus {
    let error = match &p.ended {
        Some(Err(key)) => Some(state.i18n.get(v.lang(), key).to_owned()),
        _ => None,
    };
    ImportStatus { state: st.code().to_owned(), done: p.done, total: p.total, error }
}

/// Where an import stands: one of the caller's uploads, or an import of the caller's agency.
#[utoipa::path(get, path = "/imports/{id}/status", tag = "registers", params(("id" = String, Path)), responses((status = 200, body = ImportStatus)))]
async fn status(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::CreateRecords>,
    Path(id): Path<String>,
) -> AppResult<Response> {
    app::may_follow(&state, &v, &id).await?;
    let (st, p) = jobs::standing(&state, &id).await?;
    Ok(ok(status_out(&state, &v, st, &p)))
}
