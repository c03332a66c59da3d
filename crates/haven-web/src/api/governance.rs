//! Oversight: the audit log for auditors (filtered, paged backwards from the newest, and the verification of
//! the whole chain), and an agency head's supervision (break-the-glass on the agency's records, identity
//! views, sharing without consent). The use cases are `haven_app::audit` and `haven_app::supervision`.

use super::Params;
use axum::extract::{Path, State};
use axum::response::Response;
use haven_app::audit::AuditQuery;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{instant, ok, Api};
use crate::ctx::{self as guards};
use crate::error::AppResult;
use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(audit))
        .routes(routes!(verify))
        .routes(routes!(supervision))
        .routes(routes!(review))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditParams {
    /// A user name.
    #[serde(default)]
    pub user: String,
    /// An action (`person.view_identity`, `report.create`, ...).
    #[serde(default)]
    pub action: String,
    /// A record id.
    #[serde(default)]
    pub record: String,
    /// First and last day, dd/mm/yyyy.
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    /// The `next` of the page before (entries older than it).
    pub after: Option<i64>,
    /// 1 to 500; 100 when omitted.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 500)]
    pub limit: Option<super::Limit>,
}

#[derive(Serialize, ToSchema)]
pub struct AuditEntryOut {
    pub seq: i64,
    pub at: String,
    pub actor_user_id: String,
    pub actor_agency_id: String,
    pub action: String,
    pub record_kind: String,
    pub record_id: String,
    pub purpose: String,
    /// The fields the action read or wrote (names, never values).
    pub fields: Vec<String>,
    pub request_id: String,
}

#[derive(Serialize, ToSchema)]
pub struct AuditPage {
    pub items: Vec<AuditEntryOut>,
    /// Pass as `after` for older entries.
    pub next: Option<i64>,
}

/// Audit entries, newest first (auditors).
#[utoipa::path(get, path = "/audit", tag = "audit", params(AuditParams), responses((status = 200, body = AuditPage)))]
async fn audit(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::ViewAudit>,
    Params(p): Params<AuditParams>,
) -> AppResult<Response> {
    let q = AuditQuery { user: p.user, action: p.action, record: p.record, from: p.from, to: p.to, before: p.after };
    let (entries, next) = match haven_app::audit::browse(&state, &v, &q, p.limit.map_or(100, |l| l.0)).await? {
        Ok(found) => found,
        Err(errors) => return Ok(crate::api::invalid(&state, &v, &errors)),
    };
    let items = entries
        .into_iter()
        .map(|e| AuditEntryOut {
            seq: e.seq,
            at: instant(e.at),
            actor_user_id: e.actor_user_id,
            actor_agency_id: e.actor_agency_id,
            action: e.action,
            record_kind: e.record_kind,
            record_id: e.record_id,
            purpose: e.purpose,
            fields: e.fields.split(',').filter(|f| !f.is_empty()).map(str::to_owned).collect(),
            request_id: e.request_id,
        })
        .collect();
    Ok(ok(AuditPage { items, next }))
}

#[derive(Serialize, ToSchema)]
pub struct VerifyOut {
    pub entries: i64,
    pub checkpoints: i64,
    pub intact: bool,
    /// The first entry that does not verify, and why.
    pub broken_at: Option<i64>,
    pub reason: Option<String>,
}

/// Recompute the hash chain and check its signatures (auditors).
#[utoipa::path(post, path = "/audit/verification", tag = "audit", responses((status = 200, body = VerifyOut)))]
async fn verify(State(state): State<AppState>, Api(v, ..): Api<guards::ViewAudit>) -> AppResult<Response> {
    let r = haven_app::audit::verify(&state, &v).await?;
    let (broken_at, reason) = match r.broken {
        Some((seq, why)) => (Some(seq), Some(why)),
        None => (None, None),
    };
    Ok(ok(VerifyOut { entries: r.entries, checkpoints: r.checkpoints, intact: broken_at.is_none(), broken_at, reason }))
}

#[derive(Serialize, ToSchema)]
pub struct BreakGlassWindowOut {
    pub id: String,
    pub user_id: String,
    pub agency_id: String,
    pub record_kind: String,
    pub record_id: String,
    pub reason: String,
    pub opened_at: String,
    pub expires_at: String,
    pub reviewed_by: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct IdentityViewOut {
    pub at: String,
    pub user_id: String,
    pub person_id: String,
    pub case_code: String,
    pub purpose: String,
}

#[derive(Serialize, ToSchema)]
pub struct OverrideOut {
    pub record_kind: String,
    pub record_id: String,
    pub grantee_agency_id: Option<String>,
    pub grantee_user_id: Option<String>,
    pub legal_basis: String,
    pub granted_by: String,
    pub granted_at: String,
}

#[derive(Serialize, ToSchema)]
pub struct SupervisionOut {
    pub break_glass: Vec<BreakGlassWindowOut>,
    pub identity_views: Vec<IdentityViewOut>,
    pub consent_overrides: Vec<OverrideOut>,
}

/// What the head of the caller's agency supervises, newest first (100 of each).
#[utoipa::path(get, path = "/supervision", tag = "supervision", responses((status = 200, body = SupervisionOut)))]
async fn supervision(State(state): State<AppState>, Api(v, ..): Api<guards::SuperviseAgency>) -> AppResult<Response> {
    let o = haven_app::supervision::overview(&state, &v, 100).await?;
    Ok(ok(SupervisionOut {
        break_glass: o
            .break_glass
            .into_iter()
            .map(|b| BreakGlassWindowOut {
                id: b.id,
                user_id: b.user_id,
                agency_id: b.agency_id,
                record_kind: b.record_kind,
                record_id: b.record_id,
                reason: b.reason,
                opened_at: instant(b.opened_at),
                expires_at: instant(b.expires_at),
                reviewed_by: b.reviewed_by,
            })
            .collect(),
        identity_views: o
            .identity_views
            .into_iter()
            .map(|(at, user_id, person_id, case_code, purpose)| IdentityViewOut {
                at: instant(at),
                user_id,
                person_id,
                case_code,
                purpose,
            })
            .collect(),
        consent_overrides: o
            .consent_overrides
            .into_iter()
            .map(|g| OverrideOut {
                record_kind: g.record_kind,
                record_id: g.record_id,
                grantee_agency_id: g.grantee_agency_id,
                grantee_user_id: g.grantee_user_id,
                legal_basis: g.legal_basis,
                granted_by: g.granted_by,
                granted_at: instant(g.granted_at),
            })
            .collect(),
    }))
}

#[derive(Serialize, ToSchema)]
pub struct Reviewed {
    pub reviewed: bool,
}

/// Mark a break-the-glass window on the caller's agency's records as reviewed.
#[utoipa::path(post, path = "/supervision/break-glass/{id}/review", tag = "supervision", params(("id" = String, Path)), responses((status = 200, body = Reviewed)))]
async fn review(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::SuperviseAgency>,
    Path(id): Path<String>,
) -> AppResult<Response> {
    haven_app::supervision::review_break_glass(&state, &v, &id).await?;
    Ok(ok(Reviewed { reviewed: true }))
}
