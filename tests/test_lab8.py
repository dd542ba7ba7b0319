"""lab8: does the solution pass, does the starter fail, does every check fail on a wrong
answer a learner could give, and do equivalent right answers pass?

The solution and the starter are graded by the real runner. The table of wrong and
equivalent answers is judged by lab 8's own check functions on ONE hidden day shared by the
module (generating and replaying a day per answer would take minutes): the same judges, the
same jail for alert.py, the same verdicts the runner reports.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from grader.checks import lab8 as checks
from grader.checks import lab8_scenario as scenario
from grader.checks._support import CheckFailed
from grader.course.checkinfo import read_checks
from grader.course.labs import load_course
from grader.grading.learner import LearnerCode
from grader.grading.runner import run_lab
from tests.conftest import COURSE, ROOT

LAB = load_course(COURSE).lab("lab8")
SOLUTION = {name: (ROOT / "solutions" / "lab8" / name).read_text() for name in LAB.files}
CORRELATE, SCHEDULE, SCHEDULED, ALERT = (
    "correlate.sql",
    "schedule.toml",
    "scheduled.sql",
    "alert.py",
)


def changed(name: str, old: str, new: str, *more: str) -> str:
    """The solution's file with one change, or a few (``old, new`` pairs; each must apply)."""
    text = SOLUTION[name]
    for before, after in [(old, new), *zip(more[::2], more[1::2], strict=True)]:
        assert before in text, (name, before)
        text = text.replace(before, after)
    return text


# ---------------------------------------------------------------- the real runner


def grade(tmp_path: Path, files: dict[str, str], seed: int = 11) -> dict:
    folder = tmp_path / "lab8"
    shutil.copytree(COURSE / "labs" / "lab8", folder)
    for name in LAB.files:
        (folder / name).write_text(files.get(name, SOLUTION[name]))
    result = run_lab(LAB, folder, seed=seed)
    assert result.problem is None, result.problem
    return {"checks": {c.id: c for c in result.checks}, "tables": result.tables}


def test_the_solution_passes_every_check_and_reports_its_figures(tmp_path):
    graded = grade(tmp_path, {})
    wrong = {c.id: (c.found, c.fix) for c in graded["checks"].values() if c.status != "passed"}
    assert wrong == {}
    assert set(graded["checks"]) == {c.name for c in read_checks(LAB.checks_module)}
    correlation, schedule = graded["tables"]
    assert correlation["rows"][0][2:] == ["0", "0", "0"]  # missed, near-misses, others
    runs, alerts, missed, repeated, _median, worst = schedule["rows"][0]
    assert (missed, repeated) == ("0", "0") and int(alerts) >= 1
    assert 5 <= float(worst.split()[0]) <= 30


def test_the_starter_fails_every_task_with_a_lesson_not_an_answer():
    result = run_lab(LAB, LAB.folder, seed=3)
    checks_by_id = {c.id: c for c in result.checks}
    assert {c.task for c in result.checks if c.status == "failed"} == {1, 2, 3}
    near = checks_by_id["test_the_correlation_leaves_the_near_misses_alone"]
    assert "same person's" in near.fix and "30 minutes" in near.fix
    assert "INTERVAL" not in near.fix and "split_part" not in near.fix
    unseen = checks_by_id["test_every_event_reaches_a_run_within_its_look_back"]
    assert "never seen by any run" in unseen.found and unseen.docs == "siem/index.md#late-delivery"


# ---------------------------------------------------------------- one shared hidden day


@pytest.fixture(scope="module")
def hidden():
    data = scenario.make_hidden(11)
    yield data
    data.close()


@pytest.fixture(scope="module")
def learner_code():
    return LearnerCode(memory=LAB.memory)


def write(tmp_path: Path, name: str, text: str) -> Path:
    folder = tmp_path / "lab8"
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(text)
    return folder


