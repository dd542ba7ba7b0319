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

Before all of these, AWS's documented exceptions (:mod:`.exceptions`): an action no policy
can deny (``sts:GetCallerIdentity``), resources AWS owns that no policy lets anyone change,
and resources whose own policy must allow even within one account (role trust policies,
KMS key policies).

Everything is compiled once in :class:`~.policyset.PolicySet`; :func:`authorize` makes one
pass over the statements that can apply to the request's action (:func:`_scan`), and
:func:`_decide` turns what matched into the decision, step by step in that order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .decision import AuthorizationDecision, Reason, Why
from .evaluate import ALLOWED, EXPLICIT_DENY, IMPLICIT_DENY, CompiledStatement, Match
from .exceptions import (
    ALWAYS_ALLOWED,
    AWS_ACCOUNT,
    RCP_SERVICES,
    aws_owned,
    required_resource_policy,
)
from .model import PolicyType
from .policyset import OrgLevel, PolicyLike, PolicySet, PolicyView
from .principals import (
    ACCOUNT,
    DIRECT,
    FEDERATED_USER,
    ROLE,
    ROLE_SESSION,
    ROOT,
    USER,
    Principal,
    parse_principal,
    principal_context,
)
from .request import Request
from .variables import ContextKeys

__all__ = ["AuthorizationDecision", "OrgLevel", "PolicyLike", "PolicySet", "Reason", "authorize"]

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


