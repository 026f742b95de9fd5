//! Single-use tokens mailed to people: the link of a login invitation
//! ("Send login") and of a password reset. This module makes a token,
//! hashes it, says how long it is valid and whether a new reset mail may go
//! out; it does no I/O and never reads the clock.
//!
//! Only the SHA-256 of a token is stored ([`NewLoginToken::token_hash`]);
//! the token itself ([`RawToken`]) exists only in the mail, so a copy of the
//! database opens no account. Using a token up is the store's job
//! ([`crate::store::TokenRepo`]), atomically.

use std::fmt;

use chrono::{DateTime, Duration, Utc};
use rand::RngCore;
use rand::rngs::OsRng;
use serde::{Deserialize, Serialize};

use crate::id::PersonId;

/// How long a password-reset link works: 48 hours, as in hitobito (section
/// 2.3 of the domain description).
pub const PASSWORD_RESET_VALIDITY: Duration = Duration::hours(48);

/// How long an invitation link works: seven days. An invitation goes to
/// someone who did not ask for it and may not read their mail for a few
/// days, so it lives longer than a reset the person asked for a minute ago;
/// it is still single use, and a reset can always be requested afterwards.
pub const INVITATION_VALIDITY: Duration = Duration::days(7);

/// No new reset mail goes out while the person has an open reset token
/// younger than this, so that the "Forgot password?" form cannot be used to
/// flood someone's mailbox.
pub const RESET_RESEND_AFTER: Duration = Duration::minutes(5);

// TODO: used and expired rows of `login_tokens` are never deleted. A
// `TokenRepo` method deleting the rows expired before a cutoff, called by
// the recurring session clean-up job, would keep the table small.

/// Random bytes in a token.
const TOKEN_BYTES: usize = 32;

/// The length of a token's text: 32 bytes in unpadded base64url.
pub const TOKEN_TEXT_LEN: usize = 43;

/// What a token lets its holder do once.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenPurpose {
    /// Set a first password, from a "Send login" mail.
    Invitation,
    /// Set a new password, from a "Forgot password?" request.
    PasswordReset,
}

impl TokenPurpose {
    /// The stored form (`login_tokens.purpose`).
    pub fn as_str(self) -> &'static str {
        match self {
            TokenPurpose::Invitation => "invitation",
            TokenPurpose::PasswordReset => "password_reset",
        }
    }

    /// The purpose of a stored form; none for anything else.
    pub fn parse(text: &str) -> Option<TokenPurpose> {
        match text {
            "invitation" => Some(TokenPurpose::Invitation),
            "password_reset" => Some(TokenPurpose::PasswordReset),
            _ => None,
        }
    }

    /// How long a token of this purpose works after it was made.
    pub fn validity(self) -> Duration {
        match self {
            TokenPurpose::Invitation => INVITATION_VALIDITY,
            TokenPurpose::PasswordReset => PASSWORD_RESET_VALIDITY,
        }
    }
}

impl fmt::Display for TokenPurpose {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A token as it goes into the link: 43 characters of base64url. Its
/// `Debug` output hides it, so it never reaches a log by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct RawToken(String);

impl RawToken {
    /// A new token from the operating system's random source.
    pub fn generate() -> RawToken {
        let mut bytes = [0u8; TOKEN_BYTES];
        OsRng.fill_bytes(&mut bytes);
        RawToken::from_bytes(bytes)
    }

    /// The token of these random bytes (tests pass fixed ones).
    pub fn from_bytes(bytes: [u8; TOKEN_BYTES]) -> RawToken {
        RawToken(base64url(&bytes))
    }

    /// The text for the link.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The hash the store keeps for this token.
    pub fn hash(&self) -> String {
        token_hash(&self.0)
    }
}

impl fmt::Debug for RawToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RawToken(<redacted>)")
    }
}

/// The SHA-256 of a token's text, hex encoded: what the store looks a
/// token up by.
pub fn token_hash(text: &str) -> String {
    crate::auth::token_hash(text)
}

