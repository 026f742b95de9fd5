//! Assets, unknown routes, translations.

use poem::http::StatusCode;

use crate::support::TestApp;

#[tokio::test]
async fn assets_are_served_with_long_cache_headers() {
    let app = TestApp::new();
    for (path, mime) in [
        ("/assets/app.css", "text/css"),
        ("/assets/htmx.min.js", "text/javascript"),
    ] {
        let resp = app.cli.get(path).send().await;
        resp.assert_status_is_ok();
        let headers = resp.0.headers();
        let cache = headers
            .get("cache-control")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        assert!(cache.contains("immutable"), "{path}");
        let ct = headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        assert!(ct.starts_with(mime), "{path}: {ct}");
    }
    app.cli
        .get("/assets/nothing.css")
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn unknown_routes_are_a_404_page() {
    let app = TestApp::new();
    let mut alex = app.signed_in("alpha@demo.example").await;
    let page = alex.get("/no/such/page").await;
    page.assert_status(StatusCode::NOT_FOUND);
    assert!(page.is_full_page());
}

#[tokio::test]
async fn every_text_in_the_templates_has_an_english_and_a_german_translation() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../templates");
    let mut keys = Vec::new();
    collect_keys(&dir, &mut keys);
    assert!(keys.len() > 50, "found only {} keys", keys.len());
    for key in keys {
        for lang in hitweb::i18n::LANGUAGES {
            assert!(hitweb::i18n::has(lang, &key), "{lang} lacks {key}");
        }
    }
}

fn collect_keys(dir: &std::path::Path, keys: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).expect("templates dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            collect_keys(&path, keys);
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("template");
        for quote in ["t(\"", "t('"] {
            for part in text.split(quote).skip(1) {
                let key: String = part
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '.' || *c == '_')
                    .collect();
                let closes = part[key.len()..].starts_with(['"', '\'']);
                if closes && key.contains('.') && !key.ends_with('.') {
                    keys.push(key);
                }
            }
        }
    }
}