def verdicts(hidden, learner_code, tmp_path: Path, name: str, text: str) -> dict[str, str]:
    """Each check of the file's task on this answer: 'passed', 'failed: ...' or 'skipped'."""
    folder = write(tmp_path, name, text)
    for other in LAB.files:
        if not (folder / other).exists():
            (folder / other).write_text(SOLUTION[other])
    runs: dict[str, Callable[[], Any]] = {}
    if name == CORRELATE:
        correlated = _correlated(folder, hidden)
        runs = {
            "valid": lambda: checks.test_the_correlation_is_a_valid_sql_detection(folder, hidden),
            "both": lambda: checks.test_the_correlation_finds_both_directions_of_the_pattern(
                correlated, hidden
            ),
            "near": lambda: checks.test_the_correlation_leaves_the_near_misses_alone(
                correlated, hidden
            ),
        }
    elif name in (SCHEDULE, SCHEDULED):
        scheduled = _scheduled(folder)
        replayed = _replayed(hidden, scheduled)
        runs = {
            "valid": lambda: checks.test_the_schedule_and_its_query_are_valid(folder, hidden),
            "seen": lambda: checks.test_every_event_reaches_a_run_within_its_look_back(
                scheduled, hidden
            ),
            "alerted": lambda: checks.test_every_planted_event_raises_an_alert(
                replayed, scheduled, hidden
            ),
            "once": lambda: checks.test_each_event_alerts_once(replayed, hidden),
        }
    else:
        rendered = _rendered(folder, hidden, learner_code)
        runs = {
            "runs": lambda: checks.test_render_returns_a_message_for_each_alert(rendered),
            "valid": lambda: checks.test_each_message_is_valid_block_kit_within_slacks_limits(
                rendered
            ),
            "enriched": lambda: (
                checks.test_each_message_carries_the_user_the_network_and_the_last_day(rendered)
            ),
            "buttons": lambda: checks.test_each_message_asks_to_confirm_or_deny(rendered),
        }
    out = {}
    for key, run in runs.items():
        try:
            run()
            out[key] = "passed"
        except CheckFailed as exc:
            out[key] = f"failed: {exc.found}"
        except pytest.skip.Exception:
            out[key] = "skipped"
    return out


def _correlated(folder: Path, hidden):
    from grader.aws.errors import GraderError
    from grader.aws.siem.detections import load_detection

    try:
        return scenario.judge_correlation(hidden, load_detection(folder / CORRELATE))
    except GraderError as exc:
        return exc


def _scheduled(folder: Path):
    from grader.aws.errors import GraderError
    from grader.aws.siem.detections import load_detection

    try:
        return scenario.load_schedule(folder / SCHEDULE), load_detection(folder / SCHEDULED)
    except GraderError:
        return None


def _replayed(hidden, scheduled):
    from grader.aws.errors import GraderError

    if scheduled is None:
        return None
    try:
        return scenario.replay(hidden, scheduled[1], scheduled[0])
    except GraderError as exc:
        return exc


def _rendered(folder: Path, hidden, learner_code):
    pairs = scenario.alerts_and_contexts(hidden)
    try:
        outcomes = learner_code.call_many(
            folder / ALERT,
            "render",
            list(pairs),
            timeout=5.0,  # the solution takes < 1 s
        )
    except learner_code.Error as exc:
        outcomes = [exc] * len(pairs)
    return [
        (a, c, o if isinstance(o, learner_code.Error) else o.value)
        for (a, c), o in zip(pairs, outcomes, strict=True)
    ]


# The solution's render with one change to the message it returns.
def alert_changed(change: str) -> str:
    return SOLUTION[ALERT] + (
        "\n\n_render = render\n\n\ndef render(alert, context):\n"
        "    message = _render(alert, context)\n"
        f"    {change}\n"
        "    return message\n"
    )


FORWARD_WINDOW = " AND f.event_time >= c.event_time - INTERVAL 30 MINUTE\n"
REVERSE_WINDOW = " AND s.event_time <= c.event_time + INTERVAL 30 MINUTE\n"

