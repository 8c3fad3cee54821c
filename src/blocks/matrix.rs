//! [`Matrix`]: a dense, row-major matrix, the one data structure of the crate.
//!
//! A batch holds **one sample per row**, contiguous in memory. Shape mismatches are
//! programmer errors, like an out-of-bounds index: every operation that needs two shapes to
//! agree panics with a message naming both. The book's chapter "The matrix" says why.

use crate::blocks::rng::Rng;
use crate::float::Float;
use std::fmt;
use std::ops::{Index, IndexMut};

// ANCHOR: struct
/// A dense `rows × cols` matrix stored row-major in one `Vec`.
///
/// The element type defaults to `f32`; `Matrix<f64>` is used for gradient checking.
///
/// ```
/// use simplenn::Matrix;
///
/// let a = Matrix::from_vec(2, 3, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
/// assert_eq!(a.shape(), (2, 3));
/// assert_eq!(a[(1, 0)], 4.0);
/// assert_eq!(a.row(1), &[4.0, 5.0, 6.0]);
/// ```
#[derive(Clone, PartialEq)]
pub struct Matrix<T = f32> {
    rows: usize,
    cols: usize,
    /// `rows * cols` elements; element `(r, c)` is `data[r * cols + c]`.
    data: Vec<T>,
}
// ANCHOR_END: struct

impl<T: Float> Matrix<T> {
    /// A `rows × cols` matrix of zeros.
    pub fn zeros(rows: usize, cols: usize) -> Self {
        Self::filled(rows, cols, T::ZERO)
    }

    /// A `rows × cols` matrix with every element equal to `value`.
    pub fn filled(rows: usize, cols: usize, value: T) -> Self {
        let len = checked_len(rows, cols);
        Matrix {
            rows,
            cols,
            data: vec![value; len],
        }
    }

    /// Wraps `data`, laid out row-major, as a `rows × cols` matrix.
    ///
    /// # Panics
    /// If `data.len() != rows * cols`.
    pub fn from_vec(rows: usize, cols: usize, data: Vec<T>) -> Self {
        let len = checked_len(rows, cols);
        assert_eq!(
            data.len(),
            len,
            "Matrix::from_vec: a {rows}×{cols} matrix needs {len} elements, got {}",
            data.len()
        );
        Matrix { rows, cols, data }
    }

    /// Builds a matrix from its rows.
    ///
    /// # Panics
    /// If the rows are not all the same length.
    ///
    /// ```
    /// use simplenn::Matrix;
    /// let xor = Matrix::<f64>::from_rows(&[[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]);
    /// assert_eq!(xor.shape(), (4, 2));
    /// ```
    pub fn from_rows<R: AsRef<[T]>>(rows: &[R]) -> Self {
        let cols = rows.first().map_or(0, |r| r.as_ref().len());
        let mut data = Vec::with_capacity(rows.len() * cols);
        for (i, row) in rows.iter().enumerate() {
            let row = row.as_ref();
            assert_eq!(
                row.len(),
                cols,
                "Matrix::from_rows: row {i} has {} elements but row 0 has {cols}",
                row.len()
            );
            data.extend_from_slice(row);
        }
        Matrix {
            rows: rows.len(),
            cols,
            data,
        }
    }

    /// A matrix whose element `(r, c)` is `f(r, c)`.
    ///
    /// ```
    /// use simplenn::Matrix;
    /// let identity = Matrix::<f32>::from_fn(3, 3, |r, c| if r == c { 1.0 } else { 0.0 });
    /// assert_eq!(identity[(2, 2)], 1.0);
    /// ```
    pub fn from_fn(rows: usize, cols: usize, mut f: impl FnMut(usize, usize) -> T) -> Self {
        let mut data = Vec::with_capacity(checked_len(rows, cols));
        for r in 0..rows {
            for c in 0..cols {
                data.push(f(r, c));
            }
        }
        Matrix { rows, cols, data }
    }

    /// A matrix of independent samples from the uniform distribution on `[low, high)`.
    pub fn random_uniform(rows: usize, cols: usize, low: f64, high: f64, rng: &mut Rng) -> Self {
        Self::from_fn(rows, cols, |_, _| uniform_sample(rng, low, high))
    }

    /// A matrix of independent samples from the normal distribution `N(mean, std²)`.
    pub fn random_normal(rows: usize, cols: usize, mean: f64, std: f64, rng: &mut Rng) -> Self {
        Self::from_fn(rows, cols, |_, _| T::from_f64(mean + std * rng.normal()))
    }

