//! The login token contract ([`TokenRepo`]) on every store: a token is
//! found by its hash while it is open, works once (of two uses at once,
//! one wins), not after it expired, not for another purpose; using one
//! voids the person's other open tokens but nobody else's; and the resend
//! limit sees the newest open token.
//!
//! Runs on SQLite in memory and in a file always, and on PostgreSQL when
//! `HIT_TEST_POSTGRES_URL` is set, each with a fresh database. Time is an
//! argument of every call, so the tests move it instead of sleeping.

mod common;

use chrono::{DateTime, Duration, Utc};
use hitcore::PersonId;
use hitcore::login_token::{NewLoginToken, RawToken, TokenPurpose};
use hitcore::store::StoreError;

use common::{MEMBER, World, each_store, t0};

const RESET: TokenPurpose = TokenPurpose::PasswordReset;
const INVITATION: TokenPurpose = TokenPurpose::Invitation;

fn minutes(n: i64) -> DateTime<Utc> {
    t0() + Duration::minutes(n)
}

/// A person of the world's members group.
fn someone(w: &World<'_>, first: &str) -> PersonId {
    w.person(first, "Token", &w.root_members, MEMBER).id
}

/// Stores a fresh token of `purpose` for `person`, made at `now`; returns
/// its hash.
fn issue(w: &World<'_>, person: PersonId, purpose: TokenPurpose, now: DateTime<Utc>) -> String {
    let (_, record) = NewLoginToken::issue(person, purpose, now);
    w.s.create_login_token(&record).expect("token stored");
    record.token_hash
}

#[test]
fn an_open_token_is_found_without_being_used_up() {
    each_store(|w| {
        let ann = someone(w, "Ann");
        let hash = issue(w, ann, RESET, t0());
        for _ in 0..2 {
            let token =
                w.s.open_login_token(&hash, RESET, minutes(1))
                    .expect("lookup")
                    .expect("open");
            assert_eq!(token.person_id, ann);
            assert_eq!(token.purpose, RESET);
            assert_eq!(token.created_at, t0());
            assert_eq!(token.expires_at, t0() + Duration::hours(48));
            assert_eq!(token.used_at, None);
        }
    });
}

#[test]
fn a_token_works_once() {
    each_store(|w| {
        let ann = someone(w, "Ann");
        let hash = issue(w, ann, RESET, t0());
        let used =
            w.s.consume_login_token(&hash, RESET, minutes(1))
                .expect("consume")
                .expect("the first use works");
        assert_eq!(used.person_id, ann);
        assert_eq!(used.used_at, Some(minutes(1)));
        assert_eq!(
            w.s.consume_login_token(&hash, RESET, minutes(2))
                .expect("consume"),
            None,
            "second use"
        );
        assert_eq!(
            w.s.open_login_token(&hash, RESET, minutes(2))
                .expect("lookup"),
            None,
            "a used token is not open"
        );
    });
}

#[test]
fn an_expired_token_is_refused() {
    each_store(|w| {
        let ann = someone(w, "Ann");
        let hash = issue(w, ann, RESET, t0());
        let expiry = t0() + Duration::hours(48);
        assert!(
            w.s.open_login_token(&hash, RESET, expiry - Duration::seconds(1))
                .expect("lookup")
                .is_some()
        );
        assert_eq!(
            w.s.open_login_token(&hash, RESET, expiry).expect("lookup"),
            None
        );
        assert_eq!(
            w.s.consume_login_token(&hash, RESET, expiry)
                .expect("consume"),
            None
        );
    });
}

#[test]
fn an_invitation_lives_longer_than_a_reset() {
    each_store(|w| {
        let ann = someone(w, "Ann");
        let hash = issue(w, ann, INVITATION, t0());
        let after_three_days = t0() + Duration::days(3);
        assert!(
            w.s.consume_login_token(&hash, INVITATION, after_three_days)
                .expect("consume")
                .is_some()
        );
    });
}

