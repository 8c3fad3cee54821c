//! Checkpoints: a [`Training`] run and its network, saved between epochs so that training
//! can stop (or be stopped) and continue later **bit for bit** as if it had not.
//!
//! A checkpoint holds everything the next epoch needs beyond the model (the optimiser's
//! state, the random streams, the sample order, the best epoch, the history), the run's
//! settings, and a free-form note. It is written atomically and read with the same checks
//! as a model file; the book's chapter "The model file format" lays out its bytes.
//!
//! A run resumed from a checkpoint ends where an uninterrupted one does:
//!
//! ```
//! use simplenn::{Activation, Matrix, Network, TrainConfig, samples::MatrixSamples};
//! use simplenn::train::{checkpoint, Training};
//!
//! let x = Matrix::<f32>::from_rows(&[[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]);
//! let y = [0, 1, 1, 0];
//! let data = MatrixSamples::new(&x, &y);
//! let config = TrainConfig { epochs: 4, batch: simplenn::Batch::Size(2), ..Default::default() };
//! let new_net = || Network::builder(2).hidden(8, Activation::Tanh).output(2).seed(1).build();
//!
//! // Two epochs, a checkpoint, and the rest after loading it...
//! let mut net = new_net();
//! let mut run = Training::new(&net, &config, 4);
//! run.next_epoch(&mut net, &data, None, |_| {})?;
//! run.next_epoch(&mut net, &data, None, |_| {})?;
//! let bytes = checkpoint::to_bytes(&net, &run, "a note")?;
//! let mut resumed = checkpoint::from_bytes::<f32>(&bytes).unwrap();
//! while resumed.training.next_epoch(&mut resumed.network, &data, None, |_| {})?.is_some() {}
//!
//! // ...ends where four epochs in one go end.
//! let mut straight = new_net();
//! straight.fit(&x, &y, &config)?;
//! assert_eq!(resumed.network, straight);
//! assert_eq!(resumed.note, "a note");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use super::fit::{Progress, ProgressPart, Streams, Training};
use super::optim::{parameter_arrays, parameter_slices};
use super::{Batch, Elastic, EpochStats, History, Optimiser, Schedule, TrainConfig};
use crate::blocks::rng::Rng;
use crate::data::crc32::crc32;
use crate::error::{Error, Location, Result};
use crate::float::Float;
use crate::model;
use crate::nn::layer::{Layer, LayerKind};
use crate::nn::network::Network;
use std::fs;
use std::path::Path;

/// The first 8 bytes of every checkpoint: like a model file's, with `C` for checkpoint.
pub const MAGIC: [u8; 8] = [0x89, b'S', b'N', b'C', b'\r', b'\n', 0x1A, b'\n'];

/// The newest format version this build writes and reads. It writes version 1 unless the
/// network has running statistics (batch normalisation), which version 2 adds after the
/// parameters, so that a checkpoint of any other network is what it always was.
pub const VERSION: u32 = 2;

/// A checkpoint read back: the network, the run to continue, and the note.
#[derive(Debug)]
pub struct Checkpoint<T: Float = f32> {
    /// The network as it was after the last completed epoch.
    pub network: Network<T>,
    /// The run, ready for its next epoch.
    pub training: Training<T>,
    /// What the writer put in the note.
    pub note: String,
}

