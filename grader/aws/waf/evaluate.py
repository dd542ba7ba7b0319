"""Evaluating a web ACL for one request at a time: :class:`WebAclEvaluator`.

The semantics follow the WAF developer guide ("How AWS WAF processes a web ACL", "Rule
action", "Labels on web requests", "Rate-based rule statement", "Managed rule group
statement", "CAPTCHA and Challenge in AWS WAF"):

- Rules run in Priority order. A matching rule adds its RuleLabels (under the web ACL's
  namespace ``awswaf:<account>:webacl:<name>:``) whatever its action, so only rules that run
  later can match them.
- Count never ends the evaluation: its labels and inserted headers stay and the next rule
  runs. Allow and Block end it. CAPTCHA and Challenge end it unless the request carries a
  valid token; a valid token makes them act like Count (headers inserted, labelled
  ``awswaf:managed:token:accepted``); no token gives ``awswaf:managed:token:absent``, an
  expired or unreadable one ``awswaf:managed:token:rejected``.
- When nothing ends it, the default action applies (Allow with its inserted headers, or
  Block with its custom response). Inserted headers are named ``x-amzn-waf-<name>``.
- Managed rule groups are modelled by functions (see :mod:`grader.aws.waf.groups`). A
  scope-down statement that does not match keeps the request out of the group (it is not
  inspected, nor charged); ExcludedRules turn a hit into Count, RuleActionOverrides into the
  override's action, and the rule's OverrideAction Count turns every hit into Count. A
  group's labels are added as the group gives them.

The token model (ours; AWS's tokens are encrypted): a request's ``aws-waf-token`` cookie is
valid when it ends in ``:<epoch seconds>`` (or is only that number), the time the client
last solved a CAPTCHA or challenge, and the request's time is at most the rule's immunity
time (ImmunityTimeProperty, default 300 s) after it, and not before it.

Rate-based rules are modelled as an exact sliding window: a request matches when more than
Limit requests with its aggregation key (counting this one) that reached the rule and
matched its scope-down statement fell within the last EvaluationWindowSec seconds. Real WAF
checks the rates about every 10 seconds, so it starts (and stops) limiting a little later
than this model. Requests must be given in timestamp order; the evaluator keeps the counts.
"""

from __future__ import annotations

import json
import re
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from grader.aws.waf import statements as st
from grader.aws.waf.acl import (
    DEFAULT_ACCOUNT,
    Action,
    Bodies,
    Rule,
    RuleGroup,
    WebAcl,
    parse_rule_group,
)
from grader.aws.waf.fields import body_limit, cookies, query_args
from grader.aws.waf.groups import LABELS_ONLY_HIT, GroupOutcome
from grader.aws.waf.request import WafRequest
from grader.aws.waf.statements import EvalContext, IpSet, WafConfigError
from grader.aws.waf.verdict import CustomResponse, RuleMatchInfo, Verdict

# A modelled managed rule group: (request, merged ManagedRuleGroupConfigs) -> outcome.
ManagedModel = Callable[[WafRequest, dict], GroupOutcome]

TOKEN_COOKIE = "aws-waf-token"
TOKEN_ACCEPTED = "awswaf:managed:token:accepted"
TOKEN_ABSENT = "awswaf:managed:token:absent"
TOKEN_REJECTED = "awswaf:managed:token:rejected"

# What a terminating CAPTCHA or Challenge answers: a puzzle page with status 405, a silent
# challenge with status 202. Source: developer guide, "CAPTCHA and Challenge action
# behavior".
CAPTCHA_STATUS = 405
CHALLENGE_STATUS = 202

# The log record's action for each rule action.
_LOG_ACTION = {
    "Allow": "ALLOW",
    "Block": "BLOCK",
    "Count": "COUNT",
    "Captcha": "CAPTCHA",
    "Challenge": "CHALLENGE",
}

_TOKEN_TIME = re.compile(r"(?:^|:)(\d{1,12})$")


class NonexistentItemError(WafConfigError):
    """A statement references an IP set, regex pattern set or rule group not supplied."""

    code = "WAFNonexistentItemException"


