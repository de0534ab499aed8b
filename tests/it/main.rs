//! Integration tests: one binary, a module per area.

mod accounting;
mod bench;
mod cli;
mod engine;
mod formats;
mod miner;
mod report;
mod tiny;

use std::path::{Path, PathBuf};

/// Benchmark data beside the checkout (`LOGLENS_DATA` overrides).
pub fn data_dir() -> PathBuf {
    std::env::var_os("LOGLENS_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data"))
}

/// The example logs shipped in the repository.
pub fn examples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/mlops")
}
