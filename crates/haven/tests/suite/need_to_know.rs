//! Need-to-know access on person records: owner agency, grants to an agency or a user with expiry,
//! revocation, break-the-glass with a reason shown to the owner's head, and audited identity views.

use crate::harness::*;
use crate::story;

story!(other_agency_needs_a_grant_and_loses_it_on_revoke, |app| {
    let person = app.a_person_of("police").await;
    let path = format!("/persons/{person}");
    let health = app.login("health.officer").await;
    let denied = health.get(&path).await;
    assert_eq!(denied.status, 403);
    assert!(denied.body.contains("Công an thành phố Đà Nẵng"), "says who owns it");
    assert!(!denied.body.contains("identity-name"));

    let police = app.login("police.officer").await;
    let bad = police
        .post(&path, &format!("{path}/grants"), &[("agency", "health"), ("purpose", "gossip"), ("days", "0")])
        .await;
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains("Số ngày từ 1 đến 366"));
    assert!(bad.body.contains("Hãy chọn một mục trong danh sách"), "purpose comes from the list");
    let ok = police
        .post(&path, &format!("{path}/grants"), &[("agency", "health"), ("purpose", "support"), ("days", "30")])
        .await;
    assert_eq!(ok.status, 303, "{}", ok.body);
    assert_eq!(health.get(&path).await.status, 200, "granted to the agency");
    assert!(health.get("/persons?view=shared").await.body.contains(&person));

    // The grant ends by itself.
    app.advance(31 * DAY_MS);
    let health = app.login("health.officer").await;
    assert_eq!(health.get(&path).await.status, 403, "expired");

    // A personal grant, then revoked.
    let police = app.login("police.officer").await;
    police
        .post(
            &path,
            &format!("{path}/grants"),
            &[("username", "health.head"), ("purpose", "verification"), ("days", "5")],
        )
        .await;
    let head = app.login("health.head").await;
    assert_eq!(head.get(&path).await.status, 200);
    assert_eq!(app.login("health.officer").await.get(&path).await.status, 403, "personal grant is personal");
    let grants = app.store.grants_on("person", &person).await.expect("grants");
    let live = grants.iter().find(|g| g.revoked_at.is_none() && g.grantee_user_id.is_some()).expect("live grant");
    let r = police.post(&path, &format!("{path}/grants/{}/revoke", live.id), &[]).await;
    assert_eq!(r.status, 303);
    assert_eq!(head.get(&path).await.status, 403, "revoked");
    let actions = app.audit_actions().await;
    assert!(actions.contains(&"grant.create".to_owned()) && actions.contains(&"grant.revoke".to_owned()));
});

story!(break_the_glass_needs_a_reason_and_is_reported, |app| {
    let person = app.a_person_of("police").await;
    let path = format!("/persons/{person}");
    let border = app.login("border.officer").await;
    assert_eq!(border.get(&path).await.status, 403);
    let short = border
        .post(&format!("{path}/break-glass"), &format!("{path}/break-glass"), &[("reason", "gấp"), ("minutes", "60")])
        .await;
    assert_eq!(short.status, 422);
    assert!(short.body.contains("Ghi lý do khẩn cấp, ít nhất 15 ký tự"));
    assert_eq!(border.get(&path).await.status, 403, "no access without a reason");
    let reason = "Tiếp nhận tại cửa khẩu, cần xác minh nhân thân ngay";
    let ok = border
        .post(&format!("{path}/break-glass"), &format!("{path}/break-glass"), &[("reason", reason), ("minutes", "30")])
        .await;
    assert_eq!(ok.status, 303, "{}", ok.body);
    let page = border.get(&path).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("truy cập khẩn cấp"));
    // The owner's head sees it with the reason, and marks it reviewed.
    let head = app.login("police.head").await;
    let sup = head.get("/supervision").await;
    assert!(sup.body.contains(reason), "reason shown to the head");
    assert_eq!(app.login("police.officer").await.get("/supervision").await.status, 403);
    let id = app.store.break_glass_on_agency(&app.agency_id("police").await, 10).await.expect("bg")[0].id.clone();
    assert_eq!(head.post("/supervision", &format!("/supervision/break-glass/{id}/review"), &[]).await.status, 303);
    // Time-limited.
    app.advance(31 * 60_000);
    let border = app.login("border.officer").await;
    assert_eq!(border.get(&path).await.status, 403, "window closed");
    let actions = app.audit_actions().await;
    assert!(actions.contains(&"break_glass.open".to_owned()) && actions.contains(&"break_glass.review".to_owned()));
});

