"""Web ACL capacity units (WCUs): what each rule of a web ACL costs, and the total.

WAF sizes every rule in WCUs and refuses a web ACL above its maximum; above the base
included in the price, each further block of WCUs adds a request charge (see pricing.py).
moto always answers 3, so the course computes capacity itself from the documented costs.

Sources: developer guide, "Web ACL capacity units (WCUs) in AWS WAF"
(https://docs.aws.amazon.com/waf/latest/developerguide/aws-waf-capacity-units.html), each
statement's page under "Using rule statements in AWS WAF" (the "WCUs" line of each), and
the AWS Managed Rules rule group pages (each group's "WCU"). Cited beside each table.

What the docs say, modelled as they say it: each text transformation adds 10 (WAF itself
may charge a repeated field+transformation pair once, an optimisation the docs mention
without numbers, so this total can be a little above CheckCapacity's, never below).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

# The web ACL's capacity: 1,500 WCUs are included in the base price; above that, WAF
# charges extra per 500 WCUs, up to the maximum of 5,000 it accepts without a quota
# increase. Source: "Web ACL capacity units (WCUs) in AWS WAF" ("Web ACL WCUs") and
# "AWS WAF quotas" (Maximum web ACL capacity units in a web ACL: 5,000).
BASE_INCLUDED_WCU = 1500
MAX_WEB_ACL_WCU = 5000
EXTRA_WCU_BLOCK = 500

# Each text transformation: +10. Source: "Using text transformations in AWS WAF"
# ("WCUs - Each text transformation is 10 WCUs").
TRANSFORMATION_WCU = 10

# String match (ByteMatchStatement) base cost by PositionalConstraint. Source: "String
# match rule statement" (Exactly/Starts with/Ends with 2, Contains/Contains word 10).
BYTE_MATCH_WCU = {
    "EXACTLY": 2,
    "STARTS_WITH": 2,
    "ENDS_WITH": 2,
    "CONTAINS": 10,
    "CONTAINS_WORD": 10,
}

# SQL injection attack statement by SensitivityLevel (default LOW). Source: "SQL injection
# attack rule statement" ("Low costs 20 and High costs 30").
SQLI_WCU = {"LOW": 20, "HIGH": 30}

# Base costs of the other statements that inspect a request component. Sources: "Cross-site
# scripting attack rule statement" (40), "Size constraint rule statement" (1), "Regex match
# rule statement" (3), "Regex pattern set match rule statement" (25 per pattern set).
COMPONENT_BASE_WCU = {
    "XssMatchStatement": 40,
    "SizeConstraintStatement": 1,
    "RegexMatchStatement": 3,
    "RegexPatternSetReferenceStatement": 25,
}

# Request components that change a component statement's cost. Source: the same statement
# pages: "If you use the request component All query parameters, add 10 WCUs. If you use
# the request component JSON body, double the base cost WCUs." The pages name no WCU
# extra for Headers or Cookies (all headers / all cookies), so none is added for them: a
# gap in the docs, modelled as the single-header cost.
ALL_QUERY_ARGUMENTS_EXTRA = 10
JSON_BODY_FACTOR = 2

# Statements with a fixed cost. Sources: "Geographic match rule statement" (1), "ASN match
# rule statement" (1), "IP set match rule statement" (1, "If you configure the statement to
# use a header with forwarded IP addresses and specify a position in the header of Any,
# then increase the WCUs by 4"), "Label match rule statement" (1).
FIXED_WCU = {
    "GeoMatchStatement": 1,
    "AsnMatchStatement": 1,
    "IPSetReferenceStatement": 1,
    "LabelMatchStatement": 1,
}
IP_SET_FORWARDED_ANY_EXTRA = 4

# Rate-based statement. Source: "Using rate-based rule statements in AWS WAF" ("2, as a
# base cost. For each custom aggregation key that you specify, add 30 WCUs. If you use a
# scope-down statement in the rule, calculate and add the WCUs for that.")
RATE_BASED_BASE = 2
RATE_BASED_CUSTOM_KEY = 30

# AWS managed rule groups' fixed capacities (each group's "WCU" on its page). Sources:
# "Baseline rule groups" (Core rule set 700, Admin protection 100, Known bad inputs 200),
# "Use-case specific rule groups" (SQL database 200, Linux 200, POSIX 100, Windows 200,
# PHP 100, WordPress 100), "IP reputation rule groups" (Amazon IP reputation list 25,
# Anonymous IP list 50), "AWS WAF Bot Control rule group" (50), "AWS WAF Fraud Control
# account takeover prevention (ATP) rule group" (50), "... account creation fraud
# prevention (ACFP) rule group" (50), "AWS WAF Distributed Denial of Service (DDoS)
# prevention rule group" (50).
MANAGED_GROUP_WCU = {
    ("AWS", "AWSManagedRulesCommonRuleSet"): 700,
    ("AWS", "AWSManagedRulesAdminProtectionRuleSet"): 100,
    ("AWS", "AWSManagedRulesKnownBadInputsRuleSet"): 200,
    ("AWS", "AWSManagedRulesSQLiRuleSet"): 200,
    ("AWS", "AWSManagedRulesLinuxRuleSet"): 200,
    ("AWS", "AWSManagedRulesUnixRuleSet"): 100,
    ("AWS", "AWSManagedRulesWindowsRuleSet"): 200,
    ("AWS", "AWSManagedRulesPHPRuleSet"): 100,
    ("AWS", "AWSManagedRulesWordPressRuleSet"): 100,
    ("AWS", "AWSManagedRulesAmazonIpReputationList"): 25,
    ("AWS", "AWSManagedRulesAnonymousIpList"): 50,
    ("AWS", "AWSManagedRulesBotControlRuleSet"): 50,
    ("AWS", "AWSManagedRulesATPRuleSet"): 50,
    ("AWS", "AWSManagedRulesACFPRuleSet"): 50,
    ("AWS", "AWSManagedRulesAntiDDoSRuleSet"): 50,
}

# Statements that only combine others: And and Or cost the sum of their statements, Not
# what its statement costs. Source: "Using logical rule statements in AWS WAF" ("WCUs -
# Depends on the nested statements").
LOGICAL = ("AndStatement", "OrStatement", "NotStatement")


@dataclass(frozen=True)
class RuleCost:
    """One rule's WCUs and how they add up (one line per statement or extra)."""

    name: str
    wcu: int
    parts: tuple[str, ...] = ()


