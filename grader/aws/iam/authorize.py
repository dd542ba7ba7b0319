"""The whole evaluation: identity, resource-based, boundary, SCP, RCP and session policies.

AWS's documented order (IAM "Policy evaluation logic", "Cross-account policy evaluation
logic", "Permissions boundaries", Organizations "RCP evaluation"):

1. An explicit Deny in any applicable policy wins.
2. RCPs of the resource's account, then SCPs of the caller's account: every level from
   the root to the account must have an Allow. Neither applies in the management account;
   SCPs apply to IAM principals only (not to AWS services, anonymous callers or
   service-linked roles).
3. Same account: a resource-based policy that names the user or the session itself
   allows on its own; one that names the role (or the user who federated) still needs the
   boundary and the session policy; one that names the account delegates to step 4.
4. The identity policies must allow, then the permissions boundary (if any), then the
   session policy (if any; a federated user without one has no permissions).
5. Cross account: the resource-based policy must allow the caller (or its account) AND the
   caller's own side (step 4) must allow. Anonymous callers and AWS services have no
   identity side: only a resource-based policy can allow them.

Everything is compiled once in :class:`PolicySet`; :func:`authorize` then makes one pass
over the statements that can apply to the request's action.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from .evaluate import (
    ALLOWED,
    EXPLICIT_DENY,
    IMPLICIT_DENY,
    CompiledPolicy,
    CompiledStatement,
    Match,
    _compiled,
)
from .explain import explain as _explain
from .model import Policy, PolicyType
from .principals import (
    ACCOUNT,
    DIRECT,
    FEDERATED_USER,
    ROLE,
    ROLE_SESSION,
    ROOT,
    USER,
    Principal,
    PrincipalElement,
    compile_principal,
    parse_principal,
    principal_context,
)
from .request import Request
from .variables import ContextKeys

# The policy types under short names: authorize() reads them on every call, and looking a
# member up on its enum class (PolicyType.SCP) is several times slower than a global.
IDENTITY, RESOURCE, BOUNDARY, SCP, RCP, SESSION = (
    PolicyType.IDENTITY,
    PolicyType.RESOURCE,
    PolicyType.BOUNDARY,
    PolicyType.SCP,
    PolicyType.RCP,
    PolicyType.SESSION,
)
_STRENGTH = {DIRECT: 3, ROLE: 2, ACCOUNT: 1}

PolicyLike = Policy | CompiledPolicy


@dataclass(frozen=True)
class OrgLevel:
    """The SCPs (or RCPs) attached at one level of the organization: the root, an OU, or
    the account. A request must be allowed by at least one policy at every level."""

    name: str
    policies: Sequence[PolicyLike]


class _Policy:
    """A compiled policy with what this module adds: a Match per statement that names the
    policy type, and for resource-based policies and RCPs the compiled Principal element."""

    __slots__ = ("compiled", "name", "matches", "principals")

    def __init__(self, policy: PolicyLike, policy_type: PolicyType, level: str | None) -> None:
        self.compiled = _compiled(policy)
        self.name = self.compiled.name
        self.matches = tuple(
            Match(self.name, st, policy_type, level) for st in self.compiled.policy.statements
        )
        # (matcher, is NotPrincipal) per statement; None when the element is absent
        self.principals: tuple[PrincipalElement | None, ...] = tuple(
            _principal_of(st.statement) for st in self.compiled.statements
        )

    def candidates(
        self, action: str
    ) -> Iterator[tuple[CompiledStatement, Match, PrincipalElement | None]]:
        """The statements whose Action matches ``action`` (lower-cased), each with its
        Match and Principal element: what :func:`~.evaluate.near_miss` searches."""
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
        g[IDENTITY] = tuple(_Policy(p, IDENTITY, None) for p in _as_list(self.identity))
        g[RESOURCE] = tuple(_Policy(p, RESOURCE, None) for p in _as_list(self.resource))
        g[BOUNDARY] = tuple(_Policy(p, BOUNDARY, None) for p in _as_list(self.boundary))
        g[SESSION] = tuple(_Policy(p, SESSION, None) for p in _as_list(self.session))
        g[SCP] = _levels(self.scps, SCP)
        g[RCP] = _levels(self.rcps, RCP)


def _as_list(value: PolicyLike | Sequence[PolicyLike] | None) -> list[PolicyLike]:
    if value is None:
        return []
    if isinstance(value, Policy | CompiledPolicy):
        return [value]
    return list(value)


def _levels(
    levels: Sequence[object], policy_type: PolicyType
) -> tuple[tuple[str, tuple[_Policy, ...]], ...]:
    out = []
    count = len(levels)
    for i, level in enumerate(levels):
        if isinstance(level, OrgLevel):
            name, policies = level.name, level.policies
        elif isinstance(level, tuple) and len(level) == 2 and isinstance(level[0], str):
            name, policies = level
        else:
            name, policies = _default_level_name(i, count), level  # type: ignore[assignment]
        compiled = tuple(_Policy(p, policy_type, name) for p in _as_list(policies))
        out.append((name, compiled))
    return tuple(out)


def _default_level_name(index: int, count: int) -> str:
    if index == 0:
        return "root"
    return "account" if index == count - 1 else f"OU {index}"


# --- the decision ---------------------------------------------------------------------------


@dataclass(slots=True)
class AuthorizationDecision:
    """The outcome of :func:`authorize`: AWS's decision word, the statements that decided
    (each :class:`Match` names its policy type), the policy type that decided, and the
    caller as the engine understood it. :meth:`explain` says why, for the learner."""

    decision: str
    matched: tuple[Match, ...]
    request: Request
    principal: Principal
    # the policy type that decided; "root" (principals.ROOT) when the root user's own
    # access in its account did; None when nothing applied at all
    decided_by: PolicyType | str | None
    context: ContextKeys = field(repr=False)
    policies: PolicySet = field(repr=False, compare=False)
    _why: tuple[object, ...] = field(default=(), repr=False, compare=False)

    @property
    def allowed(self) -> bool:
        return self.decision == ALLOWED

    def explain(self) -> str:
        """One or two sentences naming the policy (and statement) that decided."""
        return _explain(self)


def _scan(
    policies: tuple[_Policy, ...],
    action: str,
    resource: str,
    context: ContextKeys,
    principal: Principal | None,
    denies: list[Match],
    allows: list[tuple[Match, str]],
) -> None:
    """Add the matching Deny and Allow statements of ``policies`` to the two lists.
    ``principal`` is given for policies with a Principal element (resource-based, RCP);
    each Allow carries how the element named the caller (DIRECT/ROLE/ACCOUNT)."""
    for p in policies:
        statements: tuple[CompiledStatement, ...] = p.compiled.candidates(action)
        for st in statements:
            index = st.statement.index
            grant = DIRECT
            if principal is not None:
                element = p.principals[index]
                if element is not None:
                    matcher, negated = element
                    if st.deny:
                        named = (
                            not matcher.lists_all(principal)
                            if negated
                            else (matcher.grant(principal) is not None)
                        )
                        if not named:
                            continue
                    else:
                        found = matcher.grant(principal)
                        if negated:  # Allow + NotPrincipal: everyone not named
                            found = DIRECT if found is None else None
                        if found is None:
                            continue
                        grant = found
            if st.deny:
                if st.applies(resource, context):
                    denies.append(p.matches[index])
            elif not denies and st.applies(resource, context):
                allows.append((p.matches[index], grant))


def _resource_account(resource: str) -> str | None:
    if resource.startswith("arn:"):
        parts = resource.split(":", 5)
        if len(parts) > 4 and parts[4]:
            return parts[4]
    return None


def authorize(
    request: Request, policies: PolicySet, principal: Principal | None = None
) -> AuthorizationDecision:
    """Decide ``request`` against every policy type in ``policies``.

    The caller is ``principal`` if given, else ``request.principal`` parsed (``None`` is
    an anonymous caller). Context keys derived from the caller (aws:PrincipalArn,
    aws:PrincipalAccount, aws:PrincipalType, aws:username, aws:userid ...) and
    aws:ResourceAccount are added unless the request already sets them.
    """
    p = principal if principal is not None else parse_principal(request.principal)
    ps = policies
    g = ps._groups
    action: str = request._action_key  # type: ignore[attr-defined]
    resource = request.resource
    given: ContextKeys = request._keys  # type: ignore[attr-defined]

    caller_account = ps.caller_account or p.account
    arn_account = _resource_account(resource)
    resource_account = ps.resource_account or arn_account
    context: dict[str, tuple[str, ...]] = dict(principal_context(p))
    if resource_account:
        context["aws:resourceaccount"] = (resource_account,)
    context.update(given)  # keys the caller set always win
    if resource_account is None:
        known = given.get("aws:resourceaccount")
        resource_account = known[0] if known else caller_account

    iam = p.kind in (ROOT, USER, ROLE_SESSION, FEDERATED_USER)
    management = ps.management_account
    # SCPs bind neither the management account nor service-linked roles (Organizations
    # User Guide, SCPs: "Tasks and entities not restricted by SCPs").
    scp_bound = iam and not p.is_service_linked
    scp_levels = (
        g[SCP] if scp_bound and (management is None or caller_account != management) else ()
    )
    rcp_levels = g[RCP] if management is None or resource_account != management else ()
    identity_side = iam and p.kind != ROOT

    denies: list[Match] = []
    org_allows: dict[tuple[PolicyType, int], list[tuple[Match, str]]] = {}
    for kind, levels, who in ((RCP, rcp_levels, p), (SCP, scp_levels, None)):
        for i, (_, level) in enumerate(levels):
            found: list[tuple[Match, str]] = []
            _scan(level, action, resource, context, who, denies, found)
            org_allows[(kind, i)] = found
    res_allows: list[tuple[Match, str]] = []
    _scan(g[RESOURCE], action, resource, context, p, denies, res_allows)
    id_allows: list[tuple[Match, str]] = []
    bound_allows: list[tuple[Match, str]] = []
    sess_allows: list[tuple[Match, str]] = []
    if identity_side:
        _scan(g[IDENTITY], action, resource, context, None, denies, id_allows)
        _scan(g[BOUNDARY], action, resource, context, None, denies, bound_allows)
        if p.kind in (ROLE_SESSION, FEDERATED_USER):
            _scan(g[SESSION], action, resource, context, None, denies, sess_allows)

    def done(
        decision: str, matched: Sequence[Match], by: PolicyType | str, *why: object
    ) -> AuthorizationDecision:
        return AuthorizationDecision(
            decision,
            tuple(matched),
            request,
            p,
            by,
            context,
            ps,
            (caller_account, resource_account, *why),
        )

    # 1. explicit deny anywhere
    if denies:
        return done(EXPLICIT_DENY, denies, denies[0].policy_type, "deny")

    # 2. RCPs (resource's account), then SCPs (caller's account): every level must allow
    for kind, levels in ((RCP, rcp_levels), (SCP, scp_levels)):
        for i, (name, level) in enumerate(levels):
            if not org_allows[(kind, i)]:
                return done(IMPLICIT_DENY, (), kind, "org", name, level)
    guardrails = [m for found in org_allows.values() for m, _ in found[:1]]

    grant, grant_matches = _best_grant(res_allows)

    # callers with no identity side: anonymous, AWS services, identity providers
    if not iam:
        if grant is not None:
            return done(ALLOWED, grant_matches + guardrails, RESOURCE, "resource-only")
        return done(IMPLICIT_DENY, (), RESOURCE, "resource-only")

    same_account = caller_account == resource_account
    id_ok = p.kind == ROOT or bool(id_allows)
    bound_ok = not g[BOUNDARY] or p.kind == ROOT or bool(bound_allows)
    if p.kind == ROLE_SESSION:
        sess_ok = not g[SESSION] or bool(sess_allows)
    elif p.kind == FEDERATED_USER:  # no session policy: no permissions of its own
        sess_ok = bool(g[SESSION]) and bool(sess_allows)
    else:
        sess_ok = True
    caps = [m for m, _ in bound_allows[:1] + sess_allows[:1]]

    if same_account:
        # 3. a resource-based policy naming the user or the session itself is enough
        if grant == DIRECT and p.kind != ROOT:
            return done(ALLOWED, grant_matches + guardrails, RESOURCE, "direct")
        if grant == ROLE:  # names the role (or federating user): boundary and session cap it
            if not bound_ok:
                return done(IMPLICIT_DENY, (), BOUNDARY, "capped", grant_matches)
            if not sess_ok:
                return done(IMPLICIT_DENY, (), SESSION, "capped", grant_matches)
            return done(ALLOWED, grant_matches + caps + guardrails, RESOURCE, "role")
        if ps.resource_policy_required and grant is None:
            return done(IMPLICIT_DENY, (), RESOURCE, "required")
    elif grant is None:  # 5. cross account: the resource's side must allow the caller
        return done(IMPLICIT_DENY, (), RESOURCE, "cross")

    # 4. the caller's own side: identity policies, capped by boundary and session policy
    resource_part = [] if same_account else grant_matches
    if p.kind == ROOT:
        return done(ALLOWED, resource_part + guardrails, ROOT, "root")
    if not id_ok:
        return done(IMPLICIT_DENY, (), IDENTITY, "identity", same_account)
    id_matches = [m for m, _ in id_allows]
    if not bound_ok:
        return done(IMPLICIT_DENY, (), BOUNDARY, "capped", id_matches[:1])
    if not sess_ok:
        return done(IMPLICIT_DENY, (), SESSION, "capped", id_matches[:1])
    return done(ALLOWED, id_matches + caps + resource_part + guardrails, IDENTITY, "identity")


def _best_grant(allows: list[tuple[Match, str]]) -> tuple[str | None, list[Match]]:
    """The strongest way a resource-based policy names the caller, and its statements."""
    if not allows:
        return None, []
    best = max(allows, key=lambda pair: _STRENGTH[pair[1]])[1]
    return best, [m for m, grant in allows if grant == best]
