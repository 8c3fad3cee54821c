//! The layers a [`Network`](crate::nn::network::Network) is a stack of: [`Dense`],
//! [`Conv2d`], [`MaxPool2d`] and [`BatchNorm`], one file each, holding the layer's forward
//! pass, its backward pass and its activation.
//!
//! Every kind implements [`LayerKind`]: the same shapes, parameters and passes, so the
//! network runs any of them without asking which one it is. [`Layer`] is the closed enum of
//! the kinds, like [`Activation`]: nothing is boxed, and every `match` on it (the model
//! files, the exports) is exhaustive, so a new kind cannot be forgotten by any of them. The
//! book's chapters "The forward pass", "Backpropagation", "Convolutional networks" and
//! "Batch normalisation" derive the passes.
//!
//! To add a kind: a file here with its struct and `impl LayerKind`, an arm in [`Layer`] and
//! in `each_kind!` below, its record in the model file (`model/v2.rs`), and its export
//! (`model/onnx.rs`, `model/safetensors.rs`).

pub mod batch_norm;
pub mod conv2d;
pub mod dense;
pub mod pool;

pub use batch_norm::BatchNorm;
pub use conv2d::{Conv2d, Padding};
pub use dense::Dense;
pub use pool::MaxPool2d;

use crate::blocks::matmul::sparse::SparseRows;
use crate::blocks::matmul::{View, run_all, workers_for};
use crate::blocks::matrix::Matrix;
use crate::float::Float;
use crate::nn::activation::Activation;
use crate::nn::shape::Shape;
use std::fmt;

/// A batch as a layer reads it, one sample per row: a view of a dense matrix, or the same
/// numbers kept as their nonzeros, which a [`Dense`] layer multiplies faster when most of
/// them are zero (see [`crate::blocks::matmul::sparse`]; training decides, for the first
/// layer only).
#[derive(Clone, Copy)]
pub enum Input<'a, T> {
    /// Every number, as a matrix (or a range of its rows) stores them.
    Dense(View<'a, T>),
    /// Only the nonzeros, row by row and column by column.
    Sparse(&'a SparseRows<T>),
}

impl<'a, T: Float> Input<'a, T> {
    /// Samples in the batch.
    pub fn rows(&self) -> usize {
        match self {
            Input::Dense(x) => x.rows(),
            Input::Sparse(x) => x.rows(),
        }
    }

    /// Values per sample.
    pub fn cols(&self) -> usize {
        match self {
            Input::Dense(x) => x.cols(),
            Input::Sparse(x) => x.cols(),
        }
    }

    /// The dense view, for the layers that read nothing else.
    ///
    /// # Panics
    /// If the batch is sparse: only a layer whose [`reads_sparse`](LayerKind::reads_sparse)
    /// says so is given one.
    pub fn dense(self, layer: &dyn fmt::Debug) -> View<'a, T> {
        match self {
            Input::Dense(x) => x,
            Input::Sparse(_) => panic!("{layer:?} was given a sparse batch: it reads dense ones"),
        }
    }
}

impl<'a, T> From<View<'a, T>> for Input<'a, T> {
    fn from(x: View<'a, T>) -> Self {
        Input::Dense(x)
    }
}

/// Whether a forward pass is part of training. Batch normalisation normalises a training
/// batch by the batch's own statistics (and learns running ones from them), and any other
/// batch by those running statistics; the other kinds compute the same either way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// A training step's forward pass, which a backward pass follows.
    Train,
    /// Evaluation and prediction.
    Evaluate,
}

/// The gradient of the loss with respect to one layer's parameters (empty for a layer
/// without parameters, such as pooling).
#[derive(Clone, Debug, PartialEq)]
pub struct LayerGradients<T: Float = f32> {
    /// `∂L/∂W`, the same shape as the weights.
    pub weights: Matrix<T>,
    /// `∂L/∂b`, one per output.
    pub bias: Vec<T>,
}

impl<T: Float> LayerGradients<T> {
    /// Zero gradients shaped like `layer`'s parameters.
    pub fn zeros_like(layer: &(impl LayerKind<T> + ?Sized)) -> Self {
        let (rows, cols) = layer.weights().map_or((0, 0), Matrix::shape);
        LayerGradients {
            weights: Matrix::zeros(rows, cols),
            bias: vec![T::ZERO; layer.bias().map_or(0, <[T]>::len)],
        }
    }
}

