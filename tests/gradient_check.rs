//! Gradient checks: backpropagation against finite differences, in `f64`.
//!
//! Backprop computes `∂L/∂θ` for every parameter θ by the chain rule. A finite difference
//! estimates the same number from the definition of a derivative, using nothing but the
//! forward pass:
//!
//! ```text
//! ∂L/∂θ ≈ (L(θ + h) − L(θ − h)) / 2h
//! ```
//!
//! The simplest central difference is accurate to O(h²) but, in `f64`, loses about
//! `ε·|L|/h ≈ 10⁻¹⁶·5/10⁻⁵ = 5·10⁻¹¹` to rounding when it subtracts two nearly equal losses;
//! next to a gradient entry of 10⁻⁵ that is already a relative error of 5·10⁻⁶. So we use
//! the five-point central difference
//!
//! ```text
//! ∂L/∂θ ≈ (8·(L(θ+h) − L(θ−h)) − (L(θ+2h) − L(θ−2h))) / 12h
//! ```
//!
//! whose truncation error is O(h⁴): with h = 10⁻³ it is ~10⁻¹⁴, and the rounding error drops
//! to ~5·10⁻¹³. Both are far below the 10⁻⁶ relative error we demand, so any disagreement
//! beyond that is a bug in backprop, not noise. (In `f32` the rounding term alone would be
//! 10⁻⁷·5/10⁻³ ≈ 10⁻³: useless. Hence `f64`.)
//!
//! ReLU has a kink at 0 where the derivative jumps; a difference that straddles it measures
//! neither side. What crosses the kink is a pre-activation `z`, and a nudge moves it: by up
//! to 2h·|a| when the nudged parameter is a weight that multiplies the input `a`, by 2h for
//! a bias, and, through the layers in between, by some amount for every `z` above. So each
//! test picks its random data with no pre-activation within `KINK_MARGIN` of zero, and the
//! finite difference does not trust that margin: at each of its four nudged points it
//! recomputes every ReLU pre-activation and fails if one has changed sign.

use simplenn::LayerKind;
use simplenn::{Activation, Init, Matrix, Network, Regularisation, Rng, loss, train};

// ANCHOR: constants
/// Step of the central difference.
const H: f64 = 1e-3;
/// Largest relative error accepted between backprop and the finite difference.
const TOLERANCE: f64 = 1e-6;
/// Floor of the relative error's denominator: gradients smaller than this are held to an
/// absolute error of `TOLERANCE · TINY = 10⁻¹³`, about the rounding floor of the estimate.
const TINY: f64 = 1e-7;
/// No hidden pre-activation may start closer to zero than this. A nudge of 2h moves a
/// pre-activation by 2h·|a| (a weight on input `a`; the inputs are N(0, 1), so |a| rarely
/// exceeds 3) or 2h (a bias): 0.02 leaves a few times that. The differences check, rather
/// than assume, that no pre-activation crosses zero (`assert_same_sides`).
const KINK_MARGIN: f64 = 0.02;
// ANCHOR_END: constants

// ANCHOR: relative_error
/// `|a − n| / max(|a|, |n|, TINY)`: the relative error between an analytic gradient `a` and
/// a numerical one `n`, with a floor so that two tiny numbers are not called far apart.
fn relative_error(a: f64, n: f64) -> f64 {
    (a - n).abs() / a.abs().max(n.abs()).max(TINY)
}
// ANCHOR_END: relative_error

/// The result of comparing every gradient entry: the worst relative error and where.
#[derive(Debug)]
struct Check {
    worst: f64,
    at: String,
    compared: usize,
}

