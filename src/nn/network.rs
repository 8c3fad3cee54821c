//! [`Network`]: a stack of [layers](crate::nn::layer) ending in softmax, its forward pass and
//! backpropagation, which runs each layer's own backward pass in one reverse loop.
//!
//! A batch of `m` samples is the rows of `X`; layer `l` reads `aˡ⁻¹` (`a⁰ = X`) and gives
//! `aˡ`, the last one the logits, and the loss is the mean softmax cross-entropy of the
//! logits ([`crate::nn::loss`]). The book's chapters "The forward pass" and
//! "Backpropagation" derive both passes and name every symbol.

use crate::blocks::matrix::{Matrix, argmax};
use crate::data::samples::{Inputs, MatrixSamples, Samples};
use crate::float::Float;
use crate::nn::arch::{BadArchitecture, Problem};
use crate::nn::builder::NetworkBuilder;
use crate::nn::layer::{Input, Layer, LayerGradients, LayerKind, Mode, Scratch};
use crate::nn::loss::{
    cross_entropy_with_logits, softmax_cross_entropy_inplace,
    softmax_cross_entropy_smoothed_inplace, softmax_rows_inplace,
};
use crate::nn::shape::Shape;
use std::fmt;

/// Values evaluation may hold per chunk of samples (activations and scratch, 16 MB of `f32`);
/// [`Network::evaluate`] and friends run `EVAL_VALUES / (values per sample)` rows at a time,
/// at most [`EVAL_CHUNK`].
const EVAL_VALUES: usize = 1 << 22;

/// Rows evaluated at a time at most by [`Network::evaluate`] and friends.
const EVAL_CHUNK: usize = 1024;

/// The gradient of the loss with respect to every parameter of a [`Network`], layer by
/// layer, in the network's order.
#[derive(Clone, Debug, PartialEq)]
pub struct Gradients<T: Float = f32> {
    /// One entry per layer.
    pub layers: Vec<LayerGradients<T>>,
}

impl<T: Float> Gradients<T> {
    /// Zero gradients shaped like `network`'s parameters.
    pub fn zeros_like(network: &Network<T>) -> Self {
        Gradients {
            layers: network
                .layers
                .iter()
                .map(LayerGradients::zeros_like)
                .collect(),
        }
    }
}

/// Buffers for one batch's forward and backward pass, kept between batches so that
/// training does not allocate once the first batch has sized them.
#[derive(Clone, Debug)]
pub(crate) struct Workspace<T: Float = f32> {
    /// `activations[l]` is layer `l`'s output; during the backward pass that layer writes
    /// its `δ` over it, once the output is no longer needed.
    activations: Vec<Matrix<T>>,
    /// With dropout, `dropped[l]` is hidden layer `l`'s output times its mask: what the layer
    /// above reads. Unused without dropout.
    dropped: Vec<Matrix<T>>,
    /// The gradient on its way down: `∂L/∂aˡ` as layer `l`'s backward pass starts, and
    /// `∂L/∂aˡ⁻¹` when it ends.
    grad: Matrix<T>,
    /// What each layer keeps between its forward and backward pass.
    scratch: Vec<Scratch<T>>,
}

impl<T: Float> Workspace<T> {
    /// An empty workspace; it grows to fit the first batch it sees.
    pub(crate) fn new() -> Self {
        Workspace {
            activations: Vec::new(),
            dropped: Vec::new(),
            grad: Matrix::zeros(0, 0),
            scratch: Vec::new(),
        }
    }
}

/// What training may add to a forward and backward pass: label smoothing and dropout.
/// `Regularisation::default()` is the plain pass, which evaluation always uses.
///
/// Dropout is an optional step of the network's loops rather than a kind of layer because
/// it belongs to a training run, not to the trained network: as a layer it would be written
/// into model files, exported and shown in the architecture, only to do nothing outside
/// training.
#[derive(Clone, Copy, Debug)]
pub struct Regularisation<'a, T: Float = f32> {
    /// Label smoothing ε in `[0, 1]`: the loss is the cross-entropy against smoothed targets,
    /// see [`crate::nn::loss::softmax_cross_entropy_smoothed_inplace`]. 0 is the plain loss.
    pub label_smoothing: f64,
    /// Dropout: one mask per hidden layer, `batch rows × units`, multiplied element by
    /// element into that layer's output before the next layer reads it; the backward pass
    /// multiplies the gradient by the same mask. Inverted dropout draws each entry as 0
    /// (dropped) or `1/(1 − p)` (kept), see [`crate::train::draw_dropout_masks`]; any values
    /// are allowed. `None`: no dropout.
    pub dropout_masks: Option<&'a [Matrix<T>]>,
}

