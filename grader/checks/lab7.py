"""lab7 — detections on CloudTrail: six detections, SQL on DuckDB or a Sigma rule, each
mapped to its ATT&CK technique and judged on a hidden dataset generated for this run.

The dataset (lab7_scenario) is generated from the run's seed at check time, so no event
ID, address, key or name of one run can be written into an answer. Each detection must
find every planted event of its scenario (recall 1.0) and little else (precision 0.9 or
better), with the generator's look-alikes in the data to trap a loosened rule.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from grader.aws.errors import GraderError
from grader.aws.siem.attack import TechniqueError, technique
from grader.aws.siem.scenarios import BY_ID
from grader.checks._support import count, fail, listing
from grader.checks.lab7_scenario import (
    BY_FILE,
    PRECISION,
    RECALL,
    SPECS,
    Hidden,
    Judged,
    Spec,
    judge,
    load,
    make_hidden,
)

DOCS = "siem/lab7.md"
CHAPTER = "siem/index.md"
# The chapter's section on each detection (docs/siem/index.md anchors).
SECTION = {
    "console-login-without-mfa": "console-sign-in-without-mfa",
    "root-account-use": "root-user-activity",
    "cloudtrail-stopped-or-guardduty-disabled": "logging-stopped-or-deleted",
    "credentials-created-for-another-user": "credentials-for-another-user",
    "admin-policy-attached": "administrator-policies",
    "object-exfiltration-burst": "exfiltration-bursts",
}
FORMAT_SECTION = "detections-as-sql-and-sigma"
ATTACK_SECTION = "mapping-detections-to-attck"
# What to think about when a detection misses planted events, and when it flags others:
# the concept, never the answer (the hints escalate to it).
MISSED = {
    "console-login-without-mfa": "find every successful console sign-in by a password alone",
    "root-account-use": "root's sign-in is only the start: follow everything the root user "
    "does afterwards (userIdentity.type)",
    "cloudtrail-stopped-or-guardduty-disabled": "an intruder silences every record keeper: a "
    "trail can be stopped or deleted, and GuardDuty's detector disabled or deleted",
    "credentials-created-for-another-user": "a way back in is an access key or a console "
    "password: both IAM calls count",
    "admin-policy-attached": "a policy can be attached to a user, a role or a group",
    "object-exfiltration-burst": "a burst is the listing and the reads around it from the "
    "same credentials and address; is your threshold above what the thief did?",
}
CAUGHT = {
    "console-login-without-mfa": "only IAM users answer MFAUsed (an IAM Identity Center "
    "sign-in did MFA at the identity provider), and a failed sign-in opened nothing",
    "root-account-use": "keep to the root user's own actions",
    "cloudtrail-stopped-or-guardduty-disabled": "a trail updated or given new event selectors "
    "keeps logging; a detector updated is not always a detector disabled",
    "credentials-created-for-another-user": "look at who makes credentials for new hires and "
    "how they sign in, and at what the intruder's caller is",
    "admin-policy-attached": "match the AdministratorAccess policy's ARN exactly, not a "
    "pattern other managed policies also match",
    "object-exfiltration-burst": "workload roles (the data pipeline, the API's tasks) read "
    "thousands of objects by design: what kind of identity did the thief use?",
}


def _spec(file: str) -> Spec:
    return BY_FILE[file]


def _relative(text: str) -> str:
    return text.replace(str(Path.cwd()) + "/", "")


# ---------------------------------------------------------------- the hidden dataset


@pytest.fixture(scope="module")
def hidden(seed: int) -> Iterator[Hidden]:
    """This run's dataset, generated from the seed, opened once, removed at the end."""
    data = make_hidden(seed)
    try:
        yield data
    finally:
        data.close()


