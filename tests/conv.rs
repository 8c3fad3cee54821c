//! Convolution and pooling: the fast paths (im2col and one matrix product; col2im) held to
//! the nested-loop definitions in `conv2d::reference` and `pool::reference`, on awkward
//! shapes, and the network's shape checks.

use simplenn::LayerKind;
use simplenn::layer::{conv2d, pool};
use simplenn::{
    Activation, Conv2d, Init, Layer, LayerSpec, Matrix, MaxPool2d, Network, Padding, Rng, Shape,
};

/// A convolution with random weights and biases.
fn conv(
    input: Shape,
    channels: usize,
    kernel: usize,
    stride: usize,
    padding: usize,
    activation: Activation,
    seed: u64,
) -> Conv2d<f64> {
    let mut rng = Rng::new(seed);
    let (weights, _) = Init::He.sample_conv(kernel, input.channels, channels, &mut rng);
    let bias = (0..channels).map(|_| rng.uniform(-0.5, 0.5)).collect();
    Conv2d::new(input, weights, bias, stride, padding, activation)
}

fn assert_close(what: &str, got: &[f64], want: &[f64]) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    let scale = want.iter().fold(1.0f64, |m, w| m.max(w.abs()));
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= 1e-12 * scale,
            "{what}: element {i} is {g}, the reference gives {w}"
        );
    }
}

/// `(input, channels, kernel, stride, padding, batch)`: 1×1 kernels, a kernel as large as
/// the image, odd sizes, one channel, stride 2, padding beyond `(k − 1)/2` and as wide as the
/// kernel (windows entirely in the padding).
const CASES: [(Shape, usize, usize, usize, usize, usize); 8] = [
    (Shape::image(4, 5, 3), 2, 1, 1, 0, 2),
    (Shape::image(5, 5, 2), 3, 5, 1, 0, 3),
    (Shape::image(7, 5, 1), 4, 3, 2, 1, 2),
    (Shape::image(5, 4, 1), 2, 3, 1, 2, 1),
    (Shape::image(3, 3, 2), 2, 2, 1, 2, 2),
    (Shape::image(6, 7, 3), 5, 3, 2, 0, 3),
    (Shape::image(1, 1, 4), 3, 1, 1, 0, 4),
    (Shape::image(9, 8, 2), 3, 4, 3, 1, 2),
];

#[test]
fn the_fast_convolution_matches_the_definition() {
    for (i, &(input, channels, kernel, stride, padding, batch)) in CASES.iter().enumerate() {
        for activation in [Activation::Identity, Activation::Tanh] {
            let layer = conv(
                input, channels, kernel, stride, padding, activation, i as u64,
            );
            let x = Matrix::random_normal(batch, input.volume(), 0.0, 1.0, &mut Rng::new(7));
            let what = format!("case {i} {layer:?}");
            assert_close(
                &what,
                layer.forward(&x).as_slice(),
                conv2d::reference::forward(&layer, &x).as_slice(),
            );
        }
    }
}

#[test]
fn the_fast_convolution_gradients_match_the_definition() {
    for (i, &(input, channels, kernel, stride, padding, batch)) in CASES.iter().enumerate() {
        let layer = conv(
            input,
            channels,
            kernel,
            stride,
            padding,
            Activation::Relu,
            10 + i as u64,
        );
        let mut rng = Rng::new(8);
        let x = Matrix::random_normal(batch, input.volume(), 0.0, 1.0, &mut rng);
        let out = layer.output_shape().volume();
        let delta = Matrix::random_normal(batch, out, 0.0, 1.0, &mut rng);
        let (grads, dx) = layer.backward(&x, &delta);
        let (dw, db) = (grads.weights, grads.bias);
        let (rw, rb, rx) = conv2d::reference::backward(&layer, &x, &delta);
        let what = format!("case {i} {layer:?}");
        assert_close(&format!("{what} ∂W"), dw.as_slice(), rw.as_slice());
        assert_close(&format!("{what} ∂b"), &db, &rb);
        assert_close(&format!("{what} ∂x"), dx.as_slice(), rx.as_slice());
    }
}

