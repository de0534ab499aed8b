//! The JSON report schema: fields a consumer relies on, and the other two renderings.

use loglens::logs::level::Level;
use loglens::logs::pipeline::{analyze, PipelineConfig};
use loglens::report::{write_reports, OutputFormat, SCHEMA_VERSION};
use serde_json::Value;

#[test]
fn json_schema_of_the_example_report() {
    let config = PipelineConfig {
        inputs: vec![super::examples_dir()],
        min_level: Level::Warn,
        ..PipelineConfig::default()
    };
    let report = analyze(&config, &|_| {}).expect("analysis runs");
    let dir = tempfile::tempdir().expect("temp dir");
    let written = write_reports(
        &report,
        dir.path(),
        &[
            OutputFormat::Json,
            OutputFormat::Markdown,
            OutputFormat::Html,
        ],
    )
    .expect("reports written");
    assert_eq!(written.len(), 3);
    let json: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("report.json")).expect("read"),
    )
    .expect("valid JSON");
    assert_eq!(json["schema_version"], SCHEMA_VERSION);
    for key in [
        "run",
        "files",
        "accounting",
        "levels",
        "components",
        "templates",
        "groups",
        "summarized",
        "time_range",
    ] {
        assert!(json.get(key).is_some(), "missing {key}");
    }
    let groups = json["groups"].as_array().expect("groups array");
    assert!(!groups.is_empty());
    for g in groups {
        for key in [
            "rank",
            "template_id",
            "template",
            "level",
            "component",
            "count",
            "first_seen",
            "last_seen",
            "per_minute",
            "samples",
            "verdict",
        ] {
            assert!(g.get(key).is_some(), "group missing {key}: {g}");
        }
        let level = g["level"].as_str().expect("level string");
        assert!(["warn", "error", "critical"].contains(&level), "{level}");
        let s = &g["samples"][0];
        assert!(
            s["file"].as_str().is_some() && s["line"].as_u64().is_some(),
            "{s}"
        );
        assert_eq!(g["template_id"].as_str().map(str::len), Some(16));
    }
    // Severity first: the first group is an error, and the storage failure is found.
    assert_eq!(groups[0]["level"], "error");
    assert!(groups.iter().any(|g| g["component"] == "minio-1"
        && g["template"]
            .as_str()
            .is_some_and(|t| t.contains("Storage resources are insufficient"))));
    let acc = &json["accounting"];
    assert_eq!(
        acc["lines"].as_u64(),
        Some(
            acc["records"].as_u64().unwrap_or(0)
                + acc["continuation_lines"].as_u64().unwrap_or(0)
                + acc["blank_lines"].as_u64().unwrap_or(0)
        )
    );
    // Parameters are extracted per record.
    let storage = groups
        .iter()
        .find(|g| {
            g["template"]
                .as_str()
                .is_some_and(|t| t.starts_with("Storage resources"))
        })
        .expect("storage group");
    let params: Vec<&str> = storage["samples"][0]["params"]
        .as_array()
        .expect("params")
        .iter()
        .filter_map(|p| p.as_str())
        .collect();
    assert_eq!(params.len(), 3, "{params:?}");
    assert_eq!(params[1], "/data1");
    // INFO groups are summarised, not listed.
    assert!(json["summarized"].as_array().is_some_and(|s| !s.is_empty()));

    let html = std::fs::read_to_string(dir.path().join("report.html")).expect("read");
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("<svg"), "timeline present");
    assert!(
        !html.contains("http://") || !html.contains("<script"),
        "self-contained, no scripts"
    );
    assert!(!html.contains("<script"));
    let md = std::fs::read_to_string(dir.path().join("report.md")).expect("read");
    assert!(md.contains("## Input accounting"));
}

/// Thirty minutes of steady traffic, then one minute of database errors.
fn burst_log() -> String {
    let mut s = String::new();
    for m in 0..30 {
        for k in 0..3 {
            s.push_str(&format!(
                "2025-11-03 10:{m:02}:{:02},000 INFO api: served request id={m}{k} in 12 ms\n",
                k * 10
            ));
        }
        s.push_str(&format!(
            "2025-11-03 10:{m:02}:45,000 ERROR db: slow query took 900 ms\n"
        ));
    }
    for k in 0..40 {
        s.push_str(&format!(
            "2025-11-03 10:30:{:02},000 ERROR db: connection pool exhausted (waiting {k})\n",
            k % 60
        ));
    }
    s
}

#[test]
fn detectors_flag_bursts_and_templates_missing_from_the_saved_state() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("app.log");
    let state = dir.path().join("miner.json");
    // The first run, on normal traffic only, saves the baseline state.
    let normal: String = burst_log()
        .lines()
        .take(120)
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&log, normal).expect("write");
    let mut cfg = PipelineConfig {
        inputs: vec![log.clone()],
        miner_state: Some(state.clone()),
        ..PipelineConfig::default()
    };
    let first = analyze(&cfg, &|_| {}).expect("first run");
    assert!(
        first
            .anomalies
            .iter()
            .all(|a| a.anomaly.detector != "error_burst"),
        "steady traffic has no burst"
    );
    std::fs::write(&log, burst_log()).expect("write");
    cfg.inputs = vec![log];
    let r = analyze(&cfg, &|_| {}).expect("second run");
    let burst = r
        .anomalies
        .iter()
        .find(|a| a.anomaly.detector == "error_burst")
        .expect("a burst");
    assert_eq!(burst.anomaly.component, "db");
    assert_eq!(
        burst.anomaly.window_start.as_deref(),
        Some("2025-11-03T10:30:00Z")
    );
    let new: Vec<_> = r
        .anomalies
        .iter()
        .filter(|a| a.anomaly.detector == "new_template")
        .collect();
    assert_eq!(new.len(), 1, "only the pool template is new: {new:?}");
    let rank = new[0].group_rank.expect("linked to its group");
    let g = &r.groups[rank - 1];
    assert!(
        g.template.contains("connection pool exhausted"),
        "{}",
        g.template
    );
    assert_eq!(g.level, Level::Error);
    let json: Value = serde_json::from_str(&r.to_json()).expect("json");
    assert!(json["anomalies"][0]["detector"].is_string());
}
