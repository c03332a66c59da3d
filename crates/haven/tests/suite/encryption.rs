//! Identity at rest: no name or ID number appears in the database file, its WAL or a backup; blind indexes
//! find exact values; key rotation changes every ciphertext and no value.

use std::sync::Arc;

use haven_store::persons::OpenedIdentity;
use haven_store::{keys, persons, staging, Actor, KeyFile, Store};

use crate::harness::*;
use crate::story;

/// Every person's identity, opened (and audited) the way the pages do.
async fn all_identities(store: &Store) -> Vec<(String, OpenedIdentity)> {
    let mut out = Vec::new();
    for agency in store.agencies().await.expect("agencies").iter() {
        let mut after: Option<String> = None;
        loop {
            let page = store.persons_of_agency(&agency.id, after.as_deref(), 200).await.expect("page");
            let mut cmd = store.command(&Actor::system("test")).await.expect("cmd");
            for p in &page.items {
                let id = persons::view_identity(&mut cmd, &store.keys, &p.id, "case_work", false)
                    .await
                    .expect("open")
                    .expect("exists");
                out.push((p.id.clone(), id));
            }
            if !page.items.is_empty() {
                cmd.commit().await.expect("commit");
            }
            match page.next {
                Some(n) => after = Some(n),
                None => break,
            }
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn contains(hay: &[u8], needle: &str) -> bool {
    let n = needle.as_bytes();
    n.len() >= 4 && hay.windows(n.len()).any(|w| w == n)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_identity_in_the_database_file_wal_or_backup() {
    let app = TestApp::start(Backend::Sqlite).await.expect("sqlite");
    let c = app.login("police.officer").await;
    c.post(
        "/persons/new",
        "/persons",
        &[
            ("full_name", "Hoàng Thị Xuân Quỳnh"),
            ("sex", "f"),
            ("id_number", "048301987654"),
            ("phone", "0912345678"),
            ("address", "Tổ 5, phường Hải Châu"),
        ],
    )
    .await;
    let identities = all_identities(&app.store).await;
    assert!(identities.len() > 40);
    let dir = app.db.url.trim_start_matches("sqlite://").trim_end_matches("haven.db").to_owned();
    let backup = std::path::PathBuf::from(&dir).join("backup.db");
    app.store.db.backup_to(&backup).await.expect("backup");
    let mut files = Vec::new();
    for f in ["haven.db", "haven.db-wal"] {
        files.push((f.to_owned(), std::fs::read(std::path::Path::new(&dir).join(f)).unwrap_or_default()));
    }
    files.push(("backup".into(), std::fs::read(&backup).expect("backup bytes")));
    assert!(files.iter().map(|(_, b)| b.len()).sum::<usize>() > 100_000, "files were read");
    for (_, who) in &identities {
        let mut needles = vec![who.full_name.clone()];
        needles.extend(who.id_number.clone());
        needles.extend(who.phone.clone());
        for (file, bytes) in &files {
            for n in &needles {
                assert!(!contains(bytes, n), "{file} holds an identity value in plaintext");
            }
        }
    }
    // The search would have found them had they been there.
    assert!(contains(&files[2].1, "person.view_identity"));
}

story!(ciphertexts_carry_no_plaintext_on_either_database, |app| {
    let identities = all_identities(&app.store).await;
    let names = haven_store::testing::column_bytes(&app.store.db, "persons", "full_name").await.expect("names");
    assert_eq!(names.len(), identities.len());
    for (_, who) in &identities {
        assert!(!names.iter().any(|c| contains(c, &who.full_name)));
    }
});

story!(key_rotation_changes_ciphertexts_not_values, |app| {
    let dir = TempDir::new("keys");
    app.keys.write(&haven_store::crypto::key_path(dir.path())).expect("key file");
    let c = app.login("police.officer").await;
    c.post("/persons/new", "/persons", &[("full_name", "Vũ Minh Khoa"), ("sex", "m"), ("id_number", "048090001111")])
        .await;
    let before = all_identities(&app.store).await;
    let cipher_before = haven_store::testing::column_bytes(&app.store.db, "persons", "full_name").await.expect("c");
    // An import staging meanwhile: its rows were sealed with the retiring key, so rotation drops the stage
    // and the import's publish fails rather than bring them in under the old key.
    let actor = Actor {
        user_id: app.user_id("police.officer").await,
        agency_id: app.agency_id("police").await,
        request_id: "test".into(),
    };
    let staged = a_valid_identity();
    let mut stage = app.store.begin_stage(&actor, "upload-1").await.expect("stage");
    let entry = haven_store::registers::NewAbsentee {
        commune_code: "20900",
        absent_since: None,
        destination: None,
        contact: None,
        reported_by: None,
        household: None,
        note: None,
    };
    app.store.stage(&mut stage, &[staging::Row::Absentee { identity: &staged, entry }]).await.expect("staged");
    let r = keys::rotate(&app.store, &app.keys, dir.path()).await.expect("rotate");
    assert!(r.values_reencrypted as usize >= before.len());
    let mut cmd = app.store.command(&actor).await.expect("command");
    assert!(staging::publish(&mut cmd, &stage, "import-1").await.is_err(), "the stage went with the old key");
    drop(cmd);
    for table in staging::STAGED_TABLES {
        let n = haven_store::testing::scalar_i64(&app.store.db, &format!("SELECT COUNT(*) FROM {table}")).await;
        assert_eq!(n.expect("n"), 0, "{table} emptied by the rotation");
    }
    let new_keys = KeyFile::load(&haven_store::crypto::key_path(dir.path())).expect("new key file");
    assert_ne!(new_keys.master, app.keys.master);
    assert!(!haven_store::crypto::next_key_path(dir.path()).exists());
    let retired: Vec<_> = std::fs::read_dir(dir.path())
        .expect("dir")
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("haven.key.retired-"))
        .collect();
    assert_eq!(retired.len(), 1, "the old key file is kept for older backups");
    assert_eq!(KeyFile::read_file(&retired[0].path()).expect("retired").master, app.keys.master);
    let cipher_after = haven_store::testing::column_bytes(&app.store.db, "persons", "full_name").await.expect("c");
    assert!(cipher_before.iter().all(|c| !cipher_after.contains(c)), "every ciphertext changed");
    // The old master key no longer opens the data; the new one gives back every value.
    assert!(Store::open(&app.db.url, &app.keys, Arc::new(haven_domain::time::SystemClock)).await.is_err());
    let reopened = Store::open(&app.db.url, &new_keys, app.store.clock()).await.expect("open with new key");
    let after = all_identities(&reopened).await;
    assert_eq!(before.len(), after.len());
    for ((ida, a), (idb, b)) in before.iter().zip(&after) {
        assert_eq!(ida, idb);
        assert_eq!(
            (&a.full_name, &a.birth_date, &a.sex, &a.id_number, &a.phone, &a.address),
            (&b.full_name, &b.birth_date, &b.sex, &b.id_number, &b.phone, &b.address)
        );
    }
    // Blind indexes survive: the exact look-up still finds the record.
    assert_eq!(reopened.find_persons_by_id_number("048090001111").await.expect("find").len(), 1);
    assert!(reopened.verify_audit().await.expect("verify").ok());
});

/// Key rotation walks `SEALED_COLUMNS`; a new sealed column missing from it would keep its old key forever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_blob_column_is_either_sealed_or_a_known_hash() {
    let db = fresh_db(Backend::Sqlite).await.expect("sqlite");
    let d = haven_store::Db::connect(&db.url).await.expect("connect");
    d.migrate().await.expect("migrate");
    let not_identity = [
        ("audit_checkpoints", "hash"),
        ("audit_checkpoints", "signature"),
        ("audit_head", "hash"),
        ("audit_head", "signature"),
        ("audit_log", "hash"),
        ("data_keys", "wrapped"),
    ];
    for (table, column) in haven_store::testing::sqlite_blob_columns(&d).await.expect("columns") {
        let sealed =
            haven_store::keys::SEALED_COLUMNS.iter().any(|(t, _, cols)| *t == table && cols.contains(&column.as_str()));
        // Staged import rows are dropped by rotation rather than re-sealed.
        let staged = haven_store::staging::STAGED_TABLES.contains(&table.as_str());
        let known = staged || not_identity.contains(&(table.as_str(), column.as_str()));
        assert!(sealed || known, "{table}.{column} is a blob that key rotation does not know");
    }
}
