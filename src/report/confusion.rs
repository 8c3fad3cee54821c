//! [`ConfusionMatrix`]: which classes are mistaken for which.
//!
//! Accuracy says how often a classifier is right; the confusion matrix says how it is wrong.
//! Row `t`, column `p` counts the samples of true class `t` predicted as `p`; the diagonal
//! holds the correct predictions. The book's chapter "Saving, loading and predicting" reads
//! one.
//!
//! ```
//! use simplenn::confusion::ConfusionMatrix;
//!
//! let truth = [0, 0, 1, 1, 2];
//! let predicted = [0, 1, 1, 1, 0];
//! let cm = ConfusionMatrix::new(3, &truth, &predicted);
//! assert_eq!(cm.count(0, 1), 1);        // one 0 taken for a 1
//! assert_eq!(cm.correct(), 3);
//! assert_eq!(cm.accuracy(), 0.6);
//! assert_eq!(cm.recall(2), Some(0.0));  // the only 2 was missed
//! ```

use std::fmt;

/// Counts of (true class, predicted class) pairs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfusionMatrix {
    classes: usize,
    /// Row-major `classes × classes`: `counts[t * classes + p]`.
    counts: Vec<usize>,
}

impl ConfusionMatrix {
    /// Tallies `truth[i]` against `predicted[i]` for every sample.
    ///
    /// # Panics
    /// If the slices differ in length or a class is `>= classes`.
    pub fn new(classes: usize, truth: &[usize], predicted: &[usize]) -> Self {
        assert_eq!(
            truth.len(),
            predicted.len(),
            "ConfusionMatrix: {} true labels but {} predictions",
            truth.len(),
            predicted.len()
        );
        let mut counts = vec![0; classes * classes];
        for (i, (&t, &p)) in truth.iter().zip(predicted).enumerate() {
            assert!(
                t < classes && p < classes,
                "ConfusionMatrix: sample {i} has true class {t} and prediction {p}, \
                 but there are only {classes} classes"
            );
            counts[t * classes + p] += 1;
        }
        ConfusionMatrix { classes, counts }
    }

    /// Number of classes.
    pub fn classes(&self) -> usize {
        self.classes
    }

    /// Samples of true class `truth` predicted as `predicted`.
    pub fn count(&self, truth: usize, predicted: usize) -> usize {
        self.counts[truth * self.classes + predicted]
    }

    /// Row `truth`: how the samples of that class were predicted.
    pub fn row(&self, truth: usize) -> &[usize] {
        &self.counts[truth * self.classes..(truth + 1) * self.classes]
    }

    /// Total number of samples.
    pub fn total(&self) -> usize {
        self.counts.iter().sum()
    }

    /// Number predicted correctly (the diagonal).
    pub fn correct(&self) -> usize {
        (0..self.classes).map(|c| self.count(c, c)).sum()
    }

    /// Fraction predicted correctly; 0 when there are no samples.
    pub fn accuracy(&self) -> f64 {
        match self.total() {
            0 => 0.0,
            total => self.correct() as f64 / total as f64,
        }
    }

    /// Of the samples truly in `class`, the fraction found; `None` if there are none.
    pub fn recall(&self, class: usize) -> Option<f64> {
        let row: usize = self.row(class).iter().sum();
        (row > 0).then(|| self.count(class, class) as f64 / row as f64)
    }

    /// Of the samples predicted as `class`, the fraction right; `None` if none were.
    pub fn precision(&self, class: usize) -> Option<f64> {
        let column: usize = (0..self.classes).map(|t| self.count(t, class)).sum();
        (column > 0).then(|| self.count(class, class) as f64 / column as f64)
    }

    /// The rows as vectors, e.g. for a JSON report.
    pub fn to_rows(&self) -> Vec<Vec<usize>> {
        (0..self.classes).map(|t| self.row(t).to_vec()).collect()
    }
}

/// A table with true classes down the side, predictions across the top, and each class's
/// recall at the end of its row.
impl fmt::Display for ConfusionMatrix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = self
            .counts
            .iter()
            .map(|c| c.to_string().len())
            .max()
            .unwrap_or(1)
            .max(self.classes.saturating_sub(1).to_string().len())
            .max(2);
        write!(f, "{:>6} |", "true")?;
        for p in 0..self.classes {
            write!(f, " {p:>width$}")?;
        }
        writeln!(f, " | recall")?;
        writeln!(f, "{}", "-".repeat(8 + self.classes * (width + 1) + 9))?;
        for t in 0..self.classes {
            write!(f, "{t:>6} |")?;
            for &c in self.row(t) {
                write!(f, " {c:>width$}")?;
            }
            match self.recall(t) {
                Some(r) => writeln!(f, " | {:5.1}%", 100.0 * r)?,
                None => writeln!(f, " |     -")?,
            }
        }
        Ok(())
    }
}
