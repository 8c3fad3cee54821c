//! The ablation: trains every rung of `simplenn::preset::ladder`, from the original NumPy
//! recipe to the crate's default (or of `preset::cnn_ladder`, with `--ladder cnn`), on the
//! same data with the same seeds, and measures each on the same test set. Writes a markdown
//! table, an SVG chart and a JSON file of every run.
//!
//! ```sh
//! cargo run --release --example ablation -- --data datasets/mnist-10k
//! ```
//!
//! Run with `--help` for the options.

#[macro_use]
mod common;

use common::{Args, Failure, check_writable, write_file};
use simplenn::dataset::Dataset;
use simplenn::json::Json;
use simplenn::plot::BarChart;
use simplenn::preset::{self, Rung};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

const HELP: &str = "\
Trains every step of the recipe ladder (simplenn::preset::ladder), from the original
NumPy recipe to the crate's default, on the same data with the same seeds, and reports
the test accuracy of each: what every ingredient is worth.

Usage: cargo run --release --example ablation -- [OPTIONS]

Options:
  --ladder NAME    'mlp': the ladder from the original recipe to the default one
                   (preset::ladder); 'cnn': the small CNN's, from plain SGD to
                   preset::cnn, then Adam and AdamW in its place (preset::cnn_ladder)
                   [default: mlp]
  --data DIR       a folder with train-* and t10k-* files (MNIST layout): trains on the
                   train files, tests on the t10k files [default: the built-in
                   data/mnist-10k, with a seeded 20% of it held out as the test set]
  --seeds N        seeds 1..=N, each rung trained once per seed [default: 3]
  --rungs N        only the first N rungs of the ladder [default: all: 14, or 7 for cnn]
  --max-epochs N   cap every rung's epochs at N: a quick preview, not the real numbers
  --threads N      threads for the matrix products [default: all cores, or SIMPLENN_THREADS]
  --out DIR        where to write ablation.md, ablation.svg and ablation.json
                   [default: ablation]
  -h, --help       print this help

With a folder that holds MNIST's test set and the defaults, it trains 42 networks (14 rungs,
3 seeds) and takes 2 to 6 minutes on 2 cores; --ladder cnn trains 21 and takes about 20.

Exit status: 0 on success, 2 for a usage error, 1 for a data or I/O error.";

fn main() -> ExitCode {
    common::exit_with(run(), "ablation")
}

/// What the command line asked for.
struct Settings {
    /// True for `--ladder cnn`.
    cnn: bool,
    data: Option<String>,
    seeds: u64,
    rungs: usize,
    max_epochs: Option<usize>,
    out: PathBuf,
}

fn settings(args: &mut Args) -> Result<Option<Settings>, Failure> {
    if args.switch("--help") {
        say!("{HELP}");
        return Ok(None);
    }
    let cnn = match args.value("--ladder").as_deref() {
        None | Some("mlp") => false,
        Some("cnn") => true,
        Some(other) => {
            return Err(Failure::Usage(format!(
                "--ladder: unknown ladder '{other}' (the ladders are 'mlp' and 'cnn')"
            )));
        }
    };
    let all = ladder(cnn, (28, 28), 10, 1).len();
    let positive = |name: &str, v: Option<usize>, max: usize| match v {
        Some(n) if n == 0 || n > max => Err(Failure::Usage(format!(
            "{name}: {n} is out of range (1 to {max})"
        ))),
        v => Ok(v),
    };
    let data = args.value("--data");
    let seeds = positive("--seeds", args.parsed("--seeds", "a whole number")?, 100)?;
    let rungs = positive("--rungs", args.parsed("--rungs", "a whole number")?, all)?;
    let max_epochs = positive(
        "--max-epochs",
        args.parsed("--max-epochs", "a whole number")?,
        100_000,
    )?;
    common::apply_threads(args)?;
    let out = PathBuf::from(
        args.value("--out")
            .unwrap_or_else(|| "ablation".to_string()),
    );
    args.reject_unknown()?;
    Ok(Some(Settings {
        cnn,
        data,
        seeds: seeds.unwrap_or(3) as u64,
        rungs: rungs.unwrap_or(all),
        max_epochs,
        out,
    }))
}

