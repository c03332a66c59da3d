//! Sessions and the second factor: CSRF on every form, lock-out with back-off, expiry, revocation on
//! password change, TOTP enrolment and log-in with replay refused, recovery codes, per-role requirement.

use crate::harness::*;
use crate::story;

/// The current TOTP code for a base32 secret at the app's clock.
pub fn totp_code(secret_b32: &str, at_ms: i64) -> String {
    let secret = totp_rs::Secret::Encoded(secret_b32.to_owned()).to_bytes().expect("base32");
    totp_rs::TOTP::new(totp_rs::Algorithm::SHA1, 6, 1, 30, secret).expect("totp").generate((at_ms / 1000) as u64)
}

pub fn between<'a>(body: &'a str, start: &str, end: &str) -> &'a str {
    let a = body.find(start).unwrap_or_else(|| panic!("{start} not in page")) + start.len();
    &body[a..a + body[a..].find(end).expect("end")]
}

/// Enrol the client's user in TOTP; returns the base32 secret and the recovery codes.
pub async fn enrol(app: &TestApp, c: &Client) -> (String, Vec<String>) {
    let page = c.get("/account/totp").await;
    assert_eq!(page.status, 200);
    let b32 = between(&page.body, "id=\"totp-secret\">", "<").to_owned();
    let b64 = between(&page.body, "name=\"secret\" value=\"", "\"").to_owned();
    let token = Client::csrf_of(&page.body);
    let wrong = c.post_raw("/account/totp", &[("csrf", &token), ("secret", &b64), ("code", "000000")]).await;
    assert_eq!(wrong.status, 422);
    let code = totp_code(&b32, app.store.now());
    let done = c.post_raw("/account/totp", &[("csrf", &token), ("secret", &b64), ("code", &code)]).await;
    assert_eq!(done.status, 200, "{}", done.body);
    let codes: Vec<String> = between(&done.body, "id=\"recovery-codes\">", "</ul>")
        .split("<li>")
        .filter_map(|s| s.split("</li>").next())
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    assert_eq!(codes.len(), 10);
    (b32, codes)
}

story!(csrf_less_posts_are_refused_and_change_nothing, |app| {
    let c = app.login("police.officer").await;
    let before = app.count_persons("police").await;
    let r = c.post_raw("/persons", &[("full_name", "Lê Văn Tám"), ("sex", "m")]).await;
    assert_eq!(r.status, 403);
    assert!(r.body.contains("Biểu mẫu đã hết hạn hoặc không hợp lệ"));
    let r = c.post_raw("/persons", &[("csrf", "forged"), ("full_name", "Lê Văn Tám"), ("sex", "m")]).await;
    assert_eq!(r.status, 403);
    assert_eq!(app.count_persons("police").await, before);
    // Log-in itself is protected too.
    let fresh = app.client();
    assert_eq!(fresh.post_raw("/login", &[("username", "police.officer"), ("password", PASSWORD)]).await.status, 403);
});

story!(lockout_backs_off_after_repeated_failures, |app| {
    let c = app.client();
    for _ in 0..5 {
        let r = c.login("border.officer", "wrong password!").await;
        assert_eq!(r.status, 401);
        assert!(r.body.contains("Tên đăng nhập hoặc mật khẩu không đúng"));
    }
    let locked = c.login("border.officer", PASSWORD).await;
    assert_eq!(locked.status, 401, "locked even with the right password, and saying no more than a failure");
    assert!(locked.body.contains("hoặc đã nhập sai quá nhiều lần"));
    app.advance(61_000);
    assert_eq!(c.login("border.officer", PASSWORD).await.status, 303, "unlocked after the back-off");
    // Unknown users get the same answer as wrong passwords.
    let r = c.login("nobody.here", "whatever password").await;
    assert_eq!(r.status, 401);
    assert!(r.body.contains("Tên đăng nhập hoặc mật khẩu không đúng"));
});

