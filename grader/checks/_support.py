"""What every lab's checks share: a failure that tells the learner what to do, and the
loading of their files with errors they can act on.

A check is a pytest test marked ``@pytest.mark.check(task=N, points=P[, gate=True])``
whose docstring is the sentence the learner reads. To fail, it calls :func:`fail` with
what was expected, what was found and what to change, so the report never shows a bare
assertion or a traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, NoReturn

from grader.jsonfile import InputError, load_json


class CheckFailed(AssertionError):
    """A check's verdict, with the parts the report shows."""

    def __init__(self, expected: str, found: str, fix: str, docs: str | None = None):
        self.expected = expected
        self.found = found
        self.fix = fix
        self.docs = docs
        super().__init__(f"expected {expected}; found {found}")


def fail(*, expected: str, found: str, fix: str, docs: str | None = None) -> NoReturn:
    """End the check as failed. ``docs`` is a docs page (and anchor) to read."""
    raise CheckFailed(expected, found, fix, docs)


def listing(items: list[str], limit: int = 12) -> str:
    """A readable list that stays short: the first few and a count of the rest."""
    shown = ", ".join(items[:limit])
    rest = len(items) - limit
    return f"{shown} and {rest} more" if rest > 0 else shown


def load_learner_json(lab_dir: Path, name: str, docs: str | None = None) -> Any:
    """A learner's JSON file, or a failure naming file, line and column."""
    try:
        return load_json(lab_dir / name, what="a JSON object (an IAM policy document)")
    except InputError as exc:
        fail(
            expected=f"{name} to be a readable JSON object",
            found=f"{name}:{exc.line}:{exc.col}: {exc.message}"
            if exc.line
            else f"{name}: {exc.message}",
            fix="fix the file at that spot and save it (the starter is restored by `grader reset`)",
            docs=docs,
        )
