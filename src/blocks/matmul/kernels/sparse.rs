//! The kernel of the sparse products ([`crate::blocks::matmul::sparse`]): one output row as a
//! weighted sum of rows of a dense matrix, one term per nonzero of a sparse row or column.
//!
//! ```text
//! out[j] = Σₑ values[e] · dense[index[e] · stride + j]      for j < out.len()
//! ```
//!
//! Every version adds in one order: term `e` into partial sum `e mod 4`, each starting from
//! zero, then `(s₀ + s₁) + (s₂ + s₃)`, 16 columns at a time (so the dense rows' stride is a
//! multiple of [`LANES`]). The [`Portable`](super::Kernel::Portable) and
//! [`Avx2`](super::Kernel::Avx2) versions round each multiply and add and give the same bits;
//! the [`Fma`](super::Kernel::Fma) and [`Avx512`](super::Kernel::Avx512) versions fuse them and
//! give the same bits as each other. Why four sums: the book's chapter "Making it fast".

use super::Kernel;
use crate::float::Float;

/// Columns handled at once, and the multiple the dense rows' stride must be.
pub const LANES: usize = 16;

/// `(index, values, dense, stride, out)`: see the [module docs](self). Checks its
/// arguments (panicking on a mismatch), so calling it is safe whatever they are.
pub type CombineFn<T> = fn(&[u32], &[T], &[T], usize, &mut [T]);

/// The combining kernel of family `kernel` for `T` (`f64` never fuses, as with the
/// micro-kernels); the portable one where the CPU lacks the instructions.
pub(crate) fn combine_fn<T: Float>(kernel: Kernel) -> CombineFn<T> {
    T::combine_kernel(kernel)
}

/// Multiply-add, fused (one rounding) or not (two), for the two element types.
pub(crate) trait MulAdd: Float {
    /// `acc + a·b`, rounded once.
    fn fused(acc: Self, a: Self, b: Self) -> Self;
}

impl MulAdd for f32 {
    #[inline(always)]
    fn fused(acc: f32, a: f32, b: f32) -> f32 {
        a.mul_add(b, acc)
    }
}

impl MulAdd for f64 {
    #[inline(always)]
    fn fused(acc: f64, a: f64, b: f64) -> f64 {
        a.mul_add(b, acc)
    }
}

/// Panics unless `dense` holds every row `index` names at the given `stride`, and `out`
/// fits in a row.
#[inline(always)]
fn check<T>(index: &[u32], values: &[T], dense: &[T], stride: usize, out: &[T]) {
    assert_eq!(
        index.len(),
        values.len(),
        "sparse kernel: {} indices for {} values",
        index.len(),
        values.len()
    );
    assert!(
        stride.is_multiple_of(LANES) && out.len() <= stride,
        "sparse kernel: stride {stride} is not a multiple of {LANES} at least {} wide",
        out.len()
    );
    let rows = dense.len() / stride.max(1);
    // The largest index, found with a loop the compiler vectorises (an early exit would
    // not be): this check runs on every call.
    let largest = index.iter().fold(0, |m, &i| m.max(i));
    if !index.is_empty() && largest as usize >= rows {
        panic!("sparse kernel: row {largest} of a dense matrix with {rows} rows");
    }
}

// ANCHOR: sparse_body
/// The body, in plain Rust: four partial sums of 16 lanes per block of columns. The
/// reference for the hand-written versions below, and the portable kernel.
#[inline(always)]
fn body<T: MulAdd, const FUSED: bool>(
    index: &[u32],
    values: &[T],
    dense: &[T],
    stride: usize,
    out: &mut [T],
) {
    check(index, values, dense, stride, out);
    let add = |acc: &mut [T; LANES], v: T, row: &[T]| {
        let row: &[T; LANES] = row.try_into().expect("a whole block");
        for (a, &d) in acc.iter_mut().zip(row) {
            *a = if FUSED {
                T::fused(*a, v, d)
            } else {
                *a + v * d
            };
        }
    };
    for (block, out) in out.chunks_mut(LANES).enumerate() {
        let col = block * LANES;
        let mut sums = [[T::ZERO; LANES]; 4];
        let mut terms = index.chunks_exact(4).zip(values.chunks_exact(4));
        for (i, v) in terms.by_ref() {
            for s in 0..4 {
                let start = i[s] as usize * stride + col;
                add(&mut sums[s], v[s], &dense[start..start + LANES]);
            }
        }
        let rest = index.len() / 4 * 4;
        for (s, (&i, &v)) in index[rest..].iter().zip(&values[rest..]).enumerate() {
            let start = i as usize * stride + col;
            add(&mut sums[s], v, &dense[start..start + LANES]);
        }
        let [s0, s1, s2, s3] = sums;
        for (j, o) in out.iter_mut().enumerate() {
            *o = (s0[j] + s1[j]) + (s2[j] + s3[j]);
        }
    }
}
// ANCHOR_END: sparse_body

