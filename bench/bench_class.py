"""How long does `grader class grade` take for a class? Wall time and learners per minute.

A synthetic roster of N learners (each lab's declared files: the reference solution for
every other learner, the starter for the rest, so both the fast failing path and the full
path are timed) is graded through the real CLI for each ``--jobs`` value, into a fresh
output folder each time (no cache), then once more unchanged (everything from the cache).
The issue's target: 30 learners × all labs under 2 minutes on 2 cores. The mean seconds per
pair of each lab, printed after the runs, show where the time goes.
Run: python bench/bench_class.py [N] [LAB,LAB|all] [JOBS ...]   (default: 30 all 1 2)
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from grader.course import load_course
from grader.course.starters import pristine_copy

ROOT = Path(__file__).resolve().parents[1]


def make_roster(course: Path, roster: Path, learners: int, lab_ids: list[str]) -> None:
    labs = [load_course(course).lab(lab_id) for lab_id in lab_ids]
    for n in range(learners):
        for lab in labs:
            source = (ROOT / "solutions" / lab.id) if n % 2 == 0 else lab.folder
            for rel in lab.files:
                target = roster / f"learner{n:03d}" / "labs" / lab.id / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                if (source / rel).is_file():
                    shutil.copy2(source / rel, target)


def grade(course: Path, roster: Path, out: Path, labs: str, jobs: int) -> tuple[float, dict]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["NO_COLOR"] = "1"
    cmd = [sys.executable, "-m", "grader", "class", "grade", str(roster), "--out", str(out)]
    cmd += ["--labs", labs, "--jobs", str(jobs)]
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=course, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"grader class grade failed: {done.stderr.strip()}")
    return seconds, json.loads((out / "gradebook.json").read_text())


def _full(book: dict) -> str:
    """How many reference solutions (every other learner) scored full points: a class run
    that is fast because it broke grading must not look good."""
    solutions = book["learners"][0::2]
    pairs = [lab for e in solutions for lab in e["labs"].values()]
    full = sum(all(c["status"] == "passed" for c in lab["checks"]) for lab in pairs)
    return f"solutions at full points {full}/{len(pairs)}"


def main() -> None:
    learners = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    wanted = sys.argv[2] if len(sys.argv) > 2 else "all"
    jobs_list = [int(j) for j in sys.argv[3:]] or [1, 2]
    work = Path(tempfile.mkdtemp(prefix="bench-class-"))
    try:
        course = pristine_copy(ROOT, work / "course")
        lab_ids = (
            [lab.id for lab in load_course(course).labs] if wanted == "all" else wanted.split(",")
        )
        labs = ",".join(lab_ids)
        roster = work / "roster"
        make_roster(course, roster, learners, lab_ids)
        print(f"{learners} learners × {len(lab_ids)} labs ({labs}) on {os.cpu_count()} cores")
        print(f"{'jobs':>4}  {'wall s':>7}  {'learners/min':>12}  {'pairs/s':>7}  note")
        for jobs in jobs_list:
            out = work / f"out-{jobs}"
            seconds, book = grade(course, roster, out, labs, jobs)
            pairs = book["graded"] + book["reused"] + book["not_run"]
            note = f"{book['graded']} graded, isolation {book['isolation']}, {_full(book)}"
            print(
                f"{jobs:>4}  {seconds:>7.1f}  {learners / seconds * 60:>12.1f}  "
                f"{pairs / seconds:>7.2f}  {note}",
                flush=True,
            )
        print("mean seconds per pair in the last run (solution / starter):")
        for lab_id in lab_ids:
            times = [
                [e["labs"][lab_id]["seconds"] for e in book["learners"][parity::2]]
                for parity in (0, 1)
            ]
            print(f"  {lab_id}: " + " / ".join(f"{sum(t) / max(len(t), 1):.2f}" for t in times))
        seconds, book = grade(course, roster, out, labs, jobs_list[-1])
        print(
            f"{jobs_list[-1]:>4}  {seconds:>7.1f}  {learners / seconds * 60:>12.1f}  "
            f"{'':>7}  re-run, unchanged: {book['reused']} reused, {book['graded']} graded"
        )
        print("target: 30 learners × all labs under 120 s on 2 cores")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
