//! Export to [ONNX], the graph format every inference runtime reads (ONNX Runtime, and
//! through it phones and web pages), written by our own protobuf encoder.
//!
//! [ONNX]: https://onnx.ai
//!
//! The graph takes `input` (`N × C × H × W` when the first layer is a convolution,
//! `N × inputs` otherwise) and gives `probabilities` (`N × classes`), with a node per layer
//! (`Gemm`, after a `Flatten` where a dense layer reads an image; `Conv`; `MaxPool`), one per
//! activation but the identity, and a final `Softmax`; operator set 13, IR version 7. The
//! weights are initializers, named and laid out as [`safetensors`] writes them, which is
//! ONNX's layout too. The book's chapter "Taking it elsewhere" explains the protobuf wire
//! format [`Message`] writes and the graph.

use super::safetensors::{self, Dtype};
use crate::float::Float;
use crate::nn::activation::Activation;
use crate::nn::layer::Layer;
use crate::nn::network::Network;
use std::path::Path;

// ANCHOR: message
/// A protobuf message being written: its fields' bytes.
#[derive(Clone, Debug, Default)]
pub struct Message(Vec<u8>);

impl Message {
    /// An empty message.
    pub fn new() -> Message {
        Message(Vec::new())
    }

    /// The encoded bytes.
    pub fn into_bytes(self) -> Vec<u8> {
        self.0
    }

    fn varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.0.push(v as u8 | 0x80);
            v >>= 7;
        }
        self.0.push(v as u8);
    }

    fn key(&mut self, field: u32, wire_type: u8) {
        self.varint(u64::from(field) << 3 | u64::from(wire_type));
    }

    /// An integer field (`int64`, `int32`, an enum): wire type 0. A negative number is
    /// written as its 64-bit two's complement, as protobuf does.
    pub fn int(&mut self, field: u32, v: i64) -> &mut Self {
        self.key(field, 0);
        self.varint(v as u64);
        self
    }

    /// A `float` field: wire type 5.
    pub fn float(&mut self, field: u32, v: f32) -> &mut Self {
        self.key(field, 5);
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }

    /// A `bytes` field: wire type 2.
    pub fn bytes(&mut self, field: u32, v: &[u8]) -> &mut Self {
        self.key(field, 2);
        self.varint(v.len() as u64);
        self.0.extend_from_slice(v);
        self
    }

    /// A `string` field: UTF-8 bytes.
    pub fn string(&mut self, field: u32, v: &str) -> &mut Self {
        self.bytes(field, v.as_bytes())
    }

    /// A nested message.
    pub fn message(&mut self, field: u32, v: &Message) -> &mut Self {
        self.bytes(field, &v.0)
    }
}
// ANCHOR_END: message

/// ONNX's numbers for the two element types (`TensorProto.DataType`).
fn data_type(dtype: Dtype) -> i64 {
    match dtype {
        Dtype::F32 => 1,
        Dtype::F64 => 11,
        Dtype::I64 => 7,
    }
}

/// An `AttributeProto` holding one float.
fn float_attribute(name: &str, value: f32) -> Message {
    let mut a = Message::new();
    a.string(1, name).float(2, value).int(20, 1); // f, type FLOAT
    a
}

/// An `AttributeProto` holding one integer, or a list of them.
fn ints_attribute(name: &str, values: &[i64]) -> Message {
    let mut a = Message::new();
    a.string(1, name);
    if let [one] = values {
        a.int(3, *one).int(20, 2); // i, type INT
    } else {
        for &v in values {
            a.int(8, v); // ints
        }
        a.int(20, 7); // type INTS
    }
    a
}

/// A `NodeProto`.
fn node(op: &str, inputs: &[&str], output: &str, attributes: &[Message]) -> Message {
    let mut n = Message::new();
    for i in inputs {
        n.string(1, i);
    }
    n.string(2, output).string(3, output).string(4, op);
    for a in attributes {
        n.message(5, a);
    }
    n
}

/// A `ValueInfoProto` for a tensor of `dtype` whose first dimension is the symbolic `N`.
fn value_info(name: &str, dtype: Dtype, dims: &[usize]) -> Message {
    let mut shape = Message::new();
    let mut batch = Message::new();
    batch.string(2, "N"); // dim_param
    shape.message(1, &batch);
    for &d in dims {
        let mut dim = Message::new();
        dim.int(1, d as i64); // dim_value
        shape.message(1, &dim);
    }
    let mut tensor = Message::new();
    tensor.int(1, data_type(dtype)).message(2, &shape);
    let mut ty = Message::new();
    ty.message(1, &tensor); // tensor_type
    let mut v = Message::new();
    v.string(1, name).message(2, &ty);
    v
}

