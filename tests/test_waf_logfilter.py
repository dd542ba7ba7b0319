"""Logging configurations: WAF's checks on loading, then which records a filter keeps."""

from __future__ import annotations

import json

import pytest

from grader.aws.errors import GraderError
from grader.aws.waf.logfilter import (
    apply_logging_configuration,
    apply_logging_filter,
    load_logging_configuration,
)

ACL_ARN = "arn:aws:wafv2:us-east-1:111122223333:regional/webacl/shop/1234"
FIREHOSE = "arn:aws:firehose:us-east-1:111122223333:deliverystream/aws-waf-logs-shop"
BOT = "awswaf:managed:aws:bot-control:bot:category:http_library"


def config(**extra):
    return {
        "LoggingConfiguration": {
            "ResourceArn": ACL_ARN,
            "LogDestinationConfigs": [FIREHOSE],
            **extra,
        }
    }


def record(action="ALLOW", labels=(), **extra):
    rec = {
        "action": action,
        "httpRequest": {
            "clientIp": "192.0.2.1",
            "uri": "/login",
            "args": "user=alice",
            "httpMethod": "POST",
            "headers": [
                {"name": "Authorization", "value": "secret"},
                {"name": "Host", "value": "x"},
            ],
        },
        **extra,
    }
    if labels:
        rec["labels"] = [{"name": name} for name in labels]
    return rec


def action_filter(behavior, *actions, requirement="MEETS_ANY"):
    return {
        "Behavior": behavior,
        "Requirement": requirement,
        "Conditions": [{"ActionCondition": {"Action": a}} for a in actions],
    }


# --- loading ----------------------------------------------------------------------------------


def test_is_a_request_and_its_inner_object_loaded_alike(tmp_path):
    wrapped = load_logging_configuration(config())
    inner = load_logging_configuration(config()["LoggingConfiguration"])
    assert wrapped == inner == config()
    path = tmp_path / "logging.json"
    path.write_text(json.dumps(config()))
    assert load_logging_configuration(path) == config()


@pytest.mark.parametrize(
    "destination",
    [
        "arn:aws:logs:us-east-1:111122223333:log-group:aws-waf-logs-shop",
        "arn:aws:logs:us-east-1:111122223333:log-group:aws-waf-logs-shop:*",
        "arn:aws:s3:::aws-waf-logs-shop",
        FIREHOSE,
    ],
)
def test_is_each_destination_type_accepted_with_the_prefix(destination):
    load_logging_configuration(config(LogDestinationConfigs=[destination]))


@pytest.mark.parametrize(
    "destination",
    [
        "arn:aws:logs:us-east-1:111122223333:log-group:waf-logs-shop",
        "arn:aws:s3:::shop-aws-waf-logs-",
        "arn:aws:firehose:us-east-1:111122223333:deliverystream/AWS-WAF-LOGS-shop",
        "arn:aws:sqs:us-east-1:111122223333:aws-waf-logs-shop",
    ],
)
def test_is_a_destination_without_the_prefix_refused_with_its_path(destination):
    with pytest.raises(GraderError) as err:
        load_logging_configuration(config(LogDestinationConfigs=[destination]))
    assert err.value.json_path == "LoggingConfiguration.LogDestinationConfigs[0]"


def test_is_more_than_one_destination_refused():
    with pytest.raises(GraderError, match="one logging destination"):
        load_logging_configuration(config(LogDestinationConfigs=[FIREHOSE, FIREHOSE]))


def test_does_a_missing_member_name_its_path():
    with pytest.raises(GraderError) as err:
        load_logging_configuration({"LoggingConfiguration": {"ResourceArn": ACL_ARN}})
    assert err.value.json_path == "LoggingConfiguration.LogDestinationConfigs"


def test_does_a_wrong_enum_value_name_the_allowed_ones():
    bad = config(
        LoggingFilter={
            "DefaultBehavior": "DROP",
            "Filters": [action_filter("KEEP", "DENY")],
        }
    )
    with pytest.raises(GraderError) as err:
        load_logging_configuration(bad)
    assert "EXCLUDED_AS_COUNT" in str(err.value)
    assert err.value.json_path.endswith("Conditions[0].ActionCondition.Action")


def test_is_a_field_waf_cannot_redact_refused():
    with pytest.raises(GraderError) as err:
        load_logging_configuration(config(RedactedFields=[{"Body": {}}]))
    assert err.value.json_path == "LoggingConfiguration.RedactedFields[0].Body"


def test_does_a_broken_file_give_its_line(tmp_path):
    path = tmp_path / "logging.json"
    path.write_text('{\n  "LoggingConfiguration": {,}\n}')
    with pytest.raises(GraderError) as err:
        load_logging_configuration(path)
    assert err.value.line == 2


# --- filtering --------------------------------------------------------------------------------


