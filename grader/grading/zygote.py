"""A warm grading process for one lab that forks a grading child per learner.

Why: a grading child spends most of a small lab's time starting (the interpreter, pytest,
the engines, boto3 and moto: 0.3-0.6 s of CPU each time), and a class has the same lab to
grade for thirty learners. The zygote loads all that once, then forks: each fork is the
grading child of :mod:`grader.grading.child`, in a session of its own, with its own pipes,
working folder, import path and time limit, as if it had been started afresh (what it
shares with its siblings is what the zygote loaded: modules, moto's routes, a class's
prepared hidden inputs). The zygote itself never grades anything and holds nothing of any
learner's, so a fork starts from the same clean state for everyone. Learner code still
runs in the jail, started by the fork. Linux only: elsewhere every child starts afresh.

Its side: ``python -m grader.grading.zygote CHECKS_MODULE FD SEED`` (``SEED`` may be "")
serves requests on the socket ``FD`` (each a JSON object with the descriptors it needs)
until the socket closes or it gets SIGTERM.
The caller's side is :class:`Zygote`, whose :meth:`Zygote.start` gives an object that
behaves as the :class:`subprocess.Popen` of the grading child the runner would have started.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

# Set (to anything but "" or "0") to start every grading child afresh instead.
DISABLE_ENV = "GRADER_NO_ZYGOTE"
_MAX_MESSAGE = 1 << 16
GRACE_SECONDS = 2.0  # for a grading child to end its learner code when the run stops


class ZygoteUnavailable(RuntimeError):
    """The zygote could not start a child; the caller starts one itself instead."""


class ZygoteClosed(RuntimeError):
    """The zygote was closed by its caller (Ctrl-C): no child is started at all."""


# ---------------------------------------------------------------- the zygote's side


def _preload(checks_module: Path, seed: int | None) -> list[Callable[[], None]]:
    """Import what every grading child of this lab imports (see the module docstring);
    with ``seed``, have the checks make that seed's hidden inputs once (their ``prepare``).
    Returns what removes those inputs."""
    import pdb  # noqa: F401  # pytest's debugging plugin imports it when configured

    import pytest  # noqa: F401

    import grader.grading.child  # noqa: F401
    import grader.grading.learner  # noqa: F401
    import grader.grading.plugin  # noqa: F401
    from grader.grading import sandbox_process

    # The checks and, through them, the engines and the scenario: imported by their package
    # name, as pytest's importlib mode finds them again.
    module = None
    if checks_module.parent.name == "checks" and checks_module.parent.parent.name == "grader":
        with contextlib.suppress(Exception):
            module = importlib.import_module(f"grader.checks.{checks_module.stem}")
    for name in getattr(module, "PRELOAD", ()):
        with contextlib.suppress(Exception):
            importlib.import_module(name)
    if sandbox_process.uses_sandbox(checks_module):
        import boto3  # noqa: F401
        import moto  # noqa: F401

        from grader.grading.sandbox import sandbox

        # moto builds its routes and templates for a service on its first request, once
        # per process: once here, then every fork's fresh (reset) sandbox has them.
        with contextlib.suppress(Exception), sandbox(sandbox_process.DEFAULT_REGION) as box:
            sandbox_process.warm(box, sandbox_process.services_used(checks_module))
    prepare = getattr(module, "prepare", None)
    if seed is None or not callable(prepare):
        return []
    try:
        return [prepare(seed)]
    except Exception:  # noqa: BLE001 - each grading child then makes its own
        return []


def serve(checks_module: Path, fd: int, seed: int | None = None) -> None:
    """Answer requests on socket ``fd`` until it closes: fork a grading child for each,
    say its pid, and later its exit code."""
    from grader.grading import jail
    from grader.grading.processes import private

    private()
    signal.signal(signal.SIGTERM, _stop)
    cleanups: list[Callable[[], None]] = []
    children: set[int] = set()
    try:
        # Shared hidden inputs only where learner code cannot write to them; decided here,
        # once, so no fork can find a weaker level later (forks inherit the answer).
        if seed is not None and jail.isolation().level is not jail.Level.FULL:
            seed = None
        cleanups = _preload(checks_module, seed)
        _serve(socket.socket(fileno=fd), children)
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # asked once is enough: finish here
        _end(children)
        for cleanup in cleanups:
            with contextlib.suppress(Exception):
                cleanup()


def _stop(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def _serve(sock: socket.socket, children: set[int]) -> None:
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    os.set_blocking(wake_r, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    while True:
        ready, _, _ = select.select([sock, wake_r], [], [])
        if wake_r in ready:
            with contextlib.suppress(BlockingIOError):
                os.read(wake_r, 4096)
        for pid, code, cpu in _reap(children):
            _send(sock, {"exit": pid, "code": code, "cpu": round(cpu, 4)})
        if sock in ready:
            try:
                data, fds, _, _ = socket.recv_fds(sock, _MAX_MESSAGE, 8)
            except OSError:
                data, fds = b"", []
            if not data:
                return
            request = json.loads(data)
            if _threads() != 1:  # a fork would copy another thread's locks, held for ever
                _close(fds)
                _send(sock, {"id": request["id"], "error": "the zygote has other threads"})
                continue
            try:
                pid = os.fork()
            except OSError as exc:  # no memory or processes left: the caller starts one
                _close(fds)
                _send(sock, {"id": request["id"], "error": f"fork failed ({exc})"})
                continue
            if pid == 0:
                _child(request, fds, sock, (wake_r, wake_w))
            _close(fds)
            children.add(pid)
            _send(sock, {"id": request["id"], "pid": pid})


def _end(children: set[int]) -> None:
    """The caller is gone (Ctrl-C, or the run is over): its grading children go too, as
    `grader check`'s does on Ctrl-C: asked first, so each ends its learner code and
    removes its folders, then killed with whatever is left of their groups."""
    for pid in children:
        with contextlib.suppress(OSError):
            os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + GRACE_SECONDS
    while children and time.monotonic() < deadline:
        _reap(children)
        time.sleep(0.02)
    for pid in children:
        with contextlib.suppress(OSError):
            os.killpg(pid, signal.SIGKILL)


def _threads() -> int:
    """This process's threads, native ones (a library's pool) included where /proc says."""
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return threading.active_count()


def _reap(children: set[int]) -> list[tuple[int, int, float]]:
    """Children that ended: pid, exit code, CPU seconds (theirs and what they reaped)."""
    ended = []
    for pid in list(children):
        try:
            done, status, usage = os.wait4(pid, os.WNOHANG)
        except ChildProcessError:
            children.discard(pid)
            continue
        if done:
            children.discard(pid)
            cpu = usage.ru_utime + usage.ru_stime
            ended.append((pid, os.waitstatus_to_exitcode(status), cpu))
    return ended


def _send(sock: socket.socket, message: dict[str, Any]) -> None:
    with contextlib.suppress(OSError):
        sock.send(json.dumps(message).encode())


def _close(fds: list[int]) -> None:
    for fd in fds:
        with contextlib.suppress(OSError):
            os.close(fd)


def _child(request: dict[str, Any], fds: list[int], sock: socket.socket, wake: tuple) -> None:
    """In the fork: become the grading child the runner would have started."""
    code = 1
    try:
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)  # the child's own handler comes next
        sock.close()
        _close(list(wake))
        os.setsid()  # its own session: a time-out ends its whole process group
        out_fd, results_fd = fds
        for target in (1, 2):
            os.dup2(out_fd, target)
        os.close(out_fd)
        os.chdir(request["cwd"])
        sys.path[0] = request["cwd"]  # as `python -m` started there would have it
        from grader.grading import processes
        from grader.grading.child import main

        processes._die_with_parent()
        argv = [str(a).replace("{RESULTS_FD}", str(results_fd)) for a in request["argv"]]
        code = main(argv)
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:  # noqa: BLE001 - the runner reports a child that ended early
        code = 1
    finally:
        os._exit(code)


# ---------------------------------------------------------------- the caller's side


class Zygote:
    """A zygote process for one lab, shared by the runner's threads."""

    def __init__(self, checks_module: Path, env: dict[str, str], seed: int | None = None):
        """``seed``: the one every child will be given, whose hidden inputs the checks may
        make once here (only where learner code cannot write to them: full isolation)."""
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self._sock = parent
        self._lock = threading.Lock()
        self._waiting: dict[int, dict[str, Any]] = {}  # request id -> reply, once it came
        self._exits: dict[int, int] = {}  # pid -> exit code
        self._changed = threading.Condition()
        self._next = 0
        self._closed = False  # the zygote is gone (or was closed)
        self._stopped = False  # closed by the caller: start nothing more at all
        # Its working folder: empty, so its import path (``-m`` puts the folder first)
        # holds nothing of anyone's, as a fresh grading child's own temporary folder.
        self._home = tempfile.mkdtemp(prefix="grader-")
        self.cpu_seconds = 0.0  # of the grading children that ended, and what they reaped
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "grader.grading.zygote", str(checks_module),
                 str(child.fileno()), "" if seed is None else str(seed)],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                pass_fds=(child.fileno(),),
                start_new_session=True,
                cwd=self._home,
            )  # fmt: skip
        except BaseException:
            parent.close()
            shutil.rmtree(self._home, ignore_errors=True)
            raise
        finally:
            child.close()
        self._reader = threading.Thread(target=self._read, daemon=True, name="zygote")
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                data = self._sock.recv(_MAX_MESSAGE)
            except OSError:
                data = b""
            with self._changed:
                if not data:
                    self._closed = True
                    self._changed.notify_all()
                    return
                message = json.loads(data)
                if "exit" in message:
                    self._exits[int(message["exit"])] = int(message["code"])
                    self.cpu_seconds += float(message.get("cpu", 0.0))
                else:
                    self._waiting[int(message["id"])] = message
                    if "pid" in message:  # a pid used before by an ended child: not that one
                        self._exits.pop(int(message["pid"]), None)
                self._changed.notify_all()

    def start(self, argv: list[str], cwd: str, results_fd: int) -> ZygoteChild:
        """Fork a grading child running ``child.main(argv)`` in ``cwd``; ``{RESULTS_FD}`` in
        ``argv`` becomes the number ``results_fd`` has there. Raises ZygoteUnavailable."""
        if self._stopped:
            raise ZygoteClosed("the class run is stopping")
        out_r, out_w = os.pipe()
        try:
            with self._lock:
                self._next += 1
                rid = self._next
                message = json.dumps({"id": rid, "argv": argv, "cwd": cwd}).encode()
                try:
                    socket.send_fds(self._sock, [message], [out_w, results_fd])
                except OSError as exc:
                    raise ZygoteUnavailable(f"the zygote is gone ({exc})") from exc
        except BaseException:
            os.close(out_r)
            raise
        finally:
            os.close(out_w)
        with self._changed:
            # The first request waits for the zygote's loading (and preparing) too.
            self._changed.wait_for(lambda: rid in self._waiting or self._closed, 300.0)
            reply = self._waiting.pop(rid, None)
            closed = self._closed
        if reply is None and not closed:
            # Hung: end it, so the request it holds (and the descriptors in it) can never
            # start a second child for this pair, and later pairs do not wait on it too.
            self._proc.kill()
        if self._stopped:
            os.close(out_r)
            raise ZygoteClosed("the class run is stopping")
        if reply is None or "pid" not in reply:
            os.close(out_r)
            why = (reply or {}).get("error", "it did not answer")
            raise ZygoteUnavailable(f"the zygote could not start a grading child: {why}")
        return ZygoteChild(self, int(reply["pid"]), out_r)

    def exit_code(self, pid: int, timeout: float | None) -> int | None:
        """``pid``'s exit code once it ended, waiting up to ``timeout`` (None: for ever)."""
        with self._changed:
            self._changed.wait_for(lambda: pid in self._exits or self._closed, timeout)
            if pid in self._exits:
                return self._exits[pid]
            return -signal.SIGKILL if self._closed else None

    def close(self) -> None:
        """End the zygote: a child still running is asked to stop, then killed; nothing
        is started any more, by the zygote or instead of it."""
        self._stopped = True
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)
        self._sock.close()
        with contextlib.suppress(ProcessLookupError):
            self._proc.terminate()  # still loading: it ends its preparations too
        try:
            self._proc.wait(GRACE_SECONDS + 3.0)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        shutil.rmtree(self._home, ignore_errors=True)