/// What every kind of layer is and does: its shapes, its parameters, and its two passes.
///
/// The passes come in two forms. [`forward`](Self::forward) and
/// [`backward`](Self::backward) take and return matrices, for reading and testing a layer on
/// its own. [`forward_into`](Self::forward_into) and [`backward_into`](Self::backward_into)
/// are what a network runs batch after batch: they write into buffers it keeps, so training
/// allocates nothing once the first batch has sized them.
pub trait LayerKind<T: Float>: fmt::Debug {
    /// The shape of one input sample (a dense layer's is flat).
    fn input_shape(&self) -> Shape;

    /// The shape of one output sample.
    fn output_shape(&self) -> Shape;

    /// Whether the layer can read samples of `shape`: exactly its input shape, unless the
    /// layer says otherwise (a dense layer reads any shape of the right size: it flattens).
    fn accepts(&self, shape: Shape) -> bool {
        shape == self.input_shape()
    }

    /// The activation the layer applies to its output, if it has one.
    fn activation(&self) -> Option<Activation>;

    /// The weight matrix, for a layer with parameters.
    fn weights(&self) -> Option<&Matrix<T>> {
        None
    }

    /// The bias, for a layer with parameters.
    fn bias(&self) -> Option<&[T]> {
        None
    }

    /// Weights and bias together, mutable: what an optimiser updates. `None` for a layer
    /// without parameters.
    fn params_mut(&mut self) -> Option<(&mut Matrix<T>, &mut [T])> {
        None
    }

    /// Number of trainable parameters (weights and biases).
    fn parameter_count(&self) -> usize {
        self.weights().map_or(0, Matrix::len) + self.bias().map_or(0, <[T]>::len)
    }

    /// The layer as a network's one-line summary shows it: `128 relu` for a dense layer,
    /// `conv5×5 16×28×28 relu`, `maxpool2×2 16×14×14`, `batchnorm 128`. `output` says that
    /// the layer gives the logits, so that an identity there is named for the softmax that
    /// follows it.
    fn summary(&self, output: bool) -> String;

    /// Whether the layer can read a batch kept as its nonzeros ([`Input::Sparse`]).
    fn reads_sparse(&self) -> bool {
        false
    }

    /// The fewest samples a training batch may have: two for batch normalisation after a
    /// dense layer (a variance needs two values), one for the rest.
    fn min_training_batch(&self) -> usize {
        1
    }

    /// What the layer learns besides its parameters, which checkpoints and model files carry:
    /// batch normalisation's running mean and variance, and the number of batches they have
    /// learnt from. `None` for the other kinds.
    fn running_statistics(&self) -> Option<(&[T], &[T], u64)> {
        None
    }

    /// [`running_statistics`](Self::running_statistics), to be written into.
    fn running_statistics_mut(&mut self) -> Option<(&mut [T], &mut [T], &mut u64)> {
        None
    }

    /// Learns what is not learnt by gradient from the training batch whose forward pass
    /// `scratch` holds: batch normalisation's running statistics. Nothing for the others.
    fn track_batch(&mut self, scratch: &Scratch<T>) {
        let _ = scratch;
    }

    /// Values one sample needs in the layer's [`Scratch`] besides its output: how many
    /// samples evaluation can run at once in bounded memory.
    fn scratch_per_sample(&self) -> usize {
        0
    }

    /// The forward pass of a batch `x`, activation included: `out` becomes
    /// `x.rows() ×` the output volume, its allocation reused; `scratch` keeps what the
    /// backward pass will need. `mode` says whether the batch is being trained on, which
    /// changes what batch normalisation computes (see [`Mode`]).
    ///
    /// # Panics
    /// If `x`'s rows are not the layer's input volume.
    fn forward_into(
        &self,
        x: Input<'_, T>,
        out: &mut Matrix<T>,
        scratch: &mut Scratch<T>,
        mode: Mode,
    );

