//! Batch normalisation: its passes against the definition (a plain implementation in `f64`)
//! and central differences, its running statistics against their closed form, evaluation
//! against training, a batch of one, and the layer in a network that trains, saves, resumes
//! and exports.

use simplenn::layer::batch_norm::{self, BatchNorm};
use simplenn::layer::{Layer, Mode, Scratch};
use simplenn::{Activation, Batch, LayerKind, Matrix, Network, Optimiser, Rng, Shape, TrainConfig};

/// Within `tolerance`, relative to the size of the values.
fn assert_close(what: &str, got: &[f64], want: &[f64], tolerance: f64) {
    assert_eq!(got.len(), want.len(), "{what}: lengths differ");
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= tolerance * (1.0 + w.abs()),
            "{what}: element {i} is {g}, the definition gives {w}"
        );
    }
}

/// A layer with γ and β away from 1 and 0, so their gradients and effects show.
fn layer(shape: Shape, rng: &mut Rng) -> BatchNorm<f64> {
    let c = shape.channels;
    let gamma = (0..c).map(|_| rng.uniform(0.5, 1.5)).collect();
    let beta = (0..c).map(|_| rng.uniform(-0.5, 0.5)).collect();
    let stats = (vec![0.0; c], vec![1.0; c]);
    let parts = (gamma, beta, stats.0, stats.1);
    BatchNorm::from_parts(shape, parts, 0, (0.1, 1e-5), Activation::Identity).unwrap()
}

/// The shapes batch normalisation meets: after a dense layer (one value per sample and
/// channel) and after a convolution (every pixel of every sample), with the batches of each.
const CASES: [(Shape, usize); 4] = [
    (Shape::flat(5), 3),
    (Shape::flat(4), 8),
    (Shape::image(3, 2, 4), 1),
    (Shape::image(2, 3, 3), 3),
];

#[test]
fn training_normalises_each_channel_by_the_batch() {
    let mut rng = Rng::new(1);
    for (shape, batch) in CASES {
        let bn = layer(shape, &mut rng);
        let x = Matrix::random_normal(batch, shape.volume(), 2.0, 3.0, &mut rng);
        let mut out = Matrix::zeros(0, 0);
        bn.forward_into(x.view().into(), &mut out, &mut Scratch::new(), Mode::Train);
        let want = batch_norm::reference::forward_train(&bn, &x);
        assert_close(&format!("{shape}"), out.as_slice(), want.as_slice(), 1e-12);
    }
}

#[test]
fn the_backward_pass_is_the_chain_rule_written_out() {
    let mut rng = Rng::new(2);
    for (shape, batch) in CASES {
        let bn = layer(shape, &mut rng);
        let x = Matrix::random_normal(batch, shape.volume(), -1.0, 2.0, &mut rng);
        let g = Matrix::random_normal(batch, shape.volume(), 0.0, 1.0, &mut rng);
        let (grads, dx) = bn.backward(&x, &g);
        let (dgamma, dbeta, want_dx) = batch_norm::reference::backward(&bn, &x, &g);
        let what = format!("{shape}, batch {batch}");
        assert_close(
            &format!("{what} ∂γ"),
            grads.weights.as_slice(),
            &dgamma,
            1e-10,
        );
        assert_close(&format!("{what} ∂β"), &grads.bias, &dbeta, 1e-10);
        assert_close(
            &format!("{what} ∂x"),
            dx.as_slice(),
            want_dx.as_slice(),
            1e-10,
        );
    }
}

