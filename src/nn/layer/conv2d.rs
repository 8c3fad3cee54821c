//! [`Conv2d`]: a 2-D convolution, `k × k` kernels slid over an image, computed as one
//! matrix product.
//!
//! Input `H × W × C` (channels last, see [`crate::nn::shape`]), `OC` kernels, stride `s`, `p`
//! pixels of zero padding: output pixel `(oy, ox)` of channel `o` is
//! `b[o] + Σ_{ky, kx, c} x[oy·s + ky − p, ox·s + kx − p, c] · W[(ky·k + kx)·C + c, o]`, and
//! the output is `OH × OW × OC` with `OH = (H + 2p − k)/s + 1`. [`reference`](mod@reference)
//! is that sum as nested loops, the oracle of the tests; the fast path copies every window
//! into a row (im2col) so that the layer is one product with the packed matrix kernels, and
//! its output rows are already the next layer's channels-last input. The book's chapter
//! "Convolutional networks" derives both passes.
//!
//! The weights are stored as a `(k·k·C) × OC` matrix: row `(ky·k + kx)·C + c` holds the
//! weights from input channel `c` at kernel position `(ky, kx)`, column `o` one kernel.

use super::{
    Input, LayerGradients, LayerKind, Mode, Scratch, activation_backward, activation_name,
    image_form,
};
use crate::blocks::matmul::{View, gemm, gemm_pair, gemm_to_slice, run_all, workers_for};
use crate::blocks::matrix::Matrix;
use crate::float::Float;
use crate::nn::activation::Activation;
use crate::nn::shape::{Shape, ShapeError};
use std::fmt;

/// How much zero padding surrounds the image, as layer descriptions name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Padding {
    /// `(k − 1)/2` pixels on every side, for an odd kernel size `k`: with stride 1 the output
    /// is as large as the input ("same"), with stride `s` it is `⌈H/s⌉ × ⌈W/s⌉`.
    Same,
    /// No padding: every window lies inside the image, and the output shrinks by `k − 1`.
    Valid,
    /// This many pixels on every side.
    Pixels(usize),
}

impl Padding {
    /// The pixels on each side for a kernel of size `kernel`, or why there is no such number
    /// ("same" needs an odd kernel to pad both sides equally).
    pub fn pixels(self, kernel: usize) -> Result<usize, ShapeError> {
        match self {
            Padding::Same if kernel % 2 == 1 => Ok((kernel - 1) / 2),
            Padding::Same => Err(ShapeError::EvenSame { kernel }),
            Padding::Valid => Ok(0),
            Padding::Pixels(p) => Ok(p),
        }
    }
}

/// Rows of im2col kept at once: the fast path convolves a batch a group of samples at a
/// time, so that its `cols` buffer stays near `COLS_BUDGET` values (8 MB of `f32`) however
/// large the batch (a full-batch step or an evaluation chunk would otherwise need gigabytes).
/// The group size depends only on the layer's shape, never on the thread count, so results
/// do not either.
const COLS_BUDGET: usize = 1 << 21;

/// A 2-D convolution layer: `a = σ(conv(x, W) + b)`; see the [module documentation](self).
#[derive(Clone, PartialEq)]
pub struct Conv2d<T: Float = f32> {
    input: Shape,
    output: Shape,
    kernel: usize,
    stride: usize,
    padding: usize,
    /// `(k·k·C) × OC`, one column per kernel.
    weights: Matrix<T>,
    /// One bias per output channel.
    bias: Vec<T>,
    activation: Activation,
}

