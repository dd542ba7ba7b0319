"""The learner's local progress: last result per lab and how many hints they have seen.

It lives in the course checkout (``.grader/progress.json``, ignored by git) and is written
atomically. It is a convenience, never a source of truth: a file that cannot be read is
set aside as ``progress.json.corrupt`` and started afresh, and ``notice`` says so in one
line (what was lost: the saved results and hint counts, which a re-check and ``grader
hint --all`` rebuild). A progress path that cannot be written at all (a folder in its
place, a read-only course) is a :class:`~grader.errors.ProgressError`.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from grader.course.labs import STATE_FOLDER
from grader.errors import ProgressError
from grader.grading.results import LabResult

FILE_NAME = "progress.json"


class Progress:
    def __init__(self, root: Path):
        self.path = Path(root) / STATE_FOLDER / FILE_NAME
        # Set when the file was unreadable and has been started afresh: one line to show.
        self.notice: str | None = None
        self.data: dict[str, Any] = self._read()

    def _read(self) -> dict[str, Any]:
        if self.path.is_dir():
            raise ProgressError(
                "this is a folder, but the grader keeps your progress in a file here; "
                "move the folder away",
                file=self.path,
            )
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {"labs": {}}
        except (OSError, UnicodeDecodeError) as exc:
            return self._start_afresh(f"it could not be read ({exc})")
        try:
            data = json.loads(text)
        except (ValueError, RecursionError):
            return self._start_afresh("it was not valid JSON")
        if not isinstance(data, dict) or not isinstance(data.get("labs"), dict):
            return self._start_afresh("it did not hold the grader's progress")
        return data

    def _start_afresh(self, why: str) -> dict[str, Any]:
        """Keep the unreadable file for the curious, and say in one line what was lost."""
        kept = self.path.with_name(FILE_NAME + ".corrupt")
        try:
            os.replace(self.path, kept)
            where = f"; the old file is kept as {kept.name}"
        except OSError:
            where = ""
        self.notice = (
            f"note: {self.path} was rebuilt because {why}: the saved lab results and hint "
            f"counts were lost{where} (re-check a lab to record it again)"
        )
        return {"labs": {}}

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
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".progress-", suffix=".json")
        except OSError as exc:
            raise ProgressError(
                f"cannot save your progress here ({exc.strerror or exc})", file=self.path
            ) from None
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(self.data, handle, indent=2)
            os.replace(tmp, self.path)
        except IsADirectoryError:
            Path(tmp).unlink(missing_ok=True)
            raise ProgressError(
                "this is a folder, but the grader keeps your progress in a file here; "
                "move the folder away",
                file=self.path,
            ) from None
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
