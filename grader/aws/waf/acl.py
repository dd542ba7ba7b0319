"""Loading a web ACL: the API's JSON in, a compiled, frozen model (and warnings) out.

A web ACL arrives as a ``CreateWebACL`` request or as ``get_web_acl`` returns it (wrapped in
``{"WebACL": ..., "LockToken": ...}`` or not). :func:`parse_web_acl` checks it in WAF's own
order: first the API's shapes, with botocore's parameter validation (and the enum values,
which botocore leaves to the service); then what WAF's service checks refuse, worded like
its ``WAFInvalidParameterException``. Every error is a :class:`WafConfigError` with the
JSON path (``Rules[2].Statement``). What is suspicious but possibly right (a label match no
earlier rule can satisfy; a statement the engine models as never matching) comes back as a
warning beside the ACL, for the caller to show or ignore.

Sources: botocore's WAFv2 model (CreateWebACL, WebACL, Rule, RuleAction, CustomResponse)
and the developer guide pages cited beside each table.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.aws import botomodel
from grader.aws.jsonfile import load_json
from grader.aws.waf import statements as st
from grader.aws.waf.statements import EXACTLY_ONE, WafConfigError, invalid

# The account in label namespaces when the caller names none (AWS's documentation account).
DEFAULT_ACCOUNT = "111122223333"

# Rule actions (RuleAction's members) and which of them end the evaluation. Count never
# does; CAPTCHA and Challenge do unless the request carries a valid token.
RULE_ACTIONS = ("Allow", "Block", "Count", "Captcha", "Challenge")

# Statements that run a rule group: their rule takes OverrideAction, every other rule Action.
GROUP_STATEMENTS = ("ManagedRuleGroupStatement", "RuleGroupReferenceStatement")

# The status codes a Block custom response may use. Source: developer guide, "Supported
# status codes for custom responses" (customizing-the-response-status-codes.html).
CUSTOM_RESPONSE_CODES = frozenset(
    (200, 201, 202, 204, 206)
    + (300, 301, 302, 303, 304, 307, 308)
    + (400, 401, 402, 403, 404, 405, 408, 409, 411, 412, 413, 414, 415, 416, 421, 429)
    + (500, 501, 502, 503, 504, 505)
)

# CustomResponseBody ContentType -> the Content-Type WAF sends (API reference,
# ResponseContentType).
CONTENT_TYPES = {
    "TEXT_PLAIN": "text/plain",
    "TEXT_HTML": "text/html",
    "APPLICATION_JSON": "application/json",
}

# Label namespaces of the AWS managed rule groups, for the label-match warning. Source:
# developer guide, "AWS Managed Rules rule groups list" (each group's label namespace,
# awswaf:managed:aws:<group>:); plus the token labels that Bot Control and the fraud
# control groups add (awswaf:managed:token:, "Token labels").
MANAGED_LABEL_NAMESPACES = {
    "AWSManagedRulesBotControlRuleSet": "awswaf:managed:aws:bot-control:",
    "AWSManagedRulesCommonRuleSet": "awswaf:managed:aws:core-rule-set:",
    "AWSManagedRulesAdminProtectionRuleSet": "awswaf:managed:aws:admin-protection:",
    "AWSManagedRulesKnownBadInputsRuleSet": "awswaf:managed:aws:known-bad-inputs:",
    "AWSManagedRulesSQLiRuleSet": "awswaf:managed:aws:sql-database:",
    "AWSManagedRulesLinuxRuleSet": "awswaf:managed:aws:linux-os:",
    "AWSManagedRulesUnixRuleSet": "awswaf:managed:aws:posix-os:",
    "AWSManagedRulesWindowsRuleSet": "awswaf:managed:aws:windows-os:",
    "AWSManagedRulesPHPRuleSet": "awswaf:managed:aws:php-app:",
    "AWSManagedRulesWordPressRuleSet": "awswaf:managed:aws:wordpress-app:",
    "AWSManagedRulesAmazonIpReputationList": "awswaf:managed:aws:amazon-ip-list:",
    "AWSManagedRulesAnonymousIpList": "awswaf:managed:aws:anonymous-ip-list:",
    "AWSManagedRulesATPRuleSet": "awswaf:managed:aws:atp:",
    "AWSManagedRulesACFPRuleSet": "awswaf:managed:aws:acfp:",
    "AWSManagedRulesAntiDDoSRuleSet": "awswaf:managed:aws:anti-ddos:",
}
TOKEN_NAMESPACE = "awswaf:managed:token:"
# Groups that read the token and so add token labels (developer guide, "Token labels").
TOKEN_GROUPS = frozenset(
    {"AWSManagedRulesBotControlRuleSet", "AWSManagedRulesATPRuleSet", "AWSManagedRulesACFPRuleSet"}
)


class WafParameterError(WafConfigError):
    """A web ACL that is not even a valid CreateWebACL request (botocore refuses it)."""

    code = "ParamValidationError"


class WafValidationError(WafConfigError):
    """A value outside the API's enumerations (the service's ValidationException)."""

    code = "ValidationException"


@dataclass(frozen=True)
class AclWarning:
    """Something the engine will run but that looks wrong or is modelled loosely."""

    json_path: str
    message: str

    def __str__(self) -> str:
        return f"{self.json_path}: {self.message}"


@dataclass(frozen=True)
class ResponseSpec:
    """A Block action's CustomResponse: status, response headers, body key."""

    status: int
    headers: tuple[tuple[str, str], ...] = ()
    body_key: str | None = None


