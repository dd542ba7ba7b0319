"""lab7's hunt: does the reference notebook pass on a dataset it has never seen, does the
starter fail, does each answer check fail on the near-misses a hunter makes (the second
event for the first, one address of two, the bucket without its objects, a persistence item
forgotten, answers copied from the practice data, a chart of the wrong events) and pass on
equivalent answers (another order, another case where case does not matter, another way
to write an S3 object or a policy)? And does a notebook that raises, hangs, ignores
DATA_DIR or writes into the dataset fail the gate with a message naming its cell?

One hidden dataset is generated for the module; the reference notebook runs on it once
(its kernel in the real jail), and the answer table is judged by the real check functions
on that run with one answer changed. Three runs go through the real runner end to end.
"""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Callable, Iterator
from copy import deepcopy
from dataclasses import replace
from datetime import UTC, timedelta
from pathlib import Path
from typing import Any

import nbformat
import pytest

from grader.aws.siem.generate import generate
from grader.checks import lab7 as checks
from grader.checks import lab7_scenario as scenario
from grader.checks._support import CheckFailed
from grader.course.labs import load_course
from grader.grading import jail
from grader.grading.learner import LearnerCode
from grader.grading.runner import run_lab
from tests.conftest import COURSE, ROOT

LAB = load_course(COURSE).lab("lab7")
SOLUTION = ROOT / "solutions" / "lab7"
HIDDEN_SEED, PRACTICE_SEED = 23, 42
TASK = 7

GATE = checks.test_the_hunting_notebook_runs_clean_on_the_hidden_dataset
KEY = checks.test_the_hunt_names_the_access_key_the_intruder_used
IPS = checks.test_the_hunt_finds_every_network_the_intruder_used
FIRST = checks.test_the_hunt_finds_the_first_malicious_event
TAKEN = checks.test_the_hunt_finds_the_objects_that_were_taken
PERSIST = checks.test_the_hunt_lists_the_persistence_left_behind
CHART = checks.test_the_hunt_draws_the_intrusion_on_a_timeline
ANSWER_CHECKS = (KEY, IPS, FIRST, TAKEN, PERSIST, CHART)
ANSWER_KEYS = ("first_event_id", "access_key_id", "source_ips", "buckets", "objects", "persistence")


# ---------------------------------------------------------------- shared, once per module


@pytest.fixture(scope="module")
def hidden() -> Iterator[scenario.Hidden]:
    data = scenario.make_hidden(HIDDEN_SEED)
    try:
        yield data
    finally:
        data.close()


@pytest.fixture(scope="module")
def solved(hidden, tmp_path_factory) -> scenario.Hunt:
    """The reference notebook run on the hidden dataset, as the check's fixture runs it."""
    folder = tmp_path_factory.mktemp("solution")
    shutil.copy(SOLUTION / "hunt.ipynb", folder / "hunt.ipynb")
    hunt = scenario.run_hunt(LearnerCode(), folder, hidden)
    assert hunt.run is not None and hunt.run.ok, hunt.problem or hunt.run.failure
    return hunt


@pytest.fixture(scope="module")
def practice(tmp_path_factory) -> dict[str, Any]:
    """The ground truth of a practice dataset, as a learner would copy it into answers."""
    folder = tmp_path_factory.mktemp("practice") / "siem-practice"
    generate(folder, seed=PRACTICE_SEED, days=1)
    truth = json.loads((folder / "labels.json").read_text())["hunt"]
    shutil.rmtree(folder)
    return truth


def verdict(check: Callable[[scenario.Hunt], None], hunt: scenario.Hunt) -> CheckFailed | None:
    """The check's failure, or None when it passes."""
    try:
        check(hunt)
    except CheckFailed as failed:
        return failed
    return None


class Instead:
    """What a change returns to replace the answers whole (a change otherwise edits them)."""

    def __init__(self, value: Any) -> None:
        self.value = value


