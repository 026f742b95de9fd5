//! What the SQL stores share, whatever the database: the text forms of
//! timestamps, dates and group paths that `schema.sql` prescribes, the
//! parameters of a people-list query, the lock-out rule of a failed login
//! and the field a unique index conflicts on.
//!
//! Pure functions only; no driver types. Each store module converts these
//! values to and from its driver's parameters and rows (see
//! [`super::row`]).

use std::num::ParseIntError;

use chrono::{DateTime, NaiveDate, Utc};

use crate::auth::{MAX_FAILED_ATTEMPTS, is_locked};
use crate::id::{GroupId, PersonId};
use crate::role::Role;
use crate::store::{ListFilter, Login, PeopleQuery};

/// The schema both stores are created from; see `schema.sql`.
pub(crate) const SCHEMA: &str = include_str!("../../../schema.sql");
/// The highest entry of `schema_migrations` this code expects: that of
/// the last migration.
pub(crate) const SCHEMA_VERSION: i64 = super::migration::LATEST_VERSION;

/// The stored form of a timestamp: UTC, microseconds, fixed width, so that
/// text order is time order.
const TIMESTAMP_FORMAT: &str = "%Y-%m-%dT%H:%M:%S%.6fZ";
/// The stored form of a date.
const DATE_FORMAT: &str = "%Y-%m-%d";

/// At most this many words of a text filter count; the rest is ignored.
pub(crate) const MAX_TERMS: usize = 5;

/// Unique index names and the field a violation of each conflicts on.
/// Column constraints name their column in the drivers' messages already.
const UNIQUE_INDEXES: [(&str, &str); 1] = [("people_email_key", "email")];

/// The delivery counts of a list message, as the columns `sent, failed,
/// uncertain` of a query over `list_messages` (both dialects). They are
/// counted from its batches when read rather than kept on the message: a
/// counter there would be one row that every batch of the message
/// updates, and the sending sessions would queue on its lock.
pub(crate) const LIST_MESSAGE_COUNTS: &str = "\
    CAST((SELECT coalesce(sum(b.size), 0) FROM list_batches b \
          WHERE b.list_message_id = list_messages.id AND b.state = 'sent') \
         - (SELECT count(*) FROM list_refusals f WHERE f.list_message_id = list_messages.id) \
         AS BIGINT) AS sent, \
    (SELECT count(*) FROM list_refusals f WHERE f.list_message_id = list_messages.id) AS failed, \
    CAST((SELECT coalesce(sum(b.size), 0) FROM list_batches b \
          WHERE b.list_message_id = list_messages.id AND b.state = 'uncertain') \
         AS BIGINT) AS uncertain";

/// A timestamp as stored.
pub(crate) fn timestamp_text(t: DateTime<Utc>) -> String {
    t.format(TIMESTAMP_FORMAT).to_string()
}

/// A stored timestamp read back (any RFC 3339 form is accepted).
pub(crate) fn parse_timestamp(text: &str) -> Result<DateTime<Utc>, chrono::ParseError> {
    DateTime::parse_from_rfc3339(text).map(|t| t.with_timezone(&Utc))
}

/// A date as stored: `YYYY-MM-DD`.
pub(crate) fn date_text(d: NaiveDate) -> String {
    d.format(DATE_FORMAT).to_string()
}

/// A stored date read back.
pub(crate) fn parse_date(text: &str) -> Result<NaiveDate, chrono::ParseError> {
    NaiveDate::parse_from_str(text, DATE_FORMAT)
}

/// A group's path as stored: every id followed by '/'.
pub(crate) fn path_text(ids: &[GroupId]) -> String {
    ids.iter().map(|id| format!("{id}/")).collect()
}

/// A stored path, "1/5/23/", read as its ids.
pub(crate) fn parse_path(text: &str) -> Result<Vec<GroupId>, ParseIntError> {
    text.split('/')
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().map(GroupId))
        .collect()
}

/// The exclusive upper bound of the subtree range of `path`: the same text
/// with its final '/' replaced by '0', the next byte.
pub(crate) fn path_upper(path: &str) -> String {
    let stem = path.strip_suffix('/').unwrap_or(path);
    format!("{stem}0")
}

/// The field a violation of the unique index `name` conflicts on, for the
/// indexes over expressions, whose violations name no column.
pub(crate) fn field_of_index(name: &str) -> Option<&'static str> {
    UNIQUE_INDEXES
        .iter()
        .find(|(index, _)| *index == name)
        .map(|(_, field)| *field)
}

