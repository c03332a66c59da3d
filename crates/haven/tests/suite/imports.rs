//! Spreadsheet import: a commune's absentee list typed in the old VNI encoding, read and previewed, every bad
//! row reported (and downloadable) with nothing saved, then all rows committed together with a progress page;
//! the same file again creates nothing; bad files are refused with a reason; a returnee list imported into a
//! handover batch is matched at once.

use crate::harness::*;
use crate::story;
use serde_json::json;

/// A CSV typed in VNI, as Windows-1252 bytes.
fn vni_csv(text: &str) -> Vec<u8> {
    let vni = haven_domain::registers::sheet::unicode_to_vni(text);
    let (bytes, _, bad) = encoding_rs::WINDOWS_1252.encode(&vni);
    assert!(!bad);
    bytes.into_owned()
}

fn upload_id(r: &Resp) -> String {
    let loc = r.location.as_deref().unwrap_or_else(|| panic!("redirect expected: {} {}", r.status, r.body));
    loc.trim_start_matches("/imports/").to_owned()
}

/// The hidden mapping fields of a preview page's commit or report form.
fn hidden_fields(body: &str, form_action: &str) -> Vec<(String, String)> {
    let form =
        body.split(&format!("action=\"{form_action}\"")).nth(1).expect("form").split("</form>").next().expect("end");
    form.split("<input type=\"hidden\" name=\"")
        .skip(1)
        .filter_map(|p| {
            let (name, rest) = p.split_once('"')?;
            let value = rest.split("value=\"").nth(1)?.split('"').next()?;
            (name != "csrf").then(|| (name.to_owned(), value.to_owned()))
        })
        .collect()
}

