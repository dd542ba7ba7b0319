"""How fast does the WAF engine replay traffic? Requests per second on one core, beside a
plain-Python loop that only reads the same traffic file (the floor any replay pays).

The ACL is lab2's reference solution (Bot Control with a scope-down, label rules, a rate
rule) grown to 10 rules with ordinary custom rules (byte and regex matches with text
transformations, a size constraint, a geo match, an IP set), and the traffic is the lab's
generated half hour (about 3,000 requests), replayed several times over.

Run: python bench/bench_waf_replay.py [ROUNDS]
"""

from __future__ import annotations

import copy
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from grader.aws.waf.acl import parse_web_acl  # noqa: E402
from grader.aws.waf.evaluate import WebAclEvaluator  # noqa: E402
from grader.aws.waf.traffic import load_traffic, write_traffic  # noqa: E402
from grader.checks.lab2_scenario import make_traffic  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
IPSET_ARN = "arn:aws:wafv2:us-east-1:123456789012:global/ipset/blocked/a1b2c3d4"
VIS = {"SampledRequestsEnabled": False, "CloudWatchMetricsEnabled": False, "MetricName": "m"}


def ten_rule_acl() -> dict:
    acl = json.loads((ROOT / "solutions" / "lab2" / "webacl.json").read_text())
    extra = [
        {"ByteMatchStatement": {"SearchString": "/admin", "FieldToMatch": {"UriPath": {}},
         "TextTransformations": [{"Priority": 0, "Type": "URL_DECODE"},
                                 {"Priority": 1, "Type": "LOWERCASE"}],
         "PositionalConstraint": "STARTS_WITH"}},
        {"RegexMatchStatement": {"RegexString": r"(?i)(union\s+select|<script)",
         "FieldToMatch": {"QueryString": {}},
         "TextTransformations": [{"Priority": 0, "Type": "URL_DECODE"}]}},
        {"SizeConstraintStatement": {"FieldToMatch": {"Body": {"OversizeHandling": "MATCH"}},
         "ComparisonOperator": "GT", "Size": 8192,
         "TextTransformations": [{"Priority": 0, "Type": "NONE"}]}},
        {"GeoMatchStatement": {"CountryCodes": ["KP", "IR"]}},
        {"IPSetReferenceStatement": {"ARN": IPSET_ARN}},
        {"ByteMatchStatement": {"SearchString": "wp-login", "FieldToMatch": {"UriPath": {}},
         "TextTransformations": [{"Priority": 0, "Type": "LOWERCASE"}],
         "PositionalConstraint": "CONTAINS"}},
    ]  # fmt: skip
    for i, statement in enumerate(extra):
        acl["Rules"].append(
            {
                "Name": f"extra-{i}",
                "Priority": 100 + i,
                "Statement": statement,
                "Action": {"Block": {}},
                "VisibilityConfig": VIS,
            }  # fmt: skip
        )
    return acl


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    requests = make_traffic(2026).requests
    acl_doc = ten_rule_acl()
    model, _ = parse_web_acl(acl_doc)
    ip_sets = {IPSET_ARN: ["192.0.2.250/32", "2001:db8:ffff::/48"]}

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "traffic.jsonl"
        write_traffic(path, requests)
        start = time.perf_counter()
        for _ in range(rounds):
            with path.open(encoding="utf-8") as lines:
                parsed = [json.loads(line) for line in lines]
        floor = rounds * len(parsed) / (time.perf_counter() - start)
        start = time.perf_counter()
        for _ in range(rounds):
            loaded, _ = load_traffic(path)
        read = rounds * len(loaded) / (time.perf_counter() - start)

    best = 0.0
    for _ in range(rounds):
        evaluator = WebAclEvaluator(model, ip_sets=copy.deepcopy(ip_sets))
        start = time.perf_counter()
        for request in requests:
            evaluator.evaluate(request)
        best = max(best, len(requests) / (time.perf_counter() - start))

    print(f"{'measure':<52} {'requests/s':>12}")
    print(f"{'json.loads of each traffic line (the floor)':<52} {floor:>12,.0f}")
    print(f"{'load_traffic (parse and check every field)':<52} {read:>12,.0f}")
    print(f"{'evaluate through a 10-rule ACL (best round)':<52} {best:>12,.0f}")
    print(f"\nevaluate / floor: {best / floor:.2f}x; {len(requests):,} requests, "
          f"{len(acl_doc['Rules'])} rules, {rounds} rounds, one core")  # fmt: skip


if __name__ == "__main__":
    main()
