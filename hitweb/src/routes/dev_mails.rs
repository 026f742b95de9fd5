//! `/dev/mails`: the messages the folder transport wrote (`MAIL_FOLDER`),
//! for development without a mail server. The page exists only while the
//! folder transport is configured (404 otherwise) and only for the root
//! user (`hitcore::ability::dev_mails`): the mails hold other people's
//! password-reset links.

use std::path::PathBuf;

use hitcore::ability;
use hitjobs::mail::{StoredMail, list_folder_mails, read_folder_mail};
use poem::web::{Data, Path};
use poem::{Response, handler};
use serde::Serialize;

use super::check;
use crate::context::RequestCtx;
use crate::error::WebError;
use crate::state::AppState;

/// The newest messages listed.
const LIST_LIMIT: usize = 200;

#[derive(Serialize)]
struct DevMailsView {
    folder: String,
    mails: Vec<StoredMail>,
}

#[derive(Serialize)]
struct DevMailView {
    id: String,
    /// The raw message as text; the template escapes it.
    raw: String,
}

/// The folder to show, after the checks: the folder transport is on and the
/// viewer may read it.
fn folder(ctx: &RequestCtx, state: &AppState) -> Result<PathBuf, WebError> {
    let folder = state
        .config
        .mail
        .mail_folder()
        .ok_or(WebError::NotFound)?
        .to_path_buf();
    check(ability::dev_mails(&ctx.viewer()?.actor))?;
    Ok(folder)
}

/// GET /dev/mails: the newest messages of the mail folder; a page, or its
/// table alone (`dev_mails/_table.html`) for HTMX.
#[handler]
pub async fn index(ctx: &RequestCtx, state: Data<&AppState>) -> Result<Response, WebError> {
    let dir = folder(ctx, &state)?;

    let listing = {
        let dir = dir.clone();
        tokio::task::spawn_blocking(move || list_folder_mails(&dir))
    };
    let mut mails = listing
        .await
        .map_err(|e| WebError::Internal(Box::new(e)))?
        .map_err(|e| WebError::Internal(e.into()))?;
    mails.truncate(LIST_LIMIT);

    let view = DevMailsView {
        folder: dir.display().to_string(),
        mails,
    };
    ctx.render(
        &state,
        "dev_mails/index.html",
        "dev_mails/_table.html",
        &view,
    )
}

/// GET /dev/mails/:id: one message as raw text; a page, or the message
/// alone (`dev_mails/_raw.html`) for HTMX.
#[handler]
pub async fn show(
    ctx: &RequestCtx,
    state: Data<&AppState>,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let dir = folder(ctx, &state)?;

    let reading = {
        let id = id.clone();
        tokio::task::spawn_blocking(move || read_folder_mail(&dir, &id))
    };
    let raw = reading
        .await
        .map_err(|e| WebError::Internal(Box::new(e)))?
        .map_err(|e| WebError::Internal(e.into()))?
        .ok_or(WebError::NotFound)?;

    let view = DevMailView {
        id,
        raw: String::from_utf8_lossy(&raw).into_owned(),
    };
    ctx.render(&state, "dev_mails/show.html", "dev_mails/_raw.html", &view)
}
