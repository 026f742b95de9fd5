//! The mailing list contract ([`MailingListRepo`]) on every store: lists
//! are created, found by mail name in any case, changed and deleted with
//! their subscriptions; subscriptions keep their rules; and a list's mail
//! reaches exactly the people and addresses section 6.3 says, today,
//! the active participants of subscribed events among them.
//!
//! Runs on SQLite in memory and in a file always, and on PostgreSQL when
//! `HIT_TEST_POSTGRES_URL` is set, each with a fresh database.

mod common;

use hitcore::ability::{
    ArchiveGroup, CreateEvent, CreateMailingList, CreateParticipation, DestroyGroup,
    DestroyMailingList, ManageSubscriptions, SubscribeSelf, UpdateMailingList, UpdatePerson,
    UseApplicationMarket, system,
};
use hitcore::event::participation::{NewParticipation, Participation};
use hitcore::event::{COURSE, Event, EventPatch, NewEvent, NewEventDate};
use hitcore::group::Group;
use hitcore::id::EventId;
use hitcore::mailing_list::{
    EventSubscription, MailingList, MailingListPatch, NewMailingList, Recipient, SubscribableFor,
    SubscribableMode, Subscriber,
};
use hitcore::person::{ContactInput, Person};
use hitcore::store::StoreError;
use hitcore::{MailingListId, PersonId, SubscriptionId};

use common::{MEMBER, PASSIVE, PRESIDENT, World, at, day, each_store, patch, t0};

fn fields(name: &str, mail_name: Option<&str>) -> MailingListPatch {
    MailingListPatch {
        name: Some(name.to_owned()),
        mail_name: mail_name.map(str::to_owned),
        ..MailingListPatch::default()
    }
    .validated()
    .expect("valid list fields")
}

fn create(w: &World<'_>, group: &Group, f: MailingListPatch) -> Result<MailingList, StoreError> {
    w.s.create_mailing_list(
        &system(CreateMailingList(group.id)),
        &NewMailingList {
            group_id: group.id,
            fields: f,
        },
        t0(),
    )
}

fn list(w: &World<'_>, group: &Group, name: &str) -> MailingList {
    create(w, group, fields(name, None)).expect("list created")
}

/// A list with `subscribable_for` (and `mode` for configured lists).
fn list_for(
    w: &World<'_>,
    group: &Group,
    subscribable_for: SubscribableFor,
    mode: Option<SubscribableMode>,
) -> MailingList {
    let f = MailingListPatch {
        subscribable_for,
        subscribable_mode: mode,
        ..fields("Abo", None)
    }
    .validated()
    .expect("valid");
    create(w, group, f).expect("list created")
}

fn include(w: &World<'_>, l: &MailingList, p: &Person) -> SubscriptionId {
    person_subscription(w, l, p, false)
}

fn exclude(w: &World<'_>, l: &MailingList, p: &Person) -> SubscriptionId {
    person_subscription(w, l, p, true)
}

fn person_subscription(
    w: &World<'_>,
    l: &MailingList,
    p: &Person,
    excluded: bool,
) -> SubscriptionId {
    w.s.add_subscription(
        &system(ManageSubscriptions(l.id)),
        &Subscriber::Person {
            person_id: p.id,
            is_excluded: excluded,
        },
    )
    .expect("person subscription added")
    .id
}

fn subscribe_group(w: &World<'_>, l: &MailingList, g: &Group, types: &[&str]) -> SubscriptionId {
    w.s.add_subscription(
        &system(ManageSubscriptions(l.id)),
        &Subscriber::Group {
            group_id: g.id,
            role_types: types.iter().map(|t| (*t).to_owned()).collect(),
        },
    )
    .expect("group subscription added")
    .id
}

fn emails(w: &World<'_>, l: &MailingList) -> Vec<String> {
    w.s.recipients(l.id, day(0))
        .expect("recipients")
        .into_iter()
        .map(|r| r.email)
        .collect()
}

fn person(w: &World<'_>, first: &str, email: Option<&str>, group: &Group, role: &str) -> Person {
    w.person_with(patch(first, "Test", email), group, role, t0())
        .0
}

fn add_email(w: &World<'_>, p: &Person, email: &str, label: &str, is_mailing: bool) {
    w.s.add_additional_email(
        &system(UpdatePerson(p.id)),
        &ContactInput {
            value: email.to_owned(),
            label: label.to_owned(),
            is_public: true,
            is_mailing,
        },
    )
    .expect("additional email added");
}

