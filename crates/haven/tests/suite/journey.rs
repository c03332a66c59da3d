//! One victim, one journey across agencies: the border guards receive a returned victim and hand her to the
//! social-support authority with her consent; it verifies with the police and proposes identification; the
//! head returns it once, then approves; the certificate prints; the commune follows her reintegration on a
//! referral; the chain of custody shows all of it, and the border guards read what they recorded and no more.

use crate::harness::*;
use crate::story;
use crate::victims::{person, receive};

story!(a_victim_is_handed_over_identified_and_followed_home, |app| {
    let (_, code) = person(&app, "border.officer", "Lầu Thị Dợ", "11/09/2001").await;
    let case = receive(&app, "border.officer", &code, &[]).await;
    let case_id = case.trim_start_matches("/victims/").to_owned();
    let (border, health, court, commune) = (
        app.agency_id("border").await,
        app.agency_id("health").await,
        app.agency_id("court").await,
        app.agency_id("pc-tramy").await,
    );
    let guard = app.login("border.officer").await;
    let rescue = [("kind", "rescue"), ("on", "01/03/2026"), ("officer", "Thiếu tá Hờ A Sử")];
    assert_eq!(guard.post(&case, &format!("{case}/steps"), &rescue).await.status, 303);
    let hand = |to: String, reason: &'static str| {
        let (app, case) = (&app, case.clone());
        async move {
            let guard = app.login("border.officer").await;
            guard.post(&case, &format!("{case}/handover"), &[("to_agency", to.as_str()), ("reason", reason)]).await
        }
    };
    let reason = "Chuyển hỗ trợ y tế, tâm lý và tiếp tục xác định nạn nhân";

    // Refused, and nothing proposed: no consent yet; a court takes no handover; a reason is needed.
    let r = hand(health.clone(), reason).await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("chưa đồng ý chia sẻ"), "{}", r.body);
    let consent = [
        ("purpose", "share_agency"),
        ("target_agency", health.as_str()),
        ("given_by", "person"),
        ("given_on", "01/03/2026"),
    ];
    assert_eq!(guard.post(&case, &format!("{case}/consents"), &consent).await.status, 303);
    let r = hand(court, reason).await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("Không bàn giao được cho cơ quan này"), "{}", r.body);
    assert_eq!(hand(health.clone(), "y tế").await.status, 422, "a reason of a few letters says nothing");
    assert!(app.store.handovers_of_case(&case_id).await.expect("read").is_empty(), "refusals proposed nothing");

    // Proposed; a second proposal while it is pending is refused.
    assert_eq!(hand(health.clone(), reason).await.status, 303);
    let r = hand(health.clone(), reason).await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("đang có một đề nghị bàn giao"), "{}", r.body);
    let page = guard.get(&case).await.body;
    assert!(page.contains("id=\"handover-pending\""), "the sender sees it pending");

    // Health sees the proposal, with its reason, before it may open the case; then accepts and owns it.
    let nurse = app.login("health.officer").await;
    assert_eq!(nurse.get(&case).await.status, 403, "not before acceptance");
    let inbox = nurse.get("/referrals").await.body;
    assert!(inbox.contains("id=\"incoming-handovers\"") && inbox.contains(reason), "{inbox}");
    let home = nurse.get("/").await.body;
    assert!(home.contains("id=\"count-handovers_incoming\">1<"), "the home page says a handover waits: {home}");
    let handover = app.store.handovers_of_case(&case_id).await.expect("read").remove(0);
    assert_eq!(
        app.login("border.officer")
            .await
            .post("/referrals", &format!("/transfers/{}/accept", handover.id), &[])
            .await
            .status,
        403,
        "only the receiver accepts"
    );
    let r = nurse.post("/referrals", &format!("/transfers/{}/accept", handover.id), &[]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location.as_deref(), Some(format!("{case}?done=handover_accepted").as_str()));
    let v = app.store.victim_case(&case_id).await.expect("read").expect("case");
    assert_eq!((v.owner_agency_id.as_str(), v.received_by_agency_id.as_str()), (health.as_str(), border.as_str()));
    let r = nurse.post("/referrals", &format!("/transfers/{}/accept", handover.id), &[]).await;
    assert_eq!(r.status, 422, "accepted once");
    let person_page = format!("/persons/{}", v.person_id);
    assert_eq!(nurse.get(&person_page).await.status, 200, "the holder of her case reads her record");

    // The identification path: verification first.
    let proposal = [
        ("outcome", "identified"),
        ("decided_on", "03/03/2026"),
        ("legal_basis", "Điều 23 Luật 53/2024/QH15"),
        ("evidence", "rescuer"),
        ("evidence", "own_statement"),
        ("certificate_number", "07/GXN-SYT"),
    ];
    app.advance(3 * DAY_MS);
    let nurse = app.login("health.officer").await;
    let guard = app.login("border.officer").await;
    let page = nurse.get(&case).await.body;
    assert!(
        page.contains("id=\"verify-first\"") && !page.contains("id=\"propose\""),
        "no proposal before verification"
    );
    let r = nurse.post(&case, &format!("{case}/identification"), &proposal).await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("Chưa ghi nhận xác minh với công an"), "{}", r.body);
    let police = app.agency_id("police").await;
    let verified = [
        ("kind", "verification"),
        ("on", "03/03/2026"),
        ("agency", police.as_str()),
        ("officer", "Trung tá Lê Văn Hòa"),
    ];
    assert_eq!(nurse.post(&case, &format!("{case}/steps"), &verified).await.status, 303);
    let r = nurse.post(&case, &format!("{case}/identification"), &proposal).await;
    assert_eq!(r.status, 303, "{}", r.body);

    // The head sees it waiting, judges it on its grounds, and returns it once with a comment.
    let head = app.login("health.head").await;
    let home = head.get("/").await.body;
    assert!(
        home.contains("id=\"count-decisions\">1<") && home.contains("id=\"decisions\"") && home.contains(&v.case_code),
        "waiting on the head's home page: {home}"
    );
    let page = head.get(&case).await.body;
    for grounds in
        ["id=\"grounds\"", "Điều 23 Luật 53/2024/QH15", "07/GXN-SYT", "id=\"proposer\"", "Đã xác minh ngày 03/03/2026"]
    {
        assert!(page.contains(grounds), "the approval shows {grounds}");
    }
    assert!(page.contains("id=\"approve\"") && page.contains("id=\"return-proposal\""));
    let r = head.post(&case, &format!("{case}/return"), &[("comment", "")]).await;
    assert_eq!(r.status, 422, "a return says what to amend");
    let comment = "Bổ sung biên bản làm việc với người được giải cứu";
    assert_eq!(head.post(&case, &format!("{case}/return"), &[("comment", comment)]).await.status, 303);
    assert!(!head.get("/").await.body.contains(&v.case_code), "returned: no longer waiting");
    let page = nurse.get(&case).await.body;
    assert!(page.contains("id=\"returned\"") && page.contains(comment), "the officer reads the comment");
    let r = head.post(&case, &format!("{case}/approve"), &[]).await;
    assert_eq!(r.status, 422, "nothing pending after a return");
    assert_eq!(nurse.post(&case, &format!("{case}/identification"), &proposal).await.status, 303);
    assert_eq!(nurse.post(&case, &format!("{case}/approve"), &[]).await.status, 422, "the proposer does not approve");
    assert_eq!(head.post(&case, &format!("{case}/approve"), &[]).await.status, 303);
    let v = app.store.victim_case(&case_id).await.expect("read").expect("case");
    assert_eq!(v.status, "identified");

    // The certificate prints, naming her, and opening her identity is audited.
    let page = nurse.get(&case).await.body;
    assert!(page.contains("id=\"print-certificate\""));
    let cert = nurse.get(&format!("{case}/certificate")).await;
    assert_eq!(cert.status, 200);
    for part in [
        "Lầu Thị Dợ",
        "07/GXN-SYT",
        "GIẤY XÁC NHẬN NẠN NHÂN",
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Điều 23 Luật 53/2024/QH15",
    ] {
        assert!(cert.body.contains(part), "the certificate shows {part}");
    }
    assert!(
        app.audit_actions().await.iter().any(|a| a == "person.view_identity"),
        "printing opens the identity, audited"
    );
    assert_eq!(guard.get(&format!("{case}/certificate")).await.status, 403, "not for the former holder");

    // Health refers reintegration follow-up to the commune, which works that part and only that part.
    let kind = [
        ("purpose", "share_agency_kind"),
        ("target_kind", "commune_committee"),
        ("given_by", "person"),
        ("given_on", "04/03/2026"),
    ];
    assert_eq!(nurse.post(&case, &format!("{case}/consents"), &kind).await.status, 303);
    let refer =
        [("kind", "reintegration"), ("to_agency", commune.as_str()), ("purpose", "Theo dõi tái hòa nhập tại xã")];
    assert_eq!(nurse.post(&case, &format!("{case}/referrals"), &refer).await.status, 303);
    let referral = app.store.referrals_of_case(&case_id).await.expect("read").remove(0);
    let clerk = app.login("pc-tramy.officer").await;
    let inbox = clerk.get("/referrals").await.body;
    assert!(inbox.contains("Yêu cầu: Theo dõi tái hòa nhập tại xã"), "what it asks, before accepting: {inbox}");
    assert_eq!(clerk.post("/referrals", &format!("/referrals/{}/accept", referral.id), &[]).await.status, 303);
    let page = clerk.get(&case).await.body;
    assert!(page.contains("id=\"save-visit\"") && page.contains("id=\"save-schedule\""), "the commune's forms: {page}");
    assert!(!page.contains("id=\"save-step\"") && !page.contains("id=\"close-case\""), "and no others");
    let schedule = [("first", "04/03/2026"), ("count", "4"), ("months", "3")];
    assert_eq!(clerk.post(&case, &format!("{case}/visits/schedule"), &schedule).await.status, 303);
    let visit = [("on", "04/03/2026"), ("risk", "low"), ("note", "Gia đình đón nhận")];
    assert_eq!(clerk.post(&case, &format!("{case}/visits"), &visit).await.status, 303);
    let step = [("kind", "other"), ("on", "04/03/2026"), ("officer", "Cán bộ xã")];
    assert_eq!(clerk.post(&case, &format!("{case}/steps"), &step).await.status, 403, "steps are not its part");
    let close = [("on", "04/03/2026"), ("reason", "reintegrated")];
    assert_eq!(clerk.post(&case, &format!("{case}/close"), &close).await.status, 403, "nor closing the case");
    let done = [("outcome", "Đã thăm hộ gia đình, em đã trở lại học nghề")];
    assert_eq!(clerk.post("/referrals", &format!("/referrals/{}/complete", referral.id), &done).await.status, 303);
    assert_eq!(clerk.get(&case).await.status, 403, "completed: the commune's part ends");
    let page = nurse.get(&case).await.body;
    assert!(page.contains("Đã thăm hộ gia đình, em đã trở lại học nghề"), "the sender reads the outcome");
    assert!(page.contains("id=\"visit-list\""), "and the visit the commune recorded");

    // The chain of custody shows who held her case, from when, and why.
    let custody = app.client().api_get(&token_for(&app, "health.officer").await, &format!("/api/v1{case}")).await.1
        ["custody"]
        .clone();
    assert_eq!(custody.as_array().map(Vec::len), Some(2), "{custody}");
    assert_eq!(
        (custody[0]["agency_id"].as_str(), custody[0]["until"].as_str()),
        (Some(border.as_str()), Some("2026-03-01"))
    );
    assert_eq!((custody[1]["agency_id"].as_str(), custody[1]["until"].as_str()), (Some(health.as_str()), None));
    let page = nurse.get(&case).await.body;
    assert!(page.contains("id=\"custody-list\"") && page.contains(reason), "the page shows the chain with its reason");

    // The border guards still read what they recorded, and no more; they work on nothing.
    let page = guard.get(&case).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Thiếu tá Hờ A Sử") && page.body.contains("id=\"former-holder\""), "their rescue step");
    for later in ["Trung tá Lê Văn Hòa", "07/GXN-SYT", "id=\"visit-list\"", "Đã thăm hộ gia đình", "id=\"grounds\""]
    {
        assert!(!page.body.contains(later), "recorded after the handover: {later}");
    }
    assert!(!page.body.contains("id=\"save-step\"") && !page.body.contains("id=\"propose-handover\""));
    assert_eq!(guard.post(&case, &format!("{case}/steps"), &rescue).await.status, 403);
    let (status, json) =
        app.client().api_get(&token_for(&app, "border.officer").await, &format!("/api/v1{case}")).await;
    assert_eq!(status, 200);
    let officers: Vec<&str> =
        json["steps"].as_array().map(|s| s.iter().filter_map(|s| s["officer"].as_str()).collect()).unwrap_or_default();
    assert!(officers.contains(&"Thiếu tá Hờ A Sử") && !officers.contains(&"Trung tá Lê Văn Hòa"), "{json}");
    assert!(json["case"]["certificate_number"].is_null() && json.get("visits").is_none(), "{json}");
    // Health hands her on to a shelter for a stay: the border guards do not follow where she went next.
    let shelter = app.agency_id("shelter").await;
    let stay = [
        ("purpose", "share_agency"),
        ("target_agency", shelter.as_str()),
        ("given_by", "person"),
        ("given_on", "04/03/2026"),
    ];
    assert_eq!(nurse.post(&case, &format!("{case}/consents"), &stay).await.status, 303);
    let onward = [("to_agency", shelter.as_str()), ("reason", "Lưu trú tạm thời tại cơ sở bảo trợ")];
    assert_eq!(nurse.post(&case, &format!("{case}/handover"), &onward).await.status, 303);
    let (_, list) =
        app.client().api_get(&token_for(&app, "border.officer").await, &format!("/api/v1{case}/transfers")).await;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(1), "only their own handover: {list}");
    let (_, list) =
        app.client().api_get(&token_for(&app, "health.officer").await, &format!("/api/v1{case}/transfers")).await;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(2), "the holder sees both: {list}");
    // The person withdraws her consent for the shelter before it answers: the handover cannot be accepted.
    let person = app.store.victim_case(&case_id).await.expect("read").expect("case").person_id;
    let for_shelter = app
        .store
        .consents(&person)
        .await
        .expect("consents")
        .into_iter()
        .find(|k| k.target == shelter)
        .expect("consent");
    assert_eq!(nurse.post(&case, &format!("{case}/consents/{}/withdraw", for_shelter.id), &[]).await.status, 303);
    let pending = app.store.handovers_to(&shelter, 10).await.expect("handovers").remove(0);
    let r =
        app.login("shelter.officer").await.post("/referrals", &format!("/transfers/{}/accept", pending.id), &[]).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("chưa đồng ý"), "{}", r.body);
    assert_eq!(app.store.victim_case(&case_id).await.expect("read").expect("case").owner_agency_id, health);
    let actions = app.audit_actions().await;
    for a in [
        "handover.propose",
        "handover.accept",
        "victim.return_identification",
        "victim.approve_identification",
        "referral.complete",
    ] {
        assert!(actions.contains(&a.to_owned()), "{a}");
    }
});

