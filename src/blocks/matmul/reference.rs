//! The reference matrix product: three nested loops, straight from the definition
//! `C[i][j] = Σₚ A[i][p] · B[p][j]`.
//!
//! It is slow (it walks `B` down a column, touching a new cache line for every multiply-add)
//! but it is short enough to be obviously right, which makes it the oracle that every faster
//! implementation is tested against.

use super::{View, dims};
use crate::blocks::matrix::Matrix;
use crate::float::Float;

// ANCHOR: reference
/// `a · b` by the definition: for every output element, a dot product.
///
/// # Panics
/// If `a.cols() != b.rows()`; the message names both shapes.
pub fn gemm<T: Float>(a: View<'_, T>, b: View<'_, T>) -> Matrix<T> {
    let (m, k, n) = dims(&a, &b);
    let mut c = Matrix::zeros(m, n);
    for i in 0..m {
        for j in 0..n {
            let mut sum = T::ZERO;
            for p in 0..k {
                sum += a.get(i, p) * b.get(p, j);
            }
            c[(i, j)] = sum;
        }
    }
    c
}
// ANCHOR_END: reference
