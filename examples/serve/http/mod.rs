//! A small HTTP/1.1 server on `std::net`, for this example's web page: enough of the
//! protocol for a browser and `curl`, strict about everything else. It lives here, not in
//! the library, because a neural network has no use for it; only the page does.
//!
//! What it speaks (RFC 9110 and 9112): `GET`, `HEAD` (answered as the `GET` of the same
//! target, without the body) and `POST`; bodies with a
//! `Content-Length` (chunked bodies are refused with 501); persistent connections
//! (HTTP/1.1's default, `Connection: close` honoured, HTTP/1.0 closes); one response per
//! request, in order. What it guards against, each answered with its status and a one-line
//! reason, after which the connection is closed:
//!
//! | what | status |
//! | --- | --- |
//! | a malformed request line or header, a missing `Host` (HTTP/1.1), bare LF line ends, a body shorter than its `Content-Length` | 400 |
//! | a request not complete within [`Limits::request_timeout`] (a client sending a byte a second) | 408 |
//! | a `POST` without `Content-Length` | 411 |
//! | a body over [`Limits::max_body`] (refused before it is read) | 413 |
//! | a request line and headers over [`Limits::max_head`] | 431 |
//! | a method other than `GET`, `HEAD`, `POST`; `Transfer-Encoding` | 501 |
//! | a version other than 1.0 or 1.1 | 505 |
//! | more than [`Limits::max_connections`] open connections | 503 |
//!
//! The handler decides 404 and 405. A handler that panics gets its request a 500, and the
//! server goes on. At most [`Limits::workers`] threads serve connections, one connection
//! each; a slow client holds one of them for [`Limits::request_timeout`] at most.
//!
//! Nothing here reads a file: the paths are only strings the handler matches, so `..` in a
//! path reaches nothing.
//!
//! Its use is [`Server::bind`], then [`Server::run`] with a handler from [`Request`] to
//! [`Response`]: `main.rs` does it with the page's routes, and `tests.rs` with a handler of
//! its own (a panic, an echo of the query string, a body's length).

mod request;
#[cfg(test)]
mod tests;

use request::{Buffered, Read1, read_request};
use simplenn::json::Json;
use std::io::{self, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A request's method.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Method {
    /// `GET`.
    Get,
    /// `HEAD`: a `GET` whose response is sent without its body. The server hands the
    /// handler a `GET` for it, so a handler never sees this.
    Head,
    /// `POST`.
    Post,
    /// Any other token; the server answers 501 before a handler sees it.
    Other(String),
}

impl Method {
    fn from_token(token: &str) -> Method {
        match token {
            "GET" => Method::Get,
            "HEAD" => Method::Head,
            "POST" => Method::Post,
            other => Method::Other(other.to_string()),
        }
    }

    /// The method as it is written in a request.
    pub fn as_str(&self) -> &str {
        match self {
            Method::Get => "GET",
            Method::Head => "HEAD",
            Method::Post => "POST",
            Method::Other(m) => m,
        }
    }
}

/// One request, as the handler sees it.
#[derive(Clone, Debug)]
pub struct Request {
    /// The method.
    pub method: Method,
    /// The path, as sent (not percent-decoded): `/api/predict`.
    pub path: String,
    /// What follows `?` in the target, if anything.
    pub query: Option<String>,
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub minor_version: u8,
    /// The headers in order, names in lower case.
    pub headers: Vec<(String, String)>,
    /// The body (empty without a `Content-Length`).
    pub body: Vec<u8>,
}

impl Request {
    /// The first header called `name` (give it in lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The value of `key` in the query string (`?key=value&…`), as sent.
    pub fn query_param(&self, key: &str) -> Option<&str> {
        self.query.as_deref()?.split('&').find_map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (k == key).then_some(v)
        })
    }

    /// Whether the client wants the connection kept open after the response.
    fn keep_alive(&self) -> bool {
        let connection = self.header("connection").unwrap_or("").to_ascii_lowercase();
        let says = |word| connection.split(',').any(|t| t.trim() == word);
        match self.minor_version {
            1 => !says("close"),
            _ => says("keep-alive"),
        }
    }
}