fn self_permit(l: &MailingList, p: &Person) -> hitcore::ability::Permit<SubscribeSelf> {
    system(SubscribeSelf {
        list: l.id,
        person: p.id,
    })
}

// ------------------------------------------------------------- lists

#[test]
fn created_list_is_stored_with_its_fields() {
    each_store(|w| {
        let f = MailingListPatch {
            description: Some("News for leaders".into()),
            publisher: Some("The board".into()),
            additional_senders: vec!["Boss@Example.org; *@club.ch".into()],
            preferred_labels: vec!["Work, Home".into()],
            main_email: true,
            delivery_report: true,
            subscribers_may_post: true,
            subscribable_for: SubscribableFor::Configured,
            ..fields("Leaders", Some("Leaders"))
        }
        .validated()
        .expect("valid");
        let created = create(w, &w.root_members, f).expect("created");
        assert_eq!(created.group_id, w.root_members.id);
        assert_eq!(created.mail_name.as_deref(), Some("leaders"));
        assert_eq!(
            created.additional_senders,
            ["boss@example.org", "*@club.ch"]
        );
        assert_eq!(created.preferred_labels, ["Home", "Work"]);
        assert!(created.main_email && created.delivery_report && created.subscribers_may_post);
        assert!(!created.anyone_may_post);
        assert_eq!(created.subscribable_mode, Some(SubscribableMode::OptOut));
        assert_eq!(created.created_at, t0());
        assert_eq!(
            w.s.mailing_list(created.id).expect("read"),
            Some(created.clone())
        );
        assert_eq!(
            w.s.mailing_list(MailingListId(created.id.0 + 100))
                .expect("read"),
            None
        );
    });
}

#[test]
fn mail_name_is_unique_whatever_its_case() {
    each_store(|w| {
        create(w, &w.root_members, fields("One", Some("news"))).expect("first");
        // Validation lowercases; a store must refuse even a raw upper-case
        // name that a caller did not validate.
        let raw = MailingListPatch {
            mail_name: Some("NEWS".into()),
            ..fields("Two", None)
        };
        let err = create(w, &w.root_board, raw).expect_err("taken");
        assert!(
            matches!(&err, StoreError::Conflict { field } if field == "mail_name"),
            "{err:?}"
        );
        let other = create(w, &w.root_board, fields("Two", Some("other"))).expect("free name");
        let err =
            w.s.update_mailing_list(
                &system(UpdateMailingList(other.id)),
                &fields("Two", Some("news")),
                at(1),
            )
            .expect_err("taken");
        assert!(matches!(&err, StoreError::Conflict { field } if field == "mail_name"));
        // Lists without a mail name do not collide.
        list(w, &w.root_board, "Three");
        list(w, &w.root_board, "Four");
    });
}

#[test]
fn list_is_found_by_mail_name_in_any_case_only_in_active_groups() {
    each_store(|w| {
        let news = create(w, &w.root_members, fields("News", Some("news"))).expect("created");
        let found = w.s.mailing_list_by_mail_name("NeWs").expect("lookup");
        assert_eq!(found.map(|l| l.id), Some(news.id));
        assert_eq!(w.s.mailing_list_by_mail_name("nope").expect("lookup"), None);

        let archived = w.members(&w.root, "Old members");
        create(w, &archived, fields("Old", Some("old"))).expect("created");
        w.s.archive_group(&system(ArchiveGroup(archived.id)), at(1))
            .expect("archived");
        assert_eq!(w.s.mailing_list_by_mail_name("old").expect("lookup"), None);

        let deleted = w.members(&w.root, "Gone");
        create(w, &deleted, fields("Gone", Some("gone"))).expect("created");
        w.s.delete_group(&system(DestroyGroup(deleted.id)), at(1))
            .expect("deleted");
        assert_eq!(w.s.mailing_list_by_mail_name("gone").expect("lookup"), None);
    });
}

#[test]
fn lists_of_a_group_come_by_name_and_stay_in_their_group() {
    each_store(|w| {
        let b = list(w, &w.root_members, "beta");
        let a = list(w, &w.root_members, "Alpha");
        list(w, &w.root_board, "Elsewhere");
        let ids: Vec<MailingListId> =
            w.s.mailing_lists_of_group(w.root_members.id)
                .expect("lists")
                .into_iter()
                .map(|l| l.id)
                .collect();
        assert_eq!(ids, [a.id, b.id]);
    });
}

