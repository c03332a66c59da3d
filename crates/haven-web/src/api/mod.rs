//! The JSON API under `/api/v1`, for scripts and integrations: one module per capability, each handler a thin
//! adapter over the same `haven_app` use case the pages call, with the same permissions and field errors. It
//! accepts API tokens only (never the session cookie, so a page cannot be tricked into calling it) and
//! answers errors as JSON in the caller's language.
//!
//! The router and the OpenAPI document are built together from the handlers' `#[utoipa::path]` annotations
//! ([`router`]), so the document lists exactly the routes served; requests and answers are the API's own
//! types (`*In`, `*Out`), with codes for enumerations, ISO dates and instants, and ids.

pub mod admin;
pub mod attachments;
pub mod care;
pub mod cases;
pub mod cooperation;
pub mod directory;
pub mod governance;
pub mod handovers;
pub mod identification;
pub mod imports;
pub mod matches;
pub mod persons;
pub mod plan;
pub mod plan_report;
pub mod prevention;
pub mod referrals;
pub mod registers;
pub mod reports;
pub mod sharing;
pub mod statistics;
pub mod victims;

use std::marker::PhantomData;

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{OpenApi as Document, RefOr};
use utoipa::{IntoParams, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;

use crate::ctx::{Can, Permission, Viewer};
use crate::error::{AppError, AppResult};
use crate::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Haven",
        version = "1",
        description = "Haven's JSON API. Authenticate with `Authorization: Bearer TOKEN` (from `haven user token NAME`); \
                       a token carries its user's permissions. Lists page on with a cursor: pass the answer's `next` as \
                       `after`. Dates are `YYYY-MM-DD` (local days in Viet Nam), instants RFC 3339 in UTC. Agencies are \
                       named by id (`GET /agencies`), administrative units by code (`GET /units`)."
    ),
    servers((url = "/api/v1")),
    security(("token" = [])),
    modifiers(&Conventions),
    components(schemas(ErrorBody, Invalid, FieldError))
)]
struct ApiDoc;

/// The router of the API and its OpenAPI document, built from the same handlers.
pub fn router() -> (Router<AppState>, Document) {
    let api = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(directory::routes())
        .merge(persons::routes())
        .merge(attachments::routes())
        .merge(reports::routes())
        .merge(cases::routes())
        .merge(victims::routes())
        .merge(care::routes())
        .merge(handovers::routes())
        .merge(identification::routes())
        .merge(referrals::routes())
        .merge(registers::routes())
        .merge(imports::routes())
        .merge(matches::routes())
        .merge(plan::routes())
        .merge(plan_report::routes())
        .merge(prevention::routes())
        .merge(cooperation::routes())
        .merge(sharing::routes())
        .merge(governance::routes())
        .merge(statistics::routes())
        .merge(admin::routes());
    let (router, mut doc) = api.split_for_parts();
    Conventions::finish(&mut doc);
    let json = doc.to_pretty_json().unwrap_or_default();
    let router = router.route(
        "/openapi.json",
        axum::routing::get(move || {
            let json = json.clone();
            async move { ([(axum::http::header::CONTENT_TYPE, "application/json")], json).into_response() }
        }),
    );
    (router, doc)
}

/// The OpenAPI document alone (for tests and tools).
pub fn document() -> Document {
    router().1
}

/// What every operation shares: the bearer token, and the error answers any of them may give.
struct Conventions;

impl utoipa::Modify for Conventions {
    fn modify(&self, doc: &mut Document) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("token").build()),
        );
    }
}

