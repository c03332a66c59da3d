//! The JSON API: tokens, /me, person records, JSON errors in the user's language, and the OpenAPI document.

use serde_json::json;

use crate::harness::*;
use crate::story;

story!(token_answers_me_with_user_agency_and_roles, |app| {
    let token = token_for(&app, "border.officer").await;
    let c = app.client();
    let (s, me) = c.api_get(&token, "/api/v1/me").await;
    assert_eq!(s, 200);
    assert_eq!(me["username"], "border.officer");
    assert_eq!(me["roles"], json!(["case_officer"]));
    assert_eq!(me["agency"]["code"], "border");
    assert_eq!(me["agency"]["kind"], "border_guard");
    let (s, err) = c.api_get("hvn_not-a-token", "/api/v1/me").await;
    assert_eq!(s, 401);
    assert_eq!(err["error"], "unauthenticated");
    assert!(err["request_id"].as_str().is_some_and(|r| !r.is_empty()));
});

story!(the_api_refuses_the_session_cookie, |app| {
    let c = app.login("police.officer").await;
    let r = c.get("/api/v1/me").await;
    assert_eq!(r.status, 401);
});

story!(create_and_list_persons_through_the_api, |app| {
    let token = token_for(&app, "police.officer").await;
    let c = app.client();
    let (s, body) = c.api_post(&token, "/api/v1/persons", &json!({"full_name": "", "id_number": "123"})).await;
    assert_eq!(s, 422);
    assert_eq!(body["error"], "validation");
    let fields: Vec<&str> =
        body["fields"].as_array().expect("fields").iter().filter_map(|f| f["field"].as_str()).collect();
    assert_eq!(fields, ["full_name", "id_number"]);
    assert_eq!(body["fields"][1]["message"], "Số CCCD phải có 12 chữ số, hoặc CMND cũ 9 chữ số");
    let (s, p) = c
        .api_post(&token, "/api/v1/persons", &json!({"full_name": "Phạm Văn Đức", "sex": "m", "commune_code": "20242"}))
        .await;
    assert_eq!(s, 201, "{p}");
    assert!(p["case_code"].as_str().is_some_and(|c| c.starts_with("HS-")));
    assert!(p.get("full_name").is_none(), "identity never leaves through this endpoint");
    let (s, list) = c.api_get(&token, "/api/v1/persons?limit=1").await;
    assert_eq!(s, 200);
    assert_eq!(list["items"][0]["id"], p["id"]);
    // Another agency cannot read it without a grant.
    let other = token_for(&app, "health.officer").await;
    let (s, _) = c.api_get(&other, &format!("/api/v1/persons/{}", p["id"].as_str().unwrap_or_default())).await;
    assert_eq!(s, 403);
    // An analyst's token is scoped to the analyst's permissions.
    let analyst = token_for(&app, "province.analyst").await;
    assert_eq!(c.api_get(&analyst, "/api/v1/persons").await.0, 403);
});

story!(the_openapi_document_lists_exactly_the_routes_served, |app| {
    let r = app.client().get("/api/v1/openapi.json").await;
    assert_eq!(r.status, 200);
    let doc: serde_json::Value = serde_json::from_str(&r.body).expect("json");
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(&doc, crate::schema::document(), "the served document is the one the router was built with");
    let paths = doc["paths"].as_object().expect("paths");
    let mut operations = 0;
    let http = reqwest::Client::new();
    for (template, item) in paths {
        for method in ["get", "post", "put", "delete"] {
            let Some(op) = item.get(method) else { continue };
            operations += 1;
            // Every success answer is described: JSON with its schema, or a file of its named types.
            for status in ["200", "201", "202"] {
                if let Some(ok) = op["responses"].get(status) {
                    let content = ok["content"].as_object().expect("content");
                    assert!(!content.is_empty(), "{method} {template} {status}");
                    assert!(content.values().all(|m| m["schema"].is_object()), "{method} {template} {status}");
                }
            }
            assert!(op["responses"]["401"].is_object() && op["responses"]["403"].is_object(), "{method} {template}");
            // Served: without a token every operation answers 401, never the 404 or 405 of a missing route.
            let url = format!("{}/api/v1{}", app.base, template.replace('{', "x").replace('}', ""));
            let req = match method {
                "get" => http.get(&url),
                "post" => http.post(&url).json(&json!({})),
                "put" => http.put(&url).json(&json!({})),
                _ => http.delete(&url),
            };
            let status = req.send().await.expect("request").status().as_u16();
            assert_eq!(status, 401, "{method} {template}");
        }
    }
    assert!(operations > 90, "{operations} operations");
    // And a route that is not documented is not served.
    assert_eq!(http.get(format!("{}/api/v1/nothing-here", app.base)).send().await.expect("get").status(), 404);
});

