//! A guard that is not a timing: every statement the pages run, taken from the real server's own log while
//! each demo role walks every page it can reach, is planned by the database as it would be for a large
//! province, and none may read a large table from end to end. Each run then drops an index a list needs
//! and checks that the guard fails without it.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use crate::harness::*;
use crate::process::{free_port, haven, run_ok};

/// The roles of the demo, one user each, so that every kind of page and every role's lists are walked.
const USERS: [&str; 11] = [
    "admin",
    "police.officer",
    "health.officer",
    "health.head",
    "border.officer",
    "province.head",
    "province.analyst",
    "province.auditor",
    "women.officer",
    "pc-tramy.officer",
    "procuracy.officer",
];

/// The token the walked server's `/metrics` asks for.
const METRICS_TOKEN: &str = "metrics-token-for-the-plan-guard";

/// Pages walked per user; pages of one shape (the same path with other ids) walked at most twice.
const PAGES_PER_USER: usize = 150;
const PER_SHAPE: usize = 2;

/// A table holding at least this many rows in the walked demo is large: in a province it holds hundreds of
/// thousands or millions (with `--scale 600 --reports 1500`: the persons and their match keys, the audit
/// log, reports, criminal and victim cases, registers, supports, consents, grants and prevention records).
const LARGE_ROWS: i64 = 100;
/// The agencies of a province, every commune's committee among them, for PostgreSQL's statistics.
const AGENCIES: i64 = 200;
/// How much larger than the demo the statistics make the large tables for SQLite's planner.
const SCALE_UP: i64 = 1000;