/// `L = Σ g ⊙ y(x)` differentiated numerically in every input, γ and β, where `y` is the
/// training output: the batch statistics move with every input, so this checks the
/// coupling term of `∂L/∂x` too.
#[test]
fn the_gradients_match_central_differences_in_training_mode() {
    let mut rng = Rng::new(3);
    let h = 1e-5;
    for (shape, batch) in CASES {
        for activation in [Activation::Identity, Activation::Tanh] {
            let mut bn = layer(shape, &mut rng);
            bn = BatchNorm::from_parts(
                shape,
                (
                    bn.gamma().to_vec(),
                    bn.beta().to_vec(),
                    vec![0.0; shape.channels],
                    vec![1.0; shape.channels],
                ),
                0,
                (0.1, 1e-5),
                activation,
            )
            .unwrap();
            let x = Matrix::random_normal(batch, shape.volume(), 0.5, 1.5, &mut rng);
            let g = Matrix::random_normal(batch, shape.volume(), 0.0, 1.0, &mut rng);
            let loss = |bn: &BatchNorm<f64>, x: &Matrix<f64>| -> f64 {
                let y = batch_norm::reference::forward_train(bn, x);
                y.as_slice()
                    .iter()
                    .zip(g.as_slice())
                    .map(|(y, g)| y * g)
                    .sum()
            };
            let (grads, dx) = bn.backward(&x, &g);
            let what = format!("{shape}, batch {batch}, {activation}");
            for k in 0..x.len() {
                let (mut up, mut down) = (x.clone(), x.clone());
                up.as_mut_slice()[k] += h;
                down.as_mut_slice()[k] -= h;
                let numeric = (loss(&bn, &up) - loss(&bn, &down)) / (2.0 * h);
                assert_close(
                    &format!("{what} ∂x[{k}]"),
                    &[dx.as_slice()[k]],
                    &[numeric],
                    1e-6,
                );
            }
            for j in 0..shape.channels {
                let nudge = |d: f64, beta: bool| {
                    let (mut gamma, mut b) = (bn.gamma().to_vec(), bn.beta().to_vec());
                    if beta {
                        b[j] += d;
                    } else {
                        gamma[j] += d;
                    }
                    let c = shape.channels;
                    let parts = (gamma, b, vec![0.0; c], vec![1.0; c]);
                    BatchNorm::from_parts(shape, parts, 0, (0.1, 1e-5), activation).unwrap()
                };
                for (beta, analytic) in
                    [(false, grads.weights.as_slice()[j]), (true, grads.bias[j])]
                {
                    let numeric =
                        (loss(&nudge(h, beta), &x) - loss(&nudge(-h, beta), &x)) / (2.0 * h);
                    let name = if beta { "∂β" } else { "∂γ" };
                    assert_close(
                        &format!("{what} {name}[{j}]"),
                        &[analytic],
                        &[numeric],
                        1e-6,
                    );
                }
            }
        }
    }
}

/// A whole network with batch normalisation after a convolution and after a dense layer,
/// every parameter's gradient against central differences of the training loss.
#[test]
fn a_network_with_batch_normalisation_matches_central_differences() {
    let net = Network::<f64>::builder_for(Shape::image(5, 5, 2))
        .conv2d(3, 3, Activation::Tanh)
        .batch_norm(Activation::Identity)
        .max_pool(2)
        .hidden(4, Activation::Tanh)
        .batch_norm(Activation::Tanh)
        .output(3)
        .seed(4)
        .build();
    let mut rng = Rng::new(5);
    let x = Matrix::random_normal(4, 50, 0.0, 1.0, &mut rng);
    let labels = [0, 2, 1, 2];
    let (_, grads) = net.loss_and_gradients(&x, &labels);
    let h = 1e-5;
    let mut worst: f64 = 0.0;
    for l in 0..net.layers().len() {
        let Some(weights) = net.layers()[l].weights() else {
            continue;
        };
        let (n_w, n_b) = (weights.len(), net.layers()[l].bias().unwrap().len());
        for k in 0..n_w + n_b {
            let nudged = |d: f64| {
                let mut n = net.clone();
                let (w, b) = n.layers_mut()[l].params_mut().unwrap();
                match k < n_w {
                    true => w.as_mut_slice()[k] += d,
                    false => b[k - n_w] += d,
                }
                n.loss_and_gradients(&x, &labels).0 // the training loss
            };
            let numeric = (nudged(h) - nudged(-h)) / (2.0 * h);
            let analytic = match k < n_w {
                true => grads.layers[l].weights.as_slice()[k],
                false => grads.layers[l].bias[k - n_w],
            };
            let error = (analytic - numeric).abs() / (analytic.abs() + numeric.abs()).max(1e-8);
            worst = worst.max(error);
        }
    }
    assert!(worst < 1e-6, "worst relative error {worst:e}");
}

