//! Public statistics: analysts publish a year's tables (the release rules of `haven_domain::stats` run when
//! they are published, and each publication is audited); anyone reads what was published, never the records.

use haven_domain::Action;
use haven_store::exports::PublishedRelease;

use crate::{App, Caller, Fields, Outcome, Result};

/// The years an analyst may publish: this one and the last (an older year is settled).
pub fn publishable_years(app: &App) -> [i32; 2] {
    let this_year = app.today().year();
    [this_year, this_year - 1]
}

/// Publish a year's tables; a year outside [`publishable_years`] is refused.
pub async fn publish(app: &App, caller: &Caller, year: &str) -> Result<Outcome<i32>> {
    caller.require(Action::PublishStatistics)?;
    let year = match year.trim().parse::<i32>() {
        Ok(y) if publishable_years(app).contains(&y) => y,
        _ => return Ok(Fields::one("year", "stats.error_year")),
    };
    let mut cmd = app.store.command(&caller.actor()).await?;
    haven_store::exports::publish(&mut cmd, &app.store, year, app.today()).await?;
    cmd.commit().await?;
    Ok(Ok(year))
}

/// The years with published tables, newest first.
pub async fn years(app: &App) -> Result<Vec<String>> {
    Ok(app.store.published_periods().await?)
}

/// The tables published for a year (none when nothing was): what anyone may read.
pub async fn published(app: &App, year: &str) -> Result<Vec<PublishedRelease>> {
    Ok(app.store.published(year).await?)
}
