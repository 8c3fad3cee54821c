//! Tests of the matrix products: `matmul::blocked::gemm` (the fast one), the default
//! `matmul::gemm`, and the `Matrix` methods `matmul` (A·B), `t_matmul` (Aᵀ·B) and
//! `matmul_t` (A·Bᵀ), for `f32` and `f64`.
//!
//! Every product is checked against two oracles that share no code with the blocked one:
//!
//! - `matmul::reference::gemm`, the textbook triple loop, reading the same views;
//! - a product computed here, in `f64`, from *explicitly* transposed copies of the operands
//!   (`Matrix::transpose`), so that a mistake in the strides of a transposed view cannot
//!   hide in both the code and the oracle.
//!
//! Rounding makes a floating-point product differ from the exact one, so the comparison
//! uses the standard error bound for a dot product of length k (Higham, *Accuracy and
//! Stability of Numerical Algorithms*, §3.1): `|ĉ − c| ≤ γₖ·(|A|·|B|)ᵢⱼ` with `γₖ ≈ k·u`,
//! u = ε/2. We allow `2·k·ε·(|A|·|B|)ᵢⱼ` per element, which covers the product's rounding
//! and the oracle's (the `f64` oracle is exact for `f32` inputs up to its own summation).
//! A wrong term, missed or counted twice, is typically `(|A|·|B|)ᵢⱼ / k` — hundreds of times
//! the tolerance for the sizes used here. Integer-valued inputs are exact in floating point
//! (all partial sums stay far below 2²⁴), so for those the tests demand exact equality with
//! an integer oracle.
//!
//! Shapes: 1×1×1; every empty case (m, k or n = 0); primes; sizes either side of every block
//! edge of the blocked product (`MC` = 64 rows, `KC` = 128 deep, `NC` = 256 columns);
//! vectors; tall, wide and MNIST-like skinny products. Each shape runs in all four forms the
//! views allow (A·B, Aᵀ·B, A·Bᵀ, Aᵀ·Bᵀ). Output buffers start out poisoned with NaN and of
//! the wrong shape, so stale contents cannot leak into a result. Shape mismatches must panic
//! with a message naming both shapes.

use simplenn::matmul::{self, View, blocked, reference};
use simplenn::{Float, Matrix, Rng};

mod common;

use common::{FORMS, Form, Operands};

// ---------------------------------------------------------------------------------------
// Each form's products
// ---------------------------------------------------------------------------------------

impl<T: Float> Operands<T> {
    /// The `Matrix` method that computes this form, if there is one.
    fn method(&self) -> Option<(&'static str, Matrix<T>)> {
        match self.form {
            Form::AB => Some(("Matrix::matmul", self.a.matmul(&self.b))),
            Form::AtB => Some(("Matrix::t_matmul", self.a.t_matmul(&self.b))),
            Form::ABt => Some(("Matrix::matmul_t", self.a.matmul_t(&self.b))),
            Form::AtBt => None,
        }
    }

    /// Every implementation's result for these operands, named. Output buffers start
    /// poisoned with NaN, one of the wrong shape and one of the right shape.
    fn products(&self) -> Vec<(&'static str, Matrix<T>)> {
        let (a, b) = self.views();
        let nan = T::from_f64(f64::NAN);
        let mut out = vec![("reference::gemm", reference::gemm(a, b))];

        let mut c = Matrix::filled(3, 2, nan);
        blocked::gemm(a, b, &mut c);
        out.push(("blocked::gemm", c));

        let mut c = Matrix::filled(self.m, self.n, nan);
        matmul::gemm(a, b, &mut c);
        out.push(("matmul::gemm", c));

        out.extend(self.method());
        out
    }
}

/// `A·B` in `f64` from explicit row-major matrices, and `|A|·|B|` for the error bound.
fn oracle<T: Float>(a: &Matrix<T>, b: &Matrix<T>) -> (Vec<f64>, Vec<f64>) {
    let (m, k) = a.shape();
    let n = b.cols();
    assert_eq!(b.rows(), k, "oracle called with bad shapes");
    let mut c = vec![0.0; m * n];
    let mut mag = vec![0.0; m * n];
    for i in 0..m {
        for p in 0..k {
            let a_ip = a[(i, p)].to_f64();
            for j in 0..n {
                let b_pj = b[(p, j)].to_f64();
                c[i * n + j] += a_ip * b_pj;
                mag[i * n + j] += (a_ip * b_pj).abs();
            }
        }
    }
    (c, mag)
}

