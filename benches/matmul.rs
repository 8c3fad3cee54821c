//! Matrix-product benchmarks: the reference triple loop against the blocked product, on the
//! shapes the network uses. Throughput is reported as floating-point operations
//! (`2·m·n·k` per product), so criterion's "elem/s" reads as FLOP/s.
//!
//! Run with `cargo bench --bench matmul`.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use simplenn::{Matrix, Rng, matmul};
use std::hint::black_box;

/// (name, m, k, n): `C (m×n) = A (m×k) · B (k×n)`.
const SHAPES: &[(&str, usize, usize, usize)] = &[
    ("square-256", 256, 256, 256),
    ("minibatch-forward 64x784x128", 64, 784, 128),
    ("fullbatch-forward 10000x784x10", 10_000, 784, 10),
];

fn bench(c: &mut Criterion) {
    let mut rng = Rng::new(1);
    let mut group = c.benchmark_group("matmul");
    group.sample_size(10);
    for &(name, m, k, n) in SHAPES {
        let a = Matrix::<f32>::random_uniform(m, k, -1.0, 1.0, &mut rng);
        let b = Matrix::<f32>::random_uniform(k, n, -1.0, 1.0, &mut rng);
        group.throughput(Throughput::Elements((2 * m * n * k) as u64));
        // The reference loop is timed on the mini-batch shape only: on the others it takes
        // long enough to make the whole run tedious, and one shape shows the gap.
        if m * n * k <= 64 * 784 * 128 {
            group.bench_with_input(BenchmarkId::new("reference", name), &(), |bench, _| {
                bench.iter(|| black_box(matmul::reference::gemm(a.view(), b.view())))
            });
        }
        let mut out = Matrix::zeros(0, 0);
        group.bench_with_input(BenchmarkId::new("blocked", name), &(), |bench, _| {
            bench.iter(|| {
                matmul::blocked::gemm(a.view(), b.view(), &mut out);
                black_box(&out);
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
