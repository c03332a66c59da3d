//! Criminal case pages: the lists, the case with its timeline from the first report to the judgment, its
//! stages, persons, custody, sealed judgment and sharing. The use cases are `haven_app::cases`.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use haven_app::cases::{self as app, CustodyForm, OpenCaseForm, StageForm};
use haven_app::persons::PURPOSES;
use haven_app::reports::PersonLinkForm;
use haven_app::sharing::GrantForm;
use haven_domain::cases::PersonRole;
use haven_domain::format::Lang;
use haven_store::cases::{CasePerson, CaseRow, Judgment, KIND};
use serde::Deserialize;

use crate::ctx::{self as guards, Can, CsrfForm, Viewer};
use crate::error::AppResult;
use crate::page::{display, display_opt, ok, render, Ctx, FormState};
use crate::views::pager::{find_typed, PageQuery, Pager, Typed};
use crate::views::sharing::{self, Sharing};
use crate::views::table::{send, Cell, Download, Table, DOWNLOAD_LIMIT};
use crate::views::{agencies_of_kind, agency_name};
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/reports/{id}/open-case", post(open_case))
        .route("/cases", get(list))
        .route("/cases/download", post(download))
        .route("/cases/{id}", get(show))
        .route("/cases/{id}/stage", post(stage))
        .route("/cases/{id}/persons", post(add_person))
        .route("/cases/{id}/persons/{person}/custody", post(custody))
        .route("/cases/{id}/judgment", post(judgment))
        .route("/cases/{id}/grants", post(grant))
        .route("/cases/{id}/grants/{grant}/revoke", post(revoke))
}

async fn open_case(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::EditRecords>,
    Path(report_id): Path<String>,
    CsrfForm(form, _): CsrfForm<OpenCaseForm>,
) -> AppResult<Response> {
    match app::open(&state, &viewer, &report_id, &form).await? {
        Ok(id) => Ok(Redirect::to(&format!("/cases/{id}?done=case_opened")).into_response()),
        Err(_) => {
            Ok(Redirect::to(&format!("/reports/{report_id}?problem=case_number_missing&at=case_number"))
                .into_response())
        }
    }
}

pub struct CaseLine {
    pub c: CaseRow,
    pub opened: String,
    pub stage: String,
}

fn case_line(c: CaseRow) -> CaseLine {
    let stage = c.stages.last().map(|(s, _)| s.clone()).unwrap_or_else(|| "opened".into());
    CaseLine { opened: display(&c.opened_on), stage, c }
}

#[derive(Template)]
#[template(path = "cases.html")]
struct ListPage {
    c: Ctx,
    /// `own` (the cases the agency opened) or `sent` (those whose file was sent to it).
    list: &'static str,
    /// How many each list holds: the tabs show only when the agency has both kinds.
    own: i64,
    sent: i64,
    lines: Vec<CaseLine>,
    p: Pager,
    /// The number looked for, when no case the viewer may open carries it.
    not_found: Option<String>,
    dl: Download,
}

/// Cases on a page of the list.
const PAGE: i64 = 50;

#[derive(Deserialize)]
struct ListQuery {
    #[serde(default)]
    list: Option<String>,
    /// A case number to go to.
    #[serde(default)]
    number: Option<String>,
    #[serde(flatten)]
    page: PageQuery,
}

/// The list a query names; by default the one the agency works from (a procuracy or a court, the files sent
/// to it).
fn list_of(list: Option<&str>, viewer: &Viewer) -> AppResult<&'static str> {
    match list.unwrap_or("") {
        "own" => Ok("own"),
        "sent" => Ok("sent"),
        "" if matches!(viewer.agency.kind.as_str(), "procuracy" | "court") => Ok("sent"),
        "" => Ok("own"),
        _ => Err(crate::error::AppError::BadRequest("list".into())),
    }
}

async fn list(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::ViewRecords>,
    c: Ctx,
    Query(q): Query<ListQuery>,
) -> AppResult<Response> {
    let find = async |number: &str| app::find_by_number(&state, &viewer, number).await;
    let not_found = match find_typed(q.number.as_deref(), "/cases", find).await? {
        Typed::Open(page) => return Ok(page),
        Typed::NotFound(typed) => typed,
    };
    let list = list_of(q.list.as_deref(), &viewer)?;
    let page = app::page(&state, &viewer, list == "sent", q.page.cursor(), PAGE).await?;
    let (own, sent) = app::counts(&state, &viewer).await?;
    let total = if list == "sent" { sent } else { own };
    let p = Pager::new("/cases", &[("list", list)], &q.page, page.lines.len(), total, page.next);
    let lines = page.lines.into_iter().map(case_line).collect();
    let dl = Download::new("/cases/download", &[("list", list)]);
    Ok(ok(&ListPage { c, list, own, sent, lines, p, not_found, dl }))
}

