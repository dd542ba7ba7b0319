"""HTTP header lookups shared by the engines that model web requests (WAF, CloudFront).

Headers are kept as ``(name, value)`` pairs in the order they came, with their case and any
duplicates, because WAF and CloudFront both inspect them that way; names compare without
regard to case (RFC 9110, section 5.1).
"""

from __future__ import annotations

from collections.abc import Iterable


def first_header(headers: Iterable[tuple[str, str]], name: str) -> str | None:
    """The first value of header ``name``, or None."""
    wanted = name.lower()
    for key, value in headers:
        if key.lower() == wanted:
            return value
    return None


def header_values(headers: Iterable[tuple[str, str]], name: str) -> list[str]:
    """Every value of header ``name``, in order."""
    wanted = name.lower()
    return [value for key, value in headers if key.lower() == wanted]


class HeaderListError(ValueError):
    """A decoded header list that is not a list of ``{"name", "value"}`` objects; ``path`` is
    where, below the list's own path (``[2].value``), for the caller's own error type."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(message)
        self.path = path
        self.message = message


def header_pairs(value: object) -> tuple[tuple[str, str], ...]:
    """A JSON list of ``{"name": ..., "value": ...}`` objects, the shape WAF's log records and
    the course's logs use for headers, as ``(name, value)`` pairs in order."""
    from grader.aws.jsonfile import json_type

    if not isinstance(value, list):
        raise HeaderListError(
            "", f"must be a list of {{name, value}} objects, not {json_type(value)}"
        )
    pairs = []
    for i, item in enumerate(value):
        if not isinstance(item, dict):
            raise HeaderListError(
                f"[{i}]", f"must be a {{name, value}} object, not {json_type(item)}"
            )
        for key in ("name", "value"):
            if not isinstance(item.get(key), str):
                found = "missing" if key not in item else json_type(item[key])
                raise HeaderListError(f"[{i}].{key}", f"must be a string, found {found}")
        pairs.append((item["name"], item["value"]))
    return tuple(pairs)
