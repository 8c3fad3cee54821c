//! Sparse products ([`simplenn::matmul::sparse`]) against plain loops in `f64`, for any
//! thread count, and full-batch training that reads its inputs' nonzeros against the same
//! training reading them dense.

use simplenn::LayerKind;
use simplenn::matmul::sparse::SparseRows;
use simplenn::samples::MatrixSamples;
use simplenn::{Activation, Batch, Matrix, Network, Optimiser, Rng, TrainConfig, matmul};
use std::sync::Mutex;

/// `set_threads` is process-wide: the tests that compare thread counts take turns.
static THREADS: Mutex<()> = Mutex::new(());

/// A `rows × cols` matrix with about `density` of its elements nonzero (a few whole rows
/// and columns left empty, the cases a kernel could mishandle).
fn mostly_zeros(rows: usize, cols: usize, density: f64, rng: &mut Rng) -> Matrix<f32> {
    let mut x = Matrix::zeros(rows, cols);
    for r in 0..rows {
        for c in 0..cols {
            if r % 7 != 3 && c % 5 != 2 && rng.next_f64() < density {
                x[(r, c)] = rng.next_f64() as f32 * 2.0 - 1.0;
            }
        }
    }
    x
}

fn close(got: &Matrix<f32>, want: &[f64], what: &str) {
    assert_eq!(got.as_slice().len(), want.len(), "{what}: sizes differ");
    for (i, (&g, &w)) in got.as_slice().iter().zip(want).enumerate() {
        assert!(
            (g as f64 - w).abs() <= 1e-5 * (1.0 + w.abs()),
            "{what}: element {i} is {g}, the plain loop gives {w}"
        );
    }
}

#[test]
fn fill_keeps_every_nonzero_by_row_and_by_column() {
    let mut rng = Rng::new(1);
    for (rows, cols) in [(0, 0), (1, 1), (3, 17), (40, 33), (5, 100)] {
        let x = mostly_zeros(rows, cols, 0.3, &mut rng);
        for (view, want) in [(x.view(), x.clone()), (x.t(), x.transpose())] {
            let s = SparseRows::from_view(view);
            assert_eq!(s.to_matrix(), want, "{rows}×{cols}");
            let nonzeros = want.as_slice().iter().filter(|&&v| v != 0.0).count();
            assert_eq!(s.nonzeros(), nonzeros);
            for c in 0..s.cols() {
                let (rows_of_c, values) = s.col(c);
                assert!(rows_of_c.windows(2).all(|w| w[0] < w[1]), "rows increase");
                for (&r, &v) in rows_of_c.iter().zip(values) {
                    assert_eq!(want[(r as usize, c)], v);
                }
            }
        }
    }
    // Refilling a used one with something smaller leaves nothing of the old.
    let mut s = SparseRows::from_view(mostly_zeros(50, 50, 0.5, &mut rng).view());
    let small = mostly_zeros(3, 4, 0.5, &mut rng);
    s.fill(small.view());
    assert_eq!(s.to_matrix(), small);
}

#[test]
fn products_agree_with_plain_loops_for_any_thread_count() {
    let _turn = THREADS.lock().unwrap_or_else(|e| e.into_inner());
    let mut rng = Rng::new(2);
    // Widths around the kernel's 16-lane blocks and 64-column passes; sizes big enough
    // for the work to be split between threads, and small ones that are not.
    for (m, k, n, density) in [
        (1, 1, 1, 1.0),
        (9, 20, 10, 0.3),
        (64, 784, 128, 0.19),
        (300, 200, 17, 0.5),
        (2000, 784, 10, 0.19),
        (130, 70, 65, 0.05),
    ] {
        let x = mostly_zeros(m, k, density, &mut rng);
        let w = Matrix::<f32>::random_uniform(k, n, -1.0, 1.0, &mut rng);
        let d = Matrix::<f32>::random_uniform(m, n, -1.0, 1.0, &mut rng);
        let plain =
            |a: &dyn Fn(usize, usize) -> f64, b: &dyn Fn(usize, usize) -> f64, rows, inner| {
                let mut out = vec![0.0f64; rows * n];
                for i in 0..rows {
                    for j in 0..n {
                        out[i * n + j] = (0..inner).map(|p| a(i, p) * b(p, j)).sum();
                    }
                }
                out
            };
        let xw = plain(&|i, p| x[(i, p)] as f64, &|p, j| w[(p, j)] as f64, m, k);
        let xtd = plain(&|i, p| x[(p, i)] as f64, &|p, j| d[(p, j)] as f64, k, m);
        let s = SparseRows::from_view(x.view());
        let mut runs = Vec::new();
        for threads in [1, 2, 3] {
            matmul::set_threads(threads);
            let (mut a, mut b) = (Matrix::zeros(0, 0), Matrix::zeros(0, 0));
            s.matmul_into(w.view(), &mut a);
            // A transposed operand is read where it lies, as well as a row-major one.
            let wt = w.transpose();
            let mut a2 = Matrix::zeros(0, 0);
            s.matmul_into(wt.t(), &mut a2);
            s.t_matmul_into(d.view(), &mut b);
            close(&a, &xw, &format!("{m}×{k}·{k}×{n}, {threads} threads"));
            assert_eq!(a, a2, "the same product from a transposed view");
            close(&b, &xtd, &format!("({m}×{k})ᵀ·{m}×{n}, {threads} threads"));
            runs.push((a, b));
        }
        matmul::set_threads(0);
        for (t, run) in runs.iter().enumerate().skip(1) {
            assert!(
                run.0
                    .as_slice()
                    .iter()
                    .zip(runs[0].0.as_slice())
                    .all(|(p, q)| p.to_bits() == q.to_bits())
                    && run
                        .1
                        .as_slice()
                        .iter()
                        .zip(runs[0].1.as_slice())
                        .all(|(p, q)| p.to_bits() == q.to_bits()),
                "{m}×{k}×{n}: {} threads changed a bit of the result",
                t + 1
            );
        }
    }
}

