//! Training: the network learns what it should, the optimiser does exactly the update the
//! equations say, and the same seed gives the same result.

use simplenn::LayerKind;
use simplenn::samples::MatrixSamples;
use simplenn::train::Setting;
use simplenn::{
    Activation, Batch, History, Init, Matrix, Network, Optimiser, Regularisation, Rng, Schedule,
    TrainConfig, TrainEvent,
};

fn xor() -> (Matrix<f32>, Vec<usize>) {
    let x = Matrix::from_rows(&[[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]);
    (x, vec![0, 1, 1, 0])
}

/// `classes` Gaussian clusters in 2-D, centres 4 apart on a circle, standard deviation 0.5:
/// separable by a margin of many standard deviations, so a trained net must get ~all right.
fn blobs(n: usize, classes: usize, seed: u64) -> (Matrix<f32>, Vec<usize>) {
    spread_blobs(n, classes, 0.5, seed)
}

/// Like [`blobs`], with standard deviation `spread`.
fn spread_blobs(n: usize, classes: usize, spread: f64, seed: u64) -> (Matrix<f32>, Vec<usize>) {
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
        (centre + spread * rng.normal()) as f32
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
            optimiser: Optimiser::sgd(0.9),
            ..TrainConfig::default()
        };
        let history = net.fit(&x, &y, &config).unwrap();
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
    let history = net.fit(&x, &y, &config).unwrap();
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
    let history = net
        .fit_with(
            &MatrixSamples::new(&x, &y),
            Some(&test_set),
            &config,
            |_| {},
        )
        .unwrap();
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
        optimiser: Optimiser::sgd(0.0),
        ..TrainConfig::default()
    };
    let history = net.fit(&x, &y, &config).unwrap();
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
            la.weights().unwrap().max_abs_diff(lb.weights().unwrap()) < 1e-14,
            "{what}: weights"
        );
        for (x, y) in la.bias().unwrap().iter().zip(lb.bias().unwrap()) {
            assert!((x - y).abs() < 1e-14, "{what}: bias");
        }
    }
}

/// θ ← θ − η·g, done by hand from `loss_and_gradients`.
fn manual_step(net: &mut Network<f64>, step: &[(Matrix<f64>, Vec<f64>)], lr: f64) {
    for (layer, (dw, db)) in net.layers_mut().iter_mut().zip(step) {
        layer.weights_mut().unwrap().add_scaled(-lr, dw);
        for (b, g) in layer.bias_mut().unwrap().iter_mut().zip(db) {
            *b -= lr * g;
        }
    }
}

/// The velocity after one more momentum step, `v ← μ·v + g`, layer by layer.
fn momentum_update(
    v: &[(Matrix<f64>, Vec<f64>)],
    g: &[(Matrix<f64>, Vec<f64>)],
    mu: f64,
) -> Vec<(Matrix<f64>, Vec<f64>)> {
    v.iter()
        .zip(g)
        .map(|((vw, vb), (gw, gb))| {
            let mut w = vw.clone();
            w.scale(mu);
            w.add_scaled(1.0, gw);
            let b = vb.iter().zip(gb).map(|(a, c)| mu * a + c).collect();
            (w, b)
        })
        .collect()
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
        optimiser: Optimiser::sgd(0.0),
        ..TrainConfig::default()
    };
    net.fit(&x, &y, &config).unwrap();
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
    let v2 = momentum_update(&g1, &g2, mu);
    manual_step(&mut expected, &v2, lr);

    let config = TrainConfig {
        epochs: 2,
        batch: Batch::Full,
        learning_rate: lr,
        optimiser: Optimiser::sgd(mu),
        ..TrainConfig::default()
    };
    net.fit(&x, &y, &config).unwrap();
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
        optimiser: Optimiser::sgd(0.0),
        ..TrainConfig::default()
    };
    let history = net.fit(&x, &y, &config).unwrap();
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
    let history = net.fit(&x, &y, &config).unwrap();
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
        dw.add_scaled(lambda, layer.weights().unwrap()); // biases are not decayed
    }
    manual_step(&mut expected, &g, lr);

    let config = TrainConfig {
        epochs: 1,
        batch: Batch::Full,
        learning_rate: lr,
        optimiser: Optimiser::sgd(0.0),
        weight_decay: lambda,
        ..TrainConfig::default()
    };
    net.fit(&x, &y, &config).unwrap();
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
            dw.add_scaled(lambda, layer.weights().unwrap());
        }
        g
    };
    let mut expected = net.clone();
    let v1 = decayed(&expected);
    manual_step(&mut expected, &v1, lr);
    let g2 = decayed(&expected);
    let v2 = momentum_update(&v1, &g2, mu);
    manual_step(&mut expected, &v2, lr);

    let config = TrainConfig {
        epochs: 2,
        batch: Batch::Full,
        learning_rate: lr,
        optimiser: Optimiser::sgd(mu),
        weight_decay: lambda,
        ..TrainConfig::default()
    };
    net.fit(&x, &y, &config).unwrap();
    assert_close(&net, &expected, "coupled weight decay with momentum");
}

