//! What the SQL stores share for the full-text search: the search text cut
//! into terms, the query strings of SQLite's FTS5 and PostgreSQL's
//! `tsquery` built from them, and the way the best matches a viewer may see
//! are put together ([`ranked_visible_ids`]), which each store drives with
//! its own statements.
//!
//! Both engines receive only words made of letters and digits, each quoted
//! or followed by nothing but the operators written here, so no user input
//! reaches either query language as syntax. Case and accents are folded by
//! the databases (FTS5's `remove_diacritics`, PostgreSQL's
//! `hit_search_fold`), the same way for the stored text and the query.
//!
//! Pure functions only; no driver types.

use crate::ability::{AreaReach, PeopleScope};
use crate::store::is_searchable;

/// At most this many words of the search text count; the rest is ignored.
const MAX_TERMS: usize = 5;
/// Longer words are cut to this many characters (a prefix of a prefix
/// still finds the word).
const MAX_TERM_CHARS: usize = 40;

/// One word of the search text: the spellings that may find it, the word
/// as typed (lower case) first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Term {
    pub(crate) spellings: Vec<String>,
}

/// Which columns a query string matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fields {
    /// Every searched column.
    All,
    /// The name columns only (the first tier of the ranking).
    Names,
}

/// How a term matches a word.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Match {
    /// The word starts with the term.
    Prefix,
    /// The word is the term.
    Exact,
}

/// The terms of a search text: its words (runs of letters and digits), in
/// lower case, at most [`MAX_TERMS`] of them; none when no word has
/// [`crate::store::SEARCH_MIN_CHARS`] characters, so that a search for
/// "a" does not run at all.
///
/// A German word spelled with "ae", "oe" or "ue" may also be meant with
/// "ä", "ö" or "ü", and the other way round ("Mueller" and "Müller"); such
/// a word gets the other spelling as well.
pub(crate) fn terms(text: &str) -> Vec<Term> {
    let words: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(MAX_TERMS)
        .map(|w| {
            w.chars()
                .take(MAX_TERM_CHARS)
                .collect::<String>()
                .to_lowercase()
        })
        .collect();
    if !is_searchable(&words.join(" ")) {
        return Vec::new();
    }
    words
        .into_iter()
        .map(|word| {
            let mut spellings = vec![word.clone()];
            spellings.extend(transliterated(&word).filter(|w| *w != word));
            Term { spellings }
        })
        .collect()
}

/// The other German spelling of `word`, if it has umlauts or their
/// two-letter forms.
fn transliterated(word: &str) -> Option<String> {
    if word.contains(['ä', 'ö', 'ü']) {
        return Some(
            word.replace('ä', "ae")
                .replace('ö', "oe")
                .replace('ü', "ue"),
        );
    }
    if ["ae", "oe", "ue"].iter().any(|pair| word.contains(pair)) {
        return Some(
            word.replace("ae", "ä")
                .replace("oe", "ö")
                .replace("ue", "ü"),
        );
    }
    None
}

/// The FTS5 query for `terms`: every term must match, each through one of
/// its spellings, e.g. `("mueller"* OR "müller"*) AND "jo"*`. With
/// [`Fields::Names`] the query is limited to the columns `names`.
///
/// Each spelling is a quoted FTS5 string of letters and digits, so none
/// is read as an operator or column name.
pub(crate) fn fts5_query(terms: &[Term], fields: Fields, names: &[&str], how: Match) -> String {
    let star = if how == Match::Prefix { "*" } else { "" };
    let body = terms
        .iter()
        .map(|t| {
            let spellings: Vec<String> = t
                .spellings
                .iter()
                .map(|s| format!("\"{s}\"{star}"))
                .collect();
            format!("({})", spellings.join(" OR "))
        })
        .collect::<Vec<_>>()
        .join(" AND ");
    match fields {
        Fields::All => body,
        Fields::Names => format!("{{{}}} : ({body})", names.join(" ")),
    }
}

