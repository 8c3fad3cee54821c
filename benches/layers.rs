//! The pieces the CNN and the full-batch recipe are made of, each on its own:
//!
//! - `conv/…`: the preset CNN's two convolutions (5×5, 1→16 channels on 28×28 and 16→32 on
//!   14×14), for a batch of 64: `forward`, and `backward` as `Conv2d::gradients` computes it
//!   from nothing (its buffers allocated afresh, the patches built again, and the error
//!   sent back to the input, which training skips for the first layer: a training step,
//!   which reuses its buffers, spends less than this; `cnn/…` times that);
//! - `cnn/epoch …`: one epoch of the preset CNN, no augmentation, over 10,000 synthetic
//!   28×28 images, on 1 and 2 threads;
//! - `pool/…`: what handing work to the thread pool costs: a scope with one empty task;
//! - `sparse/…`: the sparse products of the full-batch recipe's first layer (10,000 rows of
//!   784 at MNIST's 19% nonzeros, and at 50%) against the dense ones.
//!
//! Run with `cargo bench --bench layers` (about three minutes), or one group, for example
//! `cargo bench --bench layers -- sparse`.

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use simplenn::LayerKind;
use simplenn::dataset::{Dataset, Images};
use simplenn::matmul::sparse::SparseRows;
use simplenn::{Matrix, Rng, Shape, TrainConfig, matmul, preset};
use std::hint::black_box;
use std::time::Duration;

/// `n` images of random strokes: about a fifth of the pixels lit, as in MNIST, with labels
/// that depend on them (which of ten bands of rows is brightest).
fn synthetic(n: usize) -> Dataset {
    let mut rng = Rng::new(7);
    let pixels: Vec<u8> = (0..n * 784)
        .map(|_| {
            if rng.next_f64() < 0.2 {
                1 + rng.below(255) as u8
            } else {
                0
            }
        })
        .collect();
    let labels: Vec<u8> = pixels
        .chunks_exact(784)
        .map(|img| {
            let band = |b: usize| {
                img[b * 78..(b + 1) * 78]
                    .iter()
                    .map(|&p| p as u32)
                    .sum::<u32>()
            };
            (0..10).max_by_key(|&b| band(b)).unwrap() as u8
        })
        .collect();
    Dataset::new(Images::new(pixels, 28, 28).unwrap(), labels, 10).unwrap()
}

/// A matrix whose elements are nonzero with probability `density`.
fn sparse_matrix(rows: usize, cols: usize, density: f64, rng: &mut Rng) -> Matrix<f32> {
    let values = (0..rows * cols)
        .map(|_| {
            if rng.next_f64() < density {
                rng.next_f64() as f32
            } else {
                0.0
            }
        })
        .collect();
    Matrix::from_vec(rows, cols, values)
}

fn conv(c: &mut Criterion) {
    let (net, _) = preset::cnn::<f32>(Shape::image(28, 28, 1), 10, 1);
    let mut rng = Rng::new(3);
    let mut group = c.benchmark_group("conv");
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(3));
    // The two convolutions of the preset, and their inputs for a batch of 64.
    for (name, l) in [("conv1 28x28x1 to 16", 0), ("conv2 14x14x16 to 32", 2)] {
        let layer = net.layers()[l].as_conv2d().expect("a convolution");
        let inputs = layer.input_shape().volume();
        let x = Matrix::<f32>::random_uniform(64, inputs, 0.0, 1.0, &mut rng);
        let outputs = layer.output_shape().volume();
        let delta = Matrix::<f32>::random_uniform(64, outputs, -1.0, 1.0, &mut rng);
        group.bench_function(BenchmarkId::new("forward", name), |b| {
            b.iter(|| black_box(layer.forward(&x)))
        });
        group.bench_function(BenchmarkId::new("backward", name), |b| {
            b.iter(|| black_box(layer.backward(&x, &delta)))
        });
    }
    group.finish();
}

fn cnn_epoch(c: &mut Criterion) {
    let data = synthetic(10_000);
    let (_, recipe) = preset::cnn::<f32>(Shape::image(28, 28, 1), 10, 1);
    // One epoch of the recipe's optimiser, without the augmentation (which is not the
    // network's work) and with a constant learning rate.
    let config = TrainConfig {
        epochs: 1,
        shift: 0,
        rotation: 0.0,
        scale: 0.0,
        ..recipe
    };
    let mut group = c.benchmark_group("cnn/epoch 10k images batch 64");
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(15));
    for threads in [1, 2] {
        matmul::set_threads(threads);
        group.bench_function(BenchmarkId::new("threads", threads), |bench| {
            bench.iter_batched(
                || preset::cnn::<f32>(Shape::image(28, 28, 1), 10, 1).0,
                |mut net| net.fit_with(&data, None, &config, |_| {}).unwrap(),
                criterion::BatchSize::LargeInput,
            )
        });
    }
    matmul::set_threads(0);
    group.finish();
}

fn pool(c: &mut Criterion) {
    let mut group = c.benchmark_group("pool");
    group.bench_function("scope with one empty task", |b| {
        b.iter(|| matmul::pool::scope(1, |s| s.spawn(|| black_box(()))))
    });
    group.finish();
}

fn sparse(c: &mut Criterion) {
    let mut rng = Rng::new(5);
    let mut group = c.benchmark_group("sparse");
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(3));
    matmul::set_threads(1);
    let w = Matrix::<f32>::random_uniform(784, 10, -0.5, 0.5, &mut rng);
    let delta = Matrix::<f32>::random_uniform(10_000, 10, -0.1, 0.1, &mut rng);
    for density in [0.19, 0.5] {
        let x = sparse_matrix(10_000, 784, density, &mut rng);
        let s = SparseRows::from_view(x.view());
        let mut out = Matrix::zeros(0, 0);
        let id = |what| BenchmarkId::new(what, format!("10000x784 {}% nonzero", density * 100.0));
        group.bench_function(id("forward X.W dense"), |b| {
            b.iter(|| matmul::gemm(x.view(), w.view(), &mut out))
        });
        group.bench_function(id("forward X.W sparse"), |b| {
            b.iter(|| s.matmul_into(w.view(), &mut out))
        });
        group.bench_function(id("gradient Xt.delta dense"), |b| {
            b.iter(|| matmul::gemm(x.t(), delta.view(), &mut out))
        });
        group.bench_function(id("gradient Xt.delta sparse"), |b| {
            b.iter(|| s.t_matmul_into(delta.view(), &mut out))
        });
    }
    matmul::set_threads(0);
    group.finish();
}

criterion_group!(benches, conv, cnn_epoch, pool, sparse);
criterion_main!(benches);
