//! The import pages: upload a spreadsheet, see it read (encoding, headers, the first rows), map its columns to
//! the register's fields (remembered per template), check every row with a downloadable error report, then
//! commit all rows or none while a progress bar follows the work. The use cases are `haven_app::imports`.

use askama::Template;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use haven_app::imports::{
    self as app, error_report, Kind, Mapping, NewFile, Refused, RowError, Uploaded, MAX_FILE_BYTES,
};
use haven_domain::registers::sheet::{self, Encoding, Sheet};
use haven_store::imports::Upload;
use serde::Deserialize;

use crate::ctx::{self as guards, Can, CsrfForm, CsrfUpload, Viewer};
use crate::error::{AppError, AppResult};
use crate::page::{ok, render, Ctx, FormState};
use crate::AppState;
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

/// The upload form, offering the communes the viewer may import into.
#[allow(clippy::too_many_arguments)]
async fn upload_page(
    state: &AppState,
    viewer: &Viewer,
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
        communes: haven_app::registers::absentees::communes_for(state, viewer).await?,
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
        haven_app::registers::handovers::visible_batch(&state, &viewer, &q.batch)
            .await
            .and_then(|b| haven_app::access::require_owner(&viewer, &b.owner_agency_id))?;
    }
    upload_page(&state, &viewer, c, kind, q.batch, FormState::default(), None, StatusCode::OK).await
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
        Kind::Returnees => form.field("batch").to_owned(),
        Kind::Absentees => form.field("commune_code").trim().to_owned(),
    };
    let file = form.file.as_ref().map(|f| NewFile {
        file_name: &f.file_name,
        bytes: &f.bytes,
        encoding: form.field("encoding"),
    });
    let mut f = FormState::from_pairs(&form.fields);
    match app::upload(&state, &viewer, file, kind, &target).await? {
        Ok(Uploaded::New(id)) => Ok(Redirect::to(&format!("/imports/{id}")).into_response()),
        Ok(Uploaded::Earlier(at)) => {
            // The same file again: nothing new is created, and the page says when it came in.
            let when = c.date_time(&at);
            upload_page(&state, &viewer, c, kind, batch_of(kind, &target), f, Some(when), StatusCode::OK).await
        }
        Err(refused) => {
            match refused {
                Refused::Fields(errors) => f.errors = errors,
                Refused::Sheet(e) => sheet_error(&mut f, &e),
            }
            upload_page(&state, &viewer, c, kind, batch_of(kind, &target), f, None, StatusCode::UNPROCESSABLE_ENTITY)
                .await
        }
    }
}

fn batch_of(kind: Kind, target: &str) -> String {
    if kind == Kind::Returnees {
        target.to_owned()
    } else {
        String::new()
    }
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

async fn preview(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::CreateRecords>,
    c: Ctx,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let u = app::open_own(&state, &viewer, &id, "import_preview").await?;
    let kind = Kind::from_code(&u.kind).ok_or_else(|| AppError::BadRequest("kind".into()))?;
    match app::read(&state, &viewer, &u, None, None).await? {
        Ok((sheet, mapping)) => Ok(ok(&preview_page(c, &u, kind, &Checked { sheet, mapping, result: None }))),
        Err(e) => {
            let mut f = FormState::default();
            sheet_error(&mut f, &e);
            upload_page(&state, &viewer, c, kind, batch_of(kind, &u.target), f, None, StatusCode::UNPROCESSABLE_ENTITY)
                .await
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

/// Read, map and check every row of an upload with the posted encoding and mapping, remembering both: what
/// the preview shows, and the rows ready to write when every one is.
async fn check_upload(
    state: &AppState,
    viewer: &Viewer,
    u: &Upload,
    pairs: &[(String, String)],
) -> AppResult<Result<(Checked, Option<Vec<app::Checked>>), sheet::SheetError>> {
    let kind = Kind::from_code(&u.kind).ok_or_else(|| AppError::BadRequest("kind".into()))?;
    let posted = posted_mapping(kind, pairs);
    let checking = match app::check(state, viewer, u, value(pairs, "encoding"), &posted).await? {
        Ok(x) => x,
        Err(e) => return Ok(Err(e)),
    };
    let (sheet, mapping) = (checking.sheet, checking.mapping);
    Ok(Ok(match checking.rows {
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
    let u = app::open_own(&state, &viewer, &id, "import_check").await?;
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
            upload_page(&state, &viewer, c, kind, batch_of(kind, &u.target), f, None, StatusCode::UNPROCESSABLE_ENTITY)
                .await
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
    let u = app::open_own(&state, &viewer, &id, "import_report").await?;
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
    let u = app::open_own(&state, &viewer, &id, "import_commit").await?;
    let kind = Kind::from_code(&u.kind).ok_or_else(|| AppError::BadRequest("kind".into()))?;
    let (chk, rows) = match check_upload(&state, &viewer, &u, &pairs).await? {
        Ok(x) => x,
        Err(e) => {
            let mut f = FormState::default();
            sheet_error(&mut f, &e);
            return upload_page(
                &state,
                &viewer,
                c,
                kind,
                batch_of(kind, &u.target),
                f,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    let Some(rows) = rows else {
        return Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &preview_page(c, &u, kind, &chk)));
    };
    crate::jobs::start(&state, &viewer, u, chk.sheet, chk.mapping, rows).await?;
    Ok(Redirect::to(&format!("/imports/{id}/progress")).into_response())
}

#[derive(Template)]
#[template(path = "import_progress.html")]
struct ProgressPage {
    c: Ctx,
    id: String,
    state: &'static str,
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
    app::may_follow(&state, &viewer, &id).await?;
    let (st, p) = crate::jobs::standing(&state, &id).await?;
    let error = match &p.ended {
        Some(Err(key)) => Some(c.t(key).to_owned()),
        _ => None,
    };
    Ok(ok(&ProgressPage { c, id, state: st.code(), done: p.done, total: p.total, error }))
}

async fn status(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::CreateRecords>,
    Path(id): Path<String>,
) -> AppResult<Response> {
    app::may_follow(&state, &viewer, &id).await?;
    let (st, p) = crate::jobs::standing(&state, &id).await?;
    Ok(Json(serde_json::json!({ "state": st.code(), "done": p.done, "total": p.total })).into_response())
}
