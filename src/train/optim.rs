//! The optimisers: the rules that turn a gradient into a step. [`Optimizer`] chooses one;
//! the update of one array of parameters is a public function for each, so that it can be
//! read, and tested against its closed form, on its own.

use crate::float::Float;
use crate::layer::Layer;
use crate::network::{Gradients, LayerGradients, Network};
use std::fmt;

/// Which rule [`Network::fit`] steps with. [`TrainConfig::momentum`](super::TrainConfig)
/// is the momentum of all three (Adam's `β₁`), and
/// [`TrainConfig::weight_decay`](super::TrainConfig) their weight decay: coupled (added to
/// the gradient) for SGD and Adam, decoupled for AdamW. Biases are never decayed.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub enum Optimizer {
    /// Stochastic gradient descent with momentum, as in PyTorch's `SGD`: see [`sgd_update`].
    #[default]
    Sgd,
    /// Adam (Kingma & Ba, 2015), as in PyTorch's `Adam`: see [`adam_update`].
    Adam {
        /// Decay of the running mean of squared gradients, `β₂` in `(0, 1)`; 0.999 usually.
        beta2: f64,
        /// Added to the root of that mean before dividing by it, `ε > 0`; 1e-8 usually.
        epsilon: f64,
    },
    /// AdamW (Loshchilov & Hutter, 2019): Adam with the weight decay taken out of the
    /// gradient and applied to the weights directly, `θ ← θ − η·λ·θ`.
    AdamW {
        /// As for [`Optimizer::Adam`].
        beta2: f64,
        /// As for [`Optimizer::Adam`].
        epsilon: f64,
    },
}

impl Optimizer {
    /// Adam with the usual `β₂ = 0.999`, `ε = 1e-8`.
    pub const ADAM: Optimizer = Optimizer::Adam {
        beta2: 0.999,
        epsilon: 1e-8,
    };
    /// AdamW with the usual `β₂ = 0.999`, `ε = 1e-8`.
    pub const ADAMW: Optimizer = Optimizer::AdamW {
        beta2: 0.999,
        epsilon: 1e-8,
    };

    /// Checks `β₂` and `ε`, naming the one that is out of range.
    pub(crate) fn validate(&self) -> Result<(), String> {
        if let Optimizer::Adam { beta2, epsilon } | Optimizer::AdamW { beta2, epsilon } = *self {
            if !(beta2 > 0.0 && beta2 < 1.0) {
                return Err(format!(
                    "the optimiser's beta2 must be in (0, 1), got {beta2}"
                ));
            }
            if !(epsilon.is_finite() && epsilon > 0.0) {
                return Err(format!(
                    "the optimiser's epsilon must be positive and finite, got {epsilon}"
                ));
            }
        }
        Ok(())
    }
}

impl fmt::Display for Optimizer {
    /// `sgd`, `adam` or `adamw`, with `:β₂:ε` when they are not the usual ones: the form the
    /// `train` example's `--optimizer` flag takes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (name, beta2, epsilon) = match *self {
            Optimizer::Sgd => return f.write_str("sgd"),
            Optimizer::Adam { beta2, epsilon } => ("adam", beta2, epsilon),
            Optimizer::AdamW { beta2, epsilon } => ("adamw", beta2, epsilon),
        };
        f.write_str(name)?;
        if (beta2, epsilon) != (0.999, 1e-8) {
            write!(f, ":{beta2}:{epsilon}")?;
        }
        Ok(())
    }
}

/// Why text could not be read as an [`Optimizer`]: a message naming the text and the
/// problem.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadOptimizer(pub String);

impl fmt::Display for BadOptimizer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BadOptimizer {}

impl std::str::FromStr for Optimizer {
    type Err = BadOptimizer;

