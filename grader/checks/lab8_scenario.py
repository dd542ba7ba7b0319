"""lab8's hidden input and its judges: a generated day, the correlation scored on it, the
schedule replayed over its late files, and the alerts (and their context) the renderer gets.

The day is generated from the run's seed by the same generator as `grader siem generate`,
so a learner's practice data holds every kind of case the grader's does: its labels hold
the correlation cases (two of the pattern, four near-misses), and nothing else in the day
is the pattern (tests/test_siem_correlation_labels.py recomputes it over many seeds).
"""

from __future__ import annotations

import json
import shutil
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from grader.aws.errors import GraderError
from grader.aws.siem.detections import Detection, run_detection
from grader.aws.siem.org import Network, Organization, build_org
from grader.aws.siem.schedule import ScheduleReport, simulate
from grader.aws.siem.store import Dataset
from grader.checks._siem import open_day
from grader.checks._siem import prepare as prepare_day

DAYS = 1
QUERY_TIMEOUT = 20.0
SCHEDULE_TIMEOUT = 10.0  # per run of the scheduled query
RENDER_TIMEOUT = 20.0  # for all of render()'s calls together
ACTIVITY_HOURS = 24
# Where a known network is, in words a responder reads (org.py's made-up carve-up).
NETWORK_WORDS = {
    "office-tokyo": "the Tokyo office",
    "office-osaka": "the Osaka office",
    "vpn": "the company VPN",
    "carrier": "a home or mobile carrier",
    "ci": "hosted CI runners",
}
# schedule.toml: each key, its TOML type and bounds (minutes), and what it means.
INTERVAL_RANGE = (1, 1440)
LOOKBACK_RANGE = (1, 10080)
SCHEDULE_KEYS = ("interval_minutes", "lookback_minutes", "dedup_key")


# ---------------------------------------------------------------- the hidden day


@dataclass
class Hidden:
    """This run's dataset: its folder, connection, labels and organization."""

    folder: Path
    dataset: Dataset
    labels: dict[str, Any]
    org: Organization
    cases: list[dict[str, Any]] = field(default_factory=list)
    owned: bool = True  # the folder is this run's (a class's prepared day is shared)

    @property
    def expected(self) -> set[str]:
        """What the correlation must find: the console sign-ins of the pattern's cases."""
        return {e for c in self.cases if c["expected"] for e in c["eventIDs"]}

    @property
    def tolerated(self) -> set[str]:
        """The IdP side of the pattern's cases: neither needed nor wrong."""
        return {e for c in self.cases if c["expected"] for e in c["idp_uuids"]}

    def case_of(self, event_id: str) -> dict[str, Any] | None:
        for case in self.cases:
            if event_id in case["eventIDs"] or event_id in case["idp_uuids"]:
                return case
        return None

    def scenario(self, scenario_id: str) -> list[str]:
        for s in self.labels["scenarios"]:
            if s["id"] == scenario_id:
                return list(s["eventIDs"])
        return []

    def describe(self, event_ids: set[str] | list[str]) -> list[str]:
        """Each event as a responder reads it, in time order."""
        ids = list(event_ids)
        if not ids:
            return []
        rows = self.dataset.sql(
            "SELECT event_time, 'AWS ' || event_name || ' (' || coalesce(response_elements->>"
            "'ConsoleLogin', error_code, 'ok') || ')', coalesce(user_name, user_type), source_ip "
            "FROM cloudtrail "
            "WHERE event_id IN (SELECT unnest(?)) UNION ALL SELECT event_time, 'IdP sign-in ("
            "' || result || ')', user_email, source_ip FROM idp_signins WHERE event_id IN "
            "(SELECT unnest(?)) ORDER BY 1",
            [ids, ids],
        )
        return [f"{r[1]} by {r[2]} from {r[3]} at {r[0]:%H:%M:%S} UTC" for r in rows]

    def close(self) -> None:
        self.dataset.close()
        if self.owned:
            shutil.rmtree(self.folder, ignore_errors=True)