#[test]
fn the_running_statistics_follow_their_closed_form_and_evaluation_uses_them() {
    let shape = Shape::flat(2);
    let mut bn = BatchNorm::<f64>::new(shape, Activation::Identity);
    // Channel 0 takes 1, 2, 3, 6: mean 3, biased variance 3.5, unbiased 14/3.
    // Channel 1 takes 0, 0, 0, 4: mean 1, unbiased variance 4.
    let x = Matrix::from_rows(&[[1.0, 0.0], [2.0, 0.0], [3.0, 0.0], [6.0, 4.0]]);
    let mut scratch = Scratch::new();
    let mut out = Matrix::zeros(0, 0);
    bn.forward_into(x.view().into(), &mut out, &mut scratch, Mode::Train);
    bn.track_batch(&scratch);
    let (mean, var, batches) = bn.running_statistics().unwrap();
    let m = f64::from(bn.momentum()); // 0.1 as the f32 a model file keeps
    assert_close("mean", mean, &[(1.0 - m) * 0.0 + m * 3.0, m * 1.0], 1e-15);
    let want_var = [(1.0 - m) + m * 14.0 / 3.0, (1.0 - m) + m * 4.0];
    assert_close("var", var, &want_var, 1e-15);
    assert_eq!(batches, 1);
    // Evaluation normalises by those, not by the batch.
    let eval = bn.forward(&x);
    for (i, row) in x.as_slice().chunks(2).enumerate() {
        for j in 0..2 {
            let want = (row[j] - mean[j]) / (var[j] + 1e-5_f32 as f64).sqrt();
            assert!((eval[(i, j)] - want).abs() < 1e-12, "({i}, {j})");
        }
    }
}

#[test]
#[should_panic(expected = "batch normalisation needs more than one value per channel to train on")]
fn a_training_batch_of_one_sample_after_a_dense_layer_is_refused() {
    let bn = BatchNorm::<f32>::new(Shape::flat(3), Activation::Identity);
    let x = Matrix::from_rows(&[[1.0, 2.0, 3.0]]);
    bn.forward_into(
        x.view().into(),
        &mut Matrix::zeros(0, 0),
        &mut Scratch::new(),
        Mode::Train,
    );
}

#[test]
fn one_sample_is_enough_after_a_convolution_and_for_evaluation() {
    let bn = BatchNorm::<f64>::new(Shape::image(2, 2, 1), Activation::Identity);
    let x = Matrix::from_rows(&[[1.0, 2.0, 3.0, 4.0]]);
    let (_, dx) = bn.backward(&x, &Matrix::from_rows(&[[1.0, 0.0, 0.0, 0.0]]));
    assert!(dx.as_slice().iter().all(|v| v.is_finite()));
    let dense = BatchNorm::<f64>::new(Shape::flat(4), Activation::Identity);
    assert_eq!(dense.forward(&x).shape(), (1, 4)); // evaluation: the running statistics
}

#[test]
fn a_recipe_that_would_leave_a_batch_of_one_is_refused_before_training() {
    let net: Network = Network::builder(3)
        .hidden(4, Activation::Relu)
        .batch_norm(Activation::Identity)
        .output(2)
        .build();
    let config = TrainConfig {
        batch: Batch::Size(4),
        ..TrainConfig::default()
    };
    let error = config.check_batches(&net, 9).unwrap_err();
    assert_eq!(error.setting, simplenn::train::Setting::Batch);
    assert!(config.check_batches(&net, 10).is_ok()); // 4 + 4 + 2
    let full = TrainConfig {
        batch: Batch::Full,
        ..TrainConfig::default()
    };
    assert!(full.check_batches(&net, 1).is_err());
    // Without batch normalisation a batch of one trains.
    let plain: Network = Network::builder(3).output(2).build();
    assert!(config.check_batches(&plain, 9).is_ok());
}

