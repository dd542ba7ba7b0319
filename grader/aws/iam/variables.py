"""Policy variables: ``${aws:username}``, ``${aws:PrincipalTag/team, 'default'}``, ``${*}``.

A string that may hold variables is parsed once into a :class:`Template`; each request
then resolves it against its context. Variables only exist in policies whose Version is
2012-10-17: with an older or missing Version, ``${...}`` is ordinary text (as in AWS), so
the parser simply does not build templates for those policies.

Substituted values are always literal text: a tag value of ``*`` must not become a
wildcard, or a learner's tag could widen their own permissions.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from .wildcards import ANY_CHAR, pieces_to_regex

# A request's context keys as conditions and variables read them: lower-cased keys, each
# with a tuple of IAM strings (``Request.keys``; ``Request.context`` is what the caller gave).
ContextKeys = Mapping[str, tuple[str, ...]]

# ${*}, ${?} and ${$} stand for the literal character (AWS's escape for wildcards).
_SPECIAL = {"*": "*", "?": "?", "$": "$"}
_VARIABLE = re.compile(r"\$\{([^}]*)\}")
# key, then an optional default written as ", 'text'"
_BODY = re.compile(r"^\s*([^,'\s][^,']*?)\s*(?:,\s*'([^']*)'\s*)?$")


@dataclass(frozen=True)
class Literal:
    """Text that is taken as written (wildcards in it keep their meaning for *Like)."""

    text: str


@dataclass(frozen=True)
class Escaped:
    """A character from ``${*}``/``${?}``/``${$}``: always literal, never a wildcard."""

    text: str


@dataclass(frozen=True)
class Variable:
    """``${key}`` or ``${key, 'default'}``; ``key`` is lower-cased (keys ignore case)."""

    key: str
    default: str | None = None


Part = Literal | Escaped | Variable


@dataclass(frozen=True)
class Template:
    """A string with at least one ``${...}`` in it, split into parts."""

    source: str
    parts: tuple[Part, ...]

    def resolve(self, context: ContextKeys) -> tuple[tuple[str, bool], ...] | None:
        """The pieces of the string for this request as (text, is_pattern) pairs, or
        ``None`` when a variable has no value and no default (the value then matches
        nothing, as AWS documents)."""
        out: list[tuple[str, bool]] = []
        for part in self.parts:
            if isinstance(part, Literal):
                out.append((part.text, True))
            elif isinstance(part, Escaped):
                out.append((part.text, False))
            else:
                value = lookup_single(context, part.key)
                if value is None:
                    if part.default is None:
                        return None
                    value = part.default
                out.append((value, False))
        return tuple(out)

    def resolve_text(self, context: ContextKeys) -> str | None:
        """The plain string for this request (for Equals-style comparisons)."""
        pieces = self.resolve(context)
        return None if pieces is None else "".join(text for text, _ in pieces)

    def resolve_regex(self, context: ContextKeys, char: str = ANY_CHAR) -> str | None:
        """A regex source for this request, wildcards from the policy text only (see
        :func:`~.wildcards.pieces_to_regex`); ``char`` is what ``?`` becomes (``[^:]``
        inside an ARN field)."""
        pieces = self.resolve(context)
        return None if pieces is None else pieces_to_regex(pieces, char)


def lookup_single(context: ContextKeys, key: str) -> str | None:
    """The value of a single-valued key. A multivalued key cannot be a variable (AWS),
    so more than one value counts as no value."""
    values = context.get(key)
    if not values or len(values) != 1:
        return None
    return values[0]


def parse_template(text: str) -> Template | str:
    """Split ``text`` into a :class:`Template`, or return it unchanged if it has no
    ``${...}`` (the common case, kept as a plain string for speed)."""
    if "${" not in text:
        return text
    parts: list[Part] = []
    pos = 0
    for m in _VARIABLE.finditer(text):
        if m.start() > pos:
            parts.append(Literal(text[pos : m.start()]))
        body = m.group(1)
        if body in _SPECIAL:
            parts.append(Escaped(_SPECIAL[body]))
        else:
            bm = _BODY.match(body)
            if bm is None:  # not a variable after all, e.g. "${}"; keep the text
                parts.append(Literal(m.group(0)))
            else:
                parts.append(Variable(bm.group(1).lower(), bm.group(2)))
        pos = m.end()
    if pos < len(text):
        parts.append(Literal(text[pos:]))
    if not any(isinstance(p, Variable | Escaped) for p in parts):
        return text
    return Template(text, tuple(parts))
