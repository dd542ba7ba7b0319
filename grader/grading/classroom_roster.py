"""A class's roster, read as untrusted input: who the learners are and their declared files.

A roster is a folder holding one subfolder per learner (their copy of the course, or of
``labs/``) and/or submission zips (``submission-<name>-<stamp>.zip``; the newest per name
wins). From each learner only the bytes of each lab's declared files are taken, at once,
into memory: never a link (a link to ``/etc/passwd`` or to the instructor's solutions is not
followed), never a device or a pipe, never anything else of the learner's copy (their
checks, ``conftest.py``, grader code, data). Grading then works from these bytes alone, so
nothing a learner's code writes into the roster later can reach another learner's grade.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from grader.course.labs import Lab
from grader.grading.submission import (
    MAX_FILE_BYTES,
    SubmissionRefused,
    learner_of_zip,
    read_submission,
    safe_name,
    stamp_of_zip,
)


@dataclass
class Learner:
    name: str  # as the roster spells it: learner-controlled, escape it wherever it is shown
    slug: str  # a safe, unique file-name form (feedback/<slug>.md, the cache)
    source: Path
    kind: str  # "folder" or "zip"
    refused: str | None = None  # why nothing of theirs is graded
    files: dict[str, dict[str, bytes]] = field(default_factory=dict)  # lab -> rel -> bytes
    notes: dict[str, list[str]] = field(default_factory=dict)  # lab -> what was not taken
    general: list[str] = field(default_factory=list)  # notes that concern no single lab


def read_roster(roster: Path, labs: list[Lab], *, skip: Path | None = None) -> list[Learner]:
    """Every learner in ``roster``, sorted by name (``skip``: the output folder, if inside)."""
    roster = Path(roster)
    folders: dict[str, Path] = {}
    zips: dict[str, Path] = {}
    superseded: dict[str, list[str]] = {}
    refused: dict[str, str] = {}
    for entry in sorted(roster.iterdir()):
        if entry.name.startswith(".") or (skip is not None and _same(entry, skip)):
            continue
        if entry.suffix == ".zip" and not _is_real_dir(entry):
            if not _is_regular(entry):  # a link or a pipe named .zip: never opened
                refused[learner_of_zip(entry) or entry.stem] = (
                    f"{entry.name} is not a regular file: not opened"
                )
                continue
            name = learner_of_zip(entry) or entry.stem
            if name in zips and stamp_of_zip(zips[name]) >= stamp_of_zip(entry):
                superseded.setdefault(name, []).append(entry.name)
                continue
            if name in zips:
                superseded.setdefault(name, []).append(zips[name].name)
            zips[name] = entry
        elif entry.is_dir() or entry.is_symlink():
            folders[entry.name] = entry
    learners = []
    for name in sorted(set(folders) | set(zips) | set(refused)):
        if name in refused:
            learner = Learner(name, "", roster / name, "zip", refused=refused[name])
        elif name in folders and name in zips:
            learner = Learner(name, "", folders[name], "folder")
            learner.refused = (
                f"both a folder and a submission zip ({zips[name].name}) are named {name!r}: "
                "keep one"
            )
        elif name in zips:
            learner = _from_zip(name, zips[name], labs)
        else:
            learner = _from_folder(name, folders[name], labs)
        for old in superseded.get(name, []):
            learner.general.append(f"{old} was not graded: a newer submission was")
        learners.append(learner)
    _give_slugs(learners)
    return learners


def _same(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False


def _give_slugs(learners: list[Learner]) -> None:
    taken: set[str] = set()
    for learner in learners:
        base = safe_name(learner.name)
        slug, n = base, 1
        while slug.lower() in taken:
            n += 1
            slug = f"{base}-{n}"
        taken.add(slug.lower())
        learner.slug = slug


def _from_zip(name: str, path: Path, labs: list[Lab]) -> Learner:
    learner = Learner(name, "", path, "zip")
    try:
        sub = read_submission(path, labs)
    except SubmissionRefused as exc:
        learner.refused = f"{path.name}: {exc}"
        return learner
    learner.files = sub.files
    learner.general.extend(sub.notes)
    for lab in labs:
        got = sub.files.get(lab.id, {})
        if got:
            learner.notes[lab.id] = [f"{rel} is missing" for rel in lab.files if rel not in got]
    return learner


def _from_folder(name: str, path: Path, labs: list[Lab]) -> Learner:
    learner = Learner(name, "", path, "folder")
    if path.is_symlink():
        learner.refused = "the learner's folder is a symbolic link: not followed"
        return learner
    base = path / "labs" if _is_real_dir(path / "labs") else path
    for lab in labs:
        folder = base / lab.id
        if not _is_real_dir(folder):
            if (folder).is_symlink():
                learner.notes[lab.id] = [f"{lab.id}/ is a symbolic link: not followed"]
            continue
        files, notes = {}, []
        for rel in lab.files:
            data, note = read_declared(folder, rel)
            if data is not None:
                files[rel] = data
            if note:
                notes.append(note)
        if files:
            learner.files[lab.id] = files
        learner.notes[lab.id] = notes
    return learner


def _is_regular(path: Path) -> bool:
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


def _is_real_dir(path: Path) -> bool:
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False


def read_declared(folder: Path, rel: str) -> tuple[bytes | None, str | None]:
    """A declared file's bytes, or None and why not: no link anywhere on the way, a regular
    file only (a pipe would hang the read), at most MAX_FILE_BYTES."""
    path = folder
    parts = PurePosixPath(rel).parts
    for i, part in enumerate(parts):
        path = path / part
        try:
            mode = os.lstat(path).st_mode
        except FileNotFoundError:
            return None, f"{rel} is missing"
        except OSError as exc:
            return None, f"{rel} cannot be read ({exc.strerror})"
        if stat.S_ISLNK(mode):
            return None, f"{rel} is a symbolic link: not taken"
        if i < len(parts) - 1 and not stat.S_ISDIR(mode):
            return None, f"{rel} is missing"
    if not stat.S_ISREG(mode):
        return None, f"{rel} is not a regular file: not taken"
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | os.O_NONBLOCK)
    except OSError as exc:
        return None, f"{rel} cannot be read ({exc.strerror})"
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            return None, f"{rel} is not a regular file: not taken"
        data = handle.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        return None, f"{rel} is larger than {MAX_FILE_BYTES} bytes: not taken"
    return data, None