// ANCHOR: check
/// Compares backprop's gradient of every weight and bias of `net` on `(x, labels)` with the
/// five-point central difference (see [`five_point`]), returning the worst relative error.
/// `tamper` may alter the analytic gradients first, to show that the checker notices.
fn check_network(
    net: &mut Network<f64>,
    x: &Matrix<f64>,
    labels: &[usize],
    tamper: impl Fn(&mut simplenn::Gradients<f64>),
) -> Check {
    let (_, mut grads) = net.loss_and_gradients(x, labels);
    tamper(&mut grads);
    let mut check = Check {
        worst: 0.0,
        at: String::new(),
        compared: 0,
    };
    let mut record = |analytic: f64, numeric: f64, at: &dyn Fn() -> String| {
        let err = relative_error(analytic, numeric);
        check.compared += 1;
        if err > check.worst || err.is_nan() {
            check.worst = err;
            check.at = format!("{} (backprop {analytic:e}, numeric {numeric:e})", at());
        }
    };
    for l in 0..net.layers().len() {
        let (rows, cols) = net.layers()[l].weights().unwrap().shape();
        for i in 0..rows {
            for j in 0..cols {
                let numeric = central_difference(net, x, labels, |n, d| {
                    n.layers_mut()[l].weights_mut().unwrap()[(i, j)] += d
                });
                let analytic = grads.layers[l].weights[(i, j)];
                record(analytic, numeric, &|| {
                    format!("layer {l} weight ({i}, {j})")
                });
            }
        }
        for j in 0..cols {
            let numeric = central_difference(net, x, labels, |n, d| {
                n.layers_mut()[l].bias_mut().unwrap()[j] += d
            });
            let analytic = grads.layers[l].bias[j];
            record(analytic, numeric, &|| format!("layer {l} bias {j}"));
        }
    }
    check
}

/// The five-point central difference of the loss along the parameter that `nudge(net, d)`
/// moves by `d`, leaving the parameter where it was. Panics if a nudge moves a ReLU
/// pre-activation across zero.
fn central_difference(
    net: &mut Network<f64>,
    x: &Matrix<f64>,
    labels: &[usize],
    nudge: impl Fn(&mut Network<f64>, f64),
) -> f64 {
    let sides = relu_sides(net, x, None);
    five_point(|offset| {
        nudge(net, offset);
        assert_same_sides(net, x, None, &sides, offset);
        let loss = net.loss(x, labels);
        nudge(net, -offset);
        loss
    })
}

/// Which side of zero every ReLU pre-activation of `net` is on for the batch `x` (with
/// dropout `masks` applied to the hidden outputs, if given), computed from the definition.
fn relu_sides(net: &Network<f64>, x: &Matrix<f64>, masks: Option<&[Matrix<f64>]>) -> Vec<bool> {
    let mut a = x.clone();
    let mut sides = Vec::new();
    let hidden = &net.layers()[..net.layers().len() - 1];
    for (l, layer) in hidden.iter().enumerate() {
        let mut z = a.matmul(layer.weights().unwrap());
        z.add_row(layer.bias().unwrap());
        if layer.activation().unwrap() == Activation::Relu {
            sides.extend(z.as_slice().iter().map(|&v| v > 0.0));
        }
        a = z.map(|v| layer.activation().unwrap().apply(v));
        if let Some(masks) = masks {
            a = a.hadamard(&masks[l]);
        }
    }
    sides
}

/// Panics unless every ReLU pre-activation is on the side of zero it was on in `before`:
/// a difference whose points straddle a kink would measure neither slope.
fn assert_same_sides(
    net: &Network<f64>,
    x: &Matrix<f64>,
    masks: Option<&[Matrix<f64>]>,
    before: &[bool],
    offset: f64,
) {
    let after = relu_sides(net, x, masks);
    if let Some(k) = before.iter().zip(&after).position(|(b, a)| b != a) {
        panic!(
            "a nudge of {offset:e} moved ReLU pre-activation {k} across zero: the data \
             are too close to a kink for a finite difference"
        );
    }
}

/// `(8·(f(h) − f(−h)) − (f(2h) − f(−2h))) / 12h`: the derivative at 0, error O(h⁴).
fn five_point(mut f: impl FnMut(f64) -> f64) -> f64 {
    let near = f(H) - f(-H);
    let far = f(2.0 * H) - f(-2.0 * H);
    (8.0 * near - far) / (12.0 * H)
}
// ANCHOR_END: check

/// The smallest |z| over every pre-activation of the hidden layers, computed here from the
/// definition `z = a·W + b` with the public `Matrix` API.
fn min_abs_preactivation(net: &Network<f64>, x: &Matrix<f64>) -> f64 {
    let mut a = x.clone();
    let mut min = f64::INFINITY;
    let hidden = &net.layers()[..net.layers().len() - 1];
    for layer in hidden {
        let mut z = a.matmul(layer.weights().unwrap());
        z.add_row(layer.bias().unwrap());
        min = z.as_slice().iter().fold(min, |m, v| m.min(v.abs()));
        a = z.map(|v| layer.activation().unwrap().apply(v));
    }
    min
}

