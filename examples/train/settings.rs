//! The command line: the help text, every flag with its default, and the [`Settings`] they
//! make. Flags are read in a fixed order, so that of two wrong ones the same one is always
//! reported; an unknown flag is reported last. What a value must be is the library's rule
//! ([`TrainConfig::validate`]): this file parses numbers and names the flag of a setting the
//! library refuses ([`config_error`]).

use crate::common::{self, Args, CLASSES, Failure};
use crate::resume;
use simplenn::preset::{self, RECOMMENDED_HIDDEN};
use simplenn::train::Setting;
use simplenn::{Activation, BadConfig, Batch, Init, LayerSpec, Optimiser, Shape, TrainConfig};
use std::fmt::Display;
use std::path::PathBuf;

const HELP: &str = "\
Trains a neural network on MNIST-style images and reports its accuracy.

Usage: cargo run --release --example train -- [OPTIONS]

Data (default: the 10,000 MNIST training digits built into data/mnist-10k):
  --data DIR          a folder with train-images-idx3-ubyte and train-labels-idx1-ubyte
                      (raw or .gz); t10k-images/t10k-labels files there, if any, are the
                      test set. Works with MNIST, Fashion-MNIST and the like.
  --csv FILE          a Kaggle-style labelled CSV (label,pixel0,...,pixel783)
  --val-fraction F    fraction of the training data held out for validation [default: 0.1]