/// One rung's results over all seeds.
struct Row {
    name: &'static str,
    change: &'static str,
    network: String,
    epochs: usize,
    /// Test accuracy per seed, in seed order.
    accuracies: Vec<f64>,
    /// Wall-clock training seconds per seed.
    seconds: Vec<f64>,
}

impl Row {
    fn mean_accuracy(&self) -> f64 {
        mean(&self.accuracies)
    }
}

/// The rungs of the MLP ladder or, with `cnn`, the CNN's, for `width × height` images.
fn ladder(cnn: bool, (width, height): (usize, usize), classes: usize, seed: u64) -> Vec<Rung<f32>> {
    if cnn {
        preset::cnn_ladder(simplenn::Shape::image(height, width, 1), classes, seed)
    } else {
        preset::ladder(width * height, classes, seed)
    }
}

/// The ladder's name in captions.
fn ladder_name(cnn: bool) -> &'static str {
    if cnn {
        "preset::cnn_ladder"
    } else {
        "preset::ladder"
    }
}

fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len() as f64
}

fn min_max(xs: &[f64]) -> (f64, f64) {
    xs.iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| {
            (lo.min(x), hi.max(x))
        })
}

fn run() -> Result<(), Failure> {
    let mut args = Args::parse(&["--help"])?;
    let Some(s) = settings(&mut args)? else {
        return Ok(());
    };
    common::warn_if_kernel_ignored();
    for name in ["ablation.md", "ablation.svg", "ablation.json"] {
        check_writable("--out", &s.out.join(name))?;
    }

    let loaded = common::load_labelled(s.data.clone(), None)?;
    let (train, test, test_source) = match loaded.test {
        Some(test) => (loaded.train, test, "its test files".to_string()),
        None => {
            let (train, test) = loaded.train.split(0.2, 0);
            let what = format!("a seeded 20% held out ({} images)", test.len());
            (train, test, what)
        }
    };
    say!(
        "data: {} — training on {} images, testing on {} ({})",
        loaded.source,
        train.len(),
        test.len(),
        test_source
    );
    if let Some(cap) = s.max_epochs {
        say!(
            "note: every rung capped at {cap} epochs (--max-epochs): a preview, not the real numbers"
        );
    }

    let mut rows: Vec<Row> = Vec::new();
    let size = (train.images().width(), train.images().height());
    for seed in 1..=s.seeds {
        let rungs = ladder(s.cnn, size, train.classes(), seed);
        for (i, rung) in rungs.into_iter().take(s.rungs).enumerate() {
            let (name, change) = (rung.name, rung.change);
            let (accuracy, seconds, network, epochs) =
                train_rung(rung, &train, &test, s.max_epochs)?;
            if rows.len() == i {
                rows.push(Row {
                    name,
                    change,
                    network,
                    epochs,
                    accuracies: Vec::new(),
                    seconds: Vec::new(),
                });
            }
            let row = &mut rows[i];
            row.accuracies.push(accuracy);
            row.seconds.push(seconds);
            say!(
                "seed {seed}  {name:<24} test {:6.2}%  {seconds:6.1} s",
                100.0 * accuracy
            );
        }
    }

    let command = command_line();
    let table = markdown(&rows, s.seeds, &command, ladder_name(s.cnn));
    say!("\n{table}");
    write_file(&s.out.join("ablation.md"), &table)?;
    write_file(&s.out.join("ablation.svg"), &chart(&rows, s.seeds).to_svg())?;
    write_file(
        &s.out.join("ablation.json"),
        &json(&rows, &loaded.source, &command).pretty(),
    )?;
    say!(
        "wrote ablation.md, ablation.svg and ablation.json to {}",
        s.out.display()
    );
    Ok(())
}

