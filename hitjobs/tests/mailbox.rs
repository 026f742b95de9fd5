//! The list mailbox over IMAP and POP3 against the real Dovecot of
//! `.ci/mail-servers.sh` (messages delivered through Postfix into the
//! catch-all, `HIT_TEST_IMAP_URL`, `HIT_TEST_POP3_URL`), and the folder
//! mailbox. Every test acts only on messages carrying its own tag, since
//! the catch-all is shared with other tests.

mod mail_support;

use std::fs;

use hitjobs::mail::{Mailbox, Mailer, MessageRef, open_mailbox};
use mail_support::{
    contains, imap_url_for, messages_containing, outgoing, server_var, smtp_and_imap, smtp_mailer,
    unique_tag, wait_for_messages,
};

/// Sends one message to `<tag>-one@` and one to `<tag>-two@` the list
/// domain, and waits until both are in the catch-all at `url`.
fn deliver_two_list_messages(smtp: &str, url: &str, tag: &str) -> Vec<String> {
    let to = ["one", "two"].map(|n| format!("{tag}-{n}@lists.example.test"));
    let mailer = smtp_mailer(smtp);
    for address in &to {
        mailer
            .send(&outgoing(tag, std::slice::from_ref(address)))
            .expect("sent");
    }
    assert_eq!(
        wait_for_messages(url, tag, 2).len(),
        2,
        "both copies arrived"
    );
    to.to_vec()
}

/// This test's messages in the open session, with their bytes.
fn own_messages(mailbox: &mut dyn Mailbox, tag: &str) -> Vec<(MessageRef, Vec<u8>)> {
    let mut own = Vec::new();
    for message in mailbox.list().expect("lists") {
        let raw = mailbox.fetch(&message).expect("fetches");
        if contains(&raw, tag) {
            own.push((message, raw));
        }
    }
    own
}

#[test]
fn imap_lists_fetches_deletes_and_moves_aside() {
    let Some((smtp, imap)) = smtp_and_imap("HIT_TEST_SMTP_URL") else {
        return;
    };
    let tag = unique_tag();
    let to = deliver_two_list_messages(&smtp, &imap, &tag);

    let mut mailbox = open_mailbox(&imap).expect("opens");
    let own = own_messages(mailbox.as_mut(), &tag);
    assert_eq!(own.len(), 2);
    for (message, raw) in &own {
        assert!(message.id.contains(':'), "{}", message.id);
        assert_eq!(message.size_bytes, Some(raw.len() as u64));
    }
    let original_to = |raw: &[u8]| {
        to.iter()
            .position(|a| contains(raw, &format!("X-Original-To: {a}")))
    };
    let mut seen: Vec<_> = own.iter().filter_map(|(_, raw)| original_to(raw)).collect();
    seen.sort_unstable();
    assert_eq!(seen, vec![0, 1], "each copy names its own list address");

    mailbox.delete(&own[0].0).expect("deleted");
    mailbox.move_aside(&own[1].0).expect("moved aside");
    assert!(
        mailbox.fetch(&own[0].0).is_err(),
        "a deleted message is gone"
    );
    mailbox.close().expect("logged out");

    assert!(messages_containing(&imap, &tag).is_empty());
    let failed = imap_url_for(&imap, "catchall@lists.example.test", "failed");
    let aside = messages_containing(&failed, &tag);
    assert_eq!(aside.len(), 1);
    assert_eq!(aside[0], own[1].1);
}

#[test]
fn imap_refuses_an_id_of_another_mailbox_instance() {
    let Some(imap) = server_var("HIT_TEST_IMAP_URL") else {
        return;
    };
    let mut mailbox = open_mailbox(&imap).expect("opens");
    let stale = MessageRef {
        id: "1:1".to_owned(),
        size_bytes: None,
    };
    // Dovecot's UIDVALIDITY is a timestamp, never 1.
    assert!(mailbox.fetch(&stale).is_err());
    assert!(
        mailbox
            .delete(&MessageRef {
                id: "nonsense".to_owned(),
                size_bytes: None
            })
            .is_err()
    );
    mailbox.close().expect("logged out");
}

#[test]
fn pop3_deletes_only_when_the_session_is_closed() {
    let (Some(smtp), Some(imap), Some(pop3)) = (
        server_var("HIT_TEST_SMTP_URL"),
        server_var("HIT_TEST_IMAP_URL"),
        server_var("HIT_TEST_POP3_URL"),
    ) else {
        return;
    };
    let tag = unique_tag();
    let to = deliver_two_list_messages(&smtp, &imap, &tag);

    // A session that ends without QUIT deletes nothing.
    let mut mailbox = open_mailbox(&pop3).expect("opens");
    let own = own_messages(mailbox.as_mut(), &tag);
    assert_eq!(own.len(), 2);
    assert!(own.iter().all(|(_, raw)| {
        to.iter()
            .any(|a| contains(raw, &format!("X-Original-To: {a}")))
    }));
    mailbox.delete(&own[0].0).expect("marked");
    drop(mailbox);
    assert_eq!(messages_containing(&pop3, &tag).len(), 2);

    let mut mailbox = open_mailbox(&pop3).expect("opens");
    let own = own_messages(mailbox.as_mut(), &tag);
    assert_eq!(own.len(), 2, "the same messages, by the same UIDL");
    mailbox.delete(&own[0].0).expect("deleted");
    mailbox
        .move_aside(&own[1].0)
        .expect("POP3 moves aside by deleting");
    mailbox.close().expect("quit");

    assert!(messages_containing(&pop3, &tag).is_empty());
}

#[test]
fn the_folder_mailbox_reads_eml_files_oldest_first() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    fs::write(dir.path().join("a.eml"), b"Subject: first\r\n\r\n1\r\n").expect("written");
    fs::write(dir.path().join("b.eml"), b"Subject: second\r\n\r\n2\r\n").expect("written");
    fs::write(dir.path().join("notes.txt"), b"not a message").expect("written");
    let url = format!("folder://{}", dir.path().display());

    let mut mailbox = open_mailbox(&url).expect("opens");
    let messages = mailbox.list().expect("lists");
    let ids: Vec<_> = messages.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids, ["a.eml", "b.eml"]);
    assert_eq!(
        mailbox.fetch(&messages[1]).expect("fetches"),
        b"Subject: second\r\n\r\n2\r\n"
    );

    mailbox.delete(&messages[0]).expect("deleted");
    mailbox.move_aside(&messages[1]).expect("moved aside");
    let sneaky = MessageRef {
        id: "../notes.txt".to_owned(),
        size_bytes: None,
    };
    assert!(mailbox.fetch(&sneaky).is_err());
    mailbox.close().expect("closed");

    assert!(
        open_mailbox(&url)
            .expect("opens")
            .list()
            .expect("lists")
            .is_empty()
    );
    assert!(dir.path().join("failed/b.eml").is_file());
    assert!(!dir.path().join("a.eml").exists());
}

#[test]
fn a_wrong_password_is_an_error_that_does_not_show_it() {
    let Some(imap) = server_var("HIT_TEST_IMAP_URL") else {
        return;
    };
    // Dovecot's test passdb takes only the one password.
    let wrong = imap.replace(":test@", ":not-the-password@");
    let Err(e) = open_mailbox(&wrong) else {
        panic!("logged in with a wrong password");
    };
    assert!(!format!("{e:#}").contains("not-the-password"), "{e:#}");
}
