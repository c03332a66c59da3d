//! The seam: the only module that knows which database Haven runs on. Everything else writes SQL once, in the
//! subset SQLite and PostgreSQL both accept (`$1` markers, BIGINT instants, TEXT ids, blobs for ciphertext),
//! and runs it through the `Any` driver. Here live the connection set-up per backend (SQLite: WAL, foreign
//! keys, busy timeout, full fsync), migrations, how a write transaction begins, and the SQLite online backup.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};

pub use sqlx::any::AnyRow as Row;
pub use sqlx::Row as RowExt;

/// How long a writer waits for its turn (SQLite's write lock, this process's queue, PostgreSQL's lock on the
/// audit log's head) before giving up with [`Busy`]. Long enough for any command and for the write phase of a
/// large import; short enough that a person at a form is told to retry instead of watching a page hang.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(8);

/// A write that did not get its turn within [`BUSY_TIMEOUT`]: nothing was written, and the same request may
/// simply be sent again. Pages and the API answer 503 with `Retry-After`; the command line says so.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Busy;

impl std::fmt::Display for Busy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the database is busy with other writers: nothing was written (waited {BUSY_TIMEOUT:?})")
    }
}

impl std::error::Error for Busy {}

/// Whether an error is a writer that found the database busy (see [`Busy`]): Haven's own turn timing out,
/// SQLite's busy or locked codes (another process held the lock past the busy timeout), or PostgreSQL's
/// lock timeout, serialisation failure or deadlock. Anything else is a real failure.
pub fn is_busy(e: &anyhow::Error) -> bool {
    // A `Busy` added as context is found by the error's own downcast, not by walking the chain.
    e.downcast_ref::<Busy>().is_some()
        || e.chain().any(|cause| {
            if cause.downcast_ref::<Busy>().is_some() {
                return true;
            }
            let Some(sqlx::Error::Database(db)) = cause.downcast_ref::<sqlx::Error>() else { return false };
            // SQLite: 5 SQLITE_BUSY, 6 SQLITE_LOCKED and their extended codes (261, 517, 773...); PostgreSQL:
            // 55P03 lock_not_available, 40001 serialization_failure, 40P01 deadlock_detected.
            let code = db.code().unwrap_or_default();
            let sqlite_busy = code.parse::<u32>().is_ok_and(|c| c & 0xff == 5 || c & 0xff == 6);
            sqlite_busy
                || matches!(code.as_ref(), "55P03" | "40001" | "40P01")
                || db.message().contains("database is locked")
        })
}

/// A transaction on whichever backend is in use.
pub type Tx = sqlx::Transaction<'static, sqlx::Any>;
/// A statement with its values bound, on either database.
pub type Query<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Clone)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
    /// The database file when the backend is SQLite.
    sqlite_path: Option<std::path::PathBuf>,
    /// SQLite takes one writer at a time. Writers that find the lock taken wait in SQLite's busy handler,
    /// which sleeps and retries with growing pauses (up to 100 ms) and serves them in no order: at a few
    /// hundred writes a second the unlucky ones wait half a second, each holding a pooled connection that
    /// readers then lack. Writers of this process queue here instead, first come first served, before they
    /// take a connection; the busy timeout remains for other processes (a CLI beside the server).
    write_gate: Arc<tokio::sync::Mutex<()>>,
}

/// Pause after one chunk of a long background write (an import's staging, the comparing of queued people),
/// for a quarter of the time the chunk took, between 5 and 100 ms. Writers of this process queue in order,
/// but a writer in another process (the server beside a `haven import`) waits in SQLite's busy handler,
/// asleep between tries: a background writer that took the lock again at once would keep it out until its
/// bounded wait ran out.
pub async fn let_others_write(chunk_began: std::time::Instant) {
    const MIN: std::time::Duration = std::time::Duration::from_millis(5);
    const MAX: std::time::Duration = std::time::Duration::from_millis(100);
    tokio::time::sleep((chunk_began.elapsed() / 4).clamp(MIN, MAX)).await;
}

