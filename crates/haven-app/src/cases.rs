//! Criminal cases: opened from a report settled by a decision to initiate, followed through investigation,
//! prosecution and trial (each agency records its own steps once the file reaches it), the persons named on
//! the case with custody dates and sentences, and the sealed judgment.

use haven_domain::cases::{Custody, Holder, PersonRole, Stage};
use haven_domain::format::parse_date;
use haven_domain::Action;
use haven_store::cases::{self as store, CaseRow, Judgment, NewCase, StageDetail, KIND};
use serde::Deserialize;

use crate::paging::{self, Paged};
use crate::persons::PURPOSES;
use crate::reports::PersonLinkForm;
use crate::{access, App, Caller, Error, Fields, Outcome, Result};

#[derive(Deserialize)]
pub struct OpenCaseForm {
    pub case_number: String,
}

/// Open the criminal case a report's decision to initiate started. Returns the case (an existing one if the
/// report already led to a case).
pub async fn open(app: &App, caller: &Caller, report_id: &str, form: &OpenCaseForm) -> Result<Outcome<String>> {
    caller.require(Action::EditRecords)?;
    let r = crate::reports::owned(app, caller, report_id).await?;
    if let Some(existing) = app.store.case_of_report(&r.id).await? {
        return Ok(Ok(existing));
    }
    let (Some("initiate"), Some(decided), Some(offence)) =
        (r.decision_kind.as_deref(), r.decision_on.as_deref().and_then(parse_date), r.offence_code.as_deref())
    else {
        return Ok(Fields::one("case_number", "error.case_needs_initiation"));
    };
    let number = form.case_number.trim();
    if number.is_empty() || number.chars().count() > 100 {
        return Ok(Fields::one("case_number", "error.case_number"));
    }
    let mut cmd = app.store.command(&caller.actor()).await?;
    let ids = [r.id.clone()];
    let new = NewCase { case_number: number, offence_code: offence, opened_on: decided, report_ids: &ids };
    match store::open(&mut cmd, &caller.agency.id, &new).await? {
        Ok(id) => {
            cmd.commit().await?;
            Ok(Ok(id))
        }
        // Opened meanwhile by a second submission: that case, and nothing written.
        Err(existing) => Ok(Ok(existing)),
    }
}

/// The case, if the caller may see it: the owner, the procuracy or court its file reached, or a grant.
pub async fn visible(app: &App, caller: &Caller, id: &str) -> Result<CaseRow> {
    let c = app.store.case(id).await?.ok_or(Error::NotFound)?;
    access::require(app, caller, KIND, id, &c.owner_agency_id, &c.sent_to()).await?;
    Ok(c)
}

/// The stages the caller may record on this case: the owning investigating body any (it transcribes the
/// documents it receives); the procuracy and the court their own steps once the file reached them.
pub fn stages_for(caller: &Caller, case: &CaseRow) -> Vec<Stage> {
    if !caller.can(Action::EditRecords) {
        return Vec::new();
    }
    let me = Some(caller.agency.id.as_str());
    Stage::ALL
        .into_iter()
        .filter(|s| {
            case.owner_agency_id == caller.agency.id
                || match s.taken_by() {
                    Holder::Investigator => false,
                    Holder::Procuracy => case.procuracy_agency_id.as_deref() == me,
                    Holder::Court => case.court_agency_id.as_deref() == me,
                }
        })
        .collect()
}

/// The stages the caller may record on this case today: those its agency takes that the procedure allows
/// next, in its order.
pub fn stages_now(caller: &Caller, case: &CaseRow, today: time::Date) -> Vec<Stage> {
    let possible = case.progress().possible(today);
    stages_for(caller, case).into_iter().filter(|s| possible.contains(s)).collect()
}

#[derive(Deserialize)]
pub struct StageForm {
    pub stage: String,
    pub on: String,
    /// The procuracy or court the file goes to (agency id), for the stages that send it.
    #[serde(default)]
    pub sent_to: String,
    /// The reason for closing, the verdict, or what was appealed and by whom.
    #[serde(default)]
    pub detail: String,
}

/// Record a stage of the case, if the caller's agency takes it and the procedure allows it now.
pub async fn record_stage(app: &App, caller: &Caller, id: &str, form: &StageForm) -> Result<Outcome<()>> {
    caller.require(Action::EditRecords)?;
    let case = &visible(app, caller, id).await?;
    let mut f = Fields::default();
    let stage = Stage::from_code(form.stage.trim());
    let on = parse_date(&form.on);
    let detail = form.detail.trim();
    let mut receiver = None;
    match stage {
        None => f.add("stage", "error.choice"),
        Some(s) if !stages_for(caller, case).contains(&s) => return Err(Error::Forbidden),
        Some(s) => {
            match on {
                None => f.add("stage_on", "error.date"),
                Some(d) => {
                    if let Err(e) = case.progress().check(s, d, app.today()) {
                        f.add("stage", e.key());
                    }
                }
            }
            if let Some(kind) = s.sends_to() {
                receiver = app.store.agency(form.sent_to.trim()).await?.filter(|a| a.active && a.kind == kind);
                if receiver.is_none() {
                    f.add("sent_to", "error.choice");
                }
            }
            if s.needs_detail() && detail.chars().count() < 5 {
                f.add("stage_detail", "error.stage_detail");
            }
        }
    }
    let (Some(stage), Some(on), false) = (stage, on, f.has_errors()) else {
        return Ok(Err(f.errors));
    };
    let mut cmd = app.store.command(&caller.actor()).await?;
    let detail =
        StageDetail { sent_to: receiver.as_ref().map(|a| a.id.as_str()), text: stage.needs_detail().then_some(detail) };
    if !store::record_stage(&mut cmd, &app.store.keys, &case.id, stage, on, detail).await? {
        return Ok(Fields::one("stage", "error.stage_reached"));
    }
    cmd.commit().await?;
    Ok(Ok(()))
}

