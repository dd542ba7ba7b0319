"""``grader dev check``: every invariant between a lab's files, solution, checks and docs.

Each problem names the fix, so a contributor adding a lab is told exactly what is missing.
The slow part (grading every starter and every solution) runs last, only for labs whose
files are all there.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from grader.course.checkinfo import read_checks
from grader.course.labs import STARTERS_FOLDER, Course, Lab
from grader.course.starters import stale_starters
from grader.errors import CheckInfoError, ExitCode

TODO_MARK = "TODO"
# A lab's hidden-input generators live beside its checks, in labN_scenario.py.
SCENARIO_SUFFIX = "_scenario"


def solution_copy(lab: Lab, dest: Path) -> Path:
    """The lab folder with the reference solution laid over the starter files."""
    target = Path(dest) / lab.id
    shutil.copytree(lab.folder, target, dirs_exist_ok=True)
    for name in lab.files:
        src = lab.solution_folder / name
        if src.is_file():
            shutil.copy2(src, target / name)
    return target


def static_problems(lab: Lab) -> list[str]:
    """What is missing or malformed, without running anything."""
    problems = []

    def rel(path: Path) -> str:
        for base in (lab.root, lab.checks_dir.parents[1]):
            if path.is_relative_to(base):
                return path.relative_to(base).as_posix()
        return str(path)

    for name in lab.files:
        starter = lab.folder / name
        if not starter.is_file():
            problems.append(
                f"starter file {rel(starter)} is missing: add it or remove it from files in lab.toml"
            )
        elif TODO_MARK not in starter.read_text(encoding="utf-8", errors="replace"):
            problems.append(
                f"starter file {rel(starter)} has no {TODO_MARK} marking what the learner changes"
            )
        solution = lab.solution_folder / name
        if not solution.is_file():
            problems.append(
                f"solution file {rel(solution)} is missing: solutions mirror the starter paths"
            )
        elif TODO_MARK in solution.read_text(encoding="utf-8", errors="replace"):
            problems.append(f"solution file {rel(solution)} still contains {TODO_MARK}")
    stale = stale_starters(lab)
    if stale:
        problems.append(
            f"the pristine starters in labs/{lab.id}/{STARTERS_FOLDER}/ differ from the starter "
            f"files ({', '.join(stale)}): `grader reset` would restore something else; run "
            f"`grader dev sync-starters {lab.id}` after editing a starter"
        )
    if not lab.checks_module.is_file():
        problems.append(
            f"checks module {rel(lab.checks_module)} is missing: write the lab's checks there"
        )
        checks = []
    else:
        try:
            checks = read_checks(lab.checks_module)
        except CheckInfoError as exc:
            problems.append(str(exc))
            checks = []
        if lab.checks_module.is_file() and not checks and not problems:
            problems.append(f"{rel(lab.checks_module)} has no checks (functions named test_*)")
    tasks = {c.task for c in checks}
    if not lab.hints:
        problems.append(f"labs/{lab.id}/lab.toml has no [[hints]]")
    for i, hint in enumerate(lab.hints):
        if not hint.text:
            problems.append(
                f"labs/{lab.id}/lab.toml hints[{i}] is empty: write the hint or remove it"
            )
        if checks and hint.task not in tasks and hint.task != 0:
            problems.append(
                f"labs/{lab.id}/lab.toml hints[{i}] is for task {hint.task}, which no check has"
            )
    if not lab.docs_path.is_file():
        problems.append(
            f"docs page docs/{lab.docs} is missing: write the lab's page (and add it to mkdocs.yml nav)"
        )
    elif f"<!-- grader:checks {lab.id} -->" not in lab.docs_path.read_text(encoding="utf-8"):
        problems.append(
            f"docs/{lab.docs} lacks the marker <!-- grader:checks {lab.id} --> for its checks table"
        )
    return problems


def graded_problems(lab: Lab) -> list[str]:
    """The starter must fail at least one check; the solution must pass them all."""
    from grader.grading.runner import run_lab

    problems = []
    starter = run_lab(lab, lab.folder, seed=1)
    if starter.problem:
        problems.append(f"grading the starter went wrong: {starter.problem}")
    elif starter.passed:
        problems.append(
            f"the starter of {lab.id} passes every check: the learner would have nothing to do"
        )
    with tempfile.TemporaryDirectory(prefix=f"devcheck-{lab.id}-") as tmp:
        solved = run_lab(lab, solution_copy(lab, Path(tmp)), seed=2)
    if solved.problem:
        problems.append(f"grading the solution went wrong: {solved.problem}")
    for check in solved.checks:
        if check.status != "passed":
            detail = check.found or check.message or ""
            problems.append(
                f"solutions/{lab.id} does not pass {check.id} ({check.status}): {detail}"
            )
    return problems


def dev_check(course: Course, only: Sequence[str], console: Any) -> int:
    labs = [lab for lab in course.labs if not only or lab.id in only]
    if not labs:
        console.print("No labs found under labs/.")
        return ExitCode.FAILED
    checks_dir = course.checks_dir
    known = {lab.id for lab in course.labs}
    # A checks module (labN.py) or a scenario module (labN_scenario.py) of no lab.
    orphans = [
        (p.name, p.stem.removesuffix(SCENARIO_SUFFIX))
        for p in sorted(checks_dir.glob("lab*.py"))
        if p.stem.removesuffix(SCENARIO_SUFFIX) not in known and not only
    ]
    failures = 0
    from grader.course import integrity

    for problem in integrity.problems(checks_dir):
        console.print(
            f"[red]✘[/] grader/checks: {problem} (after changing a check: grader dev seal)",
            markup=True,
            highlight=False,
        )
        failures += 1
    for name, lab_id in orphans:
        console.print(
            f"[red]✘[/] grader/checks/{name} has no labs/{lab_id}/lab.toml", highlight=False
        )
        failures += 1
    for lab in labs:
        problems = static_problems(lab)
        if not problems:
            problems = graded_problems(lab)
        if problems:
            failures += 1
            console.print(f"[red]✘ {lab.id}[/]", highlight=False)
            for problem in problems:
                console.print(f"    {problem}", markup=False, highlight=False)
        else:
            console.print(
                f"[green]✔ {lab.id}[/] starter fails, solution passes, files and docs in place",
                highlight=False,
            )
    return ExitCode.FAILED if failures else ExitCode.OK
