//! The transports against the real Postfix of `.ci/mail-servers.sh`
//! (`HIT_TEST_SMTP_URL`, read back over `HIT_TEST_IMAP_URL`; its second
//! listener `HIT_TEST_SMTP_PLAIN_URL` offers no PIPELINING and drops
//! clients idle for 2 s), and the
//! folder transport, which needs no server. Without the variables the
//! server tests say they were skipped and pass.

mod mail_support;

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use hitjobs::mail::{
    FolderMailer, Mailer, SendError, SendmailMailer, SmtpMailer, SmtpUrl, list_folder_mails,
    open_mailbox, read_folder_mail,
};
use mail_support::{
    contains, imap_url_for, inbox_messages, messages_containing, outgoing, server_var,
    smtp_and_imap, smtp_mailer, unique_tag, wait_for_messages,
};

fn people(tag: &str, names: &[&str]) -> Vec<String> {
    names
        .iter()
        .map(|n| format!("{tag}-{n}@people.example.test"))
        .collect()
}

#[test]
fn smtp_delivers_headers_and_body_to_every_recipient() {
    let Some((smtp, imap)) = smtp_and_imap("HIT_TEST_SMTP_URL") else {
        return;
    };
    let tag = unique_tag();
    let to = people(&tag, &["ann", "bob"]);

    let delivery = smtp_mailer(&smtp).send(&outgoing(&tag, &to)).expect("sent");
    assert_eq!(delivery.accepted, to);
    assert!(delivery.refused.is_empty());

    for address in &to {
        let found = inbox_messages(&imap, address, &tag, 1);
        assert_eq!(found.len(), 1, "{address} got {} copies", found.len());
        let raw = &found[0];
        assert!(contains(raw, &format!("Subject: hit test {tag}")));
        assert!(contains(raw, &format!("X-Original-To: {address}")));
        assert!(contains(raw, &format!("Hello from {tag}.\r\n")));
        // Dot-stuffing was added for the wire and removed again.
        assert!(contains(raw, "\r\n.a line that starts with a dot\r\n"));
    }
}

#[test]
fn a_recipient_of_another_domain_is_refused_permanently_with_554() {
    let Some(smtp) = server_var("HIT_TEST_SMTP_URL") else {
        return;
    };
    let tag = unique_tag();
    let mut to = people(&tag, &["ann"]);
    to.push(format!("{tag}@elsewhere.example.org"));

    let delivery = smtp_mailer(&smtp).send(&outgoing(&tag, &to)).expect("sent");

    assert_eq!(delivery.accepted, vec![to[0].clone()]);
    assert_eq!(delivery.refused.len(), 1);
    let refused = &delivery.refused[0];
    assert_eq!(refused.address, to[1]);
    assert_eq!(refused.code, 554);
    assert!(refused.is_permanent);
}

#[test]
fn when_every_recipient_is_refused_nothing_is_handed_over() {
    let Some(smtp) = server_var("HIT_TEST_SMTP_URL") else {
        return;
    };
    let tag = unique_tag();
    let to = vec![
        format!("{tag}@elsewhere.example.org"),
        "not an address".to_owned(),
    ];
    let mut called = false;

    let delivery = smtp_mailer(&smtp)
        .send_with_handover(&outgoing(&tag, &to), &mut |_| {
            called = true;
            Ok(())
        })
        .expect("no failure of the whole message");

    assert!(delivery.accepted.is_empty());
    assert_eq!(
        delivery.refused.iter().map(|r| r.code).collect::<Vec<_>>(),
        vec![554, 553]
    );
    assert!(!called, "the handover ran without any accepted recipient");
}

#[test]
fn without_pipelining_every_command_waits_and_refusals_are_per_recipient() {
    let Some((smtp, imap)) = smtp_and_imap("HIT_TEST_SMTP_PLAIN_URL") else {
        return;
    };
    let tag = unique_tag();
    let mut to = people(&tag, &["ann", "bob"]);
    to.insert(1, format!("{tag}@elsewhere.example.org"));
    let mailer = smtp_mailer(&smtp);

    let delivery = mailer.send(&outgoing(&tag, &to)).expect("sent");
    assert_eq!(delivery.accepted, vec![to[0].clone(), to[2].clone()]);
    assert_eq!(
        delivery
            .refused
            .iter()
            .map(|r| (&r.address, r.code))
            .collect::<Vec<_>>(),
        vec![(&to[1], 554)]
    );
    for address in [&to[0], &to[2]] {
        let found = inbox_messages(&imap, address, &tag, 1);
        assert_eq!(found.len(), 1, "{address} got {} copies", found.len());
    }

    let refused = vec![format!("{tag}@elsewhere.example.org")];
    let mut called = false;
    let delivery = mailer
        .send_with_handover(&outgoing(&tag, &refused), &mut |_| {
            called = true;
            Ok(())
        })
        .expect("no failure of the whole message");
    assert!(delivery.accepted.is_empty() && !called);
    // The reset left the connection fit for the next message.
    let next = unique_tag();
    let next_to = people(&next, &["ann"]);
    mailer.send(&outgoing(&next, &next_to)).expect("sent");
    assert_eq!(inbox_messages(&imap, &next_to[0], &next, 1).len(), 1);
}

