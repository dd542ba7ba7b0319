"""The lab registry: the course root and the labs it holds, read from ``labs/*/lab.toml``.

A lab is data (a TOML file) so that adding one needs no code outside its own folder,
its solution, its checks module and its docs page. A lab's checks always come from the
installed grader (``grader/checks/<lab>.py``), never from the course folder being graded:
a copy of the course is the learner's, the checks are the course's.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from grader.errors import CourseError

CHAPTERS = ("edge", "waf", "least-privilege", "fapi", "siem")
DEFAULT_TIMEOUT = 120
# What one process of learner code may allocate (address space), unless lab.toml says
# learner_memory_mb: plenty for parsing a trail, far from what a laptop can spare.
DEFAULT_MEMORY_MB = 1024
_LAB_ID = re.compile(r"^lab[1-9][0-9]*$")


# The installed checks: grader/checks/ beside this package.
CHECKS_DIR = Path(__file__).resolve().parents[1] / "checks"
# The learner's state inside their course: progress, backups (ignored by git).
STATE_FOLDER = ".grader"
# Pristine copies of a lab's starter files, inside the lab folder (what `grader reset` restores).
STARTERS_FOLDER = ".starter"


@dataclass(frozen=True)
class Hint:
    task: int
    text: str


@dataclass(frozen=True)
class Lab:
    id: str
    title: str
    chapter: str
    order: int
    summary: str
    time_minutes: int
    docs: str
    files: tuple[str, ...]
    hints: tuple[Hint, ...]
    timeout: int
    root: Path = field(compare=False)
    memory: int = 1024 * 1024 * 1024  # bytes, per process of learner code
    checks_dir: Path = field(compare=False, default=CHECKS_DIR)

    @property
    def folder(self) -> Path:
        """The starter folder inside the course (what ``grader reset`` restores)."""
        return self.root / "labs" / self.id

    @property
    def solution_folder(self) -> Path:
        return self.root / "solutions" / self.id

    @property
    def starters_folder(self) -> Path:
        """The pristine starter files the course ships (``labs/LAB/.starter/``)."""
        return self.folder / STARTERS_FOLDER

    @property
    def checks_module(self) -> Path:
        return self.checks_dir / f"{self.id}.py"

    @property
    def docs_path(self) -> Path:
        return self.root / "docs" / self.docs


@dataclass(frozen=True)
class Course:
    root: Path
    labs: tuple[Lab, ...]
    checks_dir: Path = CHECKS_DIR

    @property
    def state_folder(self) -> Path:
        """Where the learner's progress and backups live (``.grader/``)."""
        return self.root / STATE_FOLDER

    def lab(self, lab_id: str) -> Lab:
        for lab in self.labs:
            if lab.id == lab_id:
                return lab
        known = ", ".join(lab.id for lab in self.labs) or "none"
        raise CourseError(f"there is no lab {lab_id!r}; the labs are: {known}")


def find_root(start: Path | None = None) -> Path:
    """The nearest folder, from ``start`` upwards, holding mkdocs.yml and labs/."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "mkdocs.yml").is_file() and (folder / "labs").is_dir():
            return folder
    raise CourseError(
        f"no course found in {here} or above it: run grader inside your copy of the course "
        "(the folder with mkdocs.yml and labs/), or pass --course DIR"
    )


def load_course(root: Path | None = None, *, checks_dir: Path | None = None) -> Course:
    """Read every ``labs/*/lab.toml`` under the course root, ordered by ``order``.

    ``checks_dir`` replaces the installed checks (the project's tests grade made-up labs).
    """
    root = find_root() if root is None else Path(root).resolve()
    if not (root / "labs").is_dir():
        raise CourseError(f"{root} has no labs/ folder: is --course pointing at the course?")
    checks = Path(checks_dir).resolve() if checks_dir is not None else CHECKS_DIR
    labs = [load_lab(toml, root, checks) for toml in sorted((root / "labs").glob("*/lab.toml"))]
    labs.sort(key=lambda lab: (lab.order, lab.id))
    return Course(root=root, labs=tuple(labs), checks_dir=checks)


def _constraint(path: Path, key: str, value: object, constraint: str) -> CourseError:
    # Worded like the AWS APIs' ValidationException, which the course teaches people to read.
    return CourseError(
        f"1 validation error detected: Value {value!r} at '{key}' failed to satisfy "
        f"constraint: {constraint}",
        file=path,
    )


def load_lab(toml_path: Path, root: Path, checks_dir: Path = CHECKS_DIR) -> Lab:
    """Parse and validate one lab.toml."""
    try:
        data = tomllib.loads(toml_path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise CourseError(f"not valid TOML: {exc}", file=toml_path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CourseError(f"cannot read it: {exc}", file=toml_path) from None

    def need(key: str, kind: type, default: object = ...) -> object:
        if key not in data:
            if default is not ...:
                return default
            raise _constraint(toml_path, key, None, "Member must not be null")
        value = data[key]
        if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
            raise _constraint(toml_path, key, value, f"Member must be of type {kind.__name__}")
        return value

    lab_id = need("id", str)
    if not _LAB_ID.match(lab_id) or lab_id != toml_path.parent.name:
        raise _constraint(
            toml_path, "id", lab_id, f"Member must match the folder name {toml_path.parent.name!r}"
        )
    chapter = need("chapter", str)
    if chapter not in CHAPTERS:
        raise _constraint(
            toml_path,
            "chapter",
            chapter,
            f"Member must satisfy enum value set: [{', '.join(CHAPTERS)}]",
        )
    files = need("files", list)
    if not files or not all(isinstance(f, str) and f for f in files):
        raise _constraint(toml_path, "files", files, "Member must be a non-empty list of paths")
    for name in files:
        if Path(name).is_absolute() or ".." in Path(name).parts:
            raise _constraint(
                toml_path, "files", name, "Member must be a path inside the lab folder"
            )
    timeout = need("timeout_seconds", int, DEFAULT_TIMEOUT)
    if not 1 <= timeout <= 3600:
        raise _constraint(
            toml_path, "timeout_seconds", timeout, "Member must be between 1 and 3600"
        )
    memory_mb = need("learner_memory_mb", int, DEFAULT_MEMORY_MB)
    if not 64 <= memory_mb <= 16384:
        raise _constraint(
            toml_path, "learner_memory_mb", memory_mb, "Member must be between 64 and 16384"
        )
    hints = []
    for i, raw in enumerate(need("hints", list, [])):
        where = f"hints[{i}]"
        if not isinstance(raw, dict):
            raise _constraint(toml_path, where, raw, "Member must be a table with task and text")
        task, text = raw.get("task"), raw.get("text")
        if not isinstance(task, int) or isinstance(task, bool) or task < 0:
            raise _constraint(toml_path, f"{where}.task", task, "Member must be a task number")
        if not isinstance(text, str):
            raise _constraint(toml_path, f"{where}.text", text, "Member must be of type str")
        hints.append(Hint(task=task, text=text.strip()))
    return Lab(
        id=lab_id,
        title=need("title", str),
        chapter=chapter,
        order=need("order", int),
        summary=need("summary", str).strip(),
        time_minutes=need("time_required", int),
        docs=need("docs", str),
        files=tuple(files),
        hints=tuple(hints),
        timeout=timeout,
        memory=memory_mb * 1024 * 1024,
        root=root,
        checks_dir=checks_dir,
    )