#[test]
fn label_smoothing_steps_along_the_smoothed_gradient() {
    let (mut net, x, y) = tiny();
    let smoothing = Regularisation {
        label_smoothing: 0.2,
        ..Regularisation::default()
    };
    let mut expected = net.clone();
    let (smoothed_loss, g) = expected.loss_and_gradients_with(&x, &y, &smoothing);
    let g: Vec<_> = g.layers.into_iter().map(|l| (l.weights, l.bias)).collect();
    manual_step(&mut expected, &g, 0.3);
    assert!(
        g != gradient_of(&net, &x, &y),
        "the smoothing changes the gradient"
    );

    let config = TrainConfig {
        epochs: 1,
        batch: Batch::Full,
        learning_rate: 0.3,
        optimiser: Optimiser::sgd(0.0),
        label_smoothing: 0.2,
        ..TrainConfig::default()
    };
    let validation = MatrixSamples::new(&x, &y);
    let plain_loss = net.loss(&x, &y);
    let history = net
        .fit_with(&validation, Some(&validation), &config, |_| {})
        .unwrap();
    assert_close(&net, &expected, "θ − η·∇(smoothed loss)");
    // The training loss is the smoothed objective; the validation loss is plain.
    let stats = history.last().unwrap();
    assert_eq!(stats.loss, smoothed_loss);
    assert_ne!(smoothed_loss, plain_loss);
    assert_eq!(stats.val_loss, Some(net.loss(&x, &y)));
}

#[test]
fn a_minibatch_as_large_as_the_data_is_a_full_batch() {
    let (mut a, x, y) = tiny();
    let mut b = a.clone();
    let full = TrainConfig {
        epochs: 3,
        batch: Batch::Full,
        learning_rate: 0.1,
        optimiser: Optimiser::sgd(0.5),
        ..TrainConfig::default()
    };
    let mini = TrainConfig {
        batch: Batch::Size(1000),
        ..full.clone()
    };
    a.fit(&x, &y, &full).unwrap();
    b.fit(&x, &y, &mini).unwrap();
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
        let history = net.fit(&x, &y, &config).unwrap();
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
    let history = net
        .fit_with(
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
        )
        .unwrap();
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
    expected = "the input has 3 features per sample but the network's first layer (Dense(2→4, relu)) takes 2"
)]
fn fit_rejects_inputs_of_the_wrong_width() {
    let mut net = Network::<f32>::builder(2)
        .hidden(4, Activation::Relu)
        .output(2)
        .build();
    net.fit(&Matrix::zeros(5, 3), &[0; 5], &TrainConfig::default())
        .unwrap();
}

#[test]
#[should_panic(expected = "label 7 of sample 1 is out of range for a network with 2 classes")]
fn fit_rejects_labels_out_of_range() {
    let mut net = Network::<f32>::builder(2).output(2).build();
    net.fit(&Matrix::zeros(2, 2), &[0, 7], &TrainConfig::default())
        .unwrap();
}

