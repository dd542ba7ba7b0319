"""Replaying traffic through a web ACL: each request's verdict and log record, and a summary.

The summary answers the questions lab 2 asks of a web ACL: how much traffic each action got,
which rules matched, what each kind of client (human, search bot, scraper, ...) met, which
labels were added, what was logged after the logging filter, how many requests each managed
group inspected (what Bot Control's per-request charge counts) and what that traffic would
cost in a month.
"""

from __future__ import annotations

import ipaddress
import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from grader.aws.errors import GraderError
from grader.aws.jsonfile import load_json
from grader.aws.waf.logs import LogContext, log_record
from grader.aws.waf.request import WafRequest
from grader.aws.waf.traffic import load_traffic
from grader.aws.waf.verdict import Verdict

# The log record's terminating actions, in the order summaries show them.
ACTIONS = ("ALLOW", "BLOCK", "CAPTCHA", "CHALLENGE")
# Traffic without a ``class`` field is summarised under this name.
UNCLASSIFIED = "unclassified"
# The month a replay's cost is scaled to: 30 days, as AWS's pricing examples count a month.
MONTH_MS = 30 * 24 * 3600 * 1000
BOT_CONTROL = "AWSManagedRulesBotControlRuleSet"


class Evaluator(Protocol):
    """Anything that judges requests in time order (the engine's WebAclEvaluator)."""

    def evaluate(self, request: WafRequest) -> Verdict: ...


@dataclass(frozen=True)
class ReplayItem:
    """One request, what the web ACL decided, and the log record WAF would write."""

    request: WafRequest
    verdict: Verdict
    record: dict[str, Any]


@dataclass
class RuleStats:
    """How often a rule matched, ended evaluation, and counted (matched without ending it)."""

    matched: int = 0
    terminated: int = 0
    counted: int = 0

    def to_json(self) -> dict[str, int]:
        return {"matched": self.matched, "terminated": self.terminated, "counted": self.counted}


@dataclass
class ReplaySummary:
    """Totals of a replay. Rules inside a rule group are named ``<web ACL rule>/<rule>``;
    a request that no rule ended is counted under ``Default_Action``."""

    requests: int = 0
    actions: Counter[str] = field(default_factory=Counter)
    counted: int = 0  # requests at least one rule counted
    rules: dict[str, RuleStats] = field(default_factory=dict)
    classes: dict[str, Counter[str]] = field(default_factory=dict)
    labels: Counter[str] = field(default_factory=Counter)
    custom_responses: Counter[int] = field(default_factory=Counter)
    headers_inserted: Counter[str] = field(default_factory=Counter)
    managed_inspected: Counter[str] = field(default_factory=Counter)
    logged: int | None = None  # records kept by the logging filter (None: no filter given)
    span_ms: int = 0  # from the first request to the last
    cost: dict[str, Any] | None = None  # the monthly estimate, when pricing is available

    @property
    def allowed(self) -> int:
        return self.actions["ALLOW"]

    @property
    def blocked(self) -> int:
        return self.actions["BLOCK"]

    @property
    def captcha(self) -> int:
        return self.actions["CAPTCHA"]

    @property
    def challenge(self) -> int:
        return self.actions["CHALLENGE"]

    def to_json(self) -> dict[str, Any]:
        """The summary as plain JSON data."""
        return {
            "totals": {
                "requests": self.requests,
                "allowed": self.allowed,
                "blocked": self.blocked,
                "counted": self.counted,
                "captcha": self.captcha,
                "challenge": self.challenge,
            },
            "rules": {name: stats.to_json() for name, stats in self.rules.items()},
            "classes": {
                name: {"requests": sum(c.values()), **{a: c[a] for a in ACTIONS}}
                for name, c in sorted(self.classes.items())
            },
            "labels": dict(sorted(self.labels.items())),
            "customResponses": {str(k): v for k, v in sorted(self.custom_responses.items())},
            "headersInserted": dict(sorted(self.headers_inserted.items())),
            "managedGroupsInspected": dict(sorted(self.managed_inspected.items())),
            "logged": self.logged,
            "spanMs": self.span_ms,
            "monthlyCost": self.cost,
        }


