//! Sharing a record of one's own agency with another agency or one user, for a purpose and a number of days:
//! the grants on persons, reports, criminal cases and victim cases (a victim's record only with the person's
//! consent, or a legal basis from a user who may override). The use cases are `haven_app::sharing`.

use axum::extract::{Path, State};
use axum::response::Response;
use haven_app::sharing as app;
use haven_store::access::GrantRow;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{instant, invalid, ok, Api, Body};
use crate::ctx::{self as guards, Viewer};
use crate::error::AppResult;
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(person_grants, share_person))
        .routes(routes!(revoke_person))
        .routes(routes!(report_grants, share_report))
        .routes(routes!(revoke_report))
        .routes(routes!(case_grants, share_case))
        .routes(routes!(revoke_case))
        .routes(routes!(victim_grants, share_victim))
        .routes(routes!(revoke_victim))
}

#[derive(Serialize, ToSchema)]
pub struct GrantOut {
    pub id: String,
    pub grantee_agency_id: Option<String>,
    pub grantee_user_id: Option<String>,
    pub purpose: String,
    pub granted_by: String,
    pub granted_at: String,
    /// When it stops opening the record: the expiry it was given, or the end of the consent it rests on
    /// (expired or withdrawn) if that comes first.
    pub expires_at: String,
    pub revoked_at: Option<String>,
    /// The parts of the record it opens (a referral's kind); absent: the whole record.
    pub scope: Option<String>,
    /// In force now.
    pub live: bool,
}

fn grant_out(g: GrantRow, now: i64) -> GrantOut {
    GrantOut {
        live: g.live(now),
        expires_at: instant(g.ends_at()),
        id: g.id,
        grantee_agency_id: g.grantee_agency_id,
        grantee_user_id: g.grantee_user_id,
        purpose: g.purpose,
        granted_by: g.granted_by,
        granted_at: instant(g.granted_at),
        revoked_at: g.revoked_at.map(instant),
        scope: g.scope,
    }
}

#[derive(Serialize, ToSchema)]
pub struct GrantList {
    pub items: Vec<GrantOut>,
}

#[derive(Deserialize, ToSchema)]
pub struct GrantIn {
    /// An agency's code, or
    #[serde(default)]
    pub agency: String,
    /// one user's name.
    #[serde(default)]
    pub username: String,
    /// `case_work`, `verification`, `support`, `referral` or `legal_proceedings`.
    pub purpose: String,
    /// For how many days (1 to 366).
    pub days: u32,
    /// Only without the person's consent, and only for a user with the override right.
    #[serde(default)]
    pub legal_basis: String,
}

async fn grants(state: &AppState, v: &Viewer, kind: &str, id: &str) -> AppResult<Response> {
    let now = state.store.now();
    let rows = app::grants(state, v, kind, id).await?;
    Ok(ok(GrantList { items: rows.into_iter().map(|g| grant_out(g, now)).collect() }))
}

async fn share(state: &AppState, v: &Viewer, kind: &str, id: &str, g: GrantIn) -> AppResult<Response> {
    let form = app::GrantForm {
        agency: g.agency,
        username: g.username,
        purpose: g.purpose,
        days: g.days.to_string(),
        legal_basis: g.legal_basis,
    };
    match app::share(state, v, kind, id, &form).await? {
        Ok(()) => grants(state, v, kind, id).await,
        Err(errors) => Ok(invalid(state, v, &errors)),
    }
}

async fn revoke(state: &AppState, v: &Viewer, kind: &str, id: &str, grant: &str) -> AppResult<Response> {
    app::revoke(state, v, kind, id, grant).await?;
    grants(state, v, kind, id).await
}

/// Handlers for the grants on one kind of record, under its path.
macro_rules! sharing {
    ($kind:expr, $tag:literal, $list:ident, $share:ident, $revoke:ident, $path:literal, $grant_path:literal) => {
        /// The grants on a record of the caller's agency, live or not, newest first.
        #[utoipa::path(get, path = $path, tag = $tag, params(("id" = String, Path)), responses((status = 200, body = GrantList)))]
        async fn $list(State(state): State<AppState>, Api(v, ..): Api<guards::GrantAccess>, Path(id): Path<String>) -> AppResult<Response> {
            grants(&state, &v, $kind, &id).await
        }

        /// Share a record of the caller's agency for a purpose and a number of days.
        #[utoipa::path(post, path = $path, tag = $tag, params(("id" = String, Path)), request_body = GrantIn, responses((status = 200, body = GrantList)))]
        async fn $share(
            State(state): State<AppState>,
            Api(v, ..): Api<guards::GrantAccess>,
            Path(id): Path<String>,
            Body(g): Body<GrantIn>,
        ) -> AppResult<Response> {
            share(&state, &v, $kind, &id, g).await
        }

        /// Revoke a grant on a record of the caller's agency.
        #[utoipa::path(delete, path = $grant_path, tag = $tag, params(("id" = String, Path), ("grant" = String, Path)), responses((status = 200, body = GrantList)))]
        async fn $revoke(
            State(state): State<AppState>,
            Api(v, ..): Api<guards::GrantAccess>,
            Path((id, grant)): Path<(String, String)>,
        ) -> AppResult<Response> {
            revoke(&state, &v, $kind, &id, &grant).await
        }
    };
}

sharing!(
    haven_store::persons::KIND,
    "persons",
    person_grants,
    share_person,
    revoke_person,
    "/persons/{id}/grants",
    "/persons/{id}/grants/{grant}"
);
sharing!(
    haven_store::reports::KIND,
    "reports",
    report_grants,
    share_report,
    revoke_report,
    "/reports/{id}/grants",
    "/reports/{id}/grants/{grant}"
);
sharing!(
    haven_store::cases::KIND,
    "cases",
    case_grants,
    share_case,
    revoke_case,
    "/cases/{id}/grants",
    "/cases/{id}/grants/{grant}"
);
sharing!(
    haven_store::victims::KIND,
    "victims",
    victim_grants,
    share_victim,
    revoke_victim,
    "/victims/{id}/grants",
    "/victims/{id}/grants/{grant}"
);