#[test]
fn a_batch_too_large_for_one_im2col_is_convolved_in_groups_with_the_same_result() {
    // 28×28×8 with 5×5 kernels: 156,800 im2col values per sample, so the fast path works in
    // groups of 13 samples; 30 samples make three groups, the last one short.
    let input = Shape::image(28, 28, 8);
    let layer = conv(input, 4, 5, 1, 2, Activation::Identity, 3);
    let mut rng = Rng::new(9);
    let x = Matrix::random_normal(30, input.volume(), 0.0, 1.0, &mut rng);
    let delta = Matrix::random_normal(30, layer.output_shape().volume(), 0.0, 1.0, &mut rng);
    assert_close(
        "grouped forward",
        layer.forward(&x).as_slice(),
        conv2d::reference::forward(&layer, &x).as_slice(),
    );
    let (grads, dx) = layer.backward(&x, &delta);
    let (dw, db) = (grads.weights, grads.bias);
    let (rw, rb, rx) = conv2d::reference::backward(&layer, &x, &delta);
    assert_close("grouped ∂W", dw.as_slice(), rw.as_slice());
    assert_close("grouped ∂b", &db, &rb);
    assert_close("grouped ∂x", dx.as_slice(), rx.as_slice());
}

#[test]
fn a_one_by_one_convolution_is_a_dense_layer_on_every_pixel() {
    // Independent of both implementations: with k = 1, channels last, the convolution of an
    // m-sample batch is the (m·H·W) × C matrix of its pixels times the weights, plus the bias.
    let input = Shape::image(3, 4, 5);
    let layer = conv(input, 2, 1, 1, 0, Activation::Identity, 4);
    let x = Matrix::random_normal(2, input.volume(), 0.0, 1.0, &mut Rng::new(1));
    let pixels = Matrix::from_vec(2 * 12, 5, x.as_slice().to_vec());
    let mut want = pixels.matmul(layer.weights());
    want.add_row(layer.bias());
    assert_close("1×1", layer.forward(&x).as_slice(), want.as_slice());
}

#[test]
fn a_hand_computed_convolution() {
    // A 3×3 one-channel image, one 2×2 kernel, no padding: each output is the sum of the
    // kernel times its window, plus the bias.
    let x = Matrix::from_rows(&[[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]]);
    // Weights in (ky·k + kx) order: [[1, 0], [0, −1]], a diagonal difference.
    let w = Matrix::from_rows(&[[1.0], [0.0], [0.0], [-1.0]]);
    let layer = Conv2d::new(
        Shape::image(3, 3, 1),
        w,
        vec![0.5],
        1,
        0,
        Activation::Identity,
    );
    assert_eq!(layer.output_shape(), Shape::image(2, 2, 1));
    // 1 − 5, 2 − 6, 4 − 8, 5 − 9, each − 4, plus 0.5.
    assert_eq!(layer.forward(&x).as_slice(), &[-3.5, -3.5, -3.5, -3.5]);
    // Stride 2 with one pixel of padding: windows at (−1, −1), (−1, 1), (1, −1), (1, 1).
    let w = Matrix::from_rows(&[[1.0], [0.0], [0.0], [-1.0]]);
    let strided = Conv2d::new(
        Shape::image(3, 3, 1),
        w,
        vec![0.0],
        2,
        1,
        Activation::Identity,
    );
    assert_eq!(strided.output_shape(), Shape::image(2, 2, 1));
    // Window (−1, −1) reads padding except its bottom right, x[0][0] = 1, weighted −1.
    assert_eq!(
        strided.forward(&x).as_slice(),
        &[-1.0, -3.0, -7.0, 5.0 - 9.0]
    );
}

#[test]
fn pooling_takes_the_maximum_and_routes_the_gradient_to_it() {
    // Two channels of a 4×4 image, stored channels last.
    let input = Shape::image(4, 5, 2); // the last column is left out by 2×2 windows
    let pool = MaxPool2d::new(input, 2);
    assert_eq!(pool.output_shape(), Shape::image(2, 2, 2));
    let mut rng = Rng::new(3);
    let x = Matrix::<f64>::random_normal(3, input.volume(), 0.0, 1.0, &mut rng);
    let (want, argmax) = pool::reference::forward(&pool, &x);
    assert_eq!(pool.forward(&x), want);
    let delta = Matrix::random_normal(3, pool.output_shape().volume(), 0.0, 1.0, &mut rng);
    let grad = pool.backward(&x, &delta).1;
    let mut expected = Matrix::zeros(3, input.volume());
    for (n, winners) in argmax.iter().enumerate() {
        for (o, &i) in winners.iter().enumerate() {
            expected.row_mut(n)[i] += delta.row(n)[o];
        }
    }
    assert_eq!(grad, expected);
}

