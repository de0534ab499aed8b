//! `loglens bench parse` on the Loghub ground truth beside the checkout.

use std::process::Command;

use loglens::bench::parse::accuracy;
use loglens::logs::miner::MinerConfig;

#[test]
fn accuracy_on_loghub_meets_the_floor() {
    let data = super::data_dir().join("loghub-2k");
    let r = accuracy(&data, MinerConfig::default(), &[])
        .expect("Loghub data beside the checkout (set LOGLENS_DATA)");
    assert_eq!(r.systems.len(), 8);
    // Floors well under the measured figures (benches/RESULTS.md), to catch regressions.
    assert!(
        r.average.grouping_accuracy >= 0.97,
        "GA {}",
        r.average.grouping_accuracy
    );
    assert!(
        r.average.parsing_accuracy >= 0.90,
        "PA {}",
        r.average.parsing_accuracy
    );
}

#[test]
fn bench_parse_prints_json() {
    let data = super::data_dir().join("loghub-2k");
    let o = Command::new(env!("CARGO_BIN_EXE_loglens"))
        .args(["bench", "parse", "--json", "--data"])
        .arg(&data)
        .output()
        .expect("runs");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("one JSON object");
    assert_eq!(v["systems"].as_array().map(Vec::len), Some(8));
    for key in ["grouping_accuracy", "parsing_accuracy", "lines_per_sec"] {
        assert!(v["average"][key].as_f64().is_some(), "{key}");
        assert!(v["systems"][0][key].as_f64().is_some(), "{key}");
    }
    let input = data.join("HDFS/HDFS_2k.log");
    let o = Command::new(env!("CARGO_BIN_EXE_loglens"))
        .args(["bench", "parse", "--json", "--input"])
        .arg(&input)
        .output()
        .expect("runs");
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("one JSON object");
    assert_eq!(v["lines"], 2000);
    assert_eq!(v["with_timestamp"], 2000);
    assert!(
        v["templates"]
            .as_u64()
            .is_some_and(|t| (10..=30).contains(&t)),
        "{v}"
    );
}

#[test]
fn detection_benchmark_scores_every_dataset() {
    let out = Command::new(env!("CARGO_BIN_EXE_loglens"))
        .args(["bench", "detect", "--json", "--data"])
        .arg(super::data_dir().join("anomaly"))
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let rows = v["datasets"].as_array().expect("datasets");
    let find = |name: &str, mode: &str| {
        rows.iter()
            .find(|r| r["name"] == name && r["mode"] == mode)
            .unwrap_or_else(|| panic!("{name} {mode} missing"))
    };
    let hdfs = find("HDFS_100k/block", "detectors");
    assert_eq!(hdfs["n"], 1588, "the test split only");
    // Sessions that stop early or take unseen turns are caught; blocks whose event
    // sequence is identical to normal ones cannot be (see benches/RESULTS.md).
    assert!(hdfs["precision"].as_f64().unwrap_or(0.0) > 0.8, "{hdfs}");
    assert!(hdfs["recall"].as_f64().unwrap_or(0.0) > 0.4, "{hdfs}");
    let line = find("BGL_2k/line", "detectors");
    assert_eq!(line["n"], 800, "the last 40% of 2,000 lines");
    assert_eq!(find("BGL_2k/window20", "error_level")["n"], 40);
    for r in rows {
        for k in ["precision", "recall", "f1"] {
            let x = r[k].as_f64().unwrap_or(-1.0);
            assert!((0.0..=1.0).contains(&x), "{r}");
        }
    }
}

/// LLM mode: both modes on the same fixed sample, said so; the model can only confirm
/// or dismiss what the detectors flagged, so it never adds a true or false positive.
#[test]
fn detection_with_the_model_scores_a_sample_and_only_filters() {
    let dir = super::data_dir().join("anomaly");
    let scores = loglens::bench::detect::with_llm(&dir, super::engine::engine(), 12).expect("runs");
    assert_eq!(scores.len(), 4);
    for pair in scores.chunks(2) {
        let (det, both) = (&pair[0], &pair[1]);
        assert_eq!(
            (det.mode.as_str(), both.mode.as_str()),
            ("detectors", "detectors+llm")
        );
        assert_eq!(det.name, both.name);
        assert_eq!((det.n, both.n), (12, 12));
        assert!(det
            .sample
            .as_deref()
            .is_some_and(|s| s.starts_with("12 of ")));
        assert!(both.tp <= det.tp && both.fp <= det.fp);
        assert_eq!(both.tp + both.fn_, det.tp + det.fn_, "same truth");
    }
}
