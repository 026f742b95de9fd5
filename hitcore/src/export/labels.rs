//! The words an export prints in the requester's language: column headers
//! and the few translated values (yes/no, gender, language names).
//!
//! A small table rather than the web tier's i18n files, so that hitcore
//! stays free of it. English and German are filled in; any other language
//! falls back to English, as [`crate::org::Labels::get`] does.

/// One text in the two languages.
struct Text {
    key: &'static str,
    en: &'static str,
    de: &'static str,
}

const fn t(key: &'static str, en: &'static str, de: &'static str) -> Text {
    Text { key, en, de }
}

const TEXTS: &[Text] = &[
    t("first_name", "First name", "Vorname"),
    t("last_name", "Last name", "Nachname"),
    t("nickname", "Nickname", "Übername"),
    t("company_name", "Company name", "Firmenname"),
    t("company", "Company", "Firma"),
    t("email", "Main email", "Haupt-E-Mail"),
    t("address_care_of", "c/o", "c/o"),
    t("street", "Street", "Strasse"),
    t("housenumber", "House number", "Hausnummer"),
    t("postbox", "Post box", "Postfach"),
    t("zip_code", "Postcode", "PLZ"),
    t("town", "Town", "Ort"),
    t("country", "Country", "Land"),
    t("layer_group", "Main layer", "Hauptebene"),
    t("roles", "Roles", "Rollen"),
    t("additional_email", "Email", "E-Mail"),
    t("phone_number", "Phone", "Telefon"),
    t(
        "other_labels",
        "Other contact details",
        "Weitere Kontaktangaben",
    ),
    t("gender", "Gender", "Geschlecht"),
    t("birthday", "Birthday", "Geburtstag"),
    t(
        "additional_information",
        "Additional information",
        "Zusätzliche Angaben",
    ),
    t("language", "Language", "Sprache"),
    t("yes", "yes", "ja"),
    t("no", "no", "nein"),
    t("gender_m", "male", "männlich"),
    t("gender_w", "female", "weiblich"),
    t("language_en", "English", "Englisch"),
    t("language_de", "German", "Deutsch"),
    t("sheet", "People", "Personen"),
    t("event_roles", "Event roles", "Rollen im Anlass"),
    t("participation_information", "Remarks", "Bemerkungen"),
    t("registered_on", "Registered on", "Angemeldet am"),
    t("event_role_leader", "Leader", "Hauptleitung"),
    t("event_role_assistant_leader", "Assistant leader", "Leitung"),
    t("event_role_cook", "Cook", "Küche"),
    t("event_role_helper", "Helper", "Helfer/-in"),
    t("event_role_treasurer", "Treasurer", "Kassier/-in"),
    t("event_role_speaker", "Speaker", "Referent/-in"),
    t("event_role_participant", "Participant", "Teilnehmer/-in"),
];

/// The text for `key` in `lang` (English for other languages); `None`
/// for a key the table lacks.
pub(super) fn lookup(lang: &str, key: &str) -> Option<&'static str> {
    let text = TEXTS.iter().find(|t| t.key == key)?;
    Some(if lang == "de" { text.de } else { text.en })
}

/// The text for a key this module is known to hold.
pub(super) fn text(lang: &str, key: &str) -> &'static str {
    lookup(lang, key).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_unique_and_filled_in() {
        for (i, a) in TEXTS.iter().enumerate() {
            assert!(!a.en.is_empty() && !a.de.is_empty(), "{}", a.key);
            assert!(TEXTS[i + 1..].iter().all(|b| b.key != a.key), "{}", a.key);
        }
    }

    #[test]
    fn other_languages_fall_back_to_english() {
        assert_eq!(text("de", "town"), "Ort");
        assert_eq!(text("fr", "town"), "Town");
        assert_eq!(lookup("en", "no such key"), None);
    }
}