#[test]
fn a_token_is_only_good_for_its_purpose() {
    each_store(|w| {
        let ann = someone(w, "Ann");
        let hash = issue(w, ann, INVITATION, t0());
        assert_eq!(
            w.s.open_login_token(&hash, RESET, minutes(1))
                .expect("lookup"),
            None
        );
        assert_eq!(
            w.s.consume_login_token(&hash, RESET, minutes(1))
                .expect("consume"),
            None
        );
        assert!(
            w.s.consume_login_token(&hash, INVITATION, minutes(1))
                .expect("consume")
                .is_some(),
            "the failed tries did not use it up"
        );
    });
}

#[test]
fn an_unknown_hash_finds_nothing() {
    each_store(|w| {
        let hash = RawToken::generate().hash();
        assert_eq!(
            w.s.open_login_token(&hash, RESET, t0()).expect("lookup"),
            None
        );
        assert_eq!(
            w.s.consume_login_token(&hash, RESET, t0())
                .expect("consume"),
            None
        );
    });
}

#[test]
fn using_a_token_voids_the_persons_other_tokens_only() {
    each_store(|w| {
        let ann = someone(w, "Ann");
        let bob = someone(w, "Bob");
        let older_reset = issue(w, ann, RESET, t0());
        let invitation = issue(w, ann, INVITATION, minutes(1));
        let newer_reset = issue(w, ann, RESET, minutes(10));
        let bobs = issue(w, bob, RESET, minutes(10));

        assert!(
            w.s.consume_login_token(&newer_reset, RESET, minutes(11))
                .expect("consume")
                .is_some()
        );

        for (hash, purpose) in [(&older_reset, RESET), (&invitation, INVITATION)] {
            assert_eq!(
                w.s.consume_login_token(hash, purpose, minutes(12))
                    .expect("consume"),
                None,
                "{purpose}"
            );
        }
        assert!(
            w.s.open_login_token(&bobs, RESET, minutes(12))
                .expect("lookup")
                .is_some(),
            "another person's token stays open"
        );
    });
}

#[test]
fn of_two_uses_at_once_one_wins() {
    each_store(|w| {
        let ann = someone(w, "Ann");
        let hash = issue(w, ann, RESET, t0());
        let store = w.s;
        let wins = std::thread::scope(|scope| {
            let tries: Vec<_> = (0..4)
                .map(|_| scope.spawn(|| store.consume_login_token(&hash, RESET, minutes(1))))
                .collect();
            tries
                .into_iter()
                .map(|t| t.join().expect("no panic").expect("consume"))
                .filter(Option::is_some)
                .count()
        });
        assert_eq!(wins, 1);
    });
}

#[test]
fn the_newest_open_token_counts_for_the_resend_limit() {
    each_store(|w| {
        let ann = someone(w, "Ann");
        assert_eq!(
            w.s.newest_open_login_token(ann, RESET, t0())
                .expect("newest"),
            None
        );
        issue(w, ann, RESET, t0());
        issue(w, ann, RESET, minutes(3));
        issue(w, ann, INVITATION, minutes(4));
        assert_eq!(
            w.s.newest_open_login_token(ann, RESET, minutes(5))
                .expect("newest"),
            Some(minutes(3))
        );
        assert_eq!(
            w.s.newest_open_login_token(ann, INVITATION, minutes(5))
                .expect("newest"),
            Some(minutes(4))
        );
        let after_expiry = minutes(3) + Duration::hours(48);
        assert_eq!(
            w.s.newest_open_login_token(ann, RESET, after_expiry)
                .expect("newest"),
            None,
            "expired tokens do not count"
        );
    });
}

#[test]
fn a_hash_is_stored_once() {
    each_store(|w| {
        let ann = someone(w, "Ann");
        let (_, record) = NewLoginToken::issue(ann, RESET, t0());
        w.s.create_login_token(&record).expect("first");
        let again = w.s.create_login_token(&record).expect_err("second");
        assert!(
            matches!(&again, StoreError::Conflict { field } if field == "token_hash"),
            "{again:?}"
        );
    });
}

#[test]
fn a_token_for_nobody_is_refused() {
    each_store(|w| {
        let (_, record) = NewLoginToken::issue(PersonId(999_999), RESET, t0());
        let e = w.s.create_login_token(&record).expect_err("no such person");
        assert!(matches!(e, StoreError::NotFound), "{e:?}");
    });
}