story!(reports_through_the_api_with_the_same_rules_as_the_pages, |app| {
    let token = token_for(&app, "police.officer").await;
    let c = app.client();
    let (s, body) = c
        .api_post(
            &token,
            "/api/v1/reports",
            &json!({"kind": "denunciation", "channel": "fax", "received_date": "31/02/2026", "summary": "x"}),
        )
        .await;
    assert_eq!(s, 422);
    let fields: Vec<&str> =
        body["fields"].as_array().expect("fields").iter().filter_map(|f| f["field"].as_str()).collect();
    assert_eq!(fields, ["channel", "received_date", "reporter_name", "summary"]);
    let (s, r) = c
        .api_post(&token, "/api/v1/reports", &json!({"kind": "crime_report", "channel": "media", "received_date": "28/02/2026", "received_time": "16:00", "anonymous": true, "summary": "Báo đưa tin về đường dây đưa người qua biên giới"}))
        .await;
    assert_eq!(s, 201, "{r}");
    assert_eq!(r["last_day"], "2026-03-20");
    assert!(r.get("summary").is_none(), "sealed fields never leave through the API");
    let id = r["id"].as_str().expect("id").to_owned();
    let (s, _) = c
        .api_post(
            &token,
            &format!("/api/v1/reports/{id}/decision"),
            &json!({"decision": "initiate", "number": "1", "decided_on": "01/03/2026"}),
        )
        .await;
    assert_eq!(s, 422, "not classified yet");
    let (s, r) = c
        .api_post(
            &token,
            &format!("/api/v1/reports/{id}/classification"),
            &json!({"outcome": "offence", "offence_code": "348", "reason": "Tổ chức xuất cảnh trái phép"}),
        )
        .await;
    assert_eq!((s, r["offence_code"].as_str()), (200, Some("348")));
    let (s, r) = c
        .api_post(
            &token,
            &format!("/api/v1/reports/{id}/clock"),
            &json!({"event": "suspended", "on": "01/03/2026", "ground": "documents_pending"}),
        )
        .await;
    assert_eq!((s, r["suspended_since"].as_str()), (200, Some("2026-03-01")));
    let (s, list) = c.api_get(&token, "/api/v1/reports?list=overdue").await;
    assert_eq!(s, 200);
    assert_eq!(list["items"].as_array().map(Vec::len), Some(0), "a suspended report is never overdue");
    let other = token_for(&app, "health.officer").await;
    assert_eq!(c.api_get(&other, &format!("/api/v1/reports/{id}")).await.0, 403);
    assert_eq!(
        c.api_post(&other, &format!("/api/v1/reports/{id}/clock"), &json!({"event": "resumed", "on": "01/03/2026"}))
            .await
            .0,
        403
    );
    let (s, one) = c.api_get(&token, &format!("/api/v1/reports/{id}")).await;
    assert_eq!(s, 200);
    assert_eq!(one["events"].as_array().map(Vec::len), Some(1));
});

