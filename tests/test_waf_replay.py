"""Replaying traffic: each request's verdict and log record, and the summary of the run."""

from __future__ import annotations

import json

import pytest

from grader.aws.waf.replay import ReplayInputError, load_ip_sets, load_rule_groups, replay
from grader.aws.waf.request import WafRequest
from grader.aws.waf.verdict import CustomResponse, RuleMatchInfo, Verdict

BOT_CONTROL = "AWSManagedRulesBotControlRuleSet"
ACL = {
    "Name": "shop",
    "Scope": "CLOUDFRONT",
    "DefaultAction": {"Allow": {}},
    "Rules": [
        {
            "Name": "bots",
            "Priority": 0,
            "Statement": {"ManagedRuleGroupStatement": {"VendorName": "AWS", "Name": BOT_CONTROL}},
            "OverrideAction": {"None": {}},
        },
        {
            "Name": "block-admin",
            "Priority": 1,
            "Statement": {"ByteMatchStatement": {}},
            "Action": {"Block": {}},
        },
    ],
}

# What a stand-in evaluator answers, by the request's path.
VERDICTS = {
    "/": Verdict(action="ALLOW", inspected_by=frozenset({BOT_CONTROL})),
    "/admin": Verdict(
        action="BLOCK",
        terminating_rule_id="block-admin",
        custom_response=CustomResponse(status=403, body="no"),
        labels=("awswaf:111122223333:webacl:shop:admin",),
        non_terminating=(RuleMatchInfo("CategoryHttpLibrary", "COUNT", BOT_CONTROL),),
        inspected_by=frozenset({BOT_CONTROL}),
    ),
    "/bot": Verdict(
        action="BLOCK",
        terminating_rule_id="SignalNonBrowserUserAgent",
        terminating_rule_type="MANAGED_RULE_GROUP",
        terminating_rule_group=BOT_CONTROL,
        labels=("awswaf:managed:aws:bot-control:signal:non_browser_user_agent",),
        inspected_by=frozenset({BOT_CONTROL}),
    ),
    "/login": Verdict(
        action="CAPTCHA",
        terminating_rule_id="block-admin",
        custom_response=CustomResponse(status=405),  # WAF's puzzle page, not a custom one
        labels=("awswaf:managed:token:absent",),
    ),
    "/verified": Verdict(
        action="ALLOW",
        inserted_headers=(("x-amzn-waf-verified", "yes"),),
        labels=("awswaf:managed:token:absent",),
        inspected_by=frozenset({BOT_CONTROL}),
    ),
}


class StandIn:
    """An evaluator that answers from VERDICTS and remembers what it was asked, in order."""

    def __init__(self):
        self.seen = []

    def evaluate(self, request):
        self.seen.append(request.uri)
        return VERDICTS[request.uri]


def request(uri, klass=None, at=0):
    return WafRequest(client_ip="192.0.2.1", uri=uri, timestamp_ms=at, traffic_class=klass)


TRAFFIC = [
    request("/", "human", 0),
    request("/", "human", 1000),
    request("/admin", "scraper", 2000),
    request("/bot", "scraper", 3000),
    request("/login", "credential-stuffing", 4000),
    request("/verified", "search-bot", 5000),
    request("/", None, 6000),
]


@pytest.fixture
def run():
    return replay(TRAFFIC, StandIn(), web_acl=ACL, estimate_cost=False)


def test_does_every_request_get_its_verdict_and_log_record_in_order(run):
    assert [item.request.uri for item in run.items] == [r.uri for r in TRAFFIC]
    assert [item.record["action"] for item in run.items] == [
        "ALLOW",
        "ALLOW",
        "BLOCK",
        "BLOCK",
        "CAPTCHA",
        "ALLOW",
        "ALLOW",
    ]
    assert run.items[3].record["terminatingRuleId"] == "bots"
    assert run.kept_records == [item.record for item in run.items]  # no filter: all kept


def test_are_the_totals_counted_by_action(run):
    totals = run.summary.to_json()["totals"]
    assert totals == {
        "requests": 7,
        "allowed": 4,
        "blocked": 2,
        "counted": 1,
        "captcha": 1,
        "challenge": 0,
    }


