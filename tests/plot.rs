//! Tests of [`simplenn::plot`]: every chart is well-formed XML with its text escaped, the
//! axis ticks are nice numbers that cover the data, missing values leave no trace, and the
//! gallery draws exactly the runs of ink it should, and the weight images embed valid PNGs of
//! exactly the shades they should.
//!
//! Whether a chart *looks* right is checked by eye: render one with `rsvg-convert` or a
//! browser. These tests pin down what can be stated exactly.

use simplenn::plot::{
    BarChart, GalleryImage, LineChart, Series, WeightImage, gallery_svg, nice_ticks, weights_svg,
};

/// Checks the XML well-formedness rules our writer could break: tags nest and balance,
/// attribute values are double-quoted and contain no `<` or raw `"`, every `&` starts a
/// known entity, text holds no stray `<` or `>`, no attribute repeats within a tag, and there
/// is exactly one root element, `svg`. A tiny checker for the subset we write (no comments,
/// CDATA or processing instructions, which it rejects).
fn check_xml(doc: &str) -> Result<(), String> {
    fn check_entities(text: &str, at: usize) -> Result<(), String> {
        let mut rest = text;
        while let Some(i) = rest.find('&') {
            rest = &rest[i..];
            let ok = ["&amp;", "&lt;", "&gt;", "&quot;", "&apos;"]
                .iter()
                .any(|e| rest.starts_with(e));
            if !ok {
                return Err(format!("bad entity near byte {at}: {:.20}", rest));
            }
            rest = &rest[1..];
        }
        Ok(())
    }

    let mut stack: Vec<&str> = Vec::new();
    let mut roots = 0;
    let mut pos = 0;
    let bytes = doc.as_bytes();
    while pos < doc.len() {
        if bytes[pos] != b'<' {
            let end = doc[pos..].find('<').map_or(doc.len(), |i| pos + i);
            let text = &doc[pos..end];
            if stack.is_empty() && !text.trim().is_empty() {
                return Err(format!("text outside the root element at {pos}: {text:?}"));
            }
            if text.contains('>') {
                return Err(format!("raw '>' in text at {pos}: {text:?}"));
            }
            check_entities(text, pos)?;
            pos = end;
            continue;
        }
        let end = doc[pos..]
            .find('>')
            .map(|i| pos + i)
            .ok_or(format!("unclosed tag at {pos}"))?;
        let tag = &doc[pos + 1..end];
        if tag.contains('<') {
            return Err(format!("'<' inside tag at {pos}: {tag:?}"));
        }
        if let Some(name) = tag.strip_prefix('/') {
            match stack.pop() {
                Some(open) if open == name => {}
                other => return Err(format!("</{name}> at {pos} closes {other:?}")),
            }
            pos = end + 1;
            continue;
        }
        let self_closing = tag.ends_with('/');
        let body = tag.strip_suffix('/').unwrap_or(tag);
        let name_len = body.find(|c: char| c.is_whitespace()).unwrap_or(body.len());
        let name = &body[..name_len];
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Err(format!("bad element name at {pos}: {name:?}"));
        }
        // Attributes: name="value" pairs separated by whitespace.
        let mut rest = body[name_len..].trim_start();
        let mut seen = Vec::new();
        while !rest.is_empty() {
            let eq = rest
                .find('=')
                .ok_or(format!("attribute without '=' at {pos}: {rest:?}"))?;
            let attr = &rest[..eq];
            if attr.is_empty()
                || !attr
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == ':')
            {
                return Err(format!("bad attribute name at {pos}: {attr:?}"));
            }
            if seen.contains(&attr) {
                return Err(format!("attribute {attr} repeated at {pos}"));
            }
            seen.push(attr);
            let after = &rest[eq + 1..];
            if !after.starts_with('"') {
                return Err(format!("unquoted attribute {attr} at {pos}"));
            }
            let close = after[1..]
                .find('"')
                .ok_or(format!("unterminated attribute {attr} at {pos}"))?;
            check_entities(&after[1..1 + close], pos)?;
            rest = &after[close + 2..];
            if !rest.is_empty() && !rest.starts_with(char::is_whitespace) {
                return Err(format!("no space after attribute {attr} at {pos}"));
            }
            rest = rest.trim_start();
        }
        if stack.is_empty() {
            roots += 1;
            if name != "svg" {
                return Err(format!("root element is {name}, not svg"));
            }
        }
        if !self_closing {
            stack.push(name);
        }
        pos = end + 1;
    }
    if let Some(open) = stack.last() {
        return Err(format!("<{open}> is never closed"));
    }
    if roots != 1 {
        return Err(format!("{roots} root elements"));
    }
    Ok(())
}

