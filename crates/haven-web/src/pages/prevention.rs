//! Prevention and training: communication activities (date, commune, organiser, channel, participants by sex
//! and target group, materials handed out) with their reach summed by group, commune, channel and sex; and
//! training courses for officials with their participants (user accounts, or names kept sealed) and
//! certificates. What is entered here feeds the plan's reach and training indicators.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use haven_domain::format::{date as show_date, parse_date};
use haven_domain::plan::{self as rules, Reach, ReportPeriod, CHANNELS, TARGET_GROUPS, TRAINING_TOPICS};
use haven_domain::Action;
use haven_store::plan::{self as store, NewPrevention, NewTraining, Participant, PreventionRow, ReachBy, TrainingRow};
use serde::Deserialize;

use crate::ctx::{Can, CsrfForm, Viewer};
use crate::error::{AppError, AppResult};
use crate::page::{render, Ctx, FormState};
use crate::pages::plan::may_view;
use crate::pages::reports::{today, FieldErrors};
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/prevention", get(list).post(create))
        .route("/training", get(trainings).post(training_create))
        .route("/training/{id}", get(training_show))
        .route("/training/{id}/participants", post(participant_create))
}

fn viewer_may_view(v: &Viewer) -> AppResult<()> {
    if may_view(v) {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

#[derive(Deserialize, Default)]
pub struct YearQuery {
    pub year: Option<i32>,
}

fn year_of(state: &AppState, q: &YearQuery) -> ReportPeriod {
    let this_year = today(state).year();
    let year = q.year.filter(|y| (2000..=this_year).contains(y)).unwrap_or(this_year);
    ReportPeriod::year(year).unwrap_or(ReportPeriod { year: this_year, frequency: rules::Frequency::Year, index: 1 })
}

async fn commune_names(state: &AppState) -> AppResult<Vec<(String, String)>> {
    Ok(state.store.communes(&state.config.province).await?)
}

// ---------------------------------------------------------------------------------------------------------
// Communication activities

pub struct ActivityLine {
    pub a: PreventionRow,
    pub held_on: String,
    pub commune: String,
    pub total: i64,
}

#[derive(Template)]
#[template(path = "prevention.html")]
struct PreventionPage {
    c: Ctx,
    f: FormState,
    year: i32,
    years: Vec<i32>,
    activities: Vec<ActivityLine>,
    /// Reach by target group, commune, channel and sex: (key as shown, participants).
    by_group: Vec<(String, i64)>,
    by_commune: Vec<(String, i64)>,
    by_channel: Vec<(String, i64)>,
    by_sex: Vec<(String, i64)>,
    total: i64,
    can_create: bool,
    communes: Vec<(String, String)>,
    channels: &'static [&'static str],
    groups: &'static [&'static str],
}

async fn prevention_page(
    state: &AppState,
    v: &Viewer,
    c: Ctx,
    q: &YearQuery,
    f: FormState,
    status: StatusCode,
) -> AppResult<Response> {
    let period = year_of(state, q);
    let range = period.range();
    let communes = commune_names(state).await?;
    let commune_name = |code: &str| {
        communes.iter().find(|(c, _)| c == code).map(|(_, n)| n.clone()).unwrap_or_else(|| code.to_owned())
    };
    let activities = state
        .store
        .prevention_activities(range, None, 200)
        .await?
        .into_iter()
        .map(|a| ActivityLine {
            held_on: parse_date(&a.held_on).map(show_date).unwrap_or_default(),
            commune: a.commune_code.as_deref().map(&commune_name).unwrap_or_default(),
            total: a.women + a.men,
            a,
        })
        .collect();
    let by_group = state
        .store
        .reach_by(range, ReachBy::TargetGroup, None)
        .await?
        .into_iter()
        .map(|(g, n)| (c.tk("target_group", &g), n))
        .collect();
    let by_commune = state
        .store
        .reach_by(range, ReachBy::Commune, None)
        .await?
        .into_iter()
        .map(|(code, n)| {
            (if code.is_empty() { c.t("prevention.no_commune").to_owned() } else { commune_name(&code) }, n)
        })
        .collect();
    let by_channel = state
        .store
        .reach_by(range, ReachBy::Channel, None)
        .await?
        .into_iter()
        .map(|(k, n)| (c.tk("channel", &k), n))
        .collect();
    let by_sex: Vec<(String, i64)> =
        state.store.reach_by(range, ReachBy::Sex, None).await?.into_iter().map(|(k, n)| (c.tk("sex", &k), n)).collect();
    let total = by_sex.iter().map(|(_, n)| n).sum();
    let this_year = today(state).year();
    let page = PreventionPage {
        year: period.year,
        years: (this_year - 4..=this_year).rev().collect(),
        activities,
        by_group,
        by_commune,
        by_channel,
        by_sex,
        total,
        can_create: v.can(Action::CreateRecords),
        communes,
        channels: CHANNELS,
        groups: TARGET_GROUPS,
        c,
        f,
    };
    Ok(render(status, &page))
}