/// The role types that count in a people list: those of the query's
/// selection and of the viewer's restriction, both when both are given;
/// none means every type.
pub(crate) fn counted_types(q: &PeopleQuery) -> Option<Vec<String>> {
    match (&q.role_types, &q.filter) {
        (Some(wanted), ListFilter::RoleTypes(visible)) => Some(
            wanted
                .iter()
                .filter(|t| visible.contains(t))
                .cloned()
                .collect(),
        ),
        (Some(wanted), _) => Some(wanted.clone()),
        (None, ListFilter::RoleTypes(visible)) => Some(visible.clone()),
        (None, _) => None,
    }
}

/// One LIKE pattern per word of the filter text: lower case by Unicode's
/// rules (as the stores' `hit_fold` SQL function folds the columns), `%`,
/// `_` and `\` escaped with `\`, and a trailing `%` for the prefix match.
///
/// NUL separates words like white space: no stored field holds one
/// (PostgreSQL's text cannot, and validation refuses control characters),
/// and PostgreSQL refuses it in a parameter.
pub(crate) fn text_patterns(text: Option<&str>) -> Vec<String> {
    text.unwrap_or("")
        .split(|c: char| c.is_whitespace() || c == '\0')
        .filter(|word| !word.is_empty())
        .take(MAX_TERMS)
        .map(|word| {
            let mut p = String::with_capacity(word.len() + 2);
            for c in word.to_lowercase().chars() {
                if matches!(c, '%' | '_' | '\\') {
                    p.push('\\');
                }
                p.push(c);
            }
            p.push('%');
            p
        })
        .collect()
}

/// The offset of a 1-based page; pages and sizes of zero count as one.
///
/// Both are u32, so the product may exceed i64: an offset that large is
/// past every row anyway.
pub(crate) fn page_offset(page: u32, per_page: u32) -> i64 {
    i64::from(page.max(1) - 1).saturating_mul(i64::from(per_page.max(1)))
}

/// The people holding `roles`, each once, in id order.
pub(crate) fn distinct_people(roles: &[Role]) -> Vec<PersonId> {
    let mut ids: Vec<PersonId> = roles.iter().map(|r| r.person_id).collect();
    ids.sort();
    ids.dedup();
    ids
}

