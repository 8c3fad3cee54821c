//! safetensors export and import: round trips for an MLP and a CNN, the layout checked by an
//! independent forward pass written the way PyTorch computes (NCHW images, OIHW kernels,
//! `[out, in]` linear weights, channels-first flattening), and the malformed-file suite.

use simplenn::LayerKind;
use simplenn::model::safetensors::{self, Dtype, Tensors};
use simplenn::{Activation, Matrix, Network, Rng, Shape};

fn mlp(seed: u64) -> Network {
    Network::builder(784)
        .hidden(16, Activation::Relu)
        .hidden(12, Activation::Tanh)
        .output(10)
        .seed(seed)
        .build()
}

fn cnn(seed: u64) -> Network {
    Network::builder_for(Shape::image(12, 12, 1))
        .conv2d(4, 5, Activation::Relu)
        .max_pool(2)
        .conv2d(6, 3, Activation::Relu)
        .max_pool(2)
        .hidden(8, Activation::Relu)
        .output(10)
        .seed(seed)
        .build()
}

fn params(net: &Network) -> Vec<f32> {
    net.layers()
        .iter()
        .flat_map(|l| {
            let w = l.weights().map_or(&[][..], Matrix::as_slice).to_vec();
            w.into_iter()
                .chain(l.bias().unwrap_or_default().iter().copied())
        })
        .collect()
}

#[test]
fn a_network_goes_out_and_comes_back_bit_for_bit() {
    for (trained, fresh) in [(mlp(1), mlp(2)), (cnn(1), cnn(2))] {
        let bytes = safetensors::to_bytes(&trained);
        let file = safetensors::from_bytes(&bytes).unwrap();
        let mut back = fresh;
        assert_ne!(params(&back), params(&trained));
        safetensors::set_parameters(&mut back, &file).unwrap();
        assert_eq!(back, trained);
        let meta: Vec<&str> = file.metadata.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(meta, ["format", "producer", "architecture"]);
    }
}

#[test]
fn the_bytes_are_laid_out_as_the_format_says() {
    let net = mlp(3);
    let bytes = safetensors::to_bytes(&net);
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    assert_eq!((8 + n) % 8, 0, "the data starts 8-byte aligned");
    let header = std::str::from_utf8(&bytes[8..8 + n]).unwrap();
    assert!(header.trim_end().ends_with('}') && header.starts_with("{\"__metadata__\""));
    let file = safetensors::from_bytes(&bytes).unwrap();
    let names: Vec<&str> = file.tensors.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "layers.0.weight",
            "layers.0.bias",
            "layers.1.weight",
            "layers.1.bias",
            "layers.2.weight",
            "layers.2.bias"
        ]
    );
    // PyTorch's nn.Linear layout, [out, in]: our weight (in × out) transposed.
    let w0 = &file.tensors[0];
    assert_eq!(
        (w0.dtype, w0.shape.as_slice()),
        (Dtype::F32, &[16, 784][..])
    );
    let ours = net.layers()[0].weights().unwrap();
    assert_eq!(w0.values[5 * 784 + 300], ours[(300, 5)] as f64);
    // The data is every tensor, one after the other, as little-endian f32.
    let floats: usize = file.tensors.iter().map(|t| t.values.len()).sum();
    assert_eq!(bytes.len(), 8 + n + 4 * floats);
    let first = f32::from_le_bytes(bytes[8 + n..8 + n + 4].try_into().unwrap());
    assert_eq!(first as f64, w0.values[0]);
    // f64 networks are written as F64.
    let wide: Network<f64> = Network::builder(4).output(3).seed(1).build();
    let file = safetensors::from_bytes(&safetensors::to_bytes(&wide)).unwrap();
    assert_eq!(file.tensors[0].dtype, Dtype::F64);
}

