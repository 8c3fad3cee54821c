//! What the `train` and `predict` examples share: command-line parsing, loading data,
//! reporting, and turning every failure into one line and an exit status.
//!
//! Exit status: 0 on success, 2 for a usage error (which flag, and why), 1 for a data or
//! I/O error (`error: FILE: what is wrong`). Nothing here panics on user input.

#![allow(dead_code)] // each example uses its own subset

/// `println!` that stops the program quietly when stdout has gone away (`train | head`),
/// where `println!` would panic with a backtrace.
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::common::write_line(format_args!($($arg)*))
    };
}

use simplenn::confusion::ConfusionMatrix;
use simplenn::dataset::{self, CsvData, Dataset, Images};
use simplenn::json::Json;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::str::FromStr;

/// MNIST and Fashion-MNIST both have ten classes.
pub const CLASSES: usize = 10;

/// Why a run failed.
pub enum Failure {
    /// The command line is wrong: exit status 2.
    Usage(String),
    /// A file could not be read or written, or its contents are wrong: exit status 1.
    Data(simplenn::Error),
    /// Training diverged (its loss became NaN), with what to try: exit status 1, and
    /// nothing is saved.
    Diverged(String),
}

impl From<simplenn::Diverged> for Failure {
    fn from(e: simplenn::Diverged) -> Self {
        Failure::Diverged(e.to_string())
    }
}

impl From<simplenn::Error> for Failure {
    fn from(e: simplenn::Error) -> Self {
        Failure::Data(e)
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Usage(m) => f.write_str(m),
            Failure::Data(e) => write!(f, "{e}"),
            Failure::Diverged(m) => f.write_str(m),
        }
    }
}

/// Writes one line to stdout. If stdout is closed (the reader of a pipe exited), ends the
/// program with status 141, as a process killed by SIGPIPE would: nobody is listening.
pub fn write_line(args: fmt::Arguments<'_>) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if out
        .write_fmt(args)
        .and_then(|()| out.write_all(b"\n"))
        .is_err()
    {
        std::process::exit(141);
    }
}

/// Runs `main`, printing a failure as one line on stderr and choosing the exit status.
pub fn exit_with(result: Result<(), Failure>, program: &str) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Usage(m)) => {
            eprintln!("error: {m}");
            eprintln!("Run `cargo run --release --example {program} -- --help` for the options.");
            ExitCode::from(2)
        }
        Err(Failure::Data(e)) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
        Err(Failure::Diverged(m)) => {
            eprintln!("error: {m}");
            eprintln!("Nothing was saved.");
            ExitCode::from(1)
        }
    }
}

/// The command line as `--flag value` pairs and bare `--switch`es.
pub struct Args {
    /// `(flag, value)` in order; `value` is `None` for switches.
    pairs: Vec<(String, Option<String>)>,
    /// Flags looked at so far, to report the ones nobody asked for.
    used: Vec<String>,
}

impl Args {
    /// Parses `std::env::args()`. `switches` are the flags that take no value.
    pub fn parse(switches: &[&str]) -> Result<Args, Failure> {
        Self::parse_from(std::env::args().skip(1), switches)
    }