#[test]
fn lists_are_created_only_in_active_groups_and_with_a_matching_permit() {
    each_store(|w| {
        let archived = w.members(&w.root, "Archived");
        w.s.archive_group(&system(ArchiveGroup(archived.id)), at(1))
            .expect("archived");
        let err = create(w, &archived, fields("X", None)).expect_err("inactive group");
        assert!(matches!(err, StoreError::Rule(_)), "{err:?}");
        let err =
            w.s.create_mailing_list(
                &system(CreateMailingList(w.root_board.id)),
                &NewMailingList {
                    group_id: w.root_members.id,
                    fields: fields("X", None),
                },
                t0(),
            )
            .expect_err("permit for another group");
        assert!(matches!(err, StoreError::Rule(_)), "{err:?}");
    });
}

#[test]
fn update_replaces_the_fields() {
    each_store(|w| {
        let l = create(w, &w.root_members, fields("Old", Some("old"))).expect("created");
        let f = MailingListPatch {
            description: Some("new text".into()),
            anyone_may_post: true,
            subscribable_for: SubscribableFor::Anyone,
            ..fields("New", None)
        };
        let updated =
            w.s.update_mailing_list(&system(UpdateMailingList(l.id)), &f, at(2))
                .expect("updated");
        assert_eq!(updated.name, "New");
        assert_eq!(updated.mail_name, None);
        assert_eq!(updated.description.as_deref(), Some("new text"));
        assert!(updated.anyone_may_post);
        assert_eq!(updated.subscribable_for, SubscribableFor::Anyone);
        assert_eq!((updated.created_at, updated.updated_at), (t0(), at(2)));
        let missing = w.s.update_mailing_list(
            &system(UpdateMailingList(MailingListId(l.id.0 + 100))),
            &f,
            at(2),
        );
        assert!(matches!(missing, Err(StoreError::NotFound)), "{missing:?}");
    });
}

#[test]
fn deleting_a_list_deletes_its_subscriptions() {
    each_store(|w| {
        let l = list(w, &w.root_members, "Doomed");
        let keep = list(w, &w.root_members, "Kept");
        let p = w.person("Ann", "A", &w.root_members, MEMBER);
        include(w, &l, &p);
        subscribe_group(w, &l, &w.root_members, &[MEMBER]);
        include(w, &keep, &p);
        w.s.delete_mailing_list(&system(DestroyMailingList(l.id)))
            .expect("deleted");
        assert_eq!(w.s.mailing_list(l.id).expect("read"), None);
        assert!(w.s.subscriptions(l.id).expect("subscriptions").is_empty());
        assert_eq!(w.s.subscriptions(keep.id).expect("subscriptions").len(), 1);
        let again = w.s.delete_mailing_list(&system(DestroyMailingList(l.id)));
        assert!(matches!(again, Err(StoreError::NotFound)), "{again:?}");
    });
}

// ------------------------------------------------------ subscriptions

#[test]
fn subscriptions_are_listed_people_first_and_removed_by_id() {
    each_store(|w| {
        let l = list(w, &w.root, "All");
        let p = w.person("Ann", "A", &w.root_members, MEMBER);
        let g = subscribe_group(w, &l, &w.root_members, &[PASSIVE, MEMBER, MEMBER]);
        let inc = include(w, &l, &p);
        let exc = exclude(w, &l, &p);
        let subs = w.s.subscriptions(l.id).expect("subscriptions");
        let ids: Vec<SubscriptionId> = subs.iter().map(|s| s.id).collect();
        assert_eq!(ids, [inc, exc, g]);
        assert_eq!(
            subs[2].subscriber,
            Subscriber::Group {
                group_id: w.root_members.id,
                role_types: vec![MEMBER.to_owned(), PASSIVE.to_owned()],
            }
        );
        assert_eq!(
            subs[1].subscriber,
            Subscriber::Person {
                person_id: p.id,
                is_excluded: true
            }
        );

        let other = list(w, &w.root, "Other");
        let wrong_list =
            w.s.remove_subscription(&system(ManageSubscriptions(other.id)), inc);
        assert!(
            matches!(wrong_list, Err(StoreError::NotFound)),
            "{wrong_list:?}"
        );
        w.s.remove_subscription(&system(ManageSubscriptions(l.id)), inc)
            .expect("removed");
        let left: Vec<SubscriptionId> =
            w.s.subscriptions(l.id)
                .expect("subscriptions")
                .iter()
                .map(|s| s.id)
                .collect();
        assert_eq!(left, [exc, g]);
    });
}

