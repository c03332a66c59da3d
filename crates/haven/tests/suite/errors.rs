//! How errors look: a 404 page, 413 for oversized bodies, security headers, JSON errors under /api.

use crate::harness::*;
use crate::story;
use serde_json::json;

story!(unknown_pages_oversized_bodies_and_headers, |app| {
    let c = app.login("police.officer").await;
    let r = c.get("/khong-co-trang-nay").await;
    assert_eq!(r.status, 404);
    assert!(r.body.contains("Không tìm thấy trang"));
    assert!(r.body.contains("Mã yêu cầu"), "request id shown");
    let h = &c.get("/").await.headers;
    let csp = h.get("content-security-policy").and_then(|v| v.to_str().ok()).unwrap_or_default();
    assert!(
        csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self'") && !csp.contains("unsafe-inline")
    );
    assert_eq!(h.get("x-content-type-options").and_then(|v| v.to_str().ok()), Some("nosniff"));
    assert_eq!(h.get("referrer-policy").and_then(|v| v.to_str().ok()), Some("no-referrer"));
    assert!(h.get("strict-transport-security").is_none(), "HSTS only behind TLS");
    let (s, body) = c.api_get("x", "/api/v1/nothing").await;
    assert_eq!(s, 404);
    assert_eq!(body["error"], "not_found");
    // Last, because the server closes a connection whose body it refused to read.
    let before = app.count_persons("police").await;
    let big = "x".repeat(300 * 1024);
    let r = c.post_raw("/persons", &[("full_name", big.as_str())]).await;
    assert_eq!(r.status, 413);
    assert!(r.body.contains("quá lớn"));
    assert_eq!(app.count_persons("police").await, before);
});

story!(cookies_are_http_only_and_strict, |app| {
    let c = app.client();
    let login = c.get("/login").await;
    let set = login.headers.get("set-cookie").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    assert!(set.contains("HttpOnly") && set.contains("SameSite=Strict"), "{set}");
    let r = c.login("police.officer", PASSWORD).await;
    let cookies: Vec<&str> = r.headers.get_all("set-cookie").iter().filter_map(|v| v.to_str().ok()).collect();
    let session = cookies.iter().find(|c| c.starts_with("haven_session=")).expect("session cookie");
    assert!(session.contains("HttpOnly") && session.contains("SameSite=Strict"));
});

story!(an_internal_error_shows_only_an_apology_and_a_request_id, |app| {
    let person = app.a_person_of("police").await;
    let c = app.login("health.officer").await;
    // Break the database under the server: the page must fail politely, revealing nothing.
    haven_store::testing::execute(&app.store.db, "DROP TABLE break_glass").await.expect("drop");
    let r = c.get(&format!("/persons/{person}")).await;
    assert_eq!(r.status, 500);
    assert!(r.body.contains("Xin lỗi, đã có lỗi xảy ra"));
    let id = r.headers.get("x-request-id").and_then(|v| v.to_str().ok()).expect("request id").to_owned();
    assert!(r.body.contains(&id), "the page carries the request id");
    assert!(!r.body.to_lowercase().contains("break_glass") && !r.body.contains("sql"), "no internals shown");
});

story!(a_nul_character_anywhere_is_refused_and_changes_nothing, |app| {
    // Found by the API fuzzer on PostgreSQL, which refuses a NUL in text: every way in answers 400 instead.
    let token = token_for(&app, "health.officer").await;
    let c = app.client();
    let before = app.count_persons("health").await;
    let body = serde_json::json!({"person_code": "\u{0}O", "received_on": "2026-11-02", "reception_kind": "self"});
    let (s, answer) = c.api_post(&token, "/api/v1/victims", &body).await;
    assert_eq!(s, 400, "{answer}");
    assert_eq!(answer["error"], "bad_request");
    let (s, _) = c.api_get(&token, "/api/v1/persons?code=a%00b").await;
    assert_eq!(s, 400);
    // An escaped backslash before `u0000` is text, not a NUL: that body reaches the use case.
    let body = serde_json::json!({"full_name": "\\u0000", "sex": "female"});
    let (s, answer) = c.api_post(&token, "/api/v1/persons", &body).await;
    assert_ne!(s, 400, "{answer}");
    let page = app.login("health.officer").await;
    let r = page.post("/persons/new", "/persons", &[("full_name", "Lê\u{0}Thị"), ("sex", "female")]).await;
    assert_eq!(r.status, 400);
    assert_eq!(app.count_persons("health").await, before + i64::from(s == 201));
});

