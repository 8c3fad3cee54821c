//! Model files: a trained [`Network`] saved to disk and read back, bit for bit.
//!
//! The format is our own, small enough to describe in one table and to read from any
//! language with a dozen lines. Every integer and float is **little-endian**; every
//! parameter is an IEEE-754 `f32`.
//!
//! | offset | size | type | meaning |
//! | --- | --- | --- | --- |
//! | 0 | 8 | bytes | magic: `89 53 4E 4E 0D 0A 1A 0A` (`\x89` `SNN` `\r\n` `\x1A` `\n`) |
//! | 8 | 4 | u32 | format version, `1` |
//! | 12 | 4 | u32 | `L`, the number of layers, `1..=`[`MAX_LAYERS`] |
//! | 16 | 4 | u32 | `n₀`, the number of inputs, `> 0` |
//! | 20 + 8l | 4 | u32 | `nₗ₊₁`, layer `l`'s number of outputs, `> 0` (for `l` in `0..L`) |
//! | 24 + 8l | 1 | u8 | layer `l`'s activation: `0` identity, `1` ReLU, `2` sigmoid, `3` tanh |
//! | 25 + 8l | 3 | bytes | reserved, zero |
//! | `P = 20 + 8L` | | f32 … | the parameters, layer by layer (below) |
//! | `E − 4` | 4 | u32 | CRC-32 of bytes `0..E−4` (the [`crate::crc32`] of zlib and PNG) |
//!
//! Layer `l` (from `nₗ` inputs to `nₗ₊₁` outputs) stores `nₗ·nₗ₊₁` weights, row-major as
//! [`Dense::weights`] holds them (weight `(i, j)`, from input `i` to output `j`, is number
//! `i·nₗ₊₁ + j`), then its `nₗ₊₁` biases. Layer 0 starts at `P`, and each layer starts
//! right after the one before, so the file is `E = P + 4·Σₗ(nₗ·nₗ₊₁ + nₗ₊₁) + 4` bytes long.
//!
//! A 2 → 3 ReLU → 2 network, for example, is `20 + 8·2 = 36` bytes of header, then
//! `4·(2·3 + 3) = 36` bytes of layer 0 (weights at 36, biases at 60), `4·(3·2 + 2) = 32`
//! bytes of layer 1 (weights at 72, biases at 96), and the CRC at 104: 108 bytes in all.
//!
//! ## Version 2: any stack of layers
//!
//! A network with convolutions or pooling is written as version 2 (a stack of dense layers
//! is still written as version 1, so that it loads in every release). The same rules hold:
//! little-endian, `f32` parameters, the layout first, reserved bytes zero, the CRC last.
//!
//! | offset | size | type | meaning |
//! | --- | --- | --- | --- |
//! | 0 | 8 | bytes | magic, as in version 1 |
//! | 8 | 4 | u32 | format version, `2` |
//! | 12 | 4 | u32 | `L`, the number of layers, `1..=`[`MAX_LAYERS`] |
//! | 16 | 12 | 3 × u32 | the input shape: height, width, channels, each `> 0` |
//! | 28 + 20l | 1 | u8 | layer `l`'s kind: `0` dense, `1` conv2d, `2` maxpool2d |
//! | 29 + 20l | 1 | u8 | its activation, codes as in version 1 (`0` for pooling) |
//! | 30 + 20l | 2 | bytes | reserved, zero |
//! | 32 + 20l | 16 | 4 × u32 | dense: outputs, 0, 0, 0; conv2d: output channels, kernel size, stride, padding; maxpool2d: window, 0, 0, 0 |
//! | `P = 28 + 20L` | | f32 … | the parameters of the layers that have them, in order |
//! | `E − 4` | 4 | u32 | CRC-32 of bytes `0..E−4` |
//!
//! Each layer's shapes follow from the one before (a dense layer reads its input as a flat
//! vector of all its values). A dense layer stores `inputs × outputs` weights row-major, then
//! its biases, as in version 1; a convolution its `(k·k·C) × OC` weights row-major (row
//! `(ky·k + kx)·C + c`, column `o`, see [`crate::layer::conv2d`]), then `OC` biases; pooling
//! stores nothing. A reader checks every record against the shape it receives (a kernel
//! larger than the padded image, a pooling window larger than the image, a layer with more
//! than [`MAX_SAMPLE_VALUES`] values per sample are errors), works out the file's exact
//! length with checked arithmetic and compares it with the real one, all before it allocates
//! a parameter.
//!
//! ## Why it looks like this
//!
//! - **The magic** is PNG's trick (see the PNG specification, section 12.12). The first
//!   byte has its high bit set, so the file is not mistaken for text and a channel that
//!   strips the eighth bit is caught; `\r\n` and then `\n` are damaged by any conversion of
//!   line endings, in either direction; `\x1A` stops `type` on DOS. The CRC would catch all
//!   of these too, but only as "damaged": the magic lets the error say *how* the file was
//!   damaged, and that it was copied in text mode.
//! - **Everything the layout depends on comes first**, so a reader can check the header,
//!   work out exactly how long the file must be, and compare that with the real length
//!   before it allocates or reads a single parameter. A header that lies (a layer of
//!   2³¹ units in a file of 40 bytes) is an error, not an attempt to allocate 8 GB.
//! - **The reserved bytes** keep every `f32` at an offset that is a multiple of 4, so the
//!   parameters can be viewed in place (`numpy.frombuffer`, a C cast of a memory map).
//!   They must be zero, so that a later version can give them a meaning.
//! - **The CRC-32** over everything else detects a damaged file rather than loading a
//!   network that silently predicts nonsense. It detects every error confined to 32
//!   consecutive bits, so every flipped byte.
//! - **No names, no training history**: a model file is what [`Network::predict`] needs,
//!   nothing more. The last layer's outputs are the logits, and softmax comes after them.
//!
//! ## `f64` networks
//!
//! The format stores `f32`, what networks train in. An `f64` network (the crate uses them
//! for gradient checks) is stored by rounding each parameter to the nearest `f32`, ties
//! to even (Rust's `as f32`): a relative change of at most 2⁻²⁴ ≈ 6·10⁻⁸ for numbers in
//! `f32`'s normal range, and numbers smaller than `f32`'s smallest subnormal (≈ 1.4·10⁻⁴⁵)
//! become zero. Loading into `f64` converts exactly, so a loaded `f64` network's
//! parameters are `(x as f32) as f64` of the saved one's. A parameter beyond `f32`'s range
//! (about ±3.4·10³⁸) would become infinite, and is refused like NaN: see the errors below.
//!
//! ## Reading it elsewhere
//!
//! A reader in Python, with the standard library only (`zlib.crc32` is the same CRC):
//!
//! ```text
//! import struct, zlib
//!
//! def load(path):
//!     data = open(path, "rb").read()
//!     assert data[:8] == b"\x89SNN\r\n\x1a\n", "not a simplenn model"
//!     version, n_layers, n_in = struct.unpack_from("<3I", data, 8)
//!     assert version == 1
//!     assert struct.unpack_from("<I", data, len(data) - 4)[0] == zlib.crc32(data[:-4])
//!     layers, pos = [], 20 + 8 * n_layers
//!     for l in range(n_layers):
//!         n_out, act = struct.unpack_from("<IB", data, 20 + 8 * l)
//!         w = struct.unpack_from(f"<{n_in * n_out}f", data, pos)
//!         pos += 4 * n_in * n_out
//!         b = struct.unpack_from(f"<{n_out}f", data, pos)
//!         pos += 4 * n_out
//!         rows = [w[i * n_out:(i + 1) * n_out] for i in range(n_in)]
//!         layers.append((rows, b, ["identity", "relu", "sigmoid", "tanh"][act]))
//!         n_in = n_out
//!     return layers
//! ```
//!
//! ## In Rust
//!
//! ```
//! use simplenn::{Activation, Matrix, Network, model};
//!
//! let net: Network = Network::builder(4).hidden(8, Activation::Tanh).output(3).seed(1).build();
//! let bytes = model::to_bytes(&net);
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
//!
//! [`Network::save`] and [`Network::load`] do the same through a file; saving replaces the
//! file atomically, so a crash never leaves half a model behind (see [`save`]).
//!
//! ## Errors
//!
//! Loading checks, in this order: the magic, the version, the layer count, the sizes (with
//! checked arithmetic), that the file is exactly as long as the header says, the CRC, the
//! activation codes and reserved bytes, and that every parameter is finite. Each error is
//! a [`Model`](crate::ErrorKind::Model) error naming the byte offset of the problem, and
//! no input makes loading panic. Saving refuses (and [`to_bytes`] panics on) a network the
//! format cannot hold or that would not load back: a NaN or infinite parameter (a diverged
//! training run), more than [`MAX_LAYERS`] layers, a layer of zero or more than
//! `u32::MAX` units.

