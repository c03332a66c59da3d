//! The victim case lists: cases awaiting verification, visits due, and every case of the agency, found by
//! code, filtered and paged; each list as a file.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use haven_app::victims as app;
use haven_domain::format::parse_date;
use haven_store::victims::{CaseFilter, VictimLine};
use serde::Deserialize;
use time::Date;

use crate::ctx::{self as guards, Can, CsrfForm};
use crate::error::AppResult;
use crate::page::{display, ok, Ctx};
use crate::views::pager::{find_typed, PageQuery, Pager, Typed};
use crate::views::table::{send, Cell, Download, Table, DOWNLOAD_LIMIT};
use crate::AppState;

pub struct Line {
    pub v: VictimLine,
    pub received: String,
    pub due: String,
    pub verification: &'static str,
    pub next_visit: String,
    pub visit_late: bool,
}

fn line(v: VictimLine, today: Date) -> Line {
    let (verification, _) = app::verification(&v.verified_on, &v.verification_due, today);
    let next = v.next_visit_on.as_deref().and_then(parse_date);
    Line {
        received: display(&v.received_on),
        due: display(&v.verification_due),
        verification,
        next_visit: next.map(haven_domain::format::date).unwrap_or_default(),
        visit_late: next.is_some_and(|d| d < today),
        v,
    }
}

#[derive(Template)]
#[template(path = "victims.html")]
struct ListPage {
    c: Ctx,
    /// The work lists (awaiting verification, visits due) head the first page only.
    first_page: bool,
    awaiting: Vec<Line>,
    visits: Vec<Line>,
    lines: Vec<Line>,
    /// Which cases the list of all cases shows, and how many each choice holds.
    show: &'static str,
    counts: Vec<(&'static str, i64)>,
    p: Pager,
    /// The code looked for, when no case the viewer may open carries it.
    not_found: Option<String>,
    can_create: bool,
    dl_awaiting: Download,
    dl_visits: Download,
    dl_all: Download,
}

/// Lines of the page's list of all cases.
const PAGE: i64 = 50;

#[derive(Deserialize)]
pub(super) struct ListQuery {
    /// `all`, `open`, `closed` or a status.
    #[serde(default)]
    show: Option<String>,
    /// A case code to go to.
    #[serde(default)]
    code: Option<String>,
    #[serde(flatten)]
    page: PageQuery,
}

fn filter_of(show: Option<&str>) -> AppResult<(&'static str, CaseFilter<'static>)> {
    let code = show.unwrap_or("").trim();
    let filter = app::case_filter(code).ok_or_else(|| crate::error::AppError::BadRequest("show".into()))?;
    let name = match filter {
        CaseFilter::All => "all",
        CaseFilter::Open => "open",
        CaseFilter::Closed => "closed",
        CaseFilter::Status(s) => s,
    };
    Ok((name, filter))
}

pub(super) async fn list(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::ViewRecords>,
    c: Ctx,
    Query(q): Query<ListQuery>,
) -> AppResult<Response> {
    // A case code typed in the search box opens that case when the viewer may open it.
    let find = async |code: &str| app::find_by_code(&state, &viewer, code).await;
    let not_found = match find_typed(q.code.as_deref(), "/victims", find).await? {
        Typed::Open(page) => return Ok(page),
        Typed::NotFound(typed) => typed,
    };
    let (show, filter) = filter_of(q.show.as_deref())?;
    let t = state.today();
    let first_page = q.page.cursor().is_none();
    let lists = if first_page { Some(app::lists(&state, &viewer, 200).await?) } else { None };
    let (awaiting, visits) = match lists {
        Some(l) => {
            (l.awaiting.into_iter().map(|v| line(v, t)).collect(), l.visits.into_iter().map(|v| line(v, t)).collect())
        }
        None => (Vec::new(), Vec::new()),
    };
    let page = app::case_page(&state, &viewer, filter, q.page.cursor(), PAGE).await?;
    let counts = app::case_counts(&state, &viewer).await?;
    let total = counts.iter().find(|(k, _)| *k == show).map(|(_, n)| *n).unwrap_or(0);
    let p = Pager::new(
        "/victims",
        &[("show", if show == "all" { "" } else { show })],
        &q.page,
        page.lines.len(),
        total,
        page.next,
    );
    let lines = page.lines.into_iter().map(|v| line(v, t)).collect();
    let dl = |list: &str| Download::new("/victims/download", &[("list", list), ("show", show)]);
    let page = ListPage {
        c,
        first_page,
        awaiting,
        visits,
        lines,
        show,
        counts,
        p,
        not_found,
        can_create: viewer.can(haven_domain::Action::CreateRecords),
        dl_awaiting: dl("awaiting"),
        dl_visits: dl("visits"),
        dl_all: dl("all"),
    };
    Ok(ok(&page))
}

#[derive(Deserialize)]
pub(super) struct DownloadForm {
    list: String,
    #[serde(default)]
    show: Option<String>,
    format: String,
}

/// One of the page's lists, as a file: the work lists as the page shows them, the list of all cases whole
/// (every case the filter chose, not only the page on screen).
pub(super) async fn download(
    State(state): State<AppState>,
    Can(viewer, ..): Can<guards::ViewRecords>,
    c: Ctx,
    CsrfForm(form, _): CsrfForm<DownloadForm>,
) -> AppResult<Response> {
    let t = state.today();
    let code = |l: &Line| {
        format!("{}{}", l.v.case_code, if l.v.child { format!(" ({})", c.t("victims.child")) } else { String::new() })
    };
    let (title, heads, rows): (&str, Vec<&str>, Vec<Vec<Cell>>) = match form.list.as_str() {
        "awaiting" => (
            "victims.awaiting_verification",
            vec!["reports.code", "victims.received", "victims.verification_due", "reports.status"],
            app::lists(&state, &viewer, 200)
                .await?
                .awaiting
                .into_iter()
                .map(|v| line(v, t))
                .map(|l| {
                    vec![
                        Cell::text(code(&l)),
                        Cell::day(&l.v.received_on),
                        Cell::day(&l.v.verification_due),
                        Cell::text(c.tk("verification", l.verification)),
                    ]
                })
                .collect(),
        ),
        "visits" => (
            "victims.visits_due",
            vec!["reports.code", "victims.next_visit"],
            app::lists(&state, &viewer, 200)
                .await?
                .visits
                .into_iter()
                .map(|v| line(v, t))
                .map(|l| vec![Cell::text(code(&l)), Cell::day(l.v.next_visit_on.as_deref().unwrap_or(""))])
                .collect(),
        ),
        "all" => {
            let (_, filter) = filter_of(form.show.as_deref())?;
            let page = app::case_page(&state, &viewer, filter, None, DOWNLOAD_LIMIT).await?;
            (
                "victims.all",
                vec!["reports.code", "victims.received", "victims.status", "victims.closed_on"],
                page.lines
                    .into_iter()
                    .map(|v| line(v, t))
                    .map(|l| {
                        vec![
                            Cell::text(code(&l)),
                            Cell::day(&l.v.received_on),
                            Cell::text(c.tk("victim_status", &l.v.status)),
                            Cell::day(l.v.closed_on.as_deref().unwrap_or("")),
                        ]
                    })
                    .collect(),
            )
        }
        _ => return Err(crate::error::AppError::BadRequest("list".into())),
    };
    let table = Table {
        name: format!("{} - {}", c.t("victims.title"), c.t(title)),
        headers: heads.iter().map(|k| c.t(k).to_owned()).collect(),
        rows,
    };
    send(&state, &viewer, &format!("victims.{}", form.list), &form.format, table).await
}