/// A writer's turn (see [`Db::write_turn`]); the next writer's turn begins when it is dropped.
pub type WriteTurn = Option<tokio::sync::OwnedMutexGuard<()>>;

/// A migration, written once for both databases (`migrations/NNNN_name.sql`) and rendered for each by
/// [`render`].
struct Migration {
    version: i64,
    name: &'static str,
    sql: &'static str,
}

/// A migration's SQL for a backend. The source writes ciphertext columns as `BYTES` (BLOB on SQLite, BYTEA on
/// PostgreSQL), sequence keys as `BIGINT PRIMARY KEY` (INTEGER PRIMARY KEY on SQLite, which makes the
/// column the table's row id), a table kept as its primary key's b-tree as `) WITHOUT ROWID;` (dropped for
/// PostgreSQL) and `LOCAL_DAY(column)` for the day in Viet Nam (UTC+7, no daylight saving) of
/// an instant in milliseconds, as 'YYYY-MM-DD'; everything else is the subset both accept. Written by hand:
/// four substitutions need no templating crate.
fn render(sql: &str, backend: Backend) -> String {
    let sql = local_day(sql, backend);
    let sql = sql.as_str();
    let bytes = match backend {
        Backend::Sqlite => "BLOB",
        Backend::Postgres => "BYTEA",
    };
    let mut out = String::with_capacity(sql.len());
    let mut rest = sql;
    while let Some(at) = rest.find("BYTES") {
        let before = rest[..at].chars().next_back();
        let after = rest[at + 5..].chars().next();
        let word = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
        out.push_str(&rest[..at]);
        out.push_str(if word(before) || word(after) { "BYTES" } else { bytes });
        rest = &rest[at + 5..];
    }
    out.push_str(rest);
    match backend {
        Backend::Sqlite => out.replace("BIGINT PRIMARY KEY", "INTEGER PRIMARY KEY"),
        // A table is always a heap with its indexes in PostgreSQL.
        Backend::Postgres => out.replace(") WITHOUT ROWID;", ");"),
    }
}

/// Replace each `LOCAL_DAY(column)` (a plain column name) with the backend's expression for its day in Viet
/// Nam.
fn local_day(sql: &str, backend: Backend) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut rest = sql;
    while let Some(at) = rest.find("LOCAL_DAY(") {
        out.push_str(&rest[..at]);
        let after = &rest[at + "LOCAL_DAY(".len()..];
        let Some(close) = after.find(')') else {
            out.push_str(&rest[at..]);
            return out;
        };
        let column = after[..close].trim();
        out.push_str(&match backend {
            Backend::Sqlite => format!("date({column} / 1000 + 25200, 'unixepoch')"),
            Backend::Postgres => {
                format!("to_char(to_timestamp({column} / 1000 + 25200) AT TIME ZONE 'UTC', 'YYYY-MM-DD')")
            }
        });
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    out
}

