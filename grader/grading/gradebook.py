"""A graded class as files: ``gradebook.csv``, ``gradebook.json`` and ``feedback/<learner>.md``.

The CSV is for a spreadsheet: one row per learner, each lab's points and maximum, then one
column per check (passed / failed / skipped). A cell a learner controls (their name, a
message quoting their file) that a spreadsheet would run as a formula is quoted with a
leading ``'``. Every output says the isolation level learner code ran with.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from grader.course.checkinfo import read_checks
from grader.course.labs import Lab
from grader.grading.classroom import NOT_GRADED, ClassResult, Pair
from grader.grading.results import FAILED

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> str:
    """A CSV cell a spreadsheet shows as text, never runs as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def check_ids(result: ClassResult, lab: Lab) -> list[str]:
    """The lab's checks in the lab's order, plus any a result holds that the module does not."""
    ids = [info.name for info in read_checks(lab.checks_module)]
    for (_, lab_id), pair in sorted(result.pairs.items()):
        if lab_id == lab.id:
            ids.extend(c.id for c in pair.result.checks if c.id not in ids)
    return ids


def totals(result: ClassResult, learner: Any) -> tuple[int, int]:
    pairs = [result.pair(learner, lab) for lab in result.labs]
    return sum(p.result.score for p in pairs), sum(p.result.max_score for p in pairs)


def write_csv(result: ClassResult, path: Path) -> None:
    ids = {lab.id: check_ids(result, lab) for lab in result.labs}
    header = ["learner", "source", "refused", "isolation", "points", "max"]
    for lab in result.labs:
        header += [lab.id, f"{lab.id} max"]
    for lab in result.labs:
        header += [f"{lab.id}:{check}" for check in ids[lab.id]]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for learner in result.learners:
            points, most = totals(result, learner)
            row = [
                learner.name,
                learner.kind,
                learner.refused or "",
                result.isolation,
                points,
                most,
            ]
            for lab in result.labs:
                pair = result.pair(learner, lab)
                row += [pair.result.score, pair.result.max_score]
            for lab in result.labs:
                status = {c.id: c.status for c in result.pair(learner, lab).result.checks}
                row += [status.get(check, "") for check in ids[lab.id]]
            writer.writerow([cell(v) for v in row])


def to_json(result: ClassResult) -> dict[str, Any]:
    learners = []
    for learner in result.learners:
        points, most = totals(result, learner)
        labs = {}
        for lab in result.labs:
            pair = result.pair(learner, lab)
            labs[lab.id] = {**pair.result.to_dict(), "cached": pair.cached, "notes": pair.notes}
        learners.append(
            {
                "name": learner.name,
                "file_name": learner.slug,
                "source": learner.kind,
                "refused": learner.refused,
                "notes": learner.general,
                "points": points,
                "max": most,
                "labs": labs,
            }
        )
    return {
        "grader_version": result.grader_version,
        "checks_seals": result.seals,
        "isolation": result.isolation,
        "isolation_note": result.isolation_note,
        "seed": result.seed,
        "started": result.started,
        "seconds": result.seconds,
        "graded": result.graded,
        "reused": result.reused,
        "not_run": result.not_run,
        "labs": [{"id": lab.id, "title": lab.title} for lab in result.labs],
        "learners": learners,
    }


def write_json(result: ClassResult, path: Path) -> None:
    path.write_text(json.dumps(to_json(result), indent=2, ensure_ascii=False), encoding="utf-8")


def first_hint(lab: Lab, task: int) -> str | None:
    """The first (concept-level) hint of a task: feedback never gives the answer away."""
    return next((h.text for h in lab.hints if h.task == task), None)


def feedback(result: ClassResult, learner: Any) -> str:
    points, most = totals(result, learner)
    lines = [f"# Feedback for {learner.name}", "", f"Total: {points}/{most} points.", ""]
    if learner.refused:
        lines += [f"**Not graded:** {learner.refused}", ""]
    lines += [f"- {note}" for note in learner.general]
    for lab in result.labs:
        lines += _lab_feedback(result.pair(learner, lab))
    lines += ["", f"_Learner code ran with {result.isolation} isolation._", ""]
    return "\n".join(lines)


def _lab_feedback(pair: Pair) -> list[str]:
    r, lab = pair.result, pair.lab
    lines = ["", f"## {lab.id} · {lab.title}: {r.score}/{r.max_score}", ""]
    if r.problem:
        lines += [f"**Problem:** {r.problem}", ""]
    lines += [f"- note: {note}" for note in pair.notes]
    # Checks not run at all (a refused or missing submission) are said once, in the problem.
    failed = [c for c in r.checks if c.status == FAILED and not _not_graded(c.message)]
    if not failed and not r.problem:
        lines.append("Every check passed." if r.checks else "No check ran.")
    for check in failed:
        lines += ["", f"### Task {check.task}: {check.sentence}", ""]
        for label, value in (
            ("Expected", check.expected),
            ("Found", check.found),
            ("To do", check.fix),
            ("Message", check.message),
            ("Read", check.docs),
        ):
            if value:
                lines.append(f"- **{label}:** {value}")
        hint = first_hint(lab, check.task)
        if hint:
            lines += ["", "Hint:", "", *[f"> {line}" for line in hint.splitlines()]]
    return lines


def _not_graded(message: str | None) -> bool:
    return bool(message) and message.startswith(NOT_GRADED)


def write_feedback(result: ClassResult, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for learner in result.learners:
        (folder / f"{learner.slug}.md").write_text(feedback(result, learner), encoding="utf-8")
