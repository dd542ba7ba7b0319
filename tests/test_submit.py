"""Does `grader submit` hand in only the lab's files, with the learner's history and hashes,
and is a submission zip read back as the untrusted input it is?"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import stat
import zipfile
from pathlib import Path

import pytest

from grader.course import load_course
from grader.grading.classroom_roster import read_declared
from grader.grading.submission import (
    MAX_FILE_BYTES,
    SubmissionRefused,
    history_path,
    learner_of_zip,
    read_submission,
)
from tests.conftest import COURSE, ROOT, run_grader

LAB3 = load_course(COURSE).lab("lab3")


def solve_lab3(course: Path) -> None:
    for path in (ROOT / "solutions" / "lab3").iterdir():
        shutil.copy2(path, course / "labs" / "lab3" / path.name)


def history(course: Path) -> list[dict]:
    return [json.loads(line) for line in history_path(course).read_text().splitlines()]


def test_each_check_run_adds_one_line_to_the_history(course_clone):
    solve_lab3(course_clone)
    for _ in range(2):
        done = run_grader("check", "lab3", "--seed", "7", cwd=course_clone)
        assert done.returncode == 0, done.stdout + done.stderr
    lines = history(course_clone)
    assert len(lines) == 2
    assert lines[0]["lab"] == "lab3" and lines[0]["seed"] == 7 and lines[0]["passed"] is True
    assert lines[0]["points"] == lines[0]["max"] > 0
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", lines[0]["time"])


def test_a_history_that_cannot_be_written_never_fails_the_check(course_clone):
    solve_lab3(course_clone)
    history_path(course_clone).mkdir(parents=True)  # a folder where the file should be
    done = run_grader("check", "lab3", cwd=course_clone)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Score: 20/20 points" in done.stdout


@pytest.fixture
def submitted(course_clone, tmp_path) -> tuple[Path, Path]:
    """lab3 solved and checked once, extra files beside it, then `grader submit`."""
    solve_lab3(course_clone)
    (course_clone / "labs" / "lab3" / "conftest.py").write_text("raise SystemExit\n")
    (course_clone / "labs" / "lab3" / "notes.txt").write_text("mine\n")
    assert run_grader("check", "lab3", cwd=course_clone).returncode == 0
    out = tmp_path / "handin"
    out.mkdir()
    done = run_grader("submit", "--name", "Ann Lee", "--out", str(out), cwd=course_clone)
    assert done.returncode == 0, done.stderr
    (zip_path,) = out.iterdir()
    return course_clone, zip_path


def test_submit_names_the_zip_after_the_learner_and_the_utc_time(submitted):
    _, zip_path = submitted
    assert re.match(r"^submission-Ann_Lee-\d{8}T\d{6}Z\.zip$", zip_path.name)
    assert learner_of_zip(zip_path) == "Ann_Lee"


def test_submit_packs_only_the_changed_labs_declared_files_history_and_hashes(submitted):
    course, zip_path = submitted
    with zipfile.ZipFile(zip_path) as archive:
        names = set(archive.namelist())
        manifest = json.loads(archive.read("manifest.json"))
        lines = archive.read("history.jsonl").decode().splitlines()
        contents = {n: archive.read(n) for n in names}
    assert names == {
        "labs/lab3/viewer-policy.json",
        "labs/lab3/operator-policy.json",
        "history.jsonl",
        "manifest.json",
    }
    assert list(manifest["labs"]) == ["lab3"]  # the only lab changed from its starter
    for rel, digest in manifest["labs"]["lab3"]["files"].items():
        data = (course / "labs" / "lab3" / rel).read_bytes()
        assert (
            hashlib.sha256(data).hexdigest()
            == digest
            == hashlib.sha256(contents[f"labs/lab3/{rel}"]).hexdigest()
        )
    assert [json.loads(line)["lab"] for line in lines] == ["lab3"]


def test_a_submission_round_trips_to_the_same_bytes(submitted):
    course, zip_path = submitted
    sub = read_submission(zip_path, [LAB3])
    for rel in LAB3.files:
        assert sub.files["lab3"][rel] == (course / "labs" / "lab3" / rel).read_bytes()
    assert sub.history[0]["lab"] == "lab3" and sub.notes == []


def test_submit_with_named_labs_packs_those(course_clone, tmp_path):
    done = run_grader("submit", "lab5", "--name", "x", "--out", str(tmp_path), cwd=course_clone)
    assert done.returncode == 0, done.stderr
    (zip_path,) = tmp_path.glob("*.zip")
    with zipfile.ZipFile(zip_path) as archive:
        assert json.loads(archive.read("manifest.json"))["labs"].keys() == {"lab5"}


def test_a_file_edited_after_submit_is_graded_and_said(tmp_path):
    good = (ROOT / "solutions" / "lab3" / "viewer-policy.json").read_bytes()
    path = tmp_path / "submission-a-20260101T000000Z.zip"
    manifest = {"labs": {"lab3": {"files": {"viewer-policy.json": "0" * 64}}}}
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("labs/lab3/viewer-policy.json", good)
        archive.writestr("manifest.json", json.dumps(manifest))
    sub = read_submission(path, [LAB3])
    assert sub.files["lab3"]["viewer-policy.json"] == good
    assert sub.notes == ["lab3/viewer-policy.json differs from the hash in the manifest"]


def _link(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


@pytest.mark.parametrize(
    "entry, data, reason",
    [
        ("labs/lab3/../../../x.json", b"{}", "'..'"),
        ("../x.json", b"{}", "'..'"),
        ("/etc/cron.d/x", b"{}", "absolute path"),
        ("C:/x.json", b"{}", "absolute path"),
        (_link("labs/lab3/viewer-policy.json"), b"/etc/passwd", "symbolic link"),
        ("labs/lab3/viewer-policy.json", b"\0" * (2 * 1024 * 1024), "zip bomb"),
        ("labs/lab3/big.json", b"\0" * (MAX_FILE_BYTES + 1), "unpacks to"),
        ("not-a-zip", None, "not a readable zip"),
    ],
)
def test_an_unsafe_zip_is_refused_whole_with_the_reason(tmp_path, entry, data, reason):
    path = tmp_path / "submission-m-20260101T000000Z.zip"
    if data is None:
        path.write_text("hello")
    else:
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(entry, data)
    with pytest.raises(SubmissionRefused, match=re.escape(reason)):
        read_submission(path, [LAB3])


def test_only_declared_files_are_taken_from_a_zip(tmp_path):
    path = tmp_path / "submission-m-20260101T000000Z.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("labs/lab3/viewer-policy.json", "{}")
        archive.writestr("labs/lab3/conftest.py", "x")
        archive.writestr("grader/checks/lab3.py", "x")
    assert read_submission(path, [LAB3]).files == {"lab3": {"viewer-policy.json": b"{}"}}


def test_a_folder_is_read_without_following_links_or_opening_pipes(tmp_path):
    (tmp_path / "real.json").write_text("{}")
    (tmp_path / "link.json").symlink_to(tmp_path / "real.json")
    (tmp_path / "sub").symlink_to("/etc")
    os.mkfifo(tmp_path / "pipe.json")
    assert read_declared(tmp_path, "real.json") == (b"{}", None)
    assert read_declared(tmp_path, "link.json")[1] == "link.json is a symbolic link: not taken"
    assert read_declared(tmp_path, "sub/passwd")[1] == "sub/passwd is a symbolic link: not taken"
    assert read_declared(tmp_path, "pipe.json")[1] == "pipe.json is not a regular file: not taken"
    assert read_declared(tmp_path, "none.json")[1] == "none.json is missing"
