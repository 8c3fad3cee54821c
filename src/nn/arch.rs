//! Architectures written as text: `conv5:16,pool2,conv5:32,pool2,dense128`, the form the
//! `train` example's `--arch` flag takes.
//!
//! A description is a comma-separated list of hidden layers, input side first; the dense
//! output layer (one unit per class, then softmax) is always added after them. Each token is
//! one layer:
//!
//! | token | layer |
//! | --- | --- |
//! | `denseN` | a dense layer of `N` units |
//! | `convK:C` | a convolution with `C` kernels of `K × K`, stride 1, "same" padding |
//! | `poolK` (or `maxpoolK`) | max-pooling over `K × K` windows |
//! | `bn` (or `batchnorm`) | batch normalisation of every channel |
//!
//! A dense layer, a convolution or a batch normalisation may add options, each after a
//! colon, in any order: an activation (`relu`, the default for dense layers and
//! convolutions, `sigmoid`, `tanh` or `identity`, the default for `bn`); for a convolution also
//! a stride `sN` and a padding, `same`, `valid` or `pN` (N pixels). So `conv3:32:s2:valid`
//! is 32 kernels of 3 × 3 moving 2 pixels at a time with no padding, and `dense64:tanh` a
//! dense layer of 64 tanh units. `none` (or an empty string) is no hidden layer at all, and
//! case does not matter.
//!
//! ```
//! use simplenn::{Activation, arch};
//! use simplenn::layer::Padding;
//! use simplenn::builder::LayerSpec;
//!
//! let layers = arch::parse("conv5:16,pool2,dense128:tanh").unwrap();
//! assert_eq!(layers[0], LayerSpec::Conv2d {
//!     channels: 16, kernel: 5, stride: 1, padding: Padding::Same, activation: Activation::Relu,
//! });
//! assert_eq!(layers[1], LayerSpec::MaxPool2d { size: 2 });
//! assert_eq!(layers[2], LayerSpec::Dense { units: 128, activation: Activation::Tanh });
//! assert_eq!(arch::describe(&layers), "conv5:16,pool2,dense128:tanh");
//!
//! let err = arch::parse("conv5:16,pool,dense128").unwrap_err();
//! assert_eq!(err.layer(), 1);
//! assert!(err.to_string().starts_with("layer 1 'pool': the window size is missing"));
//! ```

use crate::nn::activation::Activation;
use crate::nn::builder::LayerSpec;
use crate::nn::layer::Padding;
use crate::nn::shape::{Shape, ShapeError};
use std::fmt;

/// Why an architecture is not a network: which layer, and what is wrong with it. Reading a
/// description ([`parse`]), building a network
/// ([`NetworkBuilder`](crate::nn::builder::NetworkBuilder)) and stacking ready-made layers
/// ([`Network::try_from_layers`](crate::nn::network::Network::try_from_layers)) all report
/// this.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadArchitecture(Box<Details>);

#[derive(Clone, Debug, PartialEq, Eq)]
struct Details {
    layer: usize,
    token: Option<String>,
    problem: Problem,
}

impl BadArchitecture {
    /// The problem `problem` at `layer`, written as `token` in a description if it was read
    /// from one.
    pub fn new(layer: usize, token: Option<String>, problem: Problem) -> Self {
        BadArchitecture(Box::new(Details {
            layer,
            token,
            problem,
        }))
    }

    /// The layer, counted from 0 on the input side: in a description, its token counted
    /// from 0 (the output layer comes after the last).
    pub fn layer(&self) -> usize {
        self.0.layer
    }

    /// The layer as a description wrote it, when the problem was found reading one.
    pub fn token(&self) -> Option<&str> {
        self.0.token.as_deref()
    }

    /// What is wrong.
    pub fn problem(&self) -> &Problem {
        &self.0.problem
    }
}

/// What is wrong with a layer of a [`BadArchitecture`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Problem {
    /// The text is not a layer: an unknown kind, a number missing or out of range, an
    /// unknown option.
    Syntax(String),
    /// The layer does not fit the shape it receives.
    Shape {
        /// The shape of one sample arriving at the layer.
        input: Shape,
        /// Why the layer cannot read it.
        error: ShapeError,
    },
    /// The layer below gives a shape this layer does not take.
    Chain {
        /// The layer below, as `Debug` prints it.
        below: String,
        /// The shape it gives.
        gives: Shape,
        /// This layer, as `Debug` prints it.
        above: String,
        /// The shape it takes.
        takes: Shape,
    },
    /// There is nothing to build on: no layers, or inputs of no size.
    Empty(String),
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Syntax(m) | Problem::Empty(m) => f.write_str(m),
            Problem::Shape { input, error } => write!(f, "on its input of {input}, {error}"),
            Problem::Chain {
                below,
                gives,
                above,
                takes,
            } => write!(f, "{below} gives {gives}, but {above} takes {takes}"),
        }
    }
}

