"""WAF log records built from a request and its verdict, in the documented shape."""

from __future__ import annotations

import json

import pytest

from grader.aws.waf.logs import LogContext, log_record, web_acl_arn
from grader.aws.waf.request import WafRequest
from grader.aws.waf.verdict import CustomResponse, RuleMatchInfo, Verdict

BOT_CONTROL = "AWSManagedRulesBotControlRuleSet"
GROUP_ARN = "arn:aws:wafv2:us-east-1:111122223333:global/rulegroup/shop-rules/abcd"
ACL = {
    "Name": "shop",
    "Scope": "CLOUDFRONT",
    "DefaultAction": {"Allow": {}},
    "Rules": [
        {
            "Name": "bots",
            "Priority": 0,
            "Statement": {
                "ManagedRuleGroupStatement": {
                    "VendorName": "AWS",
                    "Name": BOT_CONTROL,
                    "ExcludedRules": [{"Name": "CategoryHttpLibrary"}],
                }
            },
            "OverrideAction": {"None": {}},
        },
        {
            "Name": "login-rate",
            "Priority": 1,
            "Statement": {"RateBasedStatement": {"Limit": 100, "AggregateKeyType": "IP"}},
            "Action": {"Block": {}},
        },
        {
            "Name": "mine",
            "Priority": 2,
            "Statement": {"RuleGroupReferenceStatement": {"ARN": GROUP_ARN}},
            "OverrideAction": {"None": {}},
        },
        {
            "Name": "block-admin",
            "Priority": 3,
            "Statement": {"ByteMatchStatement": {}},
            "Action": {"Block": {}},
        },
    ],
}
CONTEXT = LogContext.from_web_acl(ACL)
REQUEST = WafRequest(
    client_ip="192.0.2.10",
    uri="/admin",
    args="a=1",
    headers=(("Host", "shop.example"),),
    country="JP",
    timestamp_ms=1700000000123,
    request_id="r-1",
)
EVERY_FIELD = {
    "timestamp",
    "formatVersion",
    "webaclId",
    "terminatingRuleId",
    "terminatingRuleType",
    "action",
    "terminatingRuleMatchDetails",
    "httpSourceName",
    "httpSourceId",
    "ruleGroupList",
    "rateBasedRuleList",
    "nonTerminatingMatchingRules",
    "requestHeadersInserted",
    "responseCodeSent",
    "httpRequest",
}


def inspected(*groups):
    return frozenset(groups)


def test_does_an_allowed_request_get_every_documented_field():
    record = log_record(
        REQUEST, Verdict(action="ALLOW", inspected_by=inspected(BOT_CONTROL)), CONTEXT
    )
    assert set(record) == EVERY_FIELD  # no labels: WAF leaves the field out
    assert record["timestamp"] == 1700000000123 and record["formatVersion"] == 1
    assert record["terminatingRuleId"] == "Default_Action" and record["action"] == "ALLOW"
    assert record["terminatingRuleMatchDetails"] == []
    assert record["requestHeadersInserted"] is None and record["responseCodeSent"] is None
    assert record["httpRequest"] == {
        "clientIp": "192.0.2.10",
        "country": "JP",
        "headers": [{"name": "Host", "value": "shop.example"}],
        "uri": "/admin",
        "args": "a=1",
        "httpVersion": "HTTP/1.1",
        "httpMethod": "GET",
        "requestId": "r-1",
    }


def test_is_the_web_acl_id_an_arn_of_its_name_and_scope():
    arn = CONTEXT.web_acl_id
    assert arn.startswith("arn:aws:wafv2:us-east-1:111122223333:global/webacl/shop/")
    regional = web_acl_arn({**ACL, "Scope": "REGIONAL"}, region="eu-west-1", account="1" * 12)
    assert regional.startswith("arn:aws:wafv2:eu-west-1:111111111111:regional/webacl/shop/")
    assert web_acl_arn({"WebACL": {**ACL, "ARN": "arn:x"}}) == "arn:x"


def test_is_the_source_cf_for_cloudfront_alb_for_regional_or_as_given():
    assert CONTEXT.http_source_name == "CF"
    assert LogContext.from_web_acl({**ACL, "Scope": "REGIONAL"}).http_source_name == "ALB"
    given = LogContext.from_web_acl(ACL, http_source_name="APIGW", http_source_id="api:stage")
    assert (given.http_source_name, given.http_source_id) == ("APIGW", "api:stage")


def test_are_labels_logged_as_name_objects_in_order():
    verdict = Verdict(action="ALLOW", labels=("awswaf:managed:token:absent", "a:b"))
    record = log_record(REQUEST, verdict, CONTEXT)
    assert record["labels"] == [{"name": "awswaf:managed:token:absent"}, {"name": "a:b"}]


