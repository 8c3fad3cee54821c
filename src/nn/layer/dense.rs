//! [`Dense`]: the fully-connected layer, `a = σ(x·W + b)`.

use crate::activation::Activation;
use crate::float::Float;
use crate::matmul::sparse::SparseRows;
use crate::matmul::{View, gemm, gemm_pair};
use crate::matrix::Matrix;
use crate::network::LayerGradients;
use std::fmt;

/// One fully-connected layer: `a = σ(x·W + b)`. It reads its input row as a flat vector,
/// whatever [`Shape`](crate::Shape) the layer before gave it: flattening is implied.
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

    /// Weights and bias together, mutable, for an optimiser's step.
    pub(crate) fn params_mut(&mut self) -> (&mut Matrix<T>, &mut [T]) {
        (&mut self.weights, &mut self.bias)
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
        self.add_bias_and_activate(out);
    }

    /// `out = σ(out + b)`, row by row: the rest of the forward pass once `x·W` is in `out`.
    fn add_bias_and_activate(&self, out: &mut Matrix<T>) {
        let act = self.activation;
        for r in 0..out.rows() {
            for (z, &b) in out.row_mut(r).iter_mut().zip(&self.bias) {
                *z = act.apply(*z + b); // a = σ(z + b), fused in one pass
            }
        }
    }
    // ANCHOR_END: dense_forward

    // ANCHOR: dense_backward
    /// The backward pass, given the batch `x` the layer read and `δ = ∂L/∂z` (`m × outputs`):
    /// writes `∂L/∂W` and `∂L/∂b` into `grads` and, when the layer below needs it, the error
    /// `δ·Wᵀ` into `back` (`m × inputs`).
    pub(crate) fn backward(
        &self,
        x: View<'_, T>,
        delta: &Matrix<T>,
        grads: &mut LayerGradients<T>,
        back: Option<&mut Matrix<T>>,
    ) {
        // ∂L/∂W = xᵀ · δ   (inputs × m) · (m × outputs) = inputs × outputs
        let weight_gradient = (x.t(), delta.view(), &mut grads.weights);
        match back {
            None => gemm(weight_gradient.0, weight_gradient.1, weight_gradient.2),
            // ...and, independent of it, δ · Wᵀ   (m × outputs) · (outputs × inputs), the
            // product the layer below needs: the two run side by side.
            Some(back) => gemm_pair(weight_gradient, (delta.view(), self.weights.t(), back)),
        }
        // ∂L/∂b = Σ over the batch of δ   (outputs)
        delta.column_sums_into(&mut grads.bias);
    }
    // ANCHOR_END: dense_backward

    // ANCHOR: dense_sparse
    /// [`forward_into`](Self::forward_into) for a batch kept as its nonzeros.
    pub(crate) fn forward_sparse_into(&self, x: &SparseRows<T>, out: &mut Matrix<T>) {
        x.matmul_into(self.weights.view(), out); // z = x·W, skipping x's zeros
        self.add_bias_and_activate(out);
    }

    /// [`backward`](Self::backward) for a batch kept as its nonzeros, as the first layer
    /// reads it: no error to send further down.
    pub(crate) fn backward_sparse(
        &self,
        x: &SparseRows<T>,
        delta: &Matrix<T>,
        grads: &mut LayerGradients<T>,
    ) {
        x.t_matmul_into(delta.view(), &mut grads.weights); // ∂L/∂W = xᵀ·δ
        delta.column_sums_into(&mut grads.bias);
    }
    // ANCHOR_END: dense_sparse
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
