//! Protection and reintegration: protection measures for the victim and those close to them, the
//! reintegration plan's goals, and the follow-up visits with the risk seen at each.

use haven_domain::format::parse_date;
use haven_domain::victims as rules;
use haven_domain::Action;
use haven_store::victims as store;
use serde::Deserialize;

use crate::input::optional_date;
use crate::{App, Caller, Error, Fields, Outcome, Result};

#[derive(Deserialize)]
pub struct MeasureForm {
    pub kind: String,
    pub for_whom: String,
    #[serde(default)]
    pub relative: String,
    pub starts_on: String,
    #[serde(default)]
    pub ends_on: String,
    #[serde(default)]
    pub agency: String,
}

/// Record a protection measure for the victim, a relative or a helper.
pub async fn add_measure(app: &App, caller: &Caller, id: &str, form: &MeasureForm) -> Result<Outcome<()>> {
    caller.require(Action::EditRecords)?;
    let mut cmd = app.store.command(&caller.actor()).await?;
    let v = super::workable_in(app, &mut cmd, caller, id, "protection").await?;
    let mut f = Fields::default();
    if !rules::MEASURES.contains(&form.kind.as_str()) {
        f.add("measure_kind", "error.choice");
    }
    if !rules::PROTECTED.contains(&form.for_whom.as_str()) {
        f.add("for_whom", "error.choice");
    }
    let relative = form.relative.trim();
    if matches!(form.for_whom.as_str(), "relative" | "helper") && relative.chars().count() < 2 {
        f.add("relative", "error.measure_relative");
    }
    let starts = parse_date(&form.starts_on);
    let ends = optional_date(&form.ends_on);
    match (starts, ends) {
        (None, _) => f.add("measure_starts", "error.date"),
        (_, Err(())) => f.add("measure_ends", "error.date"),
        (Some(s), _) if s > app.today() => f.add("measure_starts", "error.date_in_future"),
        (Some(s), Ok(Some(e))) if e < s => f.add("measure_ends", "error.measure_order"),
        _ => {}
    }
    let agency = if form.agency.trim().is_empty() { caller.agency.id.clone() } else { form.agency.trim().to_owned() };
    if app.store.agency(&agency).await?.filter(|a| a.active).is_none() {
        f.add("measure_agency", "error.choice");
    }
    let (Some(starts), Ok(ends), false) = (starts, ends, f.has_errors()) else { return Ok(Err(f.errors)) };
    let m = store::NewMeasure {
        kind: &form.kind,
        for_whom: &form.for_whom,
        relative: Some(relative),
        starts_on: starts,
        ends_on: ends,
        agency_id: &agency,
    };
    store::add_measure(&mut cmd, &app.store.keys, &v.id, &m).await?;
    cmd.commit().await?;
    Ok(Ok(()))
}

#[derive(Deserialize)]
pub struct GoalForm {
    pub area: String,
    pub goal: String,
}

/// Add a goal to the reintegration plan, in one of its areas.
pub async fn add_goal(app: &App, caller: &Caller, id: &str, form: &GoalForm) -> Result<Outcome<()>> {
    caller.require(Action::EditRecords)?;
    let mut cmd = app.store.command(&caller.actor()).await?;
    let v = super::workable_in(app, &mut cmd, caller, id, "reintegration").await?;
    if !rules::GOAL_AREAS.contains(&form.area.as_str()) {
        return Ok(Fields::one("goal_area", "error.choice"));
    }
    if form.goal.trim().chars().count() < 5 {
        return Ok(Fields::one("goal", "error.goal"));
    }
    store::add_goal(&mut cmd, &app.store.keys, &v.id, &form.area, form.goal.trim()).await?;
    cmd.commit().await?;
    Ok(Ok(()))
}

#[derive(Deserialize)]
pub struct GoalStatusForm {
    /// met or dropped.
    pub status: String,
}

