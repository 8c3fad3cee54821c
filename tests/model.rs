//! The model file format, checked against the table of the book's chapter "The model file
//! format": its layout byte by byte, round trips, and every way a file can be wrong.

use simplenn::LayerKind;
use simplenn::crc32::crc32;
use simplenn::model::{self, MAX_LAYERS};
use simplenn::{Activation, Dense, ErrorKind, Location, Matrix, Network, Rng};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

/// The magic as the docs spell it, written out here rather than taken from the crate.
const MAGIC: [u8; 8] = [0x89, 0x53, 0x4E, 0x4E, 0x0D, 0x0A, 0x1A, 0x0A];

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

/// A directory under the system's temp dir, unique to one test, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(test: &str) -> Self {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("simplenn-model-{test}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn path(&self) -> &Path {
        &self.0
    }

    /// The names of the files in the directory, sorted.
    fn listing(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.0)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn le32(bytes: &[u8], offset: usize) -> u32 {
    u32::from_le_bytes(bytes[offset..offset + 4].try_into().unwrap())
}

/// Recomputes the trailing CRC after a deliberate edit, so that a later check is what fires.
fn fix_crc(bytes: &mut [u8]) {
    let body = bytes.len() - 4;
    let crc = crc32(&bytes[..body]);
    bytes[body..].copy_from_slice(&crc.to_le_bytes());
}

/// A layer from its weights given row by row (`inputs × outputs`).
fn dense<const O: usize>(rows: &[[f32; O]], bias: [f32; O], act: Activation) -> Dense<f32> {
    Dense::new(Matrix::from_rows(rows), bias.to_vec(), act)
}

/// 2 → 3 ReLU → 2, with every parameter distinct, the first weight 1.5.
fn tiny() -> Network<f32> {
    Network::from_layers(vec![
        dense(
            &[[1.5, -2.0, 0.25], [3.0, -0.5, 4.0]],
            [0.1, 0.2, -0.3],
            Activation::Relu,
        ),
        dense(
            &[[1.0, -1.0], [0.5, 2.5], [-3.5, 6.0]],
            [7.0, -8.0],
            Activation::Identity,
        ),
    ])
}

/// A network with random parameters, seeded.
fn random_network(
    inputs: usize,
    hidden: &[(usize, Activation)],
    classes: usize,
    seed: u64,
) -> Network<f32> {
    let mut b = Network::builder(inputs).seed(seed);
    for &(units, act) in hidden {
        b = b.hidden(units, act);
    }
    let mut net = b.output(classes).build();
    // The builder's biases start at zero: make them something worth round-tripping.
    let mut rng = Rng::new(seed ^ 0xB1A5);
    for layer in net.layers_mut() {
        for b in layer.bias_mut().unwrap() {
            *b = rng.uniform(-1.0, 1.0) as f32;
        }
    }
    net
}

fn random_inputs(rows: usize, cols: usize, seed: u64) -> Matrix<f32> {
    Matrix::random_uniform(rows, cols, -2.0, 2.0, &mut Rng::new(seed))
}

/// Every parameter's bit pattern, layer by layer, with the activations.
fn bits(net: &Network<f32>) -> Vec<(Vec<u32>, Vec<u32>, Activation)> {
    net.layers()
        .iter()
        .map(|l| {
            (
                l.weights()
                    .unwrap()
                    .as_slice()
                    .iter()
                    .map(|w| w.to_bits())
                    .collect(),
                l.bias().unwrap().iter().map(|b| b.to_bits()).collect(),
                l.activation().unwrap(),
            )
        })
        .collect()
}

/// The error `from_bytes` gives, with its offset and message.
fn load_err(bytes: &[u8]) -> (u64, String) {
    let err = match model::from_bytes::<f32>(bytes) {
        Ok(net) => panic!("{} bytes loaded as {net:?}, expected an error", bytes.len()),
        Err(e) => e,
    };
    assert!(
        matches!(err.kind(), ErrorKind::Model(_)),
        "not a model error: {err}"
    );
    let Some(Location::Offset(offset)) = err.location() else {
        panic!("error without a byte offset: {err}");
    };
    (offset, err.to_string())
}