/// A small CNN with batch normalisation: training moves its running statistics, the
/// arch text reads and writes it, and the summary names it.
fn cnn() -> Network<f32> {
    let layers = simplenn::arch::parse("conv3:4:identity,bn:relu,pool2,dense8,bn").unwrap();
    assert_eq!(
        simplenn::arch::describe(&layers),
        "conv3:4:identity,bn:relu,pool2,dense8,bn"
    );
    let mut builder = Network::builder_for(Shape::image(6, 6, 1))
        .output(3)
        .seed(7);
    for layer in layers {
        builder = builder.layer(layer);
    }
    builder.build()
}

fn data() -> (Matrix<f32>, Vec<usize>) {
    let mut rng = Rng::new(8);
    let x = Matrix::random_uniform(24, 36, 0.0, 1.0, &mut rng);
    let labels = (0..24).map(|i| i % 3).collect();
    (x, labels)
}

#[test]
fn a_network_with_batch_normalisation_trains_and_learns_its_statistics() {
    let mut net = cnn();
    assert_eq!(
        net.to_string(),
        "1×6×6 → conv3×3 4×6×6 identity → batchnorm 4×6×6 relu → maxpool2×2 4×3×3 → 8 relu → \
         batchnorm 8 → 3 softmax"
    );
    let (x, labels) = data();
    let config = TrainConfig {
        epochs: 30,
        batch: Batch::Size(8),
        learning_rate: 0.05,
        optimiser: Optimiser::sgd(0.9),
        seed: 1,
        ..TrainConfig::default()
    };
    let history = net.fit(&x, &labels, &config).unwrap();
    let first = history.epochs[0].loss;
    let last = history.last().unwrap().loss;
    assert!(last < first * 0.5, "the loss went from {first} to {last}");
    let Layer::BatchNorm(bn) = &net.layers()[1] else {
        panic!("layer 1 is batch normalisation");
    };
    let (mean, var, batches) = bn.running_statistics().unwrap();
    assert_eq!(batches, 30 * 3);
    assert!(mean.iter().any(|&m| m != 0.0) && var.iter().any(|&v| v != 1.0));
    // Evaluation normalises by the running statistics: predictions of one sample do not
    // depend on which others share its batch.
    let alone = net.predict_proba(&x.select_rows(&[5]));
    let together = net.predict_proba(&x);
    assert_eq!(alone.row(0), together.row(5));
}

#[test]
fn a_network_with_batch_normalisation_saves_and_loads_bit_for_bit() {
    let mut net = cnn();
    let (x, labels) = data();
    let config = TrainConfig {
        epochs: 2,
        batch: Batch::Size(8),
        ..TrainConfig::default()
    };
    net.fit(&x, &labels, &config).unwrap();
    let bytes = simplenn::model::to_bytes(&net);
    assert_eq!(u32::from_le_bytes(bytes[8..12].try_into().unwrap()), 3);
    let back: Network = simplenn::model::from_bytes(&bytes).unwrap();
    assert!(back == net, "the loaded network differs");
    assert_eq!(back.predict_proba(&x), net.predict_proba(&x));
    // A network without it is still written as version 2.
    let plain: Network = Network::builder_for(Shape::image(6, 6, 1))
        .conv2d(2, 3, Activation::Relu)
        .output(3)
        .build();
    let bytes = simplenn::model::to_bytes(&plain);
    assert_eq!(u32::from_le_bytes(bytes[8..12].try_into().unwrap()), 2);
}

