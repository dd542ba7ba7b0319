"""What does the jail cost? Per learner call, and on a whole `grader check lab4`.

Per call (median of N, in-process, the way the grading child calls learner code):
- the bare start of a jailed interpreter at each level (`python -I -c pass` alone, under
  `unshare`, under `bwrap`): the jail's own cost is the difference;
- a full `call_learner` round trip (bootstrap, import, one call, result back) at each level.
Per lab (median of N/2, wall time of the CLI, the subjects taken in turn): `grader check lab4` on its solution at each
level, beside the floor every moto-based grader pays, `python -c "import boto3, moto"`.
Levels this machine lacks are left out. Run: python bench/bench_jail.py [N]
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from grader.course.starters import pristine_copy
from grader.grading import jail
from grader.grading.learner import call_learner

HERE = Path(__file__).resolve().parents[1]
LEVELS = {"full": "", "namespaces": "namespaces", "limits only": "limits"}


def available() -> list[str]:
    found = []
    for name, env in LEVELS.items():
        os.environ[jail.LEVEL_ENV] = env
        if jail.isolation().level.value == name:
            found.append(name)
    os.environ.pop(jail.LEVEL_ENV, None)
    return found


def timed(fn, runs: int) -> list[float]:
    fn()  # untimed: caches, first imports
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def bare_start(level: str, home: Path) -> list[str]:
    python = [sys.executable, "-I", "-B", "-c", "pass"]
    if level == "full":
        return [shutil.which("bwrap") or "bwrap", *jail._bwrap_options(()), "--", *python]
    if level == "namespaces":
        return [*jail._unshare_options(shutil.which("unshare") or "unshare"), *python]
    return python


def row(name: str, times: list[float], base: float | None = None) -> None:
    median = statistics.median(times)
    extra = f"{(median - base) * 1000:>+9.1f}" if base is not None else ""
    print(f"{name:<48} {median * 1000:>9.1f} {min(times) * 1000:>8.1f} {extra:>9}")


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    levels = available()
    work = Path(tempfile.mkdtemp(prefix="bench-jail-"))
    try:
        learner = work / "lab" / "generate_policy.py"
        learner.parent.mkdir()
        learner.write_text("def generate(records, arn):\n    return {'n': len(records)}\n")
        print(f"median of {runs} runs on {os.cpu_count()} cores, Python {sys.version.split()[0]}")
        print(f"levels here: {', '.join(levels)}")
        print(f"{'per call':<48} {'median ms':>9} {'min ms':>8} {'+ms bare':>9}")
        bare: dict[str, float] = {}
        for level in ("limits only", *[lvl for lvl in levels if lvl != "limits only"]):
            if level not in levels:
                continue
            argv = bare_start(level, work)
            times = timed(lambda a=argv: subprocess.run(a, check=True, cwd=work), runs)
            bare[level] = statistics.median(times)
            base = bare.get("limits only") if level != "limits only" else None
            row(f"start python -I -c pass ({level})", times, base)
        for level in levels:
            os.environ[jail.LEVEL_ENV] = LEVELS[level]
            times = timed(lambda: call_learner(learner, "generate", [{}], "arn"), runs)
            row(f"call_learner round trip ({level})", times, bare.get("limits only"))
        os.environ.pop(jail.LEVEL_ENV, None)

        course = pristine_copy(HERE, work / "course")
        shutil.copytree(HERE / "solutions" / "lab4", course / "labs" / "lab4", dirs_exist_ok=True)
        py = sys.executable
        print()
        print(f"{'whole run (CLI wall time)':<48} {'median s':>9} {'min s':>8} {'x floor':>9}")
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["NO_COLOR"] = "1"

        def once(argv: list[str], extra: dict[str, str]) -> float:
            start = time.perf_counter()
            subprocess.run(
                argv,
                cwd=course,
                env={**env, **extra},
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                check=False,
            )
            return time.perf_counter() - start

        # Round robin over the floor and the levels, so that whatever else the machine is
        # doing meanwhile weighs on each of them alike; the first round is not timed.
        check = [py, "-m", "grader.cli", "check", "lab4", "--seed", "1"]
        subjects = [("floor: python -c import boto3, moto", [py, "-c", "import boto3, moto"], {})]
        subjects += [
            (f"grader check lab4, solution ({level})", check, {jail.LEVEL_ENV: LEVELS[level]})
            for level in levels
        ]
        times: dict[str, list[float]] = {name: [] for name, _, _ in subjects}
        for index in range(max(3, runs // 2) + 1):
            for name, argv, extra in subjects:
                took = once(argv, extra)
                if index:
                    times[name].append(took)
        floor = statistics.median(times[subjects[0][0]])
        for name, _, _ in subjects:
            median = statistics.median(times[name])
            print(f"{name:<48} {median:>9.3f} {min(times[name]):>8.3f} {median / floor:>9.2f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
