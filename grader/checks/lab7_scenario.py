"""lab7's hidden input and its judges: a generated dataset, each detection scored on it,
and the hunting notebook's answers and timeline compared with the intrusion's truth.

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

import ipaddress
import json
import re
import shutil
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from grader.aws.siem.detections import Detection, Hits, load_detection, run_detection
from grader.aws.siem.score import Score, score
from grader.aws.siem.sigma import convert
from grader.aws.siem.store import Dataset
from grader.checks._siem import open_day
from grader.checks._siem import prepare as prepare_day

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
    owned: bool = True  # the folder is this run's (a class's prepared day is shared)

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
        if self.owned:
            shutil.rmtree(self.folder, ignore_errors=True)


def make_hidden(seed: int, *, days: int = DAYS) -> Hidden:
    """This run's dataset for ``seed``, opened (close() removes what is this run's)."""
    folder, labels, dataset, owned = open_day(seed, days, "lab7-hidden-")
    try:
        ids = {r[0] for r in dataset.sql("SELECT event_id FROM cloudtrail")}
        ids |= {r[0] for r in dataset.sql("SELECT event_id FROM idp_signins")}
    except BaseException:
        dataset.close()
        if owned:
            shutil.rmtree(folder, ignore_errors=True)
        raise
    return Hidden(
        folder,
        dataset,
        labels,
        {s["id"]: s for s in labels["scenarios"]},
        frozenset(ids),
        owned,
    )


def prepare(seed: int) -> Callable[[], None]:
    """Make the day for ``seed`` once for the forks of a class's grading process."""
    return prepare_day(seed, DAYS, "lab7-hidden-")


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


# ---------------------------------------------------------------- the hunt (task 7)
#
# The learner's hunt.ipynb runs once on the hidden dataset, its kernel in the jail with the
# dataset read-only; the answers it leaves in ``answers`` and the Vega-Lite charts it
# displays are judged against the generator's ground truth (labels.json's ``hunt``), which
# never leaves this process.

HUNT_FILE = "hunt.ipynb"
# The whole notebook (kernel start included) and each cell: loading one day in the kernel
# takes about 2 s, the reference solution about 3 s in all.
HUNT_TIMEOUT = 60.0
HUNT_CELL_TIMEOUT = 30.0
VEGALITE = "application/vnd.vegalite.v5+json"
# A timeline covers the intrusion when it holds this share of its events, and little else.
CHART_RECALL, CHART_PRECISION = 0.9, 0.9
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")
AWS_MANAGED = "arn:aws:iam::aws:policy/"
PERSISTENCE = ("users", "access_keys", "login_profiles", "policies")


@dataclass
class Hunt:
    """The learner's notebook as run on the hidden dataset, beside the intrusion's truth.

    ``run`` is grading's NotebookRun (duck-typed: checks do not import grading); ``problem``
    says why the notebook could not be run at all. ``answers`` is the notebook's
    ``answers`` variable (``answers_problem`` when it cannot be read) and ``charts`` the
    Vega-Lite specs its cells displayed.
    """

    truth: dict[str, Any]
    times: dict[str, datetime]  # each intrusion event's time (UTC, to the second)
    all_ids: frozenset[str] = frozenset()  # every event ID of the dataset
    keys: frozenset[str] = frozenset()  # every access key ID of the dataset
    run: Any = None
    problem: str = ""
    answers: Any = None
    answers_problem: str = ""
    charts: list[dict[str, Any]] = field(default_factory=list)


def hunt_truth(hidden: Hidden) -> Hunt:
    """The intrusion's truth from the hidden dataset, with nothing of the learner's yet."""
    truth = hidden.labels["hunt"]
    rows = hidden.dataset.sql(
        "SELECT event_id, event_time FROM cloudtrail WHERE event_id IN (SELECT unnest(?))",
        [truth["eventIDs"]],
    )
    keys = hidden.dataset.sql(
        "SELECT DISTINCT access_key_id FROM cloudtrail WHERE access_key_id IS NOT NULL"
    )
    return Hunt(
        truth,
        {r[0]: r[1].replace(microsecond=0) for r in rows},
        hidden.all_ids,
        frozenset(r[0] for r in keys),
    )