    /// The backward pass of the batch `x` that [`forward_into`](Self::forward_into) was
    /// given in [`Mode::Train`] (with the same `scratch`), activation included.
    ///
    /// On entry `output` holds the layer's output `a` and `grad` the loss's gradient with
    /// respect to it, `∂L/∂a`. The layer fills `grads` with `∂L/∂W` and `∂L/∂b` and, when
    /// `send_back` is true, leaves `∂L/∂x` in `grad` (`x.rows() ×` the input volume), for
    /// the layer below. What is left in `output` (and in `grad` otherwise) is scratch.
    fn backward_into(
        &self,
        x: Input<'_, T>,
        output: &mut Matrix<T>,
        grad: &mut Matrix<T>,
        scratch: &mut Scratch<T>,
        grads: &mut LayerGradients<T>,
        send_back: bool,
    );

    /// The layer's output for a batch `x`, one sample per row, as evaluation computes it.
    ///
    /// # Panics
    /// If `x.cols()` is not the layer's input volume.
    fn forward(&self, x: &Matrix<T>) -> Matrix<T> {
        let mut out = Matrix::zeros(0, 0);
        self.forward_into(
            x.view().into(),
            &mut out,
            &mut Scratch::new(),
            Mode::Evaluate,
        );
        out
    }

    /// The gradients for a batch `x` and the gradient `grad_output = ∂L/∂a` of the loss with
    /// respect to the layer's output, as training computes them: `∂L/∂W` and `∂L/∂b` (empty
    /// without parameters), and `∂L/∂x`.
    ///
    /// # Panics
    /// If `x.cols()` is not the input volume, or `grad_output` is not
    /// `x.rows() ×` the output volume.
    fn backward(&self, x: &Matrix<T>, grad_output: &Matrix<T>) -> (LayerGradients<T>, Matrix<T>) {
        let mut scratch = Scratch::new();
        let mut output = Matrix::zeros(0, 0);
        self.forward_into(x.view().into(), &mut output, &mut scratch, Mode::Train);
        assert_eq!(
            grad_output.shape(),
            output.shape(),
            "{self:?}: the gradient is {}×{}, the output of this batch {}×{}",
            grad_output.rows(),
            grad_output.cols(),
            output.rows(),
            output.cols()
        );
        let mut grads = LayerGradients::zeros_like(self);
        let mut grad = grad_output.clone();
        let x = x.view().into();
        self.backward_into(x, &mut output, &mut grad, &mut scratch, &mut grads, true);
        (grads, grad)
    }
}

/// One layer of a [`Network`](crate::nn::network::Network): one of the kinds, each of which
/// implements [`LayerKind`], as does this enum by handing every call to its kind.
#[derive(Clone, PartialEq)]
pub enum Layer<T: Float = f32> {
    /// Fully connected: every output reads every input.
    Dense(Dense<T>),
    /// A 2-D convolution: small kernels slid over the image.
    Conv2d(Conv2d<T>),
    /// The maximum of each window of pixels, channel by channel.
    MaxPool2d(MaxPool2d),
    /// Batch normalisation, channel by channel.
    BatchNorm(BatchNorm<T>),
}

/// `each_kind!(layer, l => expression)`: the expression for whichever kind `layer` is.
macro_rules! each_kind {
    ($layer:expr, $l:ident => $e:expr) => {
        match $layer {
            Layer::Dense($l) => $e,
            Layer::Conv2d($l) => $e,
            Layer::MaxPool2d($l) => $e,
            Layer::BatchNorm($l) => $e,
        }
    };
}

