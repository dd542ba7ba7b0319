"""Does the evaluator decide as WAF does: priority order, Count going on, labels, custom
responses, inserted headers, the default action, tokens, managed group overrides, rule
groups and rate limits over a timeline?"""

from __future__ import annotations

import pytest

from grader.aws.waf.acl import parse_web_acl
from grader.aws.waf.evaluate import NonexistentItemError, WebAclEvaluator, token_state
from grader.aws.waf.groups import GroupOutcome, RuleHit
from grader.aws.waf.request import WafRequest
from grader.aws.waf.statements import WafConfigError
from grader.aws.waf.verdict import CustomResponse, RuleMatchInfo
from tests.test_waf_acl import BOT_CONTROL, label_match, managed, rule, uri_starts, web_acl

NS = "awswaf:111122223333:webacl:lab:"
T0 = 1_700_000_000_000  # ms


def evaluator(document: dict, **kw) -> WebAclEvaluator:
    acl, _ = parse_web_acl(document)
    kw.setdefault("managed", {})
    return WebAclEvaluator(acl, **kw)


def req(uri: str = "/", **kw) -> WafRequest:
    kw.setdefault("client_ip", "192.0.2.10")
    kw.setdefault("timestamp_ms", T0)
    return WafRequest(uri=uri, **kw)


def count_with(*headers: tuple[str, str], kind: str = "Count") -> dict:
    inserted = [{"Name": n, "Value": v} for n, v in headers]
    return {kind: {"CustomRequestHandling": {"InsertHeaders": inserted}}}


def test_does_the_lowest_priority_decide_whatever_the_list_order():
    ev = evaluator(
        web_acl(
            rule("block", 20, uri_starts("/a"), "Block"),
            rule("allow", 10, uri_starts("/a"), "Allow"),
        )
    )
    verdict = ev.evaluate(req("/a/x"))
    assert (verdict.action, verdict.terminating_rule_id) == ("ALLOW", "allow")


def test_does_a_count_rule_let_evaluation_go_on_keeping_labels_and_headers():
    ev = evaluator(
        web_acl(
            rule("tag", 1, uri_starts("/"), count_with(("seen", "1")), labels=("seen",)),
            rule("allow", 2, uri_starts("/a"), count_with(("ok", "yes"), kind="Allow")),
        )
    )
    verdict = ev.evaluate(req("/a"))
    assert verdict.action == "ALLOW" and verdict.terminating_rule_id == "allow"
    assert verdict.non_terminating == (RuleMatchInfo("tag", "COUNT"),)
    assert verdict.labels == (NS + "seen",)
    assert verdict.inserted_headers == (("x-amzn-waf-seen", "1"), ("x-amzn-waf-ok", "yes"))


def test_does_a_block_after_a_count_drop_the_inserted_headers_but_keep_labels():
    ev = evaluator(
        web_acl(
            rule("tag", 1, uri_starts("/"), count_with(("seen", "1")), labels=("seen",)),
            rule("block", 2, uri_starts("/a"), "Block"),
        )
    )
    verdict = ev.evaluate(req("/a"))
    assert (verdict.action, verdict.inserted_headers, verdict.labels) == (
        "BLOCK",
        (),
        (NS + "seen",),
    )
    assert verdict.custom_response is None  # WAF's own 403


def test_can_only_a_later_rule_match_a_label():
    adds = rule("adds", 2, uri_starts("/admin"), "Count", labels=("admin",))
    uses_before = rule("uses", 1, label_match("admin"), "Block")
    assert evaluator(web_acl(uses_before, adds)).evaluate(req("/admin")).action == "ALLOW"
    uses_after = rule("uses", 3, label_match("admin"), "Block")
    verdict = evaluator(web_acl(adds, uses_after)).evaluate(req("/admin"))
    assert (verdict.action, verdict.terminating_rule_id) == ("BLOCK", "uses")
    assert evaluator(web_acl(adds, uses_after)).evaluate(req("/home")).action == "ALLOW"