impl Conventions {
    /// Add the errors every operation may answer (and 422 to those that take a body), each in its schema.
    fn finish(doc: &mut Document) {
        use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
        let error = |what: &str, schema: &str| {
            ResponseBuilder::new()
                .description(what)
                .content("application/json", ContentBuilder::new().schema(Some(Ref::from_schema_name(schema))).build())
                .build()
        };
        let busy = || {
            use utoipa::openapi::{schema::Type, HeaderBuilder, ObjectBuilder};
            ResponseBuilder::new()
                .description(
                    "The database was busy with other writers past a bounded wait: nothing was written; send the \
                     same request again after the seconds in Retry-After",
                )
                .header(
                    "Retry-After",
                    HeaderBuilder::new()
                        .schema(ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(1)))
                        .description(Some("Seconds to wait before sending again"))
                        .build(),
                )
                .content(
                    "application/json",
                    ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorBody"))).build(),
                )
                .build()
        };
        for (path, item) in doc.paths.paths.iter_mut() {
            let ops = [
                ("get", &mut item.get, false),
                ("post", &mut item.post, true),
                ("put", &mut item.put, true),
                ("patch", &mut item.patch, true),
                ("delete", &mut item.delete, false),
            ];
            for (method, op, takes_body) in ops {
                let Some(op) = op.as_mut() else { continue };
                // Handlers are named for what they do within their module (`list`, `get`): the operation's id
                // is its method and path, unique and stable (`get_reports_id_events`).
                let words: Vec<&str> = path.split(['/', '{', '}', '-']).filter(|w| !w.is_empty()).collect();
                op.operation_id = Some(format!("{method}_{}", words.join("_")));
                let r = &mut op.responses.responses;
                let mut add = |status: &str, what: &str, schema: &str| {
                    r.entry(status.to_owned()).or_insert_with(|| RefOr::T(error(what, schema)));
                };
                add("400", "A request no client should send (a malformed body or parameter)", "ErrorBody");
                add("401", "No valid API token", "ErrorBody");
                add("403", "The token's user may not do this, or may not see this record", "ErrorBody");
                add("404", "No such record", "ErrorBody");
                add("500", "A failure of the server, logged under the request id", "ErrorBody");
                add("422", "What to correct, field by field (a body's fields, or a query's)", "Invalid");
                if takes_body {
                    add("413", "The body is too large", "ErrorBody");
                    add(
                        "415",
                        "The body is not in the operation's type (JSON operations take application/json)",
                        "ErrorBody",
                    );
                }
                // Reads that are audited write too (a search, a download): any operation may find the
                // database busy.
                r.entry("503".to_owned()).or_insert_with(|| RefOr::T(busy()));
            }
        }
    }
}

/// An error answer: a stable code, a message in the caller's language, and the request id to quote.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    /// e.g. `not_found`, `forbidden`, `unauthenticated`, `bad_request`.
    pub error: String,
    pub message: String,
    pub request_id: String,
}

/// Field errors: nothing was written; correct the fields and send again.
#[derive(Serialize, ToSchema)]
pub struct Invalid {
    /// Always `validation`.
    pub error: String,
    pub message: String,
    pub fields: Vec<FieldError>,
    pub request_id: String,
}

#[derive(Serialize, ToSchema)]
pub struct FieldError {
    /// The field as the request names it.
    pub field: String,
    /// A stable code of what is wrong (`date`, `choice`, `required`, ...).
    pub error: String,
    /// What is wrong, in the caller's language.
    pub message: String,
}

/// A token-authenticated caller whose roles permit `P`.
pub struct Api<P: Permission>(pub Viewer, pub PhantomData<P>);

impl<P: Permission> FromRequestParts<AppState> for Api<P> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let Can(v, _) = Can::<P>::from_request_parts(parts, state).await?;
        if v.session.is_some() {
            return Err(AppError::Unauthenticated);
        }
        Ok(Api(v, PhantomData))
    }
}

/// Any caller with a live API token.
pub struct Token(pub Viewer);

impl FromRequestParts<AppState> for Token {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let v = Viewer::from_request_parts(parts, state).await?;
        if v.session.is_some() {
            return Err(AppError::Unauthenticated);
        }
        Ok(Token(v))
    }
}

