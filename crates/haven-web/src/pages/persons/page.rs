//! The person page, and the refusal with break-the-glass for one who may not open the record.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use haven_app::persons::{self as app, Opened, PURPOSES};
use haven_domain::access::AccessDecision;
use haven_domain::person as rules;
use haven_domain::Role;
use haven_store::persons::{AttachmentRow, MergeRow, PersonRow, KIND};
use serde::Deserialize;

use super::{lines, Line};
use crate::ctx::{self as guards, Can, CsrfForm, Viewer};
use crate::error::AppResult;
use crate::page::{render, Ctx, FormState};
use crate::views::sharing::{self, Sharing};
use crate::AppState;

#[derive(Template)]
#[template(path = "person.html")]
pub(super) struct PersonPage {
    /// Register entries of the person: (register, code, link for the owning agency).
    registers: Vec<(&'static str, String, Option<String>)>,
    /// Records confirmed as the same person.
    same_as: Vec<crate::views::matches::Side>,
    candidates: Vec<crate::views::matches::CandidateLine>,
    c: Ctx,
    f: FormState,
    p: Line,
    decision: &'static str,
    identity: Option<Opened>,
    can_reveal: bool,
    /// The owner agency's officer who may correct the identity, add relatives and files, and merge records.
    can_edit: bool,
    purposes: &'static [&'static str],
    share: Option<Sharing>,
    attachments: Vec<AttachmentLine>,
    relative_count: i64,
    relations: &'static [&'static str],
    attachment_kinds: &'static [&'static str],
    max_attachment_mib: usize,
    merges: Vec<MergeLine>,
    /// (id, case code) of the record this one was merged into.
    merged_into: Option<(String, String)>,
    /// Who opened or changed the identity: for the owner agency's head only.
    views: Option<Vec<ViewLine>>,
}

pub struct AttachmentLine {
    pub row: AttachmentRow,
    pub size: String,
}

pub struct MergeLine {
    pub row: MergeRow,
    pub by: String,
}

pub struct ViewLine {
    pub at: i64,
    pub who: String,
    pub action: String,
    pub purpose: String,
}

#[derive(Template)]
#[template(path = "person_denied.html")]
pub(super) struct DeniedPage {
    c: Ctx,
    p: Line,
    can_break_glass: bool,
}

/// "1.2 MB", "340 KB": sizes as people read them.
pub(super) fn human_size(bytes: i64) -> String {
    if bytes >= 1024 * 1024 {
        format!("{:.1} MB", bytes as f64 / (1024.0 * 1024.0))
    } else {
        format!("{} KB", (bytes + 1023) / 1024)
    }
}