fn assert_contains(message: &str, part: &str) {
    assert!(
        message.contains(part),
        "{message:?} does not contain {part:?}"
    );
}

// ---------------------------------------------------------------------------------------
// The layout
// ---------------------------------------------------------------------------------------

#[test]
fn a_tiny_network_is_laid_out_as_the_table_says() {
    let bytes = model::to_bytes(&tiny());
    // Header: 20 + 8·2 = 36 bytes; layer 0: 4·(2·3 + 3) = 36; layer 1: 4·(3·2 + 2) = 32; CRC 4.
    assert_eq!(bytes.len(), 36 + 36 + 32 + 4);
    assert_eq!(bytes[0..8], MAGIC);
    assert_eq!(bytes[8..12], [1, 0, 0, 0], "version");
    assert_eq!(bytes[12..16], [2, 0, 0, 0], "layer count");
    assert_eq!(bytes[16..20], [2, 0, 0, 0], "inputs");
    assert_eq!(bytes[20..24], [3, 0, 0, 0], "layer 0 outputs");
    assert_eq!(bytes[24..28], [1, 0, 0, 0], "layer 0 relu, reserved");
    assert_eq!(bytes[28..32], [2, 0, 0, 0], "layer 1 outputs");
    assert_eq!(bytes[32..36], [0, 0, 0, 0], "layer 1 identity, reserved");
    // The first weight, 1.5 = 0x3FC00000, little-endian, where the parameters start.
    assert_eq!(bytes[36..40], [0x00, 0x00, 0xC0, 0x3F]);
    // Weight (1, 2) of layer 0 is number 1·3 + 2 = 5, at 36 + 4·5.
    assert_eq!(bytes[56..60], 4.0f32.to_le_bytes());
    // Layer 0's biases follow its 6 weights; layer 1 starts at 72, its biases at 96.
    assert_eq!(bytes[60..64], 0.1f32.to_le_bytes());
    assert_eq!(bytes[68..72], (-0.3f32).to_le_bytes());
    assert_eq!(bytes[72..76], 1.0f32.to_le_bytes());
    assert_eq!(bytes[92..96], 6.0f32.to_le_bytes(), "layer 1 weight (2, 1)");
    assert_eq!(bytes[96..100], 7.0f32.to_le_bytes());
    assert_eq!(bytes[100..104], (-8.0f32).to_le_bytes());
    assert_eq!(le32(&bytes, 104), crc32(&bytes[..104]));
    // Every parameter, in the documented order.
    let expected: Vec<f32> = vec![
        1.5, -2.0, 0.25, 3.0, -0.5, 4.0, 0.1, 0.2, -0.3, // layer 0
        1.0, -1.0, 0.5, 2.5, -3.5, 6.0, 7.0, -8.0, // layer 1
    ];
    let stored: Vec<f32> = bytes[36..104]
        .chunks(4)
        .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
        .collect();
    assert_eq!(stored, expected);
}

#[test]
fn a_file_written_by_hand_from_the_table_loads() {
    // What another language's writer would produce for 1 → 2 tanh → 1 identity.
    let mut bytes = MAGIC.to_vec();
    for field in [1u32, 2, 1] {
        bytes.extend_from_slice(&field.to_le_bytes()); // version, layers, inputs
    }
    bytes.extend_from_slice(&[2, 0, 0, 0, 3, 0, 0, 0]); // 2 units, tanh
    bytes.extend_from_slice(&[1, 0, 0, 0, 0, 0, 0, 0]); // 1 unit, identity
    for x in [0.5f32, -0.25, 1.0, 2.0, -3.0, 4.0, 0.125] {
        bytes.extend_from_slice(&x.to_le_bytes()); // W¹ (1×2), b¹, W² (2×1), b²
    }
    let crc = crc32(&bytes);
    bytes.extend_from_slice(&crc.to_le_bytes());

    let net: Network = model::from_bytes(&bytes).unwrap();
    assert_eq!(net.to_string(), "1 → 2 tanh → 1 softmax");
    let [l0, l1] = net.layers() else {
        panic!("two layers expected")
    };
    assert_eq!(l0.weights().unwrap().as_slice(), [0.5, -0.25]);
    assert_eq!(l0.bias().unwrap(), [1.0, 2.0]);
    assert_eq!(l1.weights().unwrap().as_slice(), [-3.0, 4.0]);
    assert_eq!(l1.bias().unwrap(), [0.125]);
    assert_eq!(model::to_bytes(&net), bytes);
}

