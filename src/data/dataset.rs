//! Data sets: images kept as bytes, their labels, and the loaders that read them from files.
//!
//! [`Images`] stays bytes and converts to floats in `[0, 1]` only the rows a mini-batch
//! needs ([`Inputs::gather`]): a quarter of the memory. The loaders read MNIST's IDX files,
//! raw or gzip-compressed (told apart by their first bytes, not their names), and Kaggle's
//! CSV, and check that the pieces fit together. The book's chapter "The data" says why
//! bytes, and "Reading files you cannot trust" what the loaders refuse.

use crate::blocks::matrix::Matrix;
use crate::blocks::rng::Rng;
use crate::data::samples::{Inputs, Samples};
use crate::error::{Error, Result};
use crate::float::Float;
use crate::{csv, gzip, idx};
use std::path::{Path, PathBuf};

/// Greyscale images of one size, stored as bytes, row-major, one image after another.
#[derive(Clone, PartialEq, Eq)]
pub struct Images {
    pixels: Vec<u8>,
    width: usize,
    height: usize,
}

impl Images {
    /// Wraps `pixels`: `pixels.len() / (width · height)` images of `width × height`.
    ///
    /// Errors (a [`Data`](crate::error::ErrorKind::Data) error) if the length is not a whole
    /// number of images or an image has no pixels.
    pub fn new(pixels: Vec<u8>, width: usize, height: usize) -> Result<Self> {
        let size = width
            .checked_mul(height)
            .filter(|&s| s > 0)
            .ok_or_else(|| Error::data(format!("bad image size {width}×{height}")))?;
        if !pixels.len().is_multiple_of(size) {
            return Err(Error::data(format!(
                "{} bytes is not a whole number of {width}×{height} images",
                pixels.len()
            )));
        }
        Ok(Images {
            pixels,
            width,
            height,
        })
    }

    /// Number of images.
    pub fn len(&self) -> usize {
        self.pixels.len() / (self.width * self.height)
    }

    /// True when there are no images.
    pub fn is_empty(&self) -> bool {
        self.pixels.is_empty()
    }

    /// Image width in pixels.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Image height in pixels.
    pub fn height(&self) -> usize {
        self.height
    }

    /// Pixels per image.
    pub fn pixels_per_image(&self) -> usize {
        self.width * self.height
    }

    /// Image `i`'s pixels, row by row.
    ///
    /// # Panics
    /// If `i >= len()`.
    pub fn image(&self, i: usize) -> &[u8] {
        let size = self.pixels_per_image();
        &self.pixels[i * size..(i + 1) * size]
    }

    /// All pixels, image after image.
    pub fn as_bytes(&self) -> &[u8] {
        &self.pixels
    }

    /// The images listed in `indices`, in that order.
    pub fn select(&self, indices: &[usize]) -> Images {
        let mut pixels = Vec::with_capacity(indices.len() * self.pixels_per_image());
        for &i in indices {
            pixels.extend_from_slice(self.image(i));
        }
        Images {
            pixels,
            width: self.width,
            height: self.height,
        }
    }

    /// Every image as a row of `f32`-or-`f64` pixels scaled to `[0, 1]`.
    pub fn to_matrix<T: Float>(&self) -> Matrix<T> {
        let all: Vec<usize> = (0..self.len()).collect();
        let mut m = Matrix::zeros(0, 0);
        Inputs::<T>::gather(self, &all, &mut m);
        m
    }
}

impl std::fmt::Debug for Images {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Images({} of {}×{})",
            self.len(),
            self.width,
            self.height
        )
    }
}

impl<T: Float> Inputs<T> for Images {
    fn len(&self) -> usize {
        Images::len(self)
    }
    fn features(&self) -> usize {
        self.pixels_per_image()
    }

