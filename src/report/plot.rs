//! SVG charts written by hand: line charts of training curves, bar charts of ablations, and
//! galleries of digit images.
//!
//! SVG is text: a chart is a few hundred lines of `<line>`, `<polyline>` and `<text>`
//! elements, which any browser, mdBook page or image viewer shows, and which stays sharp at
//! any size. Writing it ourselves costs a few hundred lines and keeps the crate free of
//! dependencies; the `--plots DIR` flag of the training program and the book's figures both
//! come from here.
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
//!
//! Choices made once for every chart:
//!
//! * **Axis ticks** are "nice" numbers, 1, 2 or 5 times a power of ten, as in Heckbert's
//!   "Nice numbers for graph labels" (Graphics Gems, 1990): see [`nice_ticks`].
//! * **Colours** are the Okabe–Ito palette (Okabe & Ito, "Color Universal Design", 2008),
//!   chosen to stay distinct under the common forms of colour blindness; each series also
//!   gets its own marker shape, so the chart still reads in greyscale.
//! * **Text** is escaped for XML, so a title like `loss < 0.1 & falling` is safe.
//! * **Missing values**: points with a NaN or infinite coordinate are skipped, and the line
//!   breaks there rather than joining across the gap.

use std::fmt::Write as _;

/// Width of the line and bar charts' `viewBox`, in SVG user units (pixels at 100% zoom).
const WIDTH: f64 = 640.0;
/// Height of the line and bar charts' `viewBox`.
const HEIGHT: f64 = 400.0;

/// The Okabe–Ito palette, reordered so the first colours are the most distinct on white and
/// the yellow, hard to see on white, comes last.
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

/// How far inside the line chart's frame the data range is drawn, in pixels.
const INSET: f64 = 10.0;

/// A series with at most this many points gets a marker on each point.
const MARKER_LIMIT: usize = 40;

/// One line of a [`LineChart`]: a name for the legend and its `(x, y)` points, drawn in order.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// Shown in the legend; a series with an empty name is left out of the legend.
    pub name: String,
    /// The points, joined in the order given. Non-finite points are skipped.
    pub points: Vec<(f64, f64)>,
}

/// A chart of one or more series against a shared x axis, such as loss per epoch.
#[derive(Clone, Debug, PartialEq)]
pub struct LineChart {
    /// Printed above the chart.
    pub title: String,
    /// Printed under the x axis.
    pub x_label: String,
    /// Printed along the y axis.
    pub y_label: String,
    /// The lines, coloured in palette order.
    pub series: Vec<Series>,
    /// The y axis's range; `None` fits it to the data with nice round ends. Parts of lines
    /// outside a given range are clipped.
    pub y_range: Option<(f64, f64)>,
}

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

/// One picture in a [`gallery_svg`]: greyscale pixels, row by row, and a caption.
#[derive(Clone, Debug, PartialEq)]
pub struct GalleryImage<'a> {
    /// `width * height` intensities, row-major: 0 is background (white), 255 is ink (black).
    pub pixels: &'a [u8],
    /// Pixels per row.
    pub width: usize,
    /// Rows.
    pub height: usize,
    /// Written under the image, such as `true 4, predicted 9`. A `\n` starts a new line.
    pub caption: String,
}

/// One picture in a [`weights_svg`]: signed values, row by row, such as the 784 weights from
/// the pixels of a 28 × 28 image into one hidden unit, and a caption.
#[derive(Clone, Debug, PartialEq)]
pub struct WeightImage<'a> {
    /// `width * height` values, row-major, of any sign; the largest magnitude is drawn at
    /// full strength.
    pub values: &'a [f32],
    /// Values per row.
    pub width: usize,
    /// Rows.
    pub height: usize,
    /// Written under the image, such as `unit 3`. A `\n` starts a new line.
    pub caption: String,
}

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
struct Ticks {
    first: i64,
    intervals: i64,
    mantissa: i64,
    exponent: i32,
}

