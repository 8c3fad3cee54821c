//! Training: [`TrainConfig`], the optimiser, and [`Network::fit`](crate::Network::fit).
//!
//! Three optimisers ([`Optimizer`]): SGD, which covers the three the original project and
//! its wish list need, and Adam and AdamW, which people training convolutional networks
//! expect:
//!
//! - **full-batch gradient descent** (the original): every step sees the whole training set,
//!   [`Batch::Full`];
//! - **mini-batch SGD**: each epoch shuffles the samples and takes one step per batch of
//!   `n`, [`Batch::Size`]; many cheap, noisy steps instead of one exact, expensive one;
//! - **SGD with momentum**, `momentum > 0`: the step follows a running sum of past gradients,
//!   `v ← μ·v + g;  θ ← θ − η·v`, which damps the zig-zag across narrow valleys of the loss.
//!   This is the form PyTorch's `SGD` uses.
//! - **Adam** and **AdamW** ([`optim::adam_update`]): a step per parameter scaled by running
//!   means of its gradient and squared gradient; `momentum` is their `β₁`.
//!
//! Around the optimiser, each small and off by default ([`TrainConfig::default`] and the
//! presets train exactly as before they existed):
//!
//! - **learning-rate schedules**, [`Schedule`]: constant, step decay or cosine, with an
//!   optional linear **warm-up** ([`TrainConfig::warmup_epochs`]), evaluated at every
//!   gradient step ([`TrainConfig::learning_rate_at`]);
//! - **weight decay**, coupled L2, below;
//! - **label smoothing**, [`TrainConfig::label_smoothing`]: targets `(1 − ε)·y + ε/K`
//!   instead of one-hot ones;
//! - **dropout** of hidden units, [`TrainConfig::dropout`] and [`draw_dropout_masks`];
//! - **augmentation** by random translations of the training images,
//!   [`TrainConfig::shift`] and [`crate::augment`];
//! - **keeping the best epoch** by validation accuracy, [`TrainConfig::keep_best`], and
//!   **early stopping**, [`TrainConfig::patience`].
//!
//! [`Training`] is one run in progress, epoch by epoch; with [`checkpoint`] it can be saved
//! and continued later, bit for bit as if it had not stopped.
//!
//! **Reproducibility.** The shuffling, the shifts and the dropout masks draw from three
//! streams of the one [`TrainConfig::seed`]: the shuffling stream is the one training has
//! always used, and the other two are forked from a copy of it, so turning one option on
//! changes nothing else's draws. Nothing depends on the thread count or on timing, so the
//! same seed gives bit-identical results.
//!
//! Weight decay, if set, is classic **L2 regularisation**, in its *coupled* form: `λ·W` is
//! added to the weights' gradient before the momentum update, as in PyTorch's
//! `SGD(weight_decay=λ)`. It is the gradient of an extra term `λ/2·‖W‖²` in the loss, so it
//! pulls every weight towards zero in proportion to its size, and it passes through the
//! momentum and the learning-rate schedule like the rest of the gradient. (The *decoupled*
//! form of Loshchilov & Hutter, 2019, shrinks the weights outside the gradient,
//! `θ ← θ − η·λ·θ`; for SGD without momentum that is the very same update. It matters for
//! Adam, which divides the gradient by its running size: coupled decay is divided too, so
//! weights with large gradients are barely decayed. [`Optimizer::AdamW`] decouples it.)
//! The penalty is not part of the loss the history reports.
//!
//! Weight decay applies to the weights, **not the biases**. A weight's size is how strongly a
//! unit reacts to one of its inputs, and large weights are what let a network fit noise: that
//! is what the penalty limits. A bias only shifts where a unit switches on; there is one per
//! unit, too few to overfit with, and pulling them towards zero would only push every unit
//! towards the same threshold. This is the usual practice.

pub mod checkpoint;
mod fit;
pub mod optim;
pub mod preset;

pub use fit::{Training, draw_dropout_masks};
pub use optim::{BadOptimizer, Optimizer};

