"""The one base of every error a user can cause: :class:`GraderError`.

Every input problem, wherever it is found (a broken JSON file, a policy IAM would reject,
a trail that cannot be read, a lab.toml with a wrong value, a command-line mistake), is a
``GraderError``: its ``str()`` is the whole one-line message, it carries where the problem
is (file, line, column, JSON path) when that is known, and the ``grader`` command turns it
into that line on stderr and exit code 2, in one place.

It is defined here, inside ``grader/aws``, because the engines import nothing of
``grader`` outside ``grader/aws`` and their errors must subclass it too;
:mod:`grader.errors` re-exports it beside the errors of the other layers.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

# The exit code of any GraderError (the CLI's "usage or input error").
INPUT_EXIT_CODE = 2


@dataclass(frozen=True)
class Location:
    """Where an input problem is: any of a file, a line and column in it, a JSON path."""

    file: str | None = None
    line: int | None = None
    column: int | None = None
    json_path: str | None = None

    def __str__(self) -> str:
        where = self.file or ""
        if self.line is not None:
            where += f":{self.line}" + (f":{self.column}" if self.column is not None else "")
        if self.json_path:
            where += f" at {self.json_path}" if where else self.json_path
        return where


class GraderError(Exception):
    """Something the user gave cannot be used. ``str()`` is the whole message, location
    first; ``message`` is the message alone; ``exit_code`` is what the CLI exits with."""

    exit_code = INPUT_EXIT_CODE
    # An error code shown before the message, as AWS names its errors (MalformedPolicyDocument).
    code: str | None = None

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        line: int | None = None,
        column: int | None = None,
        json_path: str | None = None,
    ) -> None:
        self.message = message
        self.location = Location(
            str(file) if file is not None else None, line, column, json_path or None
        )
        text = f"{self.code}: {message}" if self.code else message
        where = str(self.location)
        super().__init__(f"{where}: {text}" if where else text)

    @property
    def file(self) -> str | None:
        return self.location.file

    @property
    def line(self) -> int | None:
        return self.location.line

    @property
    def column(self) -> int | None:
        return self.location.column

    @property
    def json_path(self) -> str | None:
        return self.location.json_path
