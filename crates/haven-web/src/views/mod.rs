//! Pieces of pages that several pages show (the share section, a person named by its code, agency names),
//! built here so that no page module imports another.

pub mod cooperation;
pub mod matches;
pub mod pager;
pub mod plan;
pub mod plan_report;
pub mod referrals;
pub mod sharing;
pub mod table;

use haven_app::{App, Caller};

use crate::error::AppResult;
use crate::page::Ctx;

/// A person named by a report or a case, in pseudonymous form; `open` when the viewer may open the record.
pub struct PersonLink {
    pub person_id: String,
    pub code: String,
    pub role: String,
    pub open: bool,
}

/// Persons (id, case code, role) in pseudonymous form, each marked with whether the viewer may open its
/// record.
pub async fn person_links(
    app: &App,
    caller: &Caller,
    rows: Vec<(String, String, String)>,
) -> AppResult<Vec<PersonLink>> {
    let mut links = Vec::with_capacity(rows.len());
    for (person_id, code, role) in rows {
        let open = match app.store.person(&person_id).await? {
            Some(p) => haven_app::persons::decision(app, caller, &p).await?.allowed(),
            None => false,
        };
        links.push(PersonLink { person_id, code, role, open });
    }
    Ok(links)
}

/// Active agencies of a kind (e.g. every procuracy), as (id, name in the page's language).
pub async fn agencies_of_kind(app: &App, c: &Ctx, kind: &str) -> AppResult<Vec<(String, String)>> {
    Ok(app
        .store
        .agencies()
        .await?
        .iter()
        .filter(|a| a.active && a.kind == kind)
        .map(|a| (a.id.clone(), c.agency_label(&a.name_vi, &a.name_en).to_owned()))
        .collect())
}

/// An agency's name in the page's language.
pub async fn agency_name(app: &App, c: &Ctx, id: &str) -> AppResult<String> {
    Ok(app.store.agency(id).await?.map(|a| c.agency_label(&a.name_vi, &a.name_en).to_owned()).unwrap_or_default())
}