def make_hidden(seed: int, *, days: int = DAYS) -> Hidden:
    """This run's day for ``seed``, opened (close() removes what is this run's)."""
    folder, labels, dataset, owned = open_day(seed, days, "lab8-hidden-")
    try:
        return Hidden(folder, dataset, labels, build_org(seed), labels["correlation"], owned)
    except BaseException:
        dataset.close()
        if owned:
            shutil.rmtree(folder, ignore_errors=True)
        raise


def prepare(seed: int) -> Callable[[], None]:
    """Make the day for ``seed`` once for the forks of a class's grading process."""
    return prepare_day(seed, DAYS, "lab8-hidden-")


# ---------------------------------------------------------------- task 1: correlation


@dataclass(frozen=True)
class Correlated:
    hits: tuple[str, ...]
    missed: tuple[str, ...]  # the pattern's events not found
    near_misses: dict[str, list[str]]  # case id -> its events wrongly found
    others: tuple[str, ...]  # anything else wrongly found

    @property
    def wrong(self) -> int:
        return sum(len(v) for v in self.near_misses.values()) + len(self.others)


def judge_correlation(hidden: Hidden, detection: Detection) -> Correlated:
    """Run the correlation over the whole day and compare it with the cases."""
    hits = run_detection(hidden.dataset, detection, timeout=QUERY_TIMEOUT).event_ids
    found = set(hits)
    missed = tuple(sorted(hidden.expected - found))
    near: dict[str, list[str]] = {}
    others: list[str] = []
    for event in hits:
        if event in hidden.expected or event in hidden.tolerated:
            continue
        case = hidden.case_of(event)
        if case is not None:
            near.setdefault(case["id"], []).append(event)
        else:
            others.append(event)
    return Correlated(tuple(hits), missed, near, tuple(others))


# ---------------------------------------------------------------- task 2: the schedule


class ScheduleFileError(GraderError):
    """schedule.toml is not TOML, or a value breaks its constraints."""


@dataclass(frozen=True)
class Schedule:
    interval: int
    lookback: int
    dedup_key: tuple[str, ...]


def load_schedule(path: Path) -> Schedule:
    """schedule.toml read and validated: a broken file names line and column; a wrong value
    is worded like an AWS ValidationException (the key, the constraint, the allowed values)."""
    name = path.name
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScheduleFileError("no such file", file=name) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScheduleFileError(f"cannot read it ({exc})", file=name) from None
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message, line, column = _toml_error(exc)
        raise ScheduleFileError(f"not valid TOML: {message}", file=name, line=line,
                                column=column) from None  # fmt: skip
    problems: list[str] = []

    def bad(key: str, value: Any, constraint: str) -> None:
        shown = "null" if value is None else json.dumps(value, default=str)
        problems.append(f"Value {shown} at '{key}' failed to satisfy constraint: {constraint}")

    for key in doc:
        if key not in SCHEDULE_KEYS:
            bad(key, doc[key], f"Member must be one of the keys [{', '.join(SCHEDULE_KEYS)}]")
    numbers = {}
    for key, (low, high) in (("interval_minutes", INTERVAL_RANGE),
                             ("lookback_minutes", LOOKBACK_RANGE)):  # fmt: skip
        value = doc.get(key)
        if value is None:
            bad(key, None, "Member must not be null")
        elif isinstance(value, bool) or not isinstance(value, int):
            bad(key, value, f"Member must be a whole number of minutes between {low} and {high}")
        elif not low <= value <= high:
            bad(key, value, f"Member must have value between {low} and {high}")
        else:
            numbers[key] = value
    key_value = doc.get("dedup_key")
    columns: tuple[str, ...] = ()
    if key_value is None:
        bad("dedup_key", None, "Member must not be null (an array of the query's column names; "
            "[] for no de-duplication)")  # fmt: skip
    elif not isinstance(key_value, list) or not all(
        isinstance(c, str) and c.strip() for c in key_value
    ):
        bad("dedup_key", key_value, "Member must be an array of column names (strings)")
    else:
        columns = tuple(c.strip() for c in key_value)
        if len(set(c.lower() for c in columns)) != len(columns):
            bad("dedup_key", key_value, "Member must not name a column twice")
    if problems:
        count = len(problems)
        raise ScheduleFileError(
            f"{count} validation error{'s' if count > 1 else ''} detected: " + "; ".join(problems),
            file=name,
        )
    return Schedule(numbers["interval_minutes"], numbers["lookback_minutes"], columns)


