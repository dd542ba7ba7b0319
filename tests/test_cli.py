"""The real ``grader`` command, run in a subprocess as a learner or instructor would."""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from grader.course.checkinfo import read_checks
from grader.course.labs import CHECKS_DIR
from tests.conftest import COURSE, run_grader

# lab3's checks as the course ships them: how many, and how many points in all.
LAB3_CHECKS = read_checks(CHECKS_DIR / "lab3.py")
LAB3_POINTS = sum(check.points for check in LAB3_CHECKS)


def test_help_lists_every_subcommand():
    done = run_grader("--help")
    assert done.returncode == 0
    for command in (
        "list",
        "check",
        "hint",
        "reset",
        "watch",
        "doctor",
        "dev",
        "iam",
        "trail",
        "waf",
        "edge",
        "fapi",
    ):
        assert command in done.stdout


def test_unknown_lab_is_a_usage_error():
    done = run_grader("check", "lab99")
    assert done.returncode == 2
    assert "no lab 'lab99'" in done.stderr and "lab3" in done.stderr
    assert "Traceback" not in done.stderr


def test_missing_argument_is_a_usage_error():
    assert run_grader("check").returncode == 2


def test_outside_a_course_says_how_to_find_one(tmp_path):
    done = run_grader("list", cwd=tmp_path)
    assert done.returncode == 2
    assert "--course DIR" in done.stderr


def test_course_is_found_from_a_subfolder():
    done = run_grader("list", cwd=COURSE / "labs" / "lab3" / "data")
    assert done.returncode == 0 and "lab3" in done.stdout


def test_starter_fails_with_expected_found_todo_and_docs(lab3_copy):
    done = run_grader("check", "lab3", "--path", str(lab3_copy))
    assert done.returncode == 1
    out = done.stdout
    assert "FAIL" in out and "PASS" in out
    assert "expected:" in out and "found:" in out and "to do:" in out
    assert "read: http://127.0.0.1:8000/least-privilege/lab3.html#task-1" in out
    assert "Score:" in out and "\x1b[" not in out  # plain text when not a terminal


def test_solution_passes_and_exits_zero(lab3_solved):
    done = run_grader("check", "lab3", "--path", str(lab3_solved), "--json")
    assert done.returncode == 0, done.stdout
    result = json.loads(done.stdout)
    assert result["passed"] and result["score"] == result["max_score"] > 0
    assert {c["status"] for c in result["checks"]} == {"passed"}


def test_json_and_junit_agree(lab3_copy, tmp_path):
    junit = tmp_path / "report.xml"
    done = run_grader(
        "check", "lab3", "--path", str(lab3_copy), "--json", "--seed", "5", "--junit", str(junit)
    )
    result = json.loads(done.stdout)
    assert result["seed"] == 5
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite.get("name") == "lab3"
    assert int(suite.get("tests")) == len(result["checks"])
    failed = sum(c["status"] == "failed" for c in result["checks"])
    assert int(suite.get("failures")) == failed > 0


def test_broken_json_shows_file_line_column_and_no_traceback(lab3_copy):
    (lab3_copy / "viewer-policy.json").write_text(
        '{\n  "Version": "2012-10-17",\n  "Statement": [\n}\n'
    )
    done = run_grader("check", "lab3", "--path", str(lab3_copy))
    assert done.returncode == 1
    assert "viewer-policy.json:4:1: not valid JSON" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr
    assert "SKIP" in done.stdout  # the checks after the failed gate are skipped


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "the file is empty"),
        (b'[{"Effect": "Allow"}]', "holds an array"),
        (b'{"Sid": "caf\xe9"}', "not valid UTF-8"),
        (
            b'{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "ec2:*"}}',
            "Policy statement must contain resources.",
        ),
    ],
)
def test_bad_learner_file_is_a_failed_gate_with_its_reason(lab3_copy, content, message):
    (lab3_copy / "operator-policy.json").write_bytes(content)
    done = run_grader("check", "lab3", "--path", str(lab3_copy))
    assert done.returncode == 1
    assert message in done.stdout and "operator-policy.json" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr


def test_skip_lines_name_the_gate_once(lab3_copy):
    (lab3_copy / "operator-policy.json").write_text("{ not json")
    done = run_grader("check", "lab3", "--path", str(lab3_copy), env={"NO_COLOR": "1"})
    skips = [line.strip() for line in done.stdout.splitlines() if line.startswith("    skipped")]
    assert len(skips) > 2, done.stdout
    assert skips[0].startswith("skipped until this passes: ")
    assert set(skips[1:]) == {"skipped until the same check passes"}


def test_missing_learner_file(lab3_copy):
    (lab3_copy / "viewer-policy.json").unlink()
    done = run_grader("check", "lab3", "--path", str(lab3_copy))
    assert done.returncode == 1 and "viewer-policy.json: no such file" in done.stdout


def test_path_must_exist(tmp_path):
    done = run_grader("check", "lab3", "--path", str(tmp_path / "nowhere"))
    assert done.returncode == 2 and "no such folder" in done.stderr


def test_list_shows_status_from_progress(course_clone):
    before = run_grader("list", cwd=course_clone)
    assert "not started" in before.stdout
    run_grader("check", "lab3", cwd=course_clone)
    after = run_grader("list", cwd=course_clone)
    assert f"of {len(LAB3_CHECKS)} checks passing" in after.stdout.replace("\n", " ")


def test_corrupt_progress_is_rebuilt_with_a_one_line_notice(course_clone):
    (course_clone / ".grader").mkdir()
    (course_clone / ".grader" / "progress.json").write_text("{not json")
    done = run_grader("list", cwd=course_clone)
    assert done.returncode == 0 and "not started" in done.stdout
    notice = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(notice) == 1 and "was rebuilt because it was not valid JSON" in notice[0]
    assert "saved lab results and hint counts were lost" in notice[0]
    assert (course_clone / ".grader" / "progress.json.corrupt").read_text() == "{not json"
    run_grader("hint", "lab3", cwd=course_clone)
    assert (
        json.loads((course_clone / ".grader" / "progress.json").read_text())["labs"]["lab3"][
            "hints_seen"
        ]
        == 1
    )


def test_hints_come_one_at_a_time_and_are_remembered(course_clone):
    first = run_grader("hint", "lab3", cwd=course_clone)
    second = run_grader("hint", "lab3", cwd=course_clone)
    assert "Hint 1 of" in first.stdout and "Hint 2 of" in second.stdout
    every = run_grader("hint", "lab3", "--all", cwd=course_clone)
    assert every.stdout.count("Hint ") >= 5
    after = run_grader("hint", "lab3", cwd=course_clone)
    assert "seen all" in after.stdout


def test_reset_backs_up_then_restores_the_starter(course_clone):
    viewer = course_clone / "labs" / "lab3" / "viewer-policy.json"
    starter = viewer.read_text()
    viewer.write_text("my work in progress")
    done = run_grader("reset", "lab3", cwd=course_clone)
    assert done.returncode == 0, done.stderr
    assert viewer.read_text() == starter
    backups = list((course_clone / ".grader" / "backups").glob("lab3-*"))
    assert (
        len(backups) == 1
        and (backups[0] / "viewer-policy.json").read_text() == "my work in progress"
    )
    assert str(backups[0].name) in done.stdout.replace("\n", "")


def _git(course: Path, *args: str) -> None:
    git = ["git", "-C", str(course), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, *args], check=True, capture_output=True)


def test_reset_gives_the_starters_even_after_the_learner_commits(course_clone):
    viewer = course_clone / "labs" / "lab3" / "viewer-policy.json"
    starter = viewer.read_text()
    _git(course_clone, "init", "-q")
    viewer.write_text('{"mine": true}')
    _git(course_clone, "add", "-A")
    _git(course_clone, "commit", "-qm", "my work")  # git HEAD now holds the learner's file
    done = run_grader("reset", "lab3", cwd=course_clone)
    assert done.returncode == 0, done.stderr
    assert viewer.read_text() == starter


def test_reset_works_in_a_course_that_is_not_a_git_clone(course_clone):
    assert not (course_clone / ".git").exists()  # as copied from a zip
    viewer = course_clone / "labs" / "lab3" / "viewer-policy.json"
    starter = viewer.read_text()
    viewer.write_text("mine")
    done = run_grader("reset", "lab3", cwd=course_clone)
    assert done.returncode == 0, done.stderr
    assert viewer.read_text() == starter


