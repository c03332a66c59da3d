//! International cooperation: an agency's requests to and from foreign authorities and overseas missions,
//! with due dates by kind, the ones awaiting an answer and the overdue ones; a request links to the person,
//! victim case or criminal case it is about (only records the caller may open), and records the answer when
//! it comes. Rules in `haven_domain::cooperation`, storage in `haven_store::cooperation`.

use haven_domain::cooperation::{self as rules, Input, Status};
use haven_domain::format::parse_date;
use haven_domain::Action;
use haven_store::cooperation::{self as store, NewRequest, RequestRow, RequestText};
use serde::Deserialize;

use crate::input::{opt, MAX_TEXT};
use crate::persons::visible_person;
use crate::{access, App, Caller, Error, Fields, Outcome, Result};

/// Which requests a list holds: `overdue`, `all`, or (anything else) those awaiting an answer. Returns the
/// list's name and whether a request of that status is on it. The pages and the API share it.
pub fn listed(list: Option<&str>, status: Status) -> (&'static str, bool) {
    match list {
        Some("overdue") => ("overdue", status == Status::Overdue),
        Some("all") => ("all", true),
        _ => ("awaiting", status.awaiting()),
    }
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct RequestForm {
    pub direction: String,
    pub kind: String,
    pub counterpart_kind: String,
    pub country: String,
    pub counterpart: String,
    pub reference: String,
    pub sent_on: String,
    pub due_on: String,
    pub person_code: String,
    pub victim_code: String,
    pub case_number: String,
    pub summary: String,
}

/// The records a request links to, found by their codes among those the caller may open (a code alone
/// never reveals whether a record exists).
struct Links {
    person_id: Option<String>,
    victim_case_id: Option<String>,
    criminal_case_id: Option<String>,
}

async fn links(app: &App, caller: &Caller, form: &RequestForm, f: &mut Fields) -> Result<Links> {
    let mut out = Links { person_id: None, victim_case_id: None, criminal_case_id: None };
    let code = form.person_code.trim();
    if !code.is_empty() {
        match visible_person(app, caller, code).await? {
            Some(p) => out.person_id = Some(p.id),
            None => f.add("person_code", "error.person_not_found"),
        }
    }
    let code = form.victim_code.trim();
    if !code.is_empty() {
        let mut found = None;
        for (id, owner) in app.store.victim_cases_by_code(code).await? {
            let kind = haven_store::victims::KIND;
            // The viewer's own record first.
            if access::record_access(app, caller, kind, &id, &owner, &[]).await?.opens_whole_record()
                && (found.is_none() || owner == caller.agency.id)
            {
                found = Some(id);
            }
        }
        match found {
            Some(id) => out.victim_case_id = Some(id),
            None => f.add("victim_code", "error.victim_case_not_found"),
        }
    }
    let number = form.case_number.trim();
    if !number.is_empty() {
        let mut found = None;
        for c in app.store.criminal_cases_by_number(number).await? {
            let sent: Vec<&str> =
                [c.procuracy_agency_id.as_deref(), c.court_agency_id.as_deref()].into_iter().flatten().collect();
            let kind = haven_store::cases::KIND;
            // Numbers are per agency: the caller's own case first, then any other it may open.
            if access::record_access(app, caller, kind, &c.id, &c.owner_agency_id, &sent).await?.opens_whole_record()
                && (found.is_none() || c.owner_agency_id == caller.agency.id)
            {
                found = Some(c.id);
            }
        }
        match found {
            Some(id) => out.criminal_case_id = Some(id),
            None => f.add("case_number", "error.criminal_case_not_found"),
        }
    }
    Ok(out)
}

/// Check and store a request of the caller's agency. Returns its id, or the errors with nothing saved.
pub async fn create(app: &App, caller: &Caller, form: &RequestForm) -> Result<Outcome<String>> {
    caller.require(Action::CreateRecords)?;
    let due = form.due_on.trim();
    let input = Input {
        direction: form.direction.trim(),
        kind: form.kind.trim(),
        counterpart_kind: form.counterpart_kind.trim(),
        country: form.country.trim(),
        counterpart: &form.counterpart,
        reference: &form.reference,
        sent_on: parse_date(&form.sent_on),
        due_on: (!due.is_empty()).then(|| parse_date(due)),
    };
    let checked = rules::check(&input, app.today());
    let mut f = Fields::default();
    if let Err(errors) = &checked {
        errors.iter().for_each(|(field, key)| f.add(field, key));
    }
    if form.summary.chars().count() > MAX_TEXT {
        f.add("summary", "error.too_long");
    }
    let links = links(app, caller, form, &mut f).await?;
    let dates = match checked {
        Ok(d) if !f.has_errors() => d,
        _ => return Ok(Err(f.errors)),
    };
    let mut cmd = app.store.command(&caller.actor()).await?;
    let id = store::create(
        &mut cmd,
        &app.store.keys,
        &caller.agency.id,
        &NewRequest {
            direction: input.direction,
            kind: input.kind,
            counterpart_kind: input.counterpart_kind,
            country: input.country,
            counterpart: &form.counterpart,
            reference: opt(&form.reference),
            sent_on: dates.sent_on,
            due_on: dates.due_on,
            person_id: links.person_id.as_deref(),
            victim_case_id: links.victim_case_id.as_deref(),
            criminal_case_id: links.criminal_case_id.as_deref(),
            summary: opt(&form.summary),
        },
    )
    .await?;
    cmd.commit().await?;
    Ok(Ok(id))
}

/// The request, if the caller may see it: its agency, or a grant.
pub async fn visible(app: &App, caller: &Caller, id: &str) -> Result<RequestRow> {
    let r = app.store.cooperation_request(id).await?.ok_or(Error::NotFound)?;
    access::require(app, caller, store::KIND, id, &r.owner_agency_id, &[]).await?;
    Ok(r)
}

/// A linked record: its code and where to open it.
pub struct Linked {
    pub label: &'static str,
    pub code: String,
    pub href: String,
}

/// `shown`, if the caller may open the whole record it stands for.
async fn if_open(
    app: &App,
    caller: &Caller,
    kind: &str,
    id: &str,
    owner: &str,
    sent_to: &[&str],
    shown: Linked,
) -> Result<Option<Linked>> {
    let decision = access::record_access(app, caller, kind, id, owner, sent_to).await?;
    Ok(decision.opens_whole_record().then_some(shown))
}

/// What the request asks and what came back, for the agency that made it and those of it who may read
/// identities; empty for others (a grant shows the rest). The view is audited.
pub async fn open_text(app: &App, caller: &Caller, r: &RequestRow) -> Result<RequestText> {
    if !(access::may_unseal(caller, &r.owner_agency_id, &[]) && app.store.cooperation_has_text(&r.id).await?) {
        return Ok(RequestText::default());
    }
    let mut cmd = app.store.command(&caller.actor()).await?;
    let text = store::open_text(&mut cmd, &app.store.keys, &r.id).await?;
    cmd.commit().await?;
    Ok(text)
}

/// The records the request links to, each only if the caller may open it (a grant that let it be linked may
/// have ended).
pub async fn linked(app: &App, caller: &Caller, r: &RequestRow) -> Result<Vec<Linked>> {
    let mut linked = Vec::new();
    if let Some(p) = match r.person_id.as_deref() {
        Some(id) => app.store.person(id).await?,
        None => None,
    } {
        let shown = Linked { label: "cooperation.person", code: p.case_code, href: format!("/persons/{}", p.id) };
        let kind = haven_store::persons::KIND;
        linked.extend(if_open(app, caller, kind, &p.id, &p.owner_agency_id, &[], shown).await?);
    }
    if let Some(v) = match r.victim_case_id.as_deref() {
        Some(id) => app.store.victim_case(id).await?,
        None => None,
    } {
        let shown = Linked { label: "cooperation.victim", code: v.case_code, href: format!("/victims/{}", v.id) };
        let kind = haven_store::victims::KIND;
        linked.extend(if_open(app, caller, kind, &v.id, &v.owner_agency_id, &[], shown).await?);
    }
    if let Some(k) = match r.criminal_case_id.as_deref() {
        Some(id) => app.store.case(id).await?,
        None => None,
    } {
        let sent: Vec<&str> =
            [&k.procuracy_agency_id, &k.court_agency_id].into_iter().flatten().map(String::as_str).collect();
        let shown = Linked { label: "cooperation.case", code: k.case_number.clone(), href: format!("/cases/{}", k.id) };
        let kind = haven_store::cases::KIND;
        linked.extend(if_open(app, caller, kind, &k.id, &k.owner_agency_id, &sent, shown).await?);
    }
    Ok(linked)
}

/// The requests of the caller's agency on a list (see [`listed`]), and the counts awaiting an answer and
/// overdue.
pub async fn list(app: &App, caller: &Caller, list: Option<&str>, limit: i64) -> Result<(Vec<RequestRow>, i64, i64)> {
    caller.require(Action::ViewRecords)?;
    if list.is_some_and(|l| !["", "awaiting", "overdue", "all"].contains(&l)) {
        // A list that does not exist is not the default one.
        return Err(Error::BadRequest("list".into()));
    }
    let today = app.today();
    let requests = app.store.cooperation_of_agency(&caller.agency.id, limit).await?;
    let rows = requests.into_iter().filter(|r| listed(list, r.status(today)).1).collect();
    let (awaiting, overdue) = app.store.cooperation_counts(&caller.agency.id, today).await?;
    Ok((rows, awaiting, overdue))
}

/// The request, if the caller's agency owns it (only it records answers and withdraws).
async fn owned(app: &App, caller: &Caller, id: &str) -> Result<RequestRow> {
    let r = visible(app, caller, id).await?;
    access::require_owner(caller, &r.owner_agency_id)?;
    Ok(r)
}

/// The one error a request that no longer awaits an answer gets, whether it was answered or withdrawn
/// before this one was checked or while it was written.
pub const NOT_AWAITING: &str = "error.cooperation_not_awaiting";

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct AnswerForm {
    pub answered_on: String,
    pub outcome: String,
    pub answer: String,
}

/// Record the answer that came back.
pub async fn answer(app: &App, caller: &Caller, id: &str, form: &AnswerForm) -> Result<Outcome<()>> {
    caller.require(Action::CreateRecords)?;
    let r = owned(app, caller, id).await?;
    let sent = haven_store::reports::parse_day(&r.sent_on).ok_or(Error::NotFound)?;
    let mut f = Fields::default();
    let checked = rules::check_answer(sent, parse_date(&form.answered_on), form.outcome.trim(), app.today());
    if let Err(errors) = &checked {
        errors.iter().for_each(|(field, key)| f.add(field, key));
    }
    if form.answer.chars().count() > MAX_TEXT {
        f.add("answer", "error.too_long");
    }
    if !r.status(app.today()).awaiting() {
        return Ok(Fields::one("outcome", NOT_AWAITING));
    }
    let on = match checked {
        Ok(on) if !f.has_errors() => on,
        _ => return Ok(Err(f.errors)),
    };
    let mut cmd = app.store.command(&caller.actor()).await?;
    if !store::answer(&mut cmd, &app.store.keys, id, on, form.outcome.trim(), opt(&form.answer)).await? {
        return Ok(Fields::one("outcome", NOT_AWAITING));
    }
    cmd.commit().await?;
    Ok(Ok(()))
}

/// Withdraw a request that awaits an answer.
pub async fn withdraw(app: &App, caller: &Caller, id: &str) -> Result<Outcome<()>> {
    caller.require(Action::CreateRecords)?;
    owned(app, caller, id).await?;
    let mut cmd = app.store.command(&caller.actor()).await?;
    if !store::withdraw(&mut cmd, id, app.today()).await? {
        return Ok(Fields::one("outcome", NOT_AWAITING));
    }
    cmd.commit().await?;
    Ok(Ok(()))
}