#[test]
#[should_panic(expected = "3 labels for 2 samples")]
fn fit_rejects_a_label_count_mismatch() {
    let mut net = Network::<f32>::builder(2).output(2).build();
    net.fit(&Matrix::zeros(2, 2), &[0, 1, 1], &TrainConfig::default())
        .unwrap();
}

#[test]
#[should_panic(expected = "bad TrainConfig: learning_rate: must be positive and finite, got -0.1")]
fn fit_rejects_a_negative_learning_rate() {
    let mut net = Network::<f32>::builder(2).output(2).build();
    let config = TrainConfig {
        learning_rate: -0.1,
        ..TrainConfig::default()
    };
    net.fit(&Matrix::zeros(2, 2), &[0, 1], &config).unwrap();
}

#[test]
fn config_validation_names_the_bad_setting() {
    let ok = TrainConfig::default();
    assert!(ok.validate().is_ok());
    let bad = [
        (
            TrainConfig {
                optimiser: Optimiser::sgd(1.0),
                ..ok.clone()
            },
            Setting::Momentum,
        ),
        (
            TrainConfig {
                weight_decay: -1.0,
                ..ok.clone()
            },
            Setting::WeightDecay,
        ),
        (
            TrainConfig {
                batch: Batch::Size(0),
                ..ok.clone()
            },
            Setting::Batch,
        ),
        (
            TrainConfig {
                learning_rate: f64::NAN,
                ..ok.clone()
            },
            Setting::LearningRate,
        ),
        (
            TrainConfig {
                label_smoothing: 1.0,
                ..ok.clone()
            },
            Setting::LabelSmoothing,
        ),
        (
            TrainConfig {
                label_smoothing: -0.1,
                ..ok.clone()
            },
            Setting::LabelSmoothing,
        ),
        (
            TrainConfig {
                dropout: 1.0,
                ..ok.clone()
            },
            Setting::Dropout,
        ),
    ];
    for (config, setting) in bad {
        let err = config.validate().unwrap_err();
        assert_eq!(err.setting, setting, "{err}");
        assert!(err.to_string().starts_with(setting.name()), "{err}");
    }
}

#[test]
fn fitting_an_empty_set_does_nothing() {
    let mut net = Network::<f32>::builder(2).output(2).seed(1).build();
    let before = net.clone();
    let history = net
        .fit(&Matrix::zeros(0, 2), &[], &TrainConfig::default())
        .unwrap();
    assert!(history.epochs.is_empty());
    assert!(net == before);
}

/// Three heavily overlapping clusters (spread 3 for centres 4 from the origin) and a large
/// step for so few samples: the validation accuracy wanders from epoch to epoch, so the best
/// epoch is not the last one. Trains a fresh network with `config` on them.
fn wandering(config: &TrainConfig) -> (Network, History) {
    let (x, y) = spread_blobs(200, 3, 3.0, 2);
    let (xv, yv) = spread_blobs(100, 3, 3.0, 102);
    let mut net = Network::builder(2)
        .hidden(16, Activation::Relu)
        .output(3)
        .seed(1)
        .build();
    let validation = MatrixSamples::new(&xv, &yv);
    let history = net
        .fit_with(
            &MatrixSamples::new(&x, &y),
            Some(&validation),
            config,
            |_| {},
        )
        .unwrap();
    (net, history)
}

fn wandering_config(epochs: usize) -> TrainConfig {
    TrainConfig {
        epochs,
        batch: Batch::Size(8),
        learning_rate: 0.1,
        ..TrainConfig::default()
    }
}

fn val_accuracies(history: &History) -> Vec<f64> {
    history
        .epochs
        .iter()
        .map(|e| e.val_accuracy.unwrap())
        .collect()
}

/// The first epoch (from 1) of the highest accuracy.
fn first_best(accuracies: &[f64]) -> usize {
    let max = accuracies.iter().copied().fold(f64::MIN, f64::max);
    1 + accuracies.iter().position(|&a| a == max).unwrap()
}

