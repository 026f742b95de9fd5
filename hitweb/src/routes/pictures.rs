//! A person's picture: served at `/people/:id/picture` to those who may see
//! the person, uploaded and removed under
//! `/groups/:group_id/people/:id/picture` by those who may edit them.
//!
//! hitcore checks and shrinks the upload (`hitcore::picture`) and the
//! storage keeps the files; this module reads the multipart body, asks the
//! ability module, and puts the pieces in order: files first, then the
//! row, then the old files away, so a failure never leaves a person
//! pointing at files that are not there.

use chrono::Utc;
use hitcore::ability::{self, Permit, PersonAction, PersonSubject, UpdatePerson};
use hitcore::person::Person;
use hitcore::picture::{self, PictureError, PictureRef, PictureSize};
use hitcore::role::Role;
use hitcore::storage::StorageError;
use hitcore::store::StoreError;
use hitcore::{GroupId, PersonId};
use poem::http::{StatusCode, header};
use poem::web::{CsrfVerifier, Data, Multipart, Path, Query};
use poem::{Request, Response, handler};
use serde::{Deserialize, Serialize};
use tokio::io::AsyncReadExt;

use super::{check, people, redirect, visible_group};
use crate::context::{self, RequestCtx, Viewer};
use crate::error::WebError;
use crate::middleware::{CSRF_FIELD, CSRF_HEADER};
use crate::state::AppState;

/// The multipart field of the file.
pub const FILE_FIELD: &str = "picture";

/// The largest upload request read, in bytes: the largest picture plus
/// 64 KiB for the token, the field headers and the boundaries.
pub const MAX_UPLOAD_BODY_BYTES: u64 = picture::MAX_BYTES as u64 + 64 * 1024;

/// The longest CSRF token field read, in bytes (real ones have about 100).
const MAX_TOKEN_BYTES: u64 = 1024;

/// What the person page and the edit form show of the picture
/// (`people/_picture.html`).
#[derive(Serialize)]
pub struct PictureView {
    dom_id: &'static str,
    /// The thumbnail, with its version so caches notice a new picture.
    url: Option<String>,
    name: String,
    can_change: bool,
    upload_url: String,
    remove_url: String,
    accept: &'static str,
    /// The message of a refused upload, translated.
    error: Option<String>,
}

