"""Identity-policy evaluation: AWS's documented logic, compiled for speed.

For the identity policies of one principal: an explicit ``Deny`` in any matching
statement wins; otherwise any matching ``Allow`` allows; otherwise the request is
implicitly denied. A statement matches when its Action/NotAction, Resource/NotResource
and every condition match. The decision words are the ones AWS's policy simulator uses
(``allowed``, ``explicitDeny``, ``implicitDeny``).

Each policy is compiled once (:func:`compile_policy`): action patterns become one regex
per statement, resource patterns one regex per statement (both built by ``wildcards.py``,
which keeps hostile patterns polynomial), and the statements relevant to an action are
cached per action, so a request only looks at the few statements that can apply to it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .arns import ArnMatcher, compile_arn_set
from .conditions import ConditionCheck, compile_conditions
from .model import DENY, Policy, PolicyType, Statement
from .policy import VARIABLES_VERSION
from .request import Request
from .variables import ContextKeys
from .wildcards import compile_globs

if TYPE_CHECKING:
    from .principals import Principal, PrincipalElement

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

    __slots__ = ("statement", "policy_name", "match", "deny", "action", "resource", "conditions")

    def __init__(self, statement: Statement, policy_name: str, variables: bool) -> None:
        self.statement = statement
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

    def applies(self, resource: str, context: ContextKeys) -> bool:
        """Resource and conditions match (the action was checked by the caller)."""
        if not self.resource(resource, context):
            return False
        return all(check.test(context) for check in self.conditions)

    def failed_condition(self, context: ContextKeys) -> ConditionCheck | None:
        """The first condition that is false for this request (for explanations)."""
        return next((c for c in self.conditions if not c.test(context)), None)


@dataclass
class CompiledPolicy:
    """A policy ready to evaluate many requests."""

    policy: Policy
    statements: tuple[CompiledStatement, ...]
    _by_action: dict[str, tuple[CompiledStatement, ...]] = field(default_factory=dict)

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


# Policies passed to evaluate() uncompiled are compiled once and remembered by identity
# (Policy holds dicts, so it cannot be hashed).
_COMPILED: dict[int, tuple[Policy, CompiledPolicy]] = {}
_COMPILED_LIMIT = 1024


def _compiled(policy: Policy | CompiledPolicy) -> CompiledPolicy:
    if isinstance(policy, CompiledPolicy):
        return policy
    hit = _COMPILED.get(id(policy))
    if hit is not None and hit[0] is policy:
        return hit[1]
    if len(_COMPILED) >= _COMPILED_LIMIT:
        _COMPILED.clear()
    compiled = compile_policy(policy)
    _COMPILED[id(policy)] = (policy, compiled)
    return compiled


@dataclass(slots=True)
class Decision:
    """The outcome of :func:`evaluate`."""

    decision: str
    matched: tuple[Match, ...]
    request: Request
    policies: tuple[CompiledPolicy, ...] = field(repr=False, compare=False)

    @property
    def allowed(self) -> bool:
        return self.decision == ALLOWED

    def explain(self) -> str:
        """One or two sentences saying which statement decided, for the learner."""
        target = f"{self.request.action} on {self.request.resource}"
        if self.decision == EXPLICIT_DENY:
            return (
                f"explicitDeny: {self._first()} denies {target}. "
                "An explicit Deny overrides any Allow."
            )
        if self.decision == ALLOWED:
            return f"allowed: {self._first()} allows {target}, and no statement denies it."
        if not self.policies:
            return f"implicitDeny: no policy applies, so {target} is denied by default."
        names = ", ".join(p.name for p in self.policies)
        text = f"implicitDeny: no statement in {names} allows {target}, so it is denied."
        hint = self._near_miss()
        return f"{text} {hint}" if hint else text

    def _first(self) -> str:
        more = len(self.matched) - 1
        return self.matched[0].label + (f" (and {more} more)" if more else "")

    def _near_miss(self) -> str | None:
        """An Allow statement that almost applied (see :func:`near_miss`). Computed only
        when a learner asks for an explanation."""
        action = self.request.action.lower()
        return near_miss(
            ((st, st.match, None) for p in self.policies for st in p.candidates(action)),
            self.request.resource,
            self.request.keys,
        )


def near_miss(
    candidates: Iterable[tuple[CompiledStatement, Match, PrincipalElement | None]],
    resource: str,
    context: ContextKeys,
    principal: Principal | None = None,
) -> str | None:
    """The Allow statement that came closest to allowing a denied request, in a sentence:
    right action (and principal) but a false condition; else right action, wrong
    resource; else right action, another principal.

    ``candidates`` are the statements whose Action matches the request's, in policy order,
    each with the Match that names it and its compiled Principal element (``None`` when it
    has none). The principal is checked only when ``principal`` is given.
    """
    resource_miss = principal_miss = None
    for st, match, element in candidates:
        if st.deny:
            continue
        label = _capital(match.label)
        if element is not None and principal is not None:
            matcher, negated = element
            named = matcher.grant(principal) is not None
            if named == negated:
                principal_miss = (
                    principal_miss
                    or f"{label} allows the action, but not for {principal.describe()}."
                )
                continue
        if st.resource(resource, context):
            failed = st.failed_condition(context)
            if failed is not None:
                return f"{label} covers it, but its condition {failed.describe()} is not met."
        elif resource_miss is None:
            resource_miss = f"{label} allows the action, but {_scope(st.statement)}."
    return resource_miss or principal_miss


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _scope(statement: Statement) -> str:
    if statement.resource is not None:
        return "only on " + ", ".join(statement.resource)
    return "not on " + ", ".join(statement.not_resource or ())


def evaluate(
    policies: Iterable[Policy | CompiledPolicy] | Policy | CompiledPolicy, request: Request
) -> Decision:
    """Decide ``request`` against a principal's identity policies."""
    if isinstance(policies, CompiledPolicy):
        compiled: tuple[CompiledPolicy, ...] = (policies,)
    elif isinstance(policies, Policy):
        compiled = (_compiled(policies),)
    else:
        compiled = tuple(_compiled(p) for p in policies)
    action = request._action_key  # type: ignore[attr-defined]
    context = request._keys  # type: ignore[attr-defined]
    resource = request.resource
    denies: list[Match] = []
    allows: list[Match] = []
    for policy in compiled:
        for st in policy.candidates(action):
            if st.deny:
                if st.applies(resource, context):
                    denies.append(st.match)
            elif not denies and st.applies(resource, context):
                allows.append(st.match)
    if denies:
        return Decision(EXPLICIT_DENY, tuple(denies), request, compiled)
    if allows:
        return Decision(ALLOWED, tuple(allows), request, compiled)
    return Decision(IMPLICIT_DENY, (), request, compiled)
