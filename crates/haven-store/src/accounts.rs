//! Accounts: users and their roles, password hashes (argon2id, computed off the async runtime), sessions kept
//! in the database so several servers can share them, API tokens and recovery codes stored only as hashes,
//! the sealed TOTP secret, lock-out counters, and which roles must use a second factor.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use haven_domain::account::lockout_for;
use haven_domain::time::Millis;
use haven_domain::Role;
use rand_core::OsRng;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::crypto::random_bytes;
use crate::db::RowExt;
use crate::{new_id, Command, Entry, Store};

pub async fn hash_password(password: String) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| anyhow::anyhow!("hashing the password: {e}"))
    })
    .await?
}

pub async fn verify_password(hash: String, password: String) -> bool {
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .map(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}

/// A secret handed out once (session cookie, API token, recovery code); only its hash is stored.
pub fn new_secret(prefix: &str) -> String {
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(random_bytes::<32>()))
}

pub fn secret_hash(secret: &str) -> String {
    Sha256::digest(secret.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

#[derive(Clone, Debug, Serialize)]
pub struct User {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub agency_id: String,
    pub roles: Vec<Role>,
    pub disabled: bool,
    pub totp_enabled: bool,
    pub failed_logins: i64,
    pub locked_until: Millis,
    pub lang: String,
    #[serde(skip)]
    pub password_hash: String,
}

const USER_COLS: &str = "id, username, display_name, agency_id, disabled, totp_enabled, failed_logins, \
                         locked_until, lang, password_hash";

/// The user's columns of `users u`, then `r.role` of `user_roles r` joined on the user: such a query answers
/// one row per role (one with no role for a user without), read by [`user_from_rows`]. One statement for a
/// user and their roles, on every authenticated request.
fn user_cols_with_role() -> String {
    let mut cols: Vec<String> = USER_COLS.split(", ").map(|c| format!("u.{c}")).collect();
    cols.push("r.role".into());
    cols.join(", ")
}

const WITH_ROLES: &str = "LEFT JOIN user_roles r ON r.user_id = u.id";

/// A user from rows whose columns from `at` on are [`user_cols_with_role`]; `None` without rows.
fn user_from_rows(rows: &[crate::db::Row], at: usize) -> anyhow::Result<Option<User>> {
    let Some(r) = rows.first() else { return Ok(None) };
    let mut roles = Vec::new();
    for row in rows {
        let code: Option<String> = row.try_get(at + 10)?;
        roles.extend(code.as_deref().and_then(Role::from_code));
    }
    Ok(Some(User {
        id: r.try_get(at)?,
        username: r.try_get(at + 1)?,
        display_name: r.try_get(at + 2)?,
        agency_id: r.try_get(at + 3)?,
        roles,
        disabled: r.try_get::<i64, _>(at + 4)? != 0,
        totp_enabled: r.try_get::<i64, _>(at + 5)? != 0,
        failed_logins: r.try_get(at + 6)?,
        locked_until: r.try_get(at + 7)?,
        lang: r.try_get(at + 8)?,
        password_hash: r.try_get(at + 9)?,
    }))
}

impl Store {
    async fn user_where(&self, clause: &str, value: &str) -> anyhow::Result<Option<User>> {
        let rows = sqlx::query(&format!(
            "SELECT {} FROM users u {WITH_ROLES} WHERE u.{clause} = $1 ORDER BY r.role",
            user_cols_with_role()
        ))
        .bind(value)
        .fetch_all(self.db.pool())
        .await?;
        user_from_rows(&rows, 0)
    }

    pub async fn user_by_name(&self, username: &str) -> anyhow::Result<Option<User>> {
        self.user_where("username", username).await
    }

    pub async fn user(&self, id: &str) -> anyhow::Result<Option<User>> {
        self.user_where("id", id).await
    }

    /// Users, optionally of one agency, by user name, with their roles.
    pub async fn users(&self, agency_id: Option<&str>) -> anyhow::Result<Vec<User>> {
        let ids: Vec<String> = match agency_id {
            Some(a) => {
                sqlx::query_scalar("SELECT id FROM users WHERE agency_id = $1 ORDER BY username")
                    .bind(a)
                    .fetch_all(self.db.pool())
                    .await?
            }
            None => sqlx::query_scalar("SELECT id FROM users ORDER BY username").fetch_all(self.db.pool()).await?,
        };
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(u) = self.user(&id).await? {
                out.push(u);
            }
        }
        Ok(out)
    }

    /// A session with its user and roles in one query, for every authenticated request.
    pub async fn session_with_user(&self, token: &str) -> anyhow::Result<Option<(Session, User)>> {
        let rows = sqlx::query(&format!(
            "SELECT s.stage, s.csrf, s.created_at, s.last_seen_at, {} FROM sessions s JOIN users u ON u.id = s.user_id \
             {WITH_ROLES} WHERE s.token_hash = $1 ORDER BY r.role",
            user_cols_with_role()
        ))
        .bind(secret_hash(token))
        .fetch_all(self.db.pool())
        .await?;
        let Some(user) = user_from_rows(&rows, 4)? else { return Ok(None) };
        let r = &rows[0];
        let session = Session {
            user_id: user.id.clone(),
            stage: r.try_get(0)?,
            csrf: r.try_get(1)?,
            created_at: r.try_get(2)?,
            last_seen_at: r.try_get(3)?,
        };
        Ok(Some((session, user)))
    }

    /// The live session for a cookie token, if any, with its user.
    pub async fn session(&self, token: &str) -> anyhow::Result<Option<Session>> {
        let row =
            sqlx::query("SELECT user_id, stage, csrf, created_at, last_seen_at FROM sessions WHERE token_hash = $1")
                .bind(secret_hash(token))
                .fetch_optional(self.db.pool())
                .await?;
        let Some(r) = row else { return Ok(None) };
        Ok(Some(Session {
            user_id: r.try_get(0)?,
            stage: r.try_get(1)?,
            csrf: r.try_get(2)?,
            created_at: r.try_get(3)?,
            last_seen_at: r.try_get(4)?,
        }))
    }

    /// Note activity on a session; not an audited change (it records no one's data). Callers write it at
    /// most once a minute per session to spare the database.
    pub async fn touch_session(&self, token: &str, now: Millis) -> anyhow::Result<()> {
        sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2 AND last_seen_at < $3")
            .bind(now)
            .bind(secret_hash(token))
            .bind(now - 60_000)
            .execute(self.db.pool())
            .await?;
        Ok(())
    }

    /// The user an API token belongs to, if the token is live.
    pub async fn user_by_token(&self, token: &str) -> anyhow::Result<Option<User>> {
        let rows = sqlx::query(&format!(
            "SELECT {} FROM api_tokens t JOIN users u ON u.id = t.user_id {WITH_ROLES} \
             WHERE t.token_hash = $1 AND t.revoked_at IS NULL ORDER BY r.role",
            user_cols_with_role()
        ))
        .bind(secret_hash(token))
        .fetch_all(self.db.pool())
        .await?;
        user_from_rows(&rows, 0)
    }

    pub async fn totp_secret_sealed(&self, user_id: &str) -> anyhow::Result<Option<Vec<u8>>> {
        Ok(sqlx::query_scalar("SELECT totp_secret FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_optional(self.db.pool())
            .await?
            .flatten())
    }

    /// Roles that must use a second factor.
    pub async fn roles_requiring_totp(&self) -> anyhow::Result<Vec<Role>> {
        let codes: Vec<String> = sqlx::query_scalar("SELECT role FROM role_policies WHERE require_totp = 1")
            .fetch_all(self.db.pool())
            .await?;
        Ok(codes.iter().filter_map(|c| Role::from_code(c)).collect())
    }

    pub async fn unused_recovery_codes(&self, user_id: &str) -> anyhow::Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL")
            .bind(user_id)
            .fetch_one(self.db.pool())
            .await?)
    }
}

