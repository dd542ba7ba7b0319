"""How fast does the SIEM generator write a dataset? Events per second on one core, beside
two floors: ``json.dumps`` of the same records alone (what any dict-based generator pays
before it writes a byte), and gzip level 1 of the same JSON alone (what writing the files
costs, whoever builds them). Also the generator with compression switched off, to show
where the time goes.

The run: 3 days, 600,000 events (seed 7), into a temporary folder.

Run: python bench/bench_siem_generate.py [events]
"""

from __future__ import annotations

import gzip
import json
import sys
import tempfile
import time
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from grader.aws.siem import writer  # noqa: E402
from grader.aws.siem.generate import generate  # noqa: E402
from grader.aws.trail.layout import log_files, read_log_file  # noqa: E402

EVENTS = int(sys.argv[1]) if len(sys.argv) > 1 else 600_000
DAYS = 3


def timed_generate(root: Path) -> tuple[float, int, int]:
    start = time.perf_counter()
    summary = generate(root, seed=7, days=DAYS, events=EVENTS)
    return time.perf_counter() - start, summary.events, summary.bytes


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        seconds, count, size = timed_generate(Path(tmp) / "full")
        files = log_files(Path(tmp) / "full" / "AWSLogs")
        sample = [r for path in files[: len(files) // 4] for r in read_log_file(path)]
        raw = sum(len(gzip.decompress(p.read_bytes())) for p in files[: len(files) // 4])
        with mock.patch.object(writer, "_compress_to", lambda path, text, level: len(text)):
            bare, _, _ = timed_generate(Path(tmp) / "bare")

    start = time.perf_counter()
    text = json.dumps({"Records": sample}, separators=(",", ":"))
    dumps = len(sample) / (time.perf_counter() - start)
    start = time.perf_counter()
    gzip.compress(text.encode(), compresslevel=1, mtime=0)
    zipped = len(sample) / (time.perf_counter() - start)

    print(f"generate: {count:,} events over {DAYS} days, {size / 2**20:,.0f} MiB gzip")
    print(
        f"  end to end (one core):            {count / seconds:>10,.0f} events/s ({seconds:.1f} s)"
    )
    print(f"  without compression:              {count / bare:>10,.0f} events/s")
    print(f"floor: json.dumps of the records:   {dumps:>10,.0f} events/s")
    print(f"floor: gzip -1 of their JSON:       {zipped:>10,.0f} events/s")
    print(f"  ({raw / max(1, len(sample)):,.0f} bytes of JSON per record)")


if __name__ == "__main__":
    main()
