"""A learner's submission: their check history, and the zip ``grader submit`` writes.

The history (``.grader/history.jsonl``, one JSON line per ``grader check`` run) is evidence
of the work, never a source of truth: the instructor grades the files again. The zip holds,
per lab, only the lab's declared files (``labs/LAB/FILE``), the history lines of those labs
and ``manifest.json`` with each file's SHA-256. Reading a zip back is done as if it were
hostile (:func:`read_submission`): ``..``, absolute paths, links and bombs refuse the whole
zip with the reason, because a zip made by hand may hold anything.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import stat
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from grader.course.labs import STATE_FOLDER, Course, Lab
from grader.grading.results import LabResult

HISTORY_FILE = "history.jsonl"
MANIFEST = "manifest.json"
FORMAT = 1
# The most a submission may hold: far more than any lab's answer files, far less than a disk.
MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_TOTAL_BYTES = 50 * 1024 * 1024
MAX_ENTRIES = 2000
MAX_RATIO = 200  # uncompressed / compressed, for entries over 1 MiB: a zip bomb's sign
_NAME = re.compile(r"^submission-(?P<name>.+)-(?P<stamp>\d{8}T\d{6}Z)\.zip$")


class SubmissionRefused(Exception):
    """A zip that is not graded at all; the message is the reason, for the instructor."""


# ---------------------------------------------------------------- history


def history_path(root: Path) -> Path:
    return Path(root) / STATE_FOLDER / HISTORY_FILE


def record_history(root: Path, result: LabResult) -> None:
    """Append one line for a ``grader check`` run (raises OSError when it cannot)."""
    line = {
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "lab": result.lab,
        "seed": result.seed,
        "points": result.score,
        "max": result.max_score,
        "passed": result.passed,
    }
    path = history_path(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(line) + "\n")


def read_history(root: Path) -> list[dict[str, Any]]:
    """The history's readable lines (a torn or foreign line is skipped, not fatal)."""
    try:
        text = history_path(root).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    lines = []
    for raw in text.splitlines():
        try:
            entry = json.loads(raw)
        except ValueError:
            continue
        if isinstance(entry, dict):
            lines.append(entry)
    return lines


# ---------------------------------------------------------------- writing


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def safe_name(text: str) -> str:
    """A learner's name as a file-name part: letters, digits, ``.``, ``_`` and ``-``."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._-")
    return cleaned[:64] or "learner"


def changed_labs(course: Course) -> list[Lab]:
    """The labs with a declared file that differs from (or is missing in) the starter."""
    changed = []
    for lab in course.labs:
        for name in lab.files:
            mine, starter = lab.folder / name, lab.starters_folder / name
            try:
                if mine.read_bytes() != starter.read_bytes():
                    changed.append(lab)
                    break
            except OSError:
                changed.append(lab)
                break
    return changed


def write_submission(course: Course, labs: list[Lab], learner: str, out_dir: Path) -> Path:
    """Write ``submission-<learner>-<UTC stamp>.zip`` in ``out_dir``; return its path.

    A declared file that is missing is listed in the manifest as missing (the instructor's
    grader will fail its checks, as ``grader check`` does), never replaced."""
    name = safe_name(learner)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    target = Path(out_dir) / f"submission-{name}-{stamp}.zip"
    ids = {lab.id for lab in labs}
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "learner": name,
        "created": stamp,
        "labs": {},
    }
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for lab in labs:
            files: dict[str, str] = {}
            missing: list[str] = []
            for rel in lab.files:
                path = lab.folder / rel
                if path.is_symlink() or not path.is_file():
                    missing.append(rel)
                    continue
                data = path.read_bytes()
                files[rel] = sha256(data)
                archive.writestr(f"labs/{lab.id}/{rel}", data)
            manifest["labs"][lab.id] = {"files": files, "missing": missing}
        history = [h for h in read_history(course.root) if h.get("lab") in ids]
        archive.writestr(HISTORY_FILE, "".join(json.dumps(h) + "\n" for h in history))
        archive.writestr(MANIFEST, json.dumps(manifest, indent=2))
    return target


# ---------------------------------------------------------------- reading


def learner_of_zip(path: Path) -> str | None:
    """The learner a ``submission-<name>-<stamp>.zip`` is from (None: not such a name)."""
    match = _NAME.match(Path(path).name)
    return match.group("name") if match else None


def stamp_of_zip(path: Path) -> str:
    match = _NAME.match(Path(path).name)
    return match.group("stamp") if match else ""


@dataclass
class Submission:
    """What a zip holds, checked: each lab's declared files by relative path."""

    files: dict[str, dict[str, bytes]] = field(default_factory=dict)  # lab -> rel -> bytes
    manifest: dict[str, Any] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what was not taken, and why


