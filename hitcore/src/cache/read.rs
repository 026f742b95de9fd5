//! The values the web tier reads through the cache, each under a key that
//! embeds the [`Stamps`] it depends on: a person's roles, the groups of the
//! tree and a mailing list's recipient count; and [`TreeMemo`], the tree
//! this process built last, so that a request need not even decode it.
//!
//! What is cached must not depend on the day: the roles are all of a
//! person's unarchived roles, and the callers decide on each request which
//! are active today. The recipient count does depend on it, so its key
//! carries the day too.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::NaiveDate;

use super::{Cache, KEY_PREFIX, get_or_load};
use crate::group::{Group, GroupTree};
use crate::id::{MailingListId, PersonId};
use crate::role::Role;
use crate::store::{GroupRepo, MailingListRepo, RoleRepo, Stamps, StoreError};

/// How long a person's roles stay cached. A change gives the key a new
/// stamp at once; the time only bounds what unused entries take.
pub const ROLES_TTL: Duration = Duration::from_secs(60 * 60);
/// How long the groups of the tree stay cached (see [`ROLES_TTL`]).
pub const GROUPS_TTL: Duration = Duration::from_secs(60 * 60);
/// How long a recipient count stays cached (see [`ROLES_TTL`]).
pub const RECIPIENT_COUNT_TTL: Duration = Duration::from_secs(10 * 60);

/// The key of a person's roles: `hit1:roles:<person>:<access stamp>`.
pub fn roles_key(person: PersonId, stamps: &Stamps) -> String {
    format!("{KEY_PREFIX}roles:{person}:{}", stamps.access)
}

/// The key of every group: `hit1:tree:<groups stamp>`.
pub fn groups_key(stamps: &Stamps) -> String {
    format!("{KEY_PREFIX}tree:{}", stamps.groups)
}

/// The key of a list's recipient count on `today`:
/// `hit1:recipients:<list>:<groups stamp>:<memberships stamp>:<day>`
/// (the recipients depend on the groups' paths and deletion too).
pub fn recipient_count_key(list: MailingListId, stamps: &Stamps, today: NaiveDate) -> String {
    format!(
        "{KEY_PREFIX}recipients:{list}:{}:{}:{today}",
        stamps.groups, stamps.memberships
    )
}

/// [`RoleRepo::roles_of_person`] through the cache, for the person whose
/// stamps `stamps` are.
///
/// # Errors
/// The store's, on a miss.
pub fn roles_of_person<S: RoleRepo + ?Sized>(
    cache: &dyn Cache,
    store: &S,
    person: PersonId,
    stamps: &Stamps,
) -> Result<Vec<Role>, StoreError> {
    get_or_load(cache, &roles_key(person, stamps), ROLES_TTL, || {
        store.roles_of_person(person)
    })
}

/// [`GroupRepo::all_groups`] through the cache.
///
/// # Errors
/// The store's, on a miss.
pub fn all_groups<S: GroupRepo + ?Sized>(
    cache: &dyn Cache,
    store: &S,
    stamps: &Stamps,
) -> Result<Vec<Group>, StoreError> {
    get_or_load(cache, &groups_key(stamps), GROUPS_TTL, || {
        store.all_groups()
    })
}

/// [`MailingListRepo::recipient_count`] through the cache.
///
/// # Errors
/// The store's, on a miss.
pub fn recipient_count<S: MailingListRepo + ?Sized>(
    cache: &dyn Cache,
    store: &S,
    list: MailingListId,
    stamps: &Stamps,
    today: NaiveDate,
) -> Result<u64, StoreError> {
    let key = recipient_count_key(list, stamps, today);
    get_or_load(cache, &key, RECIPIENT_COUNT_TTL, || {
        store.recipient_count(list, today)
    })
}

/// The group tree this process built last, with the groups stamp it was
/// built for. Requests between two changes of the groups then share one
/// tree, neither loaded nor decoded again.
#[derive(Default)]
pub struct TreeMemo {
    latest: Mutex<Option<(i64, Arc<GroupTree>)>>,
}

impl TreeMemo {
    /// The tree at `stamps`: the one built last if it was built for the
    /// same groups stamp, else one built from [`all_groups`].
    ///
    /// # Errors
    /// The store's, when neither this process nor the cache has the
    /// groups.
    pub fn tree<S: GroupRepo + ?Sized>(
        &self,
        cache: &dyn Cache,
        store: &S,
        stamps: &Stamps,
    ) -> Result<Arc<GroupTree>, StoreError> {
        if let Some(tree) = self.latest_for(stamps.groups) {
            return Ok(tree);
        }
        let tree = Arc::new(GroupTree::new(all_groups(cache, store, stamps)?));
        if let Ok(mut latest) = self.latest.lock() {
            *latest = Some((stamps.groups, Arc::clone(&tree)));
        }
        Ok(tree)
    }

    fn latest_for(&self, stamp: i64) -> Option<Arc<GroupTree>> {
        let latest = self.latest.lock().ok()?;
        match &*latest {
            Some((built_for, tree)) if *built_for == stamp => Some(Arc::clone(tree)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stamps(access: i64, groups: i64, memberships: i64) -> Stamps {
        Stamps {
            access,
            groups,
            memberships,
        }
    }

    #[test]
    fn keys_change_with_the_stamps_they_depend_on_and_no_others() {
        let s = stamps(1, 2, 3);
        let person = PersonId(7);
        assert_eq!(roles_key(person, &s), "hit1:roles:7:1");
        assert_eq!(roles_key(person, &stamps(1, 9, 9)), roles_key(person, &s));
        assert_ne!(roles_key(person, &stamps(4, 2, 3)), roles_key(person, &s));
        assert_ne!(roles_key(PersonId(8), &s), roles_key(person, &s));

        assert_eq!(groups_key(&s), "hit1:tree:2");
        assert_eq!(groups_key(&stamps(9, 2, 9)), groups_key(&s));
        assert_ne!(groups_key(&stamps(1, 5, 3)), groups_key(&s));

        let list = MailingListId(4);
        let day = NaiveDate::from_ymd_opt(2025, 3, 10).expect("date");
        let key = recipient_count_key(list, &s, day);
        assert_eq!(key, "hit1:recipients:4:2:3:2025-03-10");
        assert_eq!(recipient_count_key(list, &stamps(9, 2, 3), day), key);
        for other in [
            recipient_count_key(list, &stamps(1, 5, 3), day),
            recipient_count_key(list, &stamps(1, 2, 5), day),
            recipient_count_key(list, &s, day.succ_opt().expect("next day")),
            recipient_count_key(MailingListId(5), &s, day),
        ] {
            assert_ne!(other, key);
        }
    }

    #[test]
    fn keys_of_negative_stamps_are_valid_memcached_keys() {
        let key = recipient_count_key(
            MailingListId(i64::MAX),
            &stamps(i64::MIN, i64::MIN, i64::MIN),
            NaiveDate::MAX,
        );
        assert!(key.len() <= 250, "{key}");
        assert!(key.bytes().all(|b| b.is_ascii_graphic()), "{key}");
    }

    #[test]
    fn the_memo_keeps_one_tree_per_groups_stamp() {
        let memo = TreeMemo::default();
        let tree = Arc::new(GroupTree::new(Vec::new()));
        *memo.latest.lock().expect("lock") = Some((5, Arc::clone(&tree)));
        assert!(memo.latest_for(5).is_some_and(|t| Arc::ptr_eq(&t, &tree)));
        assert!(memo.latest_for(6).is_none());
    }
}
