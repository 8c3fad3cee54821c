//! Backpropagation and the training loop as a textbook writes them, for reading first.
//!
//! [`Network::loss_and_gradients`] and [`Network::fit`] carry everything a real run needs
//! (reused buffers, dropout, label smoothing, augmentation, schedules, momentum, threads,
//! convolutions). These functions have none of it: a dense network, plain gradient descent,
//! the equations of the book's chapters "Backpropagation" and "Training" line for line. They
//! compute the same bits all the same (`tests/textbook.rs` holds them to it):
//!
//! ```
//! use simplenn::{Activation, Matrix, Network, textbook};
//!
//! let mut net: Network<f64> = Network::builder(2).hidden(3, Activation::Relu).output(2).build();
//! let x = Matrix::from_rows(&[[0.5, -1.0], [1.0, 2.0]]);
//! let labels = [0, 1];
//! let (loss, grads) = textbook::backprop(&net, &x, &labels);
//! assert_eq!((loss, grads.clone()), net.loss_and_gradients(&x, &labels)); // the same bits
//! textbook::step(&mut net, &grads, 0.1);
//! assert!(net.loss(&x, &labels) < loss);
//! ```

use crate::blocks::matrix::Matrix;
use crate::blocks::rng::Rng;
use crate::float::Float;
use crate::nn::activation::Activation;
use crate::nn::layer::{Dense, LayerGradients, LayerKind};
use crate::nn::loss::softmax_cross_entropy;
use crate::nn::network::{Gradients, Network};

// ANCHOR: backprop
/// The mean loss of `net` on the batch `x` (one sample per row) with these `labels`, and its
/// gradient with respect to every weight and bias, by backpropagation.
///
/// # Panics
/// If `x` or `labels` do not fit the network (see [`Network::evaluate`]), or the network
/// has a layer that is not dense or an output layer whose activation is not the identity.
pub fn backprop<T: Float>(
    net: &Network<T>,
    x: &Matrix<T>,
    labels: &[usize],
) -> (f64, Gradients<T>) {
    let layers = dense_layers(net);

    // Forward, keeping every layer's output: a[0] is the batch, a[l + 1] is layer l's
    // output, and the last one holds the logits.
    let mut a = vec![x.clone()];
    for layer in &layers {
        let mut z = a[a.len() - 1].matmul(layer.weights()); // z = a·W
        z.add_row(layer.bias()); //                             + b
        z.map_inplace(|v| layer.activation().apply(v)); //      a = σ(z)
        a.push(z);
    }

    // The output layer's error: δᴸ = (softmax(zᴸ) − Y) / m.
    let (loss, mut delta) = softmax_cross_entropy(&a[layers.len()], labels);

    // Backward, from the last layer to the first.
    let mut grads = Vec::with_capacity(layers.len());
    for l in (0..layers.len()).rev() {
        let input = &a[l]; // what layer l read: aˡ⁻¹ in the book's numbering
        let weights = input.t_matmul(&delta); // ∂L/∂Wˡ = (aˡ⁻¹)ᵀ·δˡ
        let bias = delta.column_sums(); //         ∂L/∂bˡ = Σᵢ δˡ
        if l > 0 {
            // δˡ⁻¹ = (δˡ·Wˡᵀ) ⊙ σ′(zˡ⁻¹), with σ′ read off the layer below's output.
            let mut back = delta.matmul_t(layers[l].weights());
            let below = layers[l - 1].activation();
            for (g, &out) in back.as_mut_slice().iter_mut().zip(input.as_slice()) {
                *g *= below.derivative_from_output(out);
            }
            delta = back;
        }
        grads.push(LayerGradients { weights, bias });
    }
    grads.reverse(); // they were found last layer first
    (loss, Gradients { layers: grads })
}
// ANCHOR_END: backprop

/// The network's layers, each of which must be dense, the last with the identity (the
/// output layer of every network the builder makes): the textbook's `δᴸ` is the loss's
/// gradient itself.
fn dense_layers<T: Float>(net: &Network<T>) -> Vec<&Dense<T>> {
    let message = "textbook::backprop reads dense networks only";
    let layers: Vec<&Dense<T>> = net
        .layers()
        .iter()
        .map(|layer| layer.as_dense().expect(message))
        .collect();
    let output = layers[layers.len() - 1].activation();
    assert!(
        output == Activation::Identity,
        "textbook::backprop reads networks whose output layer is the identity, not {output}"
    );
    layers
}

// ANCHOR: step
/// One step of plain gradient descent: every parameter moves against its gradient,
/// `θ ← θ − η·g`.
///
/// # Panics
/// If `grads` is not shaped like `net`'s parameters.
pub fn step<T: Float>(net: &mut Network<T>, grads: &Gradients<T>, learning_rate: T) {
    assert_eq!(
        grads.layers.len(),
        net.layers().len(),
        "textbook::step: gradients for {} layers, the network has {}",
        grads.layers.len(),
        net.layers().len()
    );
    for (layer, g) in net.layers_mut().iter_mut().zip(&grads.layers) {
        let Some((weights, bias)) = layer.params_mut() else {
            continue; // pooling has nothing to learn
        };
        let weights = weights.as_mut_slice();
        assert_eq!(
            weights.len(),
            g.weights.len(),
            "textbook::step: weight shapes differ"
        );
        for (w, &gw) in weights.iter_mut().zip(g.weights.as_slice()) {
            *w -= learning_rate * gw;
        }
        for (b, &gb) in bias.iter_mut().zip(&g.bias) {
            *b -= learning_rate * gb;
        }
    }
}
// ANCHOR_END: step

// ANCHOR: fit
/// Trains `net` by mini-batch gradient descent: every epoch shuffles the samples, cuts
/// them into batches of `batch_size` (the last one may be smaller) and takes one
/// [`step`] per batch. Returns each epoch's mean training loss, every batch's loss
/// measured before its own step.
///
/// # Panics
/// If `batch_size` is 0, or the data do not fit the network.
pub fn fit<T: Float>(
    net: &mut Network<T>,
    x: &Matrix<T>,
    labels: &[usize],
    epochs: usize,
    batch_size: usize,
    learning_rate: f64,
    seed: u64,
) -> Vec<f64> {
    assert!(
        batch_size > 0,
        "textbook::fit: a batch needs at least one sample"
    );
    let mut rng = Rng::new(seed);
    let mut order: Vec<usize> = (0..x.rows()).collect();
    let mut losses = Vec::with_capacity(epochs);
    for _epoch in 0..epochs {
        rng.shuffle(&mut order); // a new order every epoch
        let mut total = 0.0;
        for batch in order.chunks(batch_size) {
            let batch_x = x.select_rows(batch);
            let batch_labels: Vec<usize> = batch.iter().map(|&i| labels[i]).collect();
            let (loss, grads) = backprop(net, &batch_x, &batch_labels);
            step(net, &grads, T::from_f64(learning_rate));
            total += loss * batch.len() as f64;
        }
        losses.push(total / x.rows().max(1) as f64);
    }
    losses
}
// ANCHOR_END: fit