async fn wait_done(c: &Client, id: &str) -> String {
    for _ in 0..200 {
        let s = c.get(&format!("/imports/{id}/status")).await;
        let v: serde_json::Value = serde_json::from_str(&s.body).expect("json");
        if v["state"] != "running" && v["state"] != "waiting" {
            return c.get(&format!("/imports/{id}/progress")).await.body;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the import did not end");
}

/// Commit an upload through the API (202) and follow its status until it is done or failed.
async fn commit_and_follow(c: &Client, token: &str, id: &str, body: &serde_json::Value) -> serde_json::Value {
    let (s, started) = c.api_post(token, &format!("/api/v1/imports/{id}/commit"), body).await;
    assert_eq!(s, 202, "{started}");
    let mut status = started;
    for _ in 0..200 {
        if status["state"] == "done" || status["state"] == "failed" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        status = c.api_get(token, &format!("/api/v1/imports/{id}/status")).await.1;
    }
    status
}

story!(a_commune_imports_its_absentee_list, |app| {
    let clerk = app.login("pc-tramy.clerk").await;
    let form = "/imports?kind=absentees";
    // Bad files: a PDF, a formula, an empty sheet.
    let r = clerk.upload(form, "/imports", &[("kind", "absentees")], ("ds.csv", b"%PDF-1.7 trailer".to_vec())).await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("Đây không phải tệp Excel (.xlsx) hoặc CSV"), "{}", r.body);
    let r =
        clerk.upload(form, "/imports", &[("kind", "absentees")], ("ds.csv", b"Ho ten,Tuoi\nA,=1+2\n".to_vec())).await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("Có ô chứa công thức") && r.body.contains("(B2)"), "{}", r.body);

    let before = app.count_persons("pc-tramy").await;
    let text = "STT,Họ và tên,Ngày sinh,Giới tính,Số CCCD,Xã,Vắng từ,Nơi đến\n\
                1,Hồ Văn Đức,12/04/1995,Nam,,Trà My,2022,Sang Campuchia\n\
                2,Nguyễn Thị Hường,31/02/1999,Nữ,,Trà My,2023,Trung Quốc\n\
                3,Lê Thị Thu,1990,Nữ,12345,Xã Đâu Đó,2030,\n";
    let r = clerk.upload(form, "/imports", &[("kind", "absentees")], ("danh-sach.csv", vni_csv(text))).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let id = upload_id(&r);
    let preview = clerk.get(&format!("/imports/{id}")).await.body;
    assert!(preview.contains("VNI (phông VNI cũ)") && preview.contains("Hồ Văn Đức"), "read from VNI: {preview}");
    // Columns guessed from the Vietnamese headers.
    assert!(preview.contains("<option value=\"1\" selected>Họ và tên</option>"), "{preview}");
    let check = |pairs: Vec<(String, String)>| {
        let clerk = &clerk;
        let id = id.clone();
        async move {
            let refs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            clerk.post(&format!("/imports/{id}"), &format!("/imports/{id}/check"), &refs).await
        }
    };
    let mapping: Vec<(String, String)> = [
        ("map.full_name", "1"),
        ("map.birth_date", "2"),
        ("map.sex", "3"),
        ("map.id_number", "4"),
        ("map.commune_code", "5"),
        ("map.absent_since", "6"),
        ("map.destination", "7"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    let r = check(mapping.clone()).await;
    assert_eq!(r.status, 422);
    for expected in ["Ngày sinh không hợp lệ", "12 chữ số", "Không có xã, phường nào của tỉnh", "Ngày này chưa đến"]
    {
        assert!(r.body.contains(expected), "{expected}: {}", r.body);
    }
    assert_eq!(app.count_persons("pc-tramy").await, before, "nothing saved while rows are wrong");
    // The report lists every error by row and column, in Vietnamese, without the values.
    let report_fields = hidden_fields(&r.body, &format!("/imports/{id}/report"));
    let refs: Vec<(&str, &str)> = report_fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let (status, csv) = clerk.post_for_bytes(&format!("/imports/{id}"), &format!("/imports/{id}/report"), &refs).await;
    assert_eq!(status, 200);
    let csv = String::from_utf8(csv).expect("utf-8");
    assert!(csv.contains("Dòng,Cột,Lỗi") && csv.contains("3,Ngày sinh,") && csv.contains("4,Số CCCD,"), "{csv}");
    assert!(!csv.contains("Hường") && !csv.contains("Lê Thị Thu"), "no names in the report");

    // The corrected file: all rows committed together, with a progress page.
    let fixed = "STT,Họ và tên,Ngày sinh,Giới tính,Số CCCD,Xã,Vắng từ,Nơi đến\n\
                 1,Hồ Văn Đức,12/04/1995,Nam,,Trà My,2022,Sang Campuchia\n\
                 2,Nguyễn Thị Hường,28/02/1999,Nữ,,Trà My,2023,Trung Quốc\n\
                 3,Lê Thị Thu,1990,Nữ,,\"Xã Trà Sơn, huyện Bắc Trà My\",2024,\n";
    let r = clerk.upload(form, "/imports", &[("kind", "absentees")], ("danh-sach.csv", vni_csv(fixed))).await;
    let id2 = upload_id(&r);
    // The mapping chosen for the first file is remembered for files with the same columns.
    let preview = clerk.get(&format!("/imports/{id2}")).await.body;
    assert!(preview.contains("<option value=\"6\" selected>Vắng từ</option>"), "{preview}");
    let refs: Vec<(&str, &str)> = mapping.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let r = clerk.post(&format!("/imports/{id2}"), &format!("/imports/{id2}/check"), &refs).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("id=\"import-ready\""));
    let commit_fields = hidden_fields(&r.body, &format!("/imports/{id2}/commit"));
    let refs: Vec<(&str, &str)> = commit_fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let r = clerk.post(&format!("/imports/{id2}"), &format!("/imports/{id2}/commit"), &refs).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let done = wait_done(&clerk, &id2).await;
    assert!(done.contains("id=\"import-done\"") && done.contains("3 dòng"), "{done}");
    assert_eq!(app.count_persons("pc-tramy").await, before + 3);
    // The old commune name (before the 2025 merger) was read as the unit that carries it now.
    let counts = app.store.absentee_counts(&app.agency_id("pc-tramy").await).await.expect("counts");
    assert_eq!(counts, vec![("20900".to_owned(), 3)], "all three in Trà My");
    let list = app.login("pc-tramy.officer").await.get("/absentees").await.body;
    assert!(list.matches("/absentees/").count() >= 3);
    assert!(app.audit_actions().await.contains(&"import.commit".to_owned()));

    // The same file again: recognised, nothing new.
    let r = clerk.upload(form, "/imports", &[("kind", "absentees")], ("ban-sao.csv", vni_csv(fixed))).await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("id=\"imported-before\""), "{}", r.body);
    assert_eq!(app.count_persons("pc-tramy").await, before + 3);
    // Another agency cannot open the upload or follow the import.
    let other = app.login("pc-haichau.clerk").await;
    assert_eq!(other.get(&format!("/imports/{id}")).await.status, 403);
    assert_eq!(other.get(&format!("/imports/{id2}/progress")).await.status, 403);

    // The first file was left at its preview: a week later, the next upload drops it and its sealed content.
    assert_eq!(clerk.get(&format!("/imports/{id}")).await.status, 200);
    app.advance(8 * 24 * 3600 * 1000);
    let clerk = app.login("pc-tramy.clerk").await;
    let r = clerk.upload(form, "/imports", &[("kind", "absentees")], ("moi.csv", vni_csv(text))).await;
    assert_eq!(r.status, 303);
    assert_eq!(clerk.get(&format!("/imports/{id}")).await.status, 404);
    assert!(app.audit_actions().await.contains(&"import.purge".to_owned()));
});