#[derive(Clone, Debug)]
pub struct Session {
    pub user_id: String,
    /// "totp" while the second factor is awaited, "full" after.
    pub stage: String,
    pub csrf: String,
    pub created_at: Millis,
    pub last_seen_at: Millis,
}

pub struct NewUser<'a> {
    pub username: &'a str,
    pub display_name: &'a str,
    pub agency_id: &'a str,
    pub roles: &'a [Role],
    pub password_hash: &'a str,
}

pub async fn create_user(cmd: &mut Command, u: &NewUser<'_>) -> anyhow::Result<String> {
    let id = new_id();
    sqlx::query(
        "INSERT INTO users (id, username, display_name, agency_id, password_hash, password_changed_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $6)",
    )
    .bind(&id)
    .bind(u.username)
    .bind(u.display_name)
    .bind(u.agency_id)
    .bind(u.password_hash)
    .bind(cmd.at)
    .execute(&mut *cmd.tx)
    .await?;
    write_roles(cmd, &id, u.roles).await?;
    cmd.audit(Entry::new("user.create", "user", &id).fields(&[
        "username",
        "display_name",
        "agency_id",
        "roles",
        "password",
    ]))
    .await?;
    Ok(id)
}

async fn write_roles(cmd: &mut Command, user_id: &str, roles: &[Role]) -> anyhow::Result<()> {
    sqlx::query("DELETE FROM user_roles WHERE user_id = $1").bind(user_id).execute(&mut *cmd.tx).await?;
    for r in roles {
        sqlx::query("INSERT INTO user_roles (user_id, role) VALUES ($1, $2)")
            .bind(user_id)
            .bind(r.code())
            .execute(&mut *cmd.tx)
            .await?;
    }
    Ok(())
}

