//! The list mail contract ([`ListMailRepo`]) on every store: a fetched
//! message is recorded once, whatever number of times it is fetched; each
//! list gets one copy of a message however many copies arrive; the
//! recipients are planned once, in batches; a batch handed over and never
//! settled becomes uncertain and is not offered again; recipients refused
//! for now come back on the next attempt; counts follow the outcomes; the
//! raw bytes go once every copy is finished.
//!
//! Runs on SQLite in memory and in a file always, and on PostgreSQL when
//! `HIT_TEST_POSTGRES_URL` is set, each with a fresh database.

mod common;

use hitcore::ability::{CreateMailingList, DestroyMailingList, ManageSubscriptions, system};
use hitcore::group::Group;
use hitcore::jobs::NewJob;
use hitcore::list_mail::{
    Batch, BatchOutcome, InboundOutcome, ListMessageState, NewInboundMail, NewListMessage, Recorded,
};
use hitcore::mailing_list::{MailingList, MailingListPatch, NewMailingList, Subscriber};
use hitcore::person::Person;
use hitcore::store::Store;
use hitcore::{ListMessageId, MailingListId};
use serde_json::json;

use common::{MEMBER, World, day, each_store, patch, t0};

const RAW: &[u8] =
    b"From: a@example.test\r\nSubject: Hi\r\nMessage-ID: <m1@example.test>\r\n\r\nHello\r\n";

fn list(w: &World<'_>, group: &Group, name: &str) -> MailingList {
    let fields = MailingListPatch {
        name: Some(name.to_owned()),
        mail_name: Some(name.to_lowercase()),
        ..MailingListPatch::default()
    }
    .validated()
    .expect("valid list");
    w.s.create_mailing_list(
        &system(CreateMailingList(group.id)),
        &NewMailingList {
            group_id: group.id,
            fields,
        },
        t0(),
    )
    .expect("list created")
}

/// A list whose group subscription reaches every member of `group`.
fn list_of_members(w: &World<'_>, group: &Group, name: &str) -> MailingList {
    let l = list(w, group, name);
    w.s.add_subscription(
        &system(ManageSubscriptions(l.id)),
        &Subscriber::Group {
            group_id: group.id,
            role_types: vec![MEMBER.to_owned()],
        },
    )
    .expect("group subscription");
    l
}

fn member(w: &World<'_>, group: &Group, n: usize) -> Person {
    let email = format!("member{n:02}@people.example.test");
    w.person_with(
        patch("M", &format!("Member {n:02}"), Some(&email)),
        group,
        MEMBER,
        t0(),
    )
    .0
}

fn inbound<'a>(raw: &'a [u8], key: &str) -> NewInboundMail<'a> {
    NewInboundMail {
        raw,
        arrival_key: format!("arrival-of-{}", String::from_utf8_lossy(raw).len()),
        message_key: key.to_owned(),
        sender: Some("a@example.test".to_owned()),
        subject: "Hi".to_owned(),
        outcome: InboundOutcome::Accepted,
        note: None,
    }
}

fn delivering(list: MailingListId) -> NewListMessage {
    NewListMessage {
        mailing_list_id: list,
        state: ListMessageState::Delivering,
        is_reply_due: false,
    }
}

fn deliver_job(id: ListMessageId) -> NewJob {
    NewJob {
        kind: "list_mail.deliver".to_owned(),
        payload: json!({ "list_message_id": id }),
        queue: "default".to_owned(),
        priority: 0,
        run_at: t0(),
        max_attempts: 3,
        max_run_secs: 60,
        enqueued_by: None,
        singleton_key: None,
    }
}

fn record(s: &dyn Store, mail: &NewInboundMail<'_>, copies: &[NewListMessage]) -> Recorded {
    s.record_inbound(mail, copies, &deliver_job, t0())
        .expect("recorded")
}

fn new_copies(r: &Recorded) -> Vec<ListMessageId> {
    match r {
        Recorded::New { copies, .. } => copies.clone(),
        Recorded::Known(_) => Vec::new(),
    }
}

