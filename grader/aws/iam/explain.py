"""Explanations of :func:`~.authorize.authorize` decisions, in a learner's words.

Built only when asked for (a check that fails, the simulate tool), so the hot path only
records which step decided and with which statements. Each text names the policy type,
the policy and the statement, and, for an implicit deny, the nearest statement that
almost applied (wrong resource, a false condition, another principal).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from .compiled import CompiledStatement, Match
from .model import PolicyType, Statement
from .principals import ANONYMOUS, FEDERATED_USER, Principal, PrincipalElement
from .reason import Reason
from .variables import ContextKeys

if TYPE_CHECKING:
    from .decision import AuthorizationDecision
    from .policyset import PolicyView


def explain(d: AuthorizationDecision) -> str:
    """One or two sentences for ``d``."""
    why = d.why
    caller_account, resource_account, code = why.caller_account, why.resource_account, why.reason
    target = f"{d.request.action} on {d.request.resource}"
    who = d.principal.describe()
    resource_policies = d.policies.of(PolicyType.RESOURCE)
    identity_policies = d.policies.of(PolicyType.IDENTITY)
    first = _first(d.matched)
    ok = "no policy denies it."

    if code is Reason.ALWAYS_ALLOWED:
        return (
            f"allowed: {d.request.action} needs no permission, and AWS allows it even when a "
            "policy denies it."
        )
    if code is Reason.AWS_OWNED:
        return (
            f"implicitDeny: {d.request.resource} is {why.owned}, which AWS owns: no policy "
            f"lets anyone {d.request.action.split(':', 1)[-1]} it, whatever it allows."
        )
    if code is Reason.EXPLICIT_DENY:
        return f"explicitDeny: {first} denies {target}. An explicit Deny overrides every Allow."
    if code is Reason.ORGANIZATION:
        kind = PolicyType(d.decided_by).label
        text = (
            f"implicitDeny: no {kind} attached at {why.level} ({_names(why.level_policies)}) "
            f"allows {target}; every level from the root down to the account must allow it."
        )
        return _hint(text, d, why.level_policies, with_principal=d.decided_by == PolicyType.RCP)
    if code is Reason.RESOURCE_ONLY:
        if d.allowed:
            return f"allowed: {first} grants {target} to {who}; {ok}"
        if d.principal.kind == ANONYMOUS:
            text = (
                f"implicitDeny: {target} is requested anonymously; only a resource-based "
                'policy granting it to Principal "*" can allow that, and none does.'
            )
        else:
            text = (
                f"implicitDeny: {who} has no identity policies, so only a resource-based "
                f"policy can allow {target}, and {_none(resource_policies)}."
            )
        return _hint(text, d, resource_policies, with_principal=True)
    if code is Reason.DIRECT:
        return (
            f"allowed: {first} grants {target} to {who} directly (same account), so no "
            f"identity policy is needed; {ok}"
        )
    if code is Reason.ROLE:
        caps = _caps(d)
        return f"allowed: {first} grants {target} to the role (same account){caps}; {ok}"
    if code is Reason.CAPPED:
        return _capped(d, list(why.capped_grant), target)
    if code is Reason.RESOURCE_REQUIRED:
        policy = why.missing_policy or "resource-based policy"
        if not resource_policies:
            return (
                f"implicitDeny: {target} needs the resource's {policy} to allow {who}, even "
                f"in the same account, and no {policy} was given; an identity policy alone "
                "is never enough."
            )
        text = (
            f"implicitDeny: the resource's {policy} must allow {target} for {who} (or its "
            f"account), even in the same account, and {_none(resource_policies)}."
        )
        return _hint(text, d, resource_policies, with_principal=True)
    if code is Reason.CROSS_ACCOUNT:
        text = (
            f"implicitDeny: cross-account request (caller account {caller_account}, resource "
            f"account {resource_account}): the resource-based policy must allow {who}, and "
            f"{_none(resource_policies)}."
        )
        return _hint(text, d, resource_policies, with_principal=True)
    if code is Reason.ROOT:
        where = "" if caller_account == resource_account else f"; {first} grants it across accounts"
        return f"allowed: the root user has full access in its own account{where}; {ok}"
    # Reason.IDENTITY
    if d.allowed:
        cross = ""
        if caller_account != resource_account:
            resource_match = next(m for m in d.matched if m.policy_type == PolicyType.RESOURCE)
            cross = f"; {resource_match.label} grants it in account {resource_account}"
        return f"allowed: {first} allows {target}{_caps(d)}{cross}; {ok}"
    names = _names(identity_policies)
    if not identity_policies and not resource_policies:
        return f"implicitDeny: no policy was given, so nothing allows {target}."
    if why.same_account:
        also = ", and no resource-based policy grants it to the caller" if resource_policies else ""
        text = f"implicitDeny: no identity policy ({names}) allows {target}{also}."
    else:
        text = (
            f"implicitDeny: the resource's account {resource_account} allows {who}, but the "
            f"caller's identity policies ({names}) must allow {target} too, and none does."
        )
    return _hint(text, d, identity_policies)


def _capped(d: AuthorizationDecision, source: list[Match], target: str) -> str:
    cap = PolicyType(d.decided_by)
    cap_policies = d.policies.of(cap)
    if cap is PolicyType.SESSION and not cap_policies:
        return (
            f"implicitDeny: {d.principal.describe()} is a federated user session without a "
            "session policy, so it has no permissions of its own."
        )
    kind = cap.label
    origin = source[0] if source else None
    if origin is not None and origin.policy_type == PolicyType.RESOURCE:
        grantee = "user who federated" if d.principal.kind == FEDERATED_USER else "role"
        text = (
            f"implicitDeny: {origin.label} grants {target} to the {grantee}, not to this "
            f"session, so the {kind} {_names(cap_policies)} must allow it too, and it does not."
        )
    else:
        allows = origin.label if origin else "the identity policy"
        text = f"implicitDeny: {allows} allows {target}, but the {kind} {_names(cap_policies)} does not."
    return _hint(text, d, cap_policies)


def _caps(d: AuthorizationDecision) -> str:
    types = [m.policy_type for m in d.matched]
    caps = []
    if PolicyType.BOUNDARY in types:
        caps.append(f"permissions boundary {_names(d.policies.of(PolicyType.BOUNDARY))}")
    if PolicyType.SESSION in types:
        caps.append(f"session policy {_names(d.policies.of(PolicyType.SESSION))}")
    return (", within the " + " and the ".join(caps)) if caps else ""


def _first(matched: tuple[Match, ...]) -> str:
    if not matched:
        return "no statement"
    more = sum(1 for m in matched[1:] if m.policy_type == matched[0].policy_type)
    return matched[0].label + (f" (and {more} more)" if more else "")


def _names(policies: tuple[PolicyView, ...]) -> str:
    return ", ".join(p.name for p in policies) or "none"


def _none(policies: tuple[PolicyView, ...]) -> str:
    return f"{_names(policies)} does not" if policies else "there is none"


def _hint(
    text: str,
    d: AuthorizationDecision,
    policies: tuple[PolicyView, ...],
    *,
    with_principal: bool = False,
) -> str:
    action = d.request.action.lower()
    hint = near_miss(
        (candidate for p in policies for candidate in p.candidates(action)),
        d.request.resource,
        d.context,
        d.principal if with_principal else None,
    )
    return f"{text} {hint}" if hint else text


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
