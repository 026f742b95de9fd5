//! The upload checks and thumbnails, on pictures made here: every accepted
//! type, the refusals (type by content, size, decompression bombs, broken
//! files) and the metadata that must not survive.

use std::io::Cursor;

use image::{DynamicImage, ImageFormat, Rgb, RgbImage, Rgba, RgbaImage};

use super::*;

/// A `width` × `height` picture, left half red and right half blue.
fn halves(width: u32, height: u32) -> RgbImage {
    RgbImage::from_fn(width, height, |x, _| {
        if x < width / 2 {
            Rgb([220, 20, 20])
        } else {
            Rgb([20, 20, 220])
        }
    })
}

fn encoded(picture: &DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    picture.write_to(&mut out, format).expect("encoded");
    out.into_inner()
}

fn decoded(bytes: &[u8]) -> DynamicImage {
    image::load_from_memory(bytes).expect("the thumbnail decodes")
}

fn is_reddish(p: Rgb<u8>) -> bool {
    p.0[0] > 150 && p.0[2] < 100
}

fn is_blueish(p: Rgb<u8>) -> bool {
    p.0[2] > 150 && p.0[0] < 100
}

#[test]
fn every_accepted_type_gives_both_squares() {
    let opaque = DynamicImage::ImageRgb8(halves(300, 200));
    for format in [
        ImageFormat::Jpeg,
        ImageFormat::Png,
        ImageFormat::Gif,
        ImageFormat::WebP,
    ] {
        let t = thumbnails(&encoded(&opaque, format)).expect("accepted");
        let (thumb, small) = (decoded(&t.thumb), decoded(&t.small));
        assert_eq!((thumb.width(), thumb.height()), (256, 256), "{format:?}");
        assert_eq!((small.width(), small.height()), (32, 32), "{format:?}");
        assert_eq!(
            image::guess_format(&t.thumb).expect("known"),
            match t.format {
                PictureFormat::Jpeg => ImageFormat::Jpeg,
                PictureFormat::Png => ImageFormat::Png,
            }
        );
    }
}

#[test]
fn opaque_pictures_become_jpeg_and_transparent_ones_png() {
    let opaque = DynamicImage::ImageRgb8(halves(64, 64));
    let t = thumbnails(&encoded(&opaque, ImageFormat::Png)).expect("accepted");
    assert_eq!(t.format, PictureFormat::Jpeg);

    let clear = RgbaImage::from_fn(64, 64, |x, _| Rgba([0, 0, 0, if x < 32 { 0 } else { 255 }]));
    let t =
        thumbnails(&encoded(&DynamicImage::ImageRgba8(clear), ImageFormat::Png)).expect("accepted");
    assert_eq!(t.format, PictureFormat::Png);
    let thumb = decoded(&t.thumb).to_rgba8();
    assert_eq!(thumb.get_pixel(5, 128).0[3], 0, "transparency is kept");
}

#[test]
fn the_square_is_cut_from_the_middle() {
    // 300 × 100: the middle 100 × 100 is half red, half blue.
    let t = thumbnails(&encoded(
        &DynamicImage::ImageRgb8(halves(300, 100)),
        ImageFormat::Png,
    ))
    .expect("accepted");
    let thumb = decoded(&t.thumb).to_rgb8();
    assert!(is_reddish(*thumb.get_pixel(10, 128)));
    assert!(is_blueish(*thumb.get_pixel(245, 128)));
}

#[test]
fn small_pictures_are_scaled_up() {
    let t = thumbnails(&encoded(
        &DynamicImage::ImageRgb8(halves(10, 10)),
        ImageFormat::Png,
    ))
    .expect("accepted");
    assert_eq!(decoded(&t.thumb).width(), 256);
}

#[test]
fn the_type_is_judged_by_content() {
    assert!(matches!(thumbnails(b""), Err(PictureError::Empty)));
    for not_a_picture in [
        b"<svg xmlns=\"http://www.w3.org/2000/svg\"></svg>".as_slice(),
        b"%PDF-1.7 not a picture",
        b"plain text that claims to be photo.jpg",
    ] {
        assert!(
            matches!(thumbnails(not_a_picture), Err(PictureError::WrongType)),
            "{:?}",
            String::from_utf8_lossy(not_a_picture)
        );
    }
    // The starts of pictures of types we do not take: BMP, TIFF, ICO.
    for other_type in [
        b"BM\x3a\x00\x00\x00\x00\x00\x00\x00\x36\x00\x00\x00".as_slice(),
        b"II*\x00\x08\x00\x00\x00",
        b"\x00\x00\x01\x00\x01\x00\x10\x10",
    ] {
        assert!(matches!(
            thumbnails(other_type),
            Err(PictureError::WrongType)
        ));
    }
}

