//! [`BatchNorm`]: batch normalisation (Ioffe & Szegedy, 2015), channel by channel. A
//! training batch is normalised by its own mean and variance, then scaled by a learnt `γ`
//! and shifted by a learnt `β`; evaluation uses running averages of those statistics, learnt
//! along the way. After a dense layer a channel is one feature; after a convolution it is one
//! feature map, normalised over every pixel of every sample. PyTorch's `BatchNorm1d` and
//! `BatchNorm2d` compute the same, with the same defaults. The book's chapter "Batch
//! normalisation" derives the backward pass, batch coupling and all.

use super::{
    Input, LayerGradients, LayerKind, Mode, Scratch, activation_backward, activation_name,
    image_form,
};
use crate::blocks::matmul::{run_all, workers_for};
use crate::blocks::matrix::Matrix;
use crate::float::Float;
use crate::nn::activation::Activation;
use crate::nn::shape::{Shape, ShapeError};
use std::fmt;

/// The weight of a batch's statistics in the running averages, PyTorch's default.
pub const MOMENTUM: f32 = 0.1;

/// Added to the variance before its square root is taken, PyTorch's default.
pub const EPSILON: f32 = 1e-5;

/// Batch normalisation of `shape`-shaped samples, one `γ` and `β` per channel; see the
/// [module documentation](self).
#[derive(Clone, PartialEq)]
pub struct BatchNorm<T: Float = f32> {
    shape: Shape,
    /// `γ`, one per channel, as a `1 × C` matrix: the layer's weights.
    gamma: Matrix<T>,
    /// `β`, one per channel: the layer's bias.
    beta: Vec<T>,
    running_mean: Vec<T>,
    running_var: Vec<T>,
    /// Training batches the running statistics have learnt from (PyTorch's
    /// `num_batches_tracked`).
    batches: u64,
    /// Kept at `f32`, as the model file stores them, so a saved layer computes what it did.
    momentum: f32,
    epsilon: f32,
    activation: Activation,
}

impl<T: Float> BatchNorm<T> {
    /// A fresh layer for `shape`-shaped samples: `γ = 1`, `β = 0`, running mean 0 and
    /// variance 1, [`MOMENTUM`] and [`EPSILON`].
    ///
    /// # Panics
    /// If [`try_new`](Self::try_new) refuses the shape.
    pub fn new(shape: Shape, activation: Activation) -> Self {
        Self::try_new(shape, activation).unwrap_or_else(|e| panic!("BatchNorm::new: {e}"))
    }

    /// [`new`](Self::new), with an error for an empty or uncountable shape.
    pub fn try_new(shape: Shape, activation: Activation) -> Result<Self, ShapeError> {
        if shape.checked_volume().is_none_or(|v| v == 0) {
            return Err(ShapeError::Zero(format!(
                "batch normalisation cannot read an empty input ({shape})"
            )));
        }
        let c = shape.channels;
        Ok(BatchNorm {
            shape,
            gamma: Matrix::filled(1, c, T::ONE),
            beta: vec![T::ZERO; c],
            running_mean: vec![T::ZERO; c],
            running_var: vec![T::ONE; c],
            batches: 0,
            momentum: MOMENTUM,
            epsilon: EPSILON,
            activation,
        })
    }

    /// A layer with every value given, as a model file holds it: `(γ, β, running mean,
    /// running variance)`, the batch count, and `(momentum, ε)`.
    ///
    /// # Errors
    /// If a slice is not one per channel, a variance is negative or not finite, the momentum
    /// is not in `(0, 1]` or `ε` is not positive and finite.
    pub fn from_parts(
        shape: Shape,
        (gamma, beta, running_mean, running_var): (Vec<T>, Vec<T>, Vec<T>, Vec<T>),
        batches: u64,
        (momentum, epsilon): (f32, f32),
        activation: Activation,
    ) -> Result<Self, ShapeError> {
        let mut layer = Self::try_new(shape, activation)?;
        let c = shape.channels;
        for (what, len) in [
            ("γ", gamma.len()),
            ("β", beta.len()),
            ("running mean", running_mean.len()),
            ("running variance", running_var.len()),
        ] {
            if len != c {
                return Err(ShapeError::Parameters(format!(
                    "a batch normalisation {what} of length {len} for {c} channels"
                )));
            }
        }
        if let Some(v) = running_var
            .iter()
            .find(|v| !(v.is_finite() && **v >= T::ZERO))
        {
            return Err(ShapeError::Parameters(format!(
                "a running variance of {v:?}: variances are finite and at least 0"
            )));
        }
        if !(momentum > 0.0 && momentum <= 1.0) {
            return Err(ShapeError::Parameters(format!(
                "a batch normalisation momentum of {momentum}, not in (0, 1]"
            )));
        }
        if !(epsilon.is_finite() && epsilon > 0.0) {
            return Err(ShapeError::Parameters(format!(
                "a batch normalisation ε of {epsilon}, not positive and finite"
            )));
        }
        layer.gamma = Matrix::from_vec(1, c, gamma);
        (layer.beta, layer.running_mean, layer.running_var) = (beta, running_mean, running_var);
        (layer.batches, layer.momentum, layer.epsilon) = (batches, momentum, epsilon);
        Ok(layer)
    }

