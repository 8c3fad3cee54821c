//! Weights in the [safetensors] format, the one Hugging Face, candle and burn read: export
//! any network, and import weights written by PyTorch for the same architecture.
//!
//! [safetensors]: https://huggingface.co/docs/safetensors
//!
//! The tensors are named and laid out as a PyTorch module holds them whose layers are a
//! `nn.ModuleList` called `layers`, in the network's order: `layers.i.weight` is `[out, in]`
//! for a dense layer (`nn.Linear`) and `[out, in, k, k]` for a convolution (`nn.Conv2d`),
//! `layers.i.bias` is `[out]`, and pooling holds none. A dense layer that reads an image of
//! more than one channel has its input columns permuted from our channels-last order to
//! PyTorch's channels-first one. The book's chapter "Taking it elsewhere" derives the
//! layouts, shows the file, and says how reading it is checked: nothing is allocated for a
//! tensor before its header entry has been checked against the file, and every failure is
//! an [`Error`] naming the tensor or the byte offset.

use crate::error::{Error, Result};
use crate::float::Float;
use crate::nn::layer::Layer;
use crate::nn::layer::LayerKind;
use crate::nn::network::Network;
use crate::nn::shape::Shape;
use crate::report::json::Json;
use std::path::Path;

/// The header may be at most this long (the format's own limit, 100 MB).
const MAX_HEADER: u64 = 100_000_000;

/// The element types this module reads; it writes the network's own (`F32` or `F64`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dtype {
    /// 32-bit IEEE float.
    F32,
    /// 64-bit IEEE float.
    F64,
    /// 64-bit signed integer: PyTorch's `num_batches_tracked` of a batch normalisation.
    I64,
}

impl Dtype {
    fn name(self) -> &'static str {
        match self {
            Dtype::F32 => "F32",
            Dtype::F64 => "F64",
            Dtype::I64 => "I64",
        }
    }
    fn size(self) -> usize {
        match self {
            Dtype::F32 => 4,
            Dtype::F64 | Dtype::I64 => 8,
        }
    }
    /// The element type of `T`.
    pub(crate) fn of<T: Float>() -> Dtype {
        if std::mem::size_of::<T>() == 4 {
            Dtype::F32
        } else {
            Dtype::F64
        }
    }
}

/// One tensor of a file: its name, element type, shape and values (widened to `f64`).
#[derive(Clone, Debug, PartialEq)]
pub struct Tensor {
    /// Its name in the header.
    pub name: String,
    /// Its element type in the file.
    pub dtype: Dtype,
    /// Its shape, outermost first.
    pub shape: Vec<usize>,
    /// Its values, row-major.
    pub values: Vec<f64>,
}

/// A whole file: the tensors in the order of their data, and the metadata.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Tensors {
    /// The tensors.
    pub tensors: Vec<Tensor>,
    /// `__metadata__`, in the header's order.
    pub metadata: Vec<(String, String)>,
}

impl Tensor {
    /// Its values as stored: little-endian, in its element type.
    pub fn to_le_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.values.len() * self.dtype.size());
        for &v in &self.values {
            match self.dtype {
                Dtype::F32 => out.extend_from_slice(&(v as f32).to_le_bytes()),
                Dtype::F64 => out.extend_from_slice(&v.to_le_bytes()),
                Dtype::I64 => out.extend_from_slice(&(v as i64).to_le_bytes()),
            }
        }
        out
    }
}

impl Tensors {
    /// The tensor called `name`.
    pub fn get(&self, name: &str) -> Option<&Tensor> {
        self.tensors.iter().find(|t| t.name == name)
    }
}