    // ANCHOR: gather
    /// Converts just the requested images from bytes to `[0, 1]`: the data set stays
    /// bytes, and only one mini-batch at a time exists as floats.
    fn gather(&self, indices: &[usize], out: &mut Matrix<T>) {
        // Check first, so a bad index leaves `out` untouched rather than half-written.
        if let Some(&bad) = indices.iter().find(|&&i| i >= self.len()) {
            panic!("gather: image {bad} out of range for {} images", self.len());
        }
        let size = self.pixels_per_image();
        out.reset(indices.len(), size);
        let scale = T::ONE / T::from_f64(255.0);
        for (r, &i) in indices.iter().enumerate() {
            for (x, &p) in out.row_mut(r).iter_mut().zip(self.image(i)) {
                *x = T::from_f64(p as f64) * scale;
            }
        }
    }
    // ANCHOR_END: gather

    fn image_shape(&self) -> Option<(usize, usize)> {
        Some((self.width, self.height))
    }
}

/// Labelled images: what a network trains and is tested on.
#[derive(Clone, PartialEq, Eq)]
pub struct Dataset {
    images: Images,
    labels: Vec<u8>,
    classes: usize,
}

impl Dataset {
    /// Pairs images with their labels, checking that there is one label per image and that
    /// every label is below `classes`.
    pub fn new(images: Images, labels: Vec<u8>, classes: usize) -> Result<Self> {
        if labels.len() != images.len() {
            return Err(Error::data(format!(
                "{} images but {} labels",
                images.len(),
                labels.len()
            )));
        }
        if let Some((i, &y)) = labels
            .iter()
            .enumerate()
            .find(|&(_, &y)| y as usize >= classes)
        {
            return Err(Error::data(format!(
                "label {y} of image {i} is out of range for {classes} classes (0..={})",
                classes.saturating_sub(1)
            )));
        }
        Ok(Dataset {
            images,
            labels,
            classes,
        })
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// True when there are no samples.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Number of classes the labels range over.
    pub fn classes(&self) -> usize {
        self.classes
    }

    /// The images.
    pub fn images(&self) -> &Images {
        &self.images
    }

    /// The labels, one per image.
    pub fn labels(&self) -> &[u8] {
        &self.labels
    }

    /// The label of sample `i`.
    ///
    /// # Panics
    /// If `i >= len()`.
    pub fn label(&self, i: usize) -> usize {
        self.labels[i] as usize
    }

    /// The labels as `usize`, the form [`Network::evaluate`](crate::nn::network::Network::evaluate) takes.
    pub fn labels_usize(&self) -> Vec<usize> {
        self.labels.iter().map(|&y| y as usize).collect()
    }

    /// How many samples of each class.
    pub fn class_counts(&self) -> Vec<usize> {
        let mut counts = vec![0; self.classes];
        for &y in &self.labels {
            counts[y as usize] += 1;
        }
        counts
    }

    /// The samples listed in `indices`, in that order.
    pub fn select(&self, indices: &[usize]) -> Dataset {
        Dataset {
            images: self.images.select(indices),
            labels: indices.iter().map(|&i| self.labels[i]).collect(),
            classes: self.classes,
        }
    }

    /// Splits off a validation set: a seeded random `fraction` of the samples (rounded to
    /// the nearest whole sample) goes to the second set, the rest to the first. Each keeps
    /// the original order of its samples. The same seed gives the same split.
    ///
    /// It consumes the set and compacts the training part in place, so the images exist
    /// once, not twice, even for a moment: 47 MB for Fashion-MNIST, not 94.
    ///
    /// # Panics
    /// If `fraction` is not in `[0, 1]`.
    pub fn split(mut self, fraction: f64, seed: u64) -> (Dataset, Dataset) {
        assert!(
            (0.0..=1.0).contains(&fraction),
            "split: fraction {fraction} is not in [0, 1]"
        );
        let n = self.len();
        let held = ((n as f64) * fraction).round() as usize;
        let mut order: Vec<usize> = (0..n).collect();
        Rng::new(seed).shuffle(&mut order);
        let mut is_held = vec![false; n];
        for &i in &order[..held] {
            is_held[i] = true;
        }
        let validation_indices: Vec<usize> = (0..n).filter(|&i| is_held[i]).collect();
        let validation = self.select(&validation_indices);

        // Slide every kept sample down over the held-out ones.
        let size = self.images.pixels_per_image();
        let mut kept = 0;
        for i in (0..n).filter(|&i| !is_held[i]) {
            if kept != i {
                self.images
                    .pixels
                    .copy_within(i * size..(i + 1) * size, kept * size);
                self.labels[kept] = self.labels[i];
            }
            kept += 1;
        }
        self.images.pixels.truncate(kept * size);
        self.labels.truncate(kept);
        (self, validation)
    }
}

impl std::fmt::Debug for Dataset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Dataset({} of {}×{}, {} classes)",
            self.len(),
            self.images.width,
            self.images.height,
            self.classes
        )
    }
}

