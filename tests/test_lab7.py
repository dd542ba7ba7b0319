"""lab7: does the solution pass, does the starter fail, does every check fail on a wrong
answer a learner could give, and do equivalent right answers pass? Each case is the reference
solution with one change, graded by the real runner on a dataset generated for the run.

Every check of lab7 reads one detection file, so one graded run can hold one wrong variant of
each of the six files at once: the wrong table is graded in rounds, each file's variants in
different rounds, and each variant's check must fail in its round.
"""

from __future__ import annotations

import shutil
from collections import defaultdict
from pathlib import Path

import pytest

from grader.aws.siem.detections import parse_detection
from grader.aws.siem.sigma import convert
from grader.checks import lab7_scenario as scenario
from grader.course.checkinfo import read_checks
from grader.course.labs import load_course
from grader.grading.runner import run_lab
from tests.conftest import COURSE, ROOT

LAB = load_course(COURSE).lab("lab7")
SOLUTION = {name: (ROOT / "solutions" / "lab7" / name).read_text() for name in LAB.files}
MFA, ROOT_USE, LOGS, CREDS, ADMIN, EXFIL = (spec.file for spec in scenario.SPECS)


def run(tmp_path: Path, files: dict[str, str], seed: int = 11):
    folder = tmp_path / "lab7"
    shutil.copytree(COURSE / "labs" / "lab7", folder)
    for name in LAB.files:
        (folder / name).write_text(files.get(name, SOLUTION[name]))
    result = run_lab(LAB, folder, seed=seed)
    assert result.problem is None, result.problem
    return result


def grade(tmp_path: Path, files: dict[str, str], seed: int = 11) -> dict:
    return {c.id: c for c in run(tmp_path, files, seed).checks}


def header(name: str) -> str:
    """The solution's header comments (id, title, technique, ...), for a query of one's own."""
    lines = SOLUTION[name].splitlines(keepends=True)
    return "".join(
        line for line in lines[: next(i for i, x in enumerate(lines) if not x.startswith("--"))]
    )


def changed(name: str, old: str, new: str, *more: str) -> tuple[str, str]:
    """The solution's file with one change, or a few (``old, new`` pairs; each must apply)."""
    text = SOLUTION[name]
    pairs = [(old, new), *zip(more[::2], more[1::2], strict=True)]
    for before, after in pairs:
        assert before in text, (name, before)
        text = text.replace(before, after, 1)
    return name, text


@pytest.fixture(scope="module")
def solution_result(tmp_path_factory):
    return grade(tmp_path_factory.mktemp("solution"), {})


def test_solution_passes_every_check(solution_result):
    wrong = {c.id: (c.found, c.fix) for c in solution_result.values() if c.status != "passed"}
    assert wrong == {}
    assert set(solution_result) == {c.name for c in read_checks(LAB.checks_module)}


def test_starter_fails_every_task():
    result = run_lab(LAB, LAB.folder, seed=3)
    failed_tasks = {c.task for c in result.checks if c.status == "failed"}
    assert failed_tasks == {1, 2, 3, 4, 5, 6, 7}


def test_a_look_alike_is_named_and_the_report_holds_each_detections_figures(tmp_path):
    starter = (COURSE / "labs" / "lab7" / CREDS).read_text()
    result = run(tmp_path, {CREDS: starter})
    check = {c.id: c for c in result.checks}[
        "test_the_credentials_detection_finds_the_intruders_keys_and_passwords"
    ]
    assert check.status == "failed"
    assert "new hire" in check.found and "CreateLoginProfile" in check.found
    assert check.docs.startswith("siem/index.md#")
    [table] = result.tables
    rows = {row[0]: row for row in table["rows"]}
    assert table["columns"] == ["detection", "hits", "precision", "recall", "passes"]
    assert set(rows) == {Path(name).name for name in LAB.files if name.startswith("detections/")}
    assert rows["credentials-for-another-user.sql"][4] == "no"
    assert rows["root-account-use.sql"][2:] == ["1.00", "1.00", "yes"]


