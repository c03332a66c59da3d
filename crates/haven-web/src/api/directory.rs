//! Who the token stands for, and the directory other answers point into: agencies (by id) and administrative
//! units (by statistics-office code).

use super::Params;
use axum::extract::State;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{answer, invalid, ok, Body, Token};
use crate::ctx::Viewer;
use crate::error::AppResult;
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(me))
        .routes(routes!(language))
        .routes(routes!(password))
        .routes(routes!(agencies))
        .routes(routes!(units))
}

/// An agency of the directory.
#[derive(Serialize, ToSchema)]
pub struct AgencyOut {
    /// What other answers name as `*_agency_id`.
    pub id: String,
    /// A short stable code (`police`, `border`, ...).
    pub code: String,
    pub name_vi: String,
    pub name_en: String,
    /// `police`, `border_guard`, `social_support`, `procuracy`, `court`, `commune_committee`, ...
    pub kind: String,
    /// `province` or `commune`.
    pub level: String,
    /// What it does: `intake`, `investigate`, `support`, ...
    pub functions: Vec<String>,
    /// The administrative unit it serves (`GET /units`).
    pub unit_code: String,
    pub active: bool,
}

impl From<&haven_store::directory::Agency> for AgencyOut {
    fn from(a: &haven_store::directory::Agency) -> Self {
        AgencyOut {
            id: a.id.clone(),
            code: a.code.clone(),
            name_vi: a.name_vi.clone(),
            name_en: a.name_en.clone(),
            kind: a.kind.clone(),
            level: a.level.clone(),
            functions: a.functions.split(';').filter(|f| !f.is_empty()).map(str::to_owned).collect(),
            unit_code: a.unit_code.clone(),
            active: a.active,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct MeOut {
    pub id: String,
    pub username: String,
    pub display_name: String,
    /// `system_admin`, `agency_head`, `case_officer`, `data_entry`, `analyst`, `auditor`.
    pub roles: Vec<String>,
    /// `vi` or `en`: messages come back in this language.
    pub language: String,
    pub agency: AgencyOut,
}

/// Who the token stands for: the user, their roles and their agency.
#[utoipa::path(get, path = "/me", tag = "directory", responses((status = 200, body = MeOut)))]
async fn me(Token(v): Token) -> AppResult<Response> {
    Ok(ok(me_out(&v, &v.user.lang)))
}

fn me_out(v: &Viewer, language: &str) -> MeOut {
    MeOut {
        id: v.user.id.clone(),
        username: v.user.username.clone(),
        display_name: v.user.display_name.clone(),
        roles: v.user.roles.iter().map(super::role_code).collect(),
        language: language.to_owned(),
        agency: (&v.agency).into(),
    }
}

#[derive(Deserialize, ToSchema)]
pub struct LanguageIn {
    /// `vi` or `en`.
    pub language: String,
}

/// Choose the language of the caller's pages, messages and exports (the API's messages too).
#[utoipa::path(put, path = "/me/language", tag = "directory", request_body = LanguageIn, responses((status = 200, body = MeOut)))]
async fn language(State(state): State<AppState>, Token(v): Token, Body(l): Body<LanguageIn>) -> AppResult<Response> {
    let Some(lang) = haven_domain::format::Lang::from_code(l.language.trim()) else {
        return Ok(invalid(&state, &v, &[("language".into(), "error.choice".into())]));
    };
    haven_app::accounts::set_language(&state, &v, lang).await?;
    Ok(ok(me_out(&v, lang.code())))
}

#[derive(Deserialize, ToSchema)]
pub struct PasswordIn {
    pub current: String,
    pub new_password: String,
    /// The new password again.
    pub confirm: String,
}

#[derive(Serialize, ToSchema)]
pub struct PasswordChanged {
    /// Every session of the user has ended; API tokens stay valid.
    pub done: bool,
}

/// Change the caller's own password, given the current one (a wrong one counts as a failed log-in). Every page
/// session of the user ends. Setting up a second factor is done in the pages, where the code is scanned.
#[utoipa::path(put, path = "/me/password", tag = "directory", request_body = PasswordIn, responses((status = 200, body = PasswordChanged)))]
async fn password(State(state): State<AppState>, Token(v): Token, Body(p): Body<PasswordIn>) -> AppResult<Response> {
    let outcome = haven_app::accounts::change_password(&state, &v, p.current, &p.new_password, &p.confirm).await?;
    answer(&state, &v, outcome, axum::http::StatusCode::OK, |()| async { Ok(PasswordChanged { done: true }) }).await
}

#[derive(Serialize, ToSchema)]
pub struct AgencyList {
    pub items: Vec<AgencyOut>,
}

/// Every agency of the directory (a few dozen), the inactive ones too: records keep naming them.
#[utoipa::path(get, path = "/agencies", tag = "directory", responses((status = 200, body = AgencyList)))]
async fn agencies(State(state): State<AppState>, Token(_): Token) -> AppResult<Response> {
    let items = state.store.agencies().await?.iter().map(AgencyOut::from).collect();
    Ok(ok(AgencyList { items }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UnitQuery {
    /// The province whose communes to list; the deployment's province when omitted.
    pub province: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct UnitOut {
    /// The statistics office's code, what other answers name as `commune_code` or `unit_code`.
    pub code: String,
    pub name: String,
}

#[derive(Serialize, ToSchema)]
pub struct UnitList {
    /// The province itself.
    pub province: UnitOut,
    /// Its communes and wards, by name.
    pub communes: Vec<UnitOut>,
}

/// The province and its communes, by code (after the 2025 reorganisation; older names are read on import).
#[utoipa::path(get, path = "/units", tag = "directory", params(UnitQuery), responses((status = 200, body = UnitList)))]
async fn units(State(state): State<AppState>, Token(_): Token, Params(q): Params<UnitQuery>) -> AppResult<Response> {
    let province = q.province.as_deref().map(str::trim).filter(|p| !p.is_empty()).unwrap_or(&state.province).to_owned();
    let name = state.store.unit_name(&province).await?.ok_or(crate::error::AppError::NotFound)?;
    let communes = state.store.communes(&province).await?.into_iter().map(|(code, name)| UnitOut { code, name });
    Ok(ok(UnitList { province: UnitOut { code: province, name }, communes: communes.collect() }))
}
