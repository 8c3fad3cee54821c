//! The textbook versions of backpropagation and training (`simplenn::textbook`, the ones the
//! book shows first) against the numbers worked by hand in the book, and against the
//! production code, bit for bit.

use simplenn::LayerKind;
use simplenn::{
    Activation, Batch, Dense, Float, Init, Matrix, Network, Optimiser, Rng, Schedule, TrainConfig,
    textbook,
};

/// The 2-3-2 network of the book's worked example (the chapter on backpropagation).
fn worked_example() -> (Network<f64>, Matrix<f64>, Vec<usize>) {
    let hidden = Dense::new(
        Matrix::from_rows(&[[0.1, -0.2, 0.3], [0.4, 0.1, -0.5]]),
        vec![0.0, 0.1, 0.2],
        Activation::Relu,
    );
    let output = Dense::new(
        Matrix::from_rows(&[[0.2, -0.1], [0.5, 0.3], [-0.4, 0.6]]),
        vec![0.05, -0.05],
        Activation::Identity,
    );
    let x = Matrix::from_rows(&[[1.0, 2.0]]);
    (Network::from_layers(vec![hidden, output]), x, vec![1])
}

/// Every entry of `got` within 5·10⁻⁵ of the four-decimal `want`: the book's rounding.
fn assert_close(what: &str, got: &[f64], want: &[f64]) {
    assert_eq!(got.len(), want.len(), "{what}: {got:?} vs {want:?}");
    for (g, w) in got.iter().zip(want) {
        assert!(
            (g - w).abs() <= 5e-5,
            "{what}: got {got:?}, the book says {want:?}"
        );
    }
}

#[test]
fn the_worked_example_gives_the_numbers_in_the_book() {
    let (mut net, x, labels) = worked_example();

    // Forward: z¹ = xW¹ + b¹ = (0.9, 0.1, −0.5); the ReLU zeroes the third unit.
    let hidden = net.layers()[0].clone();
    let hidden_only = Network::from_layers(vec![Dense::new(
        hidden.weights().unwrap().clone(),
        hidden.bias().unwrap().to_vec(),
        Activation::Identity,
    )]);
    assert_close("z¹", hidden_only.forward(&x).as_slice(), &[0.9, 0.1, -0.5]);
    assert_close("z²", net.forward(&x).as_slice(), &[0.28, -0.11]);
    assert_close("p", net.predict_proba(&x).as_slice(), &[0.5963, 0.4037]);

    let (loss, grads) = textbook::backprop(&net, &x, &labels);
    assert_close("loss", &[loss], &[0.9070]);
    let [g1, g2] = &grads.layers[..] else {
        panic!("two layers")
    };
    assert_close("∂L/∂b² = δ²", &g2.bias, &[0.5963, -0.5963]);
    assert_close(
        "∂L/∂W²",
        g2.weights.as_slice(),
        &[0.5367, -0.5367, 0.0596, -0.0596, 0.0, 0.0],
    );
    assert_close("∂L/∂b¹ = δ¹", &g1.bias, &[0.1789, 0.1193, 0.0]);
    assert_close(
        "∂L/∂W¹",
        g1.weights.as_slice(),
        &[0.1789, 0.1193, 0.0, 0.3578, 0.2385, 0.0],
    );
    // The production backprop agrees with the textbook one to the last bit.
    assert_eq!((loss, grads.clone()), net.loss_and_gradients(&x, &labels));

    // One step with η = 0.1, and the loss falls.
    textbook::step(&mut net, &grads, 0.1);
    let [l1, l2] = net.layers() else {
        panic!("two layers")
    };
    assert_close(
        "W¹ after",
        l1.weights().unwrap().as_slice(),
        &[0.0821, -0.2119, 0.3, 0.3642, 0.0761, -0.5],
    );
    assert_close("b¹ after", l1.bias().unwrap(), &[-0.0179, 0.0881, 0.2]);
    assert_close(
        "W² after",
        l2.weights().unwrap().as_slice(),
        &[0.1463, -0.0463, 0.494, 0.306, -0.4, 0.6],
    );
    assert_close("b² after", l2.bias().unwrap(), &[-0.0096, 0.0096]);
    assert_close("z² after", net.forward(&x).as_slice(), &[0.1204, -0.0184]);
    assert_close("loss after", &[net.loss(&x, &labels)], &[0.7650]);
}