def with_answers(hunt: scenario.Hunt, change: Callable[[dict], Any]) -> scenario.Hunt:
    """The solution's run with its answers edited in place by ``change``, or replaced by
    the ``Instead`` it returns."""
    answers = deepcopy(hunt.answers)
    changed = change(answers)
    return replace(hunt, answers=changed.value if isinstance(changed, Instead) else answers)


def notebook_with(folder: Path, *cells: str, base: Path = SOLUTION / "hunt.ipynb") -> Path:
    """The reference notebook with code cells added at its end, in ``folder``."""
    nb = nbformat.read(base, as_version=4)
    nb.cells += [nbformat.v4.new_code_cell(source) for source in cells]
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, folder / "hunt.ipynb")
    return folder


# ---------------------------------------------------------------- end to end, the runner


def grade(folder: Path, notebook: Path, seed: int = 11) -> dict:
    """lab7 graded by the real runner: the solution's detections and this notebook."""
    lab = folder / "lab7"
    shutil.copytree(COURSE / "labs" / "lab7", lab)
    for name in LAB.files:
        if name != scenario.HUNT_FILE:
            (lab / name).write_text((SOLUTION / name).read_text())
    shutil.copy(notebook, lab / scenario.HUNT_FILE)
    result = run_lab(LAB, lab, seed=seed)
    assert result.problem is None, result.problem
    return {c.id: c for c in result.checks if c.task == TASK}


def test_the_solution_passes_every_hunt_check_through_the_runner(tmp_path):
    graded = grade(tmp_path, SOLUTION / "hunt.ipynb")
    assert {name for name in graded} == {c.__name__ for c in (GATE, *ANSWER_CHECKS)}
    assert {c.id: (c.found, c.fix) for c in graded.values() if c.status != "passed"} == {}


def test_the_starter_runs_clean_and_fails_every_answer(tmp_path):
    graded = grade(tmp_path, COURSE / "labs" / "lab7" / "hunt.ipynb", seed=3)
    assert graded[GATE.__name__].status == "passed"
    assert {c.id for c in graded.values() if c.status == "failed"} == {
        c.__name__ for c in ANSWER_CHECKS
    }
    assert graded[KEY.__name__].found == "it is empty"


def test_a_notebook_that_raises_fails_the_gate_with_its_cell_and_traceback(tmp_path):
    folder = notebook_with(tmp_path / "raises", "def boom():\n    return 1 / 0\n\nboom()")
    graded = grade(tmp_path, folder / "hunt.ipynb")
    gate = graded[GATE.__name__]
    assert gate.status == "failed"
    cells = len(nbformat.read(folder / "hunt.ipynb", as_version=4).cells)
    assert f"hunt.ipynb, cell {cells} of {cells}: ZeroDivisionError" in gate.found
    assert "in boom()" in gate.found and "return 1 / 0" in gate.found
    assert {c.status for c in graded.values() if c.id != GATE.__name__} == {"skipped"}


# ---------------------------------------------------------------- the gate, in process


def test_the_reference_notebook_answers_right_on_a_dataset_it_never_saw(solved):
    assert solved.run.seconds < scenario.HUNT_TIMEOUT / 4
    for check in (GATE, *ANSWER_CHECKS):
        assert verdict(check, solved) is None, check.__name__


def test_a_notebook_that_hangs_is_stopped_at_the_cell_time_limit(hidden, tmp_path):
    folder = notebook_with(tmp_path, "import time\nwhile True:\n    time.sleep(0.1)")
    hunt = scenario.run_hunt(LearnerCode(), folder, hidden, timeout=30, cell_timeout=3)
    failed = verdict(GATE, hunt)
    assert failed is not None
    assert "did not finish within 3 s" in failed.found and "cell" in failed.found
    assert "Python loop" in failed.fix