/// Separate multiplies and adds, compiled for the target's baseline.
fn portable<T: MulAdd>(index: &[u32], values: &[T], dense: &[T], stride: usize, out: &mut [T]) {
    body::<T, false>(index, values, dense, stride, out);
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::{LANES, MulAdd, body, check};
    use std::arch::x86_64::*;

    #[target_feature(enable = "avx2")]
    fn avx2_generic<T: MulAdd>(
        index: &[u32],
        values: &[T],
        dense: &[T],
        stride: usize,
        out: &mut [T],
    ) {
        body::<T, false>(index, values, dense, stride, out);
    }

    /// The AVX2 `f32` versions: per block of 16 columns, four partial sums of two `ymm`
    /// registers each; `FMA` chooses fused or separate multiply-adds.
    ///
    /// # Safety
    /// The CPU must run AVX2 and FMA. (The arguments are checked here, where the check is
    /// compiled for AVX2 too: it reads every index, on every call.)
    #[target_feature(enable = "avx2,fma")]
    unsafe fn avx2_f32<const FMA: bool>(
        index: &[u32],
        values: &[f32],
        dense: &[f32],
        stride: usize,
        out: &mut [f32],
    ) {
        check(index, values, dense, stride, out);
        let d = dense.as_ptr();
        let whole = index.len() / 4 * 4;
        let madd = |acc: __m256, v: __m256, x: __m256| {
            if FMA {
                _mm256_fmadd_ps(v, x, acc)
            } else {
                _mm256_add_ps(acc, _mm256_mul_ps(v, x))
            }
        };
        for (block, out) in out.chunks_mut(LANES).enumerate() {
            let col = block * LANES;
            let mut sums = [[_mm256_setzero_ps(); 2]; 4];
            let mut term = |s: usize, i: u32, v: f32| {
                // SAFETY: `check` (above) proved row `i` exists, and `col + 16 ≤ stride`:
                // the 16 floats at `i·stride + col` are inside `dense`.
                let p = unsafe { d.add(i as usize * stride + col) };
                let v = _mm256_set1_ps(v);
                // SAFETY: as above, both 8-float halves are in bounds.
                let (lo, hi) = unsafe { (_mm256_loadu_ps(p), _mm256_loadu_ps(p.add(8))) };
                sums[s][0] = madd(sums[s][0], v, lo);
                sums[s][1] = madd(sums[s][1], v, hi);
            };
            for (i, v) in index[..whole]
                .chunks_exact(4)
                .zip(values[..whole].chunks_exact(4))
            {
                term(0, i[0], v[0]);
                term(1, i[1], v[1]);
                term(2, i[2], v[2]);
                term(3, i[3], v[3]);
            }
            for (s, e) in (whole..index.len()).enumerate() {
                term(s, index[e], values[e]);
            }
            let mut row = [0.0f32; LANES];
            for (h, half) in row.chunks_exact_mut(8).enumerate() {
                let a = _mm256_add_ps(sums[0][h], sums[1][h]);
                let b = _mm256_add_ps(sums[2][h], sums[3][h]);
                // SAFETY: `half` is 8 floats, what one store writes.
                unsafe { _mm256_storeu_ps(half.as_mut_ptr(), _mm256_add_ps(a, b)) };
            }
            out.copy_from_slice(&row[..out.len()]);
        }
    }

    /// The AVX-512 `f32` version: up to four blocks of 16 columns per pass over the terms
    /// (16 accumulators of the 32 `zmm` registers), so that one index and one broadcast
    /// serve 64 columns; then the remaining blocks one at a time.
    ///
    /// # Safety
    /// The CPU must run AVX-512F. (The arguments are checked here, compiled for AVX-512.)
    #[target_feature(enable = "avx512f,fma")]
    unsafe fn avx512_f32(
        index: &[u32],
        values: &[f32],
        dense: &[f32],
        stride: usize,
        out: &mut [f32],
    ) {
        check(index, values, dense, stride, out);
        let mut col = 0;
        let mut rest = out;
        while rest.len() >= 4 * LANES {
            let (now, later) = rest.split_at_mut(4 * LANES);
            // SAFETY: the CPU runs AVX-512F (the caller's promise), `check` passed, and
            // `col + 64 ≤ out.len() ≤ stride`.
            unsafe { avx512_pass::<4>(index, values, dense, stride, col, now) };
            (rest, col) = (later, col + 4 * LANES);
        }
        for now in rest.chunks_mut(LANES) {
            // SAFETY: as above, and `col + 16 ≤ stride`, the stride being a multiple of 16
            // at least `out.len()`.
            unsafe { avx512_pass::<1>(index, values, dense, stride, col, now) };
            col += LANES;
        }
    }

    /// Columns `col..col + 16·B` of [`avx512_f32`] (`out` may be shorter in its last block).
    ///
    /// # Safety
    /// The CPU must run AVX-512F, [`check`] must have passed for these arguments, and
    /// `col + 16·B ≤ stride`.
    #[target_feature(enable = "avx512f,fma")]
    #[inline]
    unsafe fn avx512_pass<const B: usize>(
        index: &[u32],
        values: &[f32],
        dense: &[f32],
        stride: usize,
        col: usize,
        out: &mut [f32],
    ) {
        let d = dense.as_ptr();
        let mut sums = [[_mm512_setzero_ps(); B]; 4];
        let mut term = |s: usize, i: u32, v: f32| {
            // SAFETY: `check` proved row `i` exists; `col + 16·B ≤ stride` keeps the whole
            // run of 16·B floats inside it.
            let p = unsafe { d.add(i as usize * stride + col) };
            let v = _mm512_set1_ps(v);
            for (b, acc) in sums[s].iter_mut().enumerate() {
                // SAFETY: as above.
                let x = unsafe { _mm512_loadu_ps(p.add(LANES * b)) };
                *acc = _mm512_fmadd_ps(v, x, *acc);
            }
        };
        let whole = index.len() / 4 * 4;
        for (i, v) in index[..whole]
            .chunks_exact(4)
            .zip(values[..whole].chunks_exact(4))
        {
            term(0, i[0], v[0]);
            term(1, i[1], v[1]);
            term(2, i[2], v[2]);
            term(3, i[3], v[3]);
        }
        for (s, e) in (whole..index.len()).enumerate() {
            term(s, index[e], values[e]);
        }
        for (b, out) in out.chunks_mut(LANES).enumerate() {
            let a = _mm512_add_ps(sums[0][b], sums[1][b]);
            let c = _mm512_add_ps(sums[2][b], sums[3][b]);
            let mut row = [0.0f32; LANES];
            // SAFETY: `row` holds 16 floats.
            unsafe { _mm512_storeu_ps(row.as_mut_ptr(), _mm512_add_ps(a, c)) };
            out.copy_from_slice(&row[..out.len()]);
        }
    }

    pub(super) fn avx2<T: MulAdd>(
        index: &[u32],
        values: &[T],
        dense: &[T],
        stride: usize,
        out: &mut [T],
    ) {
        assert!(
            super::super::avx2::detected(),
            "the AVX2 sparse kernel on a CPU without AVX2"
        );
        // SAFETY: the CPU runs AVX2 (checked above); the body is safe code that checks its
        // slices, so the instruction set is the only requirement.
        unsafe { avx2_generic(index, values, dense, stride, out) }
    }

    pub(super) fn avx2_separate(
        index: &[u32],
        values: &[f32],
        dense: &[f32],
        stride: usize,
        out: &mut [f32],
    ) {
        // `avx2_f32` is compiled with FMA enabled too (its fused twin shares the body).
        assert!(
            super::super::avx2::fma_detected(),
            "the AVX2 sparse kernel on a CPU without AVX2 and FMA"
        );
        // SAFETY: the CPU runs AVX2 and FMA (checked just above).
        unsafe { avx2_f32::<false>(index, values, dense, stride, out) }
    }

    pub(super) fn fma(
        index: &[u32],
        values: &[f32],
        dense: &[f32],
        stride: usize,
        out: &mut [f32],
    ) {
        assert!(
            super::super::avx2::fma_detected(),
            "the FMA sparse kernel on a CPU without FMA"
        );
        // SAFETY: the CPU runs AVX2 and FMA (checked just above).
        unsafe { avx2_f32::<true>(index, values, dense, stride, out) }
    }

    pub(super) fn avx512(
        index: &[u32],
        values: &[f32],
        dense: &[f32],
        stride: usize,
        out: &mut [f32],
    ) {
        assert!(
            super::super::avx512::detected(),
            "the AVX-512 sparse kernel on a CPU without AVX-512F"
        );
        // SAFETY: the CPU runs AVX-512F and FMA (checked just above).
        unsafe { avx512_f32(index, values, dense, stride, out) }
    }
}

