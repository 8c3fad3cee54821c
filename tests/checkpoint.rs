//! Checkpoints: a run stopped after any epoch and continued from its checkpoint ends bit for
//! bit where the uninterrupted run ends, for every optimiser and every random part of
//! training; damaged and foreign checkpoints are clear errors.

use simplenn::samples::{MatrixSamples, Samples};
use simplenn::train::Training;
use simplenn::train::checkpoint::{self, Checkpoint};
use simplenn::{
    Activation, Batch, Float, History, Matrix, Network, Optimiser, Rng, Schedule, Shape,
    TrainConfig,
};

/// 40 random 6×6 "images" in 3 classes, each class brighter in its own third.
fn images(n: usize, seed: u64) -> (Matrix<f32>, Vec<usize>) {
    let mut rng = Rng::new(seed);
    let labels: Vec<usize> = (0..n).map(|i| i % 3).collect();
    let x = Matrix::from_fn(n, 36, |r, c| {
        let band = (c % 6) / 2;
        let base = if band == labels[r] { 0.7 } else { 0.1 };
        (base + 0.3 * rng.next_f64()) as f32
    });
    (x, labels)
}

fn mlp() -> Network<f32> {
    Network::builder(36)
        .hidden(10, Activation::Relu)
        .output(3)
        .seed(4)
        .build()
}

fn cnn() -> Network<f32> {
    Network::builder_for(Shape::image(6, 6, 1))
        .conv2d(3, 3, Activation::Relu)
        .max_pool(2)
        .hidden(8, Activation::Tanh)
        .output(3)
        .seed(4)
        .build()
}

fn without_seconds(mut h: History) -> History {
    for e in &mut h.epochs {
        e.seconds = 0.0;
    }
    h
}

/// Trains `config` straight through, and again stopping after every possible epoch,
/// saving a checkpoint, reading it back and continuing: all must end identical.
fn check_resume_is_exact(make: fn() -> Network<f32>, config: &TrainConfig) {
    let (x, y) = images(40, 1);
    let train = MatrixSamples::new(&x, &y).with_image_shape(6, 6);
    let (vx, vy) = images(12, 2);
    let validation = MatrixSamples::new(&vx, &vy);
    let validation: Option<&dyn Samples<f32>> = Some(&validation);

    let mut straight = make();
    let mut run = Training::new(&straight, config, 40);
    while run
        .next_epoch(&mut straight, &train, validation, |_| {})
        .unwrap()
        .is_some()
    {}
    let straight_history = without_seconds(run.finish(&mut straight));
    assert_eq!(straight_history.epochs.len(), config.epochs);

    for stop in 1..config.epochs {
        let mut net = make();
        let mut run = Training::new(&net, config, 40);
        for _ in 0..stop {
            run.next_epoch(&mut net, &train, validation, |_| {})
                .unwrap();
        }
        let bytes = checkpoint::to_bytes(&net, &run, "note").unwrap();
        drop((net, run));
        let Checkpoint {
            mut network,
            training: mut run,
            note,
        } = checkpoint::from_bytes(&bytes).unwrap();
        assert_eq!(note, "note");
        assert_eq!(run.epochs_done(), stop);
        // A checkpoint of the resumed run is the same file: nothing was lost on the way.
        assert_eq!(checkpoint::to_bytes(&network, &run, "note").unwrap(), bytes);
        while run
            .next_epoch(&mut network, &train, validation, |_| {})
            .unwrap()
            .is_some()
        {}
        let history = without_seconds(run.finish(&mut network));
        assert_eq!(network, straight, "{config:?}: stopped after epoch {stop}");
        assert_eq!(history, straight_history, "stopped after epoch {stop}");
    }
}

#[test]
fn sgd_with_momentum_shifts_dropout_and_keep_best_resume_exactly() {
    let config = TrainConfig {
        epochs: 5,
        batch: Batch::Size(7),
        learning_rate: 0.05,
        schedule: Schedule::Cosine { min_fraction: 0.0 },
        weight_decay: 1e-3,
        label_smoothing: 0.1,
        dropout: 0.2,
        shift: 1,
        keep_best: true,
        seed: 9,
        ..TrainConfig::default()
    };
    check_resume_is_exact(mlp, &config);
}