impl<T: Float> Conv2d<T> {
    /// The output shape of `channels` kernels of size `kernel × kernel` with this stride and
    /// padding (pixels per side) on an `input`-shaped image, or why there is none.
    pub fn output_shape_for(
        input: Shape,
        channels: usize,
        kernel: usize,
        stride: usize,
        padding: usize,
    ) -> Result<Shape, ShapeError> {
        if kernel == 0 || stride == 0 || channels == 0 {
            return Err(ShapeError::Zero(format!(
                "a convolution needs a kernel size, a stride and a channel count of at least 1 \
                 (got kernel {kernel}, stride {stride}, {channels} channels)"
            )));
        }
        if input.channels == 0 || input.height == 0 || input.width == 0 {
            return Err(ShapeError::Zero(format!(
                "a convolution cannot read an empty input ({input})"
            )));
        }
        let size = |side: usize| {
            let padded = padding.checked_mul(2).and_then(|p| p.checked_add(side))?;
            (padded >= kernel).then(|| (padded - kernel) / stride + 1)
        };
        let (Some(height), Some(width)) = (size(input.height), size(input.width)) else {
            return Err(ShapeError::DoesNotFit {
                window: kernel,
                height: input.height,
                width: input.width,
                padding: Some(padding),
            });
        };
        let output = Shape::image(height, width, channels);
        let patch = kernel
            .checked_mul(kernel)
            .and_then(|kk| kk.checked_mul(input.channels));
        if output.checked_volume().is_none() || patch.is_none() || input.checked_volume().is_none()
        {
            return Err(ShapeError::TooLarge(format!(
                "a {kernel}×{kernel} convolution from {input} to {channels} channels is too large \
                 to count"
            )));
        }
        Ok(output)
    }

    /// A layer reading `input`-shaped samples, from its weights (`(k·k·C) × OC`, see the
    /// module documentation), bias (length `OC`), stride, padding (pixels per side) and
    /// activation. The kernel size `k` follows from the weights' shape.
    ///
    /// # Panics
    /// If the weights are not `(k·k·C) × OC` for a whole `k`, the bias is not `OC` long, or
    /// the kernel does not fit the padded image ([`output_shape_for`](Self::output_shape_for)).
    pub fn new(
        input: Shape,
        weights: Matrix<T>,
        bias: Vec<T>,
        stride: usize,
        padding: usize,
        activation: Activation,
    ) -> Self {
        Self::try_new(input, weights, bias, stride, padding, activation)
            .unwrap_or_else(|e| panic!("Conv2d::new: {e}"))
    }

    /// [`new`](Self::new), with the reason as an error instead of a panic.
    pub fn try_new(
        input: Shape,
        weights: Matrix<T>,
        bias: Vec<T>,
        stride: usize,
        padding: usize,
        activation: Activation,
    ) -> Result<Self, ShapeError> {
        let kernel = (weights.rows() / input.channels.max(1)).isqrt();
        if input.channels == 0 || kernel * kernel * input.channels != weights.rows() {
            return Err(ShapeError::Parameters(format!(
                "{}×{} weights are not (k·k·{}) × channels for any whole kernel size k",
                weights.rows(),
                weights.cols(),
                input.channels
            )));
        }
        if bias.len() != weights.cols() {
            return Err(ShapeError::Parameters(format!(
                "a bias of length {} for {} output channels",
                bias.len(),
                weights.cols()
            )));
        }
        let output = Self::output_shape_for(input, weights.cols(), kernel, stride, padding)?;
        Ok(Conv2d {
            input,
            output,
            kernel,
            stride,
            padding,
            weights,
            bias,
            activation,
        })
    }

    /// The shape of one input sample.
    pub fn input_shape(&self) -> Shape {
        self.input
    }

    /// The shape of one output sample: `OH × OW × OC`.
    pub fn output_shape(&self) -> Shape {
        self.output
    }

    /// The kernel size `k` (kernels are `k × k`).
    pub fn kernel(&self) -> usize {
        self.kernel
    }

    /// Pixels between two windows, across and down.
    pub fn stride(&self) -> usize {
        self.stride
    }

    /// Pixels of zero padding on every side.
    pub fn padding(&self) -> usize {
        self.padding
    }