@dataclass(frozen=True)
class Action:
    """A rule's (or the default) action: its kind, the request headers it inserts (already
    prefixed ``x-amzn-waf-``), and a Block's custom response."""

    kind: str
    insert_headers: tuple[tuple[str, str], ...] = ()
    response: ResponseSpec | None = None


COUNT = Action("Count")


@dataclass(frozen=True)
class Rule:
    """One rule, compiled. ``action`` is None for a rule group rule, which has
    ``override_count`` instead (OverrideAction Count, or None) and ``overrides``: the
    group's rules whose action the web ACL replaces (RuleActionOverrides, then
    ExcludedRules as Count), each compiled like a rule's action."""

    name: str
    priority: int
    statement: Any
    action: Action | None
    override_count: bool
    labels: tuple[str, ...]  # fully qualified (namespace + RuleLabels name)
    captcha_immunity: int
    challenge_immunity: int
    path: str
    overrides: tuple[tuple[str, Action], ...] = ()

    def group_action(self, rule_name: str, default: Action) -> Action:
        """The action a rule of this rule's group takes, after the web ACL's overrides."""
        if self.override_count:
            return COUNT
        for name, action in self.overrides:
            if name == rule_name:
                return action
        return default

    @property
    def kind(self) -> str:
        """REGULAR, RATE_BASED, MANAGED_RULE_GROUP or GROUP, as WAF's logs say."""
        if isinstance(self.statement, st.RateBased):
            return "RATE_BASED"
        if isinstance(self.statement, st.ManagedGroup):
            return "MANAGED_RULE_GROUP"
        if isinstance(self.statement, st.GroupReference):
            return "GROUP"
        return "REGULAR"


@dataclass(frozen=True)
class Bodies:
    """CustomResponseBodies: key -> (Content-Type, content)."""

    items: tuple[tuple[str, tuple[str, str]], ...] = ()

    def get(self, key: str) -> tuple[str, str] | None:
        return dict(self.items).get(key)


@dataclass(frozen=True)
class WebAcl:
    """A compiled web ACL: rules in priority order, ready for the evaluator."""

    name: str
    scope: str
    default_action: Action
    rules: tuple[Rule, ...]
    bodies: Bodies
    label_namespace: str
    captcha_immunity: int = 300
    challenge_immunity: int = 300
    association_config: tuple = ()  # AssociationConfig as sorted items (frozen)

    @property
    def association(self) -> dict:
        return _thaw(self.association_config)


@dataclass(frozen=True)
class RuleGroup:
    """A customer rule group (``get_rule_group``'s RuleGroup), compiled like a web ACL."""

    name: str
    arn: str
    rules: tuple[Rule, ...]
    bodies: Bodies
    label_namespace: str


def _freeze(value):
    if isinstance(value, Mapping):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    return value


def _thaw(value):
    if isinstance(value, tuple) and all(isinstance(i, tuple) and len(i) == 2 for i in value):
        return {k: _thaw(v) for k, v in value}
    return value


# --- the API's shapes -----------------------------------------------------------------------


def _service_model():
    """WAFv2's API model (its request shapes)."""
    return botomodel.service_model("wafv2")