#[test]
fn elastic_distortion_resumes_exactly_and_is_written_as_version_2() {
    let config = TrainConfig {
        epochs: 4,
        batch: Batch::Size(8),
        rotation: 5.0,
        elastic: Some(simplenn::train::Elastic {
            alpha: 8.0,
            sigma: 1.5,
        }),
        seed: 5,
        ..TrainConfig::default()
    };
    check_resume_is_exact(cnn, &config);
    let net = cnn();
    let run = Training::new(&net, &config, 40);
    let bytes = checkpoint::to_bytes(&net, &run, "").unwrap();
    assert_eq!(u32::from_le_bytes(bytes[8..12].try_into().unwrap()), 2);
}

#[test]
fn adam_and_adamw_with_warps_resume_exactly_through_convolutions() {
    for optimiser in [Optimiser::ADAM, Optimiser::ADAMW] {
        let config = TrainConfig {
            epochs: 4,
            batch: Batch::Size(8),
            learning_rate: 0.01,
            optimiser,
            weight_decay: 0.01,
            shift: 1,
            rotation: 10.0,
            scale: 0.1,
            patience: Some(3),
            seed: 3,
            ..TrainConfig::default()
        };
        check_resume_is_exact(cnn, &config);
    }
}

#[test]
fn plain_full_batch_descent_resumes_exactly() {
    let config = TrainConfig {
        epochs: 4,
        batch: Batch::Full,
        optimiser: Optimiser::sgd(0.0),
        ..TrainConfig::default()
    };
    check_resume_is_exact(mlp, &config);
}

#[test]
fn an_f64_run_resumes_exactly_and_keeps_its_width() {
    let (x, y) = images(20, 1);
    let x64 = Matrix::<f64>::from_fn(20, 36, |r, c| f64::from(x[(r, c)]) + 1e-12);
    let data = MatrixSamples::new(&x64, &y);
    let make = || -> Network<f64> {
        Network::builder(36)
            .hidden(5, Activation::Tanh)
            .output(3)
            .seed(1)
            .build()
    };
    let config = TrainConfig {
        epochs: 3,
        batch: Batch::Size(6),
        optimiser: Optimiser::ADAM,
        learning_rate: 0.01,
        ..TrainConfig::default()
    };
    let mut straight = make();
    straight.fit(&x64, &y, &config).unwrap();
    let mut net = make();
    let mut run = Training::new(&net, &config, 20);
    run.next_epoch(&mut net, &data, None, |_| {}).unwrap();
    let bytes = checkpoint::to_bytes(&net, &run, "").unwrap();
    assert!(
        checkpoint::from_bytes::<f32>(&bytes)
            .unwrap_err()
            .to_string()
            .contains("8-byte")
    );
    let mut c = checkpoint::from_bytes::<f64>(&bytes).unwrap();
    while c
        .training
        .next_epoch(&mut c.network, &data, None, |_| {})
        .unwrap()
        .is_some()
    {}
    c.training.finish(&mut c.network);
    assert_eq!(c.network, straight);
}

/// A small checkpoint to damage: an Adam CNN run after one epoch.
fn sample_checkpoint() -> Vec<u8> {
    let (x, y) = images(10, 1);
    let train = MatrixSamples::new(&x, &y);
    let mut net = cnn();
    let config = TrainConfig {
        epochs: 3,
        batch: Batch::Size(4),
        optimiser: Optimiser::ADAM,
        learning_rate: 0.01,
        ..TrainConfig::default()
    };
    let mut run = Training::new(&net, &config, 10);
    run.next_epoch(&mut net, &train, None, |_| {}).unwrap();
    checkpoint::to_bytes(&net, &run, "a note").unwrap()
}

/// Replaces the CRC so that a deliberate change reaches the checks behind it.
fn with_fixed_crc(mut bytes: Vec<u8>) -> Vec<u8> {
    let n = bytes.len() - 4;
    let crc = simplenn::crc32::crc32(&bytes[..n]);
    bytes[n..].copy_from_slice(&crc.to_le_bytes());
    bytes
}