/// A small network with the given hidden activations and a batch of `batch` random inputs
/// and labels, chosen (by trying seeds in order) so that no hidden pre-activation is near a
/// ReLU kink.
fn setup(hidden: &[(usize, Activation)], batch: usize) -> (Network<f64>, Matrix<f64>, Vec<usize>) {
    const INPUTS: usize = 6;
    const CLASSES: usize = 4;
    for seed in 0..1000 {
        let mut builder = Network::builder(INPUTS)
            .output(CLASSES)
            .seed(seed)
            .init(Init::Xavier);
        for &(units, act) in hidden {
            builder = builder.hidden(units, act);
        }
        let mut net = builder.build();
        // Xavier leaves biases at zero; give them values so their gradients are exercised.
        let mut rng = Rng::new(seed + 10_000);
        for layer in net.layers_mut() {
            for b in layer.bias_mut().unwrap() {
                *b = rng.uniform(-0.5, 0.5);
            }
        }
        let x = Matrix::random_normal(batch, INPUTS, 0.0, 1.0, &mut rng);
        let labels: Vec<usize> = (0..batch)
            .map(|_| rng.below(CLASSES as u64) as usize)
            .collect();
        if min_abs_preactivation(&net, &x) > KINK_MARGIN {
            return (net, x, labels);
        }
    }
    panic!("no seed below 1000 keeps every pre-activation away from zero");
}

fn assert_gradients_match(hidden: &[(usize, Activation)]) {
    for batch in [1, 3, 8] {
        let (mut net, x, labels) = setup(hidden, batch);
        let check = check_network(&mut net, &x, &labels, |_| {});
        println!(
            "{net} (batch {batch}): {} parameters, worst relative error {:.2e} at {}",
            check.compared, check.worst, check.at
        );
        assert!(
            check.worst <= TOLERANCE,
            "{net}, batch {batch}: relative error {:.3e} > {TOLERANCE:e} at {}",
            check.worst,
            check.at
        );
        assert_eq!(check.compared, net.parameter_count());
    }
}

#[test]
fn relu_network_gradients_match_finite_differences() {
    assert_gradients_match(&[(5, Activation::Relu)]);
}

#[test]
fn sigmoid_network_gradients_match_finite_differences() {
    assert_gradients_match(&[(5, Activation::Sigmoid)]);
}

#[test]
fn tanh_network_gradients_match_finite_differences() {
    assert_gradients_match(&[(5, Activation::Tanh)]);
}

#[test]
fn identity_network_gradients_match_finite_differences() {
    assert_gradients_match(&[(5, Activation::Identity)]);
}

#[test]
fn deep_mixed_network_gradients_match_finite_differences() {
    assert_gradients_match(&[
        (7, Activation::Relu),
        (5, Activation::Tanh),
        (6, Activation::Sigmoid),
        (4, Activation::Identity),
        (5, Activation::Relu),
    ]);
}

#[test]
fn network_without_hidden_layers_matches_finite_differences() {
    // Multinomial logistic regression: just the output layer.
    assert_gradients_match(&[]);
}

/// A network whose last layer has an activation of its own, as `Network::from_layers` or a
/// model file may hold: the loss is the softmax cross-entropy of that activation's output,
/// and the output layer's backward pass goes through its activation as every layer's does.
#[test]
fn an_activated_output_layer_is_differentiated_through_its_activation() {
    for activation in [Activation::Tanh, Activation::Sigmoid] {
        let (net, x, labels) = setup(&[(5, Activation::Tanh)], 3);
        let mut layers = net.layers().to_vec();
        let output = layers.pop().unwrap();
        let output = output.as_dense().unwrap();
        let weights = output.weights().clone();
        layers.push(simplenn::Dense::new(weights, output.bias().to_vec(), activation).into());
        let mut net = Network::try_from_layers(layers).unwrap();
        let check = check_network(&mut net, &x, &labels, |_| {});
        println!(
            "{net}: worst relative error {:.2e} at {}",
            check.worst, check.at
        );
        assert!(
            check.worst <= TOLERANCE,
            "{net}: relative error {:.3e} > {TOLERANCE:e} at {}",
            check.worst,
            check.at
        );
    }
}