#[test]
fn the_same_subscriber_twice_is_a_conflict() {
    each_store(|w| {
        let l = list(w, &w.root, "All");
        let p = w.person("Ann", "A", &w.root_members, MEMBER);
        include(w, &l, &p);
        subscribe_group(w, &l, &w.root_members, &[MEMBER]);
        let permit = system(ManageSubscriptions(l.id));
        for again in [
            Subscriber::Person {
                person_id: p.id,
                is_excluded: false,
            },
            Subscriber::Group {
                group_id: w.root_members.id,
                role_types: vec![PASSIVE.to_owned()],
            },
        ] {
            let err =
                w.s.add_subscription(&permit, &again)
                    .expect_err("duplicate");
            assert!(
                matches!(&err, StoreError::Conflict { field } if field == "subscriber"),
                "{err:?}"
            );
        }
    });
}

#[test]
fn group_subscriptions_keep_the_rules_of_section_6_2() {
    each_store(|w| {
        let l = list(w, &w.root_members, "Members");
        let permit = system(ManageSubscriptions(l.id));
        let group = |g: &Group, types: &[&str]| Subscriber::Group {
            group_id: g.id,
            role_types: types.iter().map(|t| (*t).to_owned()).collect(),
        };
        let below = w.members(&w.root_members, "Juniors");
        for bad in [
            group(&w.root_board, &[PRESIDENT]),
            group(&w.root, &[MEMBER]),
            group(&below, &[]),
            group(&below, &["Members.Nobody"]),
        ] {
            let err = w.s.add_subscription(&permit, &bad).expect_err("refused");
            assert!(matches!(err, StoreError::Rule(_)), "{bad:?}: {err:?}");
        }
        w.s.add_subscription(&permit, &group(&below, &[MEMBER]))
            .expect("a subgroup of the list's group");
        let nobody = w.s.add_subscription(
            &permit,
            &Subscriber::Person {
                person_id: PersonId(999_999),
                is_excluded: false,
            },
        );
        assert!(matches!(nobody, Err(StoreError::NotFound)), "{nobody:?}");
        let no_list = w.s.add_subscription(
            &system(ManageSubscriptions(MailingListId(l.id.0 + 100))),
            &group(&below, &[MEMBER]),
        );
        assert!(matches!(no_list, Err(StoreError::NotFound)), "{no_list:?}");
    });
}

// --------------------------------------------------------- recipients

#[test]
fn group_subscription_reaches_active_roles_of_its_types_in_the_whole_subtree() {
    each_store(|w| {
        let l = list(w, &w.root, "All members");
        let (_region, _board, region_members) = w.region(&w.root, "North");
        let nested = w.members(&region_members, "Juniors");
        subscribe_group(w, &l, &w.root, &[MEMBER]);
        person(w, "Top", Some("top@x.ch"), &w.root_members, MEMBER);
        person(w, "Deep", Some("deep@x.ch"), &nested, MEMBER);
        person(w, "Passive", Some("passive@x.ch"), &region_members, PASSIVE);
        let ended = person(w, "Ended", Some("ended@x.ch"), &region_members, PASSIVE);
        w.add_role(
            &ended,
            &region_members,
            MEMBER,
            Some(day(-30)),
            Some(day(-1)),
            at(-30),
        );
        let future = person(w, "Future", Some("future@x.ch"), &region_members, PASSIVE);
        w.add_role(&future, &region_members, MEMBER, Some(day(1)), None, t0());
        let today = person(w, "Today", Some("today@x.ch"), &region_members, PASSIVE);
        w.add_role(
            &today,
            &region_members,
            MEMBER,
            Some(day(-3)),
            Some(day(0)),
            t0(),
        );

        assert_eq!(emails(w, &l), ["deep@x.ch", "today@x.ch", "top@x.ch"]);
        assert_eq!(w.s.recipient_count(l.id, day(0)).expect("count"), 3);
        // The next day, the role that ended today no longer counts and the
        // future one has started.
        let tomorrow: Vec<String> =
            w.s.recipients(l.id, day(1))
                .expect("recipients")
                .into_iter()
                .map(|r| r.email)
                .collect();
        assert_eq!(tomorrow, ["deep@x.ch", "future@x.ch", "top@x.ch"]);
    });
}