def test_does_no_filter_keep_everything():
    records = [record("ALLOW"), record("BLOCK")]
    assert apply_logging_filter(records, None) == records


def test_does_keep_block_with_default_drop_keep_only_blocked_requests():
    flt = {"DefaultBehavior": "DROP", "Filters": [action_filter("KEEP", "BLOCK")]}
    kept = apply_logging_filter([record("ALLOW"), record("BLOCK"), record("CAPTCHA")], flt)
    assert [r["action"] for r in kept] == ["BLOCK"]


def test_does_the_first_matching_filter_win():
    flt = {
        "DefaultBehavior": "KEEP",
        "Filters": [action_filter("DROP", "BLOCK"), action_filter("KEEP", "BLOCK")],
    }
    assert apply_logging_filter([record("BLOCK")], flt) == []


def test_does_meets_all_need_every_condition_and_meets_any_one():
    conditions = [
        {"ActionCondition": {"Action": "BLOCK"}},
        {"LabelNameCondition": {"LabelName": BOT}},
    ]
    records = [record("BLOCK"), record("BLOCK", [BOT]), record("ALLOW", [BOT])]
    every = {
        "DefaultBehavior": "DROP",
        "Filters": [{"Behavior": "KEEP", "Requirement": "MEETS_ALL", "Conditions": conditions}],
    }
    assert [len(r.get("labels", [])) for r in apply_logging_filter(records, every)] == [1]
    anyone = {
        "DefaultBehavior": "DROP",
        "Filters": [{"Behavior": "KEEP", "Requirement": "MEETS_ANY", "Conditions": conditions}],
    }
    assert len(apply_logging_filter(records, anyone)) == 3


def test_is_a_label_compared_whole_not_as_a_prefix():
    flt = {
        "DefaultBehavior": "DROP",
        "Filters": [
            {
                "Behavior": "KEEP",
                "Requirement": "MEETS_ANY",
                "Conditions": [
                    {"LabelNameCondition": {"LabelName": "awswaf:managed:aws:bot-control"}}
                ],
            }
        ],
    }
    assert apply_logging_filter([record("ALLOW", [BOT])], flt) == []


def test_does_count_match_a_rule_that_counted_an_allowed_request():
    counted = record("ALLOW", nonTerminatingMatchingRules=[{"ruleId": "bots", "action": "COUNT"}])
    flt = {"DefaultBehavior": "DROP", "Filters": [action_filter("KEEP", "COUNT")]}
    assert apply_logging_filter([record("ALLOW"), counted], flt) == [counted]


def test_does_excluded_as_count_match_excluded_and_overridden_group_rules():
    excluded = record(
        "ALLOW",
        ruleGroupList=[
            {
                "ruleGroupId": "AWS#AWSManagedRulesCommonRuleSet",
                "excludedRules": [
                    {"exclusionType": "EXCLUDED_AS_COUNT", "ruleId": "NoUserAgent_HEADER"}
                ],
            }
        ],
    )
    overridden = record(
        "ALLOW",
        ruleGroupList=[
            {
                "ruleGroupId": "AWS#AWSManagedRulesBotControlRuleSet",
                "nonTerminatingMatchingRules": [
                    {
                        "ruleId": "CategoryHttpLibrary",
                        "action": "COUNT",
                        "overriddenAction": "BLOCK",
                    }
                ],
            }
        ],
    )
    plain_count = record(
        "ALLOW", nonTerminatingMatchingRules=[{"ruleId": "mine", "action": "COUNT"}]
    )
    flt = {"DefaultBehavior": "DROP", "Filters": [action_filter("KEEP", "EXCLUDED_AS_COUNT")]}
    kept = apply_logging_filter([excluded, overridden, plain_count], flt)
    assert kept == [excluded, overridden]


def test_are_redacted_fields_blanked_in_kept_records_only_and_inputs_untouched():
    original = record("BLOCK")
    conf = config(
        RedactedFields=[{"SingleHeader": {"Name": "authorization"}}, {"QueryString": {}}],
        LoggingFilter={"DefaultBehavior": "KEEP", "Filters": [action_filter("DROP", "ALLOW")]},
    )
    kept = apply_logging_configuration(
        [original, record("ALLOW")], load_logging_configuration(conf)
    )
    assert len(kept) == 1
    http = kept[0]["httpRequest"]
    assert http["args"] == "REDACTED" and http["uri"] == "/login"
    assert http["headers"] == [
        {"name": "Authorization", "value": "REDACTED"},
        {"name": "Host", "value": "x"},
    ]
    assert original["httpRequest"]["headers"][0]["value"] == "secret"


def test_are_uri_and_method_redacted_too():
    kept = apply_logging_filter([record()], None, redacted_fields=[{"UriPath": {}}, {"Method": {}}])
    assert kept[0]["httpRequest"]["uri"] == "REDACTED"
    assert kept[0]["httpRequest"]["httpMethod"] == "REDACTED"
