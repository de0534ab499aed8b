//! The second stage of the command line: raw clap arguments ([`super::ModelArgs`],
//! [`super::AnalyzeArgs`]) are validated here into typed settings before any work
//! starts, so a bad `--device`, `--weight-format`, `--model`, `--format` or format
//! override fails at once with a clear message. Model names are resolved in one place
//! ([`ModelSpec::locate`]) for every command that loads a model.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use globset::Glob;

use super::{AnalyzeArgs, ModelArgs};
use crate::analysis::RcaInputs;
use crate::engine::device::set_cpu_threads;
use crate::engine::{DeviceSpec, Engine, ModelSpec, WeightFormat};
use crate::logs::formats::FormatSpec;
use crate::logs::level::Level;
use crate::logs::pipeline::{FormatOverride, PipelineConfig};
use crate::report::OutputFormat;
use crate::triage::TriageConfig;

/// A model to load, validated: what the user named, where it is, how to run it.
#[derive(Debug, Clone)]
pub(crate) struct ModelChoice {
    /// As named (or the default model's path), for display and the served model id.
    pub(crate) named: PathBuf,
    /// Resolved, with device and weight format.
    pub(crate) spec: ModelSpec,
    threads: Option<usize>,
    /// Bytes of the prompt-prefix cache (0: off).
    prefix_cache_bytes: usize,
}

impl ModelArgs {
    /// The model these arguments name, on their device and weight format.
    pub(crate) fn choose(&self) -> anyhow::Result<ModelChoice> {
        self.choose_named(self.model.as_deref())
    }

    /// Another model (`named`, or the default one) with these arguments' device, weight
    /// format and threads.
    pub(crate) fn choose_named(&self, named: Option<&Path>) -> anyhow::Result<ModelChoice> {
        let device: DeviceSpec = self.device.parse().map_err(anyhow::Error::msg)?;
        let weight_format: Option<WeightFormat> = self
            .weight_format
            .as_deref()
            .map(str::parse)
            .transpose()
            .map_err(anyhow::Error::msg)?;
        if self.threads == Some(0) {
            bail!("--threads must be at least 1");
        }
        let named = crate::engine::locate::model_name(named);
        let spec = ModelSpec::locate(Some(&named), device, weight_format).with_context(|| {
            format!(
                "model {} (fetch the default model with models/fetch-default.sh, a known one with models/fetch.sh NAME, or name one with --model)",
                named.display()
            )
        })?;
        Ok(ModelChoice {
            named,
            spec,
            threads: self.threads,
            prefix_cache_bytes: self.prefix_cache_mb.saturating_mul(1 << 20),
        })
    }
}

impl ModelChoice {
    /// Loads the model.
    pub(crate) fn load(&self) -> anyhow::Result<Engine> {
        if let Some(n) = self.threads {
            set_cpu_threads(n);
        }
        let engine = Engine::load(&self.spec)
            .with_context(|| format!("loading {}", self.named.display()))?;
        engine.set_prefix_cache_limit(self.prefix_cache_bytes);
        Ok(engine)
    }
}

/// Which model screens in tiered triage.
#[derive(Debug, Clone)]
pub(crate) enum Screen {
    /// No screening.
    Off,
    /// The triage model screens too.
    Same,
    /// Another model screens.
    Other(ModelChoice),
}

/// `analyze` with LLM triage: the models, the budget, the verdict cache.
#[derive(Debug, Clone)]
pub(crate) struct TriageSettings {
    pub(crate) model: ModelChoice,
    pub(crate) screen: Screen,
    pub(crate) config: TriageConfig,
    /// The state directory of the verdict cache; `None` with `--no-cache`.
    pub(crate) state_dir: Option<PathBuf>,
}

/// `loglens analyze`, validated.
#[derive(Debug, Clone)]
pub(crate) struct AnalyzeSettings {
    pub(crate) pipeline: PipelineConfig,
    /// Traces and incident memory for root-cause analysis.
    pub(crate) rca: RcaInputs,
    pub(crate) formats: Vec<OutputFormat>,
    /// `None` with `--no-llm`.
    pub(crate) triage: Option<TriageSettings>,
    pub(crate) output_dir: PathBuf,
    pub(crate) quiet: bool,
    pub(crate) fail_on: Option<Level>,
}

