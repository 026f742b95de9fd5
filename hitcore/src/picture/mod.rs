//! Person pictures: what the store keeps of one ([`PictureRef`]: where its
//! files are and their format), how their storage keys are made, and,
//! with the `storage` feature, the checks and thumbnails of an upload
//! ([`thumbnails`]) and writing them to and removing them from the storage
//! ([`save`], [`remove`]).
//!
//! An upload is never stored as sent. It is recognised by its content, not
//! by its name or the browser's content type; decoded only after its size
//! and its dimensions passed; and re-encoded at two fixed sizes, which
//! leaves every piece of metadata (EXIF with GPS positions, comments,
//! colour profiles) behind. The web tier serves the two files; deciding who
//! may see or change them is `crate::ability`'s job, not this module's.

use std::fmt;

use crate::id::PersonId;

#[cfg(feature = "storage")]
mod files;
#[cfg(feature = "storage")]
mod process;
#[cfg(all(test, feature = "storage"))]
mod tests;

#[cfg(feature = "storage")]
pub use files::{file_key, remove, save};
#[cfg(feature = "storage")]
pub use process::{MAX_BYTES, MAX_PIXELS, PictureError, Thumbnails, accepted_format, thumbnails};

/// The format the thumbnails of a picture are stored in.
///
/// Opaque pictures become JPEG, which keeps photos small; pictures with
/// transparency become PNG, which keeps it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PictureFormat {
    Jpeg,
    Png,
}

impl PictureFormat {
    /// The name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            PictureFormat::Jpeg => "jpeg",
            PictureFormat::Png => "png",
        }
    }

    /// The format stored as `name`; `None` for a name this build does not
    /// write.
    pub fn from_name(name: &str) -> Option<PictureFormat> {
        match name {
            "jpeg" => Some(PictureFormat::Jpeg),
            "png" => Some(PictureFormat::Png),
            _ => None,
        }
    }

    /// The `Content-Type` the files are served with.
    pub fn content_type(self) -> &'static str {
        match self {
            PictureFormat::Jpeg => "image/jpeg",
            PictureFormat::Png => "image/png",
        }
    }

    /// The file name extension of the stored files.
    pub fn extension(self) -> &'static str {
        match self {
            PictureFormat::Jpeg => "jpg",
            PictureFormat::Png => "png",
        }
    }
}

/// The two sizes every picture is stored in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PictureSize {
    /// [`THUMB_PIXELS`] square: the person page.
    Thumb,
    /// [`SMALL_PIXELS`] square: lists and links (hitobito's small size).
    Small,
}

/// The side of the [`PictureSize::Thumb`] square, in pixels.
pub const THUMB_PIXELS: u32 = 256;
/// The side of the [`PictureSize::Small`] square, in pixels.
pub const SMALL_PIXELS: u32 = 32;

impl PictureSize {
    /// The side of the square, in pixels.
    pub fn pixels(self) -> u32 {
        match self {
            PictureSize::Thumb => THUMB_PIXELS,
            PictureSize::Small => SMALL_PIXELS,
        }
    }

    /// The file name without its extension.
    fn stem(self) -> &'static str {
        match self {
            PictureSize::Thumb => "thumb",
            PictureSize::Small => "small",
        }
    }
}

/// Where a person's picture lives: a folder of the storage holding one
/// file per [`PictureSize`], and the format of those files.
///
/// The folder is `pictures/<person id>/<version>`. Each upload gets a new
/// version, so a new picture never overwrites the files of the one a
/// browser may still be loading, and the version in a picture's URL makes
/// caches fetch the new one.
#[derive(Clone, PartialEq, Eq)]
pub struct PictureRef {
    folder: String,
    format: PictureFormat,
}

impl PictureRef {
    /// The picture of `person` with this version, a short token of
    /// letters and digits that the caller makes unique (e.g. random).
    ///
    /// # Errors
    /// [`BadPictureKey`] for an empty version or one with other characters
    /// or more than 64 of them, which could not be part of a storage key.
    pub fn new(
        person: PersonId,
        version: &str,
        format: PictureFormat,
    ) -> Result<PictureRef, BadPictureKey> {
        let is_token = !version.is_empty()
            && version.len() <= 64
            && version.bytes().all(|b| b.is_ascii_alphanumeric());
        if !is_token {
            return Err(BadPictureKey);
        }
        Ok(PictureRef {
            folder: format!("pictures/{person}/{version}"),
            format,
        })
    }

    /// A picture as the store read it back: the folder as stored.
    ///
    /// # Errors
    /// [`BadPictureKey`] when the folder is not one [`PictureRef::new`]
    /// makes, which only a damaged row could hold.
    pub fn from_stored(folder: &str, format: PictureFormat) -> Result<PictureRef, BadPictureKey> {
        let mut parts = folder.split('/');
        let (Some("pictures"), Some(person), Some(version), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(BadPictureKey);
        };
        let person = person.parse::<i64>().map_err(|_| BadPictureKey)?;
        let picture = PictureRef::new(PersonId(person), version, format)?;
        if picture.folder != folder {
            return Err(BadPictureKey);
        }
        Ok(picture)
    }

