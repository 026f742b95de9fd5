//! Who may read the development mail folder (`/dev/mails`): the root user
//! only. The folder holds every mail the instance wrote, password-reset and
//! invitation links of other people included.

use super::{Actor, Because, Decision, Refusal};

/// Whether the actor may list and read the mails of the folder transport.
pub fn dev_mails(actor: &Actor) -> Decision {
    if actor.is_root {
        Decision::Allowed(Because::Root)
    } else {
        Decision::Refused(Refusal::NoPermission)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::id::PersonId;

    fn actor(is_root: bool) -> Actor {
        Actor {
            person_id: PersonId(7),
            is_root,
            grants: Vec::new(),
            has_role: true,
        }
    }

    #[test]
    fn only_root_reads_the_dev_mails() {
        assert!(dev_mails(&actor(true)).is_allowed());
        assert_eq!(
            dev_mails(&actor(false)),
            Decision::Refused(Refusal::NoPermission)
        );
    }
}
