//! The IDX file format in which MNIST is distributed: a header that gives the shape of an
//! array, then the array's bytes.
//!
//! The reader checks everything the header says (magic, element type, dimensions, and that
//! the data is exactly as long as they promise) before it allocates anything. It works on
//! bytes in memory; the caller attaches the file's path to an error with
//! [`Error::in_file`](crate::error::Error::in_file). The book's chapter "The data" reads a
//! file byte by byte, and "Reading files you cannot trust" walks through the checks.
//!
//! ```
//! use simplenn::idx;
//!
//! let bytes = idx::to_bytes(&[2, 3], &[1, 2, 3, 4, 5, 6]);
//! assert_eq!(&bytes[..4], &[0, 0, 0x08, 2]); // magic 0x00000802: bytes, 2 dimensions
//! let file = idx::parse(&bytes)?;
//! assert_eq!(file.dims, [2, 3]);
//! assert_eq!(file.data, [1, 2, 3, 4, 5, 6]);
//! # Ok::<(), simplenn::Error>(())
//! ```

use crate::error::{Error, Result};

/// The contents of an IDX file: an array of bytes and its shape.
///
/// `data` is row-major (the last dimension varies fastest), and `data.len()` is always the
/// product of `dims`. An MNIST image file has `dims == [n, 28, 28]`, with image `i` at
/// `data[i * 784..(i + 1) * 784]`; a label file has `dims == [n]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Idx {
    /// The size of each dimension, outermost first (1 to 4 of them). A size may be 0: an
    /// empty set of images is still a set of images.
    pub dims: Vec<usize>,
    /// The elements, row-major.
    pub data: Vec<u8>,
}

/// The type byte for unsigned bytes, the one element type we read.
const TYPE_U8: u8 = 0x08;

/// The most dimensions we accept. The format allows 255, but MNIST uses 1 (labels) and 3
/// (images); a limit rejects a corrupt count early, before we read hundreds of "dimensions".
pub const MAX_DIMS: usize = 4;

// ANCHOR: header
/// Reads and checks an IDX header, returning the dimensions and the header's length in
/// bytes (where the data starts: `4 + 4 × number of dimensions`).
///
/// `bytes` needs to hold only the header; nothing after it is looked at. This lets a caller
/// check a file's shape, and that its size fits in memory, before allocating anything.
/// The product of the non-zero dimensions is guaranteed to fit in a `usize`, so
/// `dims.iter().product::<usize>()` cannot overflow, in any order.
///
/// # Errors
/// A bad magic number, an element type other than unsigned bytes, no dimensions or more
/// than [`MAX_DIMS`], a header cut short, or dimensions whose product overflows `usize`.
/// Each error gives the offset of the offending byte.
pub fn parse_header(bytes: &[u8]) -> Result<(Vec<usize>, usize)> {
    // Bytes 0-3: the "magic number" 0x0000TTNN. The two zero bytes are what make it IDX.
    if bytes.len() < 4 {
        return Err(Error::idx(
            bytes.len() as u64,
            format!(
                "truncated: an IDX header is at least 4 bytes, file has {}",
                bytes.len()
            ),
        ));
    }
    if bytes[0] != 0 || bytes[1] != 0 {
        let magic = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
        let offset = if bytes[0] != 0 { 0 } else { 1 };
        let hint = if bytes[..2] == [0x1f, 0x8b] {
            " (it looks gzip-compressed: decompress it first)"
        } else {
            ""
        };
        return Err(Error::idx(
            offset,
            format!("bad magic 0x{magic:08X}: not an IDX file{hint}"),
        ));
    }

    // Byte 2: the element type.
    let element_type = bytes[2];
    if element_type != TYPE_U8 {
        let message = match type_name(element_type) {
            Some(name) => format!(
                "IDX type 0x{element_type:02X} ({name}) is not supported: \
                 only unsigned bytes (0x08)"
            ),
            None => format!(
                "invalid IDX type byte 0x{element_type:02X}: the format defines \
                 0x08 (u8), 0x09 (i8), 0x0B (i16), 0x0C (i32), 0x0D (f32), 0x0E (f64)"
            ),
        };
        return Err(Error::idx(2, message));
    }

    // Byte 3: how many dimensions follow.
    let n_dims = usize::from(bytes[3]);
    if n_dims == 0 || n_dims > MAX_DIMS {
        return Err(Error::idx(
            3,
            format!("{n_dims} dimensions: this reader accepts 1 to {MAX_DIMS}"),
        ));
    }
    let header_len = 4 + 4 * n_dims;
    if bytes.len() < header_len {
        return Err(Error::idx(
            bytes.len() as u64,
            format!(
                "truncated: a header with {n_dims} dimensions is {header_len} bytes, \
                 file has {}",
                bytes.len()
            ),
        ));
    }

    // Bytes 4..: one big-endian u32 per dimension. Their product is the data's length, and
    // a corrupt header can make it overflow: check every step.
    let mut dims = Vec::with_capacity(n_dims);
    let mut product: usize = 1; // of the non-zero dimensions
    for i in 0..n_dims {
        let at = 4 + 4 * i;
        let raw = u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
        let dim = usize::try_from(raw).ok();
        match dim.and_then(|d| Some((d, product.checked_mul(d.max(1))?))) {
            Some((d, p)) => {
                dims.push(d);
                product = p;
            }
            None => {
                return Err(Error::idx(
                    at as u64,
                    format!(
                        "dimension {} is {raw}: the dimensions' product overflows usize, \
                         far more data than fits in memory",
                        i + 1
                    ),
                ));
            }
        }
    }
    Ok((dims, header_len))
}
// ANCHOR_END: header