# (the file, the wrong text, the check that must fail, the mistake)
WRONG = [
    (CORRELATE, changed(CORRELATE, FORWARD_WINDOW, "", REVERSE_WINDOW, ""), "near",
     "correlation without the time window"),
    (CORRELATE, changed(CORRELATE, "30 MINUTE", "45 MINUTE"), "near",
     "a 45-minute window"),
    (CORRELATE, changed(CORRELATE, "split_part(lower(user_name), '@', 1) AS person",
                        "source_ip AS person", "lower(user_name) AS person", "source_ip AS person"),
     "near", "matching on the address instead of the person"),
    (CORRELATE, SOLUTION[CORRELATE].split("UNION")[0], "both", "the reverse direction forgotten"),
    (CORRELATE, changed(CORRELATE, "WHERE c.succeeded\n  AND NOT EXISTS",
                        "WHERE c.succeeded\n  AND TRUE OR NOT EXISTS"), "near",
     "an IdP success between the failure and the console ignored"),
    (CORRELATE, changed(CORRELATE, "c.event_time + INTERVAL 30 MINUTE",
                        "c.event_time + INTERVAL 90 MINUTE"), "near",
     "the reverse direction's window widened"),
    (CORRELATE, changed(CORRELATE, "WHERE NOT c.succeeded\n  AND NOT EXISTS",
                        "WHERE NOT c.succeeded\n  AND TRUE OR FALSE AND NOT EXISTS"), "near",
     "a console success between the failure and the IdP's success ignored"),
    (CORRELATE, changed(CORRELATE, " AND f.event_time < c.event_time\n"
                                   " AND f.event_time >= c.event_time - INTERVAL 30 MINUTE\n",
                        " AND abs(epoch(f.event_time) - epoch(c.event_time)) <= 1800\n"), "near",
     "a window with no direction: an IdP failure after the console sign-in counted"),
    (CORRELATE, changed(CORRELATE, "SELECT c.event_id\nFROM console AS c\nJOIN idp AS f",
                        "SELECT c.event_id\nFROM console AS c\nJOIN read_csv('/etc/passwd') AS f"),
     "valid", "a query that reads a file"),
    (SCHEDULE, changed(SCHEDULE, "lookback_minutes = 30", "lookback_minutes = 5"), "seen",
     "a look-back equal to the interval: late files never seen"),
    (SCHEDULE, changed(SCHEDULE, "lookback_minutes = 30", "lookback_minutes = 5"), "alerted",
     "a look-back equal to the interval: the planted events missed"),
    (SCHEDULE, changed(SCHEDULE, 'dedup_key = ["event_id"]', "dedup_key = []"), "once",
     "no de-duplication key: the overlap alerts twice"),
    (SCHEDULE, changed(SCHEDULE, 'dedup_key = ["event_id"]', 'dedup_key = ["user_arn"]'),
     "alerted", "one key per user: the user's later events swallowed"),
    (SCHEDULE, changed(SCHEDULE, "interval_minutes = 5", 'interval_minutes = "5"'), "valid",
     "an interval that is a string"),
    (SCHEDULE, changed(SCHEDULE, 'dedup_key = ["event_id"]', 'dedup_key = ["event_id"'),
     "valid", "broken TOML"),
    (SCHEDULED, SOLUTION[SCHEDULED] + "  AND event_time >= now() - INTERVAL 5 MINUTE\n",
     "alerted", "a query that filters on the wall clock"),
    (SCHEDULED, changed(SCHEDULED, "WHERE user_type = 'Root'", "WHERE user_type IS NOT NULL"),
     "alerted", "every event alerted, the root user's among them"),
    (SCHEDULE, changed(SCHEDULE, "interval_minutes = 5", "interval_minutes = 1440",
                       "lookback_minutes = 30", "lookback_minutes = 1500"),
     "alerted", "a run a day that looks back far enough: alerts hours late"),
    (SCHEDULED, changed(SCHEDULED, "SELECT event_id, user_arn,", "SELECT user_arn,"), "valid",
     "a query without event_id"),
    (ALERT, alert_changed("message['blocks'] = message['blocks'][:-1]"), "buttons",
     "an alert without buttons"),
    (ALERT, alert_changed("message['blocks'] += [{'type': 'divider'}] * "
                          "(51 - len(message['blocks']))"), "valid", "51 blocks"),
    (ALERT, alert_changed("message['blocks'][0]['text'] = {'type': 'mrkdwn', 'text': '*Alert*'}"),
     "valid", "markdown in a header"),
    (ALERT, alert_changed("message['blocks'][2]['fields'] = message['blocks'][2]['fields'][1:]; "
                          "message['text'] = 'alert'"), "enriched", "the user missing"),
    (ALERT, alert_changed("message['blocks'][-1]['elements'][0]['value'] = 'yes'"), "buttons",
     "a button that does not say which alert it answers"),
    (ALERT, alert_changed("message['blocks'][2]['fields'] = message['blocks'][2]['fields'][1:]; "
                          "message['text'] = 'alert for ' + str(context['user']['name'])"),
     "enriched", "the user only in the notification's fallback text"),
    (ALERT, alert_changed("while True: pass"), "runs", "an alert.py that hangs"),
    (ALERT, alert_changed("raise KeyError('user')"), "runs", "an alert.py that raises"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "text", "check", "why"), WRONG, ids=[w[3] for w in WRONG])
def test_each_wrong_answer_fails_its_check(hidden, learner_code, tmp_path, name, text, check, why):
    found = verdicts(hidden, learner_code, tmp_path, name, text)
    assert found[check].startswith("failed"), (why, found)


