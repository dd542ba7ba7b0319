"""Restoring a lab's starter files, after saving the learner's own.

The starters are the files as the course's git history holds them (``HEAD``), so no
second copy of each starter has to be kept in sync. The learner's files are copied to a
timestamped folder first: a reset never loses work.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

from grader.course import Lab
from grader.progress import FOLDER


class StarterError(Exception):
    """The starter files cannot be found; nothing was changed."""


def starter_bytes(lab: Lab, name: str) -> bytes:
    """A starter file's content as committed in the course's git history."""
    rel = (Path("labs") / lab.id / name).as_posix()
    try:
        done = subprocess.run(
            ["git", "-C", str(lab.root), "show", f"HEAD:{rel}"],
            capture_output=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise StarterError(
            f"cannot read the starter {rel}: git is needed for reset ({exc})"
        ) from None
    if done.returncode != 0:
        raise StarterError(
            f"cannot find the starter {rel} in the course's git history; reset needs the course "
            "as a git clone. Nothing was changed."
        )
    return done.stdout


def backup_and_restore(lab: Lab) -> Path | None:
    """Save the learner's files, then write the starters. Returns the backup folder, if any."""
    starters = {name: starter_bytes(lab, name) for name in lab.files}  # all or nothing
    existing = [name for name in lab.files if (lab.folder / name).is_file()]
    backup = None
    if existing:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        backup = lab.root / FOLDER / "backups" / f"{lab.id}-{stamp}"
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