story!(handovers_through_the_api_refuse_what_the_rules_refuse, |app| {
    let (_, code) = person(&app, "border.officer", "Giàng Thị Pà", "02/02/2002").await;
    let case = receive(&app, "border.officer", &code, &[]).await;
    let c = app.client();
    let border = token_for(&app, "border.officer").await;
    let health = app.agency_id("health").await;
    let body = serde_json::json!({"to_agency": health, "reason": "Hỗ trợ tâm lý"});
    let (s, json) = c.api_post(&border, &format!("/api/v1{case}/transfers"), &body).await;
    assert_eq!((s, json["fields"][0]["field"].as_str()), (422, Some("to_agency")), "no consent: {json}");
    let guard = app.login("border.officer").await;
    let consent = [
        ("purpose", "share_agency_kind"),
        ("target_kind", "social_support"),
        ("given_by", "person"),
        ("given_on", "01/03/2026"),
    ];
    assert_eq!(guard.post(&case, &format!("{case}/consents"), &consent).await.status, 303);
    let (s, proposed) = c.api_post(&border, &format!("/api/v1{case}/transfers"), &body).await;
    assert_eq!(s, 201, "{proposed}");
    assert_eq!((proposed["status"].as_str(), proposed["reason"].as_str()), (Some("proposed"), Some("Hỗ trợ tâm lý")));
    let id = proposed["id"].as_str().expect("id").to_owned();
    let nurse = token_for(&app, "health.officer").await;
    let (s, list) = c.api_get(&nurse, "/api/v1/transfers").await;
    assert_eq!(s, 200);
    assert_eq!(list["items"][0]["id"].as_str(), Some(id.as_str()));
    let police = token_for(&app, "police.officer").await;
    assert_eq!(c.api_get(&police, &format!("/api/v1/transfers/{id}")).await.0, 403, "not the police's business");
    let (s, json) =
        c.api_post(&nurse, &format!("/api/v1/transfers/{id}/decline"), &serde_json::json!({"reason": "x"})).await;
    assert_eq!((s, json["fields"][0]["field"].as_str()), (422, Some("reason")), "{json}");
    let (s, json) = c.api_post(&border, &format!("/api/v1/transfers/{id}/withdraw"), &serde_json::json!({})).await;
    assert_eq!((s, json["status"].as_str()), (200, Some("withdrawn")), "{json}");
    let (s, json) = c.api_post(&nurse, &format!("/api/v1/transfers/{id}/accept"), &serde_json::json!({})).await;
    assert_eq!((s, json["fields"][0]["error"].as_str()), (409, Some("handover_status")), "withdrawn: {json}");
    let owner =
        app.store.victim_case(case.trim_start_matches("/victims/")).await.expect("read").expect("case").owner_agency_id;
    assert_eq!(owner, app.agency_id("border").await, "the case stayed where it was");
    let (s, json) = c.api_get(&nurse, "/api/v1/identifications/pending").await;
    assert_eq!((s, json["items"].as_array().map(Vec::len)), (200, Some(0)), "not a head: nothing waits");
});

