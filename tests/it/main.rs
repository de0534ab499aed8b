//! Integration tests: one binary, a module per area.

mod accounting;
mod bench;
mod cli;
mod constrain;
mod corpus;
mod engine;
mod formats;
mod fuzz_corpus;
mod hf;
mod miner;
mod parse;
mod prefix;
mod qwen2;
mod rca;
mod reliability;
mod report;
mod server;
mod sessions;
mod spm;
mod tiny;
mod triage;

use std::path::{Path, PathBuf};

/// Benchmark data beside the checkout (`LOGLENS_DATA` overrides), as `loglens bench`
/// finds it.
pub fn data_dir() -> PathBuf {
    loglens::bench::data_dir()
}

/// The default model: `LOGLENS_MODEL`, else `models/` in the checkout (scripts/test.sh
/// fetches it there).
pub fn model_path() -> PathBuf {
    std::env::var_os("LOGLENS_MODEL")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("models/SmolLM2-135M-Instruct.Q4_1.gguf")
        })
}

/// The example logs shipped in the repository.
pub fn examples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/mlops")
}

/// A `kB` field of `/proc/<pid>/status` (`VmRSS:`, `VmHWM:`), in KiB; `None` once the
/// process is gone or the field is missing.
pub fn proc_status_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}
