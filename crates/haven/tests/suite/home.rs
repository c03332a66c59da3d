//! The home page of each role: the menu shows what the user's role and agency work on, the task list says
//! what waits for them (with how many and since or until when), and each task leads to where it is done.

use crate::harness::*;
use crate::story;

/// How many items the home page's task `code` counts; 0 when the task is not listed.
fn count(home: &str, code: &str) -> i64 {
    let Some(rest) = home.split(&format!("id=\"count-{code}\">")).nth(1) else { return 0 };
    let n = rest.split('<').next().expect("count").replace(['.', ','], "");
    n.trim_end_matches('+').parse().unwrap_or_else(|_| panic!("a number for {code}: {n}"))
}

fn path_of(r: &Resp) -> String {
    r.location.as_deref().expect("location").split('?').next().expect("path").to_owned()
}

/// Whether the page's menu links to `href`.
fn in_menu(page: &str, href: &str) -> bool {
    let nav = page.split("<nav").nth(1).and_then(|n| n.split("</nav>").next()).expect("a menu");
    nav.contains(&format!("href=\"{href}\""))
}

/// A user, the menu entries they have, those they have not, and the ids of the links they start work from.
type Expected = (&'static str, &'static [&'static str], &'static [&'static str], &'static [&'static str]);

story!(each_role_sees_the_menu_and_starts_of_its_own_work, |app| {
    let cases: [Expected; 8] = [
        (
            "police.officer",
            &["/reports", "/cases", "/victims", "/persons"],
            &["/absentees", "/handovers"],
            &["start-report", "start-victim", "start-find_person"],
        ),
        (
            "border.officer",
            &["/handovers", "/cooperation", "/matches", "/victims"],
            &["/absentees"],
            &["start-handover"],
        ),
        (
            "pc-tramy.officer",
            &["/absentees", "/matches", "/victims"],
            &["/reports", "/cases", "/handovers"],
            &["start-absentee", "start-import_absentees"],
        ),
        ("shelter.officer", &["/victims", "/referrals"], &["/reports", "/matches", "/absentees"], &["start-victim"]),
        ("procuracy.officer", &["/reports", "/cases"], &["/victims", "/absentees"], &[]),
        (
            "province.analyst",
            &["/indicators", "/plans", "/statistics", "/exports"],
            &["/persons", "/victims"],
            &["start-indicators"],
        ),
        ("province.auditor", &["/audit"], &["/persons", "/indicators"], &["start-audit", "start-audit_verify"]),
        ("admin", &["/admin/users", "/admin/agencies"], &["/persons", "/victims", "/audit"], &["start-users"]),
    ];
    for (user, shown, hidden, starts) in cases {
        let home = app.login(user).await.get("/").await;
        assert_eq!(home.status, 200, "{user}");
        for href in shown {
            assert!(in_menu(&home.body, href), "{user} has {href} in the menu");
        }
        for href in hidden {
            assert!(!in_menu(&home.body, href), "{user} has no {href} in the menu");
        }
        for id in starts {
            assert!(home.body.contains(&format!("id=\"{id}\"")), "{user} may start {id}");
        }
    }
    // Those without queues get no task list at all; an officer with nothing waiting is told so.
    for user in ["province.analyst", "province.auditor", "admin", "pc-tramy.clerk"] {
        assert!(!app.login(user).await.get("/").await.body.contains("id=\"no-tasks\""), "{user}");
    }
    let court = app.login("court.officer").await.get("/").await.body;
    assert!(court.contains("id=\"no-tasks\"") && !court.contains("id=\"task-"), "{court}");
    // English follows the user's language.
    let c = app.login("border.officer").await;
    c.post("/", "/language", &[("lang", "en"), ("back", "/")]).await;
    assert!(c.get("/").await.body.contains("Record a handover of citizens"));
});

story!(tasks_count_what_waits_and_lead_to_it, |app| {
    // A border guard records a returned citizen: one more to screen, waiting since today.
    let border = app.login("border.officer").await;
    let before = count(&border.get("/").await.body, "returnees_to_screen");
    let batch = [("handed_on", "27/02/2026"), ("gate", "nam_giang"), ("country", "LA"), ("authority", "Công an tỉnh")];
    let batch = path_of(&border.post("/handovers", "/handovers", &batch).await);
    let person = [("full_name", "LAU THI DUA"), ("birth_date", "14/08/2001"), ("sex", "f")];
    assert_eq!(border.post(&batch, &format!("{batch}/people"), &person).await.status, 303);
    let home = border.get("/").await.body;
    assert_eq!(count(&home, "returnees_to_screen"), before + 1, "{home}");
    assert!(home.contains("href=\"/handovers\"") && home.contains("chờ từ 01/03/2026"), "{home}");

    // The commune holds her as an absentee; a review round is running: she waits to be reviewed by its end.
    let commune = app.login("pc-tramy.officer").await;
    let absentee = [
        ("full_name", "Lầu Thị Dua"),
        ("birth_date", "14/08/2001"),
        ("sex", "f"),
        ("commune_code", "20900"),
        ("absent_since", "2024"),
    ];
    assert_eq!(commune.post("/absentees/new", "/absentees", &absentee).await.status, 303);
    let round = [("name", "Rà soát quý I/2026"), ("starts_on", "01/01/2026"), ("ends_on", "31/03/2026")];
    assert_eq!(commune.post("/absentees/rounds", "/absentees/rounds", &round).await.status, 303);
    let home = commune.get("/").await.body;
    assert!(count(&home, "absentees_to_review") >= 1, "{home}");
    assert!(home.contains("hạn sớm nhất 31/03/2026"), "{home}");

    // The border guard says the two are one person: the commune is asked to confirm, and nobody else is.
    let queue = border.get("/matches").await.body;
    let pair = queue.split("id=\"match-").nth(1).expect("a pair").split('"').next().expect("id").to_owned();
    assert_eq!(border.post("/matches", &format!("/matches/{pair}"), &[("decision", "same")]).await.status, 303);
    let home = commune.get("/").await.body;
    assert_eq!(count(&home, "matches_to_confirm"), 1, "{home}");
    assert_eq!(count(&border.get("/").await.body, "matches_to_confirm"), 0, "the border guard has said its word");
    assert_eq!(count(&app.login("police.officer").await.get("/").await.body, "matches_to_confirm"), 0);
    assert_eq!(commune.post("/matches", &format!("/matches/{pair}"), &[("decision", "same")]).await.status, 303);
    assert_eq!(count(&commune.get("/").await.body, "matches_to_confirm"), 0, "confirmed: no longer waiting");

    // A break-the-glass access waits for the owner's head, and after a week it is the auditor's business.
    let person = app.a_person_of("police").await;
    let path = format!("/persons/{person}");
    let reason = [("reason", "Tiếp nhận tại cửa khẩu, cần xác minh nhân thân ngay"), ("minutes", "30")];
    let glass = format!("{path}/break-glass");
    assert_eq!(border.post(&glass, &glass, &reason).await.status, 303);
    let head = app.login("police.head").await.get("/").await.body;
    assert_eq!(count(&head, "break_glass_to_review"), 1, "{head}");
    assert!(!app.login("province.auditor").await.get("/").await.body.contains("task-break_glass_unreviewed"));
    app.advance(8 * 24 * 3_600_000);
    let auditor = app.login("province.auditor").await.get("/").await.body;
    assert_eq!(count(&auditor, "break_glass_unreviewed"), 1, "{auditor}");
    assert!(auditor.contains("class=\"late\"") && auditor.contains("href=\"/audit?action=break_glass.open\""));
});
