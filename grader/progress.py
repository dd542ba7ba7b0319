"""The learner's local progress: last result per lab and how many hints they have seen.

It lives in the course checkout (``.grader/progress.json``, ignored by git) and is written
atomically. It is a convenience, never a source of truth: a missing or corrupt file is
replaced without a word, because losing it costs nothing that a re-check cannot rebuild.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from grader.results import LabResult

FOLDER = ".grader"


class Progress:
    def __init__(self, root: Path):
        self.path = Path(root) / FOLDER / "progress.json"
        self.data: dict[str, Any] = self._read()

    def _read(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {"labs": {}}
        if not isinstance(data, dict) or not isinstance(data.get("labs"), dict):
            return {"labs": {}}
        return data

    def _lab(self, lab_id: str) -> dict[str, Any]:
        entry = self.data["labs"].get(lab_id)
        if not isinstance(entry, dict):
            entry = self.data["labs"][lab_id] = {}
        return entry

    def status(self, lab_id: str) -> str:
        """'not started', 'k of n checks passing' or 'passed'."""
        entry = self._lab(lab_id)
        passed, total = entry.get("passed_checks"), entry.get("total_checks")
        if not isinstance(passed, int) or not isinstance(total, int) or total <= 0:
            return "not started"
        if entry.get("passed") is True:
            return "passed"
        return f"{passed} of {total} checks passing"

    def record(self, result: LabResult) -> None:
        entry = self._lab(result.lab)
        entry.update(
            passed=result.passed,
            passed_checks=result.passed_count,
            total_checks=len(result.checks),
            score=result.score,
            max_score=result.max_score,
            checked_at=time.strftime("%Y-%m-%dT%H:%M:%S"),
        )
        self.save()

    def hints_seen(self, lab_id: str) -> int:
        value = self._lab(lab_id).get("hints_seen", 0)
        return value if isinstance(value, int) and value >= 0 else 0

    def set_hints_seen(self, lab_id: str, count: int) -> None:
        self._lab(lab_id)["hints_seen"] = count
        self.save()

    def save(self) -> None:
        """Write to a temporary file beside the target and rename it over: all or nothing."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".progress-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(self.data, handle, indent=2)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
