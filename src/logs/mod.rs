//! The log pipeline: ingest -> formats -> multi-line joining -> template mining ->
//! grouping -> reports. Detection and LLM triage build on these stages.
//!
//! `logs` never formats HTTP and talks to the engine only through its request API.

pub mod detect;
pub mod error;
pub mod formats;
pub mod group;
pub mod ingest;
pub mod level;
pub mod mask;
pub mod miner;
pub mod multiline;
pub mod pipeline;
pub mod report;
pub mod store;
pub mod time;
pub mod triage;

pub use error::LogsError;
