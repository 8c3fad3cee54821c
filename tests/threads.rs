//! Threads change speed, never results: products and whole training runs are bit-identical
//! for any thread count, because threads split the output, never a sum.
//!
//! `set_threads` is process-wide and the harness runs tests concurrently; that is fine here,
//! since the point is that the count cannot change an answer.

use simplenn::samples::MatrixSamples;
use simplenn::{Activation, Batch, Matrix, Network, Rng, Schedule, TrainConfig, matmul};

#[test]
fn products_are_bit_identical_for_any_thread_count() {
    let mut rng = Rng::new(12);
    // Big enough that the driver really splits them (it wants 2²⁴ floating-point operations
    // per thread): bands of rows when m ≥ n, of columns when n > m; odd sizes so bands are
    // uneven.
    for (m, k, n) in [
        (301, 257, 257),
        (3500, 784, 10),
        (64, 784, 600),
        (70, 999, 333),
        (784, 4000, 10),
    ] {
        let a = Matrix::<f32>::random_uniform(m, k, -1.0, 1.0, &mut rng);
        let b = Matrix::<f32>::random_uniform(k, n, -1.0, 1.0, &mut rng);
        let at = a.transpose();
        let bt = b.transpose();
        let run = |threads| {
            matmul::set_threads(threads);
            let mut outs = Vec::new();
            for (x, y) in [(a.view(), b.view()), (at.t(), b.view()), (a.view(), bt.t())] {
                let mut c = Matrix::zeros(0, 0);
                matmul::gemm(x, y, &mut c);
                outs.push(c);
            }
            outs
        };
        let one = run(1);
        for threads in [2, 3, 4, 7] {
            assert!(
                run(threads) == one,
                "{m}×{k}×{n} differs with {threads} threads"
            );
        }
        // And the threaded result is the single-threaded packed one, which (unless the
        // kernel fuses multiply-adds) is the blocked one.
        let mut c = Matrix::zeros(0, 0);
        matmul::packed::gemm(a.view(), b.view(), &mut c);
        assert!(c == one[0]);
        if !matmul::kernel().fuses_multiply_add() {
            matmul::blocked::gemm(a.view(), b.view(), &mut c);
            assert!(c == one[0]);
        }
    }
    matmul::set_threads(0);
}

#[test]
fn training_is_bit_identical_for_any_thread_count() {
    let mut rng = Rng::new(5);
    // Wide enough that the batch's products are split between threads (128×300·300×512 is
    // 39 million operations).
    let x = Matrix::<f32>::random_uniform(600, 300, 0.0, 1.0, &mut rng);
    let y: Vec<usize> = (0..600).map(|i| i % 10).collect();
    let train = |threads| {
        matmul::set_threads(threads);
        let mut net = Network::builder(300)
            .hidden(512, Activation::Relu)
            .output(10)
            .seed(3)
            .build();
        let config = TrainConfig {
            epochs: 2,
            batch: Batch::Size(128),
            ..TrainConfig::default()
        };
        let losses: Vec<f64> = net
            .fit(&x, &y, &config)
            .unwrap()
            .epochs
            .iter()
            .map(|e| e.loss)
            .collect();
        (net, losses)
    };
    let (net1, losses1) = train(1);
    let (net2, losses2) = train(2);
    let (net3, losses3) = train(3);
    assert!(net1 == net2 && net1 == net3);
    assert_eq!(losses1, losses2);
    assert_eq!(losses1, losses3);
    matmul::set_threads(0);
}

#[test]
fn training_with_every_option_is_bit_identical_for_any_thread_count() {
    // Schedule, warm-up, weight decay, label smoothing, dropout, random shifts, early
    // stopping and keeping the best epoch: none of them may depend on the thread count.
    let mut rng = Rng::new(6);
    let x = Matrix::<f32>::random_uniform(500, 100, 0.0, 1.0, &mut rng);
    let y: Vec<usize> = (0..500).map(|i| i % 10).collect();
    let train_x = x.select_rows(&(0..400).collect::<Vec<_>>());
    let val_x = x.select_rows(&(400..500).collect::<Vec<_>>());
    let train = |threads| {
        matmul::set_threads(threads);
        let mut net = Network::builder(100)
            .hidden(256, Activation::Relu)
            .hidden(32, Activation::Relu)
            .output(10)
            .seed(3)
            .build();
        // Batches of 200 make the first layer's products 10 Mflop: big enough to be split.
        let config = TrainConfig {
            epochs: 4,
            batch: Batch::Size(200),
            schedule: Schedule::Cosine { min_fraction: 0.1 },
            warmup_epochs: 1,
            weight_decay: 1e-4,
            label_smoothing: 0.1,
            dropout: 0.2,
            shift: 2,
            keep_best: true,
            patience: Some(2),
            ..TrainConfig::default()
        };
        let samples = MatrixSamples::new(&train_x, &y[..400]).with_image_shape(10, 10);
        let validation = MatrixSamples::new(&val_x, &y[400..]);
        let history = net
            .fit_with(&samples, Some(&validation), &config, |_| {})
            .unwrap();
        let losses: Vec<f64> = history.epochs.iter().map(|e| e.loss).collect();
        (net, losses, history.best_epoch)
    };
    let one = train(1);
    assert!(train(2) == one);
    assert!(train(3) == one);
    matmul::set_threads(0);
}

