//! The province's plan: plans with objectives, activities and indicators, each indicator's figure for a
//! period against its target. Computed indicators come from the one catalogue (`haven_domain::plan::Measure`,
//! counted by `Store::figure`), so the plan, the reports and the API show the same number; the others are
//! entered by hand per period by the responsible agency. A plan is copied to the next year.

use haven_domain::format::parse_date;
use haven_domain::plan::{self as rules, Figure, Frequency, Measure, ReportPeriod, Source, Status, Unit};
use haven_domain::reports::indicators::Period;
use haven_domain::Action;
use haven_store::cases::Scope;
use haven_store::plan::{self as store, IndicatorRow, NewActivity, NewIndicator, PlanRow};
use serde::{Deserialize, Serialize};

use crate::{App, Caller, Error, FieldErrors, Fields, Outcome, Result};

/// Plans and their figures are aggregates: for analysts, and for the agencies' staff who report into them.
pub fn may_view(caller: &Caller) -> bool {
    caller.can(Action::ViewAggregates) || caller.can(Action::CreateRecords)
}

/// Refuse unless the caller may see plans.
pub fn require_view(caller: &Caller) -> Result<()> {
    if may_view(caller) {
        Ok(())
    } else {
        Err(Error::Forbidden)
    }
}

/// The plan's owner edits its objectives, activities and indicators: the head of the owning agency.
pub fn may_edit(caller: &Caller, plan: &PlanRow) -> bool {
    caller.can(Action::SuperviseAgency) && plan.owner_agency_id == caller.agency.id
}

fn owned_plan(caller: &Caller, plan: &PlanRow) -> Result<()> {
    if may_edit(caller, plan) {
        Ok(())
    } else {
        Err(Error::Forbidden)
    }
}

/// The plan, for those who may see plans.
pub async fn get(app: &App, caller: &Caller, id: &str) -> Result<PlanRow> {
    require_view(caller)?;
    app.store.plan(id).await?.ok_or(Error::NotFound)
}

/// Every plan, newest year first.
pub async fn list(app: &App, caller: &Caller) -> Result<Vec<PlanRow>> {
    require_view(caller)?;
    Ok(app.store.plans().await?)
}

#[derive(Clone, Debug, Deserialize)]
pub struct PlanForm {
    pub name: String,
    pub year: String,
}

fn check_year(typed: &str, this_year: i32) -> std::result::Result<i32, &'static str> {
    match typed.trim().parse::<i32>() {
        Ok(y) if (2000..=this_year + 5).contains(&y) => Ok(y),
        _ => Err("error.year"),
    }
}

/// Create a plan for the caller's agency.
pub async fn create_plan(app: &App, caller: &Caller, form: &PlanForm) -> Result<Outcome<String>> {
    caller.require(Action::SuperviseAgency)?;
    let mut errors: FieldErrors = Vec::new();
    let name = rules::check_name("name", &form.name).map_err(|(f, k)| errors.push((f.into(), k.into()))).ok();
    let year = check_year(&form.year, app.today().year()).map_err(|k| errors.push(("year".into(), k.into()))).ok();
    let (Some(name), Some(year), true) = (name, year, errors.is_empty()) else { return Ok(Err(errors)) };
    let mut cmd = app.store.command(&caller.actor()).await?;
    let id = store::create_plan(&mut cmd, &caller.agency.id, &name, year).await?;
    cmd.commit().await?;
    Ok(Ok(id))
}

/// An indicator for a period, as the dashboard, the reports and the API give it.
#[derive(Clone, Debug, Serialize)]
pub struct IndicatorValue {
    pub id: String,
    pub name: String,
    /// The catalogue code, or `manual`.
    pub measure: String,
    pub unit: &'static str,
    /// In the unit (per mille for a share); `None` without data.
    pub value: Option<u64>,
    pub numerator: Option<u64>,
    pub denominator: Option<u64>,
    pub target: Option<u64>,
    pub status: &'static str,
    pub responsible_agency_id: String,
    pub frequency: String,
}