use crate::float::Float;
use crate::samples::{Inputs, Samples};

/// How the learning rate changes over training, on top of the optional linear warm-up of
/// [`TrainConfig::warmup_epochs`]. [`TrainConfig::learning_rate_at`] evaluates it once per
/// gradient step, so a cosine decays smoothly within an epoch, not in a staircase.
///
/// With `η` the configured learning rate, `t` the gradient step counted from 0, `S` the steps
/// per epoch, `T` the steps of the whole run (`epochs · S`) and `W` the warm-up steps
/// (`warmup_epochs · S`), the schedule's rate, which the warm-up then multiplies, is:
///
/// | schedule | learning rate at step `t` |
/// | --- | --- |
/// | `Constant` | `η` |
/// | `Step { every, factor }` | `η · factor^⌊e / every⌋`, with `e = ⌊t / S⌋` the epoch counted from 0 |
/// | `Cosine { min_fraction }` | `η · (m + (1 − m) · ½(1 + cos(π·p)))`, `m = min_fraction`, `p = (t − W)/(T − W)` clamped to `[0, 1]` |
///
/// The cosine starts decaying when the warm-up ends, from `η` at `t = W` towards `m·η`,
/// which it would reach at `t = T`, one step after the last. (So with `m = 0` no step is
/// wasted at rate 0, as in the schedule of Loshchilov & Hutter's SGDR, 2017, without the
/// restarts.) The step schedule counts epochs from the start of training, warm-up included.
///
/// ```
/// use simplenn::{Batch, Schedule, TrainConfig};
/// let config = TrainConfig {
///     epochs: 10,
///     batch: Batch::Full, // one step per epoch
///     learning_rate: 0.1,
///     schedule: Schedule::Step { every: 4, factor: 0.5 },
///     ..TrainConfig::default()
/// };
/// let rates: Vec<f64> = (0..10).map(|t| config.learning_rate_at(t, 1)).collect();
/// assert_eq!(rates, [0.1, 0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.05, 0.025, 0.025]);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub enum Schedule {
    /// The same rate throughout.
    #[default]
    Constant,
    /// Multiply the rate by `factor` every `every` epochs (a "step decay").
    Step {
        /// Epochs between two multiplications, at least 1.
        every: usize,
        /// The multiplier, in `(0, 1]`.
        factor: f64,
    },
    /// Half a cosine wave from the full rate down to `min_fraction` of it, over the steps
    /// after the warm-up.
    Cosine {
        /// Where the rate ends, as a fraction of the full rate, in `[0, 1]`.
        min_fraction: f64,
    },
}

impl std::fmt::Display for Schedule {
    /// `constant`, `step:5:0.5` or `cosine` (`cosine:0.1` with a floor): the form the
    /// `train` example's `--schedule` flag takes.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            Schedule::Constant => f.write_str("constant"),
            Schedule::Step { every, factor } => write!(f, "step:{every}:{factor}"),
            Schedule::Cosine { min_fraction: 0.0 } => f.write_str("cosine"),
            Schedule::Cosine { min_fraction } => write!(f, "cosine:{min_fraction}"),
        }
    }
}

/// Why text could not be read as a [`Schedule`]: a message naming the text and the problem.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadSchedule(pub String);

impl std::fmt::Display for BadSchedule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BadSchedule {}

impl std::str::FromStr for Schedule {
    type Err = BadSchedule;