story!(a_returnee_list_imported_into_a_batch_is_matched_at_once, |app| {
    let commune = app.login("pc-namgiang.officer").await;
    let r = commune
        .post(
            "/absentees/new",
            "/absentees",
            &[("full_name", "Bríu Thị Lan"), ("birth_date", "07/11/2000"), ("sex", "f"), ("commune_code", "20707")],
        )
        .await;
    assert_eq!(r.status, 303);
    let border = app.login("border.officer").await;
    let r = border
        .post(
            "/handovers",
            "/handovers",
            &[
                ("handed_on", "10/02/2026"),
                ("gate", "nam_giang"),
                ("country", "LA"),
                ("authority", "Công an tỉnh Sê Kông"),
            ],
        )
        .await;
    let batch = r.location.expect("batch").split('?').next().expect("path").to_owned();
    let batch_id = batch.trim_start_matches("/handovers/").to_owned();
    // A list from abroad, in UTF-16 with given names first.
    let text = "Name,Date of birth,Sex,Passport\nLAN BRIU THI,11/07/2000,F,C1234567\nSOMPHONE VONG,1992,M,\n";
    let mut bytes = vec![0xff, 0xfe];
    bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    let form = format!("/imports?kind=returnees&batch={batch_id}");
    let r = border.upload(&form, "/imports", &[("kind", "returnees"), ("batch", &batch_id)], ("list.csv", bytes)).await;
    let id = upload_id(&r);
    let preview = border.get(&format!("/imports/{id}")).await.body;
    assert!(preview.contains("UTF-16") && preview.contains("LAN BRIU THI"));
    let r = border
        .post(
            &format!("/imports/{id}"),
            &format!("/imports/{id}/check"),
            &[("map.full_name", "0"), ("map.birth_date", "1"), ("map.sex", "2"), ("map.passport", "3")],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let fields = hidden_fields(&r.body, &format!("/imports/{id}/commit"));
    let refs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    border.post(&format!("/imports/{id}"), &format!("/imports/{id}/commit"), &refs).await;
    wait_done(&border, &id).await;
    let page = border.get(&batch).await.body;
    assert_eq!(page.matches("/returnees/").count(), 2, "{page}");
    let queue = border.get("/matches").await.body;
    assert!(
        queue.contains("Đảo ngày và tháng") && queue.contains("Hồ sơ do một cơ quan khác quản lý"),
        "matched at once, the commune's record unnamed until both agencies confirm: {queue}"
    );
    // Another agency's batch cannot be imported into.
    let police = app.login("police.officer").await;
    assert_eq!(police.get(&format!("/imports?kind=returnees&batch={batch_id}")).await.status, 403);
});

story!(an_absentee_list_imported_through_the_api, |app| {
    let token = token_for(&app, "pc-tramy.clerk").await;
    let c = app.client();
    let before = app.count_persons("pc-tramy").await;
    // A file that is not a spreadsheet, and a kind that does not exist: field errors, nothing kept.
    let (s, err) =
        c.api_upload(&token, "/api/v1/imports", &[("kind", "absentees")], ("ds.csv", b"%PDF-1.7".to_vec())).await;
    assert_eq!((s, err["fields"][0]["field"].as_str()), (422, Some("file")), "{err}");
    let (s, err) = c.api_upload(&token, "/api/v1/imports", &[("kind", "people")], ("ds.csv", b"a\n".to_vec())).await;
    assert_eq!((s, err["fields"][0]["field"].as_str()), (422, Some("kind")), "{err}");

    let text = "Họ và tên,Ngày sinh,Xã,Vắng từ\n\
                Hồ Văn Đức,12/04/1995,Trà My,2022\n\
                Nguyễn Thị Hường,31/02/1999,Trà My,2023\n";
    let (s, up) = c
        .api_upload(&token, "/api/v1/imports", &[("kind", "absentees"), ("encoding", "vni")], ("ds.csv", vni_csv(text)))
        .await;
    assert_eq!(s, 201, "{up}");
    let id = up["id"].as_str().expect("id").to_owned();
    // Read as the pages read it: the encoding asked for, the columns guessed from the Vietnamese headers.
    let (s, preview) = c.api_get(&token, &format!("/api/v1/imports/{id}")).await;
    assert_eq!(s, 200, "{preview}");
    assert_eq!((preview["encoding"].as_str(), preview["total_rows"].as_u64()), (Some("vni"), Some(2)));
    assert_eq!(preview["rows"][0][0], "Hồ Văn Đức");
    let column = |m: &serde_json::Value, field: &str| {
        m.as_array().expect("mapping").iter().find(|c| c["field"] == field).map(|c| c["column"].clone())
    };
    assert_eq!(column(&preview["mapping"], "birth_date"), Some(json!(1)), "{preview}");

    // A field the register does not have, or a column the file does not have: said, not ignored.
    let bad = json!({"mapping": [{"field": "shoe_size", "column": 0}]});
    let (s, err) = c.api_post(&token, &format!("/api/v1/imports/{id}/check"), &bad).await;
    assert_eq!((s, err["fields"][0]["field"].as_str()), (422, Some("mapping.0.field")), "{err}");
    let bad = json!({"mapping": [{"field": "full_name", "column": 9}]});
    let (s, err) = c.api_post(&token, &format!("/api/v1/imports/{id}/check"), &bad).await;
    assert_eq!((s, err["fields"][0]["field"].as_str()), (422, Some("mapping.0.column")), "{err}");

    // The check lists each row's error with the file's own header; committing is refused while one remains.
    let (s, checked) = c.api_post(&token, &format!("/api/v1/imports/{id}/check"), &json!({})).await;
    assert_eq!(s, 200, "{checked}");
    assert_eq!((checked["ready"].clone(), checked["error_count"].as_u64()), (json!(null), Some(1)), "{checked}");
    assert_eq!(checked["errors"][0]["row"], 3);
    assert_eq!(checked["errors"][0]["column"], "Ngày sinh");
    let (s, err) = c.api_post(&token, &format!("/api/v1/imports/{id}/commit"), &json!({})).await;
    assert_eq!((s, err["fields"][0]["field"].as_str()), (422, Some("rows.3.birth_date")), "{err}");
    assert_eq!(app.count_persons("pc-tramy").await, before, "nothing written while a row is wrong");

    // Leaving the date of birth out makes every row ready; the commit runs and its status can be followed.
    let mapping = json!({"mapping": [
        {"field": "full_name", "column": 0}, {"field": "commune_code", "column": 2}, {"field": "absent_since", "column": 3}
    ]});
    let (s, checked) = c.api_post(&token, &format!("/api/v1/imports/{id}/check"), &mapping).await;
    assert_eq!((s, checked["ready"].as_u64()), (200, Some(2)), "{checked}");
    let status = commit_and_follow(&c, &token, &id, &mapping).await;
    assert_eq!((status["state"].as_str(), status["done"].as_u64()), (Some("done"), Some(2)), "{status}");
    assert_eq!(app.count_persons("pc-tramy").await, before + 2);

    // The same file again: nothing new, and when it came in.
    let (s, again) = c
        .api_upload(&token, "/api/v1/imports", &[("kind", "absentees"), ("encoding", "vni")], ("x.csv", vni_csv(text)))
        .await;
    assert_eq!((s, again["id"].clone()), (200, json!(null)), "{again}");
    assert!(again["imported_before"].as_str().is_some_and(|t| t.ends_with('Z')), "{again}");
    // Another agency can neither read the upload nor follow the import; an analyst cannot import.
    let other = token_for(&app, "pc-haichau.clerk").await;
    assert_eq!(c.api_get(&other, &format!("/api/v1/imports/{id}/status")).await.0, 403);
    let analyst = token_for(&app, "province.analyst").await;
    let (s, _) = c.api_upload(&analyst, "/api/v1/imports", &[("kind", "absentees")], ("x.csv", b"a\n".to_vec())).await;
    assert_eq!(s, 403);
});

story!(a_commune_records_and_imports_only_its_own_residents, |app| {
    let clerk = app.login("pc-tramy.clerk").await;
    let before = app.count_persons("pc-tramy").await;
    let form = "/imports?kind=absentees";
    // The upload form offers the commune's own unit only.
    let page = clerk.get(form).await.body;
    assert!(page.contains("value=\"20900\"") && !page.contains("value=\"20242\""), "{page}");
    // Naming another commune as the file's commune is refused.
    let text = "Họ và tên,Ngày sinh,Giới tính,Xã,Vắng từ\n\
                Đinh Văn An,01/01/1990,Nam,Trà My,2022\n\
                Phạm Thị Bé,02/02/1992,Nữ,Hải Châu,2023\n";
    let file = ("ds.csv", text.as_bytes().to_vec());
    let r = clerk.upload(form, "/imports", &[("kind", "absentees"), ("commune_code", "20242")], file.clone()).await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("Cơ quan của bạn chỉ ghi nhận người của xã mình."), "{}", r.body);
    // A row of another commune is refused on its row; nothing is written.
    let r = clerk.upload(form, "/imports", &[("kind", "absentees")], file).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let id = upload_id(&r);
    let mapping = [
        ("map.full_name", "0"),
        ("map.birth_date", "1"),
        ("map.sex", "2"),
        ("map.commune_code", "3"),
        ("map.absent_since", "4"),
    ];
    let r = clerk.post(&format!("/imports/{id}"), &format!("/imports/{id}/check"), &mapping).await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("Cơ quan của bạn chỉ ghi nhận người của xã mình."), "{}", r.body);
    assert_eq!(app.count_persons("pc-tramy").await, before);
    // One by one too, in the pages and the API.
    let officer = app.login("pc-tramy.officer").await;
    let entry = [
        ("full_name", "Phạm Thị Bé"),
        ("birth_date", "02/02/1992"),
        ("sex", "f"),
        ("commune_code", "20242"),
        ("absent_since", "2023"),
    ];
    let r = officer.post("/absentees/new", "/absentees", &entry).await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("Cơ quan của bạn chỉ ghi nhận người của xã mình."), "{}", r.body);
    let token = token_for(&app, "pc-tramy.officer").await;
    let body = serde_json::json!({
        "full_name": "Phạm Thị Bé", "birth_date": "02/02/1992", "sex": "f", "commune_code": "20242",
        "absent_since": "2023"
    });
    let (status, json) = app.client().api_post(&token, "/api/v1/absentees", &body).await;
    assert_eq!(status, 422, "{json}");
    assert_eq!(app.count_persons("pc-tramy").await, before);
    // Her own commune's resident is recorded.
    let mut own = entry;
    own[3] = ("commune_code", "20900");
    assert_eq!(officer.post("/absentees/new", "/absentees", &own).await.status, 303);
    assert_eq!(app.count_persons("pc-tramy").await, before + 1);
});

