"""Does `grader class grade` grade a whole class the same way, and can a learner cheat it?

One roster of synthetic learners (complete, partial, broken, hanging, cheating, unsafe zips,
a real `grader submit` zip, hostile names) is graded once, through the real CLI in a
subprocess, on two cheap labs (lab3: JSON policies; lab4: a generator that runs in the
jail), and the tests read what it wrote. Learners are graded in name order, so the cheater
``eve`` goes before the honest ``zed``.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import stat
import sys
import zipfile
from html.parser import HTMLParser
from pathlib import Path

import pytest

from grader.course import load_course
from grader.grading.classroom import grade_class
from tests.conftest import COURSE, ROOT, copy_course, make_course, run_grader

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="class grading needs the full jail (Linux)"
)

LABS = "lab3,lab4"
HOSTILE_NAME = "<img src=x onerror=alert(1)>"
FORMULA_NAME = "=1+1"
PWNED = "pwned-by-eve"


def put(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def copy_files(source: Path, target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    for path in source.iterdir():
        if path.is_file():
            shutil.copy2(path, target / path.name)


def zip_with(path: Path, entries: list[tuple[zipfile.ZipInfo | str, bytes]]) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for info, data in entries:
            archive.writestr(info, data)
    return path


def build_roster(base: Path) -> Path:
    roster = base / "roster"
    sol, starter = ROOT / "solutions", COURSE / "labs"
    # alice: complete, in a copy of the course
    copy_files(sol / "lab3", roster / "alice" / "labs" / "lab3")
    copy_files(sol / "lab4", roster / "alice" / "labs" / "lab4")
    # bob: partial, in a copy of labs/
    copy_files(starter / "lab3", roster / "bob" / "lab3")
    shutil.copy2(sol / "lab3" / "viewer-policy.json", roster / "bob" / "lab3")
    copy_files(starter / "lab4", roster / "bob" / "lab4")
    # carol: broken: invalid JSON, a missing file, a generator that crashes
    put(roster / "carol" / "lab3", "viewer-policy.json", '{"Version": "2012-10-17", ')
    put(roster / "carol" / "lab4", "generate_policy.py", "import os\nos._exit(3)\n")
    # dave: right policies, a generator that never returns
    copy_files(sol / "lab3", roster / "dave" / "lab3")
    copy_files(sol / "lab4", roster / "dave" / "lab4")
    put(
        roster / "dave" / "lab4",
        "generate_policy.py",
        "def generate(r, p):\n    while True: pass\n",
    )
    # eve: a conftest that passes everything, an edited copy of the checks, links to
    # /etc/passwd and to the instructor's solution, a generator that writes into zed's folder
    eve = roster / "eve"
    put(eve / "labs" / "lab3", "viewer-policy.json", '{"Version": "2012-10-17"}')
    put(
        eve / "labs" / "lab3",
        "conftest.py",
        "import pytest\n@pytest.hookimpl(hookwrapper=True)\n"
        "def pytest_runtest_makereport(item, call):\n"
        "    outcome = yield\n    outcome.get_result().outcome = 'passed'\n",
    )
    checks = eve / "grader" / "checks"
    checks.mkdir(parents=True)
    (checks / "lab3.py").write_text("def test_everything():\n    pass\n")
    (eve / "labs" / "lab3" / "operator-policy.json").symlink_to(
        ROOT / "solutions" / "lab3" / "operator-policy.json"
    )
    zed_file = roster / "zed" / "labs" / "lab4" / "generate_policy.py"
    put(
        eve / "labs" / "lab4",
        "generate_policy.py",
        "import pathlib\n"
        "def generate(records, arn):\n"
        f"    for target in ({str(zed_file)!r}, {str(roster / PWNED)!r},\n"
        "                   '../../zed/labs/lab4/generate_policy.py'):\n"
        "        try:\n"
        "            pathlib.Path(target).write_text('def generate(r, p):\\n    return {}\\n')\n"
        "        except OSError:\n"
        "            pass\n"
        "    return {}\n",
    )
    (eve / "labs" / "lab4" / "deploy-role-policy.json").symlink_to("/etc/passwd")
    # zed: honest and complete, graded after eve
    copy_files(sol / "lab3", roster / "zed" / "labs" / "lab3")
    copy_files(sol / "lab4", roster / "zed" / "labs" / "lab4")
    # zips that must be refused
    good = (sol / "lab3" / "viewer-policy.json").read_bytes()
    zip_with(
        roster / "submission-mallory-20260101T000000Z.zip",
        [("labs/lab3/viewer-policy.json", good), ("../../escaped.json", b"{}")],
    )
    zip_with(roster / "submission-oscar-20260101T000000Z.zip", [("/tmp/abs.json", b"{}")])
    link = zipfile.ZipInfo("labs/lab3/viewer-policy.json")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    zip_with(roster / "submission-trudy-20260101T000000Z.zip", [(link, b"/etc/passwd")])
    zip_with(
        roster / "submission-bomber-20260101T000000Z.zip",
        [("labs/lab3/viewer-policy.json", b"\0" * (2 * 1024 * 1024))],
    )
    # peggy: a real `grader submit` zip, from her own copy of the course
    course = copy_course(base / "peggy-course")
    copy_files(sol / "lab3", course / "labs" / "lab3")
    done = run_grader("submit", "--name", "peggy", "--out", str(roster), cwd=course)
    assert done.returncode == 0, done.stderr
    # names a spreadsheet or a browser would run
    (roster / HOSTILE_NAME).mkdir()
    (roster / FORMULA_NAME).mkdir()
    return roster


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> dict:
    base = tmp_path_factory.mktemp("class")
    roster = build_roster(base)
    before = {p: p.read_bytes() for p in (roster / "zed").rglob("*") if p.is_file()}
    out = base / "out"
    done = run_grader(
        "class", "grade", str(roster), "--labs", LABS, "--jobs", "2", "--out", str(out)
    )
    assert done.returncode == 0, done.stdout + done.stderr
    book = json.loads((out / "gradebook.json").read_text())
    return {
        "base": base,
        "roster": roster,
        "out": out,
        "stdout": done.stdout,
        "book": book,
        "learners": {entry["name"]: entry for entry in book["learners"]},
        "zed_before": before,
    }


def lab(graded: dict, learner: str, lab_id: str) -> dict:
    return graded["learners"][learner]["labs"][lab_id]


def checks_of(result: dict, status: str) -> list[dict]:
    return [c for c in result["checks"] if c["status"] == status]


def test_every_learner_of_the_roster_is_in_the_gradebook(graded):
    assert set(graded["learners"]) == {
        "alice", "bob", "carol", "dave", "eve", "zed", "mallory", "oscar", "trudy",
        "bomber", "peggy", HOSTILE_NAME, FORMULA_NAME,
    }  # fmt: skip


def test_a_complete_learner_scores_every_point(graded):
    for lab_id in ("lab3", "lab4"):
        result = lab(graded, "alice", lab_id)
        assert result["score"] == result["max_score"] > 0, result["problem"]


def test_a_partial_learner_scores_between_nothing_and_everything(graded):
    result = lab(graded, "bob", "lab3")
    assert 0 < result["score"] < result["max_score"]


def test_broken_files_score_what_they_earn_and_never_stop_the_run(graded):
    lab3, lab4 = lab(graded, "carol", "lab3"), lab(graded, "carol", "lab4")
    assert lab3["score"] == 0 and "operator-policy.json is missing" in lab3["notes"]
    assert any("not valid JSON" in (c["found"] or "") for c in lab3["checks"])
    assert lab4["score"] == 0 and lab4["checks"]
    assert lab(graded, "zed", "lab3")["score"] > 0  # the run went on after her


def test_hanging_code_is_stopped_and_the_learners_other_work_still_counts(graded):
    lab3, lab4 = lab(graded, "dave", "lab3"), lab(graded, "dave", "lab4")
    assert lab3["score"] == lab3["max_score"]
    assert lab4["score"] < lab4["max_score"]
    said = json.dumps(lab4["checks"]).lower()
    assert "time" in said or "longer than" in said


def test_a_cheater_gets_nothing_from_a_conftest_edited_checks_or_links(graded):
    lab3 = lab(graded, "eve", "lab3")
    assert lab3["score"] == 0
    assert len(lab3["checks"]) > 1  # the instructor's checks, not her one-test copy
    assert "operator-policy.json is a symbolic link: not taken" in lab3["notes"]
    lab4 = lab(graded, "eve", "lab4")
    assert "deploy-role-policy.json is a symbolic link: not taken" in lab4["notes"]
    assert lab4["score"] < lab4["max_score"]


def test_a_cheater_graded_before_an_honest_learner_changes_nothing_of_theirs(graded):
    for lab_id in ("lab3", "lab4"):
        result = lab(graded, "zed", lab_id)
        assert result["score"] == result["max_score"] > 0
    after = {p: p.read_bytes() for p in (graded["roster"] / "zed").rglob("*") if p.is_file()}
    assert after == graded["zed_before"]
    assert not (graded["roster"] / PWNED).exists()


@pytest.mark.parametrize(
    "learner, reason",
    [
        ("mallory", "climbs out of the zip with '..'"),
        ("oscar", "is an absolute path"),
        ("trudy", "is a symbolic link"),
        ("bomber", "zip bomb"),
    ],
)
def test_an_unsafe_zip_is_refused_for_its_learner_with_a_clear_reason(graded, learner, reason):
    entry = graded["learners"][learner]
    assert reason in entry["refused"]
    assert entry["points"] == 0 and entry["max"] > 0
    assert f"refused {learner}:" in graded["stdout"]
    assert not (graded["base"] / "escaped.json").exists()


def test_a_submission_zip_made_by_grader_submit_is_graded_like_a_folder(graded):
    result = lab(graded, "peggy", "lab3")
    assert result["score"] == result["max_score"] > 0
    assert lab(graded, "peggy", "lab4")["problem"] == "no file of this lab was submitted"


def test_every_output_says_which_isolation_was_used(graded):
    out = graded["out"]
    assert graded["book"]["isolation"] == "full"
    rows = list(csv.DictReader((out / "gradebook.csv").open()))
    assert {row["isolation"] for row in rows} == {"full"}
    assert 'id="isolation">full<' in (out / "report.html").read_text()
    assert "with full isolation" in (out / "feedback" / "alice.md").read_text()


def test_the_csv_has_points_per_lab_and_a_column_per_check(graded):
    rows = {row["learner"]: row for row in csv.DictReader((graded["out"] / "gradebook.csv").open())}
    alice = rows["alice"]
    assert alice["lab3"] == alice["lab3 max"] != "0"
    assert alice["lab3:test_both_policies_are_valid_iam"] == "passed"
    assert rows["carol"]["lab3:test_both_policies_are_valid_iam"] == "failed"


def test_names_a_spreadsheet_would_run_are_quoted_in_the_csv(graded):
    learners = [row[0] for row in csv.reader((graded["out"] / "gradebook.csv").open())]
    assert "'" + FORMULA_NAME in learners and FORMULA_NAME not in learners


class Page(HTMLParser):
    """What the tests look for in report.html: tags, charts and their bars, tables, text."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.svg: str | None = None
        self.bars: dict[str, int] = {}
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        if tag == "svg":
            self.svg = attrs.get("id")
            self.bars[self.svg] = 0
        elif tag == "rect" and self.svg:
            self.bars[self.svg] += 1

    def handle_endtag(self, tag):
        if tag == "svg":
            self.svg = None

    def handle_data(self, data):
        self.text.append(data)


