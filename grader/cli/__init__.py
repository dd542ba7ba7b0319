"""The ``grader`` command: parsing and dispatch only.

One module per command group, each with ``register(subparsers)``, which adds its commands
and sets the handler each one runs: :mod:`~grader.cli.learner` (list, check, hint, reset,
watch, docs), :mod:`~grader.cli.doctor`, :mod:`~grader.cli.dev`, :mod:`~grader.cli.iam`,
:mod:`~grader.cli.trail`, :mod:`~grader.cli.waf`, :mod:`~grader.cli.edge`,
:mod:`~grader.cli.fapi`, :mod:`~grader.cli.siem`, :mod:`~grader.cli.classroom` (submit,
class grade) and :mod:`~grader.cli.ci` (ci init). A handler only reads its arguments,
calls the layer that does the work (grading, course, an engine) and renders the answer.
Heavy modules are imported inside handlers, so ``grader --help`` and ``grader list`` stay
instant.

Errors are handled here, once. Every error a user can cause is a
:class:`~grader.errors.GraderError`: its one line goes to stderr and the exit code is 2.
Anything else is a grader bug: still one line (what and where), never a traceback, unless
``GRADER_TRACEBACK=1`` asks for one. Ctrl-C and SIGTERM end the command with code 130,
after the work in progress has cleaned up after itself.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import signal
import sys
import traceback
from collections.abc import Iterator, Sequence
from pathlib import Path

from grader.errors import ExitCode, GraderError

# The command groups, in the order ``grader --help`` lists them.
GROUPS = (
    "learner",
    "doctor",
    "dev",
    "iam",
    "trail",
    "waf",
    "edge",
    "fapi",
    "siem",
    "classroom",
    "ci",
)
TRACEBACK_ENV = "GRADER_TRACEBACK"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="grader",
        description="Cloud Security Labs: grade your lab work offline, with no AWS account.",
        epilog="Exit codes: 0 all checks pass, 1 a check fails, 2 usage or input error.",
    )
    parser.add_argument(
        "--course",
        metavar="DIR",
        type=Path,
        help="the course folder (default: found from here upwards)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for group in GROUPS:
        importlib.import_module(f"grader.cli.{group}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        with _sigterm_as_interrupt():
            return int(args.run(args))
    except KeyboardInterrupt:
        return ExitCode.INTERRUPTED
    except GraderError as exc:
        _error(str(exc))
        return exc.exit_code
    except BrokenPipeError:  # `grader ... | head`: the reader left; nothing more to say
        with contextlib.suppress(OSError):
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - keeps exit from re-raising
        return ExitCode.OK
    except Exception as exc:  # noqa: BLE001 - the one place a bug becomes one line
        if os.environ.get(TRACEBACK_ENV, "") not in ("", "0"):
            traceback.print_exc()
        _error(f"internal error: {describe_bug(exc)}; this is a grader bug, please report it")
        return ExitCode.USAGE


def describe_bug(exc: BaseException) -> str:
    """``Kind: message (in file.py:line)``: where in the grader an unexpected error arose."""
    text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    frames = traceback.extract_tb(exc.__traceback__)
    if frames:
        last = frames[-1]
        text += f" (in {Path(last.filename).name}:{last.lineno})"
    return text


def _error(message: str) -> None:
    print(f"grader: error: {message}", file=sys.stderr, flush=True)


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM (a closed terminal, ``kill``, a CI time-out) unwinds like Ctrl-C, so the
    grading child, the sandbox process and temporary folders are ended as for Ctrl-C."""

    def interrupt(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, interrupt)
    except ValueError:  # not the main thread (an embedding program): leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def run() -> None:
    sys.exit(main())
