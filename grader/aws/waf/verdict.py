"""What the web ACL decided for one request: the record the replay, the log records and the
lab checks all read."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class CustomResponse:
    """A Block's (or CAPTCHA's/Challenge's) answer to the client: status, headers, body."""

    status: int
    headers: tuple[tuple[str, str], ...] = ()
    body: str | None = None
    content_type: str | None = None


@dataclass(frozen=True)
class RuleMatchInfo:
    """A rule that matched without ending the evaluation (Count, or overridden to Count)."""

    rule_id: str
    action: str
    rule_group: str | None = None


@dataclass(frozen=True)
class Verdict:
    """The web ACL's answer for one request.

    ``action`` is the log record's: ``ALLOW``, ``BLOCK``, ``CAPTCHA`` or ``CHALLENGE``.
    ``terminating_rule_id`` is the rule's Name, or ``Default_Action``;
    ``terminating_rule_type`` is ``REGULAR``, ``RATE_BASED``, ``MANAGED_RULE_GROUP`` or
    ``GROUP`` (as in WAF's log records). ``labels`` are full label names in the order they
    were added. ``inserted_headers`` are the headers the origin sees, with WAF's
    ``x-amzn-waf-`` prefix already on the name. ``inspected_by`` names the managed rule
    groups (by their Name, e.g. ``AWSManagedRulesBotControlRuleSet``) that inspected the
    request, which is what their per-request charges count.
    """

    action: str
    terminating_rule_id: str = "Default_Action"
    terminating_rule_type: str = "REGULAR"
    terminating_rule_group: str | None = None
    labels: tuple[str, ...] = ()
    non_terminating: tuple[RuleMatchInfo, ...] = ()
    custom_response: CustomResponse | None = None
    inserted_headers: tuple[tuple[str, str], ...] = ()
    inspected_by: frozenset[str] = field(default_factory=frozenset)
