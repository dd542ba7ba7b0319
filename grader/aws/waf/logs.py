"""WAF log records: what AWS WAF would write for one request and the web ACL's verdict.

The record has the documented fields of "Log fields for web ACL traffic"
(https://docs.aws.amazon.com/waf/latest/developerguide/logging-fields.html), in the shapes of
"Log examples for web ACL traffic"
(https://docs.aws.amazon.com/waf/latest/developerguide/logging-examples.html): the course's
log filters, lab checks and learners' queries read these records as they would read WAF's.

What a verdict does not say, the web ACL does (:class:`LogContext`): its ARN, which rules
reference rule groups (for ``ruleGroupList``) and which rules are rate-based (for
``rateBasedRuleList``).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from grader.aws.waf.request import WafRequest
from grader.aws.waf.traffic import http_request_json
from grader.aws.waf.verdict import RuleMatchInfo, Verdict

FORMAT_VERSION = 1
DEFAULT_ACCOUNT = "111122223333"
DEFAULT_REGION = "us-east-1"

# httpSourceName: "CF" for a CloudFront distribution, "ALB" for an Application Load
# Balancer; the other resource types log APIGW, APPSYNC, COGNITOIDP, APPRUNNER and
# VERIFIED_ACCESS (source: "Log fields for web ACL traffic", httpSourceName).
HTTP_SOURCE_NAMES = ("CF", "ALB", "APIGW", "APPSYNC", "COGNITOIDP", "APPRUNNER", "VERIFIED_ACCESS")
# Placeholder resource IDs when none is given (a CloudFront distribution ID; an ALB's
# "<account>-app/<name>/<id>"), in the forms the log examples show.
_DEFAULT_SOURCE_IDS = {"CF": "E2EXAMPLE1DIST", "ALB": "{account}-app/lab-alb/50dc6c495c0c9188"}

# The answers WAF sends when a CAPTCHA or Challenge action terminates: a CAPTCHA puzzle with
# status 405, a silent challenge with status 202; failureReason is TOKEN_MISSING,
# TOKEN_EXPIRED, TOKEN_INVALID or TOKEN_DOMAIN_MISMATCH (source: "Log fields for web ACL
# traffic", captchaResponse and challengeResponse; "CAPTCHA and Challenge action behavior").
CAPTCHA_STATUS = 405
CHALLENGE_STATUS = 202
TOKEN_COOKIE = "aws-waf-token"
TOKEN_ABSENT_LABEL = "awswaf:managed:token:absent"
# The engine's token model: the cookie ends with the solve time in epoch seconds (see
# grader.aws.waf.evaluate); a token without one cannot be read.
_TOKEN_TIME = re.compile(r"(?:^|:)(\d{1,12})$")

# ruleGroupId of an AWS managed rule group in logs: "<VendorName>#<Name>" (source: the
# log examples); a customer rule group is logged by its ARN.
_MANAGED_GROUP_ID = "{vendor}#{name}"


@dataclass(frozen=True)
class GroupRef:
    """A web ACL rule that runs a rule group, as logs name it."""

    rule_name: str  # the web ACL rule (terminatingRuleId when the group terminates)
    group_id: str  # ruleGroupId: "AWS#AWSManagedRulesBotControlRuleSet" or the group's ARN
    priority: int
    managed: bool
    group_name: str  # the managed group's Name, or the rule group's name
    excluded: frozenset[str] = frozenset()  # ExcludedRules: logged under excludedRules
    # RuleActionOverrides (rule -> the action used) and each rule's own action, when known:
    # an overridden match is logged with its own action as overriddenAction.
    overrides: Mapping[str, str] = field(default_factory=dict)
    own_actions: Mapping[str, str] = field(default_factory=dict)

    def names(self) -> frozenset[str]:
        """Every name a verdict may use for this group."""
        return frozenset({self.rule_name, self.group_id, self.group_name})


@dataclass(frozen=True)
class RateRule:
    """A rate-based rule, for rateBasedRuleList."""

    name: str
    limit: int
    window_sec: int
    limit_key: str  # IP, FORWARDED_IP, CUSTOMKEYS or CONSTANT, as logged


@dataclass(frozen=True)
class LogContext:
    """What a log record needs from the web ACL and the protected resource."""

    web_acl_id: str
    http_source_name: str = "CF"
    http_source_id: str = _DEFAULT_SOURCE_IDS["CF"]
    groups: tuple[GroupRef, ...] = ()
    rate_rules: Mapping[str, RateRule] = field(default_factory=dict)
    priorities: Mapping[str, int] = field(default_factory=dict)

    @classmethod
    def from_web_acl(
        cls,
        acl: Mapping[str, Any],
        *,
        account: str = DEFAULT_ACCOUNT,
        region: str = DEFAULT_REGION,
        http_source_name: str | None = None,
        http_source_id: str | None = None,
        rule_groups: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> LogContext:
        """The context of a web ACL in the API's JSON (a CreateWebACL request or a
        get_web_acl answer, wrapped or not). ``rule_groups`` (by ARN) name the customer
        groups the ACL references."""
        acl = acl.get("WebACL", acl)
        scope = str(acl.get("Scope", "CLOUDFRONT")).upper()
        source = http_source_name or ("CF" if scope == "CLOUDFRONT" else "ALB")
        source_id = http_source_id or _DEFAULT_SOURCE_IDS.get(source, "-").format(account=account)
        groups: list[GroupRef] = []
        rate_rules: dict[str, RateRule] = {}
        priorities: dict[str, int] = {}
        for rule in acl.get("Rules") or ():
            name = str(rule.get("Name", ""))
            priority = int(rule.get("Priority", 0))
            priorities[name] = priority
            statement = rule.get("Statement") or {}
            if "ManagedRuleGroupStatement" in statement:
                managed = statement["ManagedRuleGroupStatement"]
                vendor, group = str(managed.get("VendorName", "")), str(managed.get("Name", ""))
                groups.append(
                    GroupRef(
                        rule_name=name,
                        group_id=_MANAGED_GROUP_ID.format(vendor=vendor, name=group),
                        priority=priority,
                        managed=True,
                        group_name=group,
                        excluded=_excluded(managed),
                        overrides=_overrides(managed),
                        own_actions=managed_rule_actions(group),
                    )
                )
            elif "RuleGroupReferenceStatement" in statement:
                ref = statement["RuleGroupReferenceStatement"]
                arn = str(ref.get("ARN", ""))
                group = (rule_groups or {}).get(arn, {})
                group_name = str(group.get("Name") or arn.rsplit("/", 2)[-2:][0])
                groups.append(
                    GroupRef(
                        rule_name=name,
                        group_id=arn,
                        priority=priority,
                        managed=False,
                        group_name=group_name,
                        excluded=_excluded(ref),
                        overrides=_overrides(ref),
                        own_actions={
                            str(r.get("Name")): _action_kind(r.get("Action"))
                            for r in group.get("Rules") or ()
                        },
                    )
                )
            elif "RateBasedStatement" in statement:
                rate = statement["RateBasedStatement"]
                key = str(rate.get("AggregateKeyType", "IP"))
                rate_rules[name] = RateRule(
                    name=name,
                    limit=int(rate.get("Limit", 0)),
                    # EvaluationWindowSec defaults to 300 (source: RateBasedStatement's API doc).
                    window_sec=int(rate.get("EvaluationWindowSec", 300)),
                    limit_key="CUSTOMKEYS" if key == "CUSTOM_KEYS" else key,
                )
        groups.sort(key=lambda g: g.priority)
        return cls(
            web_acl_id=web_acl_arn(acl, account=account, region=region),
            http_source_name=source,
            http_source_id=source_id,
            groups=tuple(groups),
            rate_rules=rate_rules,
            priorities=priorities,
        )

    def group_for(self, name: str | None) -> GroupRef | None:
        """The group a verdict names (by ACL rule name, group Name, log ID or ARN)."""
        if not name:
            return None
        for group in self.groups:
            if name in group.names():
                return group
        return None


def web_acl_arn(
    acl: Mapping[str, Any], *, account: str = DEFAULT_ACCOUNT, region: str = DEFAULT_REGION
) -> str:
    """The web ACL's ARN: its own when it has one (a get_web_acl export), else built as WAF
    builds it: CloudFront ACLs are ``global`` in us-east-1, the others ``regional`` (source:
    "Resource types defined by AWS WAF V2" in the Service Authorization Reference)."""
    acl = acl.get("WebACL", acl)
    if isinstance(acl.get("ARN"), str) and acl["ARN"]:
        return acl["ARN"]
    name = str(acl.get("Name", "web-acl"))
    acl_id = str(acl.get("Id") or uuid.uuid5(uuid.NAMESPACE_URL, f"webacl/{name}"))
    if str(acl.get("Scope", "CLOUDFRONT")).upper() == "CLOUDFRONT":
        return f"arn:aws:wafv2:us-east-1:{account}:global/webacl/{name}/{acl_id}"
    return f"arn:aws:wafv2:{region}:{account}:regional/webacl/{name}/{acl_id}"


def log_record(request: WafRequest, verdict: Verdict, context: LogContext) -> dict[str, Any]:
    """The log record WAF would write for ``request`` and ``verdict``."""
    top_level, in_groups = _split_matches(verdict.non_terminating, context)
    terminating_group = _terminating_group(verdict, context)
    terminating_rule_id = verdict.terminating_rule_id
    if terminating_group is not None:
        # WAF logs the web ACL rule that ran the group; the group's own rule is in ruleGroupList.
        terminating_rule_id = terminating_group.rule_name
    record: dict[str, Any] = {
        "timestamp": request.timestamp_ms,
        "formatVersion": FORMAT_VERSION,
        "webaclId": context.web_acl_id,
        "terminatingRuleId": terminating_rule_id,
        "terminatingRuleType": verdict.terminating_rule_type,
        "action": verdict.action,
        "terminatingRuleMatchDetails": [],
        "httpSourceName": context.http_source_name,
        "httpSourceId": context.http_source_id,
        "ruleGroupList": _rule_group_list(verdict, context, in_groups, terminating_group),
        "rateBasedRuleList": _rate_based_rules(verdict, context),
        "nonTerminatingMatchingRules": [_match_json(m, request) for m in top_level],
        "requestHeadersInserted": [{"name": n, "value": v} for n, v in verdict.inserted_headers]
        or None,
        "responseCodeSent": _custom_status(verdict),
        "httpRequest": http_request_json(request),
    }
    # WAF writes "labels" only when the request has some (the log examples have none).
    if verdict.labels:
        record["labels"] = [{"name": label} for label in verdict.labels]
    # captchaResponse/challengeResponse come from the last time the action was applied: a
    # failure when it terminated, else the solve time of the token that let the request on.
    for entry in record["nonTerminatingMatchingRules"]:
        for key in ("captchaResponse", "challengeResponse"):
            if key in entry:
                record[key] = entry[key]
    if verdict.action == "CAPTCHA":
        record["captchaResponse"] = _token_failure(request, verdict, CAPTCHA_STATUS)
    elif verdict.action == "CHALLENGE":
        record["challengeResponse"] = _token_failure(request, verdict, CHALLENGE_STATUS)
    return record


def log_records(
    pairs: Iterable[tuple[WafRequest, Verdict]], context: LogContext
) -> list[dict[str, Any]]:
    """:func:`log_record` for each (request, verdict)."""
    return [log_record(request, verdict, context) for request, verdict in pairs]


def _excluded(statement: Mapping[str, Any]) -> frozenset[str]:
    return frozenset(str(e.get("Name")) for e in statement.get("ExcludedRules") or ())


def _overrides(statement: Mapping[str, Any]) -> dict[str, str]:
    return {
        str(o.get("Name")): _action_kind(o.get("ActionToUse"))
        for o in statement.get("RuleActionOverrides") or ()
    }


def _action_kind(action: Any) -> str:
    """``{"Block": {...}}`` -> ``BLOCK``; empty when there is none."""
    return next(iter(action), "").upper() if isinstance(action, Mapping) else ""


def managed_rule_actions(group: str) -> dict[str, str]:
    """The default action of each rule of a modelled managed group (``BLOCK``, ...), from
    the engine's group models; empty for a group not modelled."""
    tables: dict[str, Iterable[Any]] = {}
    try:
        from grader.aws.waf import botcontrol, managed

        tables = {
            botcontrol.NAME: botcontrol.RULES,
            managed.CORE_RULE_SET: managed.CORE_RULES,
            managed.KNOWN_BAD_INPUTS: managed.KNOWN_BAD_INPUT_RULES,
            managed.SQL_DATABASE: managed.SQLI_RULES,
            managed.IP_REPUTATION: managed.IP_REPUTATION_RULES,
        }
    except (ImportError, AttributeError):  # the models are optional to the log format
        return {}
    return {rule.name: str(rule.action).upper() for rule in tables.get(group, ())}