/// A response: a status, headers, a body. `Content-Length`, `Connection` and `Date`-free
/// framing are added when it is sent.
#[derive(Clone, Debug, PartialEq)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// Headers besides the framing ones: `Content-Type` and whatever the handler adds.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Response {
    /// A response with a body of the given content type.
    pub fn new(status: u16, content_type: &str, body: Vec<u8>) -> Response {
        Response {
            status,
            headers: vec![("Content-Type".into(), content_type.into())],
            body,
        }
    }

    /// A `200` JSON response.
    pub fn json(value: &Json) -> Response {
        Response::new(200, "application/json", value.to_string().into_bytes())
    }

    /// An error: the status, its reason phrase and `reason`, as one line of text.
    pub fn error(status: u16, reason: &str) -> Response {
        let line = format!("{status} {}: {reason}\n", reason_phrase(status));
        Response::new(status, "text/plain; charset=utf-8", line.into_bytes())
    }

    /// The response with one more header.
    pub fn with_header(mut self, name: &str, value: &str) -> Response {
        self.headers.push((name.into(), value.into()));
        self
    }
}

/// The reason phrase of a status code, as RFC 9110 names it.
pub fn reason_phrase(status: u16) -> &'static str {
    match status {
        200 => "OK",
        204 => "No Content",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        409 => "Conflict",
        411 => "Length Required",
        413 => "Content Too Large",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        505 => "HTTP Version Not Supported",
        _ => "Status",
    }
}

/// The server's bounds.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Bytes of request line and headers, the blank line included (8 KiB).
    pub max_head: usize,
    /// Bytes of body (64 KiB).
    pub max_body: usize,
    /// How long a request may take to arrive, from its first byte (10 s).
    pub request_timeout: Duration,
    /// How long a kept-alive connection may wait for its next request (5 s).
    pub idle_timeout: Duration,
    /// Threads serving connections (32).
    pub workers: usize,
    /// Connections open at once, being served or waiting for a thread (64); more are
    /// answered 503 and closed.
    pub max_connections: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_head: 8 * 1024,
            max_body: 64 * 1024,
            request_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(5),
            workers: 32,
            max_connections: 64,
        }
    }
}

/// What a handler is: a function from a request to a response, shared by the workers.
type Handler = dyn Fn(&Request) -> Response + Send + Sync;

/// A listening server; see the [module docs](self).
pub struct Server {
    listener: TcpListener,
    limits: Limits,
    log: bool,
}