    /// The picture a store row records: none when both columns are empty.
    ///
    /// # Errors
    /// [`BadPictureKey`] when only one column is set, or either holds
    /// what this build does not write.
    pub fn from_columns(
        folder: Option<&str>,
        format: Option<&str>,
    ) -> Result<Option<PictureRef>, BadPictureKey> {
        match (folder, format) {
            (None, None) => Ok(None),
            (Some(folder), Some(format)) => {
                let format = PictureFormat::from_name(format).ok_or(BadPictureKey)?;
                PictureRef::from_stored(folder, format).map(Some)
            }
            _ => Err(BadPictureKey),
        }
    }

    /// The folder, as the store keeps it.
    pub fn folder(&self) -> &str {
        &self.folder
    }

    /// The format of the files.
    pub fn format(&self) -> PictureFormat {
        self.format
    }

    /// The version: the last part of the folder, for cache busting.
    pub fn version(&self) -> &str {
        self.folder.rsplit('/').next().unwrap_or_default()
    }

    /// The storage key of the file of `size`, e.g.
    /// `pictures/7/k3x9/thumb.jpg`.
    pub fn file_key(&self, size: PictureSize) -> String {
        format!(
            "{}/{}.{}",
            self.folder,
            size.stem(),
            self.format.extension()
        )
    }
}

impl fmt::Debug for PictureRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PictureRef({} as {})", self.folder, self.format.as_str())
    }
}

/// A picture version that cannot be part of a storage key, or a stored
/// picture that is not one this build makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "not a picture folder of this build: pictures/<person id>/<version>, the version \
     1 to 64 ASCII letters and digits, with a format of jpeg or png"
)]
pub struct BadPictureKey;

#[cfg(test)]
mod key_tests {
    use super::*;

    #[test]
    fn file_keys_follow_the_folder_and_format() {
        let p = PictureRef::new(PersonId(7), "k3x9", PictureFormat::Jpeg).expect("valid");
        assert_eq!(p.folder(), "pictures/7/k3x9");
        assert_eq!(p.version(), "k3x9");
        assert_eq!(p.file_key(PictureSize::Thumb), "pictures/7/k3x9/thumb.jpg");
        let p = PictureRef::new(PersonId(7), "k3x9", PictureFormat::Png).expect("valid");
        assert_eq!(p.file_key(PictureSize::Small), "pictures/7/k3x9/small.png");
    }

    #[test]
    fn versions_that_could_escape_the_folder_are_refused() {
        for bad in ["", "..", "a/b", "a b", "ä", "x\0", &"a".repeat(65)] {
            assert_eq!(
                PictureRef::new(PersonId(1), bad, PictureFormat::Jpeg),
                Err(BadPictureKey),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn stored_folders_are_read_back_only_when_well_formed() {
        let p = PictureRef::new(PersonId(12), "abc", PictureFormat::Png).expect("valid");
        assert_eq!(
            PictureRef::from_stored(p.folder(), PictureFormat::Png),
            Ok(p)
        );
        for bad in [
            "pictures/12",
            "pictures/12/abc/def",
            "exports/12/abc",
            "pictures/x/abc",
            "pictures/012/abc",
            "pictures/12/../abc",
        ] {
            assert_eq!(
                PictureRef::from_stored(bad, PictureFormat::Png),
                Err(BadPictureKey),
                "{bad}"
            );
        }
    }

    #[test]
    fn store_columns_give_a_picture_only_when_both_are_right() {
        let p = PictureRef::new(PersonId(3), "v1", PictureFormat::Jpeg).expect("valid");
        assert_eq!(PictureRef::from_columns(None, None), Ok(None));
        assert_eq!(
            PictureRef::from_columns(Some("pictures/3/v1"), Some("jpeg")),
            Ok(Some(p))
        );
        for (folder, format) in [
            (Some("pictures/3/v1"), None),
            (None, Some("jpeg")),
            (Some("pictures/3/v1"), Some("tiff")),
            (Some("/etc"), Some("png")),
        ] {
            assert_eq!(
                PictureRef::from_columns(folder, format),
                Err(BadPictureKey),
                "{folder:?} {format:?}"
            );
        }
    }

    #[test]
    fn format_names_round_trip() {
        for f in [PictureFormat::Jpeg, PictureFormat::Png] {
            assert_eq!(PictureFormat::from_name(f.as_str()), Some(f));
        }
        assert_eq!(PictureFormat::from_name("gif"), None);
    }
}
