//! loglens: reads logs, finds what is abnormal, and explains it with an in-process LLM.
//! Nothing leaves the machine.
//!
//! # Layout
//! Data flows one way, left to right; a module never imports one to its right.
//!
//! `logs` -> `detect` -> `rca` -> `analysis` -> `triage` (-> `engine`) -> `report`; `store`
//!
//! - [`logs`]: reading. `ingest` (files, directories, gzip, stdin; bounded lines) ->
//!   `formats` (per-file detection, one parser per format) -> `multiline` (tracebacks
//!   join their record) -> `mask` + `miner` (Drain-style templates) -> `group`
//!   (component, level, template) and `session` (records by session key), with every
//!   line accounted for (`accounting`).
//! - [`detect`]: the detectors, one per file, each [`detect::Anomaly`] carrying its
//!   [`detect::Detector`]; `analyze` and `bench detect` run the same code.
//! - [`rca`]: root-cause analysis across services: OTLP traces and the records reading
//!   sees become per-service health, a service graph and ranked candidates with evidence.
//! - [`analysis`]: one run, reading, detection and root-cause analysis, as one
//!   [`analysis::Analysis`].
//! - [`triage`]: the flagged groups and the root-cause ranking put to the model; typed
//!   [`triage::Verdict`]s and [`triage::RcaVerdict`]s decoded under schemas derived from
//!   the types; the only pipeline client of the engine.
//! - [`report`]: the report assembled once, last, from the analysis and the verdicts;
//!   JSON, Markdown, HTML.
//! - [`store`]: the SQLite verdict cache (triage's [`triage::VerdictCache`]).
//! - [`engine`]: the inference engine (models, tokenizers, chat templates, sampling,
//!   llguidance constraints, scheduler, devices); knows nothing of logs or HTTP.
//! - [`server`]: the OpenAI-compatible HTTP API on the engine.
//! - [`metrics`]: latency histograms the engine and the server share.
//! - [`bench`]: the harness behind `loglens bench`.
//! - [`cli`]: clap definitions, their validation into typed settings, dispatch; the
//!   binary in `main.rs` only calls it.

pub mod analysis;
pub mod bench;
pub mod cli;
pub mod detect;
pub mod engine;
pub mod logs;
pub mod metrics;
pub mod rca;
pub mod report;
pub mod server;
pub mod store;
pub mod triage;
