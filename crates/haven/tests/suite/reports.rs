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

story!(a_report_goes_from_intake_to_a_decision_on_the_clock, |app| {
    let path = intake(&app).await;
    let officer = app.login("police.officer").await;
    let page = officer.get(&path).await.body;
    assert!(page.contains("Tố giác về tội phạm") && page.contains("21/03/2026"), "20 days from 1 March");
    assert!(!page.contains("Lê Thị Bích"), "reporter hidden until opened");
    // The home page counts it among the reports due... not yet: 20 days away.
    let home = officer.get("/").await.body;
    assert!(home.contains("id=\"reports-due\">0<"), "{home}");

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
    assert!(officer.get("/").await.body.contains("id=\"reports-overdue\">1<"));
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
        app.store.reports_of_agency(&app.agency_id("police").await, 10).await.expect("list").is_empty(),
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
    officer
        .post(
            &path,
            &format!("{path}/classify"),
            &[("outcome", "offence"), ("offence_code", "150"), ("reason", "Dấu hiệu mua bán người")],
        )
        .await;
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
    let r = officer.post(&path, &format!("{path}/open-case"), &[("case_number", "07/2026/HS")]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let case = r.location.expect("case").split('?').next().expect("path").to_owned();
    assert!(case.starts_with("/cases/"));
    // Stages in order; a skipped one is refused.
    let skip = officer.post(&case, &format!("{case}/stage"), &[("stage", "indicted"), ("on", "05/03/2026")]).await;
    assert_eq!(skip.status, 422);
    assert!(skip.body.contains("Cần ghi nhận giai đoạn trước đó"));
    for (stage, on) in [
        ("offenders_identified", "05/03/2026"),
        ("to_procuracy", "06/03/2026"),
        ("indicted", "06/03/2026"),
        ("to_court", "06/03/2026"),
        ("tried", "06/03/2026"),
    ] {
        let r = officer.post(&case, &format!("{case}/stage"), &[("stage", stage), ("on", on)]).await;
        assert_eq!(r.status, 303, "{stage}: {}", r.body);
    }
    let timeline = officer.get(&case).await.body;
    for step in ["Tố giác về tội phạm", "Khởi tố vụ án hình sự", "Truy tố", "Xét xử sơ thẩm"]
    {
        assert!(timeline.contains(step), "{step} on the timeline");
    }
    let analyst = app.login("province.analyst").await;
    let dash = analyst.get("/indicators?year=2026").await.body;
    for code in ["settled_on_time", "offenders_discovered", "prosecuted", "tried"] {
        let r = row(&dash, code);
        assert!(r.contains("100%") && r.contains("1 / 1") && r.contains("Đạt"), "{code}: {r}");
    }
    // Analysts see the numbers, not the records.
    assert_eq!(analyst.get(&case).await.status, 403);
    assert_eq!(analyst.get(&path).await.status, 403);
});

async fn demo_year(backend: Backend) {
    let Some(app) = TestApp::start_with(backend, 400).await else { return };
    let police = app.agency_id("police").await;
    let all = app.store.reports_of_agency(&police, 1000).await.expect("reports");
    assert!(all.len() > 200, "most reports go to the police: {}", all.len());
    let settled = all.iter().filter(|r| r.decision_kind.is_some()).count();
    let late = all.iter().filter(|r| r.decision_on_time == Some(false)).count();
    let suspended = all.iter().filter(|r| r.suspended_since.is_some()).count();
    let complex = all.iter().filter(|r| r.complex).count();
    assert!(
        settled > all.len() / 2 && late > 0 && suspended > 0 && complex > 20,
        "settled {settled}, late {late}, suspended {suspended}, complex {complex}"
    );
    let cases = app.store.cases_of_agency(&police, 1000).await.expect("cases");
    assert!((10..=150).contains(&cases.len()), "a few dozen cases: {}", cases.len());
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
            let (reports, cases) = app.store.indicator_facts(period, agency).await.expect("facts");
            let reference: Vec<(i64, i64)> = compute(period, &reports, &cases)
                .iter()
                .map(|v| (v.numerator.len() as i64, v.denominator.len() as i64))
                .collect();
            let sql = app.store.indicator_counts(period, agency).await.expect("counts");
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
    assert_eq!(app.store.reports_of_agency(&app.agency_id("police").await, 10).await.expect("list").len(), 2);
    assert_eq!(officer.post(&second, &format!("{second}/same-event"), &[("other", first_id)]).await.status, 400);
    assert!(app.audit_actions().await.contains(&"report.link_same_event".to_owned()));
});
