"""The origin model: what the origin answers for each path, so the cache simulator needs no
real server.

An origin file is a JSON object whose keys are path patterns (matched exactly as CloudFront
matches a cache behavior's, by :func:`~grader.aws.edge.distribution.path_matches`) and
whose values describe the answer::

    {
      "/api/*": {"status": 200, "headers": {"Cache-Control": "no-store"},
                 "size": 512, "personal": true},
      "*.css":  {"headers": [{"name": "Cache-Control", "value": "max-age=31536000"}],
                 "size": 20000}
    }

``status`` (default 200), ``headers`` (an object, or a list of ``{name, value}``),
``size`` in bytes (default 0; sent as ``Content-Length`` unless the headers give one) and
``personal``: true when the body depends on who asks (a page that greets the signed-in
user); the answer is then marked ``made_for`` that viewer,
which is how the simulator finds a response served to the wrong user. The first pattern
that matches, in the file's order, answers. A path no pattern matches gets
:data:`UNMATCHED`: a 404 with no caching headers and no body, as an S3 or web origin answers
for an object it does not have.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from grader.aws.edge.distribution import path_matches
from grader.aws.edge.request import OriginResponse
from grader.aws.errors import GraderError
from grader.aws.http import HeaderListError, header_pairs
from grader.aws.jsonfile import json_type, load_json

if TYPE_CHECKING:
    from grader.aws.edge.cachekey import ForwardedRequest

# What the origin answers when no pattern of the file matches the path (see the docstring).
UNMATCHED = OriginResponse(status=404, headers=(), size=0)

# The model ``grader edge simulate`` uses without --origin: every path a 200 that may be
# cached for a day, 10 kB, the same for every viewer.
DEFAULT_ORIGIN = {
    "*": {
        "status": 200,
        # text/html is on CloudFront's list of compressible types, so the default origin
        # shows what the behaviors' Compress settings do.
        "headers": {"Cache-Control": "max-age=86400", "Content-Type": "text/html"},
        "size": 10_240,
    }
}

# A path pattern's longest length. Source: CloudFront Developer Guide, "Values that you
# specify when you create or update a distribution", Path pattern ("The path pattern can
# contain a maximum of 255 characters").
MAX_PATTERN = 255

_FIELDS = ("status", "headers", "size", "personal")


class OriginModelError(GraderError):
    """An origin file that cannot be used: ``file at ["pattern"].field: what is wrong``."""


@dataclass(frozen=True)
class OriginRule:
    """One pattern of the file and the answer it gives."""

    pattern: str
    response: OriginResponse
    personal: bool


class OriginModel:
    """The origin: :meth:`respond` answers a forwarded request for a path."""

    # This model answers by path alone, so the simulator need not build the request
    # CloudFront forwards (the costliest step of a miss) for it.
    needs_forwarded = False

    def __init__(self, rules: list[OriginRule], *, source: str | None = None) -> None:
        self.rules = rules
        self.source = source
        self._by_path: dict[str, OriginRule | None] = {}  # paths repeat: match each once
        self._personal: dict[tuple[int, str], OriginResponse] = {}

    def rule_for(self, path: str) -> OriginRule | None:
        """The first rule whose pattern matches ``path``, or None (the answer is UNMATCHED)."""
        try:
            return self._by_path[path]
        except KeyError:
            pass
        found = None
        for rule in self.rules:
            if path_matches(rule.pattern, path):
                found = rule
                break
        self._by_path[path] = found
        return found

    def respond(
        self, path: str, viewer: str = "", forwarded: ForwardedRequest | None = None
    ) -> OriginResponse:
        """The origin's answer to a request for ``path`` made for ``viewer``.

        ``forwarded`` (the :class:`~grader.aws.edge.cachekey.ForwardedRequest` CloudFront
        sends) is accepted for a richer model; this one answers by path alone: a personal
        answer is made for whoever asked, whatever was forwarded.
        """
        rule = self.rule_for(path)
        if rule is None:
            return UNMATCHED
        if not rule.personal or not viewer:
            return rule.response
        key = (id(rule), viewer)
        answer = self._personal.get(key)
        if answer is None:
            r = rule.response
            answer = OriginResponse(
                status=r.status, headers=r.headers, size=r.size, made_for=viewer
            )
            self._personal[key] = answer
        return answer


def load_origin(path_or_dict: str | Path | Mapping[str, Any]) -> OriginModel:
    """The origin model of a file (or of its already-decoded object)."""
    if isinstance(path_or_dict, Mapping):
        data, source = path_or_dict, None
    else:
        source = str(path_or_dict)
        data = load_json(path_or_dict, what="an object of path patterns and responses")

    def fail(json_path: str, message: str) -> OriginModelError:
        return OriginModelError(message, file=source, json_path=json_path)

    if not isinstance(data, Mapping):
        raise fail("", f"the origin model must be a JSON object, not {json_type(data)}")
    rules = []
    for pattern, spec in data.items():
        at = f"[{_quote(pattern)}]"
        if not pattern or len(pattern) > MAX_PATTERN:
            raise fail(at, f"a path pattern must have 1 to {MAX_PATTERN} characters")
        if not isinstance(spec, Mapping):
            raise fail(
                at, f"must be an object (status, headers, size, personal), not {json_type(spec)}"
            )
        for key in spec:
            if key not in _FIELDS:
                raise fail(f"{at}.{key}", f"is not a field of a response; use {', '.join(_FIELDS)}")
        status = spec.get("status", 200)
        if not _is_int(status) or not 100 <= status <= 599:
            raise fail(f"{at}.status", f"must be an HTTP status code (100-599), found {status!r}")
        size = spec.get("size", 0)
        if not _is_int(size) or size < 0:
            raise fail(f"{at}.size", f"must be a number of bytes (0 or more), found {size!r}")
        personal = spec.get("personal", False)
        if not isinstance(personal, bool):
            raise fail(f"{at}.personal", f"must be true or false, not {json_type(personal)}")
        headers = _headers(spec.get("headers", {}), f"{at}.headers", fail)
        if not any(name.lower() == "content-length" for name, _ in headers):
            # Origins send the body's length, and CloudFront compresses only when it knows
            # it ("Serve compressed files", Conditions for compression).
            headers = (*headers, ("Content-Length", str(size)))
        response = OriginResponse(status=status, headers=headers, size=size)
        rules.append(OriginRule(pattern=pattern, response=response, personal=personal))
    return OriginModel(rules, source=source)


def _headers(value: Any, at: str, fail: Any) -> tuple[tuple[str, str], ...]:
    if isinstance(value, Mapping):
        pairs = list(value.items())
        for name, item in pairs:
            if not isinstance(item, str):
                raise fail(
                    f"{at}.{name}", f"a header's value must be a string, not {json_type(item)}"
                )
        return tuple(pairs)
    if not isinstance(value, list):
        raise fail(at, f"must be an object or a list of {{name, value}}, not {json_type(value)}")
    try:
        return header_pairs(value)
    except HeaderListError as exc:
        raise fail(at + exc.path, exc.message) from None


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _quote(pattern: str) -> str:
    return '"' + pattern.replace("\\", "\\\\").replace('"', '\\"') + '"'
