//! People exports (section 9.1 of the domain notes): which columns a
//! viewer gets, what each cell holds, and the CSV, Excel and vCard writers.
//! Participant exports ([`participants`]) write an event's participants
//! through the same writers, with columns of their own after the
//! person's.
//!
//! Everything here is pure except the output: a writer writes into the
//! [`std::io::Write`] its caller hands it (Excel's constant-memory mode
//! also keeps the rows written so far in a temporary file). Reading people
//! from the store, reporting progress and storing the file belong to the
//! export job; who may have which column set is decided by
//! [`crate::ability`].
//!
//! The job feeds a writer page by page:
//!
//! ```text
//! let columns = Columns::new(ColumnSet::for_viewer(...), lang, org, tree);
//! let mut writer = ExportWriter::new(format, file, columns)?;
//! for each page of people {
//!     let (emails, phones) = store.contacts_of_people(&ids)?;
//!     for p in people_with_contacts(&page.items, &emails, &phones) {
//!         writer.write_person(&p)?;
//!     }
//! }
//! let file = writer.finish()?;
//! ```

use std::collections::HashMap;
use std::io::Write;

use serde::{Deserialize, Serialize};

use crate::id::PersonId;
use crate::person::{AdditionalEmail, Person, PhoneNumber};
use crate::role::Role;
use crate::store::ListedPerson;

mod columns;
mod csv_sink;
mod labels;
pub mod participants;
mod vcard;
mod xlsx_sink;

pub use columns::{Cell, Column, ColumnSet, Columns};

/// The file formats a people list exports to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExportFormat {
    /// CSV as Excel opens it directly: `;`-separated UTF-8 with a byte
    /// order mark, so umlauts come out right.
    #[default]
    Csv,
    /// Plain CSV: `,`-separated UTF-8 without a byte order mark.
    CsvPlain,
    /// An Excel workbook (`.xlsx`) with one sheet.
    Xlsx,
    /// vCard 3.0 (RFC 2426), one card per person.
    Vcard,
}

impl ExportFormat {
    /// The format as URLs and job payloads spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            ExportFormat::Csv => "csv",
            ExportFormat::CsvPlain => "csv_plain",
            ExportFormat::Xlsx => "xlsx",
            ExportFormat::Vcard => "vcard",
        }
    }

    /// The format spelled `value`, if it is one.
    pub fn parse(value: &str) -> Option<ExportFormat> {
        [
            ExportFormat::Csv,
            ExportFormat::CsvPlain,
            ExportFormat::Xlsx,
            ExportFormat::Vcard,
        ]
        .into_iter()
        .find(|f| f.as_str() == value)
    }

    /// The file name extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Csv | ExportFormat::CsvPlain => "csv",
            ExportFormat::Xlsx => "xlsx",
            ExportFormat::Vcard => "vcf",
        }
    }

    /// The media type a download of the file is served with.
    pub fn content_type(self) -> &'static str {
        match self {
            ExportFormat::Csv | ExportFormat::CsvPlain => "text/csv; charset=utf-8",
            ExportFormat::Xlsx => {
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            }
            ExportFormat::Vcard => "text/vcard; charset=utf-8",
        }
    }
}

/// What can go wrong while writing an export.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExportError {
    /// Writing to the output failed.
    #[error("writing the export failed")]
    Io(#[from] std::io::Error),
    /// The CSV writer failed (in practice: writing to the output).
    #[error("writing the CSV export failed")]
    Csv(#[from] csv::Error),
    /// The Excel writer failed, e.g. its temporary file could not be made.
    #[error("writing the Excel export failed")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
    /// A sheet holds at most this many people (Excel's row limit less the
    /// header row).
    #[error("an Excel sheet holds at most {limit} people")]
    TooManyRows { limit: u32 },
}

/// One person as an export writes them: the person, the roles the list
/// shows for them, and all their contact accounts (which of those are
/// written depends on the column set).
#[derive(Clone, Debug)]
pub struct ExportPerson<'a> {
    pub person: &'a Person,
    pub roles: &'a [Role],
    pub additional_emails: Vec<&'a AdditionalEmail>,
    pub phone_numbers: Vec<&'a PhoneNumber>,
    /// The cells of the [`Column::Extra`] columns, in their order; empty
    /// for people lists.
    pub extras: Vec<Cell>,
}

