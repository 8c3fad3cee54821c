//! Softmax and cross-entropy: known values, invariants, and inputs that would overflow a
//! naive implementation.
//!
//! Expected values are computed here from the definitions, in `f64`, with the shift by the
//! maximum done by hand where the numbers would otherwise overflow (e.g. softmax of
//! [1000, 1001, 1002] is softmax of [−2, −1, 0]).

use simplenn::Matrix;
use simplenn::loss::{
    cross_entropy_with_logits, log_sum_exp, one_hot, softmax, softmax_cross_entropy,
    softmax_cross_entropy_smoothed, softmax_rows_inplace,
};
use simplenn::{Float, Rng};

/// softmax([a, b, c]) from the definition, for small arguments.
fn softmax_by_definition(z: &[f64]) -> Vec<f64> {
    let e: Vec<f64> = z.iter().map(|x| x.exp()).collect();
    let s: f64 = e.iter().sum();
    e.iter().map(|x| x / s).collect()
}

#[test]
fn a_naive_softmax_overflows_where_ours_does_not() {
    // The failure we guard against, shown: e^1000 is infinite, ∞/∞ is NaN.
    let naive = (1000.0f64).exp() / ((1000.0f64).exp() + (1001.0f64).exp());
    assert!(naive.is_nan());
    let naive32 = (100.0f32).exp(); // f32 overflows already above ~88.7
    assert!(naive32.is_infinite());

    let p = softmax(&Matrix::<f64>::from_vec(1, 3, vec![1000.0, 1001.0, 1002.0]));
    let expected = softmax_by_definition(&[-2.0, -1.0, 0.0]);
    for (got, want) in p.row(0).iter().zip(&expected) {
        assert!((got - want).abs() < 1e-15, "{got} vs {want}");
    }
    // The known values: e^{-2}, e^{-1}, 1 over their sum.
    assert!((p[(0, 2)] - 0.665_240_955_774_821_5).abs() < 1e-15);
    assert!((p[(0, 0)] - 0.090_030_573_170_380_46).abs() < 1e-15);
}

#[test]
fn large_logits_in_f32_give_finite_correct_probabilities() {
    let p = softmax(&Matrix::<f32>::from_vec(1, 3, vec![1000.0, 1001.0, 1002.0]));
    let expected = softmax_by_definition(&[-2.0, -1.0, 0.0]);
    for (got, want) in p.row(0).iter().zip(&expected) {
        assert!(got.is_finite());
        assert!((*got as f64 - want).abs() < 1e-6, "{got} vs {want}");
    }
}

#[test]
fn very_negative_logits_do_not_underflow_to_nan() {
    // Every e^z underflows to 0 here; a naive softmax computes 0/0.
    assert_eq!((-1e4f64).exp(), 0.0);
    let p = softmax(&Matrix::<f64>::from_vec(1, 4, vec![-1e4; 4]));
    for &x in p.row(0) {
        assert!((x - 0.25).abs() < 1e-15);
    }
    // Mixed: one logit dominates completely.
    let p = softmax(&Matrix::<f32>::from_vec(1, 2, vec![-1e4, 0.0]));
    assert_eq!(p.as_slice(), &[0.0, 1.0]);
}