def unwrap(document: Mapping[str, Any]) -> tuple[dict, bool]:
    """The web ACL itself, and whether it came from get_web_acl (which has read-only fields
    CreateWebACL does not take)."""
    if "WebACL" in document and isinstance(document["WebACL"], Mapping):
        return dict(document["WebACL"]), True
    # get_web_acl's WebACL always has its ARN and Id; a request that merely has a stray
    # read-only member (Capacity, say) is a request, and the API refuses it.
    exported = "ARN" in document and "Id" in document
    return dict(document), exported


def _scope_from_arn(arn: str | None) -> str:
    # arn:aws:wafv2:<region>:<account>:global/webacl/... is CloudFront's; regional/... the rest.
    return "CLOUDFRONT" if arn and ":global/" in arn else "REGIONAL"


def as_create_request(document: Mapping[str, Any]) -> dict:
    """The CreateWebACL request a web ACL (in either shape) amounts to."""
    acl, exported = unwrap(document)
    if not exported:
        return acl
    members = _service_model().operation_model("CreateWebACL").input_shape.members
    request = {k: v for k, v in acl.items() if k in members}
    request.setdefault("Scope", _scope_from_arn(acl.get("ARN")))
    return request


def validate_shapes(
    request: Any, operation: str = "CreateWebACL", *, shape=None, at: str = ""
) -> None:
    """botocore's parameter validation of ``request`` as ``operation``'s input (or as
    ``shape``, found at JSON path ``at``), then the enum values; the first problem is raised
    with its JSON path."""
    from botocore.validate import ParamValidator

    deep = _too_deep(request)
    if deep is not None:
        raise WafParameterError(
            f"the document nests objects and lists more than {MAX_NESTING} levels deep; a "
            "real rule needs a few levels (nest AND, OR and NOT sparingly)",
            json_path=(f"{at}." if at and deep else at) + deep,
        )
    if shape is None:
        shape = _service_model().operation_model(operation).input_shape
    report = ParamValidator().validate(request, shape)
    if report.has_errors():
        error_type, name, extra = report._errors[0]  # botocore keeps the report's parts here
        name = name.lstrip(".")
        if at:
            name = at + name if name.startswith("[") or not name else f"{at}.{name}"
        path = name
        if error_type == "missing required field":
            path = f"{name}.{extra['required_name']}" if name else extra["required_name"]
        elif error_type == "unknown field":
            path = f"{name}.{extra['unknown_param']}" if name else extra["unknown_param"]
        message = report._format_error((error_type, name, extra))
        raise WafParameterError(message, json_path=path)
    _check_enums(request, shape, at)


# How deeply a web ACL, rule group or logging configuration may nest objects and lists.
# WAF documents no number, but botocore's validator (and this engine) recurse once per
# level; a rule with ten nested logical statements is about 40 levels of JSON.
MAX_NESTING = 100


def _too_deep(document: Any, limit: int = MAX_NESTING) -> str | None:
    """The JSON path of the first value nested more than ``limit`` levels, or None.
    A stack, not recursion, so no depth can break the check itself."""
    stack: list[tuple[Any, str, int]] = [(document, "", 0)]
    while stack:
        value, path, depth = stack.pop()
        if depth > limit:
            return path
        if isinstance(value, Mapping):
            for key, item in value.items():
                stack.append((item, f"{path}.{key}" if path else str(key), depth + 1))
        elif isinstance(value, list):
            for i, item in enumerate(value):
                stack.append((item, f"{path}[{i}]", depth + 1))
    return None


def _check_enums(value, shape, path: str) -> None:
    kind = shape.type_name
    if kind == "structure" and isinstance(value, Mapping):
        for key, member in shape.members.items():
            if key in value:
                _check_enums(value[key], member, f"{path}.{key}" if path else key)
    elif kind == "list" and isinstance(value, list):
        for i, item in enumerate(value):
            _check_enums(item, shape.member, f"{path}[{i}]")
    elif kind == "map" and isinstance(value, Mapping):
        for key, item in value.items():
            _check_enums(key, shape.key, f"{path}.{key}")
            _check_enums(item, shape.value, f"{path}.{key}")
    elif kind == "string" and shape.enum:
        allowed = _ENUM_UPDATES.get(shape.name, shape.enum)
        if value not in allowed:
            raise WafValidationError(
                f"Value '{value}' at '{path}' failed to satisfy constraint: "
                f"Member must satisfy enum value set: [{', '.join(allowed)}]",
                json_path=path,
            )


def _enum_updates() -> dict[str, tuple[str, ...]]:
    """Enumerations the installed botocore may lag behind: the API reference's current
    TextTransformationType has 31 members where older botocore models list 21."""
    from grader.aws.waf.transforms import TRANSFORMATION_TYPES

    return {"TextTransformationType": tuple(TRANSFORMATION_TYPES)}


