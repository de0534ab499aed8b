"""loglens serve through the official OpenAI Python SDK.

Run by scripts/test.sh in a virtual environment with `openai`, `pydantic`, `jsonschema`
and `pytest`. LOGLENS_BIN is the loglens binary, LOGLENS_MODEL the default model.
"""

import concurrent.futures
import json
import os
import subprocess
import time
from typing import Annotated, Literal

import urllib.error
import urllib.request
import jsonschema
import openai
import pytest
from pydantic import BaseModel, Field

KEY = "loglens-test-key"
MODEL = "SmolLM2-135M-Instruct.Q4_1"

INCIDENTS = [
    "ERROR postgres: could not write to file pg_wal/0001: No space left on device",
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
]

SCHEMA = {
    "type": "object",
    "properties": {
        "is_anomaly": {"type": "boolean"},
        "severity": {"enum": ["critical", "high", "medium", "low"]},
        "component": {"type": "string", "maxLength": 40},
        "summary": {"type": "string", "maxLength": 80},
        "confidence": {"enum": [0, 0.25, 0.5, 0.75, 1]},
    },
    "required": ["is_anomaly", "severity", "component", "summary", "confidence"],
    "additionalProperties": False,
}


class Verdict(BaseModel):
    is_anomaly: bool
    severity: Literal["critical", "high", "medium", "low"]
    category: Literal["database", "network", "storage", "auth", "resources", "config", "unknown"]
    summary: str = Field(max_length=80)
    remediation_steps: list[Annotated[str, Field(max_length=40)]] = Field(max_length=2)


@pytest.fixture(scope="session")
def server():
    proc = subprocess.Popen(
        [os.environ["LOGLENS_BIN"], "serve", "--port", "0", "--api-key", KEY,
         "--model", os.environ["LOGLENS_MODEL"]],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    line = proc.stdout.readline()
    assert line.startswith("listening on http://"), line
    base = line.strip().removeprefix("listening on ")
    deadline = time.time() + 120
    while True:
        try:
            with urllib.request.urlopen(base + "/ready") as r:
                if r.status == 200:
                    break
        except (urllib.error.URLError, ConnectionError):
            pass
        assert time.time() < deadline, "server never became ready"
        time.sleep(0.2)
    yield base
    proc.terminate()
    assert proc.wait(timeout=60) == 0


@pytest.fixture()
def client(server):
    return openai.OpenAI(base_url=server + "/v1", api_key=KEY, max_retries=0, timeout=600)


def parallel(fn, items):
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as ex:
        return list(ex.map(fn, items))


def test_models(client):
    ids = [m.id for m in client.models.list()]
    assert ids == [MODEL]
    assert client.models.retrieve(MODEL).id == MODEL


def test_chat_plain_and_streaming_agree(client):
    msgs = [{"role": "user", "content": "Name one cause of a full disk."}]
    r = client.chat.completions.create(model=MODEL, messages=msgs, max_tokens=16, temperature=0)
    text = r.choices[0].message.content
    assert text and r.choices[0].finish_reason in ("stop", "length")
    assert r.usage.completion_tokens <= 16
    chunks = list(client.chat.completions.create(
        model=MODEL, messages=msgs, max_tokens=16, temperature=0, stream=True,
        stream_options={"include_usage": True}))
    streamed = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert streamed == text
    assert chunks[-1].usage.completion_tokens == r.usage.completion_tokens
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finishes == [r.choices[0].finish_reason]


def test_seed_is_honoured(client):
    kw = dict(model=MODEL, messages=[{"role": "user", "content": "Write a word."}],
              max_tokens=10, temperature=1.0, seed=42)
    a = client.chat.completions.create(**kw).choices[0].message.content
    b = client.chat.completions.create(**kw).choices[0].message.content
    assert a == b


def test_json_schema_response_format_always_validates(client):
    def ask(incident):
        r = client.chat.completions.create(
            model=MODEL, max_tokens=400, temperature=0.7, seed=1,
            messages=[{"role": "system", "content": "You triage log lines for an SRE team. Reply in JSON."},
                      {"role": "user", "content": incident}],
            response_format={"type": "json_schema",
                             "json_schema": {"name": "verdict", "schema": SCHEMA, "strict": True}})
        return r.choices[0]
    results = parallel(ask, INCIDENTS)
    assert len(results) >= 20
    for incident, choice in zip(INCIDENTS, results):
        assert choice.finish_reason == "stop", (incident, choice.message.content)
        jsonschema.validate(json.loads(choice.message.content), SCHEMA)


def test_parse_with_pydantic_model(client):
    def ask(incident):
        r = client.chat.completions.parse(
            model=MODEL, max_tokens=400, temperature=0,
            messages=[{"role": "system", "content": "You triage log lines for an SRE team."},
                      {"role": "user", "content": incident}],
            response_format=Verdict)
        return r.choices[0].message.parsed
    verdicts = parallel(ask, INCIDENTS)
    assert len(verdicts) >= 20
    assert all(isinstance(v, Verdict) for v in verdicts)


def test_errors(server, client):
    bad = openai.OpenAI(base_url=server + "/v1", api_key="wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as e:
        bad.models.list()
    assert e.value.status_code == 401
    with pytest.raises(openai.NotFoundError) as e:
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
    assert e.value.status_code == 404
    assert e.value.body["code"] == "model_not_found"
    with pytest.raises(openai.BadRequestError) as e:
        client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "hi"}],
                                       temperature=7)
    assert e.value.body["param"] == "temperature"
    req = urllib.request.Request(
        server + "/v1/chat/completions", data=b"{not json", method="POST",
        headers={"authorization": f"Bearer {KEY}", "content-type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req)
    assert e.value.code == 400
    assert set(json.loads(e.value.read())["error"]) == {"message", "type", "param", "code"}


def start(args):
    """`loglens serve` with extra arguments, once ready; returns (process, base URL)."""
    proc = subprocess.Popen(
        [os.environ["LOGLENS_BIN"], "serve", "--port", "0", "--api-key", KEY,
         "--model", os.environ["LOGLENS_MODEL"], *args],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    line = proc.stdout.readline()
    assert line.startswith("listening on http://"), line
    base = line.strip().removeprefix("listening on ")
    deadline = time.time() + 120
    while True:
        try:
            with urllib.request.urlopen(base + "/ready") as r:
                if r.status == 200:
                    return proc, base
        except (urllib.error.URLError, ConnectionError):
            pass
        assert time.time() < deadline, "server never became ready"
        time.sleep(0.2)


def test_cyclic_ref_schema_is_unprocessable_without_parser_state(client):
    loop = {"$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"$ref": "#/$defs/a"}}, "$ref": "#/$defs/a"}
    with pytest.raises(openai.UnprocessableEntityError) as e:
        client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "hi"}], max_tokens=8,
            response_format={"type": "json_schema", "json_schema": {"name": "loop", "schema": loop}})
    assert e.value.status_code == 422
    assert e.value.body["code"] == "invalid_constraint"
    assert e.value.body["param"] == "response_format"
    assert "<state>" not in e.value.message


def test_schema_over_the_limits_is_unprocessable(client):
    wide = {"type": "object", "properties": {f"p{i}": {"type": "string"} for i in range(5001)}}
    with pytest.raises(openai.UnprocessableEntityError) as e:
        client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "hi"}], max_tokens=8,
            response_format={"type": "json_schema", "json_schema": {"name": "wide", "schema": wide}})
    assert e.value.body["code"] == "constraint_too_large"


