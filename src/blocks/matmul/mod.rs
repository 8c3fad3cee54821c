//! Matrix multiplication, the operation a neural network spends almost all its time in.
//!
//! The three products backpropagation needs, [`matmul`](Matrix::matmul) (`X·W`),
//! [`t_matmul`](Matrix::t_matmul) (`Xᵀ·δ`) and [`matmul_t`](Matrix::matmul_t) (`δ·Wᵀ`), are
//! one function, [`gemm`], applied to [`View`]s that read a matrix as stored or transposed:
//! no transpose is copied. The submodules keep every generation of the product side by
//! side, from [`reference`](mod@reference), the definition and the tests' oracle, through
//! [`reordered`] and [`blocked`] to [`packed`], the SIMD product [`gemm`] runs; [`sparse`]
//! skips zeros. The dense ones give bit-identical results except with a fused-multiply-add
//! kernel ([`Kernel::Fma`], the default where the CPU has it), which rounds once per term;
//! the thread count never changes a result. The book's chapters "Matrix multiplication" and
//! "Making it fast" explain them.
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
#[allow(unsafe_code)]
pub mod kernels;
pub mod packed;
// The one other module allowed `unsafe`: a pool that runs borrowed closures.
#[allow(unsafe_code)]
pub mod pool;
pub mod reference;
pub mod reordered;
pub mod sparse;

pub use kernels::{
    IgnoredKernelVar, Kernel, UnsupportedKernel, kernel, kernel_for_var, kernel_name,
    kernel_var_ignored, set_kernel,
};

use crate::blocks::matrix::Matrix;
use crate::float::Float;
use kernels::MicroKernel;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

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

    /// Rows `start..end` of this view, as a view: no data is copied.
    ///
    /// # Panics
    /// If the range is not within `0..rows`.
    pub fn rows_range(self, start: usize, end: usize) -> View<'a, T> {
        assert!(
            start <= end && end <= self.rows,
            "rows_range: rows {start}..{end} out of range for a {} view",
            self.describe()
        );
        let offset = if start == end {
            0
        } else {
            start * self.row_stride
        };
        View {
            data: &self.data[offset..],
            rows: end - start,
            ..self
        }
    }

    /// Columns `start..end` of this view, as a view: no data is copied.
    ///
    /// # Panics
    /// If the range is not within `0..cols`.
    pub fn cols_range(self, start: usize, end: usize) -> View<'a, T> {
        self.t().rows_range(start, end).t()
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

    /// The elements as one row-major slice, when the view reads a matrix (or a range of its
    /// rows) as stored; `None` for a transposed view or a range of columns.
    pub fn contiguous(&self) -> Option<&'a [T]> {
        let row_major = self.col_stride == 1 && (self.row_stride == self.cols || self.rows <= 1);
        row_major.then(|| &self.data[..self.rows * self.cols])
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

