//! The smallest complete program: load the built-in digits, train the default recipe, and
//! score it. The book's introduction walks through it; `train` is the full-featured version.
//!
//! ```sh
//! cargo run --release --example quickstart        # 60 epochs, about half a minute
//! cargo run --release --example quickstart -- 5   # 5 epochs, a few seconds
//! ```

// ANCHOR: quickstart
use simplenn::{augment, dataset, preset};
use std::path::Path;
use std::process::ExitCode;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // A bad file names itself, where in it, and what was wrong; a run whose loss
            // became NaN names the epoch, the step and the learning rate.
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    // 10,000 labelled 28×28 digits, read from the IDX files in data/mnist-10k.
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/mnist-10k");
    let data = dataset::load_dir(&folder, 10)?.train;
    // Hold out a seeded 10% to measure digits the network never trains on.
    let (train, held_out) = data.split(0.1, 1);

    // The recipe: a 784-512-256-10 network and how to train it.
    let (mut network, mut config) = preset::recommended::<f32>(784, 10, 1);
    if let Some(epochs) = std::env::args().nth(1).and_then(|a| a.parse().ok()) {
        config.epochs = epochs;
    }
    config.shift = augment::safe_shift(train.images(), config.shift);

    network.fit_with(&train, Some(&held_out), &config, |event| {
        if let simplenn::TrainEvent::Epoch(e) = event {
            println!("epoch {:2}: loss {:.4}", e.epoch, e.loss);
        }
    })?;

    let score = network.evaluate_samples(&held_out);
    println!("held-out accuracy: {:.2}%", 100.0 * score.accuracy);
    network.save("quickstart.snn")?;
    Ok(())
}
// ANCHOR_END: quickstart
