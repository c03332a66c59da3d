//! One person across the province: found by name, recognised when another agency enters her again, linked
//! only when both holders confirm, counted once, and never revealed by a search to those who may not open her
//! record.

use haven_domain::plan::Figure;
use haven_domain::plan::Measure;
use haven_domain::reports::indicators::Period;
use haven_store::cases::Scope;
use serde_json::json;

use crate::harness::{token_for, Client, TestApp};
use crate::story;

const SIGNAL: &str = "Người này có thể đã được một cơ quan khác biết đến.";

/// Create a person as `c`; (id, case code, the person page).
async fn enter(app: &TestApp, c: &Client, name: &str, birth: &str) -> (String, String, String) {
    let r = c.post("/persons/new", "/persons", &[("full_name", name), ("birth_date", birth), ("sex", "f")]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let id = r.location.expect("location").trim_start_matches("/persons/").split('?').next().expect("id").to_owned();
    let code = app.store.person(&id).await.expect("read").expect("person").case_code;
    let page = c.get(&format!("/persons/{id}")).await.body;
    (id, code, page)
}

/// Receive the person as a victim case in `user`'s agency, as that agency receives people.
async fn receive(app: &TestApp, user: &str, code: &str, kind: &str) {
    let c = app.login(user).await;
    let form = [
        ("person_code", code),
        ("reception_kind", kind),
        ("received_on", "01/03/2026"),
        ("commune_code", "20900"),
        ("vietnamese", "1"),
        ("in_vietnam", "1"),
    ];
    let r = c.post("/victims/new", "/victims", &form).await;
    assert_eq!(r.status, 303, "{}", r.body);
}

/// The possible matches on a person's page.
fn matches_section(page: &str) -> &str {
    page.split("<section id=\"matches\">").nth(1).and_then(|s| s.split("</section>").next()).unwrap_or_default()
}

/// The open pair on a person's page (its id), from the first candidate card.
fn pair_on(page: &str) -> String {
    page.split("id=\"match-").nth(1).expect("a candidate").split('"').next().expect("id").to_owned()
}

async fn received_in_march(app: &TestApp, agency: Option<&str>) -> u64 {
    let period = Period { from: time::macros::date!(2026 - 03 - 01), to: time::macros::date!(2026 - 03 - 31) };
    match app.store.figure(Measure::VictimsReceived, period, Scope { agency_id: agency, commune_code: None }).await {
        Ok(Figure::Total(n)) => n,
        other => panic!("{other:?}"),
    }
}

story!(the_same_girl_entered_by_three_agencies_is_told_linked_and_counted_once, |app| {
    let province_before = received_in_march(&app, None).await;
    // The commune receives her first.
    let commune = app.login("pc-tramy.officer").await;
    let (commune_person, commune_code, page) = enter(&app, &commune, "Hồ Thị Mai", "12/03/1998").await;
    assert!(!page.contains(SIGNAL), "nobody else knows her yet");
    receive(&app, "pc-tramy.officer", &commune_code, "commune").await;

    // The border guards enter her from a foreign list: given name first, capitals, no diacritics. They are told
    // only that someone may know her: not the record, its code, its commune or the agency.
    let border = app.login("border.officer").await;
    let (border_person, border_code, page) = enter(&app, &border, "MAI HO THI", "12/03/1998").await;
    assert!(page.contains(SIGNAL), "{page}");
    assert!(!page.contains(&commune_code) && !page.contains(&commune_person), "the signal reveals the record");
    // (The page's sharing form lists every agency; the possible matches name none.)
    let matches = matches_section(&page);
    assert!(!matches.contains("Trà My") && !matches.contains("Ủy ban nhân dân"), "{matches}");
    receive(&app, "border.officer", &border_code, "border").await;

    // The police enter her with the birth year only.
    let police = app.login("police.officer").await;
    let (police_person, police_code, page) = enter(&app, &police, "Ho Thi Mai", "1998").await;
    assert!(page.contains(SIGNAL), "{page}");
    assert!(!page.contains(&border_code) && !page.contains(&commune_code));
    assert!(!matches_section(&page).contains("Biên phòng"));
    receive(&app, "police.officer", &police_code, "police").await;
    assert!(app.audit_actions().await.iter().filter(|a| *a == "match.signal").count() >= 3);
    assert_eq!(received_in_march(&app, None).await, province_before + 3, "three records, not yet one person");

    // The border guards ask; until the commune confirms, nothing is linked and the commune's agency stays unnamed.
    let border_page = border.get(&format!("/persons/{border_person}")).await.body;
    let pair = pair_on(&border_page);
    let r =
        border.post(&format!("/persons/{border_person}"), &format!("/matches/{pair}"), &[("decision", "same")]).await;
    assert!(r.location.as_deref().unwrap_or_default().contains("match_asked"), "{:?}", r.location);
    assert!(!matches_section(&border.get(&format!("/persons/{border_person}")).await.body).contains("Trà My"));
    assert_eq!(received_in_march(&app, None).await, province_before + 3, "one side's word links nothing");
    let queue = commune.get("/matches").await.body;
    assert!(queue.contains(&format!("match-{pair}")) && queue.contains("Một cơ quan khác cho rằng"), "{queue}");
    let r = commune.post("/matches", &format!("/matches/{pair}"), &[("decision", "same")]).await;
    assert!(r.location.as_deref().unwrap_or_default().contains("match_same"), "{:?}", r.location);

    // The police's pair with the border guards' record: asked by the police, confirmed by the border guards.
    let police_page = police.get(&format!("/persons/{police_person}")).await.body;
    let mut linked_police = false;
    for pair in police_page.split("id=\"match-").skip(1).map(|s| s.split('"').next().expect("id").to_owned()) {
        police.post(&format!("/persons/{police_person}"), &format!("/matches/{pair}"), &[("decision", "same")]).await;
        let m = app.store.candidate(&pair).await.expect("read").expect("pair");
        if m.other(&police_person) == border_person {
            let r = border.post("/matches", &format!("/matches/{pair}"), &[("decision", "same")]).await;
            assert!(r.location.as_deref().unwrap_or_default().contains("match_same"), "{:?}", r.location);
            linked_police = true;
        }
    }
    assert!(linked_police, "the police were told of the border guards' record: {police_page}");

    // One person now: the province counts her once, each agency still counts what it holds.
    assert_eq!(received_in_march(&app, None).await, province_before + 1);
    let border_id = app.agency_id("border").await;
    assert!(received_in_march(&app, Some(&border_id)).await >= 1);
    let ones: Vec<Option<String>> = {
        let mut v = Vec::new();
        for id in [&commune_person, &border_person, &police_person] {
            v.push(app.store.one_person_of(id).await.expect("read"));
        }
        v
    };
    assert!(ones[0].is_some() && ones.iter().all(|o| *o == ones[0]), "{ones:?}");
    // Linked, now the holders know one another; each keeps its own record and its own access.
    let page = border.get(&format!("/persons/{border_person}")).await.body;
    let same_as: Vec<&str> =
        page.split("<li class=\"same-as\">").skip(1).filter_map(|s| s.split("</li>").next()).collect();
    assert!(same_as.iter().any(|s| s.contains("Ủy ban nhân dân xã Trà My")), "{same_as:?}");
    assert!(same_as.iter().any(|s| s.contains("Công an thành phố Đà Nẵng")), "{same_as:?}");
    assert!(same_as.iter().all(|s| !s.contains(&commune_code)), "linked, not opened: no code: {same_as:?}");
    assert_eq!(border.get(&format!("/persons/{commune_person}")).await.status, 403);
    assert_eq!(commune.get(&format!("/persons/{commune_person}")).await.status, 200);
});

story!(searches_find_a_person_by_name_and_reveal_nothing_of_records_the_searcher_may_not_open, |app| {
    let border = app.login("border.officer").await;
    let r = border
        .post(
            "/persons/new",
            "/persons",
            &[("full_name", "Hồ Thị Mai"), ("birth_date", "12/03/1998"), ("sex", "f"), ("id_number", "049198012345")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let id = r.location.expect("location").trim_start_matches("/persons/").split('?').next().expect("id").to_owned();
    let code = app.store.person(&id).await.expect("read").expect("person").case_code;

    // The holder finds her by name however it is typed, and is asked why.
    for typed in ["Ho Thi Mai 1998", "MAI HO THI", "hồ thị mai 12/03/1998", "Mai Ho"] {
        let found = border.post("/persons", "/persons/search", &[("q", typed), ("purpose", "case_work")]).await;
        assert_eq!(found.status, 200, "{typed}");
        assert!(found.body.contains(&code), "{typed}: {}", found.body);
    }
    let r = border.post("/persons", "/persons/search", &[("q", "Hồ Thị Mai"), ("purpose", "")]).await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("error-summary") && r.body.contains("value=\"Hồ Thị Mai\""), "{}", r.body);
    let r = border.post("/persons", "/persons/search", &[("q", "Mai"), ("purpose", "case_work")]).await;
    assert_eq!(r.status, 422, "one name part is no search");

    // A clerk of another agency learns nothing, by name or by number: not the record, its code, its commune or
    // its agency.
    let shelter = app.agency_id("shelter").await;
    let clerk = app.create_user("shelter.clerk2", &shelter, "clerk").await;
    for typed in ["Ho Thi Mai 1998", "MAI HO THI", "049198012345", &code] {
        let r = clerk.post("/persons", "/persons/search", &[("q", typed), ("purpose", "case_work")]).await;
        assert_eq!(r.status, 200, "{typed}");
        for secret in [code.as_str(), id.as_str(), "Biên phòng", "/break-glass"] {
            // What was typed is kept in the search box, and nowhere else.
            let echoed = usize::from(typed == secret);
            assert_eq!(r.body.matches(secret).count(), echoed, "{typed} reveals {secret}");
        }
        assert!(r.body.contains("Không có hồ sơ nào bạn được mở khớp"), "{typed}");
    }
    // The API answers the same.
    let c = app.client();
    let token = token_for(&app, "police.officer").await;
    let (status, body) =
        c.api_post(&token, "/api/v1/persons/search", &json!({"query": "MAI HO THI", "purpose": "case_work"})).await;
    assert_eq!((status, body["kind"].as_str(), body["items"].as_array().map(Vec::len)), (200, Some("name"), Some(0)));
    let (status, body) = c.api_post(&token, "/api/v1/persons/search", &json!({"query": "MAI HO THI"})).await;
    assert_eq!((status, body["fields"][0]["field"].as_str()), (422, Some("purpose")), "{body}");
    let token = token_for(&app, "border.officer").await;
    let (_, body) = c
        .api_post(&token, "/api/v1/persons/search", &json!({"query": "Ho Thi Mai 1998", "purpose": "case_work"}))
        .await;
    assert_eq!(body["items"][0]["case_code"].as_str(), Some(code.as_str()), "{body}");

    // Every search is audited with its purpose and a keyed hash of what was looked for; no name in the log.
    let entries = haven_store::audit::browse(&app.store.db, &Default::default(), 200).await.expect("audit");
    let searches: Vec<_> = entries.iter().filter(|e| e.action == "person.search").collect();
    assert!(searches.len() >= 10);
    assert!(searches
        .iter()
        .filter(|e| e.fields == "name")
        .all(|e| e.purpose == "case_work" && e.record_id.len() == 32));
    let log = format!("{entries:?}").to_lowercase();
    assert!(!log.contains("mai") && !log.contains("049198012345"));
});

story!(signals_of_other_agencies_records_are_limited_per_user_and_day, |app| {
    let border = app.login("border.officer").await;
    enter(&app, &border, "Lò Thị Xuân", "04/05/2001").await;
    let commune = app.login("pc-tramy.officer").await;
    let mut told = 0;
    let limit = haven_store::matches::SIGNALS_PER_DAY as usize;
    for _ in 0..=limit {
        let (_, _, page) = enter(&app, &commune, "Lo Thi Xuan", "04/05/2001").await;
        told += usize::from(page.contains(SIGNAL));
    }
    assert_eq!(told, limit, "the day's signals, then none");
    assert!(app.audit_actions().await.contains(&"match.withheld".to_owned()));
    // A new day gives new signals.
    app.advance(haven_domain::time::DAY + 1);
    let commune = app.login("pc-tramy.officer").await;
    let (_, _, page) = enter(&app, &commune, "Lo Thi Xuan", "04/05/2001").await;
    assert!(page.contains(SIGNAL));
});

story!(a_name_shared_by_hundreds_still_finds_the_one_meant, |app| {
    // Three hundred records of one common name and birth year: more than a search reads of any one key.
    let border = app.agency_id("border").await;
    let who = |year: u16| {
        haven_domain::person::IdentityInput {
            full_name: "Nguyễn Thị Hoa".into(),
            sex: "f".into(),
            birth_date: format!("{year}"),
            ..Default::default()
        }
        .validate(time::macros::date!(2026 - 06 - 01))
        .expect("valid")
    };
    let mut cmd = app.store.command(&haven_store::Actor::system("test")).await.expect("command");
    for _ in 0..300 {
        haven_store::persons::create(&mut cmd, &app.store.keys, &border, &who(1990)).await.expect("create");
    }
    let meant = haven_store::persons::create(&mut cmd, &app.store.keys, &border, &who(1991)).await.expect("create");
    cmd.audit(haven_store::Entry::new("test.fill", "person", "")).await.expect("audit");
    cmd.commit().await.expect("commit");
    let meant = app.store.person(&meant).await.expect("read").expect("stored").case_code;

    let c = app.client();
    let token = token_for(&app, "border.officer").await;
    let search = |typed: &'static str| {
        let (c, token) = (&c, &token);
        async move {
            let (status, body) =
                c.api_post(token, "/api/v1/persons/search", &json!({"query": typed, "purpose": "case_work"})).await;
            assert_eq!(status, 200, "{body}");
            body["items"]
                .as_array()
                .expect("items")
                .iter()
                .map(|i| i["case_code"].as_str().unwrap_or("").to_owned())
                .collect::<Vec<_>>()
        }
    };
    // With her birth year she comes first, although her whole name is shared by three hundred.
    let found = search("HOA NGUYEN THI 1991").await;
    assert_eq!(found.first(), Some(&meant), "{found:?}");
    // Without it, a full page of namesakes, no more.
    assert_eq!(search("Nguyen Thi Hoa").await.len(), 20);
});