def _overridden(group: GroupRef, rule_id: str, action: str) -> dict[str, str]:
    """``{"overriddenAction": ...}`` for a rule whose action an override changed."""
    own = group.own_actions.get(rule_id)
    if rule_id in group.overrides and own and own != action:
        return {"overriddenAction": own}
    return {}


def _split_matches(
    matches: Iterable[RuleMatchInfo], context: LogContext
) -> tuple[list[RuleMatchInfo], dict[str, list[RuleMatchInfo]]]:
    """Non-terminating matches of the web ACL's own rules, and those inside each group (by
    the group's ACL rule name)."""
    top: list[RuleMatchInfo] = []
    grouped: dict[str, list[RuleMatchInfo]] = {}
    for match in matches:
        group = context.group_for(match.rule_group)
        if group is None:
            top.append(match)
        else:
            grouped.setdefault(group.rule_name, []).append(match)
    return top, grouped


def _terminating_group(verdict: Verdict, context: LogContext) -> GroupRef | None:
    if verdict.terminating_rule_type not in ("MANAGED_RULE_GROUP", "GROUP"):
        return None
    return context.group_for(verdict.terminating_rule_group) or context.group_for(
        verdict.terminating_rule_id
    )


def _rule_group_list(
    verdict: Verdict,
    context: LogContext,
    in_groups: Mapping[str, list[RuleMatchInfo]],
    terminating_group: GroupRef | None,
) -> list[dict[str, Any]]:
    """One entry per rule group WAF evaluated: every group before the terminating rule,
    except a managed group its scope-down statement kept the request out of."""
    last = _terminating_priority(verdict, context, terminating_group)
    entries = []
    for group in context.groups:
        if last is not None and group.priority > last:
            break
        matched = in_groups.get(group.rule_name, [])
        scoped_out = group.managed and group.group_name not in verdict.inspected_by
        if scoped_out and not matched and group is not terminating_group:
            continue  # its scope-down statement kept the request out: not evaluated
        terminating = None
        if group is terminating_group:
            inner = verdict.terminating_rule_id
            if inner == group.rule_name:
                inner = verdict.terminating_rule_group or inner
            terminating = {
                "ruleId": inner,
                "action": verdict.action,
                **_overridden(group, inner, verdict.action),
                "ruleMatchDetails": None,
            }
        excluded = [m for m in matched if m.rule_id in group.excluded]
        counted = [m for m in matched if m.rule_id not in group.excluded]
        entries.append(
            {
                "ruleGroupId": group.group_id,
                "terminatingRule": terminating,
                "nonTerminatingMatchingRules": [
                    {
                        "ruleId": m.rule_id,
                        "action": m.action.upper(),
                        **_overridden(group, m.rule_id, m.action.upper()),
                        "ruleMatchDetails": [],
                    }
                    for m in counted
                ],
                "excludedRules": [
                    {"exclusionType": "EXCLUDED_AS_COUNT", "ruleId": m.rule_id} for m in excluded
                ]
                or None,
            }
        )
    return entries


