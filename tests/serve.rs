//! The `serve` example against real clients: every route, keep-alive, a suite of malformed
//! requests (each answered with its status, or the connection closed, and the server still
//! answering afterwards), a slow client, a load test against the library's own predictions,
//! and the page itself in headless Chromium.

mod example_bins;

use example_bins::examples_dir;
use simplenn::dataset;
use simplenn::json::Json;
use simplenn::{Activation, Init, Matrix, Network, TrainConfig};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

fn builtin() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data/mnist-10k")
}

/// A small model trained on the built-in digits, saved once for every test here.
fn model_file() -> &'static Path {
    static FILE: OnceLock<PathBuf> = OnceLock::new();
    FILE.get_or_init(|| {
        let data = dataset::load_dir(&builtin(), 10).unwrap().train;
        let mut net: Network = Network::builder(784)
            .hidden(32, Activation::Relu)
            .output(10)
            .init(Init::He)
            .seed(3)
            .build();
        let config = TrainConfig {
            epochs: 2,
            ..TrainConfig::default()
        };
        net.fit_with(&data, None, &config, |_| {}).unwrap();
        let file = std::env::temp_dir().join(format!("simplenn-serve-{}.snn", std::process::id()));
        simplenn::model::save(&net, &file).unwrap();
        file
    })
}

/// A running `serve`, killed when dropped.
struct Serve {
    child: Child,
    addr: SocketAddr,
}

impl Serve {
    fn start(args: &[&str]) -> Serve {
        let mut child = Command::new(examples_dir().join("serve"))
            .args(["--port", "0", "--quiet"])
            .args(args)
            .env("SIMPLENN_THREADS", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("starting serve");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let addr = loop {
            let line = lines
                .next()
                .expect("serve stopped before it said where it listens")
                .unwrap();
            if let Some(url) = line.strip_prefix("serving on http://") {
                break url.trim().parse().expect("an address");
            }
        };
        // Keep reading its output so that it never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Serve { child, addr }
    }

    fn with_model(extra: &[&str]) -> Serve {
        let model = model_file().to_str().unwrap().to_string();
        let data = builtin().to_str().unwrap().to_string();
        let mut args = vec!["--model", &model, "--data", &data];
        args.extend_from_slice(extra);
        Serve::start(&args)
    }

    fn connect(&self) -> TcpStream {
        let s = TcpStream::connect(self.addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        s
    }

    /// Peak resident memory of the server process, from /proc (Linux), in MB.
    fn peak_rss_mb(&self) -> Option<f64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
        let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kb / 1024.0)
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One response as read off the wire.
#[derive(Debug)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    fn json(&self) -> Json {
        Json::parse(&self.text()).expect("a JSON body")
    }
}

/// Reads one response (`head_only` for a HEAD request); `None` if the connection closed
/// before a status line.
fn read_reply(stream: &mut TcpStream, head_only: bool) -> Option<Reply> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return None,
        }
    }
    let head = String::from_utf8(head).unwrap();
    let mut lines = head.split("\r\n");
    let status: u16 = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(": "))
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .map_or(0, |(_, v)| v.parse().unwrap());
    let mut body = vec![0u8; if head_only { 0 } else { length }];
    stream.read_exact(&mut body).ok()?;
    Some(Reply {
        status,
        headers,
        body,
    })
}

/// Sends raw bytes on a fresh connection and reads the reply.
fn raw(server: &Serve, bytes: &[u8]) -> Option<Reply> {
    let mut s = server.connect();
    s.write_all(bytes).unwrap();
    read_reply(&mut s, false)
}

