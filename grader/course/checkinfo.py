"""A lab's checks read from its module's source with ``ast``, importing nothing.

The docs build (the "what the grader checks" table) and ``grader dev check`` both need the
checks' sentences, tasks and points without importing pytest, moto or the engines, and both
must hold checks to the same convention: one ``@pytest.mark.check(task=N, points=P[,
gate=True])`` mark and a docstring whose first paragraph is the learner's sentence.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from grader.errors import CheckInfoError


@dataclass(frozen=True)
class CheckInfo:
    name: str
    task: int
    points: int
    gate: bool | str  # True: skips every later check on failure; "task": its task's only
    sentence: str
    line: int


def _is_check_mark(node: ast.expr) -> bool:
    """``pytest.mark.check`` (or ``mark.check`` after ``from pytest import mark``)."""
    if not (isinstance(node, ast.Attribute) and node.attr == "check"):
        return False
    owner = node.value
    if isinstance(owner, ast.Attribute):
        return owner.attr == "mark" and isinstance(owner.value, ast.Name)
    return isinstance(owner, ast.Name) and owner.id == "mark"


def first_paragraph(doc: str) -> str:
    """The docstring's first paragraph on one line: the sentence the learner reads."""
    return " ".join(doc.strip().split("\n\n", 1)[0].split())


def read_checks(path: Path) -> list[CheckInfo]:
    """The checks of one checks module, in file order, read without importing it."""
    where = str(path)
    try:
        tree = ast.parse(Path(path).read_text(encoding="utf-8"), filename=where)
    except FileNotFoundError:
        raise CheckInfoError(f"checks module not found: {where}") from None
    except SyntaxError as exc:
        raise CheckInfoError(f"{where}:{exc.lineno}: cannot parse: {exc.msg}") from None

    checks: list[CheckInfo] = []
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        if not node.name.startswith("test_"):
            continue
        at = f"{where}:{node.lineno}: {node.name}"
        marks = [
            d for d in node.decorator_list if isinstance(d, ast.Call) and _is_check_mark(d.func)
        ]
        if len(marks) != 1:
            raise CheckInfoError(
                f"{at}: a check needs exactly one @pytest.mark.check(task=N, points=P[, gate=True])"
                f" decorator; found {len(marks)}"
            )
        mark = marks[0]
        if mark.args:
            raise CheckInfoError(
                f"{at}: give the check mark's arguments by keyword (task=, points=)"
            )
        kwargs: dict[str, object] = {}
        for kw in mark.keywords:
            try:
                kwargs[str(kw.arg)] = ast.literal_eval(kw.value)
            except ValueError:
                raise CheckInfoError(
                    f"{at}: the mark's {kw.arg}= must be a literal value"
                ) from None
        unknown = set(kwargs) - {"task", "points", "gate"}
        if unknown:
            raise CheckInfoError(
                f"{at}: unknown check mark argument(s): {', '.join(sorted(unknown))}"
            )
        task, points, gate = kwargs.get("task"), kwargs.get("points"), kwargs.get("gate", False)
        if not isinstance(task, int) or isinstance(task, bool) or task < 1:
            raise CheckInfoError(f"{at}: task= must be a positive integer, found {task!r}")
        if not isinstance(points, int) or isinstance(points, bool) or points < 0:
            raise CheckInfoError(f"{at}: points= must be a non-negative integer, found {points!r}")
        if not (isinstance(gate, bool) or gate == "task"):
            raise CheckInfoError(f'{at}: gate= must be True, False or "task", found {gate!r}')
        sentence = first_paragraph(ast.get_docstring(node) or "")
        if not sentence:
            raise CheckInfoError(
                f"{at}: the check has no docstring; its first paragraph is what the learner reads"
            )
        checks.append(CheckInfo(node.name, task, points, gate, sentence, node.lineno))
    if not checks:
        raise CheckInfoError(f"{where}: no checks found (top-level functions named test_*)")
    return checks


def module_constant(path: Path, name: str, default: object = None) -> object:
    """The literal value of a checks module's top-level ``NAME = ...`` (a tuple of service
    names, a flag), read without importing it; ``default`` when absent or not a literal."""
    try:
        tree = ast.parse(Path(path).read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return default
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == name for t in node.targets
        ):
            try:
                return ast.literal_eval(node.value)
            except ValueError:
                return default
    return default
