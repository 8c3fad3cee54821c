//! The Kaggle "Digit Recognizer" CSV reader and the submission writer.
//!
//! Small files are written out in the tests; the expected values come from the text itself,
//! and the expected errors from the format's rules (see the `csv` module's documentation).
//! The real `train.csv` is read from `$SIMPLENN_DATA_DIR/mnist-10k/` when that variable is
//! set, and its class counts are checked against the data set's README.

use simplenn::{ErrorKind, Location, Rng, csv};
use std::io::Write;
use std::path::Path;

/// Parses `text`, expecting a CSV error at `line` (and `column`) whose message contains
/// `needle`.
fn assert_error(text: &[u8], line: u64, column: Option<u64>, needle: &str) {
    let err = match csv::parse(text) {
        Ok(file) => panic!("expected an error, parsed {file:?}"),
        Err(e) => e,
    };
    let shown = err.to_string();
    assert!(
        matches!(err.kind(), ErrorKind::Csv(_)),
        "not a CSV error: {shown}"
    );
    assert_eq!(
        err.location(),
        Some(Location::Line { line, column }),
        "location of: {shown}"
    );
    assert!(
        shown.contains(needle),
        "{shown:?} should contain {needle:?}"
    );
}

/// A headerless row: the given leading values, then zeros up to `width` fields.
fn wide_row(leading: &[u32], width: usize) -> String {
    let mut fields: Vec<String> = leading.iter().map(u32::to_string).collect();
    fields.resize(width, "0".to_string());
    fields.join(",")
}

#[test]
fn labelled_file_with_header() {
    let file = csv::parse(b"label,pixel0,pixel1,pixel2\n7,0,128,255\n2,1,2,3\n").unwrap();
    assert_eq!(file.labels, Some(vec![7, 2]));
    assert_eq!(file.pixels, [0, 128, 255, 1, 2, 3]);
    assert_eq!(file.rows, 2);
    assert_eq!(file.pixels_per_row, 3);
}

#[test]
fn unlabelled_file_with_header() {
    let file = csv::parse(b"pixel0,pixel1,pixel2\n0,128,255\n1,2,3\n9,9,9\n").unwrap();
    assert_eq!(file.labels, None);
    assert_eq!(file.pixels, [0, 128, 255, 1, 2, 3, 9, 9, 9]);
    assert_eq!((file.rows, file.pixels_per_row), (3, 3));
}

#[test]
fn label_column_name_is_case_insensitive_and_may_have_spaces() {
    for header in ["LABEL", "Label", " label ", "lAbEl"] {
        let text = format!("{header},p0,p1\n3,4,5\n");
        let file = csv::parse(text.as_bytes()).unwrap();
        assert_eq!(file.labels, Some(vec![3]), "{header:?}");
        assert_eq!(file.pixels, [4, 5]);
    }
    // Another first column name: no labels, every column a pixel.
    let file = csv::parse(b"labels,p0,p1\n3,4,5\n").unwrap();
    assert_eq!((file.labels, file.pixels), (None, vec![3, 4, 5]));
}

#[test]
fn headerless_files_are_told_apart_by_width() {
    let labelled = format!("{}\n{}\n", wide_row(&[4, 10, 20], 785), wide_row(&[9], 785));
    let file = csv::parse(labelled.as_bytes()).unwrap();
    assert_eq!(file.labels, Some(vec![4, 9]));
    assert_eq!((file.rows, file.pixels_per_row), (2, 784));
    assert_eq!(&file.pixels[..3], &[10, 20, 0]);
    assert_eq!(file.pixels[784], 0);

    let unlabelled = format!("{}\n{}\n", wide_row(&[4, 10, 20], 784), wide_row(&[9], 784));
    let file = csv::parse(unlabelled.as_bytes()).unwrap();
    assert_eq!(file.labels, None);
    assert_eq!((file.rows, file.pixels_per_row), (2, 784));
    assert_eq!(&file.pixels[..3], &[4, 10, 20]);
    assert_eq!(file.pixels[784], 9);

    assert_error(
        b"1,2,3\n4,5,6\n",
        1,
        None,
        "row has 3 fields and there is no header",
    );
    assert_error(
        format!("{}\n", wide_row(&[], 786)).as_bytes(),
        1,
        None,
        "row has 786 fields",
    );
}

