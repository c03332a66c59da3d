//! Work lists a user can take away: each list page's rows as CSV or XLSX, with the page's columns in the
//! user's language, only what the page shows, and each download audited.

use crate::story;

story!(a_work_list_downloads_as_the_page_shows_it, |app| {
    let token = crate::harness::token_for(&app, "police.officer").await;
    for day in ["27/02/2026", "28/02/2026"] {
        let report = serde_json::json!({"kind": "denunciation", "channel": "hotline", "received_date": day, "anonymous": true, "summary": "Tin báo về một người bị đưa sang biên giới"});
        assert_eq!(app.client().api_post(&token, "/api/v1/reports", &report).await.0, 201);
    }
    let officer = app.login("police.officer").await;
    let page = officer.get("/reports?list=all").await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("id=\"download-all-csv\"") && page.body.contains("id=\"download-all-xlsx\""),
        "{}",
        page.body
    );
    let shown = page.body.matches("<td class=\"code\"><a href=\"/reports/").count();
    assert_eq!(shown, 2);
    let (status, csv) =
        officer.post_for_bytes("/reports?list=all", "/reports/download", &[("list", "all"), ("format", "csv")]).await;
    assert_eq!(status, 200);
    let text = String::from_utf8(csv).expect("utf-8");
    let text = text.strip_prefix('\u{feff}').expect("a byte-order mark for spreadsheets");
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("Mã,Loại,Tiếp nhận lúc,Hạn giải quyết,Tình trạng"),
        "the page's heads, in Vietnamese"
    );
    assert_eq!(lines.count(), shown, "the rows the page shows, no more");
    assert!(!text.contains("NN-") && !text.contains("Nguyễn"), "codes only: no identity leaves in a list");

    let (status, xlsx) =
        officer.post_for_bytes("/reports?list=all", "/reports/download", &[("list", "all"), ("format", "xlsx")]).await;
    assert_eq!(status, 200);
    assert!(xlsx.starts_with(b"PK"), "an XLSX workbook");
    let (status, _) =
        officer.post_for_bytes("/reports?list=all", "/reports/download", &[("list", "all"), ("format", "pdf")]).await;
    assert_eq!(status, 400);
    let downloads = app.audit_actions().await.iter().filter(|a| *a == "list.download").count();
    assert_eq!(downloads, 2, "each download is audited, the refused one is not");

    // The other lists offer it too, for the agency that sees them.
    let health = app.login("health.head").await;
    for (page, action, list) in [
        ("/victims", "/victims/download", "all"),
        ("/victims", "/victims/download", "awaiting"),
        ("/referrals", "/referrals/download", "incoming"),
        ("/cooperation", "/cooperation/download", "all"),
    ] {
        let (status, csv) = health.post_for_bytes(page, action, &[("list", list), ("format", "csv")]).await;
        assert_eq!(status, 200, "{action} {list}");
        assert!(csv.starts_with(b"\xef\xbb\xbf"), "{action} {list}");
    }
    let commune = app.login("pc-tramy.officer").await;
    let (status, _) = commune.post_for_bytes("/absentees", "/absentees/download", &[("format", "xlsx")]).await;
    assert_eq!(status, 200);
    let (status, _) = officer.post_for_bytes("/cases", "/cases/download", &[("list", "own"), ("format", "csv")]).await;
    assert_eq!(status, 200);
    // Without the page's token, nothing leaves.
    let r = officer.post_raw("/reports/download", &[("list", "all"), ("format", "csv")]).await;
    assert_eq!(r.status, 403);
});
