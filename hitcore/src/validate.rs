//! Field validation shared by the domain types: the list of violations a
//! form shows, and small checks used by several aggregates.
//!
//! Nothing here knows about a particular form; each aggregate decides which
//! checks its fields need.

use serde::Serialize;

/// One invalid field and the message key that explains why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Violation {
    /// The form field, e.g. `email`.
    pub field: String,
    /// A translation key such as `errors.required`.
    pub message: String,
}

/// The violations found in one form submission; empty means valid.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("invalid input: {}", self.0.iter().map(|v| format!("{} {}", v.field, v.message)).collect::<Vec<_>>().join(", "))]
pub struct Violations(pub Vec<Violation>);

impl Violations {
    /// Records that `field` is invalid for the reason `message` (a key).
    pub fn add(&mut self, field: &str, message: &str) {
        self.0.push(Violation {
            field: field.to_owned(),
            message: message.to_owned(),
        });
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The message key recorded for `field`, if any.
    pub fn for_field(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|v| v.field == field)
            .map(|v| v.message.as_str())
    }

    /// `Ok(value)` when nothing was recorded, else the violations.
    pub fn into_result<T>(self, value: T) -> Result<T, Violations> {
        if self.is_empty() {
            Ok(value)
        } else {
            Err(self)
        }
    }
}

/// Trims a free-text value and turns a blank one into `None`.
pub fn clean(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// Checks a single-line field: no line breaks or other control characters
/// (a line break would become a header line in mail, see shared case 18)
/// and at most `max` characters.
pub fn single_line(v: &mut Violations, field: &str, value: &Option<String>, max: usize) {
    if let Some(s) = value {
        if s.chars().any(char::is_control) {
            v.add(field, "errors.single_line");
        } else if s.chars().count() > max {
            v.add(field, "errors.too_long");
        }
    }
}

/// Normalises an email address (trimmed, lower case, blank = none) and
/// records a violation unless it has the `local@domain` shape hitobito
/// accepts (`^[^@\s]+@[^@\s]+$`) and at most 255 characters.
pub fn email(v: &mut Violations, field: &str, value: Option<String>) -> Option<String> {
    let email = clean(value).map(|e| e.to_lowercase())?;
    let mut parts = email.split('@');
    let valid = matches!((parts.next(), parts.next(), parts.next()), (Some(l), Some(d), None)
        if !l.is_empty() && !d.is_empty())
        && !email.chars().any(char::is_whitespace)
        && email.chars().count() <= 255;
    if !valid {
        v.add(field, "errors.invalid_email");
    }
    Some(email)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_is_lowercased_and_checked() {
        let mut v = Violations::default();
        assert_eq!(
            email(&mut v, "email", Some(" Ann@Example.ORG ".into())).as_deref(),
            Some("ann@example.org")
        );
        assert!(v.is_empty());
        email(&mut v, "email", Some("a b@c".into()));
        email(&mut v, "email", Some("a@b@c".into()));
        email(&mut v, "email", Some("nodomain@".into()));
        assert_eq!(v.0.len(), 3);
    }

    #[test]
    fn email_length_limit_counts_characters_not_bytes() {
        let mut v = Violations::default();
        // 255 characters, 505 bytes: within the documented limit.
        let long = format!("{}@b.ch", "ä".repeat(250));
        assert_eq!(long.chars().count(), 255);
        email(&mut v, "email", Some(long));
        assert!(v.is_empty(), "{v}");
        email(&mut v, "email", Some(format!("{}@b.ch", "a".repeat(251))));
        assert_eq!(v.for_field("email"), Some("errors.invalid_email"));
    }

    #[test]
    fn blank_email_is_none() {
        let mut v = Violations::default();
        assert_eq!(email(&mut v, "email", Some("   ".into())), None);
        assert!(v.is_empty());
    }

    #[test]
    fn line_breaks_are_refused_in_single_line_fields() {
        let mut v = Violations::default();
        single_line(
            &mut v,
            "first_name",
            &Some("Reto\nX-Injected: yes".into()),
            255,
        );
        assert_eq!(v.for_field("first_name"), Some("errors.single_line"));
        let mut v = Violations::default();
        single_line(&mut v, "last_name", &Some("Null\u{0}byte".into()), 255);
        single_line(&mut v, "nickname", &Some("Tab\there".into()), 255);
        assert_eq!(v.0.len(), 2, "control characters are refused: {v:?}");
    }
}