#[test]
fn crlf_bom_spaces_and_missing_final_newline_change_nothing() {
    let plain = csv::parse(b"label,pixel0,pixel1\n7,0,255\n2,1,2\n").unwrap();
    let variants: [&[u8]; 6] = [
        b"label,pixel0,pixel1\r\n7,0,255\r\n2,1,2\r\n",
        b"label,pixel0,pixel1\n7,0,255\n2,1,2",
        b"label,pixel0,pixel1\r\n7,0,255\r\n2,1,2",
        b"\xEF\xBB\xBFlabel,pixel0,pixel1\n7,0,255\n2,1,2\n",
        b"label , pixel0,pixel1 \n 7,  0 ,255  \n2 ,1, 2\n",
        b"label,pixel0,pixel1\n7,0,255\n2,1,2\n\n\r\n\n",
    ];
    for text in variants {
        let file = csv::parse(text).unwrap_or_else(|e| panic!("{text:?}: {e}"));
        assert_eq!(file, plain, "{:?}", String::from_utf8_lossy(text));
    }
    // Leading zeros are digits like any other.
    let zeros = csv::parse(b"label,pixel0,pixel1\n007,000,0255\n2,1,00000000000000000002\n");
    assert_eq!(zeros.unwrap(), plain);
}

#[test]
fn bom_does_not_shift_line_numbers() {
    assert_error(
        b"\xEF\xBB\xBFlabel,p0\n1,2\n1,x\n",
        3,
        Some(2),
        "pixel value \"x\"",
    );
}

#[test]
fn bad_values_name_the_value_line_and_column() {
    let header = "label,p0,p1,p2,p3\n";
    let cases: &[(&str, &str)] = &[
        ("256", "pixel value 256 is out of range 0..=255"),
        ("1000", "pixel value 1000 is out of range 0..=255"),
        ("99999999999999999999999", "is out of range 0..=255"),
        ("-1", "pixel value -1 is out of range 0..=255"),
        ("abc", "pixel value \"abc\" is not an integer"),
        ("1.5", "pixel value \"1.5\" is not an integer"),
        ("1e2", "pixel value \"1e2\" is not an integer"),
        ("0x10", "pixel value \"0x10\" is not an integer"),
        ("1 2", "pixel value \"1 2\" is not an integer"),
        ("\"5\"", "is not an integer"),
        ("\t5", "is not an integer"),
        ("+3", "pixel value \"+3\" has a sign"),
        ("", "empty field: expected a pixel value 0..=255"),
        ("  ", "empty field"),
    ];
    for &(value, needle) in cases {
        let text = format!("{header}1,2,3,4,5\n6,7,8,9,{value}\n");
        assert_error(text.as_bytes(), 3, Some(5), needle);
        // The Display names the place the way a person would look for it.
        let shown = csv::parse(text.as_bytes()).unwrap_err().to_string();
        assert!(shown.starts_with("line 3, column 5: CSV: "), "{shown}");
    }
    // The label column says "label".
    assert_error(
        format!("{header}1,2,3,4,5\n300,7,8,9,1\n").as_bytes(),
        3,
        Some(1),
        "label 300 is out of range 0..=255",
    );
    // Labels are bytes; whether 42 is a class is the caller's business.
    let file = csv::parse(format!("{header}42,7,8,9,1\n255,0,0,0,0\n").as_bytes()).unwrap();
    assert_eq!(file.labels, Some(vec![42, 255]));
}

#[test]
fn error_in_a_headerless_file_and_with_crlf() {
    let mut text = format!("{}\r\n", wide_row(&[1], 785));
    text.push_str(&format!("{}\r\n", wide_row(&[1, 2, 3, 4, 256], 785)));
    let err = csv::parse(text.as_bytes()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "line 2, column 5: CSV: pixel value 256 is out of range 0..=255"
    );
    assert_eq!(
        err.in_file("train.csv").to_string(),
        "train.csv: line 2, column 5: CSV: pixel value 256 is out of range 0..=255"
    );
}

