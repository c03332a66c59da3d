//! Audit entries that change nothing else (a search, an export's download), written together. Each such entry
//! is durable before its caller answers, as any command's; but a command of its own per entry makes every
//! reader a writer with a commit of its own, and on SQLite, where one writer commits at a time, a few hundred
//! searches a second queue behind one another's disk flushes. Here the entries waiting when a writer's turn
//! comes are appended by whichever caller got the turn, in one transaction, and each caller is told when its
//! entry has committed (group commit).

use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

use crate::{Actor, Entry, Store};

/// An entry waiting to be written, with who to tell.
pub(crate) struct Waiting {
    actor: Actor,
    at: i64,
    entry: Entry,
    done: oneshot::Sender<Result<(), String>>,
}

/// The entries waiting for a writer.
#[derive(Clone, Default)]
pub(crate) struct Queue(Arc<Mutex<Vec<Waiting>>>);

impl Queue {
    fn push(&self, w: Waiting) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).push(w);
    }

    fn take(&self) -> Vec<Waiting> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

impl Store {
    /// Append one audit entry that accompanies no other change, durable when this returns.
    pub async fn record(&self, actor: &Actor, entry: Entry) -> anyhow::Result<()> {
        let (done, mut told) = oneshot::channel();
        self.recorded.push(Waiting { actor: actor.clone(), at: self.now(), entry, done });
        loop {
            tokio::select! {
                // Another caller wrote it while this one waited for its turn.
                result = &mut told => return outcome(result),
                turn = self.db.write_turn() => {
                    let batch = self.recorded.take();
                    if batch.is_empty() {
                        // Written by the caller before, which has told or is telling.
                        drop(turn);
                        return outcome(told.await);
                    }
                    // Written in a task of its own, so that the others' entries are written and answered
                    // even if this caller hangs up meanwhile.
                    let store = self.clone();
                    let _ = tokio::spawn(async move {
                        let written = match turn {
                            Ok(turn) => store.write_batch(turn, &batch).await,
                            Err(e) => Err(e),
                        }
                        .map_err(|e| format!("{e:#}"));
                        for w in batch {
                            let _ = w.done.send(written.clone());
                        }
                    })
                    .await;
                }
            }
        }
    }

    async fn write_batch(&self, turn: crate::db::WriteTurn, batch: &[Waiting]) -> anyhow::Result<()> {
        let mut cmd = self.command_in_turn(&batch[0].actor, turn).await?;
        for w in batch {
            cmd.audit_as(&w.actor, w.at, &w.entry).await?;
        }
        cmd.commit().await
    }
}

fn outcome(told: Result<Result<(), String>, oneshot::error::RecvError>) -> anyhow::Result<()> {
    match told {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(anyhow::anyhow!("writing audit entries: {e}")),
        Err(_) => Err(anyhow::anyhow!("the audit entry was dropped unwritten")),
    }
}
