//! What a run trains on and what it trains: the data, split for validation; the
//! augmentation that "auto" settles on for these images; the network.

use crate::common::{self, CLASSES, Failure};
use crate::settings::Settings;
use simplenn::dataset::Dataset;
use simplenn::samples::Samples;
use simplenn::{Network, Shape};
use std::path::Path;

/// The data of a run.
pub struct Data {
    /// Where it came from (the folder or file), for messages and the metrics file.
    pub source: String,
    pub train: Dataset,
    /// Empty with `--val-fraction 0`.
    pub validation: Dataset,
    /// The folder's t10k-* files, when it has them.
    pub test: Option<Dataset>,
}

impl Data {
    /// The validation set as training takes it: none when it is empty.
    pub fn validation_set(&self) -> Option<&dyn Samples<f32>> {
        (!self.validation.is_empty()).then_some(&self.validation as _)
    }

    /// The held-out images whose mistakes are shown: the test set, or else the validation
    /// set.
    pub fn shown(&self) -> Option<&Dataset> {
        self.test
            .as_ref()
            .or((!self.validation.is_empty()).then_some(&self.validation))
    }
}

/// Loads `--data` or `--csv` (or the built-in digits) and splits off the validation set.
pub fn load(s: &Settings) -> Result<Data, Failure> {
    let loaded = common::load_labelled(s.data.clone(), s.csv.clone())?;
    let (train, validation) = loaded.train.split(s.val_fraction, s.config.seed);
    if train.is_empty() {
        return Err(Failure::Data(
            simplenn::Error::data("no training samples left after the validation split")
                .in_file(&loaded.source),
        ));
    }
    Ok(Data {
        source: loaded.source,
        train,
        validation,
        test: loaded.test,
    })
}

/// Settles `--shift`, `--rotate` and `--scale` for these training images: a value given is
/// taken as it is; "auto" takes the recipe's, but no more than the images allow. Returns a
/// note for each "auto" that took less than the recipe's, to print.
pub fn settle_augmentation(s: &mut Settings, train: &Dataset) -> Vec<String> {
    let shift_note = settle_shift(s, train);
    let warp_note = settle_warps(s, train);
    [shift_note, warp_note].into_iter().flatten().collect()
}

/// `--shift auto`: the recipe's shift, but no more than these images' empty border.
fn settle_shift(s: &mut Settings, train: &Dataset) -> Option<String> {
    if let Some(k) = s.shift {
        s.config.shift = k;
        return None;
    }
    let recipe = s.config.shift;
    s.config.shift = simplenn::augment::safe_shift(train.images(), recipe);
    // A recipe without shifts (the original) has nothing to cap.
    (recipe > 0).then(|| {
        format!(
            "shift: auto, {} px (the recipe's {recipe} px, capped at the median empty \
                 border of these images)",
            s.config.shift
        )
    })
}

/// `--rotate auto` and `--scale auto`: the recipe's, but only as far as the ink stays in
/// the frame.
fn settle_warps(s: &mut Settings, train: &Dataset) -> Option<String> {
    let wanted = (
        s.rotate.unwrap_or(s.config.rotation),
        s.scale.unwrap_or(s.config.scale),
    );
    let (safe_rotation, safe_scale) =
        simplenn::augment::safe_warp(train.images(), wanted.0, wanted.1);
    let recipe_warps = (s.config.rotation, s.config.scale);
    s.config.rotation = s.rotate.unwrap_or(safe_rotation);
    s.config.scale = s.scale.unwrap_or(safe_scale);
    ((s.rotate.is_none() || s.scale.is_none())
        && recipe_warps != (0.0, 0.0)
        && (s.config.rotation, s.config.scale) != wanted)
        .then(|| {
            format!(
                "rotate, scale: auto, {}° and ±{}% (the recipe's {}° and ±{}%, reduced so that \
                 the ink of most of these images stays in the frame)",
                s.config.rotation,
                100.0 * s.config.scale,
                recipe_warps.0,
                100.0 * recipe_warps.1
            )
        })
}

/// Checks that the settings can train on this data: shifts that keep the images in their
/// frame, a config the library accepts for these sets, and for a preset 28×28 images.
pub fn check_fit(s: &Settings, data: &Data) -> Result<(), Failure> {
    let images = data.train.images();
    if let Err(e) = s.config.validate_for(&data.train, data.validation_set()) {
        return Err(Failure::Usage(format!(
            "these settings cannot train on this data: {}",
            crate::settings::describe(&e)
        )));
    }
    let features = images.pixels_per_image();
    if s.preset.is_some() && features != 784 {
        return Err(Failure::Data(
            simplenn::Error::data(format!(
                "the original preset is for 28×28 images (784 pixels); these have {features}"
            ))
            .in_file(&data.source),
        ));
    }
    Ok(())
}

/// The network the settings describe, for these images: dense layers of `--hidden`, or the
/// layers of `--arch` (or a preset's).
pub fn build_network(s: &Settings, data: &Data) -> Result<Network, Failure> {
    let images = data.train.images();
    let (width, height) = (images.width(), images.height());
    let Some(layers) = &s.arch else {
        let mut builder = Network::builder(images.pixels_per_image())
            .output(CLASSES)
            .seed(s.config.seed);
        for &units in &s.hidden {
            builder = builder.hidden(units, s.activation);
        }
        return Ok(builder.init(s.init).build());
    };
    let mut builder = Network::builder_for(Shape::image(height, width, 1))
        .output(CLASSES)
        .seed(s.config.seed)
        .init(s.init);
    for &layer in layers {
        builder = builder.layer(layer);
    }
    builder.try_build().map_err(|e| {
        Failure::Usage(format!(
            "--arch: {e} (on {width}×{height} images; the hidden layers are {})",
            simplenn::arch::describe(layers)
        ))
    })
}

/// `--init-from FILE`: the weights of a safetensors file, checked against the network.
pub fn start_from(net: &mut Network, file: &Path) -> Result<(), Failure> {
    let tensors = simplenn::model::safetensors::load(file)?;
    simplenn::model::safetensors::set_parameters(net, &tensors)
        .map_err(|e| Failure::Data(e.in_file(file)))?;
    say!("starting from the weights in {}", file.display());
    Ok(())
}
