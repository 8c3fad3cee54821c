//! Axis ticks at "nice" numbers, 1, 2 or 5 times a power of ten, as in Heckbert's "Nice
//! numbers for graph labels" (Graphics Gems, 1990), computed so that every label prints as
//! the short decimal it is (`0.3`, never `0.30000000000000004`).

/// Tick values for an axis covering `[min, max]`: equally spaced multiples of a step that is
/// 1, 2 or 5 times a power of ten, with the first tick at or below `min` and the last at or
/// above `max`, and at most `max_intervals` intervals between them.
///
/// The step is the smallest such number that needs no more than `max_intervals` intervals,
/// so the axis is as finely labelled as allowed. An empty or single-value range is widened
/// first (by 10% of the value, or by 1 around zero); non-finite input, `min > max`, or a
/// span too wide for `f64` gives the ticks of `[0, 1]`.
///
/// ```
/// use simplenn::plot::nice_ticks;
/// assert_eq!(nice_ticks(0.0, 2.3, 6), [0.0, 0.5, 1.0, 1.5, 2.0, 2.5]);
/// assert_eq!(nice_ticks(1.0, 600.0, 6), [0.0, 100.0, 200.0, 300.0, 400.0, 500.0, 600.0]);
/// assert_eq!(nice_ticks(0.8, 0.97, 6), [0.8, 0.85, 0.9, 0.95, 1.0]);
/// ```
///
/// # Panics
///
/// If `max_intervals` is 0.
pub fn nice_ticks(min: f64, max: f64, max_intervals: usize) -> Vec<f64> {
    Ticks::covering(min, max, max_intervals, 0.0).values()
}

/// Ticks at `(first + i) × step` for `i` in `0..=intervals`, where `step = mantissa × 10^exponent`.
///
/// Keeping the step as an integer mantissa and a decimal exponent lets every tick value be
/// computed as one integer divided (or multiplied) by a power of ten, which rounds to the
/// nearest `f64`, so tick labels print as `0.3`, never `0.30000000000000004`.
#[derive(Clone, Copy, Debug)]
pub(super) struct Ticks {
    first: i64,
    intervals: i64,
    mantissa: i64,
    exponent: i32,
}

impl Ticks {
    /// Loose ticks (Heckbert's term): the first tick at or below `min`, the last at or above
    /// `max`. `min_step` stops the step going below, say, 1 for an axis of whole epochs.
    pub(super) fn covering(min: f64, max: f64, max_intervals: usize, min_step: f64) -> Ticks {
        assert!(
            max_intervals > 0,
            "nice_ticks: max_intervals must be at least 1"
        );
        let (min, max) = widen(min, max);
        let span = max - min;
        let raw = span / max_intervals as f64;
        // Try 1, 2, 5 × 10^k upwards from just below the raw step; the first that fits wins.
        let mut exponent = raw.log10().floor() as i32 - 1;
        loop {
            for mantissa in [1, 2, 5] {
                let ticks = Ticks {
                    first: 0,
                    intervals: 0,
                    mantissa,
                    exponent,
                };
                let step = ticks.step();
                if !step.is_finite() {
                    // A span near f64::MAX has no nice step below infinity.
                    return Ticks::covering(0.0, 1.0, max_intervals, 0.0);
                }
                if step < min_step {
                    continue;
                }
                // A whisker of tolerance, so that 0.8 / 0.05 = 16.000000000000004 counts as 16.
                let first = (min / step + 1e-9).floor();
                let last = (max / step - 1e-9).ceil();
                if last - first <= max_intervals as f64 {
                    return Ticks {
                        first: first as i64,
                        intervals: (last - first).max(1.0) as i64,
                        ..ticks
                    };
                }
            }
            exponent += 1;
        }
    }

    /// Ticks inside `[lo, hi]` (a range the caller fixed), at a nice step.
    pub(super) fn within(lo: f64, hi: f64, max_intervals: usize) -> Ticks {
        let loose = Ticks::covering(lo, hi, max_intervals, 0.0);
        let step = loose.step();
        let first = (lo / step - 1e-9).ceil();
        let last = (hi / step + 1e-9).floor();
        Ticks {
            first: first as i64,
            // -1, no ticks at all, if the step is wider than the range.
            intervals: (last - first).max(-1.0) as i64,
            ..loose
        }
    }

    fn step(&self) -> f64 {
        self.nth_multiple(1)
    }

    /// `k × step`, computed with a single rounding (`k × mantissa` is exact in `f64` for
    /// any tick count a chart could draw).
    fn nth_multiple(&self, k: i64) -> f64 {
        let m = k as f64 * self.mantissa as f64;
        if self.exponent >= 0 {
            m * 10f64.powi(self.exponent)
        } else {
            m / 10f64.powi(-self.exponent)
        }
    }

    pub(super) fn values(&self) -> Vec<f64> {
        (0..=self.intervals)
            .map(|i| self.nth_multiple(self.first + i))
            .collect()
    }

    /// The tick values with their labels, printed with just enough decimals for the step.
    pub(super) fn labelled(&self) -> Vec<(f64, String)> {
        let decimals = (-self.exponent).max(0) as usize;
        self.values()
            .into_iter()
            .map(|v| {
                let label = if self.exponent >= 6 || self.exponent <= -6 {
                    format!("{v:e}")
                } else {
                    format!("{v:.decimals$}")
                };
                (v, label)
            })
            .collect()
    }
}

/// Makes `[min, max]` a usable non-empty finite range.
fn widen(min: f64, max: f64) -> (f64, f64) {
    if !min.is_finite() || !max.is_finite() || min > max {
        return (0.0, 1.0);
    }
    if max - min > f64::EPSILON * max.abs().max(min.abs()) {
        return (min, max);
    }
    let pad = if min == 0.0 { 1.0 } else { 0.1 * min.abs() };
    (min - pad, max + pad)
}
