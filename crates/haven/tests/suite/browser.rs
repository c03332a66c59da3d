//! What a person does in the pages, in headless Chromium: log in with a second factor, switch language,
//! be refused a form without its CSRF token, be asked for a reason before breaking the glass, log out; read a
//! plan's dashboard, download its report and publish the public statistics.

use std::process::{Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

use crate::harness::*;

struct Browser {
    client: Client,
    driver: Proc,
    /// Where downloads land (inside the profile).
    downloads: std::path::PathBuf,
    _profile: TempDir,
}

impl Browser {
    async fn close(mut self) {
        let _ = self.client.close().await;
        self.driver.kill();
    }
}

fn chromedriver() -> Option<String> {
    let path = std::env::var("HAVEN_TEST_CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into());
    let found = Command::new(&path)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if found {
        return Some(path);
    }
    assert!(
        !in_ci(),
        "chromedriver not found: browser tests cannot run in CI without it (apt-get install chromium chromium-driver)"
    );
    eprintln!("NOT RUN: browser story (install chromium and chromium-driver, or set HAVEN_TEST_CHROMEDRIVER)");
    None
}

async fn browser() -> Option<Browser> {
    browser_with(None).await
}

/// A browser whose screen is `(width, height)` CSS pixels of a phone (touch, mobile layout), or a desktop
/// window.
async fn browser_with(phone: Option<(u32, u32)>) -> Option<Browser> {
    let driver_path = chromedriver()?;
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
    let driver = Proc::spawn(
        Command::new(driver_path).arg(format!("--port={port}")).stdout(Stdio::null()).stderr(Stdio::null()),
    );
    let profile = TempDir::new("chromium");
    let mut opts = json!({
        "args": [
            "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
            "--disable-quic", format!("--user-data-dir={}", profile.path().display())
        ]
    });
    let (width, height) = phone.unwrap_or((1200, 900));
    opts["args"].as_array_mut().expect("args").push(json!(format!("--window-size={width},{height}")));
    if let Some((width, height)) = phone {
        opts["mobileEmulation"] = json!({ "deviceMetrics": { "width": width, "height": height, "pixelRatio": 1.0 } });
    }
    let downloads = profile.path().join("downloads");
    std::fs::create_dir_all(&downloads).expect("downloads folder");
    opts["prefs"] = json!({
        "download.default_directory": downloads.display().to_string(),
        "download.prompt_for_download": false,
    });
    for bin in ["/usr/bin/chromium", "/usr/bin/chromium-browser"] {
        if std::path::Path::new(bin).exists() {
            opts["binary"] = json!(bin);
            break;
        }
    }
    let mut caps = serde_json::Map::new();
    caps.insert("goog:chromeOptions".into(), opts);
    let url = format!("http://127.0.0.1:{port}");
    for _ in 0..100 {
        let builder = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps.clone())
            .connect(&url)
            .await;
        if let Ok(client) = builder {
            return Some(Browser { client, driver, downloads, _profile: profile });
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("could not start a Chromium session through chromedriver");
}

async fn fill(c: &Client, id: &str, value: &str) {
    let e = c.find(Locator::Id(id)).await.unwrap_or_else(|_| panic!("field #{id}"));
    e.clear().await.expect("clear");
    e.send_keys(value).await.expect("type");
}

/// Click something that submits a form or follows a link, and wait for the next page to load.
async fn click(c: &Client, id: &str) {
    click_on(c, Locator::Id(id), &format!("#{id}")).await;
}

/// Click what `at` finds and wait until the browser has loaded the page that follows.
async fn click_on(c: &Client, at: Locator<'_>, what: &str) {
    let old = c.find(Locator::Css("html")).await.expect("page");
    c.find(at).await.unwrap_or_else(|_| panic!("{what}")).click().await.expect("click");
    for _ in 0..200 {
        // The old page's root goes stale once the browser has moved on.
        if old.tag_name().await.is_err() {
            let ready = c.execute("return document.readyState", vec![]).await.ok();
            if ready.as_ref().and_then(|v| v.as_str()) == Some("complete") {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("clicking {what} did not load a new page");
}

/// On a case page, open one of its parts by its heading line, as a person does (unless it is open).
async fn open_part(c: &Client, name: &str) {
    let part = c.find(Locator::Id(&format!("part-{name}"))).await.unwrap_or_else(|_| panic!("no part {name}"));
    if part.attr("open").await.expect("attribute").is_none() {
        part.find(Locator::Css("summary")).await.expect("its heading").click().await.expect("open");
    }
}

/// Choose an option of a select by its value.
async fn choose(c: &Client, id: &str, value: &str) {
    c.find(Locator::Css(&format!("#{id} option[value='{value}']")))
        .await
        .unwrap_or_else(|_| panic!("#{id} has no option {value}"))
        .click()
        .await
        .expect("choose");
}

async fn text(c: &Client) -> String {
    c.find(Locator::Css("body")).await.expect("body").text().await.expect("text")
}

/// The page's text, or None while the browser is between pages (a page that reloads itself has no body
/// for a moment).
async fn text_now(c: &Client) -> Option<String> {
    c.find(Locator::Css("body")).await.ok()?.text().await.ok()
}

async fn log_in(b: &Client, app: &TestApp, user: &str) {
    b.goto(&app.url("/")).await.expect("goto");
    fill(b, "username", user).await;
    fill(b, "password", PASSWORD).await;
    click(b, "login").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_in_with_totp_switch_language_and_log_out() {
    let Some(br) = browser().await else { return };
    let app = TestApp::start(Backend::Sqlite).await.expect("app");
    let b = &br.client;
    // Enrol through the pages, as a new user would.
    log_in(b, &app, "health.officer").await;
    b.goto(&app.url("/account/totp")).await.expect("goto");
    let secret = b.find(Locator::Id("totp-secret")).await.expect("secret").text().await.expect("text");
    fill(b, "code", &crate::sessions::totp_code(&secret, app.store.now())).await;
    click(b, "confirm-totp").await;
    assert!(text(b).await.contains("Mã khôi phục"), "recovery codes shown");
    click(b, "logout").await;
    assert!(text(b).await.contains("Bạn đã đăng xuất."));
    // Log in again: the password alone is not enough.
    app.advance(30_000);
    log_in(b, &app, "health.officer").await;
    assert!(b.current_url().await.expect("url").path().starts_with("/login/totp"));
    fill(b, "code", "123456").await;
    click(b, "verify").await;
    assert!(text(b).await.contains("Mã không đúng hoặc đã dùng"));
    fill(b, "code", &crate::sessions::totp_code(&secret, app.store.now())).await;
    click(b, "verify").await;
    let home = text(b).await;
    assert!(home.contains("Vai trò của bạn") && home.contains("Sở Y tế thành phố Đà Nẵng"), "{home}");
    // Switch to English and back.
    click(b, "switch-language").await;
    assert!(text(b).await.contains("Your roles"));
    click(b, "switch-language").await;
    assert!(text(b).await.contains("Vai trò của bạn"));
    click(b, "logout").await;
    assert_eq!(b.current_url().await.expect("url").path(), "/login");
    b.goto(&app.url("/persons")).await.expect("goto");
    assert_eq!(b.current_url().await.expect("url").path(), "/login", "logged out for real");
    br.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_form_without_its_csrf_token_is_refused() {
    let Some(br) = browser().await else { return };
    let app = TestApp::start(Backend::Sqlite).await.expect("app");
    let b = &br.client;
    log_in(b, &app, "police.officer").await;
    let before = app.count_persons("police").await;
    b.goto(&app.url("/persons/new")).await.expect("goto");
    fill(b, "full_name", "Đặng Văn Hùng").await;
    b.execute("document.querySelector('form[action=\"/persons\"] input[name=csrf]').remove()", vec![])
        .await
        .expect("remove token");
    click(b, "save-person").await;
    assert!(text(b).await.contains("Biểu mẫu đã hết hạn hoặc không hợp lệ"));
    assert_eq!(app.count_persons("police").await, before, "nothing saved");
    // With the token, the same form works.
    b.goto(&app.url("/persons/new")).await.expect("goto");
    fill(b, "full_name", "Đặng Văn Hùng").await;
    click(b, "save-person").await;
    assert!(text(b).await.contains("Đã lưu hồ sơ."));
    assert_eq!(app.count_persons("police").await, before + 1);
    br.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn breaking_the_glass_asks_for_a_reason() {
    let Some(br) = browser().await else { return };
    let app = TestApp::start(Backend::Sqlite).await.expect("app");
    let b = &br.client;
    let person = app.a_person_of("police").await;
    log_in(b, &app, "border.officer").await;
    b.goto(&app.url(&format!("/persons/{person}"))).await.expect("goto");
    assert!(text(b).await.contains("Hồ sơ này thuộc"));
    click(b, "break-glass").await;
    click(b, "open-break-glass").await;
    let page = text(b).await;
    assert!(page.contains("Có lỗi cần sửa") && page.contains("Ghi lý do khẩn cấp, ít nhất 15 ký tự"), "{page}");
    fill(b, "reason", "Người được giải cứu tại cửa khẩu cần xác minh ngay").await;
    click(b, "open-break-glass").await;
    let page = text(b).await;
    assert!(page.contains("Đã mở truy cập khẩn cấp.") && page.contains("truy cập khẩn cấp"), "{page}");
    br.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clerk_records_a_report_and_an_officer_settles_it() {
    let Some(br) = browser().await else { return };
    let app = TestApp::start(Backend::Sqlite).await.expect("app");
    let b = &br.client;
    log_in(b, &app, "police.clerk").await;
    b.goto(&app.url("/reports/new")).await.expect("goto");
    fill(b, "reporter_name", "Hồ Thị Lan").await;
    fill(b, "summary", "Em gái được rủ sang Trung Quốc làm việc, nay mất liên lạc").await;
    click(b, "save-report").await;
    let page = text(b).await;
    assert!(page.contains("Đã tiếp nhận") && page.contains("21/03/2026"), "{page}");
    let report = b.current_url().await.expect("url").path().to_owned();
    click(b, "logout").await;
    log_in(b, &app, "police.officer").await;
    b.goto(&app.url(&report)).await.expect("goto");
    fill(b, "classify_reason", "Có dấu hiệu mua bán người qua biên giới").await;
    click(b, "save-classification").await;
    assert!(text(b).await.contains("Đã phân loại."));
    fill(b, "number", "03/QĐ-CSHS").await;
    fill(b, "decided_on", "01/03/2026").await;
    click(b, "save-decision").await;
    let page = text(b).await;
    assert!(page.contains("Đã ghi quyết định giải quyết.") && page.contains("đúng hạn"), "{page}");
    fill(b, "case_number", "01/2026/HS").await;
    click(b, "open-case-button").await;
    assert!(text(b).await.contains("Đã mở vụ án."));
    let case = b.current_url().await.expect("url").path().to_owned();
    // The file goes to the procuracy, chosen from the list, and shows up on its side.
    for (stage, receiver) in [("offenders_identified", None), ("to_procuracy", Some(app.agency_id("procuracy").await))]
    {
        open_part(b, "stage").await;
        choose(b, "stage", stage).await;
        fill(b, "stage_on", "01/03/2026").await;
        if let Some(r) = &receiver {
            choose(b, "sent_to", r).await;
        }
        click(b, "save-stage").await;
        assert!(text(b).await.contains("Đã ghi nhận giai đoạn."), "{stage}");
    }
    assert!(text(b).await.contains("Viện Kiểm sát nhân dân thành phố Đà Nẵng"));
    click(b, "logout").await;
    log_in(b, &app, "procuracy.officer").await;
    b.goto(&app.url("/cases")).await.expect("goto");
    assert!(text(b).await.contains("01/2026/HS"), "sent to the procuracy");
    b.goto(&app.url(&case)).await.expect("goto");
    let next = text(b).await;
    assert!(next.contains("Tiếp theo: Truy tố"), "the part says what the case waits for: {next}");
    open_part(b, "stage").await;
    choose(b, "stage", "indicted").await;
    fill(b, "stage_on", "01/03/2026").await;
    click(b, "save-stage").await;
    assert!(text(b).await.contains("Đã ghi nhận giai đoạn."), "the procuracy indicts");
    br.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_border_guard_receives_a_victim_and_a_head_returns_then_approves_the_identification() {
    let Some(br) = browser().await else { return };
    let app = TestApp::start(Backend::Sqlite).await.expect("app");
    let b = &br.client;
    let person = app.store.person(&app.a_person_of("border").await).await.expect("read").expect("person");
    log_in(b, &app, "border.officer").await;
    b.goto(&app.url("/victims/new")).await.expect("goto");
    fill(b, "person_code", &person.case_code).await;
    choose(b, "reception_kind", "border").await;
    click(b, "save-victim").await;
    let page = text(b).await;
    assert!(page.contains("Đã tiếp nhận") && page.contains("04/03/2026"), "{page}");
    let case = b.current_url().await.expect("url").path().to_owned();
    open_part(b, "steps").await;
    choose(b, "step_kind", "verification").await;
    fill(b, "step_on", "01/03/2026").await;
    fill(b, "step_officer", "Đại úy Hà Văn Minh").await;
    click(b, "save-step").await;
    assert!(text(b).await.contains("Đang được xác định là nạn nhân"));
    open_part(b, "identification").await;
    fill(b, "decided_on", "01/03/2026").await;
    fill(b, "legal_basis", "Điều 23 Luật 53/2024/QH15").await;
    b.find(Locator::Id("evidence-rescuer")).await.expect("evidence").click().await.expect("tick");
    fill(b, "certificate_number", "07/GXN").await;
    click(b, "propose").await;
    assert!(text(b).await.contains("chờ thủ trưởng phê duyệt"));
    click(b, "logout").await;
    // The head finds it waiting on the home page and judges it on its grounds, shown on the page.
    log_in(b, &app, "border.head").await;
    assert!(text(b).await.contains("Đề xuất xác định nạn nhân chờ phê duyệt"), "waiting on the home page");
    click_on(b, Locator::Css("#decisions a.decision"), "the waiting decision").await;
    assert!(b.current_url().await.expect("url").path().ends_with(&case), "the link leads to the case");
    let grounds = b.find(Locator::Id("grounds")).await.expect("grounds").text().await.expect("text");
    for part in ["Điều 23 Luật 53/2024/QH15", "Tài liệu của cơ quan giải cứu", "07/GXN", "Đã xác minh ngày 01/03/2026"]
    {
        assert!(grounds.contains(part), "the approval shows {part}: {grounds}");
    }
    // Returned once with a comment; the officer reads it and proposes again with the grounds kept.
    b.find(Locator::Css("#return-details summary")).await.expect("return").click().await.expect("open");
    fill(b, "return_comment", "Bổ sung lời khai của người được giải cứu").await;
    click(b, "return-proposal").await;
    assert!(text(b).await.contains("Đã trả lại đề xuất để bổ sung."));
    click(b, "logout").await;
    log_in(b, &app, "border.officer").await;
    b.goto(&app.url(&case)).await.expect("goto");
    open_part(b, "identification").await;
    let page = text(b).await;
    assert!(page.contains("Bổ sung lời khai của người được giải cứu"), "{page}");
    let kept = b.find(Locator::Id("legal_basis")).await.expect("field").prop("value").await.expect("value");
    assert_eq!(kept.as_deref(), Some("Điều 23 Luật 53/2024/QH15"), "the grounds stay for the officer to amend");
    b.find(Locator::Id("evidence-own_statement")).await.expect("evidence").click().await.expect("tick");
    click(b, "propose").await;
    click(b, "logout").await;
    log_in(b, &app, "border.head").await;
    b.goto(&app.url(&case)).await.expect("goto");
    open_part(b, "identification").await;
    click(b, "approve").await;
    let page = text(b).await;
    assert!(page.contains("Đã phê duyệt kết quả xác định.") && page.contains("07/GXN"), "{page}");
    open_part(b, "support").await;
    choose(b, "regime", "a").await;
    fill(b, "given_on", "01/03/2026").await;
    fill(b, "quantity", "10").await;
    click(b, "save-support").await;
    assert!(text(b).await.contains("Còn số ngày: 50"), "meals: 10 of 60 days given");
    br.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_border_guard_hands_a_victim_over_and_health_accepts() {
    let Some(br) = browser().await else { return };
    let app = TestApp::start(Backend::Sqlite).await.expect("app");
    let b = &br.client;
    let (_, code) = crate::victims::person(&app, "border.officer", "Sùng Thị Mai", "04/04/2003").await;
    let case = crate::victims::receive(&app, "border.officer", &code, &[]).await;
    let health = app.agency_id("health").await;
    let consent = [
        ("purpose", "share_agency"),
        ("target_agency", health.as_str()),
        ("given_by", "person"),
        ("given_on", "01/03/2026"),
    ];
    assert_eq!(app.login("border.officer").await.post(&case, &format!("{case}/consents"), &consent).await.status, 303);
    log_in(b, &app, "border.officer").await;
    b.goto(&app.url(&case)).await.expect("goto");
    open_part(b, "custody").await;
    b.find(Locator::Css("#handover-details summary")).await.expect("handover form").click().await.expect("open");
    choose(b, "handover_to_agency", &health).await;
    fill(b, "handover_reason", "Hỗ trợ y tế, tâm lý và tiếp tục xác định").await;
    click(b, "propose-handover").await;
    let page = text(b).await;
    assert!(page.contains("Đã gửi đề nghị bàn giao.") && page.contains("Đã đề nghị bàn giao cho"), "{page}");
    click(b, "logout").await;
    log_in(b, &app, "health.officer").await;
    click_on(b, Locator::Css("#task-handovers_incoming a"), "the waiting handovers").await;
    let inbox = text(b).await;
    assert!(inbox.contains("Hỗ trợ y tế, tâm lý và tiếp tục xác định"), "the reason is on the inbox: {inbox}");
    let handover = app.store.handovers_of_case(case.trim_start_matches("/victims/")).await.expect("read").remove(0);
    click(b, &format!("accept-handover-{}", handover.id)).await;
    let page = text(b).await;
    assert!(page.contains("Đã nhận bàn giao"), "{page}");
    open_part(b, "custody").await;
    let custody = b.find(Locator::Id("custody-list")).await.expect("custody").text().await.expect("text");
    assert!(
        custody.contains("Biên phòng") && custody.contains("Sở Y tế") && custody.contains("Đang quản lý"),
        "{custody}"
    );
    br.close().await;
}

/// Wait until the page's text contains `needle` (pages that update themselves).
async fn wait_for_text(c: &Client, needle: &str) -> String {
    for _ in 0..300 {
        if let Some(page) = text_now(c).await.filter(|p| p.contains(needle)) {
            return page;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the page never showed {needle:?}: {:?}", text_now(c).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commune_imports_its_list_and_a_border_guard_confirms_a_match() {
    let Some(br) = browser().await else { return };
    let app = TestApp::start(Backend::Sqlite).await.expect("app");
    let b = &br.client;
    // A commune clerk imports the absentee list, choosing the column the guess missed.
    let dir = TempDir::new("import-file");
    let file = dir.path().join("vang-mat.csv");
    std::fs::write(
        &file,
        "STT,Họ và tên,Sinh ngày,Giới tính,Xã\n1,Đinh Thị Mơ,02/09/1997,Nữ,Trà My\n2,Hồ Văn Lực,1988,Nam,Trà My\n",
    )
    .expect("file");
    // Each starts from the home page, where their work is.
    log_in(b, &app, "pc-tramy.clerk").await;
    click(b, "start-import_absentees").await;
    b.find(Locator::Id("file")).await.expect("file input").send_keys(&file.display().to_string()).await.expect("file");
    click(b, "upload").await;
    let page = text(b).await;
    assert!(page.contains("Đinh Thị Mơ") && page.contains("Hệ thống đọc tệp như sau"), "{page}");
    // "Sinh ngày" is not a header the guess knows: the clerk maps it.
    choose(b, "map-birth_date", "2").await;
    click(b, "check-import").await;
    assert!(text(b).await.contains("Mọi dòng đều hợp lệ"));
    click(b, "commit-import").await;
    let done = wait_for_text(b, "Đã nhập xong").await;
    assert!(done.contains("2 dòng"), "{done}");
    click(b, "logout").await;

    // A border guard records a handover; the returnee written the foreign way is matched at once.
    log_in(b, &app, "border.officer").await;
    click(b, "start-handover").await;
    fill(b, "handed_on", "25/02/2026").await;
    choose(b, "gate", "nam_giang").await;
    choose(b, "country", "LA").await;
    fill(b, "authority", "Công an tỉnh Sê Kông").await;
    click(b, "save-batch").await;
    fill(b, "full_name", "MO DINH THI").await;
    fill(b, "birth_date", "09/02/1997").await;
    choose(b, "sex", "f").await;
    click(b, "save-returnee").await;
    let page = text(b).await;
    assert!(
        page.contains("Người này có thể đã được một cơ quan khác biết đến.")
            && page.contains("Họ tên: cùng tên khi bỏ dấu hoặc đổi thứ tự"),
        "{page}"
    );
    assert!(!page.contains("Trà My"), "the signal names no agency: {page}");
    // The border guard asks the other agency to confirm; the commune, told only that another agency says so,
    // confirms, and the records are linked.
    confirm_first_pair(b, &app).await;
    wait_for_text(b, "Cơ quan kia được đề nghị xác nhận").await;
    click(b, "logout").await;
    log_in(b, &app, "pc-tramy.officer").await;
    let home = text(b).await;
    assert!(home.contains("Cơ quan khác đề nghị xác nhận cùng một người"), "asked on the home page: {home}");
    click_on(b, Locator::Css("#task-matches_to_confirm a"), "the pairs to confirm").await;
    click_on(b, Locator::Css("button[value='same']"), "the pair's \"same person\"").await;
    let page = wait_for_text(b, "Đã liên kết hai hồ sơ là cùng một người").await;
    assert!(page.contains("Không có cặp nào chờ xem xét"), "{page}");
    br.close().await;
}

/// On the review queue, say the first pair is the same person, and wait for the page that follows.
async fn confirm_first_pair(b: &fantoccini::Client, app: &TestApp) {
    b.goto(&app.url("/matches")).await.expect("goto");
    click_on(b, Locator::Css("button[value='same']"), "the first pair's \"same person\"").await;
}

/// Wait for a finished download whose name ends with `suffix`, and read it.
async fn downloaded(dir: &std::path::Path, suffix: &str) -> Vec<u8> {
    for _ in 0..200 {
        let done = std::fs::read_dir(dir)
            .expect("downloads")
            .flatten()
            .map(|e| e.path())
            .find(|p| p.to_string_lossy().ends_with(suffix));
        if let Some(path) = done {
            return std::fs::read(path).expect("read the download");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no {suffix} download in {}", dir.display());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_analyst_reads_the_plan_downloads_its_report_and_publishes_statistics() {
    let Some(br) = browser().await else { return };
    let app = TestApp::start(Backend::Sqlite).await.expect("app");
    let b = &br.client;
    log_in(b, &app, "province.analyst").await;
    let plans = app.store.plans().await.expect("plans");
    let plan = plans.iter().find(|p| p.year == 2026).expect("the demo plan");
    b.goto(&app.url("/plans")).await.expect("goto");
    assert!(text(b).await.contains(&plan.name));
    b.goto(&app.url(&format!("/plans/{}", plan.id))).await.expect("goto");
    // The dashboard: indicators against their targets, charts drawn as SVG with their numbers beside.
    let page = text(b).await;
    assert!(page.contains("được tuyên truyền") && page.contains("Thời hạn 28/06/2026"), "{page}");
    for chart in ["chart-by-age", "chart-by-sex", "chart-by-country"] {
        b.find(Locator::Css(&format!("#{chart} svg"))).await.unwrap_or_else(|_| panic!("{chart} is drawn"));
        b.find(Locator::Css(&format!("#{chart} table"))).await.unwrap_or_else(|_| panic!("{chart} has its table"));
    }
    choose(b, "period", "2026-Q1").await;
    click(b, "show-period").await;
    assert!(b.current_url().await.expect("url").query().unwrap_or_default().contains("period=2026-Q1"));
    // The quarter's report, printable, then as a workbook.
    click(b, "report-link").await;
    let report = text(b).await;
    assert!(report.contains("BÁO CÁO") && report.contains("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"), "{report}");
    b.find(Locator::Id("download-xlsx")).await.expect("download button").click().await.expect("click");
    let xlsx = downloaded(&br.downloads, ".xlsx").await;
    assert!(xlsx.starts_with(b"PK"), "a workbook (zip)");
    let names = zip::ZipArchive::new(std::io::Cursor::new(xlsx)).expect("zip").file_names().map(str::to_owned).count();
    assert!(names > 3, "sheets and styles");
    // Publishing the year's statistics, then reading them as anyone would.
    b.goto(&app.url("/statistics")).await.expect("goto");
    choose(b, "year", "2026").await;
    click(b, "stats-publish-button").await;
    assert!(text(b).await.contains("Đã công bố số liệu."));
    click(b, "logout").await;
    b.goto(&app.url("/statistics")).await.expect("goto");
    let public = text(b).await;
    assert!(public.contains("Số người được tiếp cận qua hoạt động phòng ngừa"), "{public}");
    b.find(Locator::Id("stats-reach_group_channel")).await.expect("the reach table");
    assert!(b.find(Locator::Id("stats-publish")).await.is_err(), "no publishing without an account");
    br.close().await;
}

/// axe-core's script (from npm), named by HAVEN_TEST_AXE; `scripts/test` installs it. Missing in CI is a
/// failure, never a silent skip.
fn axe_source() -> Option<String> {
    if let Some(s) = std::env::var("HAVEN_TEST_AXE").ok().and_then(|p| std::fs::read_to_string(p).ok()) {
        return Some(s);
    }
    assert!(!in_ci(), "axe-core not found: set HAVEN_TEST_AXE to axe.min.js (scripts/test installs it with npm)");
    eprintln!("NOT RUN: accessibility sweep (npm install axe-core, and set HAVEN_TEST_AXE to its axe.min.js)");
    None
}

/// The same-site links a page offers under `selector`, without fragments, downloads or log-out.
async fn links(b: &Client, app: &TestApp, selector: &str) -> Vec<String> {
    let found = b
        .execute(
            "return Array.from(document.querySelectorAll(arguments[0])).map(a => a.href.split('#')[0]);",
            vec![json!(selector)],
        )
        .await
        .expect("links");
    let base = app.url("/");
    let mut out: Vec<String> = found
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|v| v.as_str())
        .filter(|h| h.starts_with(&base) && !h.contains("logout") && !h.contains("download"))
        .filter(|h| ![".csv", ".xlsx", ".json", ".pdf"].iter().any(|ext| h.ends_with(ext)))
        .map(str::to_owned)
        .collect();
    out.sort();
    out.dedup();
    out
}

/// A record page's kind: its path with the record's id replaced (`/victims/ID`), or None for a list.
fn record_kind(url: &str) -> Option<String> {
    let path = url.split('?').next().unwrap_or(url);
    let parts: Vec<&str> = path.split('/').collect();
    let is_id = |p: &str| p.len() >= 32 && p.chars().all(|c| c.is_ascii_hexdigit() || c == '-');
    parts
        .iter()
        .any(|p| is_id(p))
        .then(|| parts.iter().map(|p| if is_id(p) { "ID" } else { p }).collect::<Vec<_>>().join("/"))
}

/// What is wrong with the page shown: wider than the screen, or axe-core's violations of WCAG 2.1 A and AA
/// and of its best practices, of any impact. (The screen's width, not the window's: a phone widens its
/// layout to fit a page that overflows, so the window is as wide as the page.)
async fn page_problems(b: &Client, axe: &str) -> Vec<String> {
    let mut out = Vec::new();
    let widths =
        b.execute("return [document.documentElement.scrollWidth, screen.width];", vec![]).await.expect("widths");
    let (scroll, screen) = (widths[0].as_i64().unwrap_or(0), widths[1].as_i64().unwrap_or(0));
    if scroll > screen {
        out.push(format!("{scroll} px wide on a {screen} px screen"));
    }
    b.execute(axe, vec![]).await.expect("axe-core loads");
    let found = b
        .execute_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document, { runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] })
               .then(r => done(r.violations.map(v => v.id + ' (' + v.impact + '): '
                 + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', '))))
               .catch(e => done(['axe failed: ' + e]));",
            vec![],
        )
        .await
        .expect("axe-core runs");
    out.extend(found.as_array().into_iter().flatten().filter_map(|v| v.as_str()).map(str::to_owned));
    out
}

/// Every role starts from its home page on a 390-px phone and goes everywhere it leads: every menu item,
/// every link of the home page (its tasks and starts), and one page of each kind of record those lists
/// open. No page may be wider than the screen, and axe-core may find nothing, of any impact.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_of_every_role_fits_a_phone_and_passes_axe() {
    let Some(axe) = axe_source() else { return };
    let Some(app) = TestApp::start_with(Backend::Sqlite, 40).await else { return };
    let Some(br) = browser_with(Some((390, 844))).await else { return };
    let b = &br.client;
    let users = [
        "police.officer",
        "police.clerk",
        "border.officer",
        "health.officer",
        "health.head",
        "pc-tramy.officer",
        "shelter.officer",
        "procuracy.officer",
        "province.analyst",
        "province.auditor",
        "admin",
    ];
    // The sweep sees a problem when there is one: a page made too wide, with an image without words.
    b.goto(&app.url("/login")).await.expect("goto");
    let screen = b.execute("return screen.width;", vec![]).await.expect("width");
    assert_eq!(screen.as_i64(), Some(390), "a phone's screen: {screen}");
    b.execute(
        "const d = document.createElement('div'); d.style.width = '600px'; d.textContent = 'x';
         const i = document.createElement('img'); i.src = '/static/none.png';
         document.querySelector('main').append(d, i);",
        vec![],
    )
    .await
    .expect("break the page");
    let seen = page_problems(b, &axe).await;
    assert!(seen.iter().any(|p| p.contains("px wide")) && seen.iter().any(|p| p.starts_with("image-alt")), "{seen:?}");
    let (mut problems, mut visited) = (Vec::new(), 0);
    for user in users {
        b.delete_all_cookies().await.expect("log out");
        log_in(b, &app, user).await;
        let pages = reachable_pages(b, &app).await;
        for page in &pages {
            b.goto(page).await.expect("goto");
            for p in page_problems(b, &axe).await {
                problems.push(format!("{user} {}: {p}", page.trim_start_matches(&app.url(""))));
            }
        }
        visited += pages.len();
    }
    br.close().await;
    assert!(problems.is_empty(), "{} problems on {visited} pages:\n{}", problems.len(), problems.join("\n"));
    assert!(visited >= 80, "the sweep reached only {visited} pages");
}

/// The pages a role reaches from its home page: every menu item and home-page link, and one page of each
/// kind of record those lists open.
async fn reachable_pages(b: &Client, app: &TestApp) -> Vec<String> {
    let mut pages = links(b, app, "nav a, main a").await;
    pages.push(app.url("/"));
    let mut kinds = std::collections::BTreeMap::new();
    for list in pages.clone() {
        b.goto(&list).await.expect("goto");
        for link in links(b, app, "main a").await {
            if let Some(kind) = record_kind(&link) {
                kinds.entry(kind).or_insert(link);
            }
        }
    }
    pages.extend(kinds.into_values());
    pages.sort();
    pages.dedup();
    pages
}

/// Takes the `n`th form of the page that posts something a person fills in (not a lone button), empties
/// its text, types `marker` into its text areas, and submits it: 1 when it has text areas, 0 when not, -1
/// when there is no such form.
const SUBMIT_FORM: &str = "
    const forms = Array.from(document.querySelectorAll('form[method=post]')).filter(f =>
        f.querySelector('input[type=text], input:not([type]), input[type=number], textarea, select, input[type=checkbox], input[type=radio]'));
    const form = forms[arguments[0]];
    if (!form) return -1;
    const typed = form.querySelectorAll('textarea').length > 0 ? 1 : 0;
    form.querySelectorAll('input[type=text], input:not([type]), input[type=number]').forEach(i => i.value = '');
    form.querySelectorAll('textarea').forEach(t => t.value = arguments[1]);
    form.querySelectorAll('details').forEach(d => d.open = true);
    form.requestSubmit ? form.requestSubmit() : form.submit();
    return typed;";

/// What is wrong with how the page shown answers a form's errors, if it does: the summary must have the
/// focus, link to fields that exist, each message must be tied to its field (`aria-describedby`), no error
/// may sit in a success box, and text typed into text areas must still be there.
const ERROR_PATTERN: &str = "
    const marker = arguments[0], typed = arguments[1];
    const summary = document.querySelector('.error-summary');
    if (!summary) return null;
    const out = [];
    if (!summary.contains(document.activeElement)) out.push('the error summary does not have the focus');
    summary.querySelectorAll('a[href^=\"#\"]').forEach(a => {
        const id = decodeURIComponent(a.getAttribute('href').slice(1));
        if (!document.getElementById(id)) out.push('the summary links to #' + id + ', which is not on the page');
    });
    document.querySelectorAll('.field-error').forEach(p => {
        if (!p.id) { out.push('a message without an id: ' + p.textContent.trim()); return; }
        const tied = Array.from(document.querySelectorAll('[aria-describedby]'))
            .some(e => e.getAttribute('aria-describedby').split(/\\s+/).includes(p.id));
        if (!tied) out.push('#' + p.id + ' is tied to no field');
    });
    if (document.querySelector('.notice:not(.warning):not(.alert) .field-error, .notice:not(.warning):not(.alert) .error-summary'))
        out.push('an error in a success box');
    if (typed && !Array.from(document.querySelectorAll('textarea')).some(t => t.value === marker))
        out.push('what was typed in a text area is gone');
    return out;";

/// Every form a role reaches, sent empty (with text typed into its text areas), answers the same way: an
/// error summary that has the focus and links to the fields, each message tied to its field, nothing in
/// success colours, and what was typed kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_form_answers_its_errors_the_same_way() {
    let Some(app) = TestApp::start_with(Backend::Sqlite, 40).await else { return };
    let Some(br) = browser().await else { return };
    let b = &br.client;
    let marker = "Ghi chú dài, giữ nguyên sau khi báo lỗi";
    let (mut problems, mut answered) = (Vec::new(), 0);
    for user in ["border.officer", "health.head", "police.officer", "pc-tramy.officer", "province.analyst", "admin"] {
        b.delete_all_cookies().await.expect("log out");
        log_in(b, &app, user).await;
        for page in reachable_pages(b, &app).await {
            for n in 0.. {
                b.goto(&page).await.expect("goto");
                let typed = b
                    .execute("return Array.from(document.querySelectorAll('form[method=post]')).length > 0;", vec![])
                    .await
                    .expect("forms");
                if typed != json!(true) {
                    break;
                }
                let old = b.find(Locator::Css("html")).await.expect("page");
                let sent = b.execute(SUBMIT_FORM, vec![json!(n), json!(marker)]).await.expect("submit");
                let Some(sent @ 0..) = sent.as_i64() else { break };
                for _ in 0..200 {
                    if old.tag_name().await.is_err() {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(25)).await;
                }
                let found = b.execute(ERROR_PATTERN, vec![json!(marker), json!(sent == 1)]).await.expect("check");
                if let Some(list) = found.as_array() {
                    answered += 1;
                    let at = format!("{user} {} form {n}", page.trim_start_matches(&app.url("")));
                    problems.extend(list.iter().filter_map(|p| p.as_str()).map(|p| format!("{at}: {p}")));
                }
            }
        }
    }
    br.close().await;
    assert!(problems.is_empty(), "{} problems:\n{}", problems.len(), problems.join("\n"));
    assert!(answered >= 30, "only {answered} forms answered with errors");
}