def test_does_a_block_send_its_custom_response_and_body():
    action = {
        "Block": {
            "CustomResponse": {
                "ResponseCode": 429,
                "CustomResponseBodyKey": "slow",
                "ResponseHeaders": [{"Name": "Retry-After", "Value": "60"}],
            }
        }
    }
    bodies = {"slow": {"ContentType": "APPLICATION_JSON", "Content": '{"error": "slow down"}'}}
    ev = evaluator(
        web_acl(rule("limit", 1, uri_starts("/api"), action), CustomResponseBodies=bodies)
    )
    assert ev.evaluate(req("/api")).custom_response == CustomResponse(
        429, (("Retry-After", "60"),), '{"error": "slow down"}', "application/json"
    )


def test_does_the_default_action_apply_when_nothing_terminates():
    bodies = {"no": {"ContentType": "TEXT_HTML", "Content": "<p>no</p>"}}
    default = {"Block": {"CustomResponse": {"ResponseCode": 404, "CustomResponseBodyKey": "no"}}}
    ev = evaluator(
        web_acl(
            rule("tag", 1, uri_starts("/"), "Count", labels=("t",)),
            default=default,
            CustomResponseBodies=bodies,
        )
    )
    verdict = ev.evaluate(req("/x"))
    assert (verdict.action, verdict.terminating_rule_id) == ("BLOCK", "Default_Action")
    assert verdict.custom_response == CustomResponse(404, (), "<p>no</p>", "text/html")
    allow = evaluator(web_acl(default={"Allow": count_with(("via", "waf"))["Count"]}))
    assert allow.evaluate(req()).inserted_headers == (("x-amzn-waf-via", "waf"),)


def token(solved_ms: int) -> tuple[tuple[str, str], ...]:
    return (("Cookie", f"lang=en; aws-waf-token=sess42:{solved_ms // 1000}"),)


def captcha_acl(kind: str = "Captcha", **rule_extra) -> dict:
    r = rule("login", 1, uri_starts("/login"), count_with(("human", "1"), kind=kind))
    r.update(rule_extra)
    return web_acl(r, rule("after", 2, label_match("awswaf:managed:token:accepted"), "Count"))


def test_does_a_captcha_stop_a_request_without_a_token():
    verdict = evaluator(captcha_acl()).evaluate(req("/login"))
    assert (verdict.action, verdict.terminating_rule_id) == ("CAPTCHA", "login")
    assert verdict.labels == ("awswaf:managed:token:absent",)
    assert verdict.custom_response.status == 405


def test_does_a_valid_token_let_a_captcha_rule_act_like_count():
    verdict = evaluator(captcha_acl()).evaluate(req("/login", headers=token(T0 - 100_000)))
    assert verdict.action == "ALLOW"
    assert verdict.non_terminating == (
        RuleMatchInfo("login", "CAPTCHA"),
        RuleMatchInfo("after", "COUNT"),
    )
    assert verdict.labels == ("awswaf:managed:token:accepted",)
    assert verdict.inserted_headers == (("x-amzn-waf-human", "1"),)


def test_is_a_token_older_than_the_immunity_time_rejected():
    old = req("/login", headers=token(T0 - 301_000))
    verdict = evaluator(captcha_acl()).evaluate(old)
    assert verdict.action == "CAPTCHA"
    assert verdict.labels == ("awswaf:managed:token:rejected",)
    longer = captcha_acl(CaptchaConfig={"ImmunityTimeProperty": {"ImmunityTime": 600}})
    assert evaluator(longer).evaluate(old).action == "ALLOW"


def test_does_a_challenge_answer_202_and_honour_the_token():
    verdict = evaluator(captcha_acl("Challenge")).evaluate(req("/login"))
    assert (verdict.action, verdict.custom_response.status) == ("CHALLENGE", 202)
    fresh = req("/login", headers=token(T0))
    assert evaluator(captcha_acl("Challenge")).evaluate(fresh).action == "ALLOW"


@pytest.mark.parametrize(
    ("cookie", "expected"),
    [
        ("aws-waf-token=1700000000", "accepted"),
        ("aws-waf-token=garbage", "rejected"),
        ("a=b", "absent"),
    ],
)
def test_does_the_token_model_read_the_solve_time(cookie, expected):
    assert token_state(req(headers=(("Cookie", cookie),)), 300) == expected


# --- managed rule groups, with a fake model -----------------------------------------------

