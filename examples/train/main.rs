//! Trains a network on MNIST-style digits and reports how well it does.
//!
//! ```sh
//! cargo run --release --example train                        # the built-in 10,000 digits
//! cargo run --release --example train -- --data DIR          # a folder of MNIST files
//! cargo run --release --example train -- --preset original   # the original NumPy recipe
//! cargo run --release --example train -- --help              # every option
//! ```

#[path = "../common/mod.rs"]
#[macro_use]
mod common;

use common::{Args, CLASSES, Failure, check_range, check_writable, write_file};
use simplenn::dataset::Dataset;
use simplenn::json::Json;
use simplenn::plot::{GalleryImage, LineChart, Series, WeightImage, gallery_svg, weights_svg};
use simplenn::progress::{Progress, format_count};
use simplenn::{
    Activation, Batch, EpochStats, History, Init, LayerSpec, Network, Schedule, Shape, TrainConfig,
    TrainEvent, Training, train::checkpoint::Checkpoint,
};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

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
                      (C kernels of KxK, 'same' padding, stride 1), poolK (KxK max-pooling);
                      options after colons: an activation (dense64:tanh), for convK:C also
                      sN (stride), valid, same or pN (padding), as in conv3:32:s2:valid
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
struct Settings {
    data: Option<String>,
    csv: Option<String>,
    val_fraction: f64,
    preset: Option<String>,
    /// `--shift`: pixels, or `None` for "auto" (at most the recipe's shift, and no more
    /// than the training images' empty border: `augment::safe_shift`).
    shift: Option<usize>,
    hidden: Vec<usize>,
    activation: Activation,
    /// `--rotate` and `--scale`, `None` for "auto" (the recipe's, unless the training
    /// images fill their frame: `augment::safe_warp`).
    rotate: Option<f64>,
    scale: Option<f64>,
    /// `--arch` (or a preset's), which replaces `hidden` and `activation`.
    arch: Option<Vec<LayerSpec>>,
    /// For every layer, the output one too: by default the scheme made for the hidden
    /// activation, as `preset::recommended` does.
    init: Init,
    config: TrainConfig,
    threads: usize,
    save: Option<PathBuf>,
    /// `--init-from`: safetensors weights to start from.
    init_from: Option<PathBuf>,
    metrics: Option<PathBuf>,
    plots: Option<PathBuf>,
    /// `--checkpoint`: where to save the run after every epoch.
    checkpoint: Option<PathBuf>,
    /// `--stop-after`: end the process after this epoch of the run, checkpoint saved.
    stop_after: Option<usize>,
    /// The arguments that describe the run: what a checkpoint keeps for `--resume`.
    run_args: Vec<String>,
}

fn main() -> ExitCode {
    common::exit_with(run(), "train")
}

/// Flags that change how the process runs, not the run: `--resume` takes them beside the
/// checkpoint, and a checkpoint does not keep them.
const PROCESS_FLAGS: [&str; 3] = ["--resume", "--stop-after", "--threads"];

