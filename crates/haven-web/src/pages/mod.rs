//! The pages, one module per capability.

pub mod account;
pub mod admin;
pub mod audit;
pub mod auth;
pub mod cases;
pub mod cooperation;
pub mod exports;
pub mod home;
pub mod imports;
pub mod indicators;
pub mod matches;
pub mod persons;
pub mod plan;
pub mod plan_report;
pub mod prevention;
pub mod referrals;
pub mod registers;
pub mod reports;
pub mod statistics;
pub mod supervision;
pub mod training;
pub mod victims;

use axum::Router;

use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(auth::routes())
        .merge(home::routes())
        .merge(account::routes())
        .merge(admin::routes())
        .merge(persons::routes())
        .merge(reports::routes())
        .merge(cases::routes())
        .merge(indicators::routes())
        .merge(victims::routes())
        .merge(referrals::routes())
        .merge(registers::routes())
        .merge(matches::routes())
        .merge(plan::routes())
        .merge(exports::routes())
        .merge(statistics::routes())
        .merge(cooperation::routes())
        .merge(plan_report::routes())
        .merge(prevention::routes())
        .merge(training::routes())
        .merge(imports::routes())
        .merge(supervision::routes())
        .merge(audit::routes())
}