    /// Reads the [`Display`](std::fmt::Display) form: `constant`, `step:EVERY:FACTOR` (epochs,
    /// at least 1; a factor in `(0, 1]`), `cosine` or `cosine:MIN_FRACTION` (in `[0, 1]`).
    ///
    /// ```
    /// use simplenn::Schedule;
    /// assert_eq!("step:5:0.5".parse(), Ok(Schedule::Step { every: 5, factor: 0.5 }));
    /// assert_eq!("cosine".parse(), Ok(Schedule::Cosine { min_fraction: 0.0 }));
    /// assert!("step:0:0.5".parse::<Schedule>().is_err());
    /// ```
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = |why: &str| {
            BadSchedule(format!(
                "'{text}' is not a schedule: {why} (write constant, step:EVERY:FACTOR, cosine \
                 or cosine:MIN_FRACTION)"
            ))
        };
        let parts: Vec<&str> = text.trim().split(':').map(str::trim).collect();
        let name = parts[0].to_ascii_lowercase();
        match (name.as_str(), &parts[1..]) {
            ("constant", []) => Ok(Schedule::Constant),
            ("step", [every, factor]) => {
                let every = every
                    .parse::<usize>()
                    .ok()
                    .filter(|&e| e >= 1)
                    .ok_or_else(|| bad("EVERY must be a whole number of epochs, at least 1"))?;
                let factor = factor
                    .parse::<f64>()
                    .ok()
                    .filter(|&f| f > 0.0 && f <= 1.0)
                    .ok_or_else(|| bad("FACTOR must be a number above 0 and at most 1"))?;
                Ok(Schedule::Step { every, factor })
            }
            ("cosine", []) => Ok(Schedule::Cosine { min_fraction: 0.0 }),
            ("cosine", [min]) => {
                let min_fraction = min
                    .parse::<f64>()
                    .ok()
                    .filter(|m| (0.0..=1.0).contains(m))
                    .ok_or_else(|| bad("MIN_FRACTION must be a number from 0 to 1"))?;
                Ok(Schedule::Cosine { min_fraction })
            }
            ("constant" | "step" | "cosine", _) => Err(bad("wrong number of parts")),
            _ => Err(bad("unknown schedule")),
        }
    }
}

/// How many samples each gradient step sees.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Batch {
    /// The whole training set: full-batch gradient descent, one step per epoch.
    Full,
    /// Mini-batches of this many samples (the last one of an epoch may be smaller).
    Size(usize),
}