story!(a_list_giving_months_and_years_imports_as_families_wrote_it, |app| {
    let token = token_for(&app, "pc-tramy.clerk").await;
    let c = app.client();
    let before = app.count_persons("pc-tramy").await;
    // Families remember the month someone left, and sometimes only the month of a birth.
    let text = "Họ và tên,Ngày sinh,Xã,Vắng từ\r\n\
                Hồ Văn Đức,04/1995,Trà My,03/2022\r\n\
                Nguyễn Thị Hường,12/05/1999,Trà My,2023-11\r\n\
                Lê Văn Tâm,13/1990,Trà My,2021\r\n";
    let (s, up) =
        c.api_upload(&token, "/api/v1/imports", &[("kind", "absentees")], ("ds.csv", text.as_bytes().to_vec())).await;
    assert_eq!(s, 201, "{up}");
    let id = up["id"].as_str().expect("id").to_owned();
    let (s, checked) = c.api_post(&token, &format!("/api/v1/imports/{id}/check"), &json!({})).await;
    assert_eq!(s, 200, "{checked}");
    assert_eq!(checked["error_count"].as_u64(), Some(1), "only the thirteenth month is refused: {checked}");
    assert_eq!(
        (checked["errors"][0]["row"].clone(), checked["errors"][0]["column"].clone()),
        (json!(4), json!("Ngày sinh"))
    );

    // Without that row, both months come in and read back as they were written.
    let text = text.lines().take(3).collect::<Vec<_>>().join("\r\n");
    let (s, up) =
        c.api_upload(&token, "/api/v1/imports", &[("kind", "absentees")], ("ds2.csv", text.into_bytes())).await;
    assert_eq!(s, 201, "{up}");
    let id = up["id"].as_str().expect("id").to_owned();
    let status = commit_and_follow(&c, &token, &id, &json!({})).await;
    assert_eq!((status["state"].as_str(), status["done"].as_u64()), (Some("done"), Some(2)), "{status}");
    assert_eq!(app.count_persons("pc-tramy").await, before + 2);
    let list = app.login("pc-tramy.officer").await.get("/absentees").await.body;
    assert!(list.contains("03/2022") && list.contains("11/2023"), "the months as families said them: {list}");
});