def test_a_notebook_that_ignores_data_dir_fails_because_the_jail_has_no_practice_data(
    hidden, tmp_path
):
    # The learner's own path after the parameters cell: the grader's DATA_DIR is lost.
    nb = nbformat.read(SOLUTION / "hunt.ipynb", as_version=4)
    opening = next(c for c in nb.cells if "open_cloudtrail(DATA_DIR)" in c.source)
    opening.source = opening.source.replace(
        "con = open_cloudtrail(DATA_DIR)", 'con = open_cloudtrail("~/siem-practice")'
    )
    (tmp_path / "own").mkdir()
    nbformat.write(nb, tmp_path / "own" / "hunt.ipynb")
    failed = verdict(GATE, scenario.run_hunt(LearnerCode(), tmp_path / "own", hidden))
    assert failed is not None
    assert "FileNotFoundError: no CloudTrail files" in failed.found
    assert "DATA_DIR" in failed.fix


def test_the_dataset_is_read_only_to_the_notebook(hidden, tmp_path):
    if jail.isolation().level is not jail.Level.FULL:
        pytest.skip("a read-only dataset needs the full jail (bubblewrap)")
    folder = notebook_with(tmp_path, "(Path(DATA_DIR) / 'labels.json').write_text('{}')")
    failed = verdict(GATE, scenario.run_hunt(LearnerCode(), folder, hidden))
    assert failed is not None and "Read-only file system" in failed.found
    assert not (hidden.folder / "labels.json").exists()


@pytest.mark.parametrize(
    "content, said",
    [(None, "there is no hunt.ipynb"), ('{"cells": 3}', "not a valid Jupyter notebook")],
    ids=["missing", "not-a-notebook"],
)
def test_a_missing_or_broken_notebook_fails_the_gate_saying_why(hidden, tmp_path, content, said):
    if content is not None:
        (tmp_path / "hunt.ipynb").write_text(content)
    failed = verdict(GATE, scenario.run_hunt(LearnerCode(), tmp_path, hidden))
    assert failed is not None and said in failed.found


# ---------------------------------------------------------------- wrong answers


def _second_event(a: dict, hunt: scenario.Hunt) -> None:
    ordered = sorted(hunt.times, key=lambda e: (hunt.times[e], e))
    a["first_event_id"] = ordered[1]


def _owner_key(a: dict, hunt: scenario.Hunt) -> None:
    owners = sorted(k for k in hunt.keys if k.startswith("AKIA") and k != a["access_key_id"])
    a["access_key_id"] = owners[0]


def _ordinary_event(a: dict, hunt: scenario.Hunt) -> None:
    a["first_event_id"] = sorted(hunt.all_ids - set(hunt.times))[0]


# (the check that must fail, how the solution's answers change, the mistake)
WRONG: list[tuple[Callable, Callable[[dict, scenario.Hunt], Any], str]] = [
    (FIRST, _second_event, "the second event as the first"),
    (FIRST, _ordinary_event, "an event of ordinary activity"),
    (FIRST, lambda a, h: a.update(first_event_id=""), "no first event"),
    (FIRST, lambda a, h: a.update(first_event_id=[a["first_event_id"]]), "a list, not an ID"),
    (KEY, lambda a, h: a.update(access_key_id=a["persistence"]["access_keys"][0]),
     "a key the intruder made, not the one they came with"),
    (KEY, _owner_key, "another person's key"),
    (IPS, lambda a, h: a.update(source_ips=a["source_ips"][:1]), "one address of two"),
    (IPS, lambda a, h: a.update(source_ips=a["source_ips"][1:]), "the other address of two"),
    (IPS, lambda a, h: a["source_ips"].append("203.0.113.10"), "an office address as well"),
    (IPS, lambda a, h: a.update(source_ips=",".join(a["source_ips"])), "a string, not a list"),
    (TAKEN, lambda a, h: a.update(objects=[]), "the bucket but not the objects"),
    (TAKEN, lambda a, h: a.pop("objects"), "no objects key at all"),
    (TAKEN, lambda a, h: a.update(objects=a["objects"][:-1]), "one object forgotten"),
    (TAKEN, lambda a, h: a.update(objects=[o.upper() for o in a["objects"]]),
     "object keys in another case (S3 keys are case-sensitive)"),
    (TAKEN, lambda a, h: a.update(buckets=[]), "the objects without the bucket"),
    (PERSIST, lambda a, h: a["persistence"].update(login_profiles=[]),
     "the console password forgotten"),
    (PERSIST, lambda a, h: a["persistence"]["policies"].pop(), "the inline policy forgotten"),
    (PERSIST, lambda a, h: a["persistence"]["access_keys"].pop(0),
     "the key made for another existing user forgotten"),
    (PERSIST, lambda a, h: a["persistence"]["access_keys"].append(a["access_key_id"]),
     "the key they came in with counted as persistence"),
    (PERSIST, lambda a, h: a["persistence"]["users"].append("new.hire"),
     "an onboarded user counted as the intruder's"),
    (PERSIST, lambda a, h: a["persistence"].pop("policies"), "no policies list"),
    (PERSIST, lambda a, h: a.update(persistence={k: [] for k in scenario.PERSISTENCE}),
     "every list empty"),
    (KEY, lambda a, h: Instead([]), "answers not a dict"),
]  # fmt: skip


