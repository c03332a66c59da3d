//! Imports running in this process. A commit writes every row in one transaction, then compares them with
//! the province's records in short ones, which can take a while on a large file, so it runs as a task of its own; the page's progress bar and the API's status read where it
//! stands from here while it runs, and from the `imports` table once it has ended.

use haven_app::imports::{self, Checked, Committed, Mapping};
use haven_domain::registers::sheet::Sheet;
use haven_store::imports::Upload;

use crate::ctx::Viewer;
use crate::error::{AppError, AppResult};
use crate::AppState;

/// An import running in this process.
#[derive(Clone, Debug, Default)]
pub struct Progress {
    pub done: usize,
    pub total: usize,
    /// Set when it ended: rows written, or the key of what stopped it.
    pub ended: Option<Result<usize, String>>,
}

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
/// being written.
pub fn start(
    state: &AppState,
    viewer: &Viewer,
    upload: Upload,
    sheet: Sheet,
    mapping: Mapping,
    rows: Vec<Checked>,
) -> AppResult<bool> {
    {
        let mut running = state.imports.lock().map_err(|_| AppError::Internal(anyhow::anyhow!("import lock")))?;
        if running.get(&upload.id).is_some_and(|p| p.ended.is_none()) {
            return Ok(false);
        }
        running.insert(upload.id.clone(), Progress { done: 0, total: rows.len(), ended: None });
    }
    let state = state.clone();
    let viewer = viewer.clone();
    tokio::spawn(async move {
        let progress_state = state.clone();
        let key = upload.id.clone();
        let report = move |done: usize, total: usize| {
            if let Ok(mut m) = progress_state.imports.lock() {
                m.insert(key.clone(), Progress { done, total, ended: None });
            }
        };
        let result = imports::commit(&state, &viewer, &upload, &sheet, &mapping, rows, &report).await;
        if matches!(result, Ok(Committed::Done(_))) {
            // Compared with the province's records before the import shows as done, so that its pairs are
            // waiting for review when the user opens it; a server stopped meanwhile finishes at start.
            if let Err(e) = state.store.drain_match_queue(&|_| {}).await {
                tracing::error!(error = ?e, "comparing an import's rows failed; they stay queued");
            }
        }
        let ended = match result {
            Ok(Committed::Done(n)) => Ok(n),
            Ok(Committed::AlreadyImported) => Err("error.import_again".to_owned()),
            Err(e) => {
                tracing::error!(error = ?e, "import failed");
                Err("error.import_failed".to_owned())
            }
        };
        if let Ok(mut m) = state.imports.lock() {
            m.entry(upload.id.clone()).or_default().ended = Some(ended);
        }
    });
    Ok(true)
}

/// Where an import stands: running here, ended (the `imports` row, or the error this process kept), or not
/// started. The caller has been checked with `haven_app::imports::may_follow`.
pub async fn standing(state: &AppState, id: &str) -> AppResult<(Standing, Progress)> {
    let mem = state.imports.lock().ok().and_then(|m| m.get(id).cloned());
    if let Some(p) = &mem {
        match &p.ended {
            None => return Ok((Standing::Running, p.clone())),
            Some(Err(_)) => return Ok((Standing::Failed, p.clone())),
            Some(Ok(_)) => {}
        }
    }
    if let Some(done) = state.store.import(id).await? {
        let n = done.rows_created as usize;
        return Ok((Standing::Done, Progress { done: n, total: n, ended: Some(Ok(n)) }));
    }
    Ok((Standing::Waiting, mem.unwrap_or_default()))
}
