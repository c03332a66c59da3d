//! Test harness: a Haven server in this process on a fresh database (SQLite file or PostgreSQL database),
//! with the demo province loaded small, a clock the test can move, and an HTTP client that keeps cookies.

use std::sync::Arc;

use haven_domain::time::{ManualClock, HOUR};
use haven_store::{KeyFile, Store};
use haven_web::{AppState, Config};

pub const PASSWORD: &str = "mật khẩu thử nghiệm";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Whether every dependency must be present: in CI, and whenever `scripts/test` runs the suite.
pub fn in_ci() -> bool {
    let set = |k: &str| std::env::var(k).is_ok_and(|v| !v.is_empty() && v != "false" && v != "0");
    set("CI") || set("HAVEN_TEST_STRICT")
}

/// The PostgreSQL admin URL, or `None` with a loud note (a failure in CI).
pub fn postgres_admin_url() -> Option<String> {
    match std::env::var("HAVEN_TEST_POSTGRES") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(!in_ci(), "HAVEN_TEST_POSTGRES is not set: PostgreSQL tests cannot run in CI without it");
            eprintln!("NOT RUN: PostgreSQL story (set HAVEN_TEST_POSTGRES to a PostgreSQL admin URL)");
            None
        }
    }
}

pub struct TestDb {
    pub url: String,
    pub backend: Backend,
    _dir: Option<TempDir>,
}