def test_does_a_block_by_a_regular_rule_list_the_groups_evaluated_before_it():
    verdict = Verdict(
        action="BLOCK",
        terminating_rule_id="block-admin",
        custom_response=CustomResponse(status=429, body="slow down"),
        non_terminating=(RuleMatchInfo("CategoryHttpLibrary", "COUNT", BOT_CONTROL),),
        inspected_by=inspected(BOT_CONTROL),
    )
    record = log_record(REQUEST, verdict, CONTEXT)
    assert record["terminatingRuleId"] == "block-admin"
    assert record["terminatingRuleType"] == "REGULAR"
    assert record["responseCodeSent"] == 429
    assert record["nonTerminatingMatchingRules"] == []
    assert [g["ruleGroupId"] for g in record["ruleGroupList"]] == [
        "AWS#AWSManagedRulesBotControlRuleSet",
        GROUP_ARN,
    ]
    bots, mine = record["ruleGroupList"]
    # An excluded rule's match is listed under excludedRules, not as a counted match.
    assert bots["excludedRules"] == [
        {"exclusionType": "EXCLUDED_AS_COUNT", "ruleId": "CategoryHttpLibrary"}
    ]
    assert bots["nonTerminatingMatchingRules"] == [] and bots["terminatingRule"] is None
    assert mine == {
        "ruleGroupId": GROUP_ARN,
        "terminatingRule": None,
        "nonTerminatingMatchingRules": [],
        "excludedRules": None,
    }


def test_does_a_managed_group_block_log_the_acl_rule_and_the_group_rule():
    verdict = Verdict(
        action="BLOCK",
        terminating_rule_id="SignalNonBrowserUserAgent",
        terminating_rule_type="MANAGED_RULE_GROUP",
        terminating_rule_group=BOT_CONTROL,
        non_terminating=(RuleMatchInfo("CategorySearchEngine", "COUNT", BOT_CONTROL),),
        inspected_by=inspected(BOT_CONTROL),
    )
    record = log_record(REQUEST, verdict, CONTEXT)
    assert record["terminatingRuleId"] == "bots"
    assert record["terminatingRuleType"] == "MANAGED_RULE_GROUP"
    assert record["ruleGroupList"] == [
        {
            "ruleGroupId": "AWS#AWSManagedRulesBotControlRuleSet",
            "terminatingRule": {
                "ruleId": "SignalNonBrowserUserAgent",
                "action": "BLOCK",
                "ruleMatchDetails": None,
            },
            "nonTerminatingMatchingRules": [
                {"ruleId": "CategorySearchEngine", "action": "COUNT", "ruleMatchDetails": []}
            ],
            "excludedRules": None,
        }
    ]  # the groups after the terminating rule were never evaluated


def test_is_a_managed_group_kept_out_by_its_scope_down_left_out_of_rule_group_list():
    record = log_record(REQUEST, Verdict(action="ALLOW"), CONTEXT)
    assert [g["ruleGroupId"] for g in record["ruleGroupList"]] == [GROUP_ARN]


def test_does_a_rate_based_block_fill_rate_based_rule_list():
    verdict = Verdict(
        action="BLOCK", terminating_rule_id="login-rate", terminating_rule_type="RATE_BASED"
    )
    record = log_record(REQUEST, verdict, CONTEXT)
    (entry,) = record["rateBasedRuleList"]
    assert entry["rateBasedRuleName"] == "login-rate"
    assert entry["limitKey"] == "IP" and entry["maxRateAllowed"] == 100
    assert entry["evaluationWindowSec"] == "300" and entry["customValues"] == []
    assert log_record(REQUEST, Verdict(action="ALLOW"), CONTEXT)["rateBasedRuleList"] == []


def test_are_counted_acl_rules_and_inserted_headers_logged():
    verdict = Verdict(
        action="ALLOW",
        non_terminating=(RuleMatchInfo("login-rate", "COUNT"),),
        inserted_headers=(("x-amzn-waf-verified-bot", "true"),),
    )
    record = log_record(REQUEST, verdict, CONTEXT)
    assert record["nonTerminatingMatchingRules"] == [
        {"ruleId": "login-rate", "action": "COUNT", "ruleMatchDetails": []}
    ]
    assert record["requestHeadersInserted"] == [
        {"name": "x-amzn-waf-verified-bot", "value": "true"}
    ]
    assert [r["rateBasedRuleName"] for r in record["rateBasedRuleList"]] == ["login-rate"]


