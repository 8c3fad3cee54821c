//! Softmax, cross-entropy, and their fusion, computed without overflow.
//!
//! Softmax subtracts each row's largest logit before exponentiating, and the loss is taken
//! in log-sum-exp form, so both are finite for any finite logits. The gradient of the mean
//! loss with respect to the logits is `(p − y)/m`, which is why the two are computed
//! together ([`softmax_cross_entropy`]) and never backpropagated through separately. The
//! book's chapter "Softmax and cross-entropy" derives all three.

use crate::blocks::matrix::Matrix;
use crate::float::Float;

// ANCHOR: softmax
/// Replaces each row of logits by its softmax, in place, stably (max subtracted first).
pub fn softmax_rows_inplace<T: Float>(z: &mut Matrix<T>) {
    let cols = z.cols();
    if cols == 0 {
        return;
    }
    for r in 0..z.rows() {
        let row = z.row_mut(r);
        let max = row.iter().copied().fold(row[0], T::max);
        let mut sum = T::ZERO;
        for x in row.iter_mut() {
            *x = (*x - max).exp(); // ≤ 1: cannot overflow
            sum += *x; // ≥ 1: the max term contributes e⁰
        }
        for x in row.iter_mut() {
            *x /= sum;
        }
    }
}
// ANCHOR_END: softmax

/// The softmax of each row of `z`, as a new matrix. See [`softmax_rows_inplace`].
///
/// ```
/// use simplenn::{Matrix, loss::softmax};
/// let p = softmax(&Matrix::<f32>::from_vec(1, 3, vec![1000.0, 1001.0, 1002.0]));
/// assert!((p[(0, 2)] - 0.665_240_9).abs() < 1e-6); // a naive e^1002 would be infinite
/// ```
pub fn softmax<T: Float>(z: &Matrix<T>) -> Matrix<T> {
    let mut p = z.clone();
    softmax_rows_inplace(&mut p);
    p
}

// ANCHOR: log_sum_exp
/// `ln Σⱼ e^{xⱼ}`, computed as `c + ln Σⱼ e^{xⱼ − c}` with `c = max xⱼ`, so that it is finite
/// whenever the inputs are (a naive sum overflows for inputs above 88 in `f32`).
/// Returns −∞ for an empty slice, the log of an empty sum.
pub fn log_sum_exp<T: Float>(xs: &[T]) -> T {
    let Some(&first) = xs.first() else {
        return T::from_f64(f64::NEG_INFINITY);
    };
    let c = xs.iter().copied().fold(first, T::max);
    let sum: T = xs.iter().map(|&x| (x - c).exp()).sum();
    c + sum.ln()
}
// ANCHOR_END: log_sum_exp

/// The mean cross-entropy of a batch of logits against its labels,
/// `(1/m) Σᵢ (log_sum_exp(zᵢ) − zᵢ,yᵢ)`, accumulated in `f64`.
///
/// # Panics
/// If `labels.len() != logits.rows()` or a label is not a column index of `logits`.
pub fn cross_entropy_with_logits<T: Float>(logits: &Matrix<T>, labels: &[usize]) -> f64 {
    check_labels(logits, labels);
    if labels.is_empty() {
        return 0.0;
    }
    let total: f64 = logits
        .row_iter()
        .zip(labels)
        .map(|(z, &y)| (log_sum_exp(z) - z[y]).to_f64())
        .sum();
    total / labels.len() as f64
}

// ANCHOR: fused
/// Softmax and cross-entropy together: returns the mean loss of the batch and overwrites
/// `logits` with the gradient of that loss with respect to the logits, `(p − y) / m`.
///
/// This is the output layer's step of backpropagation. The loss is accumulated in `f64` so
/// that a large batch of `f32` losses does not lose digits in the sum.
///
/// # Panics
/// If `labels.len() != logits.rows()` or a label is not a column index of `logits`.
pub fn softmax_cross_entropy_inplace<T: Float>(logits: &mut Matrix<T>, labels: &[usize]) -> f64 {
    check_labels(logits, labels);
    let m = labels.len();
    if m == 0 {
        return 0.0;
    }
    let inv_m = T::ONE / T::from_usize(m);
    let mut total = 0.0;
    for (r, &y) in labels.iter().enumerate() {
        let row = logits.row_mut(r);
        let lse = log_sum_exp(row);
        total += (lse - row[y]).to_f64(); // −ln p_y = ln Σ e^{z} − z_y
        for z in row.iter_mut() {
            *z = (*z - lse).exp() * inv_m; // p_j / m, since p_j = e^{z_j − lse}
        }
        row[y] -= inv_m; // (p_y − 1) / m
    }
    total / m as f64
}
// ANCHOR_END: fused