story!(a_victim_and_her_person_record_are_received_in_one_step, |app| {
    let guard = app.login("border.officer").await;
    let border = app.agency_id("border").await;
    let (persons, cases) = (
        app.count_persons("border").await,
        app.store.victim_cases_of_agency(&border, 1000).await.expect("cases").len(),
    );
    let base = [("reception_kind", "border"), ("received_on", "01/03/2026"), ("vietnamese", "1"), ("in_vietnam", "1")];
    let with = |extra: &[(&'static str, &'static str)]| -> Vec<(&'static str, &'static str)> {
        base.iter().copied().chain(extra.iter().copied()).collect()
    };
    // Neither a code nor a name; a new person with a birth date that is no date: refused, nothing written.
    let r = guard.post("/victims/new", "/victims", &with(&[])).await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("Ghi mã hồ sơ người, hoặc họ tên"), "{}", r.body);
    let r = guard
        .post(
            "/victims/new",
            "/victims",
            &with(&[("full_name", "Vừ Thị Sua"), ("birth_date", "31/02/2004"), ("sex", "f")]),
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(
        r.body.contains("id=\"birth_date-error\"") && r.body.contains("value=\"Vừ Thị Sua\""),
        "kept, with the error by its field"
    );
    assert_eq!(app.count_persons("border").await, persons, "no person without the case");
    // Both in one step.
    let r = guard
        .post("/victims/new", "/victims", &with(&[("full_name", "Vừ Thị Sua"), ("birth_date", "2009"), ("sex", "f")]))
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(app.count_persons("border").await, persons + 1);
    let now = app.store.victim_cases_of_agency(&border, 1000).await.expect("cases");
    assert_eq!(now.len(), cases + 1);
    let case = r.location.expect("location");
    let page = guard.get(case.split('?').next().expect("path")).await.body;
    assert!(page.contains("id=\"child-flag\""), "born in 2009: a child, from the birth year given in the same step");
    assert!(!page.contains("Vừ Thị Sua"), "the case shows the code, not the name");
    // Through the API too.
    let token = token_for(&app, "border.officer").await;
    let body = serde_json::json!({"full_name": "Lò Thị Ún", "sex": "f", "reception_kind": "border", "received_on": "2026-03-01"});
    let (s, json) = app.client().api_post(&token, "/api/v1/victims", &body).await;
    assert_eq!(s, 201, "{json}");
    assert_eq!(app.count_persons("border").await, persons + 2);
});