fn get(server: &Serve, path: &str) -> Reply {
    raw(
        server,
        format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .expect("a reply")
}

fn post(path: &str, body: &str) -> Vec<u8> {
    format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn pixels_json(pixels: &[f32]) -> String {
    let list: Vec<String> = pixels.iter().map(|p| format!("{p}")).collect();
    format!("{{\"pixels\":[{}]}}", list.join(","))
}

fn numbers(json: &Json) -> Vec<f64> {
    json.as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect()
}

#[test]
fn every_route_answers() {
    let server = Serve::with_model(&[]);
    let page = get(&server, "/");
    assert_eq!(page.status, 200);
    assert!(
        page.header("content-type")
            .unwrap()
            .starts_with("text/html")
    );
    assert!(page.text().contains("Watch it think"));
    // Nothing on the page comes from anywhere else.
    assert!(!page.text().contains("http://") && !page.text().contains("https://"));

    let mut s = server.connect();
    s.write_all(b"HEAD / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let head = read_reply(&mut s, true).unwrap();
    assert_eq!(head.status, 200);
    assert_eq!(
        head.header("content-length").unwrap(),
        page.body.len().to_string()
    );
    let mut rest = Vec::new();
    s.read_to_end(&mut rest).unwrap();
    assert!(rest.is_empty(), "HEAD sent a body");

    let model = get(&server, "/api/model").json();
    assert_eq!(model.get("layers").unwrap().as_array().unwrap().len(), 2);
    let images = model.get("first_layer_images").unwrap().as_array().unwrap();
    assert_eq!((images.len(), numbers(&images[0]).len()), (32, 784));

    let data = dataset::load_dir(&builtin(), 10).unwrap().train;
    let digit = get(&server, "/api/digit?index=5").json();
    assert_eq!(
        digit.get("label").unwrap().as_f64(),
        Some(data.label(5) as f64)
    );
    let pixels = numbers(digit.get("pixels").unwrap());
    let want: Vec<f64> = data.images().image(5).iter().map(|&p| p as f64).collect();
    assert_eq!(pixels, want);

    let net: Network = simplenn::model::load(model_file()).unwrap();
    let predicted = net.predict_samples(&data);
    let mistakes: Vec<usize> = numbers(
        get(&server, "/api/mistakes")
            .json()
            .get("mistakes")
            .unwrap(),
    )
    .iter()
    .map(|&i| i as usize)
    .collect();
    let want: Vec<usize> = (0..data.len())
        .filter(|&i| predicted[i] != data.label(i))
        .collect();
    assert_eq!(mistakes, want);

    assert_eq!(get(&server, "/nothing-here").status, 404);
    let wrong = get(&server, "/api/predict");
    assert_eq!((wrong.status, wrong.header("allow")), (405, Some("POST")));
    let wrong = raw(&server, &post("/", "{}")).unwrap();
    assert_eq!(
        (wrong.status, wrong.header("allow")),
        (405, Some("GET, HEAD"))
    );
}

#[test]
fn predictions_are_the_librarys_and_every_layer_is_there() {
    let server = Serve::with_model(&[]);
    let net: Network = simplenn::model::load(model_file()).unwrap();
    let data = dataset::load_dir(&builtin(), 10).unwrap().train;
    let image: Vec<f32> = data
        .images()
        .image(7)
        .iter()
        .map(|&p| p as f32 / 255.0)
        .collect();
    let reply = raw(&server, &post("/api/predict", &pixels_json(&image))).unwrap();
    assert_eq!(reply.status, 200, "{}", reply.text());
    let json = reply.json();
    let x = Matrix::from_vec(1, 784, image);
    let want = net.predict_proba(&x);
    let got = numbers(json.get("probabilities").unwrap());
    for (g, w) in got.iter().zip(want.as_slice()) {
        assert!(
            (g - *w as f64).abs() <= 6e-5,
            "probability {g}, the library gives {w}"
        );
    }
    let layers = json.get("layers").unwrap().as_array().unwrap();
    let sizes: Vec<usize> = layers
        .iter()
        .map(|l| numbers(l.get("values").unwrap()).len())
        .collect();
    assert_eq!(sizes, [32, 10]);
}

#[test]
fn a_kept_alive_connection_answers_request_after_request() {
    let server = Serve::with_model(&[]);
    let mut s = server.connect();
    for i in 0..5 {
        let req = format!("GET /api/digit?index={i} HTTP/1.1\r\nHost: x\r\n\r\n");
        s.write_all(req.as_bytes()).unwrap();
        let reply = read_reply(&mut s, false).expect("a reply on the same connection");
        assert_eq!(reply.status, 200);
        assert_eq!(reply.header("connection"), Some("keep-alive"));
    }
    // Two requests sent at once (pipelined) are answered in order.
    s.write_all(
        b"GET /api/digit?index=1 HTTP/1.1\r\nHost: x\r\n\r\nGET /nope HTTP/1.1\r\nHost: x\r\n\r\n",
    )
    .unwrap();
    assert_eq!(read_reply(&mut s, false).unwrap().status, 200);
    assert_eq!(read_reply(&mut s, false).unwrap().status, 404);
    // HTTP/1.0 closes after one response unless asked not to.
    let reply = raw(&server, b"GET /api/digit?index=0 HTTP/1.0\r\n\r\n").unwrap();
    assert_eq!(
        (reply.status, reply.header("connection")),
        (200, Some("close"))
    );
}

#[test]
fn malformed_requests_get_their_status_and_the_server_carries_on() {
    let server = Serve::with_model(&[]);
    let long = "a".repeat(9000);
    let many: String = (0..400)
        .map(|i| format!("X-Header-{i}: value\r\n"))
        .collect();
    let zeros = vec!["0"; 784].join(",");
    let short = vec!["0"; 783].join(",");
    let mut negative = vec!["0"; 784];
    negative[10] = "-0.5";
    let mut big = vec!["0"; 784];
    big[783] = "1.5";
    let mut strings = vec!["0"; 784];
    strings[3] = "\"white\"";
    let predict = |body: &str| String::from_utf8(post("/api/predict", body)).unwrap();
    let cases: Vec<(&str, String, Option<u16>)> = vec![
        ("garbage bytes", "\u{1}\u{2}\u{3}\r\n\r\n".into(), Some(400)),
        ("bare LF line ends", "GET / HTTP/1.1\nHost: x\n\n".into(), Some(400)),
        ("a bare LF inside the head", "GET / HTTP/1.1\r\nHost: x\nX: y\r\n\r\n".into(), Some(400)),
        ("two spaces in the request line", "GET  / HTTP/1.1\r\nHost: x\r\n\r\n".into(), Some(400)),
        ("no version", "GET /\r\nHost: x\r\n\r\n".into(), Some(400)),
        ("a version that is not HTTP", "GET / FTP/1.1\r\nHost: x\r\n\r\n".into(), Some(400)),
        ("HTTP/2.0", "GET / HTTP/2.0\r\nHost: x\r\n\r\n".into(), Some(505)),
        ("HTTP/1.2", "GET / HTTP/1.2\r\nHost: x\r\n\r\n".into(), Some(505)),
        ("an unknown method", "BREW / HTTP/1.1\r\nHost: x\r\n\r\n".into(), Some(501)),
        ("PUT", "PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n".into(), Some(501)),
        ("DELETE", "DELETE / HTTP/1.1\r\nHost: x\r\n\r\n".into(), Some(501)),
        ("a method in lower case", "get / HTTP/1.1\r\nHost: x\r\n\r\n".into(), Some(501)),
        ("a method that is not a token", "G(T / HTTP/1.1\r\nHost: x\r\n\r\n".into(), Some(400)),
        ("no Host in HTTP/1.1", "GET / HTTP/1.1\r\n\r\n".into(), Some(400)),
        ("a header without a colon", "GET / HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n".into(), Some(400)),
        ("a space before the colon", "GET / HTTP/1.1\r\nHost : x\r\n\r\n".into(), Some(400)),
        ("a folded header", "GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n  2\r\n\r\n".into(), Some(400)),
        ("a control character in a value", "GET / HTTP/1.1\r\nHost: x\u{7}\r\n\r\n".into(), Some(400)),
        ("bytes that are not ASCII", "GET /é HTTP/1.1\r\nHost: x\r\n\r\n".into(), Some(400)),
        ("one header of 9,000 bytes", format!("GET / HTTP/1.1\r\nHost: x\r\nX-Long: {long}\r\n\r\n"), Some(431)),
        ("400 headers", format!("GET / HTTP/1.1\r\nHost: x\r\n{many}\r\n"), Some(431)),
        ("a target of 9,000 bytes", format!("GET /{long} HTTP/1.1\r\nHost: x\r\n\r\n"), Some(431)),
        ("an absolute target", "GET http://example.com/ HTTP/1.1\r\nHost: x\r\n\r\n".into(), Some(400)),
        ("the asterisk target", "GET * HTTP/1.1\r\nHost: x\r\n\r\n".into(), Some(400)),
        ("a POST without Content-Length", "POST /api/predict HTTP/1.1\r\nHost: x\r\n\r\n".into(), Some(411)),
        ("a Content-Length that is not a number", "POST /api/predict HTTP/1.1\r\nHost: x\r\nContent-Length: ten\r\n\r\n".into(), Some(400)),
        ("a negative Content-Length", "POST /api/predict HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n".into(), Some(400)),
        ("two different Content-Lengths", "POST /api/predict HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}".into(), Some(400)),
        ("a body over 64 KiB", "POST /api/predict HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n".into(), Some(413)),
        ("a Content-Length past 2^64", "POST /api/predict HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n".into(), Some(413)),
        ("a chunked body", "POST /api/predict HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n".into(), Some(501)),
        ("dot-dot in the path", "GET /../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n".into(), Some(404)),
        ("encoded dot-dot in the path", "GET /%2e%2e/%2e%2e/etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n".into(), Some(404)),
        ("an encoded slash", "GET /api%2fmodel HTTP/1.1\r\nHost: x\r\n\r\n".into(), Some(404)),
        ("783 pixels", predict(&format!("{{\"pixels\":[{short}]}}")), Some(400)),
        ("785 pixels", predict(&format!("{{\"pixels\":[{zeros},0]}}")), Some(400)),
        ("a NaN pixel", predict(&format!("{{\"pixels\":[NaN,{short}]}}")), Some(400)),
        ("a string pixel", predict(&format!("{{\"pixels\":[{}]}}", strings.join(","))), Some(400)),
        ("a negative pixel", predict(&format!("{{\"pixels\":[{}]}}", negative.join(","))), Some(400)),
        ("a pixel above 1", predict(&format!("{{\"pixels\":[{}]}}", big.join(","))), Some(400)),
        ("pixels not in an object", predict(&format!("[{zeros}]")), Some(400)),
        ("a body that is not JSON", predict("pixels=0,0,0"), Some(400)),
        ("an index past the end", "GET /api/digit?index=10000 HTTP/1.1\r\nHost: x\r\n\r\n".into(), Some(400)),
        ("an index that is not a number", "GET /api/digit?index=-1 HTTP/1.1\r\nHost: x\r\n\r\n".into(), Some(400)),
        ("no index", "GET /api/digit HTTP/1.1\r\nHost: x\r\n\r\n".into(), Some(400)),
        ("nothing at all", String::new(), None),
    ];
    assert!(cases.len() >= 30);
    for (what, request, want) in &cases {
        let mut s = server.connect();
        s.write_all(request.as_bytes()).unwrap();
        let _ = s.shutdown(Shutdown::Write);
        let reply = read_reply(&mut s, false);
        match (want, &reply) {
            (Some(status), Some(r)) => {
                assert_eq!(r.status, *status, "{what}: {}", r.text());
                assert!(
                    r.text().starts_with(&status.to_string()),
                    "{what}: a one-line reason: {}",
                    r.text()
                );
            }
            (None, None) => {}
            _ => panic!("{what}: wanted {want:?}, got {reply:?}"),
        }
        // And the server still answers a correct request.
        assert_eq!(
            get(&server, "/api/digit?index=0").status,
            200,
            "after {what}"
        );
    }
    // A body that is not UTF-8.
    let mut request =
        b"POST /api/predict HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\n".to_vec();
    request.extend_from_slice(&[0xff, 0xfe, 0x00, 0x80]);
    assert_eq!(raw(&server, &request).unwrap().status, 400);
    // A Content-Length that promises more than comes, then the client stops sending.
    let mut s = server.connect();
    s.write_all(b"POST /api/predict HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"pix")
        .unwrap();
    s.shutdown(Shutdown::Write).unwrap();
    assert_eq!(read_reply(&mut s, false).unwrap().status, 400);
    // One that promises less: the rest is read as the next request, which is refused.
    let body = format!("{{\"pixels\":[{zeros}]}}");
    let mut lie =
        format!("POST /api/predict HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n{body}")
            .into_bytes();
    lie.extend_from_slice(b"\r\n\r\n");
    let mut s = server.connect();
    s.write_all(&lie).unwrap();
    assert_eq!(read_reply(&mut s, false).unwrap().status, 400); // `{"pix` is not JSON
    let next = read_reply(&mut s, false);
    assert!(next.as_ref().is_none_or(|r| r.status == 400), "{next:?}");
    assert_eq!(get(&server, "/api/digit?index=0").status, 200);
}

#[test]
fn a_slow_client_is_cut_off_without_holding_up_the_others() {
    let server = Serve::with_model(&["--timeout", "2"]);
    let mut slow = server.connect();
    let start = Instant::now();
    let request = b"GET /api/digit?index=0 HTTP/1.1\r\nHost: x\r\n\r\n";
    // One byte every 200 ms: the whole request would take 9 s.
    let mut sent = 0;
    let mut fast_done = None;
    while sent < request.len() {
        if slow.write_all(&request[sent..sent + 1]).is_err() {
            break;
        }
        sent += 1;
        if sent == 3 {
            // Meanwhile another client is served as usual.
            assert_eq!(get(&server, "/api/digit?index=1").status, 200);
            fast_done = Some(start.elapsed());
        }
        std::thread::sleep(Duration::from_millis(200));
        if start.elapsed() > Duration::from_secs(4) {
            break;
        }
    }
    let reply = read_reply(&mut slow, false).expect("a 408 before the connection closes");
    assert_eq!(reply.status, 408, "{}", reply.text());
    assert!(sent < request.len(), "the slow request was let through");
    assert!(fast_done.is_some());
}

#[test]
fn two_thousand_predictions_from_sixteen_clients_are_all_the_librarys() {
    let server = Serve::with_model(&[]);
    let net: Network = simplenn::model::load(model_file()).unwrap();
    let data = dataset::load_dir(&builtin(), 10).unwrap().train;
    let per_client = 125;
    let results: Vec<Vec<f64>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..16)
            .map(|client| {
                let (server, net, data) = (&server, &net, &data);
                scope.spawn(move || {
                    let mut s = server.connect();
                    let mut latencies = Vec::new();
                    for k in 0..per_client {
                        let i = client * per_client + k;
                        let image: Vec<f32> = data
                            .images()
                            .image(i)
                            .iter()
                            .map(|&p| p as f32 / 255.0)
                            .collect();
                        let start = Instant::now();
                        s.write_all(&post("/api/predict", &pixels_json(&image)))
                            .unwrap();
                        let reply = read_reply(&mut s, false).expect("a reply");
                        latencies.push(start.elapsed().as_secs_f64() * 1e3);
                        assert_eq!(reply.status, 200);
                        let got = numbers(reply.json().get("probabilities").unwrap());
                        let want = net.predict_proba(&Matrix::from_vec(1, 784, image));
                        for (g, w) in got.iter().zip(want.as_slice()) {
                            assert!((g - *w as f64).abs() <= 6e-5, "sample {i}: {g} against {w}");
                        }
                    }
                    latencies
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut all: Vec<f64> = results.into_iter().flatten().collect();
    assert_eq!(all.len(), 2000);
    all.sort_by(f64::total_cmp);
    let pct = |p: f64| all[((all.len() - 1) as f64 * p) as usize];
    // Reported, not asserted: a slow machine must not fail this test.
    let _ = writeln!(
        std::io::stderr(),
        "load: 2000 predictions from 16 clients, latency p50 {:.2} ms, p99 {:.2} ms, server peak RSS {}",
        pct(0.5),
        pct(0.99),
        server
            .peak_rss_mb()
            .map_or("unknown".to_string(), |mb| format!("{mb:.0} MB"))
    );
}

#[test]
fn watching_it_learn_publishes_a_new_network_every_epoch() {
    let server = Serve::with_model(&[]);
    let learning = || get(&server, "/api/learning").json();
    assert_eq!(learning().get("running").unwrap().as_bool(), Some(false));
    let start = raw(&server, &post("/api/learn", "")).unwrap();
    assert_eq!(start.status, 200, "{}", start.text());
    assert_eq!(start.json().get("running").unwrap().as_bool(), Some(true));
    assert_eq!(raw(&server, &post("/api/learn", "")).unwrap().status, 409);
    // Follow it for two epochs (however long this machine takes).
    let deadline = Instant::now() + Duration::from_secs(300);
    let state = loop {
        let state = learning();
        if state.get("epoch").unwrap().as_f64().unwrap() >= 2.0 {
            break state;
        }
        assert!(
            Instant::now() < deadline,
            "no two epochs in five minutes: {state}"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    // A new network, the recommended MLP, published at the start and after each epoch.
    assert!(state.get("version").unwrap().as_f64().unwrap() >= 3.0);
    let history = state.get("history").unwrap().as_array().unwrap();
    let accuracy = history[1].get("accuracy").unwrap().as_f64().unwrap();
    assert!(
        accuracy > 0.8,
        "after two epochs it gets {accuracy} of the digits right"
    );
    let initial = state.get("initial_accuracy").unwrap().as_f64().unwrap();
    assert!(initial < 0.5, "the untrained network got {initial} right");
    let model = get(&server, "/api/model").json();
    assert_eq!(
        model
            .get("first_layer_images")
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        512
    );
}

/// Debian's Chromium, or `SIMPLENN_CHROMIUM`.
fn chromium() -> Option<PathBuf> {
    if let Ok(path) = std::env::var("SIMPLENN_CHROMIUM") {
        return Some(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| ["chromium", "chromium-browser"].map(|name| dir.join(name)))
        .find(|p| p.is_file())
}

#[test]
fn the_page_reads_a_drawn_seven_in_chromium() {
    let Some(chromium) = chromium() else {
        // Straight to stderr, past the harness's capture, as the data tests do.
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED the_page_reads_a_drawn_seven_in_chromium: no chromium on PATH (apt-get install chromium)"
        );
        return;
    };
    // The quick model the page trains itself when given no --model: the path a new user takes.
    let server = Serve::start(&[]);
    let origin = format!("http://{}", server.addr);
    let out = Command::new(&chromium)
        .args([
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            // Nothing may leave this machine: every other host fails to resolve.
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
            "--virtual-time-budget=20000",
            "--dump-dom",
            &format!("{origin}/?selftest"),
        ])
        .output()
        .expect("running chromium");
    let dom = String::from_utf8_lossy(&out.stdout);
    let line = dom
        .split("id=\"selftest\">")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .unwrap_or_default()
        .replace("&quot;", "\"");
    assert!(
        line.starts_with("selftest: predicted 7;"),
        "the page said: {line:?}"
    );
    assert!(line.contains("errors: [];"), "JavaScript errors: {line}");
    let resources = line
        .split("resources: ")
        .nth(1)
        .expect("a list of resources");
    let resources = Json::parse(resources).expect("a JSON list");
    for r in resources.as_array().unwrap() {
        let url = r.as_str().unwrap();
        assert!(
            url.starts_with(&origin),
            "the page loaded {url}, which is not this server"
        );
    }
}
