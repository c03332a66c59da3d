//! The plan's pages: plans with objectives, activities and indicators, each indicator against its target for a
//! chosen period with its traffic light; values entered by hand by the responsible agency; a plan copied to
//! the next year. Computed indicators come from the one catalogue (`haven_domain::plan::Measure`, counted by
//! `Store::figure`), so the plan shows the same number as the reports and the API.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use haven_domain::format::parse_date;
use haven_domain::plan::{self as rules, Figure, Frequency, Measure, ReportPeriod, Source, Status, Unit};
use haven_domain::reports::indicators::Period;
use haven_domain::Action;
use haven_store::cases::Scope;
use haven_store::plan::{self as store, IndicatorRow, NewActivity, NewIndicator, PlanRow};
use serde::{Deserialize, Serialize};

use crate::ctx::{Can, CsrfForm, Viewer};
use crate::error::{AppError, AppResult};
use crate::page::{render, Ctx, FormState};
use crate::pages::reports::{today, FieldErrors};
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/plans", get(list).post(create))
        .route("/plans/{id}", get(show))
        .route("/plans/{id}/objectives", post(objective_create))
        .route("/plans/{id}/activities", post(activity_create))
        .route("/plans/{id}/activities/{activity}/done", post(activity_done))
        .route("/plans/{id}/indicators", post(indicator_create))
        .route("/plans/{id}/indicators/{indicator}", get(indicator_show))
        .route("/plans/{id}/indicators/{indicator}/entries", post(entry_create))
        .route("/plans/{id}/copy", post(copy))
}

/// Plans and their figures are aggregates: for analysts, and for the agencies' staff who report into them.
pub fn may_view(v: &Viewer) -> bool {
    v.can(Action::ViewAggregates) || v.can(Action::CreateRecords)
}

