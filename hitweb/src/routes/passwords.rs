//! `/users/password/...`: "Forgot password?", the page a mailed link leads
//! to, and "Send login" on a person's page (issue 5, item 2; section 2.3
//! of the domain description).
//!
//! The request form always gives the same answer, whether the address
//! belongs to a login or not, so it tells nobody which addresses do. The
//! mails themselves go out from jobs (`person.password_reset`,
//! `person.invitation`), which make the token when they run; this module
//! only checks and uses tokens up. As in hitobito, a reset does not sign
//! the person in: they sign in with the new password.

use chrono::Utc;
use hitcore::auth::{self, PASSWORD_LENGTH};
use hitcore::jobs::NewJob;
use hitcore::login_token::{self, LoginToken, TokenPurpose};
use hitcore::person::Person;
use hitcore::store::{Store, StoreError};
use hitcore::{GroupId, PersonId, ability};
use hitjobs::jobs::{PasswordReset, PersonInvitation};
use poem::http::StatusCode;
use poem::web::{Data, Form, Path, Query};
use poem::{Request, Response, handler};
use serde::{Deserialize, Serialize};

use super::{Fields, people, redirect, see_other, unprocessable, visible_group};
use crate::context::{self, RequestCtx, Viewer};
use crate::error::WebError;
use crate::state::AppState;
use crate::views::FieldErrors;

/// Both purposes lead to the same form: a token is looked up as a reset
/// first, then as an invitation (a hash belongs to one token only).
const PURPOSES: [TokenPurpose; 2] = [TokenPurpose::PasswordReset, TokenPurpose::Invitation];

#[derive(Serialize)]
struct RequestView {
    email: String,
}

/// GET /users/password/new: the "Forgot password?" form (page only).
#[handler]
pub fn new_form(ctx: &RequestCtx, state: Data<&AppState>) -> Result<Response, WebError> {
    let view = RequestView {
        email: String::new(),
    };
    ctx.render_template(&state, "passwords/new.html", &view)
}

/// POST /users/password: queues a reset mail for the person with this
/// email, if there is one who may have it, and says the same in every case
/// (redirect to the sign-in page).
#[handler]
pub async fn create(
    state: Data<&AppState>,
    req: &Request,
    Form(fields): Form<Fields>,
) -> Result<Response, WebError> {
    let email = fields
        .get("email")
        .unwrap_or_default()
        .trim()
        .to_lowercase();
    if !email.is_empty() {
        state.db(move |s| enqueue_reset(s, &email)).await?;
    }
    context::set_flash(req.cookie(), &state, "notice", "password_reset.flash_sent");
    Ok(see_other("/users/sign_in"))
}

/// Queues `person.password_reset` for the person with `email` unless they
/// may not have one, one went out minutes ago, or one is queued already.
fn enqueue_reset(s: &dyn Store, email: &str) -> Result<(), StoreError> {
    let now = Utc::now();
    let Some(person) = s.person_by_email(email)? else {
        return Ok(());
    };
    if !ability::may_reset_password(&person) {
        return Ok(());
    }
    let newest = s.newest_open_login_token(person.id, TokenPurpose::PasswordReset, now)?;
    if !login_token::may_send_reset(newest, now) {
        return Ok(());
    }
    let job = NewJob::of(
        &PasswordReset {
            person_id: person.id,
        },
        now,
    )
    .map_err(|e| StoreError::Rule(e.to_string()))?;
    // One queued reset per person: the form cannot pile up jobs either.
    let job = NewJob {
        singleton_key: Some(format!("person.password_reset:{}", person.id)),
        ..job
    };
    s.enqueue(&job, now)?;
    Ok(())
}

/// The query of a mailed link.
#[derive(Deserialize)]
pub struct TokenQuery {
    token: Option<String>,
}

#[derive(Serialize)]
struct SetPasswordView {
    token: String,
    errors: FieldErrors,
    min_length: usize,
}

#[derive(Serialize)]
struct InvalidLinkView {
    status: u16,
}

/// The page for a used, expired, unknown or mangled link: 410, with a
/// way to ask for a new one.
fn invalid_link(ctx: &RequestCtx, state: &AppState) -> Result<Response, WebError> {
    let status = StatusCode::GONE;
    let view = InvalidLinkView {
        status: status.as_u16(),
    };
    let mut resp = ctx.render_template(state, "passwords/invalid.html", &view)?;
    resp.set_status(status);
    Ok(resp)
}

/// The open token behind a link's text, of either purpose.
async fn open_token(state: &AppState, text: &str) -> Result<Option<LoginToken>, WebError> {
    if !login_token::is_well_formed(text) {
        return Ok(None);
    }
    let hash = login_token::token_hash(text);
    state
        .db(move |s| {
            let now = Utc::now();
            for purpose in PURPOSES {
                if let Some(token) = s.open_login_token(&hash, purpose, now)? {
                    return Ok(Some(token));
                }
            }
            Ok(None)
        })
        .await
}

/// GET /users/password/edit?token=...: the set-password form when the
/// link still works, the invalid-link page otherwise; the token is checked,
/// not used up (page only).
#[handler]
pub async fn edit_form(
    ctx: &RequestCtx,
    state: Data<&AppState>,
    Query(query): Query<TokenQuery>,
) -> Result<Response, WebError> {
    let token = query.token.unwrap_or_default();
    if open_token(&state, &token).await?.is_none() {
        return invalid_link(ctx, &state);
    }
    let view = SetPasswordView {
        token,
        errors: FieldErrors::default(),
        min_length: *PASSWORD_LENGTH.start(),
    };
    ctx.render_template(&state, "passwords/edit.html", &view)
}

