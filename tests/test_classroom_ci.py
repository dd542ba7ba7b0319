"""The classroom CI workflow (`grader ci init`): its steps, the shell and Python it runs (run
here for real, on real `grader check` output), and how it is written into a repository."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from grader.cli import ci
from grader.course.classroom_ci import WORKFLOW_PATH, workflow_text, write_workflow
from grader.errors import GraderError
from tests.conftest import copy_course, run_grader


def steps() -> list[dict]:
    return yaml.safe_load(workflow_text())["jobs"]["grade"]["steps"]


def step(name_part: str) -> dict:
    (found,) = [s for s in steps() if name_part in s.get("name", "")]
    return found


def run_step(script: str, cwd: Path, **env: str) -> subprocess.CompletedProcess:
    """A step's `run:` as GitHub runs it (bash -e), with `grader` and `python` on PATH being
    this interpreter's."""
    bin_dir = cwd / ".bin"
    bin_dir.mkdir(exist_ok=True)
    for name, line in (
        ("grader", f'exec "{sys.executable}" -m grader.cli "$@"'),
        ("python", f'exec "{sys.executable}" "$@"'),
    ):
        shim = bin_dir / name
        shim.write_text(f"#!/bin/sh\n{line}\n")
        shim.chmod(0o755)
    full_env = {**os.environ, "NO_COLOR": "1", **env}
    full_env["PATH"] = f"{bin_dir}{os.pathsep}{full_env['PATH']}"
    return subprocess.run(
        ["bash", "-e", "-c", script],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=300,
    )


# ---------------------------------------------------------------- the workflow


def test_the_workflow_is_yaml_that_runs_on_push_and_pull_request_on_ubuntu():
    data = yaml.safe_load(workflow_text())
    triggers = data.get("on", data.get(True))  # YAML 1.1 reads a bare `on` as true
    assert set(triggers) == {"push", "pull_request"}
    assert data["jobs"]["grade"]["runs-on"] == "ubuntu-latest"
    assert workflow_text().endswith("\n")


def test_the_workflow_installs_python_311_bubblewrap_and_the_course_in_order():
    names = [s.get("uses") or s["run"] for s in steps()]
    assert names[0] == "actions/checkout@v4"
    assert names[1] == "actions/setup-python@v5"
    assert steps()[1]["with"]["python-version"] == "3.11"
    install = [
        i for i, s in enumerate(steps()) if "apt-get install -y bubblewrap" in s.get("run", "")
    ]
    course = [i for i, s in enumerate(steps()) if s.get("run", "").strip() == "pip install -e ."]
    grade = steps().index(step("Grade every lab"))
    assert install and course and install[0] < course[0] < grade


def test_the_grading_step_writes_junit_and_json_from_one_run_and_never_fails_itself():
    run = step("Grade every lab")["run"]
    assert "grader check --all --json --junit grader-results.xml > grader-results.json" in run
    assert run.splitlines()[0] == "set +e"
    assert 'echo "exit_code=$?" >> "$GITHUB_OUTPUT"' in run
    assert step("Grade every lab")["id"] == "grade"


def test_the_summary_and_the_artifact_are_published_whatever_the_result_and_the_job_fails_last():
    order = [s.get("name") for s in steps()]
    summary, upload, last = step("Points per lab"), step("Upload"), steps()[-1]
    assert summary["if"] == "always()" and upload["if"] == "always()"
    assert upload["uses"] == "actions/upload-artifact@v4"
    assert upload["with"]["path"] == "grader-results.xml"
    assert order.index(summary["name"]) > order.index("Grade every lab")
    assert order.index(upload["name"]) < len(order) - 1
    assert "steps.grade.outputs.exit_code != '0'" in last["if"]
    assert "exit 1" in last["run"]


def test_the_junit_option_the_workflow_uses_exists_and_takes_a_file():
    from grader.cli import build_parser

    args = build_parser().parse_args(["check", "--all", "--json", "--junit", "grader-results.xml"])
    assert args.all and args.json and args.junit == Path("grader-results.xml")


# ---------------------------------------------------------------- its scripts, run for real


def test_the_summary_script_writes_lab3s_points_from_a_real_check(tmp_path):
    checked = run_grader("check", "lab3", "--json")
    assert checked.returncode == 1, checked.stderr  # the starter fails
    result = json.loads(checked.stdout)
    (tmp_path / "grader-results.json").write_text(checked.stdout)
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step's summary\n")

    done = run_step(step("Points per lab")["run"], tmp_path, GITHUB_STEP_SUMMARY=str(summary))

    assert done.returncode == 0, done.stderr
    text = summary.read_text()
    assert text.startswith("earlier step's summary\n")  # appended, never overwritten
    points = f"{result['score']}/{result['max_score']}"
    checks = f"{result['passed_checks']}/{result['total_checks']}"
    assert f"| lab3 | {result['title']} | {points} | {checks} | not yet |" in text
    assert f"**Total: {points} points**" in text


