"""Every error a user can cause, and the exit codes of the ``grader`` command.

All of them subclass :class:`GraderError` (defined in :mod:`grader.aws.errors` so that the
engines' own errors, a malformed policy or an unreadable trail, can subclass it too). The
CLI catches ``GraderError`` in one place and prints its one line; nothing re-wraps it.
"""

from __future__ import annotations

from enum import IntEnum

from grader.aws.errors import INPUT_EXIT_CODE, GraderError, Location

__all__ = [
    "CheckInfoError",
    "CourseError",
    "ExitCode",
    "GraderError",
    "Location",
    "ProgressError",
    "StarterError",
    "UsageError",
]


class ExitCode(IntEnum):
    """What ``grader`` exits with; the only place these numbers are written."""

    OK = 0  # every check passed (or the command did what it was asked)
    FAILED = 1  # a check failed, or doctor / validate / dev check found a problem
    USAGE = INPUT_EXIT_CODE  # a usage or input error: a GraderError
    INTERRUPTED = 130  # Ctrl-C or SIGTERM, as shells report SIGINT


class UsageError(GraderError):
    """A command-line argument that cannot be used (a missing folder, options that clash)."""


class CourseError(GraderError):
    """The course or one of its lab.toml files is unusable; the message says how to fix it."""


class StarterError(GraderError):
    """A lab's starter files cannot be found; nothing was changed."""


class CheckInfoError(GraderError):
    """A checks module that breaks the checks convention; the message names file, line and
    check."""


class ProgressError(GraderError):
    """The learner's progress folder cannot be written (it is a file, or read-only)."""
