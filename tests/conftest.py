"""Shared helpers for the project's tests: the repo root, the real CLI in a subprocess, and
throwaway courses for testing the runner on labs that misbehave."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def load_hook():
    """hooks/checks_table.py, imported by path as MkDocs does (hooks/ is not a package)."""
    name = "docs_hook_checks_table"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / "hooks" / "checks_table.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses look their module up while it loads
        spec.loader.exec_module(module)
    return sys.modules[name]


def run_grader(
    *args: str,
    cwd: Path = ROOT,
    env: dict | None = None,
    input: str | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess:
    """The real ``grader`` command, as a user runs it (``python -m grader.cli`` is the same
    entry point as the console script, without depending on PATH)."""
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
    shutil.copytree(ROOT / "labs" / "lab3", target)
    return target


@pytest.fixture
def lab3_solved(tmp_path: Path) -> Path:
    """lab3 with the reference solution laid over the starter."""
    target = tmp_path / "lab3-solved"
    shutil.copytree(ROOT / "labs" / "lab3", target)
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
    """A minimal course with one lab whose checks module is ``checks_source``."""
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
    (root / "grader" / "checks").mkdir(parents=True)
    (root / "grader" / "checks" / f"{lab_id}.py").write_text(textwrap.dedent(checks_source))
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