pub mod onnx;
pub mod safetensors;

use crate::activation::Activation;
use crate::crc32::crc32;
use crate::error::{Error, Result};
use crate::float::Float;
use crate::layer::{Conv2d, Dense, Layer, MaxPool2d};
use crate::matrix::Matrix;
use crate::network::Network;
use crate::nn::layer::LayerKind;
use crate::shape::Shape;
use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// The first 8 bytes of every model file: `\x89 S N N \r \n \x1A \n` (see the module docs).
pub const MAGIC: [u8; 8] = [0x89, b'S', b'N', b'N', b'\r', b'\n', 0x1A, b'\n'];

/// The newest format version this build reads and writes. It writes the oldest version
/// that can hold the network: version 1 for a stack of dense layers (so that such a file
/// loads in every release), version 2 when there are convolutions or pooling.
pub const VERSION: u32 = 2;

/// The most values one sample may have at any layer of a version-2 file (2²⁶, 256 MB of
/// `f32` per sample): a layer without parameters costs no bytes in the file, so without a
/// limit a file of 100 bytes could describe feature maps that need terabytes.
pub const MAX_SAMPLE_VALUES: usize = 1 << 26;

/// The most layers a model file may have. Far more than a dense network trains well with;
/// the limit only keeps a damaged header from describing billions of layers.
pub const MAX_LAYERS: u32 = 1024;

