//! [`Network`]: a stack of [layers](crate::layer) ending in softmax, its forward pass and
//! backpropagation.
//!
//! Shapes, with a batch of `m` samples as the rows of `X` and layer `l` mapping `nₗ₋₁`
//! inputs to `nₗ` outputs (for a dense layer; a convolution's `nₗ` is its output volume
//! `OH·OW·OC`, see [`crate::layer::conv2d`]):
//!
//! | symbol | meaning | shape |
//! | --- | --- | --- |
//! | `a⁰ = X` | the inputs | m × n₀ |
//! | `Wˡ`, `bˡ` | layer `l`'s weights and bias | nₗ₋₁ × nₗ, nₗ |
//! | `zˡ = aˡ⁻¹·Wˡ + bˡ` | pre-activations | m × nₗ |
//! | `aˡ = σ(zˡ)` | activations; the last layer's `σ` is the identity, its `aᴸ` the logits | m × nₗ |
//! | `δˡ = ∂L/∂zˡ` | the error signal backpropagation carries | m × nₗ |
//!
//! The loss `L` is the mean softmax cross-entropy of the logits, see [`crate::loss`].

use crate::activation::Activation;
use crate::float::Float;
use crate::init::Init;
use crate::layer::{Conv2d, Layer, MaxPool2d, Padding, Scratch};
use crate::loss::{softmax_cross_entropy_inplace, softmax_cross_entropy_smoothed_inplace};
use crate::matmul::sparse::SparseRows;
use crate::matmul::{View, run_all, workers_for};
use crate::matrix::{Matrix, argmax};
use crate::rng::Rng;
use crate::samples::{Inputs, MatrixSamples, Samples};
use crate::shape::Shape;
use std::fmt;

pub use crate::layer::Dense;

/// Values evaluation may hold per chunk of samples (activations and scratch, 16 MB of `f32`);
/// [`Network::evaluate`] and friends run `EVAL_VALUES / (values per sample)` rows at a time,
/// at most [`EVAL_CHUNK`].
const EVAL_VALUES: usize = 1 << 22;

/// Rows evaluated at a time at most by [`Network::evaluate`] and friends.
const EVAL_CHUNK: usize = 1024;

/// The gradient of the loss with respect to one layer's parameters (empty for a layer
/// without parameters, such as pooling).
#[derive(Clone, Debug, PartialEq)]
pub struct LayerGradients<T: Float = f32> {
    /// `∂L/∂W`, the same shape as the weights.
    pub weights: Matrix<T>,
    /// `∂L/∂b`, one per output.
    pub bias: Vec<T>,
}

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
                .map(|l| {
                    let (rows, cols) = l.weights().map_or((0, 0), Matrix::shape);
                    LayerGradients {
                        weights: Matrix::zeros(rows, cols),
                        bias: vec![T::ZERO; l.bias().map_or(0, <[T]>::len)],
                    }
                })
                .collect(),
        }
    }
}

/// Buffers for one batch's forward and backward pass, kept between batches so that
/// training does not allocate once the first batch has sized them.
#[derive(Clone, Debug)]
pub(crate) struct Workspace<T: Float = f32> {
    /// `activations[l]` is layer `l`'s output; during the backward pass it is overwritten by
    /// that layer's `δ`, once the output is no longer needed.
    activations: Vec<Matrix<T>>,
    /// With dropout, `dropped[l]` is hidden layer `l`'s output times its mask: what the layer
    /// above reads. Unused without dropout.
    dropped: Vec<Matrix<T>>,
    /// `∂L/∂aˡ⁻¹`, the error on its way to the layer below (`δˡ·Wˡᵀ` for a dense layer).
    back: Matrix<T>,
    /// What each layer keeps between its forward and backward pass (a convolution's
    /// windows, pooling's arg-maxes).
    scratch: Vec<Scratch<T>>,
}