#[test]
fn activation_codes_are_the_documented_ones() {
    let codes = [
        (Activation::Identity, 0u8),
        (Activation::Relu, 1),
        (Activation::Sigmoid, 2),
        (Activation::Tanh, 3),
    ];
    for (act, code) in codes {
        let net = random_network(3, &[(4, act)], 2, code as u64);
        let bytes = model::to_bytes(&net);
        assert_eq!(bytes[24], code, "{act}");
        assert_eq!(bytes[32], 0, "the output layer is identity");
        let back: Network = model::from_bytes(&bytes).unwrap();
        assert_eq!(back.layers()[0].activation().unwrap(), act);
        assert_eq!(bits(&back), bits(&net));
        let x = random_inputs(20, 3, 9);
        assert_eq!(back.forward(&x), net.forward(&x));
    }
}

// ---------------------------------------------------------------------------------------
// Round trips
// ---------------------------------------------------------------------------------------

#[test]
fn an_f32_network_round_trips_bit_for_bit() {
    let net = random_network(
        64,
        &[
            (32, Activation::Relu),
            (16, Activation::Sigmoid),
            (8, Activation::Tanh),
        ],
        10,
        2024,
    );
    let back: Network = model::from_bytes(&model::to_bytes(&net)).unwrap();
    assert_eq!(bits(&back), bits(&net));

    let x = random_inputs(200, 64, 5);
    let logits: Vec<u32> = net
        .forward(&x)
        .as_slice()
        .iter()
        .map(|v| v.to_bits())
        .collect();
    let again: Vec<u32> = back
        .forward(&x)
        .as_slice()
        .iter()
        .map(|v| v.to_bits())
        .collect();
    assert_eq!(again, logits);
    assert_eq!(back.predict(&x), net.predict(&x));
}

#[test]
fn negative_zero_and_extreme_f32s_survive() {
    let extremes = [-0.0, f32::MAX, f32::MIN, f32::MIN_POSITIVE, 1e-45, -1e-45];
    let net = Network::from_layers(vec![Dense::new(
        Matrix::from_vec(2, 3, extremes.to_vec()),
        vec![0.0, -0.0, f32::EPSILON],
        Activation::Identity,
    )]);
    let back: Network = model::from_bytes(&model::to_bytes(&net)).unwrap();
    assert_eq!(bits(&back), bits(&net));
}

#[test]
fn a_network_without_hidden_layers_round_trips() {
    let net = random_network(5, &[], 3, 77);
    assert_eq!(net.layers().len(), 1);
    let bytes = model::to_bytes(&net);
    assert_eq!(bytes.len(), 20 + 8 + 4 * (5 * 3 + 3) + 4);
    assert_eq!(le32(&bytes, 12), 1);
    let back: Network = model::from_bytes(&bytes).unwrap();
    assert_eq!(bits(&back), bits(&net));
}

