//! [`NetworkBuilder`]: a network described layer by layer ([`LayerSpec`]), then built with
//! its initial parameters drawn from a seed.

use crate::blocks::init::Init;
use crate::blocks::rng::Rng;
use crate::float::Float;
use crate::nn::activation::Activation;
use crate::nn::arch::{BadArchitecture, Problem};
use crate::nn::layer::{BatchNorm, Conv2d, Dense, Layer, LayerKind, MaxPool2d, Padding};
use crate::nn::network::Network;
use crate::nn::shape::{Shape, ShapeError};

/// One layer of a network being described, before its parameters are drawn: what
/// [`NetworkBuilder`] collects and the `train` example's `--arch` flag parses
/// ([`crate::nn::arch`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LayerSpec {
    /// A dense layer of `units` units.
    Dense {
        /// Output units.
        units: usize,
        /// The activation of its output.
        activation: Activation,
    },
    /// A convolution with `channels` kernels of `kernel × kernel`.
    Conv2d {
        /// Output channels: the number of kernels.
        channels: usize,
        /// The kernels' side `k`.
        kernel: usize,
        /// Pixels between two windows.
        stride: usize,
        /// Zero padding around the image.
        padding: Padding,
        /// The activation of its output.
        activation: Activation,
    },
    /// Max-pooling over `size × size` windows, stride `size`.
    MaxPool2d {
        /// The window's side.
        size: usize,
    },
    /// Batch normalisation of every channel of what the layer before gives.
    BatchNorm {
        /// The activation of its output (the identity, unless asked).
        activation: Activation,
    },
}

/// Describes a [`Network`]'s architecture and initialisation; see [`Network::builder`].
#[derive(Clone, Debug)]
pub struct NetworkBuilder<T: Float = f32> {
    input: Shape,
    layers: Vec<LayerSpec>,
    outputs: Option<usize>,
    init: Option<Init>,
    seed: u64,
    _element: std::marker::PhantomData<T>,
}

impl<T: Float> NetworkBuilder<T> {
    /// Starts describing a network whose samples have the `input` shape; see
    /// [`Network::builder_for`].
    pub fn new(input: Shape) -> Self {
        NetworkBuilder {
            input,
            layers: Vec::new(),
            outputs: None,
            init: None,
            seed: 0,
            _element: std::marker::PhantomData,
        }
    }

    /// Adds a hidden dense layer of `units` units with the given activation.
    pub fn hidden(self, units: usize, activation: Activation) -> Self {
        self.layer(LayerSpec::Dense { units, activation })
    }

    /// Adds a convolution with `channels` kernels of `kernel × kernel`, stride 1, "same"
    /// padding (the output as large as the input) and the given activation.
    pub fn conv2d(self, channels: usize, kernel: usize, activation: Activation) -> Self {
        self.layer(LayerSpec::Conv2d {
            channels,
            kernel,
            stride: 1,
            padding: Padding::Same,
            activation,
        })
    }

    /// Adds max-pooling over `size × size` windows.
    pub fn max_pool(self, size: usize) -> Self {
        self.layer(LayerSpec::MaxPool2d { size })
    }

    /// Adds batch normalisation with the given activation after it.
    pub fn batch_norm(self, activation: Activation) -> Self {
        self.layer(LayerSpec::BatchNorm { activation })
    }

    /// Adds any hidden layer.
    pub fn layer(mut self, spec: LayerSpec) -> Self {
        self.layers.push(spec);
        self
    }

    /// Sets the number of classes: the output layer, dense, whose logits go through softmax.
    pub fn output(mut self, classes: usize) -> Self {
        self.outputs = Some(classes);
        self
    }

    /// Uses one initialisation for every layer. Without it, each layer gets the scheme made
    /// for its activation: [`Init::He`] for ReLU, [`Init::Xavier`] for the others
    /// (sigmoid, tanh, and the output layer).
    pub fn init(mut self, init: Init) -> Self {
        self.init = Some(init);
        self
    }

    /// Seeds the random initialisation (default 0). The same seed gives the same network.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Draws the initial parameters and returns the network.
    ///
    /// # Panics
    /// If [`output`](Self::output) was not called, or the layers do not fit together
    /// ([`try_build`](Self::try_build) returns that as an error).
    pub fn build(self) -> Network<T> {
        self.try_build()
            .unwrap_or_else(|e| panic!("NetworkBuilder: {e}"))
    }

    /// Draws the initial parameters and returns the network, or says which layer does not
    /// fit and why: a layer of zero units, a kernel larger than the padded image, a pooling
    /// window larger than the image.
    ///
    /// # Panics
    /// If [`output`](Self::output) was not called: that is a programming error, not a bad
    /// description.
    pub fn try_build(self) -> Result<Network<T>, BadArchitecture> {
        let classes = self
            .outputs
            .expect("NetworkBuilder::build: call .output(classes) to set the output layer");
        if self.input.checked_volume().is_none_or(|v| v == 0) {
            let message = format!("a network needs at least one input, not {}", self.input);
            return Err(BadArchitecture::new(0, None, Problem::Empty(message)));
        }
        let mut rng = Rng::new(self.seed);
        let mut shape = self.input;
        let mut layers = Vec::with_capacity(self.layers.len() + 1);
        let output = LayerSpec::Dense {
            units: classes,
            activation: Activation::Identity,
        };
        for (l, spec) in self.layers.iter().copied().chain([output]).enumerate() {
            let bad = |error: ShapeError| {
                BadArchitecture::new(
                    l,
                    None,
                    Problem::Shape {
                        input: shape,
                        error,
                    },
                )
            };
            let init_for = |activation: Activation| {
                self.init.unwrap_or(match activation {
                    Activation::Relu => Init::He,
                    _ => Init::Xavier,
                })
            };
            let layer: Layer<T> = match spec {
                LayerSpec::Dense { units, activation } => {
                    if units == 0 {
                        return Err(bad(ShapeError::Zero(
                            "a dense layer has zero units".to_string(),
                        )));
                    }
                    let (weights, bias) =
                        init_for(activation).sample(shape.volume(), units, &mut rng);
                    Dense::try_new(weights, bias, activation)
                        .map_err(bad)?
                        .into()
                }
                LayerSpec::Conv2d {
                    channels,
                    kernel,
                    stride,
                    padding,
                    activation,
                } => {
                    let pixels = padding.pixels(kernel).map_err(bad)?;
                    Conv2d::<T>::output_shape_for(shape, channels, kernel, stride, pixels)
                        .map_err(bad)?;
                    let (weights, bias) = init_for(activation).sample_conv(
                        kernel,
                        shape.channels,
                        channels,
                        &mut rng,
                    );
                    Conv2d::new(shape, weights, bias, stride, pixels, activation).into()
                }
                LayerSpec::MaxPool2d { size } => {
                    MaxPool2d::try_new(shape, size).map_err(bad)?.into()
                }
                // No random draws: γ = 1 and β = 0 start it as the identity on its batch.
                LayerSpec::BatchNorm { activation } => {
                    BatchNorm::try_new(shape, activation).map_err(bad)?.into()
                }
            };
            shape = layer.output_shape();
            layers.push(layer);
        }
        Ok(Network::try_from_layers(layers)
            .expect("each layer was built on the one before's output"))
    }
}
