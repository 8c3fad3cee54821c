//! The reference loop with two loops swapped: `i-k-j` instead of `i-j-k`.
//!
//! The sums are the same and are added in the same order, but the inner loop now runs along
//! a row of `B` and a row of `C`, both contiguous, and the compiler vectorises it. It is here
//! for the benchmarks and the book's chapter "Making it fast"; the network uses
//! [`packed`](super::packed).

use super::{View, dims};
use crate::blocks::matrix::Matrix;
use crate::float::Float;

// ANCHOR: reordered
/// `c = a · b` with the loops in `i-k-j` order. `c` is reshaped to `a.rows() × b.cols()`.
///
/// # Panics
/// If `a.cols() != b.rows()`; the message names both shapes.
pub fn gemm<T: Float>(a: View<'_, T>, b: View<'_, T>, c: &mut Matrix<T>) {
    let (m, k, n) = dims(&a, &b);
    c.reset(m, n);
    let mut b_row = vec![T::ZERO; n];
    for i in 0..m {
        let c_row = c.row_mut(i);
        for p in 0..k {
            let a_ip = a.get(i, p);
            // Row p of B, copied out when the view is transposed (its row is then strided).
            let b_row: &[T] = if b.col_stride == 1 {
                &b.data[p * b.row_stride..p * b.row_stride + n]
            } else {
                for (j, x) in b_row.iter_mut().enumerate() {
                    *x = b.get(p, j);
                }
                &b_row
            };
            for (c_ij, &b_pj) in c_row.iter_mut().zip(b_row) {
                *c_ij += a_ip * b_pj;
            }
        }
    }
}
// ANCHOR_END: reordered
