//! The optimisers: the rules that turn a gradient into a step. [`Optimiser`] names one with
//! its settings; the update of one array of parameters is a public function for each, so
//! that it can be read, and tested against its closed form, on its own. The book's chapter
//! "Training" derives them.

use super::{BadConfig, Setting};
use crate::float::Float;
use crate::nn::layer::{Layer, LayerGradients, LayerKind};
use crate::nn::network::{Gradients, Network};
use std::fmt;

/// Which rule [`Network::fit`] steps with, and its settings. Weight decay, common to all
/// three, is [`TrainConfig::weight_decay`](super::TrainConfig::weight_decay): coupled (added
/// to the gradient) for SGD and Adam, decoupled for AdamW. Biases are never decayed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Optimiser {
    /// Stochastic gradient descent with momentum, as in PyTorch's `SGD`: see [`sgd_update`].
    Sgd {
        /// Momentum μ in `[0, 1)`; 0 is plain gradient descent.
        momentum: f64,
    },
    /// Adam (Kingma & Ba, 2015), as in PyTorch's `Adam`: see [`adam_update`].
    Adam {
        /// Decay of the running mean of gradients, `β₁` in `[0, 1)`; 0.9 usually.
        beta1: f64,
        /// Decay of the running mean of squared gradients, `β₂` in `(0, 1)`; 0.999 usually.
        beta2: f64,
        /// Added to the root of that mean before dividing by it, `ε > 0`; 1e-8 usually.
        epsilon: f64,
    },
    /// AdamW (Loshchilov & Hutter, 2019): Adam with the weight decay taken out of the
    /// gradient and applied to the weights directly, `θ ← θ − η·λ·θ`.
    AdamW {
        /// As for [`Optimiser::Adam`].
        beta1: f64,
        /// As for [`Optimiser::Adam`].
        beta2: f64,
        /// As for [`Optimiser::Adam`].
        epsilon: f64,
    },
}

impl Optimiser {
    /// Adam with the usual `β₁ = 0.9`, `β₂ = 0.999`, `ε = 1e-8`.
    pub const ADAM: Optimiser = Optimiser::Adam {
        beta1: 0.9,
        beta2: 0.999,
        epsilon: 1e-8,
    };
    /// AdamW with the usual `β₁ = 0.9`, `β₂ = 0.999`, `ε = 1e-8`.
    pub const ADAMW: Optimiser = Optimiser::AdamW {
        beta1: 0.9,
        beta2: 0.999,
        epsilon: 1e-8,
    };

    /// SGD with momentum `momentum` (0 for plain gradient descent).
    pub const fn sgd(momentum: f64) -> Self {
        Optimiser::Sgd { momentum }
    }

    /// The decay of the running mean of gradients: SGD's momentum μ or Adam's `β₁`, the two
    /// faces of one idea, and what the `train` example's `--momentum` sets.
    pub fn momentum(&self) -> f64 {
        match *self {
            Optimiser::Sgd { momentum } => momentum,
            Optimiser::Adam { beta1, .. } | Optimiser::AdamW { beta1, .. } => beta1,
        }
    }

    /// The same optimiser with [`momentum`](Self::momentum) set to `momentum`.
    pub fn with_momentum(self, momentum: f64) -> Self {
        match self {
            Optimiser::Sgd { .. } => Optimiser::Sgd { momentum },
            Optimiser::Adam { beta2, epsilon, .. } => Optimiser::Adam {
                beta1: momentum,
                beta2,
                epsilon,
            },
            Optimiser::AdamW { beta2, epsilon, .. } => Optimiser::AdamW {
                beta1: momentum,
                beta2,
                epsilon,
            },
        }
    }

