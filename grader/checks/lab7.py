"""lab7 — detections on CloudTrail: six detections, SQL on DuckDB or a Sigma rule, each
mapped to its ATT&CK technique and judged on a hidden dataset generated for this run; and
a hunting notebook (task 7) that answers questions about one intrusion in that dataset.

The dataset (lab7_scenario) is generated from the run's seed at check time, so no event
ID, address, key or name of one run can be written into an answer. Each detection must
find every planted event of its scenario (recall 1.0) and little else (precision 0.9 or
better), with the generator's look-alikes in the data to trap a loosened rule. The
notebook runs once, its kernel in the jail, with the dataset's folder as DATA_DIR; its
`answers` and its timeline chart are judged against the generator's ground truth.
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
    CHART_PRECISION,
    CHART_RECALL,
    HUNT_CELL_TIMEOUT,
    HUNT_FILE,
    HUNT_TIMEOUT,
    PERSISTENCE,
    PRECISION,
    RECALL,
    SPECS,
    VEGALITE,
    Compared,
    Coverage,
    Hidden,
    Hunt,
    Judged,
    Spec,
    compare,
    coverage,
    judge,
    load,
    make_hidden,
    norm_bucket,
    norm_event_id,
    norm_ip,
    norm_key,
    norm_name,
    norm_policy,
    object_normalizer,
    prepare,  # noqa: F401 - called by a class's grading process (grader.grading.zygote)
    run_hunt,
)

DOCS = "siem/lab7.md"
# What the checks import on first use: a class's grading process imports it once, before
# it forks a grading child per learner (grader.grading.zygote).
PRELOAD = (
    "duckdb",
    "sqlglot.dialects.duckdb",
    "sigma.collection",
    "grader.aws.siem.sigma",
    "grader.grading.notebook",
)
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
    "console-login-without-mfa": "MFAUsed speaks of a device AWS checked only for IAM users "
    '(an IAM Identity Center sign-in did its MFA at the identity provider and says "No" all '
    "the same), and a failed sign-in opened nothing",
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
    scenario = BY_ID[spec.scenario]
    right = {scenario.technique, *scenario.also}
    named: list[str] = []
    ids: set[str] = set()
    for tid in detection.techniques:
        try:
            found = technique(tid)
        except TechniqueError as exc:
            fail(
                expected=f"{file} to name ATT&CK techniques as ATT&CK writes them",
                found=exc.message,
                fix="use a technique or sub-technique ID of the Enterprise matrix's cloud "
                "platforms, like T1098.001"
                + (" (a Sigma tag: attack.t1098.001)" if spec.sigma else ""),
                docs=f"{CHAPTER}#{ATTACK_SECTION}",
            )
        named.append(f"{found.id} ({found.name})")
        ids.add(found.id)
    # Every technique named must fit: a list of all the plausible ones is no answer.
    if not ids or not ids <= right:
        how = "a tag attack.tNNNN.NNN" if spec.sigma else "the -- technique: line"
        fail(
            expected=f"{file} to name the ATT&CK technique of {spec.what}",
            found=f"it names {listing(named) or 'no technique'}",
            fix="find the technique (or sub-technique) whose description fits what this "
            f"attack does, on ATT&CK's cloud (IaaS) matrix, and put it in {how}, alone: a "
            "detection names what it catches, not every technique that might fit. A parent "
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


# ---------------------------------------------------------------- task 7: the hunt

HUNT_DOCS = f"{DOCS}#task-7"
HUNTING = f"{CHAPTER}#hunting"
TRY_IT = (
    "run the notebook top to bottom on your practice dataset, and on one of another seed "
    "(`grader siem generate ~/siem-seed-9 --days 1 --seed 9`, then DATA_DIR set to it)"
)


@pytest.fixture(scope="module")
def hunt(lab_dir: Path, hidden: Hidden, learner_code: Any) -> Hunt:
    """The learner's hunt.ipynb run once on this run's dataset, its kernel in the jail."""
    return run_hunt(learner_code, lab_dir, hidden)


def _tail(lines: tuple[str, ...], keep: int = 12) -> str:
    shown = [line for line in lines if line.strip()][-keep:]
    return ("\n" + "\n".join(shown)) if shown else ""


@pytest.mark.check(task=7, points=1, gate="task")
def test_the_hunting_notebook_runs_clean_on_the_hidden_dataset(hunt: Hunt) -> None:
    """hunt.ipynb runs from top to bottom without an error on a hidden dataset, given its
    folder as DATA_DIR, within the time limit."""
    expected = (
        f"{HUNT_FILE} to run every cell without an error on the grader's dataset (its folder "
        f"given as DATA_DIR, read-only) within {HUNT_TIMEOUT:g} s, each cell within "
        f"{HUNT_CELL_TIMEOUT:g} s"
    )
    if hunt.problem:
        fail(
            expected=expected,
            found=hunt.problem,
            fix=f"keep {HUNT_FILE} a Jupyter notebook saved from Jupyter or VS Code (`grader "
            "reset lab7` restores the starter's copy, after saving yours)",
            docs=HUNT_DOCS,
        )
    failure = hunt.run.failure
    if failure is None:
        return
    if failure.kind == "error":
        fix = (
            "read the traceback: the notebook must read the dataset from DATA_DIR (the grader "
            "replaces the cell tagged `parameters` with its own path), and work on any "
            f"organization's data, not only your practice one; {TRY_IT}"
        )
    elif failure.kind == "kernel died":
        fix = (
            "do not end the kernel (exit(), os._exit()); keep to a DuckDB query over the "
            f"view rather than Python loops holding every record in memory; {TRY_IT}"
        )
    else:
        fix = (
            "let DuckDB do the work: one query over the cloudtrail view per question, not a "
            "Python loop over every record, and nothing that waits (input(), sleep) or "
            f"reaches the network; {TRY_IT}"
        )
    fail(
        expected=expected,
        found=failure.message + _tail(failure.traceback),
        fix=fix,
        docs=HUNT_DOCS,
    )


def _percent(share: float) -> str:
    """Rounded down: 370 of 371 is not 100%."""
    return f"{int(share * 100)}%"


def _answers(hunt: Hunt, key: str, what: str) -> Any:
    """The learner's answer ``key``, or a failure saying the answers cell is not right."""
    fix = (
        "keep the starter's `answers` cell near the end of the notebook: a dict whose keys "
        "are first_event_id, access_key_id, source_ips, buckets, objects and persistence, "
        "each set from a variable your queries fill in"
    )
    if not isinstance(hunt.answers, dict):
        found = hunt.answers_problem or f"`answers` is a {type(hunt.answers).__name__}, not a dict"
        fail(expected=f"the notebook's `answers` dict to hold {what}", found=found, fix=fix,
             docs=HUNT_DOCS)  # fmt: skip
    if key not in hunt.answers or hunt.answers[key] in (None, "", [], {}):
        fail(
            expected=f'answers["{key}"] to hold {what}',
            found="it is missing" if key not in hunt.answers else "it is empty",
            fix="answer it from a query over the cloudtrail view, and set the variable the "
            "answers cell reads",
            docs=HUNT_DOCS,
        )
    return hunt.answers[key]


