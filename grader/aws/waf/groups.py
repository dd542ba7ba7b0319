"""What a modelled managed rule group answers for one request.

A managed rule group (Bot Control, the Core rule set, ...) is a list of rules AWS writes and
the customer cannot read. The engine models each one as a function from a request to the
rules of the group that match it, in the group's rule order, each with the action AWS gives
it by default and the labels it adds. The web ACL's evaluation then applies the customer's
``ExcludedRules`` and ``RuleActionOverrides`` and decides, as WAF does: a matching rule adds
its labels whatever its action; the first matching rule whose action terminates (Allow,
Block, or CAPTCHA/Challenge without a valid token) ends the evaluation.
"""

from __future__ import annotations

from dataclasses import dataclass

# The name of the hit a group model uses for labels it adds without any of its rules
# matching (Bot Control's labels for a verified bot, its session-volume labels): an evaluator
# adds the labels and records no match, and no override can reach it.
LABELS_ONLY_HIT = "(labels without a matching rule)"

# The actions a rule can have (RuleAction's members); Count never terminates.
RULE_ACTIONS = ("Allow", "Block", "Count", "Captcha", "Challenge")


@dataclass(frozen=True)
class RuleHit:
    """One rule of a managed group that matched: its name, default action, and labels.

    ``labels`` are full names (``awswaf:managed:aws:bot-control:bot:category:http_library``).
    """

    name: str
    action: str
    labels: tuple[str, ...] = ()


@dataclass(frozen=True)
class GroupOutcome:
    """A modelled group's answer for one request.

    ``hits`` are the matching rules in the group's order. ``inspected`` is False when the
    group did not look at the request at all (a scope-down statement kept it out, or the
    group is not modelled); it is what Bot Control's per-request charge counts.
    """

    hits: tuple[RuleHit, ...] = ()
    inspected: bool = True