// ANCHOR: catches
#[test]
fn the_checker_catches_a_wrong_gradient() {
    let (mut net, x, labels) = setup(&[(5, Activation::Tanh)], 4);
    // Off by one part in ten thousand in a single weight's gradient...
    let check = check_network(&mut net, &x, &labels, |g| {
        g.layers[0].weights[(2, 3)] *= 1.0 + 1e-4;
    });
    assert!(check.worst > TOLERANCE, "missed: {check:?}");
    assert!(check.at.starts_with("layer 0 weight (2, 3)"), "{check:?}");

    // ...or a bias gradient with the wrong sign, as a classic backprop bug would give.
    let check = check_network(&mut net, &x, &labels, |g| {
        let b = &mut g.layers[1].bias[0];
        *b = -*b;
    });
    assert!(check.worst > 1.0, "missed: {check:?}");

    // ...or a ReLU derivative taken as 1 everywhere (the gradient of a different network).
    let (mut relu, x, labels) = setup(&[(5, Activation::Relu)], 4);
    let mut linear = relu.clone();
    let act = relu.layers()[0].activation().unwrap();
    assert_eq!(act, Activation::Relu);
    let layers: Vec<_> = linear
        .layers()
        .iter()
        .enumerate()
        .map(|(l, d)| {
            let activation = if l == 0 {
                Activation::Identity
            } else {
                d.activation().unwrap()
            };
            simplenn::Dense::new(
                d.weights().unwrap().clone(),
                d.bias().unwrap().to_vec(),
                activation,
            )
        })
        .collect();
    linear = Network::from_layers(layers);
    let (_, wrong) = linear.loss_and_gradients(&x, &labels);
    let check = check_network(&mut relu, &x, &labels, |g| *g = wrong.clone());
    assert!(check.worst > TOLERANCE, "missed: {check:?}");
}
// ANCHOR_END: catches

// ANCHOR: softmax_ce
#[test]
fn softmax_cross_entropy_gradient_matches_finite_differences() {
    let mut rng = Rng::new(3);
    for (m, classes, scale) in [(1, 2, 1.0), (4, 10, 2.0), (7, 5, 3.0)] {
        let logits = Matrix::<f64>::random_normal(m, classes, 0.0, scale, &mut rng);
        let labels: Vec<usize> = (0..m).map(|_| rng.below(classes as u64) as usize).collect();
        let (_, grad) = loss::softmax_cross_entropy(&logits, &labels);
        let mut worst: f64 = 0.0;
        for r in 0..m {
            for c in 0..classes {
                let numeric = five_point(|d| {
                    let mut moved = logits.clone();
                    moved[(r, c)] += d;
                    loss::cross_entropy_with_logits(&moved, &labels)
                });
                worst = worst.max(relative_error(grad[(r, c)], numeric));
            }
        }
        println!("softmax-CE {m}×{classes}, scale {scale}: worst relative error {worst:.2e}");
        assert!(worst <= TOLERANCE, "{m}×{classes}: {worst:e}");
    }
}
// ANCHOR_END: softmax_ce

/// The label-smoothed cross-entropy from its definition, `−(1/m) Σᵢ Σⱼ tᵢⱼ·(zᵢⱼ − lse(zᵢ))`
/// with `t = (1 − ε)·y + ε/K`, for the finite differences to differentiate.
fn smoothed_loss_by_definition(logits: &Matrix<f64>, labels: &[usize], epsilon: f64) -> f64 {
    let k = logits.cols() as f64;
    let mut total = 0.0;
    for (row, &y) in logits.row_iter().zip(labels) {
        let lse = loss::log_sum_exp(row);
        for (j, &z) in row.iter().enumerate() {
            let t = epsilon / k + if j == y { 1.0 - epsilon } else { 0.0 };
            total -= t * (z - lse);
        }
    }
    total / labels.len() as f64
}

#[test]
fn label_smoothed_gradient_matches_finite_differences() {
    let mut rng = Rng::new(13);
    for (m, classes, epsilon) in [(1, 2, 0.1), (4, 10, 0.1), (7, 5, 0.3), (3, 4, 1.0)] {
        let logits = Matrix::<f64>::random_normal(m, classes, 0.0, 2.0, &mut rng);
        let labels: Vec<usize> = (0..m).map(|_| rng.below(classes as u64) as usize).collect();
        let (loss, grad) = loss::softmax_cross_entropy_smoothed(&logits, &labels, epsilon);
        let want = smoothed_loss_by_definition(&logits, &labels, epsilon);
        assert!((loss - want).abs() < 1e-14, "{loss} vs {want}");
        let mut worst: f64 = 0.0;
        for r in 0..m {
            for c in 0..classes {
                let numeric = five_point(|d| {
                    let mut moved = logits.clone();
                    moved[(r, c)] += d;
                    smoothed_loss_by_definition(&moved, &labels, epsilon)
                });
                worst = worst.max(relative_error(grad[(r, c)], numeric));
            }
        }
        println!("smoothed CE {m}×{classes}, ε {epsilon}: worst relative error {worst:.2e}");
        assert!(worst <= TOLERANCE, "{m}×{classes}, ε {epsilon}: {worst:e}");
    }
}

