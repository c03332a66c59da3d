//! The plan and what feeds it: a plan with objectives and indicators (computed from the records, or entered
//! by hand by the responsible agency), a prevention campaign reported by the women's union counted in the
//! plan's reach indicator, training courses, a plan copied to the next year, and bad input refused with
//! nothing saved.

use crate::harness::*;
use crate::story;

fn path_of(r: &Resp) -> String {
    r.location.as_deref().expect("location").split('?').next().expect("path").to_owned()
}

/// The value shown in an indicator's row, as a whole number.
fn value_in(row: &str) -> u64 {
    let v = row.split("<span class=\"value\">").nth(1).expect("value").split('<').next().expect("text");
    v.trim().parse().unwrap_or_else(|_| panic!("a count, not {v}"))
}

/// The table row of an indicator on the plan page.
fn row<'a>(page: &'a str, id: &str) -> &'a str {
    let start = page.find(&format!("id=\"indicator-{id}\"")).expect("indicator row");
    let rest = &page[start..];
    &rest[..rest.find("</tr>").expect("row end")]
}

story!(a_womens_union_campaign_counts_in_the_plans_reach_indicator, |app| {
    let head = app.login("province.head").await;
    let plans_before = app.store.plans().await.expect("plans").len();
    // Bad input first: nothing is created.
    let r = head.post("/plans", "/plans", &[("name", " "), ("year", "1999")]).await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("Cần điền mục này") && r.body.contains("Ghi năm từ 2000"), "{}", r.body);
    assert_eq!(app.store.plans().await.expect("plans").len(), plans_before);
    let r = head.post("/plans", "/plans", &[("name", "Kế hoạch hỗ trợ nạn nhân năm 2026"), ("year", "2026")]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let plan = path_of(&r);
    let plan_id = plan.trim_start_matches("/plans/").to_owned();
    let r = head.post(&plan, &format!("{plan}/objectives"), &[("title", "Phòng ngừa từ cộng đồng")]).await;
    assert_eq!(r.status, 303);
    let objective = app.store.objectives(&plan_id).await.expect("objectives")[0].id.clone();
    let (women_id, police_id) = (app.agency_id("women").await, app.agency_id("police").await);
    let indicators = format!("{plan}/indicators");
    let r = head
        .post(
            &plan,
            &indicators,
            &[
                ("name", "Số người được tuyên truyền"),
                ("measure", "campaign_reach"),
                ("target", "700"),
                ("frequency", "year"),
                ("responsible", women_id.as_str()),
                ("objective_id", objective.as_str()),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let r = head
        .post(
            &plan,
            &indicators,
            &[
                ("name", "Tỷ lệ giải quyết tố giác, tin báo"),
                ("measure", "settlement_rate"),
                ("frequency", "quarter"),
                ("responsible", police_id.as_str()),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    // An indicator entered by hand needs its written definition; a target above 100% is refused.
    let manual = |definition: &'static str, target: &'static str| {
        vec![
            ("name", "Số tin bài trên báo, đài"),
            ("measure", "manual"),
            ("unit", "count"),
            ("definition", definition),
            ("target", target),
            ("frequency", "quarter"),
            ("responsible", women_id.as_str()),
        ]
    };
    let r = head.post(&plan, &indicators, &manual("", "12")).await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("Chỉ tiêu nhập tay cần có định nghĩa"), "{}", r.body);
    let mut share = manual("Tỷ lệ", "120");
    share[2] = ("unit", "percent");
    assert!(head.post(&plan, &indicators, &share).await.body.contains("Ghi tỷ lệ từ 0 đến 100"));
    let r = head.post(&plan, &indicators, &manual("Tin, bài đăng trên báo và đài địa phương trong kỳ", "12")).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let ids: Vec<String> =
        app.store.plan_indicators(&plan_id).await.expect("indicators").into_iter().map(|i| i.id).collect();
    assert_eq!(ids.len(), 3, "the refused indicators were not saved");
    let (reach, settled, press) = (&ids[0], &ids[1], &ids[2]);
    let page = head.get(&plan).await.body;
    // The demo's own activities since January are already counted.
    let reached = value_in(row(&page, reach));
    assert!(row(&page, settled).contains("90%"), "the catalogue's target: {}", row(&page, settled));
    assert!(page.contains("Người tham dự (nữ và nam) các hoạt động phòng ngừa"), "the written definition is shown");

    // The women's union records a campaign; bad numbers are refused first and nothing is saved.
    let women = app.login("women.officer").await;
    let activity = |women_n: &'static str, students: &'static str| {
        vec![
            ("title", "Nói chuyện về di cư an toàn"),
            ("held_on", "20/02/2026"),
            ("commune_code", "20900"),
            ("organiser", "Hội LHPN xã Trà My"),
            ("channel", "school_session"),
            ("women", women_n),
            ("men", "80"),
            ("group.students", students),
            ("group.ethnic_minorities", "90"),
            ("materials", "200"),
        ]
    };
    let r = women.post("/prevention", "/prevention", &activity("-5", "150")).await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("Số người không thể âm"), "{}", r.body);
    let r = women.post("/prevention", "/prevention", &activity("120", "250")).await;
    assert!(r.body.contains("Một nhóm không thể có nhiều người hơn tổng số"), "{}", r.body);
    let r = women.post("/prevention", "/prevention", &activity("120", "150")).await;
    assert_eq!(r.status, 303, "{}", r.body);
    // The plan's reach indicator counts it: the same figure on the page and through the API.
    let page = head.get(&plan).await.body;
    assert_eq!(value_in(row(&page, reach)), reached + 200, "{}", row(&page, reach));
    assert!(row(&page, reach).contains("Đạt tiến độ"), "well above what is due of 700 by the start of March");
    let token = token_for(&app, "province.analyst").await;
    let (status, api) = app.client().api_get(&token, &format!("/api/v1/plans/{plan_id}")).await;
    assert_eq!(status, 200, "{api}");
    let by_api = api["indicators"].as_array().expect("indicators").iter().find(|i| i["id"] == reach.as_str()).cloned();
    assert_eq!(
        by_api.map(|i| (i["value"].clone(), i["status"].clone())),
        Some(((reached + 200).into(), "on_track".into())),
        "the API gives the page's figure"
    );
    let reach_page = women.get("/prevention").await.body;
    let group = reach_page.split("id=\"reach-by-group\"").nth(1).expect("table").split("</table>").next().expect("t");
    assert!(group.contains("Học sinh, sinh viên"), "reach by group: {group}");
    assert!(reach_page.contains("Nói chuyện về di cư an toàn") && reach_page.contains("Hội LHPN xã Trà My"));

    // Values entered by hand: by the responsible agency only, for a period that has begun; a correction.
    let entries = format!("{plan}/indicators/{press}/entries");
    let entry = |period: &'static str, value: &'static str| vec![("entry_period", period), ("value", value)];
    assert_eq!(app.login("police.officer").await.post_raw(&entries, &entry("2026-Q1", "3")).await.status, 403);
    let r = women.post(&plan, &entries, &entry("2026-Q2", "3")).await;
    assert_eq!(r.status, 422, "the second quarter has not begun");
    let r = women.post(&plan, &entries, &entry("2026-Q1", "ba")).await;
    assert_eq!(r.status, 422);
    let r = women.post(&plan, &entries, &entry("2026-Q1", "3")).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let r = women.post(&plan, &entries, &entry("2026-Q1", "5")).await;
    assert!(r.location.as_deref().is_some_and(|l| l.contains("entry_corrected")));
    let page = head.get(&format!("{plan}?period=2026-Q1")).await.body;
    assert!(row(&page, press).contains(">5<"), "{}", row(&page, press));
    assert!(app.audit_actions().await.contains(&"plan.entry_corrected".to_owned()));
    assert_eq!(head.get(&format!("{plan}?period=2027-Q1")).await.status, 422, "a period of another year");

    // Who sees the plan: analysts and staff who report into it; not the auditor.
    assert_eq!(app.login("province.analyst").await.get(&plan).await.status, 200);
    assert_eq!(app.login("province.auditor").await.get(&plan).await.status, 403);
    // Only the owner's head edits it.
    let r = app.login("police.head").await.post_raw(&format!("{plan}/objectives"), &[("title", "X")]).await;
    assert_eq!(r.status, 403);

    // Copied to the next year: the indicators and targets, no values.
    let copy = format!("{plan}/copy");
    let r = head.post(&plan, &copy, &[("name", "Kế hoạch năm 2026 (bản sao)"), ("year", "2026")]).await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("Chọn năm khác"));
    let r = head.post(&plan, &copy, &[("name", "Kế hoạch hỗ trợ nạn nhân năm 2027"), ("year", "2027")]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let next = path_of(&r).trim_start_matches("/plans/").to_owned();
    let copied = app.store.plan_indicators(&next).await.expect("indicators");
    assert_eq!(copied.len(), 3);
    assert_eq!(copied[0].target, Some(700));
    assert!(app.store.entries(&copied[2].id).await.expect("entries").is_empty(), "no values copied");
    assert_eq!(app.store.objectives(&next).await.expect("objectives").len(), 1);
});

story!(training_courses_count_the_officials_trained, |app| {
    let year = haven_domain::plan::ReportPeriod::year(2026).expect("year").range();
    let commune_only = haven_store::cases::Scope { agency_id: None, commune_code: Some("20900") };
    let trained = |scope| {
        let store = app.store.clone();
        async move {
            match store.figure(haven_domain::plan::Measure::OfficialsTrained, year, scope).await.expect("figure") {
                haven_domain::plan::Figure::Total(n) => n,
                other => panic!("a count, not {other:?}"),
            }
        }
    };
    let (before, before_in_commune) = (trained(Default::default()).await, trained(commune_only).await);
    let officer = app.login("women.officer").await;
    let course = |from: &'static str, to: &'static str| {
        vec![
            ("title", "Kỹ năng nhận diện nạn nhân"),
            ("topic", "victim_identification"),
            ("starts_on", from),
            ("ends_on", to),
            ("trainers", "Giảng viên Học viện Phụ nữ"),
        ]
    };
    let r = officer.post("/training", "/training", &course("12/02/2026", "10/02/2026")).await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("Ngày kết thúc không thể trước ngày bắt đầu"), "{}", r.body);
    let r = officer.post("/training", "/training", &course("10/02/2026", "12/02/2026")).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let training = path_of(&r);
    let add = format!("{training}/participants");
    let commune = app.agency_id("pc-tramy").await;
    let r = officer.post(&training, &add, &[("full_name", "Bùi Thị Hoa"), ("agency", commune.as_str())]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let me = app.user_id("women.officer").await;
    let r = officer.post(&training, &add, &[("user_id", me.as_str()), ("certificate", "TH-2026-001")]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let r = officer.post(&training, &add, &[("user_id", me.as_str())]).await;
    assert_eq!(r.status, 422, "once per course");
    let page = officer.get(&training).await.body;
    assert!(page.contains("Bùi Thị Hoa") && page.contains("TH-2026-001"), "{page}");
    // The name is sealed at rest, and another agency sees the count only.
    let names =
        haven_store::testing::column_bytes(&app.store.db, "training_participants", "full_name").await.expect("column");
    assert!(names.iter().all(|n| !String::from_utf8_lossy(n).contains("Hoa")));
    let other = app.login("police.officer").await.get(&training).await.body;
    assert!(!other.contains("Bùi Thị Hoa") && other.contains("id=\"participant-count\">2<"), "{other}");
    // The plan's catalogue counts them, and the commune's own official in the commune's figure.
    assert_eq!(trained(Default::default()).await, before + 2);
    assert_eq!(trained(commune_only).await, before_in_commune + 1);
});

story!(the_plan_dashboard_breaks_victims_down_and_draws_trends, |app| {
    // Two victims received this year by the health department: a girl of 15 and a woman, both from Laos.
    let health = app.login("health.officer").await;
    for (name, birth) in [("Hồ Thị Bích", "03/03/2010"), ("Alăng Thị Mai", "1995")] {
        let r = health
            .post(
                "/persons/new",
                "/persons",
                &[
                    ("full_name", name),
                    ("birth_date", birth),
                    ("sex", "f"),
                    ("nationality", "VN"),
                    ("commune_code", "20707"),
                ],
            )
            .await;
        assert_eq!(r.status, 303, "{}", r.body);
        let person = path_of(&r).trim_start_matches("/persons/").to_owned();
        let code = app.store.person(&person).await.expect("read").expect("person").case_code;
        let r = health
            .post(
                "/victims/new",
                "/victims",
                &[
                    ("person_code", code.as_str()),
                    ("reception_kind", "border"),
                    ("received_on", "15/02/2026"),
                    ("vietnamese", "1"),
                    ("in_vietnam", "1"),
                ],
            )
            .await;
        assert_eq!(r.status, 303, "{}", r.body);
    }
    let analyst = app.login("province.analyst").await;
    let plans = app.store.plans().await.expect("plans");
    let plan = &plans.iter().find(|p| p.year == 2026).expect("the demo plan").id;
    let page = analyst.get(&format!("/plans/{plan}")).await;
    assert_eq!(page.status, 200);
    // The breakdowns: each chart is an SVG with its table of numbers, and the tables add up to the total.
    let body = page.body;
    let total: u64 = body
        .split("id=\"victims-breakdown\"")
        .nth(1)
        .and_then(|s| s.split("</h2>").next())
        .and_then(|h| h.rsplit(": ").next())
        .and_then(|n| n.trim().parse().ok())
        .expect("victims received");
    assert!(total >= 2, "the two received this year");
    let ages = body.split("id=\"chart-by-age\"").nth(1).expect("ages").split("</figure>").next().expect("f");
    assert!(ages.contains("Dưới 16 tuổi") && ages.contains("Từ 30 đến 44 tuổi"), "{ages}");
    for id in ["by-commune", "by-agency", "by-country", "by-sex", "by-age"] {
        let block =
            body.split(&format!("id=\"chart-{id}\"")).nth(1).expect("chart").split("</figure>").next().expect("f");
        assert!(block.contains("<svg") && block.contains("role=\"img\""), "{id}");
        let sum: u64 = block
            .split("<td class=\"num\">")
            .skip(1)
            .filter_map(|c| c.split('<').next().and_then(|n| n.trim().parse::<u64>().ok()))
            .sum();
        assert_eq!(sum, total, "{id} adds up to the victims received");
    }
    assert!(!body.contains("<script"), "no script draws the charts");
    // An indicator's trend by month: a column per month begun, the numbers in a table.
    let indicators = app.store.plan_indicators(plan).await.expect("indicators");
    let reach = indicators.iter().find(|i| i.measure.as_deref() == Some("campaign_reach")).expect("reach");
    let trend = analyst.get(&format!("/plans/{plan}/indicators/{}", reach.id)).await.body;
    assert!(trend.contains("id=\"chart-trend\"") && trend.contains("stroke-dasharray"), "target line");
    let months: u64 = trend
        .split("id=\"chart-trend\"")
        .nth(1)
        .expect("chart")
        .split("<td class=\"num\">")
        .skip(1)
        .filter_map(|c| c.split('<').next().and_then(|n| n.trim().parse::<u64>().ok()))
        .sum();
    let year = haven_domain::plan::ReportPeriod::year(2026).expect("year").range();
    let until = haven_domain::reports::indicators::Period { from: year.from, to: time::macros::date!(2026 - 03 - 01) };
    let whole =
        app.store.figure(haven_domain::plan::Measure::CampaignReach, until, Default::default()).await.expect("figure");
    assert_eq!(haven_domain::plan::Figure::Total(months), whole, "the months add up to the year so far");
});

/// The text of every cell of a workbook (its shared strings and inline strings), for checking what was
/// written without reading it as a list.
fn workbook_text(bytes: &[u8]) -> String {
    use std::io::Read;
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a workbook");
    let mut out = String::new();
    for i in 0..zip.len() {
        let mut f = zip.by_index(i).expect("part");
        if f.name().starts_with("xl/") && f.name().ends_with(".xml") {
            f.read_to_string(&mut out).expect("xml");
        }
    }
    out
}

story!(a_quarterly_report_matches_the_dashboard, |app| {
    let head = app.login("province.head").await;
    let r = head.post("/plans", "/plans", &[("name", "=1+2 Kế hoạch thử"), ("year", "2026")]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let plan = path_of(&r);
    let women = app.agency_id("women").await;
    let r = head
        .post(
            &plan,
            &format!("{plan}/indicators"),
            &[
                ("name", "@SUM(A1) người được tuyên truyền"),
                ("measure", "campaign_reach"),
                ("target", "700"),
                ("frequency", "quarter"),
                ("responsible", women.as_str()),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let dashboard = head.get(&format!("{plan}?period=2026-Q1")).await.body;
    let on_dashboard = value_in(&dashboard);
    // The printable report: the administrative layout, and the dashboard's number.
    let report = head.get(&format!("{plan}/report?period=2026-Q1&number=12/BC-BCĐ")).await;
    assert_eq!(report.status, 200);
    for part in [
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "Số: 12/BC-BCĐ",
        "Nơi nhận:",
        "Quý 1/2026",
    ] {
        assert!(report.body.contains(part), "{part}");
    }
    assert!(
        report.body.contains(&format!("<td class=\"num\">{on_dashboard}</td>")),
        "the report gives the dashboard's figure"
    );
    let reached =
        report.body.split("id=\"report-reached\">").nth(1).and_then(|s| s.split('<').next()).expect("reached");
    assert_eq!(reached.parse::<u64>().expect("number"), on_dashboard);
    assert!(!report.body.contains("id=\"report-empty\""));
    // The women's union's own report counts its own campaigns only, as the plan counts them for it.
    let q1 = haven_domain::plan::ReportPeriod::year(2026).expect("year").range();
    let q1 = haven_domain::reports::indicators::Period { from: q1.from, to: time::macros::date!(2026 - 03 - 31) };
    let scope = haven_store::cases::Scope { agency_id: Some(women.as_str()), commune_code: None };
    let theirs = app.store.figure(haven_domain::plan::Measure::CampaignReach, q1, scope).await.expect("figure");
    let theirs = theirs.value().expect("a count");
    assert!(theirs > 0 && theirs < on_dashboard, "the communes campaign too: {theirs} of {on_dashboard}");
    let own = head.get(&format!("{plan}/report?period=2026-Q1&agency=women")).await.body;
    let reached = own.split("id=\"report-reached\">").nth(1).and_then(|s| s.split('<').next()).expect("reached");
    assert_eq!(reached.parse::<u64>().expect("number"), theirs);
    // A month in which the court recorded nothing: the report is made, and says it holds no data.
    let empty = head.get(&format!("{plan}/report?period=2026-M01&agency=court")).await;
    assert_eq!(empty.status, 200);
    assert!(empty.body.contains("id=\"report-empty\"") && empty.body.contains("Không có hồ sơ nào trong kỳ này"));
    // A period not begun, or of another year, is refused with a clear message.
    let r = head.get(&format!("{plan}/report?period=2026-Q4")).await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("Chọn một kỳ của năm kế hoạch đã bắt đầu"));
    // The workbook: one sheet per section, the same figure, formulas neutralised, the download audited.
    let (status, bytes) = head
        .post_for_bytes(
            &format!("{plan}/report?period=2026-Q1"),
            &format!("{plan}/report.xlsx"),
            &[("period", "2026-Q1")],
        )
        .await;
    assert_eq!(status, 200);
    let text = workbook_text(&bytes);
    for sheet in ["Chỉ tiêu", "Nạn nhân", "Phòng ngừa", "Tập huấn", "Hoạt động"] {
        assert!(text.contains(&format!("name=\"{sheet}\"")), "sheet {sheet}");
    }
    // A cell that would start with = + - @ starts with an apostrophe; the plan's name sits inside the title.
    assert!(text.contains("'@SUM(A1)") || text.contains("&apos;@SUM(A1)"), "text never runs as a formula");
    assert!(!text.contains(">@SUM") && !text.contains(">=1+2"), "no cell starts with a formula");
    assert!(!text.contains("<f>"), "no formula cells");
    assert!(text.contains(&format!("{on_dashboard} người")) || text.contains(&format!(">{on_dashboard}<")));
    // Targets and values are numbers in the workbook, not text: a spreadsheet sums and compares them.
    {
        use calamine::{Data, Reader, Xlsx};
        let mut book = Xlsx::new(std::io::Cursor::new(bytes.clone())).expect("open");
        let sheet = book.worksheet_range("Chỉ tiêu").expect("indicators");
        let row = (7..sheet.height() as u32)
            .find(|r| matches!(sheet.get_value((*r, 0)), Some(Data::String(n)) if n.contains("tuyên truyền")))
            .expect("the reach indicator");
        assert_eq!(sheet.get_value((row, 1)), Some(&Data::Float(700.0)), "the target, as a number");
        assert_eq!(sheet.get_value((row, 2)), Some(&Data::Float(on_dashboard as f64)), "the value, as a number");
    }
    let exports = app.audit_actions().await.iter().filter(|a| *a == "plan.report_export").count();
    assert!(exports > 0);

    // The API gives the same report: the same figure, the same empty month, the same refusal.
    let token = token_for(&app, "province.head").await;
    let c = app.client();
    let plan_id = plan.trim_start_matches("/plans/");
    let (s, r) = c.api_get(&token, &format!("/api/v1/plans/{plan_id}/report?period=2026-Q1&number=12/BC-BCĐ")).await;
    assert_eq!(s, 200, "{r}");
    assert_eq!((r["reached"].as_u64(), r["number"].as_str()), (Some(on_dashboard), Some("12/BC-BCĐ")), "{r}");
    assert_eq!(r["indicators"][0]["target"], "700");
    let (_, r) = c.api_get(&token, &format!("/api/v1/plans/{plan_id}/report?period=2026-M01&agency=court")).await;
    assert_eq!(r["empty"], true);
    let (s, r) = c.api_get(&token, &format!("/api/v1/plans/{plan_id}/report?period=2026-Q4")).await;
    assert_eq!((s, r["fields"][0]["field"].as_str()), (422, Some("period")), "{r}");
    // An agency code with a NUL in it (found by the fuzzer on PostgreSQL): refused before it reaches a query.
    let (s, r) = c.api_get(&token, &format!("/api/v1/plans/{plan_id}/report?period=2026-Q1&agency=f%00")).await;
    assert_eq!((s, r["error"].as_str()), (400, Some("bad_request")), "{r}");
    let r = reqwest::Client::new()
        .get(format!("{}/api/v1/plans/{plan_id}/report/workbook?period=2026-Q1", app.base))
        .bearer_auth(&token)
        .send()
        .await
        .expect("workbook");
    assert_eq!(r.status(), 200);
    let text = workbook_text(&r.bytes().await.expect("bytes"));
    assert!(text.contains("name=\"Chỉ tiêu\"") && !text.contains("<f>"));
    let after = app.audit_actions().await.iter().filter(|a| *a == "plan.report_export").count();
    assert_eq!(after, exports + 1, "the API's download is audited too");
});

story!(the_htcds_export_holds_consenting_cases_in_the_standards_codes, |app| {
    let officer = app.login("border.officer").await;
    // Two women received at the border; only one consents to statistics.
    let mut cases = Vec::new();
    for (name, birth) in [("Lò Thị Dung", "05/06/2007"), ("Vi Thị Hằng", "1999")] {
        let r = officer
            .post(
                "/persons/new",
                "/persons",
                &[("full_name", name), ("birth_date", birth), ("sex", "f"), ("nationality", "VN"), ("id_number", "")],
            )
            .await;
        assert_eq!(r.status, 303, "{}", r.body);
        let person = path_of(&r).trim_start_matches("/persons/").to_owned();
        let code = app.store.person(&person).await.expect("read").expect("person").case_code;
        let r = officer
            .post(
                "/victims/new",
                "/victims",
                &[
                    ("person_code", code.as_str()),
                    ("reception_kind", "border"),
                    ("received_on", "10/02/2026"),
                    ("vietnamese", "1"),
                    ("in_vietnam", "1"),
                ],
            )
            .await;
        assert_eq!(r.status, 303, "{}", r.body);
        let case = path_of(&r);
        let context = [
            ("exploitation", "ForcedLabour"),
            ("exploitation", "SexualExploitation"),
            ("control", "DebtBondage"),
            ("destination_country", "KH"),
        ];
        assert_eq!(officer.post(&case, &format!("{case}/context"), &context).await.status, 303);
        cases.push(case);
    }
    let r = officer
        .post(
            &cases[0],
            &format!("{}/consents", cases[0]),
            &[("purpose", "statistics"), ("given_by", "person"), ("given_on", "20/02/2026")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);

    let analyst = app.login("province.analyst").await;
    assert_eq!(officer.get("/exports").await.status, 403, "for analysts");
    let (status, bytes) = analyst.post_for_bytes("/exports", "/exports/htcds.json", &[]).await;
    assert_eq!(status, 200);
    let doc: serde_json::Value = serde_json::from_slice(&bytes).expect("json");
    let exported = doc["cases"].as_array().expect("cases");
    let text = String::from_utf8_lossy(&bytes);
    for secret in ["Lò Thị Dung", "Vi Thị Hằng", "2007", "HS-", "NN-"] {
        assert!(!text.contains(secret), "{secret} must not leave");
    }
    let ours: Vec<&serde_json::Value> =
        exported.iter().filter(|c| c["vic_MethodsOfControl"][0] == "DebtBondage").collect();
    assert_eq!(ours.len(), 1, "only the case with consent: {doc}");
    assert_eq!(ours[0]["vic_AgeWhenTrafficked"], 18);
    assert_eq!(ours[0]["prs_Citizenship"][0], "VN");
    assert_eq!(ours[0]["hte"][0]["hte_Country"], "KH");

    // Every value of a picklist field is in the standard's own code list.
    let standard = haven_domain::victims::htcds::Picklists::parse(include_str!(
        "../../../../profiles/standards/htcds-2.0-fields.csv"
    ))
    .expect("standard");
    use haven_domain::victims::htcds::*;
    for case in exported {
        for field in [GENDER, TRAFFICKING_STATUS, CASE_STATUS] {
            let v = case[field].as_str().expect("a code");
            assert!(standard.contains(field, v), "{field} = {v}");
        }
        if let Some(v) = case[DECISION_ORG].as_str() {
            assert!(standard.contains(DECISION_ORG, v), "{v}");
        }
        if let Some(v) = case[RELATIONSHIP].as_str() {
            assert!(standard.contains(RELATIONSHIP, v), "{v}");
        }
        for field in [EXPLOITATION, CONTROL, RECRUITMENT] {
            for v in case[field].as_array().expect("a list") {
                assert!(standard.contains(field, v.as_str().expect("code")), "{field} = {v}");
            }
        }
        for e in case["hte"].as_array().expect("events") {
            assert!(standard.contains(EVENT_TYPE, e["hte_Type"].as_str().expect("type")));
            assert!(is_country(e["hte_Country"].as_str().expect("country")));
        }
        for c in case["prs_Citizenship"].as_array().expect("citizenship") {
            assert!(is_country(c.as_str().expect("country")));
        }
    }
    // The same cases as CSV, and both downloads audited.
    let (status, csv) = analyst.post_for_bytes("/exports", "/exports/htcds.csv", &[]).await;
    assert_eq!(status, 200);
    let csv = String::from_utf8(csv).expect("utf-8");
    assert!(csv.contains("prs_Gender") && csv.contains("ForcedLabour;SexualExploitation"), "{csv}");
    assert_eq!(csv.lines().count(), exported.len() + 1);
    assert_eq!(app.audit_actions().await.iter().filter(|a| *a == "export.htcds").count(), 2);
});

/// The public CSV read back as releases, by table: what anyone outside can work with.
fn releases_in(csv: &[u8]) -> std::collections::BTreeMap<String, haven_domain::stats::Release> {
    use haven_domain::stats::{Cell, Release};
    let mut reader = csv::Reader::from_reader(csv.strip_prefix(b"\xef\xbb\xbf".as_slice()).expect("a BOM"));
    type Lines = Vec<(String, String, Cell)>;
    let mut by_table: std::collections::BTreeMap<String, Lines> = Default::default();
    for record in reader.records() {
        let r = record.expect("a CSV line");
        let cell = if r[5].is_empty() { Cell::Suppressed } else { Cell::Shown(r[5].parse().expect("a count")) };
        by_table.entry(r[0].to_owned()).or_default().push((r[1].to_owned(), r[3].to_owned(), cell));
    }
    let mut out = std::collections::BTreeMap::new();
    for (table, lines) in by_table {
        let mut rows: Vec<String> = Vec::new();
        let mut cols: Vec<String> = Vec::new();
        for (r, c, _) in &lines {
            if r != "total" && !rows.contains(r) {
                rows.push(r.clone());
            }
            if c != "total" && !cols.contains(c) {
                cols.push(c.clone());
            }
        }
        let at = |r: &str, c: &str| {
            lines.iter().find(|(lr, lc, _)| lr == r && lc == c).map(|l| l.2).expect("every value is published")
        };
        let release = Release {
            cells: rows.iter().map(|r| cols.iter().map(|c| at(r, c)).collect()).collect(),
            row_totals: rows.iter().map(|r| at(r, "total")).collect(),
            col_totals: cols.iter().map(|c| at("total", c)).collect(),
            total: at("total", "total"),
            rows,
            cols,
        };
        out.insert(table, release);
    }
    out
}

/// Every count in the public page's tables.
fn public_counts(page: &str) -> Vec<u64> {
    page.split("<td class=\"num")
        .skip(1)
        .filter_map(|c| c.split_once('>').and_then(|(_, rest)| rest.split('<').next()))
        .filter_map(|n| n.trim().replace(['.', ','], "").parse().ok())
        .collect()
}

/// The people the public tables may count for a year: identified as victims in it, with consent for
/// statistics today (each once); and the adults' cases without that consent.
async fn consenting_identified(app: &TestApp, year: &str) -> (u64, Vec<haven_store::victims::VictimCase>) {
    let today = time::macros::date!(2026 - 03 - 01);
    let (mut counted, mut without) = (std::collections::HashSet::new(), Vec::new());
    for agency in ["border", "health"] {
        for line in app.store.victim_cases_of_agency(&app.agency_id(agency).await, 10_000).await.expect("cases") {
            let case = app.store.victim_case(&line.id).await.expect("read").expect("case");
            if case.status != "identified" || !case.identified_on.as_deref().is_some_and(|d| d.starts_with(year)) {
                continue;
            }
            let consents: Vec<_> = app
                .store
                .consents(&case.person_id)
                .await
                .expect("consents")
                .iter()
                .filter_map(|c| c.consent())
                .collect();
            if haven_domain::victims::consent::allows(&consents, "statistics", today) {
                counted.insert(case.person_id.clone());
            } else if !case.child {
                without.push(case);
            }
        }
    }
    (counted.len() as u64, without)
}

async fn public_statistics(backend: Backend) {
    use haven_domain::stats::{disclosed, Cell, MIN_PUBLIC_COUNT};
    let Some(app) = TestApp::start_with(backend, 400).await else { return };
    let today = time::macros::date!(2026 - 03 - 01);
    let anyone = app.client();
    let page = anyone.get("/statistics").await;
    assert_eq!(page.status, 200, "public");
    assert!(page.body.contains("id=\"stats-none\"") && !page.body.contains("id=\"stats-publish\""));

    // Only analysts publish, and only a year that can be published.
    let analyst = app.login("province.analyst").await;
    assert!(analyst.get("/statistics").await.body.contains("id=\"stats-publish\""));
    let police = app.login("police.officer").await;
    let refused = police.post("/statistics", "/statistics/publish", &[("year", "2025")]).await;
    assert_eq!(refused.status, 403);
    let head = app.login("province.head").await;
    assert!(!head.get("/statistics").await.body.contains("id=\"stats-publish\""), "heads read aggregates only");
    assert_eq!(head.post("/statistics", "/statistics/publish", &[("year", "2025")]).await.status, 403);
    let old = analyst.post("/statistics", "/statistics/publish", &[("year", "2024")]).await;
    assert_eq!(old.status, 422, "an earlier year is settled");
    let bad = analyst.post("/statistics", "/statistics/publish", &[("year", "1999")]).await;
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains("id=\"stats-error\"") && bad.body.contains("năm nay hoặc năm trước"), "{}", bad.body);
    assert!(app.store.published_periods().await.expect("periods").is_empty(), "nothing stored");

    let (consenting, without) = consenting_identified(&app, "2025").await;
    assert!(consenting > 0 && !without.is_empty(), "the demo has both: {consenting}, {}", without.len());
    let r = analyst.post("/statistics", "/statistics/publish", &[("year", "2025")]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location.as_deref(), Some("/statistics?year=2025&done=stats_published"));

    // The page anyone sees: no count from 1 to 10, suppressed cells marked.
    let page = anyone.get("/statistics?year=2025").await.body;
    assert!(page.contains("id=\"stats-victims_age_sex\"") && page.contains("class=\"num suppressed\""), "{page}");
    let counts = public_counts(&page);
    assert!(!counts.is_empty());
    assert!(counts.iter().all(|n| !(1..MIN_PUBLIC_COUNT).contains(n)), "{counts:?}");
    for secret in ["HS-", "NN-", "TG-"] {
        assert!(!page.contains(secret), "no case code on the public page");
    }

    // The CSV anyone downloads: what is shown is true, only consenting victims are counted, and nobody can
    // work out a suppressed value from the rest (exactly, over any combination of rows, columns and totals).
    let csv = anyone.get_bytes("/statistics/2025.csv").await;
    let first = releases_in(&csv);
    assert_eq!(first.len(), haven_store::exports::PUBLIC_TABLES.len());
    let mut suppressed = 0;
    for (code, release) in &first {
        let truth = app.store.public_table(code, 2025, today).await.expect("table");
        if code.starts_with("victims_age") {
            assert_eq!(truth.counts.iter().flatten().sum::<u64>(), consenting, "victims with consent only");
        }
        for (r, row) in release.cells.iter().enumerate() {
            for (c, cell) in row.iter().enumerate() {
                match cell {
                    Cell::Shown(n) => assert_eq!(*n, truth.counts[r][c], "{code} {r} {c}"),
                    Cell::Suppressed => suppressed += 1,
                }
            }
        }
        assert_eq!(disclosed(&truth, release, None), Vec::<usize>::new(), "{code}: {release:?}");
    }
    assert!(suppressed > 0, "a province's year has small groups");
    // The two tables of victims count the same people: one grand total, shown in both or in neither.
    let (a, b) = (&first["victims_age_sex"], &first["victims_country_exploitation"]);
    assert_eq!(a.total, b.total, "{a:?} {b:?}");
    // The same tables as JSON: a withheld value is null, every other one as in the CSV.
    let json: serde_json::Value =
        serde_json::from_slice(&anyone.get_bytes("/statistics/2025.json").await).expect("json");
    for t in json["tables"].as_array().expect("tables") {
        let r = &first[t["table"].as_str().expect("code")];
        let cells: Vec<Vec<Option<u64>>> = serde_json::from_value(t["cells"].clone()).expect("cells");
        assert_eq!(
            cells,
            r.cells.iter().map(|row| row.iter().map(|c| c.shown()).collect::<Vec<_>>()).collect::<Vec<_>>()
        );
    }
    assert!(anyone.get("/statistics/2024.csv").await.status == 404);

    // A late record: a victim of 2025 consents to statistics. Published again, what was hidden stays
    // hidden, and holding both releases recovers nothing either.
    let late = &without[0];
    let owner = if late.owner_agency_id == app.agency_id("border").await { "border.officer" } else { "health.officer" };
    let officer = app.login(owner).await;
    let case = format!("/victims/{}", late.id);
    let consent = [("purpose", "statistics"), ("given_by", "person"), ("given_on", "20/02/2026")];
    assert_eq!(officer.post(&case, &format!("{case}/consents"), &consent).await.status, 303);
    assert_eq!(consenting_identified(&app, "2025").await.0, consenting + 1);
    let again = analyst.post("/statistics", "/statistics/publish", &[("year", "2025")]).await;
    assert_eq!(again.status, 303);
    let second = releases_in(&anyone.get_bytes("/statistics/2025.csv").await);
    for (code, r2) in &second {
        let r1 = &first[code];
        let truth = app.store.public_table(code, 2025, today).await.expect("table");
        for (row, cells) in r1.rows.iter().zip(&r1.cells) {
            for (col, cell) in r1.cols.iter().zip(cells) {
                let (i, j) = (r2.rows.iter().position(|r| r == row), r2.cols.iter().position(|c| c == col));
                let now = i.zip(j).map(|(i, j)| r2.cells[i][j]).expect("no row or column vanishes");
                if *cell == Cell::Suppressed {
                    assert_eq!(now, Cell::Suppressed, "{code} ({row}, {col}) stays hidden");
                }
            }
        }
        assert_eq!(disclosed(&truth, r2, Some(r1)), Vec::<usize>::new(), "{code}: {r1:?} then {r2:?}");
    }
    let page = anyone.get("/statistics?year=2025").await.body;
    assert!(public_counts(&page).iter().all(|n| !(1..MIN_PUBLIC_COUNT).contains(n)));
    assert_eq!(app.audit_actions().await.iter().filter(|a| *a == "stats.publish").count(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_statistics_hide_small_counts_sqlite() {
    public_statistics(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_statistics_hide_small_counts_postgres() {
    public_statistics(Backend::Postgres).await;
}