impl<T: Float> Default for Regularisation<'_, T> {
    /// No label smoothing, no dropout: the plain pass.
    fn default() -> Self {
        Regularisation {
            label_smoothing: 0.0,
            dropout_masks: None,
        }
    }
}

/// How well a network does on a labelled set: see [`Network::evaluate`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Evaluation {
    /// Mean cross-entropy loss.
    pub loss: f64,
    /// Fraction classified correctly, in `[0, 1]` (0 for an empty set).
    pub accuracy: f64,
    /// Number classified correctly.
    pub correct: usize,
    /// Number of samples.
    pub total: usize,
}

/// A feed-forward network: a stack of [`Layer`]s whose last one gives the logits of a
/// softmax, trained with cross-entropy loss.
///
/// ```
/// use simplenn::{Activation, Init, Matrix, Network};
///
/// let net: Network = Network::builder(784)
///     .hidden(128, Activation::Relu)
///     .output(10)
///     .init(Init::He)
///     .seed(7)
///     .build();
/// assert_eq!(net.to_string(), "784 → 128 relu → 10 softmax");
/// assert_eq!(net.parameter_count(), 784 * 128 + 128 + 128 * 10 + 10);
///
/// let x = Matrix::zeros(3, 784); // three black images
/// let p = net.predict_proba(&x);
/// assert_eq!(p.shape(), (3, 10));
/// assert!((p.row(0).iter().sum::<f32>() - 1.0).abs() < 1e-5);
/// ```
///
/// Its methods live with what they use: building, the passes and evaluation here (the
/// builder's steps in [`crate::nn::builder`]); [`fit`](Network::fit) and
/// [`fit_with`](Network::fit_with) with the training loop, in `src/train/fit.rs`;
/// [`save`](Network::save) and [`load`](Network::load) with the model files, in
/// `src/model/mod.rs`.
#[derive(Clone, PartialEq)]
pub struct Network<T: Float = f32> {
    layers: Vec<Layer<T>>,
}

impl<T: Float> Network<T> {
    /// Starts describing a network with `inputs` input features, read as a flat vector.
    pub fn builder(inputs: usize) -> NetworkBuilder<T> {
        NetworkBuilder::new(Shape::flat(inputs))
    }

    /// Starts describing a network whose samples have the given shape: images for a
    /// convolutional network, `Shape::image(28, 28, 1)` for MNIST.
    pub fn builder_for(input: Shape) -> NetworkBuilder<T> {
        NetworkBuilder::new(input)
    }

    /// A network made of the given layers; the last one produces the logits.
    ///
    /// # Panics
    /// If there are no layers, or one layer's output does not fit the next one's input
    /// ([`try_from_layers`](Self::try_from_layers) says so as an error).
    pub fn from_layers<L: Into<Layer<T>>>(layers: Vec<L>) -> Self {
        let layers = layers.into_iter().map(Into::into).collect();
        Self::try_from_layers(layers).unwrap_or_else(|e| panic!("Network::from_layers: {e}"))
    }

    /// [`from_layers`](Self::from_layers), with an error naming the layer and both shapes
    /// when the layers do not chain.
    pub fn try_from_layers(layers: Vec<Layer<T>>) -> Result<Self, BadArchitecture> {
        if layers.is_empty() {
            let message = "a network needs at least one layer".to_string();
            return Err(BadArchitecture::new(0, None, Problem::Empty(message)));
        }
        for (l, pair) in layers.windows(2).enumerate() {
            let (below, above) = (&pair[0], &pair[1]);
            if !above.accepts(below.output_shape()) {
                let problem = Problem::Chain {
                    below: format!("{below:?}"),
                    gives: below.output_shape(),
                    above: format!("{above:?}"),
                    takes: above.input_shape(),
                };
                return Err(BadArchitecture::new(l + 1, None, problem));
            }
        }
        Ok(Network { layers })
    }

    /// The layers, input side first.
    pub fn layers(&self) -> &[Layer<T>] {
        &self.layers
    }