// ANCHOR: config
/// Everything [`Network::fit`](crate::Network::fit) needs to know besides the data.
///
/// Build one from [`TrainConfig::default()`] and struct-update syntax:
///
/// ```
/// use simplenn::{Batch, TrainConfig};
/// let config = TrainConfig {
///     epochs: 10,
///     batch: Batch::Size(64),
///     learning_rate: 0.1,
///     ..TrainConfig::default()
/// };
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct TrainConfig {
    /// Passes over the training set.
    pub epochs: usize,
    /// Samples per gradient step.
    pub batch: Batch,
    /// Step size η: the peak of the schedule.
    pub learning_rate: f64,
    /// How the step size changes over training; see [`Schedule`].
    pub schedule: Schedule,
    /// Epochs of linear warm-up: over the first `warmup_epochs · S` steps the rate climbs
    /// in equal steps from `η/(warmup_epochs · S)` to `η`, multiplying the schedule's rate.
    /// 0 turns it off.
    pub warmup_epochs: usize,
    /// The rule that turns gradients into steps: SGD, Adam or AdamW.
    pub optimizer: Optimizer,
    /// Momentum μ in `[0, 1)`; 0 is plain gradient descent. For Adam and AdamW, `β₁`.
    pub momentum: f64,
    /// L2 weight decay λ ≥ 0, 0 turns it off. Coupled for SGD and Adam: `λ·W` is added to
    /// the weights' gradient (the gradient of `λ/2·‖W‖²`); decoupled for AdamW. Biases are
    /// not decayed. See the [module documentation](crate::train).
    pub weight_decay: f64,
    /// Label smoothing ε in `[0, 1)`: train against targets `(1 − ε)·y + ε/K` instead of
    /// one-hot `y` (see [`crate::loss::softmax_cross_entropy_smoothed_inplace`]). 0 turns it
    /// off. The training loss in the history is then the smoothed one; the validation loss
    /// stays the plain cross-entropy.
    pub label_smoothing: f64,
    /// Dropout rate `p` in `[0, 1)`: during training, each hidden unit's output is dropped
    /// (set to 0) with probability `p`, independently for every sample of every batch, and
    /// the kept ones are scaled by `1/(1 − p)` ("inverted dropout", so the expected output is
    /// unchanged and the trained network is used as it is). Evaluation never drops anything.
    /// 0 turns it off; a network without hidden layers has nothing to drop. See
    /// [`draw_dropout_masks`].
    pub dropout: f64,
    /// Data augmentation: each training image is moved by `(dx, dy)` pixels, each drawn
    /// uniformly from `−shift..=shift`, every time it is drawn into a batch (see
    /// [`crate::augment`]). 0 turns it off. The training samples must know their
    /// [`image_shape`](crate::samples::Inputs::image_shape), as a
    /// [`Dataset`](crate::dataset::Dataset) does.
    pub shift: usize,
    /// Data augmentation: each training image is also turned by an angle drawn uniformly
    /// from `±rotation` degrees, every time it is drawn into a batch, and resampled
    /// bilinearly ([`crate::augment::warp_image`]). At most 45 (a 6 turned further starts
    /// to look like a 9); 0 turns it off. Needs images of known shape, as `shift` does.
    pub rotation: f64,
    /// Data augmentation: each training image is also scaled about its centre by a factor
    /// drawn uniformly from `1 ± scale`, like `rotation`. In `[0, 0.5)`; 0 turns it off.
    pub scale: f64,
    /// Ends training with the parameters of the epoch that had the highest validation
    /// accuracy (the first of equals), rather than the last epoch's: "keep the best
    /// epoch". Needs a validation set; [`History::best_epoch`] says which epoch it was.
    pub keep_best: bool,
    /// Early stopping: stop once this many epochs in a row have not improved on the best
    /// validation accuracy so far. `None` trains every epoch. Needs a validation set; pair
    /// it with `keep_best` to also go back to the best epoch's parameters.
    pub patience: Option<usize>,
    /// Seeds the shuffling of mini-batches, the random shifts and the dropout masks. Same
    /// seed, same data, same network: same result.
    pub seed: u64,
}

impl Default for TrainConfig {
    /// 10 epochs of mini-batch SGD, batch 64, constant learning rate 0.1, momentum 0.9: a
    /// sound start for an MLP on MNIST-sized data.
    fn default() -> Self {
        TrainConfig {
            epochs: 10,
            batch: Batch::Size(64),
            learning_rate: 0.1,
            schedule: Schedule::Constant,
            warmup_epochs: 0,
            optimizer: Optimizer::Sgd,
            momentum: 0.9,
            weight_decay: 0.0,
            label_smoothing: 0.0,
            dropout: 0.0,
            shift: 0,
            rotation: 0.0,
            scale: 0.0,
            keep_best: false,
            patience: None,
            seed: 0,
        }
    }
}
// ANCHOR_END: config

impl TrainConfig {
    /// The original NumPy project's recipe: full-batch gradient descent, constant learning
    /// rate 0.1, 600 epochs, no momentum, no weight decay. Pair it with
    /// [`crate::preset::original`].
    pub fn original() -> Self {
        TrainConfig {
            epochs: 600,
            batch: Batch::Full,
            learning_rate: 0.1,
            momentum: 0.0,
            ..TrainConfig::default()
        }
    }