@pytest.mark.parametrize(
    "index", range(len(WRONG)), ids=[f"{w[0].__name__[9:]}: {w[2]}" for w in WRONG]
)
def test_each_wrong_answer_fails_its_check(solved, index):
    check, change, why = WRONG[index]
    hunt = with_answers(solved, lambda a: change(a, solved))
    failed = verdict(check, hunt)
    assert failed is not None, why
    # The message teaches; it never hands over an answer the learner did not give.
    truth, given = solved.truth, json.dumps(hunt.answers)
    secrets = [truth["first_event_id"], truth["access_key_id"], *truth["source_ips"]]
    assert not any(s in failed.fix or (s in failed.found and s not in given) for s in secrets)


@pytest.mark.parametrize("check", [KEY, IPS, FIRST, TAKEN, PERSIST], ids=lambda c: c.__name__)
def test_answers_copied_from_the_practice_data_fail(solved, practice, check):
    copied = {k: practice[k] for k in solved.answers}
    assert set(copied) == set(ANSWER_KEYS)
    failed = verdict(check, replace(solved, answers=copied))
    assert failed is not None


def test_a_copied_key_or_event_is_named_as_not_in_this_dataset(solved, practice):
    copied = replace(solved, answers={**solved.answers, "access_key_id": practice["access_key_id"],
                                      "first_event_id": practice["first_event_id"]})  # fmt: skip
    for check in (KEY, FIRST):
        failed = verdict(check, copied)
        assert failed is not None and "copied from your practice data" in failed.found


def test_a_near_miss_is_told_apart_from_a_wild_guess(solved):
    second = verdict(FIRST, with_answers(solved, lambda a: _second_event(a, solved)))
    assert second is not None and "not the first" in second.found
    one_ip = verdict(IPS, with_answers(solved, lambda a: a.update(source_ips=a["source_ips"][:1])))
    assert one_ip is not None and "1 missing" in one_ip.found and "more than one" in one_ip.fix
    no_objects = verdict(TAKEN, with_answers(solved, lambda a: a.update(objects=[])))
    assert no_objects is not None and "objects: none listed" in no_objects.found
    assert "buckets: 1 of the intruder's 1 bucket right" in no_objects.found
    made = verdict(KEY, with_answers(solved, lambda a: a.update(
        access_key_id=a["persistence"]["access_keys"][0])))  # fmt: skip
    assert made is not None and "persistence" in made.found


# ---------------------------------------------------------------- equivalent answers


def _reordered(a: dict) -> None:
    for key in ("source_ips", "objects", "buckets"):
        a[key] = list(reversed(a[key]))
    for kind in scenario.PERSISTENCE:
        a["persistence"][kind] = list(reversed(a["persistence"][kind]))