    /// The number of channels `C`: of `γ`, `β` and the statistics.
    pub fn channels(&self) -> usize {
        self.shape.channels
    }

    /// `γ`, one per channel.
    pub fn gamma(&self) -> &[T] {
        self.gamma.as_slice()
    }

    /// `β`, one per channel.
    pub fn beta(&self) -> &[T] {
        &self.beta
    }

    /// The running mean, one per channel, that evaluation normalises with.
    pub fn running_mean(&self) -> &[T] {
        &self.running_mean
    }

    /// The running variance (unbiased, as PyTorch keeps it), one per channel.
    pub fn running_var(&self) -> &[T] {
        &self.running_var
    }

    /// Training batches the running statistics have learnt from.
    pub fn batches_tracked(&self) -> u64 {
        self.batches
    }

    /// The weight of each training batch in the running statistics.
    pub fn momentum(&self) -> f32 {
        self.momentum
    }

    /// `ε`, added to a variance before its square root.
    pub fn epsilon(&self) -> f32 {
        self.epsilon
    }

    /// The activation applied to the normalised output (the identity unless asked).
    pub fn activation(&self) -> Activation {
        self.activation
    }

    /// `1/√(v + ε)`, in `f64`, rounded to the layer's type.
    fn inverse_std(&self, variance: f64) -> T {
        T::from_f64(1.0 / (variance + f64::from(self.epsilon)).sqrt())
    }

    fn check_input(&self, x: &Input<'_, T>) -> usize {
        let volume = self.shape.volume();
        assert_eq!(
            x.cols(),
            volume,
            "{self:?} was given a batch of {}×{}: it takes {volume} values per sample",
            x.rows(),
            x.cols()
        );
        x.rows() * self.shape.height * self.shape.width
    }

    // ANCHOR: batch_norm_statistics
    /// The mean and the (biased) variance of every channel of `x`, `n` rows of `C` values,
    /// in `f64`, summed by [`sum_per_channel`] so that no thread count changes them.
    fn batch_statistics(x: &[T], channels: usize) -> (Vec<f64>, Vec<f64>) {
        let n = (x.len() / channels) as f64;
        let [sum] = sum_per_channel(x, x, channels, |_, v, _| [v.to_f64()]);
        let mean: Vec<f64> = sum.iter().map(|s| s / n).collect();
        // The second pass sums squares of differences, not differences of squares: no
        // cancellation when the mean is large against the spread.
        let [squares] = sum_per_channel(x, x, channels, |j, v, _| {
            let d = v.to_f64() - mean[j];
            [d * d]
        });
        let var = squares.iter().map(|s| s / n).collect();
        (mean, var)
    }
    // ANCHOR_END: batch_norm_statistics
}

/// Rows of channels summed together before a block's sums join the others: 1,024 pixels
/// of a feature map, or 1,024 samples after a dense layer.
const BLOCK_ROWS: usize = 1024;

