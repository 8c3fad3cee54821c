//! `--metrics FILE`: the run as JSON: every setting, every epoch, the final accuracies, the
//! test set's confusion matrix, and how long it took.

use crate::common::{self, Failure, write_file};
use crate::report::Outcome;
use crate::settings::Settings;
use crate::setup::Data;
use simplenn::json::Json;
use simplenn::{Batch, EpochStats, History, Network};
use std::path::Path;

/// Writes the summary to `path` and says so.
pub fn write(
    path: &Path,
    s: &Settings,
    net: &Network,
    data: &Data,
    history: &History,
    outcome: &Outcome,
    seconds: f64,
) -> Result<(), Failure> {
    let json = Json::Object(vec![
        ("config".into(), config_json(s, net, data)),
        (
            "epochs".into(),
            Json::Array(history.epochs.iter().map(epoch_json).collect()),
        ),
        ("best_epoch".into(), history.best_epoch.into()),
        ("stopped_early".into(), history.stopped_early.into()),
        ("train_accuracy".into(), outcome.train_accuracy.into()),
        ("val_accuracy".into(), outcome.val_accuracy.into()),
        ("test_accuracy".into(), outcome.test_accuracy.into()),
        (
            "confusion_matrix".into(),
            outcome
                .confusion
                .as_ref()
                .map_or(Json::Null, common::confusion_json),
        ),
        ("seconds".into(), seconds.into()),
    ]);
    write_file(path, &json.pretty())?;
    say!("wrote metrics to {}", path.display());
    Ok(())
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

/// Every setting of the run, and the sizes of its sets.
fn config_json(s: &Settings, net: &Network, data: &Data) -> Json {
    let c = &s.config;
    Json::Object(
        vec![
            ("data".into(), data.source.as_str().into()),
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
            ("optimizer".into(), c.optimiser.to_string().into()),
            ("momentum".into(), c.optimiser.momentum().into()),
            ("weight_decay".into(), c.weight_decay.into()),
            ("label_smoothing".into(), c.label_smoothing.into()),
            ("dropout".into(), c.dropout.into()),
            ("shift".into(), c.shift.into()),
            ("rotation".into(), c.rotation.into()),
            ("scale".into(), c.scale.into()),
            (
                "elastic".into(),
                match c.elastic {
                    Some(e) => Json::object([("alpha", e.alpha.into()), ("sigma", e.sigma.into())]),
                    None => Json::Null,
                },
            ),
            ("keep_best".into(), c.keep_best.into()),
            ("patience".into(), c.patience.into()),
            ("seed".into(), (c.seed as f64).into()),
            ("threads".into(), s.threads.into()),
            ("val_fraction".into(), s.val_fraction.into()),
            ("train_samples".into(), data.train.len().into()),
            ("val_samples".into(), data.validation.len().into()),
            (
                "test_samples".into(),
                data.test.as_ref().map(|t| t.len()).into(),
            ),
        ])
        .collect(),
    )
}
