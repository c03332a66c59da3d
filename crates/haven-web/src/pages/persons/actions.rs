//! What is done from the person page: relatives, files, merging, sharing and breaking the glass.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use haven_app::persons::{self as app, BreakGlassForm, MergeForm, NewFile, RelativeForm};
use haven_app::sharing::GrantForm;
use haven_domain::access;
use haven_store::persons::KIND;
use serde::Deserialize;

use super::page::{again, person_page, refused_or, RevealForm};
use super::{lines, Line};
use crate::ctx::{self as guards, Can, CsrfForm, CsrfUpload};
use crate::error::AppResult;
use crate::page::{ok, render, Ctx, FormState};
use crate::AppState;

pub(super) async fn add_relative(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::EditRecords>,
    c: Ctx,
    Path(id): Path<String>,
    CsrfForm(form, pairs): CsrfForm<RelativeForm>,
) -> AppResult<Response> {
    match app::add_relative(&state, &viewer, &id, &form).await? {
        Ok(()) => Ok(Redirect::to(&format!("/persons/{id}?done=relative_added#relatives")).into_response()),
        Err(errors) => again(&state, &viewer, c, &id, &pairs, errors).await,
    }
}

/// Attach a photo or a document (checked and sealed by the use case).
pub(super) async fn attach(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::EditRecords>,
    c: Ctx,
    Path(id): Path<String>,
    upload: CsrfUpload,
) -> AppResult<Response> {
    let file = upload.file.as_ref().map(|f| NewFile { file_name: &f.file_name, bytes: &f.bytes });
    match app::attach(&state, &viewer, &id, upload.field("kind"), file).await? {
        Ok(()) => Ok(Redirect::to(&format!("/persons/{id}?done=file_attached#files")).into_response()),
        Err(errors) => {
            let p = app::get(&state, &id).await?;
            let f = FormState { errors, ..FormState::default() };
            person_page(&state, &viewer, c, p, None, f, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

/// Download an attachment: a POST with a purpose, so every opening is audited like an identity view.
pub(super) async fn download(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::ViewIdentity>,
    c: Ctx,
    Path((id, attachment)): Path<(String, String)>,
    CsrfForm(form, pairs): CsrfForm<RevealForm>,
) -> AppResult<Response> {
    let c = match refused_or(&state, &viewer, c, &id).await? {
        Ok(c) => c,
        Err(refused) => return Ok(refused),
    };
    let file = match app::open_attachment(&state, &viewer, &id, &attachment, &form.purpose).await? {
        Ok(file) => file,
        Err(errors) => return again(&state, &viewer, c, &id, &pairs, errors).await,
    };
    Ok(crate::page::download(&file.file_name, &file.content_type, file.bytes))
}

/// Fold another record of the same person (named by its case code) into this one.
pub(super) async fn merge(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::EditRecords>,
    c: Ctx,
    Path(id): Path<String>,
    CsrfForm(form, pairs): CsrfForm<MergeForm>,
) -> AppResult<Response> {
    match app::merge(&state, &viewer, &id, &form).await? {
        Ok(()) => Ok(Redirect::to(&format!("/persons/{id}?done=persons_merged#merges")).into_response()),
        Err(errors) => again(&state, &viewer, c, &id, &pairs, errors).await,
    }
}

pub(super) async fn grant(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::GrantAccess>,
    c: Ctx,
    Path(id): Path<String>,
    CsrfForm(form, pairs): CsrfForm<GrantForm>,
) -> AppResult<Response> {
    match haven_app::sharing::share(&state, &viewer, KIND, &id, &form).await? {
        Ok(()) => Ok(Redirect::to(&format!("/persons/{id}?done=grant_created")).into_response()),
        Err(errors) => again(&state, &viewer, c, &id, &pairs, errors).await,
    }
}

#[derive(Deserialize)]
pub(super) struct Empty {}

pub(super) async fn revoke(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::GrantAccess>,
    Path((id, grant_id)): Path<(String, String)>,
    CsrfForm(_, _): CsrfForm<Empty>,
) -> AppResult<Response> {
    haven_app::sharing::revoke(&state, &viewer, KIND, &id, &grant_id).await?;
    Ok(Redirect::to(&format!("/persons/{id}?done=grant_revoked")).into_response())
}

#[derive(Template)]
#[template(path = "break_glass.html")]
pub(super) struct BreakGlassPage {
    c: Ctx,
    f: FormState,
    p: Line,
    max_minutes: i64,
}

pub(super) async fn break_glass_form(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::BreakGlass>,
    c: Ctx,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let p = app::get(&state, &id).await?;
    let line = lines(&state, &viewer, vec![p]).await?.remove(0);
    Ok(ok(&BreakGlassPage { c, f: FormState::default(), p: line, max_minutes: access::BREAK_GLASS_MAX_MINUTES }))
}

pub(super) async fn break_glass(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::BreakGlass>,
    c: Ctx,
    Path(id): Path<String>,
    CsrfForm(form, pairs): CsrfForm<BreakGlassForm>,
) -> AppResult<Response> {
    match app::break_glass(&state, &viewer, &id, &form).await? {
        Ok(true) => Ok(Redirect::to(&format!("/persons/{id}?done=break_glass_opened")).into_response()),
        Ok(false) => Ok(Redirect::to(&format!("/persons/{id}")).into_response()),
        Err(errors) => {
            let p = app::get(&state, &id).await?;
            let line = lines(&state, &viewer, vec![p]).await?.remove(0);
            let f = FormState::with_errors(&pairs, errors);
            let page = BreakGlassPage { c, f, p: line, max_minutes: access::BREAK_GLASS_MAX_MINUTES };
            Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page))
        }
    }
}
