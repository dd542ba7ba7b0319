"""Explanations of :func:`~.authorize.authorize` decisions, in a learner's words.

Built only when asked for (a check that fails, the simulate tool), so the hot path only
records which step decided and with which statements. Each text names the policy type,
the policy and the statement, and, for an implicit deny, the nearest statement that
almost applied (wrong resource, a false condition, another principal).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .evaluate import Match, near_miss
from .model import PolicyType
from .principals import ANONYMOUS, FEDERATED_USER

if TYPE_CHECKING:
    from .authorize import AuthorizationDecision, _Policy


def explain(d: AuthorizationDecision) -> str:
    """One or two sentences for ``d``."""
    caller_account, resource_account, code, *args = d._why
    target = f"{d.request.action} on {d.request.resource}"
    who = d.principal.describe()
    groups = d.policies._groups
    resource_policies = groups[PolicyType.RESOURCE]
    first = _first(d.matched)
    ok = "no policy denies it."

    if code == "deny":
        return f"explicitDeny: {first} denies {target}. An explicit Deny overrides every Allow."
    if code == "org":
        name, level = args
        kind = PolicyType(d.decided_by).label
        text = (
            f"implicitDeny: no {kind} attached at {name} ({_names(level)}) allows {target}; "
            "every level from the root down to the account must allow it."
        )
        return _hint(text, d, level, with_principal=d.decided_by == PolicyType.RCP)
    if code == "resource-only":
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
    if code == "direct":
        return (
            f"allowed: {first} grants {target} to {who} directly (same account), so no "
            f"identity policy is needed; {ok}"
        )
    if code == "role":
        caps = _caps(d)
        return f"allowed: {first} grants {target} to the role (same account){caps}; {ok}"
    if code == "capped":
        return _capped(d, args[0], target)
    if code == "required":
        text = (
            f"implicitDeny: the resource-based policy must allow {target} for {who} itself "
            f"(like a KMS key policy or a role trust policy), and {_none(resource_policies)}."
        )
        return _hint(text, d, resource_policies, with_principal=True)
    if code == "cross":
        text = (
            f"implicitDeny: cross-account request (caller account {caller_account}, resource "
            f"account {resource_account}): the resource-based policy must allow {who}, and "
            f"{_none(resource_policies)}."
        )
        return _hint(text, d, resource_policies, with_principal=True)
    if code == "root":
        where = "" if caller_account == resource_account else f"; {first} grants it across accounts"
        return f"allowed: the root user has full access in its own account{where}; {ok}"
    # code == "identity"
    if d.allowed:
        cross = ""
        if caller_account != resource_account:
            resource_match = next(m for m in d.matched if m.policy_type == PolicyType.RESOURCE)
            cross = f"; {resource_match.label} grants it in account {resource_account}"
        return f"allowed: {first} allows {target}{_caps(d)}{cross}; {ok}"
    same_account = args[0]
    names = _names(groups[PolicyType.IDENTITY])
    if same_account:
        also = ", and no resource-based policy grants it to the caller" if resource_policies else ""
        text = f"implicitDeny: no identity policy ({names}) allows {target}{also}."
    else:
        text = (
            f"implicitDeny: the resource's account {resource_account} allows {who}, but the "
            f"caller's identity policies ({names}) must allow {target} too, and none does."
        )
    return _hint(text, d, groups[PolicyType.IDENTITY])


def _capped(d: AuthorizationDecision, source: list[Match], target: str) -> str:
    cap = PolicyType(d.decided_by)
    cap_policies = d.policies._groups[cap]
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
        caps.append(f"permissions boundary {_names(d.policies._groups[PolicyType.BOUNDARY])}")
    if PolicyType.SESSION in types:
        caps.append(f"session policy {_names(d.policies._groups[PolicyType.SESSION])}")
    return (", within the " + " and the ".join(caps)) if caps else ""


def _first(matched: tuple[Match, ...]) -> str:
    if not matched:
        return "no statement"
    more = sum(1 for m in matched[1:] if m.policy_type == matched[0].policy_type)
    return matched[0].label + (f" (and {more} more)" if more else "")


def _names(policies: tuple[_Policy, ...]) -> str:
    return ", ".join(p.name for p in policies) or "none"


def _none(policies: tuple[_Policy, ...]) -> str:
    return f"{_names(policies)} does not" if policies else "there is none"


def _hint(
    text: str,
    d: AuthorizationDecision,
    policies: tuple[_Policy, ...],
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
