//! The agency head's view of sensitive access to their agency's records: break-the-glass use (with its
//! written reason) to review, and who opened identities, when and why.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use haven_store::access::BreakGlassRow;
use serde::Deserialize;

use crate::ctx::{self as guards, Can, CsrfForm};
use crate::error::AppResult;
use crate::page::{ok, Ctx};
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/supervision", get(overview)).route("/supervision/break-glass/{id}/review", post(review))
}

pub struct BgLine {
    pub row: BreakGlassRow,
    pub user: String,
    pub agency: String,
    pub case_code: String,
}

pub struct ViewLine {
    pub at: i64,
    pub user: String,
    pub record_id: String,
    pub case_code: String,
    pub purpose: String,
}

/// A victim's record shared without consent, on a legal basis.
pub struct OverrideLine {
    pub at: i64,
    pub user: String,
    pub grantee: String,
    pub href: String,
    pub legal_basis: String,
}

#[derive(Template)]
#[template(path = "supervision.html")]
struct Overview {
    c: Ctx,
    break_glass: Vec<BgLine>,
    views: Vec<ViewLine>,
    overrides: Vec<OverrideLine>,
}

async fn overview(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::SuperviseAgency>,
    c: Ctx,
) -> AppResult<Response> {
    let agencies = state.store.agencies().await?;
    let o = haven_app::supervision::overview(&state, &viewer, 100).await?;
    let mut break_glass = Vec::new();
    for row in o.break_glass {
        let user = state
            .store
            .user(&row.user_id)
            .await?
            .map(|u| format!("{} ({})", u.display_name, u.username))
            .unwrap_or_default();
        let agency = agencies
            .iter()
            .find(|a| a.id == row.agency_id)
            .map(|a| c.agency_label(&a.name_vi, &a.name_en).to_owned())
            .unwrap_or_default();
        let case_code = state.store.person(&row.record_id).await?.map(|p| p.case_code).unwrap_or_default();
        break_glass.push(BgLine { row, user, agency, case_code });
    }
    // Identity views of this agency's person records, newest first.
    let mut views = Vec::new();
    for (at, user_id, record_id, case_code, purpose) in o.identity_views {
        let user = state.store.user(&user_id).await?.map(|u| u.username).unwrap_or(user_id);
        views.push(ViewLine { at, user, record_id, case_code, purpose });
    }
    let mut overrides = Vec::new();
    for o in o.consent_overrides {
        let user = state.store.user(&o.granted_by).await?.map(|u| u.username).unwrap_or_default();
        let grantee = match (&o.grantee_agency_id, &o.grantee_user_id) {
            (Some(a), _) => agencies
                .iter()
                .find(|x| &x.id == a)
                .map(|x| c.agency_label(&x.name_vi, &x.name_en).to_owned())
                .unwrap_or_default(),
            (None, Some(u)) => state.store.user(u).await?.map(|u| u.username).unwrap_or_default(),
            _ => String::new(),
        };
        let href = match o.record_kind.as_str() {
            haven_store::victims::KIND => format!("/victims/{}", o.record_id),
            _ => format!("/persons/{}", o.record_id),
        };
        overrides.push(OverrideLine { at: o.granted_at, user, grantee, href, legal_basis: o.legal_basis });
    }
    Ok(ok(&Overview { c, break_glass, views, overrides }))
}

#[derive(Deserialize)]
struct Empty {}

async fn review(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::SuperviseAgency>,
    Path(id): Path<String>,
    CsrfForm(_, _): CsrfForm<Empty>,
) -> AppResult<Response> {
    haven_app::supervision::review_break_glass(&state, &viewer, &id).await?;
    Ok(Redirect::to("/supervision?done=reviewed").into_response())
}
