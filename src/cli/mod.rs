//! Command-line interface in two stages: clap definitions (this file: raw arguments)
//! and their validation into typed settings (`settings`) before any work starts, then
//! dispatch. Nothing below this module sees a clap type.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::logs::level::Level;

mod analyze;
mod bench;
mod chat;
mod generate;
mod parse;
mod serve;
mod settings;

pub use parse::{FormatsCommand, ParseArgs};

/// loglens: find what is abnormal in your logs, on your own machine.
#[derive(Debug, Parser)]
#[command(name = "loglens", version, about, propagate_version = true)]
pub struct Cli {
    /// How loglens writes its own diagnostics to stderr.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text, env = "LOGLENS_LOG_FORMAT")]
    pub log_format: LogFormat,
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// Diagnostics format.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Analyse log files and write reports (Markdown, JSON, HTML).
    Analyze(AnalyzeArgs),
    /// Generate a completion with the local model; prints only the completion.
    Generate(GenerateArgs),
    /// Talk with the local model (lines from standard input; /system, /reset, /exit).
    Chat(ChatArgs),
    /// Serve the local model through an OpenAI-compatible HTTP API.
    Serve(ServeArgs),
    /// Read logs into records (timestamp, level, component, logger, ids, template),
    /// one per line, or one JSON object per line with --jsonl.
    Parse(ParseArgs),
    /// Log formats: which one each file is read with.
    #[command(subcommand)]
    Formats(FormatsCommand),
    /// Local models.
    #[command(subcommand)]
    Models(ModelsCommand),
    /// Benchmarks that print figures.
    #[command(subcommand)]
    Bench(BenchCommand),
}

/// Model selection shared by the commands that load one.
#[derive(Debug, Args)]
pub struct ModelArgs {
    /// A .gguf file, an HF model directory, a known name from `models list`
    /// (qwen2.5-coder-1.5b, ..., looked up in the model directory), or an HF repository
    /// id (org/name or org/name@revision) found in the local HF cache ($HF_HUB_CACHE,
    /// $HF_HOME/hub or ~/.cache/huggingface/hub; nothing is downloaded). Default: the
    /// default model in $LOGLENS_MODEL_DIR or ./models, as fetched by
    /// models/fetch-default.sh.
    #[arg(long, env = "LOGLENS_MODEL")]
    pub model: Option<PathBuf>,
    /// cpu, cuda, cuda:N or auto.
    #[arg(long, default_value = "cpu", env = "LOGLENS_DEVICE")]
    pub device: String,
    /// Weight format in memory: native (as stored), q8_0 (re-quantized at load) or
    /// f32. Default on CPU: native for GGUF files in Q4_0, Q4_1, Q5_0, Q8_0, Q4_K or
    /// Q6_K (loglens's own kernels run them as stored); otherwise f32 when the f32 weights fit in 2 GiB,
    /// q8_0 above. On GPU: native.
    #[arg(long)]
    pub weight_format: Option<String>,
    /// CPU threads for the tensor kernels (default: all cores).
    #[arg(long, env = "LOGLENS_THREADS")]
    pub threads: Option<usize>,
    /// Memory for the prompt-prefix cache in MiB (keys and values of prompt beginnings
    /// that later requests share); 0 turns it off.
    #[arg(long, env = "LOGLENS_PREFIX_CACHE_MB", default_value_t = 512)]
    pub prefix_cache_mb: usize,
}