/// The CNN computed from the file alone, as PyTorch computes it: input `C × H × W`,
/// `nn.Conv2d` with OIHW weights and "same" zero padding, ReLU, 2×2 max-pooling,
/// channels-first flattening, `nn.Linear` with `[out, in]` weights. In `f64`, with loops.
fn torch_style_forward(file: &Tensors, image: &[f32]) -> Vec<f64> {
    let t = |name: &str| file.get(name).unwrap_or_else(|| panic!("no {name}"));
    // x: C × H × W
    let (mut c, mut h, mut w) = (1, 12, 12);
    let mut x: Vec<f64> = image.iter().map(|&v| v as f64).collect();
    let conv = |x: &[f64], (c, h, w): (usize, usize, usize), l: usize| {
        let (weight, bias) = (
            t(&format!("layers.{l}.weight")),
            t(&format!("layers.{l}.bias")),
        );
        let (o, k) = (weight.shape[0], weight.shape[2]);
        assert_eq!(weight.shape, [o, c, k, k]);
        let p = (k - 1) / 2;
        let mut y = vec![0.0; o * h * w];
        for oc in 0..o {
            for i in 0..h {
                for j in 0..w {
                    let mut s = bias.values[oc];
                    for ic in 0..c {
                        for u in 0..k {
                            for v in 0..k {
                                let (ii, jj) = (i + u, j + v);
                                if ii < p || jj < p || ii - p >= h || jj - p >= w {
                                    continue;
                                }
                                s += weight.values[((oc * c + ic) * k + u) * k + v]
                                    * x[(ic * h + ii - p) * w + jj - p];
                            }
                        }
                    }
                    y[(oc * h + i) * w + j] = s.max(0.0);
                }
            }
        }
        (y, o)
    };
    let pool = |x: &[f64], (c, h, w): (usize, usize, usize)| {
        let (oh, ow) = (h / 2, w / 2);
        let mut y = vec![f64::NEG_INFINITY; c * oh * ow];
        for ch in 0..c {
            for i in 0..oh {
                for j in 0..ow {
                    for (u, v) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
                        let a = x[(ch * h + 2 * i + u) * w + 2 * j + v];
                        let o = &mut y[(ch * oh + i) * ow + j];
                        *o = o.max(a);
                    }
                }
            }
        }
        y
    };
    let (y, o) = conv(&x, (c, h, w), 0);
    (x, c) = (pool(&y, (o, h, w)), o);
    (h, w) = (h / 2, w / 2);
    let (y, o) = conv(&x, (c, h, w), 2);
    x = pool(&y, (o, h, w));
    // x is now flattened channels first, as torch.flatten(x, 1) gives it.
    let linear = |x: &[f64], l: usize, relu: bool| {
        let (weight, bias) = (
            t(&format!("layers.{l}.weight")),
            t(&format!("layers.{l}.bias")),
        );
        let (out, inputs) = (weight.shape[0], weight.shape[1]);
        assert_eq!(inputs, x.len());
        (0..out)
            .map(|r| {
                let s: f64 = bias.values[r]
                    + (0..inputs)
                        .map(|q| weight.values[r * inputs + q] * x[q])
                        .sum::<f64>();
                if relu { s.max(0.0) } else { s }
            })
            .collect::<Vec<f64>>()
    };
    let x = linear(&x, 4, true);
    linear(&x, 5, false)
}

#[test]
fn the_file_computes_what_the_network_computes_when_read_pytorchs_way() {
    let net = cnn(5);
    let file = safetensors::from_bytes(&safetensors::to_bytes(&net)).unwrap();
    let mut rng = Rng::new(9);
    for _ in 0..5 {
        let image: Vec<f32> = (0..144).map(|_| rng.next_f64() as f32).collect();
        let ours = net.forward(&Matrix::from_vec(1, 144, image.clone()));
        let theirs = torch_style_forward(&file, &image);
        for (a, b) in ours.as_slice().iter().zip(&theirs) {
            assert!(
                (*a as f64 - b).abs() < 1e-4,
                "logit {a} here, {b} PyTorch's way"
            );
        }
    }
}

