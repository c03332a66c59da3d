//! The people registers' pages: long-term absentees per commune with review rounds ([`absentees`]), and
//! handover batches of citizens returned by foreign countries with the screening interview ([`handovers`]).
//! Every entry's page shows its candidate matches with their explanations.

pub mod absentees;
pub mod handovers;

use axum::Router;

use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().merge(absentees::routes()).merge(handovers::routes())
}