/// The bytes of a checkpoint of `network` trained by `training`, with `note`.
///
/// # Errors
/// If the network cannot be stored as a model file (see [`model::save`]), or the run has
/// more than `u32::MAX` samples.
pub fn to_bytes<T: Float>(
    network: &Network<T>,
    training: &Training<T>,
    note: &str,
) -> Result<Vec<u8>> {
    let model = model::try_to_bytes(network)?;
    let error = |message: &str| Error::checkpoint(None, message);
    if u32::try_from(training.samples()).is_err() {
        return Err(error("more than 2³² − 1 training samples"));
    }
    let mut w = Writer {
        bytes: Vec::new(),
        width: std::mem::size_of::<T>(),
    };
    // Version 2 only for what version 1 cannot hold: running statistics, elastic distortion.
    let statistics = network
        .layers()
        .iter()
        .any(|l| l.running_statistics().is_some());
    let version = if statistics || training.config().elastic.is_some() {
        2
    } else {
        1
    };
    w.bytes.extend_from_slice(&MAGIC);
    w.u32(version);
    w.bytes.extend_from_slice(&[w.width as u8, 0, 0, 0]);
    w.u64(model.len() as u64);
    w.bytes.extend_from_slice(&model);
    write_config(&mut w, training.config(), version);

    let p = training.progress();
    w.u64(training.samples() as u64);
    w.u64(p.epochs_done as u64);
    w.u64(p.step as u64);
    w.u8(u8::from(p.diverged));
    w.u8(u8::from(p.history.stopped_early));
    let s = &p.streams;
    let streams = [&s.shuffle, &s.shifts, &s.dropout, &s.warps, &s.elastic];
    for rng in &streams[..if version >= 2 { 5 } else { 4 }] {
        let (word, spare) = rng.state();
        w.u64(word);
        w.option_f64(spare);
    }
    for &i in &p.order {
        w.u32(i as u32);
    }
    match p.best {
        Some((epoch, accuracy)) => {
            w.u8(1);
            w.u64(epoch as u64);
            w.f64(accuracy);
        }
        None => w.u8(0),
    }
    w.u64(p.history.epochs.len() as u64);
    for e in &p.history.epochs {
        w.u64(e.epoch as u64);
        w.f64(e.loss);
        w.f64(e.train_accuracy);
        w.option_f64(e.val_accuracy);
        w.option_f64(e.val_loss);
        w.f64(e.learning_rate);
        w.f64(e.seconds);
    }

    for array in parameter_slices(network.layers()) {
        w.floats(array);
    }
    write_statistics(&mut w, network.layers());
    let optimiser = training.optimiser();
    w.u8(optimiser.kind());
    w.u64(optimiser.steps());
    for array in optimiser.arrays() {
        w.floats(array);
    }
    match training.best_layers() {
        None => w.u8(0),
        Some(layers) => {
            w.u8(1);
            for array in parameter_slices(layers) {
                w.floats(array);
            }
            write_statistics(&mut w, layers);
        }
    }
    w.u32(u32::try_from(note.len()).map_err(|_| error("the note is over 4 GiB"))?);
    w.bytes.extend_from_slice(note.as_bytes());
    let crc = crc32(&w.bytes);
    w.u32(crc);
    Ok(w.bytes)
}

/// Saves a checkpoint to `path` atomically, as [`model::save`] saves a model: the file is
/// the old one or the complete new one, whatever happens.
///
/// # Errors
/// As [`to_bytes`], and I/O errors; all name `path`.
pub fn save<T: Float>(
    path: impl AsRef<Path>,
    network: &Network<T>,
    training: &Training<T>,
    note: &str,
) -> Result<()> {
    let path = path.as_ref();
    let bytes = to_bytes(network, training, note).map_err(|e| e.in_file(path))?;
    model::write_atomically(path, &bytes).map_err(|e| Error::io(e).in_file(path))
}

/// Loads a checkpoint written by [`save`].
///
/// # Errors
/// I/O errors, and anything [`from_bytes`] finds; all name `path`.
pub fn load<T: Float>(path: impl AsRef<Path>) -> Result<Checkpoint<T>> {
    let path = path.as_ref();
    let bytes = fs::read(path).map_err(|e| Error::io(e).in_file(path))?;
    from_bytes(&bytes).map_err(|e| e.in_file(path))
}