story!(a_case_through_the_api_from_report_to_indictment, |app| {
    let token = token_for(&app, "police.officer").await;
    let c = app.client();
    let (s, r) = c
        .api_post(&token, "/api/v1/reports", &json!({"kind": "denunciation", "channel": "hotline", "received_date": "01/03/2026", "anonymous": true, "summary": "Người dân báo tin về một đường dây môi giới lấy chồng nước ngoài"}))
        .await;
    assert_eq!(s, 201, "{r}");
    let id = r["id"].as_str().expect("id").to_owned();
    let post = |path: String, body: serde_json::Value, token: String| {
        let c = &c;
        async move { c.api_post(&token, &format!("/api/v1{path}"), &body).await }
    };
    let (s, _) = post(format!("/reports/{id}/case"), json!({"case_number": "3/2026/HS"}), token.clone()).await;
    assert_eq!(s, 422, "no decision to initiate yet");
    post(
        format!("/reports/{id}/classification"),
        json!({"outcome": "offence", "offence_code": "150", "reason": "Dấu hiệu mua bán người"}),
        token.clone(),
    )
    .await;
    let suspect = app.store.person(&app.a_person_of("police").await).await.expect("read").expect("person");
    let (s, persons) = post(
        format!("/reports/{id}/persons"),
        json!({"person_code": suspect.case_code, "role": "suspect"}),
        token.clone(),
    )
    .await;
    assert_eq!(s, 200, "{persons}");
    let (s, body) = post(
        format!("/reports/{id}/persons"),
        json!({"person_code": suspect.case_code, "role": "witness"}),
        token.clone(),
    )
    .await;
    assert_eq!((s, body["fields"][0]["field"].as_str()), (422, Some("role")));
    let procuracy = app.agency_id("procuracy").await;
    let (s, r) =
        post(format!("/reports/{id}/procuracy"), json!({"procuracy": procuracy, "on": "01/03/2026"}), token.clone())
            .await;
    assert_eq!((s, r["procuracy_agency_id"].as_str()), (200, Some(procuracy.as_str())));
    post(
        format!("/reports/{id}/decision"),
        json!({"decision": "initiate", "number": "5/QĐ", "decided_on": "01/03/2026"}),
        token.clone(),
    )
    .await;
    let (s, case) = post(format!("/reports/{id}/case"), json!({"case_number": "3/2026/HS"}), token.clone()).await;
    assert_eq!(s, 201, "{case}");
    let case_id = case["id"].as_str().expect("case id").to_owned();
    let (s, one) = c.api_get(&token, &format!("/api/v1/cases/{case_id}")).await;
    assert_eq!(s, 200);
    let person = one["persons"][0]["id"].as_str().expect("suspect followed the report").to_owned();
    let (s, _) = post(
        format!("/cases/{case_id}/persons/{person}/custody"),
        json!({"arrested_on": "01/03/2026", "detained_on": "01/03/2026"}),
        token.clone(),
    )
    .await;
    assert_eq!(s, 200);
    for (stage, extra) in [("offenders_identified", json!({})), ("to_procuracy", json!({"sent_to": procuracy}))] {
        let mut body = json!({"stage": stage, "on": "01/03/2026"});
        body.as_object_mut().expect("object").extend(extra.as_object().expect("object").clone());
        let (s, r) = post(format!("/cases/{case_id}/stage"), body, token.clone()).await;
        assert_eq!(s, 200, "{stage}: {r}");
    }
    let prosecutor = token_for(&app, "procuracy.officer").await;
    let (s, list) = c.api_get(&prosecutor, "/api/v1/cases?list=sent").await;
    assert_eq!((s, list["items"].as_array().map(Vec::len)), (200, Some(1)));
    let (s, r) =
        post(format!("/cases/{case_id}/stage"), json!({"stage": "indicted", "on": "01/03/2026"}), prosecutor.clone())
            .await;
    assert_eq!(s, 200, "{r}");
    let (s, _) = post(
        format!("/cases/{case_id}/stage"),
        json!({"stage": "closed", "on": "01/03/2026", "detail": "Không có"}),
        prosecutor.clone(),
    )
    .await;
    assert_eq!(s, 403, "closing is not the procuracy's step here");
    let health = token_for(&app, "health.officer").await;
    assert_eq!(c.api_get(&health, &format!("/api/v1/cases/{case_id}")).await.0, 403);
    // The indicators, as the dashboard counts them.
    let analyst = token_for(&app, "province.analyst").await;
    let (s, ind) = c.api_get(&analyst, "/api/v1/indicators?year=2026&agency=police").await;
    assert_eq!(s, 200, "{ind}");
    let prosecuted = ind["indicators"]
        .as_array()
        .expect("list")
        .iter()
        .find(|i| i["code"] == "prosecuted")
        .expect("prosecuted")
        .clone();
    assert_eq!(
        (prosecuted["numerator"].as_u64(), prosecuted["denominator"].as_u64(), prosecuted["met"].as_bool()),
        (Some(1), Some(1), Some(true))
    );
    let (s, _) = c.api_get(&analyst, "/api/v1/indicators?from=31/12/2026&to=01/01/2026").await;
    assert_eq!(s, 422);
    assert_eq!(c.api_get(&token, "/api/v1/indicators").await.0, 403, "an officer without the aggregates right");
});

