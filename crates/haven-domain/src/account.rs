//! Account-security rules: password policy, lock-out back-off after failed log-ins, and session expiry.

use crate::time::{Millis, HOUR, MINUTE};

pub const PASSWORD_MIN_CHARS: usize = 10;
pub const PASSWORD_MAX_CHARS: usize = 200;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PasswordError {
    TooShort,
    TooLong,
    SameAsUsername,
}

impl PasswordError {
    pub fn key(self) -> &'static str {
        match self {
            PasswordError::TooShort => "error.password_short",
            PasswordError::TooLong => "error.password_long",
            PasswordError::SameAsUsername => "error.password_username",
        }
    }
}

pub fn check_password(username: &str, password: &str) -> Result<(), PasswordError> {
    let n = password.chars().count();
    if n < PASSWORD_MIN_CHARS {
        return Err(PasswordError::TooShort);
    }
    if n > PASSWORD_MAX_CHARS {
        return Err(PasswordError::TooLong);
    }
    if password.to_lowercase().contains(&username.to_lowercase()) && !username.is_empty() {
        return Err(PasswordError::SameAsUsername);
    }
    Ok(())
}

/// Failures allowed before the account is locked for a while.
pub const FREE_FAILURES: i64 = 5;

/// How long an account stays locked after `failures` consecutive failed log-ins: nothing for the first five,
/// then 1, 2, 4, ... minutes, capped at one hour, so a forgotten password costs little and guessing costs a lot.
pub fn lockout_for(failures: i64) -> Millis {
    if failures < FREE_FAILURES {
        return 0;
    }
    let exp = (failures - FREE_FAILURES).min(6) as u32;
    (MINUTE * (1_i64 << exp)).min(HOUR)
}

pub const SESSION_IDLE: Millis = 30 * MINUTE;
/// How long a correct password waits for its second factor before the log-in must start again.
pub const SECOND_FACTOR_WINDOW: Millis = 5 * MINUTE;
pub const SESSION_ABSOLUTE: Millis = 12 * HOUR;

/// Whether a session is still live at `now`.
pub fn session_live(created_at: Millis, last_seen_at: Millis, now: Millis) -> bool {
    now < created_at + SESSION_ABSOLUTE && now < last_seen_at + SESSION_IDLE
}

/// A user name: lowercase letters, digits, '.', '_' or '-', 3 to 64 characters.
pub fn valid_username(name: &str) -> bool {
    (3..=64).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_rules() {
        assert_eq!(check_password("an", "short"), Err(PasswordError::TooShort));
        assert_eq!(check_password("police.officer", "xxPolice.Officerxx"), Err(PasswordError::SameAsUsername));
        assert!(check_password("police.officer", "mật khẩu đủ dài").is_ok());
        assert_eq!(check_password("a", &"x".repeat(201)), Err(PasswordError::TooLong));
    }

    #[test]
    fn lockout_backs_off_and_caps() {
        assert_eq!(lockout_for(0), 0);
        assert_eq!(lockout_for(4), 0);
        assert_eq!(lockout_for(5), MINUTE);
        assert_eq!(lockout_for(6), 2 * MINUTE);
        assert_eq!(lockout_for(9), 16 * MINUTE);
        assert_eq!(lockout_for(11), HOUR);
        assert_eq!(lockout_for(1000), HOUR);
    }

    #[test]
    fn session_idle_and_absolute_expiry() {
        assert!(session_live(0, 0, SESSION_IDLE - 1));
        assert!(!session_live(0, 0, SESSION_IDLE));
        let late = SESSION_ABSOLUTE - 1;
        assert!(session_live(0, late - 10, late));
        assert!(!session_live(0, SESSION_ABSOLUTE - 5, SESSION_ABSOLUTE));
    }

    #[test]
    fn usernames() {
        assert!(valid_username("police.officer"));
        assert!(!valid_username("Police"));
        assert!(!valid_username("ab"));
        assert!(!valid_username("a b c"));
    }
}
