#!/usr/bin/env python3
"""Self-test of the scenario generator: output is deterministic per seed, different seeds
give different incidents, every scenario passes the self-check, and a corrupted line or
trace is caught by it."""

from __future__ import annotations

import filecmp
import json
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from rcagen import check, scenario  # noqa: E402


def tree(d: str) -> list[str]:
    return sorted(os.path.relpath(os.path.join(r, f), d) for r, _, fs in os.walk(d) for f in fs)


class GeneratorTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.a = os.path.join(cls.tmp.name, "a")
        cls.b = os.path.join(cls.tmp.name, "b")
        cls.c = os.path.join(cls.tmp.name, "c")
        # indices chosen to cover a k8s-only template, a database and a network template
        cls.indices = [0, 4, 17]
        for d, seed in ((cls.a, 3), (cls.b, 3), (cls.c, 4)):
            for i in cls.indices:
                scenario.generate(d, seed, i)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_same_seed_same_bytes(self):
        self.assertEqual(tree(self.a), tree(self.b))
        for rel in tree(self.a):
            self.assertTrue(filecmp.cmp(os.path.join(self.a, rel), os.path.join(self.b, rel), shallow=False), rel)

    def test_other_seed_other_incident(self):
        ta = [check.load_json(os.path.join(self.a, d, "truth.json")) for d in sorted(os.listdir(self.a))]
        tc = [check.load_json(os.path.join(self.c, d, "truth.json")) for d in sorted(os.listdir(self.c))]
        self.assertNotEqual([t["onset"] for t in ta], [t["onset"] for t in tc])

    def test_scenarios_pass_the_check(self):
        for d in sorted(os.listdir(self.a)):
            probs = check.check_scenario(os.path.join(self.a, d))
            self.assertEqual(list(probs), [], d)

    def test_truth_shape(self):
        for d in sorted(os.listdir(self.a)):
            t = check.load_json(os.path.join(self.a, d, "truth.json"))
            self.assertIn(t["category"], scenario.CATEGORIES)
            self.assertEqual(t["propagation_path"][0], t["root_cause_service"])
            self.assertTrue(t["description"])

    def test_check_catches_a_bad_line(self):
        d = os.path.join(self.c, sorted(os.listdir(self.c))[0])
        man = check.load_json(os.path.join(d, "manifest.json"))
        victim = os.path.join(d, man["logs"][0]["path"])
        with open(victim, "a") as f:
            f.write("this line is in no format at all\n")
        self.assertTrue(any("not a" in p for p in check.check_scenario(d)))

    def test_check_catches_bad_otlp(self):
        for d in sorted(os.listdir(self.c)):
            full = os.path.join(self.c, d)
            man = check.load_json(os.path.join(full, "manifest.json"))
            js = [t for t in man["traces"] if t["encoding"] == "otlp-json"]
            if not js:
                continue
            with open(os.path.join(full, js[0]["path"]), "a") as f:
                f.write(json.dumps({"resourceSpans": [{"resource": {"attributes": []}, "scopeSpans": [{"spans": [
                    {"traceId": "XYZ", "spanId": "1", "kind": "SPAN_KIND_SERVER", "startTimeUnixNano": 5,
                     "endTimeUnixNano": 4}]}]}]}) + "\n")
            probs = check.check_scenario(full)
            self.assertTrue(any("traceId" in p for p in probs))
            self.assertTrue(any("service.name" in p for p in probs))
            return
        self.skipTest("no JSON traces in these scenarios")

    def test_protobuf_round_trip(self):
        from rcagen import otlp
        req = {"resourceSpans": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "a"}}]},
                                  "scopeSpans": [{"scope": {"name": "s"}, "spans": [
                                      {"traceId": "0af7651916cd43dd8448eb211c80319c", "spanId": "b7ad6b7169203331",
                                       "parentSpanId": "00f067aa0ba902b7", "name": "GET /x", "kind": 2,
                                       "startTimeUnixNano": "1762201800050000000", "endTimeUnixNano": "1762201800950000000",
                                       "attributes": [{"key": "http.response.status_code", "value": {"intValue": "507"}},
                                                      {"key": "ok", "value": {"boolValue": False}},
                                                      {"key": "ratio", "value": {"doubleValue": 0.25}}],
                                       "status": {"message": "boom", "code": 2}}]}]}]}
        back = check.pb_to_json(otlp.pb_request(req))
        sp = back["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
        want = req["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
        for k in ("traceId", "spanId", "parentSpanId", "name", "kind", "startTimeUnixNano", "endTimeUnixNano"):
            self.assertEqual(sp[k], want[k], k)
        self.assertEqual(sp["attributes"], want["attributes"])
        self.assertEqual(sp["status"], want["status"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