#[test]
fn a_cnn_trains_bit_identically_for_any_thread_count() {
    // Convolutions and pooling split their work between the products too (im2col,
    // col2im, pooling, biases and activations, by whole samples): big enough batches of
    // 28×28 images that every one of those is split, and padding, two channel counts and
    // rotations so that each path runs.
    let mut rng = Rng::new(7);
    let x = Matrix::<f32>::random_uniform(256, 784, 0.0, 1.0, &mut rng);
    let y: Vec<usize> = (0..256).map(|i| i % 10).collect();
    let train = |threads| {
        matmul::set_threads(threads);
        let mut net = Network::builder_for(simplenn::Shape::image(28, 28, 1))
            .conv2d(8, 5, Activation::Relu)
            .max_pool(2)
            .conv2d(20, 3, Activation::Relu)
            .max_pool(2)
            .hidden(32, Activation::Relu)
            .output(10)
            .seed(4)
            .build();
        let config = TrainConfig {
            epochs: 2,
            batch: Batch::Size(128),
            shift: 1,
            rotation: 10.0,
            ..TrainConfig::default()
        };
        let samples = MatrixSamples::new(&x, &y).with_image_shape(28, 28);
        let history = net.fit_with(&samples, None, &config, |_| {}).unwrap();
        let losses: Vec<f64> = history.epochs.iter().map(|e| e.loss).collect();
        (net, losses)
    };
    let one = train(1);
    assert!(train(2) == one, "2 threads trained a different CNN");
    assert!(train(3) == one, "3 threads trained a different CNN");
    matmul::set_threads(0);
}

#[test]
fn batch_normalisation_trains_bit_identically_for_any_thread_count() {
    // Its statistics are summed row by row on one thread, its element-wise passes split by
    // whole rows: a batch big enough to be split, after a convolution and a dense layer.
    let mut rng = Rng::new(9);
    let x = Matrix::<f32>::random_uniform(128, 784, 0.0, 1.0, &mut rng);
    let y: Vec<usize> = (0..128).map(|i| i % 10).collect();
    let train = |threads| {
        matmul::set_threads(threads);
        let mut net = Network::builder_for(simplenn::Shape::image(28, 28, 1))
            .conv2d(8, 3, Activation::Identity)
            .batch_norm(Activation::Relu)
            .max_pool(2)
            .hidden(64, Activation::Relu)
            .batch_norm(Activation::Identity)
            .output(10)
            .seed(5)
            .build();
        let config = TrainConfig {
            epochs: 2,
            batch: Batch::Size(64),
            ..TrainConfig::default()
        };
        let history = net.fit(&x, &y, &config).unwrap();
        let losses: Vec<f64> = history.epochs.iter().map(|e| e.loss).collect();
        (net, losses)
    };
    let one = train(1);
    assert!(train(2) == one, "2 threads trained a different network");
    assert!(train(3) == one, "3 threads trained a different network");
    matmul::set_threads(0);
}

#[test]
fn elastic_distortion_is_bit_identical_for_any_thread_count() {
    // The fields' noise is drawn on one thread, row by row; the smoothing and resampling run
    // in bands of rows, which a batch of 256 digits is large enough to be split into.
    let mut rng = Rng::new(10);
    let x = Matrix::<f32>::random_uniform(512, 784, 0.0, 1.0, &mut rng);
    let y: Vec<usize> = (0..512).map(|i| i % 10).collect();
    let train = |threads| {
        matmul::set_threads(threads);
        let mut net = Network::builder(784)
            .hidden(32, Activation::Relu)
            .output(10)
            .seed(6)
            .build();
        let config = TrainConfig {
            epochs: 2,
            batch: Batch::Size(256),
            rotation: 10.0,
            elastic: Some(simplenn::train::Elastic {
                alpha: 34.0,
                sigma: 4.0,
            }),
            ..TrainConfig::default()
        };
        let samples = MatrixSamples::new(&x, &y).with_image_shape(28, 28);
        let history = net.fit_with(&samples, None, &config, |_| {}).unwrap();
        let losses: Vec<f64> = history.epochs.iter().map(|e| e.loss).collect();
        (net, losses)
    };
    let one = train(1);
    assert!(train(2) == one, "2 threads trained a different network");
    assert!(train(3) == one, "3 threads trained a different network");
    matmul::set_threads(0);
}

#[test]
fn thread_count_defaults_to_something_sane() {
    assert!(matmul::threads() >= 1);
}

#[test]
fn a_pair_of_products_is_each_product_as_gemm_computes_it() {
    // Backprop's pair at a hidden layer of a mini-batch: aᵀ·δ and δ·Wᵀ, each above the
    // size at which the pair runs side by side on two threads.
    let mut rng = Rng::new(21);
    let a = Matrix::<f32>::random_uniform(64, 512, -1.0, 1.0, &mut rng);
    let delta = Matrix::<f32>::random_uniform(64, 256, -1.0, 1.0, &mut rng);
    let w = Matrix::<f32>::random_uniform(512, 256, -1.0, 1.0, &mut rng);
    let (mut want_dw, mut want_back) = (Matrix::zeros(0, 0), Matrix::zeros(0, 0));
    matmul::set_threads(1);
    matmul::gemm(a.t(), delta.view(), &mut want_dw);
    matmul::gemm(delta.view(), w.t(), &mut want_back);
    for threads in [1, 2, 3] {
        matmul::set_threads(threads);
        // Stale contents and wrong shapes must not survive.
        let mut dw = Matrix::filled(3, 3, f32::NAN);
        let mut back = Matrix::filled(1, 7, f32::NAN);
        matmul::gemm_pair(
            (a.t(), delta.view(), &mut dw),
            (delta.view(), w.t(), &mut back),
        );
        assert!(dw == want_dw, "aᵀ·δ differs with {threads} threads");
        assert!(back == want_back, "δ·Wᵀ differs with {threads} threads");
    }
    matmul::set_threads(0);
}
