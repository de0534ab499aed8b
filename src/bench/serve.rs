//! `loglens bench serve`: load on the OpenAI-compatible API. Streams chat completions at
//! each concurrency level and measures requests/s, output tokens/s, time to first token
//! and inter-token latency as a client sees them; with `--constrained`, each level is
//! run again with a JSON-schema `response_format` and the grammar's share of decode time
//! and mask times are read from the server's `/metrics`.
//!
//! The client is plain HTTP/1.1 over a socket (one connection per request), so the
//! figures include no client library overhead worth speaking of. A request answered 429
//! is retried after its `Retry-After`, as OpenAI's clients do; the level counts every
//! answer (200, 429, 5xx) and reports end-to-end latency, waits included, and the
//! server's resident memory read from its `/metrics` while the level runs.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use serde::Serialize;
use serde_json::{json, Value};

/// What to run.
#[derive(Debug, Clone)]
pub struct ServeBench {
    /// `http://host:port` of the server.
    pub url: String,
    /// Bearer token, if the server needs one.
    pub api_key: Option<String>,
    /// Model id to ask for.
    pub model: String,
    /// Concurrency levels.
    pub concurrency: Vec<usize>,
    /// Requests per level (at least the concurrency).
    pub requests: usize,
    /// `max_tokens` per request.
    pub max_tokens: usize,
    /// Also run every level with a JSON schema.
    pub constrained: bool,
    /// Retries of a request answered 429.
    pub retries: usize,
}

/// Figures of one level.
#[derive(Debug, Clone, Serialize)]
pub struct Level {
    /// Concurrent clients.
    pub concurrency: usize,
    /// With a JSON-schema response format.
    pub constrained: bool,
    /// Requests completed (answered 200, retries included).
    pub requests: usize,
    /// Requests that failed (no 200 and no more retries).
    pub errors: usize,
    /// Answers 429 (queue full, with `Retry-After`); each was retried.
    pub busy_429: usize,
    /// Answers with a 5xx status.
    pub server_errors: usize,
    /// End-to-end latency of completed requests (retry waits included), median.
    pub latency_p50_ms: f64,
    /// End-to-end latency, 99th percentile.
    pub latency_p99_ms: f64,
    /// Largest resident memory of the server seen during the level (MiB).
    pub rss_peak_mib: Option<f64>,
    /// Resident memory of the server after the level (MiB).
    pub rss_end_mib: Option<f64>,
    /// Completed requests per second.
    pub requests_per_s: f64,
    /// Output tokens per second, all requests, wall time.
    pub output_tok_per_s: f64,
    /// Output tokens per second of decoding (after each first token), summed over requests.
    pub decode_tok_per_s: f64,
    /// Time to first token, median.
    pub ttft_p50_ms: f64,
    /// Time to first token, 99th percentile.
    pub ttft_p99_ms: f64,
    /// Inter-token latency, median.
    pub itl_p50_ms: f64,
    /// Inter-token latency, 99th percentile.
    pub itl_p99_ms: f64,
    /// Share of decode time spent in the grammar (server side), constrained levels only.
    pub constraint_share: Option<f64>,
    /// Mask computation time, median bucket bound (µs), constrained levels only.
    pub mask_p50_us: Option<f64>,
    /// Mask computation time, 99th percentile bucket bound (µs).
    pub mask_p99_us: Option<f64>,
    /// Full masks computed.
    pub masks: Option<u64>,
}

const PROMPTS: &[&str] = &[
    "ERROR postgres: could not write to file pg_wal/0001: No space left on device",
    "ERROR feature-api: connection refused to redis:6379 after 5 retries",
    "ERROR spark executor 12 lost: OutOfMemoryError: Java heap space",
    "CRITICAL minio: drive /data1 offline, erasure set degraded",
    "ERROR auth: invalid credentials for service account etl-runner (401)",
    "WARN nginx: upstream timed out (110) while reading response header",
    "FATAL etcd: mvcc database space exceeded",
    "ERROR ssl: certificate for api.internal expired 2 days ago",
];

fn schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "is_anomaly": {"type": "boolean"},
            "severity": {"enum": ["critical", "high", "medium", "low"]},
            "component": {"type": "string", "maxLength": 40},
            "summary": {"type": "string", "maxLength": 200},
            "confidence": {"enum": [0, 0.25, 0.5, 0.75, 1]}
        },
        "required": ["is_anomaly", "severity", "component", "summary", "confidence"],
        "additionalProperties": false
    })
}

fn request_body(cfg: &ServeBench, i: usize, constrained: bool) -> Value {
    let mut body = json!({
        "model": cfg.model,
        "messages": [
            {"role": "system", "content": "You triage log lines for an SRE team. Reply in JSON."},
            {"role": "user", "content": PROMPTS[i % PROMPTS.len()]}
        ],
        "max_tokens": cfg.max_tokens,
        "temperature": 0.7,
        "seed": i,
        "stream": true,
        "stream_options": {"include_usage": true}
    });
    if constrained {
        body["response_format"] =
            json!({"type": "json_schema", "json_schema": {"name": "verdict", "schema": schema()}});
    }
    body
}

