//! Long-term absentees: each commune's register of people absent from their commune, the review rounds in
//! which communes record what became of each, the counts per commune and outcome, and "suspected
//! trafficked" opening a victim case.

use haven_domain::format::{date, parse_date};
use haven_domain::person::BirthDate;
use haven_domain::registers::absentees::{self as rules, Outcome as Found, RoundInput};
use haven_domain::Action;
use haven_store::registers::{self as store, AbsenteeDetails, AbsenteeRow, NewAbsentee, NewReview, RoundRow};
use haven_store::{matches, persons, Command};
use serde::Deserialize;

use super::{validate_person, PersonFields};
use crate::input::{opt, MAX_TEXT};
use crate::persons::PURPOSES;
use crate::{access, App, Caller, Error, FieldErrors, Fields, Outcome, Result};

/// A new absentee entry.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct AbsenteeForm {
    #[serde(flatten)]
    pub person: PersonFields,
    #[serde(default)]
    pub absent_since: String,
    #[serde(default)]
    pub destination: String,
    #[serde(default)]
    pub contact: String,
    #[serde(default)]
    pub reported_by: String,
    #[serde(default)]
    pub household: String,
    #[serde(default)]
    pub note: String,
}

/// Check an absentee entry beyond the person: the commune (required: the register is per commune), when the
/// person went away, and the lengths of the free texts.
pub fn check_absentee(form: &AbsenteeForm, today: time::Date) -> Outcome<Option<BirthDate>> {
    let mut errors: FieldErrors = Vec::new();
    if form.person.commune_code.trim().is_empty() {
        errors.push(("commune_code".into(), "error.required".into()));
    }
    let since = rules::parse_absent_since(&form.absent_since, today).map_err(|(f, k)| vec![(f.into(), k.into())]);
    let since = match since {
        Ok(s) => s,
        Err(mut e) => {
            errors.append(&mut e);
            None
        }
    };
    for (field, v) in [
        ("destination", &form.destination),
        ("contact", &form.contact),
        ("reported_by", &form.reported_by),
        ("household", &form.household),
        ("note", &form.note),
    ] {
        if v.chars().count() > MAX_TEXT {
            errors.push((field.into(), "error.too_long".into()));
        }
    }
    if errors.is_empty() {
        Ok(since)
    } else {
        Err(errors)
    }
}

/// Add an absentee to the caller's agency's register: the person, the entry and the match keys in one
/// transaction, then candidate matches proposed at once. Returns the entry's id.
/// The commune a commune-level agency keeps its list for: it records and imports its own residents only.
/// None for an agency above the communes.
pub fn own_commune(caller: &Caller) -> Option<&str> {
    Some(caller.agency.unit_code.as_str()).filter(|code| caller.agency.level == "commune" && !code.is_empty())
}

/// The communes a user may record absentees in, (code, name): their own for a commune-level agency,
/// otherwise every commune of the province.
pub async fn communes_for(app: &App, caller: &Caller) -> Result<Vec<(String, String)>> {
    let all = app.store.communes(&app.province).await?;
    Ok(match own_commune(caller) {
        Some(own) => all.into_iter().filter(|(code, _)| code == own).collect(),
        None => all,
    })
}

/// Why an entry for another commune is refused.
pub const NOT_OWN_COMMUNE: &str = "error.not_own_commune";

pub async fn add(
    app: &App,
    caller: &Caller,
    form: &AbsenteeForm,
    import_id: Option<&str>,
    cmd: Option<&mut Command>,
) -> Result<Outcome<String>> {
    caller.require(Action::CreateRecords)?;
    let mut errors = Vec::new();
    let identity = match validate_person(app, &form.person).await? {
        Ok(i) => Some(i),
        Err(mut e) => {
            errors.append(&mut e);
            None
        }
    };
    let since = match check_absentee(form, app.today()) {
        Ok(s) => s,
        Err(mut e) => {
            errors.append(&mut e);
            None
        }
    };
    let commune = form.person.commune_code.trim();
    if own_commune(caller).is_some_and(|own| !commune.is_empty() && commune != own) {
        errors.push(("commune_code".into(), NOT_OWN_COMMUNE.into()));
    }
    let Some(identity) = identity.filter(|_| errors.is_empty()) else {
        errors.dedup();
        return Ok(Err(errors));
    };
    let w = AbsenteeWrite { identity: &identity, form, since, import_id };
    let id = match cmd {
        Some(cmd) => write_absentee(cmd, app, &caller.agency.id, &w).await?,
        None => {
            let mut cmd = app.store.command(&caller.actor()).await?;
            let id = write_absentee(&mut cmd, app, &caller.agency.id, &w).await?;
            cmd.commit().await?;
            id
        }
    };
    Ok(Ok(id))
}

pub(crate) struct AbsenteeWrite<'a> {
    pub identity: &'a haven_domain::person::Identity,
    pub form: &'a AbsenteeForm,
    pub since: Option<BirthDate>,
    pub import_id: Option<&'a str>,
}

