"""The one way learner code is started: a Python process in a jail, with limits.

Every piece of learner code (lab4's generator, lab6's authorizer, lab7's notebook kernel;
an alert renderer later) runs through :func:`run_jailed` (run and wait), :func:`start_jailed`
(a process kept running and talked to over time, :class:`JailProcess`) or
:func:`start_kernel_jailed` (a notebook's kernel, reached over Unix sockets); a test checks that
nothing else in the grader starts a process of learner code. The jail has three levels, the
strongest this machine allows (:func:`isolation`):

``full`` (Linux with bubblewrap)
    New user, PID, network, IPC, UTS and cgroup namespaces. The system and the Python
    installation are mounted read-only; the grader's own package, the rest of the course,
    the home folder and its ``~/.aws`` are not there at all; the lab folder is read-only; a
    private tmpfs of 64 MiB is HOME and the working folder, and goes with the call. A
    fresh ``/proc`` shows only the jail's processes (not the grader's, nor its
    environment). The only network is the jail's own loopback, so no port of the machine
    is reachable, except the ports a caller names (``reach``): those are relayed
    (:mod:`grader.grading.reach`) through Unix sockets in a folder mounted read-only, and
    appear inside at the same ``127.0.0.1:PORT``. When the call ends, the PID namespace
    ends with it: nothing it started survives, ``setsid`` and double forks included.
``namespaces`` (Linux with util-linux ``unshare`` and user namespaces, no bubblewrap)
    The same namespaces, so the same process, ``/proc`` and network isolation, but the
    filesystem is the learner's own (read with their permissions) and the grader package is
    importable by a determined learner.
``limits only`` (macOS, Windows, containers without user namespaces)
    A process of its own with the limits below and a Python-level network guard that a
    determined learner can switch off; a ``setsid`` daemon can outlive the call. There is
    no network namespace, so nothing is relayed: the ports named in ``reach`` are reached
    directly, and so is every other loopback port of the machine.

On every level: limits on memory (address space), processes, open files, file size and CPU
time (where the system has ``resource``), a wall-time limit, output captured with a cap
(the learner sees its first and last lines), an environment with no AWS settings or other
secrets of the grader's, every descriptor but stdin/stdout/stderr closed, and
``import grader`` refused with a message that says why.
"""

from __future__ import annotations

import contextlib
import enum
import functools
import os
import queue
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from grader.grading.processes import dies_with_parent, kill_group
from grader.grading.reach import Relay

# Force a weaker level (tests of the fallbacks, or a machine where the jail misbehaves):
# "namespaces" or "limits". A stronger level than the machine allows is never forced.
LEVEL_ENV = "GRADER_ISOLATION"
# Inside the full jail: the learner's home and working folder.
JAIL_HOME = "/home/learner"
MiB = 1024 * 1024
# The most a call's result may be: far more than any lab's answer, far less than a laptop.
RESULT_CAP = 64 * MiB


class Level(enum.Enum):
    FULL = "full"
    NAMESPACES = "namespaces"
    LIMITS = "limits only"

    @property
    def rank(self) -> int:
        return {Level.FULL: 2, Level.NAMESPACES: 1, Level.LIMITS: 0}[self]


@dataclass(frozen=True)
class Isolation:
    """The level learner code gets on this machine, and what stops it being full."""

    level: Level
    missing: str = ""  # why not full, for `grader doctor` and the report's footer
    advice: str = ""  # how to get full isolation here

    def describe(self) -> str:
        if self.level is Level.FULL:
            return "full (bubblewrap: namespaces, read-only system, no network)"
        gaps = {
            Level.NAMESPACES: "your code sees your files",
            Level.LIMITS: "your code shares your files, processes and network",
        }[self.level]
        if self.level is Level.LIMITS and _is_root():
            gaps += ", and as root it can reach the grader's own processes"
        said = f"{self.level.value} ({gaps}): {self.missing}"
        return said + (f"; {self.advice}" if self.advice else "")


