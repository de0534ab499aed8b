//! RCA as an observer of the log pipeline: it collects every record, takes the OTLP
//! trace files met in walked folders (recognised by content, never read as log lines),
//! and resolves template ids and texts once the miner is done.

use std::path::Path;

use rustc_hash::FxHashMap;

use super::collect::{Collector, LogEvent};
use super::{names, otlp};
use crate::logs::miner::{ClusterId, Miner};
use crate::logs::pipeline::{Observer, RecordView};
use crate::logs::record::ComponentSource;

/// File extensions of OTLP protobuf trace files.
const PROTOBUF_EXTENSIONS: &[&str] = &["pb", "binpb", "otlp", "protobuf"];

/// Collects for root-cause analysis while the pipeline reads.
#[derive(Debug, Default)]
pub struct RcaObserver {
    /// What was collected.
    pub collector: Collector,
    /// Trace files read: (path, spans).
    pub trace_files: Vec<(String, u64)>,
    /// The last file a record came from, and its pod's workload when it is a
    /// Kubernetes container log.
    workload: Option<(String, Option<String>)>,
}

impl RcaObserver {
    /// An observer with an empty collector.
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads a trace file or every file under a folder (`--traces`); per file, the
    /// format it was read as (`otlp-json`, `otlp-protobuf`) or why it failed, while the
    /// others are read.
    pub fn read_traces(&mut self, path: &Path) -> Vec<(String, Result<String, String>)> {
        let files: Vec<std::path::PathBuf> = if path.is_dir() {
            walkdir::WalkDir::new(path)
                .sort_by_file_name()
                .into_iter()
                .filter_map(Result::ok)
                .filter(|e| e.file_type().is_file())
                .map(walkdir::DirEntry::into_path)
                .collect()
        } else {
            vec![path.to_path_buf()]
        };
        files
            .into_iter()
            .map(|f| (f.display().to_string(), self.read_file(&f)))
            .collect()
    }

    /// Reads one trace file: the format it was read as, or why it failed.
    fn read_file(&mut self, path: &Path) -> Result<String, String> {
        let json = head(path).is_some_and(|h| otlp::sniff_json(&h));
        let stats = self
            .collector
            .read_traces(path)
            .map_err(|e| e.to_string())?;
        self.trace_files
            .push((path.display().to_string(), stats.spans));
        Ok(if json { "otlp-json" } else { "otlp-protobuf" }.into())
    }
}

/// The first 4 KiB of a file, gzip undone.
fn head(path: &Path) -> Option<Vec<u8>> {
    use std::io::{BufRead, Read};
    let mut raw = std::io::BufReader::new(std::fs::File::open(path).ok()?);
    let gz = raw.fill_buf().ok()?.starts_with(&[0x1f, 0x8b]);
    let mut out = Vec::with_capacity(4096);
    if gz {
        flate2::read::MultiGzDecoder::new(raw)
            .take(4096)
            .read_to_end(&mut out)
            .ok()?;
    } else {
        raw.take(4096).read_to_end(&mut out).ok()?;
    }
    Some(out)
}

/// Whether a file's name and first bytes make it an OTLP trace file.
pub fn is_trace_file(path: &Path, head: &[u8]) -> bool {
    if otlp::sniff_json(head) {
        return true;
    }
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    PROTOBUF_EXTENSIONS.contains(&ext) && head.first().is_some_and(|&b| b == 0x0a || b == 0)
}

impl Observer for RcaObserver {
    fn record(&mut self, r: &RecordView<'_>) {
        let lower = r.file.to_ascii_lowercase();
        // A component from the record's own service field or from what wraps the line
        // (a compose prefix, a container path) names the service, not the file.
        let multiplexed = matches!(
            r.component_source,
            ComponentSource::Field | ComponentSource::Wrapper
        ) || lower.contains("journal")
            || lower.contains("syslog")
            || lower.ends_with("messages");
        // A container's records belong to its pod's workload (`calico-node`, not the
        // container `calico`).
        let component = if r.component_source == ComponentSource::Wrapper {
            if self.workload.as_ref().is_none_or(|(f, _)| f != r.file) {
                self.workload = Some((r.file.to_string(), names::pod_workload(r.file)));
            }
            self.workload
                .as_ref()
                .and_then(|(_, w)| w.as_deref())
                .or(r.component)
        } else {
            r.component
        };
        self.collector.add_log(&LogEvent {
            component,
            file: r.file,
            multiplexed,
            line: r.line,
            time: r.time,
            level: r.level,
            template: u64::from(r.cluster.0),
            message: r.message,
            trace_id: r.trace_id,
        });
    }

    fn take_file(&mut self, path: &Path, head: &[u8]) -> Option<Result<String, String>> {
        is_trace_file(path, head).then(|| self.read_file(path))
    }

    fn finish(&mut self, miner: &Miner) {
        let canonical = |k: u64| u64::from(miner.canonical(ClusterId(k as u32)).0);
        self.collector.remap_templates(&canonical);
        let mut texts = FxHashMap::default();
        for &(_, key) in self.collector.templates.keys() {
            if key >> 63 == 0 && !texts.contains_key(&key) {
                let c = miner.cluster(ClusterId(key as u32));
                texts.insert(key, (c.template_id(), c.template()));
            }
        }
        self.collector.texts = texts;
    }
}
