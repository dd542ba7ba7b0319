"""Renderings of :class:`~grader.grading.results.LabResult`: the terminal, JSON and JUnit XML.

The terminal report is for a learner: each check's sentence with its verdict, and for a
failure what was expected, what was found, what to change and what to read.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from typing import Any

from grader.grading.results import FAILED, PASSED, SKIPPED, LabResult
from grader.terminal import is_plain

_MARKS = {PASSED: ("✔", "green"), FAILED: ("✘", "red"), SKIPPED: ("○", "yellow")}
_ASCII_MARKS = {PASSED: "PASS", FAILED: "FAIL", SKIPPED: "SKIP"}


def render_terminal(
    console: Any,
    result: LabResult,
    docs_page: str | None = None,
    *,
    link: Callable[[str], str | None] | None = None,
) -> None:
    """Print one lab's result with rich (colour only when the console allows it).

    ``link`` turns a docs reference (``least-privilege/lab3.md#task-1``) into the address a
    failure's ``read:`` line shows; without it the reference is shown as it is.
    """
    from rich.markup import escape
    from rich.text import Text

    plain = is_plain(console)
    console.print(Text(f"{result.lab} · {result.title}", style="bold"))
    said_skip = None  # the gate a skip line named last: said once, then "the same gate"
    for check in result.checks:
        symbol, colour = _MARKS.get(check.status, ("?", "red"))
        mark = _ASCII_MARKS.get(check.status, "FAIL") if plain else symbol
        task = f"Task {check.task}" if check.task else "Setup"
        line = Text.assemble((f"{mark} ", colour), (f"{task:<7} ", "dim"), check.sentence)
        if check.points:
            line.append(f"  ({check.earned}/{check.points})", style="dim")
        console.print(line)
        if check.status == FAILED:
            for label, value in (
                ("expected", check.expected),
                ("found", check.found),
                ("to do", check.fix),
                ("", check.message),
            ):
                if value:
                    head = f"[bold]{label}:[/bold] " if label else ""
                    console.print(f"    {head}{escape(value)}", highlight=False)
            ref = check.docs or docs_page
            url = (link(ref) if link else ref) if ref else None
            if url:
                console.print(f"    [bold]read:[/bold] {escape(url)}", highlight=False)
        elif check.status == SKIPPED and check.message:
            said = "skipped until the same check passes" if check.message == said_skip else None
            console.print(f"    {escape(said or check.message)}", style="dim", highlight=False)
            said_skip = check.message
    for table in result.tables:
        _render_table(console, table, plain)
    if result.problem:
        console.print(f"[bold red]problem:[/bold red] {escape(result.problem)}", highlight=False)
    if result.isolation_note:
        console.print(
            f"note: your code ran with {escape(result.isolation or '')} isolation, not full; "
            "`grader doctor` says why and how to get full isolation",
            style="dim",
            highlight=False,
        )
    total = len(result.checks)
    verdict = "passed" if result.passed else "not yet"
    console.print(
        f"[bold]Score: {result.score}/{result.max_score} points[/bold] · "
        f"{result.passed_count} of {total} checks pass · {verdict} "
        f"[dim](seed {result.seed}, {result.seconds:.1f} s)[/dim]",
        highlight=False,
    )


def _render_table(console: Any, table: dict[str, Any], plain: bool) -> None:
    from rich import box
    from rich.table import Table

    shown = Table(
        title=table.get("title") or "",
        title_justify="left",
        box=None if plain else box.SIMPLE_HEAD,
        title_style="bold",
    )
    for column in table.get("columns") or ():
        shown.add_column(str(column))
    for row in table.get("rows") or ():
        shown.add_row(*(str(cell) for cell in row))
    console.print(shown)


def render_json(results: Iterable[LabResult], *, as_list: bool = False) -> str:
    """One object for one lab; a list for ``--all`` (even of one lab): stable for machines."""
    data = [r.to_dict() for r in results]
    return json.dumps(data if as_list else data[0], indent=2, ensure_ascii=False)


def render_junit(results: Iterable[LabResult]) -> str:
    """JUnit XML as CI systems read it: one testsuite per lab, one testcase per check."""
    suites = ET.Element("testsuites")
    for result in results:
        suite = ET.SubElement(
            suites,
            "testsuite",
            name=result.lab,
            tests=str(len(result.checks)),
            failures=str(sum(c.status == FAILED for c in result.checks)),
            skipped=str(sum(c.status == SKIPPED for c in result.checks)),
            time=f"{result.seconds:.3f}",
        )
        props = ET.SubElement(suite, "properties")
        for name, value in (
            ("seed", result.seed),
            ("score", result.score),
            ("max_score", result.max_score),
        ):
            ET.SubElement(props, "property", name=name, value=str(value))
        for check in result.checks:
            case = ET.SubElement(
                suite,
                "testcase",
                classname=f"{result.lab}.task{check.task}",
                name=check.sentence,
                time=f"{check.seconds:.3f}",
            )
            if check.status == FAILED:
                text = "\n".join(
                    f"{k}: {v}"
                    for k, v in (
                        ("expected", check.expected),
                        ("found", check.found),
                        ("to do", check.fix),
                        ("message", check.message),
                        ("read", check.docs),
                    )
                    if v
                )
                failure = ET.SubElement(
                    case, "failure", message=check.found or check.message or "failed"
                )
                failure.text = text
            elif check.status == SKIPPED:
                ET.SubElement(case, "skipped", message=check.message or "skipped")
        if result.problem:
            ET.SubElement(suite, "system-err").text = result.problem
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"
