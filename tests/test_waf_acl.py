"""Does loading a web ACL accept what WAF accepts, refuse what it refuses (saying where), and
warn about label matches that nothing earlier can satisfy?"""

from __future__ import annotations

import contextlib
import copy
import json

import pytest

from grader.aws.errors import GraderError
from grader.aws.waf.acl import (
    WafParameterError,
    WafValidationError,
    load_web_acl,
    parse_web_acl,
)
from grader.aws.waf.statements import WafConfigError

BOT_CONTROL = "AWSManagedRulesBotControlRuleSet"


def visibility(name: str) -> dict:
    return {"SampledRequestsEnabled": True, "CloudWatchMetricsEnabled": True, "MetricName": name}


def uri_starts(path: str) -> dict:
    return {
        "ByteMatchStatement": {
            "SearchString": path,
            "FieldToMatch": {"UriPath": {}},
            "TextTransformations": [{"Priority": 0, "Type": "NONE"}],
            "PositionalConstraint": "STARTS_WITH",
        }
    }


def label_match(key: str, scope: str = "LABEL") -> dict:
    return {"LabelMatchStatement": {"Scope": scope, "Key": key}}


def managed(name: str = BOT_CONTROL, **extra) -> dict:
    return {"ManagedRuleGroupStatement": {"VendorName": "AWS", "Name": name, **extra}}


def rule(name: str, priority: int, statement: dict, action=None, *, override=None, labels=()):
    """A Rule in the API's shape: ``action`` ("Block", or a full RuleAction dict), or
    ``override`` ("None"/"Count") for a rule group statement."""
    r = {"Name": name, "Priority": priority, "Statement": statement}
    if override is not None:
        r["OverrideAction"] = {override: {}}
    elif isinstance(action, dict):
        r["Action"] = action
    else:
        r["Action"] = {action or "Block": {}}
    if labels:
        r["RuleLabels"] = [{"Name": label} for label in labels]
    r["VisibilityConfig"] = visibility(name)
    return r


def web_acl(*rules: dict, default=None, **extra) -> dict:
    """A CreateWebACL request."""
    return {
        "Name": "lab",
        "Scope": "CLOUDFRONT",
        "DefaultAction": default or {"Allow": {}},
        "Rules": list(rules),
        "VisibilityConfig": visibility("lab"),
        **extra,
    }


def refused(document: dict, error=WafConfigError) -> WafConfigError:
    with pytest.raises(error) as info:
        parse_web_acl(document)
    return info.value


def test_does_a_valid_web_acl_load_with_rules_in_priority_order():
    acl, warnings = parse_web_acl(
        web_acl(rule("b", 20, uri_starts("/b")), rule("a", 5, uri_starts("/a")))
    )
    assert [r.name for r in acl.rules] == ["a", "b"]
    assert acl.label_namespace == "awswaf:111122223333:webacl:lab:"
    assert warnings == ()


def test_is_the_account_in_the_label_namespace_configurable():
    acl, _ = parse_web_acl(web_acl(), account="444455556666")
    assert acl.label_namespace == "awswaf:444455556666:webacl:lab:"


def test_does_a_get_web_acl_export_load_as_the_same_web_acl():
    request = web_acl(
        rule("bots", 0, managed(), override="Count"),
        rule("admin", 1, uri_starts("/admin"), labels=("admin",)),
    )
    exported = {k: v for k, v in copy.deepcopy(request).items() if k != "Scope"}
    exported.update(
        Id="a1b2c3",
        ARN="arn:aws:wafv2:us-east-1:111122223333:global/webacl/lab/a1b2c3",
        Capacity=1100,
        LabelNamespace="awswaf:111122223333:webacl:lab:",
        ManagedByFirewallManager=False,
        RetrofittedByFirewallManager=False,
        PreProcessFirewallManagerRuleGroups=[],
        PostProcessFirewallManagerRuleGroups=[],
    )
    wrapped = {"WebACL": exported, "LockToken": "0f1e2d", "ApplicationIntegrationURL": "x"}
    from_request, _ = parse_web_acl(request)
    from_export, _ = parse_web_acl(wrapped)
    assert from_export == from_request
    assert from_export.scope == "CLOUDFRONT"  # from the ARN's "global/"


