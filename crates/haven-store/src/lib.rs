//! Haven's persistence: one seam over SQLite and PostgreSQL ([`db`]), field encryption and blind indexes
//! ([`crypto`]), the audit chain ([`audit`]), and the commands and queries of each capability. Every command
//! runs in one transaction together with its audit entry ([`Command`]). The store keeps data; it does not
//! decide business rules, which come from `haven-domain`.

pub mod access;
pub mod accounts;
pub mod audit;
pub mod backups;
pub mod bench;
pub mod cases;
pub mod cooperation;
pub mod crypto;
pub mod db;
pub mod directory;
pub mod exports;
pub mod files;
pub mod import_runs;
pub mod imports;
pub mod keys;
pub mod matches;
pub mod persons;
pub mod plan;
mod recorded;
pub mod registers;
pub mod reports;
pub mod role_requests;
pub mod staging;
pub mod tasks;
pub mod testing;
pub mod victims;
pub mod witness;

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use ed25519_dalek::SigningKey;
use haven_domain::time::{Clock, Millis};

pub use audit::{Actor, Entry};
pub use crypto::{KeyFile, Keyring};
pub use db::{Backend, Db};

/// An open store: database, unwrapped keys, audit signer and clock.
#[derive(Clone)]
pub struct Store {
    pub db: Db,
    pub keys: Arc<Keyring>,
    signer: Arc<SigningKey>,
    clock: Arc<dyn Clock>,
    cache: Arc<directory::Cache>,
    recorded: recorded::Queue,
}

impl Store {
    /// Connect, migrate, create the data keys on first use, and unwrap them.
    pub async fn open(url: &str, key_file: &KeyFile, clock: Arc<dyn Clock>) -> anyhow::Result<Store> {
        let db = Db::connect(url).await?;
        db.migrate().await?;
        keys::ensure_data_keys(&db, &key_file.master).await?;
        let keyring = keys::load_keyring(&db, &key_file.master).await?;
        let signer = SigningKey::from_bytes(&key_file.audit_signing);
        audit::ensure_genesis(&db, &signer).await?;
        let store = Store {
            db,
            keys: Arc::new(keyring),
            signer: Arc::new(signer),
            clock,
            cache: Arc::default(),
            recorded: recorded::Queue::default(),
        };
        let indexed = matches::search::index_pending(&store).await?;
        if indexed > 0 {
            tracing::info!(persons = indexed, "person records indexed for name search");
        }
        Ok(store)
    }

    pub fn now(&self) -> Millis {
        self.clock.now()
    }

    /// One sealed text column of one row (keyed by `id`), opened; None when the row or the value is absent.
    /// `table` and `column` are the store's own constants, never input.
    pub(crate) async fn open_sealed(&self, table: &str, column: &str, id: &str) -> anyhow::Result<Option<String>> {
        let sealed: Option<Option<Vec<u8>>> =
            sqlx::query_scalar(&format!("SELECT {column} FROM {table} WHERE id = $1"))
                .bind(id)
                .fetch_optional(self.db.pool())
                .await?;
        match sealed.flatten() {
            Some(s) => Ok(Some(self.keys.open(table, column, id, &s)?)),
            None => Ok(None),
        }
    }

    pub fn clock(&self) -> Arc<dyn Clock> {
        self.clock.clone()
    }

    pub fn verifying_key(&self) -> ed25519_dalek::VerifyingKey {
        self.signer.verifying_key()
    }

    /// Begin a command: a write transaction with the audit head locked.
    pub async fn command(&self, actor: &Actor) -> anyhow::Result<Command> {
        let turn = self.db.write_turn().await?;
        self.command_in_turn(actor, turn).await
    }

    /// Begin a command in a writer's turn already taken.
    async fn command_in_turn(&self, actor: &Actor, turn: db::WriteTurn) -> anyhow::Result<Command> {
        let mut tx = self.db.begin_write().await?;
        let head = audit::lock_head(&self.db, &mut tx).await?;
        Ok(Command {
            tx,
            _turn: turn,
            head,
            start_seq: None,
            signer: self.signer.clone(),
            actor: actor.clone(),
            at: self.now(),
            directory_changed: false,
            persons_changed: false,
            cache: self.cache.clone(),
            matching: None,
        })
    }