def _terminating_priority(
    verdict: Verdict, context: LogContext, terminating_group: GroupRef | None
) -> int | None:
    """The priority of the rule that ended evaluation; None when the default action did."""
    if terminating_group is not None:
        return terminating_group.priority
    return context.priorities.get(verdict.terminating_rule_id)


def _rate_based_rules(verdict: Verdict, context: LogContext) -> list[dict[str, Any]]:
    """The rate-based rules whose limit the request was over (they matched it)."""
    names = [m.rule_id for m in verdict.non_terminating if m.rule_group is None]
    if verdict.terminating_rule_type == "RATE_BASED":
        names.insert(0, verdict.terminating_rule_id)
    entries = []
    for name in dict.fromkeys(names):
        rule = context.rate_rules.get(name)
        if rule is None:
            continue
        entries.append(
            {
                "rateBasedRuleId": str(
                    uuid.uuid5(uuid.NAMESPACE_URL, f"{context.web_acl_id}/{name}")
                ),
                "rateBasedRuleName": name,
                "limitKey": rule.limit_key,
                "maxRateAllowed": rule.limit,
                "evaluationWindowSec": str(rule.window_sec),
                "customValues": [],
            }
        )
    return entries


def _custom_status(verdict: Verdict) -> int | None:
    """responseCodeSent: the status of a Block's custom response (CAPTCHA and Challenge
    answer with WAF's own page, logged in captchaResponse/challengeResponse instead)."""
    if verdict.action == "BLOCK" and verdict.custom_response is not None:
        return verdict.custom_response.status
    return None