/// Append-only once landed: add a new entry, never edit an old one.
const MIGRATIONS: &[Migration] = &[
    Migration { version: 1, name: "platform", sql: include_str!("../migrations/0001_platform.sql") },
    Migration { version: 2, name: "reports", sql: include_str!("../migrations/0002_reports.sql") },
    Migration { version: 3, name: "case_people", sql: include_str!("../migrations/0003_case_people.sql") },
    Migration { version: 4, name: "open_reports", sql: include_str!("../migrations/0004_open_reports.sql") },
    Migration { version: 5, name: "victims", sql: include_str!("../migrations/0005_victims.sql") },
    Migration { version: 6, name: "consent_grants", sql: include_str!("../migrations/0006_consent_grants.sql") },
    Migration { version: 7, name: "referrals", sql: include_str!("../migrations/0007_referrals.sql") },
    Migration { version: 8, name: "victim_context", sql: include_str!("../migrations/0008_victim_context.sql") },
    Migration { version: 9, name: "reintegration", sql: include_str!("../migrations/0009_reintegration.sql") },
    Migration { version: 10, name: "scoped_grants", sql: include_str!("../migrations/0010_scoped_grants.sql") },
    Migration { version: 11, name: "person_details", sql: include_str!("../migrations/0011_person_details.sql") },
    Migration { version: 12, name: "registers", sql: include_str!("../migrations/0012_registers.sql") },
    Migration { version: 13, name: "import_uploads", sql: include_str!("../migrations/0013_import_uploads.sql") },
    Migration { version: 14, name: "blind_templates", sql: include_str!("../migrations/0014_blind_templates.sql") },
    Migration { version: 15, name: "plan", sql: include_str!("../migrations/0015_plan.sql") },
    Migration {
        version: 16,
        name: "statistics_cooperation",
        sql: include_str!("../migrations/0016_statistics_cooperation.sql"),
    },
    Migration { version: 17, name: "handovers", sql: include_str!("../migrations/0017_handovers.sql") },
    Migration {
        version: 18,
        name: "classification_day",
        sql: include_str!("../migrations/0018_classification_day.sql"),
    },
    Migration { version: 19, name: "screening_link", sql: include_str!("../migrations/0019_screening_link.sql") },
    Migration { version: 20, name: "one_person", sql: include_str!("../migrations/0020_one_person.sql") },
    Migration { version: 21, name: "case_code_lookup", sql: include_str!("../migrations/0021_case_code_lookup.sql") },
    Migration { version: 22, name: "consent_agency", sql: include_str!("../migrations/0022_consent_agency.sql") },
    Migration { version: 23, name: "login_throttle", sql: include_str!("../migrations/0023_login_throttle.sql") },
    Migration { version: 24, name: "role_requests", sql: include_str!("../migrations/0024_role_requests.sql") },
    Migration { version: 25, name: "case_lists", sql: include_str!("../migrations/0025_case_lists.sql") },
    Migration { version: 26, name: "match_queue", sql: include_str!("../migrations/0026_match_queue.sql") },
    Migration { version: 27, name: "import_stages", sql: include_str!("../migrations/0027_import_stages.sql") },
    Migration { version: 28, name: "plan_guard", sql: include_str!("../migrations/0028_plan_guard.sql") },
    Migration { version: 29, name: "import_runs", sql: include_str!("../migrations/0029_import_runs.sql") },
];

/// The SQLite settings of a connection: WAL lets readers run beside the one writer; synchronous=FULL makes
/// every acknowledged commit durable across power loss, not only a process crash; the busy timeout is
/// [`BUSY_TIMEOUT`]. Reads go through a memory map of the file (up to 1 GiB, shared by all connections through
/// the OS cache) instead of a copy into each connection's small page cache: at a million records a search
/// opens pages all over the file.
fn sqlite_pragmas(writable: bool) -> String {
    let common = format!("PRAGMA foreign_keys = ON; PRAGMA busy_timeout = {};", BUSY_TIMEOUT.as_millis());
    if writable {
        format!("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; {common} PRAGMA mmap_size = 1073741824; PRAGMA cache_size = -65536;")
    } else {
        common
    }
}