#[derive(Deserialize)]
struct DownloadForm {
    list: String,
    format: String,
}

/// The agency's cases, or those sent to it, as a file: the whole list, not only the page on screen.
async fn download(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::ViewRecords>,
    c: Ctx,
    CsrfForm(form, _): CsrfForm<DownloadForm>,
) -> AppResult<Response> {
    let list = list_of(Some(&form.list), &viewer)?;
    let page = app::page(&state, &viewer, list == "sent", None, DOWNLOAD_LIMIT).await?;
    let title = if list == "sent" { "cases.sent_to_us" } else { "cases.ours" };
    let rows = page
        .lines
        .into_iter()
        .map(case_line)
        .map(|l| {
            vec![Cell::text(l.c.case_number.clone()), Cell::day(&l.c.opened_on), Cell::text(c.tk("stage", &l.stage))]
        })
        .collect();
    let heads = ["cases.number", "cases.opened", "cases.stage"];
    let table = Table {
        name: format!("{} - {}", c.t("cases.title"), c.t(title)),
        headers: heads.iter().map(|k| c.t(k).to_owned()).collect(),
        rows,
    };
    send(&state, &viewer, &format!("cases.{list}"), &form.format, table).await
}

/// One step of the chain from the first report to the judgment.
pub struct Step {
    pub on: String,
    pub sort: String,
    pub key: String,
    pub detail: String,
}

/// A victim or suspect of the case, in pseudonymous form.
pub struct PersonLine {
    pub p: CasePerson,
    pub open: bool,
    /// A victim's protection cases the viewer may open (by ownership or grant): (id, code).
    pub victim_cases: Vec<(String, String)>,
    pub arrested: String,
    pub detained: String,
    pub released: String,
}

#[derive(Template)]
#[template(path = "case.html")]
struct CasePage {
    c: Ctx,
    f: FormState,
    l: CaseLine,
    offence: String,
    commune: String,
    procuracy: String,
    court: String,
    timeline: Vec<Step>,
    persons: Vec<PersonLine>,
    roles: Vec<&'static str>,
    /// The viewer's agency owns the case and the viewer may change it.
    can_edit: bool,
    /// The stages the viewer may record now, in the order of the procedure (the first is what the case
    /// waits for).
    stages: Vec<&'static str>,
    /// The viewer's agency takes steps of this case (the part shows even once it has ended).
    takes_stages: bool,
    /// The part opened on load: the one whose form has an error.
    open: Option<&'static str>,
    /// Where the file may be sent: procuracies and courts, (id, name).
    receivers: Vec<(String, String)>,
    can_reveal: bool,
    purposes: &'static [&'static str],
    judgment: Option<Judgment>,
    share: Option<Sharing>,
}

async fn timeline(state: &AppState, case: &CaseRow) -> AppResult<Vec<Step>> {
    let mut timeline = Vec::new();
    for report_id in state.store.reports_of_case(&case.id).await? {
        let Some(r) = state.store.report(&report_id).await? else { continue };
        timeline.push(Step {
            sort: r.received_on.clone(),
            on: display(&r.received_on),
            key: format!("report_kind.{}", r.kind),
            detail: r.case_code.clone(),
        });
        if let Some(on) = &r.sent_to_procuracy_on {
            timeline.push(Step {
                on: display(on),
                sort: on.clone(),
                key: "timeline.procuracy_notified".into(),
                detail: r.case_code.clone(),
            });
        }
        for e in state.store.report_events(&report_id).await? {
            let iso = haven_store::reports::day(e.event.date());
            timeline.push(Step {
                on: display(&iso),
                sort: iso,
                key: format!("clock_event.{}", e.event.code()),
                detail: r.case_code.clone(),
            });
        }
        if let (Some(k), Some(on)) = (&r.decision_kind, &r.decision_on) {
            timeline.push(Step {
                on: display(on),
                sort: on.clone(),
                key: format!("decision.{k}"),
                detail: r.decision_number.clone().unwrap_or_default(),
            });
        }
    }
    timeline.push(Step {
        on: display(&case.opened_on),
        sort: case.opened_on.clone(),
        key: "stage.opened".into(),
        detail: case.case_number.clone(),
    });
    for p in state.store.case_persons(&case.id).await? {
        for (d, key) in [
            (&p.arrested_on, "custody.arrested"),
            (&p.detained_on, "custody.detained"),
            (&p.released_on, "custody.released"),
        ] {
            if let Some(d) = d {
                timeline.push(Step { on: display(d), sort: d.clone(), key: key.into(), detail: p.person_code.clone() });
            }
        }
    }
    for (s, d) in &case.stages {
        timeline.push(Step { on: display(d), sort: d.clone(), key: format!("stage.{s}"), detail: String::new() });
    }
    // A stable sort keeps same-day steps in the order of the procedure.
    timeline.sort_by(|a, b| a.sort.cmp(&b.sort));
    Ok(timeline)
}