// ANCHOR: graph
/// The network as an ONNX `ModelProto`; see the [module docs](self).
pub fn to_bytes<T: Float>(network: &Network<T>) -> Vec<u8> {
    let dtype = Dtype::of::<T>();
    let mut graph = Message::new();
    let mut current = "input".to_string();
    let mut image = false; // whether `current` is N × C × H × W
    let mut step = 0;
    let mut next = |graph: &mut Message, op: &str, inputs: &[&str], attributes: &[Message]| {
        step += 1;
        let output = format!("{}{step}", op.to_ascii_lowercase());
        graph.message(1, &node(op, inputs, &output, attributes));
        output
    };
    // The input is an image, N × C × H × W, unless a dense layer reads it first.
    let first_is_image = !matches!(network.layers().first(), Some(Layer::Dense(_)))
        && !network.input_shape().is_flat();
    let shape = network.input_shape();
    let input_dims = if first_is_image {
        image = true;
        vec![shape.channels, shape.height, shape.width]
    } else {
        vec![network.inputs()]
    };
    for (i, layer) in network.layers().iter().enumerate() {
        let (w, b) = (format!("layers.{i}.weight"), format!("layers.{i}.bias"));
        let activation = match layer {
            Layer::Dense(dense) => {
                if image {
                    current = next(
                        &mut graph,
                        "Flatten",
                        &[&current],
                        &[ints_attribute("axis", &[1])],
                    );
                    image = false;
                }
                let trans_b = ints_attribute("transB", &[1]);
                current = next(&mut graph, "Gemm", &[&current, &w, &b], &[trans_b]);
                Some(dense.activation())
            }
            Layer::Conv2d(conv) => {
                let (k, s, p) = (
                    conv.kernel() as i64,
                    conv.stride() as i64,
                    conv.padding() as i64,
                );
                let attributes = [
                    ints_attribute("kernel_shape", &[k, k]),
                    ints_attribute("strides", &[s, s]),
                    ints_attribute("pads", &[p, p, p, p]),
                ];
                current = next(&mut graph, "Conv", &[&current, &w, &b], &attributes);
                Some(conv.activation())
            }
            Layer::MaxPool2d(pool) => {
                let k = pool.size() as i64;
                let attributes = [
                    ints_attribute("kernel_shape", &[k, k]),
                    ints_attribute("strides", &[k, k]),
                ];
                current = next(&mut graph, "MaxPool", &[&current], &attributes);
                None
            }
            // Per channel: axis 1 of an N × C × H × W image or of an N × C row.
            Layer::BatchNorm(bn) => {
                let (mean, var) = (
                    format!("layers.{i}.running_mean"),
                    format!("layers.{i}.running_var"),
                );
                let epsilon = float_attribute("epsilon", bn.epsilon());
                let inputs = [&current[..], &w, &b, &mean, &var];
                current = next(&mut graph, "BatchNormalization", &inputs, &[epsilon]);
                Some(bn.activation())
            }
        };
        let op = match activation {
            Some(Activation::Relu) => "Relu",
            Some(Activation::Sigmoid) => "Sigmoid",
            Some(Activation::Tanh) => "Tanh",
            Some(Activation::Identity) | None => continue,
        };
        current = next(&mut graph, op, &[&current], &[]);
    }
    if image {
        current = next(
            &mut graph,
            "Flatten",
            &[&current],
            &[ints_attribute("axis", &[1])],
        );
    }
    let mut softmax = node(
        "Softmax",
        &[&current],
        "probabilities",
        &[ints_attribute("axis", &[1])],
    );
    softmax.string(3, "softmax");
    graph.message(1, &softmax);
    graph.string(2, "simplenn");
    // Every tensor but the batch counts, which inference does not read.
    let tensors = safetensors::tensors(network).into_iter();
    for t in tensors.filter(|t| t.dtype != Dtype::I64) {
        let mut tensor = Message::new();
        for &d in &t.shape {
            tensor.int(1, d as i64); // dims
        }
        tensor.int(2, data_type(t.dtype)).string(8, &t.name);
        tensor.bytes(9, &t.to_le_bytes()); // raw_data, little-endian
        graph.message(5, &tensor); // initializer
    }
    graph.message(11, &value_info("input", dtype, &input_dims));
    graph.message(
        12,
        &value_info("probabilities", dtype, &[network.classes()]),
    );
    let mut opset = Message::new();
    opset.string(1, "").int(2, 13);
    let mut model = Message::new();
    model
        .int(1, 7) // ir_version
        .message(8, &opset)
        .string(2, "simplenn")
        .string(3, env!("CARGO_PKG_VERSION"))
        .string(6, &network.to_string())
        .message(7, &graph);
    model.into_bytes()
}
// ANCHOR_END: graph

/// Writes [`to_bytes`] to `path`.
///
/// # Errors
/// If the file cannot be written.
pub fn save<T: Float>(network: &Network<T>, path: impl AsRef<Path>) -> crate::error::Result<()> {
    let path = path.as_ref();
    std::fs::write(path, to_bytes(network)).map_err(|e| crate::error::Error::io(e).in_file(path))
}
