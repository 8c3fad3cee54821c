//! Version 1 of the model file: a stack of dense layers. A 20-byte header, then 8 bytes per
//! layer (its outputs, its activation's code, 3 reserved bytes), each layer's weights
//! row-major and its biases, and the CRC; the book's chapter "The model file format" has the
//! table. Dense networks are still written this way, so that their files load in every
//! release.

use super::{
    CRC_SIZE, MAGIC, MAX_LAYERS, activation_code, activation_from_code, check_length, error_at,
    read_parameters, stored, truncated, u32_at,
};
use crate::data::crc32::crc32;
use crate::error::Result;
use crate::float::Float;
use crate::nn::activation::Activation;
use crate::nn::layer::{Dense, Layer};
use crate::nn::network::Network;

/// Bytes before the layer table: magic, version, layer count, input size.
pub(super) const FIXED_HEADER: usize = 20;
/// Bytes per layer in the layer table: outputs (u32), activation (u8), 3 reserved.
const LAYER_ENTRY: usize = 8;

/// The file of a network of dense layers only, whose every field fits (checked by
/// [`check_storable`](super::check_storable)).
pub(super) fn encode<T: Float>(network: &Network<T>) -> Vec<u8> {
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

/// What the header says: the layer sizes, activation codes still unchecked.
pub(super) struct Header {
    /// `sizes[0]` inputs, `sizes[l + 1]` outputs of layer `l`.
    sizes: Vec<usize>,
}

impl Header {
    /// Reads the version, the layer count and the sizes, and checks that the file is
    /// exactly as long as they imply. Allocates only the list of sizes, after checking the
    /// layer count and that the layer table lies within the file.
    pub(super) fn parse(bytes: &[u8]) -> Result<Header> {
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
    pub(super) fn activations(&self, bytes: &[u8]) -> Result<Vec<Activation>> {
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
    pub(super) fn read_network<T: Float>(
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
