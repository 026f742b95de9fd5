//! Keyboard-only use of the sign-in and group pages: Tab reaches the
//! fields and the main links and buttons in reading order, every stop
//! shows where the focus is, Enter submits and follows, and the tree opens
//! without a mouse.

use fantoccini::key::Key;
use serde_json::Value;

use crate::harness::{DEMO_PASSWORD, Session};

/// What has the focus: a short name for it (`#id`, or tag and text) and
/// whether one can see that it has the focus.
#[derive(Debug)]
struct Stop {
    name: String,
    is_visible: bool,
}

/// Describes the focused element. The focus counts as visible when the
/// element is rendered and has a ring (box-shadow, or an outline that is
/// not transparent), or when it is a hidden checkbox whose rendered label
/// shows the ring (the menu toggle).
const FOCUSED: &str = r#"
const e = document.activeElement;
if (!e || e === document.body) return null;
const rendered = (el) => el.checkVisibility({ opacityProperty: true, visibilityProperty: true })
  && el.getBoundingClientRect().width > 0;
const ring = (el) => {
  const cs = getComputedStyle(el);
  const outline = cs.outlineStyle !== 'none' && cs.outlineWidth !== '0px'
    && cs.outlineColor !== 'transparent' && cs.outlineColor !== 'rgba(0, 0, 0, 0)';
  return cs.boxShadow !== 'none' || outline;
};
let visible = rendered(e) && ring(e);
if (!visible && e.labels) {
  visible = Array.from(e.labels).some((l) => rendered(l) && ring(l));
}
const text = (e.innerText || e.value || e.getAttribute('aria-label') || '').trim().slice(0, 40);
const name = e.id ? '#' + e.id : e.tagName.toLowerCase() + ' ' + text;
return { name: name, visible: visible };
"#;

/// The element that has the focus now.
async fn focused(s: &Session) -> Option<Stop> {
    match s.js(FOCUSED).await {
        Value::Object(o) => Some(Stop {
            name: o
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned(),
            is_visible: o.get("visible") == Some(&Value::Bool(true)),
        }),
        _ => None,
    }
}

/// Presses Tab from the top of the page until the focus leaves it (or
/// after `limit` presses) and returns every stop.
async fn tab_through(s: &Session, limit: usize) -> Vec<Stop> {
    s.focus_page_start().await;
    let mut stops = Vec::new();
    for _ in 0..limit {
        s.press(Key::Tab).await;
        match focused(s).await {
            Some(stop) => stops.push(stop),
            None => break,
        }
    }
    stops
}

/// Presses Tab until the focus is on `name`; fails after `limit` presses.
async fn tab_to(s: &Session, name: &str, limit: usize) {
    for _ in 0..limit {
        s.press(Key::Tab).await;
        if focused(s).await.is_some_and(|f| f.name == name) {
            return;
        }
    }
    panic!("Tab never reached {name}");
}

/// Asserts that `wanted` appear among `stops` in this order, and that every
/// stop shows its focus.
fn assert_order(stops: &[Stop], wanted: &[&str]) {
    let names: Vec<&str> = stops.iter().map(|s| s.name.as_str()).collect();
    let mut from = 0;
    for want in wanted {
        let at = names[from..]
            .iter()
            .position(|n| n == want)
            .unwrap_or_else(|| panic!("Tab does not reach {want} after {from}: {names:?}"));
        from += at + 1;
    }
    let hidden: Vec<&Stop> = stops.iter().filter(|s| !s.is_visible).collect();
    assert!(hidden.is_empty(), "focus not visible on {hidden:?}");
}

