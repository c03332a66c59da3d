//! The queue of people waiting to be compared with the province's records: an import's rows are queued in
//! its own transaction and compared afterwards in short transactions, so that the import holds the write lock
//! only while its rows are written.

use super::{propose_for, Signals};
use crate::Command;

/// People compared per short transaction when the queue is drained.
const DRAIN_CHUNK: i64 = 50;

/// Queue an import's people for matching, in the import's transaction: they are compared afterwards by
/// [`Store::drain_match_queue`], in short transactions, under the importing user's name.
pub async fn queue_import(cmd: &mut Command, import_id: &str) -> anyhow::Result<()> {
    for table in ["absentees", "returnees"] {
        sqlx::query(&format!(
            "INSERT INTO match_queue (person_id, import_id, user_id, agency_id, queued_at) \
             SELECT person_id, $1, $2, $3, $4 FROM {table} WHERE import_id = $1 ON CONFLICT DO NOTHING"
        ))
        .bind(import_id)
        .bind(&cmd.actor.user_id)
        .bind(&cmd.actor.agency_id)
        .bind(cmd.at)
        .execute(&mut *cmd.tx)
        .await?;
    }
    Ok(())
}

impl crate::Store {
    /// Compare the queued people with the province's records, [`DRAIN_CHUNK`] at a time, each chunk in a
    /// command of its own (other writers take their turns between chunks), until the queue is empty. Safe to
    /// run in several places at once: a person leaves the queue in the command that compares them.
    /// `progress` is told how many were compared so far. Returns how many were compared.
    pub async fn drain_match_queue(&self, progress: &(dyn Fn(usize) + Send + Sync)) -> anyhow::Result<usize> {
        let mut done = 0;
        loop {
            // The oldest waiting person's user acts for the chunk: one command has one actor.
            let Some((user_id, agency_id, import_id)) = sqlx::query_as::<_, (String, String, Option<String>)>(
                "SELECT user_id, agency_id, import_id FROM match_queue ORDER BY queued_at, person_id LIMIT 1",
            )
            .fetch_optional(self.db.pool())
            .await?
            else {
                return Ok(done);
            };
            let request_id = format!("matching:{}", import_id.as_deref().unwrap_or("queue"));
            let began = std::time::Instant::now();
            let mut cmd = self.command(&crate::Actor { user_id, agency_id, request_id }).await?;
            let ids: Vec<String> = sqlx::query_scalar(&format!(
                "SELECT person_id FROM match_queue WHERE user_id = $1 AND agency_id = $2 \
                 ORDER BY queued_at, person_id LIMIT {DRAIN_CHUNK}{}",
                self.db.skip_locked()
            ))
            .bind(&cmd.actor.user_id)
            .bind(&cmd.actor.agency_id)
            .fetch_all(&mut *cmd.tx)
            .await?;
            for id in &ids {
                propose_for(&mut cmd, &self.keys, id, Signals::Unlimited).await?;
                sqlx::query("DELETE FROM match_queue WHERE person_id = $1").bind(id).execute(&mut *cmd.tx).await?;
            }
            if ids.is_empty() {
                // Another drain took them meanwhile, and goes on with the rest.
                return Ok(done);
            }
            cmd.commit().await?;
            done += ids.len();
            progress(done);
            crate::db::let_others_write(began).await;
        }
    }
}