impl Server {
    /// Listens on `addr` (port 0: any free port; see [`local_addr`](Self::local_addr)).
    ///
    /// # Errors
    /// If the address cannot be bound (in use, not permitted).
    pub fn bind(addr: impl ToSocketAddrs, limits: Limits) -> io::Result<Server> {
        Ok(Server {
            listener: TcpListener::bind(addr)?,
            limits,
            log: true,
        })
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// Without the log line per request on stderr.
    pub fn quiet(mut self) -> Server {
        self.log = false;
        self
    }

    /// Serves forever: accepts connections and hands each to a worker thread, which reads
    /// its requests, calls `handler` on each and writes the responses.
    ///
    /// # Errors
    /// Only if the listener fails for good; a failed connection affects only itself.
    pub fn run(
        self,
        handler: impl Fn(&Request) -> Response + Send + Sync + 'static,
    ) -> io::Result<()> {
        let handler: Arc<Handler> = Arc::new(handler);
        let open = Arc::new(AtomicUsize::new(0));
        let (queue, waiting) = sync_channel::<TcpStream>(self.limits.max_connections);
        let waiting = Arc::new(Mutex::new(waiting));
        for _ in 0..self.limits.workers.max(1) {
            let (waiting, handler, open) = (waiting.clone(), handler.clone(), open.clone());
            let (limits, log) = (self.limits.clone(), self.log);
            std::thread::spawn(move || worker(&waiting, &*handler, &limits, log, &open));
        }
        loop {
            match self.listener.accept() {
                Ok((stream, _)) => self.admit(stream, &queue, &open),
                Err(e) if e.kind() == io::ErrorKind::InvalidInput => return Err(e),
                // A connection that failed between its arrival and accept(), or no file
                // descriptor left for one: wait a moment and take the next.
                Err(_) => std::thread::sleep(Duration::from_millis(10)),
            }
        }
    }

    /// Runs the server on a thread of its own and returns the address it listens on, so
    /// that a test can talk to it from the same process. (The program itself only runs.)
    #[cfg(test)]
    pub fn spawn(
        self,
        handler: impl Fn(&Request) -> Response + Send + Sync + 'static,
    ) -> SocketAddr {
        let addr = self.local_addr();
        std::thread::spawn(move || self.run(handler));
        addr
    }

    /// Queues an accepted connection for a worker, or answers 503 when too many are open.
    fn admit(&self, stream: TcpStream, queue: &SyncSender<TcpStream>, open: &AtomicUsize) {
        if open.fetch_add(1, Ordering::AcqRel) >= self.limits.max_connections {
            open.fetch_sub(1, Ordering::AcqRel);
            let mut stream = stream;
            let _ = stream.set_write_timeout(Some(Duration::from_secs(1)));
            let busy = Response::error(503, "too many connections; try again");
            let _ = write_response(&mut stream, &busy, false, false);
            self.log_line(&stream, "-", &busy, Instant::now());
            return;
        }
        if let Err(e) = queue.try_send(stream) {
            // Cannot happen while `open` bounds the queue; count it out if it does.
            open.fetch_sub(1, Ordering::AcqRel);
            drop(e);
        }
    }

    fn log_line(&self, stream: &TcpStream, what: &str, response: &Response, start: Instant) {
        if self.log {
            log(stream, what, response, start);
        }
    }
}

/// One worker: takes connections off the queue and serves each until it closes.
fn worker(
    waiting: &Mutex<Receiver<TcpStream>>,
    handler: &Handler,
    limits: &Limits,
    log_requests: bool,
    open: &AtomicUsize,
) {
    loop {
        let next = waiting.lock().unwrap_or_else(|e| e.into_inner()).recv();
        let Ok(stream) = next else { return };
        serve_connection(stream, handler, limits, log_requests);
        open.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Reads requests off one connection and answers them until it closes, goes idle, or a
/// request is refused.
fn serve_connection(stream: TcpStream, handler: &Handler, limits: &Limits, log_requests: bool) {
    // A short read timeout, so that the request deadlines are checked between reads.
    let setup = stream
        .set_read_timeout(Some(Duration::from_millis(100)))
        .and_then(|()| stream.set_write_timeout(Some(limits.request_timeout)))
        .and_then(|()| stream.set_nodelay(true));
    if setup.is_err() {
        return;
    }
    let mut conn = Buffered::new(stream);
    loop {
        match read_request(&mut conn, limits) {
            Read1::Closed => break,
            Read1::Reject(reject) => {
                let start = Instant::now();
                let response = Response::error(reject.status, &reject.reason);
                let _ = write_response(conn.get_mut(), &response, false, false);
                if log_requests {
                    log(conn.get_mut(), "-", &response, start);
                }
                break;
            }
            Read1::Request(mut request) => {
                let start = Instant::now();
                // HEAD is GET without the body: the handler answers a GET.
                let head_only = request.method == Method::Head;
                if head_only {
                    request.method = Method::Get;
                }
                let response = match catch_unwind(AssertUnwindSafe(|| handler(&request))) {
                    Ok(r) => r,
                    Err(_) => Response::error(500, "the handler failed on this request"),
                };
                let keep = request.keep_alive() && response.status < 500;
                let written = write_response(conn.get_mut(), &response, keep, head_only);
                if log_requests {
                    let method = if head_only {
                        "HEAD"
                    } else {
                        request.method.as_str()
                    };
                    let target = match &request.query {
                        Some(q) => format!("{method} {}?{q}", request.path),
                        None => format!("{method} {}", request.path),
                    };
                    log(conn.get_mut(), &target, &response, start);
                }
                if written.is_err() || !keep {
                    break;
                }
            }
        }
    }
    let _ = conn.get_mut().shutdown(Shutdown::Both);
}

/// Writes a response with its framing headers; without the body for `HEAD`.
fn write_response(
    stream: &mut TcpStream,
    response: &Response,
    keep_alive: bool,
    head_only: bool,
) -> io::Result<()> {
    let mut out = format!(
        "HTTP/1.1 {} {}\r\n",
        response.status,
        reason_phrase(response.status)
    );
    for (name, value) in &response.headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str(&format!("Content-Length: {}\r\n", response.body.len()));
    out.push_str(if keep_alive {
        "Connection: keep-alive\r\n\r\n"
    } else {
        "Connection: close\r\n\r\n"
    });
    let mut bytes = out.into_bytes();
    if !head_only {
        bytes.extend_from_slice(&response.body);
    }
    stream.write_all(&bytes)?;
    stream.flush()
}

/// One line on stderr: who, what, the status, the body's size, the time taken, and for an
/// error its reason.
fn log(stream: &TcpStream, what: &str, response: &Response, start: Instant) {
    let peer = stream
        .peer_addr()
        .map_or_else(|_| "?".to_string(), |a| a.to_string());
    let ms = start.elapsed().as_secs_f64() * 1e3;
    let reason = if response.status >= 400 {
        String::from_utf8_lossy(&response.body)
            .trim_end()
            .to_string()
    } else {
        String::new()
    };
    eprintln!(
        "{peer} \"{what}\" {} {}B {ms:.1}ms {reason}",
        response.status,
        response.body.len()
    );
}
