//! Matrix-product benchmarks: every generation of the book's "Making it fast" chapter on
//! the shapes the network uses, plus 1024³.
//!
//! | generation | what |
//! | --- | --- |
//! | `naive` | `reference::gemm`, the `i-j-k` triple loop |
//! | `reordered` | the `i-k-j` loop |
//! | `blocked` | cache blocks, compiler-vectorised inner loop |
//! | `packed-<kernel>` | packed panels and a register-tiled micro-kernel, one thread, per kernel the CPU supports |
//! | `threaded-2` | `matmul::gemm` (packed, default kernel) allowed 2 threads; it uses the second one only for products of at least 2²⁵ operations |
//!
//! Throughput is `2·m·n·k` floating-point operations per product, so criterion's "elem/s"
//! reads as FLOP/s. The naive loop is skipped on 1024³ (about a second per product at
//! ~2 GFLOP/s, too slow for a ten-sample run); everything else runs every shape. Samples and
//! measurement times are kept small so `cargo bench --bench matmul` takes about a minute and a half.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use simplenn::matmul::{self, Kernel, View};
use simplenn::{Matrix, Rng};
use std::hint::black_box;
use std::time::Duration;

/// How an operand is read.
#[derive(Clone, Copy)]
enum Form {
    AB,
    AtB,
    ABt,
}

/// (name, form, m, k, n): `C (m×n) = A (m×k) · B (k×n)`, with A or B read transposed as
/// backprop reads them.
const SHAPES: &[(&str, Form, usize, usize, usize)] = &[
    ("fwd 64x784x128", Form::AB, 64, 784, 128),
    ("dW XtD 784x64x128", Form::AtB, 784, 64, 128),
    ("back DWt 64x128x784", Form::ABt, 64, 128, 784),
    ("out 64x128x10", Form::AB, 64, 128, 10),
    ("full fwd 10000x784x10", Form::AB, 10_000, 784, 10),
    ("full dW XtD 784x10000x10", Form::AtB, 784, 10_000, 10),
    ("square 1024", Form::AB, 1024, 1024, 1024),
];

fn bench(c: &mut Criterion) {
    let mut rng = Rng::new(1);
    for &(name, form, m, k, n) in SHAPES {
        let mut group = c.benchmark_group(format!("matmul/{name}"));
        group.sample_size(10);
        group.warm_up_time(Duration::from_millis(300));
        group.measurement_time(Duration::from_secs(1));
        group.throughput(Throughput::Elements((2 * m * n * k) as u64));
        let a = match form {
            Form::AtB => Matrix::<f32>::random_uniform(k, m, -1.0, 1.0, &mut rng),
            _ => Matrix::<f32>::random_uniform(m, k, -1.0, 1.0, &mut rng),
        };
        let b = match form {
            Form::ABt => Matrix::<f32>::random_uniform(n, k, -1.0, 1.0, &mut rng),
            _ => Matrix::<f32>::random_uniform(k, n, -1.0, 1.0, &mut rng),
        };
        let (av, bv): (View<'_, f32>, View<'_, f32>) = match form {
            Form::AB => (a.view(), b.view()),
            Form::AtB => (a.t(), b.view()),
            Form::ABt => (a.view(), b.t()),
        };
        let mut out = Matrix::zeros(0, 0);
        if m * n * k < 1 << 28 {
            group.bench_function(BenchmarkId::from_parameter("naive"), |bench| {
                bench.iter(|| black_box(matmul::reference::gemm(av, bv)))
            });
        }
        group.bench_function(BenchmarkId::from_parameter("reordered"), |bench| {
            bench.iter(|| matmul::reordered::gemm(av, bv, black_box(&mut out)))
        });
        group.bench_function(BenchmarkId::from_parameter("blocked"), |bench| {
            bench.iter(|| matmul::blocked::gemm(av, bv, black_box(&mut out)))
        });
        for kernel in Kernel::supported() {
            let id = format!("packed-{kernel}");
            group.bench_function(BenchmarkId::from_parameter(id), |bench| {
                bench.iter(|| {
                    matmul::packed::gemm_with_kernel(kernel, av, bv, black_box(&mut out)).unwrap()
                })
            });
        }
        matmul::set_threads(2);
        group.bench_function(BenchmarkId::from_parameter("threaded-2"), |bench| {
            bench.iter(|| matmul::gemm(av, bv, black_box(&mut out)))
        });
        matmul::set_threads(0);
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