fn parse_settings(argv: Vec<String>) -> Result<Option<Settings>, Failure> {
    let run_args = run_args(&argv);
    let mut args = Args::parse_from(argv, &["--help", "--keep-best"])?;
    if args.switch("--help") {
        say!("{}", HELP.trim_end());
        return Ok(None);
    }
    let preset = args.value("--preset");
    // Defaults: the recommended recipe, or the preset's. `arch` is set for a preset whose
    // layers are not a list of dense sizes.
    let mut arch = None;
    let (mut hidden, mut activation, mut init, mut config) = match preset.as_deref() {
        None => (
            simplenn::preset::RECOMMENDED_HIDDEN.to_vec(),
            Activation::Relu,
            None,
            simplenn::preset::recommended::<f32>(784, CLASSES, 1).1,
        ),
        Some("original") => (
            vec![10],
            Activation::Relu,
            Some(Init::Original),
            TrainConfig {
                seed: 1,
                ..TrainConfig::original()
            },
        ),
        Some("cnn") => {
            arch = Some(simplenn::preset::cnn_layers());
            let config = simplenn::preset::cnn::<f32>(Shape::image(28, 28, 1), CLASSES, 1).1;
            (Vec::new(), Activation::Relu, None, config)
        }
        Some(other) => {
            return Err(Failure::Usage(format!(
                "--preset: unknown preset '{other}' (the presets are 'original' and 'cnn')"
            )));
        }
    };
    let hidden_flag = args.value("--hidden");
    if let Some(list) = &hidden_flag {
        hidden = parse_hidden(list)?;
        arch = None;
    }
    if let Some(text) = args.value("--arch") {
        if hidden_flag.is_some() {
            return Err(Failure::Usage(
                "--arch and --hidden both describe the hidden layers: give one".to_string(),
            ));
        }
        arch =
            Some(simplenn::arch::parse(&text).map_err(|e| Failure::Usage(format!("--arch: {e}")))?);
    }
    if let Some(a) = args.value("--activation") {
        activation = a
            .parse()
            .map_err(|e| Failure::Usage(format!("--activation: {e}")))?;
    }
    if let Some(i) = args.value("--init") {
        init = Some(
            i.parse()
                .map_err(|e| Failure::Usage(format!("--init: {e}")))?,
        );
    }
    if let Some(n) = args.parsed::<usize>("--epochs", "a whole number")? {
        config.epochs = n;
    }
    if let Some(b) = args.value("--batch") {
        config.batch = match b.trim() {
            "full" => Batch::Full,
            n => match n.parse::<usize>() {
                Ok(n) if n > 0 => Batch::Size(n),
                _ => {
                    return Err(Failure::Usage(format!(
                        "--batch: '{b}' is not a positive whole number or 'full'"
                    )));
                }
            },
        };
    }
    if let Some(lr) = args.parsed::<f64>("--lr", "a number")? {
        if !(lr.is_finite() && lr > 0.0 && lr <= 100.0) {
            return Err(Failure::Usage(format!(
                "--lr: {lr} must be above 0 and at most 100"
            )));
        }
        config.learning_rate = lr;
    }
    if let Some(m) = args.parsed::<f64>("--momentum", "a number")? {
        if !(0.0..1.0).contains(&m) {
            return Err(Failure::Usage(format!(
                "--momentum: {m} must be at least 0 and below 1"
            )));
        }
        config.momentum = m;
    }
    if let Some(wd) = args.parsed::<f64>("--weight-decay", "a number")? {
        config.weight_decay = check_range("--weight-decay", wd, 0.0..=1.0)?;
    }
    if let Some(schedule) = args.value("--schedule") {
        config.schedule = schedule
            .parse()
            .map_err(|e| Failure::Usage(format!("--schedule: {e}")))?;
    }
    if let Some(n) = args.parsed::<usize>("--warmup", "a whole number")? {
        if n > config.epochs {
            return Err(Failure::Usage(format!(
                "--warmup: {n} epochs of warm-up is more than the {} epochs of training",
                config.epochs
            )));
        }
        config.warmup_epochs = n;
    }
    if let Some(e) = args.parsed::<f64>("--label-smoothing", "a number")? {
        if !(0.0..1.0).contains(&e) {
            return Err(Failure::Usage(format!(
                "--label-smoothing: {e} must be at least 0 and below 1"
            )));
        }
        config.label_smoothing = e;
    }
    // `None`: "auto", decided once the images are loaded, as for --shift.
    let rotate = match args.value("--rotate") {
        None => None,
        Some(v) if v.trim().eq_ignore_ascii_case("auto") => None,
        Some(v) => match v.trim().parse::<f64>() {
            Ok(deg) => Some(check_range("--rotate", deg, 0.0..=45.0)?),
            Err(_) => {
                return Err(Failure::Usage(format!(
                    "--rotate: '{v}' is not a number of degrees or 'auto'"
                )));
            }
        },
    };
    let scale = match args.value("--scale") {
        None => None,
        Some(v) if v.trim().eq_ignore_ascii_case("auto") => None,
        Some(v) => match v.trim().parse::<f64>() {
            Ok(f) if (0.0..0.5).contains(&f) => Some(f),
            _ => {
                return Err(Failure::Usage(format!(
                    "--scale: '{v}' is not a number at least 0 and below 0.5, or 'auto'"
                )));
            }
        },
    };
    if let Some(o) = args.value("--optimizer") {
        config.optimizer = o
            .parse()
            .map_err(|e| Failure::Usage(format!("--optimizer: {e}")))?;
    }
    if let Some(p) = args.parsed::<f64>("--dropout", "a number")? {
        if !(0.0..1.0).contains(&p) {
            return Err(Failure::Usage(format!(
                "--dropout: {p} must be at least 0 and below 1"
            )));
        }
        config.dropout = p;
    }
    // `None`: "auto", decided once the images are loaded.
    let mut shift = None;
    match args.value("--shift") {
        Some(v) if v.trim().eq_ignore_ascii_case("auto") => {}
        Some(v) => match v.trim().parse::<usize>() {
            // Checked against the images' size once they are loaded.
            Ok(k) => shift = Some(k),
            Err(_) => {
                return Err(Failure::Usage(format!(
                    "--shift: '{v}' is not a whole number of pixels or 'auto'"
                )));
            }
        },
        None => {}
    }
    config.keep_best = args.switch("--keep-best");
    if let Some(n) = args.parsed::<usize>("--patience", "a whole number")? {
        if n == 0 {
            return Err(Failure::Usage(
                "--patience: must be at least 1 epoch, not 0 (leave it out to train every epoch)"
                    .to_string(),
            ));
        }
        config.patience = Some(n);
    }
    if let Some(seed) = args.parsed::<u64>("--seed", "a whole number")? {
        config.seed = seed;
    }
    let val_fraction = match args.parsed::<f64>("--val-fraction", "a number")? {
        Some(f) => {
            if !(0.0..1.0).contains(&f) {
                return Err(Failure::Usage(format!(
                    "--val-fraction: {f} must be at least 0 and below 1"
                )));
            }
            f
        }
        None => 0.1,
    };
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
    let init = init.unwrap_or(match activation {
        Activation::Relu => Init::He,
        _ => Init::Xavier,
    });
    let threads = common::apply_threads(&mut args)?;
    let data = args.value("--data");
    let csv = args.value("--csv");
    let save = args.value("--save").map(PathBuf::from);
    let init_from = args.value("--init-from").map(PathBuf::from);
    let metrics = args.value("--metrics").map(PathBuf::from);
    let plots = args.value("--plots").map(PathBuf::from);
    let checkpoint = args.value("--checkpoint").map(PathBuf::from);
    let stop_after = args.parsed::<usize>("--stop-after", "a whole number of epochs")?;
    if let Some(n) = stop_after {
        if checkpoint.is_none() {
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

/// `argv` without the flags of [`PROCESS_FLAGS`] and their values.
fn run_args(argv: &[String]) -> Vec<String> {
    let mut kept = Vec::new();
    let mut args = argv.iter();
    while let Some(arg) = args.next() {
        let name = arg.split_once('=').map_or(arg.as_str(), |(n, _)| n);
        if PROCESS_FLAGS.contains(&name) {
            if !arg.contains('=') {
                args.next();
            }
        } else {
            kept.push(arg.clone());
        }
    }
    kept
}

/// For `--resume FILE`: the checkpoint, and the arguments to run with: the ones it kept,
/// then the process flags given now. `None` without `--resume`.
fn resume_args(argv: &[String]) -> Result<Option<(Checkpoint, PathBuf, Vec<String>)>, Failure> {
    let mut path = None;
    let mut process = Vec::new();
    let mut args = argv.iter();
    while let Some(arg) = args.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (arg.as_str(), None),
        };
        if !PROCESS_FLAGS.contains(&name) {
            continue;
        }
        let value = inline.or_else(|| args.next().cloned());
        if name == "--resume" {
            path = value;
        } else {
            process.push(name.to_string());
            process.extend(value);
        }
    }
    let Some(path) = path else {
        return Ok(None);
    };
    if let Some(flag) = run_args(argv).first() {
        return Err(Failure::Usage(format!(
            "--resume continues a run with the settings it was started with, so {flag} \
             cannot be given with it (only --threads and --stop-after can)"
        )));
    }
    let checkpoint: Checkpoint = simplenn::train::checkpoint::load(&path)?;
    let stored = Json::parse(&checkpoint.note).ok().and_then(|note| {
        note.get("args")?
            .as_array()?
            .iter()
            .map(|a| a.as_str().map(str::to_string))
            .collect::<Option<Vec<String>>>()
    });
    let Some(mut run) = stored else {
        return Err(Failure::Data(
            simplenn::Error::checkpoint(None, "its note does not hold a train command line")
                .in_file(&path),
        ));
    };
    run.extend(process);
    Ok(Some((checkpoint, PathBuf::from(path), run)))
}

/// The checkpoint's note: the run's arguments, and a fingerprint of its training data.
fn checkpoint_note(args: &[String], data_crc: u32) -> String {
    Json::object([
        ("program", "train".into()),
        (
            "args",
            Json::Array(args.iter().map(|a| a.as_str().into()).collect()),
        ),
        ("train_crc32", f64::from(data_crc).into()),
    ])
    .pretty()
}

/// CRC-32 of the training split's labels and pixels: a resumed run must see the same data.
fn data_crc(train: &Dataset) -> u32 {
    let mut crc = simplenn::crc32::Crc32::new();
    crc.update(train.labels());
    crc.update(train.images().as_bytes());
    crc.finish()
}

fn parse_hidden(list: &str) -> Result<Vec<usize>, Failure> {
    let list = list.trim();
    if list.is_empty() || list.eq_ignore_ascii_case("none") {
        return Ok(Vec::new());
    }
    list.split(',')
        .map(|part| match part.trim().parse::<usize>() {
            Ok(n) if (1..=100_000).contains(&n) => Ok(n),
            _ => Err(Failure::Usage(format!(
                "--hidden: '{part}' is not a layer size from 1 to 100000 (write e.g. 128,64, \
                 or none)"
            ))),
        })
        .collect()
}

fn run() -> Result<(), Failure> {
    let start = Instant::now();
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let (resumed, argv) = match resume_args(&argv)? {
        Some((checkpoint, path, args)) => (Some((checkpoint, path)), args),
        None => (None, argv),
    };
    let Some(mut s) = parse_settings(argv)? else {
        return Ok(());
    };
    // Fail before training, not after, if an output cannot be written.
    let outputs = [
        ("--save", &s.save),
        ("--metrics", &s.metrics),
        ("--checkpoint", &s.checkpoint),
    ];
    for (flag, path) in outputs {
        if let Some(path) = path {
            check_writable(flag, path)?;
        }
    }

    let loaded = common::load_labelled(s.data.clone(), s.csv.clone())?;
    let (train, validation) = loaded.train.split(s.val_fraction, s.config.seed);
    if train.is_empty() {
        return Err(Failure::Data(
            simplenn::Error::data("no training samples left after the validation split")
                .in_file(&loaded.source),
        ));
    }
    let (width, height) = (train.images().width(), train.images().height());
    // `--shift auto`: the recipe's shift, but no more than these images' empty border.
    let auto_shift_note = match s.shift {
        Some(k) => {
            s.config.shift = k;
            None
        }
        None => {
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
    };
    // `--rotate auto` and `--scale auto`: the recipe's, but only as far as the ink stays in
    // the frame.
    let wanted = (
        s.rotate.unwrap_or(s.config.rotation),
        s.scale.unwrap_or(s.config.scale),
    );
    let (safe_rotation, safe_scale) =
        simplenn::augment::safe_warp(train.images(), wanted.0, wanted.1);
    let recipe_warps = (s.config.rotation, s.config.scale);
    s.config.rotation = s.rotate.unwrap_or(safe_rotation);
    s.config.scale = s.scale.unwrap_or(safe_scale);
    let auto_warp_note = ((s.rotate.is_none() || s.scale.is_none())
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
        });
    if s.config.shift >= width.min(height) {
        return Err(Failure::Usage(format!(
            "--shift: {} pixels would move these {width}×{height} images out of the frame (at \
             most {})",
            s.config.shift,
            width.min(height) - 1
        )));
    }
    let validation_set: Option<&dyn simplenn::samples::Samples<f32>> =
        (!validation.is_empty()).then_some(&validation as _);
    if let Err(e) = s.config.validate_for(&train, validation_set) {
        return Err(Failure::Usage(format!(
            "these settings cannot train on this data: {e}"
        )));
    }
    let features = train.images().pixels_per_image();
    if s.preset.is_some() && features != 784 {
        return Err(Failure::Data(
            simplenn::Error::data(format!(
                "the original preset is for 28×28 images (784 pixels); these have {features}"
            ))
            .in_file(&loaded.source),
        ));
    }

    let mut net: Network = match &s.arch {
        None => {
            let mut builder = Network::builder(features)
                .output(CLASSES)
                .seed(s.config.seed);
            for &units in &s.hidden {
                builder = builder.hidden(units, s.activation);
            }
            builder.init(s.init).build()
        }
        Some(layers) => {
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
            })?
        }
    };

    // A resumed run takes its weights from the checkpoint, not from --init-from.
    if let Some(file) = s.init_from.as_ref().filter(|_| resumed.is_none()) {
        let tensors = simplenn::model::safetensors::load(file)?;
        simplenn::model::safetensors::set_parameters(&mut net, &tensors)
            .map_err(|e| Failure::Data(e.in_file(file)))?;
        say!("starting from the weights in {}", file.display());
    }
    say!(
        "data: {} ({} training, {} validation, {})",
        loaded.source,
        format_count(train.len() as u64),
        format_count(validation.len() as u64),
        match &loaded.test {
            Some(t) => format!("{} test images", format_count(t.len() as u64)),
            None => "no test set".to_string(),
        }
    );
    say!(
        "network: {net} ({} parameters, init {})",
        format_count(net.parameter_count() as u64),
        s.init
    );
    say!(
        "training: {} epoch{}, batch {}, lr {}, momentum {}, weight decay {}, seed {}, {} thread{}",
        s.config.epochs,
        if s.config.epochs == 1 { "" } else { "s" },
        match s.config.batch {
            Batch::Full => "full".to_string(),
            Batch::Size(n) => n.to_string(),
        },
        s.config.learning_rate,
        s.config.momentum,
        s.config.weight_decay,
        s.config.seed,
        s.threads,
        if s.threads == 1 { "" } else { "s" }
    );
    if let Some(extras) = extras_line(&s.config) {
        say!("{extras}");
    }
    for note in [auto_shift_note, auto_warp_note].into_iter().flatten() {
        say!("{note}");
    }

    let training = match resumed {
        None => Training::new(&net, &s.config, train.len()),
        Some((checkpoint, path)) => {
            let training = resume_checks(checkpoint, &path, &mut net, &s, &train)?;
            say!(
                "resumed from {}: {} of {} epochs done",
                path.display(),
                training.epochs_done(),
                s.config.epochs
            );
            training
        }
    };
    let progress = train_with_progress(&mut net, training, &train, &validation, &s);
    let history = progress.map_err(|e| {
        let (lr, mu) = (s.config.learning_rate, s.config.momentum);
        Failure::Diverged(format!(
            "{e}.\nWith --lr {lr} and --momentum {mu} the effective step is {}; the default \
             recipe's --lr 0.05 --momentum 0.9 makes 0.5.",
            (lr / (1.0 - mu) * 1e6).round() / 1e6
        ))
    })?;
    let Some(history) = history else {
        return Ok(()); // --stop-after: the checkpoint is saved
    };
    if history.stopped_early {
        say!(
            "stopped early: no better validation accuracy in the last {} epochs",
            s.config.patience.unwrap_or(0)
        );
    }
    if let (true, Some(best)) = (s.config.keep_best, history.best_epoch) {
        say!(
            "kept epoch {best}, the best by validation accuracy ({:.2}%)",
            100.0 * history.epochs[best - 1].val_accuracy.unwrap_or(0.0)
        );
    }

    // Final scores, measured with the trained network.
    let train_eval = net.evaluate_samples(&train);
    let val_eval = (!validation.is_empty()).then(|| net.evaluate_samples(&validation));
    say!(
        "\ntrain accuracy: {:.2}%{}",
        100.0 * train_eval.accuracy,
        val_eval.map_or(String::new(), |v| format!(
            ", validation accuracy: {:.2}%",
            100.0 * v.accuracy
        ))
    );
    let mut test_accuracy = None;
    let mut confusion = None;
    let mut wrong = Vec::new();
    // Misclassified images come from the test set, or else from the validation set.
    let shown: Option<&Dataset> = loaded
        .test
        .as_ref()
        .or((!validation.is_empty()).then_some(&validation));
    if let Some(test) = &loaded.test {
        let predicted = net.predict_samples(test);
        let cm = common::report("test", test, &predicted);
        test_accuracy = Some(cm.accuracy());
        confusion = Some(cm);
        wrong = common::misclassified(test, &predicted, 100);
    } else {
        say!("no test set: pass --data DIR with t10k-* files to measure test accuracy");
        if let Some(v) = shown {
            wrong = common::misclassified(v, &net.predict_samples(v), 100);
        }
    }

    if let Some(path) = &s.save {
        net.save(path)?;
        say!("\nsaved the model to {}", path.display());
    }
    let seconds = start.elapsed().as_secs_f64();
    if let Some(path) = &s.metrics {
        let json = Json::Object(vec![
            (
                "config".into(),
                config_json(
                    &s,
                    &loaded.source,
                    &net,
                    &train,
                    &validation,
                    loaded.test.as_ref(),
                ),
            ),
            (
                "epochs".into(),
                Json::Array(history.epochs.iter().map(epoch_json).collect()),
            ),
            ("best_epoch".into(), history.best_epoch.into()),
            ("stopped_early".into(), history.stopped_early.into()),
            ("train_accuracy".into(), train_eval.accuracy.into()),
            ("val_accuracy".into(), val_eval.map(|v| v.accuracy).into()),
            ("test_accuracy".into(), test_accuracy.into()),
            (
                "confusion_matrix".into(),
                confusion
                    .as_ref()
                    .map_or(Json::Null, common::confusion_json),
            ),
            ("seconds".into(), seconds.into()),
        ]);
        write_file(path, &json.pretty())?;
        say!("wrote metrics to {}", path.display());
    }
    if let Some(dir) = &s.plots {
        write_plots(
            dir,
            &net,
            &history.epochs,
            test_accuracy,
            shown,
            &wrong,
            loaded.test.is_some(),
        )?;
        say!(
            "wrote loss.svg, accuracy.svg, learning-rate.svg, {} to {}",
            if dir.join("feature-maps.svg").exists() && net.layers()[0].as_conv2d().is_some() {
                "misclassified.svg, weights.svg and feature-maps.svg"
            } else {
                "misclassified.svg and weights.svg"
            },
            dir.display()
        );
    }
    say!("done in {seconds:.1} s");
    Ok(())
}

