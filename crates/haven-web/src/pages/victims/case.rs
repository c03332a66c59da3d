//! The victim case page: everything about the case the viewer's access opens, with the forms of the owning
//! agency. Built from `haven_app::victims`; each part a referral does not open is left out.

use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;
use haven_app::victims::{self as app, COUNTRIES, STEP_KINDS};
use haven_domain::format::{parse_date, Lang};
use haven_domain::victims::consent;
use haven_domain::victims::support::{self, Given, Limit};
use haven_domain::victims::{self as rules, htcds, Parts, EVIDENCE, RECEPTION_KINDS};
use haven_domain::Role;
use haven_store::victims::{VictimCase, KIND};

use super::parts::{sections, Section, Standing};
use crate::ctx::Viewer;
use crate::error::AppResult;
use crate::page::{display, display_opt, render, Ctx, FormState};
use crate::views::sharing::{self, Sharing};
use crate::AppState;

pub struct StepLine {
    pub kind: String,
    pub on: String,
    pub place: String,
    pub agency: String,
    pub officer: String,
}

/// A regime the person is entitled to, and how it stands.
pub struct Entitlement {
    pub code: String,
    pub name: String,
    /// `not_given`, `given`, `days_left`, `due_by`, `overdue`.
    pub standing: &'static str,
    pub detail: String,
}

pub struct SupportLine {
    pub regime: String,
    pub on: String,
    pub provider: String,
    pub quantity: i64,
    pub amount: String,
    pub acknowledged: bool,
}

pub struct ConsentLine {
    pub id: String,
    pub purpose: String,
    pub target: String,
    pub given_by: String,
    pub given_on: String,
    pub expires_on: String,
    pub withdrawn_on: String,
    pub in_force: bool,
    /// Held by the viewer's agency: only the agency that holds a consent withdraws it.
    pub ours: bool,
    /// The agency that holds it, when it is another.
    pub held_by: String,
}

#[derive(Template)]
#[template(path = "victim.html")]
pub(super) struct CasePage {
    c: Ctx,
    f: FormState,
    v: VictimCase,
    /// The parts of the case this viewer sees (all but for an agency reading it on a referral).
    parts: Parts,
    person_code: String,
    person_open: bool,
    /// Open pairs of the person with other records (the same person entered again, here or elsewhere): for
    /// those who may open the person record, where the pairs are shown.
    possible_matches: bool,
    received: String,
    commune: String,
    /// The day verification happened, or until then the day it is due.
    due: String,
    verification: &'static str,
    days: i64,
    steps: Vec<StepLine>,
    entitlements: Vec<Entitlement>,
    supports: Vec<SupportLine>,
    consents: Vec<ConsentLine>,
    can_edit: bool,
    can_approve: bool,
    proposed_on: String,
    step_kinds: &'static [&'static str],
    evidence: &'static [&'static str],
    agencies: Vec<(String, String)>,
    agency_kinds: Vec<String>,
    consent_purposes: &'static [&'static str],
    communes: Vec<(String, String)>,
    share: Option<Sharing>,
    referrals: Vec<crate::views::referrals::ReferralLine>,
    /// (code, name) of each referral kind.
    referral_kinds: Vec<(String, String)>,
    /// International cooperation requests of the viewer's agency about the case.
    cooperation: Vec<crate::views::cooperation::Line>,
    can_override: bool,
    /// HTCDS code lists: (field, codes), and the codes recorded for each.
    exploitation: Vec<(String, bool)>,
    control: Vec<(String, bool)>,
    recruitment: Vec<(String, bool)>,
    relationships: Vec<String>,
    event_kinds: Vec<String>,
    countries: &'static [&'static str],
    events: Vec<haven_store::victims::EventRow>,
    measures: Vec<MeasureLine>,
    goals: Vec<haven_store::victims::GoalRow>,
    visits: Vec<VisitLine>,
    measure_kinds: &'static [&'static str],
    protected: &'static [&'static str],
    goal_areas: &'static [&'static str],
    risks: &'static [&'static str],
    close_reasons: &'static [&'static str],
    reception_kinds: &'static [&'static str],
    previous_code: String,
    closed_on: String,
    /// The parts whose forms the viewer may use: all for the holder, a live referral's parts for its receiver.
    work: Parts,
    custody: Vec<CustodyLine>,
    /// The handover awaiting an answer, if any.
    pending_handover: Option<PendingHandover>,
    /// (id, name) of the agencies the holder may hand the case to.
    handover_to: Vec<(String, String)>,
    /// The grounds of the identification, for the holder (the head judges on them; the officer reads a return).
    grounds: Option<haven_app::victims::identification::Grounds>,
    /// Verification with the police is recorded, or why it could not be done: a decision may be proposed.
    verified: bool,
    /// The approved identification prints as a certificate for this viewer.
    can_print: bool,
    /// How verification with the police stands, as the head reads it on a proposal.
    verification_text: String,
    /// The parts this viewer sees, as the task list shows them.
    sections: Vec<Section>,
    /// The part shown open: the one asked for, or the one whose form was just sent.
    open: Option<&'static str>,
    /// The border screening that opened the case, carried over.
    screening: Option<ScreeningView>,
    /// For an agency that handed the case over: the day it did (it sees what was recorded until then).
    handed_over_on: String,
}