#[test]
fn files_over_the_limit_are_refused_before_anything_else() {
    let mut big = encoded(&DynamicImage::ImageRgb8(halves(8, 8)), ImageFormat::Png);
    big.resize(MAX_BYTES + 1, 0);
    match thumbnails(&big) {
        Err(PictureError::TooLarge { size_bytes }) => assert_eq!(size_bytes, MAX_BYTES as u64 + 1),
        other => panic!("{other:?}"),
    }
    let mut at_limit = encoded(&DynamicImage::ImageRgb8(halves(8, 8)), ImageFormat::Png);
    at_limit.resize(MAX_BYTES, 0);
    assert!(
        !matches!(thumbnails(&at_limit), Err(PictureError::TooLarge { .. })),
        "exactly the limit is not too large"
    );
}

/// A JPEG whose frame header claims `width` × `height`, with the pixels
/// of a tiny picture behind it.
fn jpeg_claiming(width: u16, height: u16) -> Vec<u8> {
    let mut bytes = encoded(&DynamicImage::ImageRgb8(halves(16, 16)), ImageFormat::Jpeg);
    let sof = bytes
        .windows(2)
        .position(|w| w == [0xFF, 0xC0])
        .expect("a baseline frame header");
    // Marker (2), length (2), precision (1), then height and width.
    bytes[sof + 5..sof + 7].copy_from_slice(&height.to_be_bytes());
    bytes[sof + 7..sof + 9].copy_from_slice(&width.to_be_bytes());
    bytes
}

/// CRC-32 as PNG chunks use it.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !crc
}

/// A PNG whose header chunk claims `width` × `height` (with a valid CRC),
/// with the data of a tiny picture behind it.
fn png_claiming(width: u32, height: u32) -> Vec<u8> {
    let mut bytes = encoded(&DynamicImage::ImageRgb8(halves(16, 16)), ImageFormat::Png);
    // Signature (8), length (4), "IHDR" (4), then width and height.
    bytes[16..20].copy_from_slice(&width.to_be_bytes());
    bytes[20..24].copy_from_slice(&height.to_be_bytes());
    let crc = crc32(&bytes[12..29]);
    bytes[29..33].copy_from_slice(&crc.to_be_bytes());
    bytes
}

#[test]
fn decompression_bombs_are_refused_by_their_header() {
    for (bytes, claimed) in [
        (jpeg_claiming(60_000, 60_000), (60_000, 60_000)),
        (png_claiming(100_000, 100_000), (100_000, 100_000)),
        (png_claiming(40_001, 1_000), (40_001, 1_000)),
    ] {
        assert!(bytes.len() < 4096, "the bomb itself is small");
        match thumbnails(&bytes) {
            Err(PictureError::TooManyPixels { width, height }) => {
                assert_eq!((width, height), claimed);
            }
            other => panic!("{claimed:?}: {other:?}"),
        }
    }
}

#[test]
fn broken_files_are_refused_with_a_reason() {
    let png = encoded(&DynamicImage::ImageRgb8(halves(64, 64)), ImageFormat::Png);
    let jpeg = encoded(&DynamicImage::ImageRgb8(halves(64, 64)), ImageFormat::Jpeg);
    let mut garbage_jpeg = vec![0xFF, 0xD8, 0xFF, 0xE0];
    garbage_jpeg.extend(std::iter::repeat_n(0x5A, 500));
    for broken in [
        png[..png.len() / 2].to_vec(),
        jpeg[..40].to_vec(),
        garbage_jpeg,
        b"GIF89a".to_vec(),
        b"RIFF\x10\x00\x00\x00WEBPVP8 ".to_vec(),
    ] {
        match thumbnails(&broken) {
            Err(e @ PictureError::Broken(_)) => {
                assert_eq!(e.message_key(), Some("pictures.errors.broken"));
            }
            other => panic!("{:?}: {other:?}", &broken[..8.min(broken.len())]),
        }
    }
}

