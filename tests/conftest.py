"""Shared helpers for the project's tests: the repository root, a pristine copy of the course
to work on, the real CLI in a subprocess, and throwaway courses for testing the runner on
labs that misbehave.

The tests never read or write the learner's own state in this checkout: ``labs/`` may hold
their answers and ``.grader/`` their progress. Everything that reads a lab's files or runs
the CLI works on :data:`COURSE`, a copy of the course made once per test session with each
lab's files restored from the pristine starters the course ships (``labs/LAB/.starter/``).
"""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def copy_course(target: Path) -> Path:
    """A copy of the course at ``target``, each lab's files as the course ships them."""
    from grader.course.starters import pristine_copy

    return pristine_copy(ROOT, target)


def _session_course() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="cloudsec-tests-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return copy_course(folder / "course")


# The course the tests read and grade: made once per session, never the learner's labs/.
COURSE = _session_course()


@pytest.fixture
def course_clone(tmp_path: Path) -> Path:
    """A course of the test's own, to change: progress, resets and broken files land in it."""
    return copy_course(tmp_path / "course")


def load_hook():
    """The MkDocs hook module, imported as any module of the package."""
    from grader.course import mkdocs_hook

    return mkdocs_hook


def run_grader(
    *args: str,
    cwd: Path = COURSE,
    env: dict | None = None,
    input: str | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess:
    """The real ``grader`` command, as a user runs it (``python -m grader.cli`` is the same
    entry point as the console script, without depending on PATH), in the test course."""
    full_env = {**os.environ, "NO_COLOR": "1", **(env or {})}
    full_env.pop("FORCE_COLOR", None)
    return subprocess.run(
        [sys.executable, "-m", "grader.cli", *args],
        cwd=cwd,
        env=full_env,
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture
def lab3_copy(tmp_path: Path) -> Path:
    """A copy of lab3's starter folder to grade with --path."""
    target = tmp_path / "lab3"
    shutil.copytree(COURSE / "labs" / "lab3", target)
    return target


@pytest.fixture
def lab3_solved(tmp_path: Path) -> Path:
    """lab3 with the reference solution laid over the starter."""
    target = tmp_path / "lab3-solved"
    shutil.copytree(COURSE / "labs" / "lab3", target)
    for path in (ROOT / "solutions" / "lab3").iterdir():
        shutil.copy2(path, target / path.name)
    return target


def make_course(
    root: Path,
    lab_id: str,
    checks_source: str,
    *,
    timeout: int = 120,
    files: tuple[str, ...] = ("answer.json",),
) -> Path:
    """A minimal course with one lab whose checks module is ``checks_source``, in
    ``root/checks`` (load it with ``load_course(root, checks_dir=root / "checks")``)."""
    (root / "labs" / lab_id).mkdir(parents=True)
    (root / "mkdocs.yml").write_text("site_name: test\n")
    files_toml = ", ".join(f'"{f}"' for f in files)
    (root / "labs" / lab_id / "lab.toml").write_text(
        textwrap.dedent(
            f"""
            id = "{lab_id}"
            title = "A test lab"
            chapter = "siem"
            order = 1
            time_required = 5
            docs = "siem/index.md"
            summary = "For tests."
            files = [{files_toml}]
            timeout_seconds = {timeout}
            [[hints]]
            task = 1
            text = "First hint."
            [[hints]]
            task = 1
            text = "Second hint."
            """
        )
    )
    for name in files:
        (root / "labs" / lab_id / name).write_text('{"answer": "TODO"}\n')
    (root / "checks").mkdir(parents=True)
    (root / "checks" / f"{lab_id}.py").write_text(textwrap.dedent(checks_source))
    return root


def process_ended(pid: int, *, reaped: bool = False, within: float = 10.0) -> bool:
    """Whether process ``pid`` has ended (a zombie counts, unless ``reaped`` is asked for),
    waiting up to ``within`` seconds. Linux: reads /proc."""
    import time

    status = Path(f"/proc/{pid}/status")
    deadline = time.monotonic() + within
    while True:
        try:
            zombie = "State:\tZ" in status.read_text()
        except FileNotFoundError:
            return True
        if zombie and not reaped:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
