"""Does a learner's notebook run under nbclient with its kernel in the jail, and does every
way it can go wrong (an exception, a hang, endless output, a kernel that exits, a broken
file) come back as a clear message, with nothing of it left running?"""

from __future__ import annotations

import os
import socket
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest

from grader.grading import jail
from grader.grading.learner import LearnerCode
from grader.grading.notebook import (
    INJECTED_TAG,
    OUTPUT_CAP,
    NotebookError,
    NotebookRun,
    run_notebook,
)
from tests.test_cheats import NEED_JAIL, kill_survivors, no_survivors

FULL, NAMESPACES, LIMITS = jail.Level.FULL, jail.Level.NAMESPACES, jail.Level.LIMITS
ENV_FOR = {FULL: "", NAMESPACES: "namespaces", LIMITS: "limits"}

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="the jail's namespaces are Linux's"
)


def use_level(monkeypatch: pytest.MonkeyPatch, wanted: jail.Level) -> None:
    """Run the kernel at ``wanted`` (skipped where this machine lacks it, failed in CI)."""
    monkeypatch.setenv(jail.LEVEL_ENV, ENV_FOR[wanted])
    found = jail.isolation()
    if found.level is not wanted:
        said = f"{wanted.value} isolation is not available here: {found.missing}"
        pytest.fail(said) if NEED_JAIL else pytest.skip(said)


@pytest.fixture
def full(monkeypatch: pytest.MonkeyPatch) -> None:
    use_level(monkeypatch, FULL)


def notebook(folder: Path, *cells: str | tuple[str, str], name: str = "hunt.ipynb") -> Path:
    """A notebook of code cells (``("markdown", text)`` for text, ``("parameters", code)``
    for a cell tagged parameters) in ``folder``."""
    nb = nbformat.v4.new_notebook()
    for cell in cells:
        kind, source = cell if isinstance(cell, tuple) else ("code", cell)
        if kind == "markdown":
            nb.cells.append(nbformat.v4.new_markdown_cell(source))
        else:
            nb.cells.append(nbformat.v4.new_code_cell(source))
            if kind == "parameters":
                nb.cells[-1].metadata["tags"] = ["parameters"]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    nbformat.write(nb, path)
    return path


@pytest.fixture
def marker() -> Iterator[str]:
    """A unique word for the command line of a process the notebook starts."""
    word = f"grader-nb-test-{uuid.uuid4().hex}"
    yield word
    kill_survivors(word)


SPAWN = (
    "import subprocess\n"
    "subprocess.Popen(['python3', '-c', 'import time; time.sleep(300)', '{marker}'],"
    " start_new_session=True)\n"
)


# --- a clean run -----------------------------------------------------------------------


def test_a_clean_notebook_runs_and_its_variables_come_back(tmp_path, full):
    path = notebook(
        tmp_path / "lab7",
        ("markdown", "# Hunt"),
        "import datetime, duckdb\n"
        "count = duckdb.sql('select count(*) from range(5)').fetchall()[0][0]\n"
        "print('events:', count)",
        "answers = {'count': count, 'when': datetime.date(2026, 1, 2), 'pair': (1, 2)}\n"
        "con = duckdb.connect()",
        "from IPython.display import display\n"
        "display({'application/vnd.vegalite.v5+json': {'mark': 'tick'}}, raw=True)",
    )
    run = LearnerCode().notebook(path, timeout=60)
    assert run.ok, run.failure
    assert [c.status for c in run.cells] == ["text", "ok", "ok", "ok"]
    assert run.text(1) == "events: 5\n"
    assert run.namespace_value("answers") == {"count": 5, "when": "2026-01-02", "pair": [1, 2]}
    with pytest.raises(NotebookError, match="`con` is a DuckDBPyConnection, not plain data"):
        run.namespace_value("con")
    with pytest.raises(NotebookError, match="no variable named `answer`"):
        run.namespace_value("answer")
    # The hidden cell that read the variables is not in what the learner sees.
    # A chart as Vega-Lite JSON (no plotting library needed) is an output a check can read.
    [chart] = run.cells[3].outputs
    assert chart["data"]["application/vnd.vegalite.v5+json"] == {"mark": "tick"}
    assert len(run.notebook.cells) == 4
    assert "grader-values" not in nbformat.writes(run.notebook)
    print(f"\nkernel start + a small notebook: {run.seconds:.2f} s")


def test_parameters_replace_the_cell_tagged_parameters(tmp_path, full):
    path = notebook(
        tmp_path,
        "before = 1",
        ("parameters", "DATA_DIR = 'the learner default'\nLIMIT = 1"),
        "seen = [DATA_DIR, LIMIT]",
    )
    run = run_notebook(path, parameters={"DATA_DIR": tmp_path / "data", "LIMIT": 7})
    assert run.ok, run.failure
    assert run.namespace_value("seen") == [str(tmp_path / "data"), 7]
    assert run.notebook.cells[1].metadata["tags"] == [INJECTED_TAG]
    assert len(run.cells) == len(run.notebook.cells) == 3