def _texts(value: Any, key: str, one: str, many: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        fail(
            expected=f'answers["{key}"] to be a list of {many} (strings)',
            found=f"a {type(value).__name__}: {str(value)[:80]}",
            fix=f"make it a list, one string per {one}, from your query's rows",
            docs=HUNT_DOCS,
        )
    return value


def _text(value: Any, key: str, what: str) -> str:
    if not isinstance(value, str):
        fail(
            expected=f'answers["{key}"] to be {what}, as text',
            found=f"a {type(value).__name__}: {str(value)[:80]}",
            fix="take the value out of the query's first row (rows(...)[0]['column'])",
            docs=HUNT_DOCS,
        )
    return value


def _compared(c: Compared, one: str, many: str) -> str:
    def n(number: int) -> str:
        return f"{number} {one if number == 1 else many}"

    parts = [f"{c.right} of the intruder's {n(c.expected)} right"]
    if c.missing:
        parts.append(f"{c.missing} missing")
    if c.extra:
        parts.append(f"{n(c.extra)} that {'is' if c.extra == 1 else 'are'} not theirs")
    return ", ".join(parts)


@pytest.mark.check(task=7, points=1)
def test_the_hunt_names_the_access_key_the_intruder_used(hunt: Hunt) -> None:
    """The notebook's answers name the access key the intruder came in with."""
    given = _text(_answers(hunt, "access_key_id", "the intruder's access key ID"),
                  "access_key_id", "an access key ID (AKIA...)")  # fmt: skip
    key = norm_key(given)
    if key == norm_key(hunt.truth["access_key_id"]):
        return
    made = {norm_key(k) for k in hunt.truth["persistence"]["access_keys"]}
    if key in made:
        found = "a key the intruder made for later (persistence), not the one they came in with"
    elif key in {norm_key(k) for k in hunt.keys}:
        found = "a key of this dataset, but used only by its owner, as far as the logs show"
    else:
        found = (
            "no key of this name is in the grader's dataset (was it copied from your practice "
            "data? each run is another organization)"
        )
    fail(
        expected="the access key whose calls make up the intrusion",
        found=found,
        fix="compare, per long-term key (AKIA...), the addresses, clients and regions it was "
        "used from: one key suddenly works from a new network, with another client, across "
        "many regions. Select it with a query, not by its value",
        docs=HUNTING,
    )


@pytest.mark.check(task=7, points=2)
def test_the_hunt_finds_every_network_the_intruder_used(hunt: Hunt) -> None:
    """The answers list every address the intruder used the key from, and no other."""
    given = _texts(_answers(hunt, "source_ips", "the intruder's addresses"), "source_ips",
                   "address", "addresses")  # fmt: skip
    c = compare(given, hunt.truth["source_ips"], norm_ip)
    if c.passed:
        return
    fixes = []
    if c.missing:
        fixes.append(
            "an intruder often uses more than one address (one to look around, another to "
            "copy data out): list every address the key was used from with the intruder's "
            "client, over the whole dataset"
        )
    if c.extra:
        fixes.append(
            "the key's owner uses it too, from the organization's networks and with another "
            "client: those addresses are not the intruder's"
        )
    fail(
        expected="every source address of the intruder's calls with the key, and only those",
        found=_compared(c, "address", "addresses"),
        fix="; and ".join(fixes),
        docs=HUNTING,
    )


@pytest.mark.check(task=7, points=2)
def test_the_hunt_finds_the_first_malicious_event(hunt: Hunt) -> None:
    """The answers name the intruder's first call (its eventID): where the intrusion
    began."""
    given = norm_event_id(_text(_answers(hunt, "first_event_id", "the first event's ID"),
                                "first_event_id", "an eventID"))  # fmt: skip
    if given == norm_event_id(hunt.truth["first_event_id"]):
        return
    if given in hunt.times:
        found = (
            "one of the intruder's events, but not the first: they made an earlier call with "
            "the same key"
        )
        fix = (
            "order every call of the key from the intruder's addresses by event_time and take "
            "the earliest (an intruder's first call is often a harmless-looking one, checking "
            "whose key it is)"
        )
    elif given in {norm_event_id(e) for e in hunt.all_ids}:
        found = "an event of the dataset, but not one of the intruder's"
        fix = (
            "first find the key and the addresses the intruder used, then the earliest call "
            "the key made from those addresses"
        )
    else:
        found = (
            "no event of this ID is in the grader's dataset (was it copied from your practice "
            "data? each run is another organization)"
        )
        fix = "select the first event with a query, never by its ID"
    fail(expected="the eventID of the intruder's first call", found=found, fix=fix, docs=HUNTING)


@pytest.mark.check(task=7, points=2)
def test_the_hunt_finds_the_objects_that_were_taken(hunt: Hunt) -> None:
    """The answers name the bucket the intruder copied from and every object they read."""
    buckets = _texts(
        _answers(hunt, "buckets", "the buckets read"), "buckets", "bucket name", "bucket names"
    )
    want_buckets = hunt.truth["buckets"]
    b = compare(buckets, want_buckets, norm_bucket)
    given = hunt.answers.get("objects")
    objects = (
        _texts(given, "objects", "object key", "object keys") if given not in (None, []) else []
    )
    o = compare(objects, hunt.truth["objects"], object_normalizer(want_buckets))
    if b.passed and o.passed:
        return
    found = [f"buckets: {_compared(b, 'bucket', 'buckets')}"]
    found.append(
        "objects: none listed" if not objects else f"objects: {_compared(o, 'object', 'objects')}"
    )
    fixes = []
    if not b.passed:
        fixes.append(
            "the intruder's GetObject calls name their bucket in requestParameters.bucketName"
        )
    if not o.passed:
        fixes.append(
            "an incident report says which files left, not only where from: list the object "
            "key (requestParameters.key) of every GetObject the intruder made, and only theirs"
        )
    fail(
        expected="the bucket(s) the intruder read and every object key they read from them",
        found="; ".join(found),
        fix="; and ".join(fixes),
        docs=f"{CHAPTER}#exfiltration-bursts",
    )


PERSISTENCE_FIX = {
    "users": "every CreateUser that succeeded",
    "access_keys": "every CreateAccessKey that succeeded, whoever it was for (the new key's "
    "ID is in responseElements, not requestParameters)",
    "login_profiles": "a console password is a login profile (CreateLoginProfile), for the "
    "user named in requestParameters",
    "policies": "rights given in every form: a managed policy attached to a user or a role "
    "(Attach*Policy) and an inline policy written into one (Put*Policy), each as "
    "'<principal>:<policy>'",
}
PERSISTENCE_NORM = {
    "users": norm_name,
    "access_keys": norm_key,
    "login_profiles": norm_name,
    "policies": norm_policy,
}


@pytest.mark.check(task=7, points=3)
def test_the_hunt_lists_the_persistence_left_behind(hunt: Hunt) -> None:
    """The answers list what the intruder left to come back: the users, access keys,
    console passwords and policies they created, and nothing else."""
    given = _answers(hunt, "persistence", "what the intruder left behind")
    if not isinstance(given, dict):
        fail(
            expected='answers["persistence"] to be a dict of four lists: ' + ", ".join(PERSISTENCE),
            found=f"a {type(given).__name__}",
            fix="keep the starter's shape: one list per kind of persistence",
            docs=HUNT_DOCS,
        )
    if not any(given.get(kind) for kind in PERSISTENCE):
        fail(
            expected='answers["persistence"] to list what the intruder created: '
            + ", ".join(PERSISTENCE),
            found="every list is empty",
            fix="look at the intruder's successful IAM calls that create something: each "
            "is a way back in that must be removed",
            docs=f"{CHAPTER}#credentials-for-another-user",
        )
    wrong: list[str] = []
    fixes: list[str] = []
    for kind in PERSISTENCE:
        items = _texts(given.get(kind, []), f"persistence.{kind}", "item", kind.replace("_", " "))
        c = compare(items, hunt.truth["persistence"][kind], PERSISTENCE_NORM[kind])
        if not c.passed:
            wrong.append(f"{kind}: {_compared(c, 'item', 'items')}")
            if c.missing:
                fixes.append(PERSISTENCE_FIX[kind])
            if c.extra and kind == "access_keys":
                fixes.append("the key the intruder came in with is the way in, not what they left")
    if not wrong:
        return
    if any("not theirs" in w for w in wrong):
        fixes.append(
            "keep to the intruder's own successful calls (an administrator onboarding a new "
            "hire creates users and keys too)"
        )
    fail(
        expected="every user, access key, console password and policy the intruder created "
        "with the key, and nothing else",
        found="; ".join(wrong),
        fix="; ".join(dict.fromkeys(fixes)),
        docs=f"{CHAPTER}#credentials-for-another-user",
    )


@pytest.mark.check(task=7, points=2)
def test_the_hunt_draws_the_intrusion_on_a_timeline(hunt: Hunt) -> None:
    """The notebook displays a Vega-Lite timeline whose data are the intrusion's events,
    from the first to the last."""
    expected = (
        f"a chart displayed as {VEGALITE} whose data values are the intrusion's events (one "
        "row each, with its time or eventID), from its first event to its last, and little else"
    )
    if not hunt.charts:
        fail(
            expected=expected,
            found="no output of that type in the notebook",
            fix="call show_timeline(...) with the intrusion's events (or display your own "
            "Vega-Lite spec with IPython.display.display({...}, raw=True))",
            docs=HUNT_DOCS,
        )
    covered = [coverage(spec, hunt.times, hunt.all_ids) for spec in hunt.charts]
    if any(c.passed for c in covered):
        return
    best = max(covered, key=lambda c: (c.recall + c.precision, c.rows))
    if not best.by:
        found = (
            f"{count(len(covered), 'chart')}; the fullest has {count(best.rows, 'data row')}, "
            "none with an event's time or eventID"
        )
    else:
        ends = [n for n, ok in (("the first", best.first), ("the last", best.last)) if not ok]
        found = (
            f"the fullest chart's {count(best.rows, 'row')} (matched by {best.by}) show "
            f"{_percent(best.recall)} of the intrusion's events, and {_percent(best.precision)} "
            "of its rows "
            "are the intrusion's" + (f"; {' and '.join(ends)} event missing" if ends else "")
        )
    fail(
        expected=expected,
        found=found,
        fix=_chart_fix(best),
        docs=HUNT_DOCS,
    )


def _chart_fix(best: Coverage) -> str:
    fixes = ["chart the intrusion itself, one row per event with its eventID or time"]
    if best.by and best.recall < CHART_RECALL / 2 and best.precision < CHART_PRECISION / 2:
        fixes.append(
            "give the times as the records do, in UTC (a time without a zone is read as UTC)"
        )
    elif best.by:
        if best.recall < CHART_RECALL or not (best.first and best.last):
            fixes.append(
                "every call of the intruder's key from each of their addresses, from the "
                "first call to the last"
            )
        if best.precision < CHART_PRECISION:
            fixes.append(
                "only those: not the key's whole day (its owner uses it too), nor every event "
                "of those hours"
            )
    return "; ".join(fixes)
