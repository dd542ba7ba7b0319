"""The learner's commands: ``list``, ``check``, ``hint``, ``reset``, ``watch`` and ``docs``."""

from __future__ import annotations

import argparse
import threading
from pathlib import Path
from typing import Any

from grader.errors import ExitCode, UsageError


def register(sub: Any) -> None:
    p = sub.add_parser(
        "list",
        help="the labs in order, with your status",
        description="List the labs in order with title, chapter, time needed and your status.",
    )
    p.set_defaults(run=cmd_list)

    p = sub.add_parser(
        "check",
        help="grade a lab",
        description="Run a lab's checks and print each verdict and your score.",
    )
    target = p.add_mutually_exclusive_group(required=True)
    target.add_argument("lab", nargs="?", help="the lab to grade, e.g. lab3")
    target.add_argument("--all", action="store_true", help="grade every lab")
    p.add_argument(
        "--path",
        metavar="DIR",
        type=Path,
        help="grade a copy of the lab in DIR instead of labs/LAB",
    )
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument(
        "--junit", metavar="FILE", type=Path, help="also write a JUnit XML report to FILE"
    )
    p.add_argument("--seed", type=int, help="seed for the hidden inputs (to reproduce a run)")
    p.set_defaults(run=cmd_check)

    p = sub.add_parser(
        "hint",
        help="the next hint for a lab",
        description="Show the next hint for a lab, one at a time; your place is remembered.",
    )
    p.add_argument("lab")
    p.add_argument("--all", action="store_true", help="show every hint")
    p.set_defaults(run=cmd_hint)

    p = sub.add_parser(
        "reset",
        help="restore a lab's starter files",
        description="Restore a lab's starter files as the course ships them, after saving "
        "yours to a timestamped backup in .grader/backups/.",
    )
    p.add_argument("lab")
    p.set_defaults(run=cmd_reset)

    p = sub.add_parser(
        "watch",
        help="re-check a lab on every save",
        description="Re-check a lab each time one of its files is saved, or when you press Enter.",
    )
    p.add_argument("lab")
    p.add_argument("--path", metavar="DIR", type=Path, help="watch a copy of the lab in DIR")
    p.set_defaults(run=cmd_watch)

    p = sub.add_parser(
        "docs",
        help="read the course in your browser",
        description="Build the course site if it is missing or older than its pages, serve it "
        "on 127.0.0.1 and open it in your browser. Ctrl+C stops the server.",
    )
    p.add_argument("--no-open", action="store_true", help="serve without opening a browser")
    p.add_argument(
        "--port",
        type=int,
        default=None,
        help="the port on 127.0.0.1 (default: 8000, or a free one if 8000 is taken)",
    )
    p.set_defaults(run=cmd_docs)


def course_of(args: argparse.Namespace) -> Any:
    from grader.course import load_course

    return load_course(args.course)


# ---------------------------------------------------------------- list


