//! Model files: a trained [`Network`] saved to disk and read back, bit for bit.
//!
//! The format is our own, and small: a header from which a reader works out the file's exact
//! length before it allocates anything, the parameters as little-endian `f32`, and a CRC-32
//! over all of it. Version 1 (`v1.rs`) holds a stack of dense layers, and every such network
//! is still written in it, so that the file loads in every release; version 2 (`v2.rs`) holds
//! any stack of layers. This file has the public API and what the versions share: the
//! magic, the version, the limits and the checks common to both. The book's chapter "The model file format" has the
//! tables, why the format looks as it does, a reader in Python, and every check in its order.
//! [`safetensors`] and [`onnx`] take a network to other libraries.
//!
//! ```
//! use simplenn::{Activation, Network, model};
//!
//! let net: Network = Network::builder(4).hidden(8, Activation::Tanh).output(3).seed(1).build();
//! let bytes = model::to_bytes(&net);
//! // Version 1: 20 bytes of header, 8 per layer, the parameters as f32, the CRC.
//! assert_eq!(bytes.len(), 20 + 8 * 2 + 4 * (4 * 8 + 8 + 8 * 3 + 3) + 4);
//!
//! let loaded: Network = model::from_bytes(&bytes)?;
//! assert_eq!(loaded, net); // every parameter, bit for bit
//!
//! let mut damaged = bytes.clone();
//! damaged[100] ^= 0x10;
//! let err = model::from_bytes::<f32>(&damaged).unwrap_err();
//! assert!(err.to_string().contains("CRC-32 mismatch"));
//! # Ok::<(), simplenn::Error>(())
//! ```

mod atomic;
pub mod onnx;
pub mod safetensors;
mod v1;
mod v2;

pub(crate) use atomic::write_atomically;

use crate::blocks::matrix::Matrix;
use crate::data::crc32::crc32;
use crate::error::{Error, Result};
use crate::float::Float;
use crate::nn::activation::Activation;
use crate::nn::layer::{Layer, LayerKind};
use crate::nn::network::Network;
use std::fs;
use std::path::Path;

/// The first 8 bytes of every model file: `\x89 S N N \r \n \x1A \n`. Like PNG's, they are
/// changed in a recognisable way by a 7-bit channel or a text-mode copy, so that an error can
/// say how a file was damaged, not only that it was.
pub const MAGIC: [u8; 8] = [0x89, b'S', b'N', b'N', b'\r', b'\n', 0x1A, b'\n'];

/// The newest format version this build reads and writes. It writes the oldest version
/// that can hold the network: version 1 for a stack of dense layers (so that such a file
/// loads in every release), version 2 when there are convolutions or pooling, version 3
/// when there is batch normalisation.
pub const VERSION: u32 = 3;

/// The most values one sample may have at any layer of a version-2 file (2²⁶, 256 MB of
/// `f32` per sample): a layer without parameters costs no bytes in the file, so without a
/// limit a file of 100 bytes could describe feature maps that need terabytes.
pub const MAX_SAMPLE_VALUES: usize = 1 << 26;

/// The most layers a model file may have. Far more than a dense network trains well with;
/// the limit only keeps a damaged header from describing billions of layers.
pub const MAX_LAYERS: u32 = 1024;

/// Bytes of the trailing CRC-32.
const CRC_SIZE: usize = 4;

/// The activation's code in a model file.
fn activation_code(activation: Activation) -> u8 {
    match activation {
        Activation::Identity => 0,
        Activation::Relu => 1,
        Activation::Sigmoid => 2,
        Activation::Tanh => 3,
    }
}

/// The activation a code stands for, if any.
fn activation_from_code(code: u8) -> Option<Activation> {
    Activation::ALL
        .into_iter()
        .find(|&a| activation_code(a) == code)
}

/// The `f32` stored for a parameter: exact for `f32`, rounded to nearest for `f64`.
fn stored<T: Float>(x: T) -> f32 {
    x.to_f64() as f32
}

/// The network as the bytes of a model file.
///
/// # Panics
/// If the network cannot be stored or would not load back: a NaN or infinite parameter,
/// an `f64` parameter beyond `f32`'s range, more than [`MAX_LAYERS`] layers, or a layer of
/// zero or more than `u32::MAX` units. [`save`] returns these as errors instead.
pub fn to_bytes<T: Float>(network: &Network<T>) -> Vec<u8> {
    if let Err(e) = check_storable(network) {
        panic!("model::to_bytes: {e}");
    }
    encode(network)
}