/// The name of each element type the IDX format defines, or `None` for an invalid type byte.
fn type_name(element_type: u8) -> Option<&'static str> {
    match element_type {
        0x08 => Some("u8"),
        0x09 => Some("i8"),
        0x0B => Some("i16"),
        0x0C => Some("i32"),
        0x0D => Some("f32"),
        0x0E => Some("f64"),
        _ => None,
    }
}

/// Parses a whole IDX file of unsigned bytes.
///
/// The data must be exactly as long as the header says: a short file was cut off (a failed
/// download), and a long one is not what its header describes. Both are errors rather than
/// guesses. The header is checked before anything is allocated.
///
/// # Errors
/// Everything [`parse_header`] rejects, and a data section shorter or longer than the
/// product of the dimensions. Each error gives the offset of the problem: for a short file,
/// its end; for a long one, the first byte past the data.
pub fn parse(bytes: &[u8]) -> Result<Idx> {
    let (dims, header_len) = check(bytes)?;
    Ok(Idx {
        dims,
        data: bytes[header_len..].to_vec(),
    })
}

/// Like [`parse`], taking the file's bytes by value: the header is removed in place and the
/// buffer becomes the data, so a 47 MB image file is not copied into a second 47 MB buffer.
///
/// # Errors
/// As [`parse`].
pub fn parse_owned(mut bytes: Vec<u8>) -> Result<Idx> {
    let (dims, header_len) = check(&bytes)?;
    bytes.drain(..header_len);
    Ok(Idx { dims, data: bytes })
}

/// Checks the header and that the data is exactly as long as it promises; returns the
/// dimensions and the header's length.
fn check(bytes: &[u8]) -> Result<(Vec<usize>, usize)> {
    let (dims, header_len) = parse_header(bytes)?;
    let expected: usize = dims.iter().product();
    let payload = &bytes[header_len..];
    if payload.len() < expected {
        return Err(Error::idx(
            bytes.len() as u64,
            format!(
                "truncated: header promises {expected} bytes of data, file has {}",
                payload.len()
            ),
        ));
    }
    if payload.len() > expected {
        return Err(Error::idx(
            (header_len + expected) as u64,
            format!(
                "{} trailing byte{} after the data (header promises {expected} bytes, \
                 file has {})",
                payload.len() - expected,
                if payload.len() - expected == 1 {
                    ""
                } else {
                    "s"
                },
                payload.len()
            ),
        ));
    }
    Ok((dims, header_len))
}

/// Writes an IDX file of unsigned bytes: the header for `dims`, then `data`. It is the
/// inverse of [`parse`]: `parse(&to_bytes(dims, data))` gives back `dims` and `data`.
///
/// # Panics
/// If `dims` has no dimensions or more than [`MAX_DIMS`], if a dimension exceeds `u32::MAX`
/// (the format stores each as a `u32`), or if `data.len()` is not the product of `dims`.
/// These are mistakes in the calling code, not in any file.
pub fn to_bytes(dims: &[usize], data: &[u8]) -> Vec<u8> {
    assert!(
        (1..=MAX_DIMS).contains(&dims.len()),
        "idx::to_bytes: {} dimensions, expected 1 to {MAX_DIMS}",
        dims.len()
    );
    // The same rule as `parse_header`, so that everything written can be read back.
    let fits = dims
        .iter()
        .try_fold(1usize, |p, &d| p.checked_mul(d.max(1)));
    assert!(
        fits.is_some(),
        "idx::to_bytes: the product of dimensions {dims:?} overflows usize"
    );
    let expected: usize = dims.iter().product();
    assert!(
        expected == data.len(),
        "idx::to_bytes: dimensions {dims:?} need {expected} bytes, data has {}",
        data.len()
    );
    let mut bytes = Vec::with_capacity(4 + 4 * dims.len() + data.len());
    bytes.extend_from_slice(&[0, 0, TYPE_U8, dims.len() as u8]);
    for &d in dims {
        let d = u32::try_from(d).unwrap_or_else(|_| {
            panic!("idx::to_bytes: dimension {d} does not fit in the format's u32")
        });
        bytes.extend_from_slice(&d.to_be_bytes());
    }
    bytes.extend_from_slice(data);
    bytes
}