/// Reads a checkpoint from its bytes. Errors name the byte offset; no input makes this
/// panic or allocate more than the bytes could hold.
///
/// # Errors
/// A file that is not a checkpoint, of another version or float width, truncated, with a
/// CRC that does not match, or whose contents do not fit together (a run whose optimiser
/// is not the one its settings name, an order that is not a permutation, and so on).
pub fn from_bytes<T: Float>(bytes: &[u8]) -> Result<Checkpoint<T>> {
    let mut r = Reader {
        bytes,
        at: 0,
        width: std::mem::size_of::<T>(),
    };
    let magic = r.take(8, "the magic")?;
    if magic != MAGIC {
        let hint = if magic == model::MAGIC {
            ": it is a model file; load it with model::load (or predict --model)"
        } else {
            ""
        };
        return Err(Error::checkpoint(
            Some(0),
            format!("not a simplenn checkpoint{hint}"),
        ));
    }
    let version = r.u32("the version")?;
    if !(1..=VERSION).contains(&version) {
        return Err(r.error_before(
            4,
            format!("format version {version}; this build reads versions 1 to {VERSION}"),
        ));
    }
    let width = r.u8("the float width")? as usize;
    if width != r.width {
        return Err(r.error_before(
            1,
            format!(
                "the values are {width}-byte floats; this network's ({}) are {}-byte",
                T::NAME,
                r.width
            ),
        ));
    }
    if r.take(3, "reserved bytes")? != [0, 0, 0] {
        return Err(r.error_before(3, "reserved bytes are not zero"));
    }
    // A file cut short fails its CRC too; say what it is missing instead, where we can.
    if let Some(len) = bytes.get(16..24) {
        let model_len = u64::from_le_bytes(len.try_into().expect("8 bytes"));
        let needed = 24u64.saturating_add(model_len).saturating_add(4);
        if (bytes.len() as u64) < needed {
            return Err(Error::checkpoint(
                Some(bytes.len() as u64),
                format!(
                    "truncated: the model inside it alone needs {needed} bytes, the file has {}",
                    bytes.len()
                ),
            ));
        }
    }
    // The CRC covers all of it: check it before reading what the file says.
    if bytes.len() < r.at + 4 {
        return Err(r.truncated("the CRC-32"));
    }
    let (body, stored) = bytes.split_at(bytes.len() - 4);
    let stored = u32::from_le_bytes(stored.try_into().expect("4 bytes"));
    let computed = crc32(body);
    if stored != computed {
        return Err(Error::checkpoint(
            Some(body.len() as u64),
            format!(
                "CRC-32 mismatch (file says {stored:#010x}, contents give {computed:#010x}): \
                 the file is damaged"
            ),
        ));
    }
    r.bytes = body;

    let model_len = r.u64("the model's length")?;
    let model_at = r.at;
    let model_bytes = r.take(
        usize::try_from(model_len).unwrap_or(usize::MAX),
        "the model",
    )?;
    let mut network: Network<T> =
        model::from_bytes(model_bytes).map_err(|e| shifted(e, model_at))?;
    let config_at = r.at;
    let config = read_config(&mut r, version)?;
    config
        .validate()
        .map_err(|e| Error::checkpoint(Some(config_at as u64), format!("the settings: {e}")))?;

    let samples_at = r.at;
    let samples = r.count("the sample count", 4)?;
    let epochs_done = r.count("the epochs done", 0)?;
    let step = r.count("the step count", 0)?;
    let diverged = r.flag("the diverged flag")?;
    let stopped_early = r.flag("the early-stopping flag")?;
    let mut rngs = Vec::with_capacity(5);
    let names = ["shuffling", "shift", "dropout", "warp", "elastic"];
    for what in &names[..if version >= 2 { 5 } else { 4 }] {
        let at = r.at;
        let word = r.u64("a generator")?;
        let spare = r.option_f64("a generator")?;
        rngs.push(Rng::from_state(word, spare).ok_or_else(|| {
            Error::checkpoint(
                Some(at as u64),
                format!("the {what} generator's state is 0"),
            )
        })?);
    }
    if rngs.len() == 4 {
        // Version 1 has no elastic stream: the one the run would have forked, never used.
        rngs.push(Streams::new(config.seed).elastic);
    }
    let [shuffle, shifts, dropout, warps, elastic] =
        <[Rng; 5]>::try_from(rngs).expect("five generators");
    let order_at = r.at;
    r.need(samples.saturating_mul(4), "the sample order")?;
    let mut order = Vec::with_capacity(samples);
    for _ in 0..samples {
        order.push(r.u32("the sample order")? as usize);
    }
    let best_at = r.at;
    let best = if r.flag("the best-epoch flag")? {
        let epoch = r.count("the best epoch", 0)?;
        let accuracy = r.f64("the best accuracy")?;
        Some((epoch, accuracy))
    } else {
        None
    };
    let history_at = r.at;
    let count = r.count("the history's length", 8 * 6 + 2)?;
    let mut epochs = Vec::with_capacity(count);
    for _ in 0..count {
        epochs.push(EpochStats {
            epoch: r.count("an epoch", 0)?,
            loss: r.f64("an epoch's loss")?,
            train_accuracy: r.f64("an epoch's accuracy")?,
            val_accuracy: r.option_f64("an epoch's validation accuracy")?,
            val_loss: r.option_f64("an epoch's validation loss")?,
            learning_rate: r.f64("an epoch's learning rate")?,
            seconds: r.f64("an epoch's seconds")?,
        });
    }
    let progress = Progress {
        epochs_done,
        step,
        diverged,
        streams: Streams {
            shuffle,
            shifts,
            dropout,
            warps,
            elastic,
        },
        order,
        best,
        history: History {
            epochs,
            best_epoch: best.map(|(e, _)| e),
            stopped_early,
        },
    };

    for array in parameter_arrays(network.layers_mut()) {
        r.floats(array, "the parameters")?;
    }
    if version == 1
        && network
            .layers()
            .iter()
            .any(|l| l.running_statistics().is_some())
    {
        return Err(Error::checkpoint(
            Some(model_at as u64),
            "the model has batch normalisation, whose statistics a version-1 checkpoint \
             cannot hold",
        ));
    }
    read_statistics(&mut r, network.layers_mut(), "the running statistics")?;
    // The run the settings make, continued from the progress if it fits them; the rest of
    // the file is read into it.
    let mut training = Training::resume(&network, &config, samples, progress).map_err(|e| {
        let at = match e.part {
            ProgressPart::EpochsDone => samples_at + 8,
            ProgressPart::Order => order_at,
            ProgressPart::Best => best_at + 1,
            ProgressPart::History => history_at,
        };
        Error::checkpoint(Some(at as u64), e.reason)
    })?;
    let kind_at = r.at;
    let kind = r.u8("the optimiser's kind")?;
    let adam_steps = r.u64("the optimiser's step count")?;
    let (optimiser, best_layers) = training.state_mut();
    let expected = optimiser.kind();
    if kind != expected {
        return Err(Error::checkpoint(
            Some(kind_at as u64),
            format!(
                "optimiser state of kind {kind}, but the settings ({}, momentum {}) need kind \
                 {expected}",
                config.optimiser,
                config.optimiser.momentum()
            ),
        ));
    }
    optimiser.set_steps(adam_steps);
    for array in optimiser.arrays_mut() {
        r.floats(array, "the optimiser's state")?;
    }
    let flag_at = r.at;
    let has_best_layers = r.flag("the best-parameters flag")?;
    match (has_best_layers, best_layers) {
        (true, Some(layers)) => {
            for array in parameter_arrays(layers) {
                r.floats(array, "the best epoch's parameters")?;
            }
            read_statistics(&mut r, layers, "the best epoch's running statistics")?;
        }
        (false, None) => {}
        _ => {
            return Err(Error::checkpoint(
                Some(flag_at as u64),
                "the best epoch's parameters are there without keep_best, or missing with it",
            ));
        }
    }
    let note_len = r.u32("the note's length")? as usize;
    let note_at = r.at;
    let note = String::from_utf8(r.take(note_len, "the note")?.to_vec())
        .map_err(|_| Error::checkpoint(Some(note_at as u64), "the note is not UTF-8"))?;
    if r.at != body.len() {
        return Err(Error::checkpoint(
            Some(r.at as u64),
            format!("{} bytes after the note", body.len() - r.at),
        ));
    }
    Ok(Checkpoint {
        network,
        training,
        note,
    })
}