/// `loglens models ...`.
#[derive(Debug, Subcommand)]
pub enum ModelsCommand {
    /// Lists the models found in the model directory (GGUF files and HF directories)
    /// and any paths given, then the models known by name (models/fetch.sh NAME).
    List {
        /// Extra files or directories to look in.
        paths: Vec<PathBuf>,
        /// Print JSON lines instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Writes a GGUF model out as an HF directory (config.json, tokenizer files and
    /// safetensors).
    Convert {
        /// The .gguf file.
        input: PathBuf,
        /// The directory to write (created if missing).
        out_dir: PathBuf,
        /// Weight dtype: f16, bf16 or f32.
        #[arg(long, default_value = "f16")]
        dtype: String,
    },
    /// Writes a model of a real shape with random weights as an HF directory (for speed
    /// runs on nodes without the real weights, and tests); same seed, same files.
    Random {
        /// The directory to write (created if missing).
        out_dir: PathBuf,
        /// llama3-8b, mistral-7b, smollm2-135m or tiny.
        #[arg(long, default_value = "tiny")]
        shape: String,
        /// Seed of the weights.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Weight dtype: bf16 or f32.
        #[arg(long, default_value = "bf16")]
        dtype: String,
    },
}

/// `loglens chat`.
#[derive(Debug, Args)]
pub struct ChatArgs {
    /// A system message for the whole conversation.
    #[arg(long)]
    pub system: Option<String>,
    /// Most tokens per answer.
    #[arg(long, default_value_t = 512)]
    pub max_tokens: usize,
    /// Sampling temperature; 0 is greedy.
    #[arg(long, default_value_t = 0.7)]
    pub temperature: f32,
    /// Nucleus sampling mass.
    #[arg(long, default_value_t = 0.95)]
    pub top_p: f32,
    /// Seed for sampling.
    #[arg(long)]
    pub seed: Option<u64>,
    /// The model.
    #[command(flatten)]
    pub model: ModelArgs,
}

/// `loglens generate`.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// The user message (or the raw prompt with --raw).
    #[arg(long)]
    pub prompt: String,
    /// A system message.
    #[arg(long)]
    pub system: Option<String>,
    /// Send the prompt as is, without the chat template.
    #[arg(long)]
    pub raw: bool,
    /// Most tokens to generate.
    #[arg(long, default_value_t = 256)]
    pub max_tokens: usize,
    /// Sampling temperature; 0 is greedy.
    #[arg(long, default_value_t = 0.0)]
    pub temperature: f32,
    /// Nucleus sampling threshold.
    #[arg(long, default_value_t = 1.0)]
    pub top_p: f32,
    /// Keep only the k most likely tokens (0: off).
    #[arg(long, default_value_t = 0)]
    pub top_k: usize,
    /// Random seed (same seed and input give the same output).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Stop at this string (repeatable).
    #[arg(long)]
    pub stop: Vec<String>,
    /// Constrain the output to JSON valid for the schema in this file.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["json", "regex", "choice"])]
    pub schema: Option<PathBuf>,
    /// Constrain the output to any JSON object.
    #[arg(long, conflicts_with_all = ["regex", "choice"])]
    pub json: bool,
    /// Constrain the output to match this regular expression.
    #[arg(long, conflicts_with = "choice")]
    pub regex: Option<String>,
    /// Constrain the output to one of these strings (repeatable).
    #[arg(long)]
    pub choice: Vec<String>,
    /// The model.
    #[command(flatten)]
    pub model: ModelArgs,
}

/// `loglens serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on; 127.0.0.1 keeps the API on this machine.
    #[arg(long, default_value = "127.0.0.1", env = "LOGLENS_HOST")]
    pub host: String,
    /// Port (0 picks a free one; the address is printed on stdout).
    #[arg(long, default_value_t = 8080, env = "LOGLENS_PORT")]
    pub port: u16,
    /// Require `Authorization: Bearer KEY` on /v1/*. A key given on the command line is
    /// visible to every user of the machine in `ps`: prefer the LOGLENS_API_KEY variable
    /// or --api-key-file.
    #[arg(long, env = "LOGLENS_API_KEY", hide_env_values = true)]
    pub api_key: Option<String>,
    /// Read the API key from this file (its first line; the file should be readable by
    /// the server's user only).
    #[arg(long, env = "LOGLENS_API_KEY_FILE", conflicts_with = "api_key")]
    pub api_key_file: Option<PathBuf>,
    /// Without an API key, answer requests whose Host header is this name too
    /// (repeatable; localhost, 127.0.0.1, ::1 and the --host address always are; `*`
    /// answers any, which lets web pages reach the API through DNS rebinding).
    #[arg(long = "allowed-host", value_name = "NAME")]
    pub allowed_hosts: Vec<String>,
    /// Connections served at once; more wait until one closes.
    #[arg(long, default_value_t = 256)]
    pub max_connections: usize,
    /// Seconds a client has to send a request's headers, then its body; idle
    /// keep-alive connections and clients that read nothing of a response for this
    /// long are closed.
    #[arg(long, default_value_t = 30)]
    pub read_timeout_secs: u64,
    /// Allow browser requests from this origin (repeatable); no CORS headers otherwise.
    #[arg(long = "cors-origin")]
    pub cors_origins: Vec<String>,
    /// Sequences decoding together at most.
    #[arg(long, default_value_t = 16)]
    pub max_batch: usize,
    /// Requests waiting for a slot at most; beyond it requests get 429.
    #[arg(long, default_value_t = 64)]
    pub max_queue: usize,
    /// Largest request body, in MiB.
    #[arg(long, default_value_t = 8)]
    pub max_body_mib: usize,
    /// The model.
    #[command(flatten)]
    pub model: ModelArgs,
}

