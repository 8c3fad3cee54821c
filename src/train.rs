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
//! Weight decay, if set, is classic **L2 regularisation** (coupled): `λ·W` is added to the
//! weights' gradient before the momentum update, as in PyTorch's `SGD(weight_decay=λ)`. It
//! applies to weights, not biases.

use crate::float::Float;
use crate::matrix::Matrix;
use crate::network::{Gradients, LayerGradients, Network, Workspace};
use crate::rng::Rng;
use crate::samples::{MatrixSamples, Samples};
use std::time::Instant;

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
    /// Step size η.
    pub learning_rate: f64,
    /// Momentum μ in `[0, 1)`; 0 is plain gradient descent.
    pub momentum: f64,
    /// L2 weight decay λ ≥ 0 (coupled, weights only); 0 turns it off.
    pub weight_decay: f64,
    /// Seeds the shuffling of mini-batches. Same seed, same data, same network: same result.
    pub seed: u64,
}

impl Default for TrainConfig {
    /// 10 epochs of mini-batch SGD, batch 64, learning rate 0.1, momentum 0.9: a sound start
    /// for an MLP on MNIST-sized data.
    fn default() -> Self {
        TrainConfig {
            epochs: 10,
            batch: Batch::Size(64),
            learning_rate: 0.1,
            momentum: 0.9,
            weight_decay: 0.0,
            seed: 0,
        }
    }
}
// ANCHOR_END: config

impl TrainConfig {
    /// The original NumPy project's recipe: full-batch gradient descent, learning rate 0.1,
    /// 600 epochs, no momentum, no weight decay. Pair it with [`crate::preset::original`].
    pub fn original() -> Self {
        TrainConfig {
            epochs: 600,
            batch: Batch::Full,
            learning_rate: 0.1,
            momentum: 0.0,
            weight_decay: 0.0,
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
        Ok(())
    }
}

/// What one epoch of training did.
#[derive(Clone, Debug, PartialEq)]
pub struct EpochStats {
    /// Epoch number, from 1.
    pub epoch: usize,
    /// Mean training loss over the epoch's batches (each measured before its step).
    pub loss: f64,
    /// Fraction of training samples classified correctly, each counted in the batch where it
    /// was seen, before that batch's step: the running figure Keras also reports.
    pub train_accuracy: f64,
    /// Accuracy on the validation set after the epoch, when one was given.
    pub val_accuracy: Option<f64>,
    /// Mean loss on the validation set after the epoch, when one was given.
    pub val_loss: Option<f64>,
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

// ANCHOR: sgd
/// Stochastic gradient descent with optional momentum and L2 weight decay.
struct Sgd<T: Float> {
    learning_rate: T,
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
            learning_rate: T::from_f64(config.learning_rate),
            momentum: T::from_f64(config.momentum),
            weight_decay: T::from_f64(config.weight_decay),
            velocity,
        }
    }

    /// One step against `grads`, which it may modify (they are scratch space by now).
    fn step(&mut self, network: &mut Network<T>, grads: &mut Gradients<T>) {
        let lr = self.learning_rate;
        for (l, (layer, g)) in network
            .layers_mut()
            .iter_mut()
            .zip(&mut grads.layers)
            .enumerate()
        {
            if self.weight_decay > T::ZERO {
                g.weights.add_scaled(self.weight_decay, layer.weights()); // g ← g + λW
            }
            if let Some(v) = self.velocity.get_mut(l) {
                // v ← μv + g;  θ ← θ − ηv
                v.weights.scale(self.momentum);
                v.weights.add_scaled(T::ONE, &g.weights);
                for (vb, &gb) in v.bias.iter_mut().zip(&g.bias) {
                    *vb = self.momentum * *vb + gb;
                }
                layer.weights_mut().add_scaled(-lr, &v.weights);
                update(layer.bias_mut(), lr, &v.bias);
            } else {
                // θ ← θ − ηg
                layer.weights_mut().add_scaled(-lr, &g.weights);
                update(layer.bias_mut(), lr, &g.bias);
            }
        }
    }
}