/// The server's resident memory from its `/metrics`, in MiB.
fn rss_mib(host: &str, port: u16) -> Option<f64> {
    let m = metrics(host, port).ok()?;
    m.get("process_resident_memory_bytes")
        .map(|b| b / (1 << 20) as f64)
}

/// How the server answered one attempt.
enum Answer {
    /// 200, streamed to the end.
    Done(Sample),
    /// 429: wait this long and retry.
    Busy(Duration),
    /// Any other status, with the last line of its body.
    Status(u16, String),
}

/// One streamed request as the client saw it.
#[derive(Debug, Default)]
struct Sample {
    ttft: Option<Duration>,
    gaps: Vec<Duration>,
    tokens: usize,
    decode: Duration,
}

/// Runs the benchmark against a server.
pub fn run(cfg: &ServeBench) -> anyhow::Result<Vec<Level>> {
    let (host, port) = parse_url(&cfg.url)?;
    let mut out = Vec::new();
    for &c in &cfg.concurrency {
        let modes: &[bool] = if cfg.constrained {
            &[false, true]
        } else {
            &[false]
        };
        for &constrained in modes {
            let before = metrics(&host, port)?;
            let mut level = level(cfg, &host, port, c.max(1), constrained)?;
            if constrained {
                let after = metrics(&host, port)?;
                let d = |k: &str| {
                    after.get(k).copied().unwrap_or(0.0) - before.get(k).copied().unwrap_or(0.0)
                };
                let decode = d("loglens_decode_seconds_total");
                level.constraint_share =
                    (decode > 0.0).then(|| d("loglens_constraint_seconds_total") / decode);
                let masks = d("loglens_constraint_mask_seconds_count");
                level.masks = Some(masks.max(0.0) as u64);
                level.mask_p50_us = quantile_delta(&before, &after, 0.5).map(|s| s * 1e6);
                level.mask_p99_us = quantile_delta(&before, &after, 0.99).map(|s| s * 1e6);
            }
            out.push(level);
        }
    }
    Ok(out)
}

