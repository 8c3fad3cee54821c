//! Model format version 2, for networks with convolutions and pooling: its layout, round
//! trips, and the ways a file can be wrong (the version-1 suite is `tests/model.rs`).

use simplenn::LayerKind;
use simplenn::crc32::crc32;
use simplenn::model::{self, MAX_SAMPLE_VALUES};
use simplenn::{Activation, Matrix, Network, Rng, Shape};

fn cnn() -> Network<f32> {
    let mut net = Network::builder_for(Shape::image(6, 5, 2))
        .conv2d(3, 3, Activation::Relu)
        .max_pool(2)
        .layer(simplenn::LayerSpec::Conv2d {
            channels: 2,
            kernel: 2,
            stride: 1,
            padding: simplenn::Padding::Valid,
            activation: Activation::Tanh,
        })
        .hidden(4, Activation::Sigmoid)
        .output(3)
        .seed(5)
        .build();
    let mut rng = Rng::new(9);
    for layer in net.layers_mut() {
        if let Some(b) = layer.bias_mut() {
            b.iter_mut()
                .for_each(|b| *b = rng.uniform(-1.0, 1.0) as f32);
        }
    }
    net
}

fn le32(bytes: &[u8], offset: usize) -> u32 {
    u32::from_le_bytes(bytes[offset..offset + 4].try_into().unwrap())
}

fn put32(bytes: &mut [u8], offset: usize, value: u32) {
    bytes[offset..offset + 4].copy_from_slice(&value.to_le_bytes());
}

fn fix_crc(bytes: &mut [u8]) {
    let body = bytes.len() - 4;
    let crc = crc32(&bytes[..body]);
    bytes[body..].copy_from_slice(&crc.to_le_bytes());
}

fn load_err(bytes: &[u8]) -> (u64, String) {
    let err = match model::from_bytes::<f32>(bytes) {
        Ok(_) => panic!("a bad file loaded"),
        Err(e) => e,
    };
    let offset = match err.location() {
        Some(simplenn::Location::Offset(o)) => o,
        other => panic!("no byte offset: {other:?} ({err})"),
    };
    (offset, err.to_string())
}

#[test]
fn a_cnn_is_laid_out_as_the_table_says() {
    let net = cnn();
    let bytes = model::to_bytes(&net);
    assert_eq!(le32(&bytes, 8), 2, "version 2");
    assert_eq!(le32(&bytes, 12), 5, "five layers");
    assert_eq!(
        [le32(&bytes, 16), le32(&bytes, 20), le32(&bytes, 24)],
        [6, 5, 2]
    );
    // Layer 0: conv2d (kind 1), relu (1), 3 channels, kernel 3, stride 1, padding 1.
    assert_eq!(&bytes[28..32], &[1, 1, 0, 0]);
    assert_eq!(
        [28 + 4, 28 + 8, 28 + 12, 28 + 16].map(|o| le32(&bytes, o)),
        [3, 3, 1, 1]
    );
    // Layer 1: maxpool2d (2), no activation, window 2.
    assert_eq!(&bytes[48..52], &[2, 0, 0, 0]);
    assert_eq!([52, 56, 60, 64].map(|o| le32(&bytes, o)), [2, 0, 0, 0]);
    // Layer 2: conv2d, tanh (3), 2 channels, kernel 2, stride 1, padding 0.
    assert_eq!(&bytes[68..72], &[1, 3, 0, 0]);
    assert_eq!([72, 76, 80, 84].map(|o| le32(&bytes, o)), [2, 2, 1, 0]);
    // Layers 3 and 4: dense (0), sigmoid (2) with 4 outputs, identity (0) with 3.
    assert_eq!(&bytes[88..92], &[0, 2, 0, 0]);
    assert_eq!(le32(&bytes, 92), 4);
    assert_eq!(&bytes[108..112], &[0, 0, 0, 0]);
    assert_eq!(le32(&bytes, 112), 3);
    // The parameters start at 28 + 20·5 = 128, the first convolution's weights first.
    let first = f32::from_le_bytes(bytes[128..132].try_into().unwrap());
    assert_eq!(first, net.layers()[0].weights().unwrap().as_slice()[0]);
    let params = net.parameter_count();
    assert_eq!(bytes.len(), 128 + 4 * params + 4);
    assert_eq!(
        le32(&bytes, bytes.len() - 4),
        crc32(&bytes[..bytes.len() - 4])
    );
}

#[test]
fn a_cnn_round_trips_bit_for_bit_and_predicts_the_same() {
    let net = cnn();
    let back: Network = model::from_bytes(&model::to_bytes(&net)).unwrap();
    assert_eq!(back, net);
    assert_eq!(back.to_string(), net.to_string());
    let x = Matrix::random_uniform(4, 60, 0.0, 1.0, &mut Rng::new(2));
    assert_eq!(back.predict_proba(&x), net.predict_proba(&x));
    // And through a file, saved atomically like any model.
    let path = std::env::temp_dir().join(format!("simplenn-v2-{}.snn", std::process::id()));
    net.save(&path).unwrap();
    assert_eq!(Network::load(&path).unwrap(), net);
    let _ = std::fs::remove_file(&path);
}

#[test]
fn a_dense_network_is_still_written_as_version_1() {
    let net: Network = Network::builder(4)
        .hidden(3, Activation::Relu)
        .output(2)
        .build();
    assert_eq!(le32(&model::to_bytes(&net), 8), 1);
}