#[test]
fn a_damaged_batch_normalisation_record_is_refused_where_it_is_wrong() {
    let net: Network = Network::builder(3)
        .hidden(2, Activation::Relu)
        .batch_norm(Activation::Identity)
        .output(2)
        .build();
    let good = simplenn::model::to_bytes(&net);
    let record = 28 + 20; // the second layer's record
    let fix_crc = |mut b: Vec<u8>| {
        let n = b.len() - 4;
        let crc = simplenn::crc32::crc32(&b[..n]);
        b[n..].copy_from_slice(&crc.to_le_bytes());
        b
    };
    let with = |at: usize, value: f32| {
        let mut b = good.clone();
        b[at..at + 4].copy_from_slice(&value.to_le_bytes());
        fix_crc(b)
    };
    let err = simplenn::model::from_bytes::<f32>(&with(record + 4, 0.0)).unwrap_err();
    assert!(err.to_string().contains("momentum of 0"), "{err}");
    let err = simplenn::model::from_bytes::<f32>(&with(record + 8, -1.0)).unwrap_err();
    assert!(err.to_string().contains("ε of -1"), "{err}");
    // The running variance: after 3·2 + 2 weights and biases of layer 0, γ, β, the mean.
    let params = 28 + 20 * 3;
    let var = params + 4 * (3 * 2 + 2) + 4 * (2 + 2 + 2);
    let err = simplenn::model::from_bytes::<f32>(&with(var, -0.5)).unwrap_err();
    assert!(
        err.to_string().contains("a running variance of -0.5"),
        "{err}"
    );
    // A version-2 file may not hold the kind.
    let mut v2 = good.clone();
    v2[8..12].copy_from_slice(&2u32.to_le_bytes());
    let err = simplenn::model::from_bytes::<f32>(&fix_crc(v2)).unwrap_err();
    assert!(err.to_string().contains("unknown kind 3"), "{err}");
}

#[test]
fn a_run_with_batch_normalisation_resumes_from_a_checkpoint_bit_for_bit() {
    use simplenn::samples::MatrixSamples;
    use simplenn::train::{Training, checkpoint};
    let (x, labels) = data();
    let data = MatrixSamples::new(&x, &labels);
    let (train_x, train_labels) = (x.select_rows(&(0..16).collect::<Vec<_>>()), &labels[..16]);
    let validation = MatrixSamples::new(&train_x, train_labels);
    let config = TrainConfig {
        epochs: 4,
        batch: Batch::Size(8),
        keep_best: true,
        optimiser: Optimiser::ADAM,
        learning_rate: 0.01,
        ..TrainConfig::default()
    };
    let mut straight = cnn();
    let mut run = Training::new(&straight, &config, 24);
    while run
        .next_epoch(&mut straight, &data, Some(&validation), |_| {})
        .unwrap()
        .is_some()
    {}
    run.finish(&mut straight);

    let mut net = cnn();
    let mut run = Training::new(&net, &config, 24);
    for _ in 0..2 {
        run.next_epoch(&mut net, &data, Some(&validation), |_| {})
            .unwrap();
    }
    let bytes = checkpoint::to_bytes(&net, &run, "").unwrap();
    assert_eq!(u32::from_le_bytes(bytes[8..12].try_into().unwrap()), 2);
    let mut resumed = checkpoint::from_bytes::<f32>(&bytes).unwrap();
    let r = &mut resumed;
    while r
        .training
        .next_epoch(&mut r.network, &data, Some(&validation), |_| {})
        .unwrap()
        .is_some()
    {}
    resumed.training.finish(&mut resumed.network);
    assert!(
        resumed.network == straight,
        "the resumed run ended elsewhere"
    );
}

