//! Continuous batching: one thread owns the running batch and, between forward passes,
//! admits waiting requests into it, so a new request starts while others are decoding
//! and each finished one frees its slot at once. Requests are checked, tokenized and have
//! their grammar compiled on the caller's thread ([`Engine::prepare`]) so a bad request
//! is refused before it waits. The queue is bounded: a full queue is
//! [`EngineError::Overloaded`], which the server turns into 429/503 with `Retry-After`.

use std::collections::VecDeque;
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use super::batch::{Prepared, Seq};
use super::{Engine, EngineError, Event, GenerateRequest, STEP_TOKENS};

/// Limits of the scheduler.
#[derive(Debug, Clone, Copy)]
pub struct SchedulerConfig {
    /// Sequences decoding together at most.
    pub max_batch: usize,
    /// Requests waiting for a slot at most; more are refused.
    pub max_queue: usize,
    /// Tokens per forward pass (decode tokens plus prompt chunks).
    pub step_tokens: usize,
}

impl Default for SchedulerConfig {
    fn default() -> Self {
        Self {
            max_batch: 16,
            max_queue: 64,
            step_tokens: STEP_TOKENS,
        }
    }
}

/// Where a scheduled request's events go: called on the scheduler's thread.
pub type SendSink = Box<dyn FnMut(Event) -> ControlFlow<()> + Send>;

struct Job {
    prepared: Prepared,
    sink: SendSink,
}

#[derive(Debug, Default)]
struct Counters {
    queued: AtomicUsize,
    running: AtomicUsize,
}

/// The engine's batching thread and its queue.
pub struct Scheduler {
    engine: Arc<Engine>,
    cfg: SchedulerConfig,
    tx: Mutex<Option<mpsc::Sender<Job>>>,
    counters: Arc<Counters>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl std::fmt::Debug for Scheduler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scheduler")
            .field("cfg", &self.cfg)
            .field("counters", &self.counters)
            .finish_non_exhaustive()
    }
}

impl Scheduler {
    /// Starts the batching thread.
    pub fn new(engine: Arc<Engine>, cfg: SchedulerConfig) -> Self {
        let (tx, rx) = mpsc::channel::<Job>();
        let counters = Arc::new(Counters::default());
        let thread = {
            let engine = engine.clone();
            let counters = counters.clone();
            std::thread::Builder::new()
                .name("loglens-engine".into())
                .spawn(move || run(&engine, cfg, &rx, &counters))
                .ok()
        };
        Self {
            engine,
            cfg,
            tx: Mutex::new(thread.is_some().then_some(tx)),
            counters,
            thread: Mutex::new(thread),
        }
    }

    /// The engine.
    pub fn engine(&self) -> &Arc<Engine> {
        &self.engine
    }

    /// The limits.
    pub fn config(&self) -> SchedulerConfig {
        self.cfg
    }

    /// Requests waiting for a slot.
    pub fn queued(&self) -> usize {
        self.counters.queued.load(Ordering::Relaxed)
    }

    /// Sequences in the running batch.
    pub fn running(&self) -> usize {
        self.counters.running.load(Ordering::Relaxed)
    }

    /// Checks a request and queues it; its events go to `sink` (on the scheduler's
    /// thread; `Break` cancels). Errors: the request is invalid, the queue is full, or
    /// the scheduler is shutting down. Nothing is sent to `sink` on error.
    pub fn submit(&self, req: GenerateRequest, sink: SendSink) -> Result<(), EngineError> {
        let queued = self.queued();
        if queued >= self.cfg.max_queue {
            return Err(EngineError::Overloaded {
                queued,
                limit: self.cfg.max_queue,
            });
        }
        let prepared = self.engine.prepare(req)?;
        let tx = self
            .tx
            .lock()
            .map_err(|_| EngineError::ShuttingDown)?
            .clone()
            .ok_or(EngineError::ShuttingDown)?;
        self.counters.queued.fetch_add(1, Ordering::Relaxed);
        tx.send(Job { prepared, sink }).map_err(|_| {
            self.counters.queued.fetch_sub(1, Ordering::Relaxed);
            EngineError::ShuttingDown
        })
    }

    /// Stops taking requests, lets the queued and running ones finish, and joins the
    /// thread.
    pub fn shutdown(&self) {
        if let Ok(mut tx) = self.tx.lock() {
            tx.take();
        }
        let handle = self.thread.lock().ok().and_then(|mut t| t.take());
        if let Some(h) = handle {
            let _ = h.join();
        }
    }
}

impl Drop for Scheduler {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn run(engine: &Engine, cfg: SchedulerConfig, rx: &mpsc::Receiver<Job>, counters: &Counters) {
    let mut seqs: Vec<Seq<'static>> = Vec::new();
    let mut waiting: VecDeque<Job> = VecDeque::new();
    let mut open = true;
    loop {
        if seqs.is_empty() && waiting.is_empty() {
            if !open {
                break;
            }
            match rx.recv() {
                Ok(job) => waiting.push_back(job),
                Err(_) => break,
            }
        }
        loop {
            match rx.try_recv() {
                Ok(job) => waiting.push_back(job),
                Err(mpsc::TryRecvError::Empty) => break,
                Err(mpsc::TryRecvError::Disconnected) => {
                    open = false;
                    break;
                }
            }
        }
        while seqs.len() < cfg.max_batch.max(1) {
            let Some(job) = waiting.pop_front() else {
                break;
            };
            counters.queued.fetch_sub(1, Ordering::Relaxed);
            let sink: super::Sink<'static> = job.sink;
            seqs.push(engine.admit(job.prepared, sink));
        }
        counters.running.store(seqs.len(), Ordering::Relaxed);
        if let Err(e) = engine.step(&mut seqs, cfg.step_tokens) {
            tracing::error!(error = %e, sequences = seqs.len(), "forward pass failed");
            let message = e.to_string();
            for s in &mut seqs {
                s.fail(EngineError::Compute(candle_core::Error::Msg(
                    message.clone(),
                )));
            }
        }
        seqs.retain(|s| !s.is_done());
        counters.running.store(seqs.len(), Ordering::Relaxed);
    }
}