@pytest.fixture(scope="module")
def judged(lab_dir: Path, hidden: Hidden, report_table) -> dict[str, Judged | GraderError]:
    """Every detection run and scored once; its hits, precision and recall go in the report."""
    results: dict[str, Judged | GraderError] = {}
    rows: list[tuple[object, ...]] = []
    for spec in SPECS:
        name = Path(spec.file).name
        try:
            results[spec.file] = result = judge(hidden, spec, load(lab_dir, spec))
        except GraderError as exc:
            results[spec.file] = exc
            rows.append((name, "-", "-", "-", "cannot run"))
            continue
        s = result.score
        rows.append(
            (name, len(result.hits), f"{s.precision:.2f}", f"{s.recall:.2f}",
             "yes" if result.passed else "no")
        )  # fmt: skip
    report_table(
        "Your detections on this run's hidden dataset",
        ("detection", "hits", "precision", "recall", "passes"),
        rows,
    )
    return results


# ---------------------------------------------------------------- shared verdicts


def _valid(lab_dir: Path, file: str) -> Any:
    spec = _spec(file)
    try:
        return load(lab_dir, spec)
    except GraderError as exc:
        what = (
            "a Sigma rule for CloudTrail (logsource product aws, service cloudtrail) that "
            "converts to SQL"
            if spec.sigma
            else "a SQL detection: a header (-- id:, -- title:, -- technique:, -- severity:) "
            "and one read-only SELECT of event_id over the cloudtrail view"
        )
        fail(
            expected=f"{file} to be {what}",
            found=_relative(str(exc)),
            fix="correct what the message names; try it with `grader siem query --data "
            f"~/siem-practice --{'sigma' if spec.sigma else 'sql'} labs/lab7/{file}` "
            "(the starter is restored by `grader reset`)",
            docs=f"{CHAPTER}#{FORMAT_SECTION}",
        )


def _technique(lab_dir: Path, file: str) -> None:
    spec = _spec(file)
    detection = _valid(lab_dir, file)
    want = BY_ID[spec.scenario].technique
    named: list[str] = []
    for tid in detection.techniques:
        try:
            named.append(f"{technique(tid).id} ({technique(tid).name})")
        except TechniqueError as exc:
            fail(
                expected=f"{file} to name ATT&CK techniques as ATT&CK writes them",
                found=exc.message,
                fix="use a technique or sub-technique ID of the Enterprise matrix's cloud "
                "platforms, like T1098.001"
                + (" (a Sigma tag: attack.t1098.001)" if spec.sigma else ""),
                docs=f"{CHAPTER}#{ATTACK_SECTION}",
            )
    if want not in detection.techniques:
        how = "a tag attack.tNNNN.NNN" if spec.sigma else "the -- technique: line"
        fail(
            expected=f"{file} to name the ATT&CK technique of {spec.what}",
            found=f"it names {listing(named) or 'no technique'}",
            fix="find the technique (or sub-technique) whose description fits what this "
            f"attack does, on ATT&CK's cloud (IaaS) matrix, and put it in {how}. A parent "
            "technique is too broad when a sub-technique names the cloud case",
            docs=f"{CHAPTER}#{ATTACK_SECTION}",
        )


def _when(row: dict[str, Any]) -> str:
    t = row["time"]
    return t.strftime("%Y-%m-%d %H:%M:%S UTC") if t is not None else "?"


def _event(row: dict[str, Any]) -> str:
    return f"{row['name']} at {_when(row)} by {row['who']} from {row['ip'] or '?'}"


def _caught(hidden: Hidden, false_positives: tuple[str, ...]) -> str:
    """The wrongly caught events, by the look-alike they belong to (or ordinary activity)."""
    rows = hidden.describe(false_positives)
    titles = {}
    for row in rows:
        look = hidden.lookalike_of(row["id"])
        row["look"] = look["title"] if look else ""
        if look:
            titles.setdefault((row["name"], row["who"]), row["look"])
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        # A look-alike's labels are capped (the pipeline's nightly read): the same call by
        # the same caller belongs to it too.
        key = row["look"] or titles.get((row["name"], row["who"]), "")
        groups.setdefault(key, []).append(row)
    parts: list[str] = []
    for title, members in sorted(groups.items(), key=lambda g: -len(g[1])):
        if title:
            label = f"the look-alike {title[0].lower() + title[1:]!r}"
            parts.append(f"{count(len(members), 'event')} of {label} (e.g. {_event(members[0])})")
        else:
            callers = Counter(f"{r['name']} by {r['who']}" for r in members)
            top = listing([f"{n}x {what}" for what, n in callers.most_common(3)], limit=3)
            parts.append(f"{count(len(members), 'ordinary event')} ({top})")
    return "; ".join(parts)