#[test]
fn tensors_that_do_not_fit_the_network_are_named() {
    let file = safetensors::from_bytes(&safetensors::to_bytes(&mlp(1))).unwrap();
    // Another architecture: a different width.
    let mut other: Network = Network::builder(784)
        .hidden(20, Activation::Relu)
        .hidden(12, Activation::Tanh)
        .output(10)
        .build();
    let before = other.clone();
    let e = safetensors::set_parameters(&mut other, &file)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("\"layers.0.weight\" is [16, 784]") && e.contains("[20, 784]"),
        "{e}"
    );
    assert_eq!(other, before, "a failed import changes nothing");
    // A missing tensor, and a surplus one.
    let mut missing = file.clone();
    missing.tensors.retain(|t| t.name != "layers.1.bias");
    let e = safetensors::set_parameters(&mut mlp(2), &missing)
        .unwrap_err()
        .to_string();
    assert!(e.contains("no tensor \"layers.1.bias\""), "{e}");
    let mut extra = file.clone();
    let mut t = extra.tensors[0].clone();
    t.name = "fc9.weight".into();
    extra.tensors.push(t);
    let e = safetensors::set_parameters(&mut mlp(2), &extra)
        .unwrap_err()
        .to_string();
    assert!(e.contains("\"fc9.weight\" is not a parameter"), "{e}");
}

