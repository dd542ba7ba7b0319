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

Everything is compiled once in :class:`~.policyset.PolicySet`; :func:`authorize` works out
the caller, its context keys and which policies and exceptions apply, makes one pass over
the statements that can apply to the request's action (:func:`~.logic.scan`), and
:func:`~.logic.decide` turns what matched into the decision, step by step in that order.
"""

from __future__ import annotations

from .compiled import Match
from .decision import AuthorizationDecision, Reason
from .exceptions import (
    ALWAYS_ALLOWED,
    AWS_ACCOUNT,
    RCP_SERVICES,
    aws_owned,
    required_resource_policy,
)
from .logic import (
    BOUNDARY,
    IAM_KINDS,
    IDENTITY,
    RCP,
    RESOURCE,
    SCP,
    SESSION,
    Facts,
    Grant,
    decide,
    scan,
)
from .model import PolicyType
from .policyset import OrgLevel, PolicyLike, PolicySet, PolicyView
from .principals import (
    FEDERATED_USER,
    ROLE_SESSION,
    ROOT,
    Principal,
    parse_principal,
    principal_context,
)
from .request import Request
from .variables import ContextKeys

__all__ = ["AuthorizationDecision", "OrgLevel", "PolicyLike", "PolicySet", "Reason", "authorize"]


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
    if resource_account == AWS_ACCOUNT:  # an AWS managed policy: AWS's, not another account
        resource_account = caller_account

    iam = p.kind in IAM_KINDS
    if action in ALWAYS_ALLOWED and iam:  # no policy is even read
        facts = Facts(
            p,
            caller_account,
            resource_account,
            [],
            [],
            [],
            [],
            [],
            [],
            False,
            False,
            False,
            None,
            None,
            True,
        )
        return _decision(request, p, ps, context, facts)

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
    org: list[tuple[PolicyType, str, tuple[PolicyView, ...], list[Grant]]] = []
    for kind, levels, who in ((RCP, rcp_levels, p), (SCP, scp_levels, None)):
        for name, level in levels:
            found: list[Grant] = []
            scan(level, action, resource, context, who, denies, found)
            org.append((kind, name, level, found))
    res_allows: list[Grant] = []
    scan(g[RESOURCE], action, resource, context, p, denies, res_allows)
    id_allows: list[Grant] = []
    bound_allows: list[Grant] = []
    sess_allows: list[Grant] = []
    if identity_side:
        scan(g[IDENTITY], action, resource, context, None, denies, id_allows)
        scan(g[BOUNDARY], action, resource, context, None, denies, bound_allows)
        if p.kind in (ROLE_SESSION, FEDERATED_USER):
            scan(g[SESSION], action, resource, context, None, denies, sess_allows)
    required = required_resource_policy(action, resource, service)
    if required is None and ps.resource_policy_required:
        required = "resource-based policy"
    facts = Facts(
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
        aws_owned(action, resource),
    )
    return _decision(request, p, ps, context, facts)


def _decision(
    request: Request, p: Principal, ps: PolicySet, context: ContextKeys, facts: Facts
) -> AuthorizationDecision:
    decision, matched, by, why = decide(facts)
    return AuthorizationDecision(decision, tuple(matched), request, p, by, why, context, ps)
