//! Prevention: communication activities (date, commune, organiser, channel, participants by sex and target
//! group, materials handed out) with their reach summed by group, commune, channel and sex. What is entered
//! here feeds the plan's reach indicator.

use haven_domain::format::parse_date;
use haven_domain::plan::{self as rules, Reach, CHANNELS};
use haven_domain::Action;
use haven_store::plan::{self as store, NewPrevention};
use serde::Deserialize;

use crate::{App, Caller, FieldErrors, Outcome, Result};

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

/// Record a prevention activity of the caller's agency with its reach.
pub async fn create(app: &App, caller: &Caller, form: &PreventionForm) -> Result<Outcome<String>> {
    caller.require(Action::CreateRecords)?;
    let mut errors: FieldErrors = Vec::new();
    let mut err = |(f, k): (&str, &str)| errors.push((f.into(), k.into()));
    let title = rules::check_name("title", &form.title).map_err(&mut err).ok();
    let organiser = rules::check_name("organiser", &form.organiser).map_err(&mut err).ok();
    let today = app.today();
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
    if !commune.is_empty() && !app.store.communes(&app.province).await?.iter().any(|(code, _)| code == commune) {
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
    let mut cmd = app.store.command(&caller.actor()).await?;
    let id = store::add_prevention(
        &mut cmd,
        &caller.agency.id,
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