/// `loglens analyze`.
#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    /// Files, directories (walked recursively) or `-` for standard input; `.gz` is read
    /// transparently.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Directory the reports are written to.
    #[arg(
        long,
        short = 'o',
        default_value = "loglens-report",
        env = "LOGLENS_OUTPUT_DIR"
    )]
    pub output_dir: PathBuf,
    /// Reports to write, comma-separated: md, json, html, dot (the service graph).
    #[arg(long, value_delimiter = ',', default_value = "md,json,html,dot")]
    pub format: Vec<String>,
    /// OTLP traces for root-cause analysis: files or folders of OTLP/JSON (one document,
    /// or one per line as the Collector's file exporter writes) or OTLP protobuf. OTLP
    /// files inside the log folders are recognised by content anyway.
    #[arg(long, value_name = "FILE|DIR")]
    pub traces: Vec<PathBuf>,
    /// Groups below this level are counted and summarised rather than listed.
    #[arg(long, default_value = "warn", env = "LOGLENS_MIN_LEVEL")]
    pub min_level: Level,
    /// Skip LLM triage and report the statistical results only.
    #[arg(long)]
    pub no_llm: bool,
    /// Flagged groups put to the model at most (most telling first).
    #[arg(long, default_value_t = 8)]
    pub llm_max_groups: usize,
    /// Where loglens keeps its local store (verdict cache); default
    /// $LOGLENS_STATE_DIR, else $XDG_DATA_HOME/loglens, else ~/.local/share/loglens.
    #[arg(long)]
    pub state_dir: Option<PathBuf>,
    /// Ask the model again even for evidence it has judged before.
    #[arg(long)]
    pub no_cache: bool,
    /// Tiered triage: a short screening question per group first, the detailed verdict
    /// only for groups the screen calls anomalous (and always for error-level evidence).
    /// Screens with the triage model unless --screen-model names another.
    #[arg(long)]
    pub screen: bool,
    /// The model that screens (implies --screen): a smaller, faster one than --model.
    #[arg(long)]
    pub screen_model: Option<PathBuf>,
    /// The model for triage.
    #[command(flatten)]
    pub model: ModelArgs,
    /// Only files matching these globs when walking directories (repeatable).
    #[arg(long)]
    pub include: Vec<String>,
    /// Skip files matching these globs when walking directories (repeatable).
    #[arg(long)]
    pub exclude: Vec<String>,
    /// Format override, `GLOB=FORMAT` (a name such as json or syslog, a Loghub preset, or a
    /// header pattern like `<Date> <Time> <Level> <Content>`); repeatable, first match wins.
    #[arg(long = "log-format-for", value_name = "GLOB=FORMAT")]
    pub format_for: Vec<String>,
    /// Year for timestamps that print none (syslog); default: each file's modification year.
    #[arg(long)]
    pub year: Option<i32>,
    /// Lines longer than this many bytes are cut and counted.
    #[arg(long, default_value_t = crate::logs::ingest::DEFAULT_MAX_LINE)]
    pub max_line_bytes: usize,
    /// Template miner state: loaded if present, saved after the run.
    #[arg(long, env = "LOGLENS_MINER_STATE")]
    pub miner_state: Option<PathBuf>,
    /// Session key for the session detector: a regex whose first capture group (or
    /// match) names a record's session, or a preset: hdfs (block ids), trace, request.
    #[arg(long, value_name = "REGEX|hdfs|trace|request")]
    pub session_key: Option<String>,
    /// Session model: loaded as the normal baseline if present (sessions are scored
    /// only then), saved after the run with the unflagged sessions added. Fit it first
    /// on logs of a normal period.
    #[arg(long, requires = "session_key")]
    pub session_state: Option<PathBuf>,
    /// Samples kept per group.
    #[arg(long, default_value_t = 5)]
    pub samples: usize,
    /// Exit with status 3 when a record at or above this level is found (for CI jobs).
    #[arg(long)]
    pub fail_on: Option<Level>,
    /// No progress bar and no summary on stderr.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