/// POST /users/password/edit: uses the token up, sets the password (the
/// rules of `/users/edit`), ends every session of the person and sends
/// them to sign in (redirect); the form again on invalid input (page).
#[handler]
pub async fn update(
    ctx: &RequestCtx,
    state: Data<&AppState>,
    req: &Request,
    Form(fields): Form<Fields>,
) -> Result<Response, WebError> {
    let token = fields.raw("token").unwrap_or_default().to_owned();
    let new = fields.raw("password").unwrap_or_default().to_owned();
    let confirmation = fields.raw("password_confirmation").unwrap_or_default();

    let mut errors = FieldErrors::default();
    if !PASSWORD_LENGTH.contains(&new.chars().count()) {
        errors.add(ctx.lang, "password", "errors.password_length");
    } else if new != confirmation {
        errors.add(
            ctx.lang,
            "password_confirmation",
            "errors.password_mismatch",
        );
    }
    if !errors.is_empty() {
        if open_token(&state, &token).await?.is_none() {
            return invalid_link(ctx, &state);
        }
        let view = SetPasswordView {
            token,
            errors,
            min_length: *PASSWORD_LENGTH.start(),
        };
        return Ok(unprocessable(ctx.render_template(
            &state,
            "passwords/edit.html",
            &view,
        )?));
    }
    if !login_token::is_well_formed(&token) {
        return invalid_link(ctx, &state);
    }

    let hash = login_token::token_hash(&token);
    let person = state
        .db(move |s| set_password_by_token(s, &hash, &new))
        .await?;
    let Some(person_id) = person else {
        return invalid_link(ctx, &state);
    };
    tracing::info!(person.id = %person_id, "Person {person_id} set a password through a mailed link");
    // The link came from the person's mailbox, so this browser may be
    // someone else's: whoever is signed in here stays as they are.
    context::set_flash(
        req.cookie(),
        &state,
        "notice",
        "password_reset.flash_password_set",
    );
    Ok(see_other("/users/sign_in"))
}

/// Uses up the token with `hash` and sets `password` for its person, whose
/// sessions all end (a stolen one among them); none when the token is not
/// open.
///
/// The password is hashed first, so that once the token is used up only a
/// database failure can keep the password from being set.
///
/// TODO: the use and the change are two transactions; should the second
/// fail, the link is spent and the person must ask for another. One
/// store call doing both (a `TokenRepo` method that takes the hash) would
/// close that gap.
fn set_password_by_token(
    s: &dyn Store,
    hash: &str,
    password: &str,
) -> Result<Option<PersonId>, StoreError> {
    let password_hash =
        auth::hash_password(password).map_err(|e| StoreError::Rule(e.to_string()))?;
    let now = Utc::now();
    let mut used = None;
    for purpose in PURPOSES {
        used = s.consume_login_token(hash, purpose, now)?;
        if used.is_some() {
            break;
        }
    }
    let Some(token) = used else {
        return Ok(None);
    };
    let permit = ability::permit_password_by_token(&token)
        .map_err(|_| StoreError::Rule("the token was not used up".to_owned()))?;
    s.set_password_hash(&permit, &password_hash, now)?;
    s.end_other_sessions(token.person_id, None)?;
    Ok(Some(token.person_id))
}

/// The URL of the "Send login" button for this person on the page of
/// group `g`, when the viewer may send one.
pub fn send_login_url(
    viewer: &Viewer,
    subject: &ability::PersonSubject<'_>,
    person: &Person,
    g: GroupId,
) -> Option<String> {
    let has_email = ability::may_reset_password(person);
    ability::may_send_login(&viewer.actor, subject, has_email)
        .is_allowed()
        .then(|| format!("/groups/{g}/people/{}/send_login", person.id))
}

/// POST /groups/:group_id/people/:id/send_login: queues a login
/// invitation for the person (redirect to their page).
#[handler]
pub async fn send_login(
    ctx: &RequestCtx,
    state: Data<&AppState>,
    req: &Request,
    Path((group_id, id)): Path<(GroupId, PersonId)>,
) -> Result<Response, WebError> {
    let viewer = ctx.viewer()?;
    let g = visible_group(viewer, group_id)?;
    let b = people::load_person(&state, id).await?;
    let subject = people::subject(&state, viewer, &b);
    let has_email = ability::may_reset_password(&b.person);
    let permit = ability::permit_send_login(&viewer.actor, &subject, has_email)?;

    let person_id = permit.target().0;
    let now = Utc::now();
    let job = NewJob::of(&PersonInvitation { person_id }, now)
        .map_err(WebError::internal)?
        .by(viewer.person.id);
    let job = NewJob {
        singleton_key: Some(format!("person.invitation:{person_id}")),
        ..job
    };
    state.db(move |s| s.enqueue(&job, now)).await?;

    context::set_flash(
        req.cookie(),
        &state,
        "notice",
        "password_reset.flash_login_sent",
    );
    Ok(redirect(
        ctx,
        &format!("/groups/{}/people/{person_id}", g.id),
    ))
}