impl<T: Float> LayerKind<T> for Layer<T> {
    fn input_shape(&self) -> Shape {
        each_kind!(self, l => LayerKind::<T>::input_shape(l))
    }
    fn output_shape(&self) -> Shape {
        each_kind!(self, l => LayerKind::<T>::output_shape(l))
    }
    fn accepts(&self, shape: Shape) -> bool {
        each_kind!(self, l => LayerKind::<T>::accepts(l, shape))
    }
    fn activation(&self) -> Option<Activation> {
        each_kind!(self, l => LayerKind::<T>::activation(l))
    }
    fn weights(&self) -> Option<&Matrix<T>> {
        each_kind!(self, l => LayerKind::<T>::weights(l))
    }
    fn bias(&self) -> Option<&[T]> {
        each_kind!(self, l => LayerKind::<T>::bias(l))
    }
    fn params_mut(&mut self) -> Option<(&mut Matrix<T>, &mut [T])> {
        each_kind!(self, l => LayerKind::<T>::params_mut(l))
    }
    fn summary(&self, output: bool) -> String {
        each_kind!(self, l => LayerKind::<T>::summary(l, output))
    }
    fn reads_sparse(&self) -> bool {
        each_kind!(self, l => LayerKind::<T>::reads_sparse(l))
    }
    fn min_training_batch(&self) -> usize {
        each_kind!(self, l => LayerKind::<T>::min_training_batch(l))
    }
    fn running_statistics(&self) -> Option<(&[T], &[T], u64)> {
        each_kind!(self, l => LayerKind::<T>::running_statistics(l))
    }
    fn running_statistics_mut(&mut self) -> Option<(&mut [T], &mut [T], &mut u64)> {
        each_kind!(self, l => LayerKind::<T>::running_statistics_mut(l))
    }
    fn track_batch(&mut self, scratch: &Scratch<T>) {
        each_kind!(self, l => LayerKind::<T>::track_batch(l, scratch))
    }
    fn scratch_per_sample(&self) -> usize {
        each_kind!(self, l => LayerKind::<T>::scratch_per_sample(l))
    }
    fn forward_into(
        &self,
        x: Input<'_, T>,
        out: &mut Matrix<T>,
        scratch: &mut Scratch<T>,
        mode: Mode,
    ) {
        each_kind!(self, l => LayerKind::<T>::forward_into(l, x, out, scratch, mode))
    }
    fn backward_into(
        &self,
        x: Input<'_, T>,
        output: &mut Matrix<T>,
        grad: &mut Matrix<T>,
        scratch: &mut Scratch<T>,
        grads: &mut LayerGradients<T>,
        send_back: bool,
    ) {
        each_kind!(self, l => LayerKind::<T>::backward_into(l, x, output, grad, scratch, grads, send_back))
    }
}

impl<T: Float> Layer<T> {
    /// The weights, mutable (a gradient check nudges them one by one).
    pub fn weights_mut(&mut self) -> Option<&mut Matrix<T>> {
        self.params_mut().map(|(w, _)| w)
    }

    /// The bias, mutable.
    pub fn bias_mut(&mut self) -> Option<&mut [T]> {
        self.params_mut().map(|(_, b)| b)
    }

    /// The dense layer, if this is one.
    pub fn as_dense(&self) -> Option<&Dense<T>> {
        match self {
            Layer::Dense(d) => Some(d),
            _ => None,
        }
    }

    /// The convolution, if this is one.
    pub fn as_conv2d(&self) -> Option<&Conv2d<T>> {
        match self {
            Layer::Conv2d(c) => Some(c),
            _ => None,
        }
    }

    /// The pooling layer, if this is one.
    pub fn as_max_pool2d(&self) -> Option<&MaxPool2d> {
        match self {
            Layer::MaxPool2d(p) => Some(p),
            _ => None,
        }
    }

    /// The batch normalisation, if this is one.
    pub fn as_batch_norm(&self) -> Option<&BatchNorm<T>> {
        match self {
            Layer::BatchNorm(b) => Some(b),
            _ => None,
        }
    }
}

impl<T: Float> From<Dense<T>> for Layer<T> {
    fn from(layer: Dense<T>) -> Self {
        Layer::Dense(layer)
    }
}

impl<T: Float> From<Conv2d<T>> for Layer<T> {
    fn from(layer: Conv2d<T>) -> Self {
        Layer::Conv2d(layer)
    }
}

impl<T: Float> From<BatchNorm<T>> for Layer<T> {
    fn from(layer: BatchNorm<T>) -> Self {
        Layer::BatchNorm(layer)
    }
}

impl<T: Float> From<MaxPool2d> for Layer<T> {
    fn from(layer: MaxPool2d) -> Self {
        Layer::MaxPool2d(layer)
    }
}

/// `Dense(784→128, relu)`, `Conv2d(1×28×28→16×28×28, 5×5, stride 1, padding 2, relu)`,
/// `MaxPool2d(16×28×28→16×14×14, 2×2)`.
impl<T: Float> fmt::Debug for Layer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        each_kind!(self, l => l.fmt(f))
    }
}