    /// `sgd`, `adam` or `adamw`.
    pub fn name(&self) -> &'static str {
        match self {
            Optimiser::Sgd { .. } => "sgd",
            Optimiser::Adam { .. } => "adam",
            Optimiser::AdamW { .. } => "adamw",
        }
    }

    /// Checks every setting's range, naming the first one that is outside it: the one
    /// rule for them, which [`TrainConfig::validate`](super::TrainConfig::validate) and
    /// parsing both apply.
    pub fn check(&self) -> Result<(), BadConfig> {
        let (momentum, setting) = match self {
            Optimiser::Sgd { momentum } => (*momentum, Setting::Momentum),
            Optimiser::Adam { beta1, .. } | Optimiser::AdamW { beta1, .. } => {
                (*beta1, Setting::Beta1)
            }
        };
        if !(0.0..1.0).contains(&momentum) {
            return Err(BadConfig::new(
                setting,
                format!("must be in [0, 1), got {momentum}"),
            ));
        }
        if let Optimiser::Adam { beta2, epsilon, .. } | Optimiser::AdamW { beta2, epsilon, .. } =
            *self
        {
            if !(beta2 > 0.0 && beta2 < 1.0) {
                return Err(BadConfig::new(
                    Setting::Beta2,
                    format!("must be in (0, 1), got {beta2}"),
                ));
            }
            if !(epsilon.is_finite() && epsilon > 0.0) {
                return Err(BadConfig::new(
                    Setting::Epsilon,
                    format!("must be positive and finite, got {epsilon}"),
                ));
            }
        }
        Ok(())
    }
}

impl fmt::Display for Optimiser {
    /// `sgd`, `adam` or `adamw`, with `:β₂:ε` when they are not the usual ones: the form
    /// the `train` example's `--optimizer` flag takes. The momentum (or `β₁`) is not part
    /// of it: that flag is `--momentum`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())?;
        if let Optimiser::Adam { beta2, epsilon, .. } | Optimiser::AdamW { beta2, epsilon, .. } =
            *self
            && (beta2, epsilon) != (0.999, 1e-8)
        {
            write!(f, ":{beta2}:{epsilon}")?;
        }
        Ok(())
    }
}

/// Why text could not be read as an [`Optimiser`]: a message naming the text and the
/// problem.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadOptimiser(pub String);

impl fmt::Display for BadOptimiser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BadOptimiser {}

impl std::str::FromStr for Optimiser {
    type Err = BadOptimiser;

