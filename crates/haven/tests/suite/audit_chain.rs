//! The audit chain: every command's entry commits with it (or neither does), and `verify` catches an edited,
//! deleted or reordered entry, a rewritten chain and a cut tail.

use haven_store::testing::execute;
use haven_store::{persons, Actor, Entry};

use crate::harness::*;
use crate::story;

async fn verify(app: &TestApp) -> Option<i64> {
    app.store.verify_audit().await.expect("verify").broken.map(|(seq, _)| seq)
}

story!(a_command_and_its_audit_entry_commit_together, |app| {
    let before = app.count_persons("police").await;
    let audit_before = app.audit_actions().await.len();
    {
        let mut cmd = app.store.command(&Actor::system("test")).await.expect("cmd");
        let who = haven_domain::person::IdentityInput {
            full_name: "Đỗ Thị Mai".into(),
            sex: "f".into(),
            ..Default::default()
        }
        .validate(time::macros::date!(2026 - 06 - 01))
        .expect("valid");
        persons::create(&mut cmd, &app.store.keys, &app.agency_id("police").await, &who).await.expect("create");
        // Dropped without commit: as if the process died here.
    }
    assert_eq!(app.count_persons("police").await, before);
    assert_eq!(app.audit_actions().await.len(), audit_before);
    // A command without an audit entry refuses to commit.
    let cmd = app.store.command(&Actor::system("test")).await.expect("cmd");
    assert!(cmd.commit().await.is_err());
    assert_eq!(verify(&app).await, None);
});

story!(verify_catches_edit_delete_reorder_and_truncation, |app| {
    // Enough entries to cross a signed checkpoint.
    let mut cmd = app.store.command(&Actor::system("test")).await.expect("cmd");
    for i in 0..1100 {
        cmd.audit(Entry::new("test.entry", "test", &i.to_string())).await.expect("audit");
    }
    cmd.commit().await.expect("commit");
    let report = app.store.verify_audit().await.expect("verify");
    assert!(report.ok(), "{report:?}");
    assert!(report.checkpoints >= 1);
    let db = &app.store.db;

    execute(db, "UPDATE audit_log SET actor_user_id = 'someone-else' WHERE seq = 7").await.expect("edit");
    assert_eq!(verify(&app).await, Some(7), "edited entry named");
});

story!(verify_catches_a_deleted_checkpoint, |app| {
    let mut cmd = app.store.command(&Actor::system("test")).await.expect("cmd");
    for i in 0..1100 {
        cmd.audit(Entry::new("test.entry", "test", &i.to_string())).await.expect("audit");
    }
    cmd.commit().await.expect("commit");
    assert_eq!(verify(&app).await, None);
    execute(&app.store.db, "DELETE FROM audit_checkpoints WHERE seq = 1000").await.expect("delete");
    assert_eq!(verify(&app).await, Some(1000));
});

story!(verify_catches_a_chain_rewritten_without_the_signing_key, |app| {
    // An attacker deletes entry 2 and recomputes every later hash: the chain is consistent again, but the
    // signed head no longer matches and names where the log stops agreeing with it.
    let db = &app.store.db;
    let rows = haven_store::audit::browse(db, &Default::default(), 100_000).await.expect("rows");
    let mut rows: Vec<_> = rows.into_iter().rev().filter(|e| e.seq != 2).collect();
    execute(db, "DELETE FROM audit_log").await.expect("wipe");
    let mut prev = vec![0u8; 32];
    for (i, e) in rows.iter_mut().enumerate() {
        e.seq = i as i64 + 1;
        let h = haven_store::audit::entry_hash(
            &prev,
            e.seq,
            e.at,
            &e.actor_user_id,
            &e.actor_agency_id,
            &e.action,
            &e.record_kind,
            &e.record_id,
            &e.purpose,
            &e.fields,
            &e.request_id,
        );
        let hex: String = h.iter().map(|b| format!("{b:02x}")).collect();
        let blob = match app.db.backend {
            Backend::Sqlite => format!("X'{hex}'"),
            Backend::Postgres => format!("'\\x{hex}'::bytea"),
        };
        let q = |s: &str| s.replace('\'', "''");
        execute(db, &format!(
            "INSERT INTO audit_log (seq, at, actor_user_id, actor_agency_id, action, record_kind, record_id, purpose, fields, request_id, hash) VALUES ({}, {}, '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', {blob})",
            e.seq, e.at, q(&e.actor_user_id), q(&e.actor_agency_id), q(&e.action), q(&e.record_kind), q(&e.record_id), q(&e.purpose), q(&e.fields), q(&e.request_id)
        )).await.expect("insert");
        prev = h.to_vec();
    }
    let report = app.store.verify_audit().await.expect("verify");
    assert!(!report.ok(), "a rewritten chain must not verify");
});

