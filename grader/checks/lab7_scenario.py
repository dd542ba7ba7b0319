"""lab7's hidden input and its judge: a generated dataset, and each detection scored on it.

Each run generates a fresh dataset from the run's seed (the same generator as
`grader siem generate`, so the learner's practice data is made the same way): another
organization, other people, addresses, keys and times, with every attack scenario and
every look-alike planted. A detection is judged on the events of its own scenario: a hit
on another scenario's event (a broader rule rightly flagging another attack) is ignored,
a hit on anything else (a look-alike, the ordinary baseline) is a false positive.

The generator plants each attack in one form. ``plant_variants`` adds, in one more log
file of the same layout, the other forms an attack of the same technique takes in
CloudTrail (AdministratorAccess attached to a role; an inline policy granting everything)
and the look-alikes that trap a loosened rule for them (a managed policy whose name starts
the same way, a scoped inline policy, GuardDuty's detector changed but not disabled, an
IAM user rotating their own key), labelled in memory like the generator's own.
"""

from __future__ import annotations

import gzip
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


ADMIN_POLICY = "arn:aws:iam::aws:policy/AdministratorAccess"
# Real AWS managed policies whose names begin like AdministratorAccess's (IAM's "AWS
# managed policies" list): what a LIKE 'AdministratorAccess%' or '%Admin%' also matches.
ADMIN_LOOKALIKE_POLICIES = (
    "arn:aws:iam::aws:policy/AdministratorAccess-Amplify",
    "arn:aws:iam::aws:policy/AdministratorAccess-AWSElasticBeanstalk",
)
EVERYTHING = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}


def _policy_text(document: dict[str, Any]) -> str:
    """A policy document as CloudTrail shows an inline policy: the JSON the caller sent."""
    return json.dumps(document, indent=4)


def plant_variants(folder: Path, seed: int, labels: dict[str, Any]) -> None:
    """Add the attack variants and look-alikes of the module docstring to the dataset in
    ``folder`` (one more log file per account and region) and to ``labels``."""
    import random

    from grader.aws.siem.baseline import HOME, iso
    from grader.aws.siem.org import build_org
    from grader.aws.siem.recordkit import api_record, identity_role, identity_user

    org = build_org(seed)  # the organization the generator used for this seed
    rng = random.Random(f"lab7/variants/{seed}")
    hunt = labels["hunt"]
    prod = next(a for a in org.accounts.values() if a.id == hunt["account"])
    start = int(_epoch(labels["start"]))
    planted: list[tuple[int, dict[str, Any], str]] = []  # (time, record, label)

    def key(prefix: str) -> str:
        return prefix + "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(16))

    def plant(t: int, label: str, who: dict[str, Any], ip: str, agent: str, call: str,
              params: Any, response: Any = None) -> None:  # fmt: skip
        source, name = call.split(":")
        region = "us-east-1" if source == "iam" else HOME
        rec = api_record(identity=who, source=f"{source}.amazonaws.com", name=name,
                         region=region, ip=ip, agent=agent, account=who["accountId"],
                         params=params, response=response, read_only=False)  # fmt: skip
        planted.append((t, rec, label))

    # The intruder, with the leaked key, an hour after its first call: more ways to stay.
    owner = org.person(hunt["user"])
    thief = (identity_user(owner, prod), hunt["source_ips"][0], hunt["user_agent"])
    t = int(_epoch(hunt["first_event_time"])) + rng.randint(3600, 4800)
    workloads = [r for r in org.roles.values() if r.account.id == prod.id]
    role = rng.choice([r for r in workloads if not r.name.startswith("AWSServiceRole")])
    attack = "admin-policy-attached"
    plant(t, attack, *thief, "iam:AttachRolePolicy",
          {"roleName": role.name, "policyArn": ADMIN_POLICY})  # fmt: skip
    target = (hunt["persistence"]["users"] or [owner.login])[0]
    plant(t + rng.randint(20, 120), attack, *thief, "iam:PutUserPolicy",
          {"userName": target, "policyName": rng.choice(("sync", "ops", "backup")),
           "policyDocument": _policy_text(EVERYTHING)})  # fmt: skip

    # Administrators at work in office hours, through IAM Identity Center.
    def office_time() -> int:
        return start + int(rng.uniform(10, 17) * 3600)

    def sso_admin(person: Any, account: str) -> tuple[dict[str, Any], str, str]:
        sso = org.sso_roles[(account, "AdministratorAccess")]
        who = identity_role(sso, person.email, key("ASIA"), iso(start + 9 * 3600))
        return who, person.network.addresses[0], "AWS Internal"

    admin = next(p for p in org.people if p.admin and not p.iam_user)
    plant(office_time(), "managed-policy-named-like-admin", *sso_admin(admin, "prod"),
          "iam:AttachRolePolicy", {"roleName": "amplify-console-deploy",
                                   "policyArn": rng.choice(ADMIN_LOOKALIKE_POLICIES)})  # fmt: skip
    scoped = {"Version": "2012-10-17",
              "Statement": [{"Effect": "Allow", "Action": "s3:GetObject",
                             "Resource": f"arn:aws:s3:::{org.buckets['prod'][0]}/*"}]}  # fmt: skip
    plant(office_time(), "scoped-inline-policy", *sso_admin(admin, "prod"), "iam:PutRolePolicy",
          {"roleName": role.name, "policyName": "read-exports",
           "policyDocument": _policy_text(scoped)})  # fmt: skip
    # The security team tunes GuardDuty from the CLI: changed, still enabled.
    expert = next((p for p in org.people if p.team == "security" and not p.iam_user), admin)
    who, ip, _ = sso_admin(expert, "security")
    plant(office_time(), "detector-changed-not-disabled", who, ip, expert.cli,
          "guardduty:UpdateDetector", {"detectorId": f"{rng.getrandbits(128):032x}",
                                       "findingPublishingFrequency": "FIFTEEN_MINUTES"})  # fmt: skip
    # An IAM user rotates their own key, naming themselves (as the CLI lets them).
    user = next(p for p in org.people if p.iam_user and p.login != owner.login)
    t = office_time()
    created = {"userName": user.login, "accessKeyId": key("AKIA"), "status": "Active",
               "createDate": iso(t)}  # fmt: skip
    plant(t, "own-access-key-rotated", identity_user(user, prod), user.network.addresses[0],
          user.cli, "iam:CreateAccessKey", {"userName": user.login},
          {"accessKey": created})  # fmt: skip

    ids = _write_records(folder, planted, rng, iso)
    for scenario in labels["scenarios"]:
        if scenario["id"] == attack or scenario["id"] == "leaked-access-key":
            scenario["eventIDs"] = [*scenario["eventIDs"], *ids[attack]]  # the thief's key
    for look_id, traps, title in VARIANT_LOOKALIKES:
        look = {"id": look_id, "traps": traps, "title": title, "eventIDs": ids[look_id]}
        labels["lookalikes"].append({**look, "count": len(ids[look_id])})