/// A temporary folder removed on drop.
pub struct TempDir(pub std::path::PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!("haven-test-{tag}-{}", uuid_like()));
        std::fs::create_dir_all(&p).expect("temp dir");
        TempDir(p)
    }
    pub fn path(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn uuid_like() -> String {
    haven_store::accounts::new_secret("")
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(12)
        .collect::<String>()
        .to_lowercase()
}

pub async fn fresh_db(backend: Backend) -> Option<TestDb> {
    match backend {
        Backend::Sqlite => {
            let dir = TempDir::new("db");
            Some(TestDb { url: haven_store::sqlite_url(dir.path()), backend, _dir: Some(dir) })
        }
        Backend::Postgres => {
            let admin = postgres_admin_url()?;
            // Named after the test process, so that a later run can drop what finished runs left behind
            // (a database outlives its test: dropping it would need an async drop).
            let name = format!("haven_t_{}_{}", std::process::id(), uuid_like());
            let db = haven_store::Db::connect(&admin).await.expect("connect to PostgreSQL");
            static SWEPT: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
            if !SWEPT.swap(true, std::sync::atomic::Ordering::SeqCst) {
                let all = "pg_database WHERE datname LIKE 'haven\\_t\\_%'";
                for old in haven_store::testing::column_text(&db, all, "datname::text").await.unwrap_or_default() {
                    let pid = old.split('_').nth(2).and_then(|p| p.parse::<u32>().ok());
                    let gone = pid.is_none_or(|p| !std::path::Path::new(&format!("/proc/{p}")).exists());
                    if gone {
                        let _ = haven_store::testing::execute(&db, &format!("DROP DATABASE IF EXISTS {old}")).await;
                    }
                }
            }
            sqlx_exec(&db, &format!("CREATE DATABASE {name}")).await;
            db.close().await;
            let base = admin.rsplit_once('/').map(|(b, _)| b.to_owned()).unwrap_or(admin);
            Some(TestDb { url: format!("{base}/{name}"), backend, _dir: None })
        }
    }
}

pub async fn sqlx_exec(db: &haven_store::Db, sql: &str) {
    haven_store::testing::execute(db, sql).await.unwrap_or_else(|e| panic!("{sql}: {e:#}"));
}

/// A running Haven with the demo province.
pub struct TestApp {
    pub base: String,
    pub store: Store,
    pub clock: Arc<ManualClock>,
    pub keys: KeyFile,
    pub db: TestDb,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// 1 March 2026, 09:00 in Viet Nam.
pub const START: i64 = 1_772_330_400_000;

impl TestApp {
    pub async fn start(backend: Backend) -> Option<TestApp> {
        TestApp::start_with(backend, 0).await
    }

    /// Start with the demo's year of reports and cases as well (`reports` of them).
    pub async fn start_with(backend: Backend, reports: u64) -> Option<TestApp> {
        let db = fresh_db(backend).await?;
        let keys = KeyFile::generate();
        let clock = Arc::new(ManualClock::new(START));
        let store = Store::open(&db.url, &keys, clock.clone()).await.expect("open store");
        haven::demo::load_with(&store, PASSWORD, 40, reports).await.expect("demo");
        // The test client stands in for a proxy, so that stories can speak from several client addresses.
        let config = Config {
            tls: false,
            province: haven::demo::PROVINCE.into(),
            trusted_proxies: vec![std::net::Ipv4Addr::LOCALHOST.into()],
            metrics_token: None,
        };
        let state = AppState::new(store.clone(), config);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let app = haven_web::router(state);
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>()).await;
        });
        Some(TestApp { base: format!("http://{addr}"), store, clock, keys, db, server })
    }

    pub fn advance(&self, ms: i64) {
        self.clock.advance(ms);
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A new browser-like client (own cookies, no redirects followed).
    pub fn client(&self) -> Client {
        Client::new(&self.base)
    }

    /// A client logged in as `user` with the demo password.
    pub async fn login(&self, user: &str) -> Client {
        let c = self.client();
        let r = c.login(user, PASSWORD).await;
        assert_eq!(r.status, 303, "log-in of {user} should redirect: {}", r.body);
        c
    }

    /// Create a user with the demo password and one role, and log them in.
    pub async fn create_user(&self, name: &str, agency_id: &str, role: &str) -> Client {
        let hash = haven_store::accounts::hash_password(PASSWORD.to_owned()).await.expect("hash");
        let roles = [haven_domain::Role::from_code(role).expect("role")];
        let mut cmd = self.store.command(&haven_store::Actor::system("test")).await.expect("command");
        let user = haven_store::accounts::NewUser {
            username: name,
            display_name: name,
            agency_id,
            roles: &roles,
            password_hash: &hash,
        };
        haven_store::accounts::create_user(&mut cmd, &user).await.expect("user");
        cmd.commit().await.expect("commit");
        self.login(name).await
    }

    pub async fn audit_actions(&self) -> Vec<String> {
        haven_store::audit::browse(&self.store.db, &Default::default(), 10_000)
            .await
            .expect("audit")
            .into_iter()
            .map(|e| e.action)
            .collect()
    }

    pub async fn user_id(&self, name: &str) -> String {
        self.store.user_by_name(name).await.expect("user").expect("exists").id
    }

    pub async fn agency_id(&self, code: &str) -> String {
        self.store.agency_by_code(code).await.expect("agency").expect("exists").id
    }

    /// The newest person record of an agency.
    pub async fn a_person_of(&self, agency: &str) -> String {
        let id = self.agency_id(agency).await;
        self.store.persons_of_agency(&id, None, 1).await.expect("persons").items[0].id.clone()
    }

    pub async fn count_persons(&self, agency: &str) -> i64 {
        self.store.count_persons(&self.agency_id(agency).await).await.expect("count")
    }

    pub async fn count_reports(&self, agency: &str) -> i64 {
        let sql = format!("SELECT COUNT(*) FROM reports WHERE owner_agency_id = '{}'", self.agency_id(agency).await);
        haven_store::testing::scalar_i64(&self.store.db, &sql).await.expect("count")
    }
}

pub struct Resp {
    pub status: u16,
    pub body: String,
    pub location: Option<String>,
    pub headers: reqwest::header::HeaderMap,
}

pub struct Client {
    base: String,
    http: reqwest::Client,
}

impl Client {
    pub fn new(base: &str) -> Client {
        Client::with_headers(base, reqwest::header::HeaderMap::new())
    }

    /// A client whose requests come, as the server sees them through its trusted proxy (the harness's
    /// loopback), from `addr`.
    pub fn from_addr(base: &str, addr: &str) -> Client {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("x-forwarded-for", addr.parse().expect("header value"));
        Client::with_headers(base, headers)
    }

    fn with_headers(base: &str, headers: reqwest::header::HeaderMap) -> Client {
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            // A fresh connection per request: when the server refuses an upload as too large before reading
            // it, it closes that connection, and a pooled one could be reused just as it closes (the next
            // request then fails with an incomplete message, now and then). Browsers retry; this client
            // would not.
            .pool_max_idle_per_host(0)
            .build()
            .expect("client");
        Client { base: base.to_owned(), http }
    }

    async fn resp(r: reqwest::Response) -> Resp {
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let location = headers.get("location").and_then(|v| v.to_str().ok()).map(str::to_owned);
        Resp { status, body: r.text().await.unwrap_or_default(), location, headers }
    }