/// Load the demo, serve it with its statements logged as JSON lines, walk the pages as every role, stop.
/// Returns the distinct reads and updates the server ran.
async fn walk(dir: &Path, url: Option<&str>) -> BTreeSet<String> {
    run_ok({
        let mut c = haven(dir, url);
        c.args(["demo", "--load-only", "--scale", "600", "--reports", "1500"]);
        c
    });
    let port = free_port();
    let log_path = dir.join("serve.jsonl");
    let log = std::fs::File::create(&log_path).expect("log file");
    let mut server = Proc::spawn(
        haven(dir, url)
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .env("HAVEN_LOG", "info,sqlx::query=debug")
            .env("HAVEN_LOG_FORMAT", "json")
            .env("HAVEN_METRICS_TOKEN", METRICS_TOKEN)
            .stdout(Stdio::null())
            .stderr(log),
    );
    let base = format!("http://127.0.0.1:{port}");
    let mut up = false;
    for _ in 0..200 {
        if reqwest::get(format!("{base}/health")).await.is_ok_and(|r| r.status() == 200) {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(up, "the server did not start");
    for user in USERS {
        let c = Client::new(&base);
        let r = c.login(user, PASSWORD).await;
        assert_eq!(r.status, 303, "log-in of {user}");
        let walked = crawl(&c).await;
        assert!(walked > 5, "{user} reached only {walked} pages");
    }
    // The walk shows in the metrics, to a scraper with the token only (even on this host).
    let http = reqwest::Client::new();
    let metrics = http.get(format!("{base}/metrics")).bearer_auth(METRICS_TOKEN).send().await.expect("scrape");
    assert_eq!(metrics.status(), 200);
    let body = metrics.text().await.expect("body");
    assert!(body.contains("route=\"/persons\",status=\"2xx\""), "{body}");
    let without = http.get(format!("{base}/metrics")).send().await.expect("scrape");
    assert_eq!(without.status(), 404, "a token is set: the host alone does not open the metrics");
    let wrong = http.get(format!("{base}/metrics")).bearer_auth("not-the-token-at-all").send().await.expect("scrape");
    assert_eq!(wrong.status(), 404);
    let _ = server.0.kill();
    let _ = server.0.wait();
    statements(&std::fs::read_to_string(&log_path).expect("log"))
}

/// Walk the same-site pages a user reaches from the home page, breadth first. Returns how many were read.
async fn crawl(c: &Client) -> usize {
    let mut queue = VecDeque::from(["/".to_owned()]);
    let mut seen = BTreeSet::new();
    let mut shapes: BTreeMap<String, usize> = BTreeMap::new();
    let mut read = 0;
    while let Some(path) = queue.pop_front() {
        if read >= PAGES_PER_USER || !seen.insert(path.clone()) {
            continue;
        }
        let shape = shape_of(&path);
        let n = shapes.entry(shape).or_default();
        if *n >= PER_SHAPE {
            continue;
        }
        *n += 1;
        let r = c.get(&path).await;
        assert!(r.status < 500, "GET {path}: {}", r.status);
        read += 1;
        if r.status != 200 {
            continue;
        }
        for link in hrefs(&r.body) {
            if !seen.contains(&link) {
                queue.push_back(link);
            }
        }
    }
    read
}

/// The same-site links of a page that read, without log-out, downloads, static files or fragments.
fn hrefs(html: &str) -> Vec<String> {
    html.split("href=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .map(|h| h.replace("&amp;", "&"))
        .map(|h| h.split('#').next().unwrap_or_default().to_owned())
        .filter(|h| h.starts_with('/') && !h.starts_with("//"))
        .filter(|h| {
            let skip = ["/logout", "/static/", "/api/", "download", "export", ".csv", ".xlsx", "/files/", "lang="];
            !skip.iter().any(|s| h.contains(s))
        })
        .collect()
}

/// A page's path with its ids and query values blanked: `/persons/*?after=*`.
fn shape_of(path: &str) -> String {
    let (p, q) = path.split_once('?').unwrap_or((path, ""));
    let segments: Vec<&str> =
        p.split('/').map(|s| if s.len() >= 12 || s.chars().any(|c| c.is_ascii_digit()) { "*" } else { s }).collect();
    let mut keys: Vec<&str> = q.split('&').filter_map(|kv| kv.split('=').next()).filter(|k| !k.is_empty()).collect();
    keys.sort_unstable();
    format!("{}?{}", segments.join("/"), keys.join("&"))
}

/// The distinct statements of the server's log that read (or update or delete by a condition).
fn statements(log: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for line in log.lines() {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else { continue };
        if v["target"] != "sqlx::query" {
            continue;
        }
        let fields = &v["fields"];
        let full = fields["db.statement"].as_str().map(str::trim).filter(|s| !s.is_empty());
        let Some(sql) = full.or_else(|| fields["summary"].as_str()) else { continue };
        let sql = sql.trim().to_owned();
        let head = sql.split_whitespace().next().unwrap_or_default().to_ascii_uppercase();
        if matches!(head.as_str(), "SELECT" | "WITH" | "UPDATE" | "DELETE") && !sql.contains("sqlite_") {
            out.insert(sql);
        }
    }
    out
}

/// Reference data of the profile: as large in the demo as in a province (every commune of the country), read
/// whole once and kept. Not a table that grows with the work.
const REFERENCE: [&str; 1] = ["admin_units"];

/// The tables of the demo with at least [`LARGE_ROWS`] rows, but for [`REFERENCE`] data.
async fn large_tables(db: &haven_store::Db, backend: Backend) -> Vec<String> {
    let catalogue = match backend {
        Backend::Sqlite => "sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_sqlx%'",
        Backend::Postgres => "pg_tables WHERE schemaname = 'public' AND tablename NOT LIKE '_sqlx%'",
    };
    let column = if backend == Backend::Sqlite { "name" } else { "tablename::text" };
    let mut large = Vec::new();
    for t in haven_store::testing::column_text(db, catalogue, column).await.expect("tables") {
        let n = haven_store::testing::scalar_i64(db, &format!("SELECT COUNT(*) FROM {t}")).await.expect("count");
        if n >= LARGE_ROWS && !REFERENCE.contains(&t.as_str()) {
            large.push(t);
        }
    }
    large
}

/// Give the planner the statistics of a province: SQLite's `ANALYZE`, then each large table and its indexes
/// [`SCALE_UP`] times as many rows with the same rows per key; PostgreSQL's `ANALYZE`, then as many rows per
/// page in the catalogue (and its guard prices sequential scans out, in [`haven_store::testing::plan`]).
async fn province_statistics(db: &haven_store::Db, backend: Backend, large: &[String]) {
    haven_store::testing::execute(db, "ANALYZE").await.expect("analyze");
    if backend == Backend::Postgres {
        // A province has a couple of hundred agencies (every commune's committee among them), the demo a
        // dozen: each agency's share of a table is a province's, not the demo's.
        let agency_columns = haven_store::testing::column_text(
            db,
            "information_schema.columns WHERE table_schema = 'public' AND column_name LIKE '%agency_id'",
            "table_name::text || '.' || column_name::text",
        )
        .await
        .expect("columns");
        for tc in agency_columns {
            let (t, c) = tc.split_once('.').expect("table.column");
            if large.iter().any(|l| l == t) {
                haven_store::testing::execute(
                    db,
                    &format!("ALTER TABLE {t} ALTER COLUMN {c} SET (n_distinct = {AGENCIES})"),
                )
                .await
                .expect("agency statistics");
            }
        }
        haven_store::testing::execute(db, "ANALYZE").await.expect("analyze");
        // The planner reads a table's rows per page from the catalogue and its pages from the file: more rows
        // per page stand for a larger table of the same shape (the distinct values of a column stay as many,
        // so an agency holds a thousand times the rows).
        for t in large {
            haven_store::testing::execute(
                db,
                &format!(
                    "UPDATE pg_class SET reltuples = reltuples * {SCALE_UP} WHERE oid = '{t}'::regclass \
                     OR oid IN (SELECT indexrelid FROM pg_index WHERE indrelid = '{t}'::regclass)"
                ),
            )
            .await
            .expect("scale statistics");
        }
        return;
    }
    let stats =
        haven_store::testing::column_text(db, "sqlite_stat1", "tbl || char(9) || coalesce(idx, '') || char(9) || stat")
            .await
            .expect("stats");
    for row in stats {
        let mut parts = row.split('\t');
        let (Some(tbl), Some(idx), Some(stat)) = (parts.next(), parts.next(), parts.next()) else { continue };
        if !large.iter().any(|t| t == tbl) {
            continue;
        }
        let mut words: Vec<String> = stat.split(' ').map(str::to_owned).collect();
        let rows: i64 = words[0].parse().expect("rows");
        words[0] = (rows * SCALE_UP).to_string();
        let idx_cond = if idx.is_empty() { "idx IS NULL".to_owned() } else { format!("idx = '{idx}'") };
        haven_store::testing::execute(
            db,
            &format!("UPDATE sqlite_stat1 SET stat = '{}' WHERE tbl = '{tbl}' AND {idx_cond}", words.join(" ")),
        )
        .await
        .expect("scale statistics");
    }
}

/// Whether a plan reads a large table whole, or may (a walk of a whole index that filters as it goes reads
/// everything when few rows match).
///
/// SQLite: a `SCAN t` (of the table, or of one of its indexes from end to end; `SEARCH` is a look-up), unless
/// the statement filters nothing and stops at a LIMIT in the order of the walk (no temporary B-tree for the
/// ORDER BY), as the newest entries of the whole audit log are read.
///
/// PostgreSQL (sequential scans priced out): a `Seq Scan`, which no index could replace, or an index scan
/// with no `Index Cond`, a walk of a whole index, unless it filters nothing and a LIMIT right above it stops
/// it (the newest page of everything).
fn reads_whole(sql: &str, plan: &[String], backend: Backend, table: &str) -> bool {
    match backend {
        Backend::Sqlite => {
            let filters = sql.split(" WHERE ").skip(1).any(|w| !w.trim_start().starts_with("1 = 1 ORDER BY"));
            let ordered_walk = !filters && sql.contains(" LIMIT ") && !plan.iter().any(|l| l.contains("TEMP B-TREE"));
            !ordered_walk
                && plan.iter().any(|l| {
                    let l = l.trim();
                    l == format!("SCAN {table}") || l.starts_with(&format!("SCAN {table} "))
                })
        }
        Backend::Postgres => {
            let on = format!(" on {table} ");
            let ends = format!(" on {table}");
            let names = |l: &str| l.contains(&on) || l.trim_end().ends_with(&ends);
            plan.iter().enumerate().any(|(i, l)| {
                if !names(l) {
                    return false;
                }
                if l.contains("Seq Scan") {
                    return true;
                }
                if !l.contains("Index Scan") && !l.contains("Index Only Scan") {
                    return false;
                }
                // The node's own lines are indented past its arrow and name no other node.
                let depth = l.len() - l.trim_start().len();
                let details: Vec<&String> = plan[i + 1..]
                    .iter()
                    .take_while(|d| d.len() - d.trim_start().len() > depth && !d.contains("->"))
                    .collect();
                let cond = details.iter().any(|d| d.trim_start().starts_with("Index Cond:"));
                let filter = details.iter().any(|d| d.trim_start().starts_with("Filter:"));
                // Without a condition the walk covers the whole index: that is a page of everything only
                // when nothing is filtered and a LIMIT right above it stops it.
                let paged = !filter && i > 0 && plan[i - 1].contains("Limit");
                !cond && !paged
            })
        }
    }
}

/// Every statement's plan; the ones that read a large table whole, with their plans, and how many were planned.
async fn full_scans(url: &str, backend: Backend, sqls: &BTreeSet<String>, large: &[String]) -> (Vec<String>, usize) {
    // A fresh connection, so SQLite reads the statistics just written.
    let db = haven_store::Db::connect(url).await.expect("connect");
    let mut found = Vec::new();
    let mut planned = 0;
    for sql in sqls {
        let Some(lines) = haven_store::testing::plan(&db, sql).await.unwrap_or_else(|e| panic!("{sql}: {e:#}")) else {
            continue;
        };
        planned += 1;
        if large.iter().any(|t| reads_whole(sql, &lines, backend, t)) {
            found.push(format!("{sql}\n    {}", lines.join("\n    ")));
        }
    }
    db.close().await;
    (found, planned)
}

async fn guard(backend: Backend) {
    let Some(db) = fresh_db(backend).await else { return };
    let url = (backend == Backend::Postgres).then_some(db.url.as_str());
    let dir = TempDir::new("plans");
    let sqls = walk(dir.path(), url).await;
    assert!(sqls.len() > 100, "only {} statements seen: is sqlx::query logged?", sqls.len());
    let db_url = url.map(str::to_owned).unwrap_or_else(|| haven_store::sqlite_url(dir.path()));
    let store_db = haven_store::Db::connect(&db_url).await.expect("connect");
    let large = large_tables(&store_db, backend).await;
    assert!(large.iter().any(|t| t == "persons") && large.iter().any(|t| t == "audit_log"), "{large:?}");
    province_statistics(&store_db, backend, &large).await;
    let (scans, planned) = full_scans(&db_url, backend, &sqls, &large).await;
    assert!(planned * 10 >= sqls.len() * 9, "only {planned} of {} statements planned", sqls.len());
    eprintln!("{backend:?}: {planned} of {} statements planned; large tables: {}", sqls.len(), large.join(" "));
    assert!(scans.is_empty(), "{} statements read a large table whole:\n{}", scans.len(), scans.join("\n\n"));

    // And the guard sees what it guards: without the indexes of the persons by owning agency, the persons
    // list's statements read the persons whole.
    haven_store::testing::execute(&store_db, "DROP INDEX persons_owner_live; DROP INDEX persons_live_owner")
        .await
        .expect("drop index");
    store_db.close().await;
    let (scans, _) = full_scans(&db_url, backend, &sqls, &large).await;
    assert!(
        scans.iter().any(|s| s.contains("FROM persons")),
        "dropping the indexes of persons by owner went unseen; caught: {scans:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_page_reads_a_large_table_whole_sqlite() {
    guard(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_page_reads_a_large_table_whole_postgres() {
    guard(Backend::Postgres).await;
}
