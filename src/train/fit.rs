//! The training loop: [`Training`], one run in progress, and [`Network::fit`], which makes
//! one and runs it to the end.

use super::optim::Stepper;
use super::{Batch, Diverged, EpochStats, History, NonFinite, TrainConfig, TrainEvent};
use crate::blocks::matmul::sparse::{self, SparseRows};
use crate::blocks::matrix::Matrix;
use crate::blocks::rng::Rng;
use crate::data::augment::{Distortion, WarpScratch, random_shifts_with, random_warps_with};
use crate::data::samples::{MatrixSamples, Samples};
use crate::float::Float;
use crate::nn::layer::{Input, Layer, LayerKind};
use crate::nn::network::{Gradients, Network, Regularisation, Workspace};
use std::time::Instant;

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

// ANCHOR: training
/// A training run in progress: everything [`Network::fit`] carries from one epoch to the
/// next. `fit` makes one and runs it to the end; make one yourself to act between epochs,
/// for example to save a [checkpoint](crate::train::checkpoint) and, later, continue from
/// it exactly where it stopped.
///
/// ```
/// use simplenn::{Activation, Matrix, Network, TrainConfig, train::Training};
/// let x = Matrix::<f64>::from_rows(&[[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]);
/// let y = [0, 1, 1, 0];
/// let samples = simplenn::samples::MatrixSamples::new(&x, &y);
/// let mut net = Network::builder(2).hidden(8, Activation::Tanh).output(2).seed(1).build();
/// let config = TrainConfig { epochs: 3, batch: simplenn::Batch::Size(2), ..Default::default() };
/// let mut training = Training::new(&net, &config, y.len());
/// while let Some(stats) = training.next_epoch(&mut net, &samples, None, |_| {})? {
///     println!("epoch {}: loss {:.3}", stats.epoch, stats.loss);
/// }
/// let history = training.finish(&mut net);
/// assert_eq!(history.epochs.len(), 3);
/// # Ok::<(), simplenn::Diverged>(())
/// ```
#[derive(Clone, Debug)]
pub struct Training<T: Float = f32> {
    config: TrainConfig,
    /// Training samples: the sample order has this many entries.
    samples: usize,
    /// Where the run is.
    progress: Progress,
    /// The optimiser, with its memory of the steps so far.
    optimiser: Stepper<T>,
    /// The best epoch's layers, kept with [`TrainConfig::keep_best`].
    best_layers: Vec<Layer<T>>,
    buffers: Buffers<T>,
}
// ANCHOR_END: training

/// Where a run is, apart from its settings, its optimiser's memory and its buffers: what a
/// checkpoint records, and what [`Training::resume`] checks before it continues from it.
#[derive(Clone, Debug)]
pub(crate) struct Progress {
    /// Epochs completed.
    pub(crate) epochs_done: usize,
    /// Gradient steps taken.
    pub(crate) step: usize,
    /// Set when training diverged: nothing more to do.
    pub(crate) diverged: bool,
    /// The random streams.
    pub(crate) streams: Streams,
    /// The sample order: shuffled in place every epoch, so it is state too.
    pub(crate) order: Vec<usize>,
    /// The best epoch so far and its validation accuracy.
    pub(crate) best: Option<(usize, f64)>,
    /// The epochs completed, with the best epoch and whether training stopped early.
    pub(crate) history: History,
}

/// A run's random streams: the shuffling stream of the seed, and three forked from a copy
/// of it, so that turning one option on or off leaves the others' draws as they were.
#[derive(Clone, Debug)]
pub(crate) struct Streams {
    pub(crate) shuffle: Rng,
    pub(crate) shifts: Rng,
    pub(crate) dropout: Rng,
    pub(crate) warps: Rng,
    pub(crate) elastic: Rng,
}

impl Streams {
    pub(crate) fn new(seed: u64) -> Self {
        let shuffle = Rng::new(seed);
        let mut streams = shuffle.clone();
        let shifts = streams.fork();
        let dropout = streams.fork();
        let warps = streams.fork();
        let elastic = streams.fork();
        Streams {
            shuffle,
            shifts,
            dropout,
            warps,
            elastic,
        }
    }
}

