//! SVG charts written by hand: line charts of training curves, bar charts of ablations, and
//! galleries of digits and of weights.
//!
//! SVG is text that any browser, mdBook page or image viewer shows, sharp at any size.
//! Writing it ourselves costs a few hundred lines and keeps the crate free of dependencies;
//! the `--plots DIR` flag of the training program and the book's figures both come from
//! here. Every chart escapes its text for XML, skips points that are not finite (a line
//! breaks there rather than joining across the gap), labels its axes with
//! [nice numbers](nice_ticks), and colours its series with a palette that stays distinct
//! under the common forms of colour blindness.
//!
//! Here: the axes and colours both charts share. `svg.rs` is the writer, `ticks.rs` the
//! axis ticks, `line.rs`, `bar.rs` and `gallery.rs` the charts, and `png.rs` and `base64.rs`
//! the embedded images of [`weights_svg`].
//!
//! ```
//! use simplenn::plot::{LineChart, Series};
//!
//! let chart = LineChart {
//!     title: "Loss per epoch".into(),
//!     x_label: "epoch".into(),
//!     y_label: "mean cross-entropy".into(),
//!     series: vec![
//!         Series { name: "training".into(), points: vec![(1.0, 0.61), (2.0, 0.32), (3.0, 0.27)] },
//!         Series { name: "validation".into(), points: vec![(1.0, 0.45), (2.0, 0.33), (3.0, 0.30)] },
//!     ],
//!     y_range: None,
//! };
//! let svg = chart.to_svg();
//! assert!(svg.starts_with("<svg"));
//! assert!(svg.contains(">validation</text>"));
//! // std::fs::write("loss.svg", svg)?;
//! ```

mod bar;
mod base64;
mod gallery;
mod line;
mod png;
mod svg;
mod ticks;

pub use bar::BarChart;
pub use gallery::{GalleryImage, WeightImage, gallery_svg, weights_svg};
pub use line::{LineChart, Series};
pub use ticks::nice_ticks;

use svg::{Svg, num, text_width};
use ticks::Ticks;

/// Width of the line and bar charts' `viewBox`, in SVG user units (pixels at 100% zoom).
const WIDTH: f64 = 640.0;
/// Height of the line and bar charts' `viewBox`.
const HEIGHT: f64 = 400.0;

/// The Okabe–Ito palette (Okabe & Ito, "Color Universal Design", 2008), chosen to stay
/// distinct under the common forms of colour blindness, reordered so the first colours are
/// the most distinct on white and the yellow, hard to see on white, comes last.
const PALETTE: [&str; 8] = [
    "#0072B2", // blue
    "#D55E00", // vermillion
    "#009E73", // bluish green
    "#CC79A7", // reddish purple
    "#E69F00", // orange
    "#56B4E9", // sky blue
    "#000000", // black
    "#F0E442", // yellow
];

/// A linear map from data coordinates to SVG coordinates.
#[derive(Clone, Copy, Debug)]
struct Scale {
    from: (f64, f64),
    to: (f64, f64),
}

impl Scale {
    fn map(&self, v: f64) -> f64 {
        let t = (v - self.from.0) / (self.from.1 - self.from.0);
        self.to.0 + t * (self.to.1 - self.to.0)
    }
}

/// The plot area: data coordinates map into `left..right` × `top..bottom`.
struct Frame {
    left: f64,
    right: f64,
    top: f64,
    bottom: f64,
}

impl Frame {
    /// The axis lines: the y axis up the left edge, the x axis across at height `x_axis`.
    fn axes(&self, svg: &mut Svg, x_axis: f64) {
        svg.line(self.left, self.top, self.left, self.bottom, "#555555", 1.0);
        svg.line(self.left, x_axis, self.right, x_axis, "#555555", 1.0);
    }
}

/// Draws horizontal gridlines and labels for `y_ticks`, and returns the scale, which maps
/// `y_range` to the frame's height less `inset` pixels at each end.
fn y_axis(
    svg: &mut Svg,
    frame: &Frame,
    inset: f64,
    y_ticks: &[(f64, String)],
    y_range: (f64, f64),
    label: &str,
) -> Scale {
    let scale = Scale {
        from: y_range,
        to: (frame.bottom - inset, frame.top + inset),
    };
    for (v, text) in y_ticks {
        let y = scale.map(*v);
        svg.line(frame.left, y, frame.right, y, "#e3e3e3", 1.0);
        svg.line(frame.left - 5.0, y, frame.left, y, "#555555", 1.0);
        svg.text(
            frame.left - 8.0,
            y + 4.0,
            12.0,
            "end",
            r##" fill="#333333""##,
            text,
        );
    }
    let mid = (frame.top + frame.bottom) / 2.0;
    svg.text(
        18.0,
        mid,
        13.0,
        "middle",
        &format!(
            r##" fill="#222222" transform="rotate(-90 18 {})""##,
            num(mid)
        ),
        label,
    );
    scale
}

/// Room for the y tick labels and the rotated y label to the left of the plot area.
fn left_margin(y_ticks: &[(f64, String)]) -> f64 {
    let widest = y_ticks
        .iter()
        .map(|(_, t)| text_width(t, 12.0))
        .fold(0.0, f64::max);
    36.0 + widest
}

/// The y axis of a chart: the ticks and the range shown. A valid `requested` range is used
/// as given (ticks inside it); otherwise the range grows to nice ticks covering the data
/// `lo..=hi`.
fn y_ticks_and_range(requested: Option<(f64, f64)>, lo: f64, hi: f64) -> (Ticks, (f64, f64)) {
    match requested {
        Some((a, b)) if a.is_finite() && b.is_finite() && a < b => (Ticks::within(a, b, 6), (a, b)),
        _ => {
            let t = Ticks::covering(lo, hi, 6, 0.0);
            let v = t.values();
            (t, (v[0], v[v.len() - 1]))
        }
    }
}
