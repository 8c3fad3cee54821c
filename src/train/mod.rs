//! Training: [`TrainConfig`], the optimisers ([`optim`]), the training loop
//! ([`Training`], [`Network::fit`](crate::nn::network::Network::fit)), checkpoints and the
//! recipes ([`preset`]).
//!
//! Everything beyond plain gradient descent is a setting, off by default: schedules and
//! warm-up, weight decay, label smoothing, dropout, augmentation, keeping the best epoch and
//! early stopping. The book's chapters "Training" and "From 85% to 98%" say what each does
//! and measure what it is worth.
//!
//! **Reproducibility.** The shuffling, the shifts, the warps and the dropout masks draw
//! from streams of the one [`TrainConfig::seed`], forked so that turning one option on
//! changes nothing else's draws. Nothing depends on the thread count or on timing: the
//! same seed gives bit-identical results.

pub mod checkpoint;
mod fit;
pub mod optim;
pub mod preset;

pub use fit::{Training, draw_dropout_masks};
pub use optim::{BadOptimiser, Optimiser};

pub use crate::data::augment::Elastic;
use crate::data::samples::{Inputs, Samples};
use crate::float::Float;
use std::fmt;

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
        let schedule = match (name.as_str(), &parts[1..]) {
            ("constant", []) => Schedule::Constant,
            ("step", [every, factor]) => Schedule::Step {
                every: every
                    .parse()
                    .map_err(|_| bad("EVERY must be a whole number of epochs"))?,
                factor: factor.parse().map_err(|_| bad("FACTOR must be a number"))?,
            },
            ("cosine", []) => Schedule::Cosine { min_fraction: 0.0 },
            ("cosine", [min]) => Schedule::Cosine {
                min_fraction: min
                    .parse()
                    .map_err(|_| bad("MIN_FRACTION must be a number"))?,
            },
            ("constant" | "step" | "cosine", _) => return Err(bad("wrong number of parts")),
            _ => return Err(bad("unknown schedule")),
        };
        schedule.check().map_err(|e| bad(&e.reason))?;
        Ok(schedule)
    }
}