story!(sessions_expire_when_idle_and_end_on_password_change, |app| {
    let c = app.login("police.officer").await;
    assert_eq!(c.get("/").await.status, 200);
    app.advance(31 * 60_000);
    assert_eq!(c.get("/").await.status, 303, "idle for 31 minutes");
    let c = app.login("police.officer").await;
    let other = app.login("police.officer").await;
    let bad = c
        .post(
            "/account",
            "/account/password",
            &[("current", PASSWORD), ("new_password", "short"), ("confirm", "short")],
        )
        .await;
    assert_eq!(bad.status, 422);
    let ok = c
        .post(
            "/account",
            "/account/password",
            &[("current", PASSWORD), ("new_password", "một câu mật khẩu mới"), ("confirm", "một câu mật khẩu mới")],
        )
        .await;
    assert_eq!(ok.status, 303);
    assert_eq!(other.get("/").await.status, 303, "other sessions ended");
    assert_eq!(c.get("/").await.status, 303, "this one too");
    assert_eq!(app.client().login("police.officer", PASSWORD).await.status, 401);
    assert_eq!(app.client().login("police.officer", "một câu mật khẩu mới").await.status, 303);
});

story!(totp_log_in_with_replay_refused_and_recovery_codes, |app| {
    let c = app.login("health.head").await;
    let (secret, codes) = enrol(&app, &c).await;
    assert_eq!(c.post("/", "/logout", &[]).await.status, 303);
    let c = app.client();
    let r = c.login("health.head", PASSWORD).await;
    assert_eq!(r.status, 303);
    assert!(r.location.as_deref().unwrap_or("").starts_with("/login/totp"));
    assert_eq!(c.get("/").await.status, 303, "no access before the second factor");
    // The code used at enrolment cannot be replayed; the next step's code works once.
    let used = totp_code(&secret, app.store.now());
    assert_eq!(c.post("/login/totp", "/login/totp", &[("code", &used)]).await.status, 401);
    app.advance(30_000);
    let code = totp_code(&secret, app.store.now());
    let ok = c.post("/login/totp", "/login/totp", &[("code", &code)]).await;
    assert_eq!(ok.status, 303, "{}", ok.body);
    assert_eq!(c.get("/").await.status, 200);
    let c2 = app.client();
    c2.login("health.head", PASSWORD).await;
    assert_eq!(c2.post("/login/totp", "/login/totp", &[("code", &code)]).await.status, 401, "replay refused");
    // A recovery code works once.
    let c3 = app.client();
    c3.login("health.head", PASSWORD).await;
    assert_eq!(c3.post("/login/totp", "/login/totp", &[("code", &codes[0])]).await.status, 303);
    let c4 = app.client();
    c4.login("health.head", PASSWORD).await;
    assert_eq!(c4.post("/login/totp", "/login/totp", &[("code", &codes[0])]).await.status, 401);
});

story!(administrator_can_require_totp_for_a_role, |app| {
    let admin = app.login("admin").await;
    let r = admin.post("/admin/security", "/admin/security", &[("role", "head")]).await;
    assert_eq!(r.status, 303);
    let head = app.login("police.head").await;
    let r = head.get("/persons").await;
    assert_eq!((r.status, r.location.as_deref()), (303, Some("/account/totp")));
    let page = head.get("/account/totp").await;
    assert!(page.body.contains("bắt buộc xác thực hai lớp"));
    enrol(&app, &head).await;
    assert_eq!(head.get("/persons").await.status, 200);
    // Officers are not affected.
    assert_eq!(app.login("police.officer").await.get("/persons").await.status, 200);
    // The required factor cannot be turned off.
    let off = head.post("/account", "/account/totp/disable", &[("current", PASSWORD)]).await;
    assert_eq!(off.status, 422);
});

