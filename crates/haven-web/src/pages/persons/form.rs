//! The identity form: a new person, and the correction of one (opened with a purpose).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use haven_app::persons::{self as app, NewPerson, NATIONALITIES};
use serde::Deserialize;

use super::page::{again, RevealForm};
use crate::ctx::{self as guards, Can, CsrfForm};
use crate::error::AppResult;
use crate::page::{ok, render, Ctx, FormState};
use crate::AppState;

#[derive(Template)]
#[template(path = "person_new.html")]
pub(super) struct NewPage {
    c: Ctx,
    f: FormState,
    communes: Vec<(String, String)>,
    /// Nationalities offered, with a stored one outside the usual list.
    countries: Vec<String>,
    /// Where the form posts: a new record, or the correction of one.
    action: String,
    editing: bool,
}

impl NewPage {
    fn new(c: Ctx, f: FormState, communes: Vec<(String, String)>) -> NewPage {
        let mut countries: Vec<String> = NATIONALITIES.iter().map(|c| (*c).to_owned()).collect();
        let stored = f.value("nationality").to_owned();
        if !stored.is_empty() && !countries.contains(&stored) {
            countries.push(stored);
        }
        NewPage { c, f, communes, countries, action: "/persons".into(), editing: false }
    }
}

#[derive(Deserialize)]
pub(super) struct NewQuery {
    /// Name the new person on a record once created: `report:<id>` or `case:<id>`.
    link: Option<String>,
    role: Option<String>,
}

pub(super) async fn new_form(
    State(state): State<AppState>,
    Can(..): Can<guards::CreateRecords>,
    c: Ctx,
    Query(q): Query<NewQuery>,
) -> AppResult<Response> {
    let communes = state.store.communes(&state.config.province).await?;
    let mut f = FormState::default();
    f.values.push(("nationality".into(), "VN".into()));
    if let (Some(link), Some(role)) = (q.link, q.role) {
        f.values.push(("link".into(), link));
        f.values.push(("link_role".into(), role));
    }
    Ok(ok(&NewPage::new(c, f, communes)))
}

pub(super) async fn create(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::CreateRecords>,
    c: Ctx,
    CsrfForm(form, pairs): CsrfForm<NewPerson>,
) -> AppResult<Response> {
    let link = app::link_target(&state, &viewer, &form.link, &form.link_role).await?;
    if link.is_none() && !form.link.is_empty() {
        // Asked to name the person on a record this user may not change: refuse rather than ignore it.
        return Err(crate::error::AppError::Forbidden);
    }
    match app::create_and_link(&state, &viewer, form.input(), link.as_ref()).await? {
        Ok(id) => Ok(Redirect::to(&match &link {
            Some((app::LinkTarget::Report(r), _)) => format!("/reports/{r}?done=person_linked#persons"),
            Some((app::LinkTarget::Case(k), _)) => format!("/cases/{k}?done=person_linked#persons"),
            None => format!("/persons/{id}?done=person_created"),
        })
        .into_response()),
        Err(errors) => {
            let f = FormState::with_errors(&pairs, errors);
            let communes = state.store.communes(&state.config.province).await?;
            Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &NewPage::new(c, f, communes)))
        }
    }
}

/// The correction form, filled with the identity as it stands. Opening it is an audited view with the purpose
/// the officer chose, so it is a POST: a link followed or prefetched never writes a view in anyone's name.
pub(super) async fn edit_form(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::EditRecords>,
    c: Ctx,
    Path(id): Path<String>,
    CsrfForm(form, pairs): CsrfForm<RevealForm>,
) -> AppResult<Response> {
    let i = match app::open_for_correction(&state, &viewer, &id, &form.purpose).await? {
        Ok(i) => i,
        Err(errors) => return again(&state, &viewer, c, &id, &pairs, errors).await,
    };
    let mut f = FormState::default();
    for (k, v) in [
        ("full_name", i.full_name),
        ("birth_date", i.birth_date.unwrap_or_default()),
        ("sex", i.sex),
        ("id_number", i.id_number.unwrap_or_default()),
        ("phone", i.phone.unwrap_or_default()),
        ("address", i.address.unwrap_or_default()),
        ("commune_code", i.commune_code.unwrap_or_default()),
        ("other_names", i.other_names.join("\n")),
        ("ethnicity", i.ethnicity.unwrap_or_default()),
        ("nationality", i.nationality.unwrap_or_default()),
        ("passport", i.passport.unwrap_or_default()),
        ("language", i.language.unwrap_or_default()),
        ("interpreter", if i.interpreter { "1".into() } else { String::new() }),
    ] {
        f.values.push((k.into(), v));
    }
    let communes = state.store.communes(&state.config.province).await?;
    Ok(ok(&NewPage { action: format!("/persons/{id}/edit"), editing: true, ..NewPage::new(c, f, communes) }))
}

pub(super) async fn edit(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::EditRecords>,
    c: Ctx,
    Path(id): Path<String>,
    CsrfForm(form, pairs): CsrfForm<NewPerson>,
) -> AppResult<Response> {
    match app::update(&state, &viewer, &id, form.input()).await? {
        Ok(changed) if changed.is_empty() => Ok(Redirect::to(&format!("/persons/{id}?done=no_change")).into_response()),
        Ok(_) => Ok(Redirect::to(&format!("/persons/{id}?done=person_updated")).into_response()),
        Err(errors) => {
            let f = FormState::with_errors(&pairs, errors);
            let communes = state.store.communes(&state.config.province).await?;
            let page = NewPage { action: format!("/persons/{id}/edit"), editing: true, ..NewPage::new(c, f, communes) };
            Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page))
        }
    }
}
