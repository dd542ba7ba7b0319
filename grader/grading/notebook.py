"""Running a learner's notebook (lab 7's ``hunt.ipynb``) with nbclient, its kernel jailed.

nbclient drives the notebook from the grading process; the kernel, which runs the learner's
cells, is learner code, so it runs in the jail (:func:`grader.grading.jail.start_kernel_jailed`).
ipykernel talks ZMQ over loopback TCP by default, which the full jail's network namespace
cuts off. So the kernel uses ZMQ's ``ipc`` transport instead: Unix sockets in a private
folder mounted read-write in the jail at the same path. A socket in the filesystem is
reached across network namespaces (and at every level of the jail), and it needs no relay
thread or port of the machine. A jupyter_client provisioner (:class:`_JailProvisioner`)
starts the kernel that way and ends it with its whole PID namespace.

:func:`run_notebook` injects the parameters (papermill style), runs every cell, and then a
hidden cell that prints the notebook's plain-data variables as JSON behind a marker, so
that a check can read ``run.namespace_value("answers")``; that cell is not in what the
learner sees. Every way a run can stop (an exception, a cell or the whole notebook out of
time, a kernel that dies) is a :class:`NotebookRun` with ``failure`` set, its message naming
the learner's cell; a file that is not a notebook, or a kernel that cannot start, raises
:class:`NotebookError`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import secrets
import shutil
import stat
import tempfile
import threading
import time
import uuid
from collections.abc import Coroutine, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import nbformat
import zmq
import zmq.asyncio
from jupyter_client.kernelspec import KernelSpec
from jupyter_client.manager import AsyncKernelManager
from jupyter_client.provisioning import LocalProvisioner
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

from grader.aws.jsonfile import InputError, parse_json_text, read_text
from grader.grading import jail
from grader.grading.learner import LearnerCodeError, _shown

# A notebook with its outputs saved can be large; a hunting notebook is far below this.
MAX_NOTEBOOK_BYTES = 16 * jail.MiB
# What the learner's cells may print in all (the rest is dropped, and the cell says so).
OUTPUT_CAP = 1 * jail.MiB
# The notebook's variables as JSON: each at most, and all together at most.
VALUE_CAP = 1 * jail.MiB
VALUES_CAP = 8 * jail.MiB
# The largest ZMQ message the grader accepts from the kernel (a peer that sends more is
# disconnected): more than the values' cap, far less than a laptop's memory.
MESSAGE_CAP = 32 * jail.MiB
# Memory (address space) per process: a kernel with DuckDB reserves more than a function.
KERNEL_MEMORY = 2048 * jail.MiB
# The jail's own end of the kernel's life comes this long after the run's time limit, in
# case the grader's loop is too busy to end it at the limit itself.
BACKSTOP_SECONDS = 5.0

# A kernel's private folder is FOLDER_PREFIX + the grading process's pid + a random part.
FOLDER_PREFIX = "grader-kernel-"
PARAMETERS_TAG = "parameters"
INJECTED_TAG = "injected-parameters"

# The kernel's first code, run with ``python -c`` in the jail, where the grader package is
# not available: the standard library only. argv: WORKDIR, then ipykernel's arguments.
KERNEL_BOOT = r'''
import os
import sys


class NoGrader:
    """``import grader`` from learner code: refused, saying why."""

    def find_spec(self, name, path=None, target=None):
        if name == "grader" or name.startswith("grader."):
            raise ModuleNotFoundError(
                f"No module named {name!r}: learner code runs without the grader, so "
                "`import grader` is not available; write this part yourself",
                name=name,
            )
        return None


def offline(event, args):
    """Where the jail has no network namespace of its own: loopback only."""
    if event in ("socket.connect", "socket.sendto", "socket.sendmsg"):
        address = args[1] if len(args) > 1 else None
        if not isinstance(address, tuple) or not address:
            return  # a Unix socket
        host = address[0]
    elif event == "socket.getaddrinfo":
        host = args[0]
    else:
        return
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    name = str(host).strip("[]").lower() if host is not None else "localhost"
    if name in ("localhost", "::1") or name.startswith("127."):
        return
    raise ConnectionRefusedError(
        f"the grader works offline and refused a connection to {host}; "
        "nothing here may reach AWS or any other host"
    )


workdir = sys.argv[1]
sys.argv = ["ipykernel_launcher", *sys.argv[2:]]
sys.meta_path.insert(0, NoGrader())
sys.addaudithook(offline)
os.chdir(workdir)
from ipykernel import kernelapp

kernelapp.launch_new_instance()
'''

# The hidden last cell: the notebook's variables that are plain data, as JSON, printed on
# one line behind a marker. {marker}, {value_cap} and {values_cap} are filled in per run.
_VALUES_CELL = r"""
def __grader_values():
    import datetime, decimal, json, types

    def plain(value):
        if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
            return value.isoformat()
        if isinstance(value, decimal.Decimal):
            return float(value)
        if isinstance(value, (set, frozenset, tuple)):
            return list(value)
        if type(value).__module__ == "numpy" and hasattr(value, "tolist"):
            return value.tolist()
        raise TypeError(type(value).__name__)

    shell = get_ipython()
    values, other, total = {}, {}, 0
    skipped = (types.ModuleType, types.FunctionType, types.BuiltinFunctionType, type)
    for name, value in list(shell.user_ns.items()):
        if name.startswith("_") or name in shell.user_ns_hidden or isinstance(value, skipped):
            continue
        try:
            text = json.dumps(value, default=plain)
        except Exception:
            other[name] = type(value).__name__
            continue
        if len(text) > {value_cap} or total + len(text) > {values_cap}:
            other[name] = f"too big ({len(text):,} characters as JSON)"
            continue
        values[name], total = text, total + len(text)
    print("{marker}" + json.dumps({"values": values, "other": other}), flush=True)


