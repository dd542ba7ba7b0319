"""Grading a class: every learner × lab of a roster, the same way, in parallel, resumable.

Each pair is graded in a fresh private folder made from the instructor's own lab folder
(its data, its lab.toml) with the learner's declared files laid in, and nothing else of
theirs (:mod:`.classroom_roster` reads those bytes as untrusted input). The grading is
:func:`~grader.grading.runner.run_lab` with the instructor's installed checks, the lab's
time limit and learner code in the jail; a class refuses to be graded below full isolation
unless the instructor allows it, and every result says the level used. Every pair of a
class is graded with the same seed, so every learner meets the same hidden inputs; the seed
is kept in the output folder, and a re-run uses it again unless another is given. A pair
whose files, grader version, checks seal, isolation level and seed are unchanged since the
last run in the same output folder is read from its cache instead of graded again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from grader.course import integrity
from grader.course.checkinfo import module_constant, read_checks
from grader.course.labs import Course, Lab
from grader.errors import UsageError
from grader.grading import jail, zygote
from grader.grading.classroom_pool import run_all
from grader.grading.classroom_roster import Learner, read_roster
from grader.grading.results import FAILED, CheckResult, LabResult
from grader.grading.runner import child_env, run_lab
from grader.grading.zygote import Zygote

CACHE_FOLDER = ".cache"
SEED_FILE = "seed"  # in CACHE_FOLDER: the class's seed, reused by the next run
NOT_GRADED = "not graded: "  # how a check that never ran (nothing to grade) is marked


@dataclass
class Pair:
    """One learner × lab: its result, whether it came from the cache, and notes."""

    learner: Learner
    lab: Lab
    result: LabResult
    cached: bool = False
    notes: list[str] = field(default_factory=list)
    ran: bool = False  # graded now (not from the cache, not settled without running)


@dataclass
class ClassResult:
    course: Course
    labs: list[Lab]
    learners: list[Learner]
    pairs: dict[tuple[str, str], Pair]  # (learner slug, lab id) -> Pair
    isolation: str
    isolation_note: str
    grader_version: str
    seals: dict[str, str]  # lab id -> checks_seal(lab)
    started: str
    seed: int = 0  # every pair's hidden inputs come from it
    # lab id -> digest of what else a grade depends on: the grader's code outside the
    # checks (engines, grading) and the lab's own files (data, lab.toml, starters)
    inputs: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    def pair(self, learner: Learner, lab: Lab) -> Pair:
        return self.pairs[(learner.slug, lab.id)]

    @property
    def graded(self) -> int:
        return sum(p.ran for p in self.pairs.values())

    @property
    def reused(self) -> int:
        return sum(p.cached for p in self.pairs.values())

    @property
    def not_run(self) -> int:
        """Pairs with nothing to grade: a refused learner, or no file of the lab."""
        return sum(not p.ran and not p.cached for p in self.pairs.values())


def grader_version() -> str:
    try:
        return metadata.version("cloudsec-labs")
    except metadata.PackageNotFoundError:
        return "unknown"


def checks_seal(lab: Lab) -> str:
    """The seal of the checks a lab's grade depends on: for its checks module, its scenario
    and what labs share (``_*.py``), the digest ``SHA256SUMS`` records and the digest the file has now
    (so an edited check re-grades its lab even before it is re-sealed, and an edit to
    another lab's checks re-grades nothing here)."""
    shipped = integrity.shipped(lab.checks_dir) or {}
    digest = hashlib.sha256()
    for path in sorted(Path(lab.checks_dir).glob("*.py")):
        name = path.name
        if name == "__init__.py" or name.startswith(("_", f"{lab.id}.", f"{lab.id}_")):
            digest.update(f"{name} {shipped.get(name)} {integrity.digest(path)}\n".encode())
    return digest.hexdigest()


def grading_inputs(lab: Lab, code: str) -> str:
    """The digest of what a lab's grade depends on besides its checks and the learner's
    files: ``code`` (:func:`code_digest`) and every file of the lab's folder that is not a
    declared file (an editable install keeps one version number through every change)."""
    digest = hashlib.sha256(code.encode())
    declared = {Path(rel) for rel in lab.files}
    for path in sorted(Path(lab.folder).rglob("*")):
        rel = path.relative_to(lab.folder)
        if path.is_file() and rel not in declared and "__pycache__" not in rel.parts:
            digest.update(f"{rel.as_posix()} {integrity.digest(path)}\n".encode())
    return digest.hexdigest()


def code_digest() -> str:
    """The digest of the grader's own sources outside ``grader/checks`` (whose files each
    lab's seal covers, so a change to one lab's checks re-grades only that lab)."""
    package = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        rel = path.relative_to(package)
        if rel.parts[0] != "checks":
            digest.update(f"{rel.as_posix()} {integrity.digest(path)}\n".encode())
    return digest.hexdigest()


def check_isolation(allow_weaker: bool) -> jail.Isolation:
    """The level learner code gets here; a UsageError below full unless allowed."""
    found = jail.isolation()
    if found.level is not jail.Level.FULL and not allow_weaker:
        raise UsageError(
            f"learner code would run with {found.level.value} isolation here, not full "
            f"({found.missing}); {found.advice or 'install bubblewrap'}. To grade anyway, "
            "give --allow-weaker-isolation: the report will say which level was used"
        )
    return found


def grade_class(
    course: Course,
    roster: Path,
    out: Path,
    *,
    labs: list[Lab] | None = None,
    jobs: int | None = None,
    allow_weaker_isolation: bool = False,
    seed: int | None = None,
    on_total: Callable[[int], None] | None = None,
    on_done: Callable[[Pair], None] | None = None,
) -> ClassResult:
    """Grade every learner × lab of ``roster``; results and the cache go in ``out``.

    ``on_total`` is told how many pairs there are, ``on_done`` each pair as it completes
    (in the calling thread). A broken or hostile submission gives a low score,
    never an exception.
    """
    found = check_isolation(allow_weaker_isolation)
    labs = list(course.labs if labs is None else labs)
    roster, out = Path(roster), Path(out)
    if not roster.is_dir():
        raise UsageError(f"ROSTER {roster}: no such folder")
    out.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    learners = read_roster(roster, labs, skip=out)
    result = ClassResult(
        course=course,
        labs=labs,
        learners=learners,
        pairs={},
        isolation=found.level.value,
        isolation_note=found.missing,
        grader_version=grader_version(),
        seals={lab.id: checks_seal(lab) for lab in labs},
        started=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        seed=class_seed(out, seed),
    )
    code = code_digest()
    result.inputs = {lab.id: grading_inputs(lab, code) for lab in labs}
    todo: list[tuple[Learner, Lab, str]] = []
    for learner in learners:
        for lab in labs:
            pair = _settled(result, learner, lab)
            if pair is not None:
                result.pairs[(learner.slug, lab.id)] = pair
                continue
            key = _key(result, learner, lab)
            cached = _from_cache(out, learner, lab, key)
            if cached is not None:
                result.pairs[(learner.slug, lab.id)] = cached
            else:
                todo.append((learner, lab, key))
    if on_total is not None:
        on_total(len(learners) * len(labs))
    if on_done is not None:
        for pair in result.pairs.values():
            on_done(pair)
    # Neutral names: learner code sees its folder's path, and it should say no more than
    # `grader check`'s does about how it is being graded.
    with (
        tempfile.TemporaryDirectory(prefix="grader-") as tmp,
        _zygotes(todo, found, result.seed) as zygotes,
    ):
        templates = {lab.id: _template(lab, Path(tmp) / "templates") for lab in labs}
        waiting = {lab.id: _waits(lab) for lab in labs}

        def grade(item: tuple[Learner, Lab, str]) -> Pair:
            learner, lab, _ = item
            zygote = zygotes.get(lab.id)
            return _grade(learner, lab, templates[lab.id], Path(tmp), result.seed, zygote)

        def done(item: tuple[Learner, Lab, str], pair: Pair) -> None:
            learner, lab, key = item
            if not pair.result.problem:  # a time-out or a grader failure: not kept,
                _to_cache(out, pair, key)  # the next run grades the pair again
            result.pairs[(learner.slug, lab.id)] = pair
            if on_done is not None:
                on_done(pair)

        run_all(
            todo,
            grade,
            done,
            jobs=jobs or os.cpu_count() or 1,
            waits=lambda item: waiting[item[1].id],
        )
    result.seconds = round(time.monotonic() - started, 2)
    return result


@contextlib.contextmanager
def _zygotes(
    todo: list[tuple[Learner, Lab, str]], found: jail.Isolation, seed: int
) -> Iterator[dict[str, Zygote]]:
    """A zygote per lab with pairs to grade (:mod:`.zygote`), ended with the run (and its
    grading children with it, Ctrl-C or not). Hidden inputs are made once per class only
    where learner code cannot write to them: at full isolation."""
    zygotes: dict[str, Zygote] = {}
    try:
        if zygote.enabled():
            prepare = seed if found.level is jail.Level.FULL else None
            for _, lab, _ in todo:
                if lab.id not in zygotes:
                    try:
                        zygotes[lab.id] = Zygote(lab.checks_module, child_env(), seed=prepare)
                    except OSError:  # no zygote: this lab's children start afresh
                        continue
        yield zygotes
    finally:
        for one in zygotes.values():
            one.close()


def _waits(lab: Lab) -> bool:
    """Whether the lab's checks mostly wait (``WAITS_ON_TIMERS``; see :mod:`.classroom_pool`)."""
    return module_constant(lab.checks_module, "WAITS_ON_TIMERS", False) is True


def class_seed(out: Path, given: int | None) -> int:
    """The seed of this class's grading: the one given, else the last run's (kept in
    ``out``, so a re-run grades changed work on the hidden inputs the others met), else a
    new one; written back to ``out`` for the next run."""
    path = out / CACHE_FOLDER / SEED_FILE
    seed = given
    if seed is None:
        try:
            seed = int(path.read_text(encoding="utf-8").strip())
        except (OSError, ValueError):
            seed = secrets.randbelow(2**31)
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"{seed}\n", encoding="utf-8")
    return seed


