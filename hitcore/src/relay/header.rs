//! The raw header block of a message, read the way the relay needs it: the
//! fields with their exact bytes, where the body starts, and the small
//! codecs (RFC 2047 encoded words, display names) the rewriting uses.
//!
//! Parsing of structured values (addresses, MIME parts) is left to
//! `mail-parser`; this module only knows lines, names and words.

use mail_parser::decoders::{base64::base64_decode, charsets::map::charset_decoder};

/// One header field as received.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Field<'a> {
    /// The field name as written (printable ASCII, no colon).
    pub name: &'a str,
    /// The whole field, name to end of its last line, without the final
    /// line break; folded lines keep their inner line breaks.
    pub raw: &'a [u8],
    /// The bytes after the colon, still folded.
    pub value: &'a [u8],
}

impl Field<'_> {
    /// Whether the field has this name, compared without case.
    pub fn is(&self, name: &str) -> bool {
        self.name.eq_ignore_ascii_case(name)
    }

    /// The value unfolded, lossily decoded as UTF-8 and trimmed.
    pub fn text(&self) -> String {
        unfold(self.value)
    }
}

/// The header block of a message: its well-formed fields, in order, and
/// the offset where the body begins.
#[derive(Debug)]
pub(crate) struct HeaderBlock<'a> {
    pub fields: Vec<Field<'a>>,
    /// Index of the first body byte (after the empty line), or the length
    /// of the input when there is no empty line.
    pub body_offset: usize,
}

impl<'a> HeaderBlock<'a> {
    /// Splits `raw` into its fields and body.
    ///
    /// Lines may end in CRLF or a bare LF. A line that is not a field
    /// (no colon, an empty or invalid name such as the `From ` line of an
    /// mbox) is dropped together with its continuation lines, so nothing
    /// downstream ever sees a field without a name.
    pub fn split(raw: &'a [u8]) -> Self {
        let mut fields = Vec::new();
        let mut current: Option<(usize, usize, usize)> = None; // start, colon, end
        let mut pos = 0;
        while pos < raw.len() {
            let (content_end, next) = line_at(raw, pos);
            let line = &raw[pos..content_end];
            if line.is_empty() {
                push_field(raw, current.take(), &mut fields);
                return HeaderBlock {
                    fields,
                    body_offset: next,
                };
            }
            if line[0] == b' ' || line[0] == b'\t' {
                if let Some((_, _, end)) = current.as_mut() {
                    *end = content_end;
                }
            } else {
                push_field(raw, current.take(), &mut fields);
                current = field_start(line).map(|colon| (pos, pos + colon, content_end));
            }
            pos = next;
        }
        push_field(raw, current, &mut fields);
        HeaderBlock {
            fields,
            body_offset: raw.len(),
        }
    }

    /// The first field with this name.
    pub fn first(&self, name: &str) -> Option<&Field<'a>> {
        self.fields.iter().find(|f| f.is(name))
    }

    /// Every field with this name, in order.
    pub fn all<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'s Field<'a>> + 's {
        self.fields.iter().filter(move |f| f.is(name))
    }
}

/// The end of the line's content and the start of the next line.
fn line_at(raw: &[u8], pos: usize) -> (usize, usize) {
    match raw[pos..].iter().position(|&b| b == b'\n') {
        Some(i) => {
            let lf = pos + i;
            let end = if lf > pos && raw[lf - 1] == b'\r' {
                lf - 1
            } else {
                lf
            };
            (end, lf + 1)
        }
        None => (raw.len(), raw.len()),
    }
}

/// The colon's index when `line` starts a well-formed field.
fn field_start(line: &[u8]) -> Option<usize> {
    let colon = line.iter().position(|&b| b == b':')?;
    let name = trim_end_wsp(&line[..colon]);
    let is_valid = !name.is_empty() && name.iter().all(|&b| (33..=126).contains(&b));
    is_valid.then_some(colon)
}