    /// The records a case code names, as (record kind, id), in every register that gives codes: persons,
    /// victim cases, reports, absentees, returnees and cooperation requests. Codes are written in capitals.
    pub async fn records_with_code(&self, code: &str) -> anyhow::Result<Vec<(String, String)>> {
        let code = code.trim().to_uppercase();
        let registers = [
            (persons::KIND, "persons"),
            (victims::KIND, "victim_cases"),
            (reports::KIND, "reports"),
            (registers::ABSENTEE, "absentees"),
            (registers::RETURNEE, "returnees"),
            (cooperation::KIND, "cooperation_requests"),
        ];
        // The kinds and tables are the store's constants, never input.
        let sql = registers
            .iter()
            .map(|(kind, table)| format!("SELECT CAST('{kind}' AS TEXT), id FROM {table} WHERE case_code = $1"))
            .collect::<Vec<_>>()
            .join(" UNION ALL ");
        Ok(sqlx::query_as(&sql).bind(code).fetch_all(self.db.pool()).await?)
    }

    pub async fn verify_audit(&self) -> anyhow::Result<audit::VerifyReport> {
        audit::verify(&self.db, &self.verifying_key()).await
    }

    pub async fn get_setting(&self, key: &str) -> anyhow::Result<Option<String>> {
        Ok(sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
            .bind(key)
            .fetch_optional(self.db.pool())
            .await?)
    }
}

/// One use case in one transaction: its writes and its audit entries commit together or not at all.
pub struct Command {
    pub tx: db::Tx,
    /// Declared after `tx`, so a dropped command's transaction is given back before the next writer's turn.
    _turn: db::WriteTurn,
    head: audit::Head,
    start_seq: Option<i64>,
    signer: Arc<SigningKey>,
    pub actor: Actor,
    pub at: Millis,
    /// Set by commands that change agencies or units, so the cached directory is dropped on commit.
    pub(crate) directory_changed: bool,
    /// Set by commands that add person records, so cached counts are dropped on commit.
    pub(crate) persons_changed: bool,
    cache: Arc<directory::Cache>,
    /// The matching model and the count of indexed people, read once per command: an import of thousands
    /// of rows matches each against the same model.
    pub(crate) matching: Option<matches::Loaded>,
}

impl Command {
    pub async fn audit(&mut self, entry: Entry) -> anyhow::Result<()> {
        self.start_seq.get_or_insert(self.head.seq + 1);
        audit::append(&mut self.tx, &mut self.head, &self.signer, &self.actor, self.at, &entry).await
    }

    /// Append many entries in order, several to a statement (an import's rows).
    pub(crate) async fn audit_many(&mut self, entries: &[Entry]) -> anyhow::Result<()> {
        if entries.is_empty() {
            return Ok(());
        }
        self.start_seq.get_or_insert(self.head.seq + 1);
        audit::append_many(&mut self.tx, &mut self.head, &self.signer, &self.actor, self.at, entries).await
    }

    /// Append an entry of another actor, at another instant (entries written together: [`Store::record`]).
    async fn audit_as(&mut self, actor: &Actor, at: i64, entry: &Entry) -> anyhow::Result<()> {
        self.start_seq.get_or_insert(self.head.seq + 1);
        audit::append(&mut self.tx, &mut self.head, &self.signer, actor, at, entry).await
    }

    /// Commit. A command that wrote nothing to the audit log is a bug: every change is audited.
    pub async fn commit(mut self) -> anyhow::Result<()> {
        anyhow::ensure!(self.start_seq.is_some(), "command committed without an audit entry");
        audit::store_head(&mut self.tx, &self.head, &self.signer).await?;
        self.tx.commit().await.context("commit")?;
        if self.directory_changed {
            self.cache.clear();
        }
        if self.persons_changed {
            self.cache.clear_counts();
        }
        Ok(())
    }

    pub async fn set_setting(&mut self, key: &str, value: &str) -> anyhow::Result<()> {
        sqlx::query("DELETE FROM settings WHERE key = $1").bind(key).execute(&mut *self.tx).await?;
        sqlx::query("INSERT INTO settings (key, value) VALUES ($1, $2)")
            .bind(key)
            .bind(value)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }
}

/// Whether a failed command broke a uniqueness rule (two people creating the same user name at once):
/// the caller can then answer as for a taken name instead of failing.
pub fn is_unique_violation(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<sqlx::Error>().and_then(|e| e.as_database_error()).is_some_and(|d| d.is_unique_violation())
    })
}

/// A new record id: UUIDv7, so ids sort by creation time.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// Default database URL for a data folder.
pub fn sqlite_url(data_dir: &Path) -> String {
    format!("sqlite://{}", data_dir.join("haven.db").display())
}