Network:
  --preset NAME       'original': the original NumPy recipe (784-10-10, ReLU, uniform
                      init, full batch, lr 0.1, 600 epochs); 'cnn': a small convolutional
                      network (--arch conv5:16,pool2,conv5:32,pool2,dense128, 30 epochs,
                      --rotate 15 --scale 0.15); flags given with it override its settings
  --hidden LIST       hidden layer sizes, e.g. 128 or 256,128; 'none' for no hidden layer
                      [default: 512,256]
  --arch LIST         any stack of hidden layers, input side first, e.g.
                      conv5:16,pool2,conv5:32,pool2,dense128: denseN (N units), convK:C
                      (C kernels of KxK, 'same' padding, stride 1), poolK (KxK max-pooling),
                      bn (batch normalisation of each channel); options after colons: an
                      activation (dense64:tanh, bn:relu), for convK:C also sN (stride),
                      valid, same or pN (padding), as in conv3:32:s2:valid
  --activation NAME   relu, sigmoid, tanh or identity [default: relu]
  --init NAME         he, xavier or original, for every layer [default: he with relu,
                      xavier with the other activations]
  --init-from FILE    start from the weights in FILE, a .safetensors file written by
                      `predict --export` or by PyTorch for the same architecture (names
                      and layouts: the book's \"Taking it elsewhere\")

Training:
  --epochs N          passes over the training data [default: 60]
  --batch N|full      samples per gradient step; 'full' for full-batch descent [default: 64]
  --lr F              learning rate; with a schedule, its peak [default: 0.05]
  --schedule S        how the learning rate changes: constant; step:EVERY:FACTOR, times
                      FACTOR every EVERY epochs; cosine or cosine:MIN, a half cosine down
                      to MIN times the rate [default: cosine]
  --warmup N          epochs over which the rate first climbs linearly to --lr [default: 0]
  --optimizer NAME    sgd; adam or adamw (Adam with coupled or decoupled weight decay;
                      adam:BETA2:EPS to set those, default 0.999 and 1e-8) [default: sgd]
  --momentum F        momentum, 0 to <1; Adam's beta1 [default: 0.9]
  --weight-decay F    L2 weight decay of the weights (not the biases): added to their
                      gradient, or with adamw taken off them directly [default: 0.0005]
  --label-smoothing E train against targets (1-E)*one-hot + E/10, 0 to <1 [default: 0.1]
  --dropout P         drop each hidden unit with probability P while training, 0 to <1
                      [default: 0]
  --shift K|auto      augment: move each training image by up to K pixels across and up
                      or down, drawn anew every time it is used; 'auto' is 2, or less if
                      the median image has less empty border than that (0 for
                      Fashion-MNIST, whose pictures fill the frame) [default: auto]
  --rotate DEG|auto   augment: also turn each training image by up to DEG degrees, 0 to
                      45; 'auto' is the recipe's (0, or 15 for --preset cnn), or none if
                      the images fill their frame (Fashion-MNIST) [default: auto]
  --scale F|auto      augment: also scale each training image by up to 1 +- F, 0 to <0.5;
                      'auto' as for --rotate (0, or 0.15 for --preset cnn) [default: auto]
  --elastic A[:S]|off augment: also distort each training image elastically (Simard 2003),
                      a random field smoothed by a Gaussian of S pixels (default 4) and
                      scaled by A pixels, e.g. 34 [default: off]
  --keep-best         end with the epoch of best validation accuracy, not the last one
  --patience N        stop after N epochs without a better validation accuracy
                      [default: off]
  --seed N            seed for initialisation, shuffling, the validation split, shifts and
                      dropout [default: 1]
  --threads N         threads for the matrix products [default: all cores, or SIMPLENN_THREADS]

Stopping and resuming:
  --checkpoint FILE   after every epoch, save the run (model, optimiser state, random
                      streams, history) to FILE, replacing it atomically
  --resume FILE       continue the run saved in FILE, with the same data and settings
                      (only --threads and --stop-after may be given with it); it ends
                      exactly as if it had never stopped
  --stop-after N      end the process after epoch N of the run (needs --checkpoint)

Output:
  --save FILE         write the trained model (load it with the predict example)
  --metrics FILE      write a JSON summary: config, per-epoch statistics, accuracies, seconds
  --plots DIR         write loss.svg, accuracy.svg, learning-rate.svg, misclassified.svg
                      and weights.svg (the first layer's weights or filters as images) into
                      DIR, and for a CNN feature-maps.svg (what each layer makes of a digit)
  -h, --help          print this help

Exit status: 0 on success, 2 for a usage error, 1 for a data or I/O error
(141 if stdout is a pipe whose reader has gone, as with `| head`).
";

/// Every setting of a run, after defaults and the preset are applied.
pub struct Settings {
    pub data: Option<String>,
    pub csv: Option<String>,
    pub val_fraction: f64,
    pub preset: Option<String>,
    /// `--shift`: pixels, or `None` for "auto" (at most the recipe's shift, and no more
    /// than the training images' empty border: `augment::safe_shift`).
    pub shift: Option<usize>,
    pub hidden: Vec<usize>,
    pub activation: Activation,
    /// `--rotate` and `--scale`, `None` for "auto" (the recipe's, unless the training
    /// images fill their frame: `augment::safe_warp`).
    pub rotate: Option<f64>,
    pub scale: Option<f64>,
    /// `--arch` (or a preset's), which replaces `hidden` and `activation`.
    pub arch: Option<Vec<LayerSpec>>,
    /// For every layer, the output one too: by default the scheme made for the hidden
    /// activation, as `preset::recommended` does.
    pub init: Init,
    pub config: TrainConfig,
    pub threads: usize,
    pub save: Option<PathBuf>,
    /// `--init-from`: safetensors weights to start from.
    pub init_from: Option<PathBuf>,
    pub metrics: Option<PathBuf>,
    pub plots: Option<PathBuf>,
    /// `--checkpoint`: where to save the run after every epoch.
    pub checkpoint: Option<PathBuf>,
    /// `--stop-after`: end the process after this epoch of the run, checkpoint saved.
    pub stop_after: Option<usize>,
    /// The arguments that describe the run: what a checkpoint keeps for `--resume`.
    pub run_args: Vec<String>,
}

/// The settings of the command line `argv` (without the program's name); `None` for
/// `--help`, which prints the help instead.
pub fn parse_settings(argv: Vec<String>) -> Result<Option<Settings>, Failure> {
    let run_args = resume::run_args(&argv);
    let mut args = Args::parse_from(argv, &["--help", "--keep-best"])?;
    if args.switch("--help") {
        say!("{}", HELP.trim_end());
        return Ok(None);
    }
    let preset = args.value("--preset");
    let mut recipe = Recipe::of(preset.as_deref())?;
    recipe.read_layers(&mut args)?;
    let Recipe {
        hidden,
        activation,
        init,
        arch,
        mut config,
    } = recipe;
    read_steps(&mut args, &mut config)?;
    let (rotate, scale) = read_warps(&mut args)?;
    if let Some(e) = args.value("--elastic") {
        config.elastic = parse_elastic(&e)?;
    }
    if let Some(o) = args.value("--optimizer") {
        let optimiser: Optimiser = o.parse().map_err(|e| usage("--optimizer", e))?;
        // --momentum is Adam's β₁ too, whichever of the two flags came first.
        config.optimiser = optimiser.with_momentum(config.optimiser.momentum());
    }
    if let Some(p) = args.parsed::<f64>("--dropout", "a number")? {
        config.dropout = p;
    }
    let shift = read_shift(&mut args)?;
    let val_fraction = read_epoch_choice(&mut args, &mut config)?;
    // The explicit --rotate and --scale are checked with the rest; "auto" is settled once
    // the images are loaded.
    let explicit = TrainConfig {
        rotation: rotate.unwrap_or(0.0),
        scale: scale.unwrap_or(0.0),
        ..config.clone()
    };
    explicit.validate().map_err(config_error)?;
    let init = init.unwrap_or(match activation {
        Activation::Relu => Init::He,
        _ => Init::Xavier,
    });
    let threads = common::apply_threads(&mut args)?;
    let data = args.value("--data");
    let csv = args.value("--csv");
    let save = path_flag(&mut args, "--save");
    let init_from = path_flag(&mut args, "--init-from");
    let metrics = path_flag(&mut args, "--metrics");
    let plots = path_flag(&mut args, "--plots");
    let checkpoint = path_flag(&mut args, "--checkpoint");
    let stop_after = read_stop_after(&mut args, checkpoint.is_some())?;
    args.reject_unknown()?;
    Ok(Some(Settings {
        data,
        csv,
        val_fraction,
        preset,
        shift,
        rotate,
        scale,
        hidden,
        activation,
        arch,
        init,
        config,
        threads,
        save,
        init_from,
        metrics,
        plots,
        checkpoint,
        stop_after,
        run_args,
    }))
}

/// The defaults that flags change: the recommended recipe, or a preset's.
struct Recipe {
    hidden: Vec<usize>,
    activation: Activation,
    /// `None`: the scheme made for the activation, settled once `--activation` is read.
    init: Option<Init>,
    /// Set for a preset whose layers are not a list of dense sizes, and by `--arch`.
    arch: Option<Vec<LayerSpec>>,
    config: TrainConfig,
}

impl Recipe {
    /// The recipe of `--preset NAME`, or without it the recommended one.
    fn of(preset: Option<&str>) -> Result<Recipe, Failure> {
        let relu = |hidden, init, arch, config| Recipe {
            hidden,
            activation: Activation::Relu,
            init,
            arch,
            config,
        };
        match preset {
            None => Ok(relu(
                RECOMMENDED_HIDDEN.to_vec(),
                None,
                None,
                preset::recommended::<f32>(784, CLASSES, 1).1,
            )),
            Some("original") => Ok(relu(
                vec![10],
                Some(Init::Original),
                None,
                TrainConfig {
                    seed: 1,
                    ..TrainConfig::original()
                },
            )),
            Some("cnn") => Ok(relu(
                Vec::new(),
                None,
                Some(preset::cnn_layers()),
                preset::cnn::<f32>(Shape::image(28, 28, 1), CLASSES, 1).1,
            )),
            Some(other) => Err(Failure::Usage(format!(
                "--preset: unknown preset '{other}' (the presets are 'original' and 'cnn')"
            ))),
        }
    }

    /// `--hidden` or `--arch`, `--activation` and `--init`: the layers, in place of the
    /// recipe's.
    fn read_layers(&mut self, args: &mut Args) -> Result<(), Failure> {
        let hidden_flag = args.value("--hidden");
        if let Some(list) = &hidden_flag {
            self.hidden = parse_hidden(list)?;
            self.arch = None;
        }
        if let Some(text) = args.value("--arch") {
            if hidden_flag.is_some() {
                return Err(Failure::Usage(
                    "--arch and --hidden both describe the hidden layers: give one".to_string(),
                ));
            }
            self.arch = Some(simplenn::arch::parse(&text).map_err(|e| usage("--arch", e))?);
        }
        if let Some(a) = args.value("--activation") {
            self.activation = a.parse().map_err(|e| usage("--activation", e))?;
        }
        if let Some(i) = args.value("--init") {
            self.init = Some(i.parse().map_err(|e| usage("--init", e))?);
        }
        Ok(())
    }
}

/// `--epochs` to `--label-smoothing`: how long training runs, and how each gradient step
/// moves the weights.
fn read_steps(args: &mut Args, config: &mut TrainConfig) -> Result<(), Failure> {
    if let Some(n) = args.parsed::<usize>("--epochs", "a whole number")? {
        config.epochs = n;
    }
    if let Some(b) = args.value("--batch") {
        config.batch = parse_batch(&b)?;
    }
    if let Some(lr) = args.parsed::<f64>("--lr", "a number")? {
        config.learning_rate = lr;
    }
    if let Some(m) = args.parsed::<f64>("--momentum", "a number")? {
        config.optimiser = config.optimiser.with_momentum(m);
    }
    if let Some(wd) = args.parsed::<f64>("--weight-decay", "a number")? {
        config.weight_decay = wd;
    }
    if let Some(schedule) = args.value("--schedule") {
        config.schedule = schedule.parse().map_err(|e| usage("--schedule", e))?;
    }
    if let Some(n) = args.parsed::<usize>("--warmup", "a whole number")? {
        config.warmup_epochs = n;
    }
    if let Some(e) = args.parsed::<f64>("--label-smoothing", "a number")? {
        config.label_smoothing = e;
    }
    Ok(())
}

/// `--batch N|full`.
fn parse_batch(b: &str) -> Result<Batch, Failure> {
    match b.trim() {
        "full" => Ok(Batch::Full),
        n => n.parse::<usize>().map(Batch::Size).map_err(|_| {
            Failure::Usage(format!(
                "--batch: '{b}' is not a positive whole number or 'full'"
            ))
        }),
    }
}

/// `--rotate` and `--scale`, each `None` for "auto".
fn read_warps(args: &mut Args) -> Result<(Option<f64>, Option<f64>), Failure> {
    let rotate = auto_flag(args, "--rotate", |v| {
        v.trim().parse::<f64>().map_err(|_| {
            Failure::Usage(format!(
                "--rotate: '{v}' is not a number of degrees or 'auto'"
            ))
        })
    })?;
    let scale = auto_flag(args, "--scale", |v| {
        v.trim()
            .parse::<f64>()
            .map_err(|_| Failure::Usage(format!("--scale: '{v}' is not a number or 'auto'")))
    })?;
    Ok((rotate, scale))
}

/// `--elastic A[:S]|off`: the field's scale and, optionally, its smoothing (4 pixels).
fn parse_elastic(text: &str) -> Result<Option<simplenn::train::Elastic>, Failure> {
    let text = text.trim();
    if text.eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    let bad = || {
        Failure::Usage(format!(
            "--elastic: '{text}' is not A or A:S (a scale and a smoothing in pixels) or 'off'"
        ))
    };
    let mut parts = text.split(':');
    let alpha = parts
        .next()
        .and_then(|a| a.trim().parse().ok())
        .ok_or_else(bad)?;
    let sigma = match parts.next() {
        None => 4.0,
        Some(s) => s.trim().parse().map_err(|_| bad())?,
    };
    if parts.next().is_some() {
        return Err(bad());
    }
    Ok(Some(simplenn::train::Elastic { alpha, sigma }))
}

/// `--shift`, `None` for "auto". Checked against the images' size once they are loaded.
fn read_shift(args: &mut Args) -> Result<Option<usize>, Failure> {
    auto_flag(args, "--shift", |v| {
        v.trim().parse::<usize>().map_err(|_| {
            Failure::Usage(format!(
                "--shift: '{v}' is not a whole number of pixels or 'auto'"
            ))
        })
    })
}

/// `--keep-best`, `--patience`, `--seed` and `--val-fraction` (returned): which epoch the
/// run ends with, chosen by validation accuracy, and the validation set that chooses it.
fn read_epoch_choice(args: &mut Args, config: &mut TrainConfig) -> Result<f64, Failure> {
    config.keep_best = args.switch("--keep-best");
    if let Some(n) = args.parsed::<usize>("--patience", "a whole number")? {
        config.patience = Some(n);
    }
    if let Some(seed) = args.parsed::<u64>("--seed", "a whole number")? {
        config.seed = seed;
    }
    let val_fraction = fraction_below_one(args, "--val-fraction")?.unwrap_or(0.1);
    if val_fraction == 0.0 {
        for (flag, on) in [
            ("--keep-best", config.keep_best),
            ("--patience", config.patience.is_some()),
        ] {
            if on {
                return Err(Failure::Usage(format!(
                    "{flag} chooses epochs by validation accuracy, so it needs a validation \
                     set: --val-fraction must be above 0"
                )));
            }
        }
    }
    Ok(val_fraction)
}

/// `--stop-after N`, which needs `--checkpoint` to continue from.
fn read_stop_after(args: &mut Args, checkpoint: bool) -> Result<Option<usize>, Failure> {
    let stop_after = args.parsed::<usize>("--stop-after", "a whole number of epochs")?;
    if let Some(n) = stop_after {
        if !checkpoint {
            return Err(Failure::Usage(
                "--stop-after ends the process before the run is over, so it needs \
                 --checkpoint FILE to continue from (with --resume FILE)"
                    .to_string(),
            ));
        }
        if n == 0 {
            return Err(Failure::Usage("--stop-after: at least 1 epoch".to_string()));
        }
    }
    Ok(stop_after)
}

/// `--hidden LIST`: layer sizes, or none.
fn parse_hidden(list: &str) -> Result<Vec<usize>, Failure> {
    let list = list.trim();
    if list.is_empty() || list.eq_ignore_ascii_case("none") {
        return Ok(Vec::new());
    }
    // A layer's size obeys the rule `--arch` does: `arch::MAX_SIZE` at most.
    let most = simplenn::arch::MAX_SIZE;
    list.split(',')
        .map(|part| match part.trim().parse::<usize>() {
            Ok(n) if (1..=most).contains(&n) => Ok(n),
            _ => Err(Failure::Usage(format!(
                "--hidden: '{part}' is not a layer size from 1 to {most} (write e.g. 128,64, \
                 or none)"
            ))),
        })
        .collect()
}

/// A flag that takes a value or `auto`: `None` for `auto` or when it is not given (the
/// images decide, once they are loaded), else what `parse` makes of the value as given.
fn auto_flag<T>(
    args: &mut Args,
    flag: &str,
    parse: impl FnOnce(&str) -> Result<T, Failure>,
) -> Result<Option<T>, Failure> {
    match args.value(flag) {
        Some(v) if !v.trim().eq_ignore_ascii_case("auto") => parse(&v).map(Some),
        _ => Ok(None),
    }
}

/// A number from 0 up to but not including 1, if the flag is given.
fn fraction_below_one(args: &mut Args, flag: &str) -> Result<Option<f64>, Failure> {
    match args.parsed::<f64>(flag, "a number")? {
        Some(x) if !(0.0..1.0).contains(&x) => Err(Failure::Usage(format!(
            "{flag}: {x} must be at least 0 and below 1"
        ))),
        x => Ok(x),
    }
}

/// A file or folder named by the flag, if it is given.
fn path_flag(args: &mut Args, flag: &str) -> Option<PathBuf> {
    args.value(flag).map(PathBuf::from)
}

/// A flag whose value the library refused, with the library's reason.
fn usage(flag: &str, e: impl Display) -> Failure {
    Failure::Usage(format!("{flag}: {e}"))
}

/// A setting the library refused, as a usage error naming the flag that set it.
pub fn config_error(e: BadConfig) -> Failure {
    Failure::Usage(describe(&e))
}

/// A refused setting in the command line's words: `--lr: must be positive and finite, got
/// -1`.
pub fn describe(e: &BadConfig) -> String {
    let flag = match e.setting {
        Setting::Batch => "--batch",
        Setting::LearningRate => "--lr",
        Setting::Schedule => "--schedule",
        Setting::Warmup => "--warmup",
        // --momentum sets Adam's β₁ too, and --optimizer adam:BETA2:EPS the others.
        Setting::Momentum | Setting::Beta1 => "--momentum",
        Setting::Beta2 | Setting::Epsilon => "--optimizer",
        Setting::WeightDecay => "--weight-decay",
        Setting::LabelSmoothing => "--label-smoothing",
        Setting::Dropout => "--dropout",
        Setting::Shift => "--shift",
        Setting::Rotation => "--rotate",
        Setting::Scale => "--scale",
        Setting::Elastic => "--elastic",
        Setting::KeepBest => "--keep-best",
        Setting::Patience => "--patience",
        _ => return e.to_string(),
    };
    format!("{flag}: {}", e.reason)
}
