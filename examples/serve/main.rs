//! A web page where you draw a digit and watch every layer of a network answer.
//!
//! ```sh
//! cargo run --release --example serve                       # trains a quick model first
//! cargo run --release --example serve -- --model model.snn --data datasets/mnist-10k
//! ```
//!
//! The server is this example's own, in `http/`; the page is one HTML file, `page.html`,
//! compiled into the program. Everything it shows comes from the routes in [`route`].

#[path = "../common/mod.rs"]
#[macro_use]
mod common;
mod http;
mod wire;

use common::{Args, CLASSES, Failure};
use http::{Limits, Method, Request, Response, Server};
use simplenn::dataset::{self, Dataset};
use simplenn::json::Json;
use simplenn::progress::Progress;
use simplenn::train::Training;
use simplenn::{Matrix, Network, TrainConfig, TrainEvent, preset};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, RwLock};
use wire::{kind, model_json, numbers, parse_pixels, shape_json};

const HELP: &str = "\
Serves a web page where you draw a digit and see the network's answer, layer by layer.

Usage: cargo run --release --example serve -- [OPTIONS]

  --model FILE   a model saved by `train --save FILE` (a dense network or a CNN, 28×28
                 inputs, 10 classes); without it, a quick one is trained first on the
                 built-in digits (a few seconds)
  --data DIR     a folder of MNIST-style files whose digits the page can show (its t10k-*
                 test set if it has one, else its train-* files) [default: without
                 --model, the 1,000 built-in digits the quick model did not train on; with
                 it, the built-in digits]
  --port N       the port to listen on; 0 for any free one [default: 8080, or the next
                 free one up to 8099]
  --host ADDR    the address to listen on [default: 127.0.0.1, this machine only]; any
                 other lets anyone who can reach this machine use the page
  --train        start watching it learn at once: a new network trained from scratch
                 while the page follows (the page's button does the same)
  --timeout S    seconds a request may take to arrive before it is answered 408
                 [default: 10]
  --threads N    threads for the matrix products [default: all cores]
  --quiet        no log line per request
  -h, --help     print this help

Open the address it prints in a browser. Stop it with Ctrl-C.

Exit status: 0 on success, 2 for a usage error, 1 for a data or I/O error.
";

/// The page, compiled in: no file is read because of a request.
const PAGE: &str = include_str!("page.html");

/// Pixels of an input image.
const PIXELS: usize = 28 * 28;

fn main() -> ExitCode {
    common::exit_with(run(), "serve")
}

fn run() -> Result<(), Failure> {
    let mut args = Args::parse(&["--help", "--quiet", "--train"])?;
    if args.switch("--help") {
        print!("{HELP}");
        return Ok(());
    }
    let model = args.value("--model");
    let data = args.value("--data");
    let port = args.parsed::<u16>("--port", "a port number (0 to 65535)")?;
    let host = match args.value("--host") {
        None => IpAddr::V4(Ipv4Addr::LOCALHOST),
        Some(h) => h
            .trim()
            .parse::<IpAddr>()
            .map_err(|_| Failure::Usage(format!("--host: '{h}' is not an IP address")))?,
    };
    let quiet = args.switch("--quiet");
    let learn = args.switch("--train");
    let timeout = match args.parsed::<f64>("--timeout", "a number of seconds")? {
        None => 10.0,
        Some(t) => common::check_range("--timeout", t, 0.1..=3600.0)?,
    };
    let limits = Limits {
        request_timeout: std::time::Duration::from_secs_f64(timeout),
        ..Limits::default()
    };
    common::apply_threads(&mut args)?;
    args.reject_unknown()?;
    common::warn_if_kernel_ignored();

    let (network, digits, train) = match model {
        Some(file) => {
            let network: Network = simplenn::model::load(&file)?;
            check_fits(&network, &file)?;
            let (digits, train) = match data {
                Some(dir) => Digits::load(&dir)?,
                None => Digits::builtin(
                    "the 10,000 built-in digits, which the model may have trained on",
                )?,
            };
            (network, digits, train)
        }
        None => quick_model(data)?,
    };
    let app = Arc::new(App::new(network, digits, train));
    if learn {
        app.start_learning();
    }

    let server = bind(host, port, &limits)?;
    let server = if quiet { server.quiet() } else { server };
    let addr = server.local_addr();
    if !host.is_loopback() {
        eprintln!(
            "warning: listening on {host}: anyone who can reach this machine on port {} can \
             use this page",
            addr.port()
        );
    }
    say!("serving on http://{}", display_addr(addr));
    say!("(Ctrl-C to stop)");
    server
        .run(move |request| app.route(request))
        .map_err(|e| Failure::Data(simplenn::Error::io(e).in_file(addr.to_string())))
}

/// Listens on `--port`, or on 8080 or the first free port after it.
fn bind(host: IpAddr, port: Option<u16>, limits: &Limits) -> Result<Server, Failure> {
    let tries: Vec<u16> = match port {
        Some(p) => vec![p],
        None => (8080..8100).collect(),
    };
    let mut last = None;
    for p in tries {
        match Server::bind(SocketAddr::new(host, p), limits.clone()) {
            Ok(server) => return Ok(server),
            Err(e) => last = Some((p, e)),
        }
    }
    let (p, e) = last.expect("at least one port was tried");
    let what = if port.is_some() {
        format!("port {p}")
    } else {
        "ports 8080 to 8099".into()
    };
    Err(Failure::Usage(format!(
        "cannot listen on {host}, {what}: {e}"
    )))
}

fn display_addr(addr: SocketAddr) -> String {
    match addr.ip() {
        IpAddr::V4(ip) if ip.is_loopback() => format!("127.0.0.1:{}", addr.port()),
        _ => addr.to_string(),
    }
}

/// Refuses a model that does not take 28×28 images to 10 classes.
fn check_fits(network: &Network, file: &str) -> Result<(), Failure> {
    if network.inputs() != PIXELS || network.classes() != CLASSES {
        return Err(Failure::Data(
            simplenn::Error::data(format!(
                "the model takes {} inputs to {} classes; this page draws 28×28 digits for 10",
                network.inputs(),
                network.classes()
            ))
            .in_file(file),
        ));
    }
    Ok(())
}

/// Trains the recommended MLP for a few epochs on 9,000 built-in digits, showing progress,
/// and keeps the other 1,000 to show.
fn quick_model(data: Option<String>) -> Result<(Network, Digits, Dataset), Failure> {
    // A bad --data folder is reported before any training, not after.
    let given = data.map(|dir| Digits::load(&dir)).transpose()?;
    let builtin = dataset::load_dir(&common::builtin_data_dir(), CLASSES)?.train;
    let (train, held_out) = builtin.split(0.1, 1);
    let (mut network, config): (Network, TrainConfig) = preset::recommended(PIXELS, CLASSES, 1);
    let config = TrainConfig {
        epochs: 8,
        ..config
    };
    say!(
        "no --model given: training a quick one ({}) on {} built-in digits, {} epochs",
        network,
        train.len(),
        config.epochs
    );
    let steps = config.epochs * config.steps_per_epoch(train.len());
    let mut progress = Progress::new(steps as u64, "training");
    network.fit_with(&train, None, &config, |event| {
        if let simplenn::TrainEvent::Batch { .. } = event {
            progress.inc(1);
        }
    })?;
    progress.finish();
    let accuracy = network.evaluate_samples(&held_out).accuracy;
    say!(
        "held-out accuracy {:.2}%. For a better model: cargo run --release --example train -- \
         --preset cnn --save cnn.snn, then serve --model cnn.snn",
        100.0 * accuracy
    );
    let (digits, train) = match given {
        Some(loaded) => loaded,
        None => (
            Digits::new(
                held_out,
                "the 1,000 built-in digits the quick model did not train on",
            ),
            train,
        ),
    };
    Ok((network, digits, train))
}

/// The digits the page can show.
struct Digits {
    set: Dataset,
    about: String,
}

impl Digits {
    fn new(set: Dataset, about: &str) -> Digits {
        Digits {
            set,
            about: about.to_string(),
        }
    }

    /// The digits of `dir` to show (its test set, else its training set), and its training
    /// set, for "watch it learn".
    fn load(dir: &str) -> Result<(Digits, Dataset), Failure> {
        let loaded = dataset::load_dir(Path::new(dir), CLASSES)?;
        let train = loaded.train.clone();
        let (set, which) = match loaded.test {
            Some(test) => (test, "test set"),
            None => (loaded.train, "training set"),
        };
        if set.images().width() * set.images().height() != PIXELS {
            return Err(Failure::Data(
                simplenn::Error::data("its images are not 28×28").in_file(dir),
            ));
        }
        let about = format!("the {} digits of the {which} in {dir}", set.len());
        Ok((Digits::new(set, &about), train))
    }

    fn builtin(about: &str) -> Result<(Digits, Dataset), Failure> {
        let set = dataset::load_dir(&common::builtin_data_dir(), CLASSES)?.train;
        Ok((Digits::new(set.clone(), about), set))
    }
}

/// The network the page talks to, and what is computed from it once: the digits'
/// predictions and the model's description. Replaced whole when training publishes a new
/// one, so a request always sees one consistent network.
struct Snapshot {
    network: Network,
    predictions: Vec<usize>,
    model: String,
    /// Counts the networks published so far: the page redraws when it changes.
    version: u64,
}

/// "Watch it learn": a run in progress or finished, as the page shows it.
#[derive(Default)]
struct Learning {
    running: bool,
    epochs: usize,
    /// One entry per finished epoch: (training loss, training accuracy, accuracy on the
    /// shown digits).
    history: Vec<(f64, f64, f64)>,
    /// The untrained network's accuracy on the shown digits: where the curve starts.
    initial_accuracy: Option<f64>,
    error: Option<String>,
}

/// Epochs of "watch it learn", and the least time between two of them, so that a person
/// can follow (an epoch of the quick MLP takes a tenth of a second).
const LEARN_EPOCHS: usize = 20;
const LEARN_PACE: std::time::Duration = std::time::Duration::from_millis(600);

/// What "watch it learn" trains, and how: the recommended recipe, for [`LEARN_EPOCHS`].
fn learning_recipe(seed: u64) -> (Network, TrainConfig) {
    let (network, config) = preset::recommended(PIXELS, CLASSES, seed);
    let config = TrainConfig {
        epochs: LEARN_EPOCHS,
        ..config
    };
    (network, config)
}

struct App {
    digits: Digits,
    /// What "watch it learn" trains on.
    train: Arc<Dataset>,
    current: RwLock<Arc<Snapshot>>,
    learning: Mutex<Learning>,
    /// Gradient steps taken in the current epoch of "watch it learn", and per epoch.
    steps: AtomicUsize,
    steps_per_epoch: usize,
}

impl App {
    fn new(network: Network, digits: Digits, train: Dataset) -> App {
        // The seed changes the starting weights, not how many steps an epoch takes.
        let (_, config) = learning_recipe(1);
        let steps_per_epoch = config.steps_per_epoch(train.len());
        let snapshot = Snapshot::of(network, &digits, 0);
        App {
            digits,
            train: Arc::new(train),
            current: RwLock::new(Arc::new(snapshot)),
            learning: Mutex::new(Learning::default()),
            steps: AtomicUsize::new(0),
            steps_per_epoch,
        }
    }

    fn now(&self) -> Arc<Snapshot> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn publish(&self, network: Network) -> f64 {
        let version = self.now().version + 1;
        let snapshot = Snapshot::of(network, &self.digits, version);
        let labels = self.digits.set.labels_usize();
        let right = snapshot
            .predictions
            .iter()
            .zip(&labels)
            .filter(|(p, l)| p == l)
            .count();
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(snapshot);
        right as f64 / labels.len().max(1) as f64
    }

    /// Starts training a new network from scratch on a thread of its own, unless one is
    /// training already; publishes it after every epoch.
    fn start_learning(self: &Arc<App>) -> bool {
        {
            let mut learning = self.learning.lock().unwrap_or_else(|e| e.into_inner());
            if learning.running {
                return false;
            }
            *learning = Learning {
                running: true,
                epochs: LEARN_EPOCHS,
                ..Learning::default()
            };
        }
        let app = Arc::clone(self);
        std::thread::spawn(move || {
            let result = app.learn();
            let mut learning = app.learning.lock().unwrap_or_else(|e| e.into_inner());
            learning.running = false;
            learning.error = result.err();
        });
        true
    }

    fn learn(&self) -> Result<(), String> {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64);
        let (mut network, config) = learning_recipe(seed);
        // The untrained network first: random weights, and about one digit in ten right.
        let initial = self.publish(network.clone());
        self.learning
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .initial_accuracy = Some(initial);
        let mut training = Training::new(&network, &config, self.train.len());
        loop {
            let start = std::time::Instant::now();
            self.steps.store(0, Ordering::Relaxed);
            let epoch = training.next_epoch(&mut network, &*self.train, None, |event| {
                if let TrainEvent::Batch { .. } = event {
                    self.steps.fetch_add(1, Ordering::Relaxed);
                }
            });
            let stats = match epoch {
                Ok(Some(stats)) => (stats.loss, stats.train_accuracy),
                Ok(None) => return Ok(()),
                Err(e) => return Err(e.to_string()),
            };
            let accuracy = self.publish(network.clone());
            self.learning
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .history
                .push((stats.0, stats.1, accuracy));
            std::thread::sleep(LEARN_PACE.saturating_sub(start.elapsed()));
        }
    }

    /// `GET /api/learning`: where "watch it learn" is.
    fn learning(&self) -> Response {
        let learning = self.learning.lock().unwrap_or_else(|e| e.into_inner());
        let history = learning.history.iter().map(|&(loss, train, shown)| {
            Json::object([
                ("loss", Json::from(loss)),
                ("train_accuracy", Json::from(train)),
                ("accuracy", Json::from(shown)),
            ])
        });
        Response::json(&Json::object([
            ("running", Json::from(learning.running)),
            ("epoch", Json::from(learning.history.len())),
            ("epochs", Json::from(learning.epochs)),
            ("step", Json::from(self.steps.load(Ordering::Relaxed))),
            ("steps", Json::from(self.steps_per_epoch)),
            ("version", Json::from(self.now().version as usize)),
            ("history", Json::Array(history.collect())),
            (
                "initial_accuracy",
                learning.initial_accuracy.map_or(Json::Null, Json::from),
            ),
            (
                "error",
                learning.error.as_deref().map_or(Json::Null, Json::from),
            ),
        ]))
    }
    // ANCHOR: routes
    /// Every route: a path, the methods it takes, and what it answers.
    fn route(self: &Arc<App>, request: &Request) -> Response {
        let allowed: &[Method] = match request.path.as_str() {
            // (HEAD is answered as GET by the server.)
            "/" | "/api/model" | "/api/digit" | "/api/mistakes" | "/api/learning" => &[Method::Get],
            "/api/predict" | "/api/learn" => &[Method::Post],
            "/favicon.ico" => return Response::new(204, "image/x-icon", Vec::new()),
            _ => return Response::error(404, "no such page"),
        };
        if !allowed.contains(&request.method) {
            let mut names: Vec<&str> = allowed.iter().map(Method::as_str).collect();
            if allowed.contains(&Method::Get) {
                names.push("HEAD");
            }
            return Response::error(405, &format!("{} takes {}", request.path, names.join(", ")))
                .with_header("Allow", &names.join(", "));
        }
        match request.path.as_str() {
            "/" => Response::new(200, "text/html; charset=utf-8", PAGE.as_bytes().to_vec())
                .with_header("Cache-Control", "no-store"),
            "/api/model" => Response::new(
                200,
                "application/json",
                self.now().model.as_bytes().to_vec(),
            ),
            "/api/digit" => self.digit(request),
            "/api/mistakes" => self.mistakes(),
            "/api/learning" => self.learning(),
            // Starts training a new network from scratch; 409 if one is training already.
            "/api/learn" => match self.start_learning() {
                true => self.learning(),
                false => Response::error(409, "a network is training already"),
            },
            _ => self.predict(&request.body),
        }
    }
    // ANCHOR_END: routes

    /// `POST /api/predict`, body `{"pixels": [784 numbers in 0..1]}`: the probabilities
    /// and every layer's output.
    fn predict(&self, body: &[u8]) -> Response {
        let pixels = match parse_pixels(body) {
            Ok(p) => p,
            Err(reason) => return Response::error(400, &reason),
        };
        let x = Matrix::from_vec(1, PIXELS, pixels);
        let now = self.now();
        let outputs = now.network.forward_all(&x);
        let probabilities = now.network.predict_proba(&x);
        let layers = now
            .network
            .layers()
            .iter()
            .zip(&outputs)
            .map(|(layer, out)| {
                Json::object([
                    ("kind", Json::from(kind(layer))),
                    ("shape", shape_json(layer)),
                    ("values", numbers(out.as_slice())),
                ])
            });
        let prediction = probabilities.argmax_rows()[0];
        let probabilities = probabilities.as_slice();
        Response::json(&Json::object([
            ("prediction", Json::from(prediction)),
            ("probabilities", numbers(probabilities)),
            ("layers", Json::Array(layers.collect())),
        ]))
    }

    /// `GET /api/digit?index=N`: one of the digits, its label and the network's prediction.
    fn digit(&self, request: &Request) -> Response {
        let count = self.digits.set.len();
        let index = match request.query_param("index").map(str::parse::<usize>) {
            Some(Ok(i)) if i < count => i,
            Some(_) => {
                return Response::error(
                    400,
                    &format!("index must be a whole number below {count}"),
                );
            }
            None => return Response::error(400, "give ?index=N"),
        };
        let image = self.digits.set.images().image(index);
        Response::json(&Json::object([
            ("index", Json::from(index)),
            ("count", Json::from(count)),
            ("about", Json::from(self.digits.about.as_str())),
            ("label", Json::from(self.digits.set.label(index))),
            ("prediction", Json::from(self.now().predictions[index])),
            (
                "pixels",
                Json::Array(image.iter().map(|&p| Json::from(p as usize)).collect()),
            ),
        ]))
    }

    /// `GET /api/mistakes`: the digits the network gets wrong.
    fn mistakes(&self) -> Response {
        let now = self.now();
        let wrong: Vec<Json> = (0..self.digits.set.len())
            .filter(|&i| now.predictions[i] != self.digits.set.label(i))
            .map(Json::from)
            .collect();
        Response::json(&Json::object([
            ("count", Json::from(self.digits.set.len())),
            ("about", Json::from(self.digits.about.as_str())),
            ("mistakes", Json::Array(wrong)),
        ]))
    }
}

impl Snapshot {
    fn of(network: Network, digits: &Digits, version: u64) -> Snapshot {
        let predictions = network.predict_samples(&digits.set);
        let model = model_json(&network).to_string();
        Snapshot {
            network,
            predictions,
            model,
            version,
        }
    }
}
