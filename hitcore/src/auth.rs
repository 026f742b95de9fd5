//! Passwords and session tokens: argon2id hashing, the lock-out rule and
//! random tokens. No I/O; the stores keep what this module produces.

use argon2::Argon2;
use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use chrono::{DateTime, Duration, Utc};
use sha2::{Digest, Sha256};

/// Failed logins in a row that lock an account (section 2.3).
pub const MAX_FAILED_ATTEMPTS: u32 = 5;
/// How long a locked account stays locked.
pub const LOCK_DURATION: Duration = Duration::hours(1);
/// Shortest and longest accepted password, in characters.
pub const PASSWORD_LENGTH: std::ops::RangeInclusive<usize> = 12..=128;

/// Hashes a password with argon2id and a random salt, as a PHC string.
///
/// # Errors
/// Only if the hasher rejects its parameters, which the defaults never do.
pub fn hash_password(password: &str) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut OsRng);
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)?
        .to_string())
}

/// Whether `password` matches the PHC string `hash`. A malformed hash
/// never matches.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// Whether an account locked at `locked_at` is still locked at `now`.
pub fn is_locked(locked_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    locked_at.is_some_and(|l| now < l + LOCK_DURATION)
}

/// A new random token of 32 bytes, hex encoded, for cookies and links.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The SHA-256 of a token, hex encoded; stores keep this, never the token.
pub fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A random password for the first administrator when none is configured.
pub fn generate_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut bytes = [0u8; 20];
    OsRng.fill_bytes(&mut bytes);
    bytes
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_password_verifies_and_wrong_one_does_not() {
        let hash = hash_password("correct horse battery").expect("hash");
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &hash));
        assert!(!verify_password("wrong horse battery", &hash));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn lock_lasts_one_hour() {
        let t = Utc::now();
        assert!(is_locked(Some(t), t + Duration::minutes(59)));
        assert!(!is_locked(Some(t), t + Duration::minutes(61)));
        assert!(!is_locked(None, t));
    }
}
