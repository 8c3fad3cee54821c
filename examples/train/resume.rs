//! Stopping and resuming: what a checkpoint keeps of the command line, reading it back for
//! `--resume`, and checking that a checkpoint continues this run on this data.

use crate::common::Failure;
use crate::settings::Settings;
use simplenn::dataset::Dataset;
use simplenn::json::Json;
use simplenn::train::checkpoint::{self, Checkpoint};
use simplenn::{Network, Training};
use std::path::PathBuf;

/// Flags that change how the process runs, not the run: `--resume` takes them beside the
/// checkpoint, and a checkpoint does not keep them.
const PROCESS_FLAGS: [&str; 3] = ["--resume", "--stop-after", "--threads"];

/// A run to continue: the checkpoint `--resume` named, read.
pub struct Resumed {
    checkpoint: Checkpoint,
    path: PathBuf,
}

/// For `--resume FILE`: the checkpoint, and the arguments to run with: the ones it kept,
/// then the process flags given now. `None` without `--resume`.
pub fn from_command_line(argv: &[String]) -> Result<Option<(Resumed, Vec<String>)>, Failure> {
    let (path, process) = process_flags(argv);
    let Some(path) = path else {
        return Ok(None);
    };
    if let Some(flag) = run_args(argv).first() {
        return Err(Failure::Usage(format!(
            "--resume continues a run with the settings it was started with, so {flag} \
             cannot be given with it (only --threads and --stop-after can)"
        )));
    }
    let checkpoint: Checkpoint = checkpoint::load(&path)?;
    let Some(mut run) = stored_args(&checkpoint) else {
        return Err(Failure::Data(
            simplenn::Error::checkpoint(None, "its note does not hold a train command line")
                .in_file(&path),
        ));
    };
    run.extend(process);
    let path = PathBuf::from(path);
    Ok(Some((Resumed { checkpoint, path }, run)))
}

/// The value of `--resume`, and the other [`PROCESS_FLAGS`] with their values.
fn process_flags(argv: &[String]) -> (Option<String>, Vec<String>) {
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
    (path, process)
}

/// The command line a checkpoint's note keeps, if it keeps one.
fn stored_args(checkpoint: &Checkpoint) -> Option<Vec<String>> {
    let note = Json::parse(&checkpoint.note).ok()?;
    note.get("args")?
        .as_array()?
        .iter()
        .map(|a| a.as_str().map(str::to_string))
        .collect()
}

/// `argv` without the flags of [`PROCESS_FLAGS`] and their values.
pub fn run_args(argv: &[String]) -> Vec<String> {
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

/// The checkpoint's note: the run's arguments, and a fingerprint of its training data.
pub fn checkpoint_note(args: &[String], train: &Dataset) -> String {
    Json::object([
        ("program", "train".into()),
        (
            "args",
            Json::Array(args.iter().map(|a| a.as_str().into()).collect()),
        ),
        ("train_crc32", f64::from(data_crc(train)).into()),
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

impl Resumed {
    /// Checks that the checkpoint continues this run on this data, takes its network, and
    /// says where the run stands.
    pub fn continue_run(
        self,
        net: &mut Network,
        s: &Settings,
        train: &Dataset,
    ) -> Result<Training, Failure> {
        let Resumed { checkpoint, path } = self;
        let mismatch = |what: String| {
            Failure::Data(
                simplenn::Error::checkpoint(None, format!("cannot resume: {what}")).in_file(&path),
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
        let training = checkpoint.training;
        say!(
            "resumed from {}: {} of {} epochs done",
            path.display(),
            training.epochs_done(),
            s.config.epochs
        );
        Ok(training)
    }
}
