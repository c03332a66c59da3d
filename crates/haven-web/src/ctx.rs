//! Who is asking, and what they may do. [`Viewer`] is the logged-in user (session cookie or API token);
//! [`Can<P>`] is a viewer whose roles permit action `P`, so each handler's signature shows its permission;
//! [`CsrfForm<T>`] is a form body whose CSRF token matched, so no state-changing form handler can forget it.
//! [`Ctx`] carries what every page needs: language, translations, navigation and the CSRF token.

use std::marker::PhantomData;

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use haven_app::Caller;
use haven_domain::account::session_live;
use haven_domain::format::Lang;
use haven_domain::Action;
use haven_store::accounts::Session;
use serde::de::DeserializeOwned;

use crate::error::AppError;
use crate::{AppState, RequestId};

pub const SESSION_COOKIE: &str = "haven_session";
pub const PRE_COOKIE: &str = "haven_pre";
pub const LANG_COOKIE: &str = "haven_lang";

pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A Set-Cookie value: HttpOnly, SameSite=Strict, Path=/, Secure behind TLS.
pub fn set_cookie(name: &str, value: &str, secure: bool, max_age: Option<i64>) -> String {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict");
    if secure {
        c.push_str("; Secure");
    }
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    c
}

/// The logged-in user: the [`Caller`] use cases act for, and how they came (session or token).
#[derive(Clone)]
pub struct Viewer {
    pub caller: Caller,
    /// The cookie session; `None` when the request came with an API token.
    pub session: Option<(String, Session)>,
    /// A role of this user requires a second factor that is not set up yet: only enrolment is open.
    pub must_enrol: bool,
}

/// A viewer is the caller of the use cases it starts: `&viewer` passes where `&Caller` is taken.
impl std::ops::Deref for Viewer {
    type Target = Caller;
    fn deref(&self) -> &Caller {
        &self.caller
    }
}

fn request_id(parts: &Parts) -> String {
    parts.extensions.get::<RequestId>().map(|r| r.0.clone()).unwrap_or_default()
}

/// Whether this request should write the session's last-seen time: true for the first request on the session
/// in a minute, within this process.
fn claim_touch(state: &AppState, token: &str, now: i64) -> bool {
    let Ok(mut touched) = state.touched.lock() else { return true };
    if touched.len() > 10_000 {
        touched.retain(|_, at| now - *at < 60_000);
    }
    match touched.get(token) {
        Some(at) if now - *at < 60_000 => false,
        _ => {
            touched.insert(token.to_owned(), now);
            true
        }
    }
}

/// Resolve the viewer from a bearer token or a full session; `Ok(None)` when there is neither.
pub async fn resolve_viewer(state: &AppState, parts: &Parts) -> Result<Option<Viewer>, AppError> {
    let now = state.store.now();
    let (user, session) = if let Some(token) =
        parts.headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "))
    {
        match state.store.user_by_token(token.trim()).await? {
            Some(u) => (u, None),
            None => return Ok(None),
        }
    } else if let Some(token) = cookie(&parts.headers, SESSION_COOKIE) {
        let Some((s, u)) = state.store.session_with_user(token).await? else { return Ok(None) };
        if s.stage == "totp" || !session_live(s.created_at, s.last_seen_at, now) {
            return Ok(None);
        }
        // Idle expiry needs minute precision only; skipping the write keeps page views read-only.
        if now - s.last_seen_at >= 60_000 && claim_touch(state, token, now) {
            state.store.touch_session(token, now).await?;
        }
        (u, Some((token.to_owned(), s)))
    } else {
        return Ok(None);
    };
    if user.disabled {
        return Ok(None);
    }
    let Some(agency) = state.store.agency(&user.agency_id).await? else { return Ok(None) };
    // Set at log-in when a role of the user requires a second factor that is not set up yet.
    let must_enrol = session.as_ref().is_some_and(|(_, s)| s.stage == "enrol");
    Ok(Some(Viewer { caller: Caller { user, agency, request_id: request_id(parts) }, session, must_enrol }))
}