#[test]
fn a_kept_connection_the_server_closed_is_replaced_and_the_message_goes() {
    let Some((smtp, imap)) = smtp_and_imap("HIT_TEST_SMTP_PLAIN_URL") else {
        return;
    };
    let mailer = smtp_mailer(&smtp);
    let first = unique_tag();
    let first_to = people(&first, &["ann"]);
    mailer.send(&outgoing(&first, &first_to)).expect("sent");
    // The listener drops a client idle for 2 s: the kept connection is
    // closed by the time the next message goes.
    std::thread::sleep(Duration::from_secs(4));

    let second = unique_tag();
    let second_to = people(&second, &["ann"]);
    let delivery = mailer
        .send(&outgoing(&second, &second_to))
        .expect("sent on a new connection");
    assert_eq!(delivery.accepted, second_to);
    let url = imap_url_for(&imap, &second_to[0], "INBOX");
    assert_eq!(wait_for_messages(&url, &second, 1).len(), 1);
}

#[test]
fn a_large_pipelined_envelope_keeps_every_reply_with_its_recipient() {
    let Some((smtp, imap)) = smtp_and_imap("HIT_TEST_SMTP_URL") else {
        return;
    };
    let tag = unique_tag();
    // 150 recipients: the envelope goes in two writes (the client writes
    // at most 100 commands before reading their replies), and a few are of
    // a domain Postfix refuses, on both sides of the boundary. The
    // replies must land on the right addresses. (More than ten refusals
    // in a session and Postfix slows its replies down.)
    let refused_at = [7, 98, 99, 120, 149];
    let to: Vec<String> = (0..150)
        .map(|n| {
            if refused_at.contains(&n) {
                format!("{tag}-{n}@elsewhere.example.org")
            } else {
                format!("{tag}-{n}@people.example.test")
            }
        })
        .collect();
    let delivery = smtp_mailer(&smtp).send(&outgoing(&tag, &to)).expect("sent");
    let expected: Vec<String> = to
        .iter()
        .filter(|a| a.ends_with("people.example.test"))
        .cloned()
        .collect();
    assert_eq!(delivery.accepted, expected);
    let refused: Vec<&String> = delivery.refused.iter().map(|r| &r.address).collect();
    let expected_refused: Vec<&String> = refused_at.iter().map(|&n| &to[n]).collect();
    assert_eq!(refused, expected_refused);
    assert!(delivery.refused.iter().all(|r| r.code == 554));
    for address in [&expected[0], &expected[expected.len() - 1]] {
        let found = inbox_messages(&imap, address, &tag, 1);
        assert_eq!(found.len(), 1, "{address} got {} copies", found.len());
    }
}

#[test]
fn a_closed_port_is_a_temporary_failure() {
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
        listener.local_addr().expect("bound").port()
    };
    let mailer =
        SmtpMailer::new(SmtpUrl::parse(&format!("smtp://127.0.0.1:{port}")).expect("valid"));

    let result = mailer.send(&outgoing("closed", &["ann@people.example.test".to_owned()]));

    assert!(matches!(result, Err(SendError::Temporary(_))), "{result:?}");
}

#[test]
fn smtp_transactions_are_counted_by_outcome() {
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
        listener.local_addr().expect("bound").port()
    };
    let closed =
        SmtpMailer::new(SmtpUrl::parse(&format!("smtp://127.0.0.1:{port}")).expect("valid"));
    let server = server_var("HIT_TEST_SMTP_URL");
    // A recorder of this thread only, where the mailer counts: other
    // tests of this binary cannot add to it.
    let recorder = hitjobs::telemetry::metrics::recorder();
    let handle = recorder.handle();

    metrics::with_local_recorder(&recorder, || {
        let to = ["ann@people.example.test".to_owned()];
        assert!(closed.send(&outgoing("closed", &to)).is_err());
        if let Some(smtp) = &server {
            let tag = unique_tag();
            smtp_mailer(smtp)
                .send(&outgoing(&tag, &people(&tag, &["ann"])))
                .expect("sent");
        }
    });

    let text = handle.render();
    assert!(
        text.contains("hit_smtp_deliveries_total{outcome=\"temporary\"} 1\n"),
        "{text}"
    );
    if server.is_some() {
        assert!(
            text.contains("hit_smtp_deliveries_total{outcome=\"sent\"} 1\n"),
            "{text}"
        );
    }
}

