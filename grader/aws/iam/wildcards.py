"""IAM's glob: ``*`` matches any run of characters (including none), ``?`` exactly one.

The one place where IAM wildcards become regexes: actions (case-insensitive), ARNs
(``arns.py``, case-sensitive, with policy variables) and the ``StringLike``/``ArnLike``
condition operators (``conditions.py``) all build their matchers here. Sources: the IAM
"Condition operators" page (StringLike: "multi-character match wildcards (*) and
single-character match wildcards (?) anywhere in the string"; ArnLike: "each of the six
colon-delimited components of the ARN is checked separately") and the Action element
reference (action names are case-insensitive).

Why not the obvious ``.*`` per ``*``: a pattern such as ``*a*a*a...`` against a string of
``a``s makes a backtracking regex engine try every way to split the string, which is
exponential (fifty ``*a`` pieces against fifty characters run for minutes). A policy is
learner input, so matching must stay polynomial whatever it holds.

How: a glob is fixed-length *segments* (literal characters and ``?``) between ``*``s. The
first segment must sit at the start and the last at the end; each middle segment can be
placed at its *first* occurrence after the previous one, because an earlier placement
only leaves more room for the rest (segments have a fixed length, so nothing after them
depends on where exactly they sit). The regex says exactly that: the first segment
anchored, each middle segment as an atomic lazy group ``(?>.*?SEG)`` (found once, never
revisited), then ``.*LAST``. Runs of ``*`` collapse into one. Matching then costs at most
(value length) x (pattern length) steps, and an alternation of such regexes costs the sum
of its alternatives, since no alternative can re-enter another's choices.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from functools import lru_cache

Matcher = Callable[[str], bool]
FullMatch = Callable[[str], re.Match[str] | None]

ANY_CHAR = "."  # compiled with re.DOTALL: any character, newlines included
SEGMENT_CHAR = "[^:]"  # one character inside one colon-separated field of an ARN


def has_wildcard(text: str) -> bool:
    """Whether ``text`` holds IAM wildcard characters."""
    return "*" in text or "?" in text


# --- regex sources ----------------------------------------------------------------------


@lru_cache(maxsize=4096)
def glob_to_regex(pattern: str, char: str = ANY_CHAR) -> str:
    """Regex source (for ``fullmatch`` with ``re.DOTALL``) that matches what ``pattern``
    matches, without catastrophic backtracking. ``char`` is what ``?`` becomes, and
    ``*`` is any run of it: :data:`SEGMENT_CHAR` keeps a match inside one ARN field."""
    return _segments_regex(_segments(((pattern, True),), char), char)


@lru_cache(maxsize=4096)
def pieces_to_regex(pieces: tuple[tuple[str, bool], ...], char: str = ANY_CHAR) -> str:
    """Regex source for a glob given as (text, is_pattern) pieces: wildcards count only
    in pattern pieces, so a policy variable's value (``is_pattern`` false) is literal
    text, as the IAM policy-variables page requires (a tag value ``*`` is a star).
    Cached: a template resolves to the same pieces for every request of one caller."""
    return _segments_regex(_segments(pieces, char), char)


def _segments(pieces: Iterable[tuple[str, bool]], char: str) -> list[list[str]]:
    """The glob cut at each ``*``: a list of segments, each a list of regex atoms."""
    segments: list[list[str]] = [[]]
    for text, is_pattern in pieces:
        if not is_pattern:
            segments[-1].extend(re.escape(ch) for ch in text)
            continue
        for ch in text:
            if ch == "*":
                segments.append([])
            else:
                segments[-1].append(char if ch == "?" else re.escape(ch))
    return segments


def _segments_regex(segments: list[list[str]], char: str) -> str:
    """First segment anchored, middle ones at their first occurrence, last one at the end
    (see the module docstring for why first occurrences are enough)."""
    first = "".join(segments[0])
    if len(segments) == 1:  # no star: a fixed-length pattern, nothing to backtrack over
        return first
    middle = ("".join(seg) for seg in segments[1:-1] if seg)  # empty ones: runs of stars
    found_once = "".join(f"(?>{char}*?{seg})" for seg in middle)
    return f"{first}{found_once}{char}*{''.join(segments[-1])}"


# --- compiled matchers ------------------------------------------------------------------


@lru_cache(maxsize=8192)
def compile_regex(source: str, ignore_case: bool = False) -> FullMatch:
    """The compiled ``fullmatch`` of ``source`` (from :func:`glob_to_regex` or
    :func:`pieces_to_regex`, or several of them joined by :func:`any_regex`). Cached,
    because the same few patterns are matched against thousands of requests; returned
    bare so that hot paths test ``is not None`` without another function call."""
    flags = re.DOTALL | (re.IGNORECASE if ignore_case else 0)
    return re.compile(source, flags).fullmatch


def any_regex(sources: Iterable[str]) -> str:
    """One regex source matching what any of ``sources`` matches. Each alternative is a
    safe glob regex, so a failed one costs its own (polynomial) time and no more."""
    return "|".join(f"(?:{source})" for source in sources)


def compile_globs(patterns: Iterable[str]) -> Matcher:
    """A case-sensitive predicate: does a string match any of ``patterns``? Patterns
    without wildcards go in a set; the rest share one regex."""
    patterns = tuple(patterns)
    if any(p and set(p) == {"*"} for p in patterns):  # "*" (or "**") matches everything
        return lambda s: True
    exact = frozenset(p for p in patterns if not has_wildcard(p))
    wild = [p for p in patterns if has_wildcard(p)]
    if not wild:
        return exact.__contains__
    fullmatch = compile_regex(any_regex(glob_to_regex(p) for p in wild))
    if not exact:
        return lambda s: fullmatch(s) is not None
    return lambda s: s in exact or fullmatch(s) is not None


@lru_cache(maxsize=8192)
def compile_wildcard(pattern: str, ignore_case: bool = False) -> Matcher:
    """Return a predicate that says whether a string matches ``pattern`` as a whole.
    ``ignore_case`` is for action names, which IAM compares without case."""
    if not has_wildcard(pattern):
        if ignore_case:
            folded = pattern.casefold()
            return lambda s: s.casefold() == folded
        return pattern.__eq__
    if set(pattern) == {"*"}:
        return lambda s: True
    fullmatch = compile_regex(glob_to_regex(pattern), ignore_case)
    return lambda s: fullmatch(s) is not None


def wildcard_match(pattern: str, value: str, ignore_case: bool = False) -> bool:
    """Whether ``value`` matches ``pattern`` (``*`` and ``?`` wildcards)."""
    return compile_wildcard(pattern, ignore_case)(value)
