//! Reading one request off a connection: the request line, the headers and a body of a
//! declared length, each within its limit, every failure a [`Reject`] with its status code.

use super::{Limits, Method, Request};
use std::io::{self, Read};
use std::time::Instant;

/// Why a request was refused: the status to answer with and a one-line reason. After a
/// `Reject` the connection is closed, since what follows on it cannot be trusted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reject {
    /// The HTTP status code (400, 408, 411, 413, 431, 501, 505).
    pub status: u16,
    /// What was wrong, for a person.
    pub reason: String,
}

impl Reject {
    pub(crate) fn new(status: u16, reason: impl Into<String>) -> Self {
        Reject {
            status,
            reason: reason.into(),
        }
    }
}

/// What reading a request gave.
pub(crate) enum Read1 {
    /// A whole request.
    Request(Request),
    /// The client closed the connection (or went quiet) before sending a byte of another
    /// request: nothing to answer.
    Closed,
    /// A bad request: answer it with this and close.
    Reject(Reject),
}

/// Bytes read from a connection but not yet used: a request may arrive in many pieces,
/// and the next one may begin in the piece that ends this one.
pub(crate) struct Buffered<S> {
    stream: S,
    buf: Vec<u8>,
}

impl<S: Read> Buffered<S> {
    pub(crate) fn new(stream: S) -> Self {
        Buffered {
            stream,
            buf: Vec::new(),
        }
    }

    pub(crate) fn get_mut(&mut self) -> &mut S {
        &mut self.stream
    }

    /// Reads more bytes, at most `max_len` in the buffer; `Ok(0)` at the end of the stream.
    fn fill(&mut self, max_len: usize) -> io::Result<usize> {
        let mut chunk = [0u8; 4096];
        let room = max_len.saturating_sub(self.buf.len()).clamp(1, chunk.len());
        let n = self.stream.read(&mut chunk[..room])?;
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(n)
    }
}

/// Reads one request within `limits`, waiting at most `limits.request_timeout` from its
/// first byte (or `limits.idle_timeout` for that first byte, between requests on a kept-alive
/// connection). The stream's own read timeout must be short (the server sets it), so that
/// the deadlines are checked often: a client that sends a byte a second is still cut off.
pub(crate) fn read_request<S: Read>(conn: &mut Buffered<S>, limits: &Limits) -> Read1 {
    let waiting = Instant::now();
    // The request's clock starts at its first byte (which may already be buffered).
    let mut start = (!conn.buf.is_empty()).then(Instant::now);
    // The head: everything up to the blank line.
    let head_end = loop {
        if let Some(end) = find(&conn.buf, b"\r\n\r\n") {
            break end;
        }
        if find(&conn.buf, b"\n\n").is_some() {
            return reject(400, "lines must end in CRLF, not a bare LF");
        }
        if conn.buf.len() > limits.max_head {
            return reject(
                431,
                format!(
                    "the request line and headers are over {} bytes",
                    limits.max_head
                ),
            );
        }
        match start {
            None if waiting.elapsed() > limits.idle_timeout => return Read1::Closed,
            Some(t) if t.elapsed() > limits.request_timeout => {
                return reject(408, "the request took too long to arrive");
            }
            _ => {}
        }
        match conn.fill(limits.max_head + 4) {
            Ok(0) if conn.buf.is_empty() => return Read1::Closed,
            Ok(0) => {
                return reject(
                    400,
                    "the connection closed in the middle of the request's head",
                );
            }
            Ok(_) => {
                start.get_or_insert_with(Instant::now);
            }
            Err(e) if is_timeout(&e) => {}
            Err(_) => return Read1::Closed,
        }
    };
    let start = start.unwrap_or(waiting);
    if head_end + 4 > limits.max_head {
        return reject(
            431,
            format!(
                "the request line and headers are over {} bytes",
                limits.max_head
            ),
        );
    }
    let head: Vec<u8> = conn.buf.drain(..head_end + 4).collect();
    let mut request = match parse_head(&head[..head_end]) {
        Ok(r) => r,
        Err(e) => return Read1::Reject(e),
    };
    // The body: exactly Content-Length bytes, if there is one.
    let length = match body_length(&request, limits) {
        Ok(n) => n,
        Err(e) => return Read1::Reject(e),
    };
    while conn.buf.len() < length {
        if start.elapsed() > limits.request_timeout {
            return reject(408, "the request's body took too long to arrive");
        }
        match conn.fill(length) {
            Ok(0) => {
                return reject(
                    400,
                    format!(
                        "the body ended after {} of its {length} bytes",
                        conn.buf.len()
                    ),
                );
            }
            Ok(_) => {}
            Err(e) if is_timeout(&e) => {}
            Err(_) => return Read1::Closed,
        }
    }
    request.body = conn.buf.drain(..length).collect();
    Read1::Request(request)
}