_ENUM_UPDATES = _enum_updates()


# --- WAF's own checks, and compiling ------------------------------------------------------


def _one(d: Mapping, path: str, field_name: str, parameter: str) -> str:
    if not isinstance(d, Mapping) or len(d) != 1:
        raise invalid(EXACTLY_ONE, field_name, parameter, path)
    return next(iter(d))


def _headers(items, prefix: str = "") -> tuple[tuple[str, str], ...]:
    return tuple((prefix + h["Name"], h["Value"]) for h in items or ())


def _action(d: Mapping, path: str, bodies: Bodies, *, default: bool = False) -> Action:
    kind = _one(d, path, "DEFAULT_ACTION" if default else "RULE_ACTION", "Action")
    body = d[kind] or {}
    handling = body.get("CustomRequestHandling")
    response = body.get("CustomResponse")
    if handling is not None and kind == "Block":
        raise invalid(
            "CustomRequestHandling isn't valid for a Block action: it inserts headers into a "
            "request that WAF lets through",
            "CUSTOM_REQUEST_HANDLING",
            "CustomRequestHandling",
            f"{path}.{kind}.CustomRequestHandling",
        )
    if response is not None and kind != "Block":
        raise invalid(
            f"CustomResponse is valid only for a Block action, not {kind}",
            "CUSTOM_RESPONSE",
            "CustomResponse",
            f"{path}.{kind}.CustomResponse",
        )
    spec = None
    if response is not None:
        here = f"{path}.{kind}.CustomResponse"
        code = response.get("ResponseCode")
        if code not in CUSTOM_RESPONSE_CODES:
            raise invalid(
                f"The response code {code} isn't supported for a custom response; use one of "
                "the supported 2xx, 3xx, 4xx or 5xx codes",
                "CUSTOM_RESPONSE",
                "ResponseCode",
                f"{here}.ResponseCode",
            )
        key = response.get("CustomResponseBodyKey")
        if key is not None and bodies.get(key) is None:
            raise invalid(
                f"The CustomResponseBodyKey {key!r} isn't defined in CustomResponseBodies",
                "CUSTOM_RESPONSE_BODY_KEY",
                "CustomResponseBodyKey",
                f"{here}.CustomResponseBodyKey",
            )
        names = [h["Name"].lower() for h in response.get("ResponseHeaders") or ()]
        if "content-type" in names or len(set(names)) != len(names):
            raise invalid(
                "A response header is duplicated or is content-type, which WAF sets itself",
                "CUSTOM_RESPONSE",
                "ResponseHeaders",
                f"{here}.ResponseHeaders",
            )
        spec = ResponseSpec(code, _headers(response.get("ResponseHeaders")), key)
    inserted = _headers((handling or {}).get("InsertHeaders"), "x-amzn-waf-")
    names = [n.lower() for n, _ in inserted]
    if len(set(names)) != len(names):
        raise invalid(
            "A duplicate header name was found in InsertHeaders",
            "CUSTOM_REQUEST_HANDLING",
            "InsertHeaders",
            f"{path}.{kind}.CustomRequestHandling.InsertHeaders",
        )
    return Action(kind, inserted, spec)


def _immunity(config: Mapping | None, fallback: int) -> int:
    prop = (config or {}).get("ImmunityTimeProperty") or {}
    return int(prop.get("ImmunityTime", fallback))


def _bodies(d: Mapping | None) -> Bodies:
    return Bodies(
        tuple(
            (key, (CONTENT_TYPES.get(v["ContentType"], "text/plain"), v["Content"]))
            for key, v in sorted((d or {}).items())
        )
    )


