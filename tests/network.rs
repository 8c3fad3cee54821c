//! Building networks, activations and initialisation, checked against their definitions.

use simplenn::LayerKind;
use simplenn::{Activation, Dense, Init, Matrix, Network, Rng};

#[test]
fn activations_match_their_definitions() {
    for z in [-30.0f64, -2.5, -0.1, 0.3, 1.0, 4.0, 30.0] {
        assert_eq!(Activation::Identity.apply(z), z);
        assert_eq!(Activation::Relu.apply(z), z.max(0.0));
        let sigmoid = 1.0 / (1.0 + (-z).exp());
        assert!((Activation::Sigmoid.apply(z) - sigmoid).abs() < 1e-16);
        assert!((Activation::Tanh.apply(z) - z.tanh()).abs() < 1e-16);
    }
    assert_eq!(Activation::Sigmoid.apply(0.0f32), 0.5);
}

#[test]
fn sigmoid_saturates_without_overflow() {
    for z in [-1e4f32, -1000.0, -100.0, 100.0, 1000.0, 1e4] {
        let s = Activation::Sigmoid.apply(z);
        assert!(s.is_finite() && (0.0..=1.0).contains(&s), "σ({z}) = {s}");
    }
    assert_eq!(Activation::Sigmoid.apply(-1000.0f64), 0.0);
    assert_eq!(Activation::Sigmoid.apply(1000.0f64), 1.0);
}

#[test]
fn derivatives_from_the_output_match_finite_differences() {
    // σ′(z) ≈ (σ(z+h) − σ(z−h)) / 2h, away from ReLU's kink at 0.
    let h = 1e-6;
    for act in Activation::ALL {
        for z in [-3.0f64, -0.7, -0.01, 0.02, 0.5, 2.0] {
            let numeric = (act.apply(z + h) - act.apply(z - h)) / (2.0 * h);
            let analytic = act.derivative_from_output(act.apply(z));
            assert!(
                (numeric - analytic).abs() < 1e-8,
                "{act} at {z}: {analytic} vs {numeric}"
            );
        }
    }
}

#[test]
fn names_round_trip() {
    for act in Activation::ALL {
        assert_eq!(act.to_string().parse::<Activation>(), Ok(act));
    }
    for init in Init::ALL {
        assert_eq!(init.to_string().parse::<Init>(), Ok(init));
    }
    assert_eq!("ReLU".parse::<Activation>(), Ok(Activation::Relu));
    assert_eq!("glorot".parse::<Init>(), Ok(Init::Xavier));
    let err = "swish".parse::<Activation>().unwrap_err().to_string();
    assert!(err.contains("swish") && err.contains("relu"), "{err}");
    assert!(
        "lecun"
            .parse::<Init>()
            .unwrap_err()
            .to_string()
            .contains("lecun")
    );
}

fn mean_var(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    (mean, xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n)
}

#[test]
fn initialisations_have_the_published_scale() {
    let mut rng = Rng::new(1);
    let (fan_in, fan_out) = (784, 256); // 200,704 weights: tight estimates
    let (w, b) = Init::He.sample::<f64>(fan_in, fan_out, &mut rng);
    let (mean, var) = mean_var(w.as_slice());
    let want = 2.0 / fan_in as f64;
    assert!(mean.abs() < 0.01 * want.sqrt(), "He mean {mean}");
    assert!(
        (var / want - 1.0).abs() < 0.02,
        "He variance {var} vs {want}"
    );
    assert!(b.iter().all(|&x| x == 0.0));

    let (w, b) = Init::Xavier.sample::<f64>(fan_in, fan_out, &mut rng);
    let r = (6.0 / (fan_in + fan_out) as f64).sqrt();
    assert!(w.as_slice().iter().all(|x| x.abs() <= r));
    let (_, var) = mean_var(w.as_slice());
    let want = 2.0 / (fan_in + fan_out) as f64; // variance of U(−r, r) is r²/3
    assert!(
        (var / want - 1.0).abs() < 0.02,
        "Xavier variance {var} vs {want}"
    );
    assert!(b.iter().all(|&x| x == 0.0));

    let (w, b) = Init::Original.sample::<f64>(fan_in, fan_out, &mut rng);
    assert!(
        w.as_slice()
            .iter()
            .chain(&b)
            .all(|x| (-0.5..0.5).contains(x))
    );
    let (_, var) = mean_var(w.as_slice());
    assert!(
        (var * 12.0 - 1.0).abs() < 0.02,
        "U(−½, ½) variance is 1/12, got {var}"
    );
    assert!(
        b.iter().any(|&x| x != 0.0),
        "the original draws its biases too"
    );
}

