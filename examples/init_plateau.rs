//! The original recipe trained twice on the same digits: once with its uniform ±0.5
//! initialisation, once with He initialisation, everything else equal. Prints the training
//! loss and accuracy at a few epochs and writes both curves as SVG charts, for the book's
//! chapter on randomness and initialisation.
//!
//! ```sh
//! cargo run --release --example init_plateau                 # the built-in 10,000 digits
//! cargo run --release --example init_plateau -- --help       # every option
//! ```

#[macro_use]
mod common;

use common::{Args, Failure, check_writable, write_file};
use simplenn::plot::{LineChart, Series};
use simplenn::progress::format_count;
use simplenn::{Activation, EpochStats, Init, Network, TrainEvent};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

const HELP: &str = "\
Trains the original NumPy recipe (784-10-10, ReLU, full-batch gradient descent, lr 0.1)
twice on the same data: once with its uniform ±0.5 initialisation of every weight and
bias, once with He initialisation (weights from N(0, 2/fan-in), biases zero), with the
same seed and the same training configuration. Prints the training loss and accuracy at
a few epochs and writes the curves as SVG charts.

Usage: cargo run --release --example init_plateau -- [OPTIONS]

Options:
  --data DIR     a folder with train-images-idx3-ubyte and train-labels-idx1-ubyte (raw
                 or .gz), 28×28 images; all of its training images are trained on
                 [default: the 10,000 MNIST digits built into data/mnist-10k]
  --epochs N     full-batch epochs, one gradient step each [default: 600, the original's]
  --seed N       seed of both initialisations [default: 1]
  --threads N    threads for the matrix products [default: all cores, or SIMPLENN_THREADS]
  --out DIR      where to write accuracy.svg and loss.svg [default: init_plateau]
  -h, --help     print this help

The two runs take 5 to 25 s together on 2 cores with the defaults.

Exit status: 0 on success, 2 for a usage error, 1 for a data or I/O error.";

/// The epochs the table shows (those that are run), and the last one in any case.
const TABLE_EPOCHS: [usize; 6] = [1, 10, 50, 100, 300, 600];

fn main() -> ExitCode {
    common::exit_with(run(), "init_plateau")
}

/// What the command line asked for.
struct Settings {
    data: Option<String>,
    epochs: usize,
    seed: u64,
    out: PathBuf,
}

fn settings(args: &mut Args) -> Result<Option<Settings>, Failure> {
    if args.switch("--help") {
        say!("{HELP}");
        return Ok(None);
    }
    let data = args.value("--data");
    let epochs = match args.parsed::<usize>("--epochs", "a whole number")? {
        Some(n) if n == 0 || n > 100_000 => {
            return Err(Failure::Usage(format!(
                "--epochs: {n} is out of range (1 to 100000)"
            )));
        }
        Some(n) => n,
        None => 600,
    };
    let seed = args.parsed::<u64>("--seed", "a whole number")?.unwrap_or(1);
    common::apply_threads(args)?;
    let out = PathBuf::from(
        args.value("--out")
            .unwrap_or_else(|| "init_plateau".to_string()),
    );
    args.reject_unknown()?;
    Ok(Some(Settings {
        data,
        epochs,
        seed,
        out,
    }))
}

/// One training run: its name and its statistics, one entry per epoch.
struct Run {
    name: &'static str,
    epochs: Vec<EpochStats>,
    seconds: f64,
}

fn run() -> Result<(), Failure> {
    let mut args = Args::parse(&["--help"])?;
    let Some(s) = settings(&mut args)? else {
        return Ok(());
    };
    common::warn_if_kernel_ignored();
    for name in ["accuracy.svg", "loss.svg"] {
        check_writable("--out", &s.out.join(name))?;
    }

    let loaded = common::load_labelled(s.data.clone(), None)?;
    let train = &loaded.train;
    let features = train.images().pixels_per_image();
    if features != 784 || train.classes() != common::CLASSES {
        return Err(Failure::Data(
            simplenn::Error::data(format!(
                "the original recipe is for 28×28 images (784 pixels) in 10 classes; these \
                 have {features} pixels"
            ))
            .in_file(&loaded.source),
        ));
    }
    if train.is_empty() {
        return Err(Failure::Data(
            simplenn::Error::data("no training images").in_file(&loaded.source),
        ));
    }

    // The original recipe as it is, and the same network and training with He init.
    let (original, mut config) = simplenn::preset::original::<f32>(s.seed);
    config.epochs = s.epochs;
    let he: Network = Network::builder(784)
        .hidden(10, Activation::Relu)
        .output(10)
        .init(Init::He)
        .seed(s.seed)
        .build();

    say!(
        "data: {} ({} training images, all trained on)",
        loaded.source,
        format_count(train.len() as u64)
    );
    let threads = simplenn::matmul::threads();
    say!(
        "network: {original}, full batch, lr {}, {} epochs, seed {}, {threads} thread{}",
        config.learning_rate,
        config.epochs,
        s.seed,
        if threads == 1 { "" } else { "s" }
    );

    let mut runs = Vec::new();
    for (name, mut net) in [
        ("uniform ±0.5 (original)", original),
        ("He initialisation", he),
    ] {
        let start = Instant::now();
        let mut epochs = Vec::with_capacity(config.epochs);
        net.fit_with(train, None, &config, |event| {
            if let TrainEvent::Epoch(e) = event {
                epochs.push(e.clone());
            }
        })?;
        let seconds = start.elapsed().as_secs_f64();
        say!("trained with {name} in {seconds:.1} s");
        if let Some(test) = &loaded.test {
            say!(
                "  test accuracy {:.2}%",
                100.0 * net.evaluate_samples(test).accuracy
            );
        }
        runs.push(Run {
            name,
            epochs,
            seconds,
        });
    }

    say!("\n{}", table(&runs, config.epochs));

    let series = |f: fn(&EpochStats) -> f64| -> Vec<Series> {
        runs.iter()
            .map(|r| Series {
                name: r.name.to_string(),
                points: r.epochs.iter().map(|e| (e.epoch as f64, f(e))).collect(),
            })
            .collect()
    };
    let accuracy = LineChart {
        title: "Original recipe: training accuracy per epoch, by initialisation".into(),
        x_label: "epoch (one full-batch gradient step each)".into(),
        y_label: "training accuracy (%)".into(),
        series: series(|e| 100.0 * e.train_accuracy),
        y_range: Some((0.0, 100.0)),
    };
    let loss = LineChart {
        title: "Original recipe: training loss per epoch, by initialisation".into(),
        x_label: "epoch (one full-batch gradient step each)".into(),
        y_label: "mean cross-entropy".into(),
        series: series(|e| e.loss),
        y_range: None,
    };
    write_file(&s.out.join("accuracy.svg"), &accuracy.to_svg())?;
    write_file(&s.out.join("loss.svg"), &loss.to_svg())?;
    say!("wrote accuracy.svg and loss.svg to {}", s.out.display());
    say!(
        "done in {:.1} s",
        runs.iter().map(|r| r.seconds).sum::<f64>()
    );
    Ok(())
}

/// Loss and accuracy of both runs at the epochs of `TABLE_EPOCHS` that were run, and the last.
fn table(runs: &[Run], epochs: usize) -> String {
    let mut shown: Vec<usize> = TABLE_EPOCHS.into_iter().filter(|&e| e < epochs).collect();
    shown.push(epochs);
    let mut t = String::from("epoch");
    for r in runs {
        t.push_str(&format!("  | {:<28}", r.name));
    }
    t.push('\n');
    t.push_str("     ");
    for _ in runs {
        t.push_str(&format!("  | {:<12}{:<16}", "loss", "train acc."));
    }
    for e in shown {
        t.push_str(&format!("\n{e:>5}"));
        for r in runs {
            match r.epochs.get(e - 1) {
                Some(s) => t.push_str(&format!(
                    "  | {:<12.4}{:<16}",
                    s.loss,
                    format!("{:.2}%", 100.0 * s.train_accuracy)
                )),
                None => t.push_str(&format!("  | {:<28}", "-")),
            }
        }
    }
    // No trailing spaces after the last column.
    t.lines().map(str::trim_end).collect::<Vec<_>>().join("\n")
}