/// Trains one rung and returns (test accuracy, training seconds, network, epochs).
fn train_rung(
    rung: Rung<f32>,
    train: &Dataset,
    test: &Dataset,
    max_epochs: Option<usize>,
) -> Result<(f64, f64, String, usize), Failure> {
    let Rung {
        mut network,
        mut config,
        ..
    } = rung;
    if let Some(cap) = max_epochs {
        config.epochs = config.epochs.min(cap);
    }
    let start = Instant::now();
    network.fit_with(train, None, &config, |_| {})?;
    let seconds = start.elapsed().as_secs_f64();
    let accuracy = network.evaluate_samples(test).accuracy;
    Ok((accuracy, seconds, network.to_string(), config.epochs))
}

/// The command that reproduces this run, for the table's caption.
fn command_line() -> String {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut command = "cargo run --release --example ablation".to_string();
    if !args.is_empty() {
        command.push_str(" -- ");
        command.push_str(&args.join(" "));
    }
    command
}

fn percent(x: f64) -> String {
    format!("{:.2}", 100.0 * x)
}

/// The results as a markdown table, one line per rung.
fn markdown(rows: &[Row], seeds: u64, command: &str, ladder: &str) -> String {
    let mut t = format!(
        "Test accuracy (%) of each rung of `{ladder}`, mean and range over seeds 1 to \
         {seeds}; each rung changes one thing from the one above it. Made by `{command}`.\n\n\
         | # | rung | network | epochs | test accuracy | range | gain | seconds |\n\
         | --- | --- | --- | --- | --- | --- | --- | --- |\n"
    );
    let mut previous: Option<f64> = None;
    for (i, row) in rows.iter().enumerate() {
        let acc = row.mean_accuracy();
        let (lo, hi) = min_max(&row.accuracies);
        let gain = previous.map_or("".to_string(), |p| format!("{:+.2}", 100.0 * (acc - p)));
        t.push_str(&format!(
            "| {} | {} | {} | {} | **{}** | {}–{} | {} | {:.1} |\n",
            i + 1,
            row.name,
            row.network,
            row.epochs,
            percent(acc),
            percent(lo),
            percent(hi),
            gain,
            mean(&row.seconds)
        ));
        previous = Some(acc);
    }
    t.push_str("\nWhat each rung changes:\n\n");
    for (i, row) in rows.iter().enumerate() {
        t.push_str(&format!("{}. **{}**: {}.\n", i + 1, row.name, row.change));
    }
    t
}

/// A bar per rung: its mean test accuracy, in percent.
fn chart(rows: &[Row], seeds: u64) -> BarChart {
    let lowest = rows
        .iter()
        .map(|r| 100.0 * r.mean_accuracy())
        .fold(100.0, f64::min);
    // Zoom in on the range the bars cover, starting at a multiple of 5 below the lowest.
    let floor = ((lowest - 2.0) / 5.0).floor() * 5.0;
    BarChart {
        title: format!("Test accuracy per rung of the ladder (mean of {seeds} seeds)"),
        y_label: "test accuracy (%)".to_string(),
        bars: rows
            .iter()
            .map(|r| (r.name.to_string(), 100.0 * r.mean_accuracy()))
            .collect(),
        y_range: Some((floor.max(0.0), 100.0)),
    }
}

/// Every run, for anyone who wants to plot or check them differently.
fn json(rows: &[Row], source: &str, command: &str) -> Json {
    let numbers = |xs: &[f64]| Json::Array(xs.iter().map(|&x| Json::Number(x)).collect());
    Json::object([
        ("command", Json::String(command.to_string())),
        ("data", Json::String(source.to_string())),
        (
            "rungs",
            Json::Array(
                rows.iter()
                    .map(|r| {
                        Json::object([
                            ("name", Json::String(r.name.to_string())),
                            ("change", Json::String(r.change.to_string())),
                            ("network", Json::String(r.network.clone())),
                            ("epochs", Json::Number(r.epochs as f64)),
                            ("test_accuracy", numbers(&r.accuracies)),
                            ("seconds", numbers(&r.seconds)),
                        ])
                    })
                    .collect(),
            ),
        ),
    ])
}
