//! Imports started from the pages and the API. A commit stages every row in short transactions, publishes them
//! in one, then compares them with the province's records in short ones, which can take a while on a large
//! file, so it runs as a task of its own. Where it stands is kept in the database
//! ([`haven_store::import_runs`]), not in this process: any server behind the proxy shows the progress bar
//! and the end, and an import whose server stopped shows as interrupted.

use haven_app::imports::{self, Checked, Committed, Mapping};
use haven_domain::registers::sheet::Sheet;
use haven_store::import_runs::RunState;
use haven_store::imports::Upload;

use crate::ctx::Viewer;
use crate::error::AppResult;
use crate::AppState;

/// How far an import is, and how it ended.
#[derive(Clone, Debug, Default)]
pub struct Progress {
    pub done: usize,
    pub total: usize,
    /// Set when it ended: rows written, or the key of what stopped it.
    pub ended: Option<Result<usize, String>>,
}

/// How often a running import's progress and heartbeat are written.
const NOTE_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// Where an import stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Standing {
    /// Checked and not committed yet.
    Waiting,
    Running,
    Done,
    Failed,
}

impl Standing {
    pub fn code(self) -> &'static str {
        match self {
            Standing::Waiting => "waiting",
            Standing::Running => "running",
            Standing::Done => "done",
            Standing::Failed => "failed",
        }
    }
}

/// Start writing checked rows in the background. Answers false, starting nothing, when this upload is already
/// being written (by this server or another one that is alive).
pub async fn start(
    state: &AppState,
    viewer: &Viewer,
    upload: Upload,
    sheet: Sheet,
    mapping: Mapping,
    rows: Vec<Checked>,
) -> AppResult<bool> {
    if !state.store.claim_import_run(&upload.id, rows.len() as i64).await? {
        return Ok(false);
    }
    let state = state.clone();
    let viewer = viewer.clone();
    tokio::spawn(async move {
        // The import reports its progress here; a companion task writes the latest to the database each
        // second, which is also the heartbeat that tells other servers this one is alive.
        let (tx, mut rx) = tokio::sync::watch::channel((0usize, rows.len()));
        let noter = {
            let (store, id) = (state.store.clone(), upload.id.clone());
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(NOTE_EVERY);
                loop {
                    tick.tick().await;
                    let (done, total) = *rx.borrow_and_update();
                    if let Err(e) = store.note_import_progress(&id, done as i64, total as i64).await {
                        tracing::warn!(error = %e, "noting an import's progress failed");
                    }
                }
            })
        };
        let report = move |done: usize, total: usize| {
            let _ = tx.send((done, total));
        };
        let result = imports::commit(&state, &viewer, &upload, &sheet, &mapping, rows, &report).await;
        if matches!(result, Ok(Committed::Done(_))) {
            // Compared with the province's records before the import shows as done, so that its pairs are
            // waiting for review when the user opens it; a server stopped meanwhile finishes at start.
            if let Err(e) = state.store.drain_match_queue(&|_| {}).await {
                tracing::error!(error = ?e, "comparing an import's rows failed; they stay queued");
            }
        }
        noter.abort();
        let ended = match &result {
            Ok(Committed::Done(n)) => Ok(*n as i64),
            Ok(Committed::AlreadyImported) => Err("error.import_again"),
            Err(e) => {
                tracing::error!(error = ?e, "import failed");
                Err("error.import_failed")
            }
        };
        if let Err(e) = state.store.end_import_run(&upload.id, ended).await {
            tracing::error!(error = %e, "recording an import's end failed");
        }
    });
    Ok(true)
}

/// Where an import stands: running (on any server), ended (its run, or the `imports` row of an import made
/// with `haven import`), interrupted, or not started. The caller has been checked with
/// `haven_app::imports::may_follow`.
pub async fn standing(state: &AppState, id: &str) -> AppResult<(Standing, Progress)> {
    let count = |n: i64| usize::try_from(n).unwrap_or(0);
    let run = state.store.import_run(id).await?;
    if let Some(RunState::Running { done, total }) = run {
        return Ok((Standing::Running, Progress { done: count(done), total: count(total), ended: None }));
    }
    // The import's own row says it was published, whatever its run says (a server can stop between the
    // publish and noting the end).
    if let Some(done) = state.store.import(id).await? {
        let n = count(done.rows_created);
        return Ok((Standing::Done, Progress { done: n, total: n, ended: Some(Ok(n)) }));
    }
    Ok(match run {
        Some(RunState::Failed { key, done, total }) => {
            (Standing::Failed, Progress { done: count(done), total: count(total), ended: Some(Err(key)) })
        }
        _ => (Standing::Waiting, Progress::default()),
    })
}