impl<T: Float> Workspace<T> {
    /// An empty workspace; it grows to fit the first batch it sees.
    pub(crate) fn new() -> Self {
        Workspace {
            activations: Vec::new(),
            dropped: Vec::new(),
            back: Matrix::zeros(0, 0),
            scratch: Vec::new(),
        }
    }
}

/// A batch as the first layer reads it: a dense view, or the same numbers with the zeros
/// left out, which a first [`Dense`] layer multiplies faster when most of them are zero
/// (see [`crate::matmul::sparse`]; training decides, evaluation always reads dense).
#[derive(Clone, Copy)]
pub(crate) enum Input<'a, T> {
    Dense(View<'a, T>),
    Sparse(&'a SparseRows<T>),
}

impl<T: Float> Input<'_, T> {
    fn cols(&self) -> usize {
        match self {
            Input::Dense(x) => x.cols(),
            Input::Sparse(x) => x.cols(),
        }
    }
}

impl<'a, T> From<View<'a, T>> for Input<'a, T> {
    fn from(x: View<'a, T>) -> Self {
        Input::Dense(x)
    }
}

/// What training may add to a forward and backward pass: label smoothing and dropout.
/// `Regularisation::default()` is the plain pass, which evaluation always uses.
#[derive(Clone, Copy, Debug)]
pub struct Regularisation<'a, T: Float = f32> {
    /// Label smoothing ε in `[0, 1]`: the loss is the cross-entropy against smoothed targets,
    /// see [`crate::loss::softmax_cross_entropy_smoothed_inplace`]. 0 is the plain loss.
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

/// A feed-forward network of dense layers with a softmax output, trained with
/// cross-entropy loss.
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
#[derive(Clone, PartialEq)]
pub struct Network<T: Float = f32> {
    pub(crate) layers: Vec<Layer<T>>,
}

/// Why a stack of layers is not a network: the layer (counted from 0) and what does not fit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadArchitecture {
    /// The layer the problem is at, counted from 0 on the input side.
    pub layer: usize,
    /// What is wrong, naming the shapes involved.
    pub message: String,
}

impl fmt::Display for BadArchitecture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "layer {}: {}", self.layer, self.message)
    }
}

impl std::error::Error for BadArchitecture {}

impl<T: Float> Network<T> {
    /// Starts describing a network with `inputs` input features, read as a flat vector.
    pub fn builder(inputs: usize) -> NetworkBuilder<T> {
        Self::builder_for(Shape::flat(inputs))
    }