    /// Reads `sgd`, `adam`, `adamw`, or `adam:BETA2:EPSILON` (likewise `adamw:…`).
    ///
    /// ```
    /// use simplenn::train::Optimizer;
    /// assert_eq!("adam".parse(), Ok(Optimizer::ADAM));
    /// assert_eq!("adamw:0.99:1e-6".parse(), Ok(Optimizer::AdamW { beta2: 0.99, epsilon: 1e-6 }));
    /// assert!("adam:2:1e-8".parse::<Optimizer>().unwrap_err().0.contains("beta2"));
    /// ```
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = |why: &str| {
            BadOptimizer(format!(
                "'{text}': {why} (expected sgd, adam, adamw, or adam:BETA2:EPSILON)"
            ))
        };
        let mut parts = text.split(':');
        let name = parts.next().unwrap_or_default();
        let numbers: Vec<&str> = parts.collect();
        let (beta2, epsilon) = match numbers.as_slice() {
            [] => (0.999, 1e-8),
            [b, e] => (
                b.parse().map_err(|_| bad("BETA2 is not a number"))?,
                e.parse().map_err(|_| bad("EPSILON is not a number"))?,
            ),
            _ => return Err(bad("give both BETA2 and EPSILON, or neither")),
        };
        let optimizer = match name {
            "sgd" if numbers.is_empty() => Optimizer::Sgd,
            "sgd" => return Err(bad("sgd takes no parameters (its momentum is --momentum)")),
            "adam" => Optimizer::Adam { beta2, epsilon },
            "adamw" => Optimizer::AdamW { beta2, epsilon },
            _ => return Err(bad("unknown optimiser")),
        };
        optimizer.validate().map_err(|why| bad(&why))?;
        Ok(optimizer)
    }
}

// ANCHOR: sgd
/// One SGD step for one array of parameters θ with gradient `g`, in a single pass:
///
/// - with weight decay λ > 0, the gradient becomes `g + λθ`;
/// - with a velocity `v` (momentum μ), `v ← μv + g` and `θ ← θ − ηv`;
/// - without, `θ ← θ − ηg`.
///
/// One pass, not one per formula: the first layer's weights, their gradient and their
/// velocity are 1.6 MB each for 784-512-…, more than the L2 cache holds, so every extra
/// pass over them is another trip to L3.
///
/// # Panics
/// If the slices differ in length.
pub fn sgd_update<T: Float>(
    theta: &mut [T],
    g: &[T],
    velocity: Option<&mut [T]>,
    lr: T,
    mu: T,
    decay: T,
) {
    assert_eq!(theta.len(), g.len(), "sgd_update: parameters and gradient");
    let decayed = |g: T, p: T| if decay > T::ZERO { g + decay * p } else { g };
    match velocity {
        Some(v) => {
            assert_eq!(v.len(), theta.len(), "sgd_update: parameters and velocity");
            for ((p, &g), v) in theta.iter_mut().zip(g).zip(v) {
                *v = mu * *v + decayed(g, *p);
                *p -= lr * *v;
            }
        }
        None => {
            for (p, &g) in theta.iter_mut().zip(g) {
                *p -= lr * decayed(g, *p);
            }
        }
    }
}
// ANCHOR_END: sgd

/// The settings of one Adam step, the same for every array of a network.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamStep {
    /// Learning rate η.
    pub lr: f64,
    /// Decay of the running mean of gradients, `β₁`.
    pub beta1: f64,
    /// Decay of the running mean of squared gradients, `β₂`.
    pub beta2: f64,
    /// `ε`, added to `√v̂`.
    pub epsilon: f64,
    /// Which step this is, counted from 1: the bias correction needs it.
    pub t: u64,
    /// Weight decay λ for this array (0 for biases).
    pub decay: f64,
    /// True for AdamW: `θ ← θ − ηλθ` outside the gradient; false for Adam: `g ← g + λθ`.
    pub decoupled: bool,
}

