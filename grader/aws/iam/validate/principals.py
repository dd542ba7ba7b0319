"""Validator checks of the Principal and NotPrincipal elements, and of role trust policies.

Kept apart from ``validate`` because principals have rules of their own: only resource
policies and role trust policies name them, each principal type (AWS, Service, Federated,
CanonicalUser) has its own format, and in an Allow they must be read together with the
statement's actions and conditions (who a service acts for, which identity provider may
assume a role).

Access Analyzer's checks implemented here (``findings.CHECKS``): MISSING_PRINCIPAL,
UNSUPPORTED_PRINCIPAL, SCP_SYNTAX_ERROR_PRINCIPAL, INVALID_PRINCIPAL_FORMAT,
INVALID_PRINCIPAL_KEY, EMPTY_ARRAY_PRINCIPAL, EMPTY_OBJECT_PRINCIPAL,
UNSUPPORTED_WILDCARD_IN_PRINCIPAL, INVALID_SERVICE_PRINCIPAL_FORMAT, INVALID_ROLE_REFERENCE,
INVALID_USER_REFERENCE, FEDERATED_PRINCIPAL_NOT_SUPPORTED, ALLOW_WITH_NOT_PRINCIPAL,
RESTRICT_ACCESS_TO_SERVICE_PRINCIPAL, RECOMMENDED_CONDITION_KEY_FOR_SERVICE_PRINCIPAL; for role
trust policies ROLE_TRUST_POLICY_SYNTAX_ERROR_NOTPRINCIPAL,
ROLE_TRUST_POLICY_UNSUPPORTED_WILDCARD_IN_PRINCIPAL,
INVALID_FEDERATED_PRINCIPAL_SYNTAX_IN_ROLE_TRUST_POLICY, MISMATCHED_ACTION_FOR_PRINCIPAL,
MISSING_CONDITION_KEY_FOR_OIDC_PRINCIPAL, MISSING_GITHUB_REPO_CONDITION_KEY,
MISSING_ACTION_FOR_ROLES_ANYWHERE_TRUST_POLICY and REDUNDANT_PRINCIPAL_IN_ROLE_TRUST_POLICY.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ..model import PolicyType
from .run import StatementView, ValidationRun, as_list, has_wildcard

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
# Condition keys that say on whose behalf a service principal acts (confused deputy).
SOURCE_KEYS = frozenset(
    ("aws:sourcearn", "aws:sourceaccount", "aws:sourceorgid", "aws:sourceorgpaths")
)
_UNIQUE_ID = re.compile(r"(AIDA|AROA)[A-Z0-9]{12,}")
_SERVICE_PRINCIPAL = re.compile(r"[a-z0-9][a-z0-9.-]*\.(amazonaws\.com(\.cn)?|amazon\.com)")
_PROVIDER_ARN = re.compile(r"arn:aws[a-z-]*:iam::\d{12}:(saml-provider|oidc-provider)/.+")
_DOMAIN = re.compile(r"[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+(/[^\s]*)?")


def check_principals(run: ValidationRun, st: StatementView) -> None:
    """Check Principal/NotPrincipal: allowed in this policy type, well formed, safe in an Allow."""
    present = [e for e in ("Principal", "NotPrincipal") if e in st.raw]
    if run.policy_type in (PolicyType.IDENTITY, PolicyType.SCP):
        code = (
            "UNSUPPORTED_PRINCIPAL"
            if run.policy_type == PolicyType.IDENTITY
            else "SCP_SYNTAX_ERROR_PRINCIPAL"
        )
        for element in present:
            run.add(
                code, (*st.path, element), st, at_key=True, element=element, policy_type="Identity"
            )
        return
    if not present:
        run.add("MISSING_PRINCIPAL", st.path, st)
        return
    if "NotPrincipal" in st.raw:
        if run.trust:
            run.add(
                "ROLE_TRUST_POLICY_SYNTAX_ERROR_NOTPRINCIPAL",
                (*st.path, "NotPrincipal"),
                st,
                at_key=True,
            )
        elif st.effect == "Allow":
            run.add("ALLOW_WITH_NOT_PRINCIPAL", (*st.path, "NotPrincipal"), st, at_key=True)
    for element in present:
        _principal(run, st, element)
    if "Principal" in st.raw and isinstance(st.raw["Principal"], Mapping) and st.effect == "Allow":
        _principal_statement(run, st, st.raw["Principal"])


def _principal(run: ValidationRun, st: StatementView, element: str) -> None:
    value = st.raw[element]
    path = (*st.path, element)
    if value == "*":
        if run.trust and element == "Principal":
            run.add("ROLE_TRUST_POLICY_UNSUPPORTED_WILDCARD_IN_PRINCIPAL", path, st)
        return
    if not isinstance(value, Mapping):
        run.add("INVALID_PRINCIPAL_FORMAT", path, st)
        return
    if not value:
        run.add("EMPTY_OBJECT_PRINCIPAL", path, st)
        return
    for key, raw in value.items():
        key_path = (*path, key)
        if key not in PRINCIPAL_KEYS:
            run.add("INVALID_PRINCIPAL_KEY", key_path, st, at_key=True, key=key)
            continue
        if raw == []:
            run.add("EMPTY_ARRAY_PRINCIPAL", key_path, st)
            continue
        items = as_list(raw)
        if not all(isinstance(v, str) for v in items):
            run.add(
                "DATA_TYPE_MISMATCH",
                key_path,
                st,
                element=key,
                expected="a string or a list of strings",
            )
            continue
        for i, item in enumerate(items):
            item_path = (*key_path, i) if isinstance(raw, list) else key_path
            _principal_value(run, st, key, item, item_path)


def _principal_value(
    run: ValidationRun, st: StatementView, key: str, value: str, path: tuple
) -> None:
    if key == "AWS":
        if value == "*":
            if run.trust:
                run.add("ROLE_TRUST_POLICY_UNSUPPORTED_WILDCARD_IN_PRINCIPAL", path, st)
        elif has_wildcard(value):
            run.add("UNSUPPORTED_WILDCARD_IN_PRINCIPAL", path, st, key=key, value=value)
        elif _UNIQUE_ID.fullmatch(value):
            code = (
                "INVALID_USER_REFERENCE" if value.startswith("AIDA") else "INVALID_ROLE_REFERENCE"
            )
            run.add(code, path, st, value=value)
    elif key == "Service":
        if has_wildcard(value):
            run.add("UNSUPPORTED_WILDCARD_IN_PRINCIPAL", path, st, key=key, value=value)
        elif not _SERVICE_PRINCIPAL.fullmatch(value):
            run.add("INVALID_SERVICE_PRINCIPAL_FORMAT", path, st, value=value)
    elif key == "Federated":
        if not run.trust:
            run.add("FEDERATED_PRINCIPAL_NOT_SUPPORTED", path, st)
        elif has_wildcard(value):
            run.add("UNSUPPORTED_WILDCARD_IN_PRINCIPAL", path, st, key=key, value=value)
        elif not (
            _PROVIDER_ARN.fullmatch(value) or (":" not in value and _DOMAIN.fullmatch(value))
        ):
            run.add(
                "INVALID_FEDERATED_PRINCIPAL_SYNTAX_IN_ROLE_TRUST_POLICY", path, st, value=value
            )


def _principal_statement(
    run: ValidationRun, st: StatementView, principal: Mapping[str, Any]
) -> None:
    """Checks of an Allow statement's principals together with its actions and conditions."""
    path = (*st.path, "Principal")
    keys = st.condition_keys()
    services = [s for s in as_list(principal.get("Service", [])) if isinstance(s, str)]
    if services and not run.trust and not keys & SOURCE_KEYS:
        others = sorted(k for k in keys if k.startswith("aws:"))
        for service in services:
            if others:
                shown = _key_spelling(st, others[0])
                run.add(
                    "RECOMMENDED_CONDITION_KEY_FOR_SERVICE_PRINCIPAL",
                    path,
                    st,
                    service=service,
                    key=shown,
                )
            else:
                run.add("RESTRICT_ACCESS_TO_SERVICE_PRINCIPAL", path, st, service=service)
    if not run.trust:
        return
    actions = {a.casefold() for a in st.strings("Action")}
    if "rolesanywhere.amazonaws.com" in services:
        missing = [a for a in ROLES_ANYWHERE_ACTIONS if a.casefold() not in actions]
        if missing and "sts:*" not in actions and "*" not in actions:
            run.add(
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
                    run.add("MISSING_GITHUB_REPO_CONDITION_KEY", path, st)
            elif not prefixed:
                run.add("MISSING_CONDITION_KEY_FOR_OIDC_PRINCIPAL", path, st, provider=host)
        if len(principal) == 1:  # only federated principals: the action must match the provider
            expected = "sts:AssumeRoleWithSAML" if saml else "sts:AssumeRoleWithWebIdentity"
            for action, action_path in st.entries("Action"):
                if (
                    action.casefold()
                    in TRUST_ACTIONS - {"sts:tagsession", "sts:setsourceidentity", "sts:setcontext"}
                    and action.casefold() != expected.casefold()
                ):
                    run.add(
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
            run.add("REDUNDANT_PRINCIPAL_IN_ROLE_TRUST_POLICY", path, st, value=value, role=role)


def _key_spelling(st: StatementView, folded: str) -> str:
    for block in (st.raw.get("Condition") or {}).values():
        if isinstance(block, Mapping):
            for key in block:
                if key.casefold() == folded:
                    return key
    return folded