/// `loglens bench ...`.
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Template-mining accuracy on Loghub ground truth (`--data`), or parse throughput of
    /// one raw log file (`--input`).
    Parse(BenchParseArgs),
    /// Inference speed: prefill and decode tokens/s, time to first token, inter-token
    /// latency, aggregate throughput at several concurrency levels, peak RSS.
    Tokens(BenchTokensArgs),
    /// Load on the OpenAI-compatible API: requests/s, output tok/s, TTFT and inter-token
    /// latency per concurrency level; with --constrained, the cost of JSON schemas.
    Serve(BenchServeArgs),
    /// Anomaly detection precision, recall and F1 on labelled data (HDFS_100k blocks,
    /// BGL_2k lines and windows).
    Detect(BenchDetectArgs),
    /// Root-cause accuracy (top-1, top-3, category) on incident scenarios, with and
    /// without the model.
    Rca(BenchRcaArgs),
    /// The model on --device against --against (a GPU against the CPU): greedy tokens
    /// up to near-ties, logit differences, batched against lone runs; exit status 1 when
    /// they disagree.
    Devices(BenchDevicesArgs),
    /// The prompt-prefix cache: time to first token of a request whose beginning was
    /// just run, and tokens prefilled by a batch sharing one beginning, cache off and on.
    Prefix(BenchPrefixArgs),
}

/// `loglens bench prefix`.
#[derive(Debug, Args)]
pub struct BenchPrefixArgs {
    /// Tokens every prompt begins with.
    #[arg(long, default_value_t = 1000)]
    pub prefix_tokens: usize,
    /// Tokens of each prompt's own tail.
    #[arg(long, default_value_t = 200)]
    pub suffix_tokens: usize,
    /// Requests in the shared-prefix batch.
    #[arg(long, default_value_t = 8)]
    pub batch: usize,
    /// Tokens generated per request.
    #[arg(long, default_value_t = 8)]
    pub gen_tokens: usize,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
    /// The model.
    #[command(flatten)]
    pub model: ModelArgs,
}

/// `loglens bench rca`.
#[derive(Debug, Args)]
pub struct BenchRcaArgs {
    /// Folder of scenario folders (each with logs/, optional traces/, truth.json), as
    /// `python3 benches/rca/generate.py --out DIR` writes them.
    #[arg(long, default_value = "rca-scenarios", env = "LOGLENS_RCA_DATA")]
    pub data: PathBuf,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Also ask the model for its verdict on each scenario and score what the report
    /// then leads with.
    #[arg(long)]
    pub llm: bool,
    /// With --llm: ask the model about the first N scenarios only (in folder order).
    #[arg(long, default_value_t = usize::MAX, hide_default_value = true)]
    pub llm_scenarios: usize,
    /// The model for --llm.
    #[command(flatten)]
    pub model: ModelArgs,
}

/// `loglens bench devices`.
#[derive(Debug, Args)]
pub struct BenchDevicesArgs {
    /// The device to compare with (the reference side).
    #[arg(long, default_value = "cpu")]
    pub against: String,
    /// A reference file (`models/reference/*.json`) whose prompts and greedy tokens to
    /// use; default: three built-in prompts.
    #[arg(long)]
    pub reference: Option<PathBuf>,
    /// Greedy tokens per prompt.
    #[arg(long, default_value_t = 32)]
    pub tokens: usize,
    /// Top-two logit gap under which a divergence counts as a near-tie.
    #[arg(long, default_value_t = 0.2)]
    pub tie: f32,
    /// Largest logit difference allowed, relative to the largest logit.
    #[arg(long, default_value_t = 0.05)]
    pub tolerance: f32,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
    /// The model and the device checked.
    #[command(flatten)]
    pub model: ModelArgs,
}