def _match_json(match: RuleMatchInfo, request: WafRequest) -> dict[str, Any]:
    action = match.action.upper()
    entry: dict[str, Any] = {"ruleId": match.rule_id, "action": action, "ruleMatchDetails": []}
    # A CAPTCHA or Challenge that did not terminate found a valid token: WAF logs when it was
    # solved. The engine's token model carries no solve time, so the request's time stands in.
    if action == "CAPTCHA":
        entry["captchaResponse"] = {
            "responseCode": 0,
            "solveTimestamp": request.timestamp_ms // 1000,
        }
    elif action == "CHALLENGE":
        entry["challengeResponse"] = {
            "responseCode": 0,
            "solveTimestamp": request.timestamp_ms // 1000,
        }
    return entry


def _token_failure(request: WafRequest, verdict: Verdict, status: int) -> dict[str, Any]:
    """Why a CAPTCHA/Challenge terminated: no token, a token whose solve time has passed
    (the engine's token model ends the cookie with ``:<epoch seconds>``), or one it cannot
    read."""
    token = next(
        (
            part.strip().split("=", 1)[1]
            for value in request.header_values("cookie")
            for part in value.split(";")
            if part.strip().startswith(f"{TOKEN_COOKIE}=")
        ),
        "",
    )
    if TOKEN_ABSENT_LABEL in verdict.labels or not token:
        reason = "TOKEN_MISSING"
    else:
        reason = "TOKEN_EXPIRED" if _TOKEN_TIME.search(token) else "TOKEN_INVALID"
    code = verdict.custom_response.status if verdict.custom_response else status
    return {"responseCode": code, "failureReason": reason}
