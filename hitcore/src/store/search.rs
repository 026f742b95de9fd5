//! What the SQL stores share for the full-text search: the search text cut
//! into terms, and the query strings of SQLite's FTS5 and PostgreSQL's
//! `tsquery` built from them.
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
/// [`crate::store::SEARCH_MIN_CHARS`] characters, so that a search for "a" does not
/// run at all.
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
const NARROW_CAP: i64 = 10_000;

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

/// The ids of the best `limit` matches the viewer may see, best first.
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
) -> Result<Vec<i64>, S::Error> {
    if scope.is_everyone {
        return search.ranked(false, limit, 0);
    }
    // People without roles are no candidates; the viewers who see them
    // (administrators) see nearly everyone anyway.
    if !scope.includes_people_without_roles && search.candidate_count(NARROW_CAP)? < NARROW_CAP {
        return search.ranked(true, limit, 0);
    }
    let batch = (limit * 4).clamp(40, 400);
    let mut found = Vec::new();
    let mut offset = 0;
    loop {
        let ranked = search.ranked(false, batch, offset)?;
        let visible: std::collections::HashSet<i64> =
            search.visible(&ranked)?.into_iter().collect();
        let room = usize::try_from(limit).unwrap_or(0).saturating_sub(found.len());
        found.extend(ranked.iter().filter(|id| visible.contains(id)).take(room));
        if found.len() >= usize::try_from(limit).unwrap_or(0)
            || i64::try_from(ranked.len()).unwrap_or(0) < batch
        {
            return Ok(found);
        }
        offset += batch;
    }
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

    #[test]
    fn limits_stay_between_one_and_a_hundred() {
        assert_eq!(hit_limit(0), 1);
        assert_eq!(hit_limit(10), 10);
        assert_eq!(hit_limit(u32::MAX), 100);
    }
}
