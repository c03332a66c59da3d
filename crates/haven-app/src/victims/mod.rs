//! Victim protection cases: reception, verification with the police within three days, the steps between
//! agencies, identification proposed by an officer and approved by an agency head
//! ([`identification`]), the supports the person is entitled to ([`support`]), the person's consents
//! ([`consent`]), the victim-centred context in the HTCDS code lists ([`context`]), protection and
//! reintegration ([`reintegration`]), closing and reopening. The rules are `haven_domain::victims`.

pub mod consent;
pub mod context;
pub mod file;
pub mod handover;
pub mod identification;
pub mod reintegration;
pub mod support;

use haven_domain::access::AccessDecision;
use haven_domain::format::parse_date;
use haven_domain::victims::support::Situation;
use haven_domain::victims::{self as rules, Parts, RECEPTION_KINDS};
use haven_domain::Action;
use haven_store::victims::{self as store, CaseFilter, NewStep, NewVictimCase, VictimCase, VictimLine, KIND};
use serde::Deserialize;
use time::Date;

use crate::paging::{self, Paged};
use crate::persons::visible_person;
use crate::{access, App, Caller, Error, Fields, Outcome, Result};

/// Destination countries offered on the forms (ISO 3166-1 alpha-2), the common ones first.
pub const COUNTRIES: &[&str] =
    &["KH", "CN", "LA", "MM", "TH", "MY", "KR", "JP", "TW", "SG", "AE", "SA", "RU", "DE", "GB", "US"];

/// Steps recorded after reception (reception itself opens the case).
pub const STEP_KINDS: &[&str] = &[
    "verification",
    "verification_impossible",
    "identification_interview",
    "rescue",
    "handover",
    "protection",
    "other",
];

/// "Due this week": follow-up visits due within this many days (overdue ones included).
pub const VISITS_DUE_DAYS: i64 = 7;

/// How verification stands: done, due (days left) or overdue (days over).
pub fn verification(verified_on: &Option<String>, verification_due: &str, today: Date) -> (&'static str, i64) {
    if verified_on.is_some() {
        return ("verified", 0);
    }
    let due = parse_date(verification_due).unwrap_or(today);
    let left = (due - today).whole_days();
    if left < 0 {
        ("overdue", -left)
    } else {
        ("due", left)
    }
}

/// The work lists of the caller's agency: cases awaiting verification, follow-up visits due within
/// [`VISITS_DUE_DAYS`], and every case, newest reception first.
pub struct Lists {
    pub awaiting: Vec<VictimLine>,
    pub visits: Vec<VictimLine>,
    pub all: Vec<VictimLine>,
}

pub async fn lists(app: &App, caller: &Caller, limit: i64) -> Result<Lists> {
    caller.require(Action::ViewRecords)?;
    let agency = caller.agency.id.as_str();
    let until = app.today() + time::Duration::days(VISITS_DUE_DAYS);
    Ok(Lists {
        awaiting: app.store.victims_awaiting_verification(agency, limit).await?,
        visits: app.store.visits_due(agency, until, limit).await?,
        all: app.store.victim_cases_of_agency(agency, limit).await?,
    })
}

/// Which of the agency's cases the list of all cases shows: `all`, `open`, `closed` or a status code.
pub fn case_filter(code: &str) -> Option<CaseFilter<'static>> {
    match code {
        "" | "all" => Some(CaseFilter::All),
        "open" => Some(CaseFilter::Open),
        "closed" => Some(CaseFilter::Closed),
        _ => rules::Status::ALL.iter().find(|s| s.code() == code).map(|s| CaseFilter::Status(s.code())),
    }
}

/// How many of the agency's cases each choice of [`case_filter`] shows, in the order a page offers them.
pub async fn case_counts(app: &App, caller: &Caller) -> Result<Vec<(&'static str, i64)>> {
    caller.require(Action::ViewRecords)?;
    let rows = app.store.victim_case_counts(&caller.agency.id).await?;
    let sum = |f: &dyn Fn(&str, bool) -> bool| rows.iter().filter(|(s, c, _)| f(s, *c)).map(|(_, _, n)| n).sum();
    let mut counts = vec![("all", sum(&|_, _| true)), ("open", sum(&|_, c| !c)), ("closed", sum(&|_, c| c))];
    for s in rules::Status::ALL {
        counts.push((s.code(), sum(&|st, _| st == s.code())));
    }
    Ok(counts)
}

