//! The home page: the day's work of the person logged in. What waits for them (the task list of
//! `haven_app::tasks`, late first), the decisions waiting for a head, and where to start the things their
//! role and agency do; analysts, auditors and administrators get the pages of their own work.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use haven_app::tasks::{self, Dated};
use haven_domain::work::{areas, has_function, Area};
use haven_domain::Action;

use crate::ctx::Viewer;
use crate::error::AppResult;
use crate::page::{ok, Ctx};
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/", get(home))
}

/// One line of the task list, as shown.
pub struct TaskLine {
    pub code: &'static str,
    pub href: &'static str,
    /// "12", or "99+" when the queue holds more than the list reads.
    pub count: String,
    /// "due 12/03/2026" or "since 02/03/2026", in the page's language; empty when unknown.
    pub when: String,
    pub late: bool,
}

/// A place to start something, or a page of one's own work: its link and one line saying what it is for.
pub struct Start {
    /// The link's id: the key with dashes ("start-report").
    pub id: String,
    pub href: &'static str,
    pub key: &'static str,
    pub hint: &'static str,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    c: Ctx,
    roles: Vec<&'static str>,
    tasks: Vec<TaskLine>,
    /// Whether the user has queues at all (officers and heads), so that an empty list says "nothing waits".
    has_queues: bool,
    /// Identification decisions waiting for this head: (case id, case code, received on).
    decisions: Vec<(String, String, String)>,
    starts: Vec<Start>,
}

async fn home(State(state): State<AppState>, viewer: Viewer, c: Ctx) -> AppResult<Response> {
    let found = tasks::for_caller(&state, &viewer).await?;
    let tasks = found
        .iter()
        .map(|t| {
            let day = t.oldest.map(haven_domain::format::date);
            let when = match (day, t.kind.dated()) {
                (Some(d), Dated::Due) => format!("{} {d}", c.t("task.due_on")),
                (Some(d), Dated::Since) => format!("{} {d}", c.t("task.since")),
                (None, _) => String::new(),
            };
            let count = if t.capped { format!("{}+", tasks::CAP - 1) } else { c.num(&t.count) };
            TaskLine { code: t.kind.code(), href: t.href(), count, when, late: t.late }
        })
        .collect();
    let decisions = if found.iter().any(|t| t.kind == tasks::Kind::Decisions) {
        haven_app::victims::identification::pending(&state, &viewer, 20)
            .await?
            .into_iter()
            .map(|l| {
                let received = crate::page::display(&l.received_on);
                (l.id, l.case_code, received)
            })
            .collect()
    } else {
        Vec::new()
    };
    let page = HomePage {
        c,
        roles: viewer.user.roles.iter().map(|r| r.code()).collect(),
        tasks,
        has_queues: viewer.can(Action::EditRecords) || viewer.can(Action::SuperviseAgency),
        decisions,
        starts: starts(&viewer),
    };
    Ok(ok(&page))
}

/// Where the user starts what their role and agency do.
fn starts(v: &Viewer) -> Vec<Start> {
    let areas = areas(&v.agency.functions);
    let works_in = |a: Area| areas.contains(&a);
    let mut out = Vec::new();
    let mut add = |href, key: &'static str, hint| out.push(Start { id: key.replace('.', "-"), href, key, hint });
    if v.can(Action::CreateRecords) {
        let takes_reports = ["intake", "investigate"].iter().any(|f| has_function(&v.agency.functions, f));
        if works_in(Area::Reports) && takes_reports {
            add("/reports/new", "start.report", "start.report_hint");
        }
        if works_in(Area::Victims) {
            add("/victims/new", "start.victim", "start.victim_hint");
        }
        if works_in(Area::Returnees) {
            add("/handovers", "start.handover", "start.handover_hint");
        }
        if works_in(Area::Absentees) {
            add("/absentees/new", "start.absentee", "start.absentee_hint");
            add("/imports?kind=absentees", "start.import_absentees", "start.import_absentees_hint");
        }
        if works_in(Area::Cooperation) {
            add("/cooperation", "start.cooperation", "start.cooperation_hint");
        }
    }
    if v.can(Action::ViewRecords) {
        add("/persons", "start.find_person", "start.find_person_hint");
    }
    if v.can(Action::ViewAggregates) && !v.can(Action::ManageUsers) {
        add("/indicators", "start.indicators", "start.indicators_hint");
        add("/plans", "start.plans", "start.plans_hint");
        add("/statistics", "start.statistics", "start.statistics_hint");
        add("/exports", "start.exports", "start.exports_hint");
    }
    if v.can(Action::ViewAudit) {
        add("/audit", "start.audit", "start.audit_hint");
        add("/audit?verify=1", "start.audit_verify", "start.audit_verify_hint");
    }
    if v.can(Action::ManageUsers) {
        add("/admin/users", "start.users", "start.users_hint");
    }
    if v.can(Action::ManageAgencies) {
        add("/admin/agencies", "start.agencies", "start.agencies_hint");
    }
    if v.can(Action::ManageSecurity) {
        add("/admin/security", "start.security", "start.security_hint");
    }
    out
}
