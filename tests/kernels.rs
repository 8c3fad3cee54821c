//! Every micro-kernel this machine can run, against the reference loop.
//!
//! The packed product (`matmul::packed`) is run once per kernel through
//! `packed::gemm_with_kernel`, which names the kernel explicitly, so tests running side by
//! side cannot change each other's kernel. Kernels this machine cannot run are skipped,
//! and each test says so on stderr (run with `--nocapture` to see it, e.g.
//! `cargo test --test kernels -- --nocapture`).
//!
//! Each result is compared with `reference::gemm` within `k·ε·(|A|·|B|)ᵢⱼ` per element (the
//! standard bound for a dot product of length k, Higham §3.1, covering both sides'
//! rounding). Every kernel except FMA rounds exactly as the reference loop does (a multiply
//! and an add per term, in order of p), so it must in fact be **bit-identical** to it and to
//! the other kernels; both are checked, so a failure says which promise broke. The FMA
//! kernel is held to the bound alone for `f32` (and to bit-identity for `f64`, which it
//! does not fuse). The AVX-512 kernel fuses too, and must be bit-identical to the FMA kernel:
//! same sums in the same order, only a larger tile.
//!
//! Shapes: 1, 7, 17, 63, 65, 129 in every dimension combination that matters, and sizes
//! either side of the register tiles (MR = 4, 6, 12; NR = 4, 8, 16, 32) and the blocks (MC = 144,
//! KC = 256; NC = 4096 is exercised by a wide product), in all three forms backprop uses
//! (A·B, Aᵀ·B, A·Bᵀ) and Aᵀ·Bᵀ, in f32 and f64.

mod common;

use common::{FORMS, Operands};
use simplenn::matmul::{self, Kernel, View, packed, reference};
use simplenn::{Float, Matrix, Rng};
use std::io::Write;

/// The kernels to test on this machine; prints the skipped ones, once per test.
fn kernels_to_test(test: &str) -> Vec<Kernel> {
    let mut stderr = std::io::stderr();
    for k in Kernel::ALL {
        if let Some(reason) = k.unsupported_reason() {
            writeln!(stderr, "{test}: SKIPPED the {k} kernel: {reason}").unwrap();
        }
    }
    let run = Kernel::supported();
    let names: Vec<&str> = run.iter().map(|k| k.name()).collect();
    writeln!(stderr, "{test}: testing kernels {names:?}").unwrap();
    run
}

/// `(|A|·|B|)ᵢⱼ` in f64, by the definition.
fn magnitudes<T: Float>(a: View<'_, T>, b: View<'_, T>) -> Vec<f64> {
    let (m, k, n) = (a.rows(), a.cols(), b.cols());
    let mut mag = vec![0.0; m * n];
    for i in 0..m {
        for p in 0..k {
            let x = a.get(i, p).to_f64().abs();
            for j in 0..n {
                mag[i * n + j] += x * b.get(p, j).to_f64().abs();
            }
        }
    }
    mag
}

fn check_shape<T: Float>(kernels: &[Kernel], shape: (usize, usize, usize), rng: &mut Rng) {
    let (m, k, n) = shape;
    let eps = T::EPSILON.to_f64();
    for form in FORMS {
        let ops = Operands::<T>::random(form, shape, rng);
        let (a, b) = ops.views();
        let want = reference::gemm(a, b);
        let mag = magnitudes(a, b);
        for &kernel in kernels {
            let what = format!("{kernel} kernel, {}, {form:?}, {m}×{k}·{k}×{n}", T::NAME);
            // Start from a poisoned buffer of the wrong shape: nothing stale may survive.
            let mut c = Matrix::filled(3, 5, T::from_f64(f64::NAN));
            packed::gemm_with_kernel(kernel, a, b, &mut c).unwrap();
            assert_eq!(c.shape(), (m, n), "{what}: shape");
            for (idx, ((&got, &w), &mg)) in c
                .as_slice()
                .iter()
                .zip(want.as_slice())
                .zip(&mag)
                .enumerate()
            {
                let (got, w) = (got.to_f64(), w.to_f64());
                let tol = (k as f64) * eps * mg;
                assert!(
                    (got - w).abs() <= tol,
                    "{what}: element ({}, {}) is {got}, reference {w}, beyond k·ε·(|A|·|B|) = {tol}",
                    idx / n,
                    idx % n
                );
            }
            let exact = !(kernel.fuses_multiply_add() && T::NAME == "f32");
            assert!(
                !exact || c == want,
                "{what}: within the bound but not bit-identical to the reference loop"
            );
        }
    }
}

/// 1, 7, 17, 63, 65, 129 and the tile and block edges, combined.
const SIZES: [usize; 6] = [1, 7, 17, 63, 65, 129];

