"""The pytest plugin loaded in the child process that runs one lab's checks.

It gives checks their fixtures (the lab folder, the seed, the offline sandbox), skips the
checks after a failed gate, and writes one JSON line per event to the pipe the parent
handed over, flushed as it goes: if learner code kills the process, the parent still knows
which checks finished. The parent never reads pytest's text output.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import pytest

from grader.aws.errors import GraderError
from grader.checks._support import CheckFailed
from grader.course.checkinfo import first_paragraph
from grader.grading.sandbox import DEFAULT_REGION, Sandbox, network_guard, scrub_environment

_OUT = pytest.StashKey[Any]()
# Checks in the order the learner reads them (the lab's order), by node id.
_POSITION = pytest.StashKey[dict[str, int]]()
# Failed gates as (position, sentence, task or -1); each skips the checks after it, of
# its own task only when it was marked gate="task".
_FAILED_GATES = pytest.StashKey[list[tuple[int, str]]]()
# Checks already reported, as (position, item): a gate run late may have to skip them.
_REPORTED = pytest.StashKey[list[tuple[int, pytest.Item]]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("grader")
    group.addoption("--grader-lab-dir", help="the learner's copy of the lab")
    group.addoption("--grader-out-fd", type=int, help="the descriptor to write JSON lines to")
    group.addoption("--grader-memory", type=int, default=None, help="learner code's memory")
    group.addoption("--grader-seed", type=int, default=None, help="seed for hidden inputs")
    group.addoption("--grader-shown-as", help="the path learner code sees the lab folder at")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "check(task, points, gate=False): a graded check; its docstring is shown"
    )
    fd = config.getoption("--grader-out-fd", None)
    if fd is not None:
        # In the grading child the whole process is offline, not just the sandbox fixture.
        scrub_environment(region=DEFAULT_REGION)
        network_guard().active = True
        config.stash[_OUT] = os.fdopen(fd, "w", encoding="utf-8")
    shown, lab = config.getoption("--grader-shown-as", None), config.getoption("--grader-lab-dir")
    if shown and lab:
        from grader.grading import jail

        jail.show_as(Path(lab), Path(shown))


def pytest_unconfigure(config: pytest.Config) -> None:
    out = config.stash.get(_OUT, None)
    if out is not None:
        refused = network_guard().refused
        if refused:
            _emit(config, {"event": "network", "refused": sorted(set(refused))})
        from grader.grading import jail

        if jail.LEVELS_USED:
            weakest = min(jail.LEVELS_USED, key=lambda level: level.rank)
            found = jail.isolation()
            said = found.describe() if weakest is found.level else weakest.value
            _emit(config, {"event": "isolation", "level": weakest.value, "describe": said})
        _emit(config, {"event": "end"})
        out.close()


def _emit(config: pytest.Config, record: dict[str, Any]) -> None:
    out = config.stash.get(_OUT, None)
    if out is not None:
        out.write(json.dumps(record) + "\n")
        out.flush()


# How much of a table the report takes: a summary, not a dump.
MAX_TABLE_ROWS, MAX_TABLE_COLUMNS, MAX_CELL = 40, 10, 120


@pytest.fixture(scope="session")
def report_table(request: pytest.FixtureRequest) -> Callable[..., None]:
    """A function that adds a table to the lab's report, after the checks: a check module
    calls it with a title, column names and rows (lab2 shows its replay summary)."""
    config = request.config

    def add(title: str, columns: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
        cut = [[str(cell)[:MAX_CELL] for cell in row[:MAX_TABLE_COLUMNS]] for row in rows]
        _emit(
            config,
            {
                "event": "table",
                "title": str(title)[:MAX_CELL],
                "columns": [str(c)[:MAX_CELL] for c in columns[:MAX_TABLE_COLUMNS]],
                "rows": cut[:MAX_TABLE_ROWS],
            },
        )

    return add


def check_info(item: pytest.Item) -> dict[str, Any]:
    """Task, points, gate and sentence of a check, from its marker and docstring."""
    marker = item.get_closest_marker("check")
    kwargs = marker.kwargs if marker else {}
    sentence = first_paragraph(getattr(item, "obj", None).__doc__ or "")
    return {
        "id": item.name,
        "sentence": sentence or item.name,
        "task": int(kwargs.get("task", 0)),
        "points": int(kwargs.get("points", 1)),
        "gate": bool(kwargs.get("gate", False)),
    }


def _gate_task(item: pytest.Item) -> int | None:
    """The task a gate holds back: its own for gate="task", None (all later ones) else."""
    marker = item.get_closest_marker("check")
    kwargs = marker.kwargs if marker else {}
    return int(kwargs.get("task", 0)) if kwargs.get("gate") == "task" else None


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    _emit(config, {"event": "collected", "checks": [check_info(item) for item in items]})
    config.stash[_POSITION] = {item.nodeid: i for i, item in enumerate(items)}
    config.stash[_FAILED_GATES] = []
    config.stash[_REPORTED] = []
    from grader.grading import sandbox_process

    if sandbox_process.current() is not None:
        # The sandbox process is still loading moto on the other core: run the checks that
        # need it last, so they wait for it least. The learner sees the same order and the
        # same outcomes: when a gate run late fails, the checks after it become skips.
        items.sort(key=lambda item: "aws" in getattr(item, "fixturenames", ()))


def _after_failed_gate(item: pytest.Item) -> str | None:
    """The first failed gate before this check in the lab's order, if any."""
    position = item.config.stash[_POSITION].get(item.nodeid, 0)
    task = check_info(item)["task"]
    for gate, sentence, gate_task in sorted(item.config.stash.get(_FAILED_GATES, [])):
        if gate < position and gate_task in (-1, task):
            return sentence
    return None