story!(a_receiver_works_only_its_part_and_only_while_the_consent_stands, |app| {
    let (_, code) = person(&app, "border.officer", "Thào Thị Chứ", "07/07/2000").await;
    let case = receive(&app, "border.officer", &code, &[]).await;
    let case_id = case.trim_start_matches("/victims/").to_owned();
    let guard = app.login("border.officer").await;
    let (police, health) = (app.agency_id("police").await, app.agency_id("health").await);
    for (k, v) in [("police", &police), ("health", &health)] {
        let consent = [
            ("purpose", "share_agency"),
            ("target_agency", v.as_str()),
            ("given_by", "person"),
            ("given_on", "01/03/2026"),
        ];
        assert_eq!(guard.post(&case, &format!("{case}/consents"), &consent).await.status, 303, "{k}");
    }
    for (kind, to) in [("verification", &police), ("support", &health)] {
        let form = [("kind", kind), ("to_agency", to.as_str()), ("purpose", "Phối hợp")];
        assert_eq!(guard.post(&case, &format!("{case}/referrals"), &form).await.status, 303, "{kind}");
    }
    let referrals = app.store.referrals_of_case(&case_id).await.expect("referrals");
    let police_officer = app.login("police.officer").await;
    assert_eq!(
        police_officer.post("/referrals", &format!("/referrals/{}/accept", referrals[0].id), &[]).await.status,
        303
    );
    // The police record their verification as their own step, whatever agency the form names; a handover
    // step is the holder's to record.
    let step = [
        ("kind", "verification"),
        ("on", "01/03/2026"),
        ("agency", health.as_str()),
        ("officer", "Thượng úy Vàng A Dơ"),
    ];
    assert_eq!(police_officer.post(&case, &format!("{case}/steps"), &step).await.status, 303);
    let steps = app.store.victim_steps(&case_id).await.expect("steps");
    let recorded = steps.iter().find(|s| s.kind == "verification").expect("verification");
    assert_eq!(recorded.agency_id, police, "recorded as the police's own step");
    let handover = [("kind", "handover"), ("on", "01/03/2026"), ("officer", "Thượng úy Vàng A Dơ")];
    assert_eq!(police_officer.post(&case, &format!("{case}/steps"), &handover).await.status, 422);
    // Health accepts its support referral; the person withdraws her consent for health: health can neither
    // read the case nor write its part any more, though the referral was never completed.
    let nurse = app.login("health.officer").await;
    assert_eq!(nurse.post("/referrals", &format!("/referrals/{}/accept", referrals[1].id), &[]).await.status, 303);
    let token = token_for(&app, "health.officer").await;
    let support = serde_json::json!({"regime": "a", "given_on": "2026-03-01", "quantity": 3, "amount_vnd": 0});
    let (s, json) = app.client().api_post(&token, &format!("/api/v1{case}/supports"), &support).await;
    assert_eq!(s, 200, "{json}");
    let person = app.store.victim_case(&case_id).await.expect("read").expect("case").person_id;
    let for_health =
        app.store.consents(&person).await.expect("consents").into_iter().find(|k| k.target == health).expect("consent");
    assert_eq!(guard.post(&case, &format!("{case}/consents/{}/withdraw", for_health.id), &[]).await.status, 303);
    let before = app.store.supports(&case_id).await.expect("supports").len();
    let (s, _) = app.client().api_post(&token, &format!("/api/v1{case}/supports"), &support).await;
    assert_eq!(s, 403, "the consent is gone: so is the work");
    assert_eq!(app.store.supports(&case_id).await.expect("supports").len(), before, "nothing written");
});
