"""Is ``grader/checks/`` what the course ships? A manifest of hashes, and what departs from it.

The checks decide every score, so a file planted beside them (a ``conftest.py`` that
rewrites results, say) or an edited check would change every learner's result, in a class
run too. Learner code runs in a jail that cannot write there, and the grading child runs
pytest with ``--noconftest``; this is the third line: ``grader doctor`` and ``grader dev
check`` compare the folder with ``SHA256SUMS``, which ``grader dev seal`` writes when a
course author changes a check, and which ships inside the package.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from grader.course.labs import CHECKS_DIR

MANIFEST = "SHA256SUMS"
# Files Python or pytest would run without being asked, anywhere in the package.
_AUTOLOADED = ("conftest.py", "sitecustomize.py", "usercustomize.py", "pytest.ini", "tox.ini")


def _files(checks_dir: Path) -> list[Path]:
    return sorted(
        p
        for p in checks_dir.rglob("*")
        if p.is_file() and p.name != MANIFEST and "__pycache__" not in p.parts
    )


def digest(path: Path) -> str:
    # Line endings as git checks them out on Windows must not look like a tampered file.
    return hashlib.sha256(path.read_bytes().replace(b"\r\n", b"\n")).hexdigest()


def current(checks_dir: Path = CHECKS_DIR) -> dict[str, str]:
    """Every file in the checks folder (relative path -> SHA-256), as it is now."""
    return {p.relative_to(checks_dir).as_posix(): digest(p) for p in _files(checks_dir)}


def shipped(checks_dir: Path = CHECKS_DIR) -> dict[str, str] | None:
    """The manifest the package ships, or None when it has none."""
    path = checks_dir / MANIFEST
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    entries = {}
    for line in lines:
        hexdigest, _, name = line.partition("  ")
        if hexdigest and name:
            entries[name] = hexdigest
    return entries


def seal(checks_dir: Path = CHECKS_DIR) -> Path:
    """Write the manifest for the checks as they are (a course author's step)."""
    path = checks_dir / MANIFEST
    text = "".join(f"{h}  {name}\n" for name, h in current(checks_dir).items())
    path.write_text(text, encoding="utf-8")
    return path


def problems(checks_dir: Path = CHECKS_DIR) -> list[str]:
    """How the checks folder departs from what ships, one sentence each (empty: intact)."""
    found: list[str] = []
    expected = shipped(checks_dir)
    if expected is None:
        return [f"{checks_dir / MANIFEST} is missing: the checks cannot be verified"]
    now = current(checks_dir)
    for name in sorted(set(now) - set(expected)):
        found.append(f"{name} is not a file the course ships")
    for name in sorted(set(expected) - set(now)):
        found.append(f"{name} is missing")
    for name in sorted(set(now) & set(expected)):
        if now[name] != expected[name]:
            found.append(f"{name} differs from the shipped file")
    package = checks_dir.parent
    for name in _AUTOLOADED:
        for path in package.rglob(name):
            if not path.is_relative_to(checks_dir):
                found.append(f"{path.relative_to(package.parent)} would be loaded without asking")
    return found