/// A list of a members group with `members` members, and a message to
/// it recorded for delivery.
fn club_message(w: &World<'_>, members: usize) -> (Group, MailingList, ListMessageId) {
    let group = w.members(&w.root, "Club members");
    let l = list_of_members(w, &group, "Club");
    for n in 0..members {
        member(w, &group, n);
    }
    let id = new_copies(&record(w.s, &inbound(RAW, "k"), &[delivering(l.id)]))[0];
    (group, l, id)
}

/// [`club_message`] with three members, planned as one batch that is
/// then handed over.
fn three_handed_over(w: &World<'_>) -> (MailingList, ListMessageId, Batch) {
    let (_, l, id) = club_message(w, 3);
    w.s.plan_deliveries(id, day(1), 3, t0()).expect("plan");
    let batch = w.s.pending_batches(id, None, 1).expect("batches").remove(0);
    assert!(w.s.mark_handed(id, batch.number).expect("handed"));
    (l, id, batch)
}

#[test]
fn a_message_fetched_twice_is_recorded_once_with_one_job_per_copy() {
    each_store(|w| {
        let a = list(w, &w.root_members, "Alpha");
        let b = list(w, &w.root_members, "Beta");
        let mail = inbound(RAW, "m1@example.test");
        let first = record(w.s, &mail, &[delivering(a.id), delivering(b.id)]);
        assert_eq!(new_copies(&first).len(), 2);
        let Recorded::New { inbound: id, .. } = first else {
            panic!("first record is new");
        };
        assert_eq!(
            record(w.s, &mail, &[delivering(a.id)]),
            Recorded::Known(id),
            "the same arrival fetched again after a crash changes nothing"
        );
        assert_eq!(
            w.s.open_job_count().expect("count"),
            2,
            "one deliver job per copy"
        );
        assert_eq!(w.s.inbound_raw(id).expect("raw").as_deref(), Some(RAW));
    });
}

#[test]
fn another_copy_of_a_message_a_list_has_is_skipped() {
    each_store(|w| {
        let a = list(w, &w.root_members, "Alpha");
        let b = list(w, &w.root_members, "Beta");
        // Postfix delivers one copy per list address; they differ in
        // X-Original-To only, so their bytes differ but the key does not.
        let copy_a = b"X-Original-To: alpha@lists.test\r\nSubject: Hi\r\n\r\nHello\r\n";
        let copy_b = b"X-Original-To: beta@lists.test\r\nSubject: Hi\r\n\r\nHello\r\n\r\n";
        let mut first = inbound(copy_a, "same-key");
        first.arrival_key = "arrival-a".to_owned();
        let mut second = inbound(copy_b, "same-key");
        second.arrival_key = "arrival-b".to_owned();
        assert_eq!(
            new_copies(&record(w.s, &first, &[delivering(a.id)])).len(),
            1
        );
        // A forwarded message naming both lists, arriving after the first.
        let r = record(w.s, &second, &[delivering(a.id), delivering(b.id)]);
        let ids = new_copies(&r);
        assert_eq!(ids.len(), 1, "only the list without it gets a copy");
        let copy = w.s.list_message(ids[0]).expect("read").expect("exists");
        assert_eq!(copy.mailing_list_id, b.id);
        assert_eq!(w.s.list_messages(a.id, 10).expect("list").len(), 1);
        assert_eq!(w.s.list_messages(b.id, 10).expect("list").len(), 1);
    });
}

#[test]
fn a_list_made_after_one_was_deleted_starts_without_its_messages() {
    each_store(|w| {
        let old = list(w, &w.root_members, "Old");
        record(w.s, &inbound(RAW, "m1@example.test"), &[delivering(old.id)]);
        w.s.delete_mailing_list(&system(DestroyMailingList(old.id)))
            .expect("deleted");

        // A list deleted before its first message was recorded: a fetch
        // may be recording one for it right then.
        let empty = list(w, &w.root_members, "Empty");
        w.s.delete_mailing_list(&system(DestroyMailingList(empty.id)))
            .expect("deleted");

        let new = list(w, &w.root_members, "New");

        assert_ne!(new.id, old.id, "an id is never handed out twice");
        assert_ne!(new.id, empty.id, "not even that of a list without messages");
        assert!(w.s.list_messages(new.id, 10).expect("list").is_empty());
        let mut again = inbound(RAW, "m1@example.test");
        again.arrival_key = "another-arrival".to_owned();
        let r = record(w.s, &again, &[delivering(new.id)]);
        assert_eq!(new_copies(&r).len(), 1, "the new list has not seen it");
    });
}