/// Checks `got` against the exact product `want` with the tolerance `2·k·ε·mag` per element.
fn assert_within_bound<T: Float>(
    what: &str,
    got: &Matrix<T>,
    want: &[f64],
    mag: &[f64],
    (m, k, n): (usize, usize, usize),
) {
    assert_eq!(got.shape(), (m, n), "{what}: wrong shape");
    let eps = T::EPSILON.to_f64();
    for i in 0..m {
        for j in 0..n {
            let g = got[(i, j)].to_f64();
            let w = want[i * n + j];
            let tol = 2.0 * k as f64 * eps * mag[i * n + j];
            assert!(
                (g - w).abs() <= tol,
                "{what}: element ({i}, {j}) is {g:e}, want {w:e} ± {tol:e}"
            );
        }
    }
}

/// Every implementation, every form, one shape: against the `f64` oracle built from explicit
/// transposes, and against the reference triple loop.
fn check_shape<T: Float>(shape: (usize, usize, usize), seed: u64) {
    let (m, _, n) = shape;
    let mut rng = Rng::new(seed);
    for form in FORMS {
        let ops = Operands::<T>::random(form, shape, &mut rng);
        let (ea, eb) = ops.explicit();
        let (want, mag) = oracle(&ea, &eb);
        let products = ops.products();
        let reference = &products[0].1;
        let ref_values: Vec<f64> = reference.as_slice().iter().map(|x| x.to_f64()).collect();
        for (name, c) in &products {
            let what = format!("{name}, {form:?}, {}, shape {shape:?}", T::NAME);
            assert_eq!(c.shape(), (m, n), "{what}");
            assert_within_bound(&what, c, &want, &mag, shape);
            assert_within_bound(&format!("{what} vs reference"), c, &ref_values, &mag, shape);
        }
    }
}

fn check_shapes(shapes: &[(usize, usize, usize)]) {
    for (i, &shape) in shapes.iter().enumerate() {
        check_shape::<f32>(shape, 1000 + i as u64);
        check_shape::<f64>(shape, 2000 + i as u64);
    }
}

// ---------------------------------------------------------------------------------------
// Shapes, as (m, k, n) for an m×k · k×n product
// ---------------------------------------------------------------------------------------

#[test]
fn one_by_one_by_one() {
    check_shapes(&[(1, 1, 1)]);
    // And by hand: 3 · −2 = −6, in every form.
    for form in FORMS {
        let ops = Operands::<f32>::from_fn(
            form,
            (1, 1, 1),
            |which, _, _| if which == 0 { 3.0 } else { -2.0 },
        );
        for (name, c) in ops.products() {
            assert_eq!(c.as_slice(), &[-6.0], "{name}, {form:?}");
        }
    }
}

#[test]
fn empty_dimensions_give_zeros_of_the_right_shape() {
    let shapes = [
        (0, 0, 0),
        (0, 3, 4),
        (3, 0, 4), // k = 0: a 3×4 matrix of empty sums, zeros
        (3, 4, 0),
        (0, 0, 5),
        (5, 0, 0),
        (0, 5, 0),
        (0, 300, 257),
        (257, 0, 300),
        (129, 0, 1),
    ];
    check_shapes(&shapes);
    for (m, k, n) in shapes {
        for form in FORMS {
            let ops = Operands::<f32>::random(form, (m, k, n), &mut Rng::new(1));
            for (name, c) in ops.products() {
                assert_eq!(c.shape(), (m, n), "{name}, {form:?}, {m}×{k}·{k}×{n}");
                assert!(
                    c.as_slice().iter().all(|&x| x == 0.0),
                    "{name}, {form:?}, {m}×{k}·{k}×{n}: not all zeros (stale buffer contents?)"
                );
            }
        }
    }
}

