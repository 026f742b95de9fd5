//! The storage against its real backends: a temporary folder and memory
//! always, and an S3 bucket when `HIT_TEST_S3_URL` names one, e.g.
//! `s3://hit-ci/test?endpoint=http://127.0.0.1:5000&region=us-east-1`
//! with `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY` set. The bucket
//! must exist (`.ci/run` starts moto and creates it); every test works
//! below a prefix of its own inside the URL's prefix, so runs and tests
//! never see each other's files.
#![cfg(feature = "storage")]

use std::io::{Read, Write};

use hitcore::PersonId;
use hitcore::picture::{self, PictureSize};
use hitcore::storage::{
    CHUNK_BYTES, S3Credentials, Storage, StorageError, StorageKey, StorageLocation,
};

/// One backend under test, and what keeps its folder alive.
struct Backend {
    name: &'static str,
    storage: Storage,
    _dir: Option<tempfile::TempDir>,
}

/// Every backend, each fresh: files written by one test are not seen by
/// another. `test` names the S3 prefix.
fn backends(test: &str) -> Vec<Backend> {
    let dir = tempfile::tempdir().expect("temp dir");
    let folder = Storage::open(&StorageLocation::Folder(dir.path().join("storage")))
        .expect("folder storage");
    let mut all = vec![
        Backend {
            name: "folder",
            storage: folder,
            _dir: Some(dir),
        },
        Backend {
            name: "memory",
            storage: Storage::open(&StorageLocation::Memory).expect("memory storage"),
            _dir: None,
        },
    ];
    all.extend(s3(test));
    all
}

