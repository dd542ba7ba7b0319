"""How fast does `grader check LAB` feel? Median wall time over N runs, beside the floor.

The floor is what any moto-based grader pays before it does anything:
`python -c "import boto3, moto"`. Also shown: a bare interpreter and `import pytest`, so the
gap between the floor and the grader can be read off. Every lab is timed on its starter and
on its solution, after one untimed run with bytecode caches allowed (see ``wall``), and
the starter once more with the sandbox in the grading child instead of a process of its own.
Run: python bench/bench_check.py [N] [LAB ...]
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
from grader.grading.sandbox_process import DISABLE_ENV

# The course as it ships (never the learner's own labs/ or .grader/), in a folder of its own.
ROOT = pristine_copy(
    Path(__file__).resolve().parents[1], Path(tempfile.mkdtemp(prefix="bench-check-")) / "course"
)


def wall(cmd: list[str], runs: int, extra_env: dict[str, str] | None = None) -> list[float]:
    times = []
    # As on a learner's machine, Python keeps its bytecode caches (some environments turn
    # that off, which would time compiling the grader's modules on every run), and the first
    # run, which fills them and the catalog cache, is not timed.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["NO_COLOR"] = "1"
    env.update(extra_env or {})
    for index in range(runs + 1):
        start = time.perf_counter()
        subprocess.run(
            cmd,
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
        )
        if index:
            times.append(time.perf_counter() - start)
    return times


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    py = sys.executable
    rows: list[tuple[str, list[str], dict[str, str]]] = [
        ("python -c pass", [py, "-c", "pass"], {}),
        ("python -c 'import pytest'", [py, "-c", "import pytest"], {}),
        ("floor: python -c 'import boto3, moto'", [py, "-c", "import boto3, moto"], {}),
        ("grader list", [py, "-m", "grader.cli", "list"], {}),
    ]
    labs = sys.argv[2:] or sorted(p.parent.name for p in (ROOT / "labs").glob("*/lab.toml"))
    for lab in labs:
        # the solution laid over a copy of the lab, as `grader dev check` grades it
        solved = ROOT.parent / "solved" / lab
        shutil.rmtree(solved, ignore_errors=True)
        shutil.copytree(ROOT / "labs" / lab, solved)
        shutil.copytree(ROOT / "solutions" / lab, solved, dirs_exist_ok=True)
        check = [py, "-m", "grader.cli", "check", lab, "--seed", "1"]
        rows.append((f"grader check {lab} (starter)", check, {}))
        rows.append((f"grader check {lab} (solution)", [*check, "--path", str(solved)], {}))
        # The alternative: moto loaded in the grading child itself, one thing after another.
        rows.append((f"  {lab} starter, sandbox in the child", check, {DISABLE_ENV: "1"}))
    print(f"median of {runs} runs on {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    print(f"{'command':<42} {'median s':>9} {'min s':>7} {'x floor':>8}")
    floor = None
    for name, cmd, extra_env in rows:
        times = wall(cmd, runs, extra_env)
        median = statistics.median(times)
        if name.startswith("floor"):
            floor = median
        ratio = f"{median / floor:.2f}" if floor else ""
        print(f"{name:<42} {median:>9.3f} {min(times):>7.3f} {ratio:>8}")
    shutil.rmtree(ROOT.parent, ignore_errors=True)


if __name__ == "__main__":
    main()