impl Ticks {
    /// Loose ticks (Heckbert's term): the first tick at or below `min`, the last at or above
    /// `max`. `min_step` stops the step going below, say, 1 for an axis of whole epochs.
    fn covering(min: f64, max: f64, max_intervals: usize, min_step: f64) -> Ticks {
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
    fn within(lo: f64, hi: f64, max_intervals: usize) -> Ticks {
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

    fn values(&self) -> Vec<f64> {
        (0..=self.intervals)
            .map(|i| self.nth_multiple(self.first + i))
            .collect()
    }

    /// The tick values with their labels, printed with just enough decimals for the step.
    fn labelled(&self) -> Vec<(f64, String)> {
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

/// A number for an SVG attribute: one decimal is a tenth of a pixel, finer than any screen,
/// and keeps files small. Trailing `.0` is dropped.
fn num(v: f64) -> String {
    let s = format!("{v:.1}");
    match s.strip_suffix(".0") {
        Some("-0") => "0".to_string(),
        Some(t) => t.to_string(),
        None => s,
    }
}

/// Escapes the five characters XML gives meaning to, for text and attribute values alike.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Control characters other than tab and newline are not allowed in XML 1.0 at
            // all, even escaped.
            c if (c as u32) < 0x20 && c != '\t' && c != '\n' => {}
            c => out.push(c),
        }
    }
    out
}

/// Roughly how wide `text` is in a sans-serif font of `size` pixels, for layout only
/// (margins, legend spacing, gallery cells), where a few pixels' error does no harm.
///
/// The advances are rounded averages of Helvetica's and DejaVu Sans's glyphs, in ems:
/// narrow letters and punctuation about 0.3, capitals 0.7, other letters and digits 0.58.
fn text_width(text: &str, size: f64) -> f64 {
    let ems: f64 = text
        .chars()
        .map(|c| match c {
            ' ' | 'i' | 'j' | 'l' | 'f' | 't' | 'r' | '.' | ',' | ':' | ';' | '\'' | '|' | '!'
            | '(' | ')' | '[' | ']' | '-' => 0.32,
            'm' | 'w' | 'M' | 'W' | '%' | '@' => 0.85,
            c if c.is_uppercase() => 0.7,
            _ => 0.58,
        })
        .sum();
    ems * size
}

/// An SVG document being written.
struct Svg {
    out: String,
}

impl Svg {
    fn new(width: f64, height: f64) -> Svg {
        let mut out = String::new();
        let _ = writeln!(
            out,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="Helvetica, Arial, 'DejaVu Sans', sans-serif">"#,
            w = num(width),
            h = num(height)
        );
        let _ = writeln!(
            out,
            r##"<rect width="{}" height="{}" fill="#ffffff"/>"##,
            num(width),
            num(height)
        );
        Svg { out }
    }

    fn line(&mut self, x1: f64, y1: f64, x2: f64, y2: f64, stroke: &str, width: f64) {
        let _ = writeln!(
            self.out,
            r#"<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{stroke}" stroke-width="{}"/>"#,
            num(x1),
            num(y1),
            num(x2),
            num(y2),
            num(width)
        );
    }

    /// Text at `(x, y)` (the baseline); `anchor` is `start`, `middle` or `end`; `extra` is
    /// raw attributes such as a colour or a transform.
    fn text(&mut self, x: f64, y: f64, size: f64, anchor: &str, extra: &str, text: &str) {
        let _ = writeln!(
            self.out,
            r#"<text x="{}" y="{}" font-size="{}" text-anchor="{anchor}"{extra}>{}</text>"#,
            num(x),
            num(y),
            num(size),
            escape(text)
        );
    }

    fn title(&mut self, x: f64, text: &str) {
        self.text(
            x,
            26.0,
            17.0,
            "middle",
            r##" font-weight="bold" fill="#222222""##,
            text,
        );
    }