#[test]
fn builder_picks_he_for_relu_and_xavier_otherwise() {
    let net = Network::<f64>::builder(500)
        .hidden(400, Activation::Relu)
        .hidden(300, Activation::Tanh)
        .output(10)
        .seed(2)
        .build();
    let (_, relu_var) = mean_var(net.layers()[0].weights().unwrap().as_slice());
    assert!(
        (relu_var / (2.0 / 500.0) - 1.0).abs() < 0.03,
        "He: {relu_var}"
    );
    let xavier_limit = (6.0f64 / 700.0).sqrt();
    assert!(
        net.layers()[1]
            .weights()
            .unwrap()
            .as_slice()
            .iter()
            .all(|x| x.abs() <= xavier_limit)
    );
    assert_eq!(net.layers()[2].activation().unwrap(), Activation::Identity);
}

#[test]
fn builder_describes_the_network() {
    let net: Network = Network::builder(784)
        .hidden(128, Activation::Relu)
        .hidden(64, Activation::Tanh)
        .output(10)
        .build();
    assert_eq!(net.to_string(), "784 → 128 relu → 64 tanh → 10 softmax");
    assert_eq!(
        format!("{net:?}"),
        "Network<f32>[Dense(784→128, relu), Dense(128→64, tanh), Dense(64→10, identity)]"
    );
    assert_eq!(net.inputs(), 784);
    assert_eq!(net.classes(), 10);
    assert_eq!(
        net.parameter_count(),
        784 * 128 + 128 + 128 * 64 + 64 + 64 * 10 + 10
    );
}

#[test]
fn same_seed_same_network() {
    let build = |seed| {
        Network::<f32>::builder(20)
            .hidden(7, Activation::Relu)
            .output(3)
            .seed(seed)
            .build()
    };
    assert!(build(5) == build(5));
    assert!(build(5) != build(6));
}

#[test]
#[should_panic(expected = "call .output(classes)")]
fn builder_without_output_panics() {
    Network::<f32>::builder(3)
        .hidden(2, Activation::Relu)
        .build();
}

#[test]
#[should_panic(expected = "layer 1: on its input of 2, a dense layer has zero units")]
fn builder_rejects_empty_layers() {
    Network::<f32>::builder(3)
        .hidden(2, Activation::Relu)
        .hidden(0, Activation::Relu)
        .output(2)
        .build();
}

#[test]
fn dense_forward_is_sigma_of_xw_plus_b() {
    let w = Matrix::<f64>::from_vec(2, 3, vec![1.0, -2.0, 0.5, 0.0, 1.0, -1.0]);
    let layer = Dense::new(w.clone(), vec![0.1, 0.2, -0.3], Activation::Relu);
    let x = Matrix::from_vec(2, 2, vec![1.0, 2.0, -1.0, 0.5]);
    let out = layer.forward(&x);
    // Row 0: [1, 2]·W = [1, 0, −1.5] + b = [1.1, 0.2, −1.8] → ReLU → [1.1, 0.2, 0]
    // Row 1: [−1, .5]·W = [−1, 2.5, −1] + b = [−0.9, 2.7, −1.3] → [0, 2.7, 0]
    let want = [1.1, 0.2, 0.0, 0.0, 2.7, 0.0];
    for (got, want) in out.as_slice().iter().zip(want) {
        assert!((got - want).abs() < 1e-15, "{got} vs {want}");
    }
}

#[test]
#[should_panic(expected = "layer 1: Dense(3→4, relu) gives 4, but Dense(5→2, identity) takes 5")]
fn from_layers_checks_that_shapes_chain() {
    Network::from_layers(vec![
        Dense::new(Matrix::<f32>::zeros(3, 4), vec![0.0; 4], Activation::Relu),
        Dense::new(
            Matrix::<f32>::zeros(5, 2),
            vec![0.0; 2],
            Activation::Identity,
        ),
    ]);
}

#[test]
fn the_original_preset_is_the_original_recipe() {
    let (net, config) = simplenn::preset::original::<f32>(3);
    assert_eq!(net.to_string(), "784 → 10 relu → 10 softmax");
    for layer in net.layers() {
        assert!(
            layer
                .weights()
                .unwrap()
                .as_slice()
                .iter()
                .chain(layer.bias().unwrap())
                .all(|x| (-0.5..0.5).contains(x))
        );
    }
    assert_eq!(config.batch, simplenn::Batch::Full);
    assert_eq!(
        (config.learning_rate, config.epochs, config.optimiser),
        (0.1, 600, simplenn::Optimiser::sgd(0.0))
    );
}