    /// The layers, mutable: their parameters, not their shapes, which the network has
    /// checked fit together.
    pub fn layers_mut(&mut self) -> &mut [Layer<T>] {
        &mut self.layers
    }

    /// The shape of one input sample.
    pub fn input_shape(&self) -> Shape {
        self.layers[0].input_shape()
    }

    /// Number of input features: the volume of [`input_shape`](Self::input_shape).
    pub fn inputs(&self) -> usize {
        self.input_shape().volume()
    }

    /// Number of classes (the volume of the last layer's output).
    pub fn classes(&self) -> usize {
        self.layers[self.layers.len() - 1].output_shape().volume()
    }

    /// Number of trainable parameters (weights and biases).
    pub fn parameter_count(&self) -> usize {
        self.layers.iter().map(LayerKind::parameter_count).sum()
    }

    // ANCHOR: forward
    /// Runs a batch through every layer, leaving layer `l`'s output in `activations[l]`.
    /// With dropout masks (training only), hidden layer `l`'s output times `masks[l]` goes
    /// to `dropped[l]`, and that is what the layer above reads.
    fn forward_trace(
        &self,
        x: Input<'_, T>,
        mode: Mode,
        masks: Option<&[Matrix<T>]>,
        ws: &mut Workspace<T>,
    ) {
        self.check_input(x.cols());
        let n = self.layers.len();
        ws.activations.resize_with(n, || Matrix::zeros(0, 0));
        ws.scratch.resize_with(n, Scratch::new);
        if masks.is_some() {
            ws.dropped.resize_with(n - 1, || Matrix::zeros(0, 0));
        }
        for (l, layer) in self.layers.iter().enumerate() {
            let (below, rest) = ws.activations.split_at_mut(l);
            let input = layer_input(x, l, below, &ws.dropped, masks.is_some());
            layer.forward_into(input, &mut rest[0], &mut ws.scratch[l], mode);
            if let Some(masks) = masks.filter(|_| l + 1 < n) {
                drop_units(&rest[0], &masks[l], &mut ws.dropped[l]);
            }
        }
    }
    // ANCHOR_END: forward

    /// The logits (the last layer's outputs, before softmax) for a batch, one row per sample.
    ///
    /// # Panics
    /// If `x.cols() != self.inputs()`.
    pub fn forward(&self, x: &Matrix<T>) -> Matrix<T> {
        self.forward_all(x)
            .pop()
            .expect("a network has at least one layer")
    }

    /// Every layer's output for a batch, input side first; the last is the logits. What a
    /// picture of a convolution's feature maps draws.
    ///
    /// # Panics
    /// If `x.cols() != self.inputs()`.
    pub fn forward_all(&self, x: &Matrix<T>) -> Vec<Matrix<T>> {
        let mut ws = Workspace::new();
        self.forward_trace(x.view().into(), Mode::Evaluate, None, &mut ws);
        ws.activations
    }

    /// Class probabilities, one row per sample (each row sums to 1).
    ///
    /// # Panics
    /// If `x.cols() != self.inputs()`.
    pub fn predict_proba(&self, x: &Matrix<T>) -> Matrix<T> {
        let mut p = self.forward(x);
        softmax_rows_inplace(&mut p);
        p
    }

    /// The most probable class of each sample.
    ///
    /// # Panics
    /// If `x.cols() != self.inputs()`.
    pub fn predict(&self, x: &Matrix<T>) -> Vec<usize> {
        self.predict_samples(x)
    }

    /// The most probable class of each sample of any [`Inputs`], such as a
    /// [`Dataset`](crate::data::dataset::Dataset) of bytes, converted a chunk at a time.
    ///
    /// # Panics
    /// If the inputs have a number of features other than `self.inputs()`.
    pub fn predict_samples(&self, data: &(impl Inputs<T> + ?Sized)) -> Vec<usize> {
        let mut predictions = Vec::with_capacity(data.len());
        self.for_each_chunk(data, |_, logits| {
            predictions.extend(logits.row_iter().map(argmax))
        });
        predictions
    }

    /// Mean loss and accuracy on a labelled set.
    ///
    /// # Panics
    /// If `x.cols() != self.inputs()`, `labels.len() != x.rows()` or a label is
    /// `>= self.classes()`.
    pub fn evaluate(&self, x: &Matrix<T>, labels: &[usize]) -> Evaluation {
        self.evaluate_samples(&MatrixSamples::new(x, labels))
    }

