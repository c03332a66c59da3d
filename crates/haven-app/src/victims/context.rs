//! The victim-centred context of a case in the HTCDS v2 code lists (forms of exploitation, means of control,
//! recruitment, relationship to the recruiter, destination) and the trafficking events.

use haven_domain::victims::htcds;
use haven_domain::Action;
use haven_store::victims as store;
use serde::Deserialize;

use crate::input::optional_date;
use crate::{App, Caller, Fields, Outcome, Result};

#[derive(Deserialize)]
pub struct ContextForm {
    #[serde(default)]
    pub exploitation: Vec<String>,
    #[serde(default)]
    pub control: Vec<String>,
    #[serde(default)]
    pub recruitment: Vec<String>,
    #[serde(default)]
    pub relationship: String,
    #[serde(default)]
    pub destination_country: String,
    #[serde(default)]
    pub wishes: String,
}

/// Record the victim-centred context: every code must come from the standard's list.
pub async fn set(app: &App, caller: &Caller, id: &str, form: &ContextForm) -> Result<Outcome<()>> {
    caller.require(Action::EditRecords)?;
    let mut cmd = app.store.command(&caller.actor()).await?;
    let v = super::workable_in(app, &mut cmd, caller, id, "context").await?;
    let lists = &app.profile.htcds;
    let mut f = Fields::default();
    for (field, codes, name) in [
        (htcds::EXPLOITATION, &form.exploitation, "exploitation"),
        (htcds::CONTROL, &form.control, "control"),
        (htcds::RECRUITMENT, &form.recruitment, "recruitment"),
    ] {
        if codes.iter().any(|c| !lists.contains(field, c)) {
            f.add(name, "error.choice");
        }
    }
    let relationship = Some(form.relationship.trim()).filter(|r| !r.is_empty());
    if relationship.is_some_and(|r| !lists.contains(htcds::RELATIONSHIP, r)) {
        f.add("relationship", "error.choice");
    }
    let country = Some(form.destination_country.trim()).filter(|c| !c.is_empty());
    if country.is_some_and(|c| !htcds::is_country(c)) {
        f.add("destination_country", "error.choice");
    }
    if f.has_errors() {
        return Ok(Err(f.errors));
    }
    let c = store::Context {
        exploitation: &form.exploitation,
        control: &form.control,
        recruitment: &form.recruitment,
        relationship,
        destination_country: country,
        wishes: Some(form.wishes.trim()),
    };
    store::set_context(&mut cmd, &app.store.keys, &v.id, &c).await?;
    cmd.commit().await?;
    Ok(Ok(()))
}

#[derive(Deserialize)]
pub struct EventForm {
    pub kind: String,
    pub country: String,
    #[serde(default)]
    pub place: String,
    #[serde(default)]
    pub on: String,
    #[serde(default)]
    pub description: String,
}

/// Record a trafficking event (recruitment, transport, exploitation, ...) with its country and date.
pub async fn add_event(app: &App, caller: &Caller, id: &str, form: &EventForm) -> Result<Outcome<()>> {
    caller.require(Action::EditRecords)?;
    let mut cmd = app.store.command(&caller.actor()).await?;
    let v = super::workable_in(app, &mut cmd, caller, id, "context").await?;
    let mut f = Fields::default();
    if !app.profile.htcds.contains(htcds::EVENT_TYPE, form.kind.trim()) {
        f.add("event_kind", "error.choice");
    }
    if !htcds::is_country(form.country.trim()) {
        f.add("event_country", "error.choice");
    }
    let on = optional_date(&form.on);
    match on {
        Err(()) => f.add("event_on", "error.date"),
        Ok(Some(d)) if d > app.today() => f.add("event_on", "error.date_in_future"),
        Ok(_) => {}
    }
    let (Ok(on), false) = (on, f.has_errors()) else { return Ok(Err(f.errors)) };
    let e = store::NewEvent {
        kind: form.kind.trim(),
        country: form.country.trim(),
        place: Some(form.place.trim()),
        on,
        description: Some(form.description.trim()),
    };
    store::add_event(&mut cmd, &app.store.keys, &v.id, &e).await?;
    cmd.commit().await?;
    Ok(Ok(()))
}