__grader_values()
del __grader_values
"""


class NotebookError(LearnerCodeError):
    """The notebook could not be run at all (not a notebook, no kernel), or a variable
    asked for is not there; ``str()`` says why, for the learner."""


@dataclass(frozen=True)
class CellFailure:
    """Why the run stopped, at which of the learner's cells."""

    index: int | None  # the learner's cell (0-based); None: before any cell (the start)
    kind: str  # "error", "cell time-out", "time-out", "kernel died"
    message: str  # one sentence for the learner
    ename: str = ""  # the exception's name and value ("error" only)
    evalue: str = ""
    traceback: tuple[str, ...] = ()  # the learner's traceback, plain text, one line each


@dataclass(frozen=True)
class CellOutcome:
    """One cell of the learner's notebook after the run."""

    index: int  # in the learner's notebook
    cell_type: str  # "code", "markdown", "raw"
    status: str  # "ok", "error", "timed out", "killed", "not run" (and "text" for markdown)
    outputs: list[dict[str, Any]]  # nbformat outputs, as run
    source: str


@dataclass
class NotebookRun:
    """What :func:`run_notebook` found."""

    notebook: nbformat.NotebookNode  # as executed: injected parameters in, hidden cell out
    cells: list[CellOutcome]  # the learner's cells, in their numbering
    failure: CellFailure | None
    seconds: float  # wall time, kernel start included
    level: jail.Level
    kernel_output: str = ""  # what the kernel process printed outside any cell (start-up)
    _values: dict[str, str] = field(default_factory=dict)
    _other: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Every cell ran without an error, in time."""
        return self.failure is None

    def namespace_value(self, name: str) -> Any:
        """The notebook's variable ``name`` after its last cell, as plain data (dates as ISO
        text, tuples and sets as lists). NotebookError when the notebook did not run to
        its end, has no such variable, or holds something that is not plain data."""
        if self.failure is not None:
            raise NotebookError(
                f"`{name}` cannot be read: the notebook did not run to its end "
                f"({self.failure.message})"
            )
        if name in self._values:
            return json.loads(self._values[name])
        what = self._other.get(name)
        if what is not None and what.startswith("too big"):
            limit = VALUE_CAP // jail.MiB
            raise NotebookError(f"`{name}` is {what}; the grader reads up to {limit} MiB")
        if what is not None:
            raise NotebookError(
                f"`{name}` is a {what}, not plain data (a dict, list, text or number) that "
                "the grader can read"
            )
        raise NotebookError(f"the notebook has no variable named `{name}` after its last cell")

    def text(self, index: int) -> str:
        """What the learner's cell ``index`` printed (its streams, and its results as text)."""
        parts = []
        for output in self.cells[index].outputs:
            if output.get("output_type") == "stream":
                parts.append(output.get("text", ""))
            elif "data" in output:
                parts.append(str(output["data"].get("text/plain", "")))
        return "".join(parts)


