//! [`BarChart`]: one bar per labelled value, such as test accuracy per rung of a recipe,
//! each with its value printed on it to the same precision, so that bars compare.

use super::svg::{Svg, num, text_width};
use super::{Frame, HEIGHT, PALETTE, WIDTH, left_margin, y_axis, y_ticks_and_range};
use std::fmt::Write as _;

/// A chart of one bar per labelled value, such as test accuracy per step of a recipe.
#[derive(Clone, Debug, PartialEq)]
pub struct BarChart {
    /// Printed above the chart.
    pub title: String,
    /// Printed along the y axis.
    pub y_label: String,
    /// The bars, left to right: a label under each bar and its value, printed on the bar.
    pub bars: Vec<(String, f64)>,
    /// The y axis's range. `None` fits it to the values and includes zero, because a bar's
    /// length is read as its value; give a range to zoom in on small differences, and the
    /// bars then start at its lower end.
    pub y_range: Option<(f64, f64)>,
}

impl BarChart {
    /// The chart as a standalone SVG document, 640 × 400.
    ///
    /// Each bar has its label underneath (slanted when the labels are too long to sit side
    /// by side) and its value printed above it, to four significant digits. A non-finite
    /// value draws no bar and prints `n/a`.
    pub fn to_svg(&self) -> String {
        let finite = || self.bars.iter().map(|b| b.1).filter(|v| v.is_finite());
        let lo = finite().fold(0.0, f64::min);
        let hi = finite().fold(0.0, f64::max);
        let (ticks, range) = y_ticks_and_range(self.y_range, lo, hi);
        let y_ticks = ticks.labelled();

        let mut svg = Svg::new(WIDTH, HEIGHT);
        svg.title(WIDTH / 2.0, &self.title);

        let left = left_margin(&y_ticks);
        let right = WIDTH - 24.0;
        let n = self.bars.len().max(1) as f64;
        let slot = (right - left) / n;
        let label_size = 12.0;
        let widest = self
            .bars
            .iter()
            .map(|(l, _)| text_width(l, label_size))
            .fold(0.0, f64::max);
        let slanted = widest > slot - 6.0;
        // Slanted labels at 35° need about sin(35°) of their width below the axis.
        let label_room = if slanted {
            20.0 + 0.57 * widest.min(220.0)
        } else {
            24.0
        };
        let frame = Frame {
            left,
            right,
            top: 48.0,
            bottom: HEIGHT - 18.0 - label_room,
        };
        let ys = y_axis(&mut svg, &frame, 0.0, &y_ticks, range, &self.y_label);
        // Bars grow from zero, or from the nearest edge of the axis if zero is off it.
        let base = ys.map(0.0_f64.clamp(range.0, range.1));
        let decimals = bar_decimals(finite());

        for (i, (label, value)) in self.bars.iter().enumerate() {
            let centre = left + slot * (i as f64 + 0.5);
            let bar_width = (slot * 0.6).min(80.0);
            let colour = PALETTE[0];
            let text = if value.is_finite() {
                format!("{value:.decimals$}")
            } else {
                "n/a".to_string()
            };
            let mut text_y = base - 6.0;
            if value.is_finite() {
                let end = ys.map(value.clamp(range.0, range.1));
                let (top, height) = (end.min(base), (end - base).abs());
                let _ = writeln!(
                    svg.out,
                    r#"<rect x="{}" y="{}" width="{}" height="{}" fill="{colour}"/>"#,
                    num(centre - bar_width / 2.0),
                    num(top),
                    num(bar_width),
                    num(height)
                );
                text_y = if *value >= 0.0 { end - 6.0 } else { end + 16.0 };
            }
            // A value label that would run off the top goes inside the bar, in white.
            let fill = if text_y < frame.top + 2.0 {
                text_y += 22.0;
                "#ffffff"
            } else {
                "#222222"
            };
            svg.text(
                centre,
                text_y,
                12.0,
                "middle",
                &format!(r#" fill="{fill}""#),
                &text,
            );
            let label_y = frame.bottom + 18.0;
            if slanted {
                svg.text(
                    centre + 4.0,
                    label_y,
                    label_size,
                    "end",
                    &format!(
                        r##" fill="#333333" transform="rotate(-35 {} {})""##,
                        num(centre + 4.0),
                        num(label_y)
                    ),
                    label,
                );
            } else {
                svg.text(
                    centre,
                    label_y,
                    label_size,
                    "middle",
                    r##" fill="#333333""##,
                    label,
                );
            }
        }
        frame.axes(&mut svg, base);
        svg.finish()
    }
}

/// `v` with `decimals` decimals, where `decimals` shows four significant digits of the
/// largest magnitude among `values`: the same precision on every bar, so they compare.
fn bar_decimals(values: impl Iterator<Item = f64>) -> usize {
    let largest = values
        .filter(|v| v.is_finite())
        .map(f64::abs)
        .fold(0.0, f64::max);
    if largest == 0.0 {
        return 0;
    }
    (3 - largest.log10().floor() as i32).clamp(0, 6) as usize
}
