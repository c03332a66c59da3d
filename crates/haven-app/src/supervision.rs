//! Supervision by an agency head: who broke the glass on the agency's records (each window to be reviewed),
//! who opened identities of its people and for what purpose, and what was shared without consent on a legal
//! basis.

use haven_domain::Action;
use haven_store::access::{BreakGlassRow, OverrideRow};

use crate::{App, Caller, Error, Result};

/// What the head of the caller's agency supervises, newest first (at most `limit` of each).
pub struct Overview {
    pub break_glass: Vec<BreakGlassRow>,
    /// (at, user id, person id, case code, purpose).
    pub identity_views: Vec<(i64, String, String, String, String)>,
    pub consent_overrides: Vec<OverrideRow>,
}

pub async fn overview(app: &App, caller: &Caller, limit: i64) -> Result<Overview> {
    caller.require(Action::SuperviseAgency)?;
    let agency = caller.agency.id.as_str();
    Ok(Overview {
        break_glass: app.store.break_glass_on_agency(agency, limit).await?,
        identity_views: app.store.identity_views_of_agency(agency, limit).await?,
        consent_overrides: app.store.consent_overrides_of_agency(agency, limit).await?,
    })
}

/// Mark a break-the-glass window on the caller's agency's records as reviewed.
pub async fn review_break_glass(app: &App, caller: &Caller, id: &str) -> Result<()> {
    caller.require(Action::SuperviseAgency)?;
    let mut cmd = app.store.command(&caller.actor()).await?;
    if !haven_store::access::review_break_glass(&mut cmd, id, &caller.agency.id).await? {
        return Err(Error::NotFound);
    }
    cmd.commit().await?;
    Ok(())
}
