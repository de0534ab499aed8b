//! LLM triage of the example logs with the default model: verdicts valid for their
//! schema, citing only what was shown, recorded with their cost.

use loglens::logs::pipeline::{analyze, PipelineConfig};
use loglens::logs::store::Store;
use loglens::logs::triage::{
    triage, TriageConfig, CATEGORIES, MAX_STEPS, ROOT_CAUSE_CHARS, SUMMARY_CHARS,
};

use super::engine::engine;
use super::examples_dir;

#[test]
fn verdicts_on_the_examples_are_valid_and_cite_what_was_shown() {
    let cfg = PipelineConfig {
        inputs: vec![examples_dir()],
        ..PipelineConfig::default()
    };
    let mut report = analyze(&cfg, &|_| {}).expect("analysis");
    assert!(
        !report.anomalies.is_empty(),
        "the examples hold an incident"
    );
    let t = TriageConfig {
        max_groups: 2,
        ..TriageConfig::default()
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path()).expect("store");
    let stats = triage(&mut report, engine(), &t, Some(&store)).expect("triage");
    assert_eq!((stats.cache_hits, stats.cache_misses), (0, 2));
    assert_eq!(stats.groups, 2);
    assert!(stats.prompt_tokens > 0 && stats.completion_tokens > 0);
    let verdicts: Vec<_> = report
        .groups
        .iter()
        .filter_map(|g| g.verdict.as_ref().map(|v| (g, v)))
        .collect();
    assert_eq!(verdicts.len(), 2);
    for (g, v) in verdicts {
        let meta = &v["meta"];
        assert_eq!(meta["prompt_version"], "triage-v1");
        if meta["fallback"] == true {
            // The detectors' verdict, flagged as such.
            assert_eq!(v["is_anomaly"], true);
            continue;
        }
        assert!(v["is_anomaly"].is_boolean(), "{v}");
        assert!(
            ["critical", "high", "medium", "low"].contains(&v["severity"].as_str().unwrap_or("")),
            "{v}"
        );
        assert!(
            CATEGORIES.contains(&v["category"].as_str().unwrap_or("")),
            "{v}"
        );
        assert!(
            v["summary"]
                .as_str()
                .is_some_and(|s| !s.is_empty() && s.chars().count() <= SUMMARY_CHARS),
            "{v}"
        );
        assert!(
            v["root_cause"]
                .as_str()
                .is_some_and(|s| s.chars().count() <= ROOT_CAUSE_CHARS),
            "{v}"
        );
        assert!(
            v["remediation_steps"]
                .as_array()
                .is_some_and(|a| a.len() <= MAX_STEPS),
            "{v}"
        );
        let c = v["confidence"].as_f64().expect("confidence");
        assert!(
            (0.0..=1.0).contains(&c) && ((c * 20.0).round() - c * 20.0).abs() < 1e-9,
            "{v}"
        );
        // Every cited line was shown, with its text kept in the report.
        let ids = v["evidence_line_ids"].as_array().expect("ids");
        assert!(!ids.is_empty());
        for id in ids {
            let id = id.as_str().expect("id");
            assert!(
                meta["evidence"][id].is_string(),
                "{id} not among {}",
                meta["evidence"]
            );
        }
        // Components cited exist in the report.
        for comp in v["affected_components"].as_array().expect("components") {
            let comp = comp.as_str().expect("component");
            assert!(report.components.contains_key(comp), "{comp}");
        }
        assert!(!g.component.is_empty());
    }
    let md = report.to_markdown();
    assert!(md.contains("## Triage"), "{md}");
    // The same logs again: every verdict comes from the store, the model is not asked.
    let mut again = analyze(&cfg, &|_| {}).expect("analysis");
    let s2 = triage(&mut again, engine(), &t, Some(&store)).expect("triage");
    assert_eq!(
        (s2.cache_hits, s2.cache_misses, s2.completion_tokens),
        (2, 0, 0)
    );
    for (a, b) in report.groups.iter().zip(&again.groups) {
        if let (Some(x), Some(y)) = (&a.verdict, &b.verdict) {
            assert_eq!(x["summary"], y["summary"]);
            assert_eq!(y["meta"]["cached"], true);
        }
    }
}

#[test]
fn raw_verdicts_follow_the_per_request_schema() {
    use loglens::engine::{Constraint, FinishReason, GenerateRequest, Input, Message};
    use loglens::logs::triage::verdict_schema;
    let comps = vec!["minio-1".to_string(), "spark-worker-1".to_string()];
    let ids = vec!["L1".to_string(), "L2".to_string(), "C1".to_string()];
    let mut r =
        GenerateRequest::new(
            Input::Messages(vec![
            Message::new("system", "You are a site reliability engineer. Answer in JSON."),
            Message::new(
                "user",
                "[L1] minio-1 ERROR Storage backend has reached its minimum free drive threshold\n\
                 [L2] minio-1 ERROR PutObject failed: XMinioStorageFull\n\
                 [C1] spark-worker-1 ERROR AWSS3IOException: PUT 0-byte object (Status Code: 507)\n\
                 Triage this.",
            ),
        ]),
            640,
        );
    r.sampling.repetition_penalty = 1.2;
    r.constraint = Some(Constraint::JsonSchema(verdict_schema(&comps, &ids)));
    let (text, finish, _) = engine().generate_text(&r).expect("runs");
    assert_eq!(finish, FinishReason::Stop, "{text}");
    let v: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    for id in v["evidence_line_ids"].as_array().expect("ids") {
        assert!(ids.iter().any(|i| i == id.as_str().unwrap_or("")), "{v}");
    }
    for c in v["affected_components"].as_array().expect("components") {
        assert!(comps.iter().any(|i| i == c.as_str().unwrap_or("")), "{v}");
    }
    assert!(v["summary"]
        .as_str()
        .is_some_and(|s| s.chars().count() <= SUMMARY_CHARS));
    assert!(
        CATEGORIES.contains(&v["category"].as_str().unwrap_or("")),
        "{v}"
    );
}
