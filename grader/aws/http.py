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
