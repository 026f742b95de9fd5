//! Writing a picture's thumbnails to the storage and removing them.
//! Recording which picture a person has is the store's part
//! (`PersonRepo::set_person_picture`); the caller does both, files first.

use super::{PictureRef, PictureSize, Thumbnails};
use crate::id::PersonId;
use crate::storage::{Storage, StorageError, StorageKey};

/// Writes both thumbnails of `person` under a new folder for `version`
/// and returns the picture to record. Nothing under an older version is
/// touched, so the current picture stays whole until the new one is
/// recorded.
///
/// # Errors
/// [`StorageError::RefusedKey`] for a version [`PictureRef::new`] refuses;
/// otherwise what [`Storage::write`] returns (a thumbnail written before
/// the failure is left for [`remove`]).
pub fn save(
    storage: &Storage,
    person: PersonId,
    version: &str,
    thumbnails: &Thumbnails,
) -> Result<PictureRef, StorageError> {
    let picture = PictureRef::new(person, version, thumbnails.format).map_err(|_| {
        StorageError::RefusedKey {
            key: version.escape_debug().to_string(),
            reason: "a picture version is 1 to 64 ASCII letters and digits",
        }
    })?;
    for (size, bytes) in [
        (PictureSize::Thumb, &thumbnails.thumb),
        (PictureSize::Small, &thumbnails.small),
    ] {
        storage.write(&file_key(&picture, size)?, bytes.clone())?;
    }
    Ok(picture)
}

/// Deletes the files of `picture` (both sizes, and its folder); files that
/// are already gone are fine.
///
/// # Errors
/// What [`Storage::delete_folder`] returns.
pub fn remove(storage: &Storage, picture: &PictureRef) -> Result<(), StorageError> {
    storage.delete_folder(&StorageKey::new(picture.folder())?)
}

/// The storage key of one size of `picture`.
///
/// # Errors
/// None in practice: a [`PictureRef`] only holds folders that are keys.
pub fn file_key(picture: &PictureRef, size: PictureSize) -> Result<StorageKey, StorageError> {
    StorageKey::new(picture.file_key(size))
}
