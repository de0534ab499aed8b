//! A persistent team of kernel threads for the products of one decoded token.
//!
//! Decoding one token is a hundred or more matrix-vector products of a millisecond or
//! less each, with a little single-threaded work between them. Handing each product to
//! rayon costs a split into jobs, a wake-up of the other workers (often from sleep) and
//! a join; on small matrices that overhead is a large part of the product. The team
//! instead keeps its threads watching one atomic word for a short while after each
//! product (as llama.cpp's thread pool does), so the next product starts on every thread
//! within a fraction of a microsecond; after [`SPIN`] without work they sleep on a
//! condition variable and are woken by the next product.
//!
//! The team is off unless `LOGLENS_KERNEL_TEAM=1`: on a 2-core machine shared with
//! other busy processes it decoded 4-15 % slower than rayon (its spinning workers use
//! the time slices they later need), and a quiet machine to show its gain has not been
//! available yet (benches/RESULTS.md, Qwen2.5-Coder on CPU).
//!
//! A product is cut into chunks that the caller and the workers claim one at a time
//! from that word (generation, chunk count and next chunk packed together), so a thread
//! the OS has taken away from us holds up at most the chunk it is running: the others
//! take the rest. The caller returns once every chunk has run; a worker that wakes up
//! late finds the word changed and touches nothing.

use std::cell::UnsafeCell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, OnceLock, PoisonError, TryLockError};
use std::time::{Duration, Instant};

/// How long an idle worker watches for the next product before it sleeps.
const SPIN: Duration = Duration::from_micros(200);

/// Spins of a waiting thread between two yields of its core, so that a thread the OS
/// wants to run (another rayon worker, another process) gets it soon.
const SPINS_PER_YIELD: u32 = 256;

/// Whether one token's products run on the team: `LOGLENS_KERNEL_TEAM=1`, read once.
pub(crate) fn enabled() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var("LOGLENS_KERNEL_TEAM").is_ok_and(|v| v == "1"))
}

/// The most chunks one product may be cut into (the chunk index has 16 bits).
pub(crate) const MAX_CHUNKS: usize = u16::MAX as usize;

/// A product's work: runs chunk `i`.
type Job<'a> = dyn Fn(usize) + Sync + 'a;

/// The word the team watches: generation (32 bits), chunk count (16), next chunk (16).
fn pack(generation: u32, chunks: usize, next: usize) -> u64 {
    (u64::from(generation) << 32) | ((chunks as u64) << 16) | next as u64
}

fn generation(word: u64) -> u32 {
    (word >> 32) as u32
}

fn chunks(word: u64) -> usize {
    ((word >> 16) & 0xFFFF) as usize
}

fn next(word: u64) -> usize {
    (word & 0xFFFF) as usize
}

struct Shared {
    word: AtomicU64,
    /// The current product's work; written only by the caller holding `dispatch`
    /// while no chunk is claimable, read only by a thread that has claimed a chunk.
    job: UnsafeCell<Option<&'static Job<'static>>>,
    /// Chunks of the current product that have run.
    done: AtomicUsize,
    /// Whether a chunk of the current product panicked.
    panicked: AtomicBool,
    /// Workers asleep (or about to be) on `wake`.
    sleepers: AtomicUsize,
    sleep: Mutex<()>,
    wake: Condvar,
    /// One product at a time; another caller meanwhile is told to run it elsewhere.
    dispatch: Mutex<()>,
}

// SAFETY: `job` is the only field that is not Sync. It is written only by the thread
// holding `dispatch`, before the word that makes the product's chunks claimable is
// published (release) and after every chunk of the previous product has run; it is read
// only by a thread that has just claimed a chunk of the current product (acquire), which
// the writer waits for before it returns or writes again.
unsafe impl Sync for Shared {}

impl Shared {
    /// Claims and runs chunks of product `gen` until none is left.
    fn work(&self, gen: u32) {
        let mut word = self.word.load(Ordering::Acquire);
        loop {
            if generation(word) != gen || next(word) >= chunks(word) {
                return;
            }
            match self.word.compare_exchange_weak(
                word,
                word + 1,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => {
                    // SAFETY: a chunk of product `gen` is claimed and not yet counted
                    // done, so the caller is still waiting and `job` holds its work.
                    let job = unsafe { *self.job.get() };
                    if let Some(job) = job {
                        if catch_unwind(AssertUnwindSafe(|| job(next(word)))).is_err() {
                            self.panicked.store(true, Ordering::Relaxed);
                        }
                    }
                    self.done.fetch_add(1, Ordering::Release);
                    word = self.word.load(Ordering::Acquire);
                }
                Err(now) => word = now,
            }
        }
    }

