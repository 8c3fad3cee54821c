//! A persistent pool of worker threads that runs borrowed closures: [`scope`], the
//! `std::thread::scope` of the matrix products, without starting a thread per product.
//!
//! Starting and joining a thread costs 60–100 µs on a small virtual machine, as long as a
//! whole batch-64 product takes, so `std::thread::scope` only paid for products of 16 MFLOP
//! and more. Here the threads start once, at the first scope, and wait on a queue; handing
//! one a closure and waiting for it costs a few microseconds.
//!
//! The threads only run closures; how work is split between them is the caller's, so the
//! products' rule stands: threads split outputs, never sums, and a result never depends on
//! the number of threads.
//!
//! **Why `unsafe`.** A closure that borrows the caller's data (`&mut` bands of `C`) has a
//! lifetime shorter than `'static`, and a thread that outlives the call cannot be given it
//! as it is. [`scope`] erases the lifetime (one `transmute`) and makes the erasure sound the
//! way `std::thread::scope` does: it does not return, nor unwind, before every closure
//! spawned in it has finished. A closure that panics is caught on its worker, and the panic
//! is resumed in the caller once the others are done.
//!
//! **Nested use.** A thread waiting for its scope runs queued closures itself meanwhile, so
//! scopes inside spawned closures cannot deadlock, however few the workers.

use std::any::Any;
use std::collections::VecDeque;
use std::marker::PhantomData;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

/// How long an idle worker, or a thread waiting for its scope, keeps checking for work
/// before it sleeps. Waking a sleeping thread costs tens of microseconds on a virtual
/// machine, as much as half a batch-64 product; a training step starts its next product
/// sooner than this.
const SPIN: Duration = Duration::from_micros(200);

/// A closure erased to `'static`, with the latch of the scope it belongs to.
struct Job {
    run: Box<dyn FnOnce() + Send + 'static>,
    latch: Arc<Latch>,
}

/// How many closures of one scope are still to finish, and the first panic among them.
struct Latch {
    state: Mutex<(usize, Option<Box<dyn Any + Send>>)>,
    done: Condvar,
}

/// The queue the workers take closures from.
struct Pool {
    queue: Mutex<VecDeque<Job>>,
    /// Closures in the queue, readable without the lock, for spinning.
    queued: AtomicUsize,
    work: Condvar,
    /// Workers started so far: read without a lock by every scope, changed under `starting`.
    workers: AtomicUsize,
    /// Held while workers are started.
    starting: Mutex<()>,
}

/// The most workers the pool starts, whatever is asked.
const MAX_WORKERS: usize = 64;

fn pool() -> &'static Pool {
    static POOL: OnceLock<Pool> = OnceLock::new();
    POOL.get_or_init(|| Pool {
        queue: Mutex::new(VecDeque::new()),
        queued: AtomicUsize::new(0),
        work: Condvar::new(),
        workers: AtomicUsize::new(0),
        starting: Mutex::new(()),
    })
}

/// Locks `m`, recovering from poisoning: every closure runs under `catch_unwind`, so no
/// lock is ever held by a thread that panics, but a poisoned lock must not spread anyway.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Pool {
    /// Starts workers until there are at least `n` (at most [`MAX_WORKERS`]).
    fn ensure_workers(&'static self, n: usize) {
        let n = n.min(MAX_WORKERS);
        if self.workers.load(Ordering::Acquire) >= n {
            return; // every product after the first: no lock
        }
        let _starting = lock(&self.starting);
        while self.workers.load(Ordering::Acquire) < n {
            let started = std::thread::Builder::new()
                .name(format!(
                    "simplenn-{}",
                    self.workers.load(Ordering::Acquire) + 1
                ))
                .spawn(move || self.work_forever());
            if started.is_err() {
                break; // the waiting thread runs the closures itself: slower, not stuck
            }
            self.workers.fetch_add(1, Ordering::Release);
        }
    }

    fn work_forever(&self) -> ! {
        loop {
            let start = Instant::now();
            while self.queued.load(Ordering::Acquire) == 0 && start.elapsed() < SPIN {
                std::hint::spin_loop();
            }
            let job = {
                let mut queue = lock(&self.queue);
                loop {
                    if let Some(job) = queue.pop_front() {
                        self.queued.fetch_sub(1, Ordering::Release);
                        break job;
                    }
                    queue = self.work.wait(queue).unwrap_or_else(|e| e.into_inner());
                }
            };
            job.execute();
        }
    }

    fn try_pop(&self) -> Option<Job> {
        if self.queued.load(Ordering::Acquire) == 0 {
            return None;
        }
        let job = lock(&self.queue).pop_front();
        if job.is_some() {
            self.queued.fetch_sub(1, Ordering::Release);
        }
        job
    }
}