def _settled(result: ClassResult, learner: Learner, lab: Lab) -> Pair | None:
    """A pair with nothing to grade: a refused learner, or no file of the lab submitted."""
    if learner.refused:
        return Pair(learner, lab, failed_result(lab, learner.refused))
    if not learner.files.get(lab.id):
        return Pair(
            learner,
            lab,
            failed_result(lab, "no file of this lab was submitted"),
            notes=list(learner.notes.get(lab.id, [])),
        )
    return None


def failed_result(lab: Lab, problem: str) -> LabResult:
    """Every check of ``lab`` failed with ``problem``, without running anything."""
    result = LabResult(lab=lab.id, title=lab.title, problem=problem)
    for info in read_checks(lab.checks_module):
        result.checks.append(
            CheckResult(
                id=info.name,
                sentence=info.sentence,
                task=info.task,
                points=info.points,
                gate=bool(info.gate),
                status=FAILED,
                message=NOT_GRADED + problem,
            )
        )
    return result


def _key(result: ClassResult, learner: Learner, lab: Lab) -> str:
    files = learner.files.get(lab.id, {})
    data = {
        "learner": learner.name,
        "lab": lab.id,
        "version": result.grader_version,
        "seal": result.seals[lab.id],
        "inputs": result.inputs[lab.id],
        "isolation": result.isolation,
        "seed": result.seed,
        "files": {rel: hashlib.sha256(files[rel]).hexdigest() for rel in sorted(files)},
    }
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def _cache_path(out: Path, learner: Learner, lab: Lab) -> Path:
    return out / CACHE_FOLDER / learner.slug / f"{lab.id}.json"


