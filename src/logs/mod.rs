//! Reading logs: ingest -> formats -> multi-line joining -> template mining -> grouping
//! (and sessions), with every line accounted for. Detection (`crate::detect`), triage
//! and reports build on what it returns; nothing here imports them.
//!
//! `logs` never formats HTTP and never calls the engine.

pub mod accounting;
pub mod error;
pub mod formats;
pub mod group;
pub mod ingest;
pub mod level;
pub mod lock;
pub mod mask;
pub mod miner;
pub mod multiline;
pub mod pipeline;
pub mod session;
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