    /// Starts describing a network whose samples have the given shape: images for a
    /// convolutional network, `Shape::image(28, 28, 1)` for MNIST.
    pub fn builder_for(input: Shape) -> NetworkBuilder<T> {
        NetworkBuilder {
            input,
            layers: Vec::new(),
            outputs: None,
            init: None,
            seed: 0,
            _element: std::marker::PhantomData,
        }
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
            return Err(BadArchitecture {
                layer: 0,
                message: "a network needs at least one layer".to_string(),
            });
        }
        for (l, pair) in layers.windows(2).enumerate() {
            let (below, above) = (&pair[0], &pair[1]);
            if !above.accepts(below.output_shape()) {
                let message = match (below, above) {
                    (Layer::Dense(b), Layer::Dense(a)) => format!(
                        "layer {l} has {} outputs (weights {}×{}) but layer {} takes {} inputs \
                         (weights {}×{})",
                        b.outputs(),
                        b.inputs(),
                        b.outputs(),
                        l + 1,
                        a.inputs(),
                        a.inputs(),
                        a.outputs()
                    ),
                    _ => format!(
                        "layer {l} ({below:?}) gives {} but layer {} ({above:?}) takes {}",
                        below.output_shape(),
                        l + 1,
                        above.input_shape()
                    ),
                };
                return Err(BadArchitecture {
                    layer: l + 1,
                    message,
                });
            }
        }
        Ok(Network { layers })
    }

    /// The layers, input side first.
    pub fn layers(&self) -> &[Layer<T>] {
        &self.layers
    }

    /// The layers, mutable.
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
        self.layers.iter().map(Layer::parameter_count).sum()
    }

    // ANCHOR: forward
    /// Runs a batch through every layer, leaving layer `l`'s output in `activations[l]`.
    fn forward_trace<'a>(
        &self,
        x: impl Into<Input<'a, T>>,
        activations: &mut Vec<Matrix<T>>,
        scratch: &mut Vec<Scratch<T>>,
    ) where
        T: 'a,
    {
        let x = x.into();
        self.check_input(x.cols());
        activations.resize_with(self.layers.len(), || Matrix::zeros(0, 0));
        scratch.resize_with(self.layers.len(), Scratch::new);
        for (l, layer) in self.layers.iter().enumerate() {
            let (done, rest) = activations.split_at_mut(l);
            let input = if l == 0 { x } else { done[l - 1].view().into() };
            layer_forward(layer, input, &mut rest[0], &mut scratch[l]);
        }
    }
    // ANCHOR_END: forward

    // ANCHOR: forward_dropout
    /// [`forward_trace`](Self::forward_trace) with dropout: hidden layer `l`'s output stays
    /// in `activations[l]` (the backward pass needs it for `σ′`), and `dropped[l]` receives
    /// it times `masks[l]`, which is what the layer above reads.
    fn forward_trace_dropout(
        &self,
        x: Input<'_, T>,
        masks: &[Matrix<T>],
        activations: &mut Vec<Matrix<T>>,
        dropped: &mut Vec<Matrix<T>>,
        scratch: &mut Vec<Scratch<T>>,
    ) {
        self.check_input(x.cols());
        let hidden = self.layers.len() - 1;
        activations.resize_with(self.layers.len(), || Matrix::zeros(0, 0));
        dropped.resize_with(hidden, || Matrix::zeros(0, 0));
        scratch.resize_with(self.layers.len(), Scratch::new);
        for (l, layer) in self.layers.iter().enumerate() {
            let (done, rest) = dropped.split_at_mut(l);
            let input = if l == 0 { x } else { done[l - 1].view().into() };
            layer_forward(layer, input, &mut activations[l], &mut scratch[l]);
            if l < hidden {
                let out = &mut rest[0];
                out.clone_from(&activations[l]);
                for (a, &keep) in out.as_mut_slice().iter_mut().zip(masks[l].as_slice()) {
                    *a *= keep; // 0 if dropped, 1/(1 − p) if kept
                }
            }
        }
    }
    // ANCHOR_END: forward_dropout

    /// The logits (the last layer's outputs, before softmax) for a batch, one row per sample.
    ///
    /// # Panics
    /// If `x.cols() != self.inputs()`.
    pub fn forward(&self, x: &Matrix<T>) -> Matrix<T> {
        let mut activations = Vec::new();
        self.forward_trace(x.view(), &mut activations, &mut Vec::new());
        activations.pop().expect("a network has at least one layer")
    }

    /// Every layer's output for a batch, input side first; the last is the logits. What a
    /// picture of a convolution's feature maps draws.
    ///
    /// # Panics
    /// If `x.cols() != self.inputs()`.
    pub fn forward_all(&self, x: &Matrix<T>) -> Vec<Matrix<T>> {
        let mut activations = Vec::new();
        self.forward_trace(x.view(), &mut activations, &mut Vec::new());
        activations
    }

    /// Class probabilities, one row per sample (each row sums to 1).
    ///
    /// # Panics
    /// If `x.cols() != self.inputs()`.
    pub fn predict_proba(&self, x: &Matrix<T>) -> Matrix<T> {
        let mut p = self.forward(x);
        crate::loss::softmax_rows_inplace(&mut p);
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
    /// [`Dataset`](crate::dataset::Dataset) of bytes, converted a chunk at a time.
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
    /// [`Dataset`](crate::dataset::Dataset) of bytes, converted a chunk at a time.
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
            total_loss +=
                crate::loss::cross_entropy_with_logits(logits, &labels) * labels.len() as f64;
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
        let Workspace {
            activations,
            dropped,
            back,
            scratch,
        } = ws;
        let masks = regularisation.dropout_masks;
        match masks {
            None => self.forward_trace(x, activations, scratch),
            Some(masks) => self.forward_trace_dropout(x, masks, activations, dropped, scratch),
        }
        let last = self.layers.len() - 1;
        let correct = count_correct(&activations[last], labels);

        // Output layer: δᴸ = (softmax(zᴸ) − Y) / m, written over the logits; with label
        // smoothing, Y's rows are the smoothed targets.
        let smoothing = regularisation.label_smoothing;
        let loss = if smoothing != 0.0 {
            softmax_cross_entropy_smoothed_inplace(&mut activations[last], labels, smoothing)
        } else {
            softmax_cross_entropy_inplace(&mut activations[last], labels)
        };

        for l in (0..=last).rev() {
            let (below, from_l) = activations.split_at_mut(l);
            let output = &mut from_l[0]; // aˡ, to become δˡ
            if l < last {
                // `back` holds ∂L/∂aˡ, sent down by layer l + 1.
                if let Some(masks) = masks {
                    // Through dropout: a dropped unit passes no gradient back, a kept one
                    // passes it scaled as its output was.
                    for (g, &keep) in back.as_mut_slice().iter_mut().zip(masks[l].as_slice()) {
                        *g *= keep;
                    }
                }
                match self.layers[l].activation() {
                    // δˡ = ∂L/∂aˡ ⊙ σ′(zˡ), written over aˡ, which σ′ is computed from.
                    // Element by element: for a big layer, in bands, one per thread.
                    Some(act) => {
                        let (outputs, grads) = (output.as_mut_slice(), back.as_slice());
                        let band = outputs.len().div_ceil(workers_for(outputs.len())).max(1);
                        let bands = outputs.chunks_mut(band).zip(grads.chunks(band));
                        run_all(bands.map(|(outputs, grads)| {
                            move || {
                                for (a, &g) in outputs.iter_mut().zip(grads) {
                                    *a = g * act.derivative_from_output(*a);
                                }
                            }
                        }));
                    }
                    // Pooling has no activation: its output's gradient is the δ it routes.
                    None => std::mem::swap(output, back),
                }
            }
            let delta = &*output; // δˡ, m × nₗ
            // aˡ⁻¹, m × nₗ₋₁: what layer l read, after dropout if there was any
            let input = match (l, x, masks) {
                (0, Input::Sparse(x), _) => {
                    // The first layer, reading the batch's nonzeros: its weight gradient
                    // skips the zeros too, and there is no layer below to send an error to.
                    let dense = self.layers[0]
                        .as_dense()
                        .expect("sparse input to a dense layer");
                    dense.backward_sparse(x, delta, &mut grads.layers[0]);
                    continue;
                }
                (0, Input::Dense(x), _) => x,
                (_, _, None) => below[l - 1].view(),
                (_, _, Some(_)) => dropped[l - 1].view(),
            };
            // Each layer's own backward pass: its parameters' gradient, and ∂L/∂aˡ⁻¹ into
            // `back` when there is a layer below to send it to.
            let back = (l > 0).then_some(&mut *back);
            let grads = &mut grads.layers[l];
            match &self.layers[l] {
                Layer::Dense(dense) => dense.backward(input, delta, grads, back),
                Layer::Conv2d(conv) => conv.backward(input, delta, &mut scratch[l], grads, back),
                Layer::MaxPool2d(pool) => {
                    if let Some(back) = back {
                        pool.backward(delta, &scratch[l], back);
                    }
                }
            }
        }
        (loss, correct)
    }
    // ANCHOR_END: backprop

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
        let mut activations = Vec::new();
        let mut scratch = Vec::new();
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
            self.forward_trace(chunk, &mut activations, &mut scratch);
            f(start, &activations[self.layers.len() - 1]);
        }
    }

    fn check_input(&self, cols: usize) {
        let first = &self.layers[0];
        let takes = self.inputs();
        if cols != takes {
            match first {
                Layer::Dense(d) => panic!(
                    "the input has {cols} features per sample but the network's first layer \
                     (weights {}×{}) takes {takes}",
                    d.inputs(),
                    d.outputs()
                ),
                _ => panic!(
                    "the input has {cols} features per sample but the network's first layer \
                     ({first:?}) takes {} = {takes}",
                    self.input_shape()
                ),
            }
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

/// One layer's forward pass on `input`, dense or (for a dense layer) sparse.
fn layer_forward<T: Float>(
    layer: &Layer<T>,
    input: Input<'_, T>,
    out: &mut Matrix<T>,
    scratch: &mut Scratch<T>,
) {
    match (input, layer) {
        (Input::Dense(x), _) => layer.forward_into(x, out, scratch),
        (Input::Sparse(x), Layer::Dense(dense)) => dense.forward_sparse_into(x, out),
        (Input::Sparse(_), _) => {
            panic!("sparse input to a {layer:?} layer: only dense layers take it")
        }
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
/// shape, then each layer with its output shape.
impl<T: Float> fmt::Display for Network<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.input_shape())?;
        for (l, layer) in self.layers.iter().enumerate() {
            let last = l + 1 == self.layers.len();
            let activation = |act: Activation| {
                if last && act == Activation::Identity {
                    "softmax"
                } else {
                    act.name()
                }
            };
            match layer {
                Layer::Dense(d) => write!(f, " → {} {}", d.outputs(), activation(d.activation()))?,
                Layer::Conv2d(c) => {
                    write!(f, " → conv{k}×{k}", k = c.kernel())?;
                    if c.stride() > 1 {
                        write!(f, "/{}", c.stride())?;
                    }
                    let shape = image_form(c.output_shape());
                    write!(f, " {shape} {}", activation(c.activation()))?;
                }
                Layer::MaxPool2d(p) => {
                    let shape = image_form(p.output_shape());
                    write!(f, " → maxpool{k}×{k} {shape}", k = p.size())?
                }
            }
        }
        Ok(())
    }
}

/// `C×H×W`, even when the image is a single pixel.
fn image_form(shape: Shape) -> String {
    format!("{}×{}×{}", shape.channels, shape.height, shape.width)
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

/// One layer of a network being described, before its parameters are drawn: what
/// [`NetworkBuilder`] collects and the `train` example's `--arch` flag parses
/// ([`crate::arch`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LayerSpec {
    /// A dense layer of `units` units.
    Dense {
        /// Output units.
        units: usize,
        /// The activation of its output.
        activation: Activation,
    },
    /// A convolution with `channels` kernels of `kernel × kernel`.
    Conv2d {
        /// Output channels: the number of kernels.
        channels: usize,
        /// The kernels' side `k`.
        kernel: usize,
        /// Pixels between two windows.
        stride: usize,
        /// Zero padding around the image.
        padding: Padding,
        /// The activation of its output.
        activation: Activation,
    },
    /// Max-pooling over `size × size` windows, stride `size`.
    MaxPool2d {
        /// The window's side.
        size: usize,
    },
}

/// Describes a [`Network`]'s architecture and initialisation; see [`Network::builder`].
#[derive(Clone, Debug)]
pub struct NetworkBuilder<T: Float = f32> {
    input: Shape,
    layers: Vec<LayerSpec>,
    outputs: Option<usize>,
    init: Option<Init>,
    seed: u64,
    _element: std::marker::PhantomData<T>,
}

impl<T: Float> NetworkBuilder<T> {
    /// Adds a hidden dense layer of `units` units with the given activation.
    pub fn hidden(self, units: usize, activation: Activation) -> Self {
        self.layer(LayerSpec::Dense { units, activation })
    }

    /// Adds a convolution with `channels` kernels of `kernel × kernel`, stride 1, "same"
    /// padding (the output as large as the input) and the given activation.
    pub fn conv2d(self, channels: usize, kernel: usize, activation: Activation) -> Self {
        self.layer(LayerSpec::Conv2d {
            channels,
            kernel,
            stride: 1,
            padding: Padding::Same,
            activation,
        })
    }

    /// Adds max-pooling over `size × size` windows.
    pub fn max_pool(self, size: usize) -> Self {
        self.layer(LayerSpec::MaxPool2d { size })
    }

    /// Adds any hidden layer.
    pub fn layer(mut self, spec: LayerSpec) -> Self {
        self.layers.push(spec);
        self
    }

    /// Sets the number of classes: the output layer, dense, whose logits go through softmax.
    pub fn output(mut self, classes: usize) -> Self {
        self.outputs = Some(classes);
        self
    }

    /// Uses one initialisation for every layer. Without it, each layer gets the scheme made
    /// for its activation: [`Init::He`] for ReLU, [`Init::Xavier`] for the others
    /// (sigmoid, tanh, and the output layer).
    pub fn init(mut self, init: Init) -> Self {
        self.init = Some(init);
        self
    }

    /// Seeds the random initialisation (default 0). The same seed gives the same network.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Draws the initial parameters and returns the network.
    ///
    /// # Panics
    /// If [`output`](Self::output) was not called, or the layers do not fit together
    /// ([`try_build`](Self::try_build) returns that as an error).
    pub fn build(self) -> Network<T> {
        self.try_build()
            .unwrap_or_else(|e| panic!("NetworkBuilder: {e}"))
    }

    /// Draws the initial parameters and returns the network, or says which layer does not
    /// fit and why: a layer of zero units, a kernel larger than the padded image, a pooling
    /// window larger than the image.
    ///
    /// # Panics
    /// If [`output`](Self::output) was not called: that is a programming error, not a bad
    /// description.
    pub fn try_build(self) -> Result<Network<T>, BadArchitecture> {
        let classes = self
            .outputs
            .expect("NetworkBuilder::build: call .output(classes) to set the output layer");
        if self.input.checked_volume().is_none_or(|v| v == 0) {
            return Err(BadArchitecture {
                layer: 0,
                message: format!("a network needs at least one input, not {}", self.input),
            });
        }
        let mut rng = Rng::new(self.seed);
        let mut shape = self.input;
        let mut layers = Vec::with_capacity(self.layers.len() + 1);
        let output = LayerSpec::Dense {
            units: classes,
            activation: Activation::Identity,
        };
        for (l, spec) in self.layers.iter().copied().chain([output]).enumerate() {
            let bad = |message: String| BadArchitecture { layer: l, message };
            let init_for = |activation: Activation| {
                self.init.unwrap_or(match activation {
                    Activation::Relu => Init::He,
                    _ => Init::Xavier,
                })
            };
            let layer: Layer<T> = match spec {
                LayerSpec::Dense { units, activation } => {
                    if units == 0 {
                        return Err(bad("a dense layer has zero units".to_string()));
                    }
                    let (weights, bias) =
                        init_for(activation).sample(shape.volume(), units, &mut rng);
                    Dense::new(weights, bias, activation).into()
                }
                LayerSpec::Conv2d {
                    channels,
                    kernel,
                    stride,
                    padding,
                    activation,
                } => {
                    let pixels = padding.pixels(kernel).map_err(bad)?;
                    Conv2d::<T>::output_shape_for(shape, channels, kernel, stride, pixels)
                        .map_err(|e| bad(format!("on its input of {shape}, {e}")))?;
                    let (weights, bias) = init_for(activation).sample_conv(
                        kernel,
                        shape.channels,
                        channels,
                        &mut rng,
                    );
                    Conv2d::new(shape, weights, bias, stride, pixels, activation).into()
                }
                LayerSpec::MaxPool2d { size } => MaxPool2d::try_new(shape, size)
                    .map_err(|e| bad(format!("on its input of {shape}, {e}")))?
                    .into(),
            };
            shape = layer.output_shape();
            layers.push(layer);
        }
        Ok(Network { layers })
    }
}
