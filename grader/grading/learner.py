"""Calling a learner's Python function in its own child process, with a time limit.

Learner code may loop forever, call ``sys.exit`` or ``os._exit``, print, or try the
network. None of that may reach the grader: the function runs in a fresh interpreter
(offline, with the learner's AWS settings scrubbed), its arguments and its return value
cross as JSON, and the verdict on that value is computed by the caller. Anything that
goes wrong becomes a :class:`LearnerCodeError` whose message points at the learner's own
file and line, never at the grader's.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.grading.processes import dies_with_parent, kill_group

DEFAULT_TIMEOUT = 10.0
# The learner processes running now and their folders, so that an interrupted grading
# process can end them and leave nothing behind.
_RUNNING: dict[subprocess.Popen, str] = {}

# Runs in the child. Kept small and self-contained: it imports the grader only for the
# offline guard, then the learner's module by path.
_BOOTSTRAP = r"""
import importlib.util, json, sys, traceback
from pathlib import Path

from grader.grading.sandbox import network_guard, scrub_environment

module_path, function, out_path = sys.argv[1], sys.argv[2], sys.argv[3]
scrub_environment()
network_guard().active = True


def report(data):
    with open(out_path, "w", encoding="utf-8") as out:
        json.dump(data, out)


def where(tb):
    frames = [f for f in traceback.extract_tb(tb) if Path(f.filename).resolve() == Path(module_path).resolve()]
    if not frames:
        return None
    f = frames[-1]
    return {"line": f.lineno, "code": (f.line or "").strip()}


calls = json.load(sys.stdin)
sys.path.insert(0, str(Path(module_path).resolve().parent))
try:
    spec = importlib.util.spec_from_file_location("learner_module", module_path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
except SyntaxError as exc:
    report({"error": "SyntaxError", "message": exc.msg, "where": {"line": exc.lineno, "col": exc.offset, "code": (exc.text or "").strip()}})
    sys.exit(0)
except BaseException as exc:
    report({"error": type(exc).__name__, "message": str(exc), "where": where(exc.__traceback__), "phase": "import"})
    sys.exit(0)
func = getattr(module, function, None)
if not callable(func):
    report({"error": "MissingFunction", "message": f"no function named {function}"})
    sys.exit(0)
results = []
for args in calls:
    try:
        value = func(*args)
    except SystemExit as exc:
        results.append({"error": "SystemExit", "message": f"sys.exit({exc.code!r}) was called", "where": where(exc.__traceback__)})
        continue
    except BaseException as exc:
        results.append({"error": type(exc).__name__, "message": str(exc), "where": where(exc.__traceback__)})
        continue
    try:
        json.dumps(value)
    except (TypeError, ValueError) as exc:
        results.append({"error": "NotJSON", "message": f"{function} returned a value that is not plain JSON data ({exc})"})
        continue
    results.append({"value": value})
report({"results": results})
"""


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
    module_path: Path, function: str, *args: Any, timeout: float = DEFAULT_TIMEOUT
) -> LearnerResult:
    """Run ``function(*args)`` from the learner's file in a child process.

    ``args`` and the return value must be JSON data. Raises LearnerCodeError for every
    way the call can fail: a syntax error, an exception, ``sys.exit``, a killed process,
    a time-out, a value that is not JSON.
    """
    (outcome,), output = _run(Path(module_path), function, [list(args)], timeout)
    if isinstance(outcome, LearnerCodeError):
        raise outcome
    return LearnerResult(value=outcome, output=output)


def call_learner_many(
    module_path: Path,
    function: str,
    calls: list[tuple[Any, ...]],
    *,
    timeout: float = DEFAULT_TIMEOUT,
) -> list[LearnerResult | LearnerCodeError]:
    """Several calls of ``function`` in ONE child process (one start-up, one import).

    Each call's outcome is its value or its own LearnerCodeError. A failure of the whole
    process (syntax error, missing function, time-out over all calls, os._exit) raises.
    """
    outcomes, output = _run(Path(module_path), function, [list(a) for a in calls], timeout)
    return [
        o if isinstance(o, LearnerCodeError) else LearnerResult(value=o, output=output)
        for o in outcomes
    ]


def _run(
    module_path: Path, function: str, calls: list[list[Any]], timeout: float
) -> tuple[list[Any], str]:
    name = module_path.name
    if not module_path.is_file():
        raise LearnerCodeError(f"{name}: no such file")
    with tempfile.TemporaryDirectory(prefix="grader-learner-") as tmp:
        out_path = Path(tmp) / "result.json"
        proc = subprocess.Popen(
            [sys.executable, "-c", _BOOTSTRAP, str(module_path), function, str(out_path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            cwd=tmp,
            start_new_session=True,  # a time-out ends the learner's child processes too
            preexec_fn=dies_with_parent(),  # and so does the grading process's own end
        )
        _RUNNING[proc] = tmp
        try:
            output, _ = proc.communicate(json.dumps(calls).encode(), timeout=timeout)
        except subprocess.TimeoutExpired:
            kill_group(proc)
            output, _ = proc.communicate()
            raise LearnerCodeError(
                f"{name}: {function}() did not return within {timeout:g} s (an endless loop?)",
                _text(output),
            ) from None
        finally:
            _RUNNING.pop(proc, None)
        printed = _text(output)
        try:
            data = json.loads(out_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise LearnerCodeError(
                f"{name}: the process ended (exit code {proc.returncode}) before {function}() "
                "returned; does the code call os._exit or kill itself?",
                printed,
            ) from None
    if "error" in data:  # the file could not be loaded: every call fails the same way
        raise LearnerCodeError(_describe(name, function, data), printed)
    outcomes = [
        LearnerCodeError(_describe(name, function, r), printed) if "error" in r else r["value"]
        for r in data["results"]
    ]
    return outcomes, printed


class LearnerCode:
    """What a check gets as the ``learner_code`` fixture: the one way checks run learner
    code (checks import nothing of ``grader.grading``)."""

    Error = LearnerCodeError
    call = staticmethod(call_learner)
    call_many = staticmethod(call_learner_many)


def end_all() -> None:
    """Kill every learner process still running (and what it started), and remove its
    folder: the grading process is about to end without unwinding."""
    for proc, folder in list(_RUNNING.items()):
        kill_group(proc)
        shutil.rmtree(folder, ignore_errors=True)


def _describe(name: str, function: str, data: dict[str, Any]) -> str:
    where = data.get("where") or {}
    place = f"{name}:{where['line']}" if where.get("line") else name
    if where.get("col"):
        place += f":{where['col']}"
    code = f" ({where['code']})" if where.get("code") else ""
    error, message = data["error"], data.get("message", "")
    if error == "MissingFunction":
        return f"{name} has no function named {function}(); keep the starter's function name"
    if error == "NotJSON":
        return f"{name}: {message}"
    if error == "SystemExit":
        return f"{place}: {message} inside {function}(); return a value instead{code}"
    phase = " while the file was imported" if data.get("phase") == "import" else ""
    return f"{place}: {error}: {message}{phase}{code}"


def _text(output: bytes | None) -> str:
    return (output or b"").decode("utf-8", "replace")[-4000:]