impl Schedule {
    /// Checks the schedule's numbers, naming the one out of range: a step schedule's
    /// `every` at least 1 and `factor` in `(0, 1]`, a cosine's `min_fraction` in `[0, 1]`.
    /// The one rule, which [`TrainConfig::validate`] and parsing both apply.
    pub fn check(&self) -> Result<(), BadConfig> {
        let bad = |reason: String| Err(BadConfig::new(Setting::Schedule, reason));
        match *self {
            Schedule::Constant => Ok(()),
            Schedule::Step { every: 0, .. } => {
                bad("a step schedule's every must be at least 1 epoch".to_string())
            }
            Schedule::Step { factor, .. } if !(factor > 0.0 && factor <= 1.0) => bad(format!(
                "a step schedule's factor must be in (0, 1], got {factor}"
            )),
            Schedule::Cosine { min_fraction } if !(0.0..=1.0).contains(&min_fraction) => bad(
                format!("a cosine schedule's min_fraction must be in [0, 1], got {min_fraction}"),
            ),
            Schedule::Step { .. } | Schedule::Cosine { .. } => Ok(()),
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
/// Everything [`Network::fit`](crate::nn::network::Network::fit) needs to know besides the data.
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
    /// The rule that turns gradients into steps, with its settings: SGD with momentum,
    /// Adam or AdamW.
    pub optimiser: Optimiser,
    /// L2 weight decay λ ≥ 0, 0 turns it off. Coupled for SGD and Adam: `λ·W` is added to
    /// the weights' gradient (the gradient of `λ/2·‖W‖²`); decoupled for AdamW. Biases are
    /// not decayed: a bias only moves where a unit switches on, and is too few to overfit
    /// with.
    pub weight_decay: f64,
    /// Label smoothing ε in `[0, 1)`: train against targets `(1 − ε)·y + ε/K` instead of
    /// one-hot `y` (see [`crate::nn::loss::softmax_cross_entropy_smoothed_inplace`]). 0 turns it
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
    /// [`crate::data::augment`]). 0 turns it off. The training samples must know their
    /// [`image_shape`](crate::data::samples::Inputs::image_shape), as a
    /// [`Dataset`](crate::data::dataset::Dataset) does.
    pub shift: usize,
    /// Data augmentation: each training image is also turned by an angle drawn uniformly
    /// from `±rotation` degrees, every time it is drawn into a batch, and resampled
    /// bilinearly ([`crate::data::augment::warp_image`]). At most 45 (a 6 turned further starts
    /// to look like a 9); 0 turns it off. Needs images of known shape, as `shift` does.
    pub rotation: f64,
    /// Data augmentation: each training image is also scaled about its centre by a factor
    /// drawn uniformly from `1 ± scale`, like `rotation`. In `[0, 0.5)`; 0 turns it off.
    pub scale: f64,
    /// Data augmentation: each training image is also distorted elastically, by a field of
    /// its own every time it is drawn ([`crate::data::augment::elastic_field`]). `None`
    /// turns it off; `α` is at most 100 pixels, `σ` from 0.5 to 10.
    pub elastic: Option<Elastic>,
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
            optimiser: Optimiser::sgd(0.9),
            weight_decay: 0.0,
            label_smoothing: 0.0,
            dropout: 0.0,
            shift: 0,
            rotation: 0.0,
            scale: 0.0,
            elastic: None,
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
    /// [`crate::train::preset::original`].
    pub fn original() -> Self {
        TrainConfig {
            epochs: 600,
            batch: Batch::Full,
            learning_rate: 0.1,
            optimiser: Optimiser::sgd(0.0),
            ..TrainConfig::default()
        }
    }

    /// Checks that the settings make sense, naming the first one that does not: the one
    /// place each setting's range is written down.
    ///
    /// ```
    /// use simplenn::TrainConfig;
    /// use simplenn::train::Setting;
    /// let config = TrainConfig { learning_rate: -1.0, ..TrainConfig::default() };
    /// let error = config.validate().unwrap_err();
    /// assert_eq!(error.setting, Setting::LearningRate);
    /// assert_eq!(error.to_string(), "learning_rate: must be positive and finite, got -1");
    /// ```
    pub fn validate(&self) -> Result<(), BadConfig> {
        let bad = |setting, reason: String| Err(BadConfig::new(setting, reason));
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            let lr = self.learning_rate;
            return bad(
                Setting::LearningRate,
                format!("must be positive and finite, got {lr}"),
            );
        }
        self.optimiser.check()?;
        if !(self.weight_decay.is_finite() && self.weight_decay >= 0.0) {
            let decay = self.weight_decay;
            return bad(
                Setting::WeightDecay,
                format!("must be finite and ≥ 0, got {decay}"),
            );
        }
        if self.batch == Batch::Size(0) {
            return bad(Setting::Batch, "must be at least 1 sample".to_string());
        }
        self.schedule.check()?;
        if !(0.0..1.0).contains(&self.label_smoothing) {
            let e = self.label_smoothing;
            return bad(
                Setting::LabelSmoothing,
                format!("must be in [0, 1), got {e}"),
            );
        }
        if !(0.0..=45.0).contains(&self.rotation) {
            let r = self.rotation;
            return bad(
                Setting::Rotation,
                format!("must be from 0 to 45 degrees, got {r}"),
            );
        }
        if !(0.0..0.5).contains(&self.scale) {
            return bad(
                Setting::Scale,
                format!("must be in [0, 0.5), got {}", self.scale),
            );
        }
        if let Some(Elastic { alpha, sigma }) = self.elastic
            && !((0.0..=100.0).contains(&alpha) && (0.5..=10.0).contains(&sigma))
        {
            return bad(
                Setting::Elastic,
                format!(
                    "needs α from 0 to 100 and σ from 0.5 to 10 pixels, got {alpha} and {sigma}"
                ),
            );
        }
        if !(0.0..1.0).contains(&self.dropout) {
            let p = self.dropout;
            return bad(Setting::Dropout, format!("must be in [0, 1), got {p}"));
        }
        if self.patience == Some(0) {
            return bad(
                Setting::Patience,
                "must be at least 1 epoch, not 0".to_string(),
            );
        }
        if self.warmup_epochs > self.epochs {
            let (warmup, epochs) = (self.warmup_epochs, self.epochs);
            return bad(
                Setting::Warmup,
                format!("{warmup} epochs must not exceed the run's {epochs}"),
            );
        }
        Ok(())
    }

    /// Checks the settings ([`validate`](Self::validate)) and that they suit the data:
    /// [`keep_best`](Self::keep_best) and [`patience`](Self::patience) need a non-empty
    /// validation set, and [`shift`](Self::shift), [`rotation`](Self::rotation) and
    /// [`scale`](Self::scale) need training samples of known image shape (a shift at most
    /// `width − 1` and `height − 1`).
    /// [`Network::fit_with`](crate::nn::network::Network::fit_with) panics with this message.
    ///
    /// ```
    /// use simplenn::{Matrix, TrainConfig, samples::MatrixSamples};
    /// let x = Matrix::<f32>::zeros(4, 9);
    /// let labels = [0, 1, 0, 1];
    /// let config = TrainConfig { shift: 1, ..TrainConfig::default() };
    /// let rows = MatrixSamples::new(&x, &labels);
    /// assert!(config.validate_for(&rows, None).unwrap_err().to_string().contains("image shape"));
    /// let images = rows.with_image_shape(3, 3);
    /// assert!(config.validate_for(&images, None).is_ok());
    /// ```
    pub fn validate_for<T: Float>(
        &self,
        train: &(impl Inputs<T> + ?Sized),
        validation: Option<&dyn Samples<T>>,
    ) -> Result<(), BadConfig> {
        self.validate()?;
        let choosing = match (self.keep_best, self.patience) {
            (true, _) => Some(Setting::KeepBest),
            (false, Some(_)) => Some(Setting::Patience),
            (false, None) => None,
        };
        if let Some(setting) = choosing {
            let given = match validation {
                None => "none was given",
                Some(v) if v.is_empty() => "the one given is empty",
                Some(_) => "",
            };
            if !given.is_empty() {
                return Err(BadConfig::new(
                    setting,
                    format!("needs a validation set to choose the best epoch by, and {given}"),
                ));
            }
        }
        let distortion = if self.shift > 0 {
            Some(Setting::Shift)
        } else if self.rotation > 0.0 {
            Some(Setting::Rotation)
        } else if self.scale > 0.0 {
            Some(Setting::Scale)
        } else if self.elastic.is_some() {
            Some(Setting::Elastic)
        } else {
            None
        };
        if let Some(setting) = distortion {
            let bad = |reason: String| Err(BadConfig::new(setting, reason));
            let Some((width, height)) = train.image_shape() else {
                return bad(
                    "needs training images of known image shape, and these samples have none \
                     (give a Dataset, or MatrixSamples::with_image_shape)"
                        .to_string(),
                );
            };
            if width * height != train.features() {
                return bad(format!(
                    "needs images, but the samples say they are {width}×{height} images and \
                     have {} features",
                    train.features()
                ));
            }
            if self.shift >= width || self.shift >= height {
                return bad(format!(
                    "{} pixels would move {width}×{height} images entirely out of the frame \
                     (at most {})",
                    self.shift,
                    width.min(height) - 1
                ));
            }
        }
        Ok(())
    }

    /// Checks that every batch of an epoch over `samples` samples is large enough for
    /// `network` to train on
    /// ([`Network::min_training_batch`](crate::nn::network::Network::min_training_batch)):
    /// batch normalisation after a dense layer needs two samples for a variance, so a last
    /// batch of one is refused, as PyTorch refuses it.
    ///
    /// ```
    /// use simplenn::{Activation, Batch, Network, TrainConfig};
    /// let net: Network = Network::builder(4).hidden(3, Activation::Relu)
    ///     .batch_norm(Activation::Identity).output(2).build();
    /// let config = TrainConfig { batch: Batch::Size(4), ..TrainConfig::default() };
    /// assert!(config.check_batches(&net, 8).is_ok());
    /// let error = config.check_batches(&net, 9).unwrap_err(); // 4 + 4 + 1
    /// assert!(error.to_string().contains("a batch of 1 sample"));
    /// ```
    pub fn check_batches<T: Float>(
        &self,
        network: &crate::nn::network::Network<T>,
        samples: usize,
    ) -> Result<(), BadConfig> {
        let needed = network.min_training_batch();
        let smallest = match self.batch {
            _ if samples == 0 => return Ok(()),
            Batch::Full => samples,
            Batch::Size(size) if samples.is_multiple_of(size.max(1)) => size.min(samples),
            Batch::Size(size) => samples % size,
        };
        if smallest >= needed {
            return Ok(());
        }
        let s = if smallest == 1 { "" } else { "s" };
        Err(BadConfig::new(
            Setting::Batch,
            format!(
                "leaves a batch of {smallest} sample{s} in every epoch of {samples}, and batch \
                 normalisation after a dense layer needs {needed} to train on: choose another \
                 batch size"
            ),
        ))
    }

    /// True if training images are distorted: shifted, rotated, scaled or elastically.
    pub fn distorts(&self) -> bool {
        self.shift > 0 || self.rotation > 0.0 || self.scale > 0.0 || self.elastic.is_some()
    }

    /// True if training images are warped (turned, scaled or distorted elastically), which
    /// resamples them, rather than at most shifted by whole pixels.
    pub fn warps(&self) -> bool {
        self.rotation > 0.0 || self.scale > 0.0 || self.elastic.is_some()
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

/// A setting of a [`TrainConfig`], as [`BadConfig`] names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Setting {
    /// [`TrainConfig::batch`].
    Batch,
    /// [`TrainConfig::learning_rate`].
    LearningRate,
    /// [`TrainConfig::schedule`].
    Schedule,
    /// [`TrainConfig::warmup_epochs`].
    Warmup,
    /// SGD's momentum ([`Optimiser::Sgd`]).
    Momentum,
    /// Adam's `β₁`.
    Beta1,
    /// Adam's `β₂`.
    Beta2,
    /// Adam's `ε`.
    Epsilon,
    /// [`TrainConfig::weight_decay`].
    WeightDecay,
    /// [`TrainConfig::label_smoothing`].
    LabelSmoothing,
    /// [`TrainConfig::dropout`].
    Dropout,
    /// [`TrainConfig::shift`].
    Shift,
    /// [`TrainConfig::rotation`].
    Rotation,
    /// [`TrainConfig::scale`].
    Scale,
    /// [`TrainConfig::elastic`].
    Elastic,
    /// [`TrainConfig::keep_best`].
    KeepBest,
    /// [`TrainConfig::patience`].
    Patience,
}

impl Setting {
    /// The name messages use: the field's, or the optimiser's setting's.
    pub fn name(self) -> &'static str {
        match self {
            Setting::Batch => "batch",
            Setting::LearningRate => "learning_rate",
            Setting::Schedule => "schedule",
            Setting::Warmup => "warmup_epochs",
            Setting::Momentum => "momentum",
            Setting::Beta1 => "beta1",
            Setting::Beta2 => "beta2",
            Setting::Epsilon => "epsilon",
            Setting::WeightDecay => "weight_decay",
            Setting::LabelSmoothing => "label_smoothing",
            Setting::Dropout => "dropout",
            Setting::Shift => "shift",
            Setting::Rotation => "rotation",
            Setting::Scale => "scale",
            Setting::Elastic => "elastic",
            Setting::KeepBest => "keep_best",
            Setting::Patience => "patience",
        }
    }
}

/// Why a [`TrainConfig`] cannot train (on this data): the setting, and what is wrong with
/// it. A program maps [`setting`](Self::setting) to its own name for it, such as a
/// command-line flag, and shows [`reason`](Self::reason) with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadConfig {
    /// The setting at fault.
    pub setting: Setting,
    /// What is wrong: `must be in [0, 1), got 2`.
    pub reason: String,
}

impl BadConfig {
    /// An error about `setting`.
    pub fn new(setting: Setting, reason: impl Into<String>) -> Self {
        BadConfig {
            setting,
            reason: reason.into(),
        }
    }
}

impl fmt::Display for BadConfig {
    /// `learning_rate: must be positive and finite, got -1`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.setting.name(), self.reason)
    }
}

impl std::error::Error for BadConfig {}

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

/// What [`Network::fit_with`](crate::nn::network::Network::fit_with) reports while it trains, to drive a progress display.
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

/// The per-epoch record [`Network::fit`](crate::nn::network::Network::fit) returns.
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

/// Why [`Network::fit`](crate::nn::network::Network::fit) stopped early with an error: training *diverged*. The steps grew the
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
