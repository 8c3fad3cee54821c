//! Training: the network learns what it should, the optimiser does exactly the update the
//! equations say, and the same seed gives the same result.

use simplenn::samples::MatrixSamples;
use simplenn::{Activation, Batch, Init, Matrix, Network, Rng, Schedule, TrainConfig, TrainEvent};

fn xor() -> (Matrix<f32>, Vec<usize>) {
    let x = Matrix::from_rows(&[[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]);
    (x, vec![0, 1, 1, 0])
}

/// `classes` Gaussian clusters in 2-D, centres 4 apart on a circle, standard deviation 0.5:
/// separable by a margin of many standard deviations, so a trained net must get ~all right.
fn blobs(n: usize, classes: usize, seed: u64) -> (Matrix<f32>, Vec<usize>) {
    let mut rng = Rng::new(seed);
    let mut labels = Vec::with_capacity(n);
    let x = Matrix::from_fn(n, 2, |r, c| {
        let class = r % classes;
        if c == 0 {
            labels.push(class);
        }
        let angle = std::f64::consts::TAU * class as f64 / classes as f64;
        let centre = if c == 0 {
            4.0 * angle.cos()
        } else {
            4.0 * angle.sin()
        };
        (centre + 0.5 * rng.normal()) as f32
    });
    (x, labels)
}

#[test]
fn learns_xor_with_each_nonlinearity() {
    let (x, y) = xor();
    for act in [Activation::Tanh, Activation::Sigmoid, Activation::Relu] {
        let mut net = Network::builder(2).hidden(8, act).output(2).seed(3).build();
        let config = TrainConfig {
            epochs: 2000,
            batch: Batch::Full,
            learning_rate: 0.5,
            momentum: 0.9,
            ..TrainConfig::default()
        };
        let history = net.fit(&x, &y, &config);
        assert_eq!(net.predict(&x), y, "{act}: {:?}", net.predict_proba(&x));
        assert!(
            history.last().unwrap().loss < 0.05,
            "{act}: {:?}",
            history.last()
        );
    }
}

#[test]
fn a_linear_network_cannot_learn_xor() {
    // The control experiment: without a non-linearity the network is a linear classifier,
    // and the best linear model of XOR is a coin toss: by symmetry, p = ½ for every point,
    // a loss of ln 2 (the problem is convex, so gradient descent finds that optimum).
    let (x, y) = xor();
    let mut net = Network::builder(2)
        .hidden(8, Activation::Identity)
        .output(2)
        .seed(3)
        .build();
    let config = TrainConfig {
        epochs: 2000,
        batch: Batch::Full,
        learning_rate: 0.5,
        ..TrainConfig::default()
    };
    let history = net.fit(&x, &y, &config);
    let loss = history.last().unwrap().loss;
    assert!(
        loss > std::f64::consts::LN_2 - 1e-4,
        "loss {loss} below ln 2"
    );
}

#[test]
fn separates_gaussian_blobs_with_minibatch_sgd() {
    let (x, y) = blobs(600, 4, 1);
    let (x_test, y_test) = blobs(400, 4, 2);
    let mut net = Network::builder(2)
        .hidden(16, Activation::Relu)
        .output(4)
        .seed(1)
        .build();
    let config = TrainConfig {
        epochs: 20,
        batch: Batch::Size(32),
        learning_rate: 0.05,
        ..TrainConfig::default()
    };
    let test_set = MatrixSamples::new(&x_test, &y_test);
    let history = net.fit_with(
        &MatrixSamples::new(&x, &y),
        Some(&test_set),
        &config,
        |_| {},
    );
    let test = net.evaluate(&x_test, &y_test);
    assert!(test.accuracy >= 0.99, "{test:?}");
    assert_eq!(history.last().unwrap().val_accuracy, Some(test.accuracy));
    let first = &history.epochs[0];
    assert!(
        history.last().unwrap().loss < first.loss / 4.0,
        "{history:?}"
    );
}

#[test]
fn full_batch_gradient_descent_lowers_the_loss_every_epoch() {
    // With a small enough step, gradient descent on a smooth loss never goes uphill.
    let (x, y) = blobs(200, 3, 5);
    let mut net = Network::<f64>::builder(2)
        .hidden(10, Activation::Tanh)
        .output(3)
        .seed(2)
        .build();
    let x = x.cast::<f64>();
    let config = TrainConfig {
        epochs: 50,
        batch: Batch::Full,
        learning_rate: 0.05,
        momentum: 0.0,
        ..TrainConfig::default()
    };
    let history = net.fit(&x, &y, &config);
    for pair in history.epochs.windows(2) {
        assert!(pair[1].loss < pair[0].loss, "{pair:?}");
    }
}

/// A tiny f64 network and batch for checking updates to the last bit.
fn tiny() -> (Network<f64>, Matrix<f64>, Vec<usize>) {
    let net = Network::builder(3)
        .hidden(4, Activation::Tanh)
        .output(3)
        .init(Init::Original)
        .seed(9)
        .build();
    let mut rng = Rng::new(4);
    let x = Matrix::random_normal(5, 3, 0.0, 1.0, &mut rng);
    (net, x, vec![0, 2, 1, 1, 0])
}

fn assert_close(a: &Network<f64>, b: &Network<f64>, what: &str) {
    for (la, lb) in a.layers().iter().zip(b.layers()) {
        assert!(
            la.weights().max_abs_diff(lb.weights()) < 1e-14,
            "{what}: weights"
        );
        for (x, y) in la.bias().iter().zip(lb.bias()) {
            assert!((x - y).abs() < 1e-14, "{what}: bias");
        }
    }
}

/// θ ← θ − η·g, done by hand from `loss_and_gradients`.
fn manual_step(net: &mut Network<f64>, step: &[(Matrix<f64>, Vec<f64>)], lr: f64) {
    for (layer, (dw, db)) in net.layers_mut().iter_mut().zip(step) {
        layer.weights_mut().add_scaled(-lr, dw);
        for (b, g) in layer.bias_mut().iter_mut().zip(db) {
            *b -= lr * g;
        }
    }
}

fn gradient_of(net: &Network<f64>, x: &Matrix<f64>, y: &[usize]) -> Vec<(Matrix<f64>, Vec<f64>)> {
    let (_, g) = net.loss_and_gradients(x, y);
    g.layers.into_iter().map(|l| (l.weights, l.bias)).collect()
}

#[test]
fn one_epoch_of_full_batch_descent_is_one_gradient_step() {
    let (mut net, x, y) = tiny();
    let mut expected = net.clone();
    let g = gradient_of(&expected, &x, &y);
    manual_step(&mut expected, &g, 0.3);

    let config = TrainConfig {
        epochs: 1,
        batch: Batch::Full,
        learning_rate: 0.3,
        momentum: 0.0,
        ..TrainConfig::default()
    };
    net.fit(&x, &y, &config);
    assert_close(&net, &expected, "θ − ηg");
}

#[test]
fn momentum_follows_the_running_sum_of_gradients() {
    // v₁ = g₁, θ₁ = θ₀ − ηv₁;  v₂ = μv₁ + g₂, θ₂ = θ₁ − ηv₂.
    let (mut net, x, y) = tiny();
    let (lr, mu) = (0.2, 0.9);
    let mut expected = net.clone();
    let g1 = gradient_of(&expected, &x, &y);
    manual_step(&mut expected, &g1, lr);
    let g2 = gradient_of(&expected, &x, &y);
    let v2: Vec<_> = g1
        .iter()
        .zip(&g2)
        .map(|((w1, b1), (w2, b2))| {
            let mut w = w1.clone();
            w.scale(mu);
            w.add_scaled(1.0, w2);
            let b = b1.iter().zip(b2).map(|(a, c)| mu * a + c).collect();
            (w, b)
        })
        .collect();
    manual_step(&mut expected, &v2, lr);

    let config = TrainConfig {
        epochs: 2,
        batch: Batch::Full,
        learning_rate: lr,
        momentum: mu,
        ..TrainConfig::default()
    };
    net.fit(&x, &y, &config);
    assert_close(&net, &expected, "momentum");
}

#[test]
fn each_step_uses_the_scheduled_learning_rate() {
    // Full batch: one step per epoch. A step decay that halves the rate every epoch takes
    // θ₁ = θ₀ − η·g₀, then θ₂ = θ₁ − (η/2)·g₁.
    let (mut net, x, y) = tiny();
    let lr = 0.3;
    let mut expected = net.clone();
    let g0 = gradient_of(&expected, &x, &y);
    manual_step(&mut expected, &g0, lr);
    let g1 = gradient_of(&expected, &x, &y);
    manual_step(&mut expected, &g1, lr * 0.5);

    let config = TrainConfig {
        epochs: 2,
        batch: Batch::Full,
        learning_rate: lr,
        schedule: Schedule::Step {
            every: 1,
            factor: 0.5,
        },
        momentum: 0.0,
        ..TrainConfig::default()
    };
    let history = net.fit(&x, &y, &config);
    assert_close(&net, &expected, "θ − η·0.5ᵉ·g");
    let rates: Vec<f64> = history.epochs.iter().map(|e| e.learning_rate).collect();
    assert_eq!(rates, [0.3, 0.15]);
}

#[test]
fn epoch_stats_report_the_rate_of_the_last_step() {
    // 10 samples in batches of 4: 3 steps an epoch; warm-up over 2 epochs (6 steps).
    let (x, y) = blobs(10, 2, 4);
    let mut net = Network::builder(2).output(2).seed(1).build();
    let config = TrainConfig {
        epochs: 4,
        batch: Batch::Size(4),
        learning_rate: 0.6,
        schedule: Schedule::Cosine { min_fraction: 0.0 },
        warmup_epochs: 2,
        ..TrainConfig::default()
    };
    let history = net.fit(&x, &y, &config);
    for e in &history.epochs {
        let last_step = 3 * e.epoch - 1;
        assert_eq!(e.learning_rate, config.learning_rate_at(last_step, 3));
    }
    assert_eq!(history.epochs[0].learning_rate, 0.6 * 3.0 / 6.0);
    assert_eq!(history.epochs[1].learning_rate, 0.6, "warm-up done");
    assert!(history.epochs[3].learning_rate < 0.1, "cosine near its end");
}

#[test]
fn weight_decay_adds_lambda_w_to_weight_gradients_only() {
    let (mut net, x, y) = tiny();
    let (lr, lambda) = (0.1, 0.01);
    let mut expected = net.clone();
    let mut g = gradient_of(&expected, &x, &y);
    for ((dw, _), layer) in g.iter_mut().zip(expected.layers()) {
        dw.add_scaled(lambda, layer.weights()); // biases are not decayed
    }
    manual_step(&mut expected, &g, lr);

    let config = TrainConfig {
        epochs: 1,
        batch: Batch::Full,
        learning_rate: lr,
        momentum: 0.0,
        weight_decay: lambda,
        ..TrainConfig::default()
    };
    net.fit(&x, &y, &config);
    assert_close(&net, &expected, "weight decay");
}

#[test]
fn weight_decay_is_coupled_it_goes_through_the_momentum() {
    // Coupled L2: the decay is part of the gradient, so the velocity remembers it.
    // v₁ = g₁ + λW₀, θ₁ = θ₀ − ηv₁;  v₂ = μv₁ + g₂ + λW₁, θ₂ = θ₁ − ηv₂ (biases undecayed).
    // The decoupled form would instead shrink W by ηλW outside v, and end elsewhere.
    let (mut net, x, y) = tiny();
    let (lr, mu, lambda) = (0.2, 0.9, 0.05);
    let decayed = |net: &Network<f64>| {
        let mut g = gradient_of(net, &x, &y);
        for ((dw, _), layer) in g.iter_mut().zip(net.layers()) {
            dw.add_scaled(lambda, layer.weights());
        }
        g
    };
    let mut expected = net.clone();
    let v1 = decayed(&expected);
    manual_step(&mut expected, &v1, lr);
    let g2 = decayed(&expected);
    let v2: Vec<_> = v1
        .iter()
        .zip(&g2)
        .map(|((w1, b1), (w2, b2))| {
            let mut w = w1.clone();
            w.scale(mu);
            w.add_scaled(1.0, w2);
            let b = b1.iter().zip(b2).map(|(a, c)| mu * a + c).collect();
            (w, b)
        })
        .collect();
    manual_step(&mut expected, &v2, lr);

    let config = TrainConfig {
        epochs: 2,
        batch: Batch::Full,
        learning_rate: lr,
        momentum: mu,
        weight_decay: lambda,
        ..TrainConfig::default()
    };
    net.fit(&x, &y, &config);
    assert_close(&net, &expected, "coupled weight decay with momentum");
}

#[test]
fn a_minibatch_as_large_as_the_data_is_a_full_batch() {
    let (mut a, x, y) = tiny();
    let mut b = a.clone();
    let full = TrainConfig {
        epochs: 3,
        batch: Batch::Full,
        learning_rate: 0.1,
        momentum: 0.5,
        ..TrainConfig::default()
    };
    let mini = TrainConfig {
        batch: Batch::Size(1000),
        ..full.clone()
    };
    a.fit(&x, &y, &full);
    b.fit(&x, &y, &mini);
    assert_close(&a, &b, "batch ≥ n"); // the same sums, only in shuffled order
}

#[test]
fn same_seed_same_network_same_history() {
    let (x, y) = blobs(300, 3, 7);
    let train = |init_seed: u64, shuffle_seed: u64| {
        let mut net = Network::builder(2)
            .hidden(12, Activation::Relu)
            .output(3)
            .seed(init_seed)
            .build();
        let config = TrainConfig {
            epochs: 3,
            batch: Batch::Size(16),
            seed: shuffle_seed,
            ..TrainConfig::default()
        };
        let history = net.fit(&x, &y, &config);
        let losses: Vec<f64> = history.epochs.iter().map(|e| e.loss).collect();
        (net, losses)
    };
    let (net_a, losses_a) = train(1, 1);
    let (net_b, losses_b) = train(1, 1);
    assert!(
        net_a == net_b,
        "same seeds must give bit-identical parameters"
    );
    assert_eq!(losses_a, losses_b);
    let (net_c, _) = train(1, 2);
    assert!(
        net_a != net_c,
        "another shuffling seed must give another network"
    );
    let (net_d, _) = train(2, 1);
    assert!(
        net_a != net_d,
        "another initialisation seed must give another network"
    );
}

#[test]
fn history_records_every_epoch() {
    let (x, y) = blobs(100, 2, 3);
    let mut net = Network::builder(2).output(2).seed(1).build();
    let config = TrainConfig {
        epochs: 4,
        ..TrainConfig::default()
    };
    let mut seen = Vec::new();
    let mut batches = 0;
    let history = net.fit_with(
        &MatrixSamples::new(&x, &y),
        None,
        &config,
        |event| match event {
            TrainEvent::Batch { done, total, .. } => {
                assert!(done <= total && total == 100);
                batches += 1;
            }
            TrainEvent::Epoch(e) => seen.push(e.epoch),
        },
    );
    assert_eq!(
        batches,
        4 * 2,
        "100 samples in batches of 64: two steps an epoch"
    );
    assert_eq!(seen, [1, 2, 3, 4]);
    assert_eq!(history.epochs.len(), 4);
    for e in &history.epochs {
        assert!(e.loss.is_finite() && e.loss >= 0.0, "{e:?}");
        assert!((0.0..=1.0).contains(&e.train_accuracy));
        assert_eq!(e.val_accuracy, None);
        assert!(e.seconds >= 0.0);
    }
}

#[test]
fn predictions_agree_with_probabilities_and_accuracy() {
    let (x, y) = blobs(97, 3, 11); // 97 rows: not a multiple of anything
    let net = Network::builder(2)
        .hidden(5, Activation::Sigmoid)
        .output(3)
        .seed(5)
        .build();
    let p = net.predict_proba(&x);
    let predicted = net.predict(&x);
    assert_eq!(predicted, p.argmax_rows());
    for s in p.row_sums() {
        assert!((s - 1.0).abs() < 1e-5);
    }
    let correct = predicted.iter().zip(&y).filter(|(a, b)| a == b).count();
    let eval = net.evaluate(&x, &y);
    assert_eq!(eval.correct, correct);
    assert_eq!(eval.total, 97);
    assert!((eval.accuracy - correct as f64 / 97.0).abs() < 1e-15);
    let mean_loss = simplenn::loss::cross_entropy_with_logits(&net.forward(&x), &y);
    assert!((eval.loss - mean_loss).abs() < 1e-6);
}

#[test]
fn evaluation_in_chunks_matches_one_pass() {
    // `evaluate` and `predict` walk large sets 1024 rows at a time.
    let mut rng = Rng::new(8);
    let x = Matrix::<f64>::random_normal(2500, 4, 0.0, 1.0, &mut rng);
    let y: Vec<usize> = (0..2500).map(|_| rng.below(3) as usize).collect();
    let net = Network::builder(4)
        .hidden(6, Activation::Relu)
        .output(3)
        .seed(1)
        .build();
    let logits = net.forward(&x);
    assert_eq!(net.predict(&x), logits.argmax_rows());
    let loss = simplenn::loss::cross_entropy_with_logits(&logits, &y);
    assert!((net.evaluate(&x, &y).loss - loss).abs() < 1e-12);
}

#[test]
#[should_panic(
    expected = "the input has 3 features per sample but the network's first layer (weights 2×4) takes 2"
)]
fn fit_rejects_inputs_of_the_wrong_width() {
    let mut net = Network::<f32>::builder(2)
        .hidden(4, Activation::Relu)
        .output(2)
        .build();
    net.fit(&Matrix::zeros(5, 3), &[0; 5], &TrainConfig::default());
}

