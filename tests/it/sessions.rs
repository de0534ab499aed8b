//! The session detector in `analyze`: a session model fitted on a normal period, then
//! sessions of a later period scored against it.

use std::io::Write;

use loglens::analysis::analyze;
use loglens::detect::Detector;
use loglens::logs::pipeline::PipelineConfig;

/// HDFS lines from the Loghub sample: the first 1,200 as the normal period, the rest as
/// the period to check, with one block whose events arrive in an order no normal block
/// shows (received before it was being received).
#[test]
fn sessions_out_of_order_are_flagged_against_a_normal_period() {
    let src = super::data_dir().join("loghub-2k/HDFS/HDFS_2k.log");
    let text = std::fs::read_to_string(&src).expect("HDFS sample");
    let lines: Vec<&str> = text.lines().collect();
    let dir = tempfile::tempdir().expect("dir");
    // Both periods are the same service's file (its name is the component).
    for period in ["normal", "later"] {
        std::fs::create_dir(dir.path().join(period)).expect("mkdir");
    }
    let base = dir.path().join("normal/hdfs.log");
    let new = dir.path().join("later/hdfs.log");
    std::fs::write(&base, lines[..1200].join("\n") + "\n").expect("write");
    let mut f = std::fs::File::create(&new).expect("create");
    writeln!(f, "{}", lines[1200..].join("\n")).expect("write");
    writeln!(f, "081111 101010 999 INFO dfs.DataNode$PacketResponder: Received block blk_424242 of size 67108864 from /10.0.0.1").expect("write");
    writeln!(f, "081111 101011 999 INFO dfs.DataNode$DataXceiver: Receiving block blk_424242 src: /10.0.0.1:5000 dest: /10.0.0.2:50010").expect("write");
    drop(f);
    let state = dir.path().join("sessions.json");
    let config = |input: &std::path::Path| PipelineConfig {
        inputs: vec![input.to_path_buf()],
        session_key: Some(regex::Regex::new(r"(blk_-?\d+)").expect("regex")),
        session_state: Some(state.clone()),
        miner_state: Some(dir.path().join("miner.json")),
        ..PipelineConfig::default()
    };
    let first = analyze(&config(&base), &|_| {}).expect("normal period");
    let s = first.sessions.as_ref().expect("sessions");
    assert!(!s.scored);
    assert!(s.sessions > 500, "{s:?}");
    assert_eq!(s.fitted, s.sessions);
    assert!(first
        .anomalies
        .iter()
        .all(|a| a.anomaly.detector != Detector::Session));
    assert!(state.exists());

    let second = analyze(&config(&new), &|_| {}).expect("later period");
    let s = second.sessions.as_ref().expect("sessions");
    assert!(s.scored);
    assert!(s.flagged >= 1 && s.flagged < s.sessions / 10, "{s:?}");
    assert_eq!(s.fitted + s.flagged, s.sessions);
    let found: Vec<_> = second
        .anomalies
        .iter()
        .filter(|a| a.anomaly.detector == Detector::Session)
        .collect();
    assert!(
        found
            .iter()
            .any(|a| a.anomaly.summary.contains("blk_424242")),
        "{found:#?}"
    );
    // Flagged INFO groups are listed (below --min-level) so triage can see them.
    for a in &found {
        let rank = a.group_rank.expect("flagged group listed");
        let g = &second.groups[rank - 1];
        assert_eq!(Some(&g.template_id), a.anomaly.template_id.as_ref());
    }
    // A session model that is not one is a clear error naming the file.
    std::fs::write(&state, "{ not a model").expect("write");
    let err = analyze(&config(&new), &|_| {}).expect_err("corrupt state");
    assert!(err.to_string().contains("sessions.json"), "{err}");
}