EQUIVALENT = [
    (CORRELATE, changed(CORRELATE, "SELECT c.event_id\nFROM console AS c\nJOIN idp AS s",
                        "SELECT s.event_id\nFROM console AS c\nJOIN idp AS s\n  ON s.person = "
                        "c.person AND s.succeeded AND s.event_time > c.event_time AND "
                        "s.event_time <= c.event_time + INTERVAL 30 MINUTE\nWHERE NOT "
                        "c.succeeded AND NOT EXISTS (SELECT 1 FROM console AS k WHERE k.person = "
                        "c.person AND k.succeeded AND k.event_time > c.event_time AND "
                        "k.event_time < s.event_time)\n"
                        "UNION\nSELECT c.event_id\nFROM console AS c\nJOIN idp AS s"),
     "the IdP's events of the pattern returned too"),
    (CORRELATE, changed(CORRELATE, "split_part(lower(user_name), '@', 1) AS person",
                        "lower(user_name) AS person",
                        "lower(user_name) AS person, result",
                        "lower(user_email) AS person, result",
                        "f.person = c.person", "(f.person = c.person OR split_part(f.person, '@', 1) = c.person)",
                        "s.person = c.person", "(s.person = c.person OR split_part(s.person, '@', 1) = c.person)"),
     "the person matched by e-mail or login instead of by a computed login"),
    (SCHEDULE, "interval_minutes = 10\nlookback_minutes = 40\ndedup_key = ['event_id', 'event_name']\n",
     "a longer interval with its longer look-back, and a wider key"),
    (SCHEDULE, "dedup_key = [\"event_id\"]\ninterval_minutes = 1\nlookback_minutes = 26\n",
     "a run every minute looking back just past the longest delay"),
    (ALERT, '''
import json


def render(alert, context):
    event, user, net = alert["event"], context["user"], context["network"]
    answer = lambda a: json.dumps({"event_id": event["event_id"], "answer": a})
    lines = [f"{user['display_name'] or user['name']} signed in from {net['ip']} "
             f"({net['name'] or net['country']})",
             f"{context['activity']['events']:,} events in 24 h"]
    return {"blocks": [
        {"type": "section", "text": {"type": "mrkdwn", "text": "\\n".join(lines)[:3000]}},
        {"type": "actions", "elements": [
            {"type": "button", "text": {"type": "plain_text", "text": "It was me"},
             "action_id": "ok", "value": answer("ok")},
            {"type": "button", "text": {"type": "plain_text", "text": "Not me"},
             "action_id": "no", "value": answer("no"), "style": "danger"}]}]}
''', "a short message: one section and two buttons, no header"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "text", "why"), EQUIVALENT, ids=[e[2] for e in EQUIVALENT])
def test_each_equivalent_answer_passes(hidden, learner_code, tmp_path, name, text, why):
    found = verdicts(hidden, learner_code, tmp_path, name, text)
    assert set(found.values()) == {"passed"}, (why, found)


def test_the_hidden_day_holds_both_directions_and_every_near_miss(hidden):
    cases = {c["id"]: c for c in hidden.cases}
    assert {k for k, c in cases.items() if c["expected"]} == {
        "idp-failure-then-console-success", "console-failure-then-idp-success",
    }  # fmt: skip
    assert {k for k, c in cases.items() if not c["expected"]} == {
        "idp-typo-then-success-then-console", "idp-failure-console-after-45-minutes",
        "console-success-then-idp-failure", "console-failure-then-success-then-idp",
        "console-failure-idp-success-after-40-minutes",
        "idp-failure-console-after-40-minutes", "colleague-same-address",
    }  # fmt: skip
    for case in cases.values():
        assert case["eventIDs"] and case["idp_uuids"], case["id"]
    # The planted near-misses are in the logs, delivered late like every other file.
    planted = cases["colleague-same-address"]["eventIDs"][0]
    [(delay,)] = hidden.dataset.sql(
        "SELECT delivered_at - event_time FROM cloudtrail WHERE event_id = ?", [planted]
    )
    assert 5 * 60 <= delay.total_seconds() <= 21 * 60