#[test]
fn f64_networks_are_stored_rounded_to_nearest_f32() {
    let half_ulp = 2f64.powi(-24); // half the gap between 1 and the next f32
    let values = [
        (0.1f64, 0.1f32),                                    // nearest f32 to 0.1
        (1.0 + half_ulp, 1.0),                               // a tie: to the even neighbour, 1
        (1.0 + 3.0 * half_ulp, 1.0 + 4.0 * half_ulp as f32), // a tie: to even, upwards
        (1.0 + 1.1 * half_ulp, 1.0 + 2.0 * half_ulp as f32), // nearer the upper neighbour
        (-0.0, -0.0),
        (1e-50, 0.0), // below f32's subnormals
        (f32::MAX as f64, f32::MAX),
    ];
    let weights: Vec<f64> = values.iter().map(|v| v.0).collect();
    let expected: Vec<f32> = values.iter().map(|v| v.1).collect();
    let n = weights.len();
    let net = Network::from_layers(vec![Dense::new(
        Matrix::from_vec(1, n, weights.clone()),
        vec![std::f64::consts::PI; n],
        Activation::Identity,
    )]);
    let bytes = model::to_bytes(&net);

    let as_f32: Network<f32> = model::from_bytes(&bytes).unwrap();
    let got: Vec<u32> = as_f32.layers()[0]
        .weights()
        .unwrap()
        .as_slice()
        .iter()
        .map(|x| x.to_bits())
        .collect();
    let want: Vec<u32> = expected.iter().map(|x| x.to_bits()).collect();
    assert_eq!(got, want);
    assert_eq!(as_f32.layers()[0].bias().unwrap()[0], std::f32::consts::PI);

    // Loading into f64 is exact: the f32 value, widened.
    let as_f64: Network<f64> = model::from_bytes(&bytes).unwrap();
    let wide = as_f64.layers()[0].weights().unwrap().as_slice();
    for (i, (&w, &x)) in wide.iter().zip(&weights).enumerate() {
        assert_eq!(w.to_bits(), f64::from(expected[i]).to_bits(), "weight {i}");
        // The documented bound: relative error at most 2⁻²⁴ in f32's normal range.
        if x.abs() >= f32::MIN_POSITIVE as f64 {
            assert!(((w - x) / x).abs() <= half_ulp, "weight {i}: {x} → {w}");
        }
    }
    // Saving the loaded f64 network again changes nothing.
    assert_eq!(model::to_bytes(&as_f64), bytes);
}

#[test]
fn an_f64_parameter_beyond_f32_range_is_refused() {
    let dir = TempDir::new("f64-range");
    let path = dir.path().join("big.snn");
    let net = Network::from_layers(vec![Dense::new(
        Matrix::from_vec(1, 2, vec![1.0, 1e39f64]),
        vec![0.0, 0.0],
        Activation::Identity,
    )]);
    let err = model::save(&net, &path).unwrap_err();
    let message = err.to_string();
    assert_contains(&message, "weight (0, 1)");
    assert_contains(&message, "beyond f32's range");
    assert_eq!(err.path(), Some(path.as_path()));
    assert!(dir.listing().is_empty(), "{:?}", dir.listing());
}

#[test]
#[should_panic(expected = "not a finite number")]
fn to_bytes_panics_on_a_nan_parameter() {
    let mut net = tiny();
    net.layers_mut()[1].bias_mut().unwrap()[1] = f32::NAN;
    model::to_bytes(&net);
}

// ---------------------------------------------------------------------------------------
// Damaged files
// ---------------------------------------------------------------------------------------

#[test]
fn every_truncation_is_an_error() {
    let bytes = model::to_bytes(&tiny());
    for n in 0..bytes.len() {
        let (offset, message) = load_err(&bytes[..n]);
        if n == 0 {
            assert_contains(&message, "empty file");
        } else {
            assert_contains(&message, "truncated");
            assert_eq!(offset, n as u64, "{message}");
        }
    }
    // Past the layer table, the message gives the length the header describes.
    let (_, message) = load_err(&bytes[..50]);
    assert_contains(&message, "the header describes 108 bytes, the file has 50");
}