story!(a_victim_case_through_the_api, |app| {
    let border = token_for(&app, "border.officer").await;
    let c = app.client();
    let person = app.store.person(&app.a_person_of("border").await).await.expect("read").expect("person");
    let post = |path: String, body: serde_json::Value, token: String| {
        let c = &c;
        async move { c.api_post(&token, &format!("/api/v1{path}"), &body).await }
    };
    let (s, bad) = post(
        "/victims".into(),
        json!({"person_code": person.case_code, "reception_kind": "teleport", "received_on": "01/03/2026"}),
        border.clone(),
    )
    .await;
    assert_eq!((s, bad["fields"][0]["field"].as_str()), (422, Some("reception_kind")));
    let (s, case) = post(
        "/victims".into(),
        json!({"person_code": person.case_code, "reception_kind": "border", "received_on": "01/03/2026"}),
        border.clone(),
    )
    .await;
    assert_eq!(s, 201, "{case}");
    let id = case["id"].as_str().expect("id").to_owned();
    let police = app.agency_id("police").await;
    let (s, after) = post(
        format!("/victims/{id}/steps"),
        json!({"kind": "verification", "on": "01/03/2026", "agency": police, "officer": "Đại úy Lò Văn Sáng"}),
        border.clone(),
    )
    .await;
    assert_eq!((s, after["status"].as_str()), (200, Some("being_identified")));
    let proposal = json!({"outcome": "identified", "decided_on": "01/03/2026", "legal_basis": "Điều 23 Luật 53/2024/QH15", "evidence": ["rescuer"], "certificate_number": "09/GXN"});
    assert_eq!(post(format!("/victims/{id}/identification"), proposal, border.clone()).await.0, 200);
    assert_eq!(
        post(format!("/victims/{id}/approval"), json!({}), border.clone()).await.0,
        422,
        "an officer does not approve"
    );
    let head = token_for(&app, "border.head").await;
    let (s, approved) = post(format!("/victims/{id}/approval"), json!({}), head).await;
    assert_eq!((s, approved["status"].as_str()), (200, Some("identified")));
    let (s, _) = post(
        format!("/victims/{id}/supports"),
        json!({"regime": "a", "given_on": "01/03/2026", "quantity": 61}),
        border.clone(),
    )
    .await;
    assert_eq!(s, 422, "over the 60-day cap");
    assert_eq!(post(format!("/victims/{id}/supports"), json!({"regime": "k", "given_on": "01/03/2026", "quantity": 1, "amount_vnd": 1500000, "acknowledged": true}), border.clone()).await.0, 200);
    assert_eq!(
        post(
            format!("/victims/{id}/referrals"),
            json!({"kind": "support", "to_agency": app.agency_id("health").await}),
            border.clone()
        )
        .await
        .0,
        422,
        "no consent yet"
    );
    assert_eq!(post(format!("/victims/{id}/consents"), json!({"purpose": "share_agency_kind", "target_kind": "social_support", "given_by": "person", "given_on": "01/03/2026"}), border.clone()).await.0, 200);
    let (s, referrals) = post(
        format!("/victims/{id}/referrals"),
        json!({"kind": "support", "to_agency": app.agency_id("health").await}),
        border.clone(),
    )
    .await;
    assert_eq!((s, referrals["items"].as_array().map(Vec::len)), (200, Some(1)));
    // The receiver accepts; a second answer comes too late and is a conflict with the referral's state.
    let rid = referrals["items"][0]["id"].as_str().expect("id").to_owned();
    let health = token_for(&app, "health.officer").await;
    let (s, accepted) = c.api_post(&health, &format!("/api/v1/referrals/{rid}/accept"), &json!({})).await;
    assert_eq!((s, accepted["status"].as_str()), (200, Some("accepted")), "{accepted}");
    let (s, again) =
        c.api_post(&health, &format!("/api/v1/referrals/{rid}/decline"), &json!({"reason": "Hết chỗ"})).await;
    let field = (again["fields"][0]["field"].as_str(), again["fields"][0]["error"].as_str());
    assert_eq!((s, field), (409, (Some("status"), Some("referral_status"))), "{again}");
    assert_eq!(
        post(
            format!("/victims/{id}/context"),
            json!({"exploitation": ["ForcedLabour"], "destination_country": "KH"}),
            border.clone()
        )
        .await
        .0,
        200
    );
    let (s, one) = c.api_get(&border, &format!("/api/v1/victims/{id}")).await;
    assert_eq!(s, 200);
    assert!(one["entitlements"]
        .as_array()
        .expect("list")
        .iter()
        .any(|e| e["regime"] == "k" && e["standing"] == "given"));
    assert_eq!(one["case"]["destination_country"], "KH");
    assert_eq!(c.api_get(&token_for(&app, "police.officer").await, &format!("/api/v1/victims/{id}")).await.0, 403);
});