#[test]
fn pooling_agrees_with_the_reference_across_blocks_of_channels_and_ties() {
    // The fast path compares 16 channels at a time: channel counts below, at and across
    // that, windows of 2 and 3, and values from a handful of levels so that most windows
    // hold ties (which must go to the first in reading order, as in the reference).
    let mut rng = Rng::new(8);
    for (channels, size) in [(1, 2), (15, 2), (16, 2), (17, 3), (32, 2), (33, 3)] {
        let input = Shape::image(6, 7, channels);
        let pool = MaxPool2d::new(input, size);
        let values = (0..4 * input.volume())
            .map(|_| rng.below(4) as f32 - 2.0)
            .collect();
        let x = Matrix::from_vec(4, input.volume(), values);
        let (want, argmax) = pool::reference::forward(&pool, &x);
        assert_eq!(pool.forward(&x), want, "{channels} channels, {size}×{size}");
        let out = pool.output_shape().volume();
        let delta = Matrix::from_vec(4, out, (0..4 * out).map(|i| i as f32 + 1.0).collect());
        let mut expected = Matrix::zeros(4, input.volume());
        for (n, winners) in argmax.iter().enumerate() {
            for (o, &i) in winners.iter().enumerate() {
                expected.row_mut(n)[i] += delta.row(n)[o];
            }
        }
        assert_eq!(
            pool.backward(&x, &delta).1,
            expected,
            "{channels} channels, {size}×{size}"
        );
    }
}

#[test]
fn pooling_ties_go_to_the_first_in_reading_order() {
    let pool = MaxPool2d::new(Shape::image(2, 2, 1), 2);
    let x = Matrix::from_rows(&[
        [1.0, 3.0, 3.0, 3.0],
        [5.0, 5.0, 5.0, 5.0],
        [0.0, 0.0, 0.0, 2.0],
    ]);
    let delta = Matrix::from_rows(&[[1.0], [1.0], [1.0]]);
    let grad = pool.backward(&x, &delta).1;
    assert_eq!(
        grad.as_slice(),
        &[0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0]
    );
}

#[test]
fn the_builder_tracks_shapes_through_a_cnn() {
    let net: Network = Network::builder_for(Shape::image(28, 28, 1))
        .conv2d(16, 5, Activation::Relu)
        .max_pool(2)
        .conv2d(32, 5, Activation::Relu)
        .max_pool(2)
        .hidden(128, Activation::Relu)
        .output(10)
        .seed(1)
        .build();
    assert_eq!(
        net.to_string(),
        "1×28×28 → conv5×5 16×28×28 relu → maxpool2×2 16×14×14 → conv5×5 32×14×14 relu → \
         maxpool2×2 32×7×7 → 128 relu → 10 softmax"
    );
    let shapes: Vec<Shape> = net.layers().iter().map(Layer::output_shape).collect();
    assert_eq!(shapes[3], Shape::image(7, 7, 32));
    assert_eq!(net.inputs(), 784);
    assert_eq!(
        net.parameter_count(),
        (25 * 16 + 16) + (25 * 16 * 32 + 32) + (1568 * 128 + 128) + (128 * 10 + 10)
    );
    // He initialisation by fan-in: the second convolution's weights have variance 2/400.
    let w = net.layers()[2].weights().unwrap().as_slice();
    let var = w.iter().map(|&v| f64::from(v * v)).sum::<f64>() / w.len() as f64;
    assert!((var / (2.0 / 400.0) - 1.0).abs() < 0.1, "variance {var}");
    let p = net.predict_proba(&Matrix::zeros(2, 784));
    assert_eq!(p.shape(), (2, 10));
}

