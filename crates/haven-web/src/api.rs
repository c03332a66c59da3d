//! The JSON API under `/api/v1`, for scripts and integrations. It accepts API tokens only (never the session
//! cookie, so a page cannot be tricked into calling it), answers errors as JSON in the caller's language,
//! and is described by the OpenAPI document at `/api/v1/openapi.json`.

use std::marker::PhantomData;

use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use haven_domain::person::IdentityInput;
use serde::Deserialize;
use serde_json::json;

use crate::ctx::{self as guards, Can, Permission, Viewer};
use crate::error::{AppError, AppResult};
use crate::pages::persons::create_person;
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/openapi.json", get(openapi))
        .route("/me", get(me))
        .route("/persons", get(list_persons).post(create))
        .route("/persons/{id}", get(person))
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

/// Any caller with a live token: what the token stands for.
async fn me(v: Viewer) -> AppResult<Json<serde_json::Value>> {
    if v.session.is_some() {
        return Err(AppError::Unauthenticated);
    }
    Ok(Json(json!({
        "id": v.user.id,
        "username": v.user.username,
        "display_name": v.user.display_name,
        "roles": v.user.roles,
        "language": v.user.lang,
        "agency": {
            "id": v.agency.id,
            "code": v.agency.code,
            "name_vi": v.agency.name_vi,
            "name_en": v.agency.name_en,
            "kind": v.agency.kind,
            "level": v.agency.level,
        },
    })))
}

#[derive(Deserialize)]
struct ListQuery {
    after: Option<String>,
    limit: Option<i64>,
}

async fn list_persons(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::ViewRecords>,
    axum::extract::Query(q): axum::extract::Query<ListQuery>,
) -> AppResult<Json<serde_json::Value>> {
    let limit = q.limit.unwrap_or(50).clamp(1, 500);
    let page = state.store.persons_of_agency(&v.agency.id, q.after.as_deref(), limit).await?;
    Ok(Json(json!({ "items": page.items, "next": page.next })))
}

async fn person(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::ViewRecords>,
    Path(id): Path<String>,
) -> AppResult<Json<serde_json::Value>> {
    let p = state.store.person(&id).await?.ok_or(AppError::NotFound)?;
    if !crate::pages::record_access(&state, &v, haven_store::persons::KIND, &id, &p.owner_agency_id).await?.allowed() {
        return Err(AppError::Forbidden);
    }
    Ok(Json(json!(p)))
}

#[derive(Deserialize)]
struct NewPerson {
    full_name: String,
    #[serde(default)]
    birth_date: String,
    #[serde(default)]
    sex: String,
    #[serde(default)]
    id_number: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    address: String,
    #[serde(default)]
    commune_code: String,
}

async fn create(
    State(state): State<AppState>,
    Api(v, ..): Api<guards::CreateRecords>,
    body: axum::body::Bytes,
) -> AppResult<Response> {
    let lang = v.lang();
    let Ok(p) = serde_json::from_slice::<NewPerson>(&body) else {
        return Err(AppError::BadRequest("json".into()));
    };
    let input = IdentityInput {
        full_name: p.full_name,
        birth_date: p.birth_date,
        sex: p.sex,
        id_number: p.id_number,
        phone: p.phone,
        address: p.address,
        commune_code: p.commune_code,
    };
    match create_person(&state, &v, input).await? {
        Ok(id) => {
            let row = state.store.person(&id).await?.ok_or(AppError::NotFound)?;
            Ok((StatusCode::CREATED, Json(json!(row))).into_response())
        }
        Err(errors) => {
            let fields: Vec<_> = errors
                .iter()
                .map(|(f, k)| json!({ "field": f, "error": k.trim_start_matches("error."), "message": state.i18n.get(lang, k) }))
                .collect();
            Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                Json(json!({ "error": "validation", "message": state.i18n.get(lang, "form.error_summary"), "fields": fields, "request_id": v.request_id })),
            )
                .into_response())
        }
    }
}

async fn openapi() -> Response {
    ([(axum::http::header::CONTENT_TYPE, "application/json")], include_str!("../openapi.json")).into_response()
}
