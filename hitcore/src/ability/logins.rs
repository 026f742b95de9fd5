//! Who may mail a person a login, and who may set a password through a
//! mailed link: hitobito's "Send login" (`send_password_instructions`,
//! section 2.3 of the domain description) and the password reset.
//!
//! Mailing a login needs the right to edit the person and an email to mail
//! it to, and is never allowed on oneself (one uses "Forgot password?"
//! instead). Setting a password through a link needs only the link: the
//! token the store has just used up is the proof.

use super::{Actor, Decision, Permit, PersonAction, PersonSubject, Refusal, SetPassword, person};
use crate::id::PersonId;
use crate::login_token::LoginToken;
use crate::person::Person;

/// Permit target: mail this person a login invitation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SendLogin(pub PersonId);

/// May the actor mail the person a login invitation?
///
/// Refused with [`Refusal::NotOnSelf`] for oneself, with
/// [`Refusal::NoPermission`] when the person has no email (there is
/// nowhere to send it), otherwise as [`PersonAction::Update`] decides.
pub fn may_send_login(actor: &Actor, subject: &PersonSubject<'_>, has_email: bool) -> Decision {
    if actor.person_id == subject.id {
        return Decision::Refused(Refusal::NotOnSelf);
    }
    if !has_email {
        return Decision::Refused(Refusal::NoPermission);
    }
    person(actor, PersonAction::Update, subject)
}

/// A permit to mail the person a login invitation.
///
/// # Errors
/// The refusal of [`may_send_login`].
pub fn permit_send_login(
    actor: &Actor,
    subject: &PersonSubject<'_>,
    has_email: bool,
) -> Result<Permit<SendLogin>, Refusal> {
    super::grant(
        may_send_login(actor, subject, has_email),
        SendLogin(subject.id),
    )
}

/// Whether a "Forgot password?" request for this person sends a mail: the
/// person must have an email, which is their login (section 2.3), since
/// signing in needs nothing else.
pub fn may_reset_password(person: &Person) -> bool {
    person
        .email
        .as_deref()
        .is_some_and(|e| !e.trim().is_empty())
}

/// A permit to set the password of the person a mailed token was for.
///
/// # Errors
/// [`Refusal::NoPermission`] for a token that was not used up: only
/// [`crate::store::TokenRepo::consume_login_token`] hands out one that
/// was, and only once.
pub fn permit_password_by_token(token: &LoginToken) -> Result<Permit<SetPassword>, Refusal> {
    if token.used_at.is_some() {
        Ok(Permit {
            target: SetPassword(token.person_id),
        })
    } else {
        Err(Refusal::NoPermission)
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::ability::{Because, Grant};
    use crate::id::GroupId;
    use crate::login_token::TokenPurpose;
    use crate::permission::Permission;

    fn actor(id: i64, is_root: bool) -> Actor {
        Actor {
            person_id: PersonId(id),
            is_root,
            grants: vec![Grant {
                permission: Permission::LayerRead,
                group_id: GroupId(1),
                layer_group_id: GroupId(1),
                is_group_active: true,
            }],
            has_role: true,
        }
    }

    fn subject(id: i64) -> PersonSubject<'static> {
        PersonSubject {
            id: PersonId(id),
            is_root: false,
            contact_data_visible: false,
            roles: Vec::new(),
        }
    }

    #[test]
    fn nobody_sends_a_login_to_themselves_not_even_root() {
        for is_root in [false, true] {
            assert_eq!(
                may_send_login(&actor(2, is_root), &subject(2), true),
                Decision::Refused(Refusal::NotOnSelf)
            );
        }
    }

    #[test]
    fn a_login_needs_an_email_to_go_to() {
        assert_eq!(
            may_send_login(&actor(1, true), &subject(2), false),
            Decision::Refused(Refusal::NoPermission)
        );
        assert_eq!(
            may_send_login(&actor(1, true), &subject(2), true),
            Decision::Allowed(Because::Root)
        );
    }

    #[test]
    fn without_the_right_to_edit_the_person_no_login_is_sent() {
        assert_eq!(
            permit_send_login(&actor(1, false), &subject(2), true).err(),
            Some(Refusal::NoPermission)
        );
        let permit = permit_send_login(&actor(1, true), &subject(2), true).expect("root");
        assert_eq!(permit.target(), &SendLogin(PersonId(2)));
    }

    #[test]
    fn only_a_used_up_token_sets_a_password() {
        let t = Utc
            .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
            .single()
            .expect("a valid instant");
        let open = LoginToken {
            person_id: PersonId(5),
            purpose: TokenPurpose::PasswordReset,
            created_at: t,
            expires_at: t,
            used_at: None,
        };
        assert_eq!(
            permit_password_by_token(&open).err(),
            Some(Refusal::NoPermission)
        );
        let used = LoginToken {
            used_at: Some(t),
            ..open
        };
        let permit = permit_password_by_token(&used).expect("a used token");
        assert_eq!(permit.target(), &SetPassword(PersonId(5)));
    }
}
