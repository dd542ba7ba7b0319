"""`grader waf replay`, run as a learner runs it, on files written for each test."""

from __future__ import annotations

import json

import pytest

from tests.conftest import run_grader

pytest.importorskip("grader.aws.waf.evaluate")

OFFICE = "arn:aws:wafv2:us-east-1:111122223333:global/ipset/office/0f1e2d3c"
VISIBILITY = {"SampledRequestsEnabled": True, "CloudWatchMetricsEnabled": True, "MetricName": "m"}


def uri_starts_with(path):
    return {
        "ByteMatchStatement": {
            "SearchString": path,
            "FieldToMatch": {"UriPath": {}},
            "TextTransformations": [{"Priority": 0, "Type": "NONE"}],
            "PositionalConstraint": "STARTS_WITH",
        }
    }


ACL = {
    "Name": "shop",
    "Scope": "CLOUDFRONT",
    "DefaultAction": {"Allow": {}},
    "VisibilityConfig": VISIBILITY,
    "CustomResponseBodies": {"denied": {"ContentType": "TEXT_PLAIN", "Content": "denied"}},
    "Rules": [
        {
            "Name": "count-login",
            "Priority": 0,
            "Statement": uri_starts_with("/login"),
            "Action": {"Count": {}},
            "RuleLabels": [{"Name": "login"}],
            "VisibilityConfig": VISIBILITY,
        },
        {
            "Name": "block-office-outsiders-admin",
            "Priority": 1,
            "Statement": {
                "AndStatement": {
                    "Statements": [
                        uri_starts_with("/admin"),
                        {
                            "NotStatement": {
                                "Statement": {"IPSetReferenceStatement": {"ARN": OFFICE}}
                            }
                        },
                    ]
                }
            },
            "Action": {
                "Block": {
                    "CustomResponse": {"ResponseCode": 403, "CustomResponseBodyKey": "denied"}
                }
            },
            "VisibilityConfig": VISIBILITY,
        },
    ],
}
LOGGING = {
    "LoggingConfiguration": {
        "ResourceArn": "arn:aws:wafv2:us-east-1:111122223333:global/webacl/shop/1",
        "LogDestinationConfigs": [
            "arn:aws:logs:us-east-1:111122223333:log-group:aws-waf-logs-shop"
        ],
        "LoggingFilter": {
            "DefaultBehavior": "DROP",
            "Filters": [
                {
                    "Behavior": "KEEP",
                    "Requirement": "MEETS_ANY",
                    "Conditions": [{"ActionCondition": {"Action": "BLOCK"}}],
                }
            ],
        },
    }
}
TRAFFIC = [
    {"timestamp": 3000, "clientIp": "203.0.113.9", "uri": "/admin", "class": "scraper"},
    {"timestamp": 1000, "clientIp": "192.0.2.5", "uri": "/", "class": "human"},
    {"timestamp": 2000, "clientIp": "192.0.2.5", "uri": "/login", "httpMethod": "POST"},
    {"timestamp": 4000, "clientIp": "192.0.2.5", "uri": "/admin", "class": "human"},
]


@pytest.fixture
def files(tmp_path):
    paths = {}
    for name, data in (("acl", ACL), ("ipsets", {OFFICE: ["192.0.2.0/24"]}), ("log", LOGGING)):
        paths[name] = tmp_path / f"{name}.json"
        paths[name].write_text(json.dumps(data, indent=2))
    paths["traffic"] = tmp_path / "traffic.jsonl"
    paths["traffic"].write_text("".join(json.dumps(line) + "\n" for line in TRAFFIC))
    return paths


def replay(files, *extra):
    return run_grader(
        "waf",
        "replay",
        "--acl",
        str(files["acl"]),
        "--traffic",
        str(files["traffic"]),
        "--ipsets",
        str(files["ipsets"]),
        *extra,
    )


def test_does_a_replay_print_a_summary_by_class_and_rule(files):
    done = replay(files, "--logging", str(files["log"]))
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "4 requests: 3 allowed, 1 blocked" in out and "1 counted by a rule" in out
    assert "scraper" in out and "block-office-outsiders-admin" in out
    assert "custom response 403: 1 requests" in out
    assert "log records kept by the logging filter: 1" in out


