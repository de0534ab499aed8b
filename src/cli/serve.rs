//! `loglens serve`: the OpenAI-compatible API on the local model.

use std::net::{IpAddr, SocketAddr};

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
    let cfg = ServeConfig {
        addr: SocketAddr::new(ip, args.port),
        api_key: args.api_key.clone(),
        cors_origins: args.cors_origins.clone(),
        body_limit: args.max_body_mib.saturating_mul(1 << 20),
        scheduler: SchedulerConfig {
            max_batch: args.max_batch,
            max_queue: args.max_queue,
            ..SchedulerConfig::default()
        },
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .worker_threads(2)
        .thread_name("loglens-http")
        .build()
        .context("starting the async runtime")?;
    let named = model.named.clone();
    rt.block_on(serve(cfg, named, move || model.load()))?;
    Ok(EXIT_OK)
}
