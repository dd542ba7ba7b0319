"""The decision itself: which statements of each policy type match a request
(:func:`scan`), and what AWS's evaluation logic makes of them (:func:`decide`).

Both :func:`~.authorize.authorize` (every policy type, AWS's exceptions, a real caller) and
:func:`~.evaluate.evaluate` (a principal's identity policies alone) gather :class:`Facts`
with :func:`scan` and call :func:`decide`: one path, so the two cannot disagree. The
order of :func:`decide`'s early returns is the order of AWS's documented logic (IAM
"Policy evaluation logic", "Cross-account policy evaluation logic", "Permissions
boundaries", Organizations "RCP evaluation"); see :mod:`.authorize` for the steps.
"""

from __future__ import annotations

from typing import NamedTuple

from .compiled import ALLOWED, EXPLICIT_DENY, IMPLICIT_DENY, CompiledStatement, Match
from .model import PolicyType
from .policyset import PolicyView
from .principals import (
    ACCOUNT,
    DIRECT,
    FEDERATED_USER,
    ROLE,
    ROLE_SESSION,
    ROOT,
    USER,
    Principal,
)
from .reason import Reason, Why
from .variables import ContextKeys

# The policy types under short names: decide() reads them on every call, and looking a
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
# Callers with an identity side (IAM principals), as opposed to anonymous callers, AWS
# services and identity providers, which only a resource-based policy can allow.
IAM_KINDS = frozenset({ROOT, USER, ROLE_SESSION, FEDERATED_USER})

# The reasons as globals: an Enum member looked up on its class costs about 0.1 µs, and
# decide() names one per decision.
(
    _ALWAYS_ALLOWED,
    _EXPLICIT_DENY,
    _AWS_OWNED,
    _ORGANIZATION,
    _RESOURCE_ONLY,
    _DIRECT,
    _ROLE,
    _CAPPED,
    _RESOURCE_REQUIRED,
    _CROSS_ACCOUNT,
    _ROOT,
    _IDENTITY,
) = (
    Reason.ALWAYS_ALLOWED,
    Reason.EXPLICIT_DENY,
    Reason.AWS_OWNED,
    Reason.ORGANIZATION,
    Reason.RESOURCE_ONLY,
    Reason.DIRECT,
    Reason.ROLE,
    Reason.CAPPED,
    Reason.RESOURCE_REQUIRED,
    Reason.CROSS_ACCOUNT,
    Reason.ROOT,
    Reason.IDENTITY,
)

Grant = tuple[Match, str]  # an Allow and how its Principal element named the caller


def scan(
    policies: tuple[PolicyView, ...],
    action: str,
    resource: str,
    context: ContextKeys,
    principal: Principal | None,
    denies: list[Match],
    allows: list[Grant],
) -> None:
    """Add the matching Deny and Allow statements of ``policies`` to the two lists.
    ``principal`` is given for policies with a Principal element (resource-based, RCP);
    each Allow carries how the element named the caller (DIRECT/ROLE/ACCOUNT)."""
    if principal is None:  # identity-side policies: no Principal element to match
        for p in policies:
            for st in p.compiled.candidates(action):
                if st.deny:
                    if st.applies(resource, context):
                        denies.append(p.matches[st.index])
                elif not denies and st.applies(resource, context):
                    allows.append(p.direct[st.index])
        return
    for p in policies:
        statements: tuple[CompiledStatement, ...] = p.compiled.candidates(action)
        for st in statements:
            index = st.index
            grant = DIRECT
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


class Facts(NamedTuple):
    """What the scan of every policy type found for one request, for :func:`decide` (a
    named tuple: one is made per decision, and it is several times cheaper than a class).

    ``org_levels`` are RCP levels then SCP levels, each ``(type, level name, its policies,
    its matching Allows)``; the other lists are the matching Allows of each policy type.
    ``required_policy``, ``owned`` and ``always_allowed`` are AWS's exceptions
    (:mod:`.exceptions`) as they apply to this request; :func:`~.evaluate.evaluate`, which
    answers what identity policies grant, leaves them out."""

    principal: Principal
    caller_account: str | None
    resource_account: str | None
    denies: list[Match]
    org_levels: list[tuple[PolicyType, str, tuple[PolicyView, ...], list[Grant]]]
    resource: list[Grant]
    identity: list[Grant]
    boundary: list[Grant]
    session: list[Grant]
    has_boundary: bool
    has_session: bool
    has_resource_policy: bool
    required_policy: str | None  # the policy the resource must have ("role trust policy")
    owned: str | None = None  # what AWS-owned resource this is ("an AWS managed policy")
    always_allowed: bool = False  # an action no policy can deny (sts:GetCallerIdentity)