/// How an indicator row gets its number.
pub fn source(i: &IndicatorRow) -> Source {
    match i.measure.as_deref().and_then(Measure::from_code) {
        Some(m) => Source::Computed(m),
        None => Source::Manual(Unit::from_code(&i.unit).unwrap_or(Unit::Count)),
    }
}

/// An indicator's figure for a period: computed from the records (up to today), or the values entered by
/// hand for the periods it covers (summed for counts; the latest for a share). For one agency's report
/// (`agency`), a computed figure counts that agency's records, and a value entered by hand is given only by
/// the agency responsible for it.
pub async fn figure_of(
    app: &App,
    i: &IndicatorRow,
    period: ReportPeriod,
    agency: Option<&str>,
) -> Result<Option<Figure>> {
    let today = app.today();
    let range = period.range();
    if range.from > today {
        return Ok(None);
    }
    Ok(match source(i) {
        Source::Computed(m) => {
            let until = Period { from: range.from, to: range.to.min(today) };
            Some(app.store.figure(m, until, Scope { agency_id: agency, commune_code: None }).await?)
        }
        Source::Manual(_) if agency.is_some_and(|a| a != i.responsible_agency_id) => None,
        Source::Manual(unit) => {
            let covered: Vec<(ReportPeriod, i64)> = app
                .store
                .entries(&i.id)
                .await?
                .into_iter()
                .filter_map(|e| ReportPeriod::parse(&e.period).map(|p| (p, e.value)))
                .filter(|(p, _)| period.covers(*p))
                .collect();
            if covered.is_empty() {
                None
            } else if unit == Unit::Percent {
                covered.iter().max_by_key(|(p, _)| p.range().to).map(|(_, v)| Figure::Total(*v as u64))
            } else {
                Some(Figure::Total(covered.iter().map(|(_, v)| *v as u64).sum()))
            }
        }
    })
}

/// An indicator's value, target and traffic light for a period (see [`figure_of`]).
pub async fn indicator_value(
    app: &App,
    i: &IndicatorRow,
    period: ReportPeriod,
    agency: Option<&str>,
) -> Result<IndicatorValue> {
    let src = source(i);
    let unit = match src {
        Source::Computed(m) => m.unit(),
        Source::Manual(u) => u,
    };
    let fig = figure_of(app, i, period, agency).await?;
    let target = i.target.map(|t| t.max(0) as u64);
    let status = match fig {
        Some(f) => rules::status(unit, f, target, period.elapsed(app.today())),
        None => Status::Unknown,
    };
    let (numerator, denominator) = match fig {
        Some(Figure::Share { numerator, denominator }) => (Some(numerator), Some(denominator)),
        _ => (None, None),
    };
    Ok(IndicatorValue {
        id: i.id.clone(),
        name: i.name.clone(),
        measure: match src {
            Source::Computed(m) => m.code().to_owned(),
            Source::Manual(_) => "manual".to_owned(),
        },
        unit: unit.code(),
        value: fig.and_then(Figure::value),
        numerator,
        denominator,
        target,
        status: status.code(),
        responsible_agency_id: i.responsible_agency_id.clone(),
        frequency: i.frequency.clone(),
    })
}

/// The period asked for, within the plan's year; the year itself by default.
pub fn chosen_period(plan: &PlanRow, typed: &str) -> std::result::Result<ReportPeriod, &'static str> {
    if typed.trim().is_empty() {
        return ReportPeriod::year(plan.year).ok_or("error.period");
    }
    match ReportPeriod::parse(typed.trim()) {
        Some(p) if p.year == plan.year => Ok(p),
        _ => Err("error.period"),
    }
}

#[derive(Clone, Debug, Deserialize)]
pub struct ObjectiveForm {
    pub title: String,
}