impl AnalyzeSettings {
    /// Validates every option of `loglens analyze`; the model too unless `--no-llm`.
    pub(crate) fn from_args(args: &AnalyzeArgs) -> anyhow::Result<Self> {
        let formats = args
            .format
            .iter()
            .map(|f| f.parse::<OutputFormat>().map_err(anyhow::Error::msg))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let pipeline = pipeline(args)?;
        let triage = if args.no_llm {
            None
        } else {
            Some(triage(args).context(
                "LLM triage needs the model (fetch it with models/fetch-default.sh, or pass --no-llm)",
            )?)
        };
        Ok(Self {
            pipeline,
            rca: rca_inputs(args)?,
            formats,
            triage,
            output_dir: args.output_dir.clone(),
            quiet: args.quiet,
            fail_on: args.fail_on,
        })
    }
}

fn pipeline(args: &AnalyzeArgs) -> anyhow::Result<PipelineConfig> {
    let mut overrides = Vec::new();
    for o in &args.format_for {
        let Some((glob, spec)) = o.split_once('=') else {
            bail!("--log-format-for expects GLOB=FORMAT, got {o:?}");
        };
        overrides.push(FormatOverride {
            glob: Glob::new(glob)
                .with_context(|| format!("invalid glob {glob:?}"))?
                .compile_matcher(),
            format: FormatSpec::parse(spec)?,
        });
    }
    if args.max_line_bytes < 64 {
        bail!("--max-line-bytes must be at least 64");
    }
    let session_key = args
        .session_key
        .as_deref()
        .map(|k| {
            let pattern = crate::logs::session::preset_key(k).unwrap_or(k);
            regex::Regex::new(pattern).with_context(|| format!("invalid --session-key {k:?}"))
        })
        .transpose()?;
    Ok(PipelineConfig {
        session_key,
        session_state: args.session_state.clone(),
        inputs: args.paths.clone(),
        include: args.include.clone(),
        exclude: args.exclude.clone(),
        overrides,
        year: args.year,
        max_line_bytes: args.max_line_bytes,
        min_level: args.min_level,
        miner_state: args.miner_state.clone(),
        samples: args.samples.max(1),
        ..PipelineConfig::default()
    })
}

/// `--traces` must name something that exists. Incidents are remembered in the state
/// directory when one is named (`--state-dir`, `LOGLENS_STATE_DIR`) or the model runs
/// (its verdict cache lives there too).
fn rca_inputs(args: &AnalyzeArgs) -> anyhow::Result<RcaInputs> {
    for t in &args.traces {
        if !t.exists() {
            bail!("--traces {}: no such file or directory", t.display());
        }
    }
    let named = args.state_dir.is_some() || std::env::var_os("LOGLENS_STATE_DIR").is_some();
    let memory = (named || !args.no_llm).then(|| {
        args.state_dir
            .clone()
            .unwrap_or_else(crate::store::default_state_dir)
    });
    Ok(RcaInputs {
        traces: args.traces.clone(),
        memory,
        ..RcaInputs::default()
    })
}

fn triage(args: &AnalyzeArgs) -> anyhow::Result<TriageSettings> {
    let model = args.model.choose()?;
    let screen = match &args.screen_model {
        Some(p) => {
            let other = args
                .model
                .choose_named(Some(p))
                .context("the screening model")?;
            if other.spec.path == model.spec.path {
                Screen::Same
            } else {
                Screen::Other(other)
            }
        }
        None if args.screen => Screen::Same,
        None => Screen::Off,
    };
    Ok(TriageSettings {
        model,
        screen,
        config: TriageConfig {
            max_groups: args.llm_max_groups,
            ..TriageConfig::default()
        },
        state_dir: (!args.no_cache).then(|| {
            args.state_dir
                .clone()
                .unwrap_or_else(crate::store::default_state_dir)
        }),
    })
}