    pub async fn get(&self, path: &str) -> Resp {
        Self::resp(self.http.get(format!("{}{path}", self.base)).send().await.expect("GET")).await
    }

    /// GET a download's raw bytes, asserting it was served.
    pub async fn get_bytes(&self, path: &str) -> Vec<u8> {
        let r = self.http.get(format!("{}{path}", self.base)).send().await.expect("GET");
        assert_eq!(r.status().as_u16(), 200, "GET {path}");
        r.bytes().await.map(|b| b.to_vec()).expect("a body")
    }

    /// POST a file upload (multipart) the way a browser does, with the token of the page it came from.
    pub async fn upload(&self, from_page: &str, path: &str, fields: &[(&str, &str)], file: (&str, Vec<u8>)) -> Resp {
        let page = self.get(from_page).await;
        assert_eq!(page.status, 200, "GET {from_page}: {}", page.body);
        let mut form = reqwest::multipart::Form::new().text("csrf", Self::csrf_of(&page.body));
        for (k, v) in fields {
            form = form.text(k.to_string(), v.to_string());
        }
        form = form.part("file", reqwest::multipart::Part::bytes(file.1).file_name(file.0.to_owned()));
        let r = self.http.post(format!("{}{path}", self.base)).multipart(form).send().await.expect("POST");
        Self::resp(r).await
    }

    /// POST a file upload with a given CSRF token (a forged one, to test the check).
    pub async fn upload_with_token(&self, path: &str, token: &str, file: (&str, Vec<u8>)) -> Resp {
        let form = reqwest::multipart::Form::new()
            .text("csrf", token.to_owned())
            .text("kind", "photo")
            .part("file", reqwest::multipart::Part::bytes(file.1).file_name(file.0.to_owned()));
        Self::resp(self.http.post(format!("{}{path}", self.base)).multipart(form).send().await.expect("POST")).await
    }

    /// POST a form and keep the raw bytes of the answer (a download).
    pub async fn post_for_bytes(&self, from_page: &str, path: &str, form: &[(&str, &str)]) -> (u16, Vec<u8>) {
        let page = self.get(from_page).await;
        let token = Self::csrf_of(&page.body);
        let mut all: Vec<(&str, &str)> = vec![("csrf", &token)];
        all.extend_from_slice(form);
        let r = self.http.post(format!("{}{path}", self.base)).form(&all).send().await.expect("POST");
        (r.status().as_u16(), r.bytes().await.map(|b| b.to_vec()).unwrap_or_default())
    }

    /// POST a form as it is, without adding a CSRF token.
    pub async fn post_raw(&self, path: &str, form: &[(&str, &str)]) -> Resp {
        Self::resp(self.http.post(format!("{}{path}", self.base)).form(form).send().await.expect("POST")).await
    }

    /// The CSRF token a page carries.
    pub fn csrf_of(body: &str) -> String {
        let at = body.find("name=\"csrf\" value=\"").expect("page has a CSRF field") + 19;
        body[at..at + body[at..].find('"').expect("end")].to_owned()
    }

    /// POST a form the way a browser does: with the token of the page it came from.
    pub async fn post(&self, from_page: &str, path: &str, form: &[(&str, &str)]) -> Resp {
        let page = self.get(from_page).await;
        assert_eq!(page.status, 200, "GET {from_page}: {}", page.body);
        let token = Self::csrf_of(&page.body);
        let mut all: Vec<(&str, &str)> = vec![("csrf", &token)];
        all.extend_from_slice(form);
        self.post_raw(path, &all).await
    }

    pub async fn login(&self, user: &str, password: &str) -> Resp {
        self.post("/login", "/login", &[("username", user), ("password", password)]).await
    }