#[test]
fn ragged_rows() {
    // Short row.
    assert_error(
        b"label,p0,p1,p2\n1,2,3,4\n1,2,3,4\n1,2,3\n",
        4,
        None,
        "line 4: CSV: row has 3 fields, the header has 4",
    );
    // Long row.
    assert_error(
        b"label,p0,p1,p2\n1,2,3,4\n1,2,3,4,5,6\n",
        3,
        None,
        "row has 6 fields, the header has 4",
    );
    // A trailing comma is one more (empty) field.
    assert_error(
        b"label,p0,p1\n1,2,3,\n",
        2,
        None,
        "row has 4 fields, the header has 3",
    );
    // Without a header, the first row sets the width.
    let text = format!("{}\n{}\n", wide_row(&[], 784), wide_row(&[], 700));
    assert_error(
        text.as_bytes(),
        2,
        None,
        "line 2: CSV: row has 700 fields, the first row has 784",
    );
    // The example from the error module's documentation.
    let mut text = String::from("label");
    for i in 0..784 {
        text.push_str(&format!(",pixel{i}"));
    }
    text.push('\n');
    for _ in 0..15 {
        text.push_str(&wide_row(&[1], 785));
        text.push('\n');
    }
    text.push_str(&wide_row(&[1], 700));
    assert_error(
        text.as_bytes(),
        17,
        None,
        "line 17: CSV: row has 700 fields, the header has 785",
    );
}

#[test]
fn header_only_and_empty_files() {
    assert_error(b"label,p0,p1\n", 1, None, "no data rows");
    assert_error(b"label,p0,p1", 1, None, "no data rows");
    assert_error(b"label,p0,p1\n\n\n", 1, None, "no data rows");
    for empty in [&b""[..], b"\n", b"\r\n", b"\n\n\n", b"\xEF\xBB\xBF"] {
        assert_error(empty, 1, None, "empty file");
    }
}

#[test]
fn blank_lines_only_at_the_end() {
    assert_error(
        b"label,p0\n1,2\n\n3,4\n",
        3,
        None,
        "blank line before the end of the data",
    );
    assert_error(b"label,p0\r\n1,2\r\n\r\n3,4\r\n", 3, None, "blank line");
    assert_error(b"\nlabel,p0\n1,2\n", 1, None, "blank line");
    // A line of spaces is not blank: it is a row with one empty field.
    assert_error(b"label,p0\n1,2\n  \n", 3, Some(1), "empty field");
    assert_error(
        b"label,p0\n1,2\n3\n",
        3,
        None,
        "row has 1 field, the header has 2",
    );
}

#[test]
fn header_must_be_names_and_data_must_be_numbers() {
    // A numeric first line is data, so this 3-wide file has no header and a bad width.
    assert_error(b"0,1,2\n3,4,5\n", 1, None, "no header");
    // A first line mixing numbers and names is neither.
    assert_error(
        b"label,5,p1\n1,2,3\n",
        1,
        Some(2),
        "neither a header nor a data row",
    );
    assert_error(
        format!("{}\n", wide_row(&[1, 2], 784).replacen(",0", ",-1", 1)).as_bytes(),
        1,
        Some(1),
        "field 3 (\"-1\") is not a number",
    );
    assert_error(b"label,,p1\n1,2,3\n", 1, Some(2), "empty column name");
    assert_error(b"label\n1\n", 1, None, "no pixel columns");
}

/// A small labelled file and what it holds.
fn small_file() -> (&'static [u8], Vec<u8>, Vec<u8>) {
    let text = b"label,p0,p1,p2\n7,0,12,255\n3,45,6,0\n9,1,2,3\n";
    let labels = vec![7, 3, 9];
    let pixels = vec![0, 12, 255, 45, 6, 0, 1, 2, 3];
    (text, labels, pixels)
}

#[test]
fn small_file_is_what_it_says() {
    let (text, labels, pixels) = small_file();
    let file = csv::parse(text).unwrap();
    assert_eq!(file.labels, Some(labels));
    assert_eq!(file.pixels, pixels);
}