@dataclass(frozen=True)
class Limits:
    """What one call of learner code may use. ``memory`` is per process (address space)."""

    wall_seconds: float = 10.0
    memory: int = 1024 * MiB
    processes: int = 64  # more than the user already runs
    open_files: int = 256
    file_size: int = 64 * MiB
    output: int = 32 * 1024  # kept from the start and from the end of what it prints

    @property
    def cpu_seconds(self) -> int:
        return int(self.wall_seconds) + 2


@dataclass
class JailRun:
    """How a jailed process ended."""

    returncode: int
    output: str  # stdout and stderr together, the middle cut when longer than the cap
    timed_out: bool
    level: Level
    result: bytes | None = None  # what it wrote to {RESULT_FD}; None if nothing or too much


# --- which level this machine allows ---------------------------------------------------


def _bwrap() -> str | None:
    return shutil.which("bwrap")


def _unshare() -> str | None:
    return shutil.which("unshare")


@functools.cache
def _probe(level: Level) -> str | None:
    """None when ``level`` works here, else why not (one trial run of ``true``)."""
    if not sys.platform.startswith("linux"):
        return f"{sys.platform} has no Linux namespaces"
    if level is Level.FULL:
        tool = _bwrap()
        if tool is None:
            return "bubblewrap (bwrap) is not installed"
        argv = [tool, *_bwrap_options(()), "--", "/bin/true"]
    else:
        tool = _unshare()
        if tool is None:
            return "util-linux unshare is not installed"
        argv = [*_unshare_options(tool), "/bin/true"]
    try:
        done = subprocess.run(argv, capture_output=True, timeout=10, env=_base_env(Path("/")))
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{Path(tool).name} could not start ({exc})"
    if done.returncode != 0:
        said = done.stderr.decode("utf-8", "replace").strip().splitlines()
        return f"{Path(tool).name} cannot make namespaces here ({said[-1] if said else done.returncode})"
    return None


def isolation() -> Isolation:
    """The strongest level that works here (or the weaker one asked for in GRADER_ISOLATION)."""
    asked = os.environ.get(LEVEL_ENV, "").strip().lower()
    ceiling = {"namespaces": Level.NAMESPACES, "limits": Level.LIMITS}.get(asked, Level.FULL)
    advice = _advice()
    full_missing = _probe(Level.FULL) if ceiling is Level.FULL else f"{LEVEL_ENV}={asked}"
    if full_missing is None:
        return Isolation(Level.FULL)
    if ceiling.rank >= Level.NAMESPACES.rank:
        ns_missing = _probe(Level.NAMESPACES)
        if ns_missing is None:
            return Isolation(Level.NAMESPACES, full_missing, advice)
        full_missing = f"{full_missing}; {ns_missing}"
    return Isolation(Level.LIMITS, full_missing, advice)


def _advice() -> str:
    if sys.platform.startswith("linux"):
        return (
            "install bubblewrap for full isolation (Debian/Ubuntu: sudo apt-get install "
            "bubblewrap; Fedora: sudo dnf install bubblewrap)"
        )
    return "full isolation needs Linux; run the course in a Linux VM or WSL 2 for it"


# --- the command ------------------------------------------------------------------------


def _base_env(home: Path) -> dict[str, str]:
    """Everything learner code sees of the environment: nothing of the grader's."""
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": str(home),
        "TMPDIR": str(home),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
    }


_ENV_NAME = re.compile(r"[A-Z_][A-Z0-9_]*")


def checked_env(extra: Mapping[str, str]) -> dict[str, str]:
    """The caller's variables for learner code (a Lambda function's configuration), or
    ValueError: a name that is not [A-Z_][A-Z0-9_]*, a value that is not text, or one of
    the jail's own (where programs, home and temporary files are, the language)."""
    own = _base_env(Path("/"))
    for name, value in extra.items():
        if not isinstance(name, str) or not _ENV_NAME.fullmatch(name):
            raise ValueError(f"{name!r} is not a variable name for learner code ([A-Z_][A-Z0-9_]*)")
        if name in own:
            raise ValueError(f"{name} is set by the jail and cannot be overridden")
        if not isinstance(value, str) or "\0" in value:
            raise ValueError(f"{name}: the value must be text without NUL characters")
    return dict(extra)