#[test]
#[should_panic(expected = "cannot multiply a sparse 3×4 matrix by a 5×2 one")]
fn a_product_of_the_wrong_shapes_panics_naming_both() {
    let s = SparseRows::from_view(Matrix::<f32>::zeros(3, 4).view());
    s.matmul_into(Matrix::zeros(5, 2).view(), &mut Matrix::zeros(0, 0));
}

#[test]
#[should_panic(expected = "transpose of a sparse 3×4 matrix by a 4×2 one")]
fn a_transposed_product_of_the_wrong_shapes_panics_naming_both() {
    let s = SparseRows::from_view(Matrix::<f32>::zeros(3, 4).view());
    s.t_matmul_into(Matrix::zeros(4, 2).view(), &mut Matrix::zeros(0, 0));
}

/// Samples like MNIST's: most features exactly zero.
fn digits_like(n: usize, rng: &mut Rng) -> (Matrix<f32>, Vec<usize>) {
    let x = mostly_zeros(n, 64, 0.2, rng);
    let labels = (0..n)
        .map(|r| {
            let row = x.row(r);
            (0..4)
                .max_by(|&a, &b| {
                    row[a * 16..(a + 1) * 16]
                        .iter()
                        .sum::<f32>()
                        .total_cmp(&row[b * 16..(b + 1) * 16].iter().sum())
                })
                .unwrap()
        })
        .collect();
    (x, labels)
}

#[test]
fn full_batch_training_on_mostly_zero_inputs_steps_along_the_dense_gradient() {
    let _turn = THREADS.lock().unwrap_or_else(|e| e.into_inner());
    let mut rng = Rng::new(3);
    let (x, labels) = digits_like(500, &mut rng);
    let net: Network = Network::builder(64)
        .hidden(24, Activation::Relu)
        .output(4)
        .seed(9)
        .build();
    // One plain gradient step: W' = W − η·∂L/∂W, with the gradient computed densely.
    let config = TrainConfig {
        epochs: 1,
        batch: Batch::Full,
        learning_rate: 0.5,
        optimiser: Optimiser::sgd(0.0),
        weight_decay: 0.0,
        label_smoothing: 0.0,
        shift: 0,
        ..TrainConfig::default()
    };
    let (_, grads) = net.loss_and_gradients(&x, &labels);
    let mut trained = net.clone();
    trained.fit(&x, &labels, &config).unwrap();
    for (l, (before, after)) in net.layers().iter().zip(trained.layers()).enumerate() {
        let (w0, w1) = (before.weights().unwrap(), after.weights().unwrap());
        for (i, ((&a, &b), &g)) in w0
            .as_slice()
            .iter()
            .zip(w1.as_slice())
            .zip(grads.layers[l].weights.as_slice())
            .enumerate()
        {
            let want = a - 0.5 * g;
            assert!(
                (b - want).abs() <= 1e-6 * (1.0 + want.abs()),
                "layer {l} weight {i}: {b} after the step, {want} by the dense gradient"
            );
        }
    }
}