// ANCHOR: sum_per_channel
/// `K` sums per channel of `term(j, a, b)` over every row of `a` and `b` (rows of `c`
/// values, `j` the channel), in `f64`. The rows are summed in blocks of [`BLOCK_ROWS`], the
/// blocks shared among the threads, and the blocks' sums then added in order: the blocks
/// are the same on any number of threads, and so is every bit of the result.
fn sum_per_channel<T: Float, const K: usize>(
    a: &[T],
    b: &[T],
    c: usize,
    term: impl Fn(usize, T, T) -> [f64; K] + Sync,
) -> [Vec<f64>; K] {
    assert_eq!(
        a.len(),
        b.len(),
        "sum_per_channel: {} against {} values",
        a.len(),
        b.len()
    );
    let block = BLOCK_ROWS * c;
    let blocks = a.len().div_ceil(block);
    // Block i's sums are partial[i·K·c..(i + 1)·K·c]: sum k of channel j at k·c + j.
    let mut partial = vec![0.0f64; blocks * K * c];
    let per_worker = blocks.div_ceil(workers_for(a.len())).max(1);
    let bands = a
        .chunks(per_worker * block)
        .zip(b.chunks(per_worker * block));
    let term = &term;
    run_all(
        bands
            .zip(partial.chunks_mut(per_worker * K * c))
            .map(|((a, b), partial)| {
                move || {
                    let blocks = a.chunks(block).zip(b.chunks(block));
                    for ((a, b), sums) in blocks.zip(partial.chunks_exact_mut(K * c)) {
                        for (a, b) in a.chunks_exact(c).zip(b.chunks_exact(c)) {
                            for j in 0..c {
                                let t = term(j, a[j], b[j]);
                                for k in 0..K {
                                    sums[k * c + j] += t[k];
                                }
                            }
                        }
                    }
                }
            }),
    );
    std::array::from_fn(|k| {
        let mut total = vec![0.0f64; c];
        for sums in partial.chunks_exact(K * c) {
            total
                .iter_mut()
                .zip(&sums[k * c..(k + 1) * c])
                .for_each(|(t, s)| *t += s);
        }
        total
    })
}
// ANCHOR_END: sum_per_channel

/// `y = σ(γ·(x − μ)·s + β)` for every value of every channel, `μ` and `s` (the inverse
/// standard deviation) per channel: in bands of whole rows, one per thread.
fn normalise<T: Float>(
    x: &[T],
    out: &mut [T],
    (mean, inv_std): (&[T], &[T]),
    (gamma, beta): (&[T], &[T]),
    activation: Activation,
) {
    let c = mean.len();
    let band = (x.len() / c).div_ceil(workers_for(x.len())).max(1) * c;
    run_all(x.chunks(band).zip(out.chunks_mut(band)).map(|(x, out)| {
        move || {
            for (x, out) in x.chunks_exact(c).zip(out.chunks_exact_mut(c)) {
                for j in 0..c {
                    let x_hat = (x[j] - mean[j]) * inv_std[j];
                    out[j] = activation.apply(gamma[j] * x_hat + beta[j]);
                }
            }
        }
    }));
}

impl<T: Float> LayerKind<T> for BatchNorm<T> {
    fn input_shape(&self) -> Shape {
        self.shape
    }

    fn output_shape(&self) -> Shape {
        self.shape
    }

    fn activation(&self) -> Option<Activation> {
        Some(self.activation)
    }

    fn weights(&self) -> Option<&Matrix<T>> {
        Some(&self.gamma)
    }

    fn bias(&self) -> Option<&[T]> {
        Some(&self.beta)
    }

    fn params_mut(&mut self) -> Option<(&mut Matrix<T>, &mut [T])> {
        Some((&mut self.gamma, &mut self.beta))
    }

    /// `batchnorm 128`, `batchnorm 32×14×14 relu`: the identity, its usual activation, is
    /// not named.
    fn summary(&self, output: bool) -> String {
        let shape = match self.shape.is_flat() {
            true => self.shape.to_string(),
            false => image_form(self.shape),
        };
        match self.activation {
            Activation::Identity if !output => format!("batchnorm {shape}"),
            a => format!("batchnorm {shape} {}", activation_name(a, output)),
        }
    }

    /// Two after a dense layer, whose channels have one value per sample: a variance needs
    /// two values. After a convolution every pixel counts, so one sample is enough.
    fn min_training_batch(&self) -> usize {
        if self.shape.height * self.shape.width == 1 {
            2
        } else {
            1
        }
    }

    fn running_statistics(&self) -> Option<(&[T], &[T], u64)> {
        Some((&self.running_mean, &self.running_var, self.batches))
    }

    fn running_statistics_mut(&mut self) -> Option<(&mut [T], &mut [T], &mut u64)> {
        let (mean, var, batches) = (
            &mut self.running_mean,
            &mut self.running_var,
            &mut self.batches,
        );
        Some((mean, var, batches))
    }

