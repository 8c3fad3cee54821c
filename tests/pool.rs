//! The thread pool behind the products: closures that borrow, a panic in a worker or in
//! the scope's own body, an early return, nested scopes with more closures than workers,
//! and scopes opened from several threads at once. The products' results do not depend on
//! the thread count (`tests/threads.rs`); these test the pool itself.

use simplenn::matmul::pool::scope;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

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

#[test]
fn scopes_from_several_threads_at_once_each_get_their_own_results() {
    std::thread::scope(|threads| {
        for t in 0..4usize {
            threads.spawn(move || {
                for round in 0..50usize {
                    let mut parts = [0usize; 4];
                    scope(2, |s| {
                        for (i, p) in parts.iter_mut().enumerate() {
                            s.spawn(move || *p = t * 1000 + round * 10 + i);
                        }
                    });
                    let want: Vec<usize> = (0..4).map(|i| t * 1000 + round * 10 + i).collect();
                    assert_eq!(parts.to_vec(), want);
                }
            });
        }
    });
}