// ANCHOR: export
/// The network's parameters as PyTorch holds them (see the [module docs](self)), named
/// `layers.{i}.weight` and `layers.{i}.bias`, and a batch normalisation's buffers,
/// `running_mean`, `running_var` and `num_batches_tracked` (an `I64` scalar).
pub fn tensors<T: Float>(network: &Network<T>) -> Vec<Tensor> {
    let dtype = Dtype::of::<T>();
    let mut out = Vec::new();
    for (i, layer) in network.layers().iter().enumerate() {
        let (Some(w), Some(b)) = (layer.weights(), layer.bias()) else {
            continue; // pooling: nothing to save
        };
        let (shape, values) = match layer {
            Layer::Dense(_) => {
                let order = channels_first(image_before(network, i));
                let (inputs, outputs) = w.shape();
                // [out, in], the inputs in PyTorch's channels-first order.
                let mut values = vec![0.0; inputs * outputs];
                for o in 0..outputs {
                    for (ours, &theirs) in order.iter().enumerate() {
                        values[o * inputs + theirs] = w[(ours, o)].to_f64();
                    }
                }
                (vec![outputs, inputs], values)
            }
            Layer::Conv2d(conv) => {
                let (k, c, o) = (conv.kernel(), conv.input_shape().channels, w.cols());
                let mut values = Vec::with_capacity(o * c * k * k);
                for oc in 0..o {
                    for ic in 0..c {
                        for y in 0..k {
                            for x in 0..k {
                                values.push(w[((y * k + x) * c + ic, oc)].to_f64());
                            }
                        }
                    }
                }
                (vec![o, c, k, k], values)
            }
            Layer::MaxPool2d(_) => continue,
            // γ, one per channel.
            Layer::BatchNorm(_) => (
                vec![w.len()],
                w.as_slice().iter().map(|v| v.to_f64()).collect(),
            ),
        };
        let vector = |name: &str, values: &[T]| Tensor {
            name: format!("layers.{i}.{name}"),
            dtype,
            shape: vec![values.len()],
            values: values.iter().map(|v| v.to_f64()).collect(),
        };
        out.push(Tensor {
            name: format!("layers.{i}.weight"),
            dtype,
            shape,
            values,
        });
        out.push(vector("bias", b));
        if let Some((mean, var, batches)) = layer.running_statistics() {
            out.push(vector("running_mean", mean));
            out.push(vector("running_var", var));
            out.push(Tensor {
                name: format!("layers.{i}.num_batches_tracked"),
                dtype: Dtype::I64,
                shape: Vec::new(),
                values: vec![batches as f64],
            });
        }
    }
    out
}
// ANCHOR_END: export

/// The shape of what layer `i` reads: the image before it (a dense layer itself sees only a
/// flat row).
fn image_before<T: Float>(network: &Network<T>, i: usize) -> Shape {
    match i {
        0 => network.input_shape(),
        _ => network.layers()[i - 1].output_shape(),
    }
}

/// For each of our flattened indices of a sample of `shape` (channels last), the index
/// PyTorch gives the same value (channels first).
fn channels_first(shape: Shape) -> Vec<usize> {
    let (h, w, c) = (shape.height, shape.width, shape.channels);
    let mut order = vec![0; h * w * c];
    for y in 0..h {
        for x in 0..w {
            for ch in 0..c {
                order[(y * w + x) * c + ch] = ch * h * w + y * w + x;
            }
        }
    }
    order
}

// ANCHOR: to_bytes
/// The network as a safetensors file, in its own float type.
pub fn to_bytes<T: Float>(network: &Network<T>) -> Vec<u8> {
    let tensors = tensors(network);
    let mut entries = Vec::new();
    let mut offset = 0;
    for t in &tensors {
        let size = t.values.len() * t.dtype.size();
        let shape = Json::Array(t.shape.iter().map(|&d| Json::from(d)).collect());
        let offsets = Json::Array(vec![Json::from(offset), Json::from(offset + size)]);
        entries.push((
            t.name.clone(),
            Json::object([
                ("dtype", Json::from(t.dtype.name())),
                ("shape", shape),
                ("data_offsets", offsets),
            ]),
        ));
        offset += size;
    }
    let metadata = Json::object([
        ("format", Json::from("pt")),
        ("producer", Json::from("simplenn")),
        ("architecture", Json::from(network.to_string())),
    ]);
    entries.insert(0, ("__metadata__".to_string(), metadata));
    let mut header = Json::Object(entries).to_string().into_bytes();
    // Spaces after the JSON, so that the data starts 8-byte aligned.
    while !(8 + header.len()).is_multiple_of(8) {
        header.push(b' ');
    }
    let mut out = Vec::with_capacity(8 + header.len() + offset);
    out.extend_from_slice(&(header.len() as u64).to_le_bytes());
    out.extend_from_slice(&header);
    for t in &tensors {
        out.extend_from_slice(&t.to_le_bytes());
    }
    out
}
// ANCHOR_END: to_bytes