BOT = "awswaf:managed:aws:bot-control:"
HITS = (
    RuleHit("SignalNonBrowserUserAgent", "Block", (BOT + "signal:non_browser_user_agent",)),
    RuleHit("CategoryHttpLibrary", "Block", (BOT + "bot:category:http_library",)),
)


class FakeGroup:
    """A managed group model that records what it was asked."""

    def __init__(self, hits=HITS, inspected=True):
        self.hits, self.inspected, self.calls = hits, inspected, []

    def __call__(self, request, config):
        self.calls.append((request.uri, config))
        return GroupOutcome(self.hits, self.inspected)


def bots(fake: FakeGroup, *rules: dict, override="None", **statement) -> WebAclEvaluator:
    group_rule = rule("bots", 0, managed(**statement), override=override)
    return evaluator(web_acl(group_rule, *rules), managed={("AWS", BOT_CONTROL): fake})


def test_does_a_group_hit_end_evaluation_with_its_own_action():
    verdict = bots(FakeGroup()).evaluate(req())
    assert verdict.action == "BLOCK"
    assert verdict.terminating_rule_id == "SignalNonBrowserUserAgent"
    assert verdict.terminating_rule_type == "MANAGED_RULE_GROUP"
    assert verdict.terminating_rule_group == BOT_CONTROL
    assert verdict.labels == (BOT + "signal:non_browser_user_agent",)  # later hits not reached
    assert verdict.inspected_by == frozenset({BOT_CONTROL})


def test_does_an_excluded_rule_count_and_let_the_next_hit_decide():
    verdict = bots(FakeGroup(), ExcludedRules=[{"Name": "SignalNonBrowserUserAgent"}]).evaluate(
        req()
    )
    assert verdict.terminating_rule_id == "CategoryHttpLibrary"
    assert verdict.non_terminating == (
        RuleMatchInfo("SignalNonBrowserUserAgent", "COUNT", BOT_CONTROL),
    )
    assert len(verdict.labels) == 2


def test_does_a_rule_action_override_replace_the_hit_action():
    overrides = [{"Name": "SignalNonBrowserUserAgent", "ActionToUse": {"Allow": {}}}]
    verdict = bots(FakeGroup(), RuleActionOverrides=overrides).evaluate(req())
    assert (verdict.action, verdict.terminating_rule_id) == ("ALLOW", "SignalNonBrowserUserAgent")


def test_does_override_action_count_keep_the_labels_for_later_rules():
    later = rule("block-libs", 5, label_match(BOT + "bot:category:http_library"), "Block")
    verdict = bots(FakeGroup(), later, override="Count").evaluate(req())
    assert (verdict.action, verdict.terminating_rule_id) == ("BLOCK", "block-libs")
    assert [m.action for m in verdict.non_terminating] == ["COUNT", "COUNT"]
    assert verdict.labels == tuple(label for hit in HITS for label in hit.labels)


def test_does_a_false_scope_down_keep_the_request_out_of_the_group():
    fake = FakeGroup()
    ev = bots(fake, ScopeDownStatement=uri_starts("/login"))
    outside = ev.evaluate(req("/home"))
    assert (outside.action, outside.inspected_by, outside.labels) == ("ALLOW", frozenset(), ())
    assert fake.calls == []
    assert ev.evaluate(req("/login")).action == "BLOCK"
    assert [uri for uri, _ in fake.calls] == ["/login"]


def test_does_the_model_get_the_merged_group_configs():
    fake = FakeGroup(hits=())
    configs = [{"AWSManagedRulesBotControlRuleSet": {"InspectionLevel": "TARGETED"}}]
    bots(fake, ManagedRuleGroupConfigs=configs).evaluate(req())
    assert fake.calls[0][1] == {"AWSManagedRulesBotControlRuleSet": {"InspectionLevel": "TARGETED"}}


def test_is_a_group_that_did_not_inspect_left_out_of_inspected_by():
    verdict = bots(FakeGroup(hits=(), inspected=False)).evaluate(req())
    assert verdict.inspected_by == frozenset()


def test_are_labels_only_hits_labels_and_not_matches():
    fake = FakeGroup(
        hits=(RuleHit("(labels without a matching rule)", "Count", (BOT + "bot:verified",)),)
    )
    verdict = bots(fake).evaluate(req())
    assert verdict.labels == (BOT + "bot:verified",) and verdict.non_terminating == ()


