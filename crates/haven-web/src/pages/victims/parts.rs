//! The parts of a victim case page, in the order of the work (verification, identification, support,
//! protection, reintegration, consent and sharing, referrals, custody, context, cooperation): each a closed
//! section whose heading line says how it stands. Together they are the case's task list.

use haven_domain::victims::Parts;
use haven_store::victims::VictimCase;

use super::case::{ConsentLine, CustodyLine, Entitlement, MeasureLine, SupportLine, VisitLine};
use crate::page::Ctx;

/// The parts of a case page, in the order of the work: each is a section of the page, closed until asked
/// for, whose heading line says how it stands; together they are the case's task list.
const PARTS: [&str; 10] = [
    "steps",
    "identification",
    "support",
    "protection",
    "reintegration",
    "consents",
    "referrals",
    "custody",
    "context",
    "cooperation",
];

/// The part of that name, if there is one.
pub(super) fn part_named(name: &str) -> Option<&'static str> {
    PARTS.into_iter().find(|p| *p == name)
}

/// One part of the case as its heading line shows it: its name (ids and `?open=`), how it stands in words,
/// and how that reads at a glance.
pub struct Section {
    pub name: &'static str,
    pub status: String,
    pub tone: Tone,
}

/// How a part's standing is shown: completed in plain text, work to do in blue, late in red, the rest as
/// a neutral tag (the GOV.UK task list's statuses).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Done,
    ToDo,
    Late,
    Info,
}

impl Section {
    /// The status tag's class.
    pub fn class(&self) -> &'static str {
        match self.tone {
            Tone::Done => "status-done",
            Tone::ToDo => "tag tag-todo",
            Tone::Late => "tag tag-late",
            Tone::Info => "tag",
        }
    }
}

/// What the task list is drawn from.
pub(super) struct Standing<'a> {
    pub(super) v: &'a VictimCase,
    pub(super) parts: &'a Parts,
    pub(super) verification: &'static str,
    pub(super) verified: bool,
    pub(super) supports: &'a [SupportLine],
    pub(super) entitlements: &'a [Entitlement],
    pub(super) measures: &'a [MeasureLine],
    pub(super) goals: &'a [haven_store::victims::GoalRow],
    pub(super) visits: &'a [VisitLine],
    pub(super) consents: &'a [ConsentLine],
    pub(super) referrals: &'a [crate::views::referrals::ReferralLine],
    pub(super) custody: &'a [CustodyLine],
    pub(super) pending_handover: bool,
    pub(super) context_recorded: bool,
    pub(super) cooperation: &'a [crate::views::cooperation::Line],
}

/// The task list: each part the viewer sees, with how it stands.
pub(super) fn sections(c: &Ctx, s: &Standing) -> Vec<Section> {
    let word = |key: &str| c.t(&format!("part_status.{key}")).to_owned();
    let counted = |n: usize, key: &str| format!("{} {}", c.num(&(n as i64)), c.t(&format!("part_status.{key}")));
    let v = s.v;
    let mut out = Vec::new();
    let mut add = |name: &'static str, status: String, tone: Tone| out.push(Section { name, status, tone });
    let late_or = |late: bool, tone: Tone| if late { Tone::Late } else { tone };
    if s.parts.steps {
        let (key, tone) = match s.verification {
            "verified" => ("done", Tone::Done),
            "overdue" => ("overdue", Tone::Late),
            _ if s.verified => ("done", Tone::Done),
            _ => ("to_do", Tone::ToDo),
        };
        add("steps", word(key), tone);
    }
    if s.parts.identification {
        let (key, tone) = if v.approved_by.is_some() {
            ("done", Tone::Done)
        } else if v.proposed_outcome.is_some() {
            ("awaiting_approval", Tone::ToDo)
        } else if !s.verified {
            ("cannot_start", Tone::Info)
        } else {
            ("to_do", Tone::ToDo)
        };
        add("identification", word(key), tone);
    }
    if s.parts.support {
        let late = s.entitlements.iter().any(|e| e.standing == "overdue");
        let (status, tone) = match (s.supports.len(), late) {
            (_, true) => (word("overdue"), Tone::Late),
            (0, _) if s.entitlements.is_empty() => (word("none"), Tone::Info),
            (0, _) => (word("to_do"), Tone::ToDo),
            (n, _) => (counted(n, "given"), Tone::Info),
        };
        add("support", status, tone);
    }
    if s.parts.protection {
        let status = if s.measures.is_empty() { word("none") } else { counted(s.measures.len(), "measures") };
        add("protection", status, Tone::Info);
    }
    if s.parts.reintegration {
        let late = s.visits.iter().any(|l| l.late);
        let (status, tone) = if v.closed_on.is_some() {
            (word("closed"), Tone::Done)
        } else if late {
            (word("visit_late"), Tone::Late)
        } else if s.goals.is_empty() && s.visits.is_empty() {
            (word("to_do"), Tone::ToDo)
        } else {
            (word("in_progress"), Tone::Info)
        };
        add("reintegration", status, tone);
    }
    if s.parts.consents {
        let in_force = s.consents.iter().filter(|k| k.in_force).count();
        let status = if in_force == 0 { word("no_consent") } else { counted(in_force, "in_force") };
        add("consents", status, Tone::Info);
    }
    let status = if s.referrals.is_empty() { word("none") } else { counted(s.referrals.len(), "referrals") };
    add("referrals", status, Tone::Info);
    let (status, tone) = if s.pending_handover {
        (word("awaiting_answer"), Tone::ToDo)
    } else {
        let holder = s.custody.iter().rev().find(|h| h.until.is_empty()).map(|h| h.agency.clone());
        (holder.unwrap_or_default(), Tone::Info)
    };
    add("custody", status, tone);
    if s.parts.context {
        let (key, tone) = if s.context_recorded { ("recorded", Tone::Done) } else { ("to_do", Tone::ToDo) };
        add("context", word(key), tone);
    }
    if !s.cooperation.is_empty() {
        let late = s.cooperation.iter().any(|l| l.overdue());
        add("cooperation", counted(s.cooperation.len(), "requests"), late_or(late, Tone::Info));
    }
    out
}
