//! An import's rows, staged before they are published, so that an import keeps "all rows or none" without
//! holding the write lock for its whole length (migration 0027).
//!
//! Each row is sealed, blind-indexed and given its ids outside any transaction ([`SealedPerson`]), then
//! written to the staging tables by [`Store::stage`] in short transactions of its own, between which other
//! writers take their turns. [`publish`] then copies every staged row into the registers with a few
//! `INSERT ... SELECT` statements and writes their audit entries, in the import's own command: the rows appear
//! together when it commits, or not at all. Staged rows are no one's records: nothing but [`publish`] reads
//! them, they hold only what the records would (sealed values and blind keys), and a stage a stopped process
//! left behind is swept by [`Store::sweep_stages`].

use haven_domain::person::{case_code, Identity};

use crate::db::Tx;
use crate::persons::SealedPerson;
use crate::registers::NewAbsentee;
use crate::{new_id, Actor, Command, Store};

/// An import's stage: its id and, in order, what each staged row will create.
pub struct Stage {
    pub id: String,
    rows: Vec<Staged>,
}

/// What one staged row creates: a person record and an entry in a register.
struct Staged {
    person_id: String,
    entry_id: String,
    returnee: bool,
}

impl Stage {
    /// Rows staged so far.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

/// A row to stage: a person with their absentee entry, or a person returned in a handover batch.
pub enum Row<'a> {
    Absentee { identity: &'a Identity, entry: NewAbsentee<'a> },
    Returnee { identity: &'a Identity, batch_id: &'a str },
}

/// Values bound by one statement: well under SQLite's limit (32,766) and PostgreSQL's (65,535).
const VALUES_PER_STATEMENT: usize = 2000;

