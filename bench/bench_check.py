"""How fast does `grader check lab3` feel? Median wall time over N runs, beside the floor.

The floor is what any moto-based grader pays before it does anything:
`python -c "import boto3, moto"`. Also shown: a bare interpreter and `import pytest`, so the
gap between the floor and the grader can be read off. Run: python bench/bench_check.py [N]
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def wall(cmd: list[str], runs: int) -> list[float]:
    times = []
    env = {**os.environ, "NO_COLOR": "1"}
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(
            cmd,
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
        )
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    py = sys.executable
    rows = [
        ("python -c pass", [py, "-c", "pass"]),
        ("python -c 'import pytest'", [py, "-c", "import pytest"]),
        ("floor: python -c 'import boto3, moto'", [py, "-c", "import boto3, moto"]),
        ("grader list", [py, "-m", "grader.cli", "list"]),
        ("grader check lab3 (starter)", [py, "-m", "grader.cli", "check", "lab3", "--seed", "1"]),
        (
            "grader check lab3 (solution)",
            [
                py,
                "-m",
                "grader.cli",
                "check",
                "lab3",
                "--seed",
                "1",
                "--path",
                str(ROOT / "solutions" / "lab3"),
            ],
        ),
    ]
    print(f"median of {runs} runs on {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    print(f"{'command':<42} {'median s':>9} {'min s':>7} {'x floor':>8}")
    floor = None
    for name, cmd in rows:
        times = wall(cmd, runs)
        median = statistics.median(times)
        if name.startswith("floor"):
            floor = median
        ratio = f"{median / floor:.2f}" if floor else ""
        print(f"{name:<42} {median:>9.3f} {min(times):>7.3f} {ratio:>8}")


if __name__ == "__main__":
    main()
