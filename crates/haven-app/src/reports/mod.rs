//! Reports (denunciations, crime reports, recommendations for prosecution): intake, classification, the
//! settlement clock (extensions, the procuracy's extension, suspension, resumption), the settling decision,
//! the persons a report names, notice to a procuracy, and the work lists of what falls due. Every rule comes
//! from `haven_domain::reports`.

use haven_domain::cases::PersonRole;
use haven_domain::format::{parse_date, parse_time_of_day};
use haven_domain::reports::clock::{Clock, ClockEvent};
use haven_domain::reports::intake::{self, Channel, Classification, Decision, DecisionKind, Kind};
use haven_domain::time::{to_millis, VN_OFFSET};
use haven_domain::Action;
use haven_store::persons::PersonRow;
use haven_store::reports::{self as store, NewReport, ReportDetails, ReportRow, WorkList, KIND};
use serde::Deserialize;
use time::{Date, Duration};

use crate::input::from_code;
use crate::persons::{visible_person, PURPOSES};
use crate::{access, App, Caller, Error, Fields, Outcome, Result};

pub const KINDS: &[&str] = &["denunciation", "crime_report", "recommendation"];
pub const CHANNELS: &[&str] = &["in_person", "hotline", "letter", "online", "media", "transfer"];
pub const CLOCK_EVENTS: &[&str] =
    &["complex_extension", "procuracy_requested", "procuracy_granted", "procuracy_refused", "suspended", "resumed"];
pub const SUSPENSION_GROUNDS: &[&str] =
    &["expert_examination", "foreign_assistance", "documents_pending", "force_majeure"];
pub const DECISIONS: &[&str] = &["initiate", "not_initiate", "transfer"];
/// "Due soon" means the last day is within this many days.
pub const DUE_SOON_DAYS: i64 = 5;
/// Reports received this close together in the same commune are offered as possibly the same event.
pub const DUPLICATE_WINDOW_DAYS: i64 = 7;

/// Where a report stands today, as its list line shows it: settled, suspended, overdue, due soon or running.
pub fn standing(r: &ReportRow, today: Date) -> &'static str {
    let last = r.last_day.as_deref().and_then(parse_date);
    if r.decision_kind.is_some() {
        "settled"
    } else if r.suspended_since.is_some() {
        "suspended"
    } else if last.is_some_and(|l| l < today) {
        "overdue"
    } else if last.is_some_and(|l| l <= today + Duration::days(DUE_SOON_DAYS)) {
        "due_soon"
    } else {
        "running"
    }
}

/// The report lists an agency works from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum List {
    /// Every report of the agency, newest first.
    All,
    /// Open reports whose last day falls within [`DUE_SOON_DAYS`].
    Due,
    /// Open reports past their last day.
    Overdue,
    /// Reports waiting for the procuracy's answer to an extension request.
    Procuracy,
    /// Reports investigating bodies notified to this agency (a procuracy).
    Sent,
    /// Of those, the ones whose extension request awaits this agency's answer.
    ToAnswer,
}

impl List {
    pub const ALL: [List; 6] = [List::All, List::Due, List::Overdue, List::Procuracy, List::Sent, List::ToAnswer];

    pub fn code(self) -> &'static str {
        match self {
            List::All => "all",
            List::Due => "due",
            List::Overdue => "overdue",
            List::Procuracy => "procuracy",
            List::Sent => "sent",
            List::ToAnswer => "to_answer",
        }
    }

    pub fn from_code(code: &str) -> Option<List> {
        List::ALL.into_iter().find(|l| l.code() == code)
    }
}