fn viewer_may_view(v: &Viewer) -> AppResult<()> {
    if may_view(v) {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

/// The plan's owner edits its objectives, activities and indicators: the head of the owning agency.
fn may_edit(v: &Viewer, plan: &PlanRow) -> bool {
    v.can(Action::SuperviseAgency) && plan.owner_agency_id == v.agency.id
}

async fn agency_names(state: &AppState, c: &Ctx) -> AppResult<Vec<(String, String)>> {
    Ok(state
        .store
        .agencies()
        .await?
        .iter()
        .filter(|a| a.active)
        .map(|a| (a.id.clone(), c.agency_label(&a.name_vi, &a.name_en).to_owned()))
        .collect())
}

// ---------------------------------------------------------------------------------------------------------
// The list of plans

#[derive(Template)]
#[template(path = "plans.html")]
struct PlansPage {
    c: Ctx,
    f: FormState,
    plans: Vec<(PlanRow, String)>,
    can_create: bool,
    this_year: i32,
}

async fn plans_page(state: &AppState, v: &Viewer, c: Ctx, f: FormState, status: StatusCode) -> AppResult<Response> {
    let names = agency_names(state, &c).await?;
    let plans = state
        .store
        .plans()
        .await?
        .into_iter()
        .map(|p| {
            let owner = names.iter().find(|(id, _)| *id == p.owner_agency_id).map(|(_, n)| n.clone());
            (p, owner.unwrap_or_default())
        })
        .collect();
    let page = PlansPage { c, f, plans, can_create: v.can(Action::SuperviseAgency), this_year: today(state).year() };
    Ok(render(status, &page))
}

async fn list(State(state): State<AppState>, v: Viewer, c: Ctx) -> AppResult<Response> {
    viewer_may_view(&v)?;
    plans_page(&state, &v, c, FormState::default(), StatusCode::OK).await
}

#[derive(Clone, Debug, Deserialize)]
pub struct PlanForm {
    pub name: String,
    pub year: String,
}

fn check_year(typed: &str, this_year: i32) -> Result<i32, &'static str> {
    match typed.trim().parse::<i32>() {
        Ok(y) if (2000..=this_year + 5).contains(&y) => Ok(y),
        _ => Err("error.year"),
    }
}

/// Create a plan for the viewer's agency.
pub async fn create_plan(state: &AppState, v: &Viewer, form: &PlanForm) -> AppResult<Result<String, FieldErrors>> {
    if !v.can(Action::SuperviseAgency) {
        return Err(AppError::Forbidden);
    }
    let mut errors: FieldErrors = Vec::new();
    let name = rules::check_name("name", &form.name).map_err(|(f, k)| errors.push((f.into(), k.into()))).ok();
    let year = check_year(&form.year, today(state).year()).map_err(|k| errors.push(("year".into(), k.into()))).ok();
    let (Some(name), Some(year), true) = (name, year, errors.is_empty()) else { return Ok(Err(errors)) };
    let mut cmd = state.store.command(&v.actor()).await?;
    let id = store::create_plan(&mut cmd, &v.agency.id, &name, year).await?;
    cmd.commit().await?;
    Ok(Ok(id))
}

async fn create(
    State(state): State<AppState>,
    Can(v, ..): Can<crate::ctx::SuperviseAgency>,
    c: Ctx,
    CsrfForm(form, pairs): CsrfForm<PlanForm>,
) -> AppResult<Response> {
    match create_plan(&state, &v, &form).await? {
        Ok(id) => Ok(Redirect::to(&format!("/plans/{id}?done=plan_created")).into_response()),
        Err(errors) => {
            let mut f = FormState::from_pairs(&pairs);
            f.errors = errors;
            plans_page(&state, &v, c, f, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

// ---------------------------------------------------------------------------------------------------------
// One plan: its indicators against their targets for a period

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
    state: &AppState,
    i: &IndicatorRow,
    period: ReportPeriod,
    agency: Option<&str>,
) -> AppResult<Option<Figure>> {
    let today = today(state);
    let range = period.range();
    if range.from > today {
        return Ok(None);
    }
    Ok(match source(i) {
        Source::Computed(m) => {
            let until = Period { from: range.from, to: range.to.min(today) };
            Some(state.store.figure(m, until, Scope { agency_id: agency, commune_code: None }).await?)
        }
        Source::Manual(_) if agency.is_some_and(|a| a != i.responsible_agency_id) => None,
        Source::Manual(unit) => {
            let covered: Vec<(ReportPeriod, i64)> = state
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

pub async fn indicator_value(
    state: &AppState,
    i: &IndicatorRow,
    period: ReportPeriod,
    agency: Option<&str>,
) -> AppResult<IndicatorValue> {
    let src = source(i);
    let unit = match src {
        Source::Computed(m) => m.unit(),
        Source::Manual(u) => u,
    };
    let fig = figure_of(state, i, period, agency).await?;
    let target = i.target.map(|t| t.max(0) as u64);
    let status = match fig {
        Some(f) => rules::status(unit, f, target, period.elapsed(today(state))),
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

/// An indicator line on the plan page.
pub struct IndicatorLine {
    pub v: IndicatorValue,
    pub shown: String,
    pub target: String,
    pub definition: String,
    pub responsible: String,
    /// Whether the viewer's agency enters its values, and the periods it may enter.
    pub entry_periods: Vec<String>,
}

pub struct ActivityLine {
    pub a: store::ActivityRow,
    pub responsible: String,
    pub can_mark: bool,
}

/// A chart with its numbers: the title, the SVG, and the rows of the table beside it.
pub struct Chart {
    pub id: &'static str,
    pub title: String,
    pub svg: String,
    /// (label, value as shown).
    pub rows: Vec<(String, String)>,
}

fn chart(id: &'static str, title: String, rows: Vec<(String, u64)>) -> Chart {
    Chart {
        id,
        svg: crate::charts::bars(&title, &rows),
        title,
        rows: rows.into_iter().map(|(k, n)| (k, n.to_string())).collect(),
    }
}

/// The breakdowns of the victims received in a period (of one agency, or all), as charts with their tables.
pub async fn victim_charts(
    state: &AppState,
    c: &Ctx,
    period: Period,
    agency: Option<&str>,
) -> AppResult<(u64, Vec<Chart>)> {
    let b = state.store.victim_breakdowns(period, agency).await?;
    let communes = state.store.communes(&state.config.province).await?;
    let agencies = state.store.agencies().await?;
    let not_recorded = c.t("plan.not_recorded").to_owned();
    let named = |rows: Vec<(String, u64)>, name: &dyn Fn(&str) -> String| -> Vec<(String, u64)> {
        rows.into_iter().map(|(k, n)| (if k.is_empty() { not_recorded.clone() } else { name(&k) }, n)).collect()
    };
    let commune =
        |k: &str| communes.iter().find(|(code, _)| code == k).map_or_else(|| k.to_owned(), |(_, n)| n.clone());
    let agency = |k: &str| {
        agencies
            .iter()
            .find(|a| a.id == k)
            .map_or_else(String::new, |a| c.agency_label(&a.name_vi, &a.name_en).to_owned())
    };
    let charts = vec![
        chart("by-commune", c.t("plan.by_commune").to_owned(), named(b.by_commune, &commune)),
        chart("by-agency", c.t("plan.by_agency").to_owned(), named(b.by_agency, &agency)),
        chart("by-country", c.t("plan.by_country").to_owned(), named(b.by_country, &|k| c.tk("country", k))),
        chart(
            "by-exploitation",
            c.t("plan.by_exploitation").to_owned(),
            named(b.by_exploitation, &|k| c.tk("htcds", k)),
        ),
        chart("by-sex", c.t("plan.by_sex").to_owned(), named(b.by_sex, &|k| c.tk("sex", k))),
        chart("by-age", c.t("plan.by_age").to_owned(), named(b.by_age, &|k| c.tk("age_band", k))),
    ];
    Ok((b.total, charts))
}

pub struct ObjectiveBlock {
    pub o: Option<store::ObjectiveRow>,
    pub indicators: Vec<IndicatorLine>,
    pub activities: Vec<ActivityLine>,
}

#[derive(Template)]
#[template(path = "plan.html")]
struct PlanPage {
    c: Ctx,
    f: FormState,
    plan: PlanRow,
    period: String,
    /// (code, label) of the periods of the plan's year begun so far.
    periods: Vec<(String, String)>,
    blocks: Vec<ObjectiveBlock>,
    can_edit: bool,
    agencies: Vec<(String, String)>,
    objectives: Vec<store::ObjectiveRow>,
    /// (catalogue code, name) of the computed indicators.
    measures: Vec<(&'static str, String)>,
    units: Vec<&'static str>,
    frequencies: Vec<&'static str>,
    /// Victims received in the period, and their breakdowns.
    victims: u64,
    charts: Vec<Chart>,
}

#[derive(Deserialize, Default)]
pub struct PeriodQuery {
    #[serde(default)]
    pub period: String,
}

/// The period asked for, within the plan's year; the year itself by default.
pub fn chosen_period(plan: &PlanRow, typed: &str) -> Result<ReportPeriod, &'static str> {
    if typed.trim().is_empty() {
        return ReportPeriod::year(plan.year).ok_or("error.period");
    }
    match ReportPeriod::parse(typed.trim()) {
        Some(p) if p.year == plan.year => Ok(p),
        _ => Err("error.period"),
    }
}

/// The translation key of a computed indicator's name or definition: the five law-enforcement indicators keep
/// the words of the indicators page (`indicator.<code>.*`), the others `measure.<code>.*`.
pub fn measure_key(m: Measure, part: &str) -> String {
    match m {
        Measure::LawEnforcement(_) => format!("indicator.{}.{part}", m.code()),
        _ => format!("measure.{}.{part}", m.code()),
    }
}

pub fn label(c: &Ctx, p: ReportPeriod) -> String {
    match p.frequency {
        Frequency::Year => format!("{} {}", c.t("period.year"), p.year),
        Frequency::Half => format!("{} {}/{}", c.t("period.half"), p.index, p.year),
        Frequency::Quarter => format!("{} {}/{}", c.t("period.quarter"), p.index, p.year),
        Frequency::Month => format!("{} {}/{}", c.t("period.month"), p.index, p.year),
    }
}

async fn load_plan(state: &AppState, id: &str) -> AppResult<PlanRow> {
    state.store.plan(id).await?.ok_or(AppError::NotFound)
}

async fn plan_page(
    state: &AppState,
    v: &Viewer,
    c: Ctx,
    id: &str,
    typed_period: &str,
    mut f: FormState,
    status: StatusCode,
) -> AppResult<Response> {
    let plan = load_plan(state, id).await?;
    let (period, status) = match chosen_period(&plan, typed_period) {
        Ok(p) => (p, status),
        Err(key) => {
            f.add("period", key);
            (ReportPeriod::year(plan.year).ok_or(AppError::NotFound)?, StatusCode::UNPROCESSABLE_ENTITY)
        }
    };
    let names = agency_names(state, &c).await?;
    let name_of = |id: &str| names.iter().find(|(a, _)| a == id).map(|(_, n)| n.clone()).unwrap_or_default();
    let today = today(state);
    let objectives = state.store.objectives(&plan.id).await?;
    let mut blocks: Vec<ObjectiveBlock> = std::iter::once(None)
        .chain(objectives.iter().cloned().map(Some))
        .map(|o| ObjectiveBlock { o, indicators: Vec::new(), activities: Vec::new() })
        .collect();
    let block_of = |objective: Option<&str>| {
        objective.and_then(|o| objectives.iter().position(|x| x.id == o)).map_or(0, |i| i + 1)
    };
    for i in state.store.plan_indicators(&plan.id).await? {
        let value = indicator_value(state, &i, period, None).await?;
        let unit = Unit::from_code(value.unit).unwrap_or(Unit::Count);
        let definition = match source(&i) {
            Source::Computed(m) => c.t(&measure_key(m, "definition")).to_owned(),
            Source::Manual(_) => i.definition.clone().unwrap_or_default(),
        };
        let entry_periods = match (source(&i), Frequency::from_code(&i.frequency)) {
            (Source::Manual(_), Some(freq))
                if i.responsible_agency_id == v.agency.id && v.can(Action::CreateRecords) =>
            {
                ReportPeriod::all_in(plan.year, freq)
                    .into_iter()
                    .filter(|p| p.range().from <= today)
                    .map(|p| p.code())
                    .collect()
            }
            _ => Vec::new(),
        };
        let line = IndicatorLine {
            shown: value.value.map(|x| rules::show(unit, x)).unwrap_or_else(|| c.t("plan.no_data").to_owned()),
            target: value.target.map(|t| rules::show(unit, t)).unwrap_or_default(),
            responsible: name_of(&i.responsible_agency_id),
            definition,
            entry_periods,
            v: value,
        };
        blocks[block_of(i.objective_id.as_deref())].indicators.push(line);
    }
    for a in state.store.plan_activities(&plan.id).await? {
        let line = ActivityLine {
            responsible: name_of(&a.responsible_agency_id),
            can_mark: a.done_on.is_none() && a.responsible_agency_id == v.agency.id && v.can(Action::EditRecords),
            a,
        };
        blocks[block_of(line.a.objective_id.as_deref())].activities.push(line);
    }
    blocks.retain(|b| b.o.is_some() || !b.indicators.is_empty() || !b.activities.is_empty());
    let mut periods = vec![ReportPeriod::year(plan.year)];
    for freq in [Frequency::Half, Frequency::Quarter, Frequency::Month] {
        periods.extend(ReportPeriod::all_in(plan.year, freq).into_iter().map(Some));
    }
    let periods =
        periods.into_iter().flatten().filter(|p| p.range().from <= today).map(|p| (p.code(), label(&c, p))).collect();
    let range = period.range();
    let (victims, charts) =
        victim_charts(state, &c, Period { from: range.from, to: range.to.min(today) }, None).await?;
    let page = PlanPage {
        victims,
        charts,
        can_edit: may_edit(v, &plan),
        period: period.code(),
        periods,
        blocks,
        agencies: names,
        objectives,
        measures: Measure::ALL.iter().map(|m| (m.code(), c.t(&measure_key(*m, "name")).to_owned())).collect(),
        units: Unit::ALL.iter().map(|u| u.code()).collect(),
        frequencies: Frequency::ALL.iter().map(|f| f.code()).collect(),
        c,
        f,
        plan,
    };
    Ok(render(status, &page))
}

async fn show(
    State(state): State<AppState>,
    v: Viewer,
    c: Ctx,
    Path(id): Path<String>,
    Query(q): Query<PeriodQuery>,
) -> AppResult<Response> {
    viewer_may_view(&v)?;
    plan_page(&state, &v, c, &id, &q.period, FormState::default(), StatusCode::OK).await
}

/// After a form on the plan page: back to it, or the page again with the errors.
async fn answer(
    state: &AppState,
    v: &Viewer,
    c: Ctx,
    id: &str,
    result: Result<&'static str, FieldErrors>,
    pairs: &[(String, String)],
) -> AppResult<Response> {
    match result {
        Ok(done) => Ok(Redirect::to(&format!("/plans/{id}?done={done}")).into_response()),
        Err(errors) => {
            let mut f = FormState::from_pairs(pairs);
            f.errors = errors;
            let period = f.value("period").to_owned();
            plan_page(state, v, c, id, &period, f, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

fn owned_plan(v: &Viewer, plan: &PlanRow) -> AppResult<()> {
    if may_edit(v, plan) {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

#[derive(Clone, Debug, Deserialize)]
pub struct ObjectiveForm {
    pub title: String,
}

pub async fn add_objective(
    state: &AppState,
    v: &Viewer,
    plan: &PlanRow,
    form: &ObjectiveForm,
) -> AppResult<Result<String, FieldErrors>> {
    owned_plan(v, plan)?;
    let title = match rules::check_name("title", &form.title) {
        Ok(t) => t,
        Err((f, k)) => return Ok(Err(vec![(f.into(), k.into())])),
    };
    let mut cmd = state.store.command(&v.actor()).await?;
    let id = store::add_objective(&mut cmd, &plan.id, &title).await?;
    cmd.commit().await?;
    Ok(Ok(id))
}

async fn objective_create(
    State(state): State<AppState>,
    v: Viewer,
    c: Ctx,
    Path(id): Path<String>,
    CsrfForm(form, pairs): CsrfForm<ObjectiveForm>,
) -> AppResult<Response> {
    let plan = load_plan(&state, &id).await?;
    let result = add_objective(&state, &v, &plan, &form).await?.map(|_| "objective_added");
    answer(&state, &v, c, &id, result, &pairs).await
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
async fn agency_choice(state: &AppState, id: &str) -> AppResult<Option<String>> {
    Ok(state.store.agencies().await?.iter().find(|a| a.id == id.trim() && a.active).map(|a| a.id.clone()))
}

fn objective_choice(objectives: &[store::ObjectiveRow], id: &str) -> Result<Option<String>, ()> {
    match id.trim() {
        "" => Ok(None),
        id => objectives.iter().find(|o| o.id == id).map(|o| Some(o.id.clone())).ok_or(()),
    }
}

pub async fn add_activity(
    state: &AppState,
    v: &Viewer,
    plan: &PlanRow,
    form: &ActivityForm,
) -> AppResult<Result<String, FieldErrors>> {
    owned_plan(v, plan)?;
    let mut errors: FieldErrors = Vec::new();
    let title =
        rules::check_name("activity_title", &form.title).map_err(|(f, k)| errors.push((f.into(), k.into()))).ok();
    let responsible = agency_choice(state, &form.responsible).await?;
    if responsible.is_none() {
        errors.push(("responsible".into(), "error.choice".into()));
    }
    let objectives = state.store.objectives(&plan.id).await?;
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
    let mut cmd = state.store.command(&v.actor()).await?;
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

async fn activity_create(
    State(state): State<AppState>,
    v: Viewer,
    c: Ctx,
    Path(id): Path<String>,
    CsrfForm(form, pairs): CsrfForm<ActivityForm>,
) -> AppResult<Response> {
    let plan = load_plan(&state, &id).await?;
    let result = add_activity(&state, &v, &plan, &form).await?.map(|_| "activity_added");
    answer(&state, &v, c, &id, result, &pairs).await
}

#[derive(Deserialize)]
struct Empty {}

async fn activity_done(
    State(state): State<AppState>,
    Can(v, ..): Can<crate::ctx::EditRecords>,
    Path((id, activity)): Path<(String, String)>,
    CsrfForm(_, _): CsrfForm<Empty>,
) -> AppResult<Response> {
    let plan = load_plan(&state, &id).await?;
    let a = state
        .store
        .plan_activities(&plan.id)
        .await?
        .into_iter()
        .find(|a| a.id == activity)
        .ok_or(AppError::NotFound)?;
    if a.responsible_agency_id != v.agency.id {
        return Err(AppError::Forbidden);
    }
    let mut cmd = state.store.command(&v.actor()).await?;
    let marked = store::activity_done(&mut cmd, &plan.id, &a.id, today(&state)).await?;
    if marked {
        cmd.commit().await?;
    }
    Ok(Redirect::to(&format!("/plans/{id}?done=activity_done")).into_response())
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

pub async fn add_indicator(
    state: &AppState,
    v: &Viewer,
    plan: &PlanRow,
    form: &IndicatorForm,
) -> AppResult<Result<String, FieldErrors>> {
    owned_plan(v, plan)?;
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
    let responsible = agency_choice(state, &form.responsible).await?;
    if responsible.is_none() {
        errors.push(("responsible".into(), "error.choice".into()));
    }
    let objectives = state.store.objectives(&plan.id).await?;
    let objective = objective_choice(&objectives, &form.objective_id)
        .map_err(|_| errors.push(("objective_id".into(), "error.choice".into())))
        .ok()
        .flatten();
    let (Some(name), Some(unit), Some(frequency), Some(responsible), true) =
        (name, unit, frequency, responsible, errors.is_empty())
    else {
        return Ok(Err(errors));
    };
    let mut cmd = state.store.command(&v.actor()).await?;
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

async fn indicator_create(
    State(state): State<AppState>,
    v: Viewer,
    c: Ctx,
    Path(id): Path<String>,
    CsrfForm(form, pairs): CsrfForm<IndicatorForm>,
) -> AppResult<Response> {
    let plan = load_plan(&state, &id).await?;
    let result = add_indicator(&state, &v, &plan, &form).await?.map(|_| "indicator_added");
    answer(&state, &v, c, &id, result, &pairs).await
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
    state: &AppState,
    v: &Viewer,
    plan: &PlanRow,
    indicator_id: &str,
    form: &EntryForm,
) -> AppResult<Result<bool, FieldErrors>> {
    let i =
        state.store.plan_indicator(indicator_id).await?.filter(|i| i.plan_id == plan.id).ok_or(AppError::NotFound)?;
    if i.responsible_agency_id != v.agency.id || !v.can(Action::CreateRecords) {
        return Err(AppError::Forbidden);
    }
    let Source::Manual(unit) = source(&i) else {
        return Ok(Err(vec![("value".into(), "error.indicator_computed".into())]));
    };
    let mut errors: FieldErrors = Vec::new();
    let frequency = Frequency::from_code(&i.frequency);
    let period = match ReportPeriod::parse(form.entry_period.trim()) {
        Some(p) if Some(p.frequency) == frequency && p.year == plan.year && p.range().from <= today(state) => Some(p),
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
    let mut cmd = state.store.command(&v.actor()).await?;
    let corrected = store::record_entry(&mut cmd, &i.id, period, value, note).await?;
    cmd.commit().await?;
    Ok(Ok(corrected))
}

async fn entry_create(
    State(state): State<AppState>,
    v: Viewer,
    c: Ctx,
    Path((id, indicator)): Path<(String, String)>,
    CsrfForm(form, pairs): CsrfForm<EntryForm>,
) -> AppResult<Response> {
    let plan = load_plan(&state, &id).await?;
    let result = record_entry(&state, &v, &plan, &indicator, &form).await?.map(|corrected| {
        if corrected {
            "entry_corrected"
        } else {
            "entry_recorded"
        }
    });
    answer(&state, &v, c, &id, result, &pairs).await
}

#[derive(Clone, Debug, Deserialize)]
pub struct CopyForm {
    pub name: String,
    pub year: String,
}

pub async fn copy_plan(
    state: &AppState,
    v: &Viewer,
    plan: &PlanRow,
    form: &CopyForm,
) -> AppResult<Result<String, FieldErrors>> {
    owned_plan(v, plan)?;
    let mut errors: FieldErrors = Vec::new();
    let name = rules::check_name("copy_name", &form.name).map_err(|(f, k)| errors.push((f.into(), k.into()))).ok();
    let year = match check_year(&form.year, today(state).year()) {
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
    let mut cmd = state.store.command(&v.actor()).await?;
    let id = store::copy_plan(&mut cmd, &plan.id, &name, year).await?;
    cmd.commit().await?;
    Ok(Ok(id))
}

async fn copy(
    State(state): State<AppState>,
    v: Viewer,
    c: Ctx,
    Path(id): Path<String>,
    CsrfForm(form, pairs): CsrfForm<CopyForm>,
) -> AppResult<Response> {
    let plan = load_plan(&state, &id).await?;
    match copy_plan(&state, &v, &plan, &form).await? {
        Ok(new) => Ok(Redirect::to(&format!("/plans/{new}?done=plan_copied")).into_response()),
        Err(errors) => answer(&state, &v, c, &id, Err(errors), &pairs).await,
    }
}

// ---------------------------------------------------------------------------------------------------------
// One indicator: its trend by month, its definition, and the values entered by hand

#[derive(Template)]
#[template(path = "plan_indicator.html")]
struct IndicatorPage {
    c: Ctx,
    plan: PlanRow,
    i: IndicatorRow,
    definition: String,
    unit: &'static str,
    trend: Chart,
    /// (period, value as shown, who entered it, when) for an indicator entered by hand.
    entries: Vec<(String, String, String, String)>,
    target: String,
}

async fn indicator_show(
    State(state): State<AppState>,
    v: Viewer,
    c: Ctx,
    Path((id, indicator)): Path<(String, String)>,
) -> AppResult<Response> {
    viewer_may_view(&v)?;
    let plan = load_plan(&state, &id).await?;
    let i = state.store.plan_indicator(&indicator).await?.filter(|i| i.plan_id == plan.id).ok_or(AppError::NotFound)?;
    let today = today(&state);
    let (unit, definition) = match source(&i) {
        Source::Computed(m) => (m.unit(), c.t(&measure_key(m, "definition")).to_owned()),
        Source::Manual(u) => (u, i.definition.clone().unwrap_or_default()),
    };
    let months = ReportPeriod::all_in(plan.year, Frequency::Month);
    let values: Vec<Option<u64>> = match source(&i) {
        Source::Computed(m) => state.store.monthly(m, plan.year, today).await?,
        Source::Manual(_) => {
            let mut out = Vec::with_capacity(12);
            for m in &months {
                out.push(figure_of(&state, &i, *m, None).await?.and_then(Figure::value));
            }
            out
        }
    };
    // Shares are drawn in whole percent; a count's yearly target is spread over the months, as the line
    // each month should reach.
    let drawn = |v: u64| if unit == Unit::Percent { v / 10 } else { v };
    let cols: Vec<(String, Option<u64>)> =
        months.iter().zip(&values).map(|(m, v)| (m.index.to_string(), v.map(drawn))).collect();
    let due = match (unit, i.target) {
        (Unit::Percent, Some(t)) => Some(t as f64 / 10.0),
        (_, Some(t)) => Some(t as f64 / 12.0),
        _ => None,
    };
    let title = format!("{} · {} {}", i.name, c.t("plan.by_month"), plan.year);
    let trend = Chart {
        id: "trend",
        svg: crate::charts::columns(&title, &cols, due),
        rows: months
            .iter()
            .zip(&values)
            .filter_map(|(m, v)| v.map(|v| (label(&c, *m), rules::show(unit, v))))
            .collect(),
        title,
    };
    let users = state.store.users(None).await?;
    let entries = state
        .store
        .entries(&i.id)
        .await?
        .into_iter()
        .map(|e| {
            let who = users.iter().find(|u| u.id == e.entered_by).map(|u| u.display_name.clone()).unwrap_or_default();
            let when = haven_domain::format::date_time(e.entered_at);
            (e.period, rules::show(unit, e.value.max(0) as u64), who, when)
        })
        .collect();
    let page = IndicatorPage {
        target: i.target.map(|t| rules::show(unit, t.max(0) as u64)).unwrap_or_default(),
        unit: unit.code(),
        c,
        plan,
        i,
        definition,
        trend,
        entries,
    };
    Ok(render(StatusCode::OK, &page))
}