fn assert_xml(doc: &str) {
    if let Err(e) = check_xml(doc) {
        panic!("not well-formed: {e}\n{doc}");
    }
}

#[test]
fn the_checker_catches_what_it_should() {
    assert!(check_xml(r#"<svg a="1"><g><rect x="1"/></g></svg>"#).is_ok());
    for bad in [
        "<svg><g></svg>",
        "<svg></g></svg>",
        "<svg a=1></svg>",
        r#"<svg a="1"b="2"></svg>"#,
        r#"<svg a="1" a="2"></svg>"#,
        r#"<svg a="x<y"></svg>"#,
        "<svg>a & b</svg>",
        "<svg>a > b</svg>",
        "<svg></svg><svg></svg>",
        "<g></g>",
        "<svg>",
    ] {
        assert!(check_xml(bad).is_err(), "accepted {bad:?}");
    }
}

/// The text of every `<text>` element, in order.
fn texts(svg: &str) -> Vec<&str> {
    svg.split("<text ")
        .skip(1)
        .map(|t| &t[t.find('>').unwrap() + 1..t.find("</text>").unwrap()])
        .collect()
}

fn series(name: &str, points: &[(f64, f64)]) -> Series {
    Series {
        name: name.into(),
        points: points.to_vec(),
    }
}

fn chart(series: Vec<Series>) -> LineChart {
    LineChart {
        title: "Loss per epoch".into(),
        x_label: "epoch".into(),
        y_label: "loss".into(),
        series,
        y_range: None,
    }
}

// ---------------------------------------------------------------- ticks

/// Whether `step` is 1, 2 or 5 times a power of ten (up to rounding).
fn is_nice(step: f64) -> bool {
    let exponent = step.log10().floor();
    let mantissa = step / 10f64.powf(exponent);
    [1.0, 2.0, 5.0, 10.0]
        .iter()
        .any(|m| (mantissa - m).abs() < 1e-9)
}

fn check_ticks(min: f64, max: f64, max_intervals: usize) -> Vec<f64> {
    let ticks = nice_ticks(min, max, max_intervals);
    let context = format!("[{min}, {max}] → {ticks:?}");
    assert!(ticks.len() >= 2, "{context}");
    assert!(
        ticks.len() - 1 <= max_intervals,
        "too many ticks: {context}"
    );
    let step = ticks[1] - ticks[0];
    assert!(
        step > 0.0 && is_nice(step),
        "step {step} is not nice: {context}"
    );
    for w in ticks.windows(2) {
        assert!(
            ((w[1] - w[0]) - step).abs() <= 1e-9 * step,
            "uneven: {context}"
        );
    }
    for &t in &ticks {
        // Every tick is a whole multiple of the step, so labels are round numbers.
        assert!(
            ((t / step) - (t / step).round()).abs() < 1e-6,
            "{t}: {context}"
        );
    }
    let slack = 1e-9 * step;
    assert!(
        ticks[0] <= min + slack,
        "first tick above the data: {context}"
    );
    assert!(
        *ticks.last().unwrap() >= max - slack,
        "last tick below the data: {context}"
    );
    // Loose, but not wastefully: the data reaches into the first and last intervals.
    if max > min {
        assert!(ticks[0] > min - step - slack && ticks[ticks.len() - 1] < max + step + slack);
    }
    ticks
}

#[test]
fn ticks_are_nice_and_cover_the_data() {
    assert_eq!(check_ticks(0.8, 0.97, 6), [0.8, 0.85, 0.9, 0.95, 1.0]);
    assert_eq!(check_ticks(0.0, 2.3, 6), [0.0, 0.5, 1.0, 1.5, 2.0, 2.5]);
    assert_eq!(
        check_ticks(1.0, 600.0, 6),
        [0.0, 100.0, 200.0, 300.0, 400.0, 500.0, 600.0]
    );
    assert_eq!(check_ticks(1.0, 20.0, 8), [0.0, 5.0, 10.0, 15.0, 20.0]);
    assert_eq!(check_ticks(-3.7, 12.1, 6), [-5.0, 0.0, 5.0, 10.0, 15.0]);
    for (min, max) in [
        (0.0, 1.0),
        (0.1, 0.3),
        (0.0912, 0.0918),
        (88.2, 95.3),
        (-1e-9, 3e-9),
        (123_456.0, 123_999.0),
        (1.0, 60_000.0),
        (-250.0, -30.0),
        // ln 10: the cross-entropy of a uniform guess over ten classes, where training starts.
        (std::f64::consts::LN_10, 0.05 + std::f64::consts::LN_10),
        (1e-300, 1e300),
    ] {
        for max_intervals in [1, 2, 5, 6, 8, 10] {
            check_ticks(min, max, max_intervals);
        }
    }
}

#[test]
fn ticks_of_a_constant_range_surround_it() {
    for v in [0.0, 0.5, 1.0, -2.0, 97.3, 1e6] {
        let ticks = check_ticks(v, v, 6);
        assert!(ticks[0] < v && v < ticks[ticks.len() - 1], "{v}: {ticks:?}");
    }
    // Garbage in, the unit interval out.
    assert_eq!(nice_ticks(f64::NAN, 1.0, 5), nice_ticks(0.0, 1.0, 5));
    assert_eq!(nice_ticks(3.0, 1.0, 5), nice_ticks(0.0, 1.0, 5));
    assert_eq!(nice_ticks(-f64::MAX, f64::MAX, 5), nice_ticks(0.0, 1.0, 5));
    assert_eq!(nice_ticks(0.0, f64::MAX, 1), nice_ticks(0.0, 1.0, 1));
    check_ticks(0.0, 1e-320, 5); // subnormal spans still get finite, nice ticks
}

#[test]
fn tick_labels_have_no_rounding_noise() {
    let svg = chart(vec![series("acc", &[(1.0, 0.8), (2.0, 0.97)])]).to_svg();
    let labels = texts(&svg);
    for want in ["0.80", "0.85", "0.90", "0.95", "1.00"] {
        assert!(labels.contains(&want), "missing y label {want}: {labels:?}");
    }
    let svg = chart(vec![series("x", &[(0.1, 0.3), (0.7, 0.6)])]).to_svg();
    assert!(!svg.contains("0000000"), "{svg}");
}

#[test]
fn whole_number_x_values_get_whole_number_ticks() {
    let svg = chart(vec![series("loss", &[(1.0, 0.5), (2.0, 0.4), (3.0, 0.3)])]).to_svg();
    let labels = texts(&svg);
    assert!(labels.contains(&"1") && labels.contains(&"3"), "{labels:?}");
    assert!(!labels.contains(&"1.5"), "no half epochs: {labels:?}");
}

// ---------------------------------------------------------------- line charts

#[test]
fn line_chart_is_well_formed_with_title_labels_and_legend() {
    let c = LineChart {
        title: "Loss < 0.1 & \"falling\"".into(),
        x_label: "epoch <n>".into(),
        y_label: "cross-entropy & more".into(),
        series: vec![
            series("train <a>", &[(1.0, 2.0), (2.0, 1.0), (3.0, 0.5)]),
            series("val 'b'", &[(1.0, 2.2), (2.0, 1.4), (3.0, 0.9)]),
            series("", &[(1.0, 1.0), (3.0, 1.0)]),
        ],
        y_range: None,
    };
    let svg = c.to_svg();
    assert_xml(&svg);
    assert!(svg.contains(r#"viewBox="0 0 640 400""#));
    let labels = texts(&svg);
    for want in [
        "Loss &lt; 0.1 &amp; &quot;falling&quot;",
        "epoch &lt;n&gt;",
        "cross-entropy &amp; more",
        "train &lt;a&gt;",
        "val &apos;b&apos;",
    ] {
        assert!(labels.contains(&want), "missing {want}: {labels:?}");
    }
    assert_eq!(svg.matches("<polyline").count(), 3);
    // Legend: two named series, one unnamed left out; legend swatches are <line>s in the
    // series colours.
    assert!(!labels.contains(&""));
}

#[test]
fn each_series_has_its_own_colour() {
    let many: Vec<Series> = (0..8)
        .map(|i| series(&format!("s{i}"), &[(0.0, i as f64), (1.0, i as f64 + 1.0)]))
        .collect();
    let svg = chart(many).to_svg();
    assert_xml(&svg);
    let mut colours: Vec<&str> = svg
        .split("<polyline")
        .skip(1)
        .map(|p| {
            let at = p.find("stroke=\"").unwrap() + 8;
            &p[at..at + 7]
        })
        .collect();
    assert_eq!(colours.len(), 8);
    colours.sort();
    colours.dedup();
    assert_eq!(colours.len(), 8, "colours repeat: {colours:?}");
}

#[test]
fn non_finite_points_are_skipped_and_break_the_line() {
    let c = chart(vec![
        series(
            "loss",
            &[
                (1.0, 2.0),
                (2.0, 1.0),
                (3.0, f64::NAN),
                (4.0, 0.8),
                (5.0, 0.7),
                (f64::INFINITY, 0.5),
                (6.0, f64::NEG_INFINITY),
            ],
        ),
        series("all missing", &[(1.0, f64::NAN), (f64::NAN, 2.0)]),
    ]);
    let svg = c.to_svg();
    assert_xml(&svg);
    let lower = svg.to_lowercase();
    assert!(!lower.contains("nan") && !lower.contains("inf"), "{svg}");
    assert_eq!(
        svg.matches("<polyline").count(),
        2,
        "one line on each side of the gap"
    );
    // The axis fits the finite points only.
    let labels = texts(&svg);
    assert!(
        labels.contains(&"5") && !labels.contains(&"7"),
        "{labels:?}"
    );
}

#[test]
fn single_point_series_is_drawn_as_a_marker() {
    let svg = chart(vec![series("test (final)", &[(10.0, 0.97)])]).to_svg();
    assert_xml(&svg);
    assert_eq!(svg.matches("<polyline").count(), 0);
    // The marker in the legend and the one on the plot.
    assert_eq!(svg.matches("<circle").count(), 2);
    let labels = texts(&svg);
    assert!(labels.iter().any(|l| l.starts_with("0.9")), "{labels:?}");
}

#[test]
fn markers_only_when_there_are_few_points() {
    let few: Vec<(f64, f64)> = (0..10).map(|i| (i as f64, i as f64)).collect();
    let many: Vec<(f64, f64)> = (0..500).map(|i| (i as f64, (i as f64).sqrt())).collect();
    let svg = chart(vec![series("few", &few)]).to_svg();
    assert_eq!(svg.matches("<circle").count(), 1 + 10, "legend and points");
    let svg = chart(vec![series("many", &many)]).to_svg();
    assert_eq!(
        svg.matches("<circle").count(),
        0,
        "none, in the legend either"
    );
    assert!(
        svg.len() < 20_000,
        "500 points should stay small: {} bytes",
        svg.len()
    );
}

#[test]
fn empty_charts_still_draw() {
    for c in [
        chart(vec![]),
        chart(vec![series("nothing", &[])]),
        chart(vec![series("", &[(f64::NAN, f64::NAN)])]),
    ] {
        let svg = c.to_svg();
        assert_xml(&svg);
        assert!(texts(&svg).contains(&"no data"));
    }
}

#[test]
fn constant_series_gets_an_axis_around_it() {
    let svg = chart(vec![series("flat", &[(1.0, 0.5), (2.0, 0.5), (3.0, 0.5)])]).to_svg();
    assert_xml(&svg);
    let ys: Vec<f64> = texts(&svg)
        .iter()
        .filter_map(|t| t.parse::<f64>().ok())
        .filter(|v| v.fract() != 0.0)
        .collect();
    assert!(
        ys.iter().any(|&v| v < 0.5) && ys.iter().any(|&v| v > 0.5),
        "{ys:?}"
    );
}

#[test]
fn y_range_fixes_the_axis_and_clips() {
    let mut c = chart(vec![series("acc", &[(1.0, 0.5), (2.0, 0.95), (3.0, 1.2)])]);
    c.y_range = Some((0.0, 1.0));
    let svg = c.to_svg();
    assert_xml(&svg);
    let labels = texts(&svg);
    for want in ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"] {
        assert!(labels.contains(&want), "missing {want}: {labels:?}");
    }
    assert!(!labels.contains(&"1.2"));
    assert!(svg.contains("<clipPath") && svg.contains("clip-path=\"url(#"));
}

// ---------------------------------------------------------------- bar charts

fn ablation() -> BarChart {
    BarChart {
        title: "Test accuracy per recipe step".into(),
        y_label: "test accuracy".into(),
        bars: vec![
            ("original".into(), 0.8523),
            ("+ ReLU & He".into(), 0.9234),
            ("+ <momentum>".into(), 0.9712),
        ],
        y_range: None,
    }
}

#[test]
fn bar_chart_prints_values_and_escaped_labels() {
    let svg = ablation().to_svg();
    assert_xml(&svg);
    let labels = texts(&svg);
    for want in [
        "Test accuracy per recipe step",
        "test accuracy",
        "original",
        "+ ReLU &amp; He",
        "+ &lt;momentum&gt;",
        "0.8523",
        "0.9234",
        "0.9712",
    ] {
        assert!(labels.contains(&want), "missing {want}: {labels:?}");
    }
    // Three bars (plus the background rect).
    assert_eq!(svg.matches("<rect").count(), 1 + 3);
    // Without a range the axis starts at zero.
    assert!(labels.contains(&"0.0"), "{labels:?}");
}

#[test]
fn bar_chart_zooms_to_a_range() {
    let mut c = ablation();
    c.y_range = Some((0.8, 1.0));
    let svg = c.to_svg();
    assert_xml(&svg);
    let labels = texts(&svg);
    assert!(
        labels.contains(&"0.80") && labels.contains(&"1.00"),
        "{labels:?}"
    );
    assert!(!labels.contains(&"0.0"));
}

#[test]
fn bar_chart_handles_negative_missing_and_empty() {
    let c = BarChart {
        title: "Δ accuracy".into(),
        y_label: "change".into(),
        bars: vec![
            ("a".into(), -0.02),
            ("b".into(), 0.01),
            ("c".into(), f64::NAN),
        ],
        y_range: None,
    };
    let svg = c.to_svg();
    assert_xml(&svg);
    let labels = texts(&svg);
    assert!(
        labels.contains(&"-0.02000") && labels.contains(&"n/a"),
        "{labels:?}"
    );
    assert!(!svg.to_lowercase().contains("nan"));
    let empty = BarChart { bars: vec![], ..c };
    assert_xml(&empty.to_svg());
}

#[test]
fn long_bar_labels_are_slanted() {
    let mut c = ablation();
    c.bars = (0..8)
        .map(|i| (format!("+ a long recipe step {i}"), 0.9 + i as f64 / 100.0))
        .collect();
    let svg = c.to_svg();
    assert_xml(&svg);
    assert_eq!(svg.matches("rotate(-35").count(), 8);
}

// ---------------------------------------------------------------- galleries

#[test]
fn gallery_draws_one_rect_per_run_of_ink() {
    #[rustfmt::skip]
    let pixels = [
        0,   255, 255, 0,    // one run of black
        255, 0,   255, 255,  // two runs
        17,  34,  34,  5,    // a light grey, then a run of a darker one; 5 rounds to background
        0,   0,   0,   0,    // nothing
    ];
    let image = GalleryImage {
        pixels: &pixels,
        width: 4,
        height: 4,
        caption: "true 4, predicted 9".into(),
    };
    let svg = gallery_svg("Tiny", &[image], 10);
    assert_xml(&svg);
    let runs: Vec<&str> = svg
        .lines()
        .filter(|l| l.starts_with("<rect") && l.contains(r#"height="1""#))
        .collect();
    assert_eq!(runs.len(), 5, "{runs:#?}");
    for want in [
        r#"<rect x="1" y="0" width="2" height="1"/>"#,
        r#"<rect x="0" y="1" width="1" height="1"/>"#,
        r#"<rect x="2" y="1" width="2" height="1"/>"#,
        r#"<rect x="0" y="2" width="1" height="1"/>"#,
        r#"<rect x="1" y="2" width="2" height="1"/>"#,
    ] {
        assert!(runs.contains(&want), "missing {want}: {runs:#?}");
    }
    // 255 is black ink, 17 and 34 the two lightest greys.
    assert!(svg.contains(r##"<g fill="#000">"##));
    assert!(svg.contains(r##"<g fill="#eee">"##));
    assert!(svg.contains(r##"<g fill="#ddd">"##));
    assert!(texts(&svg).contains(&"true 4, predicted 9"));
}

/// A 28 × 28 ring with soft edges, like a hand-written zero.
fn ring(seed: usize) -> Vec<u8> {
    let mut pixels = vec![0u8; 28 * 28];
    for y in 0..28 {
        for x in 0..28 {
            let dx = x as f64 - 13.5;
            let dy = (y as f64 - 13.5) * 1.3;
            let d = ((dx * dx + dy * dy).sqrt() - 8.0 - (seed % 3) as f64).abs();
            let ink = (1.0 - (d - 1.2).max(0.0) / 1.5).clamp(0.0, 1.0);
            pixels[y * 28 + x] = (ink * 255.0).round() as u8;
        }
    }
    pixels
}

#[test]
fn a_hundred_digit_gallery_is_well_formed_and_small() {
    let images: Vec<Vec<u8>> = (0..100).map(ring).collect();
    let tiles: Vec<GalleryImage> = images
        .iter()
        .enumerate()
        .map(|(i, p)| GalleryImage {
            pixels: p,
            width: 28,
            height: 28,
            caption: format!("true {}, predicted {}", i % 10, (i + 3) % 10),
        })
        .collect();
    let svg = gallery_svg("Misclassified <test> images", &tiles, 10);
    assert_xml(&svg);
    assert!(svg.len() < 1_000_000, "{} bytes", svg.len());
    let runs = svg.matches(r#"height="1""#).count();
    assert!(runs < 150 * 100, "{runs} rects for 100 digits");
    assert!(texts(&svg).contains(&"Misclassified &lt;test&gt; images"));
    assert_eq!(texts(&svg).len(), 1 + 100);
}

#[test]
fn gallery_lays_out_rows_and_multi_line_captions() {
    let pixels = [255u8; 4];
    let tile = |caption: &str| GalleryImage {
        pixels: &pixels,
        width: 2,
        height: 2,
        caption: caption.into(),
    };
    let one_row = gallery_svg("t", &[tile("a"), tile("b")], 2);
    let two_rows = gallery_svg("t", &[tile("a"), tile("b")], 1);
    let height = |svg: &str| -> f64 {
        let at = svg.find("height=\"").unwrap() + 8;
        svg[at..at + svg[at..].find('"').unwrap()].parse().unwrap()
    };
    assert!(height(&two_rows) > height(&one_row));
    let multi = gallery_svg("t", &[tile("true 4\npredicted 9 & <x>")], 3);
    assert_xml(&multi);
    let labels = texts(&multi);
    assert!(labels.contains(&"true 4") && labels.contains(&"predicted 9 &amp; &lt;x&gt;"));
}

#[test]
fn empty_gallery_says_so() {
    let svg = gallery_svg("No held-out images to show", &[], 10);
    assert_xml(&svg);
    assert!(texts(&svg).contains(&"(no images)"));
}

#[test]
#[should_panic(expected = "image 0 has 3 pixels, but is 2 × 2")]
fn gallery_rejects_a_wrong_pixel_count() {
    let pixels = [0u8; 3];
    let image = GalleryImage {
        pixels: &pixels,
        width: 2,
        height: 2,
        caption: String::new(),
    };
    gallery_svg("bad", &[image], 1);
}

#[test]
#[should_panic(expected = "columns must be at least 1")]
fn gallery_rejects_zero_columns() {
    gallery_svg("bad", &[], 0);
}

/// The images a weights chart embeds, decoded from first principles: base64 (RFC 4648),
/// the PNG chunks with their CRC-32s (ISO/IEC 15948), the zlib stream (RFC 1950) with its
/// Adler-32, each row's filter byte. Returns, per image, `(width, height, palette, indices)`.
#[allow(clippy::type_complexity)]
fn embedded_pngs(svg: &str) -> Vec<(u32, u32, Vec<[u8; 3]>, Vec<u8>)> {
    let digit = |c: u8| -> u32 {
        match c {
            b'A'..=b'Z' => (c - b'A') as u32,
            b'a'..=b'z' => (c - b'a' + 26) as u32,
            b'0'..=b'9' => (c - b'0' + 52) as u32,
            b'+' => 62,
            b'/' => 63,
            _ => panic!("not base64: {c}"),
        }
    };
    let mut images = Vec::new();
    for part in svg.split("data:image/png;base64,").skip(1) {
        let text = &part.as_bytes()[..part.find('"').unwrap()];
        assert_eq!(text.len() % 4, 0);
        let mut png = Vec::new();
        for group in text.chunks(4) {
            let pad = group.iter().filter(|&&c| c == b'=').count();
            let n = group[..4 - pad]
                .iter()
                .enumerate()
                .fold(0u32, |n, (i, &c)| n | digit(c) << (18 - 6 * i));
            png.extend_from_slice(&n.to_be_bytes()[1..4 - pad]);
        }
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        let (mut at, mut header, mut palette, mut zlib) = (8, Vec::new(), Vec::new(), Vec::new());
        let mut kinds = Vec::new();
        while at < png.len() {
            let len = u32::from_be_bytes(png[at..at + 4].try_into().unwrap()) as usize;
            let kind = &png[at + 4..at + 8];
            let data = &png[at + 8..at + 8 + len];
            let crc = u32::from_be_bytes(png[at + 8 + len..at + 12 + len].try_into().unwrap());
            assert_eq!(
                crc,
                simplenn::crc32::crc32(&png[at + 4..at + 8 + len]),
                "CRC"
            );
            kinds.push(String::from_utf8(kind.to_vec()).unwrap());
            match kind {
                b"IHDR" => header = data.to_vec(),
                b"PLTE" => palette = data.chunks(3).map(|c| [c[0], c[1], c[2]]).collect(),
                b"IDAT" => zlib.extend_from_slice(data),
                _ => {}
            }
            at += 12 + len;
        }
        assert_eq!(kinds, ["IHDR", "PLTE", "IDAT", "IEND"]);
        let width = u32::from_be_bytes(header[0..4].try_into().unwrap());
        let height = u32::from_be_bytes(header[4..8].try_into().unwrap());
        assert_eq!(
            &header[8..],
            &[8, 3, 0, 0, 0],
            "8-bit indexed, no interlace"
        );
        assert_eq!((zlib[0], zlib[1]), (0x78, 0x01));
        assert_eq!((zlib[0] as u32 * 256 + zlib[1] as u32) % 31, 0, "FCHECK");
        let (rows, used) = simplenn::gzip::inflate(&zlib[2..]).unwrap();
        let adler = u32::from_be_bytes(zlib[2 + used..2 + used + 4].try_into().unwrap());
        let (mut a, mut b) = (1u64, 0u64);
        for &byte in &rows {
            a = (a + byte as u64) % 65521;
            b = (b + a) % 65521;
        }
        assert_eq!(adler as u64, (b << 16) | a, "Adler-32");
        let mut indices = Vec::new();
        for row in rows.chunks(width as usize + 1) {
            assert_eq!(row[0], 0, "filter type 0");
            indices.extend_from_slice(&row[1..]);
        }
        assert_eq!(indices.len(), (width * height) as usize);
        images.push((width, height, palette, indices));
    }
    images
}

#[test]
fn weights_are_red_when_positive_blue_when_negative_each_image_to_its_own_scale() {
    #[rustfmt::skip]
    let values = [
        2.0,  2.0, 0.0,  // full red twice, white
        -2.0, 1.0, 0.1,  // full blue, 1.0 of 2.0 is level 4 of 7 (3.5 rounds up), 0.1 white
    ];
    let small: Vec<f32> = values.iter().map(|v| v / 1000.0).collect();
    let images = [
        WeightImage {
            values: &values,
            width: 3,
            height: 2,
            caption: "unit 0".into(),
        },
        WeightImage {
            values: &small,
            width: 3,
            height: 2,
            caption: "unit 1".into(),
        },
    ];
    let svg = weights_svg("First layer", &images, 8);
    assert_xml(&svg);
    let pngs = embedded_pngs(&svg);
    assert_eq!(pngs.len(), 2);
    // Palette index = level + 7; each image to its own largest magnitude, so both the same.
    for (width, height, palette, indices) in &pngs {
        assert_eq!((*width, *height), (3, 2));
        assert_eq!(indices, &[14, 14, 7, 0, 11, 7]);
        assert_eq!(palette.len(), 15);
        assert_eq!(palette[14], [178, 24, 43], "level +7 is #b2182b");
        assert_eq!(palette[0], [33, 102, 172], "level −7 is #2166ac");
        assert_eq!(palette[7], [255, 255, 255], "level 0 is white");
        let mid = |c: u8| (255.0 - (255.0 - c as f64) * 4.0 / 7.0).round() as u8;
        assert_eq!(palette[11], [mid(178), mid(24), mid(43)]);
    }
    assert!(texts(&svg).contains(&"unit 1"));
    // Drawn at three screen pixels per value, without smoothing.
    assert_eq!(svg.matches("image-rendering:pixelated").count(), 2);
}

#[test]
fn all_zero_or_non_finite_weights_are_white() {
    let zeros = [0.0f32; 4];
    let odd = [f32::NAN, 1.0, f32::INFINITY, -1.0];
    let images = [
        WeightImage {
            values: &zeros,
            width: 2,
            height: 2,
            caption: "zeros".into(),
        },
        WeightImage {
            values: &odd,
            width: 2,
            height: 2,
            caption: "odd".into(),
        },
    ];
    let svg = weights_svg("t", &images, 2);
    assert_xml(&svg);
    let pngs = embedded_pngs(&svg);
    assert_eq!(pngs[0].3, [7, 7, 7, 7]);
    assert_eq!(
        pngs[1].3,
        [7, 14, 7, 0],
        "non-finite values are white, not the scale"
    );
}

#[test]
fn a_grid_of_64_digit_sized_weight_images_is_small() {
    let mut rng = simplenn::Rng::new(5);
    let noise: Vec<Vec<f32>> = (0..64)
        .map(|_| (0..784).map(|_| rng.normal() as f32).collect())
        .collect();
    let images: Vec<WeightImage> = noise
        .iter()
        .enumerate()
        .map(|(j, values)| WeightImage {
            values,
            width: 28,
            height: 28,
            caption: format!("unit {j}"),
        })
        .collect();
    let svg = weights_svg("64 units of noise", &images, 8);
    assert_xml(&svg);
    assert!(svg.len() < 120_000, "{} bytes", svg.len());
    assert_eq!(embedded_pngs(&svg).len(), 64);
}

#[test]
#[should_panic(expected = "weights_svg: image 0 has 3 values, but is 2 × 2")]
fn weights_of_the_wrong_length_panic() {
    let values = [1.0f32; 3];
    let image = WeightImage {
        values: &values,
        width: 2,
        height: 2,
        caption: String::new(),
    };
    weights_svg("t", &[image], 4);
}
