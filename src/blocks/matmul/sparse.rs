//! Products with a matrix whose zeros are left out: the fastest multiply is the one not done.
//!
//! A [`SparseRows`] keeps a batch's nonzeros by row, for the forward product `X·W`, and by
//! column, for the weight gradient `Xᵀ·δ`. Skipping terms that are exactly `0 · w` changes
//! only the order in which the others are added, so results agree with the dense product's
//! to rounding; threads split the output rows, never a sum. Full-batch training
//! ([`Batch::Full`](crate::train::Batch::Full)) uses it for a first dense layer whose inputs
//! are at most [`WORTH_IT`] nonzero; the book's chapter "Making it fast" measures it.
//!
//! ```
//! use simplenn::Matrix;
//! use simplenn::matmul::sparse::SparseRows;
//!
//! let x = Matrix::from_vec(2, 3, vec![0.0, 2.0, 0.0, 1.0, 0.0, 0.0]);
//! let w = Matrix::from_vec(3, 2, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
//! let sparse = SparseRows::from_view(x.view());
//! assert_eq!(sparse.nonzeros(), 2);
//! let mut z = Matrix::zeros(0, 0);
//! sparse.matmul_into(w.view(), &mut z);
//! assert_eq!(z, x.matmul(&w));
//! let delta = Matrix::from_vec(2, 2, vec![1.0, -1.0, 0.5, 2.0]);
//! sparse.t_matmul_into(delta.view(), &mut z);
//! assert_eq!(z, x.t_matmul(&delta));
//! ```

use super::kernels::sparse::{CombineFn, LANES, combine_fn};
use super::{MIN_FLOPS_PER_THREAD, View, give_back, kernel, pool, take_buffer, threads};
use crate::blocks::matrix::Matrix;
use crate::float::Float;

/// The largest fraction of nonzeros at which full-batch training reads a first dense
/// layer's inputs as a [`SparseRows`]. Measured with the criterion bench `layers -- sparse`
/// (10,000 rows of 784, times 784 × 10, one thread, AVX-512 kernel on Zen 5): at MNIST's 19%
/// nonzeros the sparse forward product took 0.44 of the dense one's time and the weight
/// gradient 0.23; at 50% the forward took 1.29 times as long and the gradient 0.80, the two
/// together breaking even.
///
/// Mini-batches stay dense unless `SIMPLENN_SPARSE=on`: they would pay for
/// [`SparseRows::fill`] at every step, and on MNIST's default recipe that gained 9% of an
/// epoch on one thread and nothing on two.
pub const WORTH_IT: f64 = 0.35;

/// `SIMPLENN_SPARSE=off` or `on`: `Some(false)` or `Some(true)`, to make training read every
/// batch dense, or every batch sparse whatever its density and size, to compare the two;
/// `None` (full batches at most [`WORTH_IT`] nonzero are sparse) when unset or anything
/// else.
pub fn forced() -> Option<bool> {
    static FORCED: std::sync::OnceLock<Option<bool>> = std::sync::OnceLock::new();
    *FORCED.get_or_init(
        || match std::env::var("SIMPLENN_SPARSE").as_deref().map(str::trim) {
            Ok("off") => Some(false),
            Ok("on") => Some(true),
            _ => None,
        },
    )
}

// ANCHOR: sparse_rows
/// A matrix stored as its nonzeros, by row and by column; see the [module docs](self).
#[derive(Clone, Debug)]
pub struct SparseRows<T> {
    rows: usize,
    cols: usize,
    /// Row `r`'s nonzeros are entries `row_start[r]..row_start[r + 1]` of `row_col` (their
    /// columns, increasing) and `row_value`.
    row_start: Vec<usize>,
    row_col: Vec<u32>,
    row_value: Vec<T>,
    /// Column `c`'s nonzeros are entries `col_start[c]..col_start[c + 1]` of `col_row` (their
    /// rows, increasing) and `col_value`.
    col_start: Vec<usize>,
    col_row: Vec<u32>,
    col_value: Vec<T>,
}
// ANCHOR_END: sparse_rows

impl<T: Float> Default for SparseRows<T> {
    fn default() -> Self {
        SparseRows::new()
    }
}

impl<T: Float> SparseRows<T> {
    /// An empty 0×0 matrix, to [`fill`](Self::fill) later.
    pub fn new() -> Self {
        SparseRows {
            rows: 0,
            cols: 0,
            row_start: vec![0],
            row_col: Vec::new(),
            row_value: Vec::new(),
            col_start: vec![0],
            col_row: Vec::new(),
            col_value: Vec::new(),
        }
    }

