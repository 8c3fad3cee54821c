//! What the run prints around training: the plan (data, network, settings) before it, and
//! the outcome (final accuracies, the test set's confusion matrix) after it.

use crate::common;
use crate::settings::Settings;
use crate::setup::Data;
use simplenn::confusion::ConfusionMatrix;
use simplenn::progress::format_count;
use simplenn::{Batch, History, Network, Schedule, TrainConfig};

/// Prints what will be trained, on what, and how, with the notes of "auto" settings.
pub fn plan(s: &Settings, data: &Data, net: &Network, notes: &[String]) {
    say!(
        "data: {} ({} training, {} validation, {})",
        data.source,
        format_count(data.train.len() as u64),
        format_count(data.validation.len() as u64),
        match &data.test {
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
        s.config.optimiser.momentum(),
        s.config.weight_decay,
        s.config.seed,
        s.threads,
        if s.threads == 1 { "" } else { "s" }
    );
    if let Some(extras) = extras_line(&s.config) {
        say!("{extras}");
    }
    for note in notes {
        say!("{note}");
    }
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
    if !matches!(c.optimiser, simplenn::Optimiser::Sgd { .. }) {
        extras.push(format!("optimiser {}", c.optimiser));
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
    if let Some(e) = c.elastic {
        extras.push(format!("elastic distortion α {} σ {}", e.alpha, e.sigma));
    }
    if c.keep_best {
        extras.push("keep the best epoch".to_string());
    }
    if let Some(p) = c.patience {
        extras.push(format!("patience {p}"));
    }
    (!extras.is_empty()).then(|| format!("options: {}", extras.join(", ")))
}

/// What the trained network reached, as the metrics file and the figures need it.
pub struct Outcome {
    /// Measured after training, not the running figure of the last epoch.
    pub train_accuracy: f64,
    /// `None` without a validation set.
    pub val_accuracy: Option<f64>,
    /// `None` without a test set, as `confusion`.
    pub test_accuracy: Option<f64>,
    /// The test set's, rows the true class.
    pub confusion: Option<ConfusionMatrix>,
    /// The first 100 misclassified images of [`Data::shown`]: `(index, truth, predicted)`.
    pub wrong: Vec<(usize, usize, usize)>,
}

/// Prints how training ended and what the trained network scores on each set.
pub fn outcome(net: &Network, s: &Settings, history: &History, data: &Data) -> Outcome {
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
    let train_accuracy = net.evaluate_samples(&data.train).accuracy;
    let val_accuracy =
        (!data.validation.is_empty()).then(|| net.evaluate_samples(&data.validation).accuracy);
    say!(
        "\ntrain accuracy: {:.2}%{}",
        100.0 * train_accuracy,
        val_accuracy.map_or(String::new(), |v| format!(
            ", validation accuracy: {:.2}%",
            100.0 * v
        ))
    );
    let mut outcome = Outcome {
        train_accuracy,
        val_accuracy,
        test_accuracy: None,
        confusion: None,
        wrong: Vec::new(),
    };
    if let Some(test) = &data.test {
        let predicted = net.predict_samples(test);
        let cm = common::report("test", test, &predicted);
        outcome.test_accuracy = Some(cm.accuracy());
        outcome.confusion = Some(cm);
        outcome.wrong = common::misclassified(test, &predicted, 100);
    } else {
        say!("no test set: pass --data DIR with t10k-* files to measure test accuracy");
        if let Some(v) = data.shown() {
            outcome.wrong = common::misclassified(v, &net.predict_samples(v), 100);
        }
    }
    outcome
}
