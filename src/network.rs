//! [`Network`]: a stack of dense layers ending in softmax, its forward pass and
//! backpropagation.
//!
//! Shapes, with a batch of `m` samples as the rows of `X` and layer `l` mapping `nₗ₋₁`
//! inputs to `nₗ` outputs:
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
use crate::loss::{softmax_cross_entropy_inplace, softmax_cross_entropy_smoothed_inplace};
use crate::matmul::{View, gemm, gemm_pair};
use crate::matrix::{Matrix, argmax};
use crate::rng::Rng;
use crate::samples::{Inputs, MatrixSamples, Samples};
use std::fmt;

/// Rows evaluated at a time by [`Network::evaluate`] and friends, to bound their memory.
const EVAL_CHUNK: usize = 1024;

/// One fully-connected layer: `a = σ(x·W + b)`.
#[derive(Clone, PartialEq)]
pub struct Dense<T: Float = f32> {
    /// `inputs × outputs`: column `j` holds the weights into output unit `j`.
    weights: Matrix<T>,
    /// One bias per output unit.
    bias: Vec<T>,
    activation: Activation,
}

impl<T: Float> Dense<T> {
    /// A layer from its weights (`inputs × outputs`), bias (length `outputs`) and activation.
    ///
    /// # Panics
    /// If `bias.len() != weights.cols()`.
    pub fn new(weights: Matrix<T>, bias: Vec<T>, activation: Activation) -> Self {
        assert_eq!(
            bias.len(),
            weights.cols(),
            "Dense::new: a bias of length {} for a {}×{} weight matrix",
            bias.len(),
            weights.rows(),
            weights.cols()
        );
        Dense {
            weights,
            bias,
            activation,
        }
    }

    /// Number of inputs.
    pub fn inputs(&self) -> usize {
        self.weights.rows()
    }

    /// Number of outputs (units).
    pub fn outputs(&self) -> usize {
        self.weights.cols()
    }

    /// The weights, `inputs × outputs`.
    pub fn weights(&self) -> &Matrix<T> {
        &self.weights
    }

    /// The weights, mutable (a gradient check nudges them one by one).
    pub fn weights_mut(&mut self) -> &mut Matrix<T> {
        &mut self.weights
    }

    /// The bias, one per output.
    pub fn bias(&self) -> &[T] {
        &self.bias
    }

    /// The bias, mutable.
    pub fn bias_mut(&mut self) -> &mut [T] {
        &mut self.bias
    }

    /// The activation applied to this layer's output.
    pub fn activation(&self) -> Activation {
        self.activation
    }

    // ANCHOR: dense_forward
    /// `out = σ(x·W + b)` for a batch `x` (one sample per row). `out` is reshaped to
    /// `x.rows() × outputs` and its allocation reused.
    pub fn forward_into(&self, x: View<'_, T>, out: &mut Matrix<T>) {
        gemm(x, self.weights.view(), out); // z = x·W
        let act = self.activation;
        for r in 0..out.rows() {
            for (z, &b) in out.row_mut(r).iter_mut().zip(&self.bias) {
                *z = act.apply(*z + b); // a = σ(z + b), fused in one pass
            }
        }
    }
    // ANCHOR_END: dense_forward
}