def _python_roots() -> list[Path]:
    """Folders the interpreter and its installed packages live in (read-only in the jail)."""
    roots: set[Path] = set()
    for p in (sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix):
        roots.add(Path(p).resolve())
    roots.add(Path(sys.executable).resolve().parent.parent)
    # Drop roots under another root, and anything under /usr (mounted whole).
    kept = sorted(r for r in roots if r != Path("/") and not r.is_relative_to("/usr"))
    return [r for r in kept if not any(r != o and r.is_relative_to(o) for o in kept)]


def _grader_package() -> Path:
    return Path(__file__).resolve().parents[1]


def _bwrap_options(
    readable: Iterable[Path], sockets: Path | None = None, writable: Iterable[Path] = ()
) -> list[str]:
    opts = [
        "--unshare-all",
        "--unshare-user",
        "--disable-userns",  # no nested namespaces to climb out of
        "--die-with-parent",
        "--new-session",
        "--cap-drop",
        "ALL",
        "--hostname",
        "jail",
        "--ro-bind",
        "/usr",
        "/usr",
    ]
    for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(top):
            opts += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            opts += ["--ro-bind", top, top]
    # Only what the dynamic loader and Python need of /etc: no passwd, no ssl keys, no hosts.
    for name in ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "alternatives"):
        opts += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
    # The writable places first: a later bind of something under /tmp (a virtual
    # environment, the lab folder) must land on top of the tmpfs, not under it.
    opts += ["--proc", "/proc", "--dev", "/dev"]
    opts += ["--size", str(64 * MiB), "--tmpfs", "/tmp"]
    opts += ["--size", str(64 * MiB), "--tmpfs", JAIL_HOME, "--chdir", JAIL_HOME]
    package = _grader_package()
    for root in _python_roots():
        opts += ["--ro-bind", str(root), str(root)]
        if package.is_relative_to(root):  # an installed (not editable) grader: hide it
            opts += ["--tmpfs", str(package)]
    for path in readable:
        opts += ["--ro-bind", str(path), str(_shown(path))]
    if sockets is not None:
        # The relay's Unix sockets, at the same path (on top of the /tmp tmpfs). Read-only
        # is enough to connect to a socket, and the code cannot remove or replace them.
        opts += ["--ro-bind", str(sockets), str(sockets)]
    for path in writable:
        # A notebook kernel's Unix sockets (ZMQ's ipc transport): the kernel binds them, so
        # this one private folder is writable, at the same path on both sides.
        opts += ["--bind", str(path), str(path)]
    # Nothing else is writable: a write anywhere but HOME and /tmp fails, not vanishes.
    return [*opts, "--remount-ro", "/"]


def _unshare_options(tool: str) -> list[str]:
    return [
        tool,
        "--user",
        "--map-root-user",
        "--pid",
        "--fork",
        "--kill-child",
        "--mount-proc",
        "--net",
        "--ipc",
        "--uts",
        "--",
    ]


def _python(code: str, args: list[str]) -> list[str]:
    # -I: no user site-packages, no PYTHON* variables, no current folder on sys.path;
    # -B: no bytecode written into the lab folder; -X utf8: the same text everywhere.
    return [sys.executable, "-I", "-B", "-X", "utf8", "-c", code, *args]


def _is_root() -> bool:
    return hasattr(os, "getuid") and os.getuid() == 0


def _user_process_count() -> int:
    """How many tasks this user runs now. RLIMIT_NPROC counts every thread of every process
    of the user (a browser alone may hold hundreds), so the learner's allowance is added to
    this count, not to the number of processes."""
    try:
        uid = os.getuid()
        entries = list(os.scandir("/proc"))
    except (AttributeError, OSError):
        return 0
    count = 0
    for entry in entries:
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if os.stat(entry.path).st_uid == uid:
                    count += max(1, len(os.listdir(f"{entry.path}/task")))
    return count