    /// The weights, `(k·k·C) × OC`: column `o` is kernel `o`, row `(ky·k + kx)·C + c` its
    /// weight for input channel `c` at `(ky, kx)`.
    pub fn weights(&self) -> &Matrix<T> {
        &self.weights
    }

    /// The weights, mutable.
    pub fn weights_mut(&mut self) -> &mut Matrix<T> {
        &mut self.weights
    }

    /// The bias, one per output channel.
    pub fn bias(&self) -> &[T] {
        &self.bias
    }

    /// The bias, mutable.
    pub fn bias_mut(&mut self) -> &mut [T] {
        &mut self.bias
    }

    /// The activation applied to the output.
    pub fn activation(&self) -> Activation {
        self.activation
    }

    /// Values in one window, `k·k·C`: the columns of im2col.
    fn patch(&self) -> usize {
        self.weights.rows()
    }

    /// Samples convolved at a time by the fast path, so that im2col stays near
    /// [`COLS_BUDGET`] values.
    fn group_size(&self) -> usize {
        let per_sample = self.output.height * self.output.width * self.patch();
        (COLS_BUDGET / per_sample.max(1)).max(1)
    }
}

impl<T: Float> LayerKind<T> for Conv2d<T> {
    fn input_shape(&self) -> Shape {
        self.input
    }