def test_does_each_rule_say_how_often_it_matched_terminated_and_counted(run):
    rules = run.summary.to_json()["rules"]
    assert rules["block-admin"] == {"matched": 2, "terminated": 2, "counted": 0}
    assert rules["bots/SignalNonBrowserUserAgent"] == {"matched": 1, "terminated": 1, "counted": 0}
    assert rules["bots/CategoryHttpLibrary"] == {"matched": 1, "terminated": 0, "counted": 1}
    assert rules["Default_Action"] == {"matched": 0, "terminated": 4, "counted": 0}
    assert "bots" not in rules  # the group's own rule is named, not the web ACL's


def test_does_each_traffic_class_say_what_it_met(run):
    classes = run.summary.to_json()["classes"]
    assert classes["human"] == {
        "requests": 2,
        "ALLOW": 2,
        "BLOCK": 0,
        "CAPTCHA": 0,
        "CHALLENGE": 0,
    }
    assert classes["scraper"]["BLOCK"] == 2
    assert classes["credential-stuffing"]["CAPTCHA"] == 1
    assert classes["unclassified"]["requests"] == 1


def test_are_labels_responses_headers_and_inspections_counted(run):
    data = run.summary.to_json()
    assert data["labels"]["awswaf:managed:token:absent"] == 2
    assert data["customResponses"] == {"403": 1}
    assert data["headersInserted"] == {"x-amzn-waf-verified": 1}
    assert data["managedGroupsInspected"] == {BOT_CONTROL: 6}  # all but /login
    assert data["spanMs"] == 6000 and data["logged"] is None


def test_is_the_summary_plain_json(run):
    data = run.summary.to_json()
    assert json.loads(json.dumps(data)) == data


def test_does_a_logging_filter_keep_only_the_records_it_should():
    pytest.importorskip("grader.aws.waf.logfilter")
    keep_blocks = {
        "DefaultBehavior": "DROP",
        "Filters": [
            {
                "Behavior": "KEEP",
                "Requirement": "MEETS_ANY",
                "Conditions": [{"ActionCondition": {"Action": "BLOCK"}}],
            }
        ],
    }
    run = replay(TRAFFIC, StandIn(), web_acl=ACL, logging_filter=keep_blocks, estimate_cost=False)
    assert [r["action"] for r in run.kept_records] == ["BLOCK", "BLOCK"]
    assert run.summary.logged == 2


def write_json(tmp_path, name, data):
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


def test_are_ip_sets_read_as_cidr_lists_or_as_get_ip_set_returns_them(tmp_path):
    path = write_json(
        tmp_path,
        "sets.json",
        {
            "office": ["192.0.2.0/24", "2001:db8::/32"],
            "arn:aws:wafv2:us-east-1:111122223333:global/ipset/bad/1": {
                "IPSet": {"Addresses": ["198.51.100.7/32"], "IPAddressVersion": "IPV4"}
            },
        },
    )
    assert load_ip_sets(path) == {
        "office": ["192.0.2.0/24", "2001:db8::/32"],
        "arn:aws:wafv2:us-east-1:111122223333:global/ipset/bad/1": ["198.51.100.7/32"],
    }


@pytest.mark.parametrize(
    ("data", "json_path"),
    [
        ({"office": ["192.0.2.0/24", "10.0.0.300/8"]}, "office[1]"),
        ({"office": ["192.0.2.1"]}, "office[0]"),
        ({"office": "192.0.2.0/24"}, "office"),
        ({"office": {"Addresses": [7]}}, "office.Addresses[0]"),
        ({"my set": {"IPAddressVersion": "IPV4"}}, '"my set"'),
    ],
)
def test_is_a_bad_ip_set_an_error_with_its_json_path(tmp_path, data, json_path):
    path = write_json(tmp_path, "sets.json", data)
    with pytest.raises(ReplayInputError) as caught:
        load_ip_sets(path)
    assert caught.value.json_path == json_path and caught.value.file == str(path)


def test_are_rule_groups_read_by_arn_wrapped_or_not(tmp_path):
    group = {"Name": "mine", "Rules": []}
    path = write_json(tmp_path, "groups.json", {"arn:a": group, "arn:b": {"RuleGroup": group}})
    assert load_rule_groups(path) == {"arn:a": group, "arn:b": group}
    bad = write_json(tmp_path, "bad.json", {"arn:a": {"Name": "x", "Rules": {}}})
    with pytest.raises(ReplayInputError, match="list of rules"):
        load_rule_groups(bad)