def _set_limits(limits: Limits) -> Callable[[], None] | None:
    """A ``preexec_fn`` that applies ``limits`` (and dies with the parent), where it can."""
    try:
        import resource
    except ImportError:  # Windows
        return None
    processes = _user_process_count() + limits.processes if sys.platform != "darwin" else None
    die = dies_with_parent()
    wanted = [
        (resource.RLIMIT_AS, limits.memory),
        (resource.RLIMIT_CPU, limits.cpu_seconds),
        (resource.RLIMIT_FSIZE, limits.file_size),
        (resource.RLIMIT_NOFILE, limits.open_files),
        (resource.RLIMIT_CORE, 0),
    ]
    if processes is not None and hasattr(resource, "RLIMIT_NPROC"):
        wanted.append((resource.RLIMIT_NPROC, processes))

    def apply() -> None:
        for which, value in wanted:
            soft, hard = resource.getrlimit(which)
            value = value if hard == resource.RLIM_INFINITY else min(value, hard)
            with contextlib.suppress(ValueError, OSError):
                resource.setrlimit(which, (value, value))
        if die is not None:
            die()

    return apply


# --- running ----------------------------------------------------------------------------

# The jailed processes running now, so that an interrupted grading process can end them.
_RUNNING: dict[subprocess.Popen, Path] = {}
# The levels learner code ran at in this process (the report says so when not full).
LEVELS_USED: set[Level] = set()


# Folders learner code sees at another path than their own (full isolation only): a class
# grades each learner's files in a private copy, shown at the instructor's own lab folder,
# so the code sees the path `grader check` shows it there, not a temporary one.
_SHOWN: dict[Path, Path] = {}


def show_as(real: Path, shown: Path) -> None:
    """Show folder ``real`` (and what is in it) to learner code as ``shown``."""
    _SHOWN[Path(real).resolve()] = Path(shown).resolve()


def _shown(path: Path) -> Path:
    for real, shown in _SHOWN.items():
        if path == real or path.is_relative_to(real):
            return shown / path.relative_to(real)
    return path


def _shown_arg(arg: str) -> str:
    for real, shown in _SHOWN.items():
        if arg == str(real) or arg.startswith(f"{real}/"):
            return str(shown) + arg[len(str(real)) :]
    return arg


def _command(
    level: Level,
    code: str,
    args: list[str],
    readable: list[Path],
    sockets: Path | None,
    writable: Sequence[Path] = (),
) -> list[str]:
    if level is Level.FULL:
        argv = _python(code, [_shown_arg(a) for a in args])
        options = _bwrap_options(readable, sockets, writable)
        return [_bwrap() or "bwrap", *options, "--", *argv]
    argv = _python(code, args)
    if level is Level.NAMESPACES:
        return [*_unshare_options(_unshare() or "unshare"), *argv]
    return argv