    /// Number of rows.
    #[inline]
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Number of columns.
    #[inline]
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// `(rows, cols)`.
    #[inline]
    pub fn shape(&self) -> (usize, usize) {
        (self.rows, self.cols)
    }

    /// Number of elements, `rows * cols`.
    #[inline]
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// True when the matrix has no elements (zero rows or zero columns).
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// All elements, row-major.
    #[inline]
    pub fn as_slice(&self) -> &[T] {
        &self.data
    }

    /// All elements, row-major, mutable.
    #[inline]
    pub fn as_mut_slice(&mut self) -> &mut [T] {
        &mut self.data
    }

    /// Unwraps the row-major element vector.
    pub fn into_vec(self) -> Vec<T> {
        self.data
    }

    /// Row `r` as a slice.
    ///
    /// # Panics
    /// If `r >= rows`.
    #[inline]
    pub fn row(&self, r: usize) -> &[T] {
        assert!(
            r < self.rows,
            "row {r} out of range for a {}×{} matrix",
            self.rows,
            self.cols
        );
        &self.data[r * self.cols..(r + 1) * self.cols]
    }

    /// Row `r` as a mutable slice.
    ///
    /// # Panics
    /// If `r >= rows`.
    #[inline]
    pub fn row_mut(&mut self, r: usize) -> &mut [T] {
        assert!(
            r < self.rows,
            "row {r} out of range for a {}×{} matrix",
            self.rows,
            self.cols
        );
        &mut self.data[r * self.cols..(r + 1) * self.cols]
    }