/// `($1, $2, ...), (...)` for `rows` rows of `cols` values.
fn placeholders(rows: usize, cols: usize) -> String {
    (0..rows)
        .map(|r| format!("({})", (1..=cols).map(|c| format!("${}", r * cols + c)).collect::<Vec<_>>().join(", ")))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A staged person: the row's sequence number in its stage and the record made ready.
struct PersonToStage {
    seq: i64,
    person: SealedPerson,
}

impl Store {
    /// Open a stage for an upload's rows.
    pub async fn begin_stage(&self, actor: &Actor, upload_id: &str) -> anyhow::Result<Stage> {
        let id = new_id();
        let _turn = self.db.write_turn().await?;
        let mut tx = self.db.begin_write().await?;
        sqlx::query(
            "INSERT INTO import_stages (id, upload_id, agency_id, user_id, started_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&id)
        .bind(upload_id)
        .bind(&actor.agency_id)
        .bind(&actor.user_id)
        .bind(self.now())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Stage { id, rows: Vec::new() })
    }

    /// Stage rows in one short transaction. The sealing and keys are computed before the write lock is
    /// taken, so the lock is held for the inserts only.
    pub async fn stage(&self, stage: &mut Stage, rows: &[Row<'_>]) -> anyhow::Result<()> {
        let first = stage.rows.len() as i64;
        let mut persons = Vec::with_capacity(rows.len());
        let mut absentees: Vec<AbsenteeToStage> = Vec::new();
        let mut returnees: Vec<ReturneeToStage> = Vec::new();
        let mut staged = Vec::with_capacity(rows.len());
        for (i, row) in rows.iter().enumerate() {
            let seq = first + i as i64;
            let identity = match row {
                Row::Absentee { identity, .. } | Row::Returnee { identity, .. } => *identity,
            };
            let person = SealedPerson::new(&self.keys, identity);
            let entry_id = new_id();
            match row {
                Row::Absentee { entry, .. } => {
                    let sealed = entry.sealed(&self.keys, &entry_id);
                    absentees.push((seq, entry_id.clone(), person.id.clone(), entry, sealed));
                }
                Row::Returnee { batch_id, .. } => returnees.push((seq, entry_id.clone(), person.id.clone(), *batch_id)),
            }
            staged.push(Staged {
                person_id: person.id.clone(),
                entry_id,
                returnee: matches!(row, Row::Returnee { .. }),
            });
            persons.push(PersonToStage { seq, person });
        }

        let began = std::time::Instant::now();
        {
            let _turn = self.db.write_turn().await?;
            let mut tx = self.db.begin_write().await?;
            stage_persons(&mut tx, &stage.id, &persons).await?;
            stage_keys(&mut tx, &stage.id, &persons).await?;
            stage_absentees(&mut tx, &stage.id, &absentees).await?;
            stage_returnees(&mut tx, &stage.id, &returnees).await?;
            tx.commit().await?;
        }
        crate::db::let_others_write(began).await;
        stage.rows.extend(staged);
        Ok(())
    }

    /// Drop a stage and its rows (an import that failed or found its file imported meanwhile).
    pub async fn discard_stage(&self, stage_id: &str) -> anyhow::Result<()> {
        let _turn = self.db.write_turn().await?;
        let mut tx = self.db.begin_write().await?;
        delete_stage(&mut tx, stage_id).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Drop the stages begun longer ago than `age` (left by a process stopped while staging); how many.
    pub async fn sweep_stages(&self, age: std::time::Duration) -> anyhow::Result<usize> {
        let before = self.now() - age.as_millis() as i64;
        let old: Vec<String> = sqlx::query_scalar("SELECT id FROM import_stages WHERE started_at < $1")
            .bind(before)
            .fetch_all(self.db.pool())
            .await?;
        for id in &old {
            self.discard_stage(id).await?;
        }
        Ok(old.len())
    }
}

async fn stage_persons(tx: &mut Tx, stage_id: &str, persons: &[PersonToStage]) -> anyhow::Result<()> {
    let columns: Vec<&str> = ["stage_id", "seq", "id"].into_iter().chain(SealedPerson::columns()).collect();
    for chunk in persons.chunks(VALUES_PER_STATEMENT / columns.len()) {
        let sql = format!(
            "INSERT INTO import_staged_persons ({}) VALUES {}",
            columns.join(", "),
            placeholders(chunk.len(), columns.len())
        );
        let mut q = sqlx::query(&sql);
        for p in chunk {
            q = p.person.bind(q.bind(stage_id).bind(p.seq).bind(p.person.id.as_str()));
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}

async fn stage_keys(tx: &mut Tx, stage_id: &str, persons: &[PersonToStage]) -> anyhow::Result<()> {
    let keys: Vec<(&str, &str)> =
        persons.iter().flat_map(|p| p.person.match_keys.iter().map(|k| (k.as_str(), p.person.id.as_str()))).collect();
    for chunk in keys.chunks(VALUES_PER_STATEMENT / 3) {
        let sql = format!(
            "INSERT INTO import_staged_keys (stage_id, key, person_id) VALUES {}",
            placeholders(chunk.len(), 3)
        );
        let mut q = sqlx::query(&sql);
        for (key, person_id) in chunk {
            q = q.bind(stage_id).bind(*key).bind(*person_id);
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}

/// An absentee entry to stage: sequence number, entry id, person id, the entry, its sealed columns.
type AbsenteeToStage<'a> = (i64, String, String, &'a NewAbsentee<'a>, [Option<Vec<u8>>; 5]);

async fn stage_absentees(tx: &mut Tx, stage_id: &str, rows: &[AbsenteeToStage<'_>]) -> anyhow::Result<()> {
    let cols = 12;
    for chunk in rows.chunks(VALUES_PER_STATEMENT / cols) {
        let sql = format!(
            "INSERT INTO import_staged_absentees (stage_id, seq, id, person_id, case_code, commune_code, \
             absent_since, destination, contact, reported_by, household, note) VALUES {}",
            placeholders(chunk.len(), cols)
        );
        let mut q = sqlx::query(&sql);
        for (seq, id, person_id, entry, sealed) in chunk {
            q = q
                .bind(stage_id)
                .bind(*seq)
                .bind(id.as_str())
                .bind(person_id.as_str())
                .bind(case_code("VM", id))
                .bind(entry.commune_code)
                .bind(entry.absent_since.as_deref());
            for v in sealed {
                q = q.bind(v.as_deref());
            }
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}

/// A returnee to stage: sequence number, entry id, person id, batch.
type ReturneeToStage<'a> = (i64, String, String, &'a str);

async fn stage_returnees(tx: &mut Tx, stage_id: &str, rows: &[ReturneeToStage<'_>]) -> anyhow::Result<()> {
    let cols = 6;
    for chunk in rows.chunks(VALUES_PER_STATEMENT / cols) {
        let sql = format!(
            "INSERT INTO import_staged_returnees (stage_id, seq, id, person_id, case_code, batch_id) VALUES {}",
            placeholders(chunk.len(), cols)
        );
        let mut q = sqlx::query(&sql);
        for (seq, id, person_id, batch_id) in chunk {
            q = q
                .bind(stage_id)
                .bind(*seq)
                .bind(id.as_str())
                .bind(person_id.as_str())
                .bind(case_code("HH", id))
                .bind(*batch_id);
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}

/// The tables holding staged rows. Their sealed columns were sealed for the final tables with the field key
/// of the moment, so key rotation does not re-seal them: it drops every stage (see [`discard_all`]).
pub const STAGED_TABLES: [&str; 4] =
    ["import_staged_persons", "import_staged_keys", "import_staged_absentees", "import_staged_returnees"];

async fn delete_stage(tx: &mut Tx, stage_id: &str) -> anyhow::Result<()> {
    for table in STAGED_TABLES {
        // The table names are this module's constants, never input.
        sqlx::query(&format!("DELETE FROM {table} WHERE stage_id = $1")).bind(stage_id).execute(&mut **tx).await?;
    }
    sqlx::query("DELETE FROM import_stages WHERE id = $1").bind(stage_id).execute(&mut **tx).await?;
    Ok(())
}

/// Drop every stage, in the caller's transaction. Key rotation does this so that nothing sealed with the
/// retiring field key is published after it: an import staging at that moment fails at its publish (its
/// stage is gone) and is run again, which costs a re-run but never a row under the old key.
pub(crate) async fn discard_all(tx: &mut Tx) -> anyhow::Result<u64> {
    for table in STAGED_TABLES {
        sqlx::query(&format!("DELETE FROM {table}")).execute(&mut **tx).await?;
    }
    Ok(sqlx::query("DELETE FROM import_stages").execute(&mut **tx).await?.rows_affected())
}

/// Publish a stage in the import's command: its persons, their keys and their register entries copied in
/// order under the import's id, owned by the command's agency, created by its user at its instant, with the
/// audit entries a row written one by one would have; the stage is emptied in the same transaction. Fails
/// (and the command must be dropped) when the staged rows are not all there (a stage swept meanwhile).
pub async fn publish(cmd: &mut Command, stage: &Stage, import_id: &str) -> anyhow::Result<()> {
    let agency = cmd.actor.agency_id.clone();
    let user = cmd.actor.user_id.clone();
    let at = cmd.at;
    let columns = SealedPerson::columns().collect::<Vec<_>>().join(", ");
    let persons = sqlx::query(&format!(
        "INSERT INTO persons (id, owner_agency_id, created_by, created_at, updated_at, {columns}) \
         SELECT id, $2, $3, $4, $4, {columns} FROM import_staged_persons WHERE stage_id = $1 ORDER BY seq"
    ))
    .bind(&stage.id)
    .bind(&agency)
    .bind(&user)
    .bind(at)
    .execute(&mut *cmd.tx)
    .await?
    .rows_affected();
    sqlx::query(
        "INSERT INTO match_keys (key, person_id, agency_id) SELECT key, person_id, $2 FROM import_staged_keys \
         WHERE stage_id = $1 ON CONFLICT DO NOTHING",
    )
    .bind(&stage.id)
    .bind(&agency)
    .execute(&mut *cmd.tx)
    .await?;
    let absentees = sqlx::query(
        "INSERT INTO absentees (id, owner_agency_id, person_id, case_code, commune_code, absent_since, \
         destination, contact, reported_by, household, note, import_id, created_by, created_at, updated_at) \
         SELECT id, $2, person_id, case_code, commune_code, absent_since, destination, contact, reported_by, \
         household, note, $3, $4, $5, $5 FROM import_staged_absentees WHERE stage_id = $1 ORDER BY seq",
    )
    .bind(&stage.id)
    .bind(&agency)
    .bind(import_id)
    .bind(&user)
    .bind(at)
    .execute(&mut *cmd.tx)
    .await?
    .rows_affected();
    let returnees = sqlx::query(
        "INSERT INTO returnees (id, batch_id, owner_agency_id, person_id, case_code, import_id, created_by, \
         created_at) SELECT id, batch_id, $2, person_id, case_code, $3, $4, $5 FROM import_staged_returnees \
         WHERE stage_id = $1 ORDER BY seq",
    )
    .bind(&stage.id)
    .bind(&agency)
    .bind(import_id)
    .bind(&user)
    .bind(at)
    .execute(&mut *cmd.tx)
    .await?
    .rows_affected();
    let staged = stage.rows.len() as u64;
    anyhow::ensure!(
        persons == staged && absentees + returnees == staged,
        "the import's staged rows are not all there ({persons} persons, {} entries of {staged})",
        absentees + returnees
    );
    let entries: Vec<_> = stage
        .rows
        .iter()
        .flat_map(|r| {
            let entry = if r.returnee {
                crate::registers::returnee_created(&r.entry_id)
            } else {
                crate::registers::absentee_created(&r.entry_id)
            };
            [crate::persons::created(&r.person_id), entry]
        })
        .collect();
    cmd.audit_many(&entries).await?;
    cmd.persons_changed = true;
    delete_stage(&mut cmd.tx, &stage.id).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::placeholders;

    #[test]
    fn placeholders_number_every_value_of_every_row() {
        assert_eq!(placeholders(2, 3), "($1, $2, $3), ($4, $5, $6)");
        assert_eq!(placeholders(1, 1), "($1)");
    }
}