pub async fn set_roles(cmd: &mut Command, user_id: &str, roles: &[Role]) -> anyhow::Result<()> {
    write_roles(cmd, user_id, roles).await?;
    cmd.audit(Entry::new("user.roles", "user", user_id).fields(&["roles"])).await
}

async fn end_sessions(cmd: &mut Command, user_id: &str) -> anyhow::Result<()> {
    sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(user_id).execute(&mut *cmd.tx).await?;
    Ok(())
}

/// Change a password: every session of the user ends, so a stolen session dies with the old password.
pub async fn set_password(cmd: &mut Command, user_id: &str, password_hash: &str) -> anyhow::Result<()> {
    sqlx::query("UPDATE users SET password_hash = $1, password_changed_at = $2, failed_logins = 0, locked_until = 0 WHERE id = $3")
        .bind(password_hash)
        .bind(cmd.at)
        .bind(user_id)
        .execute(&mut *cmd.tx)
        .await?;
    // A new password lifts every lock on the account, from whatever source.
    sqlx::query("DELETE FROM login_throttle WHERE user_id = $1").bind(user_id).execute(&mut *cmd.tx).await?;
    end_sessions(cmd, user_id).await?;
    cmd.audit(Entry::new("user.password", "user", user_id).fields(&["password"])).await
}

/// Disable or enable an account; disabling ends its sessions and revokes its API tokens.
pub async fn set_disabled(cmd: &mut Command, user_id: &str, disabled: bool) -> anyhow::Result<()> {
    sqlx::query("UPDATE users SET disabled = $1 WHERE id = $2")
        .bind(i64::from(disabled))
        .bind(user_id)
        .execute(&mut *cmd.tx)
        .await?;
    if disabled {
        end_sessions(cmd, user_id).await?;
        sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL")
            .bind(cmd.at)
            .bind(user_id)
            .execute(&mut *cmd.tx)
            .await?;
    }
    cmd.audit(Entry::new(if disabled { "user.disable" } else { "user.enable" }, "user", user_id).fields(&["disabled"]))
        .await
}

pub async fn set_language(cmd: &mut Command, user_id: &str, lang: &str) -> anyhow::Result<()> {
    sqlx::query("UPDATE users SET lang = $1 WHERE id = $2").bind(lang).bind(user_id).execute(&mut *cmd.tx).await?;
    cmd.audit(Entry::new("user.language", "user", user_id).fields(&["lang"])).await
}

/// Count a password attempt on an account from a source (the client's address) before the password is
/// checked, so that parallel guesses cannot all slip past the lock-out: every command holds the audit head,
/// so this read-modify-write is atomic on both databases. Returns false (and counts nothing) while that
/// account is locked for that source; other sources are not affected. [`login_succeeded`] clears the count.
pub async fn reserve_login_attempt(cmd: &mut Command, user_id: &str, source: &str) -> anyhow::Result<bool> {
    // Counts fade: a source quiet for a day, and not locked, starts again (and the table does not grow with
    // every address that ever mistyped). Only this account's rows are touched, along the primary key.
    sqlx::query("DELETE FROM login_throttle WHERE user_id = $1 AND updated_at < $2 AND locked_until < $3")
        .bind(user_id)
        .bind(cmd.at - THROTTLE_MEMORY)
        .bind(cmd.at)
        .execute(&mut *cmd.tx)
        .await?;
    let row: Option<(i64, i64)> =
        sqlx::query_as("SELECT failures, locked_until FROM login_throttle WHERE user_id = $1 AND source = $2")
            .bind(user_id)
            .bind(source)
            .fetch_optional(&mut *cmd.tx)
            .await?;
    let (failures, locked_until) = row.unwrap_or((0, 0));
    if locked_until > cmd.at {
        cmd.audit(Entry::new("auth.login_locked", "user", user_id)).await?;
        return Ok(false);
    }
    let failures = failures + 1;
    let lock = lockout_for(failures);
    let until = if lock > 0 { cmd.at + lock } else { 0 };
    sqlx::query(
        "INSERT INTO login_throttle (user_id, source, failures, locked_until, updated_at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (user_id, source) DO UPDATE SET failures = $3, locked_until = $4, updated_at = $5",
    )
    .bind(user_id)
    .bind(source)
    .bind(failures)
    .bind(until)
    .bind(cmd.at)
    .execute(&mut *cmd.tx)
    .await?;
    cmd.audit(Entry::new("auth.login_attempt", "user", user_id).fields(&["failed_logins"])).await?;
    Ok(true)
}