story!(a_list_of_near_identical_names_pairs_each_row_a_bounded_number_of_times, |app| {
    let token = token_for(&app, "pc-tramy.clerk").await;
    let c = app.client();
    let before = app.count_persons("pc-tramy").await;
    let pairs_before =
        haven_store::testing::scalar_i64(&app.store.db, "SELECT COUNT(*) FROM match_candidates").await.expect("count");
    // Sixty times the same girl, as a list copied row by row can be: each row is one of a group of duplicates.
    let rows = 60;
    let mut text = "Họ và tên,Ngày sinh,Xã,Vắng từ\n".to_owned();
    for _ in 0..rows {
        text.push_str("Nguyễn Thị Mai,12/03/1998,Trà My,2023\n");
    }
    let (s, up) =
        c.api_upload(&token, "/api/v1/imports", &[("kind", "absentees")], ("ds.csv", text.into_bytes())).await;
    assert_eq!(s, 201, "{up}");
    let id = up["id"].as_str().expect("id").to_owned();
    let status = commit_and_follow(&c, &token, &id, &json!({})).await;
    assert_eq!((status["state"].as_str(), status["done"].as_u64()), (Some("done"), Some(rows)), "{status}");
    assert_eq!(app.count_persons("pc-tramy").await, before + rows as i64, "every row written");
    // Every row was compared once the import was written, and proposed its likeliest pairs only: from the
    // sixth row on, the bound with the commune's own records (five earlier duplicates at least), instead of
    // one pair per earlier row (1,770 for sixty rows); other agencies hold no one of this name and birth.
    let db = &app.store.db;
    let pairs = haven_store::testing::scalar_i64(db, "SELECT COUNT(*) FROM match_candidates").await.expect("count")
        - pairs_before;
    let bound = haven_store::matches::PER_ENTRY as i64;
    assert!((bound * (rows as i64 - bound)..=bound * rows as i64).contains(&pairs), "{pairs} pairs");
    let queued = haven_store::testing::scalar_i64(db, "SELECT COUNT(*) FROM match_queue").await.expect("queue");
    assert_eq!(queued, 0, "nobody left waiting to be compared");
    // The pairs are proposed under the importing user's name, as if each row had been typed.
    let clerk = app.user_id("pc-tramy.clerk").await;
    let matched = haven_store::testing::scalar_i64(
        db,
        &format!("SELECT COUNT(*) FROM audit_log WHERE action = 'person.match' AND actor_user_id = '{clerk}'"),
    )
    .await
    .expect("audit");
    assert!(matched >= rows as i64, "{matched}");
});