#[test]
fn rejections_without_a_reply_are_finished_at_once_and_get_no_job() {
    each_store(|w| {
        let a = list(w, &w.root_members, "Alpha");
        let copy = NewListMessage {
            mailing_list_id: a.id,
            state: ListMessageState::SenderRejected,
            is_reply_due: false,
        };
        let ids = new_copies(&record(w.s, &inbound(RAW, "k"), &[copy]));
        let m = w.s.list_message(ids[0]).expect("read").expect("exists");
        assert!(m.is_finished);
        assert_eq!(m.state, ListMessageState::SenderRejected);
        assert_eq!(w.s.open_job_count().expect("count"), 0);
    });
}

#[test]
fn recipients_are_planned_once_in_batches_of_the_given_size() {
    each_store(|w| {
        let (group, _, id) = club_message(w, 7);
        assert_eq!(w.s.plan_deliveries(id, day(1), 3, t0()).expect("plan"), 7);
        // A member who joins later does not change a planned message.
        member(w, &group, 7);
        assert_eq!(w.s.plan_deliveries(id, day(1), 3, t0()).expect("again"), 7);
        let batches = w.s.pending_batches(id, None, 10).expect("batches");
        let sizes: Vec<usize> = batches.iter().map(|b| b.recipients.len()).collect();
        assert_eq!(sizes, [3, 3, 1]);
        let numbers: Vec<u64> = batches.iter().map(|b| b.number).collect();
        assert_eq!(numbers, [0, 1, 2]);
        let after_first = w.s.pending_batches(id, Some(0), 1).expect("batches");
        assert_eq!(after_first.len(), 1);
        assert_eq!(after_first[0].number, 1);
        assert!(
            w.s.list_message(id)
                .expect("read")
                .expect("exists")
                .is_planned
        );
    });
}

#[test]
fn a_batch_handed_over_but_never_settled_becomes_uncertain_and_is_not_offered_again() {
    each_store(|w| {
        let (_, l, id) = club_message(w, 4);
        w.s.plan_deliveries(id, day(1), 2, t0()).expect("plan");
        assert!(w.s.mark_handed(id, 0).expect("handed"));
        assert!(
            !w.s.mark_handed(id, 0).expect("handed"),
            "a batch another attempt has handed over is not handed over again"
        );
        assert_eq!(
            w.s.pending_batches(id, None, 10).expect("batches").len(),
            1,
            "a handed batch is not pending"
        );
        // Only the batches named, and only while handed over.
        assert_eq!(w.s.mark_uncertain(id, &[1]).expect("marked"), 0);
        // The worker died here; the next attempt settles it first.
        assert_eq!(w.s.resume_deliveries(id).expect("resumed"), 2);
        assert_eq!(w.s.resume_deliveries(id).expect("resumed"), 0);
        let summary = &w.s.list_messages(l.id, 1).expect("list")[0];
        assert_eq!(
            (summary.recipients, summary.uncertain, summary.sent),
            (4, 2, 0)
        );
        // An attempt settling the batch it handed over whose record was
        // lost; the one uncertain already counts once.
        assert!(w.s.mark_handed(id, 1).expect("handed"));
        assert_eq!(w.s.mark_uncertain(id, &[0, 1]).expect("marked"), 2);
        let summary = &w.s.list_messages(l.id, 1).expect("list")[0];
        assert_eq!((summary.uncertain, summary.sent), (4, 0));
    });
}

#[test]
fn a_batch_handed_over_is_recorded_though_the_server_ended_the_connection_just_before() {
    each_store(|w| {
        let (l, id, batch) = three_handed_over(w);
        // The SMTP server accepted the batch; meanwhile the database
        // ended the connection the handover used a moment ago.
        w.end_sessions();
        let sent = BatchOutcome {
            sent: batch.recipients.clone(),
            ..BatchOutcome::default()
        };
        w.s.record_batch(id, batch.number, &sent)
            .expect("recorded on a new connection");
        let summary = &w.s.list_messages(l.id, 1).expect("list")[0];
        assert_eq!((summary.sent, summary.uncertain), (3, 0));
    });
}

