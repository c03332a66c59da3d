//! The supports of Law 53/2024 Art. 37 a victim is entitled to (from the profile's regimes), how each
//! stands today, and what was given, within each regime's limits.

use haven_domain::victims::support::{self, CaseDates, Given};
use haven_domain::Action;
use haven_store::victims::{self as store, NewSupport, VictimCase};
use serde::Deserialize;

use super::situation;
use crate::input::whole;
use crate::{App, Caller, Fields, Outcome, Result};

/// What the person is entitled to now, and how each regime stands given the supports the caller sees (those
/// of the case file): (code, standing, detail).
pub fn entitlements(
    app: &App,
    v: &VictimCase,
    given: &[haven_store::victims::SupportRow],
) -> Vec<(String, &'static str, String)> {
    let t = app.today();
    app.profile
        .support
        .eligible(situation(v))
        .into_iter()
        .map(|r| {
            let mine: Vec<Given> = given.iter().filter(|g| g.regime == r.code).filter_map(|g| g.given()).collect();
            let (standing, detail) = match support::standing(r, v.identified(), t, &mine) {
                support::Standing::NotGiven => ("not_given", String::new()),
                support::Standing::Given => ("given", String::new()),
                support::Standing::DaysLeft(n) => ("days_left", n.to_string()),
                support::Standing::DueBy(d) => ("due_by", haven_store::reports::day(d)),
                support::Standing::Overdue => ("overdue", String::new()),
            };
            (r.code.clone(), standing, detail)
        })
        .collect()
}

#[derive(Deserialize)]
pub struct SupportForm {
    pub regime: String,
    pub given_on: String,
    #[serde(default)]
    pub quantity: String,
    #[serde(default)]
    pub amount_vnd: String,
    #[serde(default)]
    pub provider: String,
    #[serde(default)]
    pub acknowledged: Option<String>,
    #[serde(default)]
    pub note: String,
}

/// Record a support given under a regime, within the limits the profile sets.
pub async fn give(app: &App, caller: &Caller, id: &str, form: &SupportForm) -> Result<Outcome<()>> {
    caller.require(Action::EditRecords)?;
    let mut cmd = app.store.command(&caller.actor()).await?;
    let v = &super::workable_in(app, &mut cmd, caller, id, "support").await?;
    let mut f = Fields::default();
    let on = haven_domain::format::event_day(&form.given_on, app.today()).map_err(|k| f.add("given_on", k)).ok();
    let quantity = whole(&form.quantity);
    let amount = whole(&form.amount_vnd);
    if quantity.is_none() {
        f.add("quantity", "error.number");
    }
    if amount.is_none() {
        f.add("amount_vnd", "error.number");
    }
    let provider =
        if form.provider.trim().is_empty() { caller.agency.id.clone() } else { form.provider.trim().to_owned() };
    if app.store.agency(&provider).await?.filter(|a| a.active).is_none() {
        f.add("provider", "error.choice");
    }
    let (Some(on), Some(quantity), Some(amount), false) = (on, quantity, amount, f.has_errors()) else {
        return Ok(Err(f.errors));
    };
    let new = Given { on, quantity, amount_vnd: amount };
    let already: Vec<Given> =
        app.store.supports(&v.id).await?.iter().filter(|g| g.regime == form.regime).filter_map(|g| g.given()).collect();
    let dates = CaseDates {
        situation: situation(v),
        received: v.received().unwrap_or(on),
        identified_on: v.identified(),
        today: app.today(),
    };
    if let Err(e) = support::check_support(&app.profile.support, &form.regime, dates, &already, new) {
        let field = match e {
            support::SupportError::InFuture
            | support::SupportError::BeforeReception
            | support::SupportError::OutsideWindow => "given_on",
            support::SupportError::OverDays { .. } | support::SupportError::QuantityMissing => "quantity",
            support::SupportError::OverAmount { .. } => "amount_vnd",
            _ => "regime",
        };
        return Ok(Err(vec![(field.into(), e.key().into())]));
    }
    let s = NewSupport {
        regime: &form.regime,
        given: new,
        provider_agency_id: &provider,
        acknowledged: form.acknowledged.is_some(),
        note: Some(form.note.trim()),
    };
    store::give_support(&mut cmd, &app.store.keys, &v.id, &s).await?;
    cmd.commit().await?;
    Ok(Ok(()))
}