#[test]
fn stacks_whose_shapes_do_not_fit_are_refused_naming_the_layer_and_both_shapes() {
    let too_big = Network::<f32>::builder_for(Shape::image(6, 6, 1))
        .max_pool(2)
        .layer(LayerSpec::Conv2d {
            channels: 4,
            kernel: 5,
            stride: 1,
            padding: Padding::Valid,
            activation: Activation::Relu,
        })
        .output(3)
        .try_build()
        .unwrap_err();
    assert_eq!(too_big.layer(), 1);
    assert!(too_big.to_string().contains("1×3×3"), "{too_big}");
    assert!(too_big.to_string().contains("5×5"), "{too_big}");

    let even_same = Network::<f32>::builder_for(Shape::image(6, 6, 1))
        .conv2d(4, 4, Activation::Relu)
        .output(3)
        .try_build()
        .unwrap_err();
    assert!(even_same.to_string().contains("odd"), "{even_same}");

    let pool = MaxPool2d::new(Shape::image(8, 8, 3), 2);
    let wrong = conv(Shape::image(8, 8, 3), 2, 3, 1, 1, Activation::Relu, 1);
    let err =
        Network::try_from_layers(vec![Layer::MaxPool2d(pool), Layer::Conv2d(wrong)]).unwrap_err();
    assert_eq!(err.layer(), 1);
    assert!(err.to_string().contains("gives 3×4×4"), "{err}");
    assert!(err.to_string().contains("takes 3×8×8"), "{err}");
}

#[test]
#[should_panic(expected = "takes 1×28×28 = 784")]
fn a_cnn_fed_the_wrong_width_panics_naming_its_input_shape() {
    let net: Network = Network::builder_for(Shape::image(28, 28, 1))
        .conv2d(2, 3, Activation::Relu)
        .output(10)
        .build();
    net.predict(&Matrix::zeros(1, 785));
}

// ---------------------------------------------------------------------------------------
// Gradient checks: backpropagation through convolutions and pooling against the five-point
// central difference in f64 (see tests/gradient_check.rs for why five points and f64).
// ---------------------------------------------------------------------------------------

const H: f64 = 1e-3;
const TOLERANCE: f64 = 1e-6;
const TINY: f64 = 1e-7;

fn relative_error(a: f64, n: f64) -> f64 {
    (a - n).abs() / a.abs().max(n.abs()).max(TINY)
}

/// For every pooling layer, the arg-max of each window in the forward pass of `x`: a nudge
/// that changes one would measure a different function's slope.
fn winners(net: &Network<f64>, x: &Matrix<f64>) -> Vec<Vec<usize>> {
    let outputs = net.forward_all(x);
    let mut all = Vec::new();
    for (l, layer) in net.layers().iter().enumerate() {
        if let Some(p) = layer.as_max_pool2d() {
            let input = if l == 0 { x } else { &outputs[l - 1] };
            let (_, argmax) = pool::reference::forward(p, input);
            all.extend(argmax);
        }
    }
    all
}

/// The smallest gap between the maximum of a pooling window and its runner-up.
fn smallest_pool_gap(net: &Network<f64>, x: &Matrix<f64>) -> f64 {
    let outputs = net.forward_all(x);
    let mut gap = f64::INFINITY;
    for (l, layer) in net.layers().iter().enumerate() {
        let Some(p) = layer.as_max_pool2d() else {
            continue;
        };
        let input = if l == 0 { x } else { &outputs[l - 1] };
        let (shape, k) = (p.input_shape(), p.size());
        let out = p.output_shape();
        for n in 0..input.rows() {
            for oy in 0..out.height {
                for ox in 0..out.width {
                    for c in 0..shape.channels {
                        let mut values: Vec<f64> = (0..k * k)
                            .map(|t| input.row(n)[shape.index(oy * k + t / k, ox * k + t % k, c)])
                            .collect();
                        values.sort_by(|a, b| b.partial_cmp(a).unwrap());
                        gap = gap.min(values[0] - values[1]);
                    }
                }
            }
        }
    }
    gap
}