story!(lists_page_on_with_a_cursor, |app| {
    let token = token_for(&app, "police.officer").await;
    let c = app.client();
    let mut made = Vec::new();
    for day in ["25/02/2026", "26/02/2026", "27/02/2026"] {
        let body = json!({"kind": "denunciation", "channel": "hotline", "received_date": day, "anonymous": true, "summary": "Tin báo về một người bị đưa qua biên giới"});
        let (s, r) = c.api_post(&token, "/api/v1/reports", &body).await;
        assert_eq!(s, 201, "{r}");
        made.push(r["id"].as_str().expect("id").to_owned());
    }
    let (s, first) = c.api_get(&token, "/api/v1/reports?limit=2").await;
    assert_eq!(s, 200);
    let next = first["next"].as_str().expect("a next page").to_owned();
    let (s, second) = c.api_get(&token, &format!("/api/v1/reports?limit=2&after={next}")).await;
    assert_eq!(s, 200);
    assert!(second["next"].is_null(), "the last page: {second}");
    let mut seen: Vec<String> = [&first, &second]
        .iter()
        .flat_map(|p| p["items"].as_array().expect("items").iter())
        .map(|r| r["id"].as_str().expect("id").to_owned())
        .collect();
    assert_eq!(seen.len(), 3, "each report once");
    seen.sort();
    made.sort();
    assert_eq!(seen, made);
    assert_eq!(c.api_get(&token, "/api/v1/reports?list=everything").await.0, 400);
    // Lists read whole by their use case page the same way.
    let (_, one) = c.api_get(&token, "/api/v1/cooperation?list=all&limit=1").await;
    assert!(one["items"].as_array().is_some_and(|i| i.len() <= 1), "{one}");
});

