//! Activation functions: the non-linearity between one layer's matrix product and the next.
//!
//! Each is applied element-wise. Its derivative σ′ is written in terms of the *output*
//! `a = σ(z)` alone, so the forward pass need not keep `z` (the book's chapter "The forward
//! pass" derives these):
//!
//! | activation | σ(z) | σ′(z) in terms of a = σ(z) |
//! | --- | --- | --- |
//! | identity | z | 1 |
//! | ReLU | max(0, z) | 1 if a > 0 else 0 |
//! | sigmoid | 1 / (1 + e⁻ᶻ) | a (1 − a) |
//! | tanh | tanh z | 1 − a² |

use crate::float::Float;
use std::fmt;
use std::str::FromStr;

/// An element-wise activation function.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Activation {
    /// `σ(z) = z`: no non-linearity. The output layer uses it: softmax comes with the loss.
    Identity,
    /// Rectified linear unit, `max(0, z)`. Cheap, and its gradient does not vanish for
    /// positive inputs, which is why deep networks train with it.
    Relu,
    /// The logistic function `1 / (1 + e⁻ᶻ)`, squashing to `(0, 1)`.
    Sigmoid,
    /// Hyperbolic tangent, squashing to `(−1, 1)`; a sigmoid centred on zero.
    Tanh,
}

impl Activation {
    /// All activations, for tests and command-line help.
    pub const ALL: [Activation; 4] = [
        Activation::Identity,
        Activation::Relu,
        Activation::Sigmoid,
        Activation::Tanh,
    ];

    // ANCHOR: apply
    /// `σ(z)`.
    #[inline]
    pub fn apply<T: Float>(self, z: T) -> T {
        match self {
            Activation::Identity => z,
            Activation::Relu => z.max(T::ZERO),
            // Written so that e^(−|z|) ≤ 1 is the only exponential: e⁻ᶻ would overflow
            // to infinity for z < −89 in f32 (the result would still be right, 1/∞ = 0,
            // but only by luck).
            Activation::Sigmoid => {
                let e = (-z.abs()).exp();
                if z >= T::ZERO {
                    T::ONE / (T::ONE + e)
                } else {
                    e / (T::ONE + e)
                }
            }
            Activation::Tanh => z.tanh(),
        }
    }

    /// `σ′(z)`, given the output `a = σ(z)` (see the table in the module docs).
    #[inline]
    pub fn derivative_from_output<T: Float>(self, a: T) -> T {
        match self {
            Activation::Identity => T::ONE,
            Activation::Relu => {
                if a > T::ZERO {
                    T::ONE
                } else {
                    T::ZERO
                }
            }
            Activation::Sigmoid => a * (T::ONE - a),
            Activation::Tanh => T::ONE - a * a,
        }
    }
    // ANCHOR_END: apply

    /// The lower-case name used in messages and on the command line: `relu`, `sigmoid`,
    /// `tanh`, `identity`.
    pub fn name(self) -> &'static str {
        match self {
            Activation::Identity => "identity",
            Activation::Relu => "relu",
            Activation::Sigmoid => "sigmoid",
            Activation::Tanh => "tanh",
        }
    }
}

impl fmt::Display for Activation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The error for an unknown activation name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownActivation(pub String);

impl fmt::Display for UnknownActivation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown activation '{}' (expected relu, sigmoid, tanh or identity)",
            self.0
        )
    }
}

impl std::error::Error for UnknownActivation {}

impl FromStr for Activation {
    type Err = UnknownActivation;

    /// Parses a name as printed by [`Activation::name`], ignoring case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Activation::ALL
            .into_iter()
            .find(|a| a.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownActivation(s.to_string()))
    }
}
