//! The log pipeline: ingest -> formats -> multi-line joining -> template mining ->
//! grouping -> reports. Detection and LLM triage build on these stages.
//!
//! `logs` never formats HTTP and talks to the engine only through its request API.

pub mod error;
pub mod formats;
pub mod group;
pub mod ingest;
pub mod level;
pub mod mask;
pub mod miner;
pub mod multiline;
pub mod pipeline;
pub mod time;

pub use error::LogsError;

/// Writes a state file (miner, session model) so that a crash mid-write leaves the old
/// file whole: the bytes go to a sibling temporary file, which then replaces it.
pub(crate) fn write_state(path: &std::path::Path, bytes: &[u8]) -> Result<(), LogsError> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = std::path::PathBuf::from(tmp);
    std::fs::write(&tmp, bytes).map_err(|e| LogsError::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| LogsError::io(path, e))
}