def run_jailed(
    code: str,
    args: list[str],
    *,
    stdin: bytes = b"",
    readable: Iterable[Path] = (),
    limits: Limits | None = None,
) -> JailRun:
    """Run ``python -c code *args`` as learner code, jailed, and wait for it.

    ``readable`` are the folders it may read (the lab folder). ``{RESULT_FD}`` in ``args``
    becomes a descriptor the code may write its result to (``JailRun.result``): a pipe, so
    no file of the grader's is ever read on the code's say-so. Its folder, and everything
    the code started, are gone when this returns.
    """
    limits = limits or Limits()
    level = isolation().level
    LEVELS_USED.add(level)
    readable = [Path(p).resolve() for p in readable]
    # Full jail: HOME is a size-capped tmpfs inside it, nothing lands on the machine's disk.
    # Other levels: a private folder of the machine's, removed afterwards.
    home = Path(tempfile.mkdtemp(prefix="grader-learner-"))
    inner_home = Path(JAIL_HOME) if level is Level.FULL else home
    result_in, result_out = os.pipe()
    args = [a.replace("{RESULT_FD}", str(result_out)) for a in args]
    argv = _command(level, code, args, readable, None)
    try:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            cwd=home,
            env=_base_env(inner_home),
            close_fds=True,  # and pass only the result pipe
            pass_fds=(result_out,),
            start_new_session=True,  # a time-out ends the learner's processes too
            preexec_fn=_set_limits(limits),
        )
    except OSError:
        os.close(result_in)
        _remove(home)
        raise
    finally:
        os.close(result_out)
    _RUNNING[proc] = home
    try:
        output = _Reader(proc.stdout, limits.output)
        result = _Reader(os.fdopen(result_in, "rb"), RESULT_CAP, whole=True)
        timed_out = _feed_and_wait(proc, stdin, limits.wall_seconds)
        _kill_all(proc)
        proc.wait()
        # What it wrote is in the pipes already. A process that escaped the group (at the
        # limits-only level), or a namespace of a thousand forks still being torn down, may
        # hold them open a while longer: give both readers a moment together, no more.
        deadline = time.monotonic() + 0.1
        text, answer = output.text(deadline), result.whole(deadline)
        return JailRun(proc.returncode, text, timed_out, level, answer)
    finally:
        _RUNNING.pop(proc, None)
        _remove(home)


def start_jailed(
    code: str,
    args: list[str],
    *,
    readable: Iterable[Path] = (),
    limits: Limits | None = None,
    env: Mapping[str, str] | None = None,
    reach: Sequence[int] = (),
) -> JailProcess:
    """Start ``python -c code *args`` as learner code, jailed, and leave it running.

    As :func:`run_jailed`, plus: ``env`` adds variables to the learner's environment (not
    PATH, HOME, TMPDIR, LANG or LC_ALL; ValueError); ``reach`` names loopback ports of this
    machine the code may connect to at ``127.0.0.1:PORT``; an argument ``{REACH}`` becomes
    ``--reach PORT=SOCKET`` for each, or nothing where the level has no network namespace of
    its own (the ports are reached directly there). ``limits.wall_seconds`` is the process's
    whole life: it is ended then, busy or not. Talk to it with :class:`JailProcess`.
    """
    limits = limits or Limits()
    level = isolation().level
    readable = [Path(p).resolve() for p in readable]
    home = Path(tempfile.mkdtemp(prefix="grader-learner-"))
    inner_home = Path(JAIL_HOME) if level is Level.FULL else home
    relay: Relay | None = None
    result_in = result_out = -1
    try:
        environment = {**_base_env(inner_home), **checked_env(env or {})}
        if reach and level is not Level.LIMITS:
            relay = Relay(reach)
        routes = [f"{port}={path}" for port, path in (relay.sockets if relay else {}).items()]
        result_in, result_out = os.pipe()
        expanded: list[str] = []
        for arg in args:
            if arg == "{REACH}":
                expanded += [part for route in routes for part in ("--reach", route)]
            else:
                expanded.append(arg.replace("{RESULT_FD}", str(result_out)))
        argv = _command(level, code, expanded, readable, relay.folder if relay else None)
        proc = _from_spawner(
            lambda: subprocess.Popen(
                argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                cwd=home,
                env=environment,
                close_fds=True,  # and pass only the result pipe
                pass_fds=(result_out,),
                start_new_session=True,  # ending it ends the learner's processes too
                preexec_fn=_set_limits(limits),
            )
        )
    except BaseException:
        for fd in (result_in, result_out):
            if fd >= 0:
                os.close(fd)
        if relay is not None:
            relay.close()
        _remove(home)
        raise
    os.close(result_out)
    LEVELS_USED.add(level)
    return JailProcess(proc, level, limits, result_in, home, relay)


