//! `--plots DIR`: the SVG figures of a run: its curves (loss, accuracy, learning rate),
//! the images it gets wrong, the first layer's weights, and for a CNN what each layer makes
//! of a digit.

use crate::common::{Failure, write_file};
use crate::report::Outcome;
use crate::setup::Data;
use simplenn::LayerKind;
use simplenn::dataset::Dataset;
use simplenn::layer::Layer;
use simplenn::plot::{GalleryImage, LineChart, Series, WeightImage, gallery_svg, weights_svg};
use simplenn::{EpochStats, Network};
use std::path::Path;

/// Writes every figure into `dir` and says which.
pub fn write(
    dir: &Path,
    net: &Network,
    history: &[EpochStats],
    outcome: &Outcome,
    data: &Data,
) -> Result<(), Failure> {
    write_file(&dir.join("loss.svg"), &loss_chart(history).to_svg())?;
    write_file(
        &dir.join("accuracy.svg"),
        &accuracy_chart(history, outcome.test_accuracy).to_svg(),
    )?;
    write_file(
        &dir.join("learning-rate.svg"),
        &learning_rate_chart(history).to_svg(),
    )?;
    let shown = data.shown();
    let set = if data.test.is_some() {
        "test"
    } else {
        "validation"
    };
    write_file(
        &dir.join("misclassified.svg"),
        &misclassified_svg(shown, &outcome.wrong, set),
    )?;
    let (width, height) = shown.map_or((28, 28), |d| (d.images().width(), d.images().height()));
    write_file(
        &dir.join("weights.svg"),
        &first_layer_svg(net, width, height),
    )?;
    if let (Some(data), true) = (shown, net.layers()[0].as_conv2d().is_some()) {
        write_file(
            &dir.join("feature-maps.svg"),
            &feature_maps_svg(net, data, set),
        )?;
    }
    say!(
        "wrote loss.svg, accuracy.svg, learning-rate.svg, {} to {}",
        if dir.join("feature-maps.svg").exists() && net.layers()[0].as_conv2d().is_some() {
            "misclassified.svg, weights.svg and feature-maps.svg"
        } else {
            "misclassified.svg and weights.svg"
        },
        dir.display()
    );
    Ok(())
}

/// `(epoch, y)` for every epoch where `y` has a value.
fn points(history: &[EpochStats], y: impl Fn(&EpochStats) -> Option<f64>) -> Vec<(f64, f64)> {
    history
        .iter()
        .filter_map(|e| y(e).map(|y| (e.epoch as f64, y)))
        .collect()
}

/// A chart of one line per series, against the epoch.
fn per_epoch(title: &str, y_label: &str, series: Vec<Series>) -> LineChart {
    LineChart {
        title: title.into(),
        x_label: "epoch".into(),
        y_label: y_label.into(),
        series,
        y_range: None,
    }
}

/// A line of a chart.
fn line(name: &str, points: Vec<(f64, f64)>) -> Series {
    Series {
        name: name.into(),
        points,
    }
}

/// A line of a validation figure, or none without a validation set (it has no points).
fn validation_line(name: &str, points: Vec<(f64, f64)>) -> Option<Series> {
    (!points.is_empty()).then(|| line(name, points))
}

/// loss.svg: training loss, and validation loss when there is a validation set.
fn loss_chart(history: &[EpochStats]) -> LineChart {
    let mut lines = vec![line("training loss", points(history, |e| Some(e.loss)))];
    lines.extend(validation_line(
        "validation loss",
        points(history, |e| e.val_loss),
    ));
    per_epoch("Loss per epoch", "mean cross-entropy", lines)
}

/// accuracy.svg: the running training accuracy, validation accuracy when there is a
/// validation set, and the final test accuracy as one point at the last epoch.
fn accuracy_chart(history: &[EpochStats], test_accuracy: Option<f64>) -> LineChart {
    let mut lines = vec![line(
        "training (running)",
        points(history, |e| Some(100.0 * e.train_accuracy)),
    )];
    lines.extend(validation_line(
        "validation",
        points(history, |e| e.val_accuracy.map(|v| 100.0 * v)),
    ));
    if let (Some(t), Some(last)) = (test_accuracy, history.last()) {
        lines.push(line("test (final)", vec![(last.epoch as f64, 100.0 * t)]));
    }
    per_epoch("Accuracy per epoch", "accuracy (%)", lines)
}

/// learning-rate.svg: the rate of each epoch's last step.
fn learning_rate_chart(history: &[EpochStats]) -> LineChart {
    let rate = line("learning rate", points(history, |e| Some(e.learning_rate)));
    per_epoch(
        "Learning rate at the end of each epoch",
        "learning rate",
        vec![rate],
    )
}

