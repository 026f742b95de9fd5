//! Static assets (our CSS, htmx) served from the binary under `/assets/`.
//!
//! Pages link them with `?v=<version>`, a hash of all asset contents, so a
//! new build changes every URL and the files can be cached as immutable.

use std::sync::OnceLock;

use poem::http::{StatusCode, header};
use poem::web::Path;
use poem::{IntoResponse, Response, handler};
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "../embed"]
struct AssetFiles;

/// A short hash of every asset, computed once.
pub fn version() -> &'static str {
    static VERSION: OnceLock<String> = OnceLock::new();
    VERSION.get_or_init(|| {
        let mut names: Vec<String> = AssetFiles::iter().map(|n| n.into_owned()).collect();
        names.sort();
        let mut all = String::new();
        for name in names {
            if let Some(f) = AssetFiles::get(&name) {
                all.push_str(&name);
                all.push_str(&hitcore::auth::token_hash(&String::from_utf8_lossy(
                    &f.data,
                )));
            }
        }
        hitcore::auth::token_hash(&all)[..12].to_owned()
    })
}

/// GET /assets/*path: one embedded file with long cache headers.
#[handler]
pub fn show(Path(path): Path<String>) -> Response {
    let Some(file) = AssetFiles::get(&path) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let mime = match path.rsplit('.').next() {
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        _ => "application/octet-stream",
    };
    Response::builder()
        .header(header::CONTENT_TYPE, mime)
        .header(header::CACHE_CONTROL, "public, max-age=31536000, immutable")
        .body(file.data.into_owned())
}
