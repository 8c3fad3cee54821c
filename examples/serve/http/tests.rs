//! The server on its own, with a handler of the tests' making: a handler that panics, the
//! connection limit, custom limits, HEAD, and the query string. (`tests/serve.rs` runs the
//! whole `serve` program: its routes, malformed requests, a load test.)

use super::{Limits, Method, Response, Server};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

fn exchange(addr: SocketAddr, request: &str) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let mut reply = String::new();
    let _ = s.read_to_string(&mut reply);
    reply
}

fn start(limits: Limits) -> SocketAddr {
    Server::bind("127.0.0.1:0", limits)
        .unwrap()
        .quiet()
        .spawn(
            |request| match (request.method.clone(), request.path.as_str()) {
                (Method::Get, "/panic") => panic!("a handler that fails"),
                (Method::Get, "/echo") => Response::new(
                    200,
                    "text/plain",
                    request
                        .query_param("say")
                        .unwrap_or("nothing")
                        .as_bytes()
                        .to_vec(),
                ),
                (Method::Post, "/len") => Response::new(
                    200,
                    "text/plain",
                    request.body.len().to_string().into_bytes(),
                ),
                _ => Response::error(404, "no such page"),
            },
        )
}

#[test]
fn a_handler_that_panics_costs_its_request_a_500_and_nothing_else() {
    let addr = start(Limits::default());
    let reply = exchange(addr, "GET /panic HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(
        reply.starts_with("HTTP/1.1 500 Internal Server Error\r\n"),
        "{reply}"
    );
    assert!(reply.contains("Connection: close"));
    let reply = exchange(
        addr,
        "GET /echo?say=hello&x=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert!(
        reply.starts_with("HTTP/1.1 200 OK\r\n") && reply.ends_with("\r\n\r\nhello"),
        "{reply}"
    );
}

#[test]
fn head_sends_the_headers_of_get_without_the_body() {
    let addr = start(Limits::default());
    let reply = exchange(
        addr,
        "HEAD /echo?say=hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    // The handler matches only GET; the server answers HEAD with its GET answer's headers.
    assert!(reply.starts_with("HTTP/1.1 200 OK\r\n"), "{reply}");
    assert!(reply.ends_with("\r\n\r\n"), "a body after HEAD: {reply}");
    assert!(reply.contains("Content-Length: 5\r\n"), "{reply}");
}

#[test]
fn limits_are_the_ones_given() {
    let addr = start(Limits {
        max_body: 10,
        ..Limits::default()
    });
    let ok = exchange(
        addr,
        "POST /len HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\nConnection: close\r\n\r\n0123456789",
    );
    assert!(ok.starts_with("HTTP/1.1 200") && ok.ends_with("10"), "{ok}");
    let big = exchange(
        addr,
        "POST /len HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n01234567890",
    );
    assert!(
        big.starts_with("HTTP/1.1 413 Content Too Large\r\n"),
        "{big}"
    );
}

#[test]
fn connections_past_the_limit_are_told_to_come_back() {
    let addr = start(Limits {
        workers: 1,
        max_connections: 2,
        ..Limits::default()
    });
    // Two connections that say nothing hold the two places (one served, one waiting).
    let quiet: Vec<TcpStream> = (0..2).map(|_| TcpStream::connect(addr).unwrap()).collect();
    std::thread::sleep(Duration::from_millis(300));
    let reply = exchange(addr, "GET /echo HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(
        reply.starts_with("HTTP/1.1 503 Service Unavailable\r\n"),
        "{reply}"
    );
    // Once they go, there is room again.
    drop(quiet);
    let mut answered = false;
    for _ in 0..100 {
        let reply = exchange(
            addr,
            "GET /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        );
        if reply.starts_with("HTTP/1.1 200") {
            answered = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(answered, "no room after the idle connections closed");
}