fn push_field<'a>(raw: &'a [u8], span: Option<(usize, usize, usize)>, out: &mut Vec<Field<'a>>) {
    let Some((start, colon, end)) = span else {
        return;
    };
    let name_bytes = trim_end_wsp(&raw[start..colon]);
    // Only printable ASCII passed `field_start`, so this is valid UTF-8.
    let Ok(name) = std::str::from_utf8(name_bytes) else {
        return;
    };
    out.push(Field {
        name,
        raw: &raw[start..end],
        value: &raw[colon + 1..end],
    });
}

fn trim_end_wsp(bytes: &[u8]) -> &[u8] {
    let end = bytes
        .iter()
        .rposition(|&b| b != b' ' && b != b'\t')
        .map_or(0, |i| i + 1);
    &bytes[..end]
}

/// Writes `raw` (one field or a folded value) with every inner line break
/// as CRLF and every stray CR as a space, so a kept field can never end
/// early or smuggle in a line of its own.
pub(crate) fn push_crlf_normalised(out: &mut Vec<u8>, raw: &[u8]) {
    push_line_breaks_as_crlf(out, raw, b" ");
}

/// Writes `raw` with every CRLF and every bare LF as CRLF, and every bare
/// CR as `bare_cr`; the other bytes as they are.
pub(crate) fn push_line_breaks_as_crlf(out: &mut Vec<u8>, raw: &[u8], bare_cr: &[u8]) {
    let mut i = 0;
    while i < raw.len() {
        match raw[i] {
            b'\r' if raw.get(i + 1) == Some(&b'\n') => {
                out.extend_from_slice(b"\r\n");
                i += 1;
            }
            b'\r' => out.extend_from_slice(bare_cr),
            b'\n' => out.extend_from_slice(b"\r\n"),
            b => out.push(b),
        }
        i += 1;
    }
}

/// Unfolds a raw value (line breaks removed), decodes it lossily as UTF-8
/// and trims it.
pub(crate) fn unfold(value: &[u8]) -> String {
    let bytes: Vec<u8> = value
        .iter()
        .copied()
        .filter(|&b| b != b'\r' && b != b'\n')
        .collect();
    String::from_utf8_lossy(&bytes).trim().to_owned()
}

