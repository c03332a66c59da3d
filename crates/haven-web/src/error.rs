//! How failures reach people: a page in their language with the right status, or JSON for the API. Internal
//! errors are logged with the request id and shown as a short apology carrying that id, nothing else.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// An error a handler returns.
#[derive(Debug)]
pub enum AppError {
    NotFound,
    Forbidden,
    /// Not logged in: pages redirect to the log-in page, the API answers 401.
    Unauthenticated,
    /// The user's role requires a second factor they have not set up: they are sent to enrol.
    EnrolFirst,
    /// A state-changing request without a valid CSRF token.
    Csrf,
    BadRequest(String),
    /// A body or query whose values do not fit, field by field: (the field as the request names it, the
    /// translation key of what is wrong). 422 in the API's field-error shape.
    Fields(Vec<(String, &'static str)>),
    /// A body that is not in the type the operation takes (JSON sent as text, a form to a JSON operation).
    UnsupportedMediaType,
    TooLarge,
    /// A write that found the database busy past the bounded wait: nothing was written; 503 with
    /// `Retry-After`, and the page says to send it again in a few seconds.
    Busy,
    Internal(anyhow::Error),
}

/// Seconds a client is asked to wait before sending a refused write again.
pub const RETRY_AFTER_SECS: u64 = 5;

impl From<anyhow::Error> for AppError {
    fn from(e: anyhow::Error) -> Self {
        if haven_store::db::is_busy(&e) {
            AppError::Busy
        } else {
            AppError::Internal(e)
        }
    }
}

impl From<haven_app::Error> for AppError {
    fn from(e: haven_app::Error) -> Self {
        match e {
            haven_app::Error::NotFound => AppError::NotFound,
            haven_app::Error::Forbidden => AppError::Forbidden,
            haven_app::Error::BadRequest(what) => AppError::BadRequest(what),
            haven_app::Error::Internal(e) => AppError::from(e),
        }
    }
}

impl AppError {
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Forbidden | AppError::Csrf => StatusCode::FORBIDDEN,
            AppError::Unauthenticated => StatusCode::UNAUTHORIZED,
            AppError::EnrolFirst => StatusCode::FORBIDDEN,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Fields(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::Busy => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn key(&self) -> &'static str {
        match self {
            AppError::NotFound => "error.not_found",
            AppError::Forbidden => "error.forbidden",
            AppError::Unauthenticated => "error.unauthenticated",
            AppError::EnrolFirst => "error.enrol_first",
            AppError::Csrf => "error.csrf",
            AppError::BadRequest(_) => "error.bad_request",
            AppError::Fields(_) => "form.error_summary",
            AppError::UnsupportedMediaType => "error.media_type",
            AppError::TooLarge => "error.too_large",
            AppError::Busy => "error.busy",
            AppError::Internal(_) => "error.internal",
        }
    }
}

/// The error travels to the rendering middleware in the response's extensions, which knows the language,
/// the request id and whether the caller wanted a page or JSON.
#[derive(Clone)]
pub struct ErrorMarker {
    pub key: &'static str,
    pub detail: Option<String>,
    /// Field errors, for a 422: (field, translation key).
    pub fields: Vec<(String, &'static str)>,
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        let detail = match &self {
            AppError::BadRequest(d) => Some(d.clone()),
            _ => None,
        };
        if let AppError::Internal(e) = &self {
            // The request id is attached by the middleware's span; the message carries no identity data
            // because store errors name tables and columns, never values.
            tracing::error!(error = format!("{e:#}"), "internal error");
        }
        if matches!(self, AppError::Busy) {
            tracing::warn!("a write found the database busy and was refused with 503");
        }
        let mut resp = status.into_response();
        if matches!(self, AppError::Busy) {
            resp.headers_mut().insert(axum::http::header::RETRY_AFTER, RETRY_AFTER_SECS.into());
        }
        let fields = match &self {
            AppError::Fields(f) => f.clone(),
            _ => Vec::new(),
        };
        resp.extensions_mut().insert(ErrorMarker { key: self.key(), detail, fields });
        resp
    }
}

pub type AppResult<T> = Result<T, AppError>;
