//! Tests of [`simplenn::Matrix`]: construction, shape, indexing, rows, element-wise
//! operations, reductions and formatting.
//!
//! `Matrix` is the one data structure of the crate, and a network silently computes
//! garbage if, say, `add_row` broadcast along the wrong axis or `column_sums` summed rows.
//! So every operation is checked against its definition, computed independently in the test
//! from plain indices (`m[(r, c)]` is itself checked against the row-major layout
//! `data[r * cols + c]` first). Integer-valued data keeps sums exact, so those comparisons
//! are exact. Edge cases that training meets in practice are covered: 0-row and 0-column
//! matrices, reused output buffers of the wrong shape, ties and NaN in `argmax_rows`.
//!
//! Shape mismatches are programmer errors and must panic with a message naming both shapes
//! (the crate's rule); the `should_panic` tests match the actual message text.

use simplenn::{Matrix, Rng};

/// A `rows × cols` matrix whose elements are distinct small integers: `(r, c)` holds
/// `10·r + c + 1`, so every element can be recognised and sums are exact.
fn numbered(rows: usize, cols: usize) -> Matrix<f64> {
    let data = (0..rows * cols)
        .map(|i| (10 * (i / cols) + i % cols + 1) as f64)
        .collect();
    Matrix::from_vec(rows, cols, data)
}

/// A matrix of small random integers in `-9..=9`, as floats.
fn random_ints(rows: usize, cols: usize, rng: &mut Rng) -> Matrix<f64> {
    Matrix::from_fn(rows, cols, |_, _| rng.below(19) as f64 - 9.0)
}

// ---------------------------------------------------------------------------------------
// Constructors and shape
// ---------------------------------------------------------------------------------------

#[test]
fn zeros_and_filled_have_their_shape_and_value() {
    let z = Matrix::<f32>::zeros(3, 4);
    assert_eq!(z.shape(), (3, 4));
    assert_eq!((z.rows(), z.cols(), z.len()), (3, 4, 12));
    assert!(!z.is_empty());
    assert!(z.as_slice().iter().all(|&x| x == 0.0));

    let f = Matrix::<f64>::filled(2, 5, -1.5);
    assert_eq!(f.shape(), (2, 5));
    assert_eq!(f.len(), 10);
    assert!(f.as_slice().iter().all(|&x| x == -1.5));
}

#[test]
fn matrices_with_a_zero_dimension_are_empty() {
    for (r, c) in [(0, 0), (0, 5), (5, 0)] {
        let m = Matrix::<f32>::zeros(r, c);
        assert_eq!(m.shape(), (r, c));
        assert_eq!(m.rows(), r);
        assert_eq!(m.cols(), c);
        assert_eq!(m.len(), 0);
        assert!(m.is_empty());
        assert!(m.as_slice().is_empty());
    }
}

#[test]
#[should_panic(expected = "more elements than usize can count")]
fn a_shape_whose_size_overflows_panics() {
    Matrix::<f32>::zeros(usize::MAX, 2);
}