/// How long failed log-ins from a source are remembered once it has gone quiet (and is not locked).
const THROTTLE_MEMORY: Millis = haven_domain::time::DAY;

/// A correct password from a source: its count of failures starts again.
pub async fn login_succeeded(cmd: &mut Command, user_id: &str, source: &str) -> anyhow::Result<()> {
    sqlx::query("DELETE FROM login_throttle WHERE user_id = $1 AND source = $2")
        .bind(user_id)
        .bind(source)
        .execute(&mut *cmd.tx)
        .await?;
    Ok(())
}

/// Record that a reserved attempt failed (it was already counted).
pub async fn attempt_failed(cmd: &mut Command, user_id: &str) -> anyhow::Result<()> {
    cmd.audit(Entry::new("auth.login_failed", "user", user_id)).await
}

/// A failed log-in: count it and lock the account for the back-off the domain prescribes.
pub async fn login_failed(cmd: &mut Command, user_id: &str) -> anyhow::Result<()> {
    let failures: i64 = sqlx::query_scalar("SELECT failed_logins FROM users WHERE id = $1")
        .bind(user_id)
        .fetch_one(&mut *cmd.tx)
        .await?;
    let failures = failures + 1;
    let lock = lockout_for(failures);
    sqlx::query("UPDATE users SET failed_logins = $1, locked_until = $2 WHERE id = $3")
        .bind(failures)
        .bind(if lock > 0 { cmd.at + lock } else { 0 })
        .bind(user_id)
        .execute(&mut *cmd.tx)
        .await?;
    cmd.audit(Entry::new("auth.login_failed", "user", user_id).fields(&["failed_logins"])).await
}

/// A correct password (or second factor): open a session at `stage` ("totp" while the second factor is
/// awaited, "enrol" when the user must set one up first, "full") and return its cookie token. Failure
/// counters reset only once the log-in is complete, so guessing second-factor codes cannot reset them.
pub async fn open_session(cmd: &mut Command, user_id: &str, stage: &str) -> anyhow::Result<String> {
    let token = new_secret("");
    // The account's own count (second-factor guesses, wrong current passwords) goes on until the log-in is
    // complete, so typing the password again between second-factor guesses cannot reset it.
    if stage != "totp" {
        sqlx::query("UPDATE users SET failed_logins = 0, locked_until = 0 WHERE id = $1")
            .bind(user_id)
            .execute(&mut *cmd.tx)
            .await?;
    }
    sqlx::query("INSERT INTO sessions (token_hash, user_id, stage, csrf, created_at, last_seen_at) VALUES ($1, $2, $3, $4, $5, $5)")
        .bind(secret_hash(&token))
        .bind(user_id)
        .bind(stage)
        .bind(new_secret(""))
        .bind(cmd.at)
        .execute(&mut *cmd.tx)
        .await?;
    let action = match stage {
        "totp" => "auth.password_ok",
        "enrol" => "auth.login_enrol",
        _ => "auth.login",
    };
    cmd.audit(Entry::new(action, "user", user_id)).await?;
    Ok(token)
}

/// Replace a session after the second factor (a new token, so a token seen before the step is useless).
pub async fn complete_second_factor(cmd: &mut Command, old_token: &str, user_id: &str) -> anyhow::Result<String> {
    sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
        .bind(secret_hash(old_token))
        .execute(&mut *cmd.tx)
        .await?;
    open_session(cmd, user_id, "full").await
}

pub async fn close_session(cmd: &mut Command, token: &str, user_id: &str) -> anyhow::Result<()> {
    sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(secret_hash(token)).execute(&mut *cmd.tx).await?;
    cmd.audit(Entry::new("auth.logout", "user", user_id)).await
}

