//! Galleries: grids of captioned images, [`gallery_svg`] for greyscale digits (drawn as
//! runs of `<rect>`s, background left out) and [`weights_svg`] for signed values such as a
//! layer's weights (red positive, blue negative, each image an embedded palette PNG).

use super::base64::base64;
use super::png::png_indexed;
use super::svg::{Svg, num, text_width};
use std::fmt::Write as _;

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