/// The part of a [`Progress`] that does not fit the run it would continue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ProgressPart {
    EpochsDone,
    Order,
    Best,
    History,
}

/// Why a [`Progress`] cannot continue a run: the part at fault, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct BadProgress {
    pub(crate) part: ProgressPart,
    pub(crate) reason: String,
}

/// What a batch needs and the next batch reuses; not part of the state.
#[derive(Clone, Debug)]
struct Buffers<T: Float> {
    /// Filled on the first epoch of this process (a resumed run fills it again).
    ready: bool,
    labels: Vec<usize>,
    batch_x: Matrix<T>,
    /// The batch's nonzeros, when the first layer reads it that way (`sparse_input`).
    batch_sparse: SparseRows<T>,
    /// Set in `prepare`: the inputs are mostly zeros and the first layer can read their
    /// nonzeros, so it does (see [`crate::blocks::matmul::sparse`]).
    sparse_input: bool,
    batch_y: Vec<usize>,
    shift_scratch: Vec<T>,
    warp_scratch: WarpScratch<T>,
    masks: Vec<Matrix<T>>,
    ws: Workspace<T>,
    grads: Gradients<T>,
}

impl<T: Float> Training<T> {
    /// A run of `config` over `samples` training samples for `network`, before its first
    /// epoch.
    ///
    /// # Panics
    /// If [`config.validate()`](TrainConfig::validate) fails.
    pub fn new(network: &Network<T>, config: &TrainConfig, samples: usize) -> Self {
        if let Err(e) = config.validate() {
            panic!("Network::fit: bad TrainConfig: {e}");
        }
        let history = History::default();
        Training {
            config: config.clone(),
            samples,
            progress: Progress {
                epochs_done: 0,
                step: 0,
                diverged: false,
                streams: Streams::new(config.seed),
                order: (0..samples).collect(),
                best: None,
                history,
            },
            optimiser: Stepper::new(config.optimiser, config.weight_decay, network),
            best_layers: Vec::new(),
            buffers: Buffers {
                ready: false,
                labels: Vec::new(),
                batch_x: Matrix::zeros(0, 0),
                batch_sparse: SparseRows::new(),
                sparse_input: false,
                batch_y: Vec::new(),
                shift_scratch: Vec::new(),
                warp_scratch: WarpScratch::default(),
                masks: Vec::new(),
                ws: Workspace::new(),
                grads: Gradients::zeros_like(network),
            },
        }
    }

    /// A run of `config` over `samples` samples continuing from `progress`, as a checkpoint
    /// recorded it, if the progress fits the settings: epochs done within the run, an order
    /// that is a permutation of the samples, a best epoch among those done, a history of
    /// every epoch done. The optimiser's memory starts at zero and the best epoch's layers
    /// as `network`'s, for the caller to fill in through [`state_mut`](Self::state_mut).
    ///
    /// # Panics
    /// If [`config.validate()`](TrainConfig::validate) fails: check that first.
    pub(crate) fn resume(
        network: &Network<T>,
        config: &TrainConfig,
        samples: usize,
        progress: Progress,
    ) -> Result<Self, BadProgress> {
        let bad = |part, reason: String| Err(BadProgress { part, reason });
        let done = progress.epochs_done;
        if done > config.epochs {
            let epochs = config.epochs;
            return bad(
                ProgressPart::EpochsDone,
                format!("{done} epochs done of a run of {epochs}"),
            );
        }
        let mut seen = vec![false; samples];
        let permutation = progress.order.len() == samples
            && progress
                .order
                .iter()
                .all(|&i| i < samples && !std::mem::replace(&mut seen[i], true));
        if !permutation {
            return bad(
                ProgressPart::Order,
                "the sample order is not a permutation of the samples".to_string(),
            );
        }
        if let Some((epoch, _)) = progress.best
            && !(1..=done).contains(&epoch)
        {
            return bad(
                ProgressPart::Best,
                format!("best epoch {epoch} of {done} done"),
            );
        }
        let recorded = progress.history.epochs.len();
        if recorded != done || progress.history.best_epoch != progress.best.map(|(e, _)| e) {
            return bad(
                ProgressPart::History,
                format!("a history of {recorded} epochs for {done} epochs done"),
            );
        }
        let mut run = Training::new(network, config, samples);
        if config.keep_best && progress.best.is_some() {
            run.best_layers = network.layers().to_vec();
        }
        run.progress = progress;
        Ok(run)
    }