#[tokio::test]
async fn sign_in_page_works_with_the_keyboard_alone() {
    let Some(s) = Session::start().await else {
        return;
    };
    s.goto("/users/sign_in").await;
    let stops = tab_through(&s, 20).await;
    assert_order(
        &stops,
        &[
            "a Skip to content",
            "#field-email",
            "#field-password",
            "button Sign in",
            "a Forgot password?",
            "#language-select",
            "button Switch",
        ],
    );

    // Type into the fields the Tab key reaches, submit with Enter.
    s.focus_page_start().await;
    tab_to(&s, "#field-email", 5).await;
    type_text(&s, "alpha@demo.example").await;
    s.press(Key::Tab).await;
    type_text(&s, DEMO_PASSWORD).await;
    s.press(Key::Enter).await;
    s.wait_for_path("/").await;
    s.wait_for_text("main h1", "Welcome, Alex Alpha").await;
    s.finish().await;
}

/// Types `text` into whatever has the focus.
async fn type_text(s: &Session, text: &str) {
    s.client
        .active_element()
        .await
        .expect("a focused element")
        .send_keys(text)
        .await
        .expect("typing");
}

#[tokio::test]
async fn group_page_works_with_the_keyboard_alone() {
    let Some(s) = Session::start().await else {
        return;
    };
    s.sign_in("alpha@demo.example", DEMO_PASSWORD).await;
    let club = s.find("main .roles a.role-group").await;
    let club_url = club.attr("href").await.expect("an attribute");
    let club_url = club_url.expect("the club's address");
    s.goto(&club_url).await;
    s.wait_for_text("main h1", "Club Alpha").await;
    let stops = tab_through(&s, 80).await;
    assert_order(
        &stops,
        &[
            "a Skip to content",
            "#search-q",
            "a Home",
            "a Alex Alpha",
            "button Sign out",
            "a People",
            "a Mailing lists",
            "#language-select",
        ],
    );

    // The skip link jumps over the navigation to the content.
    s.focus_page_start().await;
    s.press(Key::Tab).await;
    s.press(Key::Enter).await;
    s.press(Key::Tab).await;
    let after = focused(&s).await.expect("a focus after the skip link");
    assert!(
        !["#search-q", "a Home", "button Sign out"].contains(&after.name.as_str()),
        "the skip link led to {after:?}"
    );

    // Walk the tree: up to the region with Enter on its link, back down
    // to the club, open a node with Enter on its toggle, then follow a
    // child, all from the keyboard.
    s.focus_page_start().await;
    tab_to(&s, "a Region North", 80).await;
    s.press(Key::Enter).await;
    s.wait_for_text("main h1", "Region North").await;
    s.focus_page_start().await;
    tab_to(&s, "a Club Alpha", 80).await;
    s.press(Key::Enter).await;
    s.wait_for_text("main h1", "Club Alpha").await;
    s.mark_page().await;
    s.focus_page_start().await;
    tab_to(&s, "summary Members", 80).await;
    s.press(Key::Enter).await;
    s.wait_for_text("#groups-tree details[open] .tree-children", "Seniors")
        .await;
    assert!(s.is_same_page().await);
    s.press(Key::Tab).await;
    s.press(Key::Tab).await;
    let stop = focused(&s).await.expect("a focus in the tree");
    assert_eq!(stop.name, "a Seniors", "{stop:?}");
    assert!(stop.is_visible);
    s.press(Key::Enter).await;
    s.wait_for_text("main h1", "Seniors").await;

    // On a phone the menu sits behind a toggle, which the keyboard
    // reaches and opens with Space.
    s.set_width(375).await;
    s.focus_page_start().await;
    tab_to(&s, "#nav-toggle", 10).await;
    let toggle = focused(&s).await.expect("the menu toggle");
    assert!(toggle.is_visible, "{toggle:?}");
    assert!(
        !s.find("nav.nav")
            .await
            .is_displayed()
            .await
            .expect("a state")
    );
    s.press(Key::Space).await;
    assert!(
        s.find("nav.nav")
            .await
            .is_displayed()
            .await
            .expect("a state")
    );
    s.press(Key::Tab).await;
    let first = focused(&s).await.expect("a focus in the menu");
    assert_eq!(first.name, "a Home");
    assert!(first.is_visible, "{first:?}");
    s.finish().await;
}
