"""Ctrl-C or SIGTERM during `grader check`: is everything the run started ended, and its
temporary folders removed? Real CLI, real learner code that hangs and spawns a process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import process_ended

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="reads /proc to find what is left"
)

# A generator that leaves a grandchild behind (which the test finds by its marker) and hangs.
HANGING_GENERATOR = """
import subprocess, sys, time

def generate(records, principal_arn):
    subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)", "{marker}"])
    time.sleep(120)
"""


def _processes_with(marker: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            state = (entry / "status").read_text()
        except OSError:
            continue
        if marker.encode() in cmdline and "State:\tZ" not in state:
            found.append(int(entry.name))
    return found


@pytest.mark.parametrize("how", ["ctrl-c", "sigterm"])
def test_an_interrupted_check_leaves_no_process_and_no_folder(course_clone, tmp_path, how):
    marker = f"grader-interrupt-test-{how}-{os.getpid()}"
    (course_clone / "labs" / "lab4" / "generate_policy.py").write_text(
        HANGING_GENERATOR.format(marker=marker)
    )
    temp = tmp_path / "temp"
    temp.mkdir()
    cli = subprocess.Popen(
        [sys.executable, "-m", "grader.cli", "check", "lab4", "--seed", "1"],
        cwd=course_clone,
        env={**os.environ, "NO_COLOR": "1", "TMPDIR": str(temp)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group, as a shell gives a foreground job
    )
    try:
        deadline = time.monotonic() + 60
        while not _processes_with(marker):
            assert cli.poll() is None, cli.communicate()
            assert time.monotonic() < deadline, "the learner's code never started"
            time.sleep(0.05)
        assert any(temp.iterdir()), "the run made no temporary folder to remove"
        if how == "ctrl-c":
            os.killpg(cli.pid, signal.SIGINT)  # what a terminal sends its foreground group
        else:
            os.kill(cli.pid, signal.SIGTERM)
        _out, err = cli.communicate(timeout=20)
    finally:
        if cli.poll() is None:
            os.killpg(cli.pid, signal.SIGKILL)
            cli.wait()
    assert cli.returncode == 130, err
    assert b"Traceback" not in err
    deadline = time.monotonic() + 5
    while _processes_with(marker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _processes_with(marker) == [], "the learner's processes outlived the run"
    assert list(temp.iterdir()) == [], "the run's temporary folders were left behind"


@pytest.mark.parametrize("how", ["ctrl-c", "sigterm"])
def test_an_interrupted_class_run_leaves_no_process_and_no_folder(tmp_path, how):
    """The same through `grader class grade`: the zygote's grading children, their learner
    code and the zygote itself all end, at once, not when the hanging pair times out."""
    marker = f"grader-class-interrupt-test-{how}-{os.getpid()}"
    learner = tmp_path / "roster" / "alice" / "labs" / "lab4"
    learner.mkdir(parents=True)
    (learner / "generate_policy.py").write_text(HANGING_GENERATOR.format(marker=marker))
    temp = tmp_path / "temp"
    temp.mkdir()
    cli = subprocess.Popen(
        [sys.executable, "-m", "grader.cli", "class", "grade", str(tmp_path / "roster"),
         "--labs", "lab4", "--out", str(tmp_path / "out"), "--allow-weaker-isolation"],
        cwd=Path(__file__).resolve().parents[1],
        env={**os.environ, "NO_COLOR": "1", "TMPDIR": str(temp)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 90
        while not _processes_with(marker):
            assert cli.poll() is None, cli.communicate()
            assert time.monotonic() < deadline, "the learner's code never started"
            time.sleep(0.05)
        zygotes = [p for p in _processes_with("grader.grading.zygote") if _parent(p) == cli.pid]
        assert zygotes, "the class run started no zygote"
        if how == "ctrl-c":
            os.killpg(cli.pid, signal.SIGINT)
        else:
            os.kill(cli.pid, signal.SIGTERM)
        _out, err = cli.communicate(timeout=20)
    finally:
        if cli.poll() is None:
            os.killpg(cli.pid, signal.SIGKILL)
            cli.wait()
    assert cli.returncode == 130, err
    assert b"Traceback" not in err
    deadline = time.monotonic() + 5
    while _processes_with(marker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _processes_with(marker) == [], "the learner's processes outlived the run"
    assert all(process_ended(pid, reaped=True) for pid in zygotes), "a zygote outlived the run"
    assert list(temp.iterdir()) == [], "the run's temporary folders were left behind"


def _parent(pid: int) -> int | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    return int(status.split("PPid:")[1].split()[0])


def test_a_class_run_interrupted_while_its_zygotes_prepare_leaves_nothing(tmp_path):
    """Ctrl-C in the first seconds, while lab 7's zygote makes the class's day and every
    pair waits for its zygote: nothing starts instead, and the day is removed."""
    learner = tmp_path / "roster" / "alice" / "labs" / "lab7"
    learner.mkdir(parents=True)
    (learner / "hunt.ipynb").write_bytes(
        (Path(__file__).resolve().parents[1] / "labs" / "lab7" / "hunt.ipynb").read_bytes()
    )
    temp = tmp_path / "temp"
    temp.mkdir()
    cli = subprocess.Popen(
        [sys.executable, "-m", "grader.cli", "class", "grade", str(tmp_path / "roster"),
         "--labs", "lab7", "--out", str(tmp_path / "out"), "--allow-weaker-isolation"],
        cwd=Path(__file__).resolve().parents[1],
        env={**os.environ, "NO_COLOR": "1", "TMPDIR": str(temp)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        zygotes: list[int] = []
        while not zygotes:
            assert cli.poll() is None, cli.communicate()
            assert time.monotonic() < deadline, "the class run started no zygote"
            zygotes = [p for p in _processes_with("grader.grading.zygote") if _parent(p) == cli.pid]
            time.sleep(0.05)
        time.sleep(0.5)  # loading, then making the day
        os.killpg(cli.pid, signal.SIGINT)
        _out, err = cli.communicate(timeout=30)
    finally:
        if cli.poll() is None:
            os.killpg(cli.pid, signal.SIGKILL)
            cli.wait()
    assert cli.returncode == 130, err
    assert all(process_ended(pid, reaped=True) for pid in zygotes), "a zygote outlived the run"
    assert list(temp.iterdir()) == [], "the run's temporary folders were left behind"