pub(crate) async fn write_absentee(
    cmd: &mut Command,
    app: &App,
    agency: &str,
    w: &AbsenteeWrite<'_>,
) -> anyhow::Result<String> {
    let keys = &app.store.keys;
    let person_id = persons::create(cmd, keys, agency, w.identity).await?;
    let id = store::add_absentee(cmd, keys, agency, &person_id, &entry(w.form, w.since), w.import_id).await?;
    // An import's rows are compared once all are written (`matches::queue_import`).
    if w.import_id.is_none() {
        matches::propose_for(cmd, keys, &person_id, matches::Signals::Unlimited).await?;
    }
    Ok(id)
}

/// The register's part of an absentee entry as the store takes it.
pub(crate) fn entry(form: &AbsenteeForm, since: Option<BirthDate>) -> NewAbsentee<'_> {
    NewAbsentee {
        commune_code: form.person.commune_code.trim(),
        absent_since: since.map(|s| s.encode()),
        destination: opt(&form.destination),
        contact: opt(&form.contact),
        reported_by: opt(&form.reported_by),
        household: opt(&form.household),
        note: opt(&form.note),
    }
}

/// A commune's name from a list of (code, name); the code when it is not on the list.
pub fn commune_name(communes: &[(String, String)], code: &str) -> String {
    communes.iter().find(|(c, _)| c == code).map(|(_, n)| n.clone()).unwrap_or_else(|| code.to_owned())
}

/// A page of the caller's agency's absentees, optionally of one commune, after an entry id; the next page's
/// cursor when there is one.
pub async fn list(
    app: &App,
    caller: &Caller,
    commune: Option<&str>,
    after: Option<&str>,
    limit: i64,
) -> Result<(Vec<AbsenteeRow>, Option<String>)> {
    caller.require(Action::ViewRecords)?;
    let rows = app.store.absentees_of_agency(&caller.agency.id, commune, after, limit + 1).await?;
    let next = (rows.len() as i64 > limit).then(|| rows[limit as usize - 1].id.clone());
    Ok((rows.into_iter().take(limit as usize).collect(), next))
}

/// A name on a list, as the person who may read identities sees it: full name and birth date as people
/// write it; empty when the person record is not one the caller may open whole.
#[derive(Clone, Debug, Default)]
pub struct ListedName {
    pub full_name: String,
    pub born: String,
}

/// The names of the people on a page of the caller's list, for a purpose: a commune officer recognises her
/// own residents by name, not by code. Each name opened is audited with the purpose, person by person.
pub async fn names_of(
    app: &App,
    caller: &Caller,
    rows: &[AbsenteeRow],
    purpose: &str,
) -> Result<Outcome<Vec<ListedName>>> {
    caller.require(Action::ViewIdentity)?;
    let purpose = purpose.trim();
    if !PURPOSES.contains(&purpose) {
        return Ok(Fields::one("names_purpose", "error.choice"));
    }
    // Only the caller's own entries, on person records the caller may open whole.
    let mut open = Vec::with_capacity(rows.len());
    for a in rows {
        let person = app.store.person(&a.person_id).await?;
        let may = match &person {
            Some(p) if a.owner_agency_id == caller.agency.id => {
                crate::persons::decision(app, caller, p).await?.opens_whole_record()
            }
            _ => false,
        };
        open.push(may);
    }
    let ids: Vec<&str> = rows.iter().zip(&open).filter(|(_, may)| **may).map(|(a, _)| a.person_id.as_str()).collect();
    let mut cmd = app.store.command(&caller.actor()).await?;
    let opened = persons::view_names(&mut cmd, &app.store.keys, &ids, purpose).await?;
    if !ids.is_empty() {
        cmd.commit().await?;
    }
    let mut opened = opened.into_iter();
    Ok(Ok(open
        .iter()
        .map(|may| match may.then(|| opened.next().flatten()).flatten() {
            Some((full_name, birth)) => ListedName {
                full_name,
                born: birth.as_deref().and_then(BirthDate::parse).map(BirthDate::display).unwrap_or_default(),
            },
            None => ListedName::default(),
        })
        .collect()))
}

/// Open an entry's sealed details (destination, contact, who reported it, household) for a purpose; audited.
pub async fn open_details(
    app: &App,
    caller: &Caller,
    id: &str,
    purpose: &str,
) -> Result<Outcome<Option<AbsenteeDetails>>> {
    caller.require(Action::ViewIdentity)?;
    visible(app, caller, id).await?;
    let purpose = purpose.trim();
    if !PURPOSES.contains(&purpose) {
        return Ok(Fields::one("purpose", "error.choice"));
    }
    let mut cmd = app.store.command(&caller.actor()).await?;
    let details = store::open_absentee(&mut cmd, &app.store.keys, id, purpose).await?;
    cmd.commit().await?;
    Ok(Ok(details))
}

/// The entry, if the caller may see it: the owning agency, or one holding a grant on it.
pub async fn visible(app: &App, caller: &Caller, id: &str) -> Result<AbsenteeRow> {
    let a = app.store.absentee(id).await?.ok_or(Error::NotFound)?;
    access::require(app, caller, store::ABSENTEE, id, &a.owner_agency_id, &[]).await?;
    Ok(a)
}