@dataclass(frozen=True)
class WcuReport:
    """A web ACL's capacity: the total, each rule's share, and where it stands against the
    1,500 WCUs included in the base price and the 5,000 maximum."""

    total: int
    rules: tuple[RuleCost, ...]
    # Rule group references whose capacity the caller did not give (counted as 0).
    unknown: tuple[str, ...] = ()
    base_included: int = BASE_INCLUDED_WCU
    maximum: int = MAX_WEB_ACL_WCU

    @property
    def over_limit(self) -> bool:
        """Above the 1,500 WCUs the base price includes: extra request charges apply."""
        return self.total > self.base_included

    @property
    def over_maximum(self) -> bool:
        """Above the 5,000 WCUs WAF accepts: CreateWebACL would be refused."""
        return self.total > self.maximum

    @property
    def extra_blocks(self) -> int:
        """How many started blocks of 500 WCUs lie above the included 1,500."""
        above = max(0, self.total - self.base_included)
        return -(-above // EXTRA_WCU_BLOCK)

    def to_json(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "base_included": self.base_included,
            "maximum": self.maximum,
            "over_limit": self.over_limit,
            "over_maximum": self.over_maximum,
            "extra_blocks": self.extra_blocks,
            "rules": [asdict(r) for r in self.rules],
            "unknown": list(self.unknown),
        }


class _Costing:
    """One pass over a web ACL's statements, collecting lines and unknown groups."""

    def __init__(self, group_capacities: Mapping[str, int]) -> None:
        self.group_capacities = group_capacities
        self.unknown: list[str] = []

    def statement(self, statement: Mapping[str, Any], lines: list[str]) -> int:
        if not statement:
            return 0
        kind, body = next(iter(statement.items()))
        body = body or {}
        if kind in LOGICAL:
            children = body.get("Statements") or [body.get("Statement") or {}]
            return sum(self.statement(child, lines) for child in children)
        if kind in FIXED_WCU:
            cost = FIXED_WCU[kind]
            forwarded = body.get("IPSetForwardedIPConfig") or {}
            if kind == "IPSetReferenceStatement" and forwarded.get("Position") == "ANY":
                cost += IP_SET_FORWARDED_ANY_EXTRA
                lines.append(f"{kind}: 1 + 4 (forwarded IP header, position ANY)")
            else:
                lines.append(f"{kind}: {cost}")
            return cost
        if kind == "ByteMatchStatement":
            base = BYTE_MATCH_WCU.get(body.get("PositionalConstraint", ""), 10)
            return self._component(kind, base, body, lines)
        if kind == "SqliMatchStatement":
            base = SQLI_WCU.get(body.get("SensitivityLevel") or "LOW", 20)
            return self._component(kind, base, body, lines)
        if kind in COMPONENT_BASE_WCU:
            return self._component(kind, COMPONENT_BASE_WCU[kind], body, lines)
        if kind == "RateBasedStatement":
            keys = len(body.get("CustomKeys") or ())
            cost = RATE_BASED_BASE + RATE_BASED_CUSTOM_KEY * keys
            lines.append(f"{kind}: {RATE_BASED_BASE} + 30 x {keys} custom key(s)")
            return cost + self._scope_down(body, lines)
        if kind == "ManagedRuleGroupStatement":
            key = (body.get("VendorName", ""), body.get("Name", ""))
            cost = MANAGED_GROUP_WCU.get(key)
            if cost is None:
                self.unknown.append(f"{key[0]}/{key[1]}")
                cost = 0
            lines.append(f"{kind} {key[1]}: {cost}")
            return cost + self._scope_down(body, lines)
        if kind == "RuleGroupReferenceStatement":
            arn = body.get("ARN", "")
            cost = self.group_capacities.get(arn)
            if cost is None:
                self.unknown.append(arn)
                cost = 0
            lines.append(f"{kind} {arn}: {cost}")
            return int(cost)
        lines.append(f"{kind}: not costed (unknown statement)")
        return 0

    def _scope_down(self, body: Mapping[str, Any], lines: list[str]) -> int:
        scope = body.get("ScopeDownStatement")
        if not scope:
            return 0
        inner: list[str] = []
        cost = self.statement(scope, inner)
        lines.extend(f"scope-down {line}" for line in inner)
        return cost

    @staticmethod
    def _component(kind: str, base: int, body: Mapping[str, Any], lines: list[str]) -> int:
        ftm = body.get("FieldToMatch") or {}
        steps = [t for t in body.get("TextTransformations") or () if t.get("Type") != "NONE"]
        cost, how = base, f"{base}"
        if "JsonBody" in ftm:
            cost, how = base * JSON_BODY_FACTOR, f"{base} x 2 (JSON body)"
        if "AllQueryArguments" in ftm:
            cost += ALL_QUERY_ARGUMENTS_EXTRA
            how += " + 10 (all query parameters)"
        if steps:
            cost += TRANSFORMATION_WCU * len(steps)
            how += f" + 10 x {len(steps)} transformation(s)"
        lines.append(f"{kind}: {how} = {cost}")
        return cost


def rule_capacity(
    rule: Mapping[str, Any], rule_group_capacities: Mapping[str, int] | None = None
) -> RuleCost:
    """One rule's WCUs."""
    costing = _Costing(rule_group_capacities or {})
    lines: list[str] = []
    total = costing.statement(rule.get("Statement") or {}, lines)
    return RuleCost(str(rule.get("Name", "")), total, tuple(lines))


def capacity(
    acl: Mapping[str, Any], *, rule_group_capacities: Mapping[str, int] | None = None
) -> WcuReport:
    """The WCUs of a web ACL in the API's JSON (CreateWebACL's request, or get_web_acl's
    answer with or without its ``WebACL`` wrapper). ``rule_group_capacities`` maps a rule
    group ARN to its Capacity; a reference to a group not in it counts 0 and is listed in
    ``unknown``, as is a managed group the table does not know."""
    acl = acl.get("WebACL", acl) if isinstance(acl.get("WebACL"), Mapping) else acl
    costing = _Costing(rule_group_capacities or {})
    rules = []
    for rule in acl.get("Rules") or ():
        lines: list[str] = []
        wcu = costing.statement(rule.get("Statement") or {}, lines)
        rules.append(RuleCost(str(rule.get("Name", "")), wcu, tuple(lines)))
    return WcuReport(
        total=sum(r.wcu for r in rules), rules=tuple(rules), unknown=tuple(costing.unknown)
    )