def parse_rules(
    rules: list,
    namespace: str,
    bodies: Bodies,
    warnings: list,
    *,
    captcha: int = 300,
    challenge: int = 300,
    in_group: bool = False,
) -> tuple[Rule, ...]:
    """Compile a Rules list (of a web ACL or a rule group) and apply WAF's checks."""
    names: dict[str, int] = {}
    priorities: dict[int, int] = {}
    compiled = []
    for i, r in enumerate(rules):
        path = f"Rules[{i}]"
        name, priority = r["Name"], r["Priority"]
        if name in names:
            raise invalid(
                f"A duplicate rule name was found: {name!r} is also Rules[{names[name]}]",
                "RULE",
                "Name",
                f"{path}.Name",
            )
        if priority in priorities:
            raise invalid(
                f"A duplicate rule priority was found: {priority} is also the priority of "
                f"Rules[{priorities[priority]}]; priorities must all be different",
                "RULE",
                "Priority",
                f"{path}.Priority",
            )
        names[name], priorities[priority] = i, i
        kind = st.statement_kind(r["Statement"], f"{path}.Statement")
        statement = st.parse_statement(r["Statement"], f"{path}.Statement", warnings, top=True)
        references_group = kind in GROUP_STATEMENTS
        if in_group and references_group:
            raise invalid(
                "A rule group can't reference another rule group",
                "STATEMENT",
                kind,
                f"{path}.Statement.{kind}",
            )
        has_action, has_override = "Action" in r, "OverrideAction" in r
        if references_group and (has_action or not has_override):
            raise invalid(
                f"A rule whose statement is a {kind} takes OverrideAction (None or Count), "
                "not Action",
                "RULE",
                "OverrideAction",
                f"{path}.{'Action' if has_action else 'OverrideAction'}",
            )
        if not references_group and (has_override or not has_action):
            raise invalid(
                "OverrideAction is valid only for a rule group statement; this rule takes Action",
                "RULE",
                "Action",
                f"{path}.{'OverrideAction' if has_override else 'Action'}",
            )
        action = _action(r["Action"], f"{path}.Action", bodies) if has_action else None
        override = None
        if has_override:
            override = _one(
                r["OverrideAction"], f"{path}.OverrideAction", "OVERRIDE_ACTION", "OverrideAction"
            )
        labels = tuple(namespace + label["Name"] for label in r.get("RuleLabels") or ())
        if labels and references_group:
            raise invalid(
                "RuleLabels aren't valid on a rule group rule: the group's rules add labels",
                "RULE",
                "RuleLabels",
                f"{path}.RuleLabels",
            )
        overrides: list[tuple[str, Action]] = []
        if references_group:
            body = r["Statement"][kind]
            for j, o in enumerate(body.get("RuleActionOverrides") or ()):
                where = f"{path}.Statement.{kind}.RuleActionOverrides[{j}].ActionToUse"
                overrides.append((o["Name"], _action(o["ActionToUse"], where, bodies)))
            overrides += [(e["Name"], COUNT) for e in body.get("ExcludedRules") or ()]
        compiled.append(
            Rule(
                name,
                priority,
                statement,
                action,
                override == "Count",
                labels,
                _immunity(r.get("CaptchaConfig"), captcha),
                _immunity(r.get("ChallengeConfig"), challenge),
                path,
                tuple(overrides),
            )
        )
    return tuple(sorted(compiled, key=lambda rule: rule.priority))


def _success_blocks(rules: tuple[Rule, ...], default: Action) -> list[AclWarning]:
    """Blocks that answer 2xx: WAF accepts them (the supported codes include 200-206), but
    clients, caches and monitoring read the answer as a success."""
    found = [(f"{r.path}.Action.Block", r.action) for r in rules if r.action is not None]
    found.append(("DefaultAction.Block", default))
    return [
        AclWarning(
            f"{where}.CustomResponse.ResponseCode",
            f"a Block that answers {action.response.status} tells clients, caches and "
            "monitoring that the request succeeded; a 4xx code says it was refused",
        )
        for where, action in found
        if action.kind == "Block" and action.response and 200 <= action.response.status < 300
    ]


def _label_warnings(rules: tuple[Rule, ...], namespace: str) -> list[AclWarning]:
    """Label matches that no rule evaluated earlier can satisfy (labels may still come from
    a group the engine does not model, so these are warnings)."""
    found: list[AclWarning] = []
    emitted: list[str] = []  # full labels, or namespaces ending in ":"
    for rule in rules:
        for node in st.walk(rule.statement):
            if isinstance(node, st.LabelMatch):
                key = st.full_label_key(node.key, namespace)
                if not _could_emit(key, node.scope, emitted):
                    found.append(
                        AclWarning(
                            rule.path + ".Statement",
                            f"no rule with a lower priority than {rule.name!r} adds a label "
                            f"matching {node.key!r} ({node.scope}); a label match only sees "
                            "labels added by rules that ran before it",
                        )
                    )
        emitted.extend(rule.labels)
        statement = rule.statement
        if isinstance(statement, st.ManagedGroup):
            ns = MANAGED_LABEL_NAMESPACES.get(statement.name)
            emitted.append(ns or f"awswaf:managed:{statement.vendor.lower()}:")
            if statement.name in TOKEN_GROUPS:
                emitted.append(TOKEN_NAMESPACE)
        elif isinstance(statement, st.GroupReference):
            emitted.append("awswaf:")  # a customer group: its labels are not known here
        if rule.action is not None and rule.action.kind in ("Captcha", "Challenge"):
            emitted.append(TOKEN_NAMESPACE)
        if any(isinstance(n, st.GeoMatch) for n in st.walk(statement)):
            emitted.extend(("awswaf:clientip:geo:", "awswaf:forwardedip:geo:"))
    return found