def _from_cache(out: Path, learner: Learner, lab: Lab, key: str) -> Pair | None:
    try:
        data = json.loads(_cache_path(out, learner, lab).read_text(encoding="utf-8"))
        if data.get("key") != key:
            return None
        return Pair(learner, lab, result_from_dict(data["result"]), True, list(data["notes"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None  # no cache, or one that cannot be trusted: grade again


def _to_cache(out: Path, pair: Pair, key: str) -> None:
    path = _cache_path(out, pair.learner, pair.lab)
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
    data = {"key": key, "result": pair.result.to_dict(), "notes": pair.notes}
    tmp = path.with_suffix(".tmp")
    try:
        tmp.write_text(json.dumps(data), encoding="utf-8")
        os.replace(tmp, path)
    except OSError:  # the cache saves time only: without it, the next run grades again
        tmp.unlink(missing_ok=True)


def result_from_dict(data: dict[str, Any]) -> LabResult:
    """A :class:`LabResult` back from its ``to_dict()`` (the cache, gradebook.json)."""
    fields = {k: data.get(k) for k in LabResult.__dataclass_fields__ if k != "checks"}
    result = LabResult(**fields)
    names = CheckResult.__dataclass_fields__
    result.checks = [
        CheckResult(**{k: v for k, v in c.items() if k in names}) for c in data["checks"]
    ]
    return result


def _template(lab: Lab, where: Path) -> Path:
    """The instructor's lab folder without the declared files (and without bytecode or a
    conftest.py): what every learner's files are laid into. The pristine starters
    (``.starter/``) stay, as in every learner's own course: learner code that lists its
    folder sees what it sees under ``grader check``."""
    target = where / lab.id
    declared = {Path(rel) for rel in lab.files}

    def ignore(folder: str, names: list[str]) -> set[str]:
        rel = Path(folder).relative_to(lab.folder)
        return {n for n in names if (rel / n) in declared or n in ("__pycache__", "conftest.py")}

    shutil.copytree(lab.folder, target, ignore=ignore, symlinks=False)
    return target


def _grade(
    learner: Learner, lab: Lab, template: Path, tmp: Path, seed: int, zygote: Zygote | None
) -> Pair:
    """Grade one pair in a folder of its own, removed afterwards; never raises for what a
    submission does (a grader failure becomes the pair's problem, and the run goes on)."""
    notes = list(learner.notes.get(lab.id, []))
    work = Path(tempfile.mkdtemp(dir=tmp)) / lab.id
    try:
        shutil.copytree(template, work)
        for rel, data in learner.files.get(lab.id, {}).items():
            path = work / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        # Learner code sees its files where the instructor's own lab folder is, as under
        # `grader check` there, not in a temporary folder that says a class is graded.
        result = run_lab(
            lab, work, seed=seed, timeout=lab.timeout, zygote=zygote, shown_as=lab.folder
        )
    except Exception as exc:  # noqa: BLE001 - one pair's failure must not stop the class
        result = failed_result(
            lab, f"the grader could not grade this ({type(exc).__name__}: {exc})"
        )
    finally:
        shutil.rmtree(work.parent, ignore_errors=True)
    result.path = f"{learner.name}/{lab.id}"  # the private folder is gone: say whose it was
    return Pair(learner, lab, result, notes=notes, ran=True)
