//! Identifier newtypes. Ids cross crate boundaries as these types, never as
//! bare integers, so a person id cannot be passed where a group id belongs.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = std::num::ParseIntError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.parse().map($name)
            }
        }
    };
}

id_type!(
    /// The database id of a group.
    GroupId
);
id_type!(
    /// The database id of a person.
    PersonId
);
id_type!(
    /// The database id of a role (one person's membership in one group).
    RoleId
);
id_type!(
    /// The database id of an additional email or phone number.
    ContactId
);
id_type!(
    /// The database id of a queued job.
    JobId
);
id_type!(
    /// The database id of a worker process (one row per process start).
    WorkerId
);
id_type!(
    /// The database id of a mailing list.
    MailingListId
);
id_type!(
    /// The database id of a subscription to a mailing list.
    SubscriptionId
);
id_type!(
    /// The database id of a message that arrived in the list mailbox.
    InboundMailId
);
id_type!(
    /// The database id of one list's copy of an inbound message (what is
    /// delivered to that list's recipients).
    ListMessageId
);
id_type!(
    /// The database id of an event or course.
    EventId
);
id_type!(
    /// The database id of one date of an event.
    EventDateId
);
id_type!(
    /// The database id of an event question.
    QuestionId
);
id_type!(
    /// The database id of an event attachment.
    AttachmentId
);
id_type!(
    /// The database id of a course application (its priorities and approval).
    ApplicationId
);
id_type!(
    /// The database id of a person's participation in an event.
    ParticipationId
);
id_type!(
    /// The database id of a role in an event (leader, participant, ...).
    EventRoleId
);
id_type!(
    /// The database id of a course kind.
    EventKindId
);
id_type!(
    /// The database id of a category of course kinds.
    EventKindCategoryId
);
id_type!(
    /// The database id of a qualification kind.
    QualificationKindId
);
id_type!(
    /// The database id of a person's qualification.
    QualificationId
);
id_type!(
    /// The database id of a mailing list's subscription of an event.
    EventSubscriptionId
);