story!(disabled_users_cannot_log_in_and_lose_their_sessions, |app| {
    let c = app.login("women.officer").await;
    let admin = app.login("admin").await;
    let id = app.user_id("women.officer").await;
    let r = admin.post(&format!("/admin/users/{id}"), &format!("/admin/users/{id}/status"), &[("disabled", "1")]).await;
    assert_eq!(r.status, 303);
    assert_eq!(c.get("/").await.status, 303);
    assert_eq!(app.client().login("women.officer", PASSWORD).await.status, 401);
    let own = app.user_id("admin").await;
    let r =
        admin.post(&format!("/admin/users/{own}"), &format!("/admin/users/{own}/status"), &[("disabled", "1")]).await;
    assert_eq!(r.status, 422, "an administrator cannot lock themselves out");
});

story!(second_factor_guesses_count_and_the_password_step_expires, |app| {
    let c = app.login("shelter.head").await;
    let (secret, _) = enrol(&app, &c).await;
    // Wrong codes count with the password attempts, even when the password is typed again between guesses:
    // the account locks after a handful.
    let mut guesses = 0;
    for _ in 0..10 {
        let fresh = app.client();
        let r = fresh.login("shelter.head", PASSWORD).await;
        if r.status == 401 {
            break;
        }
        assert_eq!(r.status, 303);
        assert_eq!(fresh.post("/login/totp", "/login/totp", &[("code", "000000")]).await.status, 401);
        guesses += 1;
    }
    assert!((1..=5).contains(&guesses), "{guesses} second-factor guesses before the lock");
    let fresh = app.client();
    assert_eq!(fresh.login("shelter.head", PASSWORD).await.status, 401, "locked");
    app.advance(16 * 60_000);
    // The password step waits five minutes for its code, no longer.
    let slow = app.client();
    assert_eq!(slow.login("shelter.head", PASSWORD).await.status, 303);
    app.advance(6 * 60_000);
    let code = totp_code(&secret, app.store.now());
    let late = slow.post("/login/totp", "/login/totp", &[("code", &code)]).await;
    assert_eq!(late.status, 303);
    assert!(late.location.as_deref().unwrap_or("").starts_with("/login?"), "sent back to log in");
    assert_eq!(slow.get("/").await.status, 303);
    // A working second factor cannot be swapped without turning it off (which asks for the password).
    let c = app.client();
    c.login("shelter.head", PASSWORD).await;
    app.advance(30_000);
    assert_eq!(
        c.post("/login/totp", "/login/totp", &[("code", &totp_code(&secret, app.store.now()))]).await.status,
        303
    );
    let page = c.get("/account/totp").await;
    assert_eq!(page.status, 303, "enrolment page closed while the factor is on");
    let token = Client::csrf_of(&c.get("/account").await.body);
    let swap = c
        .post_raw("/account/totp", &[("csrf", &token), ("secret", "AAAAAAAAAAAAAAAAAAAAAAAAAAA="), ("code", "123456")])
        .await;
    assert_eq!((swap.status, swap.location.as_deref()), (303, Some("/account")));
});

story!(log_in_only_returns_to_local_pages, |app| {
    for (next, expected) in
        [("/persons", "/persons"), ("//evil.example", "/"), ("/\t/evil.example", "/"), ("https://evil.example", "/")]
    {
        let c = app.client();
        let r =
            c.post("/login", "/login", &[("username", "police.officer"), ("password", PASSWORD), ("next", next)]).await;
        assert_eq!((r.status, r.location.as_deref()), (303, Some(expected)), "{next:?}");
    }
});

story!(parallel_password_guesses_cannot_outrun_the_lock, |app| {
    let mut tasks = Vec::new();
    for i in 0..20 {
        let c = app.client();
        tasks.push(tokio::spawn(async move { c.login("court.officer", &format!("guess number {i}")).await.status }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.expect("task"));
    }
    assert!(statuses.iter().all(|s| *s == 401), "{statuses:?}");
    // Each password actually checked (and found wrong) is audited; a refusal under the lock is audited apart.
    let actions = app.audit_actions().await;
    let checked = actions.iter().filter(|a| *a == "auth.login_failed").count();
    let refused = actions.iter().filter(|a| *a == "auth.login_locked").count();
    assert_eq!(checked + refused, 20, "{actions:?}");
    assert!(checked <= 5, "only five passwords are tried before the lock, got {checked}");
});