def default_registry() -> dict[tuple[str, str], ManagedModel]:
    """A fresh registry of this package's managed group models (``managed.managed_groups()``,
    whose Bot Control remembers the timeline), or just Bot Control, or nothing, depending on
    which of the sibling modules exist."""
    try:
        from grader.aws.waf import managed

        return dict(managed.managed_groups())
    except (ImportError, AttributeError):
        pass
    try:
        from grader.aws.waf import botcontrol

        return {(botcontrol.VENDOR, botcontrol.NAME): botcontrol.BotControl()}
    except (ImportError, AttributeError):
        return {}


def token_state(request: WafRequest, immunity_sec: int) -> str:
    """``accepted``, ``absent`` or ``rejected``: the request's token under the model above."""
    value = next((v for k, v in cookies(request) if k == TOKEN_COOKIE and v), None)
    if value is None:
        return "absent"
    found = _TOKEN_TIME.search(value)
    if found is None:
        return "rejected"
    age = request.timestamp_ms / 1000 - int(found.group(1))
    return "accepted" if 0 <= age <= immunity_sec else "rejected"


def _arn_name(arn: str) -> str | None:
    # arn:aws:wafv2:<region>:<account>:<scope>/<kind>/<name>/<id>
    parts = arn.split("/")
    return parts[-2] if len(parts) >= 3 else None


class _Resources:
    """Sets supplied by the caller, found by ARN or by the name inside the ARN."""

    def __init__(self, items: Mapping[str, Any] | None, compile_one: Callable) -> None:
        self.by_key: dict[str, Any] = {}
        self.by_name: dict[str, Any] = {}
        for key, value in (items or {}).items():
            compiled = compile_one(value, key)
            self.by_key[key] = compiled
            if isinstance(value, Mapping):
                for alias in (value.get("ARN"), value.get("Name")):
                    if alias:
                        self.by_key.setdefault(alias, compiled)
                        self.by_name.setdefault(alias, compiled)
            name = _arn_name(key)
            if name:
                self.by_name.setdefault(name, compiled)

    def find(self, arn: str):
        found = self.by_key.get(arn)
        if found is None:
            found = self.by_name.get(_arn_name(arn) or arn)
        return found


def _compile_ip_set(value, key: str) -> IpSet:
    if isinstance(value, Mapping):
        value = value.get("IPSet", value).get("Addresses", [])
    return IpSet.parse(list(value), f"ip set {key}")


def _compile_regex_set(value, key: str) -> tuple[re.Pattern, ...]:
    if isinstance(value, Mapping):
        inner = value.get("RegexPatternSet", value)
        value = [r["RegexString"] for r in inner.get("RegularExpressionList", [])]
    return tuple(st.compile_regex(p, f"regex pattern set {key}") for p in value)


def _compile_group(value, key: str, account: str, warnings: list[str]) -> RuleGroup:
    if isinstance(value, RuleGroup):
        return value
    where = json.dumps(key)  # errors and warnings say which group, by its key
    try:
        group, found = parse_rule_group(value, account=account)
    except WafConfigError as exc:
        raise type(exc)(exc.message, json_path=f"{where}.{exc.json_path}") from None
    warnings.extend(f"{where}.{w}" for w in found)
    return group


class _Run:
    """One request's evaluation in progress."""

    def __init__(self, ctx: EvalContext) -> None:
        self.ctx = ctx
        self.non_terminating: list[RuleMatchInfo] = []
        self.inserted: list[tuple[str, str]] = []
        self.inspected_by: set[str] = set()