    /// Mean loss and accuracy on any labelled [`Samples`], such as a
    /// [`Dataset`](crate::data::dataset::Dataset) of bytes, converted a chunk at a time.
    ///
    /// # Panics
    /// If the samples' width is not `self.inputs()` or a label is `>= self.classes()`.
    pub fn evaluate_samples(&self, data: &(impl Samples<T> + ?Sized)) -> Evaluation {
        self.check_samples(data);
        let (mut total_loss, mut correct) = (0.0, 0);
        let mut labels = Vec::with_capacity(EVAL_CHUNK);
        self.for_each_chunk(data, |start, logits| {
            labels.clear();
            labels.extend((start..start + logits.rows()).map(|i| data.label(i)));
            correct += count_correct(logits, &labels);
            total_loss += cross_entropy_with_logits(logits, &labels) * labels.len() as f64;
        });
        let total = data.len();
        let (loss, accuracy) = if total == 0 {
            (0.0, 0.0)
        } else {
            (total_loss / total as f64, correct as f64 / total as f64)
        };
        Evaluation {
            loss,
            accuracy,
            correct,
            total,
        }
    }

    /// The mean cross-entropy loss on a labelled batch.
    ///
    /// # Panics
    /// As [`evaluate`](Self::evaluate).
    pub fn loss(&self, x: &Matrix<T>, labels: &[usize]) -> f64 {
        self.evaluate(x, labels).loss
    }

    /// The loss on a batch and its gradient with respect to every parameter, by
    /// backpropagation. Gradient checks compare this against finite differences.
    ///
    /// # Panics
    /// As [`evaluate`](Self::evaluate).
    pub fn loss_and_gradients(&self, x: &Matrix<T>, labels: &[usize]) -> (f64, Gradients<T>) {
        self.loss_and_gradients_with(x, labels, &Regularisation::default())
    }

    /// Like [`loss_and_gradients`](Self::loss_and_gradients), for the loss training
    /// minimises when it regularises, as [`Regularisation`] says: with label smoothing, and
    /// through given dropout masks. Gradient checks fix the masks to compare it with finite
    /// differences.
    ///
    /// # Panics
    /// As [`evaluate`](Self::evaluate), if the label smoothing is not in `[0, 1]`, or if
    /// there is not one dropout mask per hidden layer, shaped `x.rows() × units`.
    pub fn loss_and_gradients_with(
        &self,
        x: &Matrix<T>,
        labels: &[usize],
        regularisation: &Regularisation<'_, T>,
    ) -> (f64, Gradients<T>) {
        self.check_labels(x, labels);
        if let Some(masks) = regularisation.dropout_masks {
            self.check_masks(masks, x.rows());
        }
        let mut grads = Gradients::zeros_like(self);
        let mut ws = Workspace::new();
        let x = x.view().into();
        let (loss, _) = self.backprop(x, labels, regularisation, &mut ws, &mut grads);
        (loss, grads)
    }

    /// Panics unless there is one mask per hidden layer, shaped `rows × units`.
    fn check_masks(&self, masks: &[Matrix<T>], rows: usize) {
        let hidden = &self.layers[..self.layers.len() - 1];
        assert_eq!(
            masks.len(),
            hidden.len(),
            "{} dropout masks for a network with {} hidden layers: need one per hidden layer",
            masks.len(),
            hidden.len()
        );
        for (l, (mask, layer)) in masks.iter().zip(hidden).enumerate() {
            assert_eq!(
                mask.shape(),
                (rows, layer.output_shape().volume()),
                "dropout mask {l} is {}×{} but hidden layer {l} gives {rows}×{} for this batch",
                mask.rows(),
                mask.cols(),
                layer.output_shape().volume()
            );
        }
    }

