"""Does a class run keep to its slots: ``jobs`` pairs that compute at once, and as many
again of labs whose checks mostly wait, every pair once, and stop on an error?"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from grader.course.checkinfo import module_constant
from grader.course.labs import load_course
from grader.grading.classroom import _waits
from grader.grading.classroom_pool import run_all
from tests.conftest import COURSE


class Meter:
    """Counts the pairs running at once, of each kind."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.now = {True: 0, False: 0}
        self.most = {True: 0, False: 0}
        self.order: list[str] = []

    def work(self, item: tuple[str, bool]) -> str:
        name, waits = item
        with self.lock:
            self.now[waits] += 1
            self.most[waits] = max(self.most[waits], self.now[waits])
        time.sleep(0.05 if waits else 0.02)
        with self.lock:
            self.now[waits] -= 1
        return name.upper()


def test_waiting_pairs_run_beside_computing_ones_never_more_than_jobs_of_each():
    items = [(f"p{i}", i % 3 == 0) for i in range(30)]
    meter, done = Meter(), []
    run_all(
        items,
        meter.work,
        lambda item, result: done.append((item[0], result)),
        jobs=2,
        waits=lambda item: item[1],
    )
    assert sorted(done) == sorted((name, name.upper()) for name, _ in items)
    assert meter.most == {True: 2, False: 2}


def test_without_waiting_pairs_there_are_only_jobs_at_once():
    meter = Meter()
    run_all(
        [(f"p{i}", False) for i in range(12)],
        meter.work,
        lambda item, result: None,
        jobs=3,
        waits=lambda item: False,
    )
    assert meter.most == {True: 0, False: 3}


def test_an_error_starts_nothing_more_and_reaches_the_caller():
    started: list[int] = []

    def work(item: int) -> int:
        started.append(item)
        if item == 2:
            raise RuntimeError("a grader bug")
        time.sleep(0.01)
        return item

    with pytest.raises(RuntimeError, match="a grader bug"):
        run_all(range(50), work, lambda item, result: None, jobs=1, waits=lambda item: False)
    assert len(started) < 50


def test_only_a_lab_whose_checks_say_so_counts_as_waiting():
    course = load_course(COURSE)
    assert {lab.id for lab in course.labs if _waits(lab)} == {"lab6"}


def test_a_checks_constant_is_read_without_importing_the_module(tmp_path: Path):
    module = tmp_path / "lab9.py"
    module.write_text(
        "import this_module_does_not_exist\n"
        "WAITS_ON_TIMERS = True\nSANDBOX_SERVICES = ('iam', 's3')\nCOMPUTED = len('x')\n"
    )
    assert module_constant(module, "WAITS_ON_TIMERS") is True
    assert module_constant(module, "SANDBOX_SERVICES") == ("iam", "s3")
    assert module_constant(module, "COMPUTED", "no") == "no"  # not a literal
    assert module_constant(module, "ABSENT", 0) == 0
    assert module_constant(tmp_path / "missing.py", "WAITS_ON_TIMERS", False) is False