class WebAclEvaluator:
    """A compiled web ACL with everything it references, ready to judge requests.

    ``ip_sets`` and ``regex_pattern_sets`` map an ARN (or name) to the API's IPSet /
    RegexPatternSet JSON (or just the list of addresses / regex strings); ``rule_groups``
    map an ARN to a RuleGroup JSON; ``managed`` maps (VendorName, Name) to a group model
    (default: :func:`default_registry`). ``resource_type`` is the protected resource (it
    sets the body inspection limit); ``geo_lookup`` geolocates forwarded IP addresses.
    """

    def __init__(
        self,
        acl: WebAcl,
        *,
        ip_sets: Mapping[str, Any] | None = None,
        regex_pattern_sets: Mapping[str, Any] | None = None,
        rule_groups: Mapping[str, Any] | None = None,
        managed: Mapping[tuple[str, str], ManagedModel] | None = None,
        resource_type: str | None = None,
        geo_lookup: Callable[[str], str | None] | None = None,
        account: str = DEFAULT_ACCOUNT,
    ) -> None:
        self.acl = acl
        self.account = account
        self.managed = dict(default_registry() if managed is None else managed)
        self.body_limit = body_limit(acl.scope, resource_type, acl.association)
        self.geo_lookup = geo_lookup
        self.warnings: list[str] = []
        ip_res = _Resources(ip_sets, _compile_ip_set)
        regex_res = _Resources(regex_pattern_sets, _compile_regex_set)
        group_res = _Resources(
            rule_groups, lambda v, k: _compile_group(v, k, account, self.warnings)
        )
        self._ip_sets: dict[str, IpSet] = {}
        self._regex_sets: dict[str, tuple[re.Pattern, ...]] = {}
        self._groups: dict[str, RuleGroup] = {}
        self._resolve(acl.rules, ip_res, regex_res, group_res)
        # Rate-based state: (group ARN or "", rule name) -> aggregation key -> timestamps.
        self._rates: dict[tuple[str, str], dict[Any, deque[int]]] = {}

    # -- setup --

    def _resolve(self, rules: Sequence[Rule], ip_res, regex_res, group_res) -> None:
        for rule in rules:
            for node in st.walk(rule.statement):
                if isinstance(node, st.IpSetReference):
                    self._ip_sets[node.arn] = self._need(ip_res, node.arn, "IP set", rule)
                elif isinstance(node, st.RegexMatch) and node.set_arn is not None:
                    found = self._need(regex_res, node.set_arn, "regex pattern set", rule)
                    self._regex_sets[node.set_arn] = found
                elif isinstance(node, st.GroupReference):
                    group = group_res.find(node.arn)
                    if group is None:  # as an unmodelled managed group: said, never a crash
                        self.warnings.append(
                            f"{rule.path}: rule group {node.arn} was not supplied "
                            "(--rule-groups): it inspects nothing and never matches"
                        )
                        continue
                    self._groups[node.arn] = group
                    self._resolve(group.rules, ip_res, regex_res, group_res)
                elif (
                    isinstance(node, st.ManagedGroup)
                    and (node.vendor, node.name) not in self.managed
                ):
                    self.warnings.append(
                        f"{rule.path}: managed rule group {node.vendor}/{node.name} is not "
                        "modelled: it inspects nothing and never matches"
                    )

    @staticmethod
    def _need(resources: _Resources, arn: str, what: str, rule: Rule):
        found = resources.find(arn)
        if found is None:
            raise NonexistentItemError(
                f"The referenced {what} {arn} was not supplied: WAF couldn't perform the "
                "operation because your resource doesn't exist",
                json_path=f"{rule.path}.Statement",
            )
        return found

    # -- evaluation --

    def evaluate(self, request: WafRequest) -> Verdict:
        """The web ACL's verdict for ``request`` (requests in timestamp order)."""
        ctx = EvalContext(
            request,
            self.acl.label_namespace,
            ip_sets=self._ip_sets,
            regex_sets=self._regex_sets,
            body_limit=self.body_limit,
            geo_lookup=self.geo_lookup,
        )
        run = _Run(ctx)
        for rule in self.acl.rules:
            verdict = self._rule(rule, run, self.acl.bodies)
            if verdict is not None:
                return verdict
        default = self.acl.default_action
        if default.kind == "Allow":
            run.inserted.extend(default.insert_headers)
            return self._verdict(run, "ALLOW", "Default_Action", "REGULAR")
        return self._verdict(
            run,
            "BLOCK",
            "Default_Action",
            "REGULAR",
            response=self._response(default, self.acl.bodies),
        )

    def evaluate_all(self, requests: Iterable[WafRequest]) -> list[Verdict]:
        """:meth:`evaluate` for each request, in order."""
        return [self.evaluate(r) for r in requests]

    def _rule(self, rule: Rule, run: _Run, bodies: Bodies, group_arn: str = "") -> Verdict | None:
        statement = rule.statement
        if isinstance(statement, st.ManagedGroup):
            return self._managed(rule, statement, run)
        if isinstance(statement, st.GroupReference):
            return self._group(rule, statement, run)
        if isinstance(statement, st.RateBased):
            matched = self._rate(rule, statement, run.ctx, group_arn)
        else:
            matched = statement.matches(run.ctx)
        if not matched:
            return None
        for label in rule.labels:
            run.ctx.add_label(label)
        return self._act(rule.action, rule, run, bodies, rule.name, rule.kind, None)

    def _act(
        self,
        action: Action,
        rule: Rule,
        run: _Run,
        bodies: Bodies,
        rule_id: str,
        rule_type: str,
        group: str | None,
    ) -> Verdict | None:
        """Apply ``action`` for a matching rule; a Verdict when it ends the evaluation."""
        kind = action.kind
        if kind in ("Captcha", "Challenge"):
            immunity = rule.captcha_immunity if kind == "Captcha" else rule.challenge_immunity
            state = token_state(run.ctx.request, immunity)
            run.ctx.add_label(f"awswaf:managed:token:{state}")
            if state != "accepted":
                status = CAPTCHA_STATUS if kind == "Captcha" else CHALLENGE_STATUS
                response = CustomResponse(status, content_type="text/html")
                return self._verdict(
                    run, _LOG_ACTION[kind], rule_id, rule_type, group, response=response, keep=False
                )
        if kind in ("Count", "Captcha", "Challenge"):
            run.non_terminating.append(RuleMatchInfo(rule_id, _LOG_ACTION[kind], group))
            run.inserted.extend(action.insert_headers)
            return None
        if kind == "Allow":
            run.inserted.extend(action.insert_headers)
            return self._verdict(run, "ALLOW", rule_id, rule_type, group)
        return self._verdict(
            run,
            "BLOCK",
            rule_id,
            rule_type,
            group,
            response=self._response(action, bodies),
            keep=False,
        )

    @staticmethod
    def _response(action: Action, bodies: Bodies) -> CustomResponse | None:
        spec = action.response
        if spec is None:
            return None  # WAF's own answer: 403 Forbidden
        body = bodies.get(spec.body_key) if spec.body_key else None
        return CustomResponse(
            spec.status,
            spec.headers,
            body[1] if body else None,
            body[0] if body else None,
        )

    @staticmethod
    def _verdict(
        run: _Run,
        action: str,
        rule_id: str,
        rule_type: str,
        group: str | None = None,
        *,
        response: CustomResponse | None = None,
        keep: bool = True,
    ) -> Verdict:
        return Verdict(
            action=action,
            terminating_rule_id=rule_id,
            terminating_rule_type=rule_type,
            terminating_rule_group=group,
            labels=tuple(run.ctx.labels),
            non_terminating=tuple(run.non_terminating),
            custom_response=response,
            # A blocked request never reaches the origin, so no header is inserted.
            inserted_headers=tuple(run.inserted) if keep else (),
            inspected_by=frozenset(run.inspected_by),
        )

    # -- rule groups --

    def _managed(self, rule: Rule, group: st.ManagedGroup, run: _Run) -> Verdict | None:
        ctx = run.ctx
        if group.scope_down is not None and not group.scope_down.matches(ctx):
            return None
        model = self.managed.get((group.vendor, group.name))
        if model is None:
            return None
        outcome = model(ctx.request, dict(group.configs))
        if not outcome.inspected:
            return None
        run.inspected_by.add(group.name)
        for hit in outcome.hits:
            for label in hit.labels:
                ctx.add_label(label)
            if hit.name == LABELS_ONLY_HIT:
                continue
            action = rule.group_action(hit.name, Action(hit.action))
            verdict = self._act(
                action, rule, run, self.acl.bodies, hit.name, "MANAGED_RULE_GROUP", group.name
            )
            if verdict is not None:
                return verdict
        return None

    def _group(self, rule: Rule, ref: st.GroupReference, run: _Run) -> Verdict | None:
        group = self._groups.get(ref.arn)
        if group is None:  # not supplied: warned about, matches nothing
            return None
        ctx = run.ctx
        outer, ctx.namespace = ctx.namespace, group.label_namespace
        try:
            for inner in group.rules:
                if isinstance(inner.statement, st.RateBased):
                    matched = self._rate(inner, inner.statement, ctx, ref.arn)
                else:
                    matched = inner.statement.matches(ctx)
                if not matched:
                    continue
                for label in inner.labels:
                    ctx.add_label(label)
                action = rule.group_action(inner.name, inner.action)
                # A group rule's own Block answers with the group's bodies; an override,
                # written in the web ACL, with the web ACL's.
                bodies = group.bodies if action is inner.action else self.acl.bodies
                verdict = self._act(action, inner, run, bodies, inner.name, "GROUP", group.name)
                if verdict is not None:
                    return verdict
        finally:
            ctx.namespace = outer
        return None

    # -- rate-based rules --

    def _rate(self, rule: Rule, rate: st.RateBased, ctx: EvalContext, group_arn: str) -> bool:
        if rate.scope_down is not None and not rate.scope_down.matches(ctx):
            return False
        key = self._rate_key(rate, ctx)
        if key is None:
            return False  # a request missing a key component is not counted (API reference)
        if key is _FALLBACK_MATCH:
            return True
        now = ctx.request.timestamp_ms
        window = self._rates.setdefault((group_arn, rule.name), {}).setdefault(key, deque())
        window.append(now)
        cutoff = now - rate.window_sec * 1000
        while window and window[0] <= cutoff:
            window.popleft()
        return len(window) > rate.limit

    def _rate_key(self, rate: st.RateBased, ctx: EvalContext):
        request = ctx.request
        if rate.key_type == "CONSTANT":
            return ()
        if rate.key_type == "IP":
            return ("IP", request.client_ip)
        if rate.key_type == "FORWARDED_IP":
            return _forwarded_key(rate, request)
        parts = []
        for key in rate.custom_keys:
            part = _custom_key(key, rate, ctx)
            if part is None or part is _FALLBACK_MATCH:
                return part
            parts.append(part)
        return tuple(parts)