def test_a_practice_dataset_holds_every_case_the_grader_judges_on(practice, hidden):
    """The generator plants every near-miss: nothing is kept for the grader's day alone."""
    labels = json.loads((practice / "data" / "labels.json").read_text())
    practice_cases = [(c["id"], c["expected"]) for c in labels["correlation"]]
    assert practice_cases == [(c["id"], c["expected"]) for c in hidden.cases]
    assert len(practice_cases) == 9


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("interval_minutes = 0\nlookback_minutes = 30\ndedup_key = []\n",
         "schedule.toml: 1 validation error detected: Value 0 at 'interval_minutes' failed to "
         "satisfy constraint: Member must have value between 1 and 1440"),
        ("interval_minutes = 5\nlookback = 30\ndedup_key = []\n",
         "schedule.toml: 2 validation errors detected: Value 30 at 'lookback' failed to satisfy "
         "constraint: Member must be one of the keys [interval_minutes, lookback_minutes, "
         "dedup_key]; Value null at 'lookback_minutes' failed to satisfy constraint: Member "
         "must not be null"),
        ("interval_minutes = 5.5\nlookback_minutes = 30\ndedup_key = 'event_id'\n",
         "schedule.toml: 2 validation errors detected: Value 5.5 at 'interval_minutes' failed "
         "to satisfy constraint: Member must be a whole number of minutes between 1 and 1440; "
         "Value \"event_id\" at 'dedup_key' failed to satisfy constraint: Member must be an "
         "array of column names (strings)"),
        ("interval_minutes = 5\nlookback_minutes = = 30\n",
         "schedule.toml:2:20: not valid TOML: Invalid value"),
    ],
    ids=["out of range", "unknown and missing key", "wrong types", "broken TOML"],
)  # fmt: skip
def test_a_wrong_schedule_is_reported_with_its_field_and_allowed_values(tmp_path, text, message):
    path = tmp_path / "schedule.toml"
    path.write_text(text)
    with pytest.raises(scenario.ScheduleFileError) as caught:
        scenario.load_schedule(path)
    assert str(caught.value) == message


def test_the_alert_contract_on_the_lab_page_matches_what_render_gets(hidden):
    alert, context = scenario.alerts_and_contexts(hidden)[0]
    page = (ROOT / "docs" / "siem" / "lab8.md").read_text()
    for key in [*alert, *alert["rule"], *alert["event"], *alert["related"][0]]:
        assert f"`{key}`" in page, key
    for part in context.values():
        for key in part:
            assert f"`{key}`" in page, key
    json.dumps([alert, context])  # crosses into the jail as JSON


# ---------------------------------------------------------------- the page's samples

PAGE = (ROOT / "docs" / "siem" / "lab8.md").read_text()


def sample(fence: str, contains: str) -> str:
    """The page's code block of language ``fence`` holding ``contains``."""
    blocks = [b.split("\n", 1)[1] for b in PAGE.split("```")[1::2] if b.startswith(fence + "\n")]
    [block] = [b for b in blocks if contains in b]
    return block


@pytest.fixture(scope="module")
def practice(tmp_path_factory):
    """A practice dataset as the learner makes one, and a course folder with the solution."""
    from grader.aws.siem.generate import generate

    root = tmp_path_factory.mktemp("practice")
    generate(root / "data", seed=42, days=1)  # not the hidden day's seed (11)
    shutil.copytree(COURSE / "labs" / "lab8", root / "course" / "labs" / "lab8")
    for name in LAB.files:
        (root / "course" / "labs" / "lab8" / name).write_text(SOLUTION[name])
    return root


def test_a_correlation_naming_a_practice_datasets_addresses_misses_the_hidden_cases(
    practice, hidden, learner_code, tmp_path
):
    labels = json.loads((practice / "data" / "labels.json").read_text())
    addresses = sorted(
        {ip for c in labels["correlation"] if c["expected"] for ip in c["source_ips"]}
    )
    header = "\n".join(SOLUTION[CORRELATE].splitlines()[:4])  # id, title, technique, severity
    listed = ", ".join(f"'{ip}'" for ip in addresses)
    text = (
        f"{header}\nSELECT event_id FROM cloudtrail\n"
        f"WHERE event_name = 'ConsoleLogin' AND source_ip IN ({listed})\n"
    )
    found = verdicts(hidden, learner_code, tmp_path, CORRELATE, text)
    assert found["both"].startswith("failed"), found


def test_the_pages_schedule_sample_replays_the_solution_on_a_practice_dataset(practice):
    code = sample("python", "simulate(").replace('"~/siem-practice"', repr(str(practice / "data")))
    done = subprocess.run([sys.executable, "-c", code], cwd=practice / "course",
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "missed 0, repeated 0" in done.stdout


def test_the_pages_render_sample_validates_the_solutions_message(practice, hidden):
    alert, context = scenario.alerts_and_contexts(hidden)[0]
    folder = practice / "course" / "labs" / "lab8"
    (folder / "alert.json").write_text(json.dumps(alert))
    (folder / "context.json").write_text(json.dumps(context))
    done = subprocess.run(["bash", "-c", sample("bash", "validate(")], cwd=practice / "course",
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.rstrip().endswith("valid") and '"blocks"' in done.stdout