#[test]
fn a_subscription_of_a_subgroup_does_not_reach_its_parent() {
    each_store(|w| {
        let l = list(w, &w.root, "Juniors only");
        let juniors = w.members(&w.root_members, "Juniors");
        subscribe_group(w, &l, &juniors, &[MEMBER]);
        person(w, "Parent", Some("parent@x.ch"), &w.root_members, MEMBER);
        person(w, "Junior", Some("junior@x.ch"), &juniors, MEMBER);
        assert_eq!(emails(w, &l), ["junior@x.ch"]);
    });
}

#[test]
fn exclusions_win_over_groups_and_inclusions() {
    each_store(|w| {
        let l = list(w, &w.root, "All");
        subscribe_group(w, &l, &w.root_members, &[MEMBER]);
        let a = person(w, "Ann", Some("ann@x.ch"), &w.root_members, MEMBER);
        let b = person(w, "Bob", Some("bob@x.ch"), &w.root_board, PRESIDENT);
        let c = person(w, "Cid", Some("cid@x.ch"), &w.root_board, PRESIDENT);
        include(w, &l, &b);
        include(w, &l, &c);
        exclude(w, &l, &a);
        exclude(w, &l, &c);
        assert_eq!(emails(w, &l), ["bob@x.ch"]);
        assert!(!w.s.is_subscribed(l.id, a.id, day(0)).expect("check"));
        assert!(w.s.is_subscribed(l.id, b.id, day(0)).expect("check"));
        assert!(!w.s.is_subscribed(l.id, c.id, day(0)).expect("check"));
    });
}

#[test]
fn opt_in_lists_reach_covered_people_only_after_they_subscribe() {
    each_store(|w| {
        let l = list_for(
            w,
            &w.root,
            SubscribableFor::Configured,
            Some(SubscribableMode::OptIn),
        );
        subscribe_group(w, &l, &w.root_members, &[MEMBER]);
        let covered = person(w, "Cov", Some("cov@x.ch"), &w.root_members, MEMBER);
        person(w, "Quiet", Some("quiet@x.ch"), &w.root_members, MEMBER);
        let outsider = person(w, "Out", Some("out@x.ch"), &w.root_board, PRESIDENT);
        assert!(emails(w, &l).is_empty());
        include(w, &l, &covered);
        // A direct inclusion alone reaches nobody on an opt-in list.
        include(w, &l, &outsider);
        assert_eq!(emails(w, &l), ["cov@x.ch"]);
    });
}

#[test]
fn opt_out_lists_reach_covered_people_until_they_leave() {
    each_store(|w| {
        let l = list_for(w, &w.root, SubscribableFor::Configured, None);
        subscribe_group(w, &l, &w.root_members, &[MEMBER]);
        let a = person(w, "Ann", Some("ann@x.ch"), &w.root_members, MEMBER);
        person(w, "Bob", Some("bob@x.ch"), &w.root_members, MEMBER);
        assert_eq!(emails(w, &l), ["ann@x.ch", "bob@x.ch"]);
        w.s.unsubscribe(&self_permit(&l, &a), day(0))
            .expect("unsubscribed");
        assert_eq!(emails(w, &l), ["bob@x.ch"]);
    });
}

#[test]
fn preferred_labels_choose_addresses_and_others_fall_back() {
    each_store(|w| {
        let f = MailingListPatch {
            preferred_labels: vec!["work".into()],
            ..fields("Work mail", None)
        };
        let l = create(w, &w.root, f.validated().expect("valid")).expect("created");
        subscribe_group(w, &l, &w.root_members, &[MEMBER]);
        let a = person(w, "Ann", Some("ann@home.ch"), &w.root_members, MEMBER);
        add_email(w, &a, "ann@work.ch", "Work", false);
        add_email(w, &a, "ann@other.ch", "Other", true);
        let b = person(w, "Bob", Some("bob@home.ch"), &w.root_members, MEMBER);
        add_email(w, &b, "bob@other.ch", "Other", true);
        add_email(w, &b, "bob@quiet.ch", "Quiet", false);
        // Ann's work address; Bob has none, so his main and mailing ones.
        assert_eq!(
            emails(w, &l),
            ["ann@work.ch", "bob@home.ch", "bob@other.ch"]
        );

        let with_main = MailingListPatch {
            main_email: true,
            preferred_labels: vec!["WORK".into()],
            ..fields("Work mail", None)
        };
        w.s.update_mailing_list(&system(UpdateMailingList(l.id)), &with_main, at(1))
            .expect("updated");
        assert_eq!(
            emails(w, &l),
            ["ann@home.ch", "ann@work.ch", "bob@home.ch"],
            "main_email adds the main address as a preferred one"
        );
    });
}

