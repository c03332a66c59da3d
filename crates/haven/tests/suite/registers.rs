//! The people registers: a commune's long-term absentees reviewed in rounds, a border guard's handover batch and
//! screening, candidate matches shown at entry with their explanation, decisions remembered, and victim cases
//! opened from a register.

use crate::harness::*;
use crate::story;

fn path_of(r: &Resp) -> String {
    r.location.as_deref().expect("location").split('?').next().expect("path").to_owned()
}

async fn add_absentee(c: &Client, fields: &[(&str, &str)]) -> Resp {
    c.post("/absentees/new", "/absentees", fields).await
}

async fn add_returnee(c: &Client, batch: &str, fields: &[(&str, &str)]) -> Resp {
    c.post(batch, &format!("{batch}/people"), fields).await
}

story!(registers_match_a_returnee_to_an_absentee_and_open_victim_cases, |app| {
    let commune = app.login("pc-tramy.officer").await;
    // Bad input: a name is needed and an absence cannot start in the future; nothing is saved.
    let before = app.count_persons("pc-tramy").await;
    let r =
        add_absentee(&commune, &[("full_name", ""), ("commune_code", "20900"), ("absent_since", "2027"), ("sex", "f")])
            .await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("Cần điền mục này") && r.body.contains("Ngày này chưa đến"), "{}", r.body);
    assert_eq!(app.count_persons("pc-tramy").await, before);

    let r = add_absentee(
        &commune,
        &[
            ("full_name", "Hồ Thị Hoà"),
            ("birth_date", "05/03/1998"),
            ("sex", "f"),
            ("commune_code", "20900"),
            ("absent_since", "2023"),
            ("destination", "Sang Lào làm thuê theo lời rủ của người quen"),
            ("reported_by", "Mẹ đẻ"),
        ],
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let absentee = path_of(&r);
    let absentee_code = app
        .store
        .absentee(absentee.trim_start_matches("/absentees/"))
        .await
        .expect("read")
        .expect("absentee")
        .case_code;
    let page = commune.get(&absentee).await.body;
    assert!(page.contains("Xã Trà My") && page.contains("2023") && !page.contains("Sang Lào"), "details stay sealed");
    let stored = haven_store::testing::column_bytes(&app.store.db, "absentees", "destination").await.expect("column");
    assert!(!stored.iter().any(|v| v.windows(4).any(|w| w == "Sang".as_bytes())), "sealed at rest");
    let opened = commune.post(&absentee, &format!("{absentee}/details"), &[("purpose", "case_work")]).await;
    assert_eq!(opened.status, 200);
    assert!(opened.body.contains("Sang Lào làm thuê") && opened.body.contains("Mẹ đẻ"));
    assert!(app.audit_actions().await.contains(&"absentee.view_details".to_owned()));
    // Another agency does not see the commune's register.
    assert_eq!(app.login("police.officer").await.get(&absentee).await.status, 403);

    // A border guard records a handover batch; bad input names each field.
    let border = app.login("border.officer").await;
    let r = border
        .post(
            "/handovers",
            "/handovers",
            &[("handed_on", "02/03/2026"), ("gate", "nowhere"), ("country", "VN"), ("authority", "")],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("Ngày này chưa đến") && r.body.contains("Hãy chọn một mục trong danh sách"));
    let r = border
        .post(
            "/handovers",
            "/handovers",
            &[
                ("handed_on", "20/02/2026"),
                ("gate", "nam_giang"),
                ("country", "LA"),
                ("authority", "Công an tỉnh Sê Kông"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let batch = path_of(&r);

    // The Lao list writes the given name first, without diacritics, with day and month swapped.
    let r =
        add_returnee(&border, &batch, &[("full_name", "HOA THI HO"), ("birth_date", "03/05/1998"), ("sex", "f")]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let returnee = path_of(&r);
    let page = border.get(&returnee).await.body;
    assert!(page.contains("Hồ sơ do một cơ quan khác quản lý"), "the absentee is proposed at once: {page}");
    assert!(page.contains("Người này có thể đã được một cơ quan khác biết đến."), "{page}");
    assert!(!page.contains("Trà My"), "another agency's record shows neither who holds it nor its code");
    // (Its code, not the prefix: another code on the page may hold the letters "VM-" by chance.)
    assert!(!page.contains(&absentee_code), "another agency's record shows neither who holds it nor its code");
    assert!(page.contains("Cùng tên khi bỏ dấu hoặc đổi thứ tự") && page.contains("Đảo ngày và tháng"), "{page}");
    // In words, as a reviewer reads it: what agrees and how, what is not known on both sides; never a
    // certainty.
    let why = page.split("class=\"summary explanation\"").nth(1).expect("the explanation").split("</dl>").next();
    let why = why.expect("a list");
    assert!(
        why.contains(
            "<dt>Giống nhau</dt><dd>Họ tên: cùng tên khi bỏ dấu hoặc đổi thứ tự; Ngày sinh: đảo ngày và tháng"
        ),
        "{why}"
    );
    assert!(why.contains("<dt>Không có ở cả hai</dt><dd>Số giấy tờ"), "{why}");
    assert!(!page.contains("100%") && !page.contains("100.0%"), "no certainty");
    assert!(!page.contains(&absentee), "the border guard gets no link into the commune's register");
    // Someone with no likely match gets none.
    let r = add_returnee(&border, &batch, &[("full_name", "Trần Văn Nam"), ("birth_date", "1979"), ("sex", "m")]).await;
    assert!(border.get(&path_of(&r)).await.body.contains("Không tìm thấy người có thể trùng"));

    // Both agencies see the pair in their queue; the border guard confirms it.
    let queue = border.get("/matches").await.body;
    let id = queue.split("id=\"match-").nth(1).expect("a pair").split('"').next().expect("id").to_owned();
    let theirs = commune.get("/matches").await.body;
    assert!(
        theirs.contains(&format!("match-{id}")) && theirs.contains(&absentee_code),
        "the commune sees its own entry"
    );
    assert!(theirs.contains("Hồ sơ do một cơ quan khác quản lý") && !theirs.contains("HH-"), "{theirs}");
    assert!(!theirs.contains("Biên phòng"), "nor which agency holds the other record: {theirs}");
    // Someone who may not see identities sees the pair, not which fields agreed.
    let clerk_agency = app.agency_id("pc-tramy").await;
    let clerk = app.create_user("tramy.clerk", &clerk_agency, "clerk").await;
    let queue = clerk.get("/matches").await.body;
    assert!(queue.contains(&format!("match-{id}")) && !queue.contains("Đảo ngày và tháng"), "{queue}");
    assert!(queue.contains("Chỉ người được xem thông tin nhân thân"));
    assert_eq!(
        border.post("/matches", &format!("/matches/{id}"), &[("decision", "merge")]).await.status,
        403,
        "a merge needs both records"
    );
    // One agency's word does not link two agencies' records: the border guard asks, the commune confirms.
    let r = border.post("/matches", &format!("/matches/{id}"), &[("decision", "same")]).await;
    assert_eq!(r.status, 303);
    assert!(r.location.as_deref().unwrap_or_default().contains("match_asked"), "{:?}", r.location);
    let queue = border.get("/matches").await.body;
    assert!(queue.contains(&format!("asked-{id}")) && !queue.contains(&format!("same-{id}")), "{queue}");
    assert!(!app.audit_actions().await.contains(&"match.same".to_owned()));
    let theirs = commune.get("/matches").await.body;
    assert!(theirs.contains("Một cơ quan khác cho rằng đây là cùng một người"), "{theirs}");
    let r = commune.post("/matches", &format!("/matches/{id}"), &[("decision", "same")]).await;
    assert!(r.location.as_deref().unwrap_or_default().contains("match_same"), "{:?}", r.location);
    assert!(!border.get("/matches").await.body.contains(&format!("match-{id}")), "decided pairs leave the queue");
    assert!(app.audit_actions().await.contains(&"match.same".to_owned()));
    // The returnee's person record now shows the commune's entry as the same person, by its code only.
    let page = border.get(&returnee).await.body;
    let person = page.split("href=\"/persons/").nth(1).expect("person link").split('"').next().expect("id").to_owned();
    let record = border.get(&format!("/persons/{person}")).await.body;
    assert!(
        record.contains("Cùng một người với") && record.contains("Hồ sơ của Ủy ban nhân dân xã Trà My"),
        "{record}"
    );
    assert!(!record.contains(&absentee_code), "{record}");
    assert!(!record.contains(&absentee), "no link into the commune's register");

    // A pair rejected is never proposed again, not even by a run over the whole registers.
    add_absentee(
        &commune,
        &[("full_name", "Lê Văn Tám"), ("birth_date", "1990"), ("sex", "m"), ("commune_code", "20900")],
    )
    .await;
    let r = add_returnee(&border, &batch, &[("full_name", "Le Van Tam"), ("birth_date", "1990"), ("sex", "m")]).await;
    let tam = path_of(&r);
    let page = border.get(&tam).await.body;
    let pair = page.split("id=\"match-").nth(1).expect("proposed").split('"').next().expect("id").to_owned();
    let r = border.post("/matches", &format!("/matches/{pair}"), &[("decision", "different")]).await;
    assert_eq!(r.status, 303);
    let commune_head_agency = app.agency_id("pc-tramy").await;
    let commune_head = app.create_user("tramy.head", &commune_head_agency, "head").await;
    assert!(!commune_head.get("/matches").await.body.contains("id=\"sweep\""));
    assert_eq!(commune_head.post("/matches", "/matches/sweep", &[]).await.status, 403, "a commune does not sweep");
    let head = app.login("border.head").await;
    let swept = head.post("/matches", "/matches/sweep", &[]).await;
    assert_eq!(swept.status, 200);
    assert!(swept.body.contains("id=\"sweep-report\""));
    assert!(!head.get("/matches").await.body.contains(&format!("match-{pair}")));
    assert!(border.get(&tam).await.body.contains("Không phải cùng người"));

    // Screening: the indicators point to trafficking, so "irregular migrant" needs a fuller reason.
    let r = border
        .post(
            &returnee,
            &returnee,
            &[
                ("yes", "deceived_job"),
                ("yes", "confined"),
                ("classification", "irregular_migrant"),
                ("reason", "Tự đi"),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("có dấu hiệu mua bán người"), "{}", r.body);
    let r = border
        .post(
            &returnee,
            &returnee,
            &[
                ("yes", "deceived_job"),
                ("yes", "confined"),
                ("classification", "suspected_victim"),
                ("reason", "Bị ép làm lừa đảo qua mạng, bị nhốt"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let victim = path_of(&r);
    assert!(victim.starts_with("/victims/"));
    // The victim case carries the screening over: when, the classification and each indicator ticked.
    let case_page = border.get(&victim).await;
    assert_eq!(case_page.status, 200);
    let screening = &case_page.body[case_page.body.find("id=\"screening\"").expect("screening section")..];
    assert!(
        screening.contains("Nghi là nạn nhân") && screening.contains("Công việc thực tế có khác hẳn"),
        "{screening}"
    );
    assert!(screening.contains(&format!("href=\"{returnee}\"")), "the record with the notes, for its agency");
    let token = token_for(&app, "border.officer").await;
    let (_, json) = app.client().api_get(&token, &format!("/api/v1{victim}")).await;
    let ticked: Vec<&str> =
        json["screening"]["indicators"].as_array().expect("indicators").iter().filter_map(|v| v.as_str()).collect();
    assert_eq!(ticked, ["confined", "deceived_job"], "{json}");
    let page = border.get(&returnee).await.body;
    assert!(page.contains("Nghi là nạn nhân") && page.contains("Công việc thực tế có khác hẳn"), "{page}");
    let again = border.post(&returnee, &returnee, &[("classification", "other"), ("reason", "x")]).await;
    assert_eq!(again.status, 422, "screened once");
    // The reason is sealed: it opens with a purpose, for the border guard only, and the opening is audited.
    assert!(!page.contains("Bị ép làm lừa đảo") && page.contains("id=\"open-screening\""));
    let open = format!("{returnee}/screening");
    let opened = border.post(&returnee, &open, &[("purpose", "verification")]).await;
    assert!(opened.body.contains("Bị ép làm lừa đảo qua mạng, bị nhốt"), "{}", opened.body);
    assert!(app.audit_actions().await.contains(&"returnee.view_screening".to_owned()));
    assert_eq!(border.post(&returnee, &open, &[("purpose", "curiosity")]).await.status, 422);
    let police = app.login("police.officer").await;
    assert_eq!(police.post_raw(&open, &[("purpose", "verification")]).await.status, 403);

    // A review round: outcomes are dated inside the round; "suspected trafficked" opens a victim case.
    let r = commune
        .post(
            "/absentees/rounds",
            "/absentees/rounds",
            &[("name", "Rà soát quý I/2026"), ("starts_on", "01/03/2026"), ("ends_on", "01/01/2026")],
        )
        .await;
    assert_eq!(r.status, 422);
    let r = commune
        .post(
            "/absentees/rounds",
            "/absentees/rounds",
            &[("name", "Rà soát quý I/2026"), ("starts_on", "01/01/2026"), ("ends_on", "31/03/2026")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let page = commune.get(&absentee).await.body;
    let round = page
        .split("name=\"round_id\"><option value=\"")
        .nth(1)
        .expect("a round")
        .split('"')
        .next()
        .expect("id")
        .to_owned();
    let r = commune
        .post(
            &absentee,
            &format!("{absentee}/review"),
            &[("round_id", &round), ("outcome", "missing"), ("outcome_on", "15/12/2025")],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("Ngày nằm ngoài đợt rà soát"));
    let r = commune
        .post(
            &absentee,
            &format!("{absentee}/review"),
            &[("round_id", &round), ("outcome", "suspected_trafficked"), ("outcome_on", "01/03/2026")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert!(path_of(&r).starts_with("/victims/"), "a victim case opened from the register");
    let rounds = commune.get("/absentees/rounds").await.body;
    assert!(rounds.contains("Nghi bị mua bán") && rounds.contains("Xã Trà My"));
    let counts = app.store.round_counts(&app.agency_id("pc-tramy").await, &round).await.expect("counts");
    let suspected: i64 =
        counts.iter().filter(|k| k.outcome.as_deref() == Some("suspected_trafficked")).map(|k| k.count).sum();
    let pending: i64 = counts.iter().filter(|k| k.outcome.is_none()).map(|k| k.count).sum();
    assert_eq!((suspected, pending >= 1), (1, true), "{counts:?}");
});

story!(registers_through_the_api, |app| {
    let commune = token_for(&app, "pc-namgiang.officer").await;
    let c = app.client();
    let before = app.count_persons("pc-namgiang").await;
    let (status, body) =
        c.api_post(&commune, "/api/v1/absentees", &serde_json::json!({ "full_name": "Zơ Râm Thị Bốn" })).await;
    assert_eq!(status, 422);
    assert_eq!(body["fields"][0]["field"], "commune_code", "{body}");
    assert_eq!(app.count_persons("pc-namgiang").await, before, "nothing saved");
    let (status, body) = c
        .api_post(
            &commune,
            "/api/v1/absentees",
            &serde_json::json!({ "full_name": "Zơ Râm Thị Bốn", "birth_date": "12/08/2001", "sex": "f", "commune_code": "20707", "absent_since": "2024" }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["absentee"]["commune_code"], "20707");
    assert!(body["absentee"]["case_code"].as_str().is_some_and(|c| c.starts_with("VM-")));
    assert!(body.to_string().find("Zơ Râm").is_none(), "the API answers with codes, not names");

    let border = token_for(&app, "border.officer").await;
    let (status, batch) = c
        .api_post(&border, "/api/v1/handovers", &serde_json::json!({ "handed_on": "01/02/2026", "gate": "nam_giang", "country": "LA", "authority": "Công an tỉnh Sê Kông" }))
        .await;
    assert_eq!(status, 201, "{batch}");
    let batch_id = batch["batch"]["id"].as_str().expect("id").to_owned();
    let (status, r) = c
        .api_post(
            &border,
            &format!("/api/v1/handovers/{batch_id}/people"),
            &serde_json::json!({ "full_name": "BON ZO RAM THI", "birth_date": "08/12/2001", "sex": "f" }),
        )
        .await;
    assert_eq!(status, 201, "{r}");
    assert_eq!(r["candidates"].as_array().map(Vec::len), Some(1), "{r}");
    let (status, queue) = c.api_get(&border, "/api/v1/matches").await;
    assert_eq!(status, 200);
    let m = &queue["items"][0];
    assert!(
        m["explanation"].as_array().is_some_and(|e| e.iter().any(|p| p["label"] == "dob" && p["level"] == 3)),
        "{m}"
    );
    assert_eq!(m["this"]["register"], "returnee", "{m}");
    assert_eq!((m["other"]["register"].as_str(), m["other"]["code"].is_null()), (Some("other"), true), "{m}");
    assert!(m.get("person_a").is_none() && !m.to_string().contains("person_"), "no raw person ids: {m}");
    let id = m["id"].as_str().expect("id").to_owned();
    let (status, _) =
        c.api_post(&commune, &format!("/api/v1/matches/{id}"), &serde_json::json!({ "decision": "maybe" })).await;
    assert_eq!(status, 400);
    let (status, decided) =
        c.api_post(&commune, &format!("/api/v1/matches/{id}"), &serde_json::json!({ "decision": "different" })).await;
    assert_eq!((status, decided["status"].as_str()), (200, Some("different")));
    let (status, again) =
        c.api_post(&border, &format!("/api/v1/matches/{id}"), &serde_json::json!({ "decision": "same" })).await;
    assert_eq!((status, again["fields"][0]["error"].as_str()), (409, Some("match_decided")), "decided meanwhile");
    // The screening form's codes are checked.
    let rid = r["returnee"]["id"].as_str().expect("id");
    let (status, s) = c
        .api_post(
            &border,
            &format!("/api/v1/returnees/{rid}/screening"),
            &serde_json::json!({ "yes": ["no_such_question"], "classification": "other", "reason": "x" }),
        )
        .await;
    assert_eq!(status, 422, "{s}");
    let (status, s) = c
        .api_post(&border, &format!("/api/v1/returnees/{rid}/screening"), &serde_json::json!({ "yes": ["recruited_by_broker"], "classification": "other", "reason": "Đi theo người quen, tự về" }))
        .await;
    assert_eq!((status, s["returnee"]["classification"].as_str()), (200, Some("other")), "{s}");
});

story!(corrections_merges_and_old_records_keep_matching_true, |app| {
    let commune = app.login("pc-tramy.officer").await;
    let r = add_absentee(
        &commune,
        &[("full_name", "Nguyễn Thị Lan"), ("birth_date", "10/03/1995"), ("sex", "f"), ("commune_code", "20900")],
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let border = app.login("border.officer").await;
    let r = border
        .post(
            "/handovers",
            "/handovers",
            &[
                ("handed_on", "20/02/2026"),
                ("gate", "nam_giang"),
                ("country", "CN"),
                ("authority", "Công an Bằng Tường"),
            ],
        )
        .await;
    let batch = path_of(&r);
    let person_of = |page: &str| {
        format!(
            "/persons/{}",
            page.split("href=\"/persons/").nth(1).expect("person link").split('"').next().expect("id")
        )
    };

    // Typed wrong at the gate: nothing to propose. Corrected on the person record: proposed at once.
    let r = add_returnee(&border, &batch, &[("full_name", "Trần Văn Bảy"), ("birth_date", "1980"), ("sex", "m")]).await;
    let returnee = path_of(&r);
    let page = border.get(&returnee).await.body;
    assert!(page.contains("Không tìm thấy người có thể trùng"));
    let person = person_of(&page);
    let r = border
        .post(
            &person,
            &format!("{person}/edit"),
            &[("full_name", "NGUYEN THI LAN"), ("birth_date", "10/03/1995"), ("sex", "f"), ("nationality", "VN")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let page = border.get(&returnee).await.body;
    assert!(page.contains("Hồ sơ do một cơ quan khác quản lý"), "the corrected record is matched: {page}");

    // The border guard's older plain record of the same woman absorbs the returnee's: the pair follows.
    let r = border
        .post(
            "/persons/new",
            "/persons",
            &[("full_name", "Nguyễn Thị Lan"), ("birth_date", "10/03/1995"), ("sex", "f"), ("nationality", "VN")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let older = path_of(&r);
    let code = app.store.person(person.trim_start_matches("/persons/")).await.expect("read").expect("person").case_code;
    let r = border
        .post(
            &older,
            &format!("{older}/merge"),
            &[("other", code.as_str()), ("reason", "Cùng một người, nhập hai lần")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let record = border.get(&older).await.body;
    assert!(record.contains("Hồ sơ do một cơ quan khác quản lý"), "the pair moved to the survivor: {record}");
    let queue = border.get("/matches").await.body;
    assert_eq!(queue.matches("class=\"card candidate\"").count(), 1, "one pair, on the survivor: {queue}");
    assert!(queue.contains("Hồ sơ do một cơ quan khác quản lý") && !queue.contains("Trà My"));

    // A register person entered before matching existed has no match keys; a run over the registers
    // indexes them.
    let older_id = older.trim_start_matches("/persons/").to_owned();
    // Ids are UUIDs made by Haven, safe to write into the statement.
    let keys_of = format!("SELECT COUNT(*) FROM match_keys WHERE person_id = '{older_id}'");
    haven_store::testing::execute(&app.store.db, &format!("DELETE FROM match_keys WHERE person_id = '{older_id}'"))
        .await
        .expect("delete");
    assert_eq!(haven_store::testing::scalar_i64(&app.store.db, &keys_of).await.expect("count"), 0);
    let head = app.login("border.head").await;
    assert_eq!(head.post("/matches", "/matches/sweep", &[]).await.status, 200);
    let keys = haven_store::testing::scalar_i64(&app.store.db, &keys_of).await.expect("count");
    assert!(keys > 0, "indexed again by the sweep");
});

story!(a_commune_officer_recognises_her_residents_by_name_on_her_own_list, |app| {
    let commune = app.login("pc-tramy.officer").await;
    let r = add_absentee(
        &commune,
        &[("full_name", "Y Thị Mlô"), ("birth_date", "07/07/2001"), ("sex", "f"), ("commune_code", "20900")],
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.body);
    // The list shows codes until she asks for names, with a purpose.
    let list = commune.get("/absentees").await.body;
    assert!(!list.contains("Y Thị Mlô") && list.contains("id=\"show-names\""));
    let r = commune.post("/absentees", "/absentees/names", &[("names_purpose", "")]).await;
    assert_eq!(r.status, 422, "a purpose is needed");
    assert!(r.body.contains("href=\"#names_purpose\"") && !r.body.contains("Y Thị Mlô"));
    let before = app.audit_actions().await.iter().filter(|a| *a == "person.view_name").count();
    let r = commune.post("/absentees", "/absentees/names", &[("names_purpose", "case_work")]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("Y Thị Mlô") && r.body.contains("07/07/2001"), "her name and birth date");
    // Each name opened is audited, person by person, with the purpose.
    let entries = haven_store::audit::browse(&app.store.db, &Default::default(), 10_000).await.expect("audit");
    let views: Vec<_> = entries.iter().filter(|e| e.action == "person.view_name").collect();
    assert!(views.len() > before && views.iter().all(|e| e.purpose == "case_work"));
    // A clerk of the same commune types lists in but does not read names; another agency sees none of it.
    let clerk = app.login("pc-tramy.clerk").await;
    assert!(!clerk.get("/absentees").await.body.contains("id=\"show-names\""));
    let token = Client::csrf_of(&clerk.get("/absentees").await.body);
    let refused = clerk.post_raw("/absentees/names", &[("csrf", &token), ("names_purpose", "case_work")]).await;
    assert_eq!(refused.status, 403);
    let police = app.login("police.officer").await;
    let theirs = police.post("/absentees", "/absentees/names", &[("names_purpose", "case_work")]).await;
    assert!(!theirs.body.contains("Y Thị Mlô"), "another agency's list holds none of hers");
});

story!(a_reviewer_compares_a_pair_side_by_side_seeing_only_its_own_record, |app| {
    let commune = app.login("pc-tramy.officer").await;
    let fields = [
        ("full_name", "Lò Thị Xuân"),
        ("birth_date", "07/08/1996"),
        ("sex", "f"),
        ("commune_code", "20900"),
        ("absent_since", "2022"),
    ];
    assert_eq!(add_absentee(&commune, &fields).await.status, 303);
    let border = app.login("border.officer").await;
    let batch = [("handed_on", "20/02/2026"), ("gate", "nam_giang"), ("country", "LA"), ("authority", "Công an Lào")];
    let batch = path_of(&border.post("/handovers", "/handovers", &batch).await);
    let r = add_returnee(&border, &batch, &[("full_name", "XUAN THI LO"), ("birth_date", "07/08/1996"), ("sex", "f")])
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let queue = border.get("/matches").await.body;
    let id = queue.split("id=\"compare-").nth(1).expect("a pair to compare").split('"').next().expect("id").to_owned();
    let page = format!("/matches/{id}/compare");

    // A purpose first; nothing is opened without one.
    let before = app.audit_actions().await.iter().filter(|a| *a == "person.view_identity").count();
    let r = border.post(&page, &page, &[("purpose", "")]).await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("id=\"compare_purpose-error\"") && !r.body.contains("XUAN THI LO"), "{}", r.body);
    // With one, the border guard's own record opens; the commune's stays sealed and unnamed.
    let r = border.post(&page, &page, &[("purpose", "case_work")]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("XUAN THI LO") && r.body.contains("07/08/1996"), "{}", r.body);
    assert!(!r.body.contains("Lò Thị Xuân") && !r.body.contains("Trà My"), "the other agency's record stays sealed");
    assert!(r.body.contains("id=\"compare-sealed\""));
    let after = app.audit_actions().await.iter().filter(|a| *a == "person.view_identity").count();
    assert_eq!(after, before + 1, "one record opened, one audit entry");

    // The commune sees its own side; a clerk who may not read identities, and a third agency, see nothing.
    let r = commune.post(&page, &page, &[("purpose", "case_work")]).await;
    assert!(r.body.contains("Lò Thị Xuân") && !r.body.contains("XUAN THI LO"), "{}", r.body);
    let clerk = app.create_user("tramy.clerk2", &app.agency_id("pc-tramy").await, "clerk").await;
    assert_eq!(clerk.get(&page).await.status, 403);
    assert_eq!(app.login("health.officer").await.get(&page).await.status, 403);
    let r = app.login("health.officer").await.post_raw(&page, &[("purpose", "case_work")]).await;
    assert_eq!(r.status, 403);
});