/// Writes [`to_bytes`] to `path`.
///
/// # Errors
/// If the file cannot be written.
pub fn save<T: Float>(network: &Network<T>, path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    std::fs::write(path, to_bytes(network)).map_err(|e| Error::io(e).in_file(path))
}

/// Reads a safetensors file's tensors (`F32` or `F64`), checking everything the module
/// docs list.
///
/// # Errors
/// A malformed file, with the offset or the tensor that is wrong.
pub fn from_bytes(bytes: &[u8]) -> Result<Tensors> {
    let bad = |offset: u64, m: String| Error::safetensors(Some(offset), m);
    let Some(length) = bytes.get(..8) else {
        return Err(bad(
            0,
            format!(
                "{} bytes: too short for the 8-byte header length",
                bytes.len()
            ),
        ));
    };
    let n = u64::from_le_bytes(length.try_into().expect("8 bytes"));
    let available = bytes.len() as u64 - 8;
    if n > available || n > MAX_HEADER {
        return Err(bad(
            0,
            format!(
                "the header length {n} is past the end of the file ({available} bytes after it) or over 100 MB"
            ),
        ));
    }
    let header = &bytes[8..8 + n as usize];
    let data = &bytes[8 + n as usize..];
    let text = std::str::from_utf8(header)
        .map_err(|e| bad(8 + e.valid_up_to() as u64, "the header is not UTF-8".into()))?;
    // A JSON error's offset is within the header, which starts at byte 8 of the file.
    let json = Json::parse(text).map_err(|e| {
        bad(
            8 + e.offset() as u64,
            format!("the header is not JSON: {}", e.message()),
        )
    })?;
    let Some(entries) = json.as_object() else {
        return Err(bad(8, "the header is not a JSON object".into()));
    };
    let mut out = Tensors::default();
    let mut spans = Vec::new();
    for (name, entry) in entries {
        if name == "__metadata__" {
            let Some(pairs) = entry.as_object() else {
                return Err(bad(8, "__metadata__ is not an object".into()));
            };
            for (k, v) in pairs {
                let v = v
                    .as_str()
                    .ok_or_else(|| bad(8, format!("__metadata__ {k:?} is not a string")))?;
                out.metadata.push((k.clone(), v.to_string()));
            }
            continue;
        }
        let wrong = |what: &str| bad(8, format!("tensor {name:?}: {what}"));
        let dtype = match entry.get("dtype").and_then(Json::as_str) {
            Some("F32") => Dtype::F32,
            Some("F64") => Dtype::F64,
            Some("I64") => Dtype::I64,
            Some(other) => {
                return Err(wrong(&format!(
                    "dtype {other} is not read here (F32, F64 and I64 are)"
                )));
            }
            None => return Err(wrong("no dtype")),
        };
        let shape = entry
            .get("shape")
            .and_then(Json::as_array)
            .ok_or_else(|| wrong("no shape"))?
            .iter()
            .map(whole)
            .collect::<Option<Vec<usize>>>()
            .ok_or_else(|| wrong("a dimension of its shape is not a whole number"))?;
        let count = shape
            .iter()
            .try_fold(1usize, |n, &d| n.checked_mul(d))
            .and_then(|n| n.checked_mul(dtype.size()))
            .ok_or_else(|| wrong(&format!("shape {shape:?} has more elements than can exist")))?;
        let offsets = entry
            .get("data_offsets")
            .and_then(Json::as_array)
            .and_then(|o| match o {
                [b, e] => Some((whole(b)?, whole(e)?)),
                _ => None,
            })
            .ok_or_else(|| wrong("data_offsets is not [begin, end]"))?;
        let (begin, end) = offsets;
        if begin > end || end > data.len() {
            return Err(wrong(&format!(
                "data_offsets [{begin}, {end}] are outside the {} bytes of data",
                data.len()
            )));
        }
        if end - begin != count {
            return Err(wrong(&format!(
                "shape {shape:?} of {} needs {count} bytes, data_offsets give {}",
                dtype.name(),
                end - begin
            )));
        }
        spans.push((begin, end, name.clone()));
        out.tensors.push(Tensor {
            name: name.clone(),
            dtype,
            shape,
            values: Vec::new(),
        });
    }
    // The tensors must tile the data: no overlap, no hole.
    spans.sort();
    let mut at = 0;
    for (begin, end, name) in &spans {
        if *begin != at {
            let what = if *begin < at {
                "overlaps the tensor before it"
            } else {
                "leaves a hole before it"
            };
            return Err(bad(
                8 + n + *begin as u64,
                format!("tensor {name:?} {what}"),
            ));
        }
        at = *end;
    }
    if at != data.len() {
        return Err(bad(
            8 + n + at as u64,
            format!("{} bytes of data belong to no tensor", data.len() - at),
        ));
    }
    for t in &mut out.tensors {
        let (begin, end, _) = spans
            .iter()
            .find(|s| s.2 == t.name)
            .expect("every tensor has a span");
        let raw = &data[*begin..*end];
        t.values = match t.dtype {
            Dtype::F32 => raw
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes(b.try_into().expect("4")) as f64)
                .collect(),
            Dtype::F64 => raw
                .chunks_exact(8)
                .map(|b| f64::from_le_bytes(b.try_into().expect("8")))
                .collect(),
            Dtype::I64 => raw
                .chunks_exact(8)
                .map(|b| i64::from_le_bytes(b.try_into().expect("8")) as f64)
                .collect(),
        };
    }
    out.tensors
        .sort_by_key(|t| spans.iter().position(|s| s.2 == t.name));
    Ok(out)
}