def run_notebook(
    path: Path | str,
    *,
    parameters: Mapping[str, Any] | None = None,
    readable: Iterable[Path | str] = (),
    timeout: float = 120,
    cell_timeout: float = 60,
    memory: int = KERNEL_MEMORY,
) -> NotebookRun:
    """Run the learner's notebook at ``path`` with its kernel in the jail.

    ``parameters`` become a first code cell (``DATA_DIR = "/path"``), replacing the cell
    tagged ``parameters`` if there is one: names must be identifiers, values plain data.
    ``readable`` are folders the kernel may read (the dataset); the notebook's own folder
    is readable too, and the kernel's working folder, as in Jupyter. ``timeout`` is the
    whole run's (kernel start included), ``cell_timeout`` each cell's; at either the kernel
    is killed with everything it started. ``memory`` is per process.
    """
    path = Path(path)
    readable = [path.resolve().parent, *(Path(p).resolve() for p in readable)]
    missing = [str(p) for p in readable[1:] if not p.is_dir()]
    if missing:
        raise ValueError(f"readable folders must exist: {', '.join(missing)}")
    learner_nb = _read(path)
    plan = _Plan.make(learner_nb, _parameters_cell(parameters or {}))
    folder = _private_folder()
    try:
        run = _Run(path, plan, folder, readable)
        return _in_loop(run.go(timeout, cell_timeout, memory))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# --- reading the notebook and planning the run ------------------------------------------


def _read(path: Path) -> nbformat.NotebookNode:
    """The notebook, or NotebookError saying what is wrong with the file (and where)."""
    try:
        text = read_text(path, max_bytes=MAX_NOTEBOOK_BYTES)
        if not text.strip():
            raise InputError(path, "the file is empty; it should hold a Jupyter notebook")
        data = parse_json_text(text, path)
    except InputError as exc:
        raise NotebookError(str(exc)) from None
    if not isinstance(data, dict) or "cells" not in data:
        raise NotebookError(
            f'{path}: this JSON is not a Jupyter notebook (no "cells"); save it from '
            "Jupyter or VS Code as .ipynb"
        )
    try:
        nb = nbformat.reads(text, as_version=4)
        nbformat.validate(nb)
    except Exception as exc:  # nbformat's many errors: a reason, not a traceback
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise NotebookError(f"{path}: not a valid Jupyter notebook ({reason})") from None
    return nb


def _parameters_cell(parameters: Mapping[str, Any]) -> nbformat.NotebookNode | None:
    if not parameters:
        return None
    lines = ["# Parameters (injected by the grader)"]
    for name, value in parameters.items():
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"a notebook parameter needs a Python name, not {name!r}")
        if isinstance(value, Path):
            value = str(value)
        try:
            literal = json.loads(json.dumps(value))  # plain data only: its repr is Python
        except (TypeError, ValueError):
            raise ValueError(
                f"parameter {name}: {type(value).__name__} is not plain data"
            ) from None
        lines.append(f"{name} = {literal!r}")
    cell = nbformat.v4.new_code_cell("\n".join(lines) + "\n")
    cell.metadata["tags"] = [INJECTED_TAG]
    return cell


@dataclass
class _Plan:
    """The notebook as run, and for each of its cells the learner's index (None: ours)."""

    nb: nbformat.NotebookNode
    origin: list[int | None]
    learner_cells: int

    @classmethod
    def make(cls, learner: nbformat.NotebookNode, injected: nbformat.NotebookNode | None) -> _Plan:
        nb = nbformat.from_dict(json.loads(json.dumps(learner)))  # a copy to fill in
        origin: list[int | None] = list(range(len(nb.cells)))
        if injected is not None:
            tagged = [
                i for i, c in enumerate(nb.cells) if PARAMETERS_TAG in c.metadata.get("tags", [])
            ]
            if tagged:  # the learner's defaults give way to the grader's values
                nb.cells[tagged[0]] = injected
            else:
                nb.cells.insert(0, injected)
                origin.insert(0, None)
        for cell in nb.cells:  # outputs saved by the learner are not this run's
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
        return cls(nb, origin, len(learner.cells))