@pytest.fixture(scope="module")
def page(graded) -> Page:
    parsed = Page()
    parsed.feed((graded["out"] / "report.html").read_text())
    return parsed


def test_the_report_draws_its_three_charts_as_inline_svg(page, graded):
    lab3_checks = len(lab(graded, "alice", "lab3")["checks"])
    lab4_checks = len(lab(graded, "alice", "lab4")["checks"])
    assert page.bars["pass-rate"] == lab3_checks + lab4_checks
    assert 1 <= page.bars["most-failed"] <= 10
    assert page.bars["score-distribution"] == 10


def test_the_report_has_a_table_per_learner(page, graded):
    tables = [a for t, a in page.tags if t == "table" and a.get("class") == "learner-table"]
    assert len(tables) == len(graded["learners"])


def test_the_report_is_self_contained(page):
    assert not [t for t, _ in page.tags if t in ("script", "link", "iframe", "img", "object")]
    assert not [a for _, a in page.tags if "src" in a or a.get("href", "").startswith("http")]


def test_a_name_the_learner_chose_is_shown_as_text_never_as_html(page):
    assert any(HOSTILE_NAME in text for text in page.text)  # shown, and no <img> (above)


def test_feedback_gives_each_failed_check_its_message_and_hint(graded):
    text = (graded["out"] / "feedback" / "bob.md").read_text()
    result = lab(graded, "bob", "lab3")
    failed = checks_of(result, "failed")
    assert failed
    hints = load_course(COURSE).lab("lab3").hints
    for check in failed:
        assert check["sentence"] in text
        hint = next(h.text for h in hints if h.task == check["task"])
        assert hint.splitlines()[0] in text
    assert "test_viewer_sees_ec2_and_vpc" not in text  # passed checks are not listed
    assert (graded["out"] / "feedback" / "img_src_x_onerror_alert_1.md").is_file()


