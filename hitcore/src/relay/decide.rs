//! What happens to an inspected message for one list: forwarded,
//! returned, rejected or dropped (section 7.1 steps 7-10 of the domain
//! description, in an order that cannot loop).
//!
//! The caller looks the list and the sender's standing up in the store;
//! this module only weighs them.

use super::inspect::Inspection;
use crate::mailing_list::{MailingList, is_valid_mail_name};

/// What the store knows about the sender of a message, for one list.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SenderStanding {
    /// The address is the main or an additional email of one of the
    /// list's recipients.
    pub is_recipient: bool,
    /// A person with that address may update the list.
    pub is_list_manager: bool,
    /// The address is the email (or an additional email) of the list's
    /// group.
    pub is_group_address: bool,
}

/// Whether `sender_email` may post to `list`.
///
/// True for lists anyone may post to; for recipients when subscribers may
/// post; for an address in `additional_senders` (exact, or `*@domain` for
/// that domain, not its subdomains); for list managers and for the
/// group's own address. Addresses compare without case.
pub fn sender_may_post(list: &MailingList, sender_email: &str, standing: &SenderStanding) -> bool {
    let email = sender_email.trim().to_ascii_lowercase();
    if email.is_empty() {
        return false;
    }
    list.anyone_may_post
        || (list.subscribers_may_post && standing.is_recipient)
        || is_additional_sender(&list.additional_senders, &email)
        || standing.is_list_manager
        || standing.is_group_address
}

fn is_additional_sender(additional: &[String], email: &str) -> bool {
    let domain = email.rsplit_once('@').map(|(_, d)| d);
    additional.iter().any(|entry| {
        let entry = entry.trim().to_ascii_lowercase();
        match entry.strip_prefix("*@") {
            Some(wildcard) => domain == Some(wildcard),
            None => entry == email,
        }
    })
}

/// The outcome for one message and one list.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Verdict {
    /// Relay to the list's recipients.
    Forward,
    /// No e-mail list of that name: dropped and recorded.
    UnknownList,
    /// Above the size limit: the sender is told.
    TooLarge,
    /// Carries our own List-Id: our mail came back; dropped.
    Loop,
    /// Automatic, and not a bounce of our list mail: dropped, never
    /// answered.
    AutoReply,
    /// A bounce of the list message with this token: passed on to that
    /// message's sender only.
    ReturnBounce { list_message: String },
    /// The sender may not post. `notify` is false when there is no sender
    /// address to answer.
    SenderRejected { notify: bool },
}

