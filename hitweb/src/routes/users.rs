//! `/users/...`: signing in and out, and changing one's own password.
//!
//! Sign-in failures all show the same message, so the page never tells
//! whether an email belongs to an account or whether it is locked.

use std::sync::OnceLock;

use chrono::{Duration, Utc};
use hitcore::ability;
use hitcore::auth::{self, PASSWORD_LENGTH};
use hitcore::store::Session;
use poem::web::{Data, Form};
use poem::{Request, Response, handler};
use serde::Serialize;

use super::{Fields, see_other, unprocessable};
use crate::context::{self, RequestCtx, SESSION_COOKIE};
use crate::error::WebError;
use crate::state::AppState;
use crate::views::FieldErrors;

/// How long a session lasts.
pub const SESSION_TTL: Duration = Duration::days(7);

#[derive(Serialize)]
struct SignInView {
    email: String,
    error: Option<String>,
}

/// GET /users/sign_in: the sign-in page (page only).
#[handler]
pub fn sign_in_form(ctx: &RequestCtx, state: Data<&AppState>) -> Result<Response, WebError> {
    if ctx.viewer.is_some() {
        return Ok(see_other("/"));
    }
    let view = SignInView {
        email: String::new(),
        error: None,
    };
    ctx.render_template(&state, "users/sign_in.html", &view)
}

/// What a sign-in attempt came to.
enum Attempt {
    Good(hitcore::PersonId),
    Refused,
}

/// POST /users/sign_in: checks the password, counts failures (five lock
/// the account for an hour), starts a session (page).
#[handler]
pub async fn sign_in(
    ctx: &RequestCtx,
    state: Data<&AppState>,
    req: &Request,
    Form(fields): Form<Fields>,
) -> Result<Response, WebError> {
    let email = fields
        .get("email")
        .unwrap_or_default()
        .trim()
        .to_lowercase();
    let password = fields.raw("password").unwrap_or_default().to_owned();
    let now = Utc::now();

    let lookup = email.clone();
    let attempt = state
        .db(move |s| {
            let Some(login) = s.login_by_email(&lookup)? else {
                // Spend the same time as for a real account.
                auth::verify_password(&password, dummy_hash());
                return Ok(Attempt::Refused);
            };
            // A login without a password (never invited) spends the same
            // time too, or the answer's speed would tell which addresses
            // belong to people.
            let is_good = match login.password_hash.as_deref() {
                Some(hash) => auth::verify_password(&password, hash),
                None => {
                    auth::verify_password(&password, dummy_hash());
                    false
                }
            };
            if auth::is_locked(login.locked_at, now) {
                return Ok(Attempt::Refused);
            }
            if is_good {
                s.record_good_login(login.person_id, now)?;
                Ok(Attempt::Good(login.person_id))
            } else {
                s.record_failed_login(login.person_id, now)?;
                Ok(Attempt::Refused)
            }
        })
        .await?;

    match attempt {
        Attempt::Good(person_id) => {
            // A new sign-in replaces any session this browser had.
            if let Some(old) = &ctx.viewer {
                let hash = old.session_hash.clone();
                state.db(move |s| s.delete_session(&hash)).await?;
            }
            start_session(&state, req, person_id).await?;
            Ok(see_other("/"))
        }
        Attempt::Refused => {
            tracing::warn!("Refused a sign-in attempt");
            let view = SignInView {
                email,
                error: Some(ctx.t("sign_in.failed")),
            };
            Ok(unprocessable(ctx.render_template(
                &state,
                "users/sign_in.html",
                &view,
            )?))
        }
    }
}

fn dummy_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| auth::hash_password("not a real password").unwrap_or_default())
}

async fn start_session(
    state: &AppState,
    req: &Request,
    person_id: hitcore::PersonId,
) -> Result<(), WebError> {
    let token = auth::new_token();
    let hash = auth::token_hash(&token);
    let now = Utc::now();
    let session = Session {
        person_id,
        created_at: now,
        expires_at: now + SESSION_TTL,
    };
    state.db(move |s| s.create_session(&hash, &session)).await?;
    context::set_cookie(req.cookie(), state, SESSION_COOKIE, &token);
    Ok(())
}

/// POST /users/sign_out: ends the session (redirect).
#[handler]
pub async fn sign_out(
    ctx: &RequestCtx,
    state: Data<&AppState>,
    req: &Request,
) -> Result<Response, WebError> {
    if let Some(viewer) = &ctx.viewer {
        let hash = viewer.session_hash.clone();
        state.db(move |s| s.delete_session(&hash)).await?;
    }
    context::expire_cookie(req.cookie(), &state, SESSION_COOKIE);
    context::set_flash(req.cookie(), &state, "notice", "flash.signed_out");
    Ok(see_other("/users/sign_in"))
}

#[derive(Serialize)]
struct PasswordView {
    errors: FieldErrors,
    min_length: usize,
}

/// GET /users/edit: the change-password page (page only).
#[handler]
pub fn edit(ctx: &RequestCtx, state: Data<&AppState>) -> Result<Response, WebError> {
    let viewer = ctx.viewer()?;
    ability::permit_own_password(&viewer.actor, viewer.person.id)?;
    let view = PasswordView {
        errors: FieldErrors::default(),
        min_length: *PASSWORD_LENGTH.start(),
    };
    ctx.render_template(&state, "users/edit.html", &view)
}

/// POST /users/edit: changes one's own password; the current one is
/// required (page).
#[handler]
pub async fn update(
    ctx: &RequestCtx,
    state: Data<&AppState>,
    req: &Request,
    Form(fields): Form<Fields>,
) -> Result<Response, WebError> {
    let viewer = ctx.viewer()?;
    let permit = ability::permit_own_password(&viewer.actor, viewer.person.id)?;
    let current = fields
        .raw("current_password")
        .unwrap_or_default()
        .to_owned();
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
    let email = viewer.person.email.clone().unwrap_or_default();
    let person_id = viewer.person.id;
    // The browser that changes the password stays signed in; every other
    // session of the person ends, as a stolen session should.
    let keep = req
        .cookie()
        .get(SESSION_COOKIE)
        .map(|c| hitcore::auth::token_hash(c.value_str()));
    let now = Utc::now();
    let checked = errors.is_empty();
    let is_current_ok = state
        .db(move |s| {
            let login = s.login_by_email(&email)?;
            let is_ok = login
                .and_then(|l| l.password_hash)
                .is_some_and(|h| auth::verify_password(&current, &h));
            if is_ok && checked {
                let hash = auth::hash_password(&new)
                    .map_err(|e| hitcore::store::StoreError::Rule(e.to_string()))?;
                s.set_password_hash(&permit, &hash, now)?;
                s.end_other_sessions(person_id, keep.as_deref())?;
            }
            Ok(is_ok)
        })
        .await?;
    if !is_current_ok {
        errors.add(ctx.lang, "current_password", "errors.current_password");
    }
    if !errors.is_empty() {
        let view = PasswordView {
            errors,
            min_length: *PASSWORD_LENGTH.start(),
        };
        return Ok(unprocessable(ctx.render_template(
            &state,
            "users/edit.html",
            &view,
        )?));
    }
    context::set_flash(req.cookie(), &state, "notice", "flash.password_changed");
    Ok(see_other("/"))
}
