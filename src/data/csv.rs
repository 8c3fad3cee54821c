//! The CSV files of Kaggle's "Digit Recognizer" competition: MNIST as text.
//!
//! `train.csv` has a header `label,pixel0,...,pixel783` and one line per image, its label
//! then its 784 pixels; `test.csv` has no label column; [`submission`] writes predictions.
//! The reader is strict, since a silently "repaired" image is worse than an error: [`parse`]
//! lists what it accepts, and the book's chapter "Reading files you cannot trust" explains
//! the rules and the errors.
//!
//! ```
//! use simplenn::csv;
//!
//! let file = csv::parse(b"label,pixel0,pixel1\n7,0,255\n2,128,3\n")?;
//! assert_eq!(file.labels, Some(vec![7, 2]));
//! assert_eq!(file.pixels, [0, 255, 128, 3]);
//! assert_eq!((file.rows, file.pixels_per_row), (2, 2));
//! # Ok::<(), simplenn::Error>(())
//! ```

use crate::error::{Error, Result};
use std::fmt::Write;

/// Images read from a CSV file.
///
/// The pixels of all images are in one vector, image after image (row-major, one image per
/// row), ready to become a [`Matrix`](crate::blocks::matrix::Matrix) once scaled to `[0, 1]`: image `i` is
/// `pixels[i * pixels_per_row..(i + 1) * pixels_per_row]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CsvImages {
    /// One label per image, when the file has them (`train.csv` does, `test.csv` does not).
    pub labels: Option<Vec<u8>>,
    /// The pixel values, `rows × pixels_per_row` of them.
    pub pixels: Vec<u8>,
    /// The number of images (data rows).
    pub rows: usize,
    /// Pixels per image: the number of columns, less the label column if there is one.
    /// 784 for MNIST; the caller checks that it is what the network expects.
    pub pixels_per_row: usize,
}

/// The UTF-8 encoding of U+FEFF, which some editors put at the start of a text file.
const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// The width of a headerless file with labels: one label, 28 × 28 pixels.
const LABELLED_WIDTH: usize = 785;
/// The width of a headerless file without labels.
const UNLABELLED_WIDTH: usize = 784;

/// How the fields of each row are laid out, decided from the first line.
#[derive(Clone, Copy, Debug)]
struct Layout {
    /// Fields per row.
    fields: usize,
    /// Whether the first field of each row is a label.
    labelled: bool,
    /// Whether line 1 is a header (it decides how errors describe the expected width).
    header: bool,
}

/// Parses a Kaggle-style MNIST CSV file held in memory.
///
/// A value is ASCII digits, spaces around them allowed, at most 255 (labels too: whether a
/// label names a class is the caller's check). The first line is a header when it is not
/// all numbers, and then every field of it must be a name; a first field `label` (in any
/// case) makes the file labelled. Without a header, 785 fields are a label and 784 pixels
/// and 784 are pixels alone. Lines end in LF or CRLF, a UTF-8 byte-order mark is skipped,
/// and blank lines may only come last.
///
/// # Errors
/// An empty file, a header with no rows after it, a row whose width differs from the
/// header's (or the first row's), a headerless file whose width is neither 785 nor 784, a
/// value that is not an integer 0..=255, or a blank line before the last row. Errors give
/// the 1-based physical line and, for a bad value, the 1-based field number.
pub fn parse(bytes: &[u8]) -> Result<CsvImages> {
    let text = bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes);
    let mut lines = Lines::new(text);

    let (first_line_no, first) = lines.next().unwrap_or((1, b""));
    if first.is_empty() {
        return Err(if lines.all(|(_, line)| line.is_empty()) {
            Error::csv(1, None, "empty file: expected a header or data rows")
        } else {
            blank_line(first_line_no)
        });
    }
    let layout = layout(first_line_no, first)?;

    let mut labels = Vec::new();
    let mut pixels = Vec::new();
    let mut rows = 0;
    if !layout.header {
        parse_row(first, first_line_no, layout, &mut labels, &mut pixels)?;
        rows += 1;
    }
    while let Some((line_no, line)) = lines.next() {
        if line.is_empty() {
            // Blank lines may end the file (editors add them), but not interrupt it.
            if lines.all(|(_, line)| line.is_empty()) {
                break;
            }
            return Err(blank_line(line_no));
        }
        parse_row(line, line_no, layout, &mut labels, &mut pixels)?;
        rows += 1;
    }
    if rows == 0 {
        return Err(Error::csv(
            first_line_no,
            None,
            "no data rows: the file has a header and nothing else",
        ));
    }

    let pixels_per_row = layout.fields - usize::from(layout.labelled);
    debug_assert_eq!(pixels.len(), rows * pixels_per_row);
    Ok(CsvImages {
        labels: layout.labelled.then_some(labels),
        pixels,
        rows,
        pixels_per_row,
    })
}

