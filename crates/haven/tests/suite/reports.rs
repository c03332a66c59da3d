//! Reports on the criminal-procedure clock: intake by a clerk, classification, extensions by the body and the
//! procuracy, the settling decision, work lists, and every refusal leaving the report as it was.

use crate::harness::*;
use crate::story;

/// Record a report as the police clerk; returns its page path.
async fn intake(app: &TestApp) -> String {
    let clerk = app.login("police.clerk").await;
    let officer = app.user_id("police.officer").await;
    let r = clerk
        .post(
            "/reports/new",
            "/reports",
            &[
                ("kind", "denunciation"),
                ("channel", "hotline"),
                ("received_date", "01/03/2026"),
                ("received_time", "08:15"),
                ("reporter_name", "Lê Thị Bích"),
                ("reporter_contact", "0905 111 222"),
                ("summary", "Con gái bị dụ sang Campuchia làm việc, mất liên lạc từ tháng 1"),
                ("commune_code", "20900"),
                ("assigned_to", &officer),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    r.location.expect("location").split('?').next().expect("path").to_owned()
}

story!(times_are_read_as_people_write_them_and_errors_land_on_their_field, |app| {
    let clerk = app.login("police.clerk").await;
    let post = |date: &'static str, time: &'static str| {
        let clerk = &clerk;
        async move {
            clerk
                .post(
                    "/reports/new",
                    "/reports",
                    &[
                        ("kind", "denunciation"),
                        ("channel", "hotline"),
                        ("received_date", date),
                        ("received_time", time),
                        ("anonymous", "1"),
                        ("summary", "Một phụ nữ bị đưa qua biên giới, gia đình báo tin qua đường dây nóng"),
                    ],
                )
                .await
        }
    };
    let before = app.count_reports("police").await;
    // It is 09:00 on 1 March 2026 in the harness. Later today is an error on the time, not the date.
    let r = post("01/03/2026", "21h30").await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("id=\"received_time-error\">Giờ này hôm nay chưa đến"), "{}", r.body);
    assert!(!r.body.contains("id=\"received_date-error\""), "the date is right");
    assert!(r.body.contains("aria-describedby=\"received_time-hint received_time-error\""));
    assert!(r.body.contains("value=\"21h30\""), "what was typed is kept");
    // A time that is no time is said on the time field; a day to come on the date field.
    let r = post("01/03/2026", "9h75").await;
    assert!(r.body.contains("id=\"received_time-error\">Giờ không hợp lệ"), "{}", r.body);
    let r = post("02/03/2026", "8h").await;
    assert!(r.body.contains("id=\"received_date-error\">Ngày này chưa đến"), "{}", r.body);
    assert!(!r.body.contains("id=\"received_time-error\""));
    assert_eq!(app.count_reports("police").await, before, "nothing written");
    // The Vietnamese way is accepted, and the report is received at that time.
    for typed in ["8h30", "8 giờ 30", "8:30"] {
        let r = post("01/03/2026", typed).await;
        assert_eq!(r.status, 303, "{typed}: {}", r.body);
        let page = clerk.get(r.location.as_deref().expect("location")).await.body;
        assert!(page.contains("01/03/2026 08:30"), "{typed}");
    }
});

story!(a_report_goes_from_intake_to_a_decision_on_the_clock, |app| {
    let path = intake(&app).await;
    let officer = app.login("police.officer").await;
    let page = officer.get(&path).await.body;
    assert!(page.contains("Tố giác về tội phạm") && page.contains("21/03/2026"), "20 days from 1 March");
    assert!(!page.contains("Lê Thị Bích"), "reporter hidden until opened");
    // The home page counts it among the reports due... not yet: 20 days away.
    let home = officer.get("/").await.body;
    assert!(!home.contains("id=\"task-reports_due\""), "{home}");

    // A decision before classification is refused.
    let r = officer
        .post(
            &path,
            &format!("{path}/decide"),
            &[("decision", "initiate"), ("number", "01/QĐ"), ("decided_on", "01/03/2026")],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("Cần phân loại trước khi ra quyết định"));

    let r = officer
        .post(
            &path,
            &format!("{path}/classify"),
            &[("outcome", "offence"), ("offence_code", "150"), ("reason", "Dấu hiệu lừa đưa sang Campuchia")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert!(officer.get(&path).await.body.contains("Mua bán người (Điều 150 BLHS)"));

    // Complex: two months from receipt.
    app.advance(10 * DAY_MS);
    let officer = app.login("police.officer").await;
    let r = officer
        .post(
            &path,
            &format!("{path}/clock"),
            &[("event", "complex_extension"), ("on", "10/03/2026"), ("reason", "Cần xác minh tại nước ngoài")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert!(officer.get(&path).await.body.contains("01/05/2026"));

    // The procuracy once, asked at least five days before expiry.
    app.advance(50 * DAY_MS);
    let officer = app.login("police.officer").await;
    let late =
        officer.post(&path, &format!("{path}/clock"), &[("event", "procuracy_requested"), ("on", "27/04/2026")]).await;
    assert_eq!(late.status, 422);
    assert!(late.body.contains("chậm nhất 5 ngày"));
    let r =
        officer.post(&path, &format!("{path}/clock"), &[("event", "procuracy_requested"), ("on", "20/04/2026")]).await;
    assert_eq!(r.status, 303);
    let waiting = officer.get("/reports?list=procuracy").await.body;
    assert!(waiting.contains("TG-"), "on the procuracy list");
    let r = officer
        .post(&path, &format!("{path}/clock"), &[("event", "procuracy_granted"), ("on", "22/04/2026"), ("months", "2")])
        .await;
    assert_eq!(r.status, 303);
    assert!(officer.get(&path).await.body.contains("01/07/2026"));
    let again =
        officer.post(&path, &format!("{path}/clock"), &[("event", "procuracy_requested"), ("on", "23/04/2026")]).await;
    assert_eq!(again.status, 422, "a second procuracy extension");
    assert!(again.body.contains("Viện kiểm sát chỉ gia hạn một lần"));

    // An officer of another agency cannot decide it.
    let border = app.login("border.officer").await;
    let r = border
        .post(
            "/",
            &format!("{path}/decide"),
            &[("decision", "initiate"), ("number", "9"), ("decided_on", "23/04/2026")],
        )
        .await;
    assert_eq!(r.status, 403);

    // Impossible dates, then the decision.
    let r = officer
        .post(
            &path,
            &format!("{path}/decide"),
            &[("decision", "initiate"), ("number", "15/QĐ-CSHS"), ("decided_on", "28/02/2026")],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("Ngày này trước ngày tiếp nhận"));
    let r = officer
        .post(
            &path,
            &format!("{path}/decide"),
            &[("decision", "initiate"), ("number", "15/QĐ-CSHS"), ("decided_on", "01/12/2026")],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("Ngày này chưa đến"));
    let r = officer
        .post(
            &path,
            &format!("{path}/decide"),
            &[
                ("decision", "initiate"),
                ("number", "15/QĐ-CSHS"),
                ("decided_on", "23/04/2026"),
                ("notified_on", "24/04/2026"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let page = officer.get(&path).await.body;
    assert!(page.contains("Khởi tố vụ án hình sự") && page.contains("15/QĐ-CSHS") && page.contains("đúng hạn"));
    // Settled: no further clock steps.
    let r = officer
        .post(
            &path,
            &format!("{path}/clock"),
            &[("event", "suspended"), ("on", "24/04/2026"), ("ground", "force_majeure")],
        )
        .await;
    assert_eq!(r.status, 422);
    let actions = app.audit_actions().await;
    for a in [
        "report.create",
        "report.classify",
        "report.complex_extension",
        "report.procuracy_requested",
        "report.procuracy_granted",
        "report.decide",
    ] {
        assert!(actions.contains(&a.to_owned()), "{a} audited");
    }
});

story!(overdue_and_suspended_reports_on_the_work_lists, |app| {
    let path = intake(&app).await;
    app.advance(17 * DAY_MS);
    let officer = app.login("police.officer").await;
    assert!(officer.get("/reports?list=due").await.body.contains("TG-"), "due within five days");
    assert!(officer.get("/reports?list=due&mine=1").await.body.contains("TG-"), "assigned to this officer");
    assert!(
        !app.login("police.head").await.get("/reports?list=due&mine=1").await.body.contains("TG-"),
        "not the head's own"
    );
    app.advance(5 * DAY_MS);
    let officer = app.login("police.officer").await;
    let overdue = officer.get("/reports?list=overdue").await.body;
    assert!(overdue.contains("TG-"));
    let home = officer.get("/").await.body;
    assert!(home.contains("id=\"count-reports_overdue\">1<") && home.contains("class=\"late\""), "{home}");
    // Overdue: it can no longer be suspended or extended.
    let r = officer
        .post(
            &path,
            &format!("{path}/clock"),
            &[("event", "complex_extension"), ("on", "23/03/2026"), ("reason", "quá muộn rồi")],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("Thời hạn đã hết"));
});

story!(suspension_needs_a_ground_and_stops_the_clock, |app| {
    let path = intake(&app).await;
    app.advance(5 * DAY_MS);
    let officer = app.login("police.officer").await;
    let r = officer.post(&path, &format!("{path}/clock"), &[("event", "suspended"), ("on", "05/03/2026")]).await;
    assert_eq!(r.status, 422, "no ground");
    let r = officer
        .post(
            &path,
            &format!("{path}/clock"),
            &[("event", "suspended"), ("on", "05/03/2026"), ("ground", "foreign_assistance")],
        )
        .await;
    assert_eq!(r.status, 303);
    app.advance(100 * DAY_MS);
    let officer = app.login("police.officer").await;
    assert!(!officer.get("/reports?list=overdue").await.body.contains("TG-"), "never overdue while suspended");
    let r = officer.post(&path, &format!("{path}/clock"), &[("event", "resumed"), ("on", "31/05/2026")]).await;
    assert_eq!(r.status, 303);
    assert!(officer.get(&path).await.body.contains("30/06/2026"), "one month from resumption");
});

story!(bad_intake_is_refused_field_by_field_and_reporter_identity_is_sealed, |app| {
    let clerk = app.login("police.clerk").await;
    let r = clerk
        .post(
            "/reports/new",
            "/reports",
            &[("kind", "rumour"), ("channel", "hotline"), ("received_date", "31/02/2026"), ("summary", "ngắn")],
        )
        .await;
    assert_eq!(r.status, 422);
    for msg in [
        "Hãy chọn một mục trong danh sách",
        "Ngày không hợp lệ",
        "Ghi tên người báo tin, hoặc chọn nặc danh",
        "ít nhất 10 ký tự",
    ] {
        assert!(r.body.contains(msg), "{msg}");
    }
    assert!(
        app.store.reports_of_agency(&app.agency_id("police").await, None, 10).await.expect("list").is_empty(),
        "nothing written"
    );
    let path = intake(&app).await;
    let names = haven_store::testing::column_bytes(&app.store.db, "reports", "reporter_name").await.expect("names");
    assert!(!names.iter().any(|n| n.windows("Lê Thị Bích".len()).any(|w| w == "Lê Thị Bích".as_bytes())));
    // Opening the reporter is audited with its purpose.
    let officer = app.login("police.officer").await;
    let shown = officer.post(&path, &format!("{path}/reveal"), &[("purpose", "case_work")]).await;
    assert!(shown.body.contains("Lê Thị Bích") && shown.body.contains("Campuchia"));
    assert!(app.audit_actions().await.contains(&"report.view_details".to_owned()));
    // Another agency sees nothing of it.
    assert_eq!(app.login("health.officer").await.get(&path).await.status, 403);
});

story!(a_case_goes_from_initiation_to_trial_and_the_indicators_follow, |app| {
    let path = intake(&app).await;
    let officer = app.login("police.officer").await;
    // The classification day is the officer's: not before receipt, not in the future; today when left as is.
    let page = officer.get(&path).await.body;
    assert!(page.contains("id=\"classified_on\"") && page.contains("value=\"01/03/2026\""), "today by default");
    for (on, message) in [("28/02/2026", "trước ngày tiếp nhận"), ("02/03/2026", "chưa đến"), ("1/3", "")] {
        let form = [
            ("outcome", "offence"),
            ("offence_code", "150"),
            ("reason", "Dấu hiệu mua bán người"),
            ("classified_on", on),
        ];
        let r = officer.post(&path, &format!("{path}/classify"), &form).await;
        assert_eq!(r.status, 422, "{on}");
        assert!(r.body.contains(message), "{on}: {}", r.body);
    }
    let form = [
        ("outcome", "offence"),
        ("offence_code", "150"),
        ("reason", "Dấu hiệu mua bán người"),
        ("classified_on", "01/03/2026"),
    ];
    assert_eq!(officer.post(&path, &format!("{path}/classify"), &form).await.status, 303);
    assert!(officer.get(&path).await.body.contains("Ngày phân loại 01/03/2026"));
    let analyst = app.login("province.analyst").await;
    let dash = analyst.get("/indicators?year=2026").await;
    assert_eq!(dash.status, 200);
    assert!(dash.body.contains("Tiếp nhận, phân loại"), "definitions shown");
    // One report received and classified: 100%; nothing due yet for settlement.
    let row = |body: &str, code: &str| -> String {
        let at = body.find(&format!("id=\"indicator-{code}\"")).expect("row");
        body[at..at + body[at..].find("</tr>").expect("end")].to_owned()
    };
    assert!(
        row(&dash.body, "received_classified").contains("100%")
            && row(&dash.body, "received_classified").contains("1 / 1")
    );
    assert!(row(&dash.body, "settled_on_time").contains("Chưa có số liệu"));
    let rate = row(&dash.body, "settlement_rate");
    assert!(rate.contains("0 / 1") && rate.contains("Chưa đạt"), "received, not yet settled: {rate}");
    app.advance(5 * DAY_MS);
    let officer = app.login("police.officer").await;
    let r = officer
        .post(
            &path,
            &format!("{path}/decide"),
            &[("decision", "initiate"), ("number", "20/QĐ-CSHS"), ("decided_on", "05/03/2026")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    // Without its number the case is not opened, and the page says so as an error tied to the field.
    let r = officer.post(&path, &format!("{path}/open-case"), &[("case_number", " ")]).await;
    let back = officer.get(r.location.as_deref().expect("back to the report")).await.body;
    assert!(
        back.contains("class=\"error-summary\" role=\"alert\" tabindex=\"-1\" autofocus")
            && back.contains("<a href=\"#case_number\">Cần ghi số vụ án.</a>"),
        "{back}"
    );
    assert!(!back.contains("class=\"notice\" role=\"status\">Cần ghi"), "never a confirmation");
    let r = officer.post(&path, &format!("{path}/open-case"), &[("case_number", "07/2026/HS")]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let case = r.location.expect("case").split('?').next().expect("path").to_owned();
    assert!(case.starts_with("/cases/"));
    // Stages in order; a skipped one is refused.
    let skip = officer.post(&case, &format!("{case}/stage"), &[("stage", "indicted"), ("on", "05/03/2026")]).await;
    assert_eq!(skip.status, 422);
    assert!(skip.body.contains("Cần ghi nhận giai đoạn trước đó"));
    let r =
        officer.post(&case, &format!("{case}/stage"), &[("stage", "offenders_identified"), ("on", "05/03/2026")]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    // Sending the file names the procuracy; another kind of agency is refused.
    let procuracy = app.agency_id("procuracy").await;
    let court = app.agency_id("court").await;
    let health = app.agency_id("health").await;
    for wrong in ["", health.as_str()] {
        let r = officer
            .post(
                &case,
                &format!("{case}/stage"),
                &[("stage", "to_procuracy"), ("on", "06/03/2026"), ("sent_to", wrong)],
            )
            .await;
        assert_eq!(r.status, 422, "sent to {wrong:?}");
    }
    assert!(app.login("procuracy.officer").await.get(&case).await.status == 403, "not yet sent");
    let r = officer
        .post(
            &case,
            &format!("{case}/stage"),
            &[("stage", "to_procuracy"), ("on", "06/03/2026"), ("sent_to", &procuracy)],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    // The procuracy now sees the case and takes its own steps; the court's are not its to record.
    let prosecutor = app.login("procuracy.officer").await;
    assert!(prosecutor.get("/cases").await.body.contains("07/2026/HS"), "on the procuracy's list");
    let r = prosecutor.post(&case, &format!("{case}/stage"), &[("stage", "indicted"), ("on", "06/03/2026")]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let r = prosecutor
        .post(
            &case,
            &format!("{case}/stage"),
            &[("stage", "tried"), ("on", "06/03/2026"), ("detail", "Bản án sơ thẩm")],
        )
        .await;
    assert_eq!(r.status, 403, "the trial is the court's step");
    let r = prosecutor
        .post(&case, &format!("{case}/stage"), &[("stage", "to_court"), ("on", "06/03/2026"), ("sent_to", &court)])
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    // The court records the judgment, which needs its content.
    let judge = app.login("court.officer").await;
    let r = judge.post(&case, &format!("{case}/stage"), &[("stage", "tried"), ("on", "06/03/2026")]).await;
    assert_eq!(r.status, 422);
    let verdict = "Bị cáo phạm tội Mua bán người theo khoản 2 Điều 150";
    let r = judge
        .post(&case, &format!("{case}/stage"), &[("stage", "tried"), ("on", "06/03/2026"), ("detail", verdict)])
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(
        app.login("health.officer").await.get(&case).await.status,
        403,
        "sent to neither health nor anyone else"
    );
    let timeline = officer.get(&case).await.body;
    for step in ["Tố giác về tội phạm", "Khởi tố vụ án hình sự", "Truy tố", "Xét xử sơ thẩm"]
    {
        assert!(timeline.contains(step), "{step} on the timeline");
    }
    let analyst = app.login("province.analyst").await;
    let dash = analyst.get("/indicators?year=2026").await.body;
    for code in ["settlement_rate", "settled_on_time", "offenders_discovered", "prosecuted", "tried"] {
        let r = row(&dash, code);
        assert!(r.contains("100%") && r.contains("1 / 1") && r.contains("Đạt"), "{code}: {r}");
    }
    // The numbers lead to the records behind them: codes and dates only, opened only by those entitled.
    let drill = analyst.get("/indicators/tried?year=2026").await;
    assert_eq!(drill.status, 200);
    assert!(drill.body.contains("07/2026/HS") && !drill.body.contains(&format!("href=\"{case}\"")), "{}", drill.body);
    let own = app.login("police.head").await.get("/indicators/tried?year=2026").await.body;
    assert!(own.contains(&format!("href=\"{case}\"")), "the owner's head opens it from the list");
    // By agency and commune: the border guards and another commune have none of it.
    let scoped = |q: &str| {
        let analyst = &analyst;
        let q = q.to_owned();
        async move { analyst.get(&format!("/indicators?year=2026&{q}")).await.body }
    };
    assert!(row(&scoped("agency=police&commune=20900").await, "tried").contains("1 / 1"));
    assert!(row(&scoped("agency=border").await, "tried").contains("0 / 0"));
    assert!(row(&scoped("commune=20242").await, "tried").contains("0 / 0"));
    let bad = analyst.get("/indicators?year=2026&from=31/12/2026&to=01/01/2026").await;
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains("Kỳ không hợp lệ"));
    // Analysts see the numbers, not the records.
    assert_eq!(analyst.get(&case).await.status, 403);
    assert_eq!(analyst.get(&path).await.status, 403);
    // The verdict is sealed; opening it is recorded with its purpose.
    let stored = haven_store::testing::column_bytes(&app.store.db, "criminal_cases", "verdict").await.expect("verdict");
    assert!(!stored.iter().any(|v| v.windows(verdict.len()).any(|w| w == verdict.as_bytes())));
    let shown = judge.post(&case, &format!("{case}/judgment"), &[("purpose", "case_work")]).await;
    assert!(shown.body.contains(verdict), "{}", shown.body);
    assert!(app.audit_actions().await.contains(&"case.view_judgment".to_owned()));
    // The support authority sees the case only while it is shared with it.
    let health = app.login("health.officer").await;
    assert_eq!(health.get(&case).await.status, 403);
    let head = app.login("police.head").await;
    let r = head
        .post(&case, &format!("{case}/grants"), &[("agency", "health"), ("purpose", "support"), ("days", "400")])
        .await;
    assert_eq!(r.status, 422, "a grant runs at most a year");
    let r = head
        .post(&case, &format!("{case}/grants"), &[("agency", "health"), ("purpose", "support"), ("days", "30")])
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(health.get(&case).await.status, 200);
    let r = health.post(&case, &format!("{case}/judgment"), &[("purpose", "support")]).await;
    assert_eq!(r.status, 403, "a grant lets an agency read the case, not unseal the judgment");
    assert_eq!(
        health
            .post(&case, &format!("{case}/grants"), &[("agency", "women"), ("purpose", "support"), ("days", "30")])
            .await
            .status,
        403,
        "only the owner shares"
    );
    let case_id = case.trim_start_matches("/cases/");
    let grant = app.store.grants_on("criminal_case", case_id).await.expect("grants").remove(0);
    let r = head.post(&case, &format!("{case}/grants/{}/revoke", grant.id), &[]).await;
    assert_eq!(r.status, 303);
    assert_eq!(health.get(&case).await.status, 403, "revoked at once");
});

story!(persons_are_named_on_reports_and_follow_into_the_case, |app| {
    let path = intake(&app).await;
    let report_id = path.trim_start_matches("/reports/").to_owned();
    let officer = app.login("police.officer").await;
    officer
        .post(
            &path,
            &format!("{path}/classify"),
            &[("outcome", "offence"), ("offence_code", "150"), ("reason", "Dấu hiệu mua bán người")],
        )
        .await;
    // A new victim registered from the report comes back named on it.
    let form = format!("/persons/new?link=report:{report_id}&role=victim");
    assert!(officer.get(&form).await.body.contains("Bị hại, nạn nhân"), "the form says what the person will be");
    let r = officer
        .post(
            &form,
            "/persons",
            &[
                ("full_name", "Hồ Thị Mai"),
                ("birth_date", "2004"),
                ("sex", "f"),
                ("link", &format!("report:{report_id}")),
                ("link_role", "victim"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert!(r.location.as_deref().unwrap_or("").starts_with(&path), "back to the report");
    // An existing suspect by code; a code of a record the officer may not open is "not found", like a wrong one.
    let suspect = app.store.person(&app.a_person_of("police").await).await.expect("read").expect("person");
    let other = app.store.person(&app.a_person_of("health").await).await.expect("read").expect("person");
    for (code, status) in [("HS-00000-00000", 422), (other.case_code.as_str(), 422), (suspect.case_code.as_str(), 303)]
    {
        let r = officer.post(&path, &format!("{path}/persons"), &[("person_code", code), ("role", "suspect")]).await;
        assert_eq!(r.status, status, "{code}");
        if status == 422 {
            assert!(r.body.contains("Không tìm thấy hồ sơ người"));
        }
    }
    let page = officer.get(&path).await.body;
    assert!(page.contains(&suspect.case_code) && !page.contains("Hồ Thị Mai"), "codes, not names");
    // Another agency cannot name persons on it.
    let border = app.login("border.officer").await;
    let r = border
        .post("/reports", &format!("{path}/persons"), &[("person_code", &suspect.case_code), ("role", "suspect")])
        .await;
    assert_eq!(r.status, 403);

    // Notified to the procuracy, which then sees the report and answers the extension request itself.
    let procuracy = app.agency_id("procuracy").await;
    let r = officer.post(&path, &format!("{path}/procuracy"), &[("procuracy", &procuracy), ("on", "09/03/2026")]).await;
    assert_eq!(r.status, 422, "not in the future");
    let r = officer.post(&path, &format!("{path}/procuracy"), &[("procuracy", &procuracy), ("on", "01/03/2026")]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let prosecutor = app.login("procuracy.officer").await;
    assert!(prosecutor.get("/reports?list=sent").await.body.contains("TG-"));
    assert_eq!(prosecutor.get(&path).await.status, 200);
    let r = prosecutor
        .post(
            &path,
            &format!("{path}/classify"),
            &[("outcome", "not_related"), ("forwarded_to", "x"), ("reason", "không liên quan")],
        )
        .await;
    assert_eq!(r.status, 403, "the procuracy does not classify the body's report");
    // On its last day the banner tells the assigned officer, on every page, and not the clerk.
    app.advance(20 * DAY_MS);
    let officer = app.login("police.officer").await;
    let banner = officer.get("/persons").await.body;
    assert!(banner.contains("id=\"deadline-banner\"") && banner.contains("đến hạn trong 5 ngày"), "{banner}");
    assert!(banner.contains("class=\"notice warning\" role=\"status\" id=\"deadline-banner\""), "not in green");
    assert!(!app.login("police.clerk").await.get("/").await.body.contains("deadline-banner"));
    let r = officer
        .post(
            &path,
            &format!("{path}/clock"),
            &[("event", "complex_extension"), ("on", "20/03/2026"), ("reason", "Cần xác minh tại Campuchia")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert!(!officer.get("/").await.body.contains("deadline-banner"), "two months now");
    app.advance(30 * DAY_MS);
    let officer = app.login("police.officer").await;
    let r =
        officer.post(&path, &format!("{path}/clock"), &[("event", "procuracy_requested"), ("on", "20/04/2026")]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let own_answer = [("event", "procuracy_granted"), ("on", "20/04/2026"), ("months", "2")];
    assert_eq!(officer.post(&path, &format!("{path}/clock"), &own_answer).await.status, 403, "not its own answer");
    let prosecutor = app.login("procuracy.officer").await;
    assert!(prosecutor.get("/reports?list=to_answer").await.body.contains("TG-"));
    let page = prosecutor.get(&path).await.body;
    assert!(page.contains("Trả lời đề nghị gia hạn"));
    let r = prosecutor
        .post(
            &path,
            &format!("{path}/clock"),
            &[("event", "complex_extension"), ("on", "21/04/2026"), ("reason", "thử ghi thay")],
        )
        .await;
    assert_eq!(r.status, 403, "only its answer");
    let r = prosecutor
        .post(&path, &format!("{path}/clock"), &[("event", "procuracy_granted"), ("on", "20/04/2026"), ("months", "2")])
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert!(!prosecutor.get("/reports?list=to_answer").await.body.contains("TG-"), "answered");

    // Settled and a case opened: the persons follow into it.
    app.advance(5 * DAY_MS);
    let officer = app.login("police.officer").await;
    officer
        .post(
            &path,
            &format!("{path}/decide"),
            &[("decision", "initiate"), ("number", "31/QĐ"), ("decided_on", "21/04/2026")],
        )
        .await;
    let r = officer.post(&path, &format!("{path}/open-case"), &[("case_number", "12/2026/HS")]).await;
    let case = r.location.expect("case").split('?').next().expect("path").to_owned();
    let persons = app.store.case_persons(case.trim_start_matches("/cases/")).await.expect("persons");
    assert_eq!(persons.iter().map(|p| p.role.as_str()).collect::<Vec<_>>(), ["victim", "suspect"]);
    let (victim, accused) = (&persons[0], &persons[1]);
    // Custody: only for suspects, in order, not in the future; the sentence only after the trial.
    let custody = |cp: &str| format!("{case}/persons/{cp}/custody");
    for (who, form, msg) in [
        (&victim.id, vec![("arrested_on", "21/04/2026")], "Chỉ ghi ngày bắt"),
        (&accused.id, vec![("arrested_on", "22/04/2026"), ("released_on", "21/04/2026")], "Các ngày không hợp lệ"),
        (&accused.id, vec![("arrested_on", "22/05/2026")], "Ngày này chưa đến"),
        (&accused.id, vec![("arrested_on", "21/04/2026"), ("sentence", "7 năm tù")], "Chỉ ghi hình phạt sau khi"),
    ] {
        let r = officer.post(&case, &custody(who), &form).await;
        assert_eq!(r.status, 422, "{form:?}");
        assert!(r.body.contains(msg), "{msg}: {}", r.body);
    }
    let r = officer
        .post(&case, &custody(&accused.id), &[("arrested_on", "21/04/2026"), ("detained_on", "22/04/2026")])
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let page = officer.get(&case).await.body;
    assert!(page.contains("22/04/2026") && page.contains("Ngày tạm giam"), "custody on the timeline");
    assert!(app.audit_actions().await.contains(&"case.custody".to_owned()));

    // A later report from another commune naming the same suspect is offered as possibly the same event.
    let token = token_for(&app, "police.officer").await;
    let c = app.client();
    let body = serde_json::json!({"kind": "crime_report", "channel": "letter", "received_date": "24/04/2026", "commune_code": "20242", "anonymous": true, "summary": "Thư báo tin về người môi giới đưa phụ nữ sang Trung Quốc"});
    let (s, later) = c.api_post(&token, "/api/v1/reports", &body).await;
    assert_eq!(s, 201, "{later}");
    assert!(!officer.get(&path).await.body.contains("Có thể trùng sự việc"), "another commune, weeks apart");
    let later_id = later["id"].as_str().expect("id");
    let link = serde_json::json!({"person_code": suspect.case_code, "role": "suspect"});
    assert_eq!(c.api_post(&token, &format!("/api/v1/reports/{later_id}/persons"), &link).await.0, 200);
    let page = officer.get(&path).await.body;
    assert!(
        page.contains("Có thể trùng sự việc") && page.contains(later["case_code"].as_str().expect("code")),
        "the same person"
    );
});

async fn demo_year(backend: Backend) {
    let Some(app) = TestApp::start_with(backend, 400).await else { return };
    let police = app.agency_id("police").await;
    let all = app.store.reports_of_agency(&police, None, 1000).await.expect("reports");
    assert!(all.len() > 200, "most reports go to the police: {}", all.len());
    // The list pages through every report, a hundred at a time, and finds one by its code.
    let officer = app.login("police.officer").await;
    let seen = crate::lists::every_page(&officer, "/reports", "report-list", "/reports/", 100).await;
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!((seen.len(), unique.len()), (all.len(), all.len()), "every report once");
    let r = officer.get(&format!("/reports?code={}", all[150].case_code.to_lowercase())).await;
    assert_eq!(r.location.as_deref(), Some(format!("/reports/{}", all[150].id).as_str()));
    let r = officer.get("/reports?code=TG-KHONG-CO").await;
    assert!(r.body.contains("Không có tố giác, tin báo nào với mã này"), "{}", r.body);
    let border = app.login("border.officer").await.get(&format!("/reports?code={}", all[150].case_code)).await;
    assert!(border.location.is_none(), "another agency's report is not found");
    let settled = all.iter().filter(|r| r.decision_kind.is_some()).count();
    let late = all.iter().filter(|r| r.decision_on_time == Some(false)).count();
    let suspended = all.iter().filter(|r| r.suspended_since.is_some()).count();
    let complex = all.iter().filter(|r| r.complex).count();
    assert!(
        settled > all.len() / 2 && late > 0 && suspended > 0 && complex > 20,
        "settled {settled}, late {late}, suspended {suspended}, complex {complex}"
    );
    // Victim cases beside the reports: children, identified victims, supports, referrals, one re-trafficked.
    let mut victims = app.store.victim_cases_of_agency(&app.agency_id("border").await, 1000).await.expect("victims");
    victims.extend(app.store.victim_cases_of_agency(&app.agency_id("health").await, 1000).await.expect("victims"));
    assert!((30..=70).contains(&victims.len()), "one for every eight reports: {}", victims.len());
    assert!(victims.iter().any(|v| v.child), "some children");
    assert!(victims.iter().filter(|v| v.status == "identified").count() > 10, "most identified");
    assert!(victims.iter().any(|v| v.verified_on.is_none()), "some still awaiting verification");
    let again = victims.iter().filter(|v| victims.iter().filter(|w| w.person_id == v.person_id).count() == 2).count();
    assert_eq!(again, 2, "one person trafficked again, with two cases");
    let border_id = app.agency_id("border").await;
    let incoming = app.store.referrals_of_agency(&app.agency_id("health").await, true, 1000).await.expect("referrals");
    assert!(incoming.iter().any(|r| r.status == "accepted") && incoming.iter().any(|r| r.status == "sent"));
    let cases = app.store.cases_of_agency(&police, 1000).await.expect("cases");
    assert!((10..=150).contains(&cases.len()), "a few dozen cases: {}", cases.len());
    let listed = crate::lists::every_page(&officer, "/cases", "case-list", "/cases/", 50).await;
    assert_eq!(listed.len(), cases.len(), "the case list pages through every case");
    // Some of the border guards' victims were handed over to the support authority; some handovers await it.
    let health = app.agency_id("health").await;
    let held = app.store.victim_cases_of_agency(&health, 1000).await.expect("cases");
    let mut taken_over = 0;
    for line in &held {
        let case = app.store.victim_case(&line.id).await.expect("read").expect("case");
        taken_over += usize::from(case.received_by_agency_id == border_id);
    }
    assert!(taken_over > 0, "handed over and accepted");
    assert!(!app.store.handovers_to(&health, 100).await.expect("handovers").is_empty(), "awaiting an answer");
    // Requests abroad about the border guards' victims: most answered, some awaiting an answer.
    let border = app.agency_id("border").await;
    let requests = app.store.cooperation_of_agency(&border, 1000).await.expect("requests");
    let answered = requests.iter().filter(|r| r.answered_on.is_some()).count();
    assert!(requests.len() >= 10 && answered > 0 && answered < requests.len(), "{answered} of {}", requests.len());
    assert!(requests.iter().all(|r| r.victim_case_id.is_some() && r.person_id.is_some()));
    assert!(cases.iter().any(|c| c.stages.iter().any(|(s, _)| s == "tried")), "some cases reach trial");
    // Every stored clock replays under the rules, and the pages show the lists.
    let officer = app.login("police.officer").await;
    assert!(officer.get("/reports?list=overdue").await.body.contains("TG-"), "some are overdue");
    let one = &all[0];
    assert_eq!(officer.get(&format!("/reports/{}", one.id)).await.status, 200);
    let analyst = app.login("province.analyst").await;
    let dash = analyst.get("/indicators?year=2025").await.body;
    assert!(
        dash.contains("indicator-settled_on_time") && !dash.contains("Chưa có số liệu"),
        "a year of data in every indicator"
    );
    // Each past quarter shows the classification share as the officers dated it, and the settlement rate is
    // a number of its own, not the on-time share.
    use haven_domain::reports::indicators::{IndicatorId, Period};
    let at = |id: IndicatorId| IndicatorId::ALL.iter().position(|i| *i == id).expect("indicator");
    let mut differ = 0;
    for (from, to) in [((1, 1), (3, 31)), ((4, 1), (6, 30)), ((7, 1), (9, 30)), ((10, 1), (12, 31))] {
        let day = |(m, d): (u8, u8)| {
            time::Date::from_calendar_date(2025, time::Month::try_from(m).expect("month"), d).expect("day")
        };
        let q = Period { from: day(from), to: day(to) };
        let counts = app.store.indicator_counts(q, haven_store::cases::Scope::default()).await.expect("counts");
        let (n, d) = counts[at(IndicatorId::ReceivedAndClassified)];
        assert!(d > 0 && n * 100 >= d * 85, "{q:?}: {n} of {d} classified");
        let (rate, on_time) = (counts[at(IndicatorId::SettlementRate)], counts[at(IndicatorId::SettledOnTime)]);
        differ += usize::from(rate != on_time);
    }
    assert!(differ >= 3, "the settlement rate and the on-time share are different numbers");
    assert!(app.store.verify_audit().await.expect("verify").ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_holds_a_realistic_year_sqlite() {
    demo_year(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_holds_a_realistic_year_postgres() {
    demo_year(Backend::Postgres).await;
}

/// The dashboard counts in SQL; the domain's `compute` is the written definition. They must agree.
async fn sql_counts_agree(backend: Backend) {
    use haven_domain::reports::indicators::{compute, Period};
    use time::macros::date;
    let Some(app) = TestApp::start_with(backend, 400).await else { return };
    let police = app.agency_id("police").await;
    let periods = [
        Period { from: date!(2025 - 01 - 01), to: date!(2025 - 12 - 31) },
        Period { from: date!(2025 - 04 - 01), to: date!(2025 - 06 - 30) },
        Period { from: date!(2026 - 02 - 01), to: date!(2026 - 02 - 28) },
        Period { from: date!(2026 - 01 - 01), to: date!(2026 - 03 - 01) },
    ];
    let mut nonzero = 0;
    for period in periods {
        for agency in [None, Some(police.as_str())] {
            let scope = haven_store::cases::Scope { agency_id: agency, commune_code: None };
            let (reports, cases) = app.store.indicator_facts(period, scope).await.expect("facts");
            let reference: Vec<(i64, i64)> = compute(period, &reports, &cases)
                .iter()
                .map(|v| (v.numerator.len() as i64, v.denominator.len() as i64))
                .collect();
            let sql = app.store.indicator_counts(period, scope).await.expect("counts");
            assert_eq!(sql.to_vec(), reference, "{period:?} {agency:?}");
            nonzero += reference.iter().filter(|(_, d)| *d > 0).count();
        }
    }
    assert!(nonzero > 20, "the comparison covered real data ({nonzero} non-empty indicators)");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn indicator_counts_in_sql_match_the_definitions_sqlite() {
    sql_counts_agree(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn indicator_counts_in_sql_match_the_definitions_postgres() {
    sql_counts_agree(Backend::Postgres).await;
}

story!(the_same_event_reported_twice_is_offered_for_linking, |app| {
    let first = intake(&app).await;
    app.advance(2 * DAY_MS);
    let second = intake(&app).await;
    let officer = app.login("police.officer").await;
    let page = officer.get(&second).await.body;
    assert!(page.contains("Có thể trùng sự việc"), "same commune, two days apart");
    let first_id = first.trim_start_matches("/reports/");
    let r = officer.post(&second, &format!("{second}/same-event"), &[("other", first_id)]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let page = officer.get(&second).await.body;
    assert!(page.contains("Cùng sự việc với") && !page.contains("Có thể trùng sự việc"));
    assert!(officer.get(&first).await.body.contains("Cùng sự việc với"), "the link shows from both sides");
    // Both records are kept, and linking twice is refused.
    assert_eq!(app.store.reports_of_agency(&app.agency_id("police").await, None, 10).await.expect("list").len(), 2);
    assert_eq!(officer.post(&second, &format!("{second}/same-event"), &[("other", first_id)]).await.status, 400);
    assert!(app.audit_actions().await.contains(&"report.link_same_event".to_owned()));
});