#[test]
fn blanks_are_dropped_and_each_address_comes_once() {
    each_store(|w| {
        let l = list(w, &w.root, "All");
        subscribe_group(w, &l, &w.root_members, &[MEMBER]);
        let a = person(w, "Ann", Some("shared@x.ch"), &w.root_members, MEMBER);
        let b = person(w, "Bob", None, &w.root_members, MEMBER);
        add_email(w, &b, "Shared@X.ch", "Other", true);
        add_email(w, &a, "ann2@x.ch", "Other", true);
        person(w, "Nomail", None, &w.root_members, MEMBER);
        let recipients = w.s.recipients(l.id, day(0)).expect("recipients");
        assert_eq!(
            recipients,
            [
                Recipient {
                    person_id: a.id,
                    email: "ann2@x.ch".into()
                },
                Recipient {
                    person_id: a.id.min(b.id),
                    email: "shared@x.ch".into()
                },
            ]
        );
        // Both Ann and Bob receive the mail; the person without an address
        // is reached but receives nothing.
        assert_eq!(w.s.recipient_count(l.id, day(0)).expect("count"), 2);
    });
}

#[test]
fn an_unknown_list_has_no_recipients() {
    each_store(|w| {
        let id = MailingListId(424_242);
        assert!(w.s.recipients(id, day(0)).expect("recipients").is_empty());
        assert_eq!(w.s.recipient_count(id, day(0)).expect("count"), 0);
    });
}

#[test]
fn sender_check_knows_main_and_additional_emails_of_reached_people() {
    each_store(|w| {
        let l = list(w, &w.root, "All");
        subscribe_group(w, &l, &w.root_members, &[MEMBER]);
        let a = person(w, "Ann", Some("ann@x.ch"), &w.root_members, MEMBER);
        add_email(w, &a, "ann@quiet.ch", "Other", false);
        person(w, "Boss", Some("boss@x.ch"), &w.root_board, PRESIDENT);
        let yes = |email: &str| w.s.is_recipient_email(l.id, email, day(0)).expect("check");
        assert!(yes("ANN@x.ch"));
        assert!(yes("ann@quiet.ch"), "any address of a reached person");
        assert!(!yes("boss@x.ch"));
        assert!(!yes("nobody@x.ch"));
    });
}

// -------------------------------------------------------- self-service

#[test]
fn subscribing_to_an_anyone_list_includes_and_unsubscribing_removes() {
    each_store(|w| {
        let l = list_for(w, &w.root, SubscribableFor::Anyone, None);
        let p = person(w, "Ann", Some("ann@x.ch"), &w.root_board, PRESIDENT);
        w.s.subscribe(&self_permit(&l, &p), day(0))
            .expect("subscribed");
        w.s.subscribe(&self_permit(&l, &p), day(0))
            .expect("twice is fine");
        assert_eq!(emails(w, &l), ["ann@x.ch"]);
        assert_eq!(w.s.subscriptions(l.id).expect("subs").len(), 1);
        w.s.unsubscribe(&self_permit(&l, &p), day(0))
            .expect("unsubscribed");
        // Not covered otherwise: the inclusion goes and no exclusion is
        // needed.
        assert!(w.s.subscriptions(l.id).expect("subs").is_empty());
        assert!(emails(w, &l).is_empty());
    });
}

#[test]
fn unsubscribing_a_covered_person_excludes_them_and_subscribing_lifts_it() {
    each_store(|w| {
        let l = list_for(w, &w.root, SubscribableFor::Configured, None);
        subscribe_group(w, &l, &w.root_members, &[MEMBER]);
        let p = person(w, "Ann", Some("ann@x.ch"), &w.root_members, MEMBER);
        w.s.unsubscribe(&self_permit(&l, &p), day(0))
            .expect("unsubscribed");
        assert!(!w.s.is_subscribed(l.id, p.id, day(0)).expect("check"));
        let subs = w.s.subscriptions(l.id).expect("subs");
        assert!(subs.iter().any(|s| s.subscriber
            == Subscriber::Person {
                person_id: p.id,
                is_excluded: true
            }));
        w.s.subscribe(&self_permit(&l, &p), day(0))
            .expect("subscribed");
        assert!(w.s.is_subscribed(l.id, p.id, day(0)).expect("check"));
        // Covered again by the group: no inclusion needed.
        assert_eq!(w.s.subscriptions(l.id).expect("subs").len(), 1);
    });
}