    fn output_shape(&self) -> Shape {
        self.output
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

    /// `conv5×5 16×28×28 relu`, with `/2` after the kernel for a stride of 2.
    fn summary(&self, output: bool) -> String {
        let k = self.kernel;
        let stride = match self.stride {
            1 => String::new(),
            s => format!("/{s}"),
        };
        let activation = activation_name(self.activation, output);
        format!(
            "conv{k}×{k}{stride} {} {activation}",
            image_form(self.output)
        )
    }

    // ANCHOR: conv_forward
    /// `out = σ(conv(x, W) + b)` for a batch `x`, one sample per row: im2col, one matrix
    /// product per group of samples written straight into their rows of `out`, then bias
    /// and activation.
    fn forward_into(
        &self,
        x: Input<'_, T>,
        out: &mut Matrix<T>,
        scratch: &mut Scratch<T>,
        _: Mode,
    ) {
        let x = rows_of(x.dense(self), self.input.volume());
        let m = x.len() / self.input.volume();
        let (in_volume, out_volume) = (self.input.volume(), self.output.volume());
        let pixels = self.output.height * self.output.width;
        out.reshape_for_overwrite(m, out_volume);
        let group = self.group_size();
        for first in (0..m).step_by(group) {
            let last = (first + group).min(m);
            let cols = &mut scratch.cols;
            cols.reshape_for_overwrite((last - first) * pixels, self.patch());
            im2col_in_bands(
                self,
                &x[first * in_volume..last * in_volume],
                cols.as_mut_slice(),
                &mut scratch.padded,
            );
            scratch.cols_hold = Some(first);
            // Z = cols · W, (pixels of the group) × OC: the group's rows of `out`.
            let z = &mut out.as_mut_slice()[first * out_volume..last * out_volume];
            gemm_to_slice(cols.view(), self.weights.view(), z);
            let (act, channels) = (self.activation, self.output.channels);
            let band = z
                .len()
                .div_ceil(workers_for(z.len()))
                .next_multiple_of(channels);
            run_all(z.chunks_mut(band.max(channels)).map(|z| {
                move || {
                    for pixel in z.chunks_exact_mut(channels) {
                        for (z, &b) in pixel.iter_mut().zip(&self.bias) {
                            *z = act.apply(*z + b);
                        }
                    }
                }
            }));
        }
    }
    // ANCHOR_END: conv_forward

    // ANCHOR: conv_backward
    /// Through the activation to `δ = ∂L/∂z` (`m × (OH·OW·OC)`), then the weight gradient
    /// `colsᵀ·δ` and, for the layer below, `δ·Wᵀ` added back onto the pixels each window
    /// came from (col2im).
    fn backward_into(
        &self,
        x: Input<'_, T>,
        output: &mut Matrix<T>,
        grad: &mut Matrix<T>,
        scratch: &mut Scratch<T>,
        grads: &mut LayerGradients<T>,
        send_back: bool,
    ) {
        activation_backward(self.activation, output, grad); // δ = ∂L/∂a ⊙ σ′(z)
        let (delta, mut back) = (&*output, send_back.then_some(grad));
        let x = rows_of(x.dense(self), self.input.volume());
        let m = delta.rows();
        let (in_volume, out_volume) = (self.input.volume(), self.output.volume());
        let (pixels, channels) = (self.output.height * self.output.width, self.output.channels);
        if let Some(back) = back.as_deref_mut() {
            back.reset(m, in_volume); // col2im adds into it
        }
        if m == 0 {
            grads.weights.reset(self.patch(), channels);
        }
        let Scratch {
            cols,
            cols_hold,
            padded,
            dcols,
            partial,
            ..
        } = scratch;
        let group = self.group_size();
        for first in (0..m).step_by(group) {
            let last = (first + group).min(m);
            let rows = (last - first) * pixels;
            if *cols_hold != Some(first) {
                // The forward pass left another group in `cols`: rebuild this one.
                cols.reshape_for_overwrite(rows, self.patch());
                im2col_in_bands(
                    self,
                    &x[first * in_volume..last * in_volume],
                    cols.as_mut_slice(),
                    padded,
                );
                *cols_hold = Some(first);
            }
            let d = &delta.as_slice()[first * out_volume..last * out_volume];
            let delta_group = View::from_slice(d, rows, channels); // one row per output pixel
            // ∂L/∂W = colsᵀ · δ: the first group writes it, the others add theirs.
            let target = if first == 0 {
                &mut grads.weights
            } else {
                &mut *partial
            };
            let weight_gradient = (cols.view().t(), delta_group, target);
            match back.as_deref_mut() {
                None => gemm(weight_gradient.0, weight_gradient.1, weight_gradient.2),
                Some(back) => {
                    // ∂L/∂cols = δ · Wᵀ, independent of the weight gradient: side by side.
                    gemm_pair(
                        weight_gradient,
                        (delta_group, self.weights.t(), &mut *dcols),
                    );
                    let grad_x = &mut back.as_mut_slice()[first * in_volume..last * in_volume];
                    // Each sample's windows add onto that sample alone: bands of samples.
                    let samples = last - first;
                    let band = samples.div_ceil(workers_for(dcols.len())).max(1);
                    let sources = dcols.as_slice().chunks(band * pixels * self.patch());
                    let targets = grad_x.chunks_mut(band * in_volume);
                    run_all(
                        sources
                            .zip(targets)
                            .map(|(d, g)| move || col2im_add(self, d, g)),
                    );
                }
            }
            if first > 0 {
                grads.weights.add_scaled(T::ONE, partial);
            }
        }
        // ∂L/∂b = Σ over every output pixel of every sample of δ.
        grads.bias.clear();
        grads.bias.resize(channels, T::ZERO);
        for pixel in delta.as_slice().chunks_exact(channels) {
            for (sum, &d) in grads.bias.iter_mut().zip(pixel) {
                *sum += d;
            }
        }
    }
    // ANCHOR_END: conv_backward
}

/// The rows of a batch view as one slice: layers read batches that are whole matrices or
/// ranges of their rows, never transposed.
fn rows_of<'a, T: Float>(x: View<'a, T>, volume: usize) -> &'a [T] {
    assert_eq!(
        x.cols(),
        volume,
        "a convolution reading samples of {volume} values was given a {}×{} batch",
        x.rows(),
        x.cols()
    );
    x.contiguous()
        .expect("a convolution reads a batch stored row by row, not a transposed view")
}