pub async fn add_objective(app: &App, caller: &Caller, plan_id: &str, form: &ObjectiveForm) -> Result<Outcome<String>> {
    let plan = &app.store.plan(plan_id).await?.ok_or(Error::NotFound)?;
    owned_plan(caller, plan)?;
    let title = match rules::check_name("title", &form.title) {
        Ok(t) => t,
        Err((f, k)) => return Ok(Fields::one(f, k)),
    };
    let mut cmd = app.store.command(&caller.actor()).await?;
    let id = store::add_objective(&mut cmd, &plan.id, &title).await?;
    cmd.commit().await?;
    Ok(Ok(id))
}

#[derive(Clone, Debug, Deserialize)]
pub struct ActivityForm {
    pub title: String,
    #[serde(default)]
    pub objective_id: String,
    pub responsible: String,
    #[serde(default)]
    pub due_on: String,
}

/// An agency of the directory, by id, for a "responsible agency" choice.
async fn agency_choice(app: &App, id: &str) -> Result<Option<String>> {
    Ok(app.store.agencies().await?.iter().find(|a| a.id == id.trim() && a.active).map(|a| a.id.clone()))
}

fn objective_choice(objectives: &[store::ObjectiveRow], id: &str) -> std::result::Result<Option<String>, ()> {
    match id.trim() {
        "" => Ok(None),
        id => objectives.iter().find(|o| o.id == id).map(|o| Some(o.id.clone())).ok_or(()),
    }
}

pub async fn add_activity(app: &App, caller: &Caller, plan_id: &str, form: &ActivityForm) -> Result<Outcome<String>> {
    let plan = &app.store.plan(plan_id).await?.ok_or(Error::NotFound)?;
    owned_plan(caller, plan)?;
    let mut errors: FieldErrors = Vec::new();
    let title =
        rules::check_name("activity_title", &form.title).map_err(|(f, k)| errors.push((f.into(), k.into()))).ok();
    let responsible = agency_choice(app, &form.responsible).await?;
    if responsible.is_none() {
        errors.push(("responsible".into(), "error.choice".into()));
    }
    let objectives = app.store.objectives(&plan.id).await?;
    let objective = objective_choice(&objectives, &form.objective_id)
        .map_err(|_| errors.push(("objective_id".into(), "error.choice".into())))
        .ok()
        .flatten();
    let due_on = match form.due_on.trim() {
        "" => None,
        typed => match parse_date(typed) {
            Some(d) if d.year() == plan.year => Some(d),
            Some(_) => {
                errors.push(("due_on".into(), "error.plan_year".into()));
                None
            }
            None => {
                errors.push(("due_on".into(), "error.date".into()));
                None
            }
        },
    };
    let (Some(title), Some(responsible), true) = (title, responsible, errors.is_empty()) else {
        return Ok(Err(errors));
    };
    let mut cmd = app.store.command(&caller.actor()).await?;
    let id = store::add_activity(
        &mut cmd,
        &NewActivity {
            plan_id: &plan.id,
            objective_id: objective.as_deref(),
            title: &title,
            responsible_agency_id: &responsible,
            due_on,
        },
    )
    .await?;
    cmd.commit().await?;
    Ok(Ok(id))
}

/// The responsible agency marks an activity of the plan done, today.
pub async fn mark_activity_done(app: &App, caller: &Caller, plan_id: &str, activity: &str) -> Result<()> {
    caller.require(Action::EditRecords)?;
    let plan = app.store.plan(plan_id).await?.ok_or(Error::NotFound)?;
    let a = app.store.plan_activities(&plan.id).await?.into_iter().find(|a| a.id == activity).ok_or(Error::NotFound)?;
    crate::access::require_owner(caller, &a.responsible_agency_id)?;
    let mut cmd = app.store.command(&caller.actor()).await?;
    if store::activity_done(&mut cmd, &plan.id, &a.id, app.today()).await? {
        cmd.commit().await?;
    }
    Ok(())
}

#[derive(Clone, Debug, Deserialize)]
pub struct IndicatorForm {
    pub name: String,
    #[serde(default)]
    pub objective_id: String,
    /// A catalogue code, or `manual`.
    pub measure: String,
    /// For an indicator entered by hand.
    #[serde(default)]
    pub unit: String,
    #[serde(default)]
    pub definition: String,
    #[serde(default)]
    pub target: String,
    pub frequency: String,
    pub responsible: String,
}

