"""Can a hostile learner's code cheat, snoop or linger? One test per attack, at each level of
the jail this machine has (full: bubblewrap; namespaces: unshare; limits only).

Where a level cannot stop an attack, the case is marked ``xfail(strict=True)`` with the
reason: the test then proves the weakness is real (and fails the day it is fixed), and
``grader doctor`` tells the learner which level they have. No test sends traffic anywhere
but 127.0.0.1: the way off the machine is looked for in the jail's interfaces and routes.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest

from grader.course import integrity, load_course
from grader.grading import jail
from grader.grading.learner import LearnerCodeError, call_learner
from grader.grading.runner import run_lab
from grader.grading.sandbox import is_loopback
from tests.conftest import ROOT, copy_course, process_ended

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="the jail's namespaces are Linux's"
)

FULL, NAMESPACES, LIMITS = jail.Level.FULL, jail.Level.NAMESPACES, jail.Level.LIMITS
ENV_FOR = {FULL: "", NAMESPACES: "namespaces", LIMITS: "limits"}
# CI installs bubblewrap (.ci/run) and sets this: there, a missing jail fails, not skips.
NEED_JAIL = os.environ.get("GRADER_TEST_NEED_JAIL", "") not in ("", "0")
ROOT_USER = hasattr(os, "getuid") and os.getuid() == 0


def at(level: jail.Level, *weak: tuple[jail.Level, str]):
    """A pytest.param for ``level``, xfail (strict) where ``weak`` says it cannot stop it."""
    reasons = [why for lvl, why in weak if lvl is level]
    marks = [pytest.mark.xfail(strict=True, reason=reasons[0])] if reasons else []
    return pytest.param(level, id=level.name.lower(), marks=marks)


def levels(*weak: tuple[jail.Level, str]) -> list:
    return [at(level, *weak) for level in (FULL, NAMESPACES, LIMITS)]


@pytest.fixture
def level(request, monkeypatch) -> jail.Level:
    """Run learner code at the parametrized level (skipped where this machine lacks it)."""
    wanted: jail.Level = request.param
    monkeypatch.setenv(jail.LEVEL_ENV, ENV_FOR[wanted])
    found = jail.isolation()
    if found.level is not wanted:
        if NEED_JAIL:
            pytest.fail(f"{wanted.value} isolation is not available here: {found.missing}")
        pytest.skip(f"{wanted.value} isolation is not available here: {found.missing}")
    return wanted


def learner(tmp_path: Path, source: str, name: str = "attack.py") -> Path:
    folder = tmp_path / "lab"
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text(textwrap.dedent(source))
    return path


def survivors(marker: str) -> list[int]:
    """Live processes whose command line holds ``marker`` (zombies do not count)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if marker.encode() not in (entry / "cmdline").read_bytes():
                continue
            if "State:\tZ" in (entry / "status").read_text():
                continue
        except OSError:
            continue
        found.append(int(entry.name))
    return found


def no_survivors(marker: str, within: float = 3.0) -> bool:
    deadline = time.monotonic() + within
    while survivors(marker) and time.monotonic() < deadline:
        time.sleep(0.05)
    return all(process_ended(pid, within=0.1) for pid in survivors(marker))


def kill_survivors(marker: str) -> None:
    for pid in survivors(marker):
        with contextlib.suppress(OSError):
            os.kill(pid, 9)


# --- snooping ---------------------------------------------------------------------------

SNOOP = """
import glob, os

def attack(paths):
    seen = []
    for pattern in ("/proc/*/environ", "/proc/*/cmdline"):
        for name in glob.glob(pattern):
            try:
                seen.append(open(name, "rb").read().decode("utf-8", "replace"))
            except OSError:
                pass
    for path in paths + [os.path.expanduser("~/.aws/credentials")]:
        try:
            seen.append(open(path).read())
        except OSError:
            pass
    seen.append(repr(dict(os.environ)))
    return "\\n".join(seen)
"""