/// Backprop's gradient of every parameter against the five-point central difference; the
/// worst relative error and where. `tamper` may alter the analytic gradient first.
fn check(
    net: &mut Network<f64>,
    x: &Matrix<f64>,
    labels: &[usize],
    tamper: impl Fn(&mut simplenn::Gradients<f64>),
) -> (f64, String, usize) {
    let (_, mut grads) = net.loss_and_gradients(x, labels);
    tamper(&mut grads);
    let before = winners(net, x);
    let (mut worst, mut at, mut compared) = (0.0f64, String::new(), 0);
    for l in 0..net.layers().len() {
        let Some(weights) = net.layers()[l].weights() else {
            continue;
        };
        let (rows, cols) = weights.shape();
        let params = (0..rows * cols)
            .map(|k| (true, k))
            .chain((0..cols).map(|j| (false, j)));
        for (is_weight, k) in params {
            let mut loss_at = |d: f64| {
                let layer = &mut net.layers_mut()[l];
                if is_weight {
                    layer.weights_mut().unwrap().as_mut_slice()[k] += d;
                } else {
                    layer.bias_mut().unwrap()[k] += d;
                }
                assert_eq!(
                    winners(net, x),
                    before,
                    "a nudge of layer {l} moved a pooling arg-max"
                );
                let loss = net.loss(x, labels);
                let layer = &mut net.layers_mut()[l];
                if is_weight {
                    layer.weights_mut().unwrap().as_mut_slice()[k] -= d;
                } else {
                    layer.bias_mut().unwrap()[k] -= d;
                }
                loss
            };
            let numeric = (8.0 * (loss_at(H) - loss_at(-H))
                - (loss_at(2.0 * H) - loss_at(-2.0 * H)))
                / (12.0 * H);
            let analytic = if is_weight {
                grads.layers[l].weights.as_slice()[k]
            } else {
                grads.layers[l].bias[k]
            };
            compared += 1;
            let err = relative_error(analytic, numeric);
            if err > worst || err.is_nan() {
                worst = err;
                let what = if is_weight { "weight" } else { "bias" };
                at = format!("layer {l} {what} {k} (backprop {analytic:e}, numeric {numeric:e})");
            }
        }
    }
    (worst, at, compared)
}

/// A network from `specs` on `input`, and a batch of `batch` samples whose pooling windows
/// all have a clear maximum (a gap of at least 0.01, a few times what a nudge of 2h moves a
/// value by; `check` also verifies that no nudge moves one): the first seed from 0 that gives
/// one.
fn setup(
    input: Shape,
    specs: &[LayerSpec],
    classes: usize,
    batch: usize,
) -> (Network<f64>, Matrix<f64>, Vec<usize>) {
    for seed in 0..200 {
        let mut builder = Network::builder_for(input).output(classes).seed(seed);
        for &spec in specs {
            builder = builder.layer(spec);
        }
        let mut net = builder.build();
        let mut rng = Rng::new(seed + 1000);
        for layer in net.layers_mut() {
            if let Some(b) = layer.bias_mut() {
                for b in b {
                    *b = rng.uniform(-0.3, 0.3);
                }
            }
        }
        let x = Matrix::random_normal(batch, input.volume(), 0.0, 1.0, &mut rng);
        let labels: Vec<usize> = (0..batch)
            .map(|i| (i * 7 + seed as usize) % classes)
            .collect();
        if smallest_pool_gap(&net, &x) > 0.01 {
            return (net, x, labels);
        }
    }
    panic!("no seed below 200 gives pooling windows with clear maxima");
}

fn conv_spec(
    channels: usize,
    kernel: usize,
    stride: usize,
    padding: Padding,
    activation: Activation,
) -> LayerSpec {
    LayerSpec::Conv2d {
        channels,
        kernel,
        stride,
        padding,
        activation,
    }
}