    /// Where the run is, for a checkpoint to write.
    pub(crate) fn progress(&self) -> &Progress {
        &self.progress
    }

    /// The optimiser, for a checkpoint to write its memory.
    pub(crate) fn optimiser(&self) -> &Stepper<T> {
        &self.optimiser
    }

    /// The best epoch's layers, when [`TrainConfig::keep_best`] keeps them and there is a
    /// best epoch.
    pub(crate) fn best_layers(&self) -> Option<&[Layer<T>]> {
        (!self.best_layers.is_empty()).then_some(&self.best_layers[..])
    }

    /// The optimiser and the best epoch's layers, for a checkpoint to read into after
    /// [`resume`](Self::resume).
    pub(crate) fn state_mut(&mut self) -> (&mut Stepper<T>, Option<&mut [Layer<T>]>) {
        let best = (!self.best_layers.is_empty()).then_some(&mut self.best_layers[..]);
        (&mut self.optimiser, best)
    }

    /// The settings of the run.
    pub fn config(&self) -> &TrainConfig {
        &self.config
    }

    /// The epochs completed so far.
    pub fn history(&self) -> &History {
        &self.progress.history
    }

    /// Epochs completed so far.
    pub fn epochs_done(&self) -> usize {
        self.progress.epochs_done
    }

    /// The number of training samples the run was made for.
    pub fn samples(&self) -> usize {
        self.samples
    }

    /// True once every epoch has run, early stopping has ended the run, or it diverged.
    pub fn is_finished(&self) -> bool {
        self.progress.epochs_done >= self.config.epochs
            || self.progress.history.stopped_early
            || self.progress.diverged
            || self.samples == 0
    }

    /// Ends the run: with [`TrainConfig::keep_best`], puts the best epoch's parameters into
    /// `network`; returns the history.
    pub fn finish(self, network: &mut Network<T>) -> History {
        if self.config.keep_best && self.progress.best.is_some() {
            network.layers_mut().clone_from_slice(&self.best_layers);
        }
        self.progress.history
    }

    /// Checks the data once per process, and fills what the batches reuse.
    fn prepare(
        &mut self,
        network: &Network<T>,
        train: &(impl Samples<T> + ?Sized),
        validation: Option<&dyn Samples<T>>,
    ) {
        if self.buffers.ready {
            return;
        }
        if let Err(e) = self.config.validate_for(train, validation) {
            panic!("Network::fit: bad TrainConfig: {e}");
        }
        if let Err(e) = self.config.check_batches(network, train.len()) {
            panic!("Network::fit: bad TrainConfig: {e}");
        }
        network.check_samples(train);
        if let Some(v) = validation {
            network.check_samples(v);
        }
        assert_eq!(
            train.len(),
            self.samples,
            "Training::next_epoch: the run was made for {} training samples, not {}",
            self.samples,
            train.len()
        );
        self.buffers.labels = (0..self.samples).map(|i| train.label(i)).collect();
        let fixed = self.fixed();
        let b = &mut self.buffers;
        b.sparse_input =
            network.layers()[0].reads_sparse() && sparse_pays(train, fixed, &mut b.batch_x);
        // Full-batch descent without augmentation reads the same samples every epoch:
        // convert them once (to their nonzeros, or to floats), or read a matrix in place.
        if fixed {
            match (b.sparse_input, train.as_matrix()) {
                (true, Some(x)) => b.batch_sparse.fill(x.view()),
                (true, None) => {
                    train.gather(&self.progress.order, &mut b.batch_x);
                    b.batch_sparse.fill(b.batch_x.view());
                    b.batch_x = Matrix::zeros(0, 0);
                }
                (false, Some(_)) => {}
                (false, None) => train.gather(&self.progress.order, &mut b.batch_x),
            }
        }
        b.ready = true;
    }