/// The address a request came from: the peer, or, when the peer is one of the configured reverse proxies,
/// the address that proxy saw (read from X-Forwarded-For, right to left, skipping the proxies themselves, so a
/// client cannot choose its own address by sending the header). `None` when the server was started without
/// peer addresses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientAddr(pub Option<std::net::IpAddr>);

impl ClientAddr {
    /// The source as log-in throttling records it.
    pub fn source(&self) -> String {
        self.0.map_or_else(|| "unknown".to_owned(), |a| a.to_string())
    }
}

/// [`ClientAddr`] from the peer address, the X-Forwarded-For values in order, and the trusted proxies.
pub fn client_addr(
    peer: Option<std::net::IpAddr>,
    forwarded: &[&str],
    trusted: &[std::net::IpAddr],
) -> Option<std::net::IpAddr> {
    let peer = peer?;
    if !trusted.contains(&peer) {
        return Some(peer);
    }
    let hops: Vec<&str> = forwarded.iter().flat_map(|h| h.split(',')).map(str::trim).collect();
    for hop in hops.iter().rev() {
        match hop.parse::<std::net::IpAddr>() {
            Ok(a) if trusted.contains(&a) => continue,
            Ok(a) => return Some(a),
            // Garbage in the chain: nothing to its left can be believed; the last proxy is the source.
            Err(_) => return Some(peer),
        }
    }
    Some(peer)
}

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|axum::extract::ConnectInfo(a)| a.ip());
        let forwarded: Vec<&str> =
            parts.headers.get_all("x-forwarded-for").iter().filter_map(|v| v.to_str().ok()).collect();
        Ok(ClientAddr(client_addr(peer, &forwarded, &state.config.trusted_proxies)))
    }
}

impl FromRequestParts<AppState> for Viewer {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        if let Some(v) = parts.extensions.get::<Viewer>() {
            return Ok(v.clone());
        }
        let v = resolve_viewer(state, parts).await?.ok_or(AppError::Unauthenticated)?;
        if v.must_enrol && !parts.uri.path().starts_with("/account/totp") {
            return Err(AppError::EnrolFirst);
        }
        parts.extensions.insert(v.clone());
        Ok(v)
    }
}

impl axum::extract::OptionalFromRequestParts<AppState> for Viewer {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Option<Self>, Self::Rejection> {
        if let Some(v) = parts.extensions.get::<Viewer>() {
            return Ok(Some(v.clone()));
        }
        let v = resolve_viewer(state, parts).await?;
        if let Some(v) = &v {
            parts.extensions.insert(v.clone());
        }
        Ok(v)
    }
}

/// A permission named in a handler's signature.
pub trait Permission: Send + Sync + 'static {
    const ACTION: Action;
}

macro_rules! permissions {
    ($($name:ident),* $(,)?) => {
        $(
            #[doc = concat!("Marker for `Action::", stringify!($name), "`.")]
            pub struct $name;
            impl Permission for $name {
                const ACTION: Action = Action::$name;
            }
        )*
    };
}

permissions!(
    ViewRecords,
    ViewIdentity,
    CreateRecords,
    EditRecords,
    GrantAccess,
    BreakGlass,
    SuperviseAgency,
    ViewAggregates,
    ViewAudit,
    ManageUsers,
    ManageAgencies,
    ManageSecurity,
    PublishStatistics,
);

/// A viewer whose roles permit `P`.
pub struct Can<P: Permission>(pub Viewer, pub PhantomData<P>);

impl<P: Permission> FromRequestParts<AppState> for Can<P> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let v = Viewer::from_request_parts(parts, state).await?;
        if !v.can(P::ACTION) {
            return Err(AppError::Forbidden);
        }
        Ok(Can(v, PhantomData))
    }
}