story!(writers_beside_a_large_import_are_served_or_told_to_retry_never_failed, |app| {
    let clerk = token_for(&app, "pc-tramy.clerk").await;
    let police = token_for(&app, "police.officer").await;
    let c = app.client();
    let rows = 1500;
    let mut text = "Họ và tên,Ngày sinh,Xã,Vắng từ\n".to_owned();
    let (surnames, given) = (["Hồ", "Lê", "Trần", "Phạm", "Đinh"], ["Mai", "Hoa", "Lan", "Đức", "Hùng", "Yến"]);
    for i in 0..rows {
        let name = format!("{} Thị {} {}", surnames[i % 5], given[i % 6], ["An", "Bình", "Chi"][i % 3]);
        text.push_str(&format!("{name},{:02}/{:02}/{},Trà My,2023\n", 1 + i % 28, 1 + i % 12, 1970 + i % 35));
    }
    let (s, up) =
        c.api_upload(&clerk, "/api/v1/imports", &[("kind", "absentees")], ("big.csv", text.into_bytes())).await;
    assert_eq!(s, 201, "{up}");
    let id = up["id"].as_str().expect("id").to_owned();
    let reports_before =
        haven_store::testing::scalar_i64(&app.store.db, "SELECT COUNT(*) FROM reports").await.expect("n");
    let (s, started) = c.api_post(&clerk, &format!("/api/v1/imports/{id}/commit"), &json!({})).await;
    assert_eq!(s, 202, "{started}");
    // A police officer keeps recording reports while the import runs: each is written, or refused whole with
    // 503 and Retry-After (then sent again); none fails.
    let (mut written, mut refused, mut during) = (0, 0, 0);
    loop {
        let (_, status) = c.api_get(&clerk, &format!("/api/v1/imports/{id}/status")).await;
        let running = status["state"] == "running" || status["state"] == "waiting";
        let report = json!({"kind": "denunciation", "channel": "hotline", "received_date": "01/03/2026",
            "anonymous": true, "summary": "Người dân báo tin về một đường dây môi giới"});
        let (s, h, body) = c.api_with_headers("post", &police, "/api/v1/reports", Some(&report)).await;
        match s {
            201 => written += 1,
            503 => {
                assert_eq!(h.get("retry-after").and_then(|v| v.to_str().ok()), Some("5"), "{body}");
                refused += 1;
            }
            other => panic!("a report beside an import answered {other}: {body}"),
        }
        during += usize::from(running);
        if !running {
            assert_eq!((status["state"].as_str(), status["done"].as_u64()), (Some("done"), Some(rows as u64)));
            break;
        }
    }
    assert!(during > 0, "the reports were sent while the import ran");
    let reports = haven_store::testing::scalar_i64(&app.store.db, "SELECT COUNT(*) FROM reports").await.expect("n");
    assert_eq!(reports - reports_before, written, "every acknowledged report is there, no refused one ({refused})");
    let queued = haven_store::testing::scalar_i64(&app.store.db, "SELECT COUNT(*) FROM match_queue").await.expect("q");
    assert_eq!(queued, 0);
});

story!(a_damaged_utf8_list_is_refused_naming_its_line_instead_of_garbled, |app| {
    let token = token_for(&app, "pc-tramy.clerk").await;
    let c = app.client();
    let before = app.count_persons("pc-tramy").await;
    let mut bytes =
        "Họ và tên,Ngày sinh,Xã\nNguyễn Thị Hoà,05/03/1998,Trà My\nLê Văn Đức,1990,Trà My\n".as_bytes().to_vec();
    let d = bytes.windows(2).position(|w| w == "Đ".as_bytes()).expect("Đ");
    bytes.remove(d);
    let (s, err) = c.api_upload(&token, "/api/v1/imports", &[("kind", "absentees")], ("ds.csv", bytes.clone())).await;
    assert_eq!((s, err["fields"][0]["error"].as_str()), (422, Some("import_broken_utf8")), "{err}");
    assert!(err["fields"][0]["message"].as_str().is_some_and(|m| m.ends_with("ở dòng (3)")), "{err}");
    // The page says the same under the file field, and nothing is kept.
    let page = app.login("pc-tramy.clerk").await;
    let r = page.upload("/imports?kind=absentees", "/imports", &[("kind", "absentees")], ("ds.csv", bytes)).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("byte hỏng") && r.body.contains("(3)"), "{}", r.body);
    assert_eq!(app.count_persons("pc-tramy").await, before);
});