#[test]
fn batch_outcomes_set_counts_and_retries_come_back_on_the_next_attempt() {
    each_store(|w| {
        let (l, id, batch) = three_handed_over(w);
        let emails = batch.recipients.clone();
        let outcome = BatchOutcome {
            sent: vec![emails[0].clone()],
            failed: vec![(emails[1].clone(), "550 no such user".to_owned())],
            retry: vec![emails[2].clone()],
        };
        w.s.record_batch(id, batch.number, &outcome)
            .expect("recorded");
        // A second record of the same batch (a job repeating its last
        // step) counts nothing twice and moves nobody again.
        w.s.record_batch(id, batch.number, &outcome)
            .expect("recorded again");
        let summary = &w.s.list_messages(l.id, 1).expect("list")[0];
        assert_eq!((summary.sent, summary.failed, summary.uncertain), (1, 1, 0));
        assert_eq!(
            w.s.pending_batches(id, None, 10).expect("batches"),
            [],
            "a recipient refused for now waits for the next attempt"
        );
        assert_eq!(w.s.resume_deliveries(id).expect("resumed"), 0);
        let again = w.s.pending_batches(id, None, 10).expect("batches");
        assert_eq!(again.len(), 1);
        assert_ne!(again[0].number, batch.number);
        assert_eq!(again[0].recipients, [emails[2].clone()]);
        w.s.record_batch(
            id,
            again[0].number,
            &BatchOutcome {
                sent: vec![emails[2].clone()],
                ..BatchOutcome::default()
            },
        )
        .expect("recorded");
        let summary = &w.s.list_messages(l.id, 1).expect("list")[0];
        assert_eq!(
            (summary.recipients, summary.sent, summary.failed),
            (3, 2, 1)
        );
        assert_eq!(w.s.pending_batches(id, None, 10).expect("batches"), []);
    });
}

#[test]
fn a_batch_refused_whole_for_now_is_sent_again_on_the_next_attempt() {
    each_store(|w| {
        let (_, l, id) = club_message(w, 4);
        w.s.plan_deliveries(id, day(1), 2, t0()).expect("plan");
        let batches = w.s.pending_batches(id, None, 10).expect("batches");
        let first = &batches[0];
        w.s.record_batch(
            id,
            first.number,
            &BatchOutcome {
                retry: first.recipients.clone(),
                ..BatchOutcome::default()
            },
        )
        .expect("recorded");
        let numbers = |w: &World<'_>| -> Vec<u64> {
            w.s.pending_batches(id, None, 10)
                .expect("batches")
                .iter()
                .map(|b| b.number)
                .collect()
        };
        assert_eq!(numbers(w), [batches[1].number]);
        w.s.resume_deliveries(id).expect("resumed");
        assert_eq!(numbers(w), [first.number, batches[1].number]);
        let summary = &w.s.list_messages(l.id, 1).expect("list")[0];
        assert_eq!(
            (summary.recipients, summary.sent, summary.failed),
            (4, 0, 0)
        );
    });
}

#[test]
fn the_raw_message_goes_once_every_copy_is_finished() {
    each_store(|w| {
        let a = list(w, &w.root_members, "Alpha");
        let b = list(w, &w.root_members, "Beta");
        let r = record(
            w.s,
            &inbound(RAW, "k"),
            &[delivering(a.id), delivering(b.id)],
        );
        let Recorded::New {
            inbound: id,
            copies,
        } = r
        else {
            panic!("new");
        };
        w.s.finish_list_message(copies[0], ListMessageState::Finished, t0())
            .expect("finished");
        assert!(
            w.s.inbound_raw(id).expect("raw").is_some(),
            "the other copy needs it"
        );
        w.s.finish_list_message(copies[1], ListMessageState::Finished, t0())
            .expect("finished");
        assert_eq!(w.s.inbound_raw(id).expect("raw"), None);
        let m = w.s.list_message(copies[1]).expect("read").expect("exists");
        assert!(m.is_finished);
        let by_token = w.s.list_message_by_token(&m.token).expect("read");
        assert_eq!(by_token.map(|t| t.id), Some(m.id));
        assert_eq!(
            w.s.list_message_by_token("no-such-token").expect("read"),
            None
        );
    });
}