#[test]
fn exports_carry_the_statistics_under_pytorchs_names() {
    let mut net = cnn();
    let (x, labels) = data();
    let config = TrainConfig {
        epochs: 1,
        batch: Batch::Size(8),
        ..TrainConfig::default()
    };
    net.fit(&x, &labels, &config).unwrap();
    let tensors = simplenn::model::safetensors::tensors(&net);
    let names: Vec<&str> = tensors.iter().map(|t| t.name.as_str()).collect();
    for name in [
        "layers.1.weight",
        "layers.1.bias",
        "layers.1.running_mean",
        "layers.1.running_var",
        "layers.1.num_batches_tracked",
        "layers.4.running_var",
    ] {
        assert!(names.contains(&name), "{name} missing from {names:?}");
    }
    let count = tensors
        .iter()
        .find(|t| t.name == "layers.1.num_batches_tracked")
        .unwrap();
    assert_eq!((count.shape.len(), count.values[0]), (0, 3.0));
    // Read back into a fresh network, every value (statistics included) arrives.
    let bytes = simplenn::model::safetensors::to_bytes(&net);
    let file = simplenn::model::safetensors::from_bytes(&bytes).unwrap();
    let mut fresh = cnn();
    simplenn::model::safetensors::set_parameters(&mut fresh, &file).unwrap();
    assert!(fresh == net);
    // ONNX normalises with BatchNormalization, fed those tensors.
    let onnx = simplenn::model::onnx::to_bytes(&net);
    let text = String::from_utf8_lossy(&onnx);
    assert!(text.contains("BatchNormalization") && text.contains("layers.1.running_var"));
    assert!(!text.contains("num_batches_tracked"));
}

/// Values as the book prints them: rounded to four decimals.
fn four(values: &[f64]) -> Vec<String> {
    values.iter().map(|v| format!("{v:.4}")).collect()
}

/// The worked example of the book's chapter "Batch normalisation": one channel of four
/// values `0, 1, 4, 9`, `γ = 2`, `β = 0.5` and the upstream gradient `δ = (0.1, −0.2, 0.3,
/// 0.4)`, through the crate's layer, every number the chapter prints.
#[test]
fn the_worked_example_gives_the_numbers_in_the_book() {
    let shape = Shape::flat(1);
    let layer = |momentum: f32| {
        let parts = (vec![2.0], vec![0.5], vec![0.0], vec![1.0]); // γ, β, running mean, var
        let settings = (momentum, batch_norm::EPSILON);
        BatchNorm::<f64>::from_parts(shape, parts, 0, settings, Activation::Identity).unwrap()
    };
    let x = Matrix::from_rows(&[[0.0], [1.0], [4.0], [9.0]]);
    let delta = Matrix::from_rows(&[[0.1], [-0.2], [0.3], [0.4]]);
    let train = |bn: &mut BatchNorm<f64>| {
        let (mut y, mut scratch) = (Matrix::zeros(0, 0), Scratch::new());
        bn.forward_into(x.view().into(), &mut y, &mut scratch, Mode::Train);
        bn.track_batch(&scratch);
        y
    };

    // The batch's mean and variance: with a momentum of 1 the running statistics become the
    // batch's own, the variance made unbiased (× 4/3).
    let mut exact = layer(1.0);
    let y = train(&mut exact);
    let (mean, unbiased, _) = exact.running_statistics().unwrap();
    let (mean, unbiased) = (mean[0], unbiased[0]);
    let variance = unbiased * 3.0 / 4.0;
    assert_eq!(
        four(&[mean, variance, unbiased]),
        ["3.5000", "12.2500", "16.3333"]
    );

    // The forward pass: x̂ = (y − β)/γ, s = x̂/(x − μ), and y itself.
    let x_hat: Vec<f64> = y.as_slice().iter().map(|y| (y - 0.5) / 2.0).collect();
    assert_eq!(four(&x_hat), ["-1.0000", "-0.7143", "0.1429", "1.5714"]);
    let s = x_hat[3] / (9.0 - mean);
    assert_eq!(four(&[s, 2.0 * s]), ["0.2857", "0.5714"]);
    assert!((s - 1.0 / (12.25 + 1e-5_f32 as f64).sqrt()).abs() < 1e-15);
    assert_eq!(
        four(y.as_slice()),
        ["-1.5000", "-0.9286", "0.7857", "3.6429"]
    );

    // The backward pass.
    let bn = layer(batch_norm::MOMENTUM);
    let (grads, dx) = LayerKind::backward(&bn, &x, &delta);
    let (dgamma, dbeta) = (grads.weights.as_slice()[0], grads.bias[0]);
    assert_eq!(four(&[dgamma, dbeta]), ["0.7143", "0.6000"]);
    assert_eq!(four(&[dbeta / 4.0, dgamma / 4.0]), ["0.1500", "0.1786"]);
    let brackets: Vec<f64> = dx.as_slice().iter().map(|d| d / (2.0 * s)).collect();
    assert_eq!(four(&brackets), ["0.1286", "-0.2224", "0.1245", "-0.0306"]);
    assert_eq!(
        four(dx.as_slice()),
        ["0.0735", "-0.1271", "0.0711", "-0.0175"]
    );
    // Without the coupling terms it would be γ·s·δ.
    let uncoupled: Vec<f64> = delta.as_slice().iter().map(|d| 2.0 * s * d).collect();
    assert_eq!(four(&uncoupled), ["0.0571", "-0.1143", "0.1714", "0.2286"]);
    // ∂L/∂x sums to zero over the channel, and so (to within ε) does ∂L/∂x · x̂.
    let sum: f64 = dx.as_slice().iter().sum();
    let along: f64 = dx.as_slice().iter().zip(&x_hat).map(|(d, h)| d * h).sum();
    assert!(sum.abs() < 1e-15 && along.abs() < 1e-6, "{sum}, {along}");

    // The running statistics after that batch, at the default momentum 0.1.
    let mut bn = bn;
    train(&mut bn);
    let (mean, var, batches) = bn.running_statistics().unwrap();
    assert_eq!(four(&[mean[0], var[0]]), ["0.3500", "2.5333"]);
    assert_eq!(batches, 1);
    // Evaluation normalises the same four values by those, not by the batch's own.
    assert_eq!(
        four(bn.forward(&x).as_slice()),
        ["0.0602", "1.3168", "5.0864", "11.3692"]
    );
    // After 50 such batches the start (0 and 1) weighs 0.9⁵⁰ ≈ 0.0052.
    for _ in 1..50 {
        train(&mut bn);
    }
    let (mean, var, batches) = bn.running_statistics().unwrap();
    assert_eq!(four(&[mean[0], var[0]]), ["3.4820", "16.2543"]);
    assert_eq!(batches, 50);
    assert_eq!(
        four(bn.forward(&x).as_slice()),
        ["-1.2273", "-0.7312", "0.7570", "3.2373"]
    );
}