def test_the_summary_says_so_when_grading_left_no_results(tmp_path):
    summary = tmp_path / "summary.md"
    (tmp_path / "grader-results.json").write_text("")  # grading stopped before printing

    done = run_step(step("Points per lab")["run"], tmp_path, GITHUB_STEP_SUMMARY=str(summary))

    assert done.returncode == 0, done.stderr
    assert "No results" in summary.read_text()
    assert "| lab" not in summary.read_text()


def test_the_grading_step_keeps_a_failure_for_the_last_step_and_writes_both_reports(tmp_path):
    course = copy_course(tmp_path / "course")
    for lab in (course / "labs").iterdir():  # --all over lab3 alone keeps the test quick
        if lab.name != "lab3":
            shutil.rmtree(lab)
    outputs = tmp_path / "github-output"

    done = run_step(step("Grade every lab")["run"], course, GITHUB_OUTPUT=str(outputs))

    assert done.returncode == 0, done.stderr  # the step itself never stops the job
    assert outputs.read_text() == "exit_code=1\n"
    results = json.loads((course / "grader-results.json").read_text())
    assert [r["lab"] for r in results] == ["lab3"]
    suite = ET.parse(course / "grader-results.xml").getroot().find("testsuite")
    assert suite.get("name") == "lab3"
    assert int(suite.get("failures")) == sum(c["status"] == "failed" for c in results[0]["checks"])


# ---------------------------------------------------------------- writing it


def test_writing_twice_leaves_the_same_file_untouched(tmp_path):
    first = write_workflow(tmp_path)
    assert first == tmp_path / WORKFLOW_PATH
    stamp = first.stat().st_mtime_ns
    os.utime(first, ns=(stamp - 10**9, stamp - 10**9))

    again = write_workflow(tmp_path)

    assert again == first and first.read_text() == workflow_text()
    assert first.stat().st_mtime_ns == stamp - 10**9  # not rewritten


def test_the_same_workflow_with_windows_line_ends_counts_as_the_same(tmp_path):
    target = tmp_path / WORKFLOW_PATH
    target.parent.mkdir(parents=True)
    target.write_bytes(workflow_text().replace("\n", "\r\n").encode())
    write_workflow(tmp_path)
    assert b"\r\n" in target.read_bytes()


def test_a_different_workflow_is_refused_without_force_and_replaced_with_it(tmp_path):
    target = tmp_path / WORKFLOW_PATH
    target.parent.mkdir(parents=True)
    target.write_text("name: mine\n")

    with pytest.raises(GraderError, match=r"differs.*grader ci init --force"):
        write_workflow(tmp_path)
    assert target.read_text() == "name: mine\n"

    write_workflow(tmp_path, force=True)
    assert target.read_text() == workflow_text()


# ---------------------------------------------------------------- the command


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="grader")
    parser.add_argument("--course", type=Path)
    sub = parser.add_subparsers(dest="command", required=True)
    ci.register(sub)
    return parser.parse_args(list(argv))


def test_ci_init_writes_the_workflow_into_the_course_and_says_what_it_did(tmp_path, capsys):
    course = tmp_path / "course"
    (course / "labs").mkdir(parents=True)

    args = parse("--course", str(course), "ci", "init")
    assert args.run(args) == 0
    assert (course / WORKFLOW_PATH).read_text() == workflow_text()
    assert capsys.readouterr().out.startswith(f"wrote {course.resolve() / WORKFLOW_PATH}")

    ci.cmd_ci_init(parse("--course", str(course), "ci", "init"))
    assert "already the grader's workflow" in capsys.readouterr().out


def test_ci_init_keeps_an_instructors_own_workflow_unless_forced(tmp_path):
    course = tmp_path / "course"
    (course / "labs").mkdir(parents=True)
    target = course / WORKFLOW_PATH
    target.parent.mkdir(parents=True)
    target.write_text("name: mine\n")

    with pytest.raises(GraderError, match="--force"):
        ci.cmd_ci_init(parse("--course", str(course), "ci", "init"))
    assert target.read_text() == "name: mine\n"

    assert ci.cmd_ci_init(parse("--course", str(course), "ci", "init", "--force")) == 0
    assert target.read_text() == workflow_text()
