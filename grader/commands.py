"""What each ``grader`` subcommand does. The CLI parses; these handlers act and print.

Every error a user can cause becomes :class:`InputProblem` (one line, exit code 2).
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
from pathlib import Path
from typing import Any

from grader.course import Course, CourseError, Lab, load_course

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class InputProblem(Exception):
    """Something the user gave cannot be used; the message says what and how to fix it."""


def console(stderr: bool = False) -> Any:
    """A rich console: colour only on a terminal, and never with NO_COLOR set."""
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    tty = stream.isatty()
    return Console(
        stderr=stderr,
        highlight=False,
        no_color="NO_COLOR" in os.environ or None,
        # piped output is read by programs and people's scripts: never wrap it mid-line
        width=None if tty else 200,
        soft_wrap=not tty,
    )


def plain(out: Any) -> bool:
    """Whether to print without colour or box drawing (a pipe, a file, or NO_COLOR)."""
    return out.no_color or not out.is_terminal


def error_console() -> Any:
    return console(stderr=True)


def _course(args: argparse.Namespace) -> Course:
    try:
        return load_course(args.course)
    except CourseError as exc:
        raise InputProblem(str(exc)) from None


def _lab(course: Course, lab_id: str) -> Lab:
    try:
        return course.lab(lab_id)
    except CourseError as exc:
        raise InputProblem(str(exc)) from None


# ---------------------------------------------------------------- list


def cmd_list(args: argparse.Namespace) -> int:
    from rich import box
    from rich.table import Table

    from grader.progress import Progress

    course = _course(args)
    progress = Progress(course.root)
    out = console()
    table = Table(
        title="Cloud Security Labs",
        title_justify="left",
        box=None if plain(out) else box.HEAVY_HEAD,
    )
    for column in ("lab", "title", "chapter", "time", "status"):
        table.add_column(column)
    for lab in course.labs:
        status = progress.status(lab.id)
        style = "green" if status == "passed" else ("dim" if status == "not started" else "yellow")
        table.add_row(
            lab.id, lab.title, lab.chapter, f"{lab.time_minutes} min", f"[{style}]{status}[/]"
        )
    out.print(table)
    return EXIT_OK


# ---------------------------------------------------------------- check


def _import_report() -> None:
    """What reporting needs (rich alone takes ~60 ms), imported while the checks run."""
    import rich.console
    import rich.markup
    import rich.text  # noqa: F401

    import grader.progress
    import grader.report  # noqa: F401


def cmd_check(args: argparse.Namespace) -> int:
    from grader.runner import run_lab

    course = _course(args)
    labs = list(course.labs) if args.all else [_lab(course, args.lab)]
    if args.path is not None:
        if args.all:
            raise InputProblem("--path grades one lab: give a lab, not --all")
        if not args.path.is_dir():
            raise InputProblem(f"--path {args.path}: no such folder")
    # Once the child has started, this process imports what the report needs meanwhile.
    warm = threading.Thread(target=_import_report, daemon=True)
    out = None
    results = []
    for lab in labs:
        start = warm.start if warm.ident is None else None  # the first lab starts it
        result = run_lab(lab, args.path, seed=args.seed, on_start=start)
        results.append(result)
        warm.join()
        from grader.progress import Progress
        from grader.report import render_terminal

        if args.path is None:
            Progress(course.root).record(result)
        if not args.json:
            out = out or console()
            render_terminal(out, result, lab.docs)
            if len(labs) > 1:
                out.print()
    from grader.report import render_json, render_junit

    if args.json:
        print(render_json(results, as_list=args.all))
    if args.junit:
        try:
            args.junit.write_text(render_junit(results), encoding="utf-8")
        except OSError as exc:
            raise InputProblem(f"--junit {args.junit}: cannot write it ({exc.strerror})") from None
    return EXIT_OK if all(r.passed for r in results) else EXIT_FAILED


# ---------------------------------------------------------------- hint


def cmd_hint(args: argparse.Namespace) -> int:
    from grader.progress import Progress

    course = _course(args)
    lab = _lab(course, args.lab)
    out = console()
    if not lab.hints:
        out.print(f"{lab.id} has no hints.")
        return EXIT_OK
    progress = Progress(course.root)
    if args.all:
        shown = lab.hints
        progress.set_hints_seen(lab.id, len(lab.hints))
    else:
        seen = progress.hints_seen(lab.id)
        if seen >= len(lab.hints):
            out.print(
                f"You have seen all {len(lab.hints)} hints for {lab.id}; `grader hint {lab.id} --all` shows them again."
            )
            return EXIT_OK
        shown = (lab.hints[seen],)
        progress.set_hints_seen(lab.id, seen + 1)
    for hint in shown:
        number = lab.hints.index(hint) + 1
        out.print(f"[bold]Hint {number} of {len(lab.hints)} (task {hint.task})[/bold]")
        out.print(hint.text, markup=False)
        out.print()
    return EXIT_OK


# ---------------------------------------------------------------- reset


def cmd_reset(args: argparse.Namespace) -> int:
    from grader.starters import StarterError, backup_and_restore

    course = _course(args)
    lab = _lab(course, args.lab)
    try:
        backup = backup_and_restore(lab)
    except StarterError as exc:
        raise InputProblem(str(exc)) from None
    out = console()
    if backup:
        out.print(f"Your files were saved to {backup}", markup=False)
    out.print(f"{lab.id}'s starter files are restored: {', '.join(lab.files)}", markup=False)
    return EXIT_OK


# ---------------------------------------------------------------- watch


def cmd_watch(args: argparse.Namespace) -> int:
    from grader.watch import watch_lab

    course = _course(args)
    lab = _lab(course, args.lab)
    folder = args.path or lab.folder
    if not Path(folder).is_dir():
        raise InputProblem(f"--path {folder}: no such folder")
    return watch_lab(lab, Path(folder), console(), record=args.path is None)


# ---------------------------------------------------------------- doctor


def cmd_doctor(args: argparse.Namespace) -> int:
    from grader.doctor import run_doctor

    return run_doctor(args.course, console())


# ---------------------------------------------------------------- dev


def cmd_dev(args: argparse.Namespace) -> int:
    from grader.devcheck import dev_check

    course = _course(args)
    for lab_id in args.labs:
        _lab(course, lab_id)
    return dev_check(course, args.labs, console())


# ---------------------------------------------------------------- iam


def cmd_iam(args: argparse.Namespace) -> int:
    from grader import iam_tool

    try:
        if args.iam_command == "simulate":
            return iam_tool.simulate(args, console())
        if args.iam_command == "validate":
            return iam_tool.validate(args, console())
        return iam_tool.grants(args, console())
    except iam_tool.ToolInputError as exc:
        raise InputProblem(str(exc)) from None


# ---------------------------------------------------------------- trail


def cmd_trail(args: argparse.Namespace) -> int:
    from grader import trail_tool

    try:
        return trail_tool.policy(args, console(), error_console())
    except trail_tool.ToolInputError as exc:
        raise InputProblem(str(exc)) from None
