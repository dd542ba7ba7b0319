"""``grader doctor``: can this machine run the course? (The probes: grading/machine.py.)"""

from __future__ import annotations

import argparse
from typing import Any

from grader.errors import ExitCode


def register(sub: Any) -> None:
    p = sub.add_parser(
        "doctor",
        help="check this machine can run the course",
        description="Show Python and package versions, the notebook kernel, the offline guard (tested live) and the labs found.",
    )
    p.set_defaults(run=cmd_doctor)


def cmd_doctor(args: argparse.Namespace) -> int:
    from rich.table import Table

    from grader.grading.machine import probe
    from grader.terminal import console, is_plain

    rows = probe(args.course)
    out = console()
    table = Table(title="grader doctor", title_justify="left")
    for column in ("", "what", "found"):
        table.add_column(column)
    plain = is_plain(out)
    for what, ok, found in rows:
        mark = ("ok" if ok else "PROBLEM") if plain else ("[green]✔[/]" if ok else "[red]✘[/]")
        table.add_row(mark, what, found)
    out.print(table)
    return ExitCode.OK if all(ok for _, ok, _ in rows) else ExitCode.FAILED