async fn list(State(state): State<AppState>, v: Viewer, c: Ctx, Query(q): Query<YearQuery>) -> AppResult<Response> {
    viewer_may_view(&v)?;
    prevention_page(&state, &v, c, &q, FormState::default(), StatusCode::OK).await
}

/// A prevention activity as a form or the API sends it; `group.<code>` fields carry the participants of
/// each target group.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct PreventionForm {
    pub title: String,
    pub held_on: String,
    #[serde(default)]
    pub commune_code: String,
    pub organiser: String,
    pub channel: String,
    #[serde(default)]
    pub women: String,
    #[serde(default)]
    pub men: String,
    #[serde(default)]
    pub materials: String,
    /// (target group, participants as typed).
    #[serde(default)]
    pub groups: Vec<(String, String)>,
}

pub async fn create_prevention(
    state: &AppState,
    v: &Viewer,
    form: &PreventionForm,
) -> AppResult<Result<String, FieldErrors>> {
    let mut errors: FieldErrors = Vec::new();
    let mut err = |(f, k): (&str, &str)| errors.push((f.into(), k.into()));
    let title = rules::check_name("title", &form.title).map_err(&mut err).ok();
    let organiser = rules::check_name("organiser", &form.organiser).map_err(&mut err).ok();
    let today = today(state);
    let held_on = match parse_date(&form.held_on) {
        Some(d) if d > today => {
            err(("held_on", "error.date_in_future"));
            None
        }
        Some(d) => Some(d),
        None => {
            err(("held_on", "error.date"));
            None
        }
    };
    if !CHANNELS.contains(&form.channel.trim()) {
        err(("channel", "error.choice"));
    }
    let commune = form.commune_code.trim();
    if !commune.is_empty() && !commune_names(state).await?.iter().any(|(code, _)| code == commune) {
        err(("commune_code", "error.choice"));
    }
    let women = rules::parse_count("women", &form.women).map_err(&mut err).ok();
    let men = rules::parse_count("men", &form.men).map_err(&mut err).ok();
    let materials = rules::parse_count("materials", &form.materials).map_err(&mut err).ok();
    let mut groups = Vec::new();
    for (group, typed) in &form.groups {
        match rules::parse_count("groups", typed) {
            Ok(0) => {}
            Ok(n) => groups.push((group.clone(), n)),
            Err(e) => err(e),
        }
    }
    let (Some(title), Some(organiser), Some(held_on), Some(women), Some(men), Some(materials)) =
        (title, organiser, held_on, women, men, materials)
    else {
        return Ok(Err(errors));
    };
    let reach = Reach { women, men, groups };
    for e in rules::check_reach(&reach) {
        err(e);
    }
    if !errors.is_empty() {
        return Ok(Err(errors));
    }
    let mut cmd = state.store.command(&v.actor()).await?;
    let id = store::add_prevention(
        &mut cmd,
        &v.agency.id,
        &NewPrevention {
            title: &title,
            held_on,
            commune_code: Some(commune).filter(|c| !c.is_empty()),
            organiser: &organiser,
            channel: form.channel.trim(),
            reach: &reach,
            materials,
        },
    )
    .await?;
    cmd.commit().await?;
    Ok(Ok(id))
}

/// A prevention activity as the API sends it: numbers as numbers, groups as an object of counts.
#[derive(Clone, Debug, Deserialize)]
pub struct PreventionJson {
    pub title: String,
    pub held_on: String,
    #[serde(default)]
    pub commune_code: String,
    pub organiser: String,
    pub channel: String,
    #[serde(default)]
    pub women: i64,
    #[serde(default)]
    pub men: i64,
    #[serde(default)]
    pub materials: i64,
    #[serde(default)]
    pub groups: std::collections::BTreeMap<String, i64>,
}

impl PreventionJson {
    /// The same checks as the page's form: numbers go through as typed, so a negative one is refused alike.
    pub fn into_form(self) -> PreventionForm {
        PreventionForm {
            title: self.title,
            held_on: self.held_on,
            commune_code: self.commune_code,
            organiser: self.organiser,
            channel: self.channel,
            women: self.women.to_string(),
            men: self.men.to_string(),
            materials: self.materials.to_string(),
            groups: self.groups.into_iter().map(|(g, n)| (g, n.to_string())).collect(),
        }
    }
}