#[test]
fn keep_best_ends_with_the_best_epochs_parameters() {
    let (net, history) = wandering(&TrainConfig {
        keep_best: true,
        ..wandering_config(20)
    });
    let accuracies = val_accuracies(&history);
    let best = first_best(&accuracies);
    assert_eq!(history.best_epoch, Some(best));
    assert!(
        best < 20,
        "the premise: a best epoch before the last, {accuracies:?}"
    );
    assert!(!history.stopped_early);
    assert_eq!(history.epochs.len(), 20);

    // The same training stopped after the best epoch gives the very same parameters.
    let (stopped_there, _) = wandering(&wandering_config(best));
    assert!(net == stopped_there, "not the parameters of epoch {best}");
    let (xv, yv) = spread_blobs(100, 3, 3.0, 102);
    assert_eq!(net.evaluate(&xv, &yv).accuracy, accuracies[best - 1]);
}

#[test]
fn without_keep_best_the_last_epoch_stays_and_the_best_is_still_reported() {
    let (net, history) = wandering(&wandering_config(20));
    let (x, y) = spread_blobs(200, 3, 3.0, 2);
    let mut unvalidated = Network::builder(2)
        .hidden(16, Activation::Relu)
        .output(3)
        .seed(1)
        .build();
    let plain = unvalidated.fit(&x, &y, &wandering_config(20)).unwrap();
    assert!(
        net == unvalidated,
        "validation must not change the training"
    );
    assert_eq!(plain.best_epoch, None, "no validation set, no best epoch");
    assert_eq!(
        history.best_epoch,
        Some(first_best(&val_accuracies(&history)))
    );
}

/// Where early stopping with `patience` should stop on these accuracies, worked out
/// independently: the first epoch that is `patience` epochs after the last improvement.
fn stop_epoch(accuracies: &[f64], patience: usize) -> Option<usize> {
    let mut best = f64::MIN;
    let mut since = 0;
    for (i, &a) in accuracies.iter().enumerate() {
        if a > best {
            best = a;
            since = 0;
        } else {
            since += 1;
        }
        if since == patience {
            return Some(i + 1);
        }
    }
    None
}

#[test]
fn patience_stops_after_that_many_epochs_without_improvement() {
    let (_, full) = wandering(&wandering_config(20));
    let all = val_accuracies(&full);
    for patience in [1, 2, 3, 5] {
        let expected = stop_epoch(&all, patience).filter(|&e| e < 20);
        let (_, history) = wandering(&TrainConfig {
            patience: Some(patience),
            ..wandering_config(20)
        });
        let ran = history.epochs.len();
        assert_eq!(
            Some(ran).filter(|&e| e < 20),
            expected,
            "patience {patience}"
        );
        assert_eq!(history.stopped_early, expected.is_some());
        // Stopping early truncates the run; it does not change it.
        assert_eq!(val_accuracies(&history), all[..ran], "patience {patience}");
        assert_eq!(history.best_epoch, Some(first_best(&all[..ran])));
    }
    assert!(
        stop_epoch(&all, 3).is_some_and(|e| e < 20),
        "the premise: patience 3 stops this run early, {all:?}"
    );
}

#[test]
fn patience_with_keep_best_goes_back_to_the_best_epoch() {
    let (net, history) = wandering(&TrainConfig {
        patience: Some(3),
        keep_best: true,
        ..wandering_config(20)
    });
    assert!(history.stopped_early);
    let best = history.best_epoch.unwrap();
    assert_eq!(history.epochs.len(), best + 3);
    let (stopped_there, _) = wandering(&wandering_config(best));
    assert!(net == stopped_there);
}

#[test]
#[should_panic(expected = "bad TrainConfig: keep_best: needs a validation set")]
fn keep_best_without_a_validation_set_is_refused() {
    let (x, y) = xor();
    let mut net = Network::builder(2).output(2).build();
    let config = TrainConfig {
        keep_best: true,
        ..TrainConfig::default()
    };
    net.fit(&x, &y, &config).unwrap();
}