#[test]
fn random_byte_flips_are_all_caught() {
    let net = random_network(6, &[(5, Activation::Sigmoid), (4, Activation::Relu)], 3, 11);
    let bytes = model::to_bytes(&net);
    let params_start = 20 + 8 * 3;
    let mut rng = Rng::new(0xF11F);
    let mut crc_errors = 0;
    for trial in 0..6000 {
        let mut damaged = bytes.clone();
        let pos = rng.below(bytes.len() as u64) as usize;
        // Half single-bit flips, half a whole byte XORed with a random non-zero mask. Either
        // is a burst of at most 8 bits, which CRC-32 always detects.
        let mask = if trial % 2 == 0 {
            1u8 << rng.below(8)
        } else {
            (rng.below(255) + 1) as u8
        };
        damaged[pos] ^= mask;
        let (offset, message) = load_err(&damaged);
        assert!(offset <= bytes.len() as u64, "{message}");
        // A flip in the parameters or in the CRC itself: the CRC no longer matches.
        if pos >= params_start {
            assert_contains(&message, "CRC-32 mismatch");
            assert_contains(&message, "the file is damaged");
            assert_eq!(offset, bytes.len() as u64 - 4);
            crc_errors += 1;
        }
    }
    assert!(
        crc_errors > 5000,
        "only {crc_errors} flips reached the parameters"
    );
}

#[test]
fn random_garbage_never_loads_and_never_panics() {
    let mut rng = Rng::new(404);
    let valid = model::to_bytes(&tiny());
    for trial in 0..3000 {
        let len = rng.below(200) as usize;
        let mut bytes: Vec<u8> = (0..len).map(|_| rng.next_u64() as u8).collect();
        // Give most of them a valid start, so the parsing behind the magic gets exercised.
        let keep = (rng.below(40) as usize).min(len);
        if trial % 4 != 0 {
            bytes[..keep].copy_from_slice(&valid[..keep]);
        }
        assert!(model::from_bytes::<f32>(&bytes).is_err());
        assert!(model::from_bytes::<f64>(&bytes).is_err());
    }
}

#[test]
fn a_crc_mismatch_reports_both_values() {
    let mut bytes = model::to_bytes(&tiny());
    let good = le32(&bytes, 104);
    bytes[40] ^= 0x01;
    let actual = crc32(&bytes[..104]);
    let (offset, message) = load_err(&bytes);
    assert_eq!(offset, 104);
    assert_contains(
        &message,
        &format!("CRC-32 mismatch (file says {good:#010x}, contents give {actual:#010x})"),
    );
}

// ---------------------------------------------------------------------------------------
// Files that are not models, or not ours to read
// ---------------------------------------------------------------------------------------

#[test]
fn a_wrong_magic_is_not_a_model() {
    let mut bytes = model::to_bytes(&tiny());
    bytes[..8].copy_from_slice(b"SIMPLENN");
    let (offset, message) = load_err(&bytes);
    assert_eq!(offset, 0);
    assert_contains(
        &message,
        "not a simplenn model file (magic 53 49 4d 50 4c 45 4e 4e",
    );
}

#[test]
fn a_gzip_file_gets_a_hint() {
    // `gzip -n < /dev/null`: a complete gzip file of nothing.
    let gzip = [
        0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x03, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00,
    ];
    let (offset, message) = load_err(&gzip);
    assert_eq!(offset, 0);
    assert_contains(&message, "not a simplenn model file (magic 1f 8b");
    assert_contains(&message, "gzip");
}

#[test]
fn an_idx_file_gets_a_hint() {
    // An IDX1 label file of three labels: magic 0x00000801, count 3, then the labels.
    let idx = [0, 0, 8, 1, 0, 0, 0, 3, 7, 2, 1];
    let (offset, message) = load_err(&idx);
    assert_eq!(offset, 0);
    assert_contains(&message, "IDX");
}

#[test]
fn an_empty_file_is_not_a_model() {
    let (offset, message) = load_err(&[]);
    assert_eq!(offset, 0);
    assert_contains(&message, "empty file");
}

