//! The `loglens` binary end to end.

use std::process::Command;

fn loglens() -> Command {
    Command::new(env!("CARGO_BIN_EXE_loglens"))
}

#[test]
fn analyze_examples_writes_three_reports() {
    let out = tempfile::tempdir().expect("temp dir");
    let status = loglens()
        .args(["analyze", "--no-llm", "--quiet", "-o"])
        .arg(out.path())
        .arg(super::examples_dir())
        .status()
        .expect("runs");
    assert!(status.success());
    for f in ["report.md", "report.json", "report.html"] {
        assert!(out.path().join(f).exists(), "{f}");
    }
}

#[test]
fn fail_on_and_errors_give_exit_codes() {
    let out = tempfile::tempdir().expect("temp dir");
    let status = loglens()
        .args(["analyze", "-q", "--fail-on", "error", "-o"])
        .arg(out.path())
        .arg(super::examples_dir())
        .status()
        .expect("runs");
    assert_eq!(status.code(), Some(3));
    let o = loglens()
        .args(["analyze", "-q", "--format", "pdf", "x.log"])
        .output()
        .expect("runs");
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("unknown report format"));
    let o = loglens()
        .args(["analyze", "-q", "--log-format-for", "*.log=nope", "x.log"])
        .output()
        .expect("runs");
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("unknown format name"));
}

#[test]
fn stdin_is_an_input() {
    use std::io::Write;
    let out = tempfile::tempdir().expect("temp dir");
    let mut child = loglens()
        .args(["analyze", "-q", "--format", "json", "-o"])
        .arg(out.path())
        .arg("-")
        .stdin(std::process::Stdio::piped())
        .spawn()
        .expect("spawns");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"{\"level\":\"error\",\"msg\":\"db timeout after 30s\",\"service\":\"api\"}\n")
        .expect("write");
    assert!(child.wait().expect("waits").success());
    let json = std::fs::read_to_string(out.path().join("report.json")).expect("report");
    assert!(json.contains("db timeout after <*>"), "{json}");
    assert!(json.contains("<stdin>"));
}

#[test]
fn models_list_reads_headers() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("broken.gguf"), b"GGUF nope").expect("write");
    let model = std::env::var_os("LOGLENS_MODEL")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("models/SmolLM2-135M-Instruct.Q4_1.gguf")
        });
    let o = loglens()
        .args(["models", "list", "--json"])
        .arg(&model)
        .env("LOGLENS_MODEL_DIR", dir.path())
        .output()
        .expect("runs");
    assert!(o.status.success());
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("one JSON line");
    assert_eq!(v["architecture"], "llama");
    assert_eq!(v["quantization"], "Q4_1");
    assert_eq!(v["context_length"], 8192);
    assert!(
        v["parameters"]
            .as_u64()
            .is_some_and(|p| (130_000_000..140_000_000).contains(&p)),
        "{v}"
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains("broken.gguf"));
    // Without paths: the model directory, then the models known by name, none fetched
    // here; a known name that is not there fails naming its file and how to fetch it.
    let o = loglens()
        .args(["models", "list", "--json"])
        .env("LOGLENS_MODEL_DIR", dir.path())
        .output()
        .expect("runs");
    assert!(o.status.success());
    let known: Vec<serde_json::Value> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .filter(|v: &serde_json::Value| v.get("present").is_some())
        .collect();
    let names: Vec<&str> = known.iter().filter_map(|v| v["name"].as_str()).collect();
    assert_eq!(
        names,
        ["smollm2-135m", "qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b"]
    );
    assert!(known.iter().all(|v| v["present"] == false), "{known:?}");
    let o = loglens()
        .args([
            "generate",
            "--prompt",
            "hi",
            "--model",
            "qwen2.5-coder-1.5b",
        ])
        .env("LOGLENS_MODEL_DIR", dir.path())
        .output()
        .expect("runs");
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("qwen2.5-coder-1.5b-instruct-q4_k_m.gguf") && err.contains("fetch.sh"),
        "{err}"
    );
}

/// `loglens chat` reads turns from standard input, keeps the conversation, drops the
/// oldest turns when it outgrows the context (and says so), and refuses one turn that
/// alone is too long.
#[test]
fn chat_keeps_a_conversation_within_the_context() {
    use std::io::Write;
    let dir = tempfile::tempdir().expect("dir");
    let model = dir.path().join("tiny.gguf");
    super::tiny::write_tiny(&model, &super::tiny::Tiny::default(), 4);
    let run = |input: String| {
        let mut child = loglens()
            .args(["chat", "--temperature", "0", "--max-tokens", "8", "--model"])
            .arg(&model)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("starts");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes())
            .expect("writes");
        child.wait_with_output().expect("runs")
    };
    let long = |c: char| c.to_string().repeat(150);
    let out = run(format!(
        "{}\n/system be brief\n{}\n/exit\n",
        long('a'),
        long('b')
    ));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("system message set"), "{err}");
    assert!(err.contains("dropped 2 earlier turn(s)"), "{err}");
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 2);
    let out = run(format!("{}\n", long('c').repeat(2)));
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("context length"), "{err}");
}

/// Every option is validated before any work: a bad device, weight format or model, or
/// a missing model, fails at once with a clear message and writes no report.
#[test]
fn bad_options_fail_before_any_work() {
    let out = tempfile::tempdir().expect("temp dir");
    let reports = out.path().join("r");
    let run = |extra: &[&str]| {
        let o = loglens()
            .args(["analyze", "-q", "-o"])
            .arg(&reports)
            .args(extra)
            .arg(super::examples_dir())
            .output()
            .expect("runs");
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    let (code, err) = run(&["--device", "cudx"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("unknown device"), "{err}");
    let (code, err) = run(&["--weight-format", "q3"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("unknown weight format"), "{err}");
    let missing = out.path().join("missing.gguf");
    let (code, err) = run(&["--model", &missing.display().to_string()]);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("missing.gguf") && err.contains("--no-llm"),
        "{err}"
    );
    assert!(!reports.exists(), "no work was done");
    // --no-llm needs no model.
    let (code, err) = run(&["--no-llm", "--model", &missing.display().to_string()]);
    assert_eq!(code, Some(0), "{err}");
    // The other commands resolve models the same way.
    for cmd in [
        &["generate", "--prompt", "hi"][..],
        &["chat"][..],
        &["serve", "--port", "0"][..],
        &["bench", "tokens"][..],
    ] {
        let o = loglens()
            .args(cmd)
            .args(["--model", "no-such-org/no-such-model"])
            .env("HF_HUB_CACHE", out.path())
            .output()
            .expect("runs");
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{cmd:?}: {err}");
        assert!(err.contains("no-such-org"), "{cmd:?}: {err}");
    }
}