/// Each layer's running statistics, the layers' order: mean and variance at the network's
/// float width, then the count of batches they learnt from.
fn write_statistics<T: Float>(w: &mut Writer, layers: &[Layer<T>]) {
    for (mean, var, batches) in layers.iter().filter_map(LayerKind::running_statistics) {
        w.floats(mean);
        w.floats(var);
        w.u64(batches);
    }
}

/// Reads what [`write_statistics`] wrote into `layers`, refusing a variance that is negative
/// or not finite.
fn read_statistics<T: Float>(r: &mut Reader, layers: &mut [Layer<T>], what: &str) -> Result<()> {
    for layer in layers.iter_mut() {
        let Some((mean, var, batches)) = layer.running_statistics_mut() else {
            continue;
        };
        r.floats(mean, what)?;
        let var_at = r.at;
        r.floats(var, what)?;
        if let Some(j) = var.iter().position(|v| !(v.is_finite() && *v >= T::ZERO)) {
            return Err(Error::checkpoint(
                Some((var_at + j * r.width) as u64),
                format!("{what}: a variance of {:?}", var[j]),
            ));
        }
        *batches = r.u64(what)?;
    }
    Ok(())
}

/// An error of the embedded model file, its offset moved to where the model starts.
fn shifted(error: Error, start: usize) -> Error {
    match error.location() {
        Some(Location::Offset(o)) => Error::checkpoint(
            Some(o + start as u64),
            format!("in the embedded model: {}", bare_message(&error)),
        ),
        _ => Error::checkpoint(
            Some(start as u64),
            format!("in the embedded model: {}", bare_message(&error)),
        ),
    }
}

