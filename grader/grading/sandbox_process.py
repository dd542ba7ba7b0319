"""The offline sandbox in a process of its own, forked before anything heavy is imported.

Why: boto3, moto and moto's first backend take about a second to load, and only the deploy
gates need them. The runner forks this process just before it starts the grading child and
hands it the pipes (``handover``/``adopt``), so moto loads on one core while pytest, the
engines and the lab's data load on the other; where the runner cannot fork safely (it has
other threads, as in watch mode) the grading child forks it first thing instead. A check's
``aws.client("iam").create_role(...)`` is carried over a pipe and answered by real boto3
in real moto, with the same promises as :func:`grader.grading.sandbox.sandbox`: offline, fake
credentials, one account, one region. Where there is no ``fork`` (Windows) the plugin
falls back to the in-process sandbox; the checks cannot tell the difference.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import re
import signal
import struct
import threading
from pathlib import Path
from typing import Any

# The region and account are repeated from grader.grading.sandbox (a test keeps them equal) so
# that forking does not wait for that module's imports.
DEFAULT_REGION = "ap-northeast-1"
FAKE_ACCOUNT = "123456789012"

_HEADER = struct.Struct("!Q")
# Client attributes that hand back live objects (paginators, waiters, the exceptions
# factory): they cannot cross a pipe. Checks call the API operations directly, and catch
# botocore's ClientError and read exc.response["Error"]["Code"].
_LOCAL_ONLY = {"meta", "exceptions", "get_paginator", "get_waiter", "can_paginate"}

# Set by the runner for the grading child when it forked the sandbox process itself.
HANDOVER_ENV = "GRADER_SANDBOX_PROCESS"
# Set (to anything but "" or "0") to keep the sandbox in the grading child: slower, and a
# way out should forking ever misbehave on some machine.
DISABLE_ENV = "GRADER_NO_SANDBOX_PROCESS"

_current: SandboxProcess | None = None


class SandboxUnavailable(RuntimeError):
    """The sandbox process could not start, or stopped before it answered."""


def _write(fd: int, obj: Any) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    view = memoryview(_HEADER.pack(len(data)) + data)
    while view:
        view = view[os.write(fd, view) :]


def _read_exact(fd: int, size: int) -> bytes:
    chunks, left = [], size
    while left:
        chunk = os.read(fd, left)
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _read(fd: int) -> Any:
    (size,) = _HEADER.unpack(_read_exact(fd, _HEADER.size))
    return pickle.loads(_read_exact(fd, size))


# ---------------------------------------------------------------- the sandbox side


# A read-only call per service that makes moto build what its first request needs (its
# URL routing, the service's backend and response templates: 0.05-0.15 s each, measured)
# without creating anything a check could see.
WARM_CALLS: dict[str, tuple[str, dict[str, Any]]] = {
    "sts": ("get_caller_identity", {}),
    "iam": ("list_roles", {}),
    "s3": ("list_buckets", {}),
    "organizations": ("list_roots", {}),
    "wafv2": ("list_web_acls", {"Scope": "CLOUDFRONT"}),
    "cloudfront": ("list_distributions", {}),
    "apigatewayv2": ("get_apis", {}),
}


def warm(box: Any, services: tuple[str, ...]) -> None:
    """Make the clients the checks will call, and have moto answer one read of each, while
    the grading process is still starting: each costs a tenth of a second on first use."""
    for service in ("sts", *services):
        try:
            client = box.client(service)
            operation, kwargs = WARM_CALLS.get(service, (None, {}))
            if operation is not None:
                getattr(client, operation)(**kwargs)
        except Exception:  # a guess that missed costs speed only, never a check
            continue


def _serve(requests: int, replies: int, region: str, services: tuple[str, ...] = ()) -> None:
    """Answer calls until the grading process closes its end (or ends)."""
    from grader.grading.sandbox import sandbox

    try:
        context = sandbox(region)
        box = context.__enter__()
        import boto3  # noqa: F401  # load it now, while the checks' side is busy too
        from botocore.exceptions import ClientError

        warm(box, services)

        broken = None
    except BaseException as exc:  # reported to every caller instead of a silent hang
        broken = f"{type(exc).__name__}: {exc}"
    while True:
        try:
            request = _read(requests)
        except (EOFError, OSError):
            return
        if broken is not None:
            _write(replies, ("unavailable", broken))
            continue
        service, operation, kwargs = request
        try:
            reply = ("ok", _plain(getattr(box.client(service), operation)(**kwargs)))
        except ClientError as exc:
            reply = ("client_error", exc.response, exc.operation_name)
        except Exception as exc:
            reply = ("error", type(exc).__name__, str(exc))
        try:
            _write(replies, reply)
        except (pickle.PicklingError, TypeError, AttributeError) as exc:
            _write(replies, ("error", type(exc).__name__, f"the answer cannot be sent: {exc}"))


def _plain(answer: Any) -> Any:
    """A streamed body (S3 GetObject and the like) read into a :class:`Body`, so the answer
    can cross the pipe; everything else in boto3's answers is plain data already."""
    if isinstance(answer, dict):
        return {
            key: Body(value.read()) if hasattr(value, "iter_chunks") else value
            for key, value in answer.items()
        }
    return answer


