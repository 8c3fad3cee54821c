//! The layers a [`Network`](crate::Network) is a stack of: [`Dense`], [`Conv2d`] and
//! [`MaxPool2d`], one module each with its forward pass, its backward pass and its
//! parameters.
//!
//! [`Layer`] is a closed enum rather than a trait object: the network, the optimisers and
//! the model files match on it exhaustively, so a new kind of layer cannot be forgotten by
//! any of them, and nothing is boxed. Every layer takes a batch with one sample per row, of
//! its [`input_shape`](Layer::input_shape), and gives one of its
//! [`output_shape`](Layer::output_shape) (see [`crate::shape`] for the layout of a row).

pub mod conv2d;
pub mod dense;
pub mod pool;

pub use conv2d::{Conv2d, Padding};
pub use dense::Dense;
pub use pool::MaxPool2d;

use crate::activation::Activation;
use crate::float::Float;
use crate::matmul::View;
use crate::matrix::Matrix;
use crate::shape::Shape;
use std::fmt;

/// One layer of a [`Network`](crate::Network).
#[derive(Clone, PartialEq)]
pub enum Layer<T: Float = f32> {
    /// Fully connected: every output reads every input.
    Dense(Dense<T>),
    /// A 2-D convolution: small kernels slid over the image.
    Conv2d(Conv2d<T>),
    /// The maximum of each window of pixels, channel by channel.
    MaxPool2d(MaxPool2d),
}

impl<T: Float> Layer<T> {
    /// The shape of one input sample. A dense layer reads any shape with as many values as it
    /// has inputs; this is its flat form.
    pub fn input_shape(&self) -> Shape {
        match self {
            Layer::Dense(d) => Shape::flat(d.inputs()),
            Layer::Conv2d(c) => c.input_shape(),
            Layer::MaxPool2d(p) => p.input_shape(),
        }
    }

    /// The shape of one output sample.
    pub fn output_shape(&self) -> Shape {
        match self {
            Layer::Dense(d) => Shape::flat(d.outputs()),
            Layer::Conv2d(c) => c.output_shape(),
            Layer::MaxPool2d(p) => p.output_shape(),
        }
    }

    /// Whether the layer can read samples of `shape`: a dense layer any shape of the right
    /// size (it flattens), a convolution or pooling exactly its input shape.
    pub fn accepts(&self, shape: Shape) -> bool {
        match self {
            Layer::Dense(d) => shape.checked_volume() == Some(d.inputs()),
            _ => shape == self.input_shape(),
        }
    }

    /// The activation applied to the layer's output, for the layers that have one.
    pub fn activation(&self) -> Option<Activation> {
        match self {
            Layer::Dense(d) => Some(d.activation()),
            Layer::Conv2d(c) => Some(c.activation()),
            Layer::MaxPool2d(_) => None,
        }
    }

    /// The weight matrix, for the layers that have parameters.
    pub fn weights(&self) -> Option<&Matrix<T>> {
        match self {
            Layer::Dense(d) => Some(d.weights()),
            Layer::Conv2d(c) => Some(c.weights()),
            Layer::MaxPool2d(_) => None,
        }
    }

    /// The bias, for the layers that have parameters.
    pub fn bias(&self) -> Option<&[T]> {
        match self {
            Layer::Dense(d) => Some(d.bias()),
            Layer::Conv2d(c) => Some(c.bias()),
            Layer::MaxPool2d(_) => None,
        }
    }

    /// The weights, mutable (a gradient check nudges them one by one).
    pub fn weights_mut(&mut self) -> Option<&mut Matrix<T>> {
        self.params_mut().map(|(w, _)| w)
    }

    /// The bias, mutable.
    pub fn bias_mut(&mut self) -> Option<&mut [T]> {
        self.params_mut().map(|(_, b)| b)
    }

    /// Weights and bias together, mutable: what an optimiser updates. `None` for a layer
    /// without parameters.
    pub fn params_mut(&mut self) -> Option<(&mut Matrix<T>, &mut [T])> {
        match self {
            Layer::Dense(d) => Some(d.params_mut()),
            Layer::Conv2d(c) => Some(c.params_mut()),
            Layer::MaxPool2d(_) => None,
        }
    }

    /// Number of trainable parameters (weights and biases).
    pub fn parameter_count(&self) -> usize {
        let weights = self.weights().map_or(0, Matrix::len);
        weights + self.bias().map_or(0, <[T]>::len)
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

    /// The forward pass of a batch `x`: `out` is reshaped to `x.rows() ×` the output volume,
    /// its allocation reused; `scratch` keeps what the backward pass needs.
    pub(crate) fn forward_into(
        &self,
        x: View<'_, T>,
        out: &mut Matrix<T>,
        scratch: &mut Scratch<T>,
    ) {
        match self {
            Layer::Dense(d) => d.forward_into(x, out),
            Layer::Conv2d(c) => c.forward_into(x, out, scratch),
            Layer::MaxPool2d(p) => p.forward_into(x, out, scratch),
        }
    }

    /// Values one sample needs in the layer's scratch buffers besides its output: how many
    /// samples evaluation can run at once in bounded memory.
    pub(crate) fn scratch_per_sample(&self) -> usize {
        match self {
            Layer::Dense(_) => 0,
            // im2col works in groups of samples, bounded on its own.
            Layer::Conv2d(_) => 0,
            Layer::MaxPool2d(p) => p.output_shape().volume(),
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

impl<T: Float> From<MaxPool2d> for Layer<T> {
    fn from(layer: MaxPool2d) -> Self {
        Layer::MaxPool2d(layer)
    }
}

/// `Dense(784→128, relu)`, `Conv2d(1×28×28→16×28×28, 5×5, stride 1, padding 2, relu)`,
/// `MaxPool2d(16×28×28→16×14×14, 2×2)`.
impl<T: Float> fmt::Debug for Layer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Layer::Dense(d) => d.fmt(f),
            Layer::Conv2d(c) => c.fmt(f),
            Layer::MaxPool2d(p) => p.fmt(f),
        }
    }
}

/// Buffers a layer keeps between its forward and its backward pass, reused batch after
/// batch: im2col's windows for a convolution, the arg-max of every window for pooling.
#[derive(Clone, Debug)]
pub(crate) struct Scratch<T: Float> {
    /// A convolution's windows, `(samples·OH·OW) × (k·k·C)`, for one group of samples.
    pub(crate) cols: Matrix<T>,
    /// The first sample of the group `cols` holds, when it holds one.
    pub(crate) cols_hold: Option<usize>,
    /// One sample with its zero padding around it, which im2col copies windows from: one
    /// buffer per thread.
    pub(crate) padded: Vec<Vec<T>>,
    /// The gradient of `cols` on its way back to the input.
    pub(crate) dcols: Matrix<T>,
    /// One group's share of the weight gradient, before it is added to the others.
    pub(crate) partial: Matrix<T>,
    /// Pooling: for each output value, the index in its sample's row of the input it came
    /// from.
    pub(crate) argmax: Vec<u32>,
}

impl<T: Float> Scratch<T> {
    /// Empty buffers; they grow to fit the first batch.
    pub(crate) fn new() -> Self {
        Scratch {
            cols: Matrix::zeros(0, 0),
            cols_hold: None,
            padded: Vec::new(),
            dcols: Matrix::zeros(0, 0),
            partial: Matrix::zeros(0, 0),
            argmax: Vec::new(),
        }
    }
}