/// A page of a list of reports for the caller's agency, after the report `after` names (the last of the page
/// before); `mine` keeps those assigned to the caller (work lists only).
pub async fn list(
    app: &App,
    caller: &Caller,
    list: List,
    mine: bool,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<ReportRow>> {
    caller.require(Action::ViewRecords)?;
    let t = app.today();
    let agency = caller.agency.id.as_str();
    let who = mine.then_some(caller.user.id.as_str());
    let s = &app.store;
    Ok(match list {
        List::Due => {
            let until = t + Duration::days(DUE_SOON_DAYS);
            s.report_work_list(agency, WorkList::DueBy { today: t, until }, who, after, limit).await?
        }
        List::Overdue => s.report_work_list(agency, WorkList::Overdue { today: t }, who, after, limit).await?,
        List::Procuracy => s.report_work_list(agency, WorkList::AwaitingProcuracy, who, after, limit).await?,
        List::Sent => s.reports_sent_to(agency, false, after, limit).await?,
        List::ToAnswer => s.reports_sent_to(agency, true, after, limit).await?,
        List::All => s.reports_of_agency(agency, after, limit).await?,
    })
}

/// Counts for the home page: due within five days, overdue, awaiting the procuracy's answer.
pub async fn work_counts(app: &App, agency_id: &str) -> anyhow::Result<(usize, usize, usize)> {
    let t = app.today();
    let s = &app.store;
    let until = t + Duration::days(DUE_SOON_DAYS);
    let due = s.report_work_list(agency_id, WorkList::DueBy { today: t, until }, None, None, 1000).await?;
    let overdue = s.report_work_list(agency_id, WorkList::Overdue { today: t }, None, None, 1000).await?;
    let waiting = s.report_work_list(agency_id, WorkList::AwaitingProcuracy, None, None, 1000).await?;
    Ok((due.len(), overdue.len(), waiting.len()))
}

/// The report a case code names, if the caller may see it (another agency's report is "not found" alike).
pub async fn find_by_code(app: &App, caller: &Caller, code: &str) -> Result<Option<String>> {
    for (kind, id) in app.store.records_with_code(code).await? {
        if kind == KIND && visible(app, caller, &id).await.is_ok() {
            return Ok(Some(id));
        }
    }
    Ok(None)
}

/// The report, if the caller may see it: its owner, the procuracy it was notified to, or a grant.
pub async fn visible(app: &App, caller: &Caller, id: &str) -> Result<ReportRow> {
    let r = app.store.report(id).await?.ok_or(Error::NotFound)?;
    access::require(app, caller, KIND, id, &r.owner_agency_id, &r.sent_to()).await?;
    Ok(r)
}

/// The report, if the caller's agency owns it (only the owner changes a report).
pub async fn owned(app: &App, caller: &Caller, id: &str) -> Result<ReportRow> {
    let r = app.store.report(id).await?.ok_or(Error::NotFound)?;
    access::require_owner(caller, &r.owner_agency_id)?;
    Ok(r)
}

/// The report as the running command sees it, if the caller's agency owns it.
async fn owned_in(cmd: &mut haven_store::Command, caller: &Caller, id: &str) -> Result<ReportRow> {
    let r = store::current(cmd, id).await?.ok_or(Error::NotFound)?;
    access::require_owner(caller, &r.owner_agency_id)?;
    Ok(r)
}

/// The report's clock, replayed from its events.
pub async fn clock_of(app: &App, r: &ReportRow) -> Result<Clock> {
    let events = app.store.report_events(&r.id).await?;
    replay(app, r, events)
}

fn replay(app: &App, r: &ReportRow, events: Vec<store::EventRow>) -> Result<Clock> {
    let received = parse_date(&r.received_on).ok_or_else(|| anyhow::anyhow!("report with a bad receipt date"))?;
    let events: Vec<ClockEvent> = events.into_iter().map(|e| e.event).collect();
    Clock::replay(&app.profile.clock, received, &events)
        .map_err(|(i, e)| Error::Internal(anyhow::anyhow!("stored clock event {i} is invalid: {e:?}")))
}

#[derive(Deserialize)]
pub struct NewReportForm {
    pub kind: String,
    pub channel: String,
    pub received_date: String,
    #[serde(default)]
    pub received_time: String,
    #[serde(default)]
    pub anonymous: Option<String>,
    #[serde(default)]
    pub reporter_name: String,
    #[serde(default)]
    pub reporter_contact: String,
    pub summary: String,
    #[serde(default)]
    pub commune_code: String,
    #[serde(default)]
    pub assigned_to: String,
}

/// Validate and record a new report for the caller's agency.
pub async fn create(app: &App, caller: &Caller, form: NewReportForm) -> Result<Outcome<String>> {
    caller.require(Action::CreateRecords)?;
    let mut f = Fields::default();
    let kind: Option<Kind> = from_code(&form.kind);
    if kind.is_none() {
        f.add("kind", "error.choice");
    }
    let channel: Option<Channel> = from_code(&form.channel);
    if channel.is_none() {
        f.add("channel", "error.choice");
    }
    // The time as people write it ("9h30", "9:30"); none means the start of the day. Each error lands on the
    // field it is about: a time later today on the time, a day after today on the date.
    let day = parse_date(&form.received_date);
    let typed_time = form.received_time.trim();
    let at = if typed_time.is_empty() { Some(time::Time::MIDNIGHT) } else { parse_time_of_day(typed_time) };
    if day.is_none() {
        f.add("received_date", "error.date");
    }
    if at.is_none() {
        f.add("received_time", "error.time");
    }
    let received = day.zip(at).map(|(d, t)| d.with_time(t).assume_offset(VN_OFFSET));
    if let (Some(d), Some(r)) = (day, received) {
        if d > app.today() {
            f.add("received_date", "error.date_in_future");
        } else if d.year() < haven_domain::format::FIRST_EVENT_YEAR {
            f.add("received_date", "error.date_too_early");
        } else if to_millis(r) > app.store.now() {
            f.add("received_time", "error.time_in_future");
        }
    }
    let anonymous = form.anonymous.as_deref().is_some_and(|a| !a.is_empty() && a != "0" && a != "false");
    if !anonymous && form.reporter_name.trim().is_empty() {
        f.add("reporter_name", "error.reporter_or_anonymous");
    }
    let summary = form.summary.trim();
    if summary.chars().count() < 10 {
        f.add("summary", "error.summary");
    } else if summary.chars().count() > crate::input::MAX_TEXT {
        f.add("summary", "error.too_long");
    }
    let commune = Some(form.commune_code.trim()).filter(|c| !c.is_empty());
    if let Some(code) = commune {
        if !app.store.unit_exists(code).await? {
            f.add("commune_code", "error.choice");
        }
    }
    let assigned = Some(form.assigned_to.trim()).filter(|a| !a.is_empty());
    if let Some(a) = assigned {
        if !app.store.user(a).await?.is_some_and(|u| u.agency_id == caller.agency.id && !u.disabled) {
            f.add("assigned_to", "error.choice");
        }
    }
    let (Some(kind), Some(channel), Some(received), false) = (kind, channel, received, f.has_errors()) else {
        return Ok(Err(f.errors));
    };
    let received_on = received.date();
    let clock = Clock::new(&app.profile.clock, received_on);
    let reporter = (!anonymous).then_some((form.reporter_name.trim(), form.reporter_contact.trim()));
    let new = NewReport {
        kind,
        channel,
        received_at: to_millis(received),
        received_on,
        assigned_to: assigned,
        reporter,
        summary,
        commune_code: commune,
    };
    let mut cmd = app.store.command(&caller.actor()).await?;
    let id = store::create(&mut cmd, &app.store.keys, &caller.agency.id, &new, &clock).await?;
    cmd.commit().await?;
    Ok(Ok(id))
}

/// Open the report's sealed details (the reporter's identity and the summary) for a stated purpose; the view
/// is audited. Only the owner and the agencies the procedure sent it to may unseal.
pub async fn reveal(app: &App, caller: &Caller, id: &str, purpose: &str) -> Result<Outcome<Option<ReportDetails>>> {
    caller.require(Action::ViewIdentity)?;
    let r = visible(app, caller, id).await?;
    if !access::may_unseal(caller, &r.owner_agency_id, &r.sent_to()) {
        return Err(Error::Forbidden);
    }
    if !PURPOSES.contains(&purpose) {
        return Ok(Fields::one("purpose", "error.choice"));
    }
    let mut cmd = app.store.command(&caller.actor()).await?;
    let details = store::view_details(&mut cmd, &app.store.keys, id, purpose).await?;
    cmd.commit().await?;
    Ok(Ok(details))
}

#[derive(Deserialize)]
pub struct ClassifyForm {
    pub outcome: String,
    #[serde(default)]
    pub offence_code: String,
    #[serde(default)]
    pub forwarded_to: String,
    pub reason: String,
    /// The day it was classified (dd/mm/yyyy); today when left blank.
    #[serde(default)]
    pub classified_on: String,
}

/// Classify a report: a suspected offence (its code), or not trafficking-related and where it was forwarded,
/// with the reason and the day it was classified.
pub async fn classify(app: &App, caller: &Caller, id: &str, form: &ClassifyForm) -> Result<Outcome<()>> {
    caller.require(Action::EditRecords)?;
    // The two outcomes the form offers; anything else is refused, never read as "not related".
    let classification = match form.outcome.as_str() {
        "offence" => Classification::Offence { code: form.offence_code.trim().to_owned() },
        "not_related" => Classification::NotRelated { forwarded_to: form.forwarded_to.trim().to_owned() },
        _ => return Ok(Fields::one("outcome", "error.choice")),
    };
    let mut cmd = app.store.command(&caller.actor()).await?;
    let r = owned_in(&mut cmd, caller, id).await?;
    let mut f = Fields::default();
    let today = app.today();
    let on = match form.classified_on.trim() {
        "" => Some(today),
        given => parse_date(given),
    };
    match on {
        None => f.add("classified_on", "error.date"),
        Some(on) => {
            let received = parse_date(&r.received_on).unwrap_or(on);
            if let Err(e) = intake::check_classified_on(received, on, today) {
                f.add("classified_on", e.key());
            }
        }
    }
    if r.decision_kind.is_some() {
        f.add("classify", "error.intake_settled");
    } else if let Err(e) = intake::classify(&app.profile.offences, &classification, &form.reason) {
        let field = match e {
            intake::IntakeError::UnknownOffence => "offence_code",
            intake::IntakeError::ForwardedToMissing => "forwarded_to",
            _ => "classify_reason",
        };
        f.add(field, e.key());
    }
    let (Some(on), false) = (on, f.has_errors()) else { return Ok(Err(f.errors)) };
    store::classify(&mut cmd, &app.store.keys, &r.id, &classification, form.reason.trim(), on).await?;
    cmd.commit().await?;
    Ok(Ok(()))
}

#[derive(Deserialize)]
pub struct ClockForm {
    pub event: String,
    pub on: String,
    #[serde(default)]
    pub months: String,
    #[serde(default)]
    pub ground: String,
    #[serde(default)]
    pub reason: String,
}

/// Whether the caller may record this clock event on the report: the owner any event except, once the
/// report was notified to a procuracy, the answer to the extension request, which only that procuracy
/// records.
fn may_record_clock(caller: &Caller, r: &ReportRow, event: &str) -> bool {
    let answer = matches!(event, "procuracy_granted" | "procuracy_refused");
    match (answer, r.procuracy_agency_id.as_deref()) {
        // Once notified, the procuracy answers its own extension requests; the body under supervision does not.
        (true, Some(procuracy)) => procuracy == caller.agency.id,
        // Not notified: the owner transcribes the answer it received on paper.
        _ => r.owner_agency_id == caller.agency.id,
    }
}

/// The report, if the caller may record this clock event on it (for re-showing the page after an error).
pub async fn for_clock(app: &App, caller: &Caller, id: &str, event: &str) -> Result<ReportRow> {
    let r = app.store.report(id).await?.ok_or(Error::NotFound)?;
    if !may_record_clock(caller, &r, event) {
        return Err(Error::Forbidden);
    }
    Ok(r)
}

pub async fn record_clock_event(app: &App, caller: &Caller, id: &str, form: &ClockForm) -> Result<Outcome<()>> {
    caller.require(Action::EditRecords)?;
    let mut cmd = app.store.command(&caller.actor()).await?;
    let r = store::current(&mut cmd, id).await?.ok_or(Error::NotFound)?;
    if !may_record_clock(caller, &r, &form.event) {
        return Err(Error::Forbidden);
    }
    let mut f = Fields::default();
    let on = parse_date(&form.on);
    let months = form.months.trim().parse::<u32>().unwrap_or(0);
    let event = on.and_then(|on| match form.event.as_str() {
        "complex_extension" => Some(ClockEvent::ComplexExtension { on }),
        "procuracy_requested" => Some(ClockEvent::ProcuracyRequested { on }),
        "procuracy_granted" => Some(ClockEvent::ProcuracyGranted { on, months }),
        "procuracy_refused" => Some(ClockEvent::ProcuracyRefused { on }),
        "suspended" => Some(ClockEvent::Suspended { on }),
        "resumed" => Some(ClockEvent::Resumed { on }),
        _ => None,
    });
    let ground = Some(form.ground.trim()).filter(|g| SUSPENSION_GROUNDS.contains(g));
    let mut after = None;
    match (on, event) {
        (None, _) => f.add("event_on", "error.date"),
        (Some(on), _) if on > app.today() => f.add("event_on", "error.date_in_future"),
        (_, None) => f.add("event", "error.choice"),
        (_, Some(ClockEvent::Suspended { .. })) if ground.is_none() => f.add("ground", "error.choice"),
        (_, Some(ClockEvent::ComplexExtension { .. })) if form.reason.trim().chars().count() < 5 => {
            f.add("event_reason", "error.intake_reason")
        }
        _ if r.decision_kind.is_some() => f.add("event", "error.intake_settled"),
        (_, Some(event)) => {
            let clock = replay(app, &r, store::current_events(&mut cmd, id).await?)?;
            match clock.apply(&app.profile.clock, event) {
                Ok(next) => after = Some((event, next)),
                Err(e) => f.add("event", e.key()),
            }
        }
    }
    let Some((event, next)) = after.filter(|_| !f.has_errors()) else {
        return Ok(Err(f.errors));
    };
    store::record_event(&mut cmd, &app.store.keys, &r.id, &event, ground, Some(form.reason.trim()), &next).await?;
    cmd.commit().await?;
    Ok(Ok(()))
}

#[derive(Deserialize)]
pub struct DecideForm {
    pub decision: String,
    pub number: String,
    pub decided_on: String,
    #[serde(default)]
    pub notified_on: String,
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub transfer_to: String,
}

pub async fn decide(app: &App, caller: &Caller, id: &str, form: &DecideForm) -> Result<Outcome<()>> {
    caller.require(Action::EditRecords)?;
    let mut f = Fields::default();
    let decided_on = parse_date(&form.decided_on);
    let notified = crate::input::optional_date(&form.notified_on);
    if decided_on.is_none() {
        f.add("decided_on", "error.date");
    }
    if notified.is_err() {
        f.add("notified_on", "error.date");
    }
    let kind = match form.decision.as_str() {
        "initiate" => Some(DecisionKind::Initiate),
        "not_initiate" => Some(DecisionKind::NotInitiate { reason: form.reason.trim().to_owned() }),
        "transfer" => Some(DecisionKind::Transfer { to: form.transfer_to.trim().to_owned() }),
        _ => {
            f.add("decision", "error.choice");
            None
        }
    };
    let mut cmd = app.store.command(&caller.actor()).await?;
    let r = owned_in(&mut cmd, caller, id).await?;
    let mut accepted = None;
    if let (Some(kind), Some(decided_on), Ok(notified), false) = (kind, decided_on, notified, f.has_errors()) {
        let d = Decision { kind, number: form.number.clone(), decided_on, reporter_notified_on: notified };
        let clock = replay(app, &r, store::current_events(&mut cmd, id).await?)?;
        match intake::check_decision(&clock, r.classification.is_some(), r.decision_kind.is_some(), &d, app.today()) {
            Ok(on_time) => accepted = Some((d, on_time)),
            Err(e) => {
                let field = match e {
                    intake::IntakeError::NumberMissing => "number",
                    intake::IntakeError::NotifiedBeforeDecision => "notified_on",
                    intake::IntakeError::ReasonMissing => "decision_reason",
                    intake::IntakeError::ForwardedToMissing => "transfer_to",
                    intake::IntakeError::InFuture | intake::IntakeError::BeforeReceipt => "decided_on",
                    _ => "decision",
                };
                f.add(field, e.key());
            }
        }
    }
    let Some((d, on_time)) = accepted else {
        return Ok(Err(f.errors));
    };
    store::decide(&mut cmd, &app.store.keys, &r.id, &d, on_time).await?;
    cmd.commit().await?;
    Ok(Ok(()))
}

/// Reports that may record the same event as this one: from the same commune within a week, or naming the
/// same person. Only the owner is offered them.
pub async fn possible_duplicates(app: &App, r: &ReportRow) -> Result<Vec<ReportRow>> {
    Ok(app.store.possible_duplicates(r, DUPLICATE_WINDOW_DAYS).await?)
}

/// Link the report to an earlier one as the same event; both records stay. The other report must be one
/// the report's duplicates list offers.
pub async fn link_same_event(app: &App, caller: &Caller, id: &str, other: &str) -> Result<()> {
    caller.require(Action::EditRecords)?;
    let r = owned(app, caller, id).await?;
    let other = owned(app, caller, other).await?;
    if !possible_duplicates(app, &r).await?.iter().any(|d| d.id == other.id) {
        return Err(Error::BadRequest("not a candidate".into()));
    }
    let mut cmd = app.store.command(&caller.actor()).await?;
    store::link_same_event(&mut cmd, &r.id, &other.id).await?;
    cmd.commit().await?;
    Ok(())
}

#[derive(Deserialize)]
pub struct PersonLinkForm {
    /// The person's pseudonymous case code (HS-...).
    pub person_code: String,
    pub role: String,
}

/// Read a person link form: the person (only one the caller may open: a code alone never reveals whether
/// a record exists) and the role.
pub async fn person_link(
    app: &App,
    caller: &Caller,
    form: &PersonLinkForm,
) -> Result<Outcome<(PersonRow, PersonRole)>> {
    let mut f = Fields::default();
    let role = PersonRole::from_code(form.role.trim());
    if role.is_none() {
        f.add("role", "error.choice");
    }
    let person = visible_person(app, caller, &form.person_code).await?;
    if person.is_none() {
        f.add("person_code", "error.person_not_found");
    }
    match (person, role) {
        (Some(p), Some(role)) => Ok(Ok((p, role))),
        _ => Ok(Err(f.errors)),
    }
}

/// Name a person on the report (victim, suspect, witness, ...) by their case code.
pub async fn add_person(app: &App, caller: &Caller, id: &str, form: &PersonLinkForm) -> Result<Outcome<()>> {
    caller.require(Action::EditRecords)?;
    let r = owned(app, caller, id).await?;
    let (p, role) = match person_link(app, caller, form).await? {
        Ok(found) => found,
        Err(errors) => return Ok(Err(errors)),
    };
    let mut cmd = app.store.command(&caller.actor()).await?;
    if store::add_person(&mut cmd, &r.id, &p.id, role).await? {
        cmd.commit().await?;
    }
    Ok(Ok(()))
}

#[derive(Deserialize)]
pub struct ProcuracyForm {
    pub procuracy: String,
    pub on: String,
}

/// Notify a report to a procuracy, which then supervises its settlement.
pub async fn notify_procuracy(app: &App, caller: &Caller, id: &str, form: &ProcuracyForm) -> Result<Outcome<()>> {
    caller.require(Action::EditRecords)?;
    let mut f = Fields::default();
    let agency = app.store.agency(form.procuracy.trim()).await?.filter(|a| a.active && a.kind == "procuracy");
    let on = parse_date(&form.on);
    let mut cmd = app.store.command(&caller.actor()).await?;
    let r = owned_in(&mut cmd, caller, id).await?;
    if r.procuracy_agency_id.is_some() {
        f.add("procuracy", "error.already_sent");
    } else if agency.is_none() {
        f.add("procuracy", "error.choice");
    }
    let received = parse_date(&r.received_on);
    match on {
        None => f.add("procuracy_on", "error.date"),
        Some(d) if d > app.today() => f.add("procuracy_on", "error.date_in_future"),
        Some(d) if received.is_some_and(|rec| d < rec) => f.add("procuracy_on", "error.date_before_receipt"),
        Some(_) => {}
    }
    let (Some(agency), Some(on), false) = (agency, on, f.has_errors()) else {
        return Ok(Err(f.errors));
    };
    if !store::send_to_procuracy(&mut cmd, &r.id, &agency.id, on).await? {
        return Ok(Fields::one("procuracy", "error.already_sent"));
    }
    cmd.commit().await?;
    Ok(Ok(()))
}

#[cfg(test)]
mod tests;
