//! Adam and AdamW: the update against its closed form, against an independent implementation
//! of the paper's algorithm, and inside `fit`.

use simplenn::LayerKind;
use simplenn::train::optim::{AdamStep, adam_update};
use simplenn::{Batch, Matrix, Network, Optimiser, Rng, TrainConfig};

fn step(t: u64) -> AdamStep {
    AdamStep {
        lr: 0.01,
        beta1: 0.9,
        beta2: 0.999,
        epsilon: 1e-8,
        t,
        decay: 0.0,
        decoupled: false,
    }
}

/// With a constant gradient the bias-corrected means are exact from the first step,
/// `m̂ = g` and `v̂ = g²`, so every step is `η·g/(|g| + ε)`: after `t` steps
/// `θ = θ₀ − t·η·g/(|g| + ε)`.
#[test]
fn adam_with_a_constant_gradient_steps_by_the_learning_rate() {
    let g = [0.5, -2.0, 1e-3, 0.0];
    let theta0 = [1.0, 2.0, -3.0, 4.0f64];
    let mut theta = theta0;
    let (mut m, mut v) = ([0.0; 4], [0.0; 4]);
    for t in 1..=20 {
        adam_update(&mut theta, &g, &mut m, &mut v, step(t));
    }
    for i in 0..4 {
        let expected = theta0[i] - 20.0 * 0.01 * g[i] / (g[i].abs() + 1e-8);
        assert!(
            (theta[i] - expected).abs() < 1e-12,
            "parameter {i}: {} against {expected}",
            theta[i]
        );
    }
}

/// AdamW with a zero gradient only decays: `θ_t = θ₀·(1 − ηλ)ᵗ`; Adam, whose decay goes
/// through the normalisation, moves each weight by about `η` per step instead.
#[test]
fn adamw_decay_is_decoupled_and_adam_decay_is_not() {
    let theta0 = [3.0, -0.5f64];
    let (lr, decay) = (0.01, 0.1);
    let mut theta = theta0;
    let (mut m, mut v) = ([0.0; 2], [0.0; 2]);
    for t in 1..=10 {
        let s = AdamStep {
            lr,
            decay,
            decoupled: true,
            ..step(t)
        };
        adam_update(&mut theta, &[0.0, 0.0], &mut m, &mut v, s);
    }
    for i in 0..2 {
        let expected = theta0[i] * (1.0 - lr * decay).powi(10);
        assert!(
            (theta[i] - expected).abs() < 1e-14,
            "{} vs {expected}",
            theta[i]
        );
    }
    // Coupled: the gradient is λθ, normalised to about ±1, so the step is η·|g|/(|g| + ε).
    let mut theta = theta0;
    let (mut m, mut v) = ([0.0; 2], [0.0; 2]);
    let s = AdamStep {
        lr,
        decay,
        ..step(1)
    };
    adam_update(&mut theta, &[0.0, 0.0], &mut m, &mut v, s);
    assert!((theta[0] - (3.0 - lr)).abs() < 1e-8, "{}", theta[0]);
    assert!((theta[1] - (-0.5 + lr)).abs() < 1e-8, "{}", theta[1]);
}

/// Algorithm 1 of Kingma & Ba (2015), written out plainly in f64: the oracle.
struct PaperAdam {
    m: Vec<f64>,
    v: Vec<f64>,
    t: i32,
}

impl PaperAdam {
    fn new(n: usize) -> Self {
        PaperAdam {
            m: vec![0.0; n],
            v: vec![0.0; n],
            t: 0,
        }
    }

    /// One step; `decay` as Adam's L2 (added to g) or, with `decoupled`, as AdamW's.
    fn step(&mut self, theta: &mut [f64], g: &[f64], s: AdamStep) {
        self.t += 1;
        for i in 0..theta.len() {
            let mut g = g[i];
            if s.decoupled {
                theta[i] -= s.lr * s.decay * theta[i];
            } else {
                g += s.decay * theta[i];
            }
            self.m[i] = s.beta1 * self.m[i] + (1.0 - s.beta1) * g;
            self.v[i] = s.beta2 * self.v[i] + (1.0 - s.beta2) * g * g;
            let m_hat = self.m[i] / (1.0 - s.beta1.powi(self.t));
            let v_hat = self.v[i] / (1.0 - s.beta2.powi(self.t));
            theta[i] -= s.lr * m_hat / (v_hat.sqrt() + s.epsilon);
        }
    }
}