/// The `tsquery` text for `terms` in PostgreSQL's syntax, e.g.
/// `(mueller:* | müller:*) & jo:*`; the stores pass it through
/// `hit_search_fold` and `to_tsquery('simple', ...)`. With
/// [`Fields::Names`] only lexemes of weight A match, which the search
/// columns give the name fields.
///
/// Each spelling is letters and digits only, so `to_tsquery` reads no
/// operator from the input.
pub(crate) fn tsquery(terms: &[Term], fields: Fields, how: Match) -> String {
    let suffix = match (how, fields) {
        (Match::Prefix, Fields::All) => ":*",
        (Match::Prefix, Fields::Names) => ":*A",
        (Match::Exact, Fields::All) => "",
        (Match::Exact, Fields::Names) => ":A",
    };
    terms
        .iter()
        .map(|t| {
            let spellings: Vec<String> =
                t.spellings.iter().map(|s| format!("{s}{suffix}")).collect();
            format!("({})", spellings.join(" | "))
        })
        .collect::<Vec<_>>()
        .join(" & ")
}

/// The number of hits to ask for: at least one, at most 100.
pub(crate) fn hit_limit(limit: u32) -> i64 {
    i64::from(limit.clamp(1, 100))
}

/// A viewer who may see fewer people than this through their roles (and
/// contact data) is searched starting from those people; one who sees more
/// is searched starting from the words, checking the best matches.
pub(crate) const NARROW_CAP: i64 = 10_000;
/// The most matches checked in one round for a viewer who sees many.
const MAX_BATCH: i64 = 6_400;

/// What a store runs to find the people of a search, whose order and
/// visibility [`ranked_visible_ids`] puts together.
pub(crate) trait PeopleSearch {
    type Error;
    /// The number of rows of the viewer's candidates (the people they see
    /// through their roles, the viewer and the contact-data people), with
    /// repetitions, counting no further than `cap`.
    fn candidate_count(&mut self, cap: i64) -> Result<i64, Self::Error>;
    /// The ids of the matching people, best first, from `offset` on; only
    /// those among the candidates with `among_candidates`.
    fn ranked(
        &mut self,
        among_candidates: bool,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<i64>, Self::Error>;
    /// Those of `ids` the viewer may see, in any order.
    fn visible(&mut self, ids: &[i64]) -> Result<Vec<i64>, Self::Error>;
}

/// The ids of the best `limit` matches the viewer may see, best first;
/// the stores pass [`NARROW_CAP`] as `narrow_cap`.
///
/// Which way is quicker depends on how many people the viewer sees. Root
/// sees everyone: the best matches are the answer. A club leader sees a
/// few thousand of half a million: the words are looked up among those
/// people only. A federation administrator sees nearly everyone: the best
/// matches are checked in batches until enough are visible, which is
/// usually the first batch. Either way the hits are the same.
pub(crate) fn ranked_visible_ids<S: PeopleSearch>(
    search: &mut S,
    scope: &PeopleScope,
    limit: i64,
    narrow_cap: i64,
) -> Result<Vec<i64>, S::Error> {
    if scope.is_everyone {
        return search.ranked(false, limit, 0);
    }
    // People without roles are no candidates; the viewers who see them
    // (administrators) see nearly everyone anyway.
    if !scope.includes_people_without_roles && search.candidate_count(narrow_cap)? < narrow_cap {
        return search.ranked(true, limit, 0);
    }
    // Batches double, so that a viewer who sees few of many matches costs
    // a handful of rounds rather than one per batch.
    let mut batch = (limit * 4).clamp(40, 400);
    let mut found = Vec::new();
    let mut offset = 0;
    loop {
        let ranked = search.ranked(false, batch, offset)?;
        let visible: std::collections::HashSet<i64> =
            search.visible(&ranked)?.into_iter().collect();
        let room = usize::try_from(limit)
            .unwrap_or(0)
            .saturating_sub(found.len());
        found.extend(ranked.iter().filter(|id| visible.contains(id)).take(room));
        if found.len() >= usize::try_from(limit).unwrap_or(0)
            || i64::try_from(ranked.len()).unwrap_or(0) < batch
        {
            return Ok(found);
        }
        offset += batch;
        batch = (batch * 2).min(MAX_BATCH);
    }
}

/// The groups of a viewer's areas as read by the stores (id, whether only
/// types visible from above count) split into those where every role type
/// counts and those where only the visible ones do.
pub(crate) fn split_area_groups(rows: Vec<(i64, bool)>) -> (Vec<i64>, Vec<i64>) {
    let (visible_only, all): (Vec<_>, Vec<_>) = rows.into_iter().partition(|r| r.1);
    (
        all.into_iter().map(|r| r.0).collect(),
        visible_only.into_iter().map(|r| r.0).collect(),
    )
}

/// `items` in the order of `ids` (each id once; missing ones left out).
pub(crate) fn in_order<T>(ids: &[i64], items: Vec<T>, id_of: impl Fn(&T) -> i64) -> Vec<T> {
    let mut by_id: std::collections::HashMap<i64, T> =
        items.into_iter().map(|t| (id_of(&t), t)).collect();
    ids.iter().filter_map(|id| by_id.remove(id)).collect()
}

/// The name of an area's reach in the search statements.
pub(crate) fn reach_name(reach: AreaReach) -> &'static str {
    match reach {
        AreaReach::Group => "group",
        AreaReach::GroupAndBelow => "group_and_below",
        AreaReach::Layer => "layer",
        AreaReach::LayerAndBelow => "layer_and_below",
    }
}