/// The `f32` kernel of each family.
pub(crate) fn f32_kernel(kernel: Kernel) -> CombineFn<f32> {
    #[cfg(target_arch = "x86_64")]
    if kernel.is_supported() {
        return match kernel {
            Kernel::Portable => portable::<f32>,
            Kernel::Avx2 => x86::avx2_separate,
            Kernel::Fma => x86::fma,
            Kernel::Avx512 => x86::avx512,
        };
    }
    let _ = kernel;
    portable::<f32>
}

/// The `f64` kernel of each family: never fused, AVX2 where the CPU has it.
pub(crate) fn f64_kernel(kernel: Kernel) -> CombineFn<f64> {
    #[cfg(target_arch = "x86_64")]
    if kernel != Kernel::Portable && super::avx2::detected() {
        return x86::avx2::<f64>;
    }
    let _ = kernel;
    portable::<f64>
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The documented order, written out plainly: term `e` into partial sum `e mod 4`,
    /// then `(s₀ + s₁) + (s₂ + s₃)`.
    fn reference(
        index: &[u32],
        values: &[f32],
        dense: &[f32],
        stride: usize,
        n: usize,
        fused: bool,
    ) -> Vec<f32> {
        (0..n)
            .map(|j| {
                let mut s = [0.0f32; 4];
                for (e, (&i, &v)) in index.iter().zip(values).enumerate() {
                    let d = dense[i as usize * stride + j];
                    s[e % 4] = if fused {
                        v.mul_add(d, s[e % 4])
                    } else {
                        s[e % 4] + v * d
                    };
                }
                (s[0] + s[1]) + (s[2] + s[3])
            })
            .collect()
    }

    #[test]
    fn every_kernel_keeps_the_documented_order_bit_for_bit() {
        let mut state = 7u32;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            (state % 2001) as f32 / 1000.0 - 1.0
        };
        // Widths around the 16-lane blocks and the AVX-512 kernel's 64-column passes;
        // term counts around the 4 partial sums, including none.
        for n in [1usize, 10, 15, 16, 17, 31, 48, 63, 64, 65, 100, 128, 130] {
            let stride = n.next_multiple_of(LANES) + if n % 3 == 0 { LANES } else { 0 };
            let rows = 37;
            let dense: Vec<f32> = (0..rows * stride).map(|_| next()).collect();
            for terms in [0, 1, 2, 3, 4, 5, 7, 8, 9, 33] {
                let index: Vec<u32> = (0..terms).map(|e| ((e * 11 + n) % rows) as u32).collect();
                let values: Vec<f32> = (0..terms).map(|_| next()).collect();
                for kernel in Kernel::supported() {
                    let mut out = vec![f32::NAN; n];
                    f32_kernel(kernel)(&index, &values, &dense, stride, &mut out);
                    let want = reference(
                        &index,
                        &values,
                        &dense,
                        stride,
                        n,
                        kernel.fuses_multiply_add(),
                    );
                    let same = out
                        .iter()
                        .zip(&want)
                        .all(|(a, b)| a.to_bits() == b.to_bits());
                    assert!(
                        same,
                        "{kernel} kernel, n {n}, {terms} terms: {out:?} != {want:?}"
                    );
                }
                let mut out = vec![f64::NAN; n];
                let dense64: Vec<f64> = dense.iter().map(|&d| d as f64).collect();
                let values64: Vec<f64> = values.iter().map(|&v| v as f64).collect();
                f64_kernel(Kernel::best())(&index, &values64, &dense64, stride, &mut out);
                for (j, o) in out.iter().enumerate() {
                    let exact: f64 = index
                        .iter()
                        .zip(&values64)
                        .map(|(&i, v)| v * dense64[i as usize * stride + j])
                        .sum();
                    assert!(
                        (o - exact).abs() < 1e-12,
                        "f64, n {n}, {terms} terms: {o} != {exact}"
                    );
                }
            }
        }
    }

    #[test]
    #[should_panic(expected = "row 5 of a dense matrix with 5 rows")]
    fn an_index_past_the_dense_rows_panics_before_any_read() {
        let dense = vec![1.0f32; 5 * 16];
        let mut out = [0.0f32; 16];
        f32_kernel(Kernel::best())(&[0, 5], &[1.0, 1.0], &dense, 16, &mut out);
    }

    #[test]
    #[should_panic(expected = "is not a multiple of 16")]
    fn a_stride_that_is_not_whole_blocks_panics() {
        let dense = vec![1.0f32; 40];
        let mut out = [0.0f32; 10];
        f32_kernel(Kernel::best())(&[0], &[1.0], &dense, 10, &mut out);
    }

    #[test]
    #[should_panic(expected = "2 indices for 1 values")]
    fn mismatched_indices_and_values_panic() {
        let dense = vec![1.0f32; 32];
        let mut out = [0.0f32; 16];
        f32_kernel(Kernel::best())(&[0, 1], &[1.0], &dense, 16, &mut out);
    }
}