    /// The nonzeros of `x`.
    ///
    /// # Panics
    /// If `x` has 2³² rows or columns or more.
    pub fn from_view(x: View<'_, T>) -> Self {
        let mut sparse = SparseRows::new();
        sparse.fill(x);
        sparse
    }

    /// Replaces the contents with the nonzeros of `x`, reusing the allocations: what a
    /// training loop does once per batch.
    ///
    /// # Panics
    /// If `x` has 2³² rows or columns or more.
    pub fn fill(&mut self, x: View<'_, T>) {
        let (rows, cols) = (x.rows(), x.cols());
        assert!(
            u32::try_from(rows.max(cols)).is_ok(),
            "SparseRows: a {rows}×{cols} matrix has too many rows or columns for 32-bit indices"
        );
        (self.rows, self.cols) = (rows, cols);
        self.row_start.clear();
        self.row_start.push(0);
        self.row_col.clear();
        self.row_value.clear();
        let mut row = vec![T::ZERO; if x.contiguous().is_some() { 0 } else { cols }];
        for r in 0..rows {
            let values: &[T] = match x.contiguous() {
                Some(data) => &data[r * cols..(r + 1) * cols],
                None => {
                    for (c, v) in row.iter_mut().enumerate() {
                        *v = x.get(r, c);
                    }
                    &row
                }
            };
            // Sixteen at a time: a mask of the nonzeros (one compare the compiler vectorises),
            // then one push per set bit; a run of sixteen zeros costs one test.
            let mut groups = values.chunks_exact(16);
            for (g, group) in groups.by_ref().enumerate() {
                let mut mask = 0u32;
                for (j, &v) in group.iter().enumerate() {
                    mask |= u32::from(v != T::ZERO) << j;
                }
                while mask != 0 {
                    let j = mask.trailing_zeros() as usize;
                    self.row_col.push((g * 16 + j) as u32);
                    self.row_value.push(group[j]);
                    mask &= mask - 1;
                }
            }
            let tail = cols - groups.remainder().len();
            for (j, &v) in groups.remainder().iter().enumerate() {
                if v != T::ZERO {
                    self.row_col.push((tail + j) as u32);
                    self.row_value.push(v);
                }
            }
            let end = self.row_col.len();
            self.row_start.push(end);
        }
        // The same entries by column: count each column's, then place them, visiting the
        // rows in order so that each column's rows come out increasing.
        self.col_start.clear();
        self.col_start.resize(cols + 1, 0);
        for &c in &self.row_col {
            self.col_start[c as usize + 1] += 1;
        }
        for c in 0..cols {
            self.col_start[c + 1] += self.col_start[c];
        }
        let nonzeros = self.row_col.len();
        self.col_row.resize(nonzeros, 0);
        self.col_value.resize(nonzeros, T::ZERO);
        let mut next = self.col_start[..cols].to_vec();
        for r in 0..rows {
            let entries = self.row_start[r]..self.row_start[r + 1];
            for (&c, &v) in self.row_col[entries.clone()]
                .iter()
                .zip(&self.row_value[entries])
            {
                let at = &mut next[c as usize];
                self.col_row[*at] = r as u32;
                self.col_value[*at] = v;
                *at += 1;
            }
        }
    }

    /// Rows of the matrix.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Columns of the matrix.
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// How many elements are not zero.
    pub fn nonzeros(&self) -> usize {
        self.row_col.len()
    }

    /// The fraction of elements that are not zero (0 for an empty matrix).
    pub fn density(&self) -> f64 {
        let all = self.rows * self.cols;
        if all == 0 {
            0.0
        } else {
            self.nonzeros() as f64 / all as f64
        }
    }

    /// Row `r`'s nonzeros, as `(columns, values)`.
    pub fn row(&self, r: usize) -> (&[u32], &[T]) {
        let entries = self.row_start[r]..self.row_start[r + 1];
        (&self.row_col[entries.clone()], &self.row_value[entries])
    }

    /// Column `c`'s nonzeros, as `(rows, values)`.
    pub fn col(&self, c: usize) -> (&[u32], &[T]) {
        let entries = self.col_start[c]..self.col_start[c + 1];
        (&self.col_row[entries.clone()], &self.col_value[entries])
    }

    /// The dense matrix again.
    pub fn to_matrix(&self) -> Matrix<T> {
        let mut m = Matrix::zeros(self.rows, self.cols);
        for r in 0..self.rows {
            let (cols, values) = self.row(r);
            for (&c, &v) in cols.iter().zip(values) {
                m.row_mut(r)[c as usize] = v;
            }
        }
        m
    }

