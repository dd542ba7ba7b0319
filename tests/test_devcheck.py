"""Does `grader dev check` catch each way a contributor can leave a lab incomplete?"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from grader.course.devcheck import static_problems
from grader.course.labs import CHECKS_DIR, load_course
from tests.conftest import copy_course, run_grader


@pytest.fixture
def course(tmp_path) -> Path:
    """A copy of the real course (labs, solutions, docs, and the checks in checks/) to break
    on purpose."""
    root = copy_course(tmp_path / "course")
    shutil.copytree(CHECKS_DIR, root / "checks", ignore=shutil.ignore_patterns("__pycache__"))
    return root


def problems(root: Path) -> list[str]:
    return static_problems(load_course(root, checks_dir=root / "checks").lab("lab3"))


def test_the_real_course_passes_dev_check():
    done = run_grader("dev", "check", timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "✔ lab3" in done.stdout


def test_a_complete_copy_has_no_static_problems(course):
    assert problems(course) == []


def test_missing_solution_file_is_named(course):
    (course / "solutions" / "lab3" / "viewer-policy.json").unlink()
    assert any("solutions/lab3/viewer-policy.json is missing" in p for p in problems(course))


def test_missing_checks_module_and_docs_page_are_named(course):
    (course / "checks" / "lab3.py").unlink()
    (course / "docs" / "least-privilege" / "lab3.md").unlink()
    found = " ".join(problems(course))
    assert (
        "checks module checks/lab3.py is missing" in found
        and "docs/least-privilege/lab3.md is missing" in found
    )


def test_check_without_docstring_is_named(course):
    module = course / "checks" / "lab3.py"
    text = module.read_text()
    module.write_text(
        text.replace(
            '    """The viewer changes nothing: no Write, Tagging or Permissions management action."""\n',
            "",
            1,
        )
    )
    assert any(
        "test_viewer_changes_nothing: the check has no docstring" in p for p in problems(course)
    )


def test_empty_hint_and_starter_without_todo_are_named(course):
    toml = course / "labs" / "lab3" / "lab.toml"
    toml.write_text(toml.read_text() + '\n[[hints]]\ntask = 1\ntext = "  "\n')
    starter = course / "labs" / "lab3" / "operator-policy.json"
    starter.write_text(starter.read_text().replace("TODO", "Done"))
    found = " ".join(problems(course))
    assert "is empty" in found and "has no TODO" in found


def test_a_starter_that_already_passes_is_caught(course):
    for name in ("viewer-policy.json", "operator-policy.json"):
        text = (course / "solutions" / "lab3" / name).read_text()
        # keep a TODO marker so only the graded invariant is at stake
        (course / "labs" / "lab3" / name).write_text(text.replace('"Sid": "', '"Sid": "TODO', 1))
    synced = run_grader("--course", str(course), "dev", "sync-starters", "lab3")
    assert synced.returncode == 0 and "viewer-policy.json" in synced.stdout
    done = run_grader("--course", str(course), "dev", "check", timeout=300)
    assert done.returncode == 1
    assert "passes every check" in done.stdout


def test_a_wrong_chapter_in_lab_toml_lists_the_allowed_values(course):
    toml = course / "labs" / "lab3" / "lab.toml"
    toml.write_text(toml.read_text().replace('chapter = "least-privilege"', 'chapter = "iam"'))
    done = run_grader("--course", str(course), "list")
    assert done.returncode == 2
    assert "Value 'iam' at 'chapter' failed to satisfy constraint" in done.stderr
    assert "[edge, waf, least-privilege, fapi, siem]" in done.stderr


@pytest.mark.parametrize("value", ["8", "100000", '"1G"'])
def test_a_learner_memory_limit_out_of_range_is_refused(course, value):
    toml = course / "labs" / "lab4" / "lab.toml"
    toml.write_text(f"learner_memory_mb = {value}\n" + toml.read_text())
    done = run_grader("--course", str(course), "list")
    assert done.returncode == 2
    assert "at 'learner_memory_mb' failed to satisfy constraint" in done.stderr


def test_a_starter_edited_without_its_pristine_copy_is_named_with_the_fix(course):
    starter = course / "labs" / "lab3" / "viewer-policy.json"
    starter.write_text(starter.read_text().replace("TODO", "TODO (edited)"))
    found = " ".join(problems(course))
    assert ".starter/ differ from the starter files (viewer-policy.json)" in found
    assert "grader dev sync-starters lab3" in found


def test_sync_starters_makes_the_pristine_copies_equal(course):
    starter = course / "labs" / "lab3" / "operator-policy.json"
    starter.write_text(starter.read_text().replace("TODO", "TODO (edited)"))
    done = run_grader("--course", str(course), "dev", "sync-starters")
    assert done.returncode == 0 and "lab3: operator-policy.json" in done.stdout
    assert "lab4: already in sync" in done.stdout
    assert (course / "labs" / "lab3" / ".starter" / "operator-policy.json").read_text() == (
        starter.read_text()
    )
    assert problems(course) == []
