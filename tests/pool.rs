//! The thread pool behind the products: closures that borrow, a panic in a worker or in
//! the scope's own body, a panic payload whose `Drop` panics, an early return, nested scopes
//! with more closures than workers, and scopes opened from several threads at once. The
//! products' results do not depend on the thread count (`tests/threads.rs`); these test the
//! pool itself. A test of something that could hang runs through `within_a_minute`, so that
//! a hang fails the test, saying what hung, instead of stalling the run.

use simplenn::matmul::pool::scope;
use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind, panic_any};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

/// Far longer than any of these tests takes on a slow machine (they take milliseconds), so
/// that reaching it means a hang, not a slow machine.
const HANG: Duration = Duration::from_secs(60);

/// Runs `f` on a thread of its own and returns what it returns, or fails the test naming
/// `what` if it has not finished within [`HANG`] (or if it panicked).
fn within_a_minute<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(HANG) {
        Ok(value) => value,
        Err(RecvTimeoutError::Timeout) => panic!("{what}: not finished after {HANG:?}: it hangs"),
        Err(RecvTimeoutError::Disconnected) => panic!("{what}: panicked (see above)"),
    }
}

/// Waits until `count` reaches `want`, failing the test after [`HANG`].
fn wait_until(what: &str, count: &AtomicUsize, want: usize) {
    let start = Instant::now();
    while count.load(Ordering::SeqCst) != want {
        assert!(
            start.elapsed() < HANG,
            "{what}: {} of {want} after {HANG:?}",
            count.load(Ordering::SeqCst)
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// A panic payload whose `Drop` panics in turn, counting its drops.
struct PanicsOnDrop(Arc<AtomicUsize>);

impl Drop for PanicsOnDrop {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
        panic!("a panic payload that panics when dropped");
    }
}

#[test]
fn closures_write_through_their_borrows_before_the_scope_returns() {
    let mut out = vec![0usize; 64];
    scope(3, |s| {
        for (i, chunk) in out.chunks_mut(8).enumerate() {
            s.spawn(move || {
                std::thread::sleep(Duration::from_millis(1));
                chunk.fill(i + 1);
            });
        }
    });
    let want: Vec<usize> = (0..64).map(|j| j / 8 + 1).collect();
    assert_eq!(out, want);
}

#[test]
fn a_panicking_worker_is_resumed_in_the_caller_after_the_others_finish() {
    let finished = AtomicUsize::new(0);
    let caught = catch_unwind(AssertUnwindSafe(|| {
        scope(2, |s| {
            s.spawn(|| panic!("worker says no"));
            for _ in 0..4 {
                s.spawn(|| {
                    std::thread::sleep(Duration::from_millis(5));
                    finished.fetch_add(1, Ordering::SeqCst);
                });
            }
        })
    }));
    let payload = caught.expect_err("the panic must reach the caller");
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"worker says no"));
    assert_eq!(
        finished.load(Ordering::SeqCst),
        4,
        "the others ran to the end first"
    );
    // The pool still works.
    let mut x = 0;
    scope(2, |s| s.spawn(|| x = 7));
    assert_eq!(x, 7);
}

#[test]
fn a_panic_in_the_scope_body_still_waits_for_its_closures() {
    let done = AtomicUsize::new(0);
    let caught = catch_unwind(AssertUnwindSafe(|| {
        scope(1, |s| {
            s.spawn(|| {
                std::thread::sleep(Duration::from_millis(20));
                done.fetch_add(1, Ordering::SeqCst);
            });
            panic!("body fails");
        })
    }));
    assert!(caught.is_err());
    assert_eq!(
        done.load(Ordering::SeqCst),
        1,
        "unwound before its closure finished"
    );
}

#[test]
fn an_early_return_waits_too() {
    let done = AtomicUsize::new(0);
    let found = scope(1, |s| {
        for i in 0..5 {
            let done = &done;
            s.spawn(move || {
                std::thread::sleep(Duration::from_millis(2));
                done.fetch_add(i, Ordering::SeqCst);
            });
            if i == 2 {
                return Some(i); // the loop is left early
            }
        }
        None
    });
    assert_eq!(found, Some(2));
    assert_eq!(
        done.load(Ordering::SeqCst),
        1 + 2,
        "closures 0, 1 and 2 all finished"
    );
}

