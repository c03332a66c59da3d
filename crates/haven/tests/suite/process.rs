//! The real binary: crash safety under SIGKILL, backup while serving and restore, the CLI's user and token
//! commands, and logs free of identity data.

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use crate::harness::*;

const BIN: &str = env!("CARGO_BIN_EXE_haven");

pub(crate) fn haven(data: &std::path::Path, db: Option<&str>) -> Command {
    let mut c = Command::new(BIN);
    c.arg("--data").arg(data);
    if let Some(url) = db {
        c.arg("--database").arg(url);
    }
    c.env("HAVEN_DEMO_PASSWORD", PASSWORD)
        .env("HAVEN_LOG", "info")
        .env_remove("HAVEN_MASTER_KEY")
        .env_remove("HAVEN_AUDIT_KEY");
    c
}

pub(crate) fn run_ok(mut c: Command) -> String {
    let out = c.output().expect("run haven");
    assert!(
        out.status.success(),
        "haven failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

async fn start_server(data: &std::path::Path, db: Option<&str>) -> (Proc, String) {
    let port = free_port();
    let log = std::fs::File::create(data.join(format!("serve-{port}.log"))).expect("log file");
    let child = Proc::spawn(
        haven(data, db).args(["serve", "--listen", &format!("127.0.0.1:{port}")]).stdout(Stdio::null()).stderr(log),
    );
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    for _ in 0..200 {
        if http.get(format!("{base}/health")).send().await.is_ok_and(|r| r.status() == 200) {
            return (child, base);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("server did not start");
}

async fn crash_story(backend: Backend) {
    let Some(db) = fresh_db(backend).await else { return };
    let url = (backend == Backend::Postgres).then_some(db.url.as_str());
    let dir = TempDir::new("crash");
    run_ok({
        let mut c = haven(dir.path(), url);
        c.args(["demo", "--load-only", "--scale", "20"]);
        c
    });
    let token = run_ok({
        let mut c = haven(dir.path(), url);
        c.args(["user", "token", "police.officer"]);
        c
    })
    .trim()
    .to_owned();
    assert!(token.starts_with("hvn_"));
    let (mut server, base) = start_server(dir.path(), url).await;
    let acked = Arc::new(tokio::sync::Mutex::new(Vec::<String>::new()));
    let http = reqwest::Client::new();
    let mut tasks = Vec::new();
    for w in 0..8 {
        let (http, base, token, acked) = (http.clone(), base.clone(), token.clone(), acked.clone());
        tasks.push(tokio::spawn(async move {
            for i in 0.. {
                let body = json!({"full_name": format!("Nguyễn Văn Thử {w}-{i}"), "sex": "m"});
                let Ok(r) = http.post(format!("{base}/api/v1/persons")).bearer_auth(&token).json(&body).send().await
                else {
                    break;
                };
                if r.status() != 201 {
                    break;
                }
                let Ok(v) = r.json::<serde_json::Value>().await else { break };
                acked.lock().await.push(v["id"].as_str().unwrap_or_default().to_owned());
            }
        }));
    }
    // Kill mid-burst, once a good number of writes were acknowledged.
    while acked.lock().await.len() < 150 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    server.kill();
    for t in tasks {
        let _ = t.await;
    }
    let acked = acked.lock().await.clone();
    assert!(acked.len() >= 150);
    let (mut server, base) = start_server(dir.path(), url).await;
    for id in &acked {
        let r = http.get(format!("{base}/api/v1/persons/{id}")).bearer_auth(&token).send().await.expect("get");
        assert_eq!(r.status(), 200, "acknowledged write {id} lost");
    }
    server.kill();
    let out = run_ok({
        let mut c = haven(dir.path(), url);
        c.args(["audit", "verify"]);
        c
    });
    assert!(out.contains("Audit log intact"), "{out}");
    // The server's log holds no identity: the names written above never appear.
    for entry in std::fs::read_dir(dir.path()).expect("dir").flatten() {
        if entry.file_name().to_string_lossy().ends_with(".log") {
            let log = std::fs::read_to_string(entry.path()).unwrap_or_default();
            assert!(!log.contains("Thử"), "a name reached the log");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_sigkill_sqlite() {
    crash_story(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_sigkill_postgres() {
    crash_story(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_while_serving_and_restore_gives_identical_records() {
    let dir = TempDir::new("backup");
    run_ok({
        let mut c = haven(dir.path(), None);
        c.args(["demo", "--load-only", "--scale", "300"]);
        c
    });
    let token = run_ok({
        let mut c = haven(dir.path(), None);
        c.args(["user", "token", "health.officer"]);
        c
    })
    .trim()
    .to_owned();
    let original_rows = {
        let db = haven_store::Db::connect(&haven_store::sqlite_url(dir.path())).await.expect("db");
        let ids = haven_store::testing::column_text(&db, "persons", "id").await.expect("ids");
        let names = haven_store::testing::column_bytes(&db, "persons", "full_name").await.expect("names");
        db.close().await;
        ids.into_iter().zip(names).collect::<Vec<_>>()
    };
    let (mut server, base) = start_server(dir.path(), None).await;
    let http = reqwest::Client::new();
    // Writes keep arriving while the backup runs.
    let writer = {
        let (http, base, token) = (http.clone(), base.clone(), token.clone());
        tokio::spawn(async move {
            for i in 0..60 {
                let _ = http
                    .post(format!("{base}/api/v1/persons"))
                    .bearer_auth(&token)
                    .json(&json!({"full_name": format!("Lê Thị Sao {i}")}))
                    .send()
                    .await;
            }
        })
    };
    let backup = dir.path().join("copy.db");
    let out = run_ok({
        let mut c = haven(dir.path(), None);
        c.args(["backup", "--out"]).arg(&backup);
        c
    });
    assert!(out.contains("Backup written"));
    // Security finding 6: the backup was world-readable (0644) while the data folder is 0700.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&backup).expect("backup").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "a backup is its owner's alone");
    }
    // A second backup onto the same file is refused, and the first stays as it was.
    let len = std::fs::metadata(&backup).expect("backup").len();
    let again = haven(dir.path(), None).args(["backup", "--out"]).arg(&backup).output().expect("run");
    assert!(!again.status.success());
    assert_eq!(std::fs::metadata(&backup).expect("backup").len(), len);
    writer.await.expect("writer");
    server.kill();

    // Restore into a fresh folder holding the same key file.
    let restored = TempDir::new("restored");
    std::fs::copy(dir.path().join("haven.key"), restored.path().join("haven.key")).expect("key");
    run_ok({
        let mut c = haven(restored.path(), None);
        c.arg("restore").arg(&backup);
        c
    });
    let keys = haven_store::KeyFile::load(&restored.path().join("haven.key")).expect("keys");
    let copy = haven_store::Store::open(
        &haven_store::sqlite_url(restored.path()),
        &keys,
        Arc::new(haven_domain::time::SystemClock),
    )
    .await
    .expect("open restored");
    assert!(copy.verify_audit().await.expect("verify").ok(), "the restored audit chain verifies");
    let ids = haven_store::testing::column_text(&copy.db, "persons", "id").await.expect("ids");
    let names = haven_store::testing::column_bytes(&copy.db, "persons", "full_name").await.expect("names");
    let restored_rows: Vec<_> = ids.into_iter().zip(names).collect();
    assert!(restored_rows.len() >= original_rows.len());
    for row in &original_rows {
        assert!(restored_rows.contains(row), "every record from before the backup is back, byte for byte");
    }
    // Each restored identity still opens with the key file.
    let any = copy
        .persons_of_agency(&copy.agency_by_code("police").await.expect("q").expect("police").id, None, 1)
        .await
        .expect("page");
    let mut cmd = copy.command(&haven_store::Actor::system("test")).await.expect("cmd");
    assert!(haven_store::persons::view_identity(&mut cmd, &copy.keys, &any.items[0].id, "case_work", false)
        .await
        .expect("open")
        .is_some());
    cmd.commit().await.expect("commit");
    // A backup whose keys the folder's key file cannot open is refused, and nothing is replaced.
    let stranger = TempDir::new("stranger");
    haven_store::KeyFile::generate().write(&stranger.path().join("haven.key")).expect("key");
    let out = haven(stranger.path(), None).arg("restore").arg(&backup).output().expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("do not open"), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!stranger.path().join("haven.db").exists());
    // And restore refuses something that is not a Haven backup.
    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, b"not a database").expect("junk");
    let out = haven(restored.path(), None).arg("restore").arg(&junk).output().expect("run");
    assert!(!out.status.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_adds_a_user_whose_token_answers_me() {
    let dir = TempDir::new("cli");
    let out = run_ok({
        let mut c = haven(dir.path(), None);
        c.args(["demo", "--load-only", "--scale", "5"]);
        c
    });
    assert!(out.contains("police.officer") && out.contains("province.auditor"), "demo prints the accounts");
    assert!(!out.contains(PASSWORD), "the password is never printed");
    let key = dir.path().join("haven.key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&key).expect("key").permissions().mode() & 0o777,
            0o600,
            "key file readable by its owner only"
        );
    }
    let mut add = haven(dir.path(), None);
    add.args(["user", "add", "border.analyst2", "--agency", "border", "--role", "analyst"])
        .env("HAVEN_PASSWORD", "mật khẩu đủ dài");
    run_ok(add);
    let mut bad = haven(dir.path(), None);
    bad.args(["user", "add", "x1", "--agency", "nowhere", "--role", "analyst"])
        .env("HAVEN_PASSWORD", "mật khẩu đủ dài");
    assert!(!bad.output().expect("run").status.success());
    let token = run_ok({
        let mut c = haven(dir.path(), None);
        c.args(["user", "token", "border.analyst2"]);
        c
    })
    .trim()
    .to_owned();
    let (mut server, base) = start_server(dir.path(), None).await;
    let r = reqwest::Client::new().get(format!("{base}/api/v1/me")).bearer_auth(&token).send().await.expect("me");
    assert_eq!(r.status(), 200);
    let me: serde_json::Value = r.json().await.expect("json");
    assert_eq!(me["agency"]["code"], "border");
    assert_eq!(me["roles"], json!(["analyst"]));
    server.kill();
    run_ok({
        let mut c = haven(dir.path(), None);
        c.args(["user", "disable", "border.analyst2"]);
        c
    });
    let (mut server, base) = start_server(dir.path(), None).await;
    let r = reqwest::Client::new().get(format!("{base}/api/v1/me")).bearer_auth(&token).send().await.expect("me");
    assert_eq!(r.status(), 401, "disabling revokes tokens");
    server.kill();
    // Without its key file, a database with data refuses to start rather than make a new key.
    std::fs::rename(&key, dir.path().join("moved.key")).expect("move key");
    let out = haven(dir.path(), None).arg("migrate").output().expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("key file"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_imports_a_spreadsheet_once_and_refuses_bad_rows() {
    let dir = TempDir::new("import");
    run_ok({
        let mut c = haven(dir.path(), None);
        c.args(["demo", "--load-only", "--scale", "5"]);
        c
    });
    let list = dir.path().join("danh-sach.csv");
    std::fs::write(&list, "Họ và tên;Ngày sinh;Giới tính;Xã;Vắng từ\nPơ Loong Thị Blang;01/02/1990;Nữ;Trà My;2021\nA Lăng Đàn;1993;Nam;Xã Trà My;2022\n")
        .expect("list");
    let import = |file: &std::path::Path| {
        let mut c = haven(dir.path(), None);
        c.args(["import", "--kind", "absentees", "--user", "pc-tramy.clerk", "--file"]).arg(file);
        c.output().expect("run")
    };
    let out = import(&list);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{err}");
    assert!(err.contains("Importing: 2 / 2 rows") && err.contains("Imported 2 rows"), "{err}");
    assert!(!err.contains("Blang") && !err.contains("Lăng"), "no names printed");
    let out = import(&list);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success() && err.contains("Không tạo thêm bản ghi nào"), "{err}");
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "Họ và tên,Ngày sinh,Xã\nNguyễn Văn A,31/02/1990,Trà My\n,1990,Nơi Không Có\n").expect("bad");
    let out = import(&bad);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("row 2, B (birth_date)") && err.contains("row 3, A (full_name)"), "{err}");
    assert!(err.contains("row 3, C (commune_code)") && !err.contains("Nơi Không Có"), "columns by letter: {err}");
    assert!(err.contains("nothing was saved"));
}

/// Security finding 3: the audit log could be rolled back. Every backup holds a valid signed head, so putting an
/// older database file in place (or deleting the newest entries and writing back an older head) passed
/// `haven audit verify`, and a routine restore dropped every entry since without a trace.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rolled_back_audit_log_is_caught_by_its_witness() {
    let dir = TempDir::new("witness-data");
    let elsewhere = TempDir::new("witness-elsewhere");
    let witness = elsewhere.path().join("audit.witness");
    let with_witness = |args: &[&str]| {
        let mut c = haven(dir.path(), None);
        c.arg("--audit-witness").arg(&witness).args(args);
        c
    };
    run_ok({
        let mut c = haven(dir.path(), None);
        c.args(["demo", "--load-only", "--scale", "5"]);
        c
    });
    // The witness is refused inside the data folder, where it would be rolled back with the database.
    let out = haven(dir.path(), None)
        .arg("--audit-witness")
        .arg(dir.path().join("w"))
        .args(["audit", "witness"])
        .output()
        .expect("run");
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("outside the data folder"));
    run_ok(with_witness(&["audit", "witness"]));
    let backup = elsewhere.path().join("older.db");
    run_ok({
        let mut c = haven(dir.path(), None);
        c.args(["backup", "--out"]).arg(&backup);
        c
    });
    // Work goes on after the backup, and the witness sees it.
    let mut add = haven(dir.path(), None);
    add.args(["user", "add", "late.clerk", "--agency", "border", "--role", "clerk"])
        .env("HAVEN_PASSWORD", "mật khẩu đủ dài");
    run_ok(add);
    let said = run_ok(with_witness(&["audit", "witness"]));
    let code = said.rsplit(' ').next().expect("code").trim().to_owned();
    assert!(code.contains(':') && code.matches('-').count() == 2, "a short code to keep on paper: {said}");
    assert!(run_ok(with_witness(&["audit", "verify"])).contains("witness marks agree"));

    // A routine restore of the older backup is told by the log itself and explained to the verifier.
    let out = run_ok(with_witness(&["restore", backup.to_str().expect("path")]));
    assert!(out.contains("records this restore"), "{out}");
    let verified = run_ok(with_witness(&["audit", "verify"]));
    assert!(verified.contains("undone by a recorded restore"), "{verified}");

    // The attack: the older file put in place by hand, with its valid signed head. The chain alone cannot tell;
    // the witness and the paper code can.
    for f in ["haven.db-wal", "haven.db-shm"] {
        let _ = std::fs::remove_file(dir.path().join(f));
    }
    std::fs::copy(&backup, dir.path().join("haven.db")).expect("put the old file in place");
    let alone = run_ok({
        let mut c = haven(dir.path(), None);
        c.args(["audit", "verify"]);
        c
    });
    assert!(alone.contains("intact"), "without a witness the rollback is invisible: {alone}");
    let by_paper = {
        let mut c = haven(dir.path(), None);
        c.args(["audit", "verify", "--code", &code]);
        c
    };
    for mut c in [with_witness(&["audit", "verify"]), by_paper] {
        let out = c.output().expect("run");
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(2), "{text}");
        assert!(text.contains("ROLLED BACK"), "{text}");
    }
    // A witness file edited to hide the rollback is refused: every line is signed.
    let text = std::fs::read_to_string(&witness).expect("witness");
    let edited: String =
        text.lines().take(1).map(|l| l.replacen(' ', "  ", 1).replacen("v1 ", "v1 9", 1) + "\n").collect();
    std::fs::write(&witness, edited).expect("edit");
    let out = with_witness(&["audit", "verify"]).output().expect("run");
    assert!(!out.status.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backups_into_a_folder_keep_the_newest_and_the_server_makes_them_on_schedule() {
    let dir = TempDir::new("backups");
    run_ok({
        let mut c = haven(dir.path(), None);
        c.args(["demo", "--load-only", "--scale", "20"]);
        c
    });
    let folder = dir.path().join("backups");
    // Two older backups and a file of the operator's own already there.
    std::fs::create_dir_all(&folder).expect("folder");
    for old in ["haven-20250101T020000Z.db", "haven-20250102T020000Z.db", "README.txt"] {
        std::fs::write(folder.join(old), b"older").expect("write");
    }
    let out = run_ok({
        let mut c = haven(dir.path(), None);
        c.args(["backup", "--to"]).arg(&folder).args(["--keep", "2"]);
        c
    });
    assert!(out.contains("Removed the older backup") && out.contains("haven-20250101T020000Z.db"), "{out}");
    let mut names: Vec<String> =
        std::fs::read_dir(&folder).expect("list").filter_map(|e| e.ok()?.file_name().into_string().ok()).collect();
    names.sort();
    assert_eq!(names.len(), 3, "{names:?}");
    assert_eq!(names[0], "README.txt", "files of other names stay");
    assert_eq!(names[1], "haven-20250102T020000Z.db");
    let newest = folder.join(&names[2]);
    // The new one is a whole database with the records.
    let db = haven_store::Db::connect(&format!("sqlite://{}", newest.display())).await.expect("open backup");
    assert!(haven_store::testing::scalar_i64(&db, "SELECT COUNT(*) FROM persons").await.expect("count") >= 20);
    db.close().await;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&newest).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "a backup is its owner's alone");
    }
    // No --keep without --to, and no keeping nothing.
    for args in [vec!["backup", "--keep", "2"], vec!["backup", "--to", "x", "--keep", "0"]] {
        let o = haven(dir.path(), None).args(&args).output().expect("run");
        assert!(!o.status.success(), "{args:?}");
        assert!(!String::from_utf8_lossy(&o.stderr).contains("panicked"), "{args:?}");
    }

    // The server backs up when it starts (and every --backup-every hours), into its own folder.
    let scheduled = dir.path().join("scheduled");
    let port = free_port();
    let _server = Proc::spawn(
        haven(dir.path(), None)
            .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--backup-keep", "3", "--backup-to"])
            .arg(&scheduled)
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    );
    let mut found = Vec::new();
    for _ in 0..100 {
        found = std::fs::read_dir(&scheduled)
            .map(|d| d.filter_map(|e| e.ok()?.file_name().into_string().ok()).collect())
            .unwrap_or_default();
        if found.iter().any(|n: &String| n.ends_with(".db")) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(found.iter().any(|n| n.starts_with("haven-") && n.ends_with("Z.db")), "{found:?}");
}