pub async fn add_indicator(app: &App, caller: &Caller, plan_id: &str, form: &IndicatorForm) -> Result<Outcome<String>> {
    let plan = &app.store.plan(plan_id).await?.ok_or(Error::NotFound)?;
    owned_plan(caller, plan)?;
    let mut errors: FieldErrors = Vec::new();
    let mut err = |f: &str, k: &str| errors.push((f.into(), k.into()));
    let name = rules::check_name("indicator_name", &form.name).map_err(|(f, k)| err(f, k)).ok();
    let (measure, unit) = match form.measure.trim() {
        "manual" => match Unit::from_code(form.unit.trim()) {
            Some(u) => (None, Some(u)),
            None => {
                err("unit", "error.choice");
                (None, None)
            }
        },
        code => match Measure::from_code(code) {
            Some(m) => (Some(m), Some(m.unit())),
            None => {
                err("measure", "error.choice");
                (None, None)
            }
        },
    };
    let definition = form.definition.trim();
    if form.measure.trim() == "manual" && definition.is_empty() {
        err("definition", "error.definition_needed");
    }
    if definition.chars().count() > 2000 {
        err("definition", "error.too_long");
    }
    let target = match unit {
        Some(u) => match rules::parse_target(u, &form.target) {
            Ok(t) => t.or_else(|| measure.and_then(Measure::default_target)),
            Err(k) => {
                err("target", k);
                None
            }
        },
        None => None,
    };
    let frequency = Frequency::from_code(form.frequency.trim());
    if frequency.is_none() {
        err("frequency", "error.choice");
    }
    let responsible = agency_choice(app, &form.responsible).await?;
    if responsible.is_none() {
        errors.push(("responsible".into(), "error.choice".into()));
    }
    let objectives = app.store.objectives(&plan.id).await?;
    let objective = objective_choice(&objectives, &form.objective_id)
        .map_err(|_| errors.push(("objective_id".into(), "error.choice".into())))
        .ok()
        .flatten();
    let (Some(name), Some(unit), Some(frequency), Some(responsible), true) =
        (name, unit, frequency, responsible, errors.is_empty())
    else {
        return Ok(Err(errors));
    };
    let mut cmd = app.store.command(&caller.actor()).await?;
    let id = store::add_indicator(
        &mut cmd,
        &NewIndicator {
            plan_id: &plan.id,
            objective_id: objective.as_deref(),
            name: &name,
            measure,
            unit,
            definition: measure.is_none().then_some(definition),
            target,
            frequency,
            responsible_agency_id: &responsible,
        },
    )
    .await?;
    cmd.commit().await?;
    Ok(Ok(id))
}

#[derive(Clone, Debug, Deserialize)]
pub struct EntryForm {
    /// A period code: `2024-Q2`.
    pub entry_period: String,
    pub value: String,
    #[serde(default)]
    pub note: String,
}

