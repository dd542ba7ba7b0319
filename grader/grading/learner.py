"""Calling a learner's Python function, jailed, with limits.

Learner code may loop forever, call ``sys.exit`` or ``os._exit``, print without end, eat
memory, fork, try the network or look for the grader's secrets. None of that may reach the
grader: the function runs in a fresh interpreter in the jail (:mod:`grader.grading.jail`),
its arguments and its return value cross as JSON, and the verdict on that value is
computed by the caller. Anything that goes wrong becomes a :class:`LearnerCodeError` whose
message points at the learner's own file and line, never at the grader's. A function called
many times (lab 6's authorizer) is kept warm instead: :mod:`.learner_worker`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from grader.grading import jail

if TYPE_CHECKING:
    from grader.grading.learner_worker import LearnerWorker
    from grader.grading.notebook import NotebookRun

DEFAULT_TIMEOUT = 10.0
# What runs first in the learner's process (read here, run there with python -c).
_BOOTSTRAP = (Path(__file__).with_name("learner_boot.py")).read_text(encoding="utf-8")


class LearnerCodeError(Exception):
    """The learner's function did not return a value; ``str()`` says why, for the learner."""

    def __init__(self, message: str, output: str = ""):
        self.output = output
        super().__init__(message)


@dataclass(frozen=True)
class LearnerResult:
    value: Any
    output: str  # what the function printed (stdout and stderr), for the learner to see


def call_learner(
    module_path: Path,
    function: str,
    *args: Any,
    timeout: float = DEFAULT_TIMEOUT,
    memory: int | None = None,
) -> LearnerResult:
    """Run ``function(*args)`` from the learner's file in a jailed process.

    ``args`` and the return value must be JSON data. Raises LearnerCodeError for every
    way the call can fail: a syntax error, an exception, ``sys.exit``, a killed process,
    a time-out, a value that is not JSON.
    """
    (outcome,), output = _run(Path(module_path), function, [list(args)], _limits(timeout, memory))
    if isinstance(outcome, LearnerCodeError):
        raise outcome
    return LearnerResult(value=outcome, output=output)


def call_learner_many(
    module_path: Path,
    function: str,
    calls: list[tuple[Any, ...]],
    *,
    timeout: float = DEFAULT_TIMEOUT,
    memory: int | None = None,
) -> list[LearnerResult | LearnerCodeError]:
    """Several calls of ``function`` in ONE jailed process (one start-up, one import).

    Each call's outcome is its value or its own LearnerCodeError. A failure of the whole
    process (syntax error, missing function, time-out over all calls, os._exit) raises.
    """
    outcomes, output = _run(
        Path(module_path), function, [list(a) for a in calls], _limits(timeout, memory)
    )
    return [
        o if isinstance(o, LearnerCodeError) else LearnerResult(value=o, output=output)
        for o in outcomes
    ]


def _run(
    module_path: Path, function: str, calls: list[list[Any]], limits: jail.Limits
) -> tuple[list[Any], str]:
    name = module_path.name
    if not module_path.is_file():
        raise LearnerCodeError(f"{name}: no such file")
    module_path = module_path.resolve()
    run = jail.run_jailed(
        _BOOTSTRAP,
        [str(module_path), function, "{RESULT_FD}"],
        stdin=json.dumps(calls).encode(),
        readable=[module_path.parent],
        limits=limits,
    )
    printed = _shown(run.output)
    if run.timed_out:
        raise LearnerCodeError(
            f"{name}: {function}() did not return within {limits.wall_seconds:g} s "
            "(an endless loop?)",
            printed,
        )
    try:
        data = json.loads(run.result or b"")
    except ValueError:
        raise LearnerCodeError(
            _ended_early(name, function, run.returncode, limits), printed
        ) from None
    if not isinstance(data, dict) or not ("error" in data or isinstance(data.get("results"), list)):
        raise LearnerCodeError(_ended_early(name, function, run.returncode, limits), printed)
    if "error" in data:  # the file could not be loaded: every call fails the same way
        raise LearnerCodeError(_describe(name, function, data, limits), printed)
    results = data["results"]
    if len(results) != len(calls) or not all(isinstance(r, dict) for r in results):
        raise LearnerCodeError(_ended_early(name, function, run.returncode, limits), printed)
    outcomes = [
        LearnerCodeError(_describe(name, function, r, limits), printed)
        if "error" in r
        else r.get("value")
        for r in results
    ]
    return outcomes, printed