/// The message of a model error without its location prefix.
fn bare_message(error: &Error) -> String {
    match error.kind() {
        crate::error::ErrorKind::Model(m) => m.clone(),
        _ => error.to_string(),
    }
}

fn write_config(w: &mut Writer, c: &TrainConfig, version: u32) {
    w.u64(c.epochs as u64);
    w.u64(match c.batch {
        Batch::Full => 0,
        Batch::Size(size) => size as u64,
    });
    w.f64(c.learning_rate);
    let (kind, every, value) = match c.schedule {
        Schedule::Constant => (0, 0, 0.0),
        Schedule::Step { every, factor } => (1, every as u64, factor),
        Schedule::Cosine { min_fraction } => (2, 0, min_fraction),
    };
    w.u8(kind);
    w.u64(every);
    w.f64(value);
    w.u64(c.warmup_epochs as u64);
    // The optimiser's kind, β₂ and ε here; its momentum (or β₁) with the other numbers.
    let (kind, beta2, epsilon) = match c.optimiser {
        Optimiser::Sgd { .. } => (0, 0.0, 0.0),
        Optimiser::Adam { beta2, epsilon, .. } => (1, beta2, epsilon),
        Optimiser::AdamW { beta2, epsilon, .. } => (2, beta2, epsilon),
    };
    w.u8(kind);
    w.f64(beta2);
    w.f64(epsilon);
    let momentum = c.optimiser.momentum();
    for x in [momentum, c.weight_decay, c.label_smoothing, c.dropout] {
        w.f64(x);
    }
    w.u64(c.shift as u64);
    w.f64(c.rotation);
    w.f64(c.scale);
    if version >= 2 {
        let elastic = c.elastic.unwrap_or(Elastic {
            alpha: 0.0,
            sigma: 0.0,
        });
        w.u8(u8::from(c.elastic.is_some()));
        w.f64(elastic.alpha);
        w.f64(elastic.sigma);
    }
    w.u8(u8::from(c.keep_best));
    w.u64(c.patience.map_or(0, |p| p as u64));
    w.u64(c.seed);
}

fn read_config(r: &mut Reader, version: u32) -> Result<TrainConfig> {
    let epochs = r.count("epochs", 0)?;
    let batch = match r.count("the batch size", 0)? {
        0 => Batch::Full,
        size => Batch::Size(size),
    };
    let learning_rate = r.f64("the learning rate")?;
    let at = r.at;
    let schedule = match (
        r.u8("the schedule")?,
        r.count("the schedule", 0)?,
        r.f64("the schedule")?,
    ) {
        (0, _, _) => Schedule::Constant,
        (1, every, factor) => Schedule::Step { every, factor },
        (2, _, min_fraction) => Schedule::Cosine { min_fraction },
        (kind, _, _) => {
            return Err(Error::checkpoint(
                Some(at as u64),
                format!("unknown schedule {kind}"),
            ));
        }
    };
    let warmup_epochs = r.count("the warm-up", 0)?;
    let at = r.at;
    let optimiser = match (r.u8("the optimiser")?, r.f64("beta2")?, r.f64("epsilon")?) {
        (0, _, _) => Optimiser::Sgd { momentum: 0.0 },
        (1, beta2, epsilon) => Optimiser::Adam {
            beta1: 0.0,
            beta2,
            epsilon,
        },
        (2, beta2, epsilon) => Optimiser::AdamW {
            beta1: 0.0,
            beta2,
            epsilon,
        },
        (kind, _, _) => {
            return Err(Error::checkpoint(
                Some(at as u64),
                format!("unknown optimiser {kind}"),
            ));
        }
    };
    let momentum = r.f64("the momentum")?;
    let weight_decay = r.f64("the weight decay")?;
    let label_smoothing = r.f64("the label smoothing")?;
    let dropout = r.f64("the dropout")?;
    let shift = r.count("the shift", 0)?;
    let rotation = r.f64("the rotation")?;
    let scale = r.f64("the scale")?;
    let elastic = if version >= 2 {
        let on = r.flag("the elastic flag")?;
        let (alpha, sigma) = (r.f64("the elastic α")?, r.f64("the elastic σ")?);
        on.then_some(Elastic { alpha, sigma })
    } else {
        None
    };
    let keep_best = r.flag("keep_best")?;
    let patience = match r.count("the patience", 0)? {
        0 => None,
        p => Some(p),
    };
    let seed = r.u64("the seed")?;
    Ok(TrainConfig {
        epochs,
        batch,
        learning_rate,
        schedule,
        warmup_epochs,
        optimiser: optimiser.with_momentum(momentum),
        weight_decay,
        label_smoothing,
        dropout,
        shift,
        rotation,
        scale,
        elastic,
        keep_best,
        patience,
        seed,
    })
}

