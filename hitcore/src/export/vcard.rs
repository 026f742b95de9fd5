//! vCard 3.0 ([RFC 2426](https://www.rfc-editor.org/rfc/rfc2426)), one
//! card per person, written here rather than through a crate.
//!
//! The vCard crates of crates.io (`vcard4`, `vcard`) write and read 4.0
//! only; 3.0 is what hitobito exports and what address books, Outlook
//! among them, import most reliably, and the little it needs (escaping,
//! parameter quoting, folding) is below. The tests read the output back
//! with the `ical` crate's parser.
//!
//! Which data a card holds follows section 9.1 of the domain notes: names,
//! address, the main email as preferred, public additional emails and
//! phone numbers with their label as type, and the birthday only for the
//! full column set. Non-public contact accounts are never written, even
//! for the full set: cards travel to phones and shared address books.

use super::{ColumnSet, ExportPerson};

/// Octets per physical line, line break excluded (RFC 2425, 5.8.1).
const LINE_OCTETS: usize = 75;

/// One person's card, lines folded and ended with CRLF.
pub(super) fn card(p: &ExportPerson<'_>, set: ColumnSet) -> String {
    let person = p.person;
    let text = |v: &Option<String>| v.as_deref().map(escape).unwrap_or_default();
    let mut lines = vec![
        "BEGIN:VCARD".to_owned(),
        "VERSION:3.0".to_owned(),
        format!(
            "N:{};{};;;",
            text(&person.last_name),
            text(&person.first_name)
        ),
        format!("FN:{}", escape(&formatted_name(p))),
    ];
    if let Some(nick) = &person.nickname {
        lines.push(format!("NICKNAME:{}", escape(nick)));
    }
    if let Some(company) = &person.company_name {
        lines.push(format!("ORG:{}", escape(company)));
    }
    if let (ColumnSet::Full, Some(birthday)) = (set, person.birthday) {
        lines.push(format!("BDAY:{}", birthday.format("%Y-%m-%d")));
    }
    if let Some(adr) = address(p) {
        lines.push(adr);
    }
    if let Some(email) = &person.email {
        lines.push(format!("EMAIL;TYPE=internet,pref:{}", escape(email)));
    }
    for e in p.additional_emails.iter().filter(|e| e.is_public) {
        lines.push(format!(
            "EMAIL{}:{}",
            type_param(&e.label),
            escape(&e.email)
        ));
    }
    for n in p.phone_numbers.iter().filter(|n| n.is_public) {
        lines.push(format!("TEL{}:{}", type_param(&n.label), escape(&n.number)));
    }
    lines.push("END:VCARD".to_owned());
    lines.iter().map(|l| fold(l)).collect()
}

/// FN must not be empty where a reader can help it: the display name, else
/// the email.
fn formatted_name(p: &ExportPerson<'_>) -> String {
    let name = p.person.display_name();
    if name.is_empty() {
        p.person.email.clone().unwrap_or_default()
    } else {
        name
    }
}

/// ADR: post office box; extended address (c/o); street and number; town;
/// region; postcode; country. None when the person has no address at all.
fn address(p: &ExportPerson<'_>) -> Option<String> {
    let a = &p.person.address;
    let parts = [
        a.postbox.clone(),
        a.address_care_of.clone(),
        a.street_line(),
        a.town.clone(),
        None,
        a.zip_code.clone(),
        a.country.clone(),
    ];
    if parts.iter().all(Option::is_none) {
        return None;
    }
    let values: Vec<String> = parts
        .iter()
        .map(|v| v.as_deref().map(escape).unwrap_or_default())
        .collect();
    Some(format!("ADR:{}", values.join(";")))
}

/// A text value escaped (RFC 2426, 4): backslash, comma and semicolon get a
/// backslash, every line break becomes `\n`.
fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ',' => out.push_str("\\,"),
            ';' => out.push_str("\\;"),
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push_str("\\n");
            }
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// `;TYPE=<label>` for a contact's label, or nothing for a blank one.
/// Parameter values cannot be escaped: control characters and double
/// quotes are dropped, and a label with `,`, `;` or `:` is quoted.
fn type_param(label: &str) -> String {
    let clean: String = label
        .trim()
        .chars()
        .filter(|c| !c.is_control() && *c != '"')
        .collect();
    if clean.is_empty() {
        String::new()
    } else if clean.contains([',', ';', ':']) {
        format!(";TYPE=\"{clean}\"")
    } else {
        format!(";TYPE={clean}")
    }
}

/// A content line folded into physical lines of at most 75 octets, each
/// continuation starting with a space, never inside a UTF-8 character;
/// every physical line ends with CRLF.
fn fold(line: &str) -> String {
    let mut out = String::with_capacity(line.len() + line.len() / LINE_OCTETS * 3 + 2);
    let mut used = 0;
    for c in line.chars() {
        if used + c.len_utf8() > LINE_OCTETS {
            out.push_str("\r\n ");
            used = 1;
        }
        out.push(c);
        used += c.len_utf8();
    }
    out.push_str("\r\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_values_are_escaped() {
        assert_eq!(escape(r"a\b"), r"a\\b");
        assert_eq!(escape("Müller, Anna; Dr."), r"Müller\, Anna\; Dr.");
        assert_eq!(escape("one\r\ntwo\nthree\rfour"), r"one\ntwo\nthree\nfour");
        assert_eq!(escape("plain"), "plain");
    }

    #[test]
    fn labels_become_type_parameters() {
        assert_eq!(type_param("Mobil"), ";TYPE=Mobil");
        assert_eq!(type_param(" Büro 2 "), ";TYPE=Büro 2");
        assert_eq!(type_param("Home, work"), ";TYPE=\"Home, work\"");
        assert_eq!(type_param("say \"hi\"\n"), ";TYPE=say hi");
        assert_eq!(type_param("  "), "");
    }

    #[test]
    fn short_lines_are_not_folded() {
        assert_eq!(fold("FN:Anna"), "FN:Anna\r\n");
        let exact = format!("NOTE:{}", "x".repeat(LINE_OCTETS - 5));
        assert_eq!(fold(&exact), format!("{exact}\r\n"));
    }

    #[test]
    fn long_lines_fold_at_75_octets_without_splitting_characters() {
        let line = format!("NOTE:{}", "ä".repeat(100));
        let folded = fold(&line);
        let physical: Vec<&str> = folded.split_terminator("\r\n").collect();
        assert!(physical.len() > 1);
        for (i, l) in physical.iter().enumerate() {
            assert!(l.len() <= LINE_OCTETS, "line {i} has {} octets", l.len());
            assert_eq!(i > 0, l.starts_with(' '), "line {i}");
        }
        // "NOTE:" and 35 two-octet umlauts fill 75 octets exactly.
        assert_eq!(physical[0].len(), 75);
        // Unfolding (dropping each CRLF and the space after it) gives the
        // line back.
        assert_eq!(folded.replace("\r\n ", "").trim_end(), line);
    }
}