    /// Parses the given arguments (without the program name).
    pub fn parse_from(
        args: impl IntoIterator<Item = String>,
        switches: &[&str],
    ) -> Result<Args, Failure> {
        let mut pairs = Vec::new();
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            let flag = match arg.as_str() {
                "-h" => "--help".to_string(),
                a if a.starts_with("--") => a.to_string(),
                a => {
                    return Err(Failure::Usage(format!(
                        "unexpected argument '{a}' (options start with --)"
                    )));
                }
            };
            let (name, inline) = match flag.split_once('=') {
                Some((n, v)) => (n.to_string(), Some(v.to_string())),
                None => (flag, None),
            };
            if switches.contains(&name.as_str()) {
                if inline.is_some() {
                    return Err(Failure::Usage(format!("{name} takes no value")));
                }
                pairs.push((name, None));
                continue;
            }
            let value = match inline {
                Some(v) => v,
                None => args
                    .next()
                    .ok_or_else(|| Failure::Usage(format!("{name} needs a value")))?,
            };
            if pairs.iter().any(|(n, _)| *n == name) {
                return Err(Failure::Usage(format!("{name} is given twice")));
            }
            pairs.push((name, Some(value)));
        }
        Ok(Args {
            pairs,
            used: Vec::new(),
        })
    }

    /// True if the switch was given.
    pub fn switch(&mut self, name: &str) -> bool {
        self.used.push(name.to_string());
        self.pairs.iter().any(|(n, _)| n == name)
    }

    /// The raw value of `--name`, if given.
    pub fn value(&mut self, name: &str) -> Option<String> {
        self.used.push(name.to_string());
        self.pairs
            .iter()
            .find(|(n, _)| n == name)
            .and_then(|(_, v)| v.clone())
    }

    /// The value of `--name` parsed as `T`, if given; `what` describes a valid value.
    pub fn parsed<T: FromStr>(&mut self, name: &str, what: &str) -> Result<Option<T>, Failure> {
        match self.value(name) {
            None => Ok(None),
            Some(v) => v
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| Failure::Usage(format!("{name}: '{v}' is not {what}"))),
        }
    }

    /// Fails on any flag that no `value`/`switch`/`parsed` call asked about.
    pub fn reject_unknown(&self) -> Result<(), Failure> {
        match self.pairs.iter().find(|(n, _)| !self.used.contains(n)) {
            Some((name, _)) => Err(Failure::Usage(format!("unknown option {name}"))),
            None => Ok(()),
        }
    }
}

/// A number that must be finite and within `range`.
pub fn check_range(
    name: &str,
    value: f64,
    range: std::ops::RangeInclusive<f64>,
) -> Result<f64, Failure> {
    if value.is_finite() && range.contains(&value) {
        Ok(value)
    } else {
        Err(Failure::Usage(format!(
            "{name}: {value} is out of range ({} to {})",
            range.start(),
            range.end()
        )))
    }
}

/// `--threads N`: sets the matrix-product thread count (0 or absent: all cores).
pub fn apply_threads(args: &mut Args) -> Result<usize, Failure> {
    if let Some(n) = args.parsed::<usize>("--threads", "a whole number")? {
        if n == 0 || n > 1024 {
            return Err(Failure::Usage(format!(
                "--threads: {n} is out of range (1 to 1024)"
            )));
        }
        simplenn::matmul::set_threads(n);
    }
    Ok(simplenn::matmul::threads())
}

/// Warns on stderr, once the command line has been read, when the environment's
/// `SIMPLENN_KERNEL` is ignored (it names no kernel, or one this machine cannot run): the
/// library falls back to the best kernel silently and leaves telling the user to us.
pub fn warn_if_kernel_ignored() {
    if let Some(ignored) = simplenn::matmul::kernel_var_ignored() {
        eprintln!("warning: {ignored}");
    }
}

/// The folder of the data set built into the repository.
pub fn builtin_data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data")
        .join("mnist-10k")
}

/// Where the labelled data came from, for messages and the metrics file.
pub struct Loaded {
    /// A short description: the folder or file.
    pub source: String,
    /// The training (or evaluation) set.
    pub train: Dataset,
    /// The test set, when the folder had one.
    pub test: Option<Dataset>,
}

