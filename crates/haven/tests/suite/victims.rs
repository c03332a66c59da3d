//! Victim protection cases: a border guard receives a person returned from abroad, verification with the
//! police within three days, identification proposed and approved by another head, supports within the
//! profile's rules, consent per purpose with its history, and every refusal leaving the case as it was.

use crate::harness::*;
use crate::story;

/// Register a person as `user`; returns (person id, case code).
pub(crate) async fn person(app: &TestApp, user: &str, name: &str, birth: &str) -> (String, String) {
    let c = app.login(user).await;
    let r = c.post("/persons/new", "/persons", &[("full_name", name), ("birth_date", birth), ("sex", "f")]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let id = r.location.expect("location").trim_start_matches("/persons/").split('?').next().expect("id").to_owned();
    let code = app.store.person(&id).await.expect("read").expect("person").case_code;
    (id, code)
}

/// Receive a person as `user`; returns the case page path.
pub(crate) async fn receive(app: &TestApp, user: &str, code: &str, extra: &[(&str, &str)]) -> String {
    let c = app.login(user).await;
    let mut form = vec![
        ("person_code", code),
        ("reception_kind", "border"),
        ("received_on", "01/03/2026"),
        ("commune_code", "20900"),
        ("vietnamese", "1"),
        ("in_vietnam", "1"),
    ];
    form.extend_from_slice(extra);
    let r = c.post("/victims/new", "/victims", &form).await;
    assert_eq!(r.status, 303, "{}", r.body);
    r.location.expect("location").split('?').next().expect("path").to_owned()
}

story!(a_returned_person_is_received_verified_identified_and_supported, |app| {
    let (_, code) = person(&app, "border.officer", "Vàng Thị Mỷ", "15/06/1999").await;
    let case = receive(&app, "border.officer", &code, &[]).await;
    let officer = app.login("border.officer").await;
    let page = officer.get(&case).await.body;
    assert!(page.contains("Có dấu hiệu là nạn nhân") && page.contains("04/03/2026"), "verification due in 3 days");
    assert!(!page.contains("Vàng Thị Mỷ"), "the case shows codes, not names");
    assert!(!page.contains("id=\"child-flag\""), "an adult");
    assert!(officer.get("/victims").await.body.contains("Chờ xác minh"), "on the verification list");
    // Entitled, while showing signs in Viet Nam, to (a) to (g) only.
    assert!(page.contains("id=\"regime-g\"") && !page.contains("id=\"regime-k\""), "{page}");

    // Verification with the police, two days after reception: the case moves on.
    app.advance(2 * DAY_MS);
    let officer = app.login("border.officer").await;
    let police = app.agency_id("police").await;
    let r = officer
        .post(
            &case,
            &format!("{case}/steps"),
            &[("kind", "verification"), ("on", "28/02/2026"), ("officer", "Đại úy Lò Văn Sáng")],
        )
        .await;
    assert_eq!(r.status, 422, "before the reception");
    let r = officer
        .post(
            &case,
            &format!("{case}/steps"),
            &[("kind", "verification"), ("on", "03/03/2026"), ("agency", &police), ("officer", "Đại úy Lò Văn Sáng")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let page = officer.get(&case).await.body;
    assert!(page.contains("Đang được xác định là nạn nhân") && page.contains("Đã xác minh"), "{page}");
    // The summary gives the day verification happened, not the day it was due.
    assert!(
        page.contains(
            "<dt>Đã xác minh ngày</dt><dd id=\"verification\"><span class=\"tag\">Đã xác minh</span> 03/03/2026"
        ),
        "{page}"
    );

    // Identification: grounds are required; the proposer cannot approve; another head can.
    let r = officer
        .post(
            &case,
            &format!("{case}/identification"),
            &[
                ("outcome", "identified"),
                ("decided_on", "03/03/2026"),
                ("legal_basis", "Điều 23 Luật 53/2024/QH15"),
                ("certificate_number", "05/GXN"),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("Chọn ít nhất một căn cứ"));
    let head = app.login("border.head").await;
    let form = [
        ("outcome", "identified"),
        ("decided_on", "03/03/2026"),
        ("legal_basis", "Điều 23 Luật 53/2024/QH15"),
        ("evidence", "rescuer"),
        ("evidence", "own_statement"),
        ("certificate_number", "05/GXN"),
    ];
    let r = head.post(&case, &format!("{case}/identification"), &form).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let r = head.post(&case, &format!("{case}/approve"), &[]).await;
    assert_eq!(r.status, 422, "the proposer does not approve their own proposal");
    assert!(r.body.contains("không phải người đề xuất"));
    let r = officer.post(&case, &format!("{case}/approve"), &[]).await;
    assert_eq!(r.status, 422, "an officer does not approve");
    assert!(
        app.store.victim_case(case.trim_start_matches("/victims/")).await.expect("read").expect("case").status
            == "being_identified"
    );
    // A second head of the agency approves.
    let clerk_agency = app.agency_id("border").await;
    let second = app.create_user("border.head2", &clerk_agency, "head").await;
    let r = second.post(&case, &format!("{case}/approve"), &[]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let page = officer.get(&case).await.body;
    assert!(page.contains("id=\"victim-status\"><span class=\"tag\">Nạn nhân") && page.contains("05/GXN"), "{page}");
    assert!(page.contains("id=\"regime-k\""), "now entitled to the hardship allowance");

    // Supports within the rules: meals capped at 60 days in all; the allowance within 12 months.
    for (regime, on, qty, status) in [
        ("a", "03/03/2026", "40", 303),
        ("a", "03/03/2026", "21", 422),
        ("a", "03/03/2026", "20", 303),
        ("k", "03/03/2026", "1", 303),
        ("b", "05/03/2026", "1", 422),
        ("z", "03/03/2026", "1", 422),
    ] {
        let r = officer
            .post(
                &case,
                &format!("{case}/supports"),
                &[
                    ("regime", regime),
                    ("given_on", on),
                    ("quantity", qty),
                    ("amount_vnd", "1.500.000"),
                    ("acknowledged", "1"),
                ],
            )
            .await;
        assert_eq!(r.status, status, "{regime} {qty}: {}", r.body);
    }
    let page = officer.get(&case).await.body;
    assert!(page.contains("1.500.000"), "amounts in Vietnamese notation");
    let supports = app.store.supports(case.trim_start_matches("/victims/")).await.expect("supports");
    assert_eq!(supports.len(), 3, "refusals change nothing");

    // Consent per purpose, with its history: recorded, then withdrawn, never deleted.
    let health = app.agency_id("health").await;
    let r = officer
        .post(
            &case,
            &format!("{case}/consents"),
            &[("purpose", "share_agency"), ("given_by", "person"), ("given_on", "03/03/2026")],
        )
        .await;
    assert_eq!(r.status, 422, "sharing names the agency");
    let r = officer
        .post(
            &case,
            &format!("{case}/consents"),
            &[
                ("purpose", "share_agency"),
                ("target_agency", &health),
                ("given_by", "person"),
                ("given_on", "03/03/2026"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let person_id =
        app.store.victim_case(case.trim_start_matches("/victims/")).await.expect("read").expect("case").person_id;
    // With that consent the case can be shared with the support authority; not with the police.
    let share = |agency: &'static str| [("agency", agency), ("purpose", "support"), ("days", "30")];
    let r = officer.post(&case, &format!("{case}/grants"), &share("health")).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(app.login("health.officer").await.get(&case).await.status, 200);
    let r = officer.post(&case, &format!("{case}/grants"), &share("police")).await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("chưa đồng ý chia sẻ với cơ quan này"));
    // Without consent only a head may share, on a legal basis, and the head sees it on the supervision page.
    let basis = "Điều 88 Bộ luật Tố tụng hình sự 2015: thu thập chứng cứ";
    let override_form = |basis: &'static str| {
        [("agency", "police"), ("purpose", "legal_proceedings"), ("days", "30"), ("legal_basis", basis)]
    };
    let r = head.post(&case, &format!("{case}/grants"), &override_form("luật")).await;
    assert_eq!(r.status, 422, "a citation, not a word");
    let r = head.post(&case, &format!("{case}/grants"), &override_form(basis)).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert!(head.get("/supervision").await.body.contains(basis));
    assert!(app.audit_actions().await.contains(&"grant.override_consent".to_owned()));
    // Withdrawing the consent ends the support authority's access at once; the legal-basis grant stays.
    let consent = app.store.consents(&person_id).await.expect("consents").remove(0);
    let r = officer.post(&case, &format!("{case}/consents/{}/withdraw", consent.id), &[]).await;
    assert_eq!(r.status, 303);
    assert_eq!(app.login("health.officer").await.get(&case).await.status, 403, "consent withdrawn");
    let police = app.login("police.officer").await;
    assert_eq!(police.get(&case).await.status, 200, "shared on a legal basis");
    let history = app.store.consents(&person_id).await.expect("consents");
    assert_eq!((history.len(), history[0].withdrawn_on.as_deref()), (1, Some("2026-03-03")));
    assert!(officer.get(&case).await.body.contains("Đã rút ngày"));
    // A share that found the consent before the withdrawal landed re-reads it inside its own command, which
    // holds the audit lock: a withdrawn consent no longer stands there, and nothing would be granted on it.
    let mut cmd = app.store.command(&haven_store::Actor::system("test")).await.expect("cmd");
    let stands = haven_app::sharing::consent_still_stands(&mut cmd, Some(&consent.id)).await.expect("read");
    assert!(!stands, "a withdrawn consent does not stand inside the command");
    assert!(haven_app::sharing::consent_still_stands(&mut cmd, None).await.expect("read"), "no consent needed");
    drop(cmd);

    // An agency it is shared with sees the case but does not change it; others see nothing.
    assert_eq!(app.login("women.officer").await.get(&case).await.status, 403);
    let step = [("kind", "other"), ("on", "03/03/2026"), ("officer", "Ai đó")];
    assert_eq!(police.post(&case, &format!("{case}/steps"), &step).await.status, 403);
    let actions = app.audit_actions().await;
    for a in [
        "victim.create",
        "victim.step.reception",
        "victim.step.verification",
        "victim.propose_identification",
        "victim.approve_identification",
        "victim.support",
        "consent.record",
        "consent.withdraw",
        "person.age_check",
    ] {
        assert!(actions.contains(&a.to_owned()), "{a} audited");
    }
});

story!(a_child_is_flagged_and_consents_through_a_representative, |app| {
    let (_, code) = person(&app, "health.officer", "Lò Thị Hoa", "2010").await;
    let case = receive(&app, "health.officer", &code, &[("accompanying_child", "1")]).await;
    let officer = app.login("health.officer").await;
    let page = officer.get(&case).await.body;
    assert!(page.contains("id=\"child-flag\""), "born in 2010: a child");
    assert!(page.contains("id=\"regime-h\""), "accompanying children get general education");
    let r = officer
        .post(
            &case,
            &format!("{case}/consents"),
            &[("purpose", "statistics"), ("given_by", "person"), ("given_on", "01/03/2026")],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("người đại diện hợp pháp"));
    let r = officer
        .post(
            &case,
            &format!("{case}/consents"),
            &[
                ("purpose", "statistics"),
                ("given_by", "representative"),
                ("representative", "Mẹ: Lò Thị Dung"),
                ("given_on", "01/03/2026"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let stored = haven_store::testing::column_bytes(&app.store.db, "consents", "representative").await.expect("column");
    let name = "Lò Thị Dung".as_bytes();
    assert!(!stored.iter().any(|v| v.windows(name.len()).any(|w| w == name)), "the representative is sealed");
    // Bad input at reception: an unknown code, a future date, an unknown kind.
    let c = app.login("health.officer").await;
    for (field, value) in
        [("person_code", "HS-00000-00000"), ("received_on", "02/04/2026"), ("reception_kind", "teleport")]
    {
        let mut form =
            vec![("person_code", code.as_str()), ("reception_kind", "commune"), ("received_on", "01/03/2026")];
        form.retain(|(k, _)| *k != field);
        form.push((field, value));
        let r = c.post("/victims/new", "/victims", &form).await;
        assert_eq!(r.status, 422, "{field}");
    }
    assert_eq!(app.store.victim_cases_of_agency(&app.agency_id("health").await, 10).await.expect("list").len(), 1);
});

story!(referrals_follow_consent_and_access_ends_when_it_is_withdrawn, |app| {
    let (_, code) = person(&app, "border.officer", "Quàng Văn Tươi", "03/02/1995").await;
    let case = receive(&app, "border.officer", &code, &[]).await;
    let officer = app.login("border.officer").await;
    // The trafficking context is recorded, so that a receiver not meant to see it would notice.
    let context = [("exploitation", "ForcedLabour"), ("destination_country", "KH")];
    assert_eq!(officer.post(&case, &format!("{case}/context"), &context).await.status, 303);
    let (health, police, procuracy) =
        (app.agency_id("health").await, app.agency_id("police").await, app.agency_id("procuracy").await);
    let refer = |kind: &'static str, to: String| {
        let (app, case) = (&app, case.clone());
        async move {
            let officer = app.login("border.officer").await;
            let form = [("kind", kind), ("to_agency", to.as_str()), ("purpose", "Hỗ trợ chỗ ở tạm thời")];
            officer.post(&case, &format!("{case}/referrals"), &form).await
        }
    };
    // No consent yet: refused, and nothing sent.
    let r = refer("support", health.clone()).await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("chưa đồng ý chia sẻ"));
    for (purpose, target) in [("share_agency_kind", "target_kind"), ("share_agency", "target_agency")] {
        let value = if purpose == "share_agency" { police.as_str() } else { "social_support" };
        let r = officer
            .post(
                &case,
                &format!("{case}/consents"),
                &[("purpose", purpose), (target, value), ("given_by", "person"), ("given_on", "01/03/2026")],
            )
            .await;
        assert_eq!(r.status, 303, "{}", r.body);
    }
    assert_eq!(refer("support", procuracy).await.status, 422, "the procuracy does not take support referrals");
    assert_eq!(refer("support", health.clone()).await.status, 303);
    assert_eq!(refer("verification", police.clone()).await.status, 303);
    let case_id = case.trim_start_matches("/victims/");
    let referrals = app.store.referrals_of_case(case_id).await.expect("referrals");
    assert_eq!(referrals.len(), 2, "refusals sent nothing");
    assert!(referrals.iter().all(|r| r.consent_id.is_some()), "each rests on a consent");

    // The support authority sees the referral, not the case, until it accepts.
    let support = app.login("health.officer").await;
    let list = support.get("/referrals").await.body;
    assert!(list.contains(&referrals[0].case_code) && list.contains("Đề nghị hỗ trợ"), "{list}");
    assert_eq!(support.get(&case).await.status, 403);
    let person_page =
        format!("/persons/{}", app.store.victim_case(case_id).await.expect("read").expect("case").person_id);
    assert_eq!(support.get(&person_page).await.status, 403, "nor the person record before acceptance");
    let r = support.post("/referrals", &format!("/referrals/{}/decline", referrals[0].id), &[("reason", "")]).await;
    assert_eq!(r.status, 422, "declining needs a reason");
    let r = support.post("/referrals", &format!("/referrals/{}/accept", referrals[0].id), &[]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let page = support.get(&case).await;
    assert_eq!(page.status, 200, "accepted: the case opens");
    // Only what a support referral needs: entitlements and supports and the person, not the trafficking
    // context, the steps, the identification or the consents.
    assert!(page.body.contains("id=\"referral-scope\"") && page.body.contains("id=\"entitlements\""), "{}", page.body);
    for hidden in ["id=\"context\"", "id=\"steps\"", "id=\"identification\"", "id=\"consents\"", "id=\"protection\""] {
        assert!(!page.body.contains(hidden), "a support referral does not open {hidden}");
    }
    assert_eq!(support.get(&person_page).await.status, 200, "the person record opens with the case");
    let token = token_for(&app, "health.officer").await;
    let (status, json) = app.client().api_get(&token, &format!("/api/v1{case}")).await;
    assert_eq!(status, 200);
    assert!(json.get("entitlements").is_some() && json.get("steps").is_none() && json.get("consents").is_none());
    assert!(json["case"]["exploitation"].is_null() && json["case"]["destination_country"].is_null(), "{json}");
    assert!(json.get("trafficking_events").is_none() && json.get("protection_measures").is_none());
    // Reading the person for the referral is not owning them: the receiver cannot open a case of its own on
    // the person, which would show it everything the referral hides.
    let own = [("person_code", code.as_str()), ("reception_kind", "commune"), ("received_on", "02/03/2026")];
    let r = support.post("/victims/new", "/victims", &own).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(app.store.victim_cases_of_agency(&health, 10).await.expect("list").is_empty());
    assert_eq!(
        app.login("police.officer")
            .await
            .post("/referrals", &format!("/referrals/{}/complete", referrals[0].id), &[("outcome", "Đã hỗ trợ xong")])
            .await
            .status,
        403,
        "only the receiver answers"
    );
    let police_officer = app.login("police.officer").await;
    let r = police_officer.post("/referrals", &format!("/referrals/{}/accept", referrals[1].id), &[]).await;
    assert_eq!(r.status, 303);
    let page = police_officer.get(&case).await.body;
    assert!(page.contains("id=\"steps\"") && page.contains("id=\"context\""), "a verification opens the steps");
    assert!(!page.contains("id=\"entitlements\""), "but not the supports");
    assert!(!page.contains("Quàng Văn Tươi"), "the name shows only on the person page, with a purpose");

    // The person withdraws consent for the police: the police lose access at once; the support authority keeps it.
    let consents = app
        .store
        .consents(&app.store.victim_case(case_id).await.expect("read").expect("case").person_id)
        .await
        .expect("consents");
    let for_police = consents.iter().find(|c| c.purpose == "share_agency").expect("police consent");
    let r = officer.post(&case, &format!("{case}/consents/{}/withdraw", for_police.id), &[]).await;
    assert_eq!(r.status, 303);
    assert_eq!(police_officer.get(&case).await.status, 403, "withdrawn at once");
    assert_eq!(police_officer.get(&person_page).await.status, 403, "the person record too");
    assert_eq!(support.get(&case).await.status, 200);
    // Completing the referral ends the support authority's access too; it says what came of it.
    let r = support.post("/referrals", &format!("/referrals/{}/complete", referrals[0].id), &[]).await;
    assert_eq!(r.status, 422, "completing says what came of the work");
    assert!(r.body.contains("Ghi kết quả thực hiện"), "{}", r.body);
    let done = [("outcome", "Đã bố trí chỗ ở tạm thời 30 ngày")];
    let r = support.post("/referrals", &format!("/referrals/{}/complete", referrals[0].id), &done).await;
    assert_eq!(r.status, 303);
    assert_eq!(support.get(&case).await.status, 403, "completed");
    assert_eq!(support.get(&person_page).await.status, 403, "the person record closes with it");
    let r = support.post("/referrals", &format!("/referrals/{}/complete", referrals[0].id), &done).await;
    assert_eq!(r.status, 422, "completed once");
    let page = officer.get(&case).await.body;
    assert!(page.contains("Hoàn thành") && page.contains("Đã nhận"), "the sender sees each status");
    assert!(page.contains("Đã bố trí chỗ ở tạm thời 30 ngày"), "and what came of the completed one");
    // A consent withdrawn before the receiver answers: the referral can no longer be accepted.
    assert_eq!(refer("verification", police.clone()).await.status, 422, "the police's consent is gone");
    let r = officer
        .post(
            &case,
            &format!("{case}/consents"),
            &[
                ("purpose", "share_agency_kind"),
                ("target_kind", "womens_union"),
                ("given_by", "person"),
                ("given_on", "01/03/2026"),
            ],
        )
        .await;
    assert_eq!(r.status, 303);
    assert_eq!(refer("reintegration", app.agency_id("women").await).await.status, 303);
    let person = app.store.victim_case(case_id).await.expect("read").expect("case").person_id;
    let for_women = app
        .store
        .consents(&person)
        .await
        .expect("consents")
        .into_iter()
        .find(|c| c.target == "womens_union")
        .expect("consent");
    assert_eq!(officer.post(&case, &format!("{case}/consents/{}/withdraw", for_women.id), &[]).await.status, 303);
    let women = app.login("women.officer").await;
    let pending =
        app.store.referrals_of_agency(&app.agency_id("women").await, true, 10).await.expect("referrals").remove(0);
    let r = women.post("/referrals", &format!("/referrals/{}/accept", pending.id), &[]).await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("chưa đồng ý"), "{}", r.body);
    assert_eq!(women.get(&case).await.status, 403);
    let actions = app.audit_actions().await;
    for a in ["referral.send", "referral.accept", "referral.complete", "grant.revoke"] {
        assert!(actions.contains(&a.to_owned()), "{a}");
    }
});

story!(the_trafficking_context_is_recorded_in_the_standard_codes, |app| {
    let (_, code) = person(&app, "border.officer", "Lù Văn Sình", "1998").await;
    let case = receive(&app, "border.officer", &code, &[]).await;
    let officer = app.login("border.officer").await;
    let wishes = "Muốn về quê làm ruộng, không muốn gặp báo chí";
    let context = [
        ("exploitation", "ForcedLabour"),
        ("control", "DebtBondage"),
        ("control", "WithholdsDocuments"),
        ("recruitment", "ThroughOnlineSocialNetworks"),
        ("relationship", "Acquainted"),
        ("destination_country", "KH"),
        ("wishes", wishes),
    ];
    let mut bad = context.to_vec();
    bad.push(("exploitation", "Gambling"));
    let r = officer.post(&case, &format!("{case}/context"), &bad).await;
    assert_eq!(r.status, 422, "a code outside the standard");
    let r = officer.post(&case, &format!("{case}/context"), &context).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let page = officer.get(&case).await.body;
    for shown in ["Lao động cưỡng bức", "Gán nợ", "Giữ giấy tờ tùy thân", "Qua mạng xã hội", "Người quen", "Campuchia"]
    {
        assert!(page.contains(shown), "{shown}");
    }
    assert!(!page.contains(wishes), "the wishes stay sealed");
    let stored = haven_store::testing::column_bytes(&app.store.db, "victim_cases", "wishes").await.expect("column");
    assert!(!stored.iter().any(|v| v.windows(wishes.len()).any(|w| w == wishes.as_bytes())));
    for (form, status) in [
        (vec![("kind", "Recruitment"), ("country", "VN"), ("place", "Trà My"), ("on", "10/01/2026")], 303),
        (vec![("kind", "Exploitation"), ("country", "KH"), ("place", "Sihanoukville"), ("on", "01/02/2026")], 303),
        (vec![("kind", "Exploitation"), ("country", "Cambodia")], 422),
        (vec![("kind", "Holiday"), ("country", "KH")], 422),
        (vec![("kind", "Transit"), ("country", "KH"), ("on", "01/05/2026")], 422),
    ] {
        let r = officer.post(&case, &format!("{case}/events"), &form).await;
        assert_eq!(r.status, status, "{form:?}");
    }
    let events = app.store.trafficking_events(case.trim_start_matches("/victims/")).await.expect("events");
    assert_eq!(
        events.iter().map(|e| (e.kind.as_str(), e.country.as_str())).collect::<Vec<_>>(),
        [("Recruitment", "VN"), ("Exploitation", "KH")]
    );
});

story!(protection_reintegration_visits_closure_and_a_new_episode, |app| {
    let (_, code) = person(&app, "health.officer", "Hà Thị Nhung", "12/12/2000").await;
    let case = receive(&app, "health.officer", &code, &[]).await;
    let officer = app.login("health.officer").await;
    // Protection for a named relative needs the name; dates in order.
    let measure = |for_whom: &'static str, relative: &'static str, ends: &'static str| {
        [
            ("kind", "guarding"),
            ("for_whom", for_whom),
            ("relative", relative),
            ("starts_on", "01/03/2026"),
            ("ends_on", ends),
        ]
    };
    assert_eq!(officer.post(&case, &format!("{case}/measures"), &measure("relative", "", "")).await.status, 422);
    assert_eq!(
        officer.post(&case, &format!("{case}/measures"), &measure("victim", "", "28/02/2026")).await.status,
        422
    );
    let r = officer.post(&case, &format!("{case}/measures"), &measure("relative", "Mẹ: Hà Thị Thu", "")).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert!(officer.get(&case).await.body.contains("Bảo vệ an toàn"));
    // A plan, and visits every three months: the first is due this week.
    let r = officer
        .post(&case, &format!("{case}/goals"), &[("area", "work"), ("goal", "Học nghề may và tìm việc tại địa phương")])
        .await;
    assert_eq!(r.status, 303);
    let goal = app.store.reintegration_goals(case.trim_start_matches("/victims/")).await.expect("goals").remove(0);
    let r = officer.post(&case, &format!("{case}/goals/{}", goal.id), &[("status", "met")]).await;
    assert_eq!(r.status, 303);
    assert_eq!(
        officer.post(&case, &format!("{case}/goals/{}", goal.id), &[("status", "met")]).await.status,
        404,
        "met once"
    );
    assert!(officer.get(&case).await.body.contains("Đã đạt"));
    let r = officer
        .post(&case, &format!("{case}/visits/schedule"), &[("first", "05/03/2026"), ("count", "30"), ("months", "3")])
        .await;
    assert_eq!(r.status, 422, "at most 24 visits");
    let r = officer
        .post(&case, &format!("{case}/visits/schedule"), &[("first", "05/03/2026"), ("count", "4"), ("months", "3")])
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert!(officer.get("/victims").await.body.contains("id=\"visits-due\""), "due within the week");
    // Ten days later the visit is overdue; recording it moves the next one to June.
    app.advance(10 * DAY_MS);
    let officer = app.login("health.officer").await;
    let page = officer.get(&case).await.body;
    assert!(page.contains("Quá hạn"), "an overdue visit is marked");
    let r = officer
        .post(
            &case,
            &format!("{case}/visits"),
            &[("on", "10/03/2026"), ("risk", "medium"), ("note", "Bị người môi giới cũ liên lạc lại")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let v = app.store.victim_case(case.trim_start_matches("/victims/")).await.expect("read").expect("case");
    assert_eq!(v.next_visit_on.as_deref(), Some("2026-06-05"));
    assert!(!officer.get("/victims").await.body.contains("id=\"visits-due\""), "nothing due now");
    // Closed, then trafficked again: a new case for the same person, linked to the old one.
    let r = officer
        .post(&case, &format!("{case}/reopen"), &[("received_on", "11/03/2026"), ("reception_kind", "commune")])
        .await;
    assert_eq!(r.status, 422, "the case is still open");
    let r = officer.post(&case, &format!("{case}/close"), &[("on", "11/03/2026"), ("reason", "reintegrated")]).await;
    assert_eq!(r.status, 303);
    assert_eq!(
        officer.post(&case, &format!("{case}/visits"), &[("on", "11/03/2026"), ("risk", "low")]).await.status,
        422,
        "closed"
    );
    let r = officer
        .post(&case, &format!("{case}/reopen"), &[("received_on", "11/03/2026"), ("reception_kind", "commune")])
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let new_case = r.location.expect("location").split('?').next().expect("path").to_owned();
    let page = officer.get(&new_case).await.body;
    assert!(page.contains("id=\"previous-case\"") && page.contains(&v.case_code), "linked to the earlier episode");
    let person_cases = app.store.victim_cases_of_person(&v.person_id).await.expect("cases");
    assert_eq!(person_cases.len(), 2);
    let stored =
        haven_store::testing::column_bytes(&app.store.db, "protection_measures", "relative").await.expect("column");
    let name = "Hà Thị Thu".as_bytes();
    assert!(!stored.iter().any(|s| s.windows(name.len()).any(|w| w == name)), "the relative is sealed");
});

story!(every_role_of_every_agency_sees_a_victim_case_only_as_entitled, |app| {
    let (_, code) = person(&app, "health.officer", "Mùa Thị Dợ", "2001").await;
    let case = receive(&app, "health.officer", &code, &[]).await;
    let accounts = haven::demo::accounts(&haven::demo::agency_defs().expect("agencies"));
    let may_read = |agency: &str, role: haven_domain::Role, shared_with: &[&str]| {
        let reads = haven_domain::roles::permits(&[role], haven_domain::Action::ViewRecords);
        reads && (agency == "health" || shared_with.contains(&agency))
    };
    let check = |shared_with: &'static [&'static str]| {
        let (app, case, accounts) = (&app, case.clone(), &accounts);
        async move {
            for a in accounts.iter() {
                let c = app.login(&a.username).await;
                let page = c.get(&case).await;
                let expected = if may_read(&a.agency, a.roles[0], shared_with) { 200 } else { 403 };
                assert_eq!(page.status, expected, "{} with grants to {shared_with:?}", a.username);
                assert!(!page.body.contains("Mùa Thị Dợ"), "{}: the name never shows on the case", a.username);
                let api = c.get(&format!("/api/v1{case}")).await;
                assert_ne!(api.status, 200, "{}: the API takes tokens only", a.username);
            }
        }
    };
    check(&[]).await;
    // Shared with the police on the person's consent: the police's readers see it, nobody else does.
    let officer = app.login("health.officer").await;
    let r = officer
        .post(
            &case,
            &format!("{case}/consents"),
            &[
                ("purpose", "share_agency_kind"),
                ("target_kind", "police"),
                ("given_by", "person"),
                ("given_on", "01/03/2026"),
            ],
        )
        .await;
    assert_eq!(r.status, 303);
    let r = officer
        .post(&case, &format!("{case}/grants"), &[("agency", "police"), ("purpose", "verification"), ("days", "7")])
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    check(&["police"]).await;
});
