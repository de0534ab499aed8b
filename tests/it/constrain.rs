//! Grammar-constrained decoding and the scheduler, on the real default model: outputs
//! valid for their schema by construction, choice/regex/Lark constraints, token limits,
//! cancellation, queue limits, logprobs.

use std::ops::ControlFlow;
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

use loglens::engine::{
    CancelToken, Constraint, EngineError, Event, FinishReason, GenerateRequest, Input, Message,
    SamplingParams, Scheduler, SchedulerConfig, Usage,
};
use serde_json::{json, Value};

use super::engine::engine;

const CATEGORIES: &[&str] = &[
    "database",
    "network",
    "storage",
    "credentials",
    "resource exhaustion",
    "configuration",
    "dependency",
    "application bug",
    "hardware",
    "unknown",
];

fn triage_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "is_anomaly": {"type": "boolean"},
            "severity": {"enum": ["critical", "high", "medium", "low"]},
            "category": {"enum": CATEGORIES},
            "summary": {"type": "string", "maxLength": 80},
            "remediation_steps": {
                "type": "array",
                "items": {"type": "string", "maxLength": 40},
                "maxItems": 2
            },
            "confidence": {"enum": [0.0, 0.25, 0.5, 0.75, 1.0]}
        },
        "required": ["is_anomaly", "severity", "category", "summary", "remediation_steps", "confidence"],
        "additionalProperties": false
    })
}

/// Checks a triage answer against [`triage_schema`] field by field.
fn check_triage(text: &str) -> Result<(), String> {
    let v: Value = serde_json::from_str(text).map_err(|e| format!("not JSON ({e}): {text}"))?;
    let o = v.as_object().ok_or("not an object")?;
    let mut keys: Vec<&str> = o.keys().map(String::as_str).collect();
    keys.sort_unstable();
    if keys
        != [
            "category",
            "confidence",
            "is_anomaly",
            "remediation_steps",
            "severity",
            "summary",
        ]
    {
        return Err(format!("keys {keys:?}"));
    }
    if !o["is_anomaly"].is_boolean() {
        return Err("is_anomaly".into());
    }
    if !["critical", "high", "medium", "low"].contains(&o["severity"].as_str().unwrap_or("")) {
        return Err(format!("severity {}", o["severity"]));
    }
    if !CATEGORIES.contains(&o["category"].as_str().unwrap_or("")) {
        return Err(format!("category {}", o["category"]));
    }
    if o["summary"].as_str().is_none_or(|s| s.chars().count() > 80) {
        return Err("summary".into());
    }
    let steps = o["remediation_steps"].as_array().ok_or("steps")?;
    if steps.len() > 2
        || steps
            .iter()
            .any(|s| s.as_str().is_none_or(|s| s.chars().count() > 40))
    {
        return Err(format!("steps {steps:?}"));
    }
    let c = o["confidence"].as_f64().ok_or("confidence")?;
    if ![0.0, 0.25, 0.5, 0.75, 1.0].contains(&c) {
        return Err(format!("confidence {c}"));
    }
    Ok(())
}

const INCIDENTS: &[&str] = &[
    "ERROR postgres: could not write to file \"pg_wal/0001\": No space left on device",
    "WARN kubelet: node disk pressure, evicting pod feature-api-7f9c",
    "ERROR feature-api: connection refused to redis:6379 after 5 retries",
    "INFO airflow scheduler heartbeat ok",
    "ERROR spark executor 12 lost: OutOfMemoryError: Java heap space",
    "CRITICAL minio: drive /data1 offline, erasure set degraded",
    "ERROR auth: invalid credentials for service account etl-runner (401)",
    "WARN nginx: upstream timed out (110) while reading response header",
    "ERROR kafka: broker 3 not available, leader election in progress",
    "FATAL etcd: mvcc database space exceeded",
    "ERROR app: KeyError: 'customer_id' in handler /v1/score",
    "WARN dns: lookup feature-store.svc failed: SERVFAIL",
    "ERROR ssl: certificate for api.internal expired 2 days ago",
    "INFO deploy: rolled out version 1.4.2 to 12 pods",
    "ERROR raid: disk sdc reported 120 reallocated sectors",
    "ERROR config: missing environment variable DATABASE_URL",
    "WARN gc: pause of 4.2s in jvm worker-3",
    "ERROR grpc: deadline exceeded calling model-server/Predict",
    "ERROR cron: backup job exited with status 137 (killed)",
    "WARN ntp: clock offset 2.3s exceeds threshold",
    "ERROR s3: AccessDenied on PutObject bucket=feature-snapshots",
    "ERROR redis: MISCONF snapshotting failed, writes disabled",
];

