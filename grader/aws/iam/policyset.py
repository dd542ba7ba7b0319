"""The policies that can apply to a request, by type, compiled once (:class:`PolicySet`).

Separate from :mod:`.authorize` (which decides) so that :mod:`.explain` and
:mod:`.decision` can read a decision's policies without importing the decision logic.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from .compiled import CompiledPolicy, CompiledStatement, Match, compiled
from .model import Policy, PolicyType
from .principals import DIRECT, PrincipalElement, compile_principal

PolicyLike = Policy | CompiledPolicy


@dataclass(frozen=True)
class OrgLevel:
    """The SCPs (or RCPs) attached at one level of the organization: the root, an OU, or
    the account. A request must be allowed by at least one policy at every level."""

    name: str
    policies: Sequence[PolicyLike]


class PolicyView:
    """A compiled policy with what evaluation adds: a Match per statement that names the
    policy type, and for resource-based policies and RCPs the compiled Principal element."""

    __slots__ = ("compiled", "name", "matches", "direct", "principals")

    def __init__(self, policy: PolicyLike, policy_type: PolicyType, level: str | None) -> None:
        self.compiled = compiled(policy)
        self.name = self.compiled.name
        self.matches = tuple(
            Match(self.name, st, policy_type, level) for st in self.compiled.policy.statements
        )
        # Each Match paired with DIRECT, made once: what an Allow of a policy without a
        # Principal element adds to a decision (logic.scan's hot path builds no tuple).
        self.direct = tuple((m, DIRECT) for m in self.matches)
        # (matcher, is NotPrincipal) per statement; None when the element is absent
        self.principals: tuple[PrincipalElement | None, ...] = tuple(
            _principal_of(st.statement) for st in self.compiled.statements
        )

    def candidates(
        self, action: str
    ) -> Iterator[tuple[CompiledStatement, Match, PrincipalElement | None]]:
        """The statements whose Action matches ``action`` (lower-cased), each with its
        Match and Principal element: what :func:`~.explain.near_miss` searches."""
        for st in self.compiled.candidates(action):
            index = st.statement.index
            yield st, self.matches[index], self.principals[index]


def _principal_of(statement: object) -> PrincipalElement | None:
    principal = getattr(statement, "principal", None)
    not_principal = getattr(statement, "not_principal", None)
    if principal is not None:
        return compile_principal(principal), False
    if not_principal is not None:
        return compile_principal(not_principal), True
    return None


@dataclass(frozen=True, eq=False)
class PolicySet:
    """Every policy that can apply to a request, compiled once and reused.

    ``scps`` and ``rcps`` are lists of levels, root first: each an :class:`OrgLevel`, a
    ``(name, policies)`` pair, or just a list of policies (named root, OU 1..., account).
    ``caller_account`` defaults to the principal's account; ``resource_account`` to the
    account in the resource ARN (or the caller's, for ARNs without one, like S3's).
    ``management_account``: SCPs and RCPs do not apply to that account.
    ``resource_policy_required``: for resources whose policy must always allow (KMS key
    policies, role trust policies), an identity policy alone is not enough.
    """

    identity: Sequence[PolicyLike] = ()
    resource: Sequence[PolicyLike] = ()
    boundary: PolicyLike | None = None
    scps: Sequence[OrgLevel | tuple[str, Sequence[PolicyLike]] | Sequence[PolicyLike]] = ()
    rcps: Sequence[OrgLevel | tuple[str, Sequence[PolicyLike]] | Sequence[PolicyLike]] = ()
    session: PolicyLike | None = None
    caller_account: str | None = None
    resource_account: str | None = None
    management_account: str | None = None
    resource_policy_required: bool = False
    # policy type -> compiled policies (SCP/RCP: levels of (name, policies))
    _groups: dict[PolicyType, Any] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        g = self._groups
        kinds = PolicyType
        g[kinds.IDENTITY] = _views(self.identity, kinds.IDENTITY)
        g[kinds.RESOURCE] = _views(self.resource, kinds.RESOURCE)
        g[kinds.BOUNDARY] = _views(self.boundary, kinds.BOUNDARY)
        g[kinds.SESSION] = _views(self.session, kinds.SESSION)
        g[kinds.SCP] = _levels(self.scps, kinds.SCP)
        g[kinds.RCP] = _levels(self.rcps, kinds.RCP)

    def of(self, kind: PolicyType) -> tuple[PolicyView, ...]:
        """The policies of one type (for SCPs and RCPs: every level's, root first)."""
        group = self._groups[kind]
        if kind in (PolicyType.SCP, PolicyType.RCP):
            return tuple(view for _name, level in group for view in level)
        return group

    def levels(self, kind: PolicyType) -> tuple[tuple[str, tuple[PolicyView, ...]], ...]:
        """SCPs or RCPs as (level name, policies) from the root down to the account."""
        return self._groups[kind]


def _views(
    value: PolicyLike | Sequence[PolicyLike] | None, kind: PolicyType
) -> tuple[PolicyView, ...]:
    return tuple(PolicyView(p, kind, None) for p in _as_list(value))


def _as_list(value: PolicyLike | Sequence[PolicyLike] | None) -> list[PolicyLike]:
    if value is None:
        return []
    if isinstance(value, Policy | CompiledPolicy):
        return [value]
    return list(value)


def _levels(
    levels: Sequence[object], policy_type: PolicyType
) -> tuple[tuple[str, tuple[PolicyView, ...]], ...]:
    out = []
    count = len(levels)
    for i, level in enumerate(levels):
        if isinstance(level, OrgLevel):
            name, policies = level.name, level.policies
        elif isinstance(level, tuple) and len(level) == 2 and isinstance(level[0], str):
            name, policies = level
        else:
            name, policies = _default_level_name(i, count), level  # type: ignore[assignment]
        compiled = tuple(PolicyView(p, policy_type, name) for p in _as_list(policies))
        out.append((name, compiled))
    return tuple(out)


def _default_level_name(index: int, count: int) -> str:
    if index == 0:
        return "root"
    return "account" if index == count - 1 else f"OU {index}"