/// [`to_bytes`], with what it would panic on as an error.
pub(crate) fn try_to_bytes<T: Float>(network: &Network<T>) -> Result<Vec<u8>> {
    check_storable(network)?;
    Ok(encode(network))
}

/// Writes the file, once [`check_storable`] has said every field fits: version 1 for a
/// stack of dense layers, version 2 or 3 otherwise.
fn encode<T: Float>(network: &Network<T>) -> Vec<u8> {
    if network.layers().iter().all(|l| l.as_dense().is_some()) {
        v1::encode(network)
    } else {
        v2::encode(network)
    }
}

/// Checks that every field of the network fits the format and that it will load back.
fn check_storable<T: Float>(network: &Network<T>) -> Result<()> {
    let layers = network.layers();
    let refuse = |msg: String| {
        Err(Error::model(
            None,
            format!("cannot store the network: {msg}"),
        ))
    };
    if layers.len() > MAX_LAYERS as usize {
        return refuse(format!(
            "it has {} layers, the format allows at most {MAX_LAYERS}",
            layers.len()
        ));
    }
    let too_wide = |n: usize| n == 0 || u32::try_from(n).is_err();
    let dense_only = layers.iter().all(|l| l.as_dense().is_some());
    let input = network.input_shape();
    if dense_only && too_wide(network.inputs()) {
        return refuse(format!(
            "{} inputs (the format needs 1..={})",
            network.inputs(),
            u32::MAX
        ));
    }
    let shapes = std::iter::once(input).chain(layers.iter().map(Layer::output_shape));
    if !dense_only {
        for (l, shape) in shapes.enumerate() {
            if shape.volume() > MAX_SAMPLE_VALUES {
                let what = if l == 0 {
                    "the input".to_string()
                } else {
                    format!("layer {}'s output", l - 1)
                };
                return refuse(format!(
                    "{what} is {shape}, more than the {MAX_SAMPLE_VALUES} values per sample the \
                     format allows"
                ));
            }
        }
    }
    for (l, layer) in layers.iter().enumerate() {
        let fields = match layer {
            Layer::Dense(d) => vec![d.outputs()],
            Layer::Conv2d(c) => vec![c.output_shape().channels, c.kernel(), c.stride()],
            Layer::MaxPool2d(p) => vec![p.size()],
            Layer::BatchNorm(_) => vec![],
        };
        if let Some((mean, var, _)) = layer.running_statistics() {
            let values = mean.iter().map(|&m| ("running mean", m));
            let values = values.chain(var.iter().map(|&v| ("running variance", v)));
            if let Some((what, x)) = values.into_iter().find(|(_, x)| !stored(*x).is_finite()) {
                return refuse(non_finite(l, what, x));
            }
        }
        if let Some(&n) = fields.iter().find(|&&n| too_wide(n)) {
            return refuse(format!(
                "layer {l} has a size of {n} (the format needs 1..={})",
                u32::MAX
            ));
        }
        if let Layer::Conv2d(c) = layer
            && u32::try_from(c.padding()).is_err()
        {
            return refuse(format!("layer {l}'s padding {} is too large", c.padding()));
        }
        let (Some(weights), Some(bias)) = (layer.weights(), layer.bias()) else {
            continue;
        };
        for (k, &w) in weights.as_slice().iter().enumerate() {
            if !stored(w).is_finite() {
                let (i, j) = (k / weights.cols(), k % weights.cols());
                return refuse(non_finite(l, &format!("weight ({i}, {j})"), w));
            }
        }
        for (j, &b) in bias.iter().enumerate() {
            if !stored(b).is_finite() {
                return refuse(non_finite(l, &format!("bias {j}"), b));
            }
        }
    }
    Ok(())
}

/// Why a parameter cannot be stored.
fn non_finite<T: Float>(layer: usize, what: &str, x: T) -> String {
    let why = if x.is_finite() {
        "is beyond f32's range and would be stored as infinity"
    } else {
        "is not a finite number (did training diverge?)"
    };
    format!("layer {layer} {what} = {x:?} {why}")
}