/// The CSRF token expected from this browser: the session's own token once logged in, otherwise the
/// pre-session cookie set on the log-in page.
pub fn expected_csrf(state_viewer: Option<&Viewer>, headers: &HeaderMap) -> Option<String> {
    match state_viewer.and_then(|v| v.session.as_ref()) {
        Some((_, s)) => Some(s.csrf.clone()),
        None => cookie(headers, PRE_COOKIE).map(str::to_owned),
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A urlencoded form whose `csrf` field matched. The raw pairs are kept for multi-valued fields.
pub struct CsrfForm<T>(pub T, pub Vec<(String, String)>);

pub const MAX_FORM_BYTES: usize = 64 * 1024;

impl<T: DeserializeOwned + Send> FromRequest<AppState> for CsrfForm<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let viewer = match parts.extensions.get::<Viewer>() {
            Some(v) => Some(v.clone()),
            None => resolve_viewer(state, &parts).await?,
        };
        if let Some(v) = &viewer {
            parts.extensions.insert(v.clone());
        }
        let expected = expected_csrf(viewer.as_ref(), &parts.headers);
        let bytes = axum::body::to_bytes(body, MAX_FORM_BYTES).await.map_err(|_| AppError::TooLarge)?;
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_bytes(&bytes).map_err(|_| AppError::BadRequest("form".into()))?;
        if pairs.iter().any(|(k, v)| k.contains('\0') || v.contains('\0')) {
            return Err(AppError::BadRequest("a NUL character".into()));
        }
        let given = pairs.iter().find(|(k, _)| k == "csrf").map(|(_, v)| v.as_str());
        match (expected, given) {
            (Some(e), Some(g)) if !e.is_empty() && constant_time_eq(e.as_bytes(), g.as_bytes()) => {}
            _ => return Err(AppError::Csrf),
        }
        let value = serde_urlencoded::from_bytes(&bytes).map_err(|_| AppError::BadRequest("form".into()))?;
        Ok(CsrfForm(value, pairs))
    }
}

/// A file sent in a multipart form.
pub struct Upload {
    /// The name the browser gave; never trusted for the type, and made safe before it is shown again.
    pub file_name: String,
    pub bytes: Vec<u8>,
}

/// A multipart form (a file upload) whose `csrf` field matched: its text fields and its one file, if any.
/// The body limit is the route's (`DefaultBodyLimit` on the upload route).
pub struct CsrfUpload {
    pub fields: Vec<(String, String)>,
    pub file: Option<Upload>,
}

impl CsrfUpload {
    pub fn field(&self, name: &str) -> &str {
        self.fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).unwrap_or("")
    }
}

impl FromRequest<AppState> for CsrfUpload {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let viewer = match parts.extensions.get::<Viewer>() {
            Some(v) => Some(v.clone()),
            None => resolve_viewer(state, &parts).await?,
        };
        if let Some(v) = &viewer {
            parts.extensions.insert(v.clone());
        }
        let expected = expected_csrf(viewer.as_ref(), &parts.headers);
        let req = Request::from_parts(parts, body);
        let (fields, file) = read_multipart(req, state).await?;
        let given = fields.iter().find(|(k, _)| k == "csrf").map(|(_, v)| v.as_str());
        match (expected, given) {
            (Some(e), Some(g)) if !e.is_empty() && constant_time_eq(e.as_bytes(), g.as_bytes()) => {}
            _ => return Err(AppError::Csrf),
        }
        Ok(CsrfUpload { fields, file })
    }
}

/// Read a multipart form: its text fields (each at most `MAX_FORM_BYTES`) and its one file, if any. More than
/// one file is refused; the body limit is the route's.
pub async fn read_multipart(
    req: Request,
    state: &AppState,
) -> Result<(Vec<(String, String)>, Option<Upload>), AppError> {
    let mut multipart = axum::extract::Multipart::from_request(req, state)
        .await
        .map_err(|_| AppError::BadRequest("multipart".into()))?;
    let mut fields = Vec::new();
    let mut file = None;
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE => return Err(AppError::TooLarge),
            Err(_) => return Err(AppError::BadRequest("multipart".into())),
        };
        let name = field.name().unwrap_or("").to_owned();
        match field.file_name().map(str::to_owned) {
            Some(file_name) if file.is_none() => {
                let bytes = field.bytes().await.map_err(|e| {
                    if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                        AppError::TooLarge
                    } else {
                        AppError::BadRequest("multipart".into())
                    }
                })?;
                // A file input left empty still sends a part, with no name and no bytes.
                if !(file_name.is_empty() && bytes.is_empty()) {
                    file = Some(Upload { file_name, bytes: bytes.to_vec() });
                }
            }
            Some(_) => return Err(AppError::BadRequest("one file per form".into())),
            None => {
                let text = field.text().await.map_err(|_| AppError::BadRequest("multipart".into()))?;
                if text.len() > MAX_FORM_BYTES {
                    return Err(AppError::TooLarge);
                }
                if text.contains('\0') || name.contains('\0') {
                    return Err(AppError::BadRequest("a NUL character".into()));
                }
                fields.push((name, text));
            }
        }
    }
    Ok((fields, file))
}