class ZygoteChild:
    """A grading child forked by a :class:`Zygote`, with the parts of ``Popen`` the runner
    uses (its output is read to the end by ``communicate``)."""

    def __init__(self, zygote: Zygote, pid: int, out_fd: int):
        self._zygote = zygote
        self.pid = pid
        self.returncode: int | None = None
        self._output = bytearray()
        self._reader = threading.Thread(target=self._read, args=(out_fd,), daemon=True)
        self._reader.start()

    def _read(self, fd: int) -> None:
        try:
            while chunk := os.read(fd, 65536):
                self._output += chunk
        except OSError:
            pass
        finally:
            os.close(fd)

    def poll(self) -> int | None:
        if self.returncode is None:
            self.returncode = self._zygote.exit_code(self.pid, 0)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            self.returncode = self._zygote.exit_code(self.pid, timeout)
        if self.returncode is None:
            raise subprocess.TimeoutExpired(f"grading child {self.pid}", timeout or 0)
        return self.returncode

    def communicate(self, timeout: float | None = None) -> tuple[bytes, None]:
        deadline = None if timeout is None else time.monotonic() + timeout
        self.wait(timeout)
        left = None if deadline is None else max(0.0, deadline - time.monotonic())
        self._reader.join(left)
        if self._reader.is_alive() and timeout is not None:
            raise subprocess.TimeoutExpired(f"grading child {self.pid}", timeout)
        return bytes(self._output), None

    def kill(self) -> None:
        if self.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)

    def terminate(self) -> None:
        if self.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGTERM)


def enabled() -> bool:
    """Whether class grading may use zygotes here: Linux (where a child dies with its parent
    and /proc shows native threads), not switched off."""
    return sys.platform.startswith("linux") and os.environ.get(DISABLE_ENV, "") in ("", "0")


if __name__ == "__main__":
    serve(Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]) if sys.argv[3:4] != [""] else None)
    os._exit(0)