def test_parameters_come_first_where_no_cell_is_tagged(tmp_path, full):
    path = notebook(tmp_path, "seen = DATA_DIR", "1 / 0")
    run = run_notebook(path, parameters={"DATA_DIR": "/data"})
    assert run.notebook.cells[0].metadata["tags"] == [INJECTED_TAG]
    # The learner's cells keep the learner's numbers: the second one failed.
    assert [c.status for c in run.cells] == ["ok", "error"]
    assert run.failure.index == 1 and "cell 2 of 2" in run.failure.message


def test_parameters_must_be_names_and_plain_data(tmp_path):
    path = notebook(tmp_path, "x = 1")
    with pytest.raises(ValueError, match="Python name"):
        run_notebook(path, parameters={"data-dir": "/x"})
    with pytest.raises(ValueError, match="not plain data"):
        run_notebook(path, parameters={"DATA": object()})


# --- what goes wrong -------------------------------------------------------------------


def test_a_failing_cell_is_reported_with_its_index_and_the_learners_traceback(tmp_path, full):
    path = notebook(
        tmp_path,
        ("markdown", "# Hunt"),
        "x = 1",
        "def first_event():\n    return {}['eventTime']\n\nfirst_event()",
        "never = True",
    )
    run = run_notebook(path)
    assert not run.ok
    assert [c.status for c in run.cells] == ["text", "ok", "error", "not run"]
    failure = run.failure
    assert (failure.index, failure.kind, failure.ename) == (2, "error", "KeyError")
    assert failure.message == "hunt.ipynb, cell 3 of 4: KeyError: 'eventTime'"
    assert "cell 3 of 4, line 4" in failure.traceback
    assert "----> 2     return {}['eventTime']" in failure.traceback
    assert failure.traceback[-1] == "KeyError: 'eventTime'"
    assert not any("\x1b" in line or "grader" in line for line in failure.traceback)
    with pytest.raises(NotebookError, match="did not run to its end"):
        run.namespace_value("never")


@pytest.mark.parametrize(
    "timeout, cell_timeout, kind, said",
    [
        (4, 60, "time-out", "the notebook did not finish within 4 s"),
        (60, 2, "cell time-out", "did not finish within 2 s"),
    ],
    ids=["whole-notebook", "one-cell"],
)
def test_a_hung_notebook_is_killed_at_its_limit_and_nothing_survives(
    tmp_path, full, marker, timeout, cell_timeout, kind, said
):
    path = notebook(tmp_path, SPAWN.replace("{marker}", marker), "while True:\n    pass")
    started = time.monotonic()
    run = run_notebook(path, timeout=timeout, cell_timeout=cell_timeout)
    took = time.monotonic() - started
    assert run.failure.kind == kind and run.failure.index == 1
    assert said in run.failure.message
    assert [c.status for c in run.cells] == ["ok", "timed out"]
    assert took < min(timeout, cell_timeout) + 3
    assert no_survivors(marker), "a process the notebook started outlived it"


def test_a_notebook_that_prints_forever_is_capped(tmp_path, full):
    path = notebook(tmp_path, "while True:\n    print('x' * 999)")
    run = run_notebook(path, cell_timeout=3)
    assert run.failure.kind == "cell time-out"
    printed = run.text(0)
    assert OUTPUT_CAP <= len(printed) < OUTPUT_CAP + 500
    assert printed.rstrip().endswith("the rest of this cell's is left out]")


def test_a_kernel_that_exits_is_a_clear_error(tmp_path, full):
    path = notebook(tmp_path, "x = 1", "import os\nos._exit(3)", "never = 1")
    run = run_notebook(path)
    assert (run.failure.kind, run.failure.index) == ("kernel died", 1)
    assert "the kernel ended while this cell ran (exit code 3)" in run.failure.message
    assert "os._exit()" in run.failure.message
    assert [c.status for c in run.cells] == ["ok", "killed", "not run"]


def test_ending_the_grading_process_ends_a_running_kernel(tmp_path, full, marker):
    path = notebook(tmp_path, SPAWN.replace("{marker}", marker) + "import time\ntime.sleep(60)")
    runs: list[NotebookRun] = []
    worker = threading.Thread(target=lambda: runs.append(run_notebook(path)))
    worker.start()
    deadline = time.monotonic() + 20
    while no_survivors(marker, within=0) and time.monotonic() < deadline:
        time.sleep(0.05)
    jail.end_all()  # what an interrupted grading process does on its way out
    worker.join(10)
    assert runs and runs[0].failure.kind == "kernel died"
    assert no_survivors(marker)