@dataclass
class Replay:
    """A whole replay: each request's outcome, the log records kept, and the summary."""

    items: list[ReplayItem]
    kept_records: list[dict[str, Any]]
    summary: ReplaySummary


def replay(
    requests: Iterable[WafRequest],
    evaluator: Evaluator,
    *,
    web_acl: Mapping[str, Any] | None = None,
    context: LogContext | None = None,
    rule_groups: Mapping[str, Mapping[str, Any]] | None = None,
    logging: Mapping[str, Any] | None = None,
    logging_filter: Mapping[str, Any] | None = None,
    estimate_cost: bool = True,
) -> Replay:
    """Run ``requests`` (in time order) through ``evaluator`` and summarise.

    ``web_acl`` is the ACL in the API's JSON: it names the log records' web ACL and rule
    groups (unless ``context`` is given) and sizes the cost estimate; ``rule_groups`` (by
    ARN) are the customer rule groups it references. ``logging`` is a
    logging configuration (PutLoggingConfiguration's, wrapped or not): the records its
    LoggingFilter keeps are returned, with its RedactedFields applied; ``logging_filter``
    alone is a LoggingFilter. With neither, every record is kept.
    """
    acl = dict((web_acl or {}).get("WebACL", web_acl or {}))
    context = context or LogContext.from_web_acl(
        acl or {"Name": "web-acl"}, rule_groups=rule_groups
    )
    items = []
    for request in requests:
        verdict = evaluator.evaluate(request)
        items.append(ReplayItem(request, verdict, log_record(request, verdict, context)))
    records = [item.record for item in items]
    kept = records
    configured = logging is not None or logging_filter is not None
    if configured:
        from grader.aws.waf.logfilter import apply_logging_filter

        config = (logging or {}).get("LoggingConfiguration", logging or {})
        kept = apply_logging_filter(
            records,
            config.get("LoggingFilter", logging_filter),
            redacted_fields=config.get("RedactedFields"),
        )
    summary = summarise(items, context)
    summary.logged = len(kept) if configured else None
    if estimate_cost and acl:
        capacities = {
            arn: int(g["Capacity"])
            for arn, g in (rule_groups or {}).items()
            if isinstance(g.get("Capacity"), int)
        }
        summary.cost = monthly_cost(summary, acl, capacities)
    return Replay(items=items, kept_records=kept, summary=summary)


def summarise(items: Iterable[ReplayItem], context: LogContext) -> ReplaySummary:
    """The totals of a replay's items."""
    summary = ReplaySummary()
    group_rule = {g.group_id: g.rule_name for g in context.groups}
    first = last = None
    for item in items:
        verdict, record = item.verdict, item.record
        summary.requests += 1
        summary.actions[verdict.action] += 1
        stamp = item.request.timestamp_ms
        first = stamp if first is None else min(first, stamp)
        last = stamp if last is None else max(last, stamp)
        klass = item.request.traffic_class or UNCLASSIFIED
        summary.classes.setdefault(klass, Counter())[verdict.action] += 1
        summary.labels.update(dict.fromkeys(verdict.labels, 1))
        # Only a Block sends a custom response; CAPTCHA and Challenge send WAF's own page.
        if verdict.action == "BLOCK" and verdict.custom_response is not None:
            summary.custom_responses[verdict.custom_response.status] += 1
        summary.headers_inserted.update(dict.fromkeys((n for n, _ in verdict.inserted_headers), 1))
        summary.managed_inspected.update(dict.fromkeys(verdict.inspected_by, 1))
        if _tally_rules(summary.rules, record, group_rule):
            summary.counted += 1
    summary.span_ms = (last - first) if first is not None and last is not None else 0
    summary.rules = dict(sorted(summary.rules.items(), key=lambda kv: _rule_order(kv[0], context)))
    return summary


def _rule_order(name: str, context: LogContext) -> tuple[float, str]:
    """Rules in the web ACL's priority order (a group's rules under it), the default last."""
    priority = context.priorities.get(name.split("/", 1)[0])
    return (float("inf") if priority is None else priority, name)