/// A JSON body; one that does not parse as `T` is answered 400 as JSON, like every other API error.
pub struct Body<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for Body<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        if !is_json(&req) {
            return Err(AppError::UnsupportedMediaType);
        }
        let bytes = axum::body::Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                AppError::TooLarge
            } else {
                AppError::BadRequest("body".into())
            }
        })?;
        if crate::ctx::json_holds_nul(&bytes) {
            return Err(AppError::BadRequest("a NUL character".into()));
        }
        let mut de = serde_json::Deserializer::from_slice(&bytes);
        let t = match serde_path_to_error::deserialize(&mut de) {
            Ok(t) => t,
            Err(e) if e.inner().is_data() => {
                return Err(AppError::Fields(vec![(field_path(e.path()), value_problem(e.inner()))]))
            }
            Err(_) => return Err(AppError::BadRequest("json".into())),
        };
        // Nothing but white space after the value.
        de.end().map_err(|_| AppError::BadRequest("json".into()))?;
        Ok(Body(t))
    }
}

/// Whether a request's `Content-Type` says JSON (`application/json`, or a `+json` type, any parameters).
fn is_json(req: &Request) -> bool {
    req.headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|m| m.trim().to_ascii_lowercase())
        .is_some_and(|m| m == "application/json" || (m.starts_with("application/") && m.ends_with("+json")))
}

/// A field's path as the request names it: `mapping.0.column`, `purpose`; `body` for the whole.
fn field_path(path: &serde_path_to_error::Path) -> String {
    let p = path.to_string();
    if p == "." || p.is_empty() {
        "body".into()
    } else {
        p.replace(['[', ']'], ".").replace("..", ".").trim_matches('.').to_owned()
    }
}

/// The translation key of what is wrong with a value that parsed but does not fit: a missing field, an
/// unknown choice, a number out of range (a [`Limit`]'s own key), or a value of the wrong type.
fn value_problem(e: &impl std::fmt::Display) -> &'static str {
    let text = e.to_string();
    if text.starts_with("missing field") {
        "error.required"
    } else if text.starts_with("unknown variant") {
        "error.choice"
    } else if text.contains(LIMIT_KEY) {
        LIMIT_KEY
    } else {
        "error.json_type"
    }
}

/// A query string parsed as `T`; a parameter that does not fit is answered 422 naming it, like a body's field.
pub struct Params<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Params<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(de)
            .map(Params)
            .map_err(|e| AppError::Fields(vec![(field_path(e.path()), value_problem(e.inner()))]))
    }
}

/// The translation key of a `limit` outside 1 to 500.
const LIMIT_KEY: &str = "error.limit";

/// How many items a list gives at once: 1 to 500. Read from a query string (text) or JSON (a number).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limit(pub i64);

impl<'de> Deserialize<'de> for Limit {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Limit;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a whole number from 1 to 500")
            }
            fn visit_i64<E: serde::de::Error>(self, n: i64) -> Result<Limit, E> {
                if (1..=500).contains(&n) {
                    Ok(Limit(n))
                } else {
                    Err(E::custom(LIMIT_KEY))
                }
            }
            fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<Limit, E> {
                self.visit_i64(i64::try_from(n).unwrap_or(i64::MAX))
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Limit, E> {
                self.visit_i64(s.trim().parse().map_err(|_| E::custom(LIMIT_KEY))?)
            }
        }
        d.deserialize_any(V)
    }
}

/// A file's bytes, answered as the file's own type.
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct FileBytes(#[allow(dead_code)] Vec<u8>);

/// A list's cursor: the `next` of the page before, and how many items to give (1 to 500, 50 by default).
#[derive(Clone, Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Cursor {
    /// The `next` of the previous page; omit for the first page.
    pub after: Option<String>,
    /// How many items at most (1 to 500; 50 when omitted).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 500)]
    pub limit: Option<Limit>,
}

impl Cursor {
    pub fn limit(&self) -> i64 {
        self.limit.map_or(50, |l| l.0)
    }
    pub fn after(&self) -> Option<&str> {
        self.after.as_deref().map(str::trim).filter(|a| !a.is_empty())
    }

    /// Page a list already ordered by its sort key, whose items each carry a distinct `key`: the items after
    /// the cursor, at most `limit` of them, and the cursor of the next page when more remain. For lists a
    /// use case reads whole (each bounded by what one agency holds); long lists page in SQL instead.
    pub fn page<T>(&self, items: Vec<T>, key: impl Fn(&T) -> &str) -> (Vec<T>, Option<String>) {
        let start = match self.after() {
            Some(after) => items.iter().position(|i| key(i) == after).map_or(items.len(), |p| p + 1),
            None => 0,
        };
        let limit = self.limit() as usize;
        let more = items.len() > start + limit;
        let page: Vec<T> = items.into_iter().skip(start).take(limit).collect();
        let next = if more { page.last().map(|i| key(i).to_owned()) } else { None };
        (page, next)
    }
}

