"""ARN patterns, matched the way IAM matches Resource elements and Arn* conditions.

An ARN has six colon-separated parts: ``arn:partition:service:region:account:resource``.
IAM compares part by part (IAM "Condition operators" page, ArnLike: "each of the six
colon-delimited components of the ARN is checked separately"): in the first five a ``*``
or ``?`` never crosses a colon, while in the resource part (everything after the fifth
colon) ``*`` spans ``/`` and ``:``. So ``arn:aws:s3:::bucket/*`` matches objects but not
the bucket ``arn:aws:s3:::bucket``, and ``arn:aws:ec2:*:111122223333:instance/*`` matches
every region but only that account.

Each pattern becomes one anchored regex whose first five parts use ``[^:]`` classes, each
part an atomic group ending at its colon (a part can end at one colon only, so nothing is
lost, and a failure later never retries an earlier part); the wildcards themselves come
from ``wildcards.py``, which keeps every match polynomial. That keeps the segment rule
exact and lets a statement's patterns share one regex. Policy variables are allowed only
in the resource part (AWS documents the same limit).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from .variables import ContextKeys, Template, parse_template
from .wildcards import SEGMENT_CHAR, any_regex, compile_regex, glob_to_regex, has_wildcard

ArnMatcher = Callable[[str, ContextKeys], bool]

# Partitions IAM accepts in a Resource element (the list moto's validator also uses).
PARTITIONS = frozenset(
    ("aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f", "aws-eusc")
)

# What the resource part of an IAM ARN may start with (IAM's own error lists them).
_IAM_PATHS = ("*", "user/", "federated-user/", "role/", "group/", "instance-profile/", "mfa/")
_IAM_PATHS += ("server-certificate/", "policy/", "sms-mfa/", "saml-provider/")
_IAM_PATHS += ("oidc-provider/", "report/", "access-report/")


def _head_regex(head: list[str]) -> str:
    """The first parts, each up to its colon. A part with wildcards is an atomic group:
    it can end at one colon only, so there is nothing to retry when a later part fails."""
    return "".join(_part_regex(part) for part in head)


def _part_regex(part: str) -> str:
    if not has_wildcard(part):
        return glob_to_regex(part) + ":"
    return f"(?>{glob_to_regex(part, SEGMENT_CHAR)}:)"


class ArnPattern:
    """One Resource/NotResource entry or Arn* condition value, compiled once."""

    __slots__ = ("source", "regex", "_head", "_template")

    def __init__(self, source: str, variables: bool = False) -> None:
        self.source = source
        parts = source.split(":", 5)
        head, tail = parts[:-1], parts[-1]
        self._head = _head_regex(head)
        template = parse_template(tail) if variables else tail
        self._template: Template | None = template if isinstance(template, Template) else None
        # regex source for a pattern without variables; None when it needs the request
        self.regex: str | None = None
        if self._template is None:
            self.regex = self._head + glob_to_regex(tail)

    def matches(self, value: str, context: ContextKeys) -> bool:
        """Whether the request's ARN ``value`` matches this pattern."""
        if self.regex is not None:
            return compile_regex(self.regex)(value) is not None
        assert self._template is not None
        tail = self._template.resolve_regex(context)
        if tail is None:  # a variable without a value: matches no resource
            return False
        return compile_regex(self._head + tail)(value) is not None


def compile_arn_set(sources: Iterable[str], variables: bool = False) -> ArnMatcher:
    """A predicate saying whether a request ARN matches any of ``sources``. Plain ARNs
    are a set lookup; the wildcard ones share one regex (safe to join: see
    ``wildcards.py``); those with variables are resolved per request."""
    patterns = [ArnPattern(s, variables) for s in sources]
    if any(p.source == "*" for p in patterns):
        return lambda value, context: True
    dynamic = [p for p in patterns if p.regex is None]
    exact = {p.source for p in patterns if p.regex is not None and not has_wildcard(p.source)}
    wild = [p.regex for p in patterns if p.regex is not None and has_wildcard(p.source)]
    fullmatch = compile_regex(any_regex(wild)) if wild else None
    if not dynamic:
        if fullmatch is None:
            return lambda value, context: value in exact
        if not exact:
            return lambda value, context: fullmatch(value) is not None
        return lambda value, context: value in exact or fullmatch(value) is not None

    def match(value: str, context: ContextKeys) -> bool:
        if value in exact or (fullmatch is not None and fullmatch(value) is not None):
            return True
        return any(p.matches(value, context) for p in dynamic)

    return match


def arn_matches(pattern: str, value: str) -> bool:
    """Whether ``value`` matches the ARN ``pattern`` (no variables); for callers and tests."""
    return ArnPattern(pattern).matches(value, {})


def resource_format_error(resource: str) -> str | None:
    """IAM's MalformedPolicyDocument message for a Resource entry it rejects, if any.

    Covers the checks whose wording IAM publishes in its errors: not an ARN, an unknown
    partition, no service, and region information in IAM and S3 ARNs.
    """
    if resource == "*":
        return None
    parts = resource.split(":")
    if len(parts) < 2:
        return f'Resource {resource} must be in ARN format or "*".'
    partition = parts[1]
    if partition != "*" and partition not in PARTITIONS:
        rest = parts[2:] + ["*"] * max(0, 4 - len(parts[2:]))
        shown = ":".join(rest[:3] + [":".join(rest[3:])])
        return f'Partition "{partition}" is not valid for resource "arn:{partition}:{shown}".'
    if len(parts) < 3:
        return "Resource vendor must be fully qualified and cannot contain regexes."
    service = parts[2]
    region = parts[3] if len(parts) > 3 else ""
    resource_part = ":".join(parts[5:]) if len(parts) > 5 else ""
    if service == "iam" and region:
        return f"IAM resource {resource} cannot contain region information."
    if service == "s3" and region and not resource_part.startswith("accesspoint/"):
        return f"Resource {resource} can not contain region information."
    if service == "iam" and len(parts) > 5 and not resource_part.startswith(_IAM_PATHS):
        return (
            'IAM resource path must either be "*" or start with ' + ", ".join(_IAM_PATHS[1:]) + "."
        )
    return None