/// The language of a request: the user's choice when logged in, else the language cookie, else Vietnamese.
pub fn request_lang(viewer: Option<&Viewer>, headers: &HeaderMap) -> Lang {
    viewer.map(|v| v.lang()).or_else(|| cookie(headers, LANG_COOKIE).and_then(Lang::from_code)).unwrap_or(Lang::Vi)
}

/// Whether a JSON text holds a NUL character in a string (`\u0000`). No text Haven keeps may hold one
/// (PostgreSQL refuses it, and no person types it), so a body that does is refused before any use case
/// sees it. Walks the escapes rather than searching, so an escaped backslash before `u0000` is not a NUL;
/// a raw NUL byte is not valid JSON and is refused by the parser.
pub fn json_holds_nul(json: &[u8]) -> bool {
    let mut i = 0;
    while i < json.len() {
        if json[i] == b'\\' {
            if json.get(i + 1) == Some(&b'u') && json.get(i + 2..i + 6) == Some(b"0000".as_slice()) {
                return true;
            }
            i += 2;
        } else {
            i += 1;
        }
    }
    false
}

/// Whether a request's target names a NUL character (`%00`) in its path or query.
pub fn target_holds_nul(target: &str) -> bool {
    target.as_bytes().windows(3).any(|w| w[0] == b'%' && w[1] == b'0' && w[2] == b'0')
}

#[cfg(test)]
mod nul_tests {
    use super::*;

    #[test]
    fn a_nul_in_json_is_found_only_where_it_is_one() {
        assert!(json_holds_nul(br#"{"a":"x\u0000y"}"#));
        assert!(!json_holds_nul(br#"{"a":"x\\u0000y"}"#));
        assert!(json_holds_nul(br#"{"a":"\\\u0000"}"#));
        assert!(!json_holds_nul(br#"{"a":"\u0001 \u1000"}"#));
    }

    #[test]
    fn a_nul_in_a_target_is_found() {
        assert!(target_holds_nul("/persons/%00x"));
        assert!(target_holds_nul("/reports?q=a%00"));
        assert!(!target_holds_nul("/reports?q=%20100"));
    }
}

#[cfg(test)]
mod client_addr_tests {
    use super::*;
    use std::net::IpAddr;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    #[test]
    fn only_a_trusted_proxy_speaks_for_the_client() {
        let proxy = [ip("10.0.0.2")];
        // Straight from a client: its own address, whatever header it sends.
        assert_eq!(client_addr(Some(ip("203.0.113.9")), &["1.2.3.4"], &proxy), Some(ip("203.0.113.9")));
        // Through the proxy: the address the proxy appended, not what the client wrote before it.
        assert_eq!(client_addr(Some(ip("10.0.0.2")), &["1.2.3.4, 198.51.100.7"], &proxy), Some(ip("198.51.100.7")));
        assert_eq!(client_addr(Some(ip("10.0.0.2")), &["1.2.3.4", "198.51.100.7"], &proxy), Some(ip("198.51.100.7")));
        // Chained proxies are skipped; garbage stops the walk at the last proxy.
        let two = [ip("10.0.0.2"), ip("10.0.0.3")];
        assert_eq!(client_addr(Some(ip("10.0.0.2")), &["198.51.100.7, 10.0.0.3"], &two), Some(ip("198.51.100.7")));
        assert_eq!(client_addr(Some(ip("10.0.0.2")), &["198.51.100.7, junk"], &proxy), Some(ip("10.0.0.2")));
        assert_eq!(client_addr(Some(ip("10.0.0.2")), &[], &proxy), Some(ip("10.0.0.2")));
        assert_eq!(client_addr(None, &["1.2.3.4"], &proxy), None, "no peer address known");
    }
}