    /// A worker's wait for a product newer than `seen`: spinning for [`SPIN`], then
    /// asleep. Returns the new product's generation.
    fn wait(&self, seen: u32) -> u32 {
        let start = Instant::now();
        let mut spins = 0u32;
        loop {
            let gen = generation(self.word.load(Ordering::Acquire));
            if gen != seen {
                return gen;
            }
            spins += 1;
            if spins.is_multiple_of(SPINS_PER_YIELD) {
                if start.elapsed() > SPIN {
                    break;
                }
                std::thread::yield_now();
            } else {
                std::hint::spin_loop();
            }
        }
        let mut guard = self.sleep.lock().unwrap_or_else(PoisonError::into_inner);
        // Paired with the caller's store of the word and load of `sleepers`: either the
        // caller sees this sleeper and wakes it under the lock, or this load sees the
        // caller's product.
        self.sleepers.fetch_add(1, Ordering::SeqCst);
        loop {
            let gen = generation(self.word.load(Ordering::SeqCst));
            if gen != seen {
                self.sleepers.fetch_sub(1, Ordering::SeqCst);
                return gen;
            }
            guard = self
                .wake
                .wait(guard)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }
}

/// The kernels' thread team: its workers and what they share.
pub(crate) struct Team {
    shared: &'static Shared,
    /// Worker threads (the caller is one more).
    workers: usize,
}

impl Team {
    /// The process's team of `threads` threads in all (the caller and `threads - 1`
    /// workers), started on first use; `None` when `threads` is 1 or a different size
    /// was started first, or the workers could not be started.
    pub(crate) fn get(threads: usize) -> Option<&'static Team> {
        static TEAM: OnceLock<Option<Team>> = OnceLock::new();
        TEAM.get_or_init(|| Team::start(threads))
            .as_ref()
            .filter(|t| t.workers + 1 == threads)
    }

    /// A new team of `threads` threads in all; `None` for fewer than two or when a
    /// worker cannot be started.
    pub(crate) fn start(threads: usize) -> Option<Team> {
        if threads < 2 {
            return None;
        }
        let shared: &'static Shared = Box::leak(Box::new(Shared {
            word: AtomicU64::new(0),
            job: UnsafeCell::new(None),
            done: AtomicUsize::new(0),
            panicked: AtomicBool::new(false),
            sleepers: AtomicUsize::new(0),
            sleep: Mutex::new(()),
            wake: Condvar::new(),
            dispatch: Mutex::new(()),
        }));
        for i in 0..threads - 1 {
            let spawned = std::thread::Builder::new()
                .name(format!("loglens-kernel-{i}"))
                .spawn(move || {
                    let mut seen = 0;
                    loop {
                        seen = shared.wait(seen);
                        shared.work(seen);
                    }
                });
            if spawned.is_err() {
                // The workers started so far wait forever on a generation that never
                // comes; the products run on rayon instead.
                return None;
            }
        }
        Some(Team {
            shared,
            workers: threads - 1,
        })
    }

    /// Runs `job(i)` for every `i` in `0..chunks` on the team and the calling thread,
    /// returning when all have run. Returns `false` without running anything when
    /// another thread's product holds the team (the caller runs it some other way).
    ///
    /// # Panics
    /// When `chunks` exceeds [`MAX_CHUNKS`], or when a chunk panicked.
    pub(crate) fn run(&self, chunks: usize, job: &Job<'_>) -> bool {
        assert!(chunks <= MAX_CHUNKS, "{chunks} chunks");
        let s = self.shared;
        // A poisoned lock only means an earlier product panicked; the team is whole.
        let _held = match s.dispatch.try_lock() {
            Ok(held) => held,
            Err(TryLockError::Poisoned(p)) => p.into_inner(),
            Err(TryLockError::WouldBlock) => return false,
        };
        if chunks == 0 {
            return true;
        }
        s.done.store(0, Ordering::Relaxed);
        s.panicked.store(false, Ordering::Relaxed);
        // SAFETY: the lifetime is erased only for the time of this call: every chunk
        // (the only reader of `job`) has run before it returns, and a late worker cannot
        // claim a chunk once they have (see `Shared`).
        let erased: &'static Job<'static> =
            unsafe { std::mem::transmute::<&Job<'_>, &'static Job<'static>>(job) };
        // SAFETY: this thread holds `dispatch`, and no chunk is claimable (the previous
        // product's all ran; the word is not yet published).
        unsafe { *s.job.get() = Some(erased) };
        let gen = generation(s.word.load(Ordering::Relaxed)).wrapping_add(1);
        s.word.store(pack(gen, chunks, 0), Ordering::SeqCst);
        if s.sleepers.load(Ordering::SeqCst) > 0 {
            let _guard = s.sleep.lock().unwrap_or_else(PoisonError::into_inner);
            s.wake.notify_all();
        }
        s.work(gen);
        let mut spins = 0u32;
        while s.done.load(Ordering::Acquire) < chunks {
            spins += 1;
            if spins.is_multiple_of(SPINS_PER_YIELD) {
                std::thread::yield_now();
            } else {
                std::hint::spin_loop();
            }
        }
        // SAFETY: every chunk has run and none is claimable.
        unsafe { *s.job.get() = None };
        assert!(
            !s.panicked.load(Ordering::Relaxed),
            "a kernel thread panicked"
        );
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU32;

    #[test]
    fn every_chunk_runs_once() {
        // A team of its own: the process's team is sized by the first product.
        let team = Team::start(3).expect("a team of three");
        for chunks in [0usize, 1, 2, 7, 64, 1000] {
            let hits: Vec<AtomicU32> = (0..chunks).map(|_| AtomicU32::new(0)).collect();
            // Many products in a row, some after the workers fell asleep.
            for round in 0..50 {
                if round == 25 {
                    std::thread::sleep(SPIN * 2);
                }
                assert!(team.run(chunks, &|i| {
                    hits[i].fetch_add(1, Ordering::Relaxed);
                }));
            }
            assert!(hits.iter().all(|h| h.load(Ordering::Relaxed) == 50));
        }
        let caught = std::panic::catch_unwind(AssertUnwindSafe(|| {
            team.run(4, &|i| assert!(i != 2, "chunk two fails"));
        }));
        assert!(caught.is_err(), "a panicking chunk panics the caller");
        assert!(team.run(1, &|_| {}), "the team still runs after a panic");
    }
}