#[test]
fn patience_needs_a_validation_set_and_at_least_one_epoch() {
    let (x, y) = xor();
    let empty = Matrix::<f32>::zeros(0, 2);
    let data = MatrixSamples::new(&x, &y);
    let none = MatrixSamples::new(&empty, &[]);
    let config = TrainConfig {
        patience: Some(2),
        ..TrainConfig::default()
    };
    let err = config.validate_for(&data, None).unwrap_err();
    assert!(
        err.to_string().contains("patience: needs a validation set"),
        "{err}"
    );
    let err = config.validate_for(&data, Some(&none)).unwrap_err();
    assert!(err.to_string().contains("empty"), "{err}");
    assert!(config.validate_for(&data, Some(&data)).is_ok());
    let zero = TrainConfig {
        patience: Some(0),
        ..config
    };
    assert!(
        zero.validate()
            .unwrap_err()
            .to_string()
            .contains("patience")
    );
}

#[test]
fn dropout_masks_drop_at_the_rate_and_scale_the_kept_units() {
    let net = Network::<f64>::builder(3)
        .hidden(40, Activation::Relu)
        .hidden(25, Activation::Tanh)
        .output(2)
        .build();
    let mut masks = Vec::new();
    for rate in [0.1, 0.5, 0.8] {
        simplenn::train::draw_dropout_masks(&net, 100, rate, &mut Rng::new(2), &mut masks);
        assert_eq!(masks.len(), 2, "one mask per hidden layer");
        assert_eq!(masks[0].shape(), (100, 40));
        assert_eq!(masks[1].shape(), (100, 25));
        let kept = 1.0 / (1.0 - rate);
        let entries: Vec<f64> = masks.iter().flat_map(|m| m.as_slice().to_vec()).collect();
        assert!(
            entries.iter().all(|&m| m == 0.0 || m == kept),
            "rate {rate}"
        );
        // 6,500 independent draws: the dropped fraction is within 4.5 standard deviations
        // of the rate, and the mean entry, the expected scale, within as many of 1.
        let n = entries.len() as f64;
        let sd = (rate * (1.0 - rate) / n).sqrt();
        let dropped = entries.iter().filter(|&&m| m == 0.0).count() as f64 / n;
        assert!(
            (dropped - rate).abs() < 4.5 * sd,
            "rate {rate}: dropped {dropped}"
        );
        let mean = entries.iter().sum::<f64>() / n;
        assert!(
            (mean - 1.0).abs() < 4.5 * sd * kept,
            "rate {rate}: mean {mean}"
        );
    }
    simplenn::train::draw_dropout_masks(&net, 7, 0.0, &mut Rng::new(2), &mut masks);
    assert!(masks.iter().all(|m| m.as_slice().iter().all(|&v| v == 1.0)));
}

#[test]
fn training_with_dropout_is_reproducible_and_validates_without_it() {
    let (x, y) = blobs(300, 3, 7);
    let (xv, yv) = blobs(100, 3, 8);
    let train = |dropout: f64, seed: u64| {
        let mut net = Network::builder(2)
            .hidden(24, Activation::Relu)
            .hidden(12, Activation::Tanh)
            .output(3)
            .seed(1)
            .build();
        let config = TrainConfig {
            epochs: 4,
            batch: Batch::Size(16),
            dropout,
            seed,
            ..TrainConfig::default()
        };
        let validation = MatrixSamples::new(&xv, &yv);
        let history = net
            .fit_with(
                &MatrixSamples::new(&x, &y),
                Some(&validation),
                &config,
                |_| {},
            )
            .unwrap();
        (net, history)
    };
    let (a, history) = train(0.3, 5);
    let (b, _) = train(0.3, 5);
    assert!(a == b, "same seed, same masks, same network");
    assert!(a != train(0.3, 6).0, "another seed, other masks");
    assert!(a != train(0.0, 5).0, "dropout changes the training");
    // Validation uses the whole network: what evaluating the final network gives.
    let last = history.last().unwrap();
    assert_eq!(last.val_accuracy, Some(a.evaluate(&xv, &yv).accuracy));
    assert!(last.val_accuracy.unwrap() > 0.95, "{history:?}");
}

