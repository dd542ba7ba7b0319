"""Ending a child process and everything it started: the time limit's and Ctrl-C's last step.

Children are started in a session of their own (``start_new_session=True``), so one
signal to the process group also ends whatever learner code spawned. Windows has no
process groups to signal: there the child alone is killed.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Callable

# How long a grading child may take to end its own children after SIGTERM.
GRACE_SECONDS = 2.0


def kill_group(proc: subprocess.Popen) -> None:
    """Kill ``proc``'s whole process group where the system has them, else ``proc``."""
    killpg = getattr(os, "killpg", None)
    if killpg is None:
        proc.kill()
        return
    try:
        killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        with contextlib.suppress(ProcessLookupError):
            proc.kill()


def end_group(proc: subprocess.Popen, grace: float = GRACE_SECONDS) -> None:
    """Ask ``proc``'s group to stop (SIGTERM), give it ``grace`` seconds to end what it
    started, then kill whatever is left of the group and reap ``proc``."""
    killpg = getattr(os, "killpg", None)
    if proc.poll() is None:
        try:
            if killpg is not None:
                killpg(proc.pid, signal.SIGTERM)
            else:
                proc.terminate()
        except (ProcessLookupError, PermissionError):
            pass
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(grace)
    kill_group(proc)  # members that ignored SIGTERM, or the leader itself
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(grace)


def _die_with_parent() -> None:
    """In a new child, before it runs anything: be killed when the parent process dies,
    so a killed grading process cannot leave learner code running (Linux only)."""
    import ctypes

    pr_set_pdeathsig = 1
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)


def dies_with_parent() -> Callable[[], None] | None:
    """A ``preexec_fn`` that ties a child's life to this process's, where the system can."""
    return _die_with_parent if sys.platform.startswith("linux") else None


def private() -> None:
    """Make this process's /proc entries (environment, descriptors, memory) unreadable to
    other processes of the same user, learner code included (Linux: not dumpable)."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    pr_set_dumpable = 4
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_dumpable, 0)