def _shown(output: str, keep: int = 2000) -> str:
    """What the learner sees of what their code printed: its start and its end."""
    if len(output) <= 2 * keep:
        return output
    return f"{output[:keep]}\n[... {len(output) - 2 * keep:,} characters left out ...]\n{output[-keep:]}"


def _ended_early(name: str, function: str, returncode: int, limits: jail.Limits) -> str:
    why = {
        "SIGXCPU": f"it used more than {limits.cpu_seconds} s of CPU time",
        "SIGXFSZ": f"it wrote a file bigger than {limits.file_size // jail.MiB} MiB",
        "SIGKILL": "it was killed",
    }
    signal_name = jail.signal_name(returncode)
    if signal_name is None and returncode > 128:  # a jail reports a signal as 128+N
        signal_name = jail.signal_name(128 - returncode)
    reason = why.get(signal_name or "", f"ended by {signal_name}" if signal_name else "")
    if not reason:
        reason = f"exit code {returncode}; does the code call os._exit or kill itself?"
    return f"{name}: the process ended before {function}() returned ({reason})"


class LearnerCode:
    """What a check gets as the ``learner_code`` fixture: the one way checks run learner
    code (checks import nothing of ``grader.grading``). ``memory`` is the lab's limit.
    ``call`` and ``call_many`` start a process each; ``worker`` keeps one warm;
    ``notebook`` runs a notebook with its kernel jailed."""

    Error = LearnerCodeError

    def __init__(self, memory: int = jail.Limits.memory):
        self.memory = memory

    def call(
        self, module_path: Path, function: str, *args: Any, timeout: float = DEFAULT_TIMEOUT
    ) -> LearnerResult:
        return call_learner(module_path, function, *args, timeout=timeout, memory=self.memory)

    def call_many(
        self,
        module_path: Path,
        function: str,
        calls: list[tuple[Any, ...]],
        *,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> list[LearnerResult | LearnerCodeError]:
        return call_learner_many(module_path, function, calls, timeout=timeout, memory=self.memory)

    def worker(
        self,
        module_path: Path,
        function: str,
        *,
        env: Mapping[str, str] = {},  # noqa: B006 - read only, never kept
        readable: Sequence[Path] = (),
        reach: Sequence[int] = (),
        lifetime: float = 120.0,
    ) -> LearnerWorker:
        """``function`` kept warm in one jailed process for many calls (a Lambda
        environment); use it in a ``with`` block so its process ends with the check."""
        from grader.grading.learner_worker import LearnerWorker

        return LearnerWorker(
            module_path,
            function,
            env=env,
            readable=readable,
            reach=reach,
            memory=self.memory,
            lifetime=lifetime,
        )

    def notebook(self, path: Path, **kw: Any) -> NotebookRun:
        """The learner's notebook run by nbclient with its kernel in the jail; ``kw`` are
        :func:`~grader.grading.notebook.run_notebook`'s (``parameters``, ``readable``,
        ``timeout``, ``cell_timeout``). Check ``.ok`` / ``.failure``, then read answers with
        ``.namespace_value(name)``; NotebookError (a ``LearnerCode.Error``) for a file that
        is not a notebook."""
        from grader.grading.notebook import KERNEL_MEMORY, run_notebook

        kw.setdefault("memory", max(self.memory, KERNEL_MEMORY))
        return run_notebook(path, **kw)


def _limits(timeout: float, memory: int | None) -> jail.Limits:
    return jail.Limits(wall_seconds=timeout, memory=memory or jail.Limits.memory)


def _describe(name: str, function: str, data: dict[str, Any], limits: jail.Limits) -> str:
    where = data.get("where") or {}
    place = f"{name}:{where['line']}" if where.get("line") else name
    if where.get("col"):
        place += f":{where['col']}"
    code = f" ({where['code']})" if where.get("code") else ""
    error, message = str(data.get("error")), str(data.get("message", ""))
    if error == "MissingFunction":
        return f"{name} has no function named {function}(); keep the starter's function name"
    if error == "NotJSON":
        return f"{name}: {message}"
    if error == "SystemExit":
        return f"{place}: {message} inside {function}(); return a value instead{code}"
    phase = " while the file was imported" if data.get("phase") == "import" else ""
    if error == "MemoryError":
        return (
            f"{place}: {function}() used more than {limits.memory // jail.MiB} MiB of memory "
            f"(the limit for learner code){phase}{code}"
        )
    return f"{place}: {error}: {message}{phase}{code}"