def _scored(judged: dict[str, Judged | GraderError], hidden: Hidden, file: str) -> None:
    spec = _spec(file)
    result = judged[file]
    docs = f"{CHAPTER}#{SECTION[spec.scenario]}"
    planted = len(hidden.expected(spec.scenario))
    expected = (
        f"{file} to find {'the' if planted == 1 else 'all'} {count(planted, 'planted event')} "
        f"of {spec.what} (recall "
        f"{RECALL:.1f}) and little else (precision {PRECISION:.1f} or better)"
    )
    if isinstance(result, GraderError):
        fail(
            expected=expected,
            found=f"it did not run on the hidden dataset: {_relative(str(result))}",
            fix="run it on your practice dataset with `grader siem query` and fix what fails",
            docs=docs,
        )
    if result.passed:
        return
    s = result.score
    found = [
        f"recall {s.recall:.2f}, precision {s.precision:.2f} ({count(len(result.hits), 'hit')})"
    ]
    fixes: list[str] = []
    if s.false_negatives:
        missed = hidden.describe(s.false_negatives)
        found.append(
            f"missed {len(missed)} of {planted}: " + listing([_event(r) for r in missed], limit=4)
        )
        fixes.append(MISSED[spec.scenario])
    if s.precision < PRECISION:
        found.append(f"wrongly caught {_caught(hidden, s.false_positives)}")
        fixes.append(CAUGHT[spec.scenario])
    fix = "; and ".join(fixes)
    fail(
        expected=expected,
        found="; ".join(found),
        fix=fix
        + ("" if fix.endswith("?") else ".")
        + " Compare what you catch and what you miss on your practice dataset with "
        f"`grader siem query --scenario {spec.scenario}`",
        docs=docs,
    )


# ---------------------------------------------------------------- task 1: no MFA

F1 = "detections/console-login-without-mfa.sql"


@pytest.mark.check(task=1, points=1, gate="task")
def test_the_no_mfa_detection_is_a_valid_sql_detection(lab_dir: Path) -> None:
    """console-login-without-mfa.sql is a SQL detection the engine accepts: its header (id,
    title, technique, severity) and one read-only SELECT of event_id."""
    _valid(lab_dir, F1)


@pytest.mark.check(task=1, points=1)
def test_the_no_mfa_detection_names_its_attck_technique(lab_dir: Path) -> None:
    """It names the ATT&CK technique of a console sign-in without MFA, a valid ID."""
    _technique(lab_dir, F1)


@pytest.mark.check(task=1, points=3)
def test_the_no_mfa_detection_finds_the_sign_in_and_nothing_else(
    judged: dict, hidden: Hidden
) -> None:
    """On a hidden dataset it finds the IAM user's console sign-in without MFA (recall 1.0)
    and not the SSO sign-ins or the failed ones (precision 0.9 or better)."""
    _scored(judged, hidden, F1)


# ---------------------------------------------------------------- task 2: root

F2 = "detections/root-account-use.sql"


@pytest.mark.check(task=2, points=1, gate="task")
def test_the_root_detection_is_a_valid_sql_detection(lab_dir: Path) -> None:
    """root-account-use.sql is a SQL detection the engine accepts."""
    _valid(lab_dir, F2)


@pytest.mark.check(task=2, points=1)
def test_the_root_detection_names_its_attck_technique(lab_dir: Path) -> None:
    """It names the ATT&CK technique of the root user's use, a valid ID."""
    _technique(lab_dir, F2)


@pytest.mark.check(task=2, points=3)
def test_the_root_detection_finds_everything_root_did(judged: dict, hidden: Hidden) -> None:
    """On a hidden dataset it finds the root user's sign-in and every call it made after
    (recall 1.0), and little else (precision 0.9 or better)."""
    _scored(judged, hidden, F2)


# ---------------------------------------------------------------- task 3: logging off

