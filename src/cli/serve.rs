//! `loglens serve`: the OpenAI-compatible API on the local model.

use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::time::Duration;

use anyhow::Context;

use super::{ServeArgs, EXIT_OK};
use crate::engine::SchedulerConfig;
use crate::server::{serve, ServeConfig};

pub(super) fn run(args: ServeArgs) -> anyhow::Result<i32> {
    let ip: IpAddr = args
        .host
        .parse()
        .with_context(|| format!("--host {:?} is not an IP address", args.host))?;
    if args.max_batch == 0 || args.max_queue == 0 {
        anyhow::bail!("--max-batch and --max-queue must be at least 1");
    }
    let model = args.model.choose()?;
    if args.max_connections == 0 || args.read_timeout_secs == 0 {
        anyhow::bail!("--max-connections and --read-timeout-secs must be at least 1");
    }
    let api_key = match &args.api_key_file {
        Some(p) => Some(read_key(p)?),
        None => args.api_key.clone(),
    };
    let cfg = ServeConfig {
        addr: SocketAddr::new(ip, args.port),
        api_key,
        cors_origins: args.cors_origins.clone(),
        body_limit: args.max_body_mib.saturating_mul(1 << 20),
        scheduler: SchedulerConfig {
            max_batch: args.max_batch,
            max_queue: args.max_queue,
            ..SchedulerConfig::default()
        },
        allowed_hosts: args.allowed_hosts.clone(),
        max_connections: args.max_connections,
        read_timeout: Duration::from_secs(args.read_timeout_secs),
    };
    let rt = crate::server::runtime().context("starting the async runtime")?;
    let named = model.named.clone();
    rt.block_on(serve(cfg, named, move || model.load()))?;
    Ok(EXIT_OK)
}

/// The key in a key file: its first line, trimmed; an empty one is an error (a server
/// meant to require a key must not start without one).
fn read_key(path: &Path) -> anyhow::Result<String> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the API key file {}", path.display()))?;
    let key = text.lines().next().unwrap_or("").trim();
    if key.is_empty() {
        anyhow::bail!("the API key file {} is empty", path.display());
    }
    Ok(key.to_string())
}
