//! `haven bench`: the figures in docs/benchmarks.md, each against its peer in the same run.
//! - `write`: a typical command (seal identity fields, blind indexes, insert, audit entry, commit) against a
//!   raw insert-and-commit of a row of similar size, on one SQLite file with the same durability settings.
//! - `audit`: append entries, then time `audit verify` over all of them.

use std::sync::Arc;
use std::time::Instant;

use haven_domain::time::SystemClock;
use haven_store::{bench, persons, Actor, Entry, KeyFile, Store};

use crate::demo::{Names, Rng};

async fn scratch_store(dir: &std::path::Path) -> anyhow::Result<Store> {
    std::fs::create_dir_all(dir)?;
    Store::open(&haven_store::sqlite_url(dir), &KeyFile::generate(), Arc::new(SystemClock)).await
}

fn scratch_dir(tag: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("haven-bench-{tag}-{}", std::process::id()))
}

/// Returns the per-round (command ops/s, raw ops/s) pairs.
pub async fn write(n: u64) -> anyhow::Result<Vec<(f64, f64)>> {
    let dir = scratch_dir("write");
    let store = scratch_store(&dir).await?;
    crate::demo::load(&store, "bench password 1", 0).await?;
    let owner = store.agency_by_code("police").await?.map(|a| a.id).unwrap_or_default();
    let names = Names::load();
    let (communes, mountain) = crate::demo::communes(&store).await?;
    let mut rng = Rng::new(42);
    let people: Vec<_> = (0..n).map(|_| crate::demo::person(&mut rng, &names, &communes, &mountain)).collect();
    // Alternate short rounds so that neither side benefits from a warmer file, cache or disk.
    const ROUNDS: usize = 6;
    let mut rounds = Vec::with_capacity(ROUNDS);
    for chunk in people.chunks(people.len().div_ceil(ROUNDS).max(1)) {
        let started = Instant::now();
        for who in chunk {
            let mut cmd = store.command(&Actor::system("bench")).await?;
            persons::create(&mut cmd, &store.keys, &owner, who).await?;
            cmd.commit().await?;
        }
        let cmd_rate = chunk.len() as f64 / started.elapsed().as_secs_f64();
        rounds.push((cmd_rate, bench::raw_insert_commit(&store.db, chunk.len() as u64).await?));
    }
    store.db.close().await;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(rounds)
}

/// Returns (entries, seconds to verify).
pub async fn audit(entries: u64) -> anyhow::Result<(i64, f64)> {
    let dir = scratch_dir("audit");
    let store = scratch_store(&dir).await?;
    let mut left = entries;
    while left > 0 {
        let n = left.min(20_000);
        let mut cmd = store.command(&Actor::system("bench")).await?;
        for i in 0..n {
            cmd.audit(
                Entry::new("person.view_identity", "person", &format!("{i:016}"))
                    .purpose("case_work")
                    .fields(persons::IDENTITY_FIELDS),
            )
            .await?;
        }
        cmd.commit().await?;
        left -= n;
    }
    let started = Instant::now();
    let report = store.verify_audit().await?;
    let secs = started.elapsed().as_secs_f64();
    anyhow::ensure!(report.ok(), "the benchmark's own chain does not verify: {:?}", report.broken);
    store.db.close().await;
    let _ = std::fs::remove_dir_all(&dir);
    Ok((report.entries, secs))
}

/// Time the five indicators for a year over `n` reports, and the overdue list of one agency.
/// Returns (indicator timings in ms, overdue-list timings in ms).
pub async fn indicators(url: Option<&str>, n: u64) -> anyhow::Result<(Vec<f64>, Vec<f64>)> {
    use haven_domain::reports::indicators::Period;
    let dir = scratch_dir("indicators");
    std::fs::create_dir_all(&dir)?;
    let url = url.map(str::to_owned).unwrap_or_else(|| haven_store::sqlite_url(&dir));
    let store = Store::open(&url, &KeyFile::generate(), Arc::new(SystemClock)).await?;
    crate::demo::load_with(&store, "bench password 1", 0, 0).await?;
    let agencies = store.agencies().await?;
    let owners: Vec<String> =
        agencies.iter().filter(|a| a.code == "police" || a.code == "border").map(|a| a.id.clone()).collect();
    let user = store.user_by_name("police.officer").await?.ok_or_else(|| anyhow::anyhow!("no demo officer"))?;
    let today = haven_domain::time::local_date(store.now()).ok_or_else(|| anyhow::anyhow!("clock"))?;
    haven_store::bench::fill_reports(&store.db, &owners, &user.id, today, n).await?;
    // Measured in the steady state a live database is kept in, not straight after the bulk load.
    store.db.analyze().await?;
    // The year that holds every generated report: the 365 days up to today.
    let year = Period { from: today - time::Duration::days(364), to: today };
    let mut ind = Vec::new();
    for _ in 0..7 {
        let t = Instant::now();
        store.indicator_counts(year, Default::default()).await?;
        ind.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let mut lists = Vec::new();
    for _ in 0..200 {
        let t = Instant::now();
        store.report_work_list(&owners[0], haven_store::reports::WorkList::Overdue { today }, None, 50).await?;
        lists.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    store.db.close().await;
    let _ = std::fs::remove_dir_all(&dir);
    Ok((ind, lists))
}