fn level(
    cfg: &ServeBench,
    host: &str,
    port: u16,
    c: usize,
    constrained: bool,
) -> anyhow::Result<Level> {
    let total = cfg.requests.max(c);
    let next = AtomicUsize::new(0);
    let samples = Mutex::new(Vec::new());
    let errors = AtomicUsize::new(0);
    let start = Instant::now();
    let busy = AtomicUsize::new(0);
    let server_errors = AtomicUsize::new(0);
    let latencies = Mutex::new(Vec::new());
    let done = std::sync::atomic::AtomicBool::new(false);
    let rss_peak = Mutex::new(None::<f64>);
    std::thread::scope(|scope| {
        // The server's memory, sampled while the level runs.
        scope.spawn(|| {
            while !done.load(Ordering::Relaxed) {
                if let Some(m) = rss_mib(host, port) {
                    if let Ok(mut p) = rss_peak.lock() {
                        *p = Some(p.map_or(m, |q: f64| q.max(m)));
                    }
                }
                std::thread::sleep(Duration::from_millis(250));
            }
        });
        let clients: Vec<_> = (0..c)
            .map(|_| {
                scope.spawn(|| loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= total {
                        break;
                    }
                    let body = request_body(cfg, i, constrained).to_string();
                    let began = Instant::now();
                    let mut attempts = 0;
                    loop {
                        attempts += 1;
                        match stream_chat(host, port, cfg.api_key.as_deref(), &body) {
                            Ok(Answer::Done(s)) => {
                                if let Ok(mut v) = latencies.lock() {
                                    v.push(began.elapsed().as_secs_f64() * 1e3);
                                }
                                if let Ok(mut v) = samples.lock() {
                                    v.push(s);
                                }
                            }
                            Ok(Answer::Busy(wait)) => {
                                busy.fetch_add(1, Ordering::Relaxed);
                                if attempts <= cfg.retries {
                                    std::thread::sleep(wait);
                                    continue;
                                }
                                errors.fetch_add(1, Ordering::Relaxed);
                            }
                            Ok(Answer::Status(status, text)) => {
                                tracing::warn!(status, body = %text, "request failed");
                                if status >= 500 {
                                    server_errors.fetch_add(1, Ordering::Relaxed);
                                }
                                errors.fetch_add(1, Ordering::Relaxed);
                            }
                            Err(e) => {
                                tracing::warn!(error = %e, "request failed");
                                errors.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                        break;
                    }
                })
            })
            .collect();
        for c in clients {
            let _ = c.join();
        }
        done.store(true, Ordering::Relaxed);
    });
    let wall = start.elapsed().as_secs_f64();
    let samples = samples.into_inner().unwrap_or_default();
    let mut latencies = latencies.into_inner().unwrap_or_default();
    let tokens: usize = samples.iter().map(|s| s.tokens).sum();
    let decode_tokens: usize = samples.iter().map(|s| s.tokens.saturating_sub(1)).sum();
    let decode_s: f64 = samples.iter().map(|s| s.decode.as_secs_f64()).sum();
    let mut ttft: Vec<f64> = samples
        .iter()
        .filter_map(|s| s.ttft)
        .map(|d| d.as_secs_f64() * 1e3)
        .collect();
    let mut itl: Vec<f64> = samples
        .iter()
        .flat_map(|s| s.gaps.iter().map(|d| d.as_secs_f64() * 1e3))
        .collect();
    Ok(Level {
        concurrency: c,
        constrained,
        requests: samples.len(),
        errors: errors.into_inner(),
        busy_429: busy.into_inner(),
        server_errors: server_errors.into_inner(),
        latency_p50_ms: percentile(&mut latencies, 0.5),
        latency_p99_ms: percentile(&mut latencies, 0.99),
        rss_peak_mib: rss_peak.into_inner().unwrap_or_default(),
        rss_end_mib: rss_mib(host, port),
        requests_per_s: samples.len() as f64 / wall,
        output_tok_per_s: tokens as f64 / wall,
        // Decoding of concurrent requests overlaps: per-request rates, times concurrency.
        decode_tok_per_s: if decode_s > 0.0 {
            decode_tokens as f64 / decode_s * c as f64
        } else {
            0.0
        },
        ttft_p50_ms: percentile(&mut ttft, 0.5),
        ttft_p99_ms: percentile(&mut ttft, 0.99),
        itl_p50_ms: percentile(&mut itl, 0.5),
        itl_p99_ms: percentile(&mut itl, 0.99),
        constraint_share: None,
        mask_p50_us: None,
        mask_p99_us: None,
        masks: None,
    })
}

/// Nearest-rank percentile; 0 when empty.
fn percentile(v: &mut [f64], q: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    let rank = ((q * v.len() as f64).ceil() as usize).clamp(1, v.len());
    v[rank - 1]
}

fn parse_url(url: &str) -> anyhow::Result<(String, u16)> {
    let rest = url
        .strip_prefix("http://")
        .with_context(|| format!("{url}: only http:// URLs are supported"))?;
    let hostport = rest.split('/').next().unwrap_or(rest);
    let (host, port) = hostport
        .rsplit_once(':')
        .map_or((hostport, "80"), |(h, p)| (h, p));
    Ok((
        host.to_string(),
        port.parse().with_context(|| format!("bad port in {url}"))?,
    ))
}

/// A response's status line and headers read; the body follows in the reader.
struct Head {
    status: u16,
    retry_after: Option<u64>,
    body: BufReader<TcpStream>,
}

fn connect(
    host: &str,
    port: u16,
    method: &str,
    path: &str,
    key: Option<&str>,
    body: &str,
) -> anyhow::Result<Head> {
    let mut s =
        TcpStream::connect((host, port)).with_context(|| format!("connecting to {host}:{port}"))?;
    s.set_read_timeout(Some(Duration::from_secs(600)))?;
    let auth = key
        .map(|k| format!("authorization: Bearer {k}\r\n"))
        .unwrap_or_default();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nhost: {host}\r\n{auth}content-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut r = BufReader::new(s);
    let mut line = String::new();
    r.read_line(&mut line)?;
    let status = line
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .with_context(|| format!("bad status line {line:?}"))?;
    let mut retry_after = None;
    loop {
        let mut h = String::new();
        if r.read_line(&mut h)? == 0 || h == "\r\n" {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            if k.eq_ignore_ascii_case("retry-after") {
                retry_after = v.trim().parse().ok();
            }
        }
    }
    Ok(Head {
        status,
        retry_after,
        body: r,
    })
}

/// Streams one chat completion, decoding chunked transfer encoding.
fn stream_chat(host: &str, port: u16, key: Option<&str>, body: &str) -> anyhow::Result<Answer> {
    let start = Instant::now();
    let head = connect(host, port, "POST", "/v1/chat/completions", key, body)?;
    let mut r = head.body;
    match head.status {
        200 => {}
        429 => {
            let Some(wait) = head.retry_after else {
                bail!("429 without Retry-After");
            };
            return Ok(Answer::Busy(Duration::from_secs(wait)));
        }
        status => {
            let mut rest = String::new();
            let _ = r.read_to_string(&mut rest);
            let last = rest.lines().last().unwrap_or("").to_string();
            return Ok(Answer::Status(status, last));
        }
    }
    let mut sample = Sample::default();
    let mut last: Option<Instant> = None;
    let mut first: Option<Instant> = None;
    let mut pending = String::new();
    let mut done = false;
    while !done {
        let mut size = String::new();
        if r.read_line(&mut size)? == 0 {
            break;
        }
        let n = usize::from_str_radix(size.trim(), 16)
            .with_context(|| format!("bad chunk size {size:?}"))?;
        if n == 0 {
            break;
        }
        let mut buf = vec![0; n + 2];
        r.read_exact(&mut buf)?;
        pending.push_str(&String::from_utf8_lossy(&buf[..n]));
        while let Some(i) = pending.find('\n') {
            let line: String = pending.drain(..=i).collect();
            let Some(data) = line.trim_end().strip_prefix("data: ") else {
                continue;
            };
            if data == "[DONE]" {
                done = true;
                break;
            }
            let v: Value =
                serde_json::from_str(data).with_context(|| format!("bad event {data}"))?;
            if v.get("error").is_some() {
                bail!("error event: {data}");
            }
            if let Some(u) = v.get("usage").and_then(|u| u["completion_tokens"].as_u64()) {
                sample.tokens = u as usize;
            }
            let has_text = v["choices"][0]["delta"]["content"]
                .as_str()
                .is_some_and(|t| !t.is_empty());
            if has_text {
                let now = Instant::now();
                match last {
                    None => {
                        sample.ttft = Some(now - start);
                        first = Some(now);
                    }
                    Some(l) => sample.gaps.push(now - l),
                }
                last = Some(now);
            }
        }
    }
    if !done {
        bail!("stream ended without [DONE]");
    }
    if let (Some(f), Some(l)) = (first, last) {
        sample.decode = l - f;
    }
    Ok(Answer::Done(sample))
}

/// Counters and histogram buckets from `/metrics`.
fn metrics(host: &str, port: u16) -> anyhow::Result<std::collections::HashMap<String, f64>> {
    let mut head = connect(host, port, "GET", "/metrics", None, "")?;
    if head.status != 200 {
        bail!("/metrics answered {}", head.status);
    }
    let mut text = String::new();
    head.body.read_to_string(&mut text)?;
    Ok(text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let (k, v) = l.rsplit_once(' ')?;
            Some((k.to_string(), v.parse().ok()?))
        })
        .collect())
}