fn reject(status: u16, reason: impl Into<String>) -> Read1 {
    Read1::Reject(Reject::new(status, reason))
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted
    )
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Parses the request line and the headers (RFC 9112, sections 3 and 5), strictly: lines end
/// in CRLF, the method is a token, the target is an origin-form path, the version 1.0 or 1.1,
/// header names are tokens with no space before the colon, and there are no folded lines.
pub(crate) fn parse_head(head: &[u8]) -> Result<Request, Reject> {
    let text = std::str::from_utf8(head)
        .map_err(|_| Reject::new(400, "the request's head is not ASCII text"))?;
    if !text.is_ascii() {
        return Err(Reject::new(400, "the request's head is not ASCII text"));
    }
    let mut lines = text.split("\r\n");
    let line = lines.next().unwrap_or_default();
    if line.contains(['\r', '\n']) {
        return Err(Reject::new(400, "a line ends in a bare CR or LF, not CRLF"));
    }
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Reject::new(
            400,
            "the request line is not METHOD TARGET HTTP/1.1",
        ));
    };
    if method.is_empty() || !method.bytes().all(is_token) {
        return Err(Reject::new(400, "the method is not a token"));
    }
    let minor = match version {
        "HTTP/1.1" => 1,
        "HTTP/1.0" => 0,
        v if v.starts_with("HTTP/") && v.len() == 8 && v.as_bytes()[6] == b'.' => {
            return Err(Reject::new(
                505,
                format!("{v} is not supported: this server speaks HTTP/1.1"),
            ));
        }
        _ => {
            return Err(Reject::new(
                400,
                "the request line does not end in HTTP/1.0 or HTTP/1.1",
            ));
        }
    };
    if !target.starts_with('/') || !target.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Reject::new(400, "the target is not a path starting with /"));
    }
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p.to_string(), Some(q.to_string())),
        None => (target.to_string(), None),
    };
    let mut headers = Vec::new();
    for line in lines {
        if line.contains(['\r', '\n']) {
            return Err(Reject::new(400, "a line ends in a bare CR or LF, not CRLF"));
        }
        if line.starts_with([' ', '\t']) {
            return Err(Reject::new(400, "a header is folded over two lines"));
        }
        let Some((name, value)) = line.split_once(':') else {
            return Err(Reject::new(
                400,
                format!("a header line has no colon: {:?}", clip(line)),
            ));
        };
        if name.is_empty() || !name.bytes().all(is_token) {
            return Err(Reject::new(
                400,
                format!("bad header name {:?}", clip(name)),
            ));
        }
        let value = value.trim_matches([' ', '\t']);
        if value.bytes().any(|b| b.is_ascii_control() && b != b'\t') {
            return Err(Reject::new(
                400,
                format!("control characters in header {name}"),
            ));
        }
        headers.push((name.to_ascii_lowercase(), value.to_string()));
    }
    let request = Request {
        method: Method::from_token(method),
        path,
        query,
        minor_version: minor,
        headers,
        body: Vec::new(),
    };
    if minor == 1 && request.header("host").is_none() {
        return Err(Reject::new(
            400,
            "an HTTP/1.1 request must have a Host header",
        ));
    }
    if let Method::Other(m) = &request.method {
        return Err(Reject::new(
            501,
            format!("method {m} is not implemented (GET, HEAD and POST are)"),
        ));
    }
    Ok(request)
}

/// The body's length from Content-Length; refuses Transfer-Encoding (chunked bodies are not
/// implemented), conflicting lengths, and bodies over the limit (before reading them).
fn body_length(request: &Request, limits: &Limits) -> Result<usize, Reject> {
    if request.header("transfer-encoding").is_some() {
        return Err(Reject::new(
            501,
            "Transfer-Encoding (chunked bodies) is not implemented: send Content-Length",
        ));
    }
    let lengths: Vec<&str> = request
        .headers
        .iter()
        .filter(|(n, _)| n == "content-length")
        .map(|(_, v)| v.as_str())
        .collect();
    let Some(&first) = lengths.first() else {
        return if request.method == Method::Post {
            Err(Reject::new(411, "a POST needs a Content-Length"))
        } else {
            Ok(0)
        };
    };
    if lengths.iter().any(|&l| l != first) {
        return Err(Reject::new(400, "two different Content-Lengths"));
    }
    if first.is_empty() || !first.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Reject::new(
            400,
            format!("Content-Length {:?} is not a number", clip(first)),
        ));
    }
    match first.parse::<usize>() {
        Ok(n) if n <= limits.max_body => Ok(n),
        _ => Err(Reject::new(
            413,
            format!("the body is over {} bytes", limits.max_body),
        )),
    }
}

/// RFC 9110 `tchar`.
fn is_token(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// At most 40 characters of `s`, for a message.
fn clip(s: &str) -> &str {
    &s[..s.len().min(40)]
}