# End to end: the engine's own evaluator and its Bot Control model.
BROWSER = (
    (
        "User-Agent",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like "
        "Gecko) Chrome/120.0 Safari/537.36",
    ),
    ("Accept", "text/html"),
    ("Accept-Language", "en"),
)
VISIBILITY = {"SampledRequestsEnabled": True, "CloudWatchMetricsEnabled": True, "MetricName": "m"}
LOGIN_ONLY_BOT_CONTROL = {
    "Name": "shop",
    "Scope": "CLOUDFRONT",
    "DefaultAction": {"Allow": {}},
    "VisibilityConfig": VISIBILITY,
    "Rules": [
        {
            "Name": "bots",
            "Priority": 0,
            "OverrideAction": {"None": {}},
            "VisibilityConfig": VISIBILITY,
            "Statement": {
                "ManagedRuleGroupStatement": {
                    "VendorName": "AWS",
                    "Name": BOT_CONTROL,
                    "ScopeDownStatement": {
                        "ByteMatchStatement": {
                            "SearchString": "/login",
                            "FieldToMatch": {"UriPath": {}},
                            "TextTransformations": [{"Priority": 0, "Type": "NONE"}],
                            "PositionalConstraint": "STARTS_WITH",
                        }
                    },
                }
            },
        }
    ],
}


def test_does_a_real_replay_log_bot_control_and_count_only_what_it_inspected():
    waf = pytest.importorskip("grader.aws.waf.evaluate")
    from grader.aws.waf.acl import parse_web_acl

    acl, _ = parse_web_acl(LOGIN_ONLY_BOT_CONTROL)
    traffic = [
        WafRequest("192.0.2.1", "/", headers=BROWSER, timestamp_ms=0, traffic_class="human"),
        WafRequest(
            "192.0.2.1", "/login", headers=BROWSER, timestamp_ms=1000, traffic_class="human"
        ),
        WafRequest(
            "198.51.100.2",
            "/login",
            headers=(("User-Agent", "curl/8.4.0"),),
            timestamp_ms=2000,
            traffic_class="scraper",
        ),
    ]
    run = replay(traffic, waf.WebAclEvaluator(acl), web_acl=LOGIN_ONLY_BOT_CONTROL)
    home, login, curl = (item.record for item in run.items)
    assert home["ruleGroupList"] == []  # the scope-down kept Bot Control out
    assert [g["terminatingRule"] for g in login["ruleGroupList"]] == [None]
    assert curl["action"] == "BLOCK" and curl["terminatingRuleId"] == "bots"
    assert curl["terminatingRuleType"] == "MANAGED_RULE_GROUP"
    (group,) = curl["ruleGroupList"]
    assert group["ruleGroupId"] == f"AWS#{BOT_CONTROL}" and group["terminatingRule"]["ruleId"]
    assert {"name": "awswaf:managed:aws:bot-control:bot:category:http_library"} in curl["labels"]
    summary = run.summary.to_json()
    assert summary["managedGroupsInspected"] == {BOT_CONTROL: 2}
    assert summary["classes"]["scraper"]["BLOCK"] == 1 and summary["classes"]["human"]["ALLOW"] == 2
    assert list(summary["rules"])[-1] == "Default_Action"


def test_is_the_cost_the_traffic_scaled_to_a_month_with_bot_control_at_its_level():
    pytest.importorskip("grader.aws.waf.pricing")
    targeted = json.loads(json.dumps(ACL))
    targeted["Rules"][0]["Statement"]["ManagedRuleGroupStatement"]["ManagedRuleGroupConfigs"] = [
        {BOT_CONTROL: {"InspectionLevel": "TARGETED"}}
    ]
    cost = replay(TRAFFIC, StandIn(), web_acl=targeted).summary.cost
    scale = 30 * 24 * 3600 * 1000 / 6000  # seven requests in six seconds, for 30 days
    assert cost["scale"] == round(scale, 3)
    lines = {line["item"]: line for line in cost["estimate"]["lines"]}
    assert lines["requests"]["quantity"] == round(7 * scale)
    inspected = [line for item, line in lines.items() if "targeted" in item.lower()]
    assert inspected and inspected[0]["quantity"] == round(6 * scale)
    assert not any("common" in item.lower() for item in lines)


def test_is_traffic_without_a_time_span_costed_as_one_month():
    pytest.importorskip("grader.aws.waf.pricing")
    same_time = [request("/", "human", 0), request("/admin", "scraper", 0)]
    cost = replay(same_time, StandIn(), web_acl=ACL).summary.cost
    assert cost["scale"] == 1.0