def _entry_problem(info: zipfile.ZipInfo) -> str | None:
    name = info.filename
    parts = PurePosixPath(name.replace("\\", "/")).parts
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name):
        return f"{name!r} is an absolute path"
    if ".." in parts:
        return f"{name!r} climbs out of the zip with '..'"
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        return f"{name!r} is a symbolic link"
    if info.file_size > MAX_FILE_BYTES:
        return f"{name!r} unpacks to {info.file_size} bytes (the most is {MAX_FILE_BYTES})"
    if info.file_size > 1024 * 1024 and info.file_size > MAX_RATIO * max(info.compress_size, 1):
        return (
            f"{name!r} is compressed {info.file_size // max(info.compress_size, 1)}:1 (a zip bomb?)"
        )
    return None


def read_submission(path: Path, labs: list[Lab]) -> Submission:
    """Read a submission zip as untrusted input; raise :class:`SubmissionRefused` with the
    reason when any entry is unsafe. Only ``labs/LAB/FILE`` for a declared FILE is taken."""
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        raise SubmissionRefused(f"not a readable zip ({exc})") from None
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_ENTRIES:
            raise SubmissionRefused(f"it holds {len(infos)} entries (the most is {MAX_ENTRIES})")
        total = 0
        for info in infos:
            problem = _entry_problem(info)
            if problem:
                raise SubmissionRefused(f"refused: {problem}")
            total += info.file_size
        if total > MAX_TOTAL_BYTES:
            raise SubmissionRefused(f"it unpacks to {total} bytes (the most is {MAX_TOTAL_BYTES})")
        sub = Submission()
        wanted = {f"labs/{lab.id}/{rel}": (lab.id, rel) for lab in labs for rel in lab.files}
        read = 0
        for info in infos:
            if info.is_dir():
                continue
            data = _read_capped(archive, info)
            read += len(data)
            if read > MAX_TOTAL_BYTES:  # the headers lied about the sizes
                raise SubmissionRefused(f"it unpacks to more than {MAX_TOTAL_BYTES} bytes")
            if info.filename in wanted:
                lab_id, rel = wanted[info.filename]
                sub.files.setdefault(lab_id, {})[rel] = data
            elif info.filename == MANIFEST:
                sub.manifest = _json_object(data)
            elif info.filename == HISTORY_FILE:
                sub.history = _json_lines(data)
        sub.notes = _manifest_notes(sub)
        return sub


def _read_capped(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    try:
        with archive.open(info) as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except (OSError, zipfile.BadZipFile, RuntimeError, EOFError) as exc:
        raise SubmissionRefused(f"{info.filename!r} cannot be read ({exc})") from None
    if len(data) > MAX_FILE_BYTES:
        raise SubmissionRefused(f"{info.filename!r} unpacks to more than {MAX_FILE_BYTES} bytes")
    return data


def _json_object(data: bytes) -> dict[str, Any]:
    try:
        value = json.loads(data)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _json_lines(data: bytes) -> list[dict[str, Any]]:
    found = []
    for line in io.StringIO(data.decode("utf-8", "replace")):
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict):
            found.append(value)
    return found


def _manifest_notes(sub: Submission) -> list[str]:
    """Files whose content is not what the manifest says (edited after ``grader submit``):
    graded as they are, and said."""
    notes = []
    labs = sub.manifest.get("labs")
    if not isinstance(labs, dict):
        return notes
    for lab_id, entry in labs.items():
        files = entry.get("files") if isinstance(entry, dict) else None
        if not isinstance(files, dict):
            continue
        for rel, digest in files.items():
            data = sub.files.get(str(lab_id), {}).get(rel)
            if data is not None and sha256(data) != digest:
                notes.append(f"{lab_id}/{rel} differs from the hash in the manifest")
    return notes