    // ANCHOR: sparse_matmul
    /// `out = X·B` (`rows × B.cols()`), one row of `out` per row of `X`: the rows of `B` its
    /// nonzeros pick, scaled and summed.
    ///
    /// # Panics
    /// If `B` does not have `self.cols()` rows; the message names both shapes.
    pub fn matmul_into(&self, b: View<'_, T>, out: &mut Matrix<T>) {
        assert_eq!(
            b.rows(),
            self.cols,
            "sparse matmul: cannot multiply a sparse {}×{} matrix by a {}×{} one",
            self.rows,
            self.cols,
            b.rows(),
            b.cols()
        );
        combine_all(b, out, &self.row_start, &self.row_col, &self.row_value);
    }

    /// `out = Xᵀ·B` (`cols × B.cols()`), one row of `out` per column of `X`: the rows of `B`
    /// of the samples in which that column is not zero, scaled and summed. `Xᵀ` is never
    /// formed; the matrix was kept by column too.
    ///
    /// # Panics
    /// If `B` does not have `self.rows()` rows; the message names both shapes.
    pub fn t_matmul_into(&self, b: View<'_, T>, out: &mut Matrix<T>) {
        assert_eq!(
            b.rows(),
            self.rows,
            "sparse t_matmul: cannot multiply the transpose of a sparse {}×{} matrix by a {}×{} one",
            self.rows,
            self.cols,
            b.rows(),
            b.cols()
        );
        combine_all(b, out, &self.col_start, &self.col_row, &self.col_value);
    }
    // ANCHOR_END: sparse_matmul
}

/// Writes the rows of `out`, one per entry of `starts` but the last: row `i` the
/// combination of the rows of `b` that entries `starts[i]..starts[i + 1]` of `index` and
/// `values` name, on as many threads as the work is worth, each a band of whole rows chosen
/// so that the bands hold about the same number of terms.
fn combine_all<T: Float>(
    b: View<'_, T>,
    out: &mut Matrix<T>,
    starts: &[usize],
    index: &[u32],
    values: &[T],
) {
    let lines = starts.len() - 1;
    let line = |i: usize| {
        let entries = starts[i]..starts[i + 1];
        (&index[entries.clone()], &values[entries])
    };
    let n = b.cols();
    out.reshape_for_overwrite(lines, n);
    if n == 0 {
        return;
    }
    // The kernel reads rows of `b` whole blocks of 16 at a time: padded to a stride that is
    // a multiple of 16, unless they already are.
    let stride = n.next_multiple_of(LANES);
    let mut padded = None;
    let dense: &[T] = match b.contiguous() {
        Some(data) if n == stride => data,
        _ => {
            let mut buf = take_buffer(b.rows() * stride);
            for (r, row) in buf.chunks_exact_mut(stride).enumerate() {
                for (c, v) in row.iter_mut().enumerate() {
                    *v = if c < n { b.get(r, c) } else { T::ZERO };
                }
            }
            padded.insert(buf).as_slice()
        }
    };
    let combine: CombineFn<T> = combine_fn(kernel());
    let terms = starts[lines] - starts[0];
    let workers = threads()
        .min(2 * terms * n / MIN_FLOPS_PER_THREAD)
        .min(lines)
        .max(1);
    let out = out.as_mut_slice();
    let run = &|first: usize, band: &mut [T]| {
        for (i, row) in band.chunks_exact_mut(n).enumerate() {
            let (index, values) = line(first + i);
            combine(index, values, dense, stride, row);
        }
    };
    if workers == 1 {
        run(0, out);
    } else {
        // Band boundaries where the running count of terms passes each worker's share.
        let mut bounds = vec![0];
        for (i, &end) in starts[1..].iter().enumerate() {
            let done = end - starts[0];
            if done * workers >= terms * bounds.len() && bounds.len() < workers {
                bounds.push(i + 1);
            }
        }
        bounds.push(lines);
        pool::scope(workers - 1, |scope| {
            let mut rest = &mut *out;
            let mut mine = None;
            for w in bounds.windows(2) {
                let (band, tail) = rest.split_at_mut((w[1] - w[0]) * n);
                rest = tail;
                let first = w[0];
                if mine.is_none() {
                    mine = Some((first, band));
                } else {
                    scope.spawn(move || run(first, band));
                }
            }
            if let Some((first, band)) = mine {
                run(first, band);
            }
        });
    }
    if let Some(buf) = padded {
        give_back(buf);
    }
}
