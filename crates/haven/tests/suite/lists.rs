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

/// Every line a list shows in its table `table_id`, page after page from `start`, following its "next page"
/// links: the ids of the records linked under `prefix` (`/victims/`). Checks that each later page leads back
/// to the first.
pub async fn every_page(
    c: &crate::harness::Client,
    start: &str,
    table_id: &str,
    prefix: &str,
    page_size: usize,
) -> Vec<String> {
    let mut seen = Vec::new();
    let mut page = c.get(start).await.body;
    loop {
        let table = page.split(&format!("id=\"{table_id}\"")).nth(1).expect("the list's table");
        let table = table.split("</table>").next().unwrap_or_default();
        let ids: Vec<String> = table
            .split(&format!("<a href=\"{prefix}"))
            .skip(1)
            .map(|s| s.split('"').next().expect("id").to_owned())
            .collect();
        assert!(ids.len() <= page_size && !ids.is_empty(), "a page of at most {page_size}: {}", ids.len());
        seen.extend(ids);
        let Some(link) = page.split(" id=\"next-page\"").next().filter(|_| page.contains("id=\"next-page\"")) else {
            break;
        };
        let href = link.rsplit("href=\"").next().expect("href").trim_end_matches('"').replace("&#38;", "&");
        page = c.get(&href).await.body;
        assert!(page.contains("id=\"first-page\""), "a later page leads back to the first: {href}");
    }
    seen
}

story!(the_victim_list_finds_and_pages_every_case, |app| {
    let token = crate::harness::token_for(&app, "border.officer").await;
    let c = app.client();
    let mut made = Vec::new();
    // Two cases a day, so that a page can end between two cases received the same day.
    for i in 0..53 {
        let day = format!("2026-01-{:02}", 1 + i / 2);
        let body = serde_json::json!({"full_name": format!("Người thứ {i}"), "sex": "f", "reception_kind": "border", "received_on": day});
        let (s, json) = c.api_post(&token, "/api/v1/victims", &body).await;
        assert_eq!(s, 201, "{json}");
        made.push((json["id"].as_str().expect("id").to_owned(), json["case_code"].as_str().expect("code").to_owned()));
    }
    let guard = app.login("border.officer").await;
    let first = guard.get("/victims").await.body;
    assert!(first.contains("Đang hiển thị 1–50 trong tổng số 53"), "where the page sits: {first}");
    assert!(first.contains("id=\"awaiting-verification\""), "the work lists head the first page");
    let seen = every_page(&guard, "/victims", "victim-list", "/victims/", 50).await;
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!((seen.len(), unique.len()), (53, 53), "every case once");
    assert_eq!(seen.first(), Some(&made[52].0), "the newest reception first");
    assert_eq!(seen.last(), Some(&made[0].0), "the oldest last");
    let later = guard.get(&format!("/victims?after=2026-01-02.{}&from=50", made[2].0)).await.body;
    assert!(!later.contains("id=\"awaiting-verification\""), "a later page is the list alone");

    // Filters say how many each holds; an unknown one is refused, not quietly widened.
    let signs = guard.get("/victims?show=signs").await.body;
    assert!(signs.contains("value=\"signs\" selected") && signs.contains("(53)"), "{signs}");
    let closed = guard.get("/victims?show=closed").await.body;
    assert!(closed.contains("Không có hồ sơ nào thuộc loại này") && !closed.contains("id=\"victim-list\""), "{closed}");
    assert_eq!(guard.get("/victims?show=everything").await.status, 400);

    // A code, typed in any case, opens the case; another agency's case is not found, as if it did not exist.
    let r = guard.get(&format!("/victims?code={}", made[7].1.to_lowercase())).await;
    assert_eq!(r.location.as_deref(), Some(format!("/victims/{}", made[7].0).as_str()));
    let health = app.login("health.officer").await;
    let r = health.get(&format!("/victims?code={}", made[7].1)).await;
    assert!(r.location.is_none() && r.body.contains("Không có hồ sơ nào mang mã này"), "{}", r.body);

    // The download takes the whole list away, days as days.
    let (status, csv) =
        guard.post_for_bytes("/victims", "/victims/download", &[("list", "all"), ("format", "csv")]).await;
    assert_eq!(status, 200);
    let text = String::from_utf8(csv).expect("utf-8");
    assert_eq!(text.lines().count(), 54, "the heads and every case");
    assert!(text.contains(&format!("{},27/01/2026,", made[52].1)), "{text}");
});

story!(the_criminal_case_list_pages_and_finds_a_case_by_number, |app| {
    let token = crate::harness::token_for(&app, "police.officer").await;
    let c = app.client();
    let report = serde_json::json!({"kind": "denunciation", "channel": "hotline", "received_date": "01/03/2026", "anonymous": true, "summary": "Người dân báo tin về một đường dây môi giới"});
    let (s, r) = c.api_post(&token, "/api/v1/reports", &report).await;
    assert_eq!(s, 201, "{r}");
    let id = r["id"].as_str().expect("id");
    let steps = [
        (
            "classification",
            serde_json::json!({"outcome": "offence", "offence_code": "150", "reason": "Dấu hiệu mua bán người"}),
        ),
        ("decision", serde_json::json!({"decision": "initiate", "number": "5/QĐ", "decided_on": "01/03/2026"})),
    ];
    for (step, body) in steps {
        let (s, r) = c.api_post(&token, &format!("/api/v1/reports/{id}/{step}"), &body).await;
        assert_eq!(s, 200, "{step}: {r}");
    }
    let number = "3/2026/HS";
    let (s, case) =
        c.api_post(&token, &format!("/api/v1/reports/{id}/case"), &serde_json::json!({"case_number": number})).await;
    assert_eq!(s, 201, "{case}");
    let case_path = format!("/cases/{}", case["id"].as_str().expect("case id"));
    let police = app.login("police.officer").await;
    let page = police.get("/cases").await.body;
    assert!(page.contains("Đang hiển thị 1–1 trong tổng số 1"), "{page}");
    let r = police.get(&format!("/cases?number={}", urlencode(&format!(" {number} ")))).await;
    assert_eq!(r.location.as_deref(), Some(case_path.as_str()), "{}", r.body);
    let r = app.login("border.officer").await.get(&format!("/cases?number={}", urlencode(number))).await;
    assert!(r.location.is_none() && r.body.contains("Không có vụ án nào mang số này"), "{}", r.body);
    assert_eq!(police.get("/cases?list=theirs").await.status, 400);
});

fn urlencode(s: &str) -> String {
    s.replace(' ', "+").replace('/', "%2F")
}
