//! Matrix multiplication, the operation a neural network spends almost all its time in.
//!
//! Backpropagation needs three products, and none of them should copy a transpose:
//!
//! | product | where | [`Matrix`] method |
//! | --- | --- | --- |
//! | `A·B`  | forward pass, `Z = X·W` | [`matmul`](Matrix::matmul) |
//! | `Aᵀ·B` | weight gradient, `∂W = Xᵀ·δ` | [`t_matmul`](Matrix::t_matmul) |
//! | `A·Bᵀ` | gradient flowing back, `δ·Wᵀ` | [`matmul_t`](Matrix::matmul_t) |
//!
//! All three are one function, [`gemm`], applied to [`View`]s: a view reads a matrix either
//! as stored or transposed, by swapping the strides it steps with. Nothing is copied.
//!
//! There are two implementations, one per submodule, kept side by side on purpose:
//!
//! - [`reference`]: the textbook triple loop. Slow, obviously right, and the oracle every
//!   test compares against.
//! - [`blocked`]: the same sums computed tile by tile so that the data being reused stays
//!   in cache. This is what the network uses, through [`gemm`].
//!
//! ```
//! use simplenn::Matrix;
//!
//! let a = Matrix::from_vec(2, 3, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
//! let b = Matrix::from_vec(3, 1, vec![1.0, 0.0, -1.0]);
//! assert_eq!(a.matmul(&b).as_slice(), &[-2.0, -2.0]);
//! // Aᵀ·A without forming Aᵀ:
//! assert_eq!(a.t_matmul(&a), a.transpose().matmul(&a));
//! ```

pub mod blocked;
pub mod reference;

use crate::float::Float;
use crate::matrix::Matrix;

// ANCHOR: view
/// A read-only window on a [`Matrix`], either as stored or transposed.
///
/// Element `(r, c)` of the view is `data[r * row_stride + c * col_stride]`. For a
/// row-major `R×C` matrix the strides are `(C, 1)`; its transpose is the same data read with
/// the strides swapped, `(1, C)`, as a `C×R` matrix. That is the whole trick that lets
/// `Aᵀ·B` run without building `Aᵀ`.
#[derive(Clone, Copy)]
pub struct View<'a, T> {
    data: &'a [T],
    rows: usize,
    cols: usize,
    row_stride: usize,
    col_stride: usize,
    transposed: bool,
}

impl<'a, T: Float> View<'a, T> {
    /// Element `(r, c)` of the view.
    #[inline(always)]
    pub fn get(&self, r: usize, c: usize) -> T {
        debug_assert!(r < self.rows && c < self.cols);
        self.data[r * self.row_stride + c * self.col_stride]
    }
    // ANCHOR_END: view

    /// Rows of the view (of the transpose, for a transposed view).
    #[inline]
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Columns of the view.
    #[inline]
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// True when this view reads its matrix transposed.
    #[inline]
    pub fn is_transposed(&self) -> bool {
        self.transposed
    }

    /// The transpose of this view: the same data with the strides swapped.
    pub fn t(self) -> View<'a, T> {
        View {
            data: self.data,
            rows: self.cols,
            cols: self.rows,
            row_stride: self.col_stride,
            col_stride: self.row_stride,
            transposed: !self.transposed,
        }
    }

    /// `"3×4"`, or `"(4×3)ᵀ"` for a transposed view, for panic messages.
    fn describe(&self) -> String {
        if self.is_transposed() {
            format!("({}×{})ᵀ", self.cols, self.rows)
        } else {
            format!("{}×{}", self.rows, self.cols)
        }
    }
}

impl<T: Float> Matrix<T> {
    /// The matrix as stored, as a [`View`].
    pub fn view(&self) -> View<'_, T> {
        View {
            data: self.as_slice(),
            rows: self.rows(),
            cols: self.cols(),
            row_stride: self.cols(),
            col_stride: 1,
            transposed: false,
        }
    }

    /// Rows `start..end` as a [`View`]: no data is copied. Evaluation walks a large data
    /// set in chunks this way.
    ///
    /// # Panics
    /// If the range is not within `0..rows`.
    pub fn view_rows(&self, start: usize, end: usize) -> View<'_, T> {
        assert!(
            start <= end && end <= self.rows(),
            "view_rows: rows {start}..{end} out of range for a {}×{} matrix",
            self.rows(),
            self.cols()
        );
        let cols = self.cols();
        View {
            data: &self.as_slice()[start * cols..end * cols],
            rows: end - start,
            cols,
            row_stride: cols,
            col_stride: 1,
            transposed: false,
        }
    }

    /// The transpose, as a [`View`]: no data is copied.
    pub fn t(&self) -> View<'_, T> {
        View {
            data: self.as_slice(),
            rows: self.cols(),
            cols: self.rows(),
            row_stride: 1,
            col_stride: self.cols(),
            transposed: true,
        }
    }

    /// The matrix product `self · b`.
    ///
    /// # Panics
    /// If `self.cols() != b.rows()`; the message names both shapes.
    pub fn matmul(&self, b: &Matrix<T>) -> Matrix<T> {
        let mut c = Matrix::zeros(0, 0);
        gemm(self.view(), b.view(), &mut c);
        c
    }

    /// The product `selfᵀ · b`, without forming the transpose.
    ///
    /// # Panics
    /// If `self.rows() != b.rows()`; the message names both shapes.
    pub fn t_matmul(&self, b: &Matrix<T>) -> Matrix<T> {
        let mut c = Matrix::zeros(0, 0);
        gemm(self.t(), b.view(), &mut c);
        c
    }

    /// The product `self · bᵀ`, without forming the transpose.
    ///
    /// # Panics
    /// If `self.cols() != b.cols()`; the message names both shapes.
    pub fn matmul_t(&self, b: &Matrix<T>) -> Matrix<T> {
        let mut c = Matrix::zeros(0, 0);
        gemm(self.view(), b.t(), &mut c);
        c
    }
}

/// `c = a · b`, computed by the crate's default implementation ([`blocked::gemm`]).
///
/// `c` is reshaped to `a.rows() × b.cols()`, reusing its allocation, so a training loop
/// can pass the same output buffer batch after batch.
///
/// # Panics
/// If `a.cols() != b.rows()`; the message names both shapes.
pub fn gemm<T: Float>(a: View<'_, T>, b: View<'_, T>, c: &mut Matrix<T>) {
    blocked::gemm(a, b, c);
}

/// Checks that `a · b` is defined and returns `(m, k, n)`: `a` is `m×k`, `b` is `k×n`.
fn dims<T: Float>(a: &View<'_, T>, b: &View<'_, T>) -> (usize, usize, usize) {
    assert!(
        a.cols == b.rows,
        "matmul: cannot multiply {} by {}: inner dimensions {} and {} differ",
        a.describe(),
        b.describe(),
        a.cols,
        b.rows
    );
    (a.rows, a.cols, b.cols)
}