#[test]
fn nested_scopes_with_more_closures_than_workers_do_not_deadlock() {
    let total = AtomicUsize::new(0);
    scope(1, |outer| {
        for _ in 0..8 {
            outer.spawn(|| {
                scope(1, |inner| {
                    for _ in 0..8 {
                        inner.spawn(|| {
                            total.fetch_add(1, Ordering::SeqCst);
                        });
                    }
                });
            });
        }
    });
    assert_eq!(total.load(Ordering::SeqCst), 64);
}

/// `threads` threads each open `rounds` scopes, one after the other, of `width` closures
/// that write what they are, and check that each scope got its own results.
fn scopes_from_threads(threads: usize, rounds: usize, width: usize) {
    std::thread::scope(|scoped| {
        for t in 0..threads {
            scoped.spawn(move || {
                for round in 0..rounds {
                    let mut parts = vec![0usize; width];
                    scope(2, |s| {
                        for (i, p) in parts.iter_mut().enumerate() {
                            s.spawn(move || *p = t * 100_000 + round * 100 + i);
                        }
                    });
                    let want: Vec<usize> =
                        (0..width).map(|i| t * 100_000 + round * 100 + i).collect();
                    assert_eq!(parts, want);
                }
            });
        }
    });
}

#[test]
fn scopes_from_several_threads_at_once_each_get_their_own_results() {
    within_a_minute("scopes from four threads", || scopes_from_threads(4, 50, 4));
}

/// Opens a scope of `closures` closures that each panic with a [`PanicsOnDrop`] counted in
/// `drops`, whose body then runs `body`, and returns the panic payload the scope resumes.
fn scope_of_payloads_that_panic(
    closures: usize,
    drops: &Arc<AtomicUsize>,
    body: impl FnOnce(),
) -> Box<dyn Any + Send> {
    let caught = catch_unwind(AssertUnwindSafe(|| {
        scope(2, |s| {
            for _ in 0..closures {
                let drops = Arc::clone(drops);
                s.spawn(move || panic_any(PanicsOnDrop(drops)));
            }
            body();
        })
    }));
    caught.expect_err("a panic must reach the caller")
}

#[test]
fn payloads_whose_drop_panics_neither_hang_the_scope_nor_escape_it() {
    let drops = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&drops);
    let payload = within_a_minute(
        "a scope whose closures' payloads panic when dropped",
        move || scope_of_payloads_that_panic(4, &counted, || {}),
    );
    assert!(
        payload.is::<PanicsOnDrop>(),
        "the payload resumed is a closure's"
    );
    // Dropping it here would panic in this test: once resumed, it is the caller's.
    std::mem::forget(payload);
    // The three that are not resumed are dropped, each once, their panics contained.
    wait_until("surplus payloads dropped", &drops, 3);
    // And the pool still runs closures.
    let mut x = 0;
    scope(2, |s| s.spawn(|| x = 7));
    assert_eq!(x, 7);
}

#[test]
fn a_panic_in_the_body_wins_and_the_closures_payloads_are_dropped_quietly() {
    let drops = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&drops);
    let payload = within_a_minute("a panicking body with panicking closures", move || {
        scope_of_payloads_that_panic(2, &counted, || panic!("the body fails"))
    });
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"the body fails"));
    wait_until("the closures' payloads dropped", &drops, 2);
}

#[test]
fn the_count_of_queued_closures_never_drifts_from_the_queue() {
    // Pushes and pops race hardest with many threads opening scopes of tiny closures at
    // once. In a build with debug assertions (as `cargo test` builds), the pool checks at
    // every push and pop, under the queue's lock, that its count equals the queue's length;
    // a count changed outside the lock would fail that check in a worker and hang a scope.
    within_a_minute("scopes of tiny closures from eight threads", || {
        scopes_from_threads(8, 300, 8)
    });
}
