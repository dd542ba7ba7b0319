"""Policies compiled for speed: the statements, their matchers, and the Match that names
each statement in a decision.

A statement matches a request when its Action/NotAction, Resource/NotResource and every
condition match. Each policy is compiled once (:func:`compile_policy`): action patterns
become one matcher per statement, resource patterns one per statement (both built by
``wildcards.py``, which keeps hostile patterns linear), and the statements relevant to an
action are cached per action, so a request only looks at the few statements that can apply
to it. What a match means for the decision is :mod:`.logic`'s business.

The decision words are the ones AWS's policy simulator uses (``allowed``, ``explicitDeny``,
``implicitDeny``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .arns import ArnMatcher, compile_arn_set
from .conditions import ConditionCheck, compile_conditions
from .model import DENY, Policy, PolicyType, Statement
from .policy import VARIABLES_VERSION
from .variables import ContextKeys
from .wildcards import compile_globs

ALLOWED = "allowed"
EXPLICIT_DENY = "explicitDeny"
IMPLICIT_DENY = "implicitDeny"

_ACTION_CACHE_LIMIT = 4096  # distinct actions remembered per policy (the catalog has ~17k)


def _action_matcher(patterns: tuple[str, ...]) -> Callable[[str], bool]:
    """Predicate on a lower-cased action name; IAM actions ignore case (Action element
    reference), so patterns are lower-cased too. Exact names are a set lookup and the
    wildcard ones one backtracking-safe regex (``wildcards.compile_globs``)."""
    return compile_globs(p.lower() for p in patterns)


@dataclass(frozen=True)
class Match:
    """A statement that took part in a decision, with the type of its policy and, for
    SCPs and RCPs, the organization level it is attached to (root, an OU, the account)."""

    policy: str
    statement: Statement
    policy_type: PolicyType = PolicyType.IDENTITY
    level: str | None = None

    @property
    def label(self) -> str:
        """e.g. ``statement Sid 'DenyTerminate' of operator-policy.json``; other types
        name themselves: ``statement Sid 'DenyLeaveOrg' of SCP scp.json (OU Workloads)``."""
        where = self.policy
        if self.policy_type != PolicyType.IDENTITY:
            where = f"{PolicyType(self.policy_type).label} {self.policy}"
        if self.level:
            where += f" ({self.level})"
        return f"statement {self.statement.label.removeprefix('statement ')} of {where}"


class CompiledStatement:
    """A statement with its matchers built."""

    __slots__ = (
        "statement",
        "index",
        "policy_name",
        "match",
        "deny",
        "action",
        "resource",
        "conditions",
        "applies",
    )

    def __init__(self, statement: Statement, policy_name: str, variables: bool) -> None:
        self.statement = statement
        self.index = statement.index  # where the statement's Match sits in a PolicyView
        self.policy_name = policy_name
        self.match = Match(policy_name, statement)  # built once, reported many times
        self.deny = statement.effect == DENY
        if statement.action is not None:
            self.action = _action_matcher(statement.action)
        else:
            listed = _action_matcher(statement.not_action or ())
            self.action = lambda action: not listed(action)
        self.resource: ArnMatcher
        if statement.resource is not None:
            self.resource = compile_arn_set(statement.resource, variables)
        elif statement.not_resource is not None:
            excluded = compile_arn_set(statement.not_resource, variables)
            self.resource = lambda value, context: not excluded(value, context)
        else:  # resource policies may leave Resource out: the policy's own resource
            self.resource = lambda value, context: True
        self.conditions: tuple[ConditionCheck, ...] = compile_conditions(
            statement.condition, variables
        )
        # applies(resource, context): the resource and every condition match (the caller
        # checked the action). Without conditions it is the resource matcher itself: one
        # call fewer on the path every request takes.
        self.applies: ArnMatcher = self.resource if not self.conditions else self._applies

    def _applies(self, resource: str, context: ContextKeys) -> bool:
        if not self.resource(resource, context):
            return False
        for check in self.conditions:  # noqa: SIM110 - all(...) makes a generator per request
            if not check.test(context):
                return False
        return True

    def failed_condition(self, context: ContextKeys) -> ConditionCheck | None:
        """The first condition that is false for this request (for explanations)."""
        return next((c for c in self.conditions if not c.test(context)), None)


@dataclass
class CompiledPolicy:
    """A policy ready to evaluate many requests."""

    policy: Policy
    statements: tuple[CompiledStatement, ...]
    # Caches of what the fields above determine: never constructor arguments, so a copy
    # made with dataclasses.replace() starts without them rather than with stale ones.
    _by_action: dict[str, tuple[CompiledStatement, ...]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    # The PolicySet of this policy alone, made by evaluate() on first use and kept here:
    # checks ask one policy many questions, and an attribute is the cheapest lookup.
    alone: Any = field(default=None, init=False, repr=False, compare=False)

    @property
    def name(self) -> str:
        return self.policy.name

    def candidates(self, action: str) -> tuple[CompiledStatement, ...]:
        """Statements whose Action/NotAction matches ``action`` (lower-cased)."""
        found = self._by_action.get(action)
        if found is None:
            if len(self._by_action) >= _ACTION_CACHE_LIMIT:
                self._by_action.clear()
            found = tuple(s for s in self.statements if s.action(action))
            self._by_action[action] = found
        return found


def compile_policy(policy: Policy) -> CompiledPolicy:
    """Build the matchers of ``policy`` once; reuse the result for many requests."""
    variables = policy.version == VARIABLES_VERSION
    statements = tuple(CompiledStatement(s, policy.name, variables) for s in policy.statements)
    return CompiledPolicy(policy, statements)


# Policies passed uncompiled are compiled once and remembered by identity
# (Policy holds dicts, so it cannot be hashed).
_COMPILED: dict[int, tuple[Policy, CompiledPolicy]] = {}
_COMPILED_LIMIT = 1024


def compiled(policy: Policy | CompiledPolicy) -> CompiledPolicy:
    """``policy`` compiled: as given if it already is, else compiled once and remembered."""
    if isinstance(policy, CompiledPolicy):
        return policy
    hit = _COMPILED.get(id(policy))
    if hit is not None and hit[0] is policy:
        return hit[1]
    if len(_COMPILED) >= _COMPILED_LIMIT:
        _COMPILED.clear()
    result = compile_policy(policy)
    _COMPILED[id(policy)] = (policy, result)
    return result
