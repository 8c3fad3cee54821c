//! Training: [`TrainConfig`], the optimiser, and [`Network::fit`].
//!
//! One optimiser covers the three the original project and its wish list need:
//!
//! - **full-batch gradient descent** (the original): every step sees the whole training set,
//!   [`Batch::Full`];
//! - **mini-batch SGD**: each epoch shuffles the samples and takes one step per batch of
//!   `n`, [`Batch::Size`]; many cheap, noisy steps instead of one exact, expensive one;
//! - **SGD with momentum**, `momentum > 0`: the step follows a running sum of past gradients,
//!   `v ← μ·v + g;  θ ← θ − η·v`, which damps the zig-zag across narrow valleys of the loss.
//!   This is the form PyTorch's `SGD` uses.
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
//! `θ ← θ − η·λ·θ`; without momentum that is the very same update, and with momentum the two
//! differ only in whether the decay goes through the velocity. We have only the coupled
//! one.) The penalty is not part of the loss the history reports.
//!
//! Weight decay applies to the weights, **not the biases**. A weight's size is how strongly a
//! unit reacts to one of its inputs, and large weights are what let a network fit noise: that
//! is what the penalty limits. A bias only shifts where a unit switches on; there is one per
//! unit, too few to overfit with, and pulling them towards zero would only push every unit
//! towards the same threshold. This is the usual practice.