impl Job {
    /// Runs the closure, catching a panic for the scope to resume, and counts it done.
    fn execute(self) {
        let result = catch_unwind(AssertUnwindSafe(self.run));
        let mut state = lock(&self.latch.state);
        state.0 -= 1;
        if let Err(payload) = result {
            state.1.get_or_insert(payload);
        }
        if state.0 == 0 {
            self.latch.done.notify_all();
        }
    }
}

/// Closures spawned in a [`scope`] may borrow anything that outlives `'env`.
pub struct Scope<'env> {
    latch: Arc<Latch>,
    /// Invariant in `'env`, as `std::thread::Scope` is: the lifetime cannot be shrunk to
    /// let a closure borrow something that dies before the scope ends.
    _env: PhantomData<&'env mut &'env ()>,
}

impl<'env> Scope<'env> {
    /// Runs `f` on a worker thread; [`scope`] waits for it before it returns.
    pub fn spawn<F: FnOnce() + Send + 'env>(&self, f: F) {
        let run: Box<dyn FnOnce() + Send + 'env> = Box::new(f);
        // SAFETY: only the lifetime changes (the two box types have the same layout). The
        // closure may borrow data that lives for 'env, and `scope` does not return or
        // unwind until the latch counts this closure done (see `Wait`), so the closure
        // never runs, nor is dropped, after that data is gone.
        let run: Box<dyn FnOnce() + Send + 'static> = unsafe { std::mem::transmute(run) };
        lock(&self.latch.state).0 += 1;
        let pool = pool();
        lock(&pool.queue).push_back(Job {
            run,
            latch: Arc::clone(&self.latch),
        });
        pool.queued.fetch_add(1, Ordering::Release);
        pool.work.notify_one();
    }
}

/// Waits, in its `Drop`, until every closure of the scope has finished: on the normal
/// return and on unwinding alike. Meanwhile it runs queued closures itself.
struct Wait<'a>(&'a Arc<Latch>);

impl Drop for Wait<'_> {
    fn drop(&mut self) {
        let pool = pool();
        loop {
            if lock(&self.0.state).0 == 0 {
                return;
            }
            // Help: run whatever is queued (our own closures, or others'), then sleep until
            // ours are done.
            match pool.try_pop() {
                Some(job) => job.execute(),
                None => {
                    let start = Instant::now();
                    while lock(&self.0.state).0 > 0 && start.elapsed() < SPIN {
                        std::hint::spin_loop();
                    }
                    let mut state = lock(&self.0.state);
                    while state.0 > 0 {
                        state = self.0.done.wait(state).unwrap_or_else(|e| e.into_inner());
                    }
                    return;
                }
            }
        }
    }
}

/// Runs `f` with a [`Scope`] in which it can spawn closures that borrow the caller's data,
/// with up to `workers` of them running at once on the pool's threads, and returns when
/// they have all finished. If `f` or a spawned closure panicked, the panic is resumed here
/// (the first one, after every closure has finished).
///
/// ```
/// let mut halves = [0u64; 2];
/// let numbers: Vec<u64> = (1..=100).collect();
/// let (left, right) = halves.split_at_mut(1);
/// simplenn::matmul::pool::scope(1, |s| {
///     s.spawn(|| left[0] = numbers[..50].iter().sum());
///     right[0] = numbers[50..].iter().sum();
/// });
/// assert_eq!(halves, [1275, 3775]);
/// ```
///
/// A closure may not borrow what the scope's own body creates, since that is gone before the
/// scope has waited for the closure:
///
/// ```compile_fail
/// simplenn::matmul::pool::scope(1, |s| {
///     let local = vec![1, 2, 3];
///     s.spawn(|| assert_eq!(local.len(), 3));
/// });
/// ```
pub fn scope<'env, R>(workers: usize, f: impl FnOnce(&Scope<'env>) -> R) -> R {
    pool().ensure_workers(workers);
    let latch = Arc::new(Latch {
        state: Mutex::new((0, None)),
        done: Condvar::new(),
    });
    let result = {
        let _wait = Wait(&latch);
        let scope = Scope {
            latch: Arc::clone(&latch),
            _env: PhantomData,
        };
        f(&scope)
        // `_wait` drops here: every spawned closure has finished past this point, whether
        // `f` returned or panicked.
    };
    if let Some(payload) = lock(&latch.state).1.take() {
        resume_unwind(payload);
    }
    result
}