def test_reset_without_the_pristine_starters_changes_nothing(course_clone):
    shutil.rmtree(course_clone / "labs" / "lab3" / ".starter")
    viewer = course_clone / "labs" / "lab3" / "viewer-policy.json"
    viewer.write_text("mine")
    done = run_grader("reset", "lab3", cwd=course_clone)
    assert done.returncode == 2 and "Nothing was changed" in done.stderr
    assert "Traceback" not in done.stderr
    assert viewer.read_text() == "mine"


def test_a_progress_file_that_is_a_folder_is_one_line_and_exit_2(course_clone, lab3_copy):
    (course_clone / ".grader" / "progress.json").mkdir(parents=True)
    for args in (("list",), ("hint", "lab3"), ("check", "lab3")):
        done = run_grader(*args, cwd=course_clone)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and "progress.json: this is a folder" in lines[0], lines


def test_doctor_tests_the_offline_guard_live():
    done = run_grader("doctor")
    assert "offline guard" in done.stdout and "outside hosts refused" in done.stdout
    assert "lab3" in done.stdout


def test_doctor_asks_moto_a_question_through_the_sandbox_process():
    done = run_grader("doctor")
    assert "a process of its own; moto answered in" in done.stdout, done.stdout
    off = run_grader("doctor", env={"GRADER_NO_SANDBOX_PROCESS": "1"})
    assert "inside the grading process (GRADER_NO_SANDBOX_PROCESS is set)" in off.stdout


def test_doctor_says_how_learner_code_is_isolated_and_that_the_checks_are_intact():
    done = run_grader("doctor", env={"NO_COLOR": "1"})
    assert "learner code isolation" in done.stdout
    assert "grader/checks matches the shipped manifest" in done.stdout
    weaker = run_grader(
        "doctor", env={"NO_COLOR": "1", "GRADER_ISOLATION": "limits", "COLUMNS": "400"}
    )
    assert "limits only (your code shares your files" in weaker.stdout
    assert "GRADER_ISOLATION=limits" in weaker.stdout
    assert "install bubblewrap" in weaker.stdout or "needs Linux" in weaker.stdout


def test_check_says_when_learner_code_ran_with_weaker_isolation(course_clone):
    weaker = run_grader(
        "check", "lab4", "--seed", "2", cwd=course_clone, env={"GRADER_ISOLATION": "limits"}
    )
    footer = [line for line in weaker.stdout.splitlines() if "isolation" in line]
    assert len(footer) == 1 and "limits only" in footer[0], weaker.stdout
    labs_without_code = run_grader(
        "check", "lab3", "--seed", "2", cwd=course_clone, env={"GRADER_ISOLATION": "limits"}
    )
    assert "isolation" not in labs_without_code.stdout


def test_no_color_when_asked_even_on_a_forced_terminal(lab3_copy):
    done = run_grader(
        "check", "lab3", "--path", str(lab3_copy), env={"NO_COLOR": "1", "FORCE_COLOR": "1"}
    )
    assert "\x1b[3" not in done.stdout


def test_watch_rechecks_on_save(lab3_copy, lab3_solved):
    import os
    import sys
    import time

    proc = subprocess.Popen(
        [sys.executable, "-m", "grader.cli", "watch", "lab3", "--path", str(lab3_copy)],
        cwd=COURSE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.PIPE,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
    )
    import queue
    import threading

    incoming: queue.Queue[str] = queue.Queue()
    threading.Thread(
        target=lambda: [incoming.put(line) for line in proc.stdout], daemon=True
    ).start()
    try:
        lines: list[str] = []

        def wait_for(text: str, count: int) -> None:
            deadline = time.monotonic() + 60
            while sum(text in line for line in lines) < count:
                left = deadline - time.monotonic()
                assert left > 0, "".join(lines)
                with contextlib.suppress(queue.Empty):
                    lines.append(incoming.get(timeout=left))

        wait_for("Watching", 1)
        for name in ("viewer-policy.json", "operator-policy.json"):
            shutil.copy2(lab3_solved / name, lab3_copy / name)
        wait_for(f"Score: {LAB3_POINTS}/{LAB3_POINTS}", 1)  # the saved solution was graded
        wait_for("Watching", 2)
        proc.stdin.write("\n")
        proc.stdin.flush()
        wait_for(f"Score: {LAB3_POINTS}/{LAB3_POINTS}", 2)  # Enter re-checks too
    finally:
        proc.kill()
        proc.wait()
