//! The training loop as the user watches it: a progress bar on a terminal, a line per
//! epoch, a checkpoint after each with `--checkpoint`, and an end with `--stop-after`.

use crate::common::Failure;
use crate::resume;
use crate::settings::Settings;
use crate::setup::Data;
use simplenn::progress::{Progress, format_count};
use simplenn::{EpochStats, History, Network, Schedule, TrainEvent, Training};

/// Trains `net` to the end of `training`. Returns the history, or `None` when
/// `--stop-after` ended the process early. A failure is reported with the effective step
/// size and the default recipe's, which is what a divergence wants (a checkpoint that cannot
/// be saved gets them too).
pub fn train(
    net: &mut Network,
    training: Training,
    data: &Data,
    s: &Settings,
) -> Result<Option<History>, Failure> {
    epochs_with_progress(net, training, data, s).map_err(|e| {
        let (lr, mu) = (s.config.learning_rate, s.config.optimiser.momentum());
        Failure::Diverged(format!(
            "{e}.\nWith --lr {lr} and --momentum {mu} the effective step is {}; the default \
             recipe's --lr 0.05 --momentum 0.9 makes 0.5.",
            (lr / (1.0 - mu) * 1e6).round() / 1e6
        ))
    })
}

/// Trains, drawing a progress bar on a terminal and printing one line per epoch; with
/// `--checkpoint`, saves the run after every epoch.
fn epochs_with_progress(
    net: &mut Network,
    mut training: Training,
    data: &Data,
    s: &Settings,
) -> Result<Option<History>, Failure> {
    let epochs = s.config.epochs;
    let width = epochs.to_string().len();
    let show_rate = s.config.schedule != Schedule::Constant || s.config.warmup_epochs > 0;
    let mut bar: Option<Progress> = None;
    let mut trained = 0;
    let train = &data.train;
    let note = resume::checkpoint_note(&s.run_args, train);
    loop {
        let epoch =
            training.next_epoch(net, train, data.validation_set(), |event| match event {
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
