//! libFuzzer target: see `loglens_fuzz::reading` for the property it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| loglens_fuzz::reading(data));
