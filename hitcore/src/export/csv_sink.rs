//! The CSV writer, through the `csv` crate: fields with the separator,
//! quotes or line breaks are quoted, quotes doubled (RFC 4180), records
//! end in CRLF.

use std::io::Write;

use csv::{Terminator, WriterBuilder};

use super::{Cell, Columns, ExportError};

/// What Excel needs to open a file without an import dialog and with its
/// umlauts intact, versus what other tools expect.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Style {
    /// `;`-separated, with a UTF-8 byte order mark.
    Excel,
    /// `,`-separated, no byte order mark.
    Plain,
}

const BOM: &[u8] = "\u{feff}".as_bytes();

pub(super) struct CsvSink<W: Write> {
    writer: csv::Writer<W>,
}

impl<W: Write> CsvSink<W> {
    /// Writes the byte order mark (Excel style) and the header row.
    pub(super) fn new(
        mut out: W,
        style: Style,
        columns: &Columns<'_>,
    ) -> Result<CsvSink<W>, ExportError> {
        let delimiter = match style {
            Style::Excel => {
                out.write_all(BOM)?;
                b';'
            }
            Style::Plain => b',',
        };
        let mut writer = WriterBuilder::new()
            .delimiter(delimiter)
            .terminator(Terminator::CRLF)
            .from_writer(out);
        writer.write_record(columns.headers())?;
        Ok(CsvSink { writer })
    }

    pub(super) fn write_row(&mut self, cells: Vec<Cell>) -> Result<(), ExportError> {
        let fields = cells.into_iter().map(|c| defused(c.into_text()));
        self.writer.write_record(fields)?;
        Ok(())
    }

    pub(super) fn finish(self) -> Result<W, ExportError> {
        self.writer
            .into_inner()
            .map_err(|e| ExportError::Io(e.into_error()))
    }
}

/// The value with a leading `'` when a spreadsheet would run it as a
/// formula (CSV injection: a name such as `=HYPERLINK(...)` typed into a
/// form would otherwise become a live link or command when the export is
/// opened). `=` and `@` always start one, so do `+` and `-` unless a digit
/// or a space follows: phone numbers such as `+41 31 ...` stay as typed.
///
/// See <https://owasp.org/www-community/attacks/CSV_Injection>.
fn defused(value: String) -> String {
    let mut chars = value.chars();
    let is_formula = match chars.next() {
        Some('=' | '@' | '\t' | '\r') => true,
        Some('+' | '-') => chars
            .next()
            .is_some_and(|c| !c.is_ascii_digit() && c != ' '),
        _ => false,
    };
    if is_formula {
        format!("'{value}")
    } else {
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_defused_and_phone_numbers_are_not() {
        for (typed, written) in [
            ("=1+2", "'=1+2"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("+cmd", "'+cmd"),
            ("-A1", "'-A1"),
            ("+41 31 000 00 00", "+41 31 000 00 00"),
            ("-5", "-5"),
            ("- dash", "- dash"),
            ("Anna", "Anna"),
            ("", ""),
        ] {
            assert_eq!(defused(typed.to_owned()), written, "{typed}");
        }
    }
}