def _private_folder() -> Path:
    """A new folder for one kernel's connection file and sockets: short (a Unix socket's
    path is ~107 bytes at most), mode 0700, named after this process so that the folders
    of a grading process that was killed are removed by the next one."""
    base = Path("/tmp" if Path("/tmp").is_dir() else tempfile.gettempdir())
    with contextlib.suppress(OSError):
        for entry in base.glob(f"{FOLDER_PREFIX}*"):
            pid = entry.name[len(FOLDER_PREFIX) :].partition("-")[0]
            if pid.isdigit() and entry.lstat().st_uid == os.getuid() and not _alive(int(pid)):
                shutil.rmtree(entry, ignore_errors=True)
    return Path(tempfile.mkdtemp(prefix=f"{FOLDER_PREFIX}{os.getpid()}-", dir=base))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # someone else's
    return True


# --- the kernel in the jail ---------------------------------------------------------------


class _JailProvisioner(LocalProvisioner):
    """A jupyter_client provisioner whose kernel is jailed learner code: started by
    :func:`jail.start_kernel_jailed`, ended with its whole PID namespace."""

    def configure(
        self, folder: Path, workdir: Path, readable: list[Path], limits: jail.Limits
    ) -> None:
        self.folder, self.workdir, self.readable, self.limits = folder, workdir, readable, limits
        self.jailed: jail.JailProcess | None = None
        self.printed: list[str] = []

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> dict[str, Any]:
        # cmd is the kernel spec's argv, filled in: [python, -m, ipykernel_launcher, -f, ...]
        if cmd[1:3] != ["-m", "ipykernel_launcher"]:
            raise ValueError(f"not an ipykernel command: {cmd}")
        self.jailed = jail.start_kernel_jailed(
            KERNEL_BOOT,
            [str(self.workdir), *cmd[3:]],
            sockets=self.folder,
            readable=self.readable,
            limits=self.limits,
            env={"PYDEVD_DISABLE_FILE_VALIDATION": "1"},  # debugpy's start-up warning
        )
        self.process = self.jailed.proc
        self.pid = self.pgid = self.jailed.pid
        return self.connection_info

    def take_output(self) -> str:
        if self.jailed is not None:
            self.printed.append(self.jailed.take_output())
        return "".join(self.printed)

    async def poll(self) -> int | None:
        if self.jailed is None:
            return 0
        self.take_output()  # what it printed outside cells, so its pipe never fills
        return self.jailed.proc.poll()

    async def wait(self) -> int | None:
        while (code := await self.poll()) is None:
            await asyncio.sleep(0.05)
        return code

    async def send_signal(self, signum: int) -> None:
        # Interrupts go as messages (the kernel spec says so); any other signal ends it.
        self.kill_now()

    async def kill(self, restart: bool = False) -> None:
        self.kill_now()

    async def terminate(self, restart: bool = False) -> None:
        self.kill_now()  # nothing in a graded kernel is worth a graceful end

    def kill_now(self) -> None:
        if self.jailed is not None:
            self.jailed.kill()

    async def cleanup(self, restart: bool = False) -> None:
        self.end()

    def end(self) -> None:
        """Kill the kernel and all it started, remove its folder. Idempotent."""
        if self.jailed is not None:
            self.take_output()
            self.jailed.end()
            self.process = None


def _kernel_spec() -> KernelSpec:
    """Our own spec (never the user's kernelspecs): ipykernel in this interpreter,
    interrupts as messages (a signal would reach only the jail's outer process)."""
    return KernelSpec(
        argv=[
            "python",
            "-m",
            "ipykernel_launcher",
            "-f",
            "{connection_file}",
            "--HistoryManager.hist_file=:memory:",
        ],
        display_name="Python 3 (grader jail)",
        language="python",
        interrupt_mode="message",
    )