@pytest.mark.parametrize(
    "content, said",
    [
        ('{"cells": [\n  {"cell_type": "code",}\n]}', r"hunt.ipynb:2:\d+: not valid JSON"),
        ("", "the file is empty"),
        ('{"Records": []}', "not a Jupyter notebook"),
        (
            '{"cells": [{"cell_type": "code"}], "nbformat": 4, "nbformat_minor": 5, "metadata": {}}',
            "not a valid Jupyter notebook",
        ),
    ],
    ids=["not-json", "empty", "other-json", "invalid"],
)
def test_a_file_that_is_not_a_notebook_is_a_clear_error(tmp_path, content, said):
    path = tmp_path / "hunt.ipynb"
    path.write_text(content)
    with pytest.raises(NotebookError, match=said):
        run_notebook(path)


def test_a_missing_notebook_is_a_clear_error(tmp_path):
    with pytest.raises(LearnerCode.Error, match="no such file"):
        LearnerCode().notebook(tmp_path / "hunt.ipynb")


# --- the jail ----------------------------------------------------------------------------

PROBE = """
import os, socket
facts = {}
try:
    import grader
    facts['import grader'] = 'imported'
except ImportError as exc:
    facts['import grader'] = str(exc)
try:
    open(GRADER_FILE).close()
    facts['grader file'] = 'read'
except OSError as exc:
    facts['grader file'] = type(exc).__name__
facts['home'] = os.environ['HOME']
facts['aws'] = sorted(name for name in os.environ if name.startswith('AWS'))
facts['processes'] = sorted(int(p) for p in os.listdir('/proc') if p.isdigit())
try:
    socket.create_connection(('127.0.0.1', PORT), timeout=3).close()
    facts['machine port'] = 'connected'
except OSError as exc:
    facts['machine port'] = type(exc).__name__
facts['data'] = open(os.path.join(DATA_DIR, 'trail.json')).read()
try:
    open(os.path.join(DATA_DIR, 'planted.json'), 'w').close()
    facts['data write'] = 'written'
except OSError as exc:
    facts['data write'] = exc.strerror
"""


@pytest.fixture(scope="module")
def jailed_facts(tmp_path_factory) -> Iterator[tuple[dict, Path]]:
    """One run of a probe notebook in the full jail, with an AWS secret in the grader's
    environment and a port of the machine listening."""
    with pytest.MonkeyPatch.context() as patch:
        use_level(patch, FULL)
        patch.setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
        data = tmp_path_factory.mktemp("dataset")
        (data / "trail.json").write_text('{"Records": []}')
        with socket.create_server(("127.0.0.1", 0)) as server:
            path = notebook(tmp_path_factory.mktemp("lab7"), PROBE)
            parameters = {
                "DATA_DIR": str(data),
                "PORT": server.getsockname()[1],
                "GRADER_FILE": str(Path(jail.__file__).resolve()),
            }
            run = run_notebook(path, parameters=parameters, readable=[data])
        assert run.ok, run.failure
        yield run.namespace_value("facts"), data


def test_the_kernel_cannot_import_the_grader_or_read_its_files(jailed_facts):
    facts, _ = jailed_facts
    assert facts["import grader"].startswith("No module named 'grader': learner code runs")
    assert facts["grader file"] == "FileNotFoundError"


def test_the_kernel_has_a_private_home_and_no_aws_variables(jailed_facts):
    facts, _ = jailed_facts
    assert facts["home"] == jail.JAIL_HOME != os.environ.get("HOME")
    assert facts["aws"] == []


def test_the_kernel_sees_only_its_own_processes_and_no_port_of_the_machine(jailed_facts):
    facts, _ = jailed_facts
    assert max(facts["processes"]) < 20  # a fresh PID namespace: bubblewrap and the kernel
    assert facts["machine port"] == "ConnectionRefusedError"


def test_the_dataset_is_readable_and_read_only(jailed_facts):
    facts, data = jailed_facts
    assert facts["data"] == '{"Records": []}'
    assert facts["data write"] == "Read-only file system"
    assert not (data / "planted.json").exists()


@pytest.mark.parametrize("level", [NAMESPACES, LIMITS], ids=["namespaces", "limits"])
def test_the_kernel_is_reached_over_unix_sockets_at_the_weaker_levels(tmp_path, monkeypatch, level):
    use_level(monkeypatch, level)
    path = notebook(tmp_path, "import os\nhome = os.environ['HOME']\nimport grader")
    run = run_notebook(path)
    assert run.failure.ename == "ModuleNotFoundError"
    assert "learner code runs without the grader" in run.failure.evalue
    assert run.cells[0].status == "error"


def test_the_folder_a_killed_grading_process_left_is_removed(tmp_path):
    from subprocess import Popen

    from grader.grading import notebook as module

    ended = Popen(["true"])
    ended.wait()
    left = Path("/tmp") / f"{module.FOLDER_PREFIX}{ended.pid}-left"
    left.mkdir()
    (left / "kernel.json").write_text("{}")
    made = module._private_folder()
    try:
        assert not left.exists()
        assert made.name.startswith(f"{module.FOLDER_PREFIX}{os.getpid()}-")
    finally:
        made.rmdir()
