//! The platform as a newcomer meets it: health, the log-in page in Vietnamese, the home page, the language
//! switch, the schema on both databases, and a command that writes its audit entry with it.

use crate::harness::*;
use crate::story;

story!(health_and_login_page_in_vietnamese, |app| {
    let c = app.client();
    let h = c.get("/health").await;
    assert_eq!((h.status, h.body.as_str()), (200, "ok"));
    let home = c.get("/").await;
    assert_eq!(home.status, 303);
    assert_eq!(home.location.as_deref(), Some("/login?next=%2F"));
    let login = c.get("/login").await;
    assert_eq!(login.status, 200);
    assert!(login.body.contains("<html lang=\"vi\">"));
    assert!(login.body.contains("Đăng nhập"));
    assert!(login.body.contains("Tên đăng nhập"));
});

story!(log_in_see_home_and_switch_language, |app| {
    let c = app.login("police.officer").await;
    let home = c.get("/").await;
    assert_eq!(home.status, 200);
    assert!(home.body.contains("Cán bộ thụ lý"), "role shown in Vietnamese");
    assert!(home.body.contains("Công an thành phố Đà Nẵng"), "agency shown");
    assert!(home.body.contains("Tiếp nhận tố giác, tin báo"), "where a police officer starts, in Vietnamese");
    let r = c.post("/", "/language", &[("lang", "en"), ("back", "/persons")]).await;
    assert_eq!((r.status, r.location.as_deref()), (303, Some("/persons")));
    let persons = c.get("/persons").await;
    assert!(persons.body.contains("<html lang=\"en\">"));
    assert!(persons.body.contains("Person records"));
    // The choice is the user's: a new session keeps it.
    let again = app.login("police.officer").await;
    assert!(again.get("/").await.body.contains("Your roles"));
    assert!(app.audit_actions().await.contains(&"user.language".to_owned()));
});

story!(dates_and_numbers_in_vietnamese_format, |app| {
    let c = app.login("police.officer").await;
    let page = c.get("/persons").await.body;
    // START is 01/03/2026 09:00 in Viet Nam; the demo records were created then.
    assert!(page.contains("01/03/2026 09:00"), "dd/mm/yyyy HH:MM");
});

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_databases_have_the_same_schema() {
    let Some(pg) = fresh_db(Backend::Postgres).await else { return };
    let lite = fresh_db(Backend::Sqlite).await.expect("sqlite");
    let mut schemas = Vec::new();
    for db in [&lite, &pg] {
        let d = haven_store::Db::connect(&db.url).await.expect("connect");
        d.migrate().await.expect("migrate");
        schemas.push(d.schema().await.expect("schema"));
        d.close().await;
    }
    assert!(schemas[0].len() >= 15, "tables: {:?}", schemas[0].iter().map(|t| &t.0).collect::<Vec<_>>());
    assert_eq!(schemas[0], schemas[1], "SQLite and PostgreSQL schemas differ");
}

story!(agencies_and_units_come_from_the_profile, |app| {
    let agencies = app.store.agencies().await.expect("agencies");
    let kinds: Vec<&str> = agencies.iter().map(|a| a.kind.as_str()).collect();
    for k in [
        "police",
        "border_guard",
        "social_support",
        "foreign_affairs",
        "procuracy",
        "court",
        "commune_committee",
        "womens_union",
        "shelter",
    ] {
        assert!(kinds.contains(&k), "{k}");
    }
    let communes = app.store.communes("48").await.expect("communes");
    assert_eq!(communes.len(), 94, "Da Nang has 94 commune-level units since 2025");
    assert!(communes.iter().any(|(_, n)| n == "Xã Trà My"));
    let admin = app.login("admin").await;
    let page = admin.get("/admin/agencies").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Bộ Chỉ huy Bộ đội Biên phòng thành phố Đà Nẵng"));
});

