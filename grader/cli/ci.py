"""``grader ci init``: write the classroom CI workflow (the text: course/classroom_ci.py)."""

from __future__ import annotations

import argparse
from typing import Any

from grader.errors import ExitCode


def register(sub: Any) -> None:
    p = sub.add_parser(
        "ci",
        help="for instructors: classroom CI on GitHub Actions",
        description="Set up continuous grading for a course repository.",
    )
    ci_sub = p.add_subparsers(dest="ci_command", metavar="COMMAND", required=True)
    init = ci_sub.add_parser(
        "init",
        help="write .github/workflows/grader.yml",
        description="Write .github/workflows/grader.yml in the course folder: on every push "
        "and pull request GitHub Actions installs the course, runs `grader check --all` "
        "with bubblewrap, shows the points per lab in the run's summary, keeps the JUnit "
        "report as an artifact and fails the run if a check fails. An identical file is "
        "left alone; a different one is kept unless --force.",
    )
    init.add_argument(
        "--force", action="store_true", help="replace a workflow file that differs from this one"
    )
    init.set_defaults(run=cmd_ci_init)


def cmd_ci_init(args: argparse.Namespace) -> int:
    from grader.course import load_course
    from grader.course.classroom_ci import WORKFLOW_PATH, workflow_text, write_workflow

    root = load_course(args.course).root
    target = root / WORKFLOW_PATH
    unchanged = target.is_file() and target.read_bytes() == workflow_text().encode("utf-8")
    path = write_workflow(root, force=args.force)
    if unchanged:
        print(f"{path} is already the grader's workflow; nothing to do.")
    else:
        print(f"wrote {path}: commit and push it, and each push is graded on GitHub Actions.")
    return ExitCode.OK