/// A goal of the plan is met or dropped.
pub async fn set_goal_status(
    app: &App,
    caller: &Caller,
    id: &str,
    goal: &str,
    form: &GoalStatusForm,
) -> Result<Outcome<()>> {
    caller.require(Action::EditRecords)?;
    let mut cmd = app.store.command(&caller.actor()).await?;
    let v = super::workable_in(app, &mut cmd, caller, id, "reintegration").await?;
    if !matches!(form.status.as_str(), "met" | "dropped") {
        return Ok(Fields::one("goal", "error.choice"));
    }
    if !store::set_goal_status(&mut cmd, &v.id, goal, &form.status).await? {
        return Err(Error::NotFound);
    }
    cmd.commit().await?;
    Ok(Ok(()))
}

/// Schedule follow-up visits: a first day, how many, and how many months apart.
pub async fn schedule_visits(app: &App, caller: &Caller, id: &str, form: &ScheduleForm) -> Result<Outcome<()>> {
    caller.require(Action::EditRecords)?;
    let mut cmd = app.store.command(&caller.actor()).await?;
    let v = super::workable_in(app, &mut cmd, caller, id, "reintegration").await?;
    let first = parse_date(&form.first);
    let count = form.count.trim().parse::<u32>().ok().filter(|n| (1..=rules::MAX_VISITS).contains(n));
    let months = form.months.trim().parse::<u32>().ok().filter(|n| (1..=12).contains(n));
    Ok(match (first, count, months) {
        _ if v.closed_on.is_some() => Fields::one("visit_first", "error.victim_closed"),
        (None, _, _) => Fields::one("visit_first", "error.date"),
        (Some(d), _, _) if v.received().is_some_and(|r| d < r) => {
            Fields::one("visit_first", "error.victim_before_reception")
        }
        (_, None, _) => Fields::one("visit_count", "error.visit_count"),
        (_, _, None) => Fields::one("visit_months", "error.visit_months"),
        (Some(first), Some(count), Some(months)) => {
            store::schedule_visits(&mut cmd, &v.id, &rules::visit_schedule(first, count, months)).await?;
            cmd.commit().await?;
            Ok(())
        }
    })
}

#[derive(Deserialize)]
pub struct ScheduleForm {
    pub first: String,
    pub count: String,
    pub months: String,
}

#[derive(Deserialize)]
pub struct VisitForm {
    pub on: String,
    pub risk: String,
    #[serde(default)]
    pub note: String,
    #[serde(default)]
    pub officer: String,
}

/// Record a follow-up visit with the risk seen; the next visit due moves on.
pub async fn record_visit(app: &App, caller: &Caller, id: &str, form: &VisitForm) -> Result<Outcome<()>> {
    caller.require(Action::EditRecords)?;
    let mut cmd = app.store.command(&caller.actor()).await?;
    let v = super::workable_in(app, &mut cmd, caller, id, "reintegration").await?;
    let mut f = Fields::default();
    let on = parse_date(&form.on);
    match on {
        None => f.add("visit_on", "error.date"),
        Some(d) if d > app.today() => f.add("visit_on", "error.date_in_future"),
        Some(d) if v.received().is_some_and(|r| d < r) => f.add("visit_on", "error.victim_before_reception"),
        Some(_) => {}
    }
    if !rules::RISKS.contains(&form.risk.as_str()) {
        f.add("risk", "error.choice");
    }
    if v.closed_on.is_some() {
        f.add("visit_on", "error.victim_closed");
    }
    let (Some(on), false) = (on, f.has_errors()) else { return Ok(Err(f.errors)) };
    let officer =
        if form.officer.trim().is_empty() { caller.user.display_name.clone() } else { form.officer.trim().to_owned() };
    store::record_visit(&mut cmd, &app.store.keys, &v.id, on, &form.risk, &form.note, &officer).await?;
    cmd.commit().await?;
    Ok(Ok(()))
}