story!(a_persons_files_and_ones_own_account_through_the_api, |app| {
    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";
    let token = token_for(&app, "border.officer").await;
    let c = app.client();
    let (s, p) = c.api_post(&token, "/api/v1/persons", &json!({"full_name": "Lò Thị Mai", "sex": "f"})).await;
    assert_eq!(s, 201, "{p}");
    let files = format!("/api/v1/persons/{}/attachments", p["id"].as_str().expect("id"));
    // Refused by its bytes whatever its name, and a kind from the list: nothing stored.
    let (s, err) = c.api_upload(&token, &files, &[("kind", "photo")], ("a.png", b"<html><script>".to_vec())).await;
    assert_eq!((s, err["fields"][0]["field"].as_str()), (422, Some("file")), "{err}");
    let (s, err) = c.api_upload(&token, &files, &[("kind", "selfie")], ("a.png", PNG.to_vec())).await;
    assert_eq!((s, err["fields"][0]["field"].as_str()), (422, Some("kind")), "{err}");
    let (s, done) = c.api_upload(&token, &files, &[("kind", "photo")], ("mặt.png", PNG.to_vec())).await;
    assert_eq!((s, done["done"].as_bool()), (201, Some(true)), "{done}");
    // Another agency cannot attach to the record.
    let health = token_for(&app, "health.officer").await;
    assert_eq!(c.api_upload(&health, &files, &[("kind", "photo")], ("b.png", PNG.to_vec())).await.0, 403);
    // The file is listed with the identity and opened for a purpose, audited.
    let (s, identity) = c
        .api_post(
            &token,
            &format!("{}/identity", files.trim_end_matches("/attachments")),
            &json!({"purpose": "verification"}),
        )
        .await;
    assert_eq!(s, 200, "{identity}");
    assert_eq!(identity["files"][0][1], "mặt.png");
    let file = format!("{files}/{}", identity["files"][0][0].as_str().expect("file id"));
    let (s, err) = c.api_post(&token, &file, &json!({"purpose": "gossip"})).await;
    assert_eq!((s, err["fields"][0]["field"].as_str()), (422, Some("purpose")), "{err}");
    let opened_before = app.audit_actions().await.len();
    let r = reqwest::Client::new()
        .post(format!("{}{file}", app.base))
        .bearer_auth(&token)
        .json(&json!({"purpose": "verification"}))
        .send()
        .await
        .expect("file");
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "image/png");
    assert_eq!(r.bytes().await.expect("bytes").as_ref(), PNG);
    assert!(app.audit_actions().await.len() > opened_before, "the opening is audited");

    // One's own account: the language of messages, and the password given the current one.
    let (s, me) = c.api_put(&token, "/api/v1/me/language", &json!({"language": "en"})).await;
    assert_eq!((s, me["language"].as_str()), (200, Some("en")), "{me}");
    let (s, err) = c.api_put(&token, "/api/v1/me/language", &json!({"language": "fr"})).await;
    assert_eq!(s, 422);
    assert_eq!(err["fields"][0]["message"], "Choose one of the options", "{err}");
    let wrong =
        json!({"current": "not it", "new_password": "a new long pass phrase 7", "confirm": "a new long pass phrase 7"});
    let (s, err) = c.api_put(&token, "/api/v1/me/password", &wrong).await;
    assert_eq!((s, err["fields"][0]["field"].as_str()), (422, Some("current")), "{err}");
    let right =
        json!({"current": PASSWORD, "new_password": "a new long pass phrase 7", "confirm": "a new long pass phrase 7"});
    let (s, done) = c.api_put(&token, "/api/v1/me/password", &right).await;
    assert_eq!((s, done["done"].as_bool()), (200, Some(true)), "{done}");
    assert_eq!(c.login("border.officer", "a new long pass phrase 7").await.status, 303, "the new password logs in");
});