#[test]
fn text_mode_copies_are_diagnosed() {
    let bytes = model::to_bytes(&tiny());
    // CRLF → LF, as a Windows-to-Unix text transfer would do to the magic's "\r\n".
    let mut unix = bytes.clone();
    unix.remove(4);
    let (offset, message) = load_err(&unix);
    assert_eq!(offset, 4);
    assert_contains(&message, "copied as text");
    // LF → CRLF: the lone "\n" at byte 7 gains a "\r".
    let mut dos = bytes.clone();
    dos.insert(7, b'\r');
    let (offset, message) = load_err(&dos);
    assert_eq!(offset, 7);
    assert_contains(&message, "copied as text");
    // A converter that does not notice the "\r" already there: "\r\n" becomes "\r\r\n".
    let mut naive = bytes.clone();
    naive.insert(5, b'\r');
    let (offset, message) = load_err(&naive);
    assert_eq!(offset, 5);
    assert_contains(&message, "copied as text");
    // Other damage to those bytes is just damage.
    let mut flipped = bytes.clone();
    flipped[6] ^= 0x01;
    let (offset, message) = load_err(&flipped);
    assert_eq!(offset, 6);
    assert_contains(&message, "its magic is damaged");
    // A 7-bit channel clears the first byte's high bit.
    let mut seven = bytes;
    seven[0] &= 0x7F;
    assert_contains(&load_err(&seven).1, "7-bit");
}

#[test]
fn a_future_version_is_refused_by_name() {
    let mut bytes = model::to_bytes(&tiny());
    bytes[8..12].copy_from_slice(&7u32.to_le_bytes());
    fix_crc(&mut bytes);
    let (offset, message) = load_err(&bytes);
    assert_eq!(offset, 8);
    assert!(
        message.ends_with("format version 7 is newer than this build understands (3)"),
        "{message}"
    );
    bytes[8..12].copy_from_slice(&0u32.to_le_bytes());
    fix_crc(&mut bytes);
    let (offset, message) = load_err(&bytes);
    assert_eq!(offset, 8);
    assert_contains(&message, "version 0");
}

/// A header of `inputs → sizes[0] → sizes[1] …`, identity activations, no parameters,
/// and a CRC: a file that lies about its size.
fn lying_header(inputs: u32, sizes: &[u32]) -> Vec<u8> {
    let mut bytes = MAGIC.to_vec();
    bytes.extend_from_slice(&1u32.to_le_bytes());
    bytes.extend_from_slice(&(sizes.len() as u32).to_le_bytes());
    bytes.extend_from_slice(&inputs.to_le_bytes());
    for &s in sizes {
        bytes.extend_from_slice(&s.to_le_bytes());
        bytes.extend_from_slice(&[0; 4]);
    }
    bytes.extend_from_slice(&[0; 8]); // two made-up parameters
    let crc = crc32(&bytes);
    bytes.extend_from_slice(&crc.to_le_bytes());
    bytes
}

#[test]
fn a_lying_header_is_refused_without_allocating() {
    // 1 → 2³¹: 2³² parameters, 16 GiB, in a 40-byte file. Allocating it would abort the
    // test process; the loader must compare the size with the file's length first.
    let bytes = lying_header(1, &[1 << 31]);
    assert_eq!(bytes.len(), 40);
    let (offset, message) = load_err(&bytes);
    assert_eq!(offset, 40);
    let described = 20 + 8 + 4 * ((1u64 << 31) + (1 << 31)) + 4;
    assert_contains(
        &message,
        &format!("truncated: the header describes {described} bytes, the file has 40"),
    );
    // Sizes whose byte count overflows 64 bits: 2³¹·2³¹ weights of 4 bytes = 2⁶⁴.
    let (_, message) = load_err(&lying_header(1 << 31, &[1 << 31]));
    assert_contains(&message, "more than 2⁶⁴ bytes");
    let (_, message) = load_err(&lying_header(u32::MAX, &[u32::MAX; 5]));
    assert_contains(&message, "truncated");
    // The same lies loaded as f64, and through a file.
    assert!(model::from_bytes::<f64>(&lying_header(u32::MAX, &[u32::MAX])).is_err());
}