#[test]
fn every_truncation_and_bit_flip_is_an_error() {
    let bytes = sample_checkpoint();
    assert!(checkpoint::from_bytes::<f32>(&bytes).is_ok());
    let model_len = u64::from_le_bytes(bytes[16..24].try_into().unwrap()) as usize;
    for len in 0..bytes.len() {
        let e = checkpoint::from_bytes::<f32>(&bytes[..len]).expect_err("a truncated checkpoint");
        assert!(e.to_string().contains("checkpoint"), "{len}: {e}");
        // Cut inside the model or right after it: said as such, not as a bad CRC.
        if (24..24 + model_len + 4).contains(&len) {
            assert!(e.to_string().contains("truncated"), "{len}: {e}");
        }
    }
    let mut rng = Rng::new(1);
    for _ in 0..2000 {
        let mut damaged = bytes.clone();
        let bit = rng.below(8 * bytes.len() as u64) as usize;
        damaged[bit / 8] ^= 1 << (bit % 8);
        let e = checkpoint::from_bytes::<f32>(&damaged).expect_err("a flipped bit");
        assert!(e.location().is_some(), "{e}");
    }
}

#[test]
fn foreign_and_inconsistent_files_say_what_is_wrong() {
    let model = simplenn::model::to_bytes(&mlp());
    let e = checkpoint::from_bytes::<f32>(&model)
        .unwrap_err()
        .to_string();
    assert!(e.contains("it is a model file"), "{e}");
    let e = checkpoint::from_bytes::<f32>(b"hello")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("truncated") || e.contains("not a simplenn checkpoint"),
        "{e}"
    );

    let bytes = sample_checkpoint();
    let mut newer = bytes.clone();
    newer[8] = 3;
    let e = checkpoint::from_bytes::<f32>(&newer)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("format version 3; this build reads versions 1 to 2"),
        "{e}"
    );

    // The sample order starts after the model, the settings, the counters and generators:
    // find it as the first of the 10 u32 values that form a permutation of 0..10.
    let order_at = (0..bytes.len() - 40)
        .find(|&at| {
            let mut seen = [false; 10];
            (0..10).all(|k| {
                let v = u32::from_le_bytes(bytes[at + 4 * k..at + 4 * k + 4].try_into().unwrap());
                v < 10 && !std::mem::replace(&mut seen[v as usize], true)
            })
        })
        .expect("the order is in the file");
    let mut repeated = bytes.clone();
    repeated[order_at..order_at + 4].copy_from_slice(&1u32.to_le_bytes());
    repeated[order_at + 4..order_at + 8].copy_from_slice(&1u32.to_le_bytes());
    let e = checkpoint::from_bytes::<f32>(&with_fixed_crc(repeated)).unwrap_err();
    assert!(e.to_string().contains("not a permutation"), "{e}");
    assert_eq!(
        e.location(),
        Some(simplenn::error::Location::Offset(order_at as u64))
    );
    // A sample count of 2^40 cannot fit in the file: refused before allocating.
    let samples_at = order_at - (8 * 3 + 2 + 4 * 17);
    let mut huge = bytes.clone();
    huge[samples_at..samples_at + 8].copy_from_slice(&(1u64 << 40).to_le_bytes());
    let e = checkpoint::from_bytes::<f32>(&with_fixed_crc(huge))
        .unwrap_err()
        .to_string();
    assert!(e.contains("sample count"), "{e}");
}

#[test]
fn saving_is_atomic_and_loading_names_the_file() {
    let dir = std::env::temp_dir().join(format!("simplenn-ckpt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("run.ck");
    let bytes = sample_checkpoint();
    let c = checkpoint::from_bytes::<f32>(&bytes).unwrap();
    checkpoint::save(&path, &c.network, &c.training, &c.note).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
    let loaded: Checkpoint = checkpoint::load(&path).unwrap();
    assert_eq!(loaded.network, c.network);
    std::fs::write(&path, &bytes[..100]).unwrap();
    let e = checkpoint::load::<f32>(&path).unwrap_err().to_string();
    assert!(e.starts_with(&path.display().to_string()), "{e}");
    assert!(f32::NAME == "f32");
    std::fs::remove_dir_all(&dir).unwrap();
}