use crate::augment::random_shifts_with;
use crate::float::Float;
use crate::matrix::Matrix;
use crate::network::{Gradients, LayerGradients, Network, Regularisation, Workspace};
use crate::rng::Rng;
use crate::samples::{Inputs, MatrixSamples, Samples};
use std::time::Instant;

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
/// Everything [`Network::fit`] needs to know besides the data.
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
    /// Momentum μ in `[0, 1)`; 0 is plain gradient descent.
    pub momentum: f64,
    /// L2 weight decay λ ≥ 0, 0 turns it off. Coupled: `λ·W` is added to the weights'
    /// gradient (the gradient of `λ/2·‖W‖²`); biases are not decayed. See the
    /// [module documentation](crate::train).
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
            momentum: 0.9,
            weight_decay: 0.0,
            label_smoothing: 0.0,
            dropout: 0.0,
            shift: 0,
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
            schedule: Schedule::Constant,
            warmup_epochs: 0,
            momentum: 0.0,
            weight_decay: 0.0,
            label_smoothing: 0.0,
            dropout: 0.0,
            shift: 0,
            keep_best: false,
            patience: None,
            seed: 0,
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
    /// shape, at most `width − 1` and `height − 1`. [`Network::fit_with`] panics with this
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
        if self.shift > 0 {
            let Some((width, height)) = train.image_shape() else {
                return Err(format!(
                    "shift = {} needs training images of known image shape, and these \
                     samples have none (give a Dataset, or MatrixSamples::with_image_shape)",
                    self.shift
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

/// What [`Network::fit_with`] reports while it trains, to drive a progress display.
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

/// The per-epoch record [`Network::fit`] returns.
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

/// Why [`Network::fit`] stopped early with an error: training *diverged*. The steps grew the
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

// ANCHOR: sgd
/// Stochastic gradient descent with optional momentum and (coupled) L2 weight decay on the
/// weights.
struct Sgd<T: Float> {
    momentum: T,
    weight_decay: T,
    /// The running sums `v`, one per parameter; empty when momentum is 0.
    velocity: Vec<LayerGradients<T>>,
}

impl<T: Float> Sgd<T> {
    fn new(network: &Network<T>, config: &TrainConfig) -> Self {
        let velocity = if config.momentum > 0.0 {
            Gradients::zeros_like(network).layers
        } else {
            Vec::new()
        };
        Sgd {
            momentum: T::from_f64(config.momentum),
            weight_decay: T::from_f64(config.weight_decay),
            velocity,
        }
    }

    /// One step of size `lr` against `grads`.
    fn step(&mut self, network: &mut Network<T>, grads: &Gradients<T>, lr: T) {
        let (momentum, decay) = (self.momentum, self.weight_decay);
        for (l, (layer, g)) in network
            .layers_mut()
            .iter_mut()
            .zip(&grads.layers)
            .enumerate()
        {
            let Some((weights, bias)) = layer.params_mut() else {
                continue; // pooling has no parameters
            };
            let mut v = self.velocity.get_mut(l);
            let v_weights = v.as_mut().map(|v| v.weights.as_mut_slice());
            let weights = weights.as_mut_slice();
            update(
                weights,
                g.weights.as_slice(),
                v_weights,
                lr,
                momentum,
                decay,
            );
            let v_bias = v.map(|v| v.bias.as_mut_slice());
            update(bias, &g.bias, v_bias, lr, momentum, T::ZERO); // no decay
        }
    }
}

/// One step for one array of parameters θ with gradient `g`, in a single pass:
///
/// - with weight decay λ > 0, the gradient becomes `g + λθ`;
/// - with a velocity `v` (momentum μ), `v ← μv + g` and `θ ← θ − ηv`;
/// - without, `θ ← θ − ηg`.
///
/// One pass, not one per formula: the first layer's weights, their gradient and their
/// velocity are 1.6 MB each for 784-512-…, more than the L2 cache holds, so every extra
/// pass over them is another trip to L3.
fn update<T: Float>(theta: &mut [T], g: &[T], velocity: Option<&mut [T]>, lr: T, mu: T, decay: T) {
    let decayed = |g: T, p: T| if decay > T::ZERO { g + decay * p } else { g };
    match velocity {
        Some(v) => {
            for ((p, &g), v) in theta.iter_mut().zip(g).zip(v) {
                *v = mu * *v + decayed(g, *p);
                *p -= lr * *v;
            }
        }
        None => {
            for (p, &g) in theta.iter_mut().zip(g) {
                *p -= lr * decayed(g, *p);
            }
        }
    }
}
// ANCHOR_END: sgd

// ANCHOR: dropout_masks
/// Draws inverted-dropout masks for a batch of `rows` samples into `masks`: one
/// `rows × units` matrix per hidden layer of `network`, each entry 0 with probability
/// `rate` and `1/(1 − rate)` otherwise, so that its expected value is 1.
///
/// Dropout (Srivastava et al., JMLR 2014) trains every batch on a random thinned network, so
/// that no unit can rely on particular others being there; the scaling by `1/(1 − rate)`
/// during training means the full network needs no correction afterwards. The draws come
/// from `rng` alone, one per entry in row-major order, layer by layer: the same generator
/// gives the same masks.
///
/// ```
/// use simplenn::{Activation, Network, Rng, train::draw_dropout_masks};
/// let net: Network = Network::builder(4).hidden(3, Activation::Relu).output(2).build();
/// let mut masks = Vec::new();
/// draw_dropout_masks(&net, 5, 0.5, &mut Rng::new(1), &mut masks);
/// assert_eq!(masks.len(), 1); // one hidden layer
/// assert_eq!(masks[0].shape(), (5, 3));
/// assert!(masks[0].as_slice().iter().all(|&m| m == 0.0 || m == 2.0));
/// ```
///
/// # Panics
/// If `rate` is not in `[0, 1)`.
pub fn draw_dropout_masks<T: Float>(
    network: &Network<T>,
    rows: usize,
    rate: f64,
    rng: &mut Rng,
    masks: &mut Vec<Matrix<T>>,
) {
    assert!(
        (0.0..1.0).contains(&rate),
        "draw_dropout_masks: rate {rate} is not in [0, 1)"
    );
    let kept = T::from_f64(1.0 / (1.0 - rate));
    let hidden = &network.layers()[..network.layers().len() - 1];
    masks.resize_with(hidden.len(), || Matrix::zeros(0, 0));
    for (mask, layer) in masks.iter_mut().zip(hidden) {
        mask.reset(rows, layer.output_shape().volume());
        for m in mask.as_mut_slice() {
            *m = if rng.next_f64() < rate { T::ZERO } else { kept };
        }
    }
}
// ANCHOR_END: dropout_masks

impl<T: Float> Network<T> {
    /// Trains the network on `x` (one sample per row) with class `labels`, as `config`
    /// says, and returns the per-epoch history.
    ///
    /// ```
    /// use simplenn::{Activation, Batch, Matrix, Network, TrainConfig};
    ///
    /// // XOR: not linearly separable, so it needs the hidden layer.
    /// let x = Matrix::<f64>::from_rows(&[[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]);
    /// let y = [0, 1, 1, 0];
    /// let mut net = Network::builder(2).hidden(8, Activation::Tanh).output(2).seed(1).build();
    /// let config = TrainConfig { epochs: 500, batch: Batch::Full, learning_rate: 0.5, ..Default::default() };
    /// let history = net.fit(&x, &y, &config).expect("these steps are small enough");
    /// assert_eq!(net.predict(&x), y);
    /// assert!(history.last().unwrap().loss < 0.05);
    /// ```
    ///
    /// # Errors
    /// [`Diverged`] if the loss or a parameter stops being a finite number: training stops
    /// at once.
    ///
    /// # Panics
    /// If `x.cols() != self.inputs()`, `labels.len() != x.rows()`, a label is
    /// `>= self.classes()`, or [`config.validate_for(…)`](TrainConfig::validate_for) fails
    /// (among other things, [`keep_best`](TrainConfig::keep_best) and
    /// [`patience`](TrainConfig::patience) need a validation set, which `fit` has not: use
    /// [`fit_with`](Self::fit_with)).
    pub fn fit(
        &mut self,
        x: &Matrix<T>,
        labels: &[usize],
        config: &TrainConfig,
    ) -> Result<History, Diverged> {
        self.fit_with(&MatrixSamples::new(x, labels), None, config, |_| {})
    }

    /// Trains on any labelled [`Samples`], such as a [`Dataset`](crate::dataset::Dataset)
    /// of bytes (each mini-batch is converted to floats only when it is drawn), measuring a
    /// validation set after every epoch when one is given, and calling `on_event` after every
    /// gradient step and every epoch ([`TrainEvent`]), to show progress.
    ///
    /// # Errors
    /// [`Diverged`], as [`fit`](Self::fit).
    ///
    /// # Panics
    /// If the samples do not fit the network (width, labels), or
    /// [`config.validate_for(train, validation)`](TrainConfig::validate_for) fails.
    pub fn fit_with(
        &mut self,
        train: &(impl Samples<T> + ?Sized),
        validation: Option<&dyn Samples<T>>,
        config: &TrainConfig,
        mut on_event: impl FnMut(TrainEvent<'_>),
    ) -> Result<History, Diverged> {
        if let Err(e) = config.validate_for(train, validation) {
            panic!("Network::fit: bad TrainConfig: {e}");
        }
        self.check_samples(train);
        if let Some(v) = validation {
            self.check_samples(v);
        }
        let n = train.len();
        let mut history = History::default();
        if n == 0 {
            return Ok(history);
        }

        let mut rng = Rng::new(config.seed);
        // The optional random parts of training draw from their own streams, forked from a
        // copy of the shuffling generator: turning one on or off leaves the shuffle order,
        // and the others' draws, as they were.
        let mut streams = rng.clone();
        let mut shift_rng = streams.fork();
        let mut shift_scratch = Vec::new();
        let mut dropout_rng = streams.fork();
        let mut sgd = Sgd::new(self, config);
        let mut masks = Vec::new();
        let mut ws = Workspace::new();
        let mut grads = Gradients::zeros_like(self);
        let mut order: Vec<usize> = (0..n).collect();
        let labels: Vec<usize> = order.iter().map(|&i| train.label(i)).collect();
        let mut batch_x = Matrix::zeros(0, 0);
        let mut batch_y = Vec::new();
        let batch_size = match config.batch {
            Batch::Full => n,
            Batch::Size(size) => size,
        };
        let steps_per_epoch = config.steps_per_epoch(n);
        let mut step = 0;
        let mut best: Option<(usize, f64)> = None; // (epoch, validation accuracy)
        let mut best_layers = Vec::new();
        // Full-batch descent without augmentation reads the same samples every epoch: convert
        // them once, or read a matrix in place.
        let fixed = config.batch == Batch::Full && config.shift == 0;
        let (width, height) = train.image_shape().unwrap_or((0, 0));
        if fixed && train.as_matrix().is_none() {
            train.gather(&order, &mut batch_x);
        }

        // ANCHOR: epoch_loop
        for epoch in 1..=config.epochs {
            let start = Instant::now();
            let (mut loss_sum, mut correct, mut done) = (0.0, 0, 0);
            let mut learning_rate = config.learning_rate;
            if !fixed {
                rng.shuffle(&mut order);
            }
            for chunk in order.chunks(batch_size) {
                let x = if fixed {
                    train.as_matrix().unwrap_or(&batch_x)
                } else {
                    train.gather(chunk, &mut batch_x);
                    if config.shift > 0 {
                        random_shifts_with(
                            &mut batch_x,
                            width,
                            height,
                            config.shift,
                            &mut shift_rng,
                            &mut shift_scratch,
                        );
                    }
                    &batch_x
                };
                batch_y.clear();
                batch_y.extend(chunk.iter().map(|&i| labels[i]));
                let dropout_masks = if config.dropout > 0.0 {
                    let rows = x.rows();
                    draw_dropout_masks(self, rows, config.dropout, &mut dropout_rng, &mut masks);
                    Some(masks.as_slice())
                } else {
                    None
                };
                let regularisation = Regularisation {
                    label_smoothing: config.label_smoothing,
                    dropout_masks,
                };
                let (loss, right) =
                    self.backprop(x.view(), &batch_y, &regularisation, &mut ws, &mut grads);
                learning_rate = config.learning_rate_at(step, steps_per_epoch);
                step += 1;
                if !loss.is_finite() {
                    let cause = NonFinite::Loss(loss);
                    return Err(Diverged {
                        epoch,
                        step,
                        learning_rate,
                        cause,
                        history,
                    });
                }
                sgd.step(self, &grads, T::from_f64(learning_rate));
                loss_sum += loss * chunk.len() as f64;
                correct += right;
                done += chunk.len();
                on_event(TrainEvent::Batch {
                    epoch,
                    done,
                    total: n,
                });
            }
            let seconds = start.elapsed().as_secs_f64();
            if let Some(layer) = self.first_non_finite_layer() {
                let cause = NonFinite::Parameter { layer };
                return Err(Diverged {
                    epoch,
                    step,
                    learning_rate,
                    cause,
                    history,
                });
            }
            let val = validation.map(|v| self.evaluate_samples(v));
            let stats = EpochStats {
                epoch,
                loss: loss_sum / n as f64,
                train_accuracy: correct as f64 / n as f64,
                val_accuracy: val.map(|v| v.accuracy),
                val_loss: val.map(|v| v.loss),
                learning_rate,
                seconds,
            };
            on_event(TrainEvent::Epoch(&stats));
            history.epochs.push(stats);

            // The best epoch so far: keep its parameters, stop if it is too long ago.
            if let Some(accuracy) = val.map(|v| v.accuracy) {
                if best.is_none_or(|(_, best_accuracy)| accuracy > best_accuracy) {
                    best = Some((epoch, accuracy));
                    if config.keep_best {
                        best_layers.clone_from(&self.layers);
                    }
                }
            }
            history.best_epoch = best.map(|(e, _)| e);
            if let (Some(patience), Some((best_epoch, _))) = (config.patience, best) {
                if epoch - best_epoch >= patience && epoch < config.epochs {
                    history.stopped_early = true;
                    break;
                }
            }
        }
        // ANCHOR_END: epoch_loop
        if config.keep_best && best.is_some() {
            self.layers = best_layers;
        }
        Ok(history)
    }

    /// The first layer holding a parameter that is NaN or infinite, if any.
    fn first_non_finite_layer(&self) -> Option<usize> {
        self.layers.iter().position(|layer| {
            let weights = layer.weights().map_or(&[][..], Matrix::as_slice);
            let bias = layer.bias().unwrap_or_default();
            !weights.iter().chain(bias).all(|p| p.is_finite())
        })
    }
}