/// Reads a network from the bytes of a model file.
///
/// Everything the header says is checked against the length of `bytes` before any
/// parameter is allocated, then the CRC, then the parameters. An error names the byte offset
/// of the problem; no input makes this panic. The book's chapter "The model file format"
/// lists the checks in their order.
pub fn from_bytes<T: Float>(bytes: &[u8]) -> Result<Network<T>> {
    check_magic(bytes)?;
    let version = check_version(bytes)?;
    if version == 1 {
        let header = v1::Header::parse(bytes)?;
        check_crc(bytes)?;
        let activations = header.activations(bytes)?;
        header.read_network(bytes, &activations)
    } else {
        let plan = v2::Plan::parse(bytes, version)?;
        check_crc(bytes)?;
        plan.read_network(bytes)
    }
}

/// Reads the version field and checks that this build understands it.
fn check_version(bytes: &[u8]) -> Result<u32> {
    let version =
        u32_at(bytes, 8).ok_or_else(|| truncated(bytes, "the header needs", v1::FIXED_HEADER))?;
    if version == 0 {
        return Err(error_at(
            8,
            "format version 0 does not exist (versions start at 1)",
        ));
    }
    if version > VERSION {
        return Err(error_at(
            8,
            format!("format version {version} is newer than this build understands ({VERSION})"),
        ));
    }
    Ok(version)
}

/// The little-endian `u32` at `offset`, if the bytes reach that far.
fn u32_at(bytes: &[u8], offset: usize) -> Option<u32> {
    let end = offset.checked_add(4)?;
    Some(u32::from_le_bytes(bytes.get(offset..end)?.try_into().ok()?))
}

/// A model error at a byte offset.
fn error_at(offset: usize, message: impl Into<String>) -> Error {
    Error::model(Some(offset as u64), message)
}

/// "truncated: the header needs N bytes, the file has M", at the end of the file.
fn truncated(bytes: &[u8], what: &str, needed: impl std::fmt::Display) -> Error {
    error_at(
        bytes.len(),
        format!(
            "truncated: {what} {needed} bytes, the file has {}",
            bytes.len()
        ),
    )
}

/// Checks the first 8 bytes, and when they are wrong, says what the file looks like.
fn check_magic(bytes: &[u8]) -> Result<()> {
    if bytes.is_empty() {
        return Err(error_at(0, "empty file: not a simplenn model file"));
    }
    let head = &bytes[..bytes.len().min(MAGIC.len())];
    let Some(bad) = head.iter().zip(&MAGIC).position(|(a, b)| a != b) else {
        if head.len() < MAGIC.len() {
            return Err(truncated(bytes, "the magic alone needs", MAGIC.len()));
        }
        return Ok(());
    };
    let hex: Vec<String> = head.iter().map(|b| format!("{b:02x}")).collect();
    // What a text-mode copy does to the magic's last four bytes, `\r \n \x1A \n`.
    let tail = bytes.get(4..).unwrap_or_default();
    let crlf_to_lf = tail.starts_with(b"\n\x1A\n");
    let lf_to_crlf = tail.starts_with(b"\r\n\x1A\r\n") || tail.starts_with(b"\r\r\n");
    let hint = if head.starts_with(&[0x1F, 0x8B]) {
        ": it starts like a gzip file; if it is a compressed model, decompress it first"
    } else if head.len() >= 4 && head[..2] == [0, 0] && matches!(head[2], 0x08..=0x0E) {
        ": it starts like an IDX file (MNIST images or labels), not a model"
    } else if head.len() >= 4 && head[1..4] == MAGIC[1..4] && head[0] == MAGIC[0] & 0x7F {
        ": the first byte lost its high bit, so the file went through a 7-bit channel"
    } else if head.len() >= 4 && head[..4] == MAGIC[..4] && (crlf_to_lf || lf_to_crlf) {
        ": its line endings were converted, so it was copied as text (FTP ASCII mode, \
         git autocrlf, ...); copy it as binary"
    } else if head.len() >= 4 && head[..4] == MAGIC[..4] {
        ": it starts like a model file, but its magic is damaged"
    } else {
        ""
    };
    Err(error_at(
        bad,
        format!(
            "not a simplenn model file (magic {}, expected {}){hint}",
            hex.join(" "),
            MAGIC.map(|b| format!("{b:02x}")).join(" ")
        ),
    ))
}

/// Reads layer `l`'s `rows × cols` weights and `cols` biases starting at `*offset`, which
/// it moves past them, refusing a value that is not finite. The header has been checked
/// against the file's length, so the values are there and no allocation exceeds the file.
fn read_parameters<T: Float>(
    bytes: &[u8],
    offset: &mut usize,
    l: usize,
    rows: usize,
    cols: usize,
) -> Result<(Matrix<T>, Vec<T>)> {
    let weights = read_floats(bytes, offset, l, rows * cols, &|k| {
        format!("weight ({}, {})", k / cols, k % cols)
    })?;
    let bias = read_floats(bytes, offset, l, cols, &|j| format!("bias {j}"))?;
    Ok((Matrix::from_vec(rows, cols, weights), bias))
}

