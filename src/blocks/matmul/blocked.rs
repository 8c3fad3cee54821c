//! The cache-blocked product, a step of the book's chapter "Making it fast" (the network
//! uses [`packed`](super::packed)).
//!
//! It computes the reference loop's sums in the same order, block by block, so that a block
//! of `B` is fetched into cache once and used for every row of `A`; each block is first
//! packed, so that an operand read transposed through a [`View`] is walked in memory order.
//! The loops are numbered as in BLIS (Van Zee & van de Geijn, 2015), and the packed product
//! keeps them, with a register-tiled micro-kernel at the bottom.

use super::{View, dims};
use crate::blocks::matrix::Matrix;
use crate::float::Float;

/// Columns of `B` (and `C`) per block: sizes loop 5. With `KC` it fixes the packed block of
/// `B` at `KC × NC` elements (128 KiB in `f32`, 256 KiB in `f64`), which fits in a typical
/// 256 KiB–2 MiB L2 cache and leaves room for the block of `A` streaming past it.
pub const NC: usize = 256;

/// Depth (rows of `B`, columns of `A`) per block: sizes loop 4. One row of `C`'s block
/// (`NC` elements, 1 KiB in `f32`) stays in L1 while all `KC` rows of `B`'s block are added
/// into it.
pub const KC: usize = 128;

/// Rows of `A` (and `C`) per block: sizes loop 3. The packed `MC × KC` block of `A` is
/// 32 KiB in `f32`, read once per row of `C` it produces.
pub const MC: usize = 64;

// ANCHOR: blocked
/// `c = a · b`, block by block. `c` is reshaped to `a.rows() × b.cols()`.
///
/// # Panics
/// If `a.cols() != b.rows()`; the message names both shapes.
pub fn gemm<T: Float>(a: View<'_, T>, b: View<'_, T>, c: &mut Matrix<T>) {
    let (m, _, n) = dims(&a, &b);
    c.reset(m, n);
    gemm_into(a, b, c.as_mut_slice());
}

/// `c += a · b` into a row-major `a.rows() × b.cols()` slice (zeroed by the caller for a
/// plain product). Writing into a plain slice is what would let a threaded driver hand each
/// thread its own band of rows; the packed product, which the driver in [`super`] runs, is
/// built the same way.
fn gemm_into<T: Float>(a: View<'_, T>, b: View<'_, T>, c: &mut [T]) {
    let (m, k, n) = dims(&a, &b);
    debug_assert_eq!(c.len(), m * n);
    if m == 0 || n == 0 || k == 0 {
        return; // an empty sum adds nothing
    }
    let mut packed_b = vec![T::ZERO; KC.min(k) * NC.min(n)];
    let mut packed_a = vec![T::ZERO; MC.min(m) * KC.min(k)];

    // LOOP 5: split the columns of B and C into panels NC wide.
    for jc in (0..n).step_by(NC) {
        let nc = NC.min(n - jc);
        // LOOP 4: split the shared dimension k into slices KC deep; pack the KC×NC block
        // of B, row-major, so the loops below read it contiguously.
        for pc in (0..k).step_by(KC) {
            let kc = KC.min(k - pc);
            let b_block = &mut packed_b[..kc * nc];
            pack(&b, pc, kc, jc, nc, b_block);
            // LOOP 3: split the rows of A and C into blocks MC tall; pack the MC×KC block
            // of A that meets the block of B.
            for ic in (0..m).step_by(MC) {
                let mc = MC.min(m - ic);
                let a_block = &mut packed_a[..mc * kc];
                pack(&a, ic, mc, pc, kc, a_block);
                // LOOP 2: every row of the A block against the whole B block.
                for (i, a_row) in a_block.chunks_exact(kc).enumerate() {
                    let row = ic + i;
                    let c_row = &mut c[row * n + jc..row * n + jc + nc];
                    // LOOP 1: one scaled row of B added to the row of C per step of p.
                    for (&a_ip, b_row) in a_row.iter().zip(b_block.chunks_exact(nc)) {
                        // LOOP 0: both rows are contiguous; the compiler vectorises this.
                        for (c_ij, &b_pj) in c_row.iter_mut().zip(b_row) {
                            *c_ij += a_ip * b_pj;
                        }
                    }
                }
            }
        }
    }
}
// ANCHOR_END: blocked

/// Copies rows `r0..r0+rows`, columns `c0..c0+cols` of `view` into `out`, row-major.
///
/// For a transposed view the source rows are columns of the stored matrix, so the loops run
/// over the view's columns on the outside: that walks the stored data in memory order.
fn pack<T: Float>(
    view: &View<'_, T>,
    r0: usize,
    rows: usize,
    c0: usize,
    cols: usize,
    out: &mut [T],
) {
    if view.is_transposed() {
        for c in 0..cols {
            for r in 0..rows {
                out[r * cols + c] = view.get(r0 + r, c0 + c);
            }
        }
    } else {
        for (r, out_row) in out.chunks_exact_mut(cols).enumerate().take(rows) {
            for (c, x) in out_row.iter_mut().enumerate() {
                *x = view.get(r0 + r, c0 + c);
            }
        }
    }
}