/// `loglens bench detect`.
#[derive(Debug, Args)]
pub struct BenchDetectArgs {
    /// Directory with `HDFS_100k/` and `BGL_2k/` (default: `$LOGLENS_DATA/anomaly`).
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Also score detectors + LLM verdicts (the model confirms or dismisses each
    /// flagged item), on a fixed sample of each dataset to fit the time budget.
    #[arg(long)]
    pub llm: bool,
    /// Items per dataset in the LLM sample.
    #[arg(long, default_value_t = 64)]
    pub llm_items: usize,
    /// The model for --llm.
    #[command(flatten)]
    pub model: ModelArgs,
}

/// `loglens bench serve`.
#[derive(Debug, Args)]
pub struct BenchServeArgs {
    /// A running server (`http://host:port`); without it, the model is loaded and served
    /// in-process on a free local port.
    #[arg(long)]
    pub url: Option<String>,
    /// Bearer token for --url.
    #[arg(long, env = "LOGLENS_API_KEY", hide_env_values = true)]
    pub api_key: Option<String>,
    /// Model id to request (default: the id the server lists first).
    #[arg(long)]
    pub model_id: Option<String>,
    /// Concurrency levels, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1,8")]
    pub concurrency: Vec<usize>,
    /// Requests per level (at least the concurrency; default twice the largest level).
    #[arg(long)]
    pub requests: Option<usize>,
    /// max_tokens per request.
    #[arg(long, default_value_t = 64)]
    pub max_tokens: usize,
    /// Run every level a second time with a JSON-schema response_format.
    #[arg(long)]
    pub constrained: bool,
    /// Sequences decoding together in the in-process server (no --url).
    #[arg(long, default_value_t = 16)]
    pub max_batch: usize,
    /// Requests waiting for a slot in the in-process server (no --url); beyond it, 429.
    #[arg(long, default_value_t = 64)]
    pub max_queue: usize,
    /// Times a client retries a request answered 429, after its Retry-After.
    #[arg(long, default_value_t = 20)]
    pub retries: usize,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
    /// The model (when no --url).
    #[command(flatten)]
    pub model: ModelArgs,
}

/// `loglens bench tokens`.
#[derive(Debug, Args)]
pub struct BenchTokensArgs {
    /// Prompt length in tokens.
    #[arg(long, default_value_t = 512)]
    pub prompt_tokens: usize,
    /// Tokens generated per request.
    #[arg(long, default_value_t = 128)]
    pub gen_tokens: usize,
    /// Concurrency levels to measure, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1")]
    pub concurrency: Vec<usize>,
    /// Prompt length of each request at the concurrency levels (default: --prompt-tokens).
    #[arg(long)]
    pub concurrency_prompt_tokens: Option<usize>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
    /// The model.
    #[command(flatten)]
    pub model: ModelArgs,
}

/// `loglens bench parse`.
#[derive(Debug, Args)]
pub struct BenchParseArgs {
    /// Directory with `<System>/<System>_2k.log_structured_corrected.csv`
    /// (default: `$LOGLENS_DATA/loghub-2k`, `LOGLENS_DATA` defaulting to `../shared/data`).
    #[arg(long, conflicts_with = "input")]
    pub data: Option<PathBuf>,
    /// A raw log file to time parse + template matching on.
    #[arg(long)]
    pub input: Option<PathBuf>,
    /// Format of `--input` (detected when absent).
    #[arg(long = "log-format-of-input", value_name = "FORMAT")]
    pub input_format: Option<String>,
    /// Format override for `--data` files, `GLOB=FORMAT` (matched against the path
    /// and the file name); repeatable, first match wins. Formats are detected otherwise.
    #[arg(long = "log-format-for", value_name = "GLOB=FORMAT")]
    pub format_for: Vec<String>,
    /// Score the labelled corpus in this directory (`tests/corpus`): record
    /// boundaries, timestamps, levels and components per format.
    #[arg(long, conflicts_with_all = ["input", "data"])]
    pub corpus: Option<PathBuf>,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Exit status: the run succeeded.
pub const EXIT_OK: i32 = 0;
/// Exit status: the run failed.
pub const EXIT_FAILED: i32 = 1;
/// Exit status: `--fail-on` found a record at or above its level.
pub const EXIT_FAIL_ON: i32 = 3;

/// Runs a parsed command line; returns the process exit status.
pub fn run(cli: Cli) -> anyhow::Result<i32> {
    match cli.command {
        Command::Analyze(args) => analyze::run(args),
        Command::Generate(args) => generate::run(args),
        Command::Chat(args) => chat::run(args),
        Command::Serve(args) => serve::run(args),
        Command::Parse(args) => parse::run(args),
        Command::Formats(cmd) => parse::formats(cmd),
        Command::Models(ModelsCommand::List { paths, json }) => generate::list_models(&paths, json),
        Command::Models(ModelsCommand::Convert {
            input,
            out_dir,
            dtype,
        }) => generate::convert(&input, &out_dir, &dtype),
        Command::Models(ModelsCommand::Random {
            out_dir,
            shape,
            seed,
            dtype,
        }) => generate::random(&out_dir, &shape, seed, &dtype),
        Command::Bench(BenchCommand::Parse(args)) => bench::parse(args),
        Command::Bench(BenchCommand::Tokens(args)) => bench::tokens(args),
        Command::Bench(BenchCommand::Serve(args)) => bench::serve(args),
        Command::Bench(BenchCommand::Detect(args)) => bench::detect(args),
        Command::Bench(BenchCommand::Rca(args)) => bench::rca(args),
        Command::Bench(BenchCommand::Devices(args)) => bench::devices(args),
        Command::Bench(BenchCommand::Prefix(args)) => bench::prefix(args),
    }
}
