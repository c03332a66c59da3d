//! Handover batches: citizens handed back by foreign countries at a border gate or airport, each person
//! entered and matched at once, and the screening interview (questions from the profile) that classifies
//! them, a suspected victim getting a victim case in the same transaction.

use haven_domain::format::parse_date;
use haven_domain::registers::screening::{self, BatchInput, Classification};
use haven_domain::Action;
use haven_store::registers::{self as store, BatchRow, NewBatch, ReturneeRow, Screening};
use haven_store::{matches, persons, Command};
use serde::Deserialize;

use super::{validate_person, PersonFields};
use crate::input::{opt, MAX_TEXT};
use crate::persons::PURPOSES;
use crate::{access, App, Caller, Error, FieldErrors, Fields, Outcome, Result};

#[derive(Clone, Debug, Deserialize)]
pub struct BatchForm {
    pub handed_on: String,
    pub gate: String,
    pub country: String,
    pub authority: String,
    #[serde(default)]
    pub note: String,
}

/// Record a batch of citizens handed back at a gate by a foreign authority.
pub async fn create_batch(app: &App, caller: &Caller, form: &BatchForm) -> Result<Outcome<String>> {
    caller.require(Action::CreateRecords)?;
    let input = BatchInput {
        handed_on: parse_date(&form.handed_on),
        gate: &form.gate,
        country: &form.country,
        authority: &form.authority,
    };
    let mut checked = screening::check_batch(&input, &app.profile.gates, app.today())
        .map_err(|e| e.into_iter().map(|(f, k)| (f.to_owned(), k.to_owned())).collect::<FieldErrors>());
    if form.note.chars().count() > MAX_TEXT {
        let mut e = checked.err().unwrap_or_default();
        e.push(("note".into(), "error.too_long".into()));
        checked = Err(e);
    }
    match checked {
        Ok(on) => {
            let mut cmd = app.store.command(&caller.actor()).await?;
            let id = store::create_batch(
                &mut cmd,
                &app.store.keys,
                &caller.agency.id,
                &NewBatch {
                    handed_on: on,
                    gate: form.gate.trim(),
                    country: form.country.trim(),
                    authority: &form.authority,
                    note: opt(&form.note),
                },
            )
            .await?;
            cmd.commit().await?;
            Ok(Ok(id))
        }
        Err(errors) => Ok(Err(errors)),
    }
}

/// The batch, if the caller may see it (the receiving agency, or a grant).
pub async fn visible_batch(app: &App, caller: &Caller, id: &str) -> Result<BatchRow> {
    let b = app.store.batch(id).await?.ok_or(Error::NotFound)?;
    access::require(app, caller, store::BATCH, id, &b.owner_agency_id, &[]).await?;
    Ok(b)
}

/// Add a person to a batch of the caller's agency: the person, the returnee and the match keys in one
/// transaction, with candidate matches proposed at once.
pub async fn add_returnee(
    app: &App,
    caller: &Caller,
    batch: &BatchRow,
    p: &PersonFields,
    import_id: Option<&str>,
    cmd: Option<&mut Command>,
) -> Result<Outcome<String>> {
    caller.require(Action::CreateRecords)?;
    access::require_owner(caller, &batch.owner_agency_id)?;
    let identity = match validate_person(app, p).await? {
        Ok(i) => i,
        Err(e) => return Ok(Err(e)),
    };
    let id = match cmd {
        Some(cmd) => write_returnee(cmd, app, &caller.agency.id, &batch.id, &identity, import_id).await?,
        None => {
            let mut cmd = app.store.command(&caller.actor()).await?;
            let id = write_returnee(&mut cmd, app, &caller.agency.id, &batch.id, &identity, import_id).await?;
            cmd.commit().await?;
            id
        }
    };
    Ok(Ok(id))
}

pub(crate) async fn write_returnee(
    cmd: &mut Command,
    app: &App,
    agency: &str,
    batch_id: &str,
    identity: &haven_domain::person::Identity,
    import_id: Option<&str>,
) -> anyhow::Result<String> {
    let keys = &app.store.keys;
    let person_id = persons::create(cmd, keys, agency, identity).await?;
    let id = store::add_returnee(cmd, batch_id, agency, &person_id, import_id).await?;
    // An import's rows are compared once all are written (`matches::queue_import`).
    if import_id.is_none() {
        matches::propose_for(cmd, keys, &person_id, matches::Signals::Unlimited).await?;
    }
    Ok(id)
}

/// The returnee and its batch, if the caller may see the batch.
pub async fn visible_returnee(app: &App, caller: &Caller, id: &str) -> Result<(ReturneeRow, BatchRow)> {
    let r = app.store.returnee(id).await?.ok_or(Error::NotFound)?;
    let b = visible_batch(app, caller, &r.batch_id).await?;
    Ok((r, b))
}