#[test]
fn every_truncation_and_every_flipped_byte_is_an_error() {
    let bytes = model::to_bytes(&cnn());
    for len in 0..bytes.len() {
        assert!(
            model::from_bytes::<f32>(&bytes[..len]).is_err(),
            "truncated to {len}"
        );
    }
    let mut rng = Rng::new(4);
    for _ in 0..2000 {
        let mut damaged = bytes.clone();
        let at = rng.below(damaged.len() as u64) as usize;
        let bit = rng.below(8) as u32;
        damaged[at] ^= 1 << bit;
        assert!(
            model::from_bytes::<f32>(&damaged).is_err(),
            "bit {bit} of byte {at} flipped"
        );
    }
}

/// A version-2 header with these layer records (`kind | activation << 8`, then the four
/// fields) and no parameters, CRC fixed: a file that lies about its shapes.
fn header(input: [u32; 3], records: &[[u32; 5]]) -> Vec<u8> {
    let mut bytes = b"\x89SNN\r\n\x1a\n".to_vec();
    for v in [2, records.len() as u32, input[0], input[1], input[2]] {
        bytes.extend_from_slice(&v.to_le_bytes());
    }
    for r in records {
        let (kind, act) = (r[0] & 0xFF, r[0] >> 8);
        bytes.extend_from_slice(&[kind as u8, act as u8, 0, 0]);
        for &v in &r[1..] {
            bytes.extend_from_slice(&v.to_le_bytes());
        }
    }
    bytes.extend_from_slice(&[0; 4]);
    fix_crc(&mut bytes);
    bytes
}

#[test]
fn absurd_shapes_are_refused_without_allocating() {
    // 65,535 × 65,535 pixels: more values per sample than the format allows.
    let (offset, msg) = load_err(&header([65_535, 65_535, 1], &[[0, 10, 0, 0, 0]]));
    assert_eq!(offset, 16);
    assert!(msg.contains("values per sample"), "{msg}");
    // A 1×1 convolution to 4 billion channels: the output alone would need terabytes.
    let (offset, msg) = load_err(&header([28, 28, 1], &[[1 | 1 << 8, u32::MAX, 1, 1, 0]]));
    assert!(offset >= 28, "{offset}");
    assert!(msg.contains("values per sample"), "{msg}");
    // Padding of 4 billion pixels around a tiny image.
    let (_, msg) = load_err(&header([2, 2, 1], &[[1 | 1 << 8, 1, 1, 1, u32::MAX]]));
    assert!(
        msg.contains("values per sample") || msg.contains("too large"),
        "{msg}"
    );
    // Parameters that would need more bytes than 2⁶⁴: a dense layer on the largest input.
    let (_, msg) = load_err(&header([8192, 8192, 1], &[[0, 1 << 26, 0, 0, 0]]));
    assert!(msg.contains("truncated"), "{msg}");
}

#[test]
fn records_that_do_not_fit_their_input_are_refused_naming_the_layer() {
    // A 7×7 kernel on a 5×5 image without padding.
    let (offset, msg) = load_err(&header([5, 5, 1], &[[1 | 1 << 8, 4, 7, 1, 0]]));
    assert_eq!(offset, 32);
    assert!(
        msg.contains("layer 0") && msg.contains("7×7") && msg.contains("5×5"),
        "{msg}"
    );
    // Kernel 0, stride 0.
    for record in [[1 | 1 << 8, 4, 0, 1, 0], [1 | 1 << 8, 4, 3, 0, 0]] {
        let (_, msg) = load_err(&header([5, 5, 1], &[record]));
        assert!(msg.contains("at least 1"), "{msg}");
    }
    // A pooling window larger than the image it receives after a strided convolution.
    let records = [[1 | 1 << 8, 2, 3, 2, 0], [2, 3, 0, 0, 0]];
    let (offset, msg) = load_err(&header([6, 6, 1], &records));
    assert_eq!(offset, 52);
    assert!(
        msg.contains("layer 1") && msg.contains("3×3") && msg.contains("2×2"),
        "{msg}"
    );
    // Unknown kind, pooling with an activation, unused fields that are not zero.
    let (offset, msg) = load_err(&header([5, 5, 1], &[[9, 1, 0, 0, 0]]));
    assert_eq!(offset, 28);
    assert!(msg.contains("unknown kind 9"), "{msg}");
    let (offset, msg) = load_err(&header([4, 4, 1], &[[2 | 1 << 8, 2, 0, 0, 0]]));
    assert_eq!(offset, 29);
    assert!(msg.contains("no activation"), "{msg}");
    let (offset, msg) = load_err(&header([4, 4, 1], &[[0, 3, 0, 7, 0]]));
    assert_eq!(offset, 40);
    assert!(msg.contains("unused field 2"), "{msg}");
    // A zero in the input shape.
    let (offset, msg) = load_err(&header([4, 0, 1], &[[0, 3, 0, 0, 0]]));
    assert_eq!(offset, 16);
    assert!(msg.contains("zero side"), "{msg}");
}

#[test]
fn a_non_finite_convolution_weight_is_refused_at_its_offset() {
    let mut bytes = model::to_bytes(&cnn());
    put32(&mut bytes, 128 + 4 * 5, f32::NAN.to_bits());
    fix_crc(&mut bytes);
    let (offset, msg) = load_err(&bytes);
    assert_eq!(offset, 128 + 20);
    assert!(msg.contains("layer 0 weight (1, 2)"), "{msg}"); // 18 × 3 weights
}

#[test]
fn the_layer_limit_on_values_per_sample_is_what_the_docs_say() {
    assert_eq!(MAX_SAMPLE_VALUES, 1 << 26);
}