/// A page of the agency's cases that pass `filter`, newest reception first. `after` is the `next` of the page
/// before; a cursor that does not parse starts from the first page.
pub async fn case_page(
    app: &App,
    caller: &Caller,
    filter: CaseFilter<'_>,
    after: Option<&str>,
    limit: i64,
) -> Result<Paged<VictimLine>> {
    caller.require(Action::ViewRecords)?;
    let rows = app.store.victim_case_page(&caller.agency.id, filter, paging::cursor(after), limit + 1).await?;
    Ok(Paged::of(rows, limit, |l| (l.received_on.as_str(), l.id.as_str())))
}

/// The victim case a case code names, if the caller may open it (another agency's case is "not found" alike).
pub async fn find_by_code(app: &App, caller: &Caller, code: &str) -> Result<Option<String>> {
    for (kind, id) in app.store.records_with_code(code).await? {
        if kind == KIND && visible(app, caller, &id).await.is_ok() {
            return Ok(Some(id));
        }
    }
    Ok(None)
}

#[derive(Deserialize)]
pub struct NewVictimForm {
    /// A person already in Haven, by code; or leave it blank and give the new person below.
    #[serde(default)]
    pub person_code: String,
    /// A person not yet in Haven, recorded with the case in one step.
    #[serde(default)]
    pub full_name: String,
    #[serde(default)]
    pub birth_date: String,
    #[serde(default)]
    pub sex: String,
    #[serde(default)]
    pub id_number: String,
    pub reception_kind: String,
    pub received_on: String,
    #[serde(default)]
    pub commune_code: String,
    /// Checkboxes: present when ticked.
    #[serde(default)]
    pub vietnamese: Option<String>,
    #[serde(default)]
    pub in_vietnam: Option<String>,
    #[serde(default)]
    pub accompanying_child: Option<String>,
    #[serde(default)]
    pub officer: String,
    #[serde(default)]
    pub note: String,
}

/// Who a reception is about: a person already in Haven, or one recorded with the case.
enum Subject {
    Known(String),
    New(Box<haven_domain::person::Identity>),
}

/// Open a victim case for a person the caller may see, or for a person recorded in the same step (both or
/// neither); the child flag comes from the person's birth date.
pub async fn create(app: &App, caller: &Caller, form: &NewVictimForm) -> Result<Outcome<String>> {
    caller.require(Action::CreateRecords)?;
    let mut f = Fields::default();
    let code = form.person_code.trim();
    let subject = if code.is_empty() && !form.full_name.trim().is_empty() {
        let input = haven_domain::person::IdentityInput {
            full_name: form.full_name.clone(),
            birth_date: form.birth_date.clone(),
            sex: form.sex.clone(),
            id_number: form.id_number.clone(),
            // The commune on the form is where she was received, not where she lives.
            ..Default::default()
        };
        match input.validate(app.today()) {
            Ok(identity) => Some(Subject::New(Box::new(identity))),
            Err(errs) => {
                f.errors.extend(crate::persons::identity_errors(errs));
                None
            }
        }
    } else if code.is_empty() {
        f.add("person_code", "error.person_needed");
        None
    } else {
        match visible_person(app, caller, code).await? {
            Some(p) => Some(Subject::Known(p.id)),
            None => {
                f.add("person_code", "error.person_not_found");
                None
            }
        }
    };
    if !RECEPTION_KINDS.contains(&form.reception_kind.as_str()) {
        f.add("reception_kind", "error.choice");
    }
    let today = app.today();
    let received = haven_domain::format::event_day(&form.received_on, today).map_err(|k| f.add("received_on", k)).ok();
    let commune = Some(form.commune_code.trim()).filter(|c| !c.is_empty());
    if let Some(code) = commune {
        if !app.store.unit_exists(code).await? {
            f.add("commune_code", "error.choice");
        }
    }
    let (Some(subject), Some(received), false) = (subject, received, f.has_errors()) else {
        return Ok(Err(f.errors));
    };
    let officer =
        if form.officer.trim().is_empty() { caller.user.display_name.clone() } else { form.officer.trim().to_owned() };
    let mut cmd = app.store.command(&caller.actor()).await?;
    let person_id = match subject {
        Subject::Known(id) => id,
        Subject::New(identity) => {
            haven_store::persons::create(&mut cmd, &app.store.keys, &caller.agency.id, &identity).await?
        }
    };
    let child = store::birth_date_for_rules(&mut cmd, &app.store.keys, &person_id)
        .await?
        .is_some_and(|b| rules::is_child(b, received));
    let new = NewVictimCase {
        person_id: &person_id,
        reception_kind: &form.reception_kind,
        received_on: received,
        commune_code: commune,
        vietnamese: form.vietnamese.is_some(),
        in_vietnam: form.in_vietnam.is_some(),
        accompanying_child: form.accompanying_child.is_some(),
        officer: &officer,
        note: Some(form.note.trim()),
        previous_case_id: None,
    };
    let id = store::create(&mut cmd, &app.store.keys, &caller.agency.id, &new, child).await?;
    // Known victims are matched against returnees and absentees like any register entry.
    haven_store::matches::propose_for(&mut cmd, &app.store.keys, &person_id, haven_store::matches::Signals::PerUser)
        .await?;
    cmd.commit().await?;
    Ok(Ok(id))
}