#[test]
fn every_truncation_is_an_error_or_a_shorter_file() {
    let (text, labels, pixels) = small_file();
    // Where each row's line ends (the index of its '\n'); cutting there, or just after,
    // leaves a shorter but valid file of the rows before.
    let ends: Vec<usize> = (0..text.len()).filter(|&i| text[i] == b'\n').collect();
    for cut in 0..=text.len() {
        let result = csv::parse(&text[..cut]);
        // Rows complete before the cut (the first '\n' ends the header).
        let complete = ends
            .iter()
            .filter(|&&end| end <= cut)
            .count()
            .saturating_sub(1);
        let at_a_line_end = ends.contains(&cut) || (cut > 0 && ends.contains(&(cut - 1)));
        if complete > 0 && at_a_line_end {
            let file = result.unwrap_or_else(|e| panic!("cut at {cut}: {e}"));
            assert_eq!(file.rows, complete, "cut at {cut}");
            assert_eq!(file.labels.as_deref(), Some(&labels[..complete]));
            assert_eq!(file.pixels, pixels[..complete * 3]);
            continue;
        }
        match result {
            // A cut inside the last field can leave a valid, shorter number ("25" → "2").
            Ok(file) => {
                assert!(
                    file.rows == complete + 1,
                    "cut at {cut}: {} rows",
                    file.rows
                );
                let n = file.rows * 3;
                assert_eq!(file.pixels[..n - 1], pixels[..n - 1], "cut at {cut}");
                assert_eq!(file.labels.as_deref(), Some(&labels[..file.rows]));
            }
            Err(e) => assert!(matches!(e.kind(), ErrorKind::Csv(_)), "{e}"),
        }
    }
}

#[test]
fn random_byte_changes_never_panic() {
    let (text, _, _) = small_file();
    // Bytes that mean something to the parser, so that changes often make sense.
    let interesting = b"0123456789,\n\r -+.\xEF\xBB\xBFaL";
    let mut rng = Rng::new(7);
    let (mut ok, mut err) = (0, 0);
    for _ in 0..6000 {
        let mut bytes = text.to_vec();
        for _ in 0..1 + rng.below(3) {
            let at = rng.below(bytes.len() as u64) as usize;
            bytes[at] = if rng.below(2) == 0 {
                interesting[rng.below(interesting.len() as u64) as usize]
            } else {
                rng.next_u64() as u8
            };
        }
        match csv::parse(&bytes) {
            Ok(file) => {
                ok += 1;
                assert_eq!(file.pixels.len(), file.rows * file.pixels_per_row);
                assert!(file.rows > 0 && file.pixels_per_row > 0);
                if let Some(labels) = &file.labels {
                    assert_eq!(labels.len(), file.rows);
                }
            }
            Err(e) => {
                err += 1;
                assert!(matches!(e.kind(), ErrorKind::Csv(_)), "{e}");
                assert!(matches!(e.location(), Some(Location::Line { line, .. }) if line >= 1));
            }
        }
    }
    assert!(ok > 300 && err > 300, "ok {ok}, err {err}");
}

#[test]
fn submission_format() {
    assert_eq!(
        csv::submission(&[7, 0, 9]),
        "ImageId,Label\n1,7\n2,0\n3,9\n"
    );
    assert_eq!(csv::submission(&[]), "ImageId,Label\n");
    let many = csv::submission(&[1; 28000]);
    assert!(many.ends_with("\n27999,1\n28000,1\n"));
    assert_eq!(many.lines().count(), 28001);
    assert!(!many.contains('\r'));
}

#[test]
fn real_train_csv() {
    let Some(dir) = std::env::var_os("SIMPLENN_DATA_DIR") else {
        // Straight to stderr: the test harness captures `eprintln!`.
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED real_train_csv: SIMPLENN_DATA_DIR is not set (point it at a folder holding \
             mnist-10k/train.csv: see the book's \"Getting the data\")"
        );
        return;
    };
    let path = Path::new(&dir).join("mnist-10k").join("train.csv");
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let file = csv::parse(&bytes).unwrap_or_else(|e| panic!("{}", e.in_file(&path)));
    assert_eq!(file.rows, 10_000);
    assert_eq!(file.pixels_per_row, 784);
    assert_eq!(file.pixels.len(), 10_000 * 784);
    let labels = file.labels.expect("train.csv has labels");
    let mut counts = [0usize; 10];
    for &label in &labels {
        counts[usize::from(label)] += 1; // a label over 9 panics here, and should
    }
    // From the data set's README.
    assert_eq!(
        counts,
        [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]
    );
    // Real digits have ink: some pixels are 255, most are 0.
    assert!(file.pixels.contains(&255));
    let zeros = file.pixels.iter().filter(|&&p| p == 0).count();
    assert!(zeros > file.pixels.len() / 2);
}