// ANCHOR: adam
/// One Adam (or AdamW) step for one array of parameters θ with gradient `g` and running
/// means `m` (of the gradients) and `v` (of their squares), in the order PyTorch computes
/// it:
///
/// ```text
/// AdamW only:  θ ← θ − η·λ·θ                  Adam only:  g ← g + λ·θ
/// m ← β₁·m + (1 − β₁)·g        v ← β₂·v + (1 − β₂)·g²
/// θ ← θ − η/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + ε)
/// ```
///
/// `m` and `v` start at zero, so early on they are too small by the factors `1 − β₁ᵗ` and
/// `1 − β₂ᵗ`; dividing by them ("bias correction") makes the first steps the right size.
/// The step of each parameter is then about `η` times the sign of its recent gradients,
/// whatever their scale.
///
/// # Panics
/// If the slices differ in length, or `step.t` is 0.
pub fn adam_update<T: Float>(theta: &mut [T], g: &[T], m: &mut [T], v: &mut [T], step: AdamStep) {
    assert_eq!(theta.len(), g.len(), "adam_update: parameters and gradient");
    assert_eq!(theta.len(), m.len(), "adam_update: parameters and m");
    assert_eq!(theta.len(), v.len(), "adam_update: parameters and v");
    assert!(step.t >= 1, "adam_update: steps count from 1");
    let t = i32::try_from(step.t).unwrap_or(i32::MAX);
    let step_size = T::from_f64(step.lr / (1.0 - step.beta1.powi(t)));
    let root_correction = T::from_f64((1.0 - step.beta2.powi(t)).sqrt());
    let (b1, b2, eps) = (
        T::from_f64(step.beta1),
        T::from_f64(step.beta2),
        T::from_f64(step.epsilon),
    );
    let (one_minus_b1, one_minus_b2) = (T::ONE - b1, T::ONE - b2);
    let decay = T::from_f64(step.decay);
    let shrink = T::ONE - T::from_f64(step.lr * step.decay);
    for (((p, &g), m), v) in theta.iter_mut().zip(g).zip(m).zip(v) {
        let g = if step.decoupled {
            *p *= shrink;
            g
        } else {
            g + decay * *p
        };
        *m = b1 * *m + one_minus_b1 * g;
        *v = b2 * *v + one_minus_b2 * g * g;
        *p -= step_size * *m / (v.sqrt() / root_correction + eps);
    }
}
// ANCHOR_END: adam

/// An optimiser's memory between steps: SGD's velocities, or Adam's step count and running
/// means, one entry per layer, shaped like the layer's parameters.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum State<T: Float> {
    /// SGD; no velocities when the momentum is 0.
    Sgd { velocity: Vec<LayerGradients<T>> },
    /// Adam or AdamW after `t` steps.
    Adam {
        t: u64,
        m: Vec<LayerGradients<T>>,
        v: Vec<LayerGradients<T>>,
    },
}

impl<T: Float> State<T> {
    /// The state before the first step.
    pub(crate) fn new(network: &Network<T>, optimizer: Optimizer, momentum: f64) -> Self {
        let zeros = || Gradients::zeros_like(network).layers;
        match optimizer {
            Optimizer::Sgd if momentum > 0.0 => State::Sgd { velocity: zeros() },
            Optimizer::Sgd => State::Sgd {
                velocity: Vec::new(),
            },
            Optimizer::Adam { .. } | Optimizer::AdamW { .. } => State::Adam {
                t: 0,
                m: zeros(),
                v: zeros(),
            },
        }
    }

    /// The arrays of the state, in a fixed order (checkpoints write them so).
    pub(crate) fn arrays(&self) -> Vec<&[T]> {
        let layers: Vec<&LayerGradients<T>> = match self {
            State::Sgd { velocity } => velocity.iter().collect(),
            State::Adam { m, v, .. } => m.iter().chain(v).collect(),
        };
        layers
            .into_iter()
            .flat_map(|l| [l.weights.as_slice(), l.bias.as_slice()])
            .collect()
    }