/// Random inputs and labels for a network with `inputs` inputs and `classes` classes.
fn batch<T: Float>(
    rows: usize,
    inputs: usize,
    classes: usize,
    seed: u64,
) -> (Matrix<T>, Vec<usize>) {
    let mut rng = Rng::new(seed);
    let x = Matrix::random_normal(rows, inputs, 0.0, 1.0, &mut rng);
    let labels = (0..rows)
        .map(|_| rng.below(classes as u64) as usize)
        .collect();
    (x, labels)
}

fn networks<T: Float>() -> Vec<Network<T>> {
    let mut nets = vec![Network::builder(6).output(4).seed(1).build()];
    for act in [
        Activation::Relu,
        Activation::Sigmoid,
        Activation::Tanh,
        Activation::Identity,
    ] {
        nets.push(Network::builder(6).hidden(5, act).output(4).seed(2).build());
    }
    nets.push(
        Network::builder(6)
            .hidden(7, Activation::Relu)
            .hidden(5, Activation::Tanh)
            .hidden(6, Activation::Sigmoid)
            .output(4)
            .init(Init::He)
            .seed(3)
            .build(),
    );
    // Wide enough that, at batch 64, the production code splits the first layer's products
    // between threads (2·64·784·512 floating-point operations) and runs the second layer's
    // two backward products side by side.
    nets.push(
        Network::builder(784)
            .hidden(512, Activation::Relu)
            .hidden(32, Activation::Relu)
            .output(10)
            .seed(4)
            .build(),
    );
    nets
}

fn backprop_is_the_production_backprop<T: Float>() {
    for net in networks::<T>() {
        for rows in [1, 3, 64] {
            let (x, labels) = batch::<T>(rows, net.inputs(), net.classes(), rows as u64);
            let textbook = textbook::backprop(&net, &x, &labels);
            let production = net.loss_and_gradients(&x, &labels);
            assert!(
                textbook == production,
                "{net} ({}), batch {rows}: the textbook backprop differs",
                T::NAME
            );
        }
    }
}

#[test]
fn the_textbook_backprop_gives_the_production_gradients_bit_for_bit() {
    backprop_is_the_production_backprop::<f32>();
    backprop_is_the_production_backprop::<f64>();
}

#[test]
fn the_textbook_loop_trains_the_same_network_as_fit_bit_for_bit() {
    let (x, labels) = batch::<f32>(100, 6, 4, 7);
    for (batch_size, epochs) in [(16, 5), (1, 2), (100, 3), (33, 4)] {
        let start = Network::builder(6)
            .hidden(8, Activation::Relu)
            .output(4)
            .seed(5)
            .build();
        let mut ours = start.clone();
        let losses = textbook::fit(&mut ours, &x, &labels, epochs, batch_size, 0.1, 9);

        let mut theirs = start;
        let config = TrainConfig {
            epochs,
            batch: Batch::Size(batch_size),
            learning_rate: 0.1,
            schedule: Schedule::Constant,
            optimiser: Optimiser::sgd(0.0),
            seed: 9,
            ..TrainConfig::default()
        };
        let history = theirs.fit(&x, &labels, &config).unwrap();
        let fit_losses: Vec<f64> = history.epochs.iter().map(|e| e.loss).collect();
        assert_eq!(losses, fit_losses, "batch {batch_size}: epoch losses");
        assert!(
            ours == theirs,
            "batch {batch_size}: the trained networks differ"
        );
        assert!(
            losses[0] > losses[epochs - 1],
            "batch {batch_size}: it learns"
        );
    }
}

#[test]
#[should_panic(expected = "textbook::step: gradients for 1 layers, the network has 2")]
fn a_step_with_gradients_of_another_network_panics() {
    let (mut net, x, labels) = worked_example();
    let other = Network::<f64>::builder(2).output(2).build();
    let (_, grads) = textbook::backprop(&other, &x, &labels);
    textbook::step(&mut net, &grads, 0.1);
}

#[test]
#[should_panic(expected = "output layer is the identity, not tanh")]
fn the_textbook_refuses_an_output_layer_with_an_activation() {
    // Its δᴸ is the loss's gradient itself, true only for the identity: rather than a wrong
    // gradient, a refusal (Network::backprop goes through any output activation).
    let output = simplenn::Dense::new(Matrix::<f64>::zeros(2, 2), vec![0.0; 2], Activation::Tanh);
    let net = Network::from_layers(vec![output]);
    textbook::backprop(&net, &Matrix::zeros(1, 2), &[0]);
}
