"""Does a grading child forked from a lab's zygote grade exactly as one started afresh,
in a session of its own, and never outlive the class run?

tests/test_runner.py runs every misbehaving-check scenario both ways; here are the real
labs (one with the sandbox, one with a class's prepared hidden day) and the zygote's own
promises.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from grader.course.labs import load_course
from grader.grading.runner import child_env, run_lab
from grader.grading.zygote import Zygote, ZygoteClosed
from tests.conftest import COURSE, ROOT, make_course, process_ended

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")


def _copy(lab_id: str, where: Path, solved: bool) -> Path:
    lab = load_course(COURSE).lab(lab_id)
    target = where / ("solved" if solved else "starter") / lab_id
    shutil.copytree(lab.folder, target)
    if solved:
        for rel in lab.files:
            if (ROOT / "solutions" / lab_id / rel).is_file():
                shutil.copy2(ROOT / "solutions" / lab_id / rel, target / rel)
    return target


def _outcome(result) -> list[tuple]:
    return [(c.id, c.status, c.message, c.found, c.expected) for c in result.checks]


@pytest.mark.parametrize("lab_id", ["lab3", "lab7", "lab8"])
def test_a_real_lab_scores_the_same_through_its_zygote(tmp_path, lab_id):
    """lab3 deploys to the sandbox; labs 7 and 8 read the day their zygote prepared for
    the seed (a saved database, opened read only) instead of generating their own, and
    lab 7 runs the learner's notebook on it."""
    lab = load_course(COURSE).lab(lab_id)
    zygote = Zygote(lab.checks_module, child_env(), seed=11)
    try:
        for solved in (False, True):
            folder = _copy(lab_id, tmp_path, solved)
            afresh = run_lab(lab, folder, seed=11)
            forked = run_lab(lab, folder, seed=11, zygote=zygote)
            assert forked.problem is afresh.problem is None
            assert _outcome(forked) == _outcome(afresh)
            assert forked.passed is solved
        assert zygote.cpu_seconds > 0  # its children were forked, not started afresh
    finally:
        zygote.close()


WHO_AM_I = """
import os, time
import pytest

@pytest.mark.check(task=1, points=1)
def test_where(lab_dir):
    \"\"\"Who is the grading child?\"\"\"
    (lab_dir / "who.txt").write_text(f"{os.getpid()} {os.getsid(0)} {os.getppid()}")
    time.sleep(float((lab_dir / "answer.json").read_text()))
"""


def _lab9(tmp_path: Path, sleep: float):
    root = make_course(tmp_path / "course", "lab9", WHO_AM_I)
    (root / "labs" / "lab9" / "answer.json").write_text(str(sleep))
    return load_course(root, checks_dir=root / "checks").lab("lab9")


def _who(lab) -> tuple[int, int, int]:
    path = lab.folder / "who.txt"
    deadline = time.monotonic() + 60
    while not path.exists() or not path.read_text():
        assert time.monotonic() < deadline, "the grading child never started"
        time.sleep(0.05)
    pid, sid, parent = map(int, path.read_text().split())
    return pid, sid, parent


def test_each_grading_child_leads_a_session_of_its_own_under_the_zygote(tmp_path):
    lab = _lab9(tmp_path, 0)
    zygote = Zygote(lab.checks_module, child_env())
    try:
        result = run_lab(lab, seed=1, zygote=zygote)
        pid, sid, parent = _who(lab)
        assert result.passed, result.problem
        assert sid == pid  # so a time-out ends its whole process group
        assert parent == zygote._proc.pid  # forked, not started afresh
    finally:
        zygote.close()


def test_closing_the_zygote_ends_a_grading_child_still_running(tmp_path):
    """Ctrl-C during a class run closes the zygotes: nothing graded goes on running."""
    lab = _lab9(tmp_path, 600)
    zygote = Zygote(lab.checks_module, child_env())
    results = []
    runner = threading.Thread(target=lambda: results.append(run_lab(lab, seed=1, zygote=zygote)))
    runner.start()
    pid, _, _ = _who(lab)
    zygote.close()
    runner.join(30)
    assert not runner.is_alive(), "the runner still waits for the child"
    assert process_ended(pid)
    assert results[0].problem and not results[0].passed


def test_a_zygote_that_died_means_a_child_started_afresh(tmp_path):
    lab = _lab9(tmp_path, 0)
    zygote = Zygote(lab.checks_module, child_env())
    try:
        zygote._proc.kill()
        zygote._proc.wait()
        result = run_lab(lab, seed=1, zygote=zygote)
        _, _, parent = _who(lab)
        assert result.passed, result.problem
        assert parent == os.getpid()
    finally:
        zygote.close()


def test_a_zygote_closed_by_its_caller_starts_nothing_and_nothing_starts_instead(tmp_path):
    """Ctrl-C closes the zygotes while pairs may still be about to start: none may start a
    grading child of its own, which nothing would then stop."""
    lab = _lab9(tmp_path, 0)
    zygote = Zygote(lab.checks_module, child_env())
    zygote.close()
    with pytest.raises(ZygoteClosed):
        run_lab(lab, seed=1, zygote=zygote)
    assert not (lab.folder / "who.txt").exists()


PREPARED = """
import json, os, sys
from grader.checks import _siem
from grader.checks.lab8_scenario import make_hidden

remove = _siem.prepare(5, 1, "lab8-hidden-")
first, second = make_hidden(5), make_hidden(5)
assert not first.owned and first.folder == second.folder
logs = sorted(p.name for p in first.folder.rglob("*") if p.is_file())
first.close()
still = first.folder.is_dir()  # a run's close() leaves the class's day in place
fresh = make_hidden(6)  # another seed is generated for the run, as before
ids = lambda h: sorted(r[0] for r in h.dataset.sql("SELECT event_id FROM cloudtrail"))
remove()
generated = make_hidden(5)  # prepared no more: generated afresh, the same day
print(json.dumps({
    "labels_in_logs": "labels.json" in logs,
    "still": still,
    "fresh_owned": fresh.owned,
    "same_day": ids(second) == ids(generated),
    "same_labels": second.labels == generated.labels,
    "removed": not second.folder.exists(),
}))
"""


def test_a_prepared_day_is_the_generated_day_without_its_labels_beside_the_logs():
    # A fresh interpreter: the prepared day lives in a module's memory for a whole process.
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(PREPARED)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    import json

    assert json.loads(done.stdout.strip().splitlines()[-1]) == {
        "labels_in_logs": False,
        "still": True,
        "fresh_owned": True,
        "same_day": True,
        "same_labels": True,
        "removed": True,
    }