    /// Full batches without augmentation: the same samples, in the same order, every step.
    fn fixed(&self) -> bool {
        self.config.batch == Batch::Full && !self.config.distorts()
    }

    // ANCHOR: epoch_loop
    /// Trains one epoch, measures the validation set if there is one, and returns the
    /// epoch's statistics; `None` if the run [is finished](Self::is_finished). `on_event`
    /// hears of every gradient step and of the epoch's end.
    ///
    /// # Errors
    /// [`Diverged`] if the loss or a parameter stops being a finite number; the run is then
    /// finished.
    ///
    /// # Panics
    /// As [`Network::fit_with`], and if `train` does not hold the number of samples the run
    /// was made for.
    pub fn next_epoch(
        &mut self,
        network: &mut Network<T>,
        train: &(impl Samples<T> + ?Sized),
        validation: Option<&dyn Samples<T>>,
        mut on_event: impl FnMut(TrainEvent<'_>),
    ) -> Result<Option<&EpochStats>, Diverged> {
        self.prepare(network, train, validation);
        if self.is_finished() {
            return Ok(None);
        }
        let epoch = self.progress.epochs_done + 1;
        let start = Instant::now();
        let n = self.samples;
        let steps = self.config.steps_per_epoch(n);
        let batch_size = match self.config.batch {
            Batch::Full => n,
            Batch::Size(size) => size,
        };
        let (mut loss_sum, mut correct, mut done) = (0.0, 0, 0);
        let mut learning_rate = self.config.learning_rate;
        if !self.fixed() {
            self.progress
                .streams
                .shuffle
                .shuffle(&mut self.progress.order);
        }
        for batch in 0..steps {
            let rows = batch * batch_size..((batch + 1) * batch_size).min(n);
            let (loss, right) = self.forward_backward(network, train, rows.clone());
            learning_rate = self.config.learning_rate_at(self.progress.step, steps);
            self.progress.step += 1;
            if !loss.is_finite() {
                return Err(self.diverged(epoch, learning_rate, NonFinite::Loss(loss)));
            }
            self.optimiser
                .step(network, &self.buffers.grads, learning_rate);
            network.track_batch(&self.buffers.ws);
            loss_sum += loss * rows.len() as f64;
            correct += right;
            done += rows.len();
            on_event(TrainEvent::Batch {
                epoch,
                done,
                total: n,
            });
        }
        let seconds = start.elapsed().as_secs_f64();
        if let Some(layer) = network.first_non_finite_layer() {
            return Err(self.diverged(epoch, learning_rate, NonFinite::Parameter { layer }));
        }
        let val = validation.map(|v| network.evaluate_samples(v));
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
        self.progress.epochs_done = epoch;
        self.track_best(network, &stats);
        self.progress.history.epochs.push(stats);
        Ok(self.progress.history.epochs.last())
    }
    // ANCHOR_END: epoch_loop

    /// Draws the samples at `rows` of the epoch's order into a batch, augments it as the
    /// config says, and runs the forward and backward pass into the gradient buffers:
    /// returns the batch's mean loss and how many it classified correctly.
    fn forward_backward(
        &mut self,
        network: &Network<T>,
        train: &(impl Samples<T> + ?Sized),
        rows: std::ops::Range<usize>,
    ) -> (f64, usize) {
        let fixed = self.fixed();
        let chunk = &self.progress.order[rows];
        let b = &mut self.buffers;
        let x = if fixed && b.sparse_input {
            &b.batch_x // unused: the nonzeros were kept instead
        } else if fixed {
            train.as_matrix().unwrap_or(&b.batch_x)
        } else {
            train.gather(chunk, &mut b.batch_x);
            let c = &self.config;
            let shape = train.image_shape().unwrap_or((0, 0));
            if c.warps() {
                let limits = Distortion {
                    shift: c.shift,
                    degrees: c.rotation,
                    scale: c.scale,
                    elastic: c.elastic,
                };
                let s = &mut self.progress.streams;
                let rngs = (&mut s.shifts, &mut s.warps, &mut s.elastic);
                random_warps_with(&mut b.batch_x, shape, limits, rngs, &mut b.warp_scratch);
            } else if c.shift > 0 {
                let (shift, rng) = (c.shift, &mut self.progress.streams.shifts);
                let (width, height) = shape;
                random_shifts_with(
                    &mut b.batch_x,
                    width,
                    height,
                    shift,
                    rng,
                    &mut b.shift_scratch,
                );
            }
            &b.batch_x
        };
        b.batch_y.clear();
        b.batch_y.extend(chunk.iter().map(|&i| b.labels[i]));
        let input = match (b.sparse_input, fixed) {
            (false, _) => Input::Dense(x.view()),
            (true, true) => Input::Sparse(&b.batch_sparse),
            (true, false) => {
                b.batch_sparse.fill(x.view());
                Input::Sparse(&b.batch_sparse)
            }
        };
        let dropout_masks = if self.config.dropout > 0.0 {
            let rate = self.config.dropout;
            let rows = chunk.len();
            draw_dropout_masks(
                network,
                rows,
                rate,
                &mut self.progress.streams.dropout,
                &mut b.masks,
            );
            Some(b.masks.as_slice())
        } else {
            None
        };
        let regularisation = Regularisation {
            label_smoothing: self.config.label_smoothing,
            dropout_masks,
        };
        network.backprop(input, &b.batch_y, &regularisation, &mut b.ws, &mut b.grads)
    }

    /// Remembers the best epoch so far (keeping its layers with `keep_best`), and stops
    /// the run when it is `patience` epochs ago.
    fn track_best(&mut self, network: &Network<T>, stats: &EpochStats) {
        if let Some(accuracy) = stats.val_accuracy
            && self.progress.best.is_none_or(|(_, best)| accuracy > best)
        {
            self.progress.best = Some((stats.epoch, accuracy));
            if self.config.keep_best {
                self.best_layers = network.layers().to_vec();
            }
        }
        self.progress.history.best_epoch = self.progress.best.map(|(e, _)| e);
        if let (Some(patience), Some((best_epoch, _))) = (self.config.patience, self.progress.best)
            && stats.epoch - best_epoch >= patience
            && stats.epoch < self.config.epochs
        {
            self.progress.history.stopped_early = true;
        }
    }

    /// Finishes the run as diverged and says where.
    fn diverged(&mut self, epoch: usize, learning_rate: f64, cause: NonFinite) -> Diverged {
        self.progress.diverged = true;
        Diverged {
            epoch,
            step: self.progress.step,
            learning_rate,
            cause,
            history: self.progress.history.clone(),
        }
    }
}

/// Whether a first dense layer should read `train`'s inputs as their nonzeros: for full
/// batches (`fixed`, converted once) whose first (up to) 1,000 samples are at most
/// [`sparse::WORTH_IT`] nonzero. `SIMPLENN_SPARSE=off` (or `on`) decides instead, to compare
/// the two. The decision depends on the data alone, never on the machine or the thread
/// count, so a run is reproducible.
fn sparse_pays<T: Float>(
    train: &(impl Samples<T> + ?Sized),
    fixed: bool,
    scratch: &mut Matrix<T>,
) -> bool {
    if let Some(on) = sparse::forced() {
        return on;
    }
    if !fixed {
        return false;
    }
    let probe: Vec<usize> = (0..train.len().min(1000)).collect();
    train.gather(&probe, scratch);
    let values = scratch.as_slice();
    let nonzero = values.iter().filter(|&&v| v != T::ZERO).count();
    let density = nonzero as f64 / values.len().max(1) as f64;
    density <= sparse::WORTH_IT
}

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

    /// Trains on any labelled [`Samples`], such as a [`Dataset`](crate::data::dataset::Dataset)
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
        let mut training = Training::new(self, config, train.len());
        while training
            .next_epoch(self, train, validation, &mut on_event)?
            .is_some()
        {}
        Ok(training.finish(self))
    }

    /// The first layer holding a parameter that is NaN or infinite, if any.
    pub(crate) fn first_non_finite_layer(&self) -> Option<usize> {
        self.layers().iter().position(|layer| {
            let weights = layer.weights().map_or(&[][..], Matrix::as_slice);
            let bias = layer.bias().unwrap_or_default();
            !weights.iter().chain(bias).all(|p| p.is_finite())
        })
    }
}
