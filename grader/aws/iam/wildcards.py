"""IAM's glob: ``*`` matches any run of characters (including none), ``?`` exactly one.

Used for actions (case-insensitive) and for ARN segments and String*Like conditions
(case-sensitive). Patterns are compiled once and cached, because the same few patterns
are matched against thousands of requests.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

Matcher = Callable[[str], bool]


@lru_cache(maxsize=8192)
def compile_wildcard(pattern: str, ignore_case: bool = False) -> Matcher:
    """Return a predicate that says whether a string matches ``pattern`` as a whole."""
    if "*" not in pattern and "?" not in pattern:
        if ignore_case:
            folded = pattern.casefold()
            return lambda s: s.casefold() == folded
        return pattern.__eq__
    if pattern == "*":
        return lambda s: True
    parts = []
    for ch in pattern:
        if ch == "*":
            parts.append(".*")
        elif ch == "?":
            parts.append(".")
        else:
            parts.append(re.escape(ch))
    flags = re.DOTALL | (re.IGNORECASE if ignore_case else 0)
    fullmatch = re.compile("".join(parts), flags).fullmatch
    return lambda s: fullmatch(s) is not None


def wildcard_match(pattern: str, value: str, ignore_case: bool = False) -> bool:
    """Whether ``value`` matches ``pattern`` (``*`` and ``?`` wildcards)."""
    return compile_wildcard(pattern, ignore_case)(value)
