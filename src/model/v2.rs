//! Versions 2 and 3 of the model file: any stack of layers. A 28-byte header (the input's
//! height, width and channels where version 1 has a count of inputs), then a 20-byte record
//! per layer (its kind, its activation, 2 reserved bytes and four `u32` fields), the
//! parameters of the layers that have them, and the CRC; the book's chapter "The model file
//! format" has the table. Version 3 is version 2 with one more kind, batch normalisation,
//! written only for a network that has it. A reader checks every record against the shape
//! it receives before it allocates a parameter.

use super::{
    CRC_SIZE, MAGIC, MAX_LAYERS, MAX_SAMPLE_VALUES, activation_code, activation_from_code,
    check_length, error_at, read_floats, read_parameters, stored, truncated, u32_at,
};
use crate::blocks::matrix::Matrix;
use crate::data::crc32::crc32;
use crate::error::Result;
use crate::float::Float;
use crate::nn::activation::Activation;
use crate::nn::layer::{BatchNorm, Conv2d, Dense, Layer, LayerKind, MaxPool2d};
use crate::nn::network::Network;
use crate::nn::shape::Shape;

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
/// See [`KIND_DENSE`]; version 3 only.
const KIND_BATCH_NORM: u8 = 3;

/// The file of any stack of layers whose every field fits (checked by
/// [`check_storable`](super::check_storable)).
pub(super) fn encode<T: Float>(network: &Network<T>) -> Vec<u8> {
    let layers = network.layers();
    let mut out = Vec::with_capacity(
        V2_FIXED_HEADER + V2_RECORD * layers.len() + 4 * network.parameter_count() + CRC_SIZE,
    );
    // ANCHOR: format_v2
    let u32s = |out: &mut Vec<u8>, values: &[usize]| {
        for &v in values {
            out.extend_from_slice(&(v as u32).to_le_bytes());
        }
    };
    // Version 3 only when there is a kind version 2 does not have.
    let version: u32 = if layers.iter().any(|l| l.as_batch_norm().is_some()) {
        3
    } else {
        2
    };
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&version.to_le_bytes());
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
            // The momentum and ε as f32 bits, then the batch count's low and high halves.
            Layer::BatchNorm(b) => (
                KIND_BATCH_NORM,
                [
                    b.momentum().to_bits() as usize,
                    b.epsilon().to_bits() as usize,
                    (b.batches_tracked() & 0xFFFF_FFFF) as usize,
                    (b.batches_tracked() >> 32) as usize,
                ],
            ),
        };
        out.push(kind);
        out.push(layer.activation().map_or(0, activation_code));
        out.extend_from_slice(&[0; 2]); // reserved
        u32s(&mut out, &fields);
    }
    // The parameters of the layers that have them, in order: weights row-major, then biases
    // (batch normalisation's γ and β), then any running statistics (its mean and variance).
    for layer in layers {
        if let (Some(weights), Some(bias)) = (layer.weights(), layer.bias()) {
            for &w in weights.as_slice().iter().chain(bias) {
                out.extend_from_slice(&stored(w).to_le_bytes());
            }
        }
        if let Some((mean, var, _)) = layer.running_statistics() {
            for &v in mean.iter().chain(var) {
                out.extend_from_slice(&stored(v).to_le_bytes());
            }
        }
    }
    let crc = crc32(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    // ANCHOR_END: format_v2
    out
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
    /// BatchNorm: its record's four fields (momentum and ε bits, the batch count's halves).
    fields: [u32; 4],
}

/// A version-2 header, read and checked against the file's length.
pub(super) struct Plan {
    layers: Vec<PlannedLayer>,
    /// Where the parameters start.
    params_start: usize,
}