/// A file from a header (JSON text) and a data section.
fn file_of(header: &str, data: &[u8]) -> Vec<u8> {
    let mut out = (header.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(data);
    out
}

#[test]
fn malformed_files_are_errors_never_panics() {
    let good = safetensors::to_bytes(&mlp(1));
    let n = u64::from_le_bytes(good[..8].try_into().unwrap()) as usize;
    let f32s = |k: usize| vec![0u8; 4 * k];
    let t = |dtype: &str, shape: &str, offsets: &str| {
        format!(r#"{{"w":{{"dtype":"{dtype}","shape":{shape},"data_offsets":{offsets}}}}}"#)
    };
    let mut lying = good.clone();
    lying[..8].copy_from_slice(&(good.len() as u64).to_le_bytes());
    let mut huge = good.clone();
    huge[..8].copy_from_slice(&u64::MAX.to_le_bytes());
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty", vec![], "too short"),
        ("seven bytes", vec![1; 7], "too short"),
        (
            "truncated inside the header",
            good[..8 + n / 2].to_vec(),
            "past the end",
        ),
        (
            "truncated inside the data",
            good[..good.len() - 3].to_vec(),
            "outside",
        ),
        ("a header length past the end", lying, "past the end"),
        ("a header length of 2^64 - 1", huge, "past the end"),
        (
            "a header that is not UTF-8",
            {
                let mut bytes = file_of("{\"x\":1}", &[]);
                bytes[10] = 0xff; // inside the key
                bytes
            },
            "not UTF-8",
        ),
        (
            "a header that is not JSON",
            file_of("{not json", &[]),
            "not JSON",
        ),
        (
            "a header that is an array",
            file_of("[]", &[]),
            "not a JSON object",
        ),
        (
            "no dtype",
            file_of(r#"{"w":{"shape":[1],"data_offsets":[0,4]}}"#, &f32s(1)),
            "no dtype",
        ),
        (
            "an F16 tensor",
            file_of(&t("F16", "[2]", "[0,4]"), &f32s(1)),
            "dtype F16",
        ),
        (
            "a negative dimension",
            file_of(&t("F32", "[-1]", "[0,4]"), &f32s(1)),
            "not a whole number",
        ),
        (
            "a fractional dimension",
            file_of(&t("F32", "[1.5]", "[0,4]"), &f32s(1)),
            "not a whole number",
        ),
        (
            "a shape whose product overflows",
            file_of(&t("F32", "[4294967296,4294967296,16]", "[0,4]"), &f32s(1)),
            "more elements",
        ),
        (
            "offsets past the data",
            file_of(&t("F32", "[2]", "[0,8]"), &f32s(1)),
            "outside",
        ),
        (
            "offsets backwards",
            file_of(&t("F32", "[1]", "[4,0]"), &f32s(1)),
            "outside",
        ),
        (
            "a size that does not match the shape",
            file_of(&t("F32", "[3]", "[0,8]"), &f32s(2)),
            "needs 12 bytes",
        ),
        (
            "offsets that are not a pair",
            file_of(&t("F32", "[1]", "[0]"), &f32s(1)),
            "not [begin, end]",
        ),
        (
            "overlapping tensors",
            file_of(
                r#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#,
                &f32s(3),
            ),
            "overlaps",
        ),
        (
            "a hole between tensors",
            file_of(
                r#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}"#,
                &f32s(3),
            ),
            "hole",
        ),
        (
            "data that belongs to no tensor",
            file_of(&t("F32", "[1]", "[0,4]"), &f32s(2)),
            "belong to no tensor",
        ),
        (
            "a duplicate name",
            file_of(
                r#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#,
                &f32s(2),
            ),
            "not JSON",
        ),
        (
            "metadata that is not strings",
            file_of(r#"{"__metadata__":{"n":1}}"#, &[]),
            "not a string",
        ),
    ];
    for (what, bytes, want) in &cases {
        match safetensors::from_bytes(bytes) {
            Ok(_) => panic!("{what}: accepted"),
            Err(e) => {
                let msg = e.to_string();
                assert!(
                    msg.starts_with("safetensors: ") || msg.contains("safetensors: "),
                    "{what}: {msg}"
                );
                assert!(msg.contains(want), "{what}: {msg}");
            }
        }
    }
    // A header that is not JSON is blamed at the byte of the file where the JSON goes wrong:
    // the header starts at 8, and the key's missing quote is its byte 1.
    let err = safetensors::from_bytes(&file_of("{not json", &[])).unwrap_err();
    assert_eq!(err.location(), Some(simplenn::Location::Offset(9)), "{err}");
    // A duplicate name, at its second key.
    let header = r#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{}}"#;
    let err = safetensors::from_bytes(&file_of(header, &f32s(1))).unwrap_err();
    assert_eq!(
        err.location(),
        Some(simplenn::Location::Offset(
            8 + header.rfind("\"a\"").unwrap() as u64
        )),
        "{err}"
    );
    assert!(err.to_string().contains("duplicate key \"a\""), "{err}");
    // A header of nothing but an empty object is a valid, empty file.
    assert_eq!(
        safetensors::from_bytes(&file_of("{}", &[])).unwrap(),
        Tensors::default()
    );
    // And a few thousand random corruptions of a good file: errors or files, never a panic.
    let mut rng = Rng::new(4);
    let mut outcomes = [0, 0];
    for _ in 0..3000 {
        let mut bytes = good.clone();
        for _ in 0..1 + rng.below(4) {
            let i = rng.below(bytes.len().min(8 + n + 64) as u64) as usize;
            bytes[i] = rng.below(256) as u8;
        }
        if rng.below(4) == 0 {
            bytes.truncate(rng.below(bytes.len() as u64) as usize);
        }
        outcomes[usize::from(safetensors::from_bytes(&bytes).is_ok())] += 1;
    }
    // Both kinds happen: corruptions that break the header, and ones only in the data.
    assert!(outcomes[0] > 100 && outcomes[1] > 100, "{outcomes:?}");
}

#[test]
fn a_missing_file_is_named() {
    let e = safetensors::load("/nonexistent/w.safetensors")
        .unwrap_err()
        .to_string();
    assert!(e.contains("/nonexistent/w.safetensors"), "{e}");
}