#[test]
fn subscribing_to_an_opt_in_list_adds_the_inclusion_it_needs() {
    each_store(|w| {
        let l = list_for(
            w,
            &w.root,
            SubscribableFor::Configured,
            Some(SubscribableMode::OptIn),
        );
        subscribe_group(w, &l, &w.root_members, &[MEMBER]);
        let p = person(w, "Ann", Some("ann@x.ch"), &w.root_members, MEMBER);
        assert!(!w.s.is_subscribed(l.id, p.id, day(0)).expect("check"));
        w.s.subscribe(&self_permit(&l, &p), day(0))
            .expect("subscribed");
        assert!(w.s.is_subscribed(l.id, p.id, day(0)).expect("check"));
        assert_eq!(w.s.recipient_count(l.id, day(0)).expect("count"), 1);
        w.s.unsubscribe(&self_permit(&l, &p), day(0))
            .expect("unsubscribed");
        assert!(!w.s.is_subscribed(l.id, p.id, day(0)).expect("check"));
        assert!(
            w.s.subscriptions(l.id)
                .expect("subs")
                .iter()
                .all(|s| matches!(s.subscriber, Subscriber::Group { .. })),
            "removing the inclusion is enough"
        );
    });
}

#[test]
fn self_service_on_an_unknown_list_is_not_found() {
    each_store(|w| {
        let p = person(w, "Ann", Some("ann@x.ch"), &w.root_members, MEMBER);
        let permit = system(SubscribeSelf {
            list: MailingListId(424_242),
            person: p.id,
        });
        assert!(matches!(
            w.s.subscribe(&permit, day(0)),
            Err(StoreError::NotFound)
        ));
        assert!(matches!(
            w.s.unsubscribe(&permit, day(0)),
            Err(StoreError::NotFound)
        ));
    });
}

// ------------------------------------------------- event subscriptions

/// A course on `group` with one date starting at `start`; self
/// applications to it are pending until the market assigns them.
fn course(w: &World<'_>, group: &Group, name: &str, start: &str) -> Event {
    let start_at = hitcore::event::parse_date_time(start).expect("a date and time");
    let fields = EventPatch {
        name: Some(name.to_owned()),
        dates: vec![NewEventDate {
            label: None,
            start_at,
            finish_at: None,
            location: None,
        }],
        ..EventPatch::defaults_for(COURSE)
    };
    w.s.create_event(
        &system(CreateEvent(vec![group.id])),
        &NewEvent {
            event_type: COURSE.to_owned(),
            group_ids: vec![group.id],
            fields,
            questions: Vec::new(),
            creator_id: None,
        },
        t0(),
    )
    .expect("course created")
}

/// `p` applies for `e` themselves: a pending participation.
fn apply(w: &World<'_>, e: &Event, p: &Person) -> Participation {
    w.s.register(
        &system(CreateParticipation {
            event: e.id,
            person: p.id,
            by_self: true,
        }),
        &NewParticipation {
            event_id: e.id,
            person_id: p.id,
            additional_information: None,
            answers: Vec::new(),
            priority_2_id: None,
            priority_3_id: None,
            by_self: true,
        },
        &|_| Vec::new(),
        day(0),
        t0(),
    )
    .expect("application stored")
}

fn subscribe_event(
    w: &World<'_>,
    l: &MailingList,
    e: &Event,
) -> Result<EventSubscription, StoreError> {
    w.s.add_event_subscription(&system(ManageSubscriptions(l.id)), e.id, day(0))
}

#[test]
fn event_subscription_reaches_the_active_participants_only() {
    each_store(|w| {
        let l = list(w, &w.root, "Course news");
        let e = course(w, &w.root_members, "Basic course", "2025-06-01T09:00");
        let ann = person(w, "Ann", Some("ann@x.ch"), &w.root_members, MEMBER);
        let bob = person(w, "Bob", Some("bob@x.ch"), &w.root_members, MEMBER);
        let (a, _) = (apply(w, &e, &ann), apply(w, &e, &bob));
        subscribe_event(w, &l, &e).expect("event subscribed");
        // Both applications are pending: nobody takes part yet.
        assert!(emails(w, &l).is_empty());
        assert_eq!(w.s.recipient_count(l.id, day(0)).expect("count"), 0);

        w.s.market_add(&system(UseApplicationMarket(e.id)), a.id, t0())
            .expect("assigned");
        assert_eq!(emails(w, &l), ["ann@x.ch"]);
        assert_eq!(w.s.recipient_count(l.id, day(0)).expect("count"), 1);
        assert!(w.s.is_subscribed(l.id, ann.id, day(0)).expect("check"));
        assert!(!w.s.is_subscribed(l.id, bob.id, day(0)).expect("check"));
        assert!(
            w.s.is_recipient_email(l.id, "ANN@x.ch", day(0))
                .expect("check")
        );

        // An exclusion still wins over the event.
        exclude(w, &l, &ann);
        assert!(emails(w, &l).is_empty());
    });
}