/// The case, if the caller may see it: its holder, an agency it was shared or referred to, a break-the-glass
/// window, or an agency that held it before and handed it over.
pub async fn visible(app: &App, caller: &Caller, id: &str) -> Result<VictimCase> {
    let v = app.store.victim_case(id).await?.ok_or(Error::NotFound)?;
    if sight(app, caller, &v).await?.is_some() {
        Ok(v)
    } else {
        Err(Error::Forbidden)
    }
}

/// What of a case a caller sees: which parts, and for an agency that handed the case over, only what was
/// recorded up to the instant it did (`until`): what it recorded itself, and no more.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sight {
    pub parts: Parts,
    pub until: Option<haven_domain::time::Millis>,
}

/// The parts a former holder reads of what was recorded while it held the case. The reintegration follow-up
/// and the person's consents belong to whoever holds the case now; identification only as far as it had been
/// decided.
const FORMER_HOLDER: &str = "steps support context protection referrals person";

/// How the caller sees a case, or None if not at all: the holder, an agency it was shared with on consent or
/// a break-the-glass window see all of it; an agency that accepted a referral only what the referral's kind
/// names; an agency that handed it over what was recorded until then.
pub async fn sight(app: &App, caller: &Caller, v: &VictimCase) -> Result<Option<Sight>> {
    let decision = access::record_access(app, caller, KIND, &v.id, &v.owner_agency_id, &[]).await?;
    let parts = match decision {
        AccessDecision::Granted { scope, .. } => Parts::from_scope(scope.as_deref()),
        AccessDecision::Denied => {
            let until = app.store.handed_over_at(&v.id, &caller.agency.id).await?;
            return Ok(until.map(|until| Sight { parts: Parts::from_scope(Some(FORMER_HOLDER)), until: Some(until) }));
        }
        _ => Parts::ALL,
    };
    Ok(Some(Sight { parts, until: None }))
}

/// The parts of a case the caller sees (see [`sight`]); nothing but the summary for a caller who may not.
pub async fn case_parts(app: &App, caller: &Caller, v: &VictimCase) -> Result<Parts> {
    Ok(sight(app, caller, v).await?.map_or(Parts::from_scope(Some("")), |s| s.parts))
}

/// Blank the fields of parts the caller does not see, so neither a page nor the API can show them.
pub fn redact(v: &mut VictimCase, parts: Parts) {
    if !parts.identification {
        v.returned_by = None;
        v.returned_at = None;
        v.proposed_outcome = None;
        v.proposed_on = None;
        v.proposed_by = None;
        v.legal_basis = None;
        v.evidence = None;
        v.certificate_number = None;
        v.approved_by = None;
    }
    if !parts.context {
        v.exploitation = None;
        v.control = None;
        v.recruitment = None;
        v.relationship = None;
        v.destination_country = None;
    }
    if !parts.reintegration {
        v.next_visit_on = None;
    }
}

/// The case, if the caller's agency owns it and the caller may change records.
pub async fn owned(app: &App, caller: &Caller, id: &str) -> Result<VictimCase> {
    let v = app.store.victim_case(id).await?.ok_or(Error::NotFound)?;
    access::require_owner(caller, &v.owner_agency_id)?;
    Ok(v)
}

pub fn situation(v: &VictimCase) -> Situation {
    Situation {
        status: v.status(),
        vietnamese: v.vietnamese,
        in_vietnam: v.in_vietnam,
        accompanying_child: v.accompanying_child,
    }
}