def _scan(
    policies: tuple[PolicyView, ...],
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


@dataclass(slots=True)
class _Facts:
    """What one pass over the policies found, per policy type, for :func:`_decide`."""

    principal: Principal
    caller_account: str | None
    resource_account: str | None
    denies: list[Match]
    # (policy type, level index) -> the level's matching Allows, for RCPs then SCPs
    org_levels: list[tuple[PolicyType, str, tuple[PolicyView, ...], list[tuple[Match, str]]]]
    resource: list[tuple[Match, str]]
    identity: list[tuple[Match, str]]
    boundary: list[tuple[Match, str]]
    session: list[tuple[Match, str]]
    has_boundary: bool
    has_session: bool
    has_resource_policy: bool
    required_policy: str | None  # the policy the resource must have ("role trust policy")


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
    if resource_account == AWS_ACCOUNT:  # an AWS managed policy: AWS's, not another account
        resource_account = caller_account

    def done(decision: str, matched: Sequence[Match], by: PolicyType | None, why: Why):
        return AuthorizationDecision(decision, tuple(matched), request, p, by, why, context, ps)

    if action in ALWAYS_ALLOWED and p.kind in (ROOT, USER, ROLE_SESSION, FEDERATED_USER):
        return done(ALLOWED, (), None, Why(Reason.ALWAYS_ALLOWED, caller_account, resource_account))

    iam = p.kind in (ROOT, USER, ROLE_SESSION, FEDERATED_USER)
    management = ps.management_account
    # SCPs bind neither the management account nor service-linked roles (Organizations
    # User Guide, SCPs: "Tasks and entities not restricted by SCPs").
    scp_bound = iam and not p.is_service_linked
    scp_levels = (
        g[SCP] if scp_bound and (management is None or caller_account != management) else ()
    )
    service = action.partition(":")[0]
    rcp_bound = service in RCP_SERVICES and not p.is_service_linked
    rcp_levels = (
        g[RCP] if rcp_bound and (management is None or resource_account != management) else ()
    )
    identity_side = iam and p.kind != ROOT

    denies: list[Match] = []
    org: list[tuple[PolicyType, str, tuple[PolicyView, ...], list[tuple[Match, str]]]] = []
    for kind, levels, who in ((RCP, rcp_levels, p), (SCP, scp_levels, None)):
        for name, level in levels:
            found: list[tuple[Match, str]] = []
            _scan(level, action, resource, context, who, denies, found)
            org.append((kind, name, level, found))
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
    required = required_resource_policy(action, resource, service)
    if required is None and ps.resource_policy_required:
        required = "resource-based policy"
    facts = _Facts(
        p,
        caller_account,
        resource_account,
        denies,
        org,
        res_allows,
        id_allows,
        bound_allows,
        sess_allows,
        bool(g[BOUNDARY]),
        bool(g[SESSION]),
        bool(g[RESOURCE]),
        required,
    )
    decision, matched, by, why = _decide(facts, aws_owned(action, resource))
    return done(decision, matched, by, why)


def _decide(f: _Facts, owned: str | None) -> tuple[str, list[Match], PolicyType | None, Why]:
    """The decision from what matched, in the order of AWS's evaluation logic."""
    p = f.principal

    def why(
        reason: Reason,
        level: str | None = None,
        level_policies: tuple[PolicyView, ...] = (),
        capped_grant: tuple[Match, ...] = (),
        same_account: bool = True,
        missing_policy: str | None = None,
        owned: str | None = None,
    ) -> Why:
        # positional: one Why per decision, on the hot path
        return Why(
            reason,
            f.caller_account,
            f.resource_account,
            level,
            level_policies,
            capped_grant,
            same_account,
            missing_policy,
            owned,
        )

    # 1. an explicit Deny in any applicable policy
    if f.denies:
        return EXPLICIT_DENY, f.denies, f.denies[0].policy_type, why(Reason.EXPLICIT_DENY)
    # AWS-owned resources: no Allow anywhere lets anyone change them
    if owned is not None:
        return IMPLICIT_DENY, [], None, why(Reason.AWS_OWNED, owned=owned)

    # 2. RCPs (resource's account), then SCPs (caller's account): every level must allow
    for kind, name, level, found in f.org_levels:
        if not found:
            return (
                IMPLICIT_DENY,
                [],
                kind,
                why(Reason.ORGANIZATION, level=name, level_policies=level),
            )
    guardrails = [found[0][0] for _kind, _name, _level, found in f.org_levels]

    grant, grant_matches = _best_grant(f.resource)

    # callers with no identity side: anonymous, AWS services, identity providers
    if p.kind not in (ROOT, USER, ROLE_SESSION, FEDERATED_USER):
        if grant is not None:
            return ALLOWED, grant_matches + guardrails, RESOURCE, why(Reason.RESOURCE_ONLY)
        return IMPLICIT_DENY, [], RESOURCE, why(Reason.RESOURCE_ONLY)

    same_account = f.caller_account == f.resource_account
    id_ok = p.kind == ROOT or bool(f.identity)
    bound_ok = not f.has_boundary or p.kind == ROOT or bool(f.boundary)
    if p.kind == ROLE_SESSION:
        sess_ok = not f.has_session or bool(f.session)
    elif p.kind == FEDERATED_USER:  # no session policy: no permissions of its own
        sess_ok = f.has_session and bool(f.session)
    else:
        sess_ok = True
    caps = [m for m, _ in f.boundary[:1] + f.session[:1]]

    if same_account:
        # 3. a resource-based policy naming the user or the session itself is enough
        if grant == DIRECT and p.kind != ROOT:
            return ALLOWED, grant_matches + guardrails, RESOURCE, why(Reason.DIRECT)
        if grant == ROLE:  # names the role (or federating user): boundary and session cap it
            if not bound_ok:
                return (
                    IMPLICIT_DENY,
                    [],
                    BOUNDARY,
                    why(Reason.CAPPED, capped_grant=tuple(grant_matches)),
                )
            if not sess_ok:
                return (
                    IMPLICIT_DENY,
                    [],
                    SESSION,
                    why(Reason.CAPPED, capped_grant=tuple(grant_matches)),
                )
            return ALLOWED, grant_matches + caps + guardrails, RESOURCE, why(Reason.ROLE)
        if f.required_policy is not None and grant is None:
            return (
                IMPLICIT_DENY,
                [],
                RESOURCE,
                why(Reason.RESOURCE_REQUIRED, missing_policy=f.required_policy),
            )
    elif grant is None:  # 5. cross account: the resource's side must allow the caller
        return IMPLICIT_DENY, [], RESOURCE, why(Reason.CROSS_ACCOUNT, same_account=False)

    # 4. the caller's own side: identity policies, capped by boundary and session policy
    resource_part = [] if same_account else grant_matches
    if p.kind == ROOT:
        return (
            ALLOWED,
            resource_part + guardrails,
            None,
            why(Reason.ROOT, same_account=same_account),
        )
    if not id_ok:
        return IMPLICIT_DENY, [], IDENTITY, why(Reason.IDENTITY, same_account=same_account)
    id_matches = [m for m, _ in f.identity]
    if not bound_ok:
        return IMPLICIT_DENY, [], BOUNDARY, why(Reason.CAPPED, capped_grant=tuple(id_matches[:1]))
    if not sess_ok:
        return IMPLICIT_DENY, [], SESSION, why(Reason.CAPPED, capped_grant=tuple(id_matches[:1]))
    matched = id_matches + caps + resource_part + guardrails
    return ALLOWED, matched, IDENTITY, why(Reason.IDENTITY, same_account=same_account)


def _best_grant(allows: list[tuple[Match, str]]) -> tuple[str | None, list[Match]]:
    """The strongest way a resource-based policy names the caller, and its statements."""
    if not allows:
        return None, []
    best = max(allows, key=lambda pair: _STRENGTH[pair[1]])[1]
    return best, [m for m, grant in allows if grant == best]
