"""Is the README's quickstart what CI runs, and does the installed `grader` command work?"""

from __future__ import annotations

import json
import re
import shutil
import subprocess

from tests.conftest import COURSE, ROOT, run_grader

README = (ROOT / "README.md").read_text()
CI = (ROOT / ".ci" / "run").read_text()


SETUP = (
    'python3 -m venv .venv && . .venv/bin/activate && python -m pip install -e ".[dev]" '
    "&& grader check lab3"
)


def quickstart_commands() -> list[str]:
    return re.findall(r"```sh\n(.+?)\n```", README)


def test_quickstart_is_one_setup_line_in_a_virtual_environment_and_one_test_line():
    setup, tests = quickstart_commands()[:2]
    assert setup == SETUP  # works where the system Python refuses global installs
    assert tests == "python -m pytest"


def test_the_windows_setup_line_stands_beside_it():
    (windows,) = re.findall(r"```powershell\n(.+?)\n```", README)
    assert windows.startswith("py -m venv .venv; .venv\\Scripts\\Activate.ps1; ")
    assert windows.endswith('python -m pip install -e ".[dev]"; grader check lab3')


def test_ci_sets_up_as_the_readme_says_and_runs_its_test_command():
    ci = CI.replace(" --quiet --disable-pip-version-check", "")
    for step in quickstart_commands()[0].split(" && ")[:-1]:  # all but `grader check lab3`
        assert step in ci, step
    assert "python -m pytest" in CI
    assert "ipykernel install" in CI


def test_the_grader_console_script_is_installed_and_runs():
    exe = shutil.which("grader")
    assert exe, "the `grader` console script is not on PATH: is the project installed?"
    done = subprocess.run([exe, "list"], cwd=COURSE, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "lab3" in done.stdout


def test_check_all_gives_a_json_list():
    done = run_grader("check", "--all", "--json")
    results = json.loads(done.stdout)
    labs = sorted(p.parent.name for p in (COURSE / "labs").glob("*/lab.toml"))
    assert isinstance(results, list) and sorted(r["lab"] for r in results) == labs
    assert done.returncode == (0 if all(r["passed"] for r in results) else 1)
