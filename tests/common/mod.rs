//! What the matrix-product tests share: the four forms a product's operands can be read
//! in, and operands stored for each.

#![allow(dead_code)] // each test file uses its own subset

use simplenn::matmul::View;
use simplenn::{Float, Matrix, Rng};

// ---------------------------------------------------------------------------------------
// Operands in each form
// ---------------------------------------------------------------------------------------

/// How the two operands are read: as stored, or transposed through a view.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Form {
    AB,
    AtB,
    ABt,
    AtBt,
}

pub const FORMS: [Form; 4] = [Form::AB, Form::AtB, Form::ABt, Form::AtBt];

impl Form {
    pub fn a_transposed(self) -> bool {
        matches!(self, Form::AtB | Form::AtBt)
    }
    pub fn b_transposed(self) -> bool {
        matches!(self, Form::ABt | Form::AtBt)
    }
}

/// The stored operands of an `m×k · k×n` product in a given form: `a` is stored `k×m` when
/// it is read transposed, `b` is stored `n×k` when it is.
pub struct Operands<T> {
    pub form: Form,
    pub m: usize,
    pub n: usize,
    pub a: Matrix<T>,
    pub b: Matrix<T>,
}

impl<T: Float> Operands<T> {
    /// Operands whose *logical* elements are `f(0, i, p)` for `A[i][p]` and `f(1, p, j)` for
    /// `B[p][j]`, whatever the storage.
    pub fn from_fn(
        form: Form,
        (m, k, n): (usize, usize, usize),
        mut f: impl FnMut(u8, usize, usize) -> T,
    ) -> Self {
        let a = if form.a_transposed() {
            Matrix::from_fn(k, m, |p, i| f(0, i, p))
        } else {
            Matrix::from_fn(m, k, |i, p| f(0, i, p))
        };
        let b = if form.b_transposed() {
            Matrix::from_fn(n, k, |j, p| f(1, p, j))
        } else {
            Matrix::from_fn(k, n, |p, j| f(1, p, j))
        };
        Operands { form, m, n, a, b }
    }

    /// Operands uniform in `[-1, 1)`.
    pub fn random(form: Form, shape: (usize, usize, usize), rng: &mut Rng) -> Self {
        Self::from_fn(form, shape, |_, _, _| T::from_f64(rng.uniform(-1.0, 1.0)))
    }

    pub fn views(&self) -> (View<'_, T>, View<'_, T>) {
        let a = if self.form.a_transposed() {
            self.a.t()
        } else {
            self.a.view()
        };
        let b = if self.form.b_transposed() {
            self.b.t()
        } else {
            self.b.view()
        };
        (a, b)
    }

    /// `A` (`m×k`) and `B` (`k×n`) as explicit matrices: transposed copies where needed.
    pub fn explicit(&self) -> (Matrix<T>, Matrix<T>) {
        let a = if self.form.a_transposed() {
            self.a.transpose()
        } else {
            self.a.clone()
        };
        let b = if self.form.b_transposed() {
            self.b.transpose()
        } else {
            self.b.clone()
        };
        (a, b)
    }
}
