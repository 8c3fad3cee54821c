//! The ONNX export read back by a small protobuf reader written here: the fields a runtime
//! reads, where ONNX's schema puts them. (ONNX Runtime itself runs the files in
//! `tests/interop/interop.py`.)

use simplenn::model::{onnx, safetensors};
use simplenn::{Activation, Network, Shape};

/// One field: its number and its value, a varint or bytes.
#[derive(Debug)]
enum Value<'a> {
    Int(u64),
    Bytes(&'a [u8]),
    Fixed32,
}

fn varint(bytes: &[u8], at: &mut usize) -> u64 {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let b = bytes[*at];
        *at += 1;
        v |= u64::from(b & 0x7f) << shift;
        if b < 0x80 {
            return v;
        }
    }
    panic!("a varint longer than 10 bytes");
}

/// Every field of a message, in order; panics on anything malformed.
fn fields(bytes: &[u8]) -> Vec<(u32, Value<'_>)> {
    let mut at = 0;
    let mut out = Vec::new();
    while at < bytes.len() {
        let key = varint(bytes, &mut at);
        let (field, wire) = ((key >> 3) as u32, key & 7);
        let value = match wire {
            0 => Value::Int(varint(bytes, &mut at)),
            2 => {
                let n = varint(bytes, &mut at) as usize;
                at += n;
                Value::Bytes(&bytes[at - n..at])
            }
            5 => {
                at += 4;
                assert!(at <= bytes.len(), "a float ran past the end of its message");
                Value::Fixed32
            }
            w => panic!("wire type {w} at field {field}"),
        };
        out.push((field, value));
    }
    assert_eq!(at, bytes.len(), "a field ran past the end of its message");
    out
}

fn all(msg: &[u8], field: u32) -> Vec<&[u8]> {
    fields(msg)
        .into_iter()
        .filter_map(|(f, v)| match (f == field, v) {
            (true, Value::Bytes(b)) => Some(b),
            _ => None,
        })
        .collect()
}

fn one(msg: &[u8], field: u32) -> &[u8] {
    let v = all(msg, field);
    assert_eq!(v.len(), 1, "field {field}");
    v[0]
}

fn int(msg: &[u8], field: u32) -> u64 {
    fields(msg)
        .into_iter()
        .find_map(|(f, v)| match (f == field, v) {
            (true, Value::Int(i)) => Some(i),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no integer field {field}"))
}

fn text(b: &[u8]) -> &str {
    std::str::from_utf8(b).unwrap()
}

#[test]
fn the_model_has_the_graph_a_runtime_needs() {
    let net: Network = Network::builder_for(Shape::image(12, 12, 1))
        .conv2d(4, 5, Activation::Relu)
        .max_pool(2)
        .conv2d(6, 3, Activation::Tanh)
        .max_pool(2)
        .hidden(8, Activation::Sigmoid)
        .output(10)
        .seed(1)
        .build();
    let bytes = onnx::to_bytes(&net);
    let model = bytes.as_slice();
    assert_eq!(int(model, 1), 7, "ir_version");
    let opset = one(model, 8);
    assert_eq!((text(one(opset, 1)), int(opset, 2)), ("", 13));
    assert_eq!(text(one(model, 2)), "simplenn");
    let graph = one(model, 7);
    let nodes = all(graph, 1);
    let ops: Vec<&str> = nodes.iter().map(|n| text(one(n, 4))).collect();
    assert_eq!(
        ops,
        [
            "Conv", "Relu", "MaxPool", "Conv", "Tanh", "MaxPool", "Flatten", "Gemm", "Sigmoid",
            "Gemm", "Softmax"
        ]
    );
    // Each node reads what the one before wrote; the first reads the input, the last writes
    // the output.
    let mut current = "input".to_string();
    for n in &nodes {
        let inputs: Vec<&str> = all(n, 1).into_iter().map(text).collect();
        assert_eq!(inputs[0], current);
        current = text(one(n, 2)).to_string();
    }
    assert_eq!(current, "probabilities");
    // Conv's attributes: kernel_shape, strides, pads, as INTS.
    let conv = nodes[3];
    let attrs: Vec<(&str, Vec<u64>)> = all(conv, 5)
        .into_iter()
        .map(|a| {
            let ints = fields(a)
                .into_iter()
                .filter_map(|(f, v)| match (f, v) {
                    (8, Value::Int(i)) => Some(i),
                    _ => None,
                })
                .collect();
            assert_eq!(int(a, 20), 7, "type INTS");
            (text(one(a, 1)), ints)
        })
        .collect();
    assert_eq!(
        attrs,
        [
            ("kernel_shape", vec![3, 3]),
            ("strides", vec![1, 1]),
            ("pads", vec![1, 1, 1, 1])
        ]
    );
    // The initializers are the safetensors tensors, as raw little-endian floats.
    let tensors = safetensors::tensors(&net);
    let inits = all(graph, 5);
    assert_eq!(inits.len(), tensors.len());
    for (init, t) in inits.iter().zip(&tensors) {
        assert_eq!(text(one(init, 8)), t.name);
        let dims: Vec<usize> = fields(init)
            .into_iter()
            .filter_map(|(f, v)| match (f, v) {
                (1, Value::Int(d)) => Some(d as usize),
                _ => None,
            })
            .collect();
        assert_eq!(dims, t.shape);
        assert_eq!(int(init, 2), 1, "FLOAT");
        let raw = one(init, 9);
        let floats: Vec<f64> = raw
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes(b.try_into().unwrap()) as f64)
            .collect();
        assert_eq!(floats, t.values);
    }
    // The input is N × 1 × 12 × 12 with N symbolic; the output N × 10.
    let input = one(graph, 11);
    assert_eq!(text(one(input, 1)), "input");
    let shape = one(one(one(input, 2), 1), 2);
    let dims = all(shape, 1);
    assert_eq!(text(one(dims[0], 2)), "N");
    let fixed: Vec<u64> = dims[1..].iter().map(|d| int(d, 1)).collect();
    assert_eq!(fixed, [1, 12, 12]);
    assert_eq!(text(one(one(graph, 12), 1)), "probabilities");
}

#[test]
fn an_mlp_takes_flat_rows_and_an_f64_network_doubles() {
    let net: Network<f64> = Network::builder(784)
        .hidden(5, Activation::Relu)
        .output(10)
        .build();
    let bytes = onnx::to_bytes(&net);
    let graph = one(&bytes, 7);
    let ops: Vec<&str> = all(graph, 1).iter().map(|n| text(one(n, 4))).collect();
    assert_eq!(ops, ["Gemm", "Relu", "Gemm", "Softmax"]);
    let tensor_type = one(one(one(graph, 11), 2), 1);
    assert_eq!(int(tensor_type, 1), 11, "DOUBLE");
    let dims = all(one(tensor_type, 2), 1);
    assert_eq!(dims.len(), 2);
    assert_eq!(int(dims[1], 1), 784);
}
