//! The whole person record: other names, ethnicity, nationality, passport, language and interpreter, relatives,
//! sealed photos and documents, corrections, merging two records of one person with the trail kept, and the
//! head's view of who opened the identity.

use crate::harness::*;
use crate::story;

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";

/// Register a person at the border guard with every field; returns the page path.
async fn full_person(c: &Client, name: &str, passport: &str) -> String {
    let r = c
        .post(
            "/persons/new",
            "/persons",
            &[
                ("full_name", name),
                ("birth_date", "1990"),
                ("sex", "f"),
                ("other_names", "Mai; Lò Mai"),
                ("ethnicity", "Cơ Tu"),
                ("nationality", "VN"),
                ("passport", passport),
                ("language", "Tiếng Cơ Tu"),
                ("interpreter", "1"),
                ("commune_code", "20900"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    r.location.expect("location").split('?').next().expect("path").to_owned()
}

async fn reveal(c: &Client, path: &str) -> String {
    let r = c.post(path, &format!("{path}/reveal"), &[("purpose", "case_work")]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body
}

story!(a_person_record_holds_the_whole_identity_sealed, |app| {
    let officer = app.login("border.officer").await;
    // Bad input names each field and saves nothing.
    let before = app.count_persons("border").await;
    let r = officer
        .post(
            "/persons/new",
            "/persons",
            &[("full_name", "Lò Thị Mai"), ("nationality", "Viet Nam"), ("passport", "12"), ("sex", "f")],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("Số hộ chiếu gồm từ 6 đến 12 chữ và số"), "{}", r.body);
    assert_eq!(app.count_persons("border").await, before);

    let path = full_person(&officer, "Lò Thị Mai", "c 7654321").await;
    let page = officer.get(&path).await.body;
    assert!(!page.contains("Lò Thị Mai") && !page.contains("C7654321"), "codes until the identity is opened");
    let shown = reveal(&officer, &path).await;
    for expected in [
        "Lò Thị Mai",
        "Mai; Lò Mai",
        "<dd>Cơ Tu</dd>",
        "Việt Nam",
        "C7654321",
        "Tiếng Cơ Tu",
        "id=\"needs-interpreter\"",
    ] {
        assert!(shown.contains(expected), "{expected}");
    }
    // Every identity column is sealed; none carries the plaintext.
    for (column, plain) in
        [("other_names", "Lò Mai"), ("ethnicity", "Cơ Tu"), ("passport", "C7654321"), ("language", "Tiếng")]
    {
        let stored = haven_store::testing::column_bytes(&app.store.db, "persons", column).await.expect("column");
        assert!(stored.iter().any(|v| !v.is_empty()), "{column} is written");
        assert!(!stored.iter().any(|v| v.windows(plain.len()).any(|w| w == plain.as_bytes())), "{column} is sealed");
    }
    // A passport finds the record through its blind index; the number never sits in a URL.
    let found = officer.post("/persons", "/persons/search", &[("q", "C7654321")]).await;
    assert!(found.body.contains(path.trim_start_matches("/persons/")), "found by passport");

    // Relatives and their contacts, sealed, shown with the identity.
    let r = officer
        .post(
            &path,
            &format!("{path}/relatives"),
            &[("relation", "parent"), ("relative_name", ""), ("relative_phone", "12")],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("Cần điền mục này") && r.body.contains("Số điện thoại không hợp lệ"), "{}", r.body);
    let r = officer
        .post(
            &path,
            &format!("{path}/relatives"),
            &[
                ("relation", "parent"),
                ("relative_name", "Lò Văn Pành"),
                ("relative_phone", "0912 345 678"),
                ("relative_address", "Bản Pá Vạt"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let stored =
        haven_store::testing::column_bytes(&app.store.db, "person_relatives", "full_name").await.expect("column");
    assert!(!stored.iter().any(|v| v.windows(6).any(|w| w == "Pành".as_bytes())));
    assert!(!officer.get(&path).await.body.contains("Lò Văn Pành"), "hidden until the identity is opened");
    let shown = reveal(&officer, &path).await;
    assert!(shown.contains("Lò Văn Pành") && shown.contains("0912345678") && shown.contains("Cha, mẹ"));

    // A photo, sealed at rest; a web page named like a photo is refused by its bytes.
    let r =
        officer.upload(&path, &format!("{path}/attachments"), &[("kind", "photo")], ("mặt.png", PNG.to_vec())).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let r = officer
        .upload(&path, &format!("{path}/attachments"), &[("kind", "photo")], ("photo.jpg", b"<html><script>".to_vec()))
        .await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("Chỉ đính kèm được ảnh"));
    let r = officer
        .upload(
            &path,
            &format!("{path}/attachments"),
            &[("kind", "photo")],
            ("big.png", [PNG, &vec![0; 9 << 20]].concat()),
        )
        .await;
    assert!(r.status == 413 || r.status == 422, "too large: {}", r.status);
    let files = app.store.attachments(path.trim_start_matches("/persons/")).await.expect("files");
    assert_eq!(files.len(), 1, "refusals stored nothing");
    assert_eq!((files[0].content_type.as_str(), files[0].size), ("image/png", PNG.len() as i64));
    let stored =
        haven_store::testing::column_bytes(&app.store.db, "person_attachments", "content").await.expect("column");
    assert!(!stored.iter().any(|v| v.windows(4).any(|w| w == b"IHDR")), "the file is sealed");
    let download = format!("{path}/attachments/{}", files[0].id);
    let (status, bytes) = officer.post_for_bytes(&path, &download, &[("purpose", "gossip")]).await;
    assert_eq!(status, 422, "a purpose from the list");
    assert!(bytes.len() > PNG.len());
    let (status, bytes) = officer.post_for_bytes(&path, &download, &[("purpose", "verification")]).await;
    assert_eq!((status, bytes.as_slice()), (200, PNG));
    // Without the page's token, an upload is refused and stores nothing.
    let r = officer.upload_with_token(&format!("{path}/attachments"), "forged", ("x.png", PNG.to_vec())).await;
    assert_eq!(r.status, 403);
    assert_eq!(app.store.attachments(path.trim_start_matches("/persons/")).await.expect("files").len(), 1);
    assert!(reveal(&officer, &path).await.contains("mặt.png"), "the file name opens with the identity");
    // Another agency sees neither the record nor its files.
    let health = app.login("health.officer").await;
    assert_eq!(health.get(&path).await.status, 403);
    assert_eq!(health.post_raw(&download, &[("purpose", "support")]).await.status, 403);

    // A correction writes what changed and names the fields, not their values.
    let edit = format!("{path}/edit");
    assert_eq!(officer.get(&edit).await.status, 405, "opening the form is never a GET");
    let form = officer.post(&path, &format!("{path}/correct"), &[("purpose", "case_work")]).await;
    assert_eq!(form.status, 200);
    assert!(form.body.contains("value=\"C7654321\"") && form.body.contains("Lò Thị Mai"), "the form holds the record");
    let r = officer
        .post(
            &path,
            &edit,
            &[
                ("full_name", "Lò Thị Mai"),
                ("birth_date", "12/05/1990"),
                ("sex", "f"),
                ("other_names", "Mai; Lò Mai"),
                ("ethnicity", "Cơ Tu"),
                ("nationality", "VN"),
                ("passport", "C7654321"),
                ("language", "Tiếng Cơ Tu"),
                ("commune_code", "20900"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let shown = reveal(&officer, &path).await;
    assert!(
        shown.contains("12/05/1990") && !shown.contains("id=\"needs-interpreter\""),
        "date and interpreter changed"
    );
    let entries = haven_store::audit::browse(&app.store.db, &Default::default(), 10_000).await.expect("audit");
    let update = entries.iter().find(|e| e.action == "person.update").expect("update audited");
    assert_eq!(update.fields, "birth_date,interpreter");
    let r = officer.post(&path, &edit, &[("full_name", "Lò Thị Mai"), ("sex", "f"), ("passport", "??")]).await;
    assert_eq!(r.status, 422, "bad input is refused");
    assert!(r.body.contains("Số hộ chiếu gồm từ 6 đến 12 chữ và số"), "the passport is what was wrong");
    assert!(reveal(&officer, &path).await.contains("C7654321"), "and leaves the record as it was");

    // The head sees who opened the identity and why; an officer does not.
    assert!(!officer.get(&path).await.body.contains("id=\"views-table\""));
    let head = app.login("border.head").await.get(&path).await.body;
    let table = &head[head.find("id=\"views-table\"").expect("the head sees the views")..];
    let table = &table[..table.find("</table>").expect("end")];
    assert!(
        table.contains("border.officer") && table.contains("Mở tệp đính kèm") && table.contains("<td>Xác minh</td>"),
        "{table}"
    );
});

story!(two_records_of_one_person_merge_with_the_trail_kept, |app| {
    let officer = app.login("border.officer").await;
    let keep = full_person(&officer, "Hồ Thị Lan", "C1111111").await;
    let gone = full_person(&officer, "Ho Thi Lan", "C2222222").await;
    let (keep_id, gone_id) =
        (keep.trim_start_matches("/persons/").to_owned(), gone.trim_start_matches("/persons/").to_owned());
    // The second record is named on a victim case and has a relative.
    let gone_code = app.store.person(&gone_id).await.expect("read").expect("person").case_code;
    let r = officer
        .post(
            "/victims/new",
            "/victims",
            &[
                ("person_code", gone_code.as_str()),
                ("reception_kind", "border"),
                ("received_on", "01/03/2026"),
                ("vietnamese", "1"),
                ("in_vietnam", "1"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let r = officer
        .post(&gone, &format!("{gone}/relatives"), &[("relation", "sibling"), ("relative_name", "Hồ Văn Nam")])
        .await;
    assert_eq!(r.status, 303);

    // Refusals: no reason, an unknown code, itself, another agency's record.
    let merge = format!("{keep}/merge");
    let r = officer.post(&keep, &merge, &[("other", gone_code.as_str()), ("reason", "")]).await;
    assert_eq!(r.status, 422);
    let keep_code = app.store.person(&keep_id).await.expect("read").expect("person").case_code;
    for other in ["HS-22222-22222", keep_code.as_str()] {
        let r =
            officer.post(&keep, &merge, &[("other", other), ("reason", "Cùng số hộ chiếu cũ và cùng cha mẹ")]).await;
        assert_eq!(r.status, 422, "{other}");
    }
    let police = app.a_person_of("police").await;
    let police_code = app.store.person(&police).await.expect("read").expect("person").case_code;
    let r = officer
        .post(&keep, &merge, &[("other", police_code.as_str()), ("reason", "Cùng số hộ chiếu cũ và cùng cha mẹ")])
        .await;
    assert_eq!(r.status, 422, "another agency's record is not merged away from it");
    assert!(app.store.person(&gone_id).await.expect("read").expect("person").merged_into.is_none());

    let r = officer
        .post(&keep, &merge, &[("other", gone_code.as_str()), ("reason", "Cùng số hộ chiếu cũ và cùng cha mẹ")])
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    // Everything moved to the survivor; the merged record stays, marked, and leaves the lists.
    let cases = app.store.victim_cases_of_person(&keep_id).await.expect("cases");
    assert_eq!(cases.len(), 1, "the victim case follows");
    assert!(app.store.victim_cases_of_person(&gone_id).await.expect("cases").is_empty());
    let gone_row = app.store.person(&gone_id).await.expect("read").expect("person");
    assert_eq!(gone_row.merged_into.as_deref(), Some(keep_id.as_str()));
    let gone_page = officer.get(&gone).await.body;
    assert!(gone_page.contains("id=\"merged-into\"") && gone_page.contains(&keep_code));
    assert!(!gone_page.contains("id=\"edit-person\""), "a merged record is changed through the survivor");
    assert!(!officer.get("/persons").await.body.contains(&gone_code), "not listed");
    let page = officer.get(&keep).await.body;
    assert!(page.contains("id=\"merges-table\"") && page.contains(&gone_code) && page.contains("victim_cases=1"));
    let shown = reveal(&officer, &keep).await;
    assert!(shown.contains("Ho Thi Lan"), "the merged name becomes another name");
    assert!(shown.contains("Hồ Văn Nam"), "relatives follow");
    // Merged once: a second attempt is refused.
    let r = officer
        .post(&keep, &merge, &[("other", gone_code.as_str()), ("reason", "Cùng số hộ chiếu cũ và cùng cha mẹ")])
        .await;
    assert_eq!(r.status, 422);
    let actions = app.audit_actions().await;
    assert!(actions.contains(&"person.merge".to_owned()) && actions.contains(&"person.merged_into".to_owned()));
});