fn triage_request(incident: &str, sampling: SamplingParams) -> GenerateRequest {
    let mut req = GenerateRequest::new(
        Input::Messages(vec![
            Message::new(
                "system",
                "You are an SRE triaging log lines. Answer with a JSON verdict.",
            ),
            Message::new("user", format!("Log line: {incident}")),
        ]),
        // Enough for the longest answer the schema allows, even at several tokens per
        // character: the grammar, not the limit, ends every answer.
        720,
    );
    req.sampling = sampling;
    req.constraint = Some(Constraint::JsonSchema(triage_schema()));
    req
}

type Outcome = Result<(String, FinishReason, Usage), String>;

/// Runs requests through a scheduler and returns each one's text, finish and usage.
fn run_all(sched: &Scheduler, reqs: Vec<GenerateRequest>) -> Vec<Outcome> {
    let (tx, rx) = mpsc::channel();
    let n = reqs.len();
    for (i, r) in reqs.into_iter().enumerate() {
        let tx = tx.clone();
        sched
            .submit(
                r,
                Box::new(move |e| {
                    let _ = tx.send((i, e));
                    ControlFlow::Continue(())
                }),
            )
            .expect("submitted");
    }
    let mut out: Vec<Option<Outcome>> = (0..n).map(|_| None).collect();
    let mut text = vec![String::new(); n];
    while out.iter().any(Option::is_none) {
        let (i, e) = rx
            .recv_timeout(Duration::from_secs(600))
            .expect("events keep coming");
        match e {
            Event::Text { text: t, .. } => text[i].push_str(&t),
            Event::Done { finish, usage } => {
                out[i] = Some(Ok((std::mem::take(&mut text[i]), finish, usage)))
            }
            Event::Error { message, .. } => out[i] = Some(Err(message)),
            Event::Token { .. } => {}
        }
    }
    out.into_iter().flatten().collect()
}

#[test]
fn json_schema_outputs_are_valid_for_varied_prompts() {
    let sched = Scheduler::new(engine().clone(), SchedulerConfig::default());
    let mut reqs = Vec::new();
    for (i, inc) in INCIDENTS.iter().enumerate() {
        // Half greedy, half sampled with a seed: the grammar must hold either way.
        let sampling = if i % 2 == 0 {
            SamplingParams::default()
        } else {
            SamplingParams {
                temperature: 0.9,
                top_p: 0.95,
                seed: Some(i as u64),
                ..SamplingParams::default()
            }
        };
        reqs.push(triage_request(inc, sampling));
    }
    let results = run_all(&sched, reqs);
    assert_eq!(results.len(), INCIDENTS.len());
    let mut forced = 0;
    for (inc, r) in INCIDENTS.iter().zip(results) {
        let (text, finish, usage) = r.expect("no engine error");
        assert_eq!(finish, FinishReason::Stop, "{inc}: {text}");
        if let Err(e) = check_triage(&text) {
            panic!("{inc}: invalid answer: {e}");
        }
        forced += usage.forced_tokens;
    }
    // Keys are fixed by the schema: the grammar feeds them without sampling.
    assert!(forced > 0, "no forced tokens");
}

#[test]
fn an_answer_cut_by_the_limit_says_length() {
    let mut req = triage_request(INCIDENTS[0], SamplingParams::default());
    req.max_tokens = 6;
    let (text, finish, usage) = engine().generate_text(&req).expect("runs");
    assert_eq!(finish, FinishReason::Length);
    assert_eq!(usage.completion_tokens, 6);
    assert!(serde_json::from_str::<Value>(&text).is_err(), "{text}");
}