def run_hunt(
    learner_code: Any,
    lab_dir: Path,
    hidden: Hidden,
    *,
    timeout: float = HUNT_TIMEOUT,
    cell_timeout: float = HUNT_CELL_TIMEOUT,
) -> Hunt:
    """Run the learner's notebook on the hidden dataset (its folder as ``DATA_DIR``, the
    only folder it may read besides its own) and collect what it left."""
    hunt = hunt_truth(hidden)
    path = lab_dir / HUNT_FILE
    if not path.is_file():
        hunt.problem = f"there is no {HUNT_FILE} in the lab folder"
        return hunt
    try:
        run = learner_code.notebook(
            path,
            parameters={"DATA_DIR": str(hidden.folder)},
            readable=[hidden.folder],
            timeout=timeout,
            cell_timeout=cell_timeout,
        )
    except learner_code.Error as exc:
        hunt.problem = str(exc)
        return hunt
    hunt.run = run
    hunt.charts = charts(run.cells)
    if run.ok:
        try:
            hunt.answers = run.namespace_value("answers")
        except learner_code.Error as exc:
            hunt.answers_problem = str(exc)
    return hunt


def charts(cells: Iterable[Any]) -> list[dict[str, Any]]:
    """The Vega-Lite (v5) specs among the cells' outputs, in order."""
    found = []
    for cell in cells:
        for output in cell.outputs:
            spec = (output.get("data") or {}).get(VEGALITE)
            if isinstance(spec, str):
                try:
                    spec = json.loads(spec)
                except ValueError:
                    continue
            if isinstance(spec, dict):
                found.append(spec)
    return found


def chart_rows(spec: Any, seen: set[str] | None = None) -> list[dict[str, Any]]:
    """Every inline data row of a spec: ``data.values`` at any level (layers, concats) and
    the top-level ``datasets``. The same values given again (a layered spec may give each
    layer its own copy of the data) count once."""
    seen = set() if seen is None else seen
    out: list[dict[str, Any]] = []

    def take(values: list[Any]) -> None:
        key = json.dumps(values, sort_keys=True, default=str)
        if key not in seen:
            seen.add(key)
            out.extend(row for row in values if isinstance(row, dict))

    if isinstance(spec, dict):
        data = spec.get("data")
        if isinstance(data, dict) and isinstance(data.get("values"), list):
            take(data["values"])
        datasets = spec.get("datasets")
        if isinstance(datasets, dict):
            for rows in datasets.values():
                if isinstance(rows, list):
                    take(rows)
        for key, value in spec.items():
            if key not in ("data", "datasets"):
                out += chart_rows(value, seen)
    elif isinstance(spec, list):
        for item in spec:
            out += chart_rows(item, seen)
    return out