/// The form's `group.<code>` fields as (group, participants).
fn groups_of(pairs: &[(String, String)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .filter_map(|(k, v)| k.strip_prefix("group.").map(|g| (g.to_owned(), v.clone())))
        .filter(|(_, v)| !v.trim().is_empty())
        .collect()
}

async fn create(
    State(state): State<AppState>,
    Can(v, ..): Can<crate::ctx::CreateRecords>,
    c: Ctx,
    CsrfForm(_, pairs): CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let value = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap_or_default();
    let form = PreventionForm {
        title: value("title"),
        held_on: value("held_on"),
        commune_code: value("commune_code"),
        organiser: value("organiser"),
        channel: value("channel"),
        women: value("women"),
        men: value("men"),
        materials: value("materials"),
        groups: groups_of(&pairs),
    };
    match create_prevention(&state, &v, &form).await? {
        Ok(_) => Ok(Redirect::to("/prevention?done=prevention_recorded").into_response()),
        Err(errors) => {
            let mut f = FormState::from_pairs(&pairs);
            f.errors = errors;
            prevention_page(&state, &v, c, &YearQuery::default(), f, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

// ---------------------------------------------------------------------------------------------------------
// Training courses

pub struct TrainingLine {
    pub t: TrainingRow,
    pub days: String,
}

fn training_line(t: TrainingRow) -> TrainingLine {
    let show = |d: &str| parse_date(d).map(show_date).unwrap_or_default();
    TrainingLine { days: format!("{} – {}", show(&t.starts_on), show(&t.ends_on)), t }
}

#[derive(Template)]
#[template(path = "trainings.html")]
struct TrainingsPage {
    c: Ctx,
    f: FormState,
    year: i32,
    years: Vec<i32>,
    trainings: Vec<TrainingLine>,
    trained: i64,
    can_create: bool,
    topics: &'static [&'static str],
}

async fn trainings_page(
    state: &AppState,
    v: &Viewer,
    c: Ctx,
    q: &YearQuery,
    f: FormState,
    status: StatusCode,
) -> AppResult<Response> {
    let period = year_of(state, q);
    let trainings: Vec<TrainingLine> =
        state.store.trainings(period.range(), None, 200).await?.into_iter().map(training_line).collect();
    let trained = trainings.iter().map(|t| t.t.participants).sum();
    let this_year = today(state).year();
    let page = TrainingsPage {
        year: period.year,
        years: (this_year - 4..=this_year).rev().collect(),
        trainings,
        trained,
        can_create: v.can(Action::CreateRecords),
        topics: TRAINING_TOPICS,
        c,
        f,
    };
    Ok(render(status, &page))
}

async fn trainings(
    State(state): State<AppState>,
    v: Viewer,
    c: Ctx,
    Query(q): Query<YearQuery>,
) -> AppResult<Response> {
    viewer_may_view(&v)?;
    trainings_page(&state, &v, c, &q, FormState::default(), StatusCode::OK).await
}

#[derive(Clone, Debug, Deserialize)]
pub struct TrainingForm {
    pub title: String,
    pub topic: String,
    pub starts_on: String,
    pub ends_on: String,
    #[serde(default)]
    pub trainers: String,
}

pub async fn create_training(
    state: &AppState,
    v: &Viewer,
    form: &TrainingForm,
) -> AppResult<Result<String, FieldErrors>> {
    let mut errors: FieldErrors = Vec::new();
    let mut err = |(f, k): (&str, &str)| errors.push((f.into(), k.into()));
    let title = rules::check_name("title", &form.title).map_err(&mut err).ok();
    let trainers = rules::check_name("trainers", &form.trainers).map_err(&mut err).ok();
    if !TRAINING_TOPICS.contains(&form.topic.trim()) {
        err(("topic", "error.choice"));
    }
    let (from, to) = (parse_date(&form.starts_on), parse_date(&form.ends_on));
    for e in rules::check_days(from, to, today(state)) {
        err(e);
    }
    let (Some(title), Some(trainers), Some(from), Some(to), true) = (title, trainers, from, to, errors.is_empty())
    else {
        return Ok(Err(errors));
    };
    let mut cmd = state.store.command(&v.actor()).await?;
    let id = store::add_training(
        &mut cmd,
        &v.agency.id,
        &NewTraining { title: &title, topic: form.topic.trim(), starts_on: from, ends_on: to, trainers: &trainers },
    )
    .await?;
    cmd.commit().await?;
    Ok(Ok(id))
}

async fn training_create(
    State(state): State<AppState>,
    Can(v, ..): Can<crate::ctx::CreateRecords>,
    c: Ctx,
    CsrfForm(form, pairs): CsrfForm<TrainingForm>,
) -> AppResult<Response> {
    match create_training(&state, &v, &form).await? {
        Ok(id) => Ok(Redirect::to(&format!("/training/{id}?done=training_recorded")).into_response()),
        Err(errors) => {
            let mut f = FormState::from_pairs(&pairs);
            f.errors = errors;
            trainings_page(&state, &v, c, &YearQuery::default(), f, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

#[derive(Template)]
#[template(path = "training.html")]
struct TrainingPage {
    c: Ctx,
    f: FormState,
    t: TrainingLine,
    /// (name, agency, certificate); names only for the course's agency.
    participants: Vec<(String, String, String)>,
    can_add: bool,
    agencies: Vec<(String, String)>,
    users: Vec<(String, String)>,
}

async fn training_page(
    state: &AppState,
    v: &Viewer,
    c: Ctx,
    id: &str,
    f: FormState,
    status: StatusCode,
) -> AppResult<Response> {
    let t = state.store.training(id).await?.ok_or(AppError::NotFound)?;
    let own = t.owner_agency_id == v.agency.id;
    let agencies: Vec<(String, String)> = state
        .store
        .agencies()
        .await?
        .iter()
        .filter(|a| a.active)
        .map(|a| (a.id.clone(), c.agency_label(&a.name_vi, &a.name_en).to_owned()))
        .collect();
    let agency_name = |id: &str| agencies.iter().find(|(a, _)| a == id).map(|(_, n)| n.clone()).unwrap_or_default();
    // Who took part is personal data of the officials: the course's own agency sees names; others the count.
    let participants = if own && v.can(Action::ViewRecords) {
        state
            .store
            .participants(&t.id)
            .await?
            .into_iter()
            .map(|p| (p.name, agency_name(&p.agency_id), p.certificate.unwrap_or_default()))
            .collect()
    } else {
        Vec::new()
    };
    let users = if own {
        state.store.users(Some(&v.agency.id)).await?.into_iter().map(|u| (u.id, u.display_name)).collect()
    } else {
        Vec::new()
    };
    let page = TrainingPage {
        t: training_line(t),
        participants,
        can_add: own && v.can(Action::CreateRecords),
        agencies,
        users,
        c,
        f,
    };
    Ok(render(status, &page))
}

async fn training_show(
    State(state): State<AppState>,
    v: Viewer,
    c: Ctx,
    Path(id): Path<String>,
) -> AppResult<Response> {
    viewer_may_view(&v)?;
    training_page(&state, &v, c, &id, FormState::default(), StatusCode::OK).await
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

pub async fn add_participant(
    state: &AppState,
    v: &Viewer,
    t: &TrainingRow,
    form: &ParticipantForm,
) -> AppResult<Result<bool, FieldErrors>> {
    if t.owner_agency_id != v.agency.id || !v.can(Action::CreateRecords) {
        return Err(AppError::Forbidden);
    }
    let mut errors: FieldErrors = Vec::new();
    let certificate = form.certificate.trim();
    if certificate.chars().count() > 100 {
        errors.push(("certificate".into(), "error.too_long".into()));
    }
    let user_id = form.user_id.trim();
    let participant = if user_id.is_empty() {
        let name =
            rules::check_name("full_name", &form.full_name).map_err(|(f, k)| errors.push((f.into(), k.into()))).ok();
        let agency = state.store.agencies().await?.iter().find(|a| a.id == form.agency.trim() && a.active).cloned();
        if agency.is_none() {
            errors.push(("agency".into(), "error.choice".into()));
        }
        name.zip(agency).map(|(n, a)| (None, Some(n), a.id))
    } else {
        match state.store.users(Some(&v.agency.id)).await?.into_iter().find(|u| u.id == user_id) {
            Some(u) => Some((Some(u.id), None, v.agency.id.clone())),
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
        (None, None) => return Ok(Err(vec![("full_name".into(), "error.required".into())])),
    };
    let mut cmd = state.store.command(&v.actor()).await?;
    let added =
        store::add_participant(&mut cmd, &state.store.keys, &t.id, &p, Some(certificate).filter(|c| !c.is_empty()))
            .await?;
    if !added {
        return Ok(Err(vec![("user_id".into(), "error.already_participant".into())]));
    }
    cmd.commit().await?;
    Ok(Ok(true))
}

async fn participant_create(
    State(state): State<AppState>,
    Can(v, ..): Can<crate::ctx::CreateRecords>,
    c: Ctx,
    Path(id): Path<String>,
    CsrfForm(form, pairs): CsrfForm<ParticipantForm>,
) -> AppResult<Response> {
    let t = state.store.training(&id).await?.ok_or(AppError::NotFound)?;
    match add_participant(&state, &v, &t, &form).await? {
        Ok(_) => Ok(Redirect::to(&format!("/training/{id}?done=participant_added")).into_response()),
        Err(errors) => {
            let mut f = FormState::from_pairs(&pairs);
            f.errors = errors;
            training_page(&state, &v, c, &id, f, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}
