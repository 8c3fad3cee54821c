//! The `train`, `predict` and `ablation` examples as a user meets them: `--help`, exit
//! statuses, one-line errors, and small end-to-end runs (a saved model predicts exactly what
//! the trained one did). The heavy runs on real data are in `tests/mnist.rs`.

mod example_bins;

use example_bins::examples_dir;
use simplenn::json::Json;
use simplenn::{gzip, idx};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn run(example: &str, args: &[&str]) -> Output {
    let out = Command::new(examples_dir().join(example))
        .args(args)
        .env("SIMPLENN_THREADS", "1")
        .output()
        .expect("running the example");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("panicked") && !stderr.contains("RUST_BACKTRACE"),
        "{example} {args:?} panicked:\n{stderr}"
    );
    out
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A fresh temporary folder for one test.
fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("simplenn-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A learnable toy set of 28×28 images: class 0 has ink in the top half, class 1 in the
/// bottom half, with noise. Written as MNIST files (gzip'd) into `dir`: `n` training and
/// `n / 4` test images. Returns the test labels.
fn write_toy_mnist(dir: &Path, n: usize) -> Vec<u8> {
    let mut rng = simplenn::Rng::new(99);
    let mut make = |count: usize| {
        let mut pixels = Vec::with_capacity(count * 784);
        let mut labels = Vec::with_capacity(count);
        for i in 0..count {
            let class = (i % 2) as u8;
            for r in 0..28 {
                for _ in 0..28 {
                    let inked = (r < 14) == (class == 0);
                    let base = if inked { 180 } else { 20 };
                    pixels.push(base + rng.below(60) as u8);
                }
            }
            labels.push(class);
        }
        (pixels, labels)
    };
    for (prefix, count) in [("train", n), ("t10k", n / 4)] {
        let (pixels, labels) = make(count);
        let images = gzip::compress_stored(&idx::to_bytes(&[count, 28, 28], &pixels));
        std::fs::write(dir.join(format!("{prefix}-images-idx3-ubyte.gz")), images).unwrap();
        std::fs::write(
            dir.join(format!("{prefix}-labels-idx1-ubyte.gz")),
            gzip::compress_stored(&idx::to_bytes(&[count], &labels)),
        )
        .unwrap();
        if prefix == "t10k" {
            // The same test images as a Kaggle test.csv, without labels.
            let mut csv = (0..784)
                .map(|i| format!("pixel{i}"))
                .collect::<Vec<_>>()
                .join(",");
            csv.push('\n');
            for image in pixels.chunks(784) {
                let row: Vec<String> = image.iter().map(|p| p.to_string()).collect();
                csv.push_str(&row.join(","));
                csv.push('\n');
            }
            std::fs::write(dir.join("test.csv"), csv).unwrap();
            return labels;
        }
    }
    unreachable!()
}

fn read_json(path: &Path) -> Json {
    let text = std::fs::read_to_string(path).unwrap();
    Json::parse(&text).unwrap_or_else(|e| panic!("{}: {e}\n{text}", path.display()))
}

#[test]
fn help_documents_every_flag_with_its_default() {
    let out = run("train", &["--help"]);
    assert!(out.status.success());
    let help = stdout(&out);
    for flag in [
        "--data",
        "--csv",
        "--val-fraction",
        "--preset",
        "--hidden",
        "--activation",
        "--init",
        "--epochs",
        "--batch",
        "--lr",
        "--momentum",
        "--weight-decay",
        "--schedule",
        "--warmup",
        "--label-smoothing",
        "--dropout",
        "--shift",
        "--keep-best",
        "--patience",
        "--seed",
        "--threads",
        "--save",
        "--metrics",
        "--plots",
        "--help",
    ] {
        assert!(help.contains(flag), "train --help lacks {flag}");
    }
    assert!(help.matches("[default:").count() >= 10, "{help}");

    let out = run("predict", &["-h"]);
    assert!(out.status.success());
    let help = stdout(&out);
    for flag in [
        "--model",
        "--data",
        "--csv",
        "--submission",
        "--metrics",
        "--threads",
    ] {
        assert!(help.contains(flag), "predict --help lacks {flag}");
    }
}

#[test]
fn usage_errors_exit_2_with_one_line_naming_the_flag() {
    let cases: &[(&str, &[&str], &str)] = &[
        ("train", &["--epochs", "abc"], "--epochs"),
        ("train", &["--epochs"], "--epochs needs a value"),
        ("train", &["--batch", "0"], "--batch"),
        ("train", &["--batch", "half"], "--batch"),
        ("train", &["--lr", "-1"], "--lr"),
        ("train", &["--lr", "nan"], "--lr"),
        ("train", &["--momentum", "1.5"], "--momentum"),
        ("train", &["--hidden", "12,x"], "--hidden"),
        ("train", &["--hidden", "0"], "--hidden"),
        ("train", &["--activation", "swish"], "--activation"),
        ("train", &["--init", "lecun"], "--init"),
        ("train", &["--preset", "best"], "--preset"),
        ("train", &["--threads", "0"], "--threads"),
        ("train", &["--val-fraction", "1"], "--val-fraction"),
        ("train", &["--seed", "-3"], "--seed"),
        ("train", &["--schedule", "linear"], "--schedule"),
        ("train", &["--schedule", "step:0:0.5"], "--schedule"),
        ("train", &["--schedule", "cosine:2"], "--schedule"),
        ("train", &["--warmup", "x"], "--warmup"),
        ("train", &["--epochs", "3", "--warmup", "4"], "--warmup"),
        ("train", &["--label-smoothing", "1"], "--label-smoothing"),
        ("train", &["--dropout", "-0.5"], "--dropout"),
        ("train", &["--dropout", "1"], "--dropout"),
        ("train", &["--shift", "-1"], "--shift"),
        ("train", &["--shift", "28"], "--shift"),
        ("train", &["--patience", "0"], "--patience"),
        ("train", &["--optimizer", "rmsprop"], "--optimizer"),
        ("train", &["--optimizer", "adam:2:1e-8"], "--optimizer"),
        ("train", &["--rotate", "60"], "--rotate"),
        ("train", &["--scale", "0.5"], "--scale"),
        ("train", &["--stop-after", "2"], "--stop-after"),
        (
            "train",
            &["--checkpoint", "x.ck", "--stop-after", "0"],
            "--stop-after",
        ),
        ("train", &["--keep-best=yes"], "--keep-best takes no value"),
        (
            "train",
            &["--keep-best", "--val-fraction", "0"],
            "--keep-best",
        ),
        (
            "train",
            &["--patience", "3", "--val-fraction", "0"],
            "--patience",
        ),
        (
            "train",
            &["--frobnicate", "1"],
            "unknown option --frobnicate",
        ),
        ("train", &["stray"], "unexpected argument"),
        ("train", &["--epochs", "1", "--epochs", "2"], "given twice"),
        (
            "train",
            &["--data", "a", "--csv", "b"],
            "cannot be used together",
        ),
        ("predict", &[], "--model"),
        (
            "predict",
            &["--model", "m.snn", "--data", "a", "--csv", "b"],
            "cannot be used together",
        ),
    ];
    for (example, args, needle) in cases {
        let out = run(example, args);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{example} {args:?}: {}",
            stderr(&out)
        );
        let err = stderr(&out);
        let first = err.lines().next().unwrap_or("");
        assert!(
            first.starts_with("error: ") && first.contains(needle),
            "{args:?}: {err}"
        );
    }
}

