"""The parsed shape of an IAM policy document.

Parsing (``policy.py``) turns JSON into these immutable objects once; evaluation
(``evaluate.py``) and the action catalog (``catalog.py``) read them many times. Values
keep the policy's own spelling; matching rules (case, wildcards) live with the matchers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

ALLOW = "Allow"
DENY = "Deny"


class PolicyType(StrEnum):
    """The six types of policy a request is evaluated against. A member is its own short
    name (``"identity"``, ``"scp"``...), the one ``grader iam simulate --json`` prints as
    ``policyType`` and the CLI's ``--type`` takes; its other names are properties."""

    IDENTITY = "identity"
    RESOURCE = "resource"
    BOUNDARY = "boundary"
    SCP = "scp"
    RCP = "rcp"
    SESSION = "session"

    @property
    def label(self) -> str:
        """What a learner reads: ``identity policy``, ``permissions boundary``, ``SCP``..."""
        return _LABELS[self]

    @property
    def analyzer_name(self) -> str:
        """IAM Access Analyzer's ``policyType``: a permissions boundary and a session policy
        are identity policies to it (``IDENTITY_POLICY``)."""
        return _ANALYZER_NAMES[self]

    @property
    def grammar(self) -> PolicyType:
        """The grammar the policy is parsed with: ``RESOURCE`` (a Principal element in every
        statement: resource-based policies, RCPs) or ``IDENTITY`` (no Principal)."""
        if self in (PolicyType.RESOURCE, PolicyType.RCP):
            return PolicyType.RESOURCE
        return PolicyType.IDENTITY

    @classmethod
    def parse(cls, name: str) -> PolicyType:
        """The member for any spelling: a member, its short name in any case (``"scp"``,
        ``"SCP"``), or Access Analyzer's name (``"SERVICE_CONTROL_POLICY"``; its
        ``"IDENTITY_POLICY"`` gives ``IDENTITY``). Raises ValueError naming the spellings."""
        if isinstance(name, cls):
            return name
        found = _BY_ANALYZER_NAME.get(name) or _BY_NAME.get(name.lower())
        if found is None:
            allowed = ", ".join([*cls, *_BY_ANALYZER_NAME])
            raise ValueError(f"Unknown policy type {name!r}; use one of: {allowed}")
        return found


_LABELS = {
    PolicyType.IDENTITY: "identity policy",
    PolicyType.RESOURCE: "resource-based policy",
    PolicyType.BOUNDARY: "permissions boundary",
    PolicyType.SCP: "SCP",
    PolicyType.RCP: "RCP",
    PolicyType.SESSION: "session policy",
}
_ANALYZER_NAMES = {
    PolicyType.IDENTITY: "IDENTITY_POLICY",
    PolicyType.RESOURCE: "RESOURCE_POLICY",
    PolicyType.BOUNDARY: "IDENTITY_POLICY",
    PolicyType.SCP: "SERVICE_CONTROL_POLICY",
    PolicyType.RCP: "RESOURCE_CONTROL_POLICY",
    PolicyType.SESSION: "IDENTITY_POLICY",
}
_BY_NAME = {str(member): member for member in PolicyType}
# IDENTITY_POLICY read back means an identity policy (not a boundary or a session policy).
_BY_ANALYZER_NAME = {
    name: member
    for member, name in _ANALYZER_NAMES.items()
    if member not in (PolicyType.BOUNDARY, PolicyType.SESSION)
}


def iam_string(value: object) -> str:
    """How IAM reads a JSON scalar (in a condition, or a request's context): booleans as
    "true"/"false", numbers as written by ``str``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@dataclass(frozen=True)
class Statement:
    """One statement. Exactly one of action/not_action is set, and at most one of
    resource/not_resource (identity policies need one; resource policies too)."""

    index: int
    effect: str
    sid: str | None = None
    action: tuple[str, ...] | None = None
    not_action: tuple[str, ...] | None = None
    resource: tuple[str, ...] | None = None
    not_resource: tuple[str, ...] | None = None
    # operator (as written, e.g. "StringEqualsIfExists", "ForAnyValue:StringLike")
    #   -> condition key (as written) -> values, each converted to IAM's string form
    condition: Mapping[str, Mapping[str, tuple[str, ...]]] = field(default_factory=dict)
    # Principal / NotPrincipal as written (resource-based policies only); None when absent.
    principal: Any = None
    not_principal: Any = None

    @property
    def label(self) -> str:
        """How a learner finds this statement in their file: its Sid, else its position."""
        return f"Sid {self.sid!r}" if self.sid else f"statement {self.index + 1}"


@dataclass(frozen=True)
class Policy:
    """A parsed policy. ``name`` says where it came from (a file name, a role name)."""

    statements: tuple[Statement, ...]
    version: str | None = None
    id: str | None = None
    name: str = "policy"
    document: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)