#[test]
#[should_panic(expected = "label 7 of sample 1 is out of range for a network with 2 classes")]
fn fit_rejects_labels_out_of_range() {
    let mut net = Network::<f32>::builder(2).output(2).build();
    net.fit(&Matrix::zeros(2, 2), &[0, 7], &TrainConfig::default());
}

#[test]
#[should_panic(expected = "3 labels for 2 samples")]
fn fit_rejects_a_label_count_mismatch() {
    let mut net = Network::<f32>::builder(2).output(2).build();
    net.fit(&Matrix::zeros(2, 2), &[0, 1, 1], &TrainConfig::default());
}

#[test]
#[should_panic(expected = "bad TrainConfig: learning_rate must be positive and finite, got -0.1")]
fn fit_rejects_a_negative_learning_rate() {
    let mut net = Network::<f32>::builder(2).output(2).build();
    let config = TrainConfig {
        learning_rate: -0.1,
        ..TrainConfig::default()
    };
    net.fit(&Matrix::zeros(2, 2), &[0, 1], &config);
}

#[test]
fn config_validation_names_the_bad_setting() {
    let ok = TrainConfig::default();
    assert!(ok.validate().is_ok());
    let bad = [
        (
            TrainConfig {
                momentum: 1.0,
                ..ok.clone()
            },
            "momentum",
        ),
        (
            TrainConfig {
                weight_decay: -1.0,
                ..ok.clone()
            },
            "weight_decay",
        ),
        (
            TrainConfig {
                batch: Batch::Size(0),
                ..ok.clone()
            },
            "batch size",
        ),
        (
            TrainConfig {
                learning_rate: f64::NAN,
                ..ok.clone()
            },
            "learning_rate",
        ),
    ];
    for (config, name) in bad {
        let err = config.validate().unwrap_err();
        assert!(err.contains(name), "{err}");
    }
}

#[test]
fn fitting_an_empty_set_does_nothing() {
    let mut net = Network::<f32>::builder(2).output(2).seed(1).build();
    let before = net.clone();
    let history = net.fit(&Matrix::zeros(0, 2), &[], &TrainConfig::default());
    assert!(history.epochs.is_empty());
    assert!(net == before);
}
