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
use crate::person::Person;
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

/// The tiers of the ranking, best first: the name fields are the words;
/// they start with the words; only other fields do.
pub(crate) const TIERS: [Tier; 3] = [Tier::ExactName, Tier::NamePrefix, Tier::OtherField];

/// How well a person matches a search (see [`TIERS`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Tier {
    ExactName,
    NamePrefix,
    OtherField,
}

/// One person found: how well they match, and their id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Hit {
    pub(crate) tier: Tier,
    pub(crate) id: i64,
}

/// The FTS5 query of each tier, each leaving out the people of the
/// better tiers, so that every match is in exactly one.
pub(crate) fn fts5_tiers(terms: &[Term], names: &[&str]) -> [String; 3] {
    let all = fts5_query(terms, Fields::All, names, Match::Prefix);
    let prefix = fts5_query(terms, Fields::Names, names, Match::Prefix);
    let exact = fts5_query(terms, Fields::Names, names, Match::Exact);
    [
        exact.clone(),
        format!("({prefix}) NOT ({exact})"),
        format!("({all}) NOT ({prefix})"),
    ]
}

/// The `tsquery` text of each tier, as [`fts5_tiers`].
pub(crate) fn tsquery_tiers(terms: &[Term]) -> [String; 3] {
    let all = tsquery(terms, Fields::All, Match::Prefix);
    let prefix = tsquery(terms, Fields::Names, Match::Prefix);
    let exact = tsquery(terms, Fields::Names, Match::Exact);
    [
        exact.clone(),
        format!("({prefix}) & !({exact})"),
        format!("({all}) & !({prefix})"),
    ]
}

/// What a store runs to find the people of a search, whose order and
/// visibility [`ranked_visible_ids`] puts together.
///
/// Within a tier, people come in the order of their ids: the full-text
/// indexes of both databases hand out matches in that order without
/// reading all of them, so a search stays quick however many people match
/// a short prefix ("ma" matches a quarter of a federation).
pub(crate) trait PeopleSearch {
    type Error;
    /// The number of rows of the viewer's candidates (the people they see
    /// through their roles, the viewer and the contact-data people), with
    /// repetitions, counting no further than `cap`.
    fn candidate_count(&mut self, cap: i64) -> Result<i64, Self::Error>;
    /// The ids above `after` of the people of `tier`, lowest first, at most
    /// `limit`; only those among the candidates with `among_candidates`.
    fn ranked(
        &mut self,
        among_candidates: bool,
        tier: Tier,
        limit: i64,
        after: i64,
    ) -> Result<Vec<i64>, Self::Error>;
    /// Those of `ids` the viewer may see, in any order.
    fn visible(&mut self, ids: &[i64]) -> Result<Vec<i64>, Self::Error>;
}

/// The first `limit` matches the viewer may see, best tier first; the
/// stores pass [`NARROW_CAP`] as `narrow_cap`.
///
/// Which way is quicker depends on how many people the viewer sees. Root
/// sees everyone: the first matches are the answer. A club leader sees a
/// few thousand of half a million: the matches are filtered by those
/// people as the index hands them out. A federation administrator sees
/// nearly everyone: the matches are checked in batches until enough are
/// visible, which is usually the first batch. Either way the hits are the
/// same.
pub(crate) fn ranked_visible_ids<S: PeopleSearch>(
    search: &mut S,
    scope: &PeopleScope,
    limit: i64,
    narrow_cap: i64,
) -> Result<Vec<Hit>, S::Error> {
    // People without roles are no candidates; the viewers who see them
    // (administrators) see nearly everyone anyway.
    let is_narrow = !scope.is_everyone
        && !scope.includes_people_without_roles
        && search.candidate_count(narrow_cap)? < narrow_cap;
    let wanted = usize::try_from(limit).unwrap_or(0);
    let mut found = Vec::new();
    for tier in TIERS {
        let room = wanted.saturating_sub(found.len());
        if room == 0 {
            break;
        }
        let room = i64::try_from(room).unwrap_or(i64::MAX);
        let ids = if scope.is_everyone || is_narrow {
            search.ranked(is_narrow, tier, room, 0)?
        } else {
            visible_in_batches(search, tier, room)?
        };
        found.extend(ids.into_iter().map(|id| Hit { tier, id }));
    }
    Ok(found)
}

