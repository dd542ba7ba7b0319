"""The instructor's and the hand-in commands: ``submit`` and ``class grade``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from grader.errors import ExitCode, UsageError


def register(sub: Any) -> None:
    p = sub.add_parser(
        "submit",
        help="pack your lab files into a zip to hand in",
        description="Write submission-<name>-<UTC time>.zip holding, per lab, only the lab's "
        "files, your check history and each file's SHA-256 (default: every lab you changed, "
        "or all of them).",
    )
    p.add_argument("labs", nargs="*", metavar="LAB", help="the labs to hand in, e.g. lab3")
    p.add_argument("--name", help="your name in the file name (default: your login name)")
    p.add_argument(
        "--out", metavar="DIR", type=Path, default=Path("."), help="where to write the zip"
    )
    p.set_defaults(run=cmd_submit)

    p = sub.add_parser(
        "class",
        help="for instructors: grade a whole class",
        description="For instructors: grade every learner of a roster.",
    )
    class_sub = p.add_subparsers(dest="class_command", metavar="COMMAND", required=True)
    g = class_sub.add_parser(
        "grade",
        help="grade every learner × lab of a roster",
        description="Grade every learner of ROSTER (a folder with one subfolder per learner, "
        "their copy of the course or of labs/, and/or submission zips) with this grader: "
        "only each lab's declared files are taken, each pair in a private folder, learner "
        "code in the jail, in parallel. Writes gradebook.csv, gradebook.json, report.html "
        "and feedback/<learner>.md to the --out folder; a re-run grades only what changed.",
    )
    g.add_argument("roster", metavar="ROSTER", type=Path)
    g.add_argument(
        "--labs", metavar="LAB,LAB", help="comma-separated labs to grade (default: every lab)"
    )
    g.add_argument(
        "--jobs",
        metavar="N",
        type=int,
        help="pairs graded at once (default: the core count); pairs of labs that mostly wait "
        "(lab 6) run beside them, up to N more",
    )
    g.add_argument(
        "--out",
        metavar="DIR",
        type=Path,
        default=Path("class-results"),
        help="where the results go (default: ./class-results)",
    )
    g.add_argument(
        "--seed",
        type=int,
        help="the seed of the hidden inputs, the same for every learner (default: the last "
        "run's in --out, else a new one); give a new one for resubmissions after feedback",
    )
    g.add_argument(
        "--allow-weaker-isolation",
        action="store_true",
        help="grade even where learner code cannot get full isolation (the report says so)",
    )
    g.set_defaults(run=cmd_class_grade)


def _course(args: argparse.Namespace) -> Any:
    from grader.course import load_course

    return load_course(args.course)


def cmd_submit(args: argparse.Namespace) -> int:
    import getpass

    from grader.grading.submission import changed_labs, write_submission
    from grader.terminal import console

    course = _course(args)
    labs = [course.lab(lab_id) for lab_id in args.labs] or changed_labs(course) or list(course.labs)
    if not args.out.is_dir():
        raise UsageError(f"--out {args.out}: no such folder")
    try:
        name = args.name or getpass.getuser()
    except (KeyError, OSError):  # a container user with no name
        name = "learner"
    path = write_submission(course, labs, name, args.out)
    console().print(
        f"Wrote {path} ({', '.join(lab.id for lab in labs)}): hand this file in.",
        markup=False,
        highlight=False,
    )
    return ExitCode.OK


def cmd_class_grade(args: argparse.Namespace) -> int:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from grader.grading import gradebook, htmlreport
    from grader.grading.classroom import check_isolation, grade_class
    from grader.terminal import console

    course = _course(args)
    labs = list(course.labs)
    if args.labs:
        labs = [course.lab(lab_id.strip()) for lab_id in args.labs.split(",") if lab_id.strip()]
    if args.jobs is not None and args.jobs < 1:
        raise UsageError(f"--jobs {args.jobs}: give 1 or more")
    if not args.roster.is_dir():
        raise UsageError(f"ROSTER {args.roster}: no such folder")
    check_isolation(args.allow_weaker_isolation)  # refuse before anything is written
    err = console(stderr=True)
    with Progress(
        TextColumn("grading"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.description}"),
        console=err,
        transient=True,
    ) as bar:
        task = bar.add_task("", total=None)
        result = grade_class(
            course,
            args.roster,
            args.out,
            labs=labs,
            jobs=args.jobs,
            allow_weaker_isolation=args.allow_weaker_isolation,
            seed=args.seed,
            on_total=lambda n: bar.update(task, total=n),
            on_done=lambda pair: bar.update(
                task, advance=1, description=f"{pair.learner.slug} {pair.lab.id}"
            ),
        )
    gradebook.write_csv(result, args.out / "gradebook.csv")
    gradebook.write_json(result, args.out / "gradebook.json")
    gradebook.write_feedback(result, args.out / "feedback")
    (args.out / "report.html").write_text(htmlreport.render(result), encoding="utf-8")
    out = console()
    out.print(
        f"{len(result.learners)} learners × {len(labs)} labs: {result.graded} graded, "
        f"{result.reused} unchanged since the last run, {result.not_run} with nothing to "
        f"grade, in {result.seconds:.1f} s, "
        f"learner code with {result.isolation} isolation, hidden inputs of seed {result.seed}.",
        markup=False,
        highlight=False,
    )
    for learner in result.learners:
        if learner.refused:
            out.print(f"refused {learner.name}: {learner.refused}", markup=False, highlight=False)
    out.print(f"Results: {args.out / 'report.html'}", markup=False, highlight=False)
    return ExitCode.OK
