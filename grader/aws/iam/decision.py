"""What :func:`~.authorize.authorize` returns: the decision word, the statements that
decided, and why, as typed data (:class:`Why`) that :mod:`.explain` turns into words.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import NamedTuple

from .evaluate import ALLOWED, Match
from .model import PolicyType
from .policyset import PolicySet, PolicyView
from .principals import Principal
from .request import Request
from .variables import ContextKeys


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


@dataclass(slots=True)
class AuthorizationDecision:
    """The outcome of :func:`~.authorize.authorize`: AWS's decision word, the statements
    that decided (each :class:`Match` names its policy type), the policy type that decided
    (None when no policy did: the root user, an AWS exception, nothing applicable), the
    caller as the engine understood it, and why. :meth:`explain` says it in words."""

    decision: str
    matched: tuple[Match, ...]
    request: Request
    principal: Principal
    decided_by: PolicyType | None
    why: Why
    context: ContextKeys = field(repr=False)
    policies: PolicySet = field(repr=False, compare=False)

    @property
    def allowed(self) -> bool:
        return self.decision == ALLOWED

    def explain(self) -> str:
        """One or two sentences naming the policy (and statement) that decided."""
        from .explain import explain  # words only when asked for (a failed check, the CLI)

        return explain(self)