impl PictureView {
    /// The picture of `person`, as `viewer` may handle it.
    pub fn new(
        ctx: &RequestCtx,
        group_id: GroupId,
        person: &Person,
        picture: Option<&PictureRef>,
        can_change: bool,
        error: Option<&PictureError>,
    ) -> PictureView {
        let base = format!("/groups/{group_id}/people/{}/picture", person.id);
        PictureView {
            dom_id: "person-picture",
            url: picture.map(|p| format!("/people/{}/picture?v={}", person.id, p.version())),
            name: person.display_name(),
            can_change,
            remove_url: format!("{base}/delete"),
            upload_url: base,
            accept: "image/jpeg,image/png,image/gif,image/webp",
            error: error.map(|e| ctx.t(e.message_key().unwrap_or("pictures.errors.broken"))),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct PictureQuery {
    /// `small` for the small size; anything else but blank is a 400.
    size: Option<String>,
}

/// A person with what the ability engine needs, and their picture.
struct PictureOwner {
    person: Person,
    roles: Vec<Role>,
    picture: Option<PictureRef>,
}

impl PictureOwner {
    /// Three store calls, in one trip to the blocking pool.
    async fn load(state: &AppState, id: PersonId) -> Result<PictureOwner, WebError> {
        state
            .db(move |s| {
                let person = s.person(id)?.ok_or(StoreError::NotFound)?;
                Ok(PictureOwner {
                    roles: s.roles_of_person(id)?,
                    picture: s.person_picture(id)?,
                    person,
                })
            })
            .await
    }

    fn subject<'a>(&'a self, state: &'a AppState, viewer: &'a Viewer) -> PersonSubject<'a> {
        PersonSubject::new(
            &self.person,
            context::is_root(state, &self.person),
            &self.roles,
            &viewer.tree,
            &state.org,
            Utc::now().date_naive(),
        )
    }
}

/// GET /people/:id/picture: the thumbnail (`?size=small`: the small one),
/// for exactly those who may see the person; 404 when there is none. The
/// answer is private to the browser and revalidated each time (its ETag
/// is the version), so a viewer who loses access stops getting it.
#[handler]
pub async fn show(
    ctx: &RequestCtx,
    state: Data<&AppState>,
    req: &Request,
    Path(id): Path<PersonId>,
    Query(q): Query<PictureQuery>,
) -> Result<Response, WebError> {
    let size = match q.size.as_deref() {
        None | Some("" | "thumb") => PictureSize::Thumb,
        Some("small") => PictureSize::Small,
        Some(_) => return Err(WebError::BadRequest),
    };
    let viewer = ctx.viewer()?;
    let owner = PictureOwner::load(&state, id).await?;
    check(ability::person(
        &viewer.actor,
        PersonAction::Show,
        &owner.subject(&state, viewer),
    ))?;

    let Some(picture) = owner.picture else {
        return Ok(private(StatusCode::NOT_FOUND).finish());
    };
    let etag = format!("\"{}-{}\"", picture.version(), size.pixels());
    if req.header(header::IF_NONE_MATCH) == Some(etag.as_str()) {
        return Ok(private(StatusCode::NOT_MODIFIED)
            .header(header::ETAG, etag)
            .finish());
    }
    let key = picture::file_key(&picture, size).map_err(storage_error)?;
    let storage = state.storage.clone();
    let read = tokio::task::spawn_blocking(move || storage.read(&key))
        .await
        .map_err(WebError::internal)?;
    match read {
        Ok(bytes) => Ok(private(StatusCode::OK)
            .header(header::CONTENT_TYPE, picture.format().content_type())
            .header(header::ETAG, etag)
            .body(bytes)),
        Err(StorageError::NotFound { .. }) => {
            tracing::warn!(person.id = %id, "The picture of person {id} is recorded but its file is missing");
            Ok(private(StatusCode::NOT_FOUND).finish())
        }
        Err(e) => Err(storage_error(e)),
    }
}

/// A response only the viewer's browser may keep, and must revalidate.
fn private(status: StatusCode) -> poem::ResponseBuilder {
    Response::builder()
        .status(status)
        .header(header::CACHE_CONTROL, "private, no-cache")
}

/// POST /groups/:group_id/people/:id/picture: replaces the picture with
/// an upload (multipart: `csrf_token` first, then `picture`). Redirects to
/// the person; a refused file shows the edit page with the message (422).
///
/// The route has no body limit of its own in `app.rs` and the CSRF
/// middleware reads url-encoded forms only, so both happen here, before
/// anything else: a declared length over [`MAX_UPLOAD_BODY_BYTES`] is a
/// 413, and the token must come (in the header, or as the first field)
/// before the file is read.
#[handler]
pub async fn upload(
    ctx: &RequestCtx,
    state: Data<&AppState>,
    req: &Request,
    Path((group_id, id)): Path<(GroupId, PersonId)>,
    mut form: Multipart,
) -> Result<Response, WebError> {
    refuse_oversized(req)?;
    check_csrf(req, &mut form).await?;
    let viewer = ctx.viewer()?;
    let g = visible_group(viewer, group_id)?;
    let owner = PictureOwner::load(&state, id).await?;
    let permit = ability::permit_update_person(&viewer.actor, &owner.subject(&state, viewer))?;

    let replaced = match read_file(&mut form).await? {
        Ok(bytes) => replace(&state, permit, id, bytes).await?,
        Err(refused) => Err(refused),
    };
    match replaced {
        Ok(()) => {
            context::set_flash(req.cookie(), &state, "notice", "pictures.flash_updated");
            Ok(redirect(ctx, &format!("/groups/{}/people/{id}", g.id)))
        }
        Err(refused) => people::picture_refused(ctx, &state, g, id, &refused).await,
    }
}

/// POST /groups/:group_id/people/:id/picture/delete: removes the picture
/// (redirect to the person).
#[handler]
pub async fn destroy(
    ctx: &RequestCtx,
    state: Data<&AppState>,
    req: &Request,
    Path((group_id, id)): Path<(GroupId, PersonId)>,
) -> Result<Response, WebError> {
    let viewer = ctx.viewer()?;
    let g = visible_group(viewer, group_id)?;
    let owner = PictureOwner::load(&state, id).await?;
    let permit = ability::permit_update_person(&viewer.actor, &owner.subject(&state, viewer))?;

    let old = state
        .db(move |s| s.set_person_picture(&permit, None, Utc::now()))
        .await?;
    if let Some(old) = old {
        remove_files(&state, old).await;
    }
    context::set_flash(req.cookie(), &state, "notice", "pictures.flash_removed");
    Ok(redirect(ctx, &format!("/groups/{}/people/{id}", g.id)))
}

/// A 413 for a body that says it is bigger than any upload we take.
fn refuse_oversized(req: &Request) -> Result<(), WebError> {
    match req
        .header(header::CONTENT_LENGTH)
        .map(|v| v.trim().parse::<u64>())
    {
        Some(Ok(length)) if length > MAX_UPLOAD_BODY_BYTES => Err(WebError::PayloadTooLarge),
        Some(Err(_)) => Err(WebError::BadRequest),
        _ => Ok(()),
    }
}

/// The CSRF check of the other forms, for a multipart body: the
/// `X-CSRF-Token` header (htmx), or else the first field, which must be
/// `csrf_token`; a file before the token is refused unread.
async fn check_csrf(req: &Request, form: &mut Multipart) -> Result<(), WebError> {
    let token = match req.header(CSRF_HEADER) {
        Some(t) => Some(t.to_owned()),
        None => match form.next_field().await.map_err(|_| WebError::BadRequest)? {
            Some(field) if field.name() == Some(CSRF_FIELD) => {
                let bytes = read_limited(field, MAX_TOKEN_BYTES).await?;
                bytes.and_then(|b| String::from_utf8(b).ok())
            }
            _ => None,
        },
    };
    let is_valid = match (token, req.data::<CsrfVerifier>()) {
        (Some(t), Some(verifier)) => verifier.is_valid(&t),
        _ => false,
    };
    if is_valid {
        Ok(())
    } else {
        tracing::warn!("Refused a picture upload without a valid CSRF token");
        Err(WebError::CsrfRefused)
    }
}

/// The bytes of the `picture` field (the next field after the token), or
/// why there is no usable file. Reads at most one byte past
/// [`picture::MAX_BYTES`], so an oversized file costs no more than that.
async fn read_file(form: &mut Multipart) -> Result<Result<Vec<u8>, PictureError>, WebError> {
    loop {
        let Some(field) = form.next_field().await.map_err(|_| WebError::BadRequest)? else {
            return Ok(Err(PictureError::Empty));
        };
        match field.name() {
            Some(FILE_FIELD) => {}
            // A token sent in the header may still be in the form too.
            Some(CSRF_FIELD) => continue,
            _ => return Err(WebError::BadRequest),
        }
        let limit = picture::MAX_BYTES as u64;
        return Ok(match read_limited(field, limit).await? {
            Some(bytes) => Ok(bytes),
            None => Err(PictureError::TooLarge {
                size_bytes: limit + 1,
            }),
        });
    }
}

/// A field's content, or `None` when it has more than `limit` bytes.
async fn read_limited(field: poem::web::Field, limit: u64) -> Result<Option<Vec<u8>>, WebError> {
    let mut bytes = Vec::new();
    field
        .into_async_read()
        .take(limit + 1)
        .read_to_end(&mut bytes)
        .await
        .map_err(|_| WebError::BadRequest)?;
    Ok((bytes.len() as u64 <= limit).then_some(bytes))
}

/// Makes the thumbnails, writes them under a new version, records them
/// and deletes the replaced picture's files; on the blocking pool, as it
/// decodes and waits on the storage and the store. A refused picture is
/// the inner error.
async fn replace(
    state: &AppState,
    permit: Permit<UpdatePerson>,
    id: PersonId,
    bytes: Vec<u8>,
) -> Result<Result<(), PictureError>, WebError> {
    let storage = state.storage.clone();
    let store = std::sync::Arc::clone(&state.store);
    let replaced = tokio::task::spawn_blocking(move || {
        let thumbnails = match picture::thumbnails(&bytes) {
            Ok(t) => t,
            Err(PictureError::Encode(e)) => return Err(WebError::internal(e)),
            Err(refused) => return Ok(Err(refused)),
        };
        let version = &hitcore::auth::new_token()[..16];
        let new = picture::save(&storage, id, version, &thumbnails).map_err(storage_error)?;
        let old = match store.set_person_picture(&permit, Some(&new), Utc::now()) {
            Ok(old) => old,
            Err(e) => {
                delete_quietly(&storage, &new);
                return Err(e.into());
            }
        };
        if let Some(old) = old {
            delete_quietly(&storage, &old);
        }
        Ok(Ok(()))
    });
    replaced.await.map_err(WebError::internal)?
}

/// Deletes the files of a picture nobody points at any more.
async fn remove_files(state: &AppState, picture: PictureRef) {
    let storage = state.storage.clone();
    let removed = tokio::task::spawn_blocking(move || delete_quietly(&storage, &picture)).await;
    if let Err(e) = removed {
        tracing::warn!(error = %e, "Removing picture files stopped");
    }
}

/// Deletes the files of `picture`; a failure only leaves files nobody
/// points at, so it is logged, not shown.
///
/// TODO: a recurring clean-up job could delete picture folders that no
/// person row names, to catch what this leaves behind; it needs a listing
/// of the storage, which [`hitcore::storage::Storage`] does not offer yet.
fn delete_quietly(storage: &hitcore::storage::Storage, picture: &PictureRef) {
    if let Err(e) = picture::remove(storage, picture) {
        tracing::warn!(
            storage.key = %picture.folder(),
            error = %e,
            "Could not delete the files of a replaced picture"
        );
    }
}

/// A storage failure as the web tier answers it: 404 for a missing file,
/// 503 while the storage cannot be reached, 500 otherwise.
fn storage_error(e: StorageError) -> WebError {
    match e {
        StorageError::NotFound { .. } => WebError::NotFound,
        StorageError::Unavailable(source) => WebError::Unavailable(source),
        other => WebError::internal(other),
    }
}
