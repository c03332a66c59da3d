//! Accounts: log-in with a password and then, when enrolled, a second factor (a time-based code or a recovery
//! code); failed attempts lock the account with back-off; log-out; a user's own language, password and second
//! factor. Sessions are tokens the web layer keeps in a cookie; this module never sees a cookie.

use haven_domain::account::{check_password, SECOND_FACTOR_WINDOW};
use haven_domain::format::Lang;
use haven_store::accounts::{self as store, new_secret, User};
use haven_store::crypto::random_bytes;
use haven_store::Actor;

use crate::{App, Caller, Error, Fields, Outcome, Result};

/// What a session is good for: everything, the second factor only, or enrolling one (a role of the user
/// requires it and none is set up).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    Full,
    SecondFactor,
    Enrol,
}

impl Stage {
    pub fn code(self) -> &'static str {
        match self {
            Stage::Full => "full",
            Stage::SecondFactor => "totp",
            Stage::Enrol => "enrol",
        }
    }
}

/// What a log-in attempt did.
pub enum LogIn {
    /// Unknown user, disabled account, wrong password, or too many failures from this source: the same answer
    /// for each, in the same time, so that the answer does not tell whether an account exists.
    Failed,
    /// A session opened at a stage, with its token and the user's language.
    Opened { token: String, stage: Stage, lang: String },
}

/// A hash to verify against when the user does not exist, so the answer takes as long as for a real user.
async fn dummy_hash() -> String {
    static HASH: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    HASH.get_or_init(|| async { store::hash_password(new_secret("")).await.unwrap_or_default() }).await.clone()
}

fn actor(user: &User, request_id: &str) -> Actor {
    Actor { user_id: user.id.clone(), agency_id: user.agency_id.clone(), request_id: request_id.to_owned() }
}

/// Check a user name and password from a source (the client's address); each attempt is reserved before the
/// password is checked, so parallel guesses count too. Failures lock the account for that source only, so a
/// stranger cannot lock an official out; and a locked account answers as an unknown one does.
pub async fn log_in(app: &App, username: &str, password: String, source: &str, request_id: &str) -> Result<LogIn> {
    let username = username.trim().to_lowercase();
    let Some(user) = app.store.user_by_name(&username).await?.filter(|u| !u.disabled) else {
        // As long as a real account's failed attempt: one command, one password check.
        let mut cmd = app.store.command(&Actor::anonymous(request_id)).await?;
        cmd.audit(haven_store::Entry::new("auth.login_unknown", "user", "")).await?;
        cmd.commit().await?;
        store::verify_password(dummy_hash().await, password).await;
        return Ok(LogIn::Failed);
    };
    let actor = actor(&user, request_id);
    let mut cmd = app.store.command(&actor).await?;
    let allowed = store::reserve_login_attempt(&mut cmd, &user.id, source).await?;
    cmd.commit().await?;
    if !allowed {
        store::verify_password(dummy_hash().await, password).await;
        return Ok(LogIn::Failed);
    }
    if !store::verify_password(user.password_hash.clone(), password).await {
        let mut cmd = app.store.command(&actor).await?;
        store::attempt_failed(&mut cmd, &user.id).await?;
        cmd.commit().await?;
        return Ok(LogIn::Failed);
    }
    // Locked by second-factor guesses (or wrong current passwords in a session): only someone holding the
    // password can cause this lock, and the answer is still the same as for any failure.
    if user.locked_until > app.store.now() {
        let mut cmd = app.store.command(&actor).await?;
        cmd.audit(haven_store::Entry::new("auth.login_locked", "user", &user.id)).await?;
        cmd.commit().await?;
        return Ok(LogIn::Failed);
    }
    let stage = if user.totp_enabled {
        Stage::SecondFactor
    } else if app.store.roles_requiring_totp().await?.iter().any(|r| user.roles.contains(r)) {
        Stage::Enrol
    } else {
        Stage::Full
    };
    let mut cmd = app.store.command(&actor).await?;
    store::login_succeeded(&mut cmd, &user.id, source).await?;
    let token = store::open_session(&mut cmd, &user.id, stage.code()).await?;
    cmd.commit().await?;
    Ok(LogIn::Opened { token, stage, lang: user.lang })
}