/// An EXIF block (big-endian TIFF) with an orientation tag and a GPS
/// block holding `marker` as its processing method.
fn exif_with_gps(orientation: u16, marker: &[u8]) -> Vec<u8> {
    let mut tiff = b"MM\x00\x2a\x00\x00\x00\x08".to_vec();
    // IFD0 at 8: orientation, and the GPS block at 38.
    tiff.extend(2u16.to_be_bytes());
    tiff.extend([0x01, 0x12, 0x00, 0x03, 0, 0, 0, 1]);
    tiff.extend(orientation.to_be_bytes());
    tiff.extend([0, 0]);
    tiff.extend([0x88, 0x25, 0x00, 0x04, 0, 0, 0, 1, 0, 0, 0, 38]);
    tiff.extend([0, 0, 0, 0]);
    // The GPS block at 38: latitude reference, processing method at 68.
    tiff.extend(2u16.to_be_bytes());
    tiff.extend([0x00, 0x01, 0x00, 0x02, 0, 0, 0, 2, b'N', 0, 0, 0]);
    tiff.extend([0x00, 0x1B, 0x00, 0x07]);
    tiff.extend(u32::try_from(marker.len()).expect("short").to_be_bytes());
    tiff.extend([0, 0, 0, 68]);
    tiff.extend([0, 0, 0, 0]);
    assert_eq!(tiff.len(), 68);
    tiff.extend(marker);
    let mut app1 = vec![0xFF, 0xE1];
    let length = u16::try_from(2 + 6 + tiff.len()).expect("short");
    app1.extend(length.to_be_bytes());
    app1.extend(b"Exif\x00\x00");
    app1.extend(tiff);
    app1
}

/// `jpeg` with `segment` inserted right after its start marker.
fn with_segment(jpeg: &[u8], segment: &[u8]) -> Vec<u8> {
    let mut out = jpeg[..2].to_vec();
    out.extend(segment);
    out.extend(&jpeg[2..]);
    out
}

#[test]
fn exif_and_gps_data_do_not_survive() {
    let marker = b"HIT-GPS-SECRET-47.3769N-8.5417E";
    let jpeg = encoded(&DynamicImage::ImageRgb8(halves(80, 80)), ImageFormat::Jpeg);
    let upload = with_segment(&jpeg, &exif_with_gps(1, marker));
    assert!(upload.windows(marker.len()).any(|w| w == marker));
    let mut decoder = image::codecs::jpeg::JpegDecoder::new(Cursor::new(&upload)).expect("jpeg");
    assert!(
        image::ImageDecoder::exif_metadata(&mut decoder)
            .expect("readable")
            .is_some(),
        "the upload really carries EXIF"
    );

    let t = thumbnails(&upload).expect("accepted");
    for out in [&t.thumb, &t.small] {
        assert!(!out.windows(marker.len()).any(|w| w == marker), "GPS left");
        assert!(!out.windows(4).any(|w| w == b"Exif"), "EXIF left");
        let mut decoder = image::codecs::jpeg::JpegDecoder::new(Cursor::new(out)).expect("jpeg");
        assert_eq!(
            image::ImageDecoder::exif_metadata(&mut decoder).expect("readable"),
            None
        );
    }
}

#[test]
fn the_exif_orientation_is_applied_before_it_is_dropped() {
    // Stored 80 × 40, left half red; tag 6 says "turn 90° clockwise to
    // view", so upright the top is red and the bottom blue. Unturned,
    // the centred square would be red left and blue right.
    let jpeg = encoded(&DynamicImage::ImageRgb8(halves(80, 40)), ImageFormat::Jpeg);
    let upload = with_segment(&jpeg, &exif_with_gps(6, b"x"));
    let thumb = decoded(&thumbnails(&upload).expect("accepted").thumb).to_rgb8();
    assert!(
        is_reddish(*thumb.get_pixel(10, 10)),
        "{:?}",
        thumb.get_pixel(10, 10)
    );
    assert!(
        is_blueish(*thumb.get_pixel(10, 245)),
        "{:?}",
        thumb.get_pixel(10, 245)
    );
}

#[test]
fn png_text_chunks_do_not_survive() {
    let png = encoded(
        &DynamicImage::ImageRgba8(RgbaImage::new(20, 20)),
        ImageFormat::Png,
    );
    // A tEXt chunk after the header chunk (which ends at 33).
    let data = b"Comment\x00shot at Home Street 1";
    let mut chunk = u32::try_from(data.len())
        .expect("short")
        .to_be_bytes()
        .to_vec();
    chunk.extend(b"tEXt");
    chunk.extend(data);
    chunk.extend(crc32(&chunk[4..]).to_be_bytes());
    let upload = [&png[..33], &chunk, &png[33..]].concat();
    let t = thumbnails(&upload).expect("accepted");
    assert!(!t.thumb.windows(11).any(|w| w == b"Home Street"));
}

#[test]
fn error_messages_have_keys_except_our_own_faults() {
    for e in [
        PictureError::Empty,
        PictureError::TooLarge { size_bytes: 1 },
        PictureError::WrongType,
        PictureError::TooManyPixels {
            width: 1,
            height: 1,
        },
        PictureError::Broken(String::new()),
    ] {
        assert!(
            e.message_key()
                .is_some_and(|k| k.starts_with("pictures.errors."))
        );
    }
}