def as_time(value: Any) -> datetime | None:
    """A chart value as a UTC time to the second: ISO text (no zone means UTC, as the
    records are), or a number of milliseconds (Vega-Lite's own) or seconds since 1970."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        seconds = value / 1000 if 1e12 <= value < 1e14 else value if 1e9 <= value < 1e11 else None
        if seconds is None:
            return None
        return datetime.fromtimestamp(int(seconds), UTC).replace(tzinfo=None)
    if isinstance(value, str) and _ISO.match(value.strip()):
        try:
            when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
        if when.tzinfo is not None:
            when = when.astimezone(UTC).replace(tzinfo=None)
        return when.replace(microsecond=0)
    return None


@dataclass(frozen=True)
class Coverage:
    """How much of the intrusion one chart shows, by event ID or else by event time."""

    rows: int
    by: str  # "event IDs", "event times" or "" (no row with either)
    recall: float
    precision: float
    first: bool  # the intrusion's first event is on it
    last: bool  # and its last

    @property
    def passed(self) -> bool:
        return (
            self.recall >= CHART_RECALL
            and self.precision >= CHART_PRECISION
            and self.first
            and self.last
        )


def coverage(
    spec: dict[str, Any], times: dict[str, datetime], all_ids: frozenset[str] = frozenset()
) -> Coverage:
    """The share of the intrusion's events a chart shows (recall) and the share of its rows
    that are the intrusion's (precision); rows are matched on an event ID of the dataset
    (``all_ids``) when they carry one, else on their time as a multiset (one row per
    event). Other UUIDs (request IDs) are not event IDs."""
    rows = chart_rows(spec)
    ordered = sorted(times, key=lambda e: (times[e], e))
    first, last = (ordered[0], ordered[-1]) if ordered else ("", "")
    known = all_ids or frozenset(times)

    def event_id(row: dict[str, Any]) -> str | None:
        return next(
            (v.lower() for v in row.values()
             if isinstance(v, str) and _UUID.match(v.lower()) and v.lower() in known),
            None,
        )  # fmt: skip

    ids = [found for row in rows if (found := event_id(row))]
    if ids:
        shown = set(ids)
        right = shown & set(times)
        # rows shown by time alone beside the identified ones are other events too
        unnamed = sum(
            1 for row in rows if event_id(row) is None and any(map(as_time, row.values()))
        )
        return Coverage(
            len(rows), "event IDs", len(right) / max(len(times), 1),
            len(right) / (len(shown) + unnamed), first in shown, last in shown,
        )  # fmt: skip
    stamps = [t for row in rows if (t := next(filter(None, map(as_time, row.values())), None))]
    if not stamps:
        return Coverage(len(rows), "", 0.0, 0.0, False, False)
    want, have = Counter(times.values()), Counter(stamps)
    right = sum((want & have).values())
    return Coverage(
        len(rows), "event times", right / max(len(times), 1), right / len(stamps),
        have[times[first]] > 0 if first else False, have[times[last]] > 0 if last else False,
    )  # fmt: skip


# --- answers as the learner may write them, and their equivalents ------------------------


def norm_event_id(value: str) -> str:
    return value.strip().lower()


def norm_key(value: str) -> str:
    """Access key IDs: AWS writes them in capitals, and no two differ only by case."""
    return value.strip().upper()


def norm_ip(value: str) -> str:
    """An address as written, or as a /32 (/128) network."""
    text = value.strip()
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError:
        return text.lower()
    if network.num_addresses == 1:
        return str(network.network_address)
    return str(network)


def _strip_s3(value: str) -> str:
    text = value.strip()
    for prefix in ("s3://", "arn:aws:s3:::"):
        if text.lower().startswith(prefix):
            return text[len(prefix) :]
    return text


def norm_bucket(value: str) -> str:
    return _strip_s3(value).rstrip("/").lower()


def object_normalizer(buckets: Iterable[str]) -> Any:
    """Object keys as written (S3 keys are case-sensitive), or prefixed by their bucket
    (``bucket/key``, ``s3://bucket/key``, the object's ARN)."""
    prefixes = tuple(f"{b}/" for b in buckets)

    def norm(value: str) -> str:
        text = _strip_s3(value) if "://" in value or value.strip().startswith("arn:") else value
        text = text.strip()
        for prefix in prefixes:
            if text.startswith(prefix):
                return text[len(prefix) :]
        return text

    return norm


def norm_name(value: str) -> str:
    """IAM user names: unique whatever their case, so compared without it."""
    return value.strip().casefold()


def norm_policy(value: str) -> str:
    """``principal:policy``: the principal a user's name (``user/`` optional) or
    ``role/<name>``; the policy a managed policy's ARN (an AWS managed policy also by its
    name) or ``inline/<name>``. IAM names are unique whatever their case."""
    principal, sep, policy = value.strip().partition(":")
    if not sep:
        return value.strip().casefold()
    principal = principal.strip().casefold().removeprefix("user/")
    policy = policy.strip()
    if policy.lower().startswith(AWS_MANAGED):
        policy = policy.rsplit("/", 1)[1]
    return f"{principal}:{policy.casefold()}"


@dataclass(frozen=True)
class Compared:
    """A list answer against the truth, both normalized."""

    right: int
    missing: int
    extra: int
    expected: int

    @property
    def passed(self) -> bool:
        return self.missing == 0 and self.extra == 0


def compare(given: Iterable[str], expected: Iterable[str], norm: Any) -> Compared:
    """Sets compared: order and repeats do not matter, the normalized values do."""
    have, want = {norm(v) for v in given}, {norm(v) for v in expected}
    return Compared(len(have & want), len(want - have), len(have - want), len(want))