    fn finish(mut self) -> String {
        self.out.push_str("</svg>\n");
        self.out
    }
}

/// A marker of shape `index % 4` (circle, square, triangle, diamond) centred on `(x, y)`.
fn marker(svg: &mut Svg, index: usize, x: f64, y: f64, colour: &str) {
    let r = 3.5;
    let _ = match index % 4 {
        0 => writeln!(
            svg.out,
            r#"<circle cx="{}" cy="{}" r="{}" fill="{colour}"/>"#,
            num(x),
            num(y),
            num(r)
        ),
        1 => writeln!(
            svg.out,
            r#"<rect x="{}" y="{}" width="{}" height="{}" fill="{colour}"/>"#,
            num(x - r * 0.9),
            num(y - r * 0.9),
            num(1.8 * r),
            num(1.8 * r)
        ),
        2 => writeln!(
            svg.out,
            r#"<path d="M{} {}L{} {}L{} {}Z" fill="{colour}"/>"#,
            num(x),
            num(y - 1.2 * r),
            num(x + 1.1 * r),
            num(y + 0.8 * r),
            num(x - 1.1 * r),
            num(y + 0.8 * r)
        ),
        _ => writeln!(
            svg.out,
            r#"<path d="M{} {}L{} {}L{} {}L{} {}Z" fill="{colour}"/>"#,
            num(x),
            num(y - 1.3 * r),
            num(x + 1.3 * r),
            num(y),
            num(x),
            num(y + 1.3 * r),
            num(x - 1.3 * r),
            num(y)
        ),
    };
}

/// A name for a `clipPath` that is unlikely to clash with another chart's when several SVGs
/// are pasted into one HTML page: FNV-1a of the chart's text.
fn clip_id(parts: &[&str]) -> String {
    let mut hash: u32 = 0x811c_9dc5;
    for part in parts {
        for byte in part.bytes().chain([0]) {
            hash = (hash ^ byte as u32).wrapping_mul(0x0100_0193);
        }
    }
    format!("plot-{hash:08x}")
}

/// The plot area: data coordinates map into `left..right` × `top..bottom`.
struct Frame {
    left: f64,
    right: f64,
    top: f64,
    bottom: f64,
}

/// Whether a series is drawn with a marker on every point (in the legend too).
fn has_markers(s: &Series) -> bool {
    let finite = s
        .points
        .iter()
        .filter(|(x, y)| x.is_finite() && y.is_finite());
    finite.count() <= MARKER_LIMIT
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

impl LineChart {
    /// The chart as a standalone SVG document, 640 × 400.
    ///
    /// The x axis is fitted to the data (with whole-number ticks if every x is a whole
    /// number, as epochs are); the y axis to the data or to [`LineChart::y_range`]. Series
    /// with few points get a marker on each point, and a series of one point is drawn as a
    /// marker alone. A chart with no finite points draws its axes and says "no data".
    pub fn to_svg(&self) -> String {
        let finite = || {
            self.series
                .iter()
                .flat_map(|s| &s.points)
                .filter(|(x, y)| x.is_finite() && y.is_finite())
        };
        let (mut x_min, mut x_max) = (f64::INFINITY, f64::NEG_INFINITY);
        let (mut y_min, mut y_max) = (f64::INFINITY, f64::NEG_INFINITY);
        for &(x, y) in finite() {
            x_min = x_min.min(x);
            x_max = x_max.max(x);
            y_min = y_min.min(y);
            y_max = y_max.max(y);
        }
        let has_data = finite().next().is_some();
        let whole_x = has_data && finite().all(|(x, _)| x.fract() == 0.0);

        let x_ticks = Ticks::covering(x_min, x_max, 8, if whole_x { 1.0 } else { 0.0 });
        let (y_ticks, y_range) = y_ticks_and_range(self.y_range, y_min, y_max);
        let x_values = x_ticks.values();
        let x_range = (x_values[0], x_values[x_values.len() - 1]);
        let y_ticks = y_ticks.labelled();

        let mut svg = Svg::new(WIDTH, HEIGHT);
        svg.title(WIDTH / 2.0, &self.title);

        // The legend sits in rows under the title, so it never hides a line.
        let left = left_margin(&y_ticks);
        let right = WIDTH - 24.0;
        let named: Vec<(usize, &Series)> = self
            .series
            .iter()
            .enumerate()
            .filter(|(_, s)| !s.name.is_empty())
            .collect();
        let mut legend_y = 50.0;
        if !named.is_empty() {
            let mut x = left;
            for &(i, s) in &named {
                let w = 34.0 + text_width(&s.name, 12.0) + 18.0;
                if x > left && x + w > right {
                    x = left;
                    legend_y += 18.0;
                }
                let colour = PALETTE[i % PALETTE.len()];
                svg.line(x, legend_y - 4.0, x + 24.0, legend_y - 4.0, colour, 2.0);
                if has_markers(s) {
                    marker(&mut svg, i, x + 12.0, legend_y - 4.0, colour);
                }
                svg.text(
                    x + 30.0,
                    legend_y,
                    12.0,
                    "start",
                    r##" fill="#222222""##,
                    &s.name,
                );
                x += w;
            }
            legend_y += 16.0;
        } else {
            legend_y = 40.0;
        }

        let frame = Frame {
            left,
            right,
            top: legend_y,
            bottom: HEIGHT - 52.0,
        };
        // The data range sits a little inside the frame, so no point lies on an axis line.
        let ys = y_axis(&mut svg, &frame, INSET, &y_ticks, y_range, &self.y_label);
        let xs = Scale {
            from: x_range,
            to: (frame.left + INSET, frame.right - INSET),
        };
        for (v, text) in x_ticks.labelled() {
            let x = xs.map(v);
            svg.line(x, frame.top, x, frame.bottom, "#e3e3e3", 1.0);
            svg.line(x, frame.bottom, x, frame.bottom + 5.0, "#555555", 1.0);
            svg.text(
                x,
                frame.bottom + 19.0,
                12.0,
                "middle",
                r##" fill="#333333""##,
                &text,
            );
        }
        svg.line(
            frame.left,
            frame.top,
            frame.left,
            frame.bottom,
            "#555555",
            1.0,
        );
        svg.line(
            frame.left,
            frame.bottom,
            frame.right,
            frame.bottom,
            "#555555",
            1.0,
        );
        svg.text(
            (frame.left + frame.right) / 2.0,
            HEIGHT - 12.0,
            13.0,
            "middle",
            r##" fill="#222222""##,
            &self.x_label,
        );

        if !has_data {
            svg.text(
                (frame.left + frame.right) / 2.0,
                (frame.top + frame.bottom) / 2.0,
                14.0,
                "middle",
                r##" fill="#888888""##,
                "no data",
            );
            return svg.finish();
        }

        // Data, clipped to the frame. Points at the ends of the axes lie `INSET` pixels
        // inside it, so their markers are never cut.
        let id = clip_id(&[&self.title, &self.x_label, &self.y_label]);
        let _ = writeln!(
            svg.out,
            r#"<clipPath id="{id}"><rect x="{}" y="{}" width="{}" height="{}"/></clipPath>"#,
            num(frame.left),
            num(frame.top),
            num(frame.right - frame.left),
            num(frame.bottom - frame.top)
        );
        let _ = writeln!(svg.out, r#"<g clip-path="url(#{id})">"#);
        for (i, s) in self.series.iter().enumerate() {
            let colour = PALETTE[i % PALETTE.len()];
            // Split at non-finite points: each run of finite points is one polyline.
            let mut runs: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
            for &(x, y) in &s.points {
                if x.is_finite() && y.is_finite() {
                    runs.last_mut()
                        .expect("never empty")
                        .push((xs.map(x), ys.map(y)));
                } else if !runs.last().expect("never empty").is_empty() {
                    runs.push(Vec::new());
                }
            }
            for run in &runs {
                if run.len() >= 2 {
                    let points: Vec<String> = run
                        .iter()
                        .map(|&(x, y)| format!("{},{}", num(x), num(y)))
                        .collect();
                    let _ = writeln!(
                        svg.out,
                        r#"<polyline points="{}" fill="none" stroke="{colour}" stroke-width="2" stroke-linejoin="round" stroke-linecap="round"/>"#,
                        points.join(" ")
                    );
                }
                if has_markers(s) || run.len() == 1 {
                    for &(x, y) in run {
                        marker(&mut svg, i, x, y, colour);
                    }
                }
            }
        }
        svg.out.push_str("</g>\n");
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
        svg.line(
            frame.left,
            frame.top,
            frame.left,
            frame.bottom,
            "#555555",
            1.0,
        );
        svg.line(frame.left, base, frame.right, base, "#555555", 1.0);
        svg.finish()
    }
}

/// How many screen pixels each image pixel becomes in a gallery: 28 × 28 digits are drawn
/// 84 × 84, big enough to read a stroke, small enough for ten in a row.
const GALLERY_SCALE: usize = 3;

/// Screen pixels the largest image of a gallery spans at least: 28×28 digits keep
/// [`GALLERY_SCALE`], a grid of 5×5 kernels is drawn 12 times as large.
const MIN_TILE: usize = 60;

/// A grid of greyscale images with captions, `columns` to a row, such as the digits a
/// network got wrong.
///
/// Each image is drawn in a thin grey frame, ink dark on white as digits are usually shown
/// (pixel 0 is white, 255 black), in 16 shades of grey. Pixels are `<rect>`s, one per
/// horizontal run of equal shade, and background pixels draw nothing, so an MNIST digit
/// takes about a hundred rects and a gallery of a hundred digits is under half a megabyte. With no images, the
/// gallery says so.
///
/// ```
/// use simplenn::plot::{gallery_svg, GalleryImage};
///
/// // A 3 × 2 image: one run of two black pixels, one grey pixel, background elsewhere.
/// let pixels = [255, 255, 0, 0, 128, 0];
/// let image = GalleryImage { pixels: &pixels, width: 3, height: 2, caption: "true 1, predicted 7".into() };
/// let svg = gallery_svg("Mistakes", &[image], 10);
/// assert_eq!(svg.matches(r#"height="1""#).count(), 2);
/// assert!(svg.contains(">true 1, predicted 7</text>"));
/// ```
///
/// # Panics
///
/// If `columns` is 0, or an image's `pixels` is not `width * height` long.
pub fn gallery_svg(title: &str, images: &[GalleryImage], columns: usize) -> String {
    assert!(columns > 0, "gallery_svg: columns must be at least 1");
    let sizes = images
        .iter()
        .map(|im| (im.pixels.len(), im.width, im.height, &*im.caption));
    let tiles = tiles("gallery_svg", "pixels", sizes);
    grid_svg(title, &tiles, columns, |out, i| pixel_runs(out, &images[i]))
}

/// A grid of images of signed values, `columns` to a row, such as the first layer's weights
/// seen as the pictures they respond to: red where a value is positive, blue where it is
/// negative, white near zero, each image scaled to its own largest magnitude.
///
/// Each image gets 7 shades each way (values within a fourteenth of the largest are white)
/// and is embedded as a small palette PNG, one pixel per value, drawn without smoothing.
///
/// ```
/// use simplenn::plot::{weights_svg, WeightImage};
///
/// let values = [1.0, -1.0, 0.0, 0.5];
/// let image = WeightImage { values: &values, width: 2, height: 2, caption: "unit 0".into() };
/// let svg = weights_svg("First layer", &[image], 8);
/// assert_eq!(svg.matches("data:image/png;base64,").count(), 1);
/// assert!(svg.contains(">unit 0</text>"));
/// ```
///
/// # Panics
///
/// If `columns` is 0, or an image's `values` is not `width * height` long.
pub fn weights_svg(title: &str, images: &[WeightImage], columns: usize) -> String {
    assert!(columns > 0, "weights_svg: columns must be at least 1");
    let sizes = images
        .iter()
        .map(|im| (im.values.len(), im.width, im.height, &*im.caption));
    let tiles = tiles("weights_svg", "values", sizes);
    grid_svg(title, &tiles, columns, |out, i| {
        signed_image(out, &images[i])
    })
}

/// What [`grid_svg`] needs to know about each image to lay the grid out.
struct Tile<'a> {
    width: usize,
    height: usize,
    caption: &'a str,
}

/// The tiles of a gallery from each image's `(number of values, width, height, caption)`.
///
/// # Panics
/// If an image does not hold `width * height` values, naming the caller (`function`) and
/// what it holds (`unit`).
fn tiles<'a>(
    function: &str,
    unit: &str,
    images: impl Iterator<Item = (usize, usize, usize, &'a str)>,
) -> Vec<Tile<'a>> {
    images
        .enumerate()
        .map(|(i, (len, width, height, caption))| {
            assert_eq!(
                len,
                width * height,
                "{function}: image {i} has {len} {unit}, but is {width} × {height}"
            );
            Tile {
                width,
                height,
                caption,
            }
        })
        .collect()
}

/// The layout shared by the galleries: a title, then a grid of framed, captioned tiles;
/// `draw(out, i)` writes tile `i`'s pixels in image coordinates.
fn grid_svg(
    title: &str,
    images: &[Tile],
    columns: usize,
    mut draw: impl FnMut(&mut String, usize),
) -> String {
    let caption_size = 11.0;
    let line_height = 13.0;
    let margin = 16.0;
    let gap = 20.0;
    let (largest_w, largest_h) = (
        images.iter().map(|im| im.width).max().unwrap_or(0),
        images.iter().map(|im| im.height).max().unwrap_or(0),
    );
    // Small images, such as 5×5 convolution kernels, drawn large enough to see.
    let scale = GALLERY_SCALE.max(MIN_TILE.div_ceil(largest_w.max(largest_h).max(1)));
    let (image_w, image_h) = (largest_w * scale, largest_h * scale);
    let caption_lines = images
        .iter()
        .map(|im| im.caption.lines().count())
        .max()
        .unwrap_or(0);
    let caption_w = images
        .iter()
        .flat_map(|im| im.caption.lines())
        .map(|l| text_width(l, caption_size))
        .fold(0.0, f64::max);
    let cell_w = (image_w as f64).max(caption_w) + gap;
    let cell_h = image_h as f64 + 6.0 + caption_lines as f64 * line_height + gap;
    let columns_used = columns.min(images.len()).max(1);
    let rows = images.len().div_ceil(columns);
    let title_w = text_width(title, 17.0) + 2.0 * margin;
    let width = (2.0 * margin + columns_used as f64 * cell_w - gap)
        .max(title_w)
        .max(240.0);
    let top = 44.0;
    let height = if images.is_empty() {
        top + 30.0
    } else {
        top + rows as f64 * cell_h - gap + margin
    };
    // Centre the grid when the title is wider than it.
    let grid_left = (width - (columns_used as f64 * cell_w - gap)) / 2.0;

    let mut svg = Svg::new(width, height);
    svg.title(width / 2.0, title);
    if images.is_empty() {
        svg.text(
            width / 2.0,
            top + 14.0,
            13.0,
            "middle",
            r##" fill="#888888""##,
            "(no images)",
        );
    }
    for (i, image) in images.iter().enumerate() {
        let cx = grid_left + (i % columns) as f64 * cell_w + (cell_w - gap) / 2.0;
        let y = top + (i / columns) as f64 * cell_h;
        let w = (image.width * scale) as f64;
        let h = (image.height * scale) as f64;
        let x = cx - w / 2.0;
        // The pixels, in image coordinates scaled up; crisp edges stop hairline seams
        // between neighbouring runs.
        let _ = writeln!(
            svg.out,
            r#"<g transform="translate({} {}) scale({scale})" shape-rendering="crispEdges">"#,
            num(x),
            num(y)
        );
        draw(&mut svg.out, i);
        svg.out.push_str("</g>\n");
        let _ = writeln!(
            svg.out,
            r##"<rect x="{}" y="{}" width="{}" height="{}" fill="none" stroke="#bbbbbb" stroke-width="1"/>"##,
            num(x - 0.5),
            num(y - 0.5),
            num(w + 1.0),
            num(h + 1.0)
        );
        for (k, line) in image.caption.lines().enumerate() {
            svg.text(
                cx,
                y + h + 4.0 + line_height * (k as f64 + 1.0) - 2.0,
                caption_size,
                "middle",
                r##" fill="#222222""##,
                line,
            );
        }
    }
    svg.finish()
}

/// Shades of grey a gallery pixel is rounded to: 16, so each is a three-digit hex colour
/// (`#000`, `#111`, … `#fff`, steps of 17 = 255 / 15).
///
/// At three screen pixels per image pixel the difference from 256 shades is invisible, and
/// the file shrinks by a third: more neighbours become equal and merge into one run, and
/// each run's `<rect>` is written inside a `<g fill="…">` shared by all runs of its shade
/// instead of carrying a seven-character colour of its own.
const GREY_LEVELS: u8 = 16;

/// The shade of grey `value` is drawn in, as an ink level from 0 (background, not drawn) to
/// 15 (black).
fn ink_level(value: u8) -> u8 {
    let step = 255 / (GREY_LEVELS - 1); // 17
    // Round to the nearest level; `value + step / 2` cannot overflow in u16.
    ((value as u16 + step as u16 / 2) / step as u16) as u8
}

/// One `<rect>` per maximal horizontal run of pixels at the same ink level, background runs
/// skipped, in image coordinates, grouped by level.
fn pixel_runs(out: &mut String, image: &GalleryImage) {
    let mut by_level: Vec<String> = vec![String::new(); GREY_LEVELS as usize];
    for (row, pixels) in image.pixels.chunks(image.width.max(1)).enumerate() {
        let mut start = 0;
        while start < pixels.len() {
            let level = ink_level(pixels[start]);
            let len = pixels[start..]
                .iter()
                .take_while(|&&p| ink_level(p) == level)
                .count();
            if level != 0 {
                let _ = writeln!(
                    by_level[level as usize],
                    r#"<rect x="{start}" y="{row}" width="{len}" height="1"/>"#
                );
            }
            start += len;
        }
    }
    for (level, rects) in by_level.iter().enumerate() {
        if !rects.is_empty() {
            // Ink level 15 is black (#000), level 1 the lightest grey (#eee).
            let hex = char::from_digit(15 - level as u32, 16).expect("a hex digit");
            let _ = writeln!(out, r##"<g fill="#{hex}{hex}{hex}">"##);
            out.push_str(rects);
            out.push_str("</g>\n");
        }
    }
}

/// Shades each way in a [`weights_svg`]: level 0 is white, ±7 full strength.
const SIGNED_LEVELS: i32 = 7;

/// The palette of a [`weights_svg`] image: index `level + 7` for levels −7 to 7, from blue
/// (#2166ac, ColorBrewer's RdBu end) through white to red (#b2182b).
fn signed_palette() -> Vec<[u8; 3]> {
    (-SIGNED_LEVELS..=SIGNED_LEVELS)
        .map(|level| {
            let end: [u8; 3] = if level > 0 {
                [178, 24, 43]
            } else {
                [33, 102, 172]
            };
            let t = level.abs() as f64 / SIGNED_LEVELS as f64;
            end.map(|c| (255.0 - (255.0 - c as f64) * t).round() as u8)
        })
        .collect()
}

/// The palette index of each value of `image`: its level from −7 to 7 (scaled to the
/// image's largest magnitude; 0 for non-finite values or an all-zero image), plus 7.
fn signed_indices(image: &WeightImage) -> Vec<u8> {
    let largest = image
        .values
        .iter()
        .filter(|v| v.is_finite())
        .fold(0.0f32, |m, v| m.max(v.abs()));
    image
        .values
        .iter()
        .map(|&v| {
            let level = if largest > 0.0 && v.is_finite() {
                (v / largest * SIGNED_LEVELS as f32).round() as i32
            } else {
                0
            };
            (level + SIGNED_LEVELS) as u8
        })
        .collect()
}

/// Draws a weight image as an embedded PNG, one PNG pixel per value, scaled up without
/// smoothing. A weight image is dense (every pixel has a value, and noise breaks it into
/// short runs), so rectangles would cost a megabyte for a grid of 64; a palette PNG costs
/// about a kilobyte per image.
fn signed_image(out: &mut String, image: &WeightImage) {
    let png = png_indexed(
        image.width,
        image.height,
        &signed_palette(),
        &signed_indices(image),
    );
    let _ = writeln!(
        out,
        r#"<image width="{}" height="{}" preserveAspectRatio="none" style="image-rendering:pixelated" href="data:image/png;base64,{}"/>"#,
        image.width,
        image.height,
        base64(&png)
    );
}

// ANCHOR: png
/// An indexed-colour PNG (ISO/IEC 15948): the 8-byte signature, then chunks of
/// `length, type, data, CRC-32`: `IHDR` (size, 8 bits per pixel, colour type 3), `PLTE` (the
/// palette), `IDAT` (the pixels, each row after a filter byte 0, as a zlib stream of stored
/// DEFLATE blocks) and `IEND`.
fn png_indexed(width: usize, height: usize, palette: &[[u8; 3]], indices: &[u8]) -> Vec<u8> {
    let mut png = vec![0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1a, b'\n'];
    let mut header = Vec::with_capacity(13);
    header.extend_from_slice(&(width as u32).to_be_bytes());
    header.extend_from_slice(&(height as u32).to_be_bytes());
    header.extend_from_slice(&[8, 3, 0, 0, 0]); // depth, colour type, compression, filter, interlace
    png_chunk(&mut png, b"IHDR", &header);
    png_chunk(&mut png, b"PLTE", palette.as_flattened());
    let mut rows = Vec::with_capacity(height * (width + 1));
    for row in indices.chunks(width.max(1)) {
        rows.push(0); // filter type 0: the row as it is
        rows.extend_from_slice(row);
    }
    // zlib (RFC 1950): CMF 0x78 (deflate, 32 KiB window), FLG 0x01 (so that CMF·256 + FLG
    // is a multiple of 31), the DEFLATE stream, then the Adler-32 of the data, big-endian.
    let mut zlib = vec![0x78, 0x01];
    zlib.extend_from_slice(&crate::gzip::deflate_stored(&rows));
    zlib.extend_from_slice(&adler32(&rows).to_be_bytes());
    png_chunk(&mut png, b"IDAT", &zlib);
    png_chunk(&mut png, b"IEND", &[]);
    png
}

fn png_chunk(png: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    png.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let start = png.len();
    png.extend_from_slice(kind);
    png.extend_from_slice(data);
    let crc = crate::crc32::crc32(&png[start..]); // over the type and the data
    png.extend_from_slice(&crc.to_be_bytes());
}

/// Adler-32 (RFC 1950 §8.2): two sums modulo 65521, of the bytes and of the running sums.
fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for &byte in data {
        a = (a + byte as u32) % 65521;
        b = (b + a) % 65521;
    }
    (b << 16) | a
}

/// Base64 (RFC 4648 §4), with `=` padding, for a `data:` URI.
fn base64(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for group in bytes.chunks(3) {
        let n = group
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | (b as u32) << (16 - 8 * i));
        for i in 0..4 {
            if i <= group.len() {
                out.push(DIGITS[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}
// ANCHOR_END: png
