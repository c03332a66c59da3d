//! International cooperation: a border post asks a foreign authority to verify a woman's nationality, linked
//! to her person record and victim case; bad requests are refused with nothing saved; the request turns
//! overdue the day after its due date and leaves the overdue list when the answer is recorded; another
//! agency cannot open it; what it asks is stored sealed.

use crate::harness::*;
use crate::story;

fn path_of(r: &Resp) -> String {
    r.location.clone().unwrap_or_default().split('?').next().unwrap_or_default().to_owned()
}

story!(a_verification_request_goes_overdue_until_answered, |app| {
    let officer = app.login("border.officer").await;
    let r = officer
        .post(
            "/persons/new",
            "/persons",
            &[("full_name", "Sùng Thị Mỷ"), ("birth_date", "1998"), ("sex", "f"), ("nationality", "VN")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let person = app.store.person(path_of(&r).trim_start_matches("/persons/")).await.expect("read").expect("person");
    let r = officer
        .post(
            "/victims/new",
            "/victims",
            &[
                ("person_code", person.case_code.as_str()),
                ("reception_kind", "border"),
                ("received_on", "05/02/2026"),
                ("vietnamese", "1"),
                ("in_vietnam", "1"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let victim = app.store.victim_case(path_of(&r).trim_start_matches("/victims/")).await.expect("r").expect("case");

    let list = officer.get("/cooperation").await;
    assert_eq!(list.status, 200);
    assert!(list.body.contains("href=\"/cooperation\"") && list.body.contains("id=\"cooperation-none\""));
    let good = [
        ("direction", "outgoing"),
        ("kind", "nationality_verification"),
        ("country", "KH"),
        ("counterpart_kind", "foreign_authority"),
        ("counterpart", "Sở xuất nhập cảnh tỉnh giáp biên"),
        ("reference", "125/BĐBP-PCTP"),
        ("sent_on", "10/02/2026"),
        ("due_on", ""),
        ("person_code", person.case_code.as_str()),
        ("victim_code", victim.case_code.as_str()),
        ("summary", "Đề nghị xác minh quốc tịch của Sùng Thị Mỷ, sinh năm 1998"),
    ];
    let with = |changes: &[(&'static str, &'static str)]| {
        good.iter().map(|(k, v)| (*k, changes.iter().find(|(c, _)| c == k).map_or(*v, |(_, v)| *v))).collect::<Vec<_>>()
    };

    // Bad requests: each names what is wrong, in the user's language, and nothing is saved.
    let bad = officer
        .post("/cooperation", "/cooperation", &with(&[("due_on", "01/02/2026"), ("country", "VN"), ("kind", "")]))
        .await;
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains("Hạn trả lời không thể trước ngày gửi yêu cầu"), "{}", bad.body);
    assert!(bad.body.contains("Sở xuất nhập cảnh tỉnh giáp biên"), "what was typed is kept");
    let bad = officer
        .post("/cooperation", "/cooperation", &with(&[("person_code", "HS-0000-0000"), ("victim_code", "NN-nope")]))
        .await;
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains("Không có hồ sơ nạn nhân nào mang mã này"), "{}", bad.body);
    let bad = officer.post("/cooperation", "/cooperation", &with(&[("sent_on", "02/03/2026")])).await;
    assert_eq!(bad.status, 422, "sent tomorrow");
    assert!(app.store.cooperation_of_agency(&app.agency_id("border").await, 10).await.expect("list").is_empty());

    // The request: due 30 days after it went out, linked to her records.
    let r = officer.post("/cooperation", "/cooperation", &good).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let page_path = path_of(&r);
    let page = officer.get(&page_path).await.body;
    assert!(page.contains("12/03/2026") && page.contains("Đang chờ trả lời"), "{page}");
    assert!(page.contains(&person.case_code) && page.contains(&victim.case_code), "links");
    assert!(page.contains("Đề nghị xác minh quốc tịch"), "the agency reads what it asked");
    let sealed = haven_store::testing::column_bytes(&app.store.db, "cooperation_requests", "summary").await.expect("c");
    assert_eq!(sealed.len(), 1);
    assert!(!String::from_utf8_lossy(&sealed[0]).contains("Sùng"), "stored sealed");

    // The victim's case lists it, and the home page counts it.
    let case_page = officer.get(&format!("/victims/{}", victim.id)).await.body;
    assert!(case_page.contains("id=\"case-cooperation\"") && case_page.contains(&page_path), "{case_page}");
    assert!(officer.get("/").await.body.contains("id=\"count-cooperation_awaiting\">1<"));
    // A clerk of the same agency sees the request but not what it asks (clerks do not read identities).
    let clerk = app.create_user("border.clerk2", &app.agency_id("border").await, "clerk").await;
    let seen = clerk.get(&page_path).await;
    assert_eq!(seen.status, 200);
    assert!(seen.body.contains(&victim.case_code) && !seen.body.contains("Đề nghị xác minh"), "{}", seen.body);
    // Another agency cannot open it, and does not see it in its list.
    let police = app.login("police.officer").await;
    assert_eq!(police.get(&page_path).await.status, 403);
    let theirs = police.get("/cooperation?list=all").await;
    assert!(theirs.body.contains("id=\"cooperation-none\""), "{} {}", theirs.status, theirs.body);

    // Past its due date it is overdue, on the list and in the count.
    app.advance(16 * DAY_MS);
    let officer = app.login("border.officer").await;
    let overdue = officer.get("/cooperation?list=overdue").await.body;
    let code = app.store.cooperation_request(page_path.trim_start_matches("/cooperation/")).await.expect("r");
    let code = code.expect("request").case_code;
    assert!(overdue.contains(&format!("id=\"request-{code}\" class=\"overdue\"")), "{overdue}");
    assert!(overdue.contains("Quá hạn: <strong>1</strong>"), "{overdue}");

    // The answer: not before the request, then recorded; the request leaves the overdue list.
    let answer = format!("{page_path}/answer");
    let early = officer.post(&page_path, &answer, &[("answered_on", "09/02/2026"), ("outcome", "confirmed")]).await;
    assert_eq!(early.status, 422);
    assert!(early.body.contains("Ngày trả lời không thể trước ngày gửi yêu cầu"));
    let reply = [("answered_on", "14/03/2026"), ("outcome", "confirmed"), ("answer", "Xác nhận quốc tịch Việt Nam")];
    assert_eq!(officer.post(&page_path, &answer, &reply).await.status, 303);
    let page = officer.get(&page_path).await.body;
    assert!(page.contains("Đã trả lời") && page.contains("Xác nhận quốc tịch Việt Nam") && page.contains("14/03/2026"));
    assert!(officer.get("/cooperation?list=overdue").await.body.contains("id=\"cooperation-none\""));
    let again = officer.post(&page_path, &format!("{page_path}/withdraw"), &[]).await;
    assert_eq!(again.status, 409, "an answered request is not withdrawn");
    assert!(again.body.contains("Yêu cầu này không còn chờ trả lời"));

    // A request received from abroad, no longer needed: withdrawn, it leaves the list awaiting answers.
    let incoming = [
        ("direction", "incoming"),
        ("kind", "information_exchange"),
        ("country", "LA"),
        ("counterpart_kind", "overseas_mission"),
        ("counterpart", "Tổng lãnh sự quán"),
        ("sent_on", "15/03/2026"),
        ("due_on", "30/03/2026"),
    ];
    let r = officer.post("/cooperation", "/cooperation", &incoming).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let second = path_of(&r);
    assert!(officer.get("/cooperation").await.body.contains("Đang chờ trả lời: <strong>1</strong>"));
    assert_eq!(officer.post(&second, &format!("{second}/withdraw"), &[]).await.status, 303);
    assert!(officer.get(&second).await.body.contains("Đã rút"));
    let awaiting = officer.get("/cooperation").await.body;
    assert!(awaiting.contains("id=\"cooperation-none\"") && awaiting.contains("Đang chờ trả lời: <strong>0</strong>"));
    assert_eq!(officer.get("/cooperation?list=all").await.body.matches("<tr id=\"request-").count(), 2);

    let actions = app.audit_actions().await;
    for a in ["cooperation.create", "cooperation.view", "cooperation.answer"] {
        assert!(actions.iter().any(|x| x == a), "{a} audited");
    }
    assert_eq!(actions.iter().filter(|x| *x == "cooperation.withdraw").count(), 1, "the refused one is not");

    // The same through the API: a request recorded from a script, the lists and counts read back.
    let token = token_for(&app, "border.officer").await;
    let c = app.client();
    let body = serde_json::json!({
        "direction": "outgoing", "kind": "repatriation", "country": "PH", "counterpart_kind": "overseas_mission",
        "counterpart": "Đại sứ quán Việt Nam", "sent_on": "16/03/2026", "victim_code": victim.case_code,
    });
    let (status, made) = c.api_post(&token, "/api/v1/cooperation", &body).await;
    assert_eq!(status, 201, "{made}");
    assert_eq!(made["due_on"], "2026-05-15", "60 days for a repatriation");
    let mut bad = body.clone();
    bad["country"] = "VN".into();
    let (status, refused) = c.api_post(&token, "/api/v1/cooperation", &bad).await;
    assert_eq!(status, 422);
    assert_eq!(refused["fields"][0]["field"], "country", "{refused}");
    let (status, list) = c.api_get(&token, "/api/v1/cooperation").await;
    assert_eq!(status, 200);
    assert_eq!((list["awaiting"].as_i64(), list["overdue"].as_i64()), (Some(1), Some(0)), "{list}");
    assert_eq!(list["items"][0]["status"], "open");
    assert_eq!(list["items"][0]["case_code"], made["case_code"]);
    let listed = officer.get("/cooperation").await.body;
    assert!(
        listed.contains("<td>PH</td>") && !listed.contains("country.PH"),
        "a country without a name shows its code"
    );
    let (_, all) = c.api_get(&token, "/api/v1/cooperation?list=all").await;
    assert_eq!(all["items"].as_array().map(Vec::len), Some(3));
    assert!(!all.to_string().contains("Sùng"), "the sealed text stays out of lists");
});