// ANCHOR: im2col
/// Copies every window of the samples in `x` into a row of `cols` (`(m·OH·OW) × (k·k·C)`):
/// row `(n·OH + oy)·OW + ox` holds the window of output pixel `(oy, ox)` of sample `n`, in
/// the weights' order `(ky·k + kx)·C + c`, with zeros where the window hangs over the edge.
///
/// With channels last, the `k` pixels of one kernel row are `k·C` consecutive values of the
/// input: each kernel row of each window is one copy. The zeros come from copying each
/// sample first into `padded`, the sample with its border of padding around it, so that
/// every window lies inside and every copy is the same length.
fn im2col<T: Float>(layer: &Conv2d<T>, x: &[T], cols: &mut [T], padded: &mut Vec<T>) {
    let Conv2d {
        input,
        output,
        kernel: k,
        stride,
        padding: p,
        ..
    } = *layer;
    let c = input.channels;
    let (width, height) = (input.width + 2 * p, input.height + 2 * p); // with the padding
    let line = input.width * c; // one row of the sample
    let mut rows = cols.chunks_exact_mut(layer.patch());
    for image in x.chunks_exact(input.volume()) {
        let source: &[T] = if p == 0 {
            image
        } else {
            padded.clear();
            padded.resize(width * height * c, T::ZERO);
            for (y, row) in image.chunks_exact(line).enumerate() {
                let at = ((y + p) * width + p) * c;
                padded[at..at + line].copy_from_slice(row);
            }
            padded
        };
        for oy in 0..output.height {
            for ox in 0..output.width {
                let row = rows.next().expect("cols has a row per output pixel");
                for (ky, dst) in row.chunks_exact_mut(k * c).enumerate() {
                    let start = ((oy * stride + ky) * width + ox * stride) * c;
                    copy_short(dst, &source[start..start + k * c]);
                }
            }
        }
    }
}
// ANCHOR_END: im2col

/// [`im2col`] on bands of samples, one per thread when the copying is worth it (each with
/// its own `padded` buffer). Copies, so the split cannot change a value.
fn im2col_in_bands<T: Float>(layer: &Conv2d<T>, x: &[T], cols: &mut [T], padded: &mut Vec<Vec<T>>) {
    let in_volume = layer.input.volume();
    let per_sample = layer.output.height * layer.output.width * layer.patch();
    let samples = x.len() / in_volume;
    let workers = workers_for(cols.len());
    let band = samples.div_ceil(workers).max(1);
    padded.resize_with(workers, Vec::new);
    let bands = x
        .chunks(band * in_volume)
        .zip(cols.chunks_mut(band * per_sample));
    run_all(
        bands
            .zip(padded.iter_mut())
            .map(|((x, cols), padded)| move || im2col(layer, x, cols, padded)),
    );
}

/// `dst.copy_from_slice(src)` for the short runs im2col copies (a kernel row: 5 values for
/// one channel, 80 for 16), in blocks of fixed sizes (8, then 4, 2, 1), each of which the
/// compiler turns into a register move or two. `copy_from_slice` of a length it cannot see
/// calls `memcpy`, and for runs this short the call cost more than the copy (measured: a
/// tenth of a CNN epoch in `memcpy` and `memset`).
#[inline]
fn copy_short<T: Float>(dst: &mut [T], src: &[T]) {
    assert_eq!(dst.len(), src.len(), "copy_short: lengths differ");
    fn block<T: Copy, const N: usize>(dst: &mut [T], src: &[T]) {
        let src: &[T; N] = src.try_into().expect("a block of N");
        let dst: &mut [T; N] = dst.try_into().expect("a block of N");
        *dst = *src;
    }
    let mut d = dst.chunks_exact_mut(8);
    let mut s = src.chunks_exact(8);
    for (d, s) in d.by_ref().zip(s.by_ref()) {
        block::<T, 8>(d, s);
    }
    let (mut d, mut s) = (d.into_remainder(), s.remainder());
    if d.len() >= 4 {
        block::<T, 4>(&mut d[..4], &s[..4]);
        (d, s) = (&mut d[4..], &s[4..]);
    }
    if d.len() >= 2 {
        block::<T, 2>(&mut d[..2], &s[..2]);
        (d, s) = (&mut d[2..], &s[2..]);
    }
    if let (Some(d), Some(&s)) = (d.first_mut(), s.first()) {
        *d = s;
    }
}