#[test]
fn choice_regex_and_lark_constraints_hold() {
    let e = engine();
    let ask = |q: &str, c: Constraint| {
        let mut r = GenerateRequest::new(Input::Messages(vec![Message::new("user", q)]), 40);
        r.constraint = Some(c);
        e.generate_text(&r).expect("runs")
    };
    let options = vec![
        "yes".to_string(),
        "no".to_string(),
        "maybe later".to_string(),
    ];
    let (t, f, _) = ask("Is the disk full?", Constraint::Choice(options.clone()));
    assert!(options.contains(&t), "{t}");
    assert_eq!(f, FinishReason::Stop);

    let rx = r"[0-9]{1,3}(\.[0-9]{1,3}){3}";
    let (t, f, _) = ask("Give me an IPv4 address.", Constraint::Regex(rx.into()));
    let full = regex::Regex::new(&format!("^{rx}$")).expect("regex");
    assert!(full.is_match(&t), "{t}");
    assert_eq!(f, FinishReason::Stop);

    let lark = r#"start: "level=" LEVEL " code=" CODE
LEVEL: "info" | "warn" | "error"
CODE: /[0-9]{3}/"#;
    let (t, _, _) = ask("Write a status line.", Constraint::Lark(lark.into()));
    let re = regex::Regex::new("^level=(info|warn|error) code=[0-9]{3}$").expect("regex");
    assert!(re.is_match(&t), "{t}");

    // Any object: free-form, so it may run to the limit; when it stops it is whole.
    let (t, f, _) = ask("Reply with an empty JSON object.", Constraint::JsonObject);
    assert!(t.starts_with('{'), "{t}");
    if f == FinishReason::Stop {
        let v: Value = serde_json::from_str(&t).unwrap_or_else(|err| panic!("{err}: {t}"));
        assert!(v.is_object());
    }
}

#[test]
fn bad_constraints_are_request_errors() {
    let e = engine();
    let mut r = GenerateRequest::new(Input::Prompt("x".into()), 4);
    for c in [
        Constraint::Regex("(".into()),
        Constraint::Choice(Vec::new()),
        Constraint::Lark("start: undefined_rule".into()),
        Constraint::JsonSchema(
            json!({"type": "object", "properties": {"a": {"$ref": "#/nowhere"}}}),
        ),
    ] {
        r.constraint = Some(c.clone());
        match e.generate_text(&r) {
            Err(EngineError::InvalidConstraint(msg)) => assert!(!msg.is_empty()),
            other => panic!("{c:?}: {other:?}"),
        }
    }
}

#[test]
fn logprobs_are_reported_per_token() {
    let e = engine();
    let mut r = GenerateRequest::new(Input::Prompt("The capital of France is".into()), 5);
    r.logprobs = Some(3);
    let mut tokens = Vec::new();
    e.generate(&r, &mut |ev| {
        if let Event::Token { id, logprob, top } = ev {
            tokens.push((id, logprob, top));
        }
        ControlFlow::Continue(())
    })
    .expect("runs");
    assert_eq!(tokens.len(), 5);
    for (id, lp, top) in tokens {
        assert!(lp <= 0.0 && lp.is_finite());
        assert_eq!(top.len(), 3);
        assert!(top.windows(2).all(|w| w[0].logprob >= w[1].logprob));
        // Greedy: the chosen token is the most likely one.
        assert_eq!(top[0].id, id);
        assert!((top[0].logprob - lp).abs() < 1e-6);
    }
}