story!(verify_catches_a_deleted_entry, |app| {
    execute(&app.store.db, "DELETE FROM audit_log WHERE seq = 5").await.expect("delete");
    assert_eq!(verify(&app).await, Some(5));
});

story!(verify_catches_reordered_entries, |app| {
    let db = &app.store.db;
    // Swap the contents of entries 3 and 4 by moving them through a free sequence number.
    execute(db, "UPDATE audit_log SET seq = -1 WHERE seq = 3").await.expect("move");
    execute(db, "UPDATE audit_log SET seq = 3 WHERE seq = 4").await.expect("move");
    execute(db, "UPDATE audit_log SET seq = 4 WHERE seq = -1").await.expect("move");
    assert_eq!(verify(&app).await, Some(3));
});

story!(verify_catches_a_cut_tail_and_a_rewritten_chain, |app| {
    let db = &app.store.db;
    let last = haven_store::testing::scalar_i64(db, "SELECT MAX(seq) FROM audit_log").await.expect("max");
    execute(db, &format!("DELETE FROM audit_log WHERE seq = {last}")).await.expect("cut");
    assert_eq!(verify(&app).await, Some(last), "the signed head is ahead of the log");
});

story!(verify_catches_an_edited_timestamp_or_purpose, |app| {
    let db = &app.store.db;
    execute(db, "UPDATE audit_log SET at = at + 1 WHERE seq = 2").await.expect("edit");
    assert_eq!(verify(&app).await, Some(2));
});

story!(auditor_browses_and_filters_the_log, |app| {
    let officer = app.login("police.officer").await;
    officer.post("/persons/new", "/persons", &[("full_name", "Bùi Văn Long"), ("sex", "m")]).await;
    let auditor = app.login("province.auditor").await;
    let all = auditor.get("/audit").await;
    assert_eq!(all.status, 200);
    assert!(all.body.contains("person.create"));
    let mine = auditor.get("/audit?user=police.officer&action=person.create").await;
    let table = |body: &str| body.split("id=\"audit-list\"").nth(1).unwrap_or_default().to_owned();
    assert!(table(&mine.body).contains("police.officer") && table(&mine.body).contains("Tạo hồ sơ người"));
    assert!(!table(&mine.body).contains("user.create"), "filtered by action");
    // Bad filters are refused on their field, in Vietnamese, and match nothing.
    let none = auditor.get("/audit?user=nobody").await;
    assert_eq!(none.status, 422);
    assert!(none.body.contains("Không có người dùng với tên đăng nhập này.") && table(&none.body).is_empty());
    let bad = auditor.get("/audit?from=31/02/2026").await;
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains("href=\"#from\"") && bad.body.contains("value=\"31/02/2026\""), "kept");
    let empty = auditor.get("/audit?action=keys.rotate").await;
    assert!(empty.body.contains("Không có mục nhật ký nào khớp với bộ lọc."), "said plainly");
    // "Who viewed this person?", asked with the code users see.
    let person = app.a_person_of("police").await;
    let code = app.store.person(&person).await.expect("read").expect("person").case_code;
    let r = officer
        .post(&format!("/persons/{person}"), &format!("/persons/{person}/reveal"), &[("purpose", "case_work")])
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let viewed = auditor.get(&format!("/audit?record={}", code.to_lowercase())).await;
    assert_eq!(viewed.status, 200);
    let rows = table(&viewed.body);
    assert!(rows.contains(&person) && rows.contains("police.officer"), "{rows}");
    assert!(rows.contains("Xem thông tin nhân thân"), "the view, by name: {rows}");
    let (status, json) =
        app.client().api_get(&token_for(&app, "province.auditor").await, "/api/v1/audit?user=nobody").await;
    assert_eq!((status, json["fields"][0]["field"].as_str()), (422, Some("user")), "{json}");
    let verified = auditor.get("/audit?verify=1").await;
    assert!(verified.body.contains("Chuỗi nhật ký toàn vẹn"), "verify from the page");
    execute(&app.store.db, "UPDATE audit_log SET purpose = 'x' WHERE seq = 10").await.expect("edit");
    let broken = auditor.get("/audit?verify=1").await;
    assert!(broken.body.contains("Chuỗi nhật ký bị sửa đổi từ mục 10"));
});