def test_does_json_give_each_verdict_in_time_order_then_the_kept_log_records(files):
    done = replay(files, "--logging", str(files["log"]), "--json")
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    verdicts, records = lines[:4], lines[4:]
    assert [v["timestamp"] for v in verdicts] == [1000, 2000, 3000, 4000]
    assert [v["action"] for v in verdicts] == ["ALLOW", "ALLOW", "BLOCK", "ALLOW"]
    blocked = verdicts[2]
    assert blocked["terminatingRuleId"] == "block-office-outsiders-admin"
    assert blocked["customResponse"]["status"] == 403 and blocked["class"] == "scraper"
    assert verdicts[1]["labels"] == ["awswaf:111122223333:webacl:shop:login"]
    (record,) = records  # the filter keeps blocked requests only
    assert record["action"] == "BLOCK" and record["httpRequest"]["clientIp"] == "203.0.113.9"
    assert record["webaclId"].startswith("arn:aws:wafv2:us-east-1:")


def test_is_a_bad_acl_exit_2_with_the_json_path(files):
    broken = json.loads(files["acl"].read_text())
    broken["Rules"][1]["Priority"] = "first"
    files["acl"].write_text(json.dumps(broken))
    done = replay(files)
    assert done.returncode == 2
    assert "Rules[1].Priority" in done.stderr and "Traceback" not in done.stderr


def test_is_a_bad_traffic_line_exit_2_naming_file_and_line(files):
    lines = files["traffic"].read_text().splitlines()
    lines.insert(2, json.dumps({"clientIp": "192.0.2.5", "headers": [{"name": "Host"}]}))
    files["traffic"].write_text("\n".join(lines) + "\n")
    done = replay(files)
    assert done.returncode == 2
    assert f"{files['traffic']}:3 at headers[0].value" in done.stderr
    skipped = replay(files, "--skip-bad")
    assert skipped.returncode == 0 and f"{files['traffic']}:3" in skipped.stderr


def test_are_a_bad_logging_configuration_and_a_missing_ip_set_exit_2(files, tmp_path):
    broken = json.loads(json.dumps(LOGGING))
    broken["LoggingConfiguration"]["LogDestinationConfigs"] = [
        "arn:aws:logs:us-east-1:111122223333:log-group:shop-logs"
    ]
    files["log"].write_text(json.dumps(broken))
    done = replay(files, "--logging", str(files["log"]))
    assert done.returncode == 2
    assert f"{files['log']} at LoggingConfiguration.LogDestinationConfigs[0]" in done.stderr
    files["ipsets"].write_text(json.dumps({}))
    missing = replay(files)
    assert missing.returncode == 2 and f"{files['acl']} at Rules[1]" in missing.stderr
    assert "Traceback" not in missing.stderr


def test_does_rule_groups_supply_the_groups_the_acl_references(tmp_path):
    arn = "arn:aws:wafv2:us-east-1:111122223333:global/rulegroup/mine/0a1b2c3d"
    group = {
        "Name": "mine",
        "Capacity": 10,
        "VisibilityConfig": VISIBILITY,
        "Rules": [
            {
                "Name": "no-admin",
                "Priority": 0,
                "Statement": uri_starts_with("/admin"),
                "Action": {"Block": {}},
                "VisibilityConfig": VISIBILITY,
            }
        ],
    }
    acl = {
        **{k: v for k, v in ACL.items() if k != "Rules"},
        "Rules": [
            {
                "Name": "my-group",
                "Priority": 0,
                "Statement": {"RuleGroupReferenceStatement": {"ARN": arn}},
                "OverrideAction": {"None": {}},
                "VisibilityConfig": VISIBILITY,
            }
        ],
    }
    (tmp_path / "acl.json").write_text(json.dumps(acl))
    (tmp_path / "groups.json").write_text(json.dumps({arn: {"RuleGroup": group}}))
    (tmp_path / "t.jsonl").write_text(json.dumps({"clientIp": "192.0.2.1", "uri": "/admin"}))
    done = run_grader(
        "waf",
        "replay",
        "--acl",
        str(tmp_path / "acl.json"),
        "--traffic",
        str(tmp_path / "t.jsonl"),
        "--rule-groups",
        str(tmp_path / "groups.json"),
        "--json",
    )
    assert done.returncode == 0, done.stderr
    verdict, record = (json.loads(line) for line in done.stdout.splitlines())
    assert verdict["action"] == "BLOCK" and verdict["terminatingRuleId"] == "my-group"
    assert verdict["terminatingGroupRuleId"] == "no-admin"
    assert record["terminatingRuleType"] == "GROUP"
    assert record["ruleGroupList"][0]["ruleGroupId"] == arn
    assert record["ruleGroupList"][0]["terminatingRule"]["ruleId"] == "no-admin"
