//! Trains a network on MNIST-style digits and reports how well it does.
//!
//! ```sh
//! cargo run --release --example train                        # the built-in 10,000 digits
//! cargo run --release --example train -- --data DIR          # a folder of MNIST files
//! cargo run --release --example train -- --preset original   # the original NumPy recipe
//! cargo run --release --example train -- --help              # every option
//! ```
//!
//! The program in the order it runs, a file for each part: [`settings`] reads the command
//! line (and [`resume`] the one a checkpoint kept), [`setup`] loads and splits the data and
//! builds the network, [`epochs`] trains it, [`report`] prints what it reached, and
//! [`metrics`] and [`figures`] write the files asked for.

#[path = "../common/mod.rs"]
#[macro_use]
mod common;
mod epochs;
mod figures;
mod metrics;
mod report;
mod resume;
mod settings;
mod setup;

use common::{Failure, check_writable};
use settings::Settings;
use std::process::ExitCode;
use std::time::Instant;

fn main() -> ExitCode {
    common::exit_with(run(), "train")
}

fn run() -> Result<(), Failure> {
    let start = Instant::now();
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let (resumed, argv) = match resume::from_command_line(&argv)? {
        Some((resumed, stored)) => (Some(resumed), stored),
        None => (None, argv),
    };
    let Some(mut s) = settings::parse_settings(argv)? else {
        return Ok(()); // --help
    };
    common::warn_if_kernel_ignored();
    check_outputs(&s)?;

    let data = setup::load(&s)?;
    let notes = setup::settle_augmentation(&mut s, &data.train);
    setup::check_fit(&s, &data)?;
    let mut net = setup::build_network(&s, &data)?;
    s.config
        .check_batches(&net, data.train.len())
        .map_err(settings::config_error)?;
    // A resumed run takes its weights from the checkpoint, not from --init-from.
    if let Some(file) = s.init_from.as_ref().filter(|_| resumed.is_none()) {
        setup::start_from(&mut net, file)?;
    }
    report::plan(&s, &data, &net, &notes);

    let training = match resumed {
        None => simplenn::Training::new(&net, &s.config, data.train.len()),
        Some(resumed) => resumed.continue_run(&mut net, &s, &data.train)?,
    };
    let Some(history) = epochs::train(&mut net, training, &data, &s)? else {
        return Ok(()); // --stop-after: the checkpoint is saved
    };
    let outcome = report::outcome(&net, &s, &history, &data);

    if let Some(path) = &s.save {
        net.save(path)?;
        say!("\nsaved the model to {}", path.display());
    }
    let seconds = start.elapsed().as_secs_f64();
    if let Some(path) = &s.metrics {
        metrics::write(path, &s, &net, &data, &history, &outcome, seconds)?;
    }
    if let Some(dir) = &s.plots {
        figures::write(dir, &net, &history.epochs, &outcome, &data)?;
    }
    say!("done in {seconds:.1} s");
    Ok(())
}

/// Fails before training, not after, if an output cannot be written.
fn check_outputs(s: &Settings) -> Result<(), Failure> {
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
    Ok(())
}
