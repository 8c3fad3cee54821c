//! [`Shape`]: what one sample looks like as it flows from layer to layer.
//!
//! A batch is always a [`Matrix`](crate::blocks::matrix::Matrix) with one sample per row; a
//! `Shape` says how a row is laid out, `height × width` pixels of `channels` values, so that
//! the network can check that each layer's output is what the next one takes. Rows are
//! stored **channels last**: value `(y, x, c)` is element `(y·W + x)·C + c`, all channels of
//! a pixel side by side, the order a convolution computed as a matrix product produces
//! (PyTorch stores channels first). A grey image is then its pixels row by row, and a flat
//! vector of `n` features is `1 × 1` with `n` channels. The book's chapter "Convolutional
//! networks" says why.

use std::fmt;

/// The shape of one sample: `height × width` pixels of `channels` values each, stored
/// channels last (see the [module documentation](self)).
///
/// ```
/// use simplenn::Shape;
/// let digit = Shape::image(28, 28, 1);
/// assert_eq!(digit.volume(), 784);
/// assert_eq!(digit.to_string(), "1×28×28"); // channels × height × width
/// assert_eq!(Shape::flat(10).to_string(), "10");
/// let maps = Shape::image(14, 14, 16);
/// assert_eq!(maps.index(1, 2, 3), (1 * 14 + 2) * 16 + 3);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Shape {
    /// Rows of pixels.
    pub height: usize,
    /// Pixels per row.
    pub width: usize,
    /// Values per pixel: 1 for a grey image, the number of feature maps after a convolution,
    /// the number of features of a flat vector.
    pub channels: usize,
}

impl Shape {
    /// An image of `height × width` pixels with `channels` values each.
    pub const fn image(height: usize, width: usize, channels: usize) -> Self {
        Shape {
            height,
            width,
            channels,
        }
    }

    /// A flat vector of `features` numbers, what a dense layer takes and gives: a `1 × 1`
    /// image with `features` channels.
    pub const fn flat(features: usize) -> Self {
        Shape::image(1, 1, features)
    }

    /// True for a flat vector (`1 × 1` pixels).
    pub const fn is_flat(self) -> bool {
        self.height == 1 && self.width == 1
    }

    /// The number of values, `height · width · channels`: the length of a sample's row.
    ///
    /// # Panics
    /// If the product overflows `usize` (see [`checked_volume`](Self::checked_volume)).
    pub fn volume(self) -> usize {
        self.checked_volume()
            .unwrap_or_else(|| panic!("the shape {self} has more values than a usize counts"))
    }

    /// The number of values, or `None` if it overflows `usize`: how a model file that
    /// describes absurd shapes is refused.
    pub fn checked_volume(self) -> Option<usize> {
        self.height
            .checked_mul(self.width)?
            .checked_mul(self.channels)
    }

    /// Where value `(y, x, c)` sits in a sample's row: `(y·width + x)·channels + c`.
    #[inline]
    pub fn index(self, y: usize, x: usize, c: usize) -> usize {
        debug_assert!(y < self.height && x < self.width && c < self.channels);
        (y * self.width + x) * self.channels + c
    }
}

/// `784` for a flat vector, `16×14×14` (channels × height × width, the order people write
/// and PyTorch prints) for an image.
impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_flat() {
            write!(f, "{}", self.channels)
        } else {
            write!(f, "{}×{}×{}", self.channels, self.height, self.width)
        }
    }
}

impl From<usize> for Shape {
    /// A flat vector of that many features: `Network::builder(784)` means `Shape::flat(784)`.
    fn from(features: usize) -> Self {
        Shape::flat(features)
    }
}

/// Why a layer cannot be built on the shape it is given: each reason names the sizes.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ShapeError {
    /// A size that must be at least 1 is 0; the message says which, with the sizes given.
    Zero(String),
    /// A kernel (with its padding, in pixels per side) or a pooling window (`padding`
    /// `None`) larger than the image it slides over.
    DoesNotFit {
        /// The window's side.
        window: usize,
        /// The image's height.
        height: usize,
        /// The image's width.
        width: usize,
        /// A convolution's padding; `None` for pooling.
        padding: Option<usize>,
    },
    /// "Same" padding asked of an even kernel, which cannot pad both sides equally.
    EvenSame {
        /// The kernel's side.
        kernel: usize,
    },
    /// More values or parameters than can be counted (or indexed); the message says which.
    TooLarge(String),
    /// Weights and bias that do not fit each other or the input; the message says how.
    Parameters(String),
}

impl fmt::Display for ShapeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ShapeError::Zero(m) | ShapeError::TooLarge(m) | ShapeError::Parameters(m) => {
                f.write_str(m)
            }
            ShapeError::DoesNotFit {
                window: k,
                height,
                width,
                padding: Some(p),
            } => write!(
                f,
                "a {k}×{k} kernel does not fit the {height}×{width} image with {p} pixels of \
                 padding"
            ),
            ShapeError::DoesNotFit {
                window: k,
                height,
                width,
                padding: None,
            } => write!(
                f,
                "a {k}×{k} pooling window does not fit the {height}×{width} image"
            ),
            ShapeError::EvenSame { kernel } => write!(
                f,
                "'same' padding needs an odd kernel size, so that both sides get the same \
                 padding; {kernel} is even"
            ),
        }
    }
}

impl std::error::Error for ShapeError {}
