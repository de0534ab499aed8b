//! The error type of the log pipeline.

use std::path::{Path, PathBuf};

/// Everything that can go wrong in the log pipeline.
#[derive(Debug, thiserror::Error)]
pub enum LogsError {
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A saved state file could not be used.
    #[error("state file {path}: {reason}")]
    State {
        /// The state file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A header pattern or format override is invalid.
    #[error("invalid format specification {spec:?}: {reason}")]
    FormatSpec {
        /// The specification as given.
        spec: String,
        /// What is wrong with it.
        reason: String,
    },
    /// An include/exclude glob is invalid.
    #[error("invalid glob {glob:?}: {reason}")]
    Glob {
        /// The glob as given.
        glob: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A benchmark data set is missing or malformed.
    #[error("data set {path}: {reason}")]
    Data {
        /// The file or directory.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
}

impl LogsError {
    /// An I/O error on `path`.
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        Self::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}