    /// [`arrays`](Self::arrays), to be written into (checkpoints read them so).
    pub(crate) fn arrays_mut(&mut self) -> Vec<&mut [T]> {
        let layers: Vec<&mut LayerGradients<T>> = match self {
            State::Sgd { velocity } => velocity.iter_mut().collect(),
            State::Adam { m, v, .. } => m.iter_mut().chain(v.iter_mut()).collect(),
        };
        layers
            .into_iter()
            .flat_map(|l| [l.weights.as_mut_slice(), l.bias.as_mut_slice()])
            .collect()
    }

    /// Which arrays the state holds, as a checkpoint records it: 0 none (SGD without
    /// momentum), 1 SGD's velocities, 2 Adam's two running means.
    pub(crate) fn kind(&self) -> u8 {
        match self {
            State::Sgd { velocity } if velocity.is_empty() => 0,
            State::Sgd { .. } => 1,
            State::Adam { .. } => 2,
        }
    }

    /// One step of size `lr` against `grads`, with the settings of `optimizer`.
    pub(crate) fn step(
        &mut self,
        network: &mut Network<T>,
        grads: &Gradients<T>,
        optimizer: Optimizer,
        lr: f64,
        momentum: f64,
        weight_decay: f64,
    ) {
        let layers = network.layers_mut().iter_mut().zip(&grads.layers);
        match self {
            State::Sgd { velocity } => {
                let (lr, mu, decay) = (
                    T::from_f64(lr),
                    T::from_f64(momentum),
                    T::from_f64(weight_decay),
                );
                for (l, (layer, g)) in layers.enumerate() {
                    let Some((weights, bias)) = layer.params_mut() else {
                        continue; // pooling has no parameters
                    };
                    let mut v = velocity.get_mut(l);
                    let v_weights = v.as_mut().map(|v| v.weights.as_mut_slice());
                    sgd_update(
                        weights.as_mut_slice(),
                        g.weights.as_slice(),
                        v_weights,
                        lr,
                        mu,
                        decay,
                    );
                    let v_bias = v.map(|v| v.bias.as_mut_slice());
                    sgd_update(bias, &g.bias, v_bias, lr, mu, T::ZERO); // no decay
                }
            }
            State::Adam { t, m, v } => {
                let (Optimizer::Adam { beta2, epsilon } | Optimizer::AdamW { beta2, epsilon }) =
                    optimizer
                else {
                    unreachable!("an Adam state steps with Adam or AdamW");
                };
                *t += 1;
                let step = AdamStep {
                    lr,
                    beta1: momentum,
                    beta2,
                    epsilon,
                    t: *t,
                    decay: weight_decay,
                    decoupled: matches!(optimizer, Optimizer::AdamW { .. }),
                };
                for ((layer, g), (m, v)) in layers.zip(m.iter_mut().zip(v.iter_mut())) {
                    let Some((weights, bias)) = layer.params_mut() else {
                        continue;
                    };
                    let w = (m.weights.as_mut_slice(), v.weights.as_mut_slice());
                    adam_update(weights.as_mut_slice(), g.weights.as_slice(), w.0, w.1, step);
                    let no_decay = AdamStep { decay: 0.0, ..step };
                    adam_update(bias, &g.bias, &mut m.bias, &mut v.bias, no_decay);
                }
            }
        }
    }
}

/// The parameter arrays of `layers` (weights, then bias, layer by layer), for checkpoints.
pub(crate) fn parameter_slices<T: Float>(layers: &[Layer<T>]) -> Vec<&[T]> {
    layers
        .iter()
        .filter_map(|l| Some([l.weights()?.as_slice(), l.bias()?]))
        .flatten()
        .collect()
}

/// [`parameter_slices`], to be written into.
pub(crate) fn parameter_arrays<T: Float>(layers: &mut [Layer<T>]) -> Vec<&mut [T]> {
    layers
        .iter_mut()
        .filter_map(Layer::params_mut)
        .flat_map(|(w, b)| [w.as_mut_slice(), b])
        .collect()
}
