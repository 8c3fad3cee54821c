//! The network: the shape of a sample, activations, softmax and its loss, the layers, the
//! stack of them with its forward pass and backpropagation, architectures as text, and the
//! textbook versions read first.

pub mod activation;
pub mod arch;
pub mod builder;
pub mod layer;
pub mod loss;
pub mod network;
pub mod shape;
pub mod textbook;