#[test]
fn prime_shapes() {
    check_shapes(&[
        (2, 3, 5),
        (7, 13, 17),
        (17, 7, 13),
        (13, 31, 7),
        (31, 17, 13),
        (17, 127, 31),
        (31, 257, 13),
        (127, 7, 257),
        (257, 13, 7),
    ]);
}

#[test]
fn shapes_either_side_of_the_depth_block_kc() {
    assert_eq!(blocked::KC, 128, "update the shapes below to straddle KC");
    check_shapes(&[
        (5, 127, 9),
        (5, 128, 9),
        (5, 129, 9),
        (3, 255, 7),
        (3, 256, 7),
        (3, 257, 7),
        (3, 385, 5),
    ]);
}

#[test]
fn shapes_either_side_of_the_column_block_nc() {
    assert_eq!(blocked::NC, 256, "update the shapes below to straddle NC");
    check_shapes(&[
        (5, 9, 255),
        (5, 9, 256),
        (5, 9, 257),
        (3, 7, 511),
        (3, 7, 513),
        (2, 3, 769),
    ]);
}

#[test]
fn shapes_either_side_of_the_row_block_mc() {
    assert_eq!(blocked::MC, 64, "update the shapes below to straddle MC");
    check_shapes(&[(63, 5, 7), (64, 5, 7), (65, 5, 7), (127, 5, 7), (129, 5, 7)]);
}

#[test]
fn shapes_crossing_every_block_edge_at_once() {
    check_shapes(&[(65, 129, 257), (67, 257, 513)]);
}

#[test]
fn vector_shapes() {
    check_shapes(&[
        (1, 129, 513), // row vector · matrix
        (257, 129, 1), // matrix · column vector
        (1, 1000, 1),  // dot product
        (300, 1, 257), // outer product
        (1, 1, 1000),  // scalar times a row
        (1000, 1, 1),  // a column times a scalar
    ]);
}

#[test]
fn tall_wide_and_skinny_shapes() {
    check_shapes(&[
        (1000, 3, 5), // tall
        (5, 3, 1000), // wide
        (3, 1000, 5), // deep
        // An MNIST layer with a 300-image batch: forward X·W, weight gradient Xᵀ·δ
        // (784×300 · 300×10) and the gradient flowing back δ·Wᵀ (300×10 · 10×784).
        (300, 784, 10),
        (784, 300, 10),
        (300, 10, 784),
    ]);
}

// ---------------------------------------------------------------------------------------
// Exactness on integers
// ---------------------------------------------------------------------------------------

/// With integer inputs in −8..=8 and k ≤ 1000 every partial sum is an integer below
/// 64 000 < 2²⁴, hence exact in `f32` and `f64`, whatever the order of summation: the
/// product must equal the integer one exactly.
fn check_integers<T: Float>(shape: (usize, usize, usize), seed: u64) {
    let (m, k, n) = shape;
    let mut rng = Rng::new(seed);
    let a: Vec<i64> = (0..m * k).map(|_| rng.below(17) as i64 - 8).collect();
    let b: Vec<i64> = (0..k * n).map(|_| rng.below(17) as i64 - 8).collect();
    // The integer oracle, by the definition, from logical indices.
    let want: Vec<i64> = (0..m * n)
        .map(|ij| {
            (0..k)
                .map(|p| a[(ij / n) * k + p] * b[p * n + ij % n])
                .sum()
        })
        .collect();
    for form in FORMS {
        let ops = Operands::<T>::from_fn(form, shape, |which, r, c| {
            let x = if which == 0 {
                a[r * k + c]
            } else {
                b[r * n + c]
            };
            T::from_f64(x as f64)
        });
        for (name, c) in ops.products() {
            assert_eq!(c.shape(), (m, n));
            for (idx, (&got, &w)) in c.as_slice().iter().zip(&want).enumerate() {
                assert!(
                    got.to_f64() == w as f64,
                    "{name}, {form:?}, {}, shape {shape:?}: element ({}, {}) is {got}, want {w}",
                    T::NAME,
                    idx / n,
                    idx % n
                );
            }
        }
    }
}

#[test]
fn integer_inputs_give_exact_results() {
    let shapes = [
        (1, 1, 1),
        (7, 13, 17),
        (65, 129, 257),
        (3, 257, 513),
        (31, 1000, 3),
        (130, 3, 260),
    ];
    for (i, &shape) in shapes.iter().enumerate() {
        check_integers::<f32>(shape, 10 + i as u64);
        check_integers::<f64>(shape, 20 + i as u64);
    }
}