/// The gradient of the loss with respect to one layer's parameters.
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
                .map(|l| LayerGradients {
                    weights: Matrix::zeros(l.inputs(), l.outputs()),
                    bias: vec![T::ZERO; l.outputs()],
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
    /// `δˡ·Wˡᵀ`, the error on its way to the layer below.
    back: Matrix<T>,
}

impl<T: Float> Workspace<T> {
    /// An empty workspace; it grows to fit the first batch it sees.
    pub(crate) fn new() -> Self {
        Workspace {
            activations: Vec::new(),
            dropped: Vec::new(),
            back: Matrix::zeros(0, 0),
        }
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
    pub(crate) layers: Vec<Dense<T>>,
}

impl<T: Float> Network<T> {
    /// Starts describing a network with `inputs` input features.
    pub fn builder(inputs: usize) -> NetworkBuilder<T> {
        NetworkBuilder {
            inputs,
            hidden: Vec::new(),
            outputs: None,
            init: None,
            seed: 0,
            _element: std::marker::PhantomData,
        }
    }

    /// A network made of the given layers; the last one produces the logits.
    ///
    /// # Panics
    /// If there are no layers, or one layer's outputs do not match the next one's inputs.
    pub fn from_layers(layers: Vec<Dense<T>>) -> Self {
        assert!(!layers.is_empty(), "Network::from_layers: no layers");
        for (l, pair) in layers.windows(2).enumerate() {
            assert_eq!(
                pair[0].outputs(),
                pair[1].inputs(),
                "Network::from_layers: layer {l} has {} outputs (weights {}×{}) but layer {} \
                 takes {} inputs (weights {}×{})",
                pair[0].outputs(),
                pair[0].inputs(),
                pair[0].outputs(),
                l + 1,
                pair[1].inputs(),
                pair[1].inputs(),
                pair[1].outputs()
            );
        }
        Network { layers }
    }

    /// The layers, input side first.
    pub fn layers(&self) -> &[Dense<T>] {
        &self.layers
    }

    /// The layers, mutable.
    pub fn layers_mut(&mut self) -> &mut [Dense<T>] {
        &mut self.layers
    }

    /// Number of input features.
    pub fn inputs(&self) -> usize {
        self.layers[0].inputs()
    }

    /// Number of classes (outputs of the last layer).
    pub fn classes(&self) -> usize {
        self.layers[self.layers.len() - 1].outputs()
    }

    /// Number of trainable parameters (weights and biases).
    pub fn parameter_count(&self) -> usize {
        self.layers
            .iter()
            .map(|l| l.weights.len() + l.bias.len())
            .sum()
    }

    // ANCHOR: forward
    /// Runs a batch through every layer, leaving layer `l`'s output in `activations[l]`.
    fn forward_trace(&self, x: View<'_, T>, activations: &mut Vec<Matrix<T>>) {
        self.check_input(x.cols());
        activations.resize_with(self.layers.len(), || Matrix::zeros(0, 0));
        for (l, layer) in self.layers.iter().enumerate() {
            let (done, rest) = activations.split_at_mut(l);
            let input = if l == 0 { x } else { done[l - 1].view() };
            layer.forward_into(input, &mut rest[0]);
        }
    }
    // ANCHOR_END: forward

    // ANCHOR: forward_dropout
    /// [`forward_trace`](Self::forward_trace) with dropout: hidden layer `l`'s output stays
    /// in `activations[l]` (the backward pass needs it for `σ′`), and `dropped[l]` receives
    /// it times `masks[l]`, which is what the layer above reads.
    fn forward_trace_dropout(
        &self,
        x: View<'_, T>,
        masks: &[Matrix<T>],
        activations: &mut Vec<Matrix<T>>,
        dropped: &mut Vec<Matrix<T>>,
    ) {
        self.check_input(x.cols());
        let hidden = self.layers.len() - 1;
        activations.resize_with(self.layers.len(), || Matrix::zeros(0, 0));
        dropped.resize_with(hidden, || Matrix::zeros(0, 0));
        for (l, layer) in self.layers.iter().enumerate() {
            let (done, rest) = dropped.split_at_mut(l);
            let input = if l == 0 { x } else { done[l - 1].view() };
            layer.forward_into(input, &mut activations[l]);
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
        self.forward_trace(x.view(), &mut activations);
        activations.pop().expect("a network has at least one layer")
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
        let (loss, _) = self.backprop(x.view(), labels, regularisation, &mut ws, &mut grads);
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
                (rows, layer.outputs()),
                "dropout mask {l} is {}×{} but hidden layer {l} gives {rows}×{} for this batch",
                mask.rows(),
                mask.cols(),
                layer.outputs()
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
        x: View<'_, T>,
        labels: &[usize],
        regularisation: &Regularisation<'_, T>,
        ws: &mut Workspace<T>,
        grads: &mut Gradients<T>,
    ) -> (f64, usize) {
        let Workspace {
            activations,
            dropped,
            back,
        } = ws;
        let masks = regularisation.dropout_masks;
        match masks {
            None => self.forward_trace(x, activations),
            Some(masks) => self.forward_trace_dropout(x, masks, activations, dropped),
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
            let delta = &from_l[0]; // δˡ, m × nₗ
            // aˡ⁻¹, m × nₗ₋₁: what layer l read, after dropout if there was any
            let input = match (l, masks) {
                (0, _) => x,
                (_, None) => below[l - 1].view(),
                (_, Some(_)) => dropped[l - 1].view(),
            };

            // ∂L/∂Wˡ = (aˡ⁻¹)ᵀ · δˡ   (nₗ₋₁ × m) · (m × nₗ) = nₗ₋₁ × nₗ
            let weight_gradient = (input.t(), delta.view(), &mut grads.layers[l].weights);
            if l == 0 {
                gemm(weight_gradient.0, weight_gradient.1, weight_gradient.2);
            } else {
                // ...and, independent of it, δˡ · Wˡᵀ   (m × nₗ) · (nₗ × nₗ₋₁) = m × nₗ₋₁,
                // the product δˡ⁻¹ needs below: the two run side by side.
                let error_back = (delta.view(), self.layers[l].weights.t(), &mut *back);
                gemm_pair(weight_gradient, error_back);
            }
            // ∂L/∂bˡ = Σ over the batch of δˡ   (nₗ)
            delta.column_sums_into(&mut grads.layers[l].bias);

            if l > 0 {
                // δˡ⁻¹ = (δˡ · Wˡᵀ) ⊙ σ′(zˡ⁻¹), with δˡ · Wˡᵀ in `back` (computed above)
                if let Some(masks) = masks {
                    // Through dropout: a dropped unit passes no gradient back, a kept one
                    // passes it scaled as its output was.
                    for (g, &keep) in back.as_mut_slice().iter_mut().zip(masks[l - 1].as_slice()) {
                        *g *= keep;
                    }
                }
                let a_below = &mut below[l - 1]; // aˡ⁻¹ becomes δˡ⁻¹ in place
                let act = self.layers[l - 1].activation;
                for (a, &g) in a_below.as_mut_slice().iter_mut().zip(back.as_slice()) {
                    *a = g * act.derivative_from_output(*a);
                }
            }
        }
        (loss, correct)
    }
    // ANCHOR_END: backprop

    /// Runs `data` through the network `EVAL_CHUNK` rows at a time, handing each chunk's
    /// first row index and logits to `f`. A matrix is read in place; other inputs are
    /// converted one chunk at a time, so memory stays bounded however large the set.
    fn for_each_chunk(
        &self,
        data: &(impl Inputs<T> + ?Sized),
        mut f: impl FnMut(usize, &Matrix<T>),
    ) {
        self.check_input(data.features());
        let mut activations = Vec::new();
        let mut buffer = Matrix::zeros(0, 0);
        let mut indices = Vec::with_capacity(EVAL_CHUNK);
        let n = data.len();
        for start in (0..n).step_by(EVAL_CHUNK) {
            let end = (start + EVAL_CHUNK).min(n);
            let chunk = match data.as_matrix() {
                Some(x) => x.view_rows(start, end),
                None => {
                    indices.clear();
                    indices.extend(start..end);
                    data.gather(&indices, &mut buffer);
                    buffer.view()
                }
            };
            self.forward_trace(chunk, &mut activations);
            f(start, &activations[self.layers.len() - 1]);
        }
    }

    fn check_input(&self, cols: usize) {
        let first = &self.layers[0];
        assert_eq!(
            cols,
            first.inputs(),
            "the input has {cols} features per sample but the network's first layer \
             (weights {}×{}) takes {}",
            first.inputs(),
            first.outputs(),
            first.inputs()
        );
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

/// How many rows of `logits` have their largest score at the label's index.
fn count_correct<T: Float>(logits: &Matrix<T>, labels: &[usize]) -> usize {
    logits
        .row_iter()
        .zip(labels)
        .filter(|&(row, &y)| argmax(row) == y)
        .count()
}

/// `784 → 128 relu → 10 softmax`.
impl<T: Float> fmt::Display for Network<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.inputs())?;
        for (l, layer) in self.layers.iter().enumerate() {
            let name = if l + 1 == self.layers.len() && layer.activation == Activation::Identity {
                "softmax"
            } else {
                layer.activation.name()
            };
            write!(f, " → {} {name}", layer.outputs())?;
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

impl<T: Float> fmt::Debug for Dense<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Dense({}→{}, {})",
            self.inputs(),
            self.outputs(),
            self.activation
        )
    }
}

/// Describes a [`Network`]'s architecture and initialisation; see [`Network::builder`].
#[derive(Clone, Debug)]
pub struct NetworkBuilder<T: Float = f32> {
    inputs: usize,
    hidden: Vec<(usize, Activation)>,
    outputs: Option<usize>,
    init: Option<Init>,
    seed: u64,
    _element: std::marker::PhantomData<T>,
}

impl<T: Float> NetworkBuilder<T> {
    /// Adds a hidden layer of `units` units with the given activation.
    pub fn hidden(mut self, units: usize, activation: Activation) -> Self {
        self.hidden.push((units, activation));
        self
    }

    /// Sets the number of classes: the output layer, whose logits go through softmax.
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
    /// If [`output`](Self::output) was not called, or a layer has zero units.
    pub fn build(self) -> Network<T> {
        let classes = self
            .outputs
            .expect("NetworkBuilder::build: call .output(classes) to set the output layer");
        assert!(
            self.inputs > 0,
            "NetworkBuilder: a network needs at least one input"
        );
        let mut rng = Rng::new(self.seed);
        let mut fan_in = self.inputs;
        let mut layers = Vec::with_capacity(self.hidden.len() + 1);
        let all = self
            .hidden
            .iter()
            .copied()
            .chain([(classes, Activation::Identity)]);
        for (l, (units, activation)) in all.enumerate() {
            assert!(units > 0, "NetworkBuilder: layer {l} has zero units");
            let init = self.init.unwrap_or(match activation {
                Activation::Relu => Init::He,
                _ => Init::Xavier,
            });
            let (weights, bias) = init.sample(fan_in, units, &mut rng);
            layers.push(Dense::new(weights, bias, activation));
            fan_in = units;
        }
        Network { layers }
    }
}