    /// Iterates over the rows as slices.
    pub fn row_iter(&self) -> impl ExactSizeIterator<Item = &[T]> + '_ {
        let cols = self.cols;
        (0..self.rows).map(move |r| &self.data[r * cols..(r + 1) * cols])
    }

    /// Changes the shape to `rows × cols` for a computation that writes every element, such
    /// as a matrix product: like [`reset`](Self::reset), but what is kept of the old contents
    /// is not zeroed first.
    pub(crate) fn reshape_for_overwrite(&mut self, rows: usize, cols: usize) {
        let len = checked_len(rows, cols);
        self.data.resize(len, T::ZERO);
        self.rows = rows;
        self.cols = cols;
    }

    /// Changes the shape to `rows × cols` and sets every element to zero, reusing the
    /// allocation when it is big enough. Training uses this to keep buffers across batches.
    pub fn reset(&mut self, rows: usize, cols: usize) {
        let len = checked_len(rows, cols);
        self.data.clear();
        self.data.resize(len, T::ZERO);
        self.rows = rows;
        self.cols = cols;
    }

    /// Copies the rows listed in `indices`, in that order, into `out` (reshaped to
    /// `indices.len() × cols`): how a shuffled mini-batch is gathered, into a buffer that is
    /// reused from batch to batch.
    ///
    /// # Panics
    /// If an index is `>= rows`.
    pub fn gather_rows_into(&self, indices: &[usize], out: &mut Matrix<T>) {
        // Check first, so a bad index leaves `out` untouched rather than half-written.
        if let Some(&bad) = indices.iter().find(|&&i| i >= self.rows) {
            panic!(
                "gather_rows_into: row {bad} out of range for a {}×{} matrix",
                self.rows, self.cols
            );
        }
        out.data.clear();
        for &i in indices {
            out.data.extend_from_slice(self.row(i));
        }
        out.rows = indices.len();
        out.cols = self.cols;
    }

    /// The rows listed in `indices`, in that order, as a new matrix.
    ///
    /// # Panics
    /// If an index is `>= rows`.
    pub fn select_rows(&self, indices: &[usize]) -> Matrix<T> {
        let mut out = Matrix::zeros(0, 0);
        self.gather_rows_into(indices, &mut out);
        out
    }

    /// The transpose, as a new matrix. The matrix products never need this: see
    /// [`t_matmul`](Self::t_matmul) and [`matmul_t`](Self::matmul_t).
    pub fn transpose(&self) -> Self {
        Self::from_fn(self.cols, self.rows, |r, c| self[(c, r)])
    }

    /// Converts every element to another float type (`f32` ↔ `f64`).
    pub fn cast<U: Float>(&self) -> Matrix<U> {
        Matrix {
            rows: self.rows,
            cols: self.cols,
            data: self.data.iter().map(|&x| U::from_f64(x.to_f64())).collect(),
        }
    }

    // ---------------------------------------------------------------------------------
    // Element-wise operations
    // ---------------------------------------------------------------------------------

    /// A new matrix with `f` applied to every element.
    pub fn map(&self, f: impl Fn(T) -> T) -> Self {
        Matrix {
            rows: self.rows,
            cols: self.cols,
            data: self.data.iter().map(|&x| f(x)).collect(),
        }
    }

    /// Applies `f` to every element in place.
    pub fn map_inplace(&mut self, f: impl Fn(T) -> T) {
        for x in &mut self.data {
            *x = f(*x);
        }
    }

    /// A new matrix with `f(self[i], other[i])` at every position.
    ///
    /// # Panics
    /// If the shapes differ.
    pub fn zip_map(&self, other: &Self, f: impl Fn(T, T) -> T) -> Self {
        self.assert_same_shape(other, "zip_map");
        Matrix {
            rows: self.rows,
            cols: self.cols,
            data: self
                .data
                .iter()
                .zip(&other.data)
                .map(|(&a, &b)| f(a, b))
                .collect(),
        }
    }

    /// Element-wise sum `self + other`.
    ///
    /// # Panics
    /// If the shapes differ.
    pub fn add(&self, other: &Self) -> Self {
        self.assert_same_shape(other, "add");
        self.zip_map(other, |a, b| a + b)
    }

    /// Element-wise difference `self - other`.
    ///
    /// # Panics
    /// If the shapes differ.
    pub fn sub(&self, other: &Self) -> Self {
        self.assert_same_shape(other, "sub");
        self.zip_map(other, |a, b| a - b)
    }

    /// Element-wise (Hadamard) product `self ⊙ other`.
    ///
    /// # Panics
    /// If the shapes differ.
    pub fn hadamard(&self, other: &Self) -> Self {
        self.assert_same_shape(other, "hadamard");
        self.zip_map(other, |a, b| a * b)
    }

    /// Multiplies every element in place by `factor`.
    pub fn scale(&mut self, factor: T) {
        self.map_inplace(|x| x * factor);
    }

    /// `self += alpha * other`, the "axpy" of BLAS; the optimisers are made of it.
    ///
    /// # Panics
    /// If the shapes differ.
    pub fn add_scaled(&mut self, alpha: T, other: &Self) {
        self.assert_same_shape(other, "add_scaled");
        for (a, &b) in self.data.iter_mut().zip(&other.data) {
            *a += alpha * b;
        }
    }

    /// Adds `row` to every row (broadcasting), as a layer adds its bias to a batch.
    ///
    /// # Panics
    /// If `row.len() != cols`.
    pub fn add_row(&mut self, row: &[T]) {
        assert_eq!(
            row.len(),
            self.cols,
            "add_row: a row of length {} cannot be added to a {}×{} matrix",
            row.len(),
            self.rows,
            self.cols
        );
        for r in 0..self.rows {
            for (x, &b) in self.row_mut(r).iter_mut().zip(row) {
                *x += b;
            }
        }
    }

    // ---------------------------------------------------------------------------------
    // Reductions
    // ---------------------------------------------------------------------------------

    /// The sum of each column (a vector of length `cols`): summing over the samples of a
    /// batch, as the bias gradient does.
    pub fn column_sums(&self) -> Vec<T> {
        let mut sums = vec![T::ZERO; self.cols];
        self.column_sums_into(&mut sums);
        sums
    }

    /// Writes the sum of each column into `sums`, without allocating.
    ///
    /// # Panics
    /// If `sums.len() != cols`.
    pub fn column_sums_into(&self, sums: &mut [T]) {
        assert_eq!(
            sums.len(),
            self.cols,
            "column_sums_into: {} slots for the {} columns of a {}×{} matrix",
            sums.len(),
            self.cols,
            self.rows,
            self.cols
        );
        sums.fill(T::ZERO);
        for row in self.row_iter() {
            for (s, &x) in sums.iter_mut().zip(row) {
                *s += x;
            }
        }
    }

    /// The sum of each row (a vector of length `rows`).
    pub fn row_sums(&self) -> Vec<T> {
        self.row_iter()
            .map(|row| row.iter().copied().sum())
            .collect()
    }

    /// The sum of all elements.
    pub fn sum(&self) -> T {
        self.data.iter().copied().sum()
    }

    /// The index of the largest element of each row (the first one on ties): the predicted
    /// class when each row holds one sample's scores. A row containing NaN still yields an
    /// index in range.
    ///
    /// # Panics
    /// If the matrix has rows but no columns.
    pub fn argmax_rows(&self) -> Vec<usize> {
        assert!(
            self.cols > 0 || self.rows == 0,
            "argmax_rows of a {}×0 matrix: no column to choose",
            self.rows
        );
        self.row_iter().map(argmax).collect()
    }

    /// The largest absolute difference between two matrices of the same shape.
    ///
    /// # Panics
    /// If the shapes differ.
    pub fn max_abs_diff(&self, other: &Self) -> T {
        self.assert_same_shape(other, "max_abs_diff");
        self.data
            .iter()
            .zip(&other.data)
            .fold(T::ZERO, |m, (&a, &b)| {
                let d = (a - b).abs();
                // NaN must win: a NaN difference is not "no difference".
                if d.is_nan() || m.is_nan() {
                    T::from_f64(f64::NAN)
                } else {
                    m.max(d)
                }
            })
    }

    fn assert_same_shape(&self, other: &Self, op: &str) {
        assert!(
            self.shape() == other.shape(),
            "{op}: shapes differ: {}×{} vs {}×{}",
            self.rows,
            self.cols,
            other.rows,
            other.cols
        );
    }
}