def _could_emit(key: str, scope: str, emitted: list[str]) -> bool:
    wanted = key if scope == "LABEL" or key.endswith(":") else key + ":"
    for label in emitted:
        if label.endswith(":"):  # a namespace some group adds labels under
            if wanted.startswith(label) or (scope != "LABEL" and label.startswith(wanted)):
                return True
        elif label == wanted if scope == "LABEL" else label.startswith(wanted):
            return True
    return False


def parse_web_acl(
    document: Mapping[str, Any], *, account: str = DEFAULT_ACCOUNT
) -> tuple[WebAcl, tuple[AclWarning, ...]]:
    """A web ACL (CreateWebACL request or get_web_acl answer) compiled, with its warnings.
    Raises :class:`WafConfigError` for what the API or WAF would refuse."""
    if not isinstance(document, Mapping):
        raise WafParameterError("a web ACL is a JSON object (a CreateWebACL request)")
    acl, _ = unwrap(document)
    request = as_create_request(document)
    validate_shapes(request)
    name = request["Name"]
    namespace = acl.get("LabelNamespace") or f"awswaf:{account}:webacl:{name}:"
    bodies = _bodies(request.get("CustomResponseBodies"))
    captcha = _immunity(request.get("CaptchaConfig"), 300)
    challenge = _immunity(request.get("ChallengeConfig"), 300)
    raw: list = []
    rules = parse_rules(
        request.get("Rules") or [], namespace, bodies, raw, captcha=captcha, challenge=challenge
    )
    default = _action(request["DefaultAction"], "DefaultAction", bodies, default=True)
    if default.kind not in ("Allow", "Block"):
        raise invalid(EXACTLY_ONE, "DEFAULT_ACTION", "DefaultAction", "DefaultAction")
    warnings = [AclWarning(p, m) for p, m in raw] + _label_warnings(rules, namespace)
    warnings += _success_blocks(rules, default)
    model = WebAcl(
        name,
        request["Scope"],
        default,
        rules,
        bodies,
        namespace,
        captcha,
        challenge,
        _freeze(request.get("AssociationConfig") or {}),
    )
    return model, tuple(warnings)


def parse_rule_group(
    document: Mapping[str, Any], *, account: str = DEFAULT_ACCOUNT
) -> tuple[RuleGroup, tuple[AclWarning, ...]]:
    """A customer rule group (``get_rule_group``'s answer, wrapped or not), compiled."""
    group = dict(document.get("RuleGroup", document))
    name = group.get("Name")
    if not isinstance(name, str) or not isinstance(group.get("Rules", []), list):
        raise WafParameterError("a rule group needs a Name and a Rules list", json_path="Name")
    namespace = group.get("LabelNamespace") or f"awswaf:{account}:rulegroup:{name}:"
    bodies = _bodies(group.get("CustomResponseBodies"))
    validate_shapes(group.get("Rules") or [], shape=_service_model().shape_for("Rules"), at="Rules")
    raw: list = []
    rules = parse_rules(group.get("Rules") or [], namespace, bodies, raw, in_group=True)
    warnings = [AclWarning(p, m) for p, m in raw] + _label_warnings(rules, namespace)
    return RuleGroup(name, group.get("ARN", ""), rules, bodies, namespace), tuple(warnings)


def load_web_acl(
    path: str | Path, *, account: str = DEFAULT_ACCOUNT
) -> tuple[WebAcl, tuple[AclWarning, ...]]:
    """:func:`parse_web_acl` on a JSON file; errors name the file."""
    document = load_json(path, what="a JSON object (a web ACL)")
    try:
        return parse_web_acl(document, account=account)
    except WafConfigError as exc:
        raise type(exc)(exc.message, file=path, json_path=exc.json_path) from None


# The name the replay module uses, and a longer one that says it reads a file.
load_web_acl_file = load_web_acl
