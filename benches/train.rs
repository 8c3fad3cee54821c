//! One training epoch of a small MLP, 784-128-10, ReLU, He initialisation, softmax
//! cross-entropy, SGD with mini-batches of 64, learning rate 0.1, no momentum, on 10,000
//! synthetic 28×28 `u8` images held as a `Dataset` (each batch converted to `f32` as it is
//! drawn), on 1 and 2 threads. Multiply by 6 for a 60,000-image Fashion-MNIST epoch.
//!
//! Run with `cargo bench --bench train`.

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use simplenn::dataset::{Dataset, Images};
use simplenn::{Activation, Batch, Init, Network, Optimiser, Rng, TrainConfig, matmul};
use std::time::Duration;

/// 10,000 images of random pixels, with labels that depend on them (the brightest of ten
/// bands of rows), so the network has something to learn.
fn synthetic(n: usize) -> Dataset {
    let mut rng = Rng::new(7);
    let pixels: Vec<u8> = (0..n * 784).map(|_| rng.below(256) as u8).collect();
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

fn bench(c: &mut Criterion) {
    let data = synthetic(10_000);
    let config = TrainConfig {
        epochs: 1,
        batch: Batch::Size(64),
        learning_rate: 0.1,
        optimiser: Optimiser::sgd(0.0),
        ..TrainConfig::default()
    };
    let mut group = c.benchmark_group("train/epoch 10k images 784-128-10 batch 64");
    group.sample_size(10);
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(3));
    for threads in [1, 2] {
        matmul::set_threads(threads);
        group.bench_function(BenchmarkId::new("threads", threads), |bench| {
            bench.iter_batched(
                || {
                    Network::<f32>::builder(784)
                        .hidden(128, Activation::Relu)
                        .output(10)
                        .init(Init::He)
                        .seed(1)
                        .build()
                },
                |mut net| net.fit_with(&data, None, &config, |_| {}).unwrap(),
                criterion::BatchSize::LargeInput,
            )
        });
    }
    matmul::set_threads(0);
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