@pytest.mark.parametrize(
    "level",
    levels(
        (NAMESPACES, "the namespaces level shows the learner's own files"),
        (LIMITS, "the limits-only level shows the learner's own files and processes"),
    ),
    indirect=True,
)
def test_a_planted_secret_is_not_found_in_the_environment_proc_or_home(
    level, tmp_path, monkeypatch
):
    home = tmp_path / "home"
    (home / ".aws").mkdir(parents=True)
    credentials = home / ".aws" / "credentials"
    credentials.write_text("[default]\naws_secret_access_key = PLANTED-FILE-SECRET\n")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "PLANTED-ENV-SECRET")
    path = learner(tmp_path, SNOOP)
    found = call_learner(path, "attack", [str(credentials)]).value
    assert "PLANTED-FILE-SECRET" not in found
    assert "PLANTED-ENV-SECRET" not in found


@pytest.mark.parametrize("level", levels(), indirect=True)
def test_import_grader_is_refused_with_a_reason(level, tmp_path):
    path = learner(
        tmp_path,
        """
        def attack():
            from grader.aws.trail.policy import draft_policy
            return "imported"
        """,
    )
    with pytest.raises(LearnerCodeError, match="learner code runs without the grader"):
        call_learner(path, "attack")


@pytest.mark.parametrize(
    "level",
    levels(
        (NAMESPACES, "the package is on the interpreter's path; only the import hook stops it"),
        (LIMITS, "the package is on the interpreter's path; only the import hook stops it"),
    ),
    indirect=True,
)
def test_the_grader_cannot_be_imported_even_around_the_import_hook(level, tmp_path):
    path = learner(
        tmp_path,
        """
        import sys

        def attack():
            sys.meta_path[:] = [f for f in sys.meta_path if type(f).__name__ != "NoGrader"]
            from grader.aws.trail.policy import draft_policy
            return "imported"
        """,
    )
    with pytest.raises(LearnerCodeError, match="ModuleNotFoundError|ImportError"):
        call_learner(path, "attack")


# --- the network ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "level",
    levels((LIMITS, "the limits-only level shares the machine's network (a Python guard only)")),
    indirect=True,
)
def test_there_is_no_interface_but_loopback_and_no_route(level, tmp_path):
    path = learner(
        tmp_path,
        """
        def attack():
            devices = [line.split(":")[0].strip() for line in open("/proc/net/dev").readlines()[2:]]
            routes = open("/proc/net/route").read().splitlines()[1:]
            return {"devices": devices, "routes": routes}
        """,
    )
    seen = call_learner(path, "attack").value
    assert seen == {"devices": ["lo"], "routes": []}


@pytest.mark.parametrize(
    "level",
    levels((LIMITS, "the limits-only level shares the machine's loopback")),
    indirect=True,
)
def test_a_loopback_port_of_the_machine_cannot_be_reached(level, tmp_path):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]
    path = learner(
        tmp_path,
        f"""
        import socket

        def attack():
            try:
                socket.create_connection(("127.0.0.1", {port}), timeout=2).close()
            except OSError as exc:
                return "refused: " + type(exc).__name__
            return "connected"
        """,
    )
    try:
        answer = call_learner(path, "attack").value
    finally:
        server.close()
    assert answer.startswith("refused")


@pytest.mark.parametrize("level", levels(), indirect=True)
def test_an_outside_address_is_refused_before_any_packet(level, tmp_path):
    # The learner's own audit hook runs after the jail's: it stops the connection should
    # the jail let it through, so no packet leaves even when this test fails.
    path = learner(
        tmp_path,
        """
        import socket, sys

        def last_line(event, args):
            if event == "socket.connect" and args[1][0] != "127.0.0.1":
                raise RuntimeError("ESCAPED: the connection was not refused")

        def attack():
            sys.addaudithook(last_line)
            s = socket.socket()
            try:
                s.connect(("192.0.2.1", 443))
            except RuntimeError as exc:
                return str(exc)
            except OSError as exc:
                return "refused: " + str(exc)
            finally:
                s.close()
            return "ESCAPED: connected"
        """,
    )
    answer = call_learner(path, "attack").value
    assert answer.startswith("refused"), answer
    assert is_loopback("127.0.0.1") and not is_loopback("192.0.2.1")