impl Plan {
    /// Reads the layer count, the input shape and every layer record, works out each
    /// layer's shapes and parameter count with checked arithmetic, and checks that the file
    /// is exactly as long as they imply, all before any parameter is allocated. Each error
    /// names the offset of the field that is wrong.
    pub(super) fn parse(bytes: &[u8], version: u32) -> Result<Plan> {
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
                        fields: [0; 4],
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
                        fields: [0; 4],
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
                        fields: [0; 4],
                    }
                }
                KIND_BATCH_NORM if version >= 3 => {
                    let fields = [f(0)? as u32, f(1)? as u32, f(2)? as u32, f(3)? as u32];
                    let (momentum, epsilon) =
                        (f32::from_bits(fields[0]), f32::from_bits(fields[1]));
                    if !(momentum > 0.0 && momentum <= 1.0) {
                        return Err(bad_shape(
                            4,
                            format!("a batch normalisation momentum of {momentum}, not in (0, 1]"),
                        ));
                    }
                    if !(epsilon.is_finite() && epsilon > 0.0) {
                        return Err(bad_shape(
                            8,
                            format!(
                                "a batch normalisation ε of {epsilon}, not positive and finite"
                            ),
                        ));
                    }
                    PlannedLayer {
                        kind,
                        activation,
                        input: shape,
                        output: shape,
                        kernel: 0,
                        stride: 0,
                        padding: 0,
                        // γ as a 1 × C matrix and β; the mean and variance come after.
                        weights: (1, shape.channels),
                        fields,
                    }
                }
                _ => {
                    return Err(error_at(
                        offset,
                        format!(
                            "layer {l} has unknown kind {kind} (0 dense, 1 conv2d, 2 maxpool2d{})",
                            if version >= 3 { ", 3 batchnorm" } else { "" }
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
            // Weights and biases (pooling's (0, 0) weights make that 0), and batch
            // normalisation's two running statistics per channel.
            let statistics = if kind == KIND_BATCH_NORM { 2 * cols } else { 0 };
            let params = (rows as u64)
                .checked_mul(cols as u64)
                .and_then(|w| w.checked_add((cols + statistics) as u64));
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
    pub(super) fn read_network<T: Float>(&self, bytes: &[u8]) -> Result<Network<T>> {
        let mut offset = self.params_start;
        let mut layers = Vec::with_capacity(self.layers.len());
        for (l, p) in self.layers.iter().enumerate() {
            let (rows, cols) = p.weights;
            let layer: Layer<T> = if p.kind == KIND_MAX_POOL2D {
                MaxPool2d::new(p.input, p.kernel).into()
            } else {
                let (weights, bias) = read_parameters(bytes, &mut offset, l, rows, cols)?;
                match p.kind {
                    KIND_DENSE => Dense::new(weights, bias, p.activation).into(),
                    KIND_CONV2D => {
                        let (stride, padding) = (p.stride, p.padding);
                        Conv2d::new(p.input, weights, bias, stride, padding, p.activation).into()
                    }
                    _ => self.read_batch_norm(bytes, &mut offset, l, p, (weights, bias))?,
                }
            };
            layers.push(layer);
        }
        // The records chain by construction: each layer was planned on the one before's output.
        Network::try_from_layers(layers).map_err(|e| error_at(V2_FIXED_HEADER, e.to_string()))
    }

    /// A batch normalisation layer from its `γ` and `β`, and the running mean and variance
    /// that follow them at `*offset`.
    fn read_batch_norm<T: Float>(
        &self,
        bytes: &[u8],
        offset: &mut usize,
        l: usize,
        p: &PlannedLayer,
        (gamma, beta): (Matrix<T>, Vec<T>),
    ) -> Result<Layer<T>> {
        let c = p.input.channels;
        let mean = read_floats(bytes, offset, l, c, &|j| format!("running mean {j}"))?;
        let var_at = *offset;
        let var = read_floats(bytes, offset, l, c, &|j| format!("running variance {j}"))?;
        let batches = u64::from(p.fields[2]) | (u64::from(p.fields[3]) << 32);
        let settings = (f32::from_bits(p.fields[0]), f32::from_bits(p.fields[1]));
        let parts = (gamma.into_vec(), beta, mean, var);
        BatchNorm::from_parts(p.input, parts, batches, settings, p.activation)
            .map(Layer::from)
            .map_err(|e| error_at(var_at, format!("layer {l}: {e}")))
    }
}
