//! The checks and thumbnails of an uploaded picture: bytes in, two
//! re-encoded squares out. Pure: no storage, no clock.

use std::io::Cursor;

use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};

use super::{PictureFormat, SMALL_PIXELS, THUMB_PIXELS};

/// The largest upload accepted, in bytes (10 MiB).
pub const MAX_BYTES: usize = 10 * 1024 * 1024;

/// The most pixels a picture may have (40 megapixels, more than phones
/// take). Checked from the file's header before anything is decoded, so a
/// small file that claims a huge size (a decompression bomb) costs nothing.
pub const MAX_PIXELS: u64 = 40_000_000;

/// The most memory one decode may take, in bytes: [`MAX_PIXELS`] at 8
/// bytes a pixel (16-bit RGBA, the widest of the accepted formats).
const MAX_DECODE_BYTES: u64 = MAX_PIXELS * 8;

/// The JPEG quality of the thumbnails (1 to 100).
const JPEG_QUALITY: u8 = 85;

/// Why an upload is not taken.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PictureError {
    /// No bytes at all (no file chosen).
    #[error("the file is empty")]
    Empty,
    /// More than [`MAX_BYTES`].
    #[error("the file has {size_bytes} bytes; at most {MAX_BYTES} are accepted")]
    TooLarge { size_bytes: u64 },
    /// Not a JPEG, PNG, GIF or WebP picture, judged by its content.
    #[error("the file is not a JPEG, PNG, GIF or WebP picture")]
    WrongType,
    /// More than [`MAX_PIXELS`], by the header.
    #[error("the picture has {width} × {height} pixels; at most {MAX_PIXELS} are accepted")]
    TooManyPixels { width: u32, height: u32 },
    /// The content starts like a picture but cannot be decoded.
    #[error("the picture cannot be read: {0}")]
    Broken(String),
    /// Encoding the thumbnails failed: a fault of ours, not of the file.
    #[error("the thumbnails could not be made")]
    Encode(#[source] image::ImageError),
}

impl PictureError {
    /// The translation key of the message shown to people; the web tier
    /// holds the texts. `None` for [`PictureError::Encode`], which is not
    /// the uploader's to fix.
    pub fn message_key(&self) -> Option<&'static str> {
        match self {
            PictureError::Empty => Some("pictures.errors.empty"),
            PictureError::TooLarge { .. } => Some("pictures.errors.too_large"),
            PictureError::WrongType => Some("pictures.errors.wrong_type"),
            PictureError::TooManyPixels { .. } => Some("pictures.errors.too_many_pixels"),
            PictureError::Broken(_) => Some("pictures.errors.broken"),
            PictureError::Encode(_) => None,
        }
    }
}

/// The two stored sizes of a picture, encoded, and their format.
#[derive(Clone, PartialEq, Eq)]
pub struct Thumbnails {
    pub format: PictureFormat,
    /// [`THUMB_PIXELS`] square.
    pub thumb: Vec<u8>,
    /// [`SMALL_PIXELS`] square.
    pub small: Vec<u8>,
}

impl std::fmt::Debug for Thumbnails {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Thumbnails")
            .field("format", &self.format)
            .field("thumb_bytes", &self.thumb.len())
            .field("small_bytes", &self.small.len())
            .finish()
    }
}

/// The format of an upload, by its first bytes, when it is one we take.
///
/// # Errors
/// [`PictureError::Empty`] for no bytes, [`PictureError::WrongType`] for
/// anything but JPEG, PNG, GIF and WebP (whatever the file is called).
pub fn accepted_format(bytes: &[u8]) -> Result<ImageFormat, PictureError> {
    if bytes.is_empty() {
        return Err(PictureError::Empty);
    }
    match image::guess_format(bytes) {
        Ok(f @ (ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::Gif | ImageFormat::WebP)) => {
            Ok(f)
        }
        _ => Err(PictureError::WrongType),
    }
}

/// Checks an upload and makes its thumbnails: the biggest centred square,
/// turned upright as its EXIF orientation says, scaled to
/// [`THUMB_PIXELS`] and [`SMALL_PIXELS`], and encoded afresh as JPEG (or
/// PNG when it has transparency). Nothing of the file but its pixels
/// survives: no EXIF (GPS positions), no comments, no colour profile. An
/// animation gives its first frame.
///
/// The checks come in order of cost: size, type by content, dimensions
/// from the header; only then is the picture decoded.
///
/// # Errors
/// [`PictureError`] saying which check failed.
pub fn thumbnails(bytes: &[u8]) -> Result<Thumbnails, PictureError> {
    if bytes.len() > MAX_BYTES {
        return Err(PictureError::TooLarge {
            size_bytes: bytes.len() as u64,
        });
    }
    let format = accepted_format(bytes)?;
    // The decoders are large parsers fed with whatever was uploaded; a
    // panic in one is a broken file to us, not a crashed request.
    let decoded = std::panic::catch_unwind(|| decode(bytes, format))
        .map_err(|_| PictureError::Broken("the decoder gave up".to_owned()))??;
    let square = centred_square(&decoded);
    let thumb = scaled(&square, THUMB_PIXELS);
    let small = scaled(&thumb, SMALL_PIXELS);
    let format = if decoded.color().has_alpha() {
        PictureFormat::Png
    } else {
        PictureFormat::Jpeg
    };
    Ok(Thumbnails {
        format,
        thumb: encode(&thumb, format)?,
        small: encode(&small, format)?,
    })
}

/// Decodes after the dimension check, upright.
fn decode(bytes: &[u8], format: ImageFormat) -> Result<DynamicImage, PictureError> {
    let broken = |e: image::ImageError| PictureError::Broken(e.to_string());
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = Limits::default();
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(broken)?;
    let (width, height) = decoder.dimensions();
    if u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(PictureError::TooManyPixels { width, height });
    }
    if width == 0 || height == 0 {
        return Err(PictureError::Broken("the picture has no pixels".to_owned()));
    }
    // A broken orientation tag is no reason to refuse the picture.
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut picture = DynamicImage::from_decoder(decoder).map_err(broken)?;
    picture.apply_orientation(orientation);
    Ok(picture)
}

/// The biggest square in the middle of `picture`.
fn centred_square(picture: &DynamicImage) -> DynamicImage {
    let (w, h) = (picture.width(), picture.height());
    let side = w.min(h);
    picture.crop_imm((w - side) / 2, (h - side) / 2, side, side)
}

/// `square` at `side` pixels: averaged down (fast, and sharp enough at
/// these sizes), or interpolated up for pictures smaller than that.
fn scaled(square: &DynamicImage, side: u32) -> DynamicImage {
    if square.width() >= side {
        square.thumbnail_exact(side, side)
    } else {
        square.resize_exact(side, side, image::imageops::FilterType::CatmullRom)
    }
}

/// Encodes with a fresh encoder, which writes pixels and the bare format
/// headers only.
fn encode(picture: &DynamicImage, format: PictureFormat) -> Result<Vec<u8>, PictureError> {
    let mut out = Vec::new();
    let written = match format {
        PictureFormat::Jpeg => DynamicImage::ImageRgb8(picture.to_rgb8())
            .write_with_encoder(JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY)),
        PictureFormat::Png => DynamicImage::ImageRgba8(picture.to_rgba8())
            .write_with_encoder(PngEncoder::new(&mut out)),
    };
    written.map_err(PictureError::Encode)?;
    Ok(out)
}