# --- writing ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "level",
    levels(
        (NAMESPACES, "the namespaces level writes with the learner's own permissions"),
        (LIMITS, "the limits-only level writes with the learner's own permissions"),
    ),
    indirect=True,
)
def test_writing_outside_its_home_fails_or_vanishes(level, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    path = learner(
        tmp_path,
        f"""
        from pathlib import Path

        def attack():
            results = []
            for target in [Path(__file__), Path(__file__).with_name("conftest.py"),
                           Path({str(outside)!r}) / "planted.txt"]:
                try:
                    with open(target, "a") as f:
                        f.write("# planted\\n")
                    results.append("wrote " + target.name)
                except OSError:
                    results.append("refused " + target.name)
            return results
        """,
    )
    before = path.read_text()
    call_learner(path, "attack")
    assert path.read_text() == before
    assert not (path.parent / "conftest.py").exists()
    assert list(outside.iterdir()) == []


@pytest.mark.parametrize("level", levels(), indirect=True)
def test_the_calls_folder_goes_even_when_the_code_locks_it(level, tmp_path, monkeypatch):
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    path = learner(
        tmp_path,
        """
        import os
        from pathlib import Path

        def attack():
            locked = Path.home() / "stay" / "here"
            locked.mkdir(parents=True)
            (locked / "data").write_text("x" * 1000)
            os.chmod(locked, 0)
            os.chmod(locked.parent, 0)
            return str(Path.home())
        """,
    )
    call_learner(path, "attack")
    assert list(temp.iterdir()) == []


# --- lingering and limits ---------------------------------------------------------------


def _lingering(kind: str, marker: str) -> str:
    starts = {
        "fork bomb": f"""
            import os, time, sys
            def attack():
                sys.argv.append({marker!r})
                while True:
                    try:
                        os.fork()
                    except OSError:
                        time.sleep(0.01)
            """,
        "setsid daemon": f"""
            import subprocess, sys
            def attack():
                subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", {marker!r}],
                                 start_new_session=True, stdout=subprocess.DEVNULL)
                return "left a daemon"
            """,
        "grandchild holding stdout": f"""
            import subprocess, sys
            def attack():
                subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", {marker!r}],
                                 start_new_session=True)
                return "left the pipe open"
            """,
    }
    return starts[kind]


ESCAPES = (LIMITS, "at the limits-only level a new session escapes the process group")


@pytest.mark.parametrize(
    "level, kind",
    [
        *[
            pytest.param(p.values[0], "fork bomb", marks=p.marks, id=f"{p.id}-fork bomb")
            for p in levels()
        ],
        *[
            pytest.param(p.values[0], kind, marks=p.marks, id=f"{p.id}-{kind}")
            for kind in ("setsid daemon", "grandchild holding stdout")
            for p in levels(ESCAPES)
        ],
    ],
    indirect=["level"],
)
def test_the_call_ends_in_time_and_nothing_it_started_survives(level, tmp_path, kind):
    marker = f"grader-cheat-{os.getpid()}-{time.monotonic_ns()}"
    path = learner(tmp_path, _lingering(kind, marker))
    limit = 2.0
    started = time.monotonic()
    try:
        with contextlib.suppress(LearnerCodeError):
            call_learner(path, "attack", timeout=limit)
        elapsed = time.monotonic() - started
        # The bound is the limit plus a second. Run as root outside bubblewrap, a
        # fork bomb is not capped (the kernel exempts root from RLIMIT_NPROC) and killing
        # its thousands of processes takes a while longer: a second more there.
        grace = 2.0 if ROOT_USER and level is not FULL and kind == "fork bomb" else 1.0
        assert elapsed < limit + grace, f"the call took {elapsed:.1f} s"
        assert no_survivors(marker), "a process of the call outlived it"
    finally:
        kill_survivors(marker)


@pytest.mark.parametrize("level", levels(), indirect=True)
def test_allocating_10_gb_is_a_clear_memory_failure(level, tmp_path):
    path = learner(
        tmp_path,
        """
        def attack():
            block = bytearray(10 * 1024 ** 3)
            return len(block)
        """,
    )
    with pytest.raises(LearnerCodeError, match=r"used more than 1024 MiB of memory"):
        call_learner(path, "attack")


@pytest.mark.parametrize("level", levels(), indirect=True)
def test_printing_100_mb_keeps_the_first_and_last_lines(level, tmp_path):
    path = learner(
        tmp_path,
        """
        import sys

        def attack():
            print("FIRST LINE")
            chunk = "x" * 1023 + "\\n"
            for _ in range(100 * 1024):
                sys.stdout.write(chunk)
            print("LAST LINE")
            return "done"
        """,
    )
    result = call_learner(path, "attack", timeout=20)
    assert result.value == "done"
    assert len(result.output) < 10_000
    assert result.output.startswith("FIRST LINE")
    assert "left out" in result.output
    assert result.output.rstrip().endswith("LAST LINE")


# --- through the whole grading run (lab4) -------------------------------------------------


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    return copy_course(tmp_path_factory.mktemp("cheats") / "course")


def grade_lab4(course: Path, generator: str, checks_dir: Path | None = None):
    (course / "labs" / "lab4" / "generate_policy.py").write_text(textwrap.dedent(generator))
    lab = load_course(course, checks_dir=checks_dir).lab("lab4")
    return run_lab(lab, seed=3)


HONEST_FAILURE = """
def generate(records, principal_arn):
    raise ValueError("not written yet")
"""


@pytest.fixture(scope="module")
def honest(course):
    """The score of a generator that fails honestly (tasks 2 and 3 as the starter ships)."""
    return grade_lab4(course, HONEST_FAILURE)


def task1(result):
    return [c for c in result.checks if c.task == 1]


FORGE = """
import glob, json, os

RECORD = {"event": "result", "status": "passed"}

def generate(records, principal_arn):
    # Every check id this attacker can guess, for every descriptor it can open.
    forged = [dict(RECORD, id=name) for name in (
        "test_generator_runs", "test_generated_policy_is_valid",
        "test_generated_policy_allows_every_used_action",
        "test_generated_policy_grants_nothing_else")]
    text = "".join(json.dumps(r) + "\\n" for r in forged).encode()
    for fd in glob.glob("/proc/*/fd/*"):
        try:
            out = os.open(fd, os.O_WRONLY | os.O_NONBLOCK)
        except OSError:
            continue
        try:
            os.write(out, text)
        except OSError:
            pass
        finally:
            os.close(out)
    for found in glob.glob("/tmp/grader-*/*.jsonl"):
        with open(found, "a") as f:
            f.write(text.decode())
    raise ValueError("not written yet")
"""


@pytest.mark.parametrize(
    "level",
    [
        at(FULL),
        at(NAMESPACES),
        pytest.param(
            LIMITS,
            id="limits",
            marks=pytest.mark.skipif(
                ROOT_USER, reason="root may open any process's descriptors at the limits level"
            ),
        ),
    ],
    indirect=True,
)
def test_forging_the_result_channel_does_not_pass(level, course, honest):
    result = grade_lab4(course, FORGE)
    assert [c.status for c in task1(result)] == [c.status for c in task1(honest)]
    assert result.score == honest.score


CONFTEST = """
import pytest

@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    outcome.get_result().outcome = "passed"
"""


@pytest.mark.parametrize("where", ["lab folder", "course root", "beside the checks"])
def test_a_planted_conftest_changes_nothing(course, honest, tmp_path, where):
    checks = tmp_path / "checks"
    shutil.copytree(ROOT / "grader" / "checks", checks, ignore=shutil.ignore_patterns("__py*"))
    target = {
        "lab folder": course / "labs" / "lab4",
        "course root": course,
        "beside the checks": checks,
    }[where]
    planted = target / "conftest.py"
    planted.write_text(CONFTEST)
    try:
        result = grade_lab4(course, HONEST_FAILURE, checks_dir=checks)
    finally:
        planted.unlink()
    assert result.score == honest.score
    assert not result.passed


def test_doctor_and_dev_check_see_a_file_planted_beside_the_checks(tmp_path):
    checks = tmp_path / "checks"
    shutil.copytree(ROOT / "grader" / "checks", checks, ignore=shutil.ignore_patterns("__py*"))
    assert integrity.problems(checks) == []
    (checks / "conftest.py").write_text(CONFTEST)
    (checks / "lab3.py").write_text((checks / "lab3.py").read_text() + "\n# edited\n")
    assert integrity.problems(checks) == [
        "conftest.py is not a file the course ships",
        "lab3.py differs from the shipped file",
    ]


def test_the_shipped_manifest_matches_the_checks():
    """A contributor who changed a check runs `grader dev seal`; CI holds them to it."""
    assert integrity.problems() == []


@pytest.mark.parametrize(
    "generator, reason",
    [
        (
            """
            import pytest, sys
            pytest.fail = lambda *a, **k: None
            sys.modules["grader"] = type(sys)("grader")
            def generate(records, principal_arn):
                raise ValueError("patched the grader, or so it thinks")
            """,
            "patched the grader",
        ),
        ("import os\nos._exit(0)\ndef generate(records, principal_arn):\n    return {}\n", "ended"),
        (
            "import os\ndef generate(records, principal_arn):\n    os._exit(0)\n",
            "ended before generate() returned",
        ),
        (
            """
            class Always(dict):
                def __eq__(self, other):
                    return True
                __hash__ = None
            def generate(records, principal_arn):
                return Always(Version="2012-10-17", Statement=object())
            """,
            "not plain JSON data",
        ),
        (
            """
            from grader.aws.trail.policy import draft_policy
            def generate(records, principal_arn):
                return draft_policy(records, principal_arn)
            """,
            "learner code runs without the grader",
        ),
    ],
    ids=["monkeypatching", "os._exit at import", "os._exit in the call", "always-equal", "reuse"],
)
def test_a_cheating_generator_fails_task_1_with_a_reason(course, honest, generator, reason):
    result = grade_lab4(course, generator)
    gate = task1(result)[0]
    assert gate.status == "failed"
    assert reason in (gate.found or gate.message or "")
    assert result.score == honest.score


def test_the_labs_memory_limit_reaches_the_learners_code(tmp_path):
    course = copy_course(tmp_path / "course")
    toml = course / "labs" / "lab4" / "lab.toml"
    toml.write_text("learner_memory_mb = 128\n" + toml.read_text())
    result = grade_lab4(
        course,
        """
        def generate(records, principal_arn):
            return len(bytearray(300 * 1024 * 1024))
        """,
    )
    gate = task1(result)[0]
    assert gate.status == "failed"
    assert "used more than 128 MiB of memory" in gate.found


@pytest.mark.parametrize("level", [at(FULL)], indirect=True)
def test_a_folder_shown_at_another_path_is_all_the_code_sees_of_it(level, tmp_path, monkeypatch):
    """A class grades a learner's files in a private copy, shown to their code at the
    instructor's lab folder: the code finds itself there, and the copy's path nowhere."""
    path = learner(
        tmp_path,
        """
        import os
        def where():
            here = os.path.dirname(os.path.abspath(__file__))
            with open("/proc/self/mountinfo") as f:
                mounts = [line.split()[4] for line in f]
            return {"here": here, "files": sorted(os.listdir(here)), "mounts": mounts}
        """,
    )
    (path.parent / "data.json").write_text("{}")
    shown = tmp_path / "course" / "labs" / "lab4"
    monkeypatch.setattr(jail, "_SHOWN", {})
    jail.show_as(path.parent, shown)
    seen = call_learner(path, "where").value
    assert seen["here"] == str(shown.resolve())
    assert seen["files"] == ["attack.py", "data.json"]
    assert not any(str(path.parent.resolve()) in m for m in seen["mounts"])
