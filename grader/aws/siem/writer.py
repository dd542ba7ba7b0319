"""Streams a dataset to disk in the layout of the SIEM contract, window by window.

CloudTrail delivers a log file per account and region about every five minutes, holding
the events of that span; the file's name carries its delivery time ("Finding your
CloudTrail log files", CloudTrail User Guide). AWS documents a typical delivery of about
5 minutes after the call; the seed's talk measures 5-15 minutes, and about 20 through a
SIEM connector. So each file here is stamped a seeded 5 to 20 minutes after its newest
event. The generator hands events over in time order and says when a window has closed;
the window's files are then written and forgotten, so memory holds one window, never the
dataset. Same seed, same events: byte-identical files (gzip with mtime 0).

Compression is most of the cost (zlib at level 1 runs at about 130 MB/s, some 80,000
CloudTrail records a second), and zlib lets go of the GIL, so files are compressed and
written on a worker thread with ``threads=1`` while the next window is generated (at most
``_IN_FLIGHT`` files wait, which bounds memory). It pays only with a free core; the
default, 0, keeps everything on the calling thread.
"""

from __future__ import annotations

import gzip
import json
import random
from collections import defaultdict, deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from operator import itemgetter
from pathlib import Path
from typing import Any

from grader.aws.trail.layout import log_file_key

WINDOW = 300  # seconds: CloudTrail's delivery interval
DELAY_MINUTES = (5, 19)  # added to the newest event's minute, rounded up: 5-20 minutes
_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
_BY_TIME = itemgetter(0)
_IN_FLIGHT = 16  # files handed to the worker and not yet written
Progress = Callable[[int, int], None]


def utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


@dataclass
class WriterStats:
    files: int = 0
    events: int = 0
    bytes: int = 0
    idp_files: int = 0
    idp_events: int = 0


class DatasetWriter:
    """Buffers the open windows' events and writes each window's files when it closes."""

    def __init__(
        self,
        root: str | Path,
        *,
        seed: int,
        compresslevel: int = 1,
        progress: Progress | None = None,
        total: int = 0,
        threads: int = 0,
    ) -> None:
        self.root = Path(root)
        self.level = compresslevel
        self.rng = random.Random(f"siem/writer/{seed}")
        self.progress = progress
        self.total = total
        self.stats = WriterStats()
        # window start -> (account, region) -> [(ts, record json)]
        self._windows: dict[int, dict[tuple[str, str], list[tuple[int, str]]]] = {}
        self._idp: dict[str, list[tuple[float, str]]] = defaultdict(list)
        self._dirs: set[Path] = set()
        self._pool = ThreadPoolExecutor(max_workers=threads) if threads > 0 else None
        self._pending: deque[Future[int]] = deque()

    def bucket(self, ts: int, account: str, region: str) -> list[tuple[int, str]]:
        """The list that collects events of ``account``/``region`` in ``ts``'s window
        (callers append ``(ts, json)`` to it directly: the hot path)."""
        start = ts - ts % WINDOW
        window = self._windows.get(start)
        if window is None:
            window = self._windows[start] = {}
        group = window.get((account, region))
        if group is None:
            group = window[(account, region)] = []
        return group

    def add(self, ts: int, account: str, region: str, text: str) -> None:
        self.bucket(ts, account, region).append((ts, text))

    def add_idp(self, ts: float, event: dict[str, Any]) -> None:
        day = utc(ts).strftime("%Y-%m-%d")
        self._idp[day].append((ts, json.dumps(event, separators=(",", ":"), ensure_ascii=False)))

    def close_before(self, ts: int) -> None:
        """Write every window that ends at or before ``ts`` (no event can join it now)."""
        for start in sorted(w for w in self._windows if w + WINDOW <= ts):
            self._write_window(self._windows.pop(start))
        if self.progress is not None:
            self.progress(self.stats.events, self.total)

    def finish(self) -> WriterStats:
        """Write everything still open, wait for the worker, and return the totals."""
        try:
            self.close_before(2**62)
            for day in sorted(self._idp):
                self._write_idp(day, self._idp[day])
            self._idp.clear()
            while self._pending:
                self.stats.bytes += self._pending.popleft().result()
        finally:
            self.close()
        return self.stats

    def close(self) -> None:
        """Stop the worker (after an error too, so no thread outlives the run)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def _write_window(self, window: dict[tuple[str, str], list[tuple[int, str]]]) -> None:
        for (account, region), events in sorted(window.items()):
            events.sort(key=_BY_TIME)
            newest = events[-1][0]
            minute = -(-newest // 60) * 60
            delivered = utc(minute) + timedelta(minutes=self.rng.randint(*DELAY_MINUTES))
            unique = "".join(self.rng.choice(_ALPHABET) for _ in range(16))
            path = self.root / log_file_key(account, region, delivered, unique)
            body = '{"Records":[' + ",".join([text for _, text in events]) + "]}"
            self._write(path, body)
            self.stats.files += 1
            self.stats.events += len(events)

    def _write_idp(self, day: str, lines: list[tuple[float, str]]) -> None:
        lines.sort(key=_BY_TIME)
        path = self.root / "idp" / f"signins-{day}.jsonl.gz"
        self._write(path, "".join(text + "\n" for _, text in lines))
        self.stats.idp_files += 1
        self.stats.idp_events += len(lines)

    def _write(self, path: Path, text: str) -> None:
        if path.parent not in self._dirs:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._dirs.add(path.parent)
        if self._pool is None:
            self.stats.bytes += _compress_to(path, text, self.level)
            return
        self._pending.append(self._pool.submit(_compress_to, path, text, self.level))
        while len(self._pending) > _IN_FLIGHT or (self._pending and self._pending[0].done()):
            self.stats.bytes += self._pending.popleft().result()


def _compress_to(path: Path, text: str, level: int) -> int:
    data = gzip.compress(text.encode(), compresslevel=level, mtime=0)
    path.write_bytes(data)
    return len(data)