/// The border screening a case carries over: when, the classification, each indicator ticked (its group and
/// question), and the returnee record with the officer's notes when the viewer may open it.
pub struct ScreeningView {
    pub on: String,
    pub classification: String,
    pub ticked: Vec<(String, String)>,
    pub returnee_id: String,
    pub returnee_open: bool,
}

/// One agency's time holding the case.
pub struct CustodyLine {
    pub agency: String,
    pub from: String,
    pub until: String,
    /// Why it received the case (for the two agencies of the handover), or how it received the victim.
    pub why: String,
}

pub struct PendingHandover {
    pub id: String,
    pub to: String,
    pub on: String,
    /// The viewer's agency proposed it (and may withdraw it).
    pub ours: bool,
}

pub struct MeasureLine {
    pub kind: String,
    pub for_whom: String,
    pub starts: String,
    pub ends: String,
    pub agency: String,
}

pub struct VisitLine {
    pub due: String,
    pub visited: String,
    pub risk: String,
    pub officer: String,
    pub late: bool,
}

impl CasePage {
    /// The part of that name, if this viewer sees it.
    fn section(&self, name: &str) -> Option<&Section> {
        self.sections.iter().find(|s| s.name == name)
    }
    /// Whether the part is shown open.
    fn is_open(&self, name: &str) -> bool {
        self.open == Some(name)
    }
}

