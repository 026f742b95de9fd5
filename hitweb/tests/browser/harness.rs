//! The harness: the `hitweb` binary on a fresh SQLite file, a chromedriver
//! on a free port, one Chromium session, and the explicit waits the flows
//! use. Dropping a [`Session`] (also while a test panics) deletes the
//! browser session, then stops chromedriver and the server.

use std::fs::File;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use fantoccini::actions::{
    InputSource, KeyAction, KeyActions, MOUSE_BUTTON_LEFT, MouseActions, PointerAction,
};
use fantoccini::elements::Element;
use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

/// The administrator's password on the server under test.
pub const ADMIN_PASSWORD: &str = "admin-password-for-browsers";
/// The password of every demo person on the server under test.
pub const DEMO_PASSWORD: &str = "demo-password-for-browsers";

/// How long any wait polls before the test fails: for an HTMX swap, a
/// page load, a job, a download.
pub const DEADLINE: Duration = Duration::from_secs(10);
/// The first start creates and seeds the database, which takes longer on
/// a busy machine.
const START_DEADLINE: Duration = Duration::from_secs(60);
/// How often a wait looks again.
const POLL: Duration = Duration::from_millis(100);

/// One browser test at a time: two Chromiums at once would compete for the
/// cores and make every wait longer. An async lock, because each test
/// holds it across its awaits (on a runtime of its own); tokio's `sync`
/// comes with fantoccini.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The two programs from Debian's packages.
struct Tools {
    chromedriver: PathBuf,
    chromium: PathBuf,
}

/// The programs the environment names; `None` (the test is skipped) when a
/// variable is unset, a panic when it is unset under `CI=true`.
fn tools() -> Option<Tools> {
    let is_ci = std::env::var("CI").is_ok_and(|v| v == "true");
    let var = |name: &str| -> Option<PathBuf> {
        match std::env::var_os(name).filter(|v| !v.is_empty()) {
            Some(v) => Some(PathBuf::from(v)),
            None if is_ci => panic!("{name} is not set, and CI=true needs the browser tests"),
            None => {
                println!("skipped: {name} is not set");
                None
            }
        }
    };
    Some(Tools {
        chromedriver: var("HIT_TEST_CHROMEDRIVER")?,
        chromium: var("HIT_TEST_CHROMIUM")?,
    })
}

/// The folder the screenshots go to, created and printed on first use.
pub fn screenshot_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
        let dir = var("HIT_SCREENSHOT_DIR")
            .map(PathBuf::from)
            .or_else(|| var("CARGO_TARGET_DIR").map(|t| PathBuf::from(t).join("screenshots")))
            .unwrap_or_else(|| std::env::temp_dir().join("hit-screenshots"));
        std::fs::create_dir_all(&dir).expect("the screenshot folder");
        println!("screenshots are written to {}", dir.display());
        dir
    })
}

/// A port nobody listens on right now.
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("its address").port()
}

/// Whether `url` answers 2xx.
fn answers(url: &str) -> bool {
    ureq::get(url).call().is_ok()
}

/// A child process that is killed when this value is dropped, so that no
/// test leaves one behind, whatever step fails.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A child process whose output goes to a log file in the test's folder.
fn spawn(mut command: Command, log: &Path) -> Process {
    let out = File::create(log).expect("a log file");
    let err = out.try_clone().expect("the log file twice");
    let child = command
        .stdin(Stdio::null())
        .stdout(Stdio::from(out))
        .stderr(Stdio::from(err))
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {command:?}: {e}"));
    Process(child)
}

/// Polls `url` until it answers, failing early when the child exits.
fn wait_until_answering(process: &mut Process, url: &str, log: &Path) {
    let started = Instant::now();
    while !answers(url) {
        if let Ok(Some(status)) = process.0.try_wait() {
            panic!("{} exited ({status}):\n{}", log.display(), read_log(log));
        }
        assert!(
            started.elapsed() < START_DEADLINE,
            "{url} did not answer within {START_DEADLINE:?}:\n{}",
            read_log(log)
        );
        std::thread::sleep(POLL);
    }
}