impl<T: Float> Inputs<T> for Dataset {
    fn len(&self) -> usize {
        Dataset::len(self)
    }
    fn features(&self) -> usize {
        self.images.pixels_per_image()
    }
    fn gather(&self, indices: &[usize], out: &mut Matrix<T>) {
        Inputs::<T>::gather(&self.images, indices, out);
    }
    fn image_shape(&self) -> Option<(usize, usize)> {
        Some((self.images.width, self.images.height))
    }
}

impl<T: Float> Samples<T> for Dataset {
    fn label(&self, i: usize) -> usize {
        Dataset::label(self, i)
    }
}

// ---------------------------------------------------------------------------------------
// Loading
// ---------------------------------------------------------------------------------------

/// The most bytes a decompressed data file may have: a little over what 256 Mi pixels
/// need. It keeps a corrupt or hostile `.gz` from making us allocate without bound.
pub const MAX_FILE_BYTES: usize = 1 << 28;

/// Reads a file, decompressing it if it starts with gzip's magic bytes. Errors name the
/// file; errors in the decompressed data should be marked with
/// [`Error::in_decompressed_data`] by the caller, as [`read_idx`] does.
pub fn read_maybe_gzip(path: &Path) -> Result<(Vec<u8>, bool)> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(e).in_file(path))?;
    if gzip::is_gzip(&bytes) {
        let data = gzip::decompress_limited(&bytes, MAX_FILE_BYTES).map_err(|e| e.in_file(path))?;
        Ok((data, true))
    } else {
        Ok((bytes, false))
    }
}

/// Reads an IDX file, raw or gzip-compressed.
pub fn read_idx(path: &Path) -> Result<idx::Idx> {
    let (bytes, compressed) = read_maybe_gzip(path)?;
    idx::parse_owned(bytes).map_err(|e| {
        let e = if compressed {
            e.in_decompressed_data()
        } else {
            e
        };
        e.in_file(path)
    })
}

// ANCHOR: load_idx
/// Loads a labelled set from an IDX image file (`[n, height, width]` bytes) and an IDX
/// label file (`[n]` bytes), each raw or gzip-compressed, with `classes` classes.
pub fn load_idx(images: &Path, labels: &Path, classes: usize) -> Result<Dataset> {
    let image_file = read_idx(images)?;
    let &[n, height, width] = image_file.dims.as_slice() else {
        return Err(Error::data(format!(
            "expected images of shape [count, height, width], found {} dimensions {:?}",
            image_file.dims.len(),
            image_file.dims
        ))
        .in_file(images));
    };
    let label_file = read_idx(labels)?;
    let &[m] = label_file.dims.as_slice() else {
        return Err(Error::data(format!(
            "expected labels of shape [count], found {} dimensions {:?}",
            label_file.dims.len(),
            label_file.dims
        ))
        .in_file(labels));
    };
    if n != m {
        return Err(Error::data(format!(
            "{n} images in {} but {m} labels in {}",
            images.display(),
            labels.display()
        )));
    }
    let images_set = Images::new(image_file.data, width, height).map_err(|e| e.in_file(images))?;
    Dataset::new(images_set, label_file.data, classes).map_err(|e| e.in_file(labels))
}
// ANCHOR_END: load_idx