CHECK = {
    MFA: ("test_the_no_mfa_detection_is_a_valid_sql_detection",
          "test_the_no_mfa_detection_names_its_attck_technique",
          "test_the_no_mfa_detection_finds_the_sign_in_and_nothing_else"),
    ROOT_USE: ("test_the_root_detection_is_a_valid_sql_detection",
               "test_the_root_detection_names_its_attck_technique",
               "test_the_root_detection_finds_everything_root_did"),
    LOGS: ("test_the_logging_rule_is_a_valid_sigma_rule",
           "test_the_logging_rule_names_its_attck_technique",
           "test_the_logging_rule_finds_trails_and_detectors_switched_off"),
    CREDS: ("test_the_credentials_detection_is_a_valid_sql_detection",
            "test_the_credentials_detection_names_its_attck_technique",
            "test_the_credentials_detection_finds_the_intruders_keys_and_passwords"),
    ADMIN: ("test_the_admin_policy_detection_is_a_valid_sql_detection",
            "test_the_admin_policy_detection_names_its_attck_technique",
            "test_the_admin_policy_detection_finds_administrator_access_attached"),
    EXFIL: ("test_the_exfiltration_detection_is_a_valid_sql_detection",
            "test_the_exfiltration_detection_names_its_attck_technique",
            "test_the_exfiltration_detection_finds_the_burst_and_not_the_pipeline"),
}  # fmt: skip
VALID, TECHNIQUE, SCORED = 0, 1, 2

# (which check of the file must fail, the changed file, the mistake)
WRONG = [
    (VALID, changed(MFA, "T1078.004", "T1078.999"), "a technique ATT&CK does not have"),
    (TECHNIQUE, changed(MFA, "T1078.004", "T1078"), "the parent technique, not the cloud one"),
    (SCORED, changed(MFA, "additional_event_data->>'MFAUsed' = 'No'",
                     "coalesce(additional_event_data->>'MFAUsed', 'No') = 'No'",
                     "  AND user_type = 'IAMUser'\n", ""),
     "any identity, a missing MFAUsed taken as No: the SSO sign-ins let in"),
    (SCORED, changed(MFA, "  AND response_elements->>'ConsoleLogin' = 'Success'\n", ""),
     "failed sign-ins let in"),
    (VALID, changed(ROOT_USE, "FROM cloudtrail\n", "FROM read_json_auto('/etc/passwd')\n"),
     "a query that reads a file"),
    (TECHNIQUE, changed(ROOT_USE, "T1078.004", "T1078"), "Valid Accounts: the parent, too broad"),
    (SCORED, changed(ROOT_USE, "WHERE user_type = 'Root'",
                     "WHERE user_type = 'Root' AND event_name = 'ConsoleLogin'"),
     "root's sign-in only"),
    (SCORED, changed(ROOT_USE, "user_type = 'Root'", "user_type = 'root'"),
     "a case variant of Root"),
    (VALID, changed(LOGS, "  service: cloudtrail", "  service: guardduty"),
     "a rule for another log source"),
    (TECHNIQUE, changed(LOGS, "attack.t1562.008", "attack.t1562"), "the parent technique"),
    (SCORED, changed(LOGS, "      - DeleteTrail\n", ""), "DeleteTrail forgotten"),
    (SCORED, changed(LOGS, "condition: 1 of trail_* or 1 of detector_*", "condition: 1 of trail_*"),
     "GuardDuty forgotten"),
    (SCORED, changed(LOGS, "    requestParameters.enable: false\n", ""),
     "any UpdateDetector: a detector changed, not disabled, let in"),
    (VALID, changed(CREDS, "-- severity: high", "-- severity: urgent"), "a severity that is none"),
    (TECHNIQUE, changed(CREDS, "T1098.001", "T1136.003"), "Create Account, not credentials added"),
    (SCORED, changed(CREDS, "IN ('CreateAccessKey', 'CreateLoginProfile')", "= 'CreateAccessKey'"),
     "CreateLoginProfile forgotten"),
    (SCORED, changed(CREDS, "  AND coalesce(session_issuer_arn, '') NOT LIKE "
                            "'%/AWSReservedSSO_AdministratorAccess_%'\n", ""),
     "the administrator's onboarding let in"),
    (SCORED, changed(CREDS, "  AND request_parameters->>'userName' IS DISTINCT FROM user_name\n",
                     ""),
     "a user rotating their own key let in"),
    (VALID, changed(ADMIN, "SELECT event_id\nFROM cloudtrail", "DELETE FROM cloudtrail"),
     "a statement that writes"),
    (TECHNIQUE, changed(ADMIN, "T1098.003", "T1098.001"), "credentials, not roles"),
    (TECHNIQUE, changed(ADMIN, "T1098.003", "T1098.003, T1098.001, T1078.004"),
     "every technique that might fit, the right one among them"),
    (SCORED, changed(ADMIN, "('AttachUserPolicy', 'AttachRolePolicy', 'AttachGroupPolicy')",
                     "('AttachUserPolicy', 'AttachGroupPolicy')"),
     "AttachRolePolicy forgotten"),
    (SCORED, changed(ADMIN, "      OR\n      (event_name IN ('PutUserPolicy'",
                     "      OR\n      (FALSE AND event_name IN ('PutUserPolicy'"),
     "PutUserPolicy with Action * forgotten"),
    (SCORED, changed(ADMIN, "= 'arn:aws:iam::aws:policy/AdministratorAccess'",
                     "LIKE '%AdministratorAccess%'"),
     "a LIKE that lets AdministratorAccess-Amplify in"),
    (VALID, changed(EXFIL, "-- severity: high\n", ""), "a header without severity"),
    (TECHNIQUE, changed(EXFIL, "T1530", "T1537"), "transfer to another account, not collection"),
    (SCORED, changed(EXFIL, "IN ('GetObject', 'ListObjects', 'ListObjectsV2')", "= 'GetObject'"),
     "the listing before the burst forgotten"),
    (SCORED, changed(EXFIL, "      AND NOT (user_type = 'AssumedRole'\n               AND "
                            "coalesce(session_issuer_arn, '') NOT LIKE '%/AWSReservedSSO_%')\n",
                     ""),
     "the data pipeline's nightly read let in"),
    (SCORED, changed(EXFIL, "recent >= 50", "recent >= 500"), "a threshold above the burst"),
    (SCORED, (ADMIN, header(ADMIN) + "SELECT event_id FROM cloudtrail\n"
             "WHERE event_name IN ('AttachUserPolicy', 'AttachRolePolicy', 'AttachGroupPolicy',"
             " 'PutUserPolicy', 'PutRolePolicy', 'PutGroupPolicy') AND user_type = 'IAMUser'\n"),
     "the intruder's calls and kind of caller, the policy never read"),
    (SCORED, (EXFIL, header(EXFIL) + "SELECT event_id FROM cloudtrail\n"
             "WHERE event_name IN ('GetObject', 'ListObjects', 'ListObjectsV2')"
             " AND user_type = 'IAMUser'\n"),
     "every IAM user's read, no burst counted"),
]  # fmt: skip