#[test]
fn full_batch_training_on_mostly_zero_inputs_is_the_same_for_any_thread_count() {
    let _turn = THREADS.lock().unwrap_or_else(|e| e.into_inner());
    let mut rng = Rng::new(4);
    let (x, labels) = digits_like(3000, &mut rng);
    let config = TrainConfig {
        epochs: 5,
        batch: Batch::Full,
        learning_rate: 0.3,
        ..TrainConfig::default()
    };
    let train = |threads| {
        matmul::set_threads(threads);
        let mut net: Network = Network::builder(64)
            .hidden(32, Activation::Relu)
            .output(4)
            .seed(2)
            .build();
        net.fit_with(&MatrixSamples::new(&x, &labels), None, &config, |_| {})
            .unwrap();
        net
    };
    let one = train(1);
    for threads in [2, 3] {
        assert!(
            train(threads) == one,
            "{threads} threads trained a different network"
        );
    }
    matmul::set_threads(0);
}

/// A dense layer reads a batch as its nonzeros or as a matrix and gives the same output and
/// gradients either way, the gradient for a layer below included (which training never
/// asks of the first layer, but the layer owes it): each against a plain loop in `f64`.
#[test]
fn a_dense_layer_passes_a_sparse_batch_as_it_passes_a_dense_one() {
    use simplenn::Dense;
    use simplenn::layer::{Input, LayerGradients, Mode, Scratch};
    let mut rng = Rng::new(5);
    let x = mostly_zeros(9, 13, 0.2, &mut rng);
    let w = Matrix::<f32>::random_normal(13, 4, 0.0, 1.0, &mut rng);
    let bias: Vec<f32> = (0..4).map(|j| j as f32 * 0.1 - 0.2).collect();
    let layer = Dense::new(w.clone(), bias.clone(), Activation::Tanh);
    let g_out = Matrix::<f32>::random_normal(9, 4, 0.0, 1.0, &mut rng);
    // The definition: a = tanh(x·W + b), δ = g ⊙ (1 − a²), ∂W = xᵀδ, ∂b = Σδ, ∂x = δ·Wᵀ.
    let (mut a, mut delta) = (vec![0.0f64; 9 * 4], vec![0.0f64; 9 * 4]);
    for i in 0..9 {
        for j in 0..4 {
            let z: f64 = (0..13)
                .map(|k| x[(i, k)] as f64 * w[(k, j)] as f64)
                .sum::<f64>();
            a[i * 4 + j] = (z + bias[j] as f64).tanh();
            delta[i * 4 + j] = g_out[(i, j)] as f64 * (1.0 - a[i * 4 + j] * a[i * 4 + j]);
        }
    }
    let dw: Vec<f64> = (0..13 * 4)
        .map(|kj| {
            (0..9)
                .map(|i| x[(i, kj / 4)] as f64 * delta[i * 4 + kj % 4])
                .sum()
        })
        .collect();
    let db: Vec<f64> = (0..4)
        .map(|j| (0..9).map(|i| delta[i * 4 + j]).sum())
        .collect();
    let dx: Vec<f64> = (0..9 * 13)
        .map(|ik| {
            let (i, k) = (ik / 13, ik % 13);
            (0..4).map(|j| delta[i * 4 + j] * w[(k, j)] as f64).sum()
        })
        .collect();
    let sparse = SparseRows::from_view(x.view());
    for (what, input) in [
        ("dense", Input::Dense(x.view())),
        ("sparse", Input::Sparse(&sparse)),
    ] {
        let (mut output, mut scratch) = (Matrix::zeros(0, 0), Scratch::new());
        layer.forward_into(input, &mut output, &mut scratch, Mode::Train);
        close(&output, &a, &format!("{what} forward"));
        let mut grads = LayerGradients::zeros_like(&layer);
        let mut grad = g_out.clone();
        layer.backward_into(
            input,
            &mut output,
            &mut grad,
            &mut scratch,
            &mut grads,
            true,
        );
        close(&grads.weights, &dw, &format!("{what} ∂W"));
        close(
            &Matrix::from_vec(1, 4, grads.bias.clone()),
            &db,
            &format!("{what} ∂b"),
        );
        close(&grad, &dx, &format!("{what} ∂x"));
    }
}

#[test]
#[should_panic(expected = "was given a sparse batch: it reads dense ones")]
fn a_convolution_refuses_a_sparse_batch() {
    use simplenn::layer::{Input, Mode, Scratch};
    use simplenn::{Conv2d, Shape};
    let conv = Conv2d::new(
        Shape::image(2, 2, 1),
        Matrix::<f32>::zeros(1, 1),
        vec![0.0],
        1,
        0,
        Activation::Relu,
    );
    let x = Matrix::<f32>::zeros(1, 4);
    let sparse = SparseRows::from_view(x.view());
    conv.forward_into(
        Input::Sparse(&sparse),
        &mut Matrix::zeros(0, 0),
        &mut Scratch::new(),
        Mode::Train,
    );
}