def test_a_rerun_grades_nothing_and_a_changed_file_is_graded_again(graded, tmp_path):
    roster, out = tmp_path / "roster", tmp_path / "out"
    shutil.copytree(graded["roster"], roster, symlinks=True)
    shutil.copytree(graded["out"], out)
    again = run_grader("class", "grade", str(roster), "--labs", LABS, "--out", str(out))
    assert again.returncode == 0, again.stderr
    book = json.loads((out / "gradebook.json").read_text())
    assert book["graded"] == 0 and book["reused"] > 0
    shutil.copy2(ROOT / "solutions" / "lab3" / "operator-policy.json", roster / "bob" / "lab3")
    again = run_grader("class", "grade", str(roster), "--labs", LABS, "--out", str(out))
    book = json.loads((out / "gradebook.json").read_text())
    assert book["graded"] == 1
    bob = next(e for e in book["learners"] if e["name"] == "bob")["labs"]["lab3"]
    assert bob["score"] == bob["max_score"] and not bob["cached"]


def test_every_learner_meets_the_same_hidden_inputs_and_a_rerun_keeps_them(graded, tmp_path):
    book = graded["book"]
    seeds = {
        result["seed"]
        for entry in book["learners"]
        for result in entry["labs"].values()
        if result["checks"] and not result["problem"]  # graded, not settled without running
    }
    assert seeds == {book["seed"]}
    assert (
        f'<strong id="seed">{book["seed"]}</strong>' in (graded["out"] / "report.html").read_text()
    )
    # a re-run keeps the seed (unchanged work is reused); another seed grades everything again
    out = tmp_path / "out"
    shutil.copytree(graded["out"], out)
    again = run_grader("class", "grade", str(graded["roster"]), "--labs", LABS, "--out", str(out))
    assert json.loads((out / "gradebook.json").read_text())["seed"] == book["seed"], again.stderr
    other = book["seed"] + 1
    again = run_grader(
        "class", "grade", str(graded["roster"]), "--labs", "lab3", "--out", str(out),
        "--seed", str(other),
    )  # fmt: skip
    redone = json.loads((out / "gradebook.json").read_text())
    assert redone["seed"] == other and redone["reused"] == 0 and redone["graded"] > 0, again.stderr