/// Bytes before the layer table: magic, version, layer count, input size.
const FIXED_HEADER: usize = 20;
/// Bytes per layer in the layer table: outputs (u32), activation (u8), 3 reserved.
const LAYER_ENTRY: usize = 8;
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
/// stack of dense layers, version 2 otherwise.
fn encode<T: Float>(network: &Network<T>) -> Vec<u8> {
    if network.layers().iter().all(|l| l.as_dense().is_some()) {
        encode_v1(network)
    } else {
        encode_v2(network)
    }
}

/// Version 1: dense layers only.
fn encode_v1<T: Float>(network: &Network<T>) -> Vec<u8> {
    let layers: Vec<&Dense<T>> = network
        .layers()
        .iter()
        .filter_map(Layer::as_dense)
        .collect();
    let parameters = network.parameter_count();
    let mut out =
        Vec::with_capacity(FIXED_HEADER + LAYER_ENTRY * layers.len() + 4 * parameters + CRC_SIZE);
    // ANCHOR: format
    // The header: everything a reader needs to know how long the file must be.
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&1u32.to_le_bytes()); // format version 1
    out.extend_from_slice(&(layers.len() as u32).to_le_bytes());
    out.extend_from_slice(&(network.inputs() as u32).to_le_bytes());
    for layer in &layers {
        out.extend_from_slice(&(layer.outputs() as u32).to_le_bytes());
        out.push(activation_code(layer.activation()));
        out.extend_from_slice(&[0; 3]); // reserved: keeps every f32 4-byte aligned
    }
    // The parameters, layer by layer: weights row-major (inputs × outputs), then biases.
    for layer in &layers {
        for &w in layer.weights().as_slice() {
            out.extend_from_slice(&stored(w).to_le_bytes());
        }
        for &b in layer.bias() {
            out.extend_from_slice(&stored(b).to_le_bytes());
        }
    }
    // The checksum of all of the above.
    let crc = crc32(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    // ANCHOR_END: format
    out
}

