"""lab7's hidden input and its judge: a generated dataset, and each detection scored on it.

Each run generates a fresh dataset from the run's seed (the same generator as
`grader siem generate`, so the learner's practice data is made the same way): another
organization, other people, addresses, keys and times, with every attack scenario and
every look-alike planted. A detection is judged on the events of its own scenario: a hit
on another scenario's event (a broader rule rightly flagging another attack) is ignored,
a hit on anything else (a look-alike, the ordinary baseline) is a false positive.

The generator plants each attack in the forms its technique takes in CloudTrail
(AdministratorAccess attached to a user or a role, an inline policy granting everything)
and the look-alikes that trap a loosened rule for them, so the practice dataset holds
every case this one does.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.aws.siem.detections import Detection, Hits, load_detection, run_detection
from grader.aws.siem.score import Score, score
from grader.aws.siem.sigma import convert
from grader.aws.siem.store import Dataset, open_dataset

# One day of the organization (a workday: the onboarding, CI and the trail change happen on
# workdays) at its own rate: about 65,000 events, generated and loaded in about 3 s on two
# cores. The nightly pipeline read is full size, so a count threshold meets it.
DAYS = 1
# What a detection must reach on its scenario (issue #14).
RECALL, PRECISION = 1.0, 0.9
# A detection that runs longer than this on one day of data has a join gone wrong.
QUERY_TIMEOUT = 20.0


@dataclass(frozen=True)
class Spec:
    """One learner detection: its file, the scenario it is judged on, its task."""

    file: str
    scenario: str
    task: int
    what: str  # the attack in words, for messages

    @property
    def sigma(self) -> bool:
        return self.file.endswith((".yml", ".yaml"))


SPECS: tuple[Spec, ...] = (
    Spec("detections/console-login-without-mfa.sql", "console-login-without-mfa", 1,
         "an IAM user's console sign-in without MFA"),
    Spec("detections/root-account-use.sql", "root-account-use", 2,
         "the root user signing in and looking around"),
    Spec("detections/cloudtrail-stopped.yml", "cloudtrail-stopped-or-guardduty-disabled", 3,
         "CloudTrail stopped and deleted, GuardDuty disabled"),
    Spec("detections/credentials-for-another-user.sql", "credentials-created-for-another-user",
         4, "an access key or console password made for another user"),
    Spec("detections/admin-policy-attached.sql", "admin-policy-attached", 5,
         "AdministratorAccess attached"),
    Spec("detections/object-exfiltration-burst.sql", "object-exfiltration-burst", 6,
         "a bucket's objects copied out in a burst"),
)  # fmt: skip
BY_FILE = {s.file: s for s in SPECS}


# Who made a call, as a person reads it: an IAM user's name, a person's SSO session, a
# workload's role (its session names are instance IDs and random tokens), root.
_CALLER = """CASE
    WHEN user_type = 'AssumedRole' AND session_issuer_arn LIKE '%/AWSReservedSSO_%'
        THEN user_name || ' (SSO)'
    WHEN user_type = 'AssumedRole' THEN 'role ' || split_part(session_issuer_arn, '/', -1)
    WHEN user_type = 'Root' THEN 'root'
    ELSE coalesce(user_name, user_type, record->'userIdentity'->>'invokedBy', '?')
END"""


# An event's name with its outcome when it did not simply succeed: "ConsoleLogin
# (Failure)", "CreateAccessKey (AccessDenied)".
_NAME = """event_name || coalesce(' (' || error_code || ')', ' (' ||
    nullif(response_elements->>'ConsoleLogin', 'Success') || ')', '')"""


@dataclass
class Hidden:
    """This run's dataset: its folder, its DuckDB connection and its labels."""

    folder: Path
    dataset: Dataset
    labels: dict[str, Any]
    scenarios: dict[str, dict[str, Any]] = field(default_factory=dict)
    all_ids: frozenset[str] = frozenset()

    def expected(self, scenario: str) -> list[str]:
        return list(self.scenarios[scenario]["eventIDs"])

    def technique(self, scenario: str) -> str:
        return str(self.scenarios[scenario]["technique"])

    def universe(self, scenario: str) -> set[str]:
        """Every event except those of the other scenarios (see the module docstring)."""
        others: set[str] = set()
        for sid, entry in self.scenarios.items():
            if sid != scenario:
                others.update(entry["eventIDs"])
        return set(self.all_ids) - (others - set(self.expected(scenario)))

    def lookalike_of(self, event_id: str) -> dict[str, Any] | None:
        for look in self.labels.get("lookalikes", []):
            if event_id in look["eventIDs"]:
                return look
        return None

    def describe(self, event_ids: Iterable[str]) -> list[dict[str, Any]]:
        """Name, time, caller and address of each event, in time order."""
        ids = list(event_ids)
        if not ids:
            return []
        rows = self.dataset.sql(
            f"SELECT event_id, event_time, {_NAME}, {_CALLER}, source_ip FROM cloudtrail "
            "WHERE event_id IN (SELECT unnest(?)) ORDER BY event_time",
            [ids],
        )
        return [
            {"id": r[0], "time": r[1], "name": r[2], "who": r[3] or "?", "ip": r[4]} for r in rows
        ]

    def close(self) -> None:
        self.dataset.close()
        shutil.rmtree(self.folder, ignore_errors=True)


def make_hidden(seed: int, *, days: int = DAYS) -> Hidden:
    """Generate this run's dataset into a temporary folder and open it (close() removes it)."""
    from grader.aws.siem.generate import generate

    folder = Path(tempfile.mkdtemp(prefix="lab7-hidden-"))
    try:
        generate(folder, seed=seed, days=days)
        labels = json.loads((folder / "labels.json").read_text(encoding="utf-8"))
        (folder / "labels.json").unlink()  # ground truth stays in memory, never beside the logs
        dataset = open_dataset(folder)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    ids = {r[0] for r in dataset.sql("SELECT event_id FROM cloudtrail")}
    ids |= {r[0] for r in dataset.sql("SELECT event_id FROM idp_signins")}
    return Hidden(
        folder,
        dataset,
        labels,
        {s["id"]: s for s in labels["scenarios"]},
        frozenset(ids),
    )


def load(lab_dir: Path, spec: Spec) -> Detection:
    """The learner's detection file as the engine's Detection (a Sigma rule converted to
    SQL with typed columns, as `grader siem query --sigma` does). Raises the engine's
    GraderError subclasses for a file that cannot be used."""
    path = lab_dir / spec.file
    if not spec.sigma:
        return load_detection(path)
    if not path.is_file():
        from grader.aws.siem.sigma import SigmaRuleError

        raise SigmaRuleError("no such file", file=path)
    rule = convert(path, typed_columns=True)
    return Detection(
        id=rule.id or path.stem,
        title=rule.title,
        techniques=rule.techniques,
        severity=rule.level or "medium",
        query=rule.sql,
        path=path,
    )


@dataclass(frozen=True)
class Judged:
    hits: Hits
    score: Score

    @property
    def passed(self) -> bool:
        return self.score.meets(precision=PRECISION, recall=RECALL)


def judge(hidden: Hidden, spec: Spec, detection: Detection) -> Judged:
    """Run ``detection`` on the hidden dataset and score it on its scenario."""
    hits = run_detection(hidden.dataset, detection, timeout=QUERY_TIMEOUT)
    result = score(
        hits.event_ids, hidden.expected(spec.scenario), universe=hidden.universe(spec.scenario)
    )
    return Judged(hits, result)
