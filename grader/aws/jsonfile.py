"""Reading a learner's JSON file, with errors a learner can act on.

Every way a file can be wrong (missing, a folder, empty, too big, not UTF-8, not JSON,
nested too deeply to read, the wrong kind of value) becomes an ``InputError`` naming the
file and, where there is one, the line and column. Nothing here knows about labs or the CLI.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from grader.aws.errors import GraderError

# IAM's largest policy document (a role's inline policies) is 10,240 characters; no lab
# file is anywhere near 1 MiB, so anything bigger is a mistake (a log pasted in, say).
MAX_BYTES = 1024 * 1024

# Python's parser recurses once per level and gives up near a thousand levels.
TOO_DEEP = "the JSON is nested too deeply to read (thousands of levels); is it the right file?"


class InputError(GraderError):
    """A file the user gave cannot be used. ``str()`` is the whole message:
    ``path:line:column: what is wrong``."""

    def __init__(
        self, path: str | Path, message: str, line: int | None = None, col: int | None = None
    ):
        super().__init__(message, file=path, line=line, column=col)


def read_text(path: str | Path, *, max_bytes: int = MAX_BYTES) -> str:
    """The file's text, or an InputError that says why it cannot be read."""
    p = Path(path)
    try:
        size = p.stat().st_size
    except FileNotFoundError:
        raise InputError(p, "no such file") from None
    except OSError as exc:
        raise InputError(p, f"cannot read it ({exc.strerror or exc})") from None
    if p.is_dir():
        raise InputError(p, "this is a folder, not a file")
    if size > max_bytes:
        raise InputError(
            p, f"the file is {size:,} bytes; the limit is {max_bytes:,}. Is it the right file?"
        )
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise InputError(p, f"cannot read it ({exc.strerror or exc})") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise InputError(
            p,
            f"byte 0x{raw[exc.start]:02x} is not valid UTF-8; save the file as UTF-8",
            line,
            col,
        ) from None
    return text


def load_json(path: str | Path, *, expect: type | None = dict, what: str = "a JSON object") -> Any:
    """Parse a JSON file. ``expect`` is the type the top level must have (None: any)."""
    text = read_text(path)
    if not text.strip():
        raise InputError(path, f"the file is empty; it should hold {what}")
    value = parse_json_text(text, path)
    if expect is not None and not isinstance(value, expect):
        found = json_type(value)
        raise InputError(path, f"the file holds {found}; it should hold {what}", 1, 1)
    return value


def parse_json_text(text: str, path: str | Path, error: type[InputError] | None = None) -> Any:
    """``json.loads`` with its failures as InputErrors (or ``error``, a subclass) for
    ``path``: a syntax error at its line and column, and nesting too deep for Python's
    parser (a RecursionError otherwise)."""
    error = error or InputError
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise error(path, f"not valid JSON: {exc.msg}", exc.lineno, exc.colno) from None
    except RecursionError:
        raise error(path, TOO_DEEP) from None


def json_type(value: Any) -> str:
    """How a message names a decoded JSON value's type: \"an object\", \"a string\", ..."""
    return {
        dict: "an object",
        list: "an array",
        str: "a string",
        bool: "a boolean",
        int: "a number",
        float: "a number",
        type(None): "null",
    }.get(type(value), type(value).__name__)
