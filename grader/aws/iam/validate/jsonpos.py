"""Where each value and key of a JSON text starts and ends, for findings that point at text.

``json.loads`` gives values but no positions, so this small scanner walks the same text once
and records a span per path (``("Statement", 0, "Action", 1)``). It assumes the text is valid
JSON (``json.loads`` has already accepted it) and, like ``json.loads``, keeps the last of
duplicate keys. Positions are Access Analyzer's: line from 1, column and offset from 0.
"""

from __future__ import annotations

import bisect
import json
import re

from .findings import Position, Span

JsonPath = tuple[str | int, ...]

_WS = re.compile(r"[ \t\n\r]*")
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_SCALAR = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?|true|false|null")


class Locator:
    """Spans of every value (``value_span``) and object key (``key_span``) in one text."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
        self._values: dict[JsonPath, tuple[int, int]] = {}
        self._keys: dict[JsonPath, tuple[int, int]] = {}
        self._value(_WS.match(text, 0).end(), ())

    def position(self, offset: int) -> Position:
        line = bisect.bisect_right(self._line_starts, offset)
        return Position(line, offset - self._line_starts[line - 1], offset)

    def _span(self, pair: tuple[int, int] | None) -> Span | None:
        if pair is None:
            return None
        return Span(self.position(pair[0]), self.position(pair[1]))

    def value_span(self, path: JsonPath) -> Span | None:
        """The span of the value at ``path``; None if there is no such value."""
        return self._span(self._values.get(path))

    def key_span(self, path: JsonPath) -> Span | None:
        """The span of the key (with its quotes) naming the member at ``path``."""
        return self._span(self._keys.get(path))

    # --- the scanner -------------------------------------------------------------------

    def _value(self, i: int, path: JsonPath) -> int:
        text = self._text
        ch = text[i]
        if ch == "{":
            end = self._object(i, path)
        elif ch == "[":
            end = self._array(i, path)
        elif ch == '"':
            end = _STRING.match(text, i).end()
        else:
            match = _SCALAR.match(text, i)
            if match is None:
                raise ValueError(f"not JSON at offset {i}")
            end = match.end()
        self._values[path] = (i, end)
        return end

    def _object(self, i: int, path: JsonPath) -> int:
        text = self._text
        i = _WS.match(text, i + 1).end()
        if text[i] == "}":
            return i + 1
        while True:
            key_match = _STRING.match(text, i)
            if key_match is None:
                raise ValueError(f"not JSON at offset {i}")
            key = _decode_key(key_match.group())
            child = (*path, key)
            self._keys[child] = (i, key_match.end())
            i = _WS.match(text, key_match.end()).end() + 1  # past the colon
            i = self._value(_WS.match(text, i).end(), child)
            i = _WS.match(text, i).end()
            if text[i] == "}":
                return i + 1
            i = _WS.match(text, i + 1).end()  # past the comma

    def _array(self, i: int, path: JsonPath) -> int:
        text = self._text
        i = _WS.match(text, i + 1).end()
        if text[i] == "]":
            return i + 1
        index = 0
        while True:
            i = self._value(i, (*path, index))
            i = _WS.match(text, i).end()
            if text[i] == "]":
                return i + 1
            i = _WS.match(text, i + 1).end()
            index += 1


def _decode_key(quoted: str) -> str:
    return json.loads(quoted) if "\\" in quoted else quoted[1:-1]
