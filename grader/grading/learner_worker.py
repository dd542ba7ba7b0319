"""A learner's function kept warm: one jailed process, many calls (a Lambda environment).

Lab 6's API gateway runs the learner's authorizer once per request, 15-30 times a check
run; a fresh process each time (:func:`grader.grading.learner.call_learner`, ~0.15 s) is too
slow. A :class:`LearnerWorker` loads the file once in a jailed process
(:func:`grader.grading.jail.start_jailed`, the bootstrap in serve mode) and sends it one
call at a time. Like Lambda, an exception leaves the environment warm, and a call that
passes its deadline resets it: the process and everything it started are killed, and the
next call starts a new one (a cold start). The messages are :mod:`.learner`'s.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from grader.grading import jail
from grader.grading.learner import (
    _BOOTSTRAP,
    DEFAULT_TIMEOUT,
    LearnerCodeError,
    LearnerResult,
    _describe,
    _ended_early,
    _shown,
)

# How long a process that closed its answer pipe gets to end by itself (for its exit code).
_EXIT_GRACE = 1.0


class LearnerWorker:
    """One learner function kept warm in a jailed process (a Lambda execution environment).

    ``env`` adds environment variables (the function's configuration); ``readable`` adds
    read-only folders (the file's own folder always is); ``reach`` names loopback ports of
    this machine the code may connect to at ``127.0.0.1:PORT`` (nothing else is reachable);
    ``memory`` is per process (the lab's limit); ``lifetime`` is the process's wall and CPU
    budget, after which it is ended (the next call starts another). The process starts on
    the first call. Calls are serialized: one at a time, from any thread. Close it (or use
    it as a context manager): its process and relay end then.
    """

    def __init__(
        self,
        module_path: Path,
        function: str,
        *,
        env: Mapping[str, str] = {},  # noqa: B006 - read only, never kept
        readable: Sequence[Path] = (),
        reach: Sequence[int] = (),
        memory: int | None = None,
        lifetime: float = 120.0,
    ) -> None:
        self.module_path = Path(module_path)
        self.function = function
        self.env = jail.checked_env(env)
        self.readable = [self.module_path.resolve().parent, *(Path(p) for p in readable)]
        self.reach = list(reach)
        self.limits = jail.Limits(wall_seconds=lifetime, memory=memory or jail.Limits.memory)
        self.cold_starts = 0  # processes started so far
        self._process: jail.JailProcess | None = None
        self._lock = threading.Lock()
        self._closed = False

    def __enter__(self) -> LearnerWorker:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def start(self, timeout: float = DEFAULT_TIMEOUT) -> LearnerResult:
        """Start the process now and load the file, calling nothing: a file that cannot be
        loaded (a syntax error, an import that fails, no such function) raises
        LearnerCodeError here, before the first call. ``output`` is what loading printed."""
        return self._exchange(b"null\n", timeout)

    def call(self, *args: Any, timeout: float = DEFAULT_TIMEOUT) -> LearnerResult:
        """``function(*args)`` in the warm process; raises LearnerCodeError as
        :func:`~grader.grading.learner.call_learner` does. ``output`` is what the code
        printed since the previous call's answer (this call's, best effort)."""
        return self._exchange(json.dumps(list(args)).encode() + b"\n", timeout)

    def _exchange(self, request: bytes, timeout: float) -> LearnerResult:
        name, function = self.module_path.name, self.function
        with self._lock:
            if self._closed:
                raise RuntimeError("this LearnerWorker is closed")
            if not self.module_path.is_file():
                raise LearnerCodeError(f"{name}: no such file")
            process = self._warm()
            deadline = time.monotonic() + timeout
            try:
                line = process.receive(deadline) if process.send(request, deadline) else None
            except TimeoutError:
                line = None
            if line is None and process.running() and time.monotonic() >= deadline:
                printed = _shown(process.take_output())
                self._reset()
                raise LearnerCodeError(
                    f"{name}: {function}() did not return within {timeout:g} s (an endless loop?)",
                    printed,
                )
            if line is None:  # it ended: os._exit, a signal, a limit
                returncode = process.wait(_EXIT_GRACE)
                printed = _shown(process.take_output())
                ran = time.monotonic() - process.started
                killed = self._reset()
                returncode = killed if returncode is None else returncode
                raise LearnerCodeError(self._ended(returncode, ran), printed)
            printed = _shown(process.take_output())
        try:
            answer = json.loads(line)
        except ValueError:
            answer = None
        if not isinstance(answer, dict) or not ("value" in answer or "error" in answer):
            raise LearnerCodeError(
                f"{name}: the answer of {function}() came back garbled (does the code write "
                "to descriptors it did not open?)",
                printed,
            )
        if "error" in answer:
            raise LearnerCodeError(_describe(name, function, answer, self.limits), printed)
        return LearnerResult(value=answer["value"], output=printed)

    def close(self) -> None:
        """End the process (and all it started) and its relay. Idempotent; a call running
        in another thread meanwhile fails as a killed process."""
        self._closed = True
        process = self._process
        if process is not None:
            process.kill()  # now, even while a call holds the lock
        with self._lock:
            self._reset()

    def _warm(self) -> jail.JailProcess:
        """The running process, or a new one (the first call, or after a reset)."""
        if self._process is not None and not self._process.running():
            self._reset()  # it ended between calls (its lifetime, a stray os._exit)
        if self._process is None:
            self._process = jail.start_jailed(
                _BOOTSTRAP,
                [str(self.module_path.resolve()), self.function, "{RESULT_FD}", "--serve"]
                + ["{REACH}"],
                readable=self.readable,
                limits=self.limits,
                env=self.env,
                reach=self.reach,
            )
            self.cold_starts += 1
        return self._process

    def _reset(self) -> int:
        """End the process, if any; its exit code (0 when there was none)."""
        process, self._process = self._process, None
        return process.end() if process is not None else 0

    def _ended(self, returncode: int, ran: float) -> str:
        name, function = self.module_path.name, self.function
        if ran >= self.limits.wall_seconds:
            return (
                f"{name}: the process ended before {function}() returned (it reached its "
                f"lifetime of {self.limits.wall_seconds:g} s)"
            )
        return _ended_early(name, function, returncode, self.limits)