/// Record a value entered by hand: by the responsible agency, for a period of the indicator's frequency in
/// the plan's year that has begun. Returns whether an earlier value was corrected.
pub async fn record_entry(
    app: &App,
    caller: &Caller,
    plan_id: &str,
    indicator_id: &str,
    form: &EntryForm,
) -> Result<Outcome<bool>> {
    let plan = &app.store.plan(plan_id).await?.ok_or(Error::NotFound)?;
    let i = app.store.plan_indicator(indicator_id).await?.filter(|i| i.plan_id == plan.id).ok_or(Error::NotFound)?;
    if i.responsible_agency_id != caller.agency.id || !caller.can(Action::CreateRecords) {
        return Err(Error::Forbidden);
    }
    let Source::Manual(unit) = source(&i) else {
        return Ok(Fields::one("value", "error.indicator_computed"));
    };
    let mut errors: FieldErrors = Vec::new();
    let frequency = Frequency::from_code(&i.frequency);
    let period = match ReportPeriod::parse(form.entry_period.trim()) {
        Some(p) if Some(p.frequency) == frequency && p.year == plan.year && p.range().from <= app.today() => Some(p),
        _ => {
            errors.push(("entry_period".into(), "error.period".into()));
            None
        }
    };
    let value = rules::parse_entry(unit, &form.value).map_err(|k| errors.push(("value".into(), k.into()))).ok();
    if form.note.chars().count() > 2000 {
        errors.push(("note".into(), "error.too_long".into()));
    }
    let (Some(period), Some(value), true) = (period, value, errors.is_empty()) else { return Ok(Err(errors)) };
    let note = Some(form.note.trim()).filter(|n| !n.is_empty());
    let mut cmd = app.store.command(&caller.actor()).await?;
    let corrected = store::record_entry(&mut cmd, &i.id, period, value, note).await?;
    cmd.commit().await?;
    Ok(Ok(corrected))
}

#[derive(Clone, Debug, Deserialize)]
pub struct CopyForm {
    pub name: String,
    pub year: String,
}

pub async fn copy_plan(app: &App, caller: &Caller, plan_id: &str, form: &CopyForm) -> Result<Outcome<String>> {
    let plan = &app.store.plan(plan_id).await?.ok_or(Error::NotFound)?;
    owned_plan(caller, plan)?;
    let mut errors: FieldErrors = Vec::new();
    let name = rules::check_name("copy_name", &form.name).map_err(|(f, k)| errors.push((f.into(), k.into()))).ok();
    let year = match check_year(&form.year, app.today().year()) {
        Ok(y) if y == plan.year => {
            errors.push(("copy_year".into(), "error.copy_same_year".into()));
            None
        }
        Ok(y) => Some(y),
        Err(k) => {
            errors.push(("copy_year".into(), k.into()));
            None
        }
    };
    let (Some(name), Some(year), true) = (name, year, errors.is_empty()) else { return Ok(Err(errors)) };
    let mut cmd = app.store.command(&caller.actor()).await?;
    let id = store::copy_plan(&mut cmd, &plan.id, &name, year).await?;
    cmd.commit().await?;
    Ok(Ok(id))
}

/// An indicator of a plan, for those who may see plans.
pub async fn indicator(app: &App, caller: &Caller, plan_id: &str, id: &str) -> Result<(PlanRow, IndicatorRow)> {
    let plan = get(app, caller, plan_id).await?;
    let i = app.store.plan_indicator(id).await?.filter(|i| i.plan_id == plan.id).ok_or(Error::NotFound)?;
    Ok((plan, i))
}

/// An indicator's figure month by month over the plan's year (none for months without data or to come).
pub async fn monthly(app: &App, plan: &PlanRow, i: &IndicatorRow) -> Result<Vec<Option<u64>>> {
    Ok(match source(i) {
        Source::Computed(m) => app.store.monthly(m, plan.year, app.today()).await?,
        Source::Manual(_) => {
            let mut out = Vec::with_capacity(12);
            for m in ReportPeriod::all_in(plan.year, Frequency::Month) {
                out.push(figure_of(app, i, m, None).await?.and_then(Figure::value));
            }
            out
        }
    })
}

/// Record that a periodic report of the plan was downloaded: which period and which agency (or the
/// province), and the sections it holds.
pub async fn record_report_export(
    app: &App,
    caller: &Caller,
    plan: &PlanRow,
    period: ReportPeriod,
    agency: Option<&haven_store::directory::Agency>,
) -> Result<()> {
    require_view(caller)?;
    app.store
        .record(
            &caller.actor(),
            haven_store::Entry::new("plan.report_export", store::PLAN, &plan.id)
                .purpose(&format!("{}:{}", period.code(), agency.map_or("province", |a| a.code.as_str())))
                .fields(&["indicators", "victims", "prevention", "training", "activities"]),
        )
        .await?;
    Ok(())
}