    // ANCHOR: batch_norm_track
    /// The running statistics take in the batch's: `r ← (1 − m)·r + m·b`, with the batch's
    /// variance made unbiased (`× N/(N − 1)`) as PyTorch's running variance is.
    fn track_batch(&mut self, scratch: &Scratch<T>) {
        let n = scratch.bn_count as f64;
        if n < 2.0 {
            return; // no batch has been normalised in training since the last one
        }
        let m = f64::from(self.momentum);
        let means = self.running_mean.iter_mut().zip(&scratch.bn_mean);
        for (r, &b) in means {
            *r = T::from_f64((1.0 - m) * r.to_f64() + m * b);
        }
        let vars = self.running_var.iter_mut().zip(&scratch.bn_var);
        for (r, &b) in vars {
            *r = T::from_f64((1.0 - m) * r.to_f64() + m * b * n / (n - 1.0));
        }
        self.batches += 1;
    }
    // ANCHOR_END: batch_norm_track

    // ANCHOR: batch_norm_forward
    /// Training: each channel normalised by the batch's own mean and variance, which
    /// `scratch` keeps for the backward pass and for [`track_batch`](Self::track_batch).
    /// Evaluation: by the running statistics.
    fn forward_into(
        &self,
        x: Input<'_, T>,
        out: &mut Matrix<T>,
        scratch: &mut Scratch<T>,
        mode: Mode,
    ) {
        let values = self.check_input(&x); // per channel
        let x = x
            .dense(self)
            .contiguous()
            .expect("a batch stored row by row");
        out.reshape_for_overwrite(x.len() / self.shape.volume(), self.shape.volume());
        let c = self.channels();
        let (mean, inv_std): (Vec<T>, Vec<T>) = match mode {
            Mode::Train => {
                assert!(
                    values >= 2,
                    "batch normalisation needs more than one value per channel to train on, \
                     and this batch has {values}: give it batches of at least 2 samples"
                );
                let (mean, var) = Self::batch_statistics(x, c);
                let inv_std = var.iter().map(|&v| self.inverse_std(v)).collect();
                let mean_t = mean.iter().map(|&m| T::from_f64(m)).collect();
                (scratch.bn_mean, scratch.bn_var, scratch.bn_count) = (mean, var, values);
                (mean_t, inv_std)
            }
            Mode::Evaluate => {
                let var = self
                    .running_var
                    .iter()
                    .map(|v| self.inverse_std(v.to_f64()));
                (self.running_mean.clone(), var.collect())
            }
        };
        let gamma_beta = (self.gamma.as_slice(), &self.beta[..]);
        normalise(
            x,
            out.as_mut_slice(),
            (&mean, &inv_std),
            gamma_beta,
            self.activation,
        );
        (scratch.bn_norm_mean, scratch.bn_inv_std) = (mean, inv_std);
    }
    // ANCHOR_END: batch_norm_forward