def cmd_list(args: argparse.Namespace) -> int:
    from rich import box
    from rich.table import Table

    from grader.grading.progress import Progress
    from grader.terminal import console, is_plain

    course = course_of(args)
    progress = Progress(course.root)
    out = console()
    _notice(progress)
    table = Table(
        title="Cloud Security Labs",
        title_justify="left",
        box=None if is_plain(out) else box.HEAVY_HEAD,
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
    return ExitCode.OK


def _notice(progress: Any) -> None:
    """Say once, on stderr, that an unreadable progress file was started afresh."""
    if progress.notice:
        from grader.terminal import console

        console(stderr=True).print(progress.notice, markup=False, highlight=False)


# ---------------------------------------------------------------- check


def _import_report() -> None:
    """What reporting needs (rich alone takes ~60 ms), imported while the checks run."""
    import rich.console
    import rich.markup
    import rich.text  # noqa: F401

    import grader.course.site
    import grader.grading.report  # noqa: F401


def cmd_check(args: argparse.Namespace) -> int:
    from grader.grading.progress import Progress
    from grader.grading.runner import run_lab

    course = course_of(args)
    labs = list(course.labs) if args.all else [course.lab(args.lab)]
    if args.path is not None:
        if args.all:
            raise UsageError("--path grades one lab: give a lab, not --all")
        if not args.path.is_dir():
            raise UsageError(f"--path {args.path}: no such folder")
    # Read first: a progress path that cannot be used stops the command before grading.
    progress = Progress(course.root) if args.path is None else None
    # Once the child has started, this process imports what the report needs meanwhile.
    warm = threading.Thread(target=_import_report, daemon=True)
    out = None
    results = []
    for lab in labs:
        start = warm.start if warm.ident is None else None  # the first lab starts it
        result = run_lab(lab, args.path, seed=args.seed, on_start=start)
        results.append(result)
        warm.join()
        from grader.course.site import docs_link
        from grader.grading.report import render_terminal
        from grader.terminal import console

        if progress is not None:
            _record_history(course.root, result)
            progress.record(result)
        if not args.json:
            out = out or console()
            render_terminal(out, result, lab.docs, link=lambda ref: docs_link(course.root, ref))
            if len(labs) > 1:
                out.print()
    if progress is not None:
        _notice(progress)
    from grader.grading.report import render_json, render_junit

    if out is not None and any(not r.passed for r in results):
        from grader.course.site import site_hint

        hint = site_hint(course.root)
        if hint:
            out.print(hint, style="dim", markup=False, highlight=False)
    if args.json:
        print(render_json(results, as_list=args.all))
    if args.junit:
        try:
            args.junit.write_text(render_junit(results), encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"--junit {args.junit}: cannot write it ({exc.strerror})") from None
    return ExitCode.OK if all(r.passed for r in results) else ExitCode.FAILED


def _record_history(root: Path, result: Any) -> None:
    """One line per run in .grader/history.jsonl, for `grader submit`: a check run never
    fails because it cannot be written."""
    import contextlib

    from grader.grading.submission import record_history

    with contextlib.suppress(Exception):
        record_history(root, result)


# ---------------------------------------------------------------- hint


def cmd_hint(args: argparse.Namespace) -> int:
    from grader.grading.progress import Progress
    from grader.terminal import console

    course = course_of(args)
    lab = course.lab(args.lab)
    out = console()
    if not lab.hints:
        out.print(f"{lab.id} has no hints.")
        return ExitCode.OK
    progress = Progress(course.root)
    _notice(progress)
    if args.all:
        shown = lab.hints
        progress.set_hints_seen(lab.id, len(lab.hints))
    else:
        seen = progress.hints_seen(lab.id)
        if seen >= len(lab.hints):
            out.print(
                f"You have seen all {len(lab.hints)} hints for {lab.id}; `grader hint {lab.id} --all` shows them again."
            )
            return ExitCode.OK
        shown = (lab.hints[seen],)
        progress.set_hints_seen(lab.id, seen + 1)
    for hint in shown:
        number = lab.hints.index(hint) + 1
        out.print(f"[bold]Hint {number} of {len(lab.hints)} (task {hint.task})[/bold]")
        out.print(hint.text, markup=False)
        out.print()
    return ExitCode.OK


# ---------------------------------------------------------------- reset


def cmd_reset(args: argparse.Namespace) -> int:
    from grader.course.starters import backup_and_restore
    from grader.terminal import console

    lab = course_of(args).lab(args.lab)
    backup = backup_and_restore(lab)
    out = console()
    if backup:
        out.print(f"Your files were saved to {backup}", markup=False)
    out.print(f"{lab.id}'s starter files are restored: {', '.join(lab.files)}", markup=False)
    return ExitCode.OK


# ---------------------------------------------------------------- watch


def cmd_watch(args: argparse.Namespace) -> int:
    from grader.course.site import docs_link
    from grader.grading.watch import watch_lab
    from grader.terminal import console

    course = course_of(args)
    lab = course.lab(args.lab)
    folder = args.path or lab.folder
    if not Path(folder).is_dir():
        raise UsageError(f"--path {folder}: no such folder")
    return watch_lab(
        lab,
        Path(folder),
        console(),
        record=args.path is None,
        link=lambda ref: docs_link(course.root, ref),
    )


# ---------------------------------------------------------------- docs


def cmd_docs(args: argparse.Namespace) -> int:
    from grader.course.site import build_if_stale, serve
    from grader.terminal import console

    course = course_of(args)
    out = console(stderr=True)
    if build_if_stale(course.root, say=lambda text: out.print(text, markup=False)):
        out.print("The site is built.", markup=False)
    return serve(
        course.root,
        port=args.port,
        open_browser=not args.no_open,
        say=lambda text: out.print(text, markup=False, highlight=False),
    )
