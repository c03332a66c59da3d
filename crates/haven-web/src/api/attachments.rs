//! A person's sealed files (photos, identity documents, other documents): attached by the record's agency, and
//! opened for a stated purpose like the identity, each opening audited. The use cases are
//! `haven_app::persons::{attach, open_attachment}`; the file names are listed by `POST /persons/{id}/identity`.

use axum::extract::{DefaultBodyLimit, Path, Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use haven_app::persons::{self as app, NewFile};
use haven_domain::person::MAX_ATTACHMENT_BYTES;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::persons::PurposeIn;
use super::{answer, Api, Body, FileBytes};
use crate::ctx::{self as guards, read_multipart};
use crate::error::AppResult;
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    let attach =
        OpenApiRouter::new().routes(routes!(attach)).layer(DefaultBodyLimit::max(MAX_ATTACHMENT_BYTES + 64 * 1024));
    OpenApiRouter::new().merge(attach).routes(routes!(open))
}

/// A file for a person's record, as `multipart/form-data`.
#[derive(ToSchema)]
#[allow(dead_code)] // Describes the multipart form; the handler reads the parts themselves.
pub struct AttachmentIn {
    /// `photo`, `id_document` or `document`.
    kind: String,
    /// JPEG, PNG or PDF (read from its bytes, whatever its name says), at most 8 MiB.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

#[derive(Serialize, ToSchema)]
pub struct Attached {
    pub done: bool,
}

/// Attach a file to a record of the caller's agency; it is sealed before it reaches the database.
#[utoipa::path(
    post, path = "/persons/{id}/attachments", tag = "persons", params(("id" = String, Path)),
    request_body(content = AttachmentIn, content_type = "multipart/form-data"),
    responses((status = 201, body = Attached))
)]
async fn attach(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::EditRecords>,
    Path(id): Path<String>,
    req: Request,
) -> AppResult<Response> {
    let (fields, file) = read_multipart(req, &state).await?;
    let kind = fields.iter().find(|(k, _)| k == "kind").map(|(_, v)| v.trim()).unwrap_or("");
    let file = file.as_ref().map(|f| NewFile { file_name: &f.file_name, bytes: &f.bytes });
    let outcome = app::attach(&state, &v, &id, kind, file).await?.map_err(|errors| {
        // The page's form names the field `attachment_kind`; the API's, `kind`.
        errors
            .into_iter()
            .map(|(f, k)| (if f == "attachment_kind" { "kind".to_owned() } else { f }, k))
            .collect::<Vec<_>>()
    });
    answer(&state, &v, outcome, StatusCode::CREATED, |()| async { Ok(Attached { done: true }) }).await
}

/// Open one of a person's files for a purpose (audited): the file itself, as its own type.
#[utoipa::path(
    post, path = "/persons/{id}/attachments/{attachment}", tag = "persons",
    params(("id" = String, Path), ("attachment" = String, Path)), request_body = PurposeIn,
    responses((status = 200, description = "The file", content(
        (FileBytes = "image/jpeg"), (FileBytes = "image/png"), (FileBytes = "application/pdf")
    )))
)]
async fn open(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::ViewIdentity>,
    Path((id, attachment)): Path<(String, String)>,
    Body(p): Body<PurposeIn>,
) -> AppResult<Response> {
    match app::open_attachment(&state, &v, &id, &attachment, &p.purpose).await? {
        Ok(file) => Ok(crate::page::download(&file.file_name, &file.content_type, file.bytes)),
        Err(errors) => Ok(super::invalid(&state, &v, &errors)),
    }
}