/// Buffers a layer keeps between its forward and its backward pass, reused batch after
/// batch: a convolution's windows (im2col) and their gradient, pooling's arg-maxes. A
/// dense layer keeps nothing. Start with [`Scratch::new`] and hand the same one to both
/// passes of a batch.
#[derive(Clone, Debug)]
pub struct Scratch<T: Float> {
    /// Conv2d: the windows, `(samples·OH·OW) × (k·k·C)`, for one group of samples.
    pub(crate) cols: Matrix<T>,
    /// Conv2d: the first sample of the group `cols` holds, when it holds one.
    pub(crate) cols_hold: Option<usize>,
    /// Conv2d: one sample with its zero padding around it, which im2col copies windows
    /// from: one buffer per thread.
    pub(crate) padded: Vec<Vec<T>>,
    /// Conv2d: the gradient of `cols` on its way back to the input.
    pub(crate) dcols: Matrix<T>,
    /// Conv2d: one group's share of the weight gradient, before it is added to the others.
    pub(crate) partial: Matrix<T>,
    /// MaxPool2d: for each output value, the index in its sample's row of the input it
    /// came from.
    pub(crate) argmax: Vec<u32>,
    /// BatchNorm, in training: each channel's batch mean and (biased) variance, and how many
    /// values each was taken over (0 until a training batch has been normalised).
    pub(crate) bn_mean: Vec<f64>,
    pub(crate) bn_var: Vec<f64>,
    pub(crate) bn_count: usize,
    /// BatchNorm: the mean and inverse standard deviation the last forward pass normalised
    /// each channel by, which its backward pass uses again.
    pub(crate) bn_norm_mean: Vec<T>,
    pub(crate) bn_inv_std: Vec<T>,
}

impl<T: Float> Scratch<T> {
    /// Empty buffers; they grow to fit the first batch.
    pub fn new() -> Self {
        Scratch {
            cols: Matrix::zeros(0, 0),
            cols_hold: None,
            padded: Vec::new(),
            dcols: Matrix::zeros(0, 0),
            partial: Matrix::zeros(0, 0),
            argmax: Vec::new(),
            bn_mean: Vec::new(),
            bn_var: Vec::new(),
            bn_count: 0,
            bn_norm_mean: Vec::new(),
            bn_inv_std: Vec::new(),
        }
    }
}

impl<T: Float> Default for Scratch<T> {
    fn default() -> Self {
        Self::new()
    }
}

// ANCHOR: activation_backward
/// The backward pass through an activation: `δ = ∂L/∂a ⊙ σ′(z)`, the gradient with
/// respect to the layer's pre-activations, written over its output `a`, from which `σ′`
/// is computed ([`Activation::derivative_from_output`]). `grad` holds `∂L/∂a` on entry and
/// scratch on return. For the identity, `σ′ = 1`: δ is `grad` itself, and the buffers swap.
pub(crate) fn activation_backward<T: Float>(
    activation: Activation,
    output: &mut Matrix<T>,
    grad: &mut Matrix<T>,
) {
    assert_eq!(
        output.shape(),
        grad.shape(),
        "activation_backward: the output is {}×{}, its gradient {}×{}",
        output.rows(),
        output.cols(),
        grad.rows(),
        grad.cols()
    );
    if activation == Activation::Identity {
        std::mem::swap(output, grad);
        return;
    }
    // Element by element: for a big layer, in bands, one per thread.
    let (outputs, grads) = (output.as_mut_slice(), grad.as_slice());
    let band = outputs.len().div_ceil(workers_for(outputs.len())).max(1);
    let bands = outputs.chunks_mut(band).zip(grads.chunks(band));
    run_all(bands.map(|(outputs, grads)| {
        move || {
            for (a, &g) in outputs.iter_mut().zip(grads) {
                *a = g * activation.derivative_from_output(*a);
            }
        }
    }));
}
// ANCHOR_END: activation_backward

/// An activation as a summary names it: `softmax` for the identity of the output layer.
pub(crate) fn activation_name(activation: Activation, output: bool) -> &'static str {
    match activation {
        Activation::Identity if output => "softmax",
        a => a.name(),
    }
}

/// `C×H×W`, even when the image is a single pixel: how a layer's summary names its output.
pub(crate) fn image_form(shape: Shape) -> String {
    format!("{}×{}×{}", shape.channels, shape.height, shape.width)
}