def start_kernel_jailed(
    code: str,
    args: list[str],
    *,
    sockets: Path,
    readable: Iterable[Path] = (),
    limits: Limits | None = None,
    env: Mapping[str, str] | None = None,
) -> JailProcess:
    """Start a notebook's kernel (``python -c code *args``) as learner code, jailed, and
    leave it running: a :class:`JailProcess` whose life is ``limits.wall_seconds``.

    As :func:`start_jailed`, except that the kernel is talked to over ZMQ's ``ipc``
    transport, Unix sockets in the filesystem, which reach across the jail's network
    namespace where a loopback TCP port cannot: ``sockets`` is a private folder (the
    connection file and the sockets) mounted read-write at the same path, the one place
    outside HOME and /tmp it may write. There is no result pipe and no relay.
    """
    limits = limits or Limits()
    level = isolation().level
    readable = [Path(p).resolve() for p in readable]
    sockets = Path(sockets).resolve()
    home = Path(tempfile.mkdtemp(prefix="grader-learner-"))
    inner_home = Path(JAIL_HOME) if level is Level.FULL else home
    unused_in, unused_out = os.pipe()  # JailProcess reads answers from a pipe: none come
    os.close(unused_out)
    try:
        environment = {**_base_env(inner_home), **checked_env(env or {})}
        argv = _command(level, code, args, readable, None, [sockets])
        proc = _from_spawner(
            lambda: subprocess.Popen(
                argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                cwd=home,
                env=environment,
                close_fds=True,
                start_new_session=True,  # ending it ends the learner's processes too
                preexec_fn=_set_limits(limits),
            )
        )
    except BaseException:
        os.close(unused_in)
        _remove(home)
        raise
    LEVELS_USED.add(level)
    return JailProcess(proc, level, limits, unused_in, home, None)


# A child started with PR_SET_PDEATHSIG is killed when the *thread* that started it ends,
# not the process: a warm process first called from a short-lived thread (a request
# handler's) would die with that thread. So they are started from one thread that lasts
# as long as the grading process, and die with it.
_T = TypeVar("_T")
_spawner: threading.Thread | None = None
_spawn_orders: queue.SimpleQueue = queue.SimpleQueue()
_spawner_lock = threading.Lock()


def _from_spawner(start: Callable[[], _T]) -> _T:
    global _spawner, _spawn_orders
    with _spawner_lock:
        if _spawner is None or not _spawner.is_alive():  # first use, or after a fork
            _spawn_orders = queue.SimpleQueue()
            _spawner = threading.Thread(target=_spawn_loop, daemon=True, name="grader-jail")
            _spawner.start()
    done = threading.Event()
    box: dict[str, Any] = {}
    orders = _spawn_orders
    orders.put((start, box, done))
    done.wait()
    if "error" in box:
        raise box["error"]
    return box["value"]


def _spawn_loop() -> None:
    while True:
        start, box, done = _spawn_orders.get()
        try:
            box["value"] = start()
        except BaseException as exc:
            box["error"] = exc
        done.set()