/// The case as the running command sees it, if the caller's agency owns it: checks on its status (closed,
/// identification pending) hold until the command commits.
pub(crate) async fn owned_in(cmd: &mut haven_store::Command, caller: &Caller, id: &str) -> Result<VictimCase> {
    let v = store::current(cmd, id).await?.ok_or(Error::NotFound)?;
    access::require_owner(caller, &v.owner_agency_id)?;
    Ok(v)
}

/// The case as the caller may see it: redacted to the parts their access opens, with those parts.
pub async fn view(app: &App, caller: &Caller, id: &str) -> Result<(VictimCase, Parts)> {
    let f = file::read(app, caller, id).await?;
    Ok((f.case, f.parts))
}

/// The parts of a case the caller may work on (see [`workable_in`]): every part for its holder, the parts its
/// live accepted referrals open for a receiver, none for anyone else. Pages show the forms of these parts.
pub async fn work_parts(app: &App, caller: &Caller, v: &VictimCase) -> Result<Parts> {
    if !caller.can(Action::EditRecords) {
        return Ok(Parts::from_scope(Some("")));
    }
    if v.owner_agency_id == caller.agency.id {
        return Ok(Parts::ALL);
    }
    let kinds = app.store.live_referral_kinds(&v.id, &caller.agency.id).await?;
    let scope: Vec<String> = kinds.iter().map(|k| app.profile.referrals.scope(k)).collect();
    Ok(Parts::from_scope(Some(&scope.join(" "))))
}

/// The case, if the caller may work on `part` of it: its holder may work on every part; an agency that
/// accepted a referral of a kind that opens the part may, until the referral is completed or its due day
/// passes. Checked in the running command, so it holds until the command commits.
pub(crate) async fn workable_in(
    app: &App,
    cmd: &mut haven_store::Command,
    caller: &Caller,
    id: &str,
    part: &str,
) -> Result<VictimCase> {
    let v = store::current(cmd, id).await?.ok_or(Error::NotFound)?;
    if v.owner_agency_id == caller.agency.id {
        return Ok(v);
    }
    let kinds = store::live_referral_kinds(cmd, id, &caller.agency.id).await?;
    let opens = kinds.iter().any(|k| app.profile.referrals.kind(k).is_some_and(|k| k.parts.iter().any(|p| p == part)));
    if opens {
        Ok(v)
    } else {
        Err(Error::Forbidden)
    }
}

#[derive(Deserialize)]
pub struct StepForm {
    pub kind: String,
    pub on: String,
    #[serde(default)]
    pub commune_code: String,
    #[serde(default)]
    pub agency: String,
    #[serde(default)]
    pub officer: String,
    #[serde(default)]
    pub note: String,
}

/// Record a step of the case (verification, interview, rescue, handover, protection) by any agency.
pub async fn record_step(app: &App, caller: &Caller, id: &str, form: &StepForm) -> Result<Outcome<()>> {
    caller.require(Action::EditRecords)?;
    let mut cmd = app.store.command(&caller.actor()).await?;
    let v = &workable_in(app, &mut cmd, caller, id, "steps").await?;
    let mut f = Fields::default();
    if !STEP_KINDS.contains(&form.kind.as_str()) {
        f.add("step_kind", "error.choice");
    }
    if v.closed_on.is_some() {
        f.add("step_kind", "error.victim_closed");
    }
    let on = parse_date(&form.on);
    match on {
        None => f.add("step_on", "error.date"),
        Some(d) if d > app.today() => f.add("step_on", "error.date_in_future"),
        Some(d) if v.received().is_some_and(|r| d < r) => f.add("step_on", "error.victim_before_reception"),
        Some(_) => {}
    }
    // The holder records steps of any agency; the receiver of a referral records its own, and not the steps
    // that belong to the holder (a handover, or why verification could not be done).
    let holder = v.owner_agency_id == caller.agency.id;
    if !holder && matches!(form.kind.as_str(), "handover" | "verification_impossible") {
        f.add("step_kind", "error.choice");
    }
    let agency_id =
        if form.agency.trim().is_empty() || !holder { caller.agency.id.clone() } else { form.agency.trim().to_owned() };
    if app.store.agency(&agency_id).await?.filter(|a| a.active).is_none() {
        f.add("step_agency", "error.choice");
    }
    let commune = Some(form.commune_code.trim()).filter(|c| !c.is_empty());
    if let Some(code) = commune {
        if !app.store.unit_exists(code).await? {
            f.add("step_commune", "error.choice");
        }
    }
    let officer = form.officer.trim();
    if officer.chars().count() < 2 {
        f.add("step_officer", "error.victim_officer");
    }
    // Why verification with the police could not be done is what a head will judge the decision on.
    if form.kind == "verification_impossible" && form.note.trim().chars().count() < 10 {
        f.add("step_note", "error.verification_reason");
    }
    let (Some(on), false) = (on, f.has_errors()) else { return Ok(Err(f.errors)) };
    let step = NewStep {
        kind: &form.kind,
        on,
        commune_code: commune,
        agency_id: &agency_id,
        officer,
        note: Some(form.note.trim()),
    };
    store::record_step(&mut cmd, &app.store.keys, &v.id, &step).await?;
    cmd.commit().await?;
    Ok(Ok(()))
}