    /// Reads the [`Display`](fmt::Display) form: `sgd`, `adam`, `adamw`, or
    /// `adam:BETA2:EPSILON` (likewise `adamw:…`). The momentum or `β₁` is 0.9; set it with
    /// [`with_momentum`](Optimiser::with_momentum).
    ///
    /// ```
    /// use simplenn::train::Optimiser;
    /// assert_eq!("adam".parse(), Ok(Optimiser::ADAM));
    /// assert_eq!(
    ///     "adamw:0.99:1e-6".parse(),
    ///     Ok(Optimiser::AdamW { beta1: 0.9, beta2: 0.99, epsilon: 1e-6 })
    /// );
    /// assert!("adam:2:1e-8".parse::<Optimiser>().unwrap_err().0.contains("beta2"));
    /// ```
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = |why: &str| {
            BadOptimiser(format!(
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
        let beta1 = 0.9;
        let optimiser = match name {
            "sgd" if numbers.is_empty() => Optimiser::Sgd { momentum: 0.9 },
            "sgd" => return Err(bad("sgd takes no parameters (its momentum is --momentum)")),
            "adam" => Optimiser::Adam {
                beta1,
                beta2,
                epsilon,
            },
            "adamw" => Optimiser::AdamW {
                beta1,
                beta2,
                epsilon,
            },
            _ => return Err(bad("unknown optimiser")),
        };
        optimiser.check().map_err(|e| bad(&e.to_string()))?;
        Ok(optimiser)
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

/// An optimiser at work: its rule with its settings, the weight decay, and its memory of
/// the steps so far (SGD's velocities, or Adam's step count and running means) shaped like
/// the network's parameters. The settings and the memory are one value, so they cannot
/// disagree.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Stepper<T: Float> {
    weight_decay: f64,
    rule: Rule<T>,
}

#[derive(Clone, Debug, PartialEq)]
enum Rule<T: Float> {
    /// SGD, with one velocity per parameter when the momentum is not 0 (none otherwise).
    Sgd {
        momentum: f64,
        velocity: Vec<LayerGradients<T>>,
    },
    /// Adam (AdamW when `decoupled`) after `t` steps, with the running means of the
    /// gradients and of their squares.
    Adam {
        beta1: f64,
        beta2: f64,
        epsilon: f64,
        decoupled: bool,
        t: u64,
        m: Vec<LayerGradients<T>>,
        v: Vec<LayerGradients<T>>,
    },
}

impl<T: Float> Stepper<T> {
    /// The optimiser `settings` with `weight_decay`, before its first step on `network`.
    pub(crate) fn new(settings: Optimiser, weight_decay: f64, network: &Network<T>) -> Self {
        let zeros = || Gradients::zeros_like(network).layers;
        let adam = |beta1, beta2, epsilon, decoupled| Rule::Adam {
            beta1,
            beta2,
            epsilon,
            decoupled,
            t: 0,
            m: zeros(),
            v: zeros(),
        };
        let rule = match settings {
            Optimiser::Sgd { momentum } => Rule::Sgd {
                momentum,
                velocity: if momentum > 0.0 { zeros() } else { Vec::new() },
            },
            Optimiser::Adam {
                beta1,
                beta2,
                epsilon,
            } => adam(beta1, beta2, epsilon, false),
            Optimiser::AdamW {
                beta1,
                beta2,
                epsilon,
            } => adam(beta1, beta2, epsilon, true),
        };
        Stepper { weight_decay, rule }
    }

    /// Which arrays the memory holds, as a checkpoint records it: 0 none (SGD without
    /// momentum), 1 SGD's velocities, 2 Adam's two running means.
    pub(crate) fn kind(&self) -> u8 {
        match &self.rule {
            Rule::Sgd { velocity, .. } if velocity.is_empty() => 0,
            Rule::Sgd { .. } => 1,
            Rule::Adam { .. } => 2,
        }
    }

    /// Adam's step count (0 for SGD, which needs none).
    pub(crate) fn steps(&self) -> u64 {
        match self.rule {
            Rule::Adam { t, .. } => t,
            Rule::Sgd { .. } => 0,
        }
    }

    /// Sets Adam's step count, as a checkpoint recorded it; SGD has none to set.
    pub(crate) fn set_steps(&mut self, steps: u64) {
        if let Rule::Adam { t, .. } = &mut self.rule {
            *t = steps;
        }
    }

    /// The arrays of the memory, in a fixed order (checkpoints write them so).
    pub(crate) fn arrays(&self) -> Vec<&[T]> {
        let layers: Vec<&LayerGradients<T>> = match &self.rule {
            Rule::Sgd { velocity, .. } => velocity.iter().collect(),
            Rule::Adam { m, v, .. } => m.iter().chain(v).collect(),
        };
        layers
            .into_iter()
            .flat_map(|l| [l.weights.as_slice(), l.bias.as_slice()])
            .collect()
    }

    /// [`arrays`](Self::arrays), to be written into (checkpoints read them so).
    pub(crate) fn arrays_mut(&mut self) -> Vec<&mut [T]> {
        let layers: Vec<&mut LayerGradients<T>> = match &mut self.rule {
            Rule::Sgd { velocity, .. } => velocity.iter_mut().collect(),
            Rule::Adam { m, v, .. } => m.iter_mut().chain(v.iter_mut()).collect(),
        };
        layers
            .into_iter()
            .flat_map(|l| [l.weights.as_mut_slice(), l.bias.as_mut_slice()])
            .collect()
    }

    /// One step of size `lr` against `grads`.
    pub(crate) fn step(&mut self, network: &mut Network<T>, grads: &Gradients<T>, lr: f64) {
        let layers = network.layers_mut().iter_mut().zip(&grads.layers);
        match &mut self.rule {
            Rule::Sgd { momentum, velocity } => {
                let (lr, mu) = (T::from_f64(lr), T::from_f64(*momentum));
                let decay = T::from_f64(self.weight_decay);
                for (l, (layer, g)) in layers.enumerate() {
                    let Some((weights, bias)) = layer.params_mut() else {
                        continue; // pooling has no parameters
                    };
                    let mut v = velocity.get_mut(l); // none without momentum
                    let v_weights = v.as_mut().map(|v| v.weights.as_mut_slice());
                    let w = weights.as_mut_slice();
                    sgd_update(w, g.weights.as_slice(), v_weights, lr, mu, decay);
                    let v_bias = v.map(|v| v.bias.as_mut_slice());
                    sgd_update(bias, &g.bias, v_bias, lr, mu, T::ZERO); // no decay
                }
            }
            Rule::Adam {
                beta1,
                beta2,
                epsilon,
                decoupled,
                t,
                m,
                v,
            } => {
                *t += 1;
                let step = AdamStep {
                    lr,
                    beta1: *beta1,
                    beta2: *beta2,
                    epsilon: *epsilon,
                    t: *t,
                    decay: self.weight_decay,
                    decoupled: *decoupled,
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
        .filter_map(LayerKind::params_mut)
        .flat_map(|(w, b)| [w.as_mut_slice(), b])
        .collect()
}
