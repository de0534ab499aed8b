//! libFuzzer target: see `loglens_fuzz::state` for the property it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| loglens_fuzz::state(data));
