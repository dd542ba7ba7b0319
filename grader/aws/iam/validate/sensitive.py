"""Validator checks of statements that reach further, or less far, than they seem to.

Kept apart from ``validate`` because both checks read a statement's actions together with
its resources or conditions rather than one element's syntax: an Allow of a sensitive action
on every role, and a global tag condition key that some of the statement's services never
set (so a Deny does not deny their actions, and an Allow does not allow them).

Access Analyzer's checks implemented here (``findings.CHECKS``): the PassRole family, security
warnings (PASS_ROLE_WITH_STAR_IN_RESOURCE, PASS_ROLE_WITH_STAR_IN_ACTION_AND_RESOURCE,
PASS_ROLE_WITH_STAR_IN_RESOURCE_AND_NOT_ACTION, PASS_ROLE_WITH_NOT_RESOURCE,
PASS_ROLE_WITH_STAR_IN_ACTION_AND_NOT_RESOURCE, PASS_ROLE_WITH_NOT_ACTION_AND_NOT_RESOURCE);
the same six CREATE_SLR_* general warnings for iam:CreateServiceLinkedRole; and
DENY_WITH_UNSUPPORTED_TAG_CONDITION_KEY_FOR_SERVICE,
DENY_NOTACTION_WITH_UNSUPPORTED_TAG_CONDITION_KEY_FOR_SERVICE,
ALLOW_WITH_UNSUPPORTED_TAG_CONDITION_KEY_FOR_SERVICE and
ALLOW_NOTACTION_WITH_UNSUPPORTED_TAG_CONDITION_KEY_FOR_SERVICE.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..wildcards import wildcard_match
from .run import StatementView, ValidationRun, has_wildcard
from .schema import TAG_KEYS

# (action, issue code stem, condition key that narrows it): Access Analyzer's PassRole
# (security warnings) and CreateServiceLinkedRole (general warnings) families.
SENSITIVE_ACTIONS = (
    ("iam:PassRole", "PASS_ROLE", "iam:PassedToService"),
    ("iam:CreateServiceLinkedRole", "CREATE_SLR", "iam:AWSServiceName"),
)


def check_sensitive_actions(run: ValidationRun, st: StatementView) -> None:
    """Warn when an Allow grants iam:PassRole or iam:CreateServiceLinkedRole on every role.

    The PassRole and CreateServiceLinkedRole families: an Allow that covers the action
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
            run.add(f"{stem}_{code}", (*st.path, "NotResource"), st, at_key=True, action=shown)
            continue
        if narrowing.casefold() in keys:
            continue
        for resource, path in st.entries("Resource"):
            if _every_role(resource):
                code = {
                    "name": "WITH_STAR_IN_RESOURCE",
                    "star": "WITH_STAR_IN_ACTION_AND_RESOURCE",
                }.get(how, "WITH_STAR_IN_RESOURCE_AND_NOT_ACTION")
                run.add(f"{stem}_{code}", path, st, action=shown, resource=resource)
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


def check_tag_keys(run: ValidationRun, st: StatementView) -> None:
    """Warn when a tag condition key meets actions of services that never set it.

    A global tag key is never set by services that do not support it: a Deny with it does
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
            run.add(f"{code}_WITH_UNSUPPORTED_TAG_CONDITION_KEY_FOR_SERVICE", path, st, key=shown)
            continue
        services = []
        for action in st.strings("Action"):
            prefix = action.partition(":")[0]
            service = run.schema.service(prefix) if not has_wildcard(prefix) else None
            if service is not None and tag.casefold() not in service.tag_keys:
                services.append(service.prefix)
        if services:
            code = "DENY" if deny else "ALLOW"
            names = ", ".join(dict.fromkeys(services))
            run.add(
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
