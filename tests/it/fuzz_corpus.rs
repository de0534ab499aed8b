//! The fuzz targets' properties in the suite: every input committed under
//! `fuzz/corpus/<target>/` (what libFuzzer kept from the long runs, and every finding
//! once fixed), then a bounded number of seeded mutations of them, through the very
//! functions the `cargo fuzz` targets call (`fuzz/src/lib.rs`). A short, deterministic
//! fuzz run on stable Rust; the long runs are `cargo +nightly fuzz run` (README).

#[path = "../../fuzz/src/lib.rs"]
mod props;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Mutations tried per target, and the time after which a target stops early.
const MUTATIONS: usize = 600;
const TIME_PER_TARGET: Duration = Duration::from_secs(12);

/// Byte strings that have broken readers before: multi-byte characters next to URL
/// schemes, control bytes, huge numbers, JSON and header punctuation.
const DICTIONARY: &[&[u8]] = &[
    "«https://".as_bytes(),
    "→".as_bytes(),
    b"\0",
    b"\r\n",
    b"\xff\xfe",
    b"://",
    b"ERROR 500",
    b"2025-11-03T20:36:40.123456789Z ",
    b"I1103 20:36:37.123456 1 file.go:12] ",
    b"{\"level\":50,\"time\":1730666197000,\"msg\":\"",
    b"\"$ref\":\"#\"",
    b"99999999999999999999999",
    b"Caused by: ",
    b"\tat ",
    b"[ERROR] ",
];

fn corpus_dir(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target)
}

/// The committed inputs of one target, in a stable order, plus a few built-in seeds so a
/// target with no corpus yet still runs.
fn seeds(target: &str) -> Vec<Vec<u8>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(corpus_dir(target))
        .map(|dir| dir.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.sort();
    let mut seeds: Vec<Vec<u8>> = files.iter().filter_map(|p| std::fs::read(p).ok()).collect();
    seeds.push(b"2025-11-03 20:36:40 ERROR 500\n\tat x.y(Z.java:1)\n".to_vec());
    seeds.push(b"{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}".to_vec());
    seeds
}

/// A small deterministic generator (xorshift64*), so a failure reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// One mutation of `input`: a flipped byte, an inserted dictionary entry, a deleted or
/// repeated run, or a splice with another seed.
fn mutate(rng: &mut Rng, input: &[u8], other: &[u8]) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..=rng.below(4) {
        let at = rng.below(out.len() + 1);
        match rng.below(5) {
            0 if !out.is_empty() => {
                let i = at.min(out.len() - 1);
                out[i] ^= 1 << rng.below(8);
            }
            1 => {
                let word = DICTIONARY[rng.below(DICTIONARY.len())];
                out.splice(at..at, word.iter().copied());
            }
            2 => {
                let end = (at + rng.below(16)).min(out.len());
                out.drain(at..end);
            }
            3 => {
                let end = (at + rng.below(32)).min(out.len());
                let run = out[at..end].repeat(1 + rng.below(8));
                out.splice(at..at, run);
            }
            _ => {
                let from = rng.below(other.len() + 1);
                out.truncate(at);
                out.extend_from_slice(&other[from..]);
            }
        }
    }
    out.truncate(64 * 1024);
    out
}

/// Every seed, then mutations until the count or the time bound, through `check`.
fn run(target: &str, check: fn(&[u8])) {
    let seeds = seeds(target);
    for (i, s) in seeds.iter().enumerate() {
        let r = std::panic::catch_unwind(|| check(s));
        assert!(
            r.is_ok(),
            "{target}: seed {i} fails; rerun it with cargo fuzz"
        );
    }
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ target.len() as u64);
    let started = Instant::now();
    for n in 0..MUTATIONS {
        if started.elapsed() > TIME_PER_TARGET {
            break;
        }
        let input = &seeds[rng.below(seeds.len())];
        let other = &seeds[rng.below(seeds.len())];
        let m = mutate(&mut rng, input, other);
        let r = std::panic::catch_unwind(|| check(&m));
        assert!(
            r.is_ok(),
            "{target}: mutation {n} fails on {:?}",
            String::from_utf8_lossy(&m)
        );
    }
}

#[test]
fn formats_never_panic_and_stay_bounded() {
    run("formats", props::formats);
}

#[test]
fn masker_and_miner_never_panic_and_round_trip() {
    run("mask_miner", props::mask_miner);
}

#[test]
fn timestamps_never_panic() {
    run("timestamps", props::timestamps);
}

#[test]
fn reading_accounts_for_every_line() {
    run("reading", props::reading);
}

#[test]
fn state_loaders_accept_only_what_works() {
    run("state", props::state);
}

#[test]
fn openai_bodies_never_panic() {
    run("openai", props::openai);
}

#[test]
fn constraints_compile_or_fail_cleanly() {
    run("constraint", props::constraint);
}