def test_is_a_read_only_member_in_a_create_request_refused():
    error = refused(web_acl(Capacity=3), WafParameterError)
    assert error.json_path == "Capacity"


def test_is_a_missing_required_member_refused_with_its_path():
    document = web_acl()
    del document["DefaultAction"]
    error = refused(document, WafParameterError)
    assert error.json_path == "DefaultAction"
    assert 'Missing required parameter in input: "DefaultAction"' in str(error)


def test_is_a_wrong_type_refused_with_its_path():
    bad = rule("a", 1, uri_starts("/a"))
    bad["Priority"] = "1"
    error = refused(web_acl(bad), WafParameterError)
    assert error.json_path == "Rules[0].Priority"
    assert "Invalid type for parameter Rules[0].Priority" in error.message


def test_is_an_unknown_statement_refused_with_its_path():
    error = refused(web_acl(rule("a", 1, {"UriMatchStatement": {}})), WafParameterError)
    assert error.json_path == "Rules[0].Statement.UriMatchStatement"
    assert "Unknown parameter" in error.message


def test_is_a_value_outside_an_enum_refused_with_the_allowed_values():
    statement = uri_starts("/a")
    statement["ByteMatchStatement"]["PositionalConstraint"] = "BEGINS_WITH"
    error = refused(web_acl(rule("a", 1, statement)), WafValidationError)
    assert error.json_path == "Rules[0].Statement.ByteMatchStatement.PositionalConstraint"
    assert "STARTS_WITH" in error.message and "BEGINS_WITH" in error.message


@pytest.mark.parametrize("statement", [{}, {**uri_starts("/a"), **label_match("x")}])
def test_is_a_statement_with_none_or_two_types_refused(statement):
    error = refused(web_acl(rule("a", 1, statement)))
    assert error.json_path == "Rules[0].Statement"
    assert "none or multiple values" in error.message
    assert str(error).startswith("Rules[0].Statement: WAFInvalidParameterException: Error reason:")


def test_does_a_rule_group_statement_need_override_action_not_action():
    error = refused(web_acl(rule("bots", 1, managed(), "Count")))
    assert error.json_path == "Rules[0].Action"
    assert "OverrideAction" in error.message


def test_does_a_plain_statement_need_action_not_override_action():
    error = refused(web_acl(rule("a", 1, uri_starts("/a"), override="None")))
    assert error.json_path == "Rules[0].OverrideAction"


def test_does_a_rule_need_one_of_action_or_override_action():
    bare = rule("a", 1, uri_starts("/a"))
    del bare["Action"]
    assert refused(web_acl(bare)).json_path == "Rules[0].Action"


def test_is_a_duplicate_priority_refused_naming_the_other_rule():
    error = refused(web_acl(rule("a", 1, uri_starts("/a")), rule("b", 1, uri_starts("/b"))))
    assert error.json_path == "Rules[1].Priority"
    assert "Rules[0]" in error.message


def test_is_a_duplicate_rule_name_refused():
    error = refused(web_acl(rule("a", 1, uri_starts("/a")), rule("a", 2, uri_starts("/b"))))
    assert error.json_path == "Rules[1].Name"


def block_with(response: dict) -> dict:
    return {"Block": {"CustomResponse": response}}


def test_is_an_undefined_custom_response_body_key_refused():
    action = block_with({"ResponseCode": 403, "CustomResponseBodyKey": "denied"})
    error = refused(web_acl(rule("a", 1, uri_starts("/a"), action)))
    assert error.json_path == "Rules[0].Action.Block.CustomResponse.CustomResponseBodyKey"
    bodies = {"denied": {"ContentType": "TEXT_PLAIN", "Content": "no"}}
    parse_web_acl(web_acl(rule("a", 1, uri_starts("/a"), action), CustomResponseBodies=bodies))


def test_is_an_undefined_body_key_in_the_default_action_refused():
    default = block_with({"ResponseCode": 403, "CustomResponseBodyKey": "gone"})
    assert refused(web_acl(default=default)).json_path == (
        "DefaultAction.Block.CustomResponse.CustomResponseBodyKey"
    )