/// Whether `text` has the form of a token (43 base64url characters), so
/// that a mangled link is refused before any lookup.
pub fn is_well_formed(text: &str) -> bool {
    text.len() == TOKEN_TEXT_LEN
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A token to store: who it is for, what for, its hash and its lifetime.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewLoginToken {
    pub person_id: PersonId,
    pub purpose: TokenPurpose,
    /// [`token_hash`] of the token in the mail.
    pub token_hash: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

impl NewLoginToken {
    /// A fresh token for `person_id`, valid for its purpose's
    /// [`TokenPurpose::validity`] from `now`: the text for the mail, and
    /// the record for the store.
    pub fn issue(
        person_id: PersonId,
        purpose: TokenPurpose,
        now: DateTime<Utc>,
    ) -> (RawToken, NewLoginToken) {
        NewLoginToken::issue_with(RawToken::generate(), person_id, purpose, now)
    }

    /// As [`NewLoginToken::issue`], with a given token.
    pub fn issue_with(
        raw: RawToken,
        person_id: PersonId,
        purpose: TokenPurpose,
        now: DateTime<Utc>,
    ) -> (RawToken, NewLoginToken) {
        let record = NewLoginToken {
            person_id,
            purpose,
            token_hash: raw.hash(),
            created_at: now,
            expires_at: now + purpose.validity(),
        };
        (raw, record)
    }
}

/// A stored token, without its hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LoginToken {
    pub person_id: PersonId,
    pub purpose: TokenPurpose,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// When it was used up (or made void by another token's use).
    pub used_at: Option<DateTime<Utc>>,
}

impl LoginToken {
    /// Whether the token still works at `now`: not used and not expired.
    pub fn is_open(&self, now: DateTime<Utc>) -> bool {
        self.used_at.is_none() && now < self.expires_at
    }
}

/// Whether a new password-reset mail may go out at `now`, given when the
/// person's newest open reset token was made (none: no open token).
pub fn may_send_reset(newest_open_reset: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    newest_open_reset.is_none_or(|made| now - made >= RESET_RESEND_AFTER)
}

/// Unpadded base64url (RFC 4648, section 5).
fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        // A chunk of k bytes gives k + 1 characters.
        for i in 0..=chunk.len() {
            let index = (n >> (18 - 6 * i)) & 0x3f;
            out.push(char::from(ALPHABET[index as usize]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use rstest::rstest;

    use super::*;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 5, 1, 9, 0, 0)
            .single()
            .expect("a valid instant")
    }

    #[rstest]
    #[case(b"", "")]
    #[case(b"f", "Zg")]
    #[case(b"fo", "Zm8")]
    #[case(b"foo", "Zm9v")]
    #[case(b"foob", "Zm9vYg")]
    #[case(b"fooba", "Zm9vYmE")]
    #[case(b"foobar", "Zm9vYmFy")]
    #[case(&[0xfb, 0xff, 0xbf], "-_-_")]
    fn base64url_matches_the_rfc_vectors(#[case] bytes: &[u8], #[case] text: &str) {
        assert_eq!(base64url(bytes), text);
    }

    #[test]
    fn generated_tokens_are_well_formed_and_differ() {
        let a = RawToken::generate();
        let b = RawToken::generate();
        assert!(is_well_formed(a.as_str()), "{}", a.as_str());
        assert_eq!(a.as_str().len(), TOKEN_TEXT_LEN);
        assert_ne!(a, b);
    }

    #[rstest]
    #[case("")]
    #[case("short")]
    #[case("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")]
    #[case("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/")]
    #[case("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    fn mangled_tokens_are_not_well_formed(#[case] text: &str) {
        assert!(!is_well_formed(text));
    }

    #[test]
    fn the_record_keeps_the_hash_not_the_token() {
        let raw = RawToken::from_bytes([7; 32]);
        let (raw, record) =
            NewLoginToken::issue_with(raw, PersonId(3), TokenPurpose::PasswordReset, t0());
        assert_eq!(record.token_hash.len(), 64);
        assert_ne!(record.token_hash, raw.as_str());
        assert_eq!(record.token_hash, token_hash(raw.as_str()));
        assert!(!format!("{raw:?} {record:?}").contains(raw.as_str()));
    }

    #[rstest]
    #[case(TokenPurpose::PasswordReset, Duration::hours(48))]
    #[case(TokenPurpose::Invitation, Duration::days(7))]
    fn tokens_expire_after_their_purposes_validity(
        #[case] purpose: TokenPurpose,
        #[case] validity: Duration,
    ) {
        let (_, record) = NewLoginToken::issue(PersonId(1), purpose, t0());
        assert_eq!(record.expires_at, t0() + validity);
        let token = LoginToken {
            person_id: PersonId(1),
            purpose,
            created_at: record.created_at,
            expires_at: record.expires_at,
            used_at: None,
        };
        assert!(token.is_open(t0() + validity - Duration::seconds(1)));
        assert!(!token.is_open(t0() + validity));
        let used = LoginToken {
            used_at: Some(t0()),
            ..token
        };
        assert!(!used.is_open(t0()));
    }

    #[rstest]
    #[case(None, true)]
    #[case(Some(Duration::minutes(1)), false)]
    #[case(Some(Duration::seconds(299)), false)]
    #[case(Some(Duration::minutes(5)), true)]
    #[case(Some(Duration::hours(3)), true)]
    fn a_reset_mail_waits_five_minutes_after_the_last(
        #[case] age: Option<Duration>,
        #[case] may_send: bool,
    ) {
        let newest = age.map(|a| t0() - a);
        assert_eq!(may_send_reset(newest, t0()), may_send);
    }

    #[test]
    fn purposes_round_trip_through_their_stored_form() {
        for p in [TokenPurpose::Invitation, TokenPurpose::PasswordReset] {
            assert_eq!(TokenPurpose::parse(p.as_str()), Some(p));
        }
        assert_eq!(TokenPurpose::parse("other"), None);
    }
}
