//! What every command needs: logging, the data folder (mode 0700) and its lock, the key file, opening the
//! store, reading a password, serving with a graceful shutdown, and the demo password.

use std::io::BufRead;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context};
use haven_domain::time::SystemClock;
use haven_store::crypto::{key_path, KeyFile};
use haven_store::{keys, Db, Store};
use haven_web::{AppState, Config};

use crate::demo;

use super::*;

/// Logs on standard error: `HAVEN_LOG` filters them (`info,sqlx=warn` by default), `HAVEN_LOG_FORMAT=json`
/// writes one JSON object a line (with the request's span, so its id, method and path) for a log collector,
/// and colour codes are written only to a terminal.
pub fn init_logging() {
    use std::io::IsTerminal;
    let filter = tracing_subscriber::EnvFilter::try_from_env("HAVEN_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let json = std::env::var("HAVEN_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    let logs = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if json {
        logs.json().with_current_span(true).with_span_list(false).init();
    } else {
        logs.with_ansi(std::io::stderr().is_terminal()).init();
    }
}

impl Global {
    pub fn url(&self) -> String {
        self.database.clone().unwrap_or_else(|| haven_store::sqlite_url(&self.data))
    }
}

pub(super) fn ensure_data_dir(dir: &Path) -> anyhow::Result<()> {
    if !dir.exists() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        }
    }
    Ok(())
}

/// The key file, created with a new key on first use of an empty database.
pub(super) async fn key_file(g: &Global) -> anyhow::Result<KeyFile> {
    ensure_data_dir(&g.data)?;
    let path = key_path(&g.data);
    let from_env = std::env::var("HAVEN_MASTER_KEY").is_ok() && std::env::var("HAVEN_AUDIT_KEY").is_ok();
    if !from_env && !path.exists() && !crate::cli::next_exists(&g.data) {
        let db = Db::connect(&g.url()).await?;
        let has_keys = sqlx_has_keys(&db).await;
        db.close().await;
        if has_keys {
            bail!(
                "the database holds encrypted data but the key file {} is missing: restore it from your key backup",
                path.display()
            );
        }
        KeyFile::generate().write(&path)?;
        eprintln!("haven: created a new key file at {} (readable by you only). Keep a copy offline: without it the data cannot be read.", path.display());
    }
    keys::load_key_file(&g.data, &g.url()).await
}

/// The data folder's lock: servers hold it shared for their lifetime; key rotation and restore need it alone.
pub(super) fn lock_data(dir: &Path, exclusive: bool) -> anyhow::Result<std::fs::File> {
    ensure_data_dir(dir)?;
    let f = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(dir.join("haven.lock"))?;
    if exclusive {
        match f.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                bail!("a Haven server is running on {}: stop it first", dir.display())
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(e.into()),
        }
    } else {
        f.lock_shared()?;
    }
    Ok(f)
}

pub(super) fn next_exists(dir: &Path) -> bool {
    haven_store::crypto::next_key_path(dir).exists()
}

pub(super) async fn sqlx_has_keys(db: &Db) -> bool {
    db.has_data_keys().await.unwrap_or(false)
}

pub(super) async fn open(g: &Global) -> anyhow::Result<(Store, KeyFile)> {
    let kf = key_file(g).await?;
    let store = Store::open(&g.url(), &kf, Arc::new(SystemClock)).await?;
    // The database holds ciphertext only, but its metadata is still nobody else's business.
    #[cfg(unix)]
    if let Some(path) = store.db.sqlite_path() {
        use std::os::unix::fs::PermissionsExt;
        for p in [path.clone(), path.with_extension("db-wal"), path.with_extension("db-shm")] {
            if p.exists() {
                std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600))?;
            }
        }
    }
    Ok((store, kf))
}

