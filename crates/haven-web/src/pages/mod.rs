//! The pages, one module per capability.

pub mod account;
pub mod admin;
pub mod audit;
pub mod auth;
pub mod home;
pub mod persons;
pub mod supervision;

use axum::Router;

use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(auth::routes())
        .merge(home::routes())
        .merge(account::routes())
        .merge(admin::routes())
        .merge(persons::routes())
        .merge(supervision::routes())
        .merge(audit::routes())
}

/// A local path to go back to after a form: only paths on this site, never `//host`.
pub fn safe_back(back: &str) -> &str {
    if back.starts_with('/') && !back.starts_with("//") && !back.contains('\\') {
        back
    } else {
        "/"
    }
}
