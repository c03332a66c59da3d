//! The security regression suite: each attack found on the demo province, repeated against both databases,
//! so that a fix cannot quietly come undone. `docs/security.md` names, for every promise Haven makes, the
//! test here (or elsewhere in the suite) that holds it.

use crate::harness::*;
use crate::story;
use crate::victims::{person, receive};

/// Record a consent on a victim case as `client`; the fields name the purpose and its target.
async fn consent(client: &Client, case: &str, fields: &[(&str, &str)]) {
    let mut form = vec![("given_by", "person"), ("given_on", "01/03/2026")];
    form.extend_from_slice(fields);
    let r = client.post(case, &format!("{case}/consents"), &form).await;
    assert_eq!(r.status, 303, "{}", r.body);
}

// Finding 1: a grant outlived the consent it rested on.
story!(access_on_a_consent_ends_when_the_consent_expires, |app| {
    let (_, code) = person(&app, "border.officer", "Lường Thị Ánh", "09/09/1996").await;
    let case = receive(&app, "border.officer", &code, &[]).await;
    let officer = app.login("border.officer").await;
    let (health, police) = (app.agency_id("health").await, app.agency_id("police").await);
    // Consent to share with the support authority until 10 March, and with the police open-ended for now.
    consent(&officer, &case, &[("purpose", "share_agency"), ("target_agency", &health), ("expires_on", "10/03/2026")])
        .await;

    // A grant cannot be made to last longer than its consent: refused, and nothing granted.
    let share = |days: &'static str| [("agency", "health"), ("purpose", "support"), ("days", days)];
    let r = officer.post(&case, &format!("{case}/grants"), &share("30")).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("hết hiệu lực trước ngày đó"), "says why");
    let case_id = case.trim_start_matches("/victims/");
    assert!(app.store.grants_on("victim_case", case_id).await.expect("grants").is_empty(), "nothing granted");
    let r = officer.post(&case, &format!("{case}/grants"), &share("5")).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let nurse = app.login("health.officer").await;
    assert_eq!(nurse.get(&case).await.status, 200);

    // A grant written before this rule (or by any other path) with a longer expiry still ends with the consent:
    // access is checked against the consent on every read, not only when the grant was made.
    sqlx_exec(&app.store.db, "UPDATE grants SET expires_at = expires_at + 25920000000").await;
    // (Each day is a new log-in: sessions end after a day idle.)
    app.advance(7 * DAY_MS);
    let nurse = app.login("health.officer").await;
    assert_eq!(nurse.get(&case).await.status, 200, "8 March: the consent still stands");
    app.advance(3 * DAY_MS);
    let nurse = app.login("health.officer").await;
    assert_eq!(nurse.get(&case).await.status, 403, "11 March: the consent expired on the 10th");
    let person_page =
        format!("/persons/{}", app.store.victim_case(case_id).await.expect("read").expect("case").person_id);
    assert_eq!(nurse.get(&person_page).await.status, 403, "the person record neither");
    let token = token_for(&app, "health.officer").await;
    let (status, _) = app.client().api_get(&token, &format!("/api/v1/victims/{case_id}")).await;
    assert_eq!(status, 403, "nor through the API");
    // Its owner sees the grant as ended, on the day the consent ended.
    let officer = app.login("border.officer").await;
    let page = officer.get(&case).await.body;
    assert!(page.contains("11/03/2026 00:00"), "ends when the consent ends");

    // A referral accepted on a consent that ends before the referral's due day opens the case until the
    // consent ends, not until the due day.
    consent(&officer, &case, &[("purpose", "share_agency"), ("target_agency", &police), ("expires_on", "15/03/2026")])
        .await;
    let form = [
        ("kind", "verification"),
        ("to_agency", police.as_str()),
        ("purpose", "Xác minh nhân thân"),
        ("due_on", "30/03/2026"),
    ];
    let r = officer.post(&case, &format!("{case}/referrals"), &form).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let referral = app.store.referrals_of_case(case_id).await.expect("referrals").remove(0);
    let cop = app.login("police.officer").await;
    assert_eq!(cop.post("/referrals", &format!("/referrals/{}/accept", referral.id), &[]).await.status, 303);
    assert_eq!(cop.get(&case).await.status, 200);
    app.advance(5 * DAY_MS);
    let cop = app.login("police.officer").await;
    assert_eq!(cop.get(&case).await.status, 403, "16 March: the consent ended on the 15th, the referral runs on");
});

