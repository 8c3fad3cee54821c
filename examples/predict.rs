//! Loads a model saved by `train --save` and evaluates it, or writes Kaggle predictions.
//!
//! ```sh
//! cargo run --release --example predict -- --model model.snn --data DIR
//! cargo run --release --example predict -- --model model.snn --csv test.csv --submission out.csv
//! ```

#[macro_use]
mod common;

use common::{Args, CLASSES, Failure, check_writable, write_file};
use simplenn::Network;
use simplenn::dataset::{CsvData, Dataset, Images};
use simplenn::json::Json;
use simplenn::progress::format_count;
use simplenn::samples::Inputs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

const HELP: &str = "\
Evaluates a saved model, or writes its predictions as a Kaggle submission.

Usage: cargo run --release --example predict -- --model FILE (--data DIR | --csv FILE) [OPTIONS]
       cargo run --release --example predict -- --model FILE --export FILE.onnx|FILE.safetensors

  --model FILE        a model written by `train --save FILE` (required)
  --data DIR          a folder of MNIST-style files: evaluates on the t10k-* test set when
                      the folder has one, else on the train-* files
  --csv FILE          a Kaggle-style CSV: evaluated if it has a label column (train.csv);
                      without one (test.csv), use --submission
  --submission FILE   write one prediction per image as Kaggle's Digit Recognizer expects:
                      a header 'ImageId,Label', then '1,7', '2,0', ...
  --metrics FILE      write a JSON summary: test_accuracy (null without labels) and the
                      confusion matrix
  --probabilities FILE
                      write every image's ten class probabilities as CSV: a header
                      'image,p0,...,p9', then one row per image, each number as the
                      shortest decimal that reads back to the same f32
  --export FILE       write the model as ONNX (FILE ending .onnx: the graph and its
                      weights, for ONNX Runtime) or its weights as safetensors (.safetensors,
                      named and laid out as PyTorch holds them), and exit (see the book's
                      \"Taking it elsewhere\")
  --threads N         threads for the matrix products [default: all cores]
  -h, --help          print this help

Exit status: 0 on success, 2 for a usage error, 1 for a data or I/O error
(141 if stdout is a pipe whose reader has gone, as with `| head`).
";

/// `--export FILE`: writes the model in the format FILE's extension names.
fn export_model(model: &Path, out: &Path, with_data: bool) -> Result<(), Failure> {
    if with_data {
        return Err(Failure::Usage(
            "--export writes the model and exits: it takes no --data or --csv".into(),
        ));
    }
    let extension = out.extension().and_then(|e| e.to_str()).unwrap_or("");
    let onnx = extension.eq_ignore_ascii_case("onnx");
    if !onnx && !extension.eq_ignore_ascii_case("safetensors") {
        return Err(Failure::Usage(format!(
            "--export: {} should end in .onnx or .safetensors, the format to write",
            out.display()
        )));
    }
    check_writable("--export", out)?;
    let net: Network = Network::load(model)?;
    if onnx {
        simplenn::model::onnx::save(&net, out)?;
    } else {
        simplenn::model::safetensors::save(&net, out)?;
    }
    let format = if onnx { "ONNX" } else { "safetensors" };
    say!("wrote {} ({net}) as {format}", out.display());
    Ok(())
}

fn main() -> ExitCode {
    common::exit_with(run(), "predict")
}

/// Where the images come from.
enum Source {
    Dir(String),
    Csv(String),
}

/// What to predict on.
enum Input {
    /// Where from, what to call it in the report ("test"), the samples.
    Labelled(String, &'static str, Dataset),
    Unlabelled(String, Images),
}

fn run() -> Result<(), Failure> {
    let mut args = Args::parse(&["--help"])?;
    if args.switch("--help") {
        say!("{}", HELP.trim_end());
        return Ok(());
    }
    let model = args.value("--model").map(PathBuf::from);
    let data = args.value("--data");
    let csv = args.value("--csv");
    let submission = args.value("--submission").map(PathBuf::from);
    let metrics = args.value("--metrics").map(PathBuf::from);
    let export = args.value("--export").map(PathBuf::from);
    let probabilities = args.value("--probabilities").map(PathBuf::from);
    common::apply_threads(&mut args)?;
    args.reject_unknown()?;
    common::warn_if_kernel_ignored();

    let model = model.ok_or_else(|| Failure::Usage("--model FILE is required".into()))?;
    if let Some(out) = export {
        return export_model(&model, &out, data.is_some() || csv.is_some());
    }
    let source = match (data, csv) {
        (Some(_), Some(_)) => {
            return Err(Failure::Usage(
                "--data and --csv cannot be used together".into(),
            ));
        }
        (None, None) => return Err(Failure::Usage("give --data DIR or --csv FILE".into())),
        (Some(dir), None) => Source::Dir(dir),
        (None, Some(file)) => Source::Csv(file),
    };
    for (flag, path) in [
        ("--submission", &submission),
        ("--metrics", &metrics),
        ("--probabilities", &probabilities),
    ] {
        if let Some(path) = path {
            check_writable(flag, path)?;
        }
    }
    let net: Network = Network::load(&model)?;
    say!("model: {} ({net})", model.display());

    let input = match source {
        Source::Dir(dir) => {
            let loaded = simplenn::dataset::load_dir(Path::new(&dir), CLASSES)?;
            match loaded.test {
                Some(test) => Input::Labelled(format!("{dir}, t10k test set"), "test", test),
                None => Input::Labelled(
                    format!("{dir}, train set (no t10k files)"),
                    "training set",
                    loaded.train,
                ),
            }
        }
        Source::Csv(file) => match common::load_csv_any(&file)? {
            CsvData::Labelled(d) => Input::Labelled(file, "labelled CSV", d),
            CsvData::Unlabelled(images) => Input::Unlabelled(file, images),
        },
    };
    let (source, inputs): (&str, &dyn Inputs<f32>) = match &input {
        Input::Labelled(s, _, d) => (s, d),
        Input::Unlabelled(s, i) => (s, i),
    };
    if inputs.features() != net.inputs() {
        return Err(Failure::Data(
            simplenn::Error::data(format!(
                "the model takes {} inputs per image but these images have {} pixels",
                net.inputs(),
                inputs.features()
            ))
            .in_file(source),
        ));
    }
    say!(
        "data: {source} ({} images)",
        format_count(inputs.len() as u64)
    );
    let predicted = net.predict_samples(inputs);

    let mut test_accuracy = None;
    let mut confusion = Json::Null;
    match &input {
        Input::Labelled(_, name, d) => {
            let cm = common::report(name, d, &predicted);
            test_accuracy = Some(cm.accuracy());
            confusion = common::confusion_json(&cm);
        }
        Input::Unlabelled(..) => {
            let mut counts = [0usize; CLASSES];
            for &p in &predicted {
                counts[p] += 1;
            }
            say!("no labels in this file: predictions per class {counts:?}");
            if submission.is_none() {
                say!("(use --submission FILE to write them out)");
            }
        }
    }
    if let Some(path) = &submission {
        write_file(path, &simplenn::csv::submission(&predicted))?;
        say!(
            "wrote {} predictions to {}",
            predicted.len(),
            path.display()
        );
    }
    if let Some(path) = &probabilities {
        let mut x = simplenn::Matrix::zeros(0, 0);
        inputs.gather(&(0..inputs.len()).collect::<Vec<_>>(), &mut x);
        let p = net.predict_proba(&x);
        let mut csv = String::from("image");
        for k in 0..p.cols() {
            csv.push_str(&format!(",p{k}"));
        }
        csv.push('\n');
        for (i, row) in p.row_iter().enumerate() {
            csv.push_str(&i.to_string());
            for v in row {
                csv.push_str(&format!(",{v}"));
            }
            csv.push('\n');
        }
        write_file(path, &csv)?;
        say!(
            "wrote {} rows of probabilities to {}",
            p.rows(),
            path.display()
        );
    }
    if let Some(path) = &metrics {
        let json = Json::Object(vec![
            ("model".into(), model.display().to_string().into()),
            ("data".into(), source.into()),
            ("samples".into(), predicted.len().into()),
            ("test_accuracy".into(), test_accuracy.into()),
            ("confusion_matrix".into(), confusion),
        ]);
        write_file(path, &json.pretty())?;
        say!("wrote metrics to {}", path.display());
    }
    Ok(())
}