story!(a_file_of_one_endless_line_is_refused_at_once_with_the_right_reason, |app| {
    let token = token_for(&app, "pc-tramy.clerk").await;
    let c = app.client();
    let mut commas = b"Ho ten,Ngay sinh\n".to_vec();
    commas.extend(std::iter::repeat_n(b',', 19 * 1024 * 1024));
    let (s, err) = c.api_upload(&token, "/api/v1/imports", &[("kind", "absentees")], ("commas.csv", commas)).await;
    assert_eq!((s, err["fields"][0]["error"].as_str()), (422, Some("import_line_long")), "{err}");
    assert!(err["fields"][0]["message"].as_str().is_some_and(|m| m.ends_with("Dòng (2)")), "{err}");
    // The server answers others meanwhile and after.
    assert_eq!(c.get("/health").await.status, 200);
});

story!(an_import_shows_nothing_until_all_its_rows_are_published_and_leaves_no_stage, |app| {
    use haven_store::registers::NewAbsentee;
    use haven_store::staging::{self, Row};
    let store = &app.store;
    let db = &store.db;
    let count = |sql: &'static str| async move { haven_store::testing::scalar_i64(db, sql).await.expect(sql) };
    let actor = haven_store::Actor {
        user_id: app.user_id("pc-tramy.clerk").await,
        agency_id: app.agency_id("pc-tramy").await,
        request_id: "test".into(),
    };
    let who = a_valid_identity();
    let entry = || NewAbsentee {
        commune_code: "20900",
        absent_since: Some("2024".into()),
        destination: Some("Trung Quốc"),
        contact: None,
        reported_by: None,
        household: None,
        note: Some("Đi cùng người quen"),
    };
    let (persons, keys, absentees, audit) = (
        count("SELECT COUNT(*) FROM persons").await,
        count("SELECT COUNT(*) FROM match_keys").await,
        count("SELECT COUNT(*) FROM absentees").await,
        count("SELECT COUNT(*) FROM audit_log").await,
    );
    // Two chunks staged, each in a transaction of its own: none of it is anyone's record yet.
    let mut stage = store.begin_stage(&actor, "upload-1").await.expect("stage");
    for _ in 0..2 {
        let rows = [Row::Absentee { identity: &who, entry: entry() }, Row::Absentee { identity: &who, entry: entry() }];
        store.stage(&mut stage, &rows).await.expect("staged");
    }
    assert_eq!(stage.len(), 4);
    assert_eq!(count("SELECT COUNT(*) FROM persons").await, persons, "no person visible before the publish");
    assert_eq!(count("SELECT COUNT(*) FROM match_keys").await, keys, "nobody findable by name");
    assert_eq!(count("SELECT COUNT(*) FROM absentees").await, absentees);
    assert_eq!(count("SELECT COUNT(*) FROM audit_log").await, audit, "nothing happened yet to audit");
    assert_eq!(count("SELECT COUNT(*) FROM import_staged_persons").await, 4);

    // Published in one command: every row, with its keys, its entry and its audit entries, and the stage gone.
    let mut cmd = store.command(&actor).await.expect("command");
    staging::publish(&mut cmd, &stage, "import-1").await.expect("published");
    cmd.commit().await.expect("commit");
    assert_eq!(count("SELECT COUNT(*) FROM persons").await, persons + 4);
    assert_eq!(count("SELECT COUNT(*) FROM absentees WHERE import_id = 'import-1'").await, 4);
    assert!(count("SELECT COUNT(*) FROM match_keys").await > keys, "the new people are findable by name");
    for table in ["import_stages", "import_staged_persons", "import_staged_keys", "import_staged_absentees"] {
        let n = haven_store::testing::scalar_i64(db, &format!("SELECT COUNT(*) FROM {table}")).await.expect("n");
        assert_eq!(n, 0, "{table} emptied by the publish");
    }
    let created = count("SELECT COUNT(*) FROM audit_log WHERE action IN ('person.create', 'absentee.create')").await;
    assert!(created >= 8, "two entries a row, as if each had been typed: {created}");
    assert!(store.verify_audit().await.expect("verify").ok(), "the chain holds with entries written many at once");
    let owner = haven_store::testing::scalar_i64(
        db,
        &format!(
            "SELECT COUNT(*) FROM persons p JOIN absentees a ON a.person_id = p.id WHERE a.import_id = 'import-1' \
             AND p.owner_agency_id = '{}' AND a.created_by = '{}'",
            actor.agency_id, actor.user_id
        ),
    )
    .await
    .expect("n");
    assert_eq!(owner, 4, "owned by the importing agency, created by the importing user");
    // The name opens as it was typed: it was sealed for the record it became, and copied unchanged.
    let newest = app.a_person_of("pc-tramy").await;
    let mut cmd = store.command(&actor).await.expect("command");
    let opened = haven_store::persons::view_identity(&mut cmd, &store.keys, &newest, "test", false)
        .await
        .expect("opens")
        .expect("exists");
    cmd.commit().await.expect("commit");
    assert_eq!((opened.full_name.as_str(), opened.birth_date.as_deref()), ("Đinh Thị Thu", Some("1999")));

    // A stage dropped meanwhile cannot be published half: the publish fails and its command writes nothing.
    let before = count("SELECT COUNT(*) FROM persons").await;
    let mut gone = store.begin_stage(&actor, "upload-2").await.expect("stage");
    store.stage(&mut gone, &[Row::Absentee { identity: &who, entry: entry() }]).await.expect("staged");
    store.discard_stage(&gone.id).await.expect("discarded");
    let mut cmd = store.command(&actor).await.expect("command");
    assert!(staging::publish(&mut cmd, &gone, "import-2").await.is_err());
    drop(cmd);
    assert_eq!(count("SELECT COUNT(*) FROM persons").await, before);

    // A stage left by a stopped process is swept once it is older than any import runs.
    let mut left = store.begin_stage(&actor, "upload-3").await.expect("stage");
    store.stage(&mut left, &[Row::Absentee { identity: &who, entry: entry() }]).await.expect("staged");
    assert_eq!(store.sweep_stages(std::time::Duration::from_secs(3600)).await.expect("sweep"), 0, "still young");
    app.advance(2 * 3600 * 1000);
    assert_eq!(store.sweep_stages(std::time::Duration::from_secs(3600)).await.expect("sweep"), 1);
    assert_eq!(count("SELECT COUNT(*) FROM import_staged_persons").await, 0);
    assert_eq!(count("SELECT COUNT(*) FROM persons").await, before);
});