/// Replaces control characters (CR, LF, tab, NUL, ...) with spaces,
/// collapses runs of whitespace and trims.
pub(crate) fn clean_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text.split(|c: char| c.is_control() || c.is_whitespace()) {
        if word.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// The first `max` characters of `text`.
pub(crate) fn truncate_chars(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

/// Decodes an unstructured value (a subject) with RFC 2047 encoded words.
///
/// Unlike `mail-parser`, adjacent encoded words in the same charset are
/// joined before the charset is applied, so a multi-byte character split
/// across two words decodes whole (see case 14, neomutt issue 1015). The
/// whitespace between two encoded words is dropped, as RFC 2047 section
/// 6.2 says. Malformed words stay as they are.
pub(crate) fn decode_unstructured(value: &str) -> String {
    let mut out = String::new();
    let mut pending: Option<(String, Vec<u8>)> = None; // charset, bytes
    let mut gap = String::new();
    for (is_space, piece) in words(value) {
        if is_space {
            gap.push_str(piece);
            continue;
        }
        match decode_word(piece) {
            Some((charset, bytes)) => {
                match pending.as_mut() {
                    Some((cs, buf)) if cs.eq_ignore_ascii_case(&charset) => buf.extend(bytes),
                    Some(_) => {
                        flush(&mut out, pending.take());
                        pending = Some((charset, bytes));
                    }
                    None => {
                        out.push_str(&gap);
                        pending = Some((charset, bytes));
                    }
                }
                gap.clear();
            }
            None => {
                flush(&mut out, pending.take());
                out.push_str(&gap);
                gap.clear();
                out.push_str(piece);
            }
        }
    }
    flush(&mut out, pending);
    out.push_str(&gap);
    out
}

/// Splits into runs of whitespace and runs of anything else.
fn words(value: &str) -> Vec<(bool, &str)> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut state: Option<bool> = None;
    for (i, c) in value.char_indices() {
        let is_space = c == ' ' || c == '\t';
        if state.is_some_and(|s| s != is_space) {
            out.push((state.unwrap_or(false), &value[start..i]));
            start = i;
        }
        state = Some(is_space);
    }
    if let Some(s) = state {
        out.push((s, &value[start..]));
    }
    out
}

fn flush(out: &mut String, pending: Option<(String, Vec<u8>)>) {
    if let Some((charset, bytes)) = pending {
        out.push_str(&decode_charset(&charset, &bytes));
    }
}

fn decode_charset(charset: &str, bytes: &[u8]) -> String {
    let is_utf8 = charset.eq_ignore_ascii_case("utf-8") || charset.eq_ignore_ascii_case("utf8");
    match charset_decoder(charset.as_bytes()) {
        Some(decode) if !is_utf8 => decode(bytes),
        _ => String::from_utf8_lossy(bytes).into_owned(),
    }
}

/// `=?charset?B|Q?text?=` to its charset (language suffix removed) and
/// bytes.
fn decode_word(word: &str) -> Option<(String, Vec<u8>)> {
    let inner = word.strip_prefix("=?")?.strip_suffix("?=")?;
    let mut parts = inner.splitn(3, '?');
    let charset = parts.next()?;
    let encoding = parts.next()?;
    let text = parts.next()?;
    if charset.is_empty() || text.contains('?') {
        return None;
    }
    let charset = charset.split('*').next().unwrap_or(charset).to_owned();
    let bytes = match encoding {
        "B" | "b" => base64_decode(text.as_bytes())?,
        "Q" | "q" => decode_q(text)?,
        _ => return None,
    };
    Some((charset, bytes))
}

fn decode_q(text: &str) -> Option<Vec<u8>> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'_' => out.push(b' '),
            b'=' => {
                let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    Some(out)
}

/// Most UTF-8 bytes per encoded word, so that a word stays well under the
/// 75 characters RFC 2047 allows (`=?UTF-8?B?` + 52 + `?=`).
const WORD_BYTES: usize = 39;

/// Encodes `text` as a sequence of `=?UTF-8?B?...?=` words joined by a
/// folding line break, never splitting a character between two words.
pub(crate) fn encode_words(text: &str) -> String {
    let mut out = String::new();
    let mut chunk = String::new();
    for c in text.chars() {
        if chunk.len() + c.len_utf8() > WORD_BYTES {
            push_word(&mut out, &chunk);
            chunk.clear();
        }
        chunk.push(c);
    }
    if !chunk.is_empty() || out.is_empty() {
        push_word(&mut out, &chunk);
    }
    out
}

fn push_word(out: &mut String, chunk: &str) {
    if !out.is_empty() {
        out.push_str("\r\n ");
    }
    out.push_str("=?UTF-8?B?");
    out.push_str(&base64(chunk.as_bytes()));
    out.push_str("?=");
}

/// Whether `text` may go into a header as it is: printable ASCII and no
/// `=?`, which a reader could take for the start of an encoded word.
fn is_plain_ascii(text: &str) -> bool {
    text.bytes().all(|b| (0x20..0x7f).contains(&b)) && !text.contains("=?")
}

/// A display name (a `phrase`) for From, Reply-To or List-Id.
///
/// Printable ASCII becomes a quoted string with `"` and `\` escaped.
/// Anything else, or a name that held control characters (an attempt to
/// start a new header line), becomes encoded words, so not even the text
/// of such an attempt appears in the raw header.
pub(crate) fn encode_phrase(name: &str) -> String {
    let had_controls = name.chars().any(|c| c.is_control());
    let clean = truncate_chars(&clean_text(name), 200);
    if had_controls || !is_plain_ascii(&clean) {
        return encode_words(&clean);
    }
    let mut out = String::with_capacity(clean.len() + 2);
    out.push('"');
    for c in clean.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// An unstructured value (a subject): as it is when plain ASCII and
/// clean, else encoded words. Long plain values are folded at spaces.
pub(crate) fn encode_unstructured(text: &str) -> String {
    let had_controls = text.chars().any(|c| c.is_control());
    let clean = clean_text(text);
    if had_controls || !is_plain_ascii(&clean) {
        return encode_words(&clean);
    }
    fold_plain(&clean)
}

fn fold_plain(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut line_len = 0;
    for (i, word) in text.split(' ').enumerate() {
        if i > 0 {
            if line_len + 1 + word.len() > 70 {
                out.push_str("\r\n ");
                line_len = 1;
            } else {
                out.push(' ');
                line_len += 1;
            }
        }
        out.push_str(word);
        line_len += word.len();
    }
    out
}

/// Standard base64 with padding.
pub(crate) fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, &b)| acc | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 0x3f) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The address inside `<...>`, or the trimmed value when there are no
/// angle brackets; lowercase, without surrounding whitespace.
pub(crate) fn angle_addr(value: &str) -> String {
    let inner = match (value.find('<'), value.rfind('>')) {
        (Some(open), Some(close)) if open < close => &value[open + 1..close],
        _ => value,
    };
    inner.trim().to_ascii_lowercase()
}