impl<'a, T: Float> View<'a, T> {
    /// The row-major `rows × cols` matrix stored in `data`, as a view: how a convolution reads
    /// one buffer as two shapes (a layer's `m × (H·W·C)` output is also the `(m·H·W) × C`
    /// matrix of its pixels), without copying.
    ///
    /// # Panics
    /// If `data.len() != rows · cols`.
    pub fn from_slice(data: &'a [T], rows: usize, cols: usize) -> Self {
        assert_eq!(
            data.len(),
            rows * cols,
            "View::from_slice: {} elements cannot be read as a {rows}×{cols} matrix",
            data.len()
        );
        View {
            data,
            rows,
            cols,
            row_stride: cols,
            col_stride: 1,
            transposed: false,
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

    // ANCHOR: products
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
    // ANCHOR_END: products
}

// ANCHOR: threads
/// `c = a · b`, computed by the crate's default implementation ([`packed`], with the
/// micro-kernel [`kernel()`] names), on [`threads()`] threads when the product is big
/// enough to be worth it.
///
/// `c` is reshaped to `a.rows() × b.cols()`, reusing its allocation, so a training loop
/// can pass the same output buffer batch after batch.
///
/// Threads split `c` into bands, one per thread, each a whole number of the kernel's
/// register tiles: bands of rows when `A` is the larger operand, bands of columns when `B`
/// is. Each thread packs only its own slice of the operand it splits and the whole of the
/// other, so splitting the larger one means the least packing is done twice. Every element
/// of `c` is still computed by one thread, summing the same products in the same order, so
/// **the result is bit-identical for any number of threads**: the split never divides a
/// sum. The calling thread computes one band itself; the [`pool`]'s threads take the others.
///
/// # Panics
/// If `a.cols() != b.rows()`; the message names both shapes.
pub fn gemm<T: Float>(a: View<'_, T>, b: View<'_, T>, c: &mut Matrix<T>) {
    let (m, _, n) = dims(&a, &b);
    c.reshape_for_overwrite(m, n); // the product writes every element
    gemm_to_slice(a, b, c.as_mut_slice());
}

/// [`gemm`] into the `a.rows() × b.cols()` row-major slice `c`, which it overwrites: how a
/// convolution writes each group of samples' product straight into its rows of the layer's
/// output.
///
/// # Panics
/// If `a.cols() != b.rows()`, or `c` is not `a.rows() · b.cols()` long.
pub(crate) fn gemm_to_slice<T: Float>(a: View<'_, T>, b: View<'_, T>, c: &mut [T]) {
    let (m, k, n) = dims(&a, &b);
    assert_eq!(
        c.len(),
        m * n,
        "gemm: a {m}×{n} product needs {} elements, the output has {}",
        m * n,
        c.len()
    );
    let kern = kernels::micro_kernel::<T>(kernel());
    let by_columns = n > m;
    let tiles = if by_columns {
        n.div_ceil(kern.nr)
    } else {
        m.div_ceil(kern.mr)
    };
    let threads = threads()
        .min(2 * m * n * k / MIN_FLOPS_PER_THREAD)
        .min(tiles)
        .max(1);
    if threads == 1 {
        packed::gemm_into(kern, a, b, c, n);
    } else if by_columns {
        gemm_column_bands(kern, a, b, c, threads);
    } else {
        gemm_row_bands(kern, a, b, c, threads);
    }
}

/// Each thread of a product gets at least 2 MFLOP (about 10 µs of work with the AVX-512
/// kernel): handing a closure to a [`pool`] thread that is spinning for work costs a few
/// microseconds, and below this a second thread was measured to slow a training step down.
/// (When every product started its own thread, at 60-100 µs apiece, the bar was 16 MFLOP,
/// and a batch-64 step gained nothing from a second core.)
const MIN_FLOPS_PER_THREAD: usize = 1 << 21;

// ANCHOR: gemm_pair
/// `c1 = a1 · b1` and `c2 = a2 · b2`, two products that do not depend on each other, at
/// the same time on two threads when each is big enough to be worth a thread of its own
/// (and [`threads()`] allows two); otherwise one after the other through [`gemm`].
///
/// Backpropagation has such a pair at every hidden layer: the weight gradient `aᵀ·δ` and the
/// error sent back, `δ·Wᵀ`. In a mini-batch they are often each too small to split well
/// (a 64-row product leaves little to share), but running them side by side keeps both
/// cores busy, one product on the calling thread and one on the [`pool`]'s. Each product is computed exactly as
/// [`gemm`] on one thread computes it, so the results do not depend on the thread count.
///
/// # Panics
/// If either product's inner dimensions differ; the message names both shapes.
pub fn gemm_pair<T: Float>(
    (a1, b1, c1): (View<'_, T>, View<'_, T>, &mut Matrix<T>),
    (a2, b2, c2): (View<'_, T>, View<'_, T>, &mut Matrix<T>),
) {
    let (m1, k1, n1) = dims(&a1, &b1);
    let (m2, k2, n2) = dims(&a2, &b2);
    let smaller = (2 * m1 * k1 * n1).min(2 * m2 * k2 * n2);
    if threads() < 2 || smaller < MIN_FLOPS_PER_THREAD {
        gemm(a1, b1, c1);
        gemm(a2, b2, c2);
        return;
    }
    let kern = kernels::micro_kernel::<T>(kernel());
    c1.reshape_for_overwrite(m1, n1);
    c2.reshape_for_overwrite(m2, n2);
    pool::scope(1, |scope| {
        let c1 = c1.as_mut_slice();
        scope.spawn(move || packed::gemm_into(kern, a1, b1, c1, n1));
        packed::gemm_into(kern, a2, b2, c2.as_mut_slice(), n2);
    });
}
// ANCHOR_END: gemm_pair

/// Rows of `c` in `threads` bands: each band of `c` is a contiguous slice, handed to its
/// thread as it is.
fn gemm_row_bands<T: Float>(
    kern: MicroKernel<T>,
    a: View<'_, T>,
    b: View<'_, T>,
    c: &mut [T],
    threads: usize,
) {
    let (m, n) = (a.rows(), b.cols());
    let band = m.div_ceil(threads).next_multiple_of(kern.mr);
    pool::scope(threads - 1, |scope| {
        let mut bands = c.chunks_mut(band * n).enumerate();
        let last = bands.next_back();
        for (t, c_band) in bands {
            let a_band = a.rows_range(t * band, t * band + c_band.len() / n);
            scope.spawn(move || packed::gemm_into(kern, a_band, b, c_band, n));
        }
        if let Some((t, c_band)) = last {
            let a_band = a.rows_range(t * band, t * band + c_band.len() / n);
            packed::gemm_into(kern, a_band, b, c_band, n);
        }
    });
}

/// Columns of `c` in `threads` bands. A band of columns is not a contiguous slice of a
/// row-major `c`, so the spawned threads write theirs into buffers of their own, copied
/// into place afterwards (a few microseconds); the calling thread writes the first band
/// straight into `c`, rows `n` apart.
fn gemm_column_bands<T: Float>(
    kern: MicroKernel<T>,
    a: View<'_, T>,
    b: View<'_, T>,
    c: &mut [T],
    threads: usize,
) {
    let (m, n) = (a.rows(), b.cols());
    let band = n.div_ceil(threads).next_multiple_of(kern.nr);
    let mut buffers: Vec<(usize, Vec<T>)> = (band..n)
        .step_by(band)
        .map(|j0| (j0, take_buffer(m * band.min(n - j0))))
        .collect();
    pool::scope(threads - 1, |scope| {
        for (j0, buf) in &mut buffers {
            let b_band = b.cols_range(*j0, (*j0 + band).min(n));
            let width = b_band.cols();
            scope.spawn(move || packed::gemm_into(kern, a, b_band, buf, width));
        }
        packed::gemm_into(kern, a, b.cols_range(0, band.min(n)), c, n);
    });
    for (j0, buf) in buffers {
        let width = band.min(n - j0);
        for (row, band_row) in c.chunks_exact_mut(n).zip(buf.chunks_exact(width)) {
            row[j0..j0 + width].copy_from_slice(band_row);
        }
        give_back(buf);
    }
}

/// A buffer of `len` elements for a product to overwrite, reusing one given back earlier
/// when there is one (its old contents are left: the product writes every element).
fn take_buffer<T: Float>(len: usize) -> Vec<T> {
    let mut buf = T::band_pool()
        .lock()
        .ok()
        .and_then(|mut pool| pool.pop())
        .unwrap_or_default();
    buf.resize(len, T::ZERO);
    buf
}

/// Returns a buffer from [`take_buffer`] for reuse (a few are kept, the rest dropped).
fn give_back<T: Float>(buf: Vec<T>) {
    if let Ok(mut pool) = T::band_pool().lock()
        && pool.len() < 8
    {
        pool.push(buf);
    }
}

/// Element-wise work (copies, comparisons, sums that do not cross samples) worth a thread of
/// its own: 2¹⁵ values, some 10 µs, against the few microseconds of handing a closure to
/// the [`pool`].
const MIN_VALUES_PER_THREAD: usize = 1 << 15;

/// How many threads `values` values of element-wise work should be shared among: what
/// [`threads()`] allows, and no more than the work is worth.
pub(crate) fn workers_for(values: usize) -> usize {
    threads().min(values / MIN_VALUES_PER_THREAD).max(1)
}

/// Runs every job, the first on the calling thread and the others on the [`pool`], and
/// returns when all have finished. Layers use it for the work between the products
/// (im2col, pooling, biases and activations), split by whole samples or values, so that
/// each value is computed as one thread alone would: results never depend on the split.
pub(crate) fn run_all<'env, F: FnOnce() + Send + 'env>(jobs: impl IntoIterator<Item = F>) {
    let mut jobs: Vec<F> = jobs.into_iter().collect();
    let Some(first) = (!jobs.is_empty()).then(|| jobs.remove(0)) else {
        return;
    };
    if jobs.is_empty() {
        first();
        return;
    }
    pool::scope(jobs.len(), |scope| {
        for job in jobs {
            scope.spawn(job);
        }
        first();
    });
}

/// The thread count set by [`set_threads`]; 0 means "not set".
static THREADS: AtomicUsize = AtomicUsize::new(0);

/// Sets how many threads [`gemm`] may use; 0 restores the default. Results do not depend
/// on it, only speed does.
pub fn set_threads(n: usize) {
    THREADS.store(n, Ordering::Relaxed);
}

/// How many threads [`gemm`] may use: the value given to [`set_threads`], else the
/// environment variable `SIMPLENN_THREADS`, else the machine's available parallelism.
pub fn threads() -> usize {
    match THREADS.load(Ordering::Relaxed) {
        0 => default_threads(),
        n => n,
    }
}
// ANCHOR_END: threads

fn default_threads() -> usize {
    static DEFAULT: OnceLock<usize> = OnceLock::new();
    *DEFAULT.get_or_init(|| {
        std::env::var("SIMPLENN_THREADS")
            .ok()
            .and_then(|v| v.trim().parse::<usize>().ok())
            .filter(|&n| n > 0)
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
    })
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