@pytest.mark.parametrize("code", [600, 418, 299])
def test_is_an_unsupported_status_code_refused(code):
    error = refused(web_acl(rule("a", 1, uri_starts("/a"), block_with({"ResponseCode": code}))))
    assert error.json_path == "Rules[0].Action.Block.CustomResponse.ResponseCode"


def test_is_a_status_code_below_200_refused_by_the_api_shapes():
    action = block_with({"ResponseCode": 199})
    assert refused(web_acl(rule("a", 1, uri_starts("/a"), action)), WafParameterError)


@pytest.mark.parametrize("code", [200, 302, 403, 429, 503])
def test_are_the_documented_status_codes_accepted(code):
    acl, _ = parse_web_acl(
        web_acl(rule("a", 1, uri_starts("/a"), block_with({"ResponseCode": code})))
    )
    assert acl.rules[0].action.response.status == code


def test_are_insert_headers_on_block_refused_by_the_api_shapes():
    action = {"Block": {"CustomRequestHandling": {"InsertHeaders": [{"Name": "x", "Value": "1"}]}}}
    error = refused(web_acl(rule("a", 1, uri_starts("/a"), action)), WafParameterError)
    assert error.json_path == "Rules[0].Action.Block.CustomRequestHandling"


@pytest.mark.parametrize("kind", ["Allow", "Count", "Captcha"])
def test_is_a_custom_response_outside_block_refused(kind):
    action = {kind: {"CustomResponse": {"ResponseCode": 403}}}
    error = refused(web_acl(rule("a", 1, uri_starts("/a"), action)), WafParameterError)
    assert error.json_path == f"Rules[0].Action.{kind}.CustomResponse"


def test_are_inserted_header_names_prefixed_as_waf_does():
    action = {
        "Count": {"CustomRequestHandling": {"InsertHeaders": [{"Name": "bot", "Value": "1"}]}}
    }
    acl, _ = parse_web_acl(web_acl(rule("a", 1, uri_starts("/a"), action)))
    assert acl.rules[0].action.insert_headers == (("x-amzn-waf-bot", "1"),)


def test_is_a_label_match_before_the_rule_that_adds_the_label_a_warning():
    document = web_acl(
        rule("uses", 1, label_match("admin")),
        rule("adds", 2, uri_starts("/admin"), "Count", labels=("admin",)),
    )
    acl, warnings = parse_web_acl(document)
    assert [w.json_path for w in warnings] == ["Rules[0].Statement"]
    assert "'uses'" in warnings[0].message


def test_is_a_label_match_after_the_rule_that_adds_the_label_silent():
    document = web_acl(
        rule("adds", 1, uri_starts("/admin"), "Count", labels=("admin",)),
        rule("uses", 2, label_match("admin")),
        rule("ns", 3, label_match("awswaf:111122223333:webacl:lab:", "NAMESPACE")),
    )
    assert parse_web_acl(document)[1] == ()


def test_does_a_managed_group_count_as_emitting_its_documented_namespace():
    verified = "awswaf:managed:aws:bot-control:bot:verified"
    after = web_acl(
        rule("bots", 1, managed(), override="Count"), rule("ok", 2, label_match(verified), "Allow")
    )
    assert parse_web_acl(after)[1] == ()
    before = web_acl(
        rule("ok", 1, label_match(verified), "Allow"), rule("bots", 2, managed(), override="Count")
    )
    assert len(parse_web_acl(before)[1]) == 1


def test_is_a_label_from_another_group_than_the_one_earlier_a_warning():
    document = web_acl(
        rule("crs", 1, managed("AWSManagedRulesCommonRuleSet"), override="None"),
        rule("ok", 2, label_match("awswaf:managed:aws:bot-control:bot:verified"), "Allow"),
    )
    assert len(parse_web_acl(document)[1]) == 1