/// Bytes before a version-2 layer table: magic, version, layer count, input shape.
const V2_FIXED_HEADER: usize = 28;
/// Bytes per layer in a version-2 layer table.
const V2_RECORD: usize = 20;

/// A version-2 layer record's kind code.
const KIND_DENSE: u8 = 0;
/// See [`KIND_DENSE`].
const KIND_CONV2D: u8 = 1;
/// See [`KIND_DENSE`].
const KIND_MAX_POOL2D: u8 = 2;

/// Version 2: any stack of layers.
fn encode_v2<T: Float>(network: &Network<T>) -> Vec<u8> {
    let layers = network.layers();
    let mut out = Vec::with_capacity(
        V2_FIXED_HEADER + V2_RECORD * layers.len() + 4 * network.parameter_count() + CRC_SIZE,
    );
    let u32s = |out: &mut Vec<u8>, values: &[usize]| {
        for &v in values {
            out.extend_from_slice(&(v as u32).to_le_bytes());
        }
    };
    // ANCHOR: format_v2
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&2u32.to_le_bytes()); // format version 2
    out.extend_from_slice(&(layers.len() as u32).to_le_bytes());
    let input = network.input_shape();
    u32s(&mut out, &[input.height, input.width, input.channels]);
    // One 20-byte record per layer: kind, activation, 2 reserved bytes, four u32 fields.
    for layer in layers {
        let (kind, fields) = match layer {
            Layer::Dense(d) => (KIND_DENSE, [d.outputs(), 0, 0, 0]),
            Layer::Conv2d(c) => (
                KIND_CONV2D,
                [
                    c.output_shape().channels,
                    c.kernel(),
                    c.stride(),
                    c.padding(),
                ],
            ),
            Layer::MaxPool2d(p) => (KIND_MAX_POOL2D, [p.size(), 0, 0, 0]),
        };
        out.push(kind);
        out.push(layer.activation().map_or(0, activation_code));
        out.extend_from_slice(&[0; 2]); // reserved
        u32s(&mut out, &fields);
    }
    // The parameters of the layers that have them, in order: weights row-major, then biases.
    for layer in layers {
        if let (Some(weights), Some(bias)) = (layer.weights(), layer.bias()) {
            for &w in weights.as_slice().iter().chain(bias) {
                out.extend_from_slice(&stored(w).to_le_bytes());
            }
        }
    }
    let crc = crc32(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    // ANCHOR_END: format_v2
    out
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
        };
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
/// parameter is allocated, then the CRC, then the parameters. An error names the byte offset of the
/// problem; no input makes this panic. See the module docs for the format and the checks.
pub fn from_bytes<T: Float>(bytes: &[u8]) -> Result<Network<T>> {
    check_magic(bytes)?;
    let version = check_version(bytes)?;
    if version == 1 {
        let header = Header::parse(bytes)?;
        check_crc(bytes)?;
        let activations = header.activations(bytes)?;
        header.read_network(bytes, &activations)
    } else {
        let plan = Plan::parse(bytes)?;
        check_crc(bytes)?;
        plan.read_network(bytes)
    }
}