story!(garbled_names_and_births_to_come_are_refused_everywhere_and_change_nothing, |app| {
    let token = token_for(&app, "health.officer").await;
    let c = app.client();
    let before = app.count_persons("health").await;
    // A name of invisible characters, one written backwards on screen, one with no letter; a birth still to
    // come. Each is said on its own field, in the user's language.
    for (name, birth, field) in [
        ("\u{200B}\u{200C}\u{200D}", "", "full_name"),
        ("Mai\u{202E}iH", "", "full_name"),
        ("1234", "", "full_name"),
        ("Lò Thị Mai", "12/2026", "birth_date"),
        ("Lò Thị Mai", "31/12/2026", "birth_date"),
    ] {
        let body = serde_json::json!({"full_name": name, "birth_date": birth, "sex": "f"});
        let (s, answer) = c.api_post(&token, "/api/v1/persons", &body).await;
        assert_eq!((s, answer["fields"][0]["field"].as_str()), (422, Some(field)), "{name:?} {birth}: {answer}");
    }
    let page = app.login("health.officer").await;
    let r = page.post("/persons/new", "/persons", &[("full_name", "\u{FEFF}\u{2060}"), ("sex", "f")]).await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("Tên có ký tự ẩn hoặc ký tự điều khiển"), "{}", r.body);
    // The same rule in an import: the row is refused, with the file's own header.
    let clerk = token_for(&app, "pc-tramy.clerk").await;
    let text = "Họ và tên,Xã\r\nHồ Văn Đức,Trà My\r\nHo\u{202E}a,Trà My\r\n";
    let (s, up) =
        c.api_upload(&clerk, "/api/v1/imports", &[("kind", "absentees")], ("ds.csv", text.as_bytes().to_vec())).await;
    assert_eq!(s, 201, "{up}");
    let id = up["id"].as_str().expect("id");
    let (_, checked) = c.api_post(&clerk, &format!("/api/v1/imports/{id}/check"), &serde_json::json!({})).await;
    assert_eq!(checked["error_count"].as_u64(), Some(1), "{checked}");
    assert_eq!(
        (checked["errors"][0]["row"].clone(), checked["errors"][0]["column"].clone()),
        (serde_json::json!(3), serde_json::json!("Họ và tên"))
    );
    assert_eq!(app.count_persons("health").await, before, "nothing written");
});

story!(a_writer_that_finds_the_database_busy_is_told_to_retry_and_nothing_is_written, |app| {
    let token = token_for(&app, "border.officer").await;
    let c = app.client();
    let page = app.login("border.officer").await;
    let before = app.count_persons("border").await;
    // Another writer keeps the database longer than a writer waits (a long import's write, another server).
    let held = app.store.command(&haven_store::Actor::system("test-holds-the-lock")).await.expect("turn");
    let person = json!({"full_name": "Lò Thị Mai", "sex": "f"});
    let (s, h, body) = c.api_with_headers("post", &token, "/api/v1/persons", Some(&person)).await;
    assert_eq!((s, body["error"].as_str()), (503, Some("busy")), "{body}");
    assert_eq!(h.get("retry-after").and_then(|v| v.to_str().ok()), Some("5"));
    assert!(body["message"].as_str().is_some_and(|m| m.contains("gửi lại sau vài giây")), "{body}");
    // A page says so in the user's language, with the same header; the form can simply be sent again.
    let r = page.post("/persons/new", "/persons", &[("full_name", "Lò Thị Mai"), ("sex", "f")]).await;
    assert_eq!(r.status, 503, "{}", r.body);
    assert!(r.body.contains("Haven đang bận") && r.body.contains("Không có gì bị thay đổi"), "{}", r.body);
    assert_eq!(r.headers.get("retry-after").and_then(|v| v.to_str().ok()), Some("5"));
    assert_eq!(app.count_persons("border").await, before, "nothing written while refused");
    // Once the other writer is done, the same requests go through.
    drop(held);
    let (s, created) = c.api_post(&token, "/api/v1/persons", &person).await;
    assert_eq!(s, 201, "{created}");
    let r = page.post("/persons/new", "/persons", &[("full_name", "Lò Thị Mai"), ("sex", "f")]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(app.count_persons("border").await, before + 2);
});