/// Reads `count` `f32`s of layer `l` starting at `*offset`, which it moves past them,
/// refusing one that is not finite and naming it by `name(k)`.
fn read_floats<T: Float>(
    bytes: &[u8],
    offset: &mut usize,
    l: usize,
    count: usize,
    name: &dyn Fn(usize) -> String,
) -> Result<Vec<T>> {
    let mut values = Vec::with_capacity(count);
    for k in 0..count {
        let at = *offset;
        let x = f32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
        if !x.is_finite() {
            return Err(error_at(
                at,
                format!("layer {l} {} is {x}, not a finite number", name(k)),
            ));
        }
        values.push(T::from_f64(f64::from(x)));
        *offset += 4;
    }
    Ok(values)
}

/// Compares the length the header describes (`None`: more than 2⁶⁴ bytes) with the file's.
fn check_length(bytes: &[u8], expected: Option<u64>) -> Result<()> {
    let Some(expected) = expected else {
        return Err(error_at(
            bytes.len(),
            format!(
                "truncated: the header describes more than 2⁶⁴ bytes, the file has {}",
                bytes.len()
            ),
        ));
    };
    let actual = bytes.len() as u64;
    if actual < expected {
        return Err(truncated(bytes, "the header describes", expected));
    }
    if actual > expected {
        return Err(error_at(
            expected as usize, // < actual, so it fits
            format!(
                "{} trailing byte{}: the header describes {expected} bytes, the file has {actual}",
                actual - expected,
                if actual - expected == 1 { "" } else { "s" }
            ),
        ));
    }
    Ok(())
}

/// Compares the CRC-32 in the last 4 bytes with the CRC of the rest.
fn check_crc(bytes: &[u8]) -> Result<()> {
    let body = bytes.len().saturating_sub(CRC_SIZE);
    let stored = u32_at(bytes, body).ok_or_else(|| truncated(bytes, "the CRC needs", CRC_SIZE))?;
    let computed = crc32(&bytes[..body]);
    if stored != computed {
        return Err(error_at(
            body,
            format!(
                "CRC-32 mismatch (file says {stored:#010x}, contents give {computed:#010x}): \
                 the file is damaged"
            ),
        ));
    }
    Ok(())
}

/// Saves the network to `path`, atomically: the file at `path` is either the old one,
/// untouched, or the complete new one, whatever happens during the save.
///
/// The bytes go to a temporary file beside it (`.NAME.tmp-PID-N`, removed on any error),
/// synced to the disk, then renamed over `path`: a crash or a full disk half-way through
/// leaves at worst a stray temporary file, never half a model. The book's chapter "The model
/// file format" gives the reason for each step. The file's permissions are the defaults for
/// a new file.
///
/// Errors name `path`: an I/O error (a missing directory, no permission, a full disk), or
/// a network the format cannot hold (see [`to_bytes`]), in which case nothing is written.
pub fn save<T: Float>(network: &Network<T>, path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    check_storable(network).map_err(|e| e.in_file(path))?;
    let bytes = encode(network);
    write_atomically(path, &bytes).map_err(|e| Error::io(e).in_file(path))
}

/// Loads a network from a model file written by [`save`].
///
/// Errors name `path`: an I/O error, or anything [`from_bytes`] finds wrong with the file.
pub fn load<T: Float>(path: impl AsRef<Path>) -> Result<Network<T>> {
    let path = path.as_ref();
    let bytes = fs::read(path).map_err(|e| Error::io(e).in_file(path))?;
    from_bytes(&bytes).map_err(|e| e.in_file(path))
}

impl<T: Float> Network<T> {
    /// Saves the network to a model file, atomically; see [`model::save`](save).
    ///
    /// ```
    /// use simplenn::{Activation, Network};
    ///
    /// let net: Network = Network::builder(3).hidden(5, Activation::Relu).output(2).build();
    /// let path = std::env::temp_dir().join(format!("doctest-{}.snn", std::process::id()));
    /// net.save(&path)?;
    /// assert_eq!(Network::load(&path)?, net);
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), simplenn::Error>(())
    /// ```
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        save(self, path)
    }

    /// Loads a network from a model file; see [`model::load`](load).
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        load(path)
    }
}
