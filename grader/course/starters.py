"""Restoring a lab's starter files, after saving the learner's own.

The starters are the pristine copies the course ships beside each lab, in
``labs/LAB/.starter/`` (same relative paths as the files the learner edits). They do not
depend on git: a learner who commits their work, or who got the course as a zip, still gets
the course's starters back. ``grader dev check`` proves each pristine copy equals the
starter the repository ships, and ``grader dev sync-starters`` rewrites them after an
author edits a starter. The learner's files are copied to a timestamped folder first: a
reset never loses work.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from grader.course.labs import STARTERS_FOLDER, STATE_FOLDER, Lab
from grader.errors import StarterError


def starter_bytes(lab: Lab, name: str) -> bytes:
    """A starter file's content as the course ships it."""
    path = lab.starters_folder / name
    try:
        return path.read_bytes()
    except OSError:
        rel = path.relative_to(lab.root).as_posix() if path.is_relative_to(lab.root) else path
        raise StarterError(
            f"the course's copy of the starter {name} is missing ({rel}); get a fresh copy of "
            "the course to restore it. Nothing was changed."
        ) from None


def backup_and_restore(lab: Lab) -> Path | None:
    """Save the learner's files under ``.grader/backups/``, then write the starters.

    Returns the backup folder, if there was anything to save.
    """
    starters = {name: starter_bytes(lab, name) for name in lab.files}  # all or nothing
    existing = [name for name in lab.files if (lab.folder / name).is_file()]
    backup = None
    if existing:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        backup = lab.root / STATE_FOLDER / "backups" / f"{lab.id}-{stamp}"
        suffix = 1
        while backup.exists():
            suffix += 1
            backup = backup.with_name(f"{lab.id}-{stamp}-{suffix}")
        for name in existing:
            target = backup / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(lab.folder / name, target)
    for name, content in starters.items():
        path = lab.folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    return backup


def stale_starters(lab: Lab) -> list[str]:
    """The lab's files whose pristine copy is missing or differs from the file in the lab
    folder (for ``grader dev check``, run on the repository as the course ships it)."""
    stale = []
    for name in lab.files:
        shipped, pristine = lab.folder / name, lab.starters_folder / name
        if not pristine.is_file() or (
            shipped.is_file() and shipped.read_bytes() != pristine.read_bytes()
        ):
            stale.append(name)
    return stale


def sync_starters(lab: Lab) -> list[str]:
    """Copy each of the lab's files over its pristine copy; return the names written."""
    written = []
    for name in stale_starters(lab):
        source = lab.folder / name
        if not source.is_file():
            continue
        target = lab.starters_folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
        written.append(name)
    return written


# What a copy of the course holds: the learner's side and the author's side; never the
# learner's state (.grader/) or a built site.
COURSE_PARTS = ("labs", "solutions", "docs", "docs_src", "mkdocs.yml", "README.md")


def pristine_copy(root: Path, target: Path) -> Path:
    """A copy of the course at ``root`` in ``target``, each lab's files as the course ships
    them (restored from ``labs/LAB/.starter/``), whatever the learner has done to theirs.
    For the project's tests and benchmarks, which must never touch a learner's work."""
    ignore = shutil.ignore_patterns("__pycache__", STATE_FOLDER, "site")
    target.mkdir(parents=True, exist_ok=True)
    for part in COURSE_PARTS:
        source = Path(root) / part
        if source.is_dir():
            shutil.copytree(source, target / part, ignore=ignore)
        elif source.is_file():
            shutil.copy2(source, target / part)
    for starters in (target / "labs").glob(f"*/{STARTERS_FOLDER}"):
        for pristine in starters.rglob("*"):
            if pristine.is_file():
                shipped = starters.parent / pristine.relative_to(starters)
                shipped.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(pristine, shipped)
    return target