story!(admin_creates_user_with_field_errors_first, |app| {
    let admin = app.login("admin").await;
    let health = app.agency_id("health").await;
    let before = app.store.users(None).await.expect("users").len();
    let bad = admin
        .post(
            "/admin/users",
            "/admin/users",
            &[("username", "X Y"), ("display_name", ""), ("agency_id", &health), ("password", "short")],
        )
        .await;
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains("Có lỗi cần sửa"), "error summary");
    assert!(bad.body.contains("href=\"#username\""), "summary links to the field");
    assert!(bad.body.contains("Mật khẩu cần ít nhất 10 ký tự"));
    assert!(bad.body.contains("Hãy chọn ít nhất một vai trò"));
    assert_eq!(app.store.users(None).await.expect("users").len(), before, "nothing written");
    let ok = admin
        .post(
            "/admin/users",
            "/admin/users",
            &[
                ("username", "health.officer2"),
                ("display_name", "Cán bộ mới"),
                ("agency_id", &health),
                ("role", "clerk"),
                ("password", "một mật khẩu dài"),
            ],
        )
        .await;
    assert_eq!(ok.status, 303, "{}", ok.body);
    let u = app.store.user_by_name("health.officer2").await.expect("q").expect("created");
    assert_eq!(u.roles, vec![haven_domain::Role::DataClerk], "a clerk reads no identity: given at once");
    assert!(app.audit_actions().await.contains(&"user.create".to_owned()));
    let c = app.client();
    assert_eq!(c.login("health.officer2", "một mật khẩu dài").await.status, 303);
});

story!(roles_gate_pages, |app| {
    let analyst = app.login("province.analyst").await;
    assert_eq!(analyst.get("/persons").await.status, 403, "analysts see aggregates only");
    assert_eq!(analyst.get("/audit").await.status, 403);
    let auditor = app.login("province.auditor").await;
    assert_eq!(auditor.get("/audit").await.status, 200);
    assert_eq!(auditor.get("/persons").await.status, 403);
    let officer = app.login("police.officer").await;
    assert_eq!(officer.get("/admin/users").await.status, 403);
    let forbidden = officer.get("/admin/users").await;
    assert!(forbidden.body.contains("Bạn không có quyền thực hiện việc này"));
    let admin = app.login("admin").await;
    assert_eq!(admin.get("/persons").await.status, 403, "the administrator does not read case files");
});

story!(metrics_are_scraped_from_the_host_and_name_routes_not_records, |app| {
    let officer = app.login("police.officer").await;
    let persons = officer.get("/persons").await;
    assert_eq!(persons.status, 200);
    let some_person = app.a_person_of("police").await;
    assert_eq!(officer.get(&format!("/persons/{some_person}")).await.status, 200);
    // A scraper on the same host reads them.
    let r = app.client().get("/metrics").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let content_type = r.headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default();
    assert!(content_type.starts_with("text/plain; version=0.0.4"), "{content_type}");
    let line = |prefix: &str| r.body.lines().find(|l| l.starts_with(prefix)).map(str::to_owned);
    let persons_count =
        line("haven_http_request_duration_seconds_count{method=\"GET\",route=\"/persons\",status=\"2xx\"}")
            .expect("the persons list is counted under its route");
    assert!(persons_count.ends_with(" 1"), "{persons_count}");
    assert!(line("haven_http_request_duration_seconds_count{method=\"GET\",route=\"/persons/{id}\",status=\"2xx\"}")
        .is_some());
    let pool: f64 =
        line("haven_db_pool_connections ").expect("pool").rsplit(' ').next().unwrap_or("").parse().expect("n");
    assert!(pool >= 1.0, "{pool}");
    assert!(line("haven_match_queue_persons ").is_some() && line("haven_import_stages ").is_some());
    let age: f64 =
        line("haven_audit_head_age_seconds ").expect("age").rsplit(' ').next().unwrap_or("").parse().expect("age");
    assert!((0.0..60.0).contains(&age), "the log-ins just wrote audit entries: {age}");
    // Routes, never paths: no record's id is in them.
    assert!(!r.body.contains(&some_person), "a record id in the metrics");
    // Anyone else finds nothing there.
    let remote = Client::from_addr(&app.base, "203.0.113.9");
    assert_eq!(remote.get("/metrics").await.status, 404);
});