#[test]
fn data_errors_exit_1_naming_the_file() {
    let dir = temp_dir("data-errors");
    let missing = dir.join("nowhere");
    let out = run("train", &["--data", missing.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).starts_with(&format!("error: {}", missing.display())),
        "{}",
        stderr(&out)
    );

    // A CSV with a pixel of 256 on line 3, field 4.
    let csv = dir.join("bad.csv");
    std::fs::write(&csv, "label,a,b,c,d\n1,0,0,0,0\n2,0,0,256,0\n").unwrap();
    let out = run("train", &["--csv", csv.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.starts_with(&format!("error: {}: line 3, column 4", csv.display())),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");

    // A truncated gzip file.
    write_toy_mnist(&dir, 8);
    let gz = dir.join("train-labels-idx1-ubyte.gz");
    let bytes = std::fs::read(&gz).unwrap();
    std::fs::write(&gz, &bytes[..bytes.len() - 3]).unwrap();
    let out = run("train", &["--data", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("train-labels-idx1-ubyte.gz: offset"),
        "{}",
        stderr(&out)
    );

    // A model file that is not one.
    let fake = dir.join("fake.snn");
    std::fs::write(&fake, "hello").unwrap();
    let out = run(
        "predict",
        &[
            "--model",
            fake.to_str().unwrap(),
            "--data",
            dir.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).starts_with(&format!("error: {}", fake.display())),
        "{}",
        stderr(&out)
    );

    // An output that cannot be written is reported before training starts (here its
    // "folder" is a file).
    let blocked = fake.join("m.json");
    let out = run(
        "train",
        &[
            "--metrics",
            blocked.to_str().unwrap(),
            "--data",
            dir.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stdout(&out).is_empty(),
        "nothing should have run: {}",
        stdout(&out)
    );
    assert!(stderr(&out).contains("fake.snn"), "{}", stderr(&out));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn train_save_predict_and_submit_end_to_end() {
    let dir = temp_dir("end-to-end");
    let test_labels = write_toy_mnist(&dir, 400);
    let data = dir.to_str().unwrap();
    let model = dir.join("model.snn");
    let metrics = dir.join("out/metrics.json");
    let plots = dir.join("plots");
    let out = run(
        "train",
        &[
            "--data",
            data,
            "--hidden",
            "16",
            "--epochs",
            "2",
            "--batch",
            "32",
            "--lr",
            "0.05",
            "--save",
            model.to_str().unwrap(),
            "--metrics",
            metrics.to_str().unwrap(),
            "--plots",
            plots.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("epoch 1/2") && text.contains("epoch 2/2"),
        "{text}"
    );
    assert!(text.contains("test accuracy"), "{text}");

    // The metrics file has what scripts rely on.
    let m = read_json(&metrics);
    let config = m.get("config").expect("config");
    for key in [
        "epochs",
        "batch",
        "learning_rate",
        "momentum",
        "seed",
        "hidden",
        "val_fraction",
    ] {
        assert!(config.get(key).is_some(), "config lacks {key}");
    }
    let epochs = m.get("epochs").and_then(Json::as_array).expect("epochs");
    assert_eq!(epochs.len(), 2);
    for (i, e) in epochs.iter().enumerate() {
        assert_eq!(e.get("epoch").and_then(Json::as_f64), Some(i as f64 + 1.0));
        for key in [
            "loss",
            "train_accuracy",
            "val_accuracy",
            "learning_rate",
            "seconds",
        ] {
            assert!(
                e.get(key).and_then(Json::as_f64).is_some(),
                "epoch lacks {key}"
            );
        }
    }
    for key in [
        "train_accuracy",
        "val_accuracy",
        "test_accuracy",
        "best_epoch",
        "seconds",
    ] {
        assert!(m.get(key).and_then(Json::as_f64).is_some(), "{key}");
    }
    assert_eq!(m.get("stopped_early"), Some(&Json::Bool(false)));
    let test_accuracy = m.get("test_accuracy").and_then(Json::as_f64).unwrap();
    assert!(
        test_accuracy > 0.9,
        "the toy problem is easy: {test_accuracy}"
    );

    for svg in [
        "loss.svg",
        "accuracy.svg",
        "learning-rate.svg",
        "misclassified.svg",
        "weights.svg",
    ] {
        let text = std::fs::read_to_string(plots.join(svg)).unwrap();
        assert!(
            text.starts_with("<svg") || text.starts_with("<?xml"),
            "{svg}"
        );
        assert!(text.trim_end().ends_with("</svg>"), "{svg}");
    }

    // The saved model scores exactly what the trained one did.
    let metrics2 = dir.join("predict.json");
    let out = run(
        "predict",
        &[
            "--model",
            model.to_str().unwrap(),
            "--data",
            data,
            "--metrics",
            metrics2.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let m2 = read_json(&metrics2);
    assert_eq!(
        m2.get("test_accuracy").and_then(Json::as_f64),
        Some(test_accuracy)
    );
    let rows = m2.get("confusion_matrix").and_then(Json::as_array).unwrap();
    assert_eq!(rows.len(), 10);

    // A Kaggle submission from the unlabelled CSV of the same images.
    let submission = dir.join("submission.csv");
    let out = run(
        "predict",
        &[
            "--model",
            model.to_str().unwrap(),
            "--csv",
            dir.join("test.csv").to_str().unwrap(),
            "--submission",
            submission.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let sub = std::fs::read_to_string(&submission).unwrap();
    let mut lines = sub.lines();
    assert_eq!(lines.next(), Some("ImageId,Label"));
    let mut correct = 0;
    for (i, line) in lines.enumerate() {
        let (id, label) = line.split_once(',').unwrap();
        assert_eq!(id.parse::<usize>().unwrap(), i + 1);
        correct += usize::from(label.parse::<u8>().unwrap() == test_labels[i]);
    }
    assert_eq!(sub.lines().count(), test_labels.len() + 1);
    assert_eq!(correct as f64 / test_labels.len() as f64, test_accuracy);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn every_activation_init_and_batch_mode_runs() {
    let dir = temp_dir("flags");
    write_toy_mnist(&dir, 64);
    let data = dir.to_str().unwrap();
    for args in [
        &["--activation", "sigmoid", "--init", "xavier"][..],
        &[
            "--activation",
            "tanh",
            "--init",
            "original",
            "--batch",
            "full",
        ],
        &[
            "--activation",
            "identity",
            "--hidden",
            "none",
            "--momentum",
            "0",
        ],
        &[
            "--hidden",
            "8,8",
            "--weight-decay",
            "0.001",
            "--threads",
            "2",
            "--seed",
            "5",
        ],
        &[
            "--preset",
            "original",
            "--epochs",
            "3",
            "--val-fraction",
            "0",
        ],
        &[
            "--epochs",
            "3",
            "--schedule",
            "step:1:0.5",
            "--warmup",
            "1",
            "--label-smoothing",
            "0.1",
            "--dropout",
            "0.3",
            "--shift",
            "2",
            "--keep-best",
            "--patience",
            "1",
        ],
        &[
            "--batch",
            "full",
            "--schedule",
            "cosine:0.1",
            "--shift",
            "1",
        ],
    ] {
        let mut all = vec!["--data", data, "--epochs", "1"];
        if args.contains(&"--epochs") {
            all.truncate(2);
        }
        all.extend_from_slice(args);
        let out = run("train", &all);
        assert!(out.status.success(), "{all:?}: {}", stderr(&out));
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn keep_best_and_patience_report_and_score_the_kept_epoch() {
    let dir = temp_dir("keep-best");
    write_toy_mnist(&dir, 200);
    let metrics = dir.join("m.json");
    let out = run(
        "train",
        &[
            "--data",
            dir.to_str().unwrap(),
            "--hidden",
            "16",
            "--epochs",
            "6",
            "--batch",
            "16",
            "--val-fraction",
            "0.25",
            "--schedule",
            "cosine",
            "--keep-best",
            "--patience",
            "1",
            "--metrics",
            metrics.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let options = text
        .lines()
        .find(|l| l.starts_with("options: "))
        .unwrap_or_else(|| panic!("no options line: {text}"));
    for part in ["schedule cosine", "keep the best epoch", "patience 1"] {
        assert!(options.contains(part), "{part} missing: {options}");
    }
    assert!(
        text.contains("  lr "),
        "the rate is shown with a schedule: {text}"
    );
    let m = read_json(&metrics);
    let best = m.get("best_epoch").and_then(Json::as_f64).unwrap() as usize;
    assert!(
        text.contains(&format!("kept epoch {best}, the best")),
        "{text}"
    );
    let epochs = m.get("epochs").and_then(Json::as_array).unwrap();
    let stopped = m.get("stopped_early") == Some(&Json::Bool(true));
    assert_eq!(stopped, epochs.len() < 6);
    if stopped {
        assert_eq!(
            epochs.len(),
            best + 1,
            "patience 1: one epoch after the best"
        );
        assert!(text.contains("stopped early"), "{text}");
    }
    // The final validation accuracy is the kept epoch's, measured again afterwards.
    let kept = epochs[best - 1].get("val_accuracy").and_then(Json::as_f64);
    assert_eq!(m.get("val_accuracy").and_then(Json::as_f64), kept);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The book shows `train --help` verbatim; it must not drift from the real thing.
#[test]
fn the_book_shows_the_real_help() {
    // The published crate leaves the book out: there is nothing to compare with there.
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("book/src/cli.md");
    let Ok(book) = std::fs::read_to_string(&path) else {
        // Straight to stderr, past the harness's capture, as the data tests do.
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED the_book_shows_the_real_help: no {}",
            path.display()
        );
        return;
    };
    for example in [
        "train",
        "predict",
        "ablation",
        "init_plateau",
        "to_csv",
        "serve",
    ] {
        let out = run(example, &["--help"]);
        let help = stdout(&out);
        assert!(
            book.contains(help.trim_end()),
            "book/src/cli.md no longer shows the output of `{example} --help`"
        );
    }
}

#[test]
fn ablation_writes_a_table_a_chart_and_every_run() {
    let dir = temp_dir("ablation");
    write_toy_mnist(&dir, 200);
    let out_dir = dir.join("out");
    let out = run(
        "ablation",
        &[
            "--data",
            dir.to_str().unwrap(),
            "--rungs",
            "3",
            "--seeds",
            "2",
            "--max-epochs",
            "1",
            "--out",
            out_dir.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("training on 200 images, testing on 50 (its test files)"),
        "{text}"
    );
    assert!(text.contains("capped at 1 epochs"), "{text}");

    let json = read_json(&out_dir.join("ablation.json"));
    let rungs = json.get("rungs").and_then(Json::as_array).unwrap();
    assert_eq!(rungs.len(), 3);
    let table = std::fs::read_to_string(out_dir.join("ablation.md")).unwrap();
    assert!(table.contains("--rungs 3 --seeds 2"), "{table}");
    for (i, rung) in rungs.iter().enumerate() {
        let runs: Vec<f64> = rung
            .get("test_accuracy")
            .and_then(Json::as_array)
            .unwrap()
            .iter()
            .map(|a| a.as_f64().unwrap())
            .collect();
        assert_eq!(runs.len(), 2, "one run per seed");
        assert!(runs.iter().all(|a| (0.0..=1.0).contains(a)));
        // The table's figure is the mean of the runs the JSON lists.
        let name = rung.get("name").and_then(Json::as_str).unwrap();
        let mean = 100.0 * (runs[0] + runs[1]) / 2.0;
        let row = format!("| {} | {name} |", i + 1);
        let line = table.lines().find(|l| l.starts_with(&row)).unwrap();
        assert!(line.contains(&format!("**{mean:.2}**")), "{line}");
    }
    assert!(!table.contains("| 4 |"), "only three rungs: {table}");
    let svg = std::fs::read_to_string(out_dir.join("ablation.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("+ mini-batches"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn ablation_usage_errors_exit_2_naming_the_flag() {
    for (args, flag) in [
        (&["--seeds", "0"][..], "--seeds"),
        (&["--rungs", "15"], "--rungs"),
        (&["--max-epochs", "many"], "--max-epochs"),
        (&["--threads", "0"], "--threads"),
        (&["--bogus", "1"], "--bogus"),
    ] {
        let out = run("ablation", args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(stderr(&out).contains(flag), "{args:?}: {}", stderr(&out));
    }
    let out = run("ablation", &["--help"]);
    assert!(out.status.success());
    for flag in [
        "--data",
        "--seeds",
        "--rungs",
        "--max-epochs",
        "--threads",
        "--out",
    ] {
        assert!(stdout(&out).contains(flag), "--help lacks {flag}");
    }
}

#[test]
fn quickstart_trains_scores_and_saves() {
    // The introduction's listing: one epoch, run in a scratch folder (it saves there).
    let dir = temp_dir("quickstart");
    let out = Command::new(examples_dir().join("quickstart"))
        .arg("1")
        .current_dir(&dir)
        .env("SIMPLENN_THREADS", "1")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.starts_with("epoch  1: loss "), "{text}");
    let accuracy: f64 = text
        .lines()
        .find_map(|l| l.strip_prefix("held-out accuracy: "))
        .and_then(|a| a.trim_end_matches('%').parse().ok())
        .unwrap_or_else(|| panic!("no accuracy line: {text}"));
    assert!(accuracy > 90.0, "one epoch of the recipe: {accuracy}%");
    let net = simplenn::Network::<f32>::load(dir.join("quickstart.snn")).unwrap();
    assert_eq!(net.to_string(), "784 → 512 relu → 256 relu → 10 softmax");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn init_plateau_trains_both_initialisations_and_draws_them() {
    let dir = temp_dir("init-plateau");
    write_toy_mnist(&dir, 200);
    let out_dir = dir.join("out");
    let out = run(
        "init_plateau",
        &[
            "--data",
            dir.to_str().unwrap(),
            "--epochs",
            "3",
            "--out",
            out_dir.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    for want in [
        "trained with uniform ±0.5 (original)",
        "trained with He initialisation",
        "test accuracy",
    ] {
        assert!(text.contains(want), "{want} missing: {text}");
    }
    for name in ["accuracy.svg", "loss.svg"] {
        let svg = std::fs::read_to_string(out_dir.join(name)).unwrap();
        assert!(svg.starts_with("<svg") && svg.contains("He initialisation"));
    }
    for (args, flag) in [
        (&["--epochs", "0"][..], "--epochs"),
        (&["--seed", "x"], "--seed"),
        (&["--bogus", "1"], "--bogus"),
    ] {
        let out = run("init_plateau", args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(stderr(&out).contains(flag), "{args:?}: {}", stderr(&out));
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_diverging_run_exits_1_naming_the_step_and_saves_nothing() {
    let dir = temp_dir("diverge");
    let model = dir.join("model.snn");
    let metrics = dir.join("metrics.json");
    let out = run(
        "train",
        &[
            "--lr",
            "50",
            "--momentum",
            "0.99",
            "--schedule",
            "constant",
            "--save",
            model.to_str().unwrap(),
            "--metrics",
            metrics.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    for part in [
        "error: training diverged in epoch 1, at step ",
        "(learning rate 50): the loss is NaN",
        "--lr 50 and --momentum 0.99 the effective step is 5000",
        "Nothing was saved.",
    ] {
        assert!(err.contains(part), "{err:?} lacks {part:?}");
    }
    assert!(!model.exists(), "a diverged run must not write a model");
    assert!(!metrics.exists());
    assert!(
        !stdout(&out).contains("NaN"),
        "no epoch line reports a NaN loss"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn to_csv_writes_what_the_csv_reader_reads_back_as_the_same_images() {
    let dir = temp_dir("to-csv");
    let test_labels = write_toy_mnist(&dir, 40);
    let out_dir = dir.join("csv");
    let out = run(
        "to_csv",
        &[
            "--data",
            dir.to_str().unwrap(),
            "--out",
            out_dir.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("(40 labelled images)"),
        "{}",
        stdout(&out)
    );
    let idx = simplenn::dataset::load_dir(&dir, 10).unwrap();

    let simplenn::dataset::CsvData::Labelled(train) =
        simplenn::dataset::load_csv(&out_dir.join("train.csv"), 10).unwrap()
    else {
        panic!("train.csv must be labelled");
    };
    assert_eq!(train.images().as_bytes(), idx.train.images().as_bytes());
    assert_eq!(train.labels(), idx.train.labels());

    let simplenn::dataset::CsvData::Unlabelled(test) =
        simplenn::dataset::load_csv(&out_dir.join("test.csv"), 10).unwrap()
    else {
        panic!("test.csv must have no labels");
    };
    let idx_test = idx.test.unwrap();
    assert_eq!(test.as_bytes(), idx_test.images().as_bytes());
    assert_eq!(idx_test.labels(), &test_labels[..]);
    // The same as the Kaggle-style test.csv the toy writer makes by hand.
    assert_eq!(
        std::fs::read(out_dir.join("test.csv")).unwrap(),
        std::fs::read(dir.join("test.csv")).unwrap()
    );

    let missing = run("to_csv", &["--data", dir.to_str().unwrap()]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(stderr(&missing).contains("--out"), "{}", stderr(&missing));
    let _ = std::fs::remove_dir_all(&dir);
}

/// A run stopped with `--stop-after` and continued with `--resume` saves the very model, and
/// reports the very epochs, of the run that went straight through; `--resume` refuses
/// settings, other data and files that are not checkpoints.
#[test]
fn stop_after_and_resume_end_bit_identical_to_a_straight_run() {
    let dir = temp_dir("resume");
    write_toy_mnist(&dir, 80);
    let data = dir.to_str().unwrap();
    let path = |name: &str| dir.join(name).to_str().unwrap().to_string();
    let recipe = [
        "--data",
        data,
        "--arch",
        "conv3:2,pool2,dense8",
        "--epochs",
        "3",
        "--batch",
        "16",
        "--optimizer",
        "adamw",
        "--lr",
        "0.01",
        "--rotate",
        "5",
        "--scale",
        "0.05",
        "--seed",
        "4",
    ];
    let with = |extra: &[String]| -> Vec<String> {
        recipe
            .iter()
            .map(|s| s.to_string())
            .chain(extra.iter().cloned())
            .collect()
    };
    let strs = |v: &[String]| -> Vec<String> { v.to_vec() };
    let run_owned = |args: Vec<String>| {
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        run("train", &refs)
    };
    let out = run_owned(with(&strs(&[
        "--save".into(),
        path("straight.snn"),
        "--metrics".into(),
        path("straight.json"),
    ])));
    assert!(out.status.success(), "{}", stderr(&out));

    let ck = path("run.ck");
    let first = with(&strs(&[
        "--save".into(),
        path("resumed.snn"),
        "--metrics".into(),
        path("resumed.json"),
        "--checkpoint".into(),
        ck.clone(),
        "--stop-after".into(),
        "1".into(),
    ]));
    let out = run_owned(first);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("stopped after epoch 1 of 3"),
        "{}",
        stdout(&out)
    );
    assert!(
        !dir.join("resumed.snn").exists(),
        "a stopped run saves no model"
    );

    // Settings cannot change on the way...
    let out = run("train", &["--resume", &ck, "--epochs", "5"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--epochs"), "{}", stderr(&out));
    // ...nor can the file be something else.
    let out = run("train", &["--resume", &path("straight.snn")]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("it is a model file"),
        "{}",
        stderr(&out)
    );

    let out = run("train", &["--resume", &ck, "--stop-after", "2"]);
    assert!(
        stdout(&out).contains("stopped after epoch 2 of 3"),
        "{}",
        stdout(&out)
    );
    let out = run("train", &["--resume", &ck, "--threads", "2"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("2 of 3 epochs done"),
        "{}",
        stdout(&out)
    );
    assert_eq!(
        std::fs::read(dir.join("straight.snn")).unwrap(),
        std::fs::read(dir.join("resumed.snn")).unwrap(),
        "the resumed run saved another model"
    );
    let epochs = |name: &str| -> Vec<String> {
        let json = read_json(&dir.join(name));
        json.get("epochs")
            .unwrap()
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                format!(
                    "{:?} {:?} {:?}",
                    e.get("loss"),
                    e.get("val_accuracy"),
                    e.get("learning_rate")
                )
            })
            .collect()
    };
    assert_eq!(epochs("straight.json"), epochs("resumed.json"));

    // Other data under the same name: refused, naming the checkpoint.
    write_toy_mnist(&dir, 84);
    let out = run("train", &["--resume", &ck]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("run.ck") && stderr(&out).contains("not the same data"),
        "{}",
        stderr(&out)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_ignored_kernel_variable_is_one_warning_line_before_the_run() {
    let dir = temp_dir("kernel-var");
    let missing = dir.join("missing.snn");
    let predict = |kernel: &str| {
        Command::new(examples_dir().join("predict"))
            .arg("--model")
            .arg(&missing)
            .args(["--data", "data/mnist-10k"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env("SIMPLENN_THREADS", "1")
            .env("SIMPLENN_KERNEL", kernel)
            .output()
            .expect("running predict")
    };
    // The library falls back without a word; the example says so, then runs (and here fails,
    // as it would have anyway, on the missing model).
    let out = predict("avx513");
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 2, "{err}");
    assert!(
        lines[0].starts_with(
            "warning: SIMPLENN_KERNEL=avx513: not portable, avx2, fma or avx512; using the "
        ),
        "{err}"
    );
    assert!(lines[1].starts_with("error: "), "{err}");
    // A kernel every machine runs: no warning.
    let out = predict("portable");
    assert!(!stderr(&out).contains("warning"), "{}", stderr(&out));
    let _ = std::fs::remove_dir_all(&dir);
}
