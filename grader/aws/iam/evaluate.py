"""A principal's identity policies alone: what they allow (:func:`evaluate`).

The question a check asks of one policy a learner wrote ("does this policy allow
``ec2:StopInstances`` on that instance?"), answered by the same scan and the same decision
as :func:`~.authorize.authorize` (:mod:`.logic`) with nothing but identity policies in play:
an explicit ``Deny`` in any matching statement wins; otherwise any matching ``Allow``
allows; otherwise the request is implicitly denied.

It is not a whole authorization: no caller is derived from the request (its context keys
are the request's own), and AWS's exceptions, which are about callers and resources
rather than policies (``sts:GetCallerIdentity`` needs no permission, a role's trust policy
must allow ``sts:AssumeRole``, AWS-owned resources cannot be changed), stay out: for those,
call :func:`~.authorize.authorize` with a :class:`~.policyset.PolicySet`.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable

from .compiled import (
    ALLOWED,
    EXPLICIT_DENY,
    IMPLICIT_DENY,
    CompiledPolicy,
    Match,
    compile_policy,
    compiled,
)
from .decision import AuthorizationDecision
from .logic import IDENTITY, Facts, Grant, decide, scan
from .model import Policy
from .policyset import PolicySet
from .principals import parse_principal
from .request import Request

_new_tuple = tuple.__new__  # builds Facts without NamedTuple's slower constructor

# evaluate()'s answer is an AuthorizationDecision like authorize()'s; the old name stays.
Decision = AuthorizationDecision

# The holder of the policies: an IAM user of an unnamed account. Only its kind matters to
# the decision (an IAM principal, so identity policies count); it is never shown, since
# every request here is within the holder's own account.
_HOLDER = parse_principal("arn:aws:iam::000000000000:user/identity-policy-holder")

# One PolicySet per distinct list of policies, remembered by the identity of the policies
# given (checks ask many requests of the same few policies, in fresh lists).
_SETS: dict[int | tuple[int, ...], tuple[tuple[Policy | CompiledPolicy, ...], PolicySet]] = {}
_SETS_LIMIT = 1024


def _policy_set(policies: Iterable[Policy | CompiledPolicy] | Policy | CompiledPolicy) -> PolicySet:
    kind = type(policies)
    if kind is list and len(policies) == 1:  # type: ignore[arg-type]  # evaluate([p], ...)
        one = policies[0]  # type: ignore[index]
    elif kind is CompiledPolicy or kind is Policy:
        one = policies
    else:
        one = None
    if one is not None:  # the usual question: one policy, asked many times
        hit = _SETS.get(id(one))
        if hit is not None and hit[0][0] is one:
            return hit[1]
        given: tuple[Policy | CompiledPolicy, ...] = (one,)
        key: int | tuple[int, ...] = id(one)
    else:
        given = tuple(policies)  # type: ignore[arg-type]
        key = tuple(map(id, given))
        hit = _SETS.get(key)
        if hit is not None and all(map(operator.is_, hit[0], given)):
            return hit[1]
    if len(_SETS) >= _SETS_LIMIT:
        _SETS.clear()
    found = PolicySet(identity=tuple(compiled(p) for p in given))
    if kind is CompiledPolicy:
        one.alone = found  # type: ignore[union-attr]
    _SETS[key] = (given, found)  # keeps the given objects alive, so their ids stay theirs
    return found


def evaluate(
    policies: Iterable[Policy | CompiledPolicy] | Policy | CompiledPolicy, request: Request
) -> AuthorizationDecision:
    """Decide ``request`` against a principal's identity policies alone."""
    ps = policies.alone if type(policies) is CompiledPolicy else None  # type: ignore[union-attr]
    if ps is None:
        ps = _policy_set(policies)
    context = request._keys  # type: ignore[attr-defined]
    denies: list[Match] = []
    allows: list[Grant] = []
    scan(ps._groups[IDENTITY], request._action_key, request.resource, context, None, denies, allows)  # type: ignore[attr-defined]
    facts = _new_tuple(
        Facts,
        (
            _HOLDER,
            None,
            None,
            denies,
            (),
            (),
            allows,
            (),
            (),
            False,
            False,
            False,
            None,
            None,
            False,
        ),
    )
    decision, matched, by, why = decide(facts)
    return AuthorizationDecision(decision, tuple(matched), request, _HOLDER, by, why, context, ps)


__all__ = [
    "ALLOWED",
    "EXPLICIT_DENY",
    "IMPLICIT_DENY",
    "CompiledPolicy",
    "Decision",
    "Match",
    "compile_policy",
    "evaluate",
]