/// A sample from U[low, high) in `T`. Rounding an `f64` sample to `f32` can land on `high`
/// (or above it, for a range narrower than an `f32` step); such samples are drawn again,
/// so the half-open promise holds in the element type too. (A range so narrow that `T` has
/// no value inside it gives up after 64 draws and returns `low` rounded to `T`.)
pub(crate) fn uniform_sample<T: Float>(rng: &mut Rng, low: f64, high: f64) -> T {
    for _ in 0..64 {
        let x = T::from_f64(rng.uniform(low, high));
        if x.to_f64() < high {
            return x;
        }
    }
    T::from_f64(low)
}

/// The index of the largest element (the first one on ties; NaN is never chosen over a number).
pub(crate) fn argmax<T: Float>(xs: &[T]) -> usize {
    let mut best = 0;
    for (i, &x) in xs.iter().enumerate() {
        if x > xs[best] || xs[best].is_nan() {
            best = i;
        }
    }
    best
}

fn checked_len(rows: usize, cols: usize) -> usize {
    rows.checked_mul(cols)
        .unwrap_or_else(|| panic!("a {rows}×{cols} matrix has more elements than usize can count"))
}

// ANCHOR: index
impl<T> Index<(usize, usize)> for Matrix<T> {
    type Output = T;

    /// `m[(r, c)]`: the element in row `r`, column `c`.
    #[inline]
    fn index(&self, (r, c): (usize, usize)) -> &T {
        assert!(
            r < self.rows && c < self.cols,
            "index ({r}, {c}) out of range for a {}×{} matrix",
            self.rows,
            self.cols
        );
        &self.data[r * self.cols + c]
    }
}
// ANCHOR_END: index

impl<T> IndexMut<(usize, usize)> for Matrix<T> {
    #[inline]
    fn index_mut(&mut self, (r, c): (usize, usize)) -> &mut T {
        assert!(
            r < self.rows && c < self.cols,
            "index ({r}, {c}) out of range for a {}×{} matrix",
            self.rows,
            self.cols
        );
        &mut self.data[r * self.cols + c]
    }
}

/// Shows the shape and, for small matrices, the elements; large ones are elided.
impl<T: Float> fmt::Debug for Matrix<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const SHOW: usize = 6;
        write!(f, "Matrix<{}> {}×{}", T::NAME, self.rows, self.cols)?;
        if self.is_empty() {
            return Ok(());
        }
        f.write_str(" [")?;
        for (r, row) in self.row_iter().enumerate().take(SHOW) {
            f.write_str(if r == 0 { "[" } else { ", [" })?;
            for (c, x) in row.iter().enumerate().take(SHOW) {
                if c > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "{x}")?;
            }
            if self.cols > SHOW {
                f.write_str(", …")?;
            }
            f.write_str("]")?;
        }
        if self.rows > SHOW {
            f.write_str(", …")?;
        }
        f.write_str("]")
    }
}