#[test]
fn a_refused_handover_sends_nothing_and_the_mailer_recovers() {
    let Some((smtp, imap)) = smtp_and_imap("HIT_TEST_SMTP_URL") else {
        return;
    };
    let mailer = smtp_mailer(&smtp);
    let aborted = unique_tag();
    let to = people(&aborted, &["ann"]);

    let result = mailer.send_with_handover(&outgoing(&aborted, &to), &mut |delivery| {
        assert_eq!(delivery.accepted, to);
        Err(anyhow::anyhow!("the database is gone"))
    });
    assert!(matches!(result, Err(SendError::Aborted(_))), "{result:?}");

    // The next message on the same mailer goes out; once it has arrived,
    // the aborted one would have too.
    let next = unique_tag();
    let next_to = people(&aborted, &["ann"]);
    mailer
        .send(&outgoing(&next, &next_to))
        .expect("sent after the abort");
    let url = imap_url_for(&imap, &to[0], "INBOX");
    assert_eq!(wait_for_messages(&url, &next, 1).len(), 1);
    std::thread::sleep(Duration::from_millis(500));
    assert!(messages_containing(&url, &format!("Subject: hit test {aborted}")).is_empty());
}

#[test]
fn one_mailer_serves_several_threads() {
    let Some((smtp, imap)) = smtp_and_imap("HIT_TEST_SMTP_URL") else {
        return;
    };
    let mailer = Arc::new(smtp_mailer(&smtp));
    let tag = unique_tag();
    let to = people(&tag, &["crowd"]);

    let threads: Vec<_> = (0..4)
        .map(|_| {
            let (mailer, to, tag) = (Arc::clone(&mailer), to.clone(), tag.clone());
            std::thread::spawn(move || {
                for _ in 0..5 {
                    mailer.send(&outgoing(&tag, &to)).expect("sent");
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().expect("the sender thread finished");
    }

    let url = imap_url_for(&imap, &to[0], "INBOX");
    assert_eq!(wait_for_messages(&url, &tag, 20).len(), 20);
}

#[test]
fn sendmail_hands_mail_to_postfix() {
    let Some((_, imap)) = smtp_and_imap("HIT_TEST_SMTP_URL") else {
        return;
    };
    let tag = unique_tag();
    let to = people(&tag, &["ann"]);

    let delivery = SendmailMailer::new("/usr/sbin/sendmail")
        .send(&outgoing(&tag, &to))
        .expect("handed to sendmail");

    assert_eq!(delivery.accepted, to);
    let found = inbox_messages(&imap, &to[0], &tag, 1);
    assert_eq!(found.len(), 1);
    assert!(contains(&found[0], &format!("Subject: hit test {tag}")));
}

#[test]
fn the_folder_transport_keeps_each_message_with_its_envelope() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let outbox = dir.path().join("mail/outbox");
    let mailer = FolderMailer::new(&outbox);
    let mail = outgoing(
        "folder",
        &["ann@people.example.test".to_owned(), "bob@x".to_owned()],
    );

    let delivery = mailer.send(&mail).expect("written");

    assert_eq!(delivery.accepted.len(), 2);
    let listed = list_folder_mails(&outbox).expect("listed");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].to, delivery.accepted);
    assert_eq!(listed[0].subject.as_deref(), Some("hit test folder"));
    assert_eq!(listed[0].date.as_deref(), Some("2024-01-01T10:00:00Z"));
    let raw = read_folder_mail(&outbox, &listed[0].id).expect("readable");
    assert_eq!(raw.as_deref(), Some(&mail.message[..]));
    assert_eq!(
        read_folder_mail(&outbox, "../../etc/passwd").expect("no error"),
        None
    );

    // The same folder read as a mailbox yields the message byte for byte.
    let mut mailbox = open_mailbox(&format!("folder://{}", outbox.display())).expect("opens");
    let messages = mailbox.list().expect("lists");
    assert_eq!(messages.len(), 1);
    assert_eq!(mailbox.fetch(&messages[0]).expect("fetches"), mail.message);
}