    // ANCHOR: backprop
    /// Forward and backward pass on one batch: fills `grads` with `∂L/∂W` and `∂L/∂b` for
    /// every layer and returns `(loss, number classified correctly)`.
    ///
    /// The labels must already have been checked against `x` and the number of classes.
    pub(crate) fn backprop(
        &self,
        x: Input<'_, T>,
        labels: &[usize],
        regularisation: &Regularisation<'_, T>,
        ws: &mut Workspace<T>,
        grads: &mut Gradients<T>,
    ) -> (f64, usize) {
        let masks = regularisation.dropout_masks;
        self.forward_trace(x, Mode::Train, masks, ws);
        let Workspace {
            activations,
            dropped,
            grad,
            scratch,
        } = ws;
        let last = self.layers.len() - 1;
        let correct = count_correct(&activations[last], labels);
        // ∂L/∂aᴸ = (softmax(aᴸ) − Y) / m, with Y's rows smoothed if label smoothing is on.
        let smoothing = regularisation.label_smoothing;
        let loss = loss_gradient(&activations[last], labels, smoothing, grad);

        for (l, layer) in self.layers.iter().enumerate().rev() {
            if let Some(masks) = masks.filter(|_| l < last) {
                drop_gradient(grad, &masks[l]); // through dropout, back to ∂L/∂aˡ
            }
            let (below, from_l) = activations.split_at_mut(l);
            let input = layer_input(x, l, below, dropped, masks.is_some());
            // The layer's own backward pass: from ∂L/∂aˡ in `grad`, its parameters'
            // gradient, and ∂L/∂aˡ⁻¹ back into `grad` when there is a layer below.
            let (output, scratch, grads) = (&mut from_l[0], &mut scratch[l], &mut grads.layers[l]);
            layer.backward_into(input, output, grad, scratch, grads, l > 0);
        }
        (loss, correct)
    }
    // ANCHOR_END: backprop

    /// After a training step on the batch whose passes `ws` holds: each layer learns what
    /// it does not learn by gradient (batch normalisation's running statistics).
    pub(crate) fn track_batch(&mut self, ws: &Workspace<T>) {
        for (layer, scratch) in self.layers.iter_mut().zip(&ws.scratch) {
            layer.track_batch(scratch);
        }
    }

    /// The fewest samples a training batch of this network may have (two with batch
    /// normalisation after a dense layer, one otherwise).
    pub fn min_training_batch(&self) -> usize {
        self.layers
            .iter()
            .map(LayerKind::min_training_batch)
            .max()
            .unwrap_or(1)
    }

    /// Rows evaluated at a time: up to [`EVAL_CHUNK`], fewer when the layers' outputs are
    /// so large that a chunk would need more than [`EVAL_VALUES`] values.
    fn eval_chunk(&self) -> usize {
        let per_sample: usize = self
            .layers
            .iter()
            .map(|l| l.output_shape().volume() + l.scratch_per_sample())
            .sum();
        (EVAL_VALUES / per_sample.max(1)).clamp(1, EVAL_CHUNK)
    }

    /// Runs `data` through the network a chunk of rows at a time, handing each chunk's
    /// first row index and logits to `f`. A matrix is read in place; other inputs are
    /// converted one chunk at a time, so memory stays bounded however large the set.
    fn for_each_chunk(
        &self,
        data: &(impl Inputs<T> + ?Sized),
        mut f: impl FnMut(usize, &Matrix<T>),
    ) {
        self.check_input(data.features());
        let mut ws = Workspace::new();
        let mut buffer = Matrix::zeros(0, 0);
        let chunk_rows = self.eval_chunk();
        let mut indices = Vec::with_capacity(chunk_rows);
        let n = data.len();
        for start in (0..n).step_by(chunk_rows) {
            let end = (start + chunk_rows).min(n);
            let chunk = match data.as_matrix() {
                Some(x) => x.view_rows(start, end),
                None => {
                    indices.clear();
                    indices.extend(start..end);
                    data.gather(&indices, &mut buffer);
                    buffer.view()
                }
            };
            self.forward_trace(chunk.into(), Mode::Evaluate, None, &mut ws);
            f(start, &ws.activations[self.layers.len() - 1]);
        }
    }

    fn check_input(&self, cols: usize) {
        let (first, shape, takes) = (&self.layers[0], self.input_shape(), self.inputs());
        if cols != takes {
            let takes = match shape.is_flat() {
                true => takes.to_string(),
                false => format!("{shape} = {takes}"),
            };
            panic!(
                "the input has {cols} features per sample but the network's first layer \
                 ({first:?}) takes {takes}"
            );
        }
    }