/// Reads the version field and checks that this build understands it.
fn check_version(bytes: &[u8]) -> Result<u32> {
    let version =
        u32_at(bytes, 8).ok_or_else(|| truncated(bytes, "the header needs", FIXED_HEADER))?;
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

/// What the header says: the layer sizes, activation codes still unchecked.
struct Header {
    /// `sizes[0]` inputs, `sizes[l + 1]` outputs of layer `l`.
    sizes: Vec<usize>,
}

impl Header {
    /// Reads the version, the layer count and the sizes, and checks that the file is
    /// exactly as long as they imply. Allocates only the list of sizes, after checking the
    /// layer count and that the layer table lies within the file.
    fn parse(bytes: &[u8]) -> Result<Header> {
        let field = |offset: usize| {
            u32_at(bytes, offset).ok_or_else(|| truncated(bytes, "the header needs", FIXED_HEADER))
        };
        let layer_count = field(12)?;
        if !(1..=MAX_LAYERS).contains(&layer_count) {
            return Err(error_at(
                12,
                format!("layer count {layer_count} is outside 1..={MAX_LAYERS}"),
            ));
        }
        let inputs = field(16)?;
        if inputs == 0 {
            return Err(error_at(16, "the network has 0 inputs"));
        }
        // Cannot overflow: layer_count ≤ MAX_LAYERS.
        let params_start = FIXED_HEADER + LAYER_ENTRY * layer_count as usize;
        if bytes.len() < params_start + CRC_SIZE {
            return Err(truncated(
                bytes,
                &format!("the header of {layer_count} layers and the CRC alone need"),
                params_start + CRC_SIZE,
            ));
        }

        // Sizes in u64 with checked arithmetic: a u32 times a u32 fits, but times 4 bytes,
        // or summed over layers, may not. `None` means "more than 2⁶⁴ bytes".
        let mut sizes = Vec::with_capacity(layer_count as usize + 1);
        sizes.push(inputs as usize);
        let mut expected = Some((params_start + CRC_SIZE) as u64);
        let mut fan_in = u64::from(inputs);
        for l in 0..layer_count as usize {
            let offset = FIXED_HEADER + LAYER_ENTRY * l;
            let outputs = field(offset)?;
            if outputs == 0 {
                return Err(error_at(offset, format!("layer {l} has 0 outputs")));
            }
            let fan_out = u64::from(outputs);
            expected = fan_in
                .checked_mul(fan_out)
                .and_then(|w| w.checked_add(fan_out))
                .and_then(|p| p.checked_mul(4))
                .and_then(|b| b.checked_add(expected?));
            fan_in = fan_out;
            sizes.push(outputs as usize);
        }
        check_length(bytes, expected)?;
        // From here on, every size and offset fits in usize: the file is that long.
        Ok(Header { sizes })
    }

    /// The number of layers.
    fn layer_count(&self) -> usize {
        self.sizes.len() - 1
    }

    /// Reads the activation codes, checking them and that the reserved bytes are zero.
    fn activations(&self, bytes: &[u8]) -> Result<Vec<Activation>> {
        let mut activations = Vec::with_capacity(self.layer_count());
        for l in 0..self.layer_count() {
            let offset = FIXED_HEADER + LAYER_ENTRY * l + 4;
            // In bounds: `parse` checked that the whole layer table is.
            let entry = &bytes[offset..offset + 4];
            let Some(activation) = activation_from_code(entry[0]) else {
                return Err(error_at(
                    offset,
                    format!(
                        "layer {l} has unknown activation code {} (0 identity, 1 relu, \
                         2 sigmoid, 3 tanh)",
                        entry[0]
                    ),
                ));
            };
            if let Some(k) = entry[1..].iter().position(|&b| b != 0) {
                return Err(error_at(
                    offset + 1 + k,
                    format!("layer {l}'s reserved byte is {}, not 0", entry[1 + k]),
                ));
            }
            activations.push(activation);
        }
        Ok(activations)
    }

    /// Reads the parameters into layers. `parse` checked the header against the file's
    /// length, so the parameters fill `bytes` exactly up to the CRC and no allocation
    /// exceeds the file's size.
    fn read_network<T: Float>(
        &self,
        bytes: &[u8],
        activations: &[Activation],
    ) -> Result<Network<T>> {
        let mut offset = FIXED_HEADER + LAYER_ENTRY * self.layer_count();
        let mut layers = Vec::with_capacity(self.layer_count());
        for (l, &activation) in activations.iter().enumerate() {
            let (inputs, outputs) = (self.sizes[l], self.sizes[l + 1]);
            let (weights, bias) = read_parameters(bytes, &mut offset, l, inputs, outputs)?;
            layers.push(Dense::new(weights, bias, activation));
        }
        Ok(Network::from_layers(layers))
    }
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
    let mut read = |count: usize, name: &dyn Fn(usize) -> String| {
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
    };
    let weights = read(rows * cols, &|k| {
        format!("weight ({}, {})", k / cols, k % cols)
    })?;
    let bias = read(cols, &|j| format!("bias {j}"))?;
    Ok((Matrix::from_vec(rows, cols, weights), bias))
}

/// One layer of a version-2 file, as its record describes it, checked: its input and
/// output shapes, and where its parameters start.
#[derive(Clone, Copy, Debug)]
struct PlannedLayer {
    kind: u8,
    activation: Activation,
    input: Shape,
    output: Shape,
    /// Conv2d: kernel, stride, padding; MaxPool2d: the window in `kernel`.
    kernel: usize,
    stride: usize,
    padding: usize,
    /// The weight matrix's shape, `(0, 0)` for pooling.
    weights: (usize, usize),
}

/// A version-2 header, read and checked against the file's length.
struct Plan {
    layers: Vec<PlannedLayer>,
    /// Where the parameters start.
    params_start: usize,
}

impl Plan {
    /// Reads the layer count, the input shape and every layer record, works out each
    /// layer's shapes and parameter count with checked arithmetic, and checks that the file
    /// is exactly as long as they imply, all before any parameter is allocated. Each error
    /// names the offset of the field that is wrong.
    fn parse(bytes: &[u8]) -> Result<Plan> {
        let field = |offset: usize| {
            u32_at(bytes, offset)
                .map(|v| v as usize)
                .ok_or_else(|| truncated(bytes, "the header needs", V2_FIXED_HEADER))
        };
        let layer_count = field(12)?;
        if !(1..=MAX_LAYERS as usize).contains(&layer_count) {
            return Err(error_at(
                12,
                format!("layer count {layer_count} is outside 1..={MAX_LAYERS}"),
            ));
        }
        let input = Shape::image(field(16)?, field(20)?, field(24)?);
        if input.height == 0 || input.width == 0 || input.channels == 0 {
            return Err(error_at(
                16,
                format!("the input shape {input} has a zero side"),
            ));
        }
        let too_many = |shape: Shape| shape.checked_volume().is_none_or(|v| v > MAX_SAMPLE_VALUES);
        if too_many(input) {
            return Err(error_at(
                16,
                format!(
                    "the input shape {input} has more than the {MAX_SAMPLE_VALUES} values per \
                     sample the format allows"
                ),
            ));
        }
        // Cannot overflow: layer_count ≤ MAX_LAYERS.
        let params_start = V2_FIXED_HEADER + V2_RECORD * layer_count;
        if bytes.len() < params_start + CRC_SIZE {
            return Err(truncated(
                bytes,
                &format!("the header of {layer_count} layers and the CRC alone need"),
                params_start + CRC_SIZE,
            ));
        }
        let mut layers = Vec::with_capacity(layer_count);
        let mut expected = Some((params_start + CRC_SIZE) as u64);
        let mut shape = input;
        for l in 0..layer_count {
            let offset = V2_FIXED_HEADER + V2_RECORD * l;
            // In bounds: the whole table is, checked above.
            let record = &bytes[offset..offset + V2_RECORD];
            let (kind, code) = (record[0], record[1]);
            if let Some(k) = record[2..4].iter().position(|&b| b != 0) {
                return Err(error_at(
                    offset + 2 + k,
                    format!("layer {l}'s reserved byte is {}, not 0", record[2 + k]),
                ));
            }
            let f = |i: usize| field(offset + 4 + 4 * i);
            let activation = match (kind, activation_from_code(code)) {
                (KIND_MAX_POOL2D, _) if code == 0 => Activation::Identity,
                (KIND_MAX_POOL2D, _) => {
                    return Err(error_at(
                        offset + 1,
                        format!(
                            "layer {l} is pooling, which has no activation, but its code is {code}"
                        ),
                    ));
                }
                (_, Some(a)) => a,
                (_, None) => {
                    return Err(error_at(
                        offset + 1,
                        format!(
                            "layer {l} has unknown activation code {code} (0 identity, 1 relu, \
                             2 sigmoid, 3 tanh)"
                        ),
                    ));
                }
            };
            let unused = |from: usize| -> Result<()> {
                for i in from..4 {
                    if f(i)? != 0 {
                        return Err(error_at(
                            offset + 4 + 4 * i,
                            format!("layer {l}'s unused field {i} is {}, not 0", f(i)?),
                        ));
                    }
                }
                Ok(())
            };
            let bad_shape = |at: usize, e: String| error_at(offset + at, format!("layer {l}: {e}"));
            let planned = match kind {
                KIND_DENSE => {
                    unused(1)?;
                    let outputs = f(0)?;
                    if outputs == 0 {
                        return Err(error_at(offset + 4, format!("layer {l} has 0 outputs")));
                    }
                    PlannedLayer {
                        kind,
                        activation,
                        input: shape,
                        output: Shape::flat(outputs),
                        kernel: 0,
                        stride: 0,
                        padding: 0,
                        weights: (shape.volume(), outputs),
                    }
                }
                KIND_CONV2D => {
                    let (channels, kernel, stride, padding) = (f(0)?, f(1)?, f(2)?, f(3)?);
                    let output =
                        Conv2d::<f32>::output_shape_for(shape, channels, kernel, stride, padding)
                            .map_err(|e| bad_shape(4, format!("on its input of {shape}, {e}")))?;
                    PlannedLayer {
                        kind,
                        activation,
                        input: shape,
                        output,
                        kernel,
                        stride,
                        padding,
                        weights: (kernel * kernel * shape.channels, channels),
                    }
                }
                KIND_MAX_POOL2D => {
                    unused(1)?;
                    let size = f(0)?;
                    let pool = MaxPool2d::try_new(shape, size)
                        .map_err(|e| bad_shape(4, format!("on its input of {shape}, {e}")))?;
                    PlannedLayer {
                        kind,
                        activation,
                        input: shape,
                        output: pool.output_shape(),
                        kernel: size,
                        stride: size,
                        padding: 0,
                        weights: (0, 0),
                    }
                }
                _ => {
                    return Err(error_at(
                        offset,
                        format!(
                            "layer {l} has unknown kind {kind} (0 dense, 1 conv2d, 2 maxpool2d)"
                        ),
                    ));
                }
            };
            if too_many(planned.output) {
                return Err(error_at(
                    offset + 4,
                    format!(
                        "layer {l}'s output {} has more than the {MAX_SAMPLE_VALUES} values per \
                         sample the format allows",
                        planned.output
                    ),
                ));
            }
            let (rows, cols) = planned.weights;
            // Weights and biases; pooling's (0, 0) weights make that 0.
            let params = (rows as u64)
                .checked_mul(cols as u64)
                .and_then(|w| w.checked_add(cols as u64));
            expected = params
                .and_then(|p| p.checked_mul(4))
                .and_then(|b| b.checked_add(expected?));
            shape = planned.output;
            layers.push(planned);
        }
        check_length(bytes, expected)?;
        Ok(Plan {
            layers,
            params_start,
        })
    }

    /// Reads the parameters into layers; `parse` has checked that they fill the file up to
    /// the CRC exactly.
    fn read_network<T: Float>(&self, bytes: &[u8]) -> Result<Network<T>> {
        let mut offset = self.params_start;
        let mut layers = Vec::with_capacity(self.layers.len());
        for (l, p) in self.layers.iter().enumerate() {
            let (rows, cols) = p.weights;
            let layer: Layer<T> = if p.kind == KIND_MAX_POOL2D {
                MaxPool2d::new(p.input, p.kernel).into()
            } else {
                let (weights, bias) = read_parameters(bytes, &mut offset, l, rows, cols)?;
                if p.kind == KIND_DENSE {
                    Dense::new(weights, bias, p.activation).into()
                } else {
                    Conv2d::new(p.input, weights, bias, p.stride, p.padding, p.activation).into()
                }
            };
            layers.push(layer);
        }
        // The records chain by construction: each layer was planned on the one before's output.
        Network::try_from_layers(layers).map_err(|e| error_at(V2_FIXED_HEADER, e.to_string()))
    }
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
/// The bytes go to a new temporary file in the same directory (`.NAME.tmp-PID-N`), which
/// is flushed to the disk and then renamed over `path`. A rename within one file system
/// replaces the target in one step, so a crash or a full disk half-way through leaves at
/// worst a stray temporary file, never a half-written model; on any error the temporary
/// file is removed. The file's permissions are the defaults for a new file.
///
/// Errors name `path`: an I/O error (a missing directory, no permission, a full disk), or
/// a network the format cannot hold (see [`to_bytes`]), in which case nothing is written.
pub fn save<T: Float>(network: &Network<T>, path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    check_storable(network).map_err(|e| e.in_file(path))?;
    let bytes = encode(network);
    write_atomically(path, &bytes).map_err(|e| Error::io(e).in_file(path))
}

/// Distinguishes the temporary files of concurrent saves within one process.
static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

// ANCHOR: save
/// Writes `bytes` to a temporary file beside `path`, syncs it, and renames it over `path`.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let (temp, mut file) = create_temp_beside(path)?;
    let written = (|| {
        file.write_all(bytes)?;
        file.flush()?;
        // The data must be on the disk *before* the rename makes it the model: otherwise a
        // crash could leave the new name pointing at a file whose blocks were never written.
        file.sync_all()?;
        drop(file);
        fs::rename(&temp, path)
    })();
    if written.is_err() {
        let _ = fs::remove_file(&temp); // best effort: the error that matters is `written`
        return written;
    }
    // Make the rename itself durable. Best effort, and Unix only: the model is already in
    // place, so failing here must not report the save as failed.
    #[cfg(unix)]
    if let Some(dir) = path.parent() {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        let _ = File::open(dir).and_then(|d| d.sync_all());
    }
    Ok(())
}

/// Creates `.NAME.tmp-PID-N` in `path`'s directory, a name no other save is using:
/// `create_new` fails rather than reuse a file, and a stale one left by a crash is skipped.
fn create_temp_beside(path: &Path) -> io::Result<(PathBuf, File)> {
    let name = path.file_name().ok_or_else(|| {
        io::Error::new(io::ErrorKind::InvalidInput, "the path does not name a file")
    })?;
    let mut attempts = 0;
    loop {
        let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
        let mut temp_name = OsString::from(".");
        temp_name.push(name);
        temp_name.push(format!(".tmp-{}-{n}", std::process::id()));
        let temp = path.with_file_name(temp_name);
        match OpenOptions::new().write(true).create_new(true).open(&temp) {
            Ok(file) => return Ok((temp, file)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && attempts < 100 => attempts += 1,
            Err(e) => return Err(e),
        }
    }
}
// ANCHOR_END: save

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