/// The login after one more failed attempt at `now`.
///
/// A lock that has run out starts the count afresh, so that the account
/// locks again after the next [`MAX_FAILED_ATTEMPTS`] failures rather than
/// never again.
pub(crate) fn after_failure(mut login: Login, now: DateTime<Utc>) -> Login {
    if login.locked_at.is_some() && !is_locked(login.locked_at, now) {
        login.locked_at = None;
        login.failed_attempts = 0;
    }
    login.failed_attempts = login.failed_attempts.saturating_add(1);
    if login.failed_attempts >= MAX_FAILED_ATTEMPTS && login.locked_at.is_none() {
        login.locked_at = Some(now);
    }
    login
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};

    use super::*;
    use crate::store::GroupScope;

    fn query(role_types: Option<&[&str]>, filter: ListFilter) -> PeopleQuery {
        PeopleQuery {
            scope: GroupScope::Group(GroupId(1)),
            filter,
            role_types: role_types.map(|t| t.iter().map(|s| s.to_string()).collect()),
            text: None,
            today: NaiveDate::default(),
            page: 1,
            per_page: 10,
        }
    }

    fn login(attempts: u32, locked_at: Option<DateTime<Utc>>) -> Login {
        Login {
            person_id: PersonId(1),
            password_hash: None,
            failed_attempts: attempts,
            locked_at,
        }
    }

    #[test]
    fn timestamps_are_fixed_width_and_read_back() {
        let t = Utc
            .with_ymd_and_hms(2025, 3, 10, 12, 0, 0)
            .single()
            .expect("valid");
        assert_eq!(timestamp_text(t), "2025-03-10T12:00:00.000000Z");
        let later = t + Duration::microseconds(1_500_001);
        assert_eq!(timestamp_text(later), "2025-03-10T12:00:01.500001Z");
        assert!(timestamp_text(t) < timestamp_text(later));
        assert_eq!(parse_timestamp(&timestamp_text(later)), Ok(later));
        let d = t.date_naive();
        assert_eq!(parse_date(&date_text(d)), Ok(d));
        assert!(parse_date("10.03.2025").is_err());
    }

    #[test]
    fn paths_read_back_as_their_ids() {
        let ids = [GroupId(1), GroupId(5), GroupId(23)];
        assert_eq!(path_text(&ids), "1/5/23/");
        assert_eq!(parse_path("1/5/23/"), Ok(ids.to_vec()));
        assert!(parse_path("1/x/").is_err());
    }

    #[test]
    fn subtree_upper_bound_follows_every_path_with_the_prefix() {
        let p = path_text(&[GroupId(1), GroupId(5)]);
        assert_eq!(p, "1/5/");
        let upper = path_upper(&p);
        assert_eq!(upper, "1/50");
        for inside in ["1/5/", "1/5/23/", "1/5/9/9/"] {
            assert!(inside >= p.as_str() && inside < upper.as_str(), "{inside}");
        }
        for outside in ["1/", "1/50/", "1/55/", "1/6/", "1/4/7/"] {
            assert!(
                !(outside >= p.as_str() && outside < upper.as_str()),
                "{outside}"
            );
        }
    }

    #[test]
    fn expression_indexes_map_to_their_field() {
        assert_eq!(field_of_index("people_email_key"), Some("email"));
        assert_eq!(field_of_index("sessions_pkey"), None);
    }

    #[test]
    fn text_is_split_lowered_and_escaped() {
        assert_eq!(
            text_patterns(Some("  Ann 50%_x a\\b ")),
            ["ann%", "50\\%\\_x%", "a\\\\b%"]
        );
        assert!(text_patterns(Some("   ")).is_empty());
        assert_eq!(text_patterns(Some("a b c d e f g")).len(), MAX_TERMS);
        assert_eq!(text_patterns(Some("\0a\0\0b\0")), ["a%", "b%"]);
    }

    #[test]
    fn counted_types_intersect_filter_and_selection() {
        let visible = ListFilter::RoleTypes(vec!["A".into(), "B".into()]);
        assert_eq!(
            counted_types(&query(Some(&["B", "C"]), visible.clone())),
            Some(vec!["B".to_owned()])
        );
        assert_eq!(
            counted_types(&query(None, visible)),
            Some(vec!["A".to_owned(), "B".to_owned()])
        );
        assert_eq!(counted_types(&query(None, ListFilter::All)), None);
        assert_eq!(
            counted_types(&query(Some(&["C"]), ListFilter::ContactDataOnly)),
            Some(vec!["C".to_owned()])
        );
    }

    #[test]
    fn offsets_saturate_and_zero_counts_as_one() {
        assert_eq!(page_offset(0, 0), 0);
        assert_eq!(page_offset(3, 20), 40);
        assert_eq!(page_offset(u32::MAX, 1), i64::from(u32::MAX) - 1);
        assert_eq!(page_offset(u32::MAX, u32::MAX), i64::MAX);
    }

    #[test]
    fn distinct_people_are_sorted_once_each() {
        let role = |p: i64| Role {
            id: crate::id::RoleId(p),
            person_id: PersonId(p % 3),
            group_id: GroupId(1),
            role_type: "T".into(),
            label: None,
            start_on: None,
            end_on: None,
            archived_at: None,
            is_terminated: false,
            created_at: DateTime::UNIX_EPOCH,
            updated_at: DateTime::UNIX_EPOCH,
        };
        let roles: Vec<_> = (1..7).map(role).collect();
        assert_eq!(
            distinct_people(&roles),
            [PersonId(0), PersonId(1), PersonId(2)]
        );
    }

    #[test]
    fn fifth_failure_locks() {
        let now = DateTime::UNIX_EPOCH + Duration::days(1000);
        assert_eq!(after_failure(login(3, None), now).locked_at, None);
        assert_eq!(after_failure(login(4, None), now).locked_at, Some(now));
    }

    #[test]
    fn failure_during_a_lock_keeps_it_and_after_it_counts_anew() {
        let now = DateTime::UNIX_EPOCH + Duration::days(1000);
        let locked = now - Duration::minutes(10);
        let during = after_failure(login(5, Some(locked)), now);
        assert_eq!(
            (during.failed_attempts, during.locked_at),
            (6, Some(locked))
        );
        let old = now - Duration::hours(2);
        let after = after_failure(login(5, Some(old)), now);
        assert_eq!((after.failed_attempts, after.locked_at), (1, None));
    }
}