impl fmt::Display for BadArchitecture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "layer {}", self.layer())?;
        if let Some(token) = self.token() {
            write!(f, " '{token}'")?;
        }
        write!(f, ": {}", self.problem())?;
        if let Problem::Syntax(_) = self.problem() {
            f.write_str(
                " (write denseN, convK:C or poolK, separated by commas, e.g. \
                 conv5:16,pool2,conv5:32,pool2,dense128)",
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for BadArchitecture {}

/// The largest kernel, pooling window, stride, padding or layer width a description may
/// ask for: far beyond anything that trains, small enough that no arithmetic on them
/// overflows before the network's shape checks can refuse them.
pub const MAX_SIZE: usize = 1 << 20;

/// Reads a description (see the [module documentation](self)) into the hidden layers it
/// names.
///
/// # Errors
/// [`BadArchitecture`], naming the first token that is not a layer.
pub fn parse(text: &str) -> Result<Vec<LayerSpec>, BadArchitecture> {
    let text = text.trim();
    if text.is_empty() || text.eq_ignore_ascii_case("none") {
        return Ok(Vec::new());
    }
    text.split(',')
        .enumerate()
        .map(|(i, token)| parse_token(token.trim(), i))
        .collect()
}

/// One token, as [`parse`] reads it.
fn parse_token(token: &str, layer: usize) -> Result<LayerSpec, BadArchitecture> {
    let bad = |reason: String| {
        BadArchitecture::new(layer, Some(token.to_string()), Problem::Syntax(reason))
    };
    let lower = token.to_ascii_lowercase();
    let mut parts = lower.split(':');
    let head = parts.next().unwrap_or_default();
    let options: Vec<&str> = parts.collect();
    let number = |digits: &str, what: &str| -> Result<usize, BadArchitecture> {
        match digits.parse::<usize>() {
            Ok(n) if (1..=MAX_SIZE).contains(&n) => Ok(n),
            Ok(_) => Err(bad(format!("{what} must be from 1 to {MAX_SIZE}"))),
            Err(_) if digits.is_empty() => Err(bad(format!("{what} is missing"))),
            Err(_) => Err(bad(format!("{what} '{digits}' is not a whole number"))),
        }
    };
    if let Some(units) = head.strip_prefix("dense") {
        let units = number(units, "the number of units")?;
        let mut activation = Activation::Relu;
        for option in options {
            activation = option.parse().map_err(|_| {
                bad(format!(
                    "'{option}' is not an activation (relu, sigmoid, tanh, identity)"
                ))
            })?;
        }
        Ok(LayerSpec::Dense { units, activation })
    } else if let Some(kernel) = head.strip_prefix("conv") {
        let kernel = number(kernel, "the kernel size")?;
        let Some((channels, options)) = options.split_first() else {
            return Err(bad(
                "the number of channels is missing: write convK:C".to_string()
            ));
        };
        let channels = number(channels, "the number of channels")?;
        let (mut stride, mut padding, mut activation) = (1, Padding::Same, Activation::Relu);
        for &option in options {
            if let Some(s) = option
                .strip_prefix('s')
                .filter(|s| s.starts_with(|c: char| c.is_ascii_digit()))
            {
                stride = number(s, "the stride")?;
            } else if let Some(p) = option
                .strip_prefix('p')
                .filter(|p| p.starts_with(|c: char| c.is_ascii_digit()))
            {
                padding = match p.parse::<usize>() {
                    Ok(p) if p <= MAX_SIZE => Padding::Pixels(p),
                    _ => return Err(bad(format!("padding '{p}' must be from 0 to {MAX_SIZE}"))),
                };
            } else if option == "same" {
                padding = Padding::Same;
            } else if option == "valid" {
                padding = Padding::Valid;
            } else if let Ok(a) = option.parse() {
                activation = a;
            } else {
                return Err(bad(format!(
                    "'{option}' is not a convolution option (sN for a stride, same, valid or pN \
                     for the padding, or an activation)"
                )));
            }
        }
        if padding == Padding::Same && kernel % 2 == 0 {
            return Err(bad(format!(
                "'same' padding needs an odd kernel size; give :valid or :pN for a {kernel}×{kernel} kernel"
            )));
        }
        Ok(LayerSpec::Conv2d {
            channels,
            kernel,
            stride,
            padding,
            activation,
        })
    } else if let Some(size) = head
        .strip_prefix("maxpool")
        .or_else(|| head.strip_prefix("pool"))
    {
        let size = number(size, "the window size")?;
        if !options.is_empty() {
            return Err(bad("pooling takes no options".to_string()));
        }
        Ok(LayerSpec::MaxPool2d { size })
    } else if head == "bn" || head == "batchnorm" {
        let mut activation = Activation::Identity;
        for option in options {
            activation = option.parse().map_err(|_| {
                bad(format!(
                    "'{option}' is not an activation (relu, sigmoid, tanh, identity)"
                ))
            })?;
        }
        Ok(LayerSpec::BatchNorm { activation })
    } else {
        Err(bad("unknown layer".to_string()))
    }
}

/// The description of `layers` in the form [`parse`] reads, options at their defaults left
/// out: `conv5:16,pool2,dense128`.
pub fn describe(layers: &[LayerSpec]) -> String {
    if layers.is_empty() {
        return "none".to_string();
    }
    let tokens: Vec<String> = layers
        .iter()
        .map(|layer| match *layer {
            LayerSpec::Dense { units, activation } => {
                format!("dense{units}{}", activation_suffix(activation))
            }
            LayerSpec::Conv2d {
                channels,
                kernel,
                stride,
                padding,
                activation,
            } => {
                let mut token = format!("conv{kernel}:{channels}");
                if stride != 1 {
                    token += &format!(":s{stride}");
                }
                match padding {
                    Padding::Same => {}
                    Padding::Valid => token += ":valid",
                    Padding::Pixels(p) => token += &format!(":p{p}"),
                }
                token + &activation_suffix(activation)
            }
            LayerSpec::MaxPool2d { size } => format!("pool{size}"),
            LayerSpec::BatchNorm {
                activation: Activation::Identity,
            } => "bn".to_string(),
            LayerSpec::BatchNorm { activation } => format!("bn:{}", activation.name()),
        })
        .collect();
    tokens.join(",")
}

fn activation_suffix(activation: Activation) -> String {
    if activation == Activation::Relu {
        String::new()
    } else {
        format!(":{}", activation.name())
    }
}