def _tally_rules(
    rules: dict[str, RuleStats], record: Mapping[str, Any], group_rule: Mapping[str, str]
) -> bool:
    """Add one log record's matches to ``rules``; whether any rule counted the request."""
    counted = False

    def stats(name: str) -> RuleStats:
        return rules.setdefault(name, RuleStats())

    terminating = record["terminatingRuleId"]
    inner_terminated = False
    for group in record["ruleGroupList"]:
        acl_rule = group_rule.get(group["ruleGroupId"], group["ruleGroupId"])
        if group["terminatingRule"]:
            inner_terminated = True
            s = stats(f"{acl_rule}/{group['terminatingRule']['ruleId']}")
            s.matched += 1
            s.terminated += 1
        for match in group["nonTerminatingMatchingRules"]:
            s = stats(f"{acl_rule}/{match['ruleId']}")
            s.matched += 1
            if match["action"] == "COUNT":
                s.counted += 1
                counted = True
        for excluded in group["excludedRules"] or ():
            s = stats(f"{acl_rule}/{excluded['ruleId']}")
            s.matched += 1
            s.counted += 1
            counted = True
    if not inner_terminated:
        s = stats(terminating)
        s.terminated += 1
        if terminating != "Default_Action":
            s.matched += 1
    for match in record["nonTerminatingMatchingRules"]:
        s = stats(match["ruleId"])
        s.matched += 1
        if match["action"] == "COUNT":
            s.counted += 1
            counted = True
    return counted


def monthly_cost(
    summary: ReplaySummary,
    acl: Mapping[str, Any],
    rule_group_capacities: Mapping[str, int] | None = None,
) -> dict[str, Any] | None:
    """The replayed traffic's cost scaled to a 30-day month, or None when the pricing module
    is not installed. Traffic with no time span (every timestamp equal) is costed as one
    month's traffic."""
    try:
        from grader.aws.waf import pricing
    except ImportError:
        return None
    scale = MONTH_MS / summary.span_ms if summary.span_ms >= 1000 else 1.0
    level = bot_control_level(acl)
    inspected = round(summary.managed_inspected[BOT_CONTROL] * scale)
    estimate = pricing.monthly_cost(
        rules=len(acl.get("Rules") or ()),
        requests=round(summary.requests * scale),
        bot_control_common_inspected=inspected if level == "COMMON" else 0,
        bot_control_targeted_inspected=inspected if level == "TARGETED" else 0,
        captcha_attempts=round(summary.captcha * scale),
        wcu=_capacity(acl, rule_group_capacities or {}),
        challenge_responses=round(summary.challenge * scale),
    )
    data = _plain(estimate)
    return {"scale": round(scale, 3), "estimate": data}


def bot_control_level(acl: Mapping[str, Any]) -> str | None:
    """Bot Control's InspectionLevel in the ACL (COMMON when not set), or None without it."""
    for rule in acl.get("Rules") or ():
        managed = (rule.get("Statement") or {}).get("ManagedRuleGroupStatement") or {}
        if managed.get("Name") != BOT_CONTROL:
            continue
        for config in managed.get("ManagedRuleGroupConfigs") or ():
            level = (config.get(BOT_CONTROL) or {}).get("InspectionLevel")
            if level:
                return str(level)
        return "COMMON"
    return None


def _capacity(acl: Mapping[str, Any], rule_group_capacities: Mapping[str, int]) -> int:
    try:
        from grader.aws.waf.wcu import capacity
    except ImportError:
        return 0
    report = capacity(acl, rule_group_capacities=rule_group_capacities)
    return int(getattr(report, "total", report))


def _plain(value: Any) -> Any:
    """A pricing result as plain data (a dataclass, an object with to_json, or plain)."""
    if hasattr(value, "to_json"):
        return value.to_json()
    if hasattr(value, "to_dict"):
        return value.to_dict()
    import dataclasses

    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    return value


class ReplayInputError(GraderError):
    """An IP set or rule group file the replay cannot use: the file and the JSON path."""