    /// Call the API with a token. Every answer is checked against the OpenAPI document: its status must be
    /// documented for the operation, and its body must be valid against that status's schema.
    pub async fn api(
        &self,
        method: &str,
        token: &str,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> (u16, serde_json::Value) {
        let (s, _, json) = self.api_with_headers(method, token, path, body).await;
        (s, json)
    }

    /// As [`Client::api`], with the answer's headers.
    pub async fn api_with_headers(
        &self,
        method: &str,
        token: &str,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> (u16, reqwest::header::HeaderMap, serde_json::Value) {
        let url = format!("{}{path}", self.base);
        let req = match method {
            "get" => self.http.get(&url),
            "post" => self.http.post(&url),
            "put" => self.http.put(&url),
            "delete" => self.http.delete(&url),
            other => panic!("method {other}"),
        };
        let req = req.bearer_auth(token);
        let req = match body {
            Some(b) => req.json(b),
            None => req,
        };
        let r = req.send().await.expect("API request");
        let s = r.status().as_u16();
        let headers = r.headers().clone();
        let json: serde_json::Value = r.json().await.unwrap_or(serde_json::Value::Null);
        crate::schema::check_answer(method, path, s, &json);
        (s, headers, json)
    }

    /// POST a body as given, with the given `Content-Type`, checking the answer against the document.
    pub async fn api_post_raw(
        &self,
        token: &str,
        path: &str,
        content_type: &str,
        body: &str,
    ) -> (u16, serde_json::Value) {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(token)
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .body(body.to_owned())
            .send()
            .await
            .expect("API request");
        let s = r.status().as_u16();
        let json: serde_json::Value = r.json().await.unwrap_or(serde_json::Value::Null);
        crate::schema::check_answer("post", path, s, &json);
        (s, json)
    }

    pub async fn api_get(&self, token: &str, path: &str) -> (u16, serde_json::Value) {
        self.api("get", token, path, None).await
    }

    pub async fn api_post(&self, token: &str, path: &str, body: &serde_json::Value) -> (u16, serde_json::Value) {
        self.api("post", token, path, Some(body)).await
    }

    pub async fn api_put(&self, token: &str, path: &str, body: &serde_json::Value) -> (u16, serde_json::Value) {
        self.api("put", token, path, Some(body)).await
    }

    /// POST a multipart form with one file to the API, checking the answer against the document.
    pub async fn api_upload(
        &self,
        token: &str,
        path: &str,
        fields: &[(&str, &str)],
        file: (&str, Vec<u8>),
    ) -> (u16, serde_json::Value) {
        let mut form = reqwest::multipart::Form::new();
        for (k, v) in fields {
            form = form.text(k.to_string(), v.to_string());
        }
        form = form.part("file", reqwest::multipart::Part::bytes(file.1).file_name(file.0.to_owned()));
        let r = self.http.post(format!("{}{path}", self.base)).bearer_auth(token).multipart(form).send().await;
        let r = r.expect("API upload");
        let s = r.status().as_u16();
        let json: serde_json::Value = r.json().await.unwrap_or(serde_json::Value::Null);
        crate::schema::check_answer("post", path, s, &json);
        (s, json)
    }
}

/// Issue an API token the way `haven user token` does.
pub async fn token_for(app: &TestApp, user: &str) -> String {
    let id = app.user_id(user).await;
    let mut cmd = app.store.command(&haven_store::Actor::system("test")).await.expect("cmd");
    let t = haven_store::accounts::create_token(&mut cmd, &id, "test").await.expect("token");
    cmd.commit().await.expect("commit");
    t
}

/// Generate a story test for each backend: `story!(name, |app| async move { ... })`.
#[macro_export]
macro_rules! story {
    ($name:ident, |$app:ident| $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            async fn run($app: $crate::harness::TestApp) {
                $body
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                if let Some(app) = $crate::harness::TestApp::start($crate::harness::Backend::Sqlite).await {
                    run(app).await;
                }
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(app) = $crate::harness::TestApp::start($crate::harness::Backend::Postgres).await {
                    run(app).await;
                }
            }
        }
    };
}

pub const DAY_MS: i64 = 24 * HOUR;

/// A child process that is killed and reaped when dropped, so a failing test leaves nothing running.
pub struct Proc(pub std::process::Child);

impl Proc {
    pub fn spawn(cmd: &mut std::process::Command) -> Proc {
        Proc(cmd.spawn().expect("spawn"))
    }
    /// SIGKILL, as a crash would.
    pub fn kill(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
    }
}

/// One valid identity for stories that stage or write rows below the use cases.
pub fn a_valid_identity() -> haven_domain::person::Identity {
    haven_domain::person::IdentityInput {
        full_name: "Đinh Thị Thu".into(),
        birth_date: "1999".into(),
        sex: "f".into(),
        ..Default::default()
    }
    .validate(time::macros::date!(2026 - 03 - 01))
    .expect("valid")
}
