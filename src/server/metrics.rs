//! What `/metrics` reports, in Prometheus' text format.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use crate::engine::{PrefixStats, Usage};
use crate::metrics::Histogram;

/// The server's counters and histograms.
#[derive(Debug, Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, u16), u64>>,
    prompt_tokens: AtomicU64,
    completion_tokens: AtomicU64,
    /// Nanoseconds from first token to the end, summed over generations.
    decode_ns: AtomicU64,
    /// Nanoseconds spent in grammars, summed.
    constraint_ns: AtomicU64,
    /// Time from receiving a request to its first token.
    pub ttft: Histogram,
    /// Time between consecutive tokens of a streamed response.
    pub itl: Histogram,
}

impl Metrics {
    /// One answered request.
    pub fn count_request(&self, route: &str, status: u16) {
        if let Ok(mut m) = self.requests.lock() {
            *m.entry((route.to_string(), status)).or_default() += 1;
        }
    }

    /// A finished generation: its tokens and where its time went.
    pub fn count_generation(&self, u: &Usage) {
        self.prompt_tokens
            .fetch_add(u.prompt_tokens as u64, Ordering::Relaxed);
        self.completion_tokens
            .fetch_add(u.completion_tokens as u64, Ordering::Relaxed);
        let ns = |s: f64| (s.max(0.0) * 1e9) as u64;
        self.decode_ns
            .fetch_add(ns(u.total_s - u.ttft_s), Ordering::Relaxed);
        self.constraint_ns
            .fetch_add(ns(u.constraint_s), Ordering::Relaxed);
        self.ttft.observe(u.ttft_s);
    }

    /// The text exposition.
    pub fn render(&self, queued: usize, running: usize, mask: Option<&Histogram>) -> String {
        let mut out = String::new();
        out.push_str(
            "# HELP loglens_requests_total HTTP requests by route and status.\n\
             # TYPE loglens_requests_total counter\n",
        );
        if let Ok(m) = self.requests.lock() {
            for ((route, status), n) in m.iter() {
                let _ = writeln!(
                    out,
                    "loglens_requests_total{{route=\"{}\",status=\"{status}\"}} {n}",
                    route.replace('\\', "\\\\").replace('"', "\\\"")
                );
            }
        }
        for (name, help, v) in [
            (
                "loglens_prompt_tokens_total",
                "Prompt tokens processed.",
                self.prompt_tokens.load(Ordering::Relaxed),
            ),
            (
                "loglens_completion_tokens_total",
                "Tokens generated.",
                self.completion_tokens.load(Ordering::Relaxed),
            ),
        ] {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {v}"
            );
        }
        for (name, help, v) in [
            (
                "loglens_decode_seconds_total",
                "Time from first token to the end of each generation, summed.",
                &self.decode_ns,
            ),
            (
                "loglens_constraint_seconds_total",
                "Time spent in grammars (token checks, masks, forced tokens), summed.",
                &self.constraint_ns,
            ),
        ] {
            let secs = v.load(Ordering::Relaxed) as f64 / 1e9;
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {secs}"
            );
        }
        for (name, help, v) in [
            (
                "loglens_queue_depth",
                "Requests waiting for a batch slot.",
                queued,
            ),
            (
                "loglens_running_sequences",
                "Sequences in the running batch.",
                running,
            ),
        ] {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {v}");
        }
        self.ttft.render(
            &mut out,
            "loglens_time_to_first_token_seconds",
            "Time from request to first generated token.",
        );
        self.itl.render(
            &mut out,
            "loglens_inter_token_latency_seconds",
            "Time between generated text pieces of a response.",
        );
        if let Some(h) = mask {
            h.render(
                &mut out,
                "loglens_constraint_mask_seconds",
                "Time to compute one grammar token mask.",
            );
        }
        out
    }

    /// The engine's prompt-prefix cache in the text exposition.
    pub fn render_prefix(out: &mut String, p: &PrefixStats) {
        for (name, help, v) in [
            (
                "loglens_prefix_cache_lookups_total",
                "Prompts looked up in the prefix cache.",
                p.lookups,
            ),
            (
                "loglens_prefix_cache_hits_total",
                "Prompts that started from a cached prefix.",
                p.hits,
            ),
            (
                "loglens_prefix_cache_reused_tokens_total",
                "Prompt tokens taken from the prefix cache instead of prefilled.",
                p.reused_tokens,
            ),
            (
                "loglens_prefix_cache_evictions_total",
                "Prefix cache entries evicted to stay within its memory bound.",
                p.evicted,
            ),
        ] {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {v}"
            );
        }
        for (name, help, v) in [
            (
                "loglens_prefix_cache_entries",
                "Token sequences held in the prefix cache.",
                p.entries,
            ),
            (
                "loglens_prefix_cache_bytes",
                "Bytes of keys and values held in the prefix cache.",
                p.bytes,
            ),
            (
                "loglens_prefix_cache_limit_bytes",
                "Memory bound of the prefix cache (0: off).",
                p.limit_bytes,
            ),
        ] {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {v}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_cache_figures_are_exposed_with_their_types() {
        let mut out = String::new();
        Metrics::render_prefix(
            &mut out,
            &PrefixStats {
                lookups: 5,
                hits: 3,
                reused_tokens: 1234,
                inserted: 4,
                evicted: 1,
                entries: 2,
                bytes: 4096,
                limit_bytes: 8192,
            },
        );
        for line in [
            "# TYPE loglens_prefix_cache_hits_total counter",
            "loglens_prefix_cache_lookups_total 5",
            "loglens_prefix_cache_hits_total 3",
            "loglens_prefix_cache_reused_tokens_total 1234",
            "loglens_prefix_cache_evictions_total 1",
            "# TYPE loglens_prefix_cache_bytes gauge",
            "loglens_prefix_cache_entries 2",
            "loglens_prefix_cache_bytes 4096",
            "loglens_prefix_cache_limit_bytes 8192",
        ] {
            assert!(out.lines().any(|l| l == line), "{line} missing from\n{out}");
        }
    }
}
