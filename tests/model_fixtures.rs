//! Model files written by an earlier release still load and predict as they did.
//!
//! `tests/fixtures/model/` holds two networks saved by simplenn 0.1.0 (model format version
//! 1), each trained briefly on the built-in digits, and beside each the class probabilities
//! that release computed for the first 32 built-in digits. The files were written before
//! format version 2 existed and must never be regenerated: they are what old users have on
//! disk.
//!
//! The parameters are checked bit for bit against an independent reading of the version-1
//! layout (a plain loop over the bytes, not the crate's reader). The probabilities are checked
//! to 1e-6: the matrix product's kernel is chosen for the CPU at run time, and a kernel with
//! or without fused multiply-add rounds differently in the last bit.

use simplenn::LayerKind;
use simplenn::dataset::load_dir;
use simplenn::{Activation, Network};
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/model")
        .join(name)
}

/// The version-1 layout read by hand: `(inputs, [(outputs, activation code, weights, bias)])`.
#[allow(clippy::type_complexity)]
fn read_v1_by_hand(bytes: &[u8]) -> (usize, Vec<(usize, u8, Vec<f32>, Vec<f32>)>) {
    let u32_at = |o: usize| u32::from_le_bytes(bytes[o..o + 4].try_into().unwrap()) as usize;
    let f32_at = |o: usize| f32::from_le_bytes(bytes[o..o + 4].try_into().unwrap());
    assert_eq!(&bytes[..8], b"\x89SNN\r\n\x1a\n");
    assert_eq!(u32_at(8), 1, "a version-1 fixture");
    let (count, inputs) = (u32_at(12), u32_at(16));
    let mut pos = 20 + 8 * count;
    let mut fan_in = inputs;
    let mut layers = Vec::new();
    for l in 0..count {
        let outputs = u32_at(20 + 8 * l);
        let code = bytes[24 + 8 * l];
        let weights: Vec<f32> = (0..fan_in * outputs).map(|k| f32_at(pos + 4 * k)).collect();
        pos += 4 * fan_in * outputs;
        let bias: Vec<f32> = (0..outputs).map(|k| f32_at(pos + 4 * k)).collect();
        pos += 4 * outputs;
        layers.push((outputs, code, weights, bias));
        fan_in = outputs;
    }
    assert_eq!(pos + 4, bytes.len());
    (inputs, layers)
}

fn expected_probabilities(name: &str) -> Vec<Vec<f32>> {
    let text = std::fs::read_to_string(fixture(name)).unwrap();
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .map(|line| {
            line.split_whitespace()
                .map(|hex| f32::from_bits(u32::from_str_radix(hex, 16).unwrap()))
                .collect()
        })
        .collect()
}

fn check_fixture(stem: &str, description: &str) {
    let path = fixture(&format!("{stem}.snn"));
    let net: Network = Network::load(&path).unwrap();
    assert_eq!(net.to_string(), description);

    let bytes = std::fs::read(&path).unwrap();
    let (inputs, layers) = read_v1_by_hand(&bytes);
    assert_eq!(net.inputs(), inputs);
    assert_eq!(net.layers().len(), layers.len());
    let codes = [
        Activation::Identity,
        Activation::Relu,
        Activation::Sigmoid,
        Activation::Tanh,
    ];
    for (l, (layer, (outputs, code, weights, bias))) in net.layers().iter().zip(&layers).enumerate()
    {
        assert_eq!(layer.output_shape().volume(), *outputs, "layer {l}");
        assert_eq!(
            layer.activation().unwrap(),
            codes[*code as usize],
            "layer {l}"
        );
        let bits = |xs: &[f32]| xs.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(
            bits(layer.weights().unwrap().as_slice()),
            bits(weights),
            "layer {l} weights"
        );
        assert_eq!(bits(layer.bias().unwrap()), bits(bias), "layer {l} bias");
    }

    let digits = load_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("data/mnist-10k"),
        10,
    )
    .unwrap()
    .train;
    let first: Vec<usize> = (0..32).collect();
    let x = digits.select(&first).images().to_matrix::<f32>();
    let p = net.predict_proba(&x);
    let expected = expected_probabilities(&format!("{stem}.expected"));
    assert_eq!(expected.len(), 32);
    for (r, want) in expected.iter().enumerate() {
        for (c, (&got, &want)) in p.row(r).iter().zip(want).enumerate() {
            assert!(
                (got - want).abs() <= 1e-6,
                "{stem}: digit {r}, class {c}: probability {got}, the release that wrote the \
                 file computed {want}"
            );
        }
        let argmax = |xs: &[f32]| (0..xs.len()).fold(0, |b, i| if xs[i] > xs[b] { i } else { b });
        assert_eq!(argmax(p.row(r)), argmax(want), "{stem}: digit {r}'s class");
    }
}

#[test]
fn a_version_1_relu_network_loads_and_predicts_as_it_did() {
    check_fixture("v1-mlp-relu", "784 → 16 relu → 10 softmax");
}

#[test]
fn a_version_1_sigmoid_tanh_network_loads_and_predicts_as_it_did() {
    check_fixture(
        "v1-mlp-sigmoid-tanh",
        "784 → 12 sigmoid → 8 tanh → 10 softmax",
    );
}
