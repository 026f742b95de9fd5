//! `/full`: the search over people and groups (hitobito's path for it), as
//! a page and as the fragment the search box in the top bar swaps in while
//! someone types.
//!
//! Anyone signed in may search (`hitcore::ability::search`); what they find
//! is limited by `hitcore::ability::search_scope`, which the store applies
//! in its query. This module only reads the text, asks and renders.

use hitcore::ability;
use hitcore::group::GroupTree;
use hitcore::person::Person;
use hitcore::store::{SEARCH_MIN_CHARS, SearchQuery, is_searchable};
use poem::web::{Data, Query};
use poem::{Response, handler};
use serde::{Deserialize, Serialize};

use super::check;
use crate::context::{RequestCtx, Viewer};
use crate::error::WebError;
use crate::state::AppState;
use crate::views::GroupLink;

/// Hits per kind in the type-ahead below the search box.
const TYPEAHEAD_LIMIT: u32 = 10;
/// Hits per kind on the results page.
const PAGE_LIMIT: u32 = 50;
/// Longer search text is cut to this many characters.
const MAX_TEXT_CHARS: usize = 100;

/// The query string of `/full`.
#[derive(Debug, Default, Deserialize)]
pub struct SearchParams {
    pub q: Option<String>,
}

#[derive(Serialize)]
struct SearchView {
    /// The text as searched (trimmed and cut).
    q: String,
    /// Whether `q` has no word long enough to search for.
    is_too_short: bool,
    min_chars: usize,
    people: Vec<PersonHitView>,
    groups: Vec<GroupHitView>,
    has_hits: bool,
    /// Whether the lists are the type-ahead's short ones, which link to
    /// the results page.
    is_typeahead: bool,
    all_url: String,
}

#[derive(Serialize)]
struct PersonHitView {
    id: i64,
    name: String,
    url: String,
    /// The primary group with its layer, for telling people apart.
    group: Option<String>,
    town: Option<String>,
}

#[derive(Serialize)]
struct GroupHitView {
    id: i64,
    name: String,
    type_label: String,
    url: String,
}

/// GET /full?q=: people and groups matching `q` that the viewer may see;
/// the fragment `search/_results.html` for HTMX requests (the type-ahead),
/// the whole page otherwise.
#[handler]
pub async fn index(
    ctx: &RequestCtx,
    state: Data<&AppState>,
    Query(params): Query<SearchParams>,
) -> Result<Response, WebError> {
    let viewer = ctx.viewer()?;
    check(ability::search(&viewer.actor))?;
    let q: String = params
        .q
        .unwrap_or_default()
        .trim()
        .chars()
        .take(MAX_TEXT_CHARS)
        .collect();
    let is_typeahead = ctx.htmx.is_fragment;

    let (people, groups) = if is_searchable(&q) {
        let query = SearchQuery {
            text: q.clone(),
            scope: ability::search_scope(&viewer.actor, &state.org),
            today: chrono::Utc::now().date_naive(),
            limit: if is_typeahead {
                TYPEAHEAD_LIMIT
            } else {
                PAGE_LIMIT
            },
        };
        // TODO: events join the results once they exist (issue 7, events
        // and courses), limited by the events readable to the viewer
        // (section 4.4).
        state
            .db(move |s| Ok((s.search_people(&query)?, s.search_groups(&query)?)))
            .await?
    } else {
        (Vec::new(), Vec::new())
    };

    let people: Vec<PersonHitView> = people.iter().map(|p| person_hit(viewer, p)).collect();
    let groups: Vec<GroupHitView> = groups
        .iter()
        .map(|g| {
            let link = GroupLink::with_layer(&state.org, ctx.lang, g, &viewer.tree);
            GroupHitView {
                id: link.id,
                name: link.full_name,
                type_label: link.type_label,
                url: link.url,
            }
        })
        .collect();
    let view = SearchView {
        is_too_short: !q.is_empty() && !is_searchable(&q),
        min_chars: SEARCH_MIN_CHARS,
        has_hits: !people.is_empty() || !groups.is_empty(),
        people,
        groups,
        is_typeahead,
        all_url: format!("/full?q={}", url_encoded(&q)),
        q,
    };
    ctx.render(&state, "search/index.html", "search/_results.html", &view)
}

/// A person as a hit: linked to their page in their primary group (the
/// short link `/people/:id` finds another group when that one is gone).
fn person_hit(viewer: &Viewer, p: &Person) -> PersonHitView {
    let tree: &GroupTree = &viewer.tree;
    let primary = p
        .primary_group_id
        .and_then(|id| tree.get(id))
        .filter(|g| !g.is_deleted());
    let url = match primary {
        Some(g) => format!("/groups/{}/people/{}", g.id, p.id),
        None => format!("/people/{}", p.id),
    };
    let group = primary.map(|g| match tree.layer_of(g.id).filter(|l| l.id != g.id) {
        Some(layer) => format!("{} · {}", g.display_name(), layer.display_name()),
        None => g.display_name().to_owned(),
    });
    PersonHitView {
        id: p.id.0,
        name: p.display_name(),
        url,
        group,
        town: p.address.town.clone(),
    }
}

/// `text` percent-encoded for a query string value.
fn url_encoded(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_are_percent_encoded() {
        assert_eq!(url_encoded("Jan Jü&x=<1>"), "Jan%20J%C3%BC%26x%3D%3C1%3E");
        assert_eq!(url_encoded("a-b_c.d~"), "a-b_c.d~");
    }
}
