"""One result model for a graded lab, shared by the runner (which fills it) and the
reports (terminal, JSON, JUnit) and progress (which read it)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

PASSED, FAILED, SKIPPED = "passed", "failed", "skipped"


@dataclass
class CheckResult:
    id: str  # the test function's name: stable across runs
    sentence: str  # the docstring's first paragraph: what the learner reads
    task: int
    points: int
    gate: bool = False
    status: str = FAILED
    expected: str | None = None
    found: str | None = None
    fix: str | None = None
    docs: str | None = None
    message: str | None = None  # a failure without the structured parts, or a skip reason
    seconds: float = 0.0

    @property
    def earned(self) -> int:
        return self.points if self.status == PASSED else 0


@dataclass
class LabResult:
    lab: str
    title: str
    checks: list[CheckResult] = field(default_factory=list)
    seed: int | None = None
    path: str | None = None
    seconds: float = 0.0
    problem: str | None = None  # a crash, a time-out, a refused connection: said once, plainly
    # How learner code was isolated, when the lab ran any: "full", "namespaces", "limits only".
    isolation: str | None = None
    isolation_note: str | None = None  # what is missing and how to get full isolation
    # Tables a lab's checks add to the report (lab2: what the web ACL did to each kind of
    # visitor): each {"title": str, "columns": [str], "rows": [[str]]}.
    tables: list[dict[str, Any]] = field(default_factory=list)

    @property
    def score(self) -> int:
        return sum(c.earned for c in self.checks)

    @property
    def max_score(self) -> int:
        return sum(c.points for c in self.checks)

    @property
    def passed_count(self) -> int:
        return sum(c.status == PASSED for c in self.checks)

    @property
    def passed(self) -> bool:
        return bool(self.checks) and self.problem is None and self.passed_count == len(self.checks)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(
            score=self.score,
            max_score=self.max_score,
            passed=self.passed,
            passed_checks=self.passed_count,
            total_checks=len(self.checks),
        )
        return data