/// Whether `email` looks like an address we may write into a header or
/// an envelope: one `@`, non-empty parts, no whitespace, controls,
/// brackets, quotes or commas, at most 254 characters.
pub(crate) fn is_plain_address(email: &str) -> bool {
    let Some((local, domain)) = email.rsplit_once('@') else {
        return false;
    };
    let is_forbidden =
        |c: char| c.is_whitespace() || c.is_control() || "<>()[]\\,;:\"@".contains(c);
    email.len() <= 254
        && !local.is_empty()
        && !domain.is_empty()
        && !local.chars().any(is_forbidden)
        && !domain.chars().any(is_forbidden)
}

#[cfg(test)]
mod tests {
    use mail_parser::MessageParser;
    use rstest::rstest;

    use super::*;

    #[rstest]
    #[case::crlf(b"A: 1\r\nB: 2\r\n\r\nbody" as &[u8], &["A", "B"], 14)]
    #[case::lf(b"A: 1\nB: 2\n\nbody", &["A", "B"], 11)]
    #[case::no_body(b"A: 1\r\nB: 2", &["A", "B"], 10)]
    #[case::nameless_line(b"A: 1\r\n: no name\r\n x\r\nB: 2\r\n\r\n", &["A", "B"], 29)]
    #[case::mbox_line(b"From a@b Mon Mar  3 09:00:00 2025\nA: 1\n\n", &["A"], 40)]
    #[case::leading_continuation(b" x\r\nA: 1\r\n\r\n", &["A"], 12)]
    #[case::empty(b"", &[], 0)]
    #[case::only_blank(b"\r\nbody", &[], 2)]
    fn split_finds_valid_fields_and_body(
        #[case] raw: &[u8],
        #[case] names: &[&str],
        #[case] body_offset: usize,
    ) {
        let block = HeaderBlock::split(raw);
        let found: Vec<&str> = block.fields.iter().map(|f| f.name).collect();
        assert_eq!(found, names);
        assert_eq!(block.body_offset, body_offset);
    }

    #[test]
    fn split_keeps_folded_lines_in_one_field() {
        let block = HeaderBlock::split(b"Subject: a\r\n b\r\n\tc\r\nX: y\r\n\r\n");
        assert_eq!(block.fields[0].raw, b"Subject: a\r\n b\r\n\tc");
        assert_eq!(block.fields[0].text(), "a b\tc");
    }

