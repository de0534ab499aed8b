//! LLM triage of the example logs with the default model: verdicts valid for their
//! schema, citing only what was shown, recorded with their cost.

use loglens::analysis::analyze;
use loglens::logs::pipeline::PipelineConfig;
use loglens::report::Report;
use loglens::store::Store;
use loglens::triage::{
    triage, Category, Tier, TriageConfig, Verdict, MAX_STEPS, ROOT_CAUSE_CHARS, SUMMARY_CHARS,
};

use super::engine::engine;
use super::examples_dir;

fn examples() -> PipelineConfig {
    PipelineConfig {
        inputs: vec![examples_dir()],
        ..PipelineConfig::default()
    }
}

#[test]
fn verdicts_on_the_examples_are_valid_and_cite_what_was_shown() {
    let analysis = analyze(&examples(), &|_| {}).expect("analysis");
    assert!(
        !analysis.anomalies.is_empty(),
        "the examples hold an incident"
    );
    let t = TriageConfig {
        max_groups: 2,
        ..TriageConfig::default()
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path()).expect("store");
    let out = triage(&analysis, engine(), None, &t, Some(&store)).expect("triage");
    let stats = &out.stats;
    assert_eq!((stats.cache_hits, stats.cache_misses), (0, 2));
    assert_eq!(stats.groups, 2);
    assert!(stats.prompt_tokens > 0 && stats.completion_tokens > 0);
    assert_eq!(out.verdicts.len(), 2);
    for (rank, gv) in &out.verdicts {
        let g = analysis.group(*rank).expect("a listed group");
        let (v, meta) = (&gv.verdict, &gv.meta);
        assert_eq!(meta.prompt_version, "triage-v1");
        assert_eq!(meta.tier, Tier::Detail);
        if meta.fallback {
            // The detectors' verdict, flagged as such.
            assert!(v.is_anomaly);
            assert_eq!(v.category, Category::Unknown);
            assert_eq!(v.affected_components, std::slice::from_ref(&g.component));
            continue;
        }
        assert!(!v.summary.is_empty() && v.summary.chars().count() <= SUMMARY_CHARS);
        assert!(v.root_cause.chars().count() <= ROOT_CAUSE_CHARS);
        assert!(v.remediation_steps.len() <= MAX_STEPS);
        let c = v.confidence;
        assert!(
            (0.0..=1.0).contains(&c) && ((c * 20.0).round() - c * 20.0).abs() < 1e-9,
            "{v:?}"
        );
        // Every cited line was shown, with its text kept in the report.
        assert!(!v.evidence_line_ids.is_empty());
        for id in &v.evidence_line_ids {
            assert!(
                meta.line(id).is_some(),
                "{id} not among {:?}",
                meta.evidence
            );
        }
        // Components cited exist in the analysis.
        for comp in &v.affected_components {
            assert!(analysis.components.contains_key(comp), "{comp}");
        }
    }
    // The report carries the verdicts in their groups, and says triage ran.
    let report = Report::assemble(analysis, Some(out.clone()));
    assert!(report.run.llm);
    let in_report = report.groups.iter().filter(|g| g.verdict.is_some()).count();
    assert_eq!(in_report, 2);
    let md = report.to_markdown();
    assert!(md.contains("## Triage"), "{md}");
    let json: serde_json::Value = serde_json::from_str(&report.to_json()).expect("json");
    let judged = json["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .find(|g| !g["verdict"].is_null())
        .expect("a verdict");
    assert!(judged["verdict"]["severity"].is_string());
    assert!(judged["verdict"]["meta"]["evidence"].is_object());
    // The same logs again: every verdict comes from the store, the model is not asked.
    let again = analyze(&examples(), &|_| {}).expect("analysis");
    let out2 = triage(&again, engine(), None, &t, Some(&store)).expect("triage");
    let s2 = &out2.stats;
    assert_eq!(
        (s2.cache_hits, s2.cache_misses, s2.completion_tokens),
        (2, 0, 0)
    );
    for (rank, v) in &out.verdicts {
        let cached = &out2.verdicts[rank];
        assert_eq!(cached.verdict, v.verdict);
        assert!(cached.meta.cached);
    }
}

#[test]
fn raw_verdicts_follow_the_per_request_schema() {
    use loglens::engine::{Constraint, FinishReason, GenerateRequest, Input, Message};
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
    r.constraint = Some(Constraint::JsonSchema(Verdict::schema(&comps, &ids)));
    let (text, finish, _) = engine().generate_text(&r).expect("runs");
    assert_eq!(finish, FinishReason::Stop, "{text}");
    // The answer parses into the verdict type: the schema and the type agree.
    let v = Verdict::parse(&text).unwrap_or_else(|| panic!("not a verdict: {text}"));
    for id in &v.evidence_line_ids {
        assert!(ids.contains(id), "{v:?}");
    }
    for c in &v.affected_components {
        assert!(comps.contains(c), "{v:?}");
    }
    assert!(v.summary.chars().count() <= SUMMARY_CHARS);
}

/// Tiered triage: every group is screened; a group at error level or in an error burst
/// always gets the detailed verdict; dismissed groups carry the screen's answer, marked;
/// the saving is accounted; tiered verdicts are cached apart from untiered ones.
#[test]
fn tiered_triage_screens_first_and_never_waves_errors_through() {
    use loglens::logs::level::Level;
    let analysis = analyze(&examples(), &|_| {}).expect("analysis");
    let t = TriageConfig {
        max_groups: 3,
        ..TriageConfig::default()
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path()).expect("store");
    let out = triage(&analysis, engine(), Some(engine()), &t, Some(&store)).expect("triage");
    let stats = &out.stats;
    assert!(stats.groups >= 2, "{stats:?}");
    assert_eq!(stats.screened, stats.cache_misses);
    assert!(stats.screen_tokens > 0);
    assert!(stats.screen_model.is_some());
    let mut dismissed = 0;
    for (rank, v) in &out.verdicts {
        let g = analysis.group(*rank).expect("listed");
        if v.meta.tier == Tier::Screen {
            dismissed += 1;
            assert!(
                g.level < Level::Error,
                "error-level group #{} dismissed",
                g.rank
            );
            assert!(!v.verdict.is_anomaly);
            let screen = v.meta.screen.as_ref().expect("the screen's answer");
            assert!(!screen.is_anomaly);
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
    let s2 = triage(&analysis, engine(), Some(engine()), &t, Some(&store))
        .expect("triage")
        .stats;
    assert_eq!((s2.cache_hits, s2.cache_misses), (stats.groups, 0));
    let short = TriageConfig {
        max_groups: 1,
        max_tokens: 32,
        ..t
    };
    let s3 = triage(&analysis, engine(), None, &short, Some(&store))
        .expect("triage")
        .stats;
    assert_eq!((s3.cache_hits, s3.cache_misses), (0, 1));
}