#[derive(Deserialize)]
pub struct CloseForm {
    pub on: String,
    pub reason: String,
}

/// Close the case: the person is reintegrated, moved away, died, or no longer wants support.
pub async fn close(app: &App, caller: &Caller, id: &str, form: &CloseForm) -> Result<Outcome<()>> {
    caller.require(Action::EditRecords)?;
    let mut cmd = app.store.command(&caller.actor()).await?;
    let v = owned_in(&mut cmd, caller, id).await?;
    let on = parse_date(&form.on);
    let outcome = match on {
        _ if v.closed_on.is_some() => Fields::one("close_on", "error.victim_closed"),
        _ if !rules::CLOSE_REASONS.contains(&form.reason.as_str()) => Fields::one("close_reason", "error.choice"),
        None => Fields::one("close_on", "error.date"),
        Some(d) if d > app.today() => Fields::one("close_on", "error.date_in_future"),
        Some(d) if v.received().is_some_and(|r| d < r) => Fields::one("close_on", "error.victim_before_reception"),
        Some(d) => {
            if store::close_case(&mut cmd, &v.id, d, &form.reason).await? {
                cmd.commit().await?;
                Ok(())
            } else {
                Fields::one("close_on", "error.victim_closed")
            }
        }
    };
    Ok(outcome)
}

#[derive(Deserialize)]
pub struct ReopenForm {
    pub received_on: String,
    pub reception_kind: String,
}

/// The person was trafficked again: a new case for the same person, linked to this one. Answers the new
/// case.
pub async fn reopen(app: &App, caller: &Caller, id: &str, form: &ReopenForm) -> Result<Outcome<String>> {
    caller.require(Action::CreateRecords)?;
    let mut cmd = app.store.command(&caller.actor()).await?;
    let v = owned_in(&mut cmd, caller, id).await?;
    let received = parse_date(&form.received_on);
    let error = match received {
        _ if v.closed_on.is_none() => Some(("reopen_on", "error.victim_open")),
        _ if !RECEPTION_KINDS.contains(&form.reception_kind.as_str()) => Some(("reopen_kind", "error.choice")),
        None => Some(("reopen_on", "error.date")),
        Some(d) if d > app.today() => Some(("reopen_on", "error.date_in_future")),
        Some(d) if d.year() < haven_domain::format::FIRST_EVENT_YEAR => Some(("reopen_on", "error.date_too_early")),
        Some(d) if v.closed_on.as_deref().and_then(parse_date).is_some_and(|closed| d < closed) => {
            Some(("reopen_on", "error.reopen_before_close"))
        }
        Some(_) => None,
    };
    let (Some(received), None) = (received, error) else {
        let (field, key) = error.unwrap_or(("reopen_on", "error.date"));
        return Ok(Fields::one(field, key));
    };
    let officer = caller.user.display_name.clone();
    let child = store::birth_date_for_rules(&mut cmd, &app.store.keys, &v.person_id)
        .await?
        .is_some_and(|b| rules::is_child(b, received));
    let new = NewVictimCase {
        person_id: &v.person_id,
        reception_kind: &form.reception_kind,
        received_on: received,
        commune_code: v.commune_code.as_deref(),
        vietnamese: v.vietnamese,
        in_vietnam: v.in_vietnam,
        accompanying_child: false,
        officer: &officer,
        note: None,
        previous_case_id: Some(&v.id),
    };
    let new_id = store::create(&mut cmd, &app.store.keys, &caller.agency.id, &new, child).await?;
    cmd.commit().await?;
    Ok(Ok(new_id))
}