_FALLBACK_MATCH = object()  # a forwarded IP that is not valid, with FallbackBehavior MATCH


def _forwarded_key(rate: st.RateBased, request: WafRequest):
    if rate.forwarded is None:
        return None
    found = rate.forwarded.addresses(request)
    if found is None:
        return None
    if found[0] is None:
        return _FALLBACK_MATCH if rate.forwarded.fallback == "MATCH" else None
    return ("FORWARDED_IP", str(found[0]))


def _custom_key(key: st.CustomKey, rate: st.RateBased, ctx: EvalContext):
    request = ctx.request
    kind, name = key.kind, (key.name or "")
    value: str | tuple | None
    if kind == "IP":
        value = request.client_ip
    elif kind == "ForwardedIP":
        return _forwarded_key(rate, request)
    elif kind == "HTTPMethod":
        value = request.method
    elif kind == "UriPath":
        value = request.uri
    elif kind == "QueryString":
        value = request.args or None
    elif kind == "Header":
        value = request.header(name)
    elif kind == "Cookie":
        value = next((v for k, v in cookies(request) if k == name), None)
    elif kind == "QueryArgument":
        value = next((v for k, v in query_args(request.args) if k.lower() == name.lower()), None)
    elif kind == "LabelNamespace":
        prefix = name if name.endswith(":") else name + ":"
        value = tuple(label for label in ctx.labels if label.startswith(prefix)) or None
        return (kind, value) if value else None
    else:
        return None  # JA3/JA4 fingerprints, ASN: not modelled, so every request lacks them
    if value is None:
        return None
    return (kind, name, key.transforms(value))
