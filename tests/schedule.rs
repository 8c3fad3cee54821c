//! Learning-rate schedules and warm-up: `TrainConfig::learning_rate_at` against the closed
//! forms of its documentation, at the points where a mistake would show (the first step, the
//! end of the warm-up, the middle and the end of a cosine, the epochs where a step decay
//! applies), and the shape of the curves (monotone where they should be).

use simplenn::{Batch, Schedule, TrainConfig};
use std::f64::consts::PI;

/// A run of `epochs` epochs of `steps` steps each (batch 10 over `10 · steps` samples).
fn config(epochs: usize, schedule: Schedule, warmup_epochs: usize) -> TrainConfig {
    TrainConfig {
        epochs,
        batch: Batch::Size(10),
        learning_rate: 0.4,
        schedule,
        warmup_epochs,
        ..TrainConfig::default()
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-15 * b.abs().max(1.0)
}

#[test]
fn steps_per_epoch_counts_the_last_partial_batch() {
    let c = config(1, Schedule::Constant, 0);
    assert_eq!(c.steps_per_epoch(100), 10);
    assert_eq!(c.steps_per_epoch(101), 11);
    assert_eq!(c.steps_per_epoch(9), 1);
    let full = TrainConfig {
        batch: Batch::Full,
        ..c
    };
    assert_eq!(full.steps_per_epoch(12345), 1);
}

#[test]
fn constant_without_warmup_is_exactly_the_learning_rate() {
    let c = config(5, Schedule::Constant, 0);
    for t in 0..50 {
        assert_eq!(c.learning_rate_at(t, 10), 0.4, "step {t}");
    }
}

#[test]
fn warmup_climbs_linearly_to_the_full_rate() {
    // 2 warm-up epochs of 5 steps: W = 10 steps, rates η/10, 2η/10, ..., η.
    let c = config(6, Schedule::Constant, 2);
    for t in 0..10 {
        let want = 0.4 * (t + 1) as f64 / 10.0;
        assert!(close(c.learning_rate_at(t, 5), want), "step {t}");
    }
    assert_eq!(
        c.learning_rate_at(9, 5),
        0.4,
        "the last warm-up step reaches η"
    );
    for t in 10..30 {
        assert_eq!(c.learning_rate_at(t, 5), 0.4, "after warm-up, step {t}");
    }
    // Strictly increasing during warm-up, never above η.
    for t in 0..9 {
        assert!(c.learning_rate_at(t + 1, 5) > c.learning_rate_at(t, 5));
    }
}

#[test]
fn step_decay_applies_at_exactly_the_right_epochs() {
    // every 2 epochs, × 0.1; 3 steps per epoch. Epochs (from 1) 1–2 at η, 3–4 at η/10,
    // 5–6 at η/100, 7 at η/1000.
    let c = config(
        7,
        Schedule::Step {
            every: 2,
            factor: 0.1,
        },
        0,
    );
    let per_epoch = [1.0, 1.0, 0.1, 0.1, 0.01, 0.01, 0.001];
    for (e, factor) in per_epoch.iter().enumerate() {
        for s in 0..3 {
            let t = 3 * e + s;
            let got = c.learning_rate_at(t, 3);
            assert!(close(got, 0.4 * factor), "epoch {}, step {t}: {got}", e + 1);
        }
    }
    // The rate changes between steps 5 and 6, and only where an epoch begins.
    let changes: Vec<usize> = (1..21)
        .filter(|&t| c.learning_rate_at(t, 3) != c.learning_rate_at(t - 1, 3))
        .collect();
    assert_eq!(changes, [6, 12, 18]);
}

#[test]
fn step_decay_multiplies_the_warmup() {
    // Warm-up over epoch 1 (4 steps), decay ×0.5 from epoch 2: the warm-up ramps to η,
    // then the step schedule takes over.
    let c = config(
        3,
        Schedule::Step {
            every: 1,
            factor: 0.5,
        },
        1,
    );
    let rates: Vec<f64> = (0..12).map(|t| c.learning_rate_at(t, 4)).collect();
    let want = [0.1, 0.2, 0.3, 0.4, 0.2, 0.2, 0.2, 0.2, 0.1, 0.1, 0.1, 0.1];
    for (t, (&got, &w)) in rates.iter().zip(&want).enumerate() {
        assert!(close(got, w), "step {t}: {got} vs {w}");
    }
}

/// η · (m + (1 − m) · ½(1 + cos πp)): the documented curve, written out again here.
fn cosine(eta: f64, m: f64, p: f64) -> f64 {
    eta * (m + (1.0 - m) * 0.5 * (1.0 + (PI * p).cos()))
}

#[test]
fn cosine_matches_its_closed_form_at_start_middle_and_end() {
    for m in [0.0, 0.1] {
        // 10 epochs of 4 steps, no warm-up: T = 40, p = t/40.
        let c = config(10, Schedule::Cosine { min_fraction: m }, 0);
        assert_eq!(c.learning_rate_at(0, 4), 0.4, "cos 0 = 1: the full rate");
        assert!(close(
            c.learning_rate_at(20, 4),
            0.4 * (m + (1.0 - m) * 0.5)
        ));
        assert!(close(
            c.learning_rate_at(10, 4),
            0.4 * (m + (1.0 - m) * 0.5 * (1.0 + 0.5f64.sqrt()))
        ));
        let last = c.learning_rate_at(39, 4);
        assert!(close(last, cosine(0.4, m, 39.0 / 40.0)));
        // One step short of the end, so just above the floor: the last step is not wasted.
        assert!(last > 0.4 * m && last < 0.4 * m + 0.4 * 0.002, "{last}");
    }
}

#[test]
fn cosine_after_warmup_starts_at_the_full_rate() {
    // 2 warm-up epochs of 5 steps (W = 10), 12 epochs (T = 60): p = (t − 10)/50.
    let c = config(12, Schedule::Cosine { min_fraction: 0.0 }, 2);
    assert!(close(c.learning_rate_at(0, 5), 0.04));
    assert_eq!(c.learning_rate_at(9, 5), 0.4, "end of warm-up");
    assert_eq!(c.learning_rate_at(10, 5), 0.4, "start of the cosine");
    assert!(close(c.learning_rate_at(35, 5), 0.2), "middle: p = ½");
    assert!(close(
        c.learning_rate_at(59, 5),
        cosine(0.4, 0.0, 49.0 / 50.0)
    ));
}

#[test]
fn cosine_never_rises_and_stays_between_floor_and_peak() {
    for (m, warmup) in [(0.0, 0), (0.05, 3), (1.0, 1)] {
        let c = config(20, Schedule::Cosine { min_fraction: m }, warmup);
        let s = 7;
        let rates: Vec<f64> = (warmup * s..20 * s)
            .map(|t| c.learning_rate_at(t, s))
            .collect();
        for pair in rates.windows(2) {
            assert!(pair[1] <= pair[0], "m = {m}: {pair:?}");
        }
        for &r in &rates {
            assert!(r >= 0.4 * m && r <= 0.4, "m = {m}: {r}");
        }
        if m == 1.0 {
            assert!(rates.iter().all(|&r| r == 0.4), "a floor of 1 is constant");
        }
    }
}

#[test]
fn bad_schedules_are_refused_by_name() {
    let ok = config(10, Schedule::Constant, 0);
    assert!(ok.validate().is_ok());
    let bad = [
        (
            Schedule::Step {
                every: 0,
                factor: 0.5,
            },
            0,
            "every",
        ),
        (
            Schedule::Step {
                every: 2,
                factor: 0.0,
            },
            0,
            "factor",
        ),
        (
            Schedule::Step {
                every: 2,
                factor: 1.5,
            },
            0,
            "factor",
        ),
        (
            Schedule::Step {
                every: 2,
                factor: f64::NAN,
            },
            0,
            "factor",
        ),
        (Schedule::Cosine { min_fraction: -0.1 }, 0, "min_fraction"),
        (Schedule::Cosine { min_fraction: 2.0 }, 0, "min_fraction"),
        (Schedule::Constant, 11, "warmup_epochs"),
    ];
    for (schedule, warmup_epochs, name) in bad {
        let c = TrainConfig {
            schedule,
            warmup_epochs,
            ..ok.clone()
        };
        let err = c.validate().unwrap_err();
        assert!(err.to_string().contains(name), "{schedule:?}: {err}");
    }
    // Warm-up over every epoch is allowed: the rate climbs the whole run.
    assert!(config(3, Schedule::Constant, 3).validate().is_ok());
}

#[test]
fn schedules_display_as_the_command_line_writes_them() {
    assert_eq!(Schedule::Constant.to_string(), "constant");
    let step = Schedule::Step {
        every: 5,
        factor: 0.5,
    };
    assert_eq!(step.to_string(), "step:5:0.5");
    assert_eq!(Schedule::Cosine { min_fraction: 0.0 }.to_string(), "cosine");
    assert_eq!(
        Schedule::Cosine { min_fraction: 0.1 }.to_string(),
        "cosine:0.1"
    );
}

#[test]
fn schedules_parse_from_what_they_display() {
    for schedule in [
        Schedule::Constant,
        Schedule::Step {
            every: 3,
            factor: 0.1,
        },
        Schedule::Step {
            every: 1,
            factor: 1.0,
        },
        Schedule::Cosine { min_fraction: 0.0 },
        Schedule::Cosine { min_fraction: 0.05 },
    ] {
        assert_eq!(schedule.to_string().parse(), Ok(schedule));
    }
    assert_eq!(
        " Cosine : 0.5 ".parse(),
        Ok(Schedule::Cosine { min_fraction: 0.5 })
    );
    assert_eq!(
        "cosine:0".parse(),
        Ok(Schedule::Cosine { min_fraction: 0.0 })
    );
}

#[test]
fn bad_schedule_text_is_refused_with_a_reason() {
    for (text, why) in [
        ("", "unknown schedule"),
        ("linear", "unknown schedule"),
        ("constant:1", "wrong number of parts"),
        ("step", "wrong number of parts"),
        ("step:5", "wrong number of parts"),
        ("step:0:0.5", "EVERY"),
        ("step:x:0.5", "EVERY"),
        ("step:5:0", "FACTOR"),
        ("step:5:2", "FACTOR"),
        ("step:5:nan", "FACTOR"),
        ("cosine:-1", "MIN_FRACTION"),
        ("cosine:1.5", "MIN_FRACTION"),
        ("cosine:0.1:2", "wrong number of parts"),
    ] {
        let err = text.parse::<Schedule>().unwrap_err().to_string();
        assert!(
            err.to_string().contains(why) && err.to_string().contains(&format!("'{text}'")),
            "{text}: {err}"
        );
    }
}