#[test]
fn a_small_product_by_hand() {
    // [1 2 3; 4 5 6] · [7 8; 9 10; 11 12] = [58 64; 139 154]
    let a = Matrix::<f32>::from_rows(&[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
    let b = Matrix::<f32>::from_rows(&[[7.0, 8.0], [9.0, 10.0], [11.0, 12.0]]);
    let want = Matrix::from_rows(&[[58.0, 64.0], [139.0, 154.0]]);
    assert_eq!(a.matmul(&b), want);
    assert_eq!(a.transpose().t_matmul(&b), want);
    assert_eq!(a.matmul_t(&b.transpose()), want);
    // Aᵀ·A is 3×3 and symmetric; A·Aᵀ is 2×2.
    assert_eq!(
        a.t_matmul(&a),
        Matrix::from_rows(&[[17.0, 22.0, 27.0], [22.0, 29.0, 36.0], [27.0, 36.0, 45.0]])
    );
    assert_eq!(
        a.matmul_t(&a),
        Matrix::from_rows(&[[14.0, 32.0], [32.0, 77.0]])
    );
}

// ---------------------------------------------------------------------------------------
// Output buffers
// ---------------------------------------------------------------------------------------

#[test]
fn gemm_reshapes_the_output_buffer_and_overwrites_its_contents() {
    type GemmFn = fn(View<'_, f32>, View<'_, f32>, &mut Matrix<f32>);
    let gemms: [(&str, GemmFn); 2] = [
        ("blocked::gemm", blocked::gemm),
        ("matmul::gemm", matmul::gemm),
    ];
    for (name, gemm) in gemms {
        let mut rng = Rng::new(5);
        // One buffer, reused across shapes that grow, shrink and empty, starting as a
        // large non-zero matrix.
        let mut c = Matrix::<f32>::filled(50, 50, 7.0);
        for (i, &shape) in [
            (3, 4, 5),
            (70, 130, 300),
            (2, 2, 2),
            (4, 0, 6),
            (66, 1, 257),
            (0, 5, 5),
            (9, 9, 9),
        ]
        .iter()
        .enumerate()
        {
            let form = FORMS[i % 4];
            let ops = Operands::<f32>::random(form, shape, &mut rng);
            let (a, b) = ops.views();
            gemm(a, b, &mut c);
            let (ea, eb) = ops.explicit();
            let (want, mag) = oracle(&ea, &eb);
            assert_within_bound(
                &format!("{name}, {form:?}, shape {shape:?}"),
                &c,
                &want,
                &mag,
                shape,
            );
            // Poison the buffer for the next round.
            c.as_mut_slice().fill(f32::NAN);
        }
    }
}

#[test]
fn gemm_into_a_buffer_of_the_right_shape_does_not_accumulate() {
    // `c = a·b`, not `c += a·b`: calling twice gives the same result, not twice it.
    let a = Matrix::<f64>::from_rows(&[[1.0, 2.0], [3.0, 4.0]]);
    let mut c = Matrix::filled(2, 2, 100.0);
    matmul::gemm(a.view(), a.view(), &mut c);
    matmul::gemm(a.view(), a.view(), &mut c);
    assert_eq!(c, Matrix::from_rows(&[[7.0, 10.0], [15.0, 22.0]]));
    blocked::gemm(a.t(), a.view(), &mut c);
    assert_eq!(c, Matrix::from_rows(&[[10.0, 14.0], [14.0, 20.0]]));
}

// ---------------------------------------------------------------------------------------
// Non-finite values
// ---------------------------------------------------------------------------------------

#[test]
fn nan_propagates_to_exactly_its_row_and_column() {
    // A NaN at A[i][p] poisons row i of the product; one at B[p][j] poisons column j; all
    // other elements stay finite. A kernel that skipped terms or mixed rows would differ.
    let (m, k, n) = (70, 130, 260);
    let (bad_i, bad_p, bad_j) = (66, 129, 257);
    for form in FORMS {
        let mut rng = Rng::new(3);
        let ops = Operands::<f32>::from_fn(form, (m, k, n), |which, r, c| {
            let poisoned = (which == 0 && (r, c) == (bad_i, bad_p))
                || (which == 1 && (r, c) == (bad_p, bad_j));
            if poisoned {
                f32::NAN
            } else {
                rng.uniform(-1.0, 1.0) as f32
            }
        });
        for (name, c) in ops.products() {
            for i in 0..m {
                for j in 0..n {
                    let x = c[(i, j)];
                    if i == bad_i || j == bad_j {
                        assert!(x.is_nan(), "{name}, {form:?}: ({i}, {j}) = {x}, want NaN");
                    } else {
                        assert!(
                            x.is_finite(),
                            "{name}, {form:?}: ({i}, {j}) = {x}, want finite"
                        );
                    }
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Views
// ---------------------------------------------------------------------------------------

/// A matrix whose element (r, c) is 1000·r + c, recognisable anywhere.
fn numbered(rows: usize, cols: usize) -> Matrix<f64> {
    Matrix::from_fn(rows, cols, |r, c| (1000 * r + c) as f64)
}

#[test]
fn views_read_the_right_elements() {
    let m = numbered(4, 7);

    let v = m.view();
    assert_eq!((v.rows(), v.cols(), v.is_transposed()), (4, 7, false));

    let t = m.t();
    assert_eq!((t.rows(), t.cols(), t.is_transposed()), (7, 4, true));
    let vt = m.view().t();
    assert_eq!((vt.rows(), vt.cols(), vt.is_transposed()), (7, 4, true));
    let tt = m.t().t();
    assert_eq!((tt.rows(), tt.cols(), tt.is_transposed()), (4, 7, false));

    for r in 0..4 {
        for c in 0..7 {
            assert_eq!(v.get(r, c), m[(r, c)]);
            assert_eq!(t.get(c, r), m[(r, c)]);
            assert_eq!(vt.get(c, r), m[(r, c)]);
            assert_eq!(tt.get(r, c), m[(r, c)]);
        }
    }
}

#[test]
fn view_rows_reads_the_selected_rows() {
    let m = numbered(10, 3);
    for (start, end) in [(0, 10), (2, 5), (9, 10), (0, 0), (4, 4), (10, 10)] {
        let v = m.view_rows(start, end);
        assert_eq!(
            (v.rows(), v.cols(), v.is_transposed()),
            (end - start, 3, false)
        );
        let vt = v.t();
        assert_eq!(
            (vt.rows(), vt.cols(), vt.is_transposed()),
            (3, end - start, true)
        );
        for r in 0..end - start {
            for c in 0..3 {
                assert_eq!(v.get(r, c), m[(start + r, c)], "rows {start}..{end}");
                assert_eq!(
                    vt.get(c, r),
                    m[(start + r, c)],
                    "rows {start}..{end}, transposed"
                );
            }
        }
    }
}

#[test]
#[should_panic(expected = "view_rows: rows 2..5 out of range for a 4×3 matrix")]
fn view_rows_past_the_end_panics() {
    numbered(4, 3).view_rows(2, 5);
}

#[test]
#[should_panic(expected = "view_rows: rows 3..2 out of range for a 4×3 matrix")]
fn view_rows_with_start_after_end_panics() {
    numbered(4, 3).view_rows(3, 2);
}

#[test]
fn multiplying_a_row_range_equals_multiplying_the_selected_rows() {
    // As evaluation does: X[start..end]·W, and as a batch's weight gradient does:
    // X[start..end]ᵀ·δ. Integer data, so the results must match exactly. The ranges cross
    // the row block MC, and start mid-block.
    let mut rng = Rng::new(8);
    let ints = |rows, cols, rng: &mut Rng| {
        Matrix::<f32>::from_fn(rows, cols, |_, _| rng.below(17) as f32 - 8.0)
    };
    let x = ints(200, 131, &mut rng);
    let w = ints(131, 259, &mut rng);
    let d = ints(200, 259, &mut rng);
    for (start, end) in [(0, 200), (37, 170), (64, 128), (199, 200), (5, 5)] {
        let rows: Vec<usize> = (start..end).collect();
        let xs = x.select_rows(&rows);
        let ds = d.select_rows(&rows);

        let mut c = Matrix::zeros(1, 1);
        matmul::gemm(x.view_rows(start, end), w.view(), &mut c);
        assert_eq!(c, xs.matmul(&w), "rows {start}..{end}: X·W");
        assert_eq!(
            c,
            reference::gemm(xs.view(), w.view()),
            "rows {start}..{end}: X·W vs reference"
        );

        matmul::gemm(x.view_rows(start, end).t(), d.view_rows(start, end), &mut c);
        assert_eq!(c, xs.t_matmul(&ds), "rows {start}..{end}: Xᵀ·δ");
        assert_eq!(
            c,
            reference::gemm(xs.t(), ds.view()),
            "rows {start}..{end}: Xᵀ·δ vs reference"
        );

        matmul::gemm(d.view_rows(start, end), w.t(), &mut c);
        assert_eq!(c, ds.matmul_t(&w), "rows {start}..{end}: δ·Wᵀ");
    }
}

// ---------------------------------------------------------------------------------------
// Shape mismatches
// ---------------------------------------------------------------------------------------

#[test]
#[should_panic(expected = "matmul: cannot multiply 2×3 by 4×5: inner dimensions 3 and 4 differ")]
fn matmul_shape_mismatch_panics_naming_both_shapes() {
    Matrix::<f32>::zeros(2, 3).matmul(&Matrix::zeros(4, 5));
}

#[test]
#[should_panic(expected = "cannot multiply (3×2)ᵀ by 4×5: inner dimensions 3 and 4 differ")]
fn t_matmul_shape_mismatch_names_the_transposed_operand() {
    Matrix::<f32>::zeros(3, 2).t_matmul(&Matrix::zeros(4, 5));
}

#[test]
#[should_panic(expected = "cannot multiply 2×3 by (5×4)ᵀ: inner dimensions 3 and 4 differ")]
fn matmul_t_shape_mismatch_names_the_transposed_operand() {
    Matrix::<f64>::zeros(2, 3).matmul_t(&Matrix::zeros(5, 4));
}

#[test]
#[should_panic(expected = "cannot multiply (3×2)ᵀ by (5×4)ᵀ")]
fn blocked_gemm_shape_mismatch_panics() {
    let a = Matrix::<f32>::zeros(3, 2);
    let b = Matrix::<f32>::zeros(5, 4);
    blocked::gemm(a.t(), b.t(), &mut Matrix::zeros(0, 0));
}

#[test]
#[should_panic(expected = "cannot multiply 2×3 by 4×5")]
fn default_gemm_shape_mismatch_panics() {
    let a = Matrix::<f64>::zeros(2, 3);
    let b = Matrix::<f64>::zeros(4, 5);
    matmul::gemm(a.view(), b.view(), &mut Matrix::zeros(2, 5));
}

#[test]
#[should_panic(expected = "cannot multiply 2×3 by 4×5")]
fn reference_gemm_shape_mismatch_panics() {
    let a = Matrix::<f32>::zeros(2, 3);
    let b = Matrix::<f32>::zeros(4, 5);
    reference::gemm(a.view(), b.view());
}

#[test]
#[should_panic(expected = "cannot multiply 0×3 by 4×0")]
fn empty_matrices_of_mismatched_shapes_still_panic() {
    Matrix::<f32>::zeros(0, 3).matmul(&Matrix::zeros(4, 0));
}

#[test]
#[should_panic(expected = "cannot multiply 2×3 by 4×5")]
fn a_row_range_view_is_described_by_its_own_shape() {
    let x = Matrix::<f32>::zeros(10, 3);
    let w = Matrix::<f32>::zeros(4, 5);
    matmul::gemm(x.view_rows(4, 6), w.view(), &mut Matrix::zeros(0, 0));
}

#[test]
#[should_panic(expected = "cannot multiply 3×2 by 4×5")]
fn a_view_transposed_twice_is_described_as_stored() {
    let a = Matrix::<f32>::zeros(3, 2);
    let b = Matrix::<f32>::zeros(4, 5);
    matmul::gemm(a.t().t(), b.view(), &mut Matrix::zeros(0, 0));
}