/// Appends little-endian values.
struct Writer {
    bytes: Vec<u8>,
    width: usize,
}

impl Writer {
    fn u8(&mut self, x: u8) {
        self.bytes.push(x);
    }
    fn u32(&mut self, x: u32) {
        self.bytes.extend_from_slice(&x.to_le_bytes());
    }
    fn u64(&mut self, x: u64) {
        self.bytes.extend_from_slice(&x.to_le_bytes());
    }
    fn f64(&mut self, x: f64) {
        self.bytes.extend_from_slice(&x.to_le_bytes());
    }
    fn option_f64(&mut self, x: Option<f64>) {
        self.u8(u8::from(x.is_some()));
        self.f64(x.unwrap_or(0.0));
    }
    /// At the network's own width: exact for `f32` and `f64` alike.
    fn floats<T: Float>(&mut self, xs: &[T]) {
        for &x in xs {
            if self.width == 4 {
                self.bytes
                    .extend_from_slice(&(x.to_f64() as f32).to_le_bytes());
            } else {
                self.f64(x.to_f64());
            }
        }
    }
}

/// Reads little-endian values, every read checked against the bytes left.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
    width: usize,
}

impl<'a> Reader<'a> {
    fn truncated(&self, what: &str) -> Error {
        Error::checkpoint(
            Some(self.bytes.len() as u64),
            format!("truncated: the file ends before {what}"),
        )
    }
    fn error_before(&self, back: usize, message: impl Into<String>) -> Error {
        Error::checkpoint(Some((self.at - back) as u64), message)
    }
    /// Fails unless `n` more bytes are there.
    fn need(&self, n: usize, what: &str) -> Result<()> {
        if self.bytes.len() - self.at < n {
            return Err(self.truncated(what));
        }
        Ok(())
    }
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8]> {
        self.need(n, what)?;
        let out = &self.bytes[self.at..self.at + n];
        self.at += n;
        Ok(out)
    }
    fn u8(&mut self, what: &str) -> Result<u8> {
        Ok(self.take(1, what)?[0])
    }
    fn u32(&mut self, what: &str) -> Result<u32> {
        Ok(u32::from_le_bytes(
            self.take(4, what)?.try_into().expect("4"),
        ))
    }
    fn u64(&mut self, what: &str) -> Result<u64> {
        Ok(u64::from_le_bytes(
            self.take(8, what)?.try_into().expect("8"),
        ))
    }
    fn f64(&mut self, what: &str) -> Result<f64> {
        Ok(f64::from_bits(self.u64(what)?))
    }
    fn flag(&mut self, what: &str) -> Result<bool> {
        match self.u8(what)? {
            0 => Ok(false),
            1 => Ok(true),
            b => Err(self.error_before(1, format!("{what} is {b}, not 0 or 1"))),
        }
    }
    fn option_f64(&mut self, what: &str) -> Result<Option<f64>> {
        let present = self.flag(what)?;
        let x = self.f64(what)?;
        Ok(present.then_some(x))
    }
    /// A `u64` count of things that take at least `each` bytes apiece further on: refused
    /// when the file cannot hold that many, before anything is allocated for them.
    fn count(&mut self, what: &str, each: usize) -> Result<usize> {
        let n = self.u64(what)?;
        let fits = usize::try_from(n).ok().filter(|&n| {
            n.checked_mul(each)
                .is_some_and(|bytes| bytes <= self.bytes.len() - self.at)
        });
        fits.ok_or_else(|| {
            self.error_before(
                8,
                format!(
                    "{what} is {n}, more than the {} bytes left can hold",
                    self.bytes.len() - self.at
                ),
            )
        })
    }
    fn floats<T: Float>(&mut self, out: &mut [T], what: &str) -> Result<()> {
        let bytes = self.take(out.len() * self.width, what)?;
        for (x, b) in out.iter_mut().zip(bytes.chunks_exact(self.width)) {
            *x = if self.width == 4 {
                T::from_f64(f32::from_le_bytes(b.try_into().expect("4")) as f64)
            } else {
                T::from_f64(f64::from_le_bytes(b.try_into().expect("8")))
            };
        }
        Ok(())
    }
}