def _toml_error(exc: tomllib.TOMLDecodeError) -> tuple[str, int | None, int | None]:
    """tomllib's message without its '(at line L, column C)', and L and C."""
    import re

    text = str(exc)
    found = re.search(r"\s*\(at line (\d+), column (\d+)\)\s*$", text)
    if found is None:
        found_end = re.search(r"\s*\(at end of document\)\s*$", text)
        return (text[: found_end.start()] if found_end else text), None, None
    return text[: found.start()], int(found[1]), int(found[2])


def result_columns(hidden: Hidden, detection: Detection) -> list[str]:
    """The columns the scheduled query returns (run once, on an empty window)."""
    query = detection.query
    rows = hidden.dataset.con.execute(f"SELECT * FROM (\n{query}\n) LIMIT 0")
    return [d[0].lower() for d in rows.description]


def scheduled_expected(hidden: Hidden) -> list[str]:
    """What the scheduled query must alert on: the root user's planted activity."""
    return hidden.scenario("root-account-use")


def unseen(hidden: Hidden, schedule: Schedule, *, limit: int = 3) -> tuple[int, list[tuple]]:
    """Events of the whole day that no run of this schedule would hold in its look-back:
    the first run after an event's file is delivered is its best chance, and it sees the
    event only when the event's time is within that run's look-back. Returns how many, and
    the latest-delivered few (event time, delivery, that run's time, the event's name)."""
    step = schedule.interval * 60
    first = hidden.dataset.sql("SELECT min(event_time) FROM cloudtrail_all")[0][0]
    midnight = first.replace(hour=0, minute=0, second=0, microsecond=0)
    start = midnight + timedelta(seconds=step * int((first - midnight).total_seconds() // step))
    base = f"TIMESTAMP '{start:%Y-%m-%d %H:%M:%S}'"
    tick = f"{base} + to_seconds(ceil(epoch(delivered_at - {base}) / {step}) * {step})"
    where = f"event_time < ({tick}) - INTERVAL {schedule.lookback} MINUTE"
    total = hidden.dataset.sql(f"SELECT count(*) FROM cloudtrail_all WHERE {where}")[0][0]
    rows = hidden.dataset.sql(
        f"SELECT DISTINCT ON (event_name) event_time, delivered_at, {tick}, event_name "
        f"FROM cloudtrail_all WHERE {where} "
        f"ORDER BY event_name, ({tick}) - event_time DESC, event_time, event_id"
    )  # ties broken by time and ID: the same examples whatever order the rows are stored in
    rows = sorted(rows, key=lambda r: (r[0] - r[2], r[3]))[: int(limit)]
    return int(total), rows


def replay(hidden: Hidden, detection: Detection, schedule: Schedule) -> ScheduleReport:
    """The schedule's runs around the planted events, on the day's grid: from the run before
    the first of them to two runs after the last file of them arrives. An event is first
    seen at the first run after its file arrives or never (the windows only move forward),
    and a second run shows a repeated alert; the day's other runs (288 of them at 5
    minutes, seconds of work) cannot change the verdict."""
    planted = scheduled_expected(hidden)
    first, last = hidden.dataset.sql(
        "SELECT min(event_time), max(delivered_at) FROM cloudtrail_all "
        "WHERE event_id IN (SELECT unnest(?))",
        [planted],
    )[0]
    start = end = None
    if first is not None:
        step = timedelta(minutes=schedule.interval)
        day_first = hidden.dataset.sql("SELECT min(event_time) FROM cloudtrail_all")[0][0]
        midnight = day_first.replace(hour=0, minute=0, second=0, microsecond=0)
        start = midnight + step * ((first - step - midnight) // step)
        end = last + 2 * step
    return simulate(
        hidden.dataset,
        detection,
        interval=schedule.interval,
        lookback=schedule.lookback,
        dedup_key=list(schedule.dedup_key) or None,
        start=start,
        end=end,
        expected=planted,
        timeout=SCHEDULE_TIMEOUT,
    )


# ---------------------------------------------------------------- task 3: the alerts


# The detection whose hits the renderer is given (the reference correlation's metadata; the
# hits themselves come from the labels, so task 3 does not depend on task 1).
RULE = {
    "id": "console-and-idp-sign-ins-disagree",
    "title": "A console sign-in and the identity provider's sign-ins disagree",
    "severity": "high",
    "technique": "T1078.004",
}
ROOT_RULE = {
    "id": "root-account-use",
    "title": "The root user signed in or made a call",
    "severity": "high",
    "technique": "T1078.004",
}


def alerts_and_contexts(hidden: Hidden) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """The (alert, context) pairs render() is called with: the first event of each of the
    pattern's correlation cases, and the root user's sign-in (no person, no IdP)."""
    pairs = []
    for case in hidden.cases:
        if case["expected"] and case["eventIDs"]:
            event = _event(hidden, case["eventIDs"][0])
            related = _idp_events(hidden, case["idp_uuids"])
            pairs.append((_alert(RULE, event, related), _context(hidden, event, case)))
    root = [e for e in hidden.scenario("root-account-use")]
    if root:
        events = [_event(hidden, e) for e in root]
        first = min(events, key=lambda e: e["event_time"])
        pairs.append((_alert(ROOT_RULE, first, []), _context(hidden, first, None)))
    return pairs


def _event(hidden: Hidden, event_id: str) -> dict[str, Any]:
    row = hidden.dataset.sql(
        "SELECT event_id, event_time, event_source, event_name, coalesce(response_elements->>"
        "'ConsoleLogin', CASE WHEN error_code IS NULL THEN 'Success' ELSE error_code END), "
        "user_name, user_type, user_arn, account_id, recipient_account_id, source_ip, "
        "user_agent, aws_region FROM cloudtrail WHERE event_id = ?",
        [event_id],
    )[0]
    keys = ("event_id", "event_time", "event_source", "event_name", "outcome", "user_name",
            "user_type", "user_arn", "account_id", "recipient_account_id", "source_ip",
            "user_agent", "aws_region")  # fmt: skip
    event = dict(zip(keys, row, strict=True))
    event["event_time"] = _stamp(event["event_time"])
    event["account_id"] = event.pop("recipient_account_id") or event["account_id"]
    return event


def _idp_events(hidden: Hidden, ids: list[str]) -> list[dict[str, Any]]:
    if not ids:
        return []
    rows = hidden.dataset.sql(
        "SELECT event_id, event_time, user_email, result, reason, source_ip, country "
        "FROM idp_signins WHERE event_id IN (SELECT unnest(?)) ORDER BY event_time",
        [ids],
    )
    keys = ("event_id", "event_time", "user_email", "result", "reason", "source_ip", "country")
    out = []
    for row in rows:
        item = dict(zip(keys, row, strict=True))
        item["event_time"] = _stamp(item["event_time"])
        out.append({"source": "idp", **item})
    return out


def _alert(rule: dict[str, str], event: dict[str, Any], related: list[dict]) -> dict[str, Any]:
    return {
        "id": f"{rule['id']}:{event['event_id']}",
        "rule": dict(rule),
        "event": event,
        "related": related,
    }


def _stamp(moment: datetime | None) -> str | None:
    return None if moment is None else moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _network(org: Organization, ip: str | None) -> tuple[Network | None, bool]:
    for net in org.networks.values():
        if ip in net.addresses:
            return net, net.name in NETWORK_WORDS
    return None, False


def _context(hidden: Hidden, event: dict[str, Any], case: dict | None) -> dict[str, Any]:
    """What the SIEM knows around the alert: the person, the address, the last day."""
    login = (event["user_name"] or "").split("@")[0].lower()
    person = next((p for p in hidden.org.people if p.login == login), None)
    when = datetime.strptime(event["event_time"], "%Y-%m-%dT%H:%M:%SZ")
    since = when - timedelta(hours=ACTIVITY_HOURS)
    if person is not None:
        user = {"name": person.login, "display_name": person.display, "email": person.email,
                "team": person.team, "kind": "IAM user" if event["user_type"] == "IAMUser"
                else "IAM Identity Center"}  # fmt: skip
        who = "split_part(lower(user_name), '@', 1) = ?"
        whom: Any = person.login
    else:
        user = {"name": event["user_name"] or event["user_type"], "display_name": None,
                "email": None, "team": None, "kind": event["user_type"]}  # fmt: skip
        who = "user_arn = ?"
        whom = event["user_arn"]
    window = [since, when]
    totals = hidden.dataset.sql(
        f"SELECT count(*), count(*) FILTER (WHERE event_name = 'ConsoleLogin'), "
        f"count(*) FILTER (WHERE event_name = 'ConsoleLogin' AND response_elements->>"
        f"'ConsoleLogin' = 'Failure'), count(DISTINCT aws_region), "
        f"list(DISTINCT source_ip ORDER BY source_ip) FROM cloudtrail WHERE {who} AND "
        f"event_time BETWEEN ? AND ?",
        [whom, *window],
    )[0]
    top = hidden.dataset.sql(
        f"SELECT event_name, count(*) AS n FROM cloudtrail WHERE {who} AND event_time "
        "BETWEEN ? AND ? GROUP BY 1 ORDER BY n DESC, 1 LIMIT 5",
        [whom, *window],
    )
    idp = [0, 0]
    if person is not None:
        idp = list(
            hidden.dataset.sql(
                "SELECT count(*), count(*) FILTER (WHERE result <> 'SUCCESS') FROM idp_signins "
                "WHERE lower(user_name) = ? AND event_time BETWEEN ? AND ?",
                [person.login, *window],
            )[0]
        )
    ips = [ip for ip in totals[4] if ip]
    before = hidden.dataset.sql(
        f"SELECT count(*) FROM cloudtrail WHERE {who} AND source_ip = ? AND event_time "
        "BETWEEN ? AND ? AND event_id <> ?",
        [whom, event["source_ip"], since, when, event["event_id"]],
    )[0][0]
    net, known = _network(hidden.org, event["source_ip"])
    network = {
        "ip": event["source_ip"],
        "known": known,
        "name": NETWORK_WORDS.get(net.name) if net and known else None,
        "country": net.country if net else None,
        "city": net.city if net else None,
        "seen_for_user_in_last_24h": bool(before),
    }
    activity = {
        "hours": ACTIVITY_HOURS,
        "events": int(totals[0]),
        "console_sign_ins": int(totals[1]),
        "console_failures": int(totals[2]),
        "idp_sign_ins": int(idp[0]),
        "idp_failures": int(idp[1]),
        "regions": int(totals[3]),
        "source_ips": ips[:10],
        "top_events": [{"event_name": r[0], "count": int(r[1])} for r in top],
    }
    return {"user": user, "network": network, "activity": activity}


# ---------------------------------------------------------------- judging a message


@dataclass(frozen=True)
class Shown:
    """What one message says of its alert's enrichment."""

    user: bool
    network: bool
    activity: bool


def enrichment(text: str, alert: dict[str, Any], context: dict[str, Any]) -> Shown:
    """Does ``text`` (everything the message shows) carry the user, the source network and
    the last day's activity? Any of the user's names; the address and where it is (the
    network's name, or its country); the number of events of the last day. The rule's title
    does not count ("The root user signed in" names no one)."""
    text = text.replace(alert["rule"]["title"], "")
    low = text.lower()
    user = context["user"]
    names = [user.get("name"), user.get("display_name"), user.get("email"),
             alert["event"].get("user_name")]  # fmt: skip
    has_user = any(n and str(n).lower() in low for n in names)
    net = context["network"]
    where = [net.get("name"), net.get("country"), net.get("city")]
    has_net = bool(net["ip"] and net["ip"] in text) and any(w and w.lower() in low for w in where)
    n = context["activity"]["events"]
    has_activity = _number_in(text, n)
    return Shown(has_user, has_net, has_activity)


def _number_in(text: str, n: int) -> bool:
    import re

    for found in re.finditer(
        r"(?<![\d.,])\d{1,3}(?:,\d{3})+(?![\d,])|(?<![\d.,])\d+(?![\d])", text
    ):
        if int(found[0].replace(",", "")) == n:
            return True
    return False
