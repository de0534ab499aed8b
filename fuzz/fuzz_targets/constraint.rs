//! libFuzzer target: see `loglens_fuzz::constraint` for the property it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| loglens_fuzz::constraint(data));