def _s3_forms(a: dict) -> None:
    [bucket] = a["buckets"]
    a["buckets"] = [f"arn:aws:s3:::{bucket}"]
    a["objects"] = [
        (f"s3://{bucket}/{o}", f"{bucket}/{o}", f"arn:aws:s3:::{bucket}/{o}", o)[i % 4]
        for i, o in enumerate(a["objects"])
    ]


def _policy_forms(a: dict) -> None:
    forms = []
    for p in a["persistence"]["policies"]:
        principal, _, policy = p.partition(":")
        if not principal.startswith("role/"):
            principal = "user/" + principal.upper()
        forms.append(f"{principal}:{policy.removeprefix('arn:aws:iam::aws:policy/')}")
    a["persistence"]["policies"] = forms


EQUIVALENT: list[tuple[Callable[[dict], Any], str]] = [
    (_reordered, "every list in another order"),
    (lambda a: a.update(access_key_id=a["access_key_id"].lower() + " ",
                        first_event_id=a["first_event_id"].upper()),
     "the key ID in lower case with a space, the eventID in capitals"),
    (lambda a: a.update(source_ips=[f"{ip}/32" for ip in a["source_ips"]] + a["source_ips"]),
     "addresses as /32 networks, and repeated"),
    (_s3_forms, "objects as s3:// URLs, bucket/key and ARNs; the bucket as an ARN"),
    (lambda a: a.update(objects=a["objects"] + a["objects"][:5]), "objects read twice, listed twice"),
    (_policy_forms, "policies as user/NAME in capitals and the AWS managed policy's name"),
    (lambda a: a["persistence"].update(
        users=[u.upper() for u in a["persistence"]["users"]],
        login_profiles=[u.title() for u in a["persistence"]["login_profiles"]]),
     "IAM user names in another case"),
]  # fmt: skip


@pytest.mark.parametrize("index", range(len(EQUIVALENT)), ids=[e[1] for e in EQUIVALENT])
def test_each_equivalent_answer_passes(solved, index):
    change, why = EQUIVALENT[index]
    hunt = with_answers(solved, change)
    failed = {c.__name__: verdict(c, hunt) for c in ANSWER_CHECKS}
    assert {name: f.found for name, f in failed.items() if f is not None} == {}, why


# ---------------------------------------------------------------- the timeline


def rows_of(hidden: scenario.Hidden, where: str, *params: Any) -> list[dict[str, Any]]:
    found = hidden.dataset.sql(
        "SELECT event_id, event_time, event_name, source_ip FROM cloudtrail "
        f"WHERE {where} ORDER BY event_time, event_id",
        list(params),
    )
    names = ("event_id", "event_time", "event_name", "source_ip")
    return [dict(zip(names, r, strict=True)) for r in found]


def chart(rows: list[dict], *, ids: bool = True, when: Callable = None) -> dict[str, Any]:
    when = when or (lambda t: t.isoformat() + "Z")
    values = [
        {
            "t": when(r["event_time"]),
            "what": r["event_name"],
            **({"id": r["event_id"]} if ids else {}),
        }
        for r in rows
    ]
    return {"mark": "circle", "data": {"values": values},
            "encoding": {"x": {"field": "t", "type": "temporal"}}}  # fmt: skip


def intrusion(hidden, hunt) -> list[dict]:
    return rows_of(hidden, "event_id IN (SELECT unnest(?))", sorted(hunt.times))


def test_the_solutions_chart_is_read_from_the_notebooks_outputs(solved):
    [spec] = solved.charts
    assert len(scenario.chart_rows(spec)) == len(solved.times)
    assert scenario.coverage(spec, solved.times).by == "event IDs"