/// Trains, drawing a progress bar on a terminal and printing one line per epoch; with
/// `--checkpoint`, saves the run after every epoch. Returns the history, or `None` when
/// `--stop-after` ended the process early.
fn train_with_progress(
    net: &mut Network,
    mut training: Training,
    train: &Dataset,
    validation: &Dataset,
    s: &Settings,
) -> Result<Option<History>, Failure> {
    let epochs = s.config.epochs;
    let width = epochs.to_string().len();
    let show_rate = s.config.schedule != Schedule::Constant || s.config.warmup_epochs > 0;
    let mut bar: Option<Progress> = None;
    let mut trained = 0;
    let validation_set: Option<&dyn simplenn::samples::Samples<f32>> =
        (!validation.is_empty()).then_some(validation as _);
    let note = checkpoint_note(&s.run_args, data_crc(train));
    loop {
        let epoch = training.next_epoch(net, train, validation_set, |event| match event {
            TrainEvent::Batch { epoch, done, total } => {
                let bar = bar.get_or_insert_with(|| {
                    Progress::new(total as u64, &format!("epoch {epoch:>width$}/{epochs}"))
                });
                bar.inc((done - trained) as u64);
                trained = done;
            }
            TrainEvent::Epoch(e) => {
                if let Some(mut b) = bar.take() {
                    b.finish();
                }
                trained = 0;
                say!("{}", epoch_line(e, epochs, train.len(), show_rate));
            }
        })?;
        if epoch.is_none() {
            break;
        }
        if let Some(path) = &s.checkpoint {
            simplenn::train::checkpoint::save(path, net, &training, &note)?;
        }
        let done = training.epochs_done();
        if s.stop_after == Some(done) && !training.is_finished() {
            let path = s
                .checkpoint
                .as_ref()
                .expect("--stop-after needs --checkpoint");
            say!(
                "stopped after epoch {done} of {epochs} (--stop-after); continue with --resume {}",
                path.display()
            );
            return Ok(None);
        }
    }
    Ok(Some(training.finish(net)))
}