story!(verify_sees_one_snapshot_while_commands_commit, |app| {
    let store = app.store.clone();
    let writer = tokio::spawn(async move {
        for i in 0..300 {
            let mut cmd = store.command(&Actor::system("test")).await.expect("cmd");
            cmd.audit(Entry::new("test.concurrent", "test", &i.to_string())).await.expect("audit");
            cmd.commit().await.expect("commit");
        }
    });
    let mut checks = 0;
    while !writer.is_finished() {
        let report = app.store.verify_audit().await.expect("verify");
        assert!(report.ok(), "a verify during writes saw a torn log: {report:?}");
        checks += 1;
    }
    writer.await.expect("writer");
    assert!(checks > 1, "verify ran while commands were committing");
    assert!(app.store.verify_audit().await.expect("verify").ok());
});

story!(entries_recorded_at_once_are_each_written_once_and_chained, |app| {
    let before = app.audit_actions().await.len();
    // Forty readers at once, as many searches arriving together: each entry must be durable when its caller
    // is answered, once, with its own actor, and the chain must hold.
    let mut calls = tokio::task::JoinSet::new();
    for i in 0..40 {
        let store = app.store.clone();
        calls.spawn(async move {
            let actor = Actor { user_id: format!("user-{i}"), agency_id: "a".into(), request_id: format!("r{i}") };
            store.record(&actor, Entry::new("test.read", "test", &i.to_string())).await
        });
    }
    for result in calls.join_all().await {
        result.expect("recorded");
    }
    assert_eq!(app.audit_actions().await.len() - before, 40);
    let who: Vec<String> =
        haven_store::testing::column_text(&app.store.db, "audit_log", "actor_user_id || ':' || record_id")
            .await
            .expect("entries")
            .into_iter()
            .filter(|w| w.starts_with("user-"))
            .collect();
    let mut expected: Vec<String> = (0..40).map(|i| format!("user-{i}:{i}")).collect();
    expected.sort();
    assert_eq!(who, expected, "each entry once, under its own actor");
    assert_eq!(verify(&app).await, None);
});

story!(writers_that_hang_up_at_any_moment_leave_no_lock_behind, |app| {
    // A client that hangs up drops its request's command wherever it was: waiting for its turn, beginning,
    // writing or committing. Cut commands short at many points; every later command must still write.
    for i in 0..300u64 {
        let store = app.store.clone();
        let cut = std::time::Duration::from_micros(i * 7 % 900);
        let _ = tokio::time::timeout(cut, async move {
            let mut cmd = store.command(&Actor::system("test")).await?;
            cmd.audit(Entry::new("test.cut", "test", &i.to_string())).await?;
            cmd.commit().await
        })
        .await;
        let store = app.store.clone();
        let _ = tokio::time::timeout(cut, async move {
            store.record(&Actor::system("test"), Entry::new("test.cut_read", "test", &i.to_string())).await
        })
        .await;
    }
    let mut cmd = tokio::time::timeout(std::time::Duration::from_secs(5), app.store.command(&Actor::system("test")))
        .await
        .expect("a writer's turn comes")
        .expect("begin");
    cmd.audit(Entry::new("test.after", "test", "")).await.expect("audit");
    cmd.commit().await.expect("no lock left behind");
    app.store.record(&Actor::system("test"), Entry::new("test.after_read", "test", "")).await.expect("recorded");
    assert_eq!(verify(&app).await, None);
});