story!(any_server_follows_an_import_and_one_cut_short_may_run_again, |app| {
    let clerk = token_for(&app, "pc-tramy.clerk").await;
    let c = app.client();
    let upload = |name: &'static str, who: &'static str| {
        let (c, clerk) = (&c, &clerk);
        async move {
            let text = format!("Họ và tên,Ngày sinh,Xã,Vắng từ\n{who},12/03/1995,Trà My,2023\n");
            let (s, up) =
                c.api_upload(clerk, "/api/v1/imports", &[("kind", "absentees")], (name, text.into_bytes())).await;
            assert_eq!(s, 201, "{up}");
            up["id"].as_str().expect("id").to_owned()
        }
    };
    // A second server on the same database, as behind a proxy: it knows nothing this one holds in memory.
    let second = {
        let config = haven_web::Config { province: haven::demo::PROVINCE.into(), ..Default::default() };
        let router = haven_web::router(haven_web::AppState::new(app.store.clone(), config));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            let _ = axum::serve(listener, router.into_make_service_with_connect_info::<std::net::SocketAddr>()).await;
        });
        Client::new(&format!("http://{addr}"))
    };
    let id = upload("a.csv", "Đinh Thị Thu").await;
    let done = commit_and_follow(&c, &clerk, &id, &json!({})).await;
    assert_eq!((done["state"].as_str(), done["done"].as_u64()), (Some("done"), Some(1)), "{done}");
    let (s, there) = second.api_get(&clerk, &format!("/api/v1/imports/{id}/status")).await;
    assert_eq!((s, there["state"].as_str(), there["total"].as_u64()), (200, Some("done"), Some(1)), "{there}");

    // An import whose server stopped: it shows as running while its heartbeat is fresh, then as cut short,
    // on any server, and it may be committed again.
    let cut = upload("b.csv", "Hồ Thị Mai").await;
    assert!(app.store.claim_import_run(&cut, 1).await.expect("claim"), "claimed by a server that then stops");
    let (_, running) = second.api_get(&clerk, &format!("/api/v1/imports/{cut}/status")).await;
    assert_eq!(running["state"], "running", "{running}");
    let (s, again) = c.api_post(&clerk, &format!("/api/v1/imports/{cut}/commit"), &json!({})).await;
    assert_eq!((s, again["state"].as_str()), (202, Some("running")), "not started twice: {again}");
    app.advance(11 * 60 * 1000);
    let (_, stale) = second.api_get(&clerk, &format!("/api/v1/imports/{cut}/status")).await;
    assert_eq!(stale["state"], "failed", "{stale}");
    assert!(stale["error"].as_str().is_some_and(|e| e.contains("nhập lại") || e.contains("again")), "{stale}");
    let redone = commit_and_follow(&c, &clerk, &cut, &json!({})).await;
    assert_eq!((redone["state"].as_str(), redone["done"].as_u64()), (Some("done"), Some(1)), "{redone}");
    assert_eq!(app.store.running_imports().await.expect("running"), 0);
});