/// The case, if the caller's agency owns it (only the owner names persons and records custody).
pub async fn owned(app: &App, caller: &Caller, id: &str) -> Result<CaseRow> {
    let c = app.store.case(id).await?.ok_or(Error::NotFound)?;
    access::require_owner(caller, &c.owner_agency_id)?;
    Ok(c)
}

/// Name a person on the case (suspect, victim, witness, ...) by their case code.
pub async fn add_person(app: &App, caller: &Caller, id: &str, form: &PersonLinkForm) -> Result<Outcome<()>> {
    caller.require(Action::EditRecords)?;
    let case = owned(app, caller, id).await?;
    let (p, role) = match crate::reports::person_link(app, caller, form).await? {
        Ok(found) => found,
        Err(errors) => return Ok(Err(errors)),
    };
    let mut cmd = app.store.command(&caller.actor()).await?;
    if store::add_person(&mut cmd, &case.id, &p.id, role).await? {
        cmd.commit().await?;
    }
    Ok(Ok(()))
}

#[derive(Deserialize)]
pub struct CustodyForm {
    #[serde(default)]
    pub arrested_on: String,
    #[serde(default)]
    pub detained_on: String,
    #[serde(default)]
    pub released_on: String,
    /// The sentence given at trial; blank leaves it as it was.
    #[serde(default)]
    pub sentence: String,
}

/// Record a suspect's arrest, detention and release dates and, after the trial, the sentence.
pub async fn set_custody(
    app: &App,
    caller: &Caller,
    id: &str,
    case_person_id: &str,
    form: &CustodyForm,
) -> Result<Outcome<()>> {
    caller.require(Action::EditRecords)?;
    let case = owned(app, caller, id).await?;
    let person =
        app.store.case_persons(&case.id).await?.into_iter().find(|p| p.id == case_person_id).ok_or(Error::NotFound)?;
    let mut f = Fields::default();
    let mut date = |field: &str, v: &str| {
        if v.trim().is_empty() {
            return None;
        }
        let d = parse_date(v);
        if d.is_none() {
            f.add(field, "error.date");
        }
        d
    };
    let custody = Custody {
        arrested: date("arrested_on", &form.arrested_on),
        detained: date("detained_on", &form.detained_on),
        released: date("released_on", &form.released_on),
    };
    let sentence = Some(form.sentence.trim()).filter(|s| !s.is_empty());
    let role = PersonRole::from_code(&person.role).unwrap_or(PersonRole::Victim);
    if !f.has_errors() {
        if let Err(e) = custody.check(role, sentence.is_some(), &case.progress(), app.today()) {
            f.add("custody", e.key());
        }
    }
    if f.has_errors() {
        return Ok(Err(f.errors));
    }
    let mut cmd = app.store.command(&caller.actor()).await?;
    store::set_custody(&mut cmd, &app.store.keys, &person.id, &case.id, &custody, sentence).await?;
    cmd.commit().await?;
    Ok(Ok(()))
}

/// Open the verdict, the appeal and the sentences: they name people, so the view is recorded with its
/// purpose. Only the owner and the agencies the file reached may unseal them.
pub async fn view_judgment(app: &App, caller: &Caller, id: &str, purpose: &str) -> Result<Outcome<Judgment>> {
    caller.require(Action::ViewIdentity)?;
    let case = visible(app, caller, id).await?;
    if !access::may_unseal(caller, &case.owner_agency_id, &case.sent_to()) {
        return Err(Error::Forbidden);
    }
    if !PURPOSES.contains(&purpose) {
        return Ok(Fields::one("purpose", "error.choice"));
    }
    let mut cmd = app.store.command(&caller.actor()).await?;
    let j = store::view_judgment(&mut cmd, &app.store.keys, id, purpose).await?;
    cmd.commit().await?;
    Ok(Ok(j))
}

/// A page of the criminal cases the caller's agency opened (`sent` false) or received the file of (`sent`
/// true), newest first: the cases, and where the next page starts when there is one. `after` is the `next`
/// of the page before; a cursor that does not parse starts from the first page.
pub async fn page(app: &App, caller: &Caller, sent: bool, after: Option<&str>, limit: i64) -> Result<Paged<CaseRow>> {
    caller.require(Action::ViewRecords)?;
    let rows = app.store.case_page(&caller.agency.id, sent, paging::cursor(after), limit + 1).await?;
    Ok(Paged::of(rows, limit, |c| (c.opened_on.as_str(), c.id.as_str())))
}

/// How many cases the caller's agency opened, and how many were sent to it.
pub async fn counts(app: &App, caller: &Caller) -> Result<(i64, i64)> {
    caller.require(Action::ViewRecords)?;
    Ok(app.store.case_counts(&caller.agency.id).await?)
}

/// The case carrying this number that the caller may open, if any (another agency's case is "not found"
/// alike).
pub async fn find_by_number(app: &App, caller: &Caller, number: &str) -> Result<Option<String>> {
    for id in app.store.cases_numbered(number.trim()).await? {
        if visible(app, caller, &id).await.is_ok() {
            return Ok(Some(id));
        }
    }
    Ok(None)
}

/// The cases of the caller's agency, and those whose file was sent to it (a procuracy or a court).
pub async fn list(app: &App, caller: &Caller, limit: i64) -> Result<(Vec<CaseRow>, Vec<CaseRow>)> {
    caller.require(Action::ViewRecords)?;
    let own = app.store.cases_of_agency(&caller.agency.id, limit).await?;
    let sent = app.store.cases_sent_to(&caller.agency.id, limit).await?;
    Ok((own, sent))
}
