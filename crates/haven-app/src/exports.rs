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
    let fields = ["gender", "citizenship", "age", "status", "context", "events"];
    app.store
        .record(
            &caller.actor(),
            Entry::new("export.htcds", "export", "htcds").purpose(&format!("{form}:{}", records.len())).fields(&fields),
        )
        .await?;
    Ok(records)
}

/// Record that a work list was taken away (downloaded as a file): which list, in which form, how many
/// rows. It is audited like a view, since the file leaves Haven's access control.
pub async fn record_list_download(app: &App, caller: &Caller, list: &str, format: &str, rows: usize) -> Result<()> {
    caller.require(Action::ViewRecords)?;
    app.store
        .record(
            &caller.actor(),
            Entry::new("list.download", "list", list).purpose(&format!("{format}:{rows}")).fields(&["list"]),
        )
        .await?;
    Ok(())
}