#[test]
fn from_vec_is_row_major() {
    let m = Matrix::from_vec(2, 3, vec![1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0]);
    assert_eq!(m.shape(), (2, 3));
    for r in 0..2 {
        for c in 0..3 {
            assert_eq!(m[(r, c)], (3 * r + c + 1) as f32, "({r}, {c})");
        }
    }
    assert_eq!(m.as_slice(), &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    assert_eq!(m.clone().into_vec(), vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
}

#[test]
fn from_vec_accepts_empty_data_for_empty_shapes() {
    assert_eq!(Matrix::<f64>::from_vec(0, 7, vec![]).shape(), (0, 7));
    assert_eq!(Matrix::<f64>::from_vec(7, 0, vec![]).shape(), (7, 0));
}

#[test]
#[should_panic(expected = "Matrix::from_vec: a 2×3 matrix needs 6 elements, got 5")]
fn from_vec_with_too_few_elements_panics() {
    Matrix::from_vec(2, 3, vec![0.0f32; 5]);
}

#[test]
#[should_panic(expected = "Matrix::from_vec: a 2×3 matrix needs 6 elements, got 7")]
fn from_vec_with_too_many_elements_panics() {
    Matrix::from_vec(2, 3, vec![0.0f32; 7]);
}

#[test]
fn from_rows_builds_row_by_row() {
    let m = Matrix::<f64>::from_rows(&[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
    assert_eq!(
        m,
        Matrix::from_vec(2, 3, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    );

    // Rows given as Vecs or slices work too.
    let v = vec![vec![1.0f32], vec![2.0], vec![3.0]];
    assert_eq!(Matrix::from_rows(&v).shape(), (3, 1));
    let s: [&[f32]; 2] = [&[1.0, 2.0], &[3.0, 4.0]];
    assert_eq!(Matrix::from_rows(&s)[(1, 0)], 3.0);
}

#[test]
fn from_rows_of_nothing_and_of_empty_rows() {
    let none: [[f32; 3]; 0] = [];
    assert_eq!(Matrix::from_rows(&none).shape(), (0, 0));
    let empty_rows: [[f32; 0]; 4] = [[], [], [], []];
    assert_eq!(Matrix::from_rows(&empty_rows).shape(), (4, 0));
}

#[test]
#[should_panic(expected = "Matrix::from_rows: row 1 has 2 elements but row 0 has 3")]
fn from_rows_with_ragged_rows_panics() {
    let rows: Vec<Vec<f32>> = vec![vec![1.0, 2.0, 3.0], vec![4.0, 5.0]];
    Matrix::from_rows(&rows);
}

#[test]
#[should_panic(expected = "row 2 has 4 elements but row 0 has 3")]
fn from_rows_with_a_long_later_row_panics() {
    let rows: Vec<Vec<f32>> = vec![vec![0.0; 3], vec![0.0; 3], vec![0.0; 4]];
    Matrix::from_rows(&rows);
}

#[test]
fn from_fn_calls_f_with_each_position_in_row_major_order() {
    let mut calls = Vec::new();
    let m = Matrix::<f64>::from_fn(2, 3, |r, c| {
        calls.push((r, c));
        (10 * r + c) as f64
    });
    assert_eq!(calls, [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2)]);
    assert_eq!(m.as_slice(), &[0.0, 1.0, 2.0, 10.0, 11.0, 12.0]);
    assert_eq!(Matrix::<f32>::from_fn(0, 3, |_, _| 1.0).shape(), (0, 3));
}

#[test]
fn random_uniform_stays_in_range_and_fills_it() {
    let mut rng = Rng::new(1);
    let m = Matrix::<f64>::random_uniform(300, 100, -0.5, 2.0, &mut rng);
    assert_eq!(m.shape(), (300, 100));
    let (lo, hi) = min_max(m.as_slice());
    assert!(-0.5 <= lo && hi < 2.0, "[{lo}, {hi}]");
    // 30 000 samples: both extremes within 0.1% of the ends, except with probability ~10⁻¹³.
    assert!(lo < -0.5 + 2.5e-3 && hi > 2.0 - 2.5e-3, "[{lo}, {hi}]");
    // Mean 0.75, standard deviation 2.5/√12 = 0.72; standard error of the mean 0.0042.
    let mean = m.sum() / m.len() as f64;
    assert!((mean - 0.75).abs() < 6.0 * 0.0042, "mean {mean}");

    // In f32 each sample is rounded to the nearest f32; samples that round up onto `high`
    // are drawn again (see the next test).
    let m = Matrix::<f32>::random_uniform(300, 100, -0.5, 2.0, &mut rng);
    let (lo, hi) = min_max(m.as_slice());
    assert!(-0.5 <= lo && hi <= 2.0, "[{lo}, {hi}]");
}

/// `random_uniform` draws in `f64` and rounds to `f32`, so a sample just below `high` could
/// round to a value `>= high`: on `[1, 1 + 10⁻⁷)` about 40% of the samples would round up
/// to `1 + 2⁻²³`. Such samples must be redrawn to keep the documented `[low, high)`.
#[test]
fn random_uniform_f32_stays_below_high() {
    let (low, high) = (1.0, 1.0 + 1e-7);
    let m = Matrix::<f32>::random_uniform(1, 1000, low, high, &mut Rng::new(3));
    for &x in m.as_slice() {
        assert!(low <= f64::from(x) && f64::from(x) < high, "{x}");
    }
}

#[test]
fn random_normal_has_roughly_the_requested_mean_and_spread() {
    // 10⁵ samples of N(3, 0.5²): standard error of the mean 0.0016, of the standard
    // deviation 0.5/√(2·10⁵) = 0.0011. Allow 6.
    let mut rng = Rng::new(2);
    let m = Matrix::<f64>::random_normal(1000, 100, 3.0, 0.5, &mut rng);
    assert_eq!(m.shape(), (1000, 100));
    let n = m.len() as f64;
    let mean = m.sum() / n;
    let std = (m.as_slice().iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n).sqrt();
    assert!((mean - 3.0).abs() < 6.0 * 0.0016, "mean {mean}");
    assert!((std - 0.5).abs() < 6.0 * 0.0011, "std {std}");

    let m = Matrix::<f32>::random_normal(1000, 100, 0.0, 1.0, &mut rng);
    let mean = m.as_slice().iter().map(|&x| f64::from(x)).sum::<f64>() / n;
    assert!(mean.abs() < 6.0 * 0.0032, "mean {mean}");
}

#[test]
fn random_matrices_are_reproducible_from_the_seed() {
    let a = Matrix::<f32>::random_normal(20, 30, 0.0, 1.0, &mut Rng::new(5));
    let b = Matrix::<f32>::random_normal(20, 30, 0.0, 1.0, &mut Rng::new(5));
    let c = Matrix::<f32>::random_normal(20, 30, 0.0, 1.0, &mut Rng::new(6));
    assert_eq!(a, b);
    assert_ne!(a, c);
}

fn min_max<T: PartialOrd + Copy>(xs: &[T]) -> (T, T) {
    let mut lo = xs[0];
    let mut hi = xs[0];
    for &x in xs {
        if x < lo {
            lo = x;
        }
        if x > hi {
            hi = x;
        }
    }
    (lo, hi)
}

// ---------------------------------------------------------------------------------------
// Indexing and rows
// ---------------------------------------------------------------------------------------

#[test]
fn index_and_index_mut_address_row_major_storage() {
    let mut m = numbered(3, 4);
    for r in 0..3 {
        for c in 0..4 {
            assert_eq!(m[(r, c)], m.as_slice()[r * 4 + c]);
            assert_eq!(m[(r, c)], (10 * r + c + 1) as f64);
        }
    }
    m[(2, 1)] = -7.0;
    assert_eq!(m.as_slice()[9], -7.0);
    m[(0, 3)] += 100.0;
    assert_eq!(m[(0, 3)], 104.0);
    // Nothing else changed.
    let untouched = (0..12).filter(|&i| i != 9 && i != 3);
    for i in untouched {
        assert_eq!(m.as_slice()[i], numbered(3, 4).as_slice()[i]);
    }
    m.as_mut_slice()[0] = 0.5;
    assert_eq!(m[(0, 0)], 0.5);
}

#[test]
#[should_panic(expected = "index (2, 0) out of range for a 2×3 matrix")]
fn index_with_a_row_out_of_range_panics() {
    let m = Matrix::<f32>::zeros(2, 3);
    let _ = m[(2, 0)];
}

#[test]
#[should_panic(expected = "index (0, 3) out of range for a 2×3 matrix")]
fn index_with_a_column_out_of_range_panics_rather_than_reading_the_next_row() {
    // (0, 3) would be data[3] = element (1, 0) without the column check.
    let m = Matrix::<f32>::zeros(2, 3);
    let _ = m[(0, 3)];
}

#[test]
#[should_panic(expected = "index (1, 5) out of range for a 2×3 matrix")]
fn index_mut_out_of_range_panics() {
    let mut m = Matrix::<f32>::zeros(2, 3);
    m[(1, 5)] = 1.0;
}

#[test]
fn row_row_mut_and_row_iter_give_the_rows() {
    let mut m = numbered(3, 4);
    assert_eq!(m.row(0), &[1.0, 2.0, 3.0, 4.0]);
    assert_eq!(m.row(2), &[21.0, 22.0, 23.0, 24.0]);
    m.row_mut(1).copy_from_slice(&[-1.0, -2.0, -3.0, -4.0]);
    assert_eq!(m[(1, 2)], -3.0);
    assert_eq!(m.row(0), &[1.0, 2.0, 3.0, 4.0]);
    assert_eq!(m.row(2), &[21.0, 22.0, 23.0, 24.0]);

    let rows: Vec<&[f64]> = m.row_iter().collect();
    assert_eq!(m.row_iter().len(), 3);
    assert_eq!(rows.len(), 3);
    for (r, row) in rows.iter().enumerate() {
        assert_eq!(*row, m.row(r));
    }
}

#[test]
fn rows_of_a_matrix_with_no_columns_are_empty() {
    let mut m = Matrix::<f32>::zeros(4, 0);
    assert_eq!(m.row_iter().len(), 4);
    assert!(m.row_iter().all(|row| row.is_empty()));
    assert!(m.row(3).is_empty());
    assert!(m.row_mut(3).is_empty());
}

#[test]
fn a_matrix_with_no_rows_has_no_rows_to_iterate() {
    let m = Matrix::<f32>::zeros(0, 5);
    assert_eq!(m.row_iter().len(), 0);
    assert_eq!(m.row_iter().count(), 0);
}

#[test]
#[should_panic(expected = "row 3 out of range for a 3×2 matrix")]
fn row_out_of_range_panics() {
    Matrix::<f32>::zeros(3, 2).row(3);
}

#[test]
#[should_panic(expected = "row 0 out of range for a 0×5 matrix")]
fn row_of_a_matrix_with_no_rows_panics() {
    Matrix::<f32>::zeros(0, 5).row(0);
}

#[test]
#[should_panic(expected = "row 7 out of range for a 3×2 matrix")]
fn row_mut_out_of_range_panics() {
    Matrix::<f32>::zeros(3, 2).row_mut(7);
}

#[test]
fn reset_changes_the_shape_and_zeroes_every_element() {
    let mut m = Matrix::<f32>::filled(4, 5, 9.0);
    for (r, c) in [(2, 3), (10, 10), (0, 4), (3, 0), (4, 5), (1, 1)] {
        m.as_mut_slice().fill(9.0);
        m.reset(r, c);
        assert_eq!(m.shape(), (r, c));
        assert_eq!(m.len(), r * c);
        assert!(m.as_slice().iter().all(|&x| x == 0.0), "{r}×{c}");
    }
}

#[test]
fn gather_rows_into_copies_the_listed_rows_in_order_into_any_buffer() {
    let m = numbered(5, 3);
    let indices = [4, 0, 0, 2];
    // A buffer of the wrong shape with old contents: none of them may survive.
    let mut out = Matrix::filled(7, 2, f64::NAN);
    m.gather_rows_into(&indices, &mut out);
    assert_eq!(out.shape(), (4, 3));
    for (i, &src) in indices.iter().enumerate() {
        for c in 0..3 {
            assert_eq!(out[(i, c)], m[(src, c)], "row {i} column {c}");
        }
    }
    assert_eq!(out, m.select_rows(&indices));

    // Reusing the buffer for a smaller batch.
    m.gather_rows_into(&[1], &mut out);
    assert_eq!(out, Matrix::from_vec(1, 3, vec![11.0, 12.0, 13.0]));
    // And for none at all.
    m.gather_rows_into(&[], &mut out);
    assert_eq!(out.shape(), (0, 3));
}

#[test]
fn select_rows_of_a_permutation_permutes_the_rows() {
    let m = numbered(6, 2);
    let mut order: Vec<usize> = (0..6).collect();
    Rng::new(3).shuffle(&mut order);
    let p = m.select_rows(&order);
    for (i, &src) in order.iter().enumerate() {
        assert_eq!(p.row(i), m.row(src));
    }
    // Selecting with the identity gives the matrix back.
    assert_eq!(m.select_rows(&[0, 1, 2, 3, 4, 5]), m);
}

#[test]
#[should_panic(expected = "row 5 out of range for a 3×2 matrix")]
fn select_rows_out_of_range_panics() {
    Matrix::<f32>::zeros(3, 2).select_rows(&[0, 5]);
}

// ---------------------------------------------------------------------------------------
// Transpose and cast
// ---------------------------------------------------------------------------------------

#[test]
fn transpose_swaps_rows_and_columns() {
    for (r, c) in [(1, 1), (2, 3), (7, 1), (1, 9), (0, 3), (3, 0), (13, 17)] {
        let m = numbered(r, c);
        let t = m.transpose();
        assert_eq!(t.shape(), (c, r));
        for i in 0..r {
            for j in 0..c {
                assert_eq!(t[(j, i)], m[(i, j)], "{r}×{c} at ({i}, {j})");
            }
        }
        assert_eq!(t.transpose(), m, "{r}×{c}: transposing twice");
    }
}

#[test]
fn cast_converts_every_element_with_rounding_to_nearest() {
    let mut rng = Rng::new(4);
    let m = Matrix::<f64>::random_normal(10, 10, 0.0, 1.0, &mut rng);
    let small: Matrix<f32> = m.cast();
    assert_eq!(small.shape(), (10, 10));
    for (&s, &x) in small.as_slice().iter().zip(m.as_slice()) {
        assert_eq!(s, x as f32); // `as` rounds to nearest
    }
    // f32 → f64 is exact, so the round trip f32 → f64 → f32 is the identity.
    let back: Matrix<f64> = small.cast();
    for (&b, &s) in back.as_slice().iter().zip(small.as_slice()) {
        assert_eq!(b, f64::from(s));
    }
    assert_eq!(back.cast::<f32>(), small);
    // Casting to the same type changes nothing.
    assert_eq!(m.cast::<f64>(), m);
    assert_eq!(Matrix::<f64>::zeros(0, 4).cast::<f32>().shape(), (0, 4));
}

// ---------------------------------------------------------------------------------------
// Element-wise operations
// ---------------------------------------------------------------------------------------

/// Checks `got[i] == f(a[i], b[i])` at every position, and the shape.
fn assert_elementwise(got: &Matrix<f64>, a: &Matrix<f64>, b: &Matrix<f64>, f: fn(f64, f64) -> f64) {
    assert_eq!(got.shape(), a.shape());
    for r in 0..a.rows() {
        for c in 0..a.cols() {
            let want = f(a[(r, c)], b[(r, c)]);
            assert_eq!(got[(r, c)], want, "at ({r}, {c})");
        }
    }
}

#[test]
fn map_and_map_inplace_apply_f_to_every_element() {
    let m = numbered(3, 4);
    let squared = m.map(|x| x * x);
    assert_elementwise(&squared, &m, &m, |x, _| x * x);
    let mut n = m.clone();
    n.map_inplace(|x| 1.0 - x);
    assert_elementwise(&n, &m, &m, |x, _| 1.0 - x);
    assert_eq!(Matrix::<f32>::zeros(0, 3).map(|x| x + 1.0).shape(), (0, 3));
}

#[test]
fn zip_map_add_sub_and_hadamard_work_element_by_element() {
    let mut rng = Rng::new(7);
    let a = random_ints(5, 7, &mut rng);
    let b = random_ints(5, 7, &mut rng);
    assert_elementwise(&a.zip_map(&b, |x, y| 2.0 * x - y), &a, &b, |x, y| {
        2.0 * x - y
    });
    assert_elementwise(&a.add(&b), &a, &b, |x, y| x + y);
    assert_elementwise(&a.sub(&b), &a, &b, |x, y| x - y);
    assert_elementwise(&a.hadamard(&b), &a, &b, |x, y| x * y);
    // a − b ≠ b − a: the operands are not swapped.
    assert_elementwise(&b.sub(&a), &b, &a, |x, y| x - y);
}

#[test]
fn scale_and_add_scaled() {
    let mut rng = Rng::new(8);
    let a = random_ints(4, 6, &mut rng);
    let b = random_ints(4, 6, &mut rng);

    let mut s = a.clone();
    s.scale(-3.0);
    assert_elementwise(&s, &a, &b, |x, _| -3.0 * x);

    let mut y = a.clone();
    y.add_scaled(0.5, &b);
    assert_elementwise(&y, &a, &b, |x, z| x + 0.5 * z);
}

#[test]
fn add_row_broadcasts_the_row_down_every_row() {
    let mut m = numbered(3, 4);
    let bias = [0.5, -1.0, 100.0, 0.0];
    m.add_row(&bias);
    let orig = numbered(3, 4);
    for r in 0..3 {
        for c in 0..4 {
            assert_eq!(m[(r, c)], orig[(r, c)] + bias[c], "({r}, {c})");
        }
    }
    // A 0-row matrix: nothing to do, and no panic.
    let mut empty = Matrix::<f64>::zeros(0, 4);
    empty.add_row(&bias);
    assert_eq!(empty.shape(), (0, 4));
}

#[test]
#[should_panic(expected = "add_row: a row of length 3 cannot be added to a 2×4 matrix")]
fn add_row_of_the_wrong_length_panics() {
    Matrix::<f32>::zeros(2, 4).add_row(&[1.0, 2.0, 3.0]);
}

#[test]
#[should_panic(expected = "zip_map: shapes differ: 2×3 vs 3×2")]
fn zip_map_shape_mismatch_panics() {
    Matrix::<f32>::zeros(2, 3).zip_map(&Matrix::zeros(3, 2), |a, b| a + b);
}

#[test]
#[should_panic(expected = "add: shapes differ: 2×3 vs 3×2")]
fn add_shape_mismatch_panics() {
    Matrix::<f32>::zeros(2, 3).add(&Matrix::zeros(3, 2));
}

#[test]
#[should_panic(expected = "sub: shapes differ: 2×3 vs 2×4")]
fn sub_shape_mismatch_panics() {
    Matrix::<f32>::zeros(2, 3).sub(&Matrix::zeros(2, 4));
}

#[test]
#[should_panic(expected = "hadamard: shapes differ: 1×6 vs 6×1")]
fn hadamard_shape_mismatch_panics() {
    // Same number of elements, different shapes: still a mismatch.
    Matrix::<f32>::zeros(1, 6).hadamard(&Matrix::zeros(6, 1));
}

#[test]
#[should_panic(expected = "add_scaled: shapes differ: 2×3 vs 0×0")]
fn add_scaled_shape_mismatch_panics() {
    Matrix::<f32>::zeros(2, 3).add_scaled(1.0, &Matrix::zeros(0, 0));
}

#[test]
#[should_panic(expected = "max_abs_diff: shapes differ: 4×1 vs 1×4")]
fn max_abs_diff_shape_mismatch_panics() {
    Matrix::<f32>::zeros(4, 1).max_abs_diff(&Matrix::zeros(1, 4));
}

// ---------------------------------------------------------------------------------------
// Reductions
// ---------------------------------------------------------------------------------------

#[test]
fn column_sums_row_sums_and_sum_match_their_definitions() {
    let mut rng = Rng::new(9);
    for (rows, cols) in [(1, 1), (3, 5), (64, 10), (1, 20), (20, 1)] {
        let m = random_ints(rows, cols, &mut rng);
        let want_cols: Vec<f64> = (0..cols)
            .map(|c| (0..rows).map(|r| m[(r, c)]).sum())
            .collect();
        let want_rows: Vec<f64> = (0..rows)
            .map(|r| (0..cols).map(|c| m[(r, c)]).sum())
            .collect();
        assert_eq!(m.column_sums(), want_cols, "{rows}×{cols}");
        assert_eq!(m.row_sums(), want_rows, "{rows}×{cols}");
        assert_eq!(m.sum(), want_rows.iter().sum::<f64>(), "{rows}×{cols}");
    }
    // A distinguishable example: column sums and row sums of a 2×3 are not confused.
    let m = Matrix::<f32>::from_rows(&[[1.0, 2.0, 3.0], [10.0, 20.0, 30.0]]);
    assert_eq!(m.column_sums(), vec![11.0, 22.0, 33.0]);
    assert_eq!(m.row_sums(), vec![6.0, 60.0]);
    assert_eq!(m.sum(), 66.0);
}

#[test]
fn reductions_of_empty_matrices_are_empty_sums() {
    assert_eq!(Matrix::<f32>::zeros(0, 3).column_sums(), vec![0.0; 3]);
    assert_eq!(Matrix::<f32>::zeros(0, 3).row_sums(), Vec::<f32>::new());
    assert_eq!(Matrix::<f32>::zeros(3, 0).row_sums(), vec![0.0; 3]);
    assert_eq!(Matrix::<f32>::zeros(3, 0).column_sums(), Vec::<f32>::new());
    assert_eq!(Matrix::<f32>::zeros(0, 0).sum(), 0.0);
}

#[test]
fn column_sums_into_overwrites_the_old_contents() {
    let m = numbered(4, 3);
    let mut sums = vec![f64::NAN, 1e30, -5.0];
    m.column_sums_into(&mut sums);
    assert_eq!(sums, vec![64.0, 68.0, 72.0]); // 1+11+21+31, 2+12+22+32, 3+13+23+33
    assert_eq!(sums, m.column_sums());
}

#[test]
#[should_panic(expected = "column_sums_into: 2 slots for the 3 columns of a 4×3 matrix")]
fn column_sums_into_a_slice_of_the_wrong_length_panics() {
    Matrix::<f32>::zeros(4, 3).column_sums_into(&mut [0.0; 2]);
}

#[test]
fn argmax_rows_finds_the_largest_and_the_first_on_ties() {
    let m = Matrix::<f32>::from_rows(&[
        [0.1, 0.7, 0.2],
        [5.0, -1.0, 4.9],
        [-3.0, -2.0, -1.0],
        [1.0, 1.0, 0.0],                               // tie → 0
        [0.0, 2.0, 2.0],                               // tie → 1
        [7.0, 7.0, 7.0],                               // all equal → 0
        [f32::NEG_INFINITY, f32::NEG_INFINITY, -1e38], // -inf < finite
        [0.0, -0.0, 0.0],                              // 0 and -0 compare equal → 0
        [1.0, f32::INFINITY, f32::MAX],
    ]);
    assert_eq!(m.argmax_rows(), vec![1, 0, 2, 0, 1, 0, 2, 0, 1]);
}

/// The first index of the largest non-NaN element, or `None` if all are NaN.
fn first_max_ignoring_nan(xs: &[f64]) -> Option<usize> {
    let mut best: Option<usize> = None;
    for (i, &x) in xs.iter().enumerate() {
        if !x.is_nan() && best.is_none_or(|b| x > xs[b]) {
            best = Some(i);
        }
    }
    best
}

#[test]
fn argmax_rows_never_chooses_nan_over_a_number() {
    // Every row of length 4 over the values {NaN, 0, 1, 2, −1}, with repeats (so ties and
    // NaN in every position occur), compared with a direct definition.
    let values = [f64::NAN, 0.0, 1.0, 2.0, -1.0];
    let mut rows = Vec::new();
    for a in values {
        for b in values {
            for c in values {
                for d in values {
                    rows.push([a, b, c, d]);
                }
            }
        }
    }
    let m = Matrix::<f64>::from_rows(&rows);
    let got = m.argmax_rows();
    for (row, &g) in rows.iter().zip(&got) {
        assert!(g < 4, "{row:?}: index {g} out of range");
        if let Some(want) = first_max_ignoring_nan(row) {
            assert_eq!(g, want, "{row:?}");
        }
    }
    // A row of NaN alone still yields an index in range.
    let all_nan = Matrix::<f32>::filled(2, 3, f32::NAN);
    assert!(all_nan.argmax_rows().iter().all(|&i| i < 3));
}

#[test]
fn argmax_rows_of_empty_matrices() {
    assert_eq!(
        Matrix::<f32>::zeros(0, 0).argmax_rows(),
        Vec::<usize>::new()
    );
    assert_eq!(
        Matrix::<f32>::zeros(0, 4).argmax_rows(),
        Vec::<usize>::new()
    );
    assert_eq!(Matrix::<f32>::zeros(3, 1).argmax_rows(), vec![0, 0, 0]);
}

#[test]
#[should_panic(expected = "argmax_rows of a 3×0 matrix: no column to choose")]
fn argmax_rows_with_rows_but_no_columns_panics() {
    Matrix::<f32>::zeros(3, 0).argmax_rows();
}

#[test]
fn max_abs_diff_is_the_largest_absolute_difference() {
    let a = Matrix::<f64>::from_rows(&[[1.0, 2.0], [3.0, 4.0]]);
    let b = Matrix::<f64>::from_rows(&[[1.0, 2.5], [0.0, 4.0]]);
    assert_eq!(a.max_abs_diff(&b), 3.0);
    assert_eq!(b.max_abs_diff(&a), 3.0);
    assert_eq!(a.max_abs_diff(&a), 0.0);
    let c = Matrix::<f64>::from_rows(&[[1.0, 2.0], [3.0, 4.25]]);
    assert_eq!(a.max_abs_diff(&c), 0.25);
    assert_eq!(
        Matrix::<f32>::zeros(0, 3).max_abs_diff(&Matrix::zeros(0, 3)),
        0.0
    );
    let inf = Matrix::<f64>::from_rows(&[[1.0, f64::INFINITY], [3.0, 4.0]]);
    assert_eq!(a.max_abs_diff(&inf), f64::INFINITY);
}

/// Under `Float::max` NaN loses to a number; `max_abs_diff` must not inherit that, or two
/// matrices that differ by NaN would look equal and `assert!(a.max_abs_diff(&b) < tol)`
/// would pass on NaN.
#[test]
fn max_abs_diff_does_not_hide_nan() {
    let a = Matrix::<f64>::from_rows(&[[1.0, 2.0]]);
    let b = Matrix::<f64>::from_rows(&[[1.0, f64::NAN]]);
    let d = a.max_abs_diff(&b);
    assert!(
        d.is_nan() || d >= 1e-12,
        "max_abs_diff = {d} for matrices differing by NaN"
    );
}

// ---------------------------------------------------------------------------------------
// Equality and formatting
// ---------------------------------------------------------------------------------------

#[test]
fn equality_compares_shape_as_well_as_elements() {
    let a = Matrix::<f32>::from_vec(2, 3, vec![1.0; 6]);
    assert_eq!(a, a.clone());
    assert_ne!(a, Matrix::from_vec(3, 2, vec![1.0; 6]));
    assert_ne!(
        a,
        Matrix::from_vec(2, 3, vec![1.0, 1.0, 1.0, 1.0, 1.0, 2.0])
    );
    assert_ne!(Matrix::<f32>::zeros(0, 3), Matrix::zeros(3, 0));
}

#[test]
fn debug_shows_the_type_the_shape_and_small_matrices_in_full() {
    let m = Matrix::<f32>::from_rows(&[[1.0, 2.5, -3.0], [4.0, 5.0, 6.0]]);
    let s = format!("{m:?}");
    assert!(s.contains("f32"), "{s}");
    assert!(s.contains("2×3"), "{s}");
    for x in ["1", "2.5", "-3", "4", "5", "6"] {
        assert!(s.contains(x), "{s} lacks {x}");
    }
    assert!(!s.contains('…'), "{s}");

    let e = format!("{:?}", Matrix::<f64>::zeros(0, 7));
    assert!(e.contains("f64") && e.contains("0×7"), "{e}");
}

#[test]
fn debug_elides_large_matrices() {
    // Element (r, c) is r·1000 + c + 0.5: each one prints as a distinct string.
    let m = Matrix::<f64>::from_fn(100, 200, |r, c| (r * 1000 + c) as f64 + 0.5);
    let s = format!("{m:?}");
    assert!(s.contains("100×200"), "{s}");
    assert!(s.contains('…'), "{s}");
    assert!(s.contains("0.5"), "the first element is shown: {s}");
    assert!(!s.contains("99199.5"), "the last element is elided: {s}");
    assert!(!s.contains("50100.5"), "a middle element is elided: {s}");
    assert!(s.len() < 1000, "{} characters: {s}", s.len());
}