/// The areas of a scope as (reach, group id, visible from above only).
pub(crate) fn area_rows(scope: &PeopleScope) -> Vec<(&'static str, i64, bool)> {
    scope
        .areas
        .iter()
        .map(|a| {
            (
                reach_name(a.reach),
                a.group_id.0,
                a.is_visible_from_above_only,
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spellings(text: &str) -> Vec<Vec<String>> {
        terms(text).into_iter().map(|t| t.spellings).collect()
    }

    #[test]
    fn words_are_runs_of_letters_and_digits_in_lower_case() {
        assert_eq!(
            spellings("  Jan-Peter o'Neil  alpha@demo.example 3a "),
            [
                vec!["jan"],
                vec!["peter"],
                vec!["o"],
                vec!["neil"],
                vec!["alpha"]
            ]
        );
        assert_eq!(spellings("Zürich")[0], ["zürich", "zuerich"]);
    }

    #[test]
    fn text_without_a_word_of_two_characters_has_no_terms() {
        for short in ["", " ", "a", "ä", "a b c", "*", "\"\"", "-- ;", "a\0"] {
            assert!(terms(short).is_empty(), "{short:?}");
        }
        assert_eq!(spellings("Jo")[0], ["jo"]);
        assert_eq!(spellings("Jan J").len(), 2);
    }

    #[test]
    fn operators_and_quotes_never_reach_the_query_languages() {
        let hostile = r#"a" OR "b NEAR(x y) col:1 ^x* !(y) & z | 'w' <-> \\ {c d} NOT"#;
        let t = terms(hostile);
        for spelling in t.iter().flat_map(|t| &t.spellings) {
            assert!(spelling.chars().all(char::is_alphanumeric), "{spelling}");
        }
        let fts = fts5_query(&t, Fields::All, &[], Match::Prefix);
        assert_eq!(fts.matches('"').count() % 2, 0, "{fts}");
        assert!(!tsquery(&t, Fields::All, Match::Prefix).contains('\''));
    }

    #[test]
    fn many_or_long_words_are_cut() {
        assert_eq!(terms("aa bb cc dd ee ff gg").len(), MAX_TERMS);
        let long = "x".repeat(500);
        assert_eq!(spellings(&long)[0][0].len(), MAX_TERM_CHARS);
    }

    #[test]
    fn german_words_get_their_other_spelling() {
        assert_eq!(spellings("Mueller")[0], ["mueller", "müller"]);
        assert_eq!(spellings("Müller")[0], ["müller", "mueller"]);
        assert_eq!(spellings("Goethe")[0], ["goethe", "göthe"]);
        assert_eq!(spellings("Muller")[0], ["muller"]);
    }

    #[test]
    fn fts5_query_needs_every_term_through_any_spelling() {
        let t = terms("Müller jo");
        assert_eq!(
            fts5_query(&t, Fields::All, &[], Match::Prefix),
            r#"("müller"* OR "mueller"*) AND ("jo"*)"#
        );
        assert_eq!(
            fts5_query(
                &t,
                Fields::Names,
                &["first_name", "last_name"],
                Match::Exact
            ),
            r#"{first_name last_name} : (("müller" OR "mueller") AND ("jo"))"#
        );
    }

    #[test]
    fn tsquery_marks_prefixes_and_name_weights() {
        let t = terms("Müller jo");
        assert_eq!(
            tsquery(&t, Fields::All, Match::Prefix),
            "(müller:* | mueller:*) & (jo:*)"
        );
        assert_eq!(
            tsquery(&t, Fields::Names, Match::Prefix),
            "(müller:*A | mueller:*A) & (jo:*A)"
        );
        assert_eq!(
            tsquery(&t, Fields::Names, Match::Exact),
            "(müller:A | mueller:A) & (jo:A)"
        );
    }

    /// People 1 to 200 ranked by id; the viewer sees those `sees` admits,
    /// and has `candidates` candidate rows. Records which paths ran.
    struct Fake {
        sees: fn(i64) -> bool,
        candidates: i64,
        calls: Vec<String>,
    }

    impl PeopleSearch for Fake {
        type Error = ();
        fn candidate_count(&mut self, cap: i64) -> Result<i64, ()> {
            self.calls.push("count".into());
            Ok(self.candidates.min(cap))
        }
        fn ranked(&mut self, among: bool, limit: i64, offset: i64) -> Result<Vec<i64>, ()> {
            self.calls.push(format!("ranked {among} {limit} {offset}"));
            let sees = self.sees;
            Ok((1..=200)
                .filter(|id| !among || sees(*id))
                .skip(usize::try_from(offset).expect("small"))
                .take(usize::try_from(limit).expect("small"))
                .collect())
        }
        fn visible(&mut self, ids: &[i64]) -> Result<Vec<i64>, ()> {
            self.calls.push(format!("visible {}", ids.len()));
            Ok(ids.iter().copied().filter(|id| (self.sees)(*id)).collect())
        }
    }

    fn scope(is_everyone: bool, includes_people_without_roles: bool) -> PeopleScope {
        PeopleScope {
            is_everyone,
            person_id: crate::id::PersonId(1),
            includes_contact_data_visible: false,
            includes_people_without_roles,
            areas: Vec::new(),
            visible_from_above: Vec::new(),
        }
    }

    #[test]
    fn root_gets_the_best_matches_in_one_query() {
        let mut f = Fake {
            sees: |_| false,
            candidates: 0,
            calls: Vec::new(),
        };
        let ids = ranked_visible_ids(&mut f, &scope(true, false), 3, NARROW_CAP).expect("ids");
        assert_eq!(ids, [1, 2, 3]);
        assert_eq!(f.calls, ["ranked false 3 0"]);
    }

    #[test]
    fn few_candidates_are_searched_among_themselves() {
        let mut f = Fake {
            sees: |id| id % 7 == 0,
            candidates: 30,
            calls: Vec::new(),
        };
        let ids = ranked_visible_ids(&mut f, &scope(false, false), 3, NARROW_CAP).expect("ids");
        assert_eq!(ids, [7, 14, 21]);
        assert_eq!(f.calls, ["count", "ranked true 3 0"]);
    }

    #[test]
    fn many_candidates_are_checked_batch_by_batch_until_enough_are_seen() {
        let mut f = Fake {
            sees: |id| id % 50 == 0,
            candidates: 1_000_000,
            calls: Vec::new(),
        };
        let ids = ranked_visible_ids(&mut f, &scope(false, false), 3, NARROW_CAP).expect("ids");
        assert_eq!(ids, [50, 100, 150]);
        assert_eq!(
            f.calls,
            [
                "count",
                "ranked false 40 0",
                "visible 40",
                "ranked false 80 40",
                "visible 80",
                "ranked false 160 120",
                "visible 80",
            ]
        );

        let mut f = Fake {
            sees: |id| id % 50 == 0,
            candidates: 1_000_000,
            calls: Vec::new(),
        };
        let ids = ranked_visible_ids(&mut f, &scope(false, false), 10, NARROW_CAP).expect("ids");
        assert_eq!(
            ids,
            [50, 100, 150, 200],
            "all there are, after the last batch"
        );
    }

    #[test]
    fn viewers_of_people_without_roles_never_start_from_candidates() {
        let mut f = Fake {
            sees: |id| id > 190,
            candidates: 0,
            calls: Vec::new(),
        };
        let ids = ranked_visible_ids(&mut f, &scope(false, true), 2, NARROW_CAP).expect("ids");
        assert_eq!(ids, [191, 192]);
        assert!(!f.calls.contains(&"count".to_owned()), "{:?}", f.calls);
    }

    #[test]
    fn hits_keep_the_order_of_their_ids() {
        let items = vec![(3, 'c'), (1, 'a'), (2, 'b')];
        assert_eq!(
            in_order(&[2, 3, 9, 1], items, |i| i.0),
            [(2, 'b'), (3, 'c'), (1, 'a')]
        );
    }

    #[test]
    fn limits_stay_between_one_and_a_hundred() {
        assert_eq!(hit_limit(0), 1);
        assert_eq!(hit_limit(10), 10);
        assert_eq!(hit_limit(u32::MAX), 100);
    }
}
