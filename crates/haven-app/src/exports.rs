//! Exports for analysts: victim cases in the HTCDS v2 shape, only those with consent for statistics,
//! pseudonymised (no names, dates or free text; a keyed pseudonym and the age in years). Every download is
//! audited with its form and the number of cases.

use haven_domain::Action;
use haven_store::exports::HtcdsRecord;
use haven_store::Entry;

use crate::{App, Caller, Result};

/// How many cases an HTCDS export would hold today.
pub async fn htcds_count(app: &App, caller: &Caller) -> Result<usize> {
    caller.require(Action::ViewAggregates)?;
    Ok(app.store.htcds_records(app.today()).await?.len())
}

/// The records, with the download audited (how many cases left, in which form: `csv` or `json`).
pub async fn htcds(app: &App, caller: &Caller, form: &str) -> Result<Vec<HtcdsRecord>> {
    caller.require(Action::ViewAggregates)?;
    let records = app.store.htcds_records(app.today()).await?;
    let mut cmd = app.store.command(&caller.actor()).await?;
    let fields = ["gender", "citizenship", "age", "status", "context", "events"];
    cmd.audit(
        Entry::new("export.htcds", "export", "htcds").purpose(&format!("{form}:{}", records.len())).fields(&fields),
    )
    .await?;
    cmd.commit().await?;
    Ok(records)
}