/// Pairs a page of listed people with the contact accounts
/// [`crate::store::PersonRepo::contacts_of_people`] returned for them, in
/// the order of the page. Contacts of people not on the page are ignored.
pub fn people_with_contacts<'a>(
    listed: &'a [ListedPerson],
    emails: &'a [AdditionalEmail],
    phones: &'a [PhoneNumber],
) -> Vec<ExportPerson<'a>> {
    let mut emails_of: HashMap<PersonId, Vec<&AdditionalEmail>> = HashMap::new();
    for e in emails {
        emails_of.entry(e.person_id).or_default().push(e);
    }
    let mut phones_of: HashMap<PersonId, Vec<&PhoneNumber>> = HashMap::new();
    for p in phones {
        phones_of.entry(p.person_id).or_default().push(p);
    }
    listed
        .iter()
        .map(|lp| ExportPerson {
            person: &lp.person,
            roles: &lp.roles,
            additional_emails: emails_of.remove(&lp.person.id).unwrap_or_default(),
            phone_numbers: phones_of.remove(&lp.person.id).unwrap_or_default(),
            extras: Vec::new(),
        })
        .collect()
}

/// Writes people one at a time into `W` in one [`ExportFormat`], so that
/// an export of any size never holds the whole list.
///
/// The header (CSV, Excel) is written by [`ExportWriter::new`]; nothing is
/// complete until [`ExportWriter::finish`], which hands the output back.
/// The output must be `Send` because the Excel writer zips the workbook on
/// worker threads.
pub struct ExportWriter<'a, W: Write + Send> {
    columns: Columns<'a>,
    sink: Sink<W>,
    rows: u64,
}

enum Sink<W: Write + Send> {
    // Boxed: a workbook and the CSV buffer are large next to a bare
    // output, and there is one writer per export.
    Csv(Box<csv_sink::CsvSink<W>>),
    Xlsx(Box<xlsx_sink::XlsxSink<W>>),
    Vcard(W),
}

impl<'a, W: Write + Send> ExportWriter<'a, W> {
    /// Starts an export into `out`.
    ///
    /// # Errors
    /// [`ExportError`] when the header cannot be written or, for Excel,
    /// the temporary file cannot be made.
    pub fn new(
        format: ExportFormat,
        out: W,
        columns: Columns<'a>,
    ) -> Result<ExportWriter<'a, W>, ExportError> {
        use csv_sink::{CsvSink, Style};
        let sink = match format {
            ExportFormat::Csv => Sink::Csv(Box::new(CsvSink::new(out, Style::Excel, &columns)?)),
            ExportFormat::CsvPlain => {
                Sink::Csv(Box::new(CsvSink::new(out, Style::Plain, &columns)?))
            }
            ExportFormat::Xlsx => Sink::Xlsx(Box::new(xlsx_sink::XlsxSink::new(out, &columns)?)),
            ExportFormat::Vcard => Sink::Vcard(out),
        };
        Ok(ExportWriter {
            columns,
            sink,
            rows: 0,
        })
    }

    /// Writes one person.
    ///
    /// # Errors
    /// [`ExportError`] when writing fails, and
    /// [`ExportError::TooManyRows`] past Excel's row limit.
    pub fn write_person(&mut self, p: &ExportPerson<'_>) -> Result<(), ExportError> {
        match &mut self.sink {
            Sink::Csv(sink) => sink.write_row(self.columns.row(p))?,
            Sink::Xlsx(sink) => sink.write_row(self.rows, self.columns.row(p))?,
            Sink::Vcard(out) => {
                let card = vcard::card(p, self.columns.set());
                out.write_all(card.as_bytes())?;
            }
        }
        self.rows += 1;
        Ok(())
    }

    /// How many people were written so far.
    pub fn rows_written(&self) -> u64 {
        self.rows
    }

    /// Completes the file and hands the output back, flushed.
    ///
    /// # Errors
    /// [`ExportError`] when the rest of the file cannot be written.
    pub fn finish(self) -> Result<W, ExportError> {
        match self.sink {
            Sink::Csv(sink) => sink.finish(),
            Sink::Xlsx(sink) => sink.finish(),
            Sink::Vcard(mut out) => {
                out.flush()?;
                Ok(out)
            }
        }
    }
}

#[cfg(test)]
mod tests;