/// Accept a TOTP time step once only: returns false when this step (or a later one) was already used.
pub async fn use_totp_step(cmd: &mut Command, user_id: &str, step: i64) -> anyhow::Result<bool> {
    let n = sqlx::query("UPDATE users SET totp_last_step = $1 WHERE id = $2 AND totp_last_step < $1")
        .bind(step)
        .bind(user_id)
        .execute(&mut *cmd.tx)
        .await?
        .rows_affected();
    Ok(n == 1)
}

/// Store a sealed TOTP secret; `enabled` turns the second factor on. Recovery codes are replaced.
pub async fn set_totp(
    cmd: &mut Command,
    user_id: &str,
    sealed: Option<Vec<u8>>,
    enabled: bool,
    recovery_hashes: &[String],
) -> anyhow::Result<()> {
    sqlx::query("UPDATE users SET totp_secret = $1, totp_enabled = $2, totp_last_step = 0 WHERE id = $3")
        .bind(sealed)
        .bind(i64::from(enabled))
        .bind(user_id)
        .execute(&mut *cmd.tx)
        .await?;
    sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1").bind(user_id).execute(&mut *cmd.tx).await?;
    for h in recovery_hashes {
        sqlx::query("INSERT INTO recovery_codes (user_id, code_hash) VALUES ($1, $2)")
            .bind(user_id)
            .bind(h)
            .execute(&mut *cmd.tx)
            .await?;
    }
    cmd.audit(
        Entry::new(if enabled { "user.totp_enable" } else { "user.totp_disable" }, "user", user_id)
            .fields(&["totp_secret", "recovery_codes"]),
    )
    .await
}

/// The stored form of a recovery code: a keyed hash (under the blind-index key), because the codes are short
/// enough that a plain hash could be reversed by anyone holding a copy of the database.
pub fn recovery_code_hash(keys: &crate::Keyring, code: &str) -> String {
    keys.blind(crate::crypto::BlindKind::RecoveryCode, code.trim())
}

/// Use a recovery code once; returns whether it was valid and unused.
pub async fn use_recovery_code(
    cmd: &mut Command,
    keys: &crate::Keyring,
    user_id: &str,
    code: &str,
) -> anyhow::Result<bool> {
    let n =
        sqlx::query("UPDATE recovery_codes SET used_at = $1 WHERE user_id = $2 AND code_hash = $3 AND used_at IS NULL")
            .bind(cmd.at)
            .bind(user_id)
            .bind(recovery_code_hash(keys, code))
            .execute(&mut *cmd.tx)
            .await?
            .rows_affected();
    if n == 1 {
        cmd.audit(Entry::new("auth.recovery_code_used", "user", user_id)).await?;
    }
    Ok(n == 1)
}

pub async fn set_role_policy(cmd: &mut Command, role: Role, require_totp: bool) -> anyhow::Result<()> {
    sqlx::query("DELETE FROM role_policies WHERE role = $1").bind(role.code()).execute(&mut *cmd.tx).await?;
    sqlx::query("INSERT INTO role_policies (role, require_totp) VALUES ($1, $2)")
        .bind(role.code())
        .bind(i64::from(require_totp))
        .execute(&mut *cmd.tx)
        .await?;
    cmd.audit(Entry::new("policy.require_totp", "role", role.code()).fields(&["require_totp"])).await
}

/// Issue an API token for a user; the token is returned once and stored hashed.
pub async fn create_token(cmd: &mut Command, user_id: &str, label: &str) -> anyhow::Result<String> {
    let token = new_secret("hvn_");
    let id = new_id();
    sqlx::query("INSERT INTO api_tokens (id, user_id, token_hash, label, created_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(&id)
        .bind(user_id)
        .bind(secret_hash(&token))
        .bind(label)
        .bind(cmd.at)
        .execute(&mut *cmd.tx)
        .await?;
    cmd.audit(Entry::new("token.create", "api_token", &id).fields(&["user_id", "label"])).await?;
    Ok(token)
}

/// Recovery codes: ten short codes shown once.
pub fn new_recovery_codes() -> Vec<String> {
    (0..10)
        .map(|_| {
            let b: [u8; 5] = random_bytes();
            let n = b.iter().fold(0u64, |acc, x| (acc << 8) | u64::from(*x)) % 10_000_000_000;
            format!("{:05}-{:05}", n / 100_000, n % 100_000)
        })
        .collect()
}