#[test]
fn loss_is_finite_and_right_for_extreme_logits() {
    // L = log_sum_exp(z) − z_y. For [1000, 1001, 1002] and y = 0:
    // 1002 + ln(1 + e^{-1} + e^{-2}) − 1000 = 2 + ln(1 + e^{-1} + e^{-2}).
    let want = 2.0 + (1.0 + (-1.0f64).exp() + (-2.0f64).exp()).ln();
    let z = Matrix::<f64>::from_vec(1, 3, vec![1000.0, 1001.0, 1002.0]);
    let loss = cross_entropy_with_logits(&z, &[0]);
    assert!((loss - want).abs() < 1e-12, "{loss} vs {want}");
    // In f32 the answer is a difference of numbers near 1000, whose spacing is 6·10⁻⁵.
    let loss32 = cross_entropy_with_logits(&z.cast::<f32>(), &[0]);
    assert!((loss32 - want).abs() < 2e-4, "{loss32} vs {want}");

    // A confidently wrong prediction: p_y = e^{-1e4}/(1 + e^{-1e4}) underflows to 0, so
    // −ln p_y computed naively is ∞. The true loss is ≈ 1e4.
    let z = Matrix::<f32>::from_vec(1, 2, vec![-1e4, 0.0]);
    let loss = cross_entropy_with_logits(&z, &[0]);
    assert!((loss - 1e4).abs() < 1e-2, "{loss}");
    // ...and a confidently right one costs nothing.
    assert!(cross_entropy_with_logits(&z, &[1]).abs() < 1e-6);
}

#[test]
fn fused_gradient_is_p_minus_y_over_m() {
    let z = Matrix::<f64>::from_vec(2, 3, vec![0.5, -1.0, 2.0, 1000.0, 1001.0, 1002.0]);
    let labels = [2, 0];
    let (loss, grad) = softmax_cross_entropy(&z, &labels);
    let p = softmax(&z);
    let y = one_hot::<f64>(&labels, 3);
    let mut want = p.sub(&y);
    want.scale(0.5);
    // The fused form computes e^{z − lse} with lse ≈ 1002.4 rounded to 1.1·10⁻¹³, so the two
    // routes agree to that, not to the last bit.
    assert!(grad.max_abs_diff(&want) < 1e-12);
    assert!((loss - cross_entropy_with_logits(&z, &labels)).abs() < 1e-15);
    // Each gradient row sums to zero: (Σp − 1)/m.
    for s in grad.row_sums() {
        assert!(s.abs() < 1e-12);
    }
}

#[test]
fn softmax_rows_are_distributions_and_preserve_order() {
    let z = Matrix::<f32>::from_fn(5, 7, |r, c| ((r * 7 + c) as f32 * 1.7).sin() * 20.0);
    let mut p = z.clone();
    softmax_rows_inplace(&mut p);
    for r in 0..5 {
        let sum: f32 = p.row(r).iter().sum();
        assert!((sum - 1.0).abs() < 1e-6);
        assert!(p.row(r).iter().all(|&x| (0.0..=1.0).contains(&x)));
        for a in 0..7 {
            for b in 0..7 {
                if z[(r, a)] < z[(r, b)] {
                    assert!(p[(r, a)] <= p[(r, b)]);
                }
            }
        }
    }
    assert_eq!(p.argmax_rows(), z.argmax_rows());
}

#[test]
fn uniform_logits_give_loss_ln_k() {
    // With k equal logits every class has probability 1/k and the loss is ln k.
    for k in [2usize, 10, 1000] {
        let z = Matrix::<f64>::filled(3, k, 7.0);
        let loss = cross_entropy_with_logits(&z, &[0, k - 1, k / 2]);
        assert!((loss - (k as f64).ln()).abs() < 1e-12, "k = {k}");
    }
}

#[test]
fn log_sum_exp_known_values() {
    assert!((log_sum_exp(&[0.0f64, 0.0]) - 2f64.ln()).abs() < 1e-15);
    assert_eq!(log_sum_exp(&[5.0f64]), 5.0);
    assert!((log_sum_exp(&[1000.0f64, 1000.0]) - (1000.0 + 2f64.ln())).abs() < 1e-12);
    assert!((log_sum_exp(&[-1e4f32, -1e4]) - (-1e4 + 2f32.ln())).abs() < 1e-2);
    assert_eq!(log_sum_exp::<f64>(&[]), f64::NEG_INFINITY);
}