class Body:
    """What a check reads from a streamed body: ``read()``, as botocore's StreamingBody."""

    def __init__(self, data: bytes):
        self._data = data
        self._at = 0

    def read(self, amt: int | None = None) -> bytes:
        end = len(self._data) if amt is None else self._at + amt
        chunk, self._at = self._data[self._at : end], min(end, len(self._data))
        return chunk

    def close(self) -> None:
        pass


# ---------------------------------------------------------------- the checks' side


class SandboxProcess:
    """The grading process's handle on the sandbox process; quacks like ``Sandbox``."""

    def __init__(self, pid: int, requests: int, replies: int, region: str):
        self.pid = pid
        self.region = region
        self.account = FAKE_ACCOUNT
        self._requests = requests
        self._replies = replies

    def client(self, service: str) -> RemoteClient:
        """A client whose API calls are answered by boto3 and moto in the sandbox process."""
        return RemoteClient(self, service)

    def call(self, service: str, operation: str, kwargs: dict[str, Any]) -> Any:
        try:
            _write(self._requests, (service, operation, kwargs))
            reply = _read(self._replies)
        except (EOFError, OSError) as exc:
            raise SandboxUnavailable(
                f"the sandbox process stopped before it answered {service}.{operation}"
            ) from exc
        kind = reply[0]
        if kind == "ok":
            return reply[1]
        if kind == "client_error":
            from botocore.exceptions import ClientError

            raise ClientError(reply[1], reply[2])
        if kind == "unavailable":
            raise SandboxUnavailable(f"the sandbox could not start ({reply[1]})")
        raise RuntimeError(f"{service}.{operation} failed in the sandbox: {reply[1]}: {reply[2]}")

    def handover(self) -> tuple[str, tuple[int, int]]:
        """What a grading child needs to use this process: the ``adopt`` spec, and the two
        descriptors to pass to it."""
        return f"{self.pid},{self._requests},{self._replies}", (self._requests, self._replies)

    def release(self) -> None:
        """Close this process's ends of the pipes (after handing them to the child)."""
        for name in ("_requests", "_replies"):
            fd = getattr(self, name)
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
                setattr(self, name, -1)  # never close a number the system has reused

    def close(self) -> None:
        """End the sandbox process, and reap it if it is ours. It holds nothing worth
        keeping, and it may still be importing moto when the checks end early."""
        self.release()
        try:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass


class RemoteClient:
    """``aws.client(name)`` in the grading process: each operation is one round trip."""

    def __init__(self, box: SandboxProcess, service: str):
        self._box = box
        self._service = service

    def __getattr__(self, operation: str) -> Any:
        if operation.startswith("_") or operation in _LOCAL_ONLY:
            raise AttributeError(
                f"{operation!r} is not available through the sandbox process; call the API "
                'operations directly and catch botocore\'s ClientError (exc.response["Error"])'
            )

        def call(**kwargs: Any) -> Any:
            return self._box.call(self._service, operation, kwargs)

        call.__name__ = operation
        return call