/// col2im: adds each row of `dcols` (the gradient of a window) back onto the pixels the
/// window was copied from, in `grad_x` (one row per sample). The reverse of [`im2col`].
fn col2im_add<T: Float>(layer: &Conv2d<T>, dcols: &[T], grad_x: &mut [T]) {
    let Conv2d {
        input,
        output,
        kernel: k,
        ..
    } = *layer;
    let c = input.channels;
    let mut rows = dcols.chunks_exact(layer.patch());
    for image in grad_x.chunks_exact_mut(input.volume()) {
        for oy in 0..output.height {
            for ox in 0..output.width {
                let row = rows.next().expect("dcols has a row per output pixel");
                let (kx_in, x0) = layer.inside(ox, input.width);
                for (ky, src) in row.chunks_exact(k * c).enumerate() {
                    let iy = layer.source_row(oy, ky, input.height);
                    if let (Some(iy), false) = (iy, kx_in.is_empty()) {
                        let start = (iy * input.width + x0) * c;
                        let inside = &src[kx_in.start * c..kx_in.end * c];
                        for (g, &d) in image[start..start + inside.len()].iter_mut().zip(inside) {
                            *g += d;
                        }
                    }
                }
            }
        }
    }
}

impl<T: Float> Conv2d<T> {
    /// The input row read by kernel row `ky` of output row `oy`, if it is inside the image.
    #[inline]
    fn source_row(&self, oy: usize, ky: usize, height: usize) -> Option<usize> {
        (oy * self.stride + ky)
            .checked_sub(self.padding)
            .filter(|&iy| iy < height)
    }

    /// For output column `ox`: the kernel columns whose pixels lie inside the image, and the
    /// input column of the first of them.
    #[inline]
    fn inside(&self, ox: usize, width: usize) -> (std::ops::Range<usize>, usize) {
        let left = ox * self.stride; // input column of kernel column 0, plus the padding
        let start = self.padding.saturating_sub(left).min(self.kernel);
        let end = (width + self.padding)
            .saturating_sub(left)
            .clamp(start, self.kernel);
        (start..end, (left + start).saturating_sub(self.padding))
    }
}

impl<T: Float> fmt::Debug for Conv2d<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Conv2d({}→{}, {k}×{k}, stride {}, padding {}, {})",
            self.input,
            self.output,
            self.stride,
            self.padding,
            self.activation,
            k = self.kernel
        )
    }
}

/// The convolution computed straight from its definition, with nested loops: slow, plainly
/// right, and the oracle the tests hold the fast path to (like
/// [`matmul::reference`](crate::blocks::matmul::reference)).
// The reference follows the formula's indices, one loop per index, on purpose.
#[allow(clippy::needless_range_loop)]
pub mod reference {
    use super::Conv2d;
    use crate::blocks::matrix::Matrix;
    use crate::float::Float;

    /// Where the input value at padded position `(y, x)`, channel `c`, sits in a sample's
    /// row; `None` in the padding, which reads as 0.
    fn input_index<T: Float>(layer: &Conv2d<T>, y: usize, x: usize, c: usize) -> Option<usize> {
        let (iy, ix) = (y.checked_sub(layer.padding)?, x.checked_sub(layer.padding)?);
        let shape = layer.input;
        (iy < shape.height && ix < shape.width).then(|| shape.index(iy, ix, c))
    }

