//! `loglens parse`, `loglens formats detect` and `bench parse` on a system it does not
//! know, end to end.

use std::process::Command;

fn loglens() -> Command {
    Command::new(env!("CARGO_BIN_EXE_loglens"))
}

#[test]
fn parse_prints_one_json_record_per_record() {
    let dir = tempfile::tempdir().expect("temp dir");
    let f = dir.path().join("orders-service.log");
    std::fs::write(
        &f,
        "2025-11-03 20:36:40.123 [http-1] [4bf92f3577b34da6a3ce929d0e0e4736,00f067aa0ba902b7] ERROR c.e.OrderService - order 42 failed\n\
         java.lang.IllegalStateException: closed\n\
         \tat c.e.OrderService.place(OrderService.java:12)\n\
         INFO: no time of its own\n\
         2025-11-03 20:36:41.000 [http-2] [,] INFO c.e.OrderService - order 43 placed\n",
    )
    .expect("write");
    let o = loglens()
        .args(["parse", "--jsonl"])
        .arg(&f)
        .output()
        .expect("runs");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let recs: Vec<serde_json::Value> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object a line"))
        .collect();
    assert_eq!(recs.len(), 3, "{recs:#?}");
    let r = &recs[0];
    assert_eq!(r["line"], 1);
    assert_eq!(r["lines"], 3);
    assert_eq!(r["timestamp"], "2025-11-03T20:36:40.123Z");
    assert_eq!(r["level"], "error");
    assert_eq!(r["component"], "orders-service");
    assert_eq!(r["component_source"], "file");
    assert_eq!(r["logger"], "c.e.OrderService");
    assert_eq!(r["thread"], "http-1");
    assert_eq!(r["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_eq!(r["span_id"], "00f067aa0ba902b7");
    assert_eq!(r["message"], "order 42 failed");
    assert!(r["file"]
        .as_str()
        .is_some_and(|p| p.ends_with("orders-service.log")));
    assert!(r["template_id"].as_str().is_some_and(|t| !t.is_empty()));
    assert_eq!(r["template"], "order <*> failed");
    assert_eq!(recs[1]["timestamp_inferred"], true);
    assert_eq!(recs[1]["timestamp"], "2025-11-03T20:36:40.123Z");
    // Templates are final: both orders share one.
    assert_eq!(recs[2]["template"], "order <*> placed");
    let o = loglens().arg("parse").arg(&f).output().expect("runs");
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.lines()
            .next()
            .is_some_and(|l| l.contains("error") && l.contains("(+2 lines)")),
        "{text}"
    );
}

#[test]
fn formats_detect_names_the_format_and_its_hit_rate() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("kubelet.log"),
        "I1103 20:36:37.123456       1 kubelet.go:12] started\nE1103 20:36:38.000001       1 kubelet.go:40] failed\n",
    )
    .expect("write");
    std::fs::write(dir.path().join("notes.txt"), "just words\nmore words\n").expect("write");
    let o = loglens()
        .args(["formats", "detect", "--json"])
        .arg(dir.path())
        .output()
        .expect("runs");
    assert!(o.status.success());
    let rows: Vec<serde_json::Value> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    let kubelet = rows
        .iter()
        .find(|r| {
            r["path"]
                .as_str()
                .is_some_and(|p| p.ends_with("kubelet.log"))
        })
        .expect("row");
    assert_eq!(
        (kubelet["format"].as_str(), kubelet["hit_rate"].as_f64()),
        (Some("klog"), Some(1.0))
    );
    let notes = rows
        .iter()
        .find(|r| r["path"].as_str().is_some_and(|p| p.ends_with("notes.txt")))
        .expect("row");
    assert_eq!(
        (notes["format"].as_str(), notes["multi_line"].as_bool()),
        (Some("text"), Some(false))
    );
}

/// Any `<System>/<System>_2k.log` with its ground truth is scored, formats detected.
#[test]
fn bench_parse_scores_a_system_it_does_not_know() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sys = dir.path().join("Payments");
    std::fs::create_dir(&sys).expect("mkdir");
    let mut log = String::new();
    let mut csv = String::from("LineId,Date,Time,Level,Content,EventId,EventTemplate\n");
    for i in 0..40 {
        let (content, id, template) = if i % 3 == 0 {
            (format!("charge {i} declined"), "E1", "charge <*> declined")
        } else {
            (
                format!("charge {i} captured in {} ms", i * 7),
                "E2",
                "charge <*> captured in <*> ms",
            )
        };
        log.push_str(&format!("2025-11-03 20:36:{:02},000 INFO {content}\n", i));
        csv.push_str(&format!(
            "{},2025-11-03,20:36:{:02},INFO,{content},{id},{template}\n",
            i + 1,
            i
        ));
    }
    std::fs::write(sys.join("Payments_2k.log"), log).expect("write");
    std::fs::write(sys.join("Payments_2k.log_structured_corrected.csv"), csv).expect("write");
    let o = loglens()
        .args(["bench", "parse", "--json", "--data"])
        .arg(dir.path())
        .output()
        .expect("runs");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    let s = &v["systems"][0];
    assert_eq!(s["name"], "Payments");
    assert_eq!(s["format"], "text");
    assert_eq!(s["content_accuracy"], 1.0);
    assert_eq!(s["grouping_accuracy"], 1.0);
}