#[test]
fn one_hot_encodes_labels() {
    let y = one_hot::<f32>(&[0, 2, 1], 3);
    assert_eq!(y.as_slice(), &[1., 0., 0., 0., 0., 1., 0., 1., 0.]);
    assert_eq!(one_hot::<f32>(&[], 4).shape(), (0, 4));
}

#[test]
#[should_panic(expected = "label 3 at index 1 is out of range for 3 classes")]
fn one_hot_rejects_out_of_range_labels() {
    one_hot::<f32>(&[0, 3], 3);
}

#[test]
#[should_panic(expected = "2 labels for a 3×4 matrix of logits")]
fn loss_rejects_a_label_count_mismatch() {
    cross_entropy_with_logits(&Matrix::<f32>::zeros(3, 4), &[0, 1]);
}

/// The smoothed targets of one row, `(1 − ε)·y + ε/K`, from the definition.
fn smoothed_target(label: usize, classes: usize, epsilon: f64) -> Vec<f64> {
    (0..classes)
        .map(|j| epsilon / classes as f64 + if j == label { 1.0 - epsilon } else { 0.0 })
        .collect()
}

#[test]
fn label_smoothing_of_zero_is_exactly_the_plain_loss() {
    // Bit for bit, loss and gradient, in both precisions, for ordinary and extreme logits.
    fn check<T: Float>(logits: &Matrix<T>, labels: &[usize]) {
        let (loss, grad) = softmax_cross_entropy(logits, labels);
        let (loss0, grad0) = softmax_cross_entropy_smoothed(logits, labels, 0.0);
        assert_eq!(loss.to_bits(), loss0.to_bits());
        assert!(grad == grad0, "{grad:?} vs {grad0:?}");
    }
    let mut rng = Rng::new(6);
    let labels = [0, 9, 3, 3, 7];
    let logits = Matrix::<f64>::random_normal(5, 10, 0.0, 4.0, &mut rng);
    check(&logits, &labels);
    check(&logits.cast::<f32>(), &labels);
    let extreme = logits.map(|z| 1000.0 * z);
    check(&extreme, &labels);
    check(&extreme.cast::<f32>(), &labels);
}

#[test]
fn smoothed_loss_and_gradient_match_the_definition() {
    // L = −(1/m) Σᵢ Σⱼ tᵢⱼ ln pᵢⱼ and ∂L/∂z = (p − t)/m, with p and t from the definitions.
    let mut rng = Rng::new(8);
    for epsilon in [0.05, 0.1, 0.5, 1.0] {
        let (m, k) = (4, 6);
        let logits = Matrix::<f64>::random_normal(m, k, 0.0, 2.0, &mut rng);
        let labels = [5, 0, 2, 2];
        let (loss, grad) = softmax_cross_entropy_smoothed(&logits, &labels, epsilon);
        let mut want = 0.0;
        for (i, &y) in labels.iter().enumerate() {
            let p = softmax_by_definition(logits.row(i));
            let t = smoothed_target(y, k, epsilon);
            want -= (0..k).map(|j| t[j] * p[j].ln()).sum::<f64>() / m as f64;
            for j in 0..k {
                let g = (p[j] - t[j]) / m as f64;
                assert!((grad[(i, j)] - g).abs() < 1e-16, "ε {epsilon}: ({i}, {j})");
            }
        }
        assert!((loss - want).abs() < 1e-14, "ε {epsilon}: {loss} vs {want}");
        // Each gradient row sums to zero: p and t are both distributions.
        for sum in grad.row_sums() {
            assert!(sum.abs() < 1e-16, "ε {epsilon}: {sum}");
        }
    }
}

