"""Web ACL capacity: each statement's documented WCUs, the extras, and the limits."""

from __future__ import annotations

import pytest

from grader.aws.waf.wcu import capacity, rule_capacity

URI = {"UriPath": {}}
LOWER = {"Priority": 0, "Type": "LOWERCASE"}
DECODE = {"Priority": 1, "Type": "URL_DECODE"}


def byte_match(positional="CONTAINS", field=None, transforms=()):
    return {
        "ByteMatchStatement": {
            "SearchString": "x",
            "FieldToMatch": field or URI,
            "PositionalConstraint": positional,
            "TextTransformations": list(transforms) or [{"Priority": 0, "Type": "NONE"}],
        }
    }


def rule(statement, name="r"):
    return {"Name": name, "Priority": 0, "Statement": statement}


def acl(*statements):
    return {"Name": "acl", "Rules": [rule(s, f"r{i}") for i, s in enumerate(statements)]}


@pytest.mark.parametrize(
    ("positional", "wcu"),
    [("EXACTLY", 2), ("STARTS_WITH", 2), ("ENDS_WITH", 2), ("CONTAINS", 10), ("CONTAINS_WORD", 10)],
)
def test_does_a_string_match_cost_what_its_positional_constraint_says(positional, wcu):
    assert rule_capacity(rule(byte_match(positional))).wcu == wcu


def test_does_each_text_transformation_add_ten_and_none_add_nothing():
    assert rule_capacity(rule(byte_match("EXACTLY", transforms=[LOWER, DECODE]))).wcu == 22
    none = [{"Priority": 0, "Type": "NONE"}]
    assert rule_capacity(rule(byte_match("EXACTLY", transforms=none))).wcu == 2


def test_does_json_body_double_the_base_but_not_the_transformations():
    json_body = {"JsonBody": {"MatchPattern": {"All": {}}, "MatchScope": "ALL"}}
    statement = byte_match("CONTAINS", field=json_body, transforms=[LOWER])
    assert rule_capacity(rule(statement)).wcu == 10 * 2 + 10


def test_do_all_query_arguments_add_ten():
    statement = byte_match("CONTAINS", field={"AllQueryArguments": {}})
    assert rule_capacity(rule(statement)).wcu == 20


@pytest.mark.parametrize(
    ("statement", "wcu"),
    [
        ({"SqliMatchStatement": {"FieldToMatch": URI, "TextTransformations": []}}, 20),
        (
            {
                "SqliMatchStatement": {
                    "FieldToMatch": URI,
                    "TextTransformations": [],
                    "SensitivityLevel": "HIGH",
                }
            },
            30,
        ),
        ({"XssMatchStatement": {"FieldToMatch": URI, "TextTransformations": [LOWER]}}, 50),
        ({"SizeConstraintStatement": {"FieldToMatch": URI, "TextTransformations": []}}, 1),
        ({"RegexMatchStatement": {"FieldToMatch": URI, "TextTransformations": []}}, 3),
        (
            {
                "RegexPatternSetReferenceStatement": {
                    "FieldToMatch": URI,
                    "TextTransformations": [],
                }
            },
            25,
        ),
        ({"GeoMatchStatement": {"CountryCodes": ["FR"]}}, 1),
        ({"LabelMatchStatement": {"Scope": "LABEL", "Key": "a:b"}}, 1),
        ({"IPSetReferenceStatement": {"ARN": "arn"}}, 1),
        (
            {
                "IPSetReferenceStatement": {
                    "ARN": "arn",
                    "IPSetForwardedIPConfig": {"Position": "ANY"},
                }
            },
            5,
        ),
        (
            {
                "IPSetReferenceStatement": {
                    "ARN": "arn",
                    "IPSetForwardedIPConfig": {"Position": "FIRST"},
                }
            },
            1,
        ),
    ],
)
def test_does_each_statement_cost_its_documented_wcus(statement, wcu):
    assert rule_capacity(rule(statement)).wcu == wcu