#[allow(clippy::too_many_arguments)]
pub(super) async fn page(
    state: &AppState,
    viewer: &Viewer,
    c: Ctx,
    mut v: VictimCase,
    mut f: FormState,
    open: Option<&'static str>,
    status: StatusCode,
) -> AppResult<Response> {
    let t = state.today();
    // The case file and what the page adds to it are independent reads: side by side.
    let (file, person, communes) = tokio::try_join!(
        async { Ok::<_, crate::error::AppError>(app::file::read(state, viewer, &v.id).await?) },
        async { Ok(state.store.person(&v.person_id).await?) },
        async { Ok(state.store.communes(&state.config.province).await?) },
    )?;
    let custody_chain = file.custody();
    let pending_handover = file.pending_handover().cloned();
    let handed_over_on =
        file.until.and_then(haven_domain::time::local_date).map(haven_domain::format::date).unwrap_or_default();
    let app::file::CaseFile {
        case,
        parts,
        steps: step_rows,
        supports: given,
        consents: consent_rows,
        referrals: referral_rows,
        events,
        measures: measure_rows,
        goals,
        visits: visit_rows,
        handovers,
        screening,
        ..
    } = file;
    v = case;
    let all_agencies = state.store.agencies().await?;
    let agency_label = |id: &str| {
        all_agencies
            .iter()
            .find(|a| a.id == id)
            .map(|a| c.agency_label(&a.name_vi, &a.name_en).to_owned())
            .unwrap_or_default()
    };
    let mut custody = Vec::with_capacity(custody_chain.len());
    for h in &custody_chain {
        let why = match h.handover_id.as_deref().and_then(|id| handovers.iter().find(|x| x.id == id)) {
            Some(x) => haven_app::victims::handover::reason(state, viewer, x).await.ok().flatten().unwrap_or_default(),
            None => c.tk("reception", &v.reception_kind).to_owned(),
        };
        custody.push(CustodyLine {
            agency: agency_label(&h.agency_id),
            from: haven_domain::format::date(h.from),
            until: h.until.map(haven_domain::format::date).unwrap_or_default(),
            why,
        });
    }
    let pending_handover = pending_handover.map(|h| PendingHandover {
        to: agency_label(&h.to_agency_id),
        on: haven_domain::time::local_date(h.proposed_at).map(haven_domain::format::date).unwrap_or_default(),
        ours: h.from_agency_id == viewer.agency.id,
        id: h.id,
    });
    let screening = screening.map(|r| ScreeningView {
        on: r.screened_at.and_then(haven_domain::time::local_date).map(haven_domain::format::date).unwrap_or_default(),
        classification: r.classification.clone().unwrap_or_default(),
        ticked: r
            .indicators
            .as_deref()
            .unwrap_or_default()
            .split_whitespace()
            .filter_map(|code| state.profile.screening.indicator(code))
            .map(|i| {
                let question = if c.lang == Lang::En { &i.question_en } else { &i.question_vi };
                (c.tk("indicator_group", &i.group).to_owned(), question.clone())
            })
            .collect(),
        returnee_open: r.owner_agency_id == viewer.agency.id,
        returnee_id: r.id,
    });
    let work = app::work_parts(state, viewer, &v).await?;
    let holder = v.owner_agency_id == viewer.agency.id;
    let handover_to = if holder {
        let kinds = state.profile.handovers.receivers(&viewer.agency.kind);
        all_agencies
            .iter()
            .filter(|a| a.active && a.id != viewer.agency.id && kinds.contains(&a.kind))
            .map(|a| (a.id.clone(), c.agency_label(&a.name_vi, &a.name_en).to_owned()))
            .collect()
    } else {
        Vec::new()
    };
    let grounds = if holder && parts.identification {
        Some(haven_app::victims::identification::grounds(state, viewer, &v).await?)
    } else {
        None
    };
    // A proposal a head returned keeps its grounds: the form opens with them, for the officer to amend.
    if holder && f.values.is_empty() && v.returned_by.is_some() && !v.pending() {
        f = returned_proposal(&v);
    }
    let verified = v.verified_on.is_some() || v.verification_waived_on.is_some();
    let verification_text = match (&v.verified_on, &v.verification_waived_on) {
        (Some(d), _) => format!("{} {}", c.t("victims.verified_on"), display(d)),
        (None, Some(d)) => format!("{} {}", c.t("victims.verification_impossible_on"), display(d)),
        (None, None) => c.t("victims.not_verified").to_owned(),
    };
    let can_print =
        holder && v.status == "identified" && v.approved_by.is_some() && viewer.can(haven_domain::Action::ViewIdentity);
    let person_code = person.as_ref().map(|p| p.case_code.clone()).unwrap_or_default();
    let person_open = match &person {
        Some(_) if !parts.person => false,
        Some(p) => haven_app::persons::decision(state, viewer, p).await?.allowed(),
        None => false,
    };
    let possible_matches =
        person_open && state.store.candidates_of_person(&v.person_id).await?.iter().any(|m| m.status == "open");
    let mut steps = Vec::new();
    for s in step_rows {
        let place = match &s.commune_code {
            Some(code) => state.store.unit_name(code).await?.unwrap_or_default(),
            None => String::new(),
        };
        steps.push(StepLine {
            kind: s.kind,
            on: display(&s.on),
            place,
            agency: agency_label(&s.agency_id),
            officer: s.officer,
        });
    }
    let name_of = |code: &str| {
        state
            .profile
            .support
            .regime(code)
            .map(|r| if c.lang == Lang::En { r.name_en.clone() } else { r.name_vi.clone() })
            .unwrap_or_else(|| code.to_owned())
    };
    let entitlements: Vec<Entitlement> = state
        .profile
        .support
        .eligible(app::situation(&v))
        .into_iter()
        .map(|r| {
            let mine: Vec<Given> = given.iter().filter(|g| g.regime == r.code).filter_map(|g| g.given()).collect();
            let (standing, detail) = match support::standing(r, v.identified(), t, &mine) {
                support::Standing::NotGiven => ("not_given", String::new()),
                support::Standing::Given => ("given", String::new()),
                support::Standing::DaysLeft(n) => ("days_left", n.to_string()),
                support::Standing::DueBy(d) => ("due_by", haven_domain::format::date(d)),
                support::Standing::Overdue => ("overdue", String::new()),
            };
            let detail = match (r.limit, standing) {
                // "Not given (up to 60 days)": the days the regime allows, never a bare number.
                (Limit::Days(max), "not_given") => {
                    format!("({} {max} {})", c.t("entitlement.up_to"), c.t("entitlement.days"))
                }
                _ => detail,
            };
            Entitlement { code: r.code.clone(), name: name_of(&r.code), standing, detail }
        })
        .collect();
    let supports: Vec<SupportLine> = given
        .iter()
        .map(|g| SupportLine {
            regime: name_of(&g.regime),
            on: display(&g.given_on),
            provider: agency_label(&g.provider_agency_id),
            quantity: g.quantity,
            amount: haven_domain::format::integer(g.amount_vnd, c.lang),
            acknowledged: g.acknowledged,
        })
        .collect();
    let mut consents = Vec::new();
    for row in consent_rows {
        let in_force = row.consent().is_some_and(|k| k.in_force(t));
        let target = match row.purpose.as_str() {
            "share_agency" => agency_label(&row.target),
            "share_agency_kind" => c.tk("kind", &row.target),
            _ => String::new(),
        };
        let ours = row.agency_id.as_deref() == Some(viewer.agency.id.as_str());
        let held_by =
            if ours { String::new() } else { row.agency_id.as_deref().map(&agency_label).unwrap_or_default() };
        consents.push(ConsentLine {
            ours,
            held_by,
            id: row.id,
            purpose: row.purpose,
            target,
            given_by: row.given_by,
            given_on: display(&row.given_on),
            expires_on: display_opt(&row.expires_on),
            withdrawn_on: display_opt(&row.withdrawn_on),
            in_force,
        });
    }
    let commune = match &v.commune_code {
        Some(code) => state.store.unit_name(code).await?.unwrap_or_default(),
        None => String::new(),
    };
    let owner = v.owner_agency_id == viewer.agency.id;
    let can_edit = owner && viewer.can(haven_domain::Action::EditRecords);
    let can_approve = owner
        && v.pending()
        && viewer.has_role(Role::AgencyHead)
        && v.proposed_by.as_deref() != Some(viewer.user.id.as_str());
    let (verification, days) = app::verification(&v.verified_on, &v.verification_due, t);
    let mut agency_kinds: Vec<String> = all_agencies.iter().map(|a| a.kind.clone()).collect();
    agency_kinds.sort();
    agency_kinds.dedup();
    let agencies = all_agencies
        .iter()
        .filter(|a| a.active)
        .map(|a| (a.id.clone(), c.agency_label(&a.name_vi, &a.name_en).to_owned()))
        .collect();
    let share =
        sharing::section(state, viewer, &c, KIND, &v.id, &v.owner_agency_id, format!("/victims/{}", v.id)).await?;
    let case_referrals = crate::views::referrals::lines(state, &c, &viewer.agency.id, referral_rows).await?;
    let referral_kinds = state
        .profile
        .referrals
        .kinds
        .iter()
        .map(|k| (k.code.clone(), if c.lang == Lang::En { k.name_en.clone() } else { k.name_vi.clone() }))
        .collect();
    let ticked = |field: &str, recorded: &Option<String>| -> Vec<(String, bool)> {
        let have = VictimCase::codes(recorded);
        state.profile.htcds.codes(field).into_iter().map(|c| (c.to_owned(), have.iter().any(|h| h == c))).collect()
    };
    let exploitation = ticked(htcds::EXPLOITATION, &v.exploitation);
    let control = ticked(htcds::CONTROL, &v.control);
    let recruitment = ticked(htcds::RECRUITMENT, &v.recruitment);
    let relationships = state.profile.htcds.codes(htcds::RELATIONSHIP).into_iter().map(str::to_owned).collect();
    let event_kinds = state.profile.htcds.codes(htcds::EVENT_TYPE).into_iter().map(str::to_owned).collect();
    let measures: Vec<MeasureLine> = measure_rows
        .into_iter()
        .map(|m| MeasureLine {
            starts: display(&m.starts_on),
            ends: display_opt(&m.ends_on),
            agency: agency_label(&m.agency_id),
            kind: m.kind,
            for_whom: m.for_whom,
        })
        .collect();
    let visits: Vec<VisitLine> = visit_rows
        .into_iter()
        .map(|f| VisitLine {
            late: f.visited_on.is_none() && parse_date(&f.due_on).is_some_and(|d| d < t),
            due: display(&f.due_on),
            visited: display_opt(&f.visited_on),
            risk: f.risk.unwrap_or_default(),
            officer: f.officer.unwrap_or_default(),
        })
        .collect();
    let previous_code = match &v.previous_case_id {
        Some(p) => state.store.victim_case(p).await?.map(|p| p.case_code).unwrap_or_default(),
        None => String::new(),
    };
    // The viewer's agency's requests abroad about this case (another agency's are its own business).
    let cooperation: Vec<crate::views::cooperation::Line> = state
        .store
        .cooperation_of_victim_case(&v.id, &viewer.agency.id)
        .await?
        .into_iter()
        .map(|r| crate::views::cooperation::line(r, t))
        .collect();
    let sections = sections(
        &c,
        &Standing {
            v: &v,
            parts: &parts,
            verification,
            verified,
            supports: &supports,
            entitlements: &entitlements,
            measures: &measures,
            goals: &goals,
            visits: &visits,
            consents: &consents,
            referrals: &case_referrals,
            custody: &custody,
            pending_handover: pending_handover.is_some(),
            context_recorded: exploitation.iter().any(|(_, on)| *on),
            cooperation: &cooperation,
        },
    );
    let page = CasePage {
        sections,
        open,
        work,
        custody,
        pending_handover,
        handover_to,
        grounds,
        verified,
        can_print,
        verification_text,
        screening,
        handed_over_on,
        parts,
        cooperation,
        measures,
        goals,
        visits,
        measure_kinds: rules::MEASURES,
        protected: rules::PROTECTED,
        goal_areas: rules::GOAL_AREAS,
        risks: rules::RISKS,
        close_reasons: rules::CLOSE_REASONS,
        reception_kinds: RECEPTION_KINDS,
        previous_code,
        closed_on: display_opt(&v.closed_on),
        exploitation,
        control,
        recruitment,
        relationships,
        event_kinds,
        countries: COUNTRIES,
        events,
        person_code,
        person_open,
        possible_matches,
        received: display(&v.received_on),
        commune,
        due: display(v.verified_on.as_deref().unwrap_or(&v.verification_due)),
        verification,
        days,
        steps,
        entitlements,
        supports,
        consents,
        can_edit,
        can_approve,
        proposed_on: display_opt(&v.proposed_on),
        step_kinds: STEP_KINDS,
        evidence: EVIDENCE,
        agencies,
        agency_kinds,
        consent_purposes: consent::PURPOSES,
        communes,
        share,
        referrals: case_referrals,
        referral_kinds,
        can_override: viewer.can(haven_domain::Action::OverrideConsent),
        v,
        f,
        c,
    };
    Ok(render(status, &page))
}

/// The identification form filled with the grounds of the proposal a head returned.
fn returned_proposal(v: &VictimCase) -> FormState {
    let mut values = vec![("decided_on".to_owned(), v.proposed_on.as_deref().map(display).unwrap_or_default())];
    for (field, value) in [("legal_basis", &v.legal_basis), ("certificate_number", &v.certificate_number)] {
        values.push((field.to_owned(), value.clone().unwrap_or_default()));
    }
    values.extend(VictimCase::codes(&v.evidence).into_iter().map(|e| ("evidence".to_owned(), e)));
    FormState { values, errors: Vec::new() }
}