/// Checks that a checkpoint continues this run on this data, and takes its network.
fn resume_checks(
    checkpoint: Checkpoint,
    path: &std::path::Path,
    net: &mut Network,
    s: &Settings,
    train: &Dataset,
) -> Result<Training, Failure> {
    let mismatch = |what: String| {
        Failure::Data(
            simplenn::Error::checkpoint(None, format!("cannot resume: {what}")).in_file(path),
        )
    };
    let stored_crc = Json::parse(&checkpoint.note)
        .ok()
        .and_then(|n| n.get("train_crc32")?.as_f64());
    let crc = data_crc(train);
    if checkpoint.training.samples() != train.len() || stored_crc != Some(f64::from(crc)) {
        return Err(mismatch(format!(
            "the run trained on {} samples, and these {} are not the same data",
            checkpoint.training.samples(),
            train.len()
        )));
    }
    if checkpoint.training.config() != &s.config {
        return Err(mismatch(
            "its settings are not what its command line gives with this build".to_string(),
        ));
    }
    if checkpoint.network.to_string() != net.to_string() {
        return Err(mismatch(format!(
            "its network is {}, the command line builds {net}",
            checkpoint.network
        )));
    }
    *net = checkpoint.network;
    Ok(checkpoint.training)
}

/// The settings beyond the basic ones, when any differs from its default: one line, so
/// that a run with none of them prints what it always did.
fn extras_line(c: &TrainConfig) -> Option<String> {
    let mut extras = Vec::new();
    if c.schedule != Schedule::Constant {
        extras.push(format!("schedule {}", c.schedule));
    }
    if c.warmup_epochs > 0 {
        let plural = if c.warmup_epochs == 1 { "" } else { "s" };
        extras.push(format!("warm-up {} epoch{plural}", c.warmup_epochs));
    }
    if c.label_smoothing > 0.0 {
        extras.push(format!("label smoothing {}", c.label_smoothing));
    }
    if c.dropout > 0.0 {
        extras.push(format!("dropout {}", c.dropout));
    }
    if c.optimizer != simplenn::Optimizer::Sgd {
        extras.push(format!("optimiser {}", c.optimizer));
    }
    if c.shift > 0 {
        extras.push(format!("shifts up to {} px", c.shift));
    }
    if c.rotation > 0.0 {
        extras.push(format!("rotations up to {}°", c.rotation));
    }
    if c.scale > 0.0 {
        extras.push(format!("scaling by up to ±{}%", 100.0 * c.scale));
    }
    if c.keep_best {
        extras.push("keep the best epoch".to_string());
    }
    if let Some(p) = c.patience {
        extras.push(format!("patience {p}"));
    }
    (!extras.is_empty()).then(|| format!("options: {}", extras.join(", ")))
}