#[test]
fn event_subscriptions_are_listed_and_removed_by_id() {
    each_store(|w| {
        let l = list(w, &w.root, "Course news");
        let first = course(w, &w.root, "First", "2025-06-01T09:00");
        let second = course(w, &w.root_members, "Second", "2025-07-01T09:00");
        let s1 = subscribe_event(w, &l, &first).expect("first");
        let s2 = subscribe_event(w, &l, &second).expect("second");
        assert_eq!(s1.mailing_list_id, l.id);
        assert_eq!(
            w.s.event_subscriptions(l.id).expect("list"),
            [s1.clone(), s2.clone()]
        );

        let permit = system(ManageSubscriptions(l.id));
        w.s.remove_event_subscription(&permit, s1.id)
            .expect("removed");
        assert_eq!(w.s.event_subscriptions(l.id).expect("list"), [s2]);
        assert!(matches!(
            w.s.remove_event_subscription(&permit, s1.id),
            Err(StoreError::NotFound)
        ));
        // Another list's permit does not reach this list's subscriptions.
        let other = list(w, &w.root, "Other");
        let s3 = subscribe_event(w, &l, &first).expect("again");
        assert!(matches!(
            w.s.remove_event_subscription(&system(ManageSubscriptions(other.id)), s3.id),
            Err(StoreError::NotFound)
        ));
    });
}

#[test]
fn event_subscriptions_keep_the_rules_of_section_6_2() {
    each_store(|w| {
        let (region, _board, region_members) = w.region(&w.root, "North");
        let l = list(w, &region, "Region news");
        let below = course(w, &region_members, "Below", "2025-06-01T09:00");
        let recent = course(w, &region, "Recent", "2024-01-01T00:00");
        let old = course(w, &region, "Old", "2023-12-31T23:59");
        let above = course(w, &w.root, "Above", "2025-06-01T09:00");

        // Today is 2025-03-10: the dates count from 1 January 2024 on.
        assert_eq!(
            w.s.subscribable_events(l.id, day(0), 10).expect("offered"),
            [below.id, recent.id]
        );
        subscribe_event(w, &l, &below).expect("below the list's group");
        subscribe_event(w, &l, &recent).expect("from last January on");
        assert!(
            w.s.subscribable_events(l.id, day(0), 10)
                .expect("offered")
                .is_empty(),
            "subscribed events are offered no more"
        );
        for refused in [&old, &above] {
            let result = subscribe_event(w, &l, refused);
            assert!(matches!(result, Err(StoreError::Rule(_))), "{result:?}");
        }
        let twice = subscribe_event(w, &l, &below);
        assert!(
            matches!(&twice, Err(StoreError::Conflict { field }) if field == "event"),
            "{twice:?}"
        );
        let unknown = w.s.add_event_subscription(
            &system(ManageSubscriptions(l.id)),
            EventId(below.id.0 + 100),
            day(0),
        );
        assert!(matches!(unknown, Err(StoreError::NotFound)), "{unknown:?}");
        let no_list = w.s.add_event_subscription(
            &system(ManageSubscriptions(MailingListId(l.id.0 + 100))),
            below.id,
            day(0),
        );
        assert!(matches!(no_list, Err(StoreError::NotFound)), "{no_list:?}");
    });
}

#[test]
fn deleting_a_list_deletes_its_event_subscriptions() {
    each_store(|w| {
        let l = list(w, &w.root, "Course news");
        let e = course(w, &w.root, "Course", "2025-06-01T09:00");
        subscribe_event(w, &l, &e).expect("subscribed");
        w.s.delete_mailing_list(&system(DestroyMailingList(l.id)))
            .expect("deleted");
        assert!(w.s.event_subscriptions(l.id).expect("list").is_empty());
        // The event itself stays.
        assert!(w.s.event(e.id).expect("read").is_some());
    });
}