    // ANCHOR: batch_norm_backward
    /// Through the activation to `δ = ∂L/∂y`, then, per channel over its `N` values,
    /// `∂L/∂β = Σδ`, `∂L/∂γ = Σδ·x̂` and, because the mean and the variance are the batch's
    /// own, `∂L/∂x = γ·s·(δ − Σδ/N − x̂·Σδx̂/N)`: each input moves every output of its channel.
    fn backward_into(
        &self,
        x: Input<'_, T>,
        output: &mut Matrix<T>,
        grad: &mut Matrix<T>,
        scratch: &mut Scratch<T>,
        grads: &mut LayerGradients<T>,
        send_back: bool,
    ) {
        activation_backward(self.activation, output, grad); // δ = ∂L/∂y, over the output
        let n = self.check_input(&x) as f64;
        let x = x
            .dense(self)
            .contiguous()
            .expect("a batch stored row by row");
        let (c, delta) = (self.channels(), output.as_slice());
        let (mean, inv_std) = (&scratch.bn_norm_mean, &scratch.bn_inv_std);
        let x_hat = |x: T, j: usize| (x - mean[j]) * inv_std[j]; // as the forward pass did
        let [sum, sum_x_hat] = sum_per_channel(x, delta, c, |j, x, d| {
            [d.to_f64(), (d * x_hat(x, j)).to_f64()]
        });
        grads.weights.reset(1, c);
        grads.bias.clear();
        for j in 0..c {
            grads.weights.as_mut_slice()[j] = T::from_f64(sum_x_hat[j]); // ∂L/∂γ
            grads.bias.push(T::from_f64(sum[j])); // ∂L/∂β
        }
        if !send_back {
            return;
        }
        let mean_d: Vec<T> = sum.iter().map(|&s| T::from_f64(s / n)).collect();
        let mean_dx: Vec<T> = sum_x_hat.iter().map(|&s| T::from_f64(s / n)).collect();
        let scale: Vec<T> = (0..c)
            .map(|j| self.gamma.as_slice()[j] * inv_std[j])
            .collect();
        grad.reshape_for_overwrite(output.rows(), output.cols());
        let band = (x.len() / c).div_ceil(workers_for(x.len())).max(1) * c;
        let rows = x.chunks(band).zip(delta.chunks(band));
        let (mean_d, mean_dx, scale) = (&mean_d, &mean_dx, &scale);
        run_all(
            rows.zip(grad.as_mut_slice().chunks_mut(band))
                .map(|((x, d), g)| {
                    move || {
                        let pixels = x.chunks_exact(c).zip(d.chunks_exact(c));
                        for ((x, d), g) in pixels.zip(g.chunks_exact_mut(c)) {
                            for j in 0..c {
                                g[j] = scale[j] * (d[j] - mean_d[j] - x_hat(x[j], j) * mean_dx[j]);
                            }
                        }
                    }
                }),
        );
    }
    // ANCHOR_END: batch_norm_backward
}

/// `BatchNorm(16×28×28, momentum 0.1, ε 0.00001, identity)`.
impl<T: Float> fmt::Debug for BatchNorm<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "BatchNorm({}, momentum {}, ε {}, {})",
            self.shape, self.momentum, self.epsilon, self.activation
        )
    }
}

/// Batch normalisation straight from its definition, value by value in `f64`, for the
/// tests to hold the layer to.
pub mod reference {
    use super::BatchNorm;
    use crate::blocks::matrix::Matrix;
    use crate::float::Float;

    /// Each channel's values over the whole batch, and the channel count.
    fn channels<T: Float>(layer: &BatchNorm<T>, x: &Matrix<T>) -> (Vec<Vec<f64>>, usize) {
        let c = layer.channels();
        let mut by_channel = vec![Vec::new(); c];
        for (i, &v) in x.as_slice().iter().enumerate() {
            by_channel[i % c].push(v.to_f64());
        }
        (by_channel, c)
    }

    /// Each channel's batch mean and biased variance.
    fn statistics(values: &[Vec<f64>]) -> Vec<(f64, f64)> {
        values
            .iter()
            .map(|v| {
                let mean = v.iter().sum::<f64>() / v.len() as f64;
                let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / v.len() as f64;
                (mean, var)
            })
            .collect()
    }

    /// `(∂L/∂γ, ∂L/∂β, ∂L/∂x)` of a training batch `x` for the gradient `g = ∂L/∂y` of its
    /// output, for a layer whose activation is the identity: the chain rule through the
    /// normalisation written term by term, `∂x̂ᵢ/∂xₖ = s·(1{i = k} − 1/N − x̂ᵢ·x̂ₖ/N)`, with no
    /// sum rearranged.
    ///
    /// # Panics
    /// If the layer's activation is not the identity.
    pub fn backward<T: Float>(
        layer: &BatchNorm<T>,
        x: &Matrix<T>,
        g: &Matrix<T>,
    ) -> (Vec<f64>, Vec<f64>, Matrix<f64>) {
        assert_eq!(
            layer.activation(),
            crate::nn::activation::Activation::Identity,
            "the reference backward pass is for the identity"
        );
        let (values, c) = channels(layer, x);
        let (grads, _) = channels(layer, g);
        let eps = f64::from(layer.epsilon());
        let stats = statistics(&values);
        let (mut dgamma, mut dbeta) = (vec![0.0; c], vec![0.0; c]);
        let mut dx_by_channel = vec![Vec::new(); c];
        for j in 0..c {
            let (mean, var) = stats[j];
            let s = 1.0 / (var + eps).sqrt();
            let n = values[j].len() as f64;
            let x_hat: Vec<f64> = values[j].iter().map(|v| (v - mean) * s).collect();
            let gamma = layer.gamma()[j].to_f64();
            for (i, &gi) in grads[j].iter().enumerate() {
                dbeta[j] += gi;
                dgamma[j] += gi * x_hat[i];
            }
            for k in 0..values[j].len() {
                let mut sum = 0.0;
                for (i, &gi) in grads[j].iter().enumerate() {
                    let same = if i == k { 1.0 } else { 0.0 };
                    sum += gi * gamma * s * (same - 1.0 / n - x_hat[i] * x_hat[k] / n);
                }
                dx_by_channel[j].push(sum);
            }
        }
        let mut dx = Matrix::zeros(x.rows(), x.cols());
        let mut next = vec![0; c];
        for (i, d) in dx.as_mut_slice().iter_mut().enumerate() {
            *d = dx_by_channel[i % c][next[i % c]];
            next[i % c] += 1;
        }
        (dgamma, dbeta, dx)
    }