def test_is_an_unregistered_managed_group_a_warning_that_matches_nothing():
    ev = evaluator(web_acl(rule("crs", 0, managed("AWSManagedRulesPHPRuleSet"), override="None")))
    assert ev.evaluate(req()).action == "ALLOW"
    assert "AWSManagedRulesPHPRuleSet" in ev.warnings[0]


# --- rule groups and sets ---------------------------------------------------------------------

GROUP_ARN = "arn:aws:wafv2:us-east-1:111122223333:global/rulegroup/admin-guard/9f8e"
IPSET_ARN = "arn:aws:wafv2:us-east-1:111122223333:global/ipset/office/1a2b"


def admin_group() -> dict:
    return {
        "RuleGroup": {
            "Name": "admin-guard",
            "ARN": GROUP_ARN,
            "Capacity": 50,
            "Rules": [
                rule("tag-admin", 0, uri_starts("/admin"), "Count", labels=("admin",)),
                rule("deny-admin", 1, label_match("admin"), "Block"),
            ],
            "VisibilityConfig": {
                "SampledRequestsEnabled": False,
                "CloudWatchMetricsEnabled": False,
                "MetricName": "g",
            },
        },
        "LockToken": "x",
    }


def group_acl(**statement) -> dict:
    ref = {"RuleGroupReferenceStatement": {"ARN": GROUP_ARN, **statement}}
    return web_acl(rule("guard", 1, ref, override="None"))


def test_does_a_rule_group_run_in_its_own_label_namespace():
    ev = evaluator(group_acl(), rule_groups={GROUP_ARN: admin_group()})
    verdict = ev.evaluate(req("/admin"))
    assert verdict.action == "BLOCK"
    assert (verdict.terminating_rule_id, verdict.terminating_rule_type) == ("deny-admin", "GROUP")
    assert verdict.terminating_rule_group == "admin-guard"
    assert verdict.labels == ("awswaf:111122223333:rulegroup:admin-guard:admin",)


def test_does_a_rule_action_override_reach_a_rule_group_rule():
    overrides = [{"Name": "deny-admin", "ActionToUse": {"Count": {}}}]
    ev = evaluator(group_acl(RuleActionOverrides=overrides), rule_groups={GROUP_ARN: admin_group()})
    verdict = ev.evaluate(req("/admin"))
    assert verdict.action == "ALLOW"
    assert RuleMatchInfo("deny-admin", "COUNT", "admin-guard") in verdict.non_terminating


def test_is_a_missing_ip_set_an_error():
    ipset = {"IPSetReferenceStatement": {"ARN": IPSET_ARN}}
    with pytest.raises(NonexistentItemError) as info:
        evaluator(web_acl(rule("office", 1, ipset, "Allow")))
    assert info.value.json_path == "Rules[0].Statement"


def test_a_rule_group_not_supplied_is_a_warning_and_matches_nothing():
    """As an unmodelled managed group: said once, never a crash, and the request goes on."""
    ev = evaluator(group_acl())
    assert any("was not supplied" in w and GROUP_ARN in w for w in ev.warnings)
    verdict = ev.evaluate(req("/admin"))
    assert verdict.action == "ALLOW" and verdict.terminating_rule_id == "Default_Action"


def test_is_an_ip_set_found_by_arn_in_the_api_shape():
    ipset = {"IPSetReferenceStatement": {"ARN": IPSET_ARN}}
    document = web_acl(rule("office", 1, ipset, "Block"))
    sets = {
        IPSET_ARN: {
            "IPSet": {"Name": "office", "IPAddressVersion": "IPV4", "Addresses": ["192.0.2.0/24"]}
        }
    }
    ev = evaluator(document, ip_sets=sets)
    assert ev.evaluate(req(client_ip="192.0.2.99")).action == "BLOCK"
    assert ev.evaluate(req(client_ip="198.51.100.1")).action == "ALLOW"


# --- rate-based rules ---------------------------------------------------------------------------


def rate_acl(limit: int = 10, window: int = 60, key="IP", **extra) -> dict:
    statement = {
        "RateBasedStatement": {
            "Limit": limit,
            "EvaluationWindowSec": window,
            "AggregateKeyType": key,
            "ScopeDownStatement": uri_starts("/login"),
            **extra,
        }
    }
    return web_acl(rule("login-rate", 1, statement, "Block"))


