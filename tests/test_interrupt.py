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

from tests.conftest import ROOT, process_ended

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


def _class_run(tmp_path: Path, lab: str, name: str, text: str) -> tuple[subprocess.Popen, Path]:
    """`grader class grade` on one learner whose ``lab`` holds ``name`` with ``text``, its
    temporary folders in a folder of the test's own (returned beside the process)."""
    learner = tmp_path / "roster" / "alice" / "labs" / lab
    learner.mkdir(parents=True)
    (learner / name).write_text(text)
    temp = tmp_path / "temp"
    temp.mkdir()
    cli = subprocess.Popen(
        [sys.executable, "-m", "grader.cli", "class", "grade", str(tmp_path / "roster"),
         "--labs", lab, "--out", str(tmp_path / "out"), "--allow-weaker-isolation"],
        cwd=ROOT,
        env={**os.environ, "NO_COLOR": "1", "TMPDIR": str(temp)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )  # fmt: skip
    return cli, temp


def _zygotes_of(cli: subprocess.Popen) -> list[int]:
    return [p for p in _processes_with("grader.grading.zygote") if _parent(p) == cli.pid]


def _parent(pid: int) -> int | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    return int(status.split("PPid:")[1].split()[0])


def _stopped(cli: subprocess.Popen, signum: int, timeout: float) -> bytes:
    """Send ``signum`` (SIGINT to the group, as a terminal does) and wait for the end."""
    try:
        if signum == signal.SIGINT:
            os.killpg(cli.pid, signum)
        else:
            os.kill(cli.pid, signum)
        return cli.communicate(timeout=timeout)[1]
    finally:
        if cli.poll() is None:
            os.killpg(cli.pid, signal.SIGKILL)
            cli.wait()


@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_an_interrupted_class_run_leaves_no_process_and_no_folder(tmp_path, how):
    """The same through `grader class grade`: the zygote's grading children, their learner
    code and the zygote itself all end, at once, not when the hanging pair times out."""
    marker = f"grader-class-interrupt-test-{how}-{os.getpid()}"
    cli, temp = _class_run(
        tmp_path, "lab4", "generate_policy.py", HANGING_GENERATOR.format(marker=marker)
    )
    deadline = time.monotonic() + 90
    while not _processes_with(marker):
        if cli.poll() is not None or time.monotonic() > deadline:
            _stopped(cli, signal.SIGKILL, 5)
            pytest.fail("the learner's code never started")
        time.sleep(0.05)
    zygotes = _zygotes_of(cli)
    err = _stopped(cli, how, 20)
    assert zygotes, "the class run started no zygote"
    assert cli.returncode == 130, err
    assert b"Traceback" not in err
    deadline = time.monotonic() + 5
    while _processes_with(marker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _processes_with(marker) == [], "the learner's processes outlived the run"
    assert all(process_ended(pid, reaped=True) for pid in zygotes), "a zygote outlived the run"
    assert list(temp.iterdir()) == [], "the run's temporary folders were left behind"


def test_a_class_run_interrupted_while_its_zygotes_prepare_leaves_nothing(tmp_path):
    """Ctrl-C in the first seconds, while lab 7's zygote makes the class's day and every
    pair waits for its zygote: nothing starts instead, and the day is removed."""
    notebook = (ROOT / "labs" / "lab7" / "hunt.ipynb").read_text()
    cli, temp = _class_run(tmp_path, "lab7", "hunt.ipynb", notebook)
    deadline = time.monotonic() + 60
    while not (zygotes := _zygotes_of(cli)):
        if cli.poll() is not None or time.monotonic() > deadline:
            _stopped(cli, signal.SIGKILL, 5)
            pytest.fail("the class run started no zygote")
        time.sleep(0.05)
    time.sleep(0.5)  # loading, then making the day
    err = _stopped(cli, signal.SIGINT, 30)
    assert cli.returncode == 130, err
    assert all(process_ended(pid, reaped=True) for pid in zygotes), "a zygote outlived the run"
    assert list(temp.iterdir()) == [], "the run's temporary folders were left behind"