CHARTS_WRONG: list[tuple[Callable, str]] = [
    (lambda hidden, hunt: [], "no chart at all"),
    (lambda hidden, hunt: [chart([])], "a chart with no data"),
    (lambda hidden, hunt: [chart(rows_of(hidden, "access_key_id = ?", hunt.truth["access_key_id"]))],
     "the key's whole day, the owner's work included"),
    (lambda hidden, hunt: [chart(rows_of(hidden, "access_key_id = ? AND source_ip = ?",
                                         hunt.truth["access_key_id"], hunt.truth["source_ips"][1]))],
     "one address only: the copying out"),
    (lambda hidden, hunt: [chart(intrusion(hidden, hunt)[1:])], "the first event left out"),
    (lambda hidden, hunt: [chart(rows_of(
        hidden, "event_time BETWEEN ? AND ?", min(hunt.times.values()), max(hunt.times.values())),
        ids=False)],
     "every event of the intrusion's hours, by time"),
    (lambda hidden, hunt: [chart([{**r, "event_time": r["event_time"] + timedelta(hours=9)}
                                  for r in intrusion(hidden, hunt)], ids=False)],
     "Tokyo times written as if they were UTC"),
    (lambda hidden, hunt: [{"layer": [
        chart(intrusion(hidden, hunt)),
        chart(rows_of(hidden, "event_time BETWEEN ? AND ? AND event_id NOT IN (SELECT unnest(?))",
                      min(hunt.times.values()), max(hunt.times.values()), sorted(hunt.times)),
              ids=False)]}],
     "the intrusion's IDs, then every other event of those hours by time alone"),
]  # fmt: skip


@pytest.mark.parametrize("index", range(len(CHARTS_WRONG)), ids=[c[1] for c in CHARTS_WRONG])
def test_each_wrong_chart_fails(hidden, solved, index):
    make, why = CHARTS_WRONG[index]
    assert verdict(CHART, replace(solved, charts=make(hidden, solved))) is not None, why


def with_request_ids(spec: dict[str, Any]) -> dict[str, Any]:
    """Each row with a UUID that is not an event ID beside its eventID."""
    values = [{**row, "request": str(uuid.uuid4())} for row in spec["data"]["values"]]
    return {**spec, "data": {"values": values}}


CHARTS_RIGHT: list[tuple[Callable, str]] = [
    (lambda hidden, hunt: [with_request_ids(chart(intrusion(hidden, hunt)))],
     "a request ID (a UUID too) beside each eventID"),
    (lambda hidden, hunt: [chart(intrusion(hidden, hunt), ids=False)], "by time, no event IDs"),
    (lambda hidden, hunt: [chart(intrusion(hidden, hunt), ids=False,
                                 when=lambda t: int(t.replace(tzinfo=UTC).timestamp() * 1000))],
     "times as Vega-Lite's epoch milliseconds"),
    (lambda hidden, hunt: [chart(intrusion(hidden, hunt), ids=False,
                                 when=lambda t: (t + timedelta(hours=9)).isoformat() + "+09:00")],
     "times in Tokyo with their offset"),
    (lambda hidden, hunt: [{"mark": "bar"}, {"datasets": {"events": chart(intrusion(hidden, hunt))
                                                          ["data"]["values"]},
                                             "layer": [{"data": {"name": "events"}, "mark": "tick"}]}],
     "a first chart of something else, then named datasets and layers"),
    (lambda hidden, hunt: [{"layer": [chart(intrusion(hidden, hunt), ids=False),
                                      {**chart(intrusion(hidden, hunt), ids=False), "mark": "text"}]}],
     "layers that each carry their own copy of the data"),
]  # fmt: skip


@pytest.mark.parametrize("index", range(len(CHARTS_RIGHT)), ids=[c[1] for c in CHARTS_RIGHT])
def test_each_equivalent_chart_passes(hidden, solved, index):
    make, why = CHARTS_RIGHT[index]
    failed = verdict(CHART, replace(solved, charts=make(hidden, solved)))
    assert failed is None, (why, failed and failed.found)
