"""Runs one lab's checks in a child interpreter, with a time limit, and reads the result.

The child is pytest with :mod:`grader.grading.plugin` (``python -m grader.grading.child``); it
writes JSON lines as it goes, on a pipe only it inherits. When the checks take ``aws``, the sandbox process is forked here first
and handed to the child (:mod:`grader.grading.sandbox_process`); it ends with the run, time-out
or not. Whatever happens in the child (a crash, a hang, ``os._exit`` in learner code), the
parent builds a complete result: checks that never reported are failed with the reason,
never passed. When the run itself is interrupted (Ctrl-C, SIGTERM), the child is asked to
stop, ends its learner processes and its sandbox, and the run's temporary folder goes.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from grader.course.labs import Lab
from grader.grading import jail, sandbox_process
from grader.grading.processes import end_group, kill_group, private
from grader.grading.results import FAILED, CheckResult, LabResult
from grader.grading.zygote import Zygote, ZygoteChild, ZygoteUnavailable

_FIELDS = ("expected", "found", "fix", "docs", "message", "seconds")


def child_command(
    lab: Lab, lab_dir: Path, out_fd: int, seed: int, shown_as: Path | None = None
) -> list[str]:
    args = child_args(lab, lab_dir, out_fd, seed, shown_as)
    return [sys.executable, "-m", "grader.grading.child", *args]


def child_args(
    lab: Lab, lab_dir: Path, out_fd: int | str, seed: int, shown_as: Path | None = None
) -> list[str]:
    """The grading child's arguments (``grader.grading.child.main``'s ``argv``)."""
    checks = lab.checks_module.parent
    return [
        str(lab.checks_module),
        "-p",
        "grader.grading.plugin",
        "-p",
        "no:cacheprovider",
        "-q",
        "--no-header",
        "--import-mode=importlib",
        # The parent reads the plugin's JSON, never pytest's text, so skip what only
        # produces text: assertion rewriting, traceback formatting, and the end-of-run
        # garbage collections that hunt for unraisable exceptions (~0.5 s together).
        "--assert=plain",
        "--tb=no",
        "-p",
        "no:unraisableexception",
        "-p",
        "no:threadexception",
        "-p",
        "no:faulthandler",
        "-p",
        "no:doctest",
        "-p",
        "no:junitxml",
        "-p",
        "no:pastebin",
        "-p",
        "no:legacypath",
        "-o",
        "addopts=",
        # Only the installed checks: no conftest.py anywhere (not in the course, the lab
        # folder or beside the checks) and no ini file of the learner's is read.
        "--noconftest",
        f"--rootdir={checks}",
        f"--confcutdir={checks}",
        "-c",
        os.devnull,
        f"--grader-lab-dir={lab_dir}",
        f"--grader-out-fd={out_fd}",
        f"--grader-seed={seed}",
        f"--grader-memory={lab.memory}",
        *([f"--grader-shown-as={shown_as}"] if shown_as is not None else []),
    ]


def child_env() -> dict[str, str]:
    # The learner's AWS settings never reach the grading child (whose initial environment
    # stays readable in /proc even after it scrubs os.environ).
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "BOTO_"))}
    # Third-party pytest plugins on the learner's machine must not change how checks run.
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    env.pop("PYTEST_ADDOPTS", None)
    return env


def run_lab(
    lab: Lab,
    lab_dir: Path | None = None,
    *,
    seed: int | None = None,
    timeout: float | None = None,
    on_start: Callable[[], None] | None = None,
    zygote: Zygote | None = None,
    shown_as: Path | None = None,
) -> LabResult:
    """Grade ``lab_dir`` (default: the lab's own folder) and return the full result.

    ``on_start`` runs once the child is started: the place to start threads, which must
    not exist while the sandbox process is forked. With ``zygote`` (this lab's), the
    grading child is forked from it instead of started afresh, and forks its own sandbox.
    With ``shown_as``, learner code sees ``lab_dir`` at that path (full isolation only).
    """
    private()  # the learner's code must not read this process's environment through /proc
    lab_dir = Path(lab_dir or lab.folder).resolve()
    seed = secrets.randbelow(2**31) if seed is None else seed
    timeout = lab.timeout if timeout is None else timeout
    result = LabResult(lab=lab.id, title=lab.title, seed=seed, path=str(lab_dir))
    started = time.monotonic()
    env = child_env()
    # The sandbox process first: it has the most to load (boto3, moto) and the checks
    # that need it run last.
    box = (
        sandbox_process.fork_sandbox(services=sandbox_process.services_used(lab.checks_module))
        if sandbox_process.uses_sandbox(lab.checks_module) and zygote is None
        else None
    )
    fds: tuple[int, ...] = ()
    if box is not None:
        env[sandbox_process.HANDOVER_ENV], fds = box.handover()
    # The results come back on a pipe only the grading child holds (learner code is started
    # with every other descriptor closed), never through a file another process could find.
    results_in, results_out = os.pipe()
    try:
        with tempfile.TemporaryDirectory(prefix="grader-") as tmp:
            try:
                proc = _start(lab, lab_dir, seed, env, tmp, fds, results_out, zygote, shown_as)
            except BaseException:
                os.close(results_in)
                raise
            finally:
                os.close(results_out)
            reader = _Records(results_in)
            if box is not None:
                box.release()  # the child has the pipes now; the sandbox sees EOF when it ends
            if on_start is not None:
                on_start()
            try:
                output, _ = proc.communicate(timeout=timeout)
                timed_out = False
            except subprocess.TimeoutExpired:
                kill_group(proc)
                output, _ = proc.communicate()
                timed_out = True
            except BaseException:  # Ctrl-C or SIGTERM: the child ends its learner code first
                end_group(proc)
                raise
            records = reader.records()
    finally:
        if box is not None:
            box.close()
    result.seconds = round(time.monotonic() - started, 3)
    _fill(result, records)
    ended = any(r.get("event") == "end" for r in records)
    if timed_out:
        result.problem = f"the checks took longer than {timeout:g} s and were stopped"
    elif not ended or not result.checks:
        tail = output.decode("utf-8", "replace").strip().splitlines()[-3:]
        result.problem = (
            f"the checks stopped early (exit code {proc.returncode}): something ended the "
            "grading process" + (f" — last output: {' | '.join(tail)}" if tail else "")
        )
    for record in records:
        if record.get("event") == "isolation":
            result.isolation = record.get("level")
            if result.isolation != jail.Level.FULL.value:
                result.isolation_note = record.get("describe")
        if record.get("event") == "table":
            result.tables.append({key: record.get(key) for key in ("title", "columns", "rows")})
        if record.get("event") == "network":
            refused = ", ".join(record["refused"])
            result.problem = (result.problem + "; " if result.problem else "") + (
                f"a connection to {refused} was refused: the grader is offline"
            )
    for check in result.checks:
        if check.status == "pending":
            check.status = FAILED
            check.message = f"did not finish: {result.problem or 'the check never reported'}"
    return result


def _start(
    lab: Lab,
    lab_dir: Path,
    seed: int,
    env: dict[str, str],
    cwd: str,
    fds: tuple[int, ...],
    results_out: int,
    zygote: Zygote | None,
    shown_as: Path | None,
) -> subprocess.Popen | ZygoteChild:
    """The grading child: forked from ``zygote`` when it can, else started afresh (but not
    once the zygote was closed: the run is stopping, and ``ZygoteClosed`` says so)."""
    if zygote is not None:
        try:
            args = child_args(lab, lab_dir, "{RESULTS_FD}", seed, shown_as)
            return zygote.start(args, cwd, results_out)
        except ZygoteUnavailable:
            pass
    return subprocess.Popen(
        child_command(lab, lab_dir, results_out, seed, shown_as),
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        cwd=cwd,
        pass_fds=(*fds, results_out),
        start_new_session=True,  # so a time-out can end the whole process group
    )


class _Records:
    """Reads the grading child's JSON lines as they come (a thread, so a long report never
    fills the pipe and blocks the child)."""

    def __init__(self, fd: int):
        self.fd = fd
        self.data = bytearray()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        try:
            while chunk := os.read(self.fd, 65536):
                self.data += chunk
        except OSError:
            pass
        finally:
            os.close(self.fd)

    def records(self) -> list[dict]:
        self.thread.join(5.0)
        records = []
        for line in self.data.decode("utf-8", errors="replace").splitlines():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                break  # a line cut short by a killed process: the rest is lost anyway
        return records


def _fill(result: LabResult, records: list[dict]) -> None:
    """Collected checks start as pending; each result record settles one."""
    by_id: dict[str, CheckResult] = {}
    for record in records:
        if record.get("event") == "collected":
            for info in record["checks"]:
                check = CheckResult(
                    id=info["id"],
                    sentence=info["sentence"],
                    task=info["task"],
                    points=info["points"],
                    gate=info["gate"],
                    status="pending",
                    message="pending",
                )
                by_id[check.id] = check
                result.checks.append(check)
        elif record.get("event") == "result":
            check = by_id.get(record["id"])
            if check is None:
                continue
            # A later record for the same check replaces the earlier one (a gate that ran
            # late turns checks after it into skips).
            check.status = record["status"]
            for name in _FIELDS:
                setattr(check, name, record.get(name, 0.0 if name == "seconds" else None))
