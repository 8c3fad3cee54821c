//! The portable micro-kernel: plain Rust that the compiler turns into SIMD by itself.
//!
//! The tile of accumulators is a fixed-size array and every loop has a trip count known at
//! compile time, so the compiler unrolls them and keeps the tile in registers. It is the
//! kernel for other architectures, for `f64`, and the one `SIMPLENN_KERNEL=portable`
//! forces; the AVX2 module compiles the same generic `body` again, with AVX2 enabled and a
//! bigger tile, for `f64`. The book's chapter "Making it fast" measures it.

use super::{MicroKernel, Strided, check_tile};
use crate::float::Float;

/// The portable kernel for `T`, sized so that the tile takes 8 of the baseline's 16
/// 128-bit registers: 4×8 for `f32` (two registers per row), 4×4 for `f64`.
pub(crate) fn kernel<T: Float>() -> MicroKernel<T> {
    if size_of::<T>() == 4 {
        MicroKernel {
            mr: 4,
            nr: 8,
            run: body::<T, 4, 8>,
            narrow: None,
        }
    } else {
        MicroKernel {
            mr: 4,
            nr: 4,
            run: body::<T, 4, 4>,
            narrow: None,
        }
    }
}

// ANCHOR: portable_kernel
/// `C[0..MR][0..NR] += Ã·B̃`: the tile of `C` is loaded into `acc` (or, with
/// `accumulate` false, `acc` starts at zero), `kc` rank-1 updates are added to it
/// (`acc[i][j] += Ã[p][i] · B̃[p][j]`, a multiply and an add each rounded, in order of
/// `p`), and it is stored back.
///
/// # Panics
/// If the slices are too short (see [`MicroKernel`]).
#[inline(always)]
pub(crate) fn body<T: Float, const MR: usize, const NR: usize>(
    kc: usize,
    a: Strided<'_, T>,
    b: &[T],
    c: &mut [T],
    ldc: usize,
    accumulate: bool,
) {
    check_tile((MR, NR), kc, a, b, c, ldc);
    let mut acc = [[T::ZERO; NR]; MR];
    if accumulate {
        for (i, row) in acc.iter_mut().enumerate() {
            row.copy_from_slice(&c[i * ldc..i * ldc + NR]);
        }
    }
    // One step of p: a column of Ã times a row of B̃, added to the whole tile.
    for (p, b_row) in b.chunks_exact(NR).take(kc).enumerate() {
        let a_col: [T; MR] = std::array::from_fn(|i| a.data[i * a.rs + p * a.cs]);
        for i in 0..MR {
            for j in 0..NR {
                acc[i][j] += a_col[i] * b_row[j];
            }
        }
    }
    for (i, row) in acc.iter().enumerate() {
        c[i * ldc..i * ldc + NR].copy_from_slice(row);
    }
}
// ANCHOR_END: portable_kernel