def test_do_and_or_not_cost_the_sum_of_what_they_hold():
    geo = {"GeoMatchStatement": {"CountryCodes": ["FR"]}}
    both = {"AndStatement": {"Statements": [geo, byte_match("EXACTLY")]}}
    assert rule_capacity(rule(both)).wcu == 3
    either = {"OrStatement": {"Statements": [both, {"NotStatement": {"Statement": geo}}]}}
    assert rule_capacity(rule(either)).wcu == 4


def test_does_a_rate_based_rule_add_keys_and_its_scope_down():
    plain = {"RateBasedStatement": {"Limit": 100, "AggregateKeyType": "IP"}}
    assert rule_capacity(rule(plain)).wcu == 2
    keyed = {
        "RateBasedStatement": {
            "Limit": 100,
            "AggregateKeyType": "CUSTOM_KEYS",
            "CustomKeys": [{"IP": {}}, {"HTTPMethod": {}}],
            "ScopeDownStatement": byte_match("STARTS_WITH"),
        }
    }
    assert rule_capacity(rule(keyed)).wcu == 2 + 2 * 30 + 2


@pytest.mark.parametrize(
    ("name", "wcu"),
    [
        ("AWSManagedRulesBotControlRuleSet", 50),
        ("AWSManagedRulesCommonRuleSet", 700),
        ("AWSManagedRulesKnownBadInputsRuleSet", 200),
        ("AWSManagedRulesSQLiRuleSet", 200),
        ("AWSManagedRulesAmazonIpReputationList", 25),
        ("AWSManagedRulesAnonymousIpList", 50),
    ],
)
def test_does_a_managed_group_cost_its_fixed_capacity(name, wcu):
    statement = {"ManagedRuleGroupStatement": {"VendorName": "AWS", "Name": name}}
    assert rule_capacity(rule(statement)).wcu == wcu


def test_does_a_managed_groups_scope_down_add_its_own_cost():
    statement = {
        "ManagedRuleGroupStatement": {
            "VendorName": "AWS",
            "Name": "AWSManagedRulesBotControlRuleSet",
            "ScopeDownStatement": byte_match("STARTS_WITH", transforms=[LOWER]),
        }
    }
    cost = rule_capacity(rule(statement))
    assert cost.wcu == 50 + 12
    assert any(line.startswith("scope-down") for line in cost.parts)


def test_does_a_rule_group_reference_cost_what_the_caller_says():
    arn = "arn:aws:wafv2:us-east-1:111122223333:regional/rulegroup/mine/1"
    ref = {"RuleGroupReferenceStatement": {"ARN": arn}}
    assert capacity(acl(ref), rule_group_capacities={arn: 123}).total == 123
    unknown = capacity(acl(ref))
    assert unknown.total == 0 and unknown.unknown == (arn,)


def test_is_the_total_the_sum_of_the_rules_with_a_breakdown():
    report = capacity(
        acl(
            {
                "ManagedRuleGroupStatement": {
                    "VendorName": "AWS",
                    "Name": "AWSManagedRulesCommonRuleSet",
                }
            },
            byte_match("CONTAINS", transforms=[LOWER]),
        )
    )
    assert report.total == 720
    assert [(r.name, r.wcu) for r in report.rules] == [("r0", 700), ("r1", 20)]
    assert not report.over_limit and report.extra_blocks == 0


def test_does_an_acl_above_1500_pay_extra_per_started_500_and_above_5000_fail():
    core = {
        "ManagedRuleGroupStatement": {"VendorName": "AWS", "Name": "AWSManagedRulesCommonRuleSet"}
    }
    assert capacity(acl(core, core)).over_limit is False  # 1,400
    under = capacity(acl(core, core, byte_match("CONTAINS", transforms=[LOWER])))  # 1,420
    assert not under.over_limit
    three = capacity(acl(core, core, core))  # 2,100
    assert three.over_limit and three.extra_blocks == 2 and not three.over_maximum
    eight = capacity(acl(*[core] * 8))  # 5,600
    assert eight.over_maximum


def test_is_a_get_web_acl_answer_accepted_as_it_comes():
    wrapped = {"WebACL": acl(byte_match("EXACTLY")), "LockToken": "t"}
    assert capacity(wrapped).total == 2
    assert capacity(wrapped).to_json()["rules"][0]["wcu"] == 2