def test_prompt_larger_than_the_context_is_a_bad_request(client):
    huge = "disk full on node-17 " * (4_000_000 // 21)
    with pytest.raises(openai.BadRequestError) as e:
        client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": huge}],
                                       max_tokens=8)
    assert e.value.body["code"] == "context_length_exceeded"


def test_every_answer_carries_a_request_id(client):
    raw = client.chat.completions.with_raw_response.create(
        model=MODEL, messages=[{"role": "user", "content": "hi"}], max_tokens=2)
    assert raw.headers.get("x-request-id", "").startswith("req-")
    with pytest.raises(openai.NotFoundError) as e:
        client.models.retrieve("gpt-4o")
    assert e.value.response.headers.get("x-request-id")


def test_a_full_queue_answers_429_with_retry_after_and_the_sdk_retries():
    proc, base = start(["--max-batch", "1", "--max-queue", "1"])
    try:
        ask = dict(model=MODEL, messages=[{"role": "user", "content": "Count to twenty."}],
                   max_tokens=24, temperature=0)
        once = openai.OpenAI(base_url=base + "/v1", api_key=KEY, max_retries=0, timeout=600)

        def try_once(_):
            try:
                return once.chat.completions.create(**ask).choices[0].finish_reason
            except openai.RateLimitError as e:
                return ("429", e.response.headers.get("retry-after"), e.body["code"])
        outcomes = parallel(try_once, range(6))
        refused = [o for o in outcomes if isinstance(o, tuple)]
        assert refused, outcomes
        assert all(o == ("429", "1", "queue_full") for o in refused), outcomes
        assert all(o in ("stop", "length") for o in outcomes if not isinstance(o, tuple))
        patient = openai.OpenAI(base_url=base + "/v1", api_key=KEY, max_retries=40, timeout=600)
        done = parallel(lambda _: patient.chat.completions.create(**ask).choices[0].finish_reason,
                        range(6))
        assert all(f in ("stop", "length") for f in done), done
    finally:
        proc.terminate()
        assert proc.wait(timeout=60) == 0
