"""The generated day that labs 7 and 8 grade on: made for each run, or once for a class.

A run of ``grader check`` generates its own day from its seed. A class is graded on one
seed (every learner meets the same hidden inputs), so the grading process that forks one
grading child per learner (:mod:`grader.grading.zygote`) calls :func:`prepare` once: the
day is generated and loaded into a saved DuckDB database, and every fork opens it read only
in milliseconds instead of spending about three CPU-seconds on it. The labels (the ground
truth) leave the logs' folder as soon as the generator writes them, before any learner
code runs: they are kept in this module's memory, which each fork inherits.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from grader.aws.siem.store import Dataset, open_dataset, save_dataset

LABELS = "labels.json"

# (seed, days) -> (the logs' folder, the saved database, the labels)
_PREPARED: dict[tuple[int, int], tuple[Path, Path, dict[str, Any]]] = {}


def open_day(seed: int, days: int, prefix: str) -> tuple[Path, dict[str, Any], Dataset, bool]:
    """The day for ``seed``: its folder, labels, open dataset, and whether the caller owns
    the folder (and removes it when done). A prepared day is shared, never removed here."""
    prepared = _PREPARED.get((seed, days))
    if prepared is not None:
        folder, saved, labels = prepared
        return folder, labels, open_dataset(folder, saved=saved), False
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        labels = _generate(folder, seed, days)
        dataset = open_dataset(folder)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return folder, labels, dataset, True


def prepare(seed: int, days: int, prefix: str) -> Callable[[], None]:
    """Make the day for ``seed`` once, for every later :func:`open_day` in this process
    and its forks; returns what removes it. DuckDB's threads end when its connection
    closes, so this process can fork safely afterwards (the zygote checks it does)."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    store = Path(tempfile.mkdtemp(prefix="siem-saved-"))
    saved = store / "day.duckdb"

    def remove() -> None:
        _PREPARED.pop((seed, days), None)
        shutil.rmtree(folder, ignore_errors=True)
        shutil.rmtree(store, ignore_errors=True)

    try:
        labels = _generate(folder, seed, days)
        save_dataset(folder, saved)
    except BaseException:
        remove()
        raise
    _PREPARED[(seed, days)] = (folder, saved, labels)
    return remove


def _generate(folder: Path, seed: int, days: int) -> dict[str, Any]:
    """Generate the day into ``folder``; its labels, taken out of the folder."""
    from grader.aws.siem.generate import generate

    generate(folder, seed=seed, days=days)
    labels = json.loads((folder / LABELS).read_text(encoding="utf-8"))
    (folder / LABELS).unlink()  # ground truth stays in memory, never beside the logs
    return labels