/// The chapter's reason for a larger learning rate: scaling the weights of the layer below
/// by `a` leaves the training loss as it was (to within ε) and divides their gradient by
/// `a`; and that layer's bias, which the normalisation subtracts again, gets no gradient.
#[test]
fn batch_normalisation_undoes_the_scale_of_the_weights_below_it() {
    let net = Network::<f64>::builder(3)
        .hidden(4, Activation::Identity)
        .batch_norm(Activation::Relu)
        .output(2)
        .seed(9)
        .build();
    let mut rng = Rng::new(10);
    let x = Matrix::random_normal(8, 3, 0.0, 1.0, &mut rng);
    let labels = [0, 1, 1, 0, 1, 0, 0, 1];
    let (loss, grads) = net.loss_and_gradients(&x, &labels);
    assert!(
        grads.layers[0].bias.iter().all(|b| b.abs() < 1e-15),
        "{grads:?}"
    );
    for a in [0.5, 2.0, 10.0] {
        let mut scaled = net.clone();
        let (w, _) = scaled.layers_mut()[0].params_mut().unwrap();
        w.as_mut_slice().iter_mut().for_each(|w| *w *= a);
        let (scaled_loss, scaled_grads) = scaled.loss_and_gradients(&x, &labels);
        assert!(
            (scaled_loss - loss).abs() < 1e-4,
            "{a}: {scaled_loss} against {loss}"
        );
        let want: Vec<f64> = grads.layers[0]
            .weights
            .as_slice()
            .iter()
            .map(|g| g / a)
            .collect();
        let got = scaled_grads.layers[0].weights.as_slice();
        assert_close(&format!("∂W × {a}"), got, &want, 1e-3);
    }
}