class _Client(NotebookClient):
    """nbclient with the learner's output capped, and the hidden cell's left whole."""

    def __init__(self, nb: nbformat.NotebookNode, **kw: Any) -> None:
        super().__init__(nb, **kw)
        self.hidden_index = -1
        self.spent = 0
        self.dropped: dict[int, int] = {}
        self.errors: dict[int, dict[str, Any]] = {}
        self.on_cell_error = self._remember_error

    def _remember_error(self, cell: Any, cell_index: int, execute_reply: dict) -> None:
        self.errors[cell_index] = execute_reply.get("content", {})

    def output(self, outs: list, msg: dict, display_id: str | None, cell_index: int) -> Any:
        if cell_index == self.hidden_index or msg.get("msg_type") == "error":
            return super().output(outs, msg, display_id, cell_index)
        content = msg.get("content", {})
        size, room = _size(content), OUTPUT_CAP - self.spent
        if size <= room:
            self.spent += size
            return super().output(outs, msg, display_id, cell_index)
        out = None
        if msg.get("msg_type") == "stream" and room > 0:  # keep the start of the text
            cut = {**msg, "content": {**content, "text": content.get("text", "")[:room]}}
            out = super().output(outs, cut, display_id, cell_index)
        self.spent = OUTPUT_CAP
        if cell_index not in self.dropped:
            note = (
                f"[the grader keeps {OUTPUT_CAP // 1024:,} KiB of a notebook's output; "
                "the rest of this cell's is left out]\n"
            )
            outs.append(nbformat.v4.new_output("stream", name="stderr", text=note))
        self.dropped[cell_index] = self.dropped.get(cell_index, 0) + size - max(room, 0)
        return out


def _size(content: dict[str, Any]) -> int:
    if "text" in content:
        return len(content["text"])
    data = content.get("data")
    if isinstance(data, dict):
        return sum(len(v) if isinstance(v, str) else len(json.dumps(v)) for v in data.values())
    return len(json.dumps(content))


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_CELL_FRAME = re.compile(r"Cell In\[(\d+)\], line (\d+)")