/// The error for a blank line that is not at the end of the file.
fn blank_line(line_no: u64) -> Error {
    Error::csv(
        line_no,
        None,
        "blank line before the end of the data (only trailing blank lines are allowed)",
    )
}

/// The file's physical lines, numbered from 1, without their `\n` or `\r\n`.
#[derive(Clone)]
struct Lines<'a> {
    /// What is left to read, or `None` after the last line.
    rest: Option<&'a [u8]>,
    /// The number of the last line returned.
    line_no: u64,
}

impl<'a> Lines<'a> {
    fn new(text: &'a [u8]) -> Self {
        Lines {
            rest: Some(text),
            line_no: 0,
        }
    }
}

impl<'a> Iterator for Lines<'a> {
    type Item = (u64, &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        let rest = self.rest?;
        let (line, after) = match rest.iter().position(|&b| b == b'\n') {
            Some(end) => (&rest[..end], Some(&rest[end + 1..])),
            None => (rest, None),
        };
        // A file ending in "\n" has nothing after its last line ending, not an empty line.
        self.rest = after.filter(|after| !after.is_empty());
        self.line_no += 1;
        Some((self.line_no, line.strip_suffix(b"\r").unwrap_or(line)))
    }
}

/// Decides from the first line whether there is a header, whether there are labels, and
/// how many fields every row has.
fn layout(line_no: u64, first: &[u8]) -> Result<Layout> {
    let fields = first.split(|&b| b == b',').count();
    let not_number = first
        .split(|&b| b == b',')
        .map(trim_spaces)
        .enumerate()
        .find(|(_, field)| !is_number(field));

    let Some((not_number_index, not_number)) = not_number else {
        // All numbers: a data row, and its width is all we have to go on.
        let labelled = match fields {
            LABELLED_WIDTH => true,
            UNLABELLED_WIDTH => false,
            _ => {
                return Err(Error::csv(
                    line_no,
                    None,
                    format!(
                        "row has {} and there is no header: without one, a row \
                         must have {LABELLED_WIDTH} (a label and 28 × 28 pixels) or \
                         {UNLABELLED_WIDTH} (pixels only)",
                        count(fields, "field")
                    ),
                ));
            }
        };
        return Ok(Layout {
            fields,
            labelled,
            header: false,
        });
    };

    // A header. Every field must be a name; a number among names means line 1 is a
    // data row with a bad value, or a header with a bad name, and we cannot tell which.
    for (i, field) in first.split(|&b| b == b',').enumerate() {
        let name = trim_spaces(field);
        let column = Some(i as u64 + 1);
        if name.is_empty() {
            return Err(Error::csv(
                line_no,
                column,
                "empty column name in the header",
            ));
        }
        if is_number(name) {
            return Err(Error::csv(
                line_no,
                column,
                format!(
                    "this line is neither a header nor a data row: field {} ({:?}) is \
                     not a number, but field {} ({}) is not a column name",
                    not_number_index + 1,
                    shown(not_number),
                    i + 1,
                    shown(name),
                ),
            ));
        }
    }
    let first_name = trim_spaces(first.split(|&b| b == b',').next().unwrap_or(b""));
    let labelled = first_name.eq_ignore_ascii_case(b"label");
    if labelled && fields == 1 {
        return Err(Error::csv(
            line_no,
            None,
            "the header has a label column but no pixel columns",
        ));
    }
    Ok(Layout {
        fields,
        labelled,
        header: true,
    })
}