impl Db {
    /// Connect to `sqlite://path` (created if missing) or `postgres://...`.
    pub async fn connect(url: &str) -> anyhow::Result<Db> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            bail!("unsupported database URL scheme (use sqlite:// or postgres://)");
        };
        let url = match backend {
            Backend::Sqlite if !url.contains('?') => format!("{url}?mode=rwc"),
            _ => url.to_owned(),
        };
        let read_only = url.contains("mode=ro");
        let options = AnyConnectOptions::from_str(&url).context("parsing the database URL")?;
        let pool = AnyPoolOptions::new()
            .max_connections(match backend {
                Backend::Sqlite => 8,
                Backend::Postgres => 16,
            })
            .acquire_timeout(Duration::from_secs(30))
            // A ping before every use doubles the round trips of short queries; a broken connection
            // surfaces as an error on the query itself instead.
            .test_before_acquire(false)
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite && read_only {
                        conn.execute(sqlite_pragmas(false).as_str()).await?;
                    } else if backend == Backend::Sqlite {
                        conn.execute(sqlite_pragmas(true).as_str()).await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await
            .context("connecting to the database")?;
        let sqlite_path = (backend == Backend::Sqlite).then(|| {
            let rest = url.trim_start_matches("sqlite:").trim_start_matches("//");
            std::path::PathBuf::from(rest.split('?').next().unwrap_or(rest))
        });
        Ok(Db { pool, backend, sqlite_path, write_gate: Arc::default() })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Wait for this process's turn to write: on SQLite, until the previous writer's turn ends, in order of
    /// arrival; on PostgreSQL at once (rows are locked one by one there). Hold it until the transaction ends.
    /// Fails after as long as SQLite's busy timeout, as a writer waiting on SQLite would.
    pub async fn write_turn(&self) -> anyhow::Result<WriteTurn> {
        match self.backend {
            Backend::Sqlite => tokio::time::timeout(BUSY_TIMEOUT, self.write_gate.clone().lock_owned())
                .await
                .map(Some)
                .map_err(|_| anyhow::Error::new(Busy)),
            Backend::Postgres => Ok(None),
        }
    }

    /// Begin a transaction that will write. On SQLite it takes the write lock at once (BEGIN IMMEDIATE) so
    /// two writers queue on the busy timeout instead of failing when one upgrades from reading.
    pub async fn begin_write(&self) -> anyhow::Result<Tx> {
        self.begin_write_unbounded().await.map_err(|e| if is_busy(&e) { e.context(Busy) } else { e })
    }

    async fn begin_write_unbounded(&self) -> anyhow::Result<Tx> {
        let tx = match self.backend {
            // Begun in a task of its own, which runs to the end even when the caller is dropped (a client
            // that hung up). sqlx 0.8's SQLite driver, after a custom BEGIN succeeds, waits once more
            // before it hands back the transaction; a caller dropped in that wait leaves the connection in
            // the pool holding the write lock, and every writer after it fails. Finished in a task, the
            // transaction is always handed over, and rolled back when dropped unused.
            Backend::Sqlite => {
                let pool = self.pool.clone();
                tokio::spawn(async move { pool.begin_with("BEGIN IMMEDIATE").await }).await??
            }
            Backend::Postgres => {
                let mut tx = self.pool.begin().await?;
                // Writers wait on one another's row locks (every command locks the audit log's head) no
                // longer than a SQLite writer would.
                sqlx::query(&format!("SET LOCAL lock_timeout = '{}ms'", BUSY_TIMEOUT.as_millis()))
                    .execute(&mut *tx)
                    .await?;
                tx
            }
        };
        Ok(tx)
    }

    /// A read-only transaction that sees one snapshot of the whole database.
    pub async fn begin_snapshot(&self) -> anyhow::Result<Tx> {
        let tx = match self.backend {
            Backend::Sqlite => self.pool.begin().await?,
            Backend::Postgres => self.pool.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY").await?,
        };
        Ok(tx)
    }

    /// The SQLite database file, for the few readers that go straight to the C library.
    pub fn sqlite_path(&self) -> Option<std::path::PathBuf> {
        self.sqlite_path.clone()
    }

    /// The clause that locks a selected row until the transaction ends (SQLite's BEGIN IMMEDIATE has already
    /// locked the whole database).
    pub fn for_update(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR UPDATE",
        }
    }

    /// The clause that locks selected rows and passes over those another transaction has locked, for work
    /// queues read by several servers (SQLite has one writer at a time: nothing to pass over).
    pub fn skip_locked(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        }
    }

    pub async fn migrate(&self) -> anyhow::Result<()> {
        self.pool
            .execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, \
                 name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
            )
            .await?;
        for m in MIGRATIONS {
            let mut tx = self.begin_write().await?;
            let done: Option<i64> = sqlx::query_scalar("SELECT version FROM schema_migrations WHERE version = $1")
                .bind(m.version)
                .fetch_optional(&mut *tx)
                .await?;
            if done.is_some() {
                continue;
            }
            let sql = render(m.sql, self.backend);
            sqlx::raw_sql(&sql)
                .execute(&mut *tx)
                .await
                .with_context(|| format!("migration {} {}", m.version, m.name))?;
            sqlx::query("INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)")
                .bind(m.version)
                .bind(m.name)
                .bind(now_millis())
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            tracing::info!(version = m.version, name = m.name, "migration applied");
        }
        Ok(())
    }

    /// Tables and their columns with each column's kind (`integer`, `text`, `bytes`, ...) and whether it may
    /// be null, sorted, to compare the two backends' schemas.
    pub async fn schema(&self) -> anyhow::Result<Vec<(String, Vec<String>)>> {
        let sql = match self.backend {
            Backend::Sqlite => {
                "SELECT m.name, p.name, lower(p.type), CASE WHEN p.\"notnull\" = 1 OR p.pk > 0 THEN 1 ELSE 0 END \
                 FROM sqlite_master m JOIN pragma_table_info(m.name) p \
                 WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' ORDER BY m.name, p.name"
            }
            Backend::Postgres => {
                "SELECT table_name::text, column_name::text, data_type::text, \
                 CASE WHEN is_nullable = 'NO' THEN 1 ELSE 0 END FROM information_schema.columns \
                 WHERE table_schema = current_schema() ORDER BY table_name, column_name"
            }
        };
        // The same declared type reads differently on each backend.
        let kind = |t: &str| {
            match t {
                "integer" | "bigint" => "integer",
                "blob" | "bytea" => "bytes",
                "double precision" | "real" | "float" => "real",
                other => other,
            }
            .to_owned()
        };
        let rows: Vec<(String, String, String, i32)> = sqlx::query_as(sql).fetch_all(&self.pool).await?;
        let mut out: Vec<(String, Vec<String>)> = Vec::new();
        for (t, c, ty, not_null) in rows {
            let col = format!("{c} {}{}", kind(&ty), if not_null == 1 { " not null" } else { "" });
            match out.last_mut() {
                Some((last, cols)) if *last == t => cols.push(col),
                _ => out.push((t, vec![col])),
            }
        }
        Ok(out)
    }

    /// A consistent copy of the whole database while others keep writing (SQLite's VACUUM INTO reads one
    /// snapshot). PostgreSQL deployments back up with pg_dump.
    pub async fn backup_to(&self, out: &std::path::Path) -> anyhow::Result<()> {
        if self.backend != Backend::Sqlite {
            bail!("backup of PostgreSQL is done with pg_dump (see the README)");
        }
        let path = out.to_str().context("backup path is not UTF-8")?;
        // The copy is made in an empty file created for the owner alone (VACUUM INTO accepts an empty file):
        // it holds ciphertext, but its metadata is nobody else's business either.
        crate::files::create_private(out, false).with_context(|| format!("creating {}", out.display()))?;
        if let Err(e) = sqlx::query("VACUUM INTO $1").bind(path).execute(&self.pool).await {
            let _ = std::fs::remove_file(out);
            return Err(e.into());
        }
        Ok(())
    }

    /// Flush the WAL into the main file (used before copying the file and by tests that read it raw).
    pub async fn checkpoint(&self) -> anyhow::Result<()> {
        if self.backend == Backend::Sqlite {
            self.pool.execute("PRAGMA wal_checkpoint(TRUNCATE)").await?;
        }
        Ok(())
    }

    /// Refresh the planner's statistics (and, on PostgreSQL, the visibility map that index-only scans rely on),
    /// as autovacuum or a nightly `ANALYZE` would after a bulk load.
    pub async fn analyze(&self) -> anyhow::Result<()> {
        match self.backend {
            Backend::Sqlite => {
                self.pool.execute("ANALYZE").await?;
            }
            Backend::Postgres => {
                for table in ["reports", "report_events", "criminal_cases", "case_reports"] {
                    self.pool.execute(format!("VACUUM (ANALYZE) {table}").as_str()).await?;
                }
            }
        }
        Ok(())
    }

    /// Whether the database already holds data keys (so a missing key file is an error, not a first start).
    pub async fn has_data_keys(&self) -> anyhow::Result<bool> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM data_keys").fetch_one(&self.pool).await?;
        Ok(n > 0)
    }

    pub async fn ping(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.pool).await.is_ok()
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