/// One epoch's line; with `show_rate`, the learning rate of its last step too.
fn epoch_line(e: &EpochStats, epochs: usize, samples: usize, show_rate: bool) -> String {
    let width = epochs.to_string().len();
    let mut val = e
        .val_accuracy
        .map_or(String::new(), |v| format!("  val {:6.2}%", 100.0 * v));
    if show_rate {
        val.push_str(&format!("  lr {:.2e}", e.learning_rate));
    }
    let rate = if e.seconds > 0.0 {
        format_count((samples as f64 / e.seconds) as u64)
    } else {
        "-".to_string()
    };
    format!(
        "epoch {:>width$}/{epochs}  loss {:.4}  train {:6.2}%{val}  {:6.2} s  {rate} img/s",
        e.epoch,
        e.loss,
        100.0 * e.train_accuracy,
        e.seconds
    )
}

fn epoch_json(e: &EpochStats) -> Json {
    Json::Object(vec![
        ("epoch".into(), e.epoch.into()),
        ("loss".into(), e.loss.into()),
        ("train_accuracy".into(), e.train_accuracy.into()),
        ("val_accuracy".into(), e.val_accuracy.into()),
        ("val_loss".into(), e.val_loss.into()),
        ("learning_rate".into(), e.learning_rate.into()),
        ("seconds".into(), e.seconds.into()),
    ])
}