def test_does_a_rate_rule_block_only_over_the_limit_within_the_window():
    ev = evaluator(rate_acl())
    ip = "203.0.113.5"
    # Ten logins in ten seconds: at the limit, not over it.
    first = [
        ev.evaluate(req("/login", client_ip=ip, timestamp_ms=T0 + i * 1000)) for i in range(10)
    ]
    assert {v.action for v in first} == {"ALLOW"}
    # Pages outside the scope-down are neither counted nor limited.
    assert ev.evaluate(req("/home", client_ip=ip, timestamp_ms=T0 + 10_500)).action == "ALLOW"
    eleventh = ev.evaluate(req("/login", client_ip=ip, timestamp_ms=T0 + 11_000))
    assert (eleventh.action, eleventh.terminating_rule_type) == ("BLOCK", "RATE_BASED")
    # Another client has its own count.
    assert (
        ev.evaluate(req("/login", client_ip="203.0.113.6", timestamp_ms=T0 + 12_000)).action
        == "ALLOW"
    )
    # Once the window has slid past the burst, the client is let through again.
    later = ev.evaluate(req("/login", client_ip=ip, timestamp_ms=T0 + 75_000))
    assert later.action == "ALLOW"


def test_does_a_header_key_count_each_value_apart_and_skip_requests_without_it():
    keys = [
        {"Header": {"Name": "x-api-key", "TextTransformations": [{"Priority": 0, "Type": "NONE"}]}}
    ]
    ev = evaluator(rate_acl(key="CUSTOM_KEYS", CustomKeys=keys))
    for i in range(10):
        ev.evaluate(req("/login", headers=(("X-Api-Key", "k1"),), timestamp_ms=T0 + i))
    assert (
        ev.evaluate(req("/login", headers=(("X-Api-Key", "k1"),), timestamp_ms=T0 + 20)).action
        == "BLOCK"
    )
    assert (
        ev.evaluate(req("/login", headers=(("X-Api-Key", "k2"),), timestamp_ms=T0 + 21)).action
        == "ALLOW"
    )
    for i in range(12):  # no key header: not aggregated, never limited
        assert ev.evaluate(req("/login", timestamp_ms=T0 + 30 + i)).action == "ALLOW"


def test_does_a_forwarded_ip_key_count_the_header_address():
    forwarded = {"HeaderName": "X-Forwarded-For", "FallbackBehavior": "NO_MATCH"}
    ev = evaluator(rate_acl(key="FORWARDED_IP", ForwardedIPConfig=forwarded))
    verdicts = [
        ev.evaluate(
            req(
                "/login",
                client_ip=f"10.0.0.{i}",  # many proxies, one client behind them
                headers=(("X-Forwarded-For", "198.51.100.9, 10.0.0.1"),),
                timestamp_ms=T0 + i,
            )
        )
        for i in range(11)
    ]
    assert [v.action for v in verdicts][-2:] == ["ALLOW", "BLOCK"]


def test_does_a_constant_key_limit_all_matching_requests_together():
    ev = evaluator(rate_acl(key="CONSTANT"))
    actions = [
        ev.evaluate(req("/login", client_ip=f"198.51.100.{i}", timestamp_ms=T0 + i)).action
        for i in range(11)
    ]
    assert actions == ["ALLOW"] * 10 + ["BLOCK"]


def test_does_a_label_namespace_key_count_requests_per_label():
    tag = rule("tag", 0, uri_starts("/login"), "Count", labels=("tier:gold",))
    statement = {
        "RateBasedStatement": {
            "Limit": 10,
            "AggregateKeyType": "CUSTOM_KEYS",
            "CustomKeys": [{"LabelNamespace": {"Namespace": NS + "tier:"}}],
        }
    }
    ev = evaluator(web_acl(tag, rule("per-tier", 1, statement, "Block")))
    actions = [ev.evaluate(req("/login", timestamp_ms=T0 + i)).action for i in range(11)]
    assert actions[-2:] == ["ALLOW", "BLOCK"]
    # Requests without a label in the namespace are not aggregated at all.
    assert ev.evaluate(req("/home", timestamp_ms=T0 + 20)).action == "ALLOW"