pub(crate) fn now_millis() -> i64 {
    haven_domain::time::to_millis(time::OffsetDateTime::now_utc())
}

#[cfg(test)]
mod tests {
    use super::{is_busy, render, Backend, Busy, MIGRATIONS};

    /// A busy writer is told apart from a failure however it was wrapped.
    #[test]
    fn busy_is_found_as_the_error_as_context_and_under_context() {
        assert!(is_busy(&anyhow::Error::new(Busy)));
        assert!(is_busy(&anyhow::anyhow!("database is locked").context(Busy)));
        assert!(is_busy(&anyhow::Error::new(Busy).context("writing a report")));
        assert!(!is_busy(&anyhow::anyhow!("no such table: persons")));
    }

    /// Every migration file is registered, in order, under the version and name its file carries: a file
    /// written and forgotten would never run.
    #[test]
    fn every_migration_file_is_registered() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations");
        let mut files: Vec<String> = std::fs::read_dir(dir)
            .expect("migrations folder")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .filter(|f| f.ends_with(".sql"))
            .collect();
        files.sort();
        let registered: Vec<String> = MIGRATIONS.iter().map(|m| format!("{:04}_{}.sql", m.version, m.name)).collect();
        assert_eq!(files, registered);
    }

    #[test]
    fn a_local_day_is_rendered_for_each_backend() {
        let sql = "UPDATE r SET d = LOCAL_DAY(at) WHERE at IS NOT NULL;";
        assert_eq!(
            render(sql, Backend::Sqlite),
            "UPDATE r SET d = date(at / 1000 + 25200, 'unixepoch') WHERE at IS NOT NULL;"
        );
        assert_eq!(
            render(sql, Backend::Postgres),
            "UPDATE r SET d = to_char(to_timestamp(at / 1000 + 25200) AT TIME ZONE 'UTC', 'YYYY-MM-DD') WHERE at IS NOT NULL;"
        );
    }

    #[test]
    fn each_backend_gets_its_own_types() {
        let sql = "CREATE TABLE t (seq BIGINT PRIMARY KEY, secret BYTES NOT NULL, note BYTES,\n  BYTES_SEEN TEXT, x_BYTES TEXT);";
        assert_eq!(
            render(sql, Backend::Sqlite),
            "CREATE TABLE t (seq INTEGER PRIMARY KEY, secret BLOB NOT NULL, note BLOB,\n  BYTES_SEEN TEXT, x_BYTES TEXT);"
        );
        assert_eq!(
            render(sql, Backend::Postgres),
            "CREATE TABLE t (seq BIGINT PRIMARY KEY, secret BYTEA NOT NULL, note BYTEA,\n  BYTES_SEEN TEXT, x_BYTES TEXT);"
        );
        let sql = "CREATE TABLE k (key TEXT, id TEXT, PRIMARY KEY (key, id)) WITHOUT ROWID;";
        assert_eq!(render(sql, Backend::Sqlite), sql);
        assert_eq!(render(sql, Backend::Postgres), "CREATE TABLE k (key TEXT, id TEXT, PRIMARY KEY (key, id));");
        for m in MIGRATIONS {
            let code = |sql: String| sql.lines().filter(|l| !l.trim_start().starts_with("--")).collect::<String>();
            let (lite, pg) = (code(render(m.sql, Backend::Sqlite)), code(render(m.sql, Backend::Postgres)));
            assert!(!lite.contains("BYTEA") && !pg.contains("BLOB"), "{}: a backend's own type in the source", m.name);
        }
    }
}
