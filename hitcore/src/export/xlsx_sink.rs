//! The Excel writer, through `rust_xlsxwriter` in its constant-memory
//! mode: each row goes to a temporary file (in the system's temporary
//! directory) as soon as the next one starts, so memory stays flat however
//! many people are exported; the workbook is zipped into the output at
//! [`XlsxSink::finish`].
//!
//! In that mode strings are written inline rather than into a shared
//! string table, and rows must come in order, which an export does anyway.

use std::io::Write;

use chrono::Datelike;
use rust_xlsxwriter::{Color, ExcelDateTime, Format, Workbook, Worksheet, XlsxError};

use super::labels::text;
use super::{Cell, Columns, ExportError};

/// Rows in a sheet (Excel's limit); the first holds the header.
const MAX_ROWS: u32 = 1_048_576;
/// The longest text a cell holds, in UTF-16 units.
const MAX_CELL_UNITS: usize = 32_767;
/// hitobito's header background (section 9.1).
const HEADER_BACKGROUND: u32 = 0xC0C0C0;

pub(super) struct XlsxSink<W: Write + Send> {
    workbook: Workbook,
    out: W,
    date: Format,
}

impl<W: Write + Send> XlsxSink<W> {
    /// Starts the one sheet: its name, column widths and the header row,
    /// bold on grey and frozen.
    pub(super) fn new(out: W, columns: &Columns<'_>) -> Result<XlsxSink<W>, ExportError> {
        let lang = columns.lang();
        let date = Format::new().set_num_format(if lang == "de" {
            "dd.mm.yyyy"
        } else {
            "yyyy-mm-dd"
        });
        let header = Format::new()
            .set_bold()
            .set_background_color(Color::RGB(HEADER_BACKGROUND));
        let mut workbook = Workbook::new();
        let sheet = workbook.add_worksheet_with_constant_memory()?;
        sheet.set_name(text(lang, "sheet"))?;
        for (i, (column, title)) in columns.columns().iter().zip(columns.headers()).enumerate() {
            let col = col_num(i)?;
            let chars = title.chars().count().saturating_add(2);
            let width = column
                .width()
                .max(u16::try_from(chars).unwrap_or(u16::MAX))
                .min(50);
            sheet.set_column_width(col, width)?;
            sheet.write_string_with_format(0, col, title, &header)?;
        }
        sheet.set_freeze_panes(1, 0)?;
        Ok(XlsxSink {
            workbook,
            out,
            date,
        })
    }

    /// Writes the cells of the `index`-th person (0-based) below the
    /// header.
    pub(super) fn write_row(&mut self, index: u64, cells: Vec<Cell>) -> Result<(), ExportError> {
        let row = u32::try_from(index + 1)
            .ok()
            .filter(|r| *r < MAX_ROWS)
            .ok_or(ExportError::TooManyRows {
                limit: MAX_ROWS - 1,
            })?;
        let sheet = self.workbook.worksheet_from_index(0)?;
        for (i, cell) in cells.into_iter().enumerate() {
            write_cell(sheet, row, col_num(i)?, cell, &self.date)?;
        }
        Ok(())
    }

    pub(super) fn finish(mut self) -> Result<W, ExportError> {
        self.workbook.save_to_writer(&mut self.out)?;
        self.out.flush()?;
        Ok(self.out)
    }
}

fn write_cell(
    sheet: &mut Worksheet,
    row: u32,
    col: u16,
    cell: Cell,
    date: &Format,
) -> Result<(), XlsxError> {
    match cell {
        // Empty cells are left out, as Excel itself stores them.
        Cell::Text(t) if t.is_empty() => {}
        Cell::Text(t) => {
            sheet.write_string(row, col, truncated(t))?;
        }
        Cell::Date(d) => match excel_date(d) {
            Some(d) => {
                sheet.write_datetime_with_format(row, col, d, date)?;
            }
            // Excel has no dates before 1900; write those as text.
            None => {
                sheet.write_string(row, col, Cell::Date(d).into_text())?;
            }
        },
    }
    Ok(())
}

fn excel_date(d: chrono::NaiveDate) -> Option<ExcelDateTime> {
    let year = u16::try_from(d.year()).ok()?;
    let month = u8::try_from(d.month()).ok()?;
    let day = u8::try_from(d.day()).ok()?;
    ExcelDateTime::from_ymd(year, month, day).ok()
}

/// The text cut to what a cell holds (additional information may be
/// longer), at a character boundary. Excel counts UTF-16 units.
fn truncated(mut t: String) -> String {
    let mut units = 0;
    let cut = t.char_indices().find_map(|(i, c)| {
        units += c.len_utf16();
        (units > MAX_CELL_UNITS).then_some(i)
    });
    if let Some(cut) = cut {
        t.truncate(cut);
    }
    t
}

fn col_num(i: usize) -> Result<u16, ExportError> {
    u16::try_from(i).map_err(|_| ExportError::Xlsx(XlsxError::RowColumnLimitError))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_text_is_cut_to_what_a_cell_holds() {
        let short = "ä".repeat(10);
        assert_eq!(truncated(short.clone()), short);
        let long = "ä".repeat(MAX_CELL_UNITS + 5);
        assert_eq!(truncated(long).chars().count(), MAX_CELL_UNITS);
        // A character outside the basic plane counts twice and is never
        // split.
        let emoji = "😀".repeat(MAX_CELL_UNITS);
        assert_eq!(truncated(emoji).chars().count(), MAX_CELL_UNITS / 2);
    }

    #[test]
    fn dates_outside_excel_are_refused() {
        let d = |y, m, d| chrono::NaiveDate::from_ymd_opt(y, m, d).expect("valid date");
        assert!(excel_date(d(1990, 1, 31)).is_some());
        assert!(excel_date(d(1850, 1, 1)).is_none());
    }
}