# A check asks for the sandbox by taking the ``aws`` fixture as a parameter.
_TAKES_AWS = re.compile(r"^\s*def\s+test_\w*\s*\([^)]*\baws\b", re.MULTILINE)


def uses_sandbox(checks_module: Path) -> bool:
    """Whether any check in the module takes ``aws``. A miss costs speed only: the plugin
    then falls back to the in-process sandbox."""
    try:
        return bool(_TAKES_AWS.search(checks_module.read_text(encoding="utf-8")))
    except OSError:
        return False


_CLIENT_CALL = re.compile(r"""\.client\(\s*["']([a-z0-9-]+)["']""")


def services_used(checks_module: Path) -> tuple[str, ...]:
    """The services the checks will call in the sandbox: the module's ``SANDBOX_SERVICES``
    tuple if it has one (read without importing it), else the ``aws.client("...")`` calls
    written in it. A miss costs speed only."""
    from grader.course.checkinfo import module_constant

    declared = module_constant(checks_module, "SANDBOX_SERVICES")
    if isinstance(declared, tuple | list):
        return tuple(str(v) for v in declared)
    try:
        text = checks_module.read_text(encoding="utf-8")
    except OSError:
        return ()
    return tuple(dict.fromkeys(_CLIENT_CALL.findall(text)))


def why_not_fork() -> str | None:
    """Why the sandbox must stay inside the grading process now, or None if it need not.

    Forking is safe only while this process has a single thread: a lock another thread
    held at that moment would stay locked for ever in the copy.
    """
    if not hasattr(os, "fork"):
        return "this system cannot fork"
    if os.environ.get(DISABLE_ENV, "") not in ("", "0"):
        return f"{DISABLE_ENV} is set"
    if threading.active_count() != 1:
        return "this process has other threads"
    return None


def fork_sandbox(
    region: str = DEFAULT_REGION, services: tuple[str, ...] = ()
) -> SandboxProcess | None:
    """Fork a sandbox process now; None when :func:`why_not_fork` gives a reason.
    ``services`` are warmed before the first call (see :func:`services_used`)."""
    if why_not_fork() is not None:
        return None
    requests_r, requests_w = os.pipe()
    replies_r, replies_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the sandbox process
        code = 0
        try:
            os.close(requests_w)
            os.close(replies_r)
            # Its output is nobody's: the grading process reports everything, and the
            # runner must not wait for this process to close the output pipe.
            devnull = os.open(os.devnull, os.O_RDWR)
            for fd in (0, 1, 2):
                os.dup2(devnull, fd)
            _serve(requests_r, replies_w, region, services)
        except BaseException:
            code = 1
        finally:
            # Never run the forking process's exit handlers or flush its buffers twice.
            os._exit(code)
    os.close(requests_r)
    os.close(replies_w)
    return SandboxProcess(pid, requests_w, replies_r, region)


def start(region: str = DEFAULT_REGION) -> SandboxProcess | None:
    """Fork the sandbox process for this grading process's checks."""
    global _current
    _current = fork_sandbox(region)
    return _current


def adopt(spec: str, region: str = DEFAULT_REGION) -> SandboxProcess:
    """Use the sandbox process the runner forked and handed over (``PID,REQUESTS,REPLIES``)."""
    global _current
    pid, requests, replies = (int(part) for part in spec.split(","))
    _current = SandboxProcess(pid, requests, replies, region)
    return _current


def current() -> SandboxProcess | None:
    """The sandbox process this grading process uses, if any."""
    return _current


def stop() -> None:
    global _current
    if _current is not None:
        _current.close()
        _current = None


__all__ = [
    "Body",
    "RemoteClient",
    "SandboxProcess",
    "SandboxUnavailable",
    "adopt",
    "current",
    "fork_sandbox",
    "start",
    "stop",
    "uses_sandbox",
    "why_not_fork",
]