def test_below_full_isolation_the_class_is_refused_unless_allowed(tmp_path):
    roster, out = tmp_path / "roster", tmp_path / "out"
    copy_files(ROOT / "solutions" / "lab3", roster / "alice" / "lab3")
    weak = {"GRADER_ISOLATION": "limits"}
    refused = run_grader(
        "class", "grade", str(roster), "--labs", "lab3", "--out", str(out), env=weak
    )
    assert refused.returncode == 2
    assert "--allow-weaker-isolation" in refused.stderr and not out.exists()
    allowed = run_grader(
        "class", "grade", str(roster), "--labs", "lab3", "--out", str(out),
        "--allow-weaker-isolation", env=weak,
    )  # fmt: skip
    assert allowed.returncode == 0, allowed.stderr
    assert json.loads((out / "gradebook.json").read_text())["isolation"] == "limits only"
    assert "limits only" in (out / "report.html").read_text()


def test_a_roster_that_is_not_a_folder_is_a_usage_error(tmp_path):
    done = run_grader("class", "grade", str(tmp_path / "nowhere"))
    assert done.returncode == 2 and "no such folder" in done.stderr
    assert os.listdir(tmp_path) == []


ONE_CHECK = """
import json
import pytest

@pytest.mark.check(task=1, points={points})
def test_the_answer(lab_dir):
    \"\"\"The answer is 42.\"\"\"
    assert json.loads((lab_dir / "answer.json").read_text())["answer"] == 42
"""


