"""``grader watch``: re-check a lab on every save of one of its files, or on Enter.

File events come from watchfiles; some editors and network drives don't deliver them,
so pressing Enter re-checks too.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from grader.course.labs import Lab
from grader.errors import ExitCode


def _check(
    lab: Lab, folder: Path, console: Any, record: bool, link: Callable[[str], str | None] | None
) -> None:
    from grader.grading.progress import Progress
    from grader.grading.report import render_terminal
    from grader.grading.runner import run_lab

    result = run_lab(lab, folder)
    if record:
        Progress(lab.root).record(result)
    console.rule(f"{lab.id} checked")
    render_terminal(console, result, lab.docs, link=link)
    console.print(
        f"[dim]Watching {folder} — save a file or press Enter to re-check, Ctrl+C to stop.[/dim]"
    )


def watch_lab(
    lab: Lab,
    folder: Path,
    console: Any,
    *,
    record: bool = True,
    link: Callable[[str], str | None] | None = None,
) -> int:
    from watchfiles import watch

    watched = {(folder / name).resolve() for name in lab.files}
    enter = threading.Event()
    stop = threading.Event()

    def read_enter() -> None:
        import sys

        try:
            for _ in sys.stdin:
                enter.set()
        except (OSError, ValueError):
            pass

    threading.Thread(target=read_enter, daemon=True).start()
    # The first check runs inside the loop, once the watcher is running, so a save made
    # while it runs is not lost.
    first = True
    try:
        for changes in watch(
            folder,
            watch_filter=lambda _change, path: Path(path).resolve() in watched,
            stop_event=stop,
            yield_on_timeout=True,
            rust_timeout=300,
            debounce=200,
        ):
            if first or changes or enter.is_set():
                first = False
                enter.clear()
                _check(lab, folder, console, record, link)
    except KeyboardInterrupt:
        stop.set()
    return ExitCode.OK