    pub(crate) fn check_labels(&self, x: &Matrix<T>, labels: &[usize]) {
        self.check_samples(&MatrixSamples::new(x, labels));
    }

    /// Panics unless `data` fits the network: its width is the network's input size and
    /// every label names one of the network's classes.
    pub(crate) fn check_samples(&self, data: &(impl Samples<T> + ?Sized)) {
        self.check_input(data.features());
        let classes = self.classes();
        if let Some((i, y)) = (0..data.len())
            .map(|i| (i, data.label(i)))
            .find(|&(_, y)| y >= classes)
        {
            panic!("label {y} of sample {i} is out of range for a network with {classes} classes");
        }
    }
}

// ANCHOR: layer_input
/// What layer `l` reads: the batch for the first layer; for the others the output of the
/// layer below, after dropout when there is any.
fn layer_input<'a, T: Float>(
    x: Input<'a, T>,
    l: usize,
    below: &'a [Matrix<T>],
    dropped: &'a [Matrix<T>],
    dropout: bool,
) -> Input<'a, T> {
    let read = |m: &'a Matrix<T>| -> Input<'a, T> { m.view().into() };
    match l {
        0 => x,
        _ if dropout => read(&dropped[l - 1]),
        _ => read(&below[l - 1]),
    }
}
// ANCHOR_END: layer_input

// ANCHOR: dropout
/// Dropout's step in the forward pass: the layer above reads `output ⊙ mask`, each entry 0
/// (dropped) or `1/(1 − p)` (kept), while `output` itself stays for the layer's backward
/// pass, which computes `σ′` from it.
fn drop_units<T: Float>(output: &Matrix<T>, mask: &Matrix<T>, dropped: &mut Matrix<T>) {
    dropped.reshape_for_overwrite(output.rows(), output.cols());
    let pairs = output.as_slice().iter().zip(mask.as_slice());
    for (d, (&a, &keep)) in dropped.as_mut_slice().iter_mut().zip(pairs) {
        *d = a * keep;
    }
}

/// Dropout's step in the backward pass: a dropped unit passes no gradient back, a kept one
/// passes it scaled as its output was.
fn drop_gradient<T: Float>(grad: &mut Matrix<T>, mask: &Matrix<T>) {
    for (g, &keep) in grad.as_mut_slice().iter_mut().zip(mask.as_slice()) {
        *g *= keep;
    }
}
// ANCHOR_END: dropout

/// Writes `∂L/∂aᴸ = (softmax(aᴸ) − Y)/m` into `grad` for the `logits` `aᴸ` (left as they
/// are: the last layer's backward pass reads them) and returns the mean loss.
fn loss_gradient<T: Float>(
    logits: &Matrix<T>,
    labels: &[usize],
    label_smoothing: f64,
    grad: &mut Matrix<T>,
) -> f64 {
    grad.reshape_for_overwrite(logits.rows(), logits.cols());
    grad.as_mut_slice().copy_from_slice(logits.as_slice());
    if label_smoothing != 0.0 {
        softmax_cross_entropy_smoothed_inplace(grad, labels, label_smoothing)
    } else {
        softmax_cross_entropy_inplace(grad, labels)
    }
}

/// How many rows of `logits` have their largest score at the label's index.
fn count_correct<T: Float>(logits: &Matrix<T>, labels: &[usize]) -> usize {
    logits
        .row_iter()
        .zip(labels)
        .filter(|&(row, &y)| argmax(row) == y)
        .count()
}

/// `784 → 128 relu → 10 softmax`, or for a convolutional network
/// `1×28×28 → conv5×5 16×28×28 relu → maxpool2×2 16×14×14 → … → 10 softmax`: the input
/// shape, then each layer's summary, the last layer's identity named for the softmax that
/// follows it.
impl<T: Float> fmt::Display for Network<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.input_shape())?;
        for (l, layer) in self.layers.iter().enumerate() {
            write!(f, " → {}", layer.summary(l + 1 == self.layers.len()))?;
        }
        Ok(())
    }
}

/// `Network<f32>[Dense(784→128, relu), Dense(128→10, identity)]`: the architecture, not the
/// thousands of numbers.
impl<T: Float> fmt::Debug for Network<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Network<{}>[", T::NAME)?;
        for (l, layer) in self.layers.iter().enumerate() {
            if l > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{layer:?}")?;
        }
        f.write_str("]")
    }
}
