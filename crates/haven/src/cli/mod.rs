//! Command-line interface. Every command takes `--data DIR` and `--database URL`; the key file lives in the
//! data folder (or comes from HAVEN_MASTER_KEY and HAVEN_AUDIT_KEY).

mod setup;
mod users;

use setup::*;
pub use setup::{init_logging, peak_memory};
use users::*;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use haven_store::crypto::key_path;
use haven_store::{keys, Db};

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
    /// Append-only file, outside the data folder (another disk or a mounted share), where the server writes
    /// a signed mark of the audit log's head every minute it changed; `audit verify` checks the log against
    /// it, so that a rolled-back or truncated log is caught.
    #[arg(long, global = true, env = "HAVEN_AUDIT_WITNESS")]
    pub audit_witness: Option<PathBuf>,
}

/// Where the server listens and what stands in front of it.
#[derive(Args)]
pub struct Net {
    /// Address to listen on.
    #[arg(long, env = "HAVEN_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Haven is reached over HTTPS (through a proxy): mark cookies Secure and send HSTS.
    #[arg(long, env = "HAVEN_TLS")]
    pub tls: bool,
    /// Addresses of the reverse proxies in front of Haven (comma-separated). Only from these is the client's
    /// address read from X-Forwarded-For; log-in throttling counts failures per account and client address.
    #[arg(long = "trusted-proxy", env = "HAVEN_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// SQLite: back up into this folder when the server starts and every --backup-every hours after,
    /// keeping the newest --backup-keep (like `haven backup --to`).
    #[arg(long, env = "HAVEN_BACKUP_DIR")]
    pub backup_to: Option<PathBuf>,
    #[arg(long, env = "HAVEN_BACKUP_EVERY_HOURS", default_value_t = 24, value_parser = clap::value_parser!(u32).range(1..))]
    pub backup_every: u32,
    #[arg(long, env = "HAVEN_BACKUP_KEEP", default_value_t = 14, value_parser = clap::value_parser!(u32).range(1..))]
    pub backup_keep: u32,
}

#[derive(Subcommand)]
pub enum Command {
    /// Serve the pages and the API.
    Serve {
        #[command(flatten)]
        net: Net,
    },
    /// Load the demo province into an empty database, then serve it.
    Demo {
        #[command(flatten)]
        net: Net,
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
    /// Write a consistent copy of the database while Haven runs (SQLite; use pg_dump for PostgreSQL): to a
    /// file, or into a folder of dated backups keeping the newest few.
    #[command(group(clap::ArgGroup::new("where").required(true).args(["out", "to"])))]
    Backup {
        /// The file to write.
        #[arg(long)]
        out: Option<PathBuf>,
        /// A folder of backups named by their time (UTC): `haven-20261204T020000Z.db`.
        #[arg(long)]
        to: Option<PathBuf>,
        /// With --to: how many backups to keep; older ones in the folder are deleted.
        #[arg(long, default_value_t = 14, requires = "to", value_parser = clap::value_parser!(u32).range(1..))]
        keep: u32,
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
    /// Fill the data folder's (empty) database with the demo agencies and N person records with Vietnamese
    /// names (two in five held by the border guards), and write to QUERIES the names `bench/names.sh` searches
    /// for as the border guards' officer.
    Names {
        #[arg(long, default_value_t = 1_000_000)]
        persons: u64,
        #[arg(long)]
        queries: std::path::PathBuf,
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
    /// Recompute the hash chain and check the signed checkpoints; names the first broken entry. With a
    /// witness file (--audit-witness) or codes kept on paper (--code), also checks that no entry they saw
    /// was rolled back, truncated or rewritten.
    Verify {
        /// A short code written down from `haven audit witness` (`123456:9F3A-77C2-01BD`); repeatable.
        #[arg(long)]
        code: Vec<String>,
    },
    /// Add the audit log's head to the witness file now (from cron, or before a backup) and print its short
    /// code, for a head to keep on paper.
    Witness,
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
        Command::Serve { net } => {
            let _lock = lock_data(&g.data, false)?;
            let (store, _) = open(&g).await?;
            serve(store, net, witness_path(&g)?).await?;
        }
        Command::Demo { net, scale, reports, load_only } => {
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
                serve(store, net, witness_path(&g)?).await?;
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
        Command::Audit(AuditCommand::Verify { code }) => {
            let (store, _) = open(&g).await?;
            let started = std::time::Instant::now();
            let report = store.verify_audit().await?;
            let witnessed = audit_against_witness(&g, &store, &code).await;
            let secs = started.elapsed().as_secs_f64();
            store.db.close().await;
            if let Some((seq, why)) = report.broken {
                println!("Audit log BROKEN at entry {seq}: {why}.");
                return Ok(ExitCode::from(2));
            }
            match witnessed? {
                Err(why) => {
                    println!("Audit log ROLLED BACK: {why}.");
                    return Ok(ExitCode::from(2));
                }
                Ok(said) => println!(
                    "Audit log intact: {} entries, {} signed checkpoints{said}, verified in {:.2} s.",
                    report.entries, report.checkpoints, secs
                ),
            }
        }
        Command::Audit(AuditCommand::Witness) => {
            let path = witness_path(&g)?.context("name the witness file with --audit-witness")?;
            let (store, _) = open(&g).await?;
            let mark = store.witness(&path).await?;
            store.db.close().await;
            println!(
                "Witnessed entry {} in {}. Short code to keep on paper: {}",
                mark.seq,
                path.display(),
                mark.code()
            );
        }
        Command::Backup { out, to, keep } => {
            let db = Db::connect(&g.url()).await?;
            let written = match (out, to) {
                (Some(out), _) => {
                    db.backup_to(&out).await?;
                    out
                }
                (None, Some(dir)) => {
                    let now = haven_domain::time::Clock::now(&haven_domain::time::SystemClock);
                    let (out, removed) = haven_store::backups::backup_into(&db, &dir, keep as usize, now).await?;
                    for r in removed {
                        println!("Removed the older backup {}.", r.display());
                    }
                    out
                }
                (None, None) => anyhow::bail!("give --out FILE or --to FOLDER"),
            };
            db.close().await;
            println!(
                "Backup written to {}. The key file is not in it: keep a copy of {} apart from the backup.",
                written.display(),
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
        Command::Bench(BenchCommand::Names { persons, queries }) => {
            let _lock = lock_data(&g.data, false)?;
            let (store, _) = open(&g).await?;
            let started = std::time::Instant::now();
            let typed = crate::bench_names::names(&store, persons).await?;
            std::fs::write(&queries, typed.join("\n") + "\n")?;
            println!(
                "persons: {persons} written through the store's commands in {:.0} s; {} searches in {}",
                started.elapsed().as_secs_f64(),
                typed.len(),
                queries.display()
            );
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
