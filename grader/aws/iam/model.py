"""The parsed shape of an IAM policy document.

Parsing (``policy.py``) turns JSON into these immutable objects once; evaluation
(``evaluate.py``) and the action catalog (``catalog.py``) read them many times. Values
keep the policy's own spelling; matching rules (case, wildcards) live with the matchers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

ALLOW = "Allow"
DENY = "Deny"


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
