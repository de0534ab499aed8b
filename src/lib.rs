//! loglens: reads logs, finds what is abnormal, and (with the engine) explains it with an
//! in-process LLM. Nothing leaves the machine.
//!
//! # Layout
//! - [`logs`]: the pipeline. `ingest` (files, directories, gzip, stdin; bounded lines)
//!   -> `formats` (per-file detection, one parser per format) -> `multiline` (tracebacks
//!   join their record) -> `mask` + `miner` (Drain-style templates) -> `group`
//!   (component, level, template) -> `report` (Markdown, JSON, HTML).
//! - [`rca`]: root-cause analysis across services: OTLP traces and the records the
//!   pipeline reads become per-service health, a service graph and ranked candidates
//!   with evidence (the pipeline's observer; `triage::rca` asks the model's verdict).
//! - [`bench`]: the harness behind `loglens bench` (parsing accuracy and throughput).
//! - [`cli`]: clap definitions and dispatch; the binary in `main.rs` only calls it.
//!
//! The inference engine (`engine`) and the HTTP server (`server`) are described in
//! `src/engine/README.md` and `src/server/README.md`; they arrive with their own work.

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
