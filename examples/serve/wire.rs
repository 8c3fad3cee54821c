//! What crosses the wire between the page and the server: the pixels of a drawing read
//! from a request, and the network, its layers and their numbers written as JSON.

use crate::PIXELS;
use simplenn::LayerKind;
use simplenn::json::Json;
use simplenn::layer::Layer;
use simplenn::{Matrix, Network};

/// The 784 pixels of a prediction request, each a number from 0 to 1.
pub fn parse_pixels(body: &[u8]) -> Result<Vec<f32>, String> {
    let text = std::str::from_utf8(body).map_err(|_| "the body is not UTF-8 text".to_string())?;
    let json = Json::parse(text).map_err(|e| format!("the body is not JSON: {e}"))?;
    let Some(values) = json.get("pixels").and_then(Json::as_array) else {
        return Err("the body must be {\"pixels\": [784 numbers from 0 to 1]}".into());
    };
    if values.len() != PIXELS {
        return Err(format!("{} pixels, not {PIXELS}", values.len()));
    }
    values
        .iter()
        .enumerate()
        .map(|(i, v)| match v.as_f64() {
            Some(p) if (0.0..=1.0).contains(&p) => Ok(p as f32),
            Some(p) => Err(format!("pixel {i} is {p}, outside 0 to 1")),
            None => Err(format!("pixel {i} is not a number")),
        })
        .collect()
}

/// Numbers rounded to 4 decimals: the page draws them, and the JSON stays small.
pub fn numbers(values: &[f32]) -> Json {
    Json::Array(
        values
            .iter()
            .map(|&v| Json::Number((v as f64 * 1e4).round() / 1e4))
            .collect(),
    )
}

/// The page's name for a layer's kind.
pub fn kind(layer: &Layer) -> &'static str {
    match layer {
        Layer::Dense(_) => "dense",
        Layer::Conv2d(_) => "conv2d",
        Layer::MaxPool2d(_) => "maxpool2d",
        Layer::BatchNorm(_) => "batchnorm",
    }
}

/// `[height, width, channels]` of a layer's output.
pub fn shape_json(layer: &Layer) -> Json {
    let s = layer.output_shape();
    Json::Array(vec![
        Json::from(s.height),
        Json::from(s.width),
        Json::from(s.channels),
    ])
}

/// The model as the page draws it: its layers, and the first layer's weights as images
/// (one 28×28 image per unit of a first dense layer, one k×k image per filter of a first
/// convolution), each scaled to −1..1 by its largest magnitude.
pub fn model_json(network: &Network) -> Json {
    let layers = network.layers().iter().map(|layer| {
        Json::object([
            ("kind", Json::from(kind(layer))),
            ("shape", shape_json(layer)),
            ("description", Json::from(format!("{layer:?}"))),
        ])
    });
    let first = &network.layers()[0];
    let (side, images) = match (first.as_dense(), first.as_conv2d()) {
        (Some(dense), _) => (28, columns(dense.weights())),
        (_, Some(conv)) if conv.input_shape().channels == 1 => {
            (conv.kernel(), columns(conv.weights()))
        }
        _ => (0, Vec::new()),
    };
    Json::object([
        ("description", Json::from(network.to_string())),
        ("parameters", Json::from(network.parameter_count())),
        ("layers", Json::Array(layers.collect())),
        ("first_layer_side", Json::from(side)),
        ("first_layer_images", Json::Array(images)),
    ])
}

/// Each column of `w` (one unit's or filter's incoming weights) scaled by its largest
/// magnitude, to 3 decimals.
fn columns(w: &Matrix<f32>) -> Vec<Json> {
    (0..w.cols())
        .map(|c| {
            let col: Vec<f32> = (0..w.rows()).map(|r| w[(r, c)]).collect();
            let top = col.iter().fold(0.0f32, |m, v| m.max(v.abs())).max(1e-12);
            Json::Array(
                col.iter()
                    .map(|&v| Json::Number((v as f64 / top as f64 * 1e3).round() / 1e3))
                    .collect(),
            )
        })
        .collect()
}