#[test]
fn dropout_without_hidden_layers_changes_nothing() {
    // Nothing to drop: the very same training, which also shows that the dropout stream
    // leaves the shuffling alone.
    let (x, y) = blobs(100, 2, 3);
    let train = |dropout| {
        let mut net = Network::<f32>::builder(2).output(2).seed(1).build();
        let config = TrainConfig {
            epochs: 3,
            batch: Batch::Size(8),
            dropout,
            ..TrainConfig::default()
        };
        net.fit(&x, &y, &config).unwrap();
        net
    };
    assert!(train(0.5) == train(0.0));
}

#[test]
fn a_run_whose_loss_becomes_nan_stops_at_that_step_with_an_error() {
    // Full batch, so step t is epoch t. A rate of 1e30 sends the weights past f32's range
    // in one step; the next step's loss is not finite and its update is not applied.
    let (x, y) = blobs(40, 4, 1);
    let mut net = Network::builder(2)
        .hidden(8, Activation::Relu)
        .output(4)
        .seed(1)
        .build();
    let config = TrainConfig {
        epochs: 5,
        batch: Batch::Full,
        learning_rate: 1e30,
        optimiser: Optimiser::sgd(0.0),
        ..TrainConfig::default()
    };
    let err = net.fit(&x, &y, &config).unwrap_err();
    assert_eq!((err.epoch, err.step, err.learning_rate), (2, 2, 1e30));
    let simplenn::NonFinite::Loss(loss) = err.cause else {
        panic!("expected a non-finite loss, got {:?}", err.cause);
    };
    assert!(!loss.is_finite());
    assert_eq!(err.history.epochs.len(), 1, "epoch 1 completed");
    assert!(err.history.epochs[0].loss.is_finite());
    let message = err.to_string();
    for part in [
        "epoch 2",
        "step 2",
        "learning rate 1000000000000000000000000000000",
        "smaller learning rate",
    ] {
        assert!(message.contains(part), "{message:?} lacks {part:?}");
    }

    // The error is the first non-finite loss: one epoch with the same rate succeeds.
    let mut again = Network::builder(2)
        .hidden(8, Activation::Relu)
        .output(4)
        .seed(1)
        .build();
    let one = TrainConfig {
        epochs: 1,
        ..config.clone()
    };
    assert!(again.fit(&x, &y, &one).is_ok());
    // ...and the failing step left the parameters where that first step put them.
    assert_eq!(again, net);
}

#[test]
fn a_parameter_that_is_not_finite_is_found_at_the_end_of_the_epoch() {
    // A bias of −∞ behind a ReLU makes that unit output 0 for every sample: the loss stays
    // finite, so only the check of the parameters can catch it.
    let (x, y) = blobs(40, 4, 2);
    let mut net = Network::builder(2)
        .hidden(8, Activation::Relu)
        .output(4)
        .seed(2)
        .build();
    net.layers_mut()[0].bias_mut().unwrap()[3] = f32::NEG_INFINITY;
    assert!(net.loss(&x, &y).is_finite());
    let config = TrainConfig {
        epochs: 3,
        batch: Batch::Size(16), // 3 steps an epoch
        learning_rate: 0.1,
        ..TrainConfig::default()
    };
    let err = net.fit(&x, &y, &config).unwrap_err();
    assert_eq!((err.epoch, err.step), (1, 3));
    assert_eq!(err.cause, simplenn::NonFinite::Parameter { layer: 0 });
    assert!(err.history.epochs.is_empty());
    assert!(
        err.to_string()
            .contains("a parameter of layer 0 is not a finite number")
    );
}