pub(super) async fn person_page(
    state: &AppState,
    viewer: &Viewer,
    c: Ctx,
    p: PersonRow,
    identity: Option<Opened>,
    f: FormState,
    status: StatusCode,
) -> AppResult<Response> {
    let decision = app::decision(state, viewer, &p).await?;
    let line = lines(state, viewer, vec![p.clone()]).await?.remove(0);
    if !decision.allowed() {
        let page = DeniedPage { c, p: line, can_break_glass: viewer.can(haven_domain::Action::BreakGlass) };
        return Ok(render(StatusCode::FORBIDDEN, &page));
    }
    let share =
        sharing::section(state, viewer, &c, KIND, &p.id, &p.owner_agency_id, format!("/persons/{}", p.id)).await?;
    // Users named on the page (who merged, who viewed), each looked up once; they may be of any agency.
    let mut users: std::collections::HashMap<String, String> = std::collections::HashMap::new();
    let merge_rows = state.store.merges_into(&p.id).await?;
    let is_head = p.owner_agency_id == viewer.agency.id && viewer.has_role(Role::AgencyHead);
    let view_rows = if is_head { state.store.identity_views_of_person(&p.id, 100).await? } else { Vec::new() };
    for id in merge_rows.iter().map(|m| &m.merged_by).chain(view_rows.iter().map(|v| &v.1)) {
        if !users.contains_key(id) {
            let name = state.store.user(id).await?.map(|u| format!("{} ({})", u.display_name, u.username));
            users.insert(id.clone(), name.unwrap_or_default());
        }
    }
    let name_of = |id: &str| users.get(id).cloned().unwrap_or_default();
    let attachments = state
        .store
        .attachments(&p.id)
        .await?
        .into_iter()
        .map(|row| AttachmentLine { size: human_size(row.size), row })
        .collect();
    let merges = merge_rows.into_iter().map(|row| MergeLine { by: name_of(&row.merged_by), row }).collect();
    let merged_into = match &p.merged_into {
        Some(id) => state.store.person(id).await?.map(|s| (s.id, s.case_code)),
        None => None,
    };
    let views = is_head.then(|| {
        view_rows
            .into_iter()
            .map(|(at, who, action, purpose)| ViewLine { at, who: name_of(&who), action, purpose })
            .collect()
    });
    // Where the person stands in the registers, the records confirmed as the same person, and the pairs
    // matching proposed.
    let mut registers = Vec::new();
    for a in state.store.absentees_of_person(&p.id).await? {
        let link = (a.owner_agency_id == viewer.agency.id).then(|| format!("/absentees/{}", a.id));
        registers.push(("absentee", a.case_code, link));
    }
    for r in state.store.returnees_of_person(&p.id).await? {
        let link = (r.owner_agency_id == viewer.agency.id).then(|| format!("/returnees/{}", r.id));
        registers.push(("returnee", r.case_code, link));
    }
    let mut same_as = Vec::new();
    for other in state.store.linked_people(&p.id).await? {
        same_as.push(crate::views::matches::side(state, viewer, &c, &other).await?);
    }
    let candidates = crate::views::matches::candidate_lines(state, viewer, &c, &p.id).await?;
    let page = PersonPage {
        registers,
        same_as,
        candidates,
        can_edit: app::may_edit(viewer, &p),
        attachments,
        relative_count: state.store.count_relatives(&p.id).await?,
        relations: rules::RELATIONS,
        attachment_kinds: rules::ATTACHMENT_KINDS,
        max_attachment_mib: rules::MAX_ATTACHMENT_BYTES / (1024 * 1024),
        merges,
        merged_into,
        views,
        decision: match decision {
            AccessDecision::Owner => "owner",
            AccessDecision::SentTo => "sent_to",
            AccessDecision::Granted { .. } => "granted",
            AccessDecision::BrokenGlass { .. } => "break_glass",
            AccessDecision::Denied => "denied",
        },
        c,
        f,
        p: line,
        identity,
        can_reveal: viewer.can(haven_domain::Action::ViewIdentity),
        purposes: PURPOSES,
        share,
    };
    Ok(render(status, &page))
}

pub(super) async fn show(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::ViewRecords>,
    c: Ctx,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let p = app::get(&state, &id).await?;
    person_page(&state, &viewer, c, p, None, FormState::default(), StatusCode::OK).await
}

#[derive(Deserialize)]
pub(super) struct RevealForm {
    pub(super) purpose: String,
}

/// The person page again after a form, with what to correct (or the refusal, for one who may not see it).
pub(super) async fn again(
    state: &AppState,
    viewer: &Viewer,
    c: Ctx,
    id: &str,
    pairs: &[(String, String)],
    errors: haven_app::FieldErrors,
) -> AppResult<Response> {
    let p = app::get(state, id).await?;
    let f = FormState::with_errors(pairs, errors);
    person_page(state, viewer, c, p, None, f, StatusCode::UNPROCESSABLE_ENTITY).await
}

/// A person page for one who may not open the record answers 403 with the way to break the glass, for any of
/// the forms that open identity data.
pub(super) async fn refused_or(
    state: &AppState,
    viewer: &Viewer,
    c: Ctx,
    id: &str,
) -> AppResult<Result<Ctx, Response>> {
    let p = app::get(state, id).await?;
    if app::decision(state, viewer, &p).await?.allowed() {
        return Ok(Ok(c));
    }
    Ok(Err(person_page(state, viewer, c, p, None, FormState::default(), StatusCode::FORBIDDEN).await?))
}

pub(super) async fn reveal(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::ViewIdentity>,
    c: Ctx,
    Path(id): Path<String>,
    CsrfForm(form, pairs): CsrfForm<RevealForm>,
) -> AppResult<Response> {
    let c = match refused_or(&state, &viewer, c, &id).await? {
        Ok(c) => c,
        Err(refused) => return Ok(refused),
    };
    match app::open(&state, &viewer, &id, &form.purpose).await? {
        Ok(opened) => {
            let p = app::get(&state, &id).await?;
            person_page(&state, &viewer, c, p, Some(opened), FormState::default(), StatusCode::OK).await
        }
        Err(errors) => again(&state, &viewer, c, &id, &pairs, errors).await,
    }
}

#[cfg(test)]
mod tests;