/// Decides what happens to `inspection` for `list` (`None` when no list
/// has the name).
///
/// The order matters: a bounce of ours is returned, then anything
/// carrying our List-Id is a loop, then every other automatic message is
/// dropped before a list, size or sender is even looked at, so that no
/// machine ever gets an answer (case 6). A list without a valid mail name
/// is not an e-mail list and counts as unknown.
pub fn decide(
    inspection: &Inspection,
    list: Option<&MailingList>,
    standing: &SenderStanding,
) -> Verdict {
    if let Some(token) = &inspection.bounced_list_message {
        return Verdict::ReturnBounce {
            list_message: token.clone(),
        };
    }
    if inspection.our_list_id.is_some() {
        return Verdict::Loop;
    }
    if inspection.automated.is_some() {
        return Verdict::AutoReply;
    }
    let Some(list) = list.filter(|l| l.mail_name.as_deref().is_some_and(is_valid_mail_name)) else {
        return Verdict::UnknownList;
    };
    if inspection.is_too_large {
        return Verdict::TooLarge;
    }
    match &inspection.sender {
        Some(sender) if sender_may_post(list, &sender.email, standing) => Verdict::Forward,
        Some(_) => Verdict::SenderRejected { notify: true },
        None => Verdict::SenderRejected { notify: false },
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use chrono::{TimeZone, Utc};
    use rstest::rstest;

    use super::*;
    use crate::id::{GroupId, MailingListId};
    use crate::mailing_list::SubscribableFor;
    use crate::relay::inspect::{Automated, Sender};

    pub(crate) fn list() -> MailingList {
        let at = Utc
            .with_ymd_and_hms(2025, 3, 1, 0, 0, 0)
            .single()
            .expect("valid date");
        MailingList {
            id: MailingListId(1),
            group_id: GroupId(1),
            name: "Eltern".into(),
            description: None,
            publisher: None,
            mail_name: Some("eltern".into()),
            additional_senders: vec!["sekretariat@example.org".into(), "*@pfadi.example".into()],
            subscribers_may_post: false,
            anyone_may_post: false,
            preferred_labels: vec![],
            main_email: false,
            delivery_report: false,
            subscribable_for: SubscribableFor::Nobody,
            subscribable_mode: None,
            created_at: at,
            updated_at: at,
        }
    }

    const NOBODY: SenderStanding = SenderStanding {
        is_recipient: false,
        is_list_manager: false,
        is_group_address: false,
    };
    const RECIPIENT: SenderStanding = SenderStanding {
        is_recipient: true,
        ..NOBODY
    };
    const MANAGER: SenderStanding = SenderStanding {
        is_list_manager: true,
        ..NOBODY
    };
    const GROUP: SenderStanding = SenderStanding {
        is_group_address: true,
        ..NOBODY
    };

    #[rstest]
    #[case::stranger("x@example.org", false, false, NOBODY, false)]
    #[case::anyone("x@example.org", true, false, NOBODY, true)]
    #[case::subscriber_allowed("x@example.org", false, true, RECIPIENT, true)]
    #[case::subscriber_not_allowed("x@example.org", false, false, RECIPIENT, false)]
    #[case::non_subscriber("x@example.org", false, true, NOBODY, false)]
    #[case::additional_exact("sekretariat@example.org", false, false, NOBODY, true)]
    #[case::additional_case("Sekretariat@Example.ORG", false, false, NOBODY, true)]
    #[case::wildcard("lea@pfadi.example", false, false, NOBODY, true)]
    #[case::wildcard_case("Lea@PFADI.example", false, false, NOBODY, true)]
    #[case::wildcard_not_subdomain("lea@zh.pfadi.example", false, false, NOBODY, false)]
    #[case::wildcard_not_suffix("lea@xpfadi.example", false, false, NOBODY, false)]
    #[case::manager("x@example.org", false, false, MANAGER, true)]
    #[case::group_address("x@example.org", false, false, GROUP, true)]
    #[case::empty_sender("", true, true, RECIPIENT, false)]
    fn sender_may_post_follows_the_list_rules(
        #[case] email: &str,
        #[case] anyone: bool,
        #[case] subscribers: bool,
        #[case] standing: SenderStanding,
        #[case] expected: bool,
    ) {
        let list = MailingList {
            anyone_may_post: anyone,
            subscribers_may_post: subscribers,
            ..list()
        };
        assert_eq!(sender_may_post(&list, email, &standing), expected);
    }

    fn inspection() -> Inspection {
        Inspection {
            message_key: "k".into(),
            message_id: Some("k".into()),
            list_names: vec!["eltern".into()],
            sender: Some(Sender {
                email: "reto@example.org".into(),
                name: None,
            }),
            return_path: Some("reto@example.org".into()),
            subject: "Hallo".into(),
            size_bytes: 100,
            is_too_large: false,
            automated: None,
            our_list_id: None,
            bounced_list_message: None,
        }
    }

    fn bounce(i: Inspection) -> Inspection {
        let automated = Some(Automated::DeliveryReport);
        Inspection {
            bounced_list_message: Some("t1".into()),
            automated,
            ..i
        }
    }
    fn looped(i: Inspection) -> Inspection {
        Inspection {
            our_list_id: Some("eltern.db.example.ch".into()),
            ..i
        }
    }
    fn auto(i: Inspection) -> Inspection {
        Inspection {
            automated: Some(Automated::AutoSubmitted),
            ..i
        }
    }
    fn large(i: Inspection) -> Inspection {
        Inspection {
            is_too_large: true,
            ..i
        }
    }
    fn anonymous(i: Inspection) -> Inspection {
        Inspection { sender: None, ..i }
    }
    fn same(i: Inspection) -> Inspection {
        i
    }

    #[rstest]
    #[case::bounce_beats_loop(
        looped(bounce(inspection())), true, NOBODY,
        Verdict::ReturnBounce { list_message: "t1".into() }
    )]
    #[case::bounce_without_list(bounce(inspection()), false, NOBODY,
        Verdict::ReturnBounce { list_message: "t1".into() })]
    #[case::loop_beats_automated(looped(auto(inspection())), true, MANAGER, Verdict::Loop)]
    #[case::loop_even_from_manager(looped(inspection()), true, MANAGER, Verdict::Loop)]
    #[case::automated_beats_unknown(auto(inspection()), false, NOBODY, Verdict::AutoReply)]
    #[case::automated_beats_size(auto(large(inspection())), true, NOBODY, Verdict::AutoReply)]
    #[case::automated_from_manager(auto(inspection()), true, MANAGER, Verdict::AutoReply)]
    #[case::unknown_beats_size(large(inspection()), false, NOBODY, Verdict::UnknownList)]
    #[case::size_beats_sender(large(inspection()), true, MANAGER, Verdict::TooLarge)]
    #[case::rejected(same(inspection()), true, NOBODY, Verdict::SenderRejected { notify: true })]
    #[case::no_sender(anonymous(inspection()), true, MANAGER,
        Verdict::SenderRejected { notify: false })]
    #[case::forward(same(inspection()), true, MANAGER, Verdict::Forward)]
    fn decide_checks_in_a_fixed_order(
        #[case] inspection: Inspection,
        #[case] has_list: bool,
        #[case] standing: SenderStanding,
        #[case] expected: Verdict,
    ) {
        let list = list();
        let list = has_list.then_some(&list);
        assert_eq!(decide(&inspection, list, &standing), expected);
    }

    #[rstest]
    #[case::none(None)]
    #[case::invalid(Some("Bad Name"))]
    #[case::empty(Some(""))]
    fn list_without_a_valid_mail_name_is_unknown(#[case] mail_name: Option<&str>) {
        let list = MailingList {
            mail_name: mail_name.map(str::to_owned),
            ..list()
        };
        assert_eq!(
            decide(&inspection(), Some(&list), &MANAGER),
            Verdict::UnknownList
        );
    }
}