class _Run:
    """One run of one notebook: the kernel, the client, the clock."""

    def __init__(self, path: Path, plan: _Plan, folder: Path, readable: list[Path]) -> None:
        self.path, self.plan, self.folder, self.readable = path, plan, folder, readable
        self.memory = KERNEL_MEMORY
        self.started = time.monotonic()
        self.timed_out = False
        self.running: int | None = None  # the index (as run) of the cell being run
        self.counts: dict[int, int] = {}  # execution count -> index as run

    async def go(self, timeout: float, cell_timeout: float, memory: int) -> NotebookRun:
        self.memory = memory
        limits = jail.Limits(wall_seconds=timeout + BACKSTOP_SECONDS, memory=memory)
        context = zmq.asyncio.Context()
        context.setsockopt(zmq.MAXMSGSIZE, MESSAGE_CAP)
        km = AsyncKernelManager(
            transport="ipc",
            ip=str(self.folder / "k"),
            connection_file=str(self.folder / "kernel.json"),
            context=context,
            autorestart=False,
        )
        km.kernel_id = str(uuid.uuid4())
        km._kernel_spec = _kernel_spec()
        provisioner = _JailProvisioner(
            kernel_id=km.kernel_id, kernel_spec=km._kernel_spec, parent=km
        )
        provisioner.configure(self.folder, self.path.resolve().parent, self.readable, limits)
        km.provisioner = provisioner
        client = _Client(
            self.plan.nb,
            km=km,
            timeout_func=lambda _cell: cell_timeout,
            shutdown_kernel="immediate",
            iopub_timeout=4,
            record_timing=False,
        )
        loop = asyncio.get_running_loop()
        watchdog = loop.call_later(timeout, self._expire, provisioner)
        failure: CellFailure | None = None
        values: dict[str, Any] = {}
        try:
            await self._start(km, client, provisioner, timeout)
            failure = await self._cells(client, provisioner, timeout, cell_timeout)
            if failure is None:
                values, failure = await self._values(client, provisioner, timeout)
        finally:
            watchdog.cancel()
            await self._stop(km, client, provisioner, context)
        return NotebookRun(
            notebook=self.plan.nb,
            cells=self._outcomes(failure),
            failure=failure,
            seconds=time.monotonic() - self.started,
            level=provisioner.jailed.level if provisioner.jailed else jail.isolation().level,
            kernel_output=provisioner.take_output(),
            _values=values.get("values", {}),
            _other=values.get("other", {}),
        )

    def _expire(self, provisioner: _JailProvisioner) -> None:
        self.timed_out = True
        provisioner.kill_now()

    async def _start(
        self, km: AsyncKernelManager, client: _Client, provisioner: _JailProvisioner, timeout: float
    ) -> None:
        name = self.path.name
        try:
            await km.start_kernel()
            client.kc = km.client()
            client.kc.start_channels()
            await client.kc.wait_for_ready(timeout=timeout)
        except Exception as exc:
            said = _shown(provisioner.take_output())
            why = (
                f"it did not start within {timeout:g} s"
                if self.timed_out
                else f"{type(exc).__name__}: {exc}"
            )
            raise NotebookError(
                f"{name}: the notebook's kernel could not start ({why})", said
            ) from None
        self._trust_sockets(km)
        client.kc.allow_stdin = False

    def _trust_sockets(self, km: AsyncKernelManager) -> None:
        """The kernel made its sockets in a folder it can write: each must be a socket (not
        a link elsewhere on the machine) before the grader talks to it any further."""
        for port in (km.shell_port, km.iopub_port, km.stdin_port, km.control_port, km.hb_port):
            where = Path(f"{km.ip}-{port}")
            with contextlib.suppress(OSError):
                if stat.S_ISSOCK(where.lstat().st_mode):
                    continue
            raise NotebookError(f"{self.path.name}: the kernel's socket {where} is not a socket")

    async def _cells(
        self, client: _Client, provisioner: _JailProvisioner, timeout: float, cell_timeout: float
    ) -> CellFailure | None:
        count = 0
        for index, cell in enumerate(self.plan.nb.cells):
            ours = self.plan.origin[index] is None
            runs = (
                cell.cell_type == "code"
                and cell.source.strip()
                and client.skip_cells_with_tag not in cell.metadata.get("tags", [])
            )
            if runs and not ours:
                count += 1
                self.counts[count] = index
            self.running = index
            try:
                await client.async_execute_cell(
                    cell, index, execution_count=None if ours else count, store_history=not ours
                )
            except CellExecutionError:
                return self._error(index, client.errors.get(index, {}))
            except CellTimeoutError:
                provisioner.kill_now()
                if self.timed_out:
                    return self._timed_out(index, timeout)
                return self._failure(
                    index,
                    "cell time-out",
                    f"did not finish within {cell_timeout:g} s (an endless loop, or a query "
                    "over far more data than it needs?)",
                )
            except DeadKernelError:
                return self._died(index, provisioner, timeout)
        self.running = None
        return None

    async def _values(
        self, client: _Client, provisioner: _JailProvisioner, timeout: float
    ) -> tuple[dict[str, Any], CellFailure | None]:
        marker = f"@@grader-values-{secrets.token_hex(8)}@@"
        source = _VALUES_CELL.replace("{marker}", marker)
        source = source.replace("{value_cap}", str(VALUE_CAP))
        source = source.replace("{values_cap}", str(VALUES_CAP))
        hidden = nbformat.v4.new_code_cell(source)
        self.plan.nb.cells.append(hidden)
        client.hidden_index = len(self.plan.nb.cells) - 1
        try:
            await client.async_execute_cell(hidden, client.hidden_index, store_history=False)
        except (CellExecutionError, CellTimeoutError, DeadKernelError):
            if self.timed_out:
                return {}, self._timed_out(None, timeout)
            if provisioner.jailed is not None and not provisioner.jailed.running():
                return {}, self._died(None, provisioner, timeout)
            return {}, CellFailure(
                None,
                "error",
                "the grader could not read the notebook's variables after its "
                "last cell (does the notebook replace json, print or get_ipython?)",
            )
        finally:
            self.plan.nb.cells.pop()
        printed = "".join(
            o.get("text", "") for o in hidden.outputs if o.get("output_type") == "stream"
        )
        for line in printed.splitlines():
            if line.startswith(marker):
                with contextlib.suppress(ValueError):
                    found = json.loads(line[len(marker) :])
                    if isinstance(found, dict):
                        return found, None
        return {}, CellFailure(
            None, "error", "the grader could not read the notebook's variables after its last cell"
        )

    async def _stop(
        self,
        km: AsyncKernelManager,
        client: _Client,
        provisioner: _JailProvisioner,
        context: zmq.asyncio.Context,
    ) -> None:
        provisioner.kill_now()
        with contextlib.suppress(Exception):
            if client.kc is not None:
                client.kc.stop_channels()
        with contextlib.suppress(Exception):
            await km.shutdown_kernel(now=True)  # and its connection file and sockets
        provisioner.end()
        context.destroy(linger=0)

    # --- what the learner reads ---------------------------------------------------------

    def _where(self, index: int | None) -> str:
        learner = self.plan.origin[index] if index is not None else None
        if index is not None and learner is None:
            return "the parameters cell (injected by the grader)"
        return self._cell_name(learner) if learner is not None else "the notebook"

    def _cell_name(self, learner: int) -> str:
        """How the learner finds a cell: counted from 1, as they would count them."""
        return f"cell {learner + 1} of {self.plan.learner_cells}"

    def _failure(self, index: int | None, kind: str, what: str, **kw: Any) -> CellFailure:
        learner = self.plan.origin[index] if index is not None else None
        return CellFailure(learner, kind, f"{self.path.name}, {self._where(index)}: {what}", **kw)

    def _timed_out(self, index: int | None, timeout: float) -> CellFailure:
        return self._failure(
            index,
            "time-out",
            f"the notebook did not finish within {timeout:g} s, so its kernel was stopped "
            "(an endless loop, or a query over far more data than it needs?)",
        )

    def _died(
        self, index: int | None, provisioner: _JailProvisioner, timeout: float
    ) -> CellFailure:
        if self.timed_out:
            return self._timed_out(index, timeout)
        code = provisioner.jailed.proc.poll() if provisioner.jailed else None
        when = "while this cell ran" if index is not None else "after the last cell"
        return self._failure(
            index,
            "kernel died",
            f"the kernel ended {when} ({_ended(code)}); does the notebook call os._exit(), "
            "exit() or quit(), or use more memory than the limit?",
        )

    def _error(self, index: int, reply: dict[str, Any]) -> CellFailure:
        ename, evalue = str(reply.get("ename", "Error")), str(reply.get("evalue", ""))
        lines = self._traceback(reply.get("traceback") or [])
        said = f"{ename}: {evalue}" if evalue else ename
        if ename == "MemoryError":
            said += f" (the kernel may use {self.memory // jail.MiB} MiB per process)"
        return self._failure(index, "error", said, ename=ename, evalue=evalue, traceback=lines)

    def _traceback(self, raw: list[str]) -> tuple[str, ...]:
        """IPython's traceback as plain text, the cells named as the learner numbers them,
        without the separator line and the grader's own (injected) cells."""
        text = _ANSI.sub("", "\n".join(raw))
        kept: list[str] = []
        for line in text.splitlines():
            if set(line.strip()) == {"-"}:
                continue

            def rename(match: re.Match) -> str:
                index = self.counts.get(int(match.group(1)))
                learner = self.plan.origin[index] if index is not None else None
                cell = self._cell_name(learner) if learner is not None else "the grader's cell"
                return f"{cell}, line {match.group(2)}"

            kept.append(_CELL_FRAME.sub(rename, line))
        return tuple(kept)

    def _outcomes(self, failure: CellFailure | None) -> list[CellOutcome]:
        status_of_failed = {
            "error": "error",
            "cell time-out": "timed out",
            "time-out": "timed out",
            "kernel died": "killed",
        }
        outcomes: list[CellOutcome] = []
        stopped = self.running
        for index, cell in enumerate(self.plan.nb.cells):
            learner = self.plan.origin[index]
            if learner is None:
                continue
            if cell.cell_type != "code":
                status = "text"
            elif stopped is None or index < stopped:
                status = "ok"
            elif index == stopped and failure is not None:
                status = status_of_failed[failure.kind]
            else:
                status = "not run"
            outputs = [dict(o) for o in cell.get("outputs", [])]
            outcomes.append(CellOutcome(learner, cell.cell_type, status, outputs, cell.source))
        return outcomes


def _ended(code: int | None) -> str:
    if code is None:
        return "it was ended"
    name = jail.signal_name(code) or (jail.signal_name(128 - code) if code > 128 else None)
    if name == "SIGKILL":
        return "it was killed: out of memory or time?"
    if name == "SIGXCPU":
        return "it used up its CPU time"
    return f"ended by {name}" if name else f"exit code {code}"


# --- running a coroutine from synchronous code --------------------------------------------

_T = TypeVar("_T")


def _in_loop(coro: Coroutine[Any, Any, _T]) -> _T:
    """Run ``coro`` to its end: here, or in a thread where this one runs a loop already
    (a check called from async code)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = asyncio.run(coro)
        except BaseException as exc:
            box["error"] = exc

    thread = threading.Thread(target=run, name="grader-notebook")
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["value"]