/// Softmax ignores a constant added to a row, so the loss and its gradient must too. This
/// is where the finite difference cannot follow (subtracting two losses of logits near 800
/// leaves only a few correct digits), so it is checked as the invariant it is.
#[test]
fn softmax_cross_entropy_is_shift_invariant() {
    let mut rng = Rng::new(4);
    let logits = Matrix::<f64>::random_normal(6, 10, 0.0, 3.0, &mut rng);
    let labels = [0, 3, 9, 9, 5, 1];
    let (loss, grad) = loss::softmax_cross_entropy(&logits, &labels);
    for shift in [800.0, -900.0, 1e4, -1e5] {
        let shifted = logits.map(|z| z + shift);
        let (loss_s, grad_s) = loss::softmax_cross_entropy(&shifted, &labels);
        let tol = 1e-15 * shift.abs() * 64.0;
        assert!(
            (loss - loss_s).abs() <= tol,
            "shift {shift}: loss {loss} vs {loss_s}"
        );
        assert!(grad.max_abs_diff(&grad_s) <= tol, "shift {shift}");
    }
}

/// The training loss with dropout masks and label smoothing, from the definitions with the
/// public `Matrix` API: each hidden layer computes `a = σ(a·W + b) ⊙ mask`, the output layer
/// `z = a·W + b`, and the loss is the smoothed cross-entropy of `z`.
fn regularised_loss_by_definition(
    net: &Network<f64>,
    x: &Matrix<f64>,
    labels: &[usize],
    masks: &[Matrix<f64>],
    epsilon: f64,
) -> f64 {
    let mut a = x.clone();
    let (hidden, output) = net.layers().split_at(net.layers().len() - 1);
    for (layer, mask) in hidden.iter().zip(masks) {
        let mut z = a.matmul(layer.weights().unwrap());
        z.add_row(layer.bias().unwrap());
        a = z
            .map(|v| layer.activation().unwrap().apply(v))
            .hadamard(mask);
    }
    let mut logits = a.matmul(output[0].weights().unwrap());
    logits.add_row(output[0].bias().unwrap());
    smoothed_loss_by_definition(&logits, labels, epsilon)
}

/// Backprop through fixed dropout masks (and label smoothing) against the five-point
/// difference of [`regularised_loss_by_definition`], over every parameter: the worst
/// relative error.
fn check_regularised(
    net: &mut Network<f64>,
    x: &Matrix<f64>,
    labels: &[usize],
    masks: &[Matrix<f64>],
    epsilon: f64,
) -> f64 {
    let regularisation = Regularisation {
        label_smoothing: epsilon,
        dropout_masks: Some(masks),
    };
    let (loss, grads) = net.loss_and_gradients_with(x, labels, &regularisation);
    let direct = regularised_loss_by_definition(net, x, labels, masks, epsilon);
    assert!((loss - direct).abs() < 1e-13, "loss {loss} vs {direct}");
    let mut worst: f64 = 0.0;
    for l in 0..net.layers().len() {
        let (rows, cols) = net.layers()[l].weights().unwrap().shape();
        let sides = relu_sides(net, x, Some(masks));
        let mut numeric_of = |nudge: &dyn Fn(&mut Network<f64>, f64)| {
            five_point(|d| {
                nudge(net, d);
                assert_same_sides(net, x, Some(masks), &sides, d);
                let loss = regularised_loss_by_definition(net, x, labels, masks, epsilon);
                nudge(net, -d);
                loss
            })
        };
        for i in 0..rows {
            for j in 0..cols {
                let numeric =
                    numeric_of(&|n, d| n.layers_mut()[l].weights_mut().unwrap()[(i, j)] += d);
                worst = worst.max(relative_error(grads.layers[l].weights[(i, j)], numeric));
            }
        }
        for j in 0..cols {
            let numeric = numeric_of(&|n, d| n.layers_mut()[l].bias_mut().unwrap()[j] += d);
            worst = worst.max(relative_error(grads.layers[l].bias[j], numeric));
        }
    }
    worst
}