/// A JSON number that is a whole number a `usize` holds exactly.
fn whole(v: &Json) -> Option<usize> {
    let x = v.as_f64()?;
    (x >= 0.0 && x.fract() == 0.0 && x <= 9_007_199_254_740_992.0).then_some(x as usize)
}

/// Reads a safetensors file; see [`from_bytes`].
///
/// # Errors
/// If the file cannot be read or is malformed; the error names the file.
pub fn load(path: impl AsRef<Path>) -> Result<Tensors> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|e| Error::io(e).in_file(path))?;
    from_bytes(&bytes).map_err(|e| e.in_file(path))
}

// ANCHOR: import
/// Puts `tensors` into `network`'s parameters: every tensor [`tensors`] would write for this
/// architecture must be there, with that name and shape (`F32` or `F64`), and no other.
///
/// # Errors
/// A missing, surplus or misshapen tensor, by name. `network` is left unchanged then.
pub fn set_parameters<T: Float>(network: &mut Network<T>, file: &Tensors) -> Result<()> {
    let wanted = tensors(network);
    let err = |m: String| Error::safetensors(None, m);
    for t in &file.tensors {
        if !wanted.iter().any(|w| w.name == t.name) {
            let names: Vec<&str> = wanted.iter().map(|w| w.name.as_str()).collect();
            return Err(err(format!(
                "tensor {:?} is not a parameter of {network} (those are {})",
                t.name,
                names.join(", ")
            )));
        }
    }
    for w in &wanted {
        let t = file
            .get(&w.name)
            .ok_or_else(|| err(format!("no tensor {:?}, which {network} needs", w.name)))?;
        if t.shape != w.shape {
            return Err(err(format!(
                "tensor {:?} is {:?}, {network} needs {:?}",
                w.name, t.shape, w.shape
            )));
        }
    }
    for w in &wanted {
        let t = file.get(&w.name).expect("checked above");
        check_values(t, w.dtype == Dtype::I64 || w.name.ends_with("running_var"))?;
    }
    let inputs: Vec<Shape> = (0..network.layers().len())
        .map(|i| image_before(network, i))
        .collect();
    let mut updated = network.clone();
    for (i, layer) in updated.layers_mut().iter_mut().enumerate() {
        let (weight, bias) = match (
            file.get(&format!("layers.{i}.weight")),
            file.get(&format!("layers.{i}.bias")),
        ) {
            (Some(w), Some(b)) => (w, b),
            _ => continue,
        };
        let input = inputs[i];
        let kind = match layer {
            Layer::Conv2d(c) => Kind::Conv(c.kernel(), c.input_shape().channels),
            Layer::BatchNorm(_) => Kind::BatchNorm,
            _ => Kind::Dense,
        };
        let Some((w, b)) = layer.params_mut() else {
            continue;
        };
        match kind {
            Kind::Dense => {
                let (inputs, outputs) = w.shape();
                let order = channels_first(input);
                for o in 0..outputs {
                    for (ours, &theirs) in order.iter().enumerate() {
                        w[(ours, o)] = T::from_f64(weight.values[o * inputs + theirs]);
                    }
                }
            }
            Kind::Conv(k, c) => {
                let mut it = weight.values.iter();
                for oc in 0..w.cols() {
                    for ic in 0..c {
                        for y in 0..k {
                            for x in 0..k {
                                w[((y * k + x) * c + ic, oc)] =
                                    T::from_f64(*it.next().expect("shape checked"));
                            }
                        }
                    }
                }
            }
            Kind::BatchNorm => {
                for (dst, &v) in w.as_mut_slice().iter_mut().zip(&weight.values) {
                    *dst = T::from_f64(v);
                }
            }
        }
        for (dst, &v) in b.iter_mut().zip(&bias.values) {
            *dst = T::from_f64(v);
        }
        if let Some((mean, var, batches)) = layer.running_statistics_mut() {
            let get = |name: &str| file.get(&format!("layers.{i}.{name}")).expect("checked");
            for (dst, &v) in mean.iter_mut().zip(&get("running_mean").values) {
                *dst = T::from_f64(v);
            }
            for (dst, &v) in var.iter_mut().zip(&get("running_var").values) {
                *dst = T::from_f64(v);
            }
            *batches = get("num_batches_tracked").values[0] as u64;
        }
    }
    *network = updated;
    Ok(())
}
// ANCHOR_END: import

/// How [`set_parameters`] lays a layer's `weight` tensor out.
enum Kind {
    /// `[out, in]`, inputs channels first.
    Dense,
    /// OIHW: the kernel size and the input channels.
    Conv(usize, usize),
    /// One `γ` per channel.
    BatchNorm,
}

/// Refuses a tensor with a value that is not finite, or, for a variance or a count
/// (`non_negative`), below zero; a count must also be a whole number.
fn check_values(t: &Tensor, non_negative: bool) -> Result<()> {
    let whole = t.dtype == Dtype::I64 || t.name.ends_with("num_batches_tracked");
    let bad = t
        .values
        .iter()
        .position(|&v| !v.is_finite() || (non_negative && v < 0.0) || (whole && v.fract() != 0.0));
    match bad {
        None => Ok(()),
        Some(k) => Err(Error::safetensors(
            None,
            format!(
                "tensor {:?} holds {} at index {k}, which {}",
                t.name,
                t.values[k],
                if whole {
                    "is not a count of batches"
                } else if non_negative {
                    "is not a variance (finite and at least 0)"
                } else {
                    "is not a finite number"
                }
            ),
        )),
    }
}