fn update<T: Float>(params: &mut [T], lr: T, step: &[T]) {
    for (p, &s) in params.iter_mut().zip(step) {
        *p -= lr * s;
    }
}
// ANCHOR_END: sgd

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
    /// let history = net.fit(&x, &y, &config);
    /// assert_eq!(net.predict(&x), y);
    /// assert!(history.last().unwrap().loss < 0.05);
    /// ```
    ///
    /// # Panics
    /// If `x.cols() != self.inputs()`, `labels.len() != x.rows()`, a label is
    /// `>= self.classes()`, or [`config.validate()`](TrainConfig::validate) fails.
    pub fn fit(&mut self, x: &Matrix<T>, labels: &[usize], config: &TrainConfig) -> History {
        self.fit_with(&MatrixSamples::new(x, labels), None, config, |_| {})
    }

    /// Trains on any labelled [`Samples`], such as a [`Dataset`](crate::dataset::Dataset)
    /// of bytes (each mini-batch is converted to floats only when it is drawn), measuring a
    /// validation set after every epoch when one is given, and calling `on_event` after every
    /// gradient step and every epoch ([`TrainEvent`]), to show progress.
    ///
    /// # Panics
    /// If the samples do not fit the network (width, labels), or
    /// [`config.validate()`](TrainConfig::validate) fails.
    pub fn fit_with(
        &mut self,
        train: &(impl Samples<T> + ?Sized),
        validation: Option<&dyn Samples<T>>,
        config: &TrainConfig,
        mut on_event: impl FnMut(TrainEvent<'_>),
    ) -> History {
        if let Err(e) = config.validate() {
            panic!("Network::fit: bad TrainConfig: {e}");
        }
        self.check_samples(train);
        if let Some(v) = validation {
            self.check_samples(v);
        }
        let n = train.len();
        let mut history = History::default();
        if n == 0 {
            return history;
        }

        let mut rng = Rng::new(config.seed);
        let mut sgd = Sgd::new(self, config);
        let mut ws = Workspace::new();
        let mut grads = Gradients::zeros_like(self);
        let mut order: Vec<usize> = (0..n).collect();
        let labels: Vec<usize> = order.iter().map(|&i| train.label(i)).collect();
        let mut batch_x = Matrix::zeros(0, 0);
        let mut batch_y = Vec::new();
        // Full-batch descent reads the whole set every epoch: convert it once, or read a
        // matrix in place.
        if config.batch == Batch::Full && train.as_matrix().is_none() {
            train.gather(&order, &mut batch_x);
        }

        // ANCHOR: epoch_loop
        for epoch in 1..=config.epochs {
            let start = Instant::now();
            let (mut loss_sum, mut correct) = (0.0, 0);
            match config.batch {
                Batch::Full => {
                    let x = train.as_matrix().unwrap_or(&batch_x);
                    let (loss, right) = self.backprop(x.view(), &labels, &mut ws, &mut grads);
                    sgd.step(self, &mut grads);
                    loss_sum += loss * n as f64;
                    correct += right;
                    on_event(TrainEvent::Batch {
                        epoch,
                        done: n,
                        total: n,
                    });
                }
                Batch::Size(size) => {
                    rng.shuffle(&mut order);
                    let mut done = 0;
                    for chunk in order.chunks(size) {
                        train.gather(chunk, &mut batch_x);
                        batch_y.clear();
                        batch_y.extend(chunk.iter().map(|&i| labels[i]));
                        let (loss, right) =
                            self.backprop(batch_x.view(), &batch_y, &mut ws, &mut grads);
                        sgd.step(self, &mut grads);
                        loss_sum += loss * chunk.len() as f64;
                        correct += right;
                        done += chunk.len();
                        on_event(TrainEvent::Batch {
                            epoch,
                            done,
                            total: n,
                        });
                    }
                }
            }
            let seconds = start.elapsed().as_secs_f64();
            let val = validation.map(|v| self.evaluate_samples(v));
            let stats = EpochStats {
                epoch,
                loss: loss_sum / n as f64,
                train_accuracy: correct as f64 / n as f64,
                val_accuracy: val.map(|v| v.accuracy),
                val_loss: val.map(|v| v.loss),
                seconds,
            };
            on_event(TrainEvent::Epoch(&stats));
            history.epochs.push(stats);
        }
        // ANCHOR_END: epoch_loop
        history
    }
}