def test_an_edited_check_grades_its_lab_again_even_for_unchanged_files(tmp_path):
    root = make_course(tmp_path / "course", "lab9", ONE_CHECK.format(points=1))
    course = load_course(root, checks_dir=root / "checks")
    put(tmp_path / "roster" / "ann" / "lab9", "answer.json", '{"answer": 42}')
    grade = lambda: grade_class(course, tmp_path / "roster", tmp_path / "out")  # noqa: E731
    first = grade()
    assert (first.graded, first.reused) == (1, 0)
    assert grade().reused == 1
    (root / "checks" / "lab9.py").write_text(ONE_CHECK.format(points=3))
    third = grade()
    assert third.graded == 1
    (pair,) = third.pairs.values()
    assert pair.result.score == pair.result.max_score == 3


def test_a_pipe_or_a_link_named_like_a_submission_is_refused_without_being_opened(tmp_path):
    import threading

    from grader.grading.classroom_roster import read_roster

    roster = tmp_path / "roster"
    roster.mkdir()
    os.mkfifo(roster / "submission-piper-20260101T000000Z.zip")  # opening it would block
    real = zip_with(tmp_path / "elsewhere.zip", [("labs/lab3/viewer-policy.json", b"{}")])
    (roster / "submission-linker-20260101T000000Z.zip").symlink_to(real)
    labs = [load_course(COURSE).lab("lab3")]
    found: list = []
    reader = threading.Thread(target=lambda: found.extend(read_roster(roster, labs)), daemon=True)
    reader.start()
    reader.join(20)
    assert not reader.is_alive(), "the roster reader opened the pipe"
    refused = {learner.name: learner.refused for learner in found}
    assert set(refused) == {"piper", "linker"}
    assert all(reason and "not a regular file" in reason for reason in refused.values())


def test_a_changed_lab_file_grades_the_lab_again_even_for_unchanged_submissions(tmp_path):
    root = make_course(tmp_path / "course", "lab9", ONE_CHECK.format(points=1))
    course = load_course(root, checks_dir=root / "checks")
    put(tmp_path / "roster" / "ann" / "lab9", "answer.json", '{"answer": 42}')
    grade = lambda: grade_class(course, tmp_path / "roster", tmp_path / "out")  # noqa: E731
    assert grade().graded == 1
    assert grade().reused == 1
    put(course.lab("lab9").folder / "data", "notes.md", "a data file the checks may read\n")
    assert grade().graded == 1  # the lab's own files are part of what a grade depends on