pub(super) fn read_password() -> anyhow::Result<String> {
    if let Ok(p) = std::env::var("HAVEN_PASSWORD") {
        return Ok(p);
    }
    eprintln!("Password (one line on standard input):");
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

/// How often the server adds the audit head to the witness file (when it changed).
const WITNESS_EVERY: std::time::Duration = std::time::Duration::from_secs(60);
/// How often the server compares the people left queued for matching.
const MATCH_QUEUE_EVERY: std::time::Duration = std::time::Duration::from_secs(60);
/// An import stage older than this was left by a stopped process: the largest import stages in minutes.
const STAGE_LEFT_AFTER: std::time::Duration = std::time::Duration::from_secs(6 * 3600);

pub(super) async fn serve(store: Store, net: super::Net, witness: Option<PathBuf>) -> anyhow::Result<()> {
    if let Some(path) = &witness {
        // Fail at start, not a minute later: the file must be writable and, if it exists, a valid witness.
        store.witness(path).await.with_context(|| format!("writing the audit witness {}", path.display()))?;
        let (store, path) = (store.clone(), path.clone());
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(WITNESS_EVERY);
            loop {
                tick.tick().await;
                if let Err(e) = store.witness(&path).await {
                    tracing::error!(error = %e, "could not write the audit witness");
                }
            }
        });
    }
    {
        // People queued for matching and not yet compared (an import cut short by a stop, a CLI import's
        // queue) are compared in the background, now and every minute; the stages of imports a stopped
        // process left unpublished are dropped once they are older than any import runs.
        let store = store.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(MATCH_QUEUE_EVERY);
            loop {
                tick.tick().await;
                match store.drain_match_queue(&|_| {}).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(persons = n, "queued persons compared with the province's records"),
                    Err(e) => tracing::warn!(error = %e, "comparing queued persons failed; they stay queued"),
                }
                match store.sweep_stages(STAGE_LEFT_AFTER).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(stages = n, "unpublished import stages dropped"),
                    Err(e) => tracing::warn!(error = %e, "dropping unpublished import stages failed"),
                }
            }
        });
    }
    if let Some(dir) = net.backup_to.clone() {
        if store.db.backend() != haven_store::Backend::Sqlite {
            bail!("--backup-to is for the embedded SQLite database: back PostgreSQL up with pg_dump");
        }
        // A backup when the server starts, then every --backup-every hours; a failed one is logged and
        // tried again at the next.
        let (store, keep) = (store.clone(), net.backup_keep as usize);
        let every = std::time::Duration::from_secs(u64::from(net.backup_every) * 3600);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tick.tick().await;
                match haven_store::backups::backup_into(&store.db, &dir, keep, store.now()).await {
                    Ok((out, removed)) => {
                        tracing::info!(file = %out.display(), removed = removed.len(), "backup written")
                    }
                    Err(e) => tracing::error!(error = %e, folder = %dir.display(), "the scheduled backup failed"),
                }
            }
        });
    }
    let metrics_token = std::env::var("HAVEN_METRICS_TOKEN").ok().filter(|t| !t.is_empty());
    if metrics_token.as_ref().is_some_and(|t| t.chars().count() < 16) {
        bail!("HAVEN_METRICS_TOKEN is too short: give at least 16 characters (for example 32 random ones)");
    }
    let config = Config {
        tls: net.tls,
        province: demo::PROVINCE.into(),
        trusted_proxies: net.trusted_proxies,
        // From the environment only: a token on the command line would show in every process listing.
        metrics_token,
    };
    let state = AppState::new(store.clone(), config);
    let app = haven_web::router(state);
    let listen = net.listen;
    let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| format!("listening on {listen}"))?;
    let addr = listener.local_addr()?;
    println!("Haven is running at http://{addr}/");
    // Each request knows the address it came from (log-in throttling counts failures per account and source).
    axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown())
        .await?;
    if let Some(path) = &witness {
        store.witness(path).await?;
    }
    store.db.close().await;
    Ok(())
}

pub(super) async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}

/// This process's peak resident memory in KiB (Linux: VmHWM in /proc/self/status).
pub fn peak_memory() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The `p`th percentile (0 to 100) of timings, nearest rank.
pub(super) fn percentile(v: &[f64], p: f64) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    v.get(((v.len().max(1) as f64 - 1.0) * p / 100.0).round() as usize).copied().unwrap_or(f64::NAN)
}

/// The demo password: HAVEN_DEMO_PASSWORD, or a random one kept in the data folder (never printed).
pub(super) fn demo_password(data: &Path) -> anyhow::Result<(String, Option<PathBuf>)> {
    if let Ok(p) = std::env::var("HAVEN_DEMO_PASSWORD") {
        return Ok((p, None));
    }
    let path = data.join("demo-password.txt");
    if let Ok(p) = std::fs::read_to_string(&path) {
        return Ok((p.trim().to_owned(), Some(path)));
    }
    let p = haven_store::accounts::new_secret("")[..16].to_owned();
    use std::io::Write;
    haven_store::files::create_private(&path, false)?.write_all(format!("{p}\n").as_bytes())?;
    Ok((p, Some(path)))
}

pub(super) async fn user_by_name(store: &Store, name: &str) -> anyhow::Result<haven_store::accounts::User> {
    store.user_by_name(name).await?.with_context(|| format!("no user named {name}"))
}

/// The witness file, if one is configured; refused inside the data folder, where it would be rolled back with
/// the database it is meant to watch.
pub(super) fn witness_path(g: &Global) -> anyhow::Result<Option<PathBuf>> {
    let Some(path) = &g.audit_witness else { return Ok(None) };
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let folder = std::fs::canonicalize(parent)
        .with_context(|| format!("the folder of the witness file {} does not exist", path.display()))?;
    if let Ok(data) = std::fs::canonicalize(&g.data) {
        if folder.starts_with(&data) {
            anyhow::bail!("keep the witness file outside the data folder {}: another disk or share", g.data.display());
        }
    }
    Ok(Some(path.clone()))
}

/// Check the log against the witness file and the codes given; `Ok(Ok(words))` says what was checked (to add
/// to the verdict), `Ok(Err(why))` that the log was rolled back or rewritten.
pub(super) async fn audit_against_witness(
    g: &Global,
    store: &Store,
    codes: &[String],
) -> anyhow::Result<Result<String, String>> {
    let mut said = String::new();
    if let Some(path) = witness_path(g)? {
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
        };
        let marks = haven_store::witness::parse(&text, &store.verifying_key()).map_err(anyhow::Error::msg)?;
        let report = store.check_witness(&marks).await?;
        if let Some((_, why)) = report.broken {
            return Ok(Err(why));
        }
        said.push_str(&format!(", {} witness marks agree", report.marks - report.explained_by_restore));
        if report.explained_by_restore > 0 {
            said.push_str(&format!(" ({} older ones undone by a recorded restore)", report.explained_by_restore));
        }
    }
    for code in codes {
        let (seq, hex) = haven_store::witness::parse_code(code)
            .with_context(|| format!("{code} is not a short code (like 123456:9F3A-77C2-01BD)"))?;
        if let Some(why) = store.check_code(seq, &hex).await? {
            return Ok(Err(why));
        }
    }
    if !codes.is_empty() {
        said.push_str(&format!(", {} paper codes agree", codes.len()));
    }
    Ok(Ok(said))
}