/// The bucket of `HIT_TEST_S3_URL`, below `<its prefix>/<test>-<random>`.
fn s3(test: &str) -> Option<Backend> {
    let Some(url) = std::env::var("HIT_TEST_S3_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
    else {
        note_once("HIT_TEST_S3_URL is not set: the S3 backend is skipped");
        return None;
    };
    let credentials = S3Credentials::from_values(
        std::env::var("AWS_ACCESS_KEY_ID").ok().as_deref(),
        std::env::var("AWS_SECRET_ACCESS_KEY").ok().as_deref(),
    )
    .expect("credentials");
    let Ok(StorageLocation::S3(mut s3)) = StorageLocation::parse(&url, credentials) else {
        panic!("HIT_TEST_S3_URL is not an s3:// URL");
    };
    let own = format!("{test}-{}", &hitcore::auth::new_token()[..12]);
    s3.prefix = if s3.prefix.is_empty() {
        own
    } else {
        format!("{}/{own}", s3.prefix)
    };
    Some(Backend {
        name: "s3",
        storage: Storage::open(&StorageLocation::S3(s3)).expect("S3 storage"),
        _dir: None,
    })
}

fn note_once(note: &str) {
    static NOTED: std::sync::Once = std::sync::Once::new();
    NOTED.call_once(|| {
        let _ = writeln!(std::io::stderr(), "note: {note}");
    });
}

fn key(k: &str) -> StorageKey {
    StorageKey::new(k).expect("a valid key")
}

#[test]
fn a_written_file_reads_back_and_can_be_replaced() {
    for b in backends("roundtrip") {
        let s = &b.storage;
        let k = key("exports/1/people.csv");
        s.write(&k, b"first;line\n".to_vec()).expect(b.name);
        assert_eq!(s.read(&k).expect(b.name), b"first;line\n", "{}", b.name);
        assert_eq!(s.size(&k).expect(b.name), Some(11), "{}", b.name);
        assert!(s.exists(&k).expect(b.name), "{}", b.name);

        s.write(&k, b"second".to_vec()).expect(b.name);
        assert_eq!(s.read(&k).expect(b.name), b"second", "{}", b.name);
    }
}

#[test]
fn a_missing_file_is_not_found_and_deleting_it_is_fine() {
    for b in backends("missing") {
        let s = &b.storage;
        let k = key("exports/404/none.csv");
        assert!(
            matches!(s.read(&k), Err(StorageError::NotFound { key }) if key == k.as_str()),
            "{}",
            b.name
        );
        assert!(
            matches!(s.reader(&k), Err(StorageError::NotFound { .. })),
            "{}",
            b.name
        );
        assert_eq!(s.size(&k).expect(b.name), None, "{}", b.name);
        assert!(!s.exists(&k).expect(b.name), "{}", b.name);
        s.delete(&k).expect(b.name);
        s.delete_folder(&key("exports/404")).expect(b.name);
    }
}

#[test]
fn a_deleted_file_is_gone() {
    for b in backends("delete") {
        let s = &b.storage;
        let k = key("exports/2/people.csv");
        s.write(&k, b"x".to_vec()).expect(b.name);
        s.delete(&k).expect(b.name);
        assert!(!s.exists(&k).expect(b.name), "{}", b.name);
    }
}

/// The rows of a large export: `rows` lines of about 100 bytes each.
fn export_rows(rows: usize) -> impl Iterator<Item = String> {
    (0..rows)
        .map(|i| format!("{i};Müller;Anna;Bahnhofstrasse {i};8001;Zürich;anna.{i}@example.org;\n"))
}

#[test]
fn a_big_file_streams_in_and_out_in_chunks() {
    // Some 2.5 chunks: three S3 multipart parts, the last one short.
    let rows = (CHUNK_BYTES * 5 / 2) / 80;
    for b in backends("stream") {
        let s = &b.storage;
        let k = key("exports/3/people.csv");
        let mut expected = Vec::new();
        let mut w = s.writer(&k).expect(b.name);
        for row in export_rows(rows) {
            w.write_all(row.as_bytes()).expect(b.name);
            expected.extend_from_slice(row.as_bytes());
        }
        assert_eq!(w.bytes_written(), expected.len() as u64);
        let size = w.finish().expect(b.name);
        assert_eq!(size, expected.len() as u64, "{}", b.name);
        assert!(size > 2 * CHUNK_BYTES as u64, "{}", b.name);

        let mut r = s.reader(&k).expect(b.name);
        assert_eq!(r.size(), size, "{}", b.name);
        let mut back = Vec::new();
        r.read_to_end(&mut back).expect(b.name);
        assert!(back == expected, "{}: the file read back differs", b.name);

        let mut r = s.reader(&k).expect(b.name);
        let mut chunks = Vec::new();
        while let Some(chunk) = r.next_chunk().expect(b.name) {
            chunks.push(chunk.len());
        }
        assert_eq!(chunks.len(), 3, "{}: {chunks:?}", b.name);
        assert!(chunks.iter().all(|&c| c <= CHUNK_BYTES), "{}", b.name);
    }
}

#[test]
fn an_unfinished_file_never_appears() {
    for b in backends("unfinished") {
        let s = &b.storage;
        let k = key("exports/4/people.csv");
        let mut w = s.writer(&k).expect(b.name);
        // More than a chunk, so part of it has been sent already.
        for row in export_rows(CHUNK_BYTES / 60) {
            w.write_all(row.as_bytes()).expect(b.name);
        }
        drop(w);
        assert!(!s.exists(&k).expect(b.name), "{}", b.name);
    }
}

#[test]
fn an_empty_file_can_be_written() {
    for b in backends("empty") {
        let s = &b.storage;
        let k = key("exports/5/empty.csv");
        assert_eq!(s.writer(&k).expect(b.name).finish().expect(b.name), 0);
        assert_eq!(s.size(&k).expect(b.name), Some(0), "{}", b.name);
        assert_eq!(s.read(&k).expect(b.name), b"", "{}", b.name);
    }
}

#[test]
fn deleting_a_folder_leaves_its_neighbours() {
    for b in backends("folders") {
        let s = &b.storage;
        for k in [
            "exports/1/a.csv",
            "exports/1/b/c.csv",
            "exports/10/a.csv",
            "exports/1.csv",
        ] {
            s.write(&key(k), k.as_bytes().to_vec()).expect(b.name);
        }
        s.delete_folder(&key("exports/1")).expect(b.name);
        for (k, is_kept) in [
            ("exports/1/a.csv", false),
            ("exports/1/b/c.csv", false),
            ("exports/10/a.csv", true),
            ("exports/1.csv", true),
        ] {
            assert_eq!(s.exists(&key(k)).expect(b.name), is_kept, "{}: {k}", b.name);
        }
    }
}

#[test]
fn folder_files_are_plain_files_below_the_folder() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path().join("deep").join("storage");
    let s = Storage::open(&StorageLocation::Folder(root.clone())).expect("created");
    s.write(&key("pictures/7/v1/thumb.jpg"), b"jpeg".to_vec())
        .expect("written");
    let on_disk = std::fs::read(root.join("pictures/7/v1/thumb.jpg")).expect("on disk");
    assert_eq!(on_disk, b"jpeg");
}