// ANCHOR: parse_row
/// Parses one data row, appending its label (if the layout has one) and its pixels.
///
/// Splitting on `,` borrows each field from the line, and [`value`] reads its digits in
/// place: nothing is allocated per field, which is what makes 8 million of them fast.
fn parse_row(
    line: &[u8],
    line_no: u64,
    layout: Layout,
    labels: &mut Vec<u8>,
    pixels: &mut Vec<u8>,
) -> Result<()> {
    let mut column = 0;
    for field in line.split(|&b| b == b',') {
        column += 1;
        if column > layout.fields {
            return Err(wrong_width(line, line_no, layout));
        }
        let is_label = layout.labelled && column == 1;
        let Some(v) = value(field) else {
            return Err(bad_value(field, line_no, column as u64, is_label));
        };
        if is_label {
            labels.push(v);
        } else {
            pixels.push(v);
        }
    }
    if column < layout.fields {
        return Err(wrong_width(line, line_no, layout));
    }
    Ok(())
}

/// A field's value: digits only, optionally with spaces around them, at most 255.
#[inline]
fn value(field: &[u8]) -> Option<u8> {
    let digits = trim_spaces(field);
    if digits.is_empty() {
        return None;
    }
    let mut v: u32 = 0;
    for &b in digits {
        let digit = b.wrapping_sub(b'0'); // a byte below '0' wraps to a large number
        if digit > 9 {
            return None;
        }
        // Stop counting at 256: every larger value is just as out of range, and a field
        // of a hundred digits must not overflow.
        v = (v * 10 + u32::from(digit)).min(256);
    }
    u8::try_from(v).ok()
}
// ANCHOR_END: parse_row

/// `field` without the spaces (only U+0020) at either end.
fn trim_spaces(field: &[u8]) -> &[u8] {
    let start = field.iter().position(|&b| b != b' ').unwrap_or(field.len());
    let end = field
        .iter()
        .rposition(|&b| b != b' ')
        .map_or(start, |i| i + 1);
    &field[start..end]
}

/// Whether `s` is a non-empty run of ASCII digits (of any size): what makes a field a
/// number rather than a name when looking for a header.
fn is_number(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(u8::is_ascii_digit)
}

/// A field as text for an error message: lossy UTF-8, cut short if very long.
fn shown(field: &[u8]) -> String {
    const MAX: usize = 24;
    let text = String::from_utf8_lossy(field);
    match text.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.into_owned(),
    }
}

/// Says why `field` is not a value 0..=255. Only called once parsing has failed, so it can
/// take its time.
fn bad_value(field: &[u8], line_no: u64, column: u64, is_label: bool) -> Error {
    let what = if is_label { "label" } else { "pixel value" };
    let s = trim_spaces(field);
    let message = if s.is_empty() {
        format!("empty field: expected a {what} 0..=255")
    } else if is_number(s) {
        format!("{what} {} is out of range 0..=255", shown(s))
    } else if s[0] == b'-' && is_number(&s[1..]) {
        format!("{what} {} is out of range 0..=255 (negative)", shown(s))
    } else if s[0] == b'+' && is_number(&s[1..]) {
        format!(
            "{what} {:?} has a sign: write plain digits 0..=255",
            shown(s)
        )
    } else {
        format!(
            "{what} {:?} is not an integer 0..=255 (digits only)",
            shown(s)
        )
    };
    Error::csv(line_no, Some(column), message)
}

/// The error for a row with too few or too many fields.
fn wrong_width(line: &[u8], line_no: u64, layout: Layout) -> Error {
    let fields = line.split(|&b| b == b',').count();
    let reference = if layout.header {
        "the header"
    } else {
        "the first row"
    };
    Error::csv(
        line_no,
        None,
        format!(
            "row has {}, {reference} has {}",
            count(fields, "field"),
            layout.fields
        ),
    )
}

/// "1 field", "2 fields".
fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// Writes predictions in the format Kaggle expects of a "Digit Recognizer" submission:
/// the header `ImageId,Label`, then one line per test image, numbered from 1 in the order
/// of `test.csv`.
///
/// ```
/// assert_eq!(simplenn::csv::submission(&[7, 0]), "ImageId,Label\n1,7\n2,0\n");
/// ```
///
/// Lines end in LF, and the last one too: a file that ends mid-line is a common source of
/// "one row missing" complaints from tools.
pub fn submission(predictions: &[usize]) -> String {
    let mut out = String::with_capacity(14 + predictions.len() * 8);
    out.push_str("ImageId,Label\n");
    for (i, label) in predictions.iter().enumerate() {
        writeln!(out, "{},{label}", i + 1).expect("writing to a String cannot fail");
    }
    out
}