#[test]
fn the_smoothed_target_is_the_minimum() {
    // At logits ln t, softmax gives back t: the gradient vanishes and the loss is the
    // entropy of t, −Σ t ln t, the smallest it can be (plain cross-entropy has no minimum
    // at finite logits).
    let (k, epsilon) = (10, 0.1);
    let t = smoothed_target(3, k, epsilon);
    let logits = Matrix::from_vec(1, k, t.iter().map(|p| p.ln()).collect());
    let (loss, grad) = softmax_cross_entropy_smoothed(&logits, &[3], epsilon);
    let entropy: f64 = -t.iter().map(|p| p * p.ln()).sum::<f64>();
    assert!((loss - entropy).abs() < 1e-14, "{loss} vs {entropy}");
    assert!(grad.as_slice().iter().all(|g| g.abs() < 1e-15), "{grad:?}");
    // Growing more confident than the target now costs: more loss, not less.
    let mut sure = logits.clone();
    sure[(0, 3)] += 1.0;
    let (loss_sure, _) = softmax_cross_entropy_smoothed(&sure, &[3], epsilon);
    assert!(loss_sure > loss);
    assert!(cross_entropy_with_logits(&sure, &[3]) < cross_entropy_with_logits(&logits, &[3]));
}

#[test]
fn smoothed_loss_is_finite_for_extreme_logits() {
    // The same log-sum-exp shift protects it: logits near ±1e4 in f32.
    let z = Matrix::<f32>::from_vec(1, 3, vec![1e4, -1e4, 0.0]);
    let (loss, grad) = softmax_cross_entropy_smoothed(&z, &[0], 0.3);
    // p ≈ (1, 0, 0); t = (0.8, 0.1, 0.1). −Σ t ln p = −0.1·(−2e4) − 0.1·(−1e4) = 3000.
    assert!((loss - 3000.0).abs() < 1e-1, "{loss}");
    assert!(grad.as_slice().iter().all(|g| g.is_finite()));
    assert!((grad[(0, 0)] - 0.2).abs() < 1e-6, "{grad:?}");
}

#[test]
#[should_panic(expected = "label smoothing ε = 1.5 is not in [0, 1]")]
fn smoothing_outside_zero_to_one_is_refused() {
    softmax_cross_entropy_smoothed(&Matrix::<f64>::zeros(1, 2), &[0], 1.5);
}

/// The squared error `½ Σⱼ (pⱼ − yⱼ)²` of softmax probabilities, from the definition.
fn squared_error(z: &[f64], y: usize) -> f64 {
    let p = softmax_by_definition(z);
    p.iter()
        .enumerate()
        .map(|(j, &pj)| 0.5 * (pj - if j == y { 1.0 } else { 0.0 }).powi(2))
        .sum()
}

#[test]
fn squared_error_barely_moves_a_confidently_wrong_network_where_cross_entropy_pushes_hard() {
    // The book's example: logits (0, 8) for an image of class 0. The network gives its own
    // class p₀ = 1/(1 + e⁸) ≈ 0.000335: confidently wrong.
    let (z, y) = ([0.0, 8.0], 0);
    let p0 = 1.0 / (1.0 + 8f64.exp());
    assert!((p0 - 3.3535e-4).abs() < 1e-8);

    // Cross-entropy: ∂L/∂z₀ = p₀ − 1, close to −1.
    let (_, grad) = softmax_cross_entropy(&Matrix::<f64>::from_rows(&[z]), &[y]);
    assert!((grad[(0, 0)] - (p0 - 1.0)).abs() < 1e-15);

    // Squared error: ∂L/∂z₀ = −2·p₀·(1 − p₀)², by central differences of the definition.
    let h = 1e-5;
    let numeric =
        (squared_error(&[z[0] + h, z[1]], y) - squared_error(&[z[0] - h, z[1]], y)) / (2.0 * h);
    let closed = -2.0 * p0 * (1.0 - p0).powi(2);
    assert!((numeric - closed).abs() < 1e-9, "{numeric} vs {closed}");
    assert!((closed - -6.7025e-4).abs() < 1e-8, "{closed}");

    // About 1,500 times weaker: the more wrong the network, the less squared error moves it.
    let ratio = grad[(0, 0)] / closed;
    assert!((1490.0..1492.0).contains(&ratio), "{ratio}");
}