def load_ip_sets(path: str | Path) -> dict[str, list[str]]:
    """IP sets by ARN or name from a JSON object: each a list of CIDRs, or an object with
    ``Addresses`` (and ``IPAddressVersion``) as ``get_ip_set`` returns its ``IPSet``
    (wrapped in ``{"IPSet": ...}`` or not)."""
    data = load_json(path, what="a JSON object of IP sets by ARN or name")
    sets: dict[str, list[str]] = {}
    for key, value in data.items():
        where = _member(key)
        if isinstance(value, dict):
            value = value.get("IPSet", value)
            if "Addresses" not in value:
                raise ReplayInputError(
                    "an IP set object needs Addresses (a list of CIDRs)",
                    file=path,
                    json_path=where,
                )
            addresses, where = value["Addresses"], f"{where}.Addresses"
        else:
            addresses = value
        if not isinstance(addresses, list):
            raise ReplayInputError(
                'must be a list of CIDRs, e.g. ["192.0.2.0/24"]', file=path, json_path=where
            )
        for i, cidr in enumerate(addresses):
            try:
                # ip_network(7) would read a number as 0.0.0.7; WAF takes CIDR notation only.
                if not isinstance(cidr, str) or "/" not in cidr:
                    raise ValueError(cidr)
                ipaddress.ip_network(cidr, strict=False)
            except ValueError:
                raise ReplayInputError(
                    f"{cidr!r} is not a CIDR such as 192.0.2.0/24 or 2001:db8::/32",
                    file=path,
                    json_path=f"{where}[{i}]",
                ) from None
        sets[key] = list(addresses)
    return sets


def load_rule_groups(path: str | Path) -> dict[str, dict[str, Any]]:
    """Rule groups by ARN from a JSON object: each in the API's JSON (CreateRuleGroup's
    shape, or ``get_rule_group``'s answer, wrapped in ``{"RuleGroup": ...}`` or not)."""
    data = load_json(path, what="a JSON object of rule groups by ARN")
    groups: dict[str, dict[str, Any]] = {}
    for key, value in data.items():
        if not isinstance(value, dict):
            raise ReplayInputError(
                "must be a rule group object (Name, Rules, ...)", file=path, json_path=_member(key)
            )
        group = value.get("RuleGroup", value)
        if not isinstance(group.get("Rules", []), list):
            raise ReplayInputError(
                "must be a list of rules", file=path, json_path=f"{_member(key)}.Rules"
            )
        groups[key] = group
    return groups


def _member(key: str) -> str:
    """A JSON path step for an object member (quoted when it is not a plain name)."""
    plain = key.replace("-", "").replace("_", "").isalnum()
    return key if plain else json.dumps(key)


def replay_files(
    acl_path: str | Path,
    traffic_path: str | Path,
    *,
    ip_sets: str | Path | None = None,
    rule_groups: str | Path | None = None,
    logging: str | Path | None = None,
    skip_bad: bool = False,
) -> tuple[Replay, list[str]]:
    """Replay a traffic file through a web ACL file, with the IP sets, rule groups and
    logging configuration files given: the replay and the warnings (the ACL's, and traffic
    lines skipped). Every problem with a file is a GraderError naming it."""
    from grader.aws.waf.acl import load_web_acl
    from grader.aws.waf.evaluate import WebAclEvaluator

    acl, acl_warnings = load_web_acl(acl_path)
    warnings = [f"{acl_path}: {w}" for w in acl_warnings]
    document = load_json(acl_path, what="a web ACL in the API's JSON")
    sets = load_ip_sets(ip_sets) if ip_sets else {}
    groups = load_rule_groups(rule_groups) if rule_groups else {}
    logging_config = None
    if logging:
        from grader.aws.waf.logfilter import load_logging_configuration

        try:
            logging_config = load_logging_configuration(logging)
        except GraderError as exc:
            if exc.file:
                raise
            raise type(exc)(exc.message, file=logging, json_path=exc.json_path) from None
    requests, skipped = load_traffic(traffic_path, skip_bad=skip_bad)
    # managed=None: the engine's own registry, fresh, so Bot Control's timeline starts empty.
    try:
        evaluator = WebAclEvaluator(acl, ip_sets=sets, rule_groups=groups)
    except GraderError as exc:  # a set or group the ACL references but no file supplied
        if exc.file:
            raise
        raise type(exc)(exc.message, file=acl_path, json_path=exc.json_path) from None
    warnings += [f"{acl_path}: {w}" for w in getattr(evaluator, "warnings", ())]
    web_acl = document.get("WebACL", document)
    run = replay(requests, evaluator, web_acl=web_acl, rule_groups=groups, logging=logging_config)
    return run, [*warnings, *skipped]
