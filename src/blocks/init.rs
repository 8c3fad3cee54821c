//! Weight initialisation: where gradient descent starts.
//!
//! Each scheme picks the weights' variance from a layer's fan-in (inputs per unit) and
//! fan-out, so that a signal keeps its scale through the layers; the book's chapter
//! "Initialisation" derives them and measures what a badly scaled start costs.

use crate::blocks::matrix::{Matrix, uniform_sample};
use crate::blocks::rng::Rng;
use crate::float::Float;
use std::fmt;
use std::str::FromStr;

// ANCHOR: init
/// How to draw a dense layer's initial weights and biases.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Init {
    /// The original NumPy project's: every weight **and every bias** from U(−0.5, 0.5),
    /// whatever the layer's size (`np.random.rand(10, 784) - 0.5`). For 784 inputs in
    /// [0, 1] this makes pre-activations with a standard deviation of several units, far from
    /// the well-scaled start the other schemes give; the network still learns, slowly.
    Original,
    /// Glorot & Bengio (2010), "Understanding the difficulty of training deep feedforward
    /// neural networks": weights from U(−r, r) with `r = √(6 / (fan_in + fan_out))`, so the
    /// variance `2 / (fan_in + fan_out)` balances the forward and the backward pass. Biases
    /// zero. Meant for tanh and sigmoid.
    Xavier,
    /// He, Zhang, Ren & Sun (2015), "Delving deep into rectifiers": weights from
    /// N(0, 2 / fan_in). ReLU zeroes half its inputs on average, halving the variance; the
    /// factor 2 puts it back. Biases zero. Meant for ReLU.
    He,
}

impl Init {
    /// Draws a `fan_in × fan_out` weight matrix and a bias vector of length `fan_out`.
    pub fn sample<T: Float>(
        self,
        fan_in: usize,
        fan_out: usize,
        rng: &mut Rng,
    ) -> (Matrix<T>, Vec<T>) {
        self.draw(fan_in, fan_out, fan_in, fan_out, rng)
    }

    /// Draws a convolution's `(k·k·C) × OC` weights and `OC` biases (`k = kernel`,
    /// `C = in_channels`, `OC = out_channels`). A unit of the output reads `k·k·C` inputs,
    /// its fan-in; each input is read by `k·k·OC` weights, its fan-out (Glorot & Bengio's
    /// definition for convolutions, and PyTorch's).
    pub fn sample_conv<T: Float>(
        self,
        kernel: usize,
        in_channels: usize,
        out_channels: usize,
        rng: &mut Rng,
    ) -> (Matrix<T>, Vec<T>) {
        let taps = kernel * kernel;
        let (fan_in, fan_out) = (taps * in_channels, taps * out_channels);
        self.draw(fan_in, out_channels, fan_in, fan_out, rng)
    }

    /// A `rows × cols` weight matrix and `cols` biases, scaled for the given fans.
    fn draw<T: Float>(
        self,
        rows: usize,
        cols: usize,
        fan_in: usize,
        fan_out: usize,
        rng: &mut Rng,
    ) -> (Matrix<T>, Vec<T>) {
        match self {
            Init::Original => {
                let weights = Matrix::random_uniform(rows, cols, -0.5, 0.5, rng);
                let bias = (0..cols).map(|_| uniform_sample(rng, -0.5, 0.5)).collect();
                (weights, bias)
            }
            Init::Xavier => {
                let r = (6.0 / (fan_in + fan_out) as f64).sqrt();
                (
                    Matrix::random_uniform(rows, cols, -r, r, rng),
                    vec![T::ZERO; cols],
                )
            }
            Init::He => {
                let std = (2.0 / fan_in as f64).sqrt();
                (
                    Matrix::random_normal(rows, cols, 0.0, std, rng),
                    vec![T::ZERO; cols],
                )
            }
        }
    }
}
// ANCHOR_END: init

impl Init {
    /// All schemes, for tests and command-line help.
    pub const ALL: [Init; 3] = [Init::Original, Init::Xavier, Init::He];

    /// The lower-case name used in messages and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Init::Original => "original",
            Init::Xavier => "xavier",
            Init::He => "he",
        }
    }
}

impl fmt::Display for Init {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The error for an unknown initialisation name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownInit(pub String);

impl fmt::Display for UnknownInit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown initialisation '{}' (expected original, xavier or he)",
            self.0
        )
    }
}

impl std::error::Error for UnknownInit {}

impl FromStr for Init {
    type Err = UnknownInit;

    /// Parses a name as printed by [`Init::name`], ignoring case; `glorot` means `xavier`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.eq_ignore_ascii_case("glorot") {
            return Ok(Init::Xavier);
        }
        Init::ALL
            .into_iter()
            .find(|i| i.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownInit(s.to_string()))
    }
}
