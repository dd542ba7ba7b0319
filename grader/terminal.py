"""How the grader prints: one rule for colour and box drawing, used by every renderer.

Plain output (no colour, no box drawing, ASCII marks, no wrapping) whenever NO_COLOR is set
or the stream is not a terminal: a pipe, a file, CI, a class-grading log. rich is imported
only when a console is made.
"""

from __future__ import annotations

import os
import sys
from typing import Any

# Piped output is read by programs and people's scripts: never wrap it mid-line.
PLAIN_WIDTH = 200


def console(stderr: bool = False) -> Any:
    """A rich console for stdout (or stderr): colour only on a terminal, never with NO_COLOR."""
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    tty = stream.isatty()
    return Console(
        stderr=stderr,
        highlight=False,
        no_color="NO_COLOR" in os.environ or None,
        width=None if tty else PLAIN_WIDTH,
        soft_wrap=not tty,
    )


def is_plain(out: Any) -> bool:
    """Whether ``out`` (a rich console) prints without colour or box drawing."""
    return bool(out.no_color or not out.is_terminal)