    /// Checks that the settings make sense, naming the first one that does not.
    pub fn validate(&self) -> Result<(), String> {
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            return Err(format!(
                "learning_rate must be positive and finite, got {}",
                self.learning_rate
            ));
        }
        if !(0.0..1.0).contains(&self.momentum) {
            return Err(format!("momentum must be in [0, 1), got {}", self.momentum));
        }
        self.optimizer.validate()?;
        if !(self.weight_decay.is_finite() && self.weight_decay >= 0.0) {
            return Err(format!(
                "weight_decay must be finite and ≥ 0, got {}",
                self.weight_decay
            ));
        }
        if self.batch == Batch::Size(0) {
            return Err("batch size must be at least 1".to_string());
        }
        match self.schedule {
            Schedule::Constant => {}
            Schedule::Step { every, factor } => {
                if every == 0 {
                    return Err("schedule: a step schedule's `every` must be at least 1".into());
                }
                if !(factor > 0.0 && factor <= 1.0) {
                    return Err(format!(
                        "schedule: a step schedule's factor must be in (0, 1], got {factor}"
                    ));
                }
            }
            Schedule::Cosine { min_fraction } => {
                if !(0.0..=1.0).contains(&min_fraction) {
                    return Err(format!(
                        "schedule: a cosine schedule's min_fraction must be in [0, 1], got \
                         {min_fraction}"
                    ));
                }
            }
        }
        if !(0.0..1.0).contains(&self.label_smoothing) {
            return Err(format!(
                "label_smoothing must be in [0, 1), got {}",
                self.label_smoothing
            ));
        }
        if !(0.0..=45.0).contains(&self.rotation) {
            return Err(format!(
                "rotation must be from 0 to 45 degrees, got {}",
                self.rotation
            ));
        }
        if !(0.0..0.5).contains(&self.scale) {
            return Err(format!("scale must be in [0, 0.5), got {}", self.scale));
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return Err(format!("dropout must be in [0, 1), got {}", self.dropout));
        }
        if self.patience == Some(0) {
            return Err("patience must be at least 1 epoch (None turns it off)".to_string());
        }
        if self.warmup_epochs > self.epochs {
            return Err(format!(
                "warmup_epochs ({}) must not exceed epochs ({})",
                self.warmup_epochs, self.epochs
            ));
        }
        Ok(())
    }

    /// Checks the settings ([`validate`](Self::validate)) and that they suit the data:
    /// [`keep_best`](Self::keep_best) and [`patience`](Self::patience) need a non-empty
    /// validation set, and [`shift`](Self::shift) needs training samples of known image
    /// shape, at most `width − 1` and `height − 1`. [`Network::fit_with`](crate::Network::fit_with) panics with this
    /// message.
    ///
    /// ```
    /// use simplenn::{Matrix, TrainConfig, samples::MatrixSamples};
    /// let x = Matrix::<f32>::zeros(4, 9);
    /// let labels = [0, 1, 0, 1];
    /// let config = TrainConfig { shift: 1, ..TrainConfig::default() };
    /// let rows = MatrixSamples::new(&x, &labels);
    /// assert!(config.validate_for(&rows, None).unwrap_err().contains("image shape"));
    /// let images = rows.with_image_shape(3, 3);
    /// assert!(config.validate_for(&images, None).is_ok());
    /// ```
    pub fn validate_for<T: Float>(
        &self,
        train: &(impl Inputs<T> + ?Sized),
        validation: Option<&dyn Samples<T>>,
    ) -> Result<(), String> {
        self.validate()?;
        if self.keep_best || self.patience.is_some() {
            let what = if self.keep_best {
                "keep_best"
            } else {
                "patience"
            };
            match validation {
                None => {
                    return Err(format!(
                        "{what} needs a validation set to choose the best epoch by, and none \
                         was given"
                    ));
                }
                Some(v) if v.is_empty() => {
                    return Err(format!(
                        "{what} needs a validation set to choose the best epoch by, and the \
                         one given is empty"
                    ));
                }
                Some(_) => {}
            }
        }
        if self.distorts() {
            let what = if self.shift > 0 {
                format!("shift = {}", self.shift)
            } else {
                "rotation or scale".to_string()
            };
            let Some((width, height)) = train.image_shape() else {
                return Err(format!(
                    "{what} needs training images of known image shape, and these \
                     samples have none (give a Dataset, or MatrixSamples::with_image_shape)"
                ));
            };
            if width * height != train.features() {
                return Err(format!(
                    "the samples say they are {width}×{height} images but have {} features",
                    train.features()
                ));
            }
            if self.shift >= width || self.shift >= height {
                return Err(format!(
                    "shift = {} would move {width}×{height} images entirely out of the frame \
                     (at most {})",
                    self.shift,
                    width.min(height) - 1
                ));
            }
        }
        Ok(())
    }

    /// True if training images are distorted: shifted, rotated or scaled.
    pub fn distorts(&self) -> bool {
        self.shift > 0 || self.rotation > 0.0 || self.scale > 0.0
    }

    /// Gradient steps in one epoch over `samples` samples: one for [`Batch::Full`], else
    /// one per batch, the last one possibly smaller.
    pub fn steps_per_epoch(&self, samples: usize) -> usize {
        match self.batch {
            Batch::Full => 1,
            Batch::Size(size) => samples.div_ceil(size.max(1)),
        }
    }

    // ANCHOR: learning_rate_at
    /// The learning rate of gradient step `step` (counted from 0 over the whole run) when an
    /// epoch has `steps_per_epoch` steps: the [`Schedule`]'s rate times the warm-up factor
    /// `min(1, (step + 1) / W)`, where `W = warmup_epochs · steps_per_epoch`.
    ///
    /// ```
    /// use simplenn::{Batch, Schedule, TrainConfig};
    /// let config = TrainConfig {
    ///     epochs: 4,
    ///     learning_rate: 0.5,
    ///     schedule: Schedule::Cosine { min_fraction: 0.0 },
    ///     warmup_epochs: 1,
    ///     ..TrainConfig::default()
    /// };
    /// // 2 steps an epoch: warm-up over steps 0 and 1, then a cosine over steps 2 to 7.
    /// assert_eq!(config.learning_rate_at(0, 2), 0.25);
    /// assert_eq!(config.learning_rate_at(1, 2), 0.5);
    /// assert_eq!(config.learning_rate_at(2, 2), 0.5); // the cosine's start: cos 0 = 1
    /// assert!((config.learning_rate_at(5, 2) - 0.25).abs() < 1e-15); // its middle
    /// ```
    pub fn learning_rate_at(&self, step: usize, steps_per_epoch: usize) -> f64 {
        let eta = self.learning_rate;
        let warmup = self.warmup_epochs * steps_per_epoch;
        let total = self.epochs * steps_per_epoch;
        let scheduled = match self.schedule {
            Schedule::Constant => eta,
            Schedule::Step { every, factor } => {
                let epoch = step / steps_per_epoch.max(1);
                let decays = epoch / every.max(1);
                eta * factor.powi(decays.min(i32::MAX as usize) as i32)
            }
            Schedule::Cosine { min_fraction } => {
                let progress = if total > warmup {
                    (step.saturating_sub(warmup) as f64 / (total - warmup) as f64).min(1.0)
                } else {
                    0.0
                };
                let wave = 0.5 * (1.0 + (std::f64::consts::PI * progress).cos()); // 1 → 0
                eta * (min_fraction + (1.0 - min_fraction) * wave)
            }
        };
        if step < warmup {
            scheduled * (step + 1) as f64 / warmup as f64
        } else {
            scheduled
        }
    }
    // ANCHOR_END: learning_rate_at
}