class JailProcess:
    """A jailed process left running (:func:`start_jailed`), talked to in turns: a request
    written to its stdin, an answer read as one line from its result pipe, and what it
    printed meanwhile. Between turns nobody reads its output: like a Lambda environment
    between invocations it is frozen once its pipe is full. One caller at a time.
    """

    def __init__(
        self,
        proc: subprocess.Popen,
        level: Level,
        limits: Limits,
        result_fd: int,
        home: Path,
        relay: Relay | None,
    ) -> None:
        self.proc, self.level, self.limits = proc, level, limits
        self.home, self.relay = home, relay
        self._result_fd = result_fd
        self._output_fd = proc.stdout.fileno()
        self._input_fd = proc.stdin.fileno()
        for fd in (self._result_fd, self._output_fd, self._input_fd):
            os.set_blocking(fd, False)
        self._answers = bytearray()
        self._scanned = 0
        self._printed = _Capped(limits.output)
        self._result_open = self._output_open = True
        self._ended = False
        self.started = time.monotonic()
        self._timer = threading.Timer(limits.wall_seconds, self.kill)
        self._timer.name = "grader-jail-lifetime"
        self._timer.daemon = True
        self._timer.start()
        _STARTED.add(self)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def running(self) -> bool:
        return not self._ended and self.proc.poll() is None

    def send(self, data: bytes, deadline: float) -> bool:
        """Write ``data`` to its stdin by ``deadline`` (monotonic); False if it stopped
        reading, ended or the deadline passed."""
        view = memoryview(data)
        poller = select.poll()
        poller.register(self._input_fd, select.POLLOUT)
        while view:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not poller.poll(remaining * 1000):
                return False
            try:
                view = view[os.write(self._input_fd, view) :]
            except BlockingIOError:
                continue
            except OSError:
                return False
        return True

    def receive(self, deadline: float) -> bytes | None:
        """The next line it writes to its result pipe (without the newline); None if the
        pipe closed first (it ended) or the line is longer than RESULT_CAP. Raises
        TimeoutError at ``deadline`` (monotonic). What it prints meanwhile is kept."""
        poller = select.poll()
        poller.register(self._result_fd, select.POLLIN)
        if self._output_open:
            poller.register(self._output_fd, select.POLLIN)
        while True:
            end = self._answers.find(b"\n", self._scanned)
            if end >= 0:
                line = bytes(self._answers[:end])
                del self._answers[: end + 1]
                self._scanned = 0
                return line
            self._scanned = len(self._answers)
            if not self._result_open or len(self._answers) > RESULT_CAP:
                return None
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            for fd, _event in poller.poll(remaining * 1000):
                if fd == self._result_fd:
                    chunk = self._read(fd)
                    if chunk == b"":
                        self._result_open = False
                    self._answers += chunk or b""
                elif not self._drain_output():
                    poller.unregister(self._output_fd)

    def take_output(self) -> str:
        """What it printed since the last call of this (stdout and stderr, capped)."""
        self._drain_output()
        text = self._printed.text()
        self._printed = _Capped(self.limits.output)
        return text

    def _drain_output(self) -> bool:
        """Read what is in the output pipe now; False once it is closed."""
        while self._output_open:
            chunk = self._read(self._output_fd)
            if chunk is None:
                return True
            if chunk == b"":
                self._output_open = False
            self._printed.add(chunk)
        return False

    @staticmethod
    def _read(fd: int) -> bytes | None:
        """Up to 64 KiB; b"" at the end (or an error), None when nothing is there now."""
        try:
            return os.read(fd, 65536)
        except BlockingIOError:
            return None
        except OSError:
            return b""

    def kill(self) -> None:
        """Kill it and everything it started, at once (its lifetime ran out, or the grading
        process is ending). :meth:`end` cleans up after."""
        with contextlib.suppress(OSError):
            kill_group(self.proc)

    def end(self) -> int:
        """Kill it and everything it started, remove its folder and relay; its exit code.
        Idempotent."""
        if not self._ended:
            self._ended = True
            self._timer.cancel()
            if self._timer is not threading.current_thread():
                self._timer.join()
            _kill_all(self.proc)
            self.proc.wait()
            for stream in (self.proc.stdin, self.proc.stdout):
                with contextlib.suppress(OSError):
                    stream.close()
            with contextlib.suppress(OSError):
                os.close(self._result_fd)
            if self.relay is not None:
                self.relay.close()
            _remove(self.home)
            _STARTED.discard(self)
        return self.proc.returncode

    def wait(self, seconds: float) -> int | None:
        """Its exit code once it has ended by itself within ``seconds``, else None."""
        with contextlib.suppress(subprocess.TimeoutExpired):
            return self.proc.wait(seconds)
        return None


_STARTED: set[JailProcess] = set()