#[test]
fn adam_and_adamw_match_the_paper_over_varying_gradients() {
    let mut rng = Rng::new(5);
    for decoupled in [false, true] {
        let n = 7;
        let mut theta: Vec<f64> = (0..n).map(|_| rng.uniform(-1.0, 1.0)).collect();
        let mut oracle_theta = theta.clone();
        let (mut m, mut v) = (vec![0.0; n], vec![0.0; n]);
        let mut oracle = PaperAdam::new(n);
        for t in 1..=12 {
            let g: Vec<f64> = (0..n).map(|_| rng.uniform(-3.0, 3.0)).collect();
            let s = AdamStep {
                lr: 0.05,
                beta1: 0.8,
                beta2: 0.99,
                epsilon: 1e-6,
                t,
                decay: 0.02,
                decoupled,
            };
            adam_update(&mut theta, &g, &mut m, &mut v, s);
            oracle.step(&mut oracle_theta, &g, s);
        }
        for (a, b) in theta.iter().zip(&oracle_theta) {
            assert!((a - b).abs() < 1e-12, "decoupled {decoupled}: {a} vs {b}");
        }
    }
}

/// `fit` with Adam on a network without hidden layers, full batch, against the oracle
/// stepping the same weights with the gradients `loss_and_gradients` gives: `β₁` is the one
/// set, the step count runs across epochs, and biases are not decayed.
#[test]
fn fit_with_adam_and_adamw_steps_as_the_paper_says() {
    let mut rng = Rng::new(11);
    let x = Matrix::<f64>::from_fn(12, 3, |_, _| rng.uniform(-1.0, 1.0));
    let labels: Vec<usize> = (0..12).map(|i| i % 2).collect();
    for (optimiser, decoupled) in [(Optimiser::ADAM, false), (Optimiser::ADAMW, true)] {
        let optimiser = optimiser.with_momentum(0.85);
        let start: Network<f64> = Network::builder(3).output(2).seed(3).build();
        let config = TrainConfig {
            epochs: 6,
            batch: Batch::Full,
            learning_rate: 0.03,
            optimiser,
            weight_decay: 0.1,
            seed: 2,
            ..TrainConfig::default()
        };
        let mut trained = start.clone();
        trained.fit(&x, &labels, &config).unwrap();

        let mut net = start.clone();
        let n_w = 3 * 2;
        let mut w_oracle = PaperAdam::new(n_w);
        let mut b_oracle = PaperAdam::new(2);
        for t in 1..=6 {
            let (_, grads) = net.loss_and_gradients(&x, &labels);
            let s = AdamStep {
                lr: 0.03,
                beta1: 0.85,
                beta2: 0.999,
                epsilon: 1e-8,
                t,
                decay: 0.1,
                decoupled,
            };
            let layer = &mut net.layers_mut()[0];
            let mut w = layer.weights().unwrap().as_slice().to_vec();
            w_oracle.step(&mut w, grads.layers[0].weights.as_slice(), s);
            layer
                .weights_mut()
                .unwrap()
                .as_mut_slice()
                .copy_from_slice(&w);
            let mut b = layer.bias().unwrap().to_vec();
            b_oracle.step(&mut b, &grads.layers[0].bias, AdamStep { decay: 0.0, ..s });
            layer.bias_mut().unwrap().copy_from_slice(&b);
        }
        let got = trained.layers()[0].weights().unwrap().as_slice();
        let want = net.layers()[0].weights().unwrap().as_slice();
        for (a, b) in got.iter().zip(want) {
            assert!((a - b).abs() < 1e-12, "{optimiser}: {a} vs {b}");
        }
        let (got, want) = (
            trained.layers()[0].bias().unwrap(),
            net.layers()[0].bias().unwrap(),
        );
        for (a, b) in got.iter().zip(want) {
            assert!((a - b).abs() < 1e-12, "{optimiser} bias: {a} vs {b}");
        }
    }
}

#[test]
fn optimiser_text_round_trips_and_bad_settings_are_refused() {
    for o in [
        Optimiser::sgd(0.9),
        Optimiser::ADAM,
        Optimiser::ADAMW,
        Optimiser::Adam {
            beta1: 0.9,
            beta2: 0.99,
            epsilon: 1e-6,
        },
    ] {
        assert_eq!(o.to_string().parse::<Optimiser>(), Ok(o));
    }
    for bad in [
        "",
        "rmsprop",
        "adam:0.9",
        "adam:1:1e-8",
        "adam:0.99:0",
        "adam:x:1",
        "sgd:1:1",
    ] {
        assert!(bad.parse::<Optimiser>().is_err(), "{bad:?} was accepted");
    }
    let config = TrainConfig {
        optimiser: Optimiser::Adam {
            beta1: 0.9,
            beta2: 1.5,
            epsilon: 1e-8,
        },
        ..TrainConfig::default()
    };
    let error = config.validate().unwrap_err();
    assert_eq!(error.setting, simplenn::train::Setting::Beta2);
    assert_eq!(error.to_string(), "beta2: must be in (0, 1), got 1.5");
    // β₁ is checked as SGD's momentum is, and named for what it is.
    let config = TrainConfig {
        optimiser: Optimiser::ADAM.with_momentum(1.0),
        ..TrainConfig::default()
    };
    assert_eq!(
        config.validate().unwrap_err().setting,
        simplenn::train::Setting::Beta1
    );
}
