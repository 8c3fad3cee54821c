//! [`Error`]: what went wrong reading or writing a file, and where.
//!
//! Every reader in the crate (IDX, gzip, CSV, model files, checkpoints, safetensors) reports
//! bad input as an [`Error`] value, never a panic, and its `Display` names the file, the
//! place in it and what was wrong:
//!
//! ```text
//! data/train-images-idx3-ubyte.gz: offset 1208: gzip: invalid block type 3
//! train.csv: line 17, column 785: CSV: pixel value 256 is out of range 0..=255
//! model.snn: offset 12796: model: CRC-32 mismatch (file says 0x1946e058, contents give 0xa06ef47d): the file is damaged
//! ```
//!
//! Parsers that work on bytes in memory return errors without a path; the function that
//! opened the file attaches it with [`Error::in_file`].

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// Where in a file a problem was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Location {
    /// A byte offset from the start of the file, counting from 0.
    Offset(u64),
    /// A byte offset into the decompressed contents of a gzip file.
    DecompressedOffset(u64),
    /// A line of a text file, counting from 1, and optionally a column (the 1-based index of
    /// a comma-separated field).
    Line {
        /// Line number, from 1.
        line: u64,
        /// Field number, from 1, when the problem is in one field.
        column: Option<u64>,
    },
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Location::Offset(o) => write!(f, "offset {o}"),
            Location::DecompressedOffset(o) => write!(f, "offset {o} of the decompressed data"),
            Location::Line { line, column: None } => write!(f, "line {line}"),
            Location::Line {
                line,
                column: Some(c),
            } => write!(f, "line {line}, column {c}"),
        }
    }
}

/// What kind of problem it was. The message says the rest.
#[derive(Debug)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The operating system refused: missing file, permissions, a full disk.
    Io(io::Error),
    /// Corrupt or truncated gzip / DEFLATE data, or a checksum that does not match.
    Gzip(String),
    /// A malformed IDX file: bad magic, dimensions, or payload length.
    Idx(String),
    /// A malformed CSV file: bad header, ragged row, a value that is not a pixel.
    Csv(String),
    /// A malformed, foreign or damaged model file.
    Model(String),
    /// A malformed, foreign or damaged training checkpoint.
    Checkpoint(String),
    /// A malformed safetensors file, or one whose tensors do not fit the network.
    Safetensors(String),
    /// Files that are each well-formed but do not fit together or do not fit the task:
    /// image and label counts differ, a label is out of range, images of the wrong size.
    Data(String),
}

/// An error reading or writing a file: the file, the place in it, and what was wrong.
#[derive(Debug)]
pub struct Error {
    path: Option<PathBuf>,
    location: Option<Location>,
    kind: ErrorKind,
}

impl Error {
    /// An error of `kind`, found at `location` (if the problem has one).
    pub fn new(kind: ErrorKind, location: Option<Location>) -> Self {
        Error {
            path: None,
            location,
            kind,
        }
    }

    /// A gzip error at a byte offset of the compressed file.
    pub fn gzip(offset: u64, message: impl Into<String>) -> Self {
        Self::new(
            ErrorKind::Gzip(message.into()),
            Some(Location::Offset(offset)),
        )
    }

    /// An IDX error at a byte offset.
    pub fn idx(offset: u64, message: impl Into<String>) -> Self {
        Self::new(
            ErrorKind::Idx(message.into()),
            Some(Location::Offset(offset)),
        )
    }

    /// A CSV error at a line and, optionally, a field.
    pub fn csv(line: u64, column: Option<u64>, message: impl Into<String>) -> Self {
        Self::new(
            ErrorKind::Csv(message.into()),
            Some(Location::Line { line, column }),
        )
    }

    /// A model-file error, at a byte offset when there is one.
    pub fn model(offset: Option<u64>, message: impl Into<String>) -> Self {
        Self::new(
            ErrorKind::Model(message.into()),
            offset.map(Location::Offset),
        )
    }

    /// A checkpoint error, at a byte offset when there is one.
    pub fn checkpoint(offset: Option<u64>, message: impl Into<String>) -> Self {
        Self::new(
            ErrorKind::Checkpoint(message.into()),
            offset.map(Location::Offset),
        )
    }

    /// A safetensors error, at a byte offset when there is one.
    pub fn safetensors(offset: Option<u64>, message: impl Into<String>) -> Self {
        Self::new(
            ErrorKind::Safetensors(message.into()),
            offset.map(Location::Offset),
        )
    }

    /// A data-consistency error (no single place in a file is to blame).
    pub fn data(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Data(message.into()), None)
    }

    /// An I/O error.
    pub fn io(err: io::Error) -> Self {
        Self::new(ErrorKind::Io(err), None)
    }

    /// Attaches the file's path, unless the error already names one.
    pub fn in_file(mut self, path: impl AsRef<Path>) -> Self {
        if self.path.is_none() {
            self.path = Some(path.as_ref().to_path_buf());
        }
        self
    }

    /// Re-labels a byte offset as an offset into decompressed data (for errors found by a
    /// parser reading the output of gzip).
    pub fn in_decompressed_data(mut self) -> Self {
        if let Some(Location::Offset(o)) = self.location {
            self.location = Some(Location::DecompressedOffset(o));
        }
        self
    }

    /// The file, if known.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Where in the file, if the problem has a place.
    pub fn location(&self) -> Option<Location> {
        self.location
    }

    /// What kind of problem.
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(path) = &self.path {
            write!(f, "{}: ", path.display())?;
        }
        if let Some(location) = &self.location {
            write!(f, "{location}: ")?;
        }
        match &self.kind {
            ErrorKind::Io(e) => write!(f, "{e}"),
            ErrorKind::Gzip(m) => write!(f, "gzip: {m}"),
            ErrorKind::Idx(m) => write!(f, "IDX: {m}"),
            ErrorKind::Csv(m) => write!(f, "CSV: {m}"),
            ErrorKind::Model(m) => write!(f, "model: {m}"),
            ErrorKind::Checkpoint(m) => write!(f, "checkpoint: {m}"),
            ErrorKind::Safetensors(m) => write!(f, "safetensors: {m}"),
            ErrorKind::Data(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            ErrorKind::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<io::Error> for Error {
    fn from(err: io::Error) -> Self {
        Error::io(err)
    }
}

/// `Result<T, simplenn::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;