def decide(f: Facts) -> tuple[str, list[Match], PolicyType | None, Why]:
    """The decision from what matched, in the order of AWS's evaluation logic."""
    # Every field into a local at once: decide() runs once per decision.
    (
        p,
        caller_account,
        resource_account,
        denies,
        org_levels,
        resource,
        identity,
        boundary,
        session,
        has_boundary,
        has_session,
        _has_resource_policy,
        required_policy,
        owned,
        always_allowed,
    ) = f
    kind = p.kind

    # 0. an action that needs no permission, which no policy can deny
    if always_allowed:
        return ALLOWED, [], None, _why(f, _ALWAYS_ALLOWED)
    # 1. an explicit Deny in any applicable policy
    if denies:
        why = _plain(_EXPLICIT_DENY, caller_account, resource_account, True)
        return EXPLICIT_DENY, denies, denies[0].policy_type, why
    # AWS-owned resources: no Allow anywhere lets anyone change them
    if owned is not None:
        return IMPLICIT_DENY, [], None, _why(f, _AWS_OWNED, owned=owned)

    # 2. RCPs (resource's account), then SCPs (caller's account): every level must allow
    guardrails: list[Match] = []
    for level_kind, name, level, found in org_levels:
        if not found:
            why = _why(f, _ORGANIZATION, level=name, level_policies=level)
            return IMPLICIT_DENY, [], level_kind, why
        guardrails.append(found[0][0])

    if resource:
        grant, grant_matches = _best_grant(resource)
    else:
        grant = None
        grant_matches = []

    # callers with no identity side: anonymous, AWS services, identity providers
    if kind not in IAM_KINDS:
        if grant is not None:
            return ALLOWED, grant_matches + guardrails, RESOURCE, _why(f, _RESOURCE_ONLY)
        return IMPLICIT_DENY, [], RESOURCE, _why(f, _RESOURCE_ONLY)

    same_account = caller_account == resource_account
    bound_ok = not has_boundary or kind == ROOT or bool(boundary)
    if kind == ROLE_SESSION:
        sess_ok = not has_session or bool(session)
    elif kind == FEDERATED_USER:  # no session policy: no permissions of its own
        sess_ok = has_session and bool(session)
    else:
        sess_ok = True

    if same_account:
        # 3. a resource-based policy naming the user or the session itself is enough
        if grant == DIRECT and kind != ROOT:
            return ALLOWED, grant_matches + guardrails, RESOURCE, _why(f, _DIRECT)
        if grant == ROLE:  # names the role (or federating user): boundary and session cap it
            if not bound_ok or not sess_ok:
                cap = BOUNDARY if not bound_ok else SESSION
                why = _why(f, _CAPPED, capped_grant=tuple(grant_matches))
                return IMPLICIT_DENY, [], cap, why
            matched = grant_matches + _caps(f) + guardrails
            return ALLOWED, matched, RESOURCE, _why(f, _ROLE)
        if required_policy is not None and grant is None:
            why = _why(f, _RESOURCE_REQUIRED, missing_policy=required_policy)
            return IMPLICIT_DENY, [], RESOURCE, why
    elif grant is None:  # 5. cross account: the resource's side must allow the caller
        return IMPLICIT_DENY, [], RESOURCE, _why(f, _CROSS_ACCOUNT, same_account=False)

    # 4. the caller's own side: identity policies, capped by boundary and session policy
    if kind == ROOT:
        why = _why(f, _ROOT, same_account=same_account)
        return ALLOWED, (grant_matches if not same_account else []) + guardrails, None, why
    if not identity:
        why = _plain(_IDENTITY, caller_account, resource_account, same_account)
        return IMPLICIT_DENY, [], IDENTITY, why
    if not bound_ok or not sess_ok:
        cap = BOUNDARY if not bound_ok else SESSION
        return IMPLICIT_DENY, [], cap, _why(f, _CAPPED, capped_grant=(identity[0][0],))
    # One Allow is the usual case, and a comprehension is a function call of its own.
    matched = [identity[0][0]] if len(identity) == 1 else [m for m, _ in identity]
    if boundary or session:
        matched += _caps(f)
    if not same_account:
        matched += grant_matches
    if guardrails:
        matched += guardrails
    return (
        ALLOWED,
        matched,
        IDENTITY,
        _plain(_IDENTITY, caller_account, resource_account, same_account),
    )


_new_tuple = tuple.__new__


def _why(
    f: Facts,
    reason: Reason,
    level: str | None = None,
    level_policies: tuple[PolicyView, ...] = (),
    capped_grant: tuple[Match, ...] = (),
    same_account: bool = True,
    missing_policy: str | None = None,
    owned: str | None = None,
) -> Why:
    # Built with tuple.__new__: one Why per decision, on the hot path, and a NamedTuple's
    # own constructor costs several times more.
    return _new_tuple(
        Why,
        (
            reason,
            f.caller_account,
            f.resource_account,
            level,
            level_policies,
            capped_grant,
            same_account,
            missing_policy,
            owned,
        ),
    )


def _plain(reason: Reason, caller: str | None, owner: str | None, same_account: bool) -> Why:
    """The common Why, with no level, cap, missing policy or owner (the hot paths)."""
    return _new_tuple(Why, (reason, caller, owner, None, (), (), same_account, None, None))


def _caps(f: Facts) -> list[Match]:
    """The boundary's and the session policy's first matching Allows, which capped a grant."""
    return [m for m, _ in list(f.boundary[:1]) + list(f.session[:1])]


def _best_grant(allows: list[Grant]) -> tuple[str | None, list[Match]]:
    """The strongest way a resource-based policy names the caller, and its statements."""
    if not allows:
        return None, []
    best = max(allows, key=lambda pair: _STRENGTH[pair[1]])[1]
    return best, [m for m, grant in allows if grant == best]