    /// The output of a training batch, normalised by the batch's statistics.
    pub fn forward_train<T: Float>(layer: &BatchNorm<T>, x: &Matrix<T>) -> Matrix<T> {
        let (values, c) = channels(layer, x);
        let eps = f64::from(layer.epsilon());
        let stats = statistics(&values);
        let mut out = Matrix::zeros(x.rows(), x.cols());
        for (i, (o, &v)) in out.as_mut_slice().iter_mut().zip(x.as_slice()).enumerate() {
            let (j, (mean, var)) = (i % c, stats[i % c]);
            let y = layer.gamma()[j].to_f64() * (v.to_f64() - mean) / (var + eps).sqrt()
                + layer.beta()[j].to_f64();
            *o = layer.activation().apply(T::from_f64(y));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::{BLOCK_ROWS, sum_per_channel};
    use crate::blocks::matmul::set_threads;
    use crate::blocks::rng::Rng;

    /// The blocks' sums, block by block and row by row, added in order: what
    /// `sum_per_channel` must give to the bit, on any number of threads.
    fn by_blocks(x: &[f32], c: usize) -> Vec<f64> {
        let mut total = vec![0.0f64; c];
        for block in x.chunks(BLOCK_ROWS * c) {
            let mut sums = vec![0.0f64; c];
            for row in block.chunks_exact(c) {
                sums.iter_mut()
                    .zip(row)
                    .for_each(|(s, &v)| *s += f64::from(v));
            }
            total.iter_mut().zip(&sums).for_each(|(t, s)| *t += s);
        }
        total
    }

    #[test]
    fn sums_per_channel_are_the_blocks_in_order_on_any_thread_count() {
        let mut rng = Rng::new(7);
        // Enough values for two threads and a last block that is not full; one row; one
        // block exactly; a single channel; no rows at all.
        for (rows, c) in [(2500, 30), (1, 5), (BLOCK_ROWS, 3), (3000, 1), (0, 4)] {
            let x: Vec<f32> = (0..rows * c)
                .map(|_| rng.next_f64() as f32 * 8.0 - 3.0)
                .collect();
            let expected = by_blocks(&x, c);
            for threads in [1, 2, 3] {
                set_threads(threads);
                let [sum] = sum_per_channel(&x, &x, c, |_, v, _| [f64::from(v)]);
                assert_eq!(sum, expected, "{rows}×{c} on {threads} threads");
            }
            set_threads(0);
            // and a plain sum to within rounding
            for (j, s) in expected.iter().enumerate() {
                let plain: f64 = x.iter().skip(j).step_by(c).map(|&v| f64::from(v)).sum();
                assert!(
                    (s - plain).abs() <= 1e-9 * plain.abs().max(1.0),
                    "{s} against {plain}"
                );
            }
        }
    }

    #[test]
    fn sums_per_channel_pass_each_channel_its_own_values() {
        // 3 channels, 2 rows: a = [1 2 3; 4 5 6], b = 10·a. Sum k = 0 counts channel j's
        // index, k = 1 multiplies a by b.
        let a = [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0];
        let b: Vec<f32> = a.iter().map(|v| v * 10.0).collect();
        let [index, product] =
            sum_per_channel(&a, &b, 3, |j, a, b| [j as f64, f64::from(a) * f64::from(b)]);
        assert_eq!(index, [0.0, 2.0, 4.0]);
        assert_eq!(product, [170.0, 290.0, 450.0]);
    }
}
