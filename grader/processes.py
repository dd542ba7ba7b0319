"""Ending a child process and everything it started: the time limit's last step.

Children are started in a session of their own (``start_new_session=True``), so one
signal to the process group also ends whatever learner code spawned. Windows has no
process groups to signal: there the child alone is killed.
"""

from __future__ import annotations

import os
import signal
import subprocess


def kill_group(proc: subprocess.Popen) -> None:
    """Kill ``proc``'s whole process group where the system has them, else ``proc``."""
    killpg = getattr(os, "killpg", None)
    if killpg is None:
        proc.kill()
        return
    try:
        killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()