/// What one epoch of training did.
#[derive(Clone, Debug, PartialEq)]
pub struct EpochStats {
    /// Epoch number, from 1.
    pub epoch: usize,
    /// Mean training loss over the epoch's batches (each measured before its step). It is
    /// the loss the gradient steps minimise: the cross-entropy, against smoothed targets
    /// with [`TrainConfig::label_smoothing`]. The weight-decay penalty `λ/2·‖W‖²` is not
    /// included.
    pub loss: f64,
    /// Fraction of training samples classified correctly, each counted in the batch where it
    /// was seen, before that batch's step: the running figure Keras also reports.
    pub train_accuracy: f64,
    /// Accuracy on the validation set after the epoch, when one was given.
    pub val_accuracy: Option<f64>,
    /// Mean loss on the validation set after the epoch, when one was given: the plain
    /// cross-entropy, whatever the training regularises.
    pub val_loss: Option<f64>,
    /// The learning rate of the epoch's last gradient step (see
    /// [`TrainConfig::learning_rate_at`]).
    pub learning_rate: f64,
    /// Wall-clock seconds of the epoch's training (validation not included).
    pub seconds: f64,
}

/// What [`Network::fit_with`](crate::Network::fit_with) reports while it trains, to drive a progress display.
#[derive(Clone, Copy, Debug)]
pub enum TrainEvent<'a> {
    /// A gradient step is done: `done` of the epoch's `total` samples have been trained on.
    Batch {
        /// Epoch number, from 1.
        epoch: usize,
        /// Samples trained on so far this epoch.
        done: usize,
        /// Samples in the epoch.
        total: usize,
    },
    /// An epoch is over (validation included), with its statistics.
    Epoch(&'a EpochStats),
}