/// Declare a page of a list: its items and the cursor of the next page.
macro_rules! page {
    ($name:ident, $item:ty) => {
        #[derive(serde::Serialize, utoipa::ToSchema)]
        pub struct $name {
            pub items: Vec<$item>,
            /// Pass as `after` for the next page; absent on the last page.
            pub next: Option<String>,
        }
    };
}
pub(crate) use page;

/// An instant as RFC 3339 in UTC.
pub fn instant(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_default()
}

/// 200 with a body.
pub fn ok<T: Serialize>(body: T) -> Response {
    (StatusCode::OK, Json(body)).into_response()
}

/// 201 with the created record.
pub fn created<T: Serialize>(body: T) -> Response {
    (StatusCode::CREATED, Json(body)).into_response()
}

/// Field errors as the API answers them: 422 with each field, its error code and message.
pub fn invalid(state: &AppState, v: &Viewer, errors: &[(String, String)]) -> Response {
    let lang = v.lang();
    let fields = errors
        .iter()
        .map(|(f, k)| FieldError {
            field: f.clone(),
            error: k.trim_start_matches("error.").to_owned(),
            message: state.i18n.get(lang, k).to_owned(),
        })
        .collect();
    let body = Invalid {
        error: "validation".into(),
        message: state.i18n.get(lang, "form.error_summary").to_owned(),
        fields,
        request_id: v.request_id.clone(),
    };
    (StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response()
}

/// What the OpenAPI document says of a 409 (the operations that can answer it name it with this text).
pub const CONFLICT: &str =
    "Answered or decided meanwhile (by a colleague, or by an earlier send of the same request): the \
                            record is no longer in a state that allows this, and nothing was written. The field \
                            named is the one whose state stands in the way";

/// A state change that came too late: the record was answered or decided meanwhile. Answered 409 with the
/// same body as field errors (the field whose state stands in the way, and what happened in the caller's
/// language), so a client reads both alike; reading the record again shows where it stands.
pub fn conflict(state: &AppState, v: &Viewer, field: &str, key: &str) -> Response {
    let mut resp = invalid(state, v, &[(field.to_owned(), key.to_owned())]);
    *resp.status_mut() = StatusCode::CONFLICT;
    resp
}

/// Answer a use case's outcome: its result shaped by `then`, or 422.
pub async fn answer<X, T: Serialize, F: std::future::Future<Output = AppResult<T>>>(
    state: &AppState,
    v: &Viewer,
    outcome: haven_app::Outcome<X>,
    status: StatusCode,
    then: impl FnOnce(X) -> F,
) -> AppResult<Response> {
    match outcome {
        Ok(x) => Ok((status, Json(then(x).await?)).into_response()),
        Err(errors) => Ok(invalid(state, v, &errors)),
    }
}

/// A role's code as the API names it (its serde name, e.g. `case_officer`).
pub fn role_code(r: &haven_domain::Role) -> String {
    serde_json::to_value(r).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

/// A yes/no as the pages' forms send it (`"1"` when ticked).
pub fn tick(b: bool) -> Option<String> {
    b.then(|| "1".to_owned())
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_operation_has_its_own_id_and_a_tag() {
        let doc = super::document();
        let mut ids = Vec::new();
        for item in doc.paths.paths.values() {
            for op in [&item.get, &item.post, &item.put, &item.patch, &item.delete].into_iter().flatten() {
                ids.push(op.operation_id.clone().unwrap_or_default());
                assert!(op.tags.as_ref().is_some_and(|t| !t.is_empty()), "{:?} has no tag", op.operation_id);
            }
        }
        let count = ids.len();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), count, "operation ids repeat");
        assert!(count > 90, "{count} operations");
    }
}
