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
//! is resumed in the caller once the others are done. A panic payload that is not resumed is
//! dropped outside every lock and under `catch_unwind`, so that even one whose `Drop` panics
//! neither hangs the scope nor ends a worker.
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
    /// Closures in the queue, readable without the lock, for spinning. Changed only under the
    /// queue's lock, with the push or pop it counts, so that it equals the queue's length
    /// whenever the lock is held.
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
                    if let Some(job) = self.pop(&mut queue) {
                        break job;
                    }
                    queue = self.work.wait(queue).unwrap_or_else(|e| e.into_inner());
                }
            };
            // Never unwinds: a worker lives as long as the process.
            job.execute();
        }
    }

    /// Queues `job`, counting it before the lock is released.
    fn push(&self, job: Job) {
        let mut queue = lock(&self.queue);
        debug_assert_eq!(self.queued.load(Ordering::Relaxed), queue.len());
        queue.push_back(job);
        self.queued.fetch_add(1, Ordering::Release);
    }

    /// The oldest queued job, if any, uncounted while `queue`'s lock is still held.
    fn pop(&self, queue: &mut VecDeque<Job>) -> Option<Job> {
        debug_assert_eq!(
            self.queued.load(Ordering::Relaxed),
            queue.len(),
            "the pool's count of queued jobs drifted from the queue"
        );
        let job = queue.pop_front()?;
        self.queued.fetch_sub(1, Ordering::Release);
        Some(job)
    }

    fn try_pop(&self) -> Option<Job> {
        if self.queued.load(Ordering::Acquire) == 0 {
            return None;
        }
        self.pop(&mut lock(&self.queue))
    }
}

impl Job {
    /// Runs the closure, catching a panic for the scope to resume, and counts it done. Never
    /// unwinds, whatever the closure or its panic payload does.
    fn execute(self) {
        let Job { run, latch } = self;
        let result = catch_unwind(AssertUnwindSafe(run));
        let surplus = {
            let mut state = lock(&latch.state);
            let surplus = match result {
                Err(payload) if state.1.is_none() => {
                    state.1 = Some(payload);
                    None
                }
                Err(payload) => Some(payload), // the scope resumes the first panic only
                Ok(()) => None,
            };
            state.0 -= 1;
            if state.0 == 0 {
                latch.done.notify_all();
            }
            surplus
        };
        // After the count and the wake-up, and outside the lock: its `Drop` may panic.
        if let Some(payload) = surplus {
            drop_payload(payload);
        }
    }
}

/// Drops a panic payload that will not be resumed, without letting a panic in its `Drop`
/// escape (a payload is any type a closure passed to `panic_any`). Such a panic brings a
/// second payload, which is leaked rather than risk a third.
fn drop_payload(payload: Box<dyn Any + Send>) {
    if let Err(second) = catch_unwind(AssertUnwindSafe(move || drop(payload))) {
        std::mem::forget(second);
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
        // unwind until the latch counts this closure done (its body runs under
        // `catch_unwind`, and `wait_for` follows on every path), so the closure never runs,
        // nor is dropped, after that data is gone. A panic payload it leaves is 'static.
        let run: Box<dyn FnOnce() + Send + 'static> = unsafe { std::mem::transmute(run) };
        lock(&self.latch.state).0 += 1;
        let pool = pool();
        pool.push(Job {
            run,
            latch: Arc::clone(&self.latch),
        });
        pool.work.notify_one();
    }
}

/// Returns when every closure counted by `latch` has finished. Meanwhile it runs queued
/// closures itself, its scope's or others'; none of them can unwind.
fn wait_for(latch: &Latch) {
    let pool = pool();
    loop {
        if lock(&latch.state).0 == 0 {
            return;
        }
        // Help: run whatever is queued, then sleep until ours are done.
        match pool.try_pop() {
            Some(job) => job.execute(),
            None => {
                let start = Instant::now();
                while lock(&latch.state).0 > 0 && start.elapsed() < SPIN {
                    std::hint::spin_loop();
                }
                let mut state = lock(&latch.state);
                while state.0 > 0 {
                    state = latch.done.wait(state).unwrap_or_else(|e| e.into_inner());
                }
                return;
            }
        }
    }
}

/// Runs `f` with a [`Scope`] in which it can spawn closures that borrow the caller's data,
/// and returns when they have all finished.
///
/// `workers` is how many threads the pool should have for this scope: it starts threads
/// until it has that many (at most 64, fewer if the system refuses), and keeps them for
/// later scopes. It is not a limit. The closures run on any of the pool's threads, which an
/// earlier scope may have made more numerous, and on the calling thread too once `f` has
/// returned and it waits; so what bounds how many run at once is how many are spawned, which
/// is how the matrix products bound it.
///
/// If `f` panicked, its panic is resumed here, once every closure has finished; otherwise
/// the first panic among the closures is, and any others are dropped.
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
    let scope = Scope {
        latch: Arc::clone(&latch),
        _env: PhantomData,
    };
    // A panic of `f` is caught, so that the wait below happens on every path: past it, every
    // spawned closure has finished.
    let result = catch_unwind(AssertUnwindSafe(|| f(&scope)));
    wait_for(&latch);
    let closure_panic = lock(&latch.state).1.take();
    match result {
        Err(body_panic) => {
            if let Some(payload) = closure_panic {
                drop_payload(payload);
            }
            resume_unwind(body_panic)
        }
        Ok(value) => {
            if let Some(payload) = closure_panic {
                resume_unwind(payload);
            }
            value
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Job, Latch};
    use std::sync::{Arc, Condvar, Mutex};

    /// A panic payload whose `Drop` panics in turn.
    struct Bomb;

    impl Drop for Bomb {
        fn drop(&mut self) {
            panic!("a panic payload that panics when dropped");
        }
    }

    #[test]
    fn a_job_whose_surplus_payload_panics_when_dropped_counts_itself_done_and_returns() {
        // Another closure of the scope has panicked already; its payload is the one kept.
        let latch = Arc::new(Latch {
            state: Mutex::new((1, Some(Box::new("the first panic")))),
            done: Condvar::new(),
        });
        let job = Job {
            run: Box::new(|| std::panic::panic_any(Bomb)),
            latch: Arc::clone(&latch),
        };
        // On a thread of its own, as on a worker: the thread must not die of the drop.
        let ran = std::thread::spawn(move || job.execute()).join();
        assert!(
            ran.is_ok(),
            "Job::execute unwound, which would end a worker"
        );
        let state = latch.state.lock().unwrap();
        assert_eq!(state.0, 0, "the job was counted done");
        let kept = state.1.as_ref().expect("the first payload is kept");
        assert_eq!(kept.downcast_ref::<&str>(), Some(&"the first panic"));
    }
}
