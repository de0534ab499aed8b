//! The benchmark harness behind `loglens bench ...`: whole-system figures printed as a
//! table or as one JSON object. Parsing accuracy and throughput live in [`parse`], the
//! labelled corpus of log formats in [`corpus`].

pub mod corpus;
pub mod detect;
pub mod devices;
pub mod parse;
pub mod prefix;
pub mod rca;
pub mod serve;
pub mod tokens;

use std::path::PathBuf;

/// Where benchmark data lives: `LOGLENS_DATA`, else `../shared/data` beside the checkout.
pub fn data_dir() -> PathBuf {
    std::env::var_os("LOGLENS_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("../shared/data"))
}

/// Peak resident set size of this process in MiB (Linux `VmHWM`), if known.
pub fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}
