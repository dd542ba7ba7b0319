"""A lab's checks read from its module's source with ``ast``, importing nothing.

The docs build (the "what the grader checks" table) and ``grader dev check`` both need
the checks' sentences, tasks and points without importing pytest, moto or the engines.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path


class CheckInfoError(Exception):
    """A checks module that breaks the convention; the message names the function."""


@dataclass(frozen=True)
class CheckInfo:
    name: str
    sentence: str
    task: int
    points: int
    gate: bool
    line: int


def _check_marker(func: ast.FunctionDef) -> dict[str, object] | None:
    for deco in func.decorator_list:
        if (
            isinstance(deco, ast.Call)
            and isinstance(deco.func, ast.Attribute)
            and deco.func.attr == "check"
            and ast.unparse(deco.func.value) in ("pytest.mark", "mark")
        ):
            return {kw.arg: ast.literal_eval(kw.value) for kw in deco.keywords if kw.arg}
    return None


def read_checks(path: Path) -> list[CheckInfo]:
    """Every ``test_*`` function of a checks module, in file order."""
    try:
        tree = ast.parse(Path(path).read_text(encoding="utf-8"), filename=str(path))
    except (OSError, SyntaxError) as exc:
        raise CheckInfoError(f"{path}: cannot read the checks module: {exc}") from None
    checks = []
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef) or not node.name.startswith("test_"):
            continue
        where = f"{path}:{node.lineno} {node.name}"
        doc = ast.get_docstring(node)
        if not doc:
            raise CheckInfoError(
                f"{where}: a check needs a docstring (the sentence the learner reads)"
            )
        marker = _check_marker(node)
        if marker is None:
            raise CheckInfoError(f"{where}: mark it @pytest.mark.check(task=N, points=P)")
        task, points = marker.get("task"), marker.get("points")
        if not isinstance(task, int) or not isinstance(points, int):
            raise CheckInfoError(f"{where}: @pytest.mark.check needs integer task= and points=")
        sentence = " ".join(doc.split("\n\n", 1)[0].split())
        checks.append(
            CheckInfo(node.name, sentence, task, points, bool(marker.get("gate")), node.lineno)
        )
    return checks
