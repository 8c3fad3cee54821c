//! Writes a folder of MNIST-style IDX files as Kaggle "Digit Recognizer" CSV files: the
//! `train-*` pair as a labelled `train.csv`, the `t10k-*` pair (if there is one) as an
//! unlabelled `test.csv`, which is what the `train --csv` and `predict --submission` examples
//! read.
//!
//! ```sh
//! cargo run --release --example to_csv -- --data datasets/mnist-10k --out datasets/mnist-10k
//! ```

#[macro_use]
mod common;

use common::{Args, Failure, check_writable};
use simplenn::dataset::{self, Images};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

const HELP: &str = "\
Writes MNIST-style IDX files as Kaggle \"Digit Recognizer\" CSV files.

Usage: cargo run --release --example to_csv -- --data DIR --out DIR

Options:
  --data DIR   a folder with train-images-idx3-ubyte and train-labels-idx1-ubyte (raw or
               .gz), and optionally the t10k-* test pair [default: the built-in
               data/mnist-10k]
  --out DIR    where to write train.csv (label,pixel0,...,pixel783) and, from the test
               pair, test.csv (pixel0,...,pixel783, no labels); required
  -h, --help   print this help

Exit status: 0 on success, 2 for a usage error, 1 for a data or I/O error.";

fn main() -> ExitCode {
    common::exit_with(run(), "to_csv")
}

fn run() -> Result<(), Failure> {
    let mut args = Args::parse(&["--help"])?;
    if args.switch("--help") {
        say!("{HELP}");
        return Ok(());
    }
    let data = args.value("--data");
    let out = args.value("--out").map(PathBuf::from).ok_or_else(|| {
        Failure::Usage("--out: say where to write train.csv and test.csv".to_string())
    })?;
    args.reject_unknown()?;

    let dir = data
        .map(PathBuf::from)
        .unwrap_or_else(common::builtin_data_dir);
    let loaded = dataset::load_dir(&dir, common::CLASSES)?;
    let train = out.join("train.csv");
    check_writable("--out", &train)?;
    write_csv(&train, loaded.train.images(), Some(loaded.train.labels()))?;
    say!(
        "wrote {} ({} labelled images)",
        train.display(),
        loaded.train.len()
    );
    match &loaded.test {
        Some(test_set) => {
            let test = out.join("test.csv");
            write_csv(&test, test_set.images(), None)?;
            say!(
                "wrote {} ({} images, no labels)",
                test.display(),
                test_set.len()
            );
        }
        None => say!("no t10k-* files in {}: no test.csv", dir.display()),
    }
    Ok(())
}

// ANCHOR: write_csv
/// One header line, then one line per image: its label (when given) and its pixels, row by
/// row, as decimal numbers from 0 to 255.
fn write_csv(path: &Path, images: &Images, labels: Option<&[u8]>) -> Result<(), Failure> {
    let io_error = |e| Failure::Data(simplenn::Error::io(e).in_file(path));
    let file = std::fs::File::create(path).map_err(io_error)?;
    let mut out = BufWriter::new(file);
    let mut header: Vec<String> = (0..images.pixels_per_image())
        .map(|i| format!("pixel{i}"))
        .collect();
    if labels.is_some() {
        header.insert(0, "label".to_string());
    }
    writeln!(out, "{}", header.join(",")).map_err(io_error)?;
    let mut line = String::new();
    for i in 0..images.len() {
        line.clear();
        if let Some(labels) = labels {
            line.push_str(&labels[i].to_string());
            line.push(',');
        }
        for (k, pixel) in images.image(i).iter().enumerate() {
            if k > 0 {
                line.push(',');
            }
            line.push_str(&pixel.to_string());
        }
        writeln!(out, "{line}").map_err(io_error)?;
    }
    out.flush().map_err(io_error)
}
// ANCHOR_END: write_csv