fn config_json(
    s: &Settings,
    source: &str,
    net: &Network,
    train: &Dataset,
    validation: &Dataset,
    test: Option<&Dataset>,
) -> Json {
    let c = &s.config;
    Json::Object(
        vec![
            ("data".into(), source.into()),
            ("preset".into(), s.preset.clone().into()),
            ("network".into(), net.to_string().into()),
        ]
        .into_iter()
        .chain(match &s.arch {
            None => vec![
                (
                    "hidden".into(),
                    Json::Array(s.hidden.iter().map(|&h| h.into()).collect()),
                ),
                ("activation".into(), s.activation.name().into()),
            ],
            Some(layers) => vec![(
                "arch".into(),
                simplenn::arch::describe(layers).as_str().into(),
            )],
        })
        .chain([
            ("init".into(), s.init.name().into()),
            ("epochs".into(), c.epochs.into()),
            (
                "batch".into(),
                match c.batch {
                    Batch::Full => "full".into(),
                    Batch::Size(n) => n.into(),
                },
            ),
            ("learning_rate".into(), c.learning_rate.into()),
            ("schedule".into(), c.schedule.to_string().as_str().into()),
            ("warmup_epochs".into(), c.warmup_epochs.into()),
            ("optimizer".into(), c.optimizer.to_string().into()),
            ("momentum".into(), c.momentum.into()),
            ("weight_decay".into(), c.weight_decay.into()),
            ("label_smoothing".into(), c.label_smoothing.into()),
            ("dropout".into(), c.dropout.into()),
            ("shift".into(), c.shift.into()),
            ("rotation".into(), c.rotation.into()),
            ("scale".into(), c.scale.into()),
            ("keep_best".into(), c.keep_best.into()),
            ("patience".into(), c.patience.into()),
            ("seed".into(), (c.seed as f64).into()),
            ("threads".into(), s.threads.into()),
            ("val_fraction".into(), s.val_fraction.into()),
            ("train_samples".into(), train.len().into()),
            ("val_samples".into(), validation.len().into()),
            ("test_samples".into(), test.map(|t| t.len()).into()),
        ])
        .collect(),
    )
}