#[derive(Clone, Debug, Deserialize)]
pub struct ReviewForm {
    pub round_id: String,
    pub outcome: String,
    pub outcome_on: String,
    #[serde(default)]
    pub note: String,
}

/// Record an absentee's outcome in a round of the owning agency. "Suspected trafficked" opens a victim case
/// for the person in the same transaction and links it to the outcome. Returns the victim case opened, if any.
pub async fn record_review(app: &App, caller: &Caller, id: &str, form: &ReviewForm) -> Result<Outcome<Option<String>>> {
    caller.require(Action::EditRecords)?;
    let a = &visible(app, caller, id).await?;
    access::require_owner(caller, &a.owner_agency_id)?;
    let mut errors: FieldErrors = Vec::new();
    let round = app.store.round(form.round_id.trim()).await?.filter(|r| r.owner_agency_id == caller.agency.id);
    let outcome = Found::from_code(form.outcome.trim());
    if outcome.is_none() {
        errors.push(("outcome".into(), "error.choice".into()));
    }
    if form.note.chars().count() > MAX_TEXT {
        errors.push(("note".into(), "error.too_long".into()));
    }
    let on = match round.as_ref().and_then(RoundRow::period) {
        None => {
            errors.push(("round_id".into(), "error.choice".into()));
            None
        }
        Some(period) => {
            let since = a.absent_since.as_deref().and_then(BirthDate::parse);
            match rules::check_outcome(parse_date(&form.outcome_on), period, since, app.today()) {
                Ok(d) => Some(d),
                Err((f, k)) => {
                    errors.push((f.into(), k.into()));
                    None
                }
            }
        }
    };
    let (Some(round), Some(outcome), Some(on), true) = (round, outcome, on, errors.is_empty()) else {
        return Ok(Err(errors));
    };
    let mut cmd = app.store.command(&caller.actor()).await?;
    // Read in the command, which holds the write lock: two officers recording the same entry at once
    // open one victim case, not two.
    let already = store::victim_case_of_review(&mut cmd, &a.id, &round.id).await?;
    let victim = if outcome == Found::SuspectedTrafficked && already.is_none() {
        Some(super::open_victim_case(&mut cmd, app, caller, &a.person_id, "commune", on, Some(&a.commune_code)).await?)
    } else {
        None
    };
    store::record_review(
        &mut cmd,
        &app.store.keys,
        &NewReview {
            absentee_id: &a.id,
            round_id: &round.id,
            outcome: outcome.code(),
            on,
            note: opt(&form.note),
            victim_case_id: victim.as_deref(),
        },
    )
    .await?;
    cmd.commit().await?;
    Ok(Ok(victim))
}

/// A round's counts: one row per commune, one column per outcome and one for entries not yet reviewed.
pub struct RoundTable {
    pub round: RoundRow,
    pub period: String,
    /// (commune, counts in [`Found::ALL`] order then not reviewed, total)
    pub rows: Vec<(String, Vec<i64>, i64)>,
    pub totals: Vec<i64>,
    pub total: i64,
}

/// A round's counts by commune and outcome; communes by name, from the list given.
pub async fn round_table(
    app: &App,
    agency_id: &str,
    round: RoundRow,
    communes: &[(String, String)],
) -> Result<RoundTable> {
    let counts = app.store.round_counts(agency_id, &round.id).await?;
    let width = Found::ALL.len() + 1;
    let mut rows: Vec<(String, Vec<i64>, i64)> = Vec::new();
    let mut totals = vec![0; width];
    for k in counts {
        let name = commune_name(communes, &k.commune_code);
        if rows.last().is_none_or(|r| r.0 != name) {
            rows.push((name, vec![0; width], 0));
        }
        let col = k
            .outcome
            .as_deref()
            .and_then(Found::from_code)
            .and_then(|o| Found::ALL.iter().position(|x| *x == o))
            .unwrap_or(width - 1);
        if let Some(row) = rows.last_mut() {
            row.1[col] += k.count;
            row.2 += k.count;
        }
        totals[col] += k.count;
    }
    let total = totals.iter().sum();
    let period = round.period().map(|(s, e)| format!("{} – {}", date(s), date(e))).unwrap_or_default();
    Ok(RoundTable { round, period, rows, totals, total })
}

#[derive(Clone, Debug, Deserialize)]
pub struct RoundForm {
    pub name: String,
    pub starts_on: String,
    pub ends_on: String,
}

/// Start a review round of the caller's agency: a name and the period it covers.
pub async fn create_round(app: &App, caller: &Caller, form: &RoundForm) -> Result<Outcome<String>> {
    caller.require(Action::EditRecords)?;
    let input =
        RoundInput { name: &form.name, starts_on: parse_date(&form.starts_on), ends_on: parse_date(&form.ends_on) };
    match rules::check_round(&input) {
        Ok((s, e)) => {
            let mut cmd = app.store.command(&caller.actor()).await?;
            let id = store::create_round(&mut cmd, &caller.agency.id, &form.name, s, e).await?;
            cmd.commit().await?;
            Ok(Ok(id))
        }
        Err(errors) => Ok(Err(errors.into_iter().map(|(f, k)| (f.into(), k.into())).collect())),
    }
}
