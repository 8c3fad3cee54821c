//! The SVG writer the charts share: a document with its white background, lines and text,
//! numbers written to a tenth of a pixel, and text escaped for XML (so a title like
//! `loss < 0.1 & falling` is safe).

use std::fmt::Write as _;

/// A number for an SVG attribute: one decimal is a tenth of a pixel, finer than any screen,
/// and keeps files small. Trailing `.0` is dropped.
pub(super) fn num(v: f64) -> String {
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
pub(super) fn text_width(text: &str, size: f64) -> f64 {
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
pub(super) struct Svg {
    /// The document so far; charts append elements of their own to it.
    pub(super) out: String,
}

impl Svg {
    pub(super) fn new(width: f64, height: f64) -> Svg {
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

    pub(super) fn line(&mut self, x1: f64, y1: f64, x2: f64, y2: f64, stroke: &str, width: f64) {
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
    pub(super) fn text(
        &mut self,
        x: f64,
        y: f64,
        size: f64,
        anchor: &str,
        extra: &str,
        text: &str,
    ) {
        let _ = writeln!(
            self.out,
            r#"<text x="{}" y="{}" font-size="{}" text-anchor="{anchor}"{extra}>{}</text>"#,
            num(x),
            num(y),
            num(size),
            escape(text)
        );
    }

    pub(super) fn title(&mut self, x: f64, text: &str) {
        self.text(
            x,
            26.0,
            17.0,
            "middle",
            r##" font-weight="bold" fill="#222222""##,
            text,
        );
    }

    pub(super) fn finish(mut self) -> String {
        self.out.push_str("</svg>\n");
        self.out
    }
}
