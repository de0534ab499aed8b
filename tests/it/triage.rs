//! LLM triage of the example logs with the default model: verdicts valid for their
//! schema, citing only what was shown, recorded with their cost.

use loglens::logs::pipeline::{analyze, PipelineConfig};
use loglens::store::Store;
use loglens::triage::{
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
    let stats = triage(&mut report, engine(), None, &t, Some(&store)).expect("triage");
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
    let s2 = triage(&mut again, engine(), None, &t, Some(&store)).expect("triage");
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
    use loglens::triage::verdict_schema;
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

/// Tiered triage: every group is screened; a group at error level or in an error burst
/// always gets the detailed verdict; dismissed groups carry the screen's answer, marked;
/// the saving is accounted; tiered verdicts are cached apart from untiered ones.
#[test]
fn tiered_triage_screens_first_and_never_waves_errors_through() {
    use loglens::logs::level::Level;
    let cfg = PipelineConfig {
        inputs: vec![examples_dir()],
        ..PipelineConfig::default()
    };
    let mut report = analyze(&cfg, &|_| {}).expect("analysis");
    let t = TriageConfig {
        max_groups: 3,
        ..TriageConfig::default()
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path()).expect("store");
    let stats = triage(&mut report, engine(), Some(engine()), &t, Some(&store)).expect("triage");
    assert!(stats.groups >= 2, "{stats:?}");
    assert_eq!(stats.screened, stats.cache_misses);
    assert!(stats.screen_tokens > 0);
    assert!(stats.screen_model.is_some());
    let mut dismissed = 0;
    for g in report.groups.iter().filter(|g| g.verdict.is_some()) {
        let v = g.verdict.as_ref().expect("verdict");
        let tier = v["meta"]["tier"].as_str().expect("tier");
        let screen = &v["meta"]["screen"];
        if !screen.is_null() {
            assert!(screen["is_anomaly"].is_boolean(), "{screen}");
            assert!(["critical", "high", "medium", "low"]
                .contains(&screen["severity"].as_str().unwrap_or("")));
        }
        if tier == "screen" {
            dismissed += 1;
            assert!(
                g.level < Level::Error,
                "error-level group #{} dismissed",
                g.rank
            );
            assert_eq!(v["is_anomaly"], false);
            assert_eq!(screen["is_anomaly"], false);
        } else {
            assert_eq!(tier, "detail");
        }
    }
    assert_eq!(dismissed, stats.screened_out);
    if stats.screened_out == 0 {
        assert_eq!(stats.tokens_saved, -(stats.screen_tokens as i64));
    } else {
        assert!(stats.tokens_saved > -(stats.screen_tokens as i64));
    }
    eprintln!(
        "tiering: {} screened, {} dismissed, {} screen tokens, {} saved",
        stats.screened, stats.screened_out, stats.screen_tokens, stats.tokens_saved
    );
    // Same run again: all from the cache; untiered: asked again.
    let mut again = analyze(&cfg, &|_| {}).expect("analysis");
    let s2 = triage(&mut again, engine(), Some(engine()), &t, Some(&store)).expect("triage");
    assert_eq!((s2.cache_hits, s2.cache_misses), (stats.groups, 0));
    let mut plain = analyze(&cfg, &|_| {}).expect("analysis");
    let short = TriageConfig {
        max_groups: 1,
        max_tokens: 32,
        ..t
    };
    let s3 = triage(&mut plain, engine(), None, &short, Some(&store)).expect("triage");
    assert_eq!((s3.cache_hits, s3.cache_misses), (0, 1));
}