def test_does_a_file_error_name_the_file(tmp_path):
    path = tmp_path / "acl.json"
    path.write_text(json.dumps(web_acl(rule("a", 1, {}))), encoding="utf-8")
    with pytest.raises(WafConfigError) as info:
        load_web_acl(path)
    assert str(info.value).startswith(f"{path} at Rules[0].Statement:")
    path.write_text(json.dumps(web_acl(rule("a", 1, uri_starts("/a")))), encoding="utf-8")
    acl, _ = load_web_acl(path)
    assert acl.name == "lab"


RICH = web_acl(
    rule(
        "bots",
        0,
        managed(
            ScopeDownStatement=uri_starts("/"),
            ExcludedRules=[{"Name": "SignalNonBrowserUserAgent"}],
            RuleActionOverrides=[{"Name": "CategoryAI", "ActionToUse": {"Count": {}}}],
        ),
        override="Count",
    ),
    rule(
        "mix",
        1,
        {
            "AndStatement": {
                "Statements": [uri_starts("/a"), {"NotStatement": {"Statement": label_match("x")}}]
            }
        },
        {"Block": {"CustomResponse": {"ResponseCode": 403, "CustomResponseBodyKey": "k"}}},
        labels=("l",),
    ),
    rule(
        "rate",
        2,
        {
            "RateBasedStatement": {
                "Limit": 10,
                "AggregateKeyType": "CUSTOM_KEYS",
                "CustomKeys": [
                    {
                        "Header": {
                            "Name": "x",
                            "TextTransformations": [{"Priority": 0, "Type": "NONE"}],
                        }
                    }
                ],
            }
        },
        "Captcha",
    ),
    CustomResponseBodies={"k": {"ContentType": "TEXT_PLAIN", "Content": "no"}},
)


def _members(node, path=()):
    if isinstance(node, dict):
        for key, value in node.items():
            yield (*path, key)
            yield from _members(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield (*path, i)
            yield from _members(value, (*path, i))


def test_is_every_broken_member_an_input_error_never_a_crash():
    assert parse_web_acl(RICH)[0].name == "lab"
    for path in _members(RICH):
        for replacement in (None, "zz", {}):
            document = copy.deepcopy(RICH)
            parent = document
            for step in path[:-1]:
                parent = parent[step]
            if replacement is None:
                parent.pop(path[-1])
            else:
                parent[path[-1]] = replacement
            with contextlib.suppress(GraderError):  # anything else is a crash
                parse_web_acl(document)


def test_a_transformation_newer_than_the_installed_botocore_model_is_accepted():
    """TRIM and UPPERCASE are in the API reference's TextTransformationType even where the
    installed botocore lists only the older 21 types."""
    statement = uri_starts("/LOGIN")
    statement["ByteMatchStatement"]["TextTransformations"] = [
        {"Priority": 0, "Type": "TRIM"},
        {"Priority": 1, "Type": "UPPERCASE"},
    ]
    acl = web_acl(rule("r", 0, statement))
    parse_web_acl(acl)
    statement["ByteMatchStatement"]["TextTransformations"][0]["Type"] = "TRIMM"
    assert "enum value set" in str(refused(acl))


def test_statements_nested_hundreds_deep_are_an_input_error_not_a_crash():
    statement = {"GeoMatchStatement": {"CountryCodes": ["JP"]}}
    for _ in range(400):
        statement = {"NotStatement": {"Statement": statement}}
    error = refused(web_acl(rule("r", 0, statement)))
    assert "levels deep" in error.message
    assert error.json_path.startswith("Rules[0].Statement.NotStatement")


def test_a_block_that_answers_200_is_accepted_with_a_warning():
    """WAF's supported custom-response codes include 2xx, so it is not an error; but a
    refusal dressed as success misleads clients and monitoring, so the engine says so."""
    block = {"Block": {"CustomResponse": {"ResponseCode": 200}}}
    acl = web_acl(rule("r", 0, {"GeoMatchStatement": {"CountryCodes": ["KP"]}}, block))
    _, warnings = parse_web_acl(acl)
    assert [w.json_path for w in warnings] == ["Rules[0].Action.Block.CustomResponse.ResponseCode"]
    block["Block"]["CustomResponse"]["ResponseCode"] = 403
    assert parse_web_acl(acl)[1] == ()