#[test]
fn scheduled_requests_match_one_at_a_time_and_cancel() {
    let e = engine();
    let prompts = [
        "Disk full on node-3.",
        "Redis refused connections.",
        "All good.",
    ];
    let reqs: Vec<GenerateRequest> = prompts
        .iter()
        .map(|p| GenerateRequest::new(Input::Messages(vec![Message::new("user", *p)]), 24))
        .collect();
    let alone: Vec<String> = reqs
        .iter()
        .map(|r| e.generate_text(r).expect("runs").0)
        .collect();
    // A small step budget forces prompts to be prefilled in several chunks between
    // decode steps of the others.
    let sched = Scheduler::new(
        e.clone(),
        SchedulerConfig {
            max_batch: 2,
            max_queue: 8,
            step_tokens: 7,
        },
    );
    let together = run_all(&sched, reqs);
    for (a, t) in alone.iter().zip(together) {
        assert_eq!(&t.expect("runs").0, a);
    }

    // Cancelled from another thread: stops early with `Cancelled`.
    let cancel = CancelToken::new();
    let mut r = GenerateRequest::new(Input::Prompt("Once upon a time".into()), 400);
    r.cancel = Some(cancel.clone());
    let (tx, rx) = mpsc::channel();
    sched
        .submit(
            r,
            Box::new(move |ev| {
                let _ = tx.send(ev);
                ControlFlow::Continue(())
            }),
        )
        .expect("submitted");
    let mut texts = 0;
    let (finish, usage) = loop {
        match rx.recv_timeout(Duration::from_secs(120)).expect("events") {
            Event::Text { .. } => {
                texts += 1;
                if texts == 3 {
                    cancel.cancel();
                }
            }
            Event::Done { finish, usage } => break (finish, usage),
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(finish, FinishReason::Cancelled);
    assert!(usage.completion_tokens < 400);
}

#[test]
fn a_full_queue_refuses_with_overloaded() {
    let sched = Arc::new(Scheduler::new(
        engine().clone(),
        SchedulerConfig {
            max_batch: 1,
            max_queue: 1,
            step_tokens: 512,
        },
    ));
    let long = |cancel: &CancelToken| {
        let mut r = GenerateRequest::new(Input::Prompt("Count to one thousand:".into()), 2000);
        r.cancel = Some(cancel.clone());
        r
    };
    let cancel = CancelToken::new();
    let (tx, rx) = mpsc::channel();
    let tx2 = tx.clone();
    sched
        .submit(
            long(&cancel),
            Box::new(move |ev| {
                let _ = tx.send(ev);
                ControlFlow::Continue(())
            }),
        )
        .expect("first runs");
    // Wait until the first is decoding, so the second waits in the queue.
    loop {
        if let Event::Text { .. } = rx.recv_timeout(Duration::from_secs(120)).expect("events") {
            break;
        }
    }
    sched
        .submit(
            long(&cancel),
            Box::new(move |ev| {
                let _ = tx2.send(ev);
                ControlFlow::Continue(())
            }),
        )
        .expect("second queues");
    let third = sched.submit(long(&cancel), Box::new(|_| ControlFlow::Continue(())));
    assert!(
        matches!(
            third,
            Err(EngineError::Overloaded {
                queued: 1,
                limit: 1
            })
        ),
        "{third:?}"
    );
    cancel.cancel();
    sched.shutdown();
    assert_eq!(sched.queued(), 0);
}

#[test]
fn runaway_numbers_are_cut_short() {
    // Biasing "0" and "." makes the model write 0.000… for ever; past 17 digits the
    // engine refuses digits whenever the grammar allows something else.
    let e = engine();
    let bias: Vec<(u32, f32)> = ["0", "."]
        .iter()
        .map(|t| (e.tokenizer().encode(t).expect("encodes")[0], 100.0))
        .collect();
    let mut r = GenerateRequest::new(Input::Prompt("A number: ".into()), 200);
    r.sampling.logit_bias = bias;
    r.constraint = Some(Constraint::JsonSchema(json!({
        "type": "object",
        "properties": {"x": {"type": "number"}},
        "required": ["x"],
        "additionalProperties": false
    })));
    let (t, f, u) = e.generate_text(&r).expect("runs");
    assert_eq!(f, FinishReason::Stop, "{t}");
    let v: Value = serde_json::from_str(&t).unwrap_or_else(|err| panic!("{err}: {t}"));
    assert!(v["x"].is_number(), "{t}");
    assert!(u.completion_tokens < 80, "{t}");
}