/// The per-epoch record [`Network::fit`](crate::Network::fit) returns.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct History {
    /// One entry per epoch, in order.
    pub epochs: Vec<EpochStats>,
    /// The epoch (from 1) with the highest validation accuracy, the first of equals, when
    /// there was a validation set. With [`TrainConfig::keep_best`] the network ends with
    /// the parameters it had at the end of this epoch.
    pub best_epoch: Option<usize>,
    /// True if [`TrainConfig::patience`] ended training before its last epoch.
    pub stopped_early: bool,
}

impl History {
    /// The last epoch's statistics, if any epoch ran.
    pub fn last(&self) -> Option<&EpochStats> {
        self.epochs.last()
    }

    /// Total training seconds over all epochs.
    pub fn seconds(&self) -> f64 {
        self.epochs.iter().map(|e| e.seconds).sum()
    }
}

/// Why [`Network::fit`](crate::Network::fit) stopped early with an error: training *diverged*. The steps grew the
/// parameters until the loss, or a parameter itself, stopped being a finite number, and
/// every step after that would only have spread the NaN.
///
/// The usual cause is a step too large for the loss's curvature: a learning rate too high,
/// or momentum μ so close to 1 that the effective step `η/(1 − μ)` is. The network is left
/// as it was when training stopped, which may hold non-finite parameters: train it again
/// (with smaller steps) rather than use or save it.
#[derive(Clone, Debug, PartialEq)]
pub struct Diverged {
    /// The epoch, from 1, in which it was found.
    pub epoch: usize,
    /// The gradient step, counted from 1 over the whole run: the step whose loss was not
    /// finite (its update was not applied), or, for a parameter, the epoch's last step.
    pub step: usize,
    /// The learning rate scheduled for that step.
    pub learning_rate: f64,
    /// What stopped being finite.
    pub cause: NonFinite,
    /// The epochs completed before it, for plotting the run up to the blow-up.
    pub history: History,
}

/// What [`Diverged`] found not to be a finite number.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum NonFinite {
    /// The mini-batch loss (NaN or infinite), measured before the step's update.
    Loss(f64),
    /// A parameter of this layer (from 0), checked at the end of every epoch: a parameter
    /// can become infinite without the loss showing it at once (a bias of −∞ behind a ReLU).
    Parameter {
        /// The layer, counted from 0 on the input side.
        layer: usize,
    },
}

impl std::fmt::Display for Diverged {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.cause {
            NonFinite::Loss(loss) => write!(
                f,
                "training diverged in epoch {}, at step {} (learning rate {}): the loss is {loss}",
                self.epoch, self.step, self.learning_rate
            )?,
            NonFinite::Parameter { layer } => write!(
                f,
                "training diverged in epoch {}, by step {} (learning rate {}): a parameter of \
                 layer {layer} is not a finite number",
                self.epoch, self.step, self.learning_rate
            )?,
        }
        f.write_str(
            ". The steps are too large: try a smaller learning rate, or less momentum \
             (the effective step is learning rate / (1 - momentum))",
        )
    }
}

impl std::error::Error for Diverged {}