/// The first `limit` people of `tier` the viewer may see, checking the
/// matches in batches that double, so that a viewer who sees few of many
/// matches costs a handful of rounds rather than one per batch.
fn visible_in_batches<S: PeopleSearch>(
    search: &mut S,
    tier: Tier,
    limit: i64,
) -> Result<Vec<i64>, S::Error> {
    let wanted = usize::try_from(limit).unwrap_or(0);
    let mut batch = (limit * 4).clamp(40, 400);
    let mut found = Vec::new();
    let mut after = 0;
    loop {
        let ranked = search.ranked(false, tier, batch, after)?;
        let visible: std::collections::HashSet<i64> =
            search.visible(&ranked)?.into_iter().collect();
        let room = wanted.saturating_sub(found.len());
        found.extend(ranked.iter().filter(|id| visible.contains(id)).take(room));
        match ranked.last() {
            Some(last)
                if found.len() < wanted && i64::try_from(ranked.len()).unwrap_or(0) == batch =>
            {
                after = *last;
                batch = (batch * 2).min(MAX_BATCH);
            }
            _ => return Ok(found),
        }
    }
}

/// The people of `hits` by tier, and by name within each tier (last name,
/// first name, nickname, case ignored, then id); each once.
pub(crate) fn in_ranking(hits: &[Hit], people: Vec<Person>) -> Vec<Person> {
    let tiers: std::collections::HashMap<i64, Tier> = hits.iter().map(|h| (h.id, h.tier)).collect();
    let key = |p: &Person| {
        let lower = |v: &Option<String>| v.as_deref().unwrap_or("").to_lowercase();
        (
            tiers.get(&p.id.0).copied(),
            lower(&p.last_name),
            lower(&p.first_name),
            lower(&p.nickname),
            p.id,
        )
    };
    let mut people: Vec<(_, Person)> = people
        .into_iter()
        .filter(|p| tiers.contains_key(&p.id.0))
        .map(|p| (key(&p), p))
        .collect();
    people.sort_by(|a, b| a.0.cmp(&b.0));
    people.dedup_by(|a, b| a.1.id == b.1.id);
    people.into_iter().map(|(_, p)| p).collect()
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

    /// People 1 to 200: 1 to 5 match exactly, 6 to 20 by name prefix, the
    /// rest by other fields. The viewer sees those `sees` admits, and has
    /// `candidates` candidate rows. Records which calls ran.
    struct Fake {
        sees: fn(i64) -> bool,
        candidates: i64,
        calls: Vec<String>,
    }

    fn tier_of(id: i64) -> Tier {
        match id {
            ..=5 => Tier::ExactName,
            6..=20 => Tier::NamePrefix,
            _ => Tier::OtherField,
        }
    }

    impl PeopleSearch for Fake {
        type Error = ();
        fn candidate_count(&mut self, cap: i64) -> Result<i64, ()> {
            self.calls.push("count".into());
            Ok(self.candidates.min(cap))
        }
        fn ranked(
            &mut self,
            among: bool,
            tier: Tier,
            limit: i64,
            after: i64,
        ) -> Result<Vec<i64>, ()> {
            self.calls
                .push(format!("ranked {among} {tier:?} {limit} {after}"));
            let sees = self.sees;
            Ok((1..=200)
                .filter(|id| tier_of(*id) == tier && *id > after && (!among || sees(*id)))
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

    fn ids(hits: &[Hit]) -> Vec<i64> {
        hits.iter().map(|h| h.id).collect()
    }

    #[test]
    fn root_gets_the_first_matches_of_the_best_tiers() {
        let mut f = Fake {
            sees: |_| false,
            candidates: 0,
            calls: Vec::new(),
        };
        let hits = ranked_visible_ids(&mut f, &scope(true, false), 3, NARROW_CAP).expect("ids");
        assert_eq!(ids(&hits), [1, 2, 3]);
        assert_eq!(f.calls, ["ranked false ExactName 3 0"]);

        f.calls.clear();
        let hits = ranked_visible_ids(&mut f, &scope(true, false), 8, NARROW_CAP).expect("ids");
        assert_eq!(ids(&hits), [1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(hits[5].tier, Tier::NamePrefix);
        assert_eq!(
            f.calls,
            ["ranked false ExactName 8 0", "ranked false NamePrefix 3 0"]
        );
    }

    #[test]
    fn few_candidates_are_searched_among_themselves() {
        let mut f = Fake {
            sees: |id| id % 7 == 0,
            candidates: 30,
            calls: Vec::new(),
        };
        let hits = ranked_visible_ids(&mut f, &scope(false, false), 3, NARROW_CAP).expect("ids");
        assert_eq!(ids(&hits), [7, 14, 21]);
        assert_eq!(
            f.calls,
            [
                "count",
                "ranked true ExactName 3 0",
                "ranked true NamePrefix 3 0",
                "ranked true OtherField 1 0",
            ]
        );
    }

    #[test]
    fn many_candidates_are_checked_batch_by_batch_until_enough_are_seen() {
        let mut f = Fake {
            sees: |id| id % 50 == 0,
            candidates: 1_000_000,
            calls: Vec::new(),
        };
        let hits = ranked_visible_ids(&mut f, &scope(false, false), 3, NARROW_CAP).expect("ids");
        assert_eq!(ids(&hits), [50, 100, 150]);
        assert_eq!(
            f.calls,
            [
                "count",
                "ranked false ExactName 40 0",
                "visible 5",
                "ranked false NamePrefix 40 0",
                "visible 15",
                "ranked false OtherField 40 0",
                "visible 40",
                "ranked false OtherField 80 60",
                "visible 80",
                "ranked false OtherField 160 140",
                "visible 60",
            ]
        );

        let mut f = Fake {
            sees: |id| id % 50 == 0,
            candidates: 1_000_000,
            calls: Vec::new(),
        };
        let hits = ranked_visible_ids(&mut f, &scope(false, false), 10, NARROW_CAP).expect("ids");
        assert_eq!(
            ids(&hits),
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
        let hits = ranked_visible_ids(&mut f, &scope(false, true), 2, NARROW_CAP).expect("ids");
        assert_eq!(ids(&hits), [191, 192]);
        assert!(!f.calls.contains(&"count".to_owned()), "{:?}", f.calls);
    }

    #[test]
    fn hits_are_shown_by_tier_then_by_name() {
        let person = |id: i64, first: &str, last: &str| Person {
            first_name: Some(first.to_owned()),
            last_name: Some(last.to_owned()),
            id: crate::id::PersonId(id),
            nickname: None,
            company_name: None,
            is_company: false,
            email: None,
            address: crate::group::Address::default(),
            gender: None,
            birthday: None,
            language: "de".to_owned(),
            additional_information: None,
            primary_group_id: None,
            contact_data_visible: false,
            created_at: chrono::DateTime::UNIX_EPOCH,
            updated_at: chrono::DateTime::UNIX_EPOCH,
        };
        let hits = [
            Hit {
                tier: Tier::NamePrefix,
                id: 1,
            },
            Hit {
                tier: Tier::ExactName,
                id: 2,
            },
            Hit {
                tier: Tier::NamePrefix,
                id: 3,
            },
            Hit {
                tier: Tier::NamePrefix,
                id: 4,
            },
        ];
        let people = vec![
            person(1, "Anna", "Zürcher"),
            person(2, "Ann", "Zwahlen"),
            person(3, "beat", "annen"),
            person(4, "Annika", "Abderhalden"),
            person(9, "Not", "Found"),
        ];
        let names: Vec<String> = in_ranking(&hits, people)
            .iter()
            .map(Person::display_name)
            .collect();
        assert_eq!(
            names,
            [
                "Ann Zwahlen",
                "Annika Abderhalden",
                "beat annen",
                "Anna Zürcher"
            ]
        );
    }

    #[test]
    fn limits_stay_between_one_and_a_hundred() {
        assert_eq!(hit_limit(0), 1);
        assert_eq!(hit_limit(10), 10);
        assert_eq!(hit_limit(u32::MAX), 100);
    }
}