fn read_log(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let start = text.len().saturating_sub(4000);
    let start = (start..text.len())
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(0);
    text[start..].to_owned()
}

/// The server under test: the real binary with the demo federation, on a
/// SQLite file, the embedded worker (for exports) and a mail folder.
fn start_server(dir: &Path) -> (Process, String, PathBuf) {
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let org = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/demo-federation.toml");
    let log = dir.join("hitweb.log");
    let mut command = Command::new(env!("CARGO_BIN_EXE_hitweb"));
    // Only what this server needs: nothing of the developer's or the CI's
    // environment (a DATABASE_URL, an SMTP_URL) may leak in.
    command
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env(
            "DATABASE_URL",
            format!("sqlite://{}", dir.join("db.sqlite3").display()),
        )
        .env("BIND_ADDR", format!("127.0.0.1:{port}"))
        .env("HIT_BASE_URL", &base)
        .env("HIT_ORG", org)
        .env("HIT_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env("HIT_DEMO_PASSWORD", DEMO_PASSWORD)
        .env("HIT_EMBEDDED_WORKER", "true")
        .env("MAIL_FOLDER", dir.join("mail"))
        .env("RUST_LOG", "info");
    let mut child = spawn(command, &log);
    wait_until_answering(&mut child, &format!("{base}/users/sign_in"), &log);
    (child, base, log)
}

/// chromedriver on a free port (local connections only, its default).
fn start_driver(tools: &Tools, dir: &Path) -> (Process, String) {
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let log = dir.join("chromedriver.log");
    let mut command = Command::new(&tools.chromedriver);
    command.arg(format!("--port={port}"));
    let mut child = spawn(command, &log);
    wait_until_answering(&mut child, &format!("{url}/status"), &log);
    (child, url)
}

/// The capabilities of the Chromium session: headless, its own profile
/// and download folder, English first in `Accept-Language`.
fn capabilities(tools: &Tools, profile: &Path, downloads: &Path) -> serde_json::Map<String, Value> {
    let options = json!({
        "binary": tools.chromium,
        "args": [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            format!("--user-data-dir={}", profile.display()),
            "--window-size=1280,900",
            "--lang=en-US",
        ],
        "prefs": {
            "download.default_directory": downloads,
            "download.prompt_for_download": false,
            "intl.accept_languages": "en-US,en",
        },
    });
    let mut caps = serde_json::Map::new();
    caps.insert("goog:chromeOptions".to_owned(), options);
    caps
}

/// A browser session on a fresh server.
pub struct Session {
    pub client: Client,
    /// Where Chromium saves downloads.
    pub downloads: PathBuf,
    base: String,
    session_id: Option<String>,
    driver_url: String,
    server_log: PathBuf,
    is_closed: bool,
    // Dropped in this order, after `Drop for Session` ended the browser
    // session: chromedriver, the server, then their folder.
    _driver: Process,
    _server: Process,
    _dir: tempfile::TempDir,
    _turn: tokio::sync::MutexGuard<'static, ()>,
}

impl Session {
    /// Starts server, chromedriver and browser; `None` when the test is
    /// skipped (see [`tools`]).
    pub async fn start() -> Option<Session> {
        let tools = tools()?;
        let turn = ONE_AT_A_TIME.lock().await;
        let dir = tempfile::tempdir().expect("a temp dir");
        let downloads = dir.path().join("downloads");
        std::fs::create_dir_all(&downloads).expect("the download folder");
        let (server, base, server_log) = start_server(dir.path());
        let (driver, driver_url) = start_driver(&tools, dir.path());
        let caps = capabilities(&tools, &dir.path().join("profile"), &downloads);
        // Both of rustls's crypto providers are linked into this binary,
        // so it picks none by itself; the WebDriver client needs one even
        // for plain HTTP. Another test may have installed it already.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let connected = match ClientBuilder::rustls() {
            Ok(mut builder) => builder.capabilities(caps).connect(&driver_url).await,
            Err(e) => panic!("no TLS for the WebDriver client: {e}"),
        };
        let client = connected.unwrap_or_else(|e| panic!("no Chromium session: {e}"));
        let session_id = client.session_id().await.ok().flatten();
        Some(Session {
            client,
            downloads,
            base,
            session_id,
            driver_url,
            server_log,
            is_closed: false,
            _driver: driver,
            _server: server,
            _dir: dir,
            _turn: turn,
        })
    }

    /// Ends the browser session (the processes stop on drop).
    pub async fn finish(mut self) {
        if let Err(e) = self.client.clone().close().await {
            println!("closing the session failed: {e}");
        }
        self.is_closed = true;
    }

    /// The absolute URL of `path` on the server under test.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Opens `path` and waits for the page to load.
    pub async fn goto(&self, path: &str) {
        self.client.goto(&self.url(path)).await.expect("navigation");
    }

    /// The path (and query) of the page shown.
    pub async fn path(&self) -> String {
        let url = self.client.current_url().await.expect("the current URL");
        match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        }
    }

    /// Polls `check` until it holds; fails the test after [`DEADLINE`].
    pub async fn wait_until(&self, what: &str, mut check: impl AsyncFnMut(&Client) -> bool) {
        let started = Instant::now();
        while !check(&self.client).await {
            assert!(
                started.elapsed() < DEADLINE,
                "waited {DEADLINE:?} for {what}; the page is at {}",
                self.path().await
            );
            tokio::time::sleep(POLL).await;
        }
    }

    /// The element matching `css`, waiting for it to appear.
    pub async fn find(&self, css: &str) -> Element {
        let found = self
            .client
            .wait()
            .at_most(DEADLINE)
            .every(POLL)
            .for_element(Locator::Css(css))
            .await;
        match found {
            Ok(element) => element,
            Err(e) => panic!("no {css} on {}: {e}", self.path().await),
        }
    }

    /// How many elements match `css` now.
    pub async fn count(&self, css: &str) -> usize {
        self.client
            .find_all(Locator::Css(css))
            .await
            .map_or(0, |all| all.len())
    }

    /// The text of the element matching `css` (waiting for it).
    pub async fn text(&self, css: &str) -> String {
        self.find(css).await.text().await.expect("its text")
    }

    /// Waits until the element matching `css` shows `needle`.
    pub async fn wait_for_text(&self, css: &str, needle: &str) {
        let what = format!("{needle:?} in {css}");
        self.wait_until(&what, async |c| match c.find(Locator::Css(css)).await {
            Ok(e) => e.text().await.is_ok_and(|t| t.contains(needle)),
            Err(_) => false,
        })
        .await;
    }

    /// Waits until the page is at `path` (query included).
    pub async fn wait_for_path(&self, path: &str) {
        let what = format!("the page {path}");
        self.wait_until(&what, async |c| {
            c.current_url().await.is_ok_and(|u| {
                let shown = match u.query() {
                    Some(q) => format!("{}?{q}", u.path()),
                    None => u.path().to_owned(),
                };
                shown == path
            })
        })
        .await;
    }

    /// Runs `script` in the page and returns its result.
    pub async fn js(&self, script: &str) -> Value {
        self.client
            .execute(script, Vec::new())
            .await
            .unwrap_or_else(|e| panic!("script {script:?} failed: {e}"))
    }

    /// Puts a marker into the page's `window`; it survives HTMX swaps and
    /// is gone after any page load.
    pub async fn mark_page(&self) {
        self.js("window.hitMarker = 'still the same page'; return true;")
            .await;
    }

    /// Whether the marker of [`Session::mark_page`] is still there.
    pub async fn is_same_page(&self) -> bool {
        self.js("return window.hitMarker === 'still the same page';")
            .await
            == Value::Bool(true)
    }

    /// Presses and releases `key` on whatever has the focus, as a
    /// keyboard would.
    pub async fn press(&self, key: Key) {
        let keys = KeyActions::new("keyboard".to_owned())
            .then(KeyAction::Down { value: key.into() })
            .then(KeyAction::Up { value: key.into() });
        self.client
            .perform_actions(keys)
            .await
            .expect("a key press");
    }

    /// Clicks `element` a few pixels from its left edge (where the toggle
    /// of a tree node is drawn, left of its link).
    pub async fn click_left_edge(&self, element: &Element) {
        let (_, _, width, _) = element.rectangle().await.expect("its box");
        let mouse = MouseActions::new("mouse".to_owned())
            .then(PointerAction::MoveToElement {
                element: element.clone(),
                duration: None,
                x: 4.0 - width / 2.0,
                y: 0.0,
            })
            .then(PointerAction::Down {
                button: MOUSE_BUTTON_LEFT,
            })
            .then(PointerAction::Up {
                button: MOUSE_BUTTON_LEFT,
            });
        self.client.perform_actions(mouse).await.expect("a click");
    }

    /// Focuses the start of the page, as a click on its background does,
    /// so that the next Tab goes to the first stop.
    pub async fn focus_page_start(&self) {
        self.js(
            "const b = document.body; b.setAttribute('tabindex', '-1'); b.focus(); \
             b.removeAttribute('tabindex'); window.scrollTo(0, 0); return true;",
        )
        .await;
    }

    /// Types `text` into the field matching `css`, after emptying it.
    pub async fn fill(&self, css: &str, text: &str) {
        let field = self.find(css).await;
        field.clear().await.expect("an editable field");
        field.send_keys(text).await.expect("typing");
    }

    /// Signs in through the form and waits for the start page.
    pub async fn sign_in(&self, email: &str, password: &str) {
        self.goto("/users/sign_in").await;
        self.fill("#field-email", email).await;
        self.fill("#field-password", password).await;
        self.find("form[action='/users/sign_in'] button[type=submit]")
            .await
            .click()
            .await
            .expect("the sign-in button");
        self.wait_for_path("/").await;
    }

    /// Makes the page `width` CSS pixels wide (the viewport, not the
    /// window), keeping the height.
    pub async fn set_width(&self, width: i64) {
        let height = 900;
        let mut outer = width;
        for _ in 0..3 {
            let outer_px = u32::try_from(outer).expect("a window width");
            self.client
                .set_window_size(outer_px, height)
                .await
                .expect("resizing the window");
            let inner = self.js("return window.innerWidth;").await.as_i64();
            match inner {
                Some(w) if w == width => return,
                Some(w) => outer += width - w,
                None => break,
            }
        }
        panic!("could not make the viewport {width} px wide");
    }

    /// Saves a screenshot of the whole page as `<name>.png` in the
    /// screenshot folder and returns its width in pixels.
    pub async fn screenshot(&self, name: &str) -> u32 {
        let png = self.client.screenshot().await.expect("a screenshot");
        let path = screenshot_dir().join(format!("{name}.png"));
        std::fs::write(&path, &png).expect("writing the screenshot");
        let image = image::load_from_memory(&png).expect("a PNG");
        image.width()
    }

    /// The newest finished file in the download folder, waiting for one.
    pub async fn downloaded_file(&self) -> PathBuf {
        let started = Instant::now();
        loop {
            let done: Vec<PathBuf> = std::fs::read_dir(&self.downloads)
                .expect("the download folder")
                .filter_map(|e| e.ok().map(|e| e.path()))
                // Chromium writes into a hidden temporary file, then a
                // `.crdownload`, and renames it when the download is done.
                .filter(|p| {
                    let name = p.file_name().map(|n| n.to_string_lossy().into_owned());
                    name.is_some_and(|n| !n.starts_with('.') && !n.ends_with(".crdownload"))
                })
                .collect();
            if let Some(file) = done.into_iter().next() {
                return file;
            }
            assert!(
                started.elapsed() < DEADLINE,
                "no download arrived within {DEADLINE:?}"
            );
            tokio::time::sleep(POLL).await;
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        // The browser goes with its session; killing chromedriver first
        // would leave Chromium running.
        if let (false, Some(id)) = (self.is_closed, &self.session_id) {
            let _ = ureq::delete(&format!("{}/session/{id}", self.driver_url)).call();
        }
        if std::thread::panicking() {
            println!(
                "server log ({}):\n{}",
                self.server_log.display(),
                read_log(&self.server_log)
            );
        }
    }
}