/// Loads `--data DIR` (train and, if present, t10k files) or `--csv FILE` (labelled), or
/// the built-in digits when neither is given.
pub fn load_labelled(data: Option<String>, csv: Option<String>) -> Result<Loaded, Failure> {
    match (data, csv) {
        (Some(_), Some(_)) => Err(Failure::Usage(
            "--data and --csv cannot be used together".to_string(),
        )),
        (None, Some(file)) => match dataset::load_csv(Path::new(&file), CLASSES)? {
            CsvData::Labelled(train) => Ok(Loaded {
                source: file,
                train,
                test: None,
            }),
            CsvData::Unlabelled(_) => Err(Failure::Data(
                simplenn::Error::data(
                    "this CSV has no label column, so it cannot be trained or scored on \
                     (it looks like Kaggle's test.csv: use it with the predict example's \
                     --submission)",
                )
                .in_file(&file),
            )),
        },
        (data, None) => {
            // A folder given on the command line is shown as given; the built-in one
            // relative to the current folder when it is inside it (`data/mnist-10k` from
            // the repository's root), so that output does not depend on where the clone is.
            let source = match &data {
                Some(dir) => dir.clone(),
                None => {
                    let dir = builtin_data_dir();
                    let cwd = std::env::current_dir().unwrap_or_default();
                    dir.strip_prefix(&cwd).unwrap_or(&dir).display().to_string()
                }
            };
            let dir = data.map(PathBuf::from).unwrap_or_else(builtin_data_dir);
            let loaded = dataset::load_dir(&dir, CLASSES)?;
            Ok(Loaded {
                source,
                train: loaded.train,
                test: loaded.test,
            })
        }
    }
}

/// Loads `--csv FILE` that may lack labels.
pub fn load_csv_any(file: &str) -> Result<CsvData, Failure> {
    Ok(dataset::load_csv(Path::new(file), CLASSES)?)
}

/// Prints accuracy and the confusion matrix of `predicted` against `data`'s labels.
pub fn report(name: &str, data: &Dataset, predicted: &[usize]) -> ConfusionMatrix {
    let cm = ConfusionMatrix::new(CLASSES, &data.labels_usize(), predicted);
    say!(
        "{name} accuracy: {:.2}% ({} of {})",
        100.0 * cm.accuracy(),
        cm.correct(),
        cm.total()
    );
    say!("\nconfusion matrix ({name}; rows: true class, columns: predicted):");
    say!("{}", cm.to_string().trim_end());
    cm
}

/// The confusion matrix as JSON rows.
pub fn confusion_json(cm: &ConfusionMatrix) -> Json {
    Json::Array(
        cm.to_rows()
            .into_iter()
            .map(|row| Json::Array(row.into_iter().map(Json::from).collect()))
            .collect(),
    )
}

/// Writes `contents` to `path`, creating the parent folder; errors name the file.
pub fn write_file(path: &Path, contents: &str) -> Result<(), Failure> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|e| Failure::Data(simplenn::Error::io(e).in_file(parent)))?;
    }
    std::fs::write(path, contents).map_err(|e| Failure::Data(simplenn::Error::io(e).in_file(path)))
}

/// Checks up front that a file can be created (making its folder if need be), so a long
/// training run does not end in "cannot write". The file is removed again if it did not
/// exist.
pub fn check_writable(flag: &str, path: &Path) -> Result<(), Failure> {
    if path.is_dir() {
        return Err(Failure::Usage(format!(
            "{flag}: {} is a directory, not a file",
            path.display()
        )));
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|e| Failure::Data(simplenn::Error::io(e).in_file(parent)))?;
    }
    let existed = path.exists();
    std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .map_err(|e| Failure::Data(simplenn::Error::io(e).in_file(path)))?;
    if !existed {
        let _ = std::fs::remove_file(path);
    }
    Ok(())
}

/// Images whose prediction was wrong, for the gallery: `(index, truth, predicted)`.
pub fn misclassified(
    data: &Dataset,
    predicted: &[usize],
    limit: usize,
) -> Vec<(usize, usize, usize)> {
    data.labels()
        .iter()
        .zip(predicted)
        .enumerate()
        .filter(|(_, (t, p))| **t as usize != **p)
        .map(|(i, (t, p))| (i, *t as usize, *p))
        .take(limit)
        .collect()
}

/// The images of a set, for galleries.
pub fn images_of(data: &Dataset) -> &Images {
    data.images()
}
