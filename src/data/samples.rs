//! How training and evaluation read their data: [`Inputs`] (a count, a width, and "write
//! these rows into a matrix") and [`Samples`] (inputs with a label each). With them,
//! [`Network::fit_with`](crate::nn::network::Network::fit_with) and friends work alike on a
//! [`Matrix`] of floats and a [`Dataset`](crate::data::dataset::Dataset) of bytes; the book's
//! chapter "The data" shows both.
//!
//! ```
//! use simplenn::{Matrix, samples::{Inputs, MatrixSamples, Samples}};
//!
//! let x = Matrix::<f32>::from_rows(&[[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]]);
//! let labels = [1, 0, 1];
//! let data = MatrixSamples::new(&x, &labels);
//! let mut batch = Matrix::zeros(0, 0);
//! data.gather(&[2, 0], &mut batch);
//! assert_eq!(batch.as_slice(), &[4.0, 5.0, 0.0, 1.0]);
//! assert_eq!(data.label(2), 1);
//! ```

use crate::blocks::matrix::Matrix;
use crate::float::Float;

/// Samples to feed a network: a count, a width, and a way to copy rows into a matrix.
pub trait Inputs<T: Float> {
    /// Number of samples.
    fn len(&self) -> usize;

    /// True when there are no samples.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Features per sample (784 for a 28×28 image).
    fn features(&self) -> usize;

    /// Writes samples `indices`, in that order, as the rows of `out` (reshaped to
    /// `indices.len() × features`), in the form the network takes (pixels scaled to [0, 1]).
    fn gather(&self, indices: &[usize], out: &mut Matrix<T>);

    /// The whole set as one matrix, when it already is one: lets full-batch training and
    /// evaluation read it in place instead of copying it.
    fn as_matrix(&self) -> Option<&Matrix<T>> {
        None
    }

    /// `(width, height)` when every sample is an image of that size, stored row by row
    /// (`width · height == features()`); `None` when the samples are not known to be
    /// images. Augmentation ([`TrainConfig::shift`](crate::train::TrainConfig::shift),
    /// `rotation` and `scale`) needs it.
    fn image_shape(&self) -> Option<(usize, usize)> {
        None
    }
}

/// Inputs with a class label each.
pub trait Samples<T: Float>: Inputs<T> {
    /// The label of sample `i`.
    fn label(&self, i: usize) -> usize;
}

/// A matrix (one sample per row) and its labels, as [`Samples`].
#[derive(Clone, Copy, Debug)]
pub struct MatrixSamples<'a, T: Float> {
    x: &'a Matrix<T>,
    labels: &'a [usize],
    image_shape: Option<(usize, usize)>,
}

impl<'a, T: Float> MatrixSamples<'a, T> {
    /// Pairs `x` with `labels`.
    ///
    /// # Panics
    /// If `labels.len() != x.rows()`.
    pub fn new(x: &'a Matrix<T>, labels: &'a [usize]) -> Self {
        assert_eq!(
            labels.len(),
            x.rows(),
            "{} labels for {} samples (a {}×{} matrix): need one label per row",
            labels.len(),
            x.rows(),
            x.rows(),
            x.cols()
        );
        MatrixSamples {
            x,
            labels,
            image_shape: None,
        }
    }

    /// Declares that each row is a `width × height` image, row by row, so that training can
    /// shift, turn and scale it ([`TrainConfig::shift`](crate::train::TrainConfig::shift)).
    ///
    /// ```
    /// use simplenn::{Matrix, samples::{Inputs, MatrixSamples}};
    /// let x = Matrix::<f32>::zeros(5, 12);
    /// let labels = [0; 5];
    /// let images = MatrixSamples::new(&x, &labels).with_image_shape(4, 3);
    /// assert_eq!(images.image_shape(), Some((4, 3)));
    /// ```
    ///
    /// # Panics
    /// If `width · height` is not the number of columns.
    pub fn with_image_shape(mut self, width: usize, height: usize) -> Self {
        assert!(
            width.checked_mul(height) == Some(self.x.cols()),
            "with_image_shape: {width}×{height} images do not fill rows of {} columns",
            self.x.cols()
        );
        self.image_shape = Some((width, height));
        self
    }
}

impl<T: Float> Inputs<T> for MatrixSamples<'_, T> {
    fn len(&self) -> usize {
        self.x.rows()
    }
    fn features(&self) -> usize {
        self.x.cols()
    }
    fn gather(&self, indices: &[usize], out: &mut Matrix<T>) {
        self.x.gather_rows_into(indices, out);
    }
    fn as_matrix(&self) -> Option<&Matrix<T>> {
        Some(self.x)
    }
    fn image_shape(&self) -> Option<(usize, usize)> {
        self.image_shape
    }
}

impl<T: Float> Samples<T> for MatrixSamples<'_, T> {
    fn label(&self, i: usize) -> usize {
        self.labels[i]
    }
}

impl<T: Float> Inputs<T> for Matrix<T> {
    fn len(&self) -> usize {
        self.rows()
    }
    fn features(&self) -> usize {
        self.cols()
    }
    fn gather(&self, indices: &[usize], out: &mut Matrix<T>) {
        self.gather_rows_into(indices, out);
    }
    fn as_matrix(&self) -> Option<&Matrix<T>> {
        Some(self)
    }
}
