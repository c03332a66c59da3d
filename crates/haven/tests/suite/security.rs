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
});
