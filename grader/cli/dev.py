"""``grader dev``: tools for course authors (``check``, ``sync-starters``, ``seal``)."""

from __future__ import annotations

import argparse
from typing import Any

from grader.errors import ExitCode


def register(sub: Any) -> None:
    p = sub.add_parser(
        "dev", help="tools for course authors", description="Tools for course authors."
    )
    dev = p.add_subparsers(dest="dev_command", metavar="DEV_COMMAND", required=True)
    d = dev.add_parser(
        "check",
        help="check every lab's files, solution, checks and docs",
        description="Every lab has its lab.toml, starter files and their pristine copies, "
        "solution, checks module and docs page; every starter fails a check; every solution "
        "passes all; every hint and check is documented.",
    )
    d.add_argument("labs", nargs="*", help="only these labs (default: all)")
    d.set_defaults(run=cmd_check)
    d = dev.add_parser(
        "sync-starters",
        help="copy each lab's starter files to the pristine copies reset restores",
        description="After editing a starter file in labs/LAB/, copy it to labs/LAB/.starter/, "
        "the pristine copy `grader reset` restores and `grader dev check` compares.",
    )
    d.add_argument("labs", nargs="*", help="only these labs (default: all)")
    d.set_defaults(run=cmd_sync_starters)
    d = dev.add_parser(
        "seal",
        help="record the checks' hashes in grader/checks/SHA256SUMS",
        description="After changing a file in grader/checks/, record every file's SHA-256 in "
        "grader/checks/SHA256SUMS, the manifest `grader doctor` and `grader dev check` compare "
        "the installed checks with.",
    )
    d.set_defaults(run=cmd_seal)


def _labs(args: argparse.Namespace) -> tuple[Any, list[Any]]:
    from grader.course import load_course

    course = load_course(args.course)
    return course, [course.lab(lab_id) for lab_id in args.labs] or list(course.labs)


def cmd_check(args: argparse.Namespace) -> int:
    from grader.course.devcheck import dev_check
    from grader.terminal import console

    course, labs = _labs(args)
    return dev_check(course, [lab.id for lab in labs] if args.labs else [], console())


def cmd_sync_starters(args: argparse.Namespace) -> int:
    from grader.course.starters import sync_starters
    from grader.terminal import console

    _course, labs = _labs(args)
    out = console()
    for lab in labs:
        written = sync_starters(lab)
        what = ", ".join(written) if written else "already in sync"
        out.print(f"{lab.id}: {what}", markup=False, highlight=False)
    return ExitCode.OK


def cmd_seal(args: argparse.Namespace) -> int:
    from grader.course import integrity, load_course
    from grader.terminal import console

    course = load_course(args.course)
    path = integrity.seal(course.checks_dir)
    count = len(integrity.current(course.checks_dir))
    console().print(f"{path}: {count} files recorded", markup=False, highlight=False)
    return ExitCode.OK