/// A training set and, when the folder has one, a test set.
#[derive(Clone, Debug)]
pub struct DataDir {
    /// From `train-images-idx3-ubyte[.gz]` and `train-labels-idx1-ubyte[.gz]`.
    pub train: Dataset,
    /// From `t10k-images-idx3-ubyte[.gz]` and `t10k-labels-idx1-ubyte[.gz]`, if present.
    pub test: Option<Dataset>,
}

/// Finds `name` or `name.gz` in `dir`.
fn find(dir: &Path, name: &str) -> Option<PathBuf> {
    [dir.join(name), dir.join(format!("{name}.gz"))]
        .into_iter()
        .find(|p| p.is_file())
}

/// Loads a folder laid out like every MNIST mirror (and Fashion-MNIST): the training files
/// `train-images-idx3-ubyte` and `train-labels-idx1-ubyte`, and optionally the test files
/// `t10k-images-idx3-ubyte` and `t10k-labels-idx1-ubyte`, each raw or `.gz`. Labels must be
/// below `classes`.
pub fn load_dir(dir: &Path, classes: usize) -> Result<DataDir> {
    if !dir.is_dir() {
        return Err(Error::io(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "no such directory",
        ))
        .in_file(dir));
    }
    let pair = |prefix: &str| {
        let images = find(dir, &format!("{prefix}-images-idx3-ubyte"));
        let labels = find(dir, &format!("{prefix}-labels-idx1-ubyte"));
        (images, labels)
    };
    let train = match pair("train") {
        (Some(images), Some(labels)) => load_idx(&images, &labels, classes)?,
        (images, _) => {
            let missing = if images.is_none() {
                "train-images-idx3-ubyte"
            } else {
                "train-labels-idx1-ubyte"
            };
            return Err(Error::data(format!(
                "no {missing} or {missing}.gz here (expected the standard MNIST file names)"
            ))
            .in_file(dir));
        }
    };
    let test = match pair("t10k") {
        (Some(images), Some(labels)) => Some(load_idx(&images, &labels, classes)?),
        (None, None) => None,
        (Some(_), None) => {
            return Err(Error::data(
                "t10k-images-idx3-ubyte is here but t10k-labels-idx1-ubyte is not",
            )
            .in_file(dir));
        }
        (None, Some(_)) => {
            return Err(Error::data(
                "t10k-labels-idx1-ubyte is here but t10k-images-idx3-ubyte is not",
            )
            .in_file(dir));
        }
    };
    if let Some(test) = &test {
        let (a, b) = (train.images(), test.images());
        if (a.width(), a.height()) != (b.width(), b.height()) {
            return Err(Error::data(format!(
                "training images are {}×{} but test images are {}×{}",
                a.width(),
                a.height(),
                b.width(),
                b.height()
            ))
            .in_file(dir));
        }
    }
    Ok(DataDir { train, test })
}

/// A Kaggle-style CSV: images, and labels when the file has a label column.
#[derive(Clone, Debug)]
pub enum CsvData {
    /// `train.csv`: a label column, then the pixels.
    Labelled(Dataset),
    /// `test.csv`: pixels only.
    Unlabelled(Images),
}

/// Loads a Kaggle "Digit Recognizer" CSV (`label,pixel0,…,pixel783`, or the pixels alone).
/// The images must be square (784 = 28×28 pixels); labels must be below `classes`.
pub fn load_csv(path: &Path, classes: usize) -> Result<CsvData> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(e).in_file(path))?;
    let parsed = csv::parse(&bytes).map_err(|e| e.in_file(path))?;
    let side = (parsed.pixels_per_row as f64).sqrt().round() as usize;
    if side * side != parsed.pixels_per_row {
        return Err(Error::data(format!(
            "{} pixels per row is not a square image",
            parsed.pixels_per_row
        ))
        .in_file(path));
    }
    let images = Images::new(parsed.pixels, side, side).map_err(|e| e.in_file(path))?;
    Ok(match parsed.labels {
        Some(labels) => {
            CsvData::Labelled(Dataset::new(images, labels, classes).map_err(|e| e.in_file(path))?)
        }
        None => CsvData::Unlabelled(images),
    })
}