def _rounds(entries: list) -> list[int]:
    """Each entry's round: the n-th variant of a file goes to round n."""
    seen: dict[str, int] = defaultdict(int)
    out = []
    for _check, (name, _text), _why in entries:
        out.append(seen[name])
        seen[name] += 1
    return out


ROUND = _rounds(WRONG)


@pytest.fixture(scope="module")
def wrong_rounds(tmp_path_factory):
    graded: dict[int, dict] = {}

    def result(number: int) -> dict:
        if number not in graded:
            files = dict(entry[1] for entry, r in zip(WRONG, ROUND, strict=True) if r == number)
            graded[number] = grade(tmp_path_factory.mktemp(f"wrong{number}"), files)
        return graded[number]

    return result


@pytest.mark.parametrize(
    "index", range(len(WRONG)), ids=[f"{Path(w[1][0]).stem}: {w[2]}" for w in WRONG]
)
def test_each_wrong_answer_fails_its_check(wrong_rounds, index):
    which, (name, _text), why = WRONG[index]
    check = wrong_rounds(ROUND[index])[CHECK[name][which]]
    assert check.status == "failed", why


# A Sigma rule for the no-MFA detection, converted by the engine: the same detection
# written over record JSON paths only.
MFA_SIGMA = """
title: Console sign-in without MFA
logsource: {product: aws, service: cloudtrail}
detection:
  selection:
    eventName: ConsoleLogin
    userIdentity.type: IAMUser
    responseElements.ConsoleLogin: Success
    additionalEventData.MFAUsed: 'No'
  condition: selection
"""
MFA_HEADER = SOLUTION[MFA].split("SELECT", 1)[0]
# The Sigma rule's own SQL twin over the typed columns.
LOGS_SQL = """-- id: cloudtrail-stopped
-- title: CloudTrail stopped or deleted, or GuardDuty disabled
-- technique: T1562.008
-- severity: high
SELECT event_id FROM cloudtrail
WHERE (event_source = 'cloudtrail.amazonaws.com' AND event_name IN ('StopLogging', 'DeleteTrail'))
   OR (event_source = 'guardduty.amazonaws.com' AND (event_name = 'DeleteDetector'
       OR (event_name = 'UpdateDetector' AND (request_parameters->'enable')::BOOLEAN = false)))
"""
LOGS_RE = """title: Logging switched off
logsource:
  product: aws
  service: cloudtrail
detection:
  trail:
    eventName|re: '^(StopLogging|DeleteTrail)$'
  detector:
    eventSource: GUARDDUTY.amazonaws.com
    eventName:
      - deletedetector
      - updatedetector
  disabled_or_deleted:
    - requestParameters.enable: false
    - eventName: DeleteDetector
  condition: trail or (detector and disabled_or_deleted)
tags:
  - attack.t1562.008
"""