/// A screening as the form posts it: `yes` repeated per indicator answered "yes" (the raw pairs carry them),
/// the classification and the reason, and the officer's notes.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct ScreeningForm {
    #[serde(default)]
    pub yes: Vec<String>,
    #[serde(default)]
    pub classification: String,
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub notes: String,
}

/// Screen a returnee of the caller's agency. A suspected victim gets a victim case opened in the same
/// transaction (received at the border on the batch's date). Returns the victim case, if any.
pub async fn screen(app: &App, caller: &Caller, id: &str, form: &ScreeningForm) -> Result<Outcome<Option<String>>> {
    caller.require(Action::EditRecords)?;
    let (r, b) = &visible_returnee(app, caller, id).await?;
    access::require_owner(caller, &r.owner_agency_id)?;
    if r.classification.is_some() {
        return Ok(Fields::one("classification", "error.already_screened"));
    }
    let form_rules = &app.profile.screening;
    let assessment = match form_rules.assess(form.yes.iter().map(String::as_str)) {
        Ok(a) => a,
        Err((f, k)) => return Ok(Fields::one(f, k)),
    };
    let mut errors: FieldErrors = Vec::new();
    if form.notes.chars().count() > MAX_TEXT {
        errors.push(("notes".into(), "error.too_long".into()));
    }
    let classification = match screening::check_classification(&form.classification, &form.reason, assessment) {
        Ok(c) => Some(c),
        Err(e) => {
            errors.extend(e.into_iter().map(|(f, k)| (f.to_owned(), k.to_owned())));
            None
        }
    };
    let (Some(classification), true) = (classification, errors.is_empty()) else { return Ok(Err(errors)) };
    let mut yes: Vec<&str> = form.yes.iter().map(String::as_str).collect();
    yes.sort_unstable();
    yes.dedup();
    let answers = serde_json::json!({
        "yes": yes,
        "asked": form_rules.indicators.iter().map(|i| i.code.as_str()).collect::<Vec<_>>(),
        "notes": form.notes.trim(),
        "suggested": assessment.suggests().code(),
    })
    .to_string();
    let mut cmd = app.store.command(&caller.actor()).await?;
    let victim = if classification == Classification::SuspectedVictim {
        let on = parse_date(&b.handed_on).unwrap_or_else(|| app.today());
        Some(super::open_victim_case(&mut cmd, app, caller, &r.person_id, "border", on, None).await?)
    } else {
        None
    };
    let done = store::record_screening(
        &mut cmd,
        &app.store.keys,
        &r.id,
        &Screening {
            classification: classification.code(),
            indicators: &yes.join(" "),
            answers: &answers,
            reason: form.reason.trim(),
            victim_case_id: victim.as_deref(),
        },
    )
    .await?;
    if !done {
        // Screened by someone else meanwhile: nothing of this one is kept.
        return Ok(Fields::one("classification", "error.already_screened"));
    }
    cmd.commit().await?;
    Ok(Ok(victim))
}

/// The interview's notes and the reason for the classification, opened with a purpose.
pub struct ScreeningRecord {
    pub notes: String,
    pub reason: String,
}

/// Open a screened returnee's interview notes and reason, with a purpose: the owning agency's officers who
/// may see identities; audited.
pub async fn open_screening(
    app: &App,
    caller: &Caller,
    id: &str,
    purpose: &str,
) -> Result<Outcome<Option<ScreeningRecord>>> {
    caller.require(Action::ViewIdentity)?;
    let (r, _) = visible_returnee(app, caller, id).await?;
    if !access::may_unseal(caller, &r.owner_agency_id, &[]) {
        return Err(Error::Forbidden);
    }
    let purpose = purpose.trim();
    if !PURPOSES.contains(&purpose) {
        return Ok(Fields::one("purpose", "error.choice"));
    }
    let mut cmd = app.store.command(&caller.actor()).await?;
    let opened = store::open_screening(&mut cmd, &app.store.keys, id, purpose).await?;
    cmd.commit().await?;
    Ok(Ok(opened.map(|(answers, reason)| {
        let notes = serde_json::from_str::<serde_json::Value>(&answers)
            .ok()
            .and_then(|v| v["notes"].as_str().map(str::to_owned))
            .unwrap_or_default();
        ScreeningRecord { notes, reason }
    })))
}

/// The batches the caller's agency received, newest first.
pub async fn batches(app: &App, caller: &Caller, limit: i64) -> Result<Vec<BatchRow>> {
    caller.require(Action::ViewRecords)?;
    Ok(app.store.batches_of_agency(&caller.agency.id, limit).await?)
}