def test_does_a_terminating_captcha_say_why_the_token_failed():
    verdict = Verdict(
        action="CAPTCHA",
        terminating_rule_id="block-admin",
        custom_response=CustomResponse(status=405, content_type="text/html"),
    )
    record = log_record(REQUEST, verdict, CONTEXT)
    assert record["captchaResponse"] == {"responseCode": 405, "failureReason": "TOKEN_MISSING"}
    assert record["responseCodeSent"] is None  # WAF's puzzle page is not a custom response
    assert "challengeResponse" not in record
    stale = WafRequest(client_ip="192.0.2.1", headers=(("Cookie", "a=1; aws-waf-token=t:5"),))
    challenged = log_record(stale, Verdict(action="CHALLENGE", terminating_rule_id="x"), CONTEXT)
    assert challenged["challengeResponse"] == {
        "responseCode": 202,
        "failureReason": "TOKEN_EXPIRED",
    }
    garbled = WafRequest(client_ip="192.0.2.1", headers=(("Cookie", "aws-waf-token=zz"),))
    record = log_record(garbled, Verdict(action="CAPTCHA", terminating_rule_id="x"), CONTEXT)
    assert record["captchaResponse"]["failureReason"] == "TOKEN_INVALID"


def test_does_a_captcha_passed_with_a_token_log_a_solve_time():
    verdict = Verdict(action="ALLOW", non_terminating=(RuleMatchInfo("block-admin", "CAPTCHA"),))
    record = log_record(REQUEST, verdict, CONTEXT)
    (match,) = record["nonTerminatingMatchingRules"]
    assert match["action"] == "CAPTCHA"
    assert match["captchaResponse"] == {"responseCode": 0, "solveTimestamp": 1700000000}
    assert record["captchaResponse"] == match["captchaResponse"]  # also at the top level


def test_does_the_engine_s_rate_based_block_log_as_the_examples_show():
    waf = pytest.importorskip("grader.aws.waf.evaluate")
    from grader.aws.waf.acl import parse_web_acl

    visibility = {
        "SampledRequestsEnabled": True,
        "CloudWatchMetricsEnabled": True,
        "MetricName": "m",
    }
    document = {
        "Name": "shop",
        "Scope": "REGIONAL",
        "DefaultAction": {"Allow": {}},
        "VisibilityConfig": visibility,
        "Rules": [
            {
                "Name": "per-ip",
                "Priority": 0,
                "Statement": {
                    "RateBasedStatement": {
                        "Limit": 10,
                        "AggregateKeyType": "IP",
                        "EvaluationWindowSec": 60,
                    }
                },
                "Action": {"Block": {}},
                "VisibilityConfig": visibility,
            }
        ],
    }
    acl, _ = parse_web_acl(document)
    evaluator = waf.WebAclEvaluator(acl)
    context = LogContext.from_web_acl(document)
    records = [
        log_record(r, evaluator.evaluate(r), context)
        for r in (WafRequest("192.0.2.7", timestamp_ms=i * 100) for i in range(11))
    ]
    assert [r["action"] for r in records] == ["ALLOW"] * 10 + ["BLOCK"]
    last = records[-1]
    assert last["terminatingRuleType"] == "RATE_BASED" and last["httpSourceName"] == "ALB"
    assert last["rateBasedRuleList"][0]["maxRateAllowed"] == 10
    assert last["rateBasedRuleList"][0]["evaluationWindowSec"] == "60"
    assert ":regional/webacl/shop/" in last["webaclId"]


def test_is_a_rule_overridden_to_count_logged_with_its_own_action_as_overridden_action():
    pytest.importorskip("grader.aws.waf.botcontrol")
    acl = json.loads(json.dumps(ACL))
    acl["Rules"][0]["Statement"]["ManagedRuleGroupStatement"]["RuleActionOverrides"] = [
        {"Name": "SignalNonBrowserUserAgent", "ActionToUse": {"Count": {}}}
    ]
    verdict = Verdict(
        action="ALLOW",
        non_terminating=(RuleMatchInfo("SignalNonBrowserUserAgent", "COUNT", BOT_CONTROL),),
        inspected_by=inspected(BOT_CONTROL),
    )
    record = log_record(REQUEST, verdict, LogContext.from_web_acl(acl))
    (match,) = record["ruleGroupList"][0]["nonTerminatingMatchingRules"]
    assert match == {
        "ruleId": "SignalNonBrowserUserAgent",
        "action": "COUNT",
        "overriddenAction": "BLOCK",
        "ruleMatchDetails": [],
    }
    # Without the override, a counted rule has no overriddenAction.
    plain = log_record(REQUEST, verdict, CONTEXT)["ruleGroupList"][0]
    assert "overriddenAction" not in plain["nonTerminatingMatchingRules"][0]