story!(identity_opens_with_a_purpose_and_the_view_is_audited, |app| {
    let c = app.login("police.officer").await;
    let created = c
        .post(
            "/persons/new",
            "/persons",
            &[
                ("full_name", "Nguyễn Thị Hoà"),
                ("birth_date", "05/03/1998"),
                ("sex", "f"),
                ("id_number", "048198001234"),
                ("phone", "0905 123 456"),
                ("commune_code", "20900"),
                ("address", "Thôn 2"),
            ],
        )
        .await;
    assert_eq!(created.status, 303, "{}", created.body);
    let path = created.location.expect("location").split('?').next().expect("path").to_owned();
    let page = c.get(&path).await;
    assert!(!page.body.contains("Nguyễn Thị Hoà"), "pseudonymous until opened");
    assert!(page.body.contains("HS-"), "case code shown");
    let bad = c.post(&path, &format!("{path}/reveal"), &[("purpose", "curiosity")]).await;
    assert_eq!(bad.status, 422);
    let shown = c.post(&path, &format!("{path}/reveal"), &[("purpose", "verification")]).await;
    assert_eq!(shown.status, 200);
    for v in ["Nguyễn Thị Hoà", "048198001234", "05/03/1998", "0905123456", "Thôn 2", "Nữ"] {
        assert!(shown.body.contains(v), "{v}");
    }
    let id = path.trim_start_matches("/persons/");
    let entries = haven_store::audit::browse(
        &app.store.db,
        &haven_store::audit::Filter { record_id: Some(id.into()), ..Default::default() },
        10,
    )
    .await
    .expect("audit");
    let view = entries.iter().find(|e| e.action == "person.view_identity").expect("view audited");
    assert_eq!(view.purpose, "verification");
    assert_eq!(view.actor_user_id, app.user_id("police.officer").await);
    assert!(view.fields.contains("full_name"));
    // The head sees who looked and why.
    let head = app.login("police.head").await;
    assert!(head.get("/supervision").await.body.contains("Xác minh"));
    // A clerk may enter records but not read identities back.
    let clerk = app.login("police.clerk").await;
    assert_eq!(clerk.post(&path, &format!("{path}/reveal"), &[("purpose", "verification")]).await.status, 403);
});

story!(bad_person_input_is_refused_field_by_field_and_nothing_is_written, |app| {
    let c = app.login("police.officer").await;
    let before = app.count_persons("police").await;
    let audit_before = app.audit_actions().await.len();
    let r = c
        .post(
            "/persons/new",
            "/persons",
            &[("full_name", " "), ("birth_date", "31/02/2000"), ("sex", "f"), ("id_number", "12345"), ("phone", "12")],
        )
        .await;
    assert_eq!(r.status, 422);
    for msg in ["Cần điền mục này", "Ngày sinh không hợp lệ", "Số CCCD phải có 12 chữ số", "Số điện thoại không hợp lệ"]
    {
        assert!(r.body.contains(msg), "{msg}");
    }
    assert!(r.body.contains("value=\"31/02/2000\""), "the form keeps what was typed");
    assert_eq!(app.count_persons("police").await, before);
    assert_eq!(app.audit_actions().await.len(), audit_before);
});

story!(search_by_id_number_uses_the_blind_index_and_keeps_it_out_of_urls, |app| {
    let c = app.login("health.officer").await;
    let made = c
        .post("/persons/new", "/persons", &[("full_name", "Trần Văn An"), ("sex", "m"), ("id_number", "049095012345")])
        .await;
    assert_eq!(made.status, 303);
    let found = c.post("/persons", "/persons/search", &[("q", "049 095 012 345")]).await;
    assert_eq!(found.status, 200);
    assert!(found.body.contains("HS-"), "{}", found.body);
    assert_eq!(found.body.matches("<tr>").count(), 2, "header and one row");
    // The police, who may not open it, learn nothing: not the record, its code, its commune or its agency.
    let police = app.login("police.officer").await;
    let seen = police.post("/persons", "/persons/search", &[("q", "049095012345")]).await;
    assert_eq!(seen.status, 200);
    assert!(seen.body.contains("Không có hồ sơ nào bạn được mở khớp"), "{}", seen.body);
    assert!(!seen.body.contains("<td class=\"code\">") && !seen.body.contains("/break-glass"));
    assert!(!seen.body.contains("Sở Y tế"), "nor which agency holds it");
    // The look-up is audited by kind, with the same keyed hash for the same number (a head sees repeated
    // probing), and the number appears in no audit column.
    let entries = haven_store::audit::browse(&app.store.db, &Default::default(), 50).await.expect("audit");
    let searches: Vec<_> = entries.iter().filter(|e| e.action == "person.search").collect();
    assert_eq!(searches.len(), 2);
    assert!(searches.iter().all(|e| e.fields == "id_number"));
    assert!(searches[0].record_id.len() == 32 && searches[0].record_id == searches[1].record_id);
    assert!(entries.iter().all(|e| !format!("{e:?}").contains("049095012345")));
    // A search without its token is refused like any other form.
    assert_eq!(police.post_raw("/persons/search", &[("q", "049095012345")]).await.status, 403);
});