fn awkward_shapes() -> Vec<(usize, usize, usize)> {
    let mut shapes = Vec::new();
    for &m in &SIZES {
        for &k in &SIZES {
            for &n in &[1, 17, 65] {
                shapes.push((m, k, n));
            }
        }
    }
    for &n in &SIZES {
        shapes.push((17, 33, n));
    }
    // Either side of the register tiles (MR = 4, 6, 12; NR = 4, 8, 16, 32).
    for d in [
        3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 15, 16, 17, 23, 24, 25, 31, 32, 33, 47, 48, 49, 64,
    ] {
        shapes.push((d, 20, d));
        shapes.push((d, 5, 16));
        shapes.push((12, 5, d));
    }
    // Either side of the blocks: MC = 144 rows, KC = 256 deep, and the choice to pack A
    // (n above 32 columns).
    shapes.extend([
        (143, 40, 20),
        (144, 40, 20),
        (145, 40, 20),
        (289, 9, 40),
        (20, 255, 9),
        (20, 256, 9),
        (20, 257, 9),
        (13, 513, 33),
        (7, 30, 31),
        (7, 30, 32),
        (7, 30, 33),
        (150, 300, 50),
    ]);
    shapes
}

#[test]
fn every_kernel_matches_the_reference_on_awkward_shapes_f32() {
    let kernels = kernels_to_test("f32 awkward shapes");
    let mut rng = Rng::new(1);
    for shape in awkward_shapes() {
        check_shape::<f32>(&kernels, shape, &mut rng);
    }
}

#[test]
fn every_kernel_matches_the_reference_on_awkward_shapes_f64() {
    let kernels = kernels_to_test("f64 awkward shapes");
    let mut rng = Rng::new(2);
    for shape in awkward_shapes() {
        check_shape::<f64>(&kernels, shape, &mut rng);
    }
}

#[test]
fn every_kernel_matches_the_reference_on_the_networks_shapes() {
    let kernels = kernels_to_test("network shapes");
    let mut rng = Rng::new(3);
    // A mini-batch forward (and, through the forms, its backprop transposes), the output
    // layer, a wide product that crosses NC = 4096 columns.
    for shape in [(64, 784, 128), (64, 128, 10), (300, 784, 10), (3, 20, 4100)] {
        check_shape::<f32>(&kernels, shape, &mut rng);
    }
    check_shape::<f64>(&kernels, (64, 100, 30), &mut rng);
}

#[test]
fn empty_products_are_zero_or_empty_for_every_kernel() {
    let kernels = kernels_to_test("empty products");
    for kernel in kernels {
        for (m, k, n) in [(0, 3, 4), (3, 0, 4), (3, 4, 0), (0, 0, 0)] {
            let a = Matrix::<f32>::filled(m, k, 1.0);
            let b = Matrix::<f32>::filled(k, n, 1.0);
            let mut c = Matrix::filled(2, 2, f32::NAN);
            packed::gemm_with_kernel(kernel, a.view(), b.view(), &mut c).unwrap();
            assert_eq!(c, Matrix::zeros(m, n), "{kernel}, {m}×{k}·{k}×{n}");
        }
    }
    // The threaded driver too, over a stale buffer of the right shape: an empty sum is zero.
    let (a, b) = (Matrix::<f32>::zeros(300, 0), Matrix::<f32>::zeros(0, 200));
    let mut c = Matrix::filled(300, 200, f32::NAN);
    matmul::gemm(a.view(), b.view(), &mut c);
    assert_eq!(c, Matrix::zeros(300, 200));
}

#[test]
fn unsupported_kernels_are_refused_not_run() {
    let mut stderr = std::io::stderr();
    for kernel in Kernel::ALL {
        if kernel.is_supported() {
            continue;
        }
        writeln!(stderr, "checking that the {kernel} kernel is refused").unwrap();
        let a = Matrix::<f32>::filled(2, 2, 1.0);
        let mut c = Matrix::filled(1, 1, 7.0);
        let err = packed::gemm_with_kernel(kernel, a.view(), a.view(), &mut c).unwrap_err();
        assert_eq!(err.kernel, kernel);
        assert!(err.to_string().contains(kernel.name()), "{err}");
        assert_eq!(
            c,
            Matrix::filled(1, 1, 7.0),
            "a refused product must not touch c"
        );
        let before = matmul::kernel();
        assert!(matmul::set_kernel(kernel).is_err());
        assert_eq!(
            matmul::kernel(),
            before,
            "a refused set_kernel must change nothing"
        );
    }
    // Portable is always there.
    assert!(Kernel::Portable.is_supported());
    assert_eq!(Kernel::from_name(" AVX2 "), Some(Kernel::Avx2));
    assert_eq!(Kernel::from_name("sse"), None);
}