fn write_plots(
    dir: &std::path::Path,
    net: &Network,
    history: &[EpochStats],
    test_accuracy: Option<f64>,
    shown: Option<&Dataset>,
    wrong: &[(usize, usize, usize)],
    from_test: bool,
) -> Result<(), Failure> {
    let points = |f: &dyn Fn(&EpochStats) -> Option<f64>| -> Vec<(f64, f64)> {
        history
            .iter()
            .filter_map(|e| f(e).map(|y| (e.epoch as f64, y)))
            .collect()
    };
    let mut loss_series = vec![Series {
        name: "training loss".into(),
        points: points(&|e| Some(e.loss)),
    }];
    let val_loss = points(&|e| e.val_loss);
    if !val_loss.is_empty() {
        loss_series.push(Series {
            name: "validation loss".into(),
            points: val_loss,
        });
    }
    let loss = LineChart {
        title: "Loss per epoch".into(),
        x_label: "epoch".into(),
        y_label: "mean cross-entropy".into(),
        series: loss_series,
        y_range: None,
    };
    let mut acc_series = vec![Series {
        name: "training (running)".into(),
        points: points(&|e| Some(100.0 * e.train_accuracy)),
    }];
    let val_acc = points(&|e| e.val_accuracy.map(|v| 100.0 * v));
    if !val_acc.is_empty() {
        acc_series.push(Series {
            name: "validation".into(),
            points: val_acc,
        });
    }
    if let (Some(t), Some(last)) = (test_accuracy, history.last()) {
        acc_series.push(Series {
            name: "test (final)".into(),
            points: vec![(last.epoch as f64, 100.0 * t)],
        });
    }
    let accuracy = LineChart {
        title: "Accuracy per epoch".into(),
        x_label: "epoch".into(),
        y_label: "accuracy (%)".into(),
        series: acc_series,
        y_range: None,
    };
    let learning_rate = LineChart {
        title: "Learning rate at the end of each epoch".into(),
        x_label: "epoch".into(),
        y_label: "learning rate".into(),
        series: vec![Series {
            name: "learning rate".into(),
            points: points(&|e| Some(e.learning_rate)),
        }],
        y_range: None,
    };
    write_file(&dir.join("loss.svg"), &loss.to_svg())?;
    write_file(&dir.join("accuracy.svg"), &accuracy.to_svg())?;
    write_file(&dir.join("learning-rate.svg"), &learning_rate.to_svg())?;

    let set = if from_test { "test" } else { "validation" };
    let gallery = match shown {
        Some(data) => {
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
        None => gallery_svg("No held-out images to show", &[], 10),
    };
    write_file(&dir.join("misclassified.svg"), &gallery)?;
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
    Ok(())
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
        let kind = if layer.as_conv2d().is_some() {
            "conv"
        } else {
            "pool"
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