// ANCHOR: smoothed
/// [`softmax_cross_entropy_inplace`] against *smoothed* targets (label smoothing, Szegedy et
/// al., "Rethinking the Inception architecture", 2016): the true class gets `1 − ε + ε/K`
/// and every other class `ε/K`, where `K` is the number of classes, instead of 1 and 0.
/// Returns the mean loss `−Σⱼ tⱼ ln pⱼ` over the batch and overwrites `logits` with its
/// gradient `(p − t) / m`.
///
/// A one-hot target can only be reached with infinite logits, so plain cross-entropy keeps
/// rewarding a network for growing more confident about training samples it already gets
/// right. A smoothed target is reached at finite logits, so it stops doing that. The loss
/// no longer goes to 0: its minimum is the entropy of `t`.
///
/// Since `Σⱼ tⱼ = 1` and `ln pⱼ = zⱼ − lse`, the loss of one row is
/// `lse − Σⱼ tⱼ zⱼ = (lse − z_y) + ε·(z_y − mean(z))`: the plain loss plus a term that
/// vanishes at `ε = 0`, where this function gives the very same bits as
/// [`softmax_cross_entropy_inplace`].
///
/// # Panics
/// If `epsilon` is not in `[0, 1]`, `labels.len() != logits.rows()` or a label is not a
/// column index of `logits`.
pub fn softmax_cross_entropy_smoothed_inplace<T: Float>(
    logits: &mut Matrix<T>,
    labels: &[usize],
    epsilon: f64,
) -> f64 {
    assert!(
        (0.0..=1.0).contains(&epsilon),
        "label smoothing ε = {epsilon} is not in [0, 1]"
    );
    check_labels(logits, labels);
    let m = labels.len();
    if m == 0 {
        return 0.0;
    }
    let k = logits.cols();
    let inv_m = T::ONE / T::from_usize(m);
    let spread = T::from_f64(epsilon / k as f64) * inv_m; // every class's share, ε/K, over m
    let kept = T::from_f64(1.0 - epsilon) * inv_m; // the true class's extra 1 − ε, over m
    let mut total = 0.0;
    for (r, &y) in labels.iter().enumerate() {
        let row = logits.row_mut(r);
        let lse = log_sum_exp(row);
        let mean = row.iter().map(|z| z.to_f64()).sum::<f64>() / k as f64;
        total += (lse - row[y]).to_f64() + epsilon * (row[y].to_f64() - mean);
        for z in row.iter_mut() {
            *z = (*z - lse).exp() * inv_m - spread; // (p_j − ε/K) / m
        }
        row[y] -= kept; // (p_y − (1 − ε) − ε/K) / m
    }
    total / m as f64
}
// ANCHOR_END: smoothed

/// Like [`softmax_cross_entropy_smoothed_inplace`], leaving the logits alone: returns the
/// mean loss and the gradient `(p − t)/m` as a new matrix.
///
/// ```
/// use simplenn::{Matrix, loss::softmax_cross_entropy_smoothed};
/// // Two classes, equal logits: p = (½, ½). With ε = 0.2 the target of label 0 is
/// // (0.9, 0.1), so the gradient is p − t = (−0.4, 0.4) and the loss is ln 2.
/// let (loss, grad) = softmax_cross_entropy_smoothed(&Matrix::<f64>::zeros(1, 2), &[0], 0.2);
/// assert!((loss - 2f64.ln()).abs() < 1e-15);
/// assert!((grad[(0, 0)] + 0.4).abs() < 1e-15 && (grad[(0, 1)] - 0.4).abs() < 1e-15);
/// ```
pub fn softmax_cross_entropy_smoothed<T: Float>(
    logits: &Matrix<T>,
    labels: &[usize],
    epsilon: f64,
) -> (f64, Matrix<T>) {
    let mut grad = logits.clone();
    let loss = softmax_cross_entropy_smoothed_inplace(&mut grad, labels, epsilon);
    (loss, grad)
}

/// Like [`softmax_cross_entropy_inplace`], leaving the logits alone: returns the mean loss
/// and the gradient `(p − y)/m` as a new matrix.
pub fn softmax_cross_entropy<T: Float>(logits: &Matrix<T>, labels: &[usize]) -> (f64, Matrix<T>) {
    let mut grad = logits.clone();
    let loss = softmax_cross_entropy_inplace(&mut grad, labels);
    (loss, grad)
}

/// One-hot encoding: row `i` is all zeros but a one in column `labels[i]`.
///
/// # Panics
/// If a label is `>= classes`.
///
/// ```
/// use simplenn::loss::one_hot;
/// let y = one_hot::<f32>(&[2, 0], 3);
/// assert_eq!(y.as_slice(), &[0.0, 0.0, 1.0, 1.0, 0.0, 0.0]);
/// ```
pub fn one_hot<T: Float>(labels: &[usize], classes: usize) -> Matrix<T> {
    let mut y = Matrix::zeros(labels.len(), classes);
    for (i, &label) in labels.iter().enumerate() {
        assert!(
            label < classes,
            "one_hot: label {label} at index {i} is out of range for {classes} classes"
        );
        y[(i, label)] = T::ONE;
    }
    y
}

fn check_labels<T: Float>(logits: &Matrix<T>, labels: &[usize]) {
    assert_eq!(
        labels.len(),
        logits.rows(),
        "{} labels for a {}×{} matrix of logits: need one label per row",
        labels.len(),
        logits.rows(),
        logits.cols()
    );
    if let Some((i, &y)) = labels
        .iter()
        .enumerate()
        .find(|&(_, &y)| y >= logits.cols())
    {
        panic!(
            "label {y} at index {i} is out of range for {} classes",
            logits.cols()
        );
    }
}
