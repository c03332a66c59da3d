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

story!(openapi_document_is_served, |app| {
    let r = app.client().get("/api/v1/openapi.json").await;
    assert_eq!(r.status, 200);
    let doc: serde_json::Value = serde_json::from_str(&r.body).expect("json");
    assert_eq!(doc["openapi"], "3.1.0");
    for p in [
        "/me",
        "/persons",
        "/persons/{id}",
        "/reports",
        "/reports/{id}",
        "/reports/{id}/classification",
        "/reports/{id}/clock",
        "/reports/{id}/decision",
    ] {
        assert!(doc["paths"][p].is_object(), "{p}");
    }
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
