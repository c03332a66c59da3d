//! Command-line interface. Every command takes `--data DIR` and `--database URL`; the key file lives in the
//! data folder (or comes from HAVEN_MASTER_KEY and HAVEN_AUDIT_KEY).

use std::io::BufRead;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{bail, Context};
use clap::{Args, Parser, Subcommand};
use haven_domain::account::{check_password, valid_username};
use haven_domain::time::SystemClock;
use haven_domain::Role;
use haven_store::accounts::{self, NewUser};
use haven_store::crypto::{key_path, KeyFile};
use haven_store::{keys, Actor, Db, Store};
use haven_web::{AppState, Config};

use crate::demo;

#[derive(Parser)]
#[command(
    name = "haven",
    version,
    about = "Haven: a victim-centred case system for preventing and combating human trafficking"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Args, Clone)]
pub struct Global {
    /// Folder holding the database (SQLite) and the key file.
    #[arg(long, global = true, env = "HAVEN_DATA", default_value = "./haven-data")]
    pub data: PathBuf,
    /// Database URL: sqlite://FILE (default: haven.db in the data folder) or postgres://...
    #[arg(long, global = true, env = "HAVEN_DATABASE_URL")]
    pub database: Option<String>,
}

#[derive(Subcommand)]
pub enum Command {
    /// Serve the pages and the API.
    Serve {
        /// Address to listen on.
        #[arg(long, env = "HAVEN_LISTEN", default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// Haven is reached over HTTPS (through a proxy): mark cookies Secure and send HSTS.
        #[arg(long, env = "HAVEN_TLS")]
        tls: bool,
    },
    /// Load the demo province into an empty database, then serve it.
    Demo {
        #[arg(long, env = "HAVEN_LISTEN", default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// Number of demo person records.
        #[arg(long, default_value_t = 2000)]
        scale: u64,
        /// Number of reports over the past year (default: a tenth of the person records, at least 20); up to
        /// 1,000,000 for benchmarks.
        #[arg(long, value_parser = clap::value_parser!(u64).range(0..=1_000_000))]
        reports: Option<u64>,
        /// Load the data and exit without serving.
        #[arg(long)]
        load_only: bool,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Manage user accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage encryption keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Check the audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Write a consistent copy of the database while Haven runs (SQLite; use pg_dump for PostgreSQL).
    Backup {
        #[arg(long)]
        out: PathBuf,
    },
    /// Replace the database with a backup (stop the server first). The current file is kept beside it.
    Restore { file: PathBuf },
    /// Measure Haven against its peers (see docs/benchmarks.md).
    #[command(subcommand)]
    Bench(BenchCommand),
    /// Link two CSV files one-to-one (no database needed) and write left id, right id, probability and an
    /// explanation for every linked pair.
    Match {
        #[arg(long)]
        left: PathBuf,
        #[arg(long)]
        right: PathBuf,
        /// The column of the left file that identifies a row.
        #[arg(long)]
        left_id: String,
        #[arg(long)]
        right_id: String,
        /// KIND[/LABEL]=LEFTCOL[+COL...]:RIGHTCOL[+COL...], repeated; KIND is name, dob, sex, place, idnum,
        /// text or exact. Leave a side empty when its file lacks the field.
        #[arg(long = "field", required = true)]
        fields: Vec<String>,
        #[arg(long)]
        out: PathBuf,
        /// Pairs at or above this probability are linked.
        #[arg(long, default_value_t = 0.5)]
        threshold: f64,
        /// CSV of renamed or merged places (old name, district, new name): old names compare as new ones.
        #[arg(long)]
        place_aliases: Option<PathBuf>,
    },
    /// Import a spreadsheet (XLSX or CSV) into a register: every row checked first, then all rows or none.
    Import {
        /// absentees or returnees.
        #[arg(long)]
        kind: String,
        #[arg(long)]
        file: PathBuf,
        /// The user importing: the records belong to their agency, and the audit log names them.
        #[arg(long)]
        user: String,
        /// Absentees: the commune of a list without a commune column.
        #[arg(long)]
        commune: Option<String>,
        /// Returnees: the handover batch.
        #[arg(long)]
        batch: Option<String>,
        /// CSV text encoding: utf-8, utf-16le, utf-16be, windows-1258 or vni (default: detected).
        #[arg(long)]
        encoding: Option<String>,
        /// FIELD=COLUMN (the header, or the column's number from 1), repeated; default: remembered or guessed.
        #[arg(long = "map")]
        map: Vec<String>,
        /// Check every row and stop.
        #[arg(long)]
        check: bool,
    },
}

#[derive(Subcommand)]
pub enum BenchCommand {
    /// A typical command (encrypt + insert + audit + commit) against raw SQLite insert + commit.
    Write {
        #[arg(long, default_value_t = 4000)]
        n: u64,
    },
    /// Append entries to a scratch audit log, then time its verification.
    Audit {
        #[arg(long, default_value_t = 1_000_000)]
        entries: u64,
    },
    /// The five indicators for a year, and one agency's overdue list, over N reports in a scratch database
    /// (SQLite, or the empty PostgreSQL database given with --database).
    Indicators {
        #[arg(long, default_value_t = 1_000_000)]
        reports: u64,
    },
    /// Fill the data folder's (empty) database with the demo agencies, N victim cases and one case with 50
    /// steps, 30 supports and 20 visits; time an agency's "due this week" list, and print the big case's page
    /// for `bench/victims.sh` to load with 16 clients.
    Victims {
        #[arg(long, default_value_t = 100_000)]
        cases: u64,
    },
    /// Write a linkage test set as two CSV files in OUT (no database): `synthetic` (N people on both sides, with
    /// typos on the right) or `vietnamese` (an absentee register and a returnee list, 60% of whom are absentees
    /// written the way foreign lists write them).
    LinkageData {
        #[arg(long)]
        set: String,
        #[arg(long)]
        left: usize,
        /// Only for `vietnamese`.
        #[arg(long, default_value_t = 0)]
        right: usize,
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
}

#[derive(Subcommand)]
pub enum UserCommand {
    /// Create a user; the password is read from HAVEN_PASSWORD or the first line of standard input.
    Add {
        name: String,
        /// Agency code, e.g. police.
        #[arg(long)]
        agency: String,
        /// Role: admin, head, officer, clerk, analyst, auditor (repeat for several).
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
        #[arg(long)]
        display_name: Option<String>,
    },
    /// Set a new password (from HAVEN_PASSWORD or standard input); the user's sessions end.
    ResetPassword { name: String },
    /// Disable an account: its sessions end and its API tokens are revoked.
    Disable { name: String },
    /// Print a new API token for the user.
    Token {
        name: String,
        #[arg(long, default_value = "cli")]
        label: String,
    },
}

#[derive(Subcommand)]
pub enum KeysCommand {
    /// New master key and field key; every sealed value is re-encrypted. Stop the server first.
    Rotate,
}

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Recompute the hash chain and check the signed checkpoints; names the first broken entry.
    Verify,
}

pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("HAVEN_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
}

impl Global {
    pub fn url(&self) -> String {
        self.database.clone().unwrap_or_else(|| haven_store::sqlite_url(&self.data))
    }
}

fn ensure_data_dir(dir: &Path) -> anyhow::Result<()> {
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
async fn key_file(g: &Global) -> anyhow::Result<KeyFile> {
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
fn lock_data(dir: &Path, exclusive: bool) -> anyhow::Result<std::fs::File> {
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

fn next_exists(dir: &Path) -> bool {
    haven_store::crypto::next_key_path(dir).exists()
}

async fn sqlx_has_keys(db: &Db) -> bool {
    db.has_data_keys().await.unwrap_or(false)
}

async fn open(g: &Global) -> anyhow::Result<(Store, KeyFile)> {
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

fn read_password() -> anyhow::Result<String> {
    if let Ok(p) = std::env::var("HAVEN_PASSWORD") {
        return Ok(p);
    }
    eprintln!("Password (one line on standard input):");
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

async fn serve(store: Store, listen: SocketAddr, tls: bool) -> anyhow::Result<()> {
    let state = AppState::new(store.clone(), Config { tls, province: demo::PROVINCE.into() });
    let app = haven_web::router(state);
    let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| format!("listening on {listen}"))?;
    let addr = listener.local_addr()?;
    println!("Haven is running at http://{addr}/");
    axum::serve(listener, app).with_graceful_shutdown(shutdown()).await?;
    store.db.close().await;
    Ok(())
}

async fn shutdown() {
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
fn percentile(v: &[f64], p: f64) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    v.get(((v.len().max(1) as f64 - 1.0) * p / 100.0).round() as usize).copied().unwrap_or(f64::NAN)
}

/// The demo password: HAVEN_DEMO_PASSWORD, or a random one kept in the data folder (never printed).
fn demo_password(data: &Path) -> anyhow::Result<(String, Option<PathBuf>)> {
    if let Ok(p) = std::env::var("HAVEN_DEMO_PASSWORD") {
        return Ok((p, None));
    }
    let path = data.join("demo-password.txt");
    if let Ok(p) = std::fs::read_to_string(&path) {
        return Ok((p.trim().to_owned(), Some(path)));
    }
    let p = haven_store::accounts::new_secret("")[..16].to_owned();
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    use std::io::Write;
    opts.open(&path)?.write_all(format!("{p}\n").as_bytes())?;
    Ok((p, Some(path)))
}

async fn user_by_name(store: &Store, name: &str) -> anyhow::Result<haven_store::accounts::User> {
    store.user_by_name(name).await?.with_context(|| format!("no user named {name}"))
}

pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let g = cli.global;
    match cli.command {
        Command::Bench(BenchCommand::LinkageData { set, left, right, out, seed }) => {
            std::fs::create_dir_all(&out)?;
            match set.as_str() {
                "synthetic" => crate::linkage_data::synthetic(left, &out, seed)?,
                "vietnamese" => crate::linkage_data::vietnamese(left, right, 600, &out, seed)?,
                other => anyhow::bail!("unknown set {other}: synthetic or vietnamese"),
            }
            println!("written to {}", out.display());
        }
        Command::Match { left, right, left_id, right_id, fields, out, threshold, place_aliases } => {
            let aliases = place_aliases.as_deref().map(crate::matching::PlaceAliases::read).transpose()?;
            let fields =
                fields.iter().map(|f| crate::matching::FieldArg::parse(f)).collect::<anyhow::Result<Vec<_>>>()?;
            let started = std::time::Instant::now();
            let s = crate::matching::run(&crate::matching::Job {
                left: &left,
                right: &right,
                left_id: &left_id,
                right_id: &right_id,
                fields: &fields,
                out: &out,
                threshold,
                aliases: aliases.as_ref(),
            })?;
            eprintln!(
                "linked {} of {} x {} records ({} pairs compared) in {:.2} s, peak memory {}; written to {}",
                s.links,
                s.left,
                s.right,
                s.candidates,
                started.elapsed().as_secs_f64(),
                peak_memory().map(|k| format!("{} MiB", k / 1024)).unwrap_or_else(|| "unknown".into()),
                out.display()
            );
        }
        Command::Serve { listen, tls } => {
            let _lock = lock_data(&g.data, false)?;
            let (store, _) = open(&g).await?;
            serve(store, listen, tls).await?;
        }
        Command::Demo { listen, scale, reports, load_only } => {
            let _lock = lock_data(&g.data, false)?;
            let (store, _) = open(&g).await?;
            let (password, file) = demo_password(&g.data)?;
            let reports = reports.unwrap_or_else(|| demo::reports_for(scale));
            if demo::load_with(&store, &password, scale, reports).await? {
                println!("Loaded the demo province (Da Nang city) with {scale} person records and {reports} reports.");
            } else {
                println!("The database already holds data; the demo was not loaded again.");
            }
            println!("Demo accounts (user names):");
            for a in demo::accounts(&demo::agency_defs()?) {
                let roles: Vec<&str> = a.roles.iter().map(|r| r.code()).collect();
                println!("  {:<24} {}", a.username, roles.join(", "));
            }
            match file {
                Some(path) => println!("Password of every demo account: in {}", path.display()),
                None => println!("Password of every demo account: the value of HAVEN_DEMO_PASSWORD"),
            }
            if !load_only {
                serve(store, listen, false).await?;
            }
        }
        Command::Migrate => {
            let (store, _) = open(&g).await?;
            store.db.close().await;
            println!("Migrations are up to date.");
        }
        Command::User(cmd) => user(&g, cmd).await?,
        Command::Import { kind, file, user, commune, batch, encoding, map, check } => {
            let (store, _) = open(&g).await?;
            let state = haven_app::App::new(store.clone(), demo::PROVINCE);
            let job = crate::importing::Job {
                kind: &kind,
                file: &file,
                user: &user,
                commune: commune.as_deref(),
                batch: batch.as_deref(),
                encoding: encoding.as_deref(),
                map: &map,
                check_only: check,
            };
            let outcome = crate::importing::run(&state, &job).await;
            store.db.close().await;
            if let crate::importing::Outcome::RowErrors(_) = outcome? {
                return Ok(ExitCode::from(2));
            }
        }
        Command::Keys(KeysCommand::Rotate) => {
            let (store, kf) = open(&g).await?;
            let r = keys::rotate(&store, &kf, &g.data).await?;
            store.db.close().await;
            println!(
                "Keys rotated: {} values re-encrypted. The new key file replaced the old one; back it up now.",
                r.values_reencrypted
            );
        }
        Command::Audit(AuditCommand::Verify) => {
            let (store, _) = open(&g).await?;
            let started = std::time::Instant::now();
            let report = store.verify_audit().await?;
            let secs = started.elapsed().as_secs_f64();
            store.db.close().await;
            match report.broken {
                None => println!(
                    "Audit log intact: {} entries, {} signed checkpoints, verified in {:.2} s.",
                    report.entries, report.checkpoints, secs
                ),
                Some((seq, why)) => {
                    println!("Audit log BROKEN at entry {seq}: {why}.");
                    return Ok(ExitCode::from(2));
                }
            }
        }
        Command::Backup { out } => {
            let db = Db::connect(&g.url()).await?;
            db.backup_to(&out).await?;
            db.close().await;
            println!(
                "Backup written to {}. The key file is not in it: keep a copy of {} apart from the backup.",
                out.display(),
                key_path(&g.data).display()
            );
        }
        Command::Restore { file } => restore(&g, &file).await?,
        Command::Bench(BenchCommand::Write { n }) => {
            let rounds = crate::bench::write(n).await?;
            println!(
                "write, SQLite WAL synchronous=FULL, {n} rows each side in alternating rounds, one commit per row:"
            );
            println!("  round  command ops/s  raw ops/s  ratio");
            for (i, (c, r)) in rounds.iter().enumerate() {
                println!("  {:>5}  {c:>13.0}  {r:>9.0}  {:>4.0}%", i + 1, 100.0 * c / r);
            }
            let mean = |f: fn(&(f64, f64)) -> f64| rounds.iter().map(f).sum::<f64>() / rounds.len() as f64;
            let (c, r) = (mean(|x| x.0), mean(|x| x.1));
            println!("  mean   {c:>13.0}  {r:>9.0}  {:>4.0}%  (target: at least 50%)", 100.0 * c / r);
            println!("  command: seal 6 identity fields, 3 blind indexes, insert, audit entry, signed head, commit");
            println!("  raw: insert and commit a row of similar size into a table keyed by a UUID");
        }
        Command::Bench(BenchCommand::Indicators { reports }) => {
            let (ind, lists) = crate::bench::indicators(g.database.as_deref(), reports).await?;
            let pct = |v: &[f64], p: f64| percentile(v, p * 100.0);
            let backend =
                if g.database.as_deref().is_some_and(|u| u.starts_with("postgres")) { "PostgreSQL" } else { "SQLite" };
            println!("indicators over {reports} reports on {backend}:");
            println!(
                "  five indicators for a year, province-wide: median {:.1} ms, max {:.1} ms (target: under 200 ms)",
                pct(&ind, 0.5),
                pct(&ind, 1.0)
            );
            println!(
                "  overdue list of one agency (first 50): p50 {:.2} ms, p99 {:.2} ms (target: p99 under 50 ms)",
                pct(&lists, 0.5),
                pct(&lists, 0.99)
            );
        }
        Command::Bench(BenchCommand::Victims { cases }) => {
            let _lock = lock_data(&g.data, false)?;
            let (store, _) = open(&g).await?;
            let (page, lists) = crate::bench::victims(&store, cases).await?;
            let (p50, p99) = (percentile(&lists, 50.0), percentile(&lists, 99.0));
            println!("victim cases: {cases} in the database");
            println!("  due-this-week list of one agency (first 200): p50 {p50:.2} ms, p99 {p99:.2} ms over {} runs (target: p99 under 50 ms)", lists.len());
            println!("  case with 50 steps, 30 supports, 20 visits: {page}");
        }
        Command::Bench(BenchCommand::Audit { entries }) => {
            let (n, secs) = crate::bench::audit(entries).await?;
            println!(
                "audit verify: {n} entries in {secs:.2} s = {:.0} entries/s (target: at least 1,000,000/s)",
                n as f64 / secs
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn user(g: &Global, cmd: UserCommand) -> anyhow::Result<()> {
    let (store, _) = open(g).await?;
    let actor = Actor::system("user");
    match cmd {
        UserCommand::Add { name, agency, roles, display_name } => {
            if !valid_username(&name) {
                bail!("a user name has 3 to 64 lowercase letters, digits, '.', '_' or '-'");
            }
            if store.user_by_name(&name).await?.is_some() {
                bail!("user {name} already exists");
            }
            let agency =
                store.agency_by_code(&agency).await?.with_context(|| format!("no agency with code {agency}"))?;
            let roles = roles
                .iter()
                .map(|r| Role::from_code(r).with_context(|| format!("unknown role {r}")))
                .collect::<anyhow::Result<Vec<_>>>()?;
            let password = read_password()?;
            check_password(&name, &password).map_err(|e| anyhow::anyhow!("password refused: {}", e.key()))?;
            let hash = accounts::hash_password(password).await?;
            let mut c = store.command(&actor).await?;
            accounts::create_user(
                &mut c,
                &NewUser {
                    username: &name,
                    display_name: display_name.as_deref().unwrap_or(&name),
                    agency_id: &agency.id,
                    roles: &roles,
                    password_hash: &hash,
                },
            )
            .await?;
            c.commit().await?;
            println!("User {name} created.");
        }
        UserCommand::ResetPassword { name } => {
            let u = user_by_name(&store, &name).await?;
            let password = read_password()?;
            check_password(&name, &password).map_err(|e| anyhow::anyhow!("password refused: {}", e.key()))?;
            let hash = accounts::hash_password(password).await?;
            let mut c = store.command(&actor).await?;
            accounts::set_password(&mut c, &u.id, &hash).await?;
            c.commit().await?;
            println!("Password of {name} changed; their sessions ended.");
        }
        UserCommand::Disable { name } => {
            let u = user_by_name(&store, &name).await?;
            let mut c = store.command(&actor).await?;
            accounts::set_disabled(&mut c, &u.id, true).await?;
            c.commit().await?;
            println!("User {name} disabled.");
        }
        UserCommand::Token { name, label } => {
            let u = user_by_name(&store, &name).await?;
            if u.disabled {
                bail!("user {name} is disabled");
            }
            let mut c = store.command(&actor).await?;
            let token = accounts::create_token(&mut c, &u.id, &label).await?;
            c.commit().await?;
            // The token is the one secret this command exists to hand out.
            println!("{token}");
        }
    }
    store.db.close().await;
    Ok(())
}

async fn restore(g: &Global, file: &Path) -> anyhow::Result<()> {
    if g.database.as_deref().is_some_and(|u| !u.starts_with("sqlite:")) {
        bail!("restore of PostgreSQL is done with pg_restore (see the README)");
    }
    let _lock = lock_data(&g.data, true)?;
    let target = g.data.join("haven.db");
    let probe = Db::connect(&format!("sqlite://{}?mode=ro", file.display())).await.context("opening the backup")?;
    let ok = probe.has_data_keys().await.unwrap_or(false);
    if !ok {
        probe.close().await;
        bail!("{} is not a Haven backup", file.display());
    }
    // The backup must open with the key file in this folder, or restoring it would make the data unreadable.
    if crate::cli::key_path(&g.data).exists() || KeyFile::from_environment() {
        let kf = KeyFile::load(&key_path(&g.data))?;
        let opens = keys::keyring_opens(&probe, &kf.master).await;
        probe.close().await;
        if !opens {
            bail!("the backup's data keys do not open with {}: put the key file from the time of the backup there first (a retired one, haven.key.retired-*, if keys were rotated since)", key_path(&g.data).display());
        }
    } else {
        probe.close().await;
        bail!("no key file in {}: copy the key file that belongs to the backup there first", g.data.display());
    }
    ensure_data_dir(&g.data)?;
    if target.exists() {
        let stamp = time::OffsetDateTime::now_utc().unix_timestamp();
        let aside = g.data.join(format!("haven.db.before-restore-{stamp}"));
        // Fold the WAL into the file before moving it, so the kept copy is complete.
        let db = Db::connect(&haven_store::sqlite_url(&g.data)).await?;
        db.checkpoint().await?;
        db.close().await;
        std::fs::rename(&target, &aside)?;
        println!("The current database was kept as {}.", aside.display());
    }
    for ext in ["db-wal", "db-shm"] {
        let _ = std::fs::remove_file(g.data.join(format!("haven.{ext}")));
    }
    std::fs::copy(file, &target)?;
    println!("Restored {} into {}.", file.display(), target.display());
    Ok(())
}