def _kill_all(proc: subprocess.Popen) -> None:
    """Kill whatever the call left behind (in the full jail the namespace is gone already).
    A few rounds: a process forked while the first signal went out missed it."""
    for _ in range(3):
        kill_group(proc)
        time.sleep(0.01)


def _remove(folder: Path) -> None:
    """Remove a learner's folder, even one it made unreadable (chmod 000) to stay."""

    def unlock(_func: object, path: str, _exc: object) -> None:
        with contextlib.suppress(OSError):
            os.chmod(path, 0o700)
            parent = os.path.dirname(path)
            os.chmod(parent, 0o700)
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path, ignore_errors=True)
            else:
                os.unlink(path)

    for root, dirs, _files in os.walk(folder):
        for name in dirs:
            with contextlib.suppress(OSError):
                os.chmod(os.path.join(root, name), 0o700, follow_symlinks=False)
    shutil.rmtree(folder, onerror=unlock)
    shutil.rmtree(folder, ignore_errors=True)


def _feed_and_wait(proc: subprocess.Popen, data: bytes, seconds: float) -> bool:
    """Write stdin (in a thread: the code may never read it) and wait; True on time-out."""

    def feed() -> None:
        with contextlib.suppress(OSError, ValueError):
            proc.stdin.write(data)
        with contextlib.suppress(OSError, ValueError):
            proc.stdin.close()

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    try:
        proc.wait(seconds)
    except subprocess.TimeoutExpired:
        return True
    return False


class _Capped:
    """Bytes kept up to a cap at the start and a cap at the end; the middle is counted."""

    def __init__(self, cap: int):
        self.head = bytearray()
        self.tail = bytearray()
        self.dropped = 0
        self.cap = cap

    def add(self, chunk: bytes) -> None:
        room = self.cap - len(self.head)
        if room > 0:
            self.head += chunk[:room]
            chunk = chunk[room:]
        self.tail += chunk
        if len(self.tail) > self.cap:
            self.dropped += len(self.tail) - self.cap
            del self.tail[: len(self.tail) - self.cap]

    def text(self) -> str:
        """The start, and the end, of a long output."""
        head = self.head.decode("utf-8", "replace")
        tail = bytes(self.tail).decode("utf-8", "replace")
        if self.dropped:
            return f"{head}\n[... {self.dropped:,} bytes of output left out ...]\n{tail}"
        return head + tail


class _Reader:
    """Reads a pipe in a thread, keeping the first and the last ``cap`` bytes (or, with
    ``whole``, everything up to ``cap`` and nothing once it is more)."""

    def __init__(self, stream: Any, cap: int, *, whole: bool = False):
        self.kept = _Capped(cap)
        self.stream = stream
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            while chunk := self.stream.read1(65536):
                self.kept.add(chunk)
        except (OSError, ValueError):
            pass
        finally:
            with contextlib.suppress(OSError):
                self.stream.close()

    def whole(self, deadline: float) -> bytes | None:
        """Everything read, or None when nothing came or it was more than the cap."""
        self.thread.join(max(0.0, deadline - time.monotonic()))
        kept = self.kept
        if kept.tail or kept.dropped or not kept.head:
            return None
        return bytes(kept.head)

    def text(self, deadline: float) -> str:
        """What was read by ``deadline``: the start, and the end, of a long output."""
        self.thread.join(max(0.0, deadline - time.monotonic()))
        return self.kept.text()


def end_all() -> None:
    """Kill every jailed process still running (run or started) and remove its folder and
    relay: the grading process is about to end without unwinding."""
    for proc, home in list(_RUNNING.items()):
        kill_group(proc)
        _remove(home)
    for started in list(_STARTED):
        started.kill()
        with contextlib.suppress(Exception):
            started.end()


def signal_name(returncode: int) -> str | None:
    """``SIGKILL`` for -9, and so on: how a process was ended, if by a signal."""
    if returncode >= 0:
        return None
    with contextlib.suppress(ValueError):
        return signal.Signals(-returncode).name
    return f"signal {-returncode}"
