//! Training courses for officials, with their participants (user accounts, or names kept sealed) and
//! certificates. What is entered here feeds the plan's training indicator.

use haven_domain::format::parse_date;
use haven_domain::plan::{self as rules, TRAINING_TOPICS};
use haven_domain::Action;
use haven_store::plan::{self as store, NewTraining, Participant, TrainingRow};
use serde::Deserialize;

use crate::{App, Caller, Error, FieldErrors, Fields, Outcome, Result};

#[derive(Clone, Debug, Deserialize)]
pub struct TrainingForm {
    pub title: String,
    pub topic: String,
    pub starts_on: String,
    pub ends_on: String,
    #[serde(default)]
    pub trainers: String,
}

/// Record a training course of the caller's agency.
pub async fn create(app: &App, caller: &Caller, form: &TrainingForm) -> Result<Outcome<String>> {
    caller.require(Action::CreateRecords)?;
    let mut errors: FieldErrors = Vec::new();
    let mut err = |(f, k): (&str, &str)| errors.push((f.into(), k.into()));
    let title = rules::check_name("title", &form.title).map_err(&mut err).ok();
    let trainers = rules::check_name("trainers", &form.trainers).map_err(&mut err).ok();
    if !TRAINING_TOPICS.contains(&form.topic.trim()) {
        err(("topic", "error.choice"));
    }
    let (from, to) = (parse_date(&form.starts_on), parse_date(&form.ends_on));
    for e in rules::check_days(from, to, app.today()) {
        err(e);
    }
    let (Some(title), Some(trainers), Some(from), Some(to), true) = (title, trainers, from, to, errors.is_empty())
    else {
        return Ok(Err(errors));
    };
    let mut cmd = app.store.command(&caller.actor()).await?;
    let id = store::add_training(
        &mut cmd,
        &caller.agency.id,
        &NewTraining { title: &title, topic: form.topic.trim(), starts_on: from, ends_on: to, trainers: &trainers },
    )
    .await?;
    cmd.commit().await?;
    Ok(Ok(id))
}

#[derive(Clone, Debug, Deserialize)]
pub struct ParticipantForm {
    /// A user of the course's agency, or empty to give a name.
    #[serde(default)]
    pub user_id: String,
    #[serde(default)]
    pub full_name: String,
    #[serde(default)]
    pub agency: String,
    #[serde(default)]
    pub certificate: String,
}

/// Add a participant to a course of the caller's agency: one of its users, or a name (kept sealed) and an
/// agency.
pub async fn add_participant(app: &App, caller: &Caller, id: &str, form: &ParticipantForm) -> Result<Outcome<bool>> {
    caller.require(Action::CreateRecords)?;
    let t = app.store.training(id).await?.ok_or(Error::NotFound)?;
    crate::access::require_owner(caller, &t.owner_agency_id)?;
    let mut errors: FieldErrors = Vec::new();
    let certificate = form.certificate.trim();
    if certificate.chars().count() > 100 {
        errors.push(("certificate".into(), "error.too_long".into()));
    }
    let user_id = form.user_id.trim();
    let participant = if user_id.is_empty() {
        let name =
            rules::check_name("full_name", &form.full_name).map_err(|(f, k)| errors.push((f.into(), k.into()))).ok();
        let agency = app.store.agencies().await?.iter().find(|a| a.id == form.agency.trim() && a.active).cloned();
        if agency.is_none() {
            errors.push(("agency".into(), "error.choice".into()));
        }
        name.zip(agency).map(|(n, a)| (None, Some(n), a.id))
    } else {
        match app.store.users(Some(&caller.agency.id)).await?.into_iter().find(|u| u.id == user_id) {
            Some(u) => Some((Some(u.id), None, caller.agency.id.clone())),
            None => {
                errors.push(("user_id".into(), "error.choice".into()));
                None
            }
        }
    };
    let (Some((user, name, agency)), true) = (participant, errors.is_empty()) else { return Ok(Err(errors)) };
    let p = match (&user, &name) {
        (Some(u), _) => Participant::User { user_id: u, agency_id: &agency },
        (None, Some(n)) => Participant::Named { full_name: n, agency_id: &agency },
        (None, None) => return Ok(Fields::one("full_name", "error.required")),
    };
    let mut cmd = app.store.command(&caller.actor()).await?;
    let added =
        store::add_participant(&mut cmd, &app.store.keys, &t.id, &p, Some(certificate).filter(|c| !c.is_empty()))
            .await?;
    if !added {
        return Ok(Fields::one("user_id", "error.already_participant"));
    }
    cmd.commit().await?;
    Ok(Ok(true))
}

/// A course, for those who may see plans; with its participants (names, agencies, certificates) only for
/// the course's own agency: who took part is personal data of the officials.
pub async fn get(app: &App, caller: &Caller, id: &str) -> Result<(TrainingRow, Option<Vec<store::ParticipantRow>>)> {
    crate::plan::require_view(caller)?;
    let t = app.store.training(id).await?.ok_or(Error::NotFound)?;
    let participants = if t.owner_agency_id == caller.agency.id && caller.can(Action::ViewRecords) {
        Some(app.store.participants(&t.id).await?)
    } else {
        None
    };
    Ok((t, participants))
}