def _write_records(
    folder: Path, planted: list[tuple[int, dict[str, Any], str]], rng: Any, iso: Any
) -> dict[str, list[str]]:
    """Give the records their times and IDs, write them as CloudTrail delivers them (one
    file per account and region, stamped 5-20 minutes after its newest event), and return
    the event IDs under each label."""
    from grader.aws.trail.layout import log_file_key

    def uuid() -> str:
        x = f"{rng.getrandbits(128):032x}"
        return f"{x[:8]}-{x[8:12]}-4{x[13:16]}-{'89ab'[int(x[16], 16) & 3]}{x[17:20]}-{x[20:]}"

    files: dict[tuple[str, str], list[tuple[int, dict[str, Any]]]] = {}
    ids: dict[str, list[str]] = {}
    for ts, rec, label in planted:
        rec.update(eventTime=iso(ts), eventID=uuid(), requestID=uuid())
        files.setdefault((rec["recipientAccountId"], rec["awsRegion"]), []).append((ts, rec))
        ids.setdefault(label, []).append(rec["eventID"])
    alphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    for (account, region), events in sorted(files.items()):
        events.sort(key=lambda e: e[0])
        newest = -(-events[-1][0] // 60) * 60
        delivered = _utc(newest + 60 * rng.randint(5, 19))
        unique = "".join(rng.choice(alphabet) for _ in range(16))
        path = folder / log_file_key(account, region, delivered, unique)
        path.parent.mkdir(parents=True, exist_ok=True)
        body = json.dumps({"Records": [rec for _, rec in events]})
        path.write_bytes(gzip.compress(body.encode(), mtime=0))
    return ids


VARIANT_LOOKALIKES = (
    ("managed-policy-named-like-admin", "admin-policy-attached",
     "An administrator attaching an AWS managed policy whose name starts with "
     "AdministratorAccess"),
    ("scoped-inline-policy", "admin-policy-attached",
     "An administrator adding a scoped inline policy to a role"),
    ("detector-changed-not-disabled", "cloudtrail-stopped-or-guardduty-disabled",
     "The security team changing GuardDuty's publishing frequency (still enabled)"),
    ("own-access-key-rotated", "credentials-created-for-another-user",
     "An IAM user rotating their own access key"),
)  # fmt: skip


def _epoch(text: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def _utc(ts: float) -> Any:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ts, UTC)


def make_hidden(seed: int, *, days: int = DAYS) -> Hidden:
    """Generate this run's dataset into a temporary folder and open it (close() removes it)."""
    from grader.aws.siem.generate import generate

    folder = Path(tempfile.mkdtemp(prefix="lab7-hidden-"))
    try:
        generate(folder, seed=seed, days=days)
        labels = json.loads((folder / "labels.json").read_text(encoding="utf-8"))
        (folder / "labels.json").unlink()
        plant_variants(folder, seed, labels)  # ground truth stays in memory, never beside the logs
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