    #[rstest]
    #[case::q_umlaut("=?utf-8?Q?Gr=C3=BCezi_mitenand?=", "Grüezi mitenand")]
    #[case::split_multibyte(
        "=?UTF-8?Q?Einladung_zum_Elternabend_f=C3?= =?UTF-8?Q?=BCr_alle?=",
        "Einladung zum Elternabend für alle"
    )]
    #[case::latin1_after_text(
        "Re: [eltern] =?iso-8859-1?Q?Anmeldeschluss_M=E4rz?=",
        "Re: [eltern] Anmeldeschluss März"
    )]
    #[case::base64("=?UTF-8?B?SGFsbMO2?=", "Hallö")]
    #[case::plain("Just text  with spaces", "Just text  with spaces")]
    #[case::broken_word("=?UTF-8?B?broken-base64*?=", "=?UTF-8?B?broken-base64*?=")]
    #[case::text_between("=?utf-8?q?a?= x =?utf-8?q?b?=", "a x b")]
    #[case::mixed_charsets("=?utf-8?q?=C3=A4?= =?iso-8859-1?q?=E4?=", "ää")]
    #[case::language_suffix("=?utf-8*de?q?Hallo?=", "Hallo")]
    fn decode_unstructured_joins_adjacent_words(#[case] input: &str, #[case] expected: &str) {
        assert_eq!(decode_unstructured(input), expected);
    }

    fn decoded_from_name(phrase: &str) -> Option<String> {
        let raw = format!("From: {phrase} <a@example.test>\r\n\r\n");
        let message = MessageParser::default().parse(raw.as_bytes())?;
        message.from()?.first()?.name().map(str::to_owned)
    }

    #[rstest]
    #[case::plain("Reto Beispiel", "Reto Beispiel", "\"Reto Beispiel\"")]
    #[case::quotes(
        "Reto \"the boss\" B.",
        "Reto \"the boss\" B.",
        "\"Reto \\\"the boss\\\" B.\""
    )]
    #[case::backslash("a\\b", "a\\b", "\"a\\\\b\"")]
    #[case::comma("Beispiel, Reto", "Beispiel, Reto", "\"Beispiel, Reto\"")]
    #[case::umlaut("Jürg Müller via eltern", "Jürg Müller via eltern", "=?UTF-8?B?")]
    #[case::emoji("Lea 🎉 via eltern", "Lea 🎉 via eltern", "=?UTF-8?B?")]
    #[case::encoded_word_text("=?utf-8?q?x?= via eltern", "=?utf-8?q?x?= via eltern", "=?UTF-8?B?")]
    #[case::crlf(
        "Eltern\r\nBcc: leak@evil.example",
        "Eltern Bcc: leak@evil.example",
        "=?UTF-8?B?"
    )]
    #[case::lf("Reto\nX-Injected: yes", "Reto X-Injected: yes", "=?UTF-8?B?")]
    fn encode_phrase_round_trips_and_stays_on_its_line(
        #[case] name: &str,
        #[case] decoded: &str,
        #[case] starts_with: &str,
    ) {
        let phrase = encode_phrase(name);
        assert!(phrase.starts_with(starts_with), "{phrase}");
        assert!(
            !phrase.contains("Bcc:") && !phrase.contains("X-Injected:"),
            "{phrase}"
        );
        for line in phrase.split("\r\n").skip(1) {
            assert!(
                line.starts_with(' '),
                "continuation without space: {phrase:?}"
            );
        }
        assert!(!phrase.replace("\r\n ", "").contains(['\r', '\n']));
        assert_eq!(decoded_from_name(&phrase).as_deref(), Some(decoded));
    }

    #[test]
    fn encode_words_never_splits_a_character_and_keeps_words_short() {
        let name = "ä".repeat(100) + &"🎉".repeat(30);
        let encoded = encode_words(&name);
        for word in encoded.split("\r\n ") {
            assert!(word.len() <= 75, "{word}");
            let (_, bytes) = decode_word(word).expect("valid encoded word");
            assert!(std::str::from_utf8(&bytes).is_ok());
        }
        assert_eq!(decode_unstructured(&encoded.replace("\r\n", "")), name);
    }

    #[rstest]
    #[case(b"" as &[u8], "")]
    #[case(b"f", "Zg==")]
    #[case(b"fo", "Zm8=")]
    #[case(b"foo", "Zm9v")]
    #[case(b"foob", "Zm9vYg==")]
    fn base64_matches_rfc_4648_vectors(#[case] input: &[u8], #[case] expected: &str) {
        assert_eq!(base64(input), expected);
    }

    #[rstest]
    #[case("reto@example.org", true)]
    #[case("Reto@Example.org", true)]
    #[case("", false)]
    #[case("no-at", false)]
    #[case("a@b\r\nBcc: x@y", false)]
    #[case("a b@c", false)]
    #[case("@c", false)]
    #[case("a@", false)]
    fn is_plain_address_rejects_what_cannot_go_into_a_header(
        #[case] email: &str,
        #[case] expected: bool,
    ) {
        assert_eq!(is_plain_address(email), expected);
    }
}