#[test]
fn dropout_gradients_through_fixed_masks_match_finite_differences() {
    // Masks drawn as training draws them (rate 0.4: entries 0 or 1/0.6), then held fixed.
    // ReLU only in the first hidden layer, whose pre-activations `setup` keeps away from the
    // kink (the masks change what later layers see, so later layers are smooth).
    for hidden in [
        &[(5, Activation::Relu)][..],
        &[(6, Activation::Tanh), (5, Activation::Sigmoid)],
        &[(7, Activation::Relu), (4, Activation::Tanh)],
    ] {
        for (batch, epsilon) in [(1, 0.0), (4, 0.0), (6, 0.1)] {
            let (mut net, x, labels) = setup(hidden, batch);
            let mut masks = Vec::new();
            train::draw_dropout_masks(&net, batch, 0.4, &mut Rng::new(batch as u64), &mut masks);
            let dropped = masks
                .iter()
                .map(|m| m.as_slice().iter().filter(|&&v| v == 0.0).count())
                .sum::<usize>();
            assert!(
                dropped > 0 || batch == 1,
                "the premise: some units are dropped"
            );
            let worst = check_regularised(&mut net, &x, &labels, &masks, epsilon);
            println!(
                "{net} with dropout (batch {batch}, ε {epsilon}): worst relative error {worst:.2e}"
            );
            assert!(worst <= TOLERANCE, "{net}, batch {batch}: {worst:e}");
        }
    }
}

#[test]
fn masks_of_ones_are_no_dropout_and_masks_of_zeros_cut_the_network() {
    let (net, x, labels) = setup(&[(6, Activation::Tanh), (5, Activation::Relu)], 5);
    let ones: Vec<Matrix<f64>> = vec![Matrix::filled(5, 6, 1.0), Matrix::filled(5, 5, 1.0)];
    let with_ones = Regularisation {
        label_smoothing: 0.0,
        dropout_masks: Some(&ones),
    };
    let plain = net.loss_and_gradients(&x, &labels);
    assert!(
        net.loss_and_gradients_with(&x, &labels, &with_ones) == plain,
        "bit for bit"
    );

    // Dropping everything in the last hidden layer leaves the output layer's bias alone:
    // nothing below it gets a gradient, and its weights see only zeros.
    let cut: Vec<Matrix<f64>> = vec![Matrix::filled(5, 6, 1.0), Matrix::zeros(5, 5)];
    let with_cut = Regularisation {
        label_smoothing: 0.0,
        dropout_masks: Some(&cut),
    };
    let (_, g) = net.loss_and_gradients_with(&x, &labels, &with_cut);
    for layer in &g.layers {
        assert!(layer.weights.as_slice().iter().all(|&w| w == 0.0));
    }
    assert!(
        g.layers[..2]
            .iter()
            .all(|l| l.bias.iter().all(|&b| b == 0.0))
    );
    assert!(g.layers[2].bias.iter().any(|&b| b != 0.0));
}

#[test]
#[should_panic(expected = "dropout mask 0 is 4×5 but hidden layer 0 gives 3×5 for this batch")]
fn masks_of_the_wrong_shape_are_refused() {
    let (net, x, labels) = setup(&[(5, Activation::Tanh)], 3);
    let masks = [Matrix::filled(4, 5, 1.0)];
    let r = Regularisation {
        label_smoothing: 0.0,
        dropout_masks: Some(&masks),
    };
    net.loss_and_gradients_with(&x, &labels, &r);
}

#[test]
#[should_panic(expected = "label smoothing ε = -0.1 is not in [0, 1]")]
fn negative_label_smoothing_is_refused() {
    let (net, x, labels) = setup(&[(5, Activation::Tanh)], 3);
    let r = Regularisation {
        label_smoothing: -0.1,
        dropout_masks: None,
    };
    net.loss_and_gradients_with(&x, &labels, &r);
}

#[test]
#[should_panic(expected = "across zero")]
fn a_difference_that_straddles_a_relu_kink_is_refused() {
    let (mut net, x, labels) = setup(&[(5, Activation::Relu)], 3);
    // Move unit 0's bias so that sample 0's pre-activation sits 0.0005 above the kink, well
    // inside the reach of a nudge of 2h = 0.002.
    let z =
        x.matmul(net.layers()[0].weights().unwrap())[(0, 0)] + net.layers()[0].bias().unwrap()[0];
    net.layers_mut()[0].bias_mut().unwrap()[0] -= z - 0.0005;
    central_difference(&mut net, &x, &labels, |n, d| {
        n.layers_mut()[0].bias_mut().unwrap()[0] += d
    });
}