#[test]
fn the_layer_count_is_bounded() {
    let mut bytes = model::to_bytes(&tiny());
    for count in [0, MAX_LAYERS + 1, u32::MAX] {
        bytes[12..16].copy_from_slice(&count.to_le_bytes());
        fix_crc(&mut bytes);
        let (offset, message) = load_err(&bytes);
        assert_eq!(offset, 12, "{message}");
        assert_contains(&message, &format!("layer count {count}"));
    }
    // The most layers allowed, in a file far too short for them: truncated, not a panic.
    bytes[12..16].copy_from_slice(&MAX_LAYERS.to_le_bytes());
    fix_crc(&mut bytes);
    assert_contains(&load_err(&bytes).1, "truncated");
}

#[test]
fn zero_sizes_are_refused() {
    let mut bytes = model::to_bytes(&tiny());
    bytes[16..20].copy_from_slice(&0u32.to_le_bytes());
    fix_crc(&mut bytes);
    let (offset, message) = load_err(&bytes);
    assert_eq!(offset, 16);
    assert_contains(&message, "0 inputs");

    let mut bytes = model::to_bytes(&tiny());
    bytes[28..32].copy_from_slice(&0u32.to_le_bytes());
    fix_crc(&mut bytes);
    let (offset, message) = load_err(&bytes);
    assert_eq!(offset, 28);
    assert_contains(&message, "layer 1 has 0 outputs");
}

#[test]
fn trailing_bytes_are_refused() {
    let mut bytes = model::to_bytes(&tiny());
    bytes.push(0);
    let (offset, message) = load_err(&bytes);
    assert_eq!(offset, 108);
    assert_contains(
        &message,
        "1 trailing byte: the header describes 108 bytes, the file has 109",
    );
    // Even a second copy of the CRC is not a valid file.
    let mut bytes = model::to_bytes(&tiny());
    let crc = bytes[104..].to_vec();
    bytes.extend_from_slice(&crc);
    assert_contains(&load_err(&bytes).1, "4 trailing bytes");
}

#[test]
fn unknown_activation_codes_and_reserved_bytes_are_refused() {
    let mut bytes = model::to_bytes(&tiny());
    bytes[24] = 4;
    fix_crc(&mut bytes);
    let (offset, message) = load_err(&bytes);
    assert_eq!(offset, 24);
    assert_contains(&message, "layer 0 has unknown activation code 4");

    let mut bytes = model::to_bytes(&tiny());
    bytes[35] = 1;
    fix_crc(&mut bytes);
    let (offset, message) = load_err(&bytes);
    assert_eq!(offset, 35);
    assert_contains(&message, "reserved");
}

#[test]
fn non_finite_parameters_are_refused() {
    for (bad, name) in [
        (f32::NAN, "NaN"),
        (f32::INFINITY, "inf"),
        (f32::NEG_INFINITY, "-inf"),
    ] {
        let mut bytes = model::to_bytes(&tiny());
        // Layer 1 weight (1, 0) is number 2 of layer 1, at 72 + 4·2.
        bytes[80..84].copy_from_slice(&bad.to_le_bytes());
        fix_crc(&mut bytes);
        let (offset, message) = load_err(&bytes);
        assert_eq!(offset, 80);
        assert_contains(
            &message,
            &format!("layer 1 weight (1, 0) is {name}, not a finite number"),
        );
    }
    let mut bytes = model::to_bytes(&tiny());
    bytes[64..68].copy_from_slice(&f32::NAN.to_le_bytes()); // layer 0 bias 1
    fix_crc(&mut bytes);
    assert_eq!(
        load_err(&bytes),
        (
            64,
            "offset 64: model: layer 0 bias 1 is NaN, not a finite number".into()
        )
    );
}

// ---------------------------------------------------------------------------------------
// Files on disk
// ---------------------------------------------------------------------------------------