#[test]
fn gradient_check_a_convolution_alone() {
    // The convolution is the whole network: its outputs are the logits.
    let cases = [
        (
            Shape::image(5, 5, 1),
            conv_spec(2, 3, 1, Padding::Same, Activation::Identity),
            1,
        ),
        (
            Shape::image(6, 7, 2),
            conv_spec(3, 3, 2, Padding::Pixels(1), Activation::Identity),
            3,
        ),
        (
            Shape::image(4, 4, 3),
            conv_spec(2, 1, 1, Padding::Valid, Activation::Identity),
            2,
        ),
        (
            Shape::image(5, 4, 1),
            conv_spec(2, 3, 1, Padding::Pixels(2), Activation::Identity),
            4,
        ),
    ];
    for (input, spec, batch) in cases {
        // No hidden layers: the convolution is the only layer. (With one output channel its
        // bias would shift every logit alike, and softmax ignores that: a gradient of 0.)
        let LayerSpec::Conv2d {
            channels,
            kernel,
            stride,
            padding,
            ..
        } = spec
        else {
            unreachable!()
        };
        let layer = conv(
            input,
            channels,
            kernel,
            stride,
            padding.pixels(kernel).unwrap(),
            Activation::Identity,
            batch as u64,
        );
        let classes = layer.output_shape().volume();
        let mut net = Network::from_layers(vec![layer]);
        let x = Matrix::random_normal(batch, input.volume(), 0.0, 1.0, &mut Rng::new(5));
        let labels: Vec<usize> = (0..batch).map(|i| (3 * i + 1) % classes).collect();
        let (worst, at, compared) = check(&mut net, &x, &labels, |_| {});
        assert!(
            worst <= TOLERANCE,
            "{net:?}: worst relative error {worst:e} at {at}"
        );
        assert!(compared > 0);
        eprintln!("{net}: {compared} parameters, worst relative error {worst:.2e}");
    }
}

#[test]
fn gradient_check_stacked_convolutions_send_the_right_error_back() {
    // The first convolution's gradient depends on the second's error sent back (col2im).
    let specs = [
        conv_spec(3, 3, 1, Padding::Same, Activation::Tanh),
        conv_spec(2, 3, 2, Padding::Pixels(1), Activation::Sigmoid),
    ];
    for batch in [1, 3] {
        let (mut net, x, labels) = setup(Shape::image(6, 5, 2), &specs, 4, batch);
        let (worst, at, compared) = check(&mut net, &x, &labels, |_| {});
        assert!(
            worst <= TOLERANCE,
            "{net}: worst relative error {worst:e} at {at}"
        );
        eprintln!("{net} (batch {batch}): {compared} parameters, worst {worst:.2e}");
    }
}

#[test]
fn gradient_check_a_whole_cnn_with_pooling() {
    // conv → pool → conv (stride 2, padding) → pool-free dense head: every backward path.
    let specs = [
        conv_spec(3, 3, 1, Padding::Same, Activation::Tanh),
        LayerSpec::MaxPool2d { size: 2 },
        conv_spec(4, 3, 1, Padding::Same, Activation::Sigmoid),
        LayerSpec::MaxPool2d { size: 2 },
        LayerSpec::Dense {
            units: 5,
            activation: Activation::Tanh,
        },
    ];
    let (mut net, x, labels) = setup(Shape::image(6, 6, 1), &specs, 3, 2);
    let (worst, at, compared) = check(&mut net, &x, &labels, |_| {});
    assert!(
        worst <= TOLERANCE,
        "{net}: worst relative error {worst:e} at {at}"
    );
    eprintln!("{net}: {compared} parameters, worst relative error {worst:.2e}");
}

#[test]
fn the_gradient_check_catches_a_wrong_convolution_gradient() {
    let specs = [
        conv_spec(2, 3, 1, Padding::Same, Activation::Tanh),
        LayerSpec::MaxPool2d { size: 2 },
        LayerSpec::Dense {
            units: 4,
            activation: Activation::Tanh,
        },
    ];
    let (mut net, x, labels) = setup(Shape::image(6, 6, 1), &specs, 3, 2);
    // Two kernel taps swapped, as a transposed kernel or a wrong (ky, kx) order would do.
    let (worst, _, _) = check(&mut net, &x, &labels, |g| {
        g.layers[0].weights.as_mut_slice().swap(0, 2);
    });
    assert!(
        worst > 1e-3,
        "a swapped kernel gradient went unnoticed (worst {worst:e})"
    );
    // One bias gradient off by 1%.
    let (worst, _, _) = check(&mut net, &x, &labels, |g| g.layers[0].bias[1] *= 1.01);
    assert!(
        worst > 1e-3,
        "a 1% bias error went unnoticed (worst {worst:e})"
    );
}
