//! [`LineChart`]: one or more series against a shared x axis, such as loss per epoch. Each
//! series gets a colour and a marker shape of its own, so the chart still reads in
//! greyscale, and the legend sits under the title, where it never hides a line.

use super::svg::{Svg, num, text_width};
use super::ticks::Ticks;
use super::{Frame, HEIGHT, PALETTE, Scale, WIDTH, left_margin, y_axis, y_ticks_and_range};
use std::fmt::Write as _;

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
        frame.axes(&mut svg, frame.bottom);
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

/// How far inside the line chart's frame the data range is drawn, in pixels.
const INSET: f64 = 10.0;

/// A series with at most this many points gets a marker on each point.
const MARKER_LIMIT: usize = 40;

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

/// Whether a series is drawn with a marker on every point (in the legend too).
fn has_markers(s: &Series) -> bool {
    let finite = s
        .points
        .iter()
        .filter(|(x, y)| x.is_finite() && y.is_finite());
    finite.count() <= MARKER_LIMIT
}
