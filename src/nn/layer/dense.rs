//! [`Dense`]: the fully-connected layer, `a = σ(x·W + b)`, with its backward pass.

use super::{
    Input, LayerGradients, LayerKind, Mode, Scratch, activation_backward, activation_name,
};
use crate::blocks::matmul::{gemm, gemm_pair};
use crate::blocks::matrix::Matrix;
use crate::float::Float;
use crate::nn::activation::Activation;
use crate::nn::shape::{Shape, ShapeError};
use std::fmt;

/// One fully-connected layer: `a = σ(x·W + b)`. It reads its input row as a flat vector,
/// whatever [`Shape`] the layer before gave it: flattening is implied.
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
    /// If [`try_new`](Self::try_new) refuses them.
    pub fn new(weights: Matrix<T>, bias: Vec<T>, activation: Activation) -> Self {
        Self::try_new(weights, bias, activation).unwrap_or_else(|e| panic!("Dense::new: {e}"))
    }

    /// [`new`](Self::new), with an error if the bias is not one per column of the weights
    /// or the layer has no inputs or no outputs.
    pub fn try_new(
        weights: Matrix<T>,
        bias: Vec<T>,
        activation: Activation,
    ) -> Result<Self, ShapeError> {
        let (rows, cols) = weights.shape();
        if rows == 0 || cols == 0 {
            return Err(ShapeError::Zero(format!(
                "a dense layer needs at least one input and one unit, not {rows}×{cols} weights"
            )));
        }
        if bias.len() != cols {
            return Err(ShapeError::Parameters(format!(
                "a bias of length {} for a {rows}×{cols} weight matrix",
                bias.len()
            )));
        }
        Ok(Dense {
            weights,
            bias,
            activation,
        })
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

    /// `out = σ(out + b)`, row by row: the rest of the forward pass once `x·W` is in `out`.
    fn add_bias_and_activate(&self, out: &mut Matrix<T>) {
        let act = self.activation;
        for r in 0..out.rows() {
            for (z, &b) in out.row_mut(r).iter_mut().zip(&self.bias) {
                *z = act.apply(*z + b); // a = σ(z + b), fused in one pass
            }
        }
    }

    fn check_input(&self, x: &Input<'_, T>) {
        assert_eq!(
            x.cols(),
            self.inputs(),
            "{self:?} was given a batch of {}×{}: it takes {} values per sample",
            x.rows(),
            x.cols(),
            self.inputs()
        );
    }
}

impl<T: Float> LayerKind<T> for Dense<T> {
    fn input_shape(&self) -> Shape {
        Shape::flat(self.inputs())
    }

    fn output_shape(&self) -> Shape {
        Shape::flat(self.outputs())
    }

    /// Any shape with as many values as the layer has inputs: a dense layer flattens.
    fn accepts(&self, shape: Shape) -> bool {
        shape.checked_volume() == Some(self.inputs())
    }

    fn activation(&self) -> Option<Activation> {
        Some(self.activation)
    }

    fn weights(&self) -> Option<&Matrix<T>> {
        Some(&self.weights)
    }

    fn bias(&self) -> Option<&[T]> {
        Some(&self.bias)
    }

    fn params_mut(&mut self) -> Option<(&mut Matrix<T>, &mut [T])> {
        Some((&mut self.weights, &mut self.bias))
    }

    fn summary(&self, output: bool) -> String {
        let activation = activation_name(self.activation, output);
        format!("{} {activation}", self.outputs())
    }

    fn reads_sparse(&self) -> bool {
        true
    }

    // ANCHOR: dense_forward
    /// `out = σ(x·W + b)` for a batch `x` (one sample per row), dense or kept as its
    /// nonzeros.
    fn forward_into(&self, x: Input<'_, T>, out: &mut Matrix<T>, _: &mut Scratch<T>, _: Mode) {
        self.check_input(&x);
        match x {
            Input::Dense(x) => gemm(x, self.weights.view(), out), // z = x·W
            Input::Sparse(x) => x.matmul_into(self.weights.view(), out), // the same, skipping zeros
        }
        self.add_bias_and_activate(out);
    }
    // ANCHOR_END: dense_forward

    // ANCHOR: dense_backward
    /// Through the activation to `δ = ∂L/∂z`, then the two products and the column sums.
    fn backward_into(
        &self,
        x: Input<'_, T>,
        output: &mut Matrix<T>,
        grad: &mut Matrix<T>,
        _: &mut Scratch<T>,
        grads: &mut LayerGradients<T>,
        send_back: bool,
    ) {
        activation_backward(self.activation, output, grad); // δ = ∂L/∂a ⊙ σ′(z)
        let delta = &*output; // m × outputs
        match x {
            // ∂L/∂W = xᵀ · δ   (inputs × m) · (m × outputs) = inputs × outputs
            Input::Dense(x) => {
                let weight_gradient = (x.t(), delta.view(), &mut grads.weights);
                if send_back {
                    // ...and, independent of it, ∂L/∂x = δ · Wᵀ (m × outputs) · (outputs ×
                    // inputs), the product the layer below needs: the two run side by side.
                    gemm_pair(weight_gradient, (delta.view(), self.weights.t(), grad));
                } else {
                    gemm(weight_gradient.0, weight_gradient.1, weight_gradient.2);
                }
            }
            Input::Sparse(x) => {
                x.t_matmul_into(delta.view(), &mut grads.weights); // skipping x's zeros
                if send_back {
                    gemm(delta.view(), self.weights.t(), grad);
                }
            }
        }
        // ∂L/∂b = Σ over the batch of δ   (outputs)
        delta.column_sums_into(&mut grads.bias);
    }
    // ANCHOR_END: dense_backward
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
