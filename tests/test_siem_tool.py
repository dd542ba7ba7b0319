"""`grader siem generate`, `query` and `export` as a person runs them: the real CLI in a
subprocess, on a small generated dataset, with a SQL detection and a Sigma rule."""

from __future__ import annotations

import json
import textwrap

import pytest

from tests.conftest import run_grader

NO_MFA = """\
-- id: console-login-without-mfa
-- title: Console sign-in by an IAM user without MFA
-- technique: T1078.004
-- severity: high
SELECT event_id
FROM cloudtrail
WHERE event_name = 'ConsoleLogin'
  AND user_type IN ('IAMUser', 'Root')
  AND additional_event_data->>'MFAUsed' = 'No'
  AND response_elements->>'ConsoleLogin' = 'Success'
"""

STOPPED = """\
title: CloudTrail logging stopped or trail deleted
id: 0b7a1c2e-8a51-4b8e-9d0c-3f1e2a4b5c6d
status: experimental
level: high
tags:
  - attack.defense-evasion
  - attack.t1562.008
logsource:
  product: aws
  service: cloudtrail
detection:
  selection:
    eventSource: cloudtrail.amazonaws.com
    eventName:
      - StopLogging
      - DeleteTrail
  condition: selection
"""


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    folder = tmp_path_factory.mktemp("siem") / "data"
    done = run_grader("siem", "generate", str(folder), "--days", "1", "--seed", "5", timeout=120)
    assert done.returncode == 0, done.stderr
    assert "CloudTrail events" in done.stdout and "labels.json" in done.stdout
    return folder, json.loads((folder / "labels.json").read_text())


def planted(labels: dict, scenario: str) -> set[str]:
    return {e for s in labels["scenarios"] if s["id"] == scenario for e in s["eventIDs"]}


def rule_file(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def test_a_sql_detection_finds_exactly_the_planted_login_and_not_its_lookalikes(dataset, tmp_path):
    folder, labels = dataset
    done = run_grader("siem", "query", "--data", str(folder), "--sql", str(rule_file(tmp_path, "a.sql", NO_MFA)), "--json")  # fmt: skip
    assert done.returncode == 0, done.stderr
    hits = json.loads(done.stdout)
    assert {hit["eventID"] for hit in hits} == planted(labels, "console-login-without-mfa")
    assert set(hits[0]) == {
        "eventID",
        "eventTime",
        "eventName",
        "user",
        "sourceIPAddress",
        "awsRegion",
    }
    assert hits[0]["eventName"] == "ConsoleLogin"


def test_a_sigma_rule_runs_over_the_same_data_and_lists_its_hits(dataset, tmp_path):
    folder, labels = dataset
    rule = rule_file(tmp_path, "stopped.yml", STOPPED)
    listing = run_grader("siem", "query", "--data", str(folder), "--sigma", str(rule))
    assert listing.returncode == 0, listing.stderr
    assert "(T1562.008; high)" in listing.stdout
    hits = json.loads(run_grader("siem", "query", "--data", str(folder), "--sigma", str(rule), "--json").stdout)  # fmt: skip
    names = {hit["eventName"] for hit in hits}
    assert names and names <= {"StopLogging", "DeleteTrail"}
    assert {hit["eventID"] for hit in hits} <= planted(
        labels, "cloudtrail-stopped-or-guardduty-disabled"
    )


def test_export_prints_athena_sql_over_athenas_cloudtrail_table(tmp_path):
    done = run_grader("siem", "export", "--sql", str(rule_file(tmp_path, "a.sql", NO_MFA)))
    assert done.returncode == 0, done.stderr
    assert "FROM cloudtrail_logs" in done.stdout and "useridentity.type" in done.stdout
    sigma = run_grader("siem", "export", "--sigma", str(rule_file(tmp_path, "s.yml", STOPPED)))
    assert sigma.returncode == 0 and "eventname" in sigma.stdout.lower()


@pytest.mark.parametrize(
    "args, words",
    [
        (["query", "--data", "{data}", "--sql", "{tmp}/missing.sql"], "no such file"),
        (["query", "--data", "{tmp}/nothing", "--sql", "{sql}"], "not a folder"),
        (["query", "--data", "{data}", "--sigma", "{count}"], "count"),
        (["query", "--data", "{data}", "--sql", "{bad}"], "technique"),
        (["generate", "{data}"], "{data}"),
        (["generate", "{tmp}/new", "--start", "yesterday"], "--start"),
        (["generate", "{tmp}/new", "--scenario", "telepathy"], "telepathy"),
    ],
)
def test_mistakes_are_one_clear_line_and_exit_2(dataset, tmp_path, args, words):
    folder, _ = dataset
    files = {
        "data": str(folder),
        "tmp": str(tmp_path),
        "sql": str(rule_file(tmp_path, "a.sql", NO_MFA)),
        "bad": str(rule_file(tmp_path, "b.sql", NO_MFA.replace("T1078.004", "T9999"))),
        "count": str(
            rule_file(
                tmp_path,
                "c.yml",
                STOPPED.replace("condition: selection", "condition: selection | count() > 5"),
            )
        ),
    }
    done = run_grader("siem", *(a.format(**files) for a in args), timeout=60)
    assert done.returncode == 2, done.stdout + done.stderr
    assert words.format(**files) in done.stderr
    assert "Traceback" not in done.stderr


LOOSE = NO_MFA.replace("  AND user_type IN ('IAMUser', 'Root')\n", "").replace(
    "  AND response_elements->>'ConsoleLogin' = 'Success'\n", ""
)


def test_scoring_against_labels_names_the_lookalikes_a_loose_rule_falls_for(dataset, tmp_path):
    folder, _ = dataset
    tight = run_grader("siem", "query", "--data", str(folder), "--sql", str(rule_file(tmp_path, "a.sql", NO_MFA)), "--scenario", "console-login-without-mfa")  # fmt: skip
    assert tight.returncode == 0, tight.stderr
    assert "precision 1.00" in tight.stdout and "recall 1.00" in tight.stdout
    loose = run_grader("siem", "query", "--data", str(folder), "--sql", str(rule_file(tmp_path, "b.sql", LOOSE)), "--scenario", "console-login-without-mfa")  # fmt: skip
    assert "wrongly caught" in loose.stdout and "precision 1.00" not in loose.stdout
    unknown = run_grader("siem", "query", "--data", str(folder), "--sql", str(rule_file(tmp_path, "a.sql", NO_MFA)), "--scenario", "telepathy")  # fmt: skip
    assert unknown.returncode == 2 and "not planted" in unknown.stderr