/// misclassified.svg: the images of `shown` (the `set`) that the network gets wrong, each
/// with its label and the prediction.
fn misclassified_svg(
    shown: Option<&Dataset>,
    wrong: &[(usize, usize, usize)],
    set: &str,
) -> String {
    let Some(data) = shown else {
        return gallery_svg("No held-out images to show", &[], 10);
    };
    let images = data.images();
    let tiles: Vec<GalleryImage> = wrong
        .iter()
        .map(|&(i, t, p)| GalleryImage {
            pixels: images.image(i),
            width: images.width(),
            height: images.height(),
            caption: format!("true {t}, predicted {p}"),
        })
        .collect();
    gallery_svg(
        &format!("Misclassified {set} images (first {} shown)", tiles.len()),
        &tiles,
        10,
    )
}

/// Channels of each layer drawn in feature-maps.svg: one row per layer.
const MAPS_PER_LAYER: usize = 16;

/// What every convolution and pooling layer makes of the first image of `data`: each
/// channel of its output drawn as an image, a row per layer.
fn feature_maps_svg(net: &Network, data: &Dataset, set: &str) -> String {
    let digit = data.select(&[0]);
    let x = digit.images().to_matrix::<f32>();
    let outputs = net.forward_all(&x);
    let predicted = outputs.last().expect("a layer").argmax_rows()[0];
    // Each map as its own vector: the rows are channels-last, (y·W + x)·C + c.
    let mut maps: Vec<(Vec<f32>, usize, usize, String)> = Vec::new();
    for (l, (layer, out)) in net.layers().iter().zip(&outputs).enumerate() {
        let shape = layer.output_shape();
        if shape.height == 1 && shape.width == 1 {
            continue; // a dense layer: no picture
        }
        let kind = match layer {
            Layer::Conv2d(_) => "conv",
            Layer::BatchNorm(_) => "bn",
            _ => "pool",
        };
        for c in 0..shape.channels.min(MAPS_PER_LAYER) {
            let values = out
                .row(0)
                .iter()
                .skip(c)
                .step_by(shape.channels)
                .copied()
                .collect();
            let caption = format!("layer {}: {kind} {c}", l + 1);
            maps.push((values, shape.width, shape.height, caption));
        }
    }
    let images: Vec<WeightImage> = maps
        .iter()
        .map(|(values, width, height, caption)| WeightImage {
            values,
            width: *width,
            height: *height,
            caption: caption.clone(),
        })
        .collect();
    let title = format!(
        "Feature maps of the first {set} image (label {}, predicted {predicted}): the first {} \
         channels of each convolution and pooling layer, each scaled to its own largest value",
        digit.label(0),
        MAPS_PER_LAYER
    );
    weights_svg(&title, &images, MAPS_PER_LAYER)
}

/// Units of the first layer drawn in weights.svg.
const WEIGHT_IMAGES: usize = 64;

/// The first layer's weights into each of its first units, drawn as the image they are
/// multiplied with: what pattern of ink makes the unit respond.
fn first_layer_svg(net: &Network, width: usize, height: usize) -> String {
    if let Some(conv) = net.layers()[0].as_conv2d() {
        return filters_svg(conv);
    }
    let Some(first) = net.layers()[0]
        .as_dense()
        .filter(|d| d.inputs() == width * height)
    else {
        return weights_svg(
            "The first layer does not read images: nothing to draw",
            &[],
            8,
        );
    };
    let units = first.outputs();
    let shown = units.min(WEIGHT_IMAGES);
    // Column j of W holds unit j's weights, one per pixel: row j of Wᵀ.
    let columns = first.weights().transpose();
    let is_output = net.layers().len() == 1;
    let images: Vec<WeightImage> = (0..shown)
        .map(|j| WeightImage {
            values: columns.row(j),
            width,
            height,
            caption: if is_output {
                format!("class {j}")
            } else {
                format!("unit {j}")
            },
        })
        .collect();
    let title = if shown < units {
        format!("First-layer weights of the first {shown} of {units} units (red +, blue −)")
    } else {
        format!("First-layer weights of all {units} units (red +, blue −)")
    };
    weights_svg(&title, &images, 8)
}

/// A convolution's learned kernels, each drawn as the `k × k` patch of ink it responds to
/// (the first input channel's weights, the only one for grey images).
fn filters_svg(conv: &simplenn::Conv2d) -> String {
    let (k, c) = (conv.kernel(), conv.input_shape().channels);
    let columns = conv.weights().transpose(); // row o: kernel o, (ky·k + kx)·C + ch
    let kernels: Vec<Vec<f32>> = (0..columns.rows())
        .map(|o| columns.row(o).iter().step_by(c).copied().collect())
        .collect();
    let images: Vec<WeightImage> = kernels
        .iter()
        .enumerate()
        .map(|(o, values)| WeightImage {
            values,
            width: k,
            height: k,
            caption: format!("filter {o}"),
        })
        .collect();
    let channel = if c > 1 { ", input channel 0" } else { "" };
    let title = format!(
        "The first layer's {} learned {k}×{k} filters{channel} (red +, blue −)",
        kernels.len()
    );
    weights_svg(&title, &images, 8)
}
