"""Why a request was decided as it was: the step of AWS's evaluation logic (:class:`Reason`)
and the facts its explanation needs (:class:`Why`).

Apart from :mod:`.decision` so that :mod:`.logic` (which decides) and :mod:`.explain` (which
words a decision) both read it without importing each other.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from .compiled import Match
    from .policyset import PolicyView


class Reason(enum.Enum):
    """The step of AWS's evaluation logic that decided."""

    EXPLICIT_DENY = "an explicit Deny in an applicable policy"
    ORGANIZATION = "a level of SCPs or RCPs without an Allow"
    RESOURCE_ONLY = "a caller with no identity side: only a resource-based policy can allow"
    DIRECT = "a resource-based policy naming the user or session itself (same account)"
    ROLE = "a resource-based policy naming the role, within boundary and session policy"
    CAPPED = "a grant that the boundary or the session policy does not allow"
    RESOURCE_REQUIRED = "a resource whose own policy must allow (trust policy, key policy)"
    CROSS_ACCOUNT = "a cross-account request the resource's policy does not allow"
    ROOT = "the root user's own access in its account"
    IDENTITY = "the caller's identity policies"
    ALWAYS_ALLOWED = "an action that needs no permission and that no policy can deny"
    AWS_OWNED = "a resource owned by AWS that no policy can let anyone change"


class Why(NamedTuple):
    """The decision's reason with the facts its explanation needs (a named tuple: one is
    made per decision, and a frozen dataclass costs several times more to build)."""

    reason: Reason
    caller_account: str | None
    resource_account: str | None
    level: str | None = None  # ORGANIZATION: the level without an Allow
    level_policies: tuple[PolicyView, ...] = ()  # ORGANIZATION: the policies at that level
    capped_grant: tuple[Match, ...] = ()  # CAPPED: the Allow the cap took away
    same_account: bool = True
    missing_policy: str | None = None  # RESOURCE_REQUIRED: "role trust policy", "key policy"
    owned: str | None = None  # AWS_OWNED: what the resource is ("an AWS managed policy")