/// The fields of the stage form: its part opens when one of them has an error.
const STAGE_FIELDS: [&str; 4] = ["stage", "stage_on", "sent_to", "stage_detail"];

async fn page(
    state: &AppState,
    viewer: &Viewer,
    c: Ctx,
    case: CaseRow,
    f: FormState,
    judgment: Option<Judgment>,
    status: StatusCode,
) -> AppResult<Response> {
    let timeline = timeline(state, &case).await?;
    let offence = state
        .profile
        .offences
        .iter()
        .find(|o| o.code == case.offence_code)
        .map(|o| if c.lang == Lang::En { o.name_en.clone() } else { o.name_vi.clone() })
        .unwrap_or_else(|| case.offence_code.clone());
    let commune = match &case.commune_code {
        Some(code) => state.store.unit_name(code).await?.unwrap_or_default(),
        None => String::new(),
    };
    let name_of = |id: &Option<String>| {
        let id = id.clone();
        let c = &c;
        async move {
            match id {
                Some(id) => agency_name(state, c, &id).await,
                None => Ok(String::new()),
            }
        }
    };
    let procuracy = name_of(&case.procuracy_agency_id).await?;
    let court = name_of(&case.court_agency_id).await?;
    let mut persons = Vec::new();
    for p in state.store.case_persons(&case.id).await? {
        let open = match state.store.person(&p.person_id).await? {
            Some(row) => haven_app::access::record_access(
                state,
                viewer,
                haven_store::persons::KIND,
                &row.id,
                &row.owner_agency_id,
                &[],
            )
            .await?
            .allowed(),
            None => false,
        };
        let mut victim_cases = Vec::new();
        if p.role == "victim" {
            for v in state.store.victim_cases_of_person(&p.person_id).await? {
                let kind = haven_store::victims::KIND;
                if haven_app::access::record_access(state, viewer, kind, &v.id, &v.owner_agency_id, &[])
                    .await?
                    .allowed()
                {
                    victim_cases.push((v.id, v.case_code));
                }
            }
        }
        persons.push(PersonLine {
            victim_cases,
            arrested: display_opt(&p.arrested_on),
            detained: display_opt(&p.detained_on),
            released: display_opt(&p.released_on),
            open,
            p,
        });
    }
    let can_edit = case.owner_agency_id == viewer.agency.id && viewer.can(haven_domain::Action::EditRecords);
    let share =
        sharing::section(state, viewer, &c, KIND, &case.id, &case.owner_agency_id, format!("/cases/{}", case.id))
            .await?;
    let takes_stages = !app::stages_for(viewer, &case).is_empty();
    let stages: Vec<&'static str> =
        app::stages_now(viewer, &case, state.today()).into_iter().map(|s| s.code()).collect();
    let share = share.map(|s| sharing::Sharing { in_part: true, ..s });
    let open = if STAGE_FIELDS.iter().any(|k| f.error(k).is_some()) {
        Some("stage")
    } else if sharing::FIELDS.iter().any(|k| f.error(k).is_some()) {
        Some("share")
    } else {
        None
    };
    let mut receivers = Vec::new();
    if !stages.is_empty() {
        receivers.extend(agencies_of_kind(state, &c, "procuracy").await?);
        receivers.extend(agencies_of_kind(state, &c, "court").await?);
    }
    let can_reveal = haven_app::access::may_unseal(viewer, &case.owner_agency_id, &case.sent_to());
    let page = CasePage {
        c,
        f,
        l: case_line(case),
        offence,
        commune,
        procuracy,
        court,
        timeline,
        persons,
        roles: PersonRole::ALL.iter().map(|r| r.code()).collect(),
        can_edit,
        stages,
        takes_stages,
        open,
        receivers,
        can_reveal,
        purposes: PURPOSES,
        judgment,
        share,
    };
    Ok(render(status, &page))
}