def test_does_a_group_captcha_hit_with_a_valid_token_go_on_as_captcha():
    fake = FakeGroup(hits=(RuleHit("TGT_VolumetricSession", "Captcha", (BOT + "x",)),))
    ev = bots(fake)
    passed = ev.evaluate(req(headers=token(T0)))
    assert passed.action == "ALLOW"
    assert passed.non_terminating == (
        RuleMatchInfo("TGT_VolumetricSession", "CAPTCHA", BOT_CONTROL),
    )
    stopped = ev.evaluate(req())
    assert (stopped.action, stopped.terminating_rule_group) == ("CAPTCHA", BOT_CONTROL)


def test_does_a_rule_group_block_use_the_group_response_bodies():
    group = admin_group()
    group["RuleGroup"]["CustomResponseBodies"] = {
        "denied": {"ContentType": "TEXT_PLAIN", "Content": "admins only"}
    }
    group["RuleGroup"]["Rules"][1]["Action"] = {
        "Block": {"CustomResponse": {"ResponseCode": 401, "CustomResponseBodyKey": "denied"}}
    }
    ev = evaluator(group_acl(), rule_groups={GROUP_ARN: group})
    assert ev.evaluate(req("/admin")).custom_response == CustomResponse(
        401, (), "admins only", "text/plain"
    )


def test_does_a_geo_rule_leave_its_country_label_on_the_request():
    geo = {"GeoMatchStatement": {"CountryCodes": ["KP"]}}
    ev = evaluator(web_acl(rule("geo", 1, geo, "Block")))
    verdict = ev.evaluate(req(country="JP"))
    assert (verdict.action, verdict.labels) == ("ALLOW", ("awswaf:clientip:geo:country:JP",))


def test_does_an_override_keep_its_own_custom_settings():
    overrides = [
        {
            "Name": "SignalNonBrowserUserAgent",
            "ActionToUse": {"Count": count_with(("suspect", "1"))["Count"]},
        },
        {
            "Name": "CategoryHttpLibrary",
            "ActionToUse": {
                "Block": {"CustomResponse": {"ResponseCode": 403, "CustomResponseBodyKey": "bot"}}
            },
        },
    ]
    group_rule = rule("bots", 0, managed(RuleActionOverrides=overrides), override="None")
    bodies = {"bot": {"ContentType": "TEXT_PLAIN", "Content": "no bots"}}
    ev = evaluator(
        web_acl(group_rule, CustomResponseBodies=bodies),
        managed={("AWS", BOT_CONTROL): FakeGroup()},
    )
    verdict = ev.evaluate(req())
    assert verdict.terminating_rule_id == "CategoryHttpLibrary"
    assert verdict.custom_response == CustomResponse(403, (), "no bots", "text/plain")
    only_count = evaluator(
        web_acl(group_rule, CustomResponseBodies=bodies),
        managed={("AWS", BOT_CONTROL): FakeGroup(hits=HITS[:1])},
    )
    assert only_count.evaluate(req()).inserted_headers == (("x-amzn-waf-suspect", "1"),)


def test_is_an_override_with_an_undefined_body_key_refused():
    overrides = [
        {
            "Name": "CategoryHttpLibrary",
            "ActionToUse": {
                "Block": {"CustomResponse": {"ResponseCode": 403, "CustomResponseBodyKey": "nope"}}
            },
        }
    ]
    with pytest.raises(WafConfigError) as info:
        parse_web_acl(
            web_acl(rule("bots", 0, managed(RuleActionOverrides=overrides), override="None"))
        )
    assert info.value.json_path == (
        "Rules[0].Statement.ManagedRuleGroupStatement.RuleActionOverrides[0]"
        ".ActionToUse.Block.CustomResponse.CustomResponseBodyKey"
    )


def test_does_a_broken_rule_group_error_say_which_group():
    group = admin_group()
    group["RuleGroup"]["Rules"][1]["Priority"] = 0
    with pytest.raises(WafConfigError) as info:
        evaluator(group_acl(), rule_groups={GROUP_ARN: group})
    assert info.value.json_path == f'"{GROUP_ARN}".Rules[1].Priority'