story!(bodies_and_parameters_that_do_not_fit_are_refused_naming_the_field, |app| {
    let token = token_for(&app, "police.officer").await;
    let c = app.client();
    let report = r#"{"kind": "denunciation", "channel": "hotline", "received_date": "01/03/2026", "anonymous": true, "summary": "Người dân báo tin về một đường dây"}"#;
    // JSON sent as text is refused as such, not read.
    let (s, err) = c.api_post_raw(&token, "/api/v1/reports", "text/plain", report).await;
    assert_eq!((s, err["error"].as_str()), (415, Some("media_type")), "{err}");
    // A value of the wrong type names its field, in the user's language.
    let wrong = report.replace("\"anonymous\": true", "\"anonymous\": \"có\"");
    let (s, err) = c.api_post_raw(&token, "/api/v1/reports", "application/json; charset=utf-8", &wrong).await;
    assert_eq!(s, 422, "{err}");
    assert_eq!(
        (err["fields"][0]["field"].as_str(), err["fields"][0]["error"].as_str()),
        (Some("anonymous"), Some("json_type"))
    );
    assert!(err["fields"][0]["message"].as_str().is_some_and(|m| m.contains("không đúng kiểu")), "{err}");
    // A day before the state's records begin is a typing error, refused on its field.
    let ancient = report.replace("01/03/2026", "01/01/0000");
    let (s, err) = c.api_post_raw(&token, "/api/v1/reports", "application/json", &ancient).await;
    assert_eq!(s, 422, "{err}");
    assert_eq!(
        (err["fields"][0]["field"].as_str(), err["fields"][0]["error"].as_str()),
        (Some("received_date"), Some("date_too_early"))
    );
    // Broken JSON is a 400; the same body well typed is written.
    let (s, _) = c.api_post_raw(&token, "/api/v1/reports", "application/json", "{\"kind\": ").await;
    assert_eq!(s, 400);
    let (s, created) = c.api_post_raw(&token, "/api/v1/reports", "application/json", report).await;
    assert_eq!(s, 201, "{created}");
    // An outcome the procedure does not have is refused, not stored as "not related"; so is a summary the
    // length of a book.
    let id = created["id"].as_str().expect("id");
    let maybe = json!({"outcome": "maybe", "reason": "Chưa rõ", "forwarded_to": "Công an xã"});
    let (s, err) = c.api_post(&token, &format!("/api/v1/reports/{id}/classification"), &maybe).await;
    assert_eq!(s, 422, "{err}");
    assert_eq!(
        (err["fields"][0]["field"].as_str(), err["fields"][0]["error"].as_str()),
        (Some("outcome"), Some("choice"))
    );
    let (_, report_now) = c.api_get(&token, &format!("/api/v1/reports/{id}")).await;
    assert_eq!(report_now["classification"], serde_json::Value::Null, "nothing classified");
    let book = report.replace("Người dân báo tin về một đường dây", &"Một đường dây. ".repeat(200));
    let (s, err) = c.api_post_raw(&token, "/api/v1/reports", "application/json", &book).await;
    assert_eq!((s, err["fields"][0]["error"].as_str()), (422, Some("too_long")), "{err}");
    // A page size outside 1 to 500, or not a number, is refused naming `limit`; one inside is served.
    for bad in ["-1", "0", "501", "abc"] {
        let (s, err) = c.api_get(&token, &format!("/api/v1/reports?limit={bad}")).await;
        assert_eq!((s, err["fields"][0]["field"].as_str()), (422, Some("limit")), "{bad}: {err}");
        assert_eq!(err["fields"][0]["error"], "limit", "{err}");
    }
    let (s, _) = c.api_post_raw(&token, "/api/v1/reports", "application/json", report).await;
    assert_eq!(s, 201);
    let (s, page) = c.api_get(&token, "/api/v1/reports?limit=1").await;
    assert_eq!((s, page["items"].as_array().map(Vec::len)), (200, Some(1)), "{page}");
    assert!(page["next"].is_string(), "a second page: {page}");
    let (s, page) = c.api_get(&token, "/api/v1/persons?limit=500").await;
    assert_eq!(s, 200, "{page}");
    // A list that does not exist is refused, not answered with the default one.
    let (s, err) = c.api_get(&token, "/api/v1/cooperation?list=nonsense").await;
    assert_eq!(s, 400, "{err}");
    assert_eq!(c.api_get(&token, "/api/v1/cooperation?list=overdue").await.0, 200);
});