F3 = "detections/cloudtrail-stopped.yml"


@pytest.mark.check(task=3, points=1, gate="task")
def test_the_logging_rule_is_a_valid_sigma_rule(lab_dir: Path) -> None:
    """cloudtrail-stopped.yml is a Sigma rule for CloudTrail that converts to SQL."""
    _valid(lab_dir, F3)


@pytest.mark.check(task=3, points=1)
def test_the_logging_rule_names_its_attck_technique(lab_dir: Path) -> None:
    """Its tags name the ATT&CK technique of switching off the cloud's logs, a valid ID."""
    _technique(lab_dir, F3)


@pytest.mark.check(task=3, points=3)
def test_the_logging_rule_finds_trails_and_detectors_switched_off(
    judged: dict, hidden: Hidden
) -> None:
    """On a hidden dataset it finds the trail stopped and deleted and GuardDuty disabled
    (recall 1.0), and not a trail merely updated (precision 0.9 or better)."""
    _scored(judged, hidden, F3)


# ---------------------------------------------------------------- task 4: credentials

F4 = "detections/credentials-for-another-user.sql"


@pytest.mark.check(task=4, points=1, gate="task")
def test_the_credentials_detection_is_a_valid_sql_detection(lab_dir: Path) -> None:
    """credentials-for-another-user.sql is a SQL detection the engine accepts."""
    _valid(lab_dir, F4)


@pytest.mark.check(task=4, points=1)
def test_the_credentials_detection_names_its_attck_technique(lab_dir: Path) -> None:
    """It names the ATT&CK technique of credentials added for another user, a valid ID."""
    _technique(lab_dir, F4)


@pytest.mark.check(task=4, points=3)
def test_the_credentials_detection_finds_the_intruders_keys_and_passwords(
    judged: dict, hidden: Hidden
) -> None:
    """On a hidden dataset it finds every access key and console password the intruder made
    for another user (recall 1.0), and not an administrator onboarding a new hire
    (precision 0.9 or better)."""
    _scored(judged, hidden, F4)


# ---------------------------------------------------------------- task 5: admin policy

F5 = "detections/admin-policy-attached.sql"


@pytest.mark.check(task=5, points=1, gate="task")
def test_the_admin_policy_detection_is_a_valid_sql_detection(lab_dir: Path) -> None:
    """admin-policy-attached.sql is a SQL detection the engine accepts."""
    _valid(lab_dir, F5)


@pytest.mark.check(task=5, points=1)
def test_the_admin_policy_detection_names_its_attck_technique(lab_dir: Path) -> None:
    """It names the ATT&CK technique of an administrator policy attached, a valid ID."""
    _technique(lab_dir, F5)


@pytest.mark.check(task=5, points=3)
def test_the_admin_policy_detection_finds_administrator_access_attached(
    judged: dict, hidden: Hidden
) -> None:
    """On a hidden dataset it finds AdministratorAccess attached (recall 1.0), and little else
    (precision 0.9 or better)."""
    _scored(judged, hidden, F5)


# ---------------------------------------------------------------- task 6: exfiltration

F6 = "detections/object-exfiltration-burst.sql"


@pytest.mark.check(task=6, points=1, gate="task")
def test_the_exfiltration_detection_is_a_valid_sql_detection(lab_dir: Path) -> None:
    """object-exfiltration-burst.sql is a SQL detection the engine accepts."""
    _valid(lab_dir, F6)


@pytest.mark.check(task=6, points=1)
def test_the_exfiltration_detection_names_its_attck_technique(lab_dir: Path) -> None:
    """It names the ATT&CK technique of data taken from cloud storage, a valid ID."""
    _technique(lab_dir, F6)


@pytest.mark.check(task=6, points=3)
def test_the_exfiltration_detection_finds_the_burst_and_not_the_pipeline(
    judged: dict, hidden: Hidden
) -> None:
    """On a hidden dataset it finds the listing and every object read of the burst (recall
    1.0), and not the data pipeline's nightly batch or the services' reads (precision 0.9 or
    better)."""
    _scored(judged, hidden, F6)
