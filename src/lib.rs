//! # simplenn
//!
//! A neural network built from scratch in Rust with nothing but the standard library, and
//! trained on MNIST's handwritten digits: the [`Matrix`] type, the matrix products, the
//! random number generator, softmax, backpropagation and the optimisers are all here, each
//! in a module named for the idea and short enough to read in one sitting. It has no
//! dependencies, and its gradients are checked against finite differences.
//!
//! It began as a NumPy project, a 784-10-10 network trained by full-batch gradient descent
//! ([`preset::original`] reproduces it: 85–86% on MNIST's test set from 10,000 training
//! digits). The default recipe, [`preset::recommended`], reaches 98.4% on the same data.
//!
//! ## Try it
//!
//! From a clone of the repository, which carries 10,000 MNIST digits so that nothing needs
//! downloading:
//!
//! ```sh
//! cargo run --release --example train   # train the default network, epoch by epoch
//! cargo test                            # every test: gradient checks, parsers, training
//! ```
//!
//! ## The book
//!
//! The repository's `book/` is an mdBook that teaches the forward pass, backpropagation,
//! softmax's numerics, gradient checking and training alongside this code, with every
//! listing included from the source: `cargo install mdbook && mdbook serve book`, then
//! open <http://localhost:3000>. It needs no network once mdBook is installed.
//!
//! ## A network in a few lines
//!
//! ```
//! use simplenn::{Activation, Batch, Matrix, Network, TrainConfig};
//!
//! // Two clusters of points, one per class.
//! let x = Matrix::<f32>::from_rows(&[[0.0, 0.1], [0.2, 0.0], [0.9, 1.0], [1.0, 0.8]]);
//! let labels = [0, 0, 1, 1];
//!
//! let mut net = Network::builder(2)
//!     .hidden(4, Activation::Relu)
//!     .output(2)
//!     .seed(42)              // same seed, same network, on every platform
//!     .build();
//! let config = TrainConfig { epochs: 100, batch: Batch::Full, ..TrainConfig::default() };
//! let history = net.fit(&x, &labels, &config).expect("training diverged");
//!
//! assert_eq!(net.predict(&x), labels);
//! assert_eq!(net.evaluate(&x, &labels).accuracy, 1.0);
//! println!("final loss {:.4}", history.last().unwrap().loss);
//! ```
//!
//! ## Map of the crate
//!
//! The source folders follow the book's parts; every module is re-exported here.
//!
//! | folder | module | idea |
//! | --- | --- | --- |
//! | `blocks/` | [`matrix`] | [`Matrix`]: dense, row-major, one sample per row |
//! | | [`matmul`] | the three matrix products backprop needs: reference, blocked, packed SIMD |
//! | | [`rng`] | [`Rng`]: seeded xorshift64*, uniform and normal samples, shuffling |
//! | | [`init`] | [`Init`]: where the weights start (original, Xavier, He) |
//! | `nn/` | [`shape`] | [`Shape`]: height × width × channels, stored channels last |
//! | | [`activation`] | [`Activation`]: ReLU, sigmoid, tanh, identity and their derivatives |
//! | | [`loss`] | softmax and cross-entropy, fused and numerically stable |
//! | | [`layer`] | [`LayerKind`], what every layer does, and its kinds: [`Dense`], [`Conv2d`], [`MaxPool2d`], [`BatchNorm`], a file each with its forward pass, backward pass and activation |
//! | | [`network`] | [`Network`]: the stack of layers, the forward pass, backpropagation's one reverse loop |
//! | | [`builder`], [`arch`] | networks described layer by layer, or as text (`conv5:16,pool2,dense128`) |
//! | | [`textbook`] | backpropagation and the training loop in their plainest form, read first |
//! | `train/` | [`train`] | [`TrainConfig`], [`Training`], [`Network::fit`], schedules, [`train::checkpoint`] |
//! | | [`train::optim`] | [`Optimiser`]: SGD with momentum, Adam, AdamW |
//! | | [`preset`] | the original project's recipe, the recommended one, the ladder between them, a CNN |
//! | `data/` | [`samples`], [`dataset`] | labelled samples, as matrices or as bytes |
//! | | [`idx`], [`csv`], [`gzip`], [`crc32`] | MNIST's files, Kaggle's CSV and gzip, read and checked |
//! | | [`augment`] | random shifts, rotations and scalings of training images |
//! | `model/` | [`model`] | saving and loading a trained network; ONNX and safetensors |
//! | `report/` | [`json`], [`plot`], [`progress`], [`confusion`] | JSON, SVG charts, progress bars, confusion matrices |
//! | (top) | [`error`], [`float`] | [`Error`] with its file and place; [`Float`]: `f32` for training, `f64` for gradient checks |
//!
//! Inside the crate, code imports through the folders' paths (`crate::nn::layer`), so the
//! folders are the module tree; the names above are the public ones.
//!
//! ### Adding a kind of layer
//!
//! A network runs its layers through [`LayerKind`] and never asks which kind one is, so a
//! new kind is: one file in `src/nn/layer/` with its struct and `impl LayerKind` (shapes,
//! parameters, `forward_into`, and `backward_into` starting from its own activation); an arm
//! in [`Layer`] and in the `each_kind!` dispatch beside it; if [`LayerSpec`] and
//! [`arch`] should describe it, a variant and a token there; its record in the model file
//! (`src/model/`, a new kind code); and its export to ONNX and safetensors. The compiler
//! finds every `match` left to extend. Test it against a reference written from the
//! definition, as `conv2d::reference` is, and in the gradient checks.
//!
//! ## Panics and errors
//!
//! Passing matrices of incompatible shapes is a programmer error, like indexing out of
//! bounds: such calls panic with a message that names both shapes. Each function documents
//! its panics. What a correct program must still expect is an error value: a data or model
//! file that is damaged or not what it claims gives an [`Error`] naming the file, the
//! offset or line, and what was wrong; training whose loss stops being a number gives a
//! [`Diverged`] naming the epoch, the step and the learning rate.

#![warn(missing_docs)]
// `unsafe` is allowed in two modules only: `matmul::kernels` (the SIMD micro-kernels) and
// `matmul::pool` (the thread pool that runs borrowed closures).
#![deny(unsafe_code)]

// The folders mirror the book's parts; every module is also reachable at the top, as
// `simplenn::matrix`, `simplenn::train` and so on.
mod blocks;
mod data;
pub mod error;
pub mod float;
pub mod model;
mod nn;
mod report;
pub mod train;

pub use blocks::{init, matmul, matrix, rng};
pub use data::{augment, crc32, csv, dataset, gzip, idx, samples};
pub use nn::{activation, arch, builder, layer, loss, network, shape, textbook};
pub use report::{confusion, json, plot, progress};
pub use train::preset;

pub use activation::Activation;
pub use arch::BadArchitecture;
pub use builder::{LayerSpec, NetworkBuilder};
pub use error::{Error, ErrorKind, Location};
pub use float::Float;
pub use init::Init;
pub use layer::{BatchNorm, Conv2d, Dense, Layer, LayerGradients, LayerKind, MaxPool2d, Padding};
pub use matrix::Matrix;
pub use network::{Evaluation, Gradients, Network, Regularisation};
pub use rng::Rng;
pub use shape::{Shape, ShapeError};
pub use train::{
    BadConfig, Batch, Diverged, EpochStats, History, NonFinite, Optimiser, Schedule, TrainConfig,
    TrainEvent, Training,
};

// The README's examples are compiled and run as doctests, so they stay true.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