// Finding 7: another agency holding its own case for the same person could withdraw a consent it never held.
story!(a_consent_is_withdrawn_only_through_the_agency_that_holds_it, |app| {
    let (person_id, code) = person(&app, "border.officer", "Sùng Thị Dợ", "02/02/2000").await;
    let case = receive(&app, "border.officer", &code, &[]).await;
    let guard = app.login("border.officer").await;
    let health = app.agency_id("health").await;
    consent(&guard, &case, &[("purpose", "share_agency"), ("target_agency", &health)]).await;
    // With that consent the border guards share the person with the support authority, which opens a case of
    // its own for her.
    let r = guard
        .post(
            &format!("/persons/{person_id}"),
            &format!("/persons/{person_id}/grants"),
            &[("agency", "health"), ("purpose", "support"), ("days", "30")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let theirs = receive(&app, "health.officer", &code, &[]).await;
    assert_ne!(theirs, case);
    let nurse = app.login("health.officer").await;
    let held = app.store.consents(&person_id).await.expect("consents").remove(0);
    assert_eq!(held.agency_id.as_deref(), Some(app.agency_id("border").await.as_str()));
    // The support authority sees the consent, held by the border guards, with no way to withdraw it.
    let page = nurse.get(&format!("{theirs}?open=consents")).await.body;
    assert!(page.contains("Cơ quan lưu giữ"), "says who holds it");
    assert!(!page.contains(&format!("/consents/{}/withdraw", held.id)), "offers no withdrawal");
    // A forged withdrawal is refused and changes nothing.
    let r = nurse.post(&theirs, &format!("{theirs}/consents/{}/withdraw", held.id), &[]).await;
    assert_eq!(r.status, 404, "{}", r.body);
    let after = app.store.consents(&person_id).await.expect("consents").remove(0);
    assert_eq!(after.withdrawn_on, None, "still in force");
    assert!(app.store.grants_on("person", &person_id).await.expect("grants").iter().all(|g| g.revoked_at.is_none()));
    // The holder withdraws it, and the access that rested on it ends.
    let r = guard.post(&case, &format!("{case}/consents/{}/withdraw", held.id), &[]).await;
    assert_eq!(r.status, 303);
    assert!(app.store.grants_on("person", &person_id).await.expect("grants").iter().all(|g| g.revoked_at.is_some()));
});

/// The error a log-in page answers with, without the parts that change on every page (tokens, request ids).
fn login_error(body: &str) -> String {
    let start = body.find("class=\"field-error\"").expect("a field error");
    let end = body[start..].find("</p>").expect("its end") + start;
    body[start..end].to_owned()
}

// Finding 5: after five wrong passwords a real account answered "locked" while an unknown name never did, and
// anyone could keep any account locked.
story!(log_in_tells_nothing_of_accounts_and_strangers_cannot_lock_officials_out, |app| {
    let stranger = Client::from_addr(&app.base, "203.0.113.66");
    let official = Client::from_addr(&app.base, "198.51.100.7");
    let mut answers = Vec::new();
    for _ in 0..7 {
        for name in ["border.officer", "no.such.account"] {
            let r = stranger.login(name, "guessing password 1").await;
            answers.push((r.status, login_error(&r.body)));
        }
    }
    // The correct password from the stranger's address now fails too, answering as every other failure does.
    let r = stranger.login("border.officer", PASSWORD).await;
    answers.push((r.status, login_error(&r.body)));
    let first = answers[0].clone();
    assert_eq!(first.0, 401);
    assert!(answers.iter().all(|a| *a == first), "one answer for unknown, wrong and locked: {answers:?}");
    // The official, from her own address, is not locked out by the stranger's guesses.
    assert_eq!(official.login("border.officer", PASSWORD).await.status, 303);
    // The guesses are in the audit log, the locked ones and the unknown names too (never the name typed).
    let actions = app.audit_actions().await;
    for a in ["auth.login_failed", "auth.login_locked", "auth.login_unknown"] {
        assert!(actions.iter().any(|x| x == a), "{a} audited");
    }
    let ids = haven_store::testing::column_text(&app.store.db, "audit_log", "record_id").await.expect("ids");
    assert!(!ids.iter().any(|id| id.contains("no.such.account")), "the name typed is not kept");
    // A new password set by an administrator lifts the stranger's lock as well (the account's every lock).
    app.advance(2 * haven_domain::time::HOUR);
    assert_eq!(stranger.login("border.officer", PASSWORD).await.status, 303, "the back-off ends");
    // Counts fade: a source quiet for a day starts again, and its row goes (the table does not keep every
    // address that ever mistyped).
    let typo = Client::from_addr(&app.base, "192.0.2.1");
    typo.login("border.officer", "mistyped password").await;
    let rows = |app: &TestApp| {
        let db = app.store.db.clone();
        async move {
            haven_store::testing::scalar_i64(&db, "SELECT COUNT(*) FROM login_throttle WHERE source = '192.0.2.1'")
                .await
                .expect("count")
        }
    };
    assert_eq!(rows(&app).await, 1);
    app.advance(25 * haven_domain::time::HOUR);
    Client::from_addr(&app.base, "198.51.100.99").login("border.officer", "another mistake").await;
    assert_eq!(rows(&app).await, 0, "forgotten after a quiet day");
});

// Finding 4: the system administrator gave itself the officer role, broke the glass on a border guards' victim
// and read her name and ID number.
story!(the_administrator_reads_no_victim_and_identity_roles_need_a_second_person, |app| {
    let admin = app.login("admin").await;
    let own = app.user_id("admin").await;
    let roles_of = |name: &'static str| {
        let app = &app;
        async move { app.store.user_by_name(name).await.expect("read").expect("user").roles }
    };
    // Never one's own roles, and never an administrator with a case role or the auditor's.
    let page = format!("/admin/users/{own}");
    let r = admin.post(&page, &format!("{page}/roles"), &[("role", "admin"), ("role", "officer")]).await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("Bạn không thể tự thay đổi vai trò của mình"), "says why");
    let admin_agency = app.store.user(&own).await.expect("read").expect("admin").agency_id;
    app.create_user("second.admin", &admin_agency, "admin").await;
    let second = app.user_id("second.admin").await;
    let page2 = format!("/admin/users/{second}");
    for role in ["officer", "head", "clerk", "auditor"] {
        let r = admin.post(&page2, &format!("{page2}/roles"), &[("role", "admin"), ("role", role)]).await;
        assert_eq!(r.status, 422, "admin with {role}");
        assert!(r.body.contains("không được kiêm vai trò xử lý vụ việc"));
    }
    assert_eq!(roles_of("second.admin").await, vec![haven_domain::Role::SystemAdmin], "unchanged");

    // Giving a clerk the officer's role is a request until a second person approves it.
    let clerk = app.user_id("border.clerk").await;
    let cpage = format!("/admin/users/{clerk}");
    let r = admin.post(&cpage, &format!("{cpage}/roles"), &[("role", "clerk"), ("role", "officer")]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert!(r.location.as_deref().unwrap_or("").contains("done=roles_pending"));
    assert_eq!(roles_of("border.clerk").await, vec![haven_domain::Role::DataClerk], "not given yet");
    let shown = admin.get(&cpage).await.body;
    assert!(shown.contains("id=\"pending-roles\"") && shown.contains("Chờ một quản trị viên khác"), "waits");
    // Whoever asked cannot approve; neither can another agency's head.
    let request = app.store.pending_role_request_of(&clerk).await.expect("read").expect("pending");
    assert!(admin.get("/roles/requests").await.body.contains("id=\"no-role-requests\""));
    let approve = format!("/roles/requests/{}/approve", request.id);
    assert_eq!(admin.post("/roles/requests", &approve, &[]).await.status, 403);
    let police_head = app.login("police.head").await;
    assert_eq!(police_head.post("/roles/requests", &approve, &[]).await.status, 403);
    assert_eq!(roles_of("border.clerk").await, vec![haven_domain::Role::DataClerk], "still not given");
    // The border guards' head finds it on the home page and approves it.
    let head = app.login("border.head").await;
    assert!(head.get("/").await.body.contains("id=\"task-role_requests\""), "a task on the home page");
    let list = head.get("/roles/requests").await.body;
    assert!(list.contains("border.clerk") && list.contains(&approve), "{list}");
    let r = head.post("/roles/requests", &approve, &[]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let mut now = roles_of("border.clerk").await;
    now.sort();
    assert_eq!(now, vec![haven_domain::Role::CaseOfficer, haven_domain::Role::DataClerk]);
    let again = head.post("/roles/requests", &approve, &[]).await;
    assert_eq!(again.status, 422, "answered once");
    assert!(again.body.contains("href=\"#role-requests-title\"") && again.body.contains("id=\"role-requests-title\""));
    let actions = app.audit_actions().await;
    assert!(actions.iter().any(|a| a == "user.roles_request") && actions.iter().any(|a| a == "user.roles_approve"));

    // Through the API the same: 202 with the roles asked for, nothing given.
    let token = token_for(&app, "admin").await;
    let officer_id = app.user_id("women.officer").await;
    let (status, body) = app
        .client()
        .api_put(
            &token,
            &format!("/api/v1/admin/users/{officer_id}/roles"),
            &serde_json::json!({"roles": ["agency_head"]}),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["pending_roles"], serde_json::json!(["agency_head"]));
    assert_eq!(body["roles"], serde_json::json!(["case_officer"]));

    // An officer's role written next to the administrator's by hand gives the administrator nothing: no
    // person, no victim, no break-the-glass.
    sqlx_exec(&app.store.db, &format!("INSERT INTO user_roles (user_id, role) VALUES ('{own}', 'officer')")).await;
    let admin = app.login("admin").await;
    let person = app.a_person_of("border").await;
    let path = format!("/persons/{person}");
    assert_eq!(admin.get("/persons").await.status, 403);
    assert_eq!(admin.get(&path).await.status, 403);
    let reason = "Kiểm tra hệ thống, cần xem hồ sơ ngay lập tức";
    let r = admin.post_raw(&format!("{path}/break-glass"), &[("reason", reason), ("minutes", "30")]).await;
    assert!(r.status == 403 || r.status == 400, "{}", r.status);
    assert_eq!(admin.get(&path).await.status, 403, "no window opened");
    assert!(app.store.break_glass_on_agency(&app.agency_id("border").await, 10).await.expect("bg").is_empty());
});

// Attacks that passed, kept passing: script in free text, a session chosen by the attacker, paths that climb
// out of the static folder, and writes to another agency's records by id.
story!(scripts_fixed_sessions_climbing_paths_and_foreign_ids_get_nowhere, |app| {
    const SCRIPT: &str = "<script>alert(1)</script>";
    // Script typed into free text comes back as text, on the page and in the search box.
    let clerk = app.login("police.clerk").await;
    let summary = format!("Tin báo {SCRIPT} \"quoted' <img src=x onerror=alert(2)>");
    let r = clerk
        .post(
            "/reports/new",
            "/reports",
            &[
                ("kind", "denunciation"),
                ("channel", "hotline"),
                ("received_date", "01/03/2026"),
                ("received_time", "08:15"),
                ("reporter_name", "Lê Văn Tâm"),
                ("summary", &summary),
                ("commune_code", "20900"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let report = r.location.expect("location").split('?').next().expect("path").to_owned();
    let officer = app.login("police.officer").await;
    for page in [report.clone(), "/reports".into()] {
        let body = officer.get(&page).await.body;
        assert!(!body.contains(SCRIPT) && !body.contains("<img src=x"), "{page} runs what was typed");
    }
    let (id, _) = person(&app, "border.officer", &format!("Lò Thị {SCRIPT}"), "01/01/1990").await;
    let guard = app.login("border.officer").await;
    let searched = guard.post("/persons", "/persons/search", &[("q", SCRIPT), ("purpose", "case_work")]).await;
    assert!(!searched.body.contains(SCRIPT), "the search box echoes it as text");
    let r =
        guard.post(&format!("/persons/{id}"), &format!("/persons/{id}/reveal"), &[("purpose", "verification")]).await;
    assert_eq!(r.status, 200);
    assert!(
        !r.body.contains(SCRIPT) && r.body.contains("&#60;script&#62;alert(1)"),
        "the opened identity shows it as text"
    );

    // A session id chosen by the attacker and planted before log-in is never honoured, and log-in issues a
    // new one.
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    let planted = "haven_session=attacker-chosen-session-id-0000000000";
    let page = http.get(app.url("/login")).header("cookie", planted).send().await.expect("login page");
    let pre = page
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("haven_pre="))
        .map(|v| v.split(';').next().unwrap_or("").to_owned())
        .expect("pre-session cookie");
    let csrf = Client::csrf_of(&page.text().await.expect("body"));
    let r = http
        .post(app.url("/login"))
        .header("cookie", format!("{planted}; haven_pre={pre}"))
        .form(&[("csrf", csrf.as_str()), ("username", "police.officer"), ("password", PASSWORD)])
        .send()
        .await
        .expect("log in");
    assert_eq!(r.status(), 303);
    let issued = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("haven_session="))
        .map(|v| v.split(';').next().unwrap_or("").to_owned())
        .expect("a session cookie");
    assert!(!issued.is_empty() && !planted.ends_with(&issued), "a new session id at log-in");
    let with_planted = http.get(app.url("/")).header("cookie", planted).send().await.expect("home");
    assert_eq!(with_planted.status(), 303, "the planted id opens nothing");

    // Paths that climb out of the static folder find nothing.
    for path in ["/static/../Cargo.toml", "/static/%2e%2e/%2e%2e/Cargo.toml", "/static/..%2f..%2fCargo.toml"] {
        let r = app.client().get(path).await;
        assert!(r.status == 404 || r.status == 400, "{path}: {}", r.status);
        assert!(!r.body.contains("[package]") && !r.body.contains("[workspace]"), "{path}");
    }

    // Another agency's records, written to by id: refused, and nothing changes.
    let case =
        receive(&app, "border.officer", &person(&app, "border.officer", "Vì Thị Lả", "03/03/1993").await.1, &[]).await;
    let nurse = app.login("health.officer").await;
    let before = app.audit_actions().await.len();
    // The nurse's own page gives her a valid CSRF token: only the record's access check stands in the way.
    let csrf = Client::csrf_of(&nurse.get("/").await.body);
    let forms: [(String, Vec<(&str, &str)>); 4] = [
        (format!("{case}/steps"), vec![("kind", "verification"), ("on", "01/03/2026"), ("officer", "x")]),
        (
            format!("{case}/consents"),
            vec![("purpose", "statistics"), ("given_by", "person"), ("given_on", "01/03/2026")],
        ),
        (format!("{case}/grants"), vec![("agency", "health"), ("purpose", "support"), ("days", "30")]),
        (
            format!("{report}/classify"),
            vec![("outcome", "offence"), ("offence_code", "150"), ("reason", "Có dấu hiệu mua bán người")],
        ),
    ];
    for (action, form) in forms {
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend(form);
        let r = nurse.post_raw(&action, &all).await;
        assert_eq!(r.status, 403, "{action}");
    }
    let after = app.audit_actions().await;
    assert!(
        after[before..]
            .iter()
            .all(|a| !a.starts_with("victim.") && !a.starts_with("consent.") && !a.starts_with("grant.")),
        "{:?}",
        &after[before..]
    );
});