#[test]
fn a_kernel_variable_that_cannot_be_honoured_is_reported_not_printed() {
    // What each value of SIMPLENN_KERNEL would choose here: every kernel by name, in any
    // case and with spaces, runs if this machine can run it, and is refused saying why if not.
    for kernel in Kernel::ALL {
        let value = format!(" {} ", kernel.name().to_uppercase());
        match matmul::kernel_for_var(&value) {
            Ok(k) => assert_eq!(k, kernel),
            Err(ignored) => {
                assert_eq!(ignored.named, Some(kernel));
                assert_eq!(Some(ignored.reason.clone()), kernel.unsupported_reason());
                assert_eq!(ignored.instead, Kernel::best());
                assert_eq!(ignored.value, value);
            }
        }
        assert_eq!(
            matmul::kernel_for_var(&value).is_ok(),
            kernel.is_supported()
        );
    }
    let ignored = matmul::kernel_for_var("avx513").unwrap_err();
    assert_eq!(ignored.named, None);
    assert_eq!(
        ignored.to_string(),
        format!(
            "SIMPLENN_KERNEL=avx513: not portable, avx2, fma or avx512; using the {} kernel",
            Kernel::best()
        )
    );
    assert!(
        matmul::kernel_for_var("").is_err(),
        "an empty value names no kernel"
    );
    // This process's own variable: unset, or set by the person running the tests.
    match std::env::var("SIMPLENN_KERNEL") {
        Err(_) => assert_eq!(matmul::kernel_var_ignored(), None),
        Ok(value) => assert_eq!(
            matmul::kernel_var_ignored(),
            matmul::kernel_for_var(&value).err()
        ),
    }
}

#[test]
fn forcing_a_kernel_through_the_api_changes_which_kernel_runs() {
    // The only test in this file that touches the process-wide choice; the others name
    // their kernel explicitly.
    let kernels = kernels_to_test("set_kernel");
    let mut rng = Rng::new(9);
    let x = Matrix::<f32>::random_uniform(130, 70, -1.0, 1.0, &mut rng);
    let w = Matrix::<f32>::random_uniform(70, 45, -1.0, 1.0, &mut rng);
    let want = reference::gemm(x.view(), w.view());
    for kernel in kernels {
        matmul::set_kernel(kernel).unwrap();
        assert_eq!(matmul::kernel(), kernel);
        assert_eq!(matmul::kernel_name(), kernel.name());
        let mut c = Matrix::zeros(0, 0);
        matmul::gemm(x.view(), w.view(), &mut c);
        if kernel.fuses_multiply_add() {
            // Rounding once per term instead of twice shows in some of the 5,850 elements:
            // proof that the fused kernel really ran. It stays within a few ulps.
            let mut explicit = Matrix::zeros(0, 0);
            packed::gemm_with_kernel(kernel, x.view(), w.view(), &mut explicit).unwrap();
            assert!(c == explicit, "{kernel}: matmul::gemm ran another kernel");
            assert!(x.matmul(&w) == explicit, "{kernel}: Matrix::matmul");
            assert!(
                c != want,
                "{kernel}: no element differs from the unfused loop"
            );
            assert!(
                c.max_abs_diff(&want) < 1e-5,
                "{kernel}: too far from the loop"
            );
        } else {
            assert!(x.matmul(&w) == want, "{kernel}: Matrix::matmul");
            assert!(c == want, "{kernel}: matmul::gemm");
        }
    }
    matmul::set_kernel(Kernel::best()).unwrap();
}

#[test]
fn the_avx512_kernel_gives_the_fma_kernels_bits() {
    if !Kernel::Avx512.is_supported() {
        let reason = Kernel::Avx512.unsupported_reason().unwrap_or_default();
        writeln!(
            std::io::stderr(),
            "avx512 = fma: SKIPPED the avx512 kernel: {reason}"
        )
        .unwrap();
        return;
    }
    let mut rng = Rng::new(21);
    // Wider and narrower than its 32-column tile (16 and fewer run the fma tile itself),
    // and the network's own shapes.
    let mut shapes = awkward_shapes();
    shapes.extend([
        (64, 784, 512),
        (64, 784, 128),
        (784, 64, 128),
        (300, 400, 32),
        (400, 300, 32),
    ]);
    for shape in shapes {
        for form in FORMS {
            let ops = Operands::<f32>::random(form, shape, &mut rng);
            let (a, b) = ops.views();
            let (mut fma, mut wide) = (Matrix::zeros(0, 0), Matrix::zeros(0, 0));
            packed::gemm_with_kernel(Kernel::Fma, a, b, &mut fma).unwrap();
            packed::gemm_with_kernel(Kernel::Avx512, a, b, &mut wide).unwrap();
            let same = fma
                .as_slice()
                .iter()
                .zip(wide.as_slice())
                .all(|(x, y)| x.to_bits() == y.to_bits());
            assert!(
                same && fma.shape() == wide.shape(),
                "{form:?} {shape:?}: avx512 differs from fma"
            );
        }
    }
}