/// Quantile of the mask-time histogram over the interval between two scrapes.
fn quantile_delta(
    before: &std::collections::HashMap<String, f64>,
    after: &std::collections::HashMap<String, f64>,
    q: f64,
) -> Option<f64> {
    let prefix = "loglens_constraint_mask_seconds_bucket{le=\"";
    let mut buckets: Vec<(f64, f64)> = after
        .iter()
        .filter_map(|(k, v)| {
            let le = k.strip_prefix(prefix)?.strip_suffix("\"}")?;
            let bound = if le == "+Inf" {
                f64::INFINITY
            } else {
                le.parse().ok()?
            };
            Some((bound, v - before.get(k).copied().unwrap_or(0.0)))
        })
        .collect();
    buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    let total = buckets.last()?.1;
    if total <= 0.0 {
        return None;
    }
    let want = (q * total).ceil().max(1.0);
    buckets.iter().find(|(_, c)| *c >= want).map(|(b, _)| *b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_and_urls() {
        let mut v = vec![5.0, 1.0, 3.0, 2.0, 4.0];
        assert_eq!(percentile(&mut v, 0.5), 3.0);
        assert_eq!(percentile(&mut v, 0.99), 5.0);
        assert_eq!(percentile(&mut [], 0.5), 0.0);
        assert_eq!(
            parse_url("http://127.0.0.1:8080").ok(),
            Some(("127.0.0.1".into(), 8080))
        );
        assert_eq!(parse_url("http://h/v1").ok(), Some(("h".into(), 80)));
        assert!(parse_url("https://h").is_err());
    }

    #[test]
    fn mask_quantiles_come_from_bucket_deltas() {
        let k = |le: &str| format!("loglens_constraint_mask_seconds_bucket{{le=\"{le}\"}}");
        let before: std::collections::HashMap<String, f64> =
            [(k("0.0001"), 10.0), (k("0.001"), 10.0), (k("+Inf"), 10.0)]
                .into_iter()
                .collect();
        let after: std::collections::HashMap<String, f64> =
            [(k("0.0001"), 19.0), (k("0.001"), 20.0), (k("+Inf"), 20.0)]
                .into_iter()
                .collect();
        assert_eq!(quantile_delta(&before, &after, 0.5), Some(0.0001));
        assert_eq!(quantile_delta(&before, &after, 0.99), Some(0.001));
        assert_eq!(quantile_delta(&after, &after, 0.5), None);
    }
}