async fn show(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::ViewRecords>,
    c: Ctx,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let case = app::visible(&state, &viewer, &id).await?;
    page(&state, &viewer, c, case, FormState::default(), None, StatusCode::OK).await
}

/// After a change: back to the case with a confirmation, or the case again with what to correct.
async fn answer(
    state: &AppState,
    viewer: &Viewer,
    c: Ctx,
    id: &str,
    pairs: &[(String, String)],
    outcome: haven_app::Outcome<()>,
    done: &str,
) -> AppResult<Response> {
    match outcome {
        Ok(()) => Ok(Redirect::to(&format!("/cases/{id}?done={done}")).into_response()),
        Err(errors) => {
            let case = app::visible(state, viewer, id).await?;
            let f = FormState::with_errors(pairs, errors);
            page(state, viewer, c, case, f, None, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

async fn stage(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::EditRecords>,
    c: Ctx,
    Path(id): Path<String>,
    CsrfForm(form, pairs): CsrfForm<StageForm>,
) -> AppResult<Response> {
    let outcome = app::record_stage(&state, &viewer, &id, &form).await?;
    answer(&state, &viewer, c, &id, &pairs, outcome, "stage_recorded").await
}

async fn add_person(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::EditRecords>,
    c: Ctx,
    Path(id): Path<String>,
    CsrfForm(form, pairs): CsrfForm<PersonLinkForm>,
) -> AppResult<Response> {
    let outcome = app::add_person(&state, &viewer, &id, &form).await?;
    answer(&state, &viewer, c, &id, &pairs, outcome, "person_linked#persons").await
}

async fn custody(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::EditRecords>,
    c: Ctx,
    Path((id, person)): Path<(String, String)>,
    CsrfForm(form, pairs): CsrfForm<CustodyForm>,
) -> AppResult<Response> {
    let outcome = app::set_custody(&state, &viewer, &id, &person, &form).await?;
    answer(&state, &viewer, c, &id, &pairs, outcome, "custody_recorded#persons").await
}

#[derive(Deserialize)]
struct JudgmentForm {
    purpose: String,
}

/// Open the verdict, the appeal and the sentences: they name people, so the view is recorded with its purpose.
async fn judgment(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::ViewIdentity>,
    c: Ctx,
    Path(id): Path<String>,
    CsrfForm(form, pairs): CsrfForm<JudgmentForm>,
) -> AppResult<Response> {
    match app::view_judgment(&state, &viewer, &id, &form.purpose).await? {
        Ok(j) => {
            let case = app::visible(&state, &viewer, &id).await?;
            page(&state, &viewer, c, case, FormState::default(), Some(j), StatusCode::OK).await
        }
        Err(errors) => answer(&state, &viewer, c, &id, &pairs, Err(errors), "").await,
    }
}

async fn grant(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::GrantAccess>,
    c: Ctx,
    Path(id): Path<String>,
    CsrfForm(form, pairs): CsrfForm<GrantForm>,
) -> AppResult<Response> {
    let outcome = haven_app::sharing::share(&state, &viewer, KIND, &id, &form).await?;
    answer(&state, &viewer, c, &id, &pairs, outcome, "grant_created#share").await
}

#[derive(Deserialize)]
struct Empty {}

async fn revoke(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::GrantAccess>,
    Path((id, grant_id)): Path<(String, String)>,
    CsrfForm(_, _): CsrfForm<Empty>,
) -> AppResult<Response> {
    haven_app::sharing::revoke(&state, &viewer, KIND, &id, &grant_id).await?;
    Ok(Redirect::to(&format!("/cases/{id}?done=grant_revoked#share")).into_response())
}

#[cfg(test)]
mod tests {
    use crate::i18n::I18n;
    use haven_domain::cases::Stage;
    use haven_domain::format::Lang;

    #[test]
    fn stages_and_custody_errors_are_translated() {
        let i = I18n::embedded();
        let mut keys: Vec<String> = Stage::ALL.iter().map(|s| format!("stage.{}", s.code())).collect();
        keys.push("stage.opened".into());
        use haven_domain::cases::CustodyError;
        let custody =
            [CustodyError::NotSuspect, CustodyError::InFuture, CustodyError::OutOfOrder, CustodyError::NotTried];
        keys.extend(custody.map(|e| e.key().to_owned()));
        for lang in [Lang::Vi, Lang::En] {
            for k in &keys {
                assert_ne!(i.get(lang, k), k.as_str(), "{k} in {lang:?}");
            }
        }
    }
}
