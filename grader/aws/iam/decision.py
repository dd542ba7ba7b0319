"""What :func:`~.authorize.authorize` and :func:`~.evaluate.evaluate` return: the decision
word, the statements that decided, and why, as typed data (:class:`~.reason.Why`) that
:mod:`.explain` turns into words.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .compiled import ALLOWED, Match
from .explain import explain
from .model import PolicyType
from .policyset import PolicySet
from .principals import Principal
from .reason import Reason, Why
from .request import Request
from .variables import ContextKeys


@dataclass(slots=True)
class AuthorizationDecision:
    """The outcome of :func:`~.authorize.authorize` (and of :func:`~.evaluate.evaluate`,
    its identity-policies-only form): AWS's decision word, the statements
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
        return explain(self)


__all__ = ["AuthorizationDecision", "Reason", "Why"]