# (files changed from the solution, why they are right too)
EQUIVALENT = [
    ({MFA: MFA_HEADER + convert(MFA_SIGMA).sql,
      ROOT_USE: SOLUTION[ROOT_USE].replace("WHERE user_type = 'Root'",
                                           "WHERE record->'userIdentity'->>'type' = 'Root'")
                                  .replace("T1078.004", "T1078.001"),
      LOGS: LOGS_RE,
      CREDS: SOLUTION[CREDS].replace(
          "  AND coalesce(session_issuer_arn, '') NOT LIKE '%/AWSReservedSSO_AdministratorAccess_%'",
          "  AND user_type = 'IAMUser'"),
      ADMIN: SOLUTION[ADMIN].replace(
          "request_parameters->>'policyArn' = 'arn:aws:iam::aws:policy/AdministratorAccess'",
          "record->'requestParameters'->>'policyArn' IN ('arn:aws:iam::aws:policy/AdministratorAccess')"),
      EXFIL: SOLUTION[EXFIL].replace("coalesce(access_key_id, principal_id)",
                                     "record->'userIdentity'->>'accessKeyId'")},
     "JSON paths into record for the typed columns, a Sigma rule's SQL, a case-insensitive "
     "Sigma rule with a regular expression, the caller's type instead of the admin's role, "
     "Default Accounts for root (ATT&CK names the AWS root user among its examples)"),
]  # fmt: skip


@pytest.mark.parametrize("files, why", EQUIVALENT, ids=["record-paths-sigma-twins"])
def test_each_equivalent_answer_passes(tmp_path, files, why):
    graded = grade(tmp_path, files).values()
    failed = {c.id: (c.found, c.fix) for c in graded if c.status != "passed"}
    assert failed == {}, why


SEEDS = range(101, 111)


def test_the_solutions_reach_full_recall_and_precision_on_ten_seeds():
    """Without the runner: the judge itself, on ten generated datasets; the Sigma rule's
    SQL twin hits exactly what the rule hits."""
    solution = ROOT / "solutions" / "lab7"
    twin = parse_detection(LOGS_SQL)
    short: list[str] = []
    for seed in SEEDS:
        hidden = scenario.make_hidden(seed)
        try:
            for spec in scenario.SPECS:
                judged = scenario.judge(hidden, spec, scenario.load(solution, spec))
                if not judged.passed:
                    short.append(f"seed {seed} {spec.file}: {judged.score}")
            spec = scenario.BY_FILE[LOGS]
            rule = scenario.judge(hidden, spec, scenario.load(solution, spec))
            assert scenario.judge(hidden, spec, twin).hits.event_ids == rule.hits.event_ids
        finally:
            hidden.close()
    assert short == []


def test_the_hidden_dataset_holds_every_look_alike_and_variant():
    hidden = scenario.make_hidden(5)
    try:
        looks = {x["id"]: x for x in hidden.labels["lookalikes"]}
        for traps in {s.scenario for s in scenario.SPECS} - {"root-account-use"}:
            assert any(x["traps"] == traps and x["eventIDs"] for x in looks.values()), traps
        planted = set(hidden.expected("admin-policy-attached"))
        names = {row["name"] for row in hidden.describe(planted)}
        assert names == {"AttachUserPolicy", "AttachRolePolicy", "PutUserPolicy"}
        assert planted <= set(hidden.expected("leaked-access-key"))
        assert not (hidden.folder / "labels.json").exists()
    finally:
        hidden.close()
    assert not hidden.folder.exists()
