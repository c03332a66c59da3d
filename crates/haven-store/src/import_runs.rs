//! Where an import started from the pages or the API stands, shared by every server on the database: the
//! server that runs it claims it, notes its progress and a heartbeat, and records how it ended; any server
//! reads it for the progress bar and the API's status. An import whose heartbeat went stale was cut short
//! by a stopped server: it shows as interrupted and may be started again (its stage is swept; nothing of
//! it was published, since an import publishes all its rows in its last transaction or none).

use haven_domain::time::Millis;
use sqlx::Row;

use crate::Store;

/// An import with no sign of life for this long was cut short by a stopped server.
pub const STALE_AFTER_MS: Millis = 10 * 60 * 1000;

/// Where an import stands, as the database knows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RunState {
    Running {
        done: i64,
        total: i64,
    },
    Done {
        rows: i64,
    },
    /// The translation key of what stopped it (`error.import_interrupted` when its server stopped).
    Failed {
        key: String,
        done: i64,
        total: i64,
    },
}

impl Store {
    /// Claim an upload's import for this server: false when it is running on a server that is alive.
    pub async fn claim_import_run(&self, upload_id: &str, total: i64) -> anyhow::Result<bool> {
        let now = self.now();
        let claimed = sqlx::query(
            "INSERT INTO import_runs (upload_id, done, total, outcome, rows_created, started_at, heartbeat_at) \
             VALUES ($1, 0, $2, NULL, NULL, $3, $3) \
             ON CONFLICT (upload_id) DO UPDATE SET done = 0, total = $2, outcome = NULL, rows_created = NULL, \
             started_at = $3, heartbeat_at = $3 \
             WHERE import_runs.outcome IS NOT NULL OR import_runs.heartbeat_at < $4",
        )
        .bind(upload_id)
        .bind(total)
        .bind(now)
        .bind(now - STALE_AFTER_MS)
        .execute(self.db.pool())
        .await?
        .rows_affected();
        Ok(claimed == 1)
    }

    /// Note how far a running import is, and that its server is alive.
    pub async fn note_import_progress(&self, upload_id: &str, done: i64, total: i64) -> anyhow::Result<()> {
        sqlx::query(
            "UPDATE import_runs SET done = $1, total = $2, heartbeat_at = $3 WHERE upload_id = $4 AND outcome IS NULL",
        )
        .bind(done)
        .bind(total)
        .bind(self.now())
        .bind(upload_id)
        .execute(self.db.pool())
        .await?;
        Ok(())
    }

    /// Record how an import ended: the rows it created, or the translation key of what stopped it.
    pub async fn end_import_run(&self, upload_id: &str, ended: Result<i64, &str>) -> anyhow::Result<()> {
        let (outcome, rows) = match ended {
            Ok(rows) => ("done", Some(rows)),
            Err(key) => (key, None),
        };
        sqlx::query(
            "UPDATE import_runs SET outcome = $1, rows_created = $2, done = CASE WHEN $3 THEN total ELSE done END, \
             heartbeat_at = $4 WHERE upload_id = $5",
        )
        .bind(outcome)
        .bind(rows)
        .bind(rows.is_some())
        .bind(self.now())
        .bind(upload_id)
        .execute(self.db.pool())
        .await?;
        Ok(())
    }

    /// Where an upload's import stands, if it was ever started from the pages or the API.
    pub async fn import_run(&self, upload_id: &str) -> anyhow::Result<Option<RunState>> {
        let row = sqlx::query(
            "SELECT done, total, outcome, rows_created, heartbeat_at FROM import_runs WHERE upload_id = $1",
        )
        .bind(upload_id)
        .fetch_optional(self.db.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let (done, total): (i64, i64) = (row.try_get(0)?, row.try_get(1)?);
        let outcome: Option<String> = row.try_get(2)?;
        let rows: Option<i64> = row.try_get(3)?;
        let heartbeat: i64 = row.try_get(4)?;
        Ok(Some(match outcome.as_deref() {
            None if heartbeat < self.now() - STALE_AFTER_MS => {
                RunState::Failed { key: "error.import_interrupted".into(), done, total }
            }
            None => RunState::Running { done, total },
            Some("done") => RunState::Done { rows: rows.unwrap_or(done) },
            Some(key) => RunState::Failed { key: key.to_owned(), done, total },
        }))
    }

    /// Imports running on a live server, for the metrics.
    pub async fn running_imports(&self) -> anyhow::Result<i64> {
        Ok(sqlx::query_scalar(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM import_runs WHERE outcome IS NULL AND heartbeat_at >= $1",
        )
        .bind(self.now() - STALE_AFTER_MS)
        .fetch_one(self.db.pool())
        .await?)
    }
}