#[test]
fn a_picture_is_saved_in_both_sizes_and_removed_whole() {
    let png = {
        let mut out = std::io::Cursor::new(Vec::new());
        image::DynamicImage::new_rgb8(300, 200)
            .write_to(&mut out, image::ImageFormat::Png)
            .expect("encoded");
        out.into_inner()
    };
    let thumbnails = picture::thumbnails(&png).expect("accepted");
    for b in backends("pictures") {
        let s = &b.storage;
        let old = picture::save(s, PersonId(7), "old1", &thumbnails).expect(b.name);
        let new = picture::save(s, PersonId(7), "new2", &thumbnails).expect(b.name);
        for size in [PictureSize::Thumb, PictureSize::Small] {
            let k = picture::file_key(&new, size).expect("a key");
            assert!(s.exists(&k).expect(b.name), "{}: {k}", b.name);
        }
        assert_eq!(
            s.read(&picture::file_key(&new, PictureSize::Small).expect("a key"))
                .expect(b.name),
            thumbnails.small
        );
        picture::remove(s, &old).expect(b.name);
        for size in [PictureSize::Thumb, PictureSize::Small] {
            let gone = picture::file_key(&old, size).expect("a key");
            let kept = picture::file_key(&new, size).expect("a key");
            assert!(!s.exists(&gone).expect(b.name), "{}: {gone}", b.name);
            assert!(s.exists(&kept).expect(b.name), "{}: {kept}", b.name);
        }
        assert!(
            matches!(
                picture::save(s, PersonId(7), "../x", &thumbnails),
                Err(StorageError::RefusedKey { .. })
            ),
            "{}",
            b.name
        );
    }
}

#[test]
fn an_unreachable_bucket_is_unavailable_not_missing() {
    // A port nobody listens on: the connection is refused at once.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let url = format!("s3://nowhere/x?endpoint=http://127.0.0.1:{port}&region=us-east-1");
    let credentials = S3Credentials::from_values(Some("test"), Some("test")).expect("pair");
    let location = StorageLocation::parse(&url, credentials).expect("valid");
    let s = Storage::open(&location).expect("opening does not connect");
    let k = key("exports/1/people.csv");
    for outcome in [
        s.read(&k).map(|_| ()),
        s.write(&k, b"x".to_vec()),
        s.size(&k).map(|_| ()),
    ] {
        assert!(
            matches!(outcome, Err(StorageError::Unavailable(_))),
            "{outcome:?}"
        );
    }
}

#[test]
fn calls_from_inside_async_code_work_and_dropping_there_is_safe() {
    // The web server holds the storage in its async state, and tests drop
    // it on their runtime: neither may panic.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let s = Storage::open(&StorageLocation::Memory).expect("memory storage");
        let k = key("a/b.txt");
        s.write(&k, b"hello".to_vec()).expect("written");
        assert_eq!(s.read(&k).expect("read"), b"hello");
        let w = s.writer(&key("a/c.txt")).expect("writer");
        drop(w);
        drop(s);
    });
}

#[test]
fn storage_debug_output_shows_no_credentials() {
    let credentials =
        S3Credentials::from_values(Some("AKIDVISIBLE"), Some("very-secret")).expect("pair");
    let location =
        StorageLocation::parse("s3://bucket/p?region=us-east-1", credentials).expect("valid");
    let s = Storage::open(&location).expect("opened");
    for shown in [
        format!("{s:?}"),
        format!("{location:?}"),
        location.to_string(),
    ] {
        assert!(
            !shown.contains("very-secret") && !shown.contains("AKIDVISIBLE"),
            "{shown}"
        );
    }
}

#[test]
fn a_probe_writes_and_deletes_a_file_and_leaves_nothing_behind() {
    for b in backends("probe") {
        b.storage.probe().expect(b.name);
        b.storage.probe().expect(b.name);
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path().join("storage");
    let s = Storage::open(&StorageLocation::Folder(root.clone())).expect("created");
    s.probe().expect("a writable folder");
    let left: Vec<_> = std::fs::read_dir(root.join("health"))
        .map(|entries| entries.filter_map(Result::ok).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "probe files left: {left:?}");
}

#[test]
fn a_probe_of_a_folder_that_cannot_take_files_fails() {
    // A plain file where the storage folder should be: no write can
    // succeed there, even for root, who ignores permission bits.
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path().join("storage");
    let s = Storage::open(&StorageLocation::Folder(root.clone())).expect("created");
    std::fs::remove_dir_all(&root).expect("folder removed");
    std::fs::write(&root, b"not a folder").expect("file in its place");
    let e = s.probe().expect_err("refused");
    assert!(
        matches!(e, StorageError::Backend(_) | StorageError::Unavailable(_)),
        "{e:?}"
    );
}

#[test]
fn a_probe_of_an_unreachable_bucket_is_unavailable() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let url = format!("s3://nowhere/x?endpoint=http://127.0.0.1:{port}&region=us-east-1");
    let credentials = S3Credentials::from_values(Some("test"), Some("test")).expect("pair");
    let location = StorageLocation::parse(&url, credentials).expect("valid");
    let s = Storage::open(&location).expect("opening does not connect");
    assert!(
        matches!(s.probe(), Err(StorageError::Unavailable(_))),
        "refused connections are unavailable"
    );
}