def pytest_runtest_setup(item: pytest.Item) -> None:
    gate = _after_failed_gate(item)
    if gate is not None:
        pytest.skip(f"skipped until this passes: {gate}")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Any:
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" or (report.when == "setup" and not report.passed):
        info = check_info(item)
        record: dict[str, Any] = {"event": "result", **info, "seconds": round(call.duration, 4)}
        if report.passed:
            record["status"] = "passed"
        elif report.skipped:
            record["status"] = "skipped"
            record["message"] = _skip_reason(report)
        else:
            record["status"] = "failed"
            record.update(_failure(call.excinfo))
        _emit(item.config, record)
        position = item.config.stash[_POSITION].get(item.nodeid, 0)
        if info["gate"] and record["status"] == "failed":
            _gate_failed(item.config, position, info["sentence"], _gate_task(item))
        item.config.stash[_REPORTED].append((position, item))


def _gate_failed(config: pytest.Config, position: int, sentence: str, task: int | None) -> None:
    """Record the failed gate, and turn checks after it that already ran into skips."""
    config.stash[_FAILED_GATES].append((position, sentence, -1 if task is None else task))
    for other, item in config.stash[_REPORTED]:
        if other > position and _after_failed_gate(item) == sentence:
            info = check_info(item)
            message = f"skipped until this passes: {sentence}"
            _emit(config, {"event": "result", **info, "status": "skipped", "message": message})


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return "skipped"


def _failure(excinfo: pytest.ExceptionInfo[BaseException] | None) -> dict[str, Any]:
    """The learner-facing parts of a failure; never a traceback."""
    if excinfo is None:
        return {"message": "the check failed"}
    exc = excinfo.value
    if isinstance(exc, CheckFailed):
        return {"expected": exc.expected, "found": exc.found, "fix": exc.fix, "docs": exc.docs}
    if isinstance(exc, GraderError):  # a file of the lab that cannot be read or used
        return {"found": str(exc), "fix": "fix the file at that spot and save it"}
    if isinstance(exc, RecursionError):
        return {
            "message": "the grader could not read the lab's files: something in them is nested "
            "too deeply (thousands of levels); is each file the one the lab asks for?"
        }
    if isinstance(exc, SystemExit):
        return {
            "message": f"code under test called sys.exit({exc.code!r}); a check cannot pass that way"
        }
    if isinstance(exc, AssertionError):
        return {"message": str(exc).split("\nassert ", 1)[0] or "the check's assertion failed"}
    # A bug in a check is the course's fault, not the learner's: say so and where.
    where = Path(excinfo.traceback[-1].path).name if excinfo.traceback else "?"
    return {
        "message": f"the check itself crashed ({type(exc).__name__}: {exc}) in {where}; "
        "this is a grader bug, please report it"
    }


@pytest.fixture(scope="session")
def lab_dir(request: pytest.FixtureRequest) -> Path:
    """The folder being graded (the learner's copy of the lab)."""
    value = request.config.getoption("--grader-lab-dir")
    if not value:
        pytest.skip("no lab folder given (--grader-lab-dir)")
    return Path(value)


@pytest.fixture(scope="session")
def seed(request: pytest.FixtureRequest) -> int:
    """The seed for this run's hidden inputs: fresh each run unless one is given."""
    value = request.config.getoption("--grader-seed")
    return int(value) if value is not None else int.from_bytes(os.urandom(4), "big")


@pytest.fixture(scope="session")
def learner_code(request: pytest.FixtureRequest) -> Any:
    """Runs the learner's code for a check: each call in a jailed process of its own,
    with limits (``call``, ``call_many``; failures raise ``learner_code.Error``)."""
    from grader.grading.learner import LearnerCode

    memory = request.config.getoption("--grader-memory")
    return LearnerCode(memory) if memory else LearnerCode()


@pytest.fixture(scope="session")
def aws() -> Any:
    """An offline AWS account (moto) for deploy gates, shared by the lab's checks: the
    sandbox process started for this run, or else one inside this process."""
    from grader.grading import sandbox_process

    remote = sandbox_process.current()
    if remote is not None:
        yield remote
        return
    from grader.grading.sandbox import sandbox

    with sandbox() as box:
        yield box


__all__ = ["Sandbox", "check_info"]