/// Check a six-digit code against the secret for the step before, at and after now; returns the step used.
pub fn totp_step_matching(secret: &[u8], code: &str, now_ms: i64) -> Option<i64> {
    let code = code.trim().replace(' ', "");
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let totp = totp_rs::TOTP::new(totp_rs::Algorithm::SHA1, 6, 1, 30, secret.to_vec()).ok()?;
    let now = u64::try_from(now_ms / 1000).ok()?;
    [now.saturating_sub(30), now, now + 30]
        .into_iter()
        .find(|t| totp.generate(*t) == code)
        .and_then(|t| i64::try_from(t / 30).ok())
}

/// What a second-factor attempt did.
pub enum SecondFactor {
    /// No session waiting for a second factor (or it waited too long): log in again.
    NoSession,
    Locked,
    Wrong,
    /// The session is complete, under a new token.
    Done {
        token: String,
        lang: String,
    },
}

/// Complete a log-in with a time-based code, or a recovery code (with dashes).
pub async fn second_factor(app: &App, session_token: &str, code: &str, request_id: &str) -> Result<SecondFactor> {
    let now = app.store.now();
    let Some(session) = app
        .store
        .session(session_token)
        .await?
        .filter(|s| s.stage == "totp" && now - s.created_at < SECOND_FACTOR_WINDOW)
    else {
        return Ok(SecondFactor::NoSession);
    };
    let Some(user) = app.store.user(&session.user_id).await?.filter(|u| !u.disabled) else {
        return Ok(SecondFactor::NoSession);
    };
    if user.locked_until > now {
        return Ok(SecondFactor::Locked);
    }
    let Some(sealed) = app.store.totp_secret_sealed(&user.id).await? else { return Ok(SecondFactor::NoSession) };
    let secret = base64_decode(&app.store.keys.open("users", "totp_secret", &user.id, &sealed)?)?;
    let mut cmd = app.store.command(&actor(&user, request_id)).await?;
    let accepted = match totp_step_matching(&secret, code, now) {
        Some(step) => store::use_totp_step(&mut cmd, &user.id, step).await?,
        None if code.contains('-') => store::use_recovery_code(&mut cmd, &app.store.keys, &user.id, code).await?,
        None => false,
    };
    if !accepted {
        store::login_failed(&mut cmd, &user.id).await?;
        cmd.commit().await?;
        return Ok(SecondFactor::Wrong);
    }
    let token = store::complete_second_factor(&mut cmd, session_token, &user.id).await?;
    cmd.commit().await?;
    Ok(SecondFactor::Done { token, lang: user.lang })
}

fn base64_decode(s: &str) -> anyhow::Result<Vec<u8>> {
    use base64::Engine;
    Ok(base64::engine::general_purpose::STANDARD.decode(s)?)
}

/// A new secret for a time-based second factor (160 bits, as authenticator apps expect).
pub fn new_totp_secret() -> Vec<u8> {
    random_bytes::<20>().to_vec()
}

/// End a session.
pub async fn log_out(app: &App, caller: &Caller, session_token: &str) -> Result<()> {
    let mut cmd = app.store.command(&caller.actor()).await?;
    store::close_session(&mut cmd, session_token, &caller.user.id).await?;
    cmd.commit().await?;
    Ok(())
}

/// The caller's language for pages, messages and exports.
pub async fn set_language(app: &App, caller: &Caller, lang: Lang) -> Result<()> {
    let mut cmd = app.store.command(&caller.actor()).await?;
    store::set_language(&mut cmd, &caller.user.id, lang.code()).await?;
    cmd.commit().await?;
    Ok(())
}