#[test]
fn save_and_load_through_a_file() {
    let dir = TempDir::new("roundtrip");
    let path = dir.path().join("net.snn");
    let net = random_network(20, &[(12, Activation::Tanh)], 4, 3);
    net.save(&path).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), model::to_bytes(&net));
    let back = Network::<f32>::load(&path).unwrap();
    assert_eq!(bits(&back), bits(&net));
    let x = random_inputs(50, 20, 8);
    assert_eq!(back.predict(&x), net.predict(&x));
    assert_eq!(dir.listing(), ["net.snn"]);
}

#[test]
fn saving_over_a_file_replaces_it_and_leaves_no_temporary_files() {
    let dir = TempDir::new("replace");
    let path = dir.path().join("model.snn");
    std::fs::write(
        &path,
        b"an older, longer file that is not even a model ........",
    )
    .unwrap();
    let first = random_network(4, &[(3, Activation::Relu)], 2, 1);
    let second = random_network(7, &[], 5, 2);
    model::save(&first, &path).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), model::to_bytes(&first));
    model::save(&second, &path).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), model::to_bytes(&second));
    assert_eq!(dir.listing(), ["model.snn"]);
}

#[test]
fn a_failed_save_leaves_the_target_untouched() {
    let dir = TempDir::new("failed");
    let path = dir.path().join("model.snn");
    let good = tiny();
    good.save(&path).unwrap();
    let before = std::fs::read(&path).unwrap();

    // Refused before writing: a diverged network.
    let mut diverged = tiny();
    diverged.layers_mut()[0].weights_mut().unwrap()[(1, 2)] = f32::INFINITY;
    let err = diverged.save(&path).unwrap_err();
    assert_contains(&err.to_string(), "layer 0 weight (1, 2) = inf");
    assert_eq!(std::fs::read(&path).unwrap(), before);
    assert_eq!(dir.listing(), ["model.snn"]);

    // Failing after writing: the rename cannot replace a non-empty directory.
    let blocked = dir.path().join("blocked.snn");
    std::fs::create_dir(&blocked).unwrap();
    std::fs::write(blocked.join("keep"), b"x").unwrap();
    let err = good.save(&blocked).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Io(_)), "{err}");
    assert_eq!(err.path(), Some(blocked.as_path()));
    assert!(blocked.is_dir());
    assert_eq!(
        dir.listing(),
        ["blocked.snn", "model.snn"],
        "the temporary file was removed"
    );
}

#[test]
fn saving_into_a_missing_directory_names_the_path() {
    let dir = TempDir::new("missing-dir");
    let missing = dir.path().join("no-such-dir");
    let path = missing.join("model.snn");
    let err = tiny().save(&path).unwrap_err();
    let ErrorKind::Io(io) = err.kind() else {
        panic!("not an I/O error: {err}")
    };
    assert_eq!(io.kind(), std::io::ErrorKind::NotFound);
    assert_eq!(err.path(), Some(path.as_path()));
    assert_contains(&err.to_string(), &path.display().to_string());
    assert!(!missing.exists());
    assert!(dir.listing().is_empty());
}

#[test]
fn loading_a_missing_file_names_the_path() {
    let dir = TempDir::new("missing-file");
    let path = dir.path().join("absent.snn");
    let err = model::load::<f32>(&path).unwrap_err();
    let ErrorKind::Io(io) = err.kind() else {
        panic!("not an I/O error: {err}")
    };
    assert_eq!(io.kind(), std::io::ErrorKind::NotFound);
    assert_contains(&err.to_string(), &path.display().to_string());
}

#[test]
fn a_damaged_file_on_disk_names_the_path_and_the_offset() {
    let dir = TempDir::new("damaged");
    let path = dir.path().join("model.snn");
    tiny().save(&path).unwrap();
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[50] ^= 0x40;
    std::fs::write(&path, &bytes).unwrap();
    let err = Network::<f32>::load(&path).unwrap_err();
    assert_eq!(err.path(), Some(path.as_path()));
    assert_eq!(err.location(), Some(Location::Offset(104)));
    assert!(
        err.to_string().starts_with(&format!(
            "{}: offset 104: model: CRC-32 mismatch",
            path.display()
        )),
        "{err}"
    );
}
