//! `/language`: the language switcher of the layout.
//!
//! A signed-in person's choice is saved as their `language`, through the
//! person update path and its ability check; a visitor's is kept in a
//! cookie that the request context reads before `Accept-Language`. Which
//! language a request is served in is decided in [`crate::i18n`], not here.

use chrono::Utc;
use hitcore::ability::{self, PersonSubject};
use hitcore::person::{Person, PersonPatch};
use poem::http::{Uri, header};
use poem::web::{Data, Form};
use poem::{Request, Response, handler};

use super::{Fields, redirect};
use crate::context::{self, LANGUAGE_COOKIE, RequestCtx, Viewer};
use crate::error::WebError;
use crate::state::AppState;

/// POST /language: switches to the language of the form, one the
/// organisation offers (else a 400), and goes back to the page the form
/// was on (redirect).
///
/// Limitations: the visitor's cookie lasts as long as the browser session,
/// like every cookie [`context::set_cookie`] sets.
#[handler]
pub async fn update(
    ctx: &RequestCtx,
    state: Data<&AppState>,
    req: &Request,
    Form(fields): Form<Fields>,
) -> Result<Response, WebError> {
    let language = offered(&state, fields.raw("language")).ok_or(WebError::BadRequest)?;

    if let Some(viewer) = &ctx.viewer {
        save_for_person(&state, viewer, &language).await?;
    }
    // Visitors get the cookie, and so do people, so that the sign-in page
    // keeps their language after they sign out.
    context::set_cookie(req.cookie(), &state, LANGUAGE_COOKIE, &language);
    Ok(redirect(ctx, &back_to(req)))
}

/// The language code of the form, if the organisation offers it.
fn offered(state: &AppState, value: Option<&str>) -> Option<String> {
    let value = value?.trim();
    state
        .org
        .languages
        .iter()
        .find(|l| l.as_str() == value)
        .cloned()
}

/// Saves `language` as the viewer's own, after the ability engine allowed
/// them to edit themselves.
///
/// Limitations: the other fields are written back as they were loaded at
/// the start of the request, so an edit of the person saved in between by
/// someone else is lost.
async fn save_for_person(
    state: &AppState,
    viewer: &Viewer,
    language: &str,
) -> Result<(), WebError> {
    let subject = PersonSubject::new(
        &viewer.person,
        context::is_root(state, &viewer.person),
        &viewer.roles,
        &viewer.tree,
        &state.org,
        Utc::now().date_naive(),
    );
    let permit = ability::permit_update_person(&viewer.actor, &subject)?;
    if viewer.person.language == language {
        return Ok(());
    }

    // A person whose stored fields no longer pass today's checks cannot be
    // saved through this path; the edit form shows them what to fix.
    let patch = patch_with_language(&viewer.person, language)
        .validated(&state.org)
        .map_err(|_| WebError::Rule("errors.language_not_saved".to_owned()))?;
    let now = Utc::now();
    state
        .db(move |s| s.update_person(&permit, None, &patch, now))
        .await?;
    Ok(())
}

/// The person's fields as they are, with another language. Every field is
/// named (no `..Default`), so a new field of [`PersonPatch`] cannot be
/// wiped here unnoticed.
fn patch_with_language(p: &Person, language: &str) -> PersonPatch {
    PersonPatch {
        first_name: p.first_name.clone(),
        last_name: p.last_name.clone(),
        nickname: p.nickname.clone(),
        company_name: p.company_name.clone(),
        is_company: p.is_company,
        email: p.email.clone(),
        address: p.address.clone(),
        gender: p.gender.clone(),
        birthday: p.birthday,
        language: Some(language.to_owned()),
        additional_information: p.additional_information.clone(),
    }
}

/// Whether `path` is a path on this site and nothing a browser could read
/// as another host: one leading `/`, not followed by `/` or `\` (browsers
/// take `/\host` for `//host`), no control characters or spaces.
fn is_local_path(path: &str) -> bool {
    let mut chars = path.chars();
    chars.next() == Some('/')
        && !matches!(chars.next(), Some('/' | '\\'))
        && !path.chars().any(|c| c.is_control() || c.is_whitespace())
}

/// The page to go back to: the path of the `Referer` when it is one of our
/// own pages (same host), else the start page. Never another site, so the
/// form cannot be used to send people elsewhere.
fn back_to(req: &Request) -> String {
    let host = req.header(header::HOST);
    let referer = req
        .header(header::REFERER)
        .and_then(|r| r.parse::<Uri>().ok());
    match (host, referer) {
        (Some(host), Some(uri)) if uri.authority().is_some_and(|a| a.as_str() == host) => uri
            .path_and_query()
            .map(|p| p.as_str())
            .filter(|p| is_local_path(p))
            .filter(|p| !p.starts_with("/language"))
            .unwrap_or("/")
            .to_owned(),
        _ => "/".to_owned(),
    }
}
