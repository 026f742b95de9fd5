//! [`StorageKey`]: the name of one file in the storage, checked once.

use std::fmt;

use super::StorageError;

/// The longest key accepted, in bytes.
pub const MAX_KEY_BYTES: usize = 512;

/// The relative path of a file in the storage, such as
/// `exports/42/people.csv` or `pictures/7/k3x9/thumb.jpg`.
///
/// Keys are made by our code, never taken from a request, and the rules
/// are strict so that no key can leave the storage's folder or prefix,
/// whatever the backend: one to [`MAX_KEY_BYTES`] bytes of ASCII letters,
/// digits, `-`, `_` and `.`, in parts separated by single `/`; no part
/// empty or starting with `.` (which refuses `.`, `..` and hidden files,
/// and keeps `.incoming`, where the folder backend assembles files, ours);
/// no leading or trailing `/`, so no absolute path and no folder.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StorageKey(String);

impl StorageKey {
    /// Checks `key` against the rules above.
    ///
    /// # Errors
    /// [`StorageError::RefusedKey`] naming the rule the key breaks.
    pub fn new(key: impl Into<String>) -> Result<StorageKey, StorageError> {
        let key = key.into();
        match refusal(&key) {
            None => Ok(StorageKey(key)),
            Some(reason) => Err(StorageError::RefusedKey {
                key: key.escape_debug().to_string(),
                reason,
            }),
        }
    }

    /// The key as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// This key with `/` and `part` appended, e.g. `exports/42` joined
    /// with `people.csv`.
    ///
    /// # Errors
    /// As for [`StorageKey::new`], for the joined key.
    pub fn join(&self, part: &str) -> Result<StorageKey, StorageError> {
        StorageKey::new(format!("{}/{part}", self.0))
    }
}

/// Why `key` is refused, or `None` when it is fine.
fn refusal(key: &str) -> Option<&'static str> {
    if key.is_empty() {
        return Some("a key cannot be empty");
    }
    if key.len() > MAX_KEY_BYTES {
        return Some("a key has at most 512 bytes");
    }
    if key.contains('\0') {
        return Some("a key cannot contain NUL");
    }
    if key.starts_with('/') || key.starts_with('\\') {
        return Some("a key is relative, not an absolute path");
    }
    let is_allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/');
    if !key.chars().all(is_allowed) {
        return Some("a key has only ASCII letters, digits, '-', '_', '.' and '/'");
    }
    for part in key.split('/') {
        if part.is_empty() {
            return Some("a key has no empty parts (no '//', no '/' at the end)");
        }
        if part == ".." {
            return Some("a key cannot contain '..'");
        }
        if part.starts_with('.') {
            return Some("no part of a key starts with '.'");
        }
    }
    None
}

impl fmt::Display for StorageKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for StorageKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StorageKey({:?})", self.0)
    }
}

impl AsRef<str> for StorageKey {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_our_code_makes_are_accepted() {
        for key in [
            "exports/42/people.csv",
            "pictures/7/k3x9/thumb.jpg",
            "a",
            "export-2025_03.people.xlsx",
        ] {
            assert_eq!(StorageKey::new(key).expect(key).as_str(), key);
        }
    }

    #[test]
    fn keys_that_could_leave_the_storage_are_refused() {
        for (key, reason) in [
            ("", "empty"),
            ("../etc/passwd", "'..'"),
            ("exports/../../x", "'..'"),
            ("..", "'..'"),
            ("/etc/passwd", "absolute"),
            ("\\windows", "absolute"),
            ("a\0b", "NUL"),
            ("a//b", "empty parts"),
            ("a/", "empty parts"),
            ("./a", "starts with '.'"),
            (".incoming/x", "starts with '.'"),
            ("a\\..\\b", "ASCII"),
            ("C:/x", "ASCII"),
            ("ümlaut", "ASCII"),
            ("a b", "ASCII"),
            ("a\nb", "ASCII"),
        ] {
            let err = StorageKey::new(key).expect_err(key);
            assert!(
                matches!(&err, StorageError::RefusedKey { reason: r, .. } if r.contains(reason)),
                "{key:?}: {err}"
            );
        }
        let long = "a".repeat(MAX_KEY_BYTES + 1);
        assert!(StorageKey::new(long).is_err());
    }

    #[test]
    fn refused_keys_are_shown_escaped() {
        let err = StorageKey::new("a\0b\n").expect_err("NUL");
        assert!(err.to_string().contains(r"a\0b\n"), "{err}");
    }

    #[test]
    fn joined_keys_are_checked_again() {
        let base = StorageKey::new("exports/42").expect("valid");
        assert_eq!(
            base.join("people.csv").expect("valid").as_str(),
            "exports/42/people.csv"
        );
        assert!(base.join("../x").is_err());
        assert!(base.join("").is_err());
    }
}