/// Change the caller's password. A wrong current password counts like a failed log-in, so a borrowed session
/// cannot guess it. Every session ends, this one too.
pub async fn change_password(
    app: &App,
    caller: &Caller,
    current: String,
    new_password: &str,
    confirm: &str,
) -> Result<Outcome<()>> {
    let mut f = Fields::default();
    if !store::verify_password(caller.user.password_hash.clone(), current).await {
        let mut cmd = app.store.command(&caller.actor()).await?;
        store::login_failed(&mut cmd, &caller.user.id).await?;
        cmd.commit().await?;
        f.add("current", "error.password_current");
    }
    if let Err(e) = check_password(&caller.user.username, new_password) {
        f.add("new_password", e.key());
    } else if new_password != confirm {
        f.add("confirm", "error.password_confirm");
    }
    if f.has_errors() {
        return Ok(Err(f.errors));
    }
    let hash = store::hash_password(new_password.to_owned()).await?;
    let mut cmd = app.store.command(&caller.actor()).await?;
    store::set_password(&mut cmd, &caller.user.id, &hash).await?;
    cmd.commit().await?;
    Ok(Ok(()))
}

/// A second factor set up: the recovery codes to write down (shown once), and the new token of a session
/// that was limited to enrolment.
pub struct Enrolled {
    pub recovery_codes: Vec<String>,
    pub new_token: Option<String>,
}

/// Set up the caller's second factor with a secret they scanned (base64) and a first code from it.
/// `session` is the caller's session (token and stage), when they came with one.
pub async fn enrol_totp(
    app: &App,
    caller: &Caller,
    secret_b64: &str,
    code: &str,
    session: Option<(&str, &str)>,
) -> Result<Outcome<Enrolled>> {
    if caller.user.totp_enabled {
        // Replacing a working second factor goes through turning it off, which asks for the password.
        return Err(Error::BadRequest("already enrolled".into()));
    }
    let secret = base64_decode(secret_b64).unwrap_or_default();
    if secret.len() != 20 {
        return Err(Error::BadRequest("secret".into()));
    }
    let Some(step) = totp_step_matching(&secret, code, app.store.now()) else {
        return Ok(Fields::one("code", "error.totp_wrong"));
    };
    let codes = store::new_recovery_codes();
    let hashes: Vec<String> = codes.iter().map(|c| store::recovery_code_hash(&app.store.keys, c)).collect();
    let sealed = app.store.keys.seal("users", "totp_secret", &caller.user.id, secret_b64);
    let mut cmd = app.store.command(&caller.actor()).await?;
    store::set_totp(&mut cmd, &caller.user.id, Some(sealed), true, &hashes).await?;
    store::use_totp_step(&mut cmd, &caller.user.id, step).await?;
    // A session that was limited to enrolment becomes a full one, under a new token.
    let new_token = match session {
        Some((token, "enrol")) => Some(store::complete_second_factor(&mut cmd, token, &caller.user.id).await?),
        _ => None,
    };
    cmd.commit().await?;
    Ok(Ok(Enrolled { recovery_codes: codes, new_token }))
}

/// Turn the caller's second factor off, with their password; refused when a role of theirs requires one.
pub async fn disable_totp(app: &App, caller: &Caller, current: String) -> Result<Outcome<()>> {
    let required = app.store.roles_requiring_totp().await?.iter().any(|r| caller.user.roles.contains(r));
    if required {
        return Ok(Fields::one("totp", "error.totp_required"));
    }
    if !store::verify_password(caller.user.password_hash.clone(), current).await {
        return Ok(Fields::one("current", "error.password_current"));
    }
    let mut cmd = app.store.command(&caller.actor()).await?;
    store::set_totp(&mut cmd, &caller.user.id, None, false, &[]).await?;
    cmd.commit().await?;
    Ok(Ok(()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totp_accepts_adjacent_steps_only() {
        let secret = b"12345678901234567890".to_vec();
        let totp = totp_rs::TOTP::new(totp_rs::Algorithm::SHA1, 6, 1, 30, secret.clone()).expect("totp");
        // RFC 6238 test vector: T = 59 s gives 287082 for SHA-1 with 6 digits.
        assert_eq!(totp.generate(59), "287082");
        assert_eq!(totp_step_matching(&secret, "287082", 59_000), Some(1));
        assert_eq!(totp_step_matching(&secret, "287 082", 75_000), Some(1), "next step still accepts the last code");
        assert_eq!(totp_step_matching(&secret, "287082", 200_000), None);
        assert_eq!(totp_step_matching(&secret, "28708", 59_000), None);
    }
}
