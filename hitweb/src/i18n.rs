//! Translations: which language a request is served in, and the lookup of
//! user-facing texts in the catalogs under `hitweb/locales/`.
//!
//! Texts are looked up by key (`groups.people`); group and role type labels
//! come from the organisation definition instead, not from here.

use std::borrow::Cow;

/// The languages the catalogs cover; the first is the fallback.
pub const LANGUAGES: [&str; 2] = ["en", "de"];

/// The language for a signed-in person: theirs if we have a catalog for it.
pub fn for_person(language: &str) -> Option<&'static str> {
    LANGUAGES.iter().copied().find(|l| *l == language)
}

/// The language for an anonymous visitor: the one they chose with the
/// language switcher (`chosen`, from its cookie) if we have a catalog for
/// it, else the best match of `Accept-Language`, else `default` (the
/// organisation's default) if supported, else English.
pub fn for_visitor(
    chosen: Option<&str>,
    accept_language: Option<&str>,
    default: &str,
) -> &'static str {
    chosen
        .and_then(for_person)
        .or_else(|| {
            accept_language
                .and_then(|header| {
                    accept_language::intersection(header, &LANGUAGES)
                        .into_iter()
                        .next()
                })
                .and_then(|l| for_person(&l))
        })
        .or_else(|| for_person(default))
        .unwrap_or(LANGUAGES[0])
}

/// The text for `key` in `lang`, English when the language lacks it, and
/// the key itself when no catalog has it (so a missing text shows up).
pub fn text(lang: &str, key: &str) -> String {
    crate::_rust_i18n_try_translate(lang, key)
        .or_else(|| crate::_rust_i18n_try_translate(LANGUAGES[0], key))
        .map_or_else(|| key.to_owned(), Cow::into_owned)
}

/// Whether the catalog of `lang` has `key` (used by the catalog tests).
pub fn has(lang: &str, key: &str) -> bool {
    crate::_rust_i18n_try_translate(lang, key).is_some()
}

/// The text for `key` with `%{name}` placeholders replaced by `args`.
pub fn text_with(lang: &str, key: &str, args: &[(&str, String)]) -> String {
    let mut out = text(lang, key);
    for (name, value) in args {
        out = out.replace(&format!("%{{{name}}}"), value);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn visitor_language_follows_accept_language() {
        assert_eq!(
            for_visitor(None, Some("de-CH,de;q=0.9,en;q=0.5"), "en"),
            "de"
        );
        assert_eq!(for_visitor(None, Some("fr"), "de"), "de");
        assert_eq!(for_visitor(None, None, "it"), "en");
    }

    #[test]
    fn visitor_choice_wins_over_accept_language() {
        assert_eq!(for_visitor(Some("de"), Some("en"), "en"), "de");
        assert_eq!(for_visitor(Some("en"), Some("de"), "de"), "en");
        // A choice we have no catalog for falls back to the header.
        assert_eq!(for_visitor(Some("xx"), Some("de"), "en"), "de");
    }

    #[test]
    fn missing_key_shows_the_key() {
        assert_eq!(text("de", "no.such.key"), "no.such.key");
    }

    #[test]
    fn placeholders_are_filled() {
        let s = text_with(
            "en",
            "pagination.page_of",
            &[("page", "2".into()), ("pages", "3".into())],
        );
        assert_eq!(s, "Page 2 of 3");
    }
}