    // ANCHOR: conv_reference
    /// `σ(conv(x, W) + b)` for a batch, one sample per row, by the formula of the module
    /// documentation.
    ///
    /// # Panics
    /// If `x`'s rows are not the layer's input volume.
    pub fn forward<T: Float>(layer: &Conv2d<T>, x: &Matrix<T>) -> Matrix<T> {
        let (input, output, k, s) = (layer.input, layer.output, layer.kernel, layer.stride);
        assert_eq!(
            x.cols(),
            input.volume(),
            "conv2d::reference::forward: wrong input width"
        );
        let mut out = Matrix::zeros(x.rows(), output.volume());
        for n in 0..x.rows() {
            let image = x.row(n);
            for oy in 0..output.height {
                for ox in 0..output.width {
                    for o in 0..output.channels {
                        let mut z = layer.bias[o];
                        for ky in 0..k {
                            for kx in 0..k {
                                for c in 0..input.channels {
                                    let at = input_index(layer, oy * s + ky, ox * s + kx, c);
                                    if let Some(i) = at {
                                        let w = layer
                                            .weights
                                            .row((ky * k + kx) * input.channels + c)[o];
                                        z += image[i] * w;
                                    }
                                }
                            }
                        }
                        out.row_mut(n)[output.index(oy, ox, o)] = layer.activation.apply(z);
                    }
                }
            }
        }
        out
    }
    // ANCHOR_END: conv_reference

    // ANCHOR: conv_reference_backward
    /// The gradients `(∂L/∂W, ∂L/∂b, ∂L/∂x)` for a batch `x` and the gradient `∂L/∂a` of
    /// the loss with respect to the layer's output. Through the activation first, one value
    /// at a time: `δ = ∂L/∂a · σ′(z)`. Then the chain rule applied to one term of the sum at
    /// a time: the term
    /// `x[iy, ix, c] · W[(ky·k + kx)·C + c, o]` of `z[oy, ox, o]` adds
    /// `δ[oy, ox, o] · x[iy, ix, c]` to that weight's gradient and
    /// `δ[oy, ox, o] · W[…, o]` to that input's.
    ///
    /// # Panics
    /// If the shapes do not fit the layer.
    pub fn backward<T: Float>(
        layer: &Conv2d<T>,
        x: &Matrix<T>,
        grad_output: &Matrix<T>,
    ) -> (Matrix<T>, Vec<T>, Matrix<T>) {
        let (input, output, k, s) = (layer.input, layer.output, layer.kernel, layer.stride);
        assert_eq!(
            x.cols(),
            input.volume(),
            "conv2d::reference::backward: wrong input width"
        );
        assert_eq!(
            grad_output.shape(),
            (x.rows(), output.volume()),
            "conv2d::reference::backward: ∂L/∂a"
        );
        let a = forward(layer, x);
        let delta = grad_output.zip_map(&a, |g, a| g * layer.activation.derivative_from_output(a));
        let mut dw = Matrix::zeros(layer.weights.rows(), layer.weights.cols());
        let mut db = vec![T::ZERO; output.channels];
        let mut dx = Matrix::zeros(x.rows(), input.volume());
        for n in 0..x.rows() {
            for oy in 0..output.height {
                for ox in 0..output.width {
                    for o in 0..output.channels {
                        let d = delta.row(n)[output.index(oy, ox, o)];
                        db[o] += d;
                        for ky in 0..k {
                            for kx in 0..k {
                                for c in 0..input.channels {
                                    let at = input_index(layer, oy * s + ky, ox * s + kx, c);
                                    if let Some(i) = at {
                                        let r = (ky * k + kx) * input.channels + c;
                                        dw.row_mut(r)[o] += d * x.row(n)[i];
                                        dx.row_mut(n)[i] += d * layer.weights.row(r)[o];
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        (dw, db, dx)
    }
    // ANCHOR_END: conv_reference_backward
}
